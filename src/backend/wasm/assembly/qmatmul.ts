// AssemblyScript: the product on GGML blocks, Y (T × N) = X (T × K) · Wᵀ with W (N × K) kept as N rows of
// K/32 blocks (Q8_0: 34 bytes, Q4_0: 18 bytes; the layouts are drawn in ../../reference/qmatmul.ts, the
// spec). X arrives already rounded to Q8_0 by the JavaScript side (../qmatmul.ts): int8 values q_x and one
// float32 scale d_x per block of 32.
//
// Four rows of W at a time against one row of X: per block b, four integer dot products of 32 int8 pairs
// (i16x8.extmul: the product of two int8 fits 15 bits, two of them 16; i32x4.extadd_pairwise), their four
// horizontal sums gathered into one i32x4, then in the four float32 lanes
//   y_r += (d_w[r][b]·d_x[b]) · sumi_r          (f32x4.mul and f32x4.add: never fused, block order kept)
// — each lane does the reference's float32 operations in the reference's order, so the result is the
// reference's bit for bit. The four rows' blocks (≤ 7 KB for K = 3072) stay in L1 while T rows of X pass.
//
// Tasks (the pool's) take runs of ROWS (a multiple of 4) rows of W: [task·ROWS, (task+1)·ROWS).

// parameter block (i32 fields, byte offsets), written by ../qmatmul.ts
const Q_TYPE = 4, Q_W = 8, Q_XQ = 12, Q_XD = 16, Q_Y = 20, Q_T = 24, Q_N = 28, Q_K = 32, Q_ROWS = 36;
const TYPE_Q8_0 = 0; // 1: Q4_0

/** IEEE half → float32, exact: the 15 bits placed under a float32 exponent, scaled by 2^112; inf/NaN apart. */
// @ts-ignore: decorator
@inline function halfToF32(h: u32): f32 {
  const a = h & 0x7fff;
  const v: f32 = a >= 0x7c00 ? reinterpret<f32>(0x7f800000 | ((a & 0x3ff) << 13)) : reinterpret<f32>(a << 13) * reinterpret<f32>(0x77800000);
  return (h & 0x8000) != 0 ? -v : v;
}

/** Σ a_i·b_i over 16 int8 pairs, as four partial i32 sums. */
// @ts-ignore: decorator
@inline function dot16(a: v128, b: v128): v128 {
  return i32x4.extadd_pairwise_i16x8_s(i16x8.add(i16x8.extmul_low_i8x16_s(a, b), i16x8.extmul_high_i8x16_s(a, b)));
}

/** Partial sums of one Q8_0 block (values at p) against 32 activations at x. */
// @ts-ignore: decorator
@inline function dotQ8(p: usize, x: usize): v128 {
  return i32x4.add(dot16(v128.load(p), v128.load(x)), dot16(v128.load(p, 16), v128.load(x, 16)));
}

/** Partial sums of one Q4_0 block (16 bytes of nibbles at p) against 32 activations at x. */
// @ts-ignore: decorator
@inline function dotQ4(p: usize, x: usize): v128 {
  const v = v128.load(p), eight = i8x16.splat(8);
  const lo = i8x16.sub(v128.and(v, i8x16.splat(0x0f)), eight); // q_0 … q_15
  const hi = i8x16.sub(i8x16.shr_u(v, 4), eight);                // q_16 … q_31
  return i32x4.add(dot16(lo, v128.load(x)), dot16(hi, v128.load(x, 16)));
}

/** [Σ lanes of s0, Σ s1, Σ s2, Σ s3]. */
// @ts-ignore: decorator
@inline function hsum4(s0: v128, s1: v128, s2: v128, s3: v128): v128 {
  const t01 = i32x4.add(i32x4.shuffle(s0, s1, 0, 4, 1, 5), i32x4.shuffle(s0, s1, 2, 6, 3, 7)); // s0a+s0c s1a+s1c s0b+s0d s1b+s1d
  const t23 = i32x4.add(i32x4.shuffle(s2, s3, 0, 4, 1, 5), i32x4.shuffle(s2, s3, 2, 6, 3, 7));
  return i32x4.add(i32x4.shuffle(t01, t23, 0, 1, 4, 5), i32x4.shuffle(t01, t23, 2, 3, 6, 7));
}

/** Rows [j0, j1) of W (clamped to N) against all T rows of X. */
function qmatmulRows(type: i32, W: usize, xq: usize, xd: usize, Y: usize, T: i32, N: i32, K: i32, j0: i32, j1: i32): void {
  const nb = K >> 5;
  const bytes: usize = type == TYPE_Q8_0 ? 34 : 18;
  const rowBytes = <usize>nb * bytes;
  const ys = <usize>N << 2;
  for (let j = j0; j < j1; j += 4) {
    // rows past N repeat row N−1 (their sums are never stored)
    const w0 = W + <usize>j * rowBytes;
    const w1 = W + <usize>min(j + 1, N - 1) * rowBytes, w2 = W + <usize>min(j + 2, N - 1) * rowBytes, w3 = W + <usize>min(j + 3, N - 1) * rowBytes;
    for (let t = 0; t < T; t++) {
      const xrow = xq + <usize>t * <usize>K, drow = xd + (<usize>(t * nb) << 2);
      let acc = f32x4.splat(0);
      let o: usize = 0;
      for (let b = 0; b < nb; b++, o += bytes) {
        const x = xrow + (<usize>b << 5);
        let s: v128;
        if (type == TYPE_Q8_0) s = hsum4(dotQ8(w0 + o + 2, x), dotQ8(w1 + o + 2, x), dotQ8(w2 + o + 2, x), dotQ8(w3 + o + 2, x));
        else s = hsum4(dotQ4(w0 + o + 2, x), dotQ4(w1 + o + 2, x), dotQ4(w2 + o + 2, x), dotQ4(w3 + o + 2, x));
        let dw = f32x4.splat(halfToF32(load<u16>(w0 + o)));
        dw = f32x4.replace_lane(dw, 1, halfToF32(load<u16>(w1 + o)));
        dw = f32x4.replace_lane(dw, 2, halfToF32(load<u16>(w2 + o)));
        dw = f32x4.replace_lane(dw, 3, halfToF32(load<u16>(w3 + o)));
        // y += (d_w·d_x)·sumi
        const scale = f32x4.mul(dw, v128.load32_splat(drow + (<usize>b << 2)));
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
  qmatmulRows(load<i32>(P, Q_TYPE), <usize>load<i32>(P, Q_W), <usize>load<i32>(P, Q_XQ), <usize>load<i32>(P, Q_XD), <usize>load<i32>(P, Q_Y),
    load<i32>(P, Q_T), n, load<i32>(P, Q_K), j0, j1);
}
