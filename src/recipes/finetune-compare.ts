// wnn train finetune-compare: every fine-tuning method on one frozen model and two tasks, one step budget.
//
// 1. The base: a character-level GPT-2 pretrained here on Moby Dick (RecipeData.text), next-token
//    prediction, `baseSteps` AdamW steps; its weights are kept in memory and every method starts from a
//    fresh copy of them.
// 2. Two downstream tasks, each method given the same `steps` × `batchSize`, the same batches in the same
//    order (a fresh Generator(seed + 10) per run) and its own usual learning rate (LRS below):
//    - spam: the SpamAssassin e-mails (RecipeData.emails), seeded stratified 80/20 split; the first
//      `emailChars` characters of each (whitespace squeezed, left-padded with spaces) read by the model and a
//      Linear head on the last position's hidden state (the head trains in every method, as PEFT's
//      modules_to_save does for a classifier): test accuracy on `testEmails` held-out e-mails;
//    - dates: "<a date in one of 14 formats>=<its ISO form>\n" (src/data/tasks/dates), the loss on the
//      ISO characters only: exact match of greedy decoding on `testDates` unseen dates. Greedy decoding gives
//      the reference exactly iff every teacher-forced argmax is right, so one batched forward measures it.
// 3. For each method: trainable parameters (count and % of the model), AdamW state bytes (two float32
//    moments per trainable parameter), training-state bytes (all weights + gradients of the trainable ones +
//    AdamW state), ms per step, and the metric; then the LoRA rank sweep r ∈ `ranks` on the dates task.
//
// Characters: printable ASCII (32…126) and "\n", anything else read as "?": V = 96.

import { noGrad } from "../engine/autograd.js";
import { ArgumentError } from "../engine/errors.js";
import { Generator } from "../engine/rng.js";
import { Tensor } from "../engine/tensor.js";
import { getBatch, stratifiedSplit } from "../data/batch.js";
import { datesTask } from "../data/tasks/dates.js";
import { lineChartPng } from "../io/chart.js";
import { AdamW } from "../optim/adam.js";
import { clipGradNorm } from "../optim/clip.js";
import * as F from "../nn/functional.js";
import { Linear } from "../nn/linear.js";
import { Module, type Parameter } from "../nn/module.js";
import { GPT, gptConfig, type GPTConfig } from "../models/gpt2/model.js";
import type { Recipe, RecipeData, RecipeHooks, RecipeResult } from "./recipe.js";
import { runLoopSync, type TrainingJob } from "./loop.js";
import { trainableReport, type TrainableReport } from "../finetune/common.js";
import { applyMethod, type MethodName } from "../finetune/methods.js";

export type FinetuneCompareOptions = {
  /** the base model: blocks, heads, width, context */
  nLayer: number;
  nHead: number;
  nEmbd: number;
  blockSize: number;
  /** pretraining steps on Moby Dick */
  baseSteps: number;
  baseLr: number;
  /** fine-tuning steps per method and task */
  steps: number;
  batchSize: number;
  /** LoRA rank and α, adapter bottleneck, virtual tokens of prefix and prompt tuning */
  r: number;
  alpha: number;
  bottleneck: number;
  numVirtualTokens: number;
  /** characters of each e-mail read */
  emailChars: number;
  testEmails: number;
  testDates: number;
  /** the LoRA rank sweep on the dates task, comma-separated ("" skips it) */
  ranks: string;
  /** the methods to compare, comma-separated */
  methods: string;
  seed: number;
};

export const DEFAULTS: FinetuneCompareOptions = {
  nLayer: 4, nHead: 4, nEmbd: 64, blockSize: 64, baseSteps: 400, baseLr: 3e-3,
  steps: 80, batchSize: 16, r: 4, alpha: 8, bottleneck: 8, numVirtualTokens: 8,
  emailChars: 48, testEmails: 400, testDates: 200, ranks: "1,2,4,8,16,64",
  methods: "full,lora,adapter,adapter-pfeiffer,prefix,prompt,bitfit,ia3", seed: 0,
};

/** Each method's learning rate: the usual order of magnitude for it (the small methods need larger steps). */
export const LRS: Record<MethodName, number> = {
  full: 1e-3, lora: 5e-3, adapter: 5e-3, "adapter-pfeiffer": 5e-3, prefix: 5e-3, prompt: 3e-2, bitfit: 1e-2, ia3: 3e-2,
};

// -----------------------------------------------------------------------------------------------------
// Characters

export const VOCAB = 96;
const NEWLINE = 95;

/** Printable ASCII → 0…94, "\n" → 95, anything else → "?". */
export function encodeChars(s: string): Int32Array {
  const out = new Int32Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[i] = c === 10 ? NEWLINE : c >= 32 && c <= 126 ? c - 32 : 63 - 32;
  }
  return out;
}

export function decodeChars(ids: ArrayLike<number>): string {
  let s = "";
  for (let i = 0; i < ids.length; i++) s += ids[i] === NEWLINE ? "\n" : String.fromCharCode(ids[i]! + 32);
  return s;
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

function baseConfig(o: FinetuneCompareOptions): GPTConfig {
  return gptConfig({ vocabSize: VOCAB, blockSize: o.blockSize, nLayer: o.nLayer, nHead: o.nHead, nEmbd: o.nEmbd, dropout: 0, bias: true });
}

/** Pretrain the base on the book: returns its weights (copies) and its validation loss. */
export function pretrainBase(text: string, o: FinetuneCompareOptions, hooks: RecipeHooks): { state: Record<string, Tensor>; valLoss: number; seconds: number; params: number } {
  const ids = encodeChars(text);
  const nVal = Math.floor(ids.length / 10);
  const train = ids.subarray(0, ids.length - nVal), val = ids.subarray(ids.length - nVal);
  const model = new GPT(baseConfig(o), { generator: new Generator(o.seed) });
  const opt = new AdamW(model.parameters(), { lr: o.baseLr, betas: [0.9, 0.99], weightDecay: 0 });
  const batches = new Generator(o.seed + 1);
  const t0 = performance.now();
  for (let step = 1; step <= o.baseSteps; step++) {
    const { x, y } = getBatch(train, o.blockSize, o.batchSize, batches);
    const { loss } = model.forward(x, y);
    model.zeroGrad();
    loss!.backward();
    clipGradNorm(model.parameters(), 1);
    opt.step();
    hooks.progress?.(step, o.baseSteps, { loss: loss!.item() });
    if (step % Math.max(1, Math.floor(o.baseSteps / 5)) === 0) hooks.log(`base: step ${step}/${o.baseSteps}, train loss ${loss!.item().toFixed(3)}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const vg = new Generator(o.seed + 2);
  let valLoss = 0;
  noGrad(() => {
    for (let i = 0; i < 8; i++) {
      const { x, y } = getBatch(val, o.blockSize, o.batchSize, vg);
      valLoss += model.forward(x, y).loss!.item() / 8;
    }
  });
  const state = Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, t.clone()]));
  return { state, valLoss, seconds, params: model.numParameters() };
}

/** A fresh copy of the pretrained base. */
function freshBase(state: Record<string, Tensor>, o: FinetuneCompareOptions): GPT {
  const model = new GPT(baseConfig(o), { generator: new Generator(o.seed) });
  model.loadStateDict(state);
  return model;
}

// -----------------------------------------------------------------------------------------------------
// The tasks

export interface Email { ids: Int32Array; label: number }

/** The e-mails as fixed-length character windows: whitespace squeezed, the first n characters, left-padded. */
export function emailWindows(emails: readonly { text: string; label: number }[], n: number): Email[] {
  return emails.map((e) => {
    const s = e.text.replace(/\s+/g, " ").trim().slice(0, n);
    return { ids: encodeChars(s.padStart(n, " ")), label: e.label };
  });
}

function stackRows(rows: readonly Int32Array[]): Tensor {
  const T = rows[0]!.length;
  const data = new Int32Array(rows.length * T);
  rows.forEach((r, i) => data.set(r, i * T));
  return new Tensor(data, [rows.length, T]);
}

export interface DateRow { ids: Int32Array; targets: Int32Array; src: string; tgt: string }

/** "<src>=<YYYY-MM-DD>\n" padded with "\n" to T; targets: the next character on the answer, −100 elsewhere. */
export function dateRow(src: string, tgt: string, T: number): DateRow {
  const full = encodeChars(`${src}=${tgt}\n`);
  if (full.length > T + 1) throw new ArgumentError(`finetune-compare: the date line "${src}=${tgt}" is longer than the context ${T}`);
  const ids = new Int32Array(T).fill(NEWLINE), targets = new Int32Array(T).fill(-100);
  ids.set(full.subarray(0, Math.min(full.length, T)));
  const answerStart = src.length + 1; // the first ISO character's position in `full`
  for (let t = answerStart; t < full.length; t++) targets[t - 1] = full[t]!; // predict full[t] from position t − 1
  return { ids, targets, src, tgt };
}

export interface MethodResult {
  method: string;
  report: TrainableReport;
  /** weights + gradients of the trainable ones + AdamW state, bytes */
  trainingBytes: number;
  msPerStep: number;
  metric: number;
  /** dates: the mean cross-entropy of the ISO characters on the test dates (teacher-forced) */
  testLoss?: number;
  losses: number[];
}

/** Train `params` for `steps` steps with AdamW at `lr` through the shared loop: the loss of each step; the mean ms per step. */
function trainLoop(params: Parameter[], lr: number, steps: number, loss: (step: number) => Tensor): { losses: number[]; msPerStep: number } {
  const opt = new AdamW(params, { lr, betas: [0.9, 0.99], weightDecay: 0 });
  const losses: number[] = [];
  let ms = 0;
  const job: TrainingJob<{ loss: number }, Record<string, never>> = {
    step: 0,
    totalSteps: steps,
    trainStep() {
      const l = loss(this.step);
      for (const p of params) p.grad = null;
      l.backward();
      clipGradNorm(params, 1);
      opt.step();
      (this as { step: number }).step++;
      return { loss: l.item() };
    },
    evalDue: () => false, // each task evaluates once, after the last step
    *evaluate() {
      return {};
    },
  };
  runLoopSync(job, { onStep: (_, m, t) => { losses.push(m.loss); ms += t; } });
  return { losses, msPerStep: ms / steps };
}

function memoryOf(model: Module): { report: TrainableReport; trainingBytes: number } {
  const report = trainableReport(model);
  return { report, trainingBytes: 4 * report.total + 4 * report.trainable + report.optimizerBytes };
}

/** One method on the spam task: test accuracy. */
export function runSpam(method: MethodName, base: Record<string, Tensor>, train: Email[], test: Email[], o: FinetuneCompareOptions, extra: { r?: number } = {}): MethodResult {
  const ft = applyMethod(method, freshBase(base, o), { r: extra.r ?? o.r, alpha: o.alpha, bottleneck: o.bottleneck, numVirtualTokens: o.numVirtualTokens, generator: new Generator(o.seed + 3) });
  const clf = new LastTokenClassifier(ft.model as unknown as LM, o.nEmbd, 2, new Generator(o.seed + 4));
  const params = clf.parameters().filter((p) => p.requiresGrad);
  const order = new Generator(o.seed + 10);
  clf.train();
  const { losses, msPerStep } = trainLoop(params, LRS[method], o.steps, () => {
    const rows = Array.from({ length: o.batchSize }, () => train[order.randint(0, train.length)]!);
    return F.crossEntropy(clf.forward(stackRows(rows.map((r) => r.ids))), new Tensor(Int32Array.from(rows, (r) => r.label), [rows.length]));
  });
  clf.eval();
  let right = 0;
  noGrad(() => {
    for (let i = 0; i < test.length; i += 100) {
      const chunk = test.slice(i, i + 100);
      const pred = clf.forward(stackRows(chunk.map((r) => r.ids))).argmax(-1).storage;
      chunk.forEach((e, b) => { if (pred[b] === e.label) right++; });
    }
  });
  return { method, ...memoryOf(clf), msPerStep, metric: right / test.length, losses };
}

/** One method on the dates task: exact match of greedy decoding on the test dates. */
export function runDates(method: MethodName, base: Record<string, Tensor>, test: DateRow[], o: FinetuneCompareOptions, extra: { r?: number } = {}): MethodResult {
  const ft = applyMethod(method, freshBase(base, o), { r: extra.r ?? o.r, alpha: o.alpha, bottleneck: o.bottleneck, numVirtualTokens: o.numVirtualTokens, generator: new Generator(o.seed + 3) });
  const lm = ft.model as unknown as LM;
  const T = o.blockSize - o.numVirtualTokens;
  const task = datesTask();
  const order = new Generator(o.seed + 10);
  const seen = new Set(test.map((r) => r.src));
  lm.train();
  const { losses, msPerStep } = trainLoop(ft.trainable.map(([, p]) => p), LRS[method], o.steps, () => {
    const rows: DateRow[] = [];
    while (rows.length < o.batchSize) {
      const p = task.sample(order);
      if (!seen.has(p.src)) rows.push(dateRow(p.src, p.tgt, T));
    }
    return lm.forward(stackRows(rows.map((r) => r.ids)), stackRows(rows.map((r) => r.targets))).loss!;
  });
  lm.eval();
  let exact = 0, testLoss = 0;
  noGrad(() => {
    for (let i = 0; i < test.length; i += 100) {
      const chunk = test.slice(i, i + 100);
      const out = lm.forward(stackRows(chunk.map((r) => r.ids)), stackRows(chunk.map((r) => r.targets)));
      testLoss += (out.loss!.item() * chunk.length) / test.length; // every row has the same 11 answer characters
      const pred = out.logits.argmax(-1).storage; // (B·T)
      chunk.forEach((r, b) => {
        let ok = true;
        for (let t = 0; t < T && ok; t++) if (r.targets[t] !== -100 && pred[b * T + t] !== r.targets[t]) ok = false;
        if (ok) exact++;
      });
    }
  });
  return { method, ...memoryOf(lm), msPerStep, metric: exact / test.length, testLoss, losses };
}

// -----------------------------------------------------------------------------------------------------
// The recipe

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;
const count = (n: number): string => n.toLocaleString("en-US");

function table(rows: { spam?: MethodResult; dates?: MethodResult }[], o: FinetuneCompareOptions): string {
  const lines = [
    `| method | trainable parameters | % of the model | AdamW state | weights + grads + AdamW | ms/step (spam / dates) | spam test accuracy | dates exact match | dates test loss |`,
    `|---|---:|---:|---:|---:|---:|---:|---:|---:|`,
  ];
  for (const { spam, dates } of rows) {
    const r = (dates ?? spam)!;
    lines.push(`| ${r.method} (lr ${LRS[r.method as MethodName]}) | ${count(r.report.trainable)} | ${r.report.percent.toFixed(2)}% | ${kb(r.report.optimizerBytes)} | ${kb(r.trainingBytes)} | ${spam ? spam.msPerStep.toFixed(0) : "—"} / ${dates ? dates.msPerStep.toFixed(0) : "—"} | ${spam ? (100 * spam.metric).toFixed(1) + "%" : "—"} | ${dates ? (100 * dates.metric).toFixed(1) + "%" : "—"} | ${dates ? dates.testLoss!.toFixed(3) : "—"} |`);
  }
  lines.push("", `Trainable counts on the dates task (the spam task adds the ${count(o.nEmbd * 2 + 2)} parameters of the classification head to each).`);
  return lines.join("\n");
}

export const finetuneCompareRecipe: Recipe<FinetuneCompareOptions> = {
  name: "finetune-compare",
  paper: "Full fine-tuning, LoRA (Hu et al. 2021), adapters (Houlsby et al. 2019; Pfeiffer et al. 2021), prefix tuning (Li & Liang 2021), prompt tuning (Lester et al. 2021), BitFit (Ben Zaken et al. 2021), (IA)³ (Liu et al. 2022)",
  trainsOn: "a character GPT-2 pretrained on Moby Dick, then each method on SpamAssassin spam classification and dates → ISO, one step budget",
  needs: ["text", "emails"],
  defaults: DEFAULTS,
  run(o: FinetuneCompareOptions, data: RecipeData, hooks: RecipeHooks): RecipeResult {
    if (!data.text || data.text.length < 10_000) throw new ArgumentError("finetune-compare: needs the book (RecipeData.text)");
    if (!data.emails || data.emails.length < 100) throw new ArgumentError("finetune-compare: needs the SpamAssassin e-mails (RecipeData.emails)");
    const methods = o.methods.split(",").map((s) => s.trim()).filter(Boolean) as MethodName[];
    for (const m of methods) if (!(m in LRS)) throw new ArgumentError(`finetune-compare: unknown method "${m}"; the methods are ${Object.keys(LRS).join(", ")}`);
    const ranks = o.ranks.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
    if (o.emailChars + o.numVirtualTokens > o.blockSize) throw new ArgumentError(`finetune-compare: emailChars ${o.emailChars} + numVirtualTokens ${o.numVirtualTokens} exceed the context ${o.blockSize}`);

    const base = pretrainBase(data.text, o, hooks);
    hooks.log(`base: ${count(base.params)} parameters, ${o.baseSteps} steps in ${base.seconds.toFixed(0)} s, validation loss ${base.valLoss.toFixed(3)}`);

    const split = stratifiedSplit(emailWindows(data.emails, o.emailChars), (e) => e.label, 0.8, o.seed);
    const spamTest = split.val.slice(0, o.testEmails);
    const tg = new Generator(o.seed + 20);
    const task = datesTask();
    const T = o.blockSize - o.numVirtualTokens;
    const dateTest: DateRow[] = [];
    const srcs = new Set<string>();
    while (dateTest.length < o.testDates) {
      const p = task.sample(tg);
      if (!srcs.has(p.src)) {
        srcs.add(p.src);
        dateTest.push(dateRow(p.src, p.tgt, T));
      }
    }

    const rows: { spam?: MethodResult; dates?: MethodResult }[] = [];
    const metrics: Record<string, number> = { "base.params": base.params, "base.valLoss": base.valLoss, "base.seconds": base.seconds };
    for (const m of methods) {
      const spam = runSpam(m, base.state, split.train, spamTest, o);
      const dates = runDates(m, base.state, dateTest, o);
      hooks.log(`${m}: ${count(dates.report.trainable)} trainable (${dates.report.percent.toFixed(2)}%), spam accuracy ${(100 * spam.metric).toFixed(1)}%, dates exact match ${(100 * dates.metric).toFixed(1)}%, dates test loss ${dates.testLoss!.toFixed(3)}`);
      rows.push({ spam, dates });
      metrics[`${m}.trainable`] = dates.report.trainable;
      metrics[`${m}.spamAccuracy`] = spam.metric;
      metrics[`${m}.datesExactMatch`] = dates.metric;
      metrics[`${m}.datesTestLoss`] = dates.testLoss!;
      metrics[`${m}.msPerStep`] = dates.msPerStep;
    }
    const sweep: MethodResult[] = [];
    for (const r of ranks) {
      const res = runDates("lora", base.state, dateTest, o, { r });
      hooks.log(`lora r ${r}: ${count(res.report.trainable)} trainable, dates exact match ${(100 * res.metric).toFixed(1)}%, test loss ${res.testLoss!.toFixed(3)}`);
      sweep.push(res);
      metrics[`lora.r${r}.datesExactMatch`] = res.metric;
      metrics[`lora.r${r}.datesTestLoss`] = res.testLoss!;
    }
    const tables: Record<string, string> = { "finetune-compare": table(rows, o) };
    const images: Record<string, Uint8Array> = {};
    if (sweep.length) {
      tables["lora-ranks"] = [
        `| r | trainable parameters | % of the model | dates exact match | dates test loss |`, `|---:|---:|---:|---:|---:|`,
        ...sweep.map((s, i) => `| ${ranks[i]} | ${count(s.report.trainable)} | ${s.report.percent.toFixed(2)}% | ${(100 * s.metric).toFixed(1)}% | ${s.testLoss!.toFixed(3)} |`),
      ].join("\n");
      images["lora-ranks.png"] = lineChartPng({
        title: "LoRA rank vs the dates test loss", xLabel: "log2 r", yLabel: "test loss",
        series: [{ name: "dates test loss", points: sweep.map((s, i) => [Math.log2(ranks[i]!), s.testLoss!] as const) }],
      });
    }
    images["dates-loss.png"] = lineChartPng({
      title: "dates: training loss per step", xLabel: "step", yLabel: "loss",
      series: rows.filter((r) => r.dates).map((r) => ({ name: r.dates!.method, points: r.dates!.losses.map((l, i) => [i + 1, l] as const) })),
    });
    return { metrics, tables, images };
  },
};
