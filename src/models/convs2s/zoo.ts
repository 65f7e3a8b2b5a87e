// The zoo entry of convs2s: its presets, paper and recipes, and the task it shares with its siblings (src/models/zoo.ts lists it).

import { type ZooModel, DATES, DATES_SRC, DATES_TGT } from "../zoo-entry.js";
import * as convs2s from "./model.js";
import { convs2sCompareRecipe } from "../../recipes/convs2s-compare.js";

export const zooEntry: ZooModel = {
  name: "convs2s",
  paper:
    "Gehring, Auli, Grangier, Yarats, Dauphin 2017, Convolutional Sequence to Sequence Learning, https://arxiv.org/abs/1705.03122",
  trainsOn: `${DATES}; reversal of 5…30 tokens`,
  recipes: [convs2sCompareRecipe],
  presets: [
    {
      name: "dates",
      describe: () => convs2s.describe(convs2s.convS2SConfig("dates"), DATES_SRC, DATES_TGT),
      build: () => new convs2s.ConvS2S(convs2s.convS2SConfig("dates")),
      train: { task: "dates", model: "convs2s" },
    },
    {
      name: "reversal",
      describe: () => convs2s.describe(convs2s.convS2SConfig("reversal"), 30, 31),
      build: () => new convs2s.ConvS2S(convs2s.convS2SConfig("reversal")),
    },
  ],
};
