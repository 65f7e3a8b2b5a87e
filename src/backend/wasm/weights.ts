// Copies of weights kept in wasm memory across matmul calls (MatmulParams.constantB): during an
// inference (one no-grad region of the engine) every Linear's weight is copied into wasm memory once
// and then read from there by every call — for token-by-token decoding that removes a copy of all the
// weights per token (≈ 500 MB for GPT-2 small). A copy is reused only while
//   - the region number the op passes is the one the copy was made under (a new noGrad call, or any
//     training in between, starts over: every copy is dropped and its memory reused), and
//   - 16 elements sampled across the weight still hold the values copied (a cheap guard against a
//     weight rewritten inside one no-grad region, e.g. loadStateDict between two generations).
// A weight that already lives in wasm memory (a kept parameter, heap.ts) is read where it is, never copied.
// Memory: each copy is a block of the heap (heap.ts); all are freed together when the region changes.

import { heapAlloc, heapFree } from "./heap.js";
import type { WasmState } from "./instance.js";

const SAMPLES = 16;

interface Entry {
  readonly off: number;
  readonly length: number;
  readonly sample: Float32Array;
}

let region = NaN;
let entries = new WeakMap<Float32Array, Entry>();
/** every block held by a copy (stale ones included), freed when the region changes */
let blocks: number[] = [];
let bytes = 0;

function sampleOf(b: Float32Array): Float32Array {
  const s = new Float32Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) s[i] = b[Math.floor((i * (b.length - 1)) / (SAMPLES - 1))]!;
  return s;
}

function matches(b: Float32Array, e: Entry): boolean {
  if (b.length !== e.length) return false;
  for (let i = 0; i < SAMPLES; i++) {
    const x = b[Math.floor((i * (b.length - 1)) / (SAMPLES - 1))]!,
      y = e.sample[i]!;
    if (x !== y && !(x !== x && y !== y)) return false; // NaN matches NaN
  }
  return true;
}

/** The byte offset of a copy of b in wasm memory for this region (made now, or kept from an earlier call), or -1 when the memory is full. */
export function cachedWeight(st: WasmState, b: Float32Array, regionId: number): number {
  if (regionId !== region) {
    clearWeightCache();
    region = regionId;
  }
  const e = entries.get(b);
  if (e && matches(b, e)) return e.off;
  // a new copy (a stale one's block stays held until the region ends)
  const off = heapAlloc(4 * b.length + 16);
  if (off < 0) return -1;
  blocks.push(off);
  bytes += 4 * b.length;
  new Float32Array(st.memory.buffer).set(b, off >>> 2);
  entries.set(b, { off, length: b.length, sample: sampleOf(b) });
  return off;
}

/** Drops every copy (tests; and whoever writes weights inside a no-grad region without changing samples). */
export function clearWeightCache(): void {
  region = NaN;
  entries = new WeakMap();
  for (const off of blocks) heapFree(off);
  blocks = [];
  bytes = 0;
}

/** Bytes held by copies of weights. */
export function weightCacheBytes(): number {
  return bytes;
}
