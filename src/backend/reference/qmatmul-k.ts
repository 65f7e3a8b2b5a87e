// The reference kernel of the product on the k-quants' 256-weight blocks (Q4_K, Q5_K, Q6_K): the spec the
// wasm kernel (../wasm/assembly/qmatmul-k.ts) is tested against bit for bit. As ggml's CPU backend does for
// these types (ggml-quants.c quantize_row_q8_K_ref and the vec_dot_q*_K_q8_K, as facts), each row of x is
// rounded to Q8_K blocks of 256 and the block products are exact integer sums:
//
//   Q8_K (x)  max = the x of largest |x| (the first one), iscale = −127/max,
//             q_x = min(127, nearest_int(iscale·x)),  d_x = 1/iscale (float32),  bsums = Σ q_x over each 16
//   Q4_K, Q5_K   w = d·sc_s·q − dmin·m_s   (8 sub-blocks s of 32; sc, m: 6 bits; q: 4 or 5 bits)
//       y += (d·d_x)·float(Σ_s sc_s·Σ_{i∈s} q_i·q_x,i)  then  y −= (dmin·d_x)·float(Σ_s m_s·Σ_{i∈s} q_x,i)
//   Q6_K         w = d·sc_s·(q − 32)       (16 sub-blocks of 16; sc: int8; q: 6 bits)
//       y += (d·d_x)·float(Σ_s sc_s·Σ_{i∈s} (q_i − 32)·q_x,i)
// every float32 step rounded, blocks in order. (ggml sums the same integers; its float steps are grouped
// per SIMD lane, so its last bits may differ from ours.)
//
// The blocks (ggml-common.h; d, dmin: IEEE halves, little-endian; 256 weights):
//
//   Q4_K  144 bytes [ d: 2 ][ dmin: 2 ][ scales: 12 ][ qs: 128 ]
//         scales: sc_0…3 = s[0…3] & 63, m_0…3 = s[4…7] & 63,
//                 sc_4…7 = (s[8…11] & 15) | (s[0…3] >> 6) << 4,  m_4…7 = (s[8…11] >> 4) | (s[4…7] >> 6) << 4
//         qs: chunk c = 0…3 of 32 bytes; byte l's low nibble is weight 64c + l, its high nibble 64c + 32 + l
//   Q5_K  176 bytes [ d ][ dmin ][ scales: 12 ][ qh: 32 ][ qs: 128 ]
//         as Q4_K plus a fifth bit: weight 64c + l takes bit 2c of qh[l], weight 64c + 32 + l bit 2c + 1
//   Q6_K  210 bytes [ ql: 128 ][ qh: 64 ][ scales: 16 × int8 ][ d: 2 ]
//         half n = 0, 1 (weights 128n…): for l < 32, with a = ql[64n + l], b = ql[64n + 32 + l], h = qh[32n + l]
//           q(128n + l)      = (a & 15) | (h & 3) << 4        q(128n + 32 + l) = (b & 15) | (h >> 2 & 3) << 4
//           q(128n + 64 + l) = (a >> 4) | (h >> 4 & 3) << 4   q(128n + 96 + l) = (b >> 4) | (h >> 6) << 4
//         weight i's scale is scales[i / 16]
//
// Shapes: x (T, K) float32, K a multiple of 256, W (N, K) as N rows of K/256 blocks, y (T, N).

import type { QuantMatmulParams } from "../backend.js";
import { fp16ToFp32 } from "./half.js";

const f = Math.fround;

/** Bytes of one 256-weight block of each k-quant. */
export const KQUANT_BLOCK_BYTES = { Q4_K: 144, Q5_K: 176, Q6_K: 210 } as const;
export type KQuantType = keyof typeof KQUANT_BLOCK_BYTES;

const f32 = new Float32Array(1),
  i32 = new Int32Array(f32.buffer);
/** ggml's nearest_int: 1.5·2^23 added in float32, the low mantissa bits read back (ties to even). */
function nearestInt(x: number): number {
  f32[0] = x + 12582912;
  return (i32[0]! & 0x007fffff) - 0x00400000;
}

/**
 * Rows of x (back to back, a multiple of 256 values) rounded to Q8_K blocks as ggml's quantize_row_q8_K_ref:
 * q (int8 values), d (one float32 per 256), bsums (one integer per 16).
 */
export function quantizeActivationsK(x: Float32Array): { q: Int8Array; d: Float32Array; bsums: Int32Array } {
  const nb = x.length / 256;
  const q = new Int8Array(x.length),
    d = new Float32Array(nb),
    bsums = new Int32Array(16 * nb);
  for (let b = 0; b < nb; b++) {
    const o = 256 * b;
    let max = 0,
      amax = 0;
    for (let j = 0; j < 256; j++) {
      const ax = Math.abs(x[o + j]!);
      if (ax > amax) {
        amax = ax;
        max = x[o + j]!;
      }
    }
    if (amax === 0) continue; // d = 0, q = 0
    const iscale = f(-127 / max);
    for (let j = 0; j < 256; j++) q[o + j] = Math.min(127, nearestInt(f(iscale * x[o + j]!)));
    for (let j = 0; j < 16; j++) {
      let s = 0;
      for (let i = 0; i < 16; i++) s += q[o + 16 * j + i]!;
      bsums[16 * b + j] = s;
    }
    d[b] = f(1 / iscale);
  }
  return { q, d, bsums };
}

/**
 * Block `o` of w decoded: q receives the 256 integers (Q6_K's with the 32 taken off), sc and m the scale and
 * minimum of each sub-block (8 of 32 weights; Q6_K 16 of 16, m unused); returns d and dmin.
 */
function decodeK(
  type: KQuantType,
  w: Uint8Array,
  o: number,
  q: Int32Array,
  sc: Int32Array,
  m: Int32Array,
): { d: number; dmin: number } {
  if (type === "Q6_K") {
    for (let n = 0; n < 2; n++) {
      for (let l = 0; l < 32; l++) {
        const a = w[o + 64 * n + l]!,
          b = w[o + 64 * n + 32 + l]!,
          h = w[o + 128 + 32 * n + l]!;
        q[128 * n + l] = ((a & 15) | ((h & 3) << 4)) - 32;
        q[128 * n + 32 + l] = ((b & 15) | (((h >> 2) & 3) << 4)) - 32;
        q[128 * n + 64 + l] = ((a >> 4) | (((h >> 4) & 3) << 4)) - 32;
        q[128 * n + 96 + l] = ((b >> 4) | ((h >> 6) << 4)) - 32;
      }
    }
    for (let s = 0; s < 16; s++) sc[s] = (w[o + 192 + s]! << 24) >> 24; // int8
    return { d: fp16ToFp32(w[o + 208]! | (w[o + 209]! << 8)), dmin: 0 };
  }
  const s = o + 4; // the 12 bytes of 6-bit scales and minima
  for (let j = 0; j < 8; j++) {
    if (j < 4) {
      sc[j] = w[s + j]! & 63;
      m[j] = w[s + j + 4]! & 63;
    } else {
      sc[j] = (w[s + j + 4]! & 15) | ((w[s + j - 4]! >> 6) << 4);
      m[j] = (w[s + j + 4]! >> 4) | ((w[s + j]! >> 6) << 4);
    }
  }
  const qs = o + (type === "Q4_K" ? 16 : 48);
  for (let c = 0; c < 4; c++) {
    for (let l = 0; l < 32; l++) {
      const v = w[qs + 32 * c + l]!;
      const h = type === "Q5_K" ? w[o + 16 + l]! : 0;
      q[64 * c + l] = (v & 15) | (((h >> (2 * c)) & 1) << 4);
      q[64 * c + 32 + l] = (v >> 4) | (((h >> (2 * c + 1)) & 1) << 4);
    }
  }
  return { d: fp16ToFp32(w[o]! | (w[o + 1]! << 8)), dmin: fp16ToFp32(w[o + 2]! | (w[o + 3]! << 8)) };
}

/** out (T, N) = x (T, K) · Wᵀ on Q4_K, Q5_K or Q6_K blocks (the equations above); out is overwritten. */
export function qmatmulK(x: Float32Array, w: Uint8Array, out: Float32Array, p: QuantMatmulParams): void {
  const type = p.type as KQuantType;
  const { t: T, k: K, n: N } = p;
  const nb = K / 256,
    bytes = KQUANT_BLOCK_BYTES[type];
  const a = quantizeActivationsK(x.subarray(0, T * K));
  const q = new Int32Array(256),
    sc = new Int32Array(16),
    m = new Int32Array(8);
  const sub = type === "Q6_K" ? 16 : 32; // weights per sub-block
  out.fill(0, 0, T * N);
  for (let j = 0; j < N; j++) {
    for (let b = 0; b < nb; b++) {
      const { d, dmin } = decodeK(type, w, (j * nb + b) * bytes, q, sc, m);
      for (let t = 0; t < T; t++) {
        const xb = t * nb + b; // block b of row t
        let isum = 0,
          imin = 0;
        for (let s = 0; s < 256 / sub; s++) {
          let dot = 0;
          for (let i = s * sub; i < (s + 1) * sub; i++) dot += q[i]! * a.q[256 * xb + i]!;
          isum += sc[s]! * dot;
          if (type !== "Q6_K") imin += m[s]! * (a.bsums[16 * xb + 2 * s]! + a.bsums[16 * xb + 2 * s + 1]!);
        }
        // y += (d·d_x)·isum;  y −= (dmin·d_x)·imin   (each step rounded to float32)
        let y = f(out[t * N + j]! + f(f(d * a.d[xb]!) * f(isum)));
        if (type !== "Q6_K") y = f(y - f(f(dmin * a.d[xb]!) * f(imin)));
        out[t * N + j] = y;
      }
    }
  }
}
