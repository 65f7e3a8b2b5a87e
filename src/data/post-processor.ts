// tokenizer.json's "post_processor": the special tokens a model expects around an encoded text —
// [CLS] … [SEP] for BERT, <s> … </s> for RoBERTa and BART, <s> … for LLaMA, … </s> for T5. The tokenizers
// (src/data/tokenizer-json.ts) turn text into ids; this adds those tokens, for one sequence ("single").
//
//   null, ByteLevel                  nothing added
//   BertProcessing / RobertaProcessing  { cls: [token, id], sep: [token, id] }: cls, ids, sep
//   TemplateProcessing               { single: [{ SpecialToken: { id } } | { Sequence: { id: "A" } }, ...],
//                                      special_tokens: { <id>: { ids: [..] } } }
//   Sequence                         { processors: [...] }, applied in order

import { LoadError } from "../engine/errors.js";
import { isObject, parseTokenizerJSON } from "./tokenizer-file.js";

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

function one(p: unknown): PostProcessor {
  if (p === null || p === undefined) return (ids) => [...ids];
  if (!isObject(p) || typeof p.type !== "string") throw new LoadError(`tokenizer.json: post_processor must be an object with a "type"`);
  switch (p.type) {
    case "ByteLevel":
      return (ids) => [...ids]; // only moves offsets
    case "BertProcessing":
    case "RobertaProcessing": {
      const cls = pairToken(p.type, p, "cls"), sep = pairToken(p.type, p, "sep");
      return (ids) => [cls, ...ids, sep];
    }
    case "TemplateProcessing": {
      const special = isObject(p.special_tokens) ? p.special_tokens : {};
      if (!Array.isArray(p.single)) throw new LoadError(`tokenizer.json: post_processor TemplateProcessing.single must be an array`);
      const pieces = p.single.map((piece): number[] | "A" => {
        if (isObject(piece) && isObject(piece.Sequence)) {
          if (piece.Sequence.id !== "A") throw new LoadError(`tokenizer.json: TemplateProcessing.single refers to sequence ${JSON.stringify(piece.Sequence.id)}; one text is "A"`);
          return "A";
        }
        if (isObject(piece) && isObject(piece.SpecialToken) && typeof piece.SpecialToken.id === "string") {
          const name = piece.SpecialToken.id;
          const entry = Object.prototype.hasOwnProperty.call(special, name) ? special[name] : undefined;
          if (!isObject(entry) || !Array.isArray(entry.ids) || !entry.ids.every(isId)) {
            throw new LoadError(`tokenizer.json: TemplateProcessing uses the special token ${JSON.stringify(name)}, which special_tokens does not give ids`);
          }
          return entry.ids as number[];
        }
        throw new LoadError(`tokenizer.json: TemplateProcessing.single has an entry ${JSON.stringify(piece)} that is neither a SpecialToken nor a Sequence`);
      });
      return (ids) => pieces.flatMap((piece) => (piece === "A" ? [...ids] : piece));
    }
    case "Sequence": {
      if (!Array.isArray(p.processors)) throw new LoadError(`tokenizer.json: post_processor Sequence.processors must be an array`);
      const steps = p.processors.map(one);
      return (ids) => steps.reduce<number[]>((acc, f) => f(acc), [...ids]);
    }
    default:
      throw new LoadError(`tokenizer.json: post_processor type ${JSON.stringify(p.type)} is not supported (ByteLevel, BertProcessing, RobertaProcessing, TemplateProcessing, Sequence)`);
  }
}

/** The post-processor of a tokenizer.json (its text or parsed object). */
export function postProcessorFromJSON(json: string | object): PostProcessor {
  return one(parseTokenizerJSON(json, { model: false }).post_processor);
}

/** tokenizer.json's added_tokens: content, id, and whether it is special / strips the space on its left. */
export function addedTokens(json: string | object): { id: number; content: string; special: boolean; lstrip: boolean }[] {
  const j: unknown = typeof json === "string" ? JSON.parse(json) : json;
  if (!isObject(j) || !Array.isArray(j.added_tokens)) return [];
  return j.added_tokens
    .filter((t): t is Record<string, unknown> => isObject(t) && typeof t.content === "string" && isId(t.id))
    .map((t) => ({ id: t.id as number, content: t.content as string, special: t.special === true, lstrip: t.lstrip === true }));
}
