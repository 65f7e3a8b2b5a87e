// One entry point for Hugging Face's tokenizer.json: read the file's "model.type" and hand it to the
// tokenizer that reads that kind. Byte-level BPE (GPT-2, RoBERTa, BART) and WordPiece (BERT) are read
// here today; BPE with byte fallback (LLaMA) and Unigram (T5) join them in this switch.

import { LoadError } from "../engine/errors.js";
import { BPETokenizer } from "./bpe.js";
import type { Tokenizer } from "./tokenizer.js";
import { WordPieceTokenizer } from "./wordpiece.js";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Read a tokenizer.json (its text or its parsed object) into the tokenizer its "model.type" names. */
export function tokenizerFromJSON(json: string | object): Tokenizer {
  let j: unknown = json;
  if (typeof json === "string") {
    try {
      j = JSON.parse(json);
    } catch (e) {
      throw new LoadError(`tokenizer.json: not valid JSON (${(e as Error).message})`);
    }
  }
  if (!isObject(j)) throw new LoadError(`tokenizer.json: expected an object at the top level`);
  const model = j.model;
  if (!isObject(model)) throw new LoadError(`tokenizer.json: "model" must be an object`);
  switch (model.type ?? "BPE") {
    case "BPE":
      return BPETokenizer.fromJSON(j);
    case "WordPiece":
      return WordPieceTokenizer.fromJSON(j);
    default:
      throw new LoadError(`tokenizer.json: model type ${JSON.stringify(model.type)} is not supported (supported: "BPE" byte-level, "WordPiece")`);
  }
}
