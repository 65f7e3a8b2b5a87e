// Reversal: a sequence of random tokens → the same tokens in reverse order ("k c q a" → "a q c k").
// A seeded, synthetic task on which a seq2seq model without attention fails as the input grows: the
// decoder must emit first what the encoder read last and last what it read first, and one fixed-size
// state has to carry the whole sequence. With attention the decoder looks the token up.
//
// Tokens are drawn uniformly (with repeats) from `vocab` symbols; lengths uniformly from minLen…maxLen.

import { ArgumentError } from "../../engine/errors.js";
import type { Generator } from "../../engine/rng.js";
import { SymbolVocab, type Pair, type Seq2SeqTask } from "./seq.js";

export interface ReversalOptions {
  /** how many distinct tokens (default 20: "a" … "t") */
  vocab?: number;
  /** shortest and longest sequence, inclusive (default 5 … 40) */
  minLen?: number;
  maxLen?: number;
}

export function reversalTask(opts: ReversalOptions = {}): Seq2SeqTask {
  const { vocab = 20, minLen = 5, maxLen = 40 } = opts;
  if (!Number.isInteger(vocab) || vocab < 2 || vocab > 26)
    throw new ArgumentError(`reversalTask: vocab must be an integer in 2…26, got ${vocab}`);
  if (!Number.isInteger(minLen) || !Number.isInteger(maxLen) || minLen < 1 || maxLen < minLen) {
    throw new ArgumentError(`reversalTask: need integers 1 ≤ minLen ≤ maxLen, got ${minLen} and ${maxLen}`);
  }
  const symbols = Array.from({ length: vocab }, (_, i) => String.fromCharCode(97 + i)); // a, b, c, …
  const words = (s: string): string[] => (s === "" ? [] : s.split(" "));
  return {
    name: "reversal",
    srcVocab: new SymbolVocab(symbols),
    tgtVocab: new SymbolVocab(symbols),
    split: words,
    join: (tokens) => tokens.join(" "),
    maxTgtLen: maxLen,
    sample(generator: Generator): Pair {
      const n = generator.randint(minLen, maxLen + 1);
      const seq = Array.from({ length: n }, () => symbols[generator.randint(0, vocab)]!);
      return { src: seq.join(" "), tgt: [...seq].reverse().join(" ") };
    },
  };
}
