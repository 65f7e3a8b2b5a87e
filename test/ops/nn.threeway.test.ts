// The three-way check of the fused softmax and layerNorm (STYLE.md, testing habit 2; llm.c's doc/layernorm):
// fused kernel vs the same function composed from elementwise ops (autograd through exp, sub, mul, div,
// and row sums written as a product with a ones vector through linear) vs PyTorch's fixture.
// The composed and fused results agree to float64 rounding; both agree with PyTorch in float32.
import { test } from "node:test";
import * as wnn from "../../src/index.js";
import { Tensor, record } from "../../src/index.js";
import { assertClose } from "../harness/assert.js";
import { fromJson, loadFixtures, type FixtureCase } from "../harness/fixtures.js";

const F = wnn.nn.functional;
const PYTORCH_TOL = { rtol: 1e-4, atol: 1e-4 };
const FUSED_VS_COMPOSED_TOL = { rtol: 1e-10, atol: 1e-12 };

/** A fresh leaf with the values of t (as `dtype`), seen with `shape`. */
function leaf(t: Tensor, dtype: "float32" | "float64", shape: readonly number[] = t.shape): Tensor {
  const s = dtype === "float32" ? Float32Array.from(t.storage) : Float64Array.from(t.storage);
  return new Tensor(s, [...shape]).requiresGrad_();
}

/** Σ over the last dim of (R, C), kept as (R, 1): x·1ᵀ, differentiable through linear. */
function rowSum(x: Tensor, scale = 1): Tensor {
  const c = x.shape[1]!;
  const ones = new Tensor(x.dtype === "float32" ? new Float32Array(c).fill(scale) : new Float64Array(c).fill(scale), [
    1,
    c,
  ]);
  return F.linear(x, ones);
}

/** The row maxima of (R, C) as a constant (R, 1): softmax does not depend on the shift, so no gradient is needed. */
function rowMaxConst(x: Tensor): Tensor {
  const [r, c] = x.shape as [number, number];
  const m = x.dtype === "float32" ? new Float32Array(r) : new Float64Array(r);
  for (let i = 0; i < r; i++) m[i] = Math.max(...Array.from(x.storage.subarray(i * c, (i + 1) * c)));
  return new Tensor(m, [r, 1]);
}

/** softmax over the last dim, composed: e = exp(x − m), y = e / Σe. */
function composedSoftmax(x: Tensor): Tensor {
  const e = wnn.exp(wnn.sub(x, rowMaxConst(x))); // (R, C)
  return wnn.div(e, rowSum(e)); // (R, C)
}

/** 1/√v elementwise, with its backward dv = −½·dy·y³ (a test-local op: rsqrt belongs to another family). */
function rsqrt(v: Tensor): Tensor {
  const y = new Tensor(
    v.storage.map((a) => 1 / Math.sqrt(a)),
    v.shape,
  );
  return record("rsqrt", [v], y, (dy) => [wnn.mul(wnn.mul(dy, wnn.mul(wnn.mul(y, y), y)), -0.5)]);
}

/** layerNorm over the last dim of (R, C), composed: (x − μ)·rsqrt(mean((x − μ)²) + eps)·w + b. */
function composedLayerNorm(x: Tensor, w: Tensor | null, b: Tensor | null, eps: number): Tensor {
  const c = x.shape[1]!;
  const mu = rowSum(x, 1 / c); // (R, 1)
  const xc = wnn.sub(x, mu); // (R, C)
  const variance = rowSum(wnn.mul(xc, xc), 1 / c); // (R, 1) biased
  let y = wnn.mul(xc, rsqrt(wnn.add(variance, eps))); // (R, C)
  if (w) y = wnn.mul(y, w);
  if (b) y = wnn.add(y, b);
  return y;
}

interface Way {
  out: Tensor;
  grads: (Tensor | null)[];
}

/** Run fn on fresh leaves, backpropagate PyTorch's grad_output, return the output and the leaves' gradients. */
function run(
  c: FixtureCase,
  dtype: "float32" | "float64",
  shapes: (readonly number[])[],
  fn: (xs: Tensor[]) => Tensor,
): Way {
  const xs = c.inputs.map((t, i) => leaf(fromJson(t), dtype, shapes[i]));
  const out = fn(xs);
  const go = fromJson(c.grad_outputs[0]!);
  out.backward(
    new Tensor(dtype === "float32" ? Float32Array.from(go.storage) : Float64Array.from(go.storage), out.shape),
  );
  return { out, grads: xs.map((x) => x.grad) };
}

function compare(a: Way, b: Way, tol: { rtol: number; atol: number }, what: string): void {
  assertClose(a.out.storage, b.out.storage, tol, `${what}: output`);
  a.grads.forEach((g, i) => assertClose(g!.storage, b.grads[i]!.storage, tol, `${what}: grad of input ${i}`));
}

function pytorch(c: FixtureCase): Way {
  return { out: fromJson(c.outputs[0]!), grads: c.grads.map((g) => (g ? fromJson(g) : null)) };
}

const cases = loadFixtures("ops/nn.json");

test("three-way softmax: fused vs composed vs PyTorch", async (t) => {
  // the softmax fixtures taken along the last dim (the composed form sums rows)
  const chosen = cases.filter(
    (c) =>
      c.op === "softmax" &&
      (c.args.dim === -1 || c.args.dim === c.inputs[0]!.shape.length - 1) &&
      c.inputs[0]!.shape.length >= 1,
  );
  if (chosen.length < 3) throw new Error(`expected at least 3 last-dim softmax fixtures, found ${chosen.length}`);
  for (const c of chosen) {
    await t.test(c.label, () => {
      const shape = c.inputs[0]!.shape;
      const rc = [shape.slice(0, -1).reduce((a, b) => a * b, 1), shape[shape.length - 1]!];
      for (const dtype of ["float32", "float64"] as const) {
        const fused = run(c, dtype, [shape], ([x]) => F.softmax(x!, -1));
        const composed = run(c, dtype, [rc], ([x]) => composedSoftmax(x!));
        if (dtype === "float64") compare(fused, composed, FUSED_VS_COMPOSED_TOL, "fused vs composed (float64)");
        else {
          compare(fused, pytorch(c), PYTORCH_TOL, "fused vs PyTorch (float32)");
          compare(composed, pytorch(c), PYTORCH_TOL, "composed vs PyTorch (float32)");
        }
      }
    });
  }
});

test("three-way layerNorm: fused vs composed vs PyTorch", async (t) => {
  const chosen = cases.filter((c) => c.op === "layerNorm");
  if (chosen.length < 3) throw new Error(`expected at least 3 layerNorm fixtures, found ${chosen.length}`);
  for (const c of chosen) {
    await t.test(c.label, () => {
      const ns = c.args.normalizedShape as number[],
        flags = c.args.affine as string,
        eps = c.args.eps as number;
      const xShape = c.inputs[0]!.shape;
      const cols = ns.reduce((a, b) => a * b, 1);
      const rc = [xShape.reduce((a, b) => a * b, 1) / cols, cols];
      const split = (xs: Tensor[]): [Tensor, Tensor | null, Tensor | null] => {
        const rest = xs.slice(1);
        return [xs[0]!, flags.includes("w") ? rest.shift()! : null, flags.includes("b") ? rest.shift()! : null];
      };
      for (const dtype of ["float32", "float64"] as const) {
        const fused = run(
          c,
          dtype,
          c.inputs.map((x) => x.shape),
          (xs) => {
            const [x, w, b] = split(xs);
            return F.layerNorm(x, ns, w, b, eps);
          },
        );
        const composed = run(c, dtype, [rc, ...c.inputs.slice(1).map(() => [cols])], (xs) => {
          const [x, w, b] = split(xs);
          return composedLayerNorm(x, w, b, eps);
        });
        if (dtype === "float64") compare(fused, composed, FUSED_VS_COMPOSED_TOL, "fused vs composed (float64)");
        else {
          compare(fused, pytorch(c), PYTORCH_TOL, "fused vs PyTorch (float32)");
          compare(composed, pytorch(c), PYTORCH_TOL, "composed vs PyTorch (float32)");
        }
      }
    });
  }
});
