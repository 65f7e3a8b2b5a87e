// wnn train encoder-decoder-compare: T5 and BART at the same small size, each pretrained on Moby Dick with its
// own denoising objective, then fine-tuned on the dates task (human-written dates → ISO 8601); and the same
// fine-tuning from random weights, so that what the pretraining bought shows.
//
//   T5 (src/models/t5, v1.0: ReLU FFN, the head tied to the embedding and fed h·C^−½, RMSNorm, relative position
//      buckets), pretrained with span corruption (Raffel et al. 2020 §3.1.4: 15% of the tokens dropped in spans of mean length 3,
//      each span a sentinel in the input; the target the sentinels and the spans: t5/noise.ts).
//   BART (src/models/bart: post-LN, learned positions, GELU), pretrained with text infilling (30% of the tokens
//      in Poisson(3) spans, each span one <mask>) after sentence permutation; the target the whole original
//      (Lewis et al. 2020 §2.2, §5.1: bart/noise.ts). Its init is N(0, 1/C), not bart-base's N(0, 0.02²), which
//      at this width keeps it on the unigram plateau (bartContender).
//
// One shared character-level tokenizer (the dates task is character-level, and Moby Dick has 88 distinct
// characters once whitespace is collapsed): <pad> 0, </s> 1, <mask> 2, <extra_id_0 … extra_id_{S−1}> 3 … S+2, then
// the characters of Moby Dick and of the dates task, sorted. Both models: the same width, heads, layers and FFN
// width, both heads tied to the embedding, no dropout (the short runs are far from overfitting: the date stream
// never repeats, the book is read < 1×). Why T5 v1.0 and not v1.1: v1.0 is the model of the paper's §3.1.4
// experiments, its tied head and 2-matrix FFN lay the parameters out as BART's do, and v1.1's untied N(0, 1)
// head starts at a loss of ~10 nats (logits of standard deviation √C), which a budget of a few hundred steps
// cannot afford (measured: 9.2 after 10 pretraining steps, BART 3.3).
// Every run: AdamW (β 0.9, 0.999, weight decay 0.01), linear warmup over 5% of the steps then cosine decay to
// lr/10, gradient norm clipped to 1; T5's W_Q at lr/√d_kv and its relative-position tables at 100·lr (t5LrScale:
// without them T5 got 0–2% of the dates where BART got 99–100%). Pretraining: the same chunks of the book (the first 90%) in the same
// order for both; fine-tuning: the same date batches in the same order for all four runs, and a fixed seeded
// test set of dates never drawn for training, decoded greedily with each model's own greedyDecode.
//
// Output: a table (parameters, seconds, pretraining validation loss, exact match), the loss curves (PNG) and
// samples (a reconstructed passage of the book, decoded dates). Browser-safe: no files, no Node.

import { WHOLE, driverFor, myRows, rowsOf, weighted, wholeModel, type Part } from "./data-parallel-job.js";
import { ArgumentError } from "../engine/errors.js";
import { noGrad } from "../engine/autograd.js";
import { tensor } from "../engine/creation.js";
import { Generator } from "../engine/rng.js";
import type { Tensor } from "../engine/tensor.js";
import type { Module, Parameter } from "../nn/module.js";
import { lineChartPng } from "../io/chart.js";
import { AdamW } from "../optim/adam.js";
import { cosineWithWarmup } from "../optim/schedulers.js";
import { datesTask } from "../data/tasks/dates.js";
import { distinctPairs, type Pair } from "../data/tasks/seq.js";
import { exactMatch } from "../data/tasks/metrics.js";
import type { Recipe, RecipeData, RecipeHooks, RecipeResult } from "./recipe.js";
import { runLoopSync, type TrainingJob } from "./loop.js";
import {
  DecoderBlock as T5DecoderBlock,
  EncoderBlock as T5EncoderBlock,
  T5,
  t5Config,
  greedyDecode as t5Greedy,
} from "../models/t5/model.js";
import { spanCorruption } from "../models/t5/noise.js";
import {
  Bart,
  DecoderBlock as BartDecoderBlock,
  EncoderBlock as BartEncoderBlock,
  bartConfig,
  shiftTokensRight,
  greedyDecode as bartGreedy,
} from "../models/bart/model.js";
import { moduleClassPolicy } from "../nn/checkpoint.js";
import { sentencePermutation, textInfilling } from "../models/bart/noise.js";

/** The contenders' block classes: FSDP's units under --strategy fsdp */
const BLOCKS = moduleClassPolicy(T5EncoderBlock, T5DecoderBlock, BartEncoderBlock, BartDecoderBlock);

export interface EncoderDecoderCompareOptions extends Record<string, number | string | boolean> {
  /** optimizer steps of pretraining (each model) */
  pretrainSteps: number;
  /** optimizer steps of fine-tuning on dates (each of the four runs) */
  finetuneSteps: number;
  /** passages of the book per pretraining step */
  pretrainBatch: number;
  /** characters per passage */
  chunk: number;
  /** dates per fine-tuning step */
  finetuneBatch: number;
  /** the peak learning rate of every run */
  lr: number;
  /** channels of the residual stream (both models) */
  dModel: number;
  /** attention heads (T5's head size d_kv = dModel / nHead) */
  nHead: number;
  /** encoder layers = decoder layers */
  layers: number;
  /** the FFN's inner width d_ff (both) */
  ffWidth: number;
  /** held-out dates, never drawn for training */
  testSize: number;
  /** book passages held out for the pretraining validation loss */
  valPassages: number;
  /** evaluations (pretraining validation loss, fine-tuning exact match) every this many steps */
  evalEvery: number;
  seed: number;
}

export const DEFAULTS: Readonly<EncoderDecoderCompareOptions> = Object.freeze({
  pretrainSteps: 100,
  finetuneSteps: 160,
  pretrainBatch: 16,
  chunk: 64,
  finetuneBatch: 16,
  lr: 2e-3,
  dModel: 128,
  nHead: 4,
  layers: 2,
  ffWidth: 512,
  testSize: 200,
  valPassages: 32,
  evalEvery: 40,
  seed: 0,
});

// =====================================================================================================
// The shared tokenizer

export const PAD = 0,
  EOS = 1,
  MASK = 2;
/** <extra_id_0 … 31>: enough for the spans of passages up to ~600 characters */
export const SENTINELS = 32;

/** Characters ↔ ids, after <pad>, </s>, <mask> and the sentinels. */
export class CharVocab {
  readonly chars: readonly string[];
  readonly sentinelIds: readonly number[];
  private readonly ids: Map<string, number>;

  constructor(text: string) {
    this.chars = [...new Set(text)].sort();
    const first = 3 + SENTINELS;
    this.ids = new Map(this.chars.map((c, i) => [c, first + i]));
    this.sentinelIds = Array.from({ length: SENTINELS }, (_, i) => 3 + i);
  }

  get size(): number {
    return 3 + SENTINELS + this.chars.length;
  }

  encode(s: string): number[] {
    return [...s].map((c) => {
      const id = this.ids.get(c);
      if (id === undefined)
        throw new ArgumentError(`encoder-decoder-compare: character ${JSON.stringify(c)} is not in the vocabulary`);
      return id;
    });
  }

  /** ids → text; specials shown as <pad> </s> <mask> <i> (sentinel i) */
  show(ids: readonly number[]): string {
    return ids
      .map((t) =>
        t === PAD
          ? "<pad>"
          : t === EOS
            ? "</s>"
            : t === MASK
              ? "<mask>"
              : t < 3 + SENTINELS
                ? `<${t - 3}>`
                : this.chars[t - 3 - SENTINELS]!,
      )
      .join("");
  }

  /** ids → the characters, stopping at </s> and skipping the other specials */
  decode(ids: readonly number[]): string {
    let s = "";
    for (const t of ids) {
      if (t === EOS) break;
      if (t >= 3 + SENTINELS) s += this.chars[t - 3 - SENTINELS]!;
    }
    return s;
  }
}

/** Whitespace runs (line breaks, indents) become one space. */
export const normalizeText = (text: string): string => text.replace(/\s+/g, " ");

// =====================================================================================================
// The two contenders behind one face: a loss on token lists and greedy decoding

/** One example: source tokens and target tokens, each without </s> (added here). */
export interface Example {
  src: number[];
  tgt: number[];
}

export interface Contender {
  readonly name: "T5" | "BART";
  readonly model: Module;
  /** learning-rate multipliers of some parameters (1 for the others) */
  readonly lrScale?: ReadonlyMap<Parameter, number>;
  /**
   * mean cross-entropy over the targets of a batch (teacher forcing); with a part of N workers, over this worker's
   * rows of the batch padded as one process pads it (the same shapes, so its dropout masks are its block of one
   * process's)
   */
  loss(batch: readonly Example[], part?: Part): Tensor;
  /** greedy decoding, at most maxLen tokens (</s> included) → the tokens before </s> */
  greedy(srcs: readonly number[][], maxLen: number): number[][];
}

/**
 * A padded batch: inputIds (B, S) with </s> after each source and <pad> after that, attentionMask (B, S),
 * targets (B, T) = target + </s> then −100, decoder inputs = targets shifted right behind the start token.
 */
export function collate(
  batch: readonly Example[],
  decoderStartId: number,
): { inputIds: Tensor; attentionMask: Tensor; decoderInputIds: Tensor; targets: Tensor } {
  const B = batch.length;
  const S = Math.max(...batch.map((e) => e.src.length)) + 1,
    T = Math.max(...batch.map((e) => e.tgt.length)) + 1;
  const ids = new Int32Array(B * S).fill(PAD),
    mask = new Int32Array(B * S),
    tgt = new Int32Array(B * T).fill(-100);
  batch.forEach((e, b) => {
    ids.set([...e.src, EOS], b * S);
    mask.fill(1, b * S, b * S + e.src.length + 1);
    tgt.set([...e.tgt, EOS], b * T);
  });
  const targets = tensor(tgt, { shape: [B, T] }); // (B, T)
  return {
    inputIds: tensor(ids, { shape: [B, S] }), // (B, S)
    attentionMask: tensor(mask, { shape: [B, S] }), // (B, S)
    decoderInputIds: shiftTokensRight(targets, PAD, decoderStartId), // (B, T): start, y_1 … y_{T−1}, −100 → <pad>
    targets,
  };
}

/** This worker's rows of a collated batch, padded to the whole batch's lengths: (B/N, S), (B/N, T). */
function myBatch(batch: readonly Example[], decoderStartId: number, part: Part): ReturnType<typeof collate> {
  const b = collate(batch, decoderStartId);
  return {
    inputIds: myRows(b.inputIds, part),
    attentionMask: myRows(b.attentionMask, part),
    decoderInputIds: myRows(b.decoderInputIds, part),
    targets: myRows(b.targets, part),
  };
}

/** Sources padded as collate pads them, for decoding. */
function sources(srcs: readonly number[][]): { inputIds: Tensor; attentionMask: Tensor } {
  const { inputIds, attentionMask } = collate(
    srcs.map((src) => ({ src, tgt: [] })),
    0,
  );
  return { inputIds, attentionMask };
}

export interface Size {
  vocabSize: number;
  dModel: number;
  nHead: number;
  layers: number;
  dFF: number;
  /** the longest sequence BART's position tables must hold */
  maxPositions: number;
  /** dropout (default 0: the comparison's contenders train without) */
  dropout?: number;
}

/** T5 v1.0 (ReLU FFN, tied head) at the given size; <pad> 0 starts the decoder, as T5's. */
export function t5Contender(s: Size, seed: number): Contender {
  const config = t5Config("tiny", {
    vocabSize: s.vocabSize,
    nEncoderLayer: s.layers,
    nDecoderLayer: s.layers,
    nHead: s.nHead,
    dModel: s.dModel,
    dKv: s.dModel / s.nHead,
    dFF: s.dFF,
    feedForward: "relu",
    tieHead: true,
    dropout: s.dropout ?? 0,
    padId: PAD,
    eosId: EOS,
    decoderStartId: PAD,
  });
  const model = new T5(config, { generator: new Generator(seed) });
  return {
    name: "T5",
    model,
    lrScale: t5LrScale(model, T5_POSITION_LR_SCALE),
    loss(batch, part = WHOLE) {
      const b = myBatch(batch, config.decoderStartId, part);
      return model.forward(b.inputIds, b.decoderInputIds, { attentionMask: b.attentionMask, targets: b.targets }).loss!;
    },
    greedy(srcs, maxLen) {
      const { inputIds, attentionMask } = sources(srcs);
      return t5Greedy(model, inputIds, { attentionMask, maxLen });
    },
  };
}

/** The relative-position tables' learning rate, in multiples of the peak lr (measured: see t5LrScale). */
export const T5_POSITION_LR_SCALE = 100;

/**
 * T5's learning-rate multipliers under AdamW (T5 itself was trained with Adafactor):
 *  - W_Q of every attention: 1/√d_kv. T5 drops the 1/√d_kv of the logits and folds it into W_Q's init
 *    (N(0, 1/(C·d_kv)) instead of N(0, 1/C)). Adam's step does not depend on a parameter's scale, so the same fold
 *    must scale W_Q's learning rate too; with it, W_Q moves as a W_Q of N(0, 1/C) behind an explicit 1/√d_kv would.
 *  - the two relative-position tables (a scalar per bucket and head, N(0, 1/C)): `positionScale`. They are T5's only
 *    source of word order, and each entry moves by at most ~lr per step under Adam: at lr 2·10⁻³ a preference of a few
 *    nats for "the key 3 to the left" takes thousands of steps, so position-dependent tasks stall.
 * Measured on the dates task from random weights (400 steps × 32, lr 2·10⁻³, the recipe's size; exact match on the
 * 200 held-out dates): neither 2.5%; W_Q alone 18.5%; tables ×100 alone 75.5%; both (×10, ×30, ×100) 99%, 99.5%,
 * 99.5%. BART needs neither: its positions are embeddings that W_Q and W_K multiply, and it keeps the 1/√d_k.
 */
export function t5LrScale(model: T5, positionScale: number): Map<Parameter, number> {
  const scale = new Map<Parameter, number>();
  const dKv = model.config.dKv;
  for (const [name, p] of model.namedParameters()) {
    if (/(^|\.)(attn|cross)\.wq\.weight$/.test(name)) scale.set(p, 1 / Math.sqrt(dKv));
    else if (/PosBias\.emb\.weight$/.test(name)) scale.set(p, positionScale);
  }
  return scale;
}

/**
 * BART at the same width, depth and FFN width; </s> starts the decoder, as BART's (decoder_start_token_id = eos).
 * Its weights start N(0, 1/C) (initStd = 1/√dModel), not N(0, 0.02²): 0.02 was chosen for d_model 768–1024, and at
 * C = 128 every projection then shrinks its input ~4× (0.02·√128 ≈ 0.23), so that the sub-layers add almost nothing
 * to the embeddings and BART learns only the unigram distribution (~3.1 nats per character) for hundreds of steps —
 * even on copying its input, and the same in the PyTorch reference (src/models/bart/README.md, "Init at a small
 * width"). 1/√C is the scale T5's init (1/√d_model for most of its matrices) gives its contender.
 */
export function bartContender(s: Size, seed: number, initStd = 1 / Math.sqrt(s.dModel)): Contender {
  const config = bartConfig("tiny", {
    vocabSize: s.vocabSize,
    maxPositions: s.maxPositions,
    nEncoderLayer: s.layers,
    nDecoderLayer: s.layers,
    nHead: s.nHead,
    dModel: s.dModel,
    dFF: s.dFF,
    dropout: s.dropout ?? 0,
    padId: PAD,
    eosId: EOS,
    decoderStartId: EOS,
    initStd,
  });
  const model = new Bart(config, { generator: new Generator(seed) });
  return {
    name: "BART",
    model,
    loss(batch, part = WHOLE) {
      const b = myBatch(batch, config.decoderStartId, part);
      return model.forward(b.inputIds, b.decoderInputIds, { attentionMask: b.attentionMask, targets: b.targets }).loss!;
    },
    greedy(srcs, maxLen) {
      const { inputIds, attentionMask } = sources(srcs);
      return bartGreedy(model, inputIds, { attentionMask, maxLen });
    },
  };
}

// =====================================================================================================
// The two pretraining objectives, on one passage of the book

/** T5: span corruption; input = the passage with sentinels, target = sentinels + spans + the final sentinel. */
export function t5Example(passage: readonly number[], vocab: CharVocab, g: Generator): Example {
  const { input, target } = spanCorruption(passage, {
    sentinelIds: vocab.sentinelIds,
    noiseDensity: 0.15,
    meanSpanLength: 3,
    generator: g,
  });
  return { src: input, tgt: target };
}

/** BART: sentence permutation, then text infilling (30%, Poisson(3) spans, one <mask> each); target = the passage. */
export function bartExample(passage: readonly number[], vocab: CharVocab, g: Generator): Example {
  const permuted = sentencePermutation(passage, { sentenceEnds: vocab.encode(".!?"), generator: g });
  const { tokens } = textInfilling(permuted, { maskId: MASK, maskRatio: 0.3, lambda: 3, generator: g });
  return { src: tokens, tgt: [...passage] };
}

// =====================================================================================================
// Training

interface Curve {
  name: string;
  points: [number, number][];
}

interface RunResult {
  /** the training loss, the mean of every 10 steps */
  loss: Curve;
  /** evaluations by step: the pretraining validation loss, or the fine-tuning test metrics */
  evals: [number, Record<string, number>][];
  seconds: number;
}

/** The target tokens a batch's loss is the mean over: each example's target and its </s>. */
export const targetTokens = (es: readonly Example[]): number => es.reduce((n, e) => n + e.tgt.length + 1, 0);

/**
 * AdamW, warmup 5% then cosine to lr/10, gradients clipped to 1; `next` gives step s's batch. With
 * hooks.dataParallel, worker r of N trains on its rows of every batch, its loss weighted by its share of the
 * batch's target tokens (data-parallel-job.ts), and the model holds the whole trained parameters at the end.
 */
function train(
  c: Contender,
  label: string,
  steps: number,
  lr: number,
  next: (step: number) => Example[],
  evaluate: (() => Record<string, number>) | null,
  evalEvery: number,
  hooks: RecipeHooks,
  progress: { done: number; total: number },
): RunResult {
  const params = c.model.parameters();
  // one parameter group per learning-rate multiplier
  const scales = [...new Set(params.map((p) => c.lrScale?.get(p) ?? 1))];
  const opt = new AdamW(
    scales.map((k) => ({ params: params.filter((p) => (c.lrScale?.get(p) ?? 1) === k) })),
    { lr, betas: [0.9, 0.999], weightDecay: 0.01 },
  );
  // (FSDP: each encoder and decoder block a unit of its own, as PyTorch's transformer_auto_wrap_policy)
  const { driver, part } = driverFor(c.model, opt, hooks.dataParallel, { blocks: BLOCKS, log: hooks.log });
  const warmup = Math.max(1, Math.round(0.05 * steps));
  const schedule = cosineWithWarmup({ warmupIters: warmup, lrDecayIters: steps, maxLr: lr, minLr: lr / 10 });
  const loss: [number, number][] = [],
    evals: [number, Record<string, number>][] = [];
  let window = 0,
    inWindow = 0;
  c.model.train();
  const t0 = performance.now();
  let evalMs = 0,
    step = 0,
    lastEval = 0,
    lastLoss = NaN;
  // the job the shared loop (loop.ts) runs: one step per batch, the evaluation every evalEvery steps and at the last
  const job: TrainingJob<{ loss: number }, Record<string, number>> = {
    get step() {
      return step;
    },
    totalSteps: steps,
    trainStep() {
      opt.paramGroups.forEach((group, i) => (group.lr = schedule(step) * scales[i]!)); // (sharded: copied by step)
      driver.zeroGrad();
      const batch = next(step + 1);
      const { start, count } = rowsOf(batch.length, part);
      const mine = batch.slice(start, start + count);
      const l = driver.within(() => {
        const loss = c.loss(mine); // () per target token of this worker's examples
        return weighted(loss, targetTokens(mine), targetTokens(batch), part, () => loss);
      });
      const value = driver.mean(l.item());
      l.backward();
      driver.reduceGradients(1);
      driver.step();
      step++;
      return { loss: value };
    },
    evalDue: () => evaluate !== null && step > lastEval && (step % evalEvery === 0 || step === steps),
    *evaluate() {
      let e: Record<string, number>;
      try {
        e = driver.within(evaluate!); // whole on every worker (FSDP: gathered, then freed)
      } finally {
        driver.endEvaluation();
      }
      lastEval = step;
      yield;
      return e;
    },
  };
  runLoopSync(job, {
    onStep(s, { loss: v }) {
      lastLoss = v;
      window += v;
      inWindow++;
      if (inWindow === 10 || s === steps) {
        loss.push([s, window / inWindow]);
        window = inWindow = 0;
      }
      hooks.progress?.(++progress.done, progress.total, { loss: v });
    },
    onEval(s, e, ms) {
      evalMs += ms;
      evals.push([s, e]);
      c.model.train();
      const shown = Object.entries(e)
        .map(([k, x]) => `${k} ${x.toFixed(4)}`)
        .join(", ");
      hooks.log(
        `  ${label} step ${s}/${steps}: loss ${lastLoss.toFixed(4)}; ${shown} (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
      );
    },
  });
  const seconds = (performance.now() - t0 - evalMs) / 1000;
  wholeModel(driver, c.model); // with workers: the whole trained parameters back, for decoding and the next phase
  return { loss: { name: label, points: loss }, evals, seconds };
}

/** The mean loss over fixed examples, in batches, without gradients. */
function meanLoss(c: Contender, examples: readonly Example[], batch: number): number {
  c.model.eval();
  return noGrad(() => {
    let sum = 0;
    for (let i = 0; i < examples.length; i += batch) {
      const part = examples.slice(i, i + batch);
      sum += c.loss(part).item() * part.length;
    }
    return sum / examples.length;
  });
}

export interface DateScores {
  /** the share of outputs equal to the ISO date */
  exactMatch: number;
  /** the share of the ten ISO characters right, position by position (a short output misses the rest) */
  charAccuracy: number;
  /** the teacher-forced cross-entropy of the test targets (nats per target token, </s> included) */
  testLoss: number;
}

/** Greedy decoding of the test dates → exact match and character accuracy; and the teacher-forced test loss. */
function dateScores(c: Contender, vocab: CharVocab, test: readonly Pair[]): { scores: DateScores; hyps: string[] } {
  const hyps: string[] = [];
  for (let i = 0; i < test.length; i += 100) {
    const part = test.slice(i, i + 100);
    for (const ids of c.greedy(
      part.map((p) => vocab.encode(p.src)),
      11,
    ))
      hyps.push(vocab.decode(ids));
  }
  let right = 0,
    total = 0;
  test.forEach((p, i) => {
    for (let j = 0; j < p.tgt.length; j++) if (hyps[i]![j] === p.tgt[j]) right++;
    total += p.tgt.length;
  });
  const testLoss = meanLoss(
    c,
    test.map((p) => ({ src: vocab.encode(p.src), tgt: vocab.encode(p.tgt) })),
    100,
  );
  return {
    scores: {
      exactMatch: exactMatch(
        hyps,
        test.map((p) => p.tgt),
      ),
      charAccuracy: right / total,
      testLoss,
    },
    hyps,
  };
}

// =====================================================================================================
// The recipe

const pct = (x: number): string => (100 * x).toFixed(1);

export const recipe: Recipe<EncoderDecoderCompareOptions> = {
  name: "encoder-decoder-compare",
  paper:
    "Raffel et al. 2020 (T5), https://arxiv.org/abs/1910.10683; Lewis et al. 2020 (BART), https://arxiv.org/abs/1910.13461",
  trainsOn:
    "Moby Dick (denoising pretraining: T5 span corruption, BART text infilling + sentence permutation), then dates → ISO 8601 (exact match)",
  needs: ["text"],
  dataParallel: true, // each run (pretraining, fine-tuning) on N workers, each on its rows of every batch
  defaults: DEFAULTS,

  run(
    options: EncoderDecoderCompareOptions,
    data: RecipeData,
    hooks: RecipeHooks,
    _generator: Generator,
  ): RecipeResult {
    const o = { ...DEFAULTS, ...options };
    for (const k of [
      "pretrainSteps",
      "finetuneSteps",
      "pretrainBatch",
      "chunk",
      "finetuneBatch",
      "dModel",
      "nHead",
      "layers",
      "ffWidth",
      "testSize",
      "valPassages",
      "evalEvery",
    ] as const) {
      if (!Number.isInteger(o[k]) || o[k] < 1)
        throw new ArgumentError(`encoder-decoder-compare: ${k} must be a positive integer, got ${o[k]}`);
    }
    if (o.dModel % o.nHead !== 0)
      throw new ArgumentError(`encoder-decoder-compare: dModel ${o.dModel} must be a multiple of nHead ${o.nHead}`);
    if (!(o.lr > 0)) throw new ArgumentError(`encoder-decoder-compare: lr must be > 0, got ${o.lr}`);
    const text = normalizeText(data.text ?? "");
    if (text.length < 20 * o.chunk)
      throw new ArgumentError(
        `encoder-decoder-compare: the text (${text.length} characters) must hold at least 20 passages of ${o.chunk}`,
      );

    // -- the data: the book split 90/10, the dates task, one vocabulary for both
    const task = datesTask();
    const vocab = new CharVocab(text + task.srcVocab.symbols.join("") + task.tgtVocab.symbols.join(""));
    const cut = Math.floor(0.9 * text.length);
    const trainText = vocab.encode(text.slice(0, cut)),
      valText = vocab.encode(text.slice(cut));
    const passage = (ids: readonly number[], g: Generator): number[] => {
      const start = g.randint(0, ids.length - o.chunk + 1);
      return ids.slice(start, start + o.chunk);
    };
    const valG = new Generator(o.seed + 10);
    const valPassages = Array.from({ length: o.valPassages }, () => passage(valText, valG));
    const test = distinctPairs(task, o.testSize, new Generator(o.seed + 3));
    const heldOut = new Set(test.map((p) => p.src));
    // BART's position tables: a passage (+ </s>), or a date (the longest format writes 29 characters), + </s>
    const size: Size = {
      vocabSize: vocab.size,
      dModel: o.dModel,
      nHead: o.nHead,
      layers: o.layers,
      dFF: o.ffWidth,
      maxPositions: Math.max(o.chunk, 40) + 2,
    };
    hooks.log(
      `vocabulary ${vocab.size} (3 specials, ${SENTINELS} sentinels, ${vocab.chars.length} characters); book: ${trainText.length} train / ${valText.length} validation characters; dates: ${o.testSize} held out`,
    );

    const build = (name: "T5" | "BART"): Contender =>
      name === "T5" ? t5Contender(size, o.seed + 1) : bartContender(size, o.seed + 1);
    const objective = (name: "T5" | "BART") => (name === "T5" ? t5Example : bartExample);
    const progress = { done: 0, total: 2 * o.pretrainSteps + 4 * o.finetuneSteps };

    // -- pretraining: the same passages in the same order for both, each corrupted by its own objective
    const pretrained = new Map<string, { c: Contender; run: RunResult; valLoss: number; sample: string }>();
    for (const name of ["T5", "BART"] as const) {
      const c = build(name);
      hooks.log(
        `${name}: ${c.model.numParameters().toLocaleString("en-US")} parameters; pretraining ${o.pretrainSteps} steps × ${o.pretrainBatch} passages of ${o.chunk} characters`,
      );
      const corrupt = objective(name);
      const dataG = new Generator(o.seed + 2),
        noiseG = new Generator(o.seed + 4);
      const valNoiseG = new Generator(o.seed + 5);
      const val = valPassages.map((p) => corrupt(p, vocab, valNoiseG));
      const run = train(
        c,
        `${name} pretraining`,
        o.pretrainSteps,
        o.lr,
        () => Array.from({ length: o.pretrainBatch }, () => corrupt(passage(trainText, dataG), vocab, noiseG)),
        () => ({ valLoss: meanLoss(c, val, 16) }),
        o.evalEvery,
        hooks,
        progress,
      );
      const valLoss = run.evals[run.evals.length - 1]![1].valLoss!;
      // one held-out passage: what the model reads, and what it writes back
      const out = c.greedy(
        [val[0]!.src],
        name === "T5" ? val[0]!.tgt.length + 8 : Math.min(size.maxPositions - 1, o.chunk + 8),
      )[0]!;
      const sample = `${name} pretraining, a held-out passage\n  reads:  ${vocab.show(val[0]!.src)}\n  writes: ${vocab.show(out)}\n  wanted: ${vocab.show(val[0]!.tgt)}`;
      hooks.log(`${name} pretrained in ${run.seconds.toFixed(0)} s: validation loss ${valLoss.toFixed(4)}`);
      pretrained.set(name, { c, run, valLoss, sample });
    }

    // -- fine-tuning on dates: four runs on the same batches, from the pretrained weights and from scratch
    const rows: {
      name: "T5" | "BART";
      init: "pretrained" | "scratch";
      c: Contender;
      run: RunResult;
      scores: DateScores;
      hyps: string[];
    }[] = [];
    for (const name of ["T5", "BART"] as const) {
      for (const init of ["pretrained", "scratch"] as const) {
        const c = init === "pretrained" ? pretrained.get(name)!.c : build(name);
        const dataG = new Generator(o.seed + 6);
        const next = (): Example[] => {
          const batch: Example[] = [];
          while (batch.length < o.finetuneBatch) {
            const p = task.sample(dataG);
            if (!heldOut.has(p.src)) batch.push({ src: vocab.encode(p.src), tgt: vocab.encode(p.tgt) });
          }
          return batch;
        };
        const label = `${name} ${init === "pretrained" ? "pretrained" : "from scratch"}`;
        hooks.log(`${label}: fine-tuning ${o.finetuneSteps} steps × ${o.finetuneBatch} dates`);
        let last: { scores: DateScores; hyps: string[] } | null = null;
        const run = train(
          c,
          label,
          o.finetuneSteps,
          o.lr,
          next,
          () => ({ ...(last = dateScores(c, vocab, test)).scores }),
          o.evalEvery,
          hooks,
          progress,
        );
        const { scores, hyps } = last!; // the evaluation after the last step
        hooks.log(
          `${label}: exact match ${pct(scores.exactMatch)}%, characters right ${pct(scores.charAccuracy)}%, test loss ${scores.testLoss.toFixed(4)} on ${test.length} held-out dates`,
        );
        rows.push({ name, init, c, run, scores, hyps });
      }
    }

    // -- what comes back
    const metrics: Record<string, number> = {};
    for (const [name, p] of pretrained) {
      const key = name.toLowerCase();
      metrics[`${key}.parameters`] = p.c.model.numParameters();
      metrics[`${key}.pretrainSeconds`] = p.run.seconds;
      metrics[`${key}.pretrainValLoss`] = p.valLoss;
    }
    for (const r of rows) {
      const key = `${r.name.toLowerCase()}.${r.init}`;
      metrics[`${key}.exactMatch`] = r.scores.exactMatch;
      metrics[`${key}.charAccuracy`] = r.scores.charAccuracy;
      metrics[`${key}.testLoss`] = r.scores.testLoss;
      metrics[`${key}.finetuneSeconds`] = r.run.seconds;
      metrics[`${key}.finalLoss`] = r.run.loss.points[r.run.loss.points.length - 1]![1];
    }
    const table = [
      `| model | parameters | pretraining (${o.pretrainSteps} × ${o.pretrainBatch} × ${o.chunk} chars) | pretraining val loss (nats/target token) | fine-tuned from | fine-tuning s (${o.finetuneSteps} × ${o.finetuneBatch}) | test loss | characters right | exact match |`,
      "|---|---:|---:|---:|---|---:|---:|---:|---:|",
      ...rows.map((r) => {
        const p = pretrained.get(r.name)!;
        const pre = r.init === "pretrained";
        return `| ${r.name} | ${p.c.model.numParameters().toLocaleString("en-US")} | ${pre ? `${p.run.seconds.toFixed(0)} s (${((1000 * p.run.seconds) / o.pretrainSteps).toFixed(0)} ms/step)` : "—"} | ${pre ? p.valLoss.toFixed(3) : "—"} | ${pre ? "the pretrained weights" : "random weights (scratch)"} | ${r.run.seconds.toFixed(0)} | ${r.scores.testLoss.toFixed(4)} | ${pct(r.scores.charAccuracy)}% | **${pct(r.scores.exactMatch)}%** |`;
      }),
    ].join("\n");
    const evalCurve = (key: keyof DateScores) =>
      rows.map((r) => ({
        name: r.run.loss.name,
        points: r.run.evals.map(([step, e]) => [step, e[key]!] as [number, number]),
      }));
    const images = {
      "pretrain-loss.png": lineChartPng({
        title: `pretraining on Moby Dick (T5: spans, BART: infilling)`,
        xLabel: "step",
        yLabel: "train loss (mean of 10 steps)",
        series: [...pretrained.values()].map((p) => p.run.loss),
      }),
      "finetune-loss.png": lineChartPng({
        title: `fine-tuning on dates: pretrained vs from scratch`,
        xLabel: "step",
        yLabel: "train loss (mean of 10 steps)",
        series: rows.map((r) => r.run.loss),
      }),
      "finetune-char-accuracy.png": lineChartPng({
        title: `dates: characters right on ${test.length} held-out dates (greedy)`,
        xLabel: "fine-tuning step",
        yLabel: "share of ISO characters right",
        series: evalCurve("charAccuracy"),
      }),
      "finetune-exact-match.png": lineChartPng({
        title: `dates: exact match on ${test.length} held-out dates (greedy)`,
        xLabel: "fine-tuning step",
        yLabel: "exact match",
        series: evalCurve("exactMatch"),
      }),
    };
    const samples = [
      ...[...pretrained.values()].map((p) => p.sample),
      ...rows.map(
        (r) =>
          `${r.run.loss.name} on dates: ${test
            .slice(0, 6)
            .map((p, i) => `${p.src} → ${r.hyps[i]}${r.hyps[i] === p.tgt ? "" : ` (want ${p.tgt})`}`)
            .join("; ")}`,
      ),
    ];
    return { metrics, tables: { "encoder-decoder-compare.md": table }, images, samples };
  },
};
