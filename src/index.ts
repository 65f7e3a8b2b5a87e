// writtingnns: the public API. `import * as wnn from "writtingnns"`.

export * from "./engine/index.js";
export * from "./ops/index.js";
export * as nn from "./nn/index.js";
export * as optim from "./optim/index.js";
export * as io from "./io/index.js";
export * as generation from "./generation/index.js";
export * as models from "./models/index.js";
export * as data from "./data/index.js";
export { setNumThreads, getNumThreads, backendSummary } from "./ops/kernels.js";
export * as recipes from "./recipes/index.js";
