// The DDPM training recipe on MNIST: what `wnn train ddpm` runs, step by step, browser-safe (the CLI in
// cli/ddpm.ts shows progress, writes the run's folder and handles Ctrl-C). One step:
//   x_0 = 2·digit − 1 ∈ [−1, 1]; y = its label, replaced by ∅ with probability pUncond (classifier-free
//   guidance's label dropout); L = ‖ε − ε_θ(x_t, t, y)‖² (diffusion.ts); Adam; gradient clipping; then the
//   exponential moving average of the weights that sampling uses: θ_ema ← d·θ_ema + (1 − d)·θ.
// Batches are drawn at random (with replacement) from the trainer's generator, so a run resumed from its
// checkpoint (model, EMA, optimizer, generator) takes the same steps as one that never stopped.

import { noGrad } from "../../engine/autograd.js";
import { tensor } from "../../engine/creation.js";
import { ArgumentError, LoadError, WnnError } from "../../engine/errors.js";
import { Generator } from "../../engine/rng.js";
import type { Tensor } from "../../engine/tensor.js";
import type { Checkpoint, LoadedCheckpoint } from "../../io/checkpoint.js";
import { Adam } from "../../optim/adam.js";
import { clipGradNorm } from "../../optim/clip.js";
import { cat } from "../../ops/shape.js";
import { stateDictFromTensors, stateDictToTensors } from "../../optim/state.js";
import { diffusionLoss, Schedule, type ScheduleConfig, type Denoiser } from "./diffusion.js";
import { UNet, unetConfig, type UNetConfig } from "./unet.js";
import { skipStep } from "../../recipes/loop.js";
import { checkCaps, checkImpliedSize, checkRunState, heldValues } from "../../recipes/run-state.js";

export interface DDPMTrainConfig {
  readonly steps: number;
  readonly batchSize: number;
  readonly lr: number;
  /** linear warmup of the learning rate over this many steps */
  readonly warmup: number;
  /** the EMA's decay d */
  readonly ema: number;
  /** the probability of replacing a label by ∅ (Ho & Salimans: 0.1–0.2) */
  readonly pUncond: number;
  readonly gradClip: number;
  readonly seed: number;
}

export const DDPM_TRAIN: DDPMTrainConfig = Object.freeze({
  steps: 1500,
  batchSize: 32,
  lr: 1e-3,
  warmup: 100,
  ema: 0.995,
  pUncond: 0.1,
  gradClip: 1,
  seed: 0,
});

/** MNIST digits as flat pixels in [0, 1] (N·784) with labels. */
export interface DigitSet {
  images: Float32Array;
  labels: Int32Array;
  count: number;
}

const SIDE = 28,
  P = SIDE * SIDE;

export class DDPMTrainer {
  readonly model: UNet;
  /** the moving average of the weights: the model that samples */
  readonly ema: UNet;
  readonly schedule: Schedule;
  readonly optimizer: Adam;
  readonly generator: Generator;
  readonly config: DDPMTrainConfig;
  step = 0;

  constructor(
    readonly modelConfig: UNetConfig,
    scheduleConfig: Partial<ScheduleConfig>,
    config: Partial<DDPMTrainConfig>,
    readonly data: DigitSet,
  ) {
    const c = (this.config = Object.freeze({ ...DDPM_TRAIN, ...config }));
    if (!(Number.isInteger(c.batchSize) && c.batchSize >= 1))
      throw new ArgumentError(`DDPMTrainer: batchSize must be a positive integer, got ${c.batchSize}`);
    if (!(c.ema >= 0 && c.ema < 1)) throw new ArgumentError(`DDPMTrainer: ema must be in [0, 1), got ${c.ema}`);
    if (!(c.pUncond >= 0 && c.pUncond <= 1))
      throw new ArgumentError(`DDPMTrainer: pUncond must be in [0, 1], got ${c.pUncond}`);
    if (!(data.count >= 1 && data.images.length === data.count * P && data.labels.length === data.count))
      throw new ArgumentError(`DDPMTrainer: the data must hold count·784 pixels and count labels`);
    this.schedule = new Schedule(scheduleConfig);
    this.generator = new Generator(c.seed);
    this.model = new UNet(unetConfig(modelConfig), { generator: this.generator });
    this.ema = new UNet(this.model.config, { generator: new Generator(0) });
    this.ema.loadStateDict(this.model.stateDict());
    this.ema.eval();
    this.optimizer = new Adam(this.model.parameters(), { lr: c.lr });
  }

  /** The learning rate of step `step` (0-based): linear warmup, then constant. */
  lrAt(step: number): number {
    return this.config.warmup > 0 ? this.config.lr * Math.min(1, (step + 1) / this.config.warmup) : this.config.lr;
  }

  /** A random batch: x_0 (B, 1, 28, 28) in [−1, 1] and labels (B) with ∅ = K dropped in. */
  batch(): { x0: Tensor; y: Tensor } {
    const B = this.config.batchSize,
      K = this.model.config.numClasses,
      g = this.generator;
    const x = new Float32Array(B * P),
      y = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      const i = g.randint(0, this.data.count);
      for (let p = 0; p < P; p++) x[b * P + p] = 2 * this.data.images[i * P + p]! - 1; // x_0 = 2·pixel − 1
      y[b] = g.random() < this.config.pUncond ? K : this.data.labels[i]!; //          label dropout → ∅
    }
    return { x0: tensor(x, { shape: [B, 1, SIDE, SIDE] }), y: tensor(y, { shape: [B] }) };
  }

  /** One optimizer step; returns the loss (`skipped: 1` when it was not finite and no update was made). */
  trainStep(): { loss: number; lr: number; skipped: number } {
    this.model.train();
    const { x0, y } = this.batch();
    const lr = this.lrAt(this.step);
    for (const group of this.optimizer.paramGroups) group.lr = lr;
    const net: Denoiser = (x, t) => this.model.forward(x, t, y);
    const { loss } = diffusionLoss(this.schedule, net, x0, this.generator);
    const value = loss.item();
    // a NaN or infinite loss (or gradient norm) is skipped: no update, the step count unchanged (src/recipes/loop.ts)
    if (skipStep(value)) return { loss: value, lr, skipped: 1 };
    this.optimizer.zeroGrad();
    loss.backward();
    const gradNorm = this.config.gradClip > 0 ? clipGradNorm(this.model.parameters(), this.config.gradClip) : 0;
    if (skipStep(value, gradNorm)) {
      this.optimizer.zeroGrad();
      return { loss: value, lr, skipped: 1 };
    }
    this.optimizer.step();
    this.updateEma();
    this.step++;
    return { loss: value, lr, skipped: 0 };
  }

  /** θ_ema ← d·θ_ema + (1 − d)·θ (d = 0 for the first step, so the EMA starts at the trained weights). */
  private updateEma(): void {
    const d = this.step === 0 ? 0 : this.config.ema;
    noGrad(() => {
      const src = this.model.parameters(),
        dst = this.ema.parameters();
      src.forEach((p, i) => {
        if (p.isMeta) return; // shape-only (a memory estimate): no values to average
        const a = dst[i]!.storage as Float32Array,
          b = p.storage as Float32Array;
        for (let k = 0; k < a.length; k++) a[k] = d * a[k]! + (1 - d) * b[k]!;
      });
    });
  }

  checkpoint(): Checkpoint {
    const ema = Object.fromEntries(Object.entries(this.ema.stateDict()).map(([k, t]) => [`ema.${k}`, t]));
    return {
      model: { ...this.model.stateDict(), ...ema },
      optimizer: stateDictToTensors(this.optimizer.stateDict()),
      rng: this.generator.getState(),
      step: this.step,
      config: {
        kind: "ddpm",
        unet: this.model.config,
        schedule: this.schedule.config,
        train: this.config,
      } as unknown as Checkpoint["config"],
    };
  }

  /**
   * Refuses a checkpoint without what continuing needs beyond its weights (the optimizer's and the generator's
   * states); `wnn train --resume` asks before the digits are read, which takes a second.
   */
  static checkResumable(
    ckpt: LoadedCheckpoint,
  ): asserts ckpt is LoadedCheckpoint & Required<Pick<LoadedCheckpoint, "optimizer" | "rng">> {
    if (!ckpt.optimizer || !ckpt.rng)
      throw new LoadError(
        "DDPMTrainer: the checkpoint has no optimizer or generator state (was it written by DDPMTrainer.checkpoint?)",
      );
  }

  static fromCheckpoint(ckpt: LoadedCheckpoint, data: DigitSet, overrides: Partial<DDPMTrainConfig> = {}): DDPMTrainer {
    const cfg = ddpmCheckpointConfig(ckpt);
    DDPMTrainer.checkResumable(ckpt);
    try {
      const t = new DDPMTrainer(cfg.unet, cfg.schedule, { ...(cfg.train ?? {}), ...overrides }, data);
      const { model, ema } = splitState(ckpt);
      t.model.loadStateDict(model);
      t.ema.loadStateDict(ema);
      t.optimizer.loadStateDict(stateDictFromTensors(ckpt.optimizer.tensors, ckpt.optimizer.json));
      t.generator.setState(ckpt.rng);
      t.step = ckpt.step;
      return t;
    } catch (e) {
      if (e instanceof LoadError || !(e instanceof WnnError)) throw e;
      throw new LoadError(`DDPMTrainer: the checkpoint's state does not fit the run it describes: ${e.message}`);
    }
  }
}

/**
 * The largest U-Net a checkpoint may describe (Stable Diffusion's is 320 channels, ×4, 2 blocks, 8 heads),
 * checked before the parameters its widths imply are compared with the weights the file holds.
 */
export const DDPM_CHECKPOINT_CAPS = Object.freeze({
  inChannels: 64,
  outChannels: 64,
  channels: 4096,
  numResBlocks: 16,
  groups: 4096,
  heads: 1024,
  numClasses: 100_000,
  contextDim: 65_536,
});

/** A lower bound of a U-Net's parameters: the second 3×3 convolution of every residual block, 9·w² each (numResBlocks down and numResBlocks + 1 up per level). */
function unetParametersAtLeast(c: UNetConfig): number {
  let n = 0;
  for (const m of c.channelMult) n += (2 * c.numResBlocks + 1) * 9 * (c.channels * m) ** 2;
  return n;
}

/**
 * The configuration kept in a DDPM checkpoint, checked before anything is allocated (src/recipes/run-state.ts):
 * the U-Net's sizes within DDPM_CHECKPOINT_CAPS and at most 8 levels of at most ×64; the parameters they imply
 * at most the values the file holds (the weights and their moving average); the training config's numbers;
 * the step within its steps; the generator's state.
 */
export function ddpmCheckpointConfig(ckpt: LoadedCheckpoint): {
  unet: UNetConfig;
  schedule: ScheduleConfig;
  train?: DDPMTrainConfig;
} {
  const c = ckpt.config as
    { kind?: string; unet?: UNetConfig; schedule?: ScheduleConfig; train?: DDPMTrainConfig } | undefined;
  if (!c || c.kind !== "ddpm" || typeof c.unet !== "object" || c.unet === null || !c.schedule)
    throw new LoadError("ddpm: the checkpoint is not one written by `wnn train ddpm` (no ddpm config)");
  const what = "ddpm: the checkpoint's U-Net config";
  checkCaps(what, c.unet as unknown as Record<string, unknown>, DDPM_CHECKPOINT_CAPS, ["numClasses", "contextDim"]);
  const mult = c.unet.channelMult as unknown;
  if (
    !Array.isArray(mult) ||
    mult.length < 1 ||
    mult.length > 8 ||
    !mult.every((m) => Number.isSafeInteger(m) && m >= 1 && m <= 64)
  )
    throw new LoadError(`${what}: channelMult must be 1 to 8 integers from 1 to 64, got ${JSON.stringify(mult)}`);
  checkImpliedSize(what, unetParametersAtLeast(c.unet), heldValues(ckpt.model));
  let out: { unet: UNetConfig; schedule: ScheduleConfig; train?: DDPMTrainConfig };
  try {
    out = { unet: unetConfig(c.unet), schedule: new Schedule(c.schedule).config, train: c.train };
  } catch (e) {
    throw new LoadError(`ddpm: the checkpoint's config is invalid: ${(e as Error).message}`);
  }
  const t = c.train as Partial<Record<keyof DDPMTrainConfig, unknown>> | undefined;
  if (t !== undefined) {
    checkCaps("ddpm: the checkpoint's training config", t, { steps: 10_000_000, batchSize: 65_536 });
    checkCaps("ddpm: the checkpoint's training config", t, { warmup: 10_000_000, seed: 2 ** 32 - 1 }, [
      "warmup",
      "seed",
    ]);
    for (const k of ["lr", "ema", "pUncond", "gradClip"] as const) {
      if (typeof t[k] !== "number" || !Number.isFinite(t[k]) || (t[k] as number) < 0)
        throw new LoadError(
          `ddpm: the checkpoint's training config: ${k} is ${JSON.stringify(t[k])}, expected a finite number ≥ 0`,
        );
    }
  }
  checkRunState("ddpm: the checkpoint", ckpt, { totalSteps: typeof t?.steps === "number" ? t.steps : undefined });
  return out;
}

/** The trained weights and the EMA weights of a checkpoint. */
function splitState(ckpt: LoadedCheckpoint): { model: Record<string, Tensor>; ema: Record<string, Tensor> } {
  const model: Record<string, Tensor> = {},
    ema: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(ckpt.model)) {
    if (k.startsWith("ema.")) ema[k.slice(4)] = t;
    else model[k] = t;
  }
  return { model, ema };
}

/** The sampling model of a checkpoint (the EMA weights, or the trained ones with useEma false), in eval mode. */
export function loadDDPM(ckpt: LoadedCheckpoint, useEma = true): { model: UNet; schedule: Schedule } {
  const cfg = ddpmCheckpointConfig(ckpt);
  const { model: raw, ema } = splitState(ckpt);
  const model = new UNet(cfg.unet, { generator: new Generator(0) });
  const used = useEma && Object.keys(ema).length ? ema : raw;
  model.loadStateDict(used);
  // the weights not loaded must fit the U-Net too: a file that disagrees with its own config is refused whole
  const shapes = model.stateDict(),
    other = used === ema ? raw : ema;
  for (const [k, t] of Object.entries(other)) {
    const want = shapes[k]?.shape;
    if (want === undefined || want.join() !== t.shape.join())
      throw new LoadError(
        `ddpm: the checkpoint's ${other === ema ? "ema." : ""}${k} has shape [${t.shape.join(", ")}], the U-Net's ${want ? `is [${want.join(", ")}]` : "has no such weight"}`,
      );
  }
  model.eval();
  return { model, schedule: new Schedule(cfg.schedule) };
}

/** A class-conditional denoiser with guidance scale w: labels y (B), ∅ = numClasses. */
export function classDenoiser(model: UNet, y: Tensor, w: number): Denoiser {
  const K = model.config.numClasses;
  const empty = tensor(new Int32Array(y.shape[0]!).fill(K), { shape: [y.shape[0]!] });
  const cond: Denoiser = (x, t) => model.forward(x, t, y);
  const uncond: Denoiser = (x, t) => model.forward(x, t, empty);
  if (w === 1) return cond;
  if (w === 0) return uncond;
  // ε̃ = ε_∅ + w·(ε_y − ε_∅), both halves in one batch of 2B
  return (x, t) => {
    const out = model.forward(catBatch(x, x), [...t, ...t], catBatch(empty, y)); // (2B, C, H, W)
    const B = x.shape[0]!;
    const u = out.narrow(0, 0, B),
      c = out.narrow(0, B, B);
    return u.add(c.sub(u).mul(w));
  };
}

function catBatch(a: Tensor, b: Tensor): Tensor {
  return cat([a, b], 0);
}
