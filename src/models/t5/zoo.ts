// The zoo entry of t5: its presets, paper and recipes, and the task it shares with its siblings (src/models/zoo.ts lists it).

import { type ZooModel, DATES_SRC, DATES_TGT, SEQ2SEQ_LEN } from "../zoo-entry.js";
import * as t5 from "./model.js";

export const zooEntry: ZooModel = {
  name: "t5",
  paper:
    "Raffel et al. 2020, Exploring the Limits of Transfer Learning with a Unified Text-to-Text Transformer, https://arxiv.org/abs/1910.10683",
  trainsOn: "denoising pretraining on Moby Dick, then dates, beside T5/BART (wnn train encoder-decoder-compare)",
  recipes: [],
  presets: [
    {
      name: "tiny",
      describe: () => t5.describe(t5.t5Config("tiny"), DATES_SRC, DATES_TGT, "T5 v1.1 (tiny)"),
      build: () => new t5.T5(t5.t5Config("tiny")),
    },
    {
      name: "t5-small",
      describe: () => t5.describe(t5.t5Config("t5-small"), SEQ2SEQ_LEN, SEQ2SEQ_LEN, "T5-small (v1.0)"),
      build: () => new t5.T5(t5.t5Config("t5-small")),
    },
    {
      name: "t5-v1_1-small",
      describe: () => t5.describe(t5.t5Config("t5-v1_1-small"), SEQ2SEQ_LEN, SEQ2SEQ_LEN, "T5-small (v1.1)"),
      build: () => new t5.T5(t5.t5Config("t5-v1_1-small")),
    },
  ],
};
