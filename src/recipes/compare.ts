// `wnn compare`'s browser-safe half: the architecture table of some models of the zoo (from their
// describe(), src/models/architecture.ts), and the training of one of them on a task it shares with its
// siblings — the same data, seed, step budget and protocol for every model (the CLI runs each in its own
// process, to measure its time and peak memory alone, and puts the results side by side).
//
// The tasks and their protocols:
//   names  — English first names, character by character (tasks/names.ts): AdamW lr 5e-3, weight decay
//            0.01, gradient norm clipped to 1, `steps` batches of `batchSize` names drawn from the seed
//            (the same batches for every model), as names-compare does; metric: validation nats/char.
//   mnist  — the mnist package's digits (mnist.ts): `steps` minibatches of `batchSize` digits in a seeded
//            order (a new permutation every pass), Adam at the lr of the model's recipe with a cosine
//            decay to 0 over the steps; metric: accuracy on the 2,000 test digits (eval mode).
//   dates  — human-written dates → ISO 8601 (data/tasks/dates.ts): `steps` batches of `batchSize` pairs from
//            one seeded stream (a held-out set of testLimit or 200 distinct sources never trained on), each
//            model with its recipe's optimizer — the GRU seq2seq models Adam lr 3e-3 and clipping at 1, the
//            Transformer Adam (0.9, 0.98) with the warmup + inverse-square-root schedule (warmup 100, factor
//            0.5) and label smoothing 0.1; metric: exact match of greedy decoding on the held-out set.
//   graphs — the seeded stochastic block model of graphs.ts (160 nodes, 4 communities): `steps` full-batch
//            epochs, each model with its paper's settings (graphs.ts setup()); metric: test accuracy at
//            the epoch of best validation accuracy.

import { ArgumentError } from "../engine/errors.js";
import { Generator, manualSeed } from "../engine/rng.js";
import * as F from "../nn/functional.js";
import { Adam } from "../optim/adam.js";
import { CosineAnnealingLR } from "../optim/schedulers.js";
import { stochasticBlockModel } from "../data/graphs.js";
import { formatKinds, type Architecture } from "../models/architecture.js";
import { trainOnGraph } from "./graphs.js";
import { evaluate, mnistBatch, permutation } from "./mnist.js";
import type { RecipeData, RecipeHooks } from "./recipe.js";
import { namesTask } from "../data/tasks/names.js";
import { trainOnNames } from "./names.js";
import { entryName, type TaskName, type ZooEntry } from "../models/zoo.js";
import type { Tensor } from "../engine/tensor.js";
import { datesTask } from "../data/tasks/dates.js";
import { BOS, EOS, PAD, distinctPairs, makeBatch, type Pair, type Seq2SeqTask } from "../data/tasks/seq.js";
import { exactMatch } from "../data/tasks/metrics.js";
import { clipGradNorm } from "../optim/clip.js";
import { LambdaLR, inverseSqrtWarmup } from "../optim/schedulers.js";
import {
  greedyDecode as seq2seqGreedy,
  PRESETS as SEQ2SEQ_PRESETS,
  Seq2Seq,
  seq2seqConfig,
} from "../models/seq2seq-attention/model.js";
import { greedyDecode as transformerGreedy, Transformer, transformerConfig } from "../models/transformer/model.js";
import { ConvS2S, convS2SConfig, greedyDecode as convs2sGreedy } from "../models/convs2s/model.js";
import { withEos, withSharedVocab } from "../models/transformer/recipe.js";
import { ZooTrainer, defaultTaskOf, defaultsOf, kindOf, type ZooStep, type ZooTask } from "./zoo-train.js";
import { runLoopSync, type Metrics, type TrainingJob } from "./loop.js";
import { runSteps } from "./steps.js";

// =====================================================================================================
// The architecture table

/** The rows of the architecture table: a label and how each model's Architecture fills it. */
export const ARCHITECTURE_ROWS: readonly (readonly [string, (a: Architecture) => string])[] = [
  ["model", (a) => a.title],
  ["config", (a) => a.config],
  [
    "parameters",
    (a) =>
      a.parameters.toLocaleString("en-US") +
      (a.activeParameters === undefined ? "" : ` (${a.activeParameters.toLocaleString("en-US")} active per token)`),
  ],
  ["layers (with parameters)", (a) => formatKinds(a.layers)],
  ["normalisation", (a) => a.normalization],
  ["positions", (a) => a.positions],
  ["attention", (a) => a.attention],
  ["activation", (a) => a.activation],
  ["forward FLOPs", (a) => `${a.flops.value.toLocaleString("en-US")} per ${a.flops.per} (${a.flops.at})`],
];

/** A markdown table, its columns padded to one width so that it also reads as plain text. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [header, ...rows].map((r) => r.map((c) => c.replace(/\|/g, "\\|")));
  // the width a terminal gives a cell: its characters, combining marks (the tilde of D̃) taking none
  const width = (c: string): number => [...c.replace(/\p{M}/gu, "")].length;
  const widths = header.map((_, j) => Math.max(3, ...cells.map((r) => width(r[j] ?? ""))));
  const line = (r: readonly string[]): string =>
    `| ${r.map((c, j) => c + " ".repeat(widths[j]! - width(c))).join(" | ")} |`;
  return [line(cells[0]!), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...cells.slice(1).map(line)].join(
    "\n",
  );
}

/** The architecture table of some models: one column per model, one row per fact. */
export function architectureTable(entries: readonly ZooEntry[]): string {
  const archs = entries.map((e) => e.preset.describe());
  return markdownTable(
    ["", ...entries.map(entryName)],
    ARCHITECTURE_ROWS.map(([label, cell]) => [label, ...archs.map(cell)]),
  );
}

// =====================================================================================================
// Training on a shared task

export interface TaskOptions {
  /** optimizer steps (graphs: full-batch epochs) */
  steps: number;
  /** examples per step (names, digits; graphs: ignored, full batch) */
  batchSize: number;
  /** the seed of the weights, the batches and the samples */
  seed: number;
  /** MNIST: evaluate on the first testLimit test digits only (0: all 2,000) */
  testLimit?: number;
}

export interface TaskInfo {
  readonly title: string;
  /** which RecipeData fields the task needs */
  readonly needs: readonly (keyof RecipeData)[];
  /** the metric's name, and which way is better */
  readonly metric: string;
  readonly better: "lower" | "higher";
  /** what the task runs when no budget is given */
  readonly defaults: { readonly steps: number; readonly batchSize: number };
}

export const TASKS: Readonly<Record<TaskName, TaskInfo>> = {
  names: {
    title: "English first names (validation split of tasks/names.ts)",
    needs: ["words"],
    metric: "val loss (nats/char)",
    better: "lower",
    defaults: { steps: 400, batchSize: 32 },
  },
  mnist: {
    title: "MNIST digits (the mnist package: 8,000 train / 2,000 test)",
    needs: ["mnist"],
    metric: "test accuracy (%)",
    better: "higher",
    defaults: { steps: 250, batchSize: 64 },
  },
  graphs: {
    title: "node classification on the seeded stochastic block model (160 nodes)",
    needs: [],
    metric: "test accuracy (%)",
    better: "higher",
    defaults: { steps: 300, batchSize: 1 },
  },
  dates: {
    title: "human-written dates → ISO 8601 (data/tasks/dates.ts)",
    needs: [],
    metric: "exact match (%)",
    better: "higher",
    defaults: { steps: 600, batchSize: 32 },
  },
};

/** The default tasks of the models' kinds (zoo-train.ts) that no preset declares: siblings without a shared preset task train on these. */
export type DefaultOnlyTask = Exclude<ZooTask, TaskName>;
export type CompareTask = TaskName | DefaultOnlyTask;
export const DEFAULT_TASKS: Readonly<Record<DefaultOnlyTask, TaskInfo>> = {
  "moby-dick": {
    title: "Moby Dick, characters (the tiny presets; wnn train <decoder>'s task)",
    needs: ["text"],
    metric: "val loss (nats/char)",
    better: "lower",
    defaults: { steps: 200, batchSize: 12 },
  },
  mlm: {
    title: "masked LM on Moby Dick, characters (the tiny presets; wnn train <encoder>'s task)",
    needs: ["text"],
    metric: "held-out MLM loss (nats/masked char)",
    better: "lower",
    defaults: { steps: 200, batchSize: 16 },
  },
};
export const taskInfo = (t: CompareTask): TaskInfo =>
  Object.hasOwn(TASKS, t) ? TASKS[t as TaskName] : DEFAULT_TASKS[t as DefaultOnlyTask];

/**
 * Train a model on its kind's default task (src/recipes/zoo-train.ts: the tiny preset, the task's optimizer and
 * schedule) with the shared loop, evaluated once at the end: the protocol of `wnn train <model>`, with the
 * comparison's steps, batch and seed.
 */
export function trainOnDefaultTask(
  entry: ZooEntry,
  task: CompareTask,
  o: TaskOptions,
  data: RecipeData,
  hooks: RecipeHooks,
): TaskResult {
  const name = entry.model.name;
  if (defaultTaskOf(name) !== task) throw new ArgumentError(`compare: ${name} does not train on the ${task} task`);
  const kind = kindOf(name),
    d = defaultsOf(name);
  const evalSize =
    kind === "encoder-decoder" ? o.testLimit || d.evalSize : kind === "vision" ? (o.testLimit ?? 0) : d.evalSize;
  const t = new ZooTrainer(
    name,
    { steps: o.steps, batchSize: o.batchSize, lr: d.lr, evalEvery: o.steps, evalSize, seed: o.seed },
    data,
  );
  // evaluate at the end only
  const job: TrainingJob<ZooStep, Metrics> = {
    get step() {
      return t.step;
    },
    totalSteps: t.totalSteps,
    trainStep: () => t.trainStep(),
    evalDue: () => t.step === t.totalSteps && t.lastEval !== t.step,
    evaluate: () => t.evaluate(),
  };
  let ms = 0,
    metrics: Metrics = {};
  const logStep = stepLogger(o, hooks);
  runLoopSync(job, {
    onStep: (step, r, stepMs) => logStep(step, r.loss, (ms += stepMs) / 1000),
    onEval: (_step, m) => void (metrics = m),
  });
  const metric =
    kind === "encoder-decoder" ? 100 * metrics.exactMatch! : kind === "vision" ? 100 * metrics.accuracy! : metrics.val!;
  const note =
    kind === "decoder"
      ? `train loss ${metrics.train!.toFixed(4)}`
      : kind === "encoder-decoder"
        ? `${evalSize} held-out dates; ${t.answer(["March 3, 1999"])[0]} for "March 3, 1999"`
        : "";
  return {
    model: entryName(entry),
    task: task as TaskName,
    parameters: t.model.numParameters(),
    steps: o.steps,
    trainSeconds: ms / 1000,
    metric,
    note,
  };
}

export interface TaskResult {
  model: string;
  task: TaskName;
  parameters: number;
  steps: number;
  /** seconds in training steps, evaluation left out */
  trainSeconds: number;
  /** the task's metric (TASKS[task].metric) */
  metric: number;
  /** a few words more: samples (names), the chosen epoch (graphs) */
  note: string;
}

/** The progress and the four log lines of a comparison's training (step, loss, seconds in training so far). */
function stepLogger(o: TaskOptions, hooks: RecipeHooks): (step: number, loss: number, seconds: number) => void {
  return (step, l, seconds) => {
    hooks.progress?.(step, o.steps, { loss: l });
    if (step % Math.max(1, Math.ceil(o.steps / 4)) === 0 || step === o.steps)
      hooks.log(`step ${step}/${o.steps}: loss ${l.toFixed(4)} (${seconds.toFixed(1)} s)`);
  };
}

/** Train one model of the zoo on its task, as the protocol at the top of this file says. */
export function trainOnTask(entry: ZooEntry, o: TaskOptions, data: RecipeData, hooks: RecipeHooks): TaskResult {
  const t = entry.preset.train;
  if (!t) throw new ArgumentError(`compare: ${entryName(entry)} has no shared task to train on`);
  if (!(Number.isInteger(o.steps) && o.steps >= 1))
    throw new ArgumentError(`compare: steps must be a positive integer, got ${o.steps}`);
  if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1))
    throw new ArgumentError(`compare: batchSize must be a positive integer, got ${o.batchSize}`);
  const model = entryName(entry);
  manualSeed(o.seed); // anything drawn from the default generator (dropout without a generator of its own)
  if (t.task === "names") {
    if (!data.words) throw new ArgumentError("compare: the names task needs data.words (loadNames())");
    const task = namesTask(data.words, { seed: o.seed });
    const net = t.build(task, new Generator(o.seed));
    const r = trainOnNames(
      net,
      task,
      {
        steps: o.steps,
        batchSize: o.batchSize,
        lr: 5e-3,
        evalEvery: Math.max(1, Math.ceil(o.steps / 4)),
        clip: 1,
        seed: o.seed,
        samples: 5,
      },
      hooks.log,
    );
    return {
      model,
      task: "names",
      parameters: r.params,
      steps: o.steps,
      trainSeconds: r.seconds,
      metric: r.valLoss,
      note: r.samples.join(", "),
    };
  }
  if (t.task === "mnist") {
    if (!data.mnist) throw new ArgumentError("compare: the mnist task needs data.mnist (loadMnist())");
    const { train } = data.mnist;
    const limit = o.testLimit ?? 0;
    const test =
      limit > 0
        ? {
            images: data.mnist.test.images.subarray(0, limit * 784),
            labels: data.mnist.test.labels.subarray(0, limit),
            count: Math.min(limit, data.mnist.test.count),
          }
        : data.mnist.test;
    const g = new Generator(o.seed);
    const net = t.build(g);
    const optimizer = new Adam(net.parameters(), { lr: t.lr });
    const scheduler = new CosineAnnealingLR(optimizer, { tMax: o.steps });
    const logStep = stepLogger(o, hooks);
    let order = permutation(train.count, g),
      at = 0,
      seconds = 0;
    net.train();
    // steps minibatches in a seeded order (a new one every pass) on the shared loop (steps.ts), evaluated after
    runSteps(
      o.steps,
      () => {
        if (at + o.batchSize > train.count) [order, at] = [permutation(train.count, g), 0]; // a new pass, in a new order
        const { x, y } = mnistBatch(train, order, at, o.batchSize);
        at += o.batchSize;
        optimizer.zeroGrad();
        const loss = F.crossEntropy(net.forward(x), y); // ()
        loss.backward();
        optimizer.step();
        scheduler.step();
        return { loss: loss.item() };
      },
      (s, { loss: l }, ms) => logStep(s, l, (seconds += ms / 1000)),
    );
    const { accuracy, loss } = evaluate(net, test);
    return {
      model,
      task: "mnist",
      parameters: net.numParameters(),
      steps: o.steps,
      trainSeconds: seconds,
      metric: 100 * accuracy,
      note: `test loss ${loss.toFixed(4)} on ${test.count} digits`,
    };
  }
  if (t.task === "dates") return trainOnDates(entry, o, hooks);
  // graphs: the graph is fixed by graphs.ts's default seed; the model's seed changes its weights and dropout
  const graph = stochasticBlockModel({ generator: 0 });
  const r = trainOnGraph(t.model, graph, o.seed, o.steps);
  hooks.log(
    `${model}: test accuracy ${(100 * r.testAccuracy).toFixed(1)}% at epoch ${r.epoch} (val ${(100 * r.valAccuracy).toFixed(1)}%)`,
  );
  return {
    model,
    task: "graphs",
    parameters: r.parameters,
    steps: o.steps,
    trainSeconds: r.seconds,
    metric: 100 * r.testAccuracy,
    note: `epoch ${r.epoch} chosen (val ${(100 * r.valAccuracy).toFixed(1)}%)`,
  };
}

/** The dates task: one stream of examples and one held-out set for every model, each with its recipe's optimizer. */
function trainOnDates(entry: ZooEntry, o: TaskOptions, hooks: RecipeHooks): TaskResult {
  const t = entry.preset.train!;
  if (t.task !== "dates") throw new ArgumentError(`compare: ${entryName(entry)} does not train on dates`);
  // the Transformer shares one embedding between source and target: one vocabulary for both (the same pairs)
  const task: Seq2SeqTask = t.model === "transformer" ? withSharedVocab(datesTask()) : datesTask();
  const test = distinctPairs(task, o.testLimit || 200, new Generator(o.seed + 3));
  const heldOut = new Set(test.map((p) => p.src));
  const stream = new Generator(o.seed + 2);
  const nextBatch = (): Pair[] => {
    const pairs: Pair[] = [];
    while (pairs.length < o.batchSize) {
      const p = task.sample(stream);
      if (!heldOut.has(p.src)) pairs.push(p);
    }
    return pairs;
  };
  let step: () => number, decode: (pairs: readonly Pair[]) => string[], parameters: number;
  if (t.model === "seq2seq" || t.model === "convs2s") {
    // ConvS2S is trained as the GRU is (Adam 3e-3, the gradient norm clipped at 1; src/recipes/convs2s-compare.ts)
    const g = new Generator(o.seed + 1),
      vocab = { srcVocab: task.srcVocab.size, tgtVocab: task.tgtVocab.size };
    const model =
      t.model === "seq2seq"
        ? new Seq2Seq(seq2seqConfig(SEQ2SEQ_PRESETS.dates, { ...vocab, attention: t.attention }), { generator: g })
        : new ConvS2S(convS2SConfig("dates", vocab), { generator: g });
    const opt = new Adam(model.parameters(), { lr: 3e-3 });
    parameters = model.numParameters();
    step = () => {
      const b = makeBatch(task, nextBatch());
      model.zeroGrad();
      const { loss } = model.forward(b.src, b.tgtIn, b.tgtOut);
      loss!.backward();
      clipGradNorm(model.parameters(), 1.0);
      opt.step();
      return loss!.item();
    };
    const greedy = (src: Tensor): number[][] =>
      (model instanceof Seq2Seq ? seq2seqGreedy(model, src, task.maxTgtLen) : convs2sGreedy(model, src, task.maxTgtLen))
        .tokens;
    decode = (pairs) => greedy(makeBatch(task, pairs).src).map((ids) => task.join(task.tgtVocab.decode(ids)));
  } else {
    const config = transformerConfig("tiny", { vocabSize: task.srcVocab.size, padId: PAD });
    const model = new Transformer(config, { generator: new Generator(o.seed + 1) });
    const opt = new Adam(model.parameters(), { lr: 0.5, betas: [0.9, 0.98], eps: 1e-9 });
    const sched = new LambdaLR(opt, inverseSqrtWarmup({ dModel: config.dModel, warmupSteps: 100 }));
    parameters = model.numParameters();
    step = () => {
      const b = withEos(makeBatch(task, nextBatch()));
      model.zeroGrad();
      const { loss } = model.forward(b.src, b.tgtIn, b.tgtOut);
      loss!.backward();
      opt.step();
      sched.step();
      return loss!.item();
    };
    decode = (pairs) =>
      transformerGreedy(model, withEos(makeBatch(task, pairs)).src, {
        bosId: BOS,
        eosId: EOS,
        maxLen: task.maxTgtLen + 1,
      }).map((ids) => task.join(task.tgtVocab.decode(ids)));
  }
  let seconds = 0;
  const logStep = stepLogger(o, hooks);
  runSteps(
    o.steps,
    () => ({ loss: step() }),
    (s, { loss: l }, ms) => logStep(s, l, (seconds += ms / 1000)),
  );
  const hyps: string[] = [];
  for (let i = 0; i < test.length; i += 100) hyps.push(...decode(test.slice(i, i + 100)));
  const refs = test.map((p) => p.tgt);
  const wrong = test.findIndex((p, i) => hyps[i] !== p.tgt);
  return {
    model: entryName(entry),
    task: "dates",
    parameters,
    steps: o.steps,
    trainSeconds: seconds,
    metric: 100 * exactMatch(hyps, refs),
    note: `${test.length} held-out dates${wrong >= 0 ? `; e.g. ${test[wrong]!.src} → ${hyps[wrong]}` : ""}`,
  };
}
