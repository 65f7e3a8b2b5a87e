// AssemblyScript: the product on GGML blocks, Y (T × N) = X (T × K) · Wᵀ with W (N × K) kept as N rows of
// K/32 blocks (Q8_0: 34 bytes, Q4_0: 18 bytes; the layouts are drawn in ../../reference/qmatmul.ts, the
// spec). X arrives already rounded to Q8_0 by the JavaScript side (../qmatmul.ts): the values q_x as int16,
// in the order the weights unpack (below), one float32 scale d_x per block of 32 and the block's Σq_x.
// (The k-quants Q4_K, Q5_K, Q6_K, on 256-weight blocks against Q8_K activations, are ./qmatmul-k.ts.)
//
// Four rows of W at a time against one row of X: per block b, four integer dot products of 32 pairs with
// i32x4.dot_i16x8_s (one pmaddwd on x86). The weights are widened to 16-bit lanes by shifts and masks of
// 16-bit lanes — no byte shuffles, which x86 runs on a single port:
//   Q8_0  16 bytes as eight 16-bit lanes:  (v << 8) >> 8 (signed) = the even bytes q_0, q_2, …, q_14,
//                                          v >> 8 (signed) = the odd bytes q_1, …, q_15;  the same for q_16…q_31
//         x order per block:  x_0 x_2 … x_14 | x_1 … x_15 | x_16 … x_30 | x_17 … x_31
//   Q4_0  16 bytes of nibbles, each left where it lies in its 16-bit lane, one mask each:
//           v & 0x000F = nib_0, nib_2, …     v & 0x00F0 = 16·nib_16, 16·nib_18, …
//           v & 0x0F00 = 256·nib_1, …        v >> 12    = nib_17, nib_19, …
//         against x order  256·x_0 … 256·x_14 | x_1 … x_15 | 16·x_16 … 16·x_30 | 256·x_17 … 256·x_31
//         (the JavaScript side scales q_x, |q_x| ≤ 127 so 256·q_x fits int16): every product is 256·nib·q_x,
//         and Σ nib·q_x = (Σ of the four dot products) >> 8, exactly — three masks and a shift instead of
//         three shifts and three masks. Then Σ (nib − 8)·q_x = that − 8·Σq_x.
//         The weights are repacked once, when they are copied into wasm memory (../qmatmul.ts), as ggml's
//         CPU backend repacks Q4_0 for its SIMD kernels: per group of four rows and per block, the four
//         scales as float32 (exact: every half is a float32) then the four rows' 16 bytes of nibbles,
//           [ d_0 d_1 d_2 d_3: 4 × f32 ][ nibbles of row 0: 16 ][ row 1: 16 ][ row 2: 16 ][ row 3: 16 ]  80 bytes
//         one stream of memory per four rows, the scales one load instead of four half conversions.
// their four horizontal sums gathered into one i32x4, the four rows' scales d_w in four lanes,
// then in the four float32 lanes
//   y_r += (d_w[r][b]·d_x[b]) · sumi_r          (f32x4.mul and f32x4.add: never fused, block order kept)
// — each lane does the reference's float32 operations in the reference's order, so the result is the
// reference's bit for bit. The four rows' blocks (≤ 7 KB for K = 3072) stay in L1 while T rows of X pass.
//
// Tasks (the pool's) take runs of ROWS (a multiple of 4) rows of W: [task·ROWS, (task+1)·ROWS).

import { kquantRows } from "./qmatmul-k";

// parameter block (i32 fields, byte offsets), written by ../qmatmul.ts
const Q_TYPE = 4, Q_W = 8, Q_XQ = 12, Q_XD = 16, Q_Y = 20, Q_T = 24, Q_N = 28, Q_K = 32, Q_ROWS = 36, Q_XS = 40;
const TYPE_Q8_0 = 0, TYPE_Q4_0 = 1; // 2, 3, 4: Q4_K, Q5_K, Q6_K (./qmatmul-k.ts)
/** Bytes of one block of four rows of repacked Q4_0 (above). */
const Q4_0X4_BYTES = 80;

/**
 * Four IEEE halves (the low 16 bits of each i32 lane) → four float32, exactly: the 15 bits placed under a
 * float32 exponent and scaled by 2^112 (normal and subnormal halves alike); infinities and NaN apart.
 */
// @ts-ignore: decorator
@inline export function halvesToF32(h: v128): v128 {
  const a = v128.and(h, i32x4.splat(0x7fff));
  const finite = f32x4.mul(i32x4.shl(a, 13), f32x4.splat(reinterpret<f32>(0x77800000)));
  const special = v128.or(i32x4.splat(0x7f800000), i32x4.shl(v128.and(a, i32x4.splat(0x3ff)), 13));
  const v = v128.bitselect(special, finite, i32x4.ge_s(a, i32x4.splat(0x7c00)));
  return v128.or(v, i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16));
}

/** Partial sums of one Q8_0 block (32 int8 at p) against the activations x0…x3 (int16, in the order above). */
// @ts-ignore: decorator
@inline function dotQ8(p: usize, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const v = v128.load(p), u = v128.load(p, 16);
  const s = i32x4.add(i32x4.dot_i16x8_s(i16x8.shr_s(i16x8.shl(v, 8), 8), x0), i32x4.dot_i16x8_s(i16x8.shr_s(v, 8), x1));
  return i32x4.add(s, i32x4.add(i32x4.dot_i16x8_s(i16x8.shr_s(i16x8.shl(u, 8), 8), x2), i32x4.dot_i16x8_s(i16x8.shr_s(u, 8), x3)));
}

/** Partial sums of 256·Σ nib·q_x for one Q4_0 block (16 bytes of nibbles at p) against the scaled x0…x3. */
// @ts-ignore: decorator
@inline function dotQ4(p: usize, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const v = v128.load(p);
  const s = i32x4.add(i32x4.dot_i16x8_s(v128.and(v, i16x8.splat(0x000f)), x0), i32x4.dot_i16x8_s(v128.and(v, i16x8.splat(0x0f00)), x1));
  return i32x4.add(s, i32x4.add(i32x4.dot_i16x8_s(v128.and(v, i16x8.splat(0x00f0)), x2), i32x4.dot_i16x8_s(i16x8.shr_u(v, 12), x3)));
}

/** [Σ lanes of s0, Σ s1, Σ s2, Σ s3]. */
// @ts-ignore: decorator
@inline export function hsum4(s0: v128, s1: v128, s2: v128, s3: v128): v128 {
  const t01 = i32x4.add(i32x4.shuffle(s0, s1, 0, 4, 1, 5), i32x4.shuffle(s0, s1, 2, 6, 3, 7)); // s0a+s0c s1a+s1c s0b+s0d s1b+s1d
  const t23 = i32x4.add(i32x4.shuffle(s2, s3, 0, 4, 1, 5), i32x4.shuffle(s2, s3, 2, 6, 3, 7));
  return i32x4.add(i32x4.shuffle(t01, t23, 0, 1, 4, 5), i32x4.shuffle(t01, t23, 2, 3, 6, 7));
}

/** Rows [j0, j1) of W (clamped to N) against all T rows of X: Q8_0, its blocks as stored. */
function qRowsQ8_0(W: usize, xq: usize, xd: usize, Y: usize, T: i32, N: i32, K: i32, j0: i32, j1: i32): void {
  const nb = K >> 5;
  const bytes: usize = 34;
  const rowBytes = <usize>nb * bytes;
  for (let j = j0; j < j1; j += 4) {
    // rows past N repeat row N−1 (their sums are never stored)
    const w0 = W + <usize>j * rowBytes;
    const w1 = W + <usize>min(j + 1, N - 1) * rowBytes, w2 = W + <usize>min(j + 2, N - 1) * rowBytes, w3 = W + <usize>min(j + 3, N - 1) * rowBytes;
    for (let t = 0; t < T; t++) {
      const xrow = xq + (<usize>t * <usize>K << 1), brow = <usize>(t * nb) << 2;
      let acc = f32x4.splat(0);
      let o: usize = 0;
      for (let b = 0; b < nb; b++, o += bytes) {
        const x = xrow + (<usize>b << 6);
        const x0 = v128.load(x), x1 = v128.load(x, 16), x2 = v128.load(x, 32), x3 = v128.load(x, 48);
        const s = hsum4(dotQ8(w0 + o + 2, x0, x1, x2, x3), dotQ8(w1 + o + 2, x0, x1, x2, x3), dotQ8(w2 + o + 2, x0, x1, x2, x3), dotQ8(w3 + o + 2, x0, x1, x2, x3));
        // the four rows' scales d_w: halves into the low 16 bits of four i32 lanes
        let h = i32x4.splat(0);
        h = v128.load16_lane(w0 + o, h, 0);
        h = v128.load16_lane(w1 + o, h, 2);
        h = v128.load16_lane(w2 + o, h, 4);
        h = v128.load16_lane(w3 + o, h, 6);
        // y += (d_w·d_x)·sumi
        const scale = f32x4.mul(halvesToF32(h), v128.load32_splat(xd + brow + (<usize>b << 2)));
        acc = f32x4.add(acc, f32x4.mul(scale, f32x4.convert_i32x4_s(s)));
      }
      storeRows(Y + <usize>t * (<usize>N << 2) + (<usize>j << 2), acc, N - j);
    }
  }
}

/** Rows [j0, j1) (j0 a multiple of 4) of W repacked as groups of four rows (above) against all T rows of X: Q4_0. */
function qRowsQ4_0(W: usize, xq: usize, xd: usize, xs: usize, Y: usize, T: i32, N: i32, K: i32, j0: i32, j1: i32): void {
  const nb = K >> 5;
  const groupBytes = <usize>nb * Q4_0X4_BYTES;
  for (let j = j0; j < j1; j += 4) {
    const wg = W + <usize>(j >> 2) * groupBytes;
    for (let t = 0; t < T; t++) {
      const xrow = xq + (<usize>t * <usize>K << 1), brow = <usize>(t * nb) << 2;
      let acc = f32x4.splat(0);
      let p = wg;
      for (let b = 0; b < nb; b++, p += Q4_0X4_BYTES) {
        const x = xrow + (<usize>b << 6);
        const x0 = v128.load(x), x1 = v128.load(x, 16), x2 = v128.load(x, 32), x3 = v128.load(x, 48);
        let s = hsum4(dotQ4(p + 16, x0, x1, x2, x3), dotQ4(p + 32, x0, x1, x2, x3), dotQ4(p + 48, x0, x1, x2, x3), dotQ4(p + 64, x0, x1, x2, x3));
        // Σ (nib − 8)·q_x = (256·Σ nib·q_x) >> 8 − 8·Σq_x   (the JavaScript side stores 8·Σq_x)
        s = i32x4.sub(i32x4.shr_s(s, 8), v128.load32_splat(xs + brow + (<usize>b << 2)));
        // y += (d_w·d_x)·sumi
        const scale = f32x4.mul(v128.load(p), v128.load32_splat(xd + brow + (<usize>b << 2)));
        acc = f32x4.add(acc, f32x4.mul(scale, f32x4.convert_i32x4_s(s)));
      }
      storeRows(Y + <usize>t * (<usize>N << 2) + (<usize>j << 2), acc, N - j);
    }
  }
}

/** The four lanes of acc to py (the first `left` of them where fewer than four rows remain). */
// @ts-ignore: decorator
@inline function storeRows(py: usize, acc: v128, left: i32): void {
  if (left >= 4) v128.store(py, acc);
  else {
    store<f32>(py, f32x4.extract_lane(acc, 0));
    if (left > 1) store<f32>(py, f32x4.extract_lane(acc, 1), 4);
    if (left > 2) store<f32>(py, f32x4.extract_lane(acc, 2), 8);
  }
}

/** One task of the product: rows [task·ROWS, (task + 1)·ROWS) of W. */
export function qmatmulTask(P: usize, task: i32): void {
  const n = load<i32>(P, Q_N), rows = load<i32>(P, Q_ROWS);
  const j0 = task * rows, j1 = min(n, j0 + rows);
  const type = load<i32>(P, Q_TYPE);
  const W = <usize>load<i32>(P, Q_W), xq = <usize>load<i32>(P, Q_XQ), xd = <usize>load<i32>(P, Q_XD), xs = <usize>load<i32>(P, Q_XS);
  const Y = <usize>load<i32>(P, Q_Y), T = load<i32>(P, Q_T), K = load<i32>(P, Q_K);
  if (type == TYPE_Q8_0) qRowsQ8_0(W, xq, xd, Y, T, n, K, j0, j1);
  else if (type == TYPE_Q4_0) qRowsQ4_0(W, xq, xd, xs, Y, T, n, K, j0, j1);
  else kquantRows(type, W, xq, xd, xs, Y, T, n, K, j0, j1);
}
