// SE-ResNet: parity with the PyTorch reference (tools/fixtures/vision_attention.py) for the SE module alone
// and the whole network in eval and training mode, the gates, overfitting one batch, the parameter count.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError, Generator, noGrad, rand, randint } from "../../index.js";
import * as optim from "../../optim/index.js";
import { assertThrowsWith } from "../../../test/harness/assert.js";
import { checkBlock, checkModel, overfit, visionFixture } from "../../../test/harness/vision.js";
import * as resnet from "../resnet/model.js";
import {
  countParameters,
  describe,
  PRESETS,
  SEBasicBlock,
  SEResNet,
  seResNetConfig,
  SqueezeExcitation,
} from "./model.js";

interface Config {
  in_channels: number;
  widths: number[];
  blocks: number[];
  num_classes: number;
  reduction: number;
}
const fx = visionFixture<Config, { channels: number; reduction: number }>("senet");
const config = seResNetConfig({
  inChannels: fx.config.in_channels,
  widths: fx.config.widths,
  blocks: fx.config.blocks,
  numClasses: fx.config.num_classes,
  reduction: fx.config.reduction,
});

test("the SE module matches PyTorch: output, and the gradients of the input, W₁, b₁, W₂, b₂", () => {
  checkBlock(new SqueezeExcitation(fx.block.channels, fx.block.reduction, new Generator(0)), fx.block);
});

test("SE-ResNet matches PyTorch in eval and training mode: logits, loss, every parameter gradient", () => {
  checkModel(new SEResNet(config, { generator: new Generator(0) }), fx.model);
});

test("the gates lie in (0, 1), one per channel of every block; the model is the parent with SE blocks", () => {
  const model = new SEResNet(seResNetConfig("se-resnet"), { generator: new Generator(1) });
  const gates = noGrad(() => model.eval().gates(rand([2, 1, 28, 28], { generator: new Generator(2) })));
  assert.deepEqual(
    gates.map((s) => [...s.shape]),
    [
      [2, 8],
      [2, 16],
      [2, 32],
    ],
  );
  for (const s of gates) assert.ok(s.storage.every((v) => v > 0 && v < 1));
  assert.ok(model instanceof resnet.ResNet);
  assert.ok([...model.stages].every((stage) => [...stage].every((b) => b instanceof SEBasicBlock)));
});

test("SE-ResNet overfits one batch", () => {
  const model = new SEResNet(
    seResNetConfig({ inChannels: 1, widths: [4, 8, 8], blocks: [1, 1, 1], numClasses: 10, reduction: 2 }),
    { generator: new Generator(1) },
  );
  const g = new Generator(2);
  const x = rand([10, 1, 12, 12], { generator: g }),
    y = randint(0, 10, [10], { generator: g });
  const opt = new optim.Adam(model.parameters(), { lr: 1e-2 });
  const r = overfit(model, x, y, () => opt.step(), 200, 0.02);
  assert.ok(r.first > 1.8 && r.last < 0.02, `loss ${r.first} → ${r.last} in ${r.steps} steps`);
});

test("parameter counts: the formula, the built model and PyTorch's agree; by hand for se-resnet", () => {
  assert.equal(countParameters(PRESETS["se-resnet"]), fx.param_counts["se-resnet"]);
  assert.equal(
    new SEResNet(seResNetConfig("se-resnet"), { generator: new Generator(0) }).numParameters(),
    countParameters(PRESETS["se-resnet"]),
  );
  // the parent's 19,810 plus, per block of C channels and h = C/4: W₁ h·C, b₁ h, W₂ C·h, b₂ C
  const se = (C: number, h: number): number => 2 * C * h + h + C;
  assert.equal(countParameters(PRESETS["se-resnet"]), 19810 + se(8, 2) + se(16, 4) + se(32, 8));
  assert.equal(describe(PRESETS["se-resnet"]).parameters, 20552);
  assert.equal(
    countParameters(config),
    Object.entries(fx.model.state)
      .filter(([k]) => !/running|numBatches/.test(k))
      .reduce((n, [, t]) => n + t.data.length, 0),
  );
});

test("configs are checked and frozen", () => {
  assert.ok(Object.isFrozen(seResNetConfig("se-resnet")));
  assertThrowsWith(
    () => seResNetConfig("se-resnet", { reduction: 0 }),
    ArgumentError,
    /reduction must be a positive integer, got 0/,
  );
  assertThrowsWith(() => seResNetConfig("se-resnet-50" as "se-resnet"), ArgumentError, /unknown preset "se-resnet-50"/);
});
