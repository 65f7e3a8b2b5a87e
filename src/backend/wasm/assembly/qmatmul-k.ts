// AssemblyScript: the product on the k-quants' 256-weight blocks, Y (T × N) = X (T × K) · Wᵀ, W (N × K) kept as
// N rows of K/256 blocks (Q4_K: 144 bytes, Q5_K: 176, Q6_K: 210; the layouts are drawn in
// ../../reference/qmatmul-k.ts, the spec), X rounded to Q8_K by the JavaScript side (../qmatmul.ts) as ggml
// does for these types: per block of 256 the values q_x as int16 in their own order, one float32 scale d_x,
// and the sixteen sums of q_x over 16 values (bsums, int32).
//
// One row of W against one row of X at a time; per block, the weights are unpacked to bytes by masks and byte
// shifts, widened to 16-bit lanes (i16x8.extend_low/high_i8x16) and multiplied with i32x4.dot_i16x8_s; the
// sub-block sums are multiplied by their integer scale in i32x4 lanes:
//   isum = Σ_s sc_s · Σ_{i∈s} q_w·q_x     imin = Σ_s m_s · Σ_{i∈s} q_x (from the bsums)      (exact integers)
//   y += (d·d_x)·float(isum);   y −= (dmin·d_x)·float(imin)     (Q4_K, Q5_K: w = d·sc·q − dmin·m)
//   y += (d·d_x)·float(isum)                                    (Q6_K: w = d·sc·(q − 32), no minimum)
// in float32, block by block — the reference's operations in the reference's order, so its bits.
//
//   Q4_K  [ d: 2 ][ dmin: 2 ][ scales: 12 (8 × 6-bit sc, 8 × 6-bit m) ][ qs: 128 ]
//         chunk c = 0…3: 32 bytes; low nibbles → weights 64c…64c+31 (sub-block 2c), high → 64c+32… (2c+1)
//   Q5_K  [ d ][ dmin ][ scales: 12 ][ qh: 32 ][ qs: 128 ]   the fifth bit of weight 64c+l: bit 2c of qh[l],
//         of 64c+32+l: bit 2c+1
//   Q6_K  [ ql: 128 ][ qh: 64 ][ scales: 16 × int8 ][ d: 2 ]  per half n: ql[64n+l], ql[64n+32+l], qh[32n+l]
//         → weights 128n + l, +32, +64, +96 (low, low, high, high nibbles; qh bits 0-1, 2-3, 4-5, 6-7)

import { halvesToF32 } from "./qmatmul";

const TYPE_Q4_K = 2, TYPE_Q5_K = 3; // 4: Q6_K

/** Σ of the four i32 lanes. */
// @ts-ignore: decorator
@inline function hsum(s: v128): i32 {
  const t = i32x4.add(s, i32x4.shuffle(s, s, 2, 3, 0, 1));
  return i32x4.extract_lane(t, 0) + i32x4.extract_lane(t, 1);
}

/** Σ_{i<16} w_i·x_i for 16 bytes of weights w (unsigned, or signed with `signed`) against 16 int16 at x. */
// @ts-ignore: decorator
@inline function dot16u(w: v128, x: usize): v128 {
  return i32x4.add(
    i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(w), v128.load(x)),
    i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(w), v128.load(x, 16)),
  );
}
// @ts-ignore: decorator
@inline function dot16s(w: v128, x: usize): v128 {
  return i32x4.add(
    i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w), v128.load(x)),
    i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w), v128.load(x, 16)),
  );
}

/** Scale (sc) or minimum (m) j of the 12 packed 6-bit values at q: ggml's get_scale_min_k4. */
// @ts-ignore: decorator
@inline function scaleK4(q: usize, j: i32): i32 {
  return j < 4 ? <i32>load<u8>(q + j) & 63 : (<i32>load<u8>(q + j + 4) & 15) | ((<i32>load<u8>(q + j - 4) >> 6) << 4);
}
// @ts-ignore: decorator
@inline function minK4(q: usize, j: i32): i32 {
  return j < 4 ? <i32>load<u8>(q + j + 4) & 63 : (<i32>load<u8>(q + j + 4) >> 4) | ((<i32>load<u8>(q + j) >> 6) << 4);
}

/** Rows [j0, j1) of W (clamped to N) against all T rows of X; type 2 Q4_K, 3 Q5_K, 4 Q6_K. */
export function kquantRows(type: i32, W: usize, xq: usize, xd: usize, xs: usize, Y: usize, T: i32, N: i32, K: i32, j0: i32, j1: i32): void {
  const nb = K >> 8;
  const bytes: usize = type == TYPE_Q4_K ? 144 : type == TYPE_Q5_K ? 176 : 210;
  const rowBytes = <usize>nb * bytes;
  const m15 = i8x16.splat(15), m3 = i8x16.splat(3), m1 = i8x16.splat(1), c32 = i8x16.splat(32);
  const jEnd = min(j1, N);
  for (let j = j0; j < jEnd; j++) {
    const w = W + <usize>j * rowBytes;
    for (let t = 0; t < T; t++) {
      const xrow = xq + (<usize>t * <usize>K << 1), drow = xd + (<usize>(t * nb) << 2), srow = xs + (<usize>(t * nb) << 6);
      let y: f32 = 0;
      for (let b = 0; b < nb; b++) {
        const p = w + <usize>b * bytes, x = xrow + (<usize>b << 9), bs = srow + (<usize>b << 6);
        const dx = load<f32>(drow + (<usize>b << 2));
        let acc = i32x4.splat(0);
        if (type != TYPE_Q4_K && type != TYPE_Q5_K) {
          // Q6_K: two halves of 128 weights, sub-blocks of 16 with int8 scales
          for (let n: usize = 0; n < 2; n++) {
            const ql = p + (n << 6), qh = p + 128 + (n << 5), sc = p + 192 + (n << 3), xn = x + (n << 8);
            for (let l: usize = 0; l < 32; l += 16) {
              const a = v128.load(ql + l), c = v128.load(ql + 32 + l), h = v128.load(qh + l);
              const q1 = i8x16.sub(v128.or(v128.and(a, m15), i8x16.shl(v128.and(h, m3), 4)), c32);
              const q2 = i8x16.sub(v128.or(v128.and(c, m15), i8x16.shl(v128.and(i8x16.shr_u(h, 2), m3), 4)), c32);
              const q3 = i8x16.sub(v128.or(i8x16.shr_u(a, 4), i8x16.shl(v128.and(i8x16.shr_u(h, 4), m3), 4)), c32);
              const q4 = i8x16.sub(v128.or(i8x16.shr_u(c, 4), i8x16.shl(i8x16.shr_u(h, 6), 4)), c32);
              const s = l >> 4; // sub-block of 16 within each group of 32
              acc = i32x4.add(acc, i32x4.mul(dot16s(q1, xn + (l << 1)), i32x4.splat(<i32>load<i8>(sc + s))));
              acc = i32x4.add(acc, i32x4.mul(dot16s(q2, xn + ((32 + l) << 1)), i32x4.splat(<i32>load<i8>(sc + 2 + s))));
              acc = i32x4.add(acc, i32x4.mul(dot16s(q3, xn + ((64 + l) << 1)), i32x4.splat(<i32>load<i8>(sc + 4 + s))));
              acc = i32x4.add(acc, i32x4.mul(dot16s(q4, xn + ((96 + l) << 1)), i32x4.splat(<i32>load<i8>(sc + 6 + s))));
            }
          }
          const d = f32x4.extract_lane(halvesToF32(i32x4.splat(<i32>load<u16>(p + 208))), 0);
          y += (d * dx) * <f32>hsum(acc);
        } else {
          // Q4_K, Q5_K: four chunks of 64 weights, sub-blocks of 32 with 6-bit scales and minima
          const qs = p + (type == TYPE_Q4_K ? 16 : 48), sq = p + 4;
          const h0 = v128.load(p + 16), h1 = v128.load(p + 32); // Q5_K's qh (unused for Q4_K)
          let imin = 0;
          for (let c = 0; c < 4; c++) {
            const v0 = v128.load(qs + (<usize>c << 5)), v1 = v128.load(qs + (<usize>c << 5) + 16);
            let lo0 = v128.and(v0, m15), lo1 = v128.and(v1, m15), hi0 = i8x16.shr_u(v0, 4), hi1 = i8x16.shr_u(v1, 4);
            if (type == TYPE_Q5_K) {
              const sl = c << 1, sh = sl + 1;
              lo0 = v128.or(lo0, i8x16.shl(v128.and(i8x16.shr_u(h0, sl), m1), 4));
              lo1 = v128.or(lo1, i8x16.shl(v128.and(i8x16.shr_u(h1, sl), m1), 4));
              hi0 = v128.or(hi0, i8x16.shl(v128.and(i8x16.shr_u(h0, sh), m1), 4));
              hi1 = v128.or(hi1, i8x16.shl(v128.and(i8x16.shr_u(h1, sh), m1), 4));
            }
            const xc = x + (<usize>c << 7); // weights 64c…: 128 bytes of int16
            const plo = i32x4.add(dot16u(lo0, xc), dot16u(lo1, xc + 32));
            const phi = i32x4.add(dot16u(hi0, xc + 64), dot16u(hi1, xc + 96));
            acc = i32x4.add(acc, i32x4.mul(plo, i32x4.splat(scaleK4(sq, 2 * c))));
            acc = i32x4.add(acc, i32x4.mul(phi, i32x4.splat(scaleK4(sq, 2 * c + 1))));
            const b4 = bs + (<usize>c << 4); // bsums 4c … 4c+3
            imin += minK4(sq, 2 * c) * (load<i32>(b4) + load<i32>(b4, 4)) + minK4(sq, 2 * c + 1) * (load<i32>(b4, 8) + load<i32>(b4, 12));
          }
          const dd = halvesToF32(i32x4.extend_low_i16x8_u(v128.load32_zero(p))); // d, dmin in lanes 0, 1
          const d = f32x4.extract_lane(dd, 0), dmin = f32x4.extract_lane(dd, 1);
          y += (d * dx) * <f32>hsum(acc);
          y -= (dmin * dx) * <f32>imin;
        }
      }
      store<f32>(Y + <usize>t * (<usize>N << 2) + (<usize>j << 2), y);
    }
  }
}
