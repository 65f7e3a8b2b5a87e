// Creating tensors: from JS data, constants, ranges and seeded random draws.
//
// dtype rules (JS has one number type, so they differ from Python's in one place): nested arrays of
// numbers give float32 unless a dtype is passed (PyTorch would give int64 for all-integer lists);
// booleans give bool; a typed array keeps its own dtype (Uint8Array is read as bool). arange with
// all-integer arguments gives int32, like PyTorch's integer arange.
//
// Inside meta(fn) (./meta.ts) every function here checks its arguments as usual and returns a shape-only
// tensor of the shape and dtype it would have returned: no values are allocated, computed or drawn (the
// generator does not advance).

import { allocate, checkDType, isFloating, type DType, type TypedArray } from "./dtype.js";
import { ArgumentError, DTypeError } from "./errors.js";
import { checkAllocation, checkNdim, toInt32 } from "./limits.js";
import { inMeta, metaStorage } from "./meta.js";
import { defaultGenerator, type Generator } from "./rng.js";
import { checkShape, fmt, numel, type Shape } from "./shape.js";
import { Tensor, type NestedArray } from "./tensor.js";

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}
export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}

/** The shape-only tensor a creation function returns inside meta(). */
function metaResult(dtype: DType, shape: Shape, requiresGrad?: boolean): Tensor {
  return finish(metaStorage(dtype, shape), shape, requiresGrad);
}

function finish(storage: TypedArray, shape: Shape, requiresGrad?: boolean): Tensor {
  const t = new Tensor(storage, shape);
  if (requiresGrad) t.requiresGrad = true;
  return t;
}

function floatDType(op: string, dtype: DType | undefined): DType {
  const d = dtype === undefined ? "float32" : checkDType(op, dtype);
  if (!isFloating(d)) throw new DTypeError(`${op}: dtype must be float32 or float64, got ${d}`);
  return d;
}

/**
 * A tensor from nested arrays, a number (0-d), or a flat typed/plain array with `shape`.
 * `tensor([[1, 2], [3, 4]])`, `tensor(new Float32Array(6), { shape: [2, 3] })`.
 */
export function tensor(
  data: NestedArray | TypedArray | readonly number[],
  opts: CreateOptions & { shape?: Shape } = {},
): Tensor {
  const dtype = opts.dtype === undefined ? undefined : checkDType("tensor", opts.dtype);
  if (ArrayBuffer.isView(data)) {
    const src = data as TypedArray;
    const d =
      dtype ??
      (src instanceof Uint8Array
        ? "bool"
        : src instanceof Int32Array
          ? "int32"
          : src instanceof Float64Array
            ? "float64"
            : "float32");
    const shape = opts.shape === undefined ? [src.length] : checkShape("tensor", opts.shape);
    if (numel(shape) !== src.length)
      throw new ArgumentError(
        `tensor: ${src.length} values cannot fill shape ${fmt(shape)} (${numel(shape)} elements)`,
      );
    if (inMeta()) return metaResult(d, shape, opts.requiresGrad);
    const out = allocate(d, src.length, "tensor");
    if (d === "bool") for (let i = 0; i < src.length; i++) out[i] = src[i] ? 1 : 0;
    else if (d === "int32" && !(src instanceof Int32Array))
      for (let i = 0; i < src.length; i++) out[i] = toInt32("tensor", src[i]!, ` (value ${i})`);
    else out.set(src);
    return finish(out, shape, opts.requiresGrad);
  }
  // Infer the shape from the nesting and check that it is rectangular.
  const shape: number[] = [];
  for (let v: unknown = data; Array.isArray(v); v = v[0]) {
    shape.push(v.length);
    checkNdim("tensor", shape.length); // before the recursion below, which goes as deep as the nesting
  }
  const flat: (number | boolean)[] = [];
  let sawBool = false,
    sawNumber = false;
  const visit = (v: unknown, dim: number): void => {
    if (dim === shape.length) {
      if (typeof v === "boolean") sawBool = true;
      else if (typeof v === "number") sawNumber = true;
      else
        throw new ArgumentError(
          `tensor: expected numbers or booleans, found ${Array.isArray(v) ? "an array" : typeof v} at depth ${dim}`,
        );
      flat.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new ArgumentError(
        `tensor: nested arrays are ragged: expected ${shape[dim]} items at depth ${dim}, found ${Array.isArray(v) ? v.length : "a scalar"}`,
      );
    }
    for (const item of v) visit(item, dim + 1);
  };
  visit(data, 0);
  const d = dtype ?? (sawBool && !sawNumber ? "bool" : "float32");
  let finalShape: number[] = shape;
  if (opts.shape !== undefined) {
    finalShape = checkShape("tensor", opts.shape);
    if (numel(finalShape) !== flat.length)
      throw new ArgumentError(`tensor: ${flat.length} values cannot fill shape ${fmt(finalShape)}`);
  }
  if (inMeta()) return metaResult(d, finalShape, opts.requiresGrad);
  const out = allocate(d, flat.length, "tensor");
  for (let i = 0; i < flat.length; i++) {
    const v = Number(flat[i]);
    out[i] = d === "bool" ? (v ? 1 : 0) : d === "int32" ? toInt32("tensor", v, ` (value ${i})`) : v;
  }
  return finish(out, finalShape, opts.requiresGrad);
}

export function full(shape: Shape, value: number, opts: CreateOptions = {}, op = "full"): Tensor {
  const s = checkShape(op, shape);
  const d = opts.dtype === undefined ? "float32" : checkDType(op, opts.dtype);
  if (d === "int32") toInt32(op, value);
  if (inMeta()) return metaResult(d, s, opts.requiresGrad);
  checkAllocation(op, d, numel(s), s);
  return finish(allocate(d, numel(s)).fill(value), s, opts.requiresGrad);
}

export function zeros(shape: Shape, opts: CreateOptions = {}): Tensor {
  return full(shape, 0, opts, "zeros");
}

export function ones(shape: Shape, opts: CreateOptions = {}): Tensor {
  return full(shape, 1, opts, "ones");
}

export function zerosLike(x: Tensor, opts: CreateOptions = {}): Tensor {
  return full(x.shape, 0, { dtype: x.dtype, ...opts });
}

export function onesLike(x: Tensor, opts: CreateOptions = {}): Tensor {
  return full(x.shape, 1, { dtype: x.dtype, ...opts });
}

export function fullLike(x: Tensor, value: number, opts: CreateOptions = {}): Tensor {
  return full(x.shape, value, { dtype: x.dtype, ...opts });
}

/** arange(end), arange(start, end), arange(start, end, step): values start, start+step, ... < end. */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (!Number.isFinite(start) || !Number.isFinite(end) || !Number.isFinite(step))
    throw new ArgumentError("arange: start, end and step must be finite numbers");
  if (step === 0) throw new ArgumentError("arange: step must be non-zero");
  if ((end - start) / step < 0)
    throw new ArgumentError(`arange: the range from ${start} to ${end} never ends with step ${step}`);
  const n = Math.ceil((end - start) / step);
  const integral = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  const d = checkDType("arange", opts.dtype ?? (integral ? "int32" : "float32"));
  if (d === "int32" && n > 0)
    (toInt32("arange", start + (n - 1) * step, " (its last value)"), toInt32("arange", start));
  if (inMeta()) return metaResult(d, [n], opts.requiresGrad);
  checkAllocation("arange", d, n, [n]);
  const out = allocate(d, n);
  for (let i = 0; i < n; i++) out[i] = start + i * step;
  return finish(out, [n], opts.requiresGrad);
}

/** `steps` evenly spaced values from start to end inclusive. */
export function linspace(start: number, end: number, steps: number, opts: CreateOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0)
    throw new ArgumentError(`linspace: steps must be a non-negative integer, got ${steps}`);
  const d = floatDType("linspace", opts.dtype);
  if (inMeta()) return metaResult(d, [steps], opts.requiresGrad);
  checkAllocation("linspace", d, steps, [steps]);
  const out = allocate(d, steps);
  const h = steps > 1 ? (end - start) / (steps - 1) : 0;
  // fill from both ends, as PyTorch does, so the last value is exactly `end`
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) out[i] = i < half ? start + h * i : end - h * (steps - 1 - i);
  if (steps === 1) out[0] = start;
  return finish(out, [steps], opts.requiresGrad);
}

/** An n×m identity matrix (m defaults to n). */
export function eye(n: number, m = n, opts: CreateOptions = {}): Tensor {
  const t = full([n, m], 0, opts, "eye");
  if (t.isMeta) return t;
  for (let i = 0; i < Math.min(n, m); i++) t.storage[i * m + i] = 1;
  return t;
}

/** Uniform in [0, 1). */
export function rand(shape: Shape, opts: RandomOptions = {}): Tensor {
  const s = checkShape("rand", shape);
  const d = floatDType("rand", opts.dtype);
  if (inMeta()) return metaResult(d, s, opts.requiresGrad);
  const g = opts.generator ?? defaultGenerator;
  const out = allocate(d, numel(s), "rand");
  for (let i = 0; i < out.length; i++) out[i] = g.random();
  return finish(out, s, opts.requiresGrad);
}

/** Standard normal. */
export function randn(shape: Shape, opts: RandomOptions = {}): Tensor {
  const s = checkShape("randn", shape);
  const d = floatDType("randn", opts.dtype);
  if (inMeta()) return metaResult(d, s, opts.requiresGrad);
  const g = opts.generator ?? defaultGenerator;
  const out = allocate(d, numel(s), "randn");
  for (let i = 0; i < out.length; i++) out[i] = g.normal();
  return finish(out, s, opts.requiresGrad);
}

/** Uniform integers in [low, high). */
export function randint(low: number, high: number, shape: Shape, opts: RandomOptions = {}): Tensor {
  const s = checkShape("randint", shape);
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new ArgumentError(`randint: need integers low < high, got low=${low}, high=${high}`);
  }
  const d = opts.dtype === undefined ? "int32" : checkDType("randint", opts.dtype);
  if (inMeta()) return metaResult(d, s, opts.requiresGrad);
  const g = opts.generator ?? defaultGenerator;
  const out = allocate(d, numel(s), "randint");
  for (let i = 0; i < out.length; i++) out[i] = g.randint(low, high);
  return finish(out, s, opts.requiresGrad);
}

export function randLike(x: Tensor, opts: RandomOptions = {}): Tensor {
  return rand(x.shape, { dtype: isFloating(x.dtype) ? x.dtype : "float32", ...opts });
}

export function randnLike(x: Tensor, opts: RandomOptions = {}): Tensor {
  return randn(x.shape, { dtype: isFloating(x.dtype) ? x.dtype : "float32", ...opts });
}
