// ResNet: parity with the PyTorch reference (tools/fixtures/resnet.py) in eval and training mode
// (BatchNorm's running statistics, batch statistics and buffer updates), overfitting one batch, the
// parameter count, the shortcuts, the weight map, init, and the recipe on a few synthetic digits.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError, Generator, noGrad, rand, randint, ShapeError } from "../../index.js";
import * as F from "../../nn/functional.js";
import { BatchNorm2d, Conv2d } from "../../nn/index.js";
import { assertClose, assertThrowsWith } from "../../../test/harness/assert.js";
import { fromJson, tensorsOf, type TensorJson, readModelFixture } from "../../../test/harness/fixtures.js";
import * as optim from "../../optim/index.js";
import { syntheticDigits } from "../../../test/harness/digits.js";
import {
  BasicBlock,
  countParameters,
  fromTorchvision,
  PRESETS,
  ResNet,
  resnetConfig,
  toTorchvision,
  type ResNetConfig,
} from "./model.js";
import { resnetRecipe } from "./recipe.js";

// -----------------------------------------------------------------------------------------------------
// The fixture

interface ResNetFixture {
  config: { in_channels: number; widths: number[]; blocks: number[]; num_classes: number };
  state: Record<string, TensorJson>;
  x: TensorJson;
  y: TensorJson;
  eval: { logits: TensorJson; loss: number };
  train: { logits: TensorJson; loss: number; grads: Record<string, TensorJson>; buffers: Record<string, TensorJson> };
  sgd: { lr: number; momentum: number; losses: number[]; eval_logits: TensorJson };
  param_counts: Record<keyof typeof PRESETS, number>;
}

const fx = readModelFixture<ResNetFixture>("resnet");
const fxConfig: ResNetConfig = resnetConfig({
  inChannels: fx.config.in_channels,
  widths: fx.config.widths,
  blocks: fx.config.blocks,
  numClasses: fx.config.num_classes,
});

/** Our model holding the fixture's weights and BatchNorm buffers, loaded through the torchvision weight map. */
function fixtureModel(): ResNet {
  const model = new ResNet(fxConfig, { generator: new Generator(0) });
  model.loadStateDict(fromTorchvision(tensorsOf(fx.state)));
  return model;
}

const LOGITS = { atol: 1e-5, rtol: 1e-4 };
const GRADS = { rtol: 1e-3, atol: 1e-5 };

// -----------------------------------------------------------------------------------------------------
// Parity with PyTorch

test("ResNet matches PyTorch in eval mode: BatchNorm uses the running statistics", () => {
  const model = fixtureModel().eval();
  const logits = noGrad(() => model.forward(fromJson(fx.x))); // (N, K)
  assertClose(logits, fromJson(fx.eval.logits), LOGITS, "eval logits");
  assert.ok(Math.abs(F.crossEntropy(logits, fromJson(fx.y)).item() - fx.eval.loss) <= 1e-5);
  // eval mode leaves the buffers alone
  for (const [name, t] of Object.entries(toTorchvision(model.stateDict())))
    assert.deepEqual([...t.storage], fx.state[name]!.data, name);
});

test("ResNet matches PyTorch in training mode: logits, loss, every parameter gradient, the updated BatchNorm buffers", () => {
  const model = fixtureModel().train();
  const logits = model.forward(fromJson(fx.x));
  assertClose(logits, fromJson(fx.train.logits), LOGITS, "train logits");
  const loss = F.crossEntropy(logits, fromJson(fx.y));
  assert.ok(Math.abs(loss.item() - fx.train.loss) <= 1e-5, `loss ${loss.item()} vs PyTorch ${fx.train.loss}`);
  loss.backward();
  const expected = fromTorchvision(tensorsOf(fx.train.grads));
  const params = model.namedParameters();
  assert.deepEqual(params.map(([n]) => n).sort(), Object.keys(expected).sort());
  for (const [name, p] of params) assertClose(p.grad!, expected[name]!, GRADS, `d loss/d ${name}`);
  // running ← 0.9·running + 0.1·batch statistic (the unbiased variance); numBatchesTracked 3 → 4
  const buffers = fromTorchvision(tensorsOf(fx.train.buffers));
  const ours = model.namedBuffers();
  assert.deepEqual(ours.map(([n]) => n).sort(), Object.keys(buffers).sort());
  for (const [name, b] of ours) assertClose(b, buffers[name]!, { atol: 1e-6, rtol: 1e-5 }, name);
});

test("ResNet matches PyTorch over 5 SGD-with-momentum steps in training mode, then in eval mode", () => {
  const model = fixtureModel().train();
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
  assertClose(losses, fx.sgd.losses, { atol: 1e-4, rtol: 0 }, "SGD losses");
  // the trained weights with the running statistics of 5 more batches
  assertClose(
    noGrad(() => model.eval().forward(x)),
    fromJson(fx.sgd.eval_logits),
    { atol: 1e-4, rtol: 1e-3 },
    "eval logits after training",
  );
});

// -----------------------------------------------------------------------------------------------------
// Overfitting one batch

test("ResNet overfits one batch", () => {
  const config = resnetConfig({ inChannels: 1, widths: [4, 8, 8], blocks: [1, 1, 1], numClasses: 10 });
  const model = new ResNet(config, { generator: new Generator(1) });
  const g = new Generator(2);
  const x = rand([10, 1, 12, 12], { generator: g }),
    y = randint(0, 10, [10], { generator: g });
  const opt = new optim.Adam(model.parameters(), { lr: 1e-2 });
  let first = NaN,
    loss = NaN,
    steps = 0;
  for (; steps < 150 && !(loss < 0.02); steps++) {
    // measured: 51 steps
    opt.zeroGrad();
    const l = F.crossEntropy(model.forward(x), y);
    loss = l.item();
    if (steps === 0) first = loss;
    l.backward();
    opt.step();
  }
  assert.ok(first > 1.8, `the first loss ${first} should be near ln 10 = 2.30`);
  assert.ok(loss < 0.02, `loss ${loss} after ${steps} steps (first ${first})`);
  // and in eval mode, with the running statistics of those batches, it still classifies them
  const pred = noGrad(() => model.eval().forward(x)).argmax(1);
  assert.deepEqual([...pred.storage], [...y.storage]);
});

// -----------------------------------------------------------------------------------------------------
// Parameter count

test("the presets' parameter counts: the formula equals PyTorch's count and the allocated model's", () => {
  for (const name of Object.keys(PRESETS) as (keyof typeof PRESETS)[]) {
    const c = resnetConfig(name);
    assert.equal(countParameters(c), fx.param_counts[name], name);
    assert.equal(new ResNet(c, { generator: new Generator(0) }).numParameters(), countParameters(c), name);
  }
  // resnet-mnist-small by hand: stem 9·8 + 2·8; stage 1 (identity) 2·(9·8·8 + 2·8);
  // stage 2 9·8·16 + 9·16·16 + 4·16 + projection 8·16 + 2·16; stage 3 likewise at 16 → 32; head 32·10 + 10
  const small =
    9 * 8 + 16 + 2 * (9 * 64 + 16) + (9 * 128 + 9 * 256 + 64 + 128 + 32) + (9 * 512 + 9 * 1024 + 128 + 512 + 64) + 330;
  assert.equal(countParameters(PRESETS["resnet-mnist-small"]), small);
  assert.equal(
    countParameters(fxConfig),
    Object.entries(fx.state)
      .filter(([k]) => !/running_|num_batches/.test(k))
      .reduce((n, [, t]) => n + t.data.length, 0),
  );
});

// -----------------------------------------------------------------------------------------------------
// Shapes, shortcuts, config

test("identity shortcuts where the shape is kept, projections (1×1 conv stride 2 + BN) where it changes", () => {
  const model = new ResNet(fxConfig, { generator: new Generator(0) });
  const blocks = [...model.stages].map((s) => [...s] as BasicBlock[]);
  assert.equal(blocks[0]![0]!.shortcut, null); // 2 → 2, stride 1
  assert.equal(blocks[0]![1]!.shortcut, null);
  assert.deepEqual([...blocks[1]![0]!.shortcut!.conv.weight.shape], [3, 2, 1, 1]); // 2 → 3, stride 2
  assert.deepEqual(blocks[1]![0]!.shortcut!.conv.stride, [2, 2]);
  assert.deepEqual([...blocks[2]![0]!.shortcut!.conv.weight.shape], [3, 3, 1, 1]); // 3 → 3, stride 2: only the size changes
  const act = noGrad(() =>
    new ResNet(resnetConfig("resnet-mnist-small"), { generator: new Generator(0) }).activations(rand([2, 1, 28, 28])),
  );
  assert.deepEqual([...act.stem.shape], [2, 8, 28, 28]);
  assert.deepEqual(
    act.stages.map((t) => [...t.shape]),
    [
      [2, 8, 28, 28],
      [2, 16, 14, 14],
      [2, 32, 7, 7],
    ],
  );
  assert.deepEqual([...act.pooled.shape], [2, 32]);
  assert.deepEqual([...act.logits.shape], [2, 10]);
});

test("configs are frozen and checked; the input's shape is checked", () => {
  const c = resnetConfig("resnet-mnist-small", { numClasses: 3 });
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.widths) && Object.isFrozen(PRESETS["resnet20-mnist"]));
  assertThrowsWith(
    () => resnetConfig("resnet-mnist-small", { blocks: [1, 1] }),
    ArgumentError,
    /widths \[8,16,32\] and blocks \[1,1\] must have one entry per stage/,
  );
  assertThrowsWith(
    () => resnetConfig("resnet-mnist-small", { widths: [8, 0, 32] }),
    ArgumentError,
    /widths must be a non-empty list of positive integers/,
  );
  assertThrowsWith(() => resnetConfig("resnet50" as "resnet20-mnist"), ArgumentError, /unknown preset "resnet50"/);
  const model = new ResNet(fxConfig, { generator: new Generator(0) });
  assertThrowsWith(
    () => model.forward(rand([2, 3, 8, 8])),
    ShapeError,
    /expected images \(N, 1, H, W\), got \(2,3,8,8\)/,
  );
});

test("init: conv weights N(0, 2/fan_out) (He et al. 2015), BatchNorm γ = 1, β = 0; seeded", () => {
  const a = new ResNet(resnetConfig("resnet20-mnist"), { generator: new Generator(7) });
  const b = new ResNet(resnetConfig("resnet20-mnist"), { generator: new Generator(7) });
  for (const [k, t] of Object.entries(a.stateDict())) assert.deepEqual(t.storage, b.stateDict()[k]!.storage, k);
  for (const [name, m] of a.namedModules()) {
    if (m instanceof Conv2d && m.weight.numel() >= 4000) {
      // enough samples for a 5% check of the std
      const [out, , kh, kw] = m.weight.shape as number[];
      const std = Math.sqrt(Array.from(m.weight.storage).reduce((s, v) => s + v * v, 0) / m.weight.numel());
      const expected = Math.sqrt(2 / (out! * kh! * kw!));
      assert.ok(Math.abs(std / expected - 1) < 0.05, `${name}: std ${std}, expected ${expected}`);
    }
    if (m instanceof BatchNorm2d)
      assert.ok(m.weight!.storage.every((v) => v === 1) && m.bias!.storage.every((v) => v === 0), name);
  }
});

// -----------------------------------------------------------------------------------------------------
// Weight map

test("weight map: our names ↔ torchvision's, both ways, for every parameter and buffer", () => {
  const model = new ResNet(fxConfig, { generator: new Generator(3) });
  const ours = model.stateDict();
  const theirs = toTorchvision(ours);
  assert.deepEqual(Object.keys(theirs).sort(), Object.keys(fx.state).sort()); // the PyTorch reference's names
  for (const [k, t] of Object.entries(theirs)) assert.deepEqual([...t.shape], fx.state[k]!.shape, k);
  assert.equal(theirs["layer2.0.downsample.1.running_var"], ours["stages.1.0.shortcut.norm.runningVar"]);
  assert.equal(theirs["fc.weight"], ours["head.weight"]);
  const back = fromTorchvision(theirs);
  assert.deepEqual(Object.keys(back).sort(), Object.keys(ours).sort());
  for (const [k, t] of Object.entries(back)) assert.equal(t, ours[k], k);
  assertThrowsWith(
    () => fromTorchvision({ "layer1.0.bn3.weight": ours["head.bias"]! }),
    ArgumentError,
    /unexpected key layer1\.0\.bn3\.weight/,
  );
  assertThrowsWith(
    () => toTorchvision({ "stages.0.0.norm3.weight": ours["head.bias"]! }),
    ArgumentError,
    /unexpected key stages\.0\.0\.norm3\.weight/,
  );
});

// -----------------------------------------------------------------------------------------------------
// The recipe

test("the resnet recipe trains on the digits it is given and returns metrics, tables and PNGs", () => {
  const g = new Generator(5);
  const mnist = { train: syntheticDigits(32, g), test: syntheticDigits(16, g) };
  const lines: string[] = [];
  const r = resnetRecipe.run(
    { ...resnetRecipe.defaults, epochs: 1, batchSize: 16 },
    { mnist },
    { log: (l) => lines.push(l) },
    new Generator(6),
  );
  assert.equal(r.metrics.trainCount, 32);
  assert.equal(r.metrics.steps, 2);
  assert.equal(r.metrics.parameters, fx.param_counts["resnet-mnist-small"]);
  assert.equal(
    Math.round(r.metrics.testAccuracy! * 16),
    r.metrics.testAccuracy! * 16,
    "an accuracy counts whole digits",
  );
  assert.ok(
    lines.some((l) => /epoch 1\/1: test loss [\d.]+, test accuracy [\d.]+% \(16 digits\)/.test(l)),
    lines.join("\n"),
  );
  const png = [137, 80, 78, 71, 13, 10, 26, 10];
  assert.deepEqual(Object.keys(r.images!).sort(), [
    "featuremaps-last-stage.png",
    "featuremaps.png",
    "filters.png",
    "loss.png",
  ]);
  for (const [name, bytes] of Object.entries(r.images!)) assert.deepEqual([...bytes.subarray(0, 8)], png, name);
  assertThrowsWith(
    () =>
      resnetRecipe.run(
        { ...resnetRecipe.defaults, preset: "resnet152" },
        { mnist },
        { log: () => {} },
        new Generator(0),
      ),
    ArgumentError,
    /unknown preset "resnet152"/,
  );
});
