// The TTS recipes' data: a teacher sentence trimmed and turned into features, a small corpus aligned, a padded batch.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeWav } from "../io/wav.js";
import { charFrontEnd } from "../data/speech.js";
import { teacherSay } from "../data/node/teacher.js";
import { alignCorpus, prepareUtterance, symbolProsody, ttsBatch, TTS_AUDIO } from "./tts-data.js";

test("teacher sentences → trimmed features → aligned durations → a padded batch", () => {
  const fe = charFrontEnd();
  const texts = ["call me ishmael.", "so be cheery, my lads!", "forty-two.", "it was the whale."];
  const utts = texts.map((t) => {
    const samples = decodeWav(teacherSay(t)).channels[0]!;
    const u = prepareUtterance(t, fe.encode(t), samples!);
    assert.ok(u.samples.length < samples.length, "silence trimmed");
    assert.equal(u.mel.length, TTS_AUDIO.nMels * u.nFrames);
    assert.equal(u.pitch.length, u.nFrames);
    assert.equal(u.energy.length, u.nFrames);
    const voiced = u.pitch.filter((f) => f > 0);
    assert.ok(voiced.length > 0.3 * u.nFrames, `${t}: ${voiced.length} of ${u.nFrames} frames voiced`);
    for (const f of voiced) assert.ok(f > 60 && f < 500);
    return u;
  });
  const aligned = alignCorpus(utts, fe.symbols.length, 4);
  assert.equal(aligned.length, 4);
  for (const u of aligned) {
    assert.equal(
      u.durations!.reduce((a, b) => a + b, 0),
      u.nFrames,
    );
    const p = symbolProsody(u);
    assert.equal(p.pitch.length, u.ids.length);
  }
  const b = ttsBatch(aligned, [0, 1, 2], 2);
  const S = Math.max(...[0, 1, 2].map((i) => aligned[i]!.ids.length));
  assert.deepEqual(b.text.shape, [3, S]);
  assert.equal(b.mel.shape[2]! % 2, 0);
  assert.deepEqual(
    b.melLengths,
    [0, 1, 2].map((i) => aligned[i]!.nFrames),
  );
  assert.ok(b.durations.every((d) => d.length === S));
});
