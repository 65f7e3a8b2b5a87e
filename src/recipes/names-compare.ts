// wnn train names-compare: the character-level language models of the zoo on one task — English first
// names (loadNames → RecipeData.words), the same seeded 90/10 split, the same batches in the same order,
// the same optimizer (AdamW, constant lr, gradient norm clipped to 1), the same step budget, the same
// embedding width (32) and about the same number of parameters (~25k):
//   Bengio et al. 2003's MLP (5 characters of context), Elman RNN, LSTM, GRU (one layer each), and a
//   2-block GPT (src/models/gpt2, nEmbd 32, 4 heads, context = the longest name + 1).
// Output: a markdown table (parameters, training time, validation nats per character, 5 samples each)
// and the validation curves as a PNG.

import { Generator } from "../engine/rng.js";
import type { Recipe, RecipeData, RecipeHooks, RecipeResult } from "./recipe.js";
import { lineChartPng } from "../io/chart.js";
import { namesTask, type NamesTask } from "../data/tasks/names.js";
import { trainOnNames, type NameModel, type TrainResult } from "./names.js";
import { BengioMLP, bengioConfig } from "../models/bengio-mlp/model.js";
import { CharRNN, charRnnConfig } from "../models/char-rnn/model.js";
import { GPT, gptConfig } from "../models/gpt2/model.js";

export type NamesCompareOptions = {
  steps: number;
  batchSize: number;
  lr: number;
  evalEvery: number;
  seed: number;
  samples: number;
};

/** The five contenders, built for a task's vocabulary and longest name; the model seed is the same for all. */
export function contenders(task: NamesTask, seed: number): { name: string; build: () => NameModel }[] {
  const V = task.tokenizer.vocabSize;
  const generator = (): Generator => new Generator(seed);
  return [
    {
      name: "Bengio MLP",
      build: () => new BengioMLP(bengioConfig("names", { vocabSize: V }), { generator: generator() }),
    },
    { name: "RNN", build: () => new CharRNN(charRnnConfig("rnn", { vocabSize: V }), { generator: generator() }) },
    { name: "LSTM", build: () => new CharRNN(charRnnConfig("lstm", { vocabSize: V }), { generator: generator() }) },
    { name: "GRU", build: () => new CharRNN(charRnnConfig("gru", { vocabSize: V }), { generator: generator() }) },
    {
      name: "GPT (2 blocks)",
      build: () =>
        new GPT(gptConfig("names", { vocabSize: V, blockSize: task.maxLen + 1 }), { generator: generator() }),
    },
  ];
}

/** The comparison table in markdown. */
export function compareTable(rows: { name: string; r: TrainResult }[], o: NamesCompareOptions): string {
  const lines = [
    `| model | parameters | training time (s) | ms/step | val loss (nats/char) | samples |`,
    `|---|---:|---:|---:|---:|---|`,
    ...rows.map(
      ({ name, r }) =>
        `| ${name} | ${r.params.toLocaleString("en-US")} | ${r.seconds.toFixed(1)} | ${((1000 * r.seconds) / o.steps).toFixed(1)} | ${r.valLoss.toFixed(4)} | ${r.samples.join(", ")} |`,
    ),
  ];
  return lines.join("\n");
}

export const namesCompareRecipe: Recipe<NamesCompareOptions> = {
  name: "names-compare",
  paper: "Bengio et al. 2003; Elman 1990; Hochreiter & Schmidhuber 1997; Cho et al. 2014; Radford et al. 2019",
  trainsOn: "English first names, character by character (seeded 90/10 split); five models, one budget",
  needs: ["words"],
  dataParallel: true, // each model on N workers, each on its rows of every batch (names.ts)
  defaults: { steps: 400, batchSize: 32, lr: 5e-3, evalEvery: 100, seed: 0, samples: 5 },
  run(o: NamesCompareOptions, data: RecipeData, hooks: RecipeHooks, _generator: Generator): RecipeResult {
    const task = namesTask(data.words ?? [], { seed: o.seed });
    hooks.log(
      `names: ${task.train.length} train, ${task.val.length} val, vocabulary ${task.tokenizer.vocabSize}, longest ${task.maxLen}`,
    );
    const rows: { name: string; r: TrainResult }[] = [];
    for (const c of contenders(task, o.seed)) {
      const model = c.build();
      hooks.log(`${c.name}: ${model.numParameters()} parameters`);
      rows.push({
        name: c.name,
        r: trainOnNames(model, task, { ...o, clip: 1 }, (l) => hooks.log(`  ${c.name} ${l}`), hooks.dataParallel),
      });
    }
    const metrics: Record<string, number> = {};
    for (const { name, r } of rows) {
      const key = name.split(" ")[0]!.toLowerCase();
      metrics[`${key}.valLoss`] = r.valLoss;
      metrics[`${key}.seconds`] = r.seconds;
      metrics[`${key}.parameters`] = r.params;
    }
    return {
      metrics,
      tables: { "names-compare.md": compareTable(rows, o) },
      samples: rows.flatMap(({ name, r }) => r.samples.map((s) => `${name}: ${s}`)),
      images: {
        "val-loss.png": lineChartPng({
          series: rows.map(({ name, r }) => ({ name, points: r.curve })),
          title: `names: validation loss, ${o.steps} steps of ${o.batchSize} names`,
          xLabel: "step",
          yLabel: "val nats/char",
        }),
      },
    };
  },
};
