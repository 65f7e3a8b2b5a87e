// Splitting data and sampling batches, as nanoGPT's train.py does for a stream of tokens:
//
//   n = int(0.9 * len(data)); train_data = data[:n]; val_data = data[n:]
//   ix = torch.randint(len(data) - block_size, (batch_size,))
//   x = torch.stack([data[i:i+block_size] for i in ix]); y = torch.stack([data[i+1:i+1+block_size] for i in ix])
//
// Every random draw comes from a Generator, so saving its state (generator.getState()) in a checkpoint
// and restoring it resumes the same sequence of batches.

import { ArgumentError } from "../engine/errors.js";
import { Generator, defaultGenerator } from "../engine/rng.js";
import { fmt } from "../engine/shape.js";
import { Tensor } from "../engine/tensor.js";

/** Anything with a length that slices into its own kind: a string, an array, a typed array. */
export interface Sliceable<T> {
  readonly length: number;
  slice(start?: number, end?: number): T;
}

/**
 * The first `fraction` of the data for training, the rest for validation, in order (no shuffling: a
 * token stream keeps its text contiguous). `n = ⌊fraction · length⌋` as nanoGPT's `int(0.9 * len)`.
 */
export function trainValSplit<T extends Sliceable<T>>(data: T, fraction = 0.9): { train: T; val: T } {
  checkFraction("trainValSplit", fraction);
  const n = Math.floor(fraction * data.length);
  return { train: data.slice(0, n), val: data.slice(n) };
}

/**
 * A seeded shuffle of a list, then its first `fraction` for training and the rest for validation
 * (for lists of independent items: names, images). `generator` is a Generator or a seed (default 0).
 */
export function randomSplit<T>(
  items: readonly T[],
  fraction = 0.9,
  generator: Generator | number = 0,
): { train: T[]; val: T[] } {
  checkFraction("randomSplit", fraction);
  const shuffled = shuffle(items, generator);
  const n = Math.floor(fraction * shuffled.length);
  return { train: shuffled.slice(0, n), val: shuffled.slice(n) };
}

/** A shuffled copy (Fisher–Yates, drawing from `generator`, or from a new Generator seeded with it). */
export function shuffle<T>(items: readonly T[], generator: Generator | number = 0): T[] {
  const gen = typeof generator === "number" ? new Generator(generator) : generator;
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = gen.randint(0, i + 1); // j uniform in [0, i]
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * A random batch of `batchSize` windows of `blockSize` tokens: x = data[i : i+T], y = data[i+1 : i+1+T]
 * (the next token at every position), with offsets i drawn uniformly from [0, length − blockSize).
 * Returns int32 tensors x, y of shape (B, T).
 */
export function getBatch(
  data: Int32Array | Tensor,
  blockSize: number,
  batchSize: number,
  generator: Generator = defaultGenerator,
): { x: Tensor; y: Tensor } {
  const tokens = data instanceof Tensor ? tokensOf(data) : data;
  if (!Number.isInteger(blockSize) || blockSize < 1)
    throw new ArgumentError(`getBatch: blockSize must be a positive integer, got ${blockSize}`);
  if (!Number.isInteger(batchSize) || batchSize < 0)
    throw new ArgumentError(`getBatch: batchSize must be a non-negative integer, got ${batchSize}`);
  if (tokens.length <= blockSize) {
    throw new ArgumentError(
      `getBatch: ${tokens.length} tokens are too few for blocks of ${blockSize} (each block needs ${blockSize + 1} tokens: its inputs and the next one)`,
    );
  }
  const B = batchSize,
    T = blockSize;
  const x = new Int32Array(B * T); // (B, T)
  const y = new Int32Array(B * T); // (B, T)
  for (let b = 0; b < B; b++) {
    const i = generator.randint(0, tokens.length - T); // i ∈ [0, len − T)
    x.set(tokens.subarray(i, i + T), b * T);
    y.set(tokens.subarray(i + 1, i + 1 + T), b * T);
  }
  return { x: new Tensor(x, [B, T]), y: new Tensor(y, [B, T]) };
}

function tokensOf(t: Tensor): Int32Array {
  if (t.dtype !== "int32" || t.ndim !== 1)
    throw new ArgumentError(`getBatch: expected a 1-d int32 tensor of tokens, got ${t.dtype} of shape ${fmt(t.shape)}`);
  return t.storage as Int32Array;
}

function checkFraction(op: string, fraction: number): void {
  if (!(fraction >= 0 && fraction <= 1)) throw new ArgumentError(`${op}: fraction must be in [0, 1], got ${fraction}`);
}

/**
 * A seeded split that keeps each class's share: the items of every label (in order of first appearance)
 * are shuffled on their own and cut at ⌊fraction·n_label⌋, then the training and validation lists are
 * each shuffled once more so that the classes mix. `labelOf` gives an item's class (any string or number).
 */
export function stratifiedSplit<T>(
  items: readonly T[],
  labelOf: (item: T) => string | number,
  fraction = 0.9,
  generator: Generator | number = 0,
): { train: T[]; val: T[] } {
  checkFraction("stratifiedSplit", fraction);
  const gen = typeof generator === "number" ? new Generator(generator) : generator;
  const byLabel = new Map<string | number, T[]>();
  for (const item of items) {
    const label = labelOf(item);
    let group = byLabel.get(label);
    if (!group) byLabel.set(label, (group = []));
    group.push(item);
  }
  const train: T[] = [],
    val: T[] = [];
  for (const group of byLabel.values()) {
    const shuffled = shuffle(group, gen);
    const n = Math.floor(fraction * shuffled.length);
    train.push(...shuffled.slice(0, n));
    val.push(...shuffled.slice(n));
  }
  return { train: shuffle(train, gen), val: shuffle(val, gen) };
}
