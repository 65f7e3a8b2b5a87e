// GGML block formats on one matrix of GPT-2 small's shape (the MLP's up projection, 3072 × 768, random
// N(0, 0.02) weights): bytes per weight, the round-trip error, and one matrix-vector product (T = 1, a
// generation step) on the blocks (src/io/ggml/qmatmul.ts: Q8_0, Q4_0, Q4_K, Q5_K, Q6_K on the active backend's kernel — the
// wasm SIMD one by default — the other types on the plain-loop reference) next to our float32 matmul on the same
// machine, in the same run; wall-clock and process CPU time (user + system, all threads) per product.
//
//   npm run build && node dist/bench/quantization.js [--types=q8_0,q4_0] [--reps=20]

import * as wnn from "../src/index-node.js";
import { qmatmul } from "../src/io/ggml/qmatmul.js";
import { GGML_TYPES, GGML_TYPE_NAMES, dequantize, quantize, type GgmlType } from "../src/io/ggml/quants.js";

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, "").split("=");
    return [k!, v ?? "true"];
  }),
);
const types = (args["types"]?.split(",").map((t) => t.toUpperCase()) ?? GGML_TYPE_NAMES) as GgmlType[];
const reps = Number(args["reps"] ?? 20);
const N = 3072,
  K = 768;

wnn.manualSeed(0);
const w = Float32Array.from(
  wnn
    .randn([N * K])
    .mul(0.02)
    .dataSync() as Float32Array,
);
const x = Float32Array.from(wnn.randn([K]).dataSync() as Float32Array);
let lastCpu = 0;
const time = (fn: () => unknown): number => {
  fn(); // warm-up
  const c0 = process.cpuUsage(),
    t0 = performance.now();
  for (let i = 0; i < reps; i++) fn();
  const c = process.cpuUsage(c0);
  lastCpu = (c.user + c.system) / 1000 / reps;
  return (performance.now() - t0) / reps;
};

const lin = new wnn.nn.Linear(K, N, { bias: false });
lin.weight.storage.set(w);
const X = wnn.tensor(x, { shape: [1, K] });
// what a Linear computes at inference: one no-grad region, so the backend keeps the weight in its memory
const f32ms = wnn.noGrad(() => time(() => lin.forward(X).dataSync()));
const f32cpu = lastCpu;
console.log(
  `matrix (${N}, ${K}) × vector, ${reps} repetitions; ${wnn.backendSummary()}; load average ${(await import("node:os"))
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`,
);
console.log(
  `float32 Linear (weight kept in the backend's memory): ${f32ms.toFixed(3)} ms wall, ${f32cpu.toFixed(3)} ms CPU`,
);
console.log(
  "| type | bits/weight | bytes | relative RMS error | quantize (ms) | matvec on the blocks (ms wall) | (ms CPU) | CPU time / float32 |",
);
console.log("|---|---|---|---|---|---|---|---|");
let rms = 0;
for (const v of w) rms += v * v;
rms = Math.sqrt(rms / w.length);
for (const t of types) {
  const t0 = performance.now();
  const q = quantize(t, w);
  const qms = performance.now() - t0;
  const d = dequantize(t, q, w.length);
  let e = 0;
  for (let i = 0; i < w.length; i++) e += (d[i]! - w[i]!) ** 2;
  const ms = time(() => qmatmul(x, 1, K, q, t, N));
  const bits = (8 * GGML_TYPES[t].typeSize) / GGML_TYPES[t].blockSize;
  console.log(
    `| ${t} | ${bits} | ${q.length} | ${(Math.sqrt(e / w.length) / rms).toExponential(2)} | ${qms.toFixed(0)} | ${ms.toFixed(2)} | ${lastCpu.toFixed(2)} | ${(lastCpu / f32cpu).toFixed(2)}× |`,
  );
}
