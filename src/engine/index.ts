export * from "./errors.js";
export * from "./dtype.js";
export * from "./shape.js";
export * from "./rng.js";
export * from "./autograd.js";
export * from "./tensor.js";
export * from "./creation.js";
export { meta, inMeta } from "./meta.js";
export {
  tidy,
  keep,
  dispose,
  inScope,
  ReleasedTensorError,
  setResidentAllocator,
  type ResidentAllocator,
} from "./scope.js";
export { meterAllocations } from "./memory.js";
export { MAX_NDIM, DEFAULT_MAX_TENSOR_BYTES, setMaxTensorBytes, getMaxTensorBytes } from "./limits.js";
