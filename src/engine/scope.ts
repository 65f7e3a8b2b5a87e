// The opt-in memory scope: `tidy(fn)`, `keep(t)`, `t.dispose()`, `using t = …`.
//
// Outside any scope nothing changes: a tensor's storage is an ordinary typed array that the garbage
// collector frees. Inside `tidy(fn)`:
//   - float32 and int32 outputs are allocated as blocks of the kernels' own memory (the wasm backend's
//     heap, installed with setResidentAllocator), so kernels read and write them where they are;
//   - every tensor created is recorded in the scope; when fn returns (or throws), the tensors of its
//     result (a tensor, or arrays and plain objects of them) move to the enclosing scope, and every
//     other one is *released*: its storage becomes a sentinel that throws ReleasedTensorError on any use,
//     and each block no surviving tensor refers to goes back to the heap at once;
//   - a result that leaves the outermost scope is copied into an ordinary typed array (its block freed),
//     so code outside every scope only ever sees garbage-collected tensors.
// `keep(t)` takes a tensor out of every scope for good (its block, or a new one it is copied into, is
// freed by `t.dispose()` or, when only the collector sees it die, by a FinalizationRegistry).
// Parameters, their gradients and optimizer state become kept blocks the first time they are touched
// inside a scope (autograd.ts, src/optim/optimizer.ts). docs/engine.md has the whole design.

import { copyStorage, type DType, type TypedArray } from "./dtype.js";
import { AutogradError, WnnError } from "./errors.js";
import { fmt } from "./shape.js";
import { countAllocation } from "./memory.js";
import { countedStorage, inMetaExecution, isMetaStorage, metaScopeEnd, metaScopeMark } from "./meta.js";
import type { Tensor } from "./tensor.js";

/** Using a tensor after its scope ended or after dispose(): names the op, the tensor and who released it. */
export class ReleasedTensorError extends WnnError {}

/** What a backend lends the engine: blocks of its memory as typed arrays. */
export interface ResidentAllocator {
  /**
   * A view of n elements over a new block, or null when none can be had: zero-filled, or with `zero` false
   * holding whatever the block held before (for an output its kernel writes whole).
   */
  alloc(dtype: "float32" | "int32", n: number, zero?: boolean): Float32Array | Int32Array | null;
  /** Returns the block that `view` (as returned by alloc) covers. */
  free(view: Float32Array | Int32Array): void;
  /** True when x is a view over the backend's memory (a block, or part of one). */
  owns(x: TypedArray): boolean;
}

let allocator: ResidentAllocator | null = null;

/** Installed by the ops layer when the active backend has a memory of its own (null: none). */
export function setResidentAllocator(a: ResidentAllocator | null): void {
  allocator = a;
}

/** Below this many elements a block is not worth the bookkeeping: the output stays an ordinary array. */
let MIN_RESIDENT = 64;

/** Tests: the smallest storage that goes into a block (1: every float32 and int32 one). Returns the old value. */
export function setScopeMinElements(n: number): number {
  const old = MIN_RESIDENT;
  MIN_RESIDENT = Math.max(1, n);
  return old;
}

interface Block {
  readonly view: Float32Array | Int32Array;
  /** tensors alive (not released) whose storage is this view */
  refs: number;
  /** the scope that frees it at its end; null once kept (freed by dispose or the collector) */
  owner: Scope | null;
  freed: boolean;
  /** the allocation's number (blockSerial): blocks made after a mark are younger than it */
  readonly serial: number;
  /**
   * a shape-only storage (metaExecute) standing for the block a real run would take here: it holds no memory,
   * and is tracked only so that a leaf gradient's takeover (accumulateLeafGrad) decides as on real tensors
   */
  readonly meta?: true;
}

interface Scope {
  readonly name: string;
  readonly parent: Scope | null;
  readonly tensors: Tensor[];
  readonly blocks: Block[];
  /** metaScopeMark() at its start: -1 unless a run's live buffers are being counted (metaLivePeak) */
  readonly metaMark: number;
  /** the scope a backward pass opens for its own temporaries when no scope runs (backwardScope) */
  readonly internal?: true;
}

let current: Scope | null = null;
let scopeCount = 0;
const blockOf = new WeakMap<TypedArray, Block>();
let blocksMade = 0;

/** The number of the last block handed out: a backward pass marks its start with it (accumulateLeafGrad). */
export function blockSerial(): number {
  return blocksMade;
}
const keptTensors = new WeakSet<Tensor>();

const finalizer =
  typeof FinalizationRegistry === "function" ? new FinalizationRegistry<Block>((b) => freeBlock(b)) : null;

function freeBlock(b: Block): void {
  if (b.freed) return;
  b.freed = true;
  if (b.meta !== true) allocator?.free(b.view);
}

/** True inside tidy(fn) (not inside the scope of an unscoped backward pass alone: backwardScope). */
export function inScope(): boolean {
  return current !== null && current.internal !== true;
}

/** The scope of the running unscoped backward pass (backwardScope), or null. */
let backwardRoot: Scope | null = null;
let backwardScopeOn = true;

/** Tests and benchmarks: whether an unscoped backward runs in a scope of its own (default on). Returns the old setting. */
export function setBackwardScope(on: boolean): boolean {
  const old = backwardScopeOn;
  backwardScopeOn = on;
  return old;
}

/**
 * Runs `pass` (a backward pass: autograd.ts runBackward) in a scope of its own when no scope is running and the
 * backend lends memory. The gradient temporaries of a backward (each node's dy, the dx its closure returns, the
 * sums of gradients that meet, the sums that undo broadcasting) are never handed to the user, so they can be blocks
 * of the kernels' memory that the kernels read and write in place, released when the pass ends instead of being
 * copied out of wasm memory and left to the collector. What survives is what the user can reach: the gradients of
 * leaves (and of tensors that called retainGrad), which accumulateLeafGrad makes ordinary typed arrays outside every
 * scope, exactly as with no scope; and the tensors the forward made (the values closures saved), which were made
 * before this scope and are not recorded in it. Inside a user's tidy, and under metaExecute (whose meter counts
 * the unscoped run as it was), `pass` runs as it is.
 */
export function backwardScope(pass: () => void): void {
  if (current !== null || allocator === null || !backwardScopeOn || inMetaExecution()) {
    pass();
    return;
  }
  const scope: Scope = { name: "backward", parent: null, tensors: [], blocks: [], metaMark: -1, internal: true };
  current = scope;
  backwardRoot = scope;
  try {
    pass();
  } finally {
    // return or throw: every tensor the pass made is released and its block freed (ordinary .grad arrays stay)
    backwardRoot = null;
    endScope(scope, undefined);
  }
}

/**
 * Inside the scope of an unscoped backward (backwardScope): runs one node's backward closure in a scope of its own,
 * so what the closure makes and does not return (a product before the sum that undoes broadcasting, …) goes back to
 * the heap when it returns, for the next nodes to reuse. Elsewhere (no scope, a user's tidy): fn() as it is.
 */
export function backwardNodeScope<T>(fn: () => T): T {
  if (backwardRoot === null || current === null) return fn();
  const scope: Scope = { name: "backward", parent: current, tensors: [], blocks: [], metaMark: -1, internal: true };
  const result = runIn(scope, fn);
  endScope(scope, result);
  return result;
}

/** Makes scope the current one and runs fn in it; a throw ends the scope (releasing all it made) and goes on. */
function runIn<T>(scope: Scope, fn: () => T): T {
  current = scope;
  try {
    return fn();
  } catch (e) {
    endScope(scope, undefined);
    throw e;
  }
}

/**
 * Inside the scope of an unscoped backward: releases t, a gradient this pass made (its block is younger than the
 * pass's `mark`, a blockSerial()) that the pass no longer holds, so that its block is reused by the next nodes
 * instead of waiting for the pass to end. Anything else (no such scope, a tensor the pass did not make): nothing.
 */
export function releaseBackwardTemporary(t: Tensor, mark: number): void {
  if (backwardRoot === null || t.isReleased) return;
  const b = blockOf.get(t.storage);
  if (b === undefined || b.freed || b.serial <= mark || b.owner === null || b.owner.internal !== true) return;
  release(t, "the backward pass that made it no longer needed it (a gradient temporary)");
}

/** Runs fn with no scope running: what it allocates is ordinary arrays, and its tensors are recorded nowhere. */
function outsideScopes<T>(fn: () => T): T {
  const saved = current;
  current = null;
  try {
    return fn();
  } finally {
    current = saved;
  }
}

/** Tests: uninitialised blocks are filled with a poison (NaN, or int32 0x7fc00000) when on. */
let poison = false;

/**
 * Tests: fill every block handed out uninitialised (`scopedAllocate(…, false)`) with NaN (int32: 0x7fc00000),
 * so that an op whose kernel does not write its whole output shows it. Returns the old setting.
 */
export function setPoisonUninitialised(on: boolean): boolean {
  const old = poison;
  poison = on;
  return old;
}

/**
 * The storage of a new output: a block of the backend's memory inside a scope, else null (an ordinary array).
 * `zero` false skips the zero-fill (one pass over the block): only for outputs whose kernel writes every element.
 */
export function scopedAllocate(dtype: DType, n: number, zero = true): TypedArray | null {
  if (current === null || allocator === null || n < MIN_RESIDENT || (dtype !== "float32" && dtype !== "int32"))
    return null;
  const view = allocator.alloc(dtype, n, zero || poison);
  if (view === null) return null;
  if (!zero && poison) new Int32Array(view.buffer, view.byteOffset, view.length).fill(0x7fc00000);
  const b: Block = { view, refs: 0, owner: current, freed: false, serial: ++blocksMade };
  blockOf.set(view, b);
  current.blocks.push(b);
  return view;
}

/**
 * Under metaExecute (./meta.ts), a counted storage that `allocate` made where a real run would take a block
 * (scopedAllocate): registered as a shape-only block, so that the blocks' users and ages — which decide whether a
 * leaf takes over its gradient's block instead of copying it — are the same as on real tensors, and so are the
 * bytes counted. Such a block is never handed to the allocator.
 */
export function noteMetaBlock(storage: TypedArray, dtype: DType, n: number): void {
  if (current === null || allocator === null || n < MIN_RESIDENT || (dtype !== "float32" && dtype !== "int32")) return;
  const b: Block = {
    view: storage as Float32Array | Int32Array,
    refs: 0,
    owner: current,
    freed: false,
    serial: ++blocksMade,
    meta: true,
  };
  blockOf.set(storage, b);
}

/** A kept block of n elements holding `init`'s values (or zeros), or null when none can be had. */
function keptBlock(dtype: "float32" | "int32", n: number, init: TypedArray | null): Block | null {
  if (allocator === null || n < MIN_RESIDENT) return null;
  const view = allocator.alloc(dtype, n, init === null); // (a copy of init fills it whole)
  if (view === null) return null;
  if (init instanceof Float32Array && view instanceof Float32Array && float32Copy !== null) float32Copy(init, view);
  else if (init) view.set(init);
  const b: Block = { view, refs: 0, owner: null, freed: false, serial: ++blocksMade };
  blockOf.set(view, b);
  finalizer?.register(view, b, b);
  return b;
}

/**
 * A zero-filled float32 buffer that lives as long as whoever holds it (optimizer state): in the backend's
 * memory inside a scope, else an ordinary array.
 */
export function keptBuffer(n: number): Float32Array {
  if (inMetaExecution()) return countedStorage("float32", n) as Float32Array; // counted, nothing allocated
  countAllocation(4 * n);
  const b = current !== null ? keptBlock("float32", n, null) : null;
  return b ? (b.view as Float32Array) : new Float32Array(n);
}

/** Called by the Tensor constructor: records the tensor in the running scope and counts its block's users. */
export function adopt(t: Tensor, storage: TypedArray): void {
  const b = blockOf.get(storage);
  if (b !== undefined) b.refs++;
  if (current !== null) current.tensors.push(t);
}

/**
 * Runs fn; tensors created inside it and not part of its result are released when it returns or throws.
 * The result (a tensor, or arrays / plain objects holding tensors) survives into the enclosing scope.
 * Scopes nest. `name` appears in the error a released tensor throws.
 */
export function tidy<T>(fn: () => T): T;
export function tidy<T>(name: string, fn: () => T): T;
export function tidy<T>(a: string | (() => T), b?: () => T): T {
  const fn = typeof a === "function" ? a : b;
  if (typeof fn !== "function") throw new AutogradError("tidy: expected tidy(fn) or tidy(name, fn) with fn a function");
  const name = typeof a === "string" ? a : `#${++scopeCount}`;
  const scope: Scope = { name, parent: current, tensors: [], blocks: [], metaMark: metaScopeMark() };
  const result = runIn(scope, fn);
  if (result instanceof Promise) {
    endScope(scope, undefined);
    throw new AutogradError(
      `tidy(${name}): fn returned a Promise; a scope covers synchronous code only (await outside it, or tidy each synchronous part)`,
    );
  }
  endScope(scope, result);
  return result;
}

function collect(x: unknown, out: Set<Tensor>, depth: number, isTensor: (v: unknown) => v is Tensor): void {
  if (depth > 16 || x === null || typeof x !== "object") return;
  if (isTensor(x)) {
    out.add(x);
    return;
  }
  if (Array.isArray(x)) {
    for (const v of x) collect(v, out, depth + 1, isTensor);
    return;
  }
  if (x instanceof Map) {
    for (const v of x.values()) collect(v, out, depth + 1, isTensor);
    return;
  }
  const proto = Object.getPrototypeOf(x);
  if (proto === Object.prototype || proto === null)
    for (const v of Object.values(x)) collect(v, out, depth + 1, isTensor);
}

let tensorClass: (new (storage: TypedArray, shape: readonly number[]) => Tensor) | null = null;
/** @internal the Tensor class registers itself (scope.ts cannot import it: tensor.ts imports this file) */
export function registerTensorClass(c: new (storage: TypedArray, shape: readonly number[]) => Tensor): void {
  tensorClass = c;
}
const isTensorValue = (v: unknown): v is Tensor => tensorClass !== null && v instanceof tensorClass;

function endScope(scope: Scope, result: unknown): void {
  current = scope.parent;
  const survivors = new Set<Tensor>();
  collect(result, survivors, 0, isTensorValue);
  const parent = scope.parent;
  const by = scope.internal ? "the backward pass's own scope (its gradient temporaries)" : `tidy(${scope.name})`;
  // A result that still has a graph inside an enclosing scope (a nested tidy within a forward pass):
  // everything this scope made goes to the enclosing scope, so that a backward there still finds it.
  if (parent !== null && [...survivors].some((t) => t.gradFn !== null && t.gradFn.backward !== null)) {
    for (const t of scope.tensors) parent.tensors.push(t);
    for (const b of scope.blocks) {
      if (b.freed || b.owner !== scope) continue;
      b.owner = parent;
      parent.blocks.push(b);
    }
    return;
  }
  // counting a run's live buffers on shape-only tensors: what this scope made lives to here
  if (scope.metaMark >= 0)
    metaScopeEnd(
      scope.metaMark,
      [...survivors, ...scope.tensors.filter((t) => keptTensors.has(t))].map((t) => t.storage),
    );
  const ended = `the scope ${by} ended (it was created inside it and was neither returned nor kept)`;
  for (const t of scope.tensors) {
    if (t.isReleased || keptTensors.has(t)) continue;
    if (survivors.has(t)) {
      if (parent !== null) parent.tensors.push(t);
      // leaving every scope: the values stay, the graph recorded inside does not
      else if (t.gradFn !== null && t.gradFn.backward !== null)
        t.gradFn.backward = refuseBackward(
          t,
          `it was recorded inside ${by}, which has ended; the values it saved for backward were released (call backward inside the scope)`,
        );
      continue;
    }
    release(t, ended);
  }
  // survivors leaving the outermost scope: into ordinary arrays, one copy per shared block
  const copies = new Map<TypedArray, TypedArray>();
  if (parent === null) {
    for (const t of survivors) {
      if (t.isReleased || keptTensors.has(t) || allocator === null) continue;
      const s = t.storage;
      if (!allocator.owns(s)) continue;
      const b = blockOf.get(s);
      if (b !== undefined && b.owner === null) continue; // a kept block (made by keep before this scope)
      let copy = copies.get(s);
      if (copy === undefined) copies.set(s, (copy = copyStorage(s)));
      if (b !== undefined) b.refs--;
      t.replaceStorage(copy);
    }
  }
  for (const b of scope.blocks) {
    if (b.freed || b.owner !== scope) continue;
    if (b.refs <= 0) freeBlock(b);
    else if (parent !== null) {
      b.owner = parent;
      parent.blocks.push(b);
    } else {
      // still referenced outside every scope without a copy: only a kept tensor shares it
      b.owner = null;
      finalizer?.register(b.view, b, b);
    }
  }
}

/** Marks t released: its storage becomes a sentinel that throws, so does a backward through it; its block loses a user. */
function release(t: Tensor, why: string): void {
  const s = t.storage;
  const b = blockOf.get(s);
  t.replaceStorage(releasedStorage(t.dtype, t.shape, why));
  if (t.gradFn !== null && t.gradFn.backward !== null) t.gradFn.backward = refuseBackward(t, why);
  if (b !== undefined) {
    b.refs--;
    if (b.refs <= 0) {
      if (b.owner === null) finalizer?.unregister(b);
      freeBlock(b);
    }
  }
}

/** The backward of a node whose saved values are gone. */
function refuseBackward(t: Tensor, why: string): () => never {
  const node = t.gradFn!.name;
  // t's dtype and shape outlive its storage
  return () => {
    throw releasedError(`backward (${node})`, t, why);
  };
}

/**
 * Makes t outlive every scope (and returns it). Inside a scope, or when t already lives in the backend's
 * memory, its storage becomes a kept block, freed by `t.dispose()` or, once nothing refers to it, by the
 * collector. Arrays of tensors are kept one by one.
 */
export function keep<T extends Tensor | readonly Tensor[]>(t: T): T {
  if (Array.isArray(t)) {
    for (const x of t as readonly Tensor[]) keep(x);
    return t;
  }
  const x = t as Tensor;
  if (!isTensorValue(x)) throw new AutogradError("keep: expected a Tensor or an array of Tensors");
  if (x.isReleased) throw releasedError("keep", x);
  keptTensors.add(x);
  const s = x.storage;
  const b = blockOf.get(s);
  if (b !== undefined) {
    if (b.owner !== null) {
      b.owner = null;
      finalizer?.register(b.view, b, b);
    }
  }
  return t;
}

/**
 * Moves t's values into a kept block of the backend's memory when it is not there yet (parameters and
 * gradients touched inside a scope), so kernels use them in place from then on. Returns true when t lives
 * there now.
 */
export function makeResident(t: Tensor): boolean {
  keptTensors.add(t);
  if (allocator === null || t.isMeta || t.isReleased) return false;
  const s = t.storage;
  if (allocator.owns(s)) {
    keep(t);
    return true;
  }
  if (t.dtype !== "float32") return false;
  const b = keptBlock("float32", s.length, s);
  if (b === null) return false;
  t.replaceStorage(b.view);
  b.refs++;
  return true;
}

/**
 * The gradient of a leaf after adding g (autograd.ts). Outside a scope: a new tensor, as always.
 * Inside one the gradient must outlive the scope: a kept gradient is added into in place (a·b rounded
 * once, as the add would); else, when g's block was made by this backward pass (after `mark`, a
 * blockSerial()) and no other tensor uses it, that block becomes the kept gradient (PyTorch's
 * AccumulateGrad steals a gradient nobody else holds in the same way); else a kept copy is made — in the
 * kernels' memory when it can be.
 */
export function accumulateLeafGrad(
  old: Tensor | null,
  g: Tensor,
  add: (a: Tensor, b: Tensor) => Tensor,
  mark = Infinity,
): Tensor {
  if (current === null) return old === null ? g.clone() : add(old, g);
  // the scope of an unscoped backward (backwardScope): the gradient is an ordinary array outside every scope, made
  // by the same clone or add as with no scope (so the same values), and the pass's release does not touch it
  if (backwardRoot !== null) return outsideScopes(() => (old === null ? g.clone() : add(old, g)));
  if (old !== null && keptTensors.has(old) && !old.isReleased && old.dtype === g.dtype) {
    const x = old.storage,
      y = g.storage;
    if (isMetaStorage(x)) return old; // shape-only (metaExecute): nothing to add
    if (x instanceof Float32Array && y instanceof Float32Array) addIntoF32(x, y);
    else for (let i = 0; i < x.length; i++) x[i] = x[i]! + y[i]!;
    return old;
  }
  const sum = old === null ? g : add(old, g);
  const s = sum.storage;
  const made = blockOf.get(s);
  if (made !== undefined && made.serial > mark && made.owner !== null && made.refs === 1 && !made.freed) {
    // only `sum`, a gradient made during this backward, uses the block: it becomes the kept gradient's
    made.owner = null;
    if (made.meta !== true) finalizer?.register(made.view, made, made);
    const t = new tensorClass!(s, sum.shape); // (the constructor counts the block's second user)
    keptTensors.add(t);
    return t;
  }
  // the kept copy is storage too, for the meter (under metaExecute s.slice() counts it and copies nothing)
  if (inMetaExecution()) {
    const t = new tensorClass!(s.slice(), sum.shape);
    keptTensors.add(t);
    return t;
  }
  countAllocation(s.length * s.BYTES_PER_ELEMENT);
  const b = sum.dtype === "float32" ? keptBlock("float32", s.length, s) : null;
  const t = new tensorClass!(b ? b.view : copyStorage(s), sum.shape); // (the constructor counts the block's user)
  keptTensors.add(t);
  return t;
}

function addIntoF32(x: Float32Array, y: Float32Array): void {
  if (float32Add !== null) float32Add(x, y, x);
  else for (let i = 0; i < x.length; i++) x[i] = x[i]! + y[i]!;
}

/** The active backend's float32 out = a + b (same length; out may be a), for the tape's sums; null: a loop here. */
let float32Add: ((a: Float32Array, b: Float32Array, out: Float32Array) => void) | null = null;

/**
 * The active backend's float32 copy out = a (same length), for a gradient's kept copy; null: TypedArray.set.
 * Between two views of the wasm heap this is one memory.copy: `set` between views of shared memory runs ≈ 2–3×
 * slower than a memcpy.
 */
let float32Copy: ((a: Float32Array, out: Float32Array) => void) | null = null;

/** Installed by the ops layer with the active backend's layout copy. */
export function setFloat32Copy(copy: ((a: Float32Array, out: Float32Array) => void) | null): void {
  float32Copy = copy;
}

/** Installed by the ops layer with the active backend's add kernel (the engine does not import the ops). */
export function setFloat32Add(add: ((a: Float32Array, b: Float32Array, out: Float32Array) => void) | null): void {
  float32Add = add;
}

/** out = a + b elementwise through the backend's kernel where one is installed (out may be a). */
export function addF32Into(a: Float32Array, b: Float32Array, out: Float32Array): void {
  if (float32Add !== null) float32Add(a, b, out);
  else for (let i = 0; i < out.length; i++) out[i] = a[i]! + b[i]!;
}

/** True when t is kept (by keep, or as a parameter or gradient made resident). */
export function isKept(t: Tensor): boolean {
  return keptTensors.has(t);
}

/** Releases t now (Tensor.dispose): later uses throw ReleasedTensorError; its block is freed when no tensor uses it. */
export function dispose(t: Tensor | readonly Tensor[]): void {
  if (Array.isArray(t)) {
    for (const x of t as readonly Tensor[]) dispose(x);
    return;
  }
  const x = t as Tensor;
  if (x.isReleased) return;
  keptTensors.delete(x);
  release(x, "dispose() was called on it");
}

/** Releases a gradient the engine made resident (Optimizer.zeroGrad); an ordinary one is left to the collector. */
export function disposeIfResident(t: Tensor, why: string): void {
  if (t.isReleased || allocator === null || !allocator.owns(t.storage)) return;
  keptTensors.delete(t);
  release(t, why);
}

// ---------------------------------------------------------------------------------------------------
// The released sentinel (as the meta tensor's, src/engine/meta.ts): answers `length` and instanceof,
// throws on any other use, naming the op from the call stack.

const releasedSentinels = new WeakMap<object, string>();

/** The reason a released tensor's storage gives, or undefined when the storage is live. */
export function releasedReason(storage: TypedArray): string | undefined {
  return releasedSentinels.get(storage);
}

/** The public op that touched the storage: the outermost library frame under the caller's code. */
function opFromStack(): string {
  const stack = new Error().stack ?? "";
  let op = "";
  let backward = false;
  for (const line of stack.split("\n").slice(1)) {
    const m = /at (?:new )?([\w$.<>]+) \((.*)\)/.exec(line.trim());
    const file = m ? m[2]! : line;
    const lib = /[\\/](src)[\\/](ops|nn|engine|backend|optim)[\\/]/.test(file);
    if (!lib) {
      if (op !== "") break;
      continue;
    }
    if (/runBackward/.test(line)) backward = true;
    if (m && !/scope\.js|scope\.ts/.test(file) && !/^(Proxy|Object)\./.test(m[1]!)) op = m[1]!.replace(/^Tensor\./, "");
  }
  if (op === "") return "an op";
  return backward && op !== "backward" ? `backward (${op})` : op;
}

export function releasedError(
  op: string,
  t: { dtype: DType; shape: readonly number[] },
  why?: string,
): ReleasedTensorError {
  return new ReleasedTensorError(
    `${op}: this ${t.dtype} tensor of shape ${fmt(t.shape)} was released: ${why ?? "it was disposed"}. ` +
      "Return it from the tidy() callback, or keep() it, to use it after the scope ends",
  );
}

/**
 * The sentinels, shared by every released tensor of one dtype, shape and reason: a scope that releases
 * hundreds of tensors per training step builds one Proxy per kind, not one each (the released tensors
 * are told apart by nothing but these three). Bounded: cleared when it holds SENTINEL_CACHE_MAX kinds.
 */
const sentinelCache = new Map<string, TypedArray>();
const SENTINEL_CACHE_MAX = 4096;

function releasedStorage(dtype: DType, shape: readonly number[], why: string): TypedArray {
  const key = `${dtype}|${shape.join(",")}|${why}`;
  const cached = sentinelCache.get(key);
  if (cached !== undefined) return cached;
  if (sentinelCache.size >= SENTINEL_CACHE_MAX) sentinelCache.clear();
  const n = shape.reduce((a, b) => a * b, 1);
  const dims = shape.slice();
  const refuse = (): never => {
    throw releasedError(opFromStack(), { dtype, shape: dims }, why);
  };
  const target =
    dtype === "float64"
      ? new Float64Array(0)
      : dtype === "int32"
        ? new Int32Array(0)
        : dtype === "bool"
          ? new Uint8Array(0)
          : new Float32Array(0);
  const storage = new Proxy(target, {
    get: (_t, prop) => (prop === "length" ? n : refuse()),
    set: () => refuse(),
    has: () => refuse(),
    ownKeys: () => refuse(),
    getOwnPropertyDescriptor: () => refuse(),
    defineProperty: () => refuse(),
    deleteProperty: () => refuse(),
  });
  releasedSentinels.set(storage, why);
  sentinelCache.set(key, storage);
  return storage;
}

/** Blocks and bytes the scopes hold (tests and benchmarks). */
export function scopeStats(): { depth: number } {
  let depth = 0;
  for (let c = current; c !== null; c = c.parent) depth++;
  return { depth };
}
