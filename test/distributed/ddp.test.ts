// DDP: N workers on slices of the global batch take the same 20 AdamW steps as one process on the whole
// batch (parameters, optimizer moments and losses within 1e-6 relative), and two runs are bit-identical.
// "Relative" per tensor: ‖a − b‖ / ‖b‖ and max|a − b| / max|b|. Entry by entry the ratio is larger where an
// entry is near zero (≈ 1e-4 at 3e-5): one process sums the batch's gradient in another order than the ring,
// float32 rounding differs at 1e-7 of the gradient's scale, and Adam's m/√v passes that on to tiny entries.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Communicator, createSharedBuffer } from "../../src/distributed/collectives.js";
import { launch } from "../../src/distributed/launch-node.js";
import { DistributedDataParallel } from "../../src/distributed/ddp.js";
import { ZeRO2 } from "../../src/distributed/zero2.js";
import { ArgumentError } from "../../src/engine/errors.js";
import * as wnn from "../../src/index.js";
import { ddpTrainJob, type TrainResult } from "./jobs.js";
import { compareRuns as compare, maxRel } from "./compare.js";

const JOBS = new URL("./jobs.js", import.meta.url);
const ARGS = { steps: 20, batch: 16, bucketElements: 150 }; // 150 elements: several buckets, one parameter split over two

const single = (): TrainResult => ddpTrainJob(new Communicator(createSharedBuffer(1, 1024), 0, 1), ARGS);
let reference: TrainResult | undefined;
const ref = (): TrainResult => (reference ??= single());
const train = (N: number, strategy: string, extra: object = {}) =>
  launch<TrainResult>({
    worldSize: N,
    module: JOBS,
    fn: "ddpTrainJob",
    args: { ...ARGS, strategy, ...extra },
    capacity: 1024,
    timeoutMs: 120_000,
  });
/** DDP's runs, once per N, shared by the tests below */
const ddpRuns = new Map<number, Promise<TrainResult[]>>();
const ddp = (N: number): Promise<TrainResult[]> => {
  if (!ddpRuns.has(N)) ddpRuns.set(N, train(N, "ddp"));
  return ddpRuns.get(N)!;
};

test("DDP with 2 and 4 workers equals one process on the global batch after 20 AdamW steps", async () => {
  const one = ref();
  assert.ok(one.losses[19]! < one.losses[0]! * 0.9, `training makes progress: ${one.losses[0]} → ${one.losses[19]}`);
  for (const N of [2, 4]) {
    const ranks = await ddp(N);
    for (let r = 0; r < N; r++) compare(ranks[r]!, one, `N=${N} rank ${r}`);
    // the workers agree bit for bit with each other
    for (let r = 1; r < N; r++)
      assert.deepEqual(ranks[r]!.params, ranks[0]!.params, `N=${N}: rank ${r}'s parameters equal rank 0's`);
  }
});

for (const strategy of ["zero1", "zero2"] as const) {
  test(`${strategy} with 2 and 4 workers equals one process, and DDP bit for bit`, async () => {
    for (const N of [2, 4]) {
      const zero = await train(N, strategy);
      const same = await ddp(N);
      for (let r = 0; r < N; r++) {
        compare(zero[r]!, ref(), `${strategy} N=${N} rank ${r}`);
        // the same buckets, the same ring, Adam elementwise: the sharded update is DDP's arithmetic
        assert.deepEqual(zero[r]!.params, same[r]!.params, `${strategy} N=${N} rank ${r}: parameters equal DDP's`);
        assert.deepEqual(zero[r]!.expAvgSq, same[r]!.expAvgSq, `${strategy} N=${N} rank ${r}: moments equal DDP's`);
        // each worker holds its shard of the moments: 2 buffers × its chunk of every bucket (about Ψ/N each)
        assert.ok(
          zero[r]!.stateElements <= Math.ceil(same[r]!.stateElements / N) + 2 * 6,
          `${strategy} N=${N} rank ${r}: ${zero[r]!.stateElements} state elements vs DDP's ${same[r]!.stateElements}`,
        );
      }
      // the shards cover DDP's state exactly once
      assert.equal(
        zero.reduce((n, z) => n + z.stateElements, 0),
        same[0]!.stateElements,
      );
    }
  });
}

for (const strategy of ["fsdp", "fsdp-ac"] as const) {
  test(`${strategy} (every Linear a unit${strategy === "fsdp-ac" ? ", recomputed in backward" : ""}) with 2 and 4 workers equals one process`, async () => {
    for (const N of [2, 4]) {
      const ranks = await train(N, strategy);
      for (let r = 0; r < N; r++) compare(ranks[r]!, ref(), `${strategy} N=${N} rank ${r}`);
      // the moments' shards cover one process's state exactly once
      assert.equal(
        ranks.reduce((n, z) => n + z.stateElements, 0),
        ref().stateElements,
      );
    }
  });
}

test("without the gradient all-reduce the workers drift apart (the comparison above can fail)", async () => {
  const ranks = await train(2, "ddp", { noSync: true });
  assert.ok(maxRel(ranks[0]!.params[0]!, ref().params[0]!) > 1e-2);
});

test("DDP runs are bit-identical from one run to the next", async () => {
  // a second run of N = 2 against the first one above
  const [a, b] = [await ddp(2), await train(2, "ddp")];
  assert.deepEqual(a[0]!.losses, b[0]!.losses);
  assert.deepEqual(a[0]!.params, b[0]!.params);
  assert.deepEqual(a[0]!.expAvgSq, b[0]!.expAvgSq);
});

test("ZeRO refuses a parameter larger than the group's segments with an ArgumentError naming it", () => {
  const comm = new Communicator(createSharedBuffer(1, 10), 0, 1);
  assert.throws(
    () => new ZeRO2(new wnn.nn.Linear(4, 4), comm, (p) => new wnn.optim.AdamW(p)),
    (e: unknown) =>
      e instanceof ArgumentError &&
      /ZeRO2: a parameter of shape \(4, 4\) has 16 elements, more than the group's capacity of 10/.test(e.message),
  );
});

test("DDP leaves a parameter no worker has a gradient for without one: the optimizer skips it, as one process's", () => {
  // two experts, only the first used (as an expert of a mixture no token chose): its gradient is averaged, the
  // second keeps none, so AdamW leaves it, its moments and its step count where they were
  class Two extends wnn.nn.Module {
    a = new wnn.nn.Linear(3, 2, { generator: new wnn.Generator(1) });
    b = new wnn.nn.Linear(3, 2, { generator: new wnn.Generator(2) });
  }
  const m = new Two();
  const ddp = new DistributedDataParallel(m, new Communicator(createSharedBuffer(1, 64), 0, 1));
  const opt = new wnn.optim.AdamW(m.parameters(), { lr: 0.1, weightDecay: 0.1 });
  const before = m.b.weight.storage.slice();
  m.a
    .forward(wnn.randn([4, 3], { generator: new wnn.Generator(3) }))
    .sum()
    .backward();
  ddp.allReduceGradients();
  assert.ok(m.a.weight.grad && m.a.bias!.grad, "the used parameters have their gradient");
  assert.equal(m.b.weight.grad, null);
  assert.equal(m.b.bias!.grad, null);
  opt.step();
  assert.deepEqual(m.b.weight.storage, before, "unchanged (no weight decay either)");
  assert.equal(opt.getState(m.b.weight), undefined, "no state: its steps are not counted");
});
