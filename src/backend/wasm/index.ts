// The wasm backend: WebAssembly SIMD kernels (./assembly, compiled by tools/build-wasm.mjs) over one
// wasm memory, with an optional worker-thread pool (pool.ts; Node: pool-node.ts). Implements a subset
// of the KernelTable; the rest, and every non-float32 call, falls back to the reference kernels.

import type { Backend } from "../backend.js";
import { simdSupported } from "./instance.js";
import { matmul } from "./matmul.js";
import { setThreads, threads } from "./pool.js";

export const wasmBackend: Backend = { name: "wasm", kernels: { ...matmul } };

/** True where this host can run the wasm backend (WebAssembly with SIMD). */
export const wasmAvailable = simdSupported;

export { setThreads, threads };
