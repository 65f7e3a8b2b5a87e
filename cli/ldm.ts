// `wnn train ldm` and `wnn generate --checkpoint <ldm run> "a thick slanted seven"`: latent diffusion on the
// `mnist` package's digits with captions made from the label and the pixels (the recipe is
// src/models/latent-diffusion/train.ts; the captions src/models/latent-diffusion/captions.ts). This file reads
// the options, shows progress, writes the run's folder, and draws and measures digits for captions.

import { join } from "node:path";
import { Generator } from "../src/engine/rng.js";
import { imageGrid, ImageGridWriter, lineChart } from "../src/io/chart.js";
import type { LoadedCheckpoint } from "../src/io/checkpoint.js";
import { saveCheckpoint, savePng } from "../src/io/node.js";
import { digitsTensor, judge } from "../src/models/ddpm/quality.js";
import {
  attributeHolds,
  attributes,
  digitStats,
  caption as captionOf,
  parseCaption,
} from "../src/models/latent-diffusion/captions.js";
import {
  LDM_TRAIN,
  LDMTrainer,
  ldmCheckpointConfig,
  ldmMnistConfig,
  loadLDM,
  type LatentDiffusion,
} from "../src/models/latent-diffusion/train.js";
import { NonFiniteGuard } from "../src/recipes/loop.js";
import { loadMnist } from "../src/node.js";
import { helpText, parseOptions, UsageError, type OptionSpecs } from "./args.js";
import { formatDuration, Progress, type Output } from "./progress.js";
import {
  CHECKPOINT,
  checkResumeOptions,
  checkRunDir,
  createRunDir,
  defaultRunDir,
  JsonlLog,
  loadRunCheckpoint,
  stopDiverged,
} from "./rundir.js";
import { loadJudge } from "./ddpm.js";
import { inferenceNeed, memoryBudget, overBudget as overMemoryBudget } from "./memory.js";

export const LDM_OPTIONS = {
  vae_steps: {
    kind: "int",
    min: 0,
    max: 10_000_000,
    default: LDM_TRAIN.vaeSteps,
    help: "steps of the autoencoder (stage 1)",
  },
  steps: {
    kind: "int",
    min: 1,
    max: 10_000_000,
    default: LDM_TRAIN.steps,
    help: "steps of the U-Net and the text encoder (stage 2)",
  },
  batch_size: { kind: "int", min: 1, max: 1024, default: LDM_TRAIN.batchSize, help: "digits per step" },
  vae_lr: { kind: "number", min: 0, max: 1e6, default: LDM_TRAIN.vaeLr, help: "Adam's learning rate of stage 1" },
  lr: { kind: "number", min: 0, max: 1e6, default: LDM_TRAIN.lr, help: "Adam's learning rate of stage 2" },
  kl_weight: {
    kind: "number",
    min: 0,
    max: 1e6,
    default: LDM_TRAIN.klWeight,
    help: "the weight of the autoencoder's KL term",
  },
  p_uncond: {
    kind: "number",
    min: 0,
    max: 1,
    default: LDM_TRAIN.pUncond,
    help: 'probability of dropping a caption to "" (guidance)',
  },
  ema: {
    kind: "number",
    min: 0,
    max: 0.99999,
    default: LDM_TRAIN.ema,
    help: "decay of the moving average that samples",
  },
  grad_clip: {
    kind: "number",
    min: 0,
    max: 1e6,
    default: LDM_TRAIN.gradClip,
    help: "clip the global gradient norm (0: off)",
  },
  channels: { kind: "int", min: 8, max: 256, default: 16, help: "the U-Net's first width (a multiple of 8)" },
  seed: {
    kind: "int",
    min: 0,
    max: 2 ** 32 - 1,
    default: LDM_TRAIN.seed,
    help: "seed of the weights, batches and noise",
  },
  checkpoint_every: { kind: "int", min: 1, max: 10_000_000, default: 250, help: "save a checkpoint every N steps" },
  log_interval: {
    kind: "int",
    min: 1,
    max: 10_000_000,
    default: 25,
    help: "print a line every N steps when not on a terminal",
  },
  out: { kind: "string", metavar: "DIR", help: "the run's folder (default runs/ldm-<date>-<time>)" },
  resume: { kind: "string", metavar: "DIR", help: "continue the run in DIR from its checkpoint" },
  sample_steps: { kind: "int", min: 1, max: 1000, default: 20, help: "DDIM steps of the grid drawn at the end" },
  guidance: { kind: "number", min: 0, max: 100, default: 3, help: "guidance scale of the grid drawn at the end" },
  max_bad_steps: {
    kind: "int",
    min: 1,
    max: 1000,
    default: 5,
    help: "stop after this many NaN/infinite losses in a row",
  },
  max_cpu_minutes: {
    kind: "number",
    min: 0,
    exclusiveMin: true,
    max: 1e7,
    metavar: "M",
    help: "stop (saving, drawing the grid once the U-Net has trained) after M minutes of CPU (user + system, all threads, both stages, counted across --resume)",
  },
} as const satisfies OptionSpecs;

/** The options a resumed run may change; the rest are the checkpoint's. */
const RESUMABLE = [
  "steps",
  "log_interval",
  "checkpoint_every",
  "sample_steps",
  "guidance",
  "max_bad_steps",
  "max_cpu_minutes",
];

export const LDM_HELP = helpText(
  "wnn train ldm [options]",
  `Latent diffusion (Rombach et al. 2022) on the \`mnist\` package's 8,000 training digits with generated
captions ("a thick slanted seven": the label, thickness from the ink mass, slant from the second moments).
Stage 1 trains a KL autoencoder (32×32 → 4×8×8 latents); stage 2 trains the U-Net over the latents with
spatial transformers (self-attention, cross-attention to the text, GEGLU) and a CLIP-style text encoder,
captions dropped to "" with probability p_uncond for classifier-free guidance.

Writes DIR/checkpoint.safetensors (every --checkpoint_every steps, at the end and on Ctrl-C), DIR/log.jsonl,
DIR/loss-vae.png, DIR/loss-unet.png and at the end DIR/grid.png (a row per digit: thick, thin, slanted, upright).
Ctrl-C saves and exits with code 130; --resume DIR continues where the run stopped.`,
  LDM_OPTIONS,
  'example: wnn train ldm --out runs/ldm && wnn generate --checkpoint runs/ldm "a thick slanted seven"',
);

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The four caption forms of the end-of-run grid and of the measurement, for digit d. */
const FORMS = (d: number): string[] => [
  captionOf(d, ["thick"]),
  captionOf(d, ["thin"]),
  captionOf(d, ["slanted"]),
  captionOf(d, ["upright"]),
];

export async function trainLdm(args: readonly string[], out: Output): Promise<number> {
  const cmd = "train ldm";
  const { values: v, given, help } = parseOptions(cmd, args, LDM_OPTIONS);
  if (help) {
    out.write(LDM_HELP);
    return 0;
  }
  if (v.channels % 8 !== 0) throw new UsageError(`${cmd}: --channels must be a multiple of 8, got ${v.channels}`);
  const print = (s: string): void => void out.write(s + "\n");
  let trainer: LDMTrainer, dir: string, log: JsonlLog;
  if (v.resume !== undefined) {
    checkResumeOptions(cmd, given, RESUMABLE);
    dir = v.resume;
    const { ckpt } = loadRunCheckpoint(dir, cmd, ldmCheckpointConfig, { resume: true }); // checked before the digits are read
    loadLDM(ckpt); // and its weights against its networks (the digits take seconds to read)
    LDMTrainer.checkResumable(ckpt);
    trainer = LDMTrainer.fromCheckpoint(ckpt, loadMnist().train, given.has("steps") ? { steps: v.steps } : {});
    log = new JsonlLog(join(dir, "log.jsonl"));
    log.retain((e) => (e.step as number) <= trainer.step);
    print(`resuming ${dir} at step ${trainer.step} of ${trainer.config.vaeSteps + trainer.config.steps}`);
  } else {
    if (v.out !== undefined) checkRunDir(v.out, cmd);
    trainer = new LDMTrainer(
      ldmMnistConfig({ channels: v.channels }),
      {
        vaeSteps: v.vae_steps,
        steps: v.steps,
        batchSize: v.batch_size,
        vaeLr: v.vae_lr,
        lr: v.lr,
        klWeight: v.kl_weight,
        pUncond: v.p_uncond,
        ema: v.ema,
        gradClip: v.grad_clip,
        seed: v.seed,
      },
      loadMnist().train,
    );
    dir = v.out ?? defaultRunDir("ldm");
    createRunDir(dir, cmd);
    log = new JsonlLog(join(dir, "log.jsonl"));
    log.retain(() => false);
  }
  const m = trainer.model;
  print(
    `autoencoder ${m.vae.numParameters().toLocaleString("en-US")}, text encoder ${m.text.numParameters().toLocaleString("en-US")}, U-Net ${m.unet.numParameters().toLocaleString("en-US")} parameters`,
  );
  print(
    `captions, e.g.: ${trainer.captions
      .slice(0, 4)
      .map((c) => JSON.stringify(c))
      .join(", ")}`,
  );
  const t = trainer.config;
  print(
    `training: ${t.vaeSteps} autoencoder steps, then ${t.steps} U-Net steps of ${t.batchSize} digits; writing ${dir}/`,
  );

  const ckptFile = join(dir, CHECKPOINT);
  const points: Record<"vae" | "unet", [number, number][]> = { vae: [], unet: [] };
  // the CPU the run's training used before this process (the last kept step's total), for --max_cpu_minutes
  let cpuBefore = 0;
  for (const e of log.read())
    if (e.type === "train" && (e.stage === "vae" || e.stage === "unet")) {
      points[e.stage].push([e.step as number, e.loss as number]);
      if (typeof e.cpuTotal === "number") cpuBefore = e.cpuTotal;
    }
  const drawChart = (): void => {
    for (const s of ["vae", "unet"] as const) {
      if (!points[s].length) continue;
      savePng(
        join(dir, `loss-${s}.png`),
        lineChart({
          series: [{ name: "one batch", points: points[s] }],
          title: s === "vae" ? "stage 1: the autoencoder's loss" : "stage 2: the latent U-Net's loss",
          xLabel: "step",
          yLabel: "loss",
        }),
      );
    }
  };
  const save = (): void => saveCheckpoint(ckptFile, trainer.checkpoint());
  let stop = false;
  const onSigint = (): void => {
    if (stop) process.exit(130);
    stop = true;
  };
  process.on("SIGINT", onSigint);
  const total = t.vaeSteps + t.steps;
  const progress = new Progress({ total, start: trainer.step, out, every: v.log_interval });
  const guard = new NonFiniteGuard(v.max_bad_steps);
  const cpu0 = process.cpuUsage(),
    wall0 = performance.now();
  // user + system seconds of every thread of this process since it started training, plus the earlier processes' of this run
  const cpuTotal = (): number => {
    const c = process.cpuUsage(cpu0);
    return cpuBefore + (c.user + c.system) / 1e6;
  };
  const cpuBudget = v.max_cpu_minutes === undefined ? Infinity : 60 * v.max_cpu_minutes;
  let overBudget = false;
  const time: Record<"vae" | "unet", { cpu: number; wall: number; n: number }> = {
    vae: { cpu: 0, wall: 0, n: 0 },
    unet: { cpu: 0, wall: 0, n: 0 },
  };
  try {
    while (!stop && trainer.stage !== "done" && !guard.tripped && !(overBudget = cpuTotal() >= cpuBudget)) {
      const c0 = process.cpuUsage(),
        w0 = performance.now();
      const r = trainer.trainStep();
      const c = process.cpuUsage(c0);
      time[r.stage].cpu += (c.user + c.system) / 1e6;
      time[r.stage].wall += (performance.now() - w0) / 1000;
      time[r.stage].n++;
      if (guard.record({ loss: r.loss, skipped: r.skipped })) {
        log.append({ type: "skipped", step: trainer.step, stage: r.stage, loss: String(r.loss) });
        await tick();
        continue;
      }
      log.append({ type: "train", step: trainer.step, stage: r.stage, loss: r.loss, cpuTotal: +cpuTotal().toFixed(2) });
      points[r.stage].push([trainer.step, r.loss]);
      progress.update(trainer.step, [`${r.stage} loss ${r.loss.toFixed(4)}`]);
      if (trainer.step % v.checkpoint_every === 0) {
        save();
        drawChart();
      }
      await tick();
    }
  } finally {
    progress.done();
    process.off("SIGINT", onSigint);
  }
  if (guard.tripped) {
    drawChart();
    return stopDiverged(guard, trainer.step, t.lr, save, ckptFile);
  }
  save();
  drawChart();
  const cpu = process.cpuUsage(cpu0);
  for (const s of ["vae", "unet"] as const)
    if (time[s].n)
      print(
        `${s === "vae" ? "autoencoder" : "U-Net"}: ${time[s].n} steps, ${((1000 * time[s].cpu) / time[s].n).toFixed(0)} ms CPU and ${((1000 * time[s].wall) / time[s].n).toFixed(0)} ms wall per step`,
      );
  print(
    `${stop ? "interrupted" : "trained"}: step ${trainer.step} of ${total} in ${formatDuration((performance.now() - wall0) / 1000)} wall, ${formatDuration((cpu.user + cpu.system) / 1e6)} CPU (${(cpuTotal() / 60).toFixed(1)} CPU minutes of training in all); wrote ${ckptFile}`,
  );
  if (stop) {
    print(`continue with: wnn train ldm --resume ${dir}`);
    return 130;
  }
  if (overBudget)
    print(
      `stopped at the CPU budget: ${(cpuTotal() / 60).toFixed(1)} of ${v.max_cpu_minutes} CPU minutes at step ${trainer.step} (${trainer.stage === "vae" ? "in the autoencoder's stage" : `U-Net step ${trainer.step - t.vaeSteps} of ${t.steps}`}); continue with: wnn train ldm --resume ${dir} --max_cpu_minutes M`,
    );
  if (trainer.step > t.vaeSteps) {
    const captions = Array.from({ length: 10 }, (_, d) => FORMS(d)).flat();
    const x = trainer.sampler().generate(captions, {
      steps: v.sample_steps,
      guidance: v.guidance,
      generator: new Generator(t.seed + 1),
    });
    savePng(join(dir, "grid.png"), imageGrid(x, 10, 4, { scale: 2 }));
    print(`wrote ${join(dir, "grid.png")} (a row per digit: ${FORMS(7).join(", ")})`);
  }
  return 0;
}

/** Whether a checkpoint is a latent-diffusion run's. */
export const isLdmCheckpoint = (ckpt: LoadedCheckpoint): boolean =>
  (ckpt.config as { kind?: unknown } | undefined)?.kind === "ldm";

/** Captions per call of the sampler in `wnn generate` (its U-Net sees twice as many latents under guidance). */
export const LDM_GENERATE_CHUNK = 200;

/** Bytes a pixel of the picture may take while it is made and encoded: the grid, the PNG's scanlines, and the
 * deflated stream at most their size, copied into its chunk and into the file's bytes (src/io/png.ts). */
const PICTURE_BYTES_PER_PIXEL = 5;

/**
 * The memory of `wnn generate` on a latent-diffusion run drawing a grid of rows × cols digits: the weights, the
 * picture (PICTURE_BYTES_PER_PIXEL bytes a pixel of the grid, held from the first chunk on), and twice the live
 * peak of one sampler call on a chunk of at most LDM_GENERATE_CHUNK captions (one DDIM step of the U-Net on 2b
 * latents, the text encoder and the decoder), counted on shape-only tensors (cli/memory.ts, inferenceNeed). The
 * digits are drawn a chunk at a time and painted into the grid, so only the picture grows with the digits.
 */
export function ldmGenerateMemory(
  model: LatentDiffusion,
  rows: number,
  cols: number,
  guidance: number,
  budgetBytes = Infinity,
): {
  bytes: number;
  weights: number;
  picture: number;
  chunk: number;
  live: number | null;
  how: string;
  stopped: boolean;
} {
  const weights = [model.vae, model.text, model.unet].reduce(
    (n, m) => n + m.parameters().reduce((k, p) => k + 4 * p.numel(), 0),
    0,
  );
  const picture = PICTURE_BYTES_PER_PIXEL * ImageGridWriter.bytes(rows, cols, [1, 28, 28], GRID);
  const chunk = Math.min(LDM_GENERATE_CHUNK, rows * cols);
  const need = inferenceNeed(
    chunk,
    (b) =>
      model.generate(new Array<string>(b).fill(""), {
        steps: 1,
        guidance,
        generator: new Generator(0),
        sampler: "ddim",
      }),
    weights + picture,
    budgetBytes,
    `the weights, the picture (${PICTURE_BYTES_PER_PIXEL} bytes a pixel)`,
  );
  return { bytes: need.bytes, weights, picture, chunk, live: need.live, how: need.how, stopped: need.stopped };
}

/** The grid's layout: digits at twice their size. */
const GRID = { scale: 2 } as const;

/**
 * `wnn generate --checkpoint <ldm run> "caption"`: n digits for the caption (a PNG); with --judge, the class
 * accuracy and how often each attribute word holds. Without a caption: the measurement over every digit and
 * the four one-word forms (thick, thin, slanted, upright), n digits each. The memory is weighed first
 * (ldmGenerateMemory) and refused past the budget; the digits are drawn LDM_GENERATE_CHUNK at a time, each
 * chunk painted into the grid and judged, then dropped.
 */
export function ldmGenerate(
  ckpt: LoadedCheckpoint,
  prompt: string | undefined,
  o: {
    n: number;
    steps: number;
    guidance: number;
    seed: number;
    sampler: "ddim" | "ddpm";
    judge?: string;
    file: string;
    maxMemory?: number;
    options?: string;
  },
  out: Output,
): number {
  const cmd = "generate";
  const model = loadLDM(ckpt);
  const captions = prompt !== undefined ? [prompt] : Array.from({ length: 10 }, (_, d) => FORMS(d)).flat();
  for (const c of captions) model.tokenizer.prompt(c, model.config.text.maxPositions); // unknown words: an error first
  const all = captions.flatMap((c) => new Array<string>(o.n).fill(c));
  const budget = memoryBudget(o.maxMemory, false);
  const need = ldmGenerateMemory(model, captions.length, o.n, o.guidance, budget.bytes);
  if (need.bytes > budget.bytes)
    throw overMemoryBudget(cmd, o.options ?? "", need.bytes, budget, need.how, need.stopped);
  const classifier = o.judge === undefined ? null : loadJudge(o.judge); // before the digits: a bad run refused first
  const grid = new ImageGridWriter(captions.length, o.n, [1, 28, 28], GRID);
  let asked = 0,
    correct = 0;
  const holds: Record<string, { n: number; yes: number }> = {};
  const g = new Generator(o.seed);
  let ms = 0,
    cpuUs = 0;
  for (let at = 0; at < all.length; at += LDM_GENERATE_CHUNK) {
    const part = all.slice(at, at + LDM_GENERATE_CHUNK);
    const t0 = performance.now(),
      c0 = process.cpuUsage();
    const x = model.generate(part, { steps: o.steps, guidance: o.guidance, generator: g, sampler: o.sampler }); // (b, 1, 28, 28)
    const c = process.cpuUsage(c0);
    ms += performance.now() - t0;
    cpuUs += c.user + c.system;
    grid.add(x, at);
    if (classifier === null) continue;
    const preds = judge(classifier, x).predictions;
    const xs = x.dataSync();
    part.forEach((caption, i) => {
      const { digit, words } = parseCaption(caption);
      if (digit === null) return;
      asked++;
      if (preds[i] === digit) correct++;
      const stats = digitStats(xs, i * 784);
      for (const w of words) {
        const h = (holds[w] ??= { n: 0, yes: 0 });
        h.n++;
        if (attributeHolds(w, stats, digit, model.thresholds)) h.yes++;
      }
    });
  }
  const seconds = ms / 1000,
    cpuSeconds = cpuUs / 1e6;
  savePng(o.file, grid.image);
  out.write(
    `${all.length} digit(s) for ${captions.length === 1 ? JSON.stringify(captions[0]) : `${captions.length} captions`} by ${o.sampler === "ddpm" ? "DDPM" : `DDIM, ${o.steps} steps`}, guidance ${o.guidance}, in ${formatDuration(seconds)} wall (${formatDuration(cpuSeconds)} CPU); wrote ${o.file}\n`,
  );
  if (classifier === null) return 0;
  const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)}%` : "—");
  out.write(
    `judged by ${o.judge}: class accuracy ${pct(correct, asked)} (${correct}/${asked}); attribute holds (against the class median; chance ≈ 50%): ${Object.entries(
      holds,
    )
      .map(([w, h]) => `${w} ${pct(h.yes, h.n)} (${h.yes}/${h.n})`)
      .join(", ")}\n`,
  );
  // the ceiling: the same judge on the autoencoder's reconstructions of test digits (with a caption's measurement only)
  const rec = prompt === undefined ? reconstructionCeiling(model, classifier) : null;
  if (rec)
    out.write(
      `the autoencoder's reconstructions of the first ${rec.n} test digits (the ceiling): class accuracy ${pct(rec.correct, rec.n)} (${rec.correct}/${rec.n}; the test digits themselves ${pct(rec.testCorrect, rec.n)} (${rec.testCorrect}/${rec.n})); their captions' words still hold: ${Object.entries(
        rec.holds,
      )
        .map(([w, h]) => `${w} ${pct(h.yes, h.n)} (${h.yes}/${h.n})`)
        .join(", ")}\n`,
    );
  out.write(
    JSON.stringify({
      n: all.length,
      steps: o.sampler === "ddpm" ? model.schedule.timesteps : o.steps,
      guidance: o.guidance,
      seconds: +seconds.toFixed(1),
      cpuSeconds: +cpuSeconds.toFixed(1),
      accuracy: asked ? correct / asked : null,
      holds: Object.fromEntries(Object.entries(holds).map(([w, h]) => [w, h.yes / h.n])),
      ...(rec && {
        reconstruction: {
          n: rec.n,
          accuracy: rec.correct / rec.n,
          testAccuracy: rec.testCorrect / rec.n,
          holds: Object.fromEntries(Object.entries(rec.holds).map(([w, h]) => [w, h.yes / h.n])),
        },
      }),
    }) + "\n",
  );
  return 0;
}

/**
 * The judge on x̂ = D(μ(x)) for the first 500 test digits, beside the test digits themselves; and, for each test digit
 * whose own caption has a word (thick, thin, slanted, upright), whether its reconstruction keeps it (against the
 * class median, as the drawn digits are judged).
 */
function reconstructionCeiling(
  model: LatentDiffusion,
  classifier: ReturnType<typeof loadJudge>,
): { n: number; correct: number; testCorrect: number; holds: Record<string, { n: number; yes: number }> } {
  const { test } = loadMnist();
  const n = Math.min(500, test.count);
  const index = Array.from({ length: n }, (_, i) => i);
  const x = model.reconstruct(test, index); //                                     (n, 1, 28, 28)
  const preds = judge(classifier, x).predictions,
    own = judge(classifier, digitsTensor(test.images, 0, n)).predictions;
  const xs = x.dataSync();
  let correct = 0,
    testCorrect = 0;
  const holds: Record<string, { n: number; yes: number }> = {};
  for (const i of index) {
    const y = test.labels[i]!;
    if (preds[i] === y) correct++;
    if (own[i] === y) testCorrect++;
    const stats = digitStats(xs, i * 784);
    for (const w of attributes(digitStats(test.images, i * 784), y, model.thresholds)) {
      const h = (holds[w] ??= { n: 0, yes: 0 });
      h.n++;
      if (attributeHolds(w, stats, y, model.thresholds)) h.yes++;
    }
  }
  return { n, correct, testCorrect, holds };
}
