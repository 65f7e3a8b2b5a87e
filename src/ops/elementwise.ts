// Elementwise ops. Each op: its forward (a kernel call) and, right below in the same function, its
// backward as a closure over what it needs — written with other ops.
//
// Vocabulary: x, a, b inputs; y output; dy the gradient of y; dx, da, db the gradients returned.

import { record } from "../engine/autograd.js";
import { isFloating } from "../engine/dtype.js";
import { Tensor } from "../engine/tensor.js";
import type { UnaryKernelName } from "../backend/backend.js";
import "./cast.js";
import { kernels } from "./kernels.js";
import { broadcastKernel, empty, lift, requireFloat, sumToShape, type TensorLike } from "./util.js";

// ---------------------------------------------------------------------------------------------------
// Unary

/** Apply a unary kernel to a float tensor (integer inputs are rejected: use .float() first). */
function unary(op: string, x: Tensor, kernel: UnaryKernelName): Tensor {
  requireFloat(op, x);
  const y = empty(x.shape, x.dtype);
  kernels()[kernel](x.storage, y.storage);
  return y;
}

export function neg(x: Tensor): Tensor {
  // neg keeps integer dtypes, like PyTorch
  const y = empty(x.shape, x.dtype === "bool" ? "int32" : x.dtype);
  kernels().neg(x.storage, y.storage);
  return record("neg", [x], y, (dy) => [neg(dy)]);
}

export function exp(x: Tensor): Tensor {
  const y = unary("exp", x, "exp");
  // y = eˣ  ⇒  dx = dy·y
  return record("exp", [x], y, (dy) => [mul(dy, y)]);
}

export function relu(x: Tensor): Tensor {
  const y = unary("relu", x, "relu");
  // y = max(x, 0)  ⇒  dx = dy·[x > 0]
  return record("relu", [x], y, (dy) => [mul(dy, gt(x, 0))]);
}

// ---------------------------------------------------------------------------------------------------
// Binary, with broadcasting: gradients are summed back to each input's shape.

export function add(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb, dtype] = lift("add", a, b);
  const y = broadcastKernel("add", ta, tb, dtype, kernels().add);
  return record("add", [ta, tb], y, (dy) => [sumToShape(dy, ta.shape), sumToShape(dy, tb.shape)]);
}

export function sub(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb, dtype] = lift("sub", a, b);
  const y = broadcastKernel("sub", ta, tb, dtype, kernels().sub);
  return record("sub", [ta, tb], y, (dy) => [sumToShape(dy, ta.shape), sumToShape(neg(dy), tb.shape)]);
}

export function mul(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb, dtype] = lift("mul", a, b);
  const y = broadcastKernel("mul", ta, tb, dtype, kernels().mul);
  // y = a·b  ⇒  da = dy·b, db = dy·a
  return record("mul", [ta, tb], y, (dy) => [
    ta.requiresGrad ? sumToShape(mul(dy, tb), ta.shape) : null,
    tb.requiresGrad ? sumToShape(mul(dy, ta), tb.shape) : null,
  ]);
}

/** True division: integer inputs give float32, as PyTorch's `/`. */
export function div(a: TensorLike, b: TensorLike): Tensor {
  let [ta, tb, dtype] = lift("div", a, b);
  if (!isFloating(dtype)) [ta, tb, dtype] = lift("div", ta.float(), tb.float());
  const y = broadcastKernel("div", ta, tb, dtype, kernels().div);
  // y = a/b  ⇒  da = dy/b, db = −dy·a/b² = −dy·y/b
  return record("div", [ta, tb], y, (dy) => [
    ta.requiresGrad ? sumToShape(div(dy, tb), ta.shape) : null,
    tb.requiresGrad ? sumToShape(neg(div(mul(dy, y), tb)), tb.shape) : null,
  ]);
}

// ---------------------------------------------------------------------------------------------------
// Comparisons: bool masks, never differentiable.

export function gt(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = lift("gt", a, b);
  return broadcastKernel("gt", ta, tb, "bool", kernels().gt);
}

// ---------------------------------------------------------------------------------------------------
// Tensor methods

declare module "../engine/tensor.js" {
  interface Tensor {
    neg(): Tensor;
    exp(): Tensor;
    relu(): Tensor;
    add(other: TensorLike): Tensor;
    sub(other: TensorLike): Tensor;
    mul(other: TensorLike): Tensor;
    div(other: TensorLike): Tensor;
    gt(other: TensorLike): Tensor;
  }
}

Tensor.prototype.neg = function () { return neg(this); };
Tensor.prototype.exp = function () { return exp(this); };
Tensor.prototype.relu = function () { return relu(this); };
Tensor.prototype.add = function (o) { return add(this, o); };
Tensor.prototype.sub = function (o) { return sub(this, o); };
Tensor.prototype.mul = function (o) { return mul(this, o); };
Tensor.prototype.div = function (o) { return div(this, o); };
Tensor.prototype.gt = function (o) { return gt(this, o); };
