// `wnn train tacotron2 | fastspeech2 | vocoder --workers 2 --strategy S`: the same per-step losses as --workers 1
// (within 1e-6 relative), a run resumed with another number of workers going on as the one process would, and the
// CPU budget's evaluation at the step reached. Tiny models, five sentences, three steps; in-process (rank 0 is this
// thread, the workers dist/cli/tts-worker.js), in a temporary folder.

import { strict as assert } from "node:assert";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { UsageError } from "../../cli/args.js";
import { trainTts } from "../../cli/tts.js";
import { loadCheckpoint } from "../../src/io/node.js";
import type { TtsModelName } from "../../src/recipes/tts-train.js";

const tmp = mkdtempSync(join(tmpdir(), "wnn-tts-parallel-"));
const home = process.cwd();
after(() => {
  process.chdir(home);
  rmSync(tmp, { recursive: true, force: true });
});

const quiet = { write: () => true };
type Entry = { type: string; step: number; loss?: number; metrics?: { val: number } };
const readLog = (dir: string): Entry[] =>
  readFileSync(join(dir, "log.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Entry)
    .filter((e) => e.type === "train" || e.type === "eval");

/**
 * Two logs' entries alike, step by step: the training losses within 1e-6 relative, the held-out losses within
 * `evalTol`; → the largest relative differences.
 */
function sameLosses(got: Entry[], want: Entry[], what: string, evalTol = 1e-6): { train: number; eval: number } {
  assert.deepEqual(
    got.map((e) => `${e.type} ${e.step}`),
    want.map((e) => `${e.type} ${e.step}`),
    `${what}: the same entries`,
  );
  const worst = { train: 0, eval: 0 };
  got.forEach((e, i) => {
    const [x, y] = e.type === "train" ? [e.loss!, want[i]!.loss!] : [e.metrics!.val, want[i]!.metrics!.val];
    const rel = Math.abs(x - y) / Math.abs(y);
    const kind = e.type === "train" ? "train" : "eval";
    worst[kind] = Math.max(worst[kind], rel);
    assert.ok(rel <= (kind === "train" ? 1e-6 : evalTol), `${what}: ${e.type} at step ${e.step}: ${x} vs ${y}`);
  });
  return worst;
}

const ARGS: Record<TtsModelName, string[]> = {
  tacotron2: ["--preset", "tiny", "--front_end", "chars"],
  fastspeech2: ["--preset", "tiny", "--front_end", "chars"],
  vocoder: ["--preset", "micro", "--segment_frames", "8"],
};
const common = ["--sentences", "4", "--held_out", "1", "--batch_size", "4", "--eval_every", "2"];
const train = async (name: TtsModelName, dir: string, ...more: string[]): Promise<void> => {
  assert.equal(await trainTts(name, [...common, ...ARGS[name], "--out", dir, ...more], quiet), 0, `${dir}`);
};

// every loss, the held-out ones too, within 1e-6 relative of one process's (Tacotron 2's convolutions before its
// batch norms have no bias: its gradient would be rounding noise, different on 2 workers, that Adam amplifies)
const EVAL_TOL: Record<TtsModelName, number> = { tacotron2: 1e-6, fastspeech2: 1e-6, vocoder: 1e-6 };
const STRATEGIES: Record<TtsModelName, string[]> = {
  tacotron2: ["ddp", "fsdp"],
  fastspeech2: ["ddp", "fsdp", "zero2"],
  vocoder: ["ddp", "fsdp", "zero1"],
};

for (const name of ["tacotron2", "fastspeech2", "vocoder"] as const) {
  test(`wnn train ${name} --workers 2: the losses of --workers 1 with ${STRATEGIES[name].join(", ")}; a resume with another worker count`, async () => {
    process.chdir(tmp); // the corpus is cached under ./runs
    await train(name, `${name}-1`, "--steps", "3");
    const one = readLog(`${name}-1`);
    assert.equal(one.filter((e) => e.type === "train").length, 3);
    for (const s of STRATEGIES[name]) {
      await train(name, `${name}-${s}`, "--steps", "3", "--workers", "2", "--strategy", s);
      const worst = sameLosses(readLog(`${name}-${s}`), one, `${name} ${s}`, EVAL_TOL[name]);
      process.stdout.write(`# ${name} ${s}: max relative difference train ${worst.train}, held-out ${worst.eval}\n`);
      assert.ok(existsSync(join(`${name}-${s}`, "held-out-0.wav")));
    }
    // 2 steps on 2 FSDP workers, then resumed on 1 process to step 3; and 2 steps on 1, resumed on 2 DDP workers
    await train(name, `${name}-r21`, "--steps", "2", "--workers", "2", "--strategy", "fsdp");
    assert.equal(loadCheckpoint(join(`${name}-r21`, "checkpoint.safetensors")).step, 2);
    assert.equal(await trainTts(name, ["--resume", `${name}-r21`, "--steps", "3"], quiet), 0);
    sameLosses(readLog(`${name}-r21`), one, `${name} fsdp 2 → 1`, EVAL_TOL[name]);
    await train(name, `${name}-r12`, "--steps", "2");
    assert.equal(
      await trainTts(name, ["--resume", `${name}-r12`, "--steps", "3", "--workers", "2", "--strategy", "ddp"], quiet),
      0,
    );
    sameLosses(readLog(`${name}-r12`), one, `${name} 1 → ddp 2`, EVAL_TOL[name]);
  });
}

test("wnn train fastspeech2 --workers 2: the CPU budget evaluates and saves at the step reached; a batch that does not split is refused", async () => {
  process.chdir(tmp);
  const out = { text: "", write: (s: string) => ((out.text += s), true) };
  assert.equal(
    await trainTts(
      "fastspeech2",
      [...common, ...ARGS.fastspeech2, "--steps", "50", "--max_cpu_minutes", "1e-6", "--workers", "2", "--out", "b"],
      out,
    ),
    0,
  );
  assert.match(out.text, /stopped at the CPU budget/);
  const ckpt = loadCheckpoint(join("b", "checkpoint.safetensors"));
  assert.ok(ckpt.step < 50);
  assert.ok(readLog("b").some((e) => e.type === "eval" && e.step === ckpt.step));
  await assert.rejects(
    trainTts("fastspeech2", [...common, ...ARGS.fastspeech2, "--workers", "3", "--out", "c"], quiet),
    (e) => e instanceof UsageError && /does not split evenly over --workers 3/.test(e.message),
  );
});
