// `wnn.nn`: the module system, the layers, the initialisers (`wnn.nn.init`) and the functional ops (`wnn.nn.functional`).
export * as functional from "./functional.js";
export * as init from "./init.js";
export { Module, Parameter, ModuleList, type LoadOptions } from "./module.js";
export { Sequential, ModuleDict, type UnaryModule } from "./container.js";
export { Linear, Embedding, Identity, Flatten, type LinearOptions, type EmbeddingOptions, type InitOptions } from "./linear.js";
export { LayerNorm, RMSNorm, GroupNorm, BatchNorm1d, BatchNorm2d, type LayerNormOptions, type RMSNormOptions, type GroupNormOptions, type BatchNormOptions } from "./norm.js";
export { Dropout, ReLU, LeakyReLU, GELU, SiLU, Tanh, Sigmoid, Softmax, LogSoftmax, type DropoutOptions, type GELUOptions } from "./activation.js";
