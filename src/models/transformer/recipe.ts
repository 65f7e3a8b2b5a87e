// The Transformer recipe: train the encoder-decoder on a synthetic task with the paper's optimizer (Adam,
// β = (0.9, 0.98), ε = 1e-9), its warmup + inverse-square-root schedule and label smoothing 0.1, then
// decode a held-out set greedily and with beam search (beam 4, α = 0.6) and report exact match and
// corpus BLEU (sacrebleu's definition).
//   wnn train transformer --task dates | --task translation    (the CLI wiring is the lead's; see README)
//
// Returns: the metrics, a table of greedy vs beam, the training loss and learning-rate curves, and the
// attention heatmaps of one held-out example (encoder self-attention, decoder self-attention and
// cross-attention of the last layers, averaged over the heads). Browser-safe: no files, no Node.

import { noGrad } from "../../engine/autograd.js";
import { tensor } from "../../engine/creation.js";
import { ArgumentError } from "../../engine/errors.js";
import { Generator } from "../../engine/rng.js";
import { heatmapPng, lineChartPng } from "../../io/chart.js";
import { Adam } from "../../optim/adam.js";
import { LambdaLR, inverseSqrtWarmup } from "../../optim/schedulers.js";
import { datesTask } from "../../data/tasks/dates.js";
import { translationTask } from "../../data/tasks/translation.js";
import {
  BOS,
  EOS,
  PAD,
  SymbolVocab,
  bucketedBatches,
  distinctPairs,
  makeBatch,
  type Pair,
  type Seq2SeqTask,
} from "../../data/tasks/seq.js";
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
import { corpusBleu, exactMatch } from "../../data/tasks/metrics.js";
import type { Recipe, RecipeData, RecipeHooks, RecipeResult } from "../../recipes/recipe.js";
import { moduleClassPolicy } from "../../nn/checkpoint.js";
import {
  beamSearch,
  DecoderBlock,
  EncoderBlock,
  greedyDecode,
  MultiHeadAttention,
  Transformer,
  transformerConfig,
} from "./model.js";

export interface TransformerRecipeOptions extends Record<string, number | string | boolean> {
  /** "dates" (human formats → ISO, characters) or "translation" (the invented languages, words) */
  task: string;
  /** optimizer steps */
  steps: number;
  /** examples per step */
  batch: number;
  /** the schedule's warmup steps */
  warmup: number;
  /** the base lr that multiplies the schedule d^−0.5·min(s^−0.5, s·w^−1.5) (the paper: 1) */
  lrFactor: number;
  dModel: number;
  nHead: number;
  dFF: number;
  /** encoder layers = decoder layers */
  layers: number;
  dropout: number;
  labelSmoothing: number;
  /** held-out examples (never seen in training) */
  testSize: number;
  /** beam size and length penalty α of the beam-search evaluation */
  beam: number;
  alpha: number;
  /** the seed of the data stream, the held-out set and the initial weights */
  seed: number;
}

const DEFAULTS: Readonly<TransformerRecipeOptions> = Object.freeze({
  task: "dates",
  steps: 1500,
  batch: 32,
  warmup: 100,
  lrFactor: 0.5,
  dModel: 64,
  nHead: 4,
  dFF: 128,
  layers: 2,
  dropout: 0.1,
  labelSmoothing: 0.1,
  testSize: 200,
  beam: 4,
  alpha: 0.6,
  seed: 0,
});

/** The task with one vocabulary on both sides (the paper's shared source/target embedding needs one id space). */
export function withSharedVocab(task: Seq2SeqTask): Seq2SeqTask {
  const shared = new SymbolVocab([...task.srcVocab.symbols, ...task.tgtVocab.symbols]);
  return { ...task, srcVocab: shared, tgtVocab: shared };
}

function makeTask(name: string): Seq2SeqTask {
  if (name === "dates") return withSharedVocab(datesTask());
  if (name === "translation") return withSharedVocab(translationTask());
  throw new ArgumentError(`transformer recipe: unknown task "${name}"; the tasks are dates, translation`);
}

const pct = (x: number): string => (100 * x).toFixed(1);

export const recipe: Recipe<TransformerRecipeOptions> = {
  name: "transformer",
  paper: "Vaswani et al. 2017, Attention Is All You Need, https://arxiv.org/abs/1706.03762",
  trainsOn: "synthetic: human-written dates → ISO, or a translation between two invented languages (SVO → SOV)",
  needs: [],
  defaults: DEFAULTS,
  dataParallel: true, // on N workers, each on its rows of every batch (dropout: the masks one process draws)

  run(options: TransformerRecipeOptions, _data: RecipeData, hooks: RecipeHooks, _generator: Generator): RecipeResult {
    const o = { ...DEFAULTS, ...options };
    for (const k of ["steps", "batch", "warmup", "testSize", "beam", "layers"] as const) {
      if (!Number.isInteger(o[k]) || o[k] < 1)
        throw new ArgumentError(`transformer recipe: ${k} must be a positive integer, got ${o[k]}`);
    }
    if (!(o.lrFactor > 0)) throw new ArgumentError(`transformer recipe: lrFactor must be > 0, got ${o.lrFactor}`);
    const task = makeTask(o.task);
    const test = distinctPairs(task, o.testSize, new Generator(o.seed + 3));
    const heldOut = new Set(test.map((p) => p.src));
    const longest = Math.max(...test.map((p) => task.split(p.src).length)) + 8;
    const config = transformerConfig("tiny", {
      vocabSize: task.srcVocab.size,
      maxLen: Math.max(longest, task.maxTgtLen + 2),
      nEncoderLayer: o.layers,
      nDecoderLayer: o.layers,
      nHead: o.nHead,
      dModel: o.dModel,
      dFF: o.dFF,
      dropout: o.dropout,
      labelSmoothing: o.labelSmoothing,
      padId: PAD,
    });
    const model = new Transformer(config, { generator: new Generator(o.seed + 1) });
    hooks.log(
      `transformer on ${task.name}: ${model.numParameters()} parameters (V ${config.vocabSize}, C ${config.dModel}, ${o.layers}+${o.layers} layers, ${config.nHead} heads, d_ff ${config.dFF}); ${o.steps} steps of ${o.batch}, warmup ${o.warmup}`,
    );

    // Adam with β = (0.9, 0.98), ε = 1e-9 (§5.3); lr(s) = lrFactor·d^−0.5·min(s^−0.5, s·w^−1.5)
    const opt = new Adam(model.parameters(), { lr: o.lrFactor, betas: [0.9, 0.98], eps: 1e-9 });
    const sched = new LambdaLR(opt, inverseSqrtWarmup({ dModel: config.dModel, warmupSteps: o.warmup }));
    // one process, or worker r of N (hooks.dataParallel): rows [r·B/N, (r+1)·B/N) of every batch, with the
    // dropout masks one process draws for those rows (data-parallel-job.ts forwardOnRows)
    // (FSDP: each encoder and decoder block a unit of its own, as PyTorch's transformer_auto_wrap_policy)
    const { driver, part } = driverFor(model, opt, hooks.dataParallel, {
      blocks: moduleClassPolicy(EncoderBlock, DecoderBlock),
      log: hooks.log,
    });
    const data = new Generator(o.seed + 2);
    const losses: [number, number][] = [],
      lrs: [number, number][] = [];
    let smooth = NaN;
    const t0 = performance.now();
    const next = bucketedBatches(task, data, o.batch, heldOut, (src) => task.split(src).length);
    // o.steps steps on the shared loop (src/recipes/steps.ts), the held-out set decoded after them
    runSteps(
      o.steps,
      () => {
        const batch = withEos(makeBatch(task, next()));
        const lr = opt.paramGroups[0]!.lr;
        driver.zeroGrad();
        // a worker's rows keep the whole batch's padding; its mean over its target tokens is weighted by its share
        const { start, count } = rowsOf(batch.src.shape[0]!, part);
        const loss = forwardOnRows(driver, part, () => {
          const l = model.forward(myRows(batch.src, part), myRows(batch.tgtIn, part), myRows(batch.tgtOut, part)).loss!;
          return weighted(l, tokensIn(batch.tgtOut, PAD, start, count), tokensIn(batch.tgtOut, PAD), part, () => l);
        });
        const value = driver.mean(loss.item()); // the whole batch's mean loss
        loss.backward();
        driver.reduceGradients();
        driver.step(); // (sharded: the lr of opt's group copied)
        sched.step();
        return { loss: value, lr };
      },
      (s, { loss: l, lr }) => {
        lrs.push([s, lr]);
        smooth = Number.isNaN(smooth) ? l : 0.95 * smooth + 0.05 * l;
        losses.push([s, l]);
        hooks.progress?.(s, o.steps, { loss: l });
        if (s % 50 === 0 || s === o.steps)
          hooks.log(
            `step ${s}/${o.steps} loss ${smooth.toFixed(4)} lr ${lr.toExponential(2)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
          );
      },
    );
    const trainSeconds = (performance.now() - t0) / 1000;
    wholeModel(driver, model); // with workers: the whole trained parameters back, for decoding

    // -- greedy and beam decoding of the held-out set
    const refs = test.map((p) => p.tgt);
    const decode = (beam: boolean): { hyps: string[]; seconds: number } => {
      const t = performance.now();
      const hyps: string[] = [];
      for (let i = 0; i < test.length; i += 50) {
        const src = withEos(makeBatch(task, test.slice(i, i + 50))).src;
        const opts = { bosId: BOS, eosId: EOS, maxLen: task.maxTgtLen + 1 };
        const tokens = beam
          ? beamSearch(model, src, { ...opts, beamSize: o.beam, lengthPenalty: o.alpha }).tokens
          : greedyDecode(model, src, opts);
        for (const t of tokens) hyps.push(task.join(task.tgtVocab.decode(t)));
      }
      return { hyps, seconds: (performance.now() - t) / 1000 };
    };
    const greedy = decode(false),
      beamed = decode(true);
    const metrics: Record<string, number> = {
      parameters: model.numParameters(),
      trainSeconds,
      finalLoss: losses.slice(-50).reduce((a, [, l]) => a + l, 0) / Math.min(50, losses.length),
      "greedy.exactMatch": exactMatch(greedy.hyps, refs),
      "greedy.bleu": corpusBleu(greedy.hyps, [refs]).score,
      "greedy.seconds": greedy.seconds,
      "beam.exactMatch": exactMatch(beamed.hyps, refs),
      "beam.bleu": corpusBleu(beamed.hyps, [refs]).score,
      "beam.seconds": beamed.seconds,
    };
    hooks.log(
      `greedy: exact match ${pct(metrics["greedy.exactMatch"]!)}%, BLEU ${metrics["greedy.bleu"]!.toFixed(2)}; beam ${o.beam} (α ${o.alpha}): exact match ${pct(metrics["beam.exactMatch"]!)}%, BLEU ${metrics["beam.bleu"]!.toFixed(2)}`,
    );
    const tables = {
      results: [
        `| ${task.name} (${test.length} held-out) | exact match % | BLEU | decode s |`,
        "|---|---|---|---|",
        `| greedy | ${pct(metrics["greedy.exactMatch"]!)} | ${metrics["greedy.bleu"]!.toFixed(2)} | ${greedy.seconds.toFixed(1)} |`,
        `| beam ${o.beam}, α ${o.alpha} | ${pct(metrics["beam.exactMatch"]!)} | ${metrics["beam.bleu"]!.toFixed(2)} | ${beamed.seconds.toFixed(1)} |`,
      ].join("\n"),
    };

    // -- pictures: loss, learning rate, attention of one long held-out example
    const images: Record<string, Uint8Array> = {};
    images["loss.png"] = lineChartPng({
      title: `transformer on ${task.name}: training loss`,
      xLabel: "step",
      yLabel: "label-smoothed cross-entropy (mean of 10 steps)",
      series: [
        {
          name: "train",
          points: losses
            .filter(([s]) => s % 10 === 0)
            .map(([s]) => [s, losses.slice(s - 10, s).reduce((a, [, l]) => a + l, 0) / 10] as [number, number]),
        },
      ],
    });
    images["lr.png"] = lineChartPng({
      title: `lr = ${o.lrFactor} * min(1/sqrt(s), s/w**1.5)/sqrt(d), d ${config.dModel}, w ${o.warmup}`,
      xLabel: "step",
      yLabel: "learning rate",
      series: [{ name: "lr", points: lrs }],
    });
    const lengths = test.map((p) => task.split(p.src).length);
    const pick = lengths.indexOf(Math.max(...lengths));
    Object.assign(images, attentionPictures(model, task, test[pick]!, greedy.hyps[pick]!));
    const samples = test
      .slice(0, 8)
      .map(
        (p, i) =>
          `${p.src} → ${greedy.hyps[i]}${greedy.hyps[i] === p.tgt ? "" : `   (want ${p.tgt})`} | beam: ${beamed.hyps[i]}`,
      );
    return { metrics, tables, images, samples };
  },
};

/** Append EOS to every source (the task's batches end sources at their last symbol). */
export function withEos(b: ReturnType<typeof makeBatch>): ReturnType<typeof makeBatch> {
  const [B, S] = b.src.shape as [number, number];
  const src = new Int32Array(B * (S + 1)); // PAD = 0
  for (let i = 0; i < B; i++) {
    let n = 0;
    for (let j = 0; j < S; j++) {
      const t = b.src.storage[i * S + j]!;
      if (t === PAD) break;
      src[i * (S + 1) + n++] = t;
    }
    src[i * (S + 1) + n] = EOS;
  }
  return { ...b, src: tensor(src, { shape: [B, S + 1] }) };
}

/**
 * The encoder's and the decoder's last-layer self-attention and the last layer's cross-attention on one
 * example (teacher-forced with the model's own greedy output), each averaged over the heads.
 */
function attentionPictures(
  model: Transformer,
  task: Seq2SeqTask,
  pair: Pair,
  output: string,
): Record<string, Uint8Array> {
  const src = withEos(makeBatch(task, [pair])).src; // (1, S)
  const outSymbols = task.split(output);
  const tgtIn = tensor([[BOS, ...task.tgtVocab.encode(outSymbols)]], { dtype: "int32" }); // (1, T)
  const enc = model.encoder.at(model.encoder.length - 1).attn,
    dec = model.decoder.at(model.decoder.length - 1);
  const mods: MultiHeadAttention[] = [enc, dec.attn, dec.cross];
  const wasTraining = model.training;
  model.eval();
  for (const m of mods) m.keepWeights = true;
  try {
    noGrad(() => model.forward(src, tgtIn));
  } finally {
    for (const m of mods) m.keepWeights = false;
    model.train(wasTraining);
  }
  const show = (s: string): string => (s === " " ? "_" : s.length > 8 ? s.slice(0, 8) : s);
  const srcLabels = [...task.split(pair.src).map(show), "<eos>"];
  const inLabels = ["<bos>", ...outSymbols.map(show)];
  const outLabels = [...outSymbols.map(show), "<eos>"];
  const mean = (w: MultiHeadAttention): number[][] => {
    const t = w.weights!; // (1, nh, T, S)
    const [, nh, T, S] = t.shape as [number, number, number, number];
    return Array.from({ length: T }, (_, i) =>
      Array.from({ length: S }, (_, j) => {
        let s = 0;
        for (let h = 0; h < nh; h++) s += t.storage[(h * T + i) * S + j]!;
        return s / nh;
      }),
    );
  };
  const title = (what: string): string => `${what}: ${pair.src.length > 40 ? pair.src.slice(0, 37) + "..." : pair.src}`;
  return {
    "attention-encoder.png": heatmapPng({
      title: title("encoder self-attention"),
      values: mean(enc),
      rowLabels: srcLabels,
      colLabels: srcLabels,
    }),
    "attention-decoder.png": heatmapPng({
      title: title("decoder self-attention"),
      values: mean(dec.attn),
      rowLabels: outLabels,
      colLabels: inLabels,
    }),
    "attention-cross.png": heatmapPng({
      title: title("cross-attention"),
      values: mean(dec.cross),
      rowLabels: outLabels,
      colLabels: srcLabels,
    }),
  };
}
