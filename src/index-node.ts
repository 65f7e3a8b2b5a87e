// "writtingnns" under Node (the package's "node" export condition): the whole library, plus the
// worker-thread pool of the wasm backend, so large kernels use every core (`setNumThreads(n)` to
// change), and relaxed SIMD (fused multiply-add) where Node has it behind a flag
// (backend/wasm/features-node.ts). Browsers get ./index.js, which never loads worker_threads.

import { enableRelaxedSimd } from "./backend/wasm/features-node.js";
import { installNodeThreadPool } from "./backend/wasm/pool-node.js";

enableRelaxedSimd();
installNodeThreadPool();

export * from "./index.js";
