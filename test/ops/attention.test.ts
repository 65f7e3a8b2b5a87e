// scaledDotProductAttention's dropout path (the composed one): it agrees with the fused path when nothing
// is dropped, its backward passes a gradient check with a fixed mask, and its values match a plain-JS
// reference drawing the same mask from the same seeded generator.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as wnn from "../../src/index.js";
import { Generator, Tensor } from "../../src/index.js";
import { assertClose } from "../harness/assert.js";
import { gradcheck } from "../harness/gradcheck.js";
import { bool, randn64 } from "../harness/optable.js";
import { attentionRef } from "./cases/attention.js";

const F = wnn.nn.functional;
const TIGHT = { rtol: 1e-10, atol: 1e-12 };

function leaves(...ts: Tensor[]): Tensor[] {
  return ts.map((t) => new Tensor(t.storage.slice(), t.shape).requiresGrad_());
}

/** y and the gradients of Σ w⊙y for the given options. */
function run(inputs: Tensor[], opts: wnn.nn.functional.ScaledDotProductAttentionOptions, maskInput: boolean): Tensor[] {
  const xs = leaves(...inputs);
  const y = F.scaledDotProductAttention(xs[0]!, xs[1]!, xs[2]!, {
    ...opts,
    ...(maskInput ? { attnMask: xs[3]! } : {}),
  });
  y.backward(randn64([...y.shape], 99));
  return [y, ...xs.map((x) => x.grad!)];
}

test("dropout path with nothing dropped equals the fused path (outputs and every gradient)", () => {
  const cases: [string, Tensor[], wnn.nn.functional.ScaledDotProductAttentionOptions, boolean][] = [
    ["plain (2,2,3,4)", [randn64([2, 2, 3, 4], 1), randn64([2, 2, 5, 4], 2), randn64([2, 2, 5, 3], 3)], {}, false],
    ["causal", [randn64([1, 4, 3], 4), randn64([1, 4, 3], 5), randn64([1, 4, 3], 6)], { isCausal: true }, false],
    [
      "float mask, broadcast heads",
      [randn64([2, 3, 2, 4], 7), randn64([2, 1, 3, 4], 8), randn64([2, 1, 3, 2], 9), randn64([2, 1, 2, 3], 10)],
      {},
      true,
    ],
    [
      "bool mask, scale",
      [randn64([3, 4], 11), randn64([3, 4], 12), randn64([3, 4], 13)],
      { attnMask: bool([1, 0, 1, 1, 1, 0, 0, 1, 1], [3, 3]), scale: 0.7 },
      false,
    ],
  ];
  for (const [label, inputs, opts, maskInput] of cases) {
    const fused = run(inputs, opts, maskInput);
    // a dropout probability so small that no draw falls under it: the composed path, with M = 1
    const composed = run(inputs, { ...opts, dropoutP: 1e-300 }, maskInput);
    fused.forEach((f, i) =>
      assertClose(composed[i]!, f, TIGHT, `${label}: ${i === 0 ? "y" : `grad of input ${i - 1}`}`),
    );
  }
});

test("dropout path: gradient check with a fixed mask", () => {
  const q = randn64([1, 2, 3, 4], 20),
    k = randn64([1, 2, 5, 4], 21),
    v = randn64([1, 2, 5, 3], 22),
    m = randn64([1, 1, 3, 5], 23, 0.5);
  // a fresh generator per call: every evaluation drops the same probabilities
  gradcheck(
    (q, k, v, m) =>
      F.scaledDotProductAttention(q!, k!, v!, { attnMask: m!, dropoutP: 0.3, generator: new Generator(7) }),
    [q, k, v, m],
  );
  gradcheck(
    (q, k, v) =>
      F.scaledDotProductAttention(q!, k!, v!, { isCausal: true, dropoutP: 0.5, generator: new Generator(8) }),
    [q, k, v],
  );
});

test("dropout path matches a plain-JS reference with the same seeded mask", () => {
  const q = randn64([2, 3, 4], 30),
    k = randn64([2, 5, 4], 31),
    v = randn64([2, 5, 3], 32);
  const p = 0.4;
  const y = F.scaledDotProductAttention(q, k, v, { dropoutP: p, generator: new Generator(5) });
  // P from the reference with v = identity columns: P_ij = y_ij when v is the (Tk, Tk) identity
  const eye = new Tensor(
    new Float64Array(2 * 5 * 5).map((_, i) => (Math.floor(i / 5) % 5 === i % 5 ? 1 : 0)),
    [2, 5, 5],
  );
  const P = attentionRef([q, k, eye], []); // (2, 3, 5) row-major
  const g = new Generator(5);
  const M = P.map(() => (g.random() < p ? 0 : 1 / (1 - p)));
  const expected: number[] = [];
  for (let b = 0; b < 2; b++)
    for (let i = 0; i < 3; i++)
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let j = 0; j < 5; j++)
          s += P[(b * 3 + i) * 5 + j]! * M[(b * 3 + i) * 5 + j]! * v.storage[(b * 5 + j) * 3 + c]!;
        expected.push(s);
      }
  assertClose(y.storage, expected, TIGHT, "dropout y");
  assert.ok(M.some((x) => x === 0) && M.some((x) => x > 0), "the mask drops some probabilities and keeps others");
});

test("dropout draws from the global generator: manualSeed makes it reproducible", () => {
  const q = randn64([2, 3, 4], 40),
    k = randn64([2, 3, 4], 41),
    v = randn64([2, 3, 4], 42);
  wnn.manualSeed(11);
  const a = F.scaledDotProductAttention(q, k, v, { dropoutP: 0.5 });
  const b = F.scaledDotProductAttention(q, k, v, { dropoutP: 0.5 });
  wnn.manualSeed(11);
  const c = F.scaledDotProductAttention(q, k, v, { dropoutP: 0.5 });
  assert.deepEqual(Array.from(c.storage), Array.from(a.storage));
  assert.notDeepEqual(Array.from(b.storage), Array.from(a.storage));
});

test("dropoutP = 1 drops everything", () => {
  const y = F.scaledDotProductAttention(randn64([3, 4], 50), randn64([3, 4], 51), randn64([3, 4], 52), { dropoutP: 1 });
  assert.deepEqual(Array.from(y.storage), new Array(12).fill(0));
});
