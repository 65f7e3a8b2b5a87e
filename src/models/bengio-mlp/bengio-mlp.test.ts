// bengio-mlp: parity with a PyTorch version of the same model (tools/fixtures/char_rnn.py), the context
// windows, overfitting one batch, the parameter count, generation.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, noGrad, randint, tensor, ArgumentError, ShapeError, type Tensor } from "../../index.js";
import * as optim from "../../optim/index.js";
import { assertClose, assertThrowsWith } from "../../../test/harness/assert.js";
import { fromJson, type TensorJson, readModelFixture } from "../../../test/harness/fixtures.js";
import { BengioMLP, bengioConfig, contextWindows, countParameters, PRESETS, type BengioConfig } from "./model.js";

interface Case {
  config: BengioConfig;
  state: Record<string, TensorJson>;
  idx: TensorJson;
  targets: TensorJson;
  logits: TensorJson;
  loss: number;
  grads: Record<string, TensorJson>;
  adam: { lr: number; losses: number[]; final_loss: number };
}

const fx = readModelFixture<{ cases: Case[] }>("bengio_mlp");
const load = (o: Record<string, TensorJson>): Record<string, Tensor> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fromJson(v)]));

for (const c of fx.cases) {
  test(`Bengio MLP (direct ${c.config.direct}) matches PyTorch: logits, loss, every gradient, 5 Adam steps`, () => {
    const model = new BengioMLP(bengioConfig(c.config), { generator: new Generator(0) });
    model.loadStateDict(load(c.state));
    const idx = fromJson(c.idx),
      targets = fromJson(c.targets);
    const { logits, loss } = model.forward(idx, targets);
    assertClose(logits, fromJson(c.logits), { rtol: 1e-4, atol: 1e-5 }, "logits");
    assert.ok(Math.abs(loss!.item() - c.loss) <= 1e-5, `loss ${loss!.item()} vs PyTorch ${c.loss}`);
    loss!.backward();
    const grads = load(c.grads);
    assert.deepEqual(
      model.namedParameters().map(([n]) => n),
      Object.keys(grads),
      "names and order",
    );
    for (const [name, p] of model.namedParameters())
      assertClose(p.grad!, grads[name]!, { rtol: 1e-4, atol: 1e-5 }, `d loss/d ${name}`);
    model.loadStateDict(load(c.state));
    const opt = new optim.Adam(model.parameters(), { lr: c.adam.lr });
    const losses: number[] = [];
    for (let s = 0; s < 5; s++) {
      model.zeroGrad();
      const out = model.forward(idx, targets);
      losses.push(out.loss!.item());
      out.loss!.backward();
      opt.step();
    }
    losses.push(noGrad(() => model.forward(idx, targets).loss!.item()));
    assertClose(losses, [...c.adam.losses, c.adam.final_loss], { atol: 1e-4, rtol: 0 }, "Adam losses");
  });
}

test("contextWindows: the n most recent tokens, most recent first, 0 before the start", () => {
  const idx = tensor([[5, 6, 7, 8]], { dtype: "int32" });
  assert.deepEqual(contextWindows(idx, 3).toArray(), [
    [
      [5, 0, 0],
      [6, 5, 0],
      [7, 6, 5],
      [8, 7, 6],
    ],
  ]);
});

test("Bengio MLP overfits one batch", () => {
  const model = new BengioMLP(bengioConfig({ vocabSize: 11, context: 3, nEmbd: 8, nHidden: 64, direct: true }), {
    generator: new Generator(3),
  });
  const g = new Generator(4);
  const idx = randint(0, 11, [4, 10], { generator: g }),
    targets = randint(0, 11, [4, 10], { generator: g });
  const opt = new optim.Adam(model.parameters(), { lr: 3e-2 });
  let first = NaN,
    loss = NaN,
    steps = 0;
  for (; steps < 150 && !(loss < 0.05); steps++) {
    model.zeroGrad();
    const out = model.forward(idx, targets);
    loss = out.loss!.item();
    if (steps === 0) first = loss;
    out.loss!.backward();
    opt.step();
  }
  assert.ok(first > 2, `the first loss ${first} should be near ln 11 = 2.4 or above`);
  assert.ok(loss < 0.05, `loss ${loss} after ${steps} steps (first ${first})`);
});

test("parameter count: the formula, the module, the preset", () => {
  for (const direct of [false, true]) {
    const c = bengioConfig({ vocabSize: 13, context: 4, nEmbd: 3, nHidden: 10, direct });
    assert.equal(new BengioMLP(c).numParameters(), countParameters(c), `direct ${direct}`);
  }
  assert.equal(countParameters(bengioConfig("names")), 25116);
  assert.equal(PRESETS.names.nEmbd, 32);
});

test("generate keeps the prompt and appends seeded tokens; errors", () => {
  const model = new BengioMLP(bengioConfig("names", { nHidden: 16 }), { generator: new Generator(5) });
  const prompt = tensor(
    [
      [0, 3],
      [0, 4],
    ],
    { dtype: "int32" },
  );
  const out = model.generate(prompt, 9, { generator: new Generator(6) });
  assert.deepEqual([...out.shape], [2, 11]);
  assert.deepEqual(out.narrow(1, 0, 2).toArray(), prompt.toArray());
  assert.deepEqual(out.toArray(), model.generate(prompt, 9, { generator: new Generator(6) }).toArray());
  assertThrowsWith(() => model.forward(tensor([[0.5]])), Error, /int32/);
  assertThrowsWith(() => model.forward(randint(0, 5, [3])), ShapeError, /BengioMLP: idx must be \(B, T\)/);
  assertThrowsWith(() => bengioConfig("names", { context: 0 }), ArgumentError, /context must be a positive integer/);
});
