// `wnn train fastspeech2` end to end on a tiny budget: teacher sentences → features, alignment → training
// through the shared loop → metrics, pictures and a WAV.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator } from "../../engine/rng.js";
import { ArgumentError } from "../../engine/errors.js";
import { decodeWav } from "../../io/wav.js";
import { teacherSay } from "../../data/node/teacher.js";
import { assertThrowsWith } from "../../../test/harness/assert.js";
import { fastspeech2Recipe } from "./recipe.js";

const TEXTS = [
  "call me ishmael.",
  "it was the whale.",
  "so be cheery, my lads!",
  "forty-two.",
  "the sea was calm.",
  "anna.",
];

test("fastspeech2 recipe: trains on teacher sentences (the loss falls), reports held-out numbers, pictures and a WAV", () => {
  const speech = { items: TEXTS.map((text) => ({ text, wav: teacherSay(text) })) };
  const losses: number[] = [];
  const r = fastspeech2Recipe.run(
    {
      ...fastspeech2Recipe.defaults,
      steps: 20,
      batchSize: 4,
      lr: 3e-3,
      heldOut: 2,
      evalEvery: 10,
      frontEnd: "chars",
      preset: "tiny",
      alignIterations: 2,
      griffinLimIterations: 2,
    },
    { speech },
    { log: () => {}, progress: (_s, _t, m) => void losses.push(m.loss!) },
    new Generator(0),
  );
  assert.equal(losses.length, 20);
  assert.ok(
    losses.slice(-3).reduce((a, b) => a + b) < losses.slice(0, 3).reduce((a, b) => a + b),
    `loss ${losses[0]} → ${losses[19]}`,
  );
  for (const k of ["heldOutLoss", "trainLoss", "durationRatio", "parameters"])
    assert.ok(Number.isFinite(r.metrics[k]) && r.metrics[k]! > 0, `${k} = ${r.metrics[k]}`);
  assert.equal(r.metrics.trainSentences, 4);
  for (const png of Object.values(r.images!)) assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
  const wav = decodeWav(r.audio!["held-out-0.wav"]!);
  assert.equal(wav.sampleRate, 16000);
  assert.ok(wav.channels[0]!.length > 0);
  assertThrowsWith(
    () => fastspeech2Recipe.run({ ...fastspeech2Recipe.defaults }, { speech }, { log: () => {} }, new Generator(0)),
    ArgumentError,
    /pronunciations/,
  );
  assertThrowsWith(
    () =>
      fastspeech2Recipe.run(
        { ...fastspeech2Recipe.defaults, frontEnd: "chars" },
        {},
        { log: () => {} },
        new Generator(0),
      ),
    ArgumentError,
    /needs data.speech/,
  );
});
