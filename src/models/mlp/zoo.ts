// The zoo entry of mlp: its presets, paper and recipes, and the task it shares with its siblings (src/models/zoo.ts lists it).

import { type ZooModel, MNIST } from "../zoo-entry.js";
import * as mlp from "./model.js";

export const zooEntry: ZooModel = {
  name: "mlp",
  paper:
    "Rumelhart, Hinton, Williams 1986, Learning representations by back-propagating errors, https://www.nature.com/articles/323533a0",
  trainsOn: MNIST,
  recipes: [],
  presets: [
    {
      name: "mnist",
      describe: () => mlp.describe(mlp.MNIST_MLP),
      build: () => new mlp.MLP(mlp.MNIST_MLP),
      train: { task: "mnist", build: (g) => new mlp.MLP(mlp.MNIST_MLP, { generator: g }), lr: 1e-3 },
    },
  ],
};
