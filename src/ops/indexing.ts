// Indexing ops: gather / scatterAdd (the two adjoints along one dim), indexSelect and embedding
// (whole slices picked by an index vector, whose adjoint is indexAdd), and oneHot.
//
// Vocabulary: x input, index an int32 tensor, y output, dy/dx gradients; a tensor seen as
// (outer, r, inner) has the indexed dim in the middle. Every index is checked to be in range here,
// before a kernel runs, and a bad one is named with the size it missed.

import { record } from "../engine/autograd.js";
import { ArgumentError, DTypeError, ShapeError } from "../engine/errors.js";
import { fmt, normDim, numel, sameShape, stridesOf, type Shape } from "../engine/shape.js";
import { checkTensor, Tensor } from "../engine/tensor.js";
import { kernels } from "./kernels.js";
import { slice, type SliceSpec } from "./shape.js";
import { empty, requireInt } from "./util.js";

/** Throw unless every value of the int32 `index` lies in [0, size). */
function checkRange(op: string, index: Tensor, size: number, where: string): Int32Array {
  requireInt(op, index);
  const s = index.storage as Int32Array;
  if (index.isMeta) return s; // shape-only (metaExecute): no values to check
  for (let i = 0; i < s.length; i++) {
    const v = s[i]!;
    if (v < 0 || v >= size) {
      throw new ArgumentError(
        `${op}: index ${v} is out of range for ${where} of size ${size} (expected 0 <= index < ${size}; found at flat position ${i} of the index of shape ${fmt(index.shape)})`,
      );
    }
  }
  return s;
}

/** (outer, r, inner) of `shape` around dim d; a 0-d shape counts as (1). */
function around(shape: Shape, d: number): [number, number, number] {
  if (shape.length === 0) return [1, 1, 1];
  return [numel(shape.slice(0, d)), shape[d]!, numel(shape.slice(d + 1))];
}

/** x cut to `sizes` in every dim but `d` (a no-op when the sizes already match). */
function cutTo(x: Tensor, sizes: Shape, d: number): Tensor {
  if (x.shape.every((s, k) => k === d || s === sizes[k])) return x;
  const specs: SliceSpec[] = x.shape.map((_, k) => (k === d ? null : [0, sizes[k]!]));
  return slice(x, specs);
}

// ---------------------------------------------------------------------------------------------------
// gather / scatterAdd

/**
 * y[i][j][k] = x[i][index[i][j][k]][k] for dim = 1 (torch.gather): y has index's shape; index has
 * x's number of dims and is no larger than x in the other dims.
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  checkTensor("gather", x);
  checkTensor("gather", index, "index");
  requireInt("gather", index);
  const d = normDim("gather", dim, x.ndim, x.shape);
  if (index.ndim !== x.ndim) {
    throw new ShapeError(`gather: index ${fmt(index.shape)} must have as many dims as the input ${fmt(x.shape)}`);
  }
  index.shape.forEach((s, k) => {
    if (k !== d && s > x.shape[k]!)
      throw new ShapeError(
        `gather: index ${fmt(index.shape)} is larger than the input ${fmt(x.shape)} at dim ${k}, which is not the gathered dim ${d}`,
      );
  });
  const [, rx] = around(x.shape, d);
  const idx = checkRange("gather", index, rx, `dim ${d} of the input ${fmt(x.shape)}`);
  const xc = cutTo(x, index.shape, d); // the part of x that index can reach
  const [outer, ri, inner] = around(index.shape, d);
  const y = empty(index.shape, x.dtype); // (outer, ri, inner)
  kernels().gather(xc.storage, idx, y.storage, outer, rx, ri, inner);
  // y[o, i, j] = x[o, index[o, i, j], j]  ⇒  dx[o, index[o, i, j], j] += dy[o, i, j]
  return record("gather", [xc], y, (dy) => {
    const dx = empty(xc.shape, dy.dtype);
    kernels().scatterAdd(dx.storage, idx, dy.storage, outer, rx, ri, inner);
    return [dx];
  });
}

/**
 * y = x, then y[i][index[i][j][k]][k] += src[i][j][k] for dim = 1 (torch.scatter_add, out of place).
 * index has the dims of x and src, is no larger than src, and no larger than x except along dim.
 */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  checkTensor("scatterAdd", x);
  checkTensor("scatterAdd", index, "index");
  checkTensor("scatterAdd", src, "src");
  requireInt("scatterAdd", index);
  if (src.dtype !== x.dtype)
    throw new DTypeError(
      `scatterAdd: src must have the input's dtype ${x.dtype}, got ${src.dtype} of shape ${fmt(src.shape)}`,
    );
  const d = normDim("scatterAdd", dim, x.ndim, x.shape);
  if (index.ndim !== x.ndim || src.ndim !== x.ndim) {
    throw new ShapeError(
      `scatterAdd: input ${fmt(x.shape)}, index ${fmt(index.shape)} and src ${fmt(src.shape)} must have the same number of dims`,
    );
  }
  index.shape.forEach((s, k) => {
    if (s > src.shape[k]! || (k !== d && s > x.shape[k]!)) {
      throw new ShapeError(
        `scatterAdd: index ${fmt(index.shape)} is larger at dim ${k} than src ${fmt(src.shape)} or (outside dim ${d}) the input ${fmt(x.shape)}`,
      );
    }
  });
  const [, rd] = around(x.shape, d);
  const idx = checkRange("scatterAdd", index, rd, `dim ${d} of the input ${fmt(x.shape)}`);
  // the part of src that index reaches
  const srcC = sameShape(src.shape, index.shape)
    ? src
    : slice(
        src,
        index.shape.map((s): SliceSpec => [0, s]),
      );
  const [outer, ri, inner] = around(index.shape, d);
  // The block of x that index can reach: x's size along dim, index's sizes elsewhere.
  const block = x.ndim === 0 ? [] : index.shape.map((s, k) => (k === d ? x.shape[d]! : s));
  const y = new Tensor(x.storage.slice(), x.shape);
  const part = empty(block, x.dtype);
  kernels().scatterAdd(part.storage, idx, srcC.storage, outer, rd, ri, inner);
  kernels().stridedAssign(part.storage, y.storage, 0, stridesOf(x.shape), block, true);
  // y = x + scatter(src)  ⇒  dx = dy,  dsrc[o, i, j] = dy[o, index[o, i, j], j] = gather(dy, dim, index)
  return record("scatterAdd", [x, srcC], y, (dy) => [dy, srcC.requiresGrad ? gather(dy, d, index) : null]);
}

// ---------------------------------------------------------------------------------------------------
// indexSelect / embedding

/** The slices of x at the positions `index` (a vector, or a 0-d index) along dim: y.shape[dim] = index.numel(). */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  checkTensor("indexSelect", x);
  checkTensor("indexSelect", index, "index");
  requireInt("indexSelect", index);
  if (index.ndim > 1)
    throw new ShapeError(
      `indexSelect: index must be a vector (1-D or 0-d), got shape ${fmt(index.shape)} for input ${fmt(x.shape)}`,
    );
  const d = normDim("indexSelect", dim, x.ndim, x.shape);
  const [outer, n, inner] = around(x.shape, d);
  const idx = checkRange("indexSelect", index, n, `dim ${d} of the input ${fmt(x.shape)}`);
  const shape = x.shape.slice();
  if (x.ndim > 0) shape[d] = idx.length;
  const y = empty(shape, x.dtype);
  kernels().indexSelect(x.storage, idx, y.storage, outer, n, inner);
  // y[o, i, j] = x[o, index[i], j]  ⇒  dx[o, index[i], j] += dy[o, i, j]
  return record("indexSelect", [x], y, (dy) => {
    const dx = empty(x.shape, dy.dtype);
    kernels().indexAdd(dx.storage, idx, dy.storage, outer, n, inner);
    return [dx];
  });
}

export interface EmbeddingOptions {
  /** the row of this index gets no gradient (a padding token); negative counts from the end */
  paddingIdx?: number | null;
}

/** Rows of the (V, D) table `weight` at `indices` of any shape: y.shape = (...indices.shape, D). */
export function embedding(indices: Tensor, weight: Tensor, opts: EmbeddingOptions = {}): Tensor {
  checkTensor("embedding", indices, "indices");
  checkTensor("embedding", weight, "weight");
  requireInt("embedding", indices, "indices");
  if (weight.ndim !== 2)
    throw new ShapeError(
      `embedding: weight must be a 2-D (num_embeddings, embedding_dim) table, got shape ${fmt(weight.shape)}`,
    );
  const [V, D] = weight.shape as [number, number];
  const idx = checkRange("embedding", indices, V, `the embedding table ${fmt(weight.shape)}`);
  let pad = opts.paddingIdx ?? null;
  if (pad !== null) {
    if (!Number.isInteger(pad) || pad < -V || pad >= V)
      throw new ArgumentError(`embedding: paddingIdx ${pad} is out of range for ${V} embeddings`);
    if (pad < 0) pad += V;
  }
  const y = empty([...indices.shape, D], weight.dtype); // (...indices.shape, D)
  kernels().indexSelect(weight.storage, idx, y.storage, 1, V, D);
  // y[..., :] = W[indices[...], :]  ⇒  dW[indices[...], :] += dy[..., :], except the padding row
  return record("embedding", [weight], y, (dy) => {
    const dW = empty(weight.shape, dy.dtype);
    kernels().indexAdd(dW.storage, idx, dy.storage, 1, V, D);
    if (pad !== null) kernels().fill(dW.storage.subarray(pad * D, (pad + 1) * D), 0);
    return [dW];
  });
}

// ---------------------------------------------------------------------------------------------------
// oneHot

/** int32 one-hot codes: y[..., c] = (indices[...] == c); numClasses −1 takes max(indices) + 1. Not differentiable. */
export function oneHot(indices: Tensor, numClasses = -1): Tensor {
  checkTensor("oneHot", indices, "indices");
  requireInt("oneHot", indices, "indices");
  const s = indices.storage as Int32Array;
  let c = numClasses;
  if (c === -1) {
    if (s.length === 0)
      throw new ArgumentError(
        `oneHot: cannot infer the number of classes from the empty indices ${fmt(indices.shape)}; pass numClasses`,
      );
    c = s.reduce((a, b) => Math.max(a, b), 0) + 1;
  } else if (!Number.isInteger(c) || c < 0) {
    throw new ArgumentError(`oneHot: numClasses must be -1 or a non-negative integer, got ${numClasses}`);
  }
  const idx = checkRange("oneHot", indices, c, "the classes");
  // y[n, indices[n]] += 1, with y viewed as (N, C) and the indices as (N, 1)
  const y = empty([...indices.shape, c], "int32"); // (...indices.shape, C)
  const ones = empty([s.length], "int32");
  kernels().fill(ones.storage, 1);
  kernels().scatterAdd(y.storage, idx, ones.storage, s.length, c, 1, 1);
  return y;
}

// ---------------------------------------------------------------------------------------------------
// Tensor methods

declare module "../engine/tensor.js" {
  interface Tensor {
    gather(dim: number, index: Tensor): Tensor;
    scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor;
    indexSelect(dim: number, index: Tensor): Tensor;
  }
}

Tensor.prototype.gather = function (d, i) {
  return gather(this, d, i);
};
Tensor.prototype.scatterAdd = function (d, i, s) {
  return scatterAdd(this, d, i, s);
};
Tensor.prototype.indexSelect = function (d, i) {
  return indexSelect(this, d, i);
};
