// Op-table entries of the indexing family (see test/harness/optable.ts). The references are plain loops.
import * as wnn from "../../../src/index.js";
import { ArgumentError, DTypeError, ShapeError, type Tensor } from "../../../src/index.js";
import { EXTREMES, int32, randn64, values64, type OpInfo } from "../../harness/optable.js";
import { allIndices, at, mapRef, values, wrap } from "./refs.js";
import { EXACT } from "./shape.js";

const r = (shape: number[], seed: number): Tensor => randn64(shape, seed);
const ext = (shape = [EXTREMES.length]): Tensor => values64(EXTREMES, shape);
const I = (values: number[], shape = [values.length]): Tensor => int32(values, shape);

const gatherRef = (i: Tensor[], a: unknown[]): number[] => {
  const [x, index] = i as [Tensor, Tensor];
  const d = wrap(a[0] as number, Math.max(x.ndim, 1));
  return mapRef(x, index.shape, (o) => {
    const src = o.slice();
    if (x.ndim > 0) src[d] = at(index, o);
    return src;
  });
};

const scatterAddRef = (i: Tensor[], a: unknown[]): number[] => {
  const [x, index, src] = i as [Tensor, Tensor, Tensor];
  const d = wrap(a[0] as number, Math.max(x.ndim, 1));
  const out = values(x);
  const st = x.shape.map((_, k) => x.shape.slice(k + 1).reduce((p, q) => p * q, 1));
  for (const o of allIndices(index.shape)) {
    const dst = o.slice();
    if (x.ndim > 0) dst[d] = at(index, o);
    out[dst.reduce((p, v, k) => p + v * st[k]!, 0)]! += at(src, o);
  }
  return out;
};

const indexSelectRef = (i: Tensor[], a: unknown[]): number[] => {
  const [x, index] = i as [Tensor, Tensor];
  if (x.ndim === 0) return values(x);
  const d = wrap(a[0] as number, x.ndim),
    picks = values(index);
  const shape = x.shape.slice();
  shape[d] = picks.length;
  return mapRef(x, shape, (o) => o.map((v, k) => (k === d ? picks[v]! : v)));
};

const embeddingRef = (i: Tensor[]): number[] => {
  const [idx, w] = i as [Tensor, Tensor];
  return mapRef(w, [...idx.shape, w.shape[1]!], (o) => [at(idx, o.slice(0, -1)), o[o.length - 1]!]);
};

export const cases: OpInfo[] = [
  {
    name: "gather",
    fn: wnn.gather,
    call: (i, a) => wnn.gather(i[0]!, a[0] as number, i[1]!),
    samples: [
      { label: "(3,4) dim 1, index (3,2)", inputs: [r([3, 4], 1), I([0, 3, 2, 2, 1, 0], [3, 2])], args: [1] },
      { label: "(3,4) dim 0, index (2,4)", inputs: [r([3, 4], 2), I([2, 0, 1, 1, 0, 0, 2, 2], [2, 4])], args: [0] },
      { label: "(3,4) dim -1", inputs: [r([3, 4], 3), I([3, 3, 0], [3, 1])], args: [-1] },
      {
        label: "index smaller outside dim: (3,4) dim 1, index (2,3)",
        inputs: [r([3, 4], 4), I([1, 0, 3, 2, 2, 2], [2, 3])],
        args: [1],
      },
      { label: "0-d", inputs: [r([], 5), I([0], [])], args: [0] },
      { label: "empty index (3,0)", inputs: [r([3, 4], 6), I([], [3, 0])], args: [1] },
      {
        label: "(2,3,4) dim 1, index (2,5,4) with repeats",
        inputs: [
          r([2, 3, 4], 7),
          I(
            Array.from({ length: 40 }, (_, k) => (k * 7) % 3),
            [2, 5, 4],
          ),
        ],
        args: [1],
      },
      { label: "(5) dim 0, index (8) with repeats", inputs: [r([5], 8), I([4, 0, 0, 3, 1, 4, 2, 2])], args: [0] },
      { label: "empty input (0,3) dim 1", inputs: [r([0, 3], 9), I([], [0, 2])], args: [1] },
      { label: "extremes", inputs: [ext(), I([12, 0, 4, 2, 3])], args: [0], grad: false },
    ],
    differentiable: true,
    ref: gatherRef,
    tol: EXACT,
    errors: [
      {
        label: "index out of range",
        call: () => wnn.gather(wnn.zeros([3, 4]), 1, I([4], [1, 1])),
        error: ArgumentError,
        message: [/gather/, /index 4/, /size 4/, /\(3,4\)/],
      },
      {
        label: "negative index",
        call: () => wnn.gather(wnn.zeros([3, 4]), 0, I([-1], [1, 1])),
        error: ArgumentError,
        message: [/gather/, /index -1/, /size 3/],
      },
      {
        label: "float index",
        call: () => wnn.gather(wnn.zeros([3]), 0, wnn.zeros([2])),
        error: DTypeError,
        message: [/gather/, /int32/, /float32/, /\(2\)/],
      },
      {
        label: "dims differ",
        call: () => wnn.gather(wnn.zeros([3, 4]), 1, I([0])),
        error: ShapeError,
        message: [/gather/, /\(1\)/, /\(3,4\)/],
      },
      {
        label: "index larger outside dim",
        call: () => wnn.gather(wnn.zeros([3, 4]), 1, I([0, 0, 0, 0], [4, 1])),
        error: ShapeError,
        message: [/gather/, /\(4,1\)/, /\(3,4\)/],
      },
    ],
  },
  {
    name: "scatterAdd",
    fn: wnn.scatterAdd,
    call: (i, a) => wnn.scatterAdd(i[0]!, a[0] as number, i[1]!, i[2]!),
    samples: [
      {
        label: "(3,4) dim 1, index (3,2)",
        inputs: [r([3, 4], 1), I([0, 3, 2, 2, 1, 0], [3, 2]), r([3, 2], 2)],
        args: [1],
      },
      {
        label: "(3,4) dim 0, index (2,4)",
        inputs: [r([3, 4], 3), I([2, 0, 1, 1, 0, 0, 2, 2], [2, 4]), r([2, 4], 4)],
        args: [0],
      },
      {
        label: "(3,4) dim -1, src larger than index",
        inputs: [r([3, 4], 5), I([3, 3, 0], [3, 1]), r([3, 3], 6)],
        args: [-1],
      },
      {
        label: "index smaller outside dim",
        inputs: [r([3, 4], 7), I([1, 0, 3, 2, 2, 2], [2, 3]), r([2, 3], 8)],
        args: [1],
      },
      { label: "0-d", inputs: [r([], 9), I([0], []), r([], 10)], args: [0] },
      { label: "empty index (3,0)", inputs: [r([3, 4], 11), I([], [3, 0]), r([3, 0], 12)], args: [1] },
      { label: "(5) dim 0, repeats", inputs: [r([5], 13), I([4, 0, 0, 3, 1, 4, 2, 2]), r([8], 14)], args: [0] },
      {
        label: "(2,3,4) dim 1, index (2,5,4)",
        inputs: [
          r([2, 3, 4], 15),
          I(
            Array.from({ length: 40 }, (_, k) => (k * 5) % 3),
            [2, 5, 4],
          ),
          r([2, 5, 4], 16),
        ],
        args: [1],
      },
      { label: "empty input (0,3)", inputs: [r([0, 3], 17), I([], [0, 2]), r([0, 2], 18)], args: [1] },
      { label: "extremes", inputs: [ext(), I([12, 0, 4, 2, 3]), values64([1, -1, 2, 0, 3])], args: [0], grad: false },
    ],
    differentiable: true,
    ref: scatterAddRef,
    errors: [
      {
        label: "index out of range",
        call: () => wnn.scatterAdd(wnn.zeros([3]), 0, I([3]), wnn.ones([1])),
        error: ArgumentError,
        message: [/scatterAdd/, /index 3/, /size 3/, /\(3\)/],
      },
      {
        label: "dtypes differ",
        call: () => wnn.scatterAdd(wnn.zeros([3]), 0, I([0]), I([1])),
        error: DTypeError,
        message: [/scatterAdd/, /int32/, /float32/],
      },
      {
        label: "index larger than src",
        call: () => wnn.scatterAdd(wnn.zeros([3]), 0, I([0, 1]), wnn.ones([1])),
        error: ShapeError,
        message: [/scatterAdd/, /\(2\)/, /\(1\)/],
      },
    ],
  },
  {
    name: "indexSelect",
    fn: wnn.indexSelect,
    call: (i, a) => wnn.indexSelect(i[0]!, a[0] as number, i[1]!),
    samples: [
      { label: "(4,3) dim 0, [2,0,2]", inputs: [r([4, 3], 1), I([2, 0, 2])], args: [0] },
      { label: "(4,3) dim 1, [1,1]", inputs: [r([4, 3], 2), I([1, 1])], args: [1] },
      { label: "(4,3) dim -1, [2,0,1,0]", inputs: [r([4, 3], 3), I([2, 0, 1, 0])], args: [-1] },
      { label: "0-d input, 0-d index", inputs: [r([], 4), I([0], [])], args: [0] },
      { label: "(4,3) 0-d index", inputs: [r([4, 3], 5), I([3], [])], args: [0] },
      { label: "empty index", inputs: [r([4, 3], 6), I([])], args: [0] },
      { label: "empty input (0,3) dim 1", inputs: [r([0, 3], 7), I([2, 0])], args: [1] },
      { label: "(2,3,4) dim 1, [2,2,1,0]", inputs: [r([2, 3, 4], 8), I([2, 2, 1, 0])], args: [1] },
      { label: "(17) dim 0", inputs: [r([17], 9), I([16, 0, 5, 5, 9])], args: [0] },
      { label: "extremes", inputs: [ext(), I([12, 11, 4, 3, 2])], args: [0], grad: false },
    ],
    differentiable: true,
    ref: indexSelectRef,
    tol: EXACT,
    errors: [
      {
        label: "index out of range",
        call: () => wnn.indexSelect(wnn.zeros([4, 3]), 1, I([0, 3])),
        error: ArgumentError,
        message: [/indexSelect/, /index 3/, /size 3/, /\(4,3\)/],
      },
      {
        label: "2-D index",
        call: () => wnn.indexSelect(wnn.zeros([4, 3]), 0, I([0, 1], [1, 2])),
        error: ShapeError,
        message: [/indexSelect/, /\(1,2\)/, /\(4,3\)/],
      },
      {
        label: "float index",
        call: () => wnn.indexSelect(wnn.zeros([4]), 0, wnn.zeros([1])),
        error: DTypeError,
        message: [/indexSelect/, /int32/, /\(1\)/],
      },
    ],
  },
  {
    name: "embedding",
    fn: wnn.embedding,
    call: (i, a) => wnn.embedding(i[0]!, i[1]!, a[0] as wnn.EmbeddingOptions | undefined),
    samples: [
      { label: "(3) into (5,2)", inputs: [I([4, 0, 2]), r([5, 2], 1)] },
      { label: "(2,3) into (4,3)", inputs: [I([0, 1, 2, 3, 3, 0], [2, 3]), r([4, 3], 2)] },
      { label: "0-d index", inputs: [I([1], []), r([3, 2], 3)] },
      { label: "empty (0)", inputs: [I([]), r([3, 2], 4)] },
      { label: "empty (2,0)", inputs: [I([], [2, 0]), r([3, 2], 5)] },
      // the padding row's gradient is zero by definition, not the derivative: no gradcheck (see the fixtures)
      { label: "paddingIdx 1", inputs: [I([1, 0, 1, 2]), r([3, 2], 6)], args: [{ paddingIdx: 1 }], grad: false },
      { label: "paddingIdx -1", inputs: [I([2, 0, 1, 2]), r([3, 2], 7)], args: [{ paddingIdx: -1 }], grad: false },
      { label: "(3) into (2,4)", inputs: [I([1, 1, 0]), r([2, 4], 10)] },
      { label: "(6) into (3,3) with repeats", inputs: [I([2, 2, 2, 0, 1, 2]), r([3, 3], 11)] },
      { label: "(4,1,2) into (7,3)", inputs: [I([6, 0, 3, 3, 1, 5, 2, 6], [4, 1, 2]), r([7, 3], 8)] },
      { label: "(5) into (17,1)", inputs: [I([16, 0, 8, 8, 1]), r([17, 1], 9)] },
      { label: "extremes", inputs: [I([0, 3, 12, 5]), ext([13, 1])], grad: false },
    ],
    differentiable: true,
    ref: embeddingRef,
    tol: EXACT,
    errors: [
      {
        label: "index out of range",
        call: () => wnn.embedding(I([0, 5]), wnn.zeros([5, 2])),
        error: ArgumentError,
        message: [/embedding/, /index 5/, /size 5/, /\(5,2\)/],
      },
      {
        label: "1-D weight",
        call: () => wnn.embedding(I([0]), wnn.zeros([5])),
        error: ShapeError,
        message: [/embedding/, /\(5\)/],
      },
      {
        label: "float indices",
        call: () => wnn.embedding(wnn.zeros([2]), wnn.zeros([5, 2])),
        error: DTypeError,
        message: [/embedding/, /int32/, /\(2\)/],
      },
      {
        label: "paddingIdx out of range",
        call: () => wnn.embedding(I([0]), wnn.zeros([5, 2]), { paddingIdx: 5 }),
        error: ArgumentError,
        message: [/embedding/, /paddingIdx 5/],
      },
    ],
  },
  {
    name: "oneHot",
    fn: wnn.oneHot,
    samples: [
      { label: "[0,2,1] inferred", inputs: [I([0, 2, 1])] },
      { label: "numClasses 5", inputs: [I([0, 2, 1, 4])], args: [5] },
      { label: "(2,3)", inputs: [I([0, 1, 2, 2, 1, 0], [2, 3])], args: [3] },
      { label: "0-d", inputs: [I([2], [])], args: [4] },
      { label: "empty with numClasses", inputs: [I([], [0, 2])], args: [3] },
      { label: "(17)", inputs: [I(Array.from({ length: 17 }, (_, k) => (k * 5) % 7))] },
    ],
    differentiable: false,
    ref: (i, a) => {
      const idx = values(i[0]!),
        c = (a[0] as number | undefined) ?? Math.max(...idx) + 1;
      return idx.flatMap((v) => Array.from({ length: c }, (_, k) => (k === v ? 1 : 0)));
    },
    errors: [
      {
        label: "class out of range",
        call: () => wnn.oneHot(I([0, 3]), 3),
        error: ArgumentError,
        message: [/oneHot/, /index 3/, /size 3/, /\(2\)/],
      },
      {
        label: "negative class",
        call: () => wnn.oneHot(I([-1, 0])),
        error: ArgumentError,
        message: [/oneHot/, /index -1/],
      },
      {
        label: "float indices",
        call: () => wnn.oneHot(wnn.zeros([2])),
        error: DTypeError,
        message: [/oneHot/, /int32/, /\(2\)/],
      },
      {
        label: "empty without numClasses",
        call: () => wnn.oneHot(I([])),
        error: ArgumentError,
        message: [/oneHot/, /\(0\)/],
      },
    ],
  },
];
