// Matrix products with PyTorch's rules (torch.matmul):
//   (k)·(k)            → ()            dot product
//   (m,k)·(k,n)        → (m,n)
//   (k)·(k,n)          → (n)           a 1-D left operand is a row (1,k); the added dim is dropped
//   (m,k)·(k)          → (m)           a 1-D right operand is a column (k,1); the added dim is dropped
//   (…a,m,k)·(…b,k,n)  → (…,m,n)       batch dims …a and …b broadcast to …
// Floating tensors of one dtype only: integer operands raise a DTypeError (a deliberate difference:
// PyTorch multiplies integer matrices on the CPU), mixed float32/float64 operands too (as PyTorch);
// 0-d operands are refused (as PyTorch).
//
// The kernel computes out[t] = op(A[t])·op(B[t]) over a batch, with transpose flags and a batch stride
// per operand (0 = one matrix shared by the whole batch). The backward reuses it with the flags —
//   dA = dY·Bᵀ (transB),   dB = Aᵀ·dY (transA)
// — so no transposed copy is ever made, and sums the gradient over the batch dims that broadcasting
// added. When B is one matrix shared by a full batch of A (the linear layer: (B,T,C)·(C,D)), dB is a
// single product Aᵀ·dY over the flattened (batch·m) rows, with no per-batch gradient materialised.
//
// Vocabulary: a (…a, m, k), b (…b, k, n), y (…, m, n); batch = numel(…); dy, da, db gradients.

import { record } from "../engine/autograd.js";
import { allocate, isFloating } from "../engine/dtype.js";
import { DTypeError, ShapeError } from "../engine/errors.js";
import { broadcastShapes, broadcastStrides, fmt, numel } from "../engine/shape.js";
import { checkTensor, Tensor } from "../engine/tensor.js";
import type { FloatArr, MatmulParams } from "../backend/backend.js";
import { kernels } from "./kernels.js";
import { sumToShape, uninitialised } from "./util.js";

interface Geometry {
  batchShape: number[]; // … (the broadcast batch dims)
  aBatch: number[]; // …a
  bBatch: number[]; // …b
  m: number;
  k: number;
  n: number;
}

/**
 * An operand's storage seen as `batch` matrices of rows×cols: its own storage with stride rows·cols
 * (it has every batch matrix) or 0 (one matrix shared by all), or else a copy expanded over the batch.
 */
function operand(
  x: Tensor,
  xBatch: number[],
  g: Geometry,
  rows: number,
  cols: number,
): { data: FloatArr; stride: number } {
  const batch = numel(g.batchShape);
  const own = numel(xBatch);
  if (own === batch) return { data: x.storage as FloatArr, stride: rows * cols };
  if (own === 1) return { data: x.storage as FloatArr, stride: 0 };
  const full = [...g.batchShape, rows, cols];
  const data = allocate(x.dtype, numel(full)) as FloatArr;
  kernels().stridedCopy(x.storage, 0, broadcastStrides([...xBatch, rows, cols], full), full, data);
  return { data, stride: rows * cols };
}

function params(
  batch: number,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  strideA: number,
  strideB: number,
): MatmulParams {
  return { batch, m, n, k, transA, transB, strideA, strideB };
}

/** Checks the operands and works out the shapes; throws the errors PyTorch would raise. */
function geometry(op: string, a: Tensor, b: Tensor): Geometry {
  checkTensor(op, a, "first argument");
  checkTensor(op, b, "second argument");
  if (a.ndim === 0 || b.ndim === 0) {
    throw new ShapeError(
      `${op}: both arguments need at least 1 dim, got shapes ${fmt(a.shape)} and ${fmt(b.shape)} (multiply by a scalar with mul)`,
    );
  }
  if (!isFloating(a.dtype) || !isFloating(b.dtype)) {
    throw new DTypeError(
      `${op}: only floating-point tensors can be multiplied, got ${a.dtype} ${fmt(a.shape)} and ${b.dtype} ${fmt(b.shape)}; convert them with .float()`,
    );
  }
  if (a.dtype !== b.dtype) {
    throw new DTypeError(
      `${op}: both arguments must have the same dtype, got ${a.dtype} ${fmt(a.shape)} and ${b.dtype} ${fmt(b.shape)}`,
    );
  }
  const [m, k] = a.ndim === 1 ? [1, a.shape[0]!] : [a.shape[a.ndim - 2]!, a.shape[a.ndim - 1]!];
  const [kb, n] = b.ndim === 1 ? [b.shape[0]!, 1] : [b.shape[b.ndim - 2]!, b.shape[b.ndim - 1]!];
  if (k !== kb)
    throw new ShapeError(
      `${op}: cannot multiply ${fmt(a.shape)} by ${fmt(b.shape)}: inner dimensions ${k} and ${kb} differ`,
    );
  const aBatch = a.shape.slice(0, -2),
    bBatch = b.shape.slice(0, -2);
  let batchShape: number[];
  try {
    batchShape = broadcastShapes(op, aBatch, bBatch);
  } catch {
    throw new ShapeError(
      `${op}: cannot multiply ${fmt(a.shape)} by ${fmt(b.shape)}: batch dims ${fmt(aBatch)} and ${fmt(bBatch)} do not broadcast`,
    );
  }
  return { batchShape, aBatch, bBatch, m, k, n };
}

/** The matrix product of a and b with PyTorch's 1-D, 2-D and batched broadcasting rules. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const g = geometry("matmul", a, b);
  const { batchShape, m, k, n } = g;
  const batch = numel(batchShape);
  // the dims a 1-D operand added are not part of the result
  // (every output written by the product: no zero-fill)
  const y = uninitialised([...batchShape, ...(a.ndim > 1 ? [m] : []), ...(b.ndim > 1 ? [n] : [])], a.dtype); // (…, m, n)
  const A = operand(a, g.aBatch, g, m, k),
    B = operand(b, g.bBatch, g, k, n);
  // y[t] = A[t]·B[t]
  kernels().matmul(A.data, B.data, y.storage as FloatArr, params(batch, m, n, k, false, false, A.stride, B.stride));

  return record("matmul", [a, b], y, (dy) => {
    const dY = dy.storage as FloatArr; // (batch, m, n)
    let da: Tensor | null = null,
      db: Tensor | null = null;
    if (a.requiresGrad) {
      // da[t] = dy[t]·B[t]ᵀ  (m, k); B[t] is stored (k, n), which is Bᵀ stored as (n', k') = (k, n)
      const Bg = operand(b, g.bBatch, g, k, n);
      const full = uninitialised([...batchShape, m, k], a.dtype);
      kernels().matmul(dY, Bg.data, full.storage as FloatArr, params(batch, m, k, n, false, true, m * n, Bg.stride));
      da = new Tensor(sumToShape(full, [...g.aBatch, m, k]).storage, a.shape); // Σ over broadcast batch dims
    }
    if (b.requiresGrad) {
      const dbShape = [...g.bBatch, k, n];
      if (numel(g.bBatch) === 1 && numel(g.aBatch) === batch) {
        // one B for every batch matrix of A: db = Σ_t A[t]ᵀ·dy[t] = Aᵀ·dy with A as (batch·m, k), dy as (batch·m, n)
        db = uninitialised(b.shape, b.dtype);
        kernels().matmul(
          a.storage as FloatArr,
          dY,
          db.storage as FloatArr,
          params(1, k, n, batch * m, true, false, 0, 0),
        );
      } else {
        // db[t] = A[t]ᵀ·dy[t]  (k, n); A[t] is stored (m, k), which is Aᵀ stored as (k', m') = (m, k)
        const Ag = operand(a, g.aBatch, g, m, k);
        const full = uninitialised([...batchShape, k, n], b.dtype);
        kernels().matmul(Ag.data, dY, full.storage as FloatArr, params(batch, k, n, m, true, false, Ag.stride, m * n));
        db = new Tensor(sumToShape(full, dbShape).storage, b.shape);
      }
    }
    return [da, db];
  });
}

/** The product of two matrices (2-D only, no broadcasting): torch.mm. */
export function mm(a: Tensor, b: Tensor): Tensor {
  checkTensor("mm", a, "first argument");
  checkTensor("mm", b, "second argument");
  if (a.ndim !== 2 || b.ndim !== 2)
    throw new ShapeError(
      `mm: expected two 2-D tensors, got shapes ${fmt(a.shape)} and ${fmt(b.shape)} (matmul accepts 1-D and batched operands)`,
    );
  geometry("mm", a, b);
  return matmul(a, b);
}

/** Batched product of (B, m, k) and (B, k, n) with equal batch sizes (no broadcasting): torch.bmm. */
export function bmm(a: Tensor, b: Tensor): Tensor {
  checkTensor("bmm", a, "first argument");
  checkTensor("bmm", b, "second argument");
  if (a.ndim !== 3 || b.ndim !== 3)
    throw new ShapeError(
      `bmm: expected two 3-D tensors, got shapes ${fmt(a.shape)} and ${fmt(b.shape)} (matmul broadcasts batch dims)`,
    );
  if (a.shape[0] !== b.shape[0])
    throw new ShapeError(
      `bmm: cannot multiply ${fmt(a.shape)} by ${fmt(b.shape)}: batch sizes ${a.shape[0]} and ${b.shape[0]} differ`,
    );
  geometry("bmm", a, b);
  return matmul(a, b);
}

// ---------------------------------------------------------------------------------------------------
// Tensor methods

declare module "../engine/tensor.js" {
  interface Tensor {
    matmul(other: Tensor): Tensor;
    mm(other: Tensor): Tensor;
    bmm(other: Tensor): Tensor;
  }
}

Tensor.prototype.matmul = function (o) {
  return matmul(this, o);
};
Tensor.prototype.mm = function (o) {
  return mm(this, o);
};
Tensor.prototype.bmm = function (o) {
  return bmm(this, o);
};
