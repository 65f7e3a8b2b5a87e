// BART's Hugging Face family: config.json ↔ our config, the model to build, the weight map of model.ts,
// the extra tensors its files carry and the other spellings of its tensor names. src/models/hf.ts lists it.

import { ArgumentError, LoadError } from "../../engine/errors.js";
import { zeros } from "../../engine/creation.js";
import { type HFFamily, dropout, copyOf } from "../hf-family.js";
import {
  Bart,
  bartConfig,
  countParameters as bartCount,
  fromBartCheckpoint as fromBart,
  toBartCheckpoint as toBart,
  type BartConfig,
} from "./model.js";

export const hfFamily: HFFamily<"bart", BartConfig, Bart> = {
  kind: "bart",
  modelTypes: ["bart"],
  role: "seq2seq",
  tiedHead: true,
  extras: [
    copyOf("model.encoder.embed_tokens.weight", "model.shared.weight", "a copy of model.shared.weight"),
    copyOf("model.decoder.embed_tokens.weight", "model.shared.weight", "a copy of model.shared.weight"),
    copyOf("lm_head.weight", "model.shared.weight", "the head, tied to model.shared.weight"),
  ],
  alias: (name) => (/^(shared|encoder|decoder)\./.test(name) ? `model.${name}` : name),
  readConfig(r) {
    r.only("activation_function", "gelu", ["gelu"], "the FFN uses the exact GELU");
    r.only("normalize_before", false, [false], "post-LN layers (mBART's pre-LN is not built)");
    r.only("add_final_layer_norm", false, [false], "no LayerNorm after the stacks");
    r.only("normalize_embedding", true, [true], "a LayerNorm on the embeddings");
    r.only("add_bias_logits", false, [false], "the logits' bias is final_logits_bias");
    r.only("is_encoder_decoder", true, [true], "an encoder-decoder");
    r.known(
      "num_hidden_layers",
      "encoder_layerdrop",
      "decoder_layerdrop",
      "classif_dropout",
      "static_position_embeddings",
      "extra_pos_embeddings",
    );
    const same = (a: string, b: string): number => {
      const x = r.int(a),
        y = r.int(b);
      if (x !== y)
        throw new LoadError(
          `config.json (model_type "bart"): ${a} ${x} and ${b} ${y} differ; writtingNNs' BART has one value for both stacks`,
        );
      return x;
    };
    return r.build(() =>
      bartConfig({
        vocabSize: r.int("vocab_size"),
        maxPositions: r.int("max_position_embeddings"),
        nEncoderLayer: r.int("encoder_layers"),
        nDecoderLayer: r.int("decoder_layers"),
        nHead: same("encoder_attention_heads", "decoder_attention_heads"),
        dModel: r.int("d_model"),
        dFF: same("encoder_ffn_dim", "decoder_ffn_dim"),
        dropout: dropout(r, "dropout"),
        attnDropout: dropout(r, "attention_dropout"),
        activationDropout: dropout(r, "activation_dropout"),
        scaleEmbedding: r.bool("scale_embedding", false),
        layerNormEps: 1e-5,
        padId: r.int("pad_token_id", 1),
        eosId: r.int("eos_token_id", 2),
        decoderStartId: r.int("decoder_start_token_id", 2),
        initStd: r.num("init_std", 0.02),
      }),
    );
  },
  writeConfig(c) {
    if (c.layerNormEps !== 1e-5)
      throw new ArgumentError(
        `toHFFiles: Hugging Face's BART has LayerNorm ε 1e-5 and no field for it; this config has ${c.layerNormEps}`,
      );
    return {
      model_type: "bart",
      architectures: ["BartForConditionalGeneration"],
      vocab_size: c.vocabSize,
      max_position_embeddings: c.maxPositions,
      encoder_layers: c.nEncoderLayer,
      decoder_layers: c.nDecoderLayer,
      encoder_attention_heads: c.nHead,
      decoder_attention_heads: c.nHead,
      encoder_ffn_dim: c.dFF,
      decoder_ffn_dim: c.dFF,
      d_model: c.dModel,
      dropout: c.dropout,
      attention_dropout: c.attnDropout,
      activation_dropout: c.activationDropout,
      activation_function: "gelu",
      scale_embedding: c.scaleEmbedding,
      normalize_before: false,
      add_final_layer_norm: false,
      normalize_embedding: true,
      add_bias_logits: false,
      is_encoder_decoder: true,
      pad_token_id: c.padId,
      eos_token_id: c.eosId,
      decoder_start_token_id: c.decoderStartId,
      init_std: c.initStd,
    };
  },
  count: (c) => bartCount(c),
  build: (c) => new Bart(c),
  toHF: (m, c) => toBart(m.stateDict(), c),
  fromHF: (s, _m, c) => fromBart(s, c),
  // BartModel files have no final_logits_bias; Hugging Face starts it at zeros, as we do
  defaults(s, c) {
    if (!s["final_logits_bias"]) s["final_logits_bias"] = zeros([1, c.vocabSize]);
  },
};
