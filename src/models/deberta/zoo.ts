// The zoo entry of deberta: its presets, paper and recipes, and the task it shares with its siblings (src/models/zoo.ts lists it).

import { type ZooModel, ENCODER_SEQ } from "../zoo-entry.js";
import * as deberta from "./model.js";

export const zooEntry: ZooModel = {
  name: "deberta",
  paper:
    "He, Gao, Chen 2021, DeBERTaV3: Improving DeBERTa using ELECTRA-Style Pre-Training with Gradient-Disentangled Embedding Sharing, https://arxiv.org/abs/2111.09543",
  trainsOn:
    "masked-LM pretraining on Moby Dick, then SpamAssassin classification, beside its encoder siblings (wnn train encoder-compare)",
  recipes: [],
  presets: [
    {
      name: "tiny",
      describe: () => deberta.describe(deberta.debertaConfig("tiny"), ENCODER_SEQ, "DeBERTa-v3 (tiny)"),
      build: () => new deberta.DebertaModel(deberta.debertaConfig("tiny")),
    },
    {
      name: "deberta-v3-base",
      describe: () => deberta.describe(deberta.debertaConfig("deberta-v3-base"), ENCODER_SEQ, "DeBERTa-v3-base"),
      build: () => new deberta.DebertaModel(deberta.debertaConfig("deberta-v3-base")),
    },
  ],
};
