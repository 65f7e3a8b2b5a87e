// Limits that keep careless or hostile input from taking the process down: the largest tensor, the
// deepest nesting, the values an int32 tensor can hold, and a JSON parse whose depth we decide rather
// than the host's call stack. Every reader of untrusted files (src/io, src/data) and every creation
// function goes through these, so the caps live in one place (docs/limits.md lists them).
//
//   a tensor of n elements of dtype d needs n · bytes(d); above maxTensorBytes it is refused
//   before anything is allocated (ArgumentError naming the op, the shape and the budget)
//   a shape has at most MAX_NDIM dims; nested arrays deeper than that are refused the same way
//   int32 holds integers in [−2³¹, 2³¹ − 1]; NaN, ±Infinity and anything outside are refused
//   JSON from files is scanned for its nesting depth (no recursion) before it is parsed

import { ArgumentError, DTypeError, LoadError, MemoryBudgetError } from "./errors.js";

/** The most dims a tensor may have (PyTorch allows 64 as well). */
export const MAX_NDIM = 64;

/** The default budget of one tensor: 2 GiB (a 4-byte tensor of 2²⁹ elements). */
export const DEFAULT_MAX_TENSOR_BYTES = 2 ** 31;

let maxTensorBytes = DEFAULT_MAX_TENSOR_BYTES;

/**
 * Raise (or lower) the largest tensor the library will allocate, in bytes. Returns the previous value.
 * The cap exists so that `zeros([1e9])` or a file's `nEmbd: 1e5` is an error, not 4 GB taken in silence.
 */
export function setMaxTensorBytes(bytes: number): number {
  if (!Number.isSafeInteger(bytes) || bytes < 1)
    throw new ArgumentError(`setMaxTensorBytes: expected a positive integer number of bytes, got ${bytes}`);
  const old = maxTensorBytes;
  maxTensorBytes = bytes;
  return old;
}

export function getMaxTensorBytes(): number {
  return maxTensorBytes;
}

const ITEM_BYTES: Record<string, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

/**
 * Refuse a tensor of `n` elements of `dtype` that would pass the budget, before it is allocated.
 * `shape` only makes the message clearer.
 */
export function checkAllocation(op: string, dtype: string, n: number, shape?: readonly number[]): void {
  const what = shape ? `shape (${shape.join(",")})` : `${n} elements`;
  if (!Number.isSafeInteger(n) || n < 0)
    throw new ArgumentError(`${op}: a tensor of ${what} has ${n} elements, which is not a valid size`);
  const bytes = n * (ITEM_BYTES[dtype] ?? 8);
  if (bytes > maxTensorBytes) {
    throw new MemoryBudgetError(
      `${op}: a tensor of ${what} (${dtype}) needs ${bytes.toLocaleString("en-US")} bytes, more than the limit of ` +
        `${maxTensorBytes.toLocaleString("en-US")} bytes for one tensor (setMaxTensorBytes raises it)`,
    );
  }
}

/** n itself when it is a valid number of elements (a safe integer ≥ 0), else the ArgumentError checkAllocation throws. */
export function checkedCount(op: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new ArgumentError(`${op}: a tensor of ${n} elements has ${n} elements, which is not a valid size`);
  return n;
}

/** A shape's number of dims against MAX_NDIM. */
export function checkNdim(op: string, ndim: number): void {
  if (ndim > MAX_NDIM)
    throw new ArgumentError(
      `${op}: ${ndim} dims (or levels of nesting) are more than the ${MAX_NDIM} a tensor may have`,
    );
}

export const INT32_MIN = -(2 ** 31);
export const INT32_MAX = 2 ** 31 - 1;

/**
 * The int32 a number becomes (truncated toward zero, as PyTorch's conversion does), or a DTypeError
 * when it has none: NaN, ±Infinity, or outside [−2³¹, 2³¹ − 1] (where a typed array would wrap around).
 */
export function toInt32(op: string, v: number, where = ""): number {
  const t = Math.trunc(v);
  if (!(t >= INT32_MIN && t <= INT32_MAX)) {
    throw new DTypeError(`${op}: ${v}${where} cannot be stored as int32 (integers in [${INT32_MIN}, ${INT32_MAX}])`);
  }
  return t | 0; // −0 → 0
}

// ---------------------------------------------------------------------------------------------------
// JSON from files

/** The default nesting depth allowed in a JSON file (real configs and tokenizers use fewer than 10). */
export const DEFAULT_MAX_JSON_DEPTH = 64;

/**
 * The nesting depth of a JSON text, by one pass over its characters (strings skipped): no recursion,
 * so the host's stack never decides the outcome. Stops as soon as `limit` is passed.
 */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0,
    max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // a string: skip to its closing quote
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      // { [
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === 0x7d || c === 0x5d) depth--; // } ]
  }
  return max;
}

/**
 * JSON.parse for text from a file: the depth is checked first (LoadError past `maxDepth`), a syntax
 * error is a LoadError naming `what`. JSON.parse itself does not recurse on the host's stack.
 */
export function parseJsonText(text: string, what: string, maxDepth = DEFAULT_MAX_JSON_DEPTH): unknown {
  if (jsonDepth(text, maxDepth) > maxDepth) throw new LoadError(`${what}: JSON nested deeper than ${maxDepth} levels`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new LoadError(`${what}: not valid JSON (${(e as Error).message})`);
  }
}

/**
 * The nesting depth of an already parsed value, iteratively (for objects handed to a reader instead of
 * text). Stops as soon as `limit` is passed.
 */
export function valueDepth(value: unknown, limit = Infinity): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (d + 1 > max && (max = d + 1) > limit) return max;
    for (const x of Array.isArray(v) ? v : Object.values(v))
      if (typeof x === "object" && x !== null) stack.push([x, d + 1]);
  }
  return max;
}
