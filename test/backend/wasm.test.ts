// Backend parity: the wasm matmul against the reference kernel (the spec), on one thread and on the
// worker pool, over SIMD tails, transposes, batch strides and broadcasts, k = 0 and empty outputs.
// Tolerance: float32 accumulation of k products, |Δ| ≤ 2·k·2⁻²⁴·Σ_p |a_ip·b_pj| (+ a tiny floor).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, describe, test } from "node:test";
import { getBackend, getNumThreads, setBackend, setNumThreads } from "../../src/index-node.js";
import type { FloatArr, MatmulParams } from "../../src/backend/backend.js";
import { matmul as reference } from "../../src/backend/reference/matmul.js";
import { reduce as referenceReduce } from "../../src/backend/reference/reduce.js";
import { matmul as wasmMatmul, setParallelThreshold } from "../../src/backend/wasm/matmul.js";
import { clearWeightCache, weightCacheBytes } from "../../src/backend/wasm/weights.js";
import * as wnn from "../../src/index-node.js";
import { kernels } from "../../src/ops/kernels.js";
import { relaxedSimdSupported, wasm } from "../../src/backend/wasm/instance.js";
import { ArgumentError } from "../../src/engine/errors.js";
import { Generator } from "../../src/engine/rng.js";

const TAILS = [1, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33];
const EPS32 = 2 ** -24;
const gen = new Generator(1234);

function randn(n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = gen.random() * 2 - 1;
  return x;
}

const refSum = (x: Float32Array, out: Float32Array, o: number, r: number, i: number): void =>
  referenceReduce.sum(x, out, o, r, i);

interface Case extends MatmulParams {
  accumulate?: boolean;
}

function params(m: number, k: number, n: number, o: Partial<MatmulParams> = {}): MatmulParams {
  const batch = o.batch ?? 1;
  return {
    batch,
    m,
    n,
    k,
    transA: false,
    transB: false,
    strideA: batch > 1 ? m * k : 0,
    strideB: batch > 1 ? k * n : 0,
    ...o,
  };
}

/** Elements of the operand arrays a call reads (batch strides may leave gaps or broadcast). */
const lenA = (p: MatmulParams): number => (p.strideA === 0 ? 1 : p.batch) * Math.max(p.strideA, p.m * p.k) || p.m * p.k;
const lenB = (p: MatmulParams): number => (p.strideB === 0 ? 1 : p.batch) * Math.max(p.strideB, p.k * p.n) || p.k * p.n;

/** Runs the wasm kernel and the reference on the same random operands and compares within the float32 bound. */
function check(p: Case): void {
  const a = randn(lenA(p)),
    b = randn(lenB(p));
  const size = p.batch * p.m * p.n;
  const init = randn(size);
  const got = init.slice(),
    want = new Float64Array(init);
  wasmMatmul.matmul(a, b, got, p, p.accumulate);
  reference.matmul(Float64Array.from(a), Float64Array.from(b), want, p, p.accumulate);
  const absProd = new Float64Array(size);
  reference.matmul(Float64Array.from(a, Math.abs), Float64Array.from(b, Math.abs), absProd, p);
  for (let i = 0; i < size; i++) {
    const bound = 2 * (p.k + 1) * EPS32 * (absProd[i]! + (p.accumulate ? Math.abs(init[i]!) : 0)) + 1e-30;
    if (!(Math.abs(got[i]! - want[i]!) <= bound)) {
      assert.fail(`matmul ${JSON.stringify(p)}: out[${i}] = ${got[i]}, reference ${want[i]} (bound ${bound})`);
    }
  }
}

function suite(threads: number): void {
  describe(`wasm matmul, ${threads} thread(s)`, () => {
    test("pool setting", () => {
      setNumThreads(threads);
      setParallelThreshold(threads > 1 ? 0 : Infinity); // with the pool, even tiny products are dispatched
      assert.equal(getNumThreads(), threads);
    });
    test("SIMD tails in m, n and k, all four transposes", () => {
      for (const t of TAILS) {
        for (const [m, k, n] of [
          [t, t, t],
          [t, 33, 5],
          [5, t, 33],
          [33, 5, t],
        ] as const) {
          for (const transA of [false, true])
            for (const transB of [false, true]) check(params(m, k, n, { transA, transB }));
        }
      }
    });
    test("several cache blocks: k > KC, m > MC, n over many panels", () => {
      check(params(130, 300, 70));
      check(params(67, 513, 45, { transA: true }));
      check(params(9, 260, 301, { transB: true }));
    });
    test("batched, with A or B broadcast and with gaps between batch matrices", () => {
      for (const [transA, transB] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ] as const) {
        check(params(7, 9, 17, { batch: 3, transA, transB }));
        check(params(7, 9, 17, { batch: 3, transA, transB, strideA: 0 }));
        check(params(7, 9, 17, { batch: 3, transA, transB, strideB: 0 }));
        check(params(5, 4, 33, { batch: 4, transA, transB, strideA: 5 * 4 + 3, strideB: 4 * 33 + 1 }));
      }
      check(params(64, 32, 64, { batch: 12, transB: true })); // attention-like q·kᵀ
    });
    test("up to four rows (the unpacked gemv path): both layouts of B, accumulate, many columns", () => {
      for (const m of [1, 2, 3, 4]) {
        for (const [k, n] of [
          [1, 1],
          [5, 17],
          [33, 100],
          [768, 300],
        ] as const) {
          for (const transA of [false, true]) {
            for (const transB of [false, true]) {
              check(params(m, k, n, { transA, transB }));
              check({ ...params(m, k, n, { transA, transB }), accumulate: true });
            }
          }
        }
      }
    });
    test("bias row and row sums of op(A) (Linear's forward and bias gradient): as the reference, bit for bit", () => {
      // (m, k, n, transA): the gemm path, the gemv path (m ≤ 4), k = 0 and an empty n
      for (const [m, k, n, transA] of [
        [37, 19, 33, true],
        [768, 128, 65, false],
        [64, 300, 17, true],
        [3, 40, 9, false],
        [2, 5, 7, true],
        [5, 0, 6, false],
        [6, 4, 0, true],
      ] as [number, number, number, boolean][]) {
        for (const accumulate of [false, true]) {
          const p: MatmulParams = { ...params(m, k, n), transA, bias: randn(n), rowSumsA: new Float32Array(m) };
          const a = randn(m * k),
            b = randn(k * n),
            init = randn(m * n);
          const got = init.slice(),
            want = init.slice(),
            sumsWant = new Float32Array(m);
          wasmMatmul.matmul(a, b, got, p, accumulate);
          // the reference: the same product through the wasm kernel (its own accuracy is checked above), then the bias row
          const plain = init.slice();
          wasmMatmul.matmul(a, b, plain, { ...p, bias: undefined, rowSumsA: undefined }, accumulate);
          for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) want[i * n + j] = plain[i * n + j]! + p.bias![j]!;
          // the row sums of op(A) through the reference's sum kernel on A as stored
          if (transA) refSum(a, sumsWant, 1, k, m);
          else refSum(a, sumsWant, m, k, 1);
          assert.deepEqual(got, want, `bias (m ${m}, k ${k}, n ${n}, transA ${transA}, accumulate ${accumulate})`);
          assert.deepEqual(p.rowSumsA, sumsWant, `row sums (m ${m}, k ${k}, n ${n}, transA ${transA})`);
          const gotRef = init.slice(),
            sumsRef = new Float32Array(m);
          reference.matmul(a, b, gotRef, { ...p, rowSumsA: sumsRef }, accumulate);
          assert.deepEqual(sumsRef, sumsWant, `reference row sums (m ${m}, k ${k}, n ${n}, transA ${transA})`);
        }
      }
    });

    test("accumulate adds into out", () => {
      check({ ...params(17, 31, 9), accumulate: true });
      check({ ...params(33, 300, 16, { batch: 2, transA: true }), accumulate: true });
    });
    test("k = 0 gives zeros (or leaves out unchanged when accumulating); m or n = 0 is a no-op", () => {
      const out = new Float32Array([1, 2, 3, 4, 5, 6]);
      wasmMatmul.matmul(new Float32Array(0), new Float32Array(0), out, params(2, 0, 3), true);
      assert.deepEqual([...out], [1, 2, 3, 4, 5, 6]);
      wasmMatmul.matmul(new Float32Array(0), new Float32Array(0), out, params(2, 0, 3));
      assert.deepEqual([...out], [0, 0, 0, 0, 0, 0]);
      const untouched = new Float32Array([7]);
      wasmMatmul.matmul(new Float32Array(0), randn(12), untouched, params(0, 4, 3));
      wasmMatmul.matmul(randn(12), new Float32Array(0), untouched, params(3, 4, 0));
      assert.deepEqual([...untouched], [7]);
    });
    test("inf and NaN propagate as in the reference", () => {
      const a = randn(5 * 6),
        b = randn(6 * 7);
      a[3] = Infinity;
      a[14] = NaN;
      b[8] = -Infinity;
      const p = params(5, 6, 7);
      const got = new Float32Array(35),
        want = new Float32Array(35);
      wasmMatmul.matmul(a, b, got, p);
      reference.matmul(a, b, want, p);
      for (let i = 0; i < 35; i++) {
        if (Number.isFinite(want[i]!))
          assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-4 * (1 + Math.abs(want[i]!)), `out[${i}]`);
        else assert.equal(got[i], want[i], `out[${i}]`);
      }
    });
  });
}

suite(1);
suite(2);

describe("weights kept in wasm memory (MatmulParams.constantB)", () => {
  const run = (a: Float32Array, b: Float32Array, p: MatmulParams): Float32Array => {
    const out = new Float32Array(p.m * p.n);
    wasmMatmul.matmul(a, b, out, p);
    return out;
  };
  const want = (a: Float32Array, b: Float32Array, p: MatmulParams): Float32Array => {
    const out = new Float32Array(p.m * p.n);
    reference.matmul(a, b, out, p);
    return out;
  };
  const close = (got: Float32Array, exp: Float32Array, what: string): void => {
    for (let i = 0; i < exp.length; i++)
      assert.ok(Math.abs(got[i]! - exp[i]!) <= 1e-4 * (1 + Math.abs(exp[i]!)), `${what}[${i}]: ${got[i]} vs ${exp[i]}`);
  };
  test("kept within a region, recopied when the weight changes or the region ends", () => {
    clearWeightCache();
    const k = 40,
      n = 30;
    const w = randn(n * k); // a Linear weight (out, in)
    for (const m of [1, 9]) {
      const p = { ...params(m, k, n, { transB: true }), constantB: 7 };
      const x = randn(m * k);
      close(run(x, w, p), want(x, w, p), `m=${m} first call`);
      const held = weightCacheBytes();
      assert.ok(held >= 4 * k * n, "the weight is kept");
      close(run(x, w, p), want(x, w, p), `m=${m} second call`);
      assert.equal(weightCacheBytes(), held, "the second call reuses the copy");
      // rewritten in place inside the region (as loadStateDict does): the sampled elements differ
      w.set(randn(n * k));
      close(run(x, w, p), want(x, w, p), `m=${m} after the weight changed`);
      assert.ok(weightCacheBytes() > held, "a new copy was made");
      // another region: everything is dropped and copied again
      const q = { ...p, constantB: 8 };
      close(run(x, w, q), want(x, w, q), `m=${m} next region`);
      assert.ok(weightCacheBytes() <= held, "the old copies were released");
    }
    clearWeightCache();
  });
  test("linear under noGrad keeps its weight; with gradients it does not", () => {
    const before = getBackend();
    setBackend("wasm");
    try {
      clearWeightCache();
      const w = wnn.randn([16, 24]).requiresGrad_(),
        x = wnn.randn([3, 24]);
      const yTrain = wnn.nn.functional.linear(x, w);
      assert.equal(weightCacheBytes(), 0);
      const yEval = wnn.noGrad(() => wnn.nn.functional.linear(x, w));
      assert.ok(weightCacheBytes() >= 4 * 16 * 24);
      close(yEval.storage as Float32Array, yTrain.storage as Float32Array, "linear");
    } finally {
      clearWeightCache();
      setBackend(before);
    }
  });
});

describe("wasm backend", () => {
  test("float64 runs the reference kernel (bit-identical)", () => {
    const p = params(9, 17, 5, { transB: true });
    const a = Float64Array.from(randn(9 * 17)),
      b = Float64Array.from(randn(17 * 5));
    const got = new Float64Array(45),
      want = new Float64Array(45);
    wasmMatmul.matmul(a, b, got as FloatArr, p);
    reference.matmul(a, b, want, p);
    assert.deepEqual(got, want);
  });
  test("the relaxed-SIMD (fused multiply-add) build runs exactly where the host validates relaxed SIMD", () => {
    assert.equal(wasm().relaxed, relaxedSimdSupported());
    assert.equal(wasm().shared, true); // Node has SharedArrayBuffer
  });
  test("setBackend('wasm') routes matmul to the wasm kernel; setNumThreads validates", () => {
    const before = getBackend();
    setBackend("wasm");
    assert.equal(kernels().matmul, wasmMatmul.matmul);
    setBackend("reference");
    assert.equal(kernels().matmul, reference.matmul);
    setBackend(before);
    assert.throws(() => setNumThreads(0), ArgumentError);
    assert.throws(() => setNumThreads(1.5), ArgumentError);
  });
});

test("without SharedArrayBuffer the backend runs single-threaded on a plain memory", () => {
  // A fresh process where SharedArrayBuffer does not exist (as in a browser without cross-origin isolation).
  const script = `
    delete globalThis.SharedArrayBuffer;
    const { setNumThreads } = await import("./src/index-node.js");
    const { wasm } = await import("./src/backend/wasm/instance.js");
    const { matmul } = await import("./src/backend/wasm/matmul.js");
    const { matmul: ref } = await import("./src/backend/reference/matmul.js");
    setNumThreads(2);
    const m = 70, k = 300, n = 90, p = { batch: 1, m, n, k, transA: false, transB: true, strideA: 0, strideB: 0 };
    const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i)), b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i));
    const got = new Float32Array(m * n), want = new Float32Array(m * n);
    matmul.matmul(a, b, got, p); ref.matmul(a, b, want, p);
    let err = 0; for (let i = 0; i < m * n; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
    console.log(JSON.stringify({ shared: wasm().memory.buffer instanceof ArrayBuffer ? false : true, err }));`;
  const dist = new URL("../../", import.meta.url); // dist/
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: dist, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const { shared, err } = JSON.parse(r.stdout) as { shared: boolean; err: number };
  assert.equal(shared, false);
  assert.ok(err < 1e-3, `max |wasm − reference| = ${err}`);
});

after(() => {
  setParallelThreshold(undefined);
  setNumThreads(1); // closes the workers
});
