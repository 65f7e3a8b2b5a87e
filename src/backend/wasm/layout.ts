// Layout kernels of the wasm backend, for float32 (other dtypes run the reference). When both operands
// live in wasm memory (tensors of a memory scope, kept tensors: heap.ts) the copy runs in wasm
// (./assembly/arith.ts, stridedF32) where it is; otherwise in TypeScript (a trip through wasm memory
// would copy the data in and out again for nothing). The reference visits every element
// through a closure; here the view's dims are coalesced (size-1 dims dropped, dims that step like one
// merged) and the innermost dim is copied as a run — TypedArray.set for long contiguous runs, a plain
// loop otherwise — with the outer dims walked by an odometer once per run. The functions take
// Float32Array only, so V8 compiles monomorphic loads and stores. Exact: copies, and for stridedAssign
// with accumulate the reference's additions in the reference's order.

import type { Arr, LayoutKernels } from "../backend.js";
import { layout as reference } from "../reference/layout.js";
import { Frame } from "./arena.js";
import { PARAMS } from "./instance.js";
import { residentOffset } from "./heap.js";

/** Views with more coalesced dims than this take the TypeScript path (the parameter block holds 64 i32). */
const WASM_MAX_DIMS = 16;
/** Below this many elements the TypeScript loop is as fast as the call into wasm. */
const WASM_MIN = 1024;
/** The largest inner stride (elements) the wasm loop takes. */
const WASM_MAX_INNER_STRIDE = 16;

const enum Dir {
  COPY = 0,
  ASSIGN = 1,
  ACCUMULATE = 2,
}

/**
 * The strided copy in wasm when x (the strided side) and y (the contiguous side) both live in wasm memory;
 * false when they do not (or the view is small or has too many dims), and nothing was done.
 */
function stridedWasm(
  dir: Dir,
  x: Float32Array,
  offset: number,
  sh: number[],
  st: number[],
  y: Float32Array,
  n: number,
): boolean {
  const nd = sh.length;
  // an inner stride of many elements (a transpose's) touches a new cache line per element: measured
  // slower in the scalar wasm loop than in TypeScript, so those stay in TypeScript
  if (nd === 0 || nd > WASM_MAX_DIMS || n < WASM_MIN || Math.abs(st[nd - 1]!) > WASM_MAX_INNER_STRIDE) return false;
  const xo = residentOffset(x),
    yo = residentOffset(y);
  if (xo < 0 || yo < 0) return false;
  const fr = new Frame();
  const idx = fr.alloc(nd);
  fr.commit();
  // shape at PARAMS, strides at PARAMS + 64 bytes (16 i32 each)
  const prm = fr.params();
  for (let d = 0; d < nd; d++) {
    prm[d] = sh[d]!;
    prm[16 + d] = st[d]!;
  }
  fr.exports.stridedF32(dir, xo, offset, PARAMS, PARAMS + 64, nd, yo, idx);
  fr.finish();
  return true;
}

/** Runs at least this long are copied with TypedArray.set (below, a loop is cheaper than a subarray). */
const SET_MIN = 64;

/** shape and strides with size-1 dims dropped and adjacent dims merged where the strides allow. */
function coalesce(shape: readonly number[], strides: readonly number[]): [number[], number[]] {
  const sh: number[] = [],
    st: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const k = sh.length - 1;
    // dim d continues dim k when one step of k equals n steps of d
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

/** out[i] = x[offset + idx(i)·st] over the coalesced view (sh, st), run by run. */
function copyF32(x: Float32Array, offset: number, sh: number[], st: number[], out: Float32Array): void {
  const nd = sh.length;
  if (nd === 0) {
    out[0] = x[offset]!;
    return;
  }
  const inner = sh[nd - 1]!,
    s = st[nd - 1]!;
  let outer = 1;
  for (let d = 0; d < nd - 1; d++) outer *= sh[d]!;
  const idx = new Int32Array(nd);
  let p = offset;
  for (let r = 0, i = 0; r < outer; r++, i += inner) {
    // out[i .. i+inner) = x[p], x[p + s], ...
    if (s === 1) {
      if (inner >= SET_MIN) out.set(x.subarray(p, p + inner), i);
      else for (let j = 0; j < inner; j++) out[i + j] = x[p + j]!;
    } else {
      for (let j = 0, q = p; j < inner; j++, q += s) out[i + j] = x[q]!;
    }
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      p += st[d]!;
      if (idx[d]! < sh[d]!) break;
      p -= st[d]! * sh[d]!;
      idx[d] = 0;
    }
  }
}

/** dst[offset + idx(i)·st] (+)= src[i] over the coalesced view, run by run in row-major order. */
function assignF32(
  src: Float32Array,
  dst: Float32Array,
  offset: number,
  sh: number[],
  st: number[],
  accumulate: boolean,
): void {
  const nd = sh.length;
  if (nd === 0) {
    dst[offset] = accumulate ? dst[offset]! + src[0]! : src[0]!;
    return;
  }
  const inner = sh[nd - 1]!,
    s = st[nd - 1]!;
  let outer = 1;
  for (let d = 0; d < nd - 1; d++) outer *= sh[d]!;
  const idx = new Int32Array(nd);
  let p = offset;
  for (let r = 0, i = 0; r < outer; r++, i += inner) {
    // dst[p], dst[p + s], ... (+)= src[i .. i+inner); where a zero stride sends several elements to one
    // destination they are added in the reference's (row-major) order
    if (accumulate) for (let j = 0, q = p; j < inner; j++, q += s) dst[q] = dst[q]! + src[i + j]!;
    else if (s === 1 && inner >= SET_MIN) dst.set(src.subarray(i, i + inner), p);
    else for (let j = 0, q = p; j < inner; j++, q += s) dst[q] = src[i + j]!;
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      p += st[d]!;
      if (idx[d]! < sh[d]!) break;
      p -= st[d]! * sh[d]!;
      idx[d] = 0;
    }
  }
}

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export const layout: Partial<LayoutKernels> = {
  stridedCopy(x: Arr, offset: number, strides: readonly number[], shape: readonly number[], out: Arr): void {
    if (!(x instanceof Float32Array && out instanceof Float32Array))
      return reference.stridedCopy(x, offset, strides, shape, out);
    if (numel(shape) === 0) return;
    const [sh, st] = coalesce(shape, strides);
    if (!stridedWasm(Dir.COPY, x, offset, sh, st, out, numel(shape))) copyF32(x, offset, sh, st, out);
  },

  stridedAssign(
    src: Arr,
    dst: Arr,
    offset: number,
    strides: readonly number[],
    shape: readonly number[],
    accumulate: boolean,
  ): void {
    if (!(src instanceof Float32Array && dst instanceof Float32Array))
      return reference.stridedAssign(src, dst, offset, strides, shape, accumulate);
    if (numel(shape) === 0) return;
    const [sh, st] = coalesce(shape, strides);
    if (!stridedWasm(accumulate ? Dir.ACCUMULATE : Dir.ASSIGN, dst, offset, sh, st, src, numel(shape)))
      assignF32(src, dst, offset, sh, st, accumulate);
  },
};
