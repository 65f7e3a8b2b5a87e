// BART: parity with the PyTorch reference (tools/fixtures/bart.py, written from the paper under Hugging Face's
// parameter names), Adam steps, the KV cache, greedy decoding, overfitting one batch, the parameter counts,
// shiftTokensRight and the weight map.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, noGrad, Tensor, tensor, randint, ArgumentError, DTypeError, ShapeError } from "../../index.js";
import { assertClose, assertThrowsWith } from "../../../test/harness/assert.js";
import { fromJson, tensorsOf, type TensorJson, readModelFixture } from "../../../test/harness/fixtures.js";
import * as optim from "../../optim/index.js";
import {
  Bart,
  bartConfig,
  countParameters,
  fromBartCheckpoint,
  greedyDecode,
  KVCache,
  PRESETS,
  shiftTokensRight,
  toBartCheckpoint,
  weightMap,
  type BartConfig,
} from "./model.js";

// -----------------------------------------------------------------------------------------------------
// The fixture

interface BartFixture {
  config: {
    vocab_size: number;
    max_positions: number;
    n_encoder_layer: number;
    n_decoder_layer: number;
    n_head: number;
    d_model: number;
    d_ff: number;
    pad_id: number;
    decoder_start_id: number;
    layer_norm_eps: number;
  };
  state: Record<string, TensorJson>;
  input_ids: TensorJson;
  attention_mask: TensorJson;
  labels: TensorJson;
  decoder_input_ids: TensorJson;
  encoder_out: TensorJson;
  logits: TensorJson;
  loss: number;
  grads: Record<string, TensorJson>;
  adam: { lr: number; losses: number[] };
}

const fx = readModelFixture<BartFixture>("bart");
const fxConfig: BartConfig = bartConfig("tiny", {
  vocabSize: fx.config.vocab_size,
  maxPositions: fx.config.max_positions,
  nEncoderLayer: fx.config.n_encoder_layer,
  nDecoderLayer: fx.config.n_decoder_layer,
  nHead: fx.config.n_head,
  dModel: fx.config.d_model,
  dFF: fx.config.d_ff,
  padId: fx.config.pad_id,
  decoderStartId: fx.config.decoder_start_id,
  layerNormEps: fx.config.layer_norm_eps,
  dropout: 0,
});

function fixtureModel(config = fxConfig): Bart {
  const model = new Bart(config, { generator: new Generator(0) });
  model.loadStateDict(fromBartCheckpoint(tensorsOf(fx.state), config));
  return model;
}

const batch = (): { inputIds: Tensor; attentionMask: Tensor; labels: Tensor; decoderInputIds: Tensor } => ({
  inputIds: fromJson(fx.input_ids),
  attentionMask: fromJson(fx.attention_mask),
  labels: fromJson(fx.labels),
  decoderInputIds: fromJson(fx.decoder_input_ids),
});

// -----------------------------------------------------------------------------------------------------
// Parity with PyTorch

test("BART matches the PyTorch reference: padded encoder output, logits (+ final_logits_bias), loss, every gradient", () => {
  const model = fixtureModel();
  const { inputIds, attentionMask, labels, decoderInputIds } = batch();
  assert.deepEqual(
    Array.from(shiftTokensRight(labels, 1, 2).storage),
    Array.from(decoderInputIds.storage),
    "shiftTokensRight",
  );
  const memory = model.encode(inputIds, model.sourceMask(inputIds, attentionMask));
  assertClose(memory, fromJson(fx.encoder_out), { atol: 1e-4, rtol: 0 }, "encoder output");
  const { logits, loss } = model.forward(inputIds, decoderInputIds, { attentionMask, targets: labels });
  assertClose(logits, fromJson(fx.logits), { atol: 1e-4, rtol: 0 }, "logits");
  assert.ok(Math.abs(loss!.item() - fx.loss) <= 1e-5, `loss ${loss!.item()} vs PyTorch ${fx.loss}`);
  loss!.backward();
  // the gradients under our names (final_logits_bias is a buffer: no gradient)
  const expected = Object.fromEntries(
    weightMap(fxConfig)
      .filter(([, t]) => t in fx.grads)
      .map(([o, t]) => [o, fromJson(fx.grads[t]!)]),
  );
  const params = model.namedParameters();
  assert.deepEqual(params.map(([n]) => n).sort(), Object.keys(expected).sort());
  for (const [name, p] of params) assertClose(p.grad!, expected[name]!, { rtol: 1e-3, atol: 1e-5 }, `d loss/d ${name}`);
});

test("the source padding mask: a padded row's logits equal the same row alone without padding", () => {
  const model = fixtureModel();
  const { inputIds, attentionMask, decoderInputIds } = batch();
  noGrad(() => {
    const a = model.forward(inputIds, decoderInputIds, { attentionMask }).logits; // (B, T, V)
    // row 2: 3 source tokens, 2 targets
    const alone = model.forward(
      inputIds.narrow(0, 2, 1).narrow(1, 0, 3),
      decoderInputIds.narrow(0, 2, 1).narrow(1, 0, 2),
    ).logits; // (1, 2, V)
    assertClose(alone, a.narrow(0, 2, 1).narrow(1, 0, 2), { atol: 1e-5, rtol: 1e-5 }, "row 2 without padding");
    // without the mask the padding is attended to, and the row changes
    const unmasked = model.forward(inputIds, decoderInputIds).logits;
    assert.ok(Math.abs(unmasked.storage[2 * 6 * 23]! - a.storage[2 * 6 * 23]!) > 1e-4, "the mask matters");
    // a decoder attention mask masks padded target keys: the padded row alone equals it too
    const decMask = tensor(
      [
        [1, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 0, 0],
        [1, 1, 0, 0, 0, 0],
      ],
      { dtype: "int32" },
    );
    const withDec = model.forward(inputIds, decoderInputIds, { attentionMask, decoderAttentionMask: decMask }).logits;
    assertClose(
      withDec.narrow(0, 2, 1).narrow(1, 0, 2),
      alone,
      { atol: 1e-5, rtol: 1e-5 },
      "decoder mask, real positions",
    );
  });
});

test("4 Adam steps (lr 1e-2) give PyTorch's losses", () => {
  const model = fixtureModel();
  const { inputIds, attentionMask, labels, decoderInputIds } = batch();
  const opt = new optim.Adam(model.parameters(), { lr: fx.adam.lr });
  const losses: number[] = [];
  for (let step = 0; step < fx.adam.losses.length; step++) {
    model.zeroGrad();
    const { loss } = model.forward(inputIds, decoderInputIds, { attentionMask, targets: labels });
    losses.push(loss!.item());
    loss!.backward();
    opt.step();
  }
  assertClose(losses, fx.adam.losses, { atol: 2e-4, rtol: 0 }, "Adam losses");
});

// -----------------------------------------------------------------------------------------------------
// Overfitting one batch

test("BART overfits one batch", () => {
  const config = bartConfig("tiny", {
    vocabSize: 17,
    maxPositions: 16,
    nEncoderLayer: 1,
    nDecoderLayer: 1,
    nHead: 2,
    dModel: 32,
    dFF: 64,
    dropout: 0,
  });
  const model = new Bart(config, { generator: new Generator(3) });
  const g = new Generator(4);
  const inputIds = randint(3, 17, [4, 8], { generator: g }),
    targets = randint(3, 17, [4, 6], { generator: g });
  const decoderInputIds = shiftTokensRight(targets, 1, 2);
  const opt = new optim.Adam(model.parameters(), { lr: 1e-2 });
  let first = NaN,
    loss = NaN,
    steps = 0;
  for (; steps < 150 && !(loss < 0.05); steps++) {
    model.zeroGrad();
    const out = model.forward(inputIds, decoderInputIds, { targets });
    loss = out.loss!.item();
    if (steps === 0) first = loss;
    out.loss!.backward();
    opt.step();
  }
  assert.ok(first > 2.5, `the first loss ${first} should be near ln 17 = 2.83`);
  assert.ok(loss < 0.05, `loss ${loss} after ${steps} steps (first ${first})`);
});

// -----------------------------------------------------------------------------------------------------
// The KV cache and decoding

test("the KV-cached decoder equals the full forward at every step (positions continue at P + 2)", () => {
  const model = fixtureModel().eval();
  const { inputIds, attentionMask, decoderInputIds } = batch();
  noGrad(() => {
    const full = model.forward(inputIds, decoderInputIds, { attentionMask }).logits; // (B, T, V)
    const srcMask = model.sourceMask(inputIds, attentionMask);
    const memory = model.encode(inputIds, srcMask);
    const cache = new KVCache(fxConfig.nDecoderLayer);
    // a 2-token prompt, then one token at a time; with no decoder padding mask every row is comparable
    const prompt = model.logits(model.decode(decoderInputIds.narrow(1, 0, 2), memory, srcMask, cache)); // (B, 2, V)
    assertClose(prompt, full.narrow(1, 0, 2), { atol: 1e-5, rtol: 1e-5 }, "prompt logits");
    for (let t = 2; t < decoderInputIds.shape[1]!; t++) {
      const step = model.logits(model.decode(decoderInputIds.narrow(1, t, 1), memory, srcMask, cache)); // (B, 1, V)
      assertClose(step, full.narrow(1, t, 1), { atol: 1e-5, rtol: 1e-5 }, `logits at step ${t}`);
      assert.equal(cache.length, t + 1);
    }
    assertThrowsWith(
      () => model.decode(randint(3, 13, [3, 11]), memory, srcMask, cache),
      ShapeError,
      /6 cached \+ 11 tokens exceed maxPositions 16/,
    );
  });
});

/** Greedy decoding the slow way: the full forward of the whole prefix at every step. */
function slowGreedy(model: Bart, inputIds: Tensor, maxLen: number): number[] {
  return noGrad(() => {
    const seq = [model.config.decoderStartId];
    for (;;) {
      const logits = model.forward(inputIds, tensor([seq], { dtype: "int32" })).logits; // (1, t, V)
      const last = logits
        .narrow(1, seq.length - 1, 1)
        .reshape(model.config.vocabSize)
        .toArray() as number[];
      let next = 0;
      for (let v = 1; v < last.length; v++) if (last[v]! > last[next]!) next = v;
      if (next === model.config.eosId || seq.length - 1 === maxLen) return seq.slice(1);
      seq.push(next);
    }
  });
}

test("greedy decoding with the KV cache takes the argmax of the full forward at every step", () => {
  const model = fixtureModel();
  const { inputIds, attentionMask } = batch();
  const out = greedyDecode(model, inputIds, { attentionMask, maxLen: 10 });
  assert.equal(model.training, true, "decoding restores the training mode");
  model.eval();
  const lens = [8, 6, 3];
  for (let b = 0; b < 3; b++)
    assert.deepEqual(out[b], slowGreedy(model, inputIds.narrow(0, b, 1).narrow(1, 0, lens[b]!), 10), `row ${b}`);
  // with eos set to row 0's first token, row 0 ends at once; every row still follows the slow decoder
  const eos = out[0]![0]!;
  const m2 = new Bart(bartConfig(fxConfig, { eosId: eos }), { generator: new Generator(0) });
  m2.loadStateDict(model.stateDict());
  const stopped = m2.greedy(inputIds, { attentionMask, maxLen: 10 });
  assert.deepEqual(stopped[0], []);
  m2.eval();
  for (let b = 0; b < 3; b++)
    assert.deepEqual(
      stopped[b],
      slowGreedy(m2, inputIds.narrow(0, b, 1).narrow(1, 0, lens[b]!), 10),
      `row ${b}, EOS ${eos}`,
    );
  assertThrowsWith(
    () => greedyDecode(model, inputIds, { maxLen: 16 }),
    ArgumentError,
    /maxLen must be an integer in \[1, 15\], got 16/,
  );
});

// -----------------------------------------------------------------------------------------------------
// Parameters, config, init

test("bart-base has 139,420,416 parameters by countParameters, counted without allocating", () => {
  assert.equal(countParameters(PRESETS["bart-base"]), 139_420_416);
  assert.equal(countParameters(PRESETS["bart-base"], { nonEmbedding: true }), 139_420_416 - 50265 * 768);
  // the count of an instantiated model, the shared embedding once, final_logits_bias (a buffer) not
  for (const c of [fxConfig, bartConfig("tiny")]) {
    const model = new Bart(c, { generator: new Generator(1) });
    assert.equal(model.numParameters(), countParameters(c));
    assert.equal(model.numParameters({ nonEmbedding: true }), countParameters(c, { nonEmbedding: true }));
  }
  // PyTorch's count of the reference (named_parameters, the shared embedding once)
  const theirs = Object.entries(fx.grads).reduce((n, [, t]) => n + t.data.length, 0);
  assert.equal(countParameters(fxConfig), theirs);
});

test("config: presets frozen, errors name the field", () => {
  assert.ok(Object.isFrozen(bartConfig("tiny")) && Object.isFrozen(PRESETS["bart-base"]));
  assertThrowsWith(() => bartConfig("tiny", { nHead: 3 }), ArgumentError, /dModel 64 must be a multiple of nHead 3/);
  assertThrowsWith(() => bartConfig("large" as "tiny"), ArgumentError, /unknown preset "large"/);
  assertThrowsWith(
    () => bartConfig("tiny", { padId: 64 }),
    ArgumentError,
    /padId must be a token id in \[0, 64\), got 64/,
  );
  assertThrowsWith(() => bartConfig("tiny", { attnDropout: 1 }), ArgumentError, /attnDropout must be in \[0, 1\)/);
  const model = new Bart(fxConfig, { generator: new Generator(0) });
  assertThrowsWith(
    () => model.forward(tensor([[1, 2]]), randint(0, 13, [1, 2])),
    DTypeError,
    /inputIds must be int32 token ids, got float32 \(1,2\)/,
  );
  assertThrowsWith(
    () => model.forward(randint(0, 13, [4]), randint(0, 13, [1, 2])),
    ShapeError,
    /inputIds must be \(B, S\) token ids, got shape \(4\)/,
  );
  assertThrowsWith(
    () => model.forward(randint(0, 13, [1, 17]), randint(0, 13, [1, 2])),
    ShapeError,
    /17 tokens exceed maxPositions 16/,
  );
  assertThrowsWith(
    () => model.forward(randint(0, 13, [1, 4]), randint(0, 13, [1, 2]), { targets: randint(0, 13, [1, 3]) }),
    ShapeError,
    /targets \(1,3\)/,
  );
  assertThrowsWith(
    () => model.forward(randint(0, 13, [1, 4]), randint(0, 13, [1, 2]), { attentionMask: randint(0, 2, [1, 3]) }),
    ShapeError,
    /attentionMask \(1,3\) must have the shape of inputIds \(1,4\)/,
  );
  assertThrowsWith(
    () => shiftTokensRight(randint(0, 13, [4]), 1, 2),
    ShapeError,
    /shiftTokensRight: targets must be \(B, T\)/,
  );
});

test("shiftTokensRight: start token first, −100 becomes pad", () => {
  const y = shiftTokensRight(
    tensor(
      [
        [5, 6, 2, -100],
        [7, 2, -100, -100],
      ],
      { dtype: "int32" },
    ),
    1,
    2,
  );
  // computed by hand from the definition out[:, 0] = 2, out[:, t] = labels[:, t−1], −100 → 1
  assert.deepEqual(y.toArray(), [
    [2, 5, 6, 2],
    [2, 7, 2, 1],
  ]);
});

test("init: N(0, 0.02²) weights, zero biases and pad row, unit gains; seeded", () => {
  const c = bartConfig("tiny", { vocabSize: 256 });
  const a = new Bart(c, { generator: new Generator(1) }),
    b = new Bart(c, { generator: new Generator(1) });
  for (const [name, t] of Object.entries(a.stateDict()))
    assert.deepEqual(t.storage, b.stateDict()[name]!.storage, name);
  const std = (t: Tensor): number => Math.sqrt(Array.from(t.storage).reduce((s, x) => s + x * x, 0) / t.numel());
  for (const w of [a.tokEmb.weight, a.decoder.at(1).mlp.up.weight, a.encPos.table.weight])
    assert.ok(Math.abs(std(w) / 0.02 - 1) < 0.05, `std ${std(w)}`);
  assert.ok(
    a.tokEmb.weight.narrow(0, 1, 1).storage.every((x) => x === 0),
    "the <pad> row is 0",
  );
  assert.ok(
    a.encoder.at(0).attn.wq.bias!.storage.every((x) => x === 0) && a.encEmbNorm.weight!.storage.every((x) => x === 1),
  );
  assert.ok(a.finalLogitsBias.storage.every((x) => x === 0) && !a.parameters().includes(a.finalLogitsBias as never));
  // initStd (Hugging Face's init_std) sets σ of every Linear and Embedding weight
  const wide = new Bart(bartConfig(c, { initStd: 0.125 }), { generator: new Generator(1) });
  for (const w of [wide.tokEmb.weight, wide.decoder.at(1).cross.wv.weight, wide.decPos.table.weight])
    assert.ok(Math.abs(std(w) / 0.125 - 1) < 0.05, `std ${std(w)}`);
  assert.ok(
    wide.tokEmb.weight.narrow(0, 1, 1).storage.every((x) => x === 0),
    "the <pad> row is 0",
  );
  assertThrowsWith(() => bartConfig("tiny", { initStd: 0 }), ArgumentError, /initStd must be a positive number, got 0/);
});

test("dropout is active in training mode only", () => {
  const model = new Bart(bartConfig(fxConfig, { dropout: 0.2 }), { generator: new Generator(2) });
  const { inputIds, decoderInputIds } = batch();
  noGrad(() => {
    assert.notDeepEqual(
      model.forward(inputIds, decoderInputIds).logits.storage,
      model.forward(inputIds, decoderInputIds).logits.storage,
    );
    model.eval();
    assert.deepEqual(
      model.forward(inputIds, decoderInputIds).logits.storage,
      model.forward(inputIds, decoderInputIds).logits.storage,
    );
  });
});

// -----------------------------------------------------------------------------------------------------
// Weight map

test("weight map: our names ↔ BartForConditionalGeneration's, both ways; tied copies accepted; strict", () => {
  const theirs = toBartCheckpoint(fixtureModel().stateDict(), fxConfig);
  assert.deepEqual(Object.keys(theirs).sort(), Object.keys(fx.state).sort());
  for (const [k, t] of Object.entries(theirs))
    assert.deepEqual(
      Array.from(t.storage),
      fx.state[k]!.data.map((x) => Math.fround(x as number)),
      k,
    );
  const state = tensorsOf(fx.state);
  const shared = state["model.shared.weight"]!;
  fromBartCheckpoint({ ...state, "lm_head.weight": shared, "model.encoder.embed_tokens.weight": shared }, fxConfig);
  assertThrowsWith(
    () => fromBartCheckpoint({ ...state, "lm_head.weight": shared.narrow(0, 0, 3) }, fxConfig),
    ShapeError,
    /lm_head\.weight \(3,12\) is tied to model\.shared\.weight \(23,12\)/,
  );
  assertThrowsWith(
    () => fromBartCheckpoint({ ...state, "model.encoder.layer_norm.weight": tensor([1]) }, fxConfig),
    ArgumentError,
    /unexpected keys.*model\.encoder\.layer_norm\.weight/,
  );
  const { ["final_logits_bias"]: _, ...missing } = state;
  assertThrowsWith(() => fromBartCheckpoint(missing, fxConfig), ArgumentError, /missing key final_logits_bias/);
  assert.ok(Object.keys(theirs).includes("model.decoder.layers.1.encoder_attn_layer_norm.bias"));
});
