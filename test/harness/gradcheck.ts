// Finite-difference gradient checks in float64 on the reference backend.
//
// For f: inputs → outputs, pick a fixed random weight w for every output and check the gradient of the
// scalar L = Σ w ⊙ f(x) (a vector-Jacobian product, what backward computes) against central
// differences (L(x + εe_i) − L(x − εe_i)) / 2ε for every element i of every differentiable input.

import assert from "node:assert/strict";
import { Generator, Tensor, noGrad } from "../../src/index.js";

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** indices of inputs not to check (e.g. masks); non-float inputs are always skipped */
  skip?: number[];
  seed?: number;
}

export type Outputs = Tensor | Tensor[] | { values: Tensor; indices?: Tensor };

export function outputsOf(o: Outputs): Tensor[] {
  if (o instanceof Tensor) return [o];
  if (Array.isArray(o)) return o;
  return [o.values];
}

export function gradcheck(fn: (...xs: Tensor[]) => Outputs, inputs: Tensor[], opts: GradcheckOptions = {}): void {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, skip = [], seed = 1234 } = opts;
  const checked = inputs.map((x, i) => x.dtype === "float64" && !skip.includes(i));
  const leaves = inputs.map((x, i) => (checked[i] ? new Tensor(x.storage.slice(), x.shape).requiresGrad_() : x));

  // Analytical: backward of L = Σ w ⊙ f(x)
  const outs = outputsOf(fn(...leaves)).filter((o) => o.dtype === "float64");
  const g = new Generator(seed);
  const weights = outs.map((o) => {
    const w = new Float64Array(o.numel());
    for (let i = 0; i < w.length; i++) w[i] = g.normal();
    return new Tensor(w, o.shape);
  });
  let any = false;
  for (let j = 0; j < outs.length; j++) {
    const o = outs[j]!;
    if (!o.requiresGrad) continue;
    o.backward(weights[j], { retainGraph: true });
    any = true;
  }

  const loss = (xs: Tensor[]): number =>
    noGrad(() => {
      const os = outputsOf(fn(...xs)).filter((o) => o.dtype === "float64");
      let s = 0;
      for (let j = 0; j < os.length; j++) {
        const o = os[j]!.storage,
          w = weights[j]!.storage;
        for (let i = 0; i < o.length; i++) s += o[i]! * w[i]!;
      }
      return s;
    });

  for (let k = 0; k < leaves.length; k++) {
    if (!checked[k]) continue;
    const x = leaves[k]!;
    const analytic = x.grad?.storage ?? new Float64Array(x.numel());
    if (!any && x.numel() > 0)
      assert.fail("gradcheck: no output requires grad, so the op recorded nothing to differentiate");
    for (let i = 0; i < x.numel(); i++) {
      const probe = (delta: number): number => {
        const s = x.storage.slice();
        s[i] = s[i]! + delta;
        const xs = leaves.map((t, m) => (m === k ? new Tensor(s, x.shape) : t.detach()));
        return loss(xs);
      };
      const numeric = (probe(eps) - probe(-eps)) / (2 * eps);
      const a = analytic[i]!;
      if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
        assert.fail(
          `gradcheck: input ${k} element ${i} of shape (${x.shape.join(",")}): analytic ${a}, numeric ${numeric}`,
        );
      }
    }
  }
}
