// Optimizer updates of the wasm backend: Adam and AdamW for float32 in wasm SIMD (./assembly/optim.ts),
// in float32 arithmetic (the reference computes each element in float64 and rounds once per stored
// value); param and both moments are updated in place where they live in wasm memory (kept parameters and
// optimizer state), else copied into the arena and back (arena.ts). AMSGrad,
// maximize and float64 run the reference.

import type { OptimKernels } from "../backend.js";
import { optim as reference } from "../reference/optim.js";
import { Frame } from "./arena.js";

export const optim: Partial<OptimKernels> = {
  adam(param, grad, m, v, vMax, p) {
    if (
      !(
        param instanceof Float32Array &&
        grad instanceof Float32Array &&
        m instanceof Float32Array &&
        v instanceof Float32Array
      ) ||
      vMax !== null ||
      p.maximize ||
      param.length === 0
    ) {
      reference.adam(param, grad, m, v, vMax, p);
      return;
    }
    const n = param.length;
    const fr = new Frame();
    const po = fr.inout(param, n),
      go = fr.in(grad, n),
      mo = fr.inout(m, n),
      vo = fr.inout(v, n);
    fr.commit();
    // step_size = lr / (1 − β1ᵗ);  √(1 − β2ᵗ);  AdamW's factor 1 − lr·λ (computed in float64, as the reference)
    fr.exports.adamF32(
      po,
      go,
      mo,
      vo,
      n,
      1 - p.lr * p.weightDecay,
      p.weightDecay,
      p.decoupledWeightDecay ? 1 : 0,
      p.beta1,
      p.beta2,
      p.eps,
      p.lr / p.biasCorrection1,
      Math.sqrt(p.biasCorrection2),
    );
    fr.finish();
  },
};
