// BLOOM's Hugging Face family: config.json ↔ our config, the model to build, the weight map of model.ts,
// the extra tensors its files carry and the other spellings of its tensor names. src/models/hf.ts lists it.

import { ArgumentError } from "../../engine/errors.js";
import { type HFFamily, dropout, withPrefix, copyOf } from "../hf-family.js";
import {
  Bloom,
  bloomConfig,
  countParameters as bloomCount,
  fromBloomCheckpoint,
  toBloomCheckpoint,
  type BloomConfig,
} from "./model.js";

export const hfFamily: HFFamily<"bloom", BloomConfig, Bloom> = {
  kind: "bloom",
  modelTypes: ["bloom"],
  role: "decoder",
  tiedHead: true,
  extras: [copyOf("lm_head.weight", "transformer.word_embeddings.weight", "the head, tied to word_embeddings")],
  alias: (name) => withPrefix("transformer", name),
  readConfig(r) {
    r.only("apply_residual_connection_post_layernorm", false, [false], "the residual is taken before the LayerNorm");
    r.only("layer_norm_epsilon", 1e-5, [1e-5], "our LayerNorms use ε = 1e-5");
    r.only("n_inner", null, [null], "the MLP is 4× wide");
    r.known(
      "attention_dropout",
      "attention_softmax_in_fp32",
      "bias_dropout_fusion",
      "masked_softmax_fusion",
      "offset_alibi",
      "pretraining_tp",
      "skip_bias_add",
      "skip_bias_add_qkv",
      "slow_but_exact",
    );
    return r.build(() =>
      bloomConfig({
        vocabSize: r.int("vocab_size"),
        blockSize: r.int("seq_length", 2048),
        nLayer: r.int(["n_layer", "num_hidden_layers"]),
        nHead: r.int(["n_head", "num_attention_heads"]),
        nEmbd: r.int(["hidden_size", "n_embed"]),
        dropout: dropout(r, "hidden_dropout"),
        bias: true,
      }),
    );
  },
  writeConfig(c) {
    if (!c.bias)
      throw new ArgumentError("toHFFiles: Hugging Face's BLOOM always has biases; this config has bias: false");
    return {
      model_type: "bloom",
      architectures: ["BloomForCausalLM"],
      vocab_size: c.vocabSize,
      hidden_size: c.nEmbd,
      n_layer: c.nLayer,
      n_head: c.nHead,
      seq_length: c.blockSize,
      layer_norm_epsilon: 1e-5,
      apply_residual_connection_post_layernorm: false,
      hidden_dropout: c.dropout,
      attention_dropout: c.dropout,
    };
  },
  count: (c) => bloomCount(c),
  build: (c) => new Bloom(c),
  toHF: (m, c) => toBloomCheckpoint(m.stateDict(), c),
  fromHF: (s, _m, c) => fromBloomCheckpoint(s, c),
};
