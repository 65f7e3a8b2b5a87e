// The zoo entry of gcn: its presets, paper and recipes, and the task it shares with its siblings (src/models/zoo.ts lists it).

import { type ZooModel, GRAPHS, SBM, SBM_NODES, CORA_NODES } from "../zoo-entry.js";
import * as gcn from "./model.js";
import { gcnRecipe } from "./recipe.js";

export const zooEntry: ZooModel = {
  name: "gcn",
  paper: gcnRecipe.paper,
  trainsOn: GRAPHS,
  recipes: [gcnRecipe],
  presets: [
    {
      name: "sbm",
      describe: () => gcn.describe(gcn.gcnConfig("kipf", SBM), SBM_NODES),
      build: () => new gcn.GCN(gcn.gcnConfig("kipf", SBM)),
      train: { task: "graphs", model: "gcn" },
    },
    {
      name: "kipf",
      describe: () => gcn.describe(gcn.gcnConfig("kipf"), CORA_NODES),
      build: () => new gcn.GCN(gcn.gcnConfig("kipf")),
    },
  ],
};
