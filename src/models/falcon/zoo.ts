// The zoo entry of falcon: its presets, paper and recipes, and the task it shares with its siblings (src/models/zoo.ts lists it).

import { type ZooModel, NAMES_DECODER } from "../zoo-entry.js";
import * as falcon from "./model.js";

export const zooEntry: ZooModel = {
  name: "falcon",
  paper: "Almazrouei et al. 2023, The Falcon Series of Open Language Models, https://arxiv.org/abs/2311.16867",
  trainsOn:
    "Moby Dick, characters, beside its decoder siblings (wnn train decoder-compare); English first names (names preset, wnn compare --train); the tiny preset is GPT-2's tiny as a Falcon",
  recipes: [],
  presets: [
    {
      name: "tiny",
      describe: () => falcon.describe(falcon.falconConfig("tiny"), "Falcon (tiny)"),
      build: () => new falcon.Falcon(falcon.falconConfig("tiny")),
    },
    {
      name: "names",
      describe: () => falcon.describe(falcon.falconConfig("tiny", NAMES_DECODER), "Falcon (2 blocks)"),
      build: () => new falcon.Falcon(falcon.falconConfig("tiny", NAMES_DECODER)),
      train: {
        task: "names",
        build: (t, g) =>
          new falcon.Falcon(
            falcon.falconConfig("tiny", {
              ...NAMES_DECODER,
              vocabSize: t.tokenizer.vocabSize,
              blockSize: t.maxLen + 1,
            }),
            { generator: g },
          ),
      },
    },
    {
      name: "falcon-7b",
      describe: () => falcon.describe(falcon.falconConfig("falcon-7b"), "Falcon-7B"),
      build: () => new falcon.Falcon(falcon.falconConfig("falcon-7b")),
    },
  ],
};
