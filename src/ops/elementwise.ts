// Elementwise ops. Each op: its forward (a kernel call) and, right below in the same function, its
// backward as a closure over what it needs — written with other ops (or, for the activations whose
// derivative takes several ops, one backward kernel).
//
// Vocabulary: x, a, b inputs; y output; dy the gradient of y; dx, da, db the gradients returned.
// Every tensor of a binary op has the broadcast shape of its inputs unless said otherwise.
//
// dtypes (PyTorch's rules, with one documented choice):
// - Binary ops promote as PyTorch: bool < int32 < float32 < float64; a JS number does not promote a
//   tensor of its own category, and a fractional number turns an int/bool tensor into float32
//   (`lift` in ./util.ts). `div` is true division: integer inputs give float32.
// - add sub mul neg abs relu maximum minimum where maskedFill clamp pow keep int32 for int32 inputs;
//   on bool, add is logical or, mul logical and, maximum/minimum or/and; sub with any bool operand,
//   and neg and abs of bool, are errors, as in PyTorch.
// - OUR CHOICE: the transcendental and smooth functions (exp log log1p sqrt rsqrt sin cos tanh sigmoid
//   leakyRelu elu gelu silu softplus) raise DTypeError naming the op on int32/bool inputs, where
//   PyTorch would silently promote to float32. Integer tensors in this library are indices and
//   labels; exp of a label is almost always a bug, and `.float()` says the conversion out loud.
// - Comparisons give bool masks and are never differentiable.

import { isGradEnabled, record } from "../engine/autograd.js";
import { isFloating, promoteTypes, scalarResultType, type DType } from "../engine/dtype.js";
import { ArgumentError, DTypeError } from "../engine/errors.js";
import { broadcastShapes, broadcastStrides, fmt, sameShape } from "../engine/shape.js";
import { Tensor } from "../engine/tensor.js";
import type { FloatArr, UnaryKernelName } from "../backend/backend.js";
import "./cast.js";
import { kernels } from "./kernels.js";
import {
  broadcastKernel,
  empty,
  lift,
  requireFloat,
  sumToShape,
  toDType,
  uninitialised,
  type TensorLike,
} from "./util.js";

// ---------------------------------------------------------------------------------------------------
// Unary

/** Apply a unary kernel to a float tensor (integer inputs are rejected: use .float() first). */
function unary(op: string, x: Tensor, kernel: UnaryKernelName): Tensor {
  requireFloat(op, x);
  return map(x, kernel);
}

/** Apply a unary kernel, keeping x's dtype (no dtype check). */
function map(x: Tensor, kernel: UnaryKernelName): Tensor {
  const y = uninitialised(x.shape, x.dtype); // every unary kernel writes each element
  kernels()[kernel](x.storage, y.storage);
  return y;
}

/** dx = dy·slope, the slope f'(x) kept by the forward (one product per element). */
function slopeBackward(slope: Tensor, dy: Tensor): Tensor {
  const dx = uninitialised(slope.shape, slope.dtype); // the product writes each element
  kernels().mul(dy.storage, [1], slope.storage, [1], dx.storage, [slope.numel()]);
  return dx;
}

/**
 * y = f(x), recorded with its slope y' = f'(x) kept from the same pass (`run` writes both), so that the backward
 * is one product dx = dy·y'.
 */
function withSlope(op: string, x: Tensor, run: (x: FloatArr, y: FloatArr, slope: FloatArr) => void): Tensor {
  requireFloat(op, x);
  const y = uninitialised(x.shape, x.dtype),
    g = uninitialised(x.shape, x.dtype); // both written whole
  run(x.storage as FloatArr, y.storage as FloatArr, g.storage as FloatArr);
  return record(op, [x], y, (dy) => [slopeBackward(g, dy)]);
}

/** dx = dy·f'(x) through one of the activation backward kernels. */
function backwardKernel(x: Tensor, dy: Tensor, run: (x: FloatArr, dy: FloatArr, dx: FloatArr) => void): Tensor {
  const dx = uninitialised(x.shape, x.dtype); // every activation backward kernel writes each element
  run(x.storage as FloatArr, dy.storage as FloatArr, dx.storage as FloatArr);
  return dx;
}

function rejectBool(op: string, x: Tensor, hint: string): void {
  if (x.dtype === "bool")
    throw new DTypeError(`${op}: not supported on a bool tensor (shape ${fmt(x.shape)}); ${hint}`);
}

export function neg(x: Tensor): Tensor {
  rejectBool("neg", x, "to invert a mask use mask.eq(0)");
  const y = map(x, "neg"); // keeps int32, like PyTorch
  // y = −x  ⇒  dx = −dy
  return record("neg", [x], y, (dy) => [neg(dy)]);
}

export function abs(x: Tensor): Tensor {
  rejectBool("abs", x, "a bool tensor is already non-negative");
  const y = map(x, "abs");
  // y = |x|  ⇒  dx = dy·sign(x)   (sign(0) = sign(NaN) = 0, as PyTorch)
  return record("abs", [x], y, (dy) => [backwardKernel(x, dy, kernels().absBackward)]);
}

export function exp(x: Tensor): Tensor {
  const y = unary("exp", x, "exp");
  // y = eˣ  ⇒  dx = dy·y
  return record("exp", [x], y, (dy) => [mul(dy, y)]);
}

export function log(x: Tensor): Tensor {
  const y = unary("log", x, "log");
  // y = ln x  ⇒  dx = dy/x
  return record("log", [x], y, (dy) => [div(dy, x)]);
}

export function log1p(x: Tensor): Tensor {
  const y = unary("log1p", x, "log1p");
  // y = ln(1 + x)  ⇒  dx = dy/(1 + x)
  return record("log1p", [x], y, (dy) => [div(dy, add(x, 1))]);
}

export function sqrt(x: Tensor): Tensor {
  const y = unary("sqrt", x, "sqrt");
  // y = √x  ⇒  dx = dy/(2y)   (one kernel: div(dy, mul(y, 2)) rounded as those two ops)
  return record("sqrt", [x], y, (dy) => [backwardKernel(y, dy, kernels().sqrtBackward)]);
}

export function rsqrt(x: Tensor): Tensor {
  const y = unary("rsqrt", x, "rsqrt");
  // y = x^(−1/2)  ⇒  dx = −½·dy·x^(−3/2) = −½·dy·y³
  return record("rsqrt", [x], y, (dy) => [mul(dy, mul(pow(y, 3), -0.5))]);
}

export function sin(x: Tensor): Tensor {
  const y = unary("sin", x, "sin");
  // y = sin x  ⇒  dx = dy·cos x
  return record("sin", [x], y, (dy) => [mul(dy, map(x, "cos"))]);
}

export function cos(x: Tensor): Tensor {
  const y = unary("cos", x, "cos");
  // y = cos x  ⇒  dx = −dy·sin x
  return record("cos", [x], y, (dy) => [neg(mul(dy, map(x, "sin")))]);
}

export function tanh(x: Tensor): Tensor {
  const y = unary("tanh", x, "tanh");
  // y = tanh x  ⇒  dx = dy·(1 − y²)   (one kernel: mul(dy, sub(1, mul(y, y))) rounded as those three ops)
  return record("tanh", [x], y, (dy) => [backwardKernel(y, dy, kernels().tanhBackward)]);
}

export function sigmoid(x: Tensor): Tensor {
  const y = unary("sigmoid", x, "sigmoid");
  // y = σ(x) = 1/(1 + e⁻ˣ)  ⇒  dx = dy·y·(1 − y)   (one kernel: mul(dy, mul(y, sub(1, y))) rounded as those ops)
  return record("sigmoid", [x], y, (dy) => [backwardKernel(y, dy, kernels().sigmoidBackward)]);
}

export function relu(x: Tensor): Tensor {
  rejectBool("relu", x, "convert it with .float() or .int()");
  const y = map(x, "relu"); // keeps int32, like PyTorch
  // y = max(x, 0)  ⇒  dx = dy·[y > 0]   (0 at the kink; NaN passes dy on, as PyTorch's threshold_backward)
  return record("relu", [x], y, (dy) => [backwardKernel(x, dy, kernels().reluBackward)]);
}

/** y = x for x > 0, negativeSlope·x otherwise. */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  requireFloat("leakyRelu", x);
  const y = uninitialised(x.shape, x.dtype); // the kernel writes each element
  kernels().leakyRelu(x.storage, y.storage, negativeSlope);
  // dx = dy·(x > 0 ? 1 : negativeSlope)
  return record("leakyRelu", [x], y, (dy) => [
    backwardKernel(x, dy, (xs, g, d) => kernels().leakyReluBackward(xs, g, d, negativeSlope)),
  ]);
}

/** y = x for x > 0, alpha·(eˣ − 1) otherwise (Clevert et al. 2015). */
export function elu(x: Tensor, alpha = 1): Tensor {
  requireFloat("elu", x);
  const y = uninitialised(x.shape, x.dtype); // the kernel writes each element
  kernels().elu(x.storage, y.storage, alpha);
  // dx = dy·(x ≤ 0 ? alpha·eˣ : 1)
  return record("elu", [x], y, (dy) => [backwardKernel(x, dy, (xs, g, d) => kernels().eluBackward(xs, g, d, alpha))]);
}

export interface GeluOptions {
  /** "none": the exact x·Φ(x); "tanh": the tanh approximation used by GPT-2 and BERT. */
  approximate?: "none" | "tanh";
}

/** Gaussian error linear unit (Hendrycks & Gimpel 2016). */
export function gelu(x: Tensor, opts: GeluOptions = {}): Tensor {
  const approximate = opts.approximate ?? "none";
  if (approximate !== "none" && approximate !== "tanh") {
    throw new ArgumentError(`gelu: approximate must be "none" or "tanh", got ${JSON.stringify(approximate)}`);
  }
  if (approximate === "none") {
    // y = x·Φ(x) = x/2·(1 + erf(x/√2))
    if (!isGradEnabled() || !x.requiresGrad) return unary("gelu", x, "gelu");
    // recorded: the forward also keeps the slope y' = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π), so the backward
    // is one product (no Φ, no exponential: the values geluBackward gives)
    return withSlope("gelu", x, (xs, y, g) => kernels().geluSlope(xs, y, g));
  }
  // y = x/2·(1 + tanh(√(2/π)·(x + 0.044715x³)))
  if (!isGradEnabled() || !x.requiresGrad) return unary("gelu", x, "geluTanh");
  // recorded: the forward also keeps its gate s = (1 + tanh u)/2, so the backward needs no tanh (the same values)
  requireFloat("gelu", x);
  const y = uninitialised(x.shape, x.dtype),
    s = uninitialised(x.shape, x.dtype); // both written whole
  kernels().geluTanhGate(x.storage as FloatArr, y.storage as FloatArr, s.storage as FloatArr);
  // y = x·s  ⇒  dx = dy·(s + 2x·s·(1 − s)·u'),  u' = √(2/π)(1 + 3·0.044715x²)
  return record("gelu", [x], y, (dy) => [
    backwardKernel(x, dy, (xs, g, dx) => kernels().geluTanhGateBackward(xs, s.storage as FloatArr, g, dx)),
  ]);
}

/** y = x·σ(x) (also called swish). */
export function silu(x: Tensor): Tensor {
  if (!isGradEnabled() || !x.requiresGrad) return unary("silu", x, "silu");
  // recorded: the forward also keeps the slope y' = σ(x)·(1 + x·(1 − σ(x))), so the backward needs no σ
  return withSlope("silu", x, (xs, y, g) => kernels().siluSlope(xs, y, g));
}

/** y = log(1 + e^(βx))/β, and y = x where βx > threshold (for numerical stability, as PyTorch). */
export function softplus(x: Tensor, beta = 1, threshold = 20): Tensor {
  requireFloat("softplus", x);
  const y = uninitialised(x.shape, x.dtype); // the kernel writes each element
  kernels().softplus(x.storage, y.storage, beta, threshold);
  // dx = dy·σ(βx), or dy where βx > threshold
  return record("softplus", [x], y, (dy) => [
    backwardKernel(x, dy, (xs, g, d) => kernels().softplusBackward(xs, g, d, beta, threshold)),
  ]);
}

/**
 * y = min(max(x, min), max) with scalar bounds; either bound may be omitted (null/undefined), not both.
 * min > max gives max everywhere, as PyTorch. An int32 tensor stays int32 unless a bound is fractional.
 */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  const lo = min ?? undefined,
    hi = max ?? undefined;
  if (lo === undefined && hi === undefined) {
    throw new ArgumentError(`clamp: at least one of min and max must be given (input of shape ${fmt(x.shape)})`);
  }
  for (const b of [lo, hi]) {
    if (b !== undefined && typeof b !== "number")
      throw new ArgumentError(`clamp: bounds must be numbers, got ${typeof b}`);
  }
  let dtype: DType = x.dtype;
  for (const b of [lo, hi]) if (b !== undefined) dtype = promoteTypes(dtype, scalarResultType(x.dtype, b));
  const xc = toDType(x, dtype);
  const y = uninitialised(x.shape, dtype); // the kernel writes each element
  kernels().clamp(xc.storage, y.storage, lo ?? -Infinity, hi ?? Infinity);
  // dx = dy·[min ≤ x ≤ max]: the gradient passes at the bounds themselves (PyTorch's subgradient), not at NaN
  return record("clamp", [xc], y, (dy) => {
    let inside = lo !== undefined ? ge(xc, lo) : null;
    if (hi !== undefined) inside = inside === null ? le(xc, hi) : mul(inside, le(xc, hi));
    return [where(inside!, dy, 0)];
  });
}

/**
 * y = aᵇ, with a tensor or number on either side (not both numbers). Integer tensors raised to integer
 * powers stay int32; a negative integer scalar exponent on an integer tensor is an error (as PyTorch).
 */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  if (a instanceof Tensor && typeof b === "number") return powScalar(a, b);
  const [ta, tb, dtype] = lift("pow", a, b);
  const y = broadcastKernel("pow", ta, tb, dtype, kernels().pow);
  return record("pow", [ta, tb], y, (dy) => [
    // da = dy·b·a^(b−1), and 0 where b = 0 (PyTorch's pow_backward_self)
    ta.requiresGrad ? sumToShape(where(eq(tb, 0), 0, mul(dy, mul(tb, pow(ta, sub(tb, 1))))), ta.shape) : null,
    // db = dy·y·ln a, and 0 where a = 0 and b ≥ 0 (PyTorch's pow_backward_exponent: 0ᵇ is flat there)
    tb.requiresGrad ? sumToShape(mul(dy, where(mul(eq(ta, 0), ge(tb, 0)), 0, mul(y, log(ta)))), tb.shape) : null,
  ]);
}

function powScalar(x: Tensor, p: number): Tensor {
  const dtype = scalarResultType(x.dtype, p);
  if (!isFloating(dtype) && p < 0) {
    throw new DTypeError(
      `pow: integers to negative integer powers are not allowed (${x.dtype} tensor of shape ${fmt(x.shape)} to the power ${p}); convert it with .float()`,
    );
  }
  const xc = toDType(x, dtype);
  const y = uninitialised(x.shape, dtype); // the kernel writes each element
  kernels().powScalar(xc.storage, y.storage, p);
  // y = xᵖ  ⇒  dx = dy·p·x^(p−1), and 0 everywhere when p = 0
  return record("pow", [xc], y, (dy) => [p === 0 ? empty(xc.shape, xc.dtype) : mul(dy, mul(pow(xc, p - 1), p))]);
}

// ---------------------------------------------------------------------------------------------------
// Binary, with broadcasting: gradients are summed back to each input's shape.

export function add(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb, dtype] = lift("add", a, b);
  // bool + bool is logical or (PyTorch); max(a, b) is or on {0, 1}
  const y = broadcastKernel("add", ta, tb, dtype, dtype === "bool" ? kernels().maximum : kernels().add);
  return record("add", [ta, tb], y, (dy) => [sumToShape(dy, ta.shape), sumToShape(dy, tb.shape)]);
}

export function sub(a: TensorLike, b: TensorLike): Tensor {
  for (const t of [a, b]) {
    if (t instanceof Tensor && t.dtype === "bool") {
      const shapes = [a, b].map((v) => (v instanceof Tensor ? fmt(v.shape) : String(v))).join(" and ");
      throw new DTypeError(
        `sub: subtraction with a bool tensor is not supported (operands ${shapes}); for exclusive or use ne(a, b), to invert a mask use mask.eq(0)`,
      );
    }
  }
  const [ta, tb, dtype] = lift("sub", a, b);
  const y = broadcastKernel("sub", ta, tb, dtype, kernels().sub);
  // y = a − b  ⇒  da = dy, db = −dy
  return record("sub", [ta, tb], y, (dy) => [
    ta.requiresGrad ? sumToShape(dy, ta.shape) : null,
    tb.requiresGrad ? sumToShape(neg(dy), tb.shape) : null,
  ]);
}

export function mul(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb, dtype] = lift("mul", a, b);
  const y = broadcastKernel("mul", ta, tb, dtype, kernels().mul); // on bool: logical and
  // y = a·b  ⇒  da = dy·b, db = dy·a
  return record("mul", [ta, tb], y, (dy) => {
    // both wanted, no broadcast: one pass (docs/derivations/elementwise.md)
    if (ta.requiresGrad && tb.requiresGrad && sameShape(ta.shape, y.shape) && sameShape(tb.shape, y.shape)) {
      const da = uninitialised(y.shape, y.dtype),
        db = uninitialised(y.shape, y.dtype); // both written whole
      kernels().mulBackward(
        dy.storage as FloatArr,
        ta.storage as FloatArr,
        tb.storage as FloatArr,
        da.storage as FloatArr,
        db.storage as FloatArr,
      );
      return [da, db];
    }
    // a product by a column (…, 1) whose gradient is wanted: one pass that sums each row as it goes
    if (isFloating(y.dtype) && isColumnOf(tb, ta, y) && tb.requiresGrad) {
      const [dx, dcol] = mulColumnBackward(dy, ta, tb);
      return [dx, dcol];
    }
    if (isFloating(y.dtype) && isColumnOf(ta, tb, y) && ta.requiresGrad) {
      const [dx, dcol] = mulColumnBackward(dy, tb, ta);
      return [dcol, dx];
    }
    return [
      ta.requiresGrad ? sumToShape(mul(dy, tb), ta.shape) : null,
      tb.requiresGrad ? sumToShape(mul(dy, ta), tb.shape) : null,
    ];
  });
}

/** True when x has y's shape and col is y's shape with a last dim of 1 < y's (a column broadcast along rows). */
function isColumnOf(col: Tensor, x: Tensor, y: Tensor): boolean {
  const n = y.ndim;
  if (n === 0 || col.ndim !== n || y.shape[n - 1] === 1 || col.shape[n - 1] !== 1 || !sameShape(x.shape, y.shape))
    return false;
  for (let d = 0; d < n - 1; d++) if (col.shape[d] !== y.shape[d]) return false;
  return true;
}

/**
 * The gradients of y = x·col, col a column (rows, 1) of x (rows, cols), in one pass:
 *   dx[r, c] = dy[r, c]·col[r]   (null unless x requires grad)
 *   dcol[r] = Σ_c dy[r, c]·x[r, c]   (the sum of mul(dy, x) over c, with no full-size product in between)
 */
function mulColumnBackward(dy: Tensor, x: Tensor, col: Tensor): [Tensor | null, Tensor] {
  const cols = x.shape[x.ndim - 1]!,
    rows = col.numel();
  const dx = x.requiresGrad ? uninitialised(x.shape, x.dtype) : null,
    dcol = uninitialised(col.shape, col.dtype); // both written whole
  kernels().mulColumnBackward(
    dy.storage as FloatArr,
    x.storage as FloatArr,
    col.storage as FloatArr,
    dx === null ? null : (dx.storage as FloatArr),
    dcol.storage as FloatArr,
    rows,
    cols,
  );
  return [dx, dcol];
}

/** True division: integer inputs give float32, as PyTorch's `/`. */
export function div(a: TensorLike, b: TensorLike): Tensor {
  let [ta, tb, dtype] = lift("div", a, b);
  if (!isFloating(dtype)) [ta, tb, dtype] = lift("div", ta.float(), tb.float());
  const y = broadcastKernel("div", ta, tb, dtype, kernels().div);
  // y = a/b  ⇒  da = dy/b, db = −dy·a/b² = −dy·y/b
  return record("div", [ta, tb], y, (dy) => {
    // both wanted, no broadcast: one pass (docs/derivations/elementwise.md)
    if (ta.requiresGrad && tb.requiresGrad && sameShape(ta.shape, y.shape) && sameShape(tb.shape, y.shape)) {
      const da = uninitialised(y.shape, y.dtype),
        db = uninitialised(y.shape, y.dtype); // both written whole
      kernels().divBackward(
        dy.storage as FloatArr,
        tb.storage as FloatArr,
        y.storage as FloatArr,
        da.storage as FloatArr,
        db.storage as FloatArr,
      );
      return [da, db];
    }
    return [
      ta.requiresGrad ? sumToShape(div(dy, tb), ta.shape) : null,
      tb.requiresGrad ? sumToShape(neg(div(mul(dy, y), tb)), tb.shape) : null,
    ];
  });
}

/** Elementwise maximum; NaN propagates. At ties each input gets half the gradient (PyTorch 1.13). */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb, dtype] = lift("maximum", a, b);
  const y = broadcastKernel("maximum", ta, tb, dtype, kernels().maximum);
  return record("maximum", [ta, tb], y, (dy) => {
    // y = max(a, b)  ⇒  da = dy·([a > b] + ½[a = b]), db = dy·([b > a] + ½[a = b])
    // (written as PyTorch does, so a NaN on either side sends the full dy to both)
    const share = where(eq(ta, tb), mul(dy, 0.5), dy);
    return [
      ta.requiresGrad ? sumToShape(maskedFill(share, lt(ta, tb), 0), ta.shape) : null,
      tb.requiresGrad ? sumToShape(maskedFill(share, gt(ta, tb), 0), tb.shape) : null,
    ];
  });
}

/** Elementwise minimum; NaN propagates. At ties each input gets half the gradient (PyTorch 1.13). */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb, dtype] = lift("minimum", a, b);
  const y = broadcastKernel("minimum", ta, tb, dtype, kernels().minimum);
  return record("minimum", [ta, tb], y, (dy) => {
    // y = min(a, b)  ⇒  da = dy·([a < b] + ½[a = b]), db = dy·([b < a] + ½[a = b])
    const share = where(eq(ta, tb), mul(dy, 0.5), dy);
    return [
      ta.requiresGrad ? sumToShape(maskedFill(share, gt(ta, tb), 0), ta.shape) : null,
      tb.requiresGrad ? sumToShape(maskedFill(share, lt(ta, tb), 0), tb.shape) : null,
    ];
  });
}

function requireBool(op: string, mask: Tensor, what: string): void {
  if (!(mask instanceof Tensor))
    throw new ArgumentError(`${op}: ${what} must be a bool Tensor, got ${mask === null ? "null" : typeof mask}`);
  if (mask.dtype !== "bool") {
    throw new DTypeError(
      `${op}: ${what} must be a bool tensor, got ${mask.dtype} of shape ${fmt(mask.shape)}; make one with a comparison such as x.gt(0)`,
    );
  }
}

/**
 * y = cond ? a : b, all three broadcast together. a and b are tensors or numbers and promote as in
 * a binary op (two numbers give int32 when both are integers, float32 otherwise).
 */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  requireBool("where", cond, "condition");
  let ta: Tensor, tb: Tensor, dtype: DType;
  if (typeof a === "number" && typeof b === "number") {
    dtype = Number.isInteger(a) && Number.isInteger(b) ? "int32" : "float32";
    [ta, tb] = [full0d(a, dtype), full0d(b, dtype)];
  } else {
    [ta, tb, dtype] = lift("where", a, b);
  }
  const shape = broadcastShapes("where", broadcastShapes("where", cond.shape, ta.shape), tb.shape);
  const y = uninitialised(shape, dtype); // the kernel writes each element
  kernels().where(
    cond.storage as Uint8Array,
    broadcastStrides(cond.shape, shape),
    ta.storage,
    broadcastStrides(ta.shape, shape),
    tb.storage,
    broadcastStrides(tb.shape, shape),
    y.storage,
    shape,
  );
  // da = dy where cond, 0 elsewhere; db = the rest
  return record("where", [ta, tb], y, (dy) => [
    ta.requiresGrad ? sumToShape(where(cond, dy, 0), ta.shape) : null,
    tb.requiresGrad ? sumToShape(where(cond, 0, dy), tb.shape) : null,
  ]);
}

function full0d(v: number, dtype: DType): Tensor {
  const t = empty([], dtype);
  t.storage[0] = v;
  return t;
}

/**
 * y = value where mask, x elsewhere; y keeps x's dtype (a fractional value truncates into an int32
 * tensor, as PyTorch). The mask broadcasts with x (the output has the broadcast shape, as PyTorch's
 * out-of-place masked_fill).
 */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  requireBool("maskedFill", mask, "mask");
  if (typeof value !== "number")
    throw new ArgumentError(`maskedFill: value must be a number, got ${value === null ? "null" : typeof value}`);
  if (!isFloating(x.dtype) && !Number.isFinite(value)) {
    throw new ArgumentError(
      `maskedFill: value ${value} cannot be converted to ${x.dtype} (tensor of shape ${fmt(x.shape)})`,
    );
  }
  const shape = broadcastShapes("maskedFill", x.shape, mask.shape);
  const v = full0d(x.dtype === "bool" ? Number(value !== 0) : value, x.dtype);
  const y = uninitialised(shape, x.dtype); // the kernel writes each element
  kernels().where(
    mask.storage as Uint8Array,
    broadcastStrides(mask.shape, shape),
    v.storage,
    broadcastStrides([], shape),
    x.storage,
    broadcastStrides(x.shape, shape),
    y.storage,
    shape,
  );
  // dx = dy with the filled places zeroed
  return record("maskedFill", [x], y, (dy) => [sumToShape(maskedFill(dy, mask, 0), x.shape)]);
}

// ---------------------------------------------------------------------------------------------------
// Comparisons: bool masks, never differentiable. Operands promote as in a binary op first, so an int32
// tensor compares with 1.5 exactly.

function compare(op: "eq" | "ne" | "lt" | "le" | "gt" | "ge", a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = lift(op, a, b);
  return broadcastKernel(op, ta, tb, "bool", kernels()[op]);
}

export function eq(a: TensorLike, b: TensorLike): Tensor {
  return compare("eq", a, b);
}
export function ne(a: TensorLike, b: TensorLike): Tensor {
  return compare("ne", a, b);
}
export function lt(a: TensorLike, b: TensorLike): Tensor {
  return compare("lt", a, b);
}
export function le(a: TensorLike, b: TensorLike): Tensor {
  return compare("le", a, b);
}
export function gt(a: TensorLike, b: TensorLike): Tensor {
  return compare("gt", a, b);
}
export function ge(a: TensorLike, b: TensorLike): Tensor {
  return compare("ge", a, b);
}

// ---------------------------------------------------------------------------------------------------
// Tensor methods

declare module "../engine/tensor.js" {
  interface Tensor {
    neg(): Tensor;
    abs(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    log1p(): Tensor;
    sqrt(): Tensor;
    rsqrt(): Tensor;
    sin(): Tensor;
    cos(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    relu(): Tensor;
    leakyRelu(negativeSlope?: number): Tensor;
    elu(alpha?: number): Tensor;
    gelu(opts?: GeluOptions): Tensor;
    silu(): Tensor;
    softplus(beta?: number, threshold?: number): Tensor;
    clamp(min?: number | null, max?: number | null): Tensor;
    pow(exponent: TensorLike): Tensor;
    add(other: TensorLike): Tensor;
    sub(other: TensorLike): Tensor;
    mul(other: TensorLike): Tensor;
    div(other: TensorLike): Tensor;
    maximum(other: TensorLike): Tensor;
    minimum(other: TensorLike): Tensor;
    /** PyTorch's `x.where(condition, y)`: x where condition, y elsewhere. */
    where(condition: Tensor, other: TensorLike): Tensor;
    maskedFill(mask: Tensor, value: number): Tensor;
    eq(other: TensorLike): Tensor;
    ne(other: TensorLike): Tensor;
    lt(other: TensorLike): Tensor;
    le(other: TensorLike): Tensor;
    gt(other: TensorLike): Tensor;
    ge(other: TensorLike): Tensor;
  }
}

Tensor.prototype.neg = function () {
  return neg(this);
};
Tensor.prototype.abs = function () {
  return abs(this);
};
Tensor.prototype.exp = function () {
  return exp(this);
};
Tensor.prototype.log = function () {
  return log(this);
};
Tensor.prototype.log1p = function () {
  return log1p(this);
};
Tensor.prototype.sqrt = function () {
  return sqrt(this);
};
Tensor.prototype.rsqrt = function () {
  return rsqrt(this);
};
Tensor.prototype.sin = function () {
  return sin(this);
};
Tensor.prototype.cos = function () {
  return cos(this);
};
Tensor.prototype.tanh = function () {
  return tanh(this);
};
Tensor.prototype.sigmoid = function () {
  return sigmoid(this);
};
Tensor.prototype.relu = function () {
  return relu(this);
};
Tensor.prototype.leakyRelu = function (s) {
  return leakyRelu(this, s);
};
Tensor.prototype.elu = function (a) {
  return elu(this, a);
};
Tensor.prototype.gelu = function (o) {
  return gelu(this, o);
};
Tensor.prototype.silu = function () {
  return silu(this);
};
Tensor.prototype.softplus = function (b, t) {
  return softplus(this, b, t);
};
Tensor.prototype.clamp = function (lo, hi) {
  return clamp(this, lo, hi);
};
Tensor.prototype.pow = function (e) {
  return pow(this, e);
};
Tensor.prototype.add = function (o) {
  return add(this, o);
};
Tensor.prototype.sub = function (o) {
  return sub(this, o);
};
Tensor.prototype.mul = function (o) {
  return mul(this, o);
};
Tensor.prototype.div = function (o) {
  return div(this, o);
};
Tensor.prototype.maximum = function (o) {
  return maximum(this, o);
};
Tensor.prototype.minimum = function (o) {
  return minimum(this, o);
};
Tensor.prototype.where = function (c, o) {
  return where(c, this, o);
};
Tensor.prototype.maskedFill = function (m, v) {
  return maskedFill(this, m, v);
};
Tensor.prototype.eq = function (o) {
  return eq(this, o);
};
Tensor.prototype.ne = function (o) {
  return ne(this, o);
};
Tensor.prototype.lt = function (o) {
  return lt(this, o);
};
Tensor.prototype.le = function (o) {
  return le(this, o);
};
Tensor.prototype.gt = function (o) {
  return gt(this, o);
};
Tensor.prototype.ge = function (o) {
  return ge(this, o);
};
