// The matmul kernel's transpose flags, batch strides and accumulate mode against a naive triple loop,
// and the op's Tensor methods.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as wnn from "../../src/index.js";
import { referenceKernels } from "../../src/backend/reference/backend.js";
import { assertClose } from "../harness/assert.js";
import { randn64 } from "../harness/optable.js";

test("matmul kernel: every combination of transA, transB, batch strides and accumulate", () => {
  const batch = 3,
    m = 4,
    n = 5,
    k = 7;
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      for (const [strideA, strideB] of [
        [m * k, k * n],
        [0, k * n],
        [m * k, 0],
      ] as const) {
        for (const accumulate of [false, true]) {
          const a = randn64([batch * m * k], 1).storage as Float64Array;
          const b = randn64([batch * k * n], 2).storage as Float64Array;
          const start = randn64([batch * m * n], 3).storage as Float64Array;
          const out = start.slice();
          referenceKernels.matmul(a, b, out, { batch, m, n, k, transA, transB, strideA, strideB }, accumulate);
          const expected = new Float64Array(batch * m * n);
          for (let t = 0; t < batch; t++) {
            for (let i = 0; i < m; i++) {
              for (let j = 0; j < n; j++) {
                let s = accumulate ? start[t * m * n + i * n + j]! : 0;
                for (let p = 0; p < k; p++) {
                  const av = a[t * strideA + (transA ? p * m + i : i * k + p)]!;
                  const bv = b[t * strideB + (transB ? j * k + p : p * n + j)]!;
                  s += av * bv;
                }
                expected[t * m * n + i * n + j] = s;
              }
            }
          }
          assertClose(
            out,
            expected,
            { rtol: 1e-12, atol: 1e-12 },
            `transA=${transA} transB=${transB} strides=${strideA},${strideB} accumulate=${accumulate}`,
          );
        }
      }
    }
  }
});

test("Tensor methods matmul, mm, bmm; float64 stays float64", () => {
  const a = randn64([2, 3, 4], 4),
    b = randn64([2, 4, 5], 5);
  const y = wnn.matmul(a, b);
  assert.equal(y.dtype, "float64");
  assertClose(a.matmul(b), y, { rtol: 0, atol: 0 });
  assertClose(a.bmm(b), y, { rtol: 0, atol: 0 });
  const c = randn64([3, 4], 6),
    d = randn64([4, 2], 7);
  assertClose(c.mm(d), wnn.matmul(c, d), { rtol: 0, atol: 0 });
});
