// GCN: parity with the PyTorch reference (tools/fixtures/gcn.py), the renormalised adjacency,
// overfitting, the parameter count.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, noGrad, Tensor, tensor, ArgumentError, ShapeError } from "../../index.js";
import { assertClose, assertThrowsWith } from "../../../test/harness/assert.js";
import { fromJson, type TensorJson, readModelFixture } from "../../../test/harness/fixtures.js";
import * as F from "../../nn/functional.js";
import * as optim from "../../optim/index.js";
import { adjacency, degrees, karateClub } from "../../data/graphs.js";
import { countParameters, GCN, gcnConfig, normalizedAdjacency, PRESETS, type GCNConfig } from "./model.js";

// -----------------------------------------------------------------------------------------------------
// The fixture

interface GcnFixture {
  config: { in_features: number; hidden: number; num_classes: number; n_layer: number; dropout: number; bias: boolean };
  graph: { num_nodes: number; edges: [number, number][]; x: TensorJson; labels: TensorJson; train: number[] };
  a_hat: TensorJson;
  state: Record<string, TensorJson>;
  logits: TensorJson;
  loss: number;
  grads: Record<string, TensorJson>;
  adam: { lr: number; weight_decay: number; steps: number; losses: number[]; final_loss: number };
  cora_parameters: number;
}

const fx = readModelFixture<GcnFixture>("gcn");
const c = fx.config;
const fxConfig: GCNConfig = gcnConfig({
  inFeatures: c.in_features,
  hidden: c.hidden,
  numClasses: c.num_classes,
  nLayer: c.n_layer,
  dropout: c.dropout,
  bias: c.bias,
});
const fxX = fromJson(fx.graph.x),
  fxLabels = fromJson(fx.graph.labels);
const fxAdj = adjacency({ numNodes: fx.graph.num_nodes, edges: fx.graph.edges });
const fxTrain = tensor(Int32Array.from(fx.graph.train));

function fixtureModel(): GCN {
  const model = new GCN(fxConfig, { generator: new Generator(0) });
  model.loadStateDict(Object.fromEntries(Object.entries(fx.state).map(([k, v]) => [k, fromJson(v)])));
  return model;
}

/** The cross-entropy over the labelled nodes only. */
function trainLoss(logits: Tensor, labels: Tensor, train: Tensor): Tensor {
  return F.crossEntropy(logits.indexSelect(0, train), labels.indexSelect(0, train));
}

// -----------------------------------------------------------------------------------------------------
// Parity with PyTorch

test("GCN matches the PyTorch reference: Â, logits, loss, every parameter gradient", () => {
  assertClose(normalizedAdjacency(fxAdj), fromJson(fx.a_hat), { atol: 1e-7, rtol: 1e-6 }, "Â");
  const model = fixtureModel();
  const logits = model.forward(fxX, fxAdj);
  assertClose(logits, fromJson(fx.logits), { atol: 1e-5, rtol: 1e-5 }, "logits");
  const loss = trainLoss(logits, fxLabels, fxTrain);
  assert.ok(Math.abs(loss.item() - fx.loss) <= 1e-5, `loss ${loss.item()} vs PyTorch ${fx.loss}`);
  loss.backward();
  const params = model.namedParameters();
  assert.deepEqual(params.map(([n]) => n).sort(), Object.keys(fx.grads).sort());
  for (const [name, p] of params)
    assertClose(p.grad!, fromJson(fx.grads[name]!), { rtol: 1e-4, atol: 1e-6 }, `d loss/d ${name}`);
});

test("GCN matches the PyTorch reference over 10 Adam steps (L2 weight decay)", () => {
  const model = fixtureModel();
  const opt = new optim.Adam(model.parameters(), { lr: fx.adam.lr, weightDecay: fx.adam.weight_decay });
  const losses: number[] = [];
  for (let step = 0; step < fx.adam.steps; step++) {
    model.zeroGrad();
    const loss = trainLoss(model.forward(fxX, fxAdj), fxLabels, fxTrain);
    losses.push(loss.item());
    loss.backward();
    opt.step();
  }
  const final = noGrad(() => trainLoss(model.forward(fxX, fxAdj), fxLabels, fxTrain).item());
  assertClose([...losses, final], [...fx.adam.losses, fx.adam.final_loss], { atol: 1e-4, rtol: 0 }, "Adam losses");
});

// -----------------------------------------------------------------------------------------------------
// The renormalised adjacency

test("Â = D̃^{-1/2}(A + I)D̃^{-1/2}: symmetric, 1/(d̃_i) on the diagonal, 1/√(d̃_i d̃_j) on the edges, 0 elsewhere", () => {
  const karate = karateClub(),
    A = adjacency(karate),
    N = karate.numNodes;
  const aHat = normalizedAdjacency(A).storage;
  const d = degrees(karate).map((k) => k + 1); // d̃ counts the self-loop
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      const expected = i === j ? 1 / d[i]! : A.storage[i * N + j] ? 1 / Math.sqrt(d[i]! * d[j]!) : 0;
      assert.ok(Math.abs(aHat[i * N + j]! - expected) < 1e-7, `Â_${i},${j} = ${aHat[i * N + j]} vs ${expected}`);
      assert.equal(aHat[i * N + j], aHat[j * N + i], "symmetric");
    }
  }
  // its largest eigenvalue is 1, with eigenvector D̃^{1/2}·1 (the renormalisation's point: repeated
  // application neither explodes nor vanishes)
  const v = tensor(Float32Array.from(d, Math.sqrt)).unsqueeze(1); // (N, 1)
  assertClose(normalizedAdjacency(A).matmul(v), v, { atol: 1e-5, rtol: 1e-5 }, "Â·D̃^{1/2}1");
});

// -----------------------------------------------------------------------------------------------------
// Overfitting

test("GCN overfits the karate club with every member labelled", () => {
  const karate = karateClub(),
    adj = adjacency(karate);
  const model = new GCN(gcnConfig("kipf", { inFeatures: 34, numClasses: 2, dropout: 0 }), {
    generator: new Generator(5),
  });
  const opt = new optim.Adam(model.parameters(), { lr: 0.05 });
  let first = NaN,
    loss = NaN,
    steps = 0;
  for (; steps < 150 && !(loss < 0.01); steps++) {
    model.zeroGrad();
    const l = F.crossEntropy(model.forward(karate.features, adj), karate.labels);
    loss = l.item();
    if (steps === 0) first = loss;
    l.backward();
    opt.step();
  }
  assert.ok(first > 0.5, `the first loss ${first} should be near ln 2 = 0.69`);
  assert.ok(loss < 0.01, `loss ${loss} after ${steps} steps (first ${first})`);
  const predicted = noGrad(() => model.forward(karate.features, adj).argmax(1));
  assert.deepEqual(predicted.toArray(), karate.labels.toArray());
});

// -----------------------------------------------------------------------------------------------------
// Parameter count, config

test("GCN parameter count: the paper's Cora model has as many parameters as the PyTorch reference's", () => {
  assert.equal(countParameters(PRESETS.kipf), fx.cora_parameters);
  assert.equal(new GCN(PRESETS.kipf, { generator: new Generator(6) }).numParameters(), fx.cora_parameters);
  assert.equal(countParameters(fxConfig), fixtureModel().numParameters());
  for (const overrides of [{ bias: false }, { nLayer: 3 }, { nLayer: 1 }]) {
    const cfg = gcnConfig("kipf", { inFeatures: 11, ...overrides });
    assert.equal(
      countParameters(cfg),
      new GCN(cfg, { generator: new Generator(7) }).numParameters(),
      JSON.stringify(overrides),
    );
  }
});

test("GCN: dropout is active in training and off in evaluation; config and input errors", () => {
  const karate = karateClub(),
    adj = adjacency(karate);
  const model = new GCN(gcnConfig("kipf", { inFeatures: 34, numClasses: 2 }), { generator: new Generator(8) });
  assert.notDeepEqual(model.forward(karate.features, adj).toArray(), model.forward(karate.features, adj).toArray());
  model.eval();
  assert.deepEqual(model.forward(karate.features, adj).toArray(), model.forward(karate.features, adj).toArray());
  assertThrowsWith(() => gcnConfig("kipf", { hidden: 0 }), ArgumentError, /hidden must be a positive integer, got 0/);
  assertThrowsWith(() => gcnConfig("kipf", { dropout: -0.1 }), ArgumentError, /dropout must be in \[0, 1\), got -0.1/);
  assertThrowsWith(() => model.forward(tensor([[1, 2, 3]]), adj), ShapeError, /GCN: x must be \(N, 34\), got \(1,3\)/);
  assertThrowsWith(() => model.forward(karate.features, fxAdj), ShapeError, /GCN: adj must be \(N, N\) = \(34, 34\)/);
  assertThrowsWith(() => normalizedAdjacency(tensor([1, 2])), ShapeError, /the adjacency must be \(N, N\), got \(2\)/);
});
