// BERT's Hugging Face family: config.json ↔ our config, the model to build, the weight map of model.ts,
// the extra tensors its files carry and the other spellings of its tensor names. src/models/hf.ts lists it.

import {
  type HFFamily,
  type ConfigReader,
  type JsonValue,
  dropout,
  MASK_HEAD,
  mlmDecoderCopies,
} from "../hf-family.js";
import {
  BertForMaskedLM,
  BertModel,
  bertConfig,
  countParameters as bertCount,
  fromBertCheckpoint as fromBert,
  toBertCheckpoint as toBert,
  BERT_NAMING,
  type BertConfig,
} from "./model.js";

/** BERT's and RoBERTa's config.json: the same fields. */
export function readBertFields(r: ConfigReader): BertConfig {
  r.only("hidden_act", "gelu", ["gelu"], "the FFN uses the exact GELU");
  r.only("position_embedding_type", "absolute", ["absolute"], "learned absolute positions");
  r.only("is_decoder", false, [false], "an encoder");
  r.only("add_cross_attention", false, [false], "an encoder");
  r.known("attention_probs_dropout_prob");
  return {
    vocabSize: r.int("vocab_size"),
    maxPositions: r.int("max_position_embeddings"),
    typeVocabSize: r.int("type_vocab_size", 2),
    nLayer: r.int("num_hidden_layers"),
    nHead: r.int("num_attention_heads"),
    dModel: r.int("hidden_size"),
    dFF: r.int("intermediate_size"),
    dropout: dropout(r, "hidden_dropout_prob"),
    layerNormEps: r.num("layer_norm_eps", 1e-12),
    padId: r.int("pad_token_id", 0),
  };
}

export function writeBertFields(c: BertConfig): Record<string, JsonValue> {
  return {
    vocab_size: c.vocabSize,
    hidden_size: c.dModel,
    num_hidden_layers: c.nLayer,
    num_attention_heads: c.nHead,
    intermediate_size: c.dFF,
    hidden_act: "gelu",
    hidden_dropout_prob: c.dropout,
    attention_probs_dropout_prob: c.dropout,
    max_position_embeddings: c.maxPositions,
    type_vocab_size: c.typeVocabSize,
    layer_norm_eps: c.layerNormEps,
    pad_token_id: c.padId,
    position_embedding_type: "absolute",
  };
}

export const hfFamily: HFFamily<"bert", BertConfig, BertForMaskedLM | BertModel> = {
  kind: "bert",
  modelTypes: ["bert"],
  role: "encoder",
  tiedHead: true,
  extras: [
    ...mlmDecoderCopies("cls.predictions", "bert"),
    { pattern: /^cls\.seq_relationship\./, why: "the next-sentence head, which no model here has" },
    { pattern: /^bert\.embeddings\.position_ids$/, why: "a buffer 0..P−1" },
    { pattern: /^bert\.pooler\./, why: "the pooler, which the masked-LM model has none of" },
  ],
  alias: (name) => (/^(embeddings|encoder|pooler)\./.test(name) ? `bert.${name}` : name),
  readConfig: (r) => r.build(() => bertConfig(readBertFields(r))),
  writeConfig: (c, m) => ({
    model_type: "bert",
    architectures: [m instanceof BertForMaskedLM ? "BertForMaskedLM" : "BertModel"],
    ...writeBertFields(c),
  }),
  count: (c) => bertCount(c, { pooler: true, mlmHead: true }),
  build: (c, names) =>
    [...names].some((n) => MASK_HEAD.test(n))
      ? new BertForMaskedLM(c)
      : new BertModel(c, { pooler: names.has("bert.pooler.dense.weight") }),
  toHF: (m) => toBert(m.stateDict(), m, BERT_NAMING),
  fromHF: (s, m) => fromBert(s, m, BERT_NAMING),
};
