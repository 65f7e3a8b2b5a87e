// The product on GGML blocks (Q8_0, Q4_0 and the k-quants Q4_K, Q5_K, Q6_K), kernel by kernel on both
// backends: the reference kernel against dequantize-then-matmul in float64 (x rounded to Q8_0, or Q8_K for
// the k-quants, as the kernels see it), and the wasm kernel against the reference bit for bit (the inner sums
// are integers and the float32 steps are the same), on one thread and on the 2-thread pool with the
// threshold at 0: row tails (N not a multiple of 4), T = 1 (a decode step) and T > 1 (a prompt), raw
// random bytes as blocks (subnormal, infinite and NaN scales), and a weight rewritten in place. The file
// runs itself once more in a child process with WNN_RELAXED_SIMD=0, so that the plain-SIMD build (Q4_0
// without the relaxed dot product) is held to the same bits where the host can leave relaxed SIMD off.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { after, describe, test } from "node:test";
import { setBackend, setNumThreads } from "../../src/index-node.js";
import type { KernelTable, QuantBlockType } from "../../src/backend/backend.js";
import { referenceKernels as ref } from "../../src/backend/reference/backend.js";
import { wasmBackend } from "../../src/backend/wasm/index.js";
import { wasm as wasmState } from "../../src/backend/wasm/instance.js";
import { setParallelMin } from "../../src/backend/wasm/thresholds.js";
import { ArgumentError } from "../../src/engine/errors.js";
import { getBackend } from "../../src/ops/kernels.js";
import { qmatmulBlocks, quantizeActivations, quantizeActivationsK } from "../../src/ops/qmatmul.js";
import { dequantize, quantize } from "../../src/io/ggml/quants.js";

const wasm = wasmBackend.kernels as KernelTable;
const TYPES: QuantBlockType[] = ["Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"];
const BYTES = { Q8_0: 34, Q4_0: 18, Q4_K: 144, Q5_K: 176, Q6_K: 210 };
const isK = (type: QuantBlockType): boolean => type.endsWith("_K");
/** (T, N, K): N not a multiple of 4, K of one block and many */
const SHAPES: [number, number, number][] = [
  [1, 1, 32],
  [1, 3, 64],
  [1, 4, 96],
  [2, 5, 96],
  [3, 7, 128],
  [1, 33, 768],
  [5, 18, 256],
  [1, 130, 512],
];
/** the same for the k-quants' blocks of 256 */
const SHAPES_K: [number, number, number][] = [
  [1, 1, 256],
  [1, 3, 512],
  [2, 5, 256],
  [3, 7, 768],
  [1, 33, 1024],
];

function seeded(n: number, seed: number, scale = 1): Float32Array {
  let s = seed;
  return Float32Array.from(
    { length: n },
    () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), scale * (s / 2 ** 32 - 0.5)),
  );
}

function assertSame(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++)
    if (!Object.is(got[i], want[i])) assert.fail(`${what}[${i}]: wasm ${got[i]}, reference ${want[i]}`);
}

/** x rounded to Q8_0 (Q8_K) blocks and W dequantized, multiplied in float64: y and Σ|terms| per output. */
function dequantizedProduct(
  type: QuantBlockType,
  x: Float32Array,
  W: Uint8Array,
  T: number,
  N: number,
  K: number,
): { y: Float64Array; scale: Float64Array } {
  const a8 = quantizeActivations(x, false),
    aK = quantizeActivationsK(x);
  const xs = isK(type)
    ? Float64Array.from(aK.q, (q, i) => q * aK.d[i >> 8]!)
    : Float64Array.from(a8.q, (q, i) => q * a8.d[i >> 5]!);
  const wd = dequantize(type, W, N * K);
  const y = new Float64Array(T * N),
    scale = new Float64Array(T * N);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < N; j++) {
      for (let k = 0; k < K; k++) {
        const v = xs[t * K + k]! * wd[j * K + k]!;
        y[t * N + j]! += v;
        scale[t * N + j]! += Math.abs(v);
      }
    }
  }
  return { y, scale };
}

function suite(threads: number): void {
  describe(`qmatmul on GGML blocks, ${threads} thread(s)`, () => {
    test("pool setting", () => {
      setNumThreads(threads);
      setParallelMin(threads > 1 ? { matmulMacs: 0 } : null);
    });

    test("reference = dequantize-then-matmul (float64); wasm = reference, bit for bit", () => {
      for (const type of TYPES) {
        for (const [T, N, K] of isK(type) ? SHAPES_K : SHAPES) {
          const W = quantize(type, seeded(N * K, 7 * N + K, 0.2));
          const x = seeded(T * K, 3 * T + K, 4);
          const want = new Float32Array(T * N),
            got = new Float32Array(T * N);
          ref.qmatmul(x, W, want, { type, t: T, k: K, n: N });
          wasm.qmatmul(x, W, got, { type, t: T, k: K, n: N });
          const { y, scale } = dequantizedProduct(type, x, W, T, N, K);
          for (let i = 0; i < T * N; i++) {
            assert.ok(
              Math.abs(want[i]! - y[i]!) <= 1e-6 * scale[i]! + 1e-30,
              `${type} (${T}, ${N}, ${K}) [${i}]: ${want[i]} vs ${y[i]}`,
            );
          }
          assertSame(got, want, `${type} (${T}, ${N}, ${K})`);
        }
      }
    });

    test("raw random bytes as blocks (every half scale: subnormal, ±inf, NaN; int8 −128), zero rows of x", () => {
      for (const type of TYPES) {
        const T = 3,
          N = 9,
          K = isK(type) ? 512 : 160;
        let s = 12345 + BYTES[type];
        const W = Uint8Array.from(
          { length: N * (K / 32) * BYTES[type] },
          () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24,
        );
        const x = seeded(T * K, 99);
        x.fill(0, K, 2 * K); // row 1 all zeros: d_x = 0, q_x = 0
        if (isK(type)) x.fill(0, 2 * K + 256, 3 * K); // a zero block of 256 in row 2: Q8_K's d_x = 0
        x[5] = 1e-40; // a subnormal activation
        const want = new Float32Array(T * N),
          got = new Float32Array(T * N);
        ref.qmatmul(x, W, want, { type, t: T, k: K, n: N });
        wasm.qmatmul(x, W, got, { type, t: T, k: K, n: N });
        assertSame(got, want, `${type} raw bytes`);
      }
    });

    test("a weight rewritten in place is read anew (the kept copy in wasm memory follows it)", () => {
      for (const type of ["Q8_0", "Q4_0", "Q6_K"] as const) {
        const T = 1,
          N = 8,
          K = 256;
        const W = quantize(type, seeded(N * K, 5));
        const x = seeded(K, 6);
        const first = new Float32Array(N),
          again = new Float32Array(N),
          want = new Float32Array(N);
        wasm.qmatmul(x, W, first, { type, t: T, k: K, n: N });
        W.set(quantize(type, seeded(N * K, 77)));
        wasm.qmatmul(x, W, again, { type, t: T, k: K, n: N });
        ref.qmatmul(x, W, want, { type, t: T, k: K, n: N });
        assertSame(again, want, `${type} rewritten weight`);
        assert.notDeepEqual([...first], [...again]);
      }
    });
  });
}

suite(1);
suite(2);

describe("qmatmulBlocks (the op) on both backends", () => {
  const before = getBackend();
  after(() => {
    setBackend(before);
    setNumThreads(1);
    setParallelMin(null);
  });
  test("the same values through either backend; bad shapes and types rejected with ArgumentError", () => {
    const T = 2,
      N = 6,
      K = 96;
    const W = quantize("Q4_0", seeded(N * K, 1)),
      x = seeded(T * K, 2);
    setBackend("reference");
    const yr = qmatmulBlocks(x, T, K, W, "Q4_0", N);
    setBackend("wasm");
    const yw = qmatmulBlocks(x, T, K, W, "Q4_0", N);
    assertSame(yw, yr, "op");
    assert.throws(() => qmatmulBlocks(x, T, K, W, "Q8_0", N), ArgumentError); // Q8_0 takes 34 bytes a block
    assert.throws(() => qmatmulBlocks(x, T, 48, W, "Q4_0", N), ArgumentError); // rows of 48 are not whole blocks
    assert.throws(() => qmatmulBlocks(x.subarray(1), T, K, W, "Q4_0", N), ArgumentError);
    assert.throws(() => qmatmulBlocks(x, T, K, W, "Q5_0" as QuantBlockType, N), ArgumentError);
    assert.throws(() => qmatmulBlocks(x, T, K, W, "Q4_K", N), ArgumentError); // rows of 96 are not blocks of 256
  });
});

if (process.env["WNN_QMATMUL_CHILD"] === undefined) {
  test("the same tests on the plain-SIMD build (a child process with WNN_RELAXED_SIMD=0)", () => {
    const env: Record<string, string | undefined> = { ...process.env, WNN_RELAXED_SIMD: "0", WNN_QMATMUL_CHILD: "1" };
    delete env["NODE_TEST_CONTEXT"]; // a test runner of its own, not a child of ours
    const r = spawnSync(process.execPath, ["--test-reporter=tap", fileURLToPath(import.meta.url)], {
      env,
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /# pass [1-9]/);
    assert.match(r.stdout, /# fail 0/);
  });
} else {
  test(`child: relaxed SIMD ${wasmState().relaxed ? "on (this host cannot turn it off)" : "off"}`, () => {
    // Node 20 ships relaxed SIMD behind a flag, which WNN_RELAXED_SIMD=0 leaves off
    if (process.version.startsWith("v20.")) assert.equal(wasmState().relaxed, false);
  });
}
