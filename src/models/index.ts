// The model zoo: one namespace per paper (wnn.models.gpt2.GPT, ...).
export * as gpt2 from "./gpt2/model.js";
export * as lenet5 from "./lenet5/model.js";
export * as resnet from "./resnet/model.js";
export { lenet5Recipe } from "./lenet5/recipe.js";
export { resnetRecipe } from "./resnet/recipe.js";
