// The zoo entry of transformer: its presets, paper and recipes, and the task it shares with its siblings (src/models/zoo.ts lists it).

import { type ZooModel, DATES, DATES_SRC, DATES_TGT, SEQ2SEQ_LEN } from "../zoo-entry.js";
import * as transformer from "./model.js";
import { recipe as transformerRecipe } from "./recipe.js";

export const zooEntry: ZooModel = {
  name: "transformer",
  paper: "Vaswani et al. 2017, Attention Is All You Need, https://arxiv.org/abs/1706.03762",
  trainsOn: `${DATES}; a seeded translation between two invented languages`,
  recipes: [transformerRecipe],
  presets: [
    {
      name: "tiny",
      describe: () =>
        transformer.describe(transformer.transformerConfig("tiny"), DATES_SRC, DATES_TGT, "Transformer (tiny)"),
      build: () => new transformer.Transformer(transformer.transformerConfig("tiny")),
      train: { task: "dates", model: "transformer" },
    },
    {
      name: "base",
      describe: () =>
        transformer.describe(transformer.transformerConfig("base"), SEQ2SEQ_LEN, SEQ2SEQ_LEN, "Transformer (base)"),
      build: () => new transformer.Transformer(transformer.transformerConfig("base")),
    },
  ],
};
