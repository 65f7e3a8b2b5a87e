// What a sequence-to-sequence task hands a model: pairs of token sequences, a vocabulary for each side
// with the three special tokens at fixed ids, and padded int32 batches.
//
//   PAD = 0   fills a batch's short rows; ignored by the loss and masked out of attention
//   BOS = 1   the decoder's first input
//   EOS = 2   the last target token: the decoder stops after producing it
//
// Vocabulary (shape comments): B examples in a batch, S source tokens, T target tokens (+1 for BOS/EOS).

import { ArgumentError } from "../../engine/errors.js";
import type { Generator } from "../../engine/rng.js";
import { tensor } from "../../engine/creation.js";
import type { Tensor } from "../../engine/tensor.js";

export const PAD = 0,
  BOS = 1,
  EOS = 2;
const SPECIALS = ["<pad>", "<bos>", "<eos>"] as const;

/** A task's example: the source and target as strings of symbols (characters, or tokens joined by spaces). */
export interface Pair {
  src: string;
  tgt: string;
}

/** A closed vocabulary of symbols after the three specials: symbol k has id k + 3. */
export class SymbolVocab {
  readonly symbols: readonly string[];
  private readonly ids: Map<string, number>;

  constructor(symbols: Iterable<string>) {
    this.symbols = [...new Set(symbols)];
    this.ids = new Map(this.symbols.map((s, i) => [s, i + SPECIALS.length]));
  }

  get size(): number {
    return this.symbols.length + SPECIALS.length;
  }

  /** symbols → ids; an unknown symbol throws (a task's vocabulary is closed) */
  encode(symbols: readonly string[]): number[] {
    return symbols.map((s) => {
      const id = this.ids.get(s);
      if (id === undefined) throw new ArgumentError(`SymbolVocab: unknown symbol ${JSON.stringify(s)}`);
      return id;
    });
  }

  /** ids → symbols, stopping at EOS, skipping PAD and BOS */
  decode(ids: readonly number[]): string[] {
    const out: string[] = [];
    for (const id of ids) {
      if (id === EOS) break;
      if (id < SPECIALS.length) continue;
      const s = this.symbols[id - SPECIALS.length];
      if (s === undefined) throw new ArgumentError(`SymbolVocab: id ${id} is outside the vocabulary of ${this.size}`);
      out.push(s);
    }
    return out;
  }
}

/** A seq2seq task: how to split its strings into symbols, its two vocabularies, and a seeded sampler. */
export interface Seq2SeqTask {
  readonly name: string;
  readonly srcVocab: SymbolVocab;
  readonly tgtVocab: SymbolVocab;
  /** a string → its symbols (characters for dates, space-separated tokens for reversal) */
  split(s: string): string[];
  /** the symbols → a string (the inverse of split) */
  join(symbols: readonly string[]): string;
  /** one random example */
  sample(generator: Generator): Pair;
  /** the longest target in symbols (greedy decoding stops there) */
  readonly maxTgtLen: number;
}

/** n distinct examples (by source) that are not in `exclude`; for held-out sets. */
export function distinctPairs(
  task: Seq2SeqTask,
  n: number,
  generator: Generator,
  exclude: ReadonlySet<string> = new Set(),
): Pair[] {
  const seen = new Set<string>(),
    out: Pair[] = [];
  for (let tries = 0; out.length < n; tries++) {
    if (tries > 100 * n + 1000)
      throw new ArgumentError(`distinctPairs: could not draw ${n} distinct ${task.name} examples`);
    const p = task.sample(generator);
    if (seen.has(p.src) || exclude.has(p.src)) continue;
    seen.add(p.src);
    out.push(p);
  }
  return out;
}

export interface Seq2SeqBatch {
  src: Tensor; //  (B, S) int32, PAD after each row's end
  tgtIn: Tensor; // (B, T+1) int32: BOS y_1 … y_n, then PAD
  tgtOut: Tensor; // (B, T+1) int32: y_1 … y_n EOS, then PAD
}

/** Encode and pad a list of pairs: the source as is, the target shifted for teacher forcing. */
export function makeBatch(task: Seq2SeqTask, pairs: readonly Pair[]): Seq2SeqBatch {
  if (pairs.length === 0) throw new ArgumentError("makeBatch: no pairs");
  const srcs = pairs.map((p) => task.srcVocab.encode(task.split(p.src)));
  const tgts = pairs.map((p) => task.tgtVocab.encode(task.split(p.tgt)));
  const B = pairs.length;
  const S = Math.max(...srcs.map((s) => s.length)),
    T = Math.max(...tgts.map((t) => t.length)) + 1;
  const src = new Int32Array(B * S),
    tgtIn = new Int32Array(B * T),
    tgtOut = new Int32Array(B * T); // PAD = 0
  for (let b = 0; b < B; b++) {
    src.set(srcs[b]!, b * S);
    const y = tgts[b]!;
    tgtIn[b * T] = BOS;
    tgtIn.set(y, b * T + 1);
    tgtOut.set(y, b * T);
    tgtOut[b * T + y.length] = EOS;
  }
  return {
    src: tensor(src, { shape: [B, S] }),
    tgtIn: tensor(tgtIn, { shape: [B, T] }),
    tgtOut: tensor(tgtOut, { shape: [B, T] }),
  };
}

/**
 * Batches of similar source lengths (less padding, less time), from the task's seeded stream with the held-out
 * sources rejected: 8 batches' worth are drawn, sorted by `length` of the source, cut into batches and taken in
 * a random order (a Fisher–Yates shuffle from the same generator); then 8 more. → the next batch's pairs.
 */
export function bucketedBatches(
  task: Seq2SeqTask,
  data: Generator,
  batch: number,
  heldOut: ReadonlySet<string>,
  length: (src: string) => number,
): () => Pair[] {
  let queue: Pair[][] = [];
  return () => {
    if (queue.length === 0) {
      const pool: Pair[] = [];
      while (pool.length < 8 * batch) {
        const p = task.sample(data);
        if (!heldOut.has(p.src)) pool.push(p);
      }
      pool.sort((a, b) => length(a.src) - length(b.src));
      queue = Array.from({ length: 8 }, (_, k) => pool.slice(k * batch, (k + 1) * batch));
      for (let k = queue.length - 1; k > 0; k--) {
        const r = data.randint(0, k + 1);
        [queue[k], queue[r]] = [queue[r]!, queue[k]!];
      }
    }
    return queue.pop()!;
  };
}
