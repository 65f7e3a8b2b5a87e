// Parity checks shared by the attention variants of the CNN floor and the ViT (src/models/senet, cbam,
// non-local, vit) against tools/fixtures/vision_attention.py: a whole model in eval and training mode
// (logits, loss, every parameter gradient), and an attention module alone (output, the gradient of
// sum(out · w) for every parameter and the input).

import assert from "node:assert/strict";
import { readFileSync } from "./files.js";
import { noGrad, type Tensor } from "../../src/index.js";
import * as F from "../../src/nn/functional.js";
import type { Module } from "../../src/nn/module.js";
import { assertClose } from "./assert.js";
import { fromJson, type TensorJson } from "./fixtures.js";

export interface ModelCase {
  state: Record<string, TensorJson>;
  x: TensorJson;
  y: TensorJson;
  eval: { logits: TensorJson; loss: number };
  train: { logits: TensorJson; loss: number; grads: Record<string, TensorJson> };
}

export interface BlockCase {
  state: Record<string, TensorJson>;
  x: TensorJson;
  out: TensorJson;
  w: TensorJson;
  grads: Record<string, TensorJson>;
}

export interface VisionFixture<Config, Block = Record<string, never>> {
  config: Config;
  model: ModelCase;
  block: BlockCase & Block;
  param_counts: Record<string, number>;
}

/** test/fixtures/models/<name>.json */
export function visionFixture<Config, Block = Record<string, never>>(name: string): VisionFixture<Config, Block> {
  return JSON.parse(
    readFileSync(new URL(`../../../test/fixtures/models/${name}.json`, import.meta.url), "utf8"),
  ) as VisionFixture<Config, Block>;
}

const tensors = (o: Record<string, TensorJson>): Record<string, Tensor> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fromJson(v)]));

const LOGITS = { atol: 1e-5, rtol: 1e-4 };
const GRADS = { atol: 1e-5, rtol: 1e-3 };

/** The model, loaded with the fixture's state, matches PyTorch in eval mode, then in training mode with every gradient. */
export function checkModel(model: Module & { forward(x: Tensor): Tensor }, c: ModelCase): void {
  model.loadStateDict(tensors(c.state));
  const x = fromJson(c.x),
    y = fromJson(c.y);
  model.eval();
  const evalLogits = noGrad(() => model.forward(x));
  assertClose(evalLogits, fromJson(c.eval.logits), LOGITS, "eval logits");
  assert.ok(Math.abs(F.crossEntropy(evalLogits, y).item() - c.eval.loss) <= 1e-5, "eval loss");
  model.train();
  const logits = model.forward(x);
  assertClose(logits, fromJson(c.train.logits), LOGITS, "train logits");
  const loss = F.crossEntropy(logits, y);
  assert.ok(Math.abs(loss.item() - c.train.loss) <= 1e-5, `loss ${loss.item()} vs PyTorch ${c.train.loss}`);
  loss.backward();
  const params = model.namedParameters();
  assert.deepEqual(params.map(([n]) => n).sort(), Object.keys(c.train.grads).sort(), "the parameters are PyTorch's");
  for (const [name, p] of params) assertClose(p.grad!, fromJson(c.train.grads[name]!), GRADS, `d loss/d ${name}`);
}

/** The module alone: its output and the gradients of sum(out · w) for the input and every parameter. */
export function checkBlock(module: Module & { forward(x: Tensor): Tensor }, c: BlockCase): void {
  module.loadStateDict(tensors(c.state));
  const x = fromJson(c.x, true);
  const out = module.forward(x);
  assertClose(out, fromJson(c.out), LOGITS, "block output");
  out.mul(fromJson(c.w)).sum().backward();
  assertClose(x.grad!, fromJson(c.grads.x!), GRADS, "d/d input");
  const params = module.namedParameters();
  assert.deepEqual(
    params.map(([n]) => n).sort(),
    Object.keys(c.grads)
      .filter((k) => k !== "x")
      .sort(),
  );
  for (const [name, p] of params) assertClose(p.grad!, fromJson(c.grads[name]!), GRADS, `d/d ${name}`);
}

/** Adam on one batch of random images until the loss is below `target`; returns the first and last losses and the steps taken. */
export function overfit(
  model: Module & { forward(x: Tensor): Tensor },
  x: Tensor,
  y: Tensor,
  step: () => void,
  maxSteps: number,
  target: number,
): { first: number; last: number; steps: number } {
  let first = NaN,
    last = NaN,
    steps = 0;
  for (; steps < maxSteps && !(last < target); steps++) {
    model.zeroGrad();
    const l = F.crossEntropy(model.forward(x), y);
    last = l.item();
    if (steps === 0) first = last;
    l.backward();
    step();
  }
  return { first, last, steps };
}
