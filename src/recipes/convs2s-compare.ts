// wnn train convs2s-compare: recurrence against convolution for sequence to sequence — the GRU encoder-decoder
// with Bahdanau's attention (src/models/seq2seq-attention) and ConvS2S, convolutions with an attention in every
// decoder layer (src/models/convs2s) — on the same tasks, data and budget.
// The protocol, one for both: per task, the same stream of length-bucketed batches (src/data/tasks/seq.ts
// bucketedBatches) from one seed, `steps` Adam steps at `lr` with the gradient norm clipped at 1 (the
// seq2seq-attention recipe's settings), the weights from one seed; then greedy decoding of a held-out set
// (sources never trained on): exact match and token accuracy. Time per step is the training steps' own
// (forward, backward, update), as the process's CPU time (user + system, src/recipes/clock.ts) and wall time.
// Each (model, task) run is a job of the shared training loop (src/recipes/loop.ts).
// Tasks: dates (human-written dates → ISO 8601) and reversal (minLen…maxLen tokens of 20, reversed).
// Outputs: the comparison table, the loss curves per task, and the attention of one held-out example: the
// GRU's one map, ConvS2S's one map per decoder layer.

import { ArgumentError } from "../engine/errors.js";
import { Generator } from "../engine/rng.js";
import type { Tensor } from "../engine/tensor.js";
import type { Module } from "../nn/module.js";
import { heatmapPng, lineChartPng } from "../io/chart.js";
import { Adam } from "../optim/adam.js";
import { datesTask } from "../data/tasks/dates.js";
import { reversalTask } from "../data/tasks/reversal.js";
import {
  bucketedBatches,
  distinctPairs,
  makeBatch,
  type Pair,
  type Seq2SeqBatch,
  type Seq2SeqTask,
} from "../data/tasks/seq.js";
import type { Recipe, RecipeData, RecipeHooks, RecipeResult } from "./recipe.js";
import { runLoopSync, type TrainingJob } from "./loop.js";
import { timed } from "./clock.js";
import {
  driverFor,
  forwardOnRows,
  myRows,
  rowsOf,
  tokensIn,
  weighted,
  wholeModel,
  type DataParallelHook,
  type Part,
  type StepDriver,
} from "./data-parallel-job.js";
import * as gru from "../models/seq2seq-attention/model.js";
import * as convs2s from "../models/convs2s/model.js";

export interface ConvS2SCompareOptions extends Record<string, number | string | boolean> {
  /** comma-separated: dates, reversal */
  tasks: string;
  /** comma-separated keys of CONTENDERS */
  models: string;
  /** optimizer steps per model and task */
  steps: number;
  batch: number;
  lr: number;
  /** held-out examples per task */
  testSize: number;
  /** reversal: the shortest and longest sequence */
  minLen: number;
  maxLen: number;
  seed: number;
}

/** A trained-on-teacher-forcing model as the comparison sees it. */
interface Seq2SeqModel {
  module: Module;
  loss(b: Seq2SeqBatch): Tensor;
  /** greedy decoding: each row's tokens, and its attention maps (one per attention layer, steps × S) */
  decode(src: Tensor, maxLen: number): { tokens: number[][]; attention: number[][][][] };
}

export interface Contender {
  key: string;
  name: string;
  build(task: Seq2SeqTask, taskName: string, generator: Generator): Seq2SeqModel;
}

export const CONTENDERS: readonly Contender[] = [
  {
    key: "gru",
    name: "GRU + Bahdanau",
    build: (task, taskName, generator) => {
      const config = gru.seq2seqConfig(taskName === "dates" ? "dates" : "reversal", {
        srcVocab: task.srcVocab.size,
        tgtVocab: task.tgtVocab.size,
        attention: "bahdanau",
      });
      const model = new gru.Seq2Seq(config, { generator });
      return {
        module: model,
        loss: (b) => model.forward(b.src, b.tgtIn, b.tgtOut).loss!,
        decode: (src, maxLen) => {
          const { tokens, attention } = gru.greedyDecode(model, src, maxLen);
          return { tokens, attention: attention.map((a) => [a]) };
        },
      };
    },
  },
  {
    key: "convs2s",
    name: "ConvS2S",
    build: (task, taskName, generator) => {
      const config = convs2s.convS2SConfig(taskName === "dates" ? "dates" : "reversal", {
        srcVocab: task.srcVocab.size,
        tgtVocab: task.tgtVocab.size,
      });
      const model = new convs2s.ConvS2S(config, { generator });
      return {
        module: model,
        loss: (b) => model.forward(b.src, b.tgtIn, b.tgtOut).loss!,
        decode: (src, maxLen) => convs2s.greedyDecode(model, src, maxLen),
      };
    },
  },
];

type Scores = { exact: number; token: number };

/** One model on one task as a job of the shared loop; its evaluation decodes the held-out set, 100 at a time. */
class Seq2SeqJob implements TrainingJob<{ loss: number }, Scores> {
  step = 0;
  readonly totalSteps: number;
  readonly model: Seq2SeqModel;
  readonly time = { wallMs: 0, cpuMs: 0 };
  /** per held-out example: the decoded string and its attention maps */
  outputs: { text: string; attention: number[][][] }[] = [];
  result: Scores | null = null;
  private readonly opt: Adam;
  private readonly nextBatch: () => Pair[];
  /** one process, or worker r of N on rows [r·B/N, (r+1)·B/N) of every batch */
  private readonly driver: StepDriver;
  private readonly part: Part;

  constructor(
    readonly c: Contender,
    readonly task: Seq2SeqTask,
    readonly taskName: string,
    readonly test: readonly Pair[],
    o: ConvS2SCompareOptions,
    dataParallel?: DataParallelHook,
  ) {
    this.totalSteps = o.steps;
    this.model = c.build(task, taskName, new Generator(o.seed + 1));
    this.opt = new Adam(this.model.module.parameters(), { lr: o.lr });
    ({ driver: this.driver, part: this.part } = driverFor(this.model.module, this.opt, dataParallel));
    // the same stream of batches for every model (held-out sources never trained on)
    this.nextBatch = bucketedBatches(
      task,
      new Generator(o.seed + 2),
      o.batch,
      new Set(test.map((p) => p.src)),
      (src) => src.length,
    );
  }

  trainStep(): { loss: number } {
    const loss = timed(this.time, () => {
      const b = makeBatch(this.task, this.nextBatch());
      const { driver, part } = this;
      driver.zeroGrad();
      // a worker's rows keep the whole batch's padding; its mean over its target tokens is weighted by its share
      const { start, count } = rowsOf(b.src.shape[0]!, part);
      const loss = forwardOnRows(driver, part, () => {
        const mine = { src: myRows(b.src, part), tgtIn: myRows(b.tgtIn, part), tgtOut: myRows(b.tgtOut, part) };
        const l = this.model.loss(mine); // ()
        return weighted(l, tokensIn(b.tgtOut, 0, start, count), tokensIn(b.tgtOut, 0), part, () => l);
      });
      const value = driver.mean(loss.item()); // the whole batch's mean loss
      loss.backward();
      driver.reduceGradients(1.0);
      driver.step();
      return value;
    });
    this.step++;
    return { loss };
  }

  evalDue(): boolean {
    return this.step === this.totalSteps && this.result === null;
  }

  *evaluate(): globalThis.Generator<void, Scores, void> {
    wholeModel(this.driver, this.model.module); // with workers: the whole trained parameters back, for decoding
    for (let i = 0; i < this.test.length; i += 100) {
      const chunk = this.test.slice(i, i + 100);
      const { tokens, attention } = this.model.decode(makeBatch(this.task, chunk).src, this.task.maxTgtLen);
      tokens.forEach((t, b) =>
        this.outputs.push({ text: this.task.join(this.task.tgtVocab.decode(t)), attention: attention[b]! }),
      );
      yield;
    }
    let exact = 0,
      right = 0,
      total = 0;
    this.test.forEach((p, i) => {
      const want = this.task.split(p.tgt),
        got = this.task.split(this.outputs[i]!.text);
      if (this.outputs[i]!.text === p.tgt) exact++;
      want.forEach((w, k) => (right += got[k] === w ? 1 : 0));
      total += want.length;
    });
    this.result = { exact: exact / this.test.length, token: right / total };
    return this.result;
  }
}

function makeTask(name: string, o: ConvS2SCompareOptions): Seq2SeqTask {
  if (name === "dates") return datesTask();
  if (name === "reversal") return reversalTask({ vocab: 20, minLen: o.minLen, maxLen: o.maxLen });
  throw new ArgumentError(`convs2s-compare: unknown task "${name}"; the tasks are dates, reversal`);
}

const pct = (x: number): string => (100 * x).toFixed(1);
const list = (s: string): string[] =>
  s
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k);

export const convs2sCompareRecipe: Recipe<ConvS2SCompareOptions> = {
  name: "convs2s-compare",
  paper:
    "Gehring et al. 2017 (ConvS2S) https://arxiv.org/abs/1705.03122; Bahdanau et al. 2015 https://arxiv.org/abs/1409.0473",
  trainsOn:
    "synthetic: human-written dates → ISO, and reversal of minLen…maxLen tokens; a GRU with Bahdanau attention against ConvS2S",
  needs: [],
  defaults: Object.freeze({
    tasks: "dates,reversal",
    models: CONTENDERS.map((c) => c.key).join(","),
    steps: 600,
    batch: 32,
    lr: 3e-3,
    testSize: 500,
    minLen: 5,
    maxLen: 30,
    seed: 0,
  }),
  help: {
    maxLen: "reversal: the longest sequence (ConvS2S's reversal preset has positions for 48)",
    minLen: "reversal: the shortest sequence",
  },
  dataParallel: true, // each model on N workers, each on its rows of every batch

  run(options: ConvS2SCompareOptions, _data: RecipeData, hooks: RecipeHooks, _generator: Generator): RecipeResult {
    const o = { ...this.defaults, ...options };
    for (const k of ["steps", "batch", "testSize"] as const) {
      if (!Number.isInteger(o[k]) || o[k] < 1)
        throw new ArgumentError(`convs2s-compare: ${k} must be a positive integer, got ${o[k]}`);
    }
    if (!(o.lr > 0)) throw new ArgumentError(`convs2s-compare: lr must be > 0, got ${o.lr}`);
    const chosen = list(String(o.models)).map((k) => {
      const c = CONTENDERS.find((x) => x.key === k);
      if (!c)
        throw new ArgumentError(
          `convs2s-compare: unknown model "${k}"; the models are ${CONTENDERS.map((x) => x.key).join(", ")}`,
        );
      return c;
    });
    const tasks = list(String(o.tasks)).map((name) => ({ name, task: makeTask(name, o) }));
    if (chosen.length === 0 || tasks.length === 0) throw new ArgumentError("convs2s-compare: no models or no tasks");

    const rows: string[] = [],
      metrics: Record<string, number> = { steps: o.steps, batch: o.batch };
    const images: Record<string, Uint8Array> = {};
    const samples: string[] = [];
    for (const { name, task } of tasks) {
      const test = distinctPairs(task, o.testSize, new Generator(o.seed + 3));
      hooks.log(
        `convs2s-compare on ${name}: ${chosen.map((c) => c.name).join(", ")}; ${o.steps} steps of ${o.batch}, ${test.length} held-out examples`,
      );
      const jobs = chosen.map((c) => {
        const job = new Seq2SeqJob(c, task, name, test, o, hooks.dataParallel);
        const curve: [number, number][] = [];
        let window = 0,
          last = NaN;
        const every = Math.max(1, Math.ceil(o.steps / 30));
        runLoopSync(job, {
          onStep: (step, { loss }) => {
            window += loss;
            last = loss;
            hooks.progress?.(step, o.steps, { loss });
            if (step % every === 0) {
              curve.push([step, window / every]);
              window = 0;
            }
            if (step % 100 === 0 || step === o.steps)
              hooks.log(
                `  ${c.name} (${name}): step ${step}/${o.steps} loss ${loss.toFixed(4)} (${(job.time.cpuMs / 1000).toFixed(1)} s CPU)`,
              );
          },
        });
        const r = job.result!;
        const key = `${name}.${c.key}`;
        metrics[`${key}.exactMatch`] = r.exact;
        metrics[`${key}.tokenAccuracy`] = r.token;
        metrics[`${key}.cpuMsPerStep`] = job.time.cpuMs / o.steps;
        metrics[`${key}.wallMsPerStep`] = job.time.wallMs / o.steps;
        metrics[`${key}.parameters`] = job.model.module.numParameters();
        metrics[`${key}.finalLoss`] = last; // the last step's training loss
        hooks.log(
          `${c.name} (${name}): exact match ${pct(r.exact)}%, token accuracy ${pct(r.token)}%, ${(job.time.cpuMs / o.steps).toFixed(0)} CPU ms/step`,
        );
        rows.push(
          `| ${name} | ${c.name} | ${job.model.module.numParameters().toLocaleString("en-US")} | ${(job.time.cpuMs / o.steps).toFixed(0)} | ${(job.time.wallMs / o.steps).toFixed(0)} | ${pct(r.exact)}% | ${pct(r.token)}% |`,
        );
        for (let i = 0; i < Math.min(3, test.length); i++)
          samples.push(
            `${name} ${c.name}: ${test[i]!.src} → ${job.outputs[i]!.text}${job.outputs[i]!.text === test[i]!.tgt ? "" : `   (want ${test[i]!.tgt})`}`,
          );
        return { job, curve };
      });
      images[`${name}-loss.png`] = lineChartPng({
        title: `${name}: training loss`,
        xLabel: "step",
        yLabel: `cross-entropy (mean of ${Math.max(1, Math.ceil(o.steps / 30))} steps)`,
        series: jobs.map(({ job, curve }) => ({ name: job.c.name, points: curve })),
      });
      // the attention of one long held-out example: the GRU's map, ConvS2S's map of every decoder layer
      const lengths = test.map((p) => task.split(p.src).length);
      const pick = Math.max(
        0,
        lengths.findIndex((n) => n >= Math.min(Math.max(...lengths), name === "dates" ? 20 : 16)),
      );
      const srcSymbols = task.split(test[pick]!.src).map((s) => (s === " " ? "_" : s));
      for (const { job } of jobs) {
        const out = job.outputs[pick]!;
        const outSymbols = [...task.split(out.text), "<eos>"].map((s) => (s === " " ? "_" : s));
        out.attention.forEach((att, l) => {
          const suffix = out.attention.length > 1 ? `-layer${l + 1}` : "";
          images[`${name}-attention-${job.c.key}${suffix}.png`] = heatmapPng({
            title: `${job.c.name}${suffix ? ` layer ${l + 1}` : ""}: ${test[pick]!.src}`,
            values: att.map((row) => row.slice(0, srcSymbols.length)),
            rowLabels: outSymbols.slice(0, att.length),
            colLabels: srcSymbols,
          });
        });
      }
    }
    const table = [
      "| task | model | parameters | CPU ms / step | wall ms / step | exact match | token accuracy |",
      "|---|---|---:|---:|---:|---:|---:|",
      ...rows,
    ].join("\n");
    return { metrics, tables: { "convs2s-compare.md": table }, images, samples };
  },
};
