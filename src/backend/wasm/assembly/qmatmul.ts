// AssemblyScript: the product on GGML blocks, Y (T × N) = X (T × K) · Wᵀ with W (N × K) kept as N rows of
// K/32 blocks (Q8_0: 34 bytes, Q4_0: 18 bytes; the layouts are drawn in ../../reference/qmatmul.ts, the
// spec). X arrives already rounded to Q8_0 by the JavaScript side (../qmatmul.ts): the values q_x as int16,
// in the order the weights unpack (below), one float32 scale d_x per block of 32 and the block's Σq_x.
//
// Four rows of W at a time against one row of X: per block b, four integer dot products of 32 pairs with
// i32x4.dot_i16x8_s (one pmaddwd on x86). The weights are widened to 16-bit lanes by shifts and masks of
// 16-bit lanes — no byte shuffles, which x86 runs on a single port:
//   Q8_0  16 bytes as eight 16-bit lanes:  (v << 8) >> 8 (signed) = the even bytes q_0, q_2, …, q_14,
//                                          v >> 8 (signed) = the odd bytes q_1, …, q_15;  the same for q_16…q_31
//         x order per block:  x_0 x_2 … x_14 | x_1 … x_15 | x_16 … x_30 | x_17 … x_31
//   Q4_0  16 bytes of nibbles:  v & 15 = nib_0, nib_2, …;  (v >> 8) & 15 = nib_1, nib_3, …;
//         (v >> 4) & 15 = nib_16, nib_18, …;  (v >> 12) & 15 = nib_17, …    and Σ nib·q_x − 8·Σq_x (q_w = nib − 8)
//         x order per block:  x_0 x_2 … x_14 | x_1 … x_15 | x_16 … x_30 | x_17 … x_31   (the same)
// their four horizontal sums gathered into one i32x4, the four rows' half scales decoded in four lanes,
// then in the four float32 lanes
//   y_r += (d_w[r][b]·d_x[b]) · sumi_r          (f32x4.mul and f32x4.add: never fused, block order kept)
// — each lane does the reference's float32 operations in the reference's order, so the result is the
// reference's bit for bit. The four rows' blocks (≤ 7 KB for K = 3072) stay in L1 while T rows of X pass.
//
// Tasks (the pool's) take runs of ROWS (a multiple of 4) rows of W: [task·ROWS, (task+1)·ROWS).

// parameter block (i32 fields, byte offsets), written by ../qmatmul.ts
const Q_TYPE = 4, Q_W = 8, Q_XQ = 12, Q_XD = 16, Q_Y = 20, Q_T = 24, Q_N = 28, Q_K = 32, Q_ROWS = 36, Q_XS = 40;
const TYPE_Q8_0 = 0; // 1: Q4_0

/**
 * Four IEEE halves (the low 16 bits of each i32 lane) → four float32, exactly: the 15 bits placed under a
 * float32 exponent and scaled by 2^112 (normal and subnormal halves alike); infinities and NaN apart.
 */
// @ts-ignore: decorator
@inline function halvesToF32(h: v128): v128 {
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

/** Partial sums of Σ nib·q_x for one Q4_0 block (16 bytes of nibbles at p) against x0…x3. */
// @ts-ignore: decorator
@inline function dotQ4(p: usize, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const v = v128.load(p), m = i16x8.splat(15);
  const s = i32x4.add(i32x4.dot_i16x8_s(v128.and(v, m), x0), i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(v, 8), m), x1));
  return i32x4.add(s, i32x4.add(i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(v, 4), m), x2), i32x4.dot_i16x8_s(i16x8.shr_u(v, 12), x3)));
}

/** [Σ lanes of s0, Σ s1, Σ s2, Σ s3]. */
// @ts-ignore: decorator
@inline function hsum4(s0: v128, s1: v128, s2: v128, s3: v128): v128 {
  const t01 = i32x4.add(i32x4.shuffle(s0, s1, 0, 4, 1, 5), i32x4.shuffle(s0, s1, 2, 6, 3, 7)); // s0a+s0c s1a+s1c s0b+s0d s1b+s1d
  const t23 = i32x4.add(i32x4.shuffle(s2, s3, 0, 4, 1, 5), i32x4.shuffle(s2, s3, 2, 6, 3, 7));
  return i32x4.add(i32x4.shuffle(t01, t23, 0, 1, 4, 5), i32x4.shuffle(t01, t23, 2, 3, 6, 7));
}

/** Rows [j0, j1) of W (clamped to N) against all T rows of X. */
function qmatmulRows(type: i32, W: usize, xq: usize, xd: usize, xs: usize, Y: usize, T: i32, N: i32, K: i32, j0: i32, j1: i32): void {
  const nb = K >> 5;
  const bytes: usize = type == TYPE_Q8_0 ? 34 : 18;
  const rowBytes = <usize>nb * bytes;
  const ys = <usize>N << 2;
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
        let s: v128;
        if (type == TYPE_Q8_0) {
          s = hsum4(dotQ8(w0 + o + 2, x0, x1, x2, x3), dotQ8(w1 + o + 2, x0, x1, x2, x3), dotQ8(w2 + o + 2, x0, x1, x2, x3), dotQ8(w3 + o + 2, x0, x1, x2, x3));
        } else {
          s = hsum4(dotQ4(w0 + o + 2, x0, x1, x2, x3), dotQ4(w1 + o + 2, x0, x1, x2, x3), dotQ4(w2 + o + 2, x0, x1, x2, x3), dotQ4(w3 + o + 2, x0, x1, x2, x3));
          s = i32x4.sub(s, i32x4.shl(v128.load32_splat(xs + brow + (<usize>b << 2)), 3)); // − 8·Σq_x
        }
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
      const py = Y + <usize>t * ys + (<usize>j << 2);
      if (j + 4 <= N) v128.store(py, acc);
      else {
        store<f32>(py, f32x4.extract_lane(acc, 0));
        if (j + 1 < N) store<f32>(py, f32x4.extract_lane(acc, 1), 4);
        if (j + 2 < N) store<f32>(py, f32x4.extract_lane(acc, 2), 8);
      }
    }
  }
}

/** One task of the product: rows [task·ROWS, (task + 1)·ROWS) of W. */
export function qmatmulTask(P: usize, task: i32): void {
  const n = load<i32>(P, Q_N), rows = load<i32>(P, Q_ROWS);
  const j0 = task * rows, j1 = min(n, j0 + rows);
  qmatmulRows(load<i32>(P, Q_TYPE), <usize>load<i32>(P, Q_W), <usize>load<i32>(P, Q_XQ), <usize>load<i32>(P, Q_XD), <usize>load<i32>(P, Q_XS),
    <usize>load<i32>(P, Q_Y), load<i32>(P, Q_T), n, load<i32>(P, Q_K), j0, j1);
}
