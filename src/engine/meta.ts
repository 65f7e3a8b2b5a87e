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
import { fmt, numel, type Shape } from "./shape.js";

/** How many meta() calls are running (nested calls are allowed). */
let depth = 0;

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
