// AssemblyScript: fused scaled-dot-product attention, float32, forward and backward, one (batch·head)
// slice b per call; the pool's tasks take runs of consecutive slices (../attention.ts).
//
//   s_ij = q_i·k_j·scale + mask_ij   (−inf where the causal flag hides key j from query i)
//   P_ij = e^{s_ij − lse_i},  lse_i = log Σ_j e^{s_ij},  y_i = Σ_j P_ij·v_j
//
// Queries are taken four rows at a time: their score rows (one row of tk floats each: memory linear in
// the key length, never the whole tq×tk matrix) are computed against Kᵀ, which is transposed once per
// slice into the thread's scratch, so each step of the head dim is one vector load of four keys shared
// by the four queries. Rows of q, k, dq, dk hold `wq` floats and are `ldq` floats apart; rows of v, y,
// dy, dv hold `wv` floats, `ldv` apart; wq and wv are multiples of 4 (the JavaScript side zero-pads the head
// dims to them when they are not). Slice b starts at row ⌊b/H⌋·T, column (b mod H)·w of its tensor: H = 1
// with ld = w is the plain (bh, T, w) layout, ld = H·w the (B, T, H, w) one, read and written in place.
//
// Parameter block (i32 fields; byte offset = 4·index), written by ../attention.ts.

import { exp4, hsum, kc, K_NEG_INF, logf4, madd } from "./vmath";

const A_Q = 4, A_K = 8, A_V = 12, A_Y = 16, A_LSE = 20, A_MASK = 24, A_MSB = 28, A_MSQ = 32, A_MSK = 36;
const A_BH = 40, A_TQ = 44, A_TK = 48, A_D = 52, A_DV = 56, A_LDQ = 60, A_LDV = 64, A_SCALE = 68, A_CAUSAL = 72;
const A_SCRATCH = 76, A_SCRATCH_STRIDE = 80, A_PER_TASK = 84;
const A_DY = 88, A_DQ = 92, A_DK = 96, A_DVO = 100, A_DMASK = 104, A_HEADS = 108, A_WQ = 112, A_WV = 116;

/** Byte offset of slice b in a tensor at `base` of T rows `ld` floats apart, `w` floats per head (H heads). */
function sliceAt(base: i32, b: i32, H: i32, T: i32, ld: i32, w: i32): usize {
  return <usize>base + (<usize>((b / H) * T * ld + (b % H) * w) << 2);
}

/** Query rows per block of the backward (the score rows of a block are kept: QB × tk floats, three times). */
const QB = 16;

/** Bytes of scratch one thread needs: Kᵀ and Vᵀ (head dim × key length) and three blocks of QB score rows. */
export function attentionScratchBytes(wq: i32, wv: i32, tk: i32): i32 {
  const tkp = (tk + 3) & ~3;
  return (wq + wv + 3 * QB) * tkp * 4;
}

/** dst[e][j] = src[j][e] for j < tk (rows `ld` floats apart), 0 for tk ≤ j < tkp: a (d × tkp) matrix. */
function transpose(src: usize, ld: i32, tk: i32, tkp: i32, d: i32, dst: usize): void {
  const ls = <usize>ld << 2, ds = <usize>tkp << 2;
  const d4 = d & ~3, tk4 = tk & ~3;
  // 4 keys × 4 dims at a time: a 4×4 transpose in registers
  for (let j = 0; j < tk4; j += 4) {
    const s0 = src + <usize>j * ls;
    for (let e = 0; e < d4; e += 4) {
      const s = s0 + (<usize>e << 2);
      const r0 = v128.load(s), r1 = v128.load(s + ls), r2 = v128.load(s + 2 * ls), r3 = v128.load(s + 3 * ls);
      const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
      const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
      const o = dst + <usize>e * ds + (<usize>j << 2);
      v128.store(o, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
      v128.store(o + ds, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
      v128.store(o + 2 * ds, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
      v128.store(o + 3 * ds, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
    }
    for (let e = d4; e < d; e++)
      for (let jj = j; jj < j + 4; jj++) store<f32>(dst + <usize>e * ds + (<usize>jj << 2), load<f32>(src + <usize>jj * ls + (<usize>e << 2)));
  }
  for (let j = tk4; j < tkp; j++) {
    const s = src + <usize>j * ls;
    for (let e = 0; e < d; e++) store<f32>(dst + <usize>e * ds + (<usize>j << 2), j < tk ? load<f32>(s + (<usize>e << 2)) : f32(0));
  }
}

/**
 * out[r][j] = scale·Σ_e a_r[e]·bT[e][j] for r < 4 (rows a_r `lda` floats apart from a; rows past nr
 * repeat the last valid one and their results are never read) and j < jn4 (a multiple of 4); out rows
 * are tkp floats apart. Tiles of 4 rows × 8 keys: per step of e, two vector loads of bT and four
 * broadcasts of a serve eight multiply-adds.
 */
function rowsTimesT(a: usize, lda: i32, nr: i32, bT: usize, tkp: i32, d: i32, jn4: i32, scale: f32, out: usize): void {
  const a0 = a, a1 = a + (<usize>(min(1, nr - 1) * lda) << 2), a2 = a + (<usize>(min(2, nr - 1) * lda) << 2), a3 = a + (<usize>(min(3, nr - 1) * lda) << 2);
  const rs = <usize>tkp << 2;
  const sc = f32x4.splat(scale);
  let j = 0;
  for (; j + 8 <= jn4; j += 8) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    let pb = bT + (<usize>j << 2);
    for (let e = 0; e < d; e++) {
      const b0 = v128.load(pb), b1 = v128.load(pb, 16);
      const o = <usize>e << 2;
      let x = v128.load32_splat(a0 + o);
      c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
      x = v128.load32_splat(a1 + o);
      c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
      x = v128.load32_splat(a2 + o);
      c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
      x = v128.load32_splat(a3 + o);
      c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
      pb += rs;
    }
    const po = out + (<usize>j << 2);
    v128.store(po, f32x4.mul(c00, sc)); v128.store(po, f32x4.mul(c01, sc), 16);
    v128.store(po + rs, f32x4.mul(c10, sc)); v128.store(po + rs, f32x4.mul(c11, sc), 16);
    v128.store(po + 2 * rs, f32x4.mul(c20, sc)); v128.store(po + 2 * rs, f32x4.mul(c21, sc), 16);
    v128.store(po + 3 * rs, f32x4.mul(c30, sc)); v128.store(po + 3 * rs, f32x4.mul(c31, sc), 16);
  }
  if (j < jn4) {
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

/**
 * out_r = s_r·Σ_{j<jn} w[r][j]·B_j for r < nr: w rows `rs` bytes apart (rows past nr are read but
 * unused), B and out rows of `wb` floats (a multiple of 4), `ldb` floats apart. Tiles of 4 rows ×
 * 8 floats of the head dim: per key, two vector loads of B and four broadcasts of w serve eight
 * multiply-adds.
 */
function weightsTimesRows(w: usize, rs: usize, nr: i32, jn: i32, B: usize, ldb: i32, wb: i32, out: usize, s0: f32, s1: f32, s2: f32, s3: f32): void {
  const bs = <usize>ldb << 2;
  let e = 0;
  for (; e + 8 <= wb; e += 8) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    let pb = B + (<usize>e << 2);
    for (let j = 0; j < jn; j++) {
      const b0 = v128.load(pb), b1 = v128.load(pb, 16);
      const pw = w + (<usize>j << 2);
      let x = v128.load32_splat(pw);
      c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
      x = v128.load32_splat(pw + rs);
      c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
      x = v128.load32_splat(pw + 2 * rs);
      c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
      x = v128.load32_splat(pw + 3 * rs);
      c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
      pb += bs;
    }
    const o = out + (<usize>e << 2);
    let v = f32x4.splat(s0);
    v128.store(o, f32x4.mul(c00, v)); v128.store(o, f32x4.mul(c01, v), 16);
    if (nr > 1) { v = f32x4.splat(s1); v128.store(o + bs, f32x4.mul(c10, v)); v128.store(o + bs, f32x4.mul(c11, v), 16); }
    if (nr > 2) { v = f32x4.splat(s2); v128.store(o + 2 * bs, f32x4.mul(c20, v)); v128.store(o + 2 * bs, f32x4.mul(c21, v), 16); }
    if (nr > 3) { v = f32x4.splat(s3); v128.store(o + 3 * bs, f32x4.mul(c30, v)); v128.store(o + 3 * bs, f32x4.mul(c31, v), 16); }
  }
  if (e < wb) {
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
    let pb = B + (<usize>e << 2);
    for (let j = 0; j < jn; j++) {
      const bv = v128.load(pb);
      const pw = w + (<usize>j << 2);
      c0 = madd(v128.load32_splat(pw), bv, c0);
      c1 = madd(v128.load32_splat(pw + rs), bv, c1);
      c2 = madd(v128.load32_splat(pw + 2 * rs), bv, c2);
      c3 = madd(v128.load32_splat(pw + 3 * rs), bv, c3);
      pb += bs;
    }
    const o = out + (<usize>e << 2);
    v128.store(o, f32x4.mul(c0, f32x4.splat(s0)));
    if (nr > 1) v128.store(o + bs, f32x4.mul(c1, f32x4.splat(s1)));
    if (nr > 2) v128.store(o + 2 * bs, f32x4.mul(c2, f32x4.splat(s2)));
    if (nr > 3) v128.store(o + 3 * bs, f32x4.mul(c3, f32x4.splat(s3)));
  }
}

/**
 * dB_j += s·Σ_{r<nr} w[r][j]·A_r for j < jn: w rows `rs` bytes apart, A and dB rows of `wa` floats (a
 * multiple of 4), `ld` floats apart. Tiles of 4 keys × 8 floats kept in registers over all nr rows.
 * Row r's weights are 0 for keys j > r + first (causal: first = the block's first query; otherwise pass
 * first ≥ jn): the tile of keys j0… starts at row j0 − first, as the rows above add nothing.
 */
function weightsTTimesRows(w: usize, rs: usize, nr: i32, jn: i32, first: i32, A: usize, ld: i32, wa: i32, dB: usize, s: f32): void {
  const ls = <usize>ld << 2;
  const sv = f32x4.splat(s);
  for (let j0 = 0; j0 < jn; j0 += 4) {
    const jb = min(4, jn - j0), r0 = max(0, j0 - first);
    // rows of dB past jn are not touched: tiles short of 4 keys use key j0 again and do not store it
    const d0 = dB + <usize>j0 * ls, d1 = dB + <usize>(j0 + min(1, jb - 1)) * ls, d2 = dB + <usize>(j0 + min(2, jb - 1)) * ls, d3 = dB + <usize>(j0 + min(3, jb - 1)) * ls;
    const pw = w + (<usize>j0 << 2);
    let e = 0;
    for (; e + 8 <= wa; e += 8) {
      const o = <usize>e << 2;
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      for (let r = r0; r < nr; r++) {
        const pa = A + <usize>r * ls + o;
        const a0 = v128.load(pa), a1 = v128.load(pa, 16);
        const pr = pw + <usize>r * rs;
        let x = v128.load32_splat(pr);
        c00 = madd(x, a0, c00); c01 = madd(x, a1, c01);
        x = v128.load32_splat(pr, 4);
        c10 = madd(x, a0, c10); c11 = madd(x, a1, c11);
        x = v128.load32_splat(pr, 8);
        c20 = madd(x, a0, c20); c21 = madd(x, a1, c21);
        x = v128.load32_splat(pr, 12);
        c30 = madd(x, a0, c30); c31 = madd(x, a1, c31);
      }
      v128.store(d0 + o, madd(c00, sv, v128.load(d0 + o))); v128.store(d0 + o, madd(c01, sv, v128.load(d0 + o, 16)), 16);
      if (jb > 1) { v128.store(d1 + o, madd(c10, sv, v128.load(d1 + o))); v128.store(d1 + o, madd(c11, sv, v128.load(d1 + o, 16)), 16); }
      if (jb > 2) { v128.store(d2 + o, madd(c20, sv, v128.load(d2 + o))); v128.store(d2 + o, madd(c21, sv, v128.load(d2 + o, 16)), 16); }
      if (jb > 3) { v128.store(d3 + o, madd(c30, sv, v128.load(d3 + o))); v128.store(d3 + o, madd(c31, sv, v128.load(d3 + o, 16)), 16); }
    }
    if (e < wa) {
      const o = <usize>e << 2;
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      for (let r = r0; r < nr; r++) {
        const a0 = v128.load(A + <usize>r * ls + o);
        const pr = pw + <usize>r * rs;
        c0 = madd(v128.load32_splat(pr), a0, c0);
        c1 = madd(v128.load32_splat(pr, 4), a0, c1);
        c2 = madd(v128.load32_splat(pr, 8), a0, c2);
        c3 = madd(v128.load32_splat(pr, 12), a0, c3);
      }
      v128.store(d0 + o, madd(c0, sv, v128.load(d0 + o)));
      if (jb > 1) v128.store(d1 + o, madd(c1, sv, v128.load(d1 + o)));
      if (jb > 2) v128.store(d2 + o, madd(c2, sv, v128.load(d2 + o)));
      if (jb > 3) v128.store(d3 + o, madd(c3, sv, v128.load(d3 + o)));
    }
  }
}

/**
 * (Σ lanes of a, of b, of c, of d) in one vector, each summed as hsum does: lanes 0 + 2 and 1 + 3 first,
 * then those two; with max for + it is hmax of each.
 */
// @ts-ignore: decorator
@inline function lanes4(max: bool, a: v128, b: v128, c: v128, d: v128): v128 {
  a = max ? f32x4.max(a, v128.shuffle<f32>(a, a, 2, 3, 0, 1)) : f32x4.add(a, v128.shuffle<f32>(a, a, 2, 3, 0, 1));
  b = max ? f32x4.max(b, v128.shuffle<f32>(b, b, 2, 3, 0, 1)) : f32x4.add(b, v128.shuffle<f32>(b, b, 2, 3, 0, 1));
  c = max ? f32x4.max(c, v128.shuffle<f32>(c, c, 2, 3, 0, 1)) : f32x4.add(c, v128.shuffle<f32>(c, c, 2, 3, 0, 1));
  d = max ? f32x4.max(d, v128.shuffle<f32>(d, d, 2, 3, 0, 1)) : f32x4.add(d, v128.shuffle<f32>(d, d, 2, 3, 0, 1));
  // (a0 b0 a1 b1), (c0 d0 c1 d1) → (a0 b0 c0 d0) op (a1 b1 c1 d1)
  const ab = v128.shuffle<f32>(a, b, 0, 4, 1, 5), cd = v128.shuffle<f32>(c, d, 0, 4, 1, 5);
  const lo = v128.shuffle<f32>(ab, cd, 0, 1, 4, 5), hi = v128.shuffle<f32>(ab, cd, 2, 3, 6, 7);
  return max ? f32x4.max(lo, hi) : f32x4.add(lo, hi);
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

/** Forward of slice b: y (tq × wv) and lse (tq). */
export function attentionForward(P: usize, b: i32, scratch: usize): void {
  const tq = load<i32>(P, A_TQ), tk = load<i32>(P, A_TK), d = load<i32>(P, A_D);
  const ldq = load<i32>(P, A_LDQ), ldv = load<i32>(P, A_LDV), H = load<i32>(P, A_HEADS);
  const wq = load<i32>(P, A_WQ), wv = load<i32>(P, A_WV);
  const scale = load<f32>(P, A_SCALE), causal = load<i32>(P, A_CAUSAL) != 0;
  const tkp = (tk + 3) & ~3;
  const q = sliceAt(load<i32>(P, A_Q), b, H, tq, ldq, wq);
  const k = sliceAt(load<i32>(P, A_K), b, H, tk, ldq, wq);
  const v = sliceAt(load<i32>(P, A_V), b, H, tk, ldv, wv);
  const y = sliceAt(load<i32>(P, A_Y), b, H, tq, ldv, wv);
  const lse = <usize>load<i32>(P, A_LSE) + (<usize>(b * tq) << 2);
  const kT = scratch, S = kT + (<usize>(wq * tkp) << 2);
  const rs = <usize>tkp << 2;
  transpose(k, ldq, tk, tkp, d, kT);
  for (let i0 = 0; i0 < tq; i0 += 4) {
    const nr = min(4, tq - i0);
    // keys any row of this block sees: j < jn
    const jn = causal ? min(i0 + nr, tk) : tk, jn4 = (jn + 3) & ~3;
    // S_rj = scale·q_r·k_j
    rowsTimesT(q + (<usize>(i0 * ldq) << 2), ldq, nr, kT, tkp, d, jn4, scale, S);
    for (let r = 0; r < nr; r++) maskRow(P, S + <usize>r * rs, b, i0 + r, causal ? min(i0 + r, tk - 1) : tk - 1, jn4);
    // The four rows side by side (rows past nr repeat a valid one unmasked; their results are dropped):
    // m_r = max_j s_rj
    const s0 = S, s1 = S + rs, s2 = S + 2 * rs, s3 = S + 3 * rs;
    let m0 = kc(K_NEG_INF), m1 = m0, m2 = m0, m3 = m0;
    for (let j = 0; j < jn4; j += 4) {
      const o = <usize>j << 2;
      m0 = f32x4.max(m0, v128.load(s0 + o));
      m1 = f32x4.max(m1, v128.load(s1 + o));
      m2 = f32x4.max(m2, v128.load(s2 + o));
      m3 = f32x4.max(m3, v128.load(s3 + o));
    }
    const m = lanes4(true, m0, m1, m2, m3); // (m_0, m_1, m_2, m_3)
    // P_rj = e^{s_rj − m_r} (stored over s);  l_r = Σ_j P_rj
    const n0 = v128.shuffle<f32>(m, m, 0, 0, 0, 0), n1 = v128.shuffle<f32>(m, m, 1, 1, 1, 1);
    const n2 = v128.shuffle<f32>(m, m, 2, 2, 2, 2), n3 = v128.shuffle<f32>(m, m, 3, 3, 3, 3);
    let l0 = f32x4.splat(0), l1 = l0, l2 = l0, l3 = l0;
    for (let j = 0; j < jn4; j += 4) {
      const o = <usize>j << 2;
      const p0 = exp4(f32x4.sub(v128.load(s0 + o), n0)), p1 = exp4(f32x4.sub(v128.load(s1 + o), n1));
      const p2 = exp4(f32x4.sub(v128.load(s2 + o), n2)), p3 = exp4(f32x4.sub(v128.load(s3 + o), n3));
      v128.store(s0 + o, p0); v128.store(s1 + o, p1); v128.store(s2 + o, p2); v128.store(s3 + o, p3);
      l0 = f32x4.add(l0, p0); l1 = f32x4.add(l1, p1); l2 = f32x4.add(l2, p2); l3 = f32x4.add(l3, p3);
    }
    const l = lanes4(false, l0, l1, l2, l3); // (l_0, l_1, l_2, l_3)
    // lse_i = m_i + log l_i  (a fully masked row: m = −inf, P = NaN, as the reference)
    const ls = f32x4.add(m, logf4(l)), pl = lse + (<usize>i0 << 2);
    if (nr == 4) v128.store(pl, ls);
    else {
      store<f32>(pl, f32x4.extract_lane(ls, 0));
      if (nr > 1) store<f32>(pl, f32x4.extract_lane(ls, 1), 4);
      if (nr > 2) store<f32>(pl, f32x4.extract_lane(ls, 2), 8);
    }
    // y_r = (Σ_j P_rj·v_j) / l_r
    const il = f32x4.div(f32x4.splat(1), l);
    const yo = y + (<usize>(i0 * ldv) << 2);
    weightsTimesRows(S, rs, nr, jn, v, ldv, wv, yo, f32x4.extract_lane(il, 0), f32x4.extract_lane(il, 1), f32x4.extract_lane(il, 2), f32x4.extract_lane(il, 3));
  }
}

/**
 * Backward of slice b: dq (tq × wq, overwritten), dk (tk × wq) and dv (tk × wv) (overwritten: zeroed
 * here, then accumulated over the query blocks), dmask (tq × tk, when given; zeroed by the caller).
 * Query blocks of QB rows: their probabilities P and score gradients dS are kept, so dk and dv are
 * read and written once per block.
 */
export function attentionBackward(P: usize, b: i32, scratch: usize): void {
  const tq = load<i32>(P, A_TQ), tk = load<i32>(P, A_TK), d = load<i32>(P, A_D), dvs = load<i32>(P, A_DV);
  const ldq = load<i32>(P, A_LDQ), ldv = load<i32>(P, A_LDV), H = load<i32>(P, A_HEADS);
  const wq = load<i32>(P, A_WQ), wv = load<i32>(P, A_WV);
  const scale = load<f32>(P, A_SCALE), causal = load<i32>(P, A_CAUSAL) != 0;
  const tkp = (tk + 3) & ~3;
  const q = sliceAt(load<i32>(P, A_Q), b, H, tq, ldq, wq);
  const k = sliceAt(load<i32>(P, A_K), b, H, tk, ldq, wq);
  const v = sliceAt(load<i32>(P, A_V), b, H, tk, ldv, wv);
  const y = sliceAt(load<i32>(P, A_Y), b, H, tq, ldv, wv);
  const lse = <usize>load<i32>(P, A_LSE) + (<usize>(b * tq) << 2);
  const dy = sliceAt(load<i32>(P, A_DY), b, H, tq, ldv, wv);
  const dq = sliceAt(load<i32>(P, A_DQ), b, H, tq, ldq, wq);
  const dk = sliceAt(load<i32>(P, A_DK), b, H, tk, ldq, wq);
  const dv = sliceAt(load<i32>(P, A_DVO), b, H, tk, ldv, wv);
  const dmaskBase = <usize>load<i32>(P, A_DMASK);
  const rs = <usize>tkp << 2;
  const kT = scratch, vT = kT + (<usize>(wq * tkp) << 2);
  const S = vT + (<usize>(wv * tkp) << 2); // QB rows of scores, then of dS
  const Pb = S + QB * rs, dP = Pb + QB * rs; // QB rows of probabilities and of dP = dy·vᵀ
  transpose(k, ldq, tk, tkp, d, kT);
  transpose(v, ldv, tk, tkp, dvs, vT);
  const qs = <usize>ldq << 2, vs = <usize>ldv << 2;
  // dk = 0, dv = 0: vector stores (rows are short; a memory.fill per row costs more than its stores)
  const zero = f32x4.splat(0);
  for (let j = 0; j < tk; j++) {
    const pk = dk + <usize>j * qs, pv = dv + <usize>j * vs;
    for (let e = 0; e < wq; e += 4) v128.store(pk + (<usize>e << 2), zero);
    for (let e = 0; e < wv; e += 4) v128.store(pv + (<usize>e << 2), zero);
  }
  for (let q0 = 0; q0 < tq; q0 += QB) {
    const nq = min(QB, tq - q0);
    const jn = causal ? min(q0 + nq, tk) : tk, jn4 = (jn + 3) & ~3;
    for (let i0 = q0; i0 < q0 + nq; i0 += 4) {
      const nr = min(4, q0 + nq - i0), ro = <usize>(i0 - q0) * rs;
      // causal: these four rows see keys j < i0 + nr only; each row's P and dS are set to 0 below past
      // the keys it sees, up to the block's jn4 (dP there is never used: a hidden entry's dS is 0)
      const jr4 = causal ? (min(i0 + nr, tk) + 3) & ~3 : jn4;
      // forward: s = scale·q·kᵀ + mask;  dP = dy·vᵀ
      rowsTimesT(q + <usize>i0 * qs, ldq, nr, kT, tkp, d, jr4, scale, S + ro);
      rowsTimesT(dy + <usize>i0 * vs, ldv, nr, vT, tkp, dvs, jr4, 1, dP + ro);
    }
    for (let r = 0; r < nq; r++) {
      const i = q0 + r, last = causal ? min(i, tk - 1) : tk - 1;
      // causal: the keys row i sees end in its vector jr4 − 4; P and dS past it, up to the block's jn4, are 0
      const jr4 = causal ? (last + 4) & ~3 : jn4;
      const srow = S + <usize>r * rs, prow = Pb + <usize>r * rs, dprow = dP + <usize>r * rs;
      maskRow(P, srow, b, i, last, jr4);
      // D_i = Σ_e dy_ie·y_ie
      let dd = f32x4.splat(0);
      for (let e = 0; e < wv; e += 4) dd = madd(v128.load(dy + (<usize>(i * ldv + e) << 2)), v128.load(y + (<usize>(i * ldv + e) << 2)), dd);
      const Di = f32x4.splat(hsum(dd));
      const li = v128.load32_splat(lse + (<usize>i << 2));
      for (let j = 0; j < jr4; j += 4) {
        const o = <usize>j << 2;
        const s = v128.load(srow + o);
        // forward: P_ij = e^{s_ij − lse_i}; a masked key (s = −inf) takes no part at all
        const hidden = f32x4.eq(s, kc(K_NEG_INF));
        const p = v128.bitselect(f32x4.splat(0), exp4(f32x4.sub(s, li)), hidden);
        // forward: P_i = softmax(s_i)  ⇒  dS_ij = P_ij·(dP_ij − D_i)
        const ds = v128.bitselect(f32x4.splat(0), f32x4.mul(p, f32x4.sub(v128.load(dprow + o), Di)), hidden);
        v128.store(prow + o, p);
        v128.store(srow + o, ds);
      }
      for (let j = jr4; j < jn4; j += 4) {
        v128.store(prow + (<usize>j << 2), zero);
        v128.store(srow + (<usize>j << 2), zero);
      }
      if (dmaskBase != 0) {
        const dm = dmaskBase + (<usize>((b * tq + i) * tk) << 2);
        for (let j = 0; j < jn; j++) store<f32>(dm + (<usize>j << 2), load<f32>(srow + (<usize>j << 2)));
      }
    }
    // forward: y_i = Σ_j P_ij·v_j  ⇒  dv_j += Σ_i P_ij·dy_i
    // (causal: P and dS of row q0 + r are 0 past key q0 + r, so those products are skipped)
    const first = causal ? q0 : jn;
    weightsTTimesRows(Pb, rs, nq, jn, first, dy + <usize>q0 * vs, ldv, wv, dv, 1);
    // forward: s_ij = q_i·k_j·scale  ⇒  dk_j += scale·Σ_i dS_ij·q_i,  dq_i = scale·Σ_j dS_ij·k_j
    weightsTTimesRows(S, rs, nq, jn, first, q + <usize>q0 * qs, ldq, wq, dk, scale);
    for (let i0 = q0; i0 < q0 + nq; i0 += 4) {
      const nr = min(4, q0 + nq - i0), jr = causal ? min(i0 + nr, tk) : jn;
      weightsTimesRows(S + <usize>(i0 - q0) * rs, rs, nr, jr, k, ldq, wq, dq + <usize>i0 * qs, scale, scale, scale, scale);
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
