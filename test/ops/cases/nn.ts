// Op-table entries of the nn family (see test/harness/optable.ts). The references below are plain JS in
// float64, written from the definitions (not from our kernels).
import * as wnn from "../../../src/index.js";
import { ArgumentError, DTypeError, Generator, ShapeError, Tensor } from "../../../src/index.js";
import {
  EXTREMES,
  FUSED_TOL,
  TAIL_SIZES,
  int32,
  randn64,
  uniform64,
  values64,
  type OpInfo,
  type Sample,
} from "../../harness/optable.js";

const F = wnn.nn.functional;

// ---------------------------------------------------------------------------------------------------
// Plain-JS helpers

const arr = (t: Tensor): number[] => Array.from(t.storage, Number);
const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const sumOf = (v: number[]): number => v.reduce((a, b) => a + b, 0);

/** Apply fn to every line of x along dim d (x viewed as (outer, r, inner)); fn maps the line to a new line. */
function alongDim(x: Tensor, dim: number, fn: (line: number[]) => number[]): number[] {
  const d = dim < 0 ? dim + Math.max(x.ndim, 1) : dim;
  const outer = prod(x.shape.slice(0, d)),
    r = x.shape[d] ?? 1,
    inner = prod(x.shape.slice(d + 1));
  const v = arr(x),
    out = new Array<number>(v.length);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const idx = Array.from({ length: r }, (_, i) => o * r * inner + i * inner + j);
      fn(idx.map((i) => v[i]!)).forEach((y, i) => (out[idx[i]!] = y));
    }
  }
  return out;
}

function lse(line: number[]): number {
  const m = Math.max(...line);
  if (line.some(Number.isNaN)) return NaN;
  if (m === -Infinity) return -Infinity;
  return m + Math.log(sumOf(line.map((v) => Math.exp(v - m))));
}

const softmaxRef = (line: number[]): number[] => {
  const m = line.some(Number.isNaN) ? NaN : Math.max(...line);
  const e = line.map((v) => Math.exp(v - m));
  return e.map((v) => v / sumOf(e));
};

/** Elementwise f(a, b) over the broadcast shape of a and b. */
function broadcast2(a: Tensor, b: Tensor, f: (x: number, y: number) => number): number[] {
  const n = Math.max(a.ndim, b.ndim);
  const sa = [...Array(n - a.ndim).fill(1), ...a.shape],
    sb = [...Array(n - b.ndim).fill(1), ...b.shape];
  const shape = sa.map((d, i) => Math.max(d, sb[i]!));
  const out: number[] = [];
  const va = arr(a),
    vb = arr(b);
  for (let k = 0; k < prod(shape); k++) {
    let rem = k,
      ia = 0,
      ib = 0,
      stA = 1,
      stB = 1;
    for (let d = n - 1; d >= 0; d--) {
      const i = rem % shape[d]!;
      rem = Math.floor(rem / shape[d]!);
      ia += (sa[d] === 1 ? 0 : i) * stA;
      ib += (sb[d] === 1 ? 0 : i) * stB;
      stA *= sa[d]!;
      stB *= sb[d]!;
    }
    out.push(f(va[ia]!, vb[ib]!));
  }
  return out;
}

function reduceRef(losses: number[], reduction: string | undefined, count = losses.length): number[] {
  if (reduction === "none") return losses;
  const s = sumOf(losses);
  return [reduction === "sum" ? s : s / count];
}

/** Per-position (loss, counted) for class-index losses; x (C), (N,C) or (N,C,d...). */
function classRef(
  x: Tensor,
  t: Tensor,
  ignoreIndex: number,
  perRow: (line: number[], target: number) => number,
): [number[], number] {
  const cd = x.ndim === 1 ? 0 : 1;
  const outer = prod(x.shape.slice(0, cd)),
    c = x.shape[cd]!,
    inner = prod(x.shape.slice(cd + 1));
  const v = arr(x),
    tv = arr(t),
    losses: number[] = [];
  let count = 0;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const target = tv[o * inner + j]!;
      if (target === ignoreIndex) {
        losses.push(0);
        continue;
      }
      count++;
      losses.push(
        perRow(
          Array.from({ length: c }, (_, i) => v[o * c * inner + i * inner + j]!),
          target,
        ),
      );
    }
  }
  return [losses, count];
}

/** Normalise each group of `m` consecutive values (mean, biased variance). */
function normalise(v: number[], m: number, eps: number): number[] {
  const out: number[] = [];
  for (let s = 0; s < v.length; s += m) {
    const g = v.slice(s, s + m);
    const mu = sumOf(g) / m;
    const va = sumOf(g.map((x) => (x - mu) ** 2)) / m;
    for (const x of g) out.push((x - mu) / Math.sqrt(va + eps));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Sample makers

function softmaxSamples(): Sample[] {
  return [
    { label: "0-d scalar", inputs: [randn64([], 1)], args: [0] },
    { label: "empty (0,3) dim 1", inputs: [randn64([0, 3], 2)], args: [1] },
    { label: "empty (3,0) dim -1", inputs: [randn64([3, 0], 2)], args: [-1] },
    ...TAIL_SIZES.map((n) => ({ label: `size ${n}`, inputs: [randn64([n], 10 + n, 2)], args: [0], grad: n <= 17 })),
    { label: "(2,3,4) dim 1", inputs: [randn64([2, 3, 4], 3)], args: [1] },
    { label: "(2,3,4) dim -1", inputs: [randn64([2, 3, 4], 4)], args: [-1] },
    { label: "(3,4,2) dim 0", inputs: [randn64([3, 4, 2], 5)], args: [0] },
    { label: "(2,1,3) size-1 dim", inputs: [randn64([2, 1, 3], 6)], args: [1] },
    { label: "(4,5) large values", inputs: [randn64([4, 5], 7, 40)], args: [1] },
    {
      label: "(2,4) with -inf entries",
      inputs: [values64([1, -Infinity, 2, 0.5, -Infinity, -Infinity, 3, 1], [2, 4])],
      args: [1],
      grad: false,
    },
    { label: "extremes", inputs: [values64(EXTREMES.slice(0, 12), [4, 3])], args: [1], grad: false },
    {
      label: "row of 1e30s and a NaN row",
      inputs: [values64([1e30, -1e30, 1e30, NaN, 1, 2], [2, 3])],
      args: [1],
      grad: false,
    },
  ];
}

function ceSamples(): Sample[] {
  return [
    { label: "(5,4) mean", inputs: [randn64([5, 4], 1), int32([0, 3, 1, 2, 3])], args: [{}] },
    { label: "(5,4) sum", inputs: [randn64([5, 4], 2), int32([1, 1, 0, 2, 3])], args: [{ reduction: "sum" }] },
    { label: "(5,4) none", inputs: [randn64([5, 4], 3), int32([2, 0, 1, 3, 3])], args: [{ reduction: "none" }] },
    {
      label: "(6,3) ignoreIndex -100, mean",
      inputs: [randn64([6, 3], 4), int32([0, -100, 2, 1, -100, 2])],
      args: [{}],
    },
    {
      label: "(6,3) ignoreIndex 1, sum",
      inputs: [randn64([6, 3], 5), int32([0, 1, 2, 1, 0, 2])],
      args: [{ ignoreIndex: 1, reduction: "sum" }],
    },
    {
      label: "(4,5) labelSmoothing 0.1",
      inputs: [randn64([4, 5], 6, 2), int32([4, 0, 2, 1])],
      args: [{ labelSmoothing: 0.1 }],
    },
    {
      label: "(6,4) labelSmoothing 0.3 + ignoreIndex",
      inputs: [randn64([6, 4], 7), int32([0, 3, -100, 1, 2, -100])],
      args: [{ labelSmoothing: 0.3 }],
    },
    {
      label: "(6,4) labelSmoothing 0.2 + ignoreIndex, none",
      inputs: [randn64([6, 4], 8), int32([0, 3, -100, 1, 2, 2])],
      args: [{ labelSmoothing: 0.2, reduction: "none" }],
    },
    {
      label: "(2,3,4) (N,C,d) with ignoreIndex",
      inputs: [randn64([2, 3, 4], 9), int32([0, 1, 2, -100, 2, 2, 1, 0], [2, 4])],
      args: [{}],
    },
    {
      label: "(2,4,2,3) (N,C,d1,d2) labelSmoothing",
      inputs: [randn64([2, 4, 2, 3], 10), int32([0, 1, 2, 3, 3, 2, 1, 0, 0, 0, 1, 1], [2, 2, 3])],
      args: [{ labelSmoothing: 0.15 }],
    },
    { label: "(7) unbatched, 0-d target", inputs: [randn64([7], 11), int32([5], [])], args: [{}] },
    { label: "(3,33) 33 classes", inputs: [randn64([3, 33], 12), int32([32, 0, 17])], args: [{ reduction: "sum" }] },
    { label: "empty batch (0,3), none", inputs: [randn64([0, 3], 13), int32([])], args: [{ reduction: "none" }] },
    {
      label: "all ignored, sum",
      inputs: [randn64([2, 3], 14), int32([-100, -100])],
      args: [{ reduction: "sum", labelSmoothing: 0.1 }],
    },
    {
      label: "extremes",
      inputs: [
        values64([0, -0, 1e30, -1e30, 88, -88, Infinity, 1, -Infinity, 1, NaN, 1], [6, 2]),
        int32([0, 1, 0, 1, 1, 0]),
      ],
      args: [{ reduction: "none" }],
      grad: false,
    },
  ];
}

function ceRef(inputs: Tensor[], args: unknown[]): number[] {
  const [x, t] = inputs as [Tensor, Tensor];
  const o = (args[0] ?? {}) as { ignoreIndex?: number; labelSmoothing?: number; reduction?: string };
  const eps = o.labelSmoothing ?? 0;
  const [losses, count] = classRef(x, t, o.ignoreIndex ?? -100, (line, target) => {
    // −(1−ε)·log p_t − ε/C·Σ log p_c
    const logp = line.map((v) => v - lse(line));
    return -(1 - eps) * logp[target]! - (eps > 0 ? (eps / line.length) * sumOf(logp) : 0);
  });
  return reduceRef(losses, o.reduction ?? "mean", count);
}

/** EXTREMES without ±1e30, whose squared differences overflow float32 (mseLoss would compare inf with 1e60). */
const MILD_EXTREMES = EXTREMES.map((v) => (Math.abs(v) === 1e30 ? Math.sign(v) * 1e15 : v));

function pairSamples(extremes = EXTREMES): Sample[] {
  return [
    { label: "(3,4) mean", inputs: [randn64([3, 4], 1), randn64([3, 4], 2)], args: [{}] },
    { label: "(5) sum", inputs: [randn64([5], 3), randn64([5], 4)], args: [{ reduction: "sum" }] },
    { label: "(2,3) none", inputs: [randn64([2, 3], 5), randn64([2, 3], 6)], args: [{ reduction: "none" }] },
    { label: "broadcast (3,1) vs (4)", inputs: [randn64([3, 1], 7), randn64([4], 8)], args: [{}] },
    {
      label: "broadcast (2,1,3) vs (4,1), none",
      inputs: [randn64([2, 1, 3], 9), randn64([4, 1], 10)],
      args: [{ reduction: "none" }],
    },
    { label: "0-d scalars", inputs: [randn64([], 11), randn64([], 12)], args: [{}] },
    { label: "empty (0,3), sum", inputs: [randn64([0, 3], 13), randn64([0, 3], 14)], args: [{ reduction: "sum" }] },
    { label: "(17) mean", inputs: [randn64([17], 15), randn64([17], 16)], args: [{}] },
    { label: "(33) none", inputs: [randn64([33], 17), randn64([33], 18)], args: [{ reduction: "none" }] },
    {
      label: "extremes",
      inputs: [values64(extremes), values64(extremes.slice().reverse())],
      args: [{ reduction: "none" }],
      grad: false,
    },
  ];
}

const pairRef =
  (f: (d: number) => number) =>
  (inputs: Tensor[], args: unknown[]): number[] =>
    reduceRef(
      broadcast2(inputs[0]!, inputs[1]!, (a, b) => f(a - b)),
      (args[0] as { reduction?: string }).reduction ?? "mean",
    );

/** Inputs [x, weight?, bias?] by flags "wb" | "w" | "b" | "". */
function affine(inputs: Tensor[], flags: string): [Tensor, Tensor | null, Tensor | null] {
  const rest = inputs.slice(1);
  const w = flags.includes("w") ? rest.shift()! : null;
  const b = flags.includes("b") ? rest.shift()! : null;
  return [inputs[0]!, w, b];
}

/** y·w[k] + b[k] with k = index mod period / stride (the parameter index of each element). */
function applyAffine(y: number[], w: Tensor | null, b: Tensor | null, index: (i: number) => number): number[] {
  return y.map((v, i) => v * (w ? w.storage[index(i)]! : 1) + (b ? b.storage[index(i)]! : 0));
}

// ---------------------------------------------------------------------------------------------------

export const cases: OpInfo[] = [
  {
    name: "softmax",
    fn: F.softmax,
    samples: softmaxSamples(),
    differentiable: true,
    ref: ([x], [dim]) => alongDim(x!, dim as number, softmaxRef),
    tol: FUSED_TOL,
    errors: [
      {
        label: "int32 input",
        call: () => F.softmax(int32([1, 2]), 0),
        error: DTypeError,
        message: [/softmax/, /int32/, /\(2\)/],
      },
      {
        label: "dim out of range",
        call: () => F.softmax(wnn.zeros([2, 3]), 2),
        error: ArgumentError,
        message: [/softmax/, /dim 2/, /\(2,3\)/],
      },
    ],
  },
  {
    name: "logSoftmax",
    fn: F.logSoftmax,
    samples: softmaxSamples(),
    differentiable: true,
    ref: ([x], [dim]) => alongDim(x!, dim as number, (line) => line.map((v) => v - lse(line))),
    tol: FUSED_TOL,
    errors: [
      {
        label: "int32 input",
        call: () => F.logSoftmax(int32([1, 2]), 0),
        error: DTypeError,
        message: [/logSoftmax/, /int32/, /\(2\)/],
      },
      {
        label: "dim out of range",
        call: () => F.logSoftmax(wnn.zeros([4]), -2),
        error: ArgumentError,
        message: [/logSoftmax/, /dim -2/, /\(4\)/],
      },
    ],
  },
  {
    name: "crossEntropy",
    fn: F.crossEntropy,
    samples: ceSamples(),
    differentiable: true,
    ref: ceRef,
    tol: FUSED_TOL,
    errors: [
      {
        label: "target shape",
        call: () => F.crossEntropy(wnn.zeros([4, 3]), wnn.zeros([3], { dtype: "int32" })),
        error: ShapeError,
        message: [/crossEntropy/, /\(3\)/, /\(4,3\)/, /\(4\)/],
      },
      {
        label: "target out of range",
        call: () => F.crossEntropy(wnn.zeros([2, 3]), int32([0, 3])),
        error: ArgumentError,
        message: [/crossEntropy/, /target 3/, /3 classes/, /\(2,3\)/],
      },
      {
        label: "float target",
        call: () => F.crossEntropy(wnn.zeros([2, 3]), wnn.zeros([2])),
        error: DTypeError,
        message: [/crossEntropy/, /int32/, /\(2\)/],
      },
      {
        label: "bad labelSmoothing",
        call: () => F.crossEntropy(wnn.zeros([2, 3]), int32([0, 1]), { labelSmoothing: 1.5 }),
        error: ArgumentError,
        message: [/crossEntropy/, /labelSmoothing/],
      },
      {
        label: "bad reduction",
        call: () => F.crossEntropy(wnn.zeros([2, 3]), int32([0, 1]), { reduction: "avg" as never }),
        error: ArgumentError,
        message: [/crossEntropy/, /reduction/, /avg/],
      },
    ],
  },
  {
    name: "nllLoss",
    fn: F.nllLoss,
    samples: ceSamples()
      .filter((s) => !(s.args![0] as { labelSmoothing?: number }).labelSmoothing || s.label === "extremes")
      .map((s) => ({
        ...s,
        args: [{ ...(s.args![0] as object), labelSmoothing: undefined }] as unknown[],
      }))
      .concat([
        {
          label: "(3,4) custom ignoreIndex 2, mean",
          inputs: [randn64([3, 4], 21), int32([2, 0, 3])],
          args: [{ ignoreIndex: 2 }],
        },
        {
          label: "(2,3,5) (N,C,d) none",
          inputs: [randn64([2, 3, 5], 22), int32([0, 1, 2, 0, 1, 2, 2, 1, 0, -100], [2, 5])],
          args: [{ reduction: "none" }],
        },
      ]),
    differentiable: true,
    ref: ([x, t], [o]) => {
      const opts = o as { ignoreIndex?: number; reduction?: string };
      const [losses, count] = classRef(x!, t!, opts.ignoreIndex ?? -100, (line, target) => -line[target]!);
      return reduceRef(losses, opts.reduction ?? "mean", count);
    },
    tol: FUSED_TOL,
    errors: [
      {
        label: "target shape",
        call: () => F.nllLoss(wnn.zeros([2, 3, 4]), wnn.zeros([2, 3], { dtype: "int32" })),
        error: ShapeError,
        message: [/nllLoss/, /\(2,3\)/, /\(2,3,4\)/, /\(2,4\)/],
      },
      {
        label: "0-d input",
        call: () => F.nllLoss(wnn.zeros([]), int32([0], [])),
        error: ShapeError,
        message: [/nllLoss/, /\(\)/],
      },
    ],
  },
  {
    name: "mseLoss",
    fn: F.mseLoss,
    samples: pairSamples(MILD_EXTREMES),
    differentiable: true,
    ref: pairRef((d) => d * d),
    tol: FUSED_TOL,
    errors: [
      {
        label: "shapes that do not broadcast",
        call: () => F.mseLoss(wnn.zeros([2, 3]), wnn.zeros([4])),
        error: ShapeError,
        message: [/mseLoss/, /\(2,3\)/, /\(4\)/],
      },
      {
        label: "int32 input",
        call: () => F.mseLoss(int32([1, 2]), wnn.zeros([2])),
        error: DTypeError,
        message: [/mseLoss/, /int32/, /\(2\)/],
      },
    ],
  },
  {
    name: "l1Loss",
    fn: F.l1Loss,
    samples: pairSamples(),
    differentiable: true,
    ref: pairRef(Math.abs),
    tol: FUSED_TOL,
    errors: [
      {
        label: "shapes that do not broadcast",
        call: () => F.l1Loss(wnn.zeros([3]), wnn.zeros([5])),
        error: ShapeError,
        message: [/l1Loss/, /\(3\)/, /\(5\)/],
      },
      {
        label: "bad reduction",
        call: () => F.l1Loss(wnn.zeros([3]), wnn.zeros([3]), { reduction: "max" as never }),
        error: ArgumentError,
        message: [/l1Loss/, /reduction/],
      },
    ],
  },
  {
    name: "binaryCrossEntropyWithLogits",
    fn: F.binaryCrossEntropyWithLogits,
    // inputs [x, t, posWeight?]; args [reduction]
    call: ([x, t, pw], [reduction]) =>
      F.binaryCrossEntropyWithLogits(x!, t!, { reduction: reduction as never, posWeight: pw }),
    samples: [
      { label: "(4,3) mean", inputs: [randn64([4, 3], 1, 3), uniform64([4, 3], 0, 1, 2)], args: ["mean"] },
      { label: "(5) sum, hard targets", inputs: [randn64([5], 3, 3), values64([0, 1, 1, 0, 1])], args: ["sum"] },
      { label: "(2,3) none", inputs: [randn64([2, 3], 4), uniform64([2, 3], 0, 1, 5)], args: ["none"] },
      {
        label: "(4,3) posWeight (3) broadcast",
        inputs: [randn64([4, 3], 6, 2), uniform64([4, 3], 0, 1, 7), values64([0.5, 2, 3])],
        args: ["mean"],
      },
      {
        label: "(2,3) posWeight (2,3), none",
        inputs: [randn64([2, 3], 8), uniform64([2, 3], 0, 1, 9), uniform64([2, 3], 0.2, 3, 10)],
        args: ["none"],
      },
      {
        label: "(2,1,3) posWeight (1,3), sum",
        inputs: [randn64([2, 1, 3], 11), uniform64([2, 1, 3], 0, 1, 12), uniform64([1, 3], 0.5, 2, 13)],
        args: ["sum"],
      },
      { label: "0-d", inputs: [randn64([], 14), uniform64([], 0, 1, 15)], args: ["mean"] },
      {
        label: "(6) large logits",
        inputs: [values64([40, -40, 90, -90, 0.5, -0.5]), uniform64([6], 0, 1, 16)],
        args: ["none"],
      },
      { label: "(17) mean", inputs: [randn64([17], 17, 2), uniform64([17], 0, 1, 18)], args: ["mean"] },
      { label: "empty (0,2), sum", inputs: [randn64([0, 2], 19), randn64([0, 2], 20)], args: ["sum"] },
      {
        label: "extremes",
        inputs: [values64(EXTREMES), values64(EXTREMES.map((_, i) => (i % 3) / 2))],
        args: ["none"],
        grad: false,
      },
    ],
    differentiable: true,
    ref: ([x, t, pw], [reduction]) => {
      const pwv = pw ? broadcast2(x!, pw, (_, w) => w) : null;
      const tv = arr(t!);
      const losses = arr(x!).map((v, i) => {
        // (1 − t)·x + (1 + (pw − 1)·t)·log(1 + e^(−x)), with log(1 + e^(−x)) = log1p(e^(−|x|)) + max(−x, 0)
        const lw = 1 + ((pwv ? pwv[i]! : 1) - 1) * tv[i]!;
        return (1 - tv[i]!) * v + lw * (Math.log1p(Math.exp(-Math.abs(v))) + Math.max(-v, 0));
      });
      return reduceRef(losses, reduction as string);
    },
    tol: FUSED_TOL,
    errors: [
      {
        label: "target shape",
        call: () => F.binaryCrossEntropyWithLogits(wnn.zeros([2, 3]), wnn.zeros([3])),
        error: ShapeError,
        message: [/binaryCrossEntropyWithLogits/, /\(3\)/, /\(2,3\)/],
      },
      {
        label: "posWeight too big",
        call: () => F.binaryCrossEntropyWithLogits(wnn.zeros([3]), wnn.zeros([3]), { posWeight: wnn.ones([2, 3]) }),
        error: ShapeError,
        message: [/binaryCrossEntropyWithLogits/, /\(2,3\)/, /\(3\)/],
      },
    ],
  },
  {
    name: "layerNorm",
    fn: F.layerNorm,
    // inputs [x, weight?, bias?]; args [normalizedShape, affine flags, eps?]
    call: (inputs, [ns, flags, eps]) => {
      const [x, w, b] = affine(inputs, flags as string);
      return F.layerNorm(x, ns as number[], w, b, eps as number | undefined);
    },
    samples: [
      {
        label: "(4,6) ns 6, weight and bias",
        inputs: [randn64([4, 6], 1, 2, 1), randn64([6], 2), randn64([6], 3)],
        args: [6, "wb"],
      },
      {
        label: "(2,3,4) ns (3,4), weight and bias",
        inputs: [randn64([2, 3, 4], 4), randn64([3, 4], 5), randn64([3, 4], 6)],
        args: [[3, 4], "wb"],
      },
      { label: "(3,5) ns 5, no affine", inputs: [randn64([3, 5], 7)], args: [[5], ""] },
      {
        label: "(2,2,7) ns 7, weight only, eps 1e-3",
        inputs: [randn64([2, 2, 7], 8), randn64([7], 9)],
        args: [[7], "w", 1e-3],
      },
      { label: "(3,4) bias only", inputs: [randn64([3, 4], 10), randn64([4], 11)], args: [[4], "b"] },
      {
        label: "(2,3) ns (2,3) (whole tensor)",
        inputs: [randn64([2, 3], 12), randn64([2, 3], 13), randn64([2, 3], 14)],
        args: [[2, 3], "wb"],
      },
      {
        label: "(3) ns () (one value per row)",
        inputs: [randn64([3], 15), randn64([], 16), randn64([], 17)],
        args: [[], "wb"],
      },
      {
        label: "(1,17) ns 17",
        inputs: [randn64([1, 17], 18), randn64([17], 19), randn64([17], 20)],
        args: [[17], "wb"],
      },
      { label: "(2,33) ns 33, no affine", inputs: [randn64([2, 33], 21)], args: [[33], ""], grad: false },
      { label: "empty (0,4)", inputs: [randn64([0, 4], 22), randn64([4], 23), randn64([4], 24)], args: [[4], "wb"] },
      { label: "extremes", inputs: [values64(EXTREMES.slice(0, 12), [3, 4])], args: [[4], ""], grad: false },
    ],
    differentiable: true,
    ref: (inputs, [ns, flags, eps]) => {
      const [x, w, b] = affine(inputs, flags as string);
      const cols = prod(typeof ns === "number" ? [ns] : (ns as number[]));
      return applyAffine(normalise(arr(x), cols, (eps as number | undefined) ?? 1e-5), w, b, (i) => i % cols);
    },
    tol: FUSED_TOL,
    errors: [
      {
        label: "normalizedShape does not match",
        call: () => F.layerNorm(wnn.zeros([2, 3]), [4]),
        error: ShapeError,
        message: [/layerNorm/, /\(4\)/, /\(2,3\)/],
      },
      {
        label: "weight shape",
        call: () => F.layerNorm(wnn.zeros([2, 3]), [3], wnn.ones([2])),
        error: ShapeError,
        message: [/layerNorm/, /weight/, /\(2\)/, /\(3\)/],
      },
      {
        label: "weight dtype",
        call: () => F.layerNorm(wnn.zeros([2, 3]), [3], wnn.ones([3], { dtype: "float64" })),
        error: DTypeError,
        message: [/layerNorm/, /float64/, /\(3\)/],
      },
    ],
  },
  {
    name: "rmsNorm",
    fn: F.rmsNorm,
    // inputs [x, weight?]; args [normalizedShape, affine flags, eps?]
    call: (inputs, [ns, flags, eps]) => {
      const [x, w] = affine(inputs, flags as string);
      return F.rmsNorm(x, ns as number[], w, eps as number | undefined);
    },
    samples: [
      { label: "(4,6) ns 6, weight, default eps", inputs: [randn64([4, 6], 1), randn64([6], 2)], args: [6, "w"] },
      {
        label: "(2,3,4) ns (3,4), weight, eps 1e-6",
        inputs: [randn64([2, 3, 4], 3), randn64([3, 4], 4)],
        args: [[3, 4], "w", 1e-6],
      },
      { label: "(3,5) no weight, eps 1e-5", inputs: [randn64([3, 5], 5, 0.1)], args: [[5], "", 1e-5] },
      { label: "(2,7) weight", inputs: [randn64([2, 7], 6, 2, 1), randn64([7], 7)], args: [[7], "w"] },
      { label: "(3) ns () (one value per row)", inputs: [randn64([3], 8), randn64([], 9)], args: [[], "w", 0.1] },
      { label: "(1,17) ns 17", inputs: [randn64([1, 17], 10), randn64([17], 11)], args: [[17], "w"] },
      { label: "(2,2,2) ns (2,2), no weight", inputs: [randn64([2, 2, 2], 12)], args: [[2, 2], ""] },
      { label: "(3,4) weight, eps 0.5", inputs: [randn64([3, 4], 13), randn64([4], 14)], args: [[4], "w", 0.5] },
      { label: "(2,33) no weight", inputs: [randn64([2, 33], 15)], args: [[33], ""], grad: false },
      { label: "empty (0,4)", inputs: [randn64([0, 4], 16), randn64([4], 17)], args: [[4], "w"] },
      { label: "extremes", inputs: [values64(EXTREMES.slice(0, 12), [3, 4])], args: [[4], ""], grad: false },
    ],
    differentiable: true,
    ref: (inputs, [ns, flags, eps]) => {
      const [x, w] = affine(inputs, flags as string);
      const cols = prod(typeof ns === "number" ? [ns] : (ns as number[]));
      const e = (eps as number | undefined) ?? 2 ** -52; // float64 machine epsilon: the default
      const v = arr(x),
        y: number[] = [];
      for (let s = 0; s < v.length; s += cols) {
        const row = v.slice(s, s + cols);
        const r = 1 / Math.sqrt(sumOf(row.map((a) => a * a)) / cols + e);
        for (const a of row) y.push(a * r);
      }
      return applyAffine(y, w, null, (i) => i % cols);
    },
    tol: FUSED_TOL,
    errors: [
      {
        label: "normalizedShape does not match",
        call: () => F.rmsNorm(wnn.zeros([2, 3]), [2]),
        error: ShapeError,
        message: [/rmsNorm/, /\(2\)/, /\(2,3\)/],
      },
      {
        label: "weight shape",
        call: () => F.rmsNorm(wnn.zeros([2, 3]), 3, wnn.ones([3, 1])),
        error: ShapeError,
        message: [/rmsNorm/, /weight/, /\(3,1\)/, /\(3\)/],
      },
    ],
  },
  {
    name: "groupNorm",
    fn: F.groupNorm,
    // inputs [x, weight?, bias?]; args [numGroups, affine flags, eps?]
    call: (inputs, [g, flags, eps]) => {
      const [x, w, b] = affine(inputs, flags as string);
      return F.groupNorm(x, g as number, w, b, eps as number | undefined);
    },
    samples: [
      {
        label: "(2,6,5) 3 groups, weight and bias",
        inputs: [randn64([2, 6, 5], 1, 2), randn64([6], 2), randn64([6], 3)],
        args: [3, "wb"],
      },
      {
        label: "(3,4) 2 groups, no spatial dims",
        inputs: [randn64([3, 4], 4), randn64([4], 5), randn64([4], 6)],
        args: [2, "wb"],
      },
      { label: "(2,4,2,3) 1 group, no affine", inputs: [randn64([2, 4, 2, 3], 7)], args: [1, ""] },
      {
        label: "(1,4,3,2) 4 groups (instance norm), eps 1e-3",
        inputs: [randn64([1, 4, 3, 2], 8), randn64([4], 9), randn64([4], 10)],
        args: [4, "wb", 1e-3],
      },
      { label: "(2,4,3) weight only", inputs: [randn64([2, 4, 3], 11), randn64([4], 12)], args: [2, "w"] },
      { label: "(2,4,3) bias only", inputs: [randn64([2, 4, 3], 13), randn64([4], 14)], args: [2, "b"] },
      {
        label: "(1,2,17) 2 groups",
        inputs: [randn64([1, 2, 17], 15), randn64([2], 16), randn64([2], 17)],
        args: [2, "wb"],
      },
      {
        label: "(3,6,1) 6 groups of one value",
        inputs: [randn64([3, 6, 1], 18), randn64([6], 19), randn64([6], 20)],
        args: [3, "wb", 0.1],
      },
      {
        label: "empty batch (0,4,2)",
        inputs: [randn64([0, 4, 2], 21), randn64([4], 22), randn64([4], 23)],
        args: [2, "wb"],
      },
      { label: "(1,2,33) no affine", inputs: [randn64([1, 2, 33], 24)], args: [1, ""], grad: false },
      { label: "extremes", inputs: [values64(EXTREMES.slice(0, 12), [1, 4, 3])], args: [2, ""], grad: false },
    ],
    differentiable: true,
    ref: (inputs, [g, flags, eps]) => {
      const [x, w, b] = affine(inputs, flags as string);
      const c = x.shape[1]!,
        hw = prod(x.shape.slice(2));
      return applyAffine(
        normalise(arr(x), (c / (g as number)) * hw, (eps as number | undefined) ?? 1e-5),
        w,
        b,
        (i) => Math.floor(i / hw) % c,
      );
    },
    tol: FUSED_TOL,
    errors: [
      {
        label: "channels not divisible",
        call: () => F.groupNorm(wnn.zeros([2, 6, 3]), 4),
        error: ArgumentError,
        message: [/groupNorm/, /6 channels/, /\(2,6,3\)/, /4/],
      },
      {
        label: "weight shape",
        call: () => F.groupNorm(wnn.zeros([2, 6, 3]), 3, wnn.ones([3])),
        error: ShapeError,
        message: [/groupNorm/, /weight/, /\(3\)/, /\(6\)/, /\(2,6,3\)/],
      },
      {
        label: "1-D input",
        call: () => F.groupNorm(wnn.zeros([6]), 3),
        error: ShapeError,
        message: [/groupNorm/, /\(6\)/],
      },
    ],
  },
  {
    name: "batchNorm",
    fn: F.batchNorm,
    // inputs [x, runningMean, runningVar, weight?, bias?]; args [training, momentum, eps, affine flags]. The running
    // statistics are cloned so that a training call does not change the sample (their update is tested in nn.fixtures).
    call: ([x, rm, rv, ...p], [training, momentum, eps, flags]) => {
      const [, w, b] = affine([x!, ...p], flags as string);
      return F.batchNorm(x!, rm!.clone(), rv!.clone(), w, b, training as boolean, momentum as number, eps as number);
    },
    samples: [
      ["(4,3) training, weight and bias", [4, 3], true, 0.1, 1e-5, "wb"],
      ["(3,2,5) training, momentum 0.3", [3, 2, 5], true, 0.3, 1e-5, "wb"],
      ["(2,3,2,2) training, no affine, eps 1e-3", [2, 3, 2, 2], true, 0.1, 1e-3, ""],
      ["(1,2,3) training, one sample", [1, 2, 3], true, 0.1, 1e-5, "w"],
      ["(5,2) training, bias only", [5, 2], true, 0.1, 1e-5, "b"],
      ["(4,3) eval (running statistics)", [4, 3], false, 0.1, 1e-5, "wb"],
      ["(2,2,3) eval, no affine", [2, 2, 3], false, 0.1, 1e-5, ""],
      ["(2,17) eval, weight only", [2, 17], false, 0.1, 1e-5, "w"],
      ["(3,4,2) training, eps 0.1", [3, 4, 2], true, 0.1, 0.1, "wb"],
      ["(0,3) eval, empty batch", [0, 3], false, 0.1, 1e-5, "wb"],
    ].map(([label, shape, training, momentum, eps, flags], k): Sample => {
      const c = (shape as number[])[1]!;
      const params = (flags as string).split("").map((_, i) => randn64([c], 100 + 10 * k + i));
      return {
        label: label as string,
        inputs: [
          randn64(shape as number[], k, 2, 0.5),
          randn64([c], 50 + k, 0.5),
          uniform64([c], 0.5, 1.5, 70 + k),
          ...params,
        ],
        args: [training, momentum, eps, flags],
        gradSkip: [1, 2],
      };
    }),
    differentiable: true,
    ref: ([x, rm, rv, ...p], [training, , eps, flags]) => {
      const [, w, b] = affine([x!, ...p], flags as string);
      const n = x!.shape[0]!,
        c = x!.shape[1]!,
        hw = prod(x!.shape.slice(2));
      const v = arr(x!),
        y = new Array<number>(v.length);
      for (let ch = 0; ch < c; ch++) {
        const idx: number[] = [];
        for (let s = 0; s < n; s++) for (let i = 0; i < hw; i++) idx.push((s * c + ch) * hw + i);
        const vals = idx.map((i) => v[i]!);
        const mu = training ? sumOf(vals) / vals.length : rm!.storage[ch]!;
        const va = training ? sumOf(vals.map((a) => (a - mu) ** 2)) / vals.length : rv!.storage[ch]!;
        idx.forEach((i) => (y[i] = (v[i]! - mu) / Math.sqrt(va + (eps as number))));
      }
      return applyAffine(y, w, b, (i) => Math.floor(i / hw) % c);
    },
    tol: FUSED_TOL,
    errors: [
      {
        label: "one value per channel in training",
        call: () => F.batchNorm(wnn.zeros([1, 3]), wnn.zeros([3]), wnn.ones([3]), null, null, true),
        error: ArgumentError,
        message: [/batchNorm/, /more than 1 value/, /\(1,3\)/],
      },
      {
        label: "running stats shape",
        call: () => F.batchNorm(wnn.zeros([2, 3]), wnn.zeros([4]), wnn.ones([3])),
        error: ShapeError,
        message: [/batchNorm/, /runningMean/, /\(4\)/, /\(2,3\)/],
      },
      {
        label: "eval without running stats",
        call: () => F.batchNorm(wnn.zeros([2, 3]), null, null),
        error: ArgumentError,
        message: [/batchNorm/, /runningMean/, /\(2,3\)/],
      },
    ],
  },
  {
    name: "dropout",
    fn: F.dropout,
    // args [p, seed, training]: a fresh generator per call, so the op and every gradcheck probe see the same mask
    call: ([x], [p, seed, training]) =>
      F.dropout(x!, p as number, (training as boolean | undefined) ?? true, {
        generator: new Generator(seed as number),
      }),
    samples: [
      { label: "(4,5) p 0.5", inputs: [randn64([4, 5], 1)], args: [0.5, 1] },
      { label: "(17) p 0.2", inputs: [randn64([17], 2)], args: [0.2, 2] },
      { label: "(2,3,4) p 0.7", inputs: [randn64([2, 3, 4], 3)], args: [0.7, 3] },
      { label: "(8) p 0 (identity)", inputs: [randn64([8], 4)], args: [0, 4] },
      { label: "(8) p 1 (all zeros)", inputs: [randn64([8], 5)], args: [1, 5] },
      { label: "(3,3) eval (identity)", inputs: [randn64([3, 3], 6)], args: [0.5, 6, false] },
      { label: "0-d p 0.5", inputs: [randn64([], 7)], args: [0.5, 7] },
      { label: "(33) p 0.1", inputs: [randn64([33], 8)], args: [0.1, 8] },
      { label: "empty (0,3)", inputs: [randn64([0, 3], 9)], args: [0.5, 9] },
      { label: "extremes", inputs: [values64(EXTREMES)], args: [0.5, 10], grad: false },
    ],
    differentiable: true,
    ref: ([x], [p, seed, training]) => {
      if (training === false) return arr(x!);
      // keep when u ≥ p (u uniform from the same seeded stream), scaled by 1/(1 − p)
      const g = new Generator(seed as number),
        q = p as number;
      return arr(x!).map((v) => v * (g.random() < q ? 0 : 1 / (1 - q)));
    },
    tol: FUSED_TOL,
    errors: [
      {
        label: "p out of range",
        call: () => F.dropout(wnn.zeros([2, 3]), 1.5),
        error: ArgumentError,
        message: [/dropout/, /1\.5/, /\(2,3\)/],
      },
      {
        label: "int32 input",
        call: () => F.dropout(int32([1, 2])),
        error: DTypeError,
        message: [/dropout/, /int32/, /\(2\)/],
      },
    ],
  },
  {
    name: "linear",
    fn: F.linear,
    samples: [
      { label: "(3,4) x (5,4)ᵀ + b", inputs: [randn64([3, 4], 1), randn64([5, 4], 2), randn64([5], 3)] },
      { label: "(2,3,4) leading dims + b", inputs: [randn64([2, 3, 4], 4), randn64([2, 4], 5), randn64([2], 6)] },
      { label: "(4) 1-D input, no bias", inputs: [randn64([4], 7), randn64([3, 4], 8)] },
      { label: "(5,7) x (3,7)ᵀ no bias", inputs: [randn64([5, 7], 9), randn64([3, 7], 10)] },
      { label: "(1,1) x (1,1)ᵀ + b", inputs: [randn64([1, 1], 11), randn64([1, 1], 12), randn64([1], 13)] },
      { label: "(2,2,2,3) x (4,3)ᵀ + b", inputs: [randn64([2, 2, 2, 3], 14), randn64([4, 3], 15), randn64([4], 16)] },
      { label: "(2,17) x (3,17)ᵀ + b", inputs: [randn64([2, 17], 17), randn64([3, 17], 18), randn64([3], 19)] },
      { label: "(3,5) x (16,5)ᵀ + b", inputs: [randn64([3, 5], 20), randn64([16, 5], 21), randn64([16], 22)] },
      { label: "empty rows (0,3)", inputs: [randn64([0, 3], 23), randn64([2, 3], 24), randn64([2], 25)] },
      { label: "no input features (2,0) + b", inputs: [randn64([2, 0], 26), randn64([3, 0], 27), randn64([3], 28)] },
      { label: "(33,33) x (8,33)ᵀ", inputs: [randn64([33, 33], 29), randn64([8, 33], 30)], grad: false },
      { label: "extremes", inputs: [values64(EXTREMES.slice(0, 12), [4, 3]), randn64([2, 3], 31)], grad: false },
    ],
    differentiable: true,
    ref: ([x, w, b]) => {
      const [out, k] = w!.shape as [number, number];
      const rows = k === 0 ? prod(x!.shape.slice(0, -1)) : x!.numel() / k;
      const xv = arr(x!),
        wv = arr(w!),
        y: number[] = [];
      for (let r = 0; r < rows; r++) {
        for (let o = 0; o < out; o++) {
          let s = b ? b.storage[o]! : 0;
          for (let i = 0; i < k; i++) s += xv[r * k + i]! * wv[o * k + i]!;
          y.push(s);
        }
      }
      return y;
    },
    tol: FUSED_TOL,
    errors: [
      {
        label: "features differ",
        call: () => F.linear(wnn.zeros([4, 8]), wnn.zeros([3, 5])),
        error: ShapeError,
        message: [/linear/, /\(4,8\)/, /\(3,5\)/, /8/, /5/],
      },
      {
        label: "bias shape",
        call: () => F.linear(wnn.zeros([4, 5]), wnn.zeros([3, 5]), wnn.zeros([4])),
        error: ShapeError,
        message: [/linear/, /bias/, /\(4\)/, /\(3\)/],
      },
      {
        label: "dtype mismatch",
        call: () => F.linear(wnn.zeros([4, 5]), wnn.zeros([3, 5], { dtype: "float64" })),
        error: DTypeError,
        message: [/linear/, /float64/, /\(3,5\)/],
      },
    ],
  },
];
