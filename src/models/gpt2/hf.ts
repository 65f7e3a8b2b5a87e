// GPT-2's Hugging Face family: config.json ↔ our config, the model to build, the weight map of model.ts,
// the extra tensors its files carry and the other spellings of its tensor names. src/models/hf.ts lists it.

import { ArgumentError } from "../../engine/errors.js";
import { type HFFamily, dropout, withPrefix, copyOf } from "../hf-family.js";
import {
  GPT,
  gptConfig,
  countParameters as gptCount,
  fromGPT2Checkpoint,
  toGPT2Checkpoint,
  type GPTConfig,
} from "./model.js";

export const hfFamily: HFFamily<"gpt2", GPTConfig, GPT> = {
  kind: "gpt2",
  modelTypes: ["gpt2"],
  role: "decoder",
  tiedHead: true,
  extras: [
    copyOf("lm_head.weight", "transformer.wte.weight", "the head, tied to wte"),
    { pattern: /^transformer\.h\.\d+\.attn\.(bias|masked_bias)$/, why: "causal-mask buffers of older files" },
  ],
  alias: (name) => withPrefix("transformer", name),
  readConfig(r) {
    r.only("activation_function", "gelu_new", ["gelu_new", "gelu_pytorch_tanh"], "GPT-2's MLP uses the tanh GELU");
    r.only("layer_norm_epsilon", 1e-5, [1e-5], "our LayerNorms use ε = 1e-5");
    r.only("scale_attn_weights", true, [true], "attention is scaled by 1/√hs");
    r.only("scale_attn_by_inverse_layer_idx", false, [false], "no per-layer attention scaling");
    r.only("reorder_and_upcast_attn", false, [false], "float32 attention throughout");
    r.only("add_cross_attention", false, [false], "a decoder-only model");
    r.known(
      "n_ctx",
      "attn_pdrop",
      "embd_pdrop",
      "summary_type",
      "summary_use_proj",
      "summary_activation",
      "summary_proj_to_labels",
      "summary_first_dropout",
    );
    const C = r.int("n_embd");
    if (r.has("n_inner")) r.only("n_inner", 4 * C, [4 * C], "the MLP is 4× wide");
    else r.known("n_inner");
    return r.build(() =>
      gptConfig({
        vocabSize: r.int("vocab_size"),
        blockSize: r.int("n_positions"),
        nLayer: r.int("n_layer"),
        nHead: r.int("n_head"),
        nEmbd: C,
        dropout: dropout(r, "resid_pdrop"),
        bias: true,
      }),
    );
  },
  writeConfig(c) {
    if (!c.bias)
      throw new ArgumentError("toHFFiles: Hugging Face's GPT-2 always has biases; this config has bias: false");
    return {
      model_type: "gpt2",
      architectures: ["GPT2LMHeadModel"],
      vocab_size: c.vocabSize,
      n_positions: c.blockSize,
      n_ctx: c.blockSize,
      n_embd: c.nEmbd,
      n_layer: c.nLayer,
      n_head: c.nHead,
      n_inner: null,
      activation_function: "gelu_new",
      layer_norm_epsilon: 1e-5,
      resid_pdrop: c.dropout,
      embd_pdrop: c.dropout,
      attn_pdrop: c.dropout,
    };
  },
  count: (c) => gptCount(c),
  build: (c) => new GPT(c),
  toHF: (m, c) => toGPT2Checkpoint(m.stateDict(), c),
  fromHF: (s, _m, c) => fromGPT2Checkpoint(s, c),
};
