// The Node thread pool: worker_threads over the wasm backend's shared memory (protocol: pool.ts).
// Node-only; loaded by src/index-node.ts, never by the core.

import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { CTL, PARAMS, type WasmState } from "./instance.js";
import {
  COUNT_MASK,
  CTL_DONE,
  CTL_GEN,
  CTL_READY,
  CTL_TASKS,
  CTL_WORDS,
  FRESH,
  installThreadPool,
  type ThreadPool,
} from "./pool.js";

/** Iterations the caller spins on DONE before sleeping in Atomics.wait. */
const SPIN = 20000;

export interface WorkerData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  thread: number;
}

function createPool(st: WasmState, threads: number): ThreadPool | null {
  const ctl = new Int32Array(st.memory.buffer, CTL, CTL_WORDS);
  Atomics.store(ctl, CTL_READY, 0);
  const workers: Worker[] = [];
  for (let t = 1; t < threads; t++) {
    const data: WorkerData = { module: st.module, memory: st.memory, thread: t };
    const w = new Worker(new URL("./worker-node.js", import.meta.url), { workerData: data });
    w.unref(); // idle workers never keep the process alive
    workers.push(w);
  }
  // Workers start on their own threads; wait (up to 10 s) until every one has instantiated the module.
  const deadline = Date.now() + 10_000;
  for (let r; (r = Atomics.load(ctl, CTL_READY)) < workers.length;) {
    if (Date.now() > deadline) {
      for (const w of workers) void w.terminate();
      return null;
    }
    Atomics.wait(ctl, CTL_READY, r, 100);
  }
  const runTask = st.exports.runTask;
  return {
    threads,
    run(count: number): void {
      Atomics.store(ctl, CTL_DONE, 0);
      Atomics.store(ctl, CTL_TASKS, FRESH | count);
      Atomics.add(ctl, CTL_GEN, 1);
      Atomics.notify(ctl, CTL_GEN);
      for (let v; ((v = Atomics.sub(ctl, CTL_TASKS, 1)) & FRESH) !== 0 && (v & COUNT_MASK) !== 0;) {
        runTask(PARAMS, (v & COUNT_MASK) - 1, 0);
        Atomics.add(ctl, CTL_DONE, 1);
      }
      for (let spin = 0, d; (d = Atomics.load(ctl, CTL_DONE)) < count; spin++) {
        if (spin > SPIN) Atomics.wait(ctl, CTL_DONE, d);
      }
    },
    close(): void {
      for (const w of workers) void w.terminate();
      workers.length = 0;
    },
  };
}

/** Makes the wasm backend use worker threads in this process (default: one per core). */
export function installNodeThreadPool(): void {
  installThreadPool(createPool, availableParallelism());
}
