// W2 at longer contexts: the GPT-tiny training step (./w2.ts, the GPT module inside wnn.tidy) at context
// T = 64, 128, 256, 512 with the tokens per step constant (B·T = 1,536: B = 24, 12, 6, 3), beside PyTorch's
// same step (../shared/peers/torch_bench.py's model through ./torch_w2_context.py) and TensorFlow.js's
// (../shared/peers/tfjs_bench.mjs, wasm, 1 thread, when the peers' npm set is installed) in the same invocation.
// The matrix products per token are the same at every T; attention's grow with T, so time per token grows
// with T for both — what this measures is whether ours grows faster. Writes a picture (time per token
// against T, one line per implementation and thread count) with --png=FILE.
//
//   node dist/bench/context-scaling.js [--threads=1,2] [--warmup=5] [--runs=20] [--tfjs-warmup=2] [--tfjs-runs=5]
//                                      [--no-tfjs] [--png=FILE] [--png-growth=FILE] [--out=FILE.json]

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
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

/**
 * TensorFlow.js's W2 (the peers' tfjs_bench.mjs, wasm backend, 1 thread) at context T and batch B: the script's
 * own step with its two constants, W2_CFG's block and W2_B, set to T and B in a copy beside a link to the peers'
 * node_modules (the peers folder may be read-only). → its median ms, or a reason it did not run.
 */
function tfjsW2(dir: string, T: number, B: number, warmupSteps: number, runSteps: number): number | string {
  const source = readFileSync(join(dir, "tfjs_bench.mjs"), "utf8");
  const cfg = /const W2_CFG = \{ vocab: 65, block: 64,/;
  const batch = /const W2_B = 12;/;
  if (!cfg.test(source) || !batch.test(source)) return "tfjs_bench.mjs's W2 constants are not the expected ones";
  const tmp = mkdtempSync(join(tmpdir(), "wnn-tfjs-context-"));
  try {
    symlinkSync(join(dir, "node_modules"), join(tmp, "node_modules"), "dir");
    const script = join(tmp, "tfjs_bench.mjs");
    writeFileSync(
      script,
      source.replace(cfg, `const W2_CFG = { vocab: 65, block: ${T},`).replace(batch, `const W2_B = ${B};`),
    );
    const out = join(tmp, "out.json");
    const p = spawnSync(
      process.execPath,
      [
        script,
        "--backend=wasm",
        "--workloads=w2",
        `--w2-warmup=${warmupSteps}`,
        `--w2-runs=${runSteps}`,
        `--out=${out}`,
      ],
      { cwd: tmp, encoding: "utf8" },
    );
    if (p.status !== 0) return `exit ${p.status}: ${(p.stderr ?? "").trim().split("\n").slice(-2).join(" | ")}`;
    return (JSON.parse(readFileSync(out, "utf8")) as { w2: { median_ms: number } }).w2.median_ms;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const peers = peersDir(resolve("."));
if (args["no-tfjs"] !== "true" && peers && existsSync(join(peers, "node_modules/@tensorflow/tfjs-backend-wasm"))) {
  const tw = Number(args["tfjs-warmup"] ?? 2),
    tr = Number(args["tfjs-runs"] ?? 5);
  for (const T of CONTEXTS) {
    const B = TOKENS / T;
    const ms = tfjsW2(peers, T, B, tw, tr);
    if (typeof ms === "string") {
      log(`TensorFlow.js failed at T ${T}: ${ms}`);
      break;
    }
    rows.push({ impl: "TensorFlow.js", threads: 1, T, B, median_ms: ms, us_per_token: (ms * 1e3) / TOKENS });
    log(
      `tfjs   1t  T ${String(T).padStart(3)}  B ${String(B).padStart(2)}: ${ms.toFixed(1)} ms/step, ${((ms * 1e3) / TOKENS).toFixed(1)} µs/token`,
    );
  }
} else log("TensorFlow.js skipped (run `npm ci` in the peers folder to include it)");

// growth from T = 64 to T = 512, and the ratio at each T
for (const th of threadCounts) {
  const of = (impl: string, T: number): Row | undefined =>
    rows.find((r) => r.impl === impl && r.threads === th && r.T === T);
  for (const T of CONTEXTS) {
    const a = of("writtingNNs", T),
      b = of("PyTorch", T);
    if (a && b) log(`${th}t  T ${T}: ours / PyTorch ${(a.median_ms / b.median_ms).toFixed(2)}×`);
  }
  for (const impl of ["writtingNNs", "PyTorch", ...(th === 1 ? ["TensorFlow.js"] : [])]) {
    const a = of(impl, 64),
      b = of(impl, 512);
    if (a && b) log(`${th}t  ${impl}: time per token ×${(b.median_ms / a.median_ms).toFixed(2)} from T 64 to 512`);
  }
}
if (args["out"])
  writeFileSync(args["out"], JSON.stringify({ date: new Date().toISOString(), tokens: TOKENS, rows }, null, 1));
// the picture of time per token (TensorFlow.js, some 20 times slower, left to the log lines and the JSON), and
// the picture of its growth: time per token over the same implementation's at T = 64
const png = (file: string, chart: Parameters<typeof lineChartPng>[0]): void => {
  writeFileSync(file, lineChartPng(chart, { deflate: (raw) => new Uint8Array(deflateSync(raw)) }));
  log(`wrote ${file}`);
};
const seriesOf = (keep: (r: Row) => boolean, y: (r: Row) => number) =>
  [...new Set(rows.filter(keep).map((r) => `${r.impl} ${r.threads}t`))].map((name) => ({
    name,
    points: rows.filter((r) => `${r.impl} ${r.threads}t` === name).map((r) => [r.T, y(r)] as [number, number]),
  }));
if (args["png"])
  png(args["png"], {
    series: seriesOf(
      (r) => r.impl !== "TensorFlow.js",
      (r) => r.us_per_token,
    ),
    title: "W2 step, B x T = 1536: microseconds per token",
    xLabel: "context T",
    yLabel: "microseconds per token",
  });
if (args["png-growth"])
  png(args["png-growth"], {
    series: seriesOf(
      () => true,
      (r) =>
        r.us_per_token / rows.find((q) => q.impl === r.impl && q.threads === r.threads && q.T === 64)!.us_per_token,
    ),
    title: "W2 step, B x T = 1536: time per token over its own at T = 64",
    xLabel: "context T",
    yLabel: "time per token / time at T = 64",
  });
