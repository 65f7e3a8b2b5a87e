// The reference kernel of the product on GGML blocks (the spec the wasm kernel is tested against bit for
// bit): y = x·Wᵀ with W (n, k) kept as n rows of 32-weight blocks, following what ggml's CPU backend
// computes for Q8_0 and Q4_0 weights (ggml-cpu: quantize_row_q8_0 and vec_dot_q8_0_q8_0 /
// vec_dot_q4_0_q8_0, as facts; the k-quants Q4_K, Q5_K, Q6_K are ./qmatmul-k.ts):
//
//   1. each row of x is rounded to Q8_0 blocks:  d_x = fp16(max|x|/127),  q_x = round(x·127/max|x|)
//   2. y[t][j] = Σ_b (d_w[b]·d_x[b]) · Σ_{i<32} q_w[b][i]·q_x[b][i]
//                the inner sum is an exact integer; the block terms are added in float32, b ascending.
//
// The blocks (ggml-common.h; d is an IEEE half, little-endian):
//
//   Q8_0  34 bytes  [ d: 2 ][ q0 … q31: 32 × int8 ]                       w = d·q
//   Q4_0  18 bytes  [ d: 2 ][ 16 bytes: low nibble of byte i → q_i,
//                             high nibble → q_{i+16}, both stored + 8 ]  w = d·(nibble − 8)
//
// Shapes: x (T, K) float32, W (N, K) as N rows of K/32 blocks, y (T, N).

import type { QuantKernels, QuantMatmulParams } from "../backend.js";
import { fp16ToFp32, fp32ToFp16 } from "./half.js";
import { KQUANT_BLOCK_BYTES, qmatmulK } from "./qmatmul-k.js";

const f = Math.fround;

/** Bytes of one block of each type. */
export const QUANT_BLOCK_BYTES = { Q8_0: 34, Q4_0: 18, ...KQUANT_BLOCK_BYTES } as const;
/** Weights per block of each type. */
export const QUANT_BLOCK_SIZE = { Q8_0: 32, Q4_0: 32, Q4_K: 256, Q5_K: 256, Q6_K: 256 } as const;

/**
 * One activation row (or several, back to back: blocks never straddle rows when K is a multiple of 32)
 * quantized to Q8_0 blocks (Q8_1 with `withSum`) as ggml's x86 CPU backend does it (quantize_row_q8_0 for
 * AVX: the path of llama.cpp's x86 builds): d = max|x|/127 stored as f16, the values scaled by
 * id = 127/max|x| and rounded to the nearest integer, ties to even; s = fp16(d·Σq).
 * (The portable quantize_row_q8_0_ref differs only in id = 1/d and ties away from zero.)
 */
export function quantizeActivations(
  x: Float32Array,
  withSum: boolean,
): { d: Float32Array; s: Float32Array; q: Int8Array } {
  const nb = x.length / 32;
  const d = new Float32Array(nb),
    s = new Float32Array(nb),
    q = new Int8Array(x.length);
  for (let b = 0; b < nb; b++) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[32 * b + j]!));
    const db = f(amax / 127);
    d[b] = fp16ToFp32(fp32ToFp16(db));
    const id = amax !== 0 ? f(127 / amax) : 0;
    let sum = 0;
    for (let j = 0; j < 32; j++) {
      const v = f(x[32 * b + j]! * id);
      let r = Math.round(v); // halves up; fix ties to even below
      if (r - v === 0.5 && r % 2 !== 0) r -= 1;
      q[32 * b + j] = r;
      sum += r;
    }
    // ggml's AVX path: s = d·Σq with the unrounded d
    if (withSum) s[b] = fp16ToFp32(fp32ToFp16(f(sum * db)));
  }
  return { d, s, q };
}

/** The 32 integers of the block at byte o of w into q; returns its scale d. */
function decodeBlock(type: "Q8_0" | "Q4_0", w: Uint8Array, o: number, q: Int32Array): number {
  const d = fp16ToFp32(w[o]! | (w[o + 1]! << 8));
  if (type === "Q8_0") {
    for (let i = 0; i < 32; i++) q[i] = (w[o + 2 + i]! << 24) >> 24; // int8
  } else {
    for (let i = 0; i < 16; i++) {
      const b = w[o + 2 + i]!;
      q[i] = (b & 0xf) - 8;
      q[i + 16] = (b >> 4) - 8;
    }
  }
  return d;
}

export const qmatmul: QuantKernels = {
  qmatmul(x: Float32Array, w: Uint8Array, out: Float32Array, p: QuantMatmulParams): void {
    const { type, t: T, k: K, n: N } = p;
    if (type !== "Q8_0" && type !== "Q4_0") return qmatmulK(x, w, out, p); // the k-quants: ./qmatmul-k.ts
    const nb = K / 32,
      bytes = QUANT_BLOCK_BYTES[type];
    const a = quantizeActivations(x.subarray(0, T * K), false); // (T, K) as T·nb blocks
    const qw = new Int32Array(32);
    out.fill(0, 0, T * N);
    for (let j = 0; j < N; j++) {
      for (let b = 0; b < nb; b++) {
        const dw = decodeBlock(type, w, (j * nb + b) * bytes, qw);
        for (let t = 0; t < T; t++) {
          const xb = t * nb + b; // block b of row t
          let sumi = 0;
          for (let i = 0; i < 32; i++) sumi += qw[i]! * a.q[32 * xb + i]!;
          // y += (d_w·d_x)·sumi, each step rounded to float32
          out[t * N + j] = f(out[t * N + j]! + f(f(dw * a.d[xb]!) * sumi));
        }
      }
    }
  },
};
