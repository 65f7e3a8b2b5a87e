// Reference reductions over the middle dim of (outer, r, inner).

import type { Arr, ReduceKernels } from "../backend.js";

function extreme(better: (a: number, b: number) => boolean) {
  return (x: Arr, values: Arr, indices: Int32Array, outer: number, r: number, inner: number): void => {
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * r * inner + j;
        let best = x[base]!, at = 0;
        for (let i = 1; i < r && !Number.isNaN(best); i++) {
          const v = x[base + i * inner]!;
          if (Number.isNaN(v) || better(v, best)) {
            best = v;
            at = i;
          }
        }
        values[o * inner + j] = best;
        indices[o * inner + j] = at;
      }
    }
  };
}

export const reduce: ReduceKernels = {
  sum(x, out, outer, r, inner) {
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        let s = 0;
        for (let i = 0, p = o * r * inner + j; i < r; i++, p += inner) s += x[p]!;
        out[o * inner + j] = s;
      }
    }
  },
  max: extreme((a, b) => a > b),
  min: extreme((a, b) => a < b),
};
