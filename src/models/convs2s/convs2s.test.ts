// ConvS2S: parity with the PyTorch reference (tools/fixtures/convs2s.py: logits, every layer's attention, loss,
// every gradient), parameter counts, causality of the decoder, independence from padding, greedy decoding,
// overfitting one batch, errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, noGrad, tensor, ArgumentError, DTypeError, ShapeError } from "../../index.js";
import { assertClose, assertThrowsWith } from "../../../test/harness/assert.js";
import { fromJson, tensorsOf, type TensorJson, readModelFixture } from "../../../test/harness/fixtures.js";
import * as optim from "../../optim/index.js";
import { stack } from "../../ops/shape.js";
import { distinctPairs, makeBatch, reversalTask } from "../../data/tasks/index.js";
import {
  convS2SConfig,
  countParameters,
  fromTorchState,
  greedyDecode,
  PRESETS,
  ConvS2S,
  toTorchState,
} from "./model.js";

interface Fixture {
  config: {
    src_vocab: number;
    tgt_vocab: number;
    emb_dim: number;
    hidden: number;
    kernel: number;
    enc_layers: number;
    dec_layers: number;
    max_len: number;
  };
  src: TensorJson;
  tgt_in: TensorJson;
  tgt_out: TensorJson;
  state: Record<string, TensorJson>;
  logits: TensorJson;
  attention: TensorJson;
  loss: number;
  grads: Record<string, TensorJson>;
  num_params: number;
}

const fx = readModelFixture<Fixture>("convs2s");
const c = fx.config;
const fxConfig = convS2SConfig({
  srcVocab: c.src_vocab,
  tgtVocab: c.tgt_vocab,
  embDim: c.emb_dim,
  hidden: c.hidden,
  kernel: c.kernel,
  encLayers: c.enc_layers,
  decLayers: c.dec_layers,
  maxLen: c.max_len,
});

test("ConvS2S matches PyTorch: logits, every layer's attention, loss, every parameter gradient over a padded, teacher-forced batch", () => {
  const model = new ConvS2S(fxConfig, { generator: new Generator(0) });
  model.loadStateDict(fromTorchState(tensorsOf(fx.state))); // strict: every name maps
  const { logits, loss, layers, attention } = model.forward(
    fromJson(fx.src),
    fromJson(fx.tgt_in),
    fromJson(fx.tgt_out),
  );
  assertClose(logits, fromJson(fx.logits), { atol: 1e-5, rtol: 1e-4 }, "logits");
  assertClose(stack(layers, 0), fromJson(fx.attention), { atol: 1e-6, rtol: 1e-4 }, "attention (L, B, T, S)");
  assert.equal(attention, layers[layers.length - 1]);
  assert.ok(Math.abs(loss!.item() - fx.loss) <= 1e-5, `loss ${loss!.item()} vs PyTorch ${fx.loss}`);
  loss!.backward();
  const grads = toTorchState(Object.fromEntries(model.namedParameters().map(([n, p]) => [n, p.grad!])));
  assert.deepEqual(Object.keys(grads).sort(), Object.keys(fx.grads).sort());
  for (const [name, g] of Object.entries(grads))
    assertClose(g, fromJson(fx.grads[name]!), { rtol: 1e-3, atol: 1e-6 }, `d loss/d ${name}`);
  assert.equal(model.numParameters(), fx.num_params);
});

test("parameter counts: the formula equals the modules for every preset, and PyTorch's count of the tiny config", () => {
  for (const preset of Object.keys(PRESETS) as (keyof typeof PRESETS)[]) {
    const cfg = convS2SConfig(preset);
    assert.equal(new ConvS2S(cfg, { generator: new Generator(0) }).numParameters(), countParameters(cfg), preset);
  }
  assert.equal(countParameters(fxConfig), fx.num_params);
});

test("at the start the weight-normed layers equal their v (g = ‖v‖), and the embeddings are N(0, 0.1) with PAD's row 0", () => {
  const model = new ConvS2S(convS2SConfig("dates"), { generator: new Generator(1) });
  const conv = model.encoder.convs.at(0);
  const O = conv.weightV.shape[0]!,
    n = conv.weightV.numel() / O;
  for (let o = 0; o < O; o++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += conv.weightV.storage[o * n + i]! ** 2;
    assert.ok(Math.abs(conv.weightG.storage[o]! - Math.sqrt(s)) < 1e-5);
  }
  const w = model.encoder.embed.tokens.weight;
  const E = w.shape[1]!;
  assert.deepEqual([...w.storage.subarray(0, E)], new Array(E).fill(0));
  const rest = [...w.storage.subarray(E)];
  const std = Math.sqrt(rest.reduce((a, v) => a + v * v, 0) / rest.length);
  assert.ok(std > 0.08 && std < 0.12, `embedding std ${std}`);
});

test("the decoder is causal and a source's result does not depend on its padding", () => {
  const model = new ConvS2S(fxConfig, { generator: new Generator(2) });
  const src = tensor([[3, 4, 5, 6]], { dtype: "int32" });
  const a = noGrad(() => model.forward(src, tensor([[1, 3, 4, 5]], { dtype: "int32" })).logits); // (1, 4, V)
  const b = noGrad(() => model.forward(src, tensor([[1, 3, 6, 6]], { dtype: "int32" })).logits);
  // positions 0 and 1 see BOS, 3 in both; position 2 sees a different token
  assertClose(a.narrow(1, 0, 2), b.narrow(1, 0, 2), { atol: 0, rtol: 0 }, "the first two positions");
  assert.notDeepEqual([...a.narrow(1, 2, 1).dataSync()], [...b.narrow(1, 2, 1).dataSync()]);
  const padded = noGrad(
    () =>
      model.forward(tensor([[3, 4, 5, 6, 0, 0, 0]], { dtype: "int32" }), tensor([[1, 3, 4, 5]], { dtype: "int32" }))
        .logits,
  );
  assertClose(padded, a, { atol: 1e-6, rtol: 1e-5 }, "three PAD after the source");
});

test("greedy decoding takes the argmax of the teacher-forced forward fed its own tokens", () => {
  const model = new ConvS2S(fxConfig, { generator: new Generator(4) });
  const src = fromJson(fx.src);
  const out = greedyDecode(model, src, 6);
  assert.equal(model.training, true, "greedyDecode restores the training mode");
  const V = c.tgt_vocab;
  for (let b = 0; b < src.shape[0]!; b++) {
    const row = src.narrow(0, b, 1);
    const S = [...row.storage].filter((t) => t !== 0).length;
    const ys = out.tokens[b]!;
    const { logits, layers } = noGrad(() =>
      model.forward(row.narrow(1, 0, S), tensor(new Int32Array([1, ...ys]), { shape: [1, ys.length + 1] })),
    );
    const picks = Array.from({ length: ys.length + 1 }, (_, t) => {
      const r = [...logits.storage.subarray(t * V, (t + 1) * V)];
      return r.indexOf(Math.max(...r));
    });
    assert.deepEqual(picks.slice(0, ys.length), ys, `row ${b}`);
    if (ys.length < 6) assert.equal(picks[ys.length], 2, `row ${b} ends with EOS`);
    for (let l = 0; l < c.dec_layers; l++) {
      const steps = out.attention[b]![l]!;
      assert.equal(steps.length, ys.length + 1);
      assertClose(
        steps.flatMap((w) => w.slice(0, S)),
        layers[l]!.storage,
        { atol: 1e-6, rtol: 1e-5 },
        `attention of layer ${l}, row ${b}`,
      );
    }
  }
});

test("ConvS2S overfits one batch of reversals", () => {
  const task = reversalTask({ vocab: 8, minLen: 3, maxLen: 6 });
  const batch = makeBatch(task, distinctPairs(task, 8, new Generator(2)));
  const config = convS2SConfig({
    srcVocab: task.srcVocab.size,
    tgtVocab: task.tgtVocab.size,
    embDim: 16,
    hidden: 32,
    kernel: 3,
    encLayers: 3,
    decLayers: 2,
    maxLen: 8,
  });
  const model = new ConvS2S(config, { generator: new Generator(3) });
  const opt = new optim.Adam(model.parameters(), { lr: 1e-2 });
  let first = NaN,
    loss = NaN,
    steps = 0;
  for (; steps < 300 && !(loss < 0.005); steps++) {
    model.zeroGrad();
    const out = model.forward(batch.src, batch.tgtIn, batch.tgtOut);
    loss = out.loss!.item();
    if (steps === 0) first = loss;
    out.loss!.backward();
    opt.step();
  }
  assert.ok(first > 2, `the first loss ${first} should be near ln 11 = 2.4`);
  assert.ok(loss < 0.005, `loss ${loss} after ${steps} steps (first ${first})`);
  const { tokens } = greedyDecode(model, batch.src, task.maxTgtLen);
  const want = Array.from({ length: 8 }, (_, b) =>
    [...batch.tgtOut.storage.subarray(b * batch.tgtOut.shape[1]!, (b + 1) * batch.tgtOut.shape[1]!)].filter(
      (t) => t > 2,
    ),
  );
  assert.deepEqual(tokens, want);
});

test("config and input errors name what is wrong", () => {
  assertThrowsWith(() => convS2SConfig("tiny", { kernel: 4 }), ArgumentError, /kernel 4 must be odd/);
  assertThrowsWith(
    () => convS2SConfig("tiny", { decLayers: 0 }),
    ArgumentError,
    /decLayers must be a positive integer, got 0/,
  );
  assertThrowsWith(() => convS2SConfig("big" as "tiny"), ArgumentError, /unknown preset "big"/);
  const model = new ConvS2S(convS2SConfig("tiny"), { generator: new Generator(0) });
  assertThrowsWith(
    () => model.forward(tensor([1, 2, 3], { dtype: "int32" }), tensor([[1]], { dtype: "int32" })),
    ShapeError,
    /tgtIn \(1,1\) must be \(B, T\) with the batch of src \(3\)/,
  );
  assertThrowsWith(
    () => model.forward(tensor([[1, 2]]), tensor([[1]], { dtype: "int32" })),
    DTypeError,
    /src must be int32 token ids, got float32 \(1,2\)/,
  );
  assertThrowsWith(
    () => model.forward(tensor([[3, 4, 5, 6, 7, 8, 3, 4, 5]], { dtype: "int32" }), tensor([[1]], { dtype: "int32" })),
    ShapeError,
    /9 tokens is longer than maxLen 8/,
  );
  assertThrowsWith(
    () => model.generate(tensor([[3, 4]], { dtype: "int32" }), -1),
    ArgumentError,
    /maxLen must be an integer ≥ 0, got -1/,
  );
});
