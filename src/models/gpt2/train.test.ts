// The training recipe (train.ts) in memory: a trainer rebuilt from its checkpoint continues exactly,
// weight decay reaches the matrices only, the schedule is nanoGPT's, and estimates touch no stream.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator } from "../../engine/rng.js";
import { parseCheckpoint, serializeCheckpoint } from "../../io/checkpoint.js";
import { cosineWithWarmup } from "../../optim/schedulers.js";
import { gptConfig } from "./model.js";
import { CPU_TRAIN, GPTTrainer } from "./train.js";

const model = gptConfig("tiny", { vocabSize: 11, nLayer: 1, nEmbd: 16, nHead: 2, blockSize: 8, dropout: 0.1 });
const train = {
  ...CPU_TRAIN,
  batchSize: 3,
  warmupIters: 2,
  lrDecayIters: 12,
  iters: 12,
  evalInterval: 4,
  evalIters: 2,
  seed: 5,
};
/** A stream of tokens from a seeded generator (0 … 10). */
function tokens(n: number, seed: number): Int32Array {
  const g = new Generator(seed);
  return Int32Array.from({ length: n }, () => g.randint(0, 11));
}
const data = { train: tokens(400, 1), val: tokens(100, 2) };

test("a trainer rebuilt from its serialized checkpoint takes the same steps bit for bit", () => {
  const straight = new GPTTrainer(model, train, data);
  const a: number[] = [];
  for (let i = 0; i < 8; i++) a.push(straight.trainStep().loss);

  const first = new GPTTrainer(model, train, data);
  const b: number[] = [];
  for (let i = 0; i < 4; i++) b.push(first.trainStep().loss);
  const bytes = serializeCheckpoint(first.checkpoint({ note: "test" }));
  new GPTTrainer(model, { ...train, seed: 99 }, data).trainStep(); // disturb the global dropout stream
  const second = GPTTrainer.fromCheckpoint(parseCheckpoint(bytes), data);
  assert.equal(second.step, 4);
  for (let i = 0; i < 4; i++) b.push(second.trainStep().loss);
  assert.deepEqual(b, a);
  const pa = straight.model.stateDict(),
    pb = second.model.stateDict();
  for (const k of Object.keys(pa)) assert.deepEqual(pb[k]!.storage, pa[k]!.storage, k);
});

test("weight decay goes to the ≥ 2-D parameters only; the lr follows nanoGPT's schedule", () => {
  const t = new GPTTrainer(model, train, data);
  const [decay, noDecay] = t.optimizer.paramGroups;
  assert.equal(decay!.weightDecay, 0.1);
  assert.equal(noDecay!.weightDecay, 0);
  assert.ok(decay!.params.every((p) => p.ndim >= 2) && noDecay!.params.every((p) => p.ndim < 2));
  assert.equal(decay!.params.length + noDecay!.params.length, t.model.parameters().length);
  const lr = cosineWithWarmup({ warmupIters: 2, lrDecayIters: 12, maxLr: train.lr, minLr: train.minLr });
  for (let it = 0; it < 12; it++) assert.equal(t.trainStep().lr, lr(it), `step ${it}`);
});

test("a loss estimate changes neither the batches nor the dropout masks of training", () => {
  // one trainer after the other: dropout draws from the library's default generator, which a trainer seeds
  const a = new GPTTrainer(model, train, data);
  const plain = [a.trainStep().loss, a.trainStep().loss];
  const b = new GPTTrainer(model, train, data);
  b.trainStep();
  const est = b.estimateLoss();
  assert.ok(Number.isFinite(est.train) && Number.isFinite(est.val));
  assert.equal(b.lastEval, 1);
  assert.equal(b.trainStep().loss, plain[1]);
  // the same step estimates on the same batches
  assert.deepEqual(b.estimateLoss(), b.estimateLoss());
});
