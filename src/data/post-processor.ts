// tokenizer.json's "post_processor": the special tokens a model expects around an encoded text —
// [CLS] … [SEP] for BERT, <s> … </s> for RoBERTa and BART, <s> … for LLaMA, … </s> for T5. The tokenizers
// (src/data/tokenizer-json.ts) turn text into ids; this adds those tokens, for one sequence ("single").
//
//   null, ByteLevel                  nothing added
//   BertProcessing / RobertaProcessing  { cls: [token, id], sep: [token, id] }: cls, ids, sep
//   TemplateProcessing               { single: [{ SpecialToken: { id } } | { Sequence: { id: "A" } }, ...],
//                                      pair: [... "A" and "B" ...], special_tokens: { <id>: { ids: [..] } } }
//   Sequence                         { processors: [...] }, applied in order
//
// TemplateProcessing is read here once, for this file and for the sentencepiece-style pipeline
// (hf-pipeline.ts), with Hugging Face tokenizers' rules: a sequence is "A" or "B" and nothing else; the
// template for one text ("single") has only "A"; a special token takes its ids from special_tokens — the
// library never looks it up in the vocabulary, and one missing there is an error.

import { parseJsonText } from "../engine/limits.js";
import { LoadError } from "../engine/errors.js";
import { isObject, kind, parseTokenizerJSON } from "./tokenizer-file.js";

/** Adds a model's special tokens around the ids of one text. */
export type PostProcessor = (ids: readonly number[]) => number[];

const isId = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;

function pairToken(type: string, p: Record<string, unknown>, key: "cls" | "sep"): number {
  const v = p[key];
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== "string" || !isId(v[1])) {
    throw new LoadError(`tokenizer.json: post_processor ${type}.${key} must be [token, id], got ${JSON.stringify(v)}`);
  }
  return v[1];
}

/** A TemplateProcessing template: "A" / "B" for the first / second text's ids, or the ids of a special token. */
export type Template = (number[] | "A" | "B")[];
/** The template for one text: its ids ("A") and the ids of special tokens. */
export type SingleTemplate = (number[] | "A")[];

/** TemplateProcessing's templates, each special token replaced by its ids; pair is null where the file has none. */
export function templatesFromJSON(p: Record<string, unknown>): { single: SingleTemplate; pair: Template | null } {
  const special = isObject(p.special_tokens) ? p.special_tokens : {};
  const read = <S extends "A" | "B">(
    items: unknown,
    name: "single" | "pair",
    sequences: readonly S[],
  ): (number[] | S)[] => {
    if (!Array.isArray(items))
      throw new LoadError(
        `tokenizer.json: post_processor TemplateProcessing.${name} must be an array, got ${kind(items)}`,
      );
    return items.map((piece): number[] | S => {
      if (isObject(piece) && isObject(piece.Sequence)) {
        const id = piece.Sequence.id as S;
        if (sequences.includes(id)) return id;
        throw new LoadError(
          `tokenizer.json: TemplateProcessing.${name} refers to sequence ${JSON.stringify(id)}; ${name === "single" ? 'one text is "A"' : 'the two texts are "A" and "B"'}`,
        );
      }
      if (isObject(piece) && isObject(piece.SpecialToken) && typeof piece.SpecialToken.id === "string") {
        const token = piece.SpecialToken.id;
        const entry = Object.prototype.hasOwnProperty.call(special, token) ? special[token] : undefined;
        if (!isObject(entry) || !Array.isArray(entry.ids) || !entry.ids.every(isId)) {
          const found = entry === undefined ? "no entry" : JSON.stringify(entry);
          throw new LoadError(
            `tokenizer.json: TemplateProcessing uses the special token ${JSON.stringify(token)}, which special_tokens does not give ids (found ${found})`,
          );
        }
        return entry.ids as number[];
      }
      throw new LoadError(
        `tokenizer.json: TemplateProcessing.${name} has an entry ${JSON.stringify(piece)} that is neither a SpecialToken nor a Sequence`,
      );
    });
  };
  return {
    single: read(p.single, "single", ["A"]),
    pair: p.pair === undefined || p.pair === null ? null : read(p.pair, "pair", ["A", "B"]),
  };
}

/** One text's ids inside the single template. */
export const applySingle = (single: SingleTemplate, ids: readonly number[]): number[] =>
  single.flatMap((piece) => (piece === "A" ? ids : piece));

function one(p: unknown): PostProcessor {
  if (p === null || p === undefined) return (ids) => [...ids];
  if (!isObject(p) || typeof p.type !== "string")
    throw new LoadError(`tokenizer.json: post_processor must be an object with a "type"`);
  switch (p.type) {
    case "ByteLevel":
      return (ids) => [...ids]; // only moves offsets
    case "BertProcessing":
    case "RobertaProcessing": {
      const cls = pairToken(p.type, p, "cls"),
        sep = pairToken(p.type, p, "sep");
      return (ids) => [cls, ...ids, sep];
    }
    case "TemplateProcessing": {
      const { single } = templatesFromJSON(p);
      return (ids) => applySingle(single, ids);
    }
    case "Sequence": {
      if (!Array.isArray(p.processors))
        throw new LoadError(`tokenizer.json: post_processor Sequence.processors must be an array`);
      const steps = p.processors.map(one);
      return (ids) => steps.reduce<number[]>((acc, f) => f(acc), [...ids]);
    }
    default:
      throw new LoadError(
        `tokenizer.json: post_processor type ${JSON.stringify(p.type)} is not supported (ByteLevel, BertProcessing, RobertaProcessing, TemplateProcessing, Sequence)`,
      );
  }
}

/** The post-processor of a tokenizer.json (its text or parsed object). */
export function postProcessorFromJSON(json: string | object): PostProcessor {
  return one(parseTokenizerJSON(json, { model: false }).post_processor);
}

/** tokenizer.json's added_tokens: content, id, and whether it is special / strips the space on its left. */
export function addedTokens(
  json: string | object,
): { id: number; content: string; special: boolean; lstrip: boolean }[] {
  const j: unknown = typeof json === "string" ? parseJsonText(json, "tokenizer.json") : json;
  if (!isObject(j) || !Array.isArray(j.added_tokens)) return [];
  return j.added_tokens
    .filter((t): t is Record<string, unknown> => isObject(t) && typeof t.content === "string" && isId(t.id))
    .map((t) => ({
      id: t.id as number,
      content: t.content as string,
      special: t.special === true,
      lstrip: t.lstrip === true,
    }));
}
