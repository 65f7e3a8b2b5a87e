// The memory estimate of a data-parallel run counts what the workers replicate: ZeRO's bytes per worker (params,
// gradients, AdamW moments, the sharded parts over N) times N, beyond the one process the estimate counts.
import { strict as assert } from "node:assert";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { workerStateBytes } from "../../cli/memory.js";
import { trainingBytes } from "../../cli/gpt.js";
import { countParameters, PRESETS } from "../../src/models/gpt2/model.js";
import { tmp, wnn } from "./parallel-helpers.js";

test("workerStateBytes: N workers' replicas beyond one process's 16Ψ, by ZeRO's float32 formulas", () => {
  const psi = 1000;
  for (const s of ["ddp", "zero1", "zero2", "fsdp"]) assert.equal(workerStateBytes(s, 1, psi), 0, `${s} on one worker`);
  // per worker: DDP 16Ψ; ZeRO-1 4Ψ + 4Ψ + 8Ψ/N; ZeRO-2 4Ψ + (4Ψ + 8Ψ)/N; FSDP 16Ψ/N
  assert.equal(workerStateBytes("ddp", 4, psi), 4 * 16 * psi - 16 * psi);
  assert.equal(workerStateBytes("zero1", 4, psi), 4 * (8 * psi + (8 * psi) / 4) - 16 * psi);
  assert.equal(workerStateBytes("zero2", 4, psi), 4 * (4 * psi + (12 * psi) / 4) - 16 * psi);
  assert.equal(workerStateBytes("fsdp", 4, psi), 0);
  assert.ok(workerStateBytes("ddp", 3, psi) > workerStateBytes("zero1", 3, psi));
  assert.ok(workerStateBytes("zero1", 3, psi) > workerStateBytes("zero2", 3, psi));
});

test("wnn train gpt --workers 4: a budget that holds one process but not four DDP replicas is refused, in one line", () => {
  const c = { ...PRESETS.tiny, vocabSize: 256, nLayer: 8, nHead: 8, nEmbd: 1024, blockSize: 8 };
  const one = trainingBytes(c, 4);
  const four = one + workerStateBytes("ddp", 4, countParameters(c));
  const budgetGiB = (one + four) / 2 / 2 ** 30; // between the two
  const dir = join(tmp, "mem-workers");
  const args = ["train", "gpt", "--n_layer", "8", "--n_head", "8", "--n_embd", "1024", "--block_size", "8"];
  const r = wnn(...args, "--batch_size", "4", "--workers", "4", "--max_memory", budgetGiB.toFixed(3), "--out", dir);
  assert.notEqual(r.code, 0);
  assert.match(
    r.stderr,
    /--workers 4 --strategy ddp: this would need about [\d.]+ GiB \(weights, AdamW state and activations, over 4 workers\)/,
  );
  const need = Number(/need about ([\d.]+) GiB/.exec(r.stderr)![1]);
  assert.ok(Math.abs(need - four / 2 ** 30) <= 0.05, `${need} GiB against ${four / 2 ** 30}`);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.equal(existsSync(dir), false);
});
