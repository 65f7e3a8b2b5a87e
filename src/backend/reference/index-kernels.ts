// Reference indexing kernels: gather / scatter-add along the middle dim of (outer, r, inner), and
// index-select / index-add of whole slices. The op checks every index before calling; kernels trust them.

import type { IndexKernels } from "../backend.js";

export const index: IndexKernels = {
  // out[(o, i, j)] = x[(o, index[(o, i, j)], j)]
  gather(x, index, out, outer, rx, ri, inner) {
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < ri; i++) {
        const q = (o * ri + i) * inner; // row (o, i) of index and out
        for (let j = 0; j < inner; j++) out[q + j] = x[(o * rx + index[q + j]!) * inner + j]!;
      }
    }
  },

  // dst[(o, index[(o, i, j)], j)] += src[(o, i, j)]
  scatterAdd(dst, index, src, outer, rd, ri, inner) {
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < ri; i++) {
        const q = (o * ri + i) * inner;
        for (let j = 0; j < inner; j++) {
          const p = (o * rd + index[q + j]!) * inner + j;
          dst[p] = dst[p]! + src[q + j]!;
        }
      }
    }
  },

  // out[(o, i, j)] = x[(o, idx[i], j)]
  indexSelect(x, idx, out, outer, n, inner) {
    const m = idx.length;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < m; i++) {
        const p = (o * n + idx[i]!) * inner,
          q = (o * m + i) * inner;
        for (let j = 0; j < inner; j++) out[q + j] = x[p + j]!;
      }
    }
  },

  // dst[(o, idx[i], j)] += src[(o, i, j)]
  indexAdd(dst, idx, src, outer, n, inner) {
    const m = idx.length;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < m; i++) {
        const p = (o * n + idx[i]!) * inner,
          q = (o * m + i) * inner;
        for (let j = 0; j < inner; j++) dst[p + j] = dst[p + j]! + src[q + j]!;
      }
    }
  },
};
