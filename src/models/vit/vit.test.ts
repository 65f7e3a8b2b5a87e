// ViT: parity with the PyTorch reference (tools/fixtures/vision_attention.py) for one encoder block and the
// whole model (logits, loss, every gradient); the patches; the rollout; overfitting one batch; the
// parameter count; bad input.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError, Generator, noGrad, rand, randint, ShapeError, tensor } from "../../index.js";
import * as optim from "../../optim/index.js";
import { assertThrowsWith } from "../../../test/harness/assert.js";
import { checkBlock, checkModel, overfit, visionFixture } from "../../../test/harness/vision.js";
import { Block, countParameters, describe, patchify, PRESETS, rollout, ViT, vitConfig } from "./model.js";

interface Config {
  image_size: number;
  patch_size: number;
  in_channels: number;
  dim: number;
  depth: number;
  heads: number;
  mlp_dim: number;
  num_classes: number;
}
const fx = visionFixture<Config>("vit");
const config = vitConfig({
  imageSize: fx.config.image_size,
  patchSize: fx.config.patch_size,
  inChannels: fx.config.in_channels,
  dim: fx.config.dim,
  depth: fx.config.depth,
  heads: fx.config.heads,
  mlpDim: fx.config.mlp_dim,
  numClasses: fx.config.num_classes,
});

test("a pre-LN encoder block matches PyTorch: output, and the gradients of the input and every parameter", () => {
  checkBlock(new Block(config, new Generator(0)), fx.block);
});

test("ViT matches PyTorch: logits, loss, every parameter gradient (class token and positions too)", () => {
  checkModel(new ViT(config, { generator: new Generator(0) }), fx.model);
});

test("patchify: row-major patches, each flattened as (channel, row, column)", () => {
  const x = tensor(
    Float32Array.from({ length: 2 * 16 }, (_, i) => i),
    { shape: [1, 2, 4, 4] },
  );
  const p = patchify(x, 2); // 4 patches of 2·2·2
  assert.deepEqual([...p.shape], [1, 4, 8]);
  // patch 1 (top right): channel 0 rows 0–1 columns 2–3, then channel 1's
  assert.deepEqual([...p.narrow(1, 1, 1).storage], [2, 3, 6, 7, 18, 19, 22, 23]);
});

test("the rollout: a distribution-like map over the patches, from every block's attention", () => {
  const model = new ViT(vitConfig("vit-mnist"), { generator: new Generator(1) });
  const maps = noGrad(() => model.attentionMaps(rand([2, 1, 28, 28], { generator: new Generator(2) })));
  assert.deepEqual(
    maps.map((m) => [...m.shape]),
    [
      [2, 4, 50, 50],
      [2, 4, 50, 50],
    ],
  );
  const r = noGrad(() => rollout(maps));
  assert.deepEqual([...r.shape], [2, 49]);
  // R's rows sum to 1 (products of row-stochastic matrices); the patches' share of row 0 is below 1
  for (let b = 0; b < 2; b++) {
    const s = r.narrow(0, b, 1).sum().item();
    assert.ok(s > 0 && s < 1, `patches' share ${s}`);
  }
});

test("ViT overfits one batch", () => {
  const model = new ViT(
    vitConfig({ imageSize: 12, patchSize: 4, inChannels: 1, dim: 16, depth: 2, heads: 2, mlpDim: 32, numClasses: 10 }),
    { generator: new Generator(1) },
  );
  const g = new Generator(2);
  const x = rand([10, 1, 12, 12], { generator: g }),
    y = randint(0, 10, [10], { generator: g });
  const opt = new optim.Adam(model.parameters(), { lr: 3e-3 });
  const r = overfit(model, x, y, () => opt.step(), 300, 0.02);
  assert.ok(r.first > 1.8 && r.last < 0.02, `loss ${r.first} → ${r.last} in ${r.steps} steps`);
});

test("parameter counts: the formula, the built model and PyTorch's agree; by hand for vit-mnist", () => {
  for (const name of Object.keys(PRESETS) as (keyof typeof PRESETS)[]) {
    assert.equal(countParameters(PRESETS[name]), fx.param_counts[name], name);
    assert.equal(
      new ViT(vitConfig(name), { generator: new Generator(0) }).numParameters(),
      countParameters(PRESETS[name]),
      name,
    );
  }
  // E 16·32 + 32, x_class 32, E_pos 50·32; per block 2 LN 4·32, 4 projections 4·(32·32 + 32), MLP 32·64 + 64 + 64·32 + 32; LN 64; head 32·10 + 10
  const block = 4 * 32 + 4 * (32 * 32 + 32) + (32 * 64 + 64) + (64 * 32 + 32);
  assert.equal(countParameters(PRESETS["vit-mnist"]), 16 * 32 + 32 + 32 + 50 * 32 + 2 * block + 64 + 330);
  assert.equal(describe(PRESETS["vit-mnist"]).parameters, 19658);
  assert.equal(
    countParameters(config),
    Object.values(fx.model.state).reduce((n, t) => n + t.data.length, 0),
  );
});

test("configs and inputs are checked", () => {
  assertThrowsWith(
    () => vitConfig("vit-mnist", { patchSize: 5 }),
    ArgumentError,
    /imageSize 28 must be a multiple of patchSize 5/,
  );
  assertThrowsWith(() => vitConfig("vit-mnist", { heads: 3 }), ArgumentError, /dim 32 must be a multiple of heads 3/);
  const model = new ViT(config, { generator: new Generator(0) });
  assertThrowsWith(
    () => model.forward(rand([2, 1, 12, 12])),
    ShapeError,
    /expected images \(B, 1, 8, 8\), got \(2,1,12,12\)/,
  );
});
