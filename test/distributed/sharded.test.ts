// Sharded checkpoints: 4 FSDP workers save their shards and an index; the run continues with 2 workers (FSDP)
// and with 1 (ZeRO-1) and takes the steps of the uninterrupted run (losses within 1e-6 relative); a worker that
// dies during a save leaves the previous save as the loadable one; a malformed index is a LoadError.
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { launch } from "../../src/distributed/launch-node.js";
import { loadShardedCheckpoint } from "../../src/distributed/sharded-checkpoint-node.js";
import { LoadError } from "../../src/engine/errors.js";

const JOBS = new URL("./jobs.js", import.meta.url);
const tmp = mkdtempSync(join(tmpdir(), "wnn-sharded-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const run = (N: number, args: Record<string, unknown>) =>
  launch<number[]>({
    worldSize: N,
    module: JOBS,
    fn: "shardedJob",
    args,
    timeoutMs: 120_000,
    collectiveTimeoutMs: 20_000,
  });
const close = (got: number[], want: number[], what: string) =>
  got.forEach((l, i) =>
    assert.ok(Math.abs(l - want[i]!) <= 1e-6 * want[i]!, `${what}: step ${i + 1}: ${l} vs ${want[i]}`),
  );

test("saved by 4 FSDP workers, continued by 2 (FSDP) and by 1 (ZeRO-1): the losses of the uninterrupted run", async () => {
  const [straight] = await run(1, { dir: join(tmp, "unused"), strategy: "ddp", steps: 6 });
  assert.ok(straight![5]! < straight![0]!, `it learns: ${straight}`);
  const dir = join(tmp, "four");
  const first = await run(4, { dir, strategy: "fsdp", steps: 3, save: true });
  close(first[0]!, straight!.slice(0, 3), "the first 3 steps with 4 workers");
  // 4 shard files and the index
  assert.deepEqual(readdirSync(join(dir, "step-000003")).sort(), [
    "index.json",
    ...[0, 1, 2, 3].map((r) => `shard-0000${r}-of-00004.safetensors`),
  ]);
  for (const [N, strategy] of [
    [2, "fsdp"],
    [1, "zero1"],
  ] as const) {
    const copy = join(tmp, `then-${N}`);
    cpSync(dir, copy, { recursive: true });
    const rest = await run(N, { dir: copy, strategy, steps: 3, resume: true });
    close(rest[0]!, straight!.slice(3), `continued with ${N} worker(s) (${strategy})`);
  }
});

test("a worker that dies during a save leaves the previous save loadable", async () => {
  const dir = join(tmp, "killed");
  await run(2, { dir, strategy: "zero2", steps: 1, save: true });
  await assert.rejects(
    run(2, { dir, strategy: "zero2", steps: 2, save: true, die: true }),
    /worker 1 of 2 failed: exited with code 1/,
  );
  // step 2's folder was never completed; `latest` still names step 1, whole and consistent
  const loaded = loadShardedCheckpoint(dir);
  assert.equal(loaded.index.step, 1);
  assert.equal(
    Object.keys(loaded.model).length,
    loaded.index.flats.reduce((n, f) => n + f.params.length, 0),
  );
  // and it continues: one more step equals the uninterrupted run's second
  const [straight] = await run(1, { dir: join(tmp, "unused"), strategy: "ddp", steps: 2 });
  const [again] = await run(1, { dir, strategy: "ddp", steps: 1, resume: true });
  close(again!, straight!.slice(1), "continued from the save before the failed one");
});

test("a malformed index is a LoadError naming the file", () => {
  const dir = join(tmp, "bad");
  cpSync(join(tmp, "four"), dir, { recursive: true });
  writeFileSync(
    join(dir, "step-000003", "index.json"),
    JSON.stringify({ format: "writtingnns.sharded-checkpoint", version: 1, shards: 1e9 }),
  );
  assert.throws(
    () => loadShardedCheckpoint(dir),
    (e: unknown) =>
      e instanceof LoadError &&
      /index\.json: not a sharded checkpoint index: shards must be an integer/.test(e.message),
  );
  // an index whose flat claims more elements than the shards hold: refused before anything that size is allocated
  const index = JSON.parse(readFileSync(join(tmp, "four", "step-000003", "index.json"), "utf8")) as {
    flats: { elements: number; params: { shape: number[] }[] }[];
  };
  index.flats[0] = {
    ...index.flats[0]!,
    elements: 2 ** 40,
    params: [{ ...index.flats[0]!.params[0]!, shape: [2 ** 20, 2 ** 20] }],
  } as never;
  writeFileSync(join(dir, "step-000003", "index.json"), JSON.stringify(index));
  assert.throws(
    () => loadShardedCheckpoint(dir),
    (e: unknown) => e instanceof LoadError && /shard 0 of 4 lacks flat\.0 \(flat 0\)/.test(e.message),
  );
  writeFileSync(join(dir, "latest"), "../../etc\n");
  assert.throws(
    () => loadShardedCheckpoint(dir),
    (e: unknown) => e instanceof LoadError && /expected the name of a save/.test(e.message),
  );
});
