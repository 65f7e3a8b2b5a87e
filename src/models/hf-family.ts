// The generic half of Hugging Face loading: reading config.json field by field (ConfigReader), and the shape
// every model family declares in its own folder (src/models/<paper>/hf.ts): how its config.json maps to our
// config, the model to build, its weight map, the extra tensors its files carry and the other spellings of
// its tensor names. src/models/hf.ts keeps the loading and writing machinery and the list of families.
// Browser-safe: it works on a parsed config and tensors already in memory.

import { ArgumentError, LoadError } from "../engine/errors.js";
import type { Tensor } from "../engine/tensor.js";
import type { Module } from "../nn/module.js";

export type JsonValue = unknown;

/**
 * Fields of PretrainedConfig and of generation that never change the network: token ids, labels,
 * generation defaults, bookkeeping. (Dropout rates are read where the model has them, else listed
 * per family as known.)
 */
const COMMON_FIELDS = [
  "model_type",
  "architectures",
  "transformers_version",
  "torch_dtype",
  "dtype",
  "_name_or_path",
  "auto_map",
  "tokenizer_class",
  "bos_token_id",
  "eos_token_id",
  "pad_token_id",
  "sep_token_id",
  "unk_token_id",
  "decoder_start_token_id",
  "use_cache",
  "id2label",
  "label2id",
  "num_labels",
  "problem_type",
  "finetuning_task",
  "task_specific_params",
  "prefix",
  "initializer_range",
  "init_std",
  "initializer_factor",
  "output_past",
  "gradient_checkpointing",
  "return_dict",
  "output_hidden_states",
  "output_attentions",
  "torchscript",
  "use_bfloat16",
  "pruned_heads",
  "chunk_size_feed_forward",
  "tie_encoder_decoder",
  "classifier_dropout",
  "tf_legacy_loss",
  "use_return_dict",
  // generation defaults
  "max_length",
  "min_length",
  "do_sample",
  "early_stopping",
  "num_beams",
  "num_beam_groups",
  "diversity_penalty",
  "temperature",
  "top_k",
  "top_p",
  "typical_p",
  "repetition_penalty",
  "length_penalty",
  "no_repeat_ngram_size",
  "encoder_no_repeat_ngram_size",
  "bad_words_ids",
  "num_return_sequences",
  "output_scores",
  "return_dict_in_generate",
  "forced_bos_token_id",
  "forced_eos_token_id",
  "remove_invalid_values",
  "exponential_decay_length_penalty",
  "suppress_tokens",
  "begin_suppress_tokens",
];

/** Reads config.json's fields one by one and remembers which it saw, so unknown ones can be reported. */
export class ConfigReader {
  private readonly seen = new Set<string>(COMMON_FIELDS);

  constructor(
    readonly json: Record<string, JsonValue>,
    readonly type: string,
  ) {}

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
    if (typeof r.value !== "number" || !Number.isInteger(r.value))
      this.fail(r.field, `must be an integer, got ${JSON.stringify(r.value)}`);
    return r.value;
  }

  num(fields: string | readonly string[], fallback?: number): number {
    const names = typeof fields === "string" ? [fields] : fields;
    const r = this.raw(names);
    if (r === null) {
      if (fallback === undefined) this.fail(names.join(" / "), "is missing");
      return fallback;
    }
    if (typeof r.value !== "number" || !Number.isFinite(r.value))
      this.fail(r.field, `must be a number, got ${JSON.stringify(r.value)}`);
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
      this.fail(
        field,
        `is ${JSON.stringify(value)}, which writtingNNs does not support (${why}; supported: ${allowed.map((a) => JSON.stringify(a)).join(", ")})`,
      );
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
      this.fail(
        unknown.map((k) => JSON.stringify(k)).join(", "),
        `${unknown.length > 1 ? "are fields" : "is a field"} writtingNNs does not know for this model type, so it cannot tell whether ${unknown.length > 1 ? "they change" : "it changes"} the network`,
      );
    }
  }

  /** Wrap a config constructor's ArgumentError (a value out of range) as a LoadError of this file. */
  build<C>(f: () => C): C {
    try {
      return f();
    } catch (e) {
      if (e instanceof ArgumentError)
        throw new LoadError(`config.json (model_type ${JSON.stringify(this.type)}): ${e.message}`);
      throw e;
    }
  }
}

// =====================================================================================================
// A family: what a model folder declares (src/models/<paper>/hf.ts)

/** A tensor Hugging Face files may carry that is not a weight of ours: not loaded; a tied copy must match its twin's shape. */
export interface Extra {
  /** the names (after the family's aliases) */
  readonly pattern: RegExp;
  readonly why: string;
  /** for a tied copy: the tensor it copies */
  readonly tiedTo?: string;
}

/** The tensor `name` a file may carry as a copy of `tiedTo` (a tied head, an alias): not loaded, its shape checked. */
export const copyOf = (name: string, tiedTo: string, why: string): Extra => ({
  pattern: new RegExp(`^${name.replace(/\./g, "\\.")}$`),
  why,
  tiedTo,
});

/**
 * The masked-LM decoder's copies an encoder's file carries: `<head>.decoder.weight` (tied to the word
 * embeddings of `trunk`) and `<head>.decoder.bias` (an alias of `<head>.bias`). BERT and DeBERTa: head
 * "cls.predictions"; RoBERTa: "lm_head".
 */
export const mlmDecoderCopies = (head: string, trunk: string): Extra[] => [
  copyOf(
    `${head}.decoder.weight`,
    `${trunk}.embeddings.word_embeddings.weight`,
    "the MLM decoder, tied to word_embeddings",
  ),
  copyOf(`${head}.decoder.bias`, `${head}.bias`, `an alias of ${head}.bias`),
];

export type HFRole = "decoder" | "encoder" | "seq2seq";

export interface HFFamily<K extends string, C, M extends Module> {
  /** our name of the family (`wnn hf`'s kind) */
  readonly kind: K;
  /** config.json "model_type" values that name this family */
  readonly modelTypes: readonly string[];
  readonly role: HFRole;
  /**
   * The generic tie_word_embeddings field of every Hugging Face config, read once by configFromHF: true when our
   * model always ties its head to the embedding (the field, if present, must then be true), false when its head
   * always has a weight of its own (the field must be false), "copy" when either is read (a tied file holds no
   * head; our untied head starts as a copy of the embedding: `defaults` gets `tied`), undefined when readConfig
   * reads the field itself (a config of ours that has it).
   */
  readonly tiedHead?: boolean | "copy";
  /** tensors its files may hold that are not loaded */
  readonly extras: readonly Extra[];
  /** other spellings of the same tensor (the trunk saved without its prefix, ...), renamed before the check */
  alias?(name: string): string;
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
  /** tensors a valid file may leave out, and their values (a tied head, a zero buffer); `tied`: the file's tie_word_embeddings */
  defaults?(state: Record<string, Tensor>, c: C, tied: boolean): void;
}

/** A dropout rate read from the first of `fields` present (0 when none is). */
export const dropout = (r: ConfigReader, ...fields: string[]): number => r.num(fields, 0);
/** Names of a masked-LM head: an encoder file with them builds the model with its head. */
export const MASK_HEAD = /^(cls\.predictions\.|lm_head\.)/;
/** The trunk saved without its prefix (a GPT2Model, LlamaModel, ... file): add `prefix.` unless the name has it or is the head. */
export const withPrefix = (prefix: string, name: string): string =>
  name.startsWith(`${prefix}.`) || name.startsWith("lm_head.") ? name : `${prefix}.${name}`;
