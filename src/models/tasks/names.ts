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
import { CharTokenizer } from "../../data/char.js";
import { randomSplit } from "../../data/batch.js";
import { crossEntropy } from "../../ops/nn.js";
import { AdamW } from "../../optim/adam.js";
import { clipGradNorm } from "../../optim/clip.js";

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
  if (names.some((n) => n.includes(BOUNDARY))) throw new ArgumentError(`namesTask: a name contains the boundary token "${BOUNDARY}"`);
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

/** B names drawn uniformly with replacement from `names`, framed. */
export function nameBatch(names: readonly Int32Array[], batchSize: number, generator: Generator): { x: Tensor; y: Tensor } {
  const picked = Array.from({ length: batchSize }, () => names[generator.randint(0, names.length)]!);
  return frame(picked);
}

/** Anything that maps inputs (B, T) to next-character logits (B, T, V) at every position, causally. */
export type LogitsFn = (x: Tensor) => Tensor;

/** Mean cross-entropy in nats per character over every character (and end token) of `names`. */
export function evalLoss(logitsOf: LogitsFn, names: readonly Int32Array[], batchSize = 500): number {
  return noGrad(() => {
    let total = 0, count = 0;
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
export function sampleName(logitsOf: LogitsFn, task: NamesTask, generator: Generator, opts: { temperature?: number; maxLen?: number } = {}): string {
  const temperature = opts.temperature ?? 1, maxLen = opts.maxLen ?? task.maxLen;
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
      let u = generator.random() * p.reduce((a, b) => a + b, 0), next = V - 1;
      for (let i = 0; i < V; i++) if ((u -= p[i]!) < 0) { next = i; break; }
      if (next === 0) break;
      ids.push(next);
    }
  });
  return task.tokenizer.decode(ids.slice(1));
}

// =====================================================================================================
// Training: the loop every model of the comparison runs, with the same batches for the same seed

/** What the loop needs of a model: the siblings' forward(idx, targets) → { logits, loss }. */
export interface NameModel {
  forward(idx: Tensor, targets?: Tensor | null): { logits: Tensor; loss: Tensor | null };
  parameters(): Tensor[];
  numParameters(): number;
  train(mode?: boolean): unknown;
  eval(): unknown;
}

export interface TrainOptions {
  steps: number;
  batchSize: number;
  lr: number;
  /** evaluate the validation loss every this many steps (and at the end) */
  evalEvery: number;
  /** clip the gradient norm to this (0: no clipping) */
  clip: number;
  /** the seed of the batches and samples */
  seed: number;
  /** how many names to sample at the end */
  samples: number;
}

export interface TrainResult {
  params: number;
  /** seconds of the training steps (evaluations excluded) */
  seconds: number;
  /** validation loss in nats per character at the end */
  valLoss: number;
  /** the last 100 steps' mean training loss */
  trainLoss: number;
  /** [step, validation loss] at each evaluation */
  curve: [number, number][];
  samples: string[];
}

const now = (): number => globalThis.performance.now();

/**
 * AdamW (weight decay 0.01) at a constant lr with gradient clipping, `steps` batches of `batchSize` names
 * drawn from a Generator seeded with `seed` — so every model sees the same batches — then the validation
 * loss and `samples` names sampled at temperature 1.
 */
export function trainOnNames(model: NameModel, task: NamesTask, o: TrainOptions, log: (line: string) => void = () => {}): TrainResult {
  const batches = new Generator(o.seed);
  const opt = new AdamW(model.parameters(), { lr: o.lr, weightDecay: 0.01 });
  const logitsOf: LogitsFn = (x) => model.forward(x).logits;
  const curve: [number, number][] = [];
  const recent: number[] = [];
  let seconds = 0;
  model.train();
  for (let step = 1; step <= o.steps; step++) {
    const t0 = now();
    const { x, y } = nameBatch(task.train, o.batchSize, batches);
    const { loss } = model.forward(x, y);
    for (const p of model.parameters()) p.grad = null;
    loss!.backward();
    if (o.clip > 0) clipGradNorm(model.parameters(), o.clip);
    opt.step();
    seconds += (now() - t0) / 1000;
    recent.push(loss!.item());
    if (recent.length > 100) recent.shift();
    if (step % o.evalEvery === 0 || step === o.steps) {
      model.eval();
      const val = evalLoss(logitsOf, task.val);
      model.train();
      curve.push([step, val]);
      log(`step ${step}/${o.steps}: train ${mean(recent).toFixed(4)}, val ${val.toFixed(4)} nats/char (${seconds.toFixed(1)} s)`);
    }
  }
  model.eval();
  const sampler = new Generator(o.seed + 1);
  const samples = Array.from({ length: o.samples }, () => sampleName(logitsOf, task, sampler));
  model.train();
  return { params: model.numParameters(), seconds, valLoss: curve[curve.length - 1]![1], trainLoss: mean(recent), curve, samples };
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
