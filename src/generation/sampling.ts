// Sampling: how the next token is chosen from a row of logits, shared by every language model of the zoo
// (greedy, temperature, top-k, top-p, the repetition penalty).
//   Holtzman et al. 2019, "The Curious Case of Neural Text Degeneration", https://arxiv.org/abs/1904.09751 (top-p)
//   Keskar et al. 2019, "CTRL", https://arxiv.org/abs/1909.05858 (the repetition penalty, §4.1)
//
// Vocabulary (shape comments): B rows, T tokens so far, V the vocabulary.

import { tensor } from "../engine/creation.js";
import { ArgumentError, ShapeError } from "../engine/errors.js";
import type { Generator } from "../engine/rng.js";
import { fmt } from "../engine/shape.js";
import type { Tensor } from "../engine/tensor.js";

export interface GenerateOptions {
  /** divide the logits by this before sampling; 0 takes the most likely token (greedy); default 1 */
  temperature?: number;
  /** sample only among the k most likely tokens */
  topK?: number | null;
  /** nucleus sampling: only among the most likely tokens whose probabilities sum to ≥ topP (default 1: all) */
  topP?: number;
  /** CTRL's repetition penalty θ on every token already in the sequence, prompt included (default 1: off; CTRL uses 1.2) */
  repetitionPenalty?: number;
  /** the source of the samples (default: the library's default generator) */
  generator?: Generator;
  /** feed only the new token each step, reusing cached keys and values (default true); false recomputes the window */
  useCache?: boolean;
}

/** How one token is chosen from a row of logits: what `sampleTokens` needs. */
export interface SamplingOptions {
  temperature: number;
  topK: number | null;
  topP: number;
  /** default 1 (off) */
  repetitionPenalty?: number;
}

/** The sampling options with their defaults (τ 1, no top-k, top-p 1, θ 1), checked. */
export function samplingOptions(opts: Partial<SamplingOptions> = {}, who = "generate"): Required<SamplingOptions> {
  const { temperature = 1, topK = null, topP = 1, repetitionPenalty = 1 } = opts;
  if (!(temperature >= 0)) throw new ArgumentError(`${who}: temperature must be ≥ 0, got ${temperature}`);
  if (topK !== null && !(Number.isInteger(topK) && topK >= 1))
    throw new ArgumentError(`${who}: topK must be a positive integer, got ${topK}`);
  if (!(topP > 0 && topP <= 1)) throw new ArgumentError(`${who}: topP must be in (0, 1], got ${topP}`);
  if (!(repetitionPenalty > 0 && Number.isFinite(repetitionPenalty)))
    throw new ArgumentError(`${who}: repetitionPenalty must be a positive number, got ${repetitionPenalty}`);
  return { temperature, topK, topP, repetitionPenalty };
}

/**
 * One token per row from logits (B, 1, V): the repetition penalty first, then greedy at temperature 0, else
 * top-k / top-p sampling. `context` (B, T) int32 holds each row's tokens so far, which the penalty lowers.
 * → (B, 1) int32
 */
export function sampleTokens(
  logits: Tensor,
  opts: SamplingOptions,
  generator: Generator,
  context?: Tensor | null,
): Tensor {
  const B = logits.shape[0]!,
    V = logits.shape[logits.ndim - 1]!;
  const penalty = opts.repetitionPenalty ?? 1;
  if (penalty !== 1 && (!context || context.ndim !== 2 || context.shape[0] !== B)) {
    throw new ShapeError(
      `sampleTokens: repetitionPenalty needs the context (B, T) of the ${B} rows, got ${context ? fmt(context.shape) : "none"}`,
    );
  }
  const out = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    let row: ArrayLike<number> = logits.storage.subarray(b * V, (b + 1) * V);
    if (penalty !== 1) {
      const T = context!.shape[1]!;
      row = penalizeRepetition(row, context!.storage.subarray(b * T, (b + 1) * T), penalty);
    }
    out[b] = opts.temperature === 0 ? argmax(row) : sampleRow(row, opts, generator);
  }
  return tensor(out, { shape: [B, 1] });
}

/**
 * The repetition penalty of CTRL (Keskar et al. 2019, §4.1, https://arxiv.org/abs/1909.05858) with Hugging
 * Face's signs: for every token i in `seen` (each once, however often it occurs)
 *   z_i ← z_i / θ  if z_i > 0,   z_i ← z_i · θ  if z_i < 0
 * so θ > 1 makes every seen token less likely (CTRL's z_i/θ alone would make a negative logit more likely).
 * → a float64 copy of row
 */
export function penalizeRepetition(row: ArrayLike<number>, seen: ArrayLike<number>, penalty: number): Float64Array {
  const z = Float64Array.from(row);
  const V = z.length;
  const done = new Uint8Array(V);
  for (let t = 0; t < seen.length; t++) {
    const i = seen[t]!;
    if (i < 0 || i >= V || done[i]) continue;
    done[i] = 1;
    z[i] = z[i]! < 0 ? z[i]! * penalty : z[i]! / penalty;
  }
  return z;
}

function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

function sampleRow(row: ArrayLike<number>, opts: SamplingOptions, generator: Generator): number {
  const V = row.length;
  // candidates sorted by logit, highest first
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => row[b]! - row[a]! || a - b);
  const keep = Math.min(opts.topK ?? V, V); // top-k: only the k highest logits
  // p_i = e^{(z_i − z_max)/τ} / Σ_j e^{(z_j − z_max)/τ}
  const zMax = row[order[0]!]!;
  const p = order.slice(0, keep).map((i) => Math.exp((row[i]! - zMax) / opts.temperature));
  const total = p.reduce((s, x) => s + x, 0);
  // top-p (Holtzman et al. 2019): the shortest prefix whose probability reaches topP
  let n = 0;
  for (let cum = 0; n < p.length && (n === 0 || cum < opts.topP * total); n++) cum += p[n]!;
  const mass = p.slice(0, n).reduce((s, x) => s + x, 0);
  // inverse CDF: the first candidate whose cumulative probability exceeds u
  let u = generator.random() * mass;
  for (let r = 0; r < n; r++) {
    u -= p[r]!;
    if (u < 0) return order[r]!;
  }
  return order[n - 1]!;
}
