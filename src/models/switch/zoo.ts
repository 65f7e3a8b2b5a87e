// The zoo entry of switch: its presets, paper and the comparison recipe that trains it (src/models/zoo.ts lists it).

import { type ZooModel } from "../zoo-entry.js";
import { moeCompareRecipe } from "../../recipes/moe-compare.js";
import * as switchGpt from "./model.js";

export const zooEntry: ZooModel = {
  name: "switch",
  paper:
    "Fedus, Zoph & Shazeer 2021, Switch Transformers: Scaling to Trillion Parameter Models with Simple and Efficient Sparsity, https://arxiv.org/abs/2101.03961",
  trainsOn: "Moby Dick characters, against dense GPTs (moe-compare)",
  recipes: [moeCompareRecipe],
  presets: [
    {
      name: "tiny",
      describe: () => switchGpt.describe(switchGpt.switchConfig("tiny"), "Switch GPT (tiny, top-1)"),
      build: () => new switchGpt.SwitchGPT(switchGpt.switchConfig("tiny")),
    },
    {
      name: "tiny-top2",
      describe: () => switchGpt.describe(switchGpt.switchConfig("tiny-top2"), "Switch GPT (tiny, top-2)"),
      build: () => new switchGpt.SwitchGPT(switchGpt.switchConfig("tiny-top2")),
    },
  ],
};
