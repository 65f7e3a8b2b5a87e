// CBAM-ResNet: parity with the PyTorch reference (tools/fixtures/vision_attention.py) for CBAM's two gates
// alone and the whole network in eval and training mode, the spatial maps, overfitting one batch, the
// parameter count.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError, Generator, noGrad, rand, randint, type Tensor } from "../../index.js";
import { Module } from "../../nn/module.js";
import * as optim from "../../optim/index.js";
import { assertThrowsWith } from "../../../test/harness/assert.js";
import { checkBlock, checkModel, overfit, visionFixture } from "../../../test/harness/vision.js";
import { CBAMResNet, cbamResNetConfig, ChannelGate, countParameters, PRESETS, SpatialGate } from "./model.js";

interface Config {
  in_channels: number;
  widths: number[];
  blocks: number[];
  num_classes: number;
  reduction: number;
  spatial_kernel: number;
}
const fx = visionFixture<Config, { channels: number; reduction: number; spatial_kernel: number }>("cbam");
const config = cbamResNetConfig({
  inChannels: fx.config.in_channels,
  widths: fx.config.widths,
  blocks: fx.config.blocks,
  numClasses: fx.config.num_classes,
  reduction: fx.config.reduction,
  spatialKernel: fx.config.spatial_kernel,
});

/** CBAM alone, as the block applies it: F' = M_c(F) ⊗ F, F'' = M_s(F') ⊗ F'. */
class CBAM extends Module {
  channelGate: ChannelGate;
  spatialGate: SpatialGate;
  constructor(C: number, r: number, k: number) {
    super();
    this.channelGate = new ChannelGate(C, r, new Generator(0));
    this.spatialGate = new SpatialGate(k, new Generator(0));
  }
  forward(f: Tensor): Tensor {
    const [N, C] = f.shape as [number, number];
    const f1 = f.mul(this.channelGate.forward(f).reshape([N, C, 1, 1]));
    return f1.mul(this.spatialGate.forward(f1));
  }
}

test("CBAM's channel and spatial gates match PyTorch: output, and the gradients of the input and every parameter", () => {
  checkBlock(new CBAM(fx.block.channels, fx.block.reduction, fx.block.spatial_kernel), fx.block);
});

test("CBAM-ResNet matches PyTorch in eval and training mode: logits, loss, every parameter gradient", () => {
  checkModel(new CBAMResNet(config, { generator: new Generator(0) }), fx.model);
});

test("the spatial maps: one gate in (0, 1) per place of every block's map", () => {
  const model = new CBAMResNet(cbamResNetConfig("cbam-resnet"), { generator: new Generator(1) });
  const maps = noGrad(() => model.eval().spatialMaps(rand([2, 1, 28, 28], { generator: new Generator(2) })));
  assert.deepEqual(
    maps.map((m) => [...m.shape]),
    [
      [2, 1, 28, 28],
      [2, 1, 14, 14],
      [2, 1, 7, 7],
    ],
  );
  for (const m of maps) assert.ok(m.storage.every((v) => v > 0 && v < 1));
});

test("CBAM-ResNet overfits one batch", () => {
  const model = new CBAMResNet(
    cbamResNetConfig({
      inChannels: 1,
      widths: [4, 8, 8],
      blocks: [1, 1, 1],
      numClasses: 10,
      reduction: 2,
      spatialKernel: 7,
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

test("parameter counts: the formula, the built model and PyTorch's agree; by hand for cbam-resnet", () => {
  assert.equal(countParameters(PRESETS["cbam-resnet"]), fx.param_counts["cbam-resnet"]);
  assert.equal(
    new CBAMResNet(cbamResNetConfig("cbam-resnet"), { generator: new Generator(0) }).numParameters(),
    countParameters(PRESETS["cbam-resnet"]),
  );
  // the parent's 19,810 plus, per block of C channels and h = C/4: the MLP 2·C·h + h + C, the 7×7 filter on 2 maps
  const cbam = (C: number, h: number): number => 2 * C * h + h + C + 2 * 49;
  assert.equal(countParameters(PRESETS["cbam-resnet"]), 19810 + cbam(8, 2) + cbam(16, 4) + cbam(32, 8));
  assert.equal(
    countParameters(config),
    Object.entries(fx.model.state)
      .filter(([k]) => !/running|numBatches/.test(k))
      .reduce((n, [, t]) => n + t.data.length, 0),
  );
});

test("configs are checked", () => {
  assertThrowsWith(
    () => cbamResNetConfig("cbam-resnet", { spatialKernel: 4 }),
    ArgumentError,
    /spatialKernel must be odd/,
  );
  assertThrowsWith(
    () => cbamResNetConfig("cbam-resnet", { reduction: 1.5 }),
    ArgumentError,
    /reduction must be a positive integer/,
  );
});
