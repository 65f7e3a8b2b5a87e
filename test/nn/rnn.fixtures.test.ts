// PyTorch parity for the recurrent cells and layers (fixtures written by tools/fixtures/rnn.py, format
// there): PyTorch's state dict is loaded by name (strict) after fromTorchName, so the names and their
// order are checked too; then the outputs and final states, every parameter gradient and the gradients
// of the input and of the given initial states are compared with PyTorch's.

import { readFileSync } from "node:fs";
import { test } from "node:test";
import assert from "node:assert/strict";
import * as wnn from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { assertClose, type Tolerance } from "../harness/assert.js";
import { fromJson, type TensorJson } from "../harness/fixtures.js";

const { nn } = wnn;

interface RnnCase {
  module: "RNNCell" | "LSTMCell" | "GRUCell" | "RNN" | "LSTM" | "GRU";
  label: string;
  ctor: [number, number];
  opts: Record<string, unknown>;
  mode: "train" | "eval";
  state: Record<string, TensorJson>;
  names: string[];
  states: "none" | "h" | "hc";
  inputs: TensorJson[];
  outputs: TensorJson[];
  grad_outputs: TensorJson[];
  param_grads: Record<string, TensorJson>;
  input_grads: TensorJson[];
}

const TOL: Tolerance = { rtol: 1e-4, atol: 1e-5 };

const file = new URL("../../../test/fixtures/nn_rnn.json", import.meta.url); // dist/test/nn → test/fixtures
const cases = (JSON.parse(readFileSync(file, "utf8")) as { cases: RnnCase[] }).cases;

/** Our module for a case: `new Class(inputSize, hiddenSize, opts)`. */
function build(c: RnnCase): wnn.nn.Module {
  const [I, H] = c.ctor;
  const cls = {
    RNNCell: nn.RNNCell,
    LSTMCell: nn.LSTMCell,
    GRUCell: nn.GRUCell,
    RNN: nn.RNN,
    LSTM: nn.LSTM,
    GRU: nn.GRU,
  }[c.module];
  return new cls(I, H, c.opts);
}

/** Our outputs in PyTorch's order: a cell's [h'] or [h', c']; a layer's [output, h_n] or [output, h_n, c_n]. */
function forward(m: wnn.nn.Module, [x, h, c]: Tensor[]): Tensor[] {
  const hc: [Tensor, Tensor] | undefined = h && c ? [h, c] : undefined;
  if (m instanceof nn.RNNCell || m instanceof nn.GRUCell) return [m.forward(x!, h)];
  if (m instanceof nn.LSTMCell) return m.forward(x!, hc);
  if (m instanceof nn.LSTM) {
    const r = m.forward(x!, hc);
    return [r.output, r.hN, r.cN];
  }
  const r = (m as wnn.nn.RNN | wnn.nn.GRU).forward(x!, h);
  return [r.output, r.hN];
}

test("fromTorchName / toTorchName map the recurrent parameter names both ways", () => {
  const pairs = [
    ["weight_ih_l0", "weightIhL0"],
    ["weight_hh_l1_reverse", "weightHhL1Reverse"],
    ["rnn.bias_ih_l12", "rnn.biasIhL12"],
    ["cell.bias_hh", "cell.biasHh"],
  ];
  for (const [torch, ours] of pairs) {
    assert.equal(nn.fromTorchName(torch!), ours);
    assert.equal(nn.toTorchName(ours!), torch);
  }
});

test("PyTorch fixtures nn_rnn.json", async (t) => {
  const covered = new Set(cases.map((c) => `${c.module}/${c.states}`));
  for (const need of [
    "RNNCell/h",
    "LSTMCell/hc",
    "GRUCell/h",
    "RNN/h",
    "LSTM/hc",
    "GRU/h",
    "RNN/none",
    "LSTM/none",
    "GRU/none",
  ]) {
    assert.ok(covered.has(need), `no fixture case for ${need}`);
  }
  for (const c of cases) {
    await t.test(`${c.module}: ${c.label}`, () => {
      const inputs = c.inputs.map((x) => fromJson(x, true));
      const m = build(c);
      m.train(c.mode === "train");
      assert.deepEqual(
        m.namedParameters().map(([n]) => n),
        c.names.map(nn.fromTorchName),
        "namedParameters (names and order)",
      );
      m.loadStateDict(Object.fromEntries(Object.entries(c.state).map(([k, v]) => [nn.fromTorchName(k), fromJson(v)])));
      const outs = forward(m, inputs);
      assert.equal(outs.length, c.outputs.length, "number of outputs");
      outs.forEach((o, i) => assertClose(o, fromJson(c.outputs[i]!), TOL, `output ${i}`));
      // backward of Σ_i ⟨out_i, grad_out_i⟩, the scalar PyTorch differentiated
      const total = outs.map((o, i) => o.mul(fromJson(c.grad_outputs[i]!)).sum()).reduce((a, b) => a.add(b));
      total.backward();
      const params = new Map(m.namedParameters());
      for (const [name, g] of Object.entries(c.param_grads))
        assertClose(params.get(nn.fromTorchName(name))!.grad!, fromJson(g), TOL, `grad of ${name}`);
      inputs.forEach((t, i) => assertClose(t.grad!, fromJson(c.input_grads[i]!), TOL, `grad of input ${i}`));
    });
  }
});
