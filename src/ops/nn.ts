// nn.functional ops: softmax, losses, norms, dropout, linear. PyTorch's semantics, fused where composing
// would be slow: each fused op calls one forward kernel and records one backward that calls the
// hand-derived backward kernel (derivations in docs/derivations/<op>.md).
//
// Vocabulary: N batch, C classes or channels, d the extra dims of (N, C, d1, ...), in/out features of
// linear; x input, y output, dy the gradient of y; dx, dW, db the gradients returned.

import { gradModeRegion, isGradEnabled, record } from "../engine/autograd.js";
import type { DType } from "../engine/dtype.js";
import { ArgumentError, DTypeError, ShapeError } from "../engine/errors.js";
import { defaultGenerator, drawShared, drawsShared, type Generator } from "../engine/rng.js";
import { rand, tensor } from "../engine/creation.js";
import { inMeta } from "../engine/meta.js";
import {
  broadcastShapes,
  broadcastStrides,
  fmt,
  normDim,
  numel,
  sameShape,
  stridesOf,
  type Shape,
} from "../engine/shape.js";
import { Tensor, checkTensor } from "../engine/tensor.js";
import type { FloatArr } from "../backend/backend.js";
import { mul, sub } from "./elementwise.js";
import { kernels } from "./kernels.js";
import { empty, requireFloat, requireInt, sumToShape, uninitialised } from "./util.js";

export type Reduction = "mean" | "sum" | "none";

/** The storage of a float tensor, typed for the float kernels. */
const f = (t: Tensor): FloatArr => t.storage as FloatArr;

/** x viewed as (outer, r, inner) around dim d. */
function around(shape: Shape, d: number): [number, number, number] {
  return [numel(shape.slice(0, d)), shape[d] ?? 1, numel(shape.slice(d + 1))];
}

function checkReduction(op: string, reduction: unknown): Reduction {
  if (reduction === "mean" || reduction === "sum" || reduction === "none") return reduction;
  throw new ArgumentError(`${op}: reduction must be "mean", "sum" or "none", got ${JSON.stringify(reduction)}`);
}

function checkSameFloat(op: string, x: Tensor, t: Tensor | null | undefined, what: string): void {
  if (t === null || t === undefined) return;
  checkTensor(op, t, what);
  if (t.dtype !== x.dtype) {
    throw new DTypeError(
      `${op}: ${what} must have the input's dtype ${x.dtype}, got ${t.dtype} of shape ${fmt(t.shape)}`,
    );
  }
}

/**
 * Reduce per-element losses (a float tensor) to the result: none keeps them, sum adds them, mean adds
 * them and divides by `count` (the number of elements, or of non-ignored targets).
 */
function reduceLosses(losses: Tensor, reduction: Reduction, count: number): Tensor {
  if (reduction === "none") return losses;
  const out = empty([], losses.dtype);
  kernels().sum(losses.storage, out.storage, 1, losses.numel(), 1);
  if (reduction === "mean") out.storage[0] = out.storage[0]! / count;
  return out;
}

/** The gradient of every per-element loss given the gradient of the reduced result (the adjoint of reduceLosses). */
function lossGrads(dy: Tensor, shape: Shape, reduction: Reduction, count: number): Tensor {
  if (reduction === "none") return dy;
  const g = empty(shape, dy.dtype);
  // sum: dloss_i = dy;  mean: dloss_i = dy / count
  kernels().fill(g.storage, reduction === "mean" ? dy.storage[0]! / count : dy.storage[0]!);
  return g;
}

/** reduceLosses as a recorded op, for the losses composed from other ops (mseLoss, l1Loss). */
function reduceOp(losses: Tensor, reduction: Reduction): Tensor {
  if (reduction === "none") return losses;
  const n = losses.numel();
  const y = reduceLosses(losses, reduction, n);
  return record(reduction, [losses], y, (dy) => [lossGrads(dy, losses.shape, reduction, n)]);
}

// ---------------------------------------------------------------------------------------------------
// softmax, logSoftmax

/** softmax(x)_i = e^(x_i) / Σ_k e^(x_k) along `dim` (computed with the max subtracted). */
export function softmax(x: Tensor, dim: number): Tensor {
  checkTensor("softmax", x);
  requireFloat("softmax", x);
  const [outer, r, inner] = around(x.shape, normDim("softmax", dim, x.ndim, x.shape));
  const y = uninitialised(x.shape, x.dtype);
  kernels().softmax(f(x), f(y), outer, r, inner);
  return record("softmax", [x], y, (dy) => {
    // y = softmax(x)  ⇒  dx = y ⊙ (dy − Σ dy⊙y)
    const dx = uninitialised(x.shape, x.dtype);
    kernels().softmaxBackward(f(y), f(dy), f(dx), outer, r, inner);
    return [dx];
  });
}

/** logSoftmax(x)_i = x_i − log Σ_k e^(x_k) along `dim`. */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  checkTensor("logSoftmax", x);
  requireFloat("logSoftmax", x);
  const [outer, r, inner] = around(x.shape, normDim("logSoftmax", dim, x.ndim, x.shape));
  const y = uninitialised(x.shape, x.dtype);
  kernels().logSoftmax(f(x), f(y), outer, r, inner);
  return record("logSoftmax", [x], y, (dy) => {
    // y = x − logΣeˣ  ⇒  dx = dy − e^y·Σ dy
    const dx = uninitialised(x.shape, x.dtype);
    kernels().logSoftmaxBackward(f(y), f(dy), f(dx), outer, r, inner);
    return [dx];
  });
}

// ---------------------------------------------------------------------------------------------------
// Classification losses over class indices: input (C), (N, C) or (N, C, d1, ...), target (), (N) or (N, d1, ...)

export interface CrossEntropyOptions {
  /** targets equal to this are skipped (loss 0, no gradient, not counted by mean); default −100 */
  ignoreIndex?: number;
  /** ε in [0, 1]: the target distribution is (1−ε)·onehot + ε/C; default 0 */
  labelSmoothing?: number;
  /** default "mean": over the non-ignored targets */
  reduction?: Reduction;
}

/**
 * Check input/target shapes and target values for a loss over class indices; returns (outer = N,
 * C, inner = Π d) and the number of non-ignored targets.
 */
function classLayout(
  op: string,
  input: Tensor,
  target: Tensor,
  ignoreIndex: number,
): { outer: number; c: number; inner: number; count: number } {
  checkTensor(op, input);
  checkTensor(op, target, "target");
  requireFloat(op, input);
  requireInt(op, target, "target (class indices)");
  if (input.ndim === 0)
    throw new ShapeError(
      `${op}: input must have a class dim, shape (C), (N,C) or (N,C,d1,...); got a 0-d tensor ${fmt(input.shape)}`,
    );
  const classDim = input.ndim === 1 ? 0 : 1;
  const expected = input.shape.filter((_, i) => i !== classDim); // (N, d1, ...) or () for a (C) input
  if (!sameShape(target.shape, expected)) {
    throw new ShapeError(
      `${op}: target of shape ${fmt(target.shape)} does not fit input of shape ${fmt(input.shape)}: expected target shape ${fmt(expected)}`,
    );
  }
  if (!Number.isInteger(ignoreIndex))
    throw new ArgumentError(`${op}: ignoreIndex must be an integer, got ${ignoreIndex}`);
  const [outer, c, inner] = around(input.shape, classDim);
  if (target.isMeta) return { outer, c, inner, count: target.numel() }; // shape-only (metaExecute): none ignored
  let count = 0;
  for (const t of target.storage) {
    if (t === ignoreIndex) continue;
    if (t < 0 || t >= c)
      throw new ArgumentError(
        `${op}: target ${t} is out of bounds for ${c} classes (input of shape ${fmt(input.shape)}, target ${fmt(target.shape)})`,
      );
    count++;
  }
  return { outer, c, inner, count };
}

/**
 * Cross-entropy of logits against class indices, fused with its log-softmax:
 * loss_n = −(1−ε)·log p[n, t_n] − ε/C·Σ_c log p[n, c],  p = softmax(logits) over the class dim.
 */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const { ignoreIndex = -100, labelSmoothing = 0 } = opts;
  const reduction = checkReduction("crossEntropy", opts.reduction ?? "mean");
  const { outer, c, inner, count } = classLayout("crossEntropy", logits, target, ignoreIndex);
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
    throw new ArgumentError(`crossEntropy: labelSmoothing must be in [0, 1], got ${labelSmoothing}`);
  const tgt = target.storage as Int32Array;
  const losses = empty(target.shape, logits.dtype); // (N, d1, ...)
  const lse = empty(target.shape, logits.dtype); // (N, d1, ...) log Σ_c e^(logits)
  kernels().crossEntropy(f(logits), tgt, f(losses), f(lse), outer, c, inner, ignoreIndex, labelSmoothing);
  const y = reduceLosses(losses, reduction, count);
  return record("crossEntropy", [logits], y, (dy) => {
    // loss = (1−ε)·(lse − x_t) + ε·(lse − mean_c x_c)  ⇒  dx_c = dloss·(p_c − (1−ε)·[c = t] − ε/C)
    const dloss = lossGrads(dy, target.shape, reduction, count);
    const dx = empty(logits.shape, logits.dtype);
    kernels().crossEntropyBackward(
      f(logits),
      tgt,
      f(lse),
      f(dloss),
      f(dx),
      outer,
      c,
      inner,
      ignoreIndex,
      labelSmoothing,
    );
    return [dx];
  });
}

export interface NllLossOptions {
  ignoreIndex?: number;
  reduction?: Reduction;
}

/** Negative log-likelihood of log-probabilities against class indices: loss_n = −logProbs[n, t_n]. */
export function nllLoss(logProbs: Tensor, target: Tensor, opts: NllLossOptions = {}): Tensor {
  const { ignoreIndex = -100 } = opts;
  const reduction = checkReduction("nllLoss", opts.reduction ?? "mean");
  const { outer, c, inner, count } = classLayout("nllLoss", logProbs, target, ignoreIndex);
  const tgt = target.storage as Int32Array;
  const losses = empty(target.shape, logProbs.dtype); // (N, d1, ...)
  kernels().nllLoss(f(logProbs), tgt, f(losses), outer, c, inner, ignoreIndex);
  const y = reduceLosses(losses, reduction, count);
  return record("nllLoss", [logProbs], y, (dy) => {
    // loss = −logProbs[t]  ⇒  dlogProbs[t] = −dloss
    const dloss = lossGrads(dy, target.shape, reduction, count);
    const dx = empty(logProbs.shape, logProbs.dtype);
    kernels().nllLossBackward(tgt, f(dloss), f(dx), outer, c, inner, ignoreIndex);
    return [dx];
  });
}

// ---------------------------------------------------------------------------------------------------
// Regression and binary losses

export interface LossOptions {
  reduction?: Reduction;
}

function checkPair(op: string, a: Tensor, b: Tensor): void {
  checkTensor(op, a);
  checkTensor(op, b, "target");
  requireFloat(op, a);
  requireFloat(op, b, "target");
  broadcastShapes(op, a.shape, b.shape);
}

/** Mean squared error: (a − b)², broadcast as PyTorch does, then reduced. */
export function mseLoss(a: Tensor, b: Tensor, opts: LossOptions = {}): Tensor {
  const reduction = checkReduction("mseLoss", opts.reduction ?? "mean");
  checkPair("mseLoss", a, b);
  const d = sub(a, b);
  return reduceOp(mul(d, d), reduction);
}

/** |x| with the subgradient sign(x) (0 at 0, as PyTorch). */
function absOp(x: Tensor): Tensor {
  const y = empty(x.shape, x.dtype);
  kernels().abs(x.storage, y.storage);
  return record("abs", [x], y, (dy) => {
    // y = |x|  ⇒  dx = dy·sign(x)
    const s = empty(x.shape, x.dtype);
    kernels().sign(x.storage, s.storage);
    return [mul(dy, s)];
  });
}

/** Mean absolute error: |a − b|, broadcast as PyTorch does, then reduced. */
export function l1Loss(a: Tensor, b: Tensor, opts: LossOptions = {}): Tensor {
  const reduction = checkReduction("l1Loss", opts.reduction ?? "mean");
  checkPair("l1Loss", a, b);
  return reduceOp(absOp(sub(a, b)), reduction);
}

export interface BceWithLogitsOptions extends LossOptions {
  /** weight of the positive term, broadcast against the logits (usually one per class, shape (C)) */
  posWeight?: Tensor;
}

/**
 * Binary cross-entropy on logits, stable for any x:
 * loss = max(x, 0) − x·t + log(1 + e^(−|x|)); with pos_weight pw:
 * loss = (1 − t)·x + (1 + (pw − 1)·t)·(log(1 + e^(−|x|)) + max(−x, 0)).
 */
export function binaryCrossEntropyWithLogits(logits: Tensor, target: Tensor, opts: BceWithLogitsOptions = {}): Tensor {
  const op = "binaryCrossEntropyWithLogits";
  const reduction = checkReduction(op, opts.reduction ?? "mean");
  checkTensor(op, logits);
  checkTensor(op, target, "target");
  requireFloat(op, logits);
  checkSameFloat(op, logits, target, "target");
  if (!sameShape(logits.shape, target.shape)) {
    throw new ShapeError(
      `${op}: target of shape ${fmt(target.shape)} must have the shape of the input ${fmt(logits.shape)}`,
    );
  }
  const pw = opts.posWeight ?? null;
  let pwFull: Tensor | null = null; // pos_weight expanded to the input's shape
  if (pw !== null) {
    checkSameFloat(op, logits, pw, "posWeight");
    if (!sameShape(broadcastShapes(op, logits.shape, pw.shape), logits.shape)) {
      throw new ShapeError(
        `${op}: posWeight of shape ${fmt(pw.shape)} cannot be broadcast to the input's shape ${fmt(logits.shape)}`,
      );
    }
    pwFull = empty(logits.shape, logits.dtype);
    kernels().stridedCopy(pw.storage, 0, broadcastStrides(pw.shape, logits.shape), logits.shape, pwFull.storage);
  }
  const losses = empty(logits.shape, logits.dtype);
  kernels().bceWithLogits(f(logits), f(target), pwFull && f(pwFull), f(losses));
  const n = losses.numel();
  const y = reduceLosses(losses, reduction, n);
  const inputs = pw === null ? [logits, target] : [logits, target, pw];
  return record(op, inputs, y, (dy) => {
    // loss = (1 − t)·x + lw·softplus(−x), lw = 1 + (pw − 1)·t  ⇒
    // dx = dloss·((1 − t) − lw·σ(−x)),  dt = dloss·(−x + (pw − 1)·softplus(−x)),  dpw = dloss·t·softplus(−x)
    const dloss = lossGrads(dy, logits.shape, reduction, n);
    const dx = empty(logits.shape, logits.dtype);
    const dt = target.requiresGrad ? empty(logits.shape, logits.dtype) : null;
    const dpw = pw !== null && pw.requiresGrad ? empty(logits.shape, logits.dtype) : null;
    kernels().bceWithLogitsBackward(
      f(logits),
      f(target),
      pwFull && f(pwFull),
      f(dloss),
      f(dx),
      dt && f(dt),
      dpw && f(dpw),
    );
    return [dx, dt, dpw && sumToShape(dpw, pw!.shape)];
  });
}

// ---------------------------------------------------------------------------------------------------
// Norms

/** Check that x ends with normalizedShape and that weight/bias have that shape; returns (rows, cols). */
function normLayout(
  op: string,
  x: Tensor,
  normalizedShape: number | readonly number[],
  params: [string, Tensor | null | undefined][],
): [number, number] {
  checkTensor(op, x);
  requireFloat(op, x);
  const ns = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
  if (ns.some((d) => !Number.isInteger(d) || d < 0))
    throw new ArgumentError(
      `${op}: normalizedShape must be non-negative integers, got ${JSON.stringify(normalizedShape)}`,
    );
  const tail = x.shape.slice(x.ndim - ns.length);
  if (ns.length > x.ndim || !sameShape(tail, ns)) {
    throw new ShapeError(
      `${op}: normalizedShape ${fmt(ns)} does not match the last dims of the input of shape ${fmt(x.shape)}`,
    );
  }
  for (const [what, t] of params) {
    checkSameFloat(op, x, t, what);
    if (t && !sameShape(t.shape, ns))
      throw new ShapeError(`${op}: ${what} of shape ${fmt(t.shape)} must have the normalizedShape ${fmt(ns)}`);
  }
  const cols = numel(ns);
  return [cols === 0 ? 0 : x.numel() / cols, cols];
}

/** Gradients of the optional affine parameters, zero-filled for the kernels to accumulate into. */
function paramGrad(t: Tensor | null | undefined): Tensor | null {
  return t && t.requiresGrad ? empty(t.shape, t.dtype) : null;
}

/** The present tensors among x, weight, bias, in order (the record's inputs). */
function present(...ts: (Tensor | null | undefined)[]): Tensor[] {
  return ts.filter((t): t is Tensor => t !== null && t !== undefined);
}

/** The gradients of (x, weight?, bias?) in the order of present(x, weight, bias). */
function affineGrads(
  dx: Tensor,
  w: Tensor | null,
  dw: Tensor | null,
  b: Tensor | null,
  db: Tensor | null,
): (Tensor | null)[] {
  const out: (Tensor | null)[] = [dx];
  if (w) out.push(dw);
  if (b) out.push(db);
  return out;
}

/**
 * Layer norm over the trailing `normalizedShape` dims: y = (x − μ)/√(σ² + eps)·w + b, with μ, σ² the
 * mean and biased variance of each row of numel(normalizedShape) values.
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  weight?: Tensor | null,
  bias?: Tensor | null,
  eps = 1e-5,
): Tensor {
  const [rows, cols] = normLayout("layerNorm", x, normalizedShape, [
    ["weight", weight],
    ["bias", bias],
  ]);
  const w = weight ?? null,
    b = bias ?? null;
  const y = uninitialised(x.shape, x.dtype);
  const mean = uninitialised([rows], x.dtype); // (rows)
  const rstd = uninitialised([rows], x.dtype); // (rows) 1/√(σ² + eps)
  kernels().layerNorm(f(x), w && f(w), b && f(b), f(y), f(mean), f(rstd), rows, cols, eps);
  return record("layerNorm", present(x, w, b), y, (dy) => {
    // y = (x − μ)·rstd·w + b  ⇒  dx = rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dy·w;  dw = Σ dy·x̂;  db = Σ dy
    const dx = uninitialised(x.shape, x.dtype),
      dw = paramGrad(w),
      db = paramGrad(b);
    kernels().layerNormBackward(f(dy), f(x), w && f(w), f(mean), f(rstd), f(dx), dw && f(dw), db && f(db), rows, cols);
    return affineGrads(dx, w, dw, b, db);
  });
}

/** float32/float64 machine epsilon: PyTorch's rms_norm default when eps is not given. */
const MACHINE_EPS: Partial<Record<DType, number>> = { float32: 2 ** -23, float64: 2 ** -52 };

/**
 * RMS norm over the trailing `normalizedShape` dims (PyTorch 2.x F.rms_norm): y = x/√(mean(x²) + eps)·w.
 * eps defaults to the machine epsilon of x's dtype.
 */
export function rmsNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  weight?: Tensor | null,
  eps?: number,
): Tensor {
  const [rows, cols] = normLayout("rmsNorm", x, normalizedShape, [["weight", weight]]);
  const w = weight ?? null;
  const e = eps ?? MACHINE_EPS[x.dtype]!;
  const y = uninitialised(x.shape, x.dtype);
  const rstd = uninitialised([rows], x.dtype); // (rows) 1/√(mean(x²) + eps)
  kernels().rmsNorm(f(x), w && f(w), f(y), f(rstd), rows, cols, e);
  return record("rmsNorm", present(x, w), y, (dy) => {
    // y = x·rstd·w  ⇒  dx = rstd·(g − x̂·mean(g·x̂)), g = dy·w, x̂ = x·rstd;  dw = Σ dy·x̂
    const dx = uninitialised(x.shape, x.dtype),
      dw = paramGrad(w);
    kernels().rmsNormBackward(f(dy), f(x), w && f(w), f(rstd), f(dx), dw && f(dw), rows, cols);
    return affineGrads(dx, w, dw, null, null);
  });
}

/** Check a (N, C, *) input and per-channel (C) tensors; returns (N, C, Π *). */
function channelLayout(op: string, x: Tensor, params: [string, Tensor | null | undefined][]): [number, number, number] {
  checkTensor(op, x);
  requireFloat(op, x);
  if (x.ndim < 2)
    throw new ShapeError(`${op}: expected an input of shape (N,C,...) with at least 2 dims, got ${fmt(x.shape)}`);
  const c = x.shape[1]!;
  for (const [what, t] of params) {
    checkSameFloat(op, x, t, what);
    if (t && !sameShape(t.shape, [c]))
      throw new ShapeError(
        `${op}: ${what} of shape ${fmt(t.shape)} must have one value per channel, shape (${c}), for input of shape ${fmt(x.shape)}`,
      );
  }
  return [x.shape[0]!, c, numel(x.shape.slice(2))];
}

/**
 * Group norm: the C channels of (N, C, *) are split into numGroups groups; each (sample, group) is
 * normalised by its own mean and biased variance, then channel c gets y·w[c] + b[c].
 */
export function groupNorm(
  x: Tensor,
  numGroups: number,
  weight?: Tensor | null,
  bias?: Tensor | null,
  eps = 1e-5,
): Tensor {
  const [n, c, hw] = channelLayout("groupNorm", x, [
    ["weight", weight],
    ["bias", bias],
  ]);
  if (!Number.isInteger(numGroups) || numGroups <= 0 || c % numGroups !== 0) {
    throw new ArgumentError(
      `groupNorm: the ${c} channels of the input of shape ${fmt(x.shape)} must be divisible by numGroups, got ${numGroups}`,
    );
  }
  const w = weight ?? null,
    b = bias ?? null;
  const y = empty(x.shape, x.dtype);
  const mean = empty([n, numGroups], x.dtype); // (N, G)
  const rstd = empty([n, numGroups], x.dtype); // (N, G)
  kernels().groupNorm(f(x), w && f(w), b && f(b), f(y), f(mean), f(rstd), n, c, hw, numGroups, eps);
  return record("groupNorm", present(x, w, b), y, (dy) => {
    // y = (x − μ)·rstd·w[c] + b[c] per (sample, group)  ⇒  dx = rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dy·w[c]
    const dx = empty(x.shape, x.dtype),
      dw = paramGrad(w),
      db = paramGrad(b);
    kernels().groupNormBackward(
      f(dy),
      f(x),
      w && f(w),
      f(mean),
      f(rstd),
      f(dx),
      dw && f(dw),
      db && f(db),
      n,
      c,
      hw,
      numGroups,
    );
    return affineGrads(dx, w, dw, b, db);
  });
}

/**
 * Batch norm of (N, C, *) per channel. training: normalise with the batch mean and biased variance,
 * and update runningMean/runningVar in place (when given) with momentum, using the UNBIASED variance:
 * running = (1 − momentum)·running + momentum·batch. Eval: normalise with the running statistics.
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight?: Tensor | null,
  bias?: Tensor | null,
  training = false,
  momentum = 0.1,
  eps = 1e-5,
): Tensor {
  const [n, c, hw] = channelLayout("batchNorm", x, [
    ["runningMean", runningMean],
    ["runningVar", runningVar],
    ["weight", weight],
    ["bias", bias],
  ]);
  const w = weight ?? null,
    b = bias ?? null;
  let mean: Tensor, variance: Tensor; // (C) the statistics normalised with
  // inside withSyncBatchNorm (a data-parallel worker's rows): the statistics of every worker's rows together
  const sync = training && !inMeta() ? batchSum : null;
  let count = n * hw; // the values per channel the statistics are over
  if (training) {
    if (n * hw <= 1)
      throw new ArgumentError(
        `batchNorm: expected more than 1 value per channel when training, got input of shape ${fmt(x.shape)}`,
      );
    mean = empty([c], x.dtype);
    variance = empty([c], x.dtype);
    kernels().batchNormStats(f(x), f(mean), f(variance), n, c, hw);
    if (sync) count = syncBatchStats(sync, f(mean), f(variance), count);
    // running ← (1 − momentum)·running + momentum·batch (in place, outside autograd, as PyTorch's buffers)
    kernels().batchNormUpdateStats(
      runningMean && f(runningMean),
      runningVar && f(runningVar),
      f(mean),
      f(variance),
      momentum,
      count,
    );
  } else {
    if (runningMean === null || runningVar === null) {
      throw new ArgumentError(
        `batchNorm: runningMean and runningVar must be given in evaluation mode (training = false); input of shape ${fmt(x.shape)}`,
      );
    }
    mean = runningMean;
    variance = runningVar;
  }
  const y = empty(x.shape, x.dtype);
  const rstd = empty([c], x.dtype); // (C) 1/√(σ² + eps)
  kernels().batchNorm(f(x), f(mean), f(variance), w && f(w), b && f(b), f(y), f(rstd), n, c, hw, eps);
  const mu = training ? mean : mean.clone(); // eval: keep the statistics this call used, even if the buffers change later
  return record("batchNorm", present(x, w, b), y, (dy) => {
    // y = (x − μ)·rstd·w + b  ⇒  training: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dy·w;  eval: dx = dy·w·rstd
    const dx = empty(x.shape, x.dtype),
      dw = paramGrad(w),
      db = paramGrad(b);
    if (sync) {
      syncBatchNormBackward(
        sync,
        f(dy),
        f(x),
        w && f(w),
        f(mu),
        f(rstd),
        f(dx),
        dw && f(dw),
        db && f(db),
        n,
        c,
        hw,
        count,
      );
      return affineGrads(dx, w, dw, b, db);
    }
    kernels().batchNormBackward(
      f(dy),
      f(x),
      w && f(w),
      f(mu),
      f(rstd),
      f(dx),
      dw && f(dw),
      db && f(db),
      n,
      c,
      hw,
      training,
    );
    return affineGrads(dx, w, dw, b, db);
  });
}

// ---------------------------------------------------------------------------------------------------
// Synchronized batch norm (PyTorch's SyncBatchNorm): on N data-parallel workers, each running the forward on its
// rows of the batch, every batchNorm in training normalises by the statistics of all the workers' rows together,
// so that its output is one process's on the whole batch. Forward: the per-channel count, mean and variance of
// each worker's rows are combined (two sums over the workers); backward: Σ g and Σ g·x̂ over every worker's rows
// (one sum), g = dy·w, so that dx is the whole batch's. The weight's and bias's gradients stay this worker's sums
// (the data-parallel strategy averages them over the workers with the rest).

/** Adds a buffer over the workers in place (a collective every worker calls); null outside withSyncBatchNorm. */
let batchSum: ((buf: Float32Array) => void) | null = null;

/**
 * Run fn (a forward on this worker's rows) with every batchNorm in training mode synchronized over the workers
 * through `sum` (an all-reduce sum, e.g. a Communicator's allReduce); the backward of what fn records sums too.
 * Every worker must run the same batchNorms in the same order.
 */
export function withSyncBatchNorm<T>(sum: ((buf: Float32Array) => void) | null, fn: () => T): T {
  const saved = batchSum;
  batchSum = sum;
  try {
    return fn();
  } finally {
    batchSum = saved;
  }
}

/** The sum in force (null outside withSyncBatchNorm): activation checkpointing runs its forward again inside it. */
export function syncBatchNormSum(): ((buf: Float32Array) => void) | null {
  return batchSum;
}

/**
 * mean, variance (C): this worker's statistics over its `count` values per channel → the statistics over every
 * worker's values, in place; returns their count. Chan et al.'s combination of (count, mean, variance):
 *   μ = Σ_r n_r·μ_r / n,  σ² = Σ_r n_r·(σ_r² + (μ_r − μ)²) / n,  n = Σ_r n_r
 */
function syncBatchStats(sum: (buf: Float32Array) => void, mean: FloatArr, variance: FloatArr, count: number): number {
  const C = mean.length;
  const first = new Float32Array(C + 1); // (C + 1) n_r·μ_r, then n_r
  for (let c = 0; c < C; c++) first[c] = count * mean[c]!;
  first[C] = count;
  sum(first);
  const n = first[C]!;
  const second = new Float32Array(C); // (C) n_r·(σ_r² + (μ_r − μ)²)
  for (let c = 0; c < C; c++) {
    const mu = first[c]! / n;
    second[c] = count * (variance[c]! + (mean[c]! - mu) ** 2);
    mean[c] = mu;
  }
  sum(second);
  for (let c = 0; c < C; c++) variance[c] = second[c]! / n;
  return n;
}

/**
 * The backward of a synchronized batchNorm over this worker's (n, c, hw) with the whole batch's μ and rstd and
 * `count` values per channel in all: dx = rstd·(g − Σg/count − x̂·Σ(g·x̂)/count), the sums over every worker.
 */
function syncBatchNormBackward(
  sum: (buf: Float32Array) => void,
  dy: FloatArr,
  x: FloatArr,
  w: FloatArr | null,
  mu: FloatArr,
  rstd: FloatArr,
  dx: FloatArr,
  dw: FloatArr | null,
  db: FloatArr | null,
  n: number,
  c: number,
  hw: number,
  count: number,
): void {
  const sums = new Float32Array(2 * c); // (2C) this worker's Σ dy and Σ dy·x̂ per channel
  for (let ch = 0; ch < c; ch++) {
    let s = 0,
      sx = 0;
    for (let i = 0; i < n; i++)
      for (let k = (i * c + ch) * hw, end = k + hw; k < end; k++) {
        s += dy[k]!;
        sx += dy[k]! * (x[k]! - mu[ch]!) * rstd[ch]!;
      }
    sums[ch] = s;
    sums[c + ch] = sx;
    if (db) db[ch] = s;
    if (dw) dw[ch] = sx;
  }
  sum(sums); // Σ over every worker's rows: Σ g = w·Σ dy, Σ g·x̂ = w·Σ dy·x̂
  for (let ch = 0; ch < c; ch++) {
    const wc = w ? w[ch]! : 1,
      r = rstd[ch]!;
    const meanG = (wc * sums[ch]!) / count,
      meanGx = (wc * sums[c + ch]!) / count;
    for (let i = 0; i < n; i++)
      for (let k = (i * c + ch) * hw, end = k + hw; k < end; k++)
        dx[k] = r * (dy[k]! * wc - meanG - (x[k]! - mu[ch]!) * r * meanGx);
  }
}

// ---------------------------------------------------------------------------------------------------
// Dropout

export interface DropoutOptions {
  /** the source of the mask; default the library's default generator (seeded by manualSeed) */
  generator?: Generator;
  /**
   * false: x has no batch dimension (a table every row of the batch shares), so that on N data-parallel workers
   * each draws the whole mask, as one process does; default true: the batch is x's outermost dimension, and each
   * worker draws its block of the whole batch's mask (rng.ts withDrawShare)
   */
  batchFirst?: boolean;
}

/**
 * Zero each element with probability p and scale the rest by 1/(1 − p) (training only; in eval, and
 * for p = 0, x is returned as it is). The backward multiplies by the same mask.
 */
export function dropout(x: Tensor, p = 0.5, training = true, opts: DropoutOptions = {}): Tensor {
  checkTensor("dropout", x);
  requireFloat("dropout", x);
  if (typeof p !== "number" || !(p >= 0 && p <= 1))
    throw new ArgumentError(`dropout: probability p must be in [0, 1], got ${p} (input of shape ${fmt(x.shape)})`);
  if (!training || p === 0) return x;
  const g = opts.generator ?? defaultGenerator;
  // on worker r of N data-parallel workers (rng.ts withDrawShare): its block of the whole batch's draws
  const u =
    drawsShared() && opts.batchFirst !== false && !inMeta()
      ? tensor(drawShared(g, x.numel()), { shape: x.shape, dtype: "float64" })
      : rand(x.shape, { dtype: "float64", generator: g });
  const mask = uninitialised(x.shape, x.dtype); // 0 or 1/(1 − p)
  kernels().dropoutMask(f(u), f(mask), p);
  const y = uninitialised(x.shape, x.dtype);
  kernels().mul(
    x.storage,
    broadcastStrides(x.shape, x.shape),
    mask.storage,
    broadcastStrides(x.shape, x.shape),
    y.storage,
    x.shape,
  );
  // y = x·mask  ⇒  dx = dy·mask
  return record("dropout", [x], y, (dy) => [mul(dy, mask)]);
}

// ---------------------------------------------------------------------------------------------------
// Linear

/** y = x·Wᵀ + b for x (*, in), weight (out, in), bias (out): one matmul with the transB flag, no transposed copy. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  checkTensor("linear", x);
  checkTensor("linear", weight, "weight");
  requireFloat("linear", x);
  checkSameFloat("linear", x, weight, "weight");
  checkSameFloat("linear", x, bias, "bias");
  if (weight.ndim !== 2) throw new ShapeError(`linear: weight must be 2-D (out, in), got shape ${fmt(weight.shape)}`);
  if (x.ndim === 0) throw new ShapeError(`linear: input must have at least 1 dim (*, in), got ${fmt(x.shape)}`);
  const [out, inF] = weight.shape as [number, number];
  const k = x.shape[x.ndim - 1]!;
  if (k !== inF) {
    throw new ShapeError(
      `linear: cannot multiply input ${fmt(x.shape)} by weight ${fmt(weight.shape)}ᵀ: input features ${k} and weight in-features ${inF} differ`,
    );
  }
  const b = bias ?? null;
  if (b && !sameShape(b.shape, [out]))
    throw new ShapeError(
      `linear: bias of shape ${fmt(b.shape)} must have shape (${out}) for weight ${fmt(weight.shape)}`,
    );
  const rows = numel(x.shape.slice(0, -1)); // Π *
  const yShape = [...x.shape.slice(0, -1), out];
  const y = uninitialised(yShape, x.dtype); // (*, out): every element written by the product
  const mm = kernels().matmul;
  // y = x·Wᵀ + b with A = x (rows, in), B = W stored (out, in) → transB; the kernel adds b to every row
  // after the product (MatmulParams.bias: a backend that copies operands into its own memory adds it there)
  // (under noGrad the weight is constant for the whole no-grad region: a backend may keep a copy of it)
  const constantB = isGradEnabled() ? undefined : gradModeRegion();
  mm(f(x), f(weight), f(y), {
    batch: 1,
    m: rows,
    n: out,
    k,
    transA: false,
    transB: true,
    strideA: 0,
    strideB: 0,
    constantB,
    ...(b ? { bias: f(b) } : {}),
  });
  return record("linear", present(x, weight, b), y, (dy) => {
    // y = x·Wᵀ + b  ⇒  dx = dy·W,  dW = dyᵀ·x (summed over every leading dim),  db = Σ dy
    let dx: Tensor | null = null,
      dW: Tensor | null = null,
      db: Tensor | null = null;
    if (x.requiresGrad) {
      dx = uninitialised(x.shape, x.dtype); // (*, in)
      mm(f(dy), f(weight), f(dx), {
        batch: 1,
        m: rows,
        n: k,
        k: out,
        transA: false,
        transB: false,
        strideA: 0,
        strideB: 0,
      });
    }
    if (b && b.requiresGrad) db = uninitialised(b.shape, b.dtype); // (out): row sums, overwritten
    if (weight.requiresGrad) {
      dW = uninitialised(weight.shape, weight.dtype); // (out, in); A = dy stored (rows, out) = (k, m) → transA
      // db = Σ_rows dy: the row sums of op(A) = dyᵀ, from the same product (MatmulParams.rowSumsA)
      mm(f(dy), f(x), f(dW), {
        batch: 1,
        m: out,
        n: k,
        k: rows,
        transA: true,
        transB: false,
        strideA: 0,
        strideB: 0,
        ...(db ? { rowSumsA: f(db) } : {}),
      });
    } else if (db) {
      kernels().sum(dy.storage, db.storage, 1, rows, out);
    }
    return b ? [dx, dW, db] : [dx, dW];
  });
}

// ---------------------------------------------------------------------------------------------------
// Tensor methods

declare module "../engine/tensor.js" {
  interface Tensor {
    softmax(dim: number): Tensor;
    logSoftmax(dim: number): Tensor;
  }
}

Tensor.prototype.softmax = function (dim) {
  return softmax(this, dim);
};
Tensor.prototype.logSoftmax = function (dim) {
  return logSoftmax(this, dim);
};
