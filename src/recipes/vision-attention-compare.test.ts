// The vision-attention-compare recipe on a few synthetic digits: every contender trains on the same
// batches and is evaluated; the table, metrics and pictures come back; the cluttered variant; bad options.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError, Generator } from "../index.js";
import { assertThrowsWith } from "../../test/harness/assert.js";
import { syntheticDigits } from "../../test/harness/digits.js";
import {
  CONTENDERS,
  evaluateImages,
  imageBatch,
  visionAttentionCompareRecipe as recipe,
  type VisionAttentionOptions,
} from "./vision-attention-compare.js";
import { permutation } from "./mnist.js";
import * as F from "../nn/functional.js";
import { Adam } from "../optim/adam.js";
import { CosineAnnealingLR } from "../optim/schedulers.js";

const PNG = [137, 80, 78, 71, 13, 10, 26, 10];

test("five models, one budget: the table, the metrics (parameters from describe()), the pictures", () => {
  const g = new Generator(5);
  const mnist = { train: syntheticDigits(24, g), test: syntheticDigits(8, g) };
  const lines: string[] = [];
  const r = recipe.run(
    { ...recipe.defaults, steps: 2, batchSize: 8 },
    { mnist },
    { log: (l) => lines.push(l) },
    new Generator(0),
  );
  for (const c of CONTENDERS) {
    assert.equal(r.metrics[`${c.key}.parameters`], c.describe(28).parameters, c.key);
    assert.equal(r.metrics[`${c.key}.flops`], c.describe(28).flops.value, c.key);
    assert.ok(
      r.metrics[`${c.key}.cpuMsPerStep`]! > 0 && r.metrics[`${c.key}.wallMsPerStep`]! > 0,
      `${c.key}: the CPU and wall time per step are measured`,
    );
    const acc = r.metrics[`${c.key}.testAccuracy`]!;
    assert.equal(Math.round(acc * 8), acc * 8, `${c.key}: an accuracy counts whole images`);
  }
  const table = r.tables!["vision-attention-compare.md"]!;
  for (const name of ["ResNet-8", "SE-ResNet-8", "CBAM-ResNet-8", "Non-local ResNet-8", "ViT (patch 4)"])
    assert.match(table, new RegExp(`\\| ${name.replace(/[()]/g, "\\$&")} `));
  assert.deepEqual(Object.keys(r.images!).sort(), [
    "cbam-spatial.png",
    "loss.png",
    "nonlocal-attention.png",
    "vit-rollout.png",
  ]);
  for (const [name, bytes] of Object.entries(r.images!)) assert.deepEqual([...bytes.subarray(0, 8)], PNG, name);
  assert.ok(
    lines.some((l) => /ViT \(patch 4\): test accuracy [\d.]+%/.test(l)),
    lines.join("\n"),
  );
});

test("the cluttered variant trains on canvases of the given side; a subset of the models", () => {
  const g = new Generator(6);
  const mnist = { train: syntheticDigits(16, g), test: syntheticDigits(4, g) };
  const r = recipe.run(
    { ...recipe.defaults, steps: 1, batchSize: 8, canvas: 32, models: "cbam,vit" },
    { mnist },
    { log: () => {} },
    new Generator(0),
  );
  assert.equal(r.metrics.side, 32);
  assert.equal(r.metrics["vit.parameters"], CONTENDERS.find((c) => c.key === "vit")!.describe(32).parameters); // 64 patches: more positions
  assert.equal(r.metrics["resnet.parameters"], undefined);
  assert.deepEqual(Object.keys(r.images!).sort(), ["cbam-spatial.png", "loss.png", "vit-rollout.png"]);
});

test("the ViT's warmup: a linear rise of the lr before the cosine changes its training, not the ResNets'", () => {
  const g = new Generator(8);
  const mnist = { train: syntheticDigits(16, g), test: syntheticDigits(4, g) };
  const run = (vitWarmup: number) =>
    recipe.run(
      { ...recipe.defaults, steps: 3, batchSize: 8, models: "resnet,vit", vitWarmup },
      { mnist },
      { log: () => {} },
      new Generator(0),
    ).metrics;
  const [cold, warm] = [run(0), run(2)];
  assert.equal(cold["resnet.trainLoss@3"], warm["resnet.trainLoss@3"]);
  assert.notEqual(cold["vit.trainLoss@2"], warm["vit.trainLoss@2"]);
});

test("bad options are typed errors", () => {
  const g = new Generator(7);
  const mnist = { train: syntheticDigits(8, g), test: syntheticDigits(4, g) };
  const run = (o: Partial<VisionAttentionOptions>) => () =>
    recipe.run({ ...recipe.defaults, ...o } as VisionAttentionOptions, { mnist }, { log: () => {} }, new Generator(0));
  assertThrowsWith(run({ canvas: 30 }), ArgumentError, /canvas must be 0 .* or a multiple of 4 above 28 .*, got 30/);
  assertThrowsWith(run({ models: "resnet,densenet" }), ArgumentError, /unknown model "densenet"/);
  assertThrowsWith(run({ steps: 0 }), ArgumentError, /steps must be a positive integer/);
  assertThrowsWith(
    () => recipe.run(recipe.defaults, {}, { log: () => {} }, new Generator(0)),
    ArgumentError,
    /needs data.mnist/,
  );
});

test("on the shared loop, the protocol written out by hand: the same losses, step by step, and the same test result", () => {
  const g = new Generator(9);
  const mnist = { train: syntheticDigits(20, g), test: syntheticDigits(6, g) };
  const r = recipe.run(
    { ...recipe.defaults, steps: 4, batchSize: 8, models: "resnet" },
    { mnist },
    { log: () => {} },
    new Generator(0),
  ).metrics;
  // by hand: weights from seed 0, Adam at the ResNets' 1e-2 with a cosine to 0 over the steps, the digits in
  // the order of seed 1 (a new permutation when a pass ends)
  const train = { ...mnist.train, side: 28 },
    test = { ...mnist.test, side: 28 };
  const model = CONTENDERS[0]!.build(28, new Generator(0));
  const opt = new Adam(model.parameters(), { lr: 1e-2 });
  const sched = new CosineAnnealingLR(opt, { tMax: 4 });
  const order = new Generator(1);
  let perm = permutation(train.count, order),
    at = 0;
  model.train();
  for (let step = 1; step <= 4; step++) {
    if (at + 8 > train.count) [perm, at] = [permutation(train.count, order), 0];
    const { x, y } = imageBatch(train, perm, at, 8);
    at += 8;
    opt.zeroGrad();
    const loss = F.crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    sched.step();
    assert.equal(r[`resnet.trainLoss@${step}`], loss.item(), `step ${step}`);
  }
  const { accuracy, loss } = evaluateImages(model, test);
  assert.equal(r["resnet.testAccuracy"], accuracy);
  assert.equal(r["resnet.testLoss"], loss);
});
