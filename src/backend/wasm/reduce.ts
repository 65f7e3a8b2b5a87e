// Reductions of the wasm backend, float32 (other dtypes run the reference). sum over the middle dim of
// (outer, r, inner): the reference adds down each column with a stride of `inner` (a new cache line per
// element when inner is large, e.g. a bias gradient Σ_rows dy); here the rows are added into a float64
// accumulator row in order, so memory is read sequentially — in wasm SIMD (./assembly/arith.ts) for
// large inputs, a TypeScript loop for small ones. The same float64 additions in the same order as the
// reference: bit-identical.

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

export const reduce: Partial<ReduceKernels> = {
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
