// Shape-only ("meta") tensors, as PyTorch's device="meta": a tensor with a shape and a dtype but no values.
// `meta(() => new Llama(llamaConfig("llama-2-7b")))` builds the 6.7B-parameter model in a few milliseconds
// and allocates nothing, so its parameters can be counted, named and listed (and later replaced by real
// tensors with loadStateDict(state, { assign: true })).
//
// How, without costing normal tensors anything: a meta tensor is an ordinary Tensor whose `storage` is a
// sentinel — a Proxy over a zero-length typed array of the tensor's dtype. The proxy answers `length`
// (= numel, so numel(), reshape and the Tensor constructor's check work unchanged) and passes `instanceof`
// through (so the dtype is read from it as from any storage); every other access — an element read or
// write, `slice`, `set`, `subarray`, `buffer` — throws an ArgumentError naming the tensor's shape. So a
// kernel handed a meta tensor fails on its first read, never computes a silent wrong value, and no kernel
// or op checks anything. `Tensor.storage` keeps its TypedArray type for all other code.
//
// What meta() switches: the creation functions (tensor, zeros, ones, full, *Like, arange, linspace, eye,
// rand, randn, randint), nn's parameter allocation (param in src/nn/linear.ts), and the init functions
// (normal_, uniform_, kaimingUniform_, ..., which leave a meta tensor as it is). Ops are not switched: an
// op on a meta tensor throws (there are no shape-only kernels), inside meta() or outside it.

import { allocate, type DType, type TypedArray } from "./dtype.js";
import { ArgumentError } from "./errors.js";
import { countAllocation } from "./memory.js";
import { fmt, numel, type Shape } from "./shape.js";

/** How many meta() calls are running (nested calls are allowed). */
let depth = 0;
/** How many metaExecute() calls are running: ops run on meta tensors too (see metaExecute). */
let executing = 0;

/** The sentinel storages handed out, to tell a meta tensor by its storage. */
const sentinels = new WeakSet<object>();

/**
 * Run fn with every tensor creation shape-only (PyTorch's `torch.device("meta")` as a context):
 * `const model = meta(() => new Llama(llamaConfig("llama-2-7b")))` has all its parameters, with their
 * shapes and dtypes, and no storage. Reading a value or running an op on one throws an ArgumentError.
 */
export function meta<T>(fn: () => T): T {
  depth++;
  try {
    return fn();
  } finally {
    depth--;
  }
}

/** True inside meta(fn): creation functions return shape-only tensors. */
export function inMeta(): boolean {
  return depth > 0;
}

/**
 * Meta execution: run fn with every tensor shape-only, ops included — PyTorch's meta device running a whole
 * training step. Inside it, the creation functions and every storage an op or an optimizer allocates
 * (`allocate`, `keptBuffer`) are meta storages, each counted by the allocation meter (./memory.ts) as the bytes
 * it stands for; the kernels do nothing (src/ops/kernels.ts hands out a table of no-ops); and a meta storage's
 * values read as 0 (writes are dropped), so code that reads a value between ops (a loss for its metrics, a
 * router's choices, an index checked) goes on. The shapes are exact, so the bytes counted are the bytes the
 * same code allocates when it runs on real tensors — as long as no shape depends on a value (a value read is 0
 * here: a mixture-of-experts router sends every token to expert 0, which moves tokens between experts but
 * keeps their number). Nothing is computed and nothing of the tensors' size is allocated.
 */
export function metaExecute<T>(fn: () => T): T {
  if (executing === 0) touched = 0;
  executing++;
  depth++;
  try {
    return fn();
  } finally {
    depth--;
    executing--;
  }
}

/**
 * Values read or written one by one under metaExecute, and the most it allows: code that loops over a large
 * tensor's values (which a kernel would do) would take as long as on real values, so past this it is stopped
 * with an ArgumentError, and the caller estimates another way.
 */
let touched = 0;
export const MAX_META_TOUCHES = 10_000_000;
function touch(dtype: DType, n: number): void {
  if (++touched > MAX_META_TOUCHES)
    throw metaError(dtype, [n], `metaExecute: more than ${MAX_META_TOUCHES} values read or written one by one`);
}

/** True inside metaExecute(fn): ops run on meta tensors, kernels do nothing, values read as 0. */
export function inMetaExecution(): boolean {
  return executing > 0;
}

/** True when `storage` is a meta tensor's sentinel (the tensor has no values). */
export function isMetaStorage(storage: TypedArray): boolean {
  return sentinels.has(storage);
}

/** The error every use of a meta tensor's values throws. */
export function metaError(dtype: DType, shape: Shape, what: string): ArgumentError {
  return new ArgumentError(
    `${what}: this ${dtype} tensor of shape ${fmt(shape)} is a meta tensor (shape-only); it has no data to read, write or compute with. ` +
      "It was created inside meta(), which builds models to count and inspect their parameters; give the model real tensors " +
      "(loadStateDict(state, { assign: true })) or build it outside meta()",
  );
}

/**
 * A sentinel storage for a meta tensor of `shape` and `dtype`: `length` is the number of elements, and
 * `instanceof` answers as the dtype's typed array; any other property access throws metaError.
 */
export function metaStorage(dtype: DType, shape: Shape): TypedArray {
  const n = numel(shape);
  if (executing > 0) return countedStorage(dtype, n, true);
  const dims = shape.slice();
  const refuse = (prop: string | symbol): never => {
    const name = typeof prop === "symbol" ? prop.toString() : /^\d+$/.test(prop) ? `[${prop}]` : `.${prop}`;
    throw metaError(dtype, dims, `storage${name}`);
  };
  const target = allocate(dtype, 0);
  const storage = new Proxy(target, {
    get: (_t, prop) => (prop === "length" ? n : refuse(prop)),
    set: (_t, prop) => refuse(prop),
    has: (_t, prop) => refuse(prop),
    ownKeys: () => refuse("keys"),
    getOwnPropertyDescriptor: (_t, prop) => refuse(prop),
    defineProperty: (_t, prop) => refuse(prop),
    deleteProperty: (_t, prop) => refuse(prop),
  });
  sentinels.add(storage);
  return storage;
}

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };
/** a zero-length array of each dtype (not through `allocate`, which makes meta storages under metaExecute) */
const EMPTY: Record<DType, () => TypedArray> = {
  float32: () => new Float32Array(0),
  float64: () => new Float64Array(0),
  int32: () => new Int32Array(0),
  bool: () => new Uint8Array(0),
};

/** The methods of a typed array that change it in place: no-ops on a meta storage under metaExecute. */
const IN_PLACE = new Set<string | symbol>(["fill", "set", "copyWithin", "sort", "reverse"]);

/**
 * A meta storage of n elements for metaExecute: its values read as 0 and writes are dropped; `subarray` is a
 * view (not counted), `slice` a copy (counted); counted by the allocation meter when `count` is set.
 */
export function countedStorage(dtype: DType, n: number, count = true): TypedArray {
  if (count) countAllocation(n * BYTES[dtype]);
  const target = EMPTY[dtype]();
  const used = (): void => {
    if (lives !== null) noteUse(storage);
  };
  const part = (b = 0, e = n): number => {
    const at = (i: number): number => (i < 0 ? Math.max(0, n + i) : Math.min(n, i));
    return Math.max(0, at(e) - at(b));
  };
  const storage: TypedArray = new Proxy(target, {
    get: (t, prop) => {
      if (prop === "length") return n;
      used();
      if (typeof prop === "string" && /^\d+$/.test(prop)) {
        touch(dtype, n);
        return Number(prop) < n ? 0 : undefined;
      }
      if (IN_PLACE.has(prop)) return () => storage;
      if (prop === "subarray")
        return (b?: number, e?: number) => {
          const view = countedStorage(dtype, part(b, e), false);
          if (lives !== null) viewOf.set(view, viewOf.get(storage) ?? storage); // a use of the view is one of this storage
          return view;
        };
      if (prop === "slice") return (b?: number, e?: number) => countedStorage(dtype, part(b, e), true);
      if (prop === "byteLength") return n * BYTES[dtype];
      if (prop === "byteOffset") return 0;
      if (prop === Symbol.iterator || prop === "values")
        return function* (): Generator<number> {
          for (let i = 0; i < n; i++) yield 0;
        };
      const own = (t as unknown as Record<string | symbol, unknown>)[prop];
      if (typeof own !== "function") return own; // BYTES_PER_ELEMENT, buffer, constructor, the tag
      const generic = (Array.prototype as unknown as Record<string | symbol, unknown>)[prop];
      if (typeof generic === "function")
        return (...args: unknown[]) => (generic as (...a: unknown[]) => unknown).apply(storage, args);
      throw metaError(dtype, [n], `storage.${String(prop)}`);
    },
    set: () => {
      used();
      touch(dtype, n);
      return true;
    },
    has: (_t, prop) => prop in target || (typeof prop === "string" && /^\d+$/.test(prop) && Number(prop) < n),
  });
  sentinels.add(storage);
  if (count && lives !== null) {
    const life: Life = { bytes: n * BYTES[dtype], born: ++clock, last: clock, storage };
    lives.set(storage, life);
    born.push(life);
  }
  return storage;
}

// ---------------------------------------------------------------------------------------------------
// The peak of live buffers (inference). A training step's memory scope frees nothing before it ends, so the
// bytes it allocates are its peak; code outside a scope (a sampler under noGrad) frees a buffer when nothing
// refers to it any more, and the sum of its buffers says little. Under `metaLivePeak` each counted storage is
// live from its allocation to its last use — a kernel given it (as input or output), a value read or written —
// or to the end for those the run returns, and the peak is the largest sum of the storages live at once:
//
//   live(t) = Σ bytes_i over the storages i with born_i ≤ t ≤ last_i;   peak = max_t live(t)
//
// A buffer can be freed only after its last use, so this is a lower bound of any real run's peak; how close
// the garbage collector comes to it depends on the code (a local variable keeps its tensor until its function
// returns) and on when the collector runs.

interface Life {
  readonly bytes: number;
  readonly born: number;
  last: number;
  /** released at the end of the memory scope it was made in (its life ends there, not at its last use) */
  closed?: boolean;
  readonly storage: TypedArray;
}
/** the storages counted while metaLivePeak runs, each with its life; null when it does not run */
let lives: Map<TypedArray, Life> | null = null;
/** the same lives in the order they were born (a scope's are the last ones when it ends) */
let born: Life[] = [];
/** a view (subarray) → the counted storage it is part of */
const viewOf = new WeakMap<object, TypedArray>();
let clock = 0;

function noteUse(x: unknown): void {
  const life = lives!.get((viewOf.get(x as object) ?? x) as TypedArray);
  if (life !== undefined) life.last = ++clock;
}

/**
 * A memory scope (tidy) frees what it made when it ends, not after each buffer's last use: under metaLivePeak,
 * `metaScopeMark()` when a scope begins and `metaScopeEnd(mark, survivors)` when it ends make every storage
 * counted since the mark live to the scope's end, except those that leave it (its result, kept tensors); an
 * inner scope's storages end with the inner scope. So the count of a sampler whose denoiser runs in a scope is
 * the peak of that run, not of one that frees as it goes.
 */
export function metaScopeMark(): number {
  return lives === null ? -1 : clock;
}

export function metaScopeEnd(mark: number, survivors: Iterable<TypedArray>): void {
  if (lives === null || mark < 0) return;
  const leaving = new Set<unknown>();
  for (const s of survivors) leaving.add(viewOf.get(s) ?? s);
  const end = ++clock;
  for (let i = born.length - 1; i >= 0 && born[i]!.born > mark; i--) {
    const l = born[i]!;
    if (l.closed || leaving.has(l.storage)) continue;
    if (l.last < end) l.last = end;
    l.closed = true;
  }
}

/** Called by the shape-only kernel table with a kernel's arguments: each storage among them is used now. */
export function noteKernelArgs(args: readonly unknown[]): void {
  if (lives === null) return;
  for (const a of args) {
    if (Array.isArray(a)) for (const x of a) noteUse(x);
    else if (a !== null && typeof a === "object") noteUse(a);
  }
}

/**
 * Runs fn under metaExecute and returns the peak of its live buffers (above) and the sum of all it allocated;
 * `alive(result)` lists the storages still referred to when fn has returned (its result), live to the end.
 */
export function metaLivePeak<T>(
  fn: () => T,
  alive: (result: T) => readonly TypedArray[],
): { peak: number; total: number; result: T } {
  if (lives !== null) throw new ArgumentError("metaLivePeak: already running (it does not nest)");
  lives = new Map();
  born = [];
  clock = 0;
  try {
    const result = metaExecute(fn);
    for (const s of alive(result)) noteUse(s);
    // +bytes at birth, −bytes just after the last use (births at a time come before deaths: times are distinct)
    const events: [number, number][] = [];
    let total = 0;
    for (const l of lives.values()) {
      total += l.bytes;
      events.push([2 * l.born, l.bytes], [2 * l.last + 1, -l.bytes]);
    }
    events.sort((a, b) => a[0] - b[0]);
    let live = 0,
      peak = 0;
    for (const [, d] of events) {
      live += d;
      if (live > peak) peak = live;
    }
    return { peak, total, result };
  } finally {
    lives = null;
    born = [];
  }
}
