// AssemblyScript: fused scaled-dot-product attention, float32, forward and backward, one (batch·head)
// slice b per call; the pool's tasks take runs of consecutive slices (../attention.ts).
//
//   s_ij = q_i·k_j·scale + mask_ij   (−inf where the causal flag hides key j from query i)
//   P_ij = e^{s_ij − lse_i},  lse_i = log Σ_j e^{s_ij},  y_i = Σ_j P_ij·v_j
//
// Queries are taken four rows at a time: their score rows (one row of tk floats each: memory linear in
// the key length, never the whole tq×tk matrix) are computed against Kᵀ, which is transposed once per
// slice into the thread's scratch, so each step of the head dim is one vector load of four keys shared
// by the four queries. Rows of q, k, dq, dk are `ldq` floats apart and rows of v, y, dy, dv `ldv` apart,
// both multiples of 4; the JavaScript side zero-pads the head dims to them.
//
// Parameter block (i32 fields; byte offset = 4·index), written by ../attention.ts.

import { exp4, hmax, hsum, logf, madd } from "./vmath";

const A_Q = 4, A_K = 8, A_V = 12, A_Y = 16, A_LSE = 20, A_MASK = 24, A_MSB = 28, A_MSQ = 32, A_MSK = 36;
const A_BH = 40, A_TQ = 44, A_TK = 48, A_D = 52, A_DV = 56, A_LDQ = 60, A_LDV = 64, A_SCALE = 68, A_CAUSAL = 72;
const A_SCRATCH = 76, A_SCRATCH_STRIDE = 80, A_PER_TASK = 84;
const A_DY = 88, A_DQ = 92, A_DK = 96, A_DVO = 100, A_DMASK = 104;

/** Bytes of scratch one thread needs: Kᵀ and Vᵀ (head dim × key length) and three blocks of 4 score rows. */
export function attentionScratchBytes(ldq: i32, ldv: i32, tk: i32): i32 {
  const tkp = (tk + 3) & ~3;
  return (ldq + ldv + 12) * tkp * 4;
}

/** dst[e][j] = src[j][e] for j < tk (rows `ld` floats apart), 0 for tk ≤ j < tkp: a (d × tkp) matrix. */
function transpose(src: usize, ld: i32, tk: i32, tkp: i32, d: i32, dst: usize): void {
  for (let j = 0; j < tkp; j++) {
    const s = src + (<usize>(j * ld) << 2);
    for (let e = 0; e < d; e++) store<f32>(dst + (<usize>(e * tkp + j) << 2), j < tk ? load<f32>(s + (<usize>e << 2)) : f32(0));
  }
}

/**
 * out[r][j] = scale·Σ_e a_r[e]·bT[e][j] for the four rows a_r (`lda` floats apart, starting at a),
 * j < jn4 (a multiple of 4); out rows are tkp floats apart.
 */
function rowsTimesT(a: usize, lda: i32, nr: i32, bT: usize, tkp: i32, d: i32, jn4: i32, scale: f32, out: usize): void {
  // rows past nr read the last valid row again (their results are never used)
  const a0 = a, a1 = a + (<usize>(min(1, nr - 1) * lda) << 2), a2 = a + (<usize>(min(2, nr - 1) * lda) << 2), a3 = a + (<usize>(min(3, nr - 1) * lda) << 2);
  const rs = <usize>tkp << 2;
  const sc = f32x4.splat(scale);
  for (let j = 0; j < jn4; j += 4) {
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
    let pb = bT + (<usize>j << 2);
    for (let e = 0; e < d; e++) {
      const bv = v128.load(pb);
      const o = <usize>e << 2;
      c0 = madd(v128.load32_splat(a0 + o), bv, c0);
      c1 = madd(v128.load32_splat(a1 + o), bv, c1);
      c2 = madd(v128.load32_splat(a2 + o), bv, c2);
      c3 = madd(v128.load32_splat(a3 + o), bv, c3);
      pb += rs;
    }
    const po = out + (<usize>j << 2);
    v128.store(po, f32x4.mul(c0, sc));
    v128.store(po + rs, f32x4.mul(c1, sc));
    v128.store(po + 2 * rs, f32x4.mul(c2, sc));
    v128.store(po + 3 * rs, f32x4.mul(c3, sc));
  }
}

/** Adds the mask and hides keys past `last` (−inf) in score row srow of query i: entries j < jn4. */
function maskRow(P: usize, srow: usize, b: i32, i: i32, last: i32, jn4: i32): void {
  const mask = <usize>load<i32>(P, A_MASK);
  if (mask != 0) {
    const base = b * load<i32>(P, A_MSB) + i * load<i32>(P, A_MSQ), msk = load<i32>(P, A_MSK);
    for (let j = 0; j <= last; j++) {
      const o = srow + (<usize>j << 2);
      store<f32>(o, load<f32>(o) + load<f32>(mask + (<usize>(base + j * msk) << 2)));
    }
  }
  for (let j = last + 1; j < jn4; j++) store<f32>(srow + (<usize>j << 2), -Infinity);
}

/** Forward of slice b: y (tq × ldv) and lse (tq). */
export function attentionForward(P: usize, b: i32, scratch: usize): void {
  const tq = load<i32>(P, A_TQ), tk = load<i32>(P, A_TK), d = load<i32>(P, A_D);
  const ldq = load<i32>(P, A_LDQ), ldv = load<i32>(P, A_LDV);
  const scale = load<f32>(P, A_SCALE), causal = load<i32>(P, A_CAUSAL) != 0;
  const tkp = (tk + 3) & ~3;
  const q = <usize>load<i32>(P, A_Q) + (<usize>(b * tq * ldq) << 2);
  const k = <usize>load<i32>(P, A_K) + (<usize>(b * tk * ldq) << 2);
  const v = <usize>load<i32>(P, A_V) + (<usize>(b * tk * ldv) << 2);
  const y = <usize>load<i32>(P, A_Y) + (<usize>(b * tq * ldv) << 2);
  const lse = <usize>load<i32>(P, A_LSE) + (<usize>(b * tq) << 2);
  const kT = scratch, S = kT + (<usize>(ldq * tkp) << 2);
  const rs = <usize>tkp << 2;
  transpose(k, ldq, tk, tkp, d, kT);
  for (let i0 = 0; i0 < tq; i0 += 4) {
    const nr = min(4, tq - i0);
    // keys any row of this block sees: j < jn
    const jn = causal ? min(i0 + nr, tk) : tk, jn4 = (jn + 3) & ~3;
    // S_rj = scale·q_r·k_j
    rowsTimesT(q + (<usize>(i0 * ldq) << 2), ldq, nr, kT, tkp, d, jn4, scale, S);
    let i0v: f32 = 1, i1v: f32 = 1, i2v: f32 = 1, i3v: f32 = 1;
    for (let r = 0; r < nr; r++) {
      const i = i0 + r, last = causal ? min(i, tk - 1) : tk - 1;
      const srow = S + <usize>r * rs;
      maskRow(P, srow, b, i, last, jn4);
      // m = max_j s_ij;  P_ij = e^{s_ij − m} (stored over s);  l = Σ_j P_ij
      let mv = f32x4.splat(-Infinity);
      for (let j = 0; j < jn4; j += 4) mv = f32x4.max(mv, v128.load(srow + (<usize>j << 2)));
      const m = f32x4.splat(hmax(mv));
      let lv = f32x4.splat(0);
      for (let j = 0; j < jn4; j += 4) {
        const o = srow + (<usize>j << 2);
        const p = exp4(f32x4.sub(v128.load(o), m));
        v128.store(o, p);
        lv = f32x4.add(lv, p);
      }
      const l = hsum(lv);
      // lse_i = m + log l  (a fully masked row: m = −inf, P = NaN, as the reference)
      store<f32>(lse + (<usize>i << 2), f32x4.extract_lane(m, 0) + logf(l));
      const il: f32 = 1 / l;
      if (r == 0) i0v = il; else if (r == 1) i1v = il; else if (r == 2) i2v = il; else i3v = il;
    }
    // y_r = (Σ_j P_rj·v_j) / l_r, one vector of the head dim at a time
    for (let e = 0; e < ldv; e += 4) {
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      let pv = v + (<usize>e << 2);
      const vs = <usize>ldv << 2;
      for (let j = 0; j < jn; j++) {
        const vv = v128.load(pv);
        const po = S + (<usize>j << 2);
        c0 = madd(v128.load32_splat(po), vv, c0);
        c1 = madd(v128.load32_splat(po + rs), vv, c1);
        c2 = madd(v128.load32_splat(po + 2 * rs), vv, c2);
        c3 = madd(v128.load32_splat(po + 3 * rs), vv, c3);
        pv += vs;
      }
      const yo = y + (<usize>(i0 * ldv + e) << 2);
      v128.store(yo, f32x4.mul(c0, f32x4.splat(i0v)));
      if (nr > 1) v128.store(yo + vs, f32x4.mul(c1, f32x4.splat(i1v)));
      if (nr > 2) v128.store(yo + 2 * vs, f32x4.mul(c2, f32x4.splat(i2v)));
      if (nr > 3) v128.store(yo + 3 * vs, f32x4.mul(c3, f32x4.splat(i3v)));
    }
  }
}

/**
 * Backward of slice b: dq (tq × ldq, overwritten), dk (tk × ldq) and dv (tk × ldv) (overwritten: zeroed
 * here, then accumulated over the query blocks), dmask (tq × tk, when given; zeroed by the caller).
 */
export function attentionBackward(P: usize, b: i32, scratch: usize): void {
  const tq = load<i32>(P, A_TQ), tk = load<i32>(P, A_TK), d = load<i32>(P, A_D), dvs = load<i32>(P, A_DV);
  const ldq = load<i32>(P, A_LDQ), ldv = load<i32>(P, A_LDV);
  const scale = load<f32>(P, A_SCALE), causal = load<i32>(P, A_CAUSAL) != 0;
  const tkp = (tk + 3) & ~3;
  const q = <usize>load<i32>(P, A_Q) + (<usize>(b * tq * ldq) << 2);
  const k = <usize>load<i32>(P, A_K) + (<usize>(b * tk * ldq) << 2);
  const v = <usize>load<i32>(P, A_V) + (<usize>(b * tk * ldv) << 2);
  const y = <usize>load<i32>(P, A_Y) + (<usize>(b * tq * ldv) << 2);
  const lse = <usize>load<i32>(P, A_LSE) + (<usize>(b * tq) << 2);
  const dy = <usize>load<i32>(P, A_DY) + (<usize>(b * tq * ldv) << 2);
  const dq = <usize>load<i32>(P, A_DQ) + (<usize>(b * tq * ldq) << 2);
  const dk = <usize>load<i32>(P, A_DK) + (<usize>(b * tk * ldq) << 2);
  const dv = <usize>load<i32>(P, A_DVO) + (<usize>(b * tk * ldv) << 2);
  const dmaskBase = <usize>load<i32>(P, A_DMASK);
  const kT = scratch, vT = kT + (<usize>(ldq * tkp) << 2);
  const S = vT + (<usize>(ldv * tkp) << 2); // scores, then dS
  const rs = <usize>tkp << 2;
  const Pb = S + 4 * rs, dP = Pb + 4 * rs; // probabilities; dP = dy·vᵀ
  transpose(k, ldq, tk, tkp, d, kT);
  transpose(v, ldv, tk, tkp, dvs, vT);
  memory.fill(dk, 0, <usize>(tk * ldq) << 2);
  memory.fill(dv, 0, <usize>(tk * ldv) << 2);
  const qs = <usize>ldq << 2, vs = <usize>ldv << 2;
  for (let i0 = 0; i0 < tq; i0 += 4) {
    const nr = min(4, tq - i0);
    const jn = causal ? min(i0 + nr, tk) : tk, jn4 = (jn + 3) & ~3;
    // forward: s = scale·q·kᵀ + mask;  dP = dy·vᵀ
    rowsTimesT(q + <usize>i0 * qs, ldq, nr, kT, tkp, d, jn4, scale, S);
    rowsTimesT(dy + <usize>i0 * vs, ldv, nr, vT, tkp, dvs, jn4, 1, dP);
    for (let r = 0; r < nr; r++) {
      const i = i0 + r, last = causal ? min(i, tk - 1) : tk - 1;
      const srow = S + <usize>r * rs, prow = Pb + <usize>r * rs, dprow = dP + <usize>r * rs;
      maskRow(P, srow, b, i, last, jn4);
      // D_i = Σ_e dy_ie·y_ie
      let dd = f32x4.splat(0);
      for (let e = 0; e < ldv; e += 4) dd = madd(v128.load(dy + (<usize>(i * ldv + e) << 2)), v128.load(y + (<usize>(i * ldv + e) << 2)), dd);
      const Di = f32x4.splat(hsum(dd));
      const li = v128.load32_splat(lse + (<usize>i << 2));
      for (let j = 0; j < jn4; j += 4) {
        const o = <usize>j << 2;
        const s = v128.load(srow + o);
        // forward: P_ij = e^{s_ij − lse_i}; a masked key (s = −inf) takes no part at all
        const hidden = f32x4.eq(s, f32x4.splat(-Infinity));
        const p = v128.bitselect(f32x4.splat(0), exp4(f32x4.sub(s, li)), hidden);
        // forward: P_i = softmax(s_i)  ⇒  dS_ij = P_ij·(dP_ij − D_i)
        const ds = v128.bitselect(f32x4.splat(0), f32x4.mul(p, f32x4.sub(v128.load(dprow + o), Di)), hidden);
        v128.store(prow + o, p);
        v128.store(srow + o, ds);
      }
      if (dmaskBase != 0) {
        const dm = dmaskBase + (<usize>((b * tq + i) * tk) << 2);
        for (let j = 0; j < jn; j++) store<f32>(dm + (<usize>j << 2), load<f32>(srow + (<usize>j << 2)));
      }
    }
    // forward: y_i = Σ_j P_ij·v_j  ⇒  dv_j += Σ_i P_ij·dy_i
    // forward: s_ij = q_i·k_j·scale  ⇒  dk_j += scale·Σ_i dS_ij·q_i
    for (let j = 0; j < jn; j++) {
      const pj = Pb + (<usize>j << 2), sj = S + (<usize>j << 2);
      const dvj = dv + <usize>j * vs, dkj = dk + <usize>j * qs;
      for (let e = 0; e < ldv; e += 4) {
        const o = <usize>e << 2;
        let acc = v128.load(dvj + o);
        for (let r = 0; r < nr; r++) acc = madd(v128.load32_splat(pj + <usize>r * rs), v128.load(dy + <usize>(i0 + r) * vs + o), acc);
        v128.store(dvj + o, acc);
      }
      for (let e = 0; e < ldq; e += 4) {
        const o = <usize>e << 2;
        let acc = v128.load(dkj + o);
        for (let r = 0; r < nr; r++) acc = madd(f32x4.splat(load<f32>(sj + <usize>r * rs) * scale), v128.load(q + <usize>(i0 + r) * qs + o), acc);
        v128.store(dkj + o, acc);
      }
    }
    // ⇒  dq_i = scale·Σ_j dS_ij·k_j
    for (let e = 0; e < ldq; e += 4) {
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      let pk = k + (<usize>e << 2);
      for (let j = 0; j < jn; j++) {
        const kv = v128.load(pk);
        const po = S + (<usize>j << 2);
        c0 = madd(v128.load32_splat(po), kv, c0);
        c1 = madd(v128.load32_splat(po + rs), kv, c1);
        c2 = madd(v128.load32_splat(po + 2 * rs), kv, c2);
        c3 = madd(v128.load32_splat(po + 3 * rs), kv, c3);
        pk += qs;
      }
      const sc = f32x4.splat(scale);
      const o = dq + (<usize>(i0 * ldq + e) << 2);
      v128.store(o, f32x4.mul(c0, sc));
      if (nr > 1) v128.store(o + qs, f32x4.mul(c1, sc));
      if (nr > 2) v128.store(o + 2 * qs, f32x4.mul(c2, sc));
      if (nr > 3) v128.store(o + 3 * qs, f32x4.mul(c3, sc));
    }
  }
}

/** One pool task: slices [t·perTask, (t+1)·perTask) of the forward (backward = false) or the backward. */
export function attentionTask(P: usize, task: i32, thread: i32, backward: bool): void {
  const scratch = <usize>load<i32>(P, A_SCRATCH) + <usize>(thread * load<i32>(P, A_SCRATCH_STRIDE));
  const per = load<i32>(P, A_PER_TASK), bh = load<i32>(P, A_BH);
  const b1 = min(bh, (task + 1) * per);
  for (let b = task * per; b < b1; b++) {
    if (backward) attentionBackward(P, b, scratch);
    else attentionForward(P, b, scratch);
  }
}
