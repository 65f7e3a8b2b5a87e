// W1 — matmul GFLOP/s (../shared/peers/README.md): C = A @ B, A [m,k], B [k,n] ~ N(0,1), C freshly
// allocated on every call; 5 warm-up calls, then timed calls until ≥ 10 calls and ≥ 1 s (max 500);
// GFLOP/s = 2·m·n·k / median.

import * as wnn from "../src/index-node.js";
import { kernels } from "../src/ops/kernels.js";
import { copyStats, setMeasureCopies } from "../src/backend/wasm/matmul.js";
import type { Tensor } from "../src/index.js";
import { time, type Timing } from "./timing.js";

/** (m, k, n) */
export const W1_SHAPES: ReadonlyArray<readonly [number, number, number]> = [
  [128, 128, 128],
  [256, 256, 256],
  [512, 512, 512],
  [1024, 1024, 1024],
  [768, 128, 512],
  [768, 512, 128],
];

export interface W1Result extends Timing {
  m: number;
  k: number;
  n: number;
  gflops_at_median: number;
  /** mean ms per call spent copying operands into wasm memory and the result out */
  copy_ms: number;
}

type MatmulOp = (a: Tensor, b: Tensor) => Tensor;

/** What is timed: the public op when this build has it, else the active backend's kernel plus allocating C. */
export function w1Subject(): string {
  return typeof (wnn as Record<string, unknown>)["matmul"] === "function"
    ? "wnn.matmul(a, b)"
    : "kernels().matmul + new Float32Array(m·n)";
}

export function runW1(log: (line: string) => void): W1Result[] {
  const op = (wnn as Record<string, unknown>)["matmul"] as MatmulOp | undefined;
  const out: W1Result[] = [];
  wnn.manualSeed(0);
  for (const [m, k, n] of W1_SHAPES) {
    const a = wnn.randn([m, k]),
      b = wnn.randn([k, n]);
    const as = a.storage as Float32Array,
      bs = b.storage as Float32Array;
    const p = { batch: 1, m, n, k, transA: false, transB: false, strideA: 0, strideB: 0 };
    const call = op ? () => void op(a, b) : () => kernels().matmul(as, bs, new Float32Array(m * n), p);
    for (let i = 0; i < 5; i++) call();
    setMeasureCopies(true);
    copyStats.calls = 0;
    copyStats.copyMs = 0;
    const t = time(call, 0, 10, 1000, 500);
    setMeasureCopies(false);
    const copyMs = copyStats.calls ? copyStats.copyMs / copyStats.calls : 0;
    const r: W1Result = {
      ...t,
      m,
      k,
      n,
      gflops_at_median: (2 * m * n * k) / (t.median_ms * 1e-3) / 1e9,
      copy_ms: copyMs,
    };
    out.push(r);
    const best = (2 * m * n * k) / (t.min_ms * 1e-3) / 1e9;
    log(
      `  w1 ${m}x${k} @ ${k}x${n}: median ${t.median_ms.toFixed(3)} ms  ${r.gflops_at_median.toFixed(1)} GFLOP/s (runs=${t.runs}; best ${best.toFixed(1)} GFLOP/s; copies ${copyMs.toFixed(3)} ms = ${((100 * copyMs) / t.median_ms).toFixed(1)} % of the median)`,
    );
  }
  return out;
}
