// The collectives against their single-threaded definition, for N = 1…4 workers and sizes that N does
// not divide; a worker that throws or hangs stops the group with a CollectiveError (no deadlock).
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  chunkRange,
  CollectiveError,
  Communicator,
  createSharedBuffer,
  ringSumReference,
} from "../../src/distributed/collectives.js";
import { launch } from "../../src/distributed/launch-node.js";
import { ArgumentError } from "../../src/engine/errors.js";
import { inputOf, type CollectiveResults } from "./jobs.js";

const JOBS = new URL("./jobs.js", import.meta.url);
const SIZES = [0, 1, 3, 7, 10, 255, 1001]; // 1001 > capacity: all-reduce and broadcast go in pieces
const CAPACITY = 256;

const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);
const sameBits = (a: Float32Array, b: Float32Array, what: string): void => assert.deepEqual(bits(a), bits(b), what);

for (const N of [1, 2, 3, 4]) {
  test(`collectives with ${N} worker(s) equal their single-threaded definition, bit for bit`, async () => {
    const ranks = await launch<CollectiveResults[]>({
      worldSize: N,
      module: JOBS,
      fn: "collectivesJob",
      args: { sizes: SIZES },
      capacity: CAPACITY,
      timeoutMs: 60_000,
    });
    assert.equal(ranks.length, N);
    SIZES.forEach((n, k) => {
      const inputs = Array.from({ length: N }, (_, r) => inputOf(r, n));
      const sum = ringSumReference(inputs, CAPACITY);
      // the fixed ring order is also a correct sum: within float32 rounding of the float64 one
      for (let i = 0; i < n; i++) {
        let exact = 0;
        for (const x of inputs) exact += x[i]!;
        const scale = inputs.reduce((s, x) => s + Math.abs(x[i]!), 0);
        assert.ok(Math.abs(sum[i]! - exact) <= 4 * N * 2 ** -24 * scale, `n=${n} i=${i}: ${sum[i]} vs ${exact}`);
      }
      for (let r = 0; r < N; r++) {
        const got = ranks[r]![k]!;
        assert.equal(got.n, n);
        sameBits(got.allReduce, sum, `allReduce n=${n} rank ${r}`);
        sameBits(got.broadcast, inputs[N - 1]!, `broadcast n=${n} rank ${r}`);
        if (n <= CAPACITY) {
          const [a, b] = chunkRange(n, N, r);
          sameBits(got.reduceScatter!, sum.slice(a, b), `reduceScatter n=${n} rank ${r}`);
          sameBits(got.allGather!, sum, `allGather n=${n} rank ${r}`);
        }
      }
    });
  });
}

test("chunks cover sizes that N does not divide, in order, without gaps", () => {
  for (const N of [1, 2, 3, 4]) {
    for (const n of [0, 1, 3, 7, 10]) {
      let end = 0;
      for (let c = 0; c < N; c++) {
        const [a, b] = chunkRange(n, N, c);
        assert.equal(a, end);
        assert.ok(b >= a && b - a <= Math.ceil(n / N));
        end = b;
      }
      assert.equal(end, n);
    }
  }
});

test("a worker that throws stops every worker with a CollectiveError naming it", async () => {
  const t0 = Date.now();
  await assert.rejects(
    launch({
      worldSize: 3,
      module: JOBS,
      fn: "throwingJob",
      args: { bad: 1 },
      collectiveTimeoutMs: 20_000,
      timeoutMs: 30_000,
    }),
    (e: unknown) =>
      e instanceof CollectiveError && /worker 1 of 3 failed: RangeError: rank 1 cannot go on/.test(e.message),
  );
  assert.ok(Date.now() - t0 < 15_000, "the others stop on the abort, not on the timeout");
});

test("a worker that hangs makes the others time out with a CollectiveError (no deadlock)", async () => {
  await assert.rejects(
    launch({
      worldSize: 2,
      module: JOBS,
      fn: "hangingJob",
      args: { bad: 1 },
      collectiveTimeoutMs: 300,
      timeoutMs: 30_000,
    }),
    (e: unknown) =>
      e instanceof CollectiveError &&
      /worker 0 of 2 failed: CollectiveError: barrier: rank 0 of 2 waited 300 ms/.test(e.message),
  );
});

test("bad arguments are typed errors naming the collective", () => {
  assert.throws(() => createSharedBuffer(0, 4), ArgumentError);
  const comm = new Communicator(createSharedBuffer(1, 4), 0, 1);
  assert.throws(
    () => comm.reduceScatter(new Float32Array(5)),
    (e: unknown) => e instanceof ArgumentError && /reduceScatter: 5 elements exceed/.test(e.message),
  );
  assert.throws(
    () => comm.allGather(new Float32Array(2), new Float32Array(3)),
    (e: unknown) => e instanceof ArgumentError && /allGather: rank 0 of 1 must pass chunk \[0, 3\)/.test(e.message),
  );
  assert.throws(() => new Communicator(createSharedBuffer(2, 4), 2, 2), ArgumentError);
  // one rank alone: every collective is the identity
  const x = new Float32Array([1, 2, 3]);
  comm.allReduce(x);
  assert.deepEqual([...x], [1, 2, 3]);
});
