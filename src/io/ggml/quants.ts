// GGML block formats: how llama.cpp and ggml store weights in 2 to 16 bits, and their reference
// quantizers, reproduced bit for bit (the facts: ggml's ggml-common.h for the layouts, ggml-quants.c
// for the `quantize_row_*_ref` rounding rules; the code is ours).
//
// A row of n floats is cut into blocks of 32 (the "legacy" types) or super-blocks of 256 (the
// k-quants); each block stores a few float16 scales and one small integer per weight:
//
//   x ≈ d·q          (symmetric: Q4_0, Q5_0, Q8_0, Q3_K, Q6_K)
//   x ≈ d·q + m      (with an offset: Q4_1, Q5_1; and Q2_K, Q4_K, Q5_K as  x ≈ d·sc·q − dmin·mn)
//
// Every rounding step of the reference is done in float32 here: `f` (Math.fround) after every
// operation, in C's evaluation order, so that a*b*c means f(f(a·b)·c). The fixtures
// (test/fixtures/io/ggml-blocks.json) hold the exact bytes ggml's reference C quantizer produced,
// built for x86-64 without fused multiply-add (-ffp-contract=off); see tools/fixtures/ggml-blocks.mjs.
//
// Not-a-number and infinities: F16 and BF16 define them (NaN stays a quiet NaN, ±inf stays ±inf,
// overflow rounds to ±inf). The block quantizers do not: in ggml's C they reach a float-to-integer
// conversion of NaN, which C leaves undefined, so quantize() rejects non-finite input with a
// DTypeError naming the type and the block. A row whose length is not a multiple of the block size
// is rejected the same way (ggml asserts).

import { ArgumentError, DTypeError } from "../../engine/errors.js";
import { fp16ToFp32, fp32ToFp16 } from "../../ops/qmatmul.js";

export { fp16ToFp32, fp32ToFp16 };

// ---------------------------------------------------------------------------------------------------
// The types (ids are ggml's `enum ggml_type`, the numbers stored in GGUF files)

export type GgmlType =
  "F32" | "F16" | "BF16" | "Q4_0" | "Q4_1" | "Q5_0" | "Q5_1" | "Q8_0" | "Q2_K" | "Q3_K" | "Q4_K" | "Q5_K" | "Q6_K";

export interface GgmlTypeInfo {
  /** the number in GGUF's tensor-info table */
  id: number;
  /** weights per block */
  blockSize: number;
  /** bytes per block */
  typeSize: number;
}

/** QK_K: the super-block of the k-quants. */
export const QK_K = 256;

export const GGML_TYPES: Readonly<Record<GgmlType, GgmlTypeInfo>> = Object.freeze({
  F32: { id: 0, blockSize: 1, typeSize: 4 },
  F16: { id: 1, blockSize: 1, typeSize: 2 },
  Q4_0: { id: 2, blockSize: 32, typeSize: 18 }, // 4.5 bits per weight
  Q4_1: { id: 3, blockSize: 32, typeSize: 20 }, // 5
  Q5_0: { id: 6, blockSize: 32, typeSize: 22 }, // 5.5
  Q5_1: { id: 7, blockSize: 32, typeSize: 24 }, // 6
  Q8_0: { id: 8, blockSize: 32, typeSize: 34 }, // 8.5
  Q2_K: { id: 10, blockSize: QK_K, typeSize: 84 }, // 2.625
  Q3_K: { id: 11, blockSize: QK_K, typeSize: 110 }, // 3.4375
  Q4_K: { id: 12, blockSize: QK_K, typeSize: 144 }, // 4.5
  Q5_K: { id: 13, blockSize: QK_K, typeSize: 176 }, // 5.5
  Q6_K: { id: 14, blockSize: QK_K, typeSize: 210 }, // 6.5625
  BF16: { id: 30, blockSize: 1, typeSize: 2 },
});

export const GGML_TYPE_NAMES = Object.keys(GGML_TYPES) as GgmlType[];

/** The type with GGUF id `id`, or undefined. */
export function ggmlTypeOfId(id: number): GgmlType | undefined {
  return GGML_TYPE_NAMES.find((t) => GGML_TYPES[t].id === id);
}

/** Bytes of a row of n weights of `type` (n must be a multiple of the block size). */
export function rowBytes(type: GgmlType, n: number): number {
  const { blockSize, typeSize } = GGML_TYPES[type];
  if (!Number.isSafeInteger(n) || n < 0 || n % blockSize !== 0) {
    throw new ArgumentError(`ggml ${type}: a row of ${n} weights is not a multiple of the block size ${blockSize}`);
  }
  return (n / blockSize) * typeSize;
}

// ---------------------------------------------------------------------------------------------------
// float32 helpers: C's float arithmetic, half and bfloat16

const f = Math.fround;
const scratch = new DataView(new ArrayBuffer(4));
const bitsOf = (x: number): number => (scratch.setFloat32(0, x, true), scratch.getUint32(0, true));
const fromBits = (b: number): number => (scratch.setUint32(0, b >>> 0, true), scratch.getFloat32(0, true));

/** float32 → bfloat16 (the top 16 bits), round to nearest even; NaN forced quiet (bit 6 set). */
export function fp32ToBf16(x: number): number {
  const u = bitsOf(x);
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 64) & 0xffff;
  return Math.floor((u + 0x7fff + ((u >>> 16) & 1)) / 65536) & 0xffff;
}

/** bfloat16 → float32 (exact). */
export const bf16ToFp32 = (b: number): number => fromBits((b & 0xffff) << 16);

/**
 * ggml's nearest_int: add 1.5·2^23 in float32 and read the low mantissa bits, which rounds to the
 * nearest integer, ties to even, for |x| < 2^22 (and gives ggml's value outside that range too).
 */
function nearestInt(x: number): number {
  const i = bitsOf(f(x + 12582912));
  return (i & 0x007fffff) - 0x00400000;
}

/** C's (int8_t)/(uint8_t)/(int) conversion of a float as x86-64 does it: truncate toward zero. */
const truncInt = (x: number): number => Math.trunc(x);
/** C's roundf: halves away from zero (exact in double for every float32). */
const roundAway = (x: number): number => (x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5));
const clamp = (v: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, v));
const int8 = (v: number): number => (v << 24) >> 24;

const GROUP_MAX_EPS = f(1e-15);

// ---------------------------------------------------------------------------------------------------
// The legacy blocks: 32 weights, one scale (and a min)

// Q8_0: 34 bytes             x = d·q,  d = max|x| / 127,  q = round(x / d) (halves away from zero)
//   [ d: f16 ][ q0 q1 ... q31: int8 ]
function quantizeQ8_0(x: Float32Array, y: Uint8Array, nb: number): void {
  const v = new DataView(y.buffer, y.byteOffset, y.byteLength);
  for (let i = 0; i < nb; i++) {
    const o = i * 34,
      xi = i * 32;
    let amax = 0;
    for (let j = 0; j < 32; j++) {
      const a = Math.abs(x[xi + j]!);
      amax = amax > a ? amax : a;
    } // MAX(amax, |v|)
    const d = f(amax / 127);
    const id = d ? f(1 / d) : 0;
    v.setUint16(o, fp32ToFp16(d), true);
    for (let j = 0; j < 32; j++) y[o + 2 + j] = roundAway(f(x[xi + j]! * id)) & 0xff;
  }
}
function dequantizeQ8_0(y: Uint8Array, out: Float32Array, nb: number): void {
  const v = new DataView(y.buffer, y.byteOffset, y.byteLength);
  for (let i = 0; i < nb; i++) {
    const d = fp16ToFp32(v.getUint16(i * 34, true));
    for (let j = 0; j < 32; j++) out[i * 32 + j] = f(int8(y[i * 34 + 2 + j]!) * d);
  }
}

// Q4_0: 18 bytes             x = d·(q − 8),  d = max / −8 (max = the value of largest magnitude)
//   [ d: f16 ][ 16 bytes: low nibble = q[j], high nibble = q[j+16] ]
//   q = min(15, trunc(x/d + 8.5)): the value of largest magnitude lands exactly on q = 0
function quantizeQ4_0(x: Float32Array, y: Uint8Array, nb: number): void {
  const v = new DataView(y.buffer, y.byteOffset, y.byteLength);
  for (let i = 0; i < nb; i++) {
    const o = i * 18,
      xi = i * 32;
    let amax = 0,
      max = 0;
    for (let j = 0; j < 32; j++) {
      const a = Math.abs(x[xi + j]!);
      if (amax < a) {
        amax = a;
        max = x[xi + j]!;
      }
    }
    const d = f(max / -8);
    const id = d ? f(1 / d) : 0;
    v.setUint16(o, fp32ToFp16(d), true);
    for (let j = 0; j < 16; j++) {
      const q0 = Math.min(15, truncInt(f(f(x[xi + j]! * id) + 8.5)));
      const q1 = Math.min(15, truncInt(f(f(x[xi + 16 + j]! * id) + 8.5)));
      y[o + 2 + j] = q0 | (q1 << 4);
    }
  }
}
function dequantizeQ4_0(y: Uint8Array, out: Float32Array, nb: number): void {
  const v = new DataView(y.buffer, y.byteOffset, y.byteLength);
  for (let i = 0; i < nb; i++) {
    const d = fp16ToFp32(v.getUint16(i * 18, true));
    for (let j = 0; j < 16; j++) {
      const b = y[i * 18 + 2 + j]!;
      out[i * 32 + j] = f(((b & 0x0f) - 8) * d);
      out[i * 32 + 16 + j] = f(((b >> 4) - 8) * d);
    }
  }
}

// Q4_1: 20 bytes             x = d·q + m,  m = min x,  d = (max − min) / 15,  q = min(15, trunc((x−m)/d + 0.5))
//   [ d: f16 ][ m: f16 ][ 16 bytes: low nibble = q[j], high nibble = q[j+16] ]
function quantizeQ4_1(x: Float32Array, y: Uint8Array, nb: number): void {
  const v = new DataView(y.buffer, y.byteOffset, y.byteLength);
  for (let i = 0; i < nb; i++) {
    const o = i * 20,
      xi = i * 32;
    let min = Infinity,
      max = -Infinity; // FLT_MAX and −FLT_MAX: no finite value differs
    for (let j = 0; j < 32; j++) {
      const a = x[xi + j]!;
      if (a < min) min = a!;
      if (a > max) max = a!;
    }
    const d = f(f(max - min) / 15);
    const id = d ? f(1 / d) : 0;
    v.setUint16(o, fp32ToFp16(d), true);
    v.setUint16(o + 2, fp32ToFp16(min), true);
    for (let j = 0; j < 16; j++) {
      const q0 = Math.min(15, truncInt(f(f(f(x[xi + j]! - min) * id) + 0.5)));
      const q1 = Math.min(15, truncInt(f(f(f(x[xi + 16 + j]! - min) * id) + 0.5)));
      y[o + 4 + j] = q0 | (q1 << 4);
    }
  }
}
function dequantizeQ4_1(y: Uint8Array, out: Float32Array, nb: number): void {
  const v = new DataView(y.buffer, y.byteOffset, y.byteLength);
  for (let i = 0; i < nb; i++) {
    const d = fp16ToFp32(v.getUint16(i * 20, true)),
      m = fp16ToFp32(v.getUint16(i * 20 + 2, true));
    for (let j = 0; j < 16; j++) {
      const b = y[i * 20 + 4 + j]!;
      out[i * 32 + j] = f(f((b & 0x0f) * d) + m);
      out[i * 32 + 16 + j] = f(f((b >> 4) * d) + m);
    }
  }
}

// Q5_0: 22 bytes             x = d·(q − 16),  d = max / −16,  q = min(31, trunc(x/d + 16.5))
//   [ d: f16 ][ qh: u32, bit j = 5th bit of q[j] ][ 16 bytes: low nibbles of q[j] | q[j+16] << 4 ]
function quantizeQ5_0(x: Float32Array, y: Uint8Array, nb: number): void {
  const v = new DataView(y.buffer, y.byteOffset, y.byteLength);
  for (let i = 0; i < nb; i++) {
    const o = i * 22,
      xi = i * 32;
    let amax = 0,
      max = 0;
    for (let j = 0; j < 32; j++) {
      const a = Math.abs(x[xi + j]!);
      if (amax < a) {
        amax = a;
        max = x[xi + j]!;
      }
    }
    const d = f(max / -16);
    const id = d ? f(1 / d) : 0;
    v.setUint16(o, fp32ToFp16(d), true);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      const q0 = Math.min(31, truncInt(f(f(x[xi + j]! * id) + 16.5)));
      const q1 = Math.min(31, truncInt(f(f(x[xi + 16 + j]! * id) + 16.5)));
      y[o + 6 + j] = (q0 & 0x0f) | ((q1 & 0x0f) << 4);
      qh |= ((q0 & 0x10) >> 4) << j;
      qh |= ((q1 & 0x10) >> 4) << (j + 16);
    }
    v.setUint32(o + 2, qh >>> 0, true);
  }
}
function dequantizeQ5_0(y: Uint8Array, out: Float32Array, nb: number): void {
  const v = new DataView(y.buffer, y.byteOffset, y.byteLength);
  for (let i = 0; i < nb; i++) {
    const d = fp16ToFp32(v.getUint16(i * 22, true));
    const qh = v.getUint32(i * 22 + 2, true);
    for (let j = 0; j < 16; j++) {
      const b = y[i * 22 + 6 + j]!;
      const h0 = ((qh >>> j) << 4) & 0x10,
        h1 = (qh >>> (j + 12)) & 0x10;
      out[i * 32 + j] = f((((b & 0x0f) | h0) - 16) * d);
      out[i * 32 + 16 + j] = f((((b >> 4) | h1) - 16) * d);
    }
  }
}

// Q5_1: 24 bytes             x = d·q + m,  d = (max − min) / 31,  q = trunc((x−m)/d + 0.5)
//   [ d: f16 ][ m: f16 ][ qh: u32 ][ 16 bytes of low nibbles ]
function quantizeQ5_1(x: Float32Array, y: Uint8Array, nb: number): void {
  const v = new DataView(y.buffer, y.byteOffset, y.byteLength);
  for (let i = 0; i < nb; i++) {
    const o = i * 24,
      xi = i * 32;
    let min = Infinity,
      max = -Infinity;
    for (let j = 0; j < 32; j++) {
      const a = x[xi + j]!;
      if (a < min) min = a!;
      if (a > max) max = a!;
    }
    const d = f(f(max - min) / 31);
    const id = d ? f(1 / d) : 0;
    v.setUint16(o, fp32ToFp16(d), true);
    v.setUint16(o + 2, fp32ToFp16(min), true);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      const q0 = truncInt(f(f(f(x[xi + j]! - min) * id) + 0.5)) & 0xff; // no clamp in the reference
      const q1 = truncInt(f(f(f(x[xi + 16 + j]! - min) * id) + 0.5)) & 0xff;
      y[o + 8 + j] = (q0 & 0x0f) | ((q1 & 0x0f) << 4);
      qh |= ((q0 & 0x10) >> 4) << j;
      qh |= ((q1 & 0x10) >> 4) << (j + 16);
    }
    v.setUint32(o + 4, qh >>> 0, true);
  }
}
function dequantizeQ5_1(y: Uint8Array, out: Float32Array, nb: number): void {
  const v = new DataView(y.buffer, y.byteOffset, y.byteLength);
  for (let i = 0; i < nb; i++) {
    const d = fp16ToFp32(v.getUint16(i * 24, true)),
      m = fp16ToFp32(v.getUint16(i * 24 + 2, true));
    const qh = v.getUint32(i * 24 + 4, true);
    for (let j = 0; j < 16; j++) {
      const b = y[i * 24 + 8 + j]!;
      const h0 = ((qh >>> j) << 4) & 0x10,
        h1 = (qh >>> (j + 12)) & 0x10;
      out[i * 32 + j] = f(f(((b & 0x0f) | h0) * d) + m);
      out[i * 32 + 16 + j] = f(f(((b >> 4) | h1) * d) + m);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// The k-quants: super-blocks of 256 weights cut into 16 or 8 sub-blocks, whose scales (and mins)
// are themselves quantized to 4, 6 or 8 bits against one float16 super-scale.

/**
 * make_qx_quants (symmetric, rmse_type 1, no importance weights): L[i] ∈ [0, 2·nmax) and the
 * scale that minimizes Σ x²·(x − scale·(L − nmax))², searched over 19 trial inverse scales.
 */
function makeQxQuants(n: number, nmax: number, x: Float32Array, xo: number, L: Int32Array, lo: number): number {
  let max = 0,
    amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[xo + i]!);
    if (ax > amax) {
      amax = ax;
      max = x[xo + i]!;
    }
  }
  if (amax < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) L[lo + i] = 0;
    return 0;
  }
  let iscale = f(-nmax / max);
  let sumlx = 0,
    suml2 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xo + i]!;
    const l = clamp(nearestInt(f(iscale * xi)), -nmax, nmax - 1);
    L[lo + i] = l + nmax;
    const w = f(xi * xi);
    sumlx = f(sumlx + f(f(w * xi) * l));
    suml2 = f(suml2 + f(f(w * l) * l));
  }
  let scale = suml2 ? f(sumlx / suml2) : 0;
  let best = f(scale * sumlx);
  for (let is = -9; is <= 9; ++is) {
    if (is === 0) continue;
    iscale = f(-f(nmax + f(f(0.1) * is)) / max);
    sumlx = 0;
    suml2 = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xo + i]!;
      const l = clamp(nearestInt(f(iscale * xi)), -nmax, nmax - 1);
      const w = f(xi * xi);
      sumlx = f(sumlx + f(f(w * xi) * l));
      suml2 = f(suml2 + f(f(w * l) * l));
    }
    if (suml2 > 0 && f(sumlx * sumlx) > f(best * suml2)) {
      for (let i = 0; i < n; i++) L[lo + i] = nmax + clamp(nearestInt(f(iscale * x[xo + i]!)), -nmax, nmax - 1);
      scale = f(sumlx / suml2);
      best = f(scale * sumlx);
    }
  }
  return scale;
}

/** make_q3_quants with do_rmse: start from the rounded scale, then move single L[i] while Σ improves. */
function makeQ3Quants(n: number, nmax: number, x: Float32Array, xo: number, L: Int32Array, lo: number): number {
  let max = 0,
    amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[xo + i]!);
    if (ax > amax) {
      amax = ax;
      max = x[xo + i]!;
    }
  }
  if (amax < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) L[lo + i] = 0;
    return 0;
  }
  const iscale = f(-nmax / max);
  let sumlx = 0,
    suml2 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xo + i]!;
    const l = clamp(nearestInt(f(iscale * xi)), -nmax, nmax - 1);
    L[lo + i] = l;
    const w = f(xi * xi);
    sumlx = f(sumlx + f(f(w * xi) * l));
    suml2 = f(suml2 + f(f(w * l) * l));
  }
  for (let itry = 0; itry < 5; ++itry) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xo + i]!,
        li = L[lo + i]!;
      const w = f(xi * xi);
      let slx = f(sumlx - f(f(w * xi) * li));
      if (slx > 0) {
        let sl2 = f(suml2 - f(f(w * li) * li));
        const nl = clamp(nearestInt(f(f(xi * sl2) / slx)), -nmax, nmax - 1);
        if (nl !== li) {
          slx = f(slx + f(f(w * xi) * nl));
          sl2 = f(sl2 + f(f(w * nl) * nl));
          if (sl2 > 0 && f(f(slx * slx) * suml2) > f(f(sumlx * sumlx) * sl2)) {
            L[lo + i] = nl;
            sumlx = slx;
            suml2 = sl2;
            ++changed;
          }
        }
      }
    }
    if (!changed) break;
  }
  for (let i = 0; i < n; i++) L[lo + i]! += nmax;
  return suml2 > 0 ? f(sumlx / suml2) : 0;
}

/**
 * make_qkx2_quants: x ≈ scale·L − min with L ∈ [0, nmax], fitted by weighted least squares over
 * nstep+1 trial inverse scales (rmin + rdelta·is + nmax)/(max − min). Returns scale, sets mins[j] = min.
 */
function makeQkx2Quants(
  n: number,
  nmax: number,
  x: Float32Array,
  xo: number,
  weights: Float32Array,
  L: Int32Array,
  lo: number,
  mins: Float32Array,
  j: number,
  rmin: number,
  rdelta: number,
  nstep: number,
  useMad: boolean,
): number {
  const Laux = new Int32Array(n);
  let min = x[xo],
    max = x[xo];
  let sumW = weights[0];
  let sumX = f(sumW! * x[xo]!);
  for (let i = 1; i < n; i++) {
    const xi = x[xo + i]!;
    if (xi < min!) min = xi;
    if (xi > max!) max = xi;
    const w = weights[i]!;
    sumW = f(sumW! + w);
    sumX = f(sumX + f(w * xi));
  }
  if (min! > 0) min = 0;
  if (max === min) {
    for (let i = 0; i < n; i++) L[lo + i] = 0;
    mins[j] = -min!;
    return 0;
  }
  let iscale = f(nmax / f(max! - min!));
  let scale = f(1 / iscale);
  let bestError = 0;
  for (let i = 0; i < n; i++) {
    const l = clamp(nearestInt(f(iscale * f(x[xo + i]! - min!))), 0, nmax);
    L[lo + i] = l;
    let diff = f(f(f(scale * l) + min!) - x[xo + i]!);
    diff = useMad ? Math.abs(diff) : f(diff * diff);
    bestError = f(bestError + f(weights[i]! * diff));
  }
  if (nstep < 1) {
    mins[j] = -min!;
    return scale;
  }
  for (let is = 0; is <= nstep; ++is) {
    iscale = f(f(f(rmin + f(rdelta * is)) + nmax) / f(max! - min!));
    let sumL = 0,
      sumL2 = 0,
      sumXL = 0;
    for (let i = 0; i < n; i++) {
      const l = clamp(nearestInt(f(iscale * f(x[xo + i]! - min!))), 0, nmax);
      Laux[i] = l;
      const w = weights[i]!;
      sumL = f(sumL + f(w * l));
      sumL2 = f(sumL2 + f(f(w * l) * l));
      sumXL = f(sumXL + f(f(w * l) * x[xo + i]!));
    }
    const D = f(f(sumW! * sumL2) - f(sumL * sumL));
    if (D > 0) {
      let thisScale = f(f(f(sumW! * sumXL) - f(sumX * sumL)) / D);
      let thisMin = f(f(f(sumL2 * sumX) - f(sumL * sumXL)) / D);
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = f(sumXL / sumL2);
      }
      let curError = 0;
      for (let i = 0; i < n; i++) {
        let diff = f(f(f(thisScale * Laux[i]!) + thisMin) - x[xo + i]!);
        diff = useMad ? Math.abs(diff) : f(diff * diff);
        curError = f(curError + f(weights[i]! * diff));
      }
      if (curError < bestError) {
        for (let i = 0; i < n; i++) L[lo + i] = Laux[i]!;
        bestError = curError;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  mins[j] = -min!;
  return scale;
}

/** The 12 scale bytes of Q4_K/Q5_K hold 8 six-bit scales and 8 six-bit mins (get_scale_min_k4). */
function scaleMinK4(j: number, q: Uint8Array, o: number): [number, number] {
  if (j < 4) return [q[o + j]! & 63, q[o + j + 4]! & 63];
  return [(q[o + j + 4]! & 0xf) | ((q[o + j - 4]! >> 6) << 4), (q[o + j + 4]! >> 4) | ((q[o + j]! >> 6) << 4)];
}

// Q2_K: 84 bytes per 256     16 sub-blocks of 16: x = d·sc·q − dmin·mn,  q ∈ 0..3, sc and mn 4 bits
//   [ scales: 16 bytes, low nibble sc, high nibble mn ][ qs: 64 bytes, 4 quants per byte ][ d: f16 ][ dmin: f16 ]
//   qs[32·h + l] holds L[128h + l] | L[128h+l+32] << 2 | L[128h+l+64] << 4 | L[128h+l+96] << 6
function quantizeQ2_K(x: Float32Array, y: Uint8Array, nb: number): void {
  const v = new DataView(y.buffer, y.byteOffset, y.byteLength);
  const L = new Int32Array(QK_K),
    weights = new Float32Array(16),
    mins = new Float32Array(16),
    scales = new Float32Array(16);
  for (let i = 0; i < nb; i++) {
    const o = i * 84,
      xb = i * QK_K;
    let maxScale = 0,
      maxMin = 0;
    for (let j = 0; j < 16; j++) {
      for (let l = 0; l < 16; l++) weights[l] = Math.abs(x[xb + 16 * j + l]!);
      scales[j] = makeQkx2Quants(16, 3, x, xb + 16 * j, weights, L, 16 * j, mins, j, -0.5, f(0.1), 15, true);
      if (scales[j]! > maxScale) maxScale = scales[j]!;
      if (mins[j]! > maxMin) maxMin = mins[j]!;
    }
    if (maxScale > 0) {
      const iscale = f(15 / maxScale);
      for (let j = 0; j < 16; j++) y[o + j] = nearestInt(f(iscale * scales[j]!)) & 0xff;
      v.setUint16(o + 80, fp32ToFp16(f(maxScale / 15)), true);
    } else {
      for (let j = 0; j < 16; j++) y[o + j] = 0;
      v.setUint16(o + 80, fp32ToFp16(0), true);
    }
    if (maxMin > 0) {
      const iscale = f(15 / maxMin);
      for (let j = 0; j < 16; j++) y[o + j] = (y[o + j]! | (nearestInt(f(iscale * mins[j]!)) << 4)) & 0xff;
      v.setUint16(o + 82, fp32ToFp16(f(maxMin / 15)), true);
    } else {
      v.setUint16(o + 82, fp32ToFp16(0), true);
    }
    const dAll = fp16ToFp32(v.getUint16(o + 80, true)),
      mAll = fp16ToFp32(v.getUint16(o + 82, true));
    for (let j = 0; j < 16; j++) {
      const d = f(dAll * (y[o + j]! & 0xf));
      if (!d) continue;
      const dm = f(mAll * (y[o + j]! >> 4));
      for (let ii = 0; ii < 16; ii++) L[16 * j + ii] = clamp(nearestInt(f(f(x[xb + 16 * j + ii]! + dm) / d)), 0, 3);
    }
    for (let j = 0; j < QK_K; j += 128) {
      for (let l = 0; l < 32; l++) {
        y[o + 16 + j / 4 + l] = L[j + l]! | (L[j + l + 32]! << 2) | (L[j + l + 64]! << 4) | (L[j + l + 96]! << 6);
      }
    }
  }
}
function dequantizeQ2_K(y: Uint8Array, out: Float32Array, nb: number): void {
  const v = new DataView(y.buffer, y.byteOffset, y.byteLength);
  for (let i = 0; i < nb; i++) {
    const o = i * 84;
    const d = fp16ToFp32(v.getUint16(o + 80, true)),
      min = fp16ToFp32(v.getUint16(o + 82, true));
    let k = i * QK_K,
      is = 0;
    for (let n = 0; n < QK_K; n += 128) {
      const q = o + 16 + n / 4;
      for (let shift = 0; shift < 8; shift += 2) {
        for (let half = 0; half < 2; half++) {
          const sc = y[o + is++]!;
          const dl = f(d * (sc & 0xf)),
            ml = f(min * (sc >> 4));
          for (let l = 0; l < 16; l++) out[k++] = f(f(dl * ((y[q + 16 * half + l]! >> shift) & 3)) - ml);
        }
      }
    }
  }
}

// Q3_K: 110 bytes per 256    16 sub-blocks of 16: x = d·(sc − 32)·(q − 4),  q ∈ 0..7, sc 6 bits
//   [ hmask: 32 bytes, bit b of hmask[l] = 3rd bit of q[32b + l] ][ qs: 64 bytes, low 2 bits as Q2_K ]
//   [ scales: 12 bytes, low nibbles of sc0..15 in bytes 0..7, their top 2 bits in bytes 8..11 ][ d: f16 ]
function quantizeQ3_K(x: Float32Array, y: Uint8Array, nb: number): void {
  const v = new DataView(y.buffer, y.byteOffset, y.byteLength);
  const L = new Int32Array(QK_K),
    scales = new Float32Array(16);
  for (let i = 0; i < nb; i++) {
    const o = i * 110,
      xb = i * QK_K,
      sOff = o + 96;
    let maxScale = 0,
      amax = 0;
    for (let j = 0; j < 16; j++) {
      scales[j] = makeQ3Quants(16, 4, x, xb + 16 * j, L, 16 * j);
      const s = Math.abs(scales[j]!);
      if (s > amax) {
        amax = s;
        maxScale = scales[j]!;
      }
    }
    y.fill(0, sOff, sOff + 12);
    if (maxScale) {
      const iscale = f(-32 / maxScale);
      for (let j = 0; j < 16; j++) {
        let l = int8(nearestInt(f(iscale * scales[j]!)));
        l = clamp(l, -32, 31) + 32;
        if (j < 8) y[sOff + j] = l & 0xf;
        else y[sOff + j - 8]! |= (l & 0xf) << 4;
        l >>= 4;
        y[sOff + 8 + (j % 4)]! |= l << (2 * Math.floor(j / 4));
      }
      v.setUint16(o + 108, fp32ToFp16(f(1 / iscale)), true);
    } else {
      v.setUint16(o + 108, fp32ToFp16(0), true);
    }
    const dAll = fp16ToFp32(v.getUint16(o + 108, true));
    for (let j = 0; j < 16; j++) {
      const d = f(dAll * q3Scale(y, sOff, j));
      if (!d) continue;
      for (let ii = 0; ii < 16; ii++) L[16 * j + ii] = clamp(nearestInt(f(x[xb + 16 * j + ii]! / d)), -4, 3) + 4;
    }
    y.fill(0, o, o + 32);
    let m = 0,
      hm = 1;
    for (let j = 0; j < QK_K; j++) {
      if (L[j]! > 3) {
        y[o + m]! |= hm;
        L[j]! -= 4;
      }
      if (++m === 32) {
        m = 0;
        hm <<= 1;
      }
    }
    for (let j = 0; j < QK_K; j += 128) {
      for (let l = 0; l < 32; l++) {
        y[o + 32 + j / 4 + l] = L[j + l]! | (L[j + l + 32]! << 2) | (L[j + l + 64]! << 4) | (L[j + l + 96]! << 6);
      }
    }
  }
}
/** The signed 6-bit scale j of a Q3_K block: sc − 32. */
function q3Scale(y: Uint8Array, sOff: number, j: number): number {
  const lo = j < 8 ? y[sOff + j]! & 0xf : y[sOff + j - 8]! >> 4;
  const hi = (y[sOff + 8 + (j % 4)]! >> (2 * Math.floor(j / 4))) & 3;
  return (lo | (hi << 4)) - 32;
}
function dequantizeQ3_K(y: Uint8Array, out: Float32Array, nb: number): void {
  const v = new DataView(y.buffer, y.byteOffset, y.byteLength);
  for (let i = 0; i < nb; i++) {
    const o = i * 110;
    const dAll = fp16ToFp32(v.getUint16(o + 108, true));
    let k = i * QK_K,
      is = 0,
      m = 1;
    for (let n = 0; n < QK_K; n += 128) {
      const q = o + 32 + n / 4;
      for (let shift = 0; shift < 8; shift += 2) {
        for (let half = 0; half < 2; half++) {
          const dl = f(dAll * q3Scale(y, o + 96, is++));
          for (let l = 0; l < 16; l++) {
            const e = 16 * half + l;
            out[k++] = f(dl * (((y[q + e]! >> shift) & 3) - (y[o + e]! & m ? 0 : 4)));
          }
        }
        m <<= 1;
      }
    }
  }
}

/** Q4_K and Q5_K share the search for 8 scales and 8 mins and their 6-bit packing. */
function quantizeScalesMinsK(
  x: Float32Array,
  xb: number,
  L: Int32Array,
  y: Uint8Array,
  o: number,
  v: DataView,
  nmax: number,
  rmin: number,
  nstep: number,
): void {
  const weights = new Float32Array(32),
    mins = new Float32Array(8),
    scales = new Float32Array(8);
  let maxScale = 0,
    maxMin = 0;
  for (let j = 0; j < 8; j++) {
    // weights: the block's RMS plus |x|, so that large weights are fitted more closely
    let sumX2 = 0;
    for (let l = 0; l < 32; l++) {
      const a = x[xb + 32 * j + l]!;
      sumX2 = f(sumX2 + f(a * a));
    }
    const avX = f(Math.sqrt(f(sumX2 / 32)));
    for (let l = 0; l < 32; l++) weights[l] = f(avX + Math.abs(x[xb + 32 * j + l]!));
    scales[j] = makeQkx2Quants(32, nmax, x, xb + 32 * j, weights, L, 32 * j, mins, j, rmin, f(0.1), nstep, false);
    if (scales[j]! > maxScale) maxScale = scales[j]!;
    if (mins[j]! > maxMin) maxMin = mins[j]!;
  }
  const invScale = maxScale > 0 ? f(63 / maxScale) : 0;
  const invMin = maxMin > 0 ? f(63 / maxMin) : 0;
  const s = o + 4; // scales[12] after d and dmin
  for (let j = 0; j < 8; j++) {
    const ls = Math.min(63, nearestInt(f(invScale * scales[j]!)) & 0xff);
    const lm = Math.min(63, nearestInt(f(invMin * mins[j]!)) & 0xff);
    if (j < 4) {
      y[s + j] = ls;
      y[s + j + 4] = lm;
    } else {
      y[s + j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
      y[s + j - 4]! |= (ls >> 4) << 6;
      y[s + j]! |= (lm >> 4) << 6;
    }
  }
  v.setUint16(o, fp32ToFp16(f(maxScale / 63)), true);
  v.setUint16(o + 2, fp32ToFp16(f(maxMin / 63)), true);
  const dAll = fp16ToFp32(v.getUint16(o, true)),
    mAll = fp16ToFp32(v.getUint16(o + 2, true));
  for (let j = 0; j < 8; j++) {
    const [sc, m] = scaleMinK4(j, y, s);
    const d = f(dAll * sc);
    if (!d) continue;
    const dm = f(mAll * m);
    for (let ii = 0; ii < 32; ii++) L[32 * j + ii] = clamp(nearestInt(f(f(x[xb + 32 * j + ii]! + dm) / d)), 0, nmax);
  }
}

// Q4_K: 144 bytes per 256    8 sub-blocks of 32: x = d·sc·q − dmin·mn,  q ∈ 0..15, sc and mn 6 bits
//   [ d: f16 ][ dmin: f16 ][ scales: 12 bytes (scaleMinK4) ][ qs: 128 bytes ]
//   qs[32·c + l] = L[64c + l] | L[64c + 32 + l] << 4  (c = 0..3: two sub-blocks per 32 bytes)
function quantizeQ4_K(x: Float32Array, y: Uint8Array, nb: number): void {
  const v = new DataView(y.buffer, y.byteOffset, y.byteLength);
  const L = new Int32Array(QK_K);
  for (let i = 0; i < nb; i++) {
    const o = i * 144,
      xb = i * QK_K;
    y.fill(0, o, o + 144);
    quantizeScalesMinsK(x, xb, L, y, o, v, 15, -1, 20);
    for (let c = 0; c < 4; c++) {
      for (let l = 0; l < 32; l++) y[o + 16 + 32 * c + l] = L[64 * c + l]! | (L[64 * c + 32 + l]! << 4);
    }
  }
}
function dequantizeQ4_K(y: Uint8Array, out: Float32Array, nb: number): void {
  const v = new DataView(y.buffer, y.byteOffset, y.byteLength);
  for (let i = 0; i < nb; i++) {
    const o = i * 144;
    const d = fp16ToFp32(v.getUint16(o, true)),
      min = fp16ToFp32(v.getUint16(o + 2, true));
    for (let c = 0; c < 4; c++) {
      const [sc1, m1] = scaleMinK4(2 * c, y, o + 4),
        [sc2, m2] = scaleMinK4(2 * c + 1, y, o + 4);
      const d1 = f(d * sc1),
        mm1 = f(min * m1),
        d2 = f(d * sc2),
        mm2 = f(min * m2);
      const k = i * QK_K + 64 * c,
        q = o + 16 + 32 * c;
      for (let l = 0; l < 32; l++) out[k + l] = f(f(d1 * (y[q + l]! & 0xf)) - mm1);
      for (let l = 0; l < 32; l++) out[k + 32 + l] = f(f(d2 * (y[q + l]! >> 4)) - mm2);
    }
  }
}

// Q5_K: 176 bytes per 256    as Q4_K with q ∈ 0..31: the 5th bits in qh
//   [ d: f16 ][ dmin: f16 ][ scales: 12 bytes ][ qh: 32 bytes, bit 2c (2c+1) of qh[l] = 5th bit of
//   L[64c + l] (L[64c + 32 + l]) ][ qs: 128 bytes of low nibbles as Q4_K ]
function quantizeQ5_K(x: Float32Array, y: Uint8Array, nb: number): void {
  const v = new DataView(y.buffer, y.byteOffset, y.byteLength);
  const L = new Int32Array(QK_K);
  for (let i = 0; i < nb; i++) {
    const o = i * 176,
      xb = i * QK_K;
    y.fill(0, o, o + 176);
    quantizeScalesMinsK(x, xb, L, y, o, v, 31, -0.5, 15);
    const qh = o + 16,
      ql = o + 48;
    for (let c = 0; c < 4; c++) {
      for (let l = 0; l < 32; l++) {
        let l1 = L[64 * c + l],
          l2 = L[64 * c + 32 + l];
        if (l1! > 15) {
          l1! -= 16;
          y[qh + l]! |= 1 << (2 * c);
        }
        if (l2! > 15) {
          l2! -= 16;
          y[qh + l]! |= 2 << (2 * c);
        }
        y[ql + 32 * c + l] = l1! | (l2! << 4);
      }
    }
  }
}
function dequantizeQ5_K(y: Uint8Array, out: Float32Array, nb: number): void {
  const v = new DataView(y.buffer, y.byteOffset, y.byteLength);
  for (let i = 0; i < nb; i++) {
    const o = i * 176,
      qh = o + 16;
    const d = fp16ToFp32(v.getUint16(o, true)),
      min = fp16ToFp32(v.getUint16(o + 2, true));
    for (let c = 0; c < 4; c++) {
      const [sc1, m1] = scaleMinK4(2 * c, y, o + 4),
        [sc2, m2] = scaleMinK4(2 * c + 1, y, o + 4);
      const d1 = f(d * sc1),
        mm1 = f(min * m1),
        d2 = f(d * sc2),
        mm2 = f(min * m2);
      const k = i * QK_K + 64 * c,
        q = o + 48 + 32 * c,
        u1 = 1 << (2 * c),
        u2 = 2 << (2 * c);
      for (let l = 0; l < 32; l++) out[k + l] = f(f(d1 * ((y[q + l]! & 0xf) + (y[qh + l]! & u1 ? 16 : 0))) - mm1);
      for (let l = 0; l < 32; l++) out[k + 32 + l] = f(f(d2 * ((y[q + l]! >> 4) + (y[qh + l]! & u2 ? 16 : 0))) - mm2);
    }
  }
}

// Q6_K: 210 bytes per 256    16 sub-blocks of 16: x = d·sc·(q − 32),  q ∈ 0..63, sc: int8
//   [ ql: 128 bytes, low nibbles ][ qh: 64 bytes, top 2 bits ][ scales: 16 int8 ][ d: f16 ]
//   per half h (128 weights): ql[64h + l] = q[l] | q[l+64] << 4, ql[64h + 32 + l] = q[l+32] | q[l+96] << 4,
//   qh[32h + l] = top bits of q[l], q[l+32], q[l+64], q[l+96] at bit 0, 2, 4, 6
function quantizeQ6_K(x: Float32Array, y: Uint8Array, nb: number): void {
  const v = new DataView(y.buffer, y.byteOffset, y.byteLength);
  const L = new Int32Array(QK_K),
    scales = new Float32Array(16);
  for (let i = 0; i < nb; i++) {
    const o = i * 210,
      xb = i * QK_K,
      sOff = o + 192;
    let maxScale = 0,
      maxAbsScale = 0;
    for (let ib = 0; ib < 16; ib++) {
      const scale = makeQxQuants(16, 32, x, xb + 16 * ib, L, 16 * ib);
      scales[ib] = scale;
      const a = Math.abs(scale);
      if (a > maxAbsScale) {
        maxAbsScale = a;
        maxScale = scale;
      }
    }
    if (maxAbsScale < GROUP_MAX_EPS) {
      y.fill(0, o, o + 210);
      continue;
    }
    const iscale = f(-128 / maxScale);
    v.setUint16(o + 208, fp32ToFp16(f(1 / iscale)), true);
    for (let ib = 0; ib < 16; ib++) y[sOff + ib] = Math.min(127, nearestInt(f(iscale * scales[ib]!))) & 0xff;
    const dAll = fp16ToFp32(v.getUint16(o + 208, true));
    for (let j = 0; j < 16; j++) {
      const d = f(dAll * int8(y[sOff + j]!));
      if (!d) continue;
      for (let ii = 0; ii < 16; ii++) L[16 * j + ii] = clamp(nearestInt(f(x[xb + 16 * j + ii]! / d)), -32, 31) + 32;
    }
    for (let h = 0; h < 2; h++) {
      const j = 128 * h,
        ql = o + 64 * h,
        qh = o + 128 + 32 * h;
      for (let l = 0; l < 32; l++) {
        const q1 = L[j + l]!,
          q2 = L[j + l + 32]!,
          q3 = L[j + l + 64]!,
          q4 = L[j + l + 96]!;
        y[ql + l] = (q1 & 0xf) | ((q3 & 0xf) << 4);
        y[ql + l + 32] = (q2 & 0xf) | ((q4 & 0xf) << 4);
        y[qh + l] = ((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6)) & 0xff;
      }
    }
  }
}
function dequantizeQ6_K(y: Uint8Array, out: Float32Array, nb: number): void {
  const v = new DataView(y.buffer, y.byteOffset, y.byteLength);
  for (let i = 0; i < nb; i++) {
    const o = i * 210;
    const d = fp16ToFp32(v.getUint16(o + 208, true));
    for (let h = 0; h < 2; h++) {
      const ql = o + 64 * h,
        qh = o + 128 + 32 * h,
        sc = o + 192 + 8 * h,
        k = i * QK_K + 128 * h;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const q1 = ((y[ql + l]! & 0xf) | (((y[qh + l]! >> 0) & 3) << 4)) - 32;
        const q2 = ((y[ql + l + 32]! & 0xf) | (((y[qh + l]! >> 2) & 3) << 4)) - 32;
        const q3 = ((y[ql + l]! >> 4) | (((y[qh + l]! >> 4) & 3) << 4)) - 32;
        const q4 = ((y[ql + l + 32]! >> 4) | (((y[qh + l]! >> 6) & 3) << 4)) - 32;
        out[k + l] = f(f(d * int8(y[sc + is]!)) * q1);
        out[k + l + 32] = f(f(d * int8(y[sc + is + 2]!)) * q2);
        out[k + l + 64] = f(f(d * int8(y[sc + is + 4]!)) * q3);
        out[k + l + 96] = f(f(d * int8(y[sc + is + 6]!)) * q4);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// The public functions

type Quantizer = (x: Float32Array, y: Uint8Array, nb: number) => void;
const QUANTIZE: Record<Exclude<GgmlType, "F32" | "F16" | "BF16">, Quantizer> = {
  Q4_0: quantizeQ4_0,
  Q4_1: quantizeQ4_1,
  Q5_0: quantizeQ5_0,
  Q5_1: quantizeQ5_1,
  Q8_0: quantizeQ8_0,
  Q2_K: quantizeQ2_K,
  Q3_K: quantizeQ3_K,
  Q4_K: quantizeQ4_K,
  Q5_K: quantizeQ5_K,
  Q6_K: quantizeQ6_K,
};
const DEQUANTIZE: Record<
  Exclude<GgmlType, "F32" | "F16" | "BF16">,
  (y: Uint8Array, out: Float32Array, nb: number) => void
> = {
  Q4_0: dequantizeQ4_0,
  Q4_1: dequantizeQ4_1,
  Q5_0: dequantizeQ5_0,
  Q5_1: dequantizeQ5_1,
  Q8_0: dequantizeQ8_0,
  Q2_K: dequantizeQ2_K,
  Q3_K: dequantizeQ3_K,
  Q4_K: dequantizeQ4_K,
  Q5_K: dequantizeQ5_K,
  Q6_K: dequantizeQ6_K,
};

/**
 * Quantize float32 values (any number of rows laid end to end; x.length must be a multiple of the
 * block size) into `type`'s blocks, as ggml's reference quantizer does. F32/F16/BF16 are plain casts.
 */
export function quantize(type: GgmlType, x: Float32Array): Uint8Array {
  const bytes = rowBytes(type, x.length);
  const y = new Uint8Array(bytes);
  if (type === "F32") {
    new Float32Array(y.buffer).set(x);
    return littleEndian(y, 4);
  }
  if (type === "F16" || type === "BF16") {
    const v = new DataView(y.buffer);
    const cast = type === "F16" ? fp32ToFp16 : fp32ToBf16;
    for (let i = 0; i < x.length; i++) v.setUint16(2 * i, cast(x[i]!), true);
    return y;
  }
  const bs = GGML_TYPES[type].blockSize;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      throw new DTypeError(
        `ggml ${type}: value ${x[i]} at index ${i} (block ${Math.floor(i / bs)}) is not finite; ggml's reference quantizer leaves non-finite input undefined`,
      );
    }
  }
  QUANTIZE[type](x, y, x.length / bs);
  return y;
}

/** Expand n weights of `type` stored in `bytes` (exactly rowBytes(type, n) of them) to float32. */
export function dequantize(type: GgmlType, bytes: Uint8Array, n: number): Float32Array {
  const need = rowBytes(type, n);
  if (bytes.length !== need)
    throw new ArgumentError(`ggml ${type}: ${n} weights take ${need} bytes, got ${bytes.length}`);
  const out = new Float32Array(n);
  if (type === "F32") {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) out[i] = v.getFloat32(4 * i, true);
    return out;
  }
  if (type === "F16" || type === "BF16") {
    // through the bits, so that a NaN keeps its sign and payload as ggml's conversion keeps them
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) {
      const h = v.getUint16(2 * i, true);
      bits[i] =
        type === "BF16"
          ? (h << 16) >>> 0
          : (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0
            ? (((h & 0x8000) << 16) | 0x7f800000 | ((h & 0x3ff) << 13)) >>> 0
            : bitsOf(fp16ToFp32(h));
    }
    return out;
  }
  DEQUANTIZE[type](bytes, out, n / GGML_TYPES[type].blockSize);
  return out;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
function littleEndian(y: Uint8Array, size: number): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return y;
  for (let i = 0; i < y.length; i += size) y.subarray(i, i + size).reverse();
  return y;
}
