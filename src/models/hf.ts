// Hugging Face checkpoints for the zoo's Transformers: config.json ↔ our configs, and the checkpoint's
// tensors ↔ our models through each model's own weight map (the tables at the bottom of its model.ts).
// Browser-safe: it works on a parsed config and tensors already in memory; reading and writing the
// folder (config.json, model.safetensors or its shards, tokenizer.json) is src/io/hf-folder.ts.
//
//   const { config, tensors } = readHFFolder("gpt2/");         // writtingnns/node
//   const { kind, model } = fromPretrained({ config, tensors });  // kind "gpt2", model a GPT in eval mode
//   const files = toHFFiles("gpt2", model, model.config);        // and back: { config, tensors }
//
// config.json's "model_type" picks the family. Every field of the file is either read (and checked:
// a setting our model cannot express is a LoadError naming the field), or known not to change the
// network (generation defaults, token ids, dropout of other layers, ...). A field we do not know at
// all is a LoadError too: we cannot tell whether it changes the architecture.
//
// The tensors are checked strictly before anything is loaded: the names and shapes the model expects
// are those its weight map writes (`toX(model.stateDict())`), and every missing, unexpected or
// mis-shaped tensor is reported by name with both shapes. The few extras that Hugging Face files carry
// and that are not weights (causal-mask buffers, position ids, tied copies of the embedding) are listed
// in one table, EXTRAS, below.

import { zeros } from "../engine/creation.js";
import { ArgumentError, LoadError, WnnError } from "../engine/errors.js";
import { fmt } from "../engine/shape.js";
import type { Tensor } from "../engine/tensor.js";
import type { Module } from "../nn/module.js";
import { Bart, bartConfig, countParameters as bartCount, fromHuggingFace as fromBart, toHuggingFace as toBart, type BartConfig } from "./bart/model.js";
import { BertForMaskedLM, BertModel, bertConfig, countParameters as bertCount, fromCheckpoint as fromBert, toCheckpoint as toBert, BERT_NAMING, type BertConfig } from "./bert/model.js";
import { Bloom, bloomConfig, countParameters as bloomCount, fromBloomCheckpoint, toBloomCheckpoint, type BloomConfig } from "./bloom/model.js";
import { DebertaForMaskedLM, DebertaModel, debertaConfig, countParameters as debertaCount, fromCheckpoint as fromDeberta, toCheckpoint as toDeberta, type DebertaConfig } from "./deberta/model.js";
import { Falcon, falconConfig, countParameters as falconCount, fromFalconCheckpoint, toFalconCheckpoint, type FalconConfig } from "./falcon/model.js";
import { GPT, gptConfig, countParameters as gptCount, fromGPT2Checkpoint, toGPT2Checkpoint, type GPTConfig } from "./gpt2/model.js";
import { Llama, llamaConfig, countParameters as llamaCount, fromLlamaCheckpoint, intermediateSize, toLlamaCheckpoint, type LlamaConfig } from "./llama/model.js";
import { RobertaForMaskedLM, RobertaModel, robertaConfig, ROBERTA_NAMING, type RobertaConfig } from "./roberta/model.js";
import { T5, t5Config, countParameters as t5Count, fromHFT5, toHFT5, type T5Config } from "./t5/model.js";

// =====================================================================================================
// What fromPretrained returns

export type HFKind = "gpt2" | "llama" | "bloom" | "falcon" | "bert" | "roberta" | "deberta" | "t5" | "bart";

export type Pretrained =
  | { kind: "gpt2"; model: GPT; config: GPTConfig }
  | { kind: "llama"; model: Llama; config: LlamaConfig }
  | { kind: "bloom"; model: Bloom; config: BloomConfig }
  | { kind: "falcon"; model: Falcon; config: FalconConfig }
  | { kind: "bert"; model: BertForMaskedLM | BertModel; config: BertConfig }
  | { kind: "roberta"; model: RobertaForMaskedLM | RobertaModel; config: RobertaConfig }
  | { kind: "deberta"; model: DebertaForMaskedLM | DebertaModel; config: DebertaConfig }
  | { kind: "t5"; model: T5; config: T5Config }
  | { kind: "bart"; model: Bart; config: BartConfig };

/** config.json's "model_type" → our family. */
export const MODEL_TYPES: Readonly<Record<string, HFKind>> = Object.freeze({
  gpt2: "gpt2", llama: "llama", bloom: "bloom", falcon: "falcon", bert: "bert", roberta: "roberta", "deberta-v2": "deberta", t5: "t5", bart: "bart",
});

export const DECODER_KINDS: readonly HFKind[] = ["gpt2", "llama", "bloom", "falcon"];
export const ENCODER_KINDS: readonly HFKind[] = ["bert", "roberta", "deberta"];
export const SEQ2SEQ_KINDS: readonly HFKind[] = ["t5", "bart"];

// =====================================================================================================
// Reading config.json

type JsonValue = unknown;

/**
 * Fields of PretrainedConfig and of generation that never change the network: token ids, labels,
 * generation defaults, bookkeeping. (Dropout rates are read where the model has them, else listed
 * per family as known.)
 */
const COMMON_FIELDS = [
  "model_type", "architectures", "transformers_version", "torch_dtype", "dtype", "_name_or_path", "auto_map", "tokenizer_class",
  "bos_token_id", "eos_token_id", "pad_token_id", "sep_token_id", "unk_token_id", "decoder_start_token_id",
  "use_cache", "id2label", "label2id", "num_labels", "problem_type", "finetuning_task", "task_specific_params", "prefix",
  "initializer_range", "init_std", "initializer_factor", "output_past", "gradient_checkpointing", "return_dict",
  "output_hidden_states", "output_attentions", "torchscript", "use_bfloat16", "pruned_heads", "chunk_size_feed_forward",
  "tie_encoder_decoder", "classifier_dropout", "tf_legacy_loss", "use_return_dict",
  // generation defaults
  "max_length", "min_length", "do_sample", "early_stopping", "num_beams", "num_beam_groups", "diversity_penalty", "temperature",
  "top_k", "top_p", "typical_p", "repetition_penalty", "length_penalty", "no_repeat_ngram_size", "encoder_no_repeat_ngram_size",
  "bad_words_ids", "num_return_sequences", "output_scores", "return_dict_in_generate", "forced_bos_token_id", "forced_eos_token_id",
  "remove_invalid_values", "exponential_decay_length_penalty", "suppress_tokens", "begin_suppress_tokens",
];

/** Reads config.json's fields one by one and remembers which it saw, so unknown ones can be reported. */
class ConfigReader {
  private readonly seen = new Set<string>(COMMON_FIELDS);

  constructor(readonly json: Record<string, JsonValue>, readonly type: string) {}

  private fail(field: string, why: string): never {
    throw new LoadError(`config.json (model_type ${JSON.stringify(this.type)}): ${field} ${why}`);
  }

  has(field: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.json, field) && this.json[field] !== null;
  }

  /** The value of the first of `fields` present (aliases: "n_head" or "num_attention_heads"). */
  private raw(fields: readonly string[]): { field: string; value: JsonValue } | null {
    for (const f of fields) this.seen.add(f);
    for (const f of fields) if (this.has(f)) return { field: f, value: this.json[f] };
    return null;
  }

  int(fields: string | readonly string[], fallback?: number): number {
    const names = typeof fields === "string" ? [fields] : fields;
    const r = this.raw(names);
    if (r === null) {
      if (fallback === undefined) this.fail(names.join(" / "), "is missing");
      return fallback;
    }
    if (typeof r.value !== "number" || !Number.isInteger(r.value)) this.fail(r.field, `must be an integer, got ${JSON.stringify(r.value)}`);
    return r.value;
  }

  num(fields: string | readonly string[], fallback?: number): number {
    const names = typeof fields === "string" ? [fields] : fields;
    const r = this.raw(names);
    if (r === null) {
      if (fallback === undefined) this.fail(names.join(" / "), "is missing");
      return fallback;
    }
    if (typeof r.value !== "number" || !Number.isFinite(r.value)) this.fail(r.field, `must be a number, got ${JSON.stringify(r.value)}`);
    return r.value;
  }

  bool(field: string, fallback: boolean): boolean {
    const r = this.raw([field]);
    if (r === null) return fallback;
    if (typeof r.value !== "boolean") this.fail(field, `must be true or false, got ${JSON.stringify(r.value)}`);
    return r.value;
  }

  str(field: string, fallback: string): string {
    const r = this.raw([field]);
    if (r === null) return fallback;
    if (typeof r.value !== "string") this.fail(field, `must be a string, got ${JSON.stringify(r.value)}`);
    return r.value;
  }

  /** A setting our model has only one way of: the file's value (or the default) must be one of `allowed`. */
  only<T extends JsonValue>(field: string, fallback: T, allowed: readonly T[], why: string): void {
    const r = this.raw([field]);
    const value = r === null ? fallback : r.value;
    if (!allowed.some((a) => JSON.stringify(a) === JSON.stringify(value))) {
      this.fail(field, `is ${JSON.stringify(value)}, which writtingNNs does not support (${why}; supported: ${allowed.map((a) => JSON.stringify(a)).join(", ")})`);
    }
  }

  /** Fields that are known not to change the network (dropouts of the training run, head settings). */
  known(...fields: string[]): void {
    for (const f of fields) this.seen.add(f);
  }

  /** Every field must have been read, checked or declared known. */
  finish(): void {
    const unknown = Object.keys(this.json).filter((k) => !this.seen.has(k));
    if (unknown.length) {
      this.fail(unknown.map((k) => JSON.stringify(k)).join(", "), `${unknown.length > 1 ? "are fields" : "is a field"} writtingNNs does not know for this model type, so it cannot tell whether ${unknown.length > 1 ? "they change" : "it changes"} the network`);
    }
  }

  /** Wrap a config constructor's ArgumentError (a value out of range) as a LoadError of this file. */
  build<C>(f: () => C): C {
    try {
      return f();
    } catch (e) {
      if (e instanceof ArgumentError) throw new LoadError(`config.json (model_type ${JSON.stringify(this.type)}): ${e.message}`);
      throw e;
    }
  }
}

// =====================================================================================================
// The extras Hugging Face files carry that are not weights of ours — the one list
//
// Each entry: a pattern of names (after ALIASES below) that may be present and is not loaded, and, for a
// tied copy of another tensor, that tensor's name (its shape must then match).

interface Extra {
  readonly pattern: RegExp;
  readonly why: string;
  readonly tiedTo?: string;
}

const EXTRAS: Readonly<Record<HFKind, readonly Extra[]>> = {
  gpt2: [
    { pattern: /^lm_head\.weight$/, why: "the head, tied to wte", tiedTo: "transformer.wte.weight" },
    { pattern: /^transformer\.h\.\d+\.attn\.(bias|masked_bias)$/, why: "causal-mask buffers of older files" },
  ],
  llama: [{ pattern: /^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/, why: "the rotary frequencies, a buffer recomputed from rope_theta" }],
  bloom: [{ pattern: /^lm_head\.weight$/, why: "the head, tied to word_embeddings", tiedTo: "transformer.word_embeddings.weight" }],
  falcon: [{ pattern: /^lm_head\.weight$/, why: "the head, tied to word_embeddings", tiedTo: "transformer.word_embeddings.weight" }],
  bert: [
    { pattern: /^cls\.predictions\.decoder\.weight$/, why: "the MLM decoder, tied to word_embeddings", tiedTo: "bert.embeddings.word_embeddings.weight" },
    { pattern: /^cls\.predictions\.decoder\.bias$/, why: "an alias of cls.predictions.bias", tiedTo: "cls.predictions.bias" },
    { pattern: /^cls\.seq_relationship\./, why: "the next-sentence head, which no model here has" },
    { pattern: /^bert\.embeddings\.position_ids$/, why: "a buffer 0..P−1" },
    { pattern: /^bert\.pooler\./, why: "the pooler, which the masked-LM model has none of" },
  ],
  roberta: [
    { pattern: /^lm_head\.decoder\.weight$/, why: "the MLM decoder, tied to word_embeddings", tiedTo: "roberta.embeddings.word_embeddings.weight" },
    { pattern: /^lm_head\.decoder\.bias$/, why: "an alias of lm_head.bias", tiedTo: "lm_head.bias" },
    { pattern: /^roberta\.embeddings\.position_ids$/, why: "a buffer" },
    { pattern: /^roberta\.pooler\./, why: "the pooler, which the masked-LM model has none of" },
  ],
  deberta: [
    { pattern: /^cls\.predictions\.decoder\.weight$/, why: "the MLM decoder, tied to word_embeddings", tiedTo: "deberta.embeddings.word_embeddings.weight" },
    { pattern: /^cls\.predictions\.decoder\.bias$/, why: "an alias of cls.predictions.bias", tiedTo: "cls.predictions.bias" },
    { pattern: /^deberta\.embeddings\.position_ids$/, why: "a buffer" },
    { pattern: /^mask_predictions\./, why: "DeBERTa-v3's replaced-token-detection head, which no model here has" },
  ],
  t5: [
    { pattern: /^encoder\.embed_tokens\.weight$/, why: "a copy of shared.weight", tiedTo: "shared.weight" },
    { pattern: /^decoder\.embed_tokens\.weight$/, why: "a copy of shared.weight", tiedTo: "shared.weight" },
    { pattern: /^lm_head\.weight$/, why: "the v1.0 head, tied to shared.weight", tiedTo: "shared.weight" }, // with tie_word_embeddings false it is a weight, expected
    { pattern: /^decoder\.block\.0\.layer\.1\.EncDecAttention\.relative_attention_bias\.weight$/, why: "an unused table of older T5 files (cross-attention has no position bias)" },
  ],
  bart: [
    { pattern: /^model\.encoder\.embed_tokens\.weight$/, why: "a copy of model.shared.weight", tiedTo: "model.shared.weight" },
    { pattern: /^model\.decoder\.embed_tokens\.weight$/, why: "a copy of model.shared.weight", tiedTo: "model.shared.weight" },
    { pattern: /^lm_head\.weight$/, why: "the head, tied to model.shared.weight", tiedTo: "model.shared.weight" },
  ],
};

/**
 * Other spellings of the same tensors, renamed before the check: the trunk saved without its prefix
 * (a GPT2Model, BertModel, ... file), TensorFlow-era LayerNorm names (gamma/beta, which Hugging Face
 * renames the same way), and DeBERTa's non-legacy MLM head names (the same dense → GELU → LayerNorm → tied
 * decoder + bias as the legacy cls.predictions.* head).
 */
function alias(kind: HFKind, name: string): string {
  name = name.replace(/\.gamma$/, ".weight").replace(/\.beta$/, ".bias");
  switch (kind) {
    case "gpt2": case "bloom": case "falcon":
      return name.startsWith("transformer.") || name.startsWith("lm_head.") ? name : `transformer.${name}`;
    case "llama":
      return name.startsWith("model.") || name.startsWith("lm_head.") ? name : `model.${name}`;
    case "bert": case "roberta": case "deberta": {
      if (kind === "deberta") {
        const head = /^lm_predictions\.lm_head\.(dense\.(weight|bias)|LayerNorm\.(weight|bias)|bias)$/.exec(name);
        if (head) return head[1] === "bias" ? "cls.predictions.bias" : `cls.predictions.transform.${head[1]}`;
      }
      return /^(embeddings|encoder|pooler)\./.test(name) ? `${kind}.${name}` : name;
    }
    case "bart":
      return /^(shared|encoder|decoder)\./.test(name) ? `model.${name}` : name;
    case "t5":
      return name;
  }
}

// =====================================================================================================
// The families: config.json ↔ our config, the model to build, its weight map

interface Family<C, M extends Module> {
  /** config.json → our config (every field read or declared known) */
  readConfig(r: ConfigReader): C;
  /** our config → config.json's fields */
  writeConfig(c: C, model: M): Record<string, JsonValue>;
  /** the parameters of the largest model `build` may make for this config, counted without allocating */
  count(c: C): number;
  /** the model for this config; encoders pick the head by the tensors the file holds */
  build(c: C, names: ReadonlySet<string>): M;
  /** our state dict → the checkpoint's names and layouts (the model's weight map) */
  toHF(model: M, c: C): Record<string, Tensor>;
  /** the checkpoint's tensors (already checked) → our state dict */
  fromHF(state: Record<string, Tensor>, model: M, c: C): Record<string, Tensor>;
  /** tensors a valid file may leave out, and their values (a tied head, a zero buffer) */
  defaults?(state: Record<string, Tensor>, c: C): void;
}

const dropout = (r: ConfigReader, ...fields: string[]): number => r.num(fields, 0);
const MASK_HEAD = /^(cls\.predictions\.|lm_head\.)/;

const gpt2: Family<GPTConfig, GPT> = {
  readConfig(r) {
    r.only("activation_function", "gelu_new", ["gelu_new", "gelu_pytorch_tanh"], "GPT-2's MLP uses the tanh GELU");
    r.only("layer_norm_epsilon", 1e-5, [1e-5], "our LayerNorms use ε = 1e-5");
    r.only("scale_attn_weights", true, [true], "attention is scaled by 1/√hs");
    r.only("scale_attn_by_inverse_layer_idx", false, [false], "no per-layer attention scaling");
    r.only("reorder_and_upcast_attn", false, [false], "float32 attention throughout");
    r.only("add_cross_attention", false, [false], "a decoder-only model");
    r.known("n_ctx", "attn_pdrop", "embd_pdrop", "summary_type", "summary_use_proj", "summary_activation", "summary_proj_to_labels", "summary_first_dropout");
    const C = r.int("n_embd");
    if (r.has("n_inner")) r.only("n_inner", 4 * C, [4 * C], "the MLP is 4× wide");
    else r.known("n_inner");
    return r.build(() => gptConfig({
      vocabSize: r.int("vocab_size"), blockSize: r.int("n_positions"), nLayer: r.int("n_layer"), nHead: r.int("n_head"), nEmbd: C,
      dropout: dropout(r, "resid_pdrop"), bias: true,
    }));
  },
  writeConfig(c) {
    if (!c.bias) throw new ArgumentError("toHFFiles: Hugging Face's GPT-2 always has biases; this config has bias: false");
    return {
      model_type: "gpt2", architectures: ["GPT2LMHeadModel"], vocab_size: c.vocabSize, n_positions: c.blockSize, n_ctx: c.blockSize,
      n_embd: c.nEmbd, n_layer: c.nLayer, n_head: c.nHead, n_inner: null, activation_function: "gelu_new", layer_norm_epsilon: 1e-5,
      resid_pdrop: c.dropout, embd_pdrop: c.dropout, attn_pdrop: c.dropout,
    };
  },
  count: (c) => gptCount(c),
  build: (c) => new GPT(c),
  toHF: (m, c) => toGPT2Checkpoint(m.stateDict(), c),
  fromHF: (s, _m, c) => fromGPT2Checkpoint(s, c),
};

const llama: Family<LlamaConfig, Llama> = {
  readConfig(r) {
    r.only("hidden_act", "silu", ["silu"], "the MLP is SwiGLU");
    r.only("rope_scaling", null, [null], "RoPE without scaling");
    r.only("attention_bias", false, [false], "LLaMA's projections have no bias");
    r.only("mlp_bias", false, [false], "LLaMA's MLP has no bias");
    r.known("pretraining_tp", "attention_dropout"); // tensor-parallel slicing of the same matmuls; training dropout
    const C = r.int("hidden_size"), nh = r.int("num_attention_heads");
    if (r.has("head_dim")) r.only("head_dim", C / nh, [C / nh], "the head size is hidden_size / num_attention_heads");
    else r.known("head_dim");
    const tied = r.bool("tie_word_embeddings", false);
    const c = r.build(() => llamaConfig({
      vocabSize: r.int("vocab_size"), blockSize: r.int("max_position_embeddings", 2048), nLayer: r.int("num_hidden_layers"),
      nHead: nh, nKvHeads: r.int("num_key_value_heads", nh), nEmbd: C, intermediateSize: r.int("intermediate_size"), multipleOf: 256,
      normEps: r.num("rms_norm_eps", 1e-6), ropeTheta: r.num("rope_theta", 10000), dropout: 0,
    }));
    tiedLlama.set(c, tied);
    return c;
  },
  writeConfig(c) {
    return {
      model_type: "llama", architectures: ["LlamaForCausalLM"], vocab_size: c.vocabSize, hidden_size: c.nEmbd, intermediate_size: intermediateSize(c),
      num_hidden_layers: c.nLayer, num_attention_heads: c.nHead, num_key_value_heads: c.nKvHeads, max_position_embeddings: c.blockSize,
      rms_norm_eps: c.normEps, rope_theta: c.ropeTheta, hidden_act: "silu", tie_word_embeddings: false, attention_bias: false, mlp_bias: false,
    };
  },
  count: (c) => llamaCount(c),
  build: (c) => new Llama(c),
  toHF: (m, c) => toLlamaCheckpoint(m.stateDict(), c),
  fromHF: (s, _m, c) => fromLlamaCheckpoint(s, c),
  // tie_word_embeddings: the file holds no lm_head.weight; our untied head starts as a copy of the embedding
  defaults(s, c) {
    if (tiedLlama.get(c) && !s["lm_head.weight"] && s["model.embed_tokens.weight"]) s["lm_head.weight"] = s["model.embed_tokens.weight"];
  },
};
/** Whether a LLaMA config.json said tie_word_embeddings (our LlamaConfig has no such field). */
const tiedLlama = new WeakMap<LlamaConfig, boolean>();

const bloom: Family<BloomConfig, Bloom> = {
  readConfig(r) {
    r.only("apply_residual_connection_post_layernorm", false, [false], "the residual is taken before the LayerNorm");
    r.only("layer_norm_epsilon", 1e-5, [1e-5], "our LayerNorms use ε = 1e-5");
    r.only("n_inner", null, [null], "the MLP is 4× wide");
    r.known("attention_dropout", "attention_softmax_in_fp32", "bias_dropout_fusion", "masked_softmax_fusion", "offset_alibi", "pretraining_tp", "skip_bias_add", "skip_bias_add_qkv", "slow_but_exact");
    return r.build(() => bloomConfig({
      vocabSize: r.int("vocab_size"), blockSize: r.int("seq_length", 2048), nLayer: r.int(["n_layer", "num_hidden_layers"]), nHead: r.int(["n_head", "num_attention_heads"]),
      nEmbd: r.int(["hidden_size", "n_embed"]), dropout: dropout(r, "hidden_dropout"), bias: true,
    }));
  },
  writeConfig(c) {
    if (!c.bias) throw new ArgumentError("toHFFiles: Hugging Face's BLOOM always has biases; this config has bias: false");
    return {
      model_type: "bloom", architectures: ["BloomForCausalLM"], vocab_size: c.vocabSize, hidden_size: c.nEmbd, n_layer: c.nLayer, n_head: c.nHead,
      seq_length: c.blockSize, layer_norm_epsilon: 1e-5, apply_residual_connection_post_layernorm: false, hidden_dropout: c.dropout, attention_dropout: c.dropout,
    };
  },
  count: (c) => bloomCount(c),
  build: (c) => new Bloom(c),
  toHF: (m, c) => toBloomCheckpoint(m.stateDict(), c),
  fromHF: (s, _m, c) => fromBloomCheckpoint(s, c),
};

const falcon: Family<FalconConfig, Falcon> = {
  readConfig(r) {
    r.only("multi_query", true, [true], "Falcon here is the 7B layout: one key/value head");
    r.only("new_decoder_architecture", false, [false], "the 7B layout (40B/180B's grouped heads and two LayerNorms are not built)");
    r.only("parallel_attn", true, [true], "attention and MLP read the same LayerNorm in parallel");
    r.only("alibi", false, [false], "rotary positions");
    r.only("rope_scaling", null, [null], "RoPE without scaling");
    r.only("activation", "gelu", ["gelu"], "the MLP uses the exact GELU");
    r.only("layer_norm_epsilon", 1e-5, [1e-5], "our LayerNorms use ε = 1e-5");
    r.only("apply_residual_connection_post_layernorm", false, [false], "the residual is taken before the LayerNorm");
    r.only("num_ln_in_parallel_attn", null, [null, 1], "one LayerNorm per block");
    r.only("tie_word_embeddings", true, [true], "the head is the word embedding");
    r.known("num_kv_heads", "attention_dropout"); // with multi_query and the old layout Hugging Face uses one KV head whatever num_kv_heads says
    const C = r.int("hidden_size");
    r.only("ffn_hidden_size", null, [null, 4 * C], "the MLP is 4× wide");
    return r.build(() => falconConfig({
      vocabSize: r.int("vocab_size"), blockSize: r.int("max_position_embeddings", 2048), nLayer: r.int(["num_hidden_layers", "n_layer"]),
      nHead: r.int(["num_attention_heads", "n_head"]), nEmbd: C, dropout: dropout(r, "hidden_dropout"), bias: r.bool("bias", false), ropeTheta: r.num("rope_theta", 10000),
    }));
  },
  writeConfig(c) {
    return {
      model_type: "falcon", architectures: ["FalconForCausalLM"], vocab_size: c.vocabSize, hidden_size: c.nEmbd, num_hidden_layers: c.nLayer,
      num_attention_heads: c.nHead, multi_query: true, new_decoder_architecture: false, parallel_attn: true, alibi: false, bias: c.bias,
      layer_norm_epsilon: 1e-5, rope_theta: c.ropeTheta, max_position_embeddings: c.blockSize, hidden_dropout: c.dropout, attention_dropout: c.dropout,
      tie_word_embeddings: true,
    };
  },
  count: (c) => falconCount(c),
  build: (c) => new Falcon(c),
  toHF: (m, c) => toFalconCheckpoint(m.stateDict(), c),
  fromHF: (s, _m, c) => fromFalconCheckpoint(s, c),
};

/** BERT's and RoBERTa's config.json: the same fields. */
function readBertFields(r: ConfigReader): BertConfig {
  r.only("hidden_act", "gelu", ["gelu"], "the FFN uses the exact GELU");
  r.only("position_embedding_type", "absolute", ["absolute"], "learned absolute positions");
  r.only("is_decoder", false, [false], "an encoder");
  r.only("add_cross_attention", false, [false], "an encoder");
  r.known("attention_probs_dropout_prob");
  return {
    vocabSize: r.int("vocab_size"), maxPositions: r.int("max_position_embeddings"), typeVocabSize: r.int("type_vocab_size", 2),
    nLayer: r.int("num_hidden_layers"), nHead: r.int("num_attention_heads"), dModel: r.int("hidden_size"), dFF: r.int("intermediate_size"),
    dropout: dropout(r, "hidden_dropout_prob"), layerNormEps: r.num("layer_norm_eps", 1e-12), padId: r.int("pad_token_id", 0),
  };
}

function writeBertFields(c: BertConfig): Record<string, JsonValue> {
  return {
    vocab_size: c.vocabSize, hidden_size: c.dModel, num_hidden_layers: c.nLayer, num_attention_heads: c.nHead, intermediate_size: c.dFF,
    hidden_act: "gelu", hidden_dropout_prob: c.dropout, attention_probs_dropout_prob: c.dropout, max_position_embeddings: c.maxPositions,
    type_vocab_size: c.typeVocabSize, layer_norm_eps: c.layerNormEps, pad_token_id: c.padId, position_embedding_type: "absolute",
  };
}

const bert: Family<BertConfig, BertForMaskedLM | BertModel> = {
  readConfig: (r) => r.build(() => bertConfig(readBertFields(r))),
  writeConfig: (c, m) => ({ model_type: "bert", architectures: [m instanceof BertForMaskedLM ? "BertForMaskedLM" : "BertModel"], ...writeBertFields(c) }),
  count: (c) => bertCount(c, { pooler: true, mlmHead: true }),
  build: (c, names) => ([...names].some((n) => MASK_HEAD.test(n)) ? new BertForMaskedLM(c) : new BertModel(c, { pooler: names.has("bert.pooler.dense.weight") })),
  toHF: (m) => toBert(m.stateDict(), m, BERT_NAMING),
  fromHF: (s, m) => fromBert(s, m, BERT_NAMING),
};

const roberta: Family<RobertaConfig, RobertaForMaskedLM | RobertaModel> = {
  readConfig: (r) => r.build(() => robertaConfig(readBertFields(r))),
  writeConfig: (c, m) => ({ model_type: "roberta", architectures: [m instanceof RobertaForMaskedLM ? "RobertaForMaskedLM" : "RobertaModel"], ...writeBertFields(c) }),
  count: (c) => bertCount(c, { pooler: true, mlmHead: true }),
  build: (c, names) => ([...names].some((n) => MASK_HEAD.test(n)) ? new RobertaForMaskedLM(c) : new RobertaModel(c, { pooler: names.has("roberta.pooler.dense.weight") })),
  toHF: (m) => toBert(m.stateDict(), m, ROBERTA_NAMING),
  fromHF: (s, m) => fromBert(s, m, ROBERTA_NAMING),
};

const deberta: Family<DebertaConfig, DebertaForMaskedLM | DebertaModel> = {
  readConfig(r) {
    r.only("hidden_act", "gelu", ["gelu"], "the FFN uses the exact GELU");
    r.only("relative_attention", false, [true], "disentangled attention over relative positions");
    r.only("position_biased_input", true, [false], "no absolute positions in the input (v3)");
    r.only("norm_rel_ebd", "none", ["layer_norm"], "the relative table is LayerNorm'ed");
    r.only("share_att_key", false, [true], "positions are projected by the content W_q, W_k");
    const pos = r.has("pos_att_type") ? r.json.pos_att_type : null;
    const parts = typeof pos === "string" ? pos.toLowerCase().split("|") : Array.isArray(pos) ? pos : [];
    if (parts.length !== 2 || !parts.includes("p2c") || !parts.includes("c2p")) {
      throw new LoadError(`config.json (model_type "deberta-v2"): pos_att_type is ${JSON.stringify(pos)}, which writtingNNs does not support (supported: ["p2c", "c2p"])`);
    }
    r.known("pos_att_type");
    r.only("conv_kernel_size", 0, [0], "no convolution beside the first layer (v3)");
    const C = r.int("hidden_size");
    r.only("embedding_size", C, [C], "the embedding is hidden_size wide (no projection)");
    r.known("attention_probs_dropout_prob", "pooler_dropout", "pooler_hidden_act", "pooler_hidden_size", "conv_act", "conv_groups", "legacy");
    const maxRel = r.int("max_relative_positions", -1);
    return r.build(() => debertaConfig({
      vocabSize: r.int("vocab_size"), typeVocabSize: r.int("type_vocab_size", 0), nLayer: r.int("num_hidden_layers"), nHead: r.int("num_attention_heads"),
      dModel: C, dFF: r.int("intermediate_size"), positionBuckets: r.int("position_buckets"),
      maxRelativePositions: maxRel >= 1 ? maxRel : r.int("max_position_embeddings"), // Hugging Face: < 1 means max_position_embeddings
      dropout: dropout(r, "hidden_dropout_prob"), layerNormEps: r.num("layer_norm_eps", 1e-7), padId: r.int("pad_token_id", 0),
    }));
  },
  writeConfig(c, m) {
    return {
      model_type: "deberta-v2", architectures: [m instanceof DebertaForMaskedLM ? "DebertaV2ForMaskedLM" : "DebertaV2Model"], vocab_size: c.vocabSize,
      hidden_size: c.dModel, num_hidden_layers: c.nLayer, num_attention_heads: c.nHead, intermediate_size: c.dFF, hidden_act: "gelu",
      hidden_dropout_prob: c.dropout, attention_probs_dropout_prob: c.dropout, max_position_embeddings: c.maxRelativePositions, max_relative_positions: -1,
      position_buckets: c.positionBuckets, relative_attention: true, pos_att_type: ["p2c", "c2p"], norm_rel_ebd: "layer_norm", share_att_key: true,
      position_biased_input: false, type_vocab_size: c.typeVocabSize, layer_norm_eps: c.layerNormEps, pad_token_id: c.padId,
    };
  },
  count: (c) => debertaCount(c, { mlmHead: true }),
  build: (c, names) => ([...names].some((n) => MASK_HEAD.test(n)) ? new DebertaForMaskedLM(c) : new DebertaModel(c)),
  toHF: (m) => toDeberta(m.stateDict(), m),
  fromHF: (s, m) => fromDeberta(s, m),
};

const t5: Family<T5Config, T5> = {
  readConfig(r) {
    const ff = r.str("feed_forward_proj", "relu");
    if (ff !== "relu" && ff !== "gated-gelu") {
      throw new LoadError(`config.json (model_type "t5"): feed_forward_proj is ${JSON.stringify(ff)}, which writtingNNs does not support (supported: "relu" for T5 v1.0, "gated-gelu" for v1.1)`);
    }
    // derived from feed_forward_proj by Hugging Face; when written they must agree with it
    r.only("dense_act_fn", ff === "relu" ? "relu" : "gelu_new", [ff === "relu" ? "relu" : "gelu_new"], "it follows feed_forward_proj");
    r.only("is_gated_act", ff !== "relu", [ff !== "relu"], "it follows feed_forward_proj");
    r.only("is_encoder_decoder", true, [true], "an encoder-decoder");
    r.known("n_positions", "classifier_dropout");
    const layers = r.int("num_layers");
    return r.build(() => t5Config({
      vocabSize: r.int("vocab_size"), nEncoderLayer: layers, nDecoderLayer: r.int("num_decoder_layers", layers), nHead: r.int("num_heads"),
      dModel: r.int("d_model"), dKv: r.int("d_kv"), dFF: r.int("d_ff"), numBuckets: r.int("relative_attention_num_buckets", 32),
      maxDistance: r.int("relative_attention_max_distance", 128), dropout: dropout(r, "dropout_rate"), eps: r.num("layer_norm_epsilon", 1e-6),
      feedForward: ff, tieHead: r.bool("tie_word_embeddings", true), padId: r.int("pad_token_id", 0), eosId: r.int("eos_token_id", 1),
      decoderStartId: r.int("decoder_start_token_id", 0),
    }));
  },
  writeConfig(c) {
    return {
      model_type: "t5", architectures: ["T5ForConditionalGeneration"], vocab_size: c.vocabSize, d_model: c.dModel, d_kv: c.dKv, d_ff: c.dFF,
      num_layers: c.nEncoderLayer, num_decoder_layers: c.nDecoderLayer, num_heads: c.nHead, relative_attention_num_buckets: c.numBuckets,
      relative_attention_max_distance: c.maxDistance, dropout_rate: c.dropout, layer_norm_epsilon: c.eps, feed_forward_proj: c.feedForward,
      tie_word_embeddings: c.tieHead, is_encoder_decoder: true, pad_token_id: c.padId, eos_token_id: c.eosId, decoder_start_token_id: c.decoderStartId,
    };
  },
  count: (c) => t5Count(c),
  build: (c) => new T5(c),
  toHF: (m, c) => toHFT5(m.stateDict(), c),
  fromHF: (s, _m, c) => fromHFT5(s, c),
};

const bart: Family<BartConfig, Bart> = {
  readConfig(r) {
    r.only("activation_function", "gelu", ["gelu"], "the FFN uses the exact GELU");
    r.only("normalize_before", false, [false], "post-LN layers (mBART's pre-LN is not built)");
    r.only("add_final_layer_norm", false, [false], "no LayerNorm after the stacks");
    r.only("normalize_embedding", true, [true], "a LayerNorm on the embeddings");
    r.only("add_bias_logits", false, [false], "the logits' bias is final_logits_bias");
    r.only("is_encoder_decoder", true, [true], "an encoder-decoder");
    r.known("num_hidden_layers", "encoder_layerdrop", "decoder_layerdrop", "classif_dropout", "static_position_embeddings", "extra_pos_embeddings");
    const same = (a: string, b: string): number => {
      const x = r.int(a), y = r.int(b);
      if (x !== y) throw new LoadError(`config.json (model_type "bart"): ${a} ${x} and ${b} ${y} differ; writtingNNs' BART has one value for both stacks`);
      return x;
    };
    return r.build(() => bartConfig({
      vocabSize: r.int("vocab_size"), maxPositions: r.int("max_position_embeddings"), nEncoderLayer: r.int("encoder_layers"), nDecoderLayer: r.int("decoder_layers"),
      nHead: same("encoder_attention_heads", "decoder_attention_heads"), dModel: r.int("d_model"), dFF: same("encoder_ffn_dim", "decoder_ffn_dim"),
      dropout: dropout(r, "dropout"), attnDropout: dropout(r, "attention_dropout"), activationDropout: dropout(r, "activation_dropout"),
      scaleEmbedding: r.bool("scale_embedding", false), layerNormEps: 1e-5, padId: r.int("pad_token_id", 1), eosId: r.int("eos_token_id", 2),
      decoderStartId: r.int("decoder_start_token_id", 2), initStd: r.num("init_std", 0.02),
    }));
  },
  writeConfig(c) {
    if (c.layerNormEps !== 1e-5) throw new ArgumentError(`toHFFiles: Hugging Face's BART has LayerNorm ε 1e-5 and no field for it; this config has ${c.layerNormEps}`);
    return {
      model_type: "bart", architectures: ["BartForConditionalGeneration"], vocab_size: c.vocabSize, max_position_embeddings: c.maxPositions,
      encoder_layers: c.nEncoderLayer, decoder_layers: c.nDecoderLayer, encoder_attention_heads: c.nHead, decoder_attention_heads: c.nHead,
      encoder_ffn_dim: c.dFF, decoder_ffn_dim: c.dFF, d_model: c.dModel, dropout: c.dropout, attention_dropout: c.attnDropout,
      activation_dropout: c.activationDropout, activation_function: "gelu", scale_embedding: c.scaleEmbedding, normalize_before: false,
      add_final_layer_norm: false, normalize_embedding: true, add_bias_logits: false, is_encoder_decoder: true,
      pad_token_id: c.padId, eos_token_id: c.eosId, decoder_start_token_id: c.decoderStartId, init_std: c.initStd,
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

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const FAMILIES: Record<HFKind, Family<any, any>> = { gpt2, llama, bloom, falcon, bert, roberta, deberta, t5, bart };

// =====================================================================================================
// Loading

/** config.json's model_type → our family, or a LoadError listing the supported ones. */
export function kindOf(config: Record<string, unknown>): HFKind {
  if (typeof config !== "object" || config === null || Array.isArray(config)) throw new LoadError("config.json: expected a JSON object");
  const type = config.model_type;
  if (typeof type !== "string") throw new LoadError(`config.json: "model_type" is missing or not a string; it names the model (${Object.keys(MODEL_TYPES).join(", ")})`);
  const kind = MODEL_TYPES[type];
  if (!kind || !Object.prototype.hasOwnProperty.call(MODEL_TYPES, type)) {
    throw new LoadError(`config.json: model_type ${JSON.stringify(type)} is not supported (supported: ${Object.keys(MODEL_TYPES).join(", ")})`);
  }
  return kind;
}

/** Our config for a config.json (checked; unknown fields and unsupported settings are LoadErrors). */
export function configFromHF(config: Record<string, unknown>): { kind: HFKind; config: unknown } {
  const kind = kindOf(config);
  const r = new ConfigReader(config, config.model_type as string);
  const c = FAMILIES[kind].readConfig(r);
  r.finish();
  return { kind, config: c };
}

const MAX_LISTED = 12;
const list = (items: string[]): string => (items.length > MAX_LISTED ? `${items.slice(0, MAX_LISTED).join(", ")}, … (${items.length} in all)` : items.join(", "));

/**
 * Build the model a Hugging Face checkpoint describes and load its tensors: `{ config, tensors }` as
 * readHFFolder returns them. Names and shapes are checked against the model's weight map first; every
 * missing, unexpected and mis-shaped tensor is reported by name in one LoadError. The model is in eval mode.
 */
export function fromPretrained(files: { config: Record<string, unknown>; tensors: Record<string, Tensor> }): Pretrained {
  const { kind, config } = configFromHF(files.config);
  const family = FAMILIES[kind];

  // the file's names, with Hugging Face's other spellings of the same tensors renamed
  const state: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(files.tensors)) {
    const ours = alias(kind, name);
    if (Object.prototype.hasOwnProperty.call(state, ours)) throw new LoadError(`${kind} checkpoint: tensors ${JSON.stringify(name)} and another both name ${JSON.stringify(ours)}`);
    state[ours] = t;
  }
  // a config.json that describes a far larger model than the tensors hold would make us allocate it all
  // before the names are compared: refuse it first (tied heads and zero buffers may be absent from files,
  // so the file may hold less than the model; a heads' worth, not twice as much)
  const held = Object.values(state).reduce((n, t) => n + t.numel(), 0);
  const needs = family.count(config);
  if (needs > 2 * held + 1_000_000) {
    throw new LoadError(`${kind} checkpoint: config.json describes a model of ${needs.toLocaleString("en-US")} parameters, but the files hold ${held.toLocaleString("en-US")} numbers`);
  }
  const model: Module = family.build(config, new Set(Object.keys(state)));
  family.defaults?.(state, config);

  // what the model's weight map expects: its own state written under the checkpoint's names
  const expected = family.toHF(model, config);
  const extras = EXTRAS[kind];
  const missing: string[] = [], unexpected: string[] = [], misshaped: string[] = [];
  for (const [name, want] of Object.entries(expected)) {
    const got = state[name];
    if (!got) missing.push(`${name} ${fmt(want.shape)}`);
    else if (fmt(got.shape) !== fmt(want.shape)) misshaped.push(`${name} is ${fmt(got.shape)} in the file, the config needs ${fmt(want.shape)}`);
    else if (got.dtype !== "float32" && got.dtype !== "float64") misshaped.push(`${name} is ${got.dtype}, expected floating point`);
  }
  for (const [name, t] of Object.entries(state)) {
    if (Object.prototype.hasOwnProperty.call(expected, name)) continue;
    const extra = extras.find((x) => x.pattern.test(name));
    if (!extra) {
      unexpected.push(`${name} ${fmt(t.shape)}`);
      continue;
    }
    const twin = extra.tiedTo ? (expected[extra.tiedTo] ?? state[extra.tiedTo]) : undefined;
    if (twin && fmt(twin.shape) !== fmt(t.shape)) misshaped.push(`${name} is ${fmt(t.shape)} in the file, but it is ${extra.why} ${fmt(twin.shape)}`);
  }
  if (missing.length || unexpected.length || misshaped.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing tensors: ${list(missing)}`);
    if (unexpected.length) parts.push(`unexpected tensors: ${list(unexpected)}`);
    if (misshaped.length) parts.push(`wrong shapes: ${list(misshaped)}`);
    throw new LoadError(`${kind} checkpoint (${model.constructor.name}) does not match its config.json: ${parts.join("; ")}`);
  }

  try {
    const known: Record<string, Tensor> = {};
    for (const name of Object.keys(expected)) known[name] = state[name]!;
    model.loadStateDict(family.fromHF(known, model, config));
  } catch (e) {
    if (e instanceof WnnError && !(e instanceof LoadError)) throw new LoadError(`${kind} checkpoint: ${e.message}`);
    throw e;
  }
  model.eval();
  return { kind, model, config } as Pretrained;
}

// =====================================================================================================
// Writing

/**
 * A model of ours as a Hugging Face checkpoint: config.json's object (Hugging Face field names) and the
 * tensors under the checkpoint's names (the model's weight map), ready for writeHFFolder.
 */
export function toHFFiles(kind: HFKind, model: Module, config: unknown): { config: Record<string, unknown>; tensors: Record<string, Tensor> } {
  const family = FAMILIES[kind];
  if (!family) throw new ArgumentError(`toHFFiles: unknown model kind ${JSON.stringify(kind)} (${Object.keys(FAMILIES).join(", ")})`);
  return { config: family.writeConfig(config, model) as Record<string, unknown>, tensors: family.toHF(model, config) };
}
