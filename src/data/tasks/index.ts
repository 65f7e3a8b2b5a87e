// Synthetic, seeded sequence-to-sequence tasks (browser-safe) and their metrics: wnn.data.tasks.
export { Vocab, PAD, BOS, EOS, UNK, padSequences, seq2seqBatch, type Seq2SeqBatch } from "./vocab.js";
export { DATE_FORMATS, dateAlphabet, datePairs, formatDate, isoDate, ordinal, randomDate, type CalendarDate, type DateFormat, type DatePair, type DatePairOptions } from "./dates.js";
export {
  GLOSSES, gloss, lexiconWords, makeLexicon, randomMeaning, sourceSentence, targetSentence, translationPairs,
  type Language, type Lexicon, type Meaning, type MeaningOptions, type NounPhrase, type TranslationPair,
} from "./translation.js";
export { bleuFromStats, corpusBleu, exactMatch, tokenize13a, type BleuOptions, type BleuScore, type SmoothMethod } from "./metrics.js";
