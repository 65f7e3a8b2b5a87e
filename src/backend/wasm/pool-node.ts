// The Node thread pool: worker_threads over the wasm backend's shared memory (protocol: pool.ts).
// Node-only; loaded by src/node.ts, never by the core.

import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { CTL, PARAMS, type WasmState } from "./instance.js";
import { CTL_COUNT, CTL_GEN, CTL_NEXT, CTL_PENDING, CTL_READY, CTL_WORDS, installThreadPool, type ThreadPool } from "./pool.js";

/** Iterations the caller spins on PENDING before sleeping in Atomics.wait. */
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
  for (let r; (r = Atomics.load(ctl, CTL_READY)) < workers.length; ) {
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
      Atomics.store(ctl, CTL_NEXT, 0);
      Atomics.store(ctl, CTL_COUNT, count);
      Atomics.store(ctl, CTL_PENDING, workers.length);
      Atomics.add(ctl, CTL_GEN, 1);
      Atomics.notify(ctl, CTL_GEN);
      for (let t; (t = Atomics.add(ctl, CTL_NEXT, 1)) < count; ) runTask(PARAMS, t, 0);
      for (let spin = 0, p; (p = Atomics.load(ctl, CTL_PENDING)) !== 0; spin++) {
        if (spin > SPIN) Atomics.wait(ctl, CTL_PENDING, p);
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
