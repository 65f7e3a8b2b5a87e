// Optimizer updates of the wasm backend: AdamW/Adam in TypeScript for float32 (copying param, grad and
// both moments into wasm memory and three of them back would move more bytes than the update touches).
// The reference's element loop, written for Float32Array alone so V8 compiles monomorphic float32 loads
// and stores; the same operations in the same order (float64 arithmetic, one float32 rounding per
// stored value), so bit-identical. AMSGrad, maximize and float64 run the reference.

import type { OptimKernels } from "../backend.js";
import { optim as reference } from "../reference/optim.js";

function adamF32(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: boolean, stepSize: number, bc2Sqrt: number): void {
  const decay = 1 - lr * weightDecay;
  for (let i = 0; i < param.length; i++) {
    let g = grad[i]!;
    // AdamW: θ = θ·(1 − lr·λ);  Adam: g = g + λ·θ
    if (decoupled) param[i] = param[i]! * decay;
    else if (weightDecay !== 0) g = g + weightDecay * param[i]!;
    // m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²
    // (read back after the store: the update uses the float32-rounded moments, as the reference does)
    m[i] = m[i]! * beta1 + (1 - beta1) * g;
    v[i] = v[i]! * beta2 + (1 - beta2) * g * g;
    const mi = m[i]!, vi = v[i]!;
    // θ = θ − step_size·m / (√v / √(1 − β2ᵗ) + ε)
    param[i] = param[i]! + (-stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
  }
}

export const optim: Partial<OptimKernels> = {
  adam(param, grad, m, v, vMax, p) {
    if (!(param instanceof Float32Array && grad instanceof Float32Array && m instanceof Float32Array && v instanceof Float32Array) || vMax !== null || p.maximize) {
      reference.adam(param, grad, m, v, vMax, p);
      return;
    }
    adamF32(param, grad, m, v, p.lr, p.beta1, p.beta2, p.eps, p.weightDecay, p.decoupledWeightDecay, p.lr / p.biasCorrection1, Math.sqrt(p.biasCorrection2));
  },
};
