// The zoo entry of senet: its presets, paper and recipes, and the task it shares with its siblings (src/models/zoo.ts lists it).

import { type ZooModel, MNIST } from "../zoo-entry.js";
import type { Generator } from "../../engine/rng.js";
import * as m from "./model.js";

export const zooEntry: ZooModel = {
  name: "senet",
  paper: "Hu, Shen, Albanie, Sun, Wu 2018, Squeeze-and-Excitation Networks, https://arxiv.org/abs/1709.01507",
  trainsOn: `${MNIST}, beside ResNet-8 and its attention siblings (wnn train vision-attention-compare)`,
  recipes: [],
  presets: [
    {
      name: "se-resnet",
      describe: () => m.describe(m.seResNetConfig("se-resnet")),
      build: () => new m.SEResNet(m.seResNetConfig("se-resnet")),
      train: {
        task: "mnist",
        build: (g: Generator) => new m.SEResNet(m.seResNetConfig("se-resnet"), { generator: g }),
        lr: 1e-2,
      }, // the ResNet's lr
    },
  ],
};
