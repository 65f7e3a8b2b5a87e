// The zoo entry of hifigan: the generator of the vocoder that `wnn train vocoder` trains on the synthesized speech
// corpus (its discriminators are for training only), at the corpus's size and as the paper's V1 (src/models/zoo.ts
// lists it).

import type { ZooModel } from "../zoo-entry.js";
import { SPEECH } from "../tacotron2/zoo.js";
import * as hifigan from "./model.js";

export const zooEntry: ZooModel = {
  name: "hifigan",
  paper:
    "Kong, Kim, Bae 2020, HiFi-GAN: Generative Adversarial Networks for Efficient and High Fidelity Speech Synthesis, https://arxiv.org/abs/2010.05646",
  trainsOn: `${SPEECH}: the teacher's waveforms from their log-mels`,
  recipes: [],
  presets: (["small", "v1"] as const).map((name) => ({
    name,
    describe: () => hifigan.describe(hifigan.hifiganConfig(name), 80, `HiFi-GAN generator (${name})`),
    build: () => new hifigan.Generator(hifigan.hifiganConfig(name)),
  })),
};
