// Non-finite losses in every command that trains and writes a checkpoint (`wnn train gpt`, `ddpm`, `mlp`, a zoo model): a
// learning rate of 1e6 makes the loss NaN within a few steps; each such step is skipped (no update, logged
// as "skipped"), and after --max_bad_steps in a row the run saves its checkpoint (the last good weights, all
// finite), says why in one line and exits 1. The counting is the shared loop's (src/recipes/loop.ts
// NonFiniteGuard), the ending cli/rundir.ts's (stopDiverged).
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { describeNonFinite } from "../../src/io/finite.js";
import { loadCheckpoint } from "../../src/io/node.js";

const WNN = fileURLToPath(new URL("../../cli/wnn.js", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "wnn-nonfinite-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const runs: [string, string[]][] = [
  [
    "gpt",
    [
      "--iters",
      "30",
      "--eval_interval",
      "100",
      "--n_layer",
      "1",
      "--n_embd",
      "16",
      "--n_head",
      "2",
      "--block_size",
      "8",
      "--batch_size",
      "2",
      "--warmup_iters",
      "0",
      "--sample_tokens",
      "0",
      "--max_bad_steps",
      "4",
    ],
  ],
  ["ddpm", ["--steps", "20", "--batch_size", "2", "--channels", "8", "--warmup", "0", "--max_bad_steps", "4"]],
  [
    "llama",
    ["--steps", "30", "--eval_every", "100", "--batch_size", "2", "--sample_tokens", "0", "--max_bad_steps", "4"],
  ], // wnn train <model> of the zoo
  ["mlp", ["--optimizer", "sgd", "--epochs", "1", "--subset", "64", "--batch_size", "8", "--max_bad_steps", "4"]], // Adam's bounded steps keep an MLP's loss finite
];

for (const [model, args] of runs) {
  test(`wnn train ${model} --lr 1e6: NaN steps skipped, then a saved checkpoint, one line and exit 1`, () => {
    const dir = join(tmp, model);
    const r = spawnSync(process.execPath, [WNN, "train", model, "--lr", "1e6", ...args, "--out", dir], {
      encoding: "utf8",
    });
    assert.equal(r.status, 1, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0]!,
      /^wnn: training stopped at step \d+: the loss was NaN or infinite for 4 batches in a row \((\d+) skipped in all\); the learning rate \(1000000\) is probably too high\. Saved .*checkpoint\.safetensors$/,
    );
    const log = readFileSync(join(dir, "log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string });
    assert.equal(
      log.filter((e) => e.type === "skipped").length,
      Number(/\((\d+) skipped in all\)/.exec(lines[0]!)![1]),
    );
    const ckpt = loadCheckpoint(join(dir, "checkpoint.safetensors"));
    assert.equal(describeNonFinite(ckpt.model), null, "the saved weights are the last good ones: finite");
  });
}
