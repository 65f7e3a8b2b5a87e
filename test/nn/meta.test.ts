// Modules built inside meta() (src/engine/meta.ts): every layer of nn builds shape-only with the parameters
// it has when built for real, the initialisers leave it alone, a forward pass throws the meta error, and
// loadStateDict(state, { assign: true }) gives it real tensors without copying them.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as wnn from "../../src/index.js";
import { ArgumentError, Generator, meta, noGrad, randint, randn, ShapeError, tensor } from "../../src/index.js";
import { GPT, gptConfig } from "../../src/models/gpt2/model.js";

const { nn } = wnn;
const META = /is a meta tensor \(shape-only\); it has no data/;

/** Every layer of nn that owns parameters or buffers, with its constructor arguments. */
const LAYERS: [string, () => wnn.nn.Module][] = [
  ["Linear", () => new nn.Linear(6, 5)],
  ["Linear (no bias)", () => new nn.Linear(6, 5, { bias: false })],
  ["Embedding (padding)", () => new nn.Embedding(7, 4, { paddingIdx: 2 })],
  ["LayerNorm", () => new nn.LayerNorm([4])],
  ["RMSNorm", () => new nn.RMSNorm([4])],
  ["GroupNorm", () => new nn.GroupNorm(2, 4)],
  ["BatchNorm1d", () => new nn.BatchNorm1d(4)],
  ["BatchNorm2d", () => new nn.BatchNorm2d(3)],
  ["Conv2d", () => new nn.Conv2d(2, 4, 3)],
  ["Conv1d", () => new nn.Conv1d(2, 4, 3)],
  ["ConvTranspose2d", () => new nn.ConvTranspose2d(2, 4, 3)],
  ["MultiheadAttention", () => new nn.MultiheadAttention(8, 2)],
  ["MultiheadAttention (kdim)", () => new nn.MultiheadAttention(8, 2, { kdim: 5, vdim: 3 })],
  ["LSTMCell", () => new nn.LSTMCell(3, 4)],
  ["GRU", () => new nn.GRU(3, 4, { numLayers: 2, bidirectional: true })],
  ["LSTM", () => new nn.LSTM(3, 4)],
  ["RNN", () => new nn.RNN(3, 4)],
];

test("every nn layer builds inside meta(): the same names, shapes and dtypes as built for real, no values", () => {
  for (const [name, build] of LAYERS) {
    const real = build();
    const shape = meta(build);
    const r = real.stateDict(),
      s = shape.stateDict();
    assert.deepEqual(Object.keys(s), Object.keys(r), name);
    for (const [k, t] of Object.entries(s)) {
      assert.ok(t.isMeta, `${name}: ${k} is meta`);
      assert.deepEqual(t.shape, r[k]!.shape, `${name}: ${k}`);
      assert.equal(t.dtype, r[k]!.dtype, `${name}: ${k}`);
    }
    assert.equal(shape.numParameters(), real.numParameters(), name);
    assert.ok(
      shape.parameters().every((p) => p instanceof nn.Parameter && p.requiresGrad),
      name,
    );
    assert.ok(
      real.parameters().every((p) => !p.isMeta),
      name,
    );
  }
});

test("the initialisers leave a meta tensor as it is and draw nothing; on a real tensor they still fill it", () => {
  const g = new Generator(3),
    h = new Generator(3);
  const w = meta(() => randn([4, 4]));
  for (const init of [
    () => nn.init.normal_(w, 0, 1, { generator: g }),
    () => nn.init.uniform_(w, -1, 1, { generator: g }),
    () => nn.init.kaimingUniform_(w, { generator: g }),
    () => nn.init.kaimingNormal_(w, { generator: g }),
    () => nn.init.xavierUniform_(w, { generator: g }),
    () => nn.init.xavierNormal_(w, { generator: g }),
    () => nn.init.truncNormal_(w, 0, 1, -2, 2, { generator: g }),
    () => nn.init.zeros_(w),
    () => nn.init.ones_(w),
    () => nn.init.constant_(w, 2),
  ])
    assert.equal(init(), w);
  assert.ok(w.isMeta);
  assert.equal(g.random(), h.random(), "no draws");
  // the argument checks still apply
  assert.throws(() => nn.init.normal_(w, 0, -1), ArgumentError);
  assert.throws(
    () =>
      nn.init.normal_(
        meta(() => randint(0, 2, [3])),
        0,
        1,
      ),
    /floating-point/,
  );
  const real = nn.init.constant_(wnn.zeros([3]), 2);
  assert.deepEqual(real.toArray(), [2, 2, 2]);
});

test("a meta module: forward throws the meta error, to() keeps it shape-only, printing works", () => {
  const lin = meta(() => new nn.Linear(4, 3));
  assert.throws(
    () => lin.forward(randn([2, 4])),
    (e: unknown) => e instanceof ArgumentError && META.test(e.message) && /\(3,4\)|\(3\)/.test(e.message),
  );
  const d = lin.double();
  assert.equal(d.weight.dtype, "float64");
  assert.ok(d.weight.isMeta && d.bias!.isMeta);
  assert.match(lin.toString(), /Linear {2}\[weight\(3,4\), bias\(3\)\]/);
  const gpt = meta(() => new GPT(gptConfig("tiny")));
  assert.throws(() => gpt.forward(randint(0, 10, [1, 4], { dtype: "int32" })), META);
});

test("loadStateDict(state, { assign: true }): a meta GPT takes the real tensors themselves, ties kept, equal outputs", () => {
  const c = gptConfig("tiny", { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0 });
  const real = new GPT(c, { generator: new Generator(1) }).eval();
  const state = real.stateDict();
  const m = meta(() => new GPT(c)).eval();
  const tied = m.namedParameters().length;
  const res = m.loadStateDict(state, { assign: true });
  assert.deepEqual(res, { missing: [], unexpected: [] });
  // no copy: every parameter shares the state tensor's storage
  const mine = m.stateDict();
  for (const [k, t] of Object.entries(state)) {
    assert.equal(mine[k]!.storage, t.storage, `${k} shares its storage`);
    assert.ok(!mine[k]!.isMeta && mine[k] instanceof nn.Parameter && mine[k]!.requiresGrad, k);
  }
  // the tied head is still one tensor with the embedding
  assert.equal(m.namedParameters().length, tied);
  assert.equal(m.numParameters(), real.numParameters());
  assert.ok(m.parameters().every((p) => !p.isMeta));
  const idx = randint(0, 11, [2, 8], { dtype: "int32", generator: new Generator(2) });
  const a = noGrad(() => real.forward(idx).logits).dataSync(),
    b = noGrad(() => m.forward(idx).logits).dataSync();
  assert.deepEqual(b, a);
  // and it trains: gradients reach the assigned parameters
  const { loss } = m.forward(idx, idx);
  loss!.backward();
  assert.ok(m.parameters().every((p) => p.grad !== null && !p.grad.isMeta));
});

test("loadStateDict assign: buffers, requiresGrad kept, dtype converted, checks before any change, strict false", () => {
  const bn = meta(() => new nn.BatchNorm1d(3));
  bn.weight!.requiresGrad = false;
  const state = {
    weight: tensor([1, 2, 3]),
    bias: tensor(new Float64Array([4, 5, 6])), // bias in float64: converted to float32
    runningMean: tensor([0.5, 0.5, 0.5]),
    runningVar: tensor([2, 2, 2]),
    numBatchesTracked: tensor(7, { dtype: "int32" }),
  };
  bn.loadStateDict(state, { assign: true });
  assert.equal(bn.weight!.storage, state.weight.storage);
  assert.equal(bn.weight!.requiresGrad, false, "requiresGrad of the module's parameter kept");
  assert.equal(bn.bias!.dtype, "float32");
  assert.deepEqual(bn.bias!.toArray(), [4, 5, 6]);
  assert.equal(bn.runningVar!.storage, state.runningVar.storage);
  assert.equal(bn.numBatchesTracked!.item(), 7);
  // eval: y = (x − mean)/√(var + eps)·w + b = (2.5 − 0.5)/√2.00001·[1, 2, 3] + [4, 5, 6]
  const y = [
    ...bn
      .eval()
      .forward(tensor([[2.5, 2.5, 2.5]]))
      .dataSync(),
  ];
  const want = [1, 2, 3].map((w, i) => (2 / Math.sqrt(2 + 1e-5)) * w + 4 + i);
  y.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-5, `${v} vs ${want[i]}`));

  // a wrong shape or name throws before any field changes
  const lin = meta(() => new nn.Linear(4, 3));
  const before = lin.weight;
  assert.throws(() => lin.loadStateDict({ weight: randn([3, 4]), bias: randn([4]) }, { assign: true }), ShapeError);
  assert.throws(() => lin.loadStateDict({ weight: randn([3, 4]) }, { assign: true }), /missing keys: bias/);
  assert.equal(lin.weight, before);
  // strict false: what is given is assigned, the rest stays shape-only
  const r = lin.loadStateDict({ weight: randn([3, 4]) }, { assign: true, strict: false });
  assert.deepEqual(r.missing, ["bias"]);
  assert.ok(!lin.weight.isMeta && lin.bias!.isMeta);
  assert.throws(() => lin.forward(randn([1, 4])), META);
  // without assign, loading into a meta module throws the meta error (there is no storage to copy into)
  assert.throws(() => meta(() => new nn.Linear(4, 3)).loadStateDict({ weight: randn([3, 4]), bias: randn([3]) }), META);
});
