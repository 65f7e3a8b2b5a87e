// The seq2seq recipe: train the attention-free, Bahdanau and Luong decoders on one synthetic task with
// the same seed, data stream and step budget, then compare them on a held-out set.
//   wnn train seq2seq-attention --task dates    (the CLI wiring is the lead's; see README for the script)
//
// Returns: exact match on the held-out set per model, exact match and token accuracy against the input
// length (a markdown table and a line chart, one line per model), the training-loss curves, and an
// attention heatmap of one held-out sample per attention model. Browser-safe: no files, no Node.

import { ArgumentError } from "../../engine/errors.js";
import { Generator } from "../../engine/rng.js";
import { heatmapPng, lineChartPng } from "../../io/chart.js";
import { Adam } from "../../optim/adam.js";
import { datesTask } from "../../data/tasks/dates.js";
import { reversalTask } from "../../data/tasks/reversal.js";
import { bucketedBatches, distinctPairs, makeBatch, type Pair, type Seq2SeqTask } from "../../data/tasks/seq.js";
import { runSteps } from "../../recipes/steps.js";
import {
  driverFor,
  forwardOnRows,
  myRows,
  rowsOf,
  tokensIn,
  weighted,
  wholeModel,
} from "../../recipes/data-parallel-job.js";
import type { Recipe, RecipeData, RecipeHooks, RecipeResult } from "../../recipes/recipe.js";
import { ATTENTION_KINDS, greedyDecode, PRESETS, Seq2Seq, seq2seqConfig, type AttentionKind } from "./model.js";

export interface Seq2SeqRecipeOptions extends Record<string, number | string | boolean> {
  /** "dates" (human formats → ISO) or "reversal" (5…40 random tokens → reversed) */
  task: string;
  /** comma-separated attention kinds to train, or "all" */
  models: string;
  /** optimizer steps per model */
  steps: number;
  batch: number;
  lr: number;
  /** 0: the task's preset (PRESETS.dates / PRESETS.reversal) */
  hidden: number;
  embDim: number;
  attnDim: number;
  /** held-out examples (never seen in training) */
  testSize: number;
  /** the seed of the data stream, the held-out set and the initial weights (the same for every model) */
  seed: number;
  /** the width of a length bucket in the accuracy-vs-length table */
  bucket: number;
  /** reversal only: the shortest and longest sequence */
  minLen: number;
  maxLen: number;
}

const DEFAULTS: Readonly<Seq2SeqRecipeOptions> = Object.freeze({
  task: "dates",
  models: "all",
  steps: 600,
  batch: 32,
  lr: 3e-3,
  hidden: 0,
  embDim: 0,
  attnDim: 0,
  testSize: 1000,
  seed: 0,
  bucket: 0,
  minLen: 5,
  maxLen: 40,
});

/** The model of one attention kind after training, with what the comparison reports. */
interface Trained {
  kind: AttentionKind;
  model: Seq2Seq;
  seconds: number;
  losses: [number, number][];
  /** per held-out example: the decoded string and its attention (steps × S) */
  outputs: { text: string; attention: number[][] }[];
}

function makeTask(name: string, o: Seq2SeqRecipeOptions): Seq2SeqTask {
  if (name === "dates") return datesTask();
  if (name === "reversal") return reversalTask({ vocab: 20, minLen: o.minLen, maxLen: o.maxLen });
  throw new ArgumentError(`seq2seq recipe: unknown task "${name}"; the tasks are dates, reversal`);
}

function parseModels(models: string): AttentionKind[] {
  if (models === "all") return [...ATTENTION_KINDS];
  const kinds = models.split(",").map((s) => s.trim()) as AttentionKind[];
  for (const k of kinds)
    if (!ATTENTION_KINDS.includes(k))
      throw new ArgumentError(
        `seq2seq recipe: unknown model "${k}"; the models are ${ATTENTION_KINDS.join(", ")}, all`,
      );
  return kinds;
}

/** Train one model on the task's seeded stream (held-out sources rejected); evaluate it greedily. */
function trainOne(
  kind: AttentionKind,
  task: Seq2SeqTask,
  test: readonly Pair[],
  o: Seq2SeqRecipeOptions,
  hooks: RecipeHooks,
): Trained {
  const preset = o.task === "dates" ? PRESETS.dates : PRESETS.reversal;
  const config = seq2seqConfig(preset, {
    srcVocab: task.srcVocab.size,
    tgtVocab: task.tgtVocab.size,
    attention: kind,
    ...(o.hidden ? { hidden: o.hidden } : {}),
    ...(o.embDim ? { embDim: o.embDim } : {}),
    ...(o.attnDim ? { attnDim: o.attnDim } : {}),
  });
  const model = new Seq2Seq(config, { generator: new Generator(o.seed + 1) });
  const opt = new Adam(model.parameters(), { lr: o.lr });
  // one process, or worker r of N (hooks.dataParallel): rows [r·B/N, (r+1)·B/N) of every batch
  const { driver, part } = driverFor(model, opt, hooks.dataParallel);
  const data = new Generator(o.seed + 2); // the same stream of examples for every model
  const heldOut = new Set(test.map((p) => p.src));
  const losses: [number, number][] = [];
  const t0 = performance.now();
  let smooth = NaN;
  const next = bucketedBatches(task, data, o.batch, heldOut, (src) => src.length);
  // o.steps steps on the shared loop (src/recipes/steps.ts), the held-out set decoded after them
  runSteps(
    o.steps,
    () => {
      const batch = makeBatch(task, next());
      driver.zeroGrad();
      // a worker's rows keep the whole batch's padding (the encoder masks it, but the sums over the source would
      // run over other lengths); its mean over its target tokens is weighted by its share of the batch's tokens
      const { start, count } = rowsOf(batch.src.shape[0]!, part);
      const loss = forwardOnRows(driver, part, () => {
        const l = model.forward(myRows(batch.src, part), myRows(batch.tgtIn, part), myRows(batch.tgtOut, part)).loss!;
        return weighted(l, tokensIn(batch.tgtOut, 0, start, count), tokensIn(batch.tgtOut, 0), part, () => l);
      });
      const value = driver.mean(loss.item()); // the whole batch's mean loss
      loss.backward();
      driver.reduceGradients(1.0);
      driver.step();
      return { loss: value };
    },
    (s, { loss: l }) => {
      smooth = Number.isNaN(smooth) ? l : 0.95 * smooth + 0.05 * l;
      losses.push([s, l]);
      hooks.progress?.(s, o.steps, { loss: l });
      if (s % 100 === 0 || s === o.steps)
        hooks.log(
          `${kind}: step ${s}/${o.steps} loss ${smooth.toFixed(4)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
        );
    },
  );
  const seconds = (performance.now() - t0) / 1000;
  wholeModel(driver, model); // with workers: the whole trained parameters back, for decoding
  const outputs: Trained["outputs"] = [];
  for (let i = 0; i < test.length; i += 100) {
    const chunk = test.slice(i, i + 100);
    const { tokens, attention } = greedyDecode(model, makeBatch(task, chunk).src, task.maxTgtLen);
    tokens.forEach((t, b) => outputs.push({ text: task.join(task.tgtVocab.decode(t)), attention: attention[b]! }));
  }
  return { kind, model, seconds, losses, outputs };
}

/** Exact match and per-position token accuracy of one model on a subset of the held-out examples. */
function score(
  task: Seq2SeqTask,
  test: readonly Pair[],
  outputs: Trained["outputs"],
  which: readonly number[],
): { exact: number; token: number } {
  let exact = 0,
    right = 0,
    total = 0;
  for (const i of which) {
    const want = task.split(test[i]!.tgt),
      got = task.split(outputs[i]!.text);
    if (outputs[i]!.text === test[i]!.tgt) exact++;
    want.forEach((w, k) => (right += got[k] === w ? 1 : 0));
    total += want.length;
  }
  return { exact: which.length ? exact / which.length : NaN, token: total ? right / total : NaN };
}

const pct = (x: number): string => (Number.isNaN(x) ? "–" : (100 * x).toFixed(1));

export const recipe: Recipe<Seq2SeqRecipeOptions> = {
  name: "seq2seq-attention",
  paper:
    "Bahdanau et al. 2015 https://arxiv.org/abs/1409.0473; Luong et al. 2015 https://arxiv.org/abs/1508.04025; Cho et al. 2014 https://arxiv.org/abs/1406.1078",
  trainsOn: "synthetic: human-written dates → ISO, or reversal of minLen…maxLen (5…40) tokens",
  needs: [],
  defaults: DEFAULTS,
  dataParallel: true, // each model on N workers, each on its rows of every batch

  // The generator argument is not used: the data stream, the held-out set and each model's initial weights
  // come from generators seeded by `seed`, so that every model sees the same examples in the same order
  // whether it is trained alone or after the others.
  run(options: Seq2SeqRecipeOptions, _data: RecipeData, hooks: RecipeHooks, _generator: Generator): RecipeResult {
    const o = { ...DEFAULTS, ...options };
    for (const k of ["steps", "batch", "testSize"] as const) {
      if (!Number.isInteger(o[k]) || o[k] < 1)
        throw new ArgumentError(`seq2seq recipe: ${k} must be a positive integer, got ${o[k]}`);
    }
    if (!(o.lr > 0)) throw new ArgumentError(`seq2seq recipe: lr must be > 0, got ${o.lr}`);
    const task = makeTask(o.task, o);
    const kinds = parseModels(o.models);
    const test = distinctPairs(task, o.testSize, new Generator(o.seed + 3));
    hooks.log(
      `seq2seq on ${task.name}: ${kinds.join(", ")}; ${o.steps} steps of ${o.batch}, ${test.length} held-out examples`,
    );

    const trained = kinds.map((k) => trainOne(k, task, test, o, hooks));

    // -- exact match overall and against the input length
    const metrics: Record<string, number> = {};
    const all = test.map((_, i) => i);
    for (const t of trained) {
      const s = score(task, test, t.outputs, all);
      metrics[`${t.kind}.exactMatch`] = s.exact;
      metrics[`${t.kind}.tokenAccuracy`] = s.token;
      metrics[`${t.kind}.seconds`] = t.seconds;
      metrics[`${t.kind}.parameters`] = t.model.numParameters();
      const tail = t.losses.slice(-50);
      metrics[`${t.kind}.finalLoss`] = tail.reduce((a, [, l]) => a + l, 0) / tail.length;
      hooks.log(
        `${t.kind}: exact match ${pct(s.exact)}%, token accuracy ${pct(s.token)}%, ${t.seconds.toFixed(0)} s, ${t.model.numParameters()} parameters`,
      );
    }
    const lengths = test.map((p) => task.split(p.src).length);
    const width = o.bucket || (task.name === "dates" ? 4 : 5);
    const lo = Math.min(...lengths),
      hi = Math.max(...lengths);
    const buckets: { from: number; to: number; which: number[] }[] = [];
    for (let from = lo; from <= hi; from += width) {
      const to = Math.min(hi, from + width - 1);
      const which = all.filter((i) => lengths[i]! >= from && lengths[i]! <= to);
      if (which.length) buckets.push({ from, to, which });
    }
    const header = `| input length | n | ${trained.map((t) => `${t.kind} exact / token %`).join(" | ")} |`;
    const rule = `|---|---|${trained.map(() => "---").join("|")}|`;
    const rows = buckets.map(
      (b) =>
        `| ${b.from}–${b.to} | ${b.which.length} | ${trained
          .map((t) => {
            const s = score(task, test, t.outputs, b.which);
            return `${pct(s.exact)} / ${pct(s.token)}`;
          })
          .join(" | ")} |`,
    );
    const total = `| all | ${test.length} | ${trained.map((t) => `**${pct(metrics[`${t.kind}.exactMatch`]!)}** / ${pct(metrics[`${t.kind}.tokenAccuracy`]!)}`).join(" | ")} |`;
    const tables = { accuracyByLength: [header, rule, ...rows, total].join("\n") };

    const images: Record<string, Uint8Array> = {};
    images["accuracy-vs-length.png"] = lineChartPng({
      title: `${task.name}: exact match vs input length`,
      xLabel: "input length (bucket middle)",
      yLabel: "exact match %",
      yRange: [0, 100],
      series: trained.map((t) => ({
        name: t.kind,
        points: buckets.map(
          (b) => [(b.from + b.to) / 2, 100 * score(task, test, t.outputs, b.which).exact] as [number, number],
        ),
      })),
    });
    images["loss.png"] = lineChartPng({
      title: `${task.name}: training loss`,
      xLabel: "step",
      yLabel: "cross-entropy (mean of 20 steps)",
      series: trained.map((t) => ({
        name: t.kind,
        points: t.losses
          .filter(([s]) => s % 20 === 0)
          .map(([s]) => [s, t.losses.slice(s - 20, s).reduce((a, [, l]) => a + l, 0) / 20] as [number, number]),
      })),
    });

    // -- an attention heatmap of one held-out example (a long one) per attention model
    const longest = Math.max(...lengths);
    const pick = all.find((i) => lengths[i]! >= Math.min(longest, task.name === "dates" ? 20 : 24))!;
    const srcSymbols = task.split(test[pick]!.src);
    for (const t of trained) {
      const att = t.outputs[pick]!.attention;
      if (att.length === 0) continue;
      const outSymbols = [...task.split(t.outputs[pick]!.text), "<eos>"].slice(0, att.length);
      images[`attention-${t.kind}.png`] = heatmapPng({
        title: `${t.kind}: ${test[pick]!.src.length > 40 ? test[pick]!.src.slice(0, 37) + "..." : test[pick]!.src}`,
        values: att.map((row) => row.slice(0, srcSymbols.length)),
        rowLabels: outSymbols.map((s) => (s === " " ? "_" : s)),
        colLabels: srcSymbols.map((s) => (s === " " ? "_" : s)),
      });
    }
    const samples = trained.flatMap((t) =>
      test
        .slice(0, 5)
        .map(
          (p, i) =>
            `${t.kind}: ${p.src} → ${t.outputs[i]!.text}${t.outputs[i]!.text === p.tgt ? "" : `   (want ${p.tgt})`}`,
        ),
    );
    return { metrics, tables, images, samples };
  },
};
