// The zoo entry of mixtral: its presets, paper and recipes (src/models/zoo.ts lists it).

import { type ZooModel } from "../zoo-entry.js";
import * as mixtral from "./model.js";

export const zooEntry: ZooModel = {
  name: "mixtral",
  paper: "Jiang et al. 2024, Mixtral of Experts, https://arxiv.org/abs/2401.04088",
  trainsOn:
    "Moby Dick, characters (wnn train mixtral, its tiny preset); the tiny preset is LLaMA's tiny with 8 experts of a quarter of its MLP, top-2",
  recipes: [],
  presets: [
    {
      name: "tiny",
      describe: () => mixtral.describe(mixtral.mixtralConfig("tiny"), "Mixtral (tiny)"),
      build: () => new mixtral.Mixtral(mixtral.mixtralConfig("tiny")),
    },
    {
      name: "mixtral-8x7b",
      describe: () => mixtral.describe(mixtral.mixtralConfig("mixtral-8x7b"), "Mixtral 8x7B"),
      build: () => new mixtral.Mixtral(mixtral.mixtralConfig("mixtral-8x7b")),
    },
  ],
};
