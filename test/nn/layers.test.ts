// Unit tests of the basic layers: shapes, default initialisation bounds, modes, errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as wnn from "../../src/index.js";
import { assertClose, assertThrowsWith } from "../harness/assert.js";

const { nn } = wnn;

test("Linear: weight (out, in), bias (out), values within PyTorch's bound 1/√in, forward = x·Wᵀ + b", () => {
  const g = new wnn.Generator(1);
  const lin = new nn.Linear(64, 128, { generator: g });
  assert.deepEqual(lin.weight.shape, [128, 64]);
  assert.deepEqual(lin.bias!.shape, [128]);
  const bound = 1 / Math.sqrt(64);
  for (const p of [lin.weight, lin.bias!]) {
    let max = 0;
    for (const v of p.storage) max = Math.max(max, Math.abs(v));
    assert.ok(max <= bound, `|value| ${max} exceeds the bound ${bound}`);
  }
  // 8192 draws of U(−b, b): P(max |w| < 0.995·b) = 0.995^8192 ≈ e^−41
  let max = 0;
  for (const v of lin.weight.storage) max = Math.max(max, Math.abs(v));
  assert.ok(max > 0.995 * bound, `the weights do not fill U(±${bound}): max |w| = ${max}`);
  const x = wnn.randn([3, 5, 64], { generator: g });
  const y = lin.forward(x);
  assert.deepEqual(y.shape, [3, 5, 128]);
  assertClose(y, x.matmul(lin.weight.transpose(0, 1)).add(lin.bias!), { rtol: 1e-5, atol: 1e-5 });
  const noBias = new nn.Linear(4, 2, { bias: false });
  assert.equal(noBias.bias, null);
  assert.deepEqual(
    noBias.namedParameters().map(([n]) => n),
    ["weight"],
  );
});

test("Embedding: N(0, 1) rows, the padding row zero and without gradient", () => {
  const emb = new nn.Embedding(10, 3, { paddingIdx: -1, generator: new wnn.Generator(2) });
  assert.equal(emb.paddingIdx, 9);
  assert.deepEqual([...emb.weight.storage.subarray(27, 30)], [0, 0, 0]);
  const idx = wnn.tensor(
    [
      [1, 9],
      [9, 4],
    ],
    { dtype: "int32" },
  );
  const y = emb.forward(idx);
  assert.deepEqual(y.shape, [2, 2, 3]);
  y.sum().backward();
  assert.deepEqual([...emb.weight.grad!.storage.subarray(27, 30)], [0, 0, 0]);
  assert.deepEqual([...emb.weight.grad!.storage.subarray(3, 6)], [1, 1, 1]);
  assertThrowsWith(() => new nn.Embedding(4, 2, { paddingIdx: 4 }), wnn.ArgumentError, /paddingIdx 4/);
});

test("LayerNorm and RMSNorm: weight ones, bias zeros, options drop them", () => {
  const ln = new nn.LayerNorm([2, 3]);
  assert.deepEqual([...ln.weight!.storage], [1, 1, 1, 1, 1, 1]);
  assert.deepEqual([...ln.bias!.storage], [0, 0, 0, 0, 0, 0]);
  assert.deepEqual(
    new nn.LayerNorm(4, { bias: false }).namedParameters().map(([n]) => n),
    ["weight"],
  );
  assert.deepEqual(new nn.LayerNorm(4, { elementwiseAffine: false }).namedParameters(), []);
  const rms = new nn.RMSNorm(4);
  assert.deepEqual([...rms.weight!.storage], [1, 1, 1, 1]);
  const x = wnn.randn([2, 4], { generator: new wnn.Generator(3) });
  assertClose(rms.forward(x), wnn.nn.functional.rmsNorm(x, [4]), { rtol: 0, atol: 0 });
});

test("Dropout: identity in eval mode; in training zeros or x/(1 − p)", () => {
  const d = new nn.Dropout(0.25, { generator: new wnn.Generator(4) });
  const x = wnn.ones([1000]);
  d.eval();
  assert.equal(d.forward(x), x);
  d.train();
  const y = d.forward(x).storage;
  for (const v of y) assert.ok(v === 0 || Math.abs(v - 1 / 0.75) < 1e-6);
  assertThrowsWith(() => new nn.Dropout(1.5), wnn.ArgumentError, /\[0, 1\]/);
});
