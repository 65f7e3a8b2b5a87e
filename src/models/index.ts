// The model zoo: one namespace per paper (wnn.models.gpt2.GPT, ...).
export * as gpt2 from "./gpt2/model.js";
export * as bengioMlp from "./bengio-mlp/model.js";
export * as charRnn from "./char-rnn/model.js";
export * as gcn from "./gcn/model.js";
export * as gat from "./gat/model.js";
export * as lenet5 from "./lenet5/model.js";
export * as resnet from "./resnet/model.js";
export { lenet5Recipe } from "./lenet5/recipe.js";
export { resnetRecipe } from "./resnet/recipe.js";
export * as seq2seqAttention from "./seq2seq-attention/model.js";
export * as transformer from "./transformer/model.js";
export * as llama from "./llama/model.js";
export * as bloom from "./bloom/model.js";
export * as falcon from "./falcon/model.js";
export * as bert from "./bert/model.js";
export * as roberta from "./roberta/model.js";
export * as t5 from "./t5/model.js";
