// Reference layout kernels: copies through arbitrary strides.

import type { LayoutKernels } from "../backend.js";

/** Calls visit(i, p) for each row-major index i of `shape`, with p = offset + idx·strides. */
function walk(
  offset: number,
  strides: readonly number[],
  shape: readonly number[],
  visit: (i: number, p: number) => void,
): void {
  const nd = shape.length;
  let n = 1;
  for (const d of shape) n *= d;
  if (n === 0) return;
  const idx = new Array<number>(nd).fill(0);
  let p = offset;
  for (let i = 0; i < n; i++) {
    visit(i, p);
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]!++;
      p += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      p -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

export const layout: LayoutKernels = {
  stridedCopy(x, offset, strides, shape, out) {
    walk(offset, strides, shape, (i, p) => {
      out[i] = x[p]!;
    });
  },
  stridedAssign(src, dst, offset, strides, shape, accumulate) {
    if (accumulate)
      walk(offset, strides, shape, (i, p) => {
        dst[p] = dst[p]! + src[i]!;
      });
    else
      walk(offset, strides, shape, (i, p) => {
        dst[p] = src[i]!;
      });
  },
  tri(x, out, batch, rows, cols, k, upper) {
    for (let t = 0; t < batch; t++) {
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          const p = (t * rows + i) * cols + j;
          const keep = upper ? j - i >= k : j - i <= k;
          out[p] = keep ? x[p]! : 0;
        }
      }
    }
  },
};
