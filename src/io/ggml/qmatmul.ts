// Matrix products on GGML blocks: y = x·Wᵀ with W kept quantized, never expanded to a float32 matrix.
// The reference kernel (plain loops, the spec a faster kernel is tested against), following what
// ggml's CPU backend computes (ggml-cpu/quants.c, the generic vec_dot_* as facts):
//
//   Q4_0 Q5_0 Q8_0   the activation row is quantized to Q8_0 blocks (see quantizeActivations), then
//                    Σ_blocks (d_w·d_x)·Σ_j q_w[j]·q_x[j]          (an exact integer inner sum);
//                    Q8_0 and Q4_0 on the active backend's kernel (src/ops/qmatmul.ts: plain loops in
//                    src/backend/reference/qmatmul.ts, SIMD over the thread pool in src/backend/wasm)
//   Q4_K Q5_K Q6_K   the activation row is quantized to Q8_K blocks of 256, integer sums per sub-block
//                    times its scale: on the backend's kernel too (src/backend/reference/qmatmul-k.ts)
//   Q4_1 Q5_1        to Q8_1 (Q8_0 plus s = d_x·Σ q_x), then Σ_blocks (d_w·d_x)·Σ q_w·q_x + m_w·s_x
//   F16 / BF16       the activations rounded to F16 / BF16, products summed in double
//   F32              summed in double
//   Q2_K Q3_K        each 256-weight block decoded into a small buffer and dotted with the float
//                    activations (ggml quantizes them to Q8_K instead; not reproduced here)
//
// Shapes: x (T, K) float32, W (N, K) as N rows of K/blockSize blocks, y (T, N).

import { ArgumentError } from "../../engine/errors.js";
import { isQuantBlockType, qmatmulBlocks, quantizeActivations } from "../../ops/qmatmul.js";
import {
  GGML_TYPES,
  bf16ToFp32,
  dequantize,
  fp16ToFp32,
  fp32ToBf16,
  fp32ToFp16,
  rowBytes,
  type GgmlType,
} from "./quants.js";

export { quantizeActivations };

const f = Math.fround;

/** The other legacy types (Q8_0, Q4_0 and Q4_K, Q5_K, Q6_K run on the backend kernel, src/ops/qmatmul.ts): per block a scale d, an offset m (Q4_1, Q5_1) and 32 integers. */
const LEGACY = new Set<GgmlType>(["Q4_1", "Q5_0", "Q5_1"]);
const HAS_MIN = new Set<GgmlType>(["Q4_1", "Q5_1"]);

/** Block b of a legacy row: q receives the 32 integers (offset removed where the format has one). */
function decodeLegacy(type: GgmlType, w: Uint8Array, o: number, q: Int32Array): { d: number; m: number } {
  const v = new DataView(w.buffer, w.byteOffset + o, GGML_TYPES[type].typeSize);
  const d = fp16ToFp32(v.getUint16(0, true));
  switch (type) {
    case "Q4_1":
      for (let j = 0; j < 16; j++) {
        const b = w[o + 4 + j]!;
        q[j] = b & 0xf;
        q[j + 16] = b >> 4;
      }
      return { d, m: fp16ToFp32(v.getUint16(2, true)) };
    case "Q5_0": {
      const qh = v.getUint32(2, true);
      for (let j = 0; j < 16; j++) {
        const b = w[o + 6 + j]!;
        q[j] = ((b & 0xf) | (((qh >>> j) & 1) << 4)) - 16;
        q[j + 16] = ((b >> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16;
      }
      return { d, m: 0 };
    }
    case "Q5_1": {
      const qh = v.getUint32(4, true);
      for (let j = 0; j < 16; j++) {
        const b = w[o + 8 + j]!;
        q[j] = (b & 0xf) | (((qh >>> j) & 1) << 4);
        q[j + 16] = (b >> 4) | (((qh >>> (j + 16)) & 1) << 4);
      }
      return { d, m: fp16ToFp32(v.getUint16(2, true)) };
    }
    default:
      throw new ArgumentError(`qmatmul: ${type} is not a 32-block type`);
  }
}

/** y (T, N) = x (T, K) · Wᵀ, W (N, K) stored as `type` blocks in `w` (rowBytes(type, K) bytes per row). */
export function qmatmul(x: Float32Array, T: number, K: number, w: Uint8Array, type: GgmlType, N: number): Float32Array {
  const rb = rowBytes(type, K);
  if (x.length !== T * K) throw new ArgumentError(`qmatmul: x has ${x.length} values, expected (${T}, ${K})`);
  if (w.length !== rb * N)
    throw new ArgumentError(`qmatmul: ${type} weight (${N}, ${K}) takes ${rb * N} bytes, got ${w.length}`);
  if (isQuantBlockType(type)) return qmatmulBlocks(x, T, K, w, type, N); // the backend's kernel
  const y = new Float32Array(T * N);
  const { blockSize, typeSize } = GGML_TYPES[type];
  const nb = K / blockSize;

  if (LEGACY.has(type)) {
    // decode every weight block once: integers and scales (the memory of the integers is transient per call)
    const qw = new Int32Array(32);
    const withMin = HAS_MIN.has(type);
    const acts = Array.from({ length: T }, (_, t) => quantizeActivations(x.subarray(t * K, (t + 1) * K), withMin));
    for (let n = 0; n < N; n++) {
      for (let b = 0; b < nb; b++) {
        const { d, m } = decodeLegacy(type, w, n * rb + b * typeSize, qw);
        for (let t = 0; t < T; t++) {
          const a = acts[t]!;
          let sumi = 0;
          for (let j = 0; j < 32; j++) sumi += qw[j]! * a.q[32 * b + j]!;
          // sumf += (d_w·d_x)·sumi (+ m_w·s_x)
          let term = f(f(d * a.d[b]!) * sumi);
          if (withMin) term = f(term + f(m * a.s[b]!));
          y[t * N + n] = f(y[t * N + n]! + term);
        }
      }
    }
    return y;
  }

  if (type === "F32" || type === "F16" || type === "BF16") {
    // ggml rounds the activations to the weight's type before the dot product
    const xr =
      type === "F32"
        ? x
        : Float32Array.from(x, type === "F16" ? (v) => fp16ToFp32(fp32ToFp16(v)) : (v) => bf16ToFp32(fp32ToBf16(v)));
    const wRow = new Float32Array(K);
    for (let n = 0; n < N; n++) {
      wRow.set(dequantize(type, w.subarray(n * rb, (n + 1) * rb), K));
      for (let t = 0; t < T; t++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += xr[t * K + k]! * wRow[k]!;
        y[t * N + n] = s;
      }
    }
    return y;
  }

  // Q2_K, Q3_K: one 256-weight block decoded at a time
  const acc = new Float64Array(T);
  for (let n = 0; n < N; n++) {
    acc.fill(0);
    for (let b = 0; b < nb; b++) {
      const o = n * rb + b * typeSize;
      const wb = dequantize(type, w.subarray(o, o + typeSize), blockSize); // (256)
      for (let t = 0; t < T; t++) {
        let s = 0;
        const xo = t * K + b * blockSize;
        for (let j = 0; j < blockSize; j++) s += x[xo + j]! * wb[j]!;
        acc[t]! += s;
      }
    }
    for (let t = 0; t < T; t++) y[t * N + n] = acc[t]!;
  }
  return y;
}
