// Indexing kernels of the wasm backend (gather / scatterAdd, indexSelect / indexAdd: embedding and its
// backward), in TypeScript, float32 (other dtypes run the reference). Like the layout copies they only
// move data, so a trip through wasm memory would cost a copy in and out for nothing; what they gain over
// the reference is monomorphic Float32Array loops (the reference's loops see every dtype) and whole rows
// copied with TypedArray.set. Same additions in the same order as the reference: bit-identical.

import type { Arr, IndexKernels } from "../backend.js";
import { index as reference } from "../reference/index-kernels.js";

/** Rows at least this long are copied with TypedArray.set. */
const SET_MIN = 32;

export const indexing: Partial<IndexKernels> = {
  gather(x: Arr, index, out: Arr, outer, rx, ri, inner) {
    if (!(x instanceof Float32Array && out instanceof Float32Array))
      return reference.gather(x, index, out, outer, rx, ri, inner);
    // out[(o, i, j)] = x[(o, index[(o, i, j)], j)]
    for (let o = 0; o < outer; o++) {
      const xo = o * rx * inner;
      for (let i = 0; i < ri; i++) {
        const q = (o * ri + i) * inner;
        for (let j = 0; j < inner; j++) out[q + j] = x[xo + index[q + j]! * inner + j]!;
      }
    }
  },

  scatterAdd(dst: Arr, index, src: Arr, outer, rd, ri, inner) {
    if (!(dst instanceof Float32Array && src instanceof Float32Array))
      return reference.scatterAdd(dst, index, src, outer, rd, ri, inner);
    // dst[(o, index[(o, i, j)], j)] += src[(o, i, j)]
    for (let o = 0; o < outer; o++) {
      const d0 = o * rd * inner;
      for (let i = 0; i < ri; i++) {
        const q = (o * ri + i) * inner;
        for (let j = 0; j < inner; j++) {
          const p = d0 + index[q + j]! * inner + j;
          dst[p] = dst[p]! + src[q + j]!;
        }
      }
    }
  },

  indexSelect(x: Arr, idx, out: Arr, outer, n, inner) {
    if (!(x instanceof Float32Array && out instanceof Float32Array))
      return reference.indexSelect(x, idx, out, outer, n, inner);
    // out[(o, i, j)] = x[(o, idx[i], j)]: whole rows of inner
    const m = idx.length;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < m; i++) {
        const p = (o * n + idx[i]!) * inner,
          q = (o * m + i) * inner;
        if (inner >= SET_MIN) out.set(x.subarray(p, p + inner), q);
        else for (let j = 0; j < inner; j++) out[q + j] = x[p + j]!;
      }
    }
  },

  indexAdd(dst: Arr, idx, src: Arr, outer, n, inner) {
    if (!(dst instanceof Float32Array && src instanceof Float32Array))
      return reference.indexAdd(dst, idx, src, outer, n, inner);
    // dst[(o, idx[i], j)] += src[(o, i, j)]
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
