// W2 — GPT-tiny training step (../shared/peers/README.md): nanoGPT's shakespeare-char CPU config,
// vocab 65, 4 layers, 4 heads, n_embd 128, block 64, batch 12, dropout 0, biases, tied head; AdamW
// lr 1e-3, betas (0.9, 0.99), eps 1e-8, weight decay 0.1 on the ≥ 2-D parameters, no clipping.
// Inputs and targets: independent uniform tokens in [0, 65), pre-generated (untimed). One iteration =
// forward + mean cross-entropy + backward + AdamW step + reading the loss; 10 warm-up, median of 50.
//
// The model is src/models/gpt2/model.ts's GPT (what `wnn train gpt` trains). Two differences from the
// peers' model, neither of which changes the parameter count (809,856) or the matmul FLOPs: GELU is
// GPT-2's tanh form (the peers use the exact erf form), and q, k, v are three 128→128 Linears instead
// of one fused 128→384.

import * as wnn from "../src/index-node.js";
import { GPT, gptConfig } from "../src/models/gpt2/model.js";
import { AdamW } from "../src/optim/adam.js";
import { median } from "./timing.js";
import { w2UserTrainer } from "./w2-user.js";

export const W2_CONFIG = gptConfig("tiny", { vocabSize: 65 });
export const W2_BATCH = 12;

export interface W2Result {
  median_ms: number;
  min_ms: number;
  max_ms: number;
  runs: number;
  warmup: number;
  tokens_per_s_at_median: number;
  params_total: number;
  loss_first: number;
  loss_last: number;
  /** process peak resident set size (MiB) at the end of the run (process-wide: includes earlier workloads) */
  peak_rss_mib: number;
  /** resident set size (MiB) at the end of the run */
  rss_end_mib: number;
  /** process CPU time (user + system, all threads) per timed step, ms: on a loaded machine a steadier figure than the wall clock */
  cpu_ms_per_iter: number;
  /** resident set size (MiB) after the steps listed in `rss_at` */
  rss_mib: Record<string, number>;
}

export interface W2Options {
  warmup?: number;
  runs?: number;
  /** steps after which to record the RSS (1-based, counting warm-up steps) */
  rssAt?: number[];
  /** called after every step with its index (1-based) and time */
  onStep?: (step: number, ms: number, loss: number) => void;
  /** run each step inside wnn.tidy (default true: what the project's own loops do) */
  scoped?: boolean;
  /** "module": src/models/gpt2's GPT (default); "user": the step written with raw tensors the PyTorch way (./w2-user.ts) */
  form?: "module" | "user";
  /** the context T (default 64) and the batch B (default 12): the GPT module only (./context-scaling.ts) */
  blockSize?: number;
  batch?: number;
}

/** A W2 trainer: the model, its AdamW and a step function over pre-generated batches. */
export function w2Trainer(
  seed = 1337,
  blockSize = W2_CONFIG.blockSize,
): { model: GPT; step: (x: wnn.Tensor, y: wnn.Tensor) => number } {
  wnn.manualSeed(seed);
  const model = new GPT(
    blockSize === W2_CONFIG.blockSize ? W2_CONFIG : gptConfig("tiny", { vocabSize: 65, blockSize }),
  );
  model.train();
  const params = model.parameters();
  const decay = params.filter((p) => p.ndim >= 2),
    noDecay = params.filter((p) => p.ndim < 2);
  const opt = new AdamW(
    [
      { params: decay, weightDecay: 0.1 },
      { params: noDecay, weightDecay: 0 },
    ],
    { lr: 1e-3, betas: [0.9, 0.99], eps: 1e-8 },
  );
  const step = (x: wnn.Tensor, y: wnn.Tensor): number => {
    const { loss } = model.forward(x, y);
    opt.zeroGrad();
    loss!.backward();
    opt.step();
    return loss!.item();
  };
  return { model, step };
}

/** Uniform random (B, T) int32 token batches. */
export function w2Batches(
  count: number,
  seed = 42,
  T = W2_CONFIG.blockSize,
  B = W2_BATCH,
): { x: wnn.Tensor; y: wnn.Tensor }[] {
  const g = new wnn.Generator(seed);
  const V = W2_CONFIG.vocabSize;
  const draw = (): wnn.Tensor => {
    const a = new Int32Array(B * T);
    for (let i = 0; i < a.length; i++) a[i] = Math.floor(g.random() * V);
    return new wnn.Tensor(a, [B, T]);
  };
  return Array.from({ length: count }, () => ({ x: draw(), y: draw() }));
}

const mib = (bytes: number): number => bytes / 2 ** 20;

export function runW2(log: (line: string) => void, o: W2Options = {}): W2Result {
  const warmup = o.warmup ?? 10,
    runs = o.runs ?? 50;
  const rssAt = new Set(o.rssAt ?? []);
  const scoped = o.scoped ?? true,
    form = o.form ?? "module";
  const T = o.blockSize ?? W2_CONFIG.blockSize,
    B = o.batch ?? W2_BATCH;
  if (form === "user" && (T !== W2_CONFIG.blockSize || B !== W2_BATCH))
    throw new Error("w2: the user-written form runs at the W2 sizes only");
  const trainer = form === "user" ? w2UserTrainer() : w2Trainer(1337, T);
  const step = scoped
    ? (x: wnn.Tensor, y: wnn.Tensor): number => wnn.tidy("w2 step", () => trainer.step(x, y))
    : trainer.step;
  const paramsTotal =
    "model" in trainer ? trainer.model.numParameters() : trainer.params.reduce((n, p) => n + p.numel(), 0);
  // at most 60 distinct batches in memory; longer runs cycle through them
  const batches = w2Batches(Math.min(warmup + runs, 60), 42, T, B);
  const times: number[] = [];
  const rss: Record<string, number> = {};
  let first = NaN,
    last = NaN;
  // step 0: the RSS after building the model and the batches, before the first step
  if (rssAt.has(0)) {
    rss["0"] = mib(process.memoryUsage.rss());
    o.onStep?.(0, 0, NaN);
  }
  let cpu0 = process.cpuUsage();
  for (let i = 0; i < warmup + runs; i++) {
    if (i === warmup) cpu0 = process.cpuUsage();
    const { x, y } = batches[i % batches.length]!;
    const t0 = performance.now();
    const loss = step(x, y);
    const dt = performance.now() - t0;
    if (i === 0) first = loss;
    last = loss;
    if (i >= warmup) times.push(dt);
    if (rssAt.has(i + 1)) rss[String(i + 1)] = mib(process.memoryUsage.rss());
    o.onStep?.(i + 1, dt, loss);
  }
  const cpu = process.cpuUsage(cpu0);
  const med = median(times);
  const r: W2Result = {
    median_ms: med,
    min_ms: Math.min(...times),
    max_ms: Math.max(...times),
    runs,
    warmup,
    tokens_per_s_at_median: (B * T) / (med * 1e-3),
    params_total: paramsTotal,
    loss_first: first,
    loss_last: last,
    cpu_ms_per_iter: (cpu.user + cpu.system) / 1000 / runs,
    peak_rss_mib: process.resourceUsage().maxRSS / 1024,
    rss_end_mib: mib(process.memoryUsage.rss()),
    rss_mib: rss,
  };
  log(
    `  w2 GPT-tiny train step (${form === "user" ? "user-written" : "GPT module"}, ${scoped ? "inside tidy" : "no scope"}): median ${med.toFixed(2)} ms  ${r.tokens_per_s_at_median.toFixed(0)} tok/s (best ${r.min_ms.toFixed(2)} ms; CPU ${r.cpu_ms_per_iter.toFixed(1)} ms/iter; params ${r.params_total}, loss ${first.toFixed(3)} -> ${last.toFixed(3)}; RSS ${r.rss_end_mib.toFixed(0)} MiB, process peak so far ${r.peak_rss_mib.toFixed(0)} MiB)`,
  );
  return r;
}
