// LLaMA's Hugging Face family: config.json ↔ our config, the model to build, the weight map of model.ts,
// the extra tensors its files carry and the other spellings of its tensor names. src/models/hf.ts lists it.

import { type HFFamily, withPrefix } from "../hf-family.js";
import {
  Llama,
  llamaConfig,
  countParameters as llamaCount,
  fromLlamaCheckpoint,
  intermediateSize,
  toLlamaCheckpoint,
  type LlamaConfig,
} from "./model.js";

export const hfFamily: HFFamily<"llama", LlamaConfig, Llama> = {
  kind: "llama",
  modelTypes: ["llama"],
  role: "decoder",
  tiedHead: "copy",
  extras: [
    {
      pattern: /^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/,
      why: "the rotary frequencies, a buffer recomputed from rope_theta",
    },
  ],
  alias: (name) => withPrefix("model", name),
  readConfig(r) {
    r.only("hidden_act", "silu", ["silu"], "the MLP is SwiGLU");
    r.only("rope_scaling", null, [null], "RoPE without scaling");
    r.only("attention_bias", false, [false], "LLaMA's projections have no bias");
    r.only("mlp_bias", false, [false], "LLaMA's MLP has no bias");
    r.known("pretraining_tp", "attention_dropout"); // tensor-parallel slicing of the same matmuls; training dropout
    const C = r.int("hidden_size"),
      nh = r.int("num_attention_heads");
    if (r.has("head_dim")) r.only("head_dim", C / nh, [C / nh], "the head size is hidden_size / num_attention_heads");
    else r.known("head_dim");
    return r.build(() =>
      llamaConfig({
        vocabSize: r.int("vocab_size"),
        blockSize: r.int("max_position_embeddings", 2048),
        nLayer: r.int("num_hidden_layers"),
        nHead: nh,
        nKvHeads: r.int("num_key_value_heads", nh),
        nEmbd: C,
        intermediateSize: r.int("intermediate_size"),
        multipleOf: 256,
        normEps: r.num("rms_norm_eps", 1e-6),
        ropeTheta: r.num("rope_theta", 10000),
        dropout: 0,
      }),
    );
  },
  writeConfig(c) {
    return {
      model_type: "llama",
      architectures: ["LlamaForCausalLM"],
      vocab_size: c.vocabSize,
      hidden_size: c.nEmbd,
      intermediate_size: intermediateSize(c),
      num_hidden_layers: c.nLayer,
      num_attention_heads: c.nHead,
      num_key_value_heads: c.nKvHeads,
      max_position_embeddings: c.blockSize,
      rms_norm_eps: c.normEps,
      rope_theta: c.ropeTheta,
      hidden_act: "silu",
      tie_word_embeddings: false,
      attention_bias: false,
      mlp_bias: false,
    };
  },
  count: (c) => llamaCount(c),
  build: (c) => new Llama(c),
  toHF: (m, c) => toLlamaCheckpoint(m.stateDict(), c),
  fromHF: (s, _m, c) => fromLlamaCheckpoint(s, c),
  // tie_word_embeddings: the file holds no lm_head.weight; our untied head starts as a copy of the embedding
  defaults(s, _c, tied) {
    if (tied && !s["lm_head.weight"] && s["model.embed_tokens.weight"])
      s["lm_head.weight"] = s["model.embed_tokens.weight"];
  },
};
