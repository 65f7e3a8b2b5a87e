// Reference attention kernels: y = softmax(q·kᵀ·scale + mask)·v per (batch·head), fused, flash-attention
// style (online softmax over the keys; the row log-sum-exp is kept for the backward), and the
// materialised softmax used when probabilities are dropped out. Derivation: docs/derivations/attention.md.
//
// Vocabulary: bh batch·heads, tq queries, tk keys, d q/k head size, dv v head size;
// s_ij = q_i·k_j·scale + mask_ij the scores, P = softmax_j(s) the probabilities, lse_i = log Σ_j e^{s_ij}.

import type { AttentionKernels, FloatArr } from "../backend.js";

/** s_ij = q_i·k_j·scale + mask_ij, or −inf where the causal flag hides key j from query i. */
function score(
  q: FloatArr,
  qo: number,
  k: FloatArr,
  ko: number,
  d: number,
  mask: FloatArr | null,
  mo: number,
  scale: number,
): number {
  let s = 0;
  for (let e = 0; e < d; e++) s += q[qo + e]! * k[ko + e]!;
  s *= scale;
  return mask === null ? s : s + mask[mo]!;
}

/** Row of token t of slice b in a tensor of T tokens: b·T + t, or (⌊b/H⌋·T + t)·H + b mod H with p.heads = H. */
const rowOf = (b: number, t: number, T: number, heads: number): number =>
  heads > 0 ? (Math.floor(b / heads) * T + t) * heads + (b % heads) : b * T + t;

/** Offset of mask element (b, i, j) through the strides. */
const maskAt = (st: readonly number[] | null, b: number, i: number, j: number): number =>
  st === null ? 0 : b * st[0]! + i * st[1]! + j * st[2]!;

export const attention: AttentionKernels = {
  attention(q, k, v, mask, ms, p, y, lse) {
    const { bh, tq, tk, d, dv, scale, causal } = p;
    const hd = p.heads ?? 0;
    const acc = new Float64Array(dv); // the running Σ_j e^{s_ij − m}·v_j of one query
    for (let b = 0; b < bh; b++) {
      for (let i = 0; i < tq; i++) {
        const qo = rowOf(b, i, tq, hd) * d;
        // Online softmax: m = max_j s_ij so far, l = Σ_j e^{s_ij − m}, acc = Σ_j e^{s_ij − m}·v_j
        let m = -Infinity,
          l = 0;
        acc.fill(0);
        const last = causal ? Math.min(i, tk - 1) : tk - 1;
        for (let j = 0; j <= last; j++) {
          const s = score(q, qo, k, rowOf(b, j, tk, hd) * d, d, mask, maskAt(ms, b, i, j), scale);
          if (s === -Infinity) continue; // a masked key adds e^{−inf} = 0
          if (s > m || Number.isNaN(s)) {
            // m' = max(m, s): rescale what was summed so far by e^{m − m'}
            const c = m === -Infinity ? 0 : Math.exp(m - s);
            l *= c;
            for (let e = 0; e < dv; e++) acc[e]! *= c;
            m = s;
          }
          const pj = Math.exp(s - m);
          l += pj;
          const vo = rowOf(b, j, tk, hd) * dv;
          for (let e = 0; e < dv; e++) acc[e]! += pj * v[vo + e]!;
        }
        // y_i = acc / l; lse_i = m + log l. A fully masked row has l = 0: 0/0 = NaN, as PyTorch; with no
        // keys at all (tk = 0) y is the empty sum 0, as PyTorch's matmul of an empty (Tq, 0)·(0, Ev).
        const yo = rowOf(b, i, tq, hd) * dv;
        const empty = tk === 0;
        for (let e = 0; e < dv; e++) y[yo + e] = empty ? 0 : l === 0 ? NaN : acc[e]! / l;
        lse[b * tq + i] = empty ? -Infinity : l === 0 ? NaN : m + Math.log(l);
      }
    }
  },

  attentionBackward(q, k, v, mask, ms, p, y, lse, dy, dq, dk, dv, dmask) {
    const { bh, tq, tk, d, dv: ev, scale, causal } = p;
    const hd = p.heads ?? 0;
    dq.fill(0);
    dk.fill(0);
    dv.fill(0);
    if (dmask !== null) dmask.fill(0);
    for (let b = 0; b < bh; b++) {
      for (let i = 0; i < tq; i++) {
        const qo = rowOf(b, i, tq, hd) * d,
          yo = rowOf(b, i, tq, hd) * ev;
        // D_i = Σ_e dy_ie·y_ie = Σ_j P_ij·dP_ij (the softmax backward's row sum)
        let di = 0;
        for (let e = 0; e < ev; e++) di += dy[yo + e]! * y[yo + e]!;
        const li = lse[b * tq + i]!;
        const last = causal ? Math.min(i, tk - 1) : tk - 1;
        for (let j = 0; j <= last; j++) {
          const ko = rowOf(b, j, tk, hd) * d,
            vo = rowOf(b, j, tk, hd) * ev;
          // forward: P_ij = e^{s_ij − lse_i}
          const s = score(q, qo, k, ko, d, mask, maskAt(ms, b, i, j), scale);
          if (s === -Infinity) continue;
          const pij = Math.exp(s - li);
          // forward: y_i = Σ_j P_ij·v_j  ⇒  dv_j += P_ij·dy_i, dP_ij = dy_i·v_j
          let dp = 0;
          for (let e = 0; e < ev; e++) {
            dv[vo + e]! += pij * dy[yo + e]!;
            dp += dy[yo + e]! * v[vo + e]!;
          }
          // forward: P_i = softmax(s_i)  ⇒  dS_ij = P_ij·(dP_ij − D_i)
          const ds = pij * (dp - di);
          if (dmask !== null) dmask[(b * tq + i) * tk + j] = ds;
          // forward: s_ij = q_i·k_j·scale  ⇒  dq_i += dS_ij·k_j·scale, dk_j += dS_ij·q_i·scale
          const g = ds * scale;
          for (let e = 0; e < d; e++) {
            dq[qo + e]! += g * k[ko + e]!;
            dk[ko + e]! += g * q[qo + e]!;
          }
        }
      }
    }
  },

  attentionSoftmax(scores, mask, ms, p, probs) {
    const { bh, tq, tk, scale, causal } = p;
    for (let b = 0; b < bh; b++) {
      for (let i = 0; i < tq; i++) {
        const row = (b * tq + i) * tk;
        const last = causal ? Math.min(i, tk - 1) : tk - 1;
        // logits = scores·scale + mask, −inf past the causal diagonal
        let m = -Infinity;
        for (let j = 0; j < tk; j++) {
          const s = j > last ? -Infinity : scores[row + j]! * scale + (mask === null ? 0 : mask[maskAt(ms, b, i, j)]!);
          probs[row + j] = s;
          if (s > m || Number.isNaN(s)) m = s;
        }
        // P_j = e^{s_j − m} / Σ e^{s − m}  (a fully masked row: m = −inf gives NaN, as PyTorch)
        let l = 0;
        for (let j = 0; j < tk; j++) {
          const e = Math.exp(probs[row + j]! - m);
          probs[row + j] = e;
          l += e;
        }
        for (let j = 0; j < tk; j++) probs[row + j] = probs[row + j]! / l;
      }
    }
  },

  attentionSoftmaxBackward(probs, dprobs, p, dlogits) {
    const rows = p.bh * p.tq,
      tk = p.tk;
    for (let r = 0; r < rows; r++) {
      const o = r * tk;
      // forward: P = softmax(s)  ⇒  ds = P ⊙ (dP − Σ_j dP_j·P_j)
      let dot = 0;
      for (let j = 0; j < tk; j++) dot += dprobs[o + j]! * probs[o + j]!;
      for (let j = 0; j < tk; j++) dlogits[o + j] = probs[o + j]! * (dprobs[o + j]! - dot);
    }
  },
};
