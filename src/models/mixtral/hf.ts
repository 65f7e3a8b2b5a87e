// Mixtral's Hugging Face family (mistralai/Mixtral-8x7B-v0.1's config.json): LLaMA's fields and the router's,
// the model to build, the weight map of model.ts, the extra tensors its files carry. src/models/hf.ts lists it.

import { type HFFamily, withPrefix } from "../hf-family.js";
import {
  Mixtral,
  mixtralConfig,
  countParameters as mixtralCount,
  fromMixtralCheckpoint,
  toMixtralCheckpoint,
  type MixtralConfig,
} from "./model.js";

export const hfFamily: HFFamily<"mixtral", MixtralConfig, Mixtral> = {
  kind: "mixtral",
  modelTypes: ["mixtral"],
  role: "decoder",
  tiedHead: false,
  extras: [
    {
      pattern: /^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/,
      why: "the rotary frequencies, a buffer recomputed from rope_theta",
    },
  ],
  alias: (name) => withPrefix("model", name),
  readConfig(r) {
    r.only("hidden_act", "silu", ["silu"], "the experts are SwiGLU");
    r.only("rope_scaling", null, [null], "RoPE without scaling");
    r.only("sliding_window", null, [null], "attention over the whole context, as the released Mixtral 8x7B");
    r.only(
      "output_router_logits",
      false,
      [false, true],
      "whether HF returns the router logits; the loss always holds the load-balancing term",
    );
    r.known("attention_dropout", "router_jitter_noise"); // training-time dropout and router noise
    const C = r.int("hidden_size"),
      nh = r.int("num_attention_heads");
    if (r.has("head_dim")) r.only("head_dim", C / nh, [C / nh], "the head size is hidden_size / num_attention_heads");
    else r.known("head_dim");
    return r.build(() =>
      mixtralConfig({
        vocabSize: r.int("vocab_size"),
        blockSize: r.int("max_position_embeddings", 4096 * 32),
        nLayer: r.int("num_hidden_layers"),
        nHead: nh,
        nKvHeads: r.int("num_key_value_heads", nh),
        nEmbd: C,
        intermediateSize: r.int("intermediate_size"),
        nExperts: r.int("num_local_experts"),
        topK: r.int("num_experts_per_tok"),
        routerAuxLossCoef: r.num("router_aux_loss_coef", 0.001),
        normEps: r.num("rms_norm_eps", 1e-5),
        ropeTheta: r.num("rope_theta", 1e6),
        dropout: 0,
      }),
    );
  },
  writeConfig(c) {
    return {
      model_type: "mixtral",
      architectures: ["MixtralForCausalLM"],
      vocab_size: c.vocabSize,
      hidden_size: c.nEmbd,
      intermediate_size: c.intermediateSize,
      num_hidden_layers: c.nLayer,
      num_attention_heads: c.nHead,
      num_key_value_heads: c.nKvHeads,
      max_position_embeddings: c.blockSize,
      num_local_experts: c.nExperts,
      num_experts_per_tok: c.topK,
      router_aux_loss_coef: c.routerAuxLossCoef,
      output_router_logits: false,
      rms_norm_eps: c.normEps,
      rope_theta: c.ropeTheta,
      hidden_act: "silu",
      tie_word_embeddings: false,
      sliding_window: null,
    };
  },
  count: (c) => mixtralCount(c),
  build: (c) => new Mixtral(c),
  toHF: (m, c) => toMixtralCheckpoint(m.stateDict(), c),
  fromHF: (s, _m, c) => fromMixtralCheckpoint(s, c),
};
