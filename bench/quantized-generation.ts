// W3's generation (GPT-2 small, random weights: greedy decoding with the KV cache after a prompt) with the
// matrices in float32 (our GPT, its Linears on the wasm float32 kernels) and in GGML blocks (the same
// weights written by toGguf and read back by loadGguf: every matrix a QuantLinear, the tied head reading
// the token embedding's blocks), side by side in one process. The runs alternate between the variants and
// the thread counts (f32 at 1 thread, q4_0 at 1 thread, f32 at 2 threads, …) so that a change in the
// machine's load falls on all of them alike; each variant's median is reported, in wall-clock time and in
// process CPU time (user + system, all threads: steadier than the wall clock on a shared machine), with the
// bytes its weights take, and its ratio to the first type at the same thread count.
// A type written `q4_0+q6_k` gives the output matrix (GPT-2's tied token_embd) the second type, as
// llama.cpp's llama-quantize does by default (its --pure writes every matrix in the one type, as we do).
//
//   npm run build && node dist/bench/quantized-generation.js [--types=f32,q8_0,q4_0] [--prompt=128] [--new=64] [--runs=3] [--threads=1,2] [--layers=12]

import * as wnn from "../src/index-node.js";
import { toGguf, type GgufModelConfig } from "../src/io/ggml/convert.js";
import type { GgmlType } from "../src/io/ggml/quants.js";
import { loadGguf } from "../src/models/gguf.js";
import { GPT, gptConfig } from "../src/models/gpt2/model.js";
import { median } from "./timing.js";
import { greedy } from "./w3.js";

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, "").split("=");
    return [k!, v ?? "true"];
  }),
);
const types = (args["types"] ?? "f32,q8_0,q4_0").split(",").map((t) => t.toUpperCase());
const promptLen = Number(args["prompt"] ?? 128),
  nNew = Number(args["new"] ?? 64),
  runs = Number(args["runs"] ?? 3);
const nLayer = Number(args["layers"] ?? 12);
const threadCounts = (args["threads"] ?? "1,2").split(",").map(Number);

const cfg = gptConfig("gpt2", { nLayer });
wnn.manualSeed(0);
const f32Model = new GPT(cfg);
f32Model.eval();
const params = f32Model.numParameters();
const ggufCfg: GgufModelConfig = {
  arch: "gpt2",
  vocabSize: cfg.vocabSize,
  blockSize: cfg.blockSize,
  nLayer: cfg.nLayer,
  nHead: cfg.nHead,
  nEmbd: cfg.nEmbd,
  intermediateSize: 4 * cfg.nEmbd,
  normEps: 1e-5,
};
const tok = { model: "gpt2" as const, tokens: Array.from({ length: cfg.vocabSize }, (_, i) => `t${i}`) };

interface Timings {
  decode: number[];
  cpu: number[];
  prefill: number[];
  toks: number[];
}
interface Variant {
  name: string;
  model: GPT;
  weightBytes: number;
  fileBytes: number;
  /** per thread count */
  at: Map<number, Timings>;
}
const timings = (): Map<number, Timings> =>
  new Map(threadCounts.map((n) => [n, { decode: [], cpu: [], prefill: [], toks: [] }]));
const variants: Variant[] = [];
for (const t of types) {
  if (t === "F32") {
    variants.push({ name: "f32 (Linear)", model: f32Model, weightBytes: 4 * params, fileBytes: 0, at: timings() });
    continue;
  }
  const [main, output] = t.split("+") as [GgmlType, GgmlType | undefined];
  const t0 = performance.now();
  const bytes = toGguf(f32Model.stateDict(), ggufCfg, main, tok, output ? { outputType: output } : {});
  const g = loadGguf(bytes);
  console.log(
    `${t}: GGUF of ${bytes.length} bytes written and loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const name = output ? `${main}, head ${output}` : main;
  variants.push({ name, model: g.model as GPT, weightBytes: g.weightBytes, fileBytes: bytes.length, at: timings() });
}

const gen = new wnn.Generator(7);
const prompt = Array.from({ length: promptLen }, () => Math.floor(gen.random() * cfg.vocabSize));
const load = async (): Promise<string> =>
  (await import("node:os"))
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
console.log(
  `GPT-2 small's shape (${nLayer} layers, ${params} parameters), random weights; prompt ${promptLen}, ${nNew} new tokens; ${wnn.backendSummary()}; threads ${threadCounts.join(", ")}; load average at the start ${await load()}`,
);
for (const v of variants) greedy(v.model, prompt, Math.min(nNew, 4)); // warm-up (weights copied into wasm memory)
for (let r = 0; r < runs; r++) {
  for (const n of threadCounts) {
    wnn.setNumThreads(n);
    for (const v of variants) {
      const res = greedy(v.model, prompt, nNew);
      const m = v.at.get(n)!;
      m.decode.push(res.decodeMs / (nNew - 1));
      m.prefill.push(res.prefillMs);
      m.cpu.push(res.decodeCpuMs / (nNew - 1)); // process CPU ms (all threads) per decode step
      m.toks = res.toks;
    }
  }
}
console.log(`load average at the end: ${await load()}`);
console.log(
  "| weights | threads | bytes in memory | GGUF file | prefill (ms) | decode ms/token (wall) | decode tokens/s (wall) | decode CPU ms/token | tokens/s ÷ first row (wall) | (CPU) | same tokens as first row |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|---|");
for (const n of threadCounts) {
  const base = variants[0]!.at.get(n)!;
  for (const v of variants) {
    const m = v.at.get(n)!;
    const d = median(m.decode),
      c = median(m.cpu);
    const same = m.toks.filter((t, i) => t === base.toks[i]).length;
    console.log(
      `| ${v.name} | ${n} | ${v.weightBytes} | ${v.fileBytes || "–"} | ${median(m.prefill).toFixed(0)} | ${d.toFixed(1)} | ${(1000 / d).toFixed(2)} | ${c.toFixed(1)} | ${(median(base.decode) / d).toFixed(2)}× | ${(median(base.cpu) / c).toFixed(2)}× | ${same}/${nNew} |`,
    );
  }
}
