// `wnn.optim`: optimizers, learning-rate schedulers and gradient clipping (PyTorch 1.13 semantics).

export {
  Optimizer,
  type FloatStorage,
  type HyperParams,
  type HyperValue,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamGroupInput,
  type ParamsInput,
  type ParamState,
} from "./optimizer.js";
export { SGD, type SGDOptions } from "./sgd.js";
export { Adam, AdamW, type AdamOptions } from "./adam.js";
export { RMSprop, type RMSpropOptions } from "./rmsprop.js";
export {
  LRScheduler,
  StepLR,
  ExponentialLR,
  CosineAnnealingLR,
  LinearLR,
  OneCycleLR,
  CosineWithWarmupLR,
  cosineWithWarmup,
  LambdaLR,
  inverseSqrtWarmup,
  type SchedulerStateDict,
  type SettingValue,
  type StepLROptions,
  type CosineAnnealingLROptions,
  type LinearLROptions,
  type OneCycleLROptions,
  type CosineWithWarmupOptions,
  type InverseSqrtWarmupOptions,
} from "./schedulers.js";
export { clipGradNorm, clipGradValue } from "./clip.js";
export { stateDictToTensors, stateDictFromTensors, type OptimizerStateJSON } from "./state.js";
