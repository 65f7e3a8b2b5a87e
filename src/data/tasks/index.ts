// Seeded synthetic tasks for sequence-to-sequence models (browser-safe).
export { PAD, BOS, EOS, SymbolVocab, distinctPairs, makeBatch, type Pair, type Seq2SeqBatch, type Seq2SeqTask } from "./seq.js";
export { DATE_FORMATS, datesTask, formatDate, isoDate, parseDate, randomDate, type CalendarDate, type DateFormat } from "./dates.js";
export { reversalTask, type ReversalOptions } from "./reversal.js";
