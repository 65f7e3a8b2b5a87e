// The zoo entry of gat: its presets, paper and recipes, and the task it shares with its siblings (src/models/zoo.ts lists it).

import { type ZooModel, GRAPHS, SBM, SBM_NODES, CORA_NODES, PUBMED_NODES } from "../zoo-entry.js";
import * as gat from "./model.js";
import { gatRecipe } from "./recipe.js";

export const zooEntry: ZooModel = {
  name: "gat",
  paper: gatRecipe.paper,
  trainsOn: GRAPHS,
  recipes: [gatRecipe],
  presets: [
    {
      name: "sbm",
      describe: () => gat.describe(gat.gatConfig("cora", SBM), SBM_NODES),
      build: () => new gat.GAT(gat.gatConfig("cora", SBM)),
      train: { task: "graphs", model: "gat" },
    },
    {
      name: "cora",
      describe: () => gat.describe(gat.gatConfig("cora"), CORA_NODES),
      build: () => new gat.GAT(gat.gatConfig("cora")),
    },
    {
      name: "pubmed",
      describe: () => gat.describe(gat.gatConfig("pubmed"), PUBMED_NODES),
      build: () => new gat.GAT(gat.gatConfig("pubmed")),
    },
  ],
};
