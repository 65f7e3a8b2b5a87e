// The scratch arena of the wasm memory, as one kernel call uses it: its operands are placed in
// consecutive regions from the arena's base on (just above the heap's blocks, heap.ts), the kernel runs,
// its results are copied out. Every call starts again at the base (calls never overlap: JavaScript is
// single-threaded and the pool's tasks finish before a kernel returns), and the memory only grows.
//
// An operand that already lives in wasm memory (the storage of a tensor made inside a memory scope, or
// of a kept tensor: heap.ts) takes no region: `in` and `out` answer its own offset, and nothing is copied.
//
//   const fr = new Frame();
//   const xo = fr.in(x), yo = fr.out(y);   // offsets; copies of x (in) and y (out) only when not resident
//   fr.commit();                           // grows the memory, copies the non-resident inputs in
//   fr.exports.someKernel(xo, yo, n);
//   fr.finish();                           // copies the non-resident outputs out

import { ensureBytes, PARAMS, wasm, type KernelExports, type WasmState } from "./instance.js";
import { heapTop, residentOffset } from "./heap.js";

const align64 = (x: number): number => Math.ceil(x / 64) * 64;

type Arr32 = Float32Array | Int32Array;

/** The regions of one kernel call. */
export class Frame {
  readonly st: WasmState = wasm();
  private top = heapTop();
  private f32View: Float32Array | null = null;
  private ins: [number, Arr32][] = [];
  private outs: [number, Float32Array, number][] = [];
  private fills: [number, number, number][] = [];

  get exports(): KernelExports {
    return this.st.exports;
  }

  /** A region of n four-byte elements, 64-byte aligned, with room for a whole last SIMD vector. */
  alloc(n: number): number {
    const off = this.top;
    this.top = align64(off + 4 * n + 16);
    return off;
  }

  /** The offset of the first n elements of x as an input: x's own when resident, else a region x is copied into at commit. */
  in(x: Arr32, n = x.length): number {
    const r = residentOffset(x);
    if (r >= 0) return r;
    const off = this.alloc(n);
    this.ins.push([off, n === x.length ? x : x.subarray(0, n)]);
    return off;
  }

  /** The offset of the first n elements of y as an output: y's own when resident, else a region copied into y by finish. */
  out(y: Float32Array, n = y.length): number {
    const r = residentOffset(y);
    if (r >= 0) return r;
    const off = this.alloc(n);
    this.outs.push([off, y, n]);
    return off;
  }

  /** An output whose old values the kernel reads (accumulated into): copied in as well when not resident. */
  inout(y: Float32Array, n = y.length): number {
    const r = residentOffset(y);
    if (r >= 0) return r;
    const off = this.alloc(n);
    this.ins.push([off, n === y.length ? y : y.subarray(0, n)]);
    this.outs.push([off, y, n]);
    return off;
  }

  /** A region of n floats filled with `value` at commit (an absent weight: ones; an absent gradient: zeros). */
  constant(n: number, value: number): number {
    const off = this.alloc(n);
    this.fills.push([off, n, value]);
    return off;
  }

  /** x as an input when given, else a region of `value`s. */
  inOr(x: Float32Array | null, n: number, value: number): number {
    return x ? this.in(x, n) : this.constant(n, value);
  }

  /** Grows the memory over every region allocated so far and copies the inputs in; call before any view is taken. */
  commit(): this {
    ensureBytes(this.st, this.top);
    this.f32View = null;
    for (const [off, x] of this.ins) this.put(off, x);
    for (const [off, n, v] of this.fills) this.f32.fill(v, off >>> 2, (off >>> 2) + n);
    this.ins = [];
    this.fills = [];
    return this;
  }

  /** Copies the outputs out (after the kernel ran). */
  finish(): void {
    for (const [off, y, n] of this.outs) this.get(off, y, n);
    this.outs = [];
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
    if (x instanceof Float32Array) this.f32.set(x, off >>> 2);
    else new Int32Array(this.st.memory.buffer).set(x, off >>> 2);
  }

  /** Copies n floats of the region at `off` into out. */
  get(off: number, out: Float32Array, n = out.length): void {
    out.set(this.f32.subarray(off >>> 2, (off >>> 2) + n));
  }
}
