// The TTS trainers of `wnn train tacotron2 | fastspeech2 | vocoder` on a few teacher sentences: each loss falls,
// a run stopped and resumed from its checkpoint takes the same steps as one that never stopped, the checkpoint is
// checked before anything is built from it, and the trained models synthesize and are measured (src/recipes/tts-eval.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { LoadError } from "../engine/errors.js";
import { parseCheckpoint, serializeCheckpoint } from "../io/checkpoint.js";
import { teacherSay } from "../data/node/teacher.js";
import { assertThrowsWith } from "../../test/harness/assert.js";
import { runLoopSync } from "./loop.js";
import { estimateTrainingBytes, firstStepBytes, probeFirstStep } from "./memory-probe.js";
import { HiFiGAN, TTS_DEFAULTS, TtsTrainer, savedTtsRun, ttsModelOf, type TtsModelName } from "./tts-train.js";
import { evaluateTeacherMels, evaluateTts, summarizeTts, synthesizeMel } from "./tts-eval.js";
import { TTS_AUDIO } from "./tts-data.js";
import { PRESETS as TACOTRON2_PRESETS, Tacotron2, type Tacotron2Config } from "../models/tacotron2/model.js";

const TEXTS = ["call me ishmael.", "it was the whale.", "so be cheery, my lads!", "forty-two.", "the sea.", "anna."];
const speech = { items: TEXTS.map((text) => ({ text, wav: teacherSay(text) })) };

const tinyOptions = (name: TtsModelName, steps: number) => ({
  ...TTS_DEFAULTS[name],
  steps,
  batchSize: 2,
  lr: name === "vocoder" ? 2e-3 : 1e-2,
  evalEvery: 2,
  heldOut: 1,
  frontEnd: "chars",
  preset: name === "vocoder" ? "micro" : "tiny",
  maxFrames: 1000,
  alignIterations: 2,
  segmentFrames: 4,
  // Tacotron 2: the default λ = 1000 makes the guided term most of a tiny run's first losses, so the fall is
  // measured with a small one (the default's own run: test/cli/tts.test.ts)
  guidedAttention: name === "tacotron2" ? 10 : 0,
});

const losses = (t: TtsTrainer, n: number): number[] => Array.from({ length: n }, () => t.trainStep().loss);

for (const name of ["tacotron2", "fastspeech2", "vocoder"] as const) {
  test(`${name}: the loss falls on a few sentences; stopped and resumed, the run takes the same steps`, () => {
    const a = new TtsTrainer(name, tinyOptions(name, 8), { speech });
    assert.equal(a.held.length, 1);
    assert.equal(a.held[0]!.text, TEXTS[0]);
    const first = losses(a, 4);
    const ckpt = parseCheckpoint(serializeCheckpoint(a.checkpoint()));
    const rest = losses(a, 4);
    assert.ok(rest.slice(-2).reduce((x, y) => x + y) < first.slice(0, 2).reduce((x, y) => x + y), `${first} → ${rest}`);
    const b = TtsTrainer.fromCheckpoint(ckpt, { speech });
    assert.equal(b.step, 4);
    assert.deepEqual(losses(b, 4), rest);
    // the evaluation through the loop, and (Tacotron 2) the alignment picture
    runLoopSync(b, {});
    assert.equal(b.lastEval, 8);
    if (name === "tacotron2") assert.deepEqual([...b.alignmentPng()!.subarray(1, 4)], [0x50, 0x4e, 0x47]);
  });
}

test("savedTtsRun: a checkpoint of another kind, a config that claims more weights than the file holds, and options out of range are refused", () => {
  const t = new TtsTrainer("tacotron2", tinyOptions("tacotron2", 2), { speech });
  const good = parseCheckpoint(serializeCheckpoint(t.checkpoint()));
  assert.equal(savedTtsRun(good).model, "tacotron2");
  const withConfig = (f: (c: Record<string, unknown>) => void) => {
    const c = structuredClone(good.config) as Record<string, unknown>;
    f(c);
    return { ...good, config: c as never };
  };
  assertThrowsWith(() => savedTtsRun(withConfig((c) => (c.kind = "zoo"))), LoadError, /not a checkpoint of wnn train/);
  assertThrowsWith(
    () => savedTtsRun(withConfig((c) => ((c.config as Record<string, number>).embDim = 64))),
    LoadError,
    /weights/,
  );
  assertThrowsWith(
    () => savedTtsRun(withConfig((c) => ((c.config as Record<string, number>).decRnnDim = 1e9))),
    LoadError,
    /decRnnDim/,
  );
  assertThrowsWith(
    () => savedTtsRun(withConfig((c) => ((c.options as Record<string, number>).batchSize = -1))),
    LoadError,
    /options are not valid/,
  );
  assertThrowsWith(() => savedTtsRun({ ...good, step: 99 }), LoadError, /step 99/);
  // layers are counted on a shape-only model built from the config: 65,536 of them took 11 s to count
  assertThrowsWith(
    () => savedTtsRun(withConfig((c) => ((c.config as Record<string, number>).postnetLayers = 65536))),
    LoadError,
    /postnetLayers is 65536, more than the 64/,
  );
  assertThrowsWith(
    () => savedTtsRun({ ...good, extra: { dropoutRng: { s: [0, 0, 0, 0], spare: null } } }),
    LoadError,
    /extra\.dropoutRng is not a generator state/,
  );
});

test("tacotron2 framesPerStep: the config's r (0 keeps the preset's), kept in the checkpoint and read back; outside 0..8 refused", () => {
  const rOf = (t: TtsTrainer) => (t.config as Tacotron2Config).framesPerStep;
  assert.equal(TACOTRON2_PRESETS.tiny.framesPerStep, 2);
  assert.equal(rOf(new TtsTrainer("tacotron2", tinyOptions("tacotron2", 2), { speech })), 2); // the default, 0
  const t = new TtsTrainer("tacotron2", { ...tinyOptions("tacotron2", 2), framesPerStep: 3 }, { speech });
  assert.equal(rOf(t), 3);
  // the decoder makes r frames a step: its projection has nMels · r outputs
  assert.deepEqual((t.model as Tacotron2).proj.weight.shape, [TTS_AUDIO.nMels * 3, 7 + 6]);
  assert.ok(Number.isFinite(t.trainStep().loss));
  const ckpt = parseCheckpoint(serializeCheckpoint(t.checkpoint()));
  const saved = savedTtsRun(ckpt);
  assert.equal(saved.options.framesPerStep, 3);
  assert.equal((saved.config as Tacotron2Config).framesPerStep, 3);
  const back = TtsTrainer.fromCheckpoint(ckpt, { speech });
  assert.equal(rOf(back), 3);
  assert.equal(back.options.framesPerStep, 3);
  // synthesis makes whole groups of r frames
  const model = ttsModelOf(saved, ckpt) as Tacotron2;
  assert.equal(synthesizeMel(model, back.held[0]!.ids, 7).T % 3, 0);
  // a checkpoint written before the option existed reads as 0 and keeps its config's r
  const withOptions = (f: (o: Record<string, unknown>) => void) => {
    const c = structuredClone(ckpt.config) as Record<string, unknown>;
    f(c.options as Record<string, unknown>);
    return { ...ckpt, config: c as never };
  };
  const old = savedTtsRun(withOptions((o) => delete o.framesPerStep));
  assert.equal(old.options.framesPerStep, 0);
  assert.equal((old.config as Tacotron2Config).framesPerStep, 3);
  for (const bad of [9, -1, 1.5])
    assertThrowsWith(
      () => savedTtsRun(withOptions((o) => (o.framesPerStep = bad))),
      LoadError,
      /options are not valid: .*framesPerStep/,
    );
  assertThrowsWith(
    () => new TtsTrainer("tacotron2", { ...tinyOptions("tacotron2", 2), framesPerStep: 9 }, { speech }),
    LoadError,
    /framesPerStep is 9/,
  );
});

test("synthesis and its measures: Tacotron 2 through Griffin-Lim, the vocoder on the teacher's mels", () => {
  const t = new TtsTrainer("tacotron2", tinyOptions("tacotron2", 2), { speech });
  const ckpt = parseCheckpoint(serializeCheckpoint(t.checkpoint()));
  const model = ttsModelOf(savedTtsRun(ckpt), ckpt) as Tacotron2;
  let clock = 0;
  const rows = evaluateTts(model, t.held, { kind: "griffin-lim", iterations: 2 }, () => (clock += 0.5));
  const s = summarizeTts(rows);
  assert.equal(s.sentences, 1);
  for (const k of ["mcd", "floorMcd", "durationRatio", "focusRate", "diagonality"])
    assert.ok(Number.isFinite(s[k]) && s[k]! > 0, `${k} = ${s[k]}`);
  assert.ok(
    s.mcd! > s.floorMcd!,
    `an untrained model (${s.mcd}) is further from the teacher than Griffin-Lim on the teacher's mels (${s.floorMcd})`,
  );
  assert.ok(Math.abs(s.realTimeFactor! - 0.5 / rows[0]!.audioSeconds) < 1e-12); // one clock tick of 0.5 s per sentence
  const v = new TtsTrainer("vocoder", tinyOptions("vocoder", 2), { speech });
  const r = evaluateTeacherMels(v.held, { kind: "neural", generator: (v.model as HiFiGAN).generator }, () => 0);
  assert.ok(Number.isFinite(r.mcd) && r.mcd > 0);
});

test("the memory estimate of `wnn train tacotron2 | fastspeech2 | vocoder`: the first step counted on shape-only tensors at its batch is the bytes the real first step allocates", () => {
  for (const name of ["tacotron2", "fastspeech2", "vocoder"] as const) {
    const t = new TtsTrainer(name, tinyOptions(name, 8), { speech });
    for (const batch of [1, 4]) {
      const step = () => {
        const p = t.atBatch(batch, { speech });
        probeFirstStep(() => p.trainStep());
      };
      const est = estimateTrainingBytes(() => step(), batch, Infinity, true);
      assert.equal(est.how, "counted", `${name} at batch ${batch}`);
      const measured = firstStepBytes(step);
      // the same as the DDPM U-Net's trainer (src/recipes/memory-probe.test.ts): equal, byte for byte
      assert.equal(est.bytes, measured, `${name} at batch ${batch}: counted ${est.bytes}, measured ${measured}`);
    }
  }
});
