// A worker of the Node thread pool (pool-node.ts; protocol in pool.ts). Instantiates the kernels module
// over the shared memory, then runs tasks of each published generation until it is terminated.

import { workerData } from "node:worker_threads";
import { CTL, PARAMS } from "./instance.js";
import { COUNT_MASK, CTL_DONE, CTL_GEN, CTL_READY, CTL_TASKS, CTL_WORDS, FRESH } from "./pool.js";
import type { WorkerData } from "./pool-node.js";

/**
 * Milliseconds a worker spins on GEN after a generation before sleeping: back-to-back dispatches (B packed,
 * then the products; one layer's kernels) skip the futex, while the longer single-threaded stretches of
 * a training step (copies, small ops, the tape) are slept through instead of burning the second core
 * (≈ 45 ms of CPU per W2 step with a fixed 50,000-iteration spin). Checked every 256 iterations.
 */
const SPIN_MS = 0.2;

const { module, memory, thread } = workerData as WorkerData;
const instance = new WebAssembly.Instance(module, { env: { memory } });
const runTask = instance.exports.runTask as (params: number, task: number, thread: number) => void;
const ctl = new Int32Array(memory.buffer, CTL, CTL_WORDS);

let gen = Atomics.load(ctl, CTL_GEN);
Atomics.add(ctl, CTL_READY, 1);
Atomics.notify(ctl, CTL_READY);
for (;;) {
  let since = 0;
  for (let spin = 0; Atomics.load(ctl, CTL_GEN) === gen; spin++) {
    if ((spin & 255) !== 255) continue;
    const now = performance.now();
    if (since === 0) since = now;
    else if (now - since > SPIN_MS) Atomics.wait(ctl, CTL_GEN, gen);
  }
  gen = Atomics.load(ctl, CTL_GEN);
  for (let v; ((v = Atomics.sub(ctl, CTL_TASKS, 1)) & FRESH) !== 0 && (v & COUNT_MASK) !== 0;) {
    runTask(PARAMS, (v & COUNT_MASK) - 1, thread);
    Atomics.add(ctl, CTL_DONE, 1);
    Atomics.notify(ctl, CTL_DONE);
  }
}
