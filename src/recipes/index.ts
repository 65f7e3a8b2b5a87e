// `wnn.recipes`: what `wnn train <x>` runs — the recipe shape, the shared training loop, the comparisons of
// sibling models — and the recipes of the model folders, importable without the command line.
export {
  trainingLoop,
  runLoop,
  runLoopSync,
  type TrainingJob,
  type LoopEvents,
  type RunOptions,
  type Metrics,
} from "./loop.js";
export type { Recipe, RecipeData, RecipeHooks, RecipeResult } from "./recipe.js";
export { trainOnNames, type NameModel, type TrainOptions, type TrainResult } from "./names.js";
export { lenet5Recipe } from "../models/lenet5/recipe.js";
export { resnetRecipe } from "../models/resnet/recipe.js";
export { finetuneCompareRecipe } from "./finetune-compare.js";
