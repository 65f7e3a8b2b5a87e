// The zoo entry of llama: its presets, paper and recipes, and the task it shares with its siblings (src/models/zoo.ts lists it).

import { type ZooModel, NAMES_DECODER } from "../zoo-entry.js";
import * as llama from "./model.js";

export const zooEntry: ZooModel = {
  name: "llama",
  paper: "Touvron et al. 2023, Llama 2: Open Foundation and Fine-Tuned Chat Models, https://arxiv.org/abs/2307.09288",
  trainsOn:
    "Moby Dick, characters, beside its decoder siblings (wnn train decoder-compare); English first names (names preset, wnn compare --train); the tiny preset is GPT-2's tiny as a LLaMA",
  recipes: [],
  presets: [
    {
      name: "tiny",
      describe: () => llama.describe(llama.llamaConfig("tiny"), "LLaMA (tiny)"),
      build: () => new llama.Llama(llama.llamaConfig("tiny")),
    },
    {
      name: "names",
      describe: () => llama.describe(llama.llamaConfig("tiny", NAMES_DECODER), "LLaMA (2 blocks)"),
      build: () => new llama.Llama(llama.llamaConfig("tiny", NAMES_DECODER)),
      train: {
        task: "names",
        build: (t, g) =>
          new llama.Llama(
            llama.llamaConfig("tiny", { ...NAMES_DECODER, vocabSize: t.tokenizer.vocabSize, blockSize: t.maxLen + 1 }),
            { generator: g },
          ),
      },
    },
    {
      name: "llama-2-7b",
      describe: () => llama.describe(llama.llamaConfig("llama-2-7b"), "Llama 2 7B"),
      build: () => new llama.Llama(llama.llamaConfig("llama-2-7b")),
    },
  ],
};
