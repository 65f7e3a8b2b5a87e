// The zoo entry of bart: its presets, paper and recipes, and the task it shares with its siblings (src/models/zoo.ts lists it).

import { type ZooModel, DATES_SRC, DATES_TGT, SEQ2SEQ_LEN } from "../zoo-entry.js";
import * as bart from "./model.js";

export const zooEntry: ZooModel = {
  name: "bart",
  paper:
    "Lewis et al. 2020, BART: Denoising Sequence-to-Sequence Pre-training for Natural Language Generation, Translation, and Comprehension, https://arxiv.org/abs/1910.13461",
  trainsOn: "denoising pretraining on Moby Dick, then dates, beside T5/BART (wnn train encoder-decoder-compare)",
  recipes: [],
  presets: [
    {
      name: "tiny",
      describe: () => bart.describe(bart.bartConfig("tiny"), DATES_SRC, DATES_TGT, "BART (tiny)"),
      build: () => new bart.Bart(bart.bartConfig("tiny")),
    },
    {
      name: "bart-base",
      describe: () => bart.describe(bart.bartConfig("bart-base"), SEQ2SEQ_LEN, SEQ2SEQ_LEN, "BART-base"),
      build: () => new bart.Bart(bart.bartConfig("bart-base")),
    },
  ],
};
