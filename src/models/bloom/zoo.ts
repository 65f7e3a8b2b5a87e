// The zoo entry of bloom: its presets, paper and recipes, and the task it shares with its siblings (src/models/zoo.ts lists it).

import { type ZooModel, NAMES_DECODER } from "../zoo-entry.js";
import * as bloom from "./model.js";

export const zooEntry: ZooModel = {
  name: "bloom",
  paper:
    "BigScience Workshop 2022, BLOOM: A 176B-Parameter Open-Access Multilingual Language Model, https://arxiv.org/abs/2211.05100",
  trainsOn:
    "Moby Dick, characters, beside its decoder siblings (wnn train decoder-compare); English first names (names preset, wnn compare --train); the tiny preset is GPT-2's tiny as a BLOOM",
  recipes: [],
  presets: [
    {
      name: "tiny",
      describe: () => bloom.describe(bloom.bloomConfig("tiny"), "BLOOM (tiny)"),
      build: () => new bloom.Bloom(bloom.bloomConfig("tiny")),
    },
    {
      name: "names",
      describe: () => bloom.describe(bloom.bloomConfig("tiny", NAMES_DECODER), "BLOOM (2 blocks)"),
      build: () => new bloom.Bloom(bloom.bloomConfig("tiny", NAMES_DECODER)),
      train: {
        task: "names",
        build: (t, g) =>
          new bloom.Bloom(
            bloom.bloomConfig("tiny", { ...NAMES_DECODER, vocabSize: t.tokenizer.vocabSize, blockSize: t.maxLen + 1 }),
            { generator: g },
          ),
      },
    },
    {
      name: "bloom-560m",
      describe: () => bloom.describe(bloom.bloomConfig("bloom-560m"), "BLOOM-560m"),
      build: () => new bloom.Bloom(bloom.bloomConfig("bloom-560m")),
    },
  ],
};
