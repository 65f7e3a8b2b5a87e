// The zoo entry of non-local: its presets, paper and recipes, and the task it shares with its siblings (src/models/zoo.ts lists it).

import { type ZooModel, MNIST } from "../zoo-entry.js";
import type { Generator } from "../../engine/rng.js";
import * as m from "./model.js";

export const zooEntry: ZooModel = {
  name: "non-local",
  paper:
    "Wang, Girshick, Gupta, He 2018, Non-local Neural Networks, https://arxiv.org/abs/1711.07971; Zhang, Goodfellow, Metaxas, Odena 2019, Self-Attention Generative Adversarial Networks, https://arxiv.org/abs/1805.08318",
  trainsOn: `${MNIST}, beside ResNet-8 and its attention siblings (wnn train vision-attention-compare)`,
  recipes: [],
  presets: [
    {
      name: "nonlocal-resnet",
      describe: () => m.describe(m.nonLocalResNetConfig("nonlocal-resnet")),
      build: () => new m.NonLocalResNet(m.nonLocalResNetConfig("nonlocal-resnet")),
      train: {
        task: "mnist",
        build: (g: Generator) => new m.NonLocalResNet(m.nonLocalResNetConfig("nonlocal-resnet"), { generator: g }),
        lr: 1e-2,
      }, // the ResNet's lr
    },
  ],
};
