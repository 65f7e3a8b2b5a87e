// BERT: parity with the PyTorch reference (tools/fixtures/bert.py) — sequence output with a padding mask,
// pooled vector, MLM loss with −100 labels and every gradient, the classification heads — overfitting one
// MLM batch, the parameter counts, the weight map.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, noGrad, Tensor, tensor, randint, ArgumentError, DTypeError, ShapeError } from "../../index.js";
import { assertClose, assertThrowsWith } from "../../../test/harness/assert.js";
import { overfitsOneMlmBatch } from "../../../test/harness/encoder.js";
import { fromJson } from "../../../test/harness/fixtures.js";
import { checkParity, configOf, fixtures } from "../../../test/harness/bert-fixture.js";
import { tensorsOf } from "../../../test/harness/fixtures.js";
import {
  BertForMaskedLM,
  BertForSequenceClassification,
  BertForTokenClassification,
  BertModel,
  bertConfig,
  countParameters,
  fromBertCheckpoint,
  PRESETS,
  toBertCheckpoint,
  weightMap,
} from "./model.js";

const fx = fixtures.bert;
const fxConfig = configOf(fx);
const gen = (): { generator: Generator } => ({ generator: new Generator(0) });

// -----------------------------------------------------------------------------------------------------
// Parity with PyTorch

test("BERT matches the PyTorch reference: sequence output with a padding mask, pooler, MLM loss and every gradient, heads", () => {
  checkParity(fx, {
    model: (c) => new BertModel(c, gen()),
    mlm: (c) => new BertForMaskedLM(c, gen()),
    seq: (c, k) => new BertForSequenceClassification(c, k, gen()),
    tok: (c, k) => new BertForTokenClassification(c, k, gen()),
  });
  // BERT's positions are 0…T−1 in every row, padded or not
  assert.deepEqual(
    fromJson(fx.position_ids).toArray(),
    Array.from({ length: 3 }, () => [0, 1, 2, 3, 4, 5, 6]),
  );
});

test("the padding mask matters: without it the real tokens' outputs change; with it padding's values do not leak", () => {
  const model = new BertModel(fxConfig, gen());
  model.loadStateDict(
    fromBertCheckpoint(
      Object.fromEntries(Object.entries(tensorsOf(fx.state)).filter(([k]) => k.startsWith("bert."))),
      model,
    ),
  );
  const idx = fromJson(fx.idx),
    attentionMask = fromJson(fx.attention_mask);
  noGrad(() => {
    const masked = model.forward(idx, { attentionMask }).hidden; // (B, T, C)
    const unmasked = model.forward(idx).hidden;
    // row 1 has padding at t = 5, 6: its real tokens differ with and without the mask
    assert.ok(
      Math.abs(
        masked
          .narrow(0, 1, 1)
          .narrow(1, 0, 5)
          .sub(unmasked.narrow(0, 1, 1).narrow(1, 0, 5))
          .abs()
          .max()
          .item(),
      ) > 1e-3,
    );
    // changing the padded tokens' ids does not change the real tokens' outputs
    const other = idx.clone();
    other.storage[1 * 7 + 5] = 3;
    other.storage[1 * 7 + 6] = 4;
    const changed = model.forward(other, { attentionMask }).hidden;
    assertClose(
      changed.narrow(0, 1, 1).narrow(1, 0, 5),
      masked.narrow(0, 1, 1).narrow(1, 0, 5),
      { atol: 1e-6, rtol: 0 },
      "real tokens",
    );
  });
});

// -----------------------------------------------------------------------------------------------------
// Overfitting one batch

test("BERT overfits one MLM batch", () => {
  const config = bertConfig("tiny", {
    vocabSize: 19,
    maxPositions: 16,
    nLayer: 2,
    nHead: 2,
    dModel: 32,
    dFF: 64,
    dropout: 0,
  });
  const model = new BertForMaskedLM(config, { generator: new Generator(3) });
  overfitsOneMlmBatch(model);
});

// -----------------------------------------------------------------------------------------------------
// Parameter count

test("bert-base-uncased has 109,482,240 parameters (BertModel with pooler), counted without allocating; the count equals the allocated models'", () => {
  assert.equal(countParameters(PRESETS["bert-base-uncased"]), 109_482_240);
  // and with the MLM head instead of the pooler (BertForMaskedLM): + dense, LayerNorm, output bias
  assert.equal(
    countParameters(PRESETS["bert-base-uncased"], { pooler: false, mlmHead: true }),
    109_482_240 - 590_592 + 590_592 + 1536 + 30522,
  );
  for (const c of [
    fxConfig,
    bertConfig("tiny"),
    bertConfig("tiny", { nLayer: 3, dModel: 24, nHead: 3, dFF: 40, vocabSize: 7, typeVocabSize: 3 }),
  ]) {
    assert.equal(new BertModel(c, gen()).numParameters(), countParameters(c));
    assert.equal(new BertModel(c, { ...gen(), pooler: false }).numParameters(), countParameters(c, { pooler: false }));
    assert.equal(new BertForMaskedLM(c, gen()).numParameters(), countParameters(c, { pooler: false, mlmHead: true }));
    assert.equal(new BertForSequenceClassification(c, 5, gen()).numParameters(), countParameters(c) + 5 * c.dModel + 5);
  }
  // the PyTorch reference counted its own parameters (trunk with pooler + MLM head)
  assert.equal(
    countParameters(fxConfig, { mlmHead: true }),
    Object.values(fx.state).reduce((n, t) => n + t.data.length, 0),
  );
});

test("the MLM decoder is tied to the word embedding: one tensor, listed once", () => {
  const model = new BertForMaskedLM(fxConfig, gen());
  assert.equal(model.mlmHead.decoder, model.encoder.embeddings.tokEmb.weight);
  const names = model.namedParameters().map(([n]) => n);
  assert.ok(names.includes("encoder.embeddings.tokEmb.weight") && !names.includes("mlmHead.decoder"));
});

// -----------------------------------------------------------------------------------------------------
// Config, inputs, init

test("configs are frozen and checked; inputs are checked", () => {
  const c = bertConfig("tiny", { vocabSize: 80 });
  assert.ok(Object.isFrozen(c) && Object.isFrozen(PRESETS["bert-base-uncased"]));
  assertThrowsWith(() => bertConfig("tiny", { nHead: 3 }), ArgumentError, /dModel 64 must be a multiple of nHead 3/);
  assertThrowsWith(() => bertConfig("bert-large" as "tiny"), ArgumentError, /unknown preset "bert-large"/);
  assertThrowsWith(() => bertConfig("tiny", { padId: 1000 }), ArgumentError, /padId must be a token id in \[0, 1000\)/);
  const model = new BertForMaskedLM(fxConfig, gen());
  assertThrowsWith(
    () => model.forward(tensor([[1, 2]])),
    DTypeError,
    /idx must be int32 token ids, got float32 \(1,2\)/,
  );
  assertThrowsWith(
    () => model.forward(randint(0, 11, [4])),
    ShapeError,
    /idx must be \(B, T\) token ids, got shape \(4\)/,
  );
  assertThrowsWith(() => model.forward(randint(0, 11, [1, 13])), ShapeError, /13 tokens exceed maxPositions 12/);
  assertThrowsWith(
    () => model.forward(randint(0, 11, [1, 4]), { attentionMask: randint(0, 2, [1, 5]) }),
    ShapeError,
    /attentionMask \(1,5\) must have the shape of idx \(1,4\)/,
  );
  assertThrowsWith(
    () => model.forward(randint(0, 11, [1, 4]), { targets: randint(0, 11, [1, 5]) }),
    ShapeError,
    /targets \(1,5\) must be \(B, T\) = \(1,4\)/,
  );
});

test("init: N(0, 0.02) weights and embeddings, the padding row 0, zero biases, unit gains; seeded", () => {
  const c = bertConfig("tiny", { vocabSize: 200 });
  const a = new BertForMaskedLM(c, { generator: new Generator(1) }),
    b = new BertForMaskedLM(c, { generator: new Generator(1) });
  for (const [name, t] of Object.entries(a.stateDict()))
    assert.deepEqual(t.storage, b.stateDict()[name]!.storage, name);
  const std = (t: Tensor): number => Math.sqrt(Array.from(t.storage).reduce((s, x) => s + x * x, 0) / t.numel());
  const e = a.encoder.embeddings,
    layer = a.encoder.layers.at(1);
  for (const t of [e.tokEmb.weight, e.posEmb.weight, layer.attn.wq.weight, layer.mlp.up.weight, a.mlmHead.dense.weight])
    assert.ok(Math.abs(std(t) / 0.02 - 1) < 0.1, `std ${std(t)}`);
  assert.ok(
    e.tokEmb.weight.storage.subarray(0, 64).every((x) => x === 0),
    "the [PAD] row",
  );
  assert.ok(
    layer.attn.wq.bias!.storage.every((x) => x === 0) &&
      layer.norm1.weight!.storage.every((x) => x === 1) &&
      a.mlmHead.bias.storage.every((x) => x === 0),
  );
});

// -----------------------------------------------------------------------------------------------------
// Weight map

test("weight map: our names ↔ BERT checkpoint names, both ways; the NSP head and position_ids skipped", () => {
  const mlm = new BertForMaskedLM(fxConfig, { generator: new Generator(12) });
  const ours = mlm.stateDict();
  const theirs = toBertCheckpoint(ours, mlm);
  // the reference's names, less the pooler that the MLM model does not have
  assert.deepEqual(
    Object.keys(theirs).sort(),
    Object.keys(fx.state)
      .filter((k) => !k.includes("pooler"))
      .sort(),
  );
  for (const [k, t] of Object.entries(theirs)) assert.deepEqual([...t.shape], fx.state[k]!.shape, k);
  assert.ok(
    "bert.encoder.layer.1.attention.self.query.weight" in theirs &&
      "cls.predictions.transform.LayerNorm.bias" in theirs,
  );
  const back = fromBertCheckpoint(theirs, mlm);
  for (const [k, t] of Object.entries(back)) assert.deepEqual(t.storage, ours[k]!.storage, k);
  // a full pretraining checkpoint (pooler, NSP head, tied decoder, position_ids) loads into the MLM model
  const full = {
    ...theirs,
    "bert.pooler.dense.weight": tensor([[1]]),
    "bert.pooler.dense.bias": tensor([1]),
    "cls.seq_relationship.weight": tensor([[1]]),
    "cls.seq_relationship.bias": tensor([1]),
    "cls.predictions.decoder.weight": theirs["bert.embeddings.word_embeddings.weight"]!,
    "bert.embeddings.position_ids": tensor([[0]]),
  };
  const fresh = new BertForMaskedLM(fxConfig, { generator: new Generator(13) });
  fresh.loadStateDict(fromBertCheckpoint(full, fresh));
  for (const [k, t] of Object.entries(fresh.stateDict())) assert.deepEqual(t.storage, ours[k]!.storage, k);
  assertThrowsWith(
    () => fromBertCheckpoint({ ...theirs, "bert.encoder.layer.2.output.dense.weight": tensor([1]) }, mlm),
    ArgumentError,
    /unexpected keys.*layer\.2\.output\.dense/,
  );
  const { ["cls.predictions.bias"]: _, ...missing } = theirs;
  assertThrowsWith(() => fromBertCheckpoint(missing, mlm), ArgumentError, /missing key cls\.predictions\.bias/);
  // every model's map covers all its tensors, one name each
  for (const m of [
    new BertModel(fxConfig, gen()),
    new BertForSequenceClassification(fxConfig, 2, gen()),
    new BertForTokenClassification(fxConfig, 2, gen()),
  ]) {
    const map = weightMap(m);
    assert.equal(map.length, Object.keys(m.stateDict()).length);
    assert.equal(new Set(map.map(([, t]) => t)).size, map.length);
  }
});
