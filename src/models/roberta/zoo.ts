// The zoo entry of roberta: its presets, paper and recipes, and the task it shares with its siblings (src/models/zoo.ts lists it).

import { type ZooModel, ENCODER_SEQ } from "../zoo-entry.js";
import * as roberta from "./model.js";

export const zooEntry: ZooModel = {
  name: "roberta",
  paper: "Liu et al. 2019, RoBERTa: A Robustly Optimized BERT Pretraining Approach, https://arxiv.org/abs/1907.11692",
  trainsOn:
    "masked-LM pretraining on Moby Dick, then SpamAssassin classification, beside its encoder siblings (wnn train encoder-compare)",
  recipes: [],
  presets: [
    {
      name: "tiny",
      describe: () => roberta.describe(roberta.robertaConfig("tiny"), ENCODER_SEQ, "RoBERTa (tiny)"),
      build: () => new roberta.RobertaModel(roberta.robertaConfig("tiny")),
    },
    {
      name: "roberta-base",
      describe: () => roberta.describe(roberta.robertaConfig("roberta-base"), ENCODER_SEQ, "RoBERTa-base"),
      build: () => new roberta.RobertaModel(roberta.robertaConfig("roberta-base")),
    },
  ],
};
