// Blocks of the wasm memory that outlive one kernel call: the storage of tensors made inside a memory
// scope (src/engine/scope.ts), of kept tensors (parameters, gradients, optimizer state), and the weight
// copies of an inference (weights.ts). A kernel handed a typed array that lives here reads and writes it
// where it is — no copy in, no copy out (`residentOffset`).
//
// Memory map (bytes):  … [ARENA, top) the heap's blocks, live or free · [top, …) the per-call scratch
// arena (arena.ts), which starts wherever the heap ends and is reused by every call.
//
// Allocation: sizes are rounded up to a size class (64-byte steps up to 4 KiB, then eight classes per
// power of two: at most 12.5 % slack), a freed block goes on its class's free list, and an allocation
// takes a free block of its class before it moves `top` up. A training step allocates the same sizes
// every step, so after the first step every allocation is a free-list pop and the heap stays flat.
// Free blocks that end at `top` are given back to the scratch arena (top moves down).
//
// Only a shared memory (SharedArrayBuffer: Node, cross-origin-isolated browsers) can host tensor
// storage: a plain wasm memory detaches every view when it grows. Without one `heapAvailable()` is
// false and tensors keep ordinary typed arrays; blocks addressed only by offset (weights.ts) still work.

import { ARENA, ensureBytes, wasm, type WasmState } from "./instance.js";
import { MAX_PAGES } from "./generated/kernels.js";

const PAGE = 65536;
/** The heap stops growing here, leaving the rest of wasm32's 4 GiB to the scratch arena. */
const HEAP_LIMIT = Math.min(MAX_PAGES * PAGE, 3 * 2 ** 30);

let top = ARENA;
/** size class (bytes) → offsets of free blocks of that class */
const freeLists = new Map<number, Set<number>>();
/** offset → class of every block, live or free */
const classAt = new Map<number, number>();
/** end offset → offset, for free blocks (to give the ones at `top` back) */
const freeByEnd = new Map<number, number>();
let liveBytes = 0;

/** The buffers of our memory that views have been made over (one per growth). */
const buffers = new WeakSet<ArrayBufferLike>();

/** Bytes a block of `bytes` takes: its size class. */
export function sizeClass(bytes: number): number {
  const b = Math.max(64, Math.ceil(bytes / 64) * 64);
  if (b <= 4096) return b;
  const step = 2 ** Math.floor(Math.log2(b)) / 8;
  return Math.ceil(b / step) * step;
}

/** Where the per-call scratch arena starts: above every block. */
export function heapTop(): number {
  return top;
}

/** True when the heap can hold blocks (the memory is shared, so views survive its growth). */
export function heapAvailable(): boolean {
  return wasm().shared;
}

/** A block of at least `bytes` bytes (64-byte aligned, contents undefined), or -1 when none can be had. */
export function heapAlloc(bytes: number): number {
  const st = wasm();
  const c = sizeClass(bytes);
  const list = freeLists.get(c);
  if (list !== undefined && list.size > 0) {
    const off = list.values().next().value as number;
    list.delete(off);
    freeByEnd.delete(off + c);
    liveBytes += c;
    return off;
  }
  if (top + c > HEAP_LIMIT) return -1;
  const off = top;
  top += c;
  try {
    ensureBytes(st, top);
  } catch {
    top = off;
    return -1;
  }
  classAt.set(off, c);
  liveBytes += c;
  return off;
}

/** Returns a block to the heap. */
export function heapFree(off: number): void {
  const c = classAt.get(off);
  if (c === undefined || freeByEnd.get(off + c) === off)
    throw new Error(`wasm heap: freeing ${off}, which is not a live block`);
  liveBytes -= c;
  if (off + c === top) {
    classAt.delete(off);
    top = off;
    // the free blocks now at the top go back to the scratch arena too
    for (let below = freeByEnd.get(top); below !== undefined; below = freeByEnd.get(top)) {
      const bc = classAt.get(below)!;
      freeByEnd.delete(top);
      freeLists.get(bc)!.delete(below);
      classAt.delete(below);
      top = below;
    }
    return;
  }
  let list = freeLists.get(c);
  if (list === undefined) freeLists.set(c, (list = new Set()));
  list.add(off);
  freeByEnd.set(off + c, off);
}

/** Bytes in live blocks, and the heap's extent (live + free + bookkeeping slack). */
export function heapStats(): { liveBytes: number; topBytes: number } {
  return { liveBytes, topBytes: top - ARENA };
}

/** A float32 or int32 view of n elements over the block at `off`. */
export function heapView(off: number, n: number, kind: "float32" | "int32"): Float32Array | Int32Array {
  const buf = wasm().memory.buffer;
  buffers.add(buf);
  return kind === "float32" ? new Float32Array(buf, off, n) : new Int32Array(buf, off, n);
}

/**
 * The byte offset of x in wasm memory when x is a view over it (a block of this heap, or a part of
 * one), else -1: then a kernel copies x into its scratch arena.
 */
export function residentOffset(x: ArrayBufferView): number {
  return buffers.has(x.buffer) ? x.byteOffset : -1;
}

/** The instance the heap lives in (for callers that need the memory). */
export function heapState(): WasmState {
  return wasm();
}

/**
 * The heap as the engine's memory-scope allocator (src/engine/scope.ts, installed by src/ops/kernels.ts
 * while the wasm backend is active; it lends nothing when the memory is not shared). The instance is
 * created on the first allocation, not at install (the Node entry sets V8 flags first).
 */
export const residentAllocator = {
  alloc(dtype: "float32" | "int32", n: number, zero = true): Float32Array | Int32Array | null {
    if (!heapAvailable()) return null; // a plain memory: views would detach when it grows
    const off = heapAlloc(4 * n);
    if (off < 0) return null;
    if (zero) wasm().exports.zeroBytes(off, 4 * n); // (a typed array's fill on shared memory is ≈ 10× slower)
    return heapView(off, n, dtype);
  },
  free(view: Float32Array | Int32Array): void {
    heapFree(view.byteOffset);
  },
  owns(x: ArrayBufferView): boolean {
    return residentOffset(x) >= 0;
  },
};
