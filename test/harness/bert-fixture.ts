// The BERT/RoBERTa fixture (tools/fixtures/bert.py → test/fixtures/models/bert.json) and the parity
// checks that src/models/bert/bert.test.ts and src/models/roberta/roberta.test.ts share.

import { readFileSync } from "node:fs";
import assert from "node:assert/strict";
import { noGrad, type Tensor } from "../../src/index.js";
import { assertClose } from "./assert.js";
import { fromJson, tensorsOf, type TensorJson } from "./fixtures.js";
import {
  BertForMaskedLM,
  BertForSequenceClassification,
  BertForTokenClassification,
  BertModel,
  bertConfig,
  fromBertCheckpoint,
  weightMap,
  type BertConfig,
} from "../../src/models/bert/model.js";

export interface ModelFixture {
  config: {
    vocab_size: number;
    max_positions: number;
    type_vocab_size: number;
    n_layer: number;
    n_head: number;
    d_model: number;
    d_ff: number;
    layer_norm_eps: number;
    pad_id: number;
  };
  state: Record<string, TensorJson>;
  seq_classifier: Record<string, TensorJson>;
  tok_classifier: Record<string, TensorJson>;
  idx: TensorJson;
  token_type_ids: TensorJson;
  attention_mask: TensorJson;
  position_ids: TensorJson;
  hidden: TensorJson;
  pooled: TensorJson;
  mlm_labels: TensorJson;
  mlm_logits: TensorJson;
  mlm_loss: number;
  mlm_grads: Record<string, TensorJson>;
  seq_labels: TensorJson;
  seq_logits: TensorJson;
  seq_loss: number;
  seq_grads: Record<string, TensorJson>;
  tok_labels: TensorJson;
  tok_logits: TensorJson;
  tok_loss: number;
}

export const fixtures = JSON.parse(
  readFileSync(new URL("../../../test/fixtures/models/bert.json", import.meta.url), "utf8"),
) as { bert: ModelFixture; roberta: ModelFixture };

export function configOf(fx: ModelFixture): BertConfig {
  const c = fx.config;
  return bertConfig({
    vocabSize: c.vocab_size,
    maxPositions: c.max_positions,
    typeVocabSize: c.type_vocab_size,
    nLayer: c.n_layer,
    nHead: c.n_head,
    dModel: c.d_model,
    dFF: c.d_ff,
    dropout: 0,
    layerNormEps: c.layer_norm_eps,
    padId: c.pad_id,
  });
}

/** A checkpoint's state dict holding only the keys that `model` maps (drop the other head's). */
export function load(
  model: BertModel | BertForMaskedLM | BertForSequenceClassification | BertForTokenClassification,
  state: Record<string, Tensor>,
  naming?: Parameters<typeof fromBertCheckpoint>[2],
): void {
  model.loadStateDict(fromBertCheckpoint(state, model, naming));
}

/** The checks shared by BERT and RoBERTa: every output of the fixture, every gradient of the MLM loss. */
export function checkParity(
  fx: ModelFixture,
  make: {
    model: (c: BertConfig) => BertModel;
    mlm: (c: BertConfig) => BertForMaskedLM;
    /** BERT's pooler + Linear head (RoBERTa has a head of its own, checked against tools/fixtures/roberta_cls.py) */
    seq?: (c: BertConfig, k: number) => BertForSequenceClassification;
    tok: (c: BertConfig, k: number) => BertForTokenClassification;
  },
  naming?: Parameters<typeof fromBertCheckpoint>[2],
): void {
  const c = configOf(fx);
  const state = tensorsOf(fx.state);
  const inputs = { tokenTypeIds: fromJson(fx.token_type_ids), attentionMask: fromJson(fx.attention_mask) };
  const idx = fromJson(fx.idx);
  const headless = Object.fromEntries(Object.entries(state).filter(([k]) => !/^(cls|lm_head)\./.test(k)));

  // the trunk with the pooler: sequence output (padding included) and pooled vector
  const model = make.model(c);
  load(model, headless, naming);
  const { hidden, pooled } = noGrad(() => model.forward(idx, inputs));
  assertClose(hidden, fromJson(fx.hidden), { atol: 1e-4, rtol: 0 }, "sequence output");
  assertClose(pooled!, fromJson(fx.pooled), { atol: 1e-4, rtol: 0 }, "pooled");

  // masked LM: logits, loss over the labelled positions, every parameter's gradient
  const mlm = make.mlm(c);
  const noPooler = Object.fromEntries(Object.entries(state).filter(([k]) => !k.includes(".pooler.")));
  load(mlm, noPooler, naming);
  const out = mlm.forward(idx, { ...inputs, targets: fromJson(fx.mlm_labels) });
  assertClose(out.logits, fromJson(fx.mlm_logits), { atol: 1e-4, rtol: 0 }, "MLM logits");
  assert.ok(Math.abs(out.loss!.item() - fx.mlm_loss) <= 1e-5, `MLM loss ${out.loss!.item()} vs PyTorch ${fx.mlm_loss}`);
  out.loss!.backward();
  const expected = fromBertCheckpoint(tensorsOf(fx.mlm_grads), mlm, naming);
  const params = mlm.namedParameters();
  assert.deepEqual(params.map(([n]) => n).sort(), Object.keys(expected).sort());
  for (const [name, p] of params) assertClose(p.grad!, expected[name]!, { rtol: 1e-3, atol: 1e-5 }, `d loss/d ${name}`);

  // sequence classification: logits, loss, the pooler's and the classifier's gradients
  if (make.seq) {
    const seq = make.seq(c, 3);
    load(seq, { ...headless, ...tensorsOf(fx.seq_classifier) }, naming);
    const s = seq.forward(idx, { ...inputs, targets: fromJson(fx.seq_labels) });
    assertClose(s.logits, fromJson(fx.seq_logits), { atol: 1e-4, rtol: 0 }, "sequence logits");
    assert.ok(Math.abs(s.loss!.item() - fx.seq_loss) <= 1e-5, `sequence loss ${s.loss!.item()} vs ${fx.seq_loss}`);
    s.loss!.backward();
    const seqNames = Object.fromEntries(weightMap(seq, naming).map(([o, t]) => [t, o]));
    for (const [theirs, g] of Object.entries(fx.seq_grads)) {
      const p = seq.namedParameters().find(([n]) => n === seqNames[theirs])![1];
      assertClose(p.grad!, fromJson(g), { rtol: 1e-3, atol: 1e-5 }, `d seq loss/d ${theirs}`);
    }
  }

  // token classification: logits and the loss with −100 at the padding
  const tok = make.tok(c, 4);
  load(
    tok,
    {
      ...Object.fromEntries(Object.entries(noPooler).filter(([k]) => !/^(cls|lm_head)\./.test(k))),
      ...tensorsOf(fx.tok_classifier),
    },
    naming,
  );
  const tk = noGrad(() => tok.forward(idx, { ...inputs, targets: fromJson(fx.tok_labels) }));
  assertClose(tk.logits, fromJson(fx.tok_logits), { atol: 1e-4, rtol: 0 }, "token logits");
  assert.ok(Math.abs(tk.loss!.item() - fx.tok_loss) <= 1e-5, `token loss ${tk.loss!.item()} vs ${fx.tok_loss}`);
}
