// GAT: parity with the PyTorch reference (tools/fixtures/gat.py, 2 heads), the attention's support
// (rows sum to 1 over N(i) ∪ {i}, exactly 0 elsewhere), overfitting, the parameter count.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, noGrad, Tensor, tensor, ArgumentError, ShapeError } from "../../index.js";
import { assertClose, assertThrowsWith } from "../../../test/harness/assert.js";
import { fromJson, type TensorJson, readModelFixture } from "../../../test/harness/fixtures.js";
import * as F from "../../nn/functional.js";
import * as optim from "../../optim/index.js";
import { adjacency, karateClub, maskIndices, stochasticBlockModel } from "../../data/graphs.js";
import { countParameters, GAT, gatConfig, PRESETS, type GATConfig } from "./model.js";

// -----------------------------------------------------------------------------------------------------
// The fixture

interface GatFixture {
  config: {
    in_features: number;
    hidden: number;
    heads: number;
    num_classes: number;
    out_heads: number;
    n_layer: number;
    dropout: number;
    attn_dropout: number;
    negative_slope: number;
    bias: boolean;
  };
  graph: { num_nodes: number; edges: [number, number][]; x: TensorJson; labels: TensorJson; train: number[] };
  state: Record<string, TensorJson>;
  attention: TensorJson[];
  logits: TensorJson;
  loss: number;
  grads: Record<string, TensorJson>;
  adam: { lr: number; weight_decay: number; steps: number; losses: number[]; final_loss: number };
  cora_parameters: number;
}

const fx = readModelFixture<GatFixture>("gat");
const c = fx.config;
const fxConfig: GATConfig = gatConfig({
  inFeatures: c.in_features,
  hidden: c.hidden,
  heads: c.heads,
  numClasses: c.num_classes,
  outHeads: c.out_heads,
  nLayer: c.n_layer,
  dropout: c.dropout,
  attnDropout: c.attn_dropout,
  negativeSlope: c.negative_slope,
  bias: c.bias,
});
const fxX = fromJson(fx.graph.x),
  fxLabels = fromJson(fx.graph.labels);
const fxAdj = adjacency({ numNodes: fx.graph.num_nodes, edges: fx.graph.edges });
const fxTrain = tensor(Int32Array.from(fx.graph.train));

function fixtureModel(): GAT {
  const model = new GAT(fxConfig, { generator: new Generator(0) });
  model.loadStateDict(Object.fromEntries(Object.entries(fx.state).map(([k, v]) => [k, fromJson(v)])));
  return model;
}

/** The cross-entropy over the labelled nodes only: −(1/|train|)·Σ_{i ∈ train} log softmax(z_i)[y_i]. */
function trainLoss(logits: Tensor, labels: Tensor, train: Tensor): Tensor {
  return F.crossEntropy(logits.indexSelect(0, train), labels.indexSelect(0, train));
}

// -----------------------------------------------------------------------------------------------------
// Parity with PyTorch

test("GAT (2 heads) matches the PyTorch reference: attention, logits, loss, every parameter gradient", () => {
  const model = fixtureModel();
  const attentions: Tensor[] = [];
  const logits = model.forward(fxX, fxAdj, attentions);
  assert.equal(attentions.length, fx.attention.length);
  attentions.forEach((a, l) =>
    assertClose(a, fromJson(fx.attention[l]!), { atol: 1e-6, rtol: 1e-5 }, `α of layer ${l}`),
  );
  assertClose(logits, fromJson(fx.logits), { atol: 1e-5, rtol: 1e-5 }, "logits");
  const loss = trainLoss(logits, fxLabels, fxTrain);
  assert.ok(Math.abs(loss.item() - fx.loss) <= 1e-5, `loss ${loss.item()} vs PyTorch ${fx.loss}`);
  loss.backward();
  const params = model.namedParameters();
  assert.deepEqual(params.map(([n]) => n).sort(), Object.keys(fx.grads).sort());
  for (const [name, p] of params)
    assertClose(p.grad!, fromJson(fx.grads[name]!), { rtol: 1e-4, atol: 1e-6 }, `d loss/d ${name}`);
});

test("GAT matches the PyTorch reference over 10 Adam steps (L2 weight decay)", () => {
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
// The attention's support

/** α (nh, N, N) of every layer: each row sums to 1, is > 0 on N(i) ∪ {i} and exactly 0 elsewhere. */
function checkSupport(attentions: Tensor[], adj: Tensor, what: string): void {
  const N = adj.shape[0]!,
    A = adj.storage;
  for (const [l, alpha] of attentions.entries()) {
    const nh = alpha.shape[0]!,
      a = alpha.storage;
    assert.deepEqual([...alpha.shape], [nh, N, N]);
    for (let k = 0; k < nh; k++) {
      for (let i = 0; i < N; i++) {
        let sum = 0;
        for (let j = 0; j < N; j++) {
          const v = a[(k * N + i) * N + j]!;
          const neighbour = i === j || A[i * N + j] === 1;
          if (neighbour) assert.ok(v > 0, `${what}: layer ${l} head ${k}: α_${i},${j} = ${v} for a neighbour`);
          else assert.equal(v, 0, `${what}: layer ${l} head ${k}: α_${i},${j} = ${v} for a non-neighbour`);
          sum += v;
        }
        assert.ok(Math.abs(sum - 1) < 1e-6, `${what}: layer ${l} head ${k}: row ${i} sums to ${sum}`);
      }
    }
  }
}

test("GAT's attention rows sum to 1 over the neighbourhood and are exactly 0 for non-neighbours", () => {
  const karate = karateClub();
  const model = new GAT(gatConfig("cora", { inFeatures: 34, numClasses: 2 }), { generator: new Generator(1) });
  checkSupport(model.attentionWeights(karate.features, adjacency(karate)), adjacency(karate), "karate");
  const sbm = stochasticBlockModel({ nodesPerClass: 10, trainPerClass: 2, valPerClass: 2, generator: 2 });
  const small = new GAT(gatConfig("pubmed", { inFeatures: 16, numClasses: 4 }), { generator: new Generator(3) });
  checkSupport(small.attentionWeights(sbm.features, adjacency(sbm)), adjacency(sbm), "sbm");
  // the fixture graph's node 6 has no edges: it attends to itself alone
  const alpha = fixtureModel().attentionWeights(fxX, fxAdj);
  checkSupport(alpha, fxAdj, "fixture");
  for (const a of alpha)
    for (let k = 0; k < a.shape[0]!; k++) assert.equal(a.storage[(k * 7 + 6) * 7 + 6], 1, "α_66 of the isolated node");
  // and the gradient reaches no score outside the neighbourhood: the masked places get none
  const model2 = fixtureModel();
  const out = model2.forward(fxX, fxAdj);
  out.sum().backward();
  for (const [name, p] of model2.namedParameters())
    assert.ok(
      [...p.grad!.storage].every((v) => Number.isFinite(v)),
      `finite d/d ${name}`,
    );
});

test("GAT: dropout is active in training (input and attention) and off in evaluation", () => {
  const karate = karateClub(),
    adj = adjacency(karate);
  const model = new GAT(gatConfig("cora", { inFeatures: 34, numClasses: 2 }), { generator: new Generator(4) });
  const a = model.forward(karate.features, adj),
    b = model.forward(karate.features, adj);
  assert.notDeepEqual(a.toArray(), b.toArray(), "two training passes draw different masks");
  model.eval();
  assert.deepEqual(model.forward(karate.features, adj).toArray(), model.forward(karate.features, adj).toArray());
  assert.equal(model.attentionWeights(karate.features, adj).length, 2);
  assert.equal(model.training, false, "attentionWeights restores the mode");
});

// -----------------------------------------------------------------------------------------------------
// Overfitting

test("GAT overfits the karate club with every member labelled", () => {
  const karate = karateClub(),
    adj = adjacency(karate);
  const config = gatConfig("cora", { inFeatures: 34, numClasses: 2, heads: 2, hidden: 4, dropout: 0, attnDropout: 0 });
  const model = new GAT(config, { generator: new Generator(5) });
  const opt = new optim.Adam(model.parameters(), { lr: 0.05 });
  let first = NaN,
    loss = NaN,
    steps = 0;
  for (; steps < 100 && !(loss < 0.01); steps++) {
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

test("GAT parameter count: the paper's Cora model has as many parameters as the PyTorch reference's", () => {
  assert.equal(countParameters(PRESETS.cora), fx.cora_parameters);
  assert.equal(new GAT(PRESETS.cora, { generator: new Generator(6) }).numParameters(), fx.cora_parameters);
  assert.equal(countParameters(fxConfig), fixtureModel().numParameters());
  for (const overrides of [{ bias: false }, { nLayer: 3 }, { nLayer: 1, outHeads: 3 }]) {
    const cfg = gatConfig("pubmed", { inFeatures: 11, ...overrides });
    assert.equal(
      countParameters(cfg),
      new GAT(cfg, { generator: new Generator(7) }).numParameters(),
      JSON.stringify(overrides),
    );
  }
});

test("GAT: config and input errors", () => {
  assertThrowsWith(() => gatConfig("cora", { heads: 0 }), ArgumentError, /heads must be a positive integer, got 0/);
  assertThrowsWith(
    () => gatConfig("cora", { attnDropout: 1 }),
    ArgumentError,
    /attnDropout must be in \[0, 1\), got 1/,
  );
  assertThrowsWith(() => gatConfig("nope" as "cora"), ArgumentError, /unknown preset "nope"/);
  const model = new GAT(fxConfig, { generator: new Generator(8) });
  assertThrowsWith(() => model.forward(tensor([[1, 2, 3]]), fxAdj), ShapeError, /GAT: x must be \(N, 5\), got \(1,3\)/);
  assertThrowsWith(
    () => model.forward(fxX, adjacency({ numNodes: 6, edges: [] })),
    ShapeError,
    /GAT: adj must be \(N, N\) = \(7, 7\)/,
  );
  assert.deepEqual([...maskIndices(tensor([true, false, true])).storage], [0, 2]);
});
