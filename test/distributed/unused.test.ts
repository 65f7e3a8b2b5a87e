// A parameter that no worker has a gradient for in a step (an expert of a mixture that no token of the batch
// chose) is skipped by one process's optimizer: its values, moments and step count stay. Every strategy keeps
// that — DDP by leaving it without a gradient, ZeRO and FSDP by stepping each parameter's segment of a shard on
// its own — and a parameter only some workers have a gradient for is averaged with zeros from the others.
// Expert b here: unused at steps 0, 3, 6; used by rows 0–1 only (one worker's) at 1, 4, 7; by all at 2, 5, 8.
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { Communicator, createSharedBuffer } from "../../src/distributed/collectives.js";
import { launch } from "../../src/distributed/launch-node.js";
import { loadShardedCheckpoint } from "../../src/distributed/sharded-checkpoint-node.js";
import { LoadError } from "../../src/engine/errors.js";
import { Tensor } from "../../src/engine/tensor.js";
import { loadSafetensors, saveSafetensors } from "../../src/io/node.js";
import { REL, maxRel } from "./compare.js";
import { unusedParamJob, type UnusedResult } from "./jobs.js";

const JOBS = new URL("./jobs.js", import.meta.url);
const tmp = mkdtempSync(join(tmpdir(), "wnn-unused-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const run = (N: number, args: Record<string, unknown>) =>
  launch<UnusedResult>({ worldSize: N, module: JOBS, fn: "unusedParamJob", args, capacity: 1024, timeoutMs: 120_000 });
const one = (args: Record<string, unknown>): UnusedResult =>
  unusedParamJob(new Communicator(createSharedBuffer(1, 1024), 0, 1), { strategy: "ddp", ...args } as never);

/** losses within REL per step; every parameter and moment within REL (maxRel); the step counts equal */
function same(got: UnusedResult, want: UnusedResult, what: string): void {
  got.losses.forEach((l, i) =>
    assert.ok(Math.abs(l - want.losses[i]!) <= REL * want.losses[i]!, `${what}: loss ${i}: ${l} vs ${want.losses[i]}`),
  );
  assert.deepEqual(got.steps, want.steps, `${what}: the step counts`);
  for (const key of ["params", "expAvg", "expAvgSq"] as const) {
    assert.deepEqual(Object.keys(got[key]), Object.keys(want[key]), `${what}: ${key} of the same parameters`);
    for (const [name, v] of Object.entries(want[key])) {
      const d = maxRel(got[key][name]!, v);
      assert.ok(d <= REL, `${what}: ${key} ${name} differs by ${d.toExponential(2)}`);
    }
  }
}

const reference = one({ from: 0, to: 9 });

test("one process skips expert b at the steps no row uses it: 6 of 9 steps counted, 9 for the rest", () => {
  assert.deepEqual(reference.steps, {
    "inp.weight": 9,
    "inp.bias": 9,
    "experts.a.weight": 9,
    "experts.a.bias": 9,
    "experts.b.weight": 6,
    "experts.b.bias": 6,
  });
});

for (const strategy of ["ddp", "zero1", "zero2", "fsdp"] as const) {
  test(`${strategy} with 2 and 4 workers: the parameters, moments and step counts of one process`, async () => {
    for (const N of [2, 4]) {
      const ranks = await run(N, { strategy, from: 0, to: 9 });
      for (let r = 0; r < N; r++) same(ranks[r]!, reference, `${strategy} N=${N} rank ${r}`);
    }
  });
}

test("a sharded checkpoint keeps each parameter's step count: saved by 2 ZeRO-2 workers, continued by 4 FSDP ones", async () => {
  const dir = join(tmp, "zero2");
  await run(2, { strategy: "zero2", from: 0, to: 4, dir, save: true });
  const saved = loadShardedCheckpoint(dir);
  const order = saved.index.optimizer.order;
  const steps = Object.fromEntries(order.map((name, i) => [name, saved.optimizer.state[i]?.step ?? 0]));
  // steps 0–3: expert b used at 1 and 2 only
  assert.deepEqual(steps, {
    ...Object.fromEntries(order.map((n) => [n, 4])),
    "experts.b.weight": 2,
    "experts.b.bias": 2,
  });
  const rest = await run(4, { strategy: "fsdp", from: 4, to: 9, dir, resume: true });
  same(rest[0]!, { ...reference, losses: reference.losses.slice(4) }, "continued by 4 FSDP workers");
});

test("a shard's step counts are checked: one past the index's step count is a LoadError naming it", () => {
  const dir = join(tmp, "bad");
  cpSync(join(tmp, "zero2"), dir, { recursive: true });
  const file = join(dir, "step-000004", "shard-00001-of-00002.safetensors");
  const { tensors } = loadSafetensors(file);
  const name = Object.keys(tensors).find((k) => k.endsWith(".steps"))!;
  const steps = Float32Array.from(tensors[name]!.storage as Float32Array).fill(5);
  saveSafetensors(file, { ...tensors, [name]: new Tensor(steps, [steps.length]) });
  assert.throws(
    () => loadShardedCheckpoint(dir),
    (e: unknown) =>
      e instanceof LoadError &&
      new RegExp(`shard 1 of 2: ${name.replace(/\./g, "\\.")}\\[0\\] is 5, not a step count in \\[0, 4\\]`).test(
        e.message,
      ),
  );
});

test("a sharded checkpoint written before step counts were saved per parameter loads with its one step count", () => {
  const dir = join(tmp, "old");
  cpSync(join(tmp, "zero2"), dir, { recursive: true });
  for (const r of [0, 1]) {
    const file = join(dir, "step-000004", `shard-0000${r}-of-00002.safetensors`);
    const { tensors } = loadSafetensors(file);
    saveSafetensors(file, Object.fromEntries(Object.entries(tensors).filter(([k]) => !k.endsWith(".steps"))));
  }
  const saved = loadShardedCheckpoint(dir);
  assert.deepEqual(
    saved.index.optimizer.order.map((_, i) => saved.optimizer.state[i]?.step),
    saved.index.optimizer.order.map(() => 4),
  );
});
