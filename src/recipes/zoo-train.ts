// `wnn train <model>` for the models of the zoo that have no recipe of their own: one default task per kind of
// model, each model at its tiny preset, run by the shared training loop (loop.ts) as a TrainingJob whose state
// is saved in a checkpoint and resumed bit for bit (the same design as `wnn train gpt`, src/models/gpt2/train.ts).
//
//   kind             task                                    model at its tiny preset               read back by
//   decoder          Moby Dick, characters (90/10 split;     GPT-2, LLaMA, Mixtral, Switch, BLOOM,  wnn sample --checkpoint
//                    `wnn train gpt`'s tokenizer and split)  Falcon; the vocabulary the book's
//   encoder          masked LM on Moby Dick, characters      BERT, RoBERTa, DeBERTa (their MLM      wnn fill-mask --checkpoint
//                    (BERT §3.1 masking; encoder-compare's)  heads)
//   encoder-decoder  dates → ISO 8601 (a held-out set       T5, BART at encoder-decoder-compare's  wnn eval --checkpoint (exact match),
//                    never trained on)                       size (their contenders)                wnn sample --checkpoint --prompt DATE
//   vision           MNIST digits                            the zoo's MNIST preset (SE, CBAM,      wnn eval --checkpoint (test accuracy)
//                                                            non-local ResNet-8, ViT, ...)
//
// Everything random comes from generators whose states the checkpoint holds: `generator` (seeded with the seed)
// draws the initial weights, then every batch and every mask; the default generator draws dropout (on N
// data-parallel workers each draws its block of one process's masks, and ends where one process's does). The
// evaluation draws nothing from them (its batches and masks come from their own seeds), so a run stopped at step
// s and resumed takes the same steps as one that never stopped. The learning rate is a function of the step
// (cosine with linear warmup), so no scheduler state is needed. Browser-safe: the CLI (cli/zoo-train.ts) writes
// the files.

import { noGrad } from "../engine/autograd.js";
import { ArgumentError, LoadError, WnnError } from "../engine/errors.js";
import { defaultGenerator, Generator, manualSeed, type GeneratorState } from "../engine/rng.js";
import { meta } from "../engine/meta.js";
import { Tensor } from "../engine/tensor.js";
import { CharTokenizer } from "../data/char.js";
import { getBatch, trainValSplit } from "../data/batch.js";
import { datesTask } from "../data/tasks/dates.js";
import { distinctPairs, type Pair } from "../data/tasks/seq.js";
import { exactMatch } from "../data/tasks/metrics.js";
import type { Checkpoint, LoadedCheckpoint } from "../io/checkpoint.js";
import * as F from "../nn/functional.js";
import { evaluating, type Module, type Parameter } from "../nn/module.js";
import { AdamW } from "../optim/adam.js";
import { cosineWithWarmup } from "../optim/schedulers.js";
import { stateDictFromTensors, stateDictToTensors } from "../optim/state.js";
import { skipStep, type Metrics, type TrainingJob } from "./loop.js";
import {
  SingleProcess,
  WHOLE,
  evaluateWhole,
  forwardOnRows,
  rowsOf,
  weighted,
  type Part,
  type StepDriver,
} from "./data-parallel-job.js";
import type { Communicator } from "../distributed/collectives.js";
import { DataParallel, type StrategyName } from "../distributed/data-parallel.js";
import type { ShardedIndex, ShardTensors } from "../distributed/sharded-checkpoint.js";
import type { RecipeData } from "./recipe.js";
import { evaluate as evaluateDigits, mnistBatch, takeSplit, type ImageClassifier } from "./mnist.js";
import { OFFSET, SPECIALS, maskBatch, single } from "./encoder-compare.js";
import {
  CharVocab,
  bartContender,
  t5Contender,
  targetTokens,
  type Contender as Seq2SeqContender,
  type Example,
  type Size,
} from "./encoder-decoder-compare.js";
import type { GenerateOptions } from "../models/gpt2/model.js";
import { Block as GptBlock, GPT, gptConfig } from "../models/gpt2/model.js";
import { Block as LlamaBlock, Llama, llamaConfig } from "../models/llama/model.js";
import { Mixtral, mixtralConfig } from "../models/mixtral/model.js";
import { SwitchGPT, switchConfig } from "../models/switch/model.js";
import { Block as BloomBlock, Bloom, bloomConfig } from "../models/bloom/model.js";
import { Block as FalconBlock, Falcon, falconConfig } from "../models/falcon/model.js";
import { Block as BertBlock, BertForMaskedLM, bertConfig } from "../models/bert/model.js";
import { RobertaForMaskedLM, robertaConfig } from "../models/roberta/model.js";
import { Block as DebertaBlock, DebertaForMaskedLM, debertaConfig } from "../models/deberta/model.js";
import { EncoderBlock as T5EncoderBlock, DecoderBlock as T5DecoderBlock } from "../models/t5/model.js";
import { EncoderBlock as BartEncoderBlock, DecoderBlock as BartDecoderBlock } from "../models/bart/model.js";
import { Block as VitBlock } from "../models/vit/model.js";
import { moduleClassPolicy, type ModulePolicy } from "../nn/checkpoint.js";
import type { ZooModel } from "../models/zoo-entry.js";
import { zooEntry as resnet } from "../models/resnet/zoo.js";
import { zooEntry as senet } from "../models/senet/zoo.js";
import { zooEntry as cbam } from "../models/cbam/zoo.js";
import { zooEntry as nonLocal } from "../models/non-local/zoo.js";
import { zooEntry as vit } from "../models/vit/zoo.js";

// =====================================================================================================
// The models and their kinds

export type ZooKind = "decoder" | "encoder" | "encoder-decoder" | "vision";
/** The default task of each kind (also a task of `wnn compare --train`). */
export type ZooTask = "moby-dick" | "mlm" | "dates" | "mnist";
export const TASK_OF: Readonly<Record<ZooKind, ZooTask>> = {
  decoder: "moby-dick",
  encoder: "mlm",
  "encoder-decoder": "dates",
  vision: "mnist",
};

/** A decoder-only language model as the task uses it (the shape every decoder of the zoo shares). */
export interface Decoder extends Module {
  forward(idx: Tensor, targets?: Tensor | null): { logits: Tensor; loss: Tensor | null };
  generate(idx: Tensor, maxNewTokens: number, opts?: GenerateOptions): Tensor;
}
/** An encoder with its masked-LM head. */
export interface MaskedLM extends Module {
  forward(idx: Tensor, opts?: { targets?: Tensor | null }): { logits: Tensor; loss: Tensor | null };
}

type Config = Record<string, unknown>;
/** How a model of the zoo is built for its default task: its config from the task's vocabulary, checked, and built. */
interface ModelSpec {
  readonly kind: ZooKind;
  /** the config at the model's tiny preset for a vocabulary of V tokens (vision: ignored), with this dropout if given */
  config(V: number, dropout?: number): Config;
  /** a config read from a checkpoint, checked by the model's own config function (throws on a bad one) */
  check(c: Config): Config;
  build(c: Config, generator: Generator): Module;
  /** why N data-parallel workers would not train this model as one process does (then --workers > 1 is refused) */
  readonly notParallel?: string;
  /** its Transformer blocks, by class: FSDP's units and what activation checkpointing recomputes */
  readonly blocks?: ModulePolicy;
}

type ModuleClass = abstract new (...args: never[]) => Module;
/** A dropout given by the run's options, as a config field (none: the preset's). */
const withDropout = (dropout: number | undefined): { dropout?: number } => (dropout === undefined ? {} : { dropout });
const decoder = <C>(
  configOf: (base: "tiny" | C, o?: Partial<C>) => C,
  Model: new (c: C, o: { generator: Generator }) => Module,
  ...blocks: ModuleClass[]
): ModelSpec => ({
  kind: "decoder",
  ...(blocks.length ? { blocks: moduleClassPolicy(...blocks) } : {}),
  config: (V, dropout) =>
    ({ ...configOf("tiny", { vocabSize: V, ...withDropout(dropout) } as unknown as Partial<C>) }) as Config,
  check: (c) => ({ ...configOf(c as C) }) as Config,
  build: (c, generator) => new Model(c as C, { generator }),
});
/** The encoders read windows of MLM_LEN tokens: [CLS] 62 characters [SEP]. */
export const MLM_LEN = 64;
const encoder = <C>(
  configOf: (base: "tiny" | C, o?: Partial<C>) => C,
  Model: new (c: C, o: { generator: Generator }) => Module,
  over: Partial<C>,
  ...blocks: ModuleClass[]
): ModelSpec => ({
  kind: "encoder",
  blocks: moduleClassPolicy(...blocks),
  config: (V, dropout) =>
    ({ ...configOf("tiny", { vocabSize: V, ...over, ...withDropout(dropout) } as unknown as Partial<C>) }) as Config,
  check: (c) => ({ ...configOf(c as C) }) as Config,
  build: (c, generator) => new Model(c as C, { generator }),
});
/** The dates models: encoder-decoder-compare's size (its contenders), from random weights. */
const DATES_SIZE = { dModel: 128, nHead: 4, layers: 2, dFF: 512, maxPositions: 42 } as const;
const seq2seq = (contender: (s: Size, seed: number) => Seq2SeqContender, ...blocks: ModuleClass[]): ModelSpec => ({
  kind: "encoder-decoder",
  blocks: moduleClassPolicy(...blocks),
  config: (V, dropout) => ({ vocabSize: V, ...DATES_SIZE, ...(dropout ? { dropout } : {}) }), // (no dropout: the comparison's)
  check: (c) => {
    for (const k of ["vocabSize", "dModel", "nHead", "layers", "dFF", "maxPositions"]) {
      if (!(Number.isInteger(c[k]) && (c[k] as number) >= 1 && (c[k] as number) <= 1 << 16))
        throw new ArgumentError(`${k} must be an integer from 1 to 65536, got ${JSON.stringify(c[k])}`);
    }
    if (c.dropout !== undefined && !(typeof c.dropout === "number" && c.dropout >= 0 && c.dropout < 1))
      throw new ArgumentError(`dropout must be a number in [0, 1), got ${JSON.stringify(c.dropout)}`);
    return { ...c };
  },
  build: (c) => contender(c as unknown as Size, 0).model,
});
/** The zoo entry's MNIST preset (the one `wnn compare --train` trains), with its recipe's learning rate. */
function mnistPreset(
  entry: ZooModel,
  name?: string,
): { name: string; build(g: Generator): ImageClassifier; lr: number } {
  const p = entry.presets.find((q) => q.train?.task === "mnist" && (name === undefined || q.name === name));
  if (!p || p.train?.task !== "mnist")
    throw new ArgumentError(`${entry.name} has no MNIST preset${name === undefined ? "" : ` "${name}"`}`);
  return { name: p.name, build: p.train.build, lr: p.train.lr };
}
const vision = (entry: ZooModel, ...blocks: ModuleClass[]): ModelSpec => ({
  kind: "vision",
  ...(blocks.length ? { blocks: moduleClassPolicy(...blocks) } : {}),
  config: () => ({ preset: mnistPreset(entry).name }),
  check: (c) => ({ preset: mnistPreset(entry, typeof c.preset === "string" ? c.preset : "?").name }),
  build: (c, generator) => mnistPreset(entry, c.preset as string).build(generator),
});

/** The models `wnn train <name>` trains on their kind's default task. */
export const ZOO_TRAINING: Readonly<Record<string, ModelSpec>> = {
  // each with its block classes: PyTorch's transformer_auto_wrap_policy({Block}) (FSDP units, --checkpointing)
  gpt2: decoder(gptConfig, GPT, GptBlock),
  llama: decoder(llamaConfig, Llama, LlamaBlock),
  // (the mixtures of experts: their routers' load balance and capacity are the whole batch's on N workers too,
  // forwardOnRows synchronizes them; FSDP keeps each whole model one unit, their blocks return the routing besides x)
  mixtral: decoder(mixtralConfig, Mixtral),
  switch: decoder(switchConfig, SwitchGPT),
  bloom: decoder(bloomConfig, Bloom, BloomBlock),
  falcon: decoder(falconConfig, Falcon, FalconBlock),
  bert: encoder(bertConfig, BertForMaskedLM, { padId: SPECIALS.pad }, BertBlock),
  roberta: encoder(robertaConfig, RobertaForMaskedLM, {}, BertBlock), // RoBERTa's blocks are BERT's
  deberta: encoder(debertaConfig, DebertaForMaskedLM, { padId: SPECIALS.pad }, DebertaBlock),
  t5: seq2seq(t5Contender, T5EncoderBlock, T5DecoderBlock),
  bart: seq2seq(bartContender, BartEncoderBlock, BartDecoderBlock),
  // (their BatchNorms normalize by the whole batch's statistics on N workers too: forwardOnRows synchronizes them)
  resnet: vision(resnet),
  senet: vision(senet),
  cbam: vision(cbam),
  "non-local": vision(nonLocal),
  vit: vision(vit, VitBlock),
};

/** Why N data-parallel workers would not train this model of the zoo as one process does (null: they would). */
export const notParallel = (name: string): string | null => specOf(name).notParallel ?? null;

/** The default task of a model of the zoo, or null when it has none here. */
export const defaultTaskOf = (name: string): ZooTask | null => {
  const s = Object.hasOwn(ZOO_TRAINING, name) ? ZOO_TRAINING[name] : undefined;
  return s ? TASK_OF[s.kind] : null;
};

function specOf(name: string): ModelSpec {
  if (!Object.hasOwn(ZOO_TRAINING, name))
    throw new ArgumentError(
      `train: no default task for "${name}"; these train on one: ${Object.keys(ZOO_TRAINING).join(", ")}`,
    );
  return ZOO_TRAINING[name]!;
}

// =====================================================================================================
// Options

export interface ZooTrainOptions {
  /** optimizer steps */
  readonly steps: number;
  /** sequences, dates or digits per batch */
  readonly batchSize: number;
  /** the peak learning rate */
  readonly lr: number;
  /** the step where the cosine decay ends (default: steps); kept when a resumed run is lengthened, as `wnn train gpt` keeps its lrDecayIters */
  readonly lrDecaySteps?: number;
  /** evaluate every this many steps (and at the last one) */
  readonly evalEvery: number;
  /** decoders, encoders: batches per evaluation; dates: held-out dates; MNIST: test digits (0: all 2,000) */
  readonly evalSize: number;
  readonly seed: number;
  /** text models: the dropout probability (default: the preset's, 0.1 for the encoders and 0 for the others) */
  readonly dropout?: number;
}

/** The defaults of each kind (a vision model's lr is its recipe's: see defaultsOf). */
export const KIND_DEFAULTS: Readonly<Record<ZooKind, ZooTrainOptions>> = {
  decoder: { steps: 600, batchSize: 12, lr: 1e-3, evalEvery: 100, evalSize: 10, seed: 1337 },
  encoder: { steps: 400, batchSize: 16, lr: 1e-3, evalEvery: 100, evalSize: 4, seed: 0 },
  "encoder-decoder": { steps: 400, batchSize: 32, lr: 2e-3, evalEvery: 100, evalSize: 200, seed: 0 },
  vision: { steps: 250, batchSize: 64, lr: 1e-2, evalEvery: 125, evalSize: 0, seed: 0 },
};

/** What each option means for a model of this kind, for the help. */
export const OPTION_HELP: Readonly<Record<Exclude<keyof ZooTrainOptions, "lrDecaySteps">, (k: ZooKind) => string>> = {
  steps: () => "optimizer steps",
  batchSize: (k) =>
    k === "decoder"
      ? "windows of 64 characters per batch"
      : k === "encoder"
        ? `windows of ${MLM_LEN} tokens per batch`
        : k === "encoder-decoder"
          ? "dates per batch"
          : "digits per batch",
  lr: (k) =>
    `peak learning rate of AdamW (${k === "vision" ? "cosine decay to 0" : "linear warmup, then cosine decay to a tenth"})`,
  evalEvery: (k) =>
    `evaluate every N steps and at the last (${k === "encoder-decoder" ? "exact match on the held-out dates" : k === "vision" ? "test accuracy" : "validation loss"}); a checkpoint is written at each`,
  evalSize: (k) =>
    k === "decoder"
      ? "batches per split in each loss estimate"
      : k === "encoder"
        ? "batches of held-out windows (fixed masks) per estimate"
        : k === "encoder-decoder"
          ? "held-out dates, never trained on"
          : "test digits evaluated (0: all 2,000)",
  seed: () => "seed of the weights, batches, masks and dropout",
  dropout: (k) =>
    k === "vision"
      ? "not for the vision models (their MNIST presets fix their own)"
      : `dropout probability (default: the preset's, ${k === "encoder" ? "0.1" : "0"}); on N workers each draws its block of one process's masks`,
};

export function kindOf(name: string): ZooKind {
  return specOf(name).kind;
}

/** The defaults of a model's run (a vision model's learning rate is its MNIST preset's). */
export function defaultsOf(name: string): ZooTrainOptions {
  const spec = specOf(name);
  if (spec.kind !== "vision") return KIND_DEFAULTS[spec.kind];
  const entry = { resnet, senet, cbam, "non-local": nonLocal, vit }[name as "resnet"]!;
  return { ...KIND_DEFAULTS.vision, lr: mnistPreset(entry).lr };
}

function checkOptions(o: ZooTrainOptions): ZooTrainOptions {
  for (const k of ["steps", "batchSize", "evalEvery"] as const)
    if (!(Number.isInteger(o[k]) && o[k] >= 1)) throw new ArgumentError(`${k} must be a positive integer, got ${o[k]}`);
  for (const k of ["evalSize", "seed"] as const)
    if (!(Number.isInteger(o[k]) && o[k] >= 0)) throw new ArgumentError(`${k} must be an integer ≥ 0, got ${o[k]}`);
  if (!(Number.isFinite(o.lr) && o.lr > 0)) throw new ArgumentError(`lr must be a finite number > 0, got ${o.lr}`);
  const lrDecaySteps = o.lrDecaySteps ?? o.steps;
  if (!(Number.isInteger(lrDecaySteps) && lrDecaySteps >= 1))
    throw new ArgumentError(`lrDecaySteps must be a positive integer, got ${lrDecaySteps}`);
  if (o.dropout !== undefined && !(Number.isFinite(o.dropout) && o.dropout >= 0 && o.dropout < 1))
    throw new ArgumentError(`dropout must be a number in [0, 1), got ${o.dropout}`);
  return Object.freeze({
    steps: o.steps,
    batchSize: o.batchSize,
    lr: o.lr,
    lrDecaySteps,
    evalEvery: o.evalEvery,
    evalSize: o.evalSize,
    seed: o.seed,
    ...(o.dropout === undefined ? {} : { dropout: o.dropout }),
  });
}

// =====================================================================================================
// The tasks: what one step's loss and one evaluation are, for a model of the kind

interface Task {
  readonly model: Module;
  /** the config the model was built from (saved, and checked on load) */
  readonly config: Config;
  /** encoder-decoders: greedy answers to some sources */
  answer?(srcs: readonly string[]): string[];
  /** the tokenizer (text tasks), saved in the checkpoint so that readers decode as training encoded */
  readonly tokenizer: Record<string, unknown> | null;
  /** learning-rate multipliers of some parameters (T5's) */
  readonly lrScale?: ReadonlyMap<Parameter, number>;
  /** AdamW's decay, betas and schedule */
  readonly optim: {
    weightDecay: number;
    matricesOnly: boolean;
    betas: [number, number];
    warmup: number;
    minLrRatio: number;
    clip: number;
  };
  /**
   * the mean loss of one training batch drawn from g; with a part of N > 1 workers, the loss of this worker's rows
   * of that batch, weighted so that the workers' mean is the whole batch's mean (data-parallel-job.ts)
   */
  loss(g: Generator, part: Part): Tensor;
  /** the evaluation at `step`, one unit of work per yield */
  evaluate(step: number): Iterator<void, Metrics, void>;
}

/**
 * The book's characters and the split of `wnn train gpt`; a saved tokenizer, when given, is used instead of a new one.
 * The last book's are kept: the memory estimate builds the trainer at two small batches before the run builds its
 * own, and encoding the book costs about 100 ms each time. Each caller gets its own copy of the ids (the encoder's
 * task shifts them in place).
 */
function bookTokens(text: string | undefined, saved: unknown): { tok: CharTokenizer; ids: Int32Array } {
  if (!text || text.length < 10_000)
    throw new ArgumentError(`the task needs the book (RecipeData.text), got ${text?.length ?? 0} characters`);
  if (lastBook === null || lastBook.text !== text || lastBook.saved !== saved) {
    const tok = saved ? CharTokenizer.fromJSON(saved) : CharTokenizer.fromText(text);
    lastBook = { text, saved, tokens: { tok, ids: Int32Array.from(tok.encode(text)) } };
  }
  return { tok: lastBook.tokens.tok, ids: lastBook.tokens.ids.slice() };
}
let lastBook: { text: string; saved: unknown; tokens: { tok: CharTokenizer; ids: Int32Array } } | null = null;

function decoderTask(
  spec: ModelSpec,
  data: RecipeData,
  o: ZooTrainOptions,
  g: Generator,
  saved: SavedRun | null,
): Task {
  const { tok, ids } = bookTokens(data.text, saved?.tokenizer);
  const split = trainValSplit(ids, 0.9);
  const config = saved?.config ?? spec.config(tok.vocabSize, o.dropout);
  const model = spec.build(config, g) as Decoder;
  const T = config.blockSize as number;
  const lossOf = (tokens: Int32Array, gen: Generator, part: Part): Tensor => {
    const { x, y } = getBatch(tokens, T, o.batchSize, gen); // (B, T), (B, T) the same on every worker
    const { start, count } = rowsOf(o.batchSize, part);
    return model.forward(x.narrow(0, start, count), y.narrow(0, start, count)).loss!; // () mean cross-entropy over (B/N)·T tokens (+ the routers' losses of a mixture of experts)
  };
  return {
    model,
    config,
    tokenizer: { ...tok.toJSON() },
    optim: { weightDecay: 0.1, matricesOnly: true, betas: [0.9, 0.99], warmup: 0.1, minLrRatio: 0.1, clip: 1 }, // `wnn train gpt`'s
    loss: (gen, part) => lossOf(split.train, gen, part),
    *evaluate(step) {
      const gen = new Generator(o.seed * 1_000_003 + step + 1); // the estimate's own batches, as GPTTrainer's
      const out: Metrics = {};
      for (const name of ["train", "val"] as const) {
        let s = 0;
        for (let k = 0; k < o.evalSize; k++) {
          s += evaluating(model, () => lossOf(split[name], gen, WHOLE).item());
          yield;
        }
        out[name] = s / o.evalSize;
      }
      return { val: out.val!, train: out.train! };
    },
  };
}

/** The positions a target tensor asks to predict (not −100). */
const predicted = (targets: Tensor): number =>
  targets.isMeta // shape-only (a memory estimate): every position counts
    ? targets.numel()
    : (targets.toArray() as number[]).flat().filter((t) => t !== -100).length;

/** Book characters → model ids: the 4 specials (<s>/[CLS] 0, <pad> 1, </s>/[SEP] 2, <mask> 3), then the characters. */
function encoderTask(
  spec: ModelSpec,
  data: RecipeData,
  o: ZooTrainOptions,
  g: Generator,
  saved: SavedRun | null,
): Task {
  const { tok, ids } = bookTokens(data.text, saved?.tokenizer);
  for (let i = 0; i < ids.length; i++) ids[i]! += OFFSET;
  const V = tok.vocabSize + OFFSET,
    W = MLM_LEN - 2; // [CLS] W characters [SEP]
  const split = trainValSplit(ids, 0.9);
  const config = saved?.config ?? spec.config(V, o.dropout);
  const model = spec.build(config, g) as MaskedLM;
  const window = (tokens: Int32Array, gen: Generator): Int32Array => {
    const start = gen.randint(0, tokens.length - W);
    return single(tokens.subarray(start, start + W));
  };
  // the held-out windows, masked once (BERT §3.1) with their own generator: the same for every estimate
  const vg = new Generator(o.seed + 7);
  const val = Array.from({ length: o.evalSize }, () =>
    maskBatch(
      Array.from({ length: o.batchSize }, () => window(split.val, vg)),
      V,
      vg,
    ),
  );
  return {
    model,
    config,
    tokenizer: { ...tok.toJSON() },
    optim: { weightDecay: 0.01, matricesOnly: false, betas: [0.9, 0.999], warmup: 0.05, minLrRatio: 0.1, clip: 1 }, // encoder-compare's AdamW
    loss: (gen, part) => {
      const { idx, targets } = maskBatch(
        Array.from({ length: o.batchSize }, () => window(split.train, gen)),
        V,
        gen,
      ); // (B, T), (B, T) the same on every worker
      const { start, count } = rowsOf(o.batchSize, part);
      const [x, y] = [idx.narrow(0, start, count), targets.narrow(0, start, count)]; // (B/N, T)
      const out = model.forward(x, { targets: y }); // loss: () cross-entropy at this worker's masked positions
      return weighted(out.loss!, predicted(y), predicted(targets), part, () => out.logits.sum()); // their share of the batch's
    },
    *evaluate() {
      let s = 0;
      for (const b of val) {
        s += evaluating(model, () => model.forward(b.idx, { targets: b.targets }).loss!.item());
        yield;
      }
      return { val: s / Math.max(1, val.length) };
    },
  };
}

/** The dates task with encoder-decoder-compare's vocabulary of the dates' characters (specials and sentinels first). */
export function datesVocab(): { task: ReturnType<typeof datesTask>; vocab: CharVocab } {
  const task = datesTask();
  return { task, vocab: new CharVocab(task.srcVocab.symbols.join("") + task.tgtVocab.symbols.join("")) };
}

function datesTaskRun(name: string, o: ZooTrainOptions, saved: SavedRun | null): Task {
  const { task, vocab } = datesVocab();
  const spec = specOf(name);
  const config = (saved?.config ?? spec.config(vocab.size, o.dropout)) as unknown as Size;
  if (config.vocabSize !== vocab.size)
    throw new LoadError(`the checkpoint's vocabulary (${config.vocabSize}) is not the dates task's (${vocab.size})`);
  const c = (name === "t5" ? t5Contender : bartContender)(config, o.seed + 1); // the weights from their own seed, as the comparison's
  const test = distinctPairs(task, Math.max(1, o.evalSize), new Generator(o.seed + 3));
  const heldOut = new Set(test.map((p) => p.src));
  return {
    model: c.model,
    config: { ...config },
    tokenizer: null,
    ...(c.lrScale ? { lrScale: c.lrScale } : {}),
    answer: (srcs) => {
      for (const s of srcs) {
        try {
          vocab.encode(s);
        } catch {
          throw new ArgumentError(
            `the date ${JSON.stringify(s)} has a character the model never saw (it knows ${JSON.stringify(vocab.chars.join(""))})`,
          );
        }
      }
      return answerDates(c, vocab, srcs);
    },
    optim: { weightDecay: 0.01, matricesOnly: false, betas: [0.9, 0.999], warmup: 0.05, minLrRatio: 0.1, clip: 1 }, // encoder-decoder-compare's
    loss: (gen, part) => {
      const batch: Example[] = []; // the same on every worker
      while (batch.length < o.batchSize) {
        const p = task.sample(gen);
        if (!heldOut.has(p.src)) batch.push({ src: vocab.encode(p.src), tgt: vocab.encode(p.tgt) });
      }
      const { start, count } = rowsOf(o.batchSize, part);
      const mine = batch.slice(start, start + count);
      const loss = c.loss(batch, part); // () teacher-forced cross-entropy per target token of this worker's dates, padded as the whole batch
      return weighted(loss, targetTokens(mine), targetTokens(batch), part, () => loss); // their share of the batch's
    },
    *evaluate() {
      const hyps: string[] = [];
      for (let i = 0; i < test.length; i += 100) {
        hyps.push(
          ...answerDates(
            c,
            vocab,
            test.slice(i, i + 100).map((p: Pair) => p.src),
          ),
        );
        yield;
      }
      return {
        exactMatch: exactMatch(
          hyps,
          test.map((p) => p.tgt),
        ),
      };
    },
  };
}

/** Greedy answers of a dates model: at most 10 characters and </s>. */
function answerDates(c: Seq2SeqContender, vocab: CharVocab, srcs: readonly string[]): string[] {
  c.model.eval();
  const out = noGrad(() =>
    c
      .greedy(
        srcs.map((s) => vocab.encode(s)),
        11,
      )
      .map((ids) => vocab.decode(ids)),
  );
  c.model.train();
  return out;
}

function visionTask(spec: ModelSpec, data: RecipeData, o: ZooTrainOptions, g: Generator, saved: SavedRun | null): Task {
  if (!data.mnist) throw new ArgumentError("the MNIST task needs the digits (RecipeData.mnist)");
  const { train } = data.mnist;
  const test = takeSplit(data.mnist.test, o.evalSize, "test");
  const config = saved?.config ?? spec.config(0);
  const model = spec.build(config, g) as ImageClassifier;
  return {
    model,
    config,
    tokenizer: null,
    optim: { weightDecay: 0, matricesOnly: false, betas: [0.9, 0.999], warmup: 0, minLrRatio: 0, clip: 0 }, // Adam and a cosine decay to 0, as `wnn compare --train` mnist
    loss: (gen, part) => {
      const order = Int32Array.from({ length: o.batchSize }, () => gen.randint(0, train.count)); // digits drawn with replacement, the same on every worker
      const { start, count } = rowsOf(o.batchSize, part);
      const { x, y } = mnistBatch(train, order, start, count); // (B/N, 1, 28, 28), (B/N)
      return F.crossEntropy(model.forward(x), y); // () mean over this worker's digits
    },
    *evaluate() {
      const { accuracy, loss } = evaluateDigits(model, test);
      yield;
      return { accuracy, loss };
    },
  };
}

// =====================================================================================================
// The job the shared loop runs, and its checkpoint

/** What a checkpoint of this trainer keeps in its config. */
interface SavedRun {
  kind: "zoo";
  model: string;
  task: ZooTask;
  config: Config;
  options: ZooTrainOptions;
  tokenizer: Record<string, unknown> | null;
}

interface TrainerExtra {
  dropoutRng: GeneratorState;
  lastEval: number;
}

/** One step's numbers; `skipped: 1` when its loss or gradient norm was NaN or infinite (no update: the guard counts it). */
export type ZooStep = { loss: number; lr: number; gradNorm: number; skipped: number };

export class ZooTrainer implements TrainingJob<ZooStep, Metrics> {
  readonly kind: ZooKind;
  readonly task: ZooTask;
  readonly options: ZooTrainOptions;
  readonly model: Module;
  readonly optimizer: AdamW;
  /** the initial weights, then every batch and mask */
  readonly generator: Generator;
  step = 0;
  lastEval = -1;
  private readonly run: Task;
  /** the config the model was built from */
  readonly config: Config;
  private readonly schedule: (step: number) => number;
  private readonly scales: number[];
  /** one process, or this worker's of N (see dataParallel) */
  private driver: StepDriver;
  /** this worker's rows of every batch */
  private part: Part = WHOLE;
  /** the workers' strategy (null: one process) */
  private dp: DataParallel | null = null;

  /** A new run of model `name` on its default task; `saved` (from a checkpoint) gives the config and tokenizer back. */
  constructor(
    readonly name: string,
    options: ZooTrainOptions,
    data: RecipeData,
    saved: SavedRun | null = null,
  ) {
    const spec = specOf(name);
    this.kind = spec.kind;
    this.task = TASK_OF[spec.kind];
    this.options = checkOptions(options);
    if (spec.kind === "vision" && this.options.dropout !== undefined)
      throw new ArgumentError(`${name}: the vision models take no dropout option (their MNIST presets fix their own)`);
    manualSeed(this.options.seed); // dropout
    this.generator = new Generator(this.options.seed);
    const o = this.options,
      g = this.generator;
    this.run =
      spec.kind === "decoder"
        ? decoderTask(spec, data, o, g, saved)
        : spec.kind === "encoder"
          ? encoderTask(spec, data, o, g, saved)
          : spec.kind === "encoder-decoder"
            ? datesTaskRun(name, o, saved)
            : visionTask(spec, data, o, g, saved);
    this.model = this.run.model;
    this.config = this.run.config;
    // AdamW: one group per (decay, lr multiplier); decay on the matrices only for the decoders, as nanoGPT's
    const { weightDecay, matricesOnly, betas, warmup, minLrRatio } = this.run.optim;
    const groups = new Map<string, { params: Parameter[]; weightDecay: number; scale: number }>();
    for (const p of this.model.parameters()) {
      const wd = matricesOnly && p.ndim < 2 ? 0 : weightDecay,
        scale = this.run.lrScale?.get(p) ?? 1;
      const key = `${wd}/${scale}`;
      if (!groups.has(key)) groups.set(key, { params: [], weightDecay: wd, scale });
      groups.get(key)!.params.push(p);
    }
    const list = [...groups.values()];
    this.scales = list.map((x) => x.scale);
    this.optimizer = new AdamW(
      list.map(({ params, weightDecay }) => ({ params, weightDecay })),
      { lr: o.lr, betas },
    );
    const decay = o.lrDecaySteps ?? o.steps;
    const warmupIters = Math.min(decay, Math.round(warmup * decay));
    this.schedule = cosineWithWarmup({ warmupIters, lrDecayIters: decay, maxLr: o.lr, minLr: o.lr * minLrRatio });
    this.driver = new SingleProcess(this.model, this.optimizer);
  }

  /**
   * Make this trainer (new, or loaded from a checkpoint: the same on every worker) worker `comm.rank` of N: it
   * trains on its rows of every global batch and the strategy makes the workers agree. FSDP makes each Transformer
   * block a unit of its own (the model's block classes: PyTorch's transformer_auto_wrap_policy), the root keeping
   * the embeddings, the final norm and the head; `checkpointing` recomputes each block's forward in backward.
   * Evaluations run whole on every worker (so their numbers are one process's). A model that N workers would
   * train differently is refused (`notParallel`).
   */
  dataParallel(comm: Communicator, strategy: StrategyName, opts: { checkpointing?: boolean } = {}): DataParallel {
    const spec = specOf(this.name);
    if (spec.notParallel && comm.worldSize > 1)
      throw new ArgumentError(
        `${this.name} cannot train on ${comm.worldSize} data-parallel workers: ${spec.notParallel}`,
      );
    if (opts.checkpointing && !spec.blocks)
      throw new ArgumentError(`${this.name} has no Transformer blocks to recompute (activation checkpointing)`);
    rowsOf(this.options.batchSize, comm); // splits evenly, or says so
    const dp = new DataParallel(this.model, this.optimizer, comm, {
      strategy,
      ...(spec.blocks ? { autoWrapPolicy: spec.blocks } : {}),
      activationCheckpointing: opts.checkpointing ?? false,
    });
    dp.loadFromWhole(); // a resumed run: the shards take their chunks of the optimizer state
    this.driver = this.dp = dp;
    this.part = { rank: comm.rank, worldSize: comm.worldSize };
    return dp;
  }

  get totalSteps(): number {
    return this.options.steps;
  }

  /**
   * One AdamW step on a fresh batch (with workers: this worker's rows of it): lr from the schedule, gradient norm
   * clipped; → the batch's loss and the lr.
   */
  trainStep(): ZooStep {
    const d = this.driver;
    const lr = this.schedule(this.step);
    this.optimizer.paramGroups.forEach((group, i) => (group.lr = lr * this.scales[i]!)); // (sharded: copied by d.step)
    this.model.train();
    // dropout: each mask this worker draws is its block of the one one process draws for the whole batch
    const loss = forwardOnRows(d, this.part, () => this.run.loss(this.generator, this.part));
    const value = d.mean(loss.item()); // the global batch's loss, the same on every worker
    if (skipStep(value)) {
      d.endEvaluation();
      return { loss: value, lr, gradNorm: NaN, skipped: 1 }; // no update, as llm.c does
    }
    loss.backward();
    const clip = this.run.optim.clip;
    const gradNorm = d.reduceGradients(clip);
    if (clip > 0 && skipStep(value, gradNorm)) {
      d.zeroGrad();
      return { loss: value, lr, gradNorm, skipped: 1 };
    }
    d.step();
    this.step += 1;
    return { loss: value, lr, gradNorm, skipped: 0 };
  }

  evalDue(): boolean {
    return (
      this.lastEval !== this.step && (this.step % this.options.evalEvery === 0 || this.step === this.options.steps)
    );
  }

  *evaluate(): Iterator<void, Metrics, void> {
    const metrics = yield* evaluateWhole(this.driver, this.run.evaluate(this.step));
    this.lastEval = this.step;
    return metrics;
  }

  /** The evaluation to the end, at once (the readers' `wnn eval`). */
  evaluateNow(): Metrics {
    const it = this.run.evaluate(this.step);
    for (;;) {
      const r = it.next();
      if (r.done) return r.value;
    }
  }

  /**
   * The checkpoint handed to write, as one process holds it: with workers the shards are consolidated first (a
   * collective: every worker calls it; rank 0 writes), so a run continues with any number of workers.
   */
  save(write: (c: Checkpoint) => void): void {
    this.driver.consolidate(() => write(this.checkpoint()));
  }

  /**
   * With workers: this worker's part of a sharded checkpoint and, on rank 0, the index (no collective; every worker
   * hands them to saveShardedCheckpoint). Reassembled, it is the checkpoint `save` writes, for any worker count.
   */
  shardedCheckpoint(): { tensors: ShardTensors | null; index: ShardedIndex | null } {
    if (!this.dp) throw new ArgumentError(`${this.name}: a sharded checkpoint needs data-parallel workers`);
    return this.dp.shardedCheckpoint(() => this.checkpoint());
  }

  /** Everything needed to continue exactly, and to read the model back (one process's; see save). */
  checkpoint(): Checkpoint {
    const saved: SavedRun = {
      kind: "zoo",
      model: this.name,
      task: this.task,
      config: this.config,
      options: { ...this.options },
      tokenizer: this.run.tokenizer,
    };
    const extra: TrainerExtra = { dropoutRng: defaultGenerator.getState(), lastEval: this.lastEval };
    return {
      model: this.model.stateDict(),
      optimizer: stateDictToTensors(this.optimizer.stateDict()),
      rng: this.generator.getState(),
      step: this.step,
      config: saved as unknown as Record<string, unknown>,
      extra,
    };
  }

  /** The trainer in the state a checkpoint holds; `overrides` may lengthen the run or change its evaluation. */
  static fromCheckpoint(
    ckpt: LoadedCheckpoint,
    data: RecipeData,
    overrides: Partial<Pick<ZooTrainOptions, "steps" | "evalEvery" | "evalSize">> = {},
  ): ZooTrainer {
    const saved = savedRun(ckpt);
    const t = new ZooTrainer(saved.model, { ...saved.options, ...overrides }, data, saved);
    if (ckpt.step > t.options.steps)
      throw new LoadError(`the checkpoint is at step ${ckpt.step}, past the ${t.options.steps} steps of the run`);
    try {
      t.model.loadStateDict(ckpt.model);
      if (ckpt.optimizer) t.optimizer.loadStateDict(stateDictFromTensors(ckpt.optimizer.tensors, ckpt.optimizer.json));
    } catch (e) {
      if (e instanceof LoadError || !(e instanceof WnnError)) throw e;
      throw new LoadError(`the checkpoint's state does not fit the ${saved.model} it describes: ${e.message}`);
    }
    if (ckpt.rng) t.generator.setState(ckpt.rng);
    const extra = ckpt.extra as unknown as Partial<TrainerExtra> | undefined;
    if (extra?.dropoutRng) defaultGenerator.setState(extra.dropoutRng);
    t.lastEval =
      typeof extra?.lastEval === "number" && extra.lastEval >= -1 && extra.lastEval <= ckpt.step ? extra.lastEval : -1;
    t.step = ckpt.step;
    return t;
  }

  /** Greedy answers of a dates model (t5, bart) to some human-written dates. */
  answer(dates: readonly string[]): string[] {
    if (!this.run.answer) throw new ArgumentError(`${this.name} does not answer dates; it is a ${this.kind}`);
    return this.run.answer(dates);
  }

  /** The tokenizer of a text task (null for dates and digits). */
  get tokenizer(): Record<string, unknown> | null {
    return this.run.tokenizer;
  }
}

/**
 * The run a checkpoint of ZooTrainer describes, checked before anything is built: its kind, a model of the zoo
 * with a default task, a config its model's config function accepts, options within their ranges, and the
 * parameters the config implies (counted on the model built shape-only, meta()) equal to the weights the file
 * holds, so that a config claiming a huge model is refused before it is allocated. Any problem is a LoadError.
 */
export function savedRun(ckpt: LoadedCheckpoint): SavedRun {
  const c = ckpt.config as Record<string, unknown> | undefined;
  if (!c || typeof c !== "object" || c.kind !== "zoo")
    throw new LoadError(
      `not a checkpoint of wnn train <model> (its config.kind is ${JSON.stringify((c as { kind?: unknown } | undefined)?.kind ?? null)})`,
    );
  if (typeof c.model !== "string" || !Object.hasOwn(ZOO_TRAINING, c.model))
    throw new LoadError(
      `the checkpoint names the model ${JSON.stringify(c.model)}, not one of ${Object.keys(ZOO_TRAINING).join(", ")}`,
    );
  const spec = ZOO_TRAINING[c.model]!;
  if (typeof c.config !== "object" || c.config === null || Array.isArray(c.config))
    throw new LoadError("the checkpoint's model config is not an object");
  let config: Config, options: ZooTrainOptions;
  try {
    config = spec.check(c.config as Config);
    options = checkOptions(c.options as unknown as ZooTrainOptions);
  } catch (e) {
    throw new LoadError(`the checkpoint's ${c.model} config is not valid: ${(e as Error).message}`);
  }
  let expected: number;
  try {
    expected = meta(() =>
      Object.values(spec.build(config, new Generator(0)).stateDict()).reduce((n, t) => n + t.numel(), 0),
    ); // parameters and buffers
  } catch (e) {
    throw new LoadError(`the checkpoint's ${c.model} config does not build: ${(e as Error).message}`);
  }
  let held = 0;
  for (const t of Object.values(ckpt.model)) held += t.numel();
  if (held !== expected)
    throw new LoadError(
      `the checkpoint's ${c.model} config has ${expected.toLocaleString("en-US")} weights (parameters and buffers), but the file holds ${held.toLocaleString("en-US")} weights`,
    );
  if (c.tokenizer !== null && (typeof c.tokenizer !== "object" || Array.isArray(c.tokenizer)))
    throw new LoadError("the checkpoint's tokenizer is not an object");
  return {
    kind: "zoo",
    model: c.model,
    task: TASK_OF[spec.kind],
    config,
    options,
    tokenizer: (c.tokenizer ?? null) as Record<string, unknown> | null,
  };
}

// =====================================================================================================
// Reading a trained model back (the CLI's sample, fill-mask and eval)

/** The probabilities of the top k tokens of one row of logits (softmax in float64). */
export function topTokens(row: ArrayLike<number>, k: number): { id: number; probability: number }[] {
  let zMax = -Infinity;
  for (let v = 0; v < row.length; v++) zMax = Math.max(zMax, row[v]!);
  let total = 0;
  for (let v = 0; v < row.length; v++) total += Math.exp(row[v]! - zMax);
  const order = Array.from({ length: row.length }, (_, v) => v)
    .sort((a, b) => row[b]! - row[a]! || a - b)
    .slice(0, Math.min(k, row.length));
  return order.map((id) => ({ id, probability: Math.exp(row[id]! - zMax) / total }));
}

/** An encoder trained by ZooTrainer fills the masks ("[MASK]", one character each) of a text: the top k characters of each. */
export function fillMaskChars(
  t: ZooTrainer,
  text: string,
  k: number,
  maskToken = "[MASK]",
): { position: number; candidates: { id: number; token: string; probability: number }[] }[] {
  if (t.kind !== "encoder") throw new ArgumentError(`fill-mask: ${t.name} is not an encoder with a masked-LM head`);
  const tok = CharTokenizer.fromJSON(t.tokenizer);
  const parts = text.split(maskToken);
  if (parts.length < 2) throw new ArgumentError(`fill-mask: the text has no mask token ${maskToken}`);
  const ids: number[] = [];
  parts.forEach((part, i) => {
    if (i > 0) ids.push(SPECIALS.mask);
    for (const id of tok.encode(part)) ids.push(id + OFFSET);
  });
  const max = (t.model as unknown as { config: { maxPositions?: number } }).config.maxPositions ?? MLM_LEN;
  if (ids.length + 2 > max)
    throw new ArgumentError(
      `fill-mask: the text is ${ids.length} characters, more than the ${max - 2} the model reads`,
    );
  const x = single(Int32Array.from(ids)); // [CLS] text [SEP]
  const logits = evaluating(t.model, () => (t.model as MaskedLM).forward(new Tensor(x, [1, x.length])).logits); // (1, T, V)
  const V = logits.shape[2]!;
  const out: { position: number; candidates: { id: number; token: string; probability: number }[] }[] = [];
  x.forEach((id, pos) => {
    if (id !== SPECIALS.mask) return;
    const row = logits.storage.subarray(pos * V, (pos + 1) * V);
    out.push({
      position: pos - 1,
      candidates: topTokens(row, k).map(({ id: v, probability }) => ({
        id: v,
        token: v >= OFFSET ? tok.decode([v - OFFSET]) : ["[CLS]", "[PAD]", "[SEP]", "[MASK]"][v]!,
        probability,
      })),
    });
  });
  return out;
}

/** A decoder trained by ZooTrainer continues a prompt: `tokens` characters sampled. */
export function sampleChars(t: ZooTrainer, prompt: string, tokens: number, opts: GenerateOptions): string {
  if (t.kind !== "decoder")
    throw new ArgumentError(
      `sample: ${t.name} is not a decoder; ${t.kind === "encoder" ? "fill in masks with wnn fill-mask --checkpoint" : "evaluate it with wnn eval --checkpoint"}`,
    );
  const tok = CharTokenizer.fromJSON(t.tokenizer);
  const ids = tok.encode(prompt);
  if (ids.length === 0) throw new ArgumentError("sample: the prompt must not be empty");
  const out = evaluating(t.model, () =>
    (t.model as Decoder).generate(new Tensor(Int32Array.from(ids), [1, ids.length]), tokens, opts),
  ); // (1, T0 + tokens)
  return tok.decode(out.storage);
}
