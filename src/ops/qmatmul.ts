// The product on GGML blocks as the models call it: y (T, N) = x (T, K) · Wᵀ with W (N, K) kept in its
// Q8_0, Q4_0, Q4_K, Q5_K or Q6_K blocks, computed by the active backend's `qmatmul` kernel (the reference's plain loops, or
// the wasm SIMD kernel over the pool). Inference only: nothing here records a gradient.
// The half-precision conversions and the activation rounding are re-exported for src/io/ggml.

import { ArgumentError } from "../engine/errors.js";
import { QUANT_BLOCK_TYPES, type QuantBlockType } from "../backend/backend.js";
import { QUANT_BLOCK_BYTES, QUANT_BLOCK_SIZE } from "../backend/reference/qmatmul.js";
import { kernels } from "./kernels.js";

export { fp16ToFp32, fp32ToFp16 } from "../backend/reference/half.js";
export { quantizeActivations } from "../backend/reference/qmatmul.js";
export { quantizeActivationsK } from "../backend/reference/qmatmul-k.js";
export { QUANT_BLOCK_TYPES, type QuantBlockType };

export function isQuantBlockType(type: string): type is QuantBlockType {
  return (QUANT_BLOCK_TYPES as readonly string[]).includes(type);
}

/** y (T, N) = x (T, K) · Wᵀ, W (N, K) given as N rows of K/32 `type` blocks (K/256 for the k-quants). */
export function qmatmulBlocks(
  x: Float32Array,
  T: number,
  K: number,
  w: Uint8Array,
  type: QuantBlockType,
  N: number,
): Float32Array {
  if (!isQuantBlockType(type))
    throw new ArgumentError(`qmatmul: ${String(type)} is not one of ${QUANT_BLOCK_TYPES.join(", ")}`);
  const bs = QUANT_BLOCK_SIZE[type];
  if (!Number.isSafeInteger(K) || K <= 0 || K % bs !== 0)
    throw new ArgumentError(`qmatmul: ${type} rows of ${K} weights are not whole blocks of ${bs}`);
  if (x.length !== T * K) throw new ArgumentError(`qmatmul: x has ${x.length} values, expected (${T}, ${K})`);
  const need = (K / bs) * QUANT_BLOCK_BYTES[type] * N;
  if (w.length !== need)
    throw new ArgumentError(`qmatmul: ${type} weight (${N}, ${K}) takes ${need} bytes, got ${w.length}`);
  const y = new Float32Array(T * N);
  if (T * N > 0) kernels().qmatmul(x, w, y, { type, t: T, k: K, n: N });
  return y;
}
