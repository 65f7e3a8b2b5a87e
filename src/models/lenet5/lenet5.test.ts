// LeNet-5: parity with the PyTorch reference (tools/fixtures/lenet5.py), overfitting one batch, the
// parameter count, the config's checks, and the recipe on a few synthetic digits.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError, Generator, noGrad, randint, rand, ShapeError } from "../../index.js";
import * as F from "../../nn/functional.js";
import { assertClose, assertThrowsWith } from "../../../test/harness/assert.js";
import { fromJson, tensorsOf, type TensorJson, readModelFixture } from "../../../test/harness/fixtures.js";
import { syntheticDigits } from "../../../test/harness/digits.js";
import * as optim from "../../optim/index.js";
import { countParameters, LeNet5, lenetConfig, mapSizes, PRESETS, type LeNetConfig } from "./model.js";
import { lenet5Recipe } from "./recipe.js";

// -----------------------------------------------------------------------------------------------------
// The fixture

interface LeNetFixture {
  config: {
    in_channels: number;
    image_size: number;
    padding: number;
    c1: number;
    c3: number;
    c5: number;
    f6: number;
    num_classes: number;
  };
  state: Record<string, TensorJson>;
  x: TensorJson;
  y: TensorJson;
  logits: TensorJson;
  loss: number;
  grads: Record<string, TensorJson>;
  sgd: { lr: number; momentum: number; losses: number[]; final_loss: number };
  param_counts: Record<"lenet5" | "lenet5-32", number>;
}

const fx = readModelFixture<LeNetFixture>("lenet5");
const fxConfig: LeNetConfig = lenetConfig({
  inChannels: fx.config.in_channels,
  imageSize: fx.config.image_size,
  padding: fx.config.padding,
  c1: fx.config.c1,
  c3: fx.config.c3,
  c5: fx.config.c5,
  f6: fx.config.f6,
  numClasses: fx.config.num_classes,
});

/** Our model holding the fixture's weights: the reference uses our names, so the state dict loads as it is. */
function fixtureModel(): LeNet5 {
  const model = new LeNet5(fxConfig, { generator: new Generator(0) });
  model.loadStateDict(tensorsOf(fx.state));
  return model;
}

// -----------------------------------------------------------------------------------------------------
// Parity with PyTorch

test("LeNet-5 matches the PyTorch reference: logits, loss, every parameter gradient", () => {
  const model = fixtureModel();
  const logits = model.forward(fromJson(fx.x)); // (N, K)
  assertClose(logits, fromJson(fx.logits), { atol: 1e-5, rtol: 1e-4 }, "logits");
  const loss = F.crossEntropy(logits, fromJson(fx.y));
  assert.ok(Math.abs(loss.item() - fx.loss) <= 1e-5, `loss ${loss.item()} vs PyTorch ${fx.loss}`);
  loss.backward();
  const params = model.namedParameters();
  assert.deepEqual(params.map(([n]) => n).sort(), Object.keys(fx.grads).sort());
  for (const [name, p] of params)
    assertClose(p.grad!, fromJson(fx.grads[name]!), { rtol: 1e-3, atol: 1e-6 }, `d loss/d ${name}`);
});

test("LeNet-5 matches the PyTorch reference over 5 SGD-with-momentum steps", () => {
  const model = fixtureModel();
  const opt = new optim.SGD(model.parameters(), { lr: fx.sgd.lr, momentum: fx.sgd.momentum });
  const x = fromJson(fx.x),
    y = fromJson(fx.y);
  const losses: number[] = [];
  for (let step = 0; step < fx.sgd.losses.length; step++) {
    opt.zeroGrad();
    const loss = F.crossEntropy(model.forward(x), y);
    losses.push(loss.item());
    loss.backward();
    opt.step();
  }
  losses.push(noGrad(() => F.crossEntropy(model.forward(x), y).item()));
  assertClose(losses, [...fx.sgd.losses, fx.sgd.final_loss], { atol: 1e-4, rtol: 0 }, "SGD losses");
});

// -----------------------------------------------------------------------------------------------------
// Overfitting one batch

test("LeNet-5 overfits one batch", () => {
  const config = lenetConfig("lenet5", { c1: 4, c3: 8, c5: 32, f6: 24 });
  const model = new LeNet5(config, { generator: new Generator(1) });
  const g = new Generator(2);
  const x = rand([10, 1, 28, 28], { generator: g }),
    y = randint(0, 10, [10], { generator: g });
  const opt = new optim.Adam(model.parameters(), { lr: 3e-3 });
  let first = NaN,
    loss = NaN,
    steps = 0;
  for (; steps < 150 && !(loss < 0.02); steps++) {
    // measured: 73 steps
    opt.zeroGrad();
    const l = F.crossEntropy(model.forward(x), y);
    loss = l.item();
    if (steps === 0) first = loss;
    l.backward();
    opt.step();
  }
  assert.ok(Math.abs(first - Math.log(10)) < 0.3, `the first loss ${first} should be near ln 10 = 2.30`);
  assert.ok(loss < 0.02, `loss ${loss} after ${steps} steps (first ${first})`);
});

// -----------------------------------------------------------------------------------------------------
// Parameter count

test("LeNet-5 has 61,706 parameters in this layout (PyTorch's count); the formula equals the allocated model's", () => {
  // C1 6·(1·5·5 + 1) + C3 16·(6·5·5 + 1) + C5 120·(16·5·5 + 1) + F6 84·(120 + 1) + output 10·(84 + 1)
  const byLayer = 6 * (1 * 25 + 1) + 16 * (6 * 25 + 1) + 120 * (16 * 25 + 1) + 84 * (120 + 1) + 10 * (84 + 1);
  assert.equal(countParameters(PRESETS.lenet5), byLayer);
  assert.equal(countParameters(PRESETS.lenet5), fx.param_counts.lenet5); // the PyTorch reference's sum of numel
  assert.equal(countParameters(PRESETS["lenet5-32"]), fx.param_counts["lenet5-32"]);
  for (const c of [
    PRESETS.lenet5,
    PRESETS["lenet5-32"],
    fxConfig,
    lenetConfig("lenet5", { imageSize: 36, c1: 3, inChannels: 3 }),
  ]) {
    assert.equal(new LeNet5(c, { generator: new Generator(0) }).numParameters(), countParameters(c), JSON.stringify(c));
  }
  assert.equal(
    countParameters(fxConfig),
    Object.values(fx.state).reduce((n, t) => n + t.data.length, 0),
  );
});

// -----------------------------------------------------------------------------------------------------
// Shapes, config

test("every layer's maps have the paper's sizes: 28 (+2 padding) → 28 → 14 → 10 → 5 → 1", () => {
  assert.deepEqual(mapSizes(PRESETS.lenet5), { c1: 28, s2: 14, c3: 10, s4: 5, c5: 1 });
  assert.deepEqual(mapSizes(PRESETS["lenet5-32"]), mapSizes(PRESETS.lenet5));
  const model = new LeNet5(lenetConfig("lenet5"), { generator: new Generator(0) });
  const act = noGrad(() => model.activations(rand([2, 1, 28, 28], { generator: new Generator(1) })));
  const shapes = Object.fromEntries(Object.entries(act).map(([k, t]) => [k, [...t.shape]]));
  assert.deepEqual(shapes, {
    c1: [2, 6, 28, 28],
    s2: [2, 6, 14, 14],
    c3: [2, 16, 10, 10],
    s4: [2, 16, 5, 5],
    c5: [2, 120, 1, 1],
    f6: [2, 84],
    logits: [2, 10],
  });
  // a bigger input keeps C5 a convolution: 36×36 → 32 → 16 → 12 → 6 → C5 maps of 2×2, F6 reads all of them
  const big = new LeNet5(lenetConfig("lenet5", { imageSize: 36, padding: 0 }), { generator: new Generator(0) });
  assert.deepEqual([...noGrad(() => big.activations(rand([1, 1, 36, 36]))).c5.shape], [1, 120, 2, 2]);
  assert.equal(big.f6.inFeatures, 120 * 2 * 2);
});

test("configs are frozen and checked; the input's shape is checked", () => {
  const c = lenetConfig("lenet5", { numClasses: 4 });
  assert.ok(Object.isFrozen(c) && Object.isFrozen(PRESETS.lenet5));
  assert.equal(c.numClasses, 4);
  assertThrowsWith(
    () => lenetConfig("lenet5", { imageSize: 24 }),
    ArgumentError,
    /24×24 input with padding 2 is too small for C5/,
  );
  assertThrowsWith(() => lenetConfig("lenet4" as "lenet5"), ArgumentError, /unknown preset "lenet4"/);
  assertThrowsWith(() => lenetConfig("lenet5", { c3: 0 }), ArgumentError, /c3 must be a positive integer, got 0/);
  assertThrowsWith(() => lenetConfig("lenet5", { padding: -1 }), ArgumentError, /padding must be an integer ≥ 0/);
  const model = new LeNet5(lenetConfig("lenet5"), { generator: new Generator(0) });
  assertThrowsWith(
    () => model.forward(rand([2, 28, 28])),
    ShapeError,
    /expected images \(N, 1, 28, 28\), got \(2,28,28\)/,
  );
  assertThrowsWith(() => model.forward(rand([2, 1, 32, 32])), ShapeError, /got \(2,1,32,32\)/);
});

test("init is seeded: one generator seed, one model", () => {
  const a = new LeNet5(lenetConfig("lenet5"), { generator: new Generator(3) }).stateDict();
  const b = new LeNet5(lenetConfig("lenet5"), { generator: new Generator(3) }).stateDict();
  const c = new LeNet5(lenetConfig("lenet5"), { generator: new Generator(4) }).stateDict();
  for (const k of Object.keys(a)) assert.deepEqual(a[k]!.storage, b[k]!.storage, k);
  assert.notDeepEqual(a["c1.weight"]!.storage, c["c1.weight"]!.storage);
});

// -----------------------------------------------------------------------------------------------------
// The recipe

test("the lenet5 recipe trains on the digits it is given and returns metrics, tables and PNGs", () => {
  const g = new Generator(5);
  const mnist = { train: syntheticDigits(48, g), test: syntheticDigits(20, g) };
  const lines: string[] = [];
  const r = lenet5Recipe.run(
    { ...lenet5Recipe.defaults, epochs: 4, batchSize: 8, lr: 1e-2 },
    { mnist },
    { log: (l) => lines.push(l) },
    new Generator(6),
  );
  assert.equal(r.metrics.trainCount, 48);
  assert.equal(r.metrics.testCount, 20);
  assert.equal(r.metrics.steps, 4 * 6);
  assert.equal(r.metrics.parameters, fx.param_counts.lenet5);
  // it learns: the last epoch's mean loss well below the ln 10 = 2.30 of a guess (measured: 1.24)
  assert.ok(r.metrics.trainLoss! < 0.8 * Math.log(10), `last epoch's loss ${r.metrics.trainLoss}`);
  assert.equal(
    Math.round(r.metrics.testAccuracy! * 20),
    r.metrics.testAccuracy! * 20,
    "an accuracy counts whole digits",
  );
  assert.ok(
    lines.some((l) => /epoch 4\/4: test loss [\d.]+, test accuracy [\d.]+% \(20 digits\)/.test(l)),
    lines.join("\n"),
  );
  assert.match(r.tables!.epochs!, /\| 4 \| [\d.]+ \| [\d.]+% \|/);
  const png = [137, 80, 78, 71, 13, 10, 26, 10];
  assert.deepEqual(Object.keys(r.images!).sort(), ["featuremaps-c3.png", "featuremaps.png", "filters.png", "loss.png"]);
  for (const [name, bytes] of Object.entries(r.images!)) assert.deepEqual([...bytes.subarray(0, 8)], png, name);
  assertThrowsWith(
    () => lenet5Recipe.run(lenet5Recipe.defaults, {}, { log: () => {} }, new Generator(0)),
    ArgumentError,
    /needs data\.mnist/,
  );
});
