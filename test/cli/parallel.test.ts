// `wnn train gpt --workers N --strategy ...`: a few steps of every strategy print the losses of `--workers 1`
// (the same digits; within 1e-6 relative in log.jsonl), and a run saved with 4 workers continues with 2 and
// with 1 as the uninterrupted run does (the checkpoint is one process's, consolidated from the shards).

import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { loadCheckpoint } from "../../src/io/node.js";
import { readHFFolder } from "../../src/io/hf-folder.js";
import { join } from "node:path";
import { test } from "node:test";
import { printed, readLog, sameLosses, tmp, wnn, type Entry } from "./parallel-helpers.js";

/** A 2-block GPT, batch 4 (1, 2 or 4 sequences per worker), 6 steps with estimates at 0, 3 and 6. */
const TINY = [
  "--n_layer",
  "2",
  "--n_embd",
  "32",
  "--block_size",
  "16",
  "--batch_size",
  "4",
  "--eval_iters",
  "2",
  "--warmup_iters",
  "2",
  "--lr_decay_iters",
  "6",
  "--eval_interval",
  "3",
  "--sample_tokens",
  "0",
  "--log_interval",
  "1",
];

function run(dir: string, ...args: string[]): string {
  const r = wnn("train", "gpt", ...TINY, ...args);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

let single: { out: string; log: Entry[] } | undefined;
const one = () => {
  if (!single) {
    const dir = join(tmp, "one");
    single = { out: run(dir, "--iters", "6", "--out", dir), log: readLog(dir) };
  }
  return single;
};

for (const [N, strategy, extra] of [
  [2, "ddp"],
  [2, "zero1"],
  [4, "zero2"],
  [4, "fsdp", "--checkpointing"],
] as const) {
  test(`--workers ${N} --strategy ${strategy}${extra ? ` ${extra}` : ""} prints the losses of --workers 1`, () => {
    const dir = join(tmp, `${strategy}-${N}`);
    const out = run(
      dir,
      "--iters",
      "6",
      "--workers",
      String(N),
      "--strategy",
      strategy,
      ...(extra ? [extra] : []),
      "--out",
      dir,
    );
    assert.match(
      out,
      new RegExp(`data parallel: ${N} workers \\(threads\\), strategy ${strategy}, ${4 / N} sequences each`),
    );
    assert.deepEqual(printed(out), printed(one().out));
    assert.equal(printed(out).length, 6 + 3 + 1); // every step, the 3 estimates, the final line
    sameLosses(readLog(dir), one().log, `${strategy} N=${N}`);
  });
}

// --dropout 0.1: each worker draws its block of the masks one process draws for the whole batch (forwardOnRows),
// so the losses are still those of --workers 1; batch 6 (3 or 2 sequences per worker), 3 steps, estimates at 0 and 3
// (no dropout in them), --checkpointing draws the masks again in backward.
/** TINY's name-value pairs but those named. */
const without = (names: string[]): string[] => TINY.filter((_, i) => !names.includes(TINY[i - (i % 2)]!));
const DROPOUT = [
  ...without(["--batch_size", "--lr_decay_iters", "--eval_interval"]),
  ...["--batch_size", "6", "--lr_decay_iters", "3", "--eval_interval", "3", "--dropout", "0.1", "--iters", "3"],
];
function runDropout(...args: string[]): string {
  const r = wnn("train", "gpt", ...DROPOUT, ...args);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}
let singleDropout: { out: string; log: Entry[] } | undefined;
const oneDropout = () => {
  if (!singleDropout) {
    const dir = join(tmp, "dropout-1");
    singleDropout = { out: runDropout("--out", dir), log: readLog(dir) };
  }
  return singleDropout;
};

for (const [N, strategy, extra] of [
  [2, "ddp"],
  [3, "zero1"],
  [2, "fsdp", "--checkpointing"],
] as const) {
  test(`--dropout 0.1 --workers ${N} --strategy ${strategy}${extra ? ` ${extra}` : ""} prints the losses of --workers 1`, (t) => {
    const dir = join(tmp, `dropout-${strategy}-${N}`);
    const out = runDropout("--workers", String(N), "--strategy", strategy, ...(extra ? [extra] : []), "--out", dir);
    assert.match(out, /dropout 0\.1/);
    assert.match(
      out,
      new RegExp(`data parallel: ${N} workers \\(threads\\), strategy ${strategy}, ${6 / N} sequences each`),
    );
    assert.deepEqual(printed(out), printed(oneDropout().out));
    assert.equal(printed(out).length, 3 + 2 + 1); // every step, the 2 estimates, the final line
    const worst = sameLosses(readLog(dir), oneDropout().log, `--dropout 0.1 ${strategy} N=${N}`);
    t.diagnostic(`largest relative difference from --workers 1: ${worst.toExponential(1)}`);
  });
}

test("a run saved sharded by 4 FSDP workers continues with 2 (ZeRO-2) and with 1 as if never stopped, and consolidates", () => {
  const dir4 = join(tmp, "fsdp4");
  run(dir4, "--iters", "3", "--workers", "4", "--strategy", "fsdp", "--sharded_checkpoint", "--out", dir4);
  assert.ok(existsSync(join(dir4, "sharded", "step-000003", "shard-00003-of-00004.safetensors")));
  assert.ok(!existsSync(join(dir4, "checkpoint.safetensors")), "sharded saves only");
  // copy the run: one continuation with 2 workers, one with a single process
  for (const [N, strategy] of [
    [2, "zero2"],
    [1, undefined],
  ] as const) {
    const dir = join(tmp, `fsdp4-then-${N}`);
    rmSync(dir, { recursive: true, force: true });
    assert.equal(spawnSync("cp", ["-r", dir4, dir]).status, 0);
    const r = wnn(
      "train",
      "gpt",
      "--resume",
      dir,
      "--iters",
      "6",
      "--sample_tokens",
      "0",
      "--log_interval",
      "1",
      "--workers",
      String(N),
      ...(strategy ? ["--strategy", strategy] : []),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /resuming .* at step 3 of 6/);
    sameLosses(readLog(dir), one().log, `saved with 4 workers, continued with ${N}`);
  }
  // consolidation: one checkpoint that `wnn sample` reads, and a Hugging Face GPT-2 folder
  const c = wnn("consolidate", "--checkpoint", dir4, "--hf", join(dir4, "hf"));
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stdout, /consolidated 4 shards \(fsdp\) of step 3 into/);
  const ckpt = loadCheckpoint(join(dir4, "checkpoint.safetensors"));
  assert.equal(ckpt.step, 3);
  const hf = readHFFolder(join(dir4, "hf"));
  assert.equal((hf.config as { model_type?: string }).model_type, "gpt2");
  // the HF folder holds the consolidated weights (GPT-2's names; wte is tokEmb)
  assert.deepEqual(
    Array.from(hf.tensors["wte.weight"]?.storage ?? hf.tensors["transformer.wte.weight"]!.storage),
    Array.from(ckpt.model["tokEmb.weight"]!.storage),
  );
  assert.equal(wnn("sample", "--checkpoint", dir4, "--tokens", "5").code, 0);
});

test("--workers must divide the batch; --strategy names one of the four", () => {
  const r = wnn("train", "gpt", ...TINY, "--iters", "1", "--workers", "3", "--out", join(tmp, "bad"));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--batch_size 4 does not split evenly over --workers 3/);
  const s = wnn(
    "train",
    "gpt",
    ...TINY,
    "--iters",
    "1",
    "--workers",
    "2",
    "--strategy",
    "zero4",
    "--out",
    join(tmp, "bad2"),
  );
  assert.equal(s.code, 2);
  assert.match(s.stderr, /--strategy/);
});
