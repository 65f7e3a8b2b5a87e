// The training recipe of nanoGPT's train.py, for our GPT: random windows of a token stream, AdamW with
// weight decay on the matrices only, the cosine schedule with warmup, global-norm gradient clipping,
// and loss estimates on both splits. It holds no files and no clock: `wnn train gpt` (cli/gpt.ts) shows
// progress, writes the checkpoint that `checkpoint()` returns and restores it with `restore()`.
//
// Everything random is drawn from generators whose states are saved, so a run stopped at step s and
// resumed from its checkpoint takes the same steps, bit for bit, as a run that never stopped:
//   - `generator` (seeded with config.seed) draws the initial weights, then every training batch;
//   - the library's default generator (manualSeed(config.seed)) draws the dropout masks;
//   - the batches of the loss estimate at step s come from a generator seeded with (seed, s), so an
//     estimate changes neither stream and is the same whether or not the run was interrupted.

import { noGrad } from "../../engine/autograd.js";
import { ArgumentError, LoadError, WnnError } from "../../engine/errors.js";
import { defaultGenerator, Generator, manualSeed, type GeneratorState } from "../../engine/rng.js";
import { getBatch } from "../../data/batch.js";
import type { Checkpoint, LoadedCheckpoint } from "../../io/checkpoint.js";
import { AdamW } from "../../optim/adam.js";
import { clipGradNorm } from "../../optim/clip.js";
import { CosineWithWarmupLR, type SchedulerStateDict } from "../../optim/schedulers.js";
import { stateDictFromTensors, stateDictToTensors } from "../../optim/state.js";
import { skipStep, type TrainingJob } from "../../recipes/loop.js";
import { checkCaps, checkRunState, heldValues } from "../../recipes/run-state.js";
import { GPT, countParameters, gptConfig, type GPTConfig } from "./model.js";

export interface TrainConfig {
  /** sequences per batch (B) */
  readonly batchSize: number;
  /** the peak learning rate, reached after the warmup */
  readonly lr: number;
  /** the learning rate at the end of the cosine decay and after it */
  readonly minLr: number;
  readonly warmupIters: number;
  /** the step at which the cosine decay reaches minLr */
  readonly lrDecayIters: number;
  /** optimizer steps in all */
  readonly iters: number;
  /** estimate the losses every this many steps (and at the last one) */
  readonly evalInterval: number;
  /** batches per split in each estimate */
  readonly evalIters: number;
  /** AdamW's decoupled weight decay, applied to the parameters with ≥ 2 dims only */
  readonly weightDecay: number;
  readonly beta1: number;
  readonly beta2: number;
  /** clip the global gradient norm to this (0: no clipping) */
  readonly gradClip: number;
  readonly seed: number;
}

/** nanoGPT's config/train_shakespeare_char.py with its CPU overrides (README: "I only have a macbook"). */
export const CPU_TRAIN: TrainConfig = Object.freeze({
  batchSize: 12,
  lr: 1e-3,
  minLr: 1e-4,
  warmupIters: 100,
  lrDecayIters: 2000,
  iters: 2000,
  evalInterval: 250,
  evalIters: 20,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.99,
  gradClip: 1.0,
  seed: 1337,
});

/** Check a training config; throws ArgumentError naming the setting. */
export function checkTrainConfig(c: TrainConfig): TrainConfig {
  const positive = ["batchSize", "evalInterval", "evalIters", "iters"] as const;
  for (const k of positive)
    if (!Number.isInteger(c[k]) || c[k] < 1)
      throw new ArgumentError(`TrainConfig: ${k} must be a positive integer, got ${c[k]}`);
  for (const k of ["warmupIters", "lrDecayIters", "seed"] as const)
    if (!Number.isInteger(c[k]) || c[k] < 0)
      throw new ArgumentError(`TrainConfig: ${k} must be an integer ≥ 0, got ${c[k]}`);
  if (c.lrDecayIters < c.warmupIters)
    throw new ArgumentError(`TrainConfig: lrDecayIters (${c.lrDecayIters}) must be ≥ warmupIters (${c.warmupIters})`);
  for (const k of ["lr", "minLr", "weightDecay", "gradClip"] as const)
    if (!(c[k] >= 0 && Number.isFinite(c[k])))
      throw new ArgumentError(`TrainConfig: ${k} must be a finite number ≥ 0, got ${c[k]}`);
  for (const k of ["beta1", "beta2"] as const)
    if (!(c[k] >= 0 && c[k] < 1)) throw new ArgumentError(`TrainConfig: ${k} must be in [0, 1), got ${c[k]}`);
  return Object.freeze({ ...c });
}

/** The token streams to train and validate on. */
export interface TokenSplits {
  train: Int32Array;
  val: Int32Array;
}

/** What the trainer keeps in a checkpoint besides the model, optimizer, scheduler and batch generator. */
interface TrainerExtra {
  dropoutRng: GeneratorState;
  /** the step of the last loss estimate (−1: none yet), so a resumed run does not repeat it */
  lastEval: number;
}

export class GPTTrainer implements TrainingJob<
  { loss: number; lr: number; gradNorm: number; skipped: number },
  { train: number; val: number }
> {
  readonly modelConfig: GPTConfig;
  readonly config: TrainConfig;
  readonly model: GPT;
  readonly optimizer: AdamW;
  readonly scheduler: CosineWithWarmupLR;
  /** the initial weights, then the training batches */
  readonly generator: Generator;
  /** optimizer steps taken */
  step = 0;
  /** the step of the last loss estimate (−1: none yet) */
  lastEval = -1;

  constructor(
    modelConfig: GPTConfig,
    config: TrainConfig,
    readonly data: TokenSplits,
  ) {
    this.modelConfig = gptConfig(modelConfig);
    this.config = checkTrainConfig(config);
    const { blockSize } = this.modelConfig;
    for (const split of ["train", "val"] as const) {
      if (data[split].length <= blockSize)
        throw new ArgumentError(
          `GPTTrainer: the ${split} split has ${data[split].length} tokens, too few for blocks of ${blockSize}`,
        );
    }
    manualSeed(this.config.seed); // dropout masks
    this.generator = new Generator(this.config.seed);
    this.model = new GPT(this.modelConfig, { generator: this.generator });
    // weight decay on the matrices (Linear weights, embeddings), none on biases and LayerNorm gains
    const params = this.model.parameters();
    const decay = params.filter((p) => p.ndim >= 2),
      noDecay = params.filter((p) => p.ndim < 2);
    const { lr, beta1, beta2, weightDecay } = this.config;
    this.optimizer = new AdamW(
      [{ params: decay, weightDecay }, ...(noDecay.length ? [{ params: noDecay, weightDecay: 0 }] : [])],
      { lr, betas: [beta1, beta2] },
    );
    const { warmupIters, lrDecayIters, minLr } = this.config;
    this.scheduler = new CosineWithWarmupLR(this.optimizer, { warmupIters, lrDecayIters, maxLr: lr, minLr });
  }

  /**
   * One optimizer step on a fresh batch; returns that batch's loss, the lr used and the gradient norm
   * before clipping. A batch whose loss (or gradient norm) is not finite is skipped, as llm.c does: no
   * update, the step count unchanged, `skipped: 1` (0 otherwise); the caller decides when too many is too many.
   */
  trainStep(): { loss: number; lr: number; gradNorm: number; skipped: number } {
    const { batchSize, gradClip } = this.config;
    const lr = this.optimizer.paramGroups[0]!.lr;
    const { x, y } = getBatch(this.data.train, this.modelConfig.blockSize, batchSize, this.generator); // (B, T), (B, T)
    const { loss } = this.model.forward(x, y);
    const value = loss!.item();
    if (skipStep(value)) return { loss: value, lr, gradNorm: NaN, skipped: 1 };
    loss!.backward();
    const gradNorm = gradClip > 0 ? clipGradNorm(this.model.parameters(), gradClip) : NaN;
    if (gradClip > 0 && skipStep(value, gradNorm)) {
      this.optimizer.zeroGrad();
      return { loss: value, lr, gradNorm, skipped: 1 };
    }
    this.optimizer.step();
    this.optimizer.zeroGrad();
    this.scheduler.step();
    this.step += 1;
    return { loss: value, lr, gradNorm, skipped: 0 };
  }

  /** Whether the loss estimate is due now: every evalInterval steps and at the last step, once each. */
  evalDue(): boolean {
    const { evalInterval, iters } = this.config;
    return this.lastEval !== this.step && (this.step % evalInterval === 0 || this.step === iters);
  }

  /** The generator of the loss estimate at this step (independent of the training streams). */
  evalGenerator(): Generator {
    return new Generator(this.config.seed * 1_000_003 + this.step + 1);
  }

  /** The loss of one random batch of `split`, in eval mode and without gradients. */
  evalBatch(split: keyof TokenSplits, generator: Generator): number {
    const { x, y } = getBatch(this.data[split], this.modelConfig.blockSize, this.config.batchSize, generator);
    const was = this.model.training;
    this.model.eval();
    try {
      return noGrad(() => this.model.forward(x, y).loss!.item());
    } finally {
      this.model.train(was);
    }
  }

  /** nanoGPT's estimate_loss: the mean loss over evalIters batches of each split (marks this step as estimated). */
  estimateLoss(): { train: number; val: number } {
    const it = this.evaluate();
    for (;;) {
      const r = it.next();
      if (r.done) return r.value;
    }
  }

  /** The steps of the run: the shared training loop (src/recipes/loop.ts) stops here. */
  get totalSteps(): number {
    return this.config.iters;
  }

  /** estimateLoss as the shared loop runs it: one batch per yield, so that a run can stop between batches. */
  *evaluate(): Iterator<void, { train: number; val: number }, void> {
    const g = this.evalGenerator();
    const out = { train: 0, val: 0 };
    for (const split of ["train", "val"] as const) {
      let s = 0;
      for (let k = 0; k < this.config.evalIters; k++) {
        s += this.evalBatch(split, g);
        yield;
      }
      out[split] = s / this.config.evalIters;
    }
    this.lastEval = this.step;
    return out;
  }

  /** Everything needed to continue exactly: `meta` (the tokenizer, the dataset, ...) goes into the config. */
  checkpoint(meta: Record<string, unknown> = {}): Checkpoint {
    const extra: TrainerExtra = { dropoutRng: defaultGenerator.getState(), lastEval: this.lastEval };
    return {
      model: this.model.stateDict(),
      optimizer: stateDictToTensors(this.optimizer.stateDict()),
      scheduler: this.scheduler.stateDict(),
      rng: this.generator.getState(),
      step: this.step,
      config: { ...meta, kind: "gpt", model: { ...this.modelConfig }, train: { ...this.config } },
      extra,
    };
  }

  /** A trainer in the state a checkpoint written by `checkpoint()` holds. */
  static fromCheckpoint(ckpt: LoadedCheckpoint, data: TokenSplits, overrides: Partial<TrainConfig> = {}): GPTTrainer {
    const { model, train } = checkpointConfig(ckpt);
    const t = new GPTTrainer(model, { ...train, ...overrides }, data);
    if (!ckpt.optimizer || !ckpt.scheduler || !ckpt.rng)
      throw new LoadError(
        "GPTTrainer: the checkpoint has no optimizer, scheduler or generator state (was it written by GPTTrainer.checkpoint?)",
      );
    try {
      t.model.loadStateDict(ckpt.model);
      t.optimizer.loadStateDict(stateDictFromTensors(ckpt.optimizer.tensors, ckpt.optimizer.json));
      t.scheduler.loadStateDict(ckpt.scheduler as unknown as SchedulerStateDict);
    } catch (e) {
      if (e instanceof LoadError || !(e instanceof WnnError)) throw e;
      throw new LoadError(`GPTTrainer: the checkpoint's state does not fit the run it describes: ${e.message}`);
    }
    t.generator.setState(ckpt.rng);
    const extra = ckpt.extra as unknown as Partial<TrainerExtra> | undefined;
    if (extra?.dropoutRng) defaultGenerator.setState(extra.dropoutRng);
    t.lastEval = typeof extra?.lastEval === "number" ? extra.lastEval : -1;
    t.step = ckpt.step;
    return t;
  }
}

/**
 * The largest GPT a checkpoint may describe before its weights are compared with its config: beyond
 * these, a file claiming `nLayer: 1e6` or `blockSize: 1e9` would allocate gigabytes before any other
 * check. (GPT-3 175B has 96 layers, 12,288 channels, context 2,048.)
 */
export const CHECKPOINT_CAPS = Object.freeze({
  nLayer: 1024,
  nHead: 1024,
  nEmbd: 65536,
  blockSize: 1 << 20,
  vocabSize: 1 << 22,
});

/**
 * The model and training configs of a GPT checkpoint, checked before anything is built from them: the
 * model config as gptConfig checks it and within CHECKPOINT_CAPS; the parameter count the config implies
 * equal to the elements the file holds (so a config and weights that disagree are refused before the
 * model is allocated); the training config as checkTrainConfig checks it; the step within the run's
 * iters; the dropout generator's state. Any problem is a LoadError.
 */
export function checkpointConfig(ckpt: LoadedCheckpoint): {
  model: GPTConfig;
  train: TrainConfig;
  config: Record<string, unknown>;
} {
  const c = ckpt.config as Record<string, unknown> | undefined;
  if (!c || typeof c !== "object" || c.kind !== "gpt" || typeof c.model !== "object" || c.model === null) {
    throw new LoadError(
      `not a GPT checkpoint (its config.kind is ${JSON.stringify((c as { kind?: unknown } | undefined)?.kind ?? null)})`,
    );
  }
  let model: GPTConfig, train: TrainConfig;
  try {
    model = gptConfig(c.model as GPTConfig);
  } catch (e) {
    throw new LoadError(`the checkpoint's model config is not valid: ${(e as Error).message}`);
  }
  checkCaps("the checkpoint's model config", model as unknown as Record<string, unknown>, CHECKPOINT_CAPS);
  const expected = countParameters(model);
  const held = heldValues(ckpt.model);
  if (held !== expected) {
    throw new LoadError(
      `the checkpoint's model config (${model.nLayer} layers, ${model.nEmbd} channels, context ${model.blockSize}, vocabulary ${model.vocabSize}) has ${expected.toLocaleString("en-US")} parameters, but the file holds ${held.toLocaleString("en-US")} weights`,
    );
  }
  try {
    train = checkTrainConfig(c.train as TrainConfig);
  } catch (e) {
    throw new LoadError(`the checkpoint's training config is not valid: ${(e as Error).message}`);
  }
  checkRunState("the checkpoint", ckpt, { totalSteps: train.iters, generators: ["dropoutRng"] });
  const extra = ckpt.extra as Record<string, unknown> | undefined;
  if (
    extra !== undefined &&
    "lastEval" in extra &&
    !(
      Number.isSafeInteger(extra.lastEval) &&
      (extra.lastEval as number) >= -1 &&
      (extra.lastEval as number) <= ckpt.step
    )
  ) {
    throw new LoadError(
      `the checkpoint's extra.lastEval is ${JSON.stringify(extra.lastEval)}, expected an integer from -1 to the step ${ckpt.step}`,
    );
  }
  return { model, train, config: c };
}
