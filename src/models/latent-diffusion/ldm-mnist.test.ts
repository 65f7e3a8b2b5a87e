// The latent-diffusion MNIST recipe: the captions' statistics on drawn shapes whose moments are known in
// closed form, their grammar and tokenizer, a tiny two-stage run (losses finite, the stages in order, the
// checkpoint round trip samples bit for bit the same digits) and the checkpoint checks on malformed files.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError, LoadError } from "../../engine/errors.js";
import { Generator } from "../../engine/rng.js";
import { parseCheckpoint, serializeCheckpoint, type LoadedCheckpoint } from "../../io/checkpoint.js";
import { assertThrowsWith } from "../../../test/harness/assert.js";
import { vaeConfig } from "./vae.js";
import { clipTextConfig } from "./clip-text.js";
import { unetConfig } from "../ddpm/unet.js";
import {
  attributeHolds,
  attributes,
  caption,
  captionThresholds,
  CAPTION_VOCAB,
  digitStats,
  parseCaption,
  WordTokenizer,
} from "./captions.js";
import { LDMTrainer, ldmCheckpointConfig, loadLDM, type LDMModelConfig } from "./train.js";

/** A 28×28 digit: a line x = x0 − k·(y − 14) for y in [4, 24), width `w` pixels. */
function line(k: number, w = 1, x0 = 14): Float32Array {
  const p = new Float32Array(784);
  for (let y = 4; y < 24; y++) for (let j = 0; j < w; j++) p[y * 28 + x0 - k * (y - 14) + j] = 1;
  return p;
}

test("digitStats: the mass is the ink, the slant the shear −μ₁₁/μ₀₂ of the line (k for x = x0 − k·y)", () => {
  const upright = digitStats(line(0));
  assert.equal(upright.mass, 20);
  assert.equal(upright.slant, 0);
  const leaning = digitStats(line(1, 1, 14)); //      leans right: the top is further right
  assert.ok(Math.abs(leaning.slant - 1) < 1e-12, `slant ${leaning.slant}`);
  const thick = digitStats(line(0, 3));
  assert.equal(thick.mass, 60);
  assert.equal(digitStats(new Float32Array(784)).mass, 0);
});

test("captions: thirds within each class name thickness and slant; grammar; what a caption asks for", () => {
  // class 1: 9 digits, widths 1, 2, 3 (thin, middle, thick) × slants 0, ½·(integer rows only: k = 0 or 1)
  const n = 9;
  const images = new Float32Array(n * 784),
    labels = new Int32Array(n).fill(1);
  const shapes: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const w = 1 + (i % 3),
      k = Math.floor(i / 3) === 2 ? 1 : 0;
    shapes.push([w, k]);
    images.set(line(k, w, 12), i * 784);
  }
  const th = captionThresholds(images, labels, n);
  for (let i = 0; i < n; i++) {
    const words = attributes(digitStats(images, i * 784), 1, th);
    const [w] = shapes[i]!;
    if (w === 3) assert.ok(words.includes("thick"), `digit ${i}: ${words.join(" ")}`);
    if (w === 1) assert.ok(words.includes("thin"), `digit ${i}: ${words.join(" ")}`);
    if (w === 2) assert.ok(!words.includes("thick") && !words.includes("thin"));
  }
  assert.ok(attributeHolds("thick", digitStats(line(0, 3, 12)), 1, th));
  assert.ok(!attributeHolds("thick", digitStats(line(0, 1, 12)), 1, th));
  assert.ok(attributeHolds("slanted", digitStats(line(1, 2, 12)), 1, th));
  assert.ok(!attributeHolds("slanted", digitStats(line(0, 2, 12)), 1, th));
  assert.equal(caption(7, ["thick", "slanted"]), "a thick slanted seven");
  assert.equal(caption(8, []), "an eight");
  assert.equal(caption(8, ["upright"]), "an upright eight");
  assert.deepEqual(parseCaption("A thick slanted seven"), { digit: 7, words: ["thick", "slanted"] });
  assertThrowsWith(() => attributeHolds("tall", digitStats(line(0)), 1, th), ArgumentError, /tall/);
});

test("WordTokenizer: [bos, words…, eos] padded with eos, eos the highest id; unknown words refused", () => {
  const tok = new WordTokenizer();
  const ids = [...tok.prompt("a thick seven", 8)];
  assert.equal(ids[0], tok.bos);
  assert.deepEqual(
    ids.slice(1, 4),
    ["a", "thick", "seven"].map((w) => CAPTION_VOCAB.indexOf(w)),
  );
  assert.deepEqual(ids.slice(4), [tok.eos, tok.eos, tok.eos, tok.eos]);
  assert.equal(Math.max(...ids), tok.eos);
  assert.deepEqual([...tok.prompt("", 4)], [tok.bos, tok.eos, tok.eos, tok.eos]);
  assertThrowsWith(() => tok.prompt("a purple seven", 8), ArgumentError, /unknown word "purple"/);
  // a caption of 10,000 words, or one word of 10,000 letters: quoted cut to 60 characters, the count still said
  const long = new Array<string>(10_000).fill("seven").join(" ");
  assertThrowsWith(
    () => tok.prompt(long, 8),
    ArgumentError,
    /^WordTokenizer: "(seven ){10}\.\.\." has 10000 words; at most 6 fit$/,
  );
  assertThrowsWith(
    () => tok.prompt("a " + "x".repeat(10_000), 8),
    ArgumentError,
    /^WordTokenizer: unknown word "x{60}\.\.\."; /,
  );
  assertThrowsWith(() => tok.prompt("a thick slanted thin upright seven", 6), ArgumentError, /at most 4/);
});

const TINY: LDMModelConfig = {
  vae: vaeConfig({
    inChannels: 1,
    outChannels: 1,
    latentChannels: 2,
    channels: [4, 4, 4],
    layersPerBlock: 1,
    groups: 2,
  }),
  text: clipTextConfig({
    vocabSize: CAPTION_VOCAB.length,
    maxPositions: 8,
    width: 8,
    layers: 1,
    heads: 2,
    mlpWidth: 16,
  }),
  unet: unetConfig({
    inChannels: 2,
    outChannels: 2,
    channels: 8,
    channelMult: [1, 1],
    numResBlocks: 1,
    attnLevels: [1],
    groups: 4,
    heads: 2,
    numClasses: 0,
    contextDim: 8,
    dropout: 0,
  }),
};

function tinyData() {
  const count = 20;
  const images = new Float32Array(count * 784),
    labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    images.set(line(i % 2, 1 + (i % 3)), i * 784);
    labels[i] = i % 10;
  }
  return { images, labels, count };
}

test("LDMTrainer: the autoencoder's steps, then the U-Net's; the checkpoint samples the same digits bit for bit", () => {
  const tr = new LDMTrainer(TINY, { vaeSteps: 2, steps: 2, batchSize: 4, seed: 3 }, tinyData());
  const stages: string[] = [];
  while (tr.stage !== "done") {
    const r = tr.trainStep();
    assert.ok(Number.isFinite(r.loss) && r.skipped === 0, `${r.stage} loss ${r.loss}`);
    stages.push(r.stage);
  }
  assert.deepEqual(stages, ["vae", "vae", "unet", "unet"]);
  assert.ok(tr.model.scale > 0 && Number.isFinite(tr.model.scale));
  assertThrowsWith(() => tr.trainStep(), ArgumentError, /done/);
  const ckpt = parseCheckpoint(serializeCheckpoint(tr.checkpoint()));
  const loaded = loadLDM(ckpt);
  const o = { steps: 3, guidance: 3 };
  const a = tr.ema.generate(["a thick seven", "an eight"], { ...o, generator: new Generator(5) });
  const b = loaded.generate(["a thick seven", "an eight"], { ...o, generator: new Generator(5) });
  assert.deepEqual(a.shape, [2, 1, 28, 28]);
  assert.deepEqual([...b.dataSync()], [...a.dataSync()]);
  // a finished run resumed with no step left (the end-of-run grid): its sampler computes the latent scale again
  const again = LDMTrainer.fromCheckpoint(ckpt, tinyData()).sampler();
  assert.equal(again.scale, tr.model.scale);
  const c = again.generate(["a thick seven", "an eight"], { ...o, generator: new Generator(5) });
  assert.deepEqual([...c.dataSync()], [...a.dataSync()]);
  assertThrowsWith(
    () => new LDMTrainer(TINY, { vaeSteps: 2, steps: 2, batchSize: 4 }, tinyData()).sampler(),
    ArgumentError,
    /autoencoder's stage is not done/,
  );
  assertThrowsWith(
    () => loaded.generate(["a green seven"], { ...o, generator: new Generator(5) }),
    ArgumentError,
    /green/,
  );
});

test("LDMTrainer.fromCheckpoint: a run stopped in either stage and resumed takes the same steps, bit for bit", () => {
  const config = { vaeSteps: 3, steps: 3, batchSize: 4, seed: 7 };
  const whole = new LDMTrainer(TINY, config, tinyData());
  const losses: number[] = [];
  while (whole.stage !== "done") losses.push(whole.trainStep().loss);
  for (const stopAt of [1, 4]) {
    // stopped after step 1 (in the autoencoder's stage) and after step 4 (one step into the U-Net's)
    const first = new LDMTrainer(TINY, config, tinyData());
    const seen: number[] = [];
    while (first.step < stopAt) seen.push(first.trainStep().loss);
    const resumed = LDMTrainer.fromCheckpoint(parseCheckpoint(serializeCheckpoint(first.checkpoint())), tinyData());
    assert.equal(resumed.step, stopAt);
    while (resumed.stage !== "done") seen.push(resumed.trainStep().loss);
    assert.deepEqual(seen, losses, `stopped at step ${stopAt}`);
    const a = whole.checkpoint().model,
      b = resumed.checkpoint().model;
    for (const k of Object.keys(a)) assert.deepEqual([...b[k]!.dataSync()], [...a[k]!.dataSync()], `${k}`);
  }
  const noOptimizer = { ...parseCheckpoint(serializeCheckpoint(whole.checkpoint())) };
  delete noOptimizer.optimizer;
  assertThrowsWith(() => LDMTrainer.fromCheckpoint(noOptimizer, tinyData()), LoadError, /no optimizer/);
});

test("ldmCheckpointConfig: another run's checkpoint, huge widths, a short file and bad thresholds are LoadErrors", () => {
  const tr = new LDMTrainer(TINY, { vaeSteps: 1, steps: 1, batchSize: 2 }, tinyData());
  const good = parseCheckpoint(serializeCheckpoint(tr.checkpoint()));
  const edit = (f: (c: Record<string, any>) => void): LoadedCheckpoint => {
    const c = structuredClone(good.config) as Record<string, any>;
    f(c);
    return { ...good, config: c } as LoadedCheckpoint;
  };
  assert.ok(ldmCheckpointConfig(good).scale > 0);
  assertThrowsWith(() => ldmCheckpointConfig(edit((c) => (c.kind = "ddpm"))), LoadError, /wnn train ldm/);
  assertThrowsWith(() => ldmCheckpointConfig(edit((c) => (c.models.unet.channels = 1 << 20))), LoadError, /channels/);
  assertThrowsWith(
    () => ldmCheckpointConfig(edit((c) => (c.models.unet.channels = 1000))),
    LoadError,
    /implies at least/,
  );
  assertThrowsWith(() => ldmCheckpointConfig(edit((c) => (c.models.vae.channels = "x"))), LoadError, /vae.channels/);
  assertThrowsWith(() => ldmCheckpointConfig(edit((c) => (c.thresholds.mass = []))), LoadError, /thresholds/);
  assertThrowsWith(() => ldmCheckpointConfig(edit((c) => (c.scale = -1))), LoadError, /scale/);
  assertThrowsWith(() => ldmCheckpointConfig(edit((c) => (c.train.lr = "fast"))), LoadError, /lr is "fast"/);
  assertThrowsWith(() => ldmCheckpointConfig(edit((c) => (c.train.steps = 1e12))), LoadError, /steps/);
  const wrongShape = { ...good, model: { ...good.model } };
  delete wrongShape.model["ema.unet.convIn.weight"];
  assertThrowsWith(() => loadLDM(wrongShape), LoadError, /do not fit/);
  const stray = { ...good, model: { ...good.model, "extra.weight": good.model["vae.encoder.convIn.weight"]! } };
  assertThrowsWith(() => loadLDM(stray), LoadError, /1 weight of no network \("extra\.weight"\)/);
});
