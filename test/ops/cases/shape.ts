// Op-table entries of the shape family (see test/harness/optable.ts). Shape ops only move values, so
// float32 must equal float64 exactly after rounding (EXACT); the references are index maps in plain JS.
import * as wnn from "../../../src/index.js";
import { ArgumentError, ShapeError, type Tensor } from "../../../src/index.js";
import { EXTREMES, int32, randn64, values64, type OpInfo, type Sample } from "../../harness/optable.js";
import { allIndices, at, mapRef, values, wrap } from "./refs.js";

/** float32 rounding of a float64 value is the only difference allowed: |fl(y) − y| ≤ 2⁻²⁴·|y|. */
export const EXACT = { rtol: 2 ** -24, atol: 0 };

const r = (shape: number[], seed: number): Tensor => randn64(shape, seed);
const ext = (shape = [EXTREMES.length]): Tensor => values64(EXTREMES, shape);
const sizeArgs = (args: unknown[]): number[] =>
  args.length === 1 && Array.isArray(args[0]) ? (args[0] as number[]) : (args as number[]);

/** The samples shared by reshape and view. */
const reshapeSamples: Sample[] = [
  { label: "(2,3) -> (3,2)", inputs: [r([2, 3], 1)], args: [[3, 2]] },
  { label: "(2,3) -> (-1)", inputs: [r([2, 3], 2)], args: [[-1]] },
  { label: "0-d -> (1,1)", inputs: [r([], 3)], args: [[1, 1]] },
  { label: "(1) -> 0-d", inputs: [r([1], 4)], args: [[]] },
  { label: "empty (0,3) -> (3,0)", inputs: [r([0, 3], 5)], args: [[3, 0]] },
  { label: "empty (0,3) -> (-1,3)", inputs: [r([0, 3], 6)], args: [[-1, 3]] },
  { label: "(4,5) -> (2,-1,5)", inputs: [r([4, 5], 7)], args: [[2, -1, 5]] },
  { label: "(17) -> (17,1)", inputs: [r([17], 8)], args: [[17, 1]] },
  { label: "(2,3,4) -> (4,6)", inputs: [r([2, 3, 4], 9)], args: [[4, 6]] },
  { label: "extremes -> (13,1)", inputs: [ext()], args: [[13, 1]], grad: false },
];

// y[o] = x[src(o)] references
const permuteRef = (i: Tensor[], a: unknown[]): number[] => {
  const x = i[0]!,
    dims = sizeArgs(a).map((d) => wrap(d, x.ndim));
  return mapRef(
    x,
    dims.map((d) => x.shape[d]!),
    (o) => {
      const idx: number[] = [];
      dims.forEach((d, k) => (idx[d] = o[k]!));
      return idx;
    },
  );
};

const pySlice = (n: number, start?: number | null, end?: number | null, step?: number | null): number[] => {
  const k = step ?? 1;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
  const out: number[] = [];
  for (let i = start == null ? 0 : clamp(start); i < (end == null ? n : clamp(end)); i += k) out.push(i);
  return out;
};

const sliceRef = (i: Tensor[], a: unknown[]): number[] => {
  const x = i[0]!;
  const picks = x.shape.map((n) => pySlice(n));
  if (typeof a[0] === "number")
    picks[wrap(a[0], x.ndim)] = pySlice(x.shape[wrap(a[0], x.ndim)]!, ...(a.slice(1) as [number, number, number]));
  else
    (a[0] as ([number, number, number] | null)[]).forEach((s, d) => {
      if (s) picks[d] = pySlice(x.shape[d]!, ...s);
    });
  return mapRef(
    x,
    picks.map((p) => p.length),
    (o) => o.map((v, d) => picks[d]![v]!),
  );
};

/** Along dim: which input and which position each output position comes from (cat, split). */
function catRef(xs: Tensor[], dim: number): number[] {
  const ref = xs.find((t) => !(t.ndim === 1 && t.shape[0] === 0)) ?? xs[0]!;
  const parts = xs.filter((t) => t === ref || !(t.ndim === 1 && t.shape[0] === 0));
  const d = wrap(dim, ref.ndim);
  const owner: [Tensor, number][] = [];
  for (const t of parts) for (let k = 0; k < t.shape[d]!; k++) owner.push([t, k]);
  const shape = ref.shape.slice();
  shape[d] = owner.length;
  return allIndices(shape).map((o) => {
    const [t, k] = owner[o[d]!]!;
    const idx = o.slice();
    idx[d] = k;
    return at(t, idx);
  });
}

function splitRef(x: Tensor, sizes: number[], dim: number): number[][] {
  const d = wrap(dim, x.ndim);
  let a = 0;
  return sizes.map((n) => {
    const shape = x.shape.slice();
    shape[d] = n;
    const start = a;
    a += n;
    return mapRef(x, shape, (o) => o.map((v, k) => (k === d ? v + start : v)));
  });
}

function triRef(upper: boolean) {
  return (i: Tensor[], a: unknown[]): number[] => {
    const x = i[0]!,
      k = (a[0] as number | undefined) ?? 0;
    return mapRef(x, x.shape, (o) => {
      const [row, col] = o.slice(-2) as [number, number];
      return (upper ? col - row >= k : col - row <= k) ? o : null;
    });
  };
}

function padRef(i: Tensor[], a: unknown[]): number[] {
  const x = i[0]!,
    pad = a[0] as number[],
    opts = (a[1] ?? {}) as { mode?: string; value?: number };
  const left = x.shape.map(() => 0),
    shape = x.shape.slice();
  for (let k = 0; k < pad.length / 2; k++) {
    const d = x.ndim - 1 - k;
    left[d] = pad[2 * k]!;
    shape[d] = x.shape[d]! + pad[2 * k]! + pad[2 * k + 1]!;
  }
  return mapRef(
    x,
    shape,
    (o) => {
      const idx = o.map((v, d) => v - left[d]!);
      for (let d = 0; d < x.ndim; d++) {
        const n = x.shape[d]!,
          v = idx[d]!;
        if (v >= 0 && v < n) continue;
        if (opts.mode === "reflect") idx[d] = v < 0 ? -v : 2 * (n - 1) - v;
        else if (opts.mode === "replicate") idx[d] = v < 0 ? 0 : n - 1;
        else return null;
      }
      return idx;
    },
    opts.value ?? 0,
  );
}

export const cases: OpInfo[] = [
  {
    name: "reshape",
    fn: wnn.reshape,
    samples: reshapeSamples,
    differentiable: true,
    ref: (i) => values(i[0]!),
    tol: EXACT,
    errors: [
      {
        label: "sizes differ",
        call: () => wnn.reshape(wnn.zeros([2, 3]), [4, 2]),
        error: ShapeError,
        message: [/reshape/, /\(2,3\)/, /\(4,2\)/],
      },
      {
        label: "-1 cannot divide",
        call: () => wnn.reshape(wnn.zeros([2, 3]), [4, -1]),
        error: ShapeError,
        message: [/reshape/, /\(2,3\)/, /\(4,-1\)/],
      },
      {
        label: "two -1",
        call: () => wnn.reshape(wnn.zeros([2, 3]), [-1, -1]),
        error: ArgumentError,
        message: [/reshape/, /\(-1,-1\)/],
      },
      {
        label: "-1 beside a 0",
        call: () => wnn.reshape(wnn.zeros([0, 3]), [0, -1]),
        error: ShapeError,
        message: [/reshape/, /\(0,3\)/, /\(0,-1\)/],
      },
    ],
  },
  {
    name: "view",
    fn: wnn.view,
    samples: reshapeSamples,
    differentiable: true,
    ref: (i) => values(i[0]!),
    tol: EXACT,
    errors: [
      {
        label: "sizes differ",
        call: () => wnn.view(wnn.zeros([5]), [2, 2]),
        error: ShapeError,
        message: [/view/, /\(5\)/, /\(2,2\)/],
      },
    ],
  },
  {
    name: "flatten",
    fn: wnn.flatten,
    samples: [
      { label: "(2,3,4) all", inputs: [r([2, 3, 4], 1)] },
      { label: "(2,3,4) from 1", inputs: [r([2, 3, 4], 2)], args: [1] },
      { label: "(2,3,4) 0..-2", inputs: [r([2, 3, 4], 3)], args: [0, -2] },
      { label: "0-d", inputs: [r([], 4)] },
      { label: "empty (0,3)", inputs: [r([0, 3], 5)] },
      { label: "(5)", inputs: [r([5], 6)] },
      { label: "(2,1,3,1) -3..-1", inputs: [r([2, 1, 3, 1], 7)], args: [-3, -1] },
      { label: "(3,3) 1..1", inputs: [r([3, 3], 8)], args: [1, 1] },
      { label: "extremes (13,1)", inputs: [ext([13, 1])], grad: false },
    ],
    differentiable: true,
    ref: (i) => values(i[0]!),
    tol: EXACT,
    errors: [
      {
        label: "start after end",
        call: () => wnn.flatten(wnn.zeros([2, 3, 4]), 2, 1),
        error: ArgumentError,
        message: [/flatten/, /\(2,3,4\)/],
      },
      {
        label: "dim out of range",
        call: () => wnn.flatten(wnn.zeros([2, 3]), 3),
        error: ArgumentError,
        message: [/flatten/, /\(2,3\)/],
      },
    ],
  },
  {
    name: "squeeze",
    fn: wnn.squeeze,
    samples: [
      { label: "(1,3,1) all", inputs: [r([1, 3, 1], 1)] },
      { label: "(1,3,1) dim 0", inputs: [r([1, 3, 1], 2)], args: [0] },
      { label: "(1,3,1) dim -1", inputs: [r([1, 3, 1], 3)], args: [-1] },
      { label: "(2,3) dim 0 (not size 1: no-op)", inputs: [r([2, 3], 4)], args: [0] },
      { label: "0-d", inputs: [r([], 5)] },
      { label: "0-d dim 0", inputs: [r([], 6)], args: [0] },
      { label: "empty (0,1)", inputs: [r([0, 1], 7)] },
      { label: "(1,1,1) dims [0,2]", inputs: [r([1, 1, 1], 8)], args: [[0, 2]] },
      { label: "extremes (1,13)", inputs: [ext([1, 13])], grad: false },
    ],
    differentiable: true,
    ref: (i) => values(i[0]!),
    tol: EXACT,
    errors: [
      {
        label: "dim out of range",
        call: () => wnn.squeeze(wnn.zeros([1, 3]), 2),
        error: ArgumentError,
        message: [/squeeze/, /\(1,3\)/],
      },
    ],
  },
  {
    name: "unsqueeze",
    fn: wnn.unsqueeze,
    samples: [
      { label: "(3) dim 0", inputs: [r([3], 1)], args: [0] },
      { label: "(3) dim -1", inputs: [r([3], 2)], args: [-1] },
      { label: "(2,3) dim 1", inputs: [r([2, 3], 3)], args: [1] },
      { label: "0-d dim 0", inputs: [r([], 4)], args: [0] },
      { label: "0-d dim -1", inputs: [r([], 5)], args: [-1] },
      { label: "empty (0,2) dim 2", inputs: [r([0, 2], 6)], args: [2] },
      { label: "(2,3) dim -2", inputs: [r([2, 3], 7)], args: [-2] },
      { label: "(4,1) dim -3", inputs: [r([4, 1], 8)], args: [-3] },
      { label: "extremes dim 1", inputs: [ext()], args: [1], grad: false },
    ],
    differentiable: true,
    ref: (i) => values(i[0]!),
    tol: EXACT,
    errors: [
      {
        label: "dim out of range",
        call: () => wnn.unsqueeze(wnn.zeros([2, 3]), 3),
        error: ArgumentError,
        message: [/unsqueeze/, /\(2,3\)/],
      },
    ],
  },
  {
    name: "permute",
    fn: wnn.permute,
    samples: [
      { label: "(2,3) [1,0]", inputs: [r([2, 3], 1)], args: [[1, 0]] },
      { label: "(2,3,4) [2,0,1]", inputs: [r([2, 3, 4], 2)], args: [[2, 0, 1]] },
      { label: "(2,3,4) -1, 0, 1 as numbers", inputs: [r([2, 3, 4], 3)], args: [-1, 0, 1] },
      { label: "0-d", inputs: [r([], 4)], args: [] },
      { label: "empty (0,2,3) [1,2,0]", inputs: [r([0, 2, 3], 5)], args: [[1, 2, 0]] },
      { label: "(5) [0]", inputs: [r([5], 6)], args: [[0]] },
      { label: "(2,1,3,2) [3,1,0,2]", inputs: [r([2, 1, 3, 2], 7)], args: [[3, 1, 0, 2]] },
      { label: "(17,2) [1,0]", inputs: [r([17, 2], 8)], args: [[1, 0]] },
      { label: "extremes (13,1) [1,0]", inputs: [ext([13, 1])], args: [[1, 0]], grad: false },
    ],
    differentiable: true,
    ref: permuteRef,
    tol: EXACT,
    errors: [
      {
        label: "wrong number of dims",
        call: () => wnn.permute(wnn.zeros([2, 3]), 0),
        error: ArgumentError,
        message: [/permute/, /\(2,3\)/],
      },
      {
        label: "repeated dim",
        call: () => wnn.permute(wnn.zeros([2, 3]), 0, -2),
        error: ArgumentError,
        message: [/permute/, /\(2,3\)/],
      },
    ],
  },
  {
    name: "transpose",
    fn: wnn.transpose,
    samples: [
      { label: "(2,3) 0,1", inputs: [r([2, 3], 1)], args: [0, 1] },
      { label: "(2,3,4) 0,2", inputs: [r([2, 3, 4], 2)], args: [0, 2] },
      { label: "(2,3,4) -1,-2", inputs: [r([2, 3, 4], 3)], args: [-1, -2] },
      { label: "0-d 0,-1", inputs: [r([], 4)], args: [0, -1] },
      { label: "empty (0,3) 0,1", inputs: [r([0, 3], 5)], args: [0, 1] },
      { label: "(3,4) 1,1", inputs: [r([3, 4], 6)], args: [1, 1] },
      { label: "(2,3,4,2) 1,3", inputs: [r([2, 3, 4, 2], 7)], args: [1, 3] },
      { label: "(5) 0,0", inputs: [r([5], 8)], args: [0, 0] },
      { label: "extremes (13,1)", inputs: [ext([13, 1])], args: [0, 1], grad: false },
    ],
    differentiable: true,
    ref: (i, a) => {
      const n = i[0]!.ndim,
        [d0, d1] = [wrap(a[0] as number, Math.max(n, 1)), wrap(a[1] as number, Math.max(n, 1))];
      if (n === 0) return values(i[0]!);
      const perm = Array.from({ length: n }, (_, k) => (k === d0 ? d1 : k === d1 ? d0 : k));
      return permuteRef(i, [perm]);
    },
    tol: EXACT,
    errors: [
      {
        label: "dim out of range",
        call: () => wnn.transpose(wnn.zeros([2, 3]), 0, 2),
        error: ArgumentError,
        message: [/transpose/, /\(2,3\)/],
      },
    ],
  },
  {
    name: "expand",
    fn: wnn.expand,
    samples: [
      { label: "(3,1) -> (3,4)", inputs: [r([3, 1], 1)], args: [[3, 4]] },
      { label: "(1) -> (5)", inputs: [r([1], 2)], args: [5] },
      { label: "0-d -> (2,3)", inputs: [r([], 3)], args: [2, 3] },
      { label: "(2,1,3) -> (4,2,5,3)", inputs: [r([2, 1, 3], 4)], args: [[4, 2, 5, 3]] },
      { label: "(3) -> (2,-1)", inputs: [r([3], 5)], args: [2, -1] },
      { label: "(1,3) -> (0,3)", inputs: [r([1, 3], 6)], args: [[0, 3]] },
      { label: "empty (0,1) -> (0,4)", inputs: [r([0, 1], 7)], args: [[0, 4]] },
      { label: "(4,1,1) -> (-1,3,2)", inputs: [r([4, 1, 1], 8)], args: [[-1, 3, 2]] },
      { label: "(17,1) -> (17,2)", inputs: [r([17, 1], 9)], args: [[17, 2]] },
      { label: "extremes (13,1) -> (2,13,2)", inputs: [ext([13, 1])], args: [[2, 13, 2]], grad: false },
    ],
    differentiable: true,
    ref: (i, a) => {
      const x = i[0]!,
        t = sizeArgs(a),
        lead = t.length - x.ndim;
      const shape = t.map((s, k) => (s === -1 ? x.shape[k - lead]! : s));
      return mapRef(x, shape, (o) => x.shape.map((s, k) => (s === 1 ? 0 : o[k + lead]!)));
    },
    tol: EXACT,
    errors: [
      {
        label: "non-1 dim",
        call: () => wnn.expand(wnn.zeros([2, 3]), 2, 4),
        error: ShapeError,
        message: [/expand/, /\(2,3\)/, /\(2,4\)/],
      },
      {
        label: "fewer dims",
        call: () => wnn.expand(wnn.zeros([2, 3]), 3),
        error: ShapeError,
        message: [/expand/, /\(2,3\)/, /\(3\)/],
      },
      {
        label: "-1 for a new dim",
        call: () => wnn.expand(wnn.zeros([3]), -1, 3),
        error: ShapeError,
        message: [/expand/, /\(-1,3\)/, /\(3\)/],
      },
    ],
  },
  {
    name: "repeat",
    fn: wnn.repeat,
    samples: [
      { label: "(3) x2", inputs: [r([3], 1)], args: [2] },
      { label: "(2,3) x(2,1)", inputs: [r([2, 3], 2)], args: [[2, 1]] },
      { label: "(2,3) x(1,2,2)", inputs: [r([2, 3], 3)], args: [1, 2, 2] },
      { label: "0-d x3", inputs: [r([], 4)], args: [3] },
      { label: "0-d x(2,2)", inputs: [r([], 5)], args: [[2, 2]] },
      { label: "empty (0,2) x(2,2)", inputs: [r([0, 2], 6)], args: [2, 2] },
      { label: "(2,3) x(0,1)", inputs: [r([2, 3], 7)], args: [0, 1] },
      { label: "(1,2) x(3,1)", inputs: [r([1, 2], 8)], args: [3, 1] },
      { label: "(5,1) x(1,4)", inputs: [r([5, 1], 9)], args: [1, 4] },
      { label: "extremes x2", inputs: [ext()], args: [2], grad: false },
    ],
    differentiable: true,
    ref: (i, a) => {
      const x = i[0]!,
        reps = sizeArgs(a),
        lead = reps.length - x.ndim;
      const xs = [...new Array<number>(lead).fill(1), ...x.shape];
      return mapRef(
        x,
        xs.map((s, k) => s * reps[k]!),
        (o) => x.shape.map((s, k) => o[k + lead]! % s),
      );
    },
    tol: EXACT,
    errors: [
      {
        label: "too few counts",
        call: () => wnn.repeat(wnn.zeros([2, 3]), 2),
        error: ArgumentError,
        message: [/repeat/, /\(2,3\)/],
      },
    ],
  },
  {
    name: "slice",
    fn: wnn.slice,
    samples: [
      { label: "(5) 1:4", inputs: [r([5], 1)], args: [0, 1, 4] },
      { label: "(10) -3:", inputs: [r([10], 2)], args: [0, -3] },
      { label: "(10) ::3", inputs: [r([10], 3)], args: [0, null, null, 3] },
      { label: "(4,5) [:, 1::2] via dim -1", inputs: [r([4, 5], 4)], args: [-1, 1, null, 2] },
      { label: "(4,5) -100:100 clamps", inputs: [r([4, 5], 5)], args: [0, -100, 100] },
      { label: "(4,5) 3:1 is empty", inputs: [r([4, 5], 6)], args: [1, 3, 1] },
      { label: "empty (0,3) 0:2", inputs: [r([0, 3], 7)], args: [0, 0, 2] },
      {
        label: "(4,5,3) [1:, ::2, -2:] multi-dim",
        inputs: [r([4, 5, 3], 8)],
        args: [[[1, null], [null, null, 2], [-2]]],
      },
      { label: "(2,3) [:, 5:] multi-dim, empty", inputs: [r([2, 3], 9)], args: [[null, [5]]] },
      { label: "(33) 1:32:4", inputs: [r([33], 10)], args: [0, 1, 32, 4] },
      { label: "extremes ::2", inputs: [ext()], args: [0, null, null, 2], grad: false },
    ],
    differentiable: true,
    ref: sliceRef,
    tol: EXACT,
    errors: [
      {
        label: "step 0",
        call: () => wnn.slice(wnn.zeros([4]), 0, 0, 4, 0),
        error: ArgumentError,
        message: [/slice/, /step/],
      },
      {
        label: "negative step",
        call: () => wnn.slice(wnn.zeros([4]), 0, 3, 0, -1),
        error: ArgumentError,
        message: [/slice/, /step/],
      },
      {
        label: "too many slices",
        call: () => wnn.slice(wnn.zeros([4]), [null, null]),
        error: ArgumentError,
        message: [/slice/, /\(4\)/],
      },
      {
        label: "dim out of range",
        call: () => wnn.slice(wnn.zeros([4, 2]), 2, 0, 1),
        error: ArgumentError,
        message: [/slice/, /\(4,2\)/],
      },
    ],
  },
  {
    name: "narrow",
    fn: wnn.narrow,
    samples: [
      { label: "(5) 1, 3", inputs: [r([5], 1)], args: [0, 1, 3] },
      { label: "(4,5) dim 1, -3, 2", inputs: [r([4, 5], 2)], args: [1, -3, 2] },
      { label: "(4,5) dim -1, 0, 5", inputs: [r([4, 5], 3)], args: [-1, 0, 5] },
      { label: "(4,5) 4, 0 (empty at the end)", inputs: [r([4, 5], 4)], args: [0, 4, 0] },
      { label: "empty (0,3) dim 1", inputs: [r([0, 3], 5)], args: [1, 1, 2] },
      { label: "(3,4,2) dim 2", inputs: [r([3, 4, 2], 6)], args: [2, 1, 1] },
      { label: "(17) 3, 8", inputs: [r([17], 7)], args: [0, 3, 8] },
      { label: "(2,3) dim -2", inputs: [r([2, 3], 8)], args: [-2, 1, 1] },
      { label: "extremes", inputs: [ext()], args: [0, 2, 9], grad: false },
    ],
    differentiable: true,
    ref: (i, a) => {
      const [dim, start, len] = a as number[];
      const x = i[0]!,
        d = wrap(dim!, x.ndim),
        s = wrap(start!, x.shape[d]!);
      return sliceRef(i, [d, s, s + len!]);
    },
    tol: EXACT,
    errors: [
      {
        label: "runs past the end",
        call: () => wnn.narrow(wnn.zeros([3, 4]), 1, 2, 3),
        error: ArgumentError,
        message: [/narrow/, /\(3,4\)/],
      },
      {
        label: "0-d",
        call: () => wnn.narrow(wnn.zeros([]), 0, 0, 1),
        error: ArgumentError,
        message: [/narrow/, /0-d/],
      },
    ],
  },
  {
    name: "flip",
    fn: wnn.flip,
    samples: [
      { label: "(5) [0]", inputs: [r([5], 1)], args: [[0]] },
      { label: "(3,4) [0,1]", inputs: [r([3, 4], 2)], args: [[0, 1]] },
      { label: "(3,4) -1", inputs: [r([3, 4], 3)], args: [-1] },
      { label: "(2,3,4) [0,2]", inputs: [r([2, 3, 4], 4)], args: [[0, 2]] },
      { label: "0-d [0]", inputs: [r([], 5)], args: [[0]] },
      { label: "(3,2) []", inputs: [r([3, 2], 6)], args: [[]] },
      { label: "empty (0,3) [1]", inputs: [r([0, 3], 7)], args: [[1]] },
      { label: "(17) 0", inputs: [r([17], 8)], args: [0] },
      { label: "extremes", inputs: [ext()], args: [0], grad: false },
    ],
    differentiable: true,
    ref: (i, a) => {
      const x = i[0]!,
        dims = (typeof a[0] === "number" ? [a[0]] : (a[0] as number[])).map((d) => wrap(d, Math.max(x.ndim, 1)));
      return mapRef(x, x.shape, (o) => o.map((v, d) => (dims.includes(d) ? x.shape[d]! - 1 - v : v)));
    },
    tol: EXACT,
    errors: [
      {
        label: "dim out of range",
        call: () => wnn.flip(wnn.zeros([2, 3]), [2]),
        error: ArgumentError,
        message: [/flip/, /\(2,3\)/],
      },
      {
        label: "repeated dim",
        call: () => wnn.flip(wnn.zeros([2, 3]), [1, -1]),
        error: ArgumentError,
        message: [/flip/],
      },
    ],
  },
  {
    name: "cat",
    fn: wnn.cat,
    call: (i, a) => wnn.cat(i, ...(a as [number])),
    samples: [
      { label: "(2,3)+(2,3) dim 0", inputs: [r([2, 3], 1), r([2, 3], 2)] },
      { label: "(2,3)+(2,1) dim 1", inputs: [r([2, 3], 3), r([2, 1], 4)], args: [1] },
      { label: "(2,3)+(2,1) dim -1", inputs: [r([2, 3], 5), r([2, 1], 6)], args: [-1] },
      { label: "three (1)+(3)+(2)", inputs: [r([1], 7), r([3], 8), r([2], 9)] },
      { label: "(0) is skipped beside (2,3)", inputs: [r([0], 10), r([2, 3], 11)] },
      { label: "empty (0,3)+(2,3)", inputs: [r([0, 3], 12), r([2, 3], 13)] },
      { label: "one tensor (4)", inputs: [r([4], 14)] },
      { label: "(2,3,4)+(2,2,4) dim 1", inputs: [r([2, 3, 4], 15), r([2, 2, 4], 16)], args: [1] },
      { label: "int32 + float promotes", inputs: [int32([1, 2]), r([3], 17)] },
      { label: "extremes", inputs: [ext(), ext()], grad: false },
    ],
    differentiable: true,
    ref: (i, a) => catRef(i, (a[0] as number | undefined) ?? 0),
    tol: EXACT,
    errors: [
      {
        label: "sizes differ outside dim",
        call: () => wnn.cat([wnn.zeros([2, 3]), wnn.zeros([2, 4])], 0),
        error: ShapeError,
        message: [/cat/, /\(2,3\)/, /\(2,4\)/],
      },
      { label: "no tensors", call: () => wnn.cat([]), error: ArgumentError, message: [/cat/] },
      { label: "0-d", call: () => wnn.cat([wnn.zeros([])]), error: ArgumentError, message: [/cat/, /0-d/] },
    ],
  },
  {
    name: "stack",
    fn: wnn.stack,
    call: (i, a) => wnn.stack(i, ...(a as [number])),
    samples: [
      { label: "(2,3)x2 dim 0", inputs: [r([2, 3], 1), r([2, 3], 2)] },
      { label: "(2,3)x2 dim 2", inputs: [r([2, 3], 3), r([2, 3], 4)], args: [2] },
      { label: "(2,3)x2 dim -1", inputs: [r([2, 3], 5), r([2, 3], 6)], args: [-1] },
      { label: "0-d x3", inputs: [r([], 7), r([], 8), r([], 9)] },
      { label: "empty (0,3)x2 dim 1", inputs: [r([0, 3], 10), r([0, 3], 11)], args: [1] },
      { label: "one (4)", inputs: [r([4], 12)] },
      { label: "(3)x3 dim -2", inputs: [r([3], 13), r([3], 14), r([3], 15)], args: [-2] },
      { label: "(2,2)x4 dim 1", inputs: [r([2, 2], 16), r([2, 2], 17), r([2, 2], 18), r([2, 2], 19)], args: [1] },
      { label: "extremes", inputs: [ext(), ext()], args: [1], grad: false },
    ],
    differentiable: true,
    ref: (i, a) => {
      const x = i[0]!,
        d = wrap((a[0] as number | undefined) ?? 0, x.ndim + 1);
      const shape = [...x.shape.slice(0, d), i.length, ...x.shape.slice(d)];
      return allIndices(shape).map((o) => at(i[o[d]!]!, [...o.slice(0, d), ...o.slice(d + 1)]));
    },
    tol: EXACT,
    errors: [
      {
        label: "shapes differ",
        call: () => wnn.stack([wnn.zeros([2, 3]), wnn.zeros([3, 2])]),
        error: ShapeError,
        message: [/stack/, /\(2,3\)/, /\(3,2\)/],
      },
      {
        label: "dim out of range",
        call: () => wnn.stack([wnn.zeros([2, 3])], 3),
        error: ArgumentError,
        message: [/stack/, /\(2,3\)/],
      },
    ],
  },
  {
    name: "split",
    fn: wnn.split,
    samples: [
      { label: "(5) by 2", inputs: [r([5], 1)], args: [2] },
      { label: "(5) into [1,4]", inputs: [r([5], 2)], args: [[1, 4]] },
      { label: "(4,6) by 2 dim 1", inputs: [r([4, 6], 3)], args: [2, 1] },
      { label: "(4,6) into [1,0,5] dim -1", inputs: [r([4, 6], 4)], args: [[1, 0, 5], -1] },
      { label: "(6,2) by 3", inputs: [r([6, 2], 5)], args: [3] },
      { label: "empty (0,3) by 2", inputs: [r([0, 3], 6)], args: [2] },
      { label: "empty (0,3) into [0,0]", inputs: [r([0, 3], 7)], args: [[0, 0]] },
      { label: "(7) by 7", inputs: [r([7], 8)], args: [7] },
      { label: "(2,3) by 1 dim -1", inputs: [r([2, 3], 9)], args: [1, -1] },
      { label: "extremes by 5", inputs: [ext()], args: [5], grad: false },
    ],
    differentiable: true,
    ref: (i, a) => {
      const x = i[0]!,
        d = wrap((a[1] as number | undefined) ?? 0, x.ndim),
        n = x.shape[d]!;
      let sizes: number[];
      if (typeof a[0] === "number") {
        sizes = [];
        for (let s = 0; s < n; s += a[0]) sizes.push(Math.min(a[0], n - s));
        if (sizes.length === 0) sizes = [0];
      } else sizes = a[0] as number[];
      return splitRef(x, sizes, d);
    },
    tol: EXACT,
    errors: [
      {
        label: "sizes do not add up",
        call: () => wnn.split(wnn.zeros([5, 2]), [2, 2]),
        error: ArgumentError,
        message: [/split/, /\(5,2\)/],
      },
      { label: "split size 0", call: () => wnn.split(wnn.zeros([5]), 0), error: ArgumentError, message: [/split/] },
      { label: "0-d", call: () => wnn.split(wnn.zeros([]), 1), error: ArgumentError, message: [/split/, /0-d/] },
    ],
  },
  {
    name: "chunk",
    fn: wnn.chunk,
    samples: [
      { label: "(5) into 3", inputs: [r([5], 1)], args: [3] },
      { label: "(6) into 4 (gives 3)", inputs: [r([6], 2)], args: [4] },
      { label: "(4,6) into 2 dim 1", inputs: [r([4, 6], 3)], args: [2, 1] },
      { label: "empty (0) into 3", inputs: [r([0], 4)], args: [3] },
      { label: "(7,2) into 3 dim -2", inputs: [r([7, 2], 5)], args: [3, -2] },
      { label: "(3) into 5", inputs: [r([3], 6)], args: [5] },
      { label: "(1,17) into 4 dim -1", inputs: [r([1, 17], 7)], args: [4, -1] },
      { label: "(2,2,2) into 2 dim 2", inputs: [r([2, 2, 2], 8)], args: [2, 2] },
      { label: "extremes into 2", inputs: [ext()], args: [2], grad: false },
    ],
    differentiable: true,
    ref: (i, a) => {
      const x = i[0]!,
        c = a[0] as number,
        d = wrap((a[1] as number | undefined) ?? 0, x.ndim),
        n = x.shape[d]!;
      const size = Math.ceil(n / c);
      const sizes: number[] = [];
      if (n === 0) for (let k = 0; k < c; k++) sizes.push(0);
      else for (let s = 0; s < n; s += size) sizes.push(Math.min(size, n - s));
      return splitRef(x, sizes, d);
    },
    tol: EXACT,
    errors: [
      { label: "0 chunks", call: () => wnn.chunk(wnn.zeros([4]), 0), error: ArgumentError, message: [/chunk/] },
      { label: "0-d", call: () => wnn.chunk(wnn.zeros([]), 2), error: ArgumentError, message: [/chunk/, /0-d/] },
    ],
  },
  {
    name: "pad",
    fn: wnn.pad,
    samples: [
      { label: "(5) [1,2]", inputs: [r([5], 1)], args: [[1, 2]] },
      { label: "(3,4) [1,1,2,0]", inputs: [r([3, 4], 2)], args: [[1, 1, 2, 0]] },
      { label: "(3,4) [1,-1] crops", inputs: [r([3, 4], 3)], args: [[1, -1]] },
      { label: "(2,3,4) reflect [2,3]", inputs: [r([2, 3, 4], 4)], args: [[2, 3], { mode: "reflect" }] },
      { label: "(2,3,4) reflect [1,1,2,2]", inputs: [r([2, 3, 4], 5)], args: [[1, 1, 2, 2], { mode: "reflect" }] },
      { label: "(2,3) replicate [2,1,1,0]", inputs: [r([2, 3], 6)], args: [[2, 1, 1, 0], { mode: "replicate" }] },
      { label: "0-d []", inputs: [r([], 7)], args: [[]] },
      { label: "empty (0,3) [1,1]", inputs: [r([0, 3], 8)], args: [[1, 1]] },
      { label: "(2,3) value 2.5 [0,0,1,1]", inputs: [r([2, 3], 9)], args: [[0, 0, 1, 1], { value: 2.5 }] },
      { label: "(1,2,5) reflect [4,4]", inputs: [r([1, 2, 5], 10)], args: [[4, 4], { mode: "reflect" }] },
      { label: "extremes reflect [3,2]", inputs: [ext([1, 13])], args: [[3, 2], { mode: "reflect" }], grad: false },
    ],
    differentiable: true,
    ref: padRef,
    tol: EXACT,
    errors: [
      {
        label: "odd pad list",
        call: () => wnn.pad(wnn.zeros([2, 3]), [1]),
        error: ArgumentError,
        message: [/pad/, /\(2,3\)/],
      },
      {
        label: "reflect pad too large",
        call: () => wnn.pad(wnn.zeros([2, 3]), [3, 0], { mode: "reflect" }),
        error: ShapeError,
        message: [/pad/, /reflect/, /\(2,3\)/],
      },
      {
        label: "crop below 0",
        call: () => wnn.pad(wnn.zeros([2, 3]), [-2, -2]),
        error: ShapeError,
        message: [/pad/, /\(2,3\)/],
      },
      {
        label: "unknown mode",
        call: () => wnn.pad(wnn.zeros([2, 3]), [1, 1], { mode: "circular" as never }),
        error: ArgumentError,
        message: [/pad/, /circular/],
      },
    ],
  },
  ...(["tril", "triu"] as const).map((name): OpInfo => ({
    name,
    fn: wnn[name],
    samples: [
      { label: "(3,3)", inputs: [r([3, 3], 1)] },
      { label: "(3,4) k=1", inputs: [r([3, 4], 2)], args: [1] },
      { label: "(4,3) k=-1", inputs: [r([4, 3], 3)], args: [-1] },
      { label: "(2,3,3)", inputs: [r([2, 3, 3], 4)] },
      { label: "empty (0,3)", inputs: [r([0, 3], 5)] },
      { label: "empty (3,0)", inputs: [r([3, 0], 6)] },
      { label: "(2,5) k=10", inputs: [r([2, 5], 7)], args: [10] },
      { label: "(5,2) k=-10", inputs: [r([5, 2], 8)], args: [-10] },
      { label: "(1,1)", inputs: [r([1, 1], 9)] },
      { label: "(2,2,17)", inputs: [r([2, 2, 17], 10)] },
      {
        label: "extremes (13,13): NaN and inf outside the triangle become 0",
        inputs: [
          values64(
            Array.from({ length: 169 }, (_, k) => EXTREMES[k % 13]!),
            [13, 13],
          ),
        ],
        grad: false,
      },
    ],
    differentiable: true,
    ref: triRef(name === "triu"),
    tol: EXACT,
    errors: [
      {
        label: "1-d input",
        call: () => wnn[name](wnn.zeros([3])),
        error: ArgumentError,
        message: [new RegExp(name), /\(3\)/],
      },
    ],
  })),
];
