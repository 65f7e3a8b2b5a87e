// Non-local ResNet: parity with the PyTorch reference (tools/fixtures/vision_attention.py) for the block
// alone (γ = 0.7) and the whole network (γ = 0.5, blocks after two stages) in eval and training mode; with
// γ = 0 the block is the identity; the attention's rows; overfitting one batch; the parameter count.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError, Generator, noGrad, rand, randint, randn } from "../../index.js";
import * as optim from "../../optim/index.js";
import { assertClose, assertThrowsWith } from "../../../test/harness/assert.js";
import { checkBlock, checkModel, overfit, visionFixture } from "../../../test/harness/vision.js";
import * as resnet from "../resnet/model.js";
import { countParameters, NonLocalBlock, NonLocalResNet, nonLocalResNetConfig, PRESETS } from "./model.js";

interface Config {
  in_channels: number;
  widths: number[];
  blocks: number[];
  num_classes: number;
  reduction: number;
  non_local: number[];
}
const fx = visionFixture<Config, { channels: number; reduction: number }>("non-local");
const config = nonLocalResNetConfig({
  inChannels: fx.config.in_channels,
  widths: fx.config.widths,
  blocks: fx.config.blocks,
  numClasses: fx.config.num_classes,
  reduction: fx.config.reduction,
  nonLocal: fx.config.non_local,
});

test("the non-local block matches PyTorch (γ = 0.7): output, and the gradients of the input, f, g, h, v and γ", () => {
  checkBlock(new NonLocalBlock(fx.block.channels, fx.block.reduction, new Generator(0)), fx.block);
});

test("the non-local ResNet matches PyTorch in eval and training mode: logits, loss, every parameter gradient", () => {
  checkModel(new NonLocalResNet(config, { generator: new Generator(0) }), fx.model);
});

test("with γ = 0 (as initialised) the non-local block equals its input, and the network its parent", () => {
  const block = new NonLocalBlock(6, 2, new Generator(3));
  assert.deepEqual([...block.gamma.storage], [0]);
  const x = randn([2, 6, 5, 4], { generator: new Generator(4) });
  assert.deepEqual([...noGrad(() => block.forward(x)).storage], [...x.storage]);
  // the whole network: the same weights as the parent's ResNet (its blocks), the same logits
  const c = nonLocalResNetConfig("nonlocal-resnet");
  const model = new NonLocalResNet(c, { generator: new Generator(5) }).eval();
  const parent = new resnet.ResNet(resnet.resnetConfig(c), { generator: new Generator(6) }).eval();
  const state = Object.fromEntries(Object.entries(model.stateDict()).filter(([k]) => !/^stages\.1\.1\./.test(k)));
  parent.loadStateDict(state);
  const img = rand([2, 1, 28, 28], { generator: new Generator(7) });
  assertClose(
    noGrad(() => model.forward(img)),
    noGrad(() => parent.forward(img)),
    { atol: 1e-6, rtol: 0 },
    "logits",
  );
  // but γ still learns: its gradient is not zero
  model.train();
  model.forward(img).sum().backward();
  const gamma = model.namedParameters().find(([n]) => n === "stages.1.1.gamma")![1];
  assert.ok(Math.abs(gamma.grad!.item()) > 0);
});

test("the attention: for every query place a distribution over the 196 places of the 14×14 map", () => {
  const model = new NonLocalResNet(nonLocalResNetConfig("nonlocal-resnet"), { generator: new Generator(1) });
  const [m] = noGrad(() => model.eval().attentionMaps(rand([2, 1, 28, 28], { generator: new Generator(2) })));
  assert.equal(m!.side, 14);
  assert.deepEqual([...m!.beta.shape], [2, 196, 196]);
  const rows = m!.beta.sum(-1).storage;
  for (const s of rows) assert.ok(Math.abs(s - 1) < 1e-5);
});

test("the non-local ResNet overfits one batch", () => {
  const model = new NonLocalResNet(
    nonLocalResNetConfig({
      inChannels: 1,
      widths: [4, 8, 8],
      blocks: [1, 1, 1],
      numClasses: 10,
      reduction: 2,
      nonLocal: [1],
    }),
    { generator: new Generator(1) },
  );
  const g = new Generator(2);
  const x = rand([10, 1, 12, 12], { generator: g }),
    y = randint(0, 10, [10], { generator: g });
  const opt = new optim.Adam(model.parameters(), { lr: 1e-2 });
  const r = overfit(model, x, y, () => opt.step(), 200, 0.02);
  assert.ok(r.first > 1.8 && r.last < 0.02, `loss ${r.first} → ${r.last} in ${r.steps} steps`);
});

test("parameter counts: the formula, the built model and PyTorch's agree; by hand for nonlocal-resnet", () => {
  assert.equal(countParameters(PRESETS["nonlocal-resnet"]), fx.param_counts["nonlocal-resnet"]);
  assert.equal(
    new NonLocalResNet(nonLocalResNetConfig("nonlocal-resnet"), { generator: new Generator(0) }).numParameters(),
    countParameters(PRESETS["nonlocal-resnet"]),
  );
  // the parent's 19,810 plus one block at C = 16, C̄ = 8: f, g, h 3·(8·16 + 8), v 16·8 + 16, γ 1
  assert.equal(countParameters(PRESETS["nonlocal-resnet"]), 19810 + 3 * (8 * 16 + 8) + (16 * 8 + 16) + 1);
  assert.equal(
    countParameters(config),
    Object.entries(fx.model.state)
      .filter(([k]) => !/running|numBatches/.test(k))
      .reduce((n, [, t]) => n + t.data.length, 0),
  );
});

test("configs are checked", () => {
  assertThrowsWith(
    () => nonLocalResNetConfig("nonlocal-resnet", { nonLocal: [3] }),
    ArgumentError,
    /nonLocal must list stages 0…2 in increasing order, got \[3\]/,
  );
  assertThrowsWith(
    () => nonLocalResNetConfig("nonlocal-resnet", { nonLocal: [1, 0] }),
    ArgumentError,
    /in increasing order/,
  );
});
