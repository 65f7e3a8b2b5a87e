// Every differentiable op, by family. Importing this module also installs the Tensor methods.

export * from "./elementwise.js";
export * from "./cast.js";
export * from "./reduce.js";
export * from "./matmul.js";
export * from "./shape.js";
export * from "./indexing.js";
export * from "./nn.js";
export * from "./conv.js";
export * from "./attention.js";
export { setBackend, getBackend, listBackends, registerBackend } from "./kernels.js";
