// `wnn train <model>` for the zoo's models on their kind's default task (src/recipes/zoo-train.ts), and the readers
// of the checkpoint it writes: `wnn sample --checkpoint` (decoders, and dates models), `wnn fill-mask
// --checkpoint` (encoders), `wnn eval --checkpoint` (every kind). Tiny runs, in-process.

import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { UsageError } from "../../cli/args.js";
import { fillMaskCommand } from "../../cli/hf.js";
import { sampleCommand } from "../../cli/sample.js";
import { evalCommand, trainZooModel } from "../../cli/zoo-train.js";
import { LoadError } from "../../src/engine/errors.js";
import type { LoadedCheckpoint } from "../../src/io/checkpoint.js";
import { loadCheckpoint, saveCheckpoint } from "../../src/io/node.js";
import { loadMnist, loadMobyDick } from "../../src/node.js";
import { ZOO_TRAINING, ZooTrainer, savedRun } from "../../src/recipes/zoo-train.js";
import { ZOO } from "../../src/models/zoo.js";
import { commandsOf } from "../../cli/list.js";

const tmp = mkdtempSync(join(tmpdir(), "wnn-zoo-train-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function collect(): { write(s: string): boolean; text: string } {
  const o = { text: "", write: (s: string) => ((o.text += s), true) };
  return o;
}
type Entry = { type: string; step: number; loss?: number; metrics?: Record<string, number> };
const logOf = (dir: string): Entry[] =>
  readFileSync(join(dir, "log.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Entry);
const lastEval = (dir: string): Record<string, number> =>
  logOf(dir)
    .filter((e) => e.type === "eval")
    .pop()!.metrics!;
/** `wnn eval --checkpoint DIR --json` → its metrics */
const evalOf = (dir: string): Record<string, number> => {
  const out = collect();
  assert.equal(evalCommand(["--checkpoint", dir, "--json"], out), 0);
  return (JSON.parse(out.text) as { metrics: Record<string, number> }).metrics;
};

test("a decoder (llama): trains on Moby Dick's characters, resumes bit for bit, and wnn sample and wnn eval read its checkpoint", async () => {
  const small = ["--batch_size", "2", "--eval_every", "2", "--eval_size", "1", "--sample_tokens", "0"];
  const whole = join(tmp, "llama"),
    parts = join(tmp, "llama-parts");
  assert.equal(await trainZooModel("llama", ["--steps", "4", ...small, "--out", whole], collect()), 0);
  // a run stopped at step 2 of 4 (its schedule is the 4-step run's), then resumed
  assert.equal(
    await trainZooModel("llama", ["--steps", "2", "--lr_decay_steps", "4", ...small, "--out", parts], collect()),
    0,
  );
  const resumed = collect();
  assert.equal(await trainZooModel("llama", ["--resume", parts, "--steps", "4"], resumed), 0);
  assert.match(resumed.text, /resuming .* at step 2 of 4/);
  const losses = (dir: string): number[] =>
    logOf(dir)
      .filter((e) => e.type === "train")
      .map((e) => e.loss!);
  assert.equal(losses(whole).length, 4);
  assert.deepEqual(losses(parts), losses(whole)); // the same batches, the same weights, to the last digit
  assert.deepEqual(lastEval(parts), lastEval(whole));
  // the reader: eval reproduces the run's last estimate; sample continues the prompt
  assert.deepEqual(evalOf(whole), lastEval(whole));
  const out = collect();
  assert.equal(sampleCommand(["--checkpoint", whole, "--prompt", "Call me", "--tokens", "12"], out), 0);
  assert.equal([...out.text.trimEnd()].length >= "Call me".length + 1, true);
  assert.ok(out.text.startsWith("Call me"));
  // a checkpoint of another model is refused on resume; a fill-mask of a decoder is a usage error
  await assert.rejects(
    trainZooModel("bloom", ["--resume", whole], collect()),
    (e: unknown) => e instanceof UsageError && /a run of llama/.test(e.message),
  );
  assert.throws(
    () => fillMaskCommand(["--checkpoint", whole, "--text", "a[MASK]"], collect()),
    (e: unknown) => e instanceof UsageError && /not an encoder/.test(e.message),
  );
  // a checkpoint whose config does not match its weights is refused before anything is built
  const ckpt = loadCheckpoint(join(whole, "checkpoint.safetensors"));
  const bad = join(tmp, "bad.safetensors");
  saveCheckpoint(bad, {
    ...ckpt,
    config: { ...(ckpt.config as object), config: { ...(ckpt.config as { config: object }).config, nLayer: 40 } },
  });
  assert.throws(
    () => savedRun(loadCheckpoint(bad)),
    (e: unknown) => e instanceof LoadError && /weights \(parameters and buffers\), but the file holds/.test(e.message),
  );
});

test("an encoder (roberta): masked LM on Moby Dick; wnn fill-mask --checkpoint fills a masked character, wnn eval gives the held-out MLM loss", async () => {
  const dir = join(tmp, "roberta");
  assert.equal(
    await trainZooModel(
      "roberta",
      ["--steps", "2", "--batch_size", "2", "--eval_every", "2", "--eval_size", "1", "--out", dir],
      collect(),
    ),
    0,
  );
  const out = collect();
  assert.equal(
    fillMaskCommand(["--checkpoint", dir, "--text", "Call me Ish[MASK]ael.", "--top_k", "3", "--json"], out),
    0,
  );
  const [p] = JSON.parse(out.text) as { position: number; candidates: { token: string; probability: number }[] }[];
  assert.equal(p!.position, "Call me Ish".length);
  assert.equal(p!.candidates.length, 3);
  const probs = p!.candidates.map((c) => c.probability);
  assert.ok(probs[0]! >= probs[1]! && probs[1]! >= probs[2]! && probs[0]! < 1 && probs[2]! > 0);
  assert.deepEqual(evalOf(dir), lastEval(dir));
  assert.throws(
    () => sampleCommand(["--checkpoint", dir], collect()),
    (e: unknown) => e instanceof UsageError && /fill-mask --checkpoint/.test(e.message),
  );
});

test("an encoder-decoder (bart): dates → ISO; wnn eval gives the exact match of the run's last evaluation, wnn sample answers a date", async () => {
  const dir = join(tmp, "bart");
  assert.equal(
    await trainZooModel(
      "bart",
      ["--steps", "2", "--batch_size", "4", "--eval_every", "2", "--eval_size", "5", "--out", dir],
      collect(),
    ),
    0,
  );
  const m = evalOf(dir);
  assert.deepEqual(m, lastEval(dir));
  assert.ok(m.exactMatch! >= 0 && m.exactMatch! <= 1);
  const out = collect();
  assert.equal(sampleCommand(["--checkpoint", dir, "--prompt", "March 3, 1999"], out), 0);
  assert.ok(out.text.endsWith("\n") && [...out.text.trimEnd()].length <= 11); // at most 11 tokens, </s> included
  assert.throws(
    () => sampleCommand(["--checkpoint", dir, "--prompt", "März 3"], collect()),
    (e: unknown) => e instanceof UsageError && /never saw/.test(e.message),
  );
});

test("a vision model (senet): MNIST; wnn eval gives the test accuracy of the run's last evaluation", async () => {
  const dir = join(tmp, "senet");
  assert.equal(
    await trainZooModel(
      "senet",
      ["--steps", "2", "--batch_size", "8", "--eval_every", "2", "--eval_size", "50", "--out", dir],
      collect(),
    ),
    0,
  );
  const m = evalOf(dir);
  assert.deepEqual(m, lastEval(dir));
  assert.ok(m.accuracy! >= 0 && m.accuracy! <= 1 && Number.isInteger(m.accuracy! * 50));
});

test("every model with a default task takes a step and comes back from its checkpoint with the same evaluation; wnn list names the command", () => {
  const text = loadMobyDick(),
    mnist = loadMnist();
  for (const name of Object.keys(ZOO_TRAINING)) {
    const o = { steps: 1, batchSize: 2, lr: 1e-3, evalEvery: 1, evalSize: 1, seed: 0 };
    const t = new ZooTrainer(name, o, { text, mnist });
    const { loss } = t.trainStep();
    assert.ok(Number.isFinite(loss), `${name}: loss ${loss}`);
    const before = t.evaluateNow();
    const back = ZooTrainer.fromCheckpoint(t.checkpoint() as LoadedCheckpoint, { text, mnist });
    assert.deepEqual(back.evaluateNow(), before, name);
    const model = ZOO.find((m) => m.name === name)!;
    assert.ok(
      commandsOf(model).some((c) => c === `wnn train ${name}` || (name === "resnet" && c === "wnn train resnet")),
      `${name}: ${commandsOf(model).join(", ")}`,
    );
  }
});
