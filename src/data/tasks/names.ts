// The names task shared by the character-level language models (bengio-mlp, char-rnn, the tiny GPT in
// names-compare): learn to spell English first names one character at a time, then invent new ones.
//
// Each name is lower-cased and framed by one boundary token "." (id 0) that is both the start and the
// end token (makemore's convention): "emma" → inputs ". e m m a", targets "e m m a .". A batch pads the
// inputs with "." and the targets with IGNORE (PyTorch's default ignore_index), so a causal model's
// predictions at the real positions do not depend on the padding and the loss counts only real characters.
// The validation loss is the mean cross-entropy in nats per predicted character (the end token included),
// over every character of every validation name.
//
// Vocabulary (shape comments): B names in a batch, T = longest name in the batch + 1, V vocabulary.

import { noGrad } from "../../engine/autograd.js";
import { ArgumentError } from "../../engine/errors.js";
import { Generator } from "../../engine/rng.js";
import { Tensor } from "../../engine/tensor.js";
import { CharTokenizer } from "../char.js";
import { randomSplit } from "../batch.js";
import { crossEntropy } from "../../ops/nn.js";

/** The start and end token, id 0. */
export const BOUNDARY = ".";
/** The target of a padding position: ignored by crossEntropy (its default ignoreIndex). */
export const IGNORE = -100;

export interface NamesTask {
  tokenizer: CharTokenizer;
  /** every training name as ids, without the boundary tokens */
  train: Int32Array[];
  val: Int32Array[];
  /** the longest name (characters); a model needs a context of maxLen + 1 */
  maxLen: number;
}

/**
 * Lower-case and de-duplicate the names (so no name is in both halves), then a seeded 90/10 split.
 * The vocabulary is "." followed by the names' characters in code-point order.
 */
export function namesTask(words: readonly string[], opts: { seed?: number; fraction?: number } = {}): NamesTask {
  const names = [...new Set(words.map((w) => w.trim().toLowerCase()).filter((w) => w.length > 0))];
  if (names.length < 2) throw new ArgumentError(`namesTask: expected at least 2 distinct names, got ${names.length}`);
  if (names.some((n) => n.includes(BOUNDARY)))
    throw new ArgumentError(`namesTask: a name contains the boundary token "${BOUNDARY}"`);
  const chars = [...new Set(names.join(""))].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  const tokenizer = new CharTokenizer([BOUNDARY, ...chars]);
  const { train, val } = randomSplit(names, opts.fraction ?? 0.9, opts.seed ?? 0);
  const enc = (n: string): Int32Array => Int32Array.from(tokenizer.encode(n));
  return { tokenizer, train: train.map(enc), val: val.map(enc), maxLen: Math.max(...names.map((n) => [...n].length)) };
}

/** Names → x (B, T) int32 ". c1 … cn . . ." and y (B, T) int32 "c1 … cn . IGNORE …", T = longest + 1. */
export function frame(names: readonly Int32Array[]): { x: Tensor; y: Tensor } {
  const B = names.length;
  const T = Math.max(...names.map((n) => n.length)) + 1;
  const x = new Int32Array(B * T); // the boundary id 0 everywhere not written
  const y = new Int32Array(B * T).fill(IGNORE);
  names.forEach((n, b) => {
    x.set(n, b * T + 1); //      x = . c1 … cn
    y.set(n, b * T); //          y = c1 … cn .
    y[b * T + n.length] = 0;
  });
  return { x: new Tensor(x, [B, T]), y: new Tensor(y, [B, T]) };
}

/**
 * B names drawn uniformly with replacement from `names`, framed; with `rows`, only the names [start, start + count)
 * of the B drawn (a data-parallel worker's share: every worker draws the same B), and `terms` counts the
 * characters their targets hold (end tokens included) and those of all B.
 */
export function nameBatch(
  names: readonly Int32Array[],
  batchSize: number,
  generator: Generator,
  rows: { start: number; count: number } = { start: 0, count: batchSize },
): { x: Tensor; y: Tensor; terms: { mine: number; total: number } } {
  const picked = Array.from({ length: batchSize }, () => names[generator.randint(0, names.length)]!);
  const mine = picked.slice(rows.start, rows.start + rows.count);
  const count = (ns: readonly Int32Array[]): number => ns.reduce((n, nm) => n + nm.length + 1, 0);
  return { ...frame(mine), terms: { mine: count(mine), total: count(picked) } };
}

/** Anything that maps inputs (B, T) to next-character logits (B, T, V) at every position, causally. */
export type LogitsFn = (x: Tensor) => Tensor;

/** Mean cross-entropy in nats per character over every character (and end token) of `names`. */
export function evalLoss(logitsOf: LogitsFn, names: readonly Int32Array[], batchSize = 500): number {
  return noGrad(() => {
    let total = 0,
      count = 0;
    for (let i = 0; i < names.length; i += batchSize) {
      const chunk = names.slice(i, i + batchSize);
      const { x, y } = frame(chunk);
      const logits = logitsOf(x); // (B, T, V)
      const [B, T, V] = logits.shape as [number, number, number];
      const n = chunk.reduce((s, nm) => s + nm.length + 1, 0); // characters + end tokens
      total += crossEntropy(logits.reshape(B * T, V), y.reshape(B * T)).item() * n;
      count += n;
    }
    return total / count;
  });
}

/**
 * Sample one name: start from ".", draw each next character from softmax(logits/temperature) of the
 * last position until "." or maxLen characters. Recomputes the prefix at every step (names are short).
 */
export function sampleName(
  logitsOf: LogitsFn,
  task: NamesTask,
  generator: Generator,
  opts: { temperature?: number; maxLen?: number } = {},
): string {
  const temperature = opts.temperature ?? 1,
    maxLen = opts.maxLen ?? task.maxLen;
  const ids = [0];
  noGrad(() => {
    while (ids.length <= maxLen) {
      const logits = logitsOf(new Tensor(Int32Array.from(ids), [1, ids.length])); // (1, T, V)
      const V = logits.shape[2]!;
      const row = logits.storage.subarray((ids.length - 1) * V, ids.length * V);
      // p_i = e^{(z_i − z_max)/τ} / Σ_j e^{(z_j − z_max)/τ}, drawn by the inverse CDF
      let zMax = -Infinity;
      for (const z of row) zMax = Math.max(zMax, z);
      const p = Array.from(row, (z) => Math.exp((z - zMax) / temperature));
      let u = generator.random() * p.reduce((a, b) => a + b, 0),
        next = V - 1;
      for (let i = 0; i < V; i++)
        if ((u -= p[i]!) < 0) {
          next = i;
          break;
        }
      if (next === 0) break;
      ids.push(next);
    }
  });
  return task.tokenizer.decode(ids.slice(1));
}
