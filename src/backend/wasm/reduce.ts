// Reductions of the wasm backend, float32 (other dtypes run the reference). sum over the middle dim of
// (outer, r, inner): the reference adds down each column with a stride of `inner` (a new cache line per
// element when inner is large, e.g. a bias gradient Σ_rows dy); here the rows are added into a float64
// accumulator row in order, so memory is read sequentially — in wasm SIMD (./assembly/arith.ts) for
// large inputs, a TypeScript loop for small ones. The same float64 additions in the same order as the
// reference: bit-identical (but for a contiguous row in wasm: eight partial sums, at most one float32
// rounding apart). max and min along a dim, with the index of the first winner: in wasm SIMD for large
// float32 inputs (extremeF32), with the reference's rule (a NaN wins and stops the scan).

import type { ReduceKernels } from "../backend.js";
import { reduce as reference } from "../reference/reduce.js";
import { Frame } from "./arena.js";

/** Below this many input elements the TypeScript loop beats setting up the copy. */
const WASM_SUM_MIN = 4096;

function sumF32(x: Float32Array, out: Float32Array, outer: number, r: number, inner: number): void {
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      // out_o = Σ_i x[(o, i)]
      let s = 0;
      for (let i = 0, p = o * r; i < r; i++, p++) s += x[p]!;
      out[o] = s;
    }
    return;
  }
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    // acc_j = Σ_i x[(o, i, j)]
    for (let i = 0, p = o * r * inner; i < r; i++, p += inner) {
      for (let j = 0; j < inner; j++) acc[j]! += x[p + j]!;
    }
    for (let j = 0; j < inner; j++) out[o * inner + j] = acc[j]!;
  }
}

/** max (1) or min (0) along the middle dim of (outer, r, inner), in wasm; false when the reference should run. */
function extremeWasm(
  x: ArrayLike<number>,
  values: ArrayLike<number>,
  indices: Int32Array,
  outer: number,
  r: number,
  inner: number,
  maxOrMin: 0 | 1,
): boolean {
  const n = outer * r * inner;
  if (!(x instanceof Float32Array && values instanceof Float32Array) || n < WASM_SUM_MIN || r === 0) return false;
  const fr = new Frame();
  const xo = fr.in(x, n),
    vo = fr.out(values, outer * inner),
    io = fr.alloc(outer * inner); // the indices: always copied out below (an int32 region)
  fr.commit();
  fr.exports.extremeF32(xo, vo, io, outer, r, inner, maxOrMin);
  indices.set(new Int32Array(fr.st.memory.buffer, io, outer * inner));
  fr.finish();
  return true;
}

export const reduce: Partial<ReduceKernels> = {
  max(x, values, indices, outer, r, inner) {
    if (!extremeWasm(x, values, indices, outer, r, inner, 1)) reference.max(x, values, indices, outer, r, inner);
  },
  min(x, values, indices, outer, r, inner) {
    if (!extremeWasm(x, values, indices, outer, r, inner, 0)) reference.min(x, values, indices, outer, r, inner);
  },
  sum(x, out, outer, r, inner) {
    if (!(x instanceof Float32Array && out instanceof Float32Array)) return reference.sum(x, out, outer, r, inner);
    const n = outer * r * inner;
    if (n < WASM_SUM_MIN || r === 0) return sumF32(x, out, outer, r, inner);
    // in wasm (./assembly/arith.ts): the same float64 accumulation, four columns at a time
    const fr = new Frame();
    const xo = fr.in(x, n),
      oo = fr.out(out, outer * inner),
      acc = fr.alloc(2 * inner);
    fr.commit();
    fr.exports.sumF32(xo, oo, outer, r, inner, acc);
    fr.finish();
  },
};
