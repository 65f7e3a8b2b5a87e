// Plain-JS helpers for the references of the shape and indexing op tables: walk every index of an
// output shape and read the input element an op should have put there. No library op is used.
import type { Tensor } from "../../../src/index.js";

export function stridesFor(shape: readonly number[]): number[] {
  const st: number[] = [];
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = s;
    s *= shape[i]!;
  }
  return st;
}

/** Every multi-index of `shape` in row-major order. */
export function allIndices(shape: readonly number[]): number[][] {
  let out: number[][] = [[]];
  for (const n of shape) {
    const next: number[][] = [];
    for (const prefix of out) for (let i = 0; i < n; i++) next.push([...prefix, i]);
    out = next;
  }
  return out;
}

/** x's element at a multi-index. */
export function at(x: Tensor, idx: readonly number[]): number {
  const st = stridesFor(x.shape);
  let p = 0;
  for (let k = 0; k < idx.length; k++) p += idx[k]! * st[k]!;
  return Number(x.storage[p]);
}

/** out[o] = x[src(o)] for every o of outShape, or `fill` where src returns null. */
export function mapRef(
  x: Tensor,
  outShape: readonly number[],
  src: (o: number[]) => number[] | null,
  fill = 0,
): number[] {
  return allIndices(outShape).map((o) => {
    const i = src(o);
    return i === null ? fill : at(x, i);
  });
}

export const values = (x: Tensor): number[] => Array.from(x.storage, Number);

export const wrap = (d: number, n: number): number => (d < 0 ? d + n : d);
