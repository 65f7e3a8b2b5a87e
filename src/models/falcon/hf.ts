// Falcon's Hugging Face family: config.json ↔ our config, the model to build, the weight map of model.ts,
// the extra tensors its files carry and the other spellings of its tensor names. src/models/hf.ts lists it.

import { type HFFamily, dropout, withPrefix, copyOf } from "../hf-family.js";
import {
  Falcon,
  falconConfig,
  countParameters as falconCount,
  fromFalconCheckpoint,
  toFalconCheckpoint,
  type FalconConfig,
} from "./model.js";

export const hfFamily: HFFamily<"falcon", FalconConfig, Falcon> = {
  kind: "falcon",
  modelTypes: ["falcon"],
  role: "decoder",
  tiedHead: true,
  extras: [copyOf("lm_head.weight", "transformer.word_embeddings.weight", "the head, tied to word_embeddings")],
  alias: (name) => withPrefix("transformer", name),
  readConfig(r) {
    r.only("multi_query", true, [true], "Falcon here is the 7B layout: one key/value head");
    r.only(
      "new_decoder_architecture",
      false,
      [false],
      "the 7B layout (40B/180B's grouped heads and two LayerNorms are not built)",
    );
    r.only("parallel_attn", true, [true], "attention and MLP read the same LayerNorm in parallel");
    r.only("alibi", false, [false], "rotary positions");
    r.only("rope_scaling", null, [null], "RoPE without scaling");
    r.only("activation", "gelu", ["gelu"], "the MLP uses the exact GELU");
    r.only("layer_norm_epsilon", 1e-5, [1e-5], "our LayerNorms use ε = 1e-5");
    r.only("apply_residual_connection_post_layernorm", false, [false], "the residual is taken before the LayerNorm");
    r.only("num_ln_in_parallel_attn", null, [null, 1], "one LayerNorm per block");
    r.known("num_kv_heads", "attention_dropout"); // with multi_query and the old layout Hugging Face uses one KV head whatever num_kv_heads says
    const C = r.int("hidden_size");
    r.only("ffn_hidden_size", null, [null, 4 * C], "the MLP is 4× wide");
    return r.build(() =>
      falconConfig({
        vocabSize: r.int("vocab_size"),
        blockSize: r.int("max_position_embeddings", 2048),
        nLayer: r.int(["num_hidden_layers", "n_layer"]),
        nHead: r.int(["num_attention_heads", "n_head"]),
        nEmbd: C,
        dropout: dropout(r, "hidden_dropout"),
        bias: r.bool("bias", false),
        ropeTheta: r.num("rope_theta", 10000),
      }),
    );
  },
  writeConfig(c) {
    return {
      model_type: "falcon",
      architectures: ["FalconForCausalLM"],
      vocab_size: c.vocabSize,
      hidden_size: c.nEmbd,
      num_hidden_layers: c.nLayer,
      num_attention_heads: c.nHead,
      multi_query: true,
      new_decoder_architecture: false,
      parallel_attn: true,
      alibi: false,
      bias: c.bias,
      layer_norm_epsilon: 1e-5,
      rope_theta: c.ropeTheta,
      max_position_embeddings: c.blockSize,
      hidden_dropout: c.dropout,
      attention_dropout: c.dropout,
      tie_word_embeddings: true,
    };
  },
  count: (c) => falconCount(c),
  build: (c) => new Falcon(c),
  toHF: (m, c) => toFalconCheckpoint(m.stateDict(), c),
  fromHF: (s, _m, c) => fromFalconCheckpoint(s, c),
};
