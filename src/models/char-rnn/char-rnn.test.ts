// char-rnn: parity with the PyTorch reference (tools/fixtures/char_rnn.py) for each cell, the state
// carried between calls against one call over the whole sequence, overfitting one batch, the parameter
// count, generation.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, noGrad, randint, ArgumentError, ShapeError, type Tensor } from "../../index.js";
import { fromTorchName } from "../../nn/names.js";
import * as optim from "../../optim/index.js";
import { assertClose, assertThrowsWith } from "../../../test/harness/assert.js";
import { fromJson, type TensorJson, readModelFixture } from "../../../test/harness/fixtures.js";
import { CharRNN, charRnnConfig, countParameters, PRESETS, type CharRNNConfig } from "./model.js";

interface Case {
  config: CharRNNConfig;
  state: Record<string, TensorJson>;
  idx: TensorJson;
  targets: TensorJson;
  logits: TensorJson;
  loss: number;
  grads: Record<string, TensorJson>;
  adam: { lr: number; losses: number[]; final_loss: number };
}

const fx = readModelFixture<{ cases: Case[] }>("char_rnn");
const byName = (o: Record<string, TensorJson>): Record<string, Tensor> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [fromTorchName(k), fromJson(v)]));

for (const c of fx.cases) {
  test(`char-rnn (${c.config.cell}, 2 layers) matches PyTorch: logits, loss, every gradient, 5 Adam steps`, () => {
    const model = new CharRNN(charRnnConfig(c.config), { generator: new Generator(0) });
    model.loadStateDict(byName(c.state));
    const idx = fromJson(c.idx),
      targets = fromJson(c.targets);
    const { logits, loss } = model.forward(idx, targets);
    assertClose(logits, fromJson(c.logits), { rtol: 1e-4, atol: 1e-5 }, "logits");
    assert.ok(Math.abs(loss!.item() - c.loss) <= 1e-5, `loss ${loss!.item()} vs PyTorch ${c.loss}`);
    loss!.backward();
    const grads = byName(c.grads);
    for (const [name, p] of model.namedParameters())
      assertClose(p.grad!, grads[name]!, { rtol: 1e-4, atol: 1e-5 }, `d loss/d ${name}`);
    // 5 Adam steps from the same weights
    model.loadStateDict(byName(c.state));
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

test("the state carried between calls gives the logits of one call over the whole sequence", () => {
  for (const cell of ["rnn", "lstm", "gru"] as const) {
    const model = new CharRNN(charRnnConfig(cell, { vocabSize: 9, nEmbd: 6, nHidden: 8, nLayer: 2 }), {
      generator: new Generator(1),
    });
    const seq = randint(0, 9, [2, 7], { generator: new Generator(2) });
    noGrad(() => {
      const full = model.forward(seq).logits; // (B, T, V)
      const first = model.forward(seq.narrow(1, 0, 3)); // a prompt of 3
      let state = first.state;
      assertClose(first.logits, full.narrow(1, 0, 3), { atol: 1e-6, rtol: 0 }, `${cell} prompt`);
      for (let t = 3; t < 7; t++) {
        const step = model.forward(seq.narrow(1, t, 1), null, state);
        state = step.state;
        assertClose(step.logits, full.narrow(1, t, 1), { atol: 1e-6, rtol: 0 }, `${cell} step ${t}`);
      }
      assert.equal(state.length, cell === "lstm" ? 2 : 1);
    });
  }
});

test("char-rnn overfits one batch (each cell)", () => {
  for (const cell of ["rnn", "lstm", "gru"] as const) {
    const model = new CharRNN(charRnnConfig(cell, { vocabSize: 11, nEmbd: 16, nHidden: 32, nLayer: 1 }), {
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
    assert.ok(first > 2, `${cell}: the first loss ${first} should be near ln 11 = 2.4`);
    assert.ok(loss < 0.05, `${cell}: loss ${loss} after ${steps} steps (first ${first})`);
  }
});

test("parameter count: the formula, the module, the presets", () => {
  for (const cell of ["rnn", "lstm", "gru"] as const) {
    for (const [L, H] of [
      [1, 5],
      [3, 7],
    ] as const) {
      const c = charRnnConfig(cell, { vocabSize: 13, nEmbd: 4, nHidden: H, nLayer: L });
      assert.equal(new CharRNN(c).numParameters(), countParameters(c), `${cell} L=${L}`);
    }
  }
  assert.deepEqual(
    Object.fromEntries(Object.keys(PRESETS).map((k) => [k, countParameters(charRnnConfig(k as keyof typeof PRESETS))])),
    { rnn: 25244, lstm: 25164, gru: 25277 },
  );
});

test("generate keeps the prompt, appends tokens, restores the mode; argument errors", () => {
  const model = new CharRNN(charRnnConfig("gru", { vocabSize: 9, nEmbd: 4, nHidden: 6 }), {
    generator: new Generator(5),
  });
  const prompt = randint(0, 9, [2, 3], { generator: new Generator(6) });
  const out = model.generate(prompt, 5, { generator: new Generator(7) });
  assert.deepEqual([...out.shape], [2, 8]);
  assert.deepEqual(out.narrow(1, 0, 3).toArray(), prompt.toArray());
  assert.deepEqual(out.toArray(), model.generate(prompt, 5, { generator: new Generator(7) }).toArray(), "seeded");
  assert.equal(model.training, true);
  assertThrowsWith(() => model.generate(prompt, -1), ArgumentError, /maxNewTokens/);
  assertThrowsWith(() => model.forward(randint(0, 9, [3])), ShapeError, /CharRNN: idx must be \(B, T\)/);
  assertThrowsWith(() => charRnnConfig("lstm", { cell: "transformer" as "lstm" }), ArgumentError, /cell must be/);
});
