// The zoo entry of bert: its presets, paper and recipes, and the task it shares with its siblings (src/models/zoo.ts lists it).

import { type ZooModel, ENCODER_SEQ } from "../zoo-entry.js";
import * as bert from "./model.js";

export const zooEntry: ZooModel = {
  name: "bert",
  paper:
    "Devlin et al. 2019, BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding, https://arxiv.org/abs/1810.04805",
  trainsOn:
    "masked-LM pretraining on Moby Dick, then SpamAssassin classification, beside its encoder siblings (wnn train encoder-compare)",
  recipes: [],
  presets: [
    {
      name: "tiny",
      describe: () => bert.describe(bert.bertConfig("tiny"), ENCODER_SEQ, "BERT (tiny)"),
      build: () => new bert.BertModel(bert.bertConfig("tiny")),
    },
    {
      name: "bert-base-uncased",
      describe: () => bert.describe(bert.bertConfig("bert-base-uncased"), ENCODER_SEQ, "BERT-base (uncased)"),
      build: () => new bert.BertModel(bert.bertConfig("bert-base-uncased")),
    },
  ],
};
