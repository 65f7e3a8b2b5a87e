// DeBERTa-v2/v3's Hugging Face family: config.json ↔ our config, the model to build, the weight map of model.ts,
// the extra tensors its files carry and the other spellings of its tensor names. src/models/hf.ts lists it.

import { LoadError } from "../../engine/errors.js";
import { type HFFamily, dropout, MASK_HEAD, mlmDecoderCopies } from "../hf-family.js";
import {
  DebertaForMaskedLM,
  DebertaModel,
  debertaConfig,
  countParameters as debertaCount,
  fromDebertaCheckpoint as fromDeberta,
  toDebertaCheckpoint as toDeberta,
  type DebertaConfig,
} from "./model.js";

export const hfFamily: HFFamily<"deberta", DebertaConfig, DebertaForMaskedLM | DebertaModel> = {
  kind: "deberta",
  modelTypes: ["deberta-v2"],
  role: "encoder",
  tiedHead: true,
  extras: [
    ...mlmDecoderCopies("cls.predictions", "deberta"),
    { pattern: /^deberta\.embeddings\.position_ids$/, why: "a buffer" },
    { pattern: /^mask_predictions\./, why: "DeBERTa-v3's replaced-token-detection head, which no model here has" },
  ],
  // DeBERTa's non-legacy MLM head names: the same dense → GELU → LayerNorm → tied decoder + bias as cls.predictions.*
  alias(name) {
    const head = /^lm_predictions\.lm_head\.(dense\.(weight|bias)|LayerNorm\.(weight|bias)|bias)$/.exec(name);
    if (head) return head[1] === "bias" ? "cls.predictions.bias" : `cls.predictions.transform.${head[1]}`;
    return /^(embeddings|encoder|pooler)\./.test(name) ? `deberta.${name}` : name;
  },
  readConfig(r) {
    r.only("hidden_act", "gelu", ["gelu"], "the FFN uses the exact GELU");
    r.only("relative_attention", false, [true], "disentangled attention over relative positions");
    r.only("position_biased_input", true, [false], "no absolute positions in the input (v3)");
    r.only("norm_rel_ebd", "none", ["layer_norm"], "the relative table is LayerNorm'ed");
    r.only("share_att_key", false, [true], "positions are projected by the content W_q, W_k");
    const pos = r.has("pos_att_type") ? r.json.pos_att_type : null;
    const parts = typeof pos === "string" ? pos.toLowerCase().split("|") : Array.isArray(pos) ? pos : [];
    if (parts.length !== 2 || !parts.includes("p2c") || !parts.includes("c2p")) {
      throw new LoadError(
        `config.json (model_type "deberta-v2"): pos_att_type is ${JSON.stringify(pos)}, which writtingNNs does not support (supported: ["p2c", "c2p"])`,
      );
    }
    r.known("pos_att_type");
    r.only("conv_kernel_size", 0, [0], "no convolution beside the first layer (v3)");
    const C = r.int("hidden_size");
    r.only("embedding_size", C, [C], "the embedding is hidden_size wide (no projection)");
    r.known(
      "attention_probs_dropout_prob",
      "pooler_dropout",
      "pooler_hidden_act",
      "pooler_hidden_size",
      "conv_act",
      "conv_groups",
      "legacy",
    );
    const maxRel = r.int("max_relative_positions", -1);
    return r.build(() =>
      debertaConfig({
        vocabSize: r.int("vocab_size"),
        typeVocabSize: r.int("type_vocab_size", 0),
        nLayer: r.int("num_hidden_layers"),
        nHead: r.int("num_attention_heads"),
        dModel: C,
        dFF: r.int("intermediate_size"),
        positionBuckets: r.int("position_buckets"),
        maxRelativePositions: maxRel >= 1 ? maxRel : r.int("max_position_embeddings"), // Hugging Face: < 1 means max_position_embeddings
        dropout: dropout(r, "hidden_dropout_prob"),
        layerNormEps: r.num("layer_norm_eps", 1e-7),
        padId: r.int("pad_token_id", 0),
      }),
    );
  },
  writeConfig(c, m) {
    return {
      model_type: "deberta-v2",
      architectures: [m instanceof DebertaForMaskedLM ? "DebertaV2ForMaskedLM" : "DebertaV2Model"],
      vocab_size: c.vocabSize,
      hidden_size: c.dModel,
      num_hidden_layers: c.nLayer,
      num_attention_heads: c.nHead,
      intermediate_size: c.dFF,
      hidden_act: "gelu",
      hidden_dropout_prob: c.dropout,
      attention_probs_dropout_prob: c.dropout,
      max_position_embeddings: c.maxRelativePositions,
      max_relative_positions: -1,
      position_buckets: c.positionBuckets,
      relative_attention: true,
      pos_att_type: ["p2c", "c2p"],
      norm_rel_ebd: "layer_norm",
      share_att_key: true,
      position_biased_input: false,
      type_vocab_size: c.typeVocabSize,
      layer_norm_eps: c.layerNormEps,
      pad_token_id: c.padId,
    };
  },
  count: (c) => debertaCount(c, { mlmHead: true }),
  build: (c, names) => ([...names].some((n) => MASK_HEAD.test(n)) ? new DebertaForMaskedLM(c) : new DebertaModel(c)),
  toHF: (m) => toDeberta(m.stateDict(), m),
  fromHF: (s, m) => fromDeberta(s, m),
};
