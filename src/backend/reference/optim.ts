// Reference optimizer kernels: PyTorch 1.13's single-tensor updates (torch/optim/{sgd,adam,adamw,
// rmsprop}.py, `_single_tensor_*`), written element by element. Every line quotes the PyTorch tensor
// operation it performs, in the same order and with the same grouping of the arithmetic, so that a
// float64 run agrees with PyTorch's to the last few bits. Everything is updated in place.
//
// Vocabulary: θ param, g grad, m first moment (expAvg), v second moment (expAvgSq), b momentum buffer,
// λ weight decay, μ momentum, τ dampening, α RMSprop smoothing, ε eps.

import type { AdamMultiParams, AdamParams, FloatArr, OptimKernels } from "../backend.js";

/** The scalars of tensor i of an adamMulti call, as adam takes them. */
export function adamParamsOf(p: AdamMultiParams, i: number): AdamParams {
  const { biasCorrection1, biasCorrection2, ...shared } = p;
  return { ...shared, biasCorrection1: biasCorrection1[i]!, biasCorrection2: biasCorrection2[i]! };
}

export const optim: OptimKernels = {
  sgd(param, grad, buf, p) {
    const { lr, momentum, dampening, nesterov, weightDecay, maximize, initBuffer } = p;
    for (let i = 0; i < param.length; i++) {
      // d_p = −g if maximize else g
      let d = maximize ? -grad[i]! : grad[i]!;
      // d_p = d_p + λ·θ
      if (weightDecay !== 0) d = d + weightDecay * param[i]!;
      if (buf !== null) {
        // first step: b = d_p;  afterwards: b = μ·b + (1 − τ)·d_p
        buf[i] = initBuffer ? d : buf[i]! * momentum + (1 - dampening) * d;
        // Nesterov: d_p = d_p + μ·b;  classical: d_p = b
        d = nesterov ? d + momentum * buf[i]! : buf[i]!;
      }
      // θ = θ − lr·d_p
      param[i] = param[i]! + -lr * d;
    }
  },

  adam(param, grad, m, v, vMax, p) {
    const { lr, beta1, beta2, eps, weightDecay, decoupledWeightDecay, maximize } = p;
    // step_size = lr / (1 − β1ᵗ);  √(1 − β2ᵗ)
    const stepSize = lr / p.biasCorrection1;
    const bc2Sqrt = Math.sqrt(p.biasCorrection2);
    for (let i = 0; i < param.length; i++) {
      let g = maximize ? -grad[i]! : grad[i]!;
      if (decoupledWeightDecay) {
        // AdamW: θ = θ·(1 − lr·λ)   (PyTorch multiplies even when λ = 0)
        param[i] = param[i]! * (1 - lr * weightDecay);
      } else if (weightDecay !== 0) {
        // Adam: g = g + λ·θ   (L2 penalty folded into the gradient)
        g = g + weightDecay * param[i]!;
      }
      // m = β1·m + (1 − β1)·g
      m[i] = m[i]! * beta1 + (1 - beta1) * g;
      // v = β2·v + (1 − β2)·g²
      v[i] = v[i]! * beta2 + (1 - beta2) * g * g;
      let vHat = v[i]!;
      if (vMax !== null) {
        // AMSGrad: v_max = max(v_max, v), and the denominator uses v_max
        vMax[i] = Math.max(vMax[i]!, vHat);
        vHat = vMax[i]!;
      }
      // denom = √v / √(1 − β2ᵗ) + ε
      const denom = Math.sqrt(vHat) / bc2Sqrt + eps;
      // θ = θ − step_size·m / denom
      param[i] = param[i]! + (-stepSize * m[i]!) / denom;
    }
  },

  adamMulti(params, grads, expAvgs, expAvgSqs, p) {
    // one tensor after another, each at its own bias corrections
    for (let i = 0; i < params.length; i++) {
      optim.adam(params[i]!, grads[i]!, expAvgs[i]!, expAvgSqs[i]!, null, adamParamsOf(p, i));
    }
  },

  rmsprop(param, grad, sq, gAvg, buf, p) {
    const { lr, alpha, eps, weightDecay, momentum, maximize } = p;
    for (let i = 0; i < param.length; i++) {
      let g = maximize ? -grad[i]! : grad[i]!;
      // g = g + λ·θ
      if (weightDecay !== 0) g = g + weightDecay * param[i]!;
      // E[g²] = α·E[g²] + (1 − α)·g²
      sq[i] = sq[i]! * alpha + (1 - alpha) * g * g;
      let avg: number;
      if (gAvg !== null) {
        // centered: E[g] = α·E[g] + (1 − α)·g;  avg = √(E[g²] − E[g]²)
        gAvg[i] = gAvg[i]! * alpha + (1 - alpha) * g;
        avg = Math.sqrt(sq[i]! + -1 * gAvg[i]! * gAvg[i]!);
      } else {
        // avg = √E[g²]
        avg = Math.sqrt(sq[i]!);
      }
      avg = avg + eps;
      if (buf !== null) {
        // b = μ·b + g/avg;  θ = θ − lr·b
        buf[i] = buf[i]! * momentum + g / avg;
        param[i] = param[i]! + -lr * buf[i]!;
      } else {
        // θ = θ − lr·g/avg
        param[i] = param[i]! + (-lr * g) / avg;
      }
    }
  },

  vectorNorm(x: FloatArr, p: number): number {
    if (p === Infinity) {
      // max |x|; NaN propagates
      let mx = x.length === 0 ? 0 : -Infinity;
      for (let i = 0; i < x.length; i++) mx = Math.max(mx, Math.abs(x[i]!));
      return mx;
    }
    if (p === 0) {
      // the number of non-zero entries
      let n = 0;
      for (let i = 0; i < x.length; i++) if (x[i] !== 0) n++;
      return n;
    }
    if (p === 2) {
      // √(Σ x²)
      let s = 0;
      for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
      return Math.sqrt(s);
    }
    if (p === 1) {
      let s = 0;
      for (let i = 0; i < x.length; i++) s += Math.abs(x[i]!);
      return s;
    }
    // (Σ |x|ᵖ)^(1/p)
    let s = 0;
    for (let i = 0; i < x.length; i++) s += Math.abs(x[i]!) ** p;
    return s ** (1 / p);
  },

  scale(x, alpha) {
    for (let i = 0; i < x.length; i++) x[i] = x[i]! * alpha;
  },
};
