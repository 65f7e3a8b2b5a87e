// `wnn train ddpm` and `wnn generate`: a class-conditional DDPM on the `mnist` package's digits (the recipe
// is src/models/ddpm/train.ts; the U-Net src/models/ddpm/unet.ts; the samplers src/models/ddpm/diffusion.ts).
// This file reads the options, shows progress, writes the run's folder (checkpoint, log, loss curve, a 10×10
// grid with a row per digit, a denoising strip), handles Ctrl-C and --resume, and samples digits to a PNG.

import { loadavg } from "node:os";
import { join } from "node:path";
import { tensor, zeros } from "../src/engine/creation.js";
import { noGrad } from "../src/engine/autograd.js";
import { tidy } from "../src/engine/scope.js";
import { ArgumentError, LoadError } from "../src/engine/errors.js";
import { Generator } from "../src/engine/rng.js";
import type { Tensor } from "../src/engine/tensor.js";
import { imageGrid, lineChart } from "../src/io/chart.js";
import { saveCheckpoint, savePng } from "../src/io/node.js";
import { DDPM_SCHEDULE, sample, type SampleOptions } from "../src/models/ddpm/diffusion.js";
import {
  classDenoiser,
  DDPM_TRAIN,
  DDPMTrainer,
  ddpmCheckpointConfig,
  loadDDPM,
  type DigitSet,
} from "../src/models/ddpm/train.js";
import { NonFiniteGuard } from "../src/recipes/loop.js";
import { probeFirstStep } from "../src/recipes/memory-probe.js";
import { checkInferenceMemory, checkTrainingMemory, givenNumbers, MAX_MEMORY_OPTION } from "./memory.js";
import { mnistCheckpointConfig } from "./mnist.js";
import { PRESETS, unetConfig, type UNet } from "../src/models/ddpm/unet.js";
import type { Denoiser, Schedule } from "../src/models/ddpm/diffusion.js";
import { LeNet5, lenetConfig } from "../src/models/lenet5/model.js";
import { digitsTensor, frechetDistance, judge } from "../src/models/ddpm/quality.js";
import { loadMnist } from "../src/node.js";
import { cat } from "../src/ops/shape.js";
import { checkStableDiffusionMemory, stableDiffusionCommand } from "./sd.js";
import { isLdmCheckpoint, ldmGenerate } from "./ldm.js";
import { ldmCheckpointConfig } from "../src/models/latent-diffusion/train.js";
import { UsageError, helpText, parseOptions, type OptionSpecs } from "./args.js";
import { Progress, formatDuration, type Output } from "./progress.js";
import {
  CHECKPOINT,
  JsonlLog,
  checkOutputFile,
  checkResumeOptions,
  checkRunDir,
  createRunDir,
  defaultRunDir,
  describeRun,
  freshFile,
  loadRunCheckpoint,
  stopDiverged,
} from "./rundir.js";

const P = PRESETS["ddpm-mnist"];

export const DDPM_OPTIONS = {
  steps: { kind: "int", min: 1, max: 10_000_000, default: DDPM_TRAIN.steps, help: "optimizer steps" },
  batch_size: {
    kind: "int",
    min: 1,
    max: 1024,
    default: DDPM_TRAIN.batchSize,
    help: "digits per step (drawn at random)",
  },
  lr: { kind: "number", min: 0, max: 1e6, default: DDPM_TRAIN.lr, help: "Adam's learning rate (after the warmup)" },
  warmup: {
    kind: "int",
    min: 0,
    max: 10_000_000,
    default: DDPM_TRAIN.warmup,
    help: "steps of linear learning-rate warmup",
  },
  ema: {
    kind: "number",
    min: 0,
    max: 0.99999,
    default: DDPM_TRAIN.ema,
    help: "decay of the weights' moving average that samples",
  },
  p_uncond: {
    kind: "number",
    min: 0,
    max: 1,
    default: DDPM_TRAIN.pUncond,
    help: "probability of dropping a label to ∅ (classifier-free guidance)",
  },
  grad_clip: {
    kind: "number",
    min: 0,
    max: 1_000_000,
    default: DDPM_TRAIN.gradClip,
    help: "clip the global gradient norm (0: off)",
  },
  channels: {
    kind: "int",
    min: 1,
    max: 256,
    default: P.channels,
    help: "C₀, the U-Net's first width (levels ×1, ×2, ×2)",
  },
  schedule: {
    kind: "string",
    choices: ["linear", "cosine"],
    default: DDPM_SCHEDULE.schedule,
    help: "the β schedule (T = 1000)",
  },
  prediction: {
    kind: "string",
    choices: ["epsilon", "v"],
    default: DDPM_SCHEDULE.prediction,
    help: "what the U-Net predicts",
  },
  seed: {
    kind: "int",
    min: 0,
    max: 2 ** 32 - 1,
    default: DDPM_TRAIN.seed,
    help: "seed of the weights, the batches and the noise",
  },
  checkpoint_every: { kind: "int", min: 1, max: 10_000_000, default: 250, help: "save a checkpoint every N steps" },
  out: { kind: "string", metavar: "DIR", help: "the run's folder (default runs/ddpm-<date>-<time>)" },
  max_memory: MAX_MEMORY_OPTION,
  resume: { kind: "string", metavar: "DIR", help: "continue the run in DIR from its checkpoint" },
  log_interval: {
    kind: "int",
    min: 1,
    max: 10_000_000,
    default: 25,
    help: "print a line every N steps when not on a terminal",
  },
  sample_steps: { kind: "int", min: 1, max: 1000, default: 50, help: "DDIM steps of the pictures drawn at the end" },
  guidance: { kind: "number", min: 0, max: 100, default: 3, help: "guidance scale of the pictures drawn at the end" },
  max_bad_steps: {
    kind: "int",
    min: 1,
    max: 1000,
    default: 5,
    help: "stop (saving a checkpoint) after this many steps in a row whose loss is NaN or infinite; each is skipped",
  },
  max_cpu_minutes: {
    kind: "number",
    min: 0,
    exclusiveMin: true,
    max: 1e7,
    metavar: "M",
    help: "stop (saving, drawing the pictures) once the run's training has used M minutes of CPU (user + system, all threads, counted across --resume)",
  },
} as const satisfies OptionSpecs;

/** The options a resumed run may change; the rest are the checkpoint's. */
const RESUMABLE = [
  "steps",
  "max_memory",
  "log_interval",
  "checkpoint_every",
  "sample_steps",
  "guidance",
  "max_bad_steps",
  "max_cpu_minutes",
];

export const DDPM_HELP = helpText(
  "wnn train ddpm [options]",
  `Train a class-conditional DDPM (Ho et al. 2020) on the \`mnist\` package's 8,000 training digits: a U-Net
(widths C₀, 2C₀, 2C₀ at 28², 14², 7²; GroupNorm/SiLU residual blocks with the time and class embedding;
self-attention at 7²) predicts the noise of x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε, T = 1000; labels are dropped to ∅
with probability p_uncond so that one network samples with classifier-free guidance.

Writes DIR/checkpoint.safetensors (every --checkpoint_every steps, at the end and on Ctrl-C; with the
weights' moving average, which samples), DIR/log.jsonl, DIR/loss.png, and at the end DIR/grid.png (a row
per digit 0–9, DDIM, guidance --guidance) and DIR/strip.png (x_t from t = T to 0, one row per digit).
Ctrl-C saves and exits with code 130; --resume DIR continues where the run stopped.`,
  DDPM_OPTIONS,
  "example: wnn train ddpm --out runs/ddpm && wnn generate --checkpoint runs/ddpm --digit 7 --steps 50 --guidance 3",
);

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function trainDdpm(args: readonly string[], out: Output): Promise<number> {
  const cmd = "train ddpm";
  const { values: v, given, help } = parseOptions(cmd, args, DDPM_OPTIONS);
  if (help) {
    out.write(DDPM_HELP);
    return 0;
  }
  const print = (s: string): void => void out.write(s + "\n");
  const wallStart = performance.now();
  let trainer: DDPMTrainer, dir: string, log: JsonlLog;
  if (v.resume !== undefined) {
    checkResumeOptions(cmd, given, RESUMABLE);
    dir = v.resume;
    const { ckpt } = loadRunCheckpoint(dir, cmd, ddpmCheckpointConfig, { resume: true }); // checked before the digits are read
    loadDDPM(ckpt); // and its weights against its U-Net (the digits take seconds to read)
    DDPMTrainer.checkResumable(ckpt);
    trainer = DDPMTrainer.fromCheckpoint(ckpt, loadMnist().train, given.has("steps") ? { steps: v.steps } : {});
    log = new JsonlLog(join(dir, "log.jsonl"));
    log.retain((e) => (e.step as number) <= trainer.step);
    print(`resuming ${dir} at step ${trainer.step} of ${trainer.config.steps}`);
  } else {
    if (v.out !== undefined) checkRunDir(v.out, cmd);
    const make = (batchSize: number, digits: DigitSet): DDPMTrainer =>
      new DDPMTrainer(
        unetConfig("ddpm-mnist", { channels: v.channels }),
        { schedule: v.schedule as "linear" | "cosine", prediction: v.prediction as "epsilon" | "v" },
        {
          steps: v.steps,
          batchSize,
          lr: v.lr,
          warmup: v.warmup,
          ema: v.ema,
          pUncond: v.p_uncond,
          gradClip: v.grad_clip,
          seed: v.seed,
        },
        digits,
      );
    try {
      // the memory of this U-Net and batch, from its own first step at small batches, before anything of its size
      // (the step's memory does not depend on the digits: one blank digit stands in for them, and the 8,000 are read
      // only for a run that fits)
      const blank: DigitSet = { images: new Float32Array(28 * 28), labels: Int32Array.of(0), count: 1 };
      checkTrainingMemory(cmd, givenNumbers(given, v), v.batch_size, v.max_memory, (b) => {
        const probe = make(b, blank);
        probeFirstStep(() => probe.trainStep());
      });
      trainer = make(v.batch_size, loadMnist().train);
    } catch (e) {
      if (e instanceof ArgumentError) throw new UsageError(`${cmd}: ${e.message.replace(`${cmd}: `, "")}`);
      throw e;
    }
    dir = v.out ?? defaultRunDir("ddpm");
    createRunDir(dir, cmd);
    log = new JsonlLog(join(dir, "log.jsonl"));
    log.retain(() => false);
  }
  const t = trainer.config,
    s = trainer.schedule.config,
    c = trainer.model.config;
  print(
    `U-Net: widths ${c.channelMult.map((m) => m * c.channels).join(", ")}, ${c.numResBlocks} residual block(s) per level, attention at level(s) ${c.attnLevels.join(", ")}, ${c.numClasses} classes + ∅; ${trainer.model.numParameters().toLocaleString("en-US")} parameters`,
  );
  print(`diffusion: T = ${s.timesteps}, ${s.schedule} β schedule, predicting ${s.prediction === "v" ? "v" : "ε"}`);
  print(
    `training: ${t.steps} steps of ${t.batchSize} digits (of ${trainer.data.count.toLocaleString("en-US")}), Adam lr ${t.lr} (warmup ${t.warmup}), clip ${t.gradClip}, EMA ${t.ema}, p_uncond ${t.pUncond}, seed ${t.seed}; writing ${dir}/`,
  );

  const ckptFile = join(dir, CHECKPOINT);
  const points: [number, number][] = [];
  // the CPU the run's training used before this process (the last kept step's total), for --max_cpu_minutes
  let cpuBefore = 0;
  for (const e of log.read()) {
    if (e.type !== "train") continue;
    points.push([e.step as number, e.loss as number]);
    if (typeof e.cpuTotal === "number") cpuBefore = e.cpuTotal;
  }
  const drawChart = (): void => {
    // the per-step loss is noisy (t is drawn per digit): the chart adds its moving average over 50 steps
    const smooth = points.map(([x], i) => {
      const from = Math.max(0, i - 49);
      let sum = 0;
      for (let k = from; k <= i; k++) sum += points[k]![1];
      return [x, sum / (i - from + 1)] as [number, number];
    });
    savePng(
      join(dir, "loss.png"),
      lineChart({
        series: [
          { name: "one batch", points, color: [174, 199, 232] },
          { name: "mean of 50", points: smooth },
        ],
        title: "DDPM on MNIST: mean squared error of the predicted noise",
        xLabel: "step",
        yLabel: "loss",
      }),
    );
  };
  const save = (): void => saveCheckpoint(ckptFile, trainer.checkpoint());

  let stop = false;
  const onSigint = (): void => {
    if (stop) process.exit(130);
    stop = true;
  };
  process.on("SIGINT", onSigint);
  const progress = new Progress({ total: t.steps, start: trainer.step, out, every: v.log_interval });
  let trainMs = 0,
    steps = 0;
  const guard = new NonFiniteGuard(v.max_bad_steps); // the shared loop's count of NaN/infinite losses (src/recipes/loop.ts)
  const cpu0 = process.cpuUsage();
  // user + system seconds of every thread of this process since it started training, plus the earlier processes' of this run
  const cpuTotal = (): number => {
    const c = process.cpuUsage(cpu0);
    return cpuBefore + (c.user + c.system) / 1e6;
  };
  const cpuBudget = v.max_cpu_minutes === undefined ? Infinity : 60 * v.max_cpu_minutes;
  let overBudget = false;
  try {
    while (!stop && trainer.step < t.steps && !guard.tripped && !(overBudget = cpuTotal() >= cpuBudget)) {
      const t0 = performance.now();
      const r = tidy("training step", () => trainer.trainStep()); // its tensors in the kernels' memory, freed at the end
      trainMs += performance.now() - t0;
      if (guard.record(r)) {
        log.append({ type: "skipped", step: trainer.step, loss: String(r.loss) });
        await tick();
        continue;
      }
      steps++;
      log.append({ type: "train", step: trainer.step, loss: r.loss, lr: r.lr, cpuTotal: +cpuTotal().toFixed(2) });
      points.push([trainer.step, r.loss]);
      progress.update(trainer.step, [`loss ${r.loss.toFixed(4)}`]);
      if (trainer.step % v.checkpoint_every === 0) {
        save();
        drawChart();
      }
      await tick();
    }
  } finally {
    progress.done();
  }
  if (guard.tripped) {
    drawChart();
    process.off("SIGINT", onSigint);
    return stopDiverged(guard, trainer.step, t.lr, save, ckptFile);
  }
  save();
  drawChart();
  if (stop) {
    process.off("SIGINT", onSigint);
    print(
      `interrupted: saved ${ckptFile} at step ${trainer.step} (${(cpuTotal() / 60).toFixed(1)} CPU minutes of training in all); continue with: wnn train ddpm --resume ${dir}`,
    );
    return 130;
  }
  process.off("SIGINT", onSigint);
  if (overBudget)
    print(
      `stopped at the CPU budget: ${(cpuTotal() / 60).toFixed(1)} of ${v.max_cpu_minutes} CPU minutes at step ${trainer.step}; continue with: wnn train ddpm --resume ${dir} --max_cpu_minutes M`,
    );
  print(
    `trained: step ${trainer.step} of ${t.steps} in ${formatDuration((performance.now() - wallStart) / 1000)}${steps ? ` (${(trainMs / steps).toFixed(0)} ms per step)` : ""}; ${(cpuTotal() / 60).toFixed(1)} CPU minutes of training in all`,
  );

  const t1 = performance.now();
  const { grid, strip } = pictures(trainer.ema, trainer.schedule, {
    steps: v.sample_steps,
    guidance: v.guidance,
    seed: t.seed,
  });
  savePng(join(dir, "grid.png"), grid);
  savePng(join(dir, "strip.png"), strip);
  print(
    `wrote ${ckptFile}, ${join(dir, "log.jsonl")}, ${join(dir, "loss.png")}, ${join(dir, "grid.png")}, ${join(dir, "strip.png")} (pictures in ${formatDuration((performance.now() - t1) / 1000)})`,
  );
  return 0;
}

/** One call of the denoiser inside a memory scope: the U-Net's activations live in the kernels' memory and are
 * freed when it returns; only its output (B, 1, 28, 28) leaves, as an ordinary tensor. */
const scoped =
  (net: Denoiser): Denoiser =>
  (x, t) =>
    tidy("denoising step", () => net(x, t));

/**
 * The denoiser of `labels` (B digits), CHUNK digits at a time, each chunk's U-Net call in a memory scope of its
 * own: a scope frees its buffers only when it ends, so one over all B digits kept every activation of the U-Net
 * on 2B images at once (7.3 MiB a digit at 16 channels: `--digit 1 --n 1024` peaked at 7.9 GiB). Chunked, the
 * peak is one chunk's activations and the sampler's few (B, 1, 28, 28) tensors. GroupNorm normalizes each image
 * alone, so the digits do not depend on the chunking.
 */
function chunked(model: UNet, labels: Int32Array, w: number, counting = false): Denoiser {
  const B = labels.length;
  const parts: { at: number; n: number; net: Denoiser }[] = [];
  for (let at = 0; at < B; at += GENERATE_CHUNK) {
    const n = Math.min(GENERATE_CHUNK, B - at);
    // counting on shape-only tensors, the chunks before the last make only their output: each chunk's scope holds
    // the same buffers, and the last one's comes when all the others' outputs are held (counted, a U-Net call
    // costs about 20 ms: 160 of them at --n 1024 took 3.5 s)
    const net: Denoiser =
      counting && at + n < B
        ? () => zeros([n, 1, 28, 28])
        : scoped(classDenoiser(model, tensor(labels.subarray(at, at + n), { shape: [n] }), w));
    parts.push({ at, n, net });
  }
  if (parts.length === 1) return parts[0]!.net;
  return (x, t) =>
    cat(
      parts.map(({ at, n, net }) => net(x.narrow(0, at, n), t.slice(at, at + n))),
      0,
    );
}

/** Digits per chunk of `wnn generate` (the U-Net sees twice as many images under guidance). */
const GENERATE_CHUNK = 64;

/** x_0 (B, 1, 28, 28) in [−1, 1] → pixels in [0, 1]. */
const toPixels = (x: Tensor): Tensor => x.add(1).mul(0.5).clamp(0, 1);

/** The 10×10 grid (a row per digit) and the denoising strip (a row per digit, x_t at 10 points from t = T to 0). */
function pictures(model: UNet, schedule: Schedule, o: { steps: number; guidance: number; seed: number }) {
  const labels = Int32Array.from({ length: 100 }, (_, i) => Math.floor(i / 10)); // a row per digit
  const g = new Generator(o.seed + 1);
  const x = sample(
    schedule,
    scoped(classDenoiser(model, tensor(labels, { shape: [100] }), o.guidance)),
    [100, 1, 28, 28],
    {
      sampler: "ddim",
      steps: o.steps,
      generator: g,
    },
  );
  const grid = imageGrid(toPixels(x), 10, 10, { scale: 2 });
  const first = Int32Array.from({ length: 10 }, (_, d) => d);
  const snaps: Tensor[] = [];
  const keep = new Set(Array.from({ length: 10 }, (_, k) => Math.round((k * (o.steps - 1)) / 9)));
  let x0: Tensor | null = null;
  sample(schedule, scoped(classDenoiser(model, tensor(first, { shape: [10] }), o.guidance)), [10, 1, 28, 28], {
    sampler: "ddim",
    steps: o.steps,
    generator: new Generator(o.seed + 2),
    onStep: (xt, _t, i) => {
      if (keep.has(i)) snaps.push(toPixels(xt.clamp(-1, 1)).unsqueeze(1)); // (10, 1, 1, 28, 28)
      x0 = xt;
    },
  });
  void x0;
  const strip = imageGrid(cat(snaps, 1).reshape([10 * snaps.length, 1, 28, 28]), 10, snaps.length, { scale: 2 });
  return { grid, strip };
}

/** The LeNet-5 of a `wnn train cnn` run: the judge of generated digits. */
export function loadJudge(judgeDir: string): LeNet5 {
  const { ckpt, checked: cfg } = loadRunCheckpoint(judgeDir, "generate", (k) => mnistCheckpointConfig(k, "cnn"), {
    strict: true,
  });
  const classifier = new LeNet5(lenetConfig("lenet5", { c1: cfg.c1, c3: cfg.c3 }));
  classifier.loadStateDict(ckpt.model);
  return classifier;
}

/**
 * The judge's verdict on generated digits (N, 1, 28, 28) in [0, 1] drawn for `labels`: class accuracy, and the
 * Fréchet distance of F6 features to the first N test digits, beside the same distance for N training digits
 * (the floor: real digits) and for N images of uniform noise (the ceiling).
 */
function measure(
  judgeDir: string,
  images: Tensor,
  labels: Int32Array,
): { accuracy: number; correct: number; fd: number; floor: number; ceiling: number } {
  const classifier = loadJudge(judgeDir);
  const N = labels.length;
  const { train, test } = loadMnist();
  if (N < 2 || N > test.count)
    throw new UsageError(`generate: --judge needs between 2 and ${test.count} digits, got ${N}`);
  const gen = judge(classifier, images);
  let correct = 0;
  for (let i = 0; i < N; i++) if (gen.predictions[i] === labels[i]) correct++;
  const d = gen.dim;
  const real = judge(classifier, digitsTensor(test.images, 0, N)).features;
  const floor = judge(classifier, digitsTensor(train.images, 0, N)).features;
  const g = new Generator(12345);
  const noise = judge(
    classifier,
    tensor(
      Float32Array.from({ length: N * 784 }, () => g.random()),
      { shape: [N, 1, 28, 28] },
    ),
  ).features;
  return {
    accuracy: correct / N,
    correct,
    fd: frechetDistance(gen.features, N, real, N, d),
    floor: frechetDistance(floor, N, real, N, d),
    ceiling: frechetDistance(noise, N, real, N, d),
  };
}

// ---------------------------------------------------------------------------------------------------
// wnn generate

export const GENERATE_OPTIONS = {
  checkpoint: {
    kind: "string",
    metavar: "DIR",
    help: "a run of `wnn train ddpm` or `wnn train ldm` (its folder or checkpoint file)",
  },
  model: {
    kind: "string",
    metavar: "DIR",
    help: "a diffusers Stable Diffusion folder (unet/, vae/, text_encoder/, tokenizer/, scheduler/; safetensors only); the prompt follows the options",
  },
  prompt: { kind: "string", help: "--model: the text (or give it as the last argument)" },
  size: { kind: "int", min: 8, max: 2048, default: 512, help: "--model: the image's side in pixels" },
  digit: { kind: "int", min: 0, max: 9, help: "the digit to draw (default: a row of each digit 0–9)" },
  n: { kind: "int", min: 1, max: 1024, default: 16, help: "images per digit" },
  sampler: {
    kind: "string",
    choices: ["ddim", "ddpm"],
    default: "ddim",
    help: "DDIM (--steps) or DDPM's 1,000 ancestral steps",
  },
  steps: { kind: "int", min: 1, max: 1000, default: 50, help: "DDIM steps" },
  eta: { kind: "number", min: 0, max: 10, default: 0, help: "DDIM's η (0: deterministic; 1: DDPM's variance)" },
  guidance: {
    kind: "number",
    min: 0,
    max: 100,
    default: 3,
    help: "classifier-free guidance scale w (0: unconditional, 1: conditional; --model: 7.5 unless given)",
  },
  seed: { kind: "int", min: 0, max: 2 ** 32 - 1, default: 0, help: "seed of the noise" },
  raw: { kind: "flag", help: "sample with the trained weights instead of their moving average" },
  max_memory: MAX_MEMORY_OPTION,
  strict: {
    kind: "flag",
    help: "refuse a checkpoint holding NaN or infinite weights (without it: a warning naming them)",
  },
  out: { kind: "string", metavar: "FILE", help: "the PNG to write (default: DIR/generated-<digit>.png)" },
  judge: {
    kind: "string",
    metavar: "DIR",
    help: "a LeNet-5 run of `wnn train cnn`: also measure the class accuracy and the Fréchet distance of its F6 features to as many test digits",
  },
} as const satisfies OptionSpecs;

export const GENERATE_HELP = helpText(
  "wnn generate --checkpoint DIR [options]",
  "Draw digits with a DDPM trained by `wnn train ddpm`: DDIM in --steps steps (or DDPM's ancestral sampler), with\nclassifier-free guidance of scale --guidance. Writes a PNG grid. With --model DIR instead: Stable Diffusion\nfrom a diffusers folder, text to image.",
  GENERATE_OPTIONS,
  'examples: wnn generate --checkpoint runs/ddpm --digit 7 --steps 50 --guidance 3\n          wnn generate --model ./stable-diffusion-v1-5 "a photograph of an astronaut riding a horse" --steps 20',
);

/** The arguments without the one that is not an option nor an option's value (the prompt), and that one. */
function splitPrompt(args: readonly string[]): { options: string[]; prompt?: string } {
  const options: string[] = [];
  let prompt: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const spec =
      a.startsWith("--") && !a.includes("=")
        ? (GENERATE_OPTIONS as Record<string, { kind: string }>)[a.slice(2).replace(/-/g, "_")]
        : undefined;
    if (a.startsWith("-")) {
      options.push(a);
      if (spec && spec.kind !== "flag" && i + 1 < args.length) options.push(args[++i]!);
    } else if (prompt === undefined) prompt = a;
    else options.push(a); // a second one: parseOptions reports it
  }
  return { options, prompt };
}

export function generateCommand(args: readonly string[], out: Output): number {
  const cmd = "generate";
  const split = splitPrompt(args);
  const { values: v, given, help } = parseOptions(cmd, split.options, GENERATE_OPTIONS);
  if (help) {
    out.write(GENERATE_HELP);
    return 0;
  }
  if (v.model !== undefined) {
    if (v.checkpoint !== undefined)
      throw new UsageError(`${cmd}: give --model (Stable Diffusion) or --checkpoint (a DDPM run), not both`);
    const prompt = v.prompt ?? split.prompt;
    if (prompt === undefined)
      throw new UsageError(`${cmd}: --model needs a prompt: wnn generate --model DIR "a prompt"`);
    if (v.out !== undefined) checkOutputFile(v.out, cmd);
    const guidance = given.has("guidance") ? v.guidance : 7.5;
    // the memory of one image at --size, from the configs alone, before any weight is read
    checkStableDiffusionMemory(v.model, { guidance, size: v.size }, v.max_memory, cmd);
    return stableDiffusionCommand(
      v.model,
      prompt,
      {
        steps: given.has("steps") ? v.steps : 20,
        guidance,
        size: v.size,
        seed: v.seed,
        out: v.out ?? freshFile("generated.png"),
      },
      out,
    );
  }
  const prompt = v.prompt ?? split.prompt;
  if (v.checkpoint === undefined && prompt !== undefined)
    throw new UsageError(
      `${cmd}: a prompt needs --model DIR (a Stable Diffusion folder) or --checkpoint DIR (a run of \`wnn train ldm\`)`,
    );
  if (v.checkpoint === undefined)
    throw new UsageError(
      `${cmd}: --checkpoint DIR (a run of \`wnn train ddpm\` or \`wnn train ldm\`) or --model DIR (a Stable Diffusion folder) is required`,
    );
  if (v.out !== undefined) checkOutputFile(v.out, cmd); // before the checkpoint is read
  const { ckpt, checked } = loadRunCheckpoint(
    v.checkpoint,
    cmd,
    (k) => {
      if (isLdmCheckpoint(k)) return (ldmCheckpointConfig(k), "ldm" as const);
      if ((k.config as { kind?: unknown } | undefined)?.kind === "ddpm")
        return (ddpmCheckpointConfig(k), "ddpm" as const);
      throw new LoadError(
        `this is ${describeRun(k)}; \`wnn generate --checkpoint\` draws with a run of \`wnn train ddpm\` or \`wnn train ldm\``,
      );
    },
    { strict: v.strict },
  );
  if (checked === "ldm") {
    // latent diffusion with captions (cli/ldm.ts): the caption, or without one the measurement over every digit
    if (v.digit !== undefined) throw new UsageError(`${cmd}: a latent-diffusion run takes a caption, not --digit`);
    return ldmGenerate(
      ckpt,
      prompt,
      {
        n: v.n,
        steps: v.steps,
        guidance: v.guidance,
        seed: v.seed,
        sampler: v.sampler as "ddim" | "ddpm",
        judge: v.judge,
        file: v.out ?? freshFile(join(v.checkpoint.endsWith(".safetensors") ? "." : v.checkpoint, "generated.png")),
        maxMemory: v.max_memory,
        options: givenNumbers(given, v),
      },
      out,
    );
  }
  if (prompt !== undefined)
    throw new UsageError(
      `${cmd}: a prompt needs --model DIR (a Stable Diffusion folder) or a run of \`wnn train ldm\``,
    );
  const file =
    v.out ??
    freshFile(join(v.checkpoint.endsWith(".safetensors") ? "." : v.checkpoint, `generated-${v.digit ?? "all"}.png`));
  const { model, schedule } = loadDDPM(ckpt, !v.raw);
  const digits = v.digit !== undefined ? [v.digit] : Array.from({ length: 10 }, (_, d) => d);
  const labels = Int32Array.from({ length: digits.length * v.n }, (_, i) => digits[Math.floor(i / v.n)]!);
  const B = labels.length;
  const t0 = performance.now(),
    c0 = process.cpuUsage();
  const opts: SampleOptions = {
    sampler: v.sampler as "ddim" | "ddpm",
    steps: v.steps,
    eta: v.eta,
    generator: new Generator(v.seed),
  };
  // the memory of B digits at once: the weights, and the peak of the buffers one sampling step keeps at once,
  // counted on shape-only tensors at B digits, the denoiser's chunks in their memory scopes as in the real run
  const weights = model.parameters().reduce((n, p) => n + 4 * p.numel(), 0);
  checkInferenceMemory(
    cmd,
    givenNumbers(given, v),
    B,
    v.max_memory,
    (b) =>
      sample(schedule, chunked(model, new Int32Array(b), v.guidance, true), [b, 1, 28, 28], {
        ...opts,
        sampler: "ddim",
        steps: 1,
        generator: new Generator(v.seed),
      }),
    weights,
  );
  const x = sample(schedule, chunked(model, labels, v.guidance), [B, 1, 28, 28], opts);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6; // user + system of every thread: the cost, where wall time is the machine's load
  const cols = Math.min(v.n, 16);
  savePng(file, imageGrid(toPixels(x), Math.ceil(B / cols), cols, { scale: 2 }));
  if (v.judge !== undefined) {
    const q = measure(v.judge, toPixels(x), labels);
    out.write(
      `judged by ${v.judge}: class accuracy ${(100 * q.accuracy).toFixed(1)}% (${q.correct}/${B}); Fréchet distance to ${B} test digits ${q.fd.toFixed(2)} (training digits: ${q.floor.toFixed(2)}, uniform noise: ${q.ceiling.toFixed(2)})\n`,
    );
    out.write(
      JSON.stringify({
        sampler: v.sampler,
        steps: v.sampler === "ddpm" ? schedule.timesteps : v.steps,
        eta: v.eta,
        guidance: v.guidance,
        n: B,
        seconds: +seconds.toFixed(1),
        cpuSeconds: +cpuSeconds.toFixed(1),
        load: +loadavg()[0]!.toFixed(1),
        accuracy: q.accuracy,
        fd: +q.fd.toFixed(3),
        floor: +q.floor.toFixed(3),
        ceiling: +q.ceiling.toFixed(3),
      }) + "\n",
    );
  }
  out.write(
    `${B} digit${B === 1 ? "" : "s"} (${digits.join(", ")}) by ${v.sampler === "ddpm" ? `DDPM, ${schedule.timesteps} steps` : `DDIM, ${v.steps} steps, η ${v.eta}`}, guidance ${v.guidance}, in ${formatDuration(seconds)}; wrote ${file}\n`,
  );
  return 0;
}
