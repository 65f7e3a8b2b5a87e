// `wnn train tacotron2` (a tiny run: files, alignment pictures, resume), `wnn eval` of a TTS run, and `wnn say`
// with Griffin-Lim and with a vocoder run; hostile inputs (a bad checkpoint, an output that cannot be written,
// empty text) refused with one typed error before any work. In-process, in a temporary folder.

import { strict as assert } from "node:assert";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { UsageError } from "../../cli/args.js";
import { evalArgsNameTtsRun, sayCommand, trainTts, ttsEvalCommand } from "../../cli/tts.js";
import { LoadError } from "../../src/engine/errors.js";
import { loadCheckpoint, saveCheckpoint } from "../../src/io/node.js";
import { decodeWav } from "../../src/io/wav.js";
import { teacherSay } from "../../src/data/node/teacher.js";
import { TTS_DEFAULTS, TtsTrainer } from "../../src/recipes/tts-train.js";
import { loadCmudict } from "../../src/node.js";
import { phonemeFrontEnd } from "../../src/data/speech.js";
import { PHONEME_SYMBOLS } from "../../src/models/tacotron2/zoo.js";

const tmp = mkdtempSync(join(tmpdir(), "wnn-tts-"));
const home = process.cwd();
after(() => {
  process.chdir(home);
  rmSync(tmp, { recursive: true, force: true });
});

function collect(): { write(s: string): boolean; text: string } {
  const o = { text: "", write: (s: string) => ((o.text += s), true) };
  return o;
}
const speech = {
  items: ["call me ishmael.", "it was the whale.", "anna."].map((text) => ({ text, wav: teacherSay(text) })),
};
const tiny = { batchSize: 1, heldOut: 1, frontEnd: "chars", maxFrames: 1000, steps: 1, segmentFrames: 4 };
const taco = join(tmp, "taco"),
  voc = join(tmp, "voc");
mkdirSync(taco);
mkdirSync(voc);
saveCheckpoint(
  join(taco, "checkpoint.safetensors"),
  new TtsTrainer("tacotron2", { ...TTS_DEFAULTS.tacotron2, ...tiny, preset: "tiny" }, { speech }).checkpoint(),
);
saveCheckpoint(
  join(voc, "checkpoint.safetensors"),
  new TtsTrainer("vocoder", { ...TTS_DEFAULTS.vocoder, ...tiny, preset: "micro" }, { speech }).checkpoint(),
);

test("wnn say: a WAV from Tacotron 2 through Griffin-Lim and through a vocoder run", () => {
  for (const [file, extra] of [
    ["gl.wav", ["--gl_iters", "2", "--mel_png", join(tmp, "gl.png")]],
    ["neural.wav", ["--vocoder", voc]],
  ] as const) {
    const out = collect();
    const f = join(tmp, file);
    assert.equal(
      sayCommand(["--checkpoint", taco, "Call me Ishmael.", "--out", f, "--max_seconds", "0.5", ...extra], out),
      0,
    );
    assert.match(out.text, /^wrote .*: [\d.]+ s of audio in [\d.]+ s .*real-time factor/);
    const wav = decodeWav(readFileSync(f));
    assert.equal(wav.sampleRate, 16000);
    assert.ok(wav.channels[0]!.length > 0);
  }
  // the log-mel and Tacotron 2's alignment as pictures (PNG signature)
  for (const f of ["gl.png", "gl-alignment.png"])
    assert.deepEqual([...readFileSync(join(tmp, f)).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], f);
});

test("wnn say: empty text, an output that exists or cannot be written, a bad or missing checkpoint and a vocoder as the model are refused", () => {
  const f = join(tmp, "never.wav");
  const say = (...args: string[]) => sayCommand(args, collect());
  assert.throws(
    () => say("--checkpoint", taco, "", "--out", f),
    (e) => e instanceof UsageError && /empty/.test(e.message),
  );
  assert.throws(
    () => say("--checkpoint", taco, "   ", "--out", f),
    (e) => e instanceof UsageError && /empty/.test(e.message),
  );
  assert.throws(
    () => say("--checkpoint", taco, "--out", f),
    (e) => e instanceof UsageError && /empty/.test(e.message),
  );
  assert.throws(
    () => say("--checkpoint", taco, "a", "b", "--out", f),
    (e) => e instanceof UsageError && /one text/.test(e.message),
  );
  assert.throws(
    () => say("--checkpoint", taco, "hello"),
    (e) => e instanceof UsageError && /--out/.test(e.message),
  );
  writeFileSync(join(tmp, "exists.wav"), "x");
  assert.throws(
    () => say("--checkpoint", taco, "hello", "--out", join(tmp, "exists.wav")),
    (e) => e instanceof UsageError && /exists/.test(e.message),
  );
  assert.throws(
    () => say("--checkpoint", taco, "hello", "--out", join(tmp, "no-such-folder", "x.wav")),
    (e) => e instanceof UsageError && /no-such-folder/.test(e.message),
  );
  assert.throws(
    () => say("--checkpoint", taco, "hello", "--out", "/proc/x.wav"),
    (e) => e instanceof UsageError,
  );
  assert.throws(
    () => say("--checkpoint", join(tmp, "missing"), "hello", "--out", f),
    (e) => e instanceof LoadError,
  );
  const bad = join(tmp, "bad");
  mkdirSync(bad);
  const bytes = readFileSync(join(taco, "checkpoint.safetensors"));
  bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0xff;
  writeFileSync(join(bad, "checkpoint.safetensors"), bytes);
  assert.throws(
    () => say("--checkpoint", bad, "hello", "--out", f),
    (e) => e instanceof LoadError,
  );
  assert.throws(
    () => say("--checkpoint", voc, "hello", "--out", f),
    (e) => e instanceof UsageError && /run of vocoder/.test(e.message),
  );
  assert.throws(
    () => say("--checkpoint", taco, "hello", "--out", f, "--vocoder", taco),
    (e) => e instanceof UsageError && /run of tacotron2/.test(e.message),
  );
  assert.equal(existsSync(f), false);
});

test("wnn train tacotron2: checkpoint, log, loss and alignment pictures, a WAV; --resume continues; wnn eval measures it", async () => {
  process.chdir(tmp); // the corpus is cached under ./runs
  const args = ["--sentences", "1", "--held_out", "1", "--preset", "tiny", "--front_end", "chars", "--batch_size", "1"];
  assert.equal(await trainTts("tacotron2", [...args, "--steps", "2", "--eval_every", "1", "--out", "t"], collect()), 0);
  for (const f of [
    "checkpoint.safetensors",
    "log.jsonl",
    "loss.png",
    "alignment.png",
    "alignments/step-2.png",
    "held-out-0.wav",
  ])
    assert.ok(existsSync(join("t", f)), f);
  const out = collect();
  assert.equal(await trainTts("tacotron2", ["--resume", "t", "--steps", "3"], out), 0);
  assert.match(out.text, /resuming t at step 2 of 3/);
  const steps = readFileSync(join("t", "log.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { type: string; step: number })
    .filter((e) => e.type === "train")
    .map((e) => e.step);
  assert.deepEqual(steps, [1, 2, 3]);
  await assert.rejects(trainTts("tacotron2", ["--resume", "t", "--lr", "1"], collect()), /cannot change when resuming/);
  await assert.rejects(trainTts("vocoder", ["--resume", "t"], collect()), /run of tacotron2/);
  // a CPU budget: the run stops (evaluated and saved) once its training has used it; the total carries over a resume
  const b = collect();
  assert.equal(
    await trainTts("tacotron2", [...args, "--steps", "50", "--max_cpu_minutes", "1e-6", "--out", "b"], b),
    0,
  );
  assert.match(b.text, /stopped at the CPU budget: [\d.]+ of 0\.000001 CPU minutes at step \d+/);
  const evals = () =>
    readFileSync(join("b", "log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; step: number; cpuTotal: number })
      .filter((e) => e.type === "eval");
  const first = evals();
  assert.ok(first.length >= 1 && first.at(-1)!.step < 50 && first.at(-1)!.cpuTotal > 0);
  const r = collect();
  assert.equal(await trainTts("tacotron2", ["--resume", "b", "--steps", "2", "--max_cpu_minutes", "1000"], r), 0);
  assert.match(r.text, /done: step 2 of 2/);
  const again = evals();
  assert.equal(again.at(-1)!.step, 2);
  assert.ok(again.at(-1)!.cpuTotal > first.at(-1)!.cpuTotal);
  assert.equal(evalArgsNameTtsRun(["--checkpoint", "t"]), true);
  const e = collect();
  assert.equal(ttsEvalCommand(["--checkpoint", "t", "--json", "--gl_iters", "2"], e), 0);
  const m = (JSON.parse(e.text) as { metrics: Record<string, number> }).metrics; // stdout holds the JSON alone
  for (const k of ["mcd", "floorMcd", "durationRatio", "focusRate", "diagonality", "realTimeFactor"])
    assert.ok(Number.isFinite(m[k]), `${k} = ${m[k]}`);
  process.chdir(home);
});

test("wnn train tacotron2 | fastspeech2 | vocoder: a run past --max_memory is refused before its first step, in one line with the estimate", async () => {
  process.chdir(tmp); // the corpus is cached under ./runs
  for (const name of ["tacotron2", "fastspeech2", "vocoder"] as const) {
    const dir = `mem-${name}`;
    const args = ["--sentences", "1", "--held_out", "1", "--front_end", "chars", "--preset"];
    await assert.rejects(
      trainTts(
        name,
        [...args, name === "vocoder" ? "micro" : "tiny", "--batch_size", "8", "--max_memory", "0.001", "--out", dir],
        collect(),
      ),
      (e) =>
        e instanceof UsageError &&
        new RegExp(
          `^train ${name}: .*--batch_size 8: this would need about [\\d.]+ GiB \\(counted on shape-only tensors at this batch\\), more than the budget of 0\\.00 GiB \\(--max_memory\\)`,
        ).test(e.message),
    );
    assert.equal(existsSync(dir), false, `${name}: no run folder`);
  }
  process.chdir(home);
});

test("wnn train tacotron2 --frames_per_step: 0 to 8 on the command line, the run's r kept in its checkpoint", async () => {
  process.chdir(tmp);
  for (const bad of ["9", "-1", "2.5"])
    await assert.rejects(
      trainTts("tacotron2", ["--frames_per_step", bad, "--out", "r-bad"], collect()),
      (e) => e instanceof UsageError && /frames_per_step/.test(e.message),
    );
  assert.equal(existsSync("r-bad"), false);
  const args = ["--sentences", "1", "--held_out", "1", "--preset", "tiny", "--front_end", "chars", "--batch_size", "1"];
  const r = (dir: string) => {
    const c = loadCheckpoint(join(dir, "checkpoint.safetensors")).config as {
      config: { framesPerStep: number };
      options: { framesPerStep: number };
    };
    return [c.options.framesPerStep, c.config.framesPerStep];
  };
  assert.equal(
    await trainTts("tacotron2", [...args, "--steps", "1", "--frames_per_step", "4", "--out", "r4"], collect()),
    0,
  );
  assert.deepEqual(r("r4"), [4, 4]);
  await assert.rejects(
    trainTts("tacotron2", ["--resume", "r4", "--frames_per_step", "2"], collect()),
    /cannot change when resuming/,
  );
  process.chdir(home);
});

test("the zoo's TTS presets are listed at the phoneme front end's size", () => {
  assert.equal(phonemeFrontEnd(loadCmudict()).symbols.length, PHONEME_SYMBOLS);
});
