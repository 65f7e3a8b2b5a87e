// DeBERTa: parity with the PyTorch reference (tools/fixtures/deberta.py) — sequence output with a padding
// mask, MLM loss with −100 labels and every gradient, the sequence classifier — the log buckets against
// hand-derived values and PyTorch's table, overfitting one MLM batch, the parameter counts, the weight map.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, noGrad, Tensor, tensor, randint, ArgumentError, DTypeError, ShapeError } from "../../index.js";
import { assertClose, assertThrowsWith } from "../../../test/harness/assert.js";
import { overfitsOneMlmBatch } from "../../../test/harness/encoder.js";
import { fromJson, tensorsOf, type TensorJson, readModelFixture } from "../../../test/harness/fixtures.js";
import {
  DebertaForMaskedLM,
  DebertaForMaskedLMWithEMD,
  DebertaForSequenceClassification,
  DebertaModel,
  debertaConfig,
  countParameters,
  fromDebertaCheckpoint,
  logBucketPosition,
  PRESETS,
  relativeIndices,
  toDebertaCheckpoint,
  weightMap,
} from "./model.js";

interface Fixture {
  config: {
    vocab_size: number;
    n_layer: number;
    n_head: number;
    d_model: number;
    d_ff: number;
    position_buckets: number;
    max_relative_positions: number;
    layer_norm_eps: number;
    pad_id: number;
  };
  state: Record<string, TensorJson>;
  seq_head: Record<string, TensorJson>;
  idx: TensorJson;
  attention_mask: TensorJson;
  rel_pos: TensorJson;
  buckets: { rel: TensorJson; "256/512": TensorJson; "4/6": TensorJson };
  hidden: TensorJson;
  mlm_labels: TensorJson;
  mlm_logits: TensorJson;
  mlm_loss: number;
  mlm_grads: Record<string, TensorJson>;
  seq_labels: TensorJson;
  seq_logits: TensorJson;
  seq_loss: number;
}

const fx = readModelFixture<Fixture>("deberta");
const fc = fx.config;
const fxConfig = debertaConfig({
  vocabSize: fc.vocab_size,
  typeVocabSize: 0,
  nLayer: fc.n_layer,
  nHead: fc.n_head,
  dModel: fc.d_model,
  dFF: fc.d_ff,
  positionBuckets: fc.position_buckets,
  maxRelativePositions: fc.max_relative_positions,
  dropout: 0,
  layerNormEps: fc.layer_norm_eps,
  padId: fc.pad_id,
});
const gen = (): { generator: Generator } => ({ generator: new Generator(0) });
const state = tensorsOf(fx.state);
const trunkState = Object.fromEntries(Object.entries(state).filter(([k]) => k.startsWith("deberta.")));

// -----------------------------------------------------------------------------------------------------
// Relative positions

test("log buckets: hand-derived values, and PyTorch's table for r in −700…700 (k = 256, max 512 and k = 4, max 6)", () => {
  // k = 4, max 6: mid = 2; |r| ≤ 2 exact; else 2 + ⌈ln(|r|/2)/ln(2.5)⌉: |r| = 3 → ⌈0.442⌉ = 1 → 3,
  // |r| = 5 → ⌈1⌉ = 1 → 3, |r| = 6 → ⌈1.199⌉ = 2 → 4
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, -3, -6].map((r) => logBucketPosition(r, 4, 6)),
    [0, 1, 2, 3, 3, 3, 4, -3, -4],
  );
  // k = 256, max 512: mid = 128; r = 200 → 128 + ⌈127·ln(1.5625)/ln(3.9921875)⌉ = 128 + ⌈127·0.44629/1.38434⌉
  // = 128 + ⌈40.94⌉ = 169; r = 511 → 128 + 127 = 255 (the edge); r = 129 → 128 + ⌈0.714⌉ = 129 (continuous at mid)
  assert.deepEqual(
    [128, 129, 200, 511, -200].map((r) => logBucketPosition(r, 256, 512)),
    [128, 129, 169, 255, -169],
  );
  const rel = fromJson(fx.buckets.rel).toArray() as number[];
  for (const [key, k, max] of [
    ["256/512", 256, 512],
    ["4/6", 4, 6],
  ] as const) {
    assert.deepEqual(
      rel.map((r) => logBucketPosition(r, k, max)),
      fromJson(fx.buckets[key]).toArray(),
      key,
    );
  }
  // the gather indices: c2p = clamp(δ(i, j) + k, 0, 2k − 1), p2c = clamp(−δ(i, j) + k, 0, 2k − 1), δ from PyTorch
  const T = 9,
    k = fc.position_buckets;
  const delta = fromJson(fx.rel_pos).toArray() as number[][];
  const { c2p, p2c } = relativeIndices(fxConfig, 2, T);
  assert.deepEqual(c2p.shape, [2, fc.n_head, T, T]);
  const clampRow = (x: number): number => Math.min(Math.max(x, 0), 2 * k - 1);
  for (const [b, h] of [
    [0, 0],
    [1, 1],
  ]) {
    assert.deepEqual(
      c2p.narrow(0, b!, 1).narrow(1, h!, 1).reshape(T, T).toArray(),
      delta.map((row) => row.map((d) => clampRow(d + k))),
    );
    assert.deepEqual(
      p2c.narrow(0, b!, 1).narrow(1, h!, 1).reshape(T, T).toArray(),
      delta.map((row) => row.map((d) => clampRow(-d + k))),
    );
  }
  // T = 9 > max 6 reaches bucket ±4 = ±k, which the clamp puts on the table's edge (row 7 = 2k − 1)
  assert.equal(delta[8]![0], 4);
  assert.equal(c2p.storage[8 * T], 7);
});

// -----------------------------------------------------------------------------------------------------
// Parity with PyTorch

test("DeBERTa matches the PyTorch reference: sequence output with a padding mask, MLM logits, loss, every gradient", () => {
  const idx = fromJson(fx.idx),
    attentionMask = fromJson(fx.attention_mask);
  const model = new DebertaModel(fxConfig, gen());
  model.loadStateDict(fromDebertaCheckpoint(trunkState, model));
  const hidden = noGrad(() => model.forward(idx, { attentionMask })); // padding positions included
  assertClose(hidden, fromJson(fx.hidden), { atol: 1e-4, rtol: 0 }, "sequence output");

  const mlm = new DebertaForMaskedLM(fxConfig, gen());
  mlm.loadStateDict(fromDebertaCheckpoint(state, mlm));
  const out = mlm.forward(idx, { attentionMask, targets: fromJson(fx.mlm_labels) });
  assertClose(out.logits, fromJson(fx.mlm_logits), { atol: 1e-4, rtol: 0 }, "MLM logits");
  assert.ok(Math.abs(out.loss!.item() - fx.mlm_loss) <= 1e-5, `MLM loss ${out.loss!.item()} vs PyTorch ${fx.mlm_loss}`);
  out.loss!.backward();
  const expected = fromDebertaCheckpoint(tensorsOf(fx.mlm_grads), mlm);
  const params = mlm.namedParameters();
  assert.deepEqual(params.map(([n]) => n).sort(), Object.keys(expected).sort());
  for (const [name, p] of params) assertClose(p.grad!, expected[name]!, { rtol: 1e-3, atol: 1e-5 }, `d loss/d ${name}`);
});

test("the sequence classifier (ContextPooler: GELU on the [CLS] vector) matches the reference", () => {
  const seq = new DebertaForSequenceClassification(fxConfig, 3, gen());
  seq.loadStateDict(fromDebertaCheckpoint({ ...trunkState, ...tensorsOf(fx.seq_head) }, seq));
  const s = noGrad(() =>
    seq.forward(fromJson(fx.idx), { attentionMask: fromJson(fx.attention_mask), targets: fromJson(fx.seq_labels) }),
  );
  assertClose(s.logits, fromJson(fx.seq_logits), { atol: 1e-4, rtol: 0 }, "sequence logits");
  assert.ok(Math.abs(s.loss!.item() - fx.seq_loss) <= 1e-5, `sequence loss ${s.loss!.item()} vs ${fx.seq_loss}`);
});

test("the padding mask matters: without it the real tokens' outputs change; with it padding's values do not leak", () => {
  const model = new DebertaModel(fxConfig, gen());
  model.loadStateDict(fromDebertaCheckpoint(trunkState, model));
  const idx = fromJson(fx.idx),
    attentionMask = fromJson(fx.attention_mask);
  const T = idx.shape[1]!;
  noGrad(() => {
    const masked = model.forward(idx, { attentionMask });
    const unmasked = model.forward(idx);
    // row 1 has padding at t = 7, 8: its real tokens differ with and without the mask
    const real = (h: Tensor): Tensor => h.narrow(0, 1, 1).narrow(1, 0, T - 2);
    assert.ok(real(masked).sub(real(unmasked)).abs().max().item() > 1e-3);
    // changing the padded tokens' ids does not change the real tokens' outputs
    const other = idx.clone();
    other.storage[1 * T + 7] = 3;
    other.storage[1 * T + 8] = 4;
    assertClose(real(model.forward(other, { attentionMask })), real(masked), { atol: 1e-6, rtol: 0 }, "real tokens");
  });
});

// -----------------------------------------------------------------------------------------------------
// The enhanced mask decoder (§3.2)

interface EmdFixture {
  config: { emd_steps: number; emd_positions: number };
  state: Record<string, TensorJson>;
  idx: TensorJson;
  attention_mask: TensorJson;
  mlm_labels: TensorJson;
  mlm_logits: TensorJson;
  mlm_loss: number;
  mlm_grads: Record<string, TensorJson>;
  emd1_logits: TensorJson;
}

test("the enhanced mask decoder matches the PyTorch reference (tools/fixtures/deberta_emd.py): logits, loss, every gradient; n matters", () => {
  const ex = readModelFixture<EmdFixture>("deberta_emd");
  const make = (emdSteps: number): DebertaForMaskedLMWithEMD =>
    new DebertaForMaskedLMWithEMD(fxConfig, { ...gen(), emdSteps, maxPositions: ex.config.emd_positions });
  const model = make(ex.config.emd_steps);
  assert.equal(model.emd.steps, 2);
  model.loadStateDict(fromDebertaCheckpoint(tensorsOf(ex.state), model));
  const idx = fromJson(ex.idx),
    attentionMask = fromJson(ex.attention_mask);
  const out = model.forward(idx, { attentionMask, targets: fromJson(ex.mlm_labels) });
  assertClose(out.logits, fromJson(ex.mlm_logits), { atol: 1e-4, rtol: 0 }, "EMD logits");
  assert.ok(Math.abs(out.loss!.item() - ex.mlm_loss) <= 1e-5, `EMD loss ${out.loss!.item()} vs PyTorch ${ex.mlm_loss}`);
  out.loss!.backward();
  const expected = fromDebertaCheckpoint(tensorsOf(ex.mlm_grads), model);
  const params = model.namedParameters();
  assert.deepEqual(params.map(([n]) => n).sort(), Object.keys(expected).sort());
  for (const [name, p] of params) assertClose(p.grad!, expected[name]!, { rtol: 1e-3, atol: 1e-5 }, `d loss/d ${name}`);
  // the absolute table z learns (it enters only through the EMD), and so does every layer
  assert.ok(model.emd.posEmb.weight.grad!.abs().max().item() > 1e-4);
  // one step (n = 1) gives PyTorch's n = 1 logits, which differ from n = 2's
  const one = make(1);
  one.loadStateDict(fromDebertaCheckpoint(tensorsOf(ex.state), one));
  const l1 = noGrad(() => one.forward(idx, { attentionMask }).logits);
  assertClose(l1, fromJson(ex.emd1_logits), { atol: 1e-4, rtol: 0 }, "n = 1 logits");
  assert.ok(l1.sub(out.logits.detach()).abs().max().item() > 1e-2, "n = 1 and n = 2 differ");
  // the parameters: the trunk and the MLM head of DebertaForMaskedLM, plus z (P, C) — the EMD layer is the trunk's
  assert.equal(
    model.numParameters(),
    countParameters(fxConfig, { mlmHead: true, emdPositions: ex.config.emd_positions }),
  );
  assert.equal(
    model.numParameters() - new DebertaForMaskedLM(fxConfig, gen()).numParameters(),
    ex.config.emd_positions * fxConfig.dModel,
  );
  // the trunk's weights load into the sequence classifier, without z
  const seq = new DebertaForSequenceClassification(fxConfig, 2, gen());
  const trunk = Object.fromEntries(
    Object.entries(toDebertaCheckpoint(model.stateDict(), model)).filter(
      ([k]) => k.startsWith("deberta.") && !k.includes("position_embeddings"),
    ),
  );
  seq.loadStateDict({
    ...seq.stateDict(),
    ...Object.fromEntries(
      Object.entries(fromDebertaCheckpoint(trunk, new DebertaModel(fxConfig, gen()))).map(([k, v]) => [
        `encoder.${k}`,
        v,
      ]),
    ),
  });
  // too many tokens for z is a ShapeError naming the EMD
  const long = new DebertaForMaskedLMWithEMD(fxConfig, { ...gen(), maxPositions: 4 });
  assertThrowsWith(
    () => long.forward(idx),
    ShapeError,
    /EnhancedMaskDecoder: 9 tokens exceed its 4 absolute positions/,
  );
  assertThrowsWith(
    () => new DebertaForMaskedLMWithEMD(fxConfig, { emdSteps: 0 }),
    ArgumentError,
    /EnhancedMaskDecoder: steps must be a positive integer, got 0/,
  );
});

// -----------------------------------------------------------------------------------------------------
// Overfitting one batch

test("DeBERTa overfits one MLM batch", () => {
  const config = debertaConfig("tiny", {
    vocabSize: 19,
    nLayer: 2,
    nHead: 2,
    dModel: 32,
    dFF: 64,
    positionBuckets: 8,
    maxRelativePositions: 16,
    dropout: 0,
  });
  const model = new DebertaForMaskedLM(config, { generator: new Generator(3) });
  overfitsOneMlmBatch(model);
});

// -----------------------------------------------------------------------------------------------------
// Parameter count

test("deberta-v3-base has 183,831,552 parameters (DebertaV2Model), counted without allocating; the count equals the allocated models'", () => {
  assert.equal(countParameters(PRESETS["deberta-v3-base"]), 183_831_552);
  // with the MLM head: + dense (768² + 768), LayerNorm (1536), output bias (128100)
  assert.equal(countParameters(PRESETS["deberta-v3-base"], { mlmHead: true }), 183_831_552 + 590_592 + 1536 + 128_100);
  for (const c of [
    fxConfig,
    debertaConfig("tiny"),
    debertaConfig("tiny", {
      nLayer: 3,
      dModel: 24,
      nHead: 3,
      dFF: 40,
      vocabSize: 7,
      typeVocabSize: 2,
      positionBuckets: 6,
    }),
  ]) {
    assert.equal(new DebertaModel(c, gen()).numParameters(), countParameters(c));
    assert.equal(new DebertaForMaskedLM(c, gen()).numParameters(), countParameters(c, { mlmHead: true }));
    assert.equal(
      new DebertaForSequenceClassification(c, 5, gen()).numParameters(),
      countParameters(c, { pooler: true }) + 5 * c.dModel + 5,
    );
  }
  // the PyTorch reference counted its own parameters (trunk + MLM head)
  assert.equal(
    countParameters(fxConfig, { mlmHead: true }),
    Object.values(fx.state).reduce((n, t) => n + t.data.length, 0),
  );
});

test("the MLM decoder is tied to the word embedding: one tensor, listed once", () => {
  const model = new DebertaForMaskedLM(fxConfig, gen());
  assert.equal(model.mlmHead.decoder, model.encoder.embeddings.tokEmb.weight);
  const names = model.namedParameters().map(([n]) => n);
  assert.ok(names.includes("encoder.embeddings.tokEmb.weight") && !names.includes("mlmHead.decoder"));
});

// -----------------------------------------------------------------------------------------------------
// Config, inputs, init

test("configs are frozen and checked; inputs are checked", () => {
  const c = debertaConfig("tiny", { vocabSize: 80 });
  assert.ok(Object.isFrozen(c) && Object.isFrozen(PRESETS["deberta-v3-base"]));
  assertThrowsWith(() => debertaConfig("tiny", { nHead: 3 }), ArgumentError, /dModel 64 must be a multiple of nHead 3/);
  assertThrowsWith(
    () => debertaConfig("deberta-v3-large" as "tiny"),
    ArgumentError,
    /unknown preset "deberta-v3-large"/,
  );
  assertThrowsWith(
    () => debertaConfig("tiny", { positionBuckets: 32, maxRelativePositions: 17 }),
    ArgumentError,
    /maxRelativePositions > positionBuckets\/2 \+ 1, got 32 and 17/,
  );
  assertThrowsWith(
    () => debertaConfig("tiny", { padId: 1000 }),
    ArgumentError,
    /padId must be a token id in \[0, 1000\)/,
  );
  const model = new DebertaForMaskedLM(fxConfig, gen());
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

test("init: N(0, 0.02) weights and embeddings (the relative table too), the padding row 0, zero biases, unit gains; seeded", () => {
  const c = debertaConfig("tiny", { vocabSize: 200 });
  const a = new DebertaForMaskedLM(c, { generator: new Generator(1) }),
    b = new DebertaForMaskedLM(c, { generator: new Generator(1) });
  for (const [name, t] of Object.entries(a.stateDict()))
    assert.deepEqual(t.storage, b.stateDict()[name]!.storage, name);
  const std = (t: Tensor): number => Math.sqrt(Array.from(t.storage).reduce((s, x) => s + x * x, 0) / t.numel());
  const e = a.encoder.embeddings,
    layer = a.encoder.layers.at(1);
  for (const t of [
    e.tokEmb.weight,
    a.encoder.relEmb.weight,
    layer.attn.wq.weight,
    layer.mlp.up.weight,
    a.mlmHead.dense.weight,
  ])
    assert.ok(Math.abs(std(t) / 0.02 - 1) < 0.1, `std ${std(t)}`);
  assert.ok(
    e.tokEmb.weight.storage.subarray(0, 64).every((x) => x === 0),
    "the [PAD] row",
  );
  assert.ok(
    layer.attn.wq.bias!.storage.every((x) => x === 0) &&
      a.encoder.relNorm.weight!.storage.every((x) => x === 1) &&
      a.mlmHead.bias.storage.every((x) => x === 0),
  );
});

// -----------------------------------------------------------------------------------------------------
// Weight map

test("weight map: our names ↔ HF DebertaV2 names, both ways; the tied decoder, position_ids and the RTD head skipped", () => {
  const mlm = new DebertaForMaskedLM(fxConfig, { generator: new Generator(12) });
  const ours = mlm.stateDict();
  const theirs = toDebertaCheckpoint(ours, mlm);
  assert.deepEqual(Object.keys(theirs).sort(), Object.keys(fx.state).sort()); // the reference's names, all of them
  for (const [k, t] of Object.entries(theirs)) assert.deepEqual([...t.shape], fx.state[k]!.shape, k);
  for (const k of [
    "deberta.encoder.layer.1.attention.self.query_proj.weight",
    "deberta.encoder.rel_embeddings.weight",
    "deberta.encoder.LayerNorm.weight",
    "cls.predictions.transform.LayerNorm.bias",
  ])
    assert.ok(k in theirs, k);
  const back = fromDebertaCheckpoint(theirs, mlm);
  for (const [k, t] of Object.entries(back)) assert.deepEqual(t.storage, ours[k]!.storage, k);
  const full = {
    ...theirs,
    "cls.predictions.decoder.weight": theirs["deberta.embeddings.word_embeddings.weight"]!,
    "deberta.embeddings.position_ids": tensor([[0]]),
    "mask_predictions.classifier.weight": tensor([[1]]),
  };
  const fresh = new DebertaForMaskedLM(fxConfig, { generator: new Generator(13) });
  fresh.loadStateDict(fromDebertaCheckpoint(full, fresh));
  for (const [k, t] of Object.entries(fresh.stateDict())) assert.deepEqual(t.storage, ours[k]!.storage, k);
  assertThrowsWith(
    () => fromDebertaCheckpoint({ ...theirs, "deberta.encoder.layer.2.output.dense.weight": tensor([1]) }, mlm),
    ArgumentError,
    /unexpected keys.*layer\.2\.output\.dense/,
  );
  const { ["deberta.encoder.rel_embeddings.weight"]: _, ...missing } = theirs;
  assertThrowsWith(
    () => fromDebertaCheckpoint(missing, mlm),
    ArgumentError,
    /missing key deberta\.encoder\.rel_embeddings\.weight/,
  );
  for (const m of [
    new DebertaModel(fxConfig, gen()),
    new DebertaForSequenceClassification(fxConfig, 2, gen()),
    new DebertaModel(debertaConfig(fxConfig, { typeVocabSize: 2 }), gen()),
  ]) {
    const map = weightMap(m);
    assert.equal(map.length, Object.keys(m.stateDict()).length);
    assert.equal(new Set(map.map(([, t]) => t)).size, map.length);
  }
});
