// The Node launcher: runs one function in N worker_threads that share one SharedArrayBuffer, the group of
// collectives.ts. Node-only (platform code, like the wasm backend's pool-node.ts); a browser launcher would
// do the same with Web Workers.
//
//   const results = await launch({ worldSize: 4, module: new URL("./job.js", import.meta.url), fn: "train", args });
//
// Each worker imports `module` and calls `fn(comm, args, post)`, where comm is its Communicator and post(message)
// reaches opts.onMessage on this thread (progress while the job runs); the results come
// back in rank order. When a worker throws, the group is aborted (every rank waiting in a collective wakes
// and throws CollectiveError), and launch rejects naming the first failing rank. When a worker hangs, the
// others time out in their collective; launch terminates every worker after `timeoutMs` at the latest.

import { Worker } from "node:worker_threads";
import { ArgumentError } from "../engine/errors.js";
import { CollectiveError, Communicator, createSharedBuffer } from "./collectives.js";

export interface LaunchOptions {
  worldSize: number;
  /** the ES module (file URL or absolute path) that exports fn; a worker imports it */
  module: URL | string;
  /** the exported function's name: (comm: Communicator, args) => result (sync or async; structured-cloneable result) */
  fn: string;
  /** structured-cloneable arguments passed to every rank */
  args?: unknown;
  /** float32 elements of each rank's shared segment (default 1 << 16) */
  capacity?: number;
  /** one collective's wait limit inside the workers (default 5 min) */
  collectiveTimeoutMs?: number;
  /** the whole job's limit: after it every worker is terminated and launch rejects (default 10 min) */
  timeoutMs?: number;
  /** receives what a worker's fn passes to its third argument, post(message) (progress, while the job runs) */
  onMessage?: (rank: number, message: unknown) => void;
}

/** What the worker entry receives. */
export interface LaunchWorkerData {
  buffer: SharedArrayBuffer;
  rank: number;
  worldSize: number;
  module: string;
  fn: string;
  args: unknown;
  collectiveTimeoutMs: number;
}

type Reply =
  | { ok: true; result: unknown }
  | { ok: false; name: string; message: string; followsAbort: boolean }
  | { report: unknown };

/** Runs fn on worldSize workers and resolves to their results in rank order. */
export function launch<T = unknown>(opts: LaunchOptions): Promise<T[]> {
  const buffer = createSharedBuffer(checkWorldSize(opts.worldSize), opts.capacity ?? 1 << 16);
  return runWorkers<T>(buffer, 0, opts);
}

/**
 * The group with this thread as rank 0: `comm` is rank 0's Communicator here (this thread runs its share of the
 * job itself, e.g. the command line's training loop, with its progress and Ctrl-C), and `workers` resolves to
 * the results of ranks 1 … N−1, each running fn in a worker thread. When this thread fails, it must call
 * comm.abort() so that the workers stop.
 */
export function launchWithHost<T = unknown>(opts: LaunchOptions): { comm: Communicator; workers: Promise<T[]> } {
  const buffer = createSharedBuffer(checkWorldSize(opts.worldSize), opts.capacity ?? 1 << 16);
  const comm = new Communicator(buffer, 0, opts.worldSize, { timeoutMs: opts.collectiveTimeoutMs ?? 300_000 });
  return { comm, workers: opts.worldSize > 1 ? runWorkers<T>(buffer, 1, opts) : Promise.resolve([]) };
}

function checkWorldSize(worldSize: number): number {
  if (!Number.isInteger(worldSize) || worldSize < 1)
    throw new ArgumentError(`launch: worldSize must be a positive integer, got ${worldSize}`);
  return worldSize;
}

/** Ranks first … N−1 in worker threads; resolves to their results in rank order. */
function runWorkers<T>(buffer: SharedArrayBuffer, first: number, opts: LaunchOptions): Promise<T[]> {
  const { worldSize } = opts;
  const module = typeof opts.module === "string" ? opts.module : opts.module.href;
  const collectiveTimeoutMs = opts.collectiveTimeoutMs ?? 300_000;
  const host = new Communicator(buffer, 0, worldSize); // only to abort the group from here
  return new Promise<T[]>((resolve, reject) => {
    const results: unknown[] = new Array(worldSize - first);
    const workers: Worker[] = [];
    let pending = worldSize - first;
    // every failure, in arrival order; the one reported is the first that is a cause, not another's consequence
    const failures: { error: CollectiveError; followsAbort: boolean }[] = [];
    let grace: ReturnType<typeof setTimeout> | undefined;
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearTimeout(grace);
      if (failures.length) reject((failures.find((f) => !f.followsAbort) ?? failures[0]!).error);
      else resolve(results as T[]);
    };
    const fail = (who: string, why: string, followsAbort = false): void => {
      failures.push({ error: new CollectiveError(`launch: ${who} of ${worldSize} failed: ${why}`), followsAbort });
      if (failures.length > 1) return;
      host.abort();
      // the others wake from their collectives and report; one that is stuck outside them is terminated
      grace = setTimeout(() => {
        for (const w of workers) void w.terminate();
        finish();
      }, 2000);
    };
    const timer = setTimeout(() => {
      fail("the group", `the job did not finish within ${opts.timeoutMs ?? 600_000} ms; every worker is terminated`);
      for (const w of workers) void w.terminate();
      finish();
    }, opts.timeoutMs ?? 600_000);
    for (let rank = first; rank < worldSize; rank++) {
      const data: LaunchWorkerData = {
        buffer,
        rank,
        worldSize,
        module,
        fn: opts.fn,
        args: opts.args,
        collectiveTimeoutMs,
      };
      const w = new Worker(new URL("./worker-node.js", import.meta.url), { workerData: data });
      workers.push(w);
      let done = false;
      const settle = (): void => {
        if (done) return;
        done = true;
        if (--pending === 0) finish();
      };
      w.on("message", (m: Reply) => {
        if ("report" in m) {
          opts.onMessage?.(rank, m.report);
          return;
        }
        if (m.ok) results[rank - first] = m.result;
        else fail(`worker ${rank}`, `${m.name}: ${m.message}`, m.followsAbort);
        settle();
        void w.terminate();
      });
      w.on("error", (e) => {
        fail(`worker ${rank}`, `${e.name}: ${e.message}`);
        settle();
      });
      w.on("exit", (code) => {
        if (!done) fail(`worker ${rank}`, `exited with code ${code} before returning`);
        settle();
      });
    }
  });
}
