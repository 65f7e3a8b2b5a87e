// `npm run bench`: the workloads of ../shared/peers/README.md on the wasm backend, on 1 and 2 threads,
// next to the peers (PyTorch + OpenBLAS; TensorFlow.js wasm) run in the same invocation, strictly one
// after another. Prints our figures, theirs and the ratios.
//
//   npm run bench -- [--workloads=w1,w2,w3,ops] [--threads=1,2] [--no-peers] [--out=bench.json]
//   npm run bench -- --workloads=w2 --w2-runs=1990 --rss-at=100,2000   (RSS along a long W2 run)
//   npm run bench -- --workloads=ops --threads=1 --no-peers   (op families against a copy of the same tensor)
//   npm run bench -- --workloads=w2 --w2-forms=module-tidy,user-tidy     (W2 variants: module-tidy, module, user-tidy, user)
//   npm run bench -- --workloads=w2 --threads=1 --no-torch --tfjs-w2-warmup=1 --tfjs-w2-runs=3   (a quick tfjs check)

import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as wnn from "../src/index-node.js";
import { wasm } from "../src/backend/wasm/instance.js";
import { peersDir, runTfjs, runTorch, torchMissing, type PeerResult } from "./peers.js";
import { runW1, W1_SHAPES, w1Subject, type W1Result } from "./w1.js";
import { runW2, type W2Result } from "./w2.js";
import { runW3, type W3Result } from "./w3.js";
import { logOpsVsTorch, runOps, runTorchOps, type OpsResult } from "./ops.js";

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [key, value] = a.replace(/^--/, "").split("=");
    return [key!, value ?? "true"];
  }),
);
const workloads = (args["workloads"] ?? "w1,w2,w3,ops").split(",");
/** the workloads the peers' scripts run (ops runs on PyTorch through bench/torch_ops.py, beside ours) */
const peerWorkloads = workloads.filter((w) => w !== "ops").join(",");
const threadCounts = (args["threads"] ?? "1,2").split(",").map(Number);
const withPeers = args["no-peers"] !== "true";
const log = (line: string): void => console.log(line);

// dist/bench/run.js → the repository root is two levels up
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const peers = withPeers ? peersDir(repoRoot) : null;
const torchWhyNot = withPeers ? torchMissing(peers) : "--no-peers";

log(`writtingnns bench — ${new Date().toISOString()}`);
log(
  `machine: ${cpus()[0]?.model ?? "?"} × ${cpus().length} cpus; node ${process.version}; load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
log(
  `backend: wasm (SIMD${wasm().relaxed ? " + relaxed-SIMD FMA" : ", no relaxed SIMD"}; ${wasm().shared ? "shared memory" : "no shared memory: 1 thread"}), W1 times ${w1Subject()}`,
);
log(
  `peers: PyTorch ${torchWhyNot ? `skipped (${torchWhyNot})` : "yes"}; TensorFlow.js ${peers ? "if installed in " + peers : "skipped"}`,
);

wnn.setBackend("wasm");
interface Ours {
  w1?: W1Result[];
  w2?: W2Result;
  w2Plain?: W2Result;
  w2User?: W2Result;
  w2UserPlain?: W2Result;
  w3?: W3Result;
  ops?: OpsResult;
}
const results: { threads: number; ours: Ours; torch: PeerResult | null }[] = [];
// --w2-forms: which W2 variants run (module-tidy is the headline; the others show what the scope and the way of writing cost)
const w2Forms = (args["w2-forms"] ?? "module-tidy,module,user-tidy,user").split(",");
for (const threads of threadCounts) {
  wnn.setNumThreads(threads);
  log(`\n== ${threads} thread(s): writtingnns (wasm)`);
  const ours: Ours = {};
  if (workloads.includes("w1")) ours.w1 = runW1(log);
  if (workloads.includes("w2")) {
    const rssAt = (args["rss-at"] ?? "").split(",").filter(Boolean).map(Number);
    const run = (form: "module" | "user", scoped: boolean): W2Result =>
      runW2(log, {
        form,
        scoped,
        runs: args["w2-runs"] ? Number(args["w2-runs"]) : undefined,
        rssAt,
        onStep: rssAt.length
          ? (step) => {
              if (rssAt.includes(step))
                log(
                  `  w2 step ${step}: RSS ${(process.memoryUsage.rss() / 2 ** 20).toFixed(0)} MiB, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`,
                );
            }
          : undefined,
      });
    if (w2Forms.includes("module-tidy")) ours.w2 = run("module", true);
    if (w2Forms.includes("module")) ours.w2Plain = run("module", false);
    if (w2Forms.includes("user-tidy")) ours.w2User = run("user", true);
    if (w2Forms.includes("user")) ours.w2UserPlain = run("user", false);
  }
  if (workloads.includes("w3")) ours.w3 = runW3(log);
  if (workloads.includes("ops")) {
    ours.ops = runOps(log);
    if (!torchWhyNot && args["no-torch"] !== "true") {
      const t = runTorchOps(threads, resolve(repoRoot, "bench/torch_ops.py"));
      if (typeof t === "string") log(`  PyTorch's op table: ${t}`);
      else {
        ours.ops.torch = t;
        logOpsVsTorch(ours.ops, t, log);
      }
    }
  }
  let torch: PeerResult | null = null;
  if (!torchWhyNot && peers && peerWorkloads && args["no-torch"] !== "true") {
    log(`== ${threads} thread(s): PyTorch (OpenBLAS openmp)`);
    torch = runTorch(peers, threads, peerWorkloads, log);
  }
  results.push({ threads, ours, torch });
}
wnn.setNumThreads(1);

let tfjs: PeerResult | null = null;
if (withPeers && peers && peerWorkloads) {
  log(`\n== 1 thread: TensorFlow.js (wasm)`);
  // --tfjs-w2-warmup / --tfjs-w2-runs: fewer repetitions of its slow W2 (≈ 2 s per step) for a quick check
  const extra = ["w2-warmup", "w2-runs"].filter((k) => args[`tfjs-${k}`]).map((k) => `--${k}=${args[`tfjs-${k}`]}`);
  tfjs = runTfjs(peers, peerWorkloads, log, extra);
  if (!tfjs) log("  skipped (run `npm ci` in the peers folder to include it)");
}

if (workloads.includes("w1")) {
  log(`\nW1 matmul, GFLOP/s (median), ratio = ours / peer`);
  const head = [
    "shape (m×k·k×n)",
    ...results.flatMap((r) => [`ours ${r.threads}t`, ...(r.torch ? [`torch ${r.threads}t`, "ratio"] : [])]),
    ...(tfjs ? ["tfjs-wasm 1t", "ours 1t / tfjs"] : []),
  ];
  log(`| ${head.join(" | ")} |`);
  log(`|${head.map(() => "---").join("|")}|`);
  W1_SHAPES.forEach(([m, k, n], i) => {
    const cells = [`${m}×${k}·${k}×${n}`];
    for (const r of results) {
      const ours = r.ours.w1![i]!.gflops_at_median;
      cells.push(ours.toFixed(1));
      const t = r.torch?.w1?.find((x) => x.m === m && x.k === k && x.n === n);
      if (r.torch)
        cells.push(t ? t.gflops_at_median.toFixed(1) : "—", t ? (ours / t.gflops_at_median).toFixed(2) : "—");
    }
    if (tfjs) {
      const t = tfjs.w1?.find((x) => x.m === m && x.k === k && x.n === n);
      const ours1 = results.find((r) => r.threads === 1)?.ours.w1![i]!.gflops_at_median;
      cells.push(t ? t.gflops_at_median.toFixed(1) : "—", t && ours1 ? (ours1 / t.gflops_at_median).toFixed(2) : "—");
    }
    log(`| ${cells.join(" | ")} |`);
  });
}

/** One table row per thread count: ours, PyTorch's, ratio (ours/peer as times: > 1 is slower), then tfjs (1 thread). */
function timeTable(
  title: string,
  unit: string,
  ours: (r: (typeof results)[number]) => number | undefined,
  peer: (p: PeerResult) => number | undefined,
): void {
  if (!results.some((r) => ours(r) !== undefined)) return;
  log(`\n${title}, ${unit} (median); ratio = ours / peer (> 1: slower)`);
  const head = ["threads", "ours", "torch", "ours / torch", ...(tfjs ? ["tfjs-wasm (1t)", "ours / tfjs"] : [])];
  log(`| ${head.join(" | ")} |`);
  log(`|${head.map(() => "---").join("|")}|`);
  for (const r of results) {
    const o = ours(r),
      t = r.torch ? peer(r.torch) : undefined,
      f = tfjs ? peer(tfjs) : undefined;
    const fmt = (v: number | undefined): string => (v === undefined ? "—" : v >= 100 ? v.toFixed(0) : v.toFixed(2));
    const ratio = (a: number | undefined, b: number | undefined): string =>
      a === undefined || b === undefined ? "—" : (a / b).toFixed(2);
    log(`| ${[r.threads, fmt(o), fmt(t), ratio(o, t), ...(tfjs ? [fmt(f), ratio(o, f)] : [])].join(" | ")} |`);
  }
}
timeTable(
  "W2 GPT-tiny training step (GPT module, inside wnn.tidy)",
  "ms/iter",
  (r) => r.ours.w2?.median_ms,
  (p) => p.w2?.median_ms,
);
timeTable(
  "W2 GPT-tiny training step (GPT module, no scope)",
  "ms/iter",
  (r) => r.ours.w2Plain?.median_ms,
  (p) => p.w2?.median_ms,
);
timeTable(
  "W2 GPT-tiny training step (user-written with raw tensors, inside wnn.tidy)",
  "ms/iter",
  (r) => r.ours.w2User?.median_ms,
  (p) => p.w2?.median_ms,
);
timeTable(
  "W2 GPT-tiny training step (user-written with raw tensors, no scope)",
  "ms/iter",
  (r) => r.ours.w2UserPlain?.median_ms,
  (p) => p.w2?.median_ms,
);
timeTable(
  "W3 GPT-2-small forward, 128 tokens",
  "ms",
  (r) => r.ours.w3?.forward.median_ms,
  (p) => p.w3?.forward.median_ms,
);
timeTable(
  "W3 greedy generation of 64 tokens after a 128-token prompt (prefill + 63 decode steps)",
  "ms total",
  (r) => r.ours.w3?.generate.median_ms,
  (p) => p.w3?.generate.median_ms,
);
timeTable(
  "W3 decode",
  "ms/token",
  (r) => r.ours.w3?.generate.decode_median_ms_per_token,
  (p) => p.w3?.generate.decode_median_ms_per_token,
);

log(
  `\nload average at the end: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
if (args["out"]) writeFileSync(args["out"], JSON.stringify({ date: new Date().toISOString(), results, tfjs }, null, 1));
