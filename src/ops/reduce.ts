// Reductions: sum mean var std max min argmax argmin topk logsumexp, with PyTorch's dim/keepdim semantics.
//
// Every reduction runs one kernel over x viewed as (outer, r, inner), the reduced dims in the middle.
// When the reduced dims are contiguous (one dim, or neighbours like (1, 2)) that view is x's own
// storage; otherwise stridedCopy permutes x once: the kept dims before the last reduced dim go to
// `outer`, the reduced dims to `r`, the kept dims after it stay in `inner`. Either way the kept dims
// keep their order, so the kernel's output (outer, inner) is already the result's row-major layout.
//
// dim: a number, an array of numbers (sum mean var std logsumexp), or undefined = every dim. An empty
// array also means every dim, as in PyTorch 1.13. Negative dims count from the end.
//
// Output dtypes (PyTorch's, with one difference): sum of int32 or bool gives int32 (PyTorch gives
// int64, which we do not have; a sum that overflows int32 wraps around); mean, var and std take only
// floating tensors (PyTorch raises too); logsumexp of an integer tensor computes in float32.
// Empty reductions: sum → 0, mean → NaN, var/std → NaN, logsumexp → −inf; max, min, argmax and argmin
// of nothing raise a ShapeError, as PyTorch does.
//
// Vocabulary: x input (any shape); y output; dy its gradient; dx the gradient returned (x's shape);
// "keep shape" = x's shape with every reduced dim set to 1 (y viewed as if keepdim were true).

import { record } from "../engine/autograd.js";
import { allocate, isFloating } from "../engine/dtype.js";
import { ArgumentError, ShapeError } from "../engine/errors.js";
import { broadcastStrides, fmt, normDims, numel, stridesOf, type Shape } from "../engine/shape.js";
import { Tensor } from "../engine/tensor.js";
import type { Arr, FloatArr } from "../backend/backend.js";
import { div, exp, mul, sub } from "./elementwise.js";
import { kernels } from "./kernels.js";
import { empty, requireFloat, toDType, uninitialised } from "./util.js";

/** One dim, several dims, or undefined/null for all of them. */
export type Dims = number | readonly number[] | null | undefined;

/** What max/min/argmax-style reductions along one dim return (PyTorch's named tuple). */
export interface ValuesAndIndices {
  values: Tensor;
  /** int32 positions along the reduced dim */
  indices: Tensor;
}

// ---------------------------------------------------------------------------------------------------
// Planning a reduction: which dims, and how x is laid out as (outer, r, inner).

interface Reduction {
  /** reduced dims of x, ascending */
  dims: number[];
  outer: number;
  /** number of elements reduced into each output element */
  r: number;
  inner: number;
  /** x's dims in (outer, reduced, inner) order, or null when x already is in that order */
  perm: number[] | null;
  /** the output shape */
  shape: number[];
  /** x's shape with the reduced dims set to 1 */
  keepShape: number[];
}

function planReduction(op: string, x: Tensor, dim: Dims, keepdim: boolean): Reduction {
  const all = dim === undefined || dim === null || (Array.isArray(dim) && dim.length === 0);
  if (!all && typeof dim !== "number" && !Array.isArray(dim)) {
    throw new ArgumentError(`${op}: dim must be a number or an array of numbers, got ${typeof dim}`);
  }
  if (typeof keepdim !== "boolean") throw new ArgumentError(`${op}: keepdim must be a boolean, got ${typeof keepdim}`);
  // a 0-d tensor accepts dim 0 / −1 (normDims checks it) and reduces over nothing
  const checked = all ? normDims(op, undefined, x.ndim) : normDims(op, dim as number | number[], x.ndim, x.shape);
  const dims = x.ndim === 0 ? [] : checked;
  const reduced = new Set(dims);
  const last = dims.length > 0 ? dims[dims.length - 1]! : -1;
  const outerDims: number[] = [],
    innerDims: number[] = [];
  for (let d = 0; d < x.ndim; d++) if (!reduced.has(d)) (d < last ? outerDims : innerDims).push(d);
  const perm = [...outerDims, ...dims, ...innerDims];
  const size = (ds: number[]): number => numel(ds.map((d) => x.shape[d]!));
  const keepShape = x.shape.map((s, d) => (reduced.has(d) ? 1 : s));
  return {
    dims,
    outer: size(outerDims),
    r: size(dims),
    inner: size(innerDims),
    perm: perm.every((d, i) => d === i) ? null : perm,
    shape: keepdim ? keepShape : x.shape.filter((_, d) => !reduced.has(d)),
    keepShape,
  };
}

/** x's values laid out as (outer, r, inner): its own storage, or a permuted copy. */
function reduceForm(x: Tensor, red: Reduction): Arr {
  if (red.perm === null) return x.storage;
  const strides = stridesOf(x.shape);
  const out = allocate(x.dtype, x.numel());
  kernels().stridedCopy(
    x.storage,
    0,
    red.perm.map((d) => strides[d]!),
    red.perm.map((d) => x.shape[d]!),
    out,
  );
  return out;
}

/** The adjoint of a reduction's shape change: dy (the output's shape) repeated along the reduced dims → x's shape. */
function expandBack(dy: Tensor, red: Reduction, shape: Shape): Tensor {
  const dx = uninitialised(shape, dy.dtype); // the broadcast copy writes each element
  kernels().stridedCopy(dy.storage, 0, broadcastStrides(red.keepShape, shape), shape, dx.storage);
  return dx;
}

/** y viewed with the keep shape (size-1 reduced dims), sharing storage; for broadcasting against x. */
function keepView(y: Tensor, red: Reduction): Tensor {
  return new Tensor(y.storage, red.keepShape);
}

/** Σ over the reduction, not recorded (a building block for the forwards below). */
function sumValues(x: Tensor, red: Reduction): Tensor {
  const y = empty(red.shape, isFloating(x.dtype) ? x.dtype : "int32");
  kernels().sum(reduceForm(x, red), y.storage, red.outer, red.r, red.inner);
  return y;
}

function requireNonEmpty(op: string, x: Tensor, red: Reduction, dim?: number): void {
  if (red.r > 0) return;
  const where = dim === undefined ? "over all its elements" : `along dim ${dim} of size 0`;
  throw new ShapeError(
    `${op}: cannot reduce a tensor of shape ${fmt(x.shape)} ${where}: there are no elements to take the ${op} of`,
  );
}

// ---------------------------------------------------------------------------------------------------
// sum, mean

/** Σ of x over `dim` (all dims when omitted). int32 and bool sum to int32. */
export function sum(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  const red = planReduction("sum", x, dim, keepdim);
  const y = sumValues(x, red);
  // y = Σ_dims x  ⇒  dx = dy repeated along the reduced dims
  return record("sum", [x], y, (dy) => [expandBack(dy, red, x.shape)]);
}

/** The mean of x over `dim`; floating tensors only (an empty reduction gives NaN). */
export function mean(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  requireFloat("mean", x);
  const red = planReduction("mean", x, dim, keepdim);
  // y = Σ_dims x / N  (N = 0 gives 0/0 = NaN)
  const y = div(sumValues(x, red), red.r);
  // dx = dy/N broadcast: divided before the broadcast, on the small tensor (the same quotients)
  return record("mean", [x], y, (dy) => [expandBack(div(dy, red.r), red, x.shape)]);
}

// ---------------------------------------------------------------------------------------------------
// var, std

export interface VarOptions {
  /** divide by N − correction (default 1: Bessel's correction, the unbiased estimate) */
  correction?: number;
  /** PyTorch 1.13's flag: true = correction 1, false = correction 0 */
  unbiased?: boolean;
  keepdim?: boolean;
}

/** Reads PyTorch's calling forms: (dim?, { correction, keepdim }), (dim, unbiased, keepdim?), (unbiased). */
function varArgs(
  op: string,
  dimOrUnbiased: Dims | boolean,
  opts: VarOptions | boolean | undefined,
  keepdimArg: boolean | undefined,
): { dim: Dims; correction: number; keepdim: boolean } {
  if (typeof dimOrUnbiased === "boolean") return { dim: undefined, correction: dimOrUnbiased ? 1 : 0, keepdim: false };
  if (typeof opts === "boolean") return { dim: dimOrUnbiased, correction: opts ? 1 : 0, keepdim: keepdimArg ?? false };
  const o = opts ?? {};
  if (o.correction !== undefined && o.unbiased !== undefined)
    throw new ArgumentError(`${op}: pass either correction or unbiased, not both`);
  const correction = o.correction ?? (o.unbiased === false ? 0 : 1);
  if (!Number.isFinite(correction) || correction < 0)
    throw new ArgumentError(`${op}: correction must be a non-negative number, got ${correction}`);
  return { dim: dimOrUnbiased, correction, keepdim: o.keepdim ?? false };
}

/** x − mean(x) over the reduction (x's shape) and Σ (x − mean)² (the output's shape), not recorded. */
function centered(x: Tensor, red: Reduction): { d: Tensor; ss: Tensor } {
  const xd = x.detach();
  const mu = div(keepView(sumValues(xd, red), red), red.r); // keep shape
  const d = sub(xd, mu); // x's shape
  return { d, ss: sumValues(mul(d, d), red) };
}

/** N − correction; N − c ≤ 0 gives an inf or NaN result as in PyTorch, and N = 0 (nothing to reduce) NaN. */
function dofOf(red: Reduction, correction: number): number {
  return red.r === 0 ? NaN : red.r - correction;
}

/** The variance over `dim`: Σ (x − mean)² / (N − correction). */
function variance(x: Tensor, dim?: Dims | boolean, opts?: VarOptions | boolean, keepdimArg?: boolean): Tensor {
  requireFloat("var", x);
  const { dim: dims, correction, keepdim } = varArgs("var", dim, opts, keepdimArg);
  const red = planReduction("var", x, dims, keepdim);
  const { d, ss } = centered(x, red);
  const dof = dofOf(red, correction);
  // y = Σ (x − μ)² / (N − c)
  const y = div(ss, dof);
  // dy/dx_i = 2 (x_i − μ) / (N − c)   (the −Σ 2(x − μ)/N through μ vanishes: Σ (x − μ) = 0)
  return record("var", [x], y, (dy) => [mul(expandBack(dy, red, x.shape), mul(d, 2 / dof))]);
}

/** The standard deviation over `dim`: √var, with the same arguments as var. */
export function std(x: Tensor, dim?: Dims | boolean, opts?: VarOptions | boolean, keepdimArg?: boolean): Tensor {
  requireFloat("std", x);
  const { dim: dims, correction, keepdim } = varArgs("std", dim, opts, keepdimArg);
  const red = planReduction("std", x, dims, keepdim);
  const { d, ss } = centered(x, red);
  const dof = dofOf(red, correction);
  const v = div(ss, dof);
  // y = √var
  const y = empty(v.shape, v.dtype);
  kernels().sqrt(v.storage, y.storage);
  // dy/dx_i = 1/(2y) · 2 (x_i − μ)/(N − c) = (x_i − μ) / ((N − c)·y); where y = 0 the gradient is 0, as PyTorch
  return record("std", [x], y, (dy) => [mul(expandBack(mul(dy, reciprocalOrZero(y)), red, x.shape), div(d, dof))]);
}

/** 1/y, but 0 where y = 0. */
function reciprocalOrZero(y: Tensor): Tensor {
  const k = kernels();
  const strides = stridesOf(y.shape),
    none = y.shape.map(() => 0);
  const zero = allocate(y.dtype, 1);
  const isZero = allocate("bool", y.numel()) as Uint8Array;
  k.eq(y.storage, strides, zero, none, isZero, y.shape);
  const r = empty(y.shape, y.dtype);
  k.reciprocal(y.storage, r.storage);
  k.where(isZero, strides, zero, none, r.storage, strides, r.storage, y.shape);
  return r;
}

export { variance as var };

// ---------------------------------------------------------------------------------------------------
// max, min (values, and indices along a dim), argmax, argmin

function extreme(op: "max" | "min", x: Tensor, dim: number | undefined, keepdim: boolean): Tensor | ValuesAndIndices {
  if (dim !== undefined && typeof dim !== "number") {
    throw new ArgumentError(
      `${op}: dim must be a single number, got ${Array.isArray(dim) ? "an array" : typeof dim} (for the elementwise ${op} of two tensors use ${op === "max" ? "maximum" : "minimum"})`,
    );
  }
  const red = planReduction(op, x, dim, keepdim);
  requireNonEmpty(op, x, red, dim);
  const values = empty(red.shape, x.dtype);
  const indices = empty(red.shape, "int32");
  kernels()[op](reduceForm(x, red), values.storage, indices.storage as Int32Array, red.outer, red.r, red.inner);

  if (dim === undefined) {
    // y = max(x) (0-d)  ⇒  dx = dy/k at each of the k elements equal to y, 0 elsewhere (ties share evenly, as PyTorch)
    return record(op, [x], values, (dy) => {
      const mask = tiesWith(x, values.storage[0]!);
      const k = sumValues(mask, planReduction(op, mask, undefined, false)).item();
      return [mul(mask, div(dy, k))];
    });
  }
  // y[o, j] = x[o, idx[o, j], j]  ⇒  dx[o, idx[o, j], j] = dy[o, j], 0 elsewhere
  record(op, [x], values, (dy) => {
    const dx = empty(x.shape, x.dtype);
    kernels().scatterToIndex(
      dy.storage as FloatArr,
      indices.storage as Int32Array,
      dx.storage as FloatArr,
      red.outer,
      red.r,
      red.inner,
    );
    return [dx];
  });
  return { values, indices };
}

/** The bool mask of the elements equal to `v` (of the NaNs when v is NaN). */
function tiesWith(x: Tensor, v: number): Tensor {
  const mask = empty(x.shape, "bool");
  const strides = stridesOf(x.shape),
    none = x.shape.map(() => 0);
  if (Number.isNaN(v)) kernels().ne(x.storage, strides, x.storage, strides, mask.storage, x.shape);
  else kernels().eq(x.storage, strides, Float64Array.of(v), none, mask.storage, x.shape);
  return mask;
}

/** max(x): the largest value as a 0-d tensor. max(x, dim, keepdim?): { values, indices } along dim. NaN propagates. */
export function max(x: Tensor): Tensor;
export function max(x: Tensor, dim: number, keepdim?: boolean): ValuesAndIndices;
export function max(x: Tensor, dim?: number, keepdim = false): Tensor | ValuesAndIndices {
  return extreme("max", x, dim, keepdim);
}

/** min(x): the smallest value as a 0-d tensor. min(x, dim, keepdim?): { values, indices } along dim. */
export function min(x: Tensor): Tensor;
export function min(x: Tensor, dim: number, keepdim?: boolean): ValuesAndIndices;
export function min(x: Tensor, dim?: number, keepdim = false): Tensor | ValuesAndIndices {
  return extreme("min", x, dim, keepdim);
}

function argExtreme(op: "argmax" | "argmin", x: Tensor, dim: number | undefined, keepdim: boolean): Tensor {
  if (dim !== undefined && typeof dim !== "number")
    throw new ArgumentError(`${op}: dim must be a single number or undefined, got ${typeof dim}`);
  // without dim: the index into the flattened tensor (keepdim gives all dims of size 1)
  const red = planReduction(op, x, dim, keepdim);
  requireNonEmpty(op, x, red, dim);
  const values = allocate(x.dtype, numel(red.shape));
  const indices = empty(red.shape, "int32");
  kernels()[op === "argmax" ? "max" : "min"](
    reduceForm(x, red),
    values,
    indices.storage as Int32Array,
    red.outer,
    red.r,
    red.inner,
  );
  return indices;
}

/** The int32 index of the largest value along dim (of the flattened tensor when dim is omitted). */
export function argmax(x: Tensor, dim?: number, keepdim = false): Tensor {
  return argExtreme("argmax", x, dim, keepdim);
}

/** The int32 index of the smallest value along dim (of the flattened tensor when dim is omitted). */
export function argmin(x: Tensor, dim?: number, keepdim = false): Tensor {
  return argExtreme("argmin", x, dim, keepdim);
}

// ---------------------------------------------------------------------------------------------------
// topk

/**
 * The k largest values along dim (the k smallest with `largest: false`), best first, and their int32
 * indices: both have x's shape with size k at dim (torch.topk, always sorted). Ties keep the lower index
 * first. Only the values are differentiable: the choice of the indices is discrete.
 */
export function topk(x: Tensor, k: number, dim = -1, opts: { largest?: boolean } = {}): ValuesAndIndices {
  const { largest = true } = opts;
  if (typeof dim !== "number")
    throw new ArgumentError(
      `topk: dim must be a single number, got ${typeof dim} for the input of shape ${fmt(x.shape)}`,
    );
  if (x.ndim === 0) throw new ShapeError(`topk: the input must have at least one dim, got shape ${fmt(x.shape)}`);
  const red = planReduction("topk", x, dim, true);
  if (!Number.isInteger(k) || k < 0 || k > red.r) {
    throw new ArgumentError(
      `topk: k must be an integer in [0, ${red.r}] (the size of dim ${red.dims[0]} of the input ${fmt(x.shape)}), got ${k}`,
    );
  }
  const d = red.dims[0]!;
  const shape = x.shape.map((s, i) => (i === d ? k : s));
  const values = empty(shape, x.dtype);
  const indices = empty(shape, "int32");
  // x seen as (outer, r, inner) with dim in the middle; values and indices are (outer, k, inner)
  const outer = numel(x.shape.slice(0, d)),
    inner = numel(x.shape.slice(d + 1));
  kernels().topk(x.storage, values.storage, indices.storage as Int32Array, outer, red.r, inner, k, largest);
  // y[o, s, j] = x[o, idx[o, s, j], j]  ⇒  dx[o, idx[o, s, j], j] += dy[o, s, j], 0 elsewhere
  record("topk", [x], values, (dy) => {
    const dx = empty(x.shape, dy.dtype);
    kernels().scatterAdd(dx.storage, indices.storage as Int32Array, dy.storage, outer, red.r, k, inner);
    return [dx];
  });
  return { values, indices };
}

// ---------------------------------------------------------------------------------------------------
// logsumexp

/** log Σ exp(x) over `dim`, computed stably as m + log Σ exp(x − m). Integer inputs compute in float32. */
export function logsumexp(x: Tensor, dim: number | readonly number[], keepdim = false): Tensor {
  if (dim === undefined)
    throw new ArgumentError(
      `logsumexp: dim is required (a number or an array of numbers), for the input of shape ${fmt(x.shape)}`,
    );
  const xf = isFloating(x.dtype) ? x : toDType(x, "float32");
  const red = planReduction("logsumexp", xf, dim, keepdim);
  const y = empty(red.shape, xf.dtype);
  kernels().logsumexp(reduceForm(xf, red) as FloatArr, y.storage as FloatArr, red.outer, red.r, red.inner);
  // y = log Σ e^x  ⇒  dx = dy · e^(x − y) (the softmax of x along the reduced dims)
  return record("logsumexp", [xf], y, (dy) => [
    mul(expandBack(dy, red, xf.shape), exp(sub(xf.detach(), keepView(y, red)))),
  ]);
}

// ---------------------------------------------------------------------------------------------------
// Tensor methods

declare module "../engine/tensor.js" {
  interface Tensor {
    sum(dim?: Dims, keepdim?: boolean): Tensor;
    mean(dim?: Dims, keepdim?: boolean): Tensor;
    var(dim?: Dims | boolean, opts?: VarOptions | boolean, keepdim?: boolean): Tensor;
    std(dim?: Dims | boolean, opts?: VarOptions | boolean, keepdim?: boolean): Tensor;
    max(): Tensor;
    max(dim: number, keepdim?: boolean): ValuesAndIndices;
    min(): Tensor;
    min(dim: number, keepdim?: boolean): ValuesAndIndices;
    argmax(dim?: number, keepdim?: boolean): Tensor;
    argmin(dim?: number, keepdim?: boolean): Tensor;
    logsumexp(dim: number | readonly number[], keepdim?: boolean): Tensor;
    topk(k: number, dim?: number, opts?: { largest?: boolean }): ValuesAndIndices;
  }
}

Tensor.prototype.sum = function (dim, keepdim) {
  return sum(this, dim, keepdim);
};
Tensor.prototype.mean = function (dim, keepdim) {
  return mean(this, dim, keepdim);
};
Tensor.prototype.var = function (dim, opts, keepdim) {
  return variance(this, dim, opts, keepdim);
};
Tensor.prototype.std = function (dim, opts, keepdim) {
  return std(this, dim, opts, keepdim);
};
Tensor.prototype.max = function (this: Tensor, dim?: number, keepdim?: boolean) {
  return extreme("max", this, dim, keepdim ?? false);
} as Tensor["max"];
Tensor.prototype.min = function (this: Tensor, dim?: number, keepdim?: boolean) {
  return extreme("min", this, dim, keepdim ?? false);
} as Tensor["min"];
Tensor.prototype.argmax = function (dim, keepdim) {
  return argmax(this, dim, keepdim);
};
Tensor.prototype.argmin = function (dim, keepdim) {
  return argmin(this, dim, keepdim);
};
Tensor.prototype.logsumexp = function (dim, keepdim) {
  return logsumexp(this, dim, keepdim);
};
Tensor.prototype.topk = function (k, dim, opts) {
  return topk(this, k, dim, opts);
};
