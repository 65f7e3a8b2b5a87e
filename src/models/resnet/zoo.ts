// The zoo entry of resnet: its presets, paper and recipes, and the task it shares with its siblings (src/models/zoo.ts lists it).

import { type ZooModel, MNIST } from "../zoo-entry.js";
import type { Generator } from "../../engine/rng.js";
import * as resnet from "./model.js";
import { resnetRecipe } from "./recipe.js";

export const zooEntry: ZooModel = {
  name: "resnet",
  paper: resnetRecipe.paper,
  trainsOn: MNIST,
  recipes: [resnetRecipe],
  presets: (["resnet-mnist-small", "resnet20-mnist"] as const).map((preset) => ({
    name: preset,
    describe: () => resnet.describe(resnet.resnetConfig(preset)),
    build: () => new resnet.ResNet(resnet.resnetConfig(preset)),
    train: {
      task: "mnist" as const,
      build: (g: Generator) => new resnet.ResNet(resnet.resnetConfig(preset), { generator: g }),
      lr: resnetRecipe.defaults.lr,
    },
  })),
};
