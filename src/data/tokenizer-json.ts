// One entry point for Hugging Face's tokenizer.json: read the file's "model.type" and hand it to the
// tokenizer that reads that kind:
//   - "BPE" with a ByteLevel pre-tokenizer or decoder → BPETokenizer (GPT-2, RoBERTa, BART);
//   - any other "BPE" (Metaspace / Prepend + Replace, byte fallback) → ByteFallbackBPETokenizer (LLaMA);
//   - "WordPiece" → WordPieceTokenizer (BERT);
//   - "Unigram" → UnigramTokenizer (T5, ALBERT).

import { LoadError } from "../engine/errors.js";
import { BPETokenizer } from "./bpe.js";
import { ByteFallbackBPETokenizer } from "./bpe-fallback.js";
import type { Tokenizer } from "./tokenizer.js";
import { isObject, parseTokenizerJSON } from "./tokenizer-file.js";
import { UnigramTokenizer } from "./unigram.js";
import { WordPieceTokenizer } from "./wordpiece.js";

/** True when a pre-tokenizer or decoder is ByteLevel, alone or inside a Sequence. */
function isByteLevel(spec: unknown): boolean {
  if (!isObject(spec)) return false;
  if (spec.type === "ByteLevel") return true;
  const inner = spec.pretokenizers ?? spec.decoders;
  return spec.type === "Sequence" && Array.isArray(inner) && inner.some(isByteLevel);
}

/** Read a tokenizer.json (its text or its parsed object) into the tokenizer its "model.type" names. */
export function tokenizerFromJSON(json: string | object): Tokenizer {
  const j = parseTokenizerJSON(json);
  const model = j.model;
  switch (model.type ?? "BPE") {
    case "BPE":
      if (model.byte_fallback !== true && (isByteLevel(j.pre_tokenizer) || isByteLevel(j.decoder)))
        return BPETokenizer.fromJSON(j);
      return ByteFallbackBPETokenizer.fromJSON(j);
    case "WordPiece":
      return WordPieceTokenizer.fromJSON(j);
    case "Unigram":
      return UnigramTokenizer.fromJSON(j);
    default:
      throw new LoadError(
        `tokenizer.json: model type ${JSON.stringify(model.type)} is not supported (supported: "BPE" byte-level or with byte fallback, "WordPiece", "Unigram")`,
      );
  }
}
