// `wnn.nn`: the module system, the layers, the initialisers (`wnn.nn.init`) and the functional ops (`wnn.nn.functional`).
export * as functional from "./functional.js";
export * as init from "./init.js";
export { Module, Parameter, ModuleList, type LoadOptions } from "./module.js";
export { Sequential, ModuleDict, type UnaryModule } from "./container.js";
export {
  Linear,
  Embedding,
  Identity,
  Flatten,
  TiedHead,
  type LinearOptions,
  type EmbeddingOptions,
  type InitOptions,
} from "./linear.js";
export {
  LayerNorm,
  RMSNorm,
  GroupNorm,
  BatchNorm1d,
  BatchNorm2d,
  type LayerNormOptions,
  type RMSNormOptions,
  type GroupNormOptions,
  type BatchNormOptions,
} from "./norm.js";
export {
  Dropout,
  ReLU,
  LeakyReLU,
  GELU,
  SiLU,
  Tanh,
  Sigmoid,
  Softmax,
  LogSoftmax,
  type DropoutOptions,
  type GELUOptions,
} from "./activation.js";
export {
  Conv1d,
  Conv2d,
  ConvTranspose2d,
  MaxPool2d,
  AvgPool2d,
  type Conv1dOptions,
  type Conv2dOptions,
  type ConvTranspose2dOptions,
  type MaxPool2dOptions,
  type AvgPool2dOptions,
} from "./conv.js";
export {
  MultiheadAttention,
  type MultiheadAttentionOptions,
  type MultiheadAttentionForwardOptions,
  type MultiheadAttentionOutput,
} from "./attention.js";
export { fromTorchName, toTorchName } from "./names.js";
export {
  RNNCell,
  LSTMCell,
  GRUCell,
  RNN,
  LSTM,
  GRU,
  rnnStep,
  lstmStep,
  gruStep,
  type RNNCellOptions,
  type RNNOptions,
  type RNNOutput,
  type LSTMOutput,
  type CellWeights,
  type RNNNonlinearity,
} from "./rnn.js";
export { KVCache, causalMask, type LayerCache } from "./kv-cache.js";
export { rotaryTables, applyRotary } from "./rotary.js";
export {
  MoE,
  SwiGLUExpert,
  GeluExpert,
  SWITCH,
  MIXTRAL,
  moeOptions,
  expertCapacity,
  route,
  loadBalancingLoss,
  routerZLoss,
  withSyncRouting,
  type MoEOptions,
  type MoEOutput,
  type Routing,
  type RoutingGroup,
  type Expert,
} from "./moe.js";
export {
  checkpoint,
  applyActivationCheckpointing,
  moduleClassPolicy,
  graphBytes,
  type CheckpointOptions,
  type ModulePolicy,
} from "./checkpoint.js";
