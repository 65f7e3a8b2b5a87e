// Op-table entries of the elementwise family (see test/harness/optable.ts).
import * as wnn from "../../../src/index.js";
import { ArgumentError, DTypeError, ShapeError } from "../../../src/index.js";
import { EXTREMES, TAIL_SIZES, int32, randn64, values64, type OpInfo, type Sample } from "../../harness/optable.js";

/** Samples for a unary op: scalar, empty, SIMD tail sizes, a 3-D tensor, and the extreme values (no gradcheck). */
function unarySamples(make: (shape: number[], seed: number) => wnn.Tensor = (s, seed) => randn64(s, seed)): Sample[] {
  return [
    { label: "0-d scalar", inputs: [make([], 1)] },
    { label: "empty (0,3)", inputs: [make([0, 3], 2)] },
    ...TAIL_SIZES.map((n) => ({ label: `size ${n}`, inputs: [make([n], 10 + n)] })),
    { label: "(2,3,4)", inputs: [make([2, 3, 4], 3)] },
    { label: "extremes", inputs: [values64(EXTREMES)], grad: false },
  ];
}

const pointwiseRef = (f: (v: number) => number) => (inputs: wnn.Tensor[]) => Array.from(inputs[0]!.storage, f);

export const cases: OpInfo[] = [
  {
    name: "exp",
    fn: wnn.exp,
    samples: unarySamples(),
    differentiable: true,
    ref: pointwiseRef(Math.exp),
    errors: [
      { label: "int32 input", call: () => wnn.exp(int32([1, 2])), error: DTypeError, message: [/exp/, /int32/, /\(2\)/] },
    ],
  },
  {
    name: "add",
    fn: wnn.add,
    samples: [
      { label: "same shape (5)", inputs: [randn64([5], 1), randn64([5], 2)] },
      { label: "broadcast (3,1)+(4)", inputs: [randn64([3, 1], 3), randn64([4], 4)] },
      { label: "broadcast (2,1,4)+(3,1)", inputs: [randn64([2, 1, 4], 5), randn64([3, 1], 6)] },
      { label: "scalar + (7)", inputs: [randn64([], 7), randn64([7], 8)] },
      { label: "empty (0)+(1)", inputs: [randn64([0], 9), randn64([1], 10)] },
      { label: "(17)+(17)", inputs: [randn64([17], 11), randn64([17], 12)] },
      { label: "(33,2)+(1,2)", inputs: [randn64([33, 2], 13), randn64([1, 2], 14)] },
      { label: "tensor + number", inputs: [randn64([4], 15)], args: [2.5] },
      { label: "extremes", inputs: [values64(EXTREMES), values64(EXTREMES.slice().reverse())], grad: false },
    ],
    differentiable: true,
    errors: [
      { label: "shapes that do not broadcast", call: () => wnn.add(wnn.zeros([2, 3]), wnn.zeros([4])), error: ShapeError, message: [/add/, /\(2,3\)/, /\(4\)/] },
      { label: "a string", call: () => wnn.add(wnn.zeros([2]), "x" as never), error: ArgumentError, message: [/add/, /string/] },
    ],
  },
];
