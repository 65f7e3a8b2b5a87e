// wnn train finetune-compare: every fine-tuning method on one frozen model and two tasks, one step budget.
//
// 1. The base: a character-level GPT-2 pretrained on Moby Dick. Either a run folder of `wnn train gpt`
//    (`--base DIR`: its checkpoint and its character vocabulary, read by the CLI into RecipeData.checkpoint),
//    or, without one, pretrained here (RecipeData.text, `baseSteps` AdamW steps, printable ASCII + "\n").
//    Its weights are kept in memory and every method starts from a fresh copy of them.
// 2. Two downstream tasks, each method given the same steps × `batchSize`, the same batches in the same
//    order (a fresh Generator(seed + 10) per run) and its own learning rate (LRS below, or `lrs`):
//    - spam: the SpamAssassin e-mails (RecipeData.emails), seeded stratified 80/20 split; each e-mail's
//      subject and body (the "Subject: " label dropped, whitespace squeezed), its first `emailChars` − 1
//      characters left-padded with spaces, then "\n": a Linear head reads the hidden state of that last
//      newline (the head trains in every method, as PEFT's modules_to_save does for a classifier); batches
//      of as many spam as ham e-mails (`balanced`): test accuracy on `testEmails` held-out e-mails; `spamSteps`;
//    - dates: "<a date in `dateFormats`>=<its ISO form>\n" (src/data/tasks/dates; by default the one
//      format "DD MMM YYYY": "03 Mar 1998=1998-03-03"), the loss on the ISO characters only: exact match of
//      greedy decoding on `testDates` unseen dates; `steps`. Greedy decoding gives the reference exactly iff
//      every teacher-forced argmax is right, so one batched forward measures it.
//    A character the base's vocabulary lacks is written as another: "/" as "-", "=" as ":" (the book has
//    neither; no date format becomes ambiguous), anything else as "?".
// 3. For each method: trainable parameters (count and % of the model), AdamW state bytes (two float32
//    moments per trainable parameter), the tensor bytes of a training step at its peak (src/finetune/memory.ts:
//    weights, gradients, AdamW state and the activations the tape holds at the end of the forward pass),
//    CPU and wall milliseconds per step, and the metric; then the LoRA rank sweep r ∈ `ranks` on the dates task.
// 4. With `modulesToSave` (e.g. "tokEmb", the token embedding the head shares; "none" by default), every
//    method but full fine-tuning again on the dates task with those modules training beside it
//    (src/finetune/modules-to-save.ts): the digits are rare in the book, and a method that cannot move their
//    embeddings and output rows is measured against one that can. `dateAnswer` asks for the month or the year
//    alone instead of the whole ISO date: what needs no copying from the input, and what is copying only.

import { noGrad } from "../engine/autograd.js";
import { ArgumentError } from "../engine/errors.js";
import { Generator } from "../engine/rng.js";
import { Tensor } from "../engine/tensor.js";
import { getBatch, stratifiedSplit } from "../data/batch.js";
import { DATE_FORMATS, datesTask, type DateFormat } from "../data/tasks/dates.js";
import { lineChartPng } from "../io/chart.js";
import { AdamW } from "../optim/adam.js";
import * as F from "../nn/functional.js";
import { Linear } from "../nn/linear.js";
import { Module, type Parameter } from "../nn/module.js";
import { GPT, gptConfig, type GPTConfig } from "../models/gpt2/model.js";
import type { Recipe, RecipeData, RecipeHooks, RecipeResult } from "./recipe.js";
import { runLoopSync, type TrainingJob } from "./loop.js";
import {
  driverFor,
  forwardOnRows,
  myRows,
  rowsOf,
  tokensIn,
  weighted,
  wholeModel,
  type Part,
} from "./data-parallel-job.js";
import { trainableReport, type TrainableReport } from "../finetune/common.js";
import { applyMethod, type MethodName } from "../finetune/methods.js";
import { modulesToSave } from "../finetune/modules-to-save.js";
import { stepBytes } from "../finetune/memory.js";
import { CharTokenizer } from "../data/char.js";
import { parseCheckpoint } from "../io/checkpoint.js";
import { checkpointConfig } from "../models/gpt2/train.js";

export type FinetuneCompareOptions = {
  /** the base model: blocks, heads, width, context */
  nLayer: number;
  nHead: number;
  nEmbd: number;
  blockSize: number;
  /** pretraining steps on Moby Dick */
  baseSteps: number;
  baseLr: number;
  /** a run folder of `wnn train gpt` to fine-tune ("" pretrains a base here; the CLI reads its checkpoint) */
  base: string;
  /** fine-tuning steps per method on the dates task, and on the spam task (0: the same as steps) */
  steps: number;
  spamSteps: number;
  /** characters of each date line (with its answer; the longest of all 18 formats is 42, of "DD MMM YYYY" 22) */
  dateChars: number;
  /** the date formats of the task: templates of src/data/tasks/dates.ts separated by "|", or "all" */
  dateFormats: string;
  batchSize: number;
  /** LoRA rank and α, adapter bottleneck, virtual tokens of prefix and prompt tuning */
  r: number;
  alpha: number;
  /** the Linears LoRA wraps, comma-separated neutral names */
  loraTargets: string;
  bottleneck: number;
  numVirtualTokens: number;
  /** characters of each e-mail read, the classifier's closing "\n" included */
  emailChars: number;
  /** spam batches of as many spam as ham e-mails (false: drawn as the split holds them) */
  balanced: boolean;
  testEmails: number;
  testDates: number;
  /** the LoRA rank sweep on the dates task, comma-separated ("" skips it) */
  ranks: string;
  /** the methods to compare, comma-separated */
  methods: string;
  /** modules that train beside each method in rows of their own on the dates task (PEFT's modules_to_save; "none") */
  modulesToSave: string;
  /** the dates task's answer: the whole ISO date, or only its month (no digit of it is in the input) or its year (all copied) */
  dateAnswer: "iso" | "month" | "year";
  /** learning rates replacing LRS's, "method=lr,…" (e.g. "full=3e-4,lora=1e-2") */
  lrs: string;
  seed: number;
};

export const DEFAULTS: FinetuneCompareOptions = {
  nLayer: 4,
  nHead: 4,
  nEmbd: 64,
  blockSize: 64,
  baseSteps: 400,
  baseLr: 3e-3,
  base: "",
  steps: 80,
  spamSteps: 0,
  dateChars: 24,
  dateFormats: "DD MMM YYYY",
  batchSize: 16,
  r: 4,
  alpha: 8,
  loraTargets: "attn.wq,attn.wv",
  bottleneck: 8,
  numVirtualTokens: 8,
  emailChars: 56,
  balanced: true,
  testEmails: 400,
  testDates: 200,
  ranks: "1,2,4,8,16,64",
  methods: "full,lora,adapter,adapter-pfeiffer,prefix,prompt,bitfit,ia3",
  modulesToSave: "none",
  dateAnswer: "iso",
  lrs: "",
  seed: 0,
};

/** Each method's learning rate: the usual order of magnitude for it (the small methods need larger steps). */
export const LRS: Record<MethodName, number> = {
  full: 1e-3,
  lora: 5e-3,
  adapter: 5e-3,
  "adapter-pfeiffer": 5e-3,
  prefix: 5e-3,
  prompt: 3e-2,
  bitfit: 1e-2,
  ia3: 3e-2,
};

// -----------------------------------------------------------------------------------------------------
// Characters

/** Stand-ins for characters a vocabulary lacks (Moby Dick has no "/" and no "="), then "?". */
const SUBSTITUTES: Record<string, string> = { "/": "-", "=": ":" };

/** A character vocabulary that never fails: a character it lacks is written as its substitute. */
export class Chars {
  readonly tok: CharTokenizer;
  readonly newline: number;

  constructor(tok: CharTokenizer) {
    if (!tok.chars.includes("\n") || !tok.chars.includes("?") || !tok.chars.includes(" "))
      throw new ArgumentError(`finetune-compare: the base's vocabulary must hold "\\n", " " and "?"`);
    this.tok = tok;
    this.newline = tok.chars.indexOf("\n");
  }

  /** Printable ASCII (32…126) and "\n": ids 0…94 and 95 — the vocabulary of a base pretrained here. */
  static ascii(): Chars {
    return new Chars(new CharTokenizer([...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)), "\n"]));
  }

  get size(): number {
    return this.tok.vocabSize;
  }

  /** s with every character the vocabulary lacks replaced. */
  fit(s: string): string {
    const has = (c: string): boolean => this.tok.chars.includes(c);
    return [...s]
      .map((c) => (has(c) ? c : SUBSTITUTES[c] !== undefined && has(SUBSTITUTES[c]!) ? SUBSTITUTES[c]! : "?"))
      .join("");
  }

  encode(s: string): Int32Array {
    return Int32Array.from(this.tok.encode(this.fit(s)));
  }

  decode(ids: ArrayLike<number>): string {
    return this.tok.decode(ids);
  }
}

// -----------------------------------------------------------------------------------------------------
// The models

/** What both tasks need of a (wrapped) decoder. */
interface LM extends Module {
  hidden(idx: Tensor): Tensor; // (B, T, C)
  forward(idx: Tensor, targets?: Tensor | null): { logits: Tensor; loss: Tensor | null };
}

/** A decoder read at its last position by a Linear head: logits (B, K). */
export class LastTokenClassifier extends Module {
  lm: LM;
  head: Linear;

  constructor(lm: LM, C: number, K: number, generator: Generator) {
    super();
    this.lm = lm;
    this.head = new Linear(C, K, { generator });
  }

  forward(idx: Tensor): Tensor {
    const h = this.lm.hidden(idx); // (B, T, C)
    return this.head.forward(h.narrow(1, h.shape[1]! - 1, 1).squeeze(1)); // (B, K)
  }
}

/** The pretrained base: its weights, config and characters. */
export interface Base {
  state: Record<string, Tensor>;
  config: GPTConfig;
  chars: Chars;
  params: number;
  /** mean next-character loss on 8 batches of the book's last 10% */
  valLoss: number;
  /** seconds spent pretraining here (0 for a loaded run) */
  seconds: number;
}

/** The book's ids in the base's characters, split 90/10 as `wnn train gpt` splits it. */
function bookSplit(text: string, chars: Chars): { train: Int32Array; val: Int32Array } {
  const ids = chars.encode(text);
  const nVal = Math.floor(ids.length / 10);
  return { train: ids.subarray(0, ids.length - nVal), val: ids.subarray(ids.length - nVal) };
}

function validationLoss(model: GPT, val: Int32Array, o: FinetuneCompareOptions): number {
  const vg = new Generator(o.seed + 2);
  let loss = 0;
  noGrad(() => {
    for (let i = 0; i < 8; i++) {
      const { x, y } = getBatch(val, model.config.blockSize, o.batchSize, vg);
      loss += model.forward(x, y).loss!.item() / 8;
    }
  });
  return loss;
}

/** Pretrain a base on the book here (printable ASCII): its weights (copies) and validation loss. */
export function pretrainBase(text: string, o: FinetuneCompareOptions, hooks: RecipeHooks): Base {
  const chars = Chars.ascii();
  const { train, val } = bookSplit(text, chars);
  const config = gptConfig({
    vocabSize: chars.size,
    blockSize: o.blockSize,
    nLayer: o.nLayer,
    nHead: o.nHead,
    nEmbd: o.nEmbd,
    dropout: 0,
    bias: true,
  });
  const model = new GPT(config, { generator: new Generator(o.seed) });
  const opt = new AdamW(model.parameters(), { lr: o.baseLr, betas: [0.9, 0.99], weightDecay: 0 });
  const batches = new Generator(o.seed + 1);
  // one process, or worker r of N (hooks.dataParallel): rows [r·B/N, (r+1)·B/N) of every batch, each a mean over
  // as many characters as every other worker's
  const { driver, part } = driverFor(model, opt, hooks.dataParallel);
  const t0 = performance.now();
  for (let step = 1; step <= o.baseSteps; step++) {
    const { x, y } = getBatch(train, o.blockSize, o.batchSize, batches);
    driver.zeroGrad();
    const loss = forwardOnRows(driver, part, () => model.forward(myRows(x, part), myRows(y, part)).loss!);
    const value = driver.mean(loss.item()); // the whole batch's loss
    loss.backward();
    driver.reduceGradients(1);
    driver.step();
    hooks.progress?.(step, o.baseSteps, { loss: value });
    if (step % Math.max(1, Math.floor(o.baseSteps / 5)) === 0)
      hooks.log(`base: step ${step}/${o.baseSteps}, train loss ${value.toFixed(3)}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  wholeModel(driver, model); // with workers: the whole trained parameters back
  const state = Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, t.clone()]));
  return { state, config, chars, params: model.numParameters(), valLoss: validationLoss(model, val, o), seconds };
}

/** A base from the checkpoint of a `wnn train gpt` run (its weights and its character vocabulary). */
export function loadBase(bytes: Uint8Array, text: string, o: FinetuneCompareOptions): Base {
  const ckpt = parseCheckpoint(bytes);
  const { model: config, config: meta } = checkpointConfig(ckpt);
  const chars = new Chars(CharTokenizer.fromJSON(meta.tokenizer));
  const model = new GPT(config, { generator: new Generator(o.seed) });
  model.loadStateDict(ckpt.model);
  return {
    state: ckpt.model,
    config,
    chars,
    params: model.numParameters(),
    valLoss: validationLoss(model, bookSplit(text, chars).val, o),
    seconds: 0,
  };
}

/** A fresh copy of the pretrained base. */
function freshBase(base: Base, o: FinetuneCompareOptions): GPT {
  const model = new GPT(base.config, { generator: new Generator(o.seed) });
  model.loadStateDict(base.state);
  return model;
}

// -----------------------------------------------------------------------------------------------------
// The tasks

export interface Email {
  ids: Int32Array;
  label: number;
}

/**
 * The e-mails as fixed-length character windows: the "Subject: " every e-mail starts with dropped, whitespace
 * squeezed, the first n − 1 characters, left-padded with spaces, then "\n" — the position the classifier reads
 * (GPT's extract token: the same token, after the text, in every row, so the head reads one kind of position).
 */
export function emailWindows(emails: readonly { text: string; label: number }[], n: number, chars: Chars): Email[] {
  return emails.map((e) => {
    const s = e.text
      .replace(/^Subject: /, "")
      .replace(/\s+/g, " ")
      .trim()
      .slice(0, n - 1);
    return { ids: chars.encode(s.padStart(n - 1, " ") + "\n"), label: e.label };
  });
}

/** The task's date formats: templates of DATE_FORMATS separated by "|", or "all". */
export function dateFormatsOf(spec: string): DateFormat[] {
  if (spec.trim() === "all") return [...DATE_FORMATS];
  const wanted = spec.split("|").map((t) => t.trim());
  return wanted.map((t) => {
    const f = DATE_FORMATS.find((d) => d.template === t);
    if (!f)
      throw new ArgumentError(
        `finetune-compare: unknown date format "${t}"; the formats are ${DATE_FORMATS.map((d) => `"${d.template}"`).join(", ")} (or "all")`,
      );
    return f;
  });
}

/** Each method's learning rate: LRS's, or the one `lrs` ("method=lr,…") gives it. */
export function learningRates(spec: string): Record<MethodName, number> {
  const out = { ...LRS };
  for (const part of spec
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean)) {
    const [m, v] = part.split("=") as [string, string | undefined];
    const lr = Number(v);
    if (!(m in LRS) || v === undefined || !(lr > 0) || !Number.isFinite(lr))
      throw new ArgumentError(
        `finetune-compare: --lrs wants "method=lr,…" with a known method and lr > 0, got "${part}"`,
      );
    out[m as MethodName] = lr;
  }
  return out;
}

function stackRows(rows: readonly Int32Array[]): Tensor {
  const T = rows[0]!.length;
  const data = new Int32Array(rows.length * T);
  rows.forEach((r, i) => data.set(r, i * T));
  return new Tensor(data, [rows.length, T]);
}

export interface DateRow {
  ids: Int32Array;
  targets: Int32Array;
  src: string;
  tgt: string;
}

/** The part of the ISO date "YYYY-MM-DD" the dates task asks for. */
export function dateAnswer(iso: string, answer: FinetuneCompareOptions["dateAnswer"]): string {
  if (answer === "month") return iso.slice(5, 7);
  if (answer === "year") return iso.slice(0, 4);
  if (answer === "iso") return iso;
  throw new ArgumentError(`finetune-compare: --date_answer must be iso, month or year, got ${JSON.stringify(answer)}`);
}

/** "<src>=<YYYY-MM-DD>\n" padded with "\n" to T; targets: the next character on the answer, −100 elsewhere. */
export function dateRow(src: string, tgt: string, T: number, chars: Chars): DateRow {
  const full = chars.encode(`${src}=${tgt}\n`);
  if (full.length > T + 1)
    throw new ArgumentError(`finetune-compare: the date line "${src}=${tgt}" is longer than ${T} characters`);
  const ids = new Int32Array(T).fill(chars.newline),
    targets = new Int32Array(T).fill(-100);
  ids.set(full.subarray(0, Math.min(full.length, T)));
  const answerStart = src.length + 1; // the first ISO character's position in `full`
  for (let t = answerStart; t < full.length; t++) targets[t - 1] = full[t]!; // predict full[t] from position t − 1
  return { ids, targets, src, tgt };
}

export interface MethodResult {
  method: string;
  lr: number;
  report: TrainableReport;
  /** the tensor bytes of a training step at its peak (weights, grads, AdamW, the tape's activations), the most over the steps */
  peakBytes: number;
  /** wall-clock and process CPU (user + system, every thread) milliseconds per step; cpu is NaN when the host cannot tell */
  msPerStep: number;
  cpuMsPerStep: number;
  metric: number;
  /** dates: the mean cross-entropy of the ISO characters on the test dates (teacher-forced) */
  testLoss?: number;
  losses: number[];
}

type StepCost = Pick<MethodResult, "losses" | "peakBytes" | "msPerStep" | "cpuMsPerStep">;

/**
 * Train the trainable parameters of `model` for `steps` steps with AdamW at `lr` through the shared loop:
 * the loss of each step, the peak tensor bytes of a step and the mean wall and CPU milliseconds per step.
 * `loss(part)` is the loss of this worker's rows of the step's batch (every worker draws the whole batch),
 * weighted so that the workers' mean is the whole batch's (one process: WHOLE, the batch's loss); with workers the
 * peak bytes are this worker's step's, and the model holds the whole trained parameters at the end.
 */
function trainLoop(
  model: Module,
  lr: number,
  steps: number,
  hooks: RecipeHooks,
  loss: (part: Part) => Tensor,
): StepCost {
  const params = model.parameters().filter((p) => p.requiresGrad);
  const opt = new AdamW(params, { lr, betas: [0.9, 0.99], weightDecay: 0 });
  const { driver, part } = driverFor(model, opt, hooks.dataParallel);
  const losses: number[] = [];
  let ms = 0,
    peakBytes = 0;
  const job: TrainingJob<{ loss: number }, Record<string, never>> = {
    step: 0,
    totalSteps: steps,
    trainStep() {
      const l = forwardOnRows(driver, part, () => loss(part)); // dropout: the masks one process draws
      peakBytes = Math.max(peakBytes, stepBytes(model, l).total); // before backward: the tape is whole
      driver.zeroGrad(); // frees the gradients kept in the kernels' memory (a bare p.grad = null would leak them)
      const value = driver.mean(l.item()); // the whole batch's loss
      l.backward();
      driver.reduceGradients(1);
      driver.step();
      (this as { step: number }).step++;
      return { loss: value };
    },
    evalDue: () => false, // each task evaluates once, after the last step
    *evaluate() {
      return {};
    },
  };
  const cpu0 = hooks.cpuTime?.() ?? NaN;
  runLoopSync(job, {
    onStep: (_, m, t) => {
      losses.push(m.loss);
      ms += t;
    },
  });
  const cpu = (hooks.cpuTime?.() ?? NaN) - cpu0; // includes the cost of measuring the tape, a walk over its nodes
  wholeModel(driver, model); // with workers: the whole trained parameters back, for the evaluation
  return { losses, peakBytes, msPerStep: ms / steps, cpuMsPerStep: (1000 * cpu) / steps };
}

/** The modules of `modulesToSave`, comma-separated ("none" or "": none). */
const savedModules = (o: FinetuneCompareOptions): string[] =>
  o.modulesToSave
    .replace(/^none$/, "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

const methodOptions = (
  o: FinetuneCompareOptions,
  method: MethodName,
  r: number,
  save = false,
): Parameters<typeof applyMethod>[2] => ({
  r,
  modulesToSave: save ? savedModules(o) : [],
  ...(method === "lora" ? { targetModules: o.loraTargets.split(",").map((t) => t.trim()) } : {}),
  alpha: o.alpha,
  bottleneck: o.bottleneck,
  numVirtualTokens: o.numVirtualTokens,
  generator: new Generator(o.seed + 3),
});

/** One method on the spam task: test accuracy. */
export function runSpam(
  method: MethodName,
  base: Base,
  train: Email[],
  test: Email[],
  o: FinetuneCompareOptions,
  hooks: RecipeHooks,
  extra: { r?: number } = {},
): MethodResult {
  const ft = applyMethod(method, freshBase(base, o), methodOptions(o, method, extra.r ?? o.r));
  const clf = new LastTokenClassifier(ft.model as unknown as LM, base.config.nEmbd, 2, new Generator(o.seed + 4));
  const order = new Generator(o.seed + 10);
  const lr = learningRates(o.lrs)[method];
  const byClass = [0, 1].map((k) => train.filter((e) => e.label === k)); // balanced: row b draws from class b mod 2
  const draw = (b: number): Email => {
    const pool = o.balanced ? byClass[b % 2]! : train;
    return pool[order.randint(0, pool.length)]!;
  };
  clf.train();
  const cost = trainLoop(clf, lr, o.spamSteps || o.steps, hooks, (part) => {
    const rows = Array.from({ length: o.batchSize }, (_, b) => draw(b));
    const { start, count } = rowsOf(rows.length, part);
    const mine = rows.slice(start, start + count); // a mean over B/N e-mails: no weight
    return F.crossEntropy(
      clf.forward(stackRows(mine.map((r) => r.ids))),
      new Tensor(
        Int32Array.from(mine, (r) => r.label),
        [mine.length],
      ),
    );
  });
  clf.eval();
  let right = 0;
  noGrad(() => {
    for (let i = 0; i < test.length; i += 100) {
      const chunk = test.slice(i, i + 100);
      const pred = clf.forward(stackRows(chunk.map((r) => r.ids))).argmax(-1).storage;
      chunk.forEach((e, b) => {
        if (pred[b] === e.label) right++;
      });
    }
  });
  return { method, lr, report: trainableReport(clf), ...cost, metric: right / test.length };
}

/** One method on the dates task: exact match of greedy decoding on the test dates. */
export function runDates(
  method: MethodName,
  base: Base,
  test: DateRow[],
  o: FinetuneCompareOptions,
  hooks: RecipeHooks,
  extra: { r?: number; save?: boolean } = {},
): MethodResult {
  const ft = applyMethod(method, freshBase(base, o), methodOptions(o, method, extra.r ?? o.r, extra.save));
  const lm = ft.model as unknown as LM;
  const T = o.dateChars;
  const task = datesTask(dateFormatsOf(o.dateFormats));
  const order = new Generator(o.seed + 10);
  const seen = new Set(test.map((r) => r.src));
  const lr = learningRates(o.lrs)[method];
  lm.train();
  const cost = trainLoop(lm, lr, o.steps, hooks, (part) => {
    const rows: DateRow[] = [];
    while (rows.length < o.batchSize) {
      const p = task.sample(order);
      if (!seen.has(p.src)) rows.push(dateRow(p.src, dateAnswer(p.tgt, o.dateAnswer), T, base.chars));
    }
    // the mean over this worker's answer characters (targets ≠ −100), weighted by its share of the batch's
    const targets = stackRows(rows.map((r) => r.targets));
    const { start, count } = rowsOf(rows.length, part);
    const l = lm.forward(myRows(stackRows(rows.map((r) => r.ids)), part), myRows(targets, part)).loss!;
    return weighted(l, tokensIn(targets, -100, start, count), tokensIn(targets, -100), part, () => l);
  });
  lm.eval();
  let exact = 0,
    testLoss = 0;
  noGrad(() => {
    for (let i = 0; i < test.length; i += 100) {
      const chunk = test.slice(i, i + 100);
      const out = lm.forward(stackRows(chunk.map((r) => r.ids)), stackRows(chunk.map((r) => r.targets)));
      testLoss += (out.loss!.item() * chunk.length) / test.length; // every row has as many answer characters
      const pred = out.logits.argmax(-1).storage; // (B·T)
      chunk.forEach((r, b) => {
        let ok = true;
        for (let t = 0; t < T && ok; t++) if (r.targets[t] !== -100 && pred[b * T + t] !== r.targets[t]) ok = false;
        if (ok) exact++;
      });
    }
  });
  const name = extra.save ? `${method} + ${savedModules(o).join(" + ")}` : method;
  return { method: name, lr, report: trainableReport(lm), ...cost, metric: exact / test.length, testLoss };
}

// -----------------------------------------------------------------------------------------------------
// The recipe

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;
const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
const count = (n: number): string => n.toLocaleString("en-US");
const both = (a: number | undefined, b: number | undefined, f: (x: number) => string): string =>
  `${a === undefined ? "—" : f(a)} / ${b === undefined ? "—" : f(b)}`;

function table(rows: { spam?: MethodResult; dates?: MethodResult }[], headWeights: number): string {
  const lines = [
    `| method | trainable parameters | % of the model | AdamW state | peak step memory (spam / dates) | CPU ms/step (spam / dates) | wall ms/step (spam / dates) | spam test accuracy | dates exact match | dates test loss |`,
    `|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
  ];
  for (const { spam, dates } of rows) {
    const r = (dates ?? spam)!;
    lines.push(
      `| ${r.method} (lr ${r.lr}) | ${count(r.report.trainable)} | ${r.report.percent.toFixed(2)}% | ${kb(r.report.optimizerBytes)} | ${both(spam?.peakBytes, dates?.peakBytes, mb)} | ${both(spam?.cpuMsPerStep, dates?.cpuMsPerStep, (x) => x.toFixed(0))} | ${both(spam?.msPerStep, dates?.msPerStep, (x) => x.toFixed(0))} | ${spam ? (100 * spam.metric).toFixed(1) + "%" : "—"} | ${dates ? (100 * dates.metric).toFixed(1) + "%" : "—"} | ${dates ? dates.testLoss!.toFixed(3) : "—"} |`,
    );
  }
  lines.push(
    "",
    `Trainable counts and AdamW state on the dates task (the spam task adds the ${count(headWeights)} parameters of the classification head to each).`,
  );
  return lines.join("\n");
}
export const finetuneCompareRecipe: Recipe<FinetuneCompareOptions> = {
  name: "finetune-compare",
  paper:
    "Full fine-tuning, LoRA (Hu et al. 2021), adapters (Houlsby et al. 2019; Pfeiffer et al. 2021), prefix tuning (Li & Liang 2021), prompt tuning (Lester et al. 2021), BitFit (Ben Zaken et al. 2021), (IA)³ (Liu et al. 2022)",
  trainsOn:
    "a character GPT-2 pretrained on Moby Dick (a wnn train gpt run, or here), then each method on SpamAssassin spam classification and dates → ISO, one step budget",
  needs: ["text", "emails"],
  dataParallel: true, // the base's pretraining and each method on N workers, each on its rows of every batch
  defaults: DEFAULTS,
  help: {
    base: "a run folder of wnn train gpt to fine-tune (its checkpoint and vocabulary); default: pretrain a base here with --n_layer, --n_embd, --base_steps",
    spamSteps: "steps per method on the spam task (0: --steps)",
    dateFormats:
      'the dates task\'s formats: templates of src/data/tasks/dates.ts separated by "|" (e.g. "DD MMM YYYY|DD.MM.YYYY"), or "all" (the 18)',
    balanced: "spam batches of as many spam as ham e-mails (--balanced false: drawn as the split holds them)",
    loraTargets:
      "the Linears LoRA wraps (neutral names, comma-separated; e.g. attn.wq,attn.wk,attn.wv,attn.wo,mlp.up,mlp.down)",
    lrs: 'learning rates replacing the defaults, "method=lr,…" (e.g. "full=3e-4,lora=1e-2")',
    dateAnswer:
      "the dates task's answer: iso (the whole date), month (its two digits: none is in the input) or year (its four digits: all copied from the input)",
    modulesToSave:
      'modules that train beside every method in rows of their own on the dates task (PEFT\'s modules_to_save; e.g. "tokEmb", the embedding tied to the head; "none" for none)',
  },
  run(o: FinetuneCompareOptions, data: RecipeData, hooks: RecipeHooks): RecipeResult {
    if (!data.text || data.text.length < 10_000)
      throw new ArgumentError("finetune-compare: needs the book (RecipeData.text)");
    if (!data.emails || data.emails.length < 100)
      throw new ArgumentError("finetune-compare: needs the SpamAssassin e-mails (RecipeData.emails)");
    if (o.base && !data.checkpoint)
      throw new ArgumentError(
        `finetune-compare: --base ${o.base} given but no checkpoint was read (RecipeData.checkpoint)`,
      );
    const methods = o.methods
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean) as MethodName[];
    for (const m of methods)
      if (!(m in LRS))
        throw new ArgumentError(
          `finetune-compare: unknown method "${m}"; the methods are ${Object.keys(LRS).join(", ")}`,
        );
    const ranks = o.ranks
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)
      .map(Number);

    const base = data.checkpoint ? loadBase(data.checkpoint, data.text, o) : pretrainBase(data.text, o, hooks);
    const window = base.config.blockSize - o.numVirtualTokens;
    if (o.emailChars > window || o.dateChars > window)
      throw new ArgumentError(
        `finetune-compare: emailChars ${o.emailChars} and dateChars ${o.dateChars} must fit the context ${base.config.blockSize} less numVirtualTokens ${o.numVirtualTokens}`,
      );
    hooks.log(
      `base: ${count(base.params)} parameters, vocabulary ${base.chars.size}, ` +
        (data.checkpoint ? `from ${o.base}` : `${o.baseSteps} steps in ${base.seconds.toFixed(0)} s`) +
        `, validation loss ${base.valLoss.toFixed(3)}`,
    );

    const split = stratifiedSplit(emailWindows(data.emails, o.emailChars, base.chars), (e) => e.label, 0.8, o.seed);
    const spamTest = split.val.slice(0, o.testEmails);
    learningRates(o.lrs); // checked before anything trains
    dateAnswer("2000-01-01", o.dateAnswer);
    modulesToSave(freshBase(base, o), savedModules(o));
    const tg = new Generator(o.seed + 20);
    const task = datesTask(dateFormatsOf(o.dateFormats));
    const dateTest: DateRow[] = [];
    const srcs = new Set<string>();
    while (dateTest.length < o.testDates) {
      const p = task.sample(tg);
      if (!srcs.has(p.src)) {
        srcs.add(p.src);
        dateTest.push(dateRow(p.src, dateAnswer(p.tgt, o.dateAnswer), o.dateChars, base.chars));
      }
    }

    const rows: { spam?: MethodResult; dates?: MethodResult }[] = [];
    const metrics: Record<string, number> = {
      "base.params": base.params,
      "base.valLoss": base.valLoss,
      "base.seconds": base.seconds,
    };
    const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
    for (const m of methods) {
      const spam = runSpam(m, base, split.train, spamTest, o, hooks);
      const dates = runDates(m, base, dateTest, o, hooks);
      hooks.log(
        `${m}: ${count(dates.report.trainable)} trainable (${dates.report.percent.toFixed(2)}%), peak ${mb(dates.peakBytes)}, ${dates.cpuMsPerStep.toFixed(0)} CPU ms/step, spam accuracy ${pct(spam.metric)}, dates exact match ${pct(dates.metric)}, dates test loss ${dates.testLoss!.toFixed(3)}`,
      );
      rows.push({ spam, dates });
      metrics[`${m}.trainable`] = dates.report.trainable;
      metrics[`${m}.spamAccuracy`] = spam.metric;
      metrics[`${m}.datesExactMatch`] = dates.metric;
      metrics[`${m}.datesTestLoss`] = dates.testLoss!;
      metrics[`${m}.msPerStep`] = dates.msPerStep;
      metrics[`${m}.cpuMsPerStep`] = dates.cpuMsPerStep;
      metrics[`${m}.peakBytes`] = dates.peakBytes;
      metrics[`${m}.spamPeakBytes`] = spam.peakBytes;
    }
    // every method again with the modules to save training beside it (full fine-tuning trains them already)
    if (savedModules(o).length)
      for (const m of methods.filter((m) => m !== "full")) {
        const dates = runDates(m, base, dateTest, o, hooks, { save: true });
        hooks.log(
          `${dates.method}: ${count(dates.report.trainable)} trainable (${dates.report.percent.toFixed(2)}%), peak ${mb(dates.peakBytes)}, ${dates.cpuMsPerStep.toFixed(0)} CPU ms/step, dates exact match ${pct(dates.metric)}, dates test loss ${dates.testLoss!.toFixed(3)}`,
        );
        rows.push({ dates });
        metrics[`${m}.saved.trainable`] = dates.report.trainable;
        metrics[`${m}.saved.datesExactMatch`] = dates.metric;
        metrics[`${m}.saved.datesTestLoss`] = dates.testLoss!;
        metrics[`${m}.saved.cpuMsPerStep`] = dates.cpuMsPerStep;
        metrics[`${m}.saved.peakBytes`] = dates.peakBytes;
      }
    const sweep: MethodResult[] = [];
    for (const r of ranks) {
      // the main table's LoRA run is the sweep's point at its rank: not trained twice
      const res =
        r === o.r && rows.some((row) => row.dates?.method === "lora")
          ? rows.find((row) => row.dates?.method === "lora")!.dates!
          : runDates("lora", base, dateTest, o, hooks, { r });
      hooks.log(
        `lora r ${r}: ${count(res.report.trainable)} trainable, dates exact match ${pct(res.metric)}, test loss ${res.testLoss!.toFixed(3)}`,
      );
      sweep.push(res);
      metrics[`lora.r${r}.datesExactMatch`] = res.metric;
      metrics[`lora.r${r}.datesTestLoss`] = res.testLoss!;
    }
    const tables: Record<string, string> = { "finetune-compare": table(rows, 2 * base.config.nEmbd + 2) };
    const images: Record<string, Uint8Array> = {};
    if (sweep.length) {
      tables["lora-ranks"] = [
        `| r | trainable parameters | % of the model | AdamW state | dates exact match | dates test loss |`,
        `|---:|---:|---:|---:|---:|---:|`,
        ...sweep.map(
          (s, i) =>
            `| ${ranks[i]} | ${count(s.report.trainable)} | ${s.report.percent.toFixed(2)}% | ${kb(s.report.optimizerBytes)} | ${pct(s.metric)} | ${s.testLoss!.toFixed(3)} |`,
        ),
      ].join("\n");
      images["lora-ranks.png"] = lineChartPng({
        title: "LoRA rank vs dates: exact match (%) and 10 x test loss",
        xLabel: "log2 r",
        yLabel: "",
        series: [
          { name: "exact match %", points: sweep.map((s, i) => [Math.log2(ranks[i]!), 100 * s.metric] as const) },
          { name: "10 x test loss", points: sweep.map((s, i) => [Math.log2(ranks[i]!), 10 * s.testLoss!] as const) },
        ],
      });
    }
    images["dates-loss.png"] = lineChartPng({
      title: "dates: training loss per step",
      xLabel: "step",
      yLabel: "loss",
      series: rows
        .filter((r) => r.dates)
        .map((r) => ({ name: r.dates!.method, points: r.dates!.losses.map((l, i) => [i + 1, l] as const) })),
    });
    return { metrics, tables, images };
  },
};
