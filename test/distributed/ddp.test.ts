// DDP: N workers on slices of the global batch take the same 20 AdamW steps as one process on the whole
// batch (parameters, optimizer moments and losses within 1e-6 relative), and two runs are bit-identical.
// "Relative" per tensor: ‖a − b‖ / ‖b‖ and max|a − b| / max|b|. Entry by entry the ratio is larger where an
// entry is near zero (≈ 1e-4 at 3e-5): one process sums the batch's gradient in another order than the ring,
// float32 rounding differs at 1e-7 of the gradient's scale, and Adam's m/√v passes that on to tiny entries.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Communicator, createSharedBuffer } from "../../src/distributed/collectives.js";
import { launch } from "../../src/distributed/launch-node.js";
import { ddpTrainJob, type TrainResult } from "./jobs.js";

const JOBS = new URL("./jobs.js", import.meta.url);
const ARGS = { steps: 20, batch: 16, bucketElements: 150 }; // 150 elements: several buckets, one parameter split over two
const REL = 1e-6;

/** the larger of ‖a − b‖₂ / ‖b‖₂ and max|a − b| / max|b| */
function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d2 = 0, b2 = 0, dMax = 0, bMax = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    d2 += d * d;
    b2 += b[i]! * b[i]!;
    dMax = Math.max(dMax, d);
    bMax = Math.max(bMax, Math.abs(b[i]!));
  }
  return Math.max(Math.sqrt(d2 / b2), dMax / bMax);
}

function compare(got: TrainResult, ref: TrainResult, what: string): void {
  got.losses.forEach((l, i) => assert.ok(Math.abs(l - ref.losses[i]!) <= REL * ref.losses[i]!, `${what}: loss at step ${i + 1}: ${l} vs ${ref.losses[i]}`));
  for (const key of ["params", "expAvg", "expAvgSq"] as const) {
    got[key].forEach((a, i) => {
      const r = maxRel(a, ref[key][i]!);
      assert.ok(r <= REL, `${what}: ${key}[${i}] differs by ${r.toExponential(2)} relative`);
    });
  }
}

const single = (): TrainResult => ddpTrainJob(new Communicator(createSharedBuffer(1, 1024), 0, 1), ARGS);

test("DDP with 2 and 4 workers equals one process on the global batch after 20 AdamW steps", async () => {
  const ref = single();
  assert.ok(ref.losses[19]! < ref.losses[0]! * 0.9, `training makes progress: ${ref.losses[0]} → ${ref.losses[19]}`);
  for (const N of [2, 4]) {
    const ranks = await launch<TrainResult>({ worldSize: N, module: JOBS, fn: "ddpTrainJob", args: ARGS, capacity: 1024, timeoutMs: 120_000 });
    for (let r = 0; r < N; r++) compare(ranks[r]!, ref, `N=${N} rank ${r}`);
    // the workers agree bit for bit with each other
    for (let r = 1; r < N; r++) assert.deepEqual(ranks[r]!.params, ranks[0]!.params, `N=${N}: rank ${r}'s parameters equal rank 0's`);
  }
});

test("without the gradient all-reduce the workers drift apart (the comparison above can fail)", async () => {
  const ref = single();
  const ranks = await launch<TrainResult>({ worldSize: 2, module: JOBS, fn: "ddpTrainJob", args: { ...ARGS, noSync: true }, capacity: 1024, timeoutMs: 120_000 });
  assert.ok(maxRel(ranks[0]!.params[0]!, ref.params[0]!) > 1e-2);
});

test("DDP runs are bit-identical from one run to the next", async () => {
  const run = () => launch<TrainResult>({ worldSize: 3, module: JOBS, fn: "ddpTrainJob", args: { ...ARGS, batch: 12 }, capacity: 64, timeoutMs: 120_000 });
  const [a, b] = [await run(), await run()];
  assert.deepEqual(a[0]!.losses, b[0]!.losses);
  assert.deepEqual(a[0]!.params, b[0]!.params);
  assert.deepEqual(a[0]!.expAvgSq, b[0]!.expAvgSq);
});
