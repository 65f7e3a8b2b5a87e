// The thread-pool seam. The core knows only this interface; the Node implementation (pool-node.ts,
// worker_threads) is installed by the Node entry point (src/index-node.ts), so the core still bundles for
// browsers. Without an installed pool, or without shared memory, every kernel runs on the calling
// thread.
//
// Dispatch protocol over the control words at CTL in the shared wasm memory (Int32 indices below):
// the caller writes the kernel's parameter block, sets DONE = 0 and TASKS = FRESH | count, then bumps
// GEN and notifies. Every thread (the caller too, as thread 0) takes tasks with Atomics.sub(TASKS, 1):
// a result v with the FRESH bit set and a non-zero count is task (v & COUNT_MASK) − 1; anything else
// means the tasks ran out (once the count reaches 0 the next sub borrows the FRESH bit away). After
// each task a thread increments DONE and notifies; the caller returns once DONE = count. So the caller
// never waits for a worker that is asleep or descheduled, only for tasks in progress, and a worker that
// wakes late can only take tasks of the current dispatch (its parameters stay put until DONE = count).

import type { WasmState } from "./instance.js";

export const CTL_GEN = 0;
export const CTL_TASKS = 1;
export const CTL_DONE = 2;
export const CTL_READY = 3;
export const CTL_WORDS = 16;
export const FRESH = 1 << 30;
export const COUNT_MASK = FRESH - 1;

export interface ThreadPool {
  /** threads including the caller */
  readonly threads: number;
  /** Runs tasks 0..count-1 of the kernel whose parameter block is at PARAMS; returns when all are done. */
  run(count: number): void;
  /** Stops the workers. */
  close(): void;
}

/** Creates a pool of `threads` threads (the caller plus threads−1 workers) over st's shared memory, or null. */
export type PoolFactory = (st: WasmState, threads: number) => ThreadPool | null;

let factory: PoolFactory | null = null;
let defaultThreads = 1;
let requested = 0; // 0: the default
let pool: ThreadPool | null = null;

/** Installs the host's pool factory (Node: pool-node.ts) and its default thread count (all cores). */
export function installThreadPool(f: PoolFactory, cores: number): void {
  pool?.close();
  pool = null;
  factory = f;
  defaultThreads = Math.max(1, cores);
}

/** Threads used by large kernels from now on (1 = no workers). The pool is resized on next use. */
export function setThreads(n: number): void {
  requested = n;
  if (pool && pool.threads !== threads()) {
    pool.close();
    pool = null;
  }
}

/** The thread count kernels use: what setThreads asked for, else the host's default; 1 without a pool. */
export function threads(): number {
  if (!factory) return 1;
  return requested || defaultThreads;
}

/** The pool for st, created on first use; null when single-threaded (no factory, 1 thread, no shared memory). */
export function threadPool(st: WasmState): ThreadPool | null {
  const n = threads();
  if (n <= 1 || !st.shared || !factory) return null;
  if (!pool) {
    pool = factory(st, n);
    if (!pool) factory = null; // could not start workers: stay single-threaded
  }
  return pool;
}
