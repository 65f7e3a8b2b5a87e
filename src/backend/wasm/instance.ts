// The wasm kernels' instance and its memory. The module (generated/kernels.ts, built from ./assembly by
// tools/build-wasm.mjs) imports its memory; we create it, shared when the host allows
// (SharedArrayBuffer: Node, cross-origin-isolated browsers) so worker threads can instantiate the
// same module over it, plain otherwise.
//
// Memory map (bytes):  [0, 256) unused · [256, 1024) the constant table of ./assembly/vmath.ts (192
// four-byte slots, 107 of them used; written once by initConstants) · [CTL, CTL+256) the pool's control words ·
// [PARAMS, PARAMS+256) the parameter block of the running kernel · [ARENA, ...) the scratch arena,
// reused by every call (operands are copied in, results copied out; see matmul.ts).
// The kernels have no static data and no allocator, so nothing of theirs lives in this memory.

import { INITIAL_PAGES, MAX_PAGES, MEMORY_FLAG_OFFSET, WASM_RELAXED_SIMD, WASM_SIMD } from "./generated/kernels.js";

export const CTL = 1024;
export const PARAMS = 2048;
export const ARENA = 65536;
const PAGE = 65536;

/** The exports of the kernels module (./assembly/index.ts). Pointers are byte offsets into the memory. */
export interface KernelExports {
  runTask(params: number, task: number, thread: number): void;
  initConstants(): void;
  packedBElems(k: number, n: number): number;
  scratchBytes(): number;
  MR: WebAssembly.Global;
  NR: WebAssembly.Global;
  attentionScratchBytes(ldq: number, ldv: number, tk: number): number;
  unaryRange(op: number, x: number, dy: number, y: number, i0: number, i1: number, aux: number, aux2: number): void;
  layerNormF32(
    x: number,
    w: number,
    b: number,
    y: number,
    mean: number,
    rstd: number,
    rows: number,
    cols: number,
    eps: number,
  ): void;
  layerNormBackwardF32(
    dy: number,
    x: number,
    w: number,
    mean: number,
    rstd: number,
    dx: number,
    dw: number,
    db: number,
    rows: number,
    cols: number,
  ): void;
  rmsNormF32(x: number, w: number, y: number, rstd: number, rows: number, cols: number, eps: number): void;
  rmsNormBackwardF32(
    dy: number,
    x: number,
    w: number,
    rstd: number,
    dx: number,
    dw: number,
    rows: number,
    cols: number,
  ): void;
  softmaxF32(x: number, y: number, rows: number, cols: number): void;
  softmaxBackwardF32(y: number, dy: number, dx: number, rows: number, cols: number): void;
  logSoftmaxF32(x: number, y: number, rows: number, cols: number): void;
  logSoftmaxBackwardF32(y: number, dy: number, dx: number, rows: number, cols: number): void;
  crossEntropyF32(
    logits: number,
    target: number,
    losses: number,
    lse: number,
    rows: number,
    c: number,
    ignoreIndex: number,
    eps: number,
  ): void;
  crossEntropyBackwardF32(
    logits: number,
    target: number,
    lse: number,
    dloss: number,
    dlogits: number,
    rows: number,
    c: number,
    ignoreIndex: number,
    eps: number,
  ): void;
  binaryF32(
    op: number,
    a: number,
    ra: number,
    ca: number,
    b: number,
    rb: number,
    cb: number,
    out: number,
    rows: number,
    cols: number,
  ): void;
  sumF32(x: number, out: number, outer: number, r: number, inner: number, acc: number): void;
  extremeF32(
    x: number,
    values: number,
    indices: number,
    outer: number,
    r: number,
    inner: number,
    maxOrMin: number,
  ): void;
  mulColumnF32(dy: number, x: number, col: number, dx: number, dcol: number, rows: number, cols: number): void;
  stridedF32(
    dir: number,
    x: number,
    offset: number,
    sh: number,
    st: number,
    nd: number,
    out: number,
    idx: number,
  ): void;
  transposeF32(
    dir: number,
    x: number,
    offset: number,
    sh: number,
    st: number,
    nd: number,
    a: number,
    out: number,
    idx: number,
  ): void;
  zeroBytes(p: number, n: number): void;
  /** im2col / col2im (./assembly/conv.ts): operands, then the geometry n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow */
  im2colF32(x: number, cols: number, ...geometry: number[]): void;
  col2imF32(cols: number, dx: number, ...geometry: number[]): void;
  adamF32(
    param: number,
    grad: number,
    m: number,
    v: number,
    n: number,
    decay: number,
    weightDecay: number,
    decoupled: number,
    beta1: number,
    beta2: number,
    eps: number,
    stepSize: number,
    bc2Sqrt: number,
  ): void;
  /** adamF32 over `count` rows of a table (./assembly/optim.ts), the scalars the rows share after it */
  adamMultiF32(
    table: number,
    count: number,
    decay: number,
    weightDecay: number,
    decoupled: number,
    beta1: number,
    beta2: number,
    eps: number,
  ): void;
}

export interface WasmState {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  /** built with relaxed SIMD (fused multiply-add) */
  readonly relaxed: boolean;
  readonly exports: KernelExports;
}

let state: WasmState | null = null;

/** The instance, created on first use (compiling is synchronous: the module is a few KiB). */
export function wasm(): WasmState {
  return (state ??= instantiate());
}

function decode(base64: string): Uint8Array {
  const s = atob(base64);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
}

function instantiate(): WasmState {
  let memory: WebAssembly.Memory | null = null;
  if (typeof SharedArrayBuffer === "function") {
    try {
      memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, shared: true });
    } catch {
      memory = null; // shared memory refused (a browser without cross-origin isolation)
    }
  }
  const shared = memory !== null;
  memory ??= new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES });
  const relaxed = relaxedSimdSupported();
  const bytes = decode(relaxed ? WASM_RELAXED_SIMD : WASM_SIMD);
  // The modules import a shared memory; without one, import a plain memory instead (limits flag
  // 0x03 → 0x01; tools/build-wasm.mjs checks that this is all a plain-memory build changes).
  if (!shared) bytes[MEMORY_FLAG_OFFSET] = 0x01;
  const module = new WebAssembly.Module(bytes);
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const exports = instance.exports as unknown as KernelExports;
  exports.initConstants(); // the vector math's constant table (workers share this memory)
  return { module, memory, shared, relaxed, exports };
}

/** True when the host runs WebAssembly SIMD (validates a tiny module using a v128 instruction). */
export function simdSupported(): boolean {
  if (typeof WebAssembly !== "object") return false;
  // (module (func (result v128) i32.const 0 i32x4.splat))
  const probe = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0, 253, 17, 11,
  ]);
  try {
    return WebAssembly.validate(probe);
  } catch {
    return false;
  }
}

/** True when the host runs relaxed SIMD (Node ≥ 22, Chrome ≥ 114; Node 20 only with --experimental-wasm-relaxed-simd). */
export function relaxedSimdSupported(): boolean {
  // (module (func (result v128) v128.const 0 v128.const 0 v128.const 0 f32x4.relaxed_madd))
  const probe = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 61, 1, 59, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 253, 133, 2, 11,
  ]);
  try {
    return WebAssembly.validate(probe);
  } catch {
    return false;
  }
}

/**
 * How a refusal to grow the memory is reported. A backend imports nothing of ours, so the ops layer installs the
 * library's typed error here (src/ops/kernels.ts: MemoryBudgetError); by itself the backend throws a RangeError.
 */
let memoryError: (message: string) => Error = (message) => new RangeError(message);

export function setMemoryErrorFactory(make: (message: string) => Error): void {
  memoryError = make;
}

/** Grows the memory so that [0, bytes) is addressable. Views over the old buffer must be recreated. */
export function ensureBytes(st: WasmState, bytes: number): void {
  const have = st.memory.buffer.byteLength;
  if (bytes <= have) return;
  const pages = Math.ceil((bytes - have) / PAGE);
  const why = `wasm backend: an op needs ${bytes.toLocaleString("en-US")} bytes of kernel memory (tensors and scratch)`;
  if (have / PAGE + pages > MAX_PAGES)
    throw memoryError(
      `${why}, more than the ${((MAX_PAGES * PAGE) / 2 ** 30).toFixed(0)} GiB a wasm32 memory can address; use smaller sizes or batches`,
    );
  try {
    st.memory.grow(pages);
  } catch (e) {
    // the host could not give the pages (out of memory): the same refusal, with the host's words
    throw memoryError(`${why}, and the host refused to grow it (${(e as Error).message})`);
  }
}
