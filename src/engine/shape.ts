// Shapes, strides and broadcasting (NumPy/PyTorch rules). All tensors are stored contiguously in
// row-major order, so the strides of a shape are a function of the shape alone.

import { ArgumentError, ShapeError } from "./errors.js";
import { checkNdim } from "./limits.js";

export type Shape = readonly number[];

/** `(4,8)`, `()` for a scalar: the notation every error message uses. */
export function fmt(shape: Shape): string {
  return `(${shape.join(",")})`;
}

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function checkShape(op: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ArgumentError(
      `${op}: a shape must be an array of non-negative integers, got ${JSON.stringify(shape).slice(0, 200)}`,
    );
  }
  checkNdim(op, shape.length);
  return shape.slice() as number[];
}

/** Broadcast two shapes: align from the right; sizes must be equal or one of them 1. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${op}: shapes ${fmt(a)} and ${fmt(b)} cannot be broadcast: size ${da} and size ${db} differ at dim ${i - n} and neither is 1`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Strides that read a tensor of `shape` as if it had the (larger) broadcast shape `target`:
 * stride 0 along every broadcast dim.
 */
export function broadcastStrides(shape: Shape, target: Shape): number[] {
  const own = stridesOf(shape);
  const out = new Array<number>(target.length).fill(0);
  const off = target.length - shape.length;
  for (let i = 0; i < shape.length; i++) out[off + i] = shape[i] === 1 ? 0 : own[i]!;
  return out;
}

/** Wrap a possibly negative dim into [0, ndim); a 0-d tensor accepts dims -1 and 0 as PyTorch does. */
export function normDim(op: string, dim: number, ndim: number, shape?: Shape): number {
  const n = Math.max(ndim, 1);
  if (!Number.isInteger(dim) || dim < -n || dim >= n) {
    const where = shape ? ` of shape ${fmt(shape)}` : "";
    throw new ArgumentError(
      `${op}: dim ${dim} is out of range for a tensor with ${ndim} dimension(s)${where}; expected a dim in [${-n}, ${n - 1}]`,
    );
  }
  return dim < 0 ? dim + n : dim;
}

/** Normalise a list of dims (or one dim, or undefined = all dims); rejects repeats. Sorted ascending. */
export function normDims(
  op: string,
  dims: number | readonly number[] | undefined,
  ndim: number,
  shape?: Shape,
): number[] {
  if (dims === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof dims === "number" ? [dims] : [...dims];
  const out = list.map((d) => normDim(op, d, ndim, shape));
  if (new Set(out).size !== out.length)
    throw new ArgumentError(`${op}: dim ${JSON.stringify(list)} names the same dim twice`);
  return out.sort((x, y) => x - y);
}
