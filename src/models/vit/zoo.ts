// The zoo entry of vit: its presets, paper and recipes, and the task it shares with its siblings (src/models/zoo.ts lists it).

import { type ZooModel, MNIST } from "../zoo-entry.js";
import type { Generator } from "../../engine/rng.js";
import * as m from "./model.js";

export const zooEntry: ZooModel = {
  name: "vit",
  paper:
    "Dosovitskiy et al. 2021, An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale, https://arxiv.org/abs/2010.11929",
  trainsOn: `${MNIST}, beside ResNet-8 and its attention siblings (wnn train vision-attention-compare)`,
  recipes: [],
  presets: (["vit-mnist", "vit-mnist-p7"] as const).map((preset) => ({
    name: preset,
    describe: () => m.describe(m.vitConfig(preset)),
    build: () => new m.ViT(m.vitConfig(preset)),
    train: {
      task: "mnist" as const,
      build: (g: Generator) => new m.ViT(m.vitConfig(preset), { generator: g }),
      lr: 3e-3,
    }, // vision-attention-compare's
  })),
};
