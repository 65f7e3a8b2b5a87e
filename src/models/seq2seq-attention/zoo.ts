// The zoo entry of seq2seq-attention: its presets, paper and recipes, and the task it shares with its siblings (src/models/zoo.ts lists it).

import { type ZooModel, DATES, DATES_SRC, DATES_TGT } from "../zoo-entry.js";
import * as seq2seq from "./model.js";
import { recipe as seq2seqRecipe } from "./recipe.js";

export const zooEntry: ZooModel = {
  name: "seq2seq-attention",
  paper:
    "Bahdanau, Cho, Bengio 2015, Neural Machine Translation by Jointly Learning to Align and Translate, https://arxiv.org/abs/1409.0473",
  trainsOn: DATES,
  recipes: [seq2seqRecipe],
  presets: (["bahdanau", "none", "luong-dot", "luong-general"] as const).map((attention) => ({
    name: attention,
    describe: () => seq2seq.describe(seq2seq.seq2seqConfig("dates", { attention }), DATES_SRC, DATES_TGT),
    build: () => new seq2seq.Seq2Seq(seq2seq.seq2seqConfig("dates", { attention })),
    train: { task: "dates" as const, model: "seq2seq" as const, attention },
  })),
};
