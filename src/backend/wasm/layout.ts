// Layout kernels of the wasm backend, for float32 (other dtypes run the reference). The reference visits
// every element through a closure; here the view's dims are coalesced first (size-1 dims dropped, dims
// that step like one merged), and then:
// - a transpose (the innermost dim strided, some outer dim with stride 1), copied or assigned, runs in
//   wasm by 4×4 register tiles (./assembly/arith.ts, transposeF32), reads and writes both in 16-byte
//   runs; operands outside wasm memory are copied into the arena and out again when the view has at least
//   ARENA_MIN elements (at memcpy speed, against a cache miss per element for the element loop);
// - otherwise, when both operands live in wasm memory (tensors of a memory scope, kept tensors: heap.ts),
//   the run-by-run loop in wasm (./assembly/arith.ts, stridedF32) where the inner stride is small;
// - otherwise the same loop in TypeScript: the innermost dim copied as a run — TypedArray.set for long
//   contiguous runs, a plain loop otherwise — with the outer dims walked by an odometer once per run.
// The functions take Float32Array only, so V8 compiles monomorphic loads and stores. Exact: copies, and for
// stridedAssign with accumulate the reference's additions in the reference's order (accumulation never
// takes the tiled kernel, whose order differs).

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
  // slower in this scalar wasm loop than in TypeScript (transposes with a stride-1 dim went to the tiled
  // kernel before this; the others stay in TypeScript)
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

/** Below this many elements a view of arrays outside wasm memory stays in TypeScript (the trip costs more). */
const ARENA_MIN = 16384;
/** A view of an array outside wasm memory whose span is more than this many times its size stays in TypeScript. */
const ARENA_SPAN = 8;

/**
 * The dim of the coalesced view that transposeF32 moves with the innermost: one (not the innermost) with
 * stride 1 and at least 4 elements, the innermost having another stride (0, a broadcast, included) and at
 * least 4 elements; -1 when the view is no such transpose.
 */
function transposeDim(sh: readonly number[], st: readonly number[]): number {
  const nd = sh.length;
  if (nd < 2 || st[nd - 1] === 1 || sh[nd - 1]! < 4) return -1;
  for (let d = nd - 2; d >= 0; d--) if (st[d] === 1 && sh[d]! >= 4) return d;
  return -1;
}

/**
 * Whether the view writes each element of x at most once: with the dims sorted by |stride|, each stride
 * steps over everything the smaller dims reach (sufficient, not necessary). The tiled kernel writes in
 * another order than the reference's, which gives the same result only when no element is written twice.
 */
function injective(sh: readonly number[], st: readonly number[]): boolean {
  const dims = sh.map((_, d) => d).sort((a, b) => Math.abs(st[a]!) - Math.abs(st[b]!));
  let reach = 0; // the largest |offset| the dims so far reach
  for (const d of dims) {
    if (Math.abs(st[d]!) <= reach) return false;
    reach += (sh[d]! - 1) * Math.abs(st[d]!);
  }
  return true;
}

/**
 * A transpose-like copy (dir COPY) or assignment (dir ASSIGN) of the coalesced view in wasm by 4×4 tiles
 * (./assembly/arith.ts, transposeF32): both sides walk memory in 16-byte runs, where the element loop
 * touches a new cache line per element on the strided side. Operands outside wasm memory are copied in
 * (of x, only the span the view reaches) and out at memcpy speed, when the view is large enough to pay
 * for it. false when the view is no such transpose, and nothing was done.
 */
function transposeWasm(
  dir: Dir.COPY | Dir.ASSIGN,
  x: Float32Array,
  offset: number,
  sh: number[],
  st: number[],
  y: Float32Array,
  n: number,
): boolean {
  const nd = sh.length;
  if (nd > WASM_MAX_DIMS || n < WASM_MIN) return false;
  const a = transposeDim(sh, st);
  if (a < 0 || (dir === Dir.ASSIGN && !injective(sh, st))) return false;
  // x[lo ..= hi]: the elements the view reaches
  let lo = offset,
    hi = offset;
  for (let d = 0; d < nd; d++) {
    const e = (sh[d]! - 1) * st[d]!;
    if (e < 0) lo += e;
    else hi += e;
  }
  // the trip through the arena copies the span (and, for an assignment, back): worth it from ARENA_MIN
  // elements, and while the span is not much larger than the view (a narrow column of a wide source)
  if (residentOffset(x) < 0 && (n < ARENA_MIN || hi + 1 - lo > ARENA_SPAN * n)) return false;
  if (residentOffset(y) < 0 && n < ARENA_MIN) return false;
  const span = x.subarray(lo, hi + 1);
  const fr = new Frame();
  // an assignment leaves the span's other elements as they were: copied in and out again
  const xo = dir === Dir.COPY ? fr.in(span) : fr.inout(span);
  const yo = dir === Dir.COPY ? fr.out(y, n) : fr.in(y, n);
  const idx = fr.alloc(2 * nd);
  fr.commit();
  const prm = fr.params();
  for (let d = 0; d < nd; d++) {
    prm[d] = sh[d]!;
    prm[16 + d] = st[d]!;
  }
  fr.exports.transposeF32(dir, xo, offset - lo, PARAMS, PARAMS + 64, nd, a, yo, idx);
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
    const n = numel(shape);
    if (!transposeWasm(Dir.COPY, x, offset, sh, st, out, n) && !stridedWasm(Dir.COPY, x, offset, sh, st, out, n))
      copyF32(x, offset, sh, st, out);
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
    const n = numel(shape);
    if (!accumulate && transposeWasm(Dir.ASSIGN, dst, offset, sh, st, src, n)) return;
    if (!stridedWasm(accumulate ? Dir.ACCUMULATE : Dir.ASSIGN, dst, offset, sh, st, src, n))
      assignF32(src, dst, offset, sh, st, accumulate);
  },
};
