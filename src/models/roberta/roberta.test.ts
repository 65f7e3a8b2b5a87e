// RoBERTa: BERT with its own embeddings — positions on padded input, PyTorch parity (tools/fixtures/bert.py),
// overfitting one MLM batch, the parameter count, the weight map under roberta.* / lm_head.*.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, noGrad, tensor, ArgumentError, ShapeError } from "../../index.js";
import { assertClose, assertThrowsWith } from "../../../test/harness/assert.js";
import { overfitsOneMlmBatch } from "../../../test/harness/encoder.js";
import { readFileSync } from "../../../test/harness/files.js";
import { fromJson, type TensorJson } from "../../../test/harness/fixtures.js";
import { checkParity, configOf, fixtures } from "../../../test/harness/bert-fixture.js";
import { tensorsOf } from "../../../test/harness/fixtures.js";
import { fromBertCheckpoint, toBertCheckpoint, weightMap } from "../bert/model.js";
import {
  countParameters,
  positionIds,
  PRESETS,
  RobertaEmbeddings,
  RobertaForMaskedLM,
  RobertaForSequenceClassification,
  RobertaForTokenClassification,
  RobertaModel,
  robertaConfig,
  ROBERTA_NAMING,
} from "./model.js";

const fx = fixtures.roberta;
const fxConfig = configOf(fx);
const gen = (): { generator: Generator } => ({ generator: new Generator(0) });

test("RoBERTa's positions start at padId + 1 and skip padding (left- and right-padded rows)", () => {
  // hand-derived, padId 1: [5 6 7] → 2 3 4; [5 6 1 1] → 2 3 1 1; [1 1 5 6] → 1 1 2 3; a pad in the middle is skipped
  const idx = tensor(
    [
      [5, 6, 7, 8, 9],
      [5, 6, 7, 1, 1],
      [1, 1, 5, 6, 7],
      [5, 1, 6, 1, 7],
    ],
    { dtype: "int32" },
  );
  assert.deepEqual(positionIds(idx, 1).toArray(), [
    [2, 3, 4, 5, 6],
    [2, 3, 4, 1, 1],
    [1, 1, 2, 3, 4],
    [2, 1, 3, 1, 4],
  ]);
  // and as PyTorch's cumsum reference computed them on the fixture's batch
  assert.deepEqual(positionIds(fromJson(fx.idx), fx.config.pad_id).toArray(), fromJson(fx.position_ids).toArray());
  // a left-padded sequence gets the outputs of the unpadded one at its real tokens
  const model = new RobertaModel(robertaConfig("tiny", { vocabSize: 20, dropout: 0 }), gen());
  noGrad(() => {
    const plain = model.forward(tensor([[0, 5, 6, 2]], { dtype: "int32" })).hidden; // (1, 4, C)
    const padded = model.forward(tensor([[1, 1, 0, 5, 6, 2]], { dtype: "int32" }), {
      attentionMask: tensor([[0, 0, 1, 1, 1, 1]], { dtype: "int32" }),
    }).hidden;
    assertClose(padded.narrow(1, 2, 4), plain, { atol: 1e-5, rtol: 0 }, "left padding changes nothing");
  });
});

test("RoBERTa matches the PyTorch reference: sequence output with padding, pooler, MLM loss and every gradient, token head", () => {
  checkParity(
    fx,
    {
      model: (c) => new RobertaModel(c, gen()),
      mlm: (c) => new RobertaForMaskedLM(c, gen()),
      tok: (c, k) => new RobertaForTokenClassification(c, k, gen()),
    },
    ROBERTA_NAMING,
  );
});

test("RoBERTa's sequence classifier (HF's RobertaClassificationHead on <s>) matches PyTorch: logits, loss, every gradient", () => {
  const cls = JSON.parse(
    readFileSync(new URL("../../../../test/fixtures/models/roberta_cls.json", import.meta.url), "utf8"),
  ) as {
    state: Record<string, TensorJson>;
    idx: TensorJson;
    attention_mask: TensorJson;
    labels: TensorJson;
    logits: TensorJson;
    loss: number;
    grads: Record<string, TensorJson>;
  };
  const model = new RobertaForSequenceClassification(fxConfig, 3, gen());
  assert.equal(model.encoder.pooler, null, "no pooler: the head has its own dense");
  // the checkpoint's names: classifier.dense.* and classifier.out_proj.*, nothing else outside roberta.*
  assert.deepEqual(
    weightMap(model, ROBERTA_NAMING)
      .map(([, t]) => t)
      .sort(),
    Object.keys(cls.state).sort(),
  );
  model.loadStateDict(fromBertCheckpoint(tensorsOf(cls.state), model, ROBERTA_NAMING));
  const out = model.forward(fromJson(cls.idx), {
    attentionMask: fromJson(cls.attention_mask),
    targets: fromJson(cls.labels),
  });
  assertClose(out.logits, fromJson(cls.logits), { atol: 1e-4, rtol: 0 }, "logits");
  assert.ok(Math.abs(out.loss!.item() - cls.loss) <= 1e-5, `loss ${out.loss!.item()} vs PyTorch ${cls.loss}`);
  out.loss!.backward();
  const expected = fromBertCheckpoint(tensorsOf(cls.grads), model, ROBERTA_NAMING);
  for (const [name, p] of model.namedParameters())
    assertClose(p.grad!, expected[name]!, { rtol: 1e-3, atol: 1e-5 }, `d loss/d ${name}`);
  // toBertCheckpoint writes the same names back, and the parameter count is the trunk's without pooler + the head's
  assert.deepEqual(
    Object.keys(toBertCheckpoint(model.stateDict(), model, ROBERTA_NAMING)).sort(),
    Object.keys(cls.state).sort(),
  );
  const C = fxConfig.dModel;
  assert.equal(model.numParameters(), countParameters(fxConfig, { pooler: false }) + C * C + C + 3 * C + 3);
  // a bad target shape names the model and the shapes
  assertThrowsWith(
    () => model.forward(fromJson(cls.idx), { targets: tensor([[1, 0, 1]], { dtype: "int32" }) }),
    ShapeError,
    /RobertaForSequenceClassification: targets \(1,3\) must be \(B\) = \(3\)/,
  );
});

test("RoBERTa overrides only the embeddings: the position table's padding row learns nothing", () => {
  const model = new RobertaForMaskedLM(fxConfig, gen());
  assert.ok(model.encoder.embeddings instanceof RobertaEmbeddings);
  assert.equal(model.encoder.embeddings.posEmb.paddingIdx, 1);
  model
    .forward(fromJson(fx.idx), { attentionMask: fromJson(fx.attention_mask), targets: fromJson(fx.mlm_labels) })
    .loss!.backward();
  const C = fxConfig.dModel,
    dPos = model.encoder.embeddings.posEmb.weight.grad!;
  assert.ok(
    dPos.storage.subarray(C, 2 * C).every((x) => x === 0),
    "row padId of d posEmb",
  );
  assert.ok(
    dPos.storage.subarray(2 * C, 3 * C).some((x) => x !== 0),
    "row padId + 1 learns",
  );
});

test("RoBERTa overfits one MLM batch", () => {
  const config = robertaConfig("tiny", {
    vocabSize: 19,
    maxPositions: 18,
    nLayer: 2,
    nHead: 2,
    dModel: 32,
    dFF: 64,
    dropout: 0,
  });
  const model = new RobertaForMaskedLM(config, { generator: new Generator(5) });
  overfitsOneMlmBatch(model, { lowestToken: 2, seed: 6 });
});

test("roberta-base has 124,645,632 parameters (RobertaModel with pooler), counted without allocating; the count equals the allocated models'", () => {
  assert.equal(countParameters(PRESETS["roberta-base"]), 124_645_632);
  for (const c of [fxConfig, robertaConfig("tiny")]) {
    assert.equal(new RobertaModel(c, gen()).numParameters(), countParameters(c));
    assert.equal(
      new RobertaForMaskedLM(c, gen()).numParameters(),
      countParameters(c, { pooler: false, mlmHead: true }),
    );
  }
  assert.equal(
    countParameters(fxConfig, { mlmHead: true }),
    Object.values(fx.state).reduce((n, t) => n + t.data.length, 0),
  );
  assertThrowsWith(
    () => robertaConfig("tiny", { maxPositions: 2 }),
    ArgumentError,
    /maxPositions 2 leaves no position after padId 1/,
  );
});

test("weight map: roberta.* and lm_head.*, both ways; the tied decoder and position_ids skipped", () => {
  const mlm = new RobertaForMaskedLM(fxConfig, { generator: new Generator(12) });
  const ours = mlm.stateDict();
  const theirs = toBertCheckpoint(ours, mlm, ROBERTA_NAMING);
  assert.deepEqual(
    Object.keys(theirs).sort(),
    Object.keys(fx.state)
      .filter((k) => !k.includes("pooler"))
      .sort(),
  );
  assert.ok(
    "roberta.encoder.layer.0.attention.self.key.bias" in theirs &&
      "lm_head.layer_norm.weight" in theirs &&
      "lm_head.bias" in theirs,
  );
  const full = {
    ...theirs,
    "lm_head.decoder.weight": theirs["roberta.embeddings.word_embeddings.weight"]!,
    "lm_head.decoder.bias": theirs["lm_head.bias"]!,
    "roberta.embeddings.position_ids": tensor([[0]]),
  };
  const fresh = new RobertaForMaskedLM(fxConfig, { generator: new Generator(13) });
  fresh.loadStateDict(fromBertCheckpoint(full, fresh, ROBERTA_NAMING));
  for (const [k, t] of Object.entries(fresh.stateDict())) assert.deepEqual(t.storage, ours[k]!.storage, k);
  // BERT's names are refused by the RoBERTa naming
  assertThrowsWith(
    () =>
      fromBertCheckpoint(
        tensorsOf(Object.fromEntries(Object.entries(fx.state).map(([k, v]) => [k.replace(/^roberta\./, "bert."), v]))),
        mlm,
        ROBERTA_NAMING,
      ),
    ArgumentError,
    /unexpected keys.*bert\.embeddings/,
  );
  const m = new RobertaModel(fxConfig, gen());
  assert.equal(weightMap(m, ROBERTA_NAMING).length, Object.keys(m.stateDict()).length);
});
