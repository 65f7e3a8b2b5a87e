// Layout kernels of the wasm backend, in TypeScript (a copy gains nothing from wasm: it would be copied
// in and out again). The reference visits every element through a closure; here the view's dims are
// coalesced (size-1 dims dropped, dims that step like one merged) and the innermost dim is copied as a
// run: TypedArray.set for long contiguous runs, fill for a broadcast one, a plain loop otherwise. The
// outer dims are walked by an odometer once per run. Exact for every dtype (copies and, for
// stridedAssign with accumulate, the reference's one addition per element).

import type { Arr, LayoutKernels } from "../backend.js";

/** Runs at least this long are copied with TypedArray.set (below, a loop is cheaper than a subarray). */
const SET_MIN = 64;

/** shape and strides with size-1 dims dropped and adjacent dims merged where the strides allow. */
function coalesce(shape: readonly number[], strides: readonly number[]): [number[], number[]] {
  const sh: number[] = [], st: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const k = sh.length - 1;
    if (k >= 0 && st[k] === strides[d]! * n) {
      sh[k] = sh[k]! * n;
      st[k] = strides[d]!;
    } else {
      sh.push(n);
      st.push(strides[d]!);
    }
  }
  return [sh, st];
}

/**
 * Calls run(i, p) for each run of the coalesced view: i the index of its first element in row-major
 * order, p its offset in the strided array.
 */
function eachRun(offset: number, sh: number[], st: number[], run: (i: number, p: number) => void): void {
  const nd = sh.length;
  const inner = sh[nd - 1]!;
  let outer = 1;
  for (let d = 0; d < nd - 1; d++) outer *= sh[d]!;
  const idx = new Array<number>(Math.max(nd - 1, 0)).fill(0);
  let p = offset;
  for (let r = 0, i = 0; r < outer; r++, i += inner) {
    run(i, p);
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      p += st[d]!;
      if (idx[d]! < sh[d]!) break;
      p -= st[d]! * sh[d]!;
      idx[d] = 0;
    }
  }
}

export const layout: Partial<LayoutKernels> = {
  stridedCopy(x: Arr, offset: number, strides: readonly number[], shape: readonly number[], out: Arr): void {
    let n = 1;
    for (const d of shape) n *= d;
    if (n === 0) return;
    const [sh, st] = coalesce(shape, strides);
    if (sh.length === 0) {
      out[0] = x[offset]!;
      return;
    }
    const inner = sh[sh.length - 1]!, s = st[st.length - 1]!;
    // out[i .. i+inner) = x[p], x[p + s], ...
    if (s === 1 && inner >= SET_MIN) eachRun(offset, sh, st, (i, p) => out.set(x.subarray(p, p + inner), i));
    else if (s === 0) eachRun(offset, sh, st, (i, p) => out.fill(x[p]!, i, i + inner));
    else eachRun(offset, sh, st, (i, p) => {
      for (let j = 0; j < inner; j++, p += s) out[i + j] = x[p]!;
    });
  },

  stridedAssign(src: Arr, dst: Arr, offset: number, strides: readonly number[], shape: readonly number[], accumulate: boolean): void {
    let n = 1;
    for (const d of shape) n *= d;
    if (n === 0) return;
    const [sh, st] = coalesce(shape, strides);
    if (sh.length === 0) {
      dst[offset] = accumulate ? dst[offset]! + src[0]! : src[0]!;
      return;
    }
    const inner = sh[sh.length - 1]!, s = st[st.length - 1]!;
    // dst[p], dst[p + s], ... (+)= src[i .. i+inner), runs in row-major order: where a broadcast (zero)
    // stride makes several elements land on one destination, they are added in the reference's order
    if (accumulate) eachRun(offset, sh, st, (i, p) => {
      for (let j = 0; j < inner; j++, p += s) dst[p] = dst[p]! + src[i + j]!;
    });
    else if (s === 1 && inner >= SET_MIN) eachRun(offset, sh, st, (i, p) => dst.set(src.subarray(i, i + inner), p));
    else eachRun(offset, sh, st, (i, p) => {
      for (let j = 0; j < inner; j++, p += s) dst[p] = src[i + j]!;
    });
  },
};
