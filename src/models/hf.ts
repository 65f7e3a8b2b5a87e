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
// by each family.
//
// Each model folder declares its family in its own hf.ts (config reader, weight map, extras, aliases:
// the shape is HFFamily in ./hf-family.ts); this file keeps the machinery and the list below. Adding a
// model: write src/models/<paper>/hf.ts and add one import and one entry to FAMILY_LIST.

import { ArgumentError, LoadError, WnnError } from "../engine/errors.js";
import { fmt } from "../engine/shape.js";
import { shapeMismatch } from "./weight-map.js";
import type { Tensor } from "../engine/tensor.js";
import type { Module } from "../nn/module.js";
import { ConfigReader, type HFFamily } from "./hf-family.js";
import { hfFamily as gpt2 } from "./gpt2/hf.js";
import { hfFamily as llama } from "./llama/hf.js";
import { hfFamily as mixtral } from "./mixtral/hf.js";
import { hfFamily as bloom } from "./bloom/hf.js";
import { hfFamily as falcon } from "./falcon/hf.js";
import { hfFamily as bert } from "./bert/hf.js";
import { hfFamily as roberta } from "./roberta/hf.js";
import { hfFamily as deberta } from "./deberta/hf.js";
import { hfFamily as t5 } from "./t5/hf.js";
import { hfFamily as bart } from "./bart/hf.js";

export { ConfigReader, type HFFamily, type Extra, type HFRole } from "./hf-family.js";

// =====================================================================================================
// The families, one line each (each declared in its model's folder)

const FAMILY_LIST = [gpt2, llama, mixtral, bloom, falcon, bert, roberta, deberta, t5, bart] as const;

type AnyFamily = (typeof FAMILY_LIST)[number];
export type HFKind = AnyFamily["kind"];

/** What fromPretrained returns: the kind, the model and its config of one family. */
export type Pretrained = AnyFamily extends infer F
  ? F extends HFFamily<infer K, infer C, infer M>
    ? { kind: K; model: M; config: C }
    : never
  : never;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const FAMILY: Readonly<Record<HFKind, HFFamily<HFKind, any, any>>> = Object.freeze(
  Object.fromEntries(FAMILY_LIST.map((f) => [f.kind, f])) as Record<HFKind, HFFamily<HFKind, any, any>>,
);

/** config.json's "model_type" → our family. */
export const MODEL_TYPES: Readonly<Record<string, HFKind>> = Object.freeze(
  Object.fromEntries(FAMILY_LIST.flatMap((f) => f.modelTypes.map((t) => [t, f.kind]))),
);

export const DECODER_KINDS: readonly HFKind[] = FAMILY_LIST.filter((f) => f.role === "decoder").map((f) => f.kind);
export const ENCODER_KINDS: readonly HFKind[] = FAMILY_LIST.filter((f) => f.role === "encoder").map((f) => f.kind);
export const SEQ2SEQ_KINDS: readonly HFKind[] = FAMILY_LIST.filter((f) => f.role === "seq2seq").map((f) => f.kind);

/**
 * Other spellings of the same tensors, renamed before the check: TensorFlow-era LayerNorm names (gamma/beta,
 * which Hugging Face renames the same way) for every family, then the family's own (its trunk saved without
 * its prefix, ...).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function alias(family: HFFamily<HFKind, any, any>, name: string): string {
  name = name.replace(/\.gamma$/, ".weight").replace(/\.beta$/, ".bias");
  return family.alias ? family.alias(name) : name;
}

// =====================================================================================================
// Loading

/** config.json's model_type → our family, or a LoadError listing the supported ones. */
export function kindOf(config: Record<string, unknown>): HFKind {
  if (typeof config !== "object" || config === null || Array.isArray(config))
    throw new LoadError("config.json: expected a JSON object");
  const type = config.model_type;
  if (typeof type !== "string")
    throw new LoadError(
      `config.json: "model_type" is missing or not a string; it names the model (${Object.keys(MODEL_TYPES).join(", ")})`,
    );
  const kind = MODEL_TYPES[type];
  if (!kind || !Object.prototype.hasOwnProperty.call(MODEL_TYPES, type)) {
    throw new LoadError(
      `config.json: model_type ${JSON.stringify(type)} is not supported (supported: ${Object.keys(MODEL_TYPES).join(", ")})`,
    );
  }
  return kind;
}

/** Our config for a config.json (checked; unknown fields and unsupported settings are LoadErrors). */
export function configFromHF(config: Record<string, unknown>): { kind: HFKind; config: unknown; tied: boolean } {
  const kind = kindOf(config);
  const r = new ConfigReader(config, config.model_type as string);
  const family = FAMILY[kind];
  // the generic tie_word_embeddings of every Hugging Face config (Hugging Face's default: true)
  const { tiedHead } = family;
  let tied = true;
  if (tiedHead === "copy") tied = r.bool("tie_word_embeddings", false);
  else if (tiedHead !== undefined) {
    r.only(
      "tie_word_embeddings",
      tiedHead,
      [tiedHead],
      tiedHead ? "the output head is the word embedding" : "the output head has a weight of its own",
    );
    tied = tiedHead;
  }
  const c = family.readConfig(r);
  r.finish();
  return { kind, config: c, tied };
}

const MAX_LISTED = 12;
const list = (items: string[]): string =>
  items.length > MAX_LISTED ? `${items.slice(0, MAX_LISTED).join(", ")}, … (${items.length} in all)` : items.join(", ");

/**
 * Build the model a Hugging Face checkpoint describes and load its tensors: `{ config, tensors }` as
 * readHFFolder returns them. Names and shapes are checked against the model's weight map first; every
 * missing, unexpected and mis-shaped tensor is reported by name in one LoadError. The model is in eval mode.
 */
export function fromPretrained(files: {
  config: Record<string, unknown>;
  tensors: Record<string, Tensor>;
}): Pretrained {
  const { kind, config, tied } = configFromHF(files.config);
  const family = FAMILY[kind];

  // the file's names, with Hugging Face's other spellings of the same tensors renamed
  const state: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(files.tensors)) {
    const ours = alias(family, name);
    if (Object.prototype.hasOwnProperty.call(state, ours))
      throw new LoadError(
        `${kind} checkpoint: tensors ${JSON.stringify(name)} and another both name ${JSON.stringify(ours)}`,
      );
    state[ours] = t;
  }
  // a config.json that describes a far larger model than the tensors hold would make us allocate it all
  // before the names are compared: refuse it first (tied heads and zero buffers may be absent from files,
  // so the file may hold less than the model; a heads' worth, not twice as much)
  const held = Object.values(state).reduce((n, t) => n + t.numel(), 0);
  const needs = family.count(config);
  if (needs > 2 * held + 1_000_000) {
    throw new LoadError(
      `${kind} checkpoint: config.json describes a model of ${needs.toLocaleString("en-US")} parameters, but the files hold ${held.toLocaleString("en-US")} numbers`,
    );
  }
  const model: Module = family.build(config, new Set(Object.keys(state)));
  family.defaults?.(state, config, tied);

  // what the model's weight map expects: its own state written under the checkpoint's names
  const expected = family.toHF(model, config);
  const extras = family.extras;
  const missing: string[] = [],
    unexpected: string[] = [],
    misshaped: string[] = [];
  for (const [name, want] of Object.entries(expected)) {
    const got = state[name];
    const wrong = got && shapeMismatch(name, got.shape, want.shape);
    if (!got) missing.push(`${name} ${fmt(want.shape)}`);
    else if (wrong) misshaped.push(wrong);
    else if (got.dtype !== "float32" && got.dtype !== "float64")
      misshaped.push(`${name} is ${got.dtype}, expected floating point`);
  }
  for (const [name, t] of Object.entries(state)) {
    if (Object.prototype.hasOwnProperty.call(expected, name)) continue;
    const extra = extras.find((x) => x.pattern.test(name));
    if (!extra) {
      unexpected.push(`${name} ${fmt(t.shape)}`);
      continue;
    }
    const twin = extra.tiedTo ? (expected[extra.tiedTo] ?? state[extra.tiedTo]) : undefined;
    if (twin && fmt(twin.shape) !== fmt(t.shape))
      misshaped.push(`${name} is ${fmt(t.shape)} in the file, but it is ${extra.why} ${fmt(twin.shape)}`);
  }
  if (missing.length || unexpected.length || misshaped.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing tensors: ${list(missing)}`);
    if (unexpected.length) parts.push(`unexpected tensors: ${list(unexpected)}`);
    if (misshaped.length) parts.push(`wrong shapes: ${list(misshaped)}`);
    throw new LoadError(
      `${kind} checkpoint (${model.constructor.name}) does not match its config.json: ${parts.join("; ")}`,
    );
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
export function toHFFiles(
  kind: HFKind,
  model: Module,
  config: unknown,
): { config: Record<string, unknown>; tensors: Record<string, Tensor> } {
  const family = Object.prototype.hasOwnProperty.call(FAMILY, kind) ? FAMILY[kind] : undefined;
  if (!family)
    throw new ArgumentError(
      `toHFFiles: unknown model kind ${JSON.stringify(kind)} (${Object.keys(FAMILY).join(", ")})`,
    );
  return { config: family.writeConfig(config, model) as Record<string, unknown>, tensors: family.toHF(model, config) };
}
