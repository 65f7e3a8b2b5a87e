// "writtingnns" under Node (the package's "node" export condition): the whole library, plus the
// worker-thread pool of the wasm backend, so large kernels use every core (`setNumThreads(n)` to
// change). Browsers get ./index.js, which never loads worker_threads.

import { installNodeThreadPool } from "./backend/wasm/pool-node.js";

installNodeThreadPool();

export * from "./index.js";
