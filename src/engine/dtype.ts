// Data types and their storage. Storage is an ordinary garbage-collected typed array (inside a memory
// scope, a typed array over the kernels' memory: ./scope.ts).
//
//   float32  Float32Array   the default for floating tensors
//   float64  Float64Array   the reference backend's precision, used by gradient checks
//   int32    Int32Array     indices, class labels, token ids
//   bool     Uint8Array     masks produced by comparisons (0 or 1); never differentiable

import { DTypeError } from "./errors.js";
import { noteMetaBlock, scopedAllocate } from "./scope.js";
import { checkAllocation, checkedCount } from "./limits.js";
import { countAllocation } from "./memory.js";
import { countedStorage, inMetaExecution } from "./meta.js";

export type DType = "float32" | "float64" | "int32" | "bool";
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export const DTYPES: readonly DType[] = ["float32", "float64", "int32", "bool"];

/** Bytes of one element of each dtype. */
const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

/**
 * Fresh zeroed storage of n elements: an ordinary typed array, or inside a memory scope a block of the kernels'
 * memory (./scope.ts); a size past the tensor budget (./limits.ts) is an ArgumentError naming `op`. With `zero`
 * false a block of the kernels' memory is not zero-filled (its values are undefined; an ordinary array still is):
 * for an output whose kernel writes every element.
 */
export function allocate(dtype: DType, n: number, op = "allocate", zero = true): TypedArray {
  // shape-only (./meta.ts): counted, nothing allocated; a tensor past the one-tensor cap is counted too (the
  // estimate it goes into is then past any budget that cap fits in)
  if (inMetaExecution()) {
    const s = countedStorage(dtype, checkedCount(op, n));
    noteMetaBlock(s, dtype, n); // where a real run takes a block of the scope (the leaf-gradient takeover reads it)
    return s;
  }
  checkAllocation(op, dtype, n);
  countAllocation(n * BYTES[dtype]);
  const s = scopedAllocate(dtype, n, zero);
  if (s !== null) return s;
  switch (dtype) {
    case "float32":
      return new Float32Array(n);
    case "float64":
      return new Float64Array(n);
    case "int32":
      return new Int32Array(n);
    case "bool":
      return new Uint8Array(n);
  }
}

/**
 * A copy of s in an ordinary typed array of its type (what `s.slice()` returns). Over a view of shared memory (the
 * wasm heap's blocks) `slice` copies element by element, ≈ 50× slower than `set` (this machine, 1 MiB of float32:
 * 2.8 ms against 0.055 ms), so every copy of a storage that may be a block goes through here.
 */
export function copyStorage<A extends TypedArray>(s: A): A {
  const out =
    s instanceof Float32Array
      ? new Float32Array(s.length)
      : s instanceof Float64Array
        ? new Float64Array(s.length)
        : s instanceof Int32Array
          ? new Int32Array(s.length)
          : new Uint8Array(s.length);
  out.set(s);
  return out as A;
}

export function dtypeOf(storage: TypedArray): DType {
  if (storage instanceof Float32Array) return "float32";
  if (storage instanceof Float64Array) return "float64";
  if (storage instanceof Int32Array) return "int32";
  return "bool";
}

export function isFloating(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64";
}

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** PyTorch's promotion for two tensors: bool < int32 < float32 < float64. */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/**
 * The dtype of `tensor op scalar` as in PyTorch: a Python scalar does not promote a tensor of its own
 * category (float32 + 2.5 stays float32, int32 + 2 stays int32); a float scalar turns an integer or
 * bool tensor into the default float dtype (float32); an integer scalar turns a bool tensor into int32.
 */
export function scalarResultType(dtype: DType, value: number): DType {
  const integral = Number.isInteger(value);
  if (isFloating(dtype)) return dtype;
  if (!integral) return "float32";
  return dtype === "bool" ? "int32" : dtype;
}

export function checkDType(op: string, dtype: unknown): DType {
  if (typeof dtype === "string" && (DTYPES as readonly string[]).includes(dtype)) return dtype as DType;
  throw new DTypeError(`${op}: unknown dtype ${JSON.stringify(dtype)}; expected one of ${DTYPES.join(", ")}`);
}
