// The zoo entry of bengio-mlp: its presets, paper and recipes, and the task it shares with its siblings (src/models/zoo.ts lists it).

import { type ZooModel, NAMES } from "../zoo-entry.js";
import * as bengio from "./model.js";
import { bengioMlpRecipe } from "./recipe.js";

export const zooEntry: ZooModel = {
  name: "bengio-mlp",
  paper: bengioMlpRecipe.paper,
  trainsOn: NAMES,
  recipes: [bengioMlpRecipe],
  presets: [
    {
      name: "names",
      describe: () => bengio.describe(bengio.bengioConfig("names")),
      build: () => new bengio.BengioMLP(bengio.bengioConfig("names")),
      train: {
        task: "names",
        build: (t, g) =>
          new bengio.BengioMLP(bengio.bengioConfig("names", { vocabSize: t.tokenizer.vocabSize }), { generator: g }),
      },
    },
  ],
};
