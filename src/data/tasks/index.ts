// Seeded synthetic tasks for sequence-to-sequence models (browser-safe).
export {
  PAD,
  BOS,
  EOS,
  SymbolVocab,
  distinctPairs,
  makeBatch,
  type Pair,
  type Seq2SeqBatch,
  type Seq2SeqTask,
} from "./seq.js";
export {
  DATE_FORMATS,
  datesTask,
  formatDate,
  isoDate,
  parseDate,
  randomDate,
  type CalendarDate,
  type DateFormat,
} from "./dates.js";
export { reversalTask, type ReversalOptions } from "./reversal.js";
export {
  GLOSSES,
  gloss,
  lexiconWords,
  makeLexicon,
  randomMeaning,
  sourceSentence,
  targetSentence,
  translationTask,
  type Language,
  type Lexicon,
  type Meaning,
  type MeaningOptions,
  type NounPhrase,
  type TranslationOptions,
} from "./translation.js";
export {
  bleuFromStats,
  corpusBleu,
  exactMatch,
  tokenize13a,
  type BleuOptions,
  type BleuScore,
  type SmoothMethod,
} from "./metrics.js";
