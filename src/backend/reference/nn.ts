// Reference nn kernels: softmax, losses, norms, dropout masks — forward and hand-derived backward side
// by side, plain loops over typed arrays. The derivations are in docs/derivations/<op>.md; each backward
// quotes the forward line it inverts. Sums are accumulated in JS numbers (float64) for both dtypes.
//
// Layouts: (outer, r, inner) puts the reduced dim in the middle, element (o, i, j) at o·r·inner + i·inner + j;
// norms see x as (rows, cols) (layerNorm, rmsNorm) or (n, c, hw) (groupNorm, batchNorm).

import type { FloatArr, NnKernels } from "../backend.js";

/** log(1 + e^(−x)) = softplus(−x) without overflow: log1p(e^(−|x|)) + max(−x, 0). */
function softplusNeg(x: number): number {
  return Math.log1p(Math.exp(-Math.abs(x))) + Math.max(-x, 0);
}

/** σ(−x) = 1/(1 + eˣ) without overflow. */
function sigmoidNeg(x: number): number {
  if (x >= 0) {
    const e = Math.exp(-x);
    return e / (1 + e);
  }
  return 1 / (1 + Math.exp(x));
}

/** max and log Σ e^(x − max) over the r elements base, base + inner, ... (the log-sum-exp is their sum). */
function logSumExp(x: FloatArr, base: number, r: number, inner: number): number {
  let max = -Infinity;
  for (let i = 0, p = base; i < r; i++, p += inner) if (x[p]! > max || Number.isNaN(x[p]!)) max = x[p]!;
  if (max === -Infinity) return -Infinity; // every entry −inf (or r = 0): Σ e^x = 0
  let s = 0;
  for (let i = 0, p = base; i < r; i++, p += inner) s += Math.exp(x[p]! - max);
  return max + Math.log(s);
}

export const nn: NnKernels = {
  // -------------------------------------------------------------------------------------------------
  // softmax and logSoftmax along the middle dim

  softmax(x, y, outer, r, inner) {
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * r * inner + j;
        let max = -Infinity;
        for (let i = 0, p = base; i < r; i++, p += inner) if (x[p]! > max || Number.isNaN(x[p]!)) max = x[p]!;
        // y_i = e^(x_i − m) / Σ_k e^(x_k − m)   (m = max_k x_k, so no exponent overflows)
        let s = 0;
        for (let i = 0, p = base; i < r; i++, p += inner) {
          const e = Math.exp(x[p]! - max);
          y[p] = e;
          s += e;
        }
        for (let i = 0, p = base; i < r; i++, p += inner) y[p] = y[p]! / s;
      }
    }
  },

  softmaxBackward(y, dy, dx, outer, r, inner) {
    // forward: y_i = e^(x_i − m) / Σ_k e^(x_k − m)
    // dx_i = y_i·(dy_i − Σ_k dy_k·y_k)
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * r * inner + j;
        let dot = 0;
        for (let i = 0, p = base; i < r; i++, p += inner) dot += dy[p]! * y[p]!;
        for (let i = 0, p = base; i < r; i++, p += inner) dx[p] = y[p]! * (dy[p]! - dot);
      }
    }
  },

  logSoftmax(x, y, outer, r, inner) {
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * r * inner + j;
        // y_i = x_i − log Σ_k e^(x_k)
        const lse = logSumExp(x, base, r, inner);
        for (let i = 0, p = base; i < r; i++, p += inner) y[p] = x[p]! - lse;
      }
    }
  },

  logSoftmaxBackward(y, dy, dx, outer, r, inner) {
    // forward: y_i = x_i − log Σ_k e^(x_k)
    // dx_i = dy_i − e^(y_i)·Σ_k dy_k
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * r * inner + j;
        let s = 0;
        for (let i = 0, p = base; i < r; i++, p += inner) s += dy[p]!;
        for (let i = 0, p = base; i < r; i++, p += inner) dx[p] = dy[p]! - Math.exp(y[p]!) * s;
      }
    }
  },

  // -------------------------------------------------------------------------------------------------
  // Losses

  crossEntropy(logits, target, losses, lse, outer, c, inner, ignoreIndex, eps) {
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const pos = o * inner + j;
        const base = o * c * inner + j;
        const l = logSumExp(logits, base, c, inner);
        lse[pos] = l;
        const t = target[pos]!;
        if (t === ignoreIndex) {
          losses[pos] = 0;
          continue;
        }
        // loss = −(1−ε)·log p_t − ε/C·Σ_c log p_c,  log p_c = x_c − lse
        //      = (1−ε)·(lse − x_t) + ε·(lse − Σ_c x_c / C)
        let loss = (1 - eps) * (l - logits[base + t * inner]!);
        if (eps > 0) {
          let s = 0;
          for (let i = 0, p = base; i < c; i++, p += inner) s += logits[p]!;
          loss += eps * (l - s / c);
        }
        losses[pos] = loss;
      }
    }
  },

  crossEntropyBackward(logits, target, lse, dloss, dlogits, outer, c, inner, ignoreIndex, eps) {
    // forward: loss = (1−ε)·(lse − x_t) + ε·(lse − Σ_c x_c / C)
    // dx_c = dloss·(p_c − (1−ε)·[c = t] − ε/C),  p_c = e^(x_c − lse)
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const pos = o * inner + j;
        const base = o * c * inner + j;
        const t = target[pos]!;
        if (t === ignoreIndex) {
          for (let i = 0, p = base; i < c; i++, p += inner) dlogits[p] = 0;
          continue;
        }
        const g = dloss[pos]!,
          l = lse[pos]!;
        for (let i = 0, p = base; i < c; i++, p += inner) {
          dlogits[p] = g * (Math.exp(logits[p]! - l) - (i === t ? 1 - eps : 0) - eps / c);
        }
      }
    }
  },

  nllLoss(logProbs, target, losses, outer, c, inner, ignoreIndex) {
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const pos = o * inner + j;
        const t = target[pos]!;
        // loss = −logProbs[t]
        losses[pos] = t === ignoreIndex ? 0 : -logProbs[o * c * inner + t * inner + j]!;
      }
    }
  },

  nllLossBackward(target, dloss, dlogProbs, outer, c, inner, ignoreIndex) {
    // forward: loss = −logProbs[t]   ⇒   dlogProbs[t] = −dloss, 0 at every other class
    dlogProbs.fill(0);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const pos = o * inner + j;
        const t = target[pos]!;
        if (t !== ignoreIndex) dlogProbs[o * c * inner + t * inner + j] = -dloss[pos]!;
      }
    }
  },

  bceWithLogits(x, t, pw, loss) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!,
        y = t[i]!;
      // loss = (1 − t)·x + (1 + (pw − 1)·t)·softplus(−x); with pw = 1: max(x, 0) − x·t + log(1 + e^(−|x|))
      const lw = pw === null ? 1 : 1 + (pw[i]! - 1) * y;
      loss[i] = (1 - y) * v + lw * softplusNeg(v);
    }
  },

  bceWithLogitsBackward(x, t, pw, dloss, dx, dt, dpw) {
    // forward: loss = (1 − t)·x + (1 + (pw − 1)·t)·softplus(−x)
    // dx = dloss·((1 − t) − lw·σ(−x)),  dt = dloss·(−x + (pw − 1)·softplus(−x)),  dpw = dloss·t·softplus(−x)
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!,
        y = t[i]!,
        g = dloss[i]!;
      const w = pw === null ? 1 : pw[i]!;
      const lw = 1 + (w - 1) * y;
      dx[i] = g * (1 - y - lw * sigmoidNeg(v));
      if (dt !== null) dt[i] = g * (w === 1 ? -v : -v + (w - 1) * softplusNeg(v));
      if (dpw !== null) dpw[i] = g * y * softplusNeg(v);
    }
  },

  // -------------------------------------------------------------------------------------------------
  // Norms

  layerNorm(x, w, b, y, mean, rstd, rows, cols, eps) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      // μ = Σ x / n,  σ² = Σ (x − μ)² / n   (biased, two passes)
      let s = 0;
      for (let i = 0; i < cols; i++) s += x[o + i]!;
      const mu = s / cols;
      let v = 0;
      for (let i = 0; i < cols; i++) {
        const d = x[o + i]! - mu;
        v += d * d;
      }
      const rs = 1 / Math.sqrt(v / cols + eps);
      mean[r] = mu;
      rstd[r] = rs;
      // y = (x − μ)·rstd·w + b
      for (let i = 0; i < cols; i++) {
        const xhat = (x[o + i]! - mu) * rs;
        y[o + i] = xhat * (w === null ? 1 : w[i]!) + (b === null ? 0 : b[i]!);
      }
    }
  },

  layerNormBackward(dy, x, w, mean, rstd, dx, dw, db, rows, cols) {
    // forward: y = (x − μ)·rstd·w + b
    // x̂ = (x − μ)·rstd,  g = dy·w,  dx = rstd·(g − mean(g) − x̂·mean(g·x̂)),  dw += dy·x̂,  db += dy
    for (let r = 0; r < rows; r++) {
      const o = r * cols,
        mu = mean[r]!,
        rs = rstd[r]!;
      let sg = 0,
        sgx = 0;
      for (let i = 0; i < cols; i++) {
        const xhat = (x[o + i]! - mu) * rs;
        const g = dy[o + i]! * (w === null ? 1 : w[i]!);
        sg += g;
        sgx += g * xhat;
        if (dw !== null) dw[i] = dw[i]! + dy[o + i]! * xhat;
        if (db !== null) db[i] = db[i]! + dy[o + i]!;
      }
      const mg = sg / cols,
        mgx = sgx / cols;
      for (let i = 0; i < cols; i++) {
        const xhat = (x[o + i]! - mu) * rs;
        const g = dy[o + i]! * (w === null ? 1 : w[i]!);
        dx[o + i] = rs * (g - mg - xhat * mgx);
      }
    }
  },

  rmsNorm(x, w, y, rstd, rows, cols, eps) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      // rstd = 1/√(mean(x²) + eps)
      let s = 0;
      for (let i = 0; i < cols; i++) s += x[o + i]! * x[o + i]!;
      const rs = 1 / Math.sqrt(s / cols + eps);
      rstd[r] = rs;
      // y = x·rstd·w
      for (let i = 0; i < cols; i++) y[o + i] = x[o + i]! * rs * (w === null ? 1 : w[i]!);
    }
  },

  rmsNormBackward(dy, x, w, rstd, dx, dw, rows, cols) {
    // forward: y = x·rstd·w,  rstd = 1/√(mean(x²) + eps)
    // x̂ = x·rstd,  g = dy·w,  dx = rstd·(g − x̂·mean(g·x̂)),  dw += dy·x̂
    for (let r = 0; r < rows; r++) {
      const o = r * cols,
        rs = rstd[r]!;
      let sgx = 0;
      for (let i = 0; i < cols; i++) {
        const xhat = x[o + i]! * rs;
        sgx += dy[o + i]! * (w === null ? 1 : w[i]!) * xhat;
        if (dw !== null) dw[i] = dw[i]! + dy[o + i]! * xhat;
      }
      const mgx = sgx / cols;
      for (let i = 0; i < cols; i++) {
        const g = dy[o + i]! * (w === null ? 1 : w[i]!);
        dx[o + i] = rs * (g - x[o + i]! * rs * mgx);
      }
    }
  },

  groupNorm(x, w, b, y, mean, rstd, n, c, hw, groups, eps) {
    const cpg = c / groups,
      m = cpg * hw; // channels per group, values per (sample, group) slab
    for (let s = 0; s < n * groups; s++) {
      const o = s * m,
        g0 = (s % groups) * cpg;
      // μ = Σ x / m,  σ² = Σ (x − μ)² / m over the slab
      let sum = 0;
      for (let i = 0; i < m; i++) sum += x[o + i]!;
      const mu = sum / m;
      let v = 0;
      for (let i = 0; i < m; i++) {
        const d = x[o + i]! - mu;
        v += d * d;
      }
      const rs = 1 / Math.sqrt(v / m + eps);
      mean[s] = mu;
      rstd[s] = rs;
      // y = (x − μ)·rstd·w[ch] + b[ch]
      for (let k = 0; k < cpg; k++) {
        const ch = g0 + k,
          sc = w === null ? 1 : w[ch]!,
          sh = b === null ? 0 : b[ch]!;
        for (let i = o + k * hw, e = i + hw; i < e; i++) y[i] = (x[i]! - mu) * rs * sc + sh;
      }
    }
  },

  groupNormBackward(dy, x, w, mean, rstd, dx, dw, db, n, c, hw, groups) {
    // forward: y = (x − μ)·rstd·w[ch] + b[ch] over each (sample, group) slab of m values
    // x̂ = (x − μ)·rstd,  g = dy·w[ch],  dx = rstd·(g − mean(g) − x̂·mean(g·x̂)),  dw[ch] += Σ dy·x̂,  db[ch] += Σ dy
    const cpg = c / groups,
      m = cpg * hw;
    for (let s = 0; s < n * groups; s++) {
      const o = s * m,
        g0 = (s % groups) * cpg,
        mu = mean[s]!,
        rs = rstd[s]!;
      let sg = 0,
        sgx = 0;
      for (let k = 0; k < cpg; k++) {
        const ch = g0 + k,
          sc = w === null ? 1 : w[ch]!;
        let sdy = 0,
          sdyx = 0;
        for (let i = o + k * hw, e = i + hw; i < e; i++) {
          const xhat = (x[i]! - mu) * rs;
          sdy += dy[i]!;
          sdyx += dy[i]! * xhat;
        }
        sg += sc * sdy;
        sgx += sc * sdyx;
        if (dw !== null) dw[ch] = dw[ch]! + sdyx;
        if (db !== null) db[ch] = db[ch]! + sdy;
      }
      const mg = sg / m,
        mgx = sgx / m;
      for (let k = 0; k < cpg; k++) {
        const sc = w === null ? 1 : w[g0 + k]!;
        for (let i = o + k * hw, e = i + hw; i < e; i++) {
          const xhat = (x[i]! - mu) * rs;
          dx[i] = rs * (dy[i]! * sc - mg - xhat * mgx);
        }
      }
    }
  },

  batchNormStats(x, mean, variance, n, c, hw) {
    const m = n * hw;
    for (let ch = 0; ch < c; ch++) {
      // μ = Σ x / m,  σ² = Σ (x − μ)² / m over every sample and position of the channel (biased)
      let s = 0;
      for (let b = 0; b < n; b++) for (let i = (b * c + ch) * hw, e = i + hw; i < e; i++) s += x[i]!;
      const mu = s / m;
      let v = 0;
      for (let b = 0; b < n; b++) {
        for (let i = (b * c + ch) * hw, e = i + hw; i < e; i++) {
          const d = x[i]! - mu;
          v += d * d;
        }
      }
      mean[ch] = mu;
      variance[ch] = v / m;
    }
  },

  batchNorm(x, mean, variance, w, b, y, rstd, n, c, hw, eps) {
    for (let ch = 0; ch < c; ch++) {
      // y = (x − μ)·rstd·w + b,  rstd = 1/√(σ² + eps)
      const mu = mean[ch]!,
        rs = 1 / Math.sqrt(variance[ch]! + eps);
      const sc = w === null ? 1 : w[ch]!,
        sh = b === null ? 0 : b[ch]!;
      rstd[ch] = rs;
      for (let s = 0; s < n; s++) {
        for (let i = (s * c + ch) * hw, e = i + hw; i < e; i++) y[i] = (x[i]! - mu) * rs * sc + sh;
      }
    }
  },

  batchNormBackward(dy, x, w, mean, rstd, dx, dw, db, n, c, hw, training) {
    // forward: y = (x − μ)·rstd·w + b
    // training (μ, rstd from the batch): x̂ = (x − μ)·rstd, g = dy·w, dx = rstd·(g − mean(g) − x̂·mean(g·x̂))
    // eval (μ, rstd constants):          dx = dy·w·rstd
    // both: dw += Σ dy·x̂, db += Σ dy
    const m = n * hw;
    for (let ch = 0; ch < c; ch++) {
      const mu = mean[ch]!,
        rs = rstd[ch]!,
        sc = w === null ? 1 : w[ch]!;
      let sdy = 0,
        sdyx = 0;
      for (let s = 0; s < n; s++) {
        for (let i = (s * c + ch) * hw, e = i + hw; i < e; i++) {
          sdy += dy[i]!;
          sdyx += dy[i]! * (x[i]! - mu) * rs;
        }
      }
      if (dw !== null) dw[ch] = dw[ch]! + sdyx;
      if (db !== null) db[ch] = db[ch]! + sdy;
      const mg = training ? (sc * sdy) / m : 0,
        mgx = training ? (sc * sdyx) / m : 0;
      for (let s = 0; s < n; s++) {
        for (let i = (s * c + ch) * hw, e = i + hw; i < e; i++) {
          const xhat = (x[i]! - mu) * rs;
          dx[i] = rs * (dy[i]! * sc - mg - xhat * mgx);
        }
      }
    }
  },

  batchNormUpdateStats(runningMean, runningVar, mean, variance, momentum, count) {
    // running ← (1 − momentum)·running + momentum·batch, with the unbiased variance σ²·m/(m − 1)
    const unbias = count / (count - 1);
    for (let ch = 0; ch < mean.length; ch++) {
      if (runningMean !== null) runningMean[ch] = (1 - momentum) * runningMean[ch]! + momentum * mean[ch]!;
      if (runningVar !== null) runningVar[ch] = (1 - momentum) * runningVar[ch]! + momentum * variance[ch]! * unbias;
    }
  },

  // -------------------------------------------------------------------------------------------------
  // Dropout

  dropoutMask(u, mask, p) {
    // keep with probability 1 − p and scale the kept values by 1/(1 − p), so E[mask] = 1
    const scale = p >= 1 ? 0 : 1 / (1 - p);
    for (let i = 0; i < u.length; i++) mask[i] = u[i]! < p ? 0 : scale;
  },
};
