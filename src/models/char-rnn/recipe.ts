// wnn train char-rnn: a recurrent character model of English first names (loadNames → RecipeData.words).
// The cell is an option (rnn, lstm, gru); the sizes are the presets of model.ts (~25k parameters each).

import type { Generator } from "../../engine/rng.js";
import type { Recipe, RecipeData, RecipeHooks, RecipeResult } from "../../recipes/recipe.js";
import { lineChartPng } from "../../io/chart.js";
import { namesTask } from "../../data/tasks/names.js";
import { trainOnNames } from "../../recipes/names.js";
import { CharRNN, charRnnConfig, type Cell } from "./model.js";

export type CharRnnOptions = {
  cell: string;
  steps: number;
  batchSize: number;
  lr: number;
  evalEvery: number;
  seed: number;
  samples: number;
};

export const charRnnRecipe: Recipe<CharRnnOptions> = {
  name: "char-rnn",
  paper: "Elman 1990; Hochreiter & Schmidhuber 1997; Cho et al. 2014, https://arxiv.org/abs/1406.1078",
  trainsOn: "English first names, character by character (seeded 90/10 split)",
  needs: ["words"],
  dataParallel: true, // each model on N workers, each on its rows of every batch (names.ts)
  defaults: { cell: "lstm", steps: 400, batchSize: 32, lr: 5e-3, evalEvery: 100, seed: 0, samples: 10 },
  run(o: CharRnnOptions, data: RecipeData, hooks: RecipeHooks, generator: Generator): RecipeResult {
    const task = namesTask(data.words ?? [], { seed: o.seed });
    const cell = o.cell as Cell;
    const model = new CharRNN(charRnnConfig(cell, { vocabSize: task.tokenizer.vocabSize }), { generator });
    const r = trainOnNames(model, task, { ...o, clip: 1 }, hooks.log, hooks.dataParallel);
    return {
      metrics: { valLoss: r.valLoss, trainLoss: r.trainLoss, seconds: r.seconds, parameters: r.params },
      samples: r.samples,
      images: {
        "val-loss.png": lineChartPng({
          series: [{ name: cell, points: r.curve }],
          title: `char-rnn (${cell}) on names`,
          xLabel: "step",
          yLabel: "val nats/char",
        }),
      },
    };
  },
};
