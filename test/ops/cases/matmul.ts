// Op-table entries of the matmul family (see test/harness/optable.ts).
import * as wnn from "../../../src/index.js";
import { DTypeError, ShapeError, type Tensor } from "../../../src/index.js";
import { EXTREMES, FUSED_TOL, int32, randn64, values64, type OpInfo, type Sample } from "../../harness/optable.js";

/**
 * torch.matmul written out with plain loops: promote 1-D operands to a row / a column, broadcast the
 * batch dims (right-aligned, size 1 repeats), triple loop per batch matrix, drop the added dims.
 */
function refMatmul(inputs: Tensor[]): number[] {
  const [a, b] = inputs as [Tensor, Tensor];
  const as = a.ndim === 1 ? [1, a.shape[0]!] : [...a.shape];
  const bs = b.ndim === 1 ? [b.shape[0]!, 1] : [...b.shape];
  const m = as[as.length - 2]!,
    k = as[as.length - 1]!,
    n = bs[bs.length - 1]!;
  const ab = as.slice(0, -2),
    bb = bs.slice(0, -2);
  const nb = Math.max(ab.length, bb.length);
  const batch: number[] = [];
  for (let i = 0; i < nb; i++) {
    const da = ab[ab.length - nb + i] ?? 1,
      db = bb[bb.length - nb + i] ?? 1;
    batch.push(da === 1 ? db : da);
  }
  const total = batch.reduce((x, y) => x * y, 1);
  /** flat index of batch matrix t (of the broadcast batch) within an operand with batch dims `own` */
  const matrixOf = (t: number, own: number[]): number => {
    let idx = 0,
      mul = 1;
    for (let i = nb - 1; i >= 0; i--) {
      const coord = t % batch[i]!;
      t = Math.floor(t / batch[i]!);
      const j = i - (nb - own.length);
      if (j < 0) continue;
      idx += (own[j] === 1 ? 0 : coord) * mul;
      mul *= own[j]!;
    }
    return idx;
  };
  const out: number[] = [];
  for (let t = 0; t < total; t++) {
    const oa = matrixOf(t, ab) * m * k,
      ob = matrixOf(t, bb) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += Number(a.storage[oa + i * k + p]) * Number(b.storage[ob + p * n + j]);
        out.push(s);
      }
    }
  }
  return out;
}

const pair = (label: string, sa: number[], sb: number[], seed: number, extra: Partial<Sample> = {}): Sample => ({
  label: `${label} (${sa.join(",")})·(${sb.join(",")})`,
  inputs: [randn64(sa, seed), randn64(sb, seed + 100)],
  ...extra,
});

const matmulSamples: Sample[] = [
  pair("dot", [3], [3], 1),
  pair("dot, tail", [17], [17], 2),
  pair("vector·matrix", [4], [4, 5], 3),
  pair("matrix·vector", [5, 4], [4], 4),
  pair("matrix·matrix", [3, 4], [4, 5], 5),
  pair("matrix·matrix, tails", [7, 15], [15, 9], 6),
  pair("1×1", [1, 1], [1, 1], 7),
  pair("batched", [2, 3, 4], [2, 4, 5], 8),
  pair("broadcast batch", [2, 1, 3, 4], [5, 4, 2], 9),
  pair("one B for a batch of A (linear layer)", [2, 3, 4], [4, 5], 10),
  pair("one A for a batch of B", [3, 4], [2, 4, 5], 11),
  pair("batch of A · vector", [2, 3, 4], [4], 12),
  pair("vector · batch of B", [4], [2, 4, 5], 13),
  pair("batch 1 vs 3", [1, 2, 3], [3, 3, 2], 14),
  pair("empty inner dim", [3, 0], [0, 2], 15),
  pair("empty rows", [0, 3], [3, 2], 16),
  pair("empty batch", [0, 2, 3], [3, 2], 17),
  {
    label: "extremes",
    inputs: [values64(EXTREMES.slice(0, 12), [3, 4]), values64(EXTREMES.slice(1, 13), [4, 3])],
    grad: false,
  },
];

export const cases: OpInfo[] = [
  {
    name: "matmul",
    fn: wnn.matmul,
    samples: matmulSamples,
    differentiable: true,
    ref: refMatmul,
    tol: FUSED_TOL,
    errors: [
      {
        label: "inner dims differ",
        call: () => wnn.matmul(wnn.zeros([4, 8]), wnn.zeros([3, 2])),
        error: ShapeError,
        message: [/^matmul: cannot multiply \(4,8\) by \(3,2\): inner dimensions 8 and 3 differ$/],
      },
      {
        label: "batch dims do not broadcast",
        call: () => wnn.matmul(wnn.zeros([2, 3, 4]), wnn.zeros([3, 4, 5])),
        error: ShapeError,
        message: [/matmul/, /\(2,3,4\)/, /\(3,4,5\)/, /batch/],
      },
      {
        label: "0-d operand",
        call: () => wnn.matmul(wnn.zeros([]), wnn.zeros([3])),
        error: ShapeError,
        message: [/matmul/, /\(\)/, /\(3\)/],
      },
      {
        label: "integer operands",
        call: () => wnn.matmul(int32([1, 2]), int32([3, 4])),
        error: DTypeError,
        message: [/matmul/, /int32/, /\(2\)/],
      },
      {
        label: "mixed float dtypes",
        call: () => wnn.matmul(wnn.zeros([2, 2]), wnn.zeros([2, 2], { dtype: "float64" })),
        error: DTypeError,
        message: [/matmul/, /float32/, /float64/, /\(2,2\)/],
      },
    ],
  },
  {
    name: "mm",
    fn: wnn.mm,
    samples: [
      pair("", [3, 4], [4, 5], 21),
      pair("", [1, 1], [1, 1], 22),
      pair("", [1, 7], [7, 1], 23),
      pair("", [5, 1], [1, 4], 24),
      pair("tails", [8, 17], [17, 3], 25),
      pair("", [2, 16], [16, 2], 26),
      pair("", [4, 3], [3, 31], 27),
      pair("", [3, 5], [5, 3], 28),
      pair("empty", [0, 3], [3, 2], 29),
      pair("empty inner", [2, 0], [0, 2], 30),
    ],
    differentiable: true,
    ref: refMatmul,
    tol: FUSED_TOL,
    errors: [
      {
        label: "1-D operand",
        call: () => wnn.mm(wnn.zeros([3]), wnn.zeros([3, 2])),
        error: ShapeError,
        message: [/mm/, /\(3\)/, /\(3,2\)/],
      },
      {
        label: "inner dims differ",
        call: () => wnn.mm(wnn.zeros([4, 8]), wnn.zeros([3, 2])),
        error: ShapeError,
        message: [/^mm: cannot multiply \(4,8\) by \(3,2\): inner dimensions 8 and 3 differ$/],
      },
    ],
  },
  {
    name: "bmm",
    fn: wnn.bmm,
    samples: [
      pair("", [2, 3, 4], [2, 4, 5], 31),
      pair("", [1, 1, 1], [1, 1, 1], 32),
      pair("", [3, 1, 5], [3, 5, 1], 33),
      pair("", [1, 4, 2], [1, 2, 3], 34),
      pair("tails", [2, 5, 7], [2, 7, 3], 35),
      pair("", [4, 2, 2], [4, 2, 2], 36),
      pair("", [2, 3, 1], [2, 1, 3], 37),
      pair("", [2, 2, 8], [2, 8, 1], 38),
      pair("empty batch", [0, 2, 3], [0, 3, 2], 39),
      pair("empty inner", [2, 2, 0], [2, 0, 3], 40),
    ],
    differentiable: true,
    ref: refMatmul,
    tol: FUSED_TOL,
    errors: [
      {
        label: "batch sizes differ",
        call: () => wnn.bmm(wnn.zeros([2, 3, 4]), wnn.zeros([1, 4, 5])),
        error: ShapeError,
        message: [/bmm/, /\(2,3,4\)/, /\(1,4,5\)/, /batch sizes 2 and 1/],
      },
      {
        label: "2-D operand",
        call: () => wnn.bmm(wnn.zeros([3, 4]), wnn.zeros([2, 4, 5])),
        error: ShapeError,
        message: [/bmm/, /\(3,4\)/, /\(2,4,5\)/],
      },
    ],
  },
];
