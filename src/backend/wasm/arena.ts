// The scratch arena of the wasm memory, as one kernel call uses it: its operands are copied into
// consecutive regions from the arena's base on (ARENA, or above the weights kept by weights.ts), the
// kernel runs, its results are copied out. Every call starts again at the base (calls never overlap:
// JavaScript is single-threaded and the pool's tasks finish before a kernel returns), and the memory
// only grows.

import { ensureBytes, PARAMS, wasm, type KernelExports, type WasmState } from "./instance.js";
import { arenaBase } from "./weights.js";

const align64 = (x: number): number => Math.ceil(x / 64) * 64;

/** The regions of one kernel call. */
export class Frame {
  readonly st: WasmState = wasm();
  private top = arenaBase();
  private f32View: Float32Array | null = null;

  get exports(): KernelExports {
    return this.st.exports;
  }

  /** A region of n four-byte elements, 64-byte aligned, with room for a whole last SIMD vector. */
  alloc(n: number): number {
    const off = this.top;
    this.top = align64(off + 4 * n + 16);
    return off;
  }

  /** Grows the memory over every region allocated so far; call before any view is taken. */
  commit(): this {
    ensureBytes(this.st, this.top);
    this.f32View = null;
    return this;
  }

  /** The memory as float32 (valid until the next commit). */
  get f32(): Float32Array {
    return (this.f32View ??= new Float32Array(this.st.memory.buffer));
  }

  /** The parameter block of the pool's kernels (i32 fields; float fields through `paramsF32`). */
  params(): Int32Array {
    return new Int32Array(this.st.memory.buffer, PARAMS, 64);
  }

  paramsF32(): Float32Array {
    return new Float32Array(this.st.memory.buffer, PARAMS, 64);
  }

  /** Copies x into the region at byte offset `off`. */
  put(off: number, x: Float32Array | Int32Array): void {
    if (x instanceof Float32Array) this.f32.set(x, off >> 2);
    else new Int32Array(this.st.memory.buffer).set(x, off >> 2);
  }

  /** Copies n floats of the region at `off` into out. */
  get(off: number, out: Float32Array, n = out.length): void {
    out.set(this.f32.subarray(off >> 2, (off >> 2) + n));
  }
}
