// The teacher voice and the cached corpus: the same text gives the same bytes, a killed build goes on
// where it stopped, tampered files are refused.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LoadError } from "../../engine/errors.js";
import { decodeWav } from "../../io/wav.js";
import { assertThrowsWith } from "../../../test/harness/assert.js";
import { buildSpeechCorpus, loadSpeechCorpus } from "./speech-corpus.js";
import { teacherSay } from "./teacher.js";

const root = mkdtempSync(join(tmpdir(), "wnn-speech-"));
after(() => rmSync(root, { recursive: true, force: true }));
const TEXTS = [
  "call me ishmael.",
  "forty-two.",
  "anna.",
  "the third of may, eighteen fifty-one.",
  "it was the whale.",
  "so be cheery, my lads!",
];

test("the teacher reads a sentence into a 16 kHz mono WAV, the same bytes every time, for every voice", () => {
  for (const voice of ["slt", "kal16", "rms", "awb"] as const) {
    const a = teacherSay("Call me Ishmael.", voice);
    const b = teacherSay("Call me Ishmael.", voice);
    assert.deepEqual(a, b, voice);
    const wav = decodeWav(a);
    assert.equal(wav.sampleRate, 16000);
    assert.equal(wav.channels.length, 1);
    const seconds = wav.channels[0]!.length / 16000;
    assert.ok(seconds > 0.5 && seconds < 3, `${voice}: ${seconds} s`);
  }
  assertThrowsWith(() => teacherSay("", "slt"), LoadError, /1 to 10,000 characters/);
  assertThrowsWith(() => teacherSay("hi", "nobody" as "slt"), LoadError, /unknown voice/);
});

test("a killed corpus build goes on where it stopped and ends with the bytes of an uninterrupted one", async () => {
  const clean = join(root, "clean");
  const whole = buildSpeechCorpus({ dir: clean, texts: TEXTS });
  // a child builds the same corpus, saving the manifest after every file, and is killed after the third
  const killed = join(root, "killed");
  const child = new URL("./speech-corpus-child.js", import.meta.url).pathname;
  await new Promise<void>((resolve, reject) => {
    const p = spawn(process.execPath, [child, killed, JSON.stringify(TEXTS)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.split("\n").filter((l) => l.startsWith("done")).length >= 3) p.kill("SIGKILL");
    });
    p.on("exit", () => resolve());
    p.on("error", reject);
  });
  let made = 0;
  const resumed = buildSpeechCorpus({ dir: killed, texts: TEXTS, onProgress: (_d, _t, m) => void (made += m ? 1 : 0) });
  assert.ok(made < TEXTS.length, `the resumed build re-made all ${made} files`);
  assert.deepEqual(resumed.items, whole.items);
  // a second build reuses everything
  made = 0;
  buildSpeechCorpus({ dir: clean, texts: TEXTS, onProgress: (_d, _t, m) => void (made += m ? 1 : 0) });
  assert.equal(made, 0);
  const loaded = loadSpeechCorpus(clean);
  assert.deepEqual(
    loaded.items.map((i) => i.text),
    TEXTS,
  );
  // a changed file is refused by name
  const f = join(clean, whole.items[2]!.file);
  const bytes = readFileSync(f);
  bytes[100]! ^= 1;
  writeFileSync(f, bytes);
  assertThrowsWith(() => loadSpeechCorpus(clean), LoadError, /00002\.wav does not match its SHA-256/);
  writeFileSync(join(clean, "manifest.json"), '{"format": 1}');
  assertThrowsWith(() => loadSpeechCorpus(clean), LoadError, /not a wnn-speech-corpus version 1 manifest/);
});
