// Latent diffusion on MNIST with captions (Rombach et al. 2022, trained small): what `wnn train ldm` runs,
// browser-safe (cli/ldm.ts shows progress and writes the run's folder). Two stages, as the paper trains them:
//
// 1. the autoencoder (vae.ts): a digit padded to 32×32, x = 2·pixel − 1, (μ, log σ²) = E(x), z = μ + σ·ε,
//    x̂ = D(z);  L_VAE = Σ_pixels (x̂ − x)² / B + w_KL·KL(q(z|x) ‖ N(0, I))   (latents 4×8×8: 1/4 of the side);
//    then the scaling factor 1/std(μ) over the first 512 training digits, so that the U-Net's latents have unit variance;
// 2. the text-conditioned U-Net over z_0 = μ·scale (unet.ts with contextDim > 0: spatial transformers with
//    self-attention, cross-attention to the text, GEGLU) and the CLIP-style text encoder (clip-text.ts),
//    trained together on the simple loss; the caption (captions.ts) is dropped to "" with probability pUncond
//    so that one network also samples with classifier-free guidance.
// Sampling: z_T ~ N(0, I) (B, 4, 8, 8), guided DDIM with the caption's states and ""'s, x = D(z_0 / scale),
// cropped back to 28×28.

import { noGrad } from "../../engine/autograd.js";
import { tensor } from "../../engine/creation.js";
import { ArgumentError, LoadError, WnnError } from "../../engine/errors.js";
import { Generator } from "../../engine/rng.js";
import type { Tensor } from "../../engine/tensor.js";
import type { Checkpoint, LoadedCheckpoint } from "../../io/checkpoint.js";
import { Adam } from "../../optim/adam.js";
import { clipGradNorm } from "../../optim/clip.js";
import { stateDictFromTensors, stateDictToTensors } from "../../optim/state.js";
import type { Module } from "../../nn/module.js";
import { cat } from "../../ops/shape.js";
import { skipStep } from "../../recipes/loop.js";
import { checkCaps, checkImpliedSize, checkRunState, heldValues } from "../../recipes/run-state.js";
import { diffusionLoss, sample, Schedule, type ScheduleConfig } from "../ddpm/diffusion.js";
import { UNet, unetConfig, type UNetConfig } from "../ddpm/unet.js";
import { AutoencoderKL, vaeConfig, type VAEConfig } from "./vae.js";
import { CLIPTextModel, clipTextConfig, type CLIPTextConfig } from "./clip-text.js";
import {
  attributes,
  caption,
  captionThresholds,
  CAPTION_VOCAB,
  digitStats,
  WordTokenizer,
  type CaptionThresholds,
} from "./captions.js";
import type { DigitSet } from "../ddpm/train.js";

export interface LDMModelConfig {
  readonly vae: VAEConfig;
  readonly text: CLIPTextConfig;
  readonly unet: UNetConfig;
}

/** The MNIST latent-diffusion networks: VAE 1→4 channels at 1/4 of 32², a 2-layer text encoder, a 2-level U-Net. */
export function ldmMnistConfig(o: { channels?: number } = {}): LDMModelConfig {
  const c = o.channels ?? 16;
  return {
    vae: vaeConfig({
      inChannels: 1,
      outChannels: 1,
      latentChannels: 4,
      channels: [8, 16, 16],
      layersPerBlock: 1,
      groups: 4,
    }),
    text: clipTextConfig({
      vocabSize: CAPTION_VOCAB.length,
      maxPositions: 8,
      width: 32,
      layers: 2,
      heads: 2,
      mlpWidth: 64,
    }),
    unet: unetConfig({
      inChannels: 4,
      outChannels: 4,
      channels: c,
      channelMult: [1, 2], //  8², 4²
      numResBlocks: 1,
      attnLevels: [0, 1],
      groups: 8,
      heads: 2,
      numClasses: 0, //       DIFF(ddpm-mnist): the text steers, not a class embedding
      contextDim: 32,
      dropout: 0,
    }),
  };
}

export interface LDMTrainConfig {
  readonly vaeSteps: number;
  readonly steps: number;
  readonly batchSize: number;
  readonly vaeLr: number;
  readonly lr: number;
  readonly klWeight: number;
  readonly pUncond: number;
  readonly ema: number;
  readonly gradClip: number;
  readonly seed: number;
}

export const LDM_TRAIN: LDMTrainConfig = Object.freeze({
  vaeSteps: 300,
  steps: 1000,
  batchSize: 32,
  vaeLr: 2e-3,
  lr: 1e-3,
  klWeight: 1e-3,
  pUncond: 0.1,
  ema: 0.995,
  gradClip: 1,
  seed: 0,
});

const SIDE = 28,
  PAD = 2,
  S = SIDE + 2 * PAD; // 32: a side the autoencoder's ×4 and the U-Net's ×2 divide

/** Digits i of `data` → x (B, 1, 32, 32) in [−1, 1], the background (−1) padded 2 pixels on each side. */
export function paddedDigits(data: DigitSet, index: readonly number[]): Tensor {
  const x = new Float32Array(index.length * S * S).fill(-1);
  index.forEach((i, b) => {
    for (let r = 0; r < SIDE; r++)
      for (let c = 0; c < SIDE; c++)
        x[b * S * S + (r + PAD) * S + c + PAD] = 2 * data.images[i * SIDE * SIDE + r * SIDE + c]! - 1;
  });
  return tensor(x, { shape: [index.length, 1, S, S] });
}

/** (B, 1, 32, 32) in about [−1, 1] → the digit (B, 1, 28, 28) in [0, 1]. */
export const cropToDigits = (x: Tensor): Tensor =>
  x.narrow(2, PAD, SIDE).narrow(3, PAD, SIDE).add(1).mul(0.5).clamp(0, 1);

/** The networks of a run and what sampling needs besides them. */
export class LatentDiffusion {
  readonly vae: AutoencoderKL;
  readonly text: CLIPTextModel;
  readonly unet: UNet;
  readonly schedule: Schedule;
  readonly tokenizer = new WordTokenizer();
  scale = 1;

  constructor(
    readonly config: LDMModelConfig,
    scheduleConfig: Partial<ScheduleConfig>,
    readonly thresholds: CaptionThresholds,
    generator: Generator,
  ) {
    this.vae = new AutoencoderKL(config.vae, { generator });
    this.text = new CLIPTextModel(config.text, { generator });
    this.unet = new UNet(config.unet, { generator });
    this.schedule = new Schedule(scheduleConfig);
  }

  /** Captions → the text encoder's states (B, T, D). */
  encodeText(captions: readonly string[]): Tensor {
    const T = this.config.text.maxPositions;
    const ids = new Int32Array(captions.length * T);
    captions.forEach((c, b) => ids.set(this.tokenizer.prompt(c, T), b * T));
    return this.text.forward(tensor(ids, { shape: [captions.length, T], dtype: "int32" })).hidden;
  }

  /**
   * One digit per caption, (B, 1, 28, 28) in [0, 1]: guided DDIM over the latents,
   * ε̃ = ε(z, "") + w·(ε(z, caption) − ε(z, "")), then the decoder.
   */
  generate(
    captions: readonly string[],
    o: { steps: number; guidance: number; generator: Generator; sampler?: "ddim" | "ddpm" },
  ): Tensor {
    const B = captions.length;
    if (B < 1) throw new ArgumentError("LatentDiffusion.generate: no caption");
    return noGrad(() => {
      const context = this.encodeText([...new Array<string>(B).fill(""), ...captions]); // (2B, T, D): "" then the captions
      const L = this.config.vae.latentChannels,
        h = S / 2 ** (this.config.vae.channels.length - 1);
      const z = sample(
        this.schedule,
        (x, t) => {
          const eps = this.unet.forward(cat([x, x], 0), [...t, ...t], null, context); // (2B, L, h, h)
          const u = eps.narrow(0, 0, B),
            c = eps.narrow(0, B, B);
          return u.add(c.sub(u).mul(o.guidance));
        },
        [B, L, h, h],
        { sampler: o.sampler ?? "ddim", steps: o.steps, generator: o.generator, clip: false },
      );
      return cropToDigits(this.vae.decode(z.div(this.scale)));
    });
  }

  /**
   * Digits i of `data` through the autoencoder, x̂ = D(μ(x)), as (B, 1, 28, 28) in [0, 1]: what the decoder can
   * draw at best, so the judge's accuracy on them is the ceiling of the generated digits'.
   */
  reconstruct(data: DigitSet, index: readonly number[]): Tensor {
    if (index.length < 1) throw new ArgumentError("LatentDiffusion.reconstruct: no digit");
    return noGrad(() => cropToDigits(this.vae.decode(this.vae.encode(paddedDigits(data, index)).mean)));
  }
}

/** θ_ema ← d·θ_ema + (1 − d)·θ over matching parameter lists. */
function emaUpdate(dst: Module, src: Module, d: number): void {
  noGrad(() => {
    const a = dst.parameters(),
      b = src.parameters();
    a.forEach((p, i) => {
      const x = p.storage as Float32Array,
        y = b[i]!.storage as Float32Array;
      for (let k = 0; k < x.length; k++) x[k] = d * x[k]! + (1 - d) * y[k]!;
    });
  });
}

export class LDMTrainer {
  readonly model: LatentDiffusion;
  /** the moving average of the U-Net and the text encoder: what samples */
  readonly ema: LatentDiffusion;
  readonly config: LDMTrainConfig;
  readonly generator: Generator;
  readonly captions: string[];
  /** step counts stage 1 (0 … vaeSteps) then stage 2 (vaeSteps … vaeSteps + steps) */
  step = 0;
  private vaeOpt: Adam;
  private opt: Adam;
  /** μ and log σ² (L·h·w each) of the training digits encoded so far, once the autoencoder is trained */
  private moments: Map<number, { mean: Float32Array; logvar: Float32Array }> | null = null;

  constructor(
    modelConfig: LDMModelConfig,
    config: Partial<LDMTrainConfig>,
    readonly data: DigitSet,
  ) {
    const c = (this.config = Object.freeze({ ...LDM_TRAIN, ...config }));
    if (!(Number.isInteger(c.batchSize) && c.batchSize >= 1))
      throw new ArgumentError(`LDMTrainer: batchSize must be a positive integer, got ${c.batchSize}`);
    if (!(data.count >= 1 && data.images.length === data.count * SIDE * SIDE))
      throw new ArgumentError("LDMTrainer: the data must hold count·784 pixels and count labels");
    const th = captionThresholds(data.images, data.labels, data.count);
    this.generator = new Generator(c.seed);
    this.model = new LatentDiffusion(modelConfig, {}, th, this.generator);
    this.ema = new LatentDiffusion(modelConfig, {}, th, new Generator(0));
    this.ema.unet.loadStateDict(this.model.unet.stateDict());
    this.ema.text.loadStateDict(this.model.text.stateDict());
    this.ema.unet.eval();
    this.ema.text.eval();
    this.captions = Array.from({ length: data.count }, (_, i) =>
      caption(data.labels[i]!, attributes(digitStatsAt(data, i), data.labels[i]!, th)),
    );
    this.vaeOpt = new Adam(this.model.vae.parameters(), { lr: c.vaeLr });
    this.opt = new Adam([...this.model.unet.parameters(), ...this.model.text.parameters()], { lr: c.lr });
  }

  get stage(): "vae" | "unet" | "done" {
    const c = this.config;
    return this.step < c.vaeSteps ? "vae" : this.step < c.vaeSteps + c.steps ? "unet" : "done";
  }

  private drawIndex(): number[] {
    return Array.from({ length: this.config.batchSize }, () => this.generator.randint(0, this.data.count));
  }

  /** One step of the current stage; returns its loss (`skipped` 1 when it was not finite: no update). */
  trainStep(): { loss: number; stage: "vae" | "unet"; skipped: number } {
    const stage = this.stage;
    if (stage === "done") throw new ArgumentError("LDMTrainer: both stages are done");
    const index = this.drawIndex();
    let loss: Tensor, params: Tensor[], opt: Adam;
    if (stage === "vae") {
      const vae = this.model.vae;
      vae.train();
      const x = paddedDigits(this.data, index); //                                        (B, 1, 32, 32)
      const q = vae.encode(x);
      const xr = vae.decode(vae.sample(q, this.generator)); //                            (B, 1, 32, 32)
      const rec = xr
        .sub(x)
        .pow(2)
        .sum()
        .mul(1 / index.length); //                       Σ (x̂ − x)² / B
      loss = rec.add(AutoencoderKL.kl(q).mul(this.config.klWeight));
      params = vae.parameters();
      opt = this.vaeOpt;
    } else {
      if (!this.moments) this.finishAutoencoder();
      const m = this.encode(index);
      const n = m[0]!.mean.length;
      const z = new Float32Array(index.length * n);
      m.forEach((q, b) => {
        for (let k = 0; k < n; k++) {
          // z_0 = (μ + σ·ε)·scale: a fresh draw of q(z | x) each time, as the paper's LDMs train
          z[b * n + k] = (q.mean[k]! + Math.exp(0.5 * q.logvar[k]!) * this.generator.normal()) * this.model.scale;
        }
      });
      const L = this.model.config.vae.latentChannels;
      const h = Math.round(Math.sqrt(n / L));
      const z0 = tensor(z, { shape: [index.length, L, h, h] });
      const caps = index.map((i) => (this.generator.random() < this.config.pUncond ? "" : this.captions[i]!));
      this.model.unet.train();
      this.model.text.train();
      const context = this.model.encodeText(caps); //                                     (B, T, D)
      loss = diffusionLoss(
        this.model.schedule,
        (x, t) => this.model.unet.forward(x, t, null, context),
        z0,
        this.generator,
      ).loss;
      params = [...this.model.unet.parameters(), ...this.model.text.parameters()];
      opt = this.opt;
    }
    const value = loss.item();
    if (skipStep(value)) return { loss: value, stage, skipped: 1 };
    opt.zeroGrad();
    loss.backward();
    const norm = this.config.gradClip > 0 ? clipGradNorm(params, this.config.gradClip) : 0;
    if (skipStep(value, norm)) {
      opt.zeroGrad();
      return { loss: value, stage, skipped: 1 };
    }
    opt.step();
    if (stage === "unet") {
      const d = this.step === this.config.vaeSteps ? 0 : this.config.ema;
      emaUpdate(this.ema.unet, this.model.unet, d);
      emaUpdate(this.ema.text, this.model.text, d);
    }
    this.step++;
    return { loss: value, stage, skipped: 0 };
  }

  /** q(z | x) of training digits by the trained autoencoder, each digit encoded once and kept. */
  private encode(index: readonly number[]): { mean: Float32Array; logvar: Float32Array }[] {
    const cache = (this.moments ??= new Map());
    const todo = [...new Set(index.filter((i) => !cache.has(i)))];
    if (todo.length) {
      const vae = this.model.vae;
      vae.eval();
      noGrad(() => {
        const q = vae.encode(paddedDigits(this.data, todo)); //                            (n, L, h, w)
        const mean = q.mean.dataSync(),
          logvar = q.logvar.dataSync(),
          n = mean.length / todo.length;
        todo.forEach((i, b) =>
          cache.set(i, {
            mean: Float32Array.from(mean.subarray(b * n, (b + 1) * n)),
            logvar: Float32Array.from(logvar.subarray(b * n, (b + 1) * n)),
          }),
        );
      });
    }
    return index.map((i) => cache.get(i)!);
  }

  /** After stage 1: the scale 1/std(μ) over the first 512 training digits (the paper's rescaling), the EMA's autoencoder. */
  finishAutoencoder(): void {
    this.moments = new Map();
    const first = this.encode(Array.from({ length: Math.min(512, this.data.count) }, (_, i) => i));
    let s = 0,
      s2 = 0,
      n = 0;
    for (const q of first)
      for (const v of q.mean) {
        s += v;
        s2 += v * v;
        n++;
      }
    const std = Math.sqrt(Math.max(1e-12, s2 / n - (s / n) ** 2));
    this.model.scale = this.ema.scale = 1 / std;
    this.ema.vae.loadStateDict(this.model.vae.stateDict());
  }

  /** The moving average, ready to sample once stage 2 has begun (the autoencoder's scale computed in this process). */
  sampler(): LatentDiffusion {
    if (this.step < this.config.vaeSteps) throw new ArgumentError("LDMTrainer: the autoencoder's stage is not done");
    if (!this.moments) this.finishAutoencoder();
    return this.ema;
  }

  checkpoint(): Checkpoint {
    const m = this.model,
      e = this.ema;
    const prefixed = (p: string, mod: Module) =>
      Object.fromEntries(Object.entries(mod.stateDict()).map(([k, t]) => [`${p}.${k}`, t]));
    return {
      model: {
        ...prefixed("vae", m.vae),
        ...prefixed("text", m.text),
        ...prefixed("unet", m.unet),
        ...prefixed("ema.text", e.text),
        ...prefixed("ema.unet", e.unet),
      },
      optimizer: saveOptimizers({ vae: this.vaeOpt, unet: this.opt }),
      rng: this.generator.getState(),
      step: this.step,
      config: {
        kind: "ldm",
        models: m.config,
        schedule: m.schedule.config,
        train: this.config,
        scale: m.scale,
        thresholds: m.thresholds,
        vocab: m.tokenizer.vocab,
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
        "ldm: the checkpoint has no optimizer or generator state (was it written by `wnn train ldm`?)",
      );
  }

  /**
   * The run of a checkpoint, ready to take its next step: the weights, both moving averages, both optimizers and the
   * generator. In stage 2 the autoencoder's latent scale and the digits' moments are recomputed from its weights on
   * the first step, as the run that never stopped computed them (the encoder encodes each digit on its own).
   */
  static fromCheckpoint(
    ckpt: LoadedCheckpoint,
    data: DigitSet,
    overrides: Partial<Pick<LDMTrainConfig, "steps">> = {},
  ): LDMTrainer {
    const cfg = ldmCheckpointConfig(ckpt);
    LDMTrainer.checkResumable(ckpt);
    try {
      const t = new LDMTrainer(cfg.models, { ...cfg.train, ...overrides }, data);
      const part = (p: string) => withoutPrefix(ckpt.model, p);
      t.model.vae.loadStateDict(part("vae"));
      t.model.text.loadStateDict(part("text"));
      t.model.unet.loadStateDict(part("unet"));
      t.ema.text.loadStateDict(part("ema.text"));
      t.ema.unet.loadStateDict(part("ema.unet"));
      const opt = ckpt.optimizer;
      const json = (opt.json ?? {}) as Record<string, unknown>;
      t.vaeOpt.loadStateDict(stateDictFromTensors(withoutPrefix(opt.tensors, "vae"), json.vae));
      t.opt.loadStateDict(stateDictFromTensors(withoutPrefix(opt.tensors, "unet"), json.unet));
      t.generator.setState(ckpt.rng);
      t.step = ckpt.step;
      return t;
    } catch (e) {
      if (e instanceof LoadError || !(e instanceof WnnError)) throw e;
      throw new LoadError(`ldm: the checkpoint's state does not fit the run it describes: ${e.message}`);
    }
  }
}

/** The prefixes of a checkpoint's weights: the three networks and the moving averages of two of them. */
const LDM_PARTS = ["vae", "text", "unet", "ema.text", "ema.unet"] as const;

/** The tensors of `record` under `prefix.`, without it. */
const withoutPrefix = (record: Record<string, Tensor>, prefix: string): Record<string, Tensor> =>
  Object.fromEntries(
    Object.entries(record)
      .filter(([k]) => k.startsWith(prefix + "."))
      .map(([k, t]) => [k.slice(prefix.length + 1), t]),
  );

/** Both stages' Adam states in the checkpoint's one optimizer entry: tensors under "vae." and "unet.", JSON by stage. */
function saveOptimizers(opts: { vae: Adam; unet: Adam }): { tensors: Record<string, Tensor>; json: unknown } {
  const tensors: Record<string, Tensor> = {},
    json: Record<string, unknown> = {};
  for (const [stage, opt] of Object.entries(opts)) {
    const s = stateDictToTensors(opt.stateDict());
    for (const [k, t] of Object.entries(s.tensors)) tensors[`${stage}.${k}`] = t;
    json[stage] = s.json;
  }
  return { tensors, json };
}

const digitStatsAt = (data: DigitSet, i: number) => digitStats(data.images, i * SIDE * SIDE);

/** The largest networks an ldm checkpoint may describe (checked before anything is allocated). */
const CAPS = {
  vae: { inChannels: 16, outChannels: 16, latentChannels: 64, layersPerBlock: 8, groups: 512 },
  text: { vocabSize: 1024, maxPositions: 256, width: 1024, layers: 24, heads: 64, mlpWidth: 4096 },
  unet: { inChannels: 64, outChannels: 64, channels: 1024, numResBlocks: 8, groups: 512, heads: 64, contextDim: 1024 },
};

/** The configuration of a checkpoint written by LDMTrainer.checkpoint, checked. */
export function ldmCheckpointConfig(ckpt: LoadedCheckpoint): {
  models: LDMModelConfig;
  schedule: ScheduleConfig;
  scale: number;
  thresholds: CaptionThresholds;
  train: Partial<LDMTrainConfig>;
} {
  const c = ckpt.config as Record<string, unknown> | undefined;
  if (!c || c.kind !== "ldm") throw new LoadError("ldm: the checkpoint is not one written by `wnn train ldm`");
  const models = c.models as Record<string, Record<string, unknown>> | undefined;
  if (!models || typeof models !== "object") throw new LoadError("ldm: the checkpoint has no network configs");
  for (const k of ["vae", "text", "unet"] as const) {
    const m = models[k];
    if (!m || typeof m !== "object") throw new LoadError(`ldm: the checkpoint has no ${k} config`);
    checkCaps(`ldm: the checkpoint's ${k} config`, m, CAPS[k]);
    const key = k === "vae" ? "channels" : k === "unet" ? "channelMult" : null;
    if (key !== null) {
      const a = m[key] as unknown;
      if (
        !Array.isArray(a) ||
        a.length < 1 ||
        a.length > 6 ||
        !a.every((v) => Number.isSafeInteger(v) && v >= 1 && v <= 1024)
      )
        throw new LoadError(`ldm: the checkpoint's ${k}.${key} must be 1 to 6 integers from 1 to 1024`);
    }
  }
  // the widths imply at least 9·w² weights per level (a 3×3 convolution each): no more than the file holds
  const unet = models.unet!,
    vae = models.vae!;
  let implied = 0;
  for (const m of unet.channelMult as number[]) implied += 9 * ((unet.channels as number) * m) ** 2;
  for (const w of vae.channels as number[]) implied += 9 * w * w;
  checkImpliedSize("ldm: the checkpoint's configs", implied, heldValues(ckpt.model));
  const th = c.thresholds as CaptionThresholds | undefined;
  const okThirds = (a: unknown) =>
    Array.isArray(a) &&
    a.length === 10 &&
    a.every((t) => t && ["lo", "mid", "hi"].every((q) => Number.isFinite((t as Record<string, number>)[q])));
  if (!th || !okThirds(th.mass) || !okThirds(th.slant))
    throw new LoadError("ldm: the checkpoint's caption thresholds are missing or malformed");
  if (typeof c.scale !== "number" || !Number.isFinite(c.scale) || c.scale <= 0)
    throw new LoadError(`ldm: the checkpoint's latent scale ${JSON.stringify(c.scale)} is not a positive number`);
  const vocab = c.vocab as unknown;
  if (!Array.isArray(vocab) || vocab.join(" ") !== CAPTION_VOCAB.join(" "))
    throw new LoadError("ldm: the checkpoint's vocabulary is not the captions' vocabulary");
  const train = (c.train ?? {}) as Record<string, unknown>;
  if (typeof train !== "object" || train === null)
    throw new LoadError("ldm: the checkpoint's training config is not an object");
  checkCaps("ldm: the checkpoint's training config", train, { vaeSteps: 10_000_000, seed: 2 ** 32 - 1 }, [
    "vaeSteps",
    "seed",
  ]);
  checkCaps("ldm: the checkpoint's training config", train, { steps: 10_000_000, batchSize: 1024 });
  for (const k of ["vaeLr", "lr", "klWeight", "pUncond", "ema", "gradClip"] as const) {
    const v = train[k];
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0)
      throw new LoadError(
        `ldm: the checkpoint's training config: ${k} is ${JSON.stringify(v)}, expected a finite number ≥ 0`,
      );
  }
  checkRunState("ldm: the checkpoint", ckpt, {
    totalSteps: (train.vaeSteps as number) + (train.steps as number),
  });
  try {
    return {
      models: {
        vae: vaeConfig(models.vae as unknown as VAEConfig),
        text: clipTextConfig(models.text as unknown as CLIPTextConfig),
        unet: unetConfig(models.unet as unknown as UNetConfig),
      },
      schedule: new Schedule(c.schedule as Partial<ScheduleConfig>).config,
      scale: c.scale,
      thresholds: th,
      train: train as Partial<LDMTrainConfig>,
    };
  } catch (e) {
    throw new LoadError(`ldm: the checkpoint's config is invalid: ${(e as Error).message}`);
  }
}

/** The sampling model of an ldm checkpoint: the autoencoder, and the moving averages of the text encoder and the U-Net. */
export function loadLDM(ckpt: LoadedCheckpoint): LatentDiffusion {
  const cfg = ldmCheckpointConfig(ckpt);
  const m = new LatentDiffusion(cfg.models, cfg.schedule, cfg.thresholds, new Generator(0));
  m.scale = cfg.scale;
  const part = (p: string) => withoutPrefix(ckpt.model, p);
  // every weight belongs to one of the networks (a name under none of them was ignored before)
  const stray = Object.keys(ckpt.model).filter((k) => !LDM_PARTS.some((p) => k.startsWith(p + ".")));
  if (stray.length > 0)
    throw new LoadError(
      `ldm: the checkpoint holds ${stray.length} weight${stray.length === 1 ? "" : "s"} of no network (${stray
        .slice(0, 3)
        .map((k) => JSON.stringify(k))
        .join(", ")}${stray.length > 3 ? ", ..." : ""}); its weights are under ${LDM_PARTS.join(", ")}`,
    );
  try {
    m.vae.loadStateDict(part("vae"));
    // the trained weights first, only to check that they fit too (a file that disagrees with its own config is
    // refused whole), then the moving average's over them: what samples
    m.text.loadStateDict(part("text"));
    m.unet.loadStateDict(part("unet"));
    m.text.loadStateDict(part("ema.text"));
    m.unet.loadStateDict(part("ema.unet"));
  } catch (e) {
    if (e instanceof WnnError) throw new LoadError(`ldm: the checkpoint's weights do not fit its config: ${e.message}`);
    throw e;
  }
  m.vae.eval();
  m.text.eval();
  m.unet.eval();
  return m;
}
