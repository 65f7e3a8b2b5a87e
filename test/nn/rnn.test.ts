// Behaviour of the recurrent layers beyond the PyTorch fixtures: default init, parameter counts, dropout
// between layers, float64, the layer against its cell stepped by hand, errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as wnn from "../../src/index.js";
import { Generator, randn, noGrad, ShapeError, DTypeError, ArgumentError, tensor } from "../../src/index.js";
import { assertClose, assertThrowsWith } from "../harness/assert.js";

const { nn } = wnn;

test("default init: every parameter U(−1/√H, 1/√H)", () => {
  for (const m of [
    new nn.LSTM(10, 25, { numLayers: 2, bidirectional: true, generator: new Generator(1) }),
    new nn.GRUCell(10, 25, { generator: new Generator(2) }),
  ]) {
    const bound = 1 / Math.sqrt(25);
    for (const [name, p] of m.namedParameters()) {
      const v = [...p.storage];
      assert.ok(
        v.every((x) => Math.abs(x) <= bound),
        `${name} within ±${bound}`,
      );
      // ≥ 75 draws: each end of the interval is missed by 10% with probability ≤ 0.95^75 ≈ 0.02 (seeded)
      assert.ok(Math.max(...v) > 0.9 * bound && Math.min(...v) < -0.9 * bound, `${name} spans the interval`);
    }
  }
});

test("parameter counts: Σ_k D·G·(in_k + H + 2), in_0 = I, in_k = D·H, G = gates·H", () => {
  const I = 7,
    H = 5;
  for (const [cls, gates] of [
    [nn.RNN, 1],
    [nn.GRU, 3],
    [nn.LSTM, 4],
  ] as const) {
    for (const [L, D, bias] of [
      [1, 1, true],
      [3, 2, true],
      [2, 1, false],
    ] as const) {
      const m = new cls(I, H, { numLayers: L, bidirectional: D === 2, bias });
      let n = 0;
      for (let k = 0; k < L; k++) n += D * gates * H * ((k === 0 ? I : D * H) + H + (bias ? 2 : 0));
      assert.equal(m.numParameters(), n, `${cls.name} L=${L} D=${D} bias=${bias}`);
    }
  }
});

test("the layer equals its cell stepped by hand (same weights), LSTM and GRU", () => {
  const x = randn([6, 3, 4], { generator: new Generator(3) }); // (T, B, I)
  const lstm = new nn.LSTM(4, 5, { generator: new Generator(4) });
  const cell = new nn.LSTMCell(4, 5);
  cell.loadStateDict({
    weightIh: lstm.weightsOf(0, 0).wIh,
    weightHh: lstm.weightsOf(0, 0).wHh,
    biasIh: lstm.weightsOf(0, 0).bIh!,
    biasHh: lstm.weightsOf(0, 0).bHh!,
  });
  noGrad(() => {
    const { output, hN, cN } = lstm.forward(x);
    let hc: [wnn.Tensor, wnn.Tensor] | undefined;
    for (let t = 0; t < 6; t++) {
      hc = cell.forward(x.narrow(0, t, 1).squeeze(0), hc);
      assertClose(output.narrow(0, t, 1).squeeze(0), hc[0], { atol: 1e-6, rtol: 0 }, `h_${t}`);
    }
    assertClose(hN.squeeze(0), hc![0], { atol: 1e-6, rtol: 0 }, "h_n");
    assertClose(cN.squeeze(0), hc![1], { atol: 1e-6, rtol: 0 }, "c_n");
  });
  const gru = new nn.GRU(4, 5, { generator: new Generator(5) });
  const gcell = new nn.GRUCell(4, 5);
  const w = gru.weightsOf(0, 0);
  gcell.loadStateDict({ weightIh: w.wIh, weightHh: w.wHh, biasIh: w.bIh!, biasHh: w.bHh! });
  noGrad(() => {
    const { output } = gru.forward(x);
    let h: wnn.Tensor | undefined;
    for (let t = 0; t < 6; t++) h = gcell.forward(x.narrow(0, t, 1).squeeze(0), h);
    assertClose(output.narrow(0, 5, 1).squeeze(0), h!, { atol: 1e-6, rtol: 0 }, "h_T");
  });
});

test("dropout acts between layers only, and only in training mode", () => {
  const x = randn([5, 2, 4], { generator: new Generator(6) });
  const two = new nn.GRU(4, 6, { numLayers: 2, dropout: 0.5, generator: new Generator(7) });
  const evalOut = noGrad(() => two.eval().forward(x).output);
  const trainOut = noGrad(() => two.train().forward(x).output);
  assert.ok(evalOut.sub(trainOut).abs().max().item() > 1e-3, "training mode drops the first layer's outputs");
  // the first layer's final state is computed before any dropout: equal in both modes
  const h0Eval = noGrad(() => two.eval().forward(x).hN.narrow(0, 0, 1));
  const h0Train = noGrad(() => two.train().forward(x).hN.narrow(0, 0, 1));
  assertClose(h0Train, h0Eval, { atol: 0, rtol: 0 }, "layer 0's h_n");
  // one layer: nothing to drop between
  const one = new nn.LSTM(4, 6, { dropout: 0.5, generator: new Generator(8) });
  assertClose(
    noGrad(() => one.train().forward(x).output),
    noGrad(() => one.eval().forward(x).output),
    { atol: 0, rtol: 0 },
    "1 layer",
  );
});

test("float64: double() converts the per-layer parameters and the forward runs in float64", () => {
  const m = new nn.LSTM(3, 4, { numLayers: 2, bidirectional: true, generator: new Generator(9) }).double();
  const x = randn([4, 2, 3], { dtype: "float64", generator: new Generator(10) });
  const { output, hN, cN } = m.forward(x);
  assert.equal(output.dtype, "float64");
  assert.deepEqual([...output.shape], [4, 2, 8]);
  assert.deepEqual([...hN.shape], [4, 2, 4]);
  assert.equal(cN.dtype, "float64");
  output.sum().backward();
  assert.ok(m.parameters().every((p) => p.grad?.dtype === "float64"));
});

test("errors name the layer and the shapes", () => {
  const m = new nn.GRU(4, 3, { numLayers: 2, batchFirst: true });
  assertThrowsWith(() => m.forward(randn([2, 5, 3])), ShapeError, /GRU: input \(2,5,3\) must be \(B, T, 4\)/);
  assertThrowsWith(
    () => m.forward(randn([2, 5, 4]), randn([1, 2, 3])),
    ShapeError,
    /GRU: h0 \(1,2,3\) must have shape \(2,2,3\)/,
  );
  assertThrowsWith(() => m.forward(randn([2, 0, 4])), ShapeError, /no time steps/);
  assertThrowsWith(
    () => m.forward(tensor([[[1, 2, 3, 4]]], { dtype: "int32" })),
    DTypeError,
    /GRU: input must be floating point/,
  );
  const lstm = new nn.LSTM(4, 3);
  assertThrowsWith(
    () => lstm.forward(randn([5, 2, 4]), [randn([1, 2, 3]), randn([1, 3, 3])]),
    ShapeError,
    /LSTM: c0 \(1,3,3\) must have shape \(1,2,3\)/,
  );
  assertThrowsWith(
    () => new nn.LSTMCell(4, 3).forward(randn([2, 4]), [randn([2, 3]), randn([3])]),
    ShapeError,
    /LSTMCell: c \(3\) must have shape \(2,3\)/,
  );
  assertThrowsWith(
    () => new nn.RNN(4, 3, { nonlinearity: "gelu" as "tanh" }),
    ArgumentError,
    /nonlinearity must be "tanh" or "relu"/,
  );
  assertThrowsWith(() => new nn.RNN(4, 3, { dropout: 1.5 }), ArgumentError, /dropout must be in \[0, 1\]/);
  assertThrowsWith(() => new nn.GRUCell(4, 0), ArgumentError, /GRUCell: hiddenSize must be an integer ≥ 1/);
});
