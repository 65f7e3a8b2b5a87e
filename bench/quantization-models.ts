// Every GGML type on two models trained here: the GPT of `wnn train gpt` (its run folder's checkpoint) and the
// LLaMA of the decoder comparison (src/recipes/decoder-compare.ts: trained here with that recipe's Run, its
// default shape and budget). For each type: the model written by toGguf and read back by loadGguf (matrices
// kept in their blocks), then
//   - bytes per parameter and the GGUF file's size;
//   - the validation loss on fixed batches of the last 10% of Moby Dick (the same batches for every type),
//     and its change against the float32 model;
//   - greedy generation after a prompt: decode tokens/s (wall clock) and decode CPU ms per token (process CPU
//     time, all threads), and the bytes the weights take in memory.
// Writes a markdown table on stdout and, with --png, the picture of the loss change against bits per weight.
//
//   npm run build && node dist/bench/quantization-models.js --run=runs/gpt [--types=f32,q8_0,…] [--batches=5] [--new=64] [--png=FILE]
//
// The K-quants need rows of 256: a matrix with rows of 128 (both models are 128 wide) falls back to Q8_0 in that
// file (convert.ts's matrixType), as llama.cpp's quantizer falls back for such rows; the table counts the real bytes.

import { writeFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import * as wnn from "../src/index-node.js";
import { CharTokenizer } from "../src/data/char.js";
import { getBatch, trainValSplit } from "../src/data/batch.js";
import { lineChartPng } from "../src/io/chart.js";
import { toGguf, type GgufModelConfig } from "../src/io/ggml/convert.js";
import { GGML_TYPE_NAMES, type GgmlType } from "../src/io/ggml/quants.js";
import { loadCheckpoint } from "../src/io/node.js";
import { loadGguf } from "../src/models/gguf.js";
import { GPT } from "../src/models/gpt2/model.js";
import { checkpointConfig } from "../src/models/gpt2/train.js";
import { intermediateSize, type Llama } from "../src/models/llama/model.js";
import { loadMobyDick } from "../src/node.js";
import { contenders, decoderCompareRecipe, Run } from "../src/recipes/decoder-compare.js";
import { median } from "./timing.js";

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, "").split("=");
    return [k!, v ?? "true"];
  }),
);
if (!args["run"] || args["run"] === "true") throw new Error("give --run=DIR, the folder of a `wnn train gpt` run");
const types = (args["types"]?.split(",").map((t) => t.toUpperCase()) ?? [
  "F32",
  ...GGML_TYPE_NAMES.filter((t) => t !== "F32"),
]) as GgmlType[];
const nBatches = Number(args["batches"] ?? 5),
  nNew = Number(args["new"] ?? 64);

interface Decoder {
  forward(idx: wnn.Tensor, targets?: wnn.Tensor | null): { logits: wnn.Tensor; loss: wnn.Tensor | null };
  generate(idx: wnn.Tensor, n: number, o: { temperature: number }): wnn.Tensor;
  eval(): unknown;
}

const text = loadMobyDick();
const tok = CharTokenizer.fromText(text);
const splits = trainValSplit(Int32Array.from(tok.encode(text)), 0.9);

// ---- the two trained models
const ckpt = loadCheckpoint(
  args["run"].endsWith(".safetensors") ? args["run"] : `${args["run"]}/checkpoint.safetensors`,
);
const { model: gcfg } = checkpointConfig(ckpt);
const gpt = new GPT(gcfg);
gpt.loadStateDict(ckpt.model);
gpt.eval();
const o = decoderCompareRecipe.defaults;
const t0 = performance.now();
const llamaRun = new Run(
  contenders({
    vocabSize: tok.vocabSize,
    blockSize: o.blockSize,
    nLayer: o.nLayer,
    nHead: o.nHead,
    nEmbd: o.nEmbd,
  })[1]!,
  o,
  splits.train,
);
for (let s = 0; s < o.steps; s++) llamaRun.trainStep();
const llama = llamaRun.model as unknown as Llama;
llama.eval();
console.log(
  `LLaMA of the decoder comparison: ${llamaRun.params} parameters, ${o.steps} steps trained in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
);

const lc = llama.config;
const models: { name: string; model: Decoder; cfg: GgufModelConfig; params: number; blockSize: number }[] = [
  {
    name: "GPT (wnn train gpt)",
    model: gpt,
    params: gpt.numParameters(),
    blockSize: gcfg.blockSize,
    cfg: {
      arch: "gpt2",
      vocabSize: gcfg.vocabSize,
      blockSize: gcfg.blockSize,
      nLayer: gcfg.nLayer,
      nHead: gcfg.nHead,
      nEmbd: gcfg.nEmbd,
      intermediateSize: 4 * gcfg.nEmbd,
      normEps: 1e-5,
    },
  },
  {
    name: "LLaMA (decoder comparison)",
    model: llama,
    params: llamaRun.params,
    blockSize: lc.blockSize,
    cfg: {
      arch: "llama",
      vocabSize: lc.vocabSize,
      blockSize: lc.blockSize,
      nLayer: lc.nLayer,
      nHead: lc.nHead,
      nKvHeads: lc.nKvHeads,
      nEmbd: lc.nEmbd,
      intermediateSize: intermediateSize(lc),
      normEps: lc.normEps,
      ropeTheta: lc.ropeTheta,
    },
  },
];
const vocab = { model: "gpt2" as const, tokens: Array.from({ length: tok.vocabSize }, (_, i) => tok.decode([i])) };
const prompt = tok.encode("The whale ");

console.log(
  `load average ${(await import("node:os"))
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}; ${wnn.backendSummary()}`,
);
const series: { name: string; points: [number, number][] }[] = [];
for (const m of models) {
  // the fixed validation batches (the same for every type)
  const g = new wnn.Generator(4242);
  const batches = Array.from({ length: nBatches }, () => getBatch(splits.val, m.blockSize, 12, g));
  const valLoss = (d: Decoder): number =>
    wnn.noGrad(() => batches.reduce((s, { x, y }) => s + d.forward(x, y).loss!.item(), 0) / batches.length);
  const gen = (d: Decoder): { tokPerS: number; cpuMs: number } => {
    const idx = wnn.tensor(Int32Array.from(prompt), { shape: [1, prompt.length] });
    d.generate(idx, 4, { temperature: 0 }); // warm-up
    const walls: number[] = [],
      cpus: number[] = [];
    for (let r = 0; r < 3; r++) {
      const c0 = process.cpuUsage(),
        w0 = performance.now();
      wnn.noGrad(() => d.generate(idx, nNew, { temperature: 0 }));
      const c = process.cpuUsage(c0);
      walls.push(performance.now() - w0);
      cpus.push((c.user + c.system) / 1000);
    }
    return { tokPerS: nNew / (median(walls) / 1000), cpuMs: median(cpus) / nNew };
  };
  const base = valLoss(m.model);
  console.log(
    `\n### ${m.name}: ${m.params} parameters, ${m.cfg.nLayer} layers, C = ${m.cfg.nEmbd}; validation loss on ${nBatches} fixed batches of 12 × ${m.blockSize}`,
  );
  console.log(
    "| type | bytes / parameter | GGUF file (bytes) | weights in memory (bytes) | validation loss | change vs f32 | tokens/s (wall) | CPU ms / token |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  const f = gen(m.model);
  console.log(
    `| float32 model | 4 | – | ${4 * m.params} | ${base.toFixed(4)} | – | ${f.tokPerS.toFixed(1)} | ${f.cpuMs.toFixed(2)} |`,
  );
  const points: [number, number][] = [];
  for (const t of types) {
    const file = toGguf(m.model === gpt ? gpt.stateDict() : llama.stateDict(), m.cfg, t, vocab);
    const g = loadGguf(file);
    const d = g.model as unknown as Decoder;
    const loss = valLoss(d);
    const r = gen(d);
    const bpp = (file.length - 0) / m.params;
    const change = (100 * (loss - base)) / base;
    points.push([8 * bpp, change]);
    console.log(
      `| ${t} | ${bpp.toFixed(3)} | ${file.length} | ${g.weightBytes} | ${loss.toFixed(4)} | ${change >= 0 ? "+" : ""}${change.toFixed(2)}% | ${r.tokPerS.toFixed(1)} | ${r.cpuMs.toFixed(2)} |`,
    );
  }
  series.push({ name: m.name, points: points.sort((a, b) => a[0] - b[0]) });
}
if (args["png"]) {
  const chart = {
    series,
    title: "validation loss change vs float32, by GGUF file bits per parameter",
    xLabel: "bits per parameter (file)",
    yLabel: "loss change (%)",
  };
  writeFileSync(args["png"], lineChartPng(chart, { deflate: (raw) => new Uint8Array(deflateSync(raw)) }));
  console.log(`\npicture: ${args["png"]}`);
}
