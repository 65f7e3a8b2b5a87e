// The zoo entry of char-rnn: its presets, paper and recipes, and the task it shares with its siblings (src/models/zoo.ts lists it).

import { type ZooModel, NAMES } from "../zoo-entry.js";
import type { NamesTask } from "../../data/tasks/names.js";
import type { Generator } from "../../engine/rng.js";
import * as charRnn from "./model.js";
import { charRnnRecipe } from "./recipe.js";

export const zooEntry: ZooModel = {
  name: "char-rnn",
  paper: charRnnRecipe.paper,
  trainsOn: NAMES,
  recipes: [charRnnRecipe],
  presets: (["lstm", "gru", "rnn"] as const).map((cell) => ({
    name: cell,
    describe: () => charRnn.describe(charRnn.charRnnConfig(cell)),
    build: () => new charRnn.CharRNN(charRnn.charRnnConfig(cell)),
    train: {
      task: "names",
      build: (t: NamesTask, g: Generator) =>
        new charRnn.CharRNN(charRnn.charRnnConfig(cell, { vocabSize: t.tokenizer.vocabSize }), { generator: g }),
    },
  })),
};
