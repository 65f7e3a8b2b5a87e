// Op-table entries of dtype conversion (src/ops/cast.ts).
import * as wnn from "../../../src/index.js";
import { DTypeError } from "../../../src/index.js";
import { EXTREMES, randn64, values64, type OpInfo } from "../../harness/optable.js";

export const cases: OpInfo[] = [
  {
    name: "to",
    fn: wnn.to,
    // float64 → float32 → float64 round trip, so that the float32 run and the float64 run are comparable
    call: ([x], [dtype]) => wnn.to(wnn.to(x!, dtype as wnn.DType), x!.dtype),
    samples: [
      { label: "0-d", inputs: [randn64([], 1)], args: ["float32"] },
      { label: "empty", inputs: [randn64([0, 2], 2)], args: ["float32"] },
      ...[1, 3, 4, 5, 7, 8].map((n) => ({
        label: `size ${n} via float32`,
        inputs: [randn64([n], n)],
        args: ["float32"],
      })),
      { label: "(2,3) via float64", inputs: [randn64([2, 3], 9)], args: ["float64"] },
      { label: "extremes via float32", inputs: [values64(EXTREMES)], args: ["float32"], grad: false },
      {
        label: "to int32 truncates toward zero",
        inputs: [values64([1.7, -1.7, 0.2, -0.2, 3])],
        args: ["int32"],
        grad: false,
      },
      { label: "to bool: non-zero is true", inputs: [values64([0, -0, 2, NaN, -1e-30])], args: ["bool"], grad: false },
    ],
    ref: ([x], [dtype]) =>
      Array.from(x!.storage, (v) =>
        dtype === "int32"
          ? Math.trunc(v)
          : dtype === "bool"
            ? v !== 0
              ? 1
              : 0
            : dtype === "float32"
              ? Math.fround(v)
              : v,
      ),
    differentiable: true,
    // the round trip is the identity up to float32 rounding (relative 6e-8): a large step keeps the
    // finite difference of a linear function exact while the rounding error stays below atol
    gradTol: { eps: 1e-2, atol: 1e-4 },
    errors: [
      {
        label: "unknown dtype",
        call: () => wnn.to(wnn.zeros([2]), "float16" as never),
        error: DTypeError,
        message: [/to/, /float16/],
      },
    ],
  },
];
