// Module behaviour: names, state dicts and their errors, modes, dtype conversion, containers,
// and the layer behaviours the PyTorch fixtures cannot show (random dropout, mask semantics, errors).

import { test } from "node:test";
import assert from "node:assert/strict";
import * as wnn from "../../src/index.js";
import { Tensor } from "../../src/index.js";
import { assertClose, assertThrowsWith } from "../harness/assert.js";
import { gradcheck } from "../harness/gradcheck.js";

const { nn } = wnn;

class MLP extends nn.Module {
  up = new nn.Linear(4, 8);
  drop = new nn.Dropout(0.5);
  down = new nn.Linear(8, 2);

  forward(x: Tensor): Tensor {
    return this.down.forward(this.drop.forward(this.up.forward(x).relu()));
  }
}

class Model extends nn.Module {
  embed = new nn.Embedding(5, 4);
  layers = new nn.ModuleList([new MLP(), new MLP()]);
  norm = new nn.BatchNorm1d(2);
  head = new nn.Linear(2, 5, { bias: false });
}

test("namedParameters: dotted names in field order, depth first; shared tensors listed once", () => {
  const m = new Model();
  assert.deepEqual(
    m.namedParameters().map(([n]) => n),
    [
      "embed.weight",
      "layers.0.up.weight",
      "layers.0.up.bias",
      "layers.0.down.weight",
      "layers.0.down.bias",
      "layers.1.up.weight",
      "layers.1.up.bias",
      "layers.1.down.weight",
      "layers.1.down.bias",
      "norm.weight",
      "norm.bias",
      "head.weight",
    ],
  );
  // stateDict: each module's parameters, then its buffers, in module order (PyTorch's order)
  assert.deepEqual(Object.keys(m.stateDict()).slice(9), [
    "norm.weight",
    "norm.bias",
    "norm.runningMean",
    "norm.runningVar",
    "norm.numBatchesTracked",
    "head.weight",
  ]);
  // tie the head to the embedding (both (5, 4)): listed once, under its first name
  m.head.weight = m.embed.weight;
  assert.equal(m.namedParameters().filter(([, p]) => p === m.embed.weight).length, 1);
  assert.ok(!("head.weight" in m.stateDict()));
  assert.equal(m.numParameters(), 20 + 2 * (4 * 8 + 8 + 8 * 2 + 2) + 4);
});

test("loadStateDict: strict errors name the missing and unexpected keys and both shapes; nothing is copied on error", () => {
  const a = new MLP(),
    b = new MLP();
  const state = a.stateDict();
  const before = b.up.weight.dataSync();
  const { "up.bias": _dropped, ...missing } = state;
  assertThrowsWith(() => b.loadStateDict(missing), wnn.ArgumentError, /missing keys: up\.bias/, /MLP/);
  assertThrowsWith(
    () => b.loadStateDict({ ...state, "extra.weight": wnn.zeros([1]) }),
    wnn.ArgumentError,
    /unexpected keys: extra\.weight/,
  );
  assertThrowsWith(
    () => b.loadStateDict({ ...state, "down.weight": wnn.zeros([8, 2]) }),
    wnn.ShapeError,
    /down\.weight/,
    /\(8,2\) in the state/,
    /\(2,8\) in MLP/,
  );
  assert.deepEqual(b.up.weight.dataSync(), before, "a failed load changed nothing");
  // non-strict: the rest is copied and the lists are returned
  const r = b.loadStateDict({ ...missing, "extra.weight": wnn.zeros([1]) }, { strict: false });
  assert.deepEqual(r, { missing: ["up.bias"], unexpected: ["extra.weight"] });
  assert.deepEqual(b.up.weight.dataSync(), a.up.weight.dataSync());
  assert.notDeepEqual(b.up.bias!.dataSync(), a.up.bias!.dataSync());
  // a loaded state is a copy, not shared storage
  b.loadStateDict(state);
  state["up.weight"]!.storage[0] = 123;
  assert.notEqual(b.up.weight.storage[0], 123);
});

test("train()/eval() reach every descendant; Dropout is the identity in eval", () => {
  const m = new Model();
  m.eval();
  for (const [name, sub] of m.namedModules()) assert.equal(sub.training, false, `${name || "root"} still training`);
  const mlp = m.layers.at(0) as MLP;
  const x = wnn.randn([3, 4], { generator: new wnn.Generator(1) });
  assertClose(mlp.forward(x), mlp.forward(x), { rtol: 0, atol: 0 });
  assertClose(mlp.forward(x), mlp.down.forward(mlp.up.forward(x).relu()), { rtol: 0, atol: 0 });
  m.train();
  for (const [, sub] of m.namedModules()) assert.equal(sub.training, true);
  m.layers.train(false);
  assert.equal(m.training, true);
  assert.equal(mlp.drop.training, false);
});

test("Dropout in training: the fraction of zeros is p within 5 standard errors; seeded masks repeat", () => {
  const n = 20000,
    p = 0.3;
  const y = new nn.Dropout(p, { generator: new wnn.Generator(7) }).forward(wnn.ones([n])).storage;
  let zeros = 0;
  for (const v of y) if (v === 0) zeros++;
  assert.ok(Math.abs(zeros / n - p) <= 5 * Math.sqrt((p * (1 - p)) / n), `zero fraction ${zeros / n}`);
  const again = new nn.Dropout(p, { generator: new wnn.Generator(7) }).forward(wnn.ones([n])).storage;
  assert.deepEqual(again, y);
});

test("to('float64'): parameters and float buffers convert, integer buffers and ties stay; forward runs in float64", () => {
  const m = new Model();
  m.head.weight = m.embed.weight;
  const before = m.stateDict();
  m.double();
  assert.equal(m.embed.weight.dtype, "float64");
  assert.equal(m.head.weight, m.embed.weight, "the tie survives");
  assert.ok(m.embed.weight instanceof nn.Parameter && m.embed.weight.requiresGrad);
  assert.equal(m.norm.runningVar!.dtype, "float64");
  assert.equal(m.norm.numBatchesTracked!.dtype, "int32");
  const after = m.stateDict();
  for (const [k, v] of Object.entries(before)) assertClose(after[k]!, v, { rtol: 0, atol: 0 }, k);
  const y = (m.layers.at(1) as MLP).forward(wnn.randn([2, 4], { dtype: "float64" }));
  assert.equal(y.dtype, "float64");
  m.float();
  assert.equal(m.embed.weight.dtype, "float32");
});

test("Sequential, ModuleList, ModuleDict: names, order, access", () => {
  const seq = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2));
  assert.deepEqual(
    seq.namedParameters().map(([n]) => n),
    ["0.weight", "0.bias", "2.weight", "2.bias"],
  );
  const x = wnn.randn([5, 3], { generator: new wnn.Generator(2) });
  const l0 = seq.at(0) as wnn.nn.Linear,
    l2 = seq.at(2) as wnn.nn.Linear;
  assertClose(seq.forward(x), l2.forward(l0.forward(x).relu()), { rtol: 0, atol: 0 });
  assert.equal(seq.length, 3);
  assert.equal(seq.at(-1), l2);
  assertThrowsWith(() => seq.at(3), wnn.ArgumentError, /index 3 is out of range for 3 modules/);
  // names of more than 10 children sort numerically ("10" after "9")
  const list = new nn.ModuleList(Array.from({ length: 11 }, () => new nn.Linear(1, 1, { bias: false })));
  assert.deepEqual(
    list.namedParameters().map(([n]) => n),
    Array.from({ length: 11 }, (_, i) => `${i}.weight`),
  );
  const dict = new nn.ModuleDict<wnn.nn.Linear>([
    ["b", new nn.Linear(1, 1)],
    ["2", new nn.Linear(1, 2)],
    ["a", new nn.Linear(2, 1)],
  ]);
  assert.deepEqual(dict.keys(), ["b", "2", "a"]);
  assert.deepEqual(
    dict.namedParameters().map(([n]) => n),
    ["b.weight", "b.bias", "2.weight", "2.bias", "a.weight", "a.bias"],
  );
  assert.equal(dict.get("2").outFeatures, 2);
  assertThrowsWith(() => dict.get("c"), wnn.ArgumentError, /no module named "c"/, /b, 2, a/);
  assertThrowsWith(() => dict.set("x.y", new nn.Linear(1, 1)), wnn.ArgumentError, /without "\."/);
});

test("BatchNorm: training counts batches and moves the buffers; eval leaves them and uses them", () => {
  const bn = new nn.BatchNorm1d(3);
  const x = wnn.randn([6, 3], { generator: new wnn.Generator(3) });
  bn.forward(x);
  bn.forward(x);
  assert.equal(bn.numBatchesTracked!.item(), 2);
  const mean = bn.runningMean!.dataSync();
  bn.eval();
  const y = bn.forward(x);
  assert.deepEqual(bn.runningMean!.dataSync(), mean);
  assert.equal(bn.numBatchesTracked!.item(), 2);
  // eval: y = (x − running mean)/√(running var + eps)
  const ref = x.sub(bn.runningMean!).div(bn.runningVar!.add(1e-5).sqrt());
  assertClose(y, ref, { rtol: 1e-5, atol: 1e-6 });
  assertThrowsWith(() => new nn.BatchNorm2d(3).forward(x), wnn.ShapeError, /BatchNorm2d/, /\(6,3\)/);
  assertThrowsWith(() => bn.forward(wnn.randn([2, 4])), wnn.ShapeError, /3 channels/, /\(2,4\)/);
});

test("MultiheadAttention: bool masks mean 'not allowed', dropout in training only, paths agree, errors", () => {
  const g = new wnn.Generator(4);
  const mha = new nn.MultiheadAttention(8, 2, { batchFirst: true, generator: g, dropout: 0.5, dropoutGenerator: g });
  mha.eval();
  const x = wnn.randn([2, 5, 8], { generator: g });
  // a padded key gets weight 0 in every row of its batch
  const kpm = wnn.tensor([
    [false, false, true, false, false],
    [true, false, false, false, false],
  ]);
  const { output, weights } = mha.forward(x, x, x, { keyPaddingMask: kpm, averageAttnWeights: false });
  assert.deepEqual(weights!.shape, [2, 2, 5, 5]);
  for (let h = 0; h < 2; h++) {
    for (let i = 0; i < 5; i++) {
      assert.equal(weights!.storage[((0 * 2 + h) * 5 + i) * 5 + 2], 0);
      assert.equal(weights!.storage[((1 * 2 + h) * 5 + i) * 5 + 0], 0);
    }
  }
  // the fused path (needWeights false) gives the same output
  const fused = mha.forward(x, x, x, { keyPaddingMask: kpm, needWeights: false });
  assert.equal(fused.weights, null);
  assertClose(fused.output, output, { rtol: 1e-5, atol: 1e-6 });
  // isCausal equals the explicit bool mask "j > i is not allowed", on both paths and with padding
  const causal = wnn.tensor(Array.from({ length: 5 }, (_, i) => Array.from({ length: 5 }, (_, j) => j > i)));
  const explicit = mha.forward(x, x, x, { attnMask: causal, keyPaddingMask: kpm });
  for (const needWeights of [true, false]) {
    const r = mha.forward(x, x, x, { isCausal: true, keyPaddingMask: kpm, needWeights });
    assertClose(r.output, explicit.output, { rtol: 1e-5, atol: 1e-6 }, `isCausal, needWeights ${needWeights}`);
  }
  const noPad = mha.forward(x, x, x, { attnMask: causal, needWeights: false });
  assertClose(
    mha.forward(x, x, x, { isCausal: true, needWeights: false }).output,
    noPad.output,
    { rtol: 1e-5, atol: 1e-6 },
    "fused causal kernel",
  );
  // dropout acts in training only: the averaged weights' rows no longer sum to 1
  mha.train();
  const w = mha.forward(x, x, x).weights!;
  let off = 0;
  for (let r = 0; r < 10; r++) {
    let s = 0;
    for (let j = 0; j < 5; j++) s += w.storage[r * 5 + j]!;
    off = Math.max(off, Math.abs(s - 1));
  }
  assert.ok(off > 1e-3, "dropout changed nothing in training mode");
  assertThrowsWith(
    () => mha.forward(x, x, x, { attnMask: wnn.zeros([4, 5]) }),
    wnn.ShapeError,
    /attnMask must have shape \(5,5\) or \(4,5,5\)/,
    /\(4,5\)/,
  );
  assertThrowsWith(
    () => mha.forward(x, x, x, { keyPaddingMask: wnn.zeros([2, 4]) }),
    wnn.ShapeError,
    /keyPaddingMask must have shape \(2,5\)/,
  );
  assertThrowsWith(() => mha.forward(x, wnn.randn([2, 5, 7]), x), wnn.ShapeError, /MultiheadAttention/, /\(2,5,7\)/);
  assertThrowsWith(
    () => new nn.MultiheadAttention(10, 3),
    wnn.ArgumentError,
    /embedDim 10 must be divisible by numHeads 3/,
  );
  assertThrowsWith(
    () => mha.forward(x, x, x, { attnMask: wnn.zeros([5, 5], { dtype: "int32" }) }),
    wnn.DTypeError,
    /attnMask must be bool or floating point/,
  );
});

test("layer constructor and input errors name the layer and the sizes", () => {
  assertThrowsWith(() => new nn.Linear(-1, 2), wnn.ArgumentError, /Linear: inFeatures must be an integer/);
  assertThrowsWith(
    () => new nn.Conv2d(3, 4, 3, { groups: 2 }),
    wnn.ArgumentError,
    /Conv2d: inChannels 3 must be divisible by groups 2/,
  );
  assertThrowsWith(() => new nn.GroupNorm(4, 6), wnn.ArgumentError, /numChannels 6 must be divisible by numGroups 4/);
  assertThrowsWith(
    () => new nn.GroupNorm(2, 6).forward(wnn.randn([2, 4, 3])),
    wnn.ShapeError,
    /GroupNorm/,
    /\(2,4,3\)/,
  );
  assertThrowsWith(
    () => new nn.Linear(3, 2).forward(wnn.randn([4, 5])),
    wnn.ShapeError,
    /linear/,
    /\(4,5\)/,
    /\(2,3\)/,
  );
  assertThrowsWith(() => new nn.LayerNorm([]), wnn.ArgumentError, /LayerNorm: normalizedShape/);
});

test("toString outlines the tree", () => {
  const s = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU()).toString();
  assert.match(s, /^Sequential\n {2}0: Linear {2}\[weight\(4,3\), bias\(4\)\]\n {2}1: ReLU$/);
});

test("MultiheadAttention in float64 (to('float64')): input gradients pass a finite-difference check, both paths", () => {
  const g = new wnn.Generator(9);
  const mha = new nn.MultiheadAttention(4, 2, { kdim: 3, vdim: 5, generator: g }).double();
  const q = wnn.randn([3, 2, 4], { dtype: "float64", generator: g }); // (L, N, E)
  const k = wnn.randn([4, 2, 3], { dtype: "float64", generator: g }); // (S, N, kdim)
  const v = wnn.randn([4, 2, 5], { dtype: "float64", generator: g }); // (S, N, vdim)
  const keyPaddingMask = wnn.tensor([
    [false, true, false, false],
    [false, false, false, true],
  ]);
  const attnMask = wnn.randn([3, 4], { dtype: "float64", generator: g });
  gradcheck(
    (a, b, c) => {
      const r = mha.forward(a!, b!, c!, { keyPaddingMask, attnMask });
      return [r.output, r.weights!];
    },
    [q, k, v],
  );
  gradcheck((a, b, c) => mha.forward(a!, b!, c!, { keyPaddingMask, attnMask, needWeights: false }).output, [q, k, v]);
});
