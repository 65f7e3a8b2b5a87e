// Reductions of the wasm backend, in TypeScript. sum over the middle dim of (outer, r, inner): the
// reference adds down each column with a stride of `inner` (one cache line per element when inner is
// large, e.g. a bias gradient Σ_rows dy); here the rows are added into a float64 accumulator row in
// order, so memory is read sequentially. The same additions in the same order: bit-identical.

import type { ReduceKernels } from "../backend.js";
import { reduce as reference } from "../reference/reduce.js";

export const reduce: Partial<ReduceKernels> = {
  sum(x, out, outer, r, inner) {
    if (!(x instanceof Float32Array || x instanceof Float64Array) || inner === 1) {
      reference.sum(x, out, outer, r, inner);
      return;
    }
    const acc = new Float64Array(inner);
    for (let o = 0; o < outer; o++) {
      acc.fill(0);
      // acc_j = Σ_i x[(o, i, j)]
      for (let i = 0, p = o * r * inner; i < r; i++, p += inner) {
        for (let j = 0; j < inner; j++) acc[j] = acc[j]! + x[p + j]!;
      }
      for (let j = 0; j < inner; j++) out[o * inner + j] = acc[j]!;
    }
  },
};
