// A worker of launch-node.ts: joins the group as its rank, runs the job's function, posts the result (or the
// error, after aborting the group so that no other rank waits for this one).

import { parentPort, workerData } from "node:worker_threads";
import { CollectiveError, Communicator } from "./collectives.js";
import type { LaunchWorkerData } from "./launch-node.js";

const d = workerData as LaunchWorkerData;
const comm = new Communicator(d.buffer, d.rank, d.worldSize, { timeoutMs: d.collectiveTimeoutMs });
try {
  const mod = (await import(d.module)) as Record<string, unknown>;
  const fn = mod[d.fn];
  if (typeof fn !== "function") throw new TypeError(`${d.module} does not export a function ${d.fn}`);
  const post = (report: unknown): void => parentPort!.postMessage({ report });
  const result: unknown = await (fn as (c: Communicator, a: unknown, p: typeof post) => unknown)(comm, d.args, post);
  parentPort!.postMessage({ ok: true, result });
} catch (e) {
  comm.abort();
  const err = e instanceof Error ? e : new Error(String(e));
  parentPort!.postMessage({
    ok: false,
    name: err.name,
    message: err.message,
    followsAbort: err instanceof CollectiveError && err.followsAbort,
  });
}
