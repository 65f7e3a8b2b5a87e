// Op-table entries of the reduce family (see test/harness/optable.ts).
//
// The references below are independent of the library: they walk x element by element, put every value
// into the group of the output element it reduces into (row-major over the kept dims), and apply a plain
// JS function to each group, whose values come in row-major order over the reduced dims.
import * as wnn from "../../../src/index.js";
import { ArgumentError, DTypeError, ShapeError, type Tensor } from "../../../src/index.js";
import {
  EXTREMES,
  FUSED_TOL,
  TAIL_SIZES,
  bool,
  int32,
  randn64,
  values64,
  type OpInfo,
  type Sample,
} from "../../harness/optable.js";

type Dim = number | number[] | undefined;

/** The values of x grouped by output element when reducing over `dim` (undefined or [] = all dims). */
function groups(x: Tensor, dim: Dim): number[][] {
  const nd = x.shape.length;
  let dims: number[] = dim === undefined ? [] : typeof dim === "number" ? [dim] : dim;
  dims = dims.map((d) => (d < 0 ? d + Math.max(nd, 1) : d));
  const reduceAll = dim === undefined || (Array.isArray(dim) && dim.length === 0);
  const reduced = (d: number): boolean => reduceAll || dims.includes(d);
  const keptSizes = x.shape.filter((_, d) => !reduced(d));
  const nOut = keptSizes.reduce((a, b) => a * b, 1);
  const out: number[][] = Array.from({ length: nOut }, () => []);
  const idx = new Array<number>(nd).fill(0);
  for (let i = 0; i < x.numel(); i++) {
    // i → multi-index (row-major)
    let rest = i;
    for (let d = nd - 1; d >= 0; d--) {
      idx[d] = rest % x.shape[d]!;
      rest = Math.floor(rest / x.shape[d]!);
    }
    let o = 0;
    for (let d = 0; d < nd; d++) if (!reduced(d)) o = o * x.shape[d]! + idx[d]!;
    out[o]!.push(Number(x.storage[i]));
  }
  return out;
}

const jsSum = (v: number[]): number => v.reduce((a, b) => a + b, 0);
const jsMean = (v: number[]): number => jsSum(v) / v.length;
function jsVar(v: number[], correction: number): number {
  if (v.length === 0) return NaN;
  const mu = jsMean(v);
  return v.reduce((a, b) => a + (b - mu) * (b - mu), 0) / (v.length - correction);
}
/** [value, index] of the first maximum (better = >) or minimum; the first NaN wins. */
function jsExtreme(v: number[], better: (a: number, b: number) => boolean): [number, number] {
  for (let i = 0; i < v.length; i++) if (Number.isNaN(v[i])) return [NaN, i];
  let at = 0;
  for (let i = 1; i < v.length; i++) if (better(v[i]!, v[at]!)) at = i;
  return [v[at]!, at];
}
function jsLogsumexp(v: number[]): number {
  if (v.some(Number.isNaN)) return NaN;
  let m = -Infinity;
  for (const a of v) if (a > m) m = a;
  if (!Number.isFinite(m)) m = 0;
  return m + Math.log(v.reduce((s, a) => s + Math.exp(a - m), 0));
}
const gt = (a: number, b: number): boolean => a > b;
const lt = (a: number, b: number): boolean => a < b;

/** The correction that var/std's PyTorch-style arguments select. */
function correctionOf(args: unknown[]): number {
  const [first, second] = args;
  if (typeof first === "boolean") return first ? 1 : 0;
  if (typeof second === "boolean") return second ? 1 : 0;
  const o = (second ?? {}) as { correction?: number; unbiased?: boolean };
  return o.correction ?? (o.unbiased === false ? 0 : 1);
}
const dimOf = (args: unknown[]): Dim => (typeof args[0] === "boolean" ? undefined : (args[0] as Dim));

/** Samples shared by sum, mean, var, std and logsumexp: dims of every kind. `needDim`: always pass a dim. */
function multiDimSamples(opts: (keepdim: boolean) => unknown[] = (k) => [k], needDim = false): Sample[] {
  const all: Sample[] = needDim
    ? [{ label: "0-d, dim 0", inputs: [randn64([], 1)], args: [0, ...opts(false)] }]
    : [
        { label: "0-d, all dims", inputs: [randn64([], 1)] },
        { label: "0-d, dim -1", inputs: [randn64([], 2)], args: [-1, ...opts(false)] },
      ];
  return [
    ...all,
    ...(needDim
      ? []
      : TAIL_SIZES.filter((n) => [1, 3, 8, 17, 33].includes(n)).map((n) => ({
          label: `size ${n}, all dims`,
          inputs: [randn64([n], 10 + n)],
        }))),
    ...TAIL_SIZES.filter((n) => [4, 5, 16, 31].includes(n)).map((n) => ({
      label: `(2,${n}) dim 1`,
      inputs: [randn64([2, n], 20 + n)],
      args: [1, ...opts(false)],
    })),
    { label: "(2,3,4) dim 1", inputs: [randn64([2, 3, 4], 3)], args: [1, ...opts(false)] },
    { label: "(2,3,4) dim -1 keepdim", inputs: [randn64([2, 3, 4], 4)], args: [-1, ...opts(true)] },
    { label: "(2,3,4) dims [0,2] (not contiguous)", inputs: [randn64([2, 3, 4], 5)], args: [[0, 2], ...opts(false)] },
    { label: "(2,3,4) dims [-1,-2] keepdim", inputs: [randn64([2, 3, 4], 6)], args: [[-1, -2], ...opts(true)] },
    { label: "(3,2,4,2) dims [3,1] keepdim", inputs: [randn64([3, 2, 4, 2], 7)], args: [[3, 1], ...opts(true)] },
    { label: "(2,3) dims [] = all", inputs: [randn64([2, 3], 8)], args: [[], ...opts(false)] },
    { label: "empty (0,3) dim 0", inputs: [randn64([0, 3], 9)], args: [0, ...opts(false)] },
    { label: "empty (2,0) dim 0 keepdim", inputs: [randn64([2, 0], 10)], args: [0, ...opts(true)] },
    { label: "extremes", inputs: [values64(EXTREMES)], args: needDim ? [0] : [], grad: false },
    { label: "extremes (13,1) dim 1", inputs: [values64(EXTREMES, [13, 1])], args: [1, ...opts(false)], grad: false },
  ];
}

const reduceRef = (f: (v: number[], args: unknown[]) => number) => (inputs: Tensor[], args: unknown[]) =>
  groups(inputs[0]!, dimOf(args)).map((g) => f(g, args));

function extremeRef(better: (a: number, b: number) => boolean) {
  return (inputs: Tensor[], args: unknown[]): number[] | number[][] => {
    const dim = args[0] as number | undefined;
    const res = groups(inputs[0]!, dim).map((g) => jsExtreme(g, better));
    return dim === undefined ? [res[0]![0]] : [res.map((r) => r[0]), res.map((r) => r[1])];
  };
}

function extremeSamples(): Sample[] {
  return [
    { label: "all of (7)", inputs: [randn64([7], 1)] },
    { label: "all of 0-d", inputs: [randn64([], 2)] },
    { label: "all of (2,3,4)", inputs: [randn64([2, 3, 4], 3)] },
    { label: "0-d, dim 0", inputs: [randn64([], 4)], args: [0] },
    { label: "(5) dim 0", inputs: [randn64([5], 5)], args: [0] },
    { label: "(3,17) dim 1", inputs: [randn64([3, 17], 6)], args: [1] },
    { label: "(2,3,4) dim 1 keepdim", inputs: [randn64([2, 3, 4], 7)], args: [1, true] },
    { label: "(2,3,4) dim -3", inputs: [randn64([2, 3, 4], 8)], args: [-3] },
    { label: "(0,3) dim 1 (empty output)", inputs: [randn64([0, 3], 9)], args: [1] },
    { label: "(33) all", inputs: [randn64([33], 10)] },
    { label: "extremes, all", inputs: [values64(EXTREMES)], grad: false },
    { label: "extremes (13,1) dim 0", inputs: [values64(EXTREMES, [13, 1])], args: [0], grad: false },
    { label: "ties without NaN, dim 1", inputs: [values64([1, 3, 3, -0, 0, -1], [2, 3])], args: [1], grad: false },
    { label: "int32 (2,3) dim 0", inputs: [int32([4, -2, 7, 7, 0, -9], [2, 3])], args: [0], grad: false },
  ];
}

function argSamples(): Sample[] {
  return [
    { label: "all of (7)", inputs: [randn64([7], 1)] },
    { label: "all of 0-d", inputs: [randn64([], 2)] },
    { label: "all of (2,3,4)", inputs: [randn64([2, 3, 4], 3)] },
    { label: "all of (2,3) keepdim", inputs: [randn64([2, 3], 4)], args: [undefined, true] },
    { label: "(3,17) dim 1", inputs: [randn64([3, 17], 5)], args: [1] },
    { label: "(2,3,4) dim -2 keepdim", inputs: [randn64([2, 3, 4], 6)], args: [-2, true] },
    { label: "(0,3) dim 1 (empty output)", inputs: [randn64([0, 3], 7)], args: [1] },
    { label: "extremes", inputs: [values64(EXTREMES)] },
    { label: "int32", inputs: [int32([4, -2, 7, 7, 0, -9], [2, 3])], args: [1] },
  ];
}

const argRef = (better: (a: number, b: number) => boolean) => (inputs: Tensor[], args: unknown[]) =>
  groups(inputs[0]!, args[0] as number | undefined).map((g) => jsExtreme(g, better)[1]);

/** topk's reference: sort each group (ties: lower index first; NaN largest), keep k, lay out as (outer, k, inner). */
function topkRef(inputs: Tensor[], args: unknown[]): number[][] {
  const x = inputs[0]!,
    k = args[0] as number,
    nd = x.shape.length;
  const dim =
    ((args[1] as number | undefined) ?? -1) < 0 ? ((args[1] as number | undefined) ?? -1) + nd : (args[1] as number);
  const largest = (args[2] as { largest?: boolean } | undefined)?.largest ?? true;
  const inner = x.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
  const gs = groups(x, dim);
  const outer = gs.length / inner;
  const values = new Array<number>(outer * k * inner),
    indices = new Array<number>(outer * k * inner);
  gs.forEach((g, gi) => {
    const o = Math.floor(gi / inner),
      j = gi % inner;
    // NaN is larger than every number (+inf included); equal values keep their order
    const cmp = (a: number, b: number): number => {
      const u = g[a]!,
        v = g[b]!;
      if (Number.isNaN(u) || Number.isNaN(v))
        return Number.isNaN(u) && Number.isNaN(v) ? a - b : (Number.isNaN(u) ? -1 : 1) * (largest ? 1 : -1);
      return u === v ? a - b : (largest ? v - u : u - v) > 0 ? 1 : -1;
    };
    const order = g.map((_, i) => i).sort(cmp);
    for (let s = 0; s < k; s++) {
      values[(o * k + s) * inner + j] = g[order[s]!]!;
      indices[(o * k + s) * inner + j] = order[s]!;
    }
  });
  return [values, indices];
}

const x23 = () => wnn.zeros([2, 3]);

export const cases: OpInfo[] = [
  {
    name: "sum",
    fn: wnn.sum,
    samples: [
      ...multiDimSamples(),
      {
        label: "int32 (2,3) dim 1 → int32",
        inputs: [int32([1, 2, 3, -4, 5, 2147483647 - 1], [2, 3])],
        args: [1],
        grad: false,
      },
      { label: "bool (5) → int32", inputs: [bool([1, 0, 1, 1, 0])], grad: false },
    ],
    differentiable: true,
    ref: reduceRef(jsSum),
    tol: FUSED_TOL,
    errors: [
      {
        label: "dim out of range",
        call: () => wnn.sum(x23(), 2),
        error: ArgumentError,
        message: [/sum/, /dim 2/, /\(2,3\)/],
      },
      {
        label: "a dim named twice",
        call: () => wnn.sum(x23(), [1, -1]),
        error: ArgumentError,
        message: [/sum/, /twice/],
      },
    ],
  },
  {
    name: "mean",
    fn: wnn.mean,
    samples: multiDimSamples(),
    differentiable: true,
    ref: reduceRef(jsMean),
    tol: FUSED_TOL,
    errors: [
      {
        label: "int32 input",
        call: () => wnn.mean(int32([1, 2])),
        error: DTypeError,
        message: [/mean/, /int32/, /\(2\)/],
      },
      {
        label: "dim out of range",
        call: () => wnn.mean(x23(), -3),
        error: ArgumentError,
        message: [/mean/, /\(2,3\)/],
      },
    ],
  },
  {
    name: "var",
    fn: wnn.var,
    samples: [
      // one element with Bessel's correction is 0/0 = NaN, as in PyTorch: checked by value, not by gradient
      ...multiDimSamples((k) => [{ keepdim: k }]).map((s) => (s.inputs[0]!.numel() === 1 ? { ...s, grad: false } : s)),
      { label: "0-d, correction 0", inputs: [randn64([], 29)], args: [undefined, { correction: 0 }] },
      { label: "(3,5) dim 1, correction 0", inputs: [randn64([3, 5], 30)], args: [1, { correction: 0 }] },
      {
        label: "(3,5) dim 0, correction 2, keepdim",
        inputs: [randn64([3, 5], 31)],
        args: [0, { correction: 2, keepdim: true }],
      },
      { label: "(3,5) dim 1, unbiased=false positional", inputs: [randn64([3, 5], 32)], args: [1, false, true] },
      { label: "(4,3) unbiased=false over all", inputs: [randn64([4, 3], 33)], args: [false] },
      {
        label: "(3,5) dims [0,1], { unbiased: false }",
        inputs: [randn64([3, 5], 34)],
        args: [[0, 1], { unbiased: false }],
      },
    ],
    differentiable: true,
    ref: reduceRef((v, args) => jsVar(v, correctionOf(args))),
    tol: FUSED_TOL,
    errors: [
      {
        label: "int32 input",
        call: () => wnn.var(int32([1, 2])),
        error: DTypeError,
        message: [/var/, /int32/, /\(2\)/],
      },
      {
        label: "negative correction",
        call: () => wnn.var(x23(), 1, { correction: -1 }),
        error: ArgumentError,
        message: [/var/, /correction/],
      },
    ],
  },
  {
    name: "std",
    fn: wnn.std,
    samples: [
      // one element with Bessel's correction is 0/0 = NaN, as in PyTorch: checked by value, not by gradient
      ...multiDimSamples((k) => [{ keepdim: k }]).map((s) => (s.inputs[0]!.numel() === 1 ? { ...s, grad: false } : s)),
      { label: "0-d, correction 0", inputs: [randn64([], 29)], args: [undefined, { correction: 0 }] },
      { label: "(3,5) dim 1, correction 0", inputs: [randn64([3, 5], 30)], args: [1, { correction: 0 }] },
      { label: "(3,5) dim 1, unbiased=true positional, keepdim", inputs: [randn64([3, 5], 32)], args: [1, true, true] },
      {
        label: "constant rows (zero std), correction 0",
        inputs: [values64([2, 2, 2, -1, -1, -1], [2, 3])],
        args: [1, { correction: 0 }],
        grad: false,
      },
    ],
    differentiable: true,
    ref: reduceRef((v, args) => Math.sqrt(jsVar(v, correctionOf(args)))),
    tol: FUSED_TOL,
    errors: [
      { label: "bool input", call: () => wnn.std(bool([1, 0])), error: DTypeError, message: [/std/, /bool/, /\(2\)/] },
      { label: "dim out of range", call: () => wnn.std(x23(), 5), error: ArgumentError, message: [/std/, /\(2,3\)/] },
    ],
  },
  {
    name: "max",
    fn: wnn.max,
    call: (inputs, args) => (wnn.max as (x: Tensor, ...a: unknown[]) => Tensor)(inputs[0]!, ...args),
    samples: extremeSamples(),
    differentiable: true,
    ref: extremeRef(gt),
    tol: FUSED_TOL,
    errors: [
      {
        label: "empty along dim",
        call: () => wnn.max(wnn.zeros([0, 3]), 0),
        error: ShapeError,
        message: [/max/, /\(0,3\)/, /dim 0/],
      },
      {
        label: "empty, all dims",
        call: () => wnn.max(wnn.zeros([0, 3])),
        error: ShapeError,
        message: [/max/, /\(0,3\)/],
      },
      {
        label: "several dims",
        call: () => wnn.max(x23(), [0, 1] as never),
        error: ArgumentError,
        message: [/max/, /maximum/],
      },
    ],
  },
  {
    name: "min",
    fn: wnn.min,
    call: (inputs, args) => (wnn.min as (x: Tensor, ...a: unknown[]) => Tensor)(inputs[0]!, ...args),
    samples: extremeSamples(),
    differentiable: true,
    ref: extremeRef(lt),
    tol: FUSED_TOL,
    errors: [
      {
        label: "empty along dim",
        call: () => wnn.min(wnn.zeros([2, 0]), 1),
        error: ShapeError,
        message: [/min/, /\(2,0\)/, /dim 1/],
      },
      { label: "dim out of range", call: () => wnn.min(x23(), 2), error: ArgumentError, message: [/min/, /\(2,3\)/] },
    ],
  },
  {
    name: "argmax",
    fn: wnn.argmax,
    samples: argSamples(),
    differentiable: false,
    ref: argRef(gt),
    errors: [
      { label: "empty", call: () => wnn.argmax(wnn.zeros([0])), error: ShapeError, message: [/argmax/, /\(0\)/] },
      {
        label: "dim out of range",
        call: () => wnn.argmax(x23(), -3),
        error: ArgumentError,
        message: [/argmax/, /\(2,3\)/],
      },
    ],
  },
  {
    name: "argmin",
    fn: wnn.argmin,
    samples: argSamples(),
    differentiable: false,
    ref: argRef(lt),
    errors: [
      {
        label: "empty along dim",
        call: () => wnn.argmin(wnn.zeros([3, 0]), 1),
        error: ShapeError,
        message: [/argmin/, /\(3,0\)/],
      },
      {
        label: "dim out of range",
        call: () => wnn.argmin(x23(), 2),
        error: ArgumentError,
        message: [/argmin/, /\(2,3\)/],
      },
    ],
  },
  {
    name: "topk",
    fn: wnn.topk,
    call: (inputs, args) =>
      (wnn.topk as (x: Tensor, ...a: unknown[]) => { values: Tensor; indices: Tensor })(inputs[0]!, ...args),
    samples: [
      { label: "(7) k 3", inputs: [randn64([7], 1)], args: [3] },
      { label: "(7) k 7 (a full sort)", inputs: [randn64([7], 2)], args: [7] },
      { label: "(4,8) k 2 dim -1 (the router's top-2)", inputs: [randn64([4, 8], 3)], args: [2, -1] },
      { label: "(4,8) k 1 dim 1", inputs: [randn64([4, 8], 4)], args: [1, 1] },
      { label: "(3,17) k 5 dim 1", inputs: [randn64([3, 17], 5)], args: [5, 1] },
      { label: "(2,5,3) k 2 dim 1 (inner dims)", inputs: [randn64([2, 5, 3], 6)], args: [2, 1] },
      { label: "(5,3) k 2 dim 0 smallest", inputs: [randn64([5, 3], 7)], args: [2, 0, { largest: false }] },
      { label: "(2,33) k 4 dim -1 smallest", inputs: [randn64([2, 33], 8)], args: [4, -1, { largest: false }] },
      { label: "(3,4) k 0 (empty output)", inputs: [randn64([3, 4], 9)], args: [0, 1] },
      { label: "(0,4) k 2 (no rows)", inputs: [randn64([0, 4], 10)], args: [2, 1] },
      { label: "extremes k 4", inputs: [values64(EXTREMES)], args: [4], grad: false },
      { label: "extremes k 4 smallest", inputs: [values64(EXTREMES)], args: [4, 0, { largest: false }], grad: false },
      {
        label: "ties keep the lower index first",
        inputs: [values64([1, 3, 3, -0, 0, 3], [2, 3])],
        args: [2, 1],
        grad: false,
      },
      { label: "int32 (2,3) k 2", inputs: [int32([4, -2, 7, 7, 0, -9], [2, 3])], args: [2, 1], grad: false },
    ],
    differentiable: true,
    ref: topkRef,
    tol: FUSED_TOL,
    errors: [
      {
        label: "k too large",
        call: () => wnn.topk(x23(), 4, 1),
        error: ArgumentError,
        message: [/topk/, /\(2,3\)/, /\[0, 3\]/],
      },
      {
        label: "k not an integer",
        call: () => wnn.topk(x23(), 1.5),
        error: ArgumentError,
        message: [/topk/, /\(2,3\)/],
      },
      { label: "0-d input", call: () => wnn.topk(wnn.zeros([]), 1), error: ShapeError, message: [/topk/, /\(\)/] },
      {
        label: "dim out of range",
        call: () => wnn.topk(x23(), 1, 2),
        error: ArgumentError,
        message: [/topk/, /\(2,3\)/],
      },
    ],
  },
  {
    name: "logsumexp",
    fn: wnn.logsumexp,
    samples: [
      ...multiDimSamples((k) => [k], true),
      {
        label: "±inf rows: all −inf, one +inf",
        inputs: [values64([-Infinity, -Infinity, 1, Infinity], [2, 2])],
        args: [1],
        grad: false,
      },
      {
        label: "large values (no overflow)",
        inputs: [values64([1e30, -1e30, 88, -88, 700, 690], [3, 2])],
        args: [1],
        grad: false,
      },
      { label: "shifted far from 0 (1000 + randn)", inputs: [randn64([2, 5], 40, 1, 1000)], args: [1] },
    ],
    differentiable: true,
    ref: reduceRef(jsLogsumexp),
    tol: FUSED_TOL,
    errors: [
      {
        label: "dim out of range",
        call: () => wnn.logsumexp(x23(), 2),
        error: ArgumentError,
        message: [/logsumexp/, /\(2,3\)/],
      },
      {
        label: "dim missing",
        call: () => (wnn.logsumexp as (x: Tensor) => Tensor)(x23()),
        error: ArgumentError,
        message: [/logsumexp/, /\(2,3\)/],
      },
    ],
  },
];
