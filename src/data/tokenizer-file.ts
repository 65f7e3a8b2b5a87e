// The first steps of every reader of a Hugging Face tokenizer.json (bpe.ts, wordpiece.ts, hf-pipeline.ts,
// post-processor.ts, tokenizer-json.ts): take the file's text or its parsed object, refuse what is not a JSON
// object with a LoadError that says what was found.

import { LoadError } from "../engine/errors.js";
import { DEFAULT_MAX_JSON_DEPTH, parseJsonText, valueDepth } from "../engine/limits.js";

/** A JSON object: not null, not an array. */
export const isObject = (v: unknown): v is Record<string, any> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** What a JSON value is, for messages: "null", "an array", or its typeof. */
export const kind = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "an array" : typeof v);

/**
 * A tokenizer.json given as its text or as its parsed object → the object. With `model` (the default), its
 * "model" must be an object too.
 */
export function parseTokenizerJSON(json: string | object, opts: { model?: boolean } = {}): Record<string, any> {
  // the nesting is capped before anything walks it (normalizers, pre-tokenizers and decoders nest by
  // Sequence, and their readers recurse): a file cannot make the host's stack decide the outcome
  let j: unknown = json;
  if (typeof json === "string") j = parseJsonText(json, "tokenizer.json");
  else if (valueDepth(json, DEFAULT_MAX_JSON_DEPTH) > DEFAULT_MAX_JSON_DEPTH)
    throw new LoadError(`tokenizer.json: JSON nested deeper than ${DEFAULT_MAX_JSON_DEPTH} levels`);
  if (!isObject(j)) throw new LoadError(`tokenizer.json: expected an object at the top level, got ${kind(j)}`);
  if ((opts.model ?? true) && !isObject(j.model))
    throw new LoadError(`tokenizer.json: "model" must be an object, got ${kind(j.model)}`);
  return j;
}

/**
 * The number of token ids a tokenizer.json uses (its largest id + 1, over the model's vocabulary and the
 * added tokens), read without building the tokenizer: a file whose ids run past the model's vocabulary
 * is refused before its tables are built.
 */
export function tokenizerIdCount(json: string | object): number {
  const j = parseTokenizerJSON(json);
  let max = -1;
  const vocab = j.model.vocab;
  if (Array.isArray(vocab))
    max = vocab.length - 1; // Unigram: [piece, score] pairs, the id is the index
  else if (isObject(vocab)) for (const id of Object.values(vocab)) if (typeof id === "number" && id > max) max = id;
  if (Array.isArray(j.added_tokens))
    for (const t of j.added_tokens) if (isObject(t) && typeof t.id === "number" && t.id > max) max = t.id;
  return max + 1;
}

/** A LoadError when the tokenizer's ids run past the model's vocabulary of `vocabSize`. */
export function checkTokenizerFits(json: string | object, vocabSize: number, where = "tokenizer.json"): void {
  const n = tokenizerIdCount(json);
  if (n > vocabSize)
    throw new LoadError(
      `${where}: the tokenizer uses ids up to ${n - 1}, past the model's vocabulary of ${vocabSize} (config.json vocab_size); the tokenizer and the weights do not belong together`,
    );
}
