// `wnn train tacotron2`, `wnn train fastspeech2` (with checkpoints) and `wnn train vocoder`: the text-to-speech
// models on the synthesized corpus (docs/audio.md), each a TrainingJob of the shared loop (loop.ts), so that
// the command line gives them progress, checkpoints at every evaluation, --resume, Ctrl-C and the NaN guard
// as it does every other run (cli/tts.ts writes the files). Browser-safe.
//
//   model        one step                                          evaluation (held-out sentences)
//   tacotron2    teacher-forced mel MSE (before and after the        the same loss; the first sentence's
//                post-net) + stop BCE + λ · guided attention         alignment (a picture per evaluation)
//   fastspeech2  L1(mel) + MSE(log d, pitch, energy) with the        the same loss with the true durations
//                teacher's durations (below)
//   vocoder      HiFi-GAN: 45 · L1(log-mel(G(s)), log-mel(x)) on      the mel L1 on whole held-out sentences
//                random segments, + the discriminators' LSGAN and
//                feature-matching losses (`adversarial`)
//
// FastSpeech 2's durations come from a monotonic alignment of the teacher's own log-mels (flat-start Viterbi
// training of one diagonal Gaussian per symbol, src/audio/features.ts flatStartDurations), not from a trained
// Tacotron 2's attention: the alignment needs no teacher model, takes seconds for the whole corpus, and is
// hard (every frame belongs to exactly one symbol) by construction, whereas a small Tacotron 2 trained for an
// hour on a CPU does not align reliably enough to extract durations from (docs/compare/tts.md measures its
// attention). The held-out sentences are the corpus's first `heldOut` sentences for every model, never trained on.
//
// Everything random comes from `generator` (seeded with the seed; its state is in the checkpoint): the initial
// weights, every batch and segment, Tacotron 2's dropout; the default generator (FastSpeech 2's dropout) is saved
// too. A run stopped at step s and resumed takes the same steps as one that never stopped.

import { noGrad } from "../engine/autograd.js";
import { ArgumentError, LoadError, WnnError } from "../engine/errors.js";
import { defaultGenerator, Generator, manualSeed, type GeneratorState } from "../engine/rng.js";
import { tensor } from "../engine/creation.js";
import { meta } from "../engine/meta.js";
import type { Tensor } from "../engine/tensor.js";
import type { Checkpoint, LoadedCheckpoint } from "../io/checkpoint.js";
import { decodeWav } from "../io/wav.js";
import { charFrontEnd, phonemeFrontEnd, type TextFrontEnd } from "../data/speech.js";
import { LogMelTransform } from "../audio/index.js";
import { Module } from "../nn/module.js";
import { AdamW } from "../optim/adam.js";
import { moduleClassPolicy } from "../nn/checkpoint.js";
import type { Communicator } from "../distributed/collectives.js";
import { DataParallel, type StrategyName } from "../distributed/data-parallel.js";
import {
  SingleProcess,
  WHOLE,
  forwardOnRows,
  myRows,
  rowsOf,
  shareWeight,
  type Part,
  type StepDriver,
} from "./data-parallel-job.js";
import { stateDictFromTensors, stateDictToTensors } from "../optim/state.js";
import { skipStep, type Metrics, type TrainingJob } from "./loop.js";
import type { RecipeData } from "./recipe.js";
import { checkCaps, checkRunState } from "./run-state.js";
import {
  alignCorpus,
  alignmentPng,
  prepareUtterance,
  ttsBatch,
  TTS_AUDIO,
  type TtsBatch,
  type TtsUtterance,
} from "./tts-data.js";
import {
  foldConvBiases,
  Tacotron2,
  tacotron2Config,
  PRESETS as TACOTRON2_PRESETS,
  type Tacotron2Config,
} from "../models/tacotron2/model.js";
import {
  FastSpeech2,
  FFTBlock,
  fastSpeech2Config,
  PRESETS as FASTSPEECH2_PRESETS,
  type FastSpeech2Config,
} from "../models/fastspeech2/model.js";
import { heldOutLoss, prosodyRange } from "../models/fastspeech2/recipe.js";
import {
  Discriminators,
  Generator as HiFiGenerator,
  discriminatorLoss,
  generatorLosses,
  hifiganConfig,
  hopOf,
  PRESETS as HIFIGAN_PRESETS,
  type HiFiGANConfig,
} from "../models/hifigan/model.js";

import { TTS_MODELS, type TtsModelName } from "./tts-models.js";
export { TTS_MODELS, type TtsModelName };

export interface TtsTrainOptions {
  steps: number;
  batchSize: number;
  lr: number;
  evalEvery: number;
  /** the corpus: this many Moby Dick sentences and a tenth as many short prompts */
  sentences: number;
  /** the first sentences of the corpus, never trained on */
  heldOut: number;
  /** "phonemes" (CMUdict, letters for unknown words) or "chars"; the vocoder reads no text */
  frontEnd: string;
  preset: string;
  /** training sentences longer than this many frames (12.5 ms each) are left out (the held-out ones never) */
  maxFrames: number;
  /** Tacotron 2: the weight λ of the guided-attention loss (0: none) */
  guidedAttention: number;
  /** Tacotron 2: the reduction factor r, mel frames made per decoder step (0: the preset's) */
  framesPerStep: number;
  /** FastSpeech 2: flat-start alignment iterations */
  alignIterations: number;
  /** the vocoder: frames per training segment */
  segmentFrames: number;
  /** the vocoder: 1 trains with the discriminators (HiFi-GAN), 0 with the mel loss alone */
  adversarial: number;
  seed: number;
}

/** Each model's defaults: sized for about twenty minutes of one CPU core (docs/compare/tts.md). */
export const TTS_DEFAULTS: Readonly<Record<TtsModelName, Readonly<TtsTrainOptions>>> = Object.freeze({
  tacotron2: Object.freeze({
    steps: 1500,
    batchSize: 8,
    lr: 1e-3,
    evalEvery: 100,
    sentences: 1000,
    heldOut: 20,
    frontEnd: "phonemes",
    preset: "small",
    maxFrames: 240,
    guidedAttention: 1000, // the loss is a mean over all (step, symbol) cells: about 1/S of the penalty; λ = 1000 aligns within a few hundred steps
    framesPerStep: 0,
    alignIterations: 8,
    segmentFrames: 32,
    adversarial: 0,
    seed: 0,
  }),
  fastspeech2: Object.freeze({
    steps: 3000,
    batchSize: 16,
    lr: 1e-3,
    evalEvery: 250,
    sentences: 1000,
    heldOut: 20,
    frontEnd: "phonemes",
    preset: "small",
    maxFrames: 1000,
    guidedAttention: 0,
    framesPerStep: 0,
    alignIterations: 8,
    segmentFrames: 32,
    adversarial: 0,
    seed: 0,
  }),
  vocoder: Object.freeze({
    steps: 2000,
    batchSize: 4,
    lr: 2e-4,
    evalEvery: 250,
    sentences: 1000,
    heldOut: 20,
    frontEnd: "chars",
    preset: "small",
    maxFrames: 400,
    guidedAttention: 0,
    framesPerStep: 0,
    alignIterations: 8,
    segmentFrames: 32,
    adversarial: 1,
    seed: 0,
  }),
});

/** The most any option may ask for (the command line's bounds, and the checks of a checkpoint's options). */
export const TTS_CAPS: Readonly<Record<string, number>> = Object.freeze({
  steps: 10_000_000,
  batchSize: 256,
  evalEvery: 10_000_000,
  sentences: 100_000,
  heldOut: 1000,
  maxFrames: 100_000,
  framesPerStep: 8,
  alignIterations: 100,
  segmentFrames: 1000,
});

const presetsOf = (name: TtsModelName): Record<string, unknown> =>
  name === "tacotron2" ? TACOTRON2_PRESETS : name === "fastspeech2" ? FASTSPEECH2_PRESETS : HIFIGAN_PRESETS;

/** The options checked: integers within their caps, a positive learning rate, a known preset and front end. */
export function checkTtsOptions(name: TtsModelName, o: TtsTrainOptions): TtsTrainOptions {
  checkCaps(`${name} options`, o as unknown as Record<string, unknown>, TTS_CAPS, ["heldOut", "framesPerStep"]);
  if (!(Number.isSafeInteger(o.seed) && o.seed >= 0 && o.seed < 2 ** 32))
    throw new ArgumentError(`seed must be an integer in [0, 2³²), got ${o.seed}`);
  if (!(Number.isFinite(o.lr) && o.lr > 0 && o.lr <= 1e6))
    throw new ArgumentError(`lr must be in (0, 1e6], got ${o.lr}`);
  if (!(Number.isFinite(o.guidedAttention) && o.guidedAttention >= 0 && o.guidedAttention <= 1000))
    throw new ArgumentError(`guidedAttention must be in [0, 1000], got ${o.guidedAttention}`);
  if (o.adversarial !== 0 && o.adversarial !== 1)
    throw new ArgumentError(`adversarial must be 0 or 1, got ${o.adversarial}`);
  if (!(typeof o.preset === "string" && o.preset in presetsOf(name)))
    throw new ArgumentError(`preset must be one of ${Object.keys(presetsOf(name)).join(", ")}, got ${o.preset}`);
  if (o.frontEnd !== "phonemes" && o.frontEnd !== "chars")
    throw new ArgumentError(`frontEnd must be "phonemes" or "chars", got ${o.frontEnd}`);
  return Object.freeze({ ...o });
}

/** The text front end a run names; phonemes need data.pronunciations (CMUdict). */
export function ttsFrontEnd(name: string, data: RecipeData): TextFrontEnd {
  if (name === "chars") return charFrontEnd();
  if (!data.pronunciations)
    throw new ArgumentError("the phoneme front end needs data.pronunciations (loadCmudict from writtingnns/node)");
  return phonemeFrontEnd(data.pronunciations);
}

/** The corpus as features: every sentence's log-mel, pitch and energy; FastSpeech 2's durations; held-out first. */
export function prepareTtsCorpus(
  name: TtsModelName,
  o: TtsTrainOptions,
  data: RecipeData,
  fe: TextFrontEnd,
  heldOnly = false,
): { held: TtsUtterance[]; train: TtsUtterance[] } {
  if (!data.speech) throw new ArgumentError(`${name}: needs data.speech (buildSpeechCorpus and loadSpeechCorpus)`);
  // training sentences longer than maxFrames are dropped before their features are computed (the untrimmed
  // length bounds the trimmed one); the held-out ones are always kept
  const hop = TTS_AUDIO.hopLength;
  const items = data.speech.items.map((it, i) => ({ it, wav: decodeWav(it.wav), held: i < o.heldOut }));
  const heldSet = new Set<TtsUtterance>();
  let utts: TtsUtterance[] = items
    .filter(({ wav, held }) => held || (!heldOnly && wav.channels[0]!.length <= (o.maxFrames + 4) * hop))
    .map(({ it, wav, held }) => {
      if (wav.sampleRate !== TTS_AUDIO.sampleRate)
        throw new ArgumentError(`${name}: "${it.text}" is at ${wav.sampleRate} Hz, not ${TTS_AUDIO.sampleRate} Hz`);
      const u = prepareUtterance(
        it.text,
        fe.encode(it.text),
        wav.channels[0]!,
        TTS_AUDIO,
        40,
        2,
        name === "fastspeech2",
      );
      if (held) heldSet.add(u);
      return u;
    });
  if (name === "fastspeech2") utts = alignCorpus(utts, fe.symbols.length, o.alignIterations);
  const minFrames = name === "vocoder" ? o.segmentFrames : 1;
  const held = utts.filter((u) => heldSet.has(u));
  const train = utts.filter((u) => !heldSet.has(u) && u.nFrames <= o.maxFrames && u.nFrames >= minFrames);
  if (train.length === 0 && !heldOnly)
    throw new ArgumentError(
      `${name}: no training sentence left (${utts.length} in the corpus, ${o.heldOut} held out, at most ${o.maxFrames} frames each)`,
    );
  if (held.length === 0) throw new ArgumentError(`${name}: heldOut must keep at least one sentence out`);
  return { held, train };
}

// =====================================================================================================
// The models as one trainable thing each

/** HiFi-GAN's generator and discriminators, saved together (`wnn say` uses the generator). */
export class HiFiGAN extends Module {
  generator: HiFiGenerator;
  discriminators: Discriminators;
  constructor(
    readonly config: HiFiGANConfig,
    opts: { generator?: Generator } = {},
  ) {
    super();
    this.generator = new HiFiGenerator(config, opts);
    this.discriminators = new Discriminators(config, opts);
  }
}

export type TtsModel = Tacotron2 | FastSpeech2 | HiFiGAN;
type AnyConfig = Tacotron2Config | FastSpeech2Config | HiFiGANConfig;

/** What a checkpoint of this trainer keeps in its config. */
export interface SavedTtsRun {
  kind: "tts";
  model: TtsModelName;
  config: AnyConfig;
  options: TtsTrainOptions;
  /** the text front end's symbols (index = id), checked against the dictionary on load */
  symbols: string[];
  /** FastSpeech 2's pitch (log Hz) and energy ranges of its bins */
  bins: [[number, number], [number, number]] | null;
}

interface TtsExtra {
  dropoutRng: GeneratorState;
  lastEval: number;
}

function buildModel(name: TtsModelName, config: AnyConfig, generator: Generator): TtsModel {
  if (name === "tacotron2") return new Tacotron2(config as Tacotron2Config, { generator });
  if (name === "fastspeech2") return new FastSpeech2(config as FastSpeech2Config, { generator });
  return new HiFiGAN(config as HiFiGANConfig, { generator });
}

function configOf(name: TtsModelName, o: TtsTrainOptions, nSymbols: number, maxLen: number): AnyConfig {
  const base = o.preset;
  if (name === "tacotron2")
    return tacotron2Config(base as keyof typeof TACOTRON2_PRESETS, {
      nSymbols,
      nMels: TTS_AUDIO.nMels,
      ...(o.framesPerStep > 0 ? { framesPerStep: o.framesPerStep } : {}),
    });
  if (name === "fastspeech2")
    return fastSpeech2Config(base as keyof typeof FASTSPEECH2_PRESETS, {
      nSymbols,
      nMels: TTS_AUDIO.nMels,
      maxLen: Math.max((FASTSPEECH2_PRESETS as Record<string, FastSpeech2Config>)[base as string]!.maxLen, maxLen),
    });
  const c = hifiganConfig(base as keyof typeof HIFIGAN_PRESETS, { nMels: TTS_AUDIO.nMels });
  if (hopOf(c) !== TTS_AUDIO.hopLength)
    throw new ArgumentError(
      `vocoder: preset ${base} upsamples ×${hopOf(c)}, the corpus's hop is ${TTS_AUDIO.hopLength}`,
    );
  return c;
}

/**
 * The most layers, blocks or list entries a checkpoint's config may name (the models use 2 to 6): the weights
 * they imply are counted on a model built from the config, shape-only, and 65,536 encoder layers took 11 s of CPU
 * and 800 MB of shape-only modules to count.
 */
const MAX_CHECKPOINT_LAYERS = 64;

/**
 * A config read back from a checkpoint, through the model's own config function (throws on a bad one), its sizes
 * and its numbers of layers within what a checkpoint may describe.
 */
function checkedConfig(name: TtsModelName, c: unknown): AnyConfig {
  if (!c || typeof c !== "object" || Array.isArray(c))
    throw new LoadError(`the checkpoint's ${name} config is not an object`);
  try {
    if (name === "tacotron2") {
      const t = tacotron2Config(c as Tacotron2Config);
      checkCaps("tacotron2 config", t as unknown as Record<string, unknown>, {
        nSymbols: 4096,
        nMels: 1024,
        embDim: 4096,
        attnRnnDim: 4096,
        decRnnDim: 4096,
        postnetDim: 4096,
        prenetDim: 4096,
        attnDim: 4096,
        encConvLayers: MAX_CHECKPOINT_LAYERS,
        postnetLayers: MAX_CHECKPOINT_LAYERS,
      });
      return t;
    }
    if (name === "fastspeech2") {
      const f = fastSpeech2Config(c as FastSpeech2Config);
      checkCaps("fastspeech2 config", f as unknown as Record<string, unknown>, {
        nSymbols: 4096,
        nMels: 1024,
        dModel: 4096,
        maxLen: 1_000_000,
        encLayers: MAX_CHECKPOINT_LAYERS,
        decLayers: MAX_CHECKPOINT_LAYERS,
      });
      return f;
    }
    const h = hifiganConfig(c as HiFiGANConfig);
    checkCaps("vocoder config", h as unknown as Record<string, unknown>, { nMels: 1024, initialChannels: 4096 });
    // the lists are the vocoder's blocks: one residual block per kernel per upsampling, one discriminator per period
    const list = (what: string, a: readonly unknown[], most: number): void => {
      if (a.length > most)
        throw new LoadError(`the checkpoint's vocoder config: ${what} has ${a.length} entries, more than ${most}`);
    };
    list("resblockKernels", h.resblockKernels, MAX_CHECKPOINT_LAYERS);
    for (const d of h.resblockDilations) list("a list of resblockDilations", d, MAX_CHECKPOINT_LAYERS);
    list("periods", h.periods, MAX_CHECKPOINT_LAYERS);
    return h;
  } catch (e) {
    if (e instanceof WnnError && !(e instanceof LoadError))
      throw new LoadError(`the checkpoint's ${name} config is not valid: ${e.message}`);
    throw e;
  }
}

/**
 * The run a checkpoint of TtsTrainer describes, checked before anything is built: its kind and model, its
 * options, a config its model's config function accepts, and its weights' count against the config's.
 */
export function savedTtsRun(ckpt: LoadedCheckpoint): SavedTtsRun {
  const c = ckpt.config as Record<string, unknown> | undefined;
  if (!c || typeof c !== "object" || c.kind !== "tts")
    throw new LoadError(
      `not a checkpoint of wnn train tacotron2, fastspeech2 or vocoder (its config.kind is ${JSON.stringify((c as { kind?: unknown } | undefined)?.kind ?? null)})`,
    );
  const name = c.model as TtsModelName;
  if (!TTS_MODELS.includes(name)) throw new LoadError(`the checkpoint names the model ${JSON.stringify(c.model)}`);
  let options: TtsTrainOptions;
  try {
    options = checkTtsOptions(name, { ...TTS_DEFAULTS[name], ...(c.options as object) });
  } catch (e) {
    throw new LoadError(`the checkpoint's options are not valid: ${(e as Error).message}`);
  }
  const config = checkedConfig(name, c.config);
  if (!Array.isArray(c.symbols) || c.symbols.length > 4096 || c.symbols.some((s) => typeof s !== "string"))
    throw new LoadError("the checkpoint's symbols are not a list of strings");
  const bins = c.bins as SavedTtsRun["bins"];
  if (
    bins !== null &&
    !(
      Array.isArray(bins) &&
      bins.length === 2 &&
      bins.every((r) => Array.isArray(r) && r.length === 2 && r.every(Number.isFinite) && r[0] <= r[1])
    )
  )
    throw new LoadError("the checkpoint's bins are not two [low, high] ranges, low ≤ high");
  // the weights the config implies, counted on the model built from it shape-only (nothing allocated: a config
  // within its caps may still imply gigabytes), against the file's
  const expected = Object.values(meta(() => buildModel(name, config, new Generator(0))).stateDict()).reduce(
    (n, t) => n + t.numel(),
    0,
  );
  const held = Object.values(weightsOf(name, ckpt)).reduce((n, t) => n + t.numel(), 0);
  if (expected !== held)
    throw new LoadError(
      `the checkpoint's ${name} config has ${expected.toLocaleString("en-US")} weights, but the file holds ${held.toLocaleString("en-US")}`,
    );
  if (!Number.isSafeInteger(ckpt.step) || ckpt.step < 0 || ckpt.step > options.steps)
    throw new LoadError(`the checkpoint's step ${ckpt.step} is not in [0, ${options.steps}]`);
  // the generators it restores: its own (rng) and dropout's (extra.dropoutRng)
  checkRunState("the checkpoint", ckpt, { generators: ["dropoutRng"] });
  return { kind: "tts", model: name, config, options, symbols: c.symbols as string[], bins };
}

/**
 * A checkpoint's model weights, in this project's layout: a Tacotron 2 saved with biases in the convolutions before
 * its batch norms (the earlier layout) has them folded into the norms' running means, the same function.
 */
function weightsOf(name: TtsModelName, ckpt: LoadedCheckpoint): Record<string, Tensor> {
  return name === "tacotron2" ? foldConvBiases(ckpt.model) : ckpt.model;
}

/** The model of a checked run, with its weights (no optimizer, no data): for synthesis. */
export function ttsModelOf(saved: SavedTtsRun, ckpt: LoadedCheckpoint): TtsModel {
  const model = buildModel(saved.model, saved.config, new Generator(saved.options.seed));
  try {
    model.loadStateDict(weightsOf(saved.model, ckpt));
  } catch (e) {
    if (e instanceof WnnError && !(e instanceof LoadError))
      throw new LoadError(`the checkpoint's weights do not fit its ${saved.model}: ${e.message}`);
    throw e;
  }
  if (model instanceof FastSpeech2 && saved.bins) model.setBins(...saved.bins);
  model.eval();
  return model;
}

/** The optimizers of a model: AdamW on its parameters; the vocoder's generator and discriminators each their own. */
function optimizersOf(model: TtsModel, lr: number): { g: AdamW; d: AdamW | null } {
  if (model instanceof HiFiGAN)
    // HiFi-GAN §4: AdamW β = (0.8, 0.99), weight decay 0.01
    return {
      g: new AdamW(model.generator.parameters(), { lr, betas: [0.8, 0.99] }),
      d: new AdamW(model.discriminators.parameters(), { lr, betas: [0.8, 0.99] }),
    };
  return { g: new AdamW(model.parameters(), { lr, weightDecay: 1e-6 }), d: null };
}

/** A checkpoint's weights and optimizer states into `model` and its optimizers; what does not fit is a LoadError. */
function loadState(name: TtsModelName, ckpt: LoadedCheckpoint, model: TtsModel, g: AdamW, d: AdamW | null): void {
  const split = (p: string) =>
    Object.fromEntries(
      Object.entries(ckpt.optimizer?.tensors ?? {})
        .filter(([k]) => k.startsWith(p))
        .map(([k, v]) => [k.slice(p.length), v]),
    );
  const json = (ckpt.optimizer?.json ?? {}) as { g?: unknown; d?: unknown };
  if (Object.keys(weightsOf(name, ckpt)).length !== Object.keys(ckpt.model).length)
    throw new LoadError(
      "this Tacotron 2 checkpoint has biases in the convolutions before its batch norms (an earlier layout): wnn eval and wnn say read it (the biases fold into the norms), but it cannot be resumed, since its optimizer state holds entries for them",
    );
  try {
    model.loadStateDict(ckpt.model);
    if (ckpt.optimizer) g.loadStateDict(stateDictFromTensors(split("g."), json.g));
    if (ckpt.optimizer && d) d.loadStateDict(stateDictFromTensors(split("d."), json.d));
  } catch (e) {
    if (e instanceof LoadError || !(e instanceof WnnError)) throw e;
    throw new LoadError(`the checkpoint's state does not fit the ${name} it describes: ${e.message}`);
  }
}

// =====================================================================================================
// The job

export type TtsStep = { loss: number; gradNorm: number; skipped: number };

export class TtsTrainer implements TrainingJob<TtsStep, Metrics> {
  readonly options: TtsTrainOptions;
  readonly model: TtsModel;
  readonly optimizer: AdamW;
  /** the vocoder's discriminators' optimizer */
  readonly optimizerD: AdamW | null = null;
  readonly generator: Generator;
  readonly frontEnd: TextFrontEnd;
  readonly held: TtsUtterance[];
  readonly train: TtsUtterance[];
  readonly config: AnyConfig;
  readonly bins: SavedTtsRun["bins"];
  step = 0;
  lastEval = -1;
  /** the first held-out sentence's alignment at the last evaluation (Tacotron 2): (N steps, S symbols) */
  lastAlignment: { weights: Float64Array; N: number; S: number; text: string } | null = null;
  private readonly logMel: LogMelTransform | null = null;
  /** one process, or this worker's of N (dataParallel): the model's (the vocoder: its generator's) and the discriminators' */
  private driver: StepDriver;
  private driverD: StepDriver | null = null;
  /** this worker's rows of every batch */
  private part: Part = WHOLE;

  constructor(
    readonly name: TtsModelName,
    options: TtsTrainOptions,
    data: RecipeData,
    saved: SavedTtsRun | null = null,
    /** the corpus's features already prepared for these options (a run's memory probe: `atBatch`) */
    prepared: { held: TtsUtterance[]; train: TtsUtterance[] } | null = null,
  ) {
    this.options = checkTtsOptions(name, options);
    const o = this.options;
    manualSeed(o.seed); // the default generator: FastSpeech 2's dropout
    this.generator = new Generator(o.seed);
    this.frontEnd = ttsFrontEnd(o.frontEnd, data);
    if (saved && saved.symbols.join("\n") !== this.frontEnd.symbols.join("\n"))
      throw new LoadError(`the run's ${o.frontEnd} symbols are not this dictionary's; it was trained with another`);
    ({ held: this.held, train: this.train } = prepared ?? prepareTtsCorpus(name, o, data, this.frontEnd));
    const maxLen = 2 * Math.max(...[...this.held, ...this.train].map((u) => u.nFrames));
    this.config = saved?.config ?? configOf(name, o, this.frontEnd.symbols.length, maxLen);
    this.model = buildModel(name, this.config, this.generator);
    this.bins = null;
    if (this.model instanceof FastSpeech2) {
      this.bins = saved?.bins ?? prosodyRange(this.train);
      this.model.setBins(...this.bins);
    }
    ({ g: this.optimizer, d: this.optimizerD } = optimizersOf(this.model, o.lr));
    if (this.model instanceof HiFiGAN) {
      const c = TTS_AUDIO;
      this.logMel = new LogMelTransform({ ...c, scale: "slaney", norm: "slaney" });
      this.driver = new SingleProcess(this.model.generator, this.optimizer);
      this.driverD = new SingleProcess(this.model.discriminators, this.optimizerD!);
    } else this.driver = new SingleProcess(this.model, this.optimizer);
  }

  /**
   * Make this trainer (new, or loaded from a checkpoint: the same on every worker) worker `comm.rank` of N: it
   * trains on its rows of every batch, drawn whole as one process draws it and padded to the whole batch's
   * lengths, with one process's dropout masks and BatchNorm statistics (data-parallel-job.ts forwardOnRows), its
   * masked means weighted by its share of the frames, symbols and attention cells (shareWeight); the strategy
   * makes the workers agree. FSDP: each FFT block of FastSpeech 2 a unit of its own, the root keeping the rest;
   * Tacotron 2 one unit; the vocoder's generator one unit and its discriminators another (two groups of shards,
   * one per optimizer). Evaluations run whole on every worker, so their numbers are one process's.
   */
  dataParallel(comm: Communicator, strategy: StrategyName): void {
    rowsOf(this.options.batchSize, comm); // splits evenly, or says so
    const m = this.model;
    const make = (module: Module, opt: AdamW, blocks = false): DataParallel => {
      const dp = new DataParallel(module, opt, comm, {
        strategy,
        ...(blocks ? { autoWrapPolicy: moduleClassPolicy(FFTBlock) } : {}),
      });
      dp.loadFromWhole(); // a resumed run: the shards take their chunks of the optimizer state
      return dp;
    };
    if (m instanceof HiFiGAN) {
      this.driver = make(m.generator, this.optimizer);
      this.driverD = make(m.discriminators, this.optimizerD!);
    } else this.driver = make(m, this.optimizer, m instanceof FastSpeech2);
    this.part = { rank: comm.rank, worldSize: comm.worldSize };
  }

  /** FSDP's units of every group of shards, and the bytes of the largest gathered (null: not FSDP) */
  fsdpUnits(): { units: number; largestUnit: number } | null {
    const units = [this.driver, this.driverD].map((d) => (d instanceof DataParallel ? d.fsdpUnits() : null));
    if (!units[0]) return null;
    return {
      units: units.reduce((n, u) => n + (u?.units ?? 0), 0),
      largestUnit: Math.max(...units.map((u) => u?.largestUnit ?? 0)),
    };
  }

  /**
   * The same run at another batch, on the features this one prepared, drawing its next batch as this one would
   * (the memory estimate of cli/tts.ts counts its first step on shape-only tensors before the run starts; a
   * shape-only model's initialization draws nothing, so the generator's state is copied, not re-seeded).
   */
  atBatch(batchSize: number, data: RecipeData): TtsTrainer {
    const t = new TtsTrainer(this.name, { ...this.options, batchSize }, data, null, {
      held: this.held,
      train: this.train,
    });
    t.generator.setState(this.generator.getState());
    return t;
  }

  get totalSteps(): number {
    return this.options.steps;
  }

  /** One optimizer step on a fresh batch; the gradient norm clipped to 1; a non-finite loss skips the update. */
  trainStep(): TtsStep {
    const o = this.options,
      g = this.generator,
      m = this.model;
    m.train();
    if (m instanceof HiFiGAN) return this.vocoderStep(m);
    // the whole batch, padded to its longest sentence, as one process draws it; with workers, this worker's rows
    const idx = Array.from({ length: o.batchSize }, () => g.randint(0, this.train.length));
    const part = this.part;
    let loss: Tensor;
    if (m instanceof Tacotron2) {
      const b = rowsOfBatch(ttsBatch(this.train, idx, m.config.framesPerStep), part);
      const r = m.config.framesPerStep;
      // the guided-attention loss's cells: a row's decoder steps × its symbols
      const cells = (rows: TtsBatch) =>
        rows.melLengths.reduce((n, f, i) => n + Math.ceil(f / r) * rows.textLengths[i]!, 0);
      loss = forwardOnRows(
        this.driver,
        part,
        () =>
          m.forward(b.mine.text, b.mine.textLengths, {
            mel: b.mine.mel,
            melLengths: b.mine.melLengths,
            guidedAttention: o.guidedAttention,
            ...(part.worldSize > 1
              ? {
                  shares: {
                    frames: shareWeight(sum(b.mine.melLengths), sum(b.whole.melLengths), part),
                    cells: shareWeight(cells(b.mine), cells(b.whole), part),
                  },
                }
              : {}),
          }).loss!,
      );
    } else {
      const b = rowsOfBatch(ttsBatch(this.train, idx), part);
      loss = forwardOnRows(
        this.driver,
        part,
        () =>
          m.forward(b.mine.text, b.mine.textLengths, {
            durations: b.mine.durations,
            pitch: b.mine.pitch,
            energy: b.mine.energy,
            mel: b.mine.mel,
            ...(part.worldSize > 1
              ? {
                  shares: {
                    frames: shareWeight(sum(b.mine.melLengths), sum(b.whole.melLengths), part),
                    symbols: shareWeight(sum(b.mine.textLengths), sum(b.whole.textLengths), part),
                  },
                }
              : {}),
          }).loss!,
      );
    }
    return this.update(loss, this.driver);
  }

  /**
   * backward, clip, step (`count`: this update ends the job's step). With workers the loss is the mean of theirs
   * (the whole batch's) and the gradient norm the whole gradient's, so every worker skips the same steps.
   */
  private update(loss: Tensor, d: StepDriver, count = true): TtsStep {
    const value = d.mean(loss.item());
    if (skipStep(value)) {
      d.endEvaluation(); // FSDP: what the forward gathered is freed
      return { loss: value, gradNorm: NaN, skipped: 1 }; // no update, as llm.c does
    }
    d.zeroGrad();
    loss.backward();
    const gradNorm = d.reduceGradients(1);
    if (skipStep(value, gradNorm)) {
      d.zeroGrad();
      return { loss: value, gradNorm, skipped: 1 };
    }
    d.step();
    if (count) this.step++;
    return { loss: value, gradNorm, skipped: 0 };
  }

  /** Random segments: mel (B, M, F) → waveform (B, 1, F · hop) against the teacher's samples. */
  private segments(): { mel: Tensor; wave: Tensor } {
    const o = this.options,
      F = o.segmentFrames,
      M = TTS_AUDIO.nMels,
      hop = TTS_AUDIO.hopLength;
    const mel = new Float32Array(o.batchSize * M * F),
      wave = new Float32Array(o.batchSize * F * hop);
    for (let b = 0; b < o.batchSize; b++) {
      const u = this.train[this.generator.randint(0, this.train.length)]!;
      const f0 = this.generator.randint(0, u.nFrames - F + 1);
      for (let d = 0; d < M; d++) mel.set(u.mel.subarray(d * u.nFrames + f0, d * u.nFrames + f0 + F), (b * M + d) * F);
      // frame m is centred on sample m·hop; the segment's samples start at f0·hop
      wave.set(u.samples.subarray(f0 * hop, Math.min(u.samples.length, (f0 + F) * hop)), b * F * hop);
    }
    return {
      mel: tensor(mel, { shape: [o.batchSize, M, F] }),
      wave: tensor(wave, { shape: [o.batchSize, 1, F * hop] }),
    };
  }

  /**
   * HiFi-GAN §2.4: first the discriminators, L_D = Σ_k (D_k(x) − 1)² + D_k(G(s))²; then the generator,
   * L_G = Σ_k (D_k(G(s)) − 1)² + 2 · L_FM + 45 · L_mel. Without `adversarial`, L_G = 45 · L_mel alone.
   * The reported loss is L_mel, the L1 distance of the log-mels.
   */
  private vocoderStep(m: HiFiGAN): TtsStep {
    // every loss is a mean over the same number of values per segment: a worker's mean of its rows needs no weight
    const part = this.part,
      dG = this.driver,
      dD = this.driverD!;
    const whole = this.segments();
    const mel = myRows(whole.mel, part),
      wave = myRows(whole.wave, part); // (B/N, M, F), (B/N, 1, F·hop)
    const fake = forwardOnRows(dG, part, () => m.generator.forward(mel)); // (B/N, 1, F·hop)
    const melLoss = this.logMel!.forward(fake).sub(this.logMel!.forward(wave)).abs().mean();
    let lossG = melLoss.mul(45);
    if (this.options.adversarial === 1) {
      const lossD = forwardOnRows(dD, part, () =>
        discriminatorLoss(m.discriminators.forward(wave), m.discriminators.forward(fake.detach())),
      );
      const d = this.update(lossD, dD, false);
      if (d.skipped) {
        dG.endEvaluation();
        return { loss: dG.mean(melLoss.item()), gradNorm: d.gradNorm, skipped: 1 };
      }
      const real = noGrad(() => forwardOnRows(dD, part, () => m.discriminators.forward(wave)));
      const { adversarial, featureMatching } = generatorLosses(
        real,
        forwardOnRows(dD, part, () => m.discriminators.forward(fake)),
      );
      lossG = lossG.add(adversarial).add(featureMatching.mul(2));
    }
    const r = this.update(lossG, dG);
    // the discriminators' gradients of the generator's loss are forgotten (FSDP: their parameters freed)
    dD.zeroGrad();
    dD.endEvaluation();
    return { ...r, loss: dG.mean(melLoss.item()) };
  }

  evalDue(): boolean {
    return (
      this.lastEval !== this.step && (this.step % this.options.evalEvery === 0 || this.step === this.options.steps)
    );
  }

  /** The held-out loss, one sentence (or batch of 8) per unit of work. */
  *evaluate(): Iterator<void, Metrics, void> {
    const m = this.model;
    // whole on every worker (FSDP: gathered, then freed), so the numbers are one process's
    const whole = <T>(fn: () => T): T => {
      try {
        return this.driver.within(fn);
      } finally {
        this.driver.endEvaluation();
      }
    };
    m.eval();
    let sum = 0;
    if (m instanceof FastSpeech2) {
      sum = whole(() => heldOutLoss(m, this.held)) * this.held.length;
      yield;
    } else
      for (let i = 0; i < this.held.length; i++) {
        sum += whole(() => noGrad(() => this.heldOutOne(m, i)));
        yield;
      }
    m.train();
    this.lastEval = this.step;
    return { val: sum / this.held.length };
  }

  private heldOutOne(m: Tacotron2 | HiFiGAN, i: number): number {
    const u = this.held[i]!;
    if (m instanceof HiFiGAN) {
      const F = Math.min(u.nFrames, 400);
      const mel = tensor(
        Float32Array.from({ length: TTS_AUDIO.nMels * F }, (_, k) => u.mel[Math.floor(k / F) * u.nFrames + (k % F)]!),
        { shape: [1, TTS_AUDIO.nMels, F] },
      );
      const n = Math.min(u.samples.length, F * TTS_AUDIO.hopLength);
      const wave = new Float32Array(F * TTS_AUDIO.hopLength);
      wave.set(u.samples.subarray(0, n));
      return this.logMel!.forward(m.generator.forward(mel))
        .sub(this.logMel!.forward(tensor(wave, { shape: [1, 1, wave.length] })))
        .abs()
        .mean()
        .item();
    }
    const r = m.config.framesPerStep;
    const b = ttsBatch(this.held, [i], r);
    const out = m.forward(b.text, b.textLengths, { mel: b.mel, melLengths: b.melLengths });
    if (i === 0) {
      const [, N, S] = out.alignments.shape as [number, number, number];
      this.lastAlignment = { weights: Float64Array.from(out.alignments.dataSync()), N, S, text: u.text };
    }
    return out.loss!.item();
  }

  /** The last evaluation's alignment of the first held-out sentence as a picture (symbols up, decoder steps right). */
  alignmentPng(): Uint8Array | null {
    const a = this.lastAlignment;
    return a ? alignmentPng(a, `step ${this.step}: `) : null;
  }

  /**
   * The checkpoint handed to write, as one process holds it: with workers the shards are consolidated first (a
   * collective: every worker calls it; rank 0 writes), so a run continues with any number of workers.
   */
  save(write: (c: Checkpoint) => void): void {
    const d = this.driverD;
    this.driver.consolidate(() => (d ? d.consolidate(() => write(this.checkpoint())) : write(this.checkpoint())));
  }

  /** Everything needed to continue exactly, and to read the model back (one process's; see save). */
  checkpoint(): Checkpoint {
    const saved: SavedTtsRun = {
      kind: "tts",
      model: this.name,
      config: this.config,
      options: { ...this.options },
      symbols: [...this.frontEnd.symbols],
      bins: this.bins,
    };
    const extra: TtsExtra = { dropoutRng: defaultGenerator.getState(), lastEval: this.lastEval };
    const g = stateDictToTensors(this.optimizer.stateDict());
    const d = this.optimizerD ? stateDictToTensors(this.optimizerD.stateDict()) : null;
    const prefixed = (p: string, t: Record<string, Tensor>) =>
      Object.fromEntries(Object.entries(t).map(([k, v]) => [p + k, v]));
    return {
      model: this.model.stateDict(),
      optimizer: {
        tensors: { ...prefixed("g.", g.tensors), ...(d ? prefixed("d.", d.tensors) : {}) },
        json: { g: g.json, d: d?.json ?? null } as unknown as Record<string, unknown>,
      },
      rng: this.generator.getState(),
      step: this.step,
      config: saved as unknown as Record<string, unknown>,
      extra,
    };
  }

  /**
   * What fromCheckpoint refuses, refused without the corpus (which takes minutes to make): the run checked
   * (savedTtsRun), its optimizer state present, and its weights and optimizer states loaded into a model and
   * optimizers of its config (their sizes are the file's, checked by savedTtsRun).
   */
  static checkState(ckpt: LoadedCheckpoint): SavedTtsRun {
    const saved = savedTtsRun(ckpt);
    if (!ckpt.optimizer || !ckpt.rng)
      throw new LoadError(
        "the checkpoint has no optimizer or generator state: the run cannot continue where it stopped (was it written by wnn train?)",
      );
    const model = buildModel(saved.model, saved.config, new Generator(0));
    const { g, d } = optimizersOf(model, saved.options.lr);
    loadState(saved.model, ckpt, model, g, d);
    return saved;
  }

  /** The trainer in the state a checkpoint holds; `overrides` may lengthen the run or change its evaluation. */
  static fromCheckpoint(
    ckpt: LoadedCheckpoint,
    data: RecipeData,
    overrides: Partial<Pick<TtsTrainOptions, "steps" | "evalEvery">> = {},
  ): TtsTrainer {
    const saved = TtsTrainer.checkState(ckpt);
    const t = new TtsTrainer(saved.model, { ...saved.options, ...overrides }, data, saved);
    if (ckpt.step > t.options.steps)
      throw new LoadError(`the checkpoint is at step ${ckpt.step}, past the ${t.options.steps} steps of the run`);
    loadState(saved.model, ckpt, t.model, t.optimizer, t.optimizerD);
    if (ckpt.rng) t.generator.setState(ckpt.rng);
    const extra = ckpt.extra as unknown as Partial<TtsExtra> | undefined;
    if (extra?.dropoutRng) defaultGenerator.setState(extra.dropoutRng);
    t.lastEval =
      typeof extra?.lastEval === "number" && extra.lastEval >= -1 && extra.lastEval <= ckpt.step ? extra.lastEval : -1;
    t.step = ckpt.step;
    return t;
  }
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/**
 * This worker's rows of a padded batch (the whole batch for one process), keeping the whole batch's padded
 * lengths, so that its rows are computed on the shapes one process computes them on.
 */
function rowsOfBatch(whole: TtsBatch, part: Part): { whole: TtsBatch; mine: TtsBatch } {
  if (part.worldSize === 1) return { whole, mine: whole };
  const { start, count } = rowsOf(whole.textLengths.length, part);
  const rows = <T>(xs: T[]): T[] => xs.slice(start, start + count);
  return {
    whole,
    mine: {
      text: myRows(whole.text, part),
      textLengths: rows(whole.textLengths),
      mel: myRows(whole.mel, part),
      melLengths: rows(whole.melLengths),
      durations: rows(whole.durations),
      pitch: myRows(whole.pitch, part),
      energy: myRows(whole.energy, part),
    },
  };
}
