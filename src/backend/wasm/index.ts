// The wasm backend: WebAssembly SIMD kernels (./assembly, compiled by tools/build-wasm.mjs) over one
// wasm memory, with an optional worker-thread pool (pool.ts; Node: pool-node.ts), and TypeScript
// kernels where a copy into wasm memory would cost more than it saves (layout copies of operands
// outside the heap, small binary arithmetic and sums, the Adam update, im2col/col2im of operands outside the heap, pooling, gather/scatter and embedding). Implements a subset of the KernelTable; the rest, and every
// call whose dtype a kernel does not handle (float64 always), falls back to the reference kernels.

import type { Backend } from "../backend.js";
import { attention } from "./attention.js";
import { conv } from "./conv.js";
import { elementwise } from "./elementwise.js";
import { indexing } from "./indexing.js";
import { simdSupported } from "./instance.js";
import { layout } from "./layout.js";
import { matmul } from "./matmul.js";
import { nn } from "./nn.js";
import { optim } from "./optim.js";
import { setThreads, threads } from "./pool.js";
import { qmatmul } from "./qmatmul.js";
import { reduce } from "./reduce.js";

export const wasmBackend: Backend = {
  name: "wasm",
  kernels: {
    ...matmul,
    ...elementwise,
    ...layout,
    ...reduce,
    ...nn,
    ...attention,
    ...optim,
    ...conv,
    ...indexing,
    ...qmatmul,
  },
};

/** True where this host can run the wasm backend (WebAssembly with SIMD). */
export const wasmAvailable = simdSupported;

export { setThreads, threads };
