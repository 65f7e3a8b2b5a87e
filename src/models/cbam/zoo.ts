// The zoo entry of cbam: its presets, paper and recipes, and the task it shares with its siblings (src/models/zoo.ts lists it).

import { type ZooModel, MNIST } from "../zoo-entry.js";
import type { Generator } from "../../engine/rng.js";
import * as m from "./model.js";

export const zooEntry: ZooModel = {
  name: "cbam",
  paper: "Woo, Park, Lee, Kweon 2018, CBAM: Convolutional Block Attention Module, https://arxiv.org/abs/1807.06521",
  trainsOn: `${MNIST}, beside ResNet-8 and its attention siblings (wnn train vision-attention-compare)`,
  recipes: [],
  presets: [
    {
      name: "cbam-resnet",
      describe: () => m.describe(m.cbamResNetConfig("cbam-resnet")),
      build: () => new m.CBAMResNet(m.cbamResNetConfig("cbam-resnet")),
      train: {
        task: "mnist",
        build: (g: Generator) => new m.CBAMResNet(m.cbamResNetConfig("cbam-resnet"), { generator: g }),
        lr: 1e-2,
      }, // the ResNet's lr
    },
  ],
};
