// The zoo entry of fastspeech2: the CPU-sized preset that `wnn train fastspeech2` trains on the synthesized speech
// corpus, and the paper's configuration (src/models/zoo.ts lists it).

import type { ZooModel } from "../zoo-entry.js";
import { PHONEME_SYMBOLS, SPEECH } from "../tacotron2/zoo.js";
import * as fastspeech2 from "./model.js";
import { fastspeech2Recipe } from "./recipe.js";

export const zooEntry: ZooModel = {
  name: "fastspeech2",
  paper:
    "Ren et al. 2021, FastSpeech 2: Fast and High-Quality End-to-End Text to Speech, https://arxiv.org/abs/2006.04558",
  trainsOn: `${SPEECH}; durations from a flat-start monotonic alignment`,
  recipes: [fastspeech2Recipe],
  presets: (["small", "paper"] as const).map((name) => {
    const c = () => fastspeech2.fastSpeech2Config(name, name === "small" ? { nSymbols: PHONEME_SYMBOLS } : {});
    return {
      name,
      describe: () => fastspeech2.describe(c(), 60, 240, `FastSpeech 2 (${name})`),
      build: () => new fastspeech2.FastSpeech2(c()),
    };
  }),
};
