// A worker of the Node thread pool (pool-node.ts; protocol in pool.ts). Instantiates the kernels module
// over the shared memory, then runs tasks of each published generation until it is terminated.

import { workerData } from "node:worker_threads";
import { CTL, PARAMS } from "./instance.js";
import { COUNT_MASK, CTL_DONE, CTL_GEN, CTL_READY, CTL_TASKS, CTL_WORDS, FRESH } from "./pool.js";
import type { WorkerData } from "./pool-node.js";

/** Iterations a worker spins on GEN after a generation before sleeping (back-to-back kernels skip the futex). */
const SPIN = 50000;

const { module, memory, thread } = workerData as WorkerData;
const instance = new WebAssembly.Instance(module, { env: { memory } });
const runTask = instance.exports.runTask as (params: number, task: number, thread: number) => void;
const ctl = new Int32Array(memory.buffer, CTL, CTL_WORDS);

let gen = Atomics.load(ctl, CTL_GEN);
Atomics.add(ctl, CTL_READY, 1);
Atomics.notify(ctl, CTL_READY);
for (;;) {
  for (let spin = 0; Atomics.load(ctl, CTL_GEN) === gen; spin++) {
    if (spin > SPIN) Atomics.wait(ctl, CTL_GEN, gen);
  }
  gen = Atomics.load(ctl, CTL_GEN);
  for (let v; ((v = Atomics.sub(ctl, CTL_TASKS, 1)) & FRESH) !== 0 && (v & COUNT_MASK) !== 0; ) {
    runTask(PARAMS, (v & COUNT_MASK) - 1, thread);
    Atomics.add(ctl, CTL_DONE, 1);
    Atomics.notify(ctl, CTL_DONE);
  }
}
