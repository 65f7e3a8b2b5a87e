// IEEE half precision ↔ float32, exactly as ggml converts (the scales of the GGML blocks are halves).
// Here, in the backend floor, so that the block kernels and the block formats (src/io/ggml/quants.ts,
// which re-exports these) share one definition.

const scratch = new DataView(new ArrayBuffer(4));
const bitsOf = (x: number): number => (scratch.setFloat32(0, x, true), scratch.getUint32(0, true));
const fromBits = (b: number): number => (scratch.setUint32(0, b >>> 0, true), scratch.getFloat32(0, true));

/** float32 → IEEE half, round to nearest even; NaN → quiet NaN 0x7E00 with its sign (ggml's rule). */
export function fp32ToFp16(x: number): number {
  const w = bitsOf(x);
  const sign = (w >>> 16) & 0x8000;
  const abs = w & 0x7fffffff;
  if (abs > 0x7f800000) return sign | 0x7e00; // NaN
  if (abs >= 0x477ff000) return sign | 0x7c00; // ≥ 65520 rounds to ±inf (and inf stays inf)
  if (abs < 0x38800000) {
    // below 2^-14: a subnormal half, mantissa = |x|·2^24 rounded to nearest even (exact in double)
    const v = Math.abs(fromBits(abs)) * 2 ** 24;
    let m = Math.floor(v);
    const rest = v - m;
    if (rest > 0.5 || (rest === 0.5 && (m & 1) === 1)) m++;
    return sign | m; // m = 0x400 is the smallest normal: the encoding carries over by itself
  }
  const e = (abs >>> 23) - 127 + 15; // rebias the exponent
  const mant = abs & 0x7fffff;
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff; // the 13 bits dropped
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++; // a carry into the exponent is right
  return sign | h;
}

/** IEEE half → float32 (exact). */
export function fp16ToFp32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m === 0 ? sign * Infinity : NaN;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}
