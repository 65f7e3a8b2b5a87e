// The zoo entry of lenet5: its presets, paper and recipes, and the task it shares with its siblings (src/models/zoo.ts lists it).

import { type ZooModel, MNIST } from "../zoo-entry.js";
import * as lenet5 from "./model.js";
import { lenet5Recipe } from "./recipe.js";

export const zooEntry: ZooModel = {
  name: "lenet5",
  paper: lenet5Recipe.paper,
  trainsOn: MNIST,
  recipes: [lenet5Recipe],
  presets: [
    {
      name: "lenet5",
      describe: () => lenet5.describe(lenet5.lenetConfig("lenet5")),
      build: () => new lenet5.LeNet5(lenet5.lenetConfig("lenet5")),
      train: {
        task: "mnist",
        build: (g) => new lenet5.LeNet5(lenet5.lenetConfig("lenet5"), { generator: g }),
        lr: lenet5Recipe.defaults.lr,
      },
    },
    {
      name: "lenet5-32",
      describe: () => lenet5.describe(lenet5.lenetConfig("lenet5-32")),
      build: () => new lenet5.LeNet5(lenet5.lenetConfig("lenet5-32")),
    },
  ],
};
