// wnn train bengio-mlp: Bengio et al.'s MLP on English first names (loadNames → RecipeData.words),
// 5 characters of context, the `names` preset of model.ts (~25k parameters).

import type { Generator } from "../../engine/rng.js";
import type { Recipe, RecipeData, RecipeHooks, RecipeResult } from "../../recipes/recipe.js";
import { lineChartPng } from "../../io/chart.js";
import { namesTask } from "../../data/tasks/names.js";
import { trainOnNames } from "../../recipes/names.js";
import { BengioMLP, bengioConfig } from "./model.js";

export type BengioMlpOptions = {
  context: number;
  direct: boolean;
  steps: number;
  batchSize: number;
  lr: number;
  evalEvery: number;
  seed: number;
  samples: number;
};

export const bengioMlpRecipe: Recipe<BengioMlpOptions> = {
  name: "bengio-mlp",
  paper:
    "Bengio, Ducharme, Vincent, Jauvin 2003, A Neural Probabilistic Language Model, https://www.jmlr.org/papers/volume3/bengio03a/bengio03a.pdf",
  trainsOn: "English first names, character by character (seeded 90/10 split)",
  needs: ["words"],
  dataParallel: true, // each model on N workers, each on its rows of every batch (names.ts)
  defaults: { context: 5, direct: false, steps: 400, batchSize: 32, lr: 5e-3, evalEvery: 100, seed: 0, samples: 10 },
  run(o: BengioMlpOptions, data: RecipeData, hooks: RecipeHooks, generator: Generator): RecipeResult {
    const task = namesTask(data.words ?? [], { seed: o.seed });
    const model = new BengioMLP(
      bengioConfig("names", { vocabSize: task.tokenizer.vocabSize, context: o.context, direct: o.direct }),
      { generator },
    );
    const r = trainOnNames(model, task, { ...o, clip: 1 }, hooks.log, hooks.dataParallel);
    return {
      metrics: { valLoss: r.valLoss, trainLoss: r.trainLoss, seconds: r.seconds, parameters: r.params },
      samples: r.samples,
      images: {
        "val-loss.png": lineChartPng({
          series: [{ name: "bengio-mlp", points: r.curve }],
          title: "Bengio MLP on names",
          xLabel: "step",
          yLabel: "val nats/char",
        }),
      },
    };
  },
};
