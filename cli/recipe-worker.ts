// The workers of `wnn train <recipe> --workers N` for a recipe with `dataParallel: true` (lenet5, bengio-mlp,
// char-rnn, names-compare, decoder-compare, encoder-decoder-compare, seq2seq-attention, transformer,
// convs2s-compare, encoder-compare, finetune-compare): ranks 1 … N−1 run the same recipe with the
// same options and seed as the command's thread (rank 0, cli/recipes.ts), each on its rows of every batch, in step
// with it through the collectives; only rank 0 writes the run's files.

import "../src/index-node.js";
import * as wnn from "../src/index.js";
import type { Communicator } from "../src/distributed/collectives.js";
import type { StrategyName } from "../src/distributed/data-parallel.js";
import { Generator } from "../src/engine/rng.js";
import { RECIPES, loadData } from "./recipes.js";

export interface RecipeWorkerArgs {
  name: string;
  options: Record<string, number | string | boolean>;
  seed: number;
  strategy: StrategyName;
}

export function recipeWorker(comm: Communicator, a: RecipeWorkerArgs): number {
  wnn.setNumThreads(1); // one thread per worker
  const recipe = RECIPES.find((r) => r.name === a.name)!;
  const data = loadData(recipe, a.options, { write: () => true });
  recipe.run(a.options, data, { log: () => {}, dataParallel: { comm, strategy: a.strategy } }, new Generator(a.seed));
  return comm.rank;
}
