// T5's Hugging Face family: config.json ↔ our config, the model to build, the weight map of model.ts,
// the extra tensors its files carry and the other spellings of its tensor names. src/models/hf.ts lists it.

import { LoadError } from "../../engine/errors.js";
import { type HFFamily, dropout, copyOf } from "../hf-family.js";
import { T5, t5Config, countParameters as t5Count, fromT5Checkpoint, toT5Checkpoint, type T5Config } from "./model.js";

export const hfFamily: HFFamily<"t5", T5Config, T5> = {
  kind: "t5",
  modelTypes: ["t5"],
  role: "seq2seq",
  extras: [
    copyOf("encoder.embed_tokens.weight", "shared.weight", "a copy of shared.weight"),
    copyOf("decoder.embed_tokens.weight", "shared.weight", "a copy of shared.weight"),
    copyOf("lm_head.weight", "shared.weight", "the v1.0 head, tied to shared.weight"), // with tie_word_embeddings false it is a weight, expected
    {
      pattern: /^decoder\.block\.0\.layer\.1\.EncDecAttention\.relative_attention_bias\.weight$/,
      why: "an unused table of older T5 files (cross-attention has no position bias)",
    },
  ],
  readConfig(r) {
    const ff = r.str("feed_forward_proj", "relu");
    if (ff !== "relu" && ff !== "gated-gelu") {
      throw new LoadError(
        `config.json (model_type "t5"): feed_forward_proj is ${JSON.stringify(ff)}, which writtingNNs does not support (supported: "relu" for T5 v1.0, "gated-gelu" for v1.1)`,
      );
    }
    // derived from feed_forward_proj by Hugging Face; when written they must agree with it
    r.only(
      "dense_act_fn",
      ff === "relu" ? "relu" : "gelu_new",
      [ff === "relu" ? "relu" : "gelu_new"],
      "it follows feed_forward_proj",
    );
    r.only("is_gated_act", ff !== "relu", [ff !== "relu"], "it follows feed_forward_proj");
    r.only("is_encoder_decoder", true, [true], "an encoder-decoder");
    r.known("n_positions", "classifier_dropout");
    const layers = r.int("num_layers");
    return r.build(() =>
      t5Config({
        vocabSize: r.int("vocab_size"),
        nEncoderLayer: layers,
        nDecoderLayer: r.int("num_decoder_layers", layers),
        nHead: r.int("num_heads"),
        dModel: r.int("d_model"),
        dKv: r.int("d_kv"),
        dFF: r.int("d_ff"),
        numBuckets: r.int("relative_attention_num_buckets", 32),
        maxDistance: r.int("relative_attention_max_distance", 128),
        dropout: dropout(r, "dropout_rate"),
        eps: r.num("layer_norm_epsilon", 1e-6),
        feedForward: ff,
        tieHead: r.bool("tie_word_embeddings", true),
        padId: r.int("pad_token_id", 0),
        eosId: r.int("eos_token_id", 1),
        decoderStartId: r.int("decoder_start_token_id", 0),
      }),
    );
  },
  writeConfig(c) {
    return {
      model_type: "t5",
      architectures: ["T5ForConditionalGeneration"],
      vocab_size: c.vocabSize,
      d_model: c.dModel,
      d_kv: c.dKv,
      d_ff: c.dFF,
      num_layers: c.nEncoderLayer,
      num_decoder_layers: c.nDecoderLayer,
      num_heads: c.nHead,
      relative_attention_num_buckets: c.numBuckets,
      relative_attention_max_distance: c.maxDistance,
      dropout_rate: c.dropout,
      layer_norm_epsilon: c.eps,
      feed_forward_proj: c.feedForward,
      tie_word_embeddings: c.tieHead,
      is_encoder_decoder: true,
      pad_token_id: c.padId,
      eos_token_id: c.eosId,
      decoder_start_token_id: c.decoderStartId,
    };
  },
  count: (c) => t5Count(c),
  build: (c) => new T5(c),
  toHF: (m, c) => toT5Checkpoint(m.stateDict(), c),
  fromHF: (s, _m, c) => fromT5Checkpoint(s, c),
};
