// Small helpers shared by the op families: allocating outputs, lifting JS numbers to tensors with
// PyTorch's promotion rules, and reducing a broadcast gradient back to its input's shape.

import { allocate, isFloating, promoteTypes, scalarResultType, type DType } from "../engine/dtype.js";
import { ArgumentError, DTypeError } from "../engine/errors.js";
import { broadcastShapes, broadcastStrides, fmt, numel, sameShape, type Shape } from "../engine/shape.js";
import { record } from "../engine/autograd.js";
import { Tensor } from "../engine/tensor.js";
import { kernels } from "./kernels.js";

/** A new tensor of `shape` and `dtype`, zero-filled. */
export function empty(shape: Shape, dtype: DType): Tensor {
  return new Tensor(allocate(dtype, numel(shape)), shape);
}

/**
 * A new tensor of `shape` and `dtype` whose values are undefined (PyTorch's `torch.empty`): for an output
 * whose kernel writes every element. Inside a memory scope this skips the zero-fill, one pass over the output.
 */
export function uninitialised(shape: Shape, dtype: DType): Tensor {
  return new Tensor(allocate(dtype, numel(shape), "allocate", false), shape);
}

export type TensorLike = Tensor | number;

/**
 * Lift the operands of a binary op to tensors of one result dtype, following PyTorch: tensor-tensor
 * promotes by category (bool < int32 < float32 < float64); a JS number takes the tensor's dtype unless it
 * is fractional and the tensor is integral (then float32).
 */
export function lift(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor, DType] {
  if (typeof a === "number" && typeof b === "number")
    throw new ArgumentError(`${op}: at least one argument must be a Tensor`);
  for (const v of [a, b]) {
    if (typeof v !== "number" && !(v instanceof Tensor))
      throw new ArgumentError(`${op}: arguments must be Tensors or numbers, got ${v === null ? "null" : typeof v}`);
  }
  let dtype: DType;
  if (typeof a === "number") dtype = scalarResultType((b as Tensor).dtype, a);
  else if (typeof b === "number") dtype = scalarResultType(a.dtype, b);
  else dtype = promoteTypes(a.dtype, b.dtype);
  return [toDType(asTensor(a, dtype), dtype), toDType(asTensor(b, dtype), dtype), dtype];
}

function asTensor(v: TensorLike, dtype: DType): Tensor {
  if (typeof v !== "number") return v;
  const s = allocate(dtype, 1);
  s[0] = v;
  return new Tensor(s, []);
}

/**
 * The same values in another dtype. Differentiable between float dtypes (the gradient is cast back);
 * a no-op when the dtype already matches.
 */
export function toDType(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  const out = uninitialised(x.shape, dtype); // the cast writes each element
  kernels().cast(x.storage, out.storage);
  if (!isFloating(x.dtype)) return out;
  // y = cast(x)  ⇒  dx = cast(dy) back to x's dtype
  return record("toDType", [x], out, (dy) => [toDType(dy, x.dtype)]);
}

/** Apply a broadcasting binary kernel; returns the output of the broadcast shape. */
export function broadcastKernel(
  op: string,
  a: Tensor,
  b: Tensor,
  outDType: DType,
  kernel: (
    a: Tensor["storage"],
    as: readonly number[],
    b: Tensor["storage"],
    bs: readonly number[],
    out: Tensor["storage"],
    shape: readonly number[],
  ) => void,
): Tensor {
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = uninitialised(shape, outDType); // every kernel of a binary op writes each output element
  kernel(a.storage, broadcastStrides(a.shape, shape), b.storage, broadcastStrides(b.shape, shape), out.storage, shape);
  return out;
}

/**
 * Sum a gradient of the broadcast shape back to `shape` (the adjoint of broadcasting): sum over the
 * leading dims that broadcasting added and, with keepdim, over the dims where `shape` had size 1.
 */
export function sumToShape(dy: Tensor, shape: Shape): Tensor {
  if (sameShape(dy.shape, shape)) return dy;
  const lead = dy.ndim - shape.length;
  if (lead < 0) throw new ArgumentError(`sumToShape: cannot reduce ${fmt(dy.shape)} to the larger shape ${fmt(shape)}`);
  let g = dy;
  const reduced = (d: number): boolean => !(d >= lead && shape[d - lead] === dy.shape[d]);
  // Reduce each run of adjacent reduced dims [d0, d1] at once, from the innermost run, with the (outer, r, inner)
  // sum kernel (r the run's size): a bias gradient Σ over (B, T) is one pass over dy, nothing in between.
  for (let d1 = dy.ndim - 1; d1 >= 0; d1--) {
    if (!reduced(d1)) continue;
    let d0 = d1;
    while (d0 > 0 && reduced(d0 - 1)) d0--;
    const outer = numel(g.shape.slice(0, d0));
    const r = numel(g.shape.slice(d0, d1 + 1));
    const inner = numel(g.shape.slice(d1 + 1));
    const nextShape = [...g.shape.slice(0, d0), ...g.shape.slice(d0, d1 + 1).map(() => 1), ...g.shape.slice(d1 + 1)];
    const out = uninitialised(nextShape, g.dtype); // the sum kernel writes each element
    kernels().sum(g.storage, out.storage, outer, r, inner);
    g = out;
    d1 = d0;
  }
  return new Tensor(g.storage, shape);
}

/** Throw DTypeError unless x is floating point. */
export function requireFloat(op: string, x: Tensor, what = "input"): void {
  if (!isFloating(x.dtype)) {
    throw new DTypeError(
      `${op}: ${what} must be a floating-point tensor (float32 or float64), got ${x.dtype} of shape ${fmt(x.shape)}; convert it with .float()`,
    );
  }
}

/** Throw DTypeError unless x is int32. */
export function requireInt(op: string, x: Tensor, what = "index"): void {
  if (x.dtype !== "int32") {
    throw new DTypeError(`${op}: ${what} must be an int32 tensor, got ${x.dtype} of shape ${fmt(x.shape)}`);
  }
}
