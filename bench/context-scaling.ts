// W2 at longer contexts: the GPT-tiny training step (./w2.ts, the GPT module inside wnn.tidy) at context
// T = 64, 128, 256, 512 with the tokens per step constant (B·T = 1,536: B = 24, 12, 6, 3), beside PyTorch's
// same step (../shared/peers/torch_bench.py's model through ./torch_w2_context.py) in the same invocation.
// The matrix products per token are the same at every T; attention's grow with T, so time per token grows
// with T for both — what this measures is whether ours grows faster. Writes a picture (time per token
// against T, one line per implementation and thread count) with --png=FILE.
//
//   node dist/bench/context-scaling.js [--threads=1,2] [--warmup=5] [--runs=20] [--png=FILE] [--out=FILE.json]

import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import * as wnn from "../src/index-node.js";
import { deflateSync } from "node:zlib";
import { lineChartPng } from "../src/io/chart.js";
import { peersDir, torchMissing } from "./peers.js";
import { runW2 } from "./w2.js";

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    return m ? [m[1]!, m[2] ?? "true"] : [a, "true"];
  }),
);
const TOKENS = 1536;
const CONTEXTS = [64, 128, 256, 512];
const threadCounts = (args["threads"] ?? "1,2").split(",").map(Number);
const warmup = Number(args["warmup"] ?? 5),
  runs = Number(args["runs"] ?? 20);

interface Row {
  impl: string;
  threads: number;
  T: number;
  B: number;
  median_ms: number;
  us_per_token: number;
}
const rows: Row[] = [];
const log = (s: string): void => console.log(s);

for (const th of threadCounts) {
  wnn.setNumThreads(th);
  for (const T of CONTEXTS) {
    const B = TOKENS / T;
    const r = runW2(() => {}, { warmup, runs, blockSize: T, batch: B });
    rows.push({
      impl: "writtingNNs",
      threads: th,
      T,
      B,
      median_ms: r.median_ms,
      us_per_token: (r.median_ms * 1e3) / TOKENS,
    });
    log(
      `ours   ${th}t  T ${String(T).padStart(3)}  B ${String(B).padStart(2)}: ${r.median_ms.toFixed(1)} ms/step, ${((r.median_ms * 1e3) / TOKENS).toFixed(1)} µs/token`,
    );
  }
  const dir = peersDir(resolve("."));
  const why = torchMissing(dir);
  if (why) {
    log(`PyTorch skipped: ${why}`);
    continue;
  }
  const p = spawnSync(
    "/usr/bin/python3",
    [
      "bench/torch_w2_context.py",
      dir!,
      String(th),
      String(warmup),
      String(runs),
      ...CONTEXTS.map((T) => `${T}:${TOKENS / T}`),
    ],
    { encoding: "utf8", env: { ...process.env, OPENBLAS_NUM_THREADS: String(th), OMP_NUM_THREADS: String(th) } },
  );
  if (p.status !== 0) {
    log(`PyTorch failed: ${p.stderr.trim().split("\n").slice(-3).join(" | ")}`);
    continue;
  }
  for (const line of p.stdout.trim().split("\n")) {
    const r = JSON.parse(line) as { T: number; B: number; median_ms: number };
    rows.push({
      impl: "PyTorch",
      threads: th,
      T: r.T,
      B: r.B,
      median_ms: r.median_ms,
      us_per_token: (r.median_ms * 1e3) / TOKENS,
    });
    log(
      `torch  ${th}t  T ${String(r.T).padStart(3)}  B ${String(r.B).padStart(2)}: ${r.median_ms.toFixed(1)} ms/step, ${((r.median_ms * 1e3) / TOKENS).toFixed(1)} µs/token`,
    );
  }
}

// growth from T = 64 to T = 512, and the ratio at each T
for (const th of threadCounts) {
  const of = (impl: string, T: number): Row | undefined =>
    rows.find((r) => r.impl === impl && r.threads === th && r.T === T);
  for (const T of CONTEXTS) {
    const a = of("writtingNNs", T),
      b = of("PyTorch", T);
    if (a && b) log(`${th}t  T ${T}: ours / PyTorch ${(a.median_ms / b.median_ms).toFixed(2)}×`);
  }
  for (const impl of ["writtingNNs", "PyTorch"]) {
    const a = of(impl, 64),
      b = of(impl, 512);
    if (a && b) log(`${th}t  ${impl}: time per token ×${(b.median_ms / a.median_ms).toFixed(2)} from T 64 to 512`);
  }
}
if (args["out"])
  writeFileSync(args["out"], JSON.stringify({ date: new Date().toISOString(), tokens: TOKENS, rows }, null, 1));
if (args["png"]) {
  const series = [...new Set(rows.map((r) => `${r.impl} ${r.threads}t`))].map((name) => ({
    name,
    points: rows
      .filter((r) => `${r.impl} ${r.threads}t` === name)
      .map((r) => [r.T, r.us_per_token] as [number, number]),
  }));
  const chart = {
    series,
    title: "W2 training step: microseconds per token against context T (B x T = 1536)",
    xLabel: "context T",
    yLabel: "microseconds per token",
  };
  writeFileSync(args["png"], lineChartPng(chart, { deflate: (raw) => new Uint8Array(deflateSync(raw)) }));
  log(`wrote ${args["png"]}`);
}
