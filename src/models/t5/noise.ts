// T5's pretraining objective: span corruption (Raffel et al. 2020, §3.1.4, https://arxiv.org/abs/1910.10683).
//
// "we randomly sample and then drop out 15% of tokens in the input sequence. All consecutive spans of
// dropped-out tokens are replaced by a single sentinel token. Each sentinel token is assigned a token ID that
// is unique to the sequence. … The target then corresponds to all of the dropped-out spans of tokens, delimited
// by the same sentinel tokens used in the input sequence plus a final sentinel token to mark the end of the
// target sequence" (Figure 2). §3.3.4 then fixes the span lengths: a mean span length of 3 (the baseline).
//
//   text    Thank you for inviting me to your party last week .
//   input   Thank you <X> me to your party <Y> week .
//   target  <X> for inviting <Y> last <Z>
//
// How the spans are drawn (the paper's released implementation, random_spans_noise_mask, as a fact; the code is
// ours): of n tokens, m = round(n·density) are noise, in k = round(m / meanSpanLength) spans. The m noise tokens
// are cut into k non-empty spans and the n − m kept tokens into k non-empty runs, each cut uniformly among the
// ways to cut (k − 1 distinct cut points), and the two alternate: kept run, noise span, kept run, …, noise span.
// So exactly m tokens are noise, in exactly k spans, and no two spans touch (each is one sentinel).
//
// Works on plain token-id arrays (one document, without EOS) and draws from a seeded Generator.

import { ArgumentError } from "../../engine/errors.js";
import type { Generator } from "../../engine/rng.js";

export interface SpanCorruptionOptions {
  /** the sentinels <extra_id_0>, <extra_id_1>, …: span i becomes sentinelIds[i]; one more ends the target */
  sentinelIds: readonly number[];
  /** the share of tokens dropped (0.15) */
  noiseDensity?: number;
  /** the mean length of a dropped span (3) */
  meanSpanLength?: number;
  generator: Generator;
}

export interface SpanCorruptionResult {
  /** the kept tokens, each dropped span replaced by its sentinel */
  input: number[];
  /** sentinel 0, span 0, sentinel 1, span 1, …, and the final sentinel k */
  target: number[];
  /** the dropped spans, in order (for the tests) */
  spans: { start: number; length: number }[];
}

/**
 * n items cut into k non-empty runs, uniformly over the C(n−1, k−1) ways: k − 1 distinct cut points drawn
 * from 1..n−1 (a partial Fisher–Yates shuffle), sorted → the k run lengths.
 */
export function randomSegmentation(n: number, k: number, generator: Generator): number[] {
  if (!(Number.isInteger(n) && Number.isInteger(k) && k >= 1 && k <= n))
    throw new ArgumentError(`randomSegmentation: need integers 1 ≤ k ≤ n, got n ${n}, k ${k}`);
  const points = Array.from({ length: n - 1 }, (_, i) => i + 1);
  for (let i = 0; i < k - 1; i++) {
    const j = i + generator.randint(0, points.length - i);
    [points[i], points[j]] = [points[j]!, points[i]!];
  }
  const cuts = points.slice(0, k - 1).sort((a, b) => a - b);
  const lengths: number[] = [];
  let prev = 0;
  for (const c of [...cuts, n]) {
    lengths.push(c - prev);
    prev = c;
  }
  return lengths;
}

/**
 * Span corruption of one document of n ≥ 2 tokens: m = round(n·density) noise tokens (kept in [1, n − 1]) in
 * k = round(m / meanSpanLength) spans (kept in [1, min(m, n − m)]), laid out as described at the top.
 */
export function spanCorruption(tokens: readonly number[], opts: SpanCorruptionOptions): SpanCorruptionResult {
  const { sentinelIds, noiseDensity = 0.15, meanSpanLength = 3, generator } = opts;
  const n = tokens.length;
  if (n < 2) throw new ArgumentError(`spanCorruption: a document needs at least 2 tokens, got ${n}`);
  if (!(noiseDensity > 0 && noiseDensity < 1))
    throw new ArgumentError(`spanCorruption: noiseDensity must be in (0, 1), got ${noiseDensity}`);
  if (!(meanSpanLength >= 1))
    throw new ArgumentError(`spanCorruption: meanSpanLength must be ≥ 1, got ${meanSpanLength}`);
  // m = round(n·density), k = round(m / μ)
  const m = Math.min(Math.max(Math.round(n * noiseDensity), 1), n - 1);
  const k = Math.min(Math.max(Math.round(m / meanSpanLength), 1), m, n - m);
  if (k + 1 > sentinelIds.length)
    throw new ArgumentError(
      `spanCorruption: ${k} spans need ${k + 1} sentinels, only ${sentinelIds.length} given (document of ${n} tokens)`,
    );
  const noise = randomSegmentation(m, k, generator);
  const kept = randomSegmentation(n - m, k, generator);
  const input: number[] = [],
    target: number[] = [],
    spans: { start: number; length: number }[] = [];
  let i = 0;
  for (let s = 0; s < k; s++) {
    // a kept run …
    for (let j = 0; j < kept[s]!; j++) input.push(tokens[i++]!);
    // … then a noise span: one sentinel in the input, the sentinel and the span in the target
    input.push(sentinelIds[s]!);
    target.push(sentinelIds[s]!);
    spans.push({ start: i, length: noise[s]! });
    for (let j = 0; j < noise[s]!; j++) target.push(tokens[i++]!);
  }
  target.push(sentinelIds[k]!); // the final sentinel
  return { input, target, spans };
}

/** The inverse, for tests and pictures: each sentinel of the input replaced by what follows it in the target. */
export function undoSpanCorruption(
  input: readonly number[],
  target: readonly number[],
  sentinelIds: readonly number[],
): number[] {
  const sentinel = new Map(sentinelIds.map((id, i) => [id, i]));
  const fill = new Map<number, number[]>();
  let current: number[] | null = null;
  for (const t of target) {
    if (sentinel.has(t)) fill.set(t, (current = []));
    else if (current) current.push(t);
    else throw new ArgumentError(`undoSpanCorruption: the target must start with a sentinel, got token ${t}`);
  }
  return input.flatMap((t) => {
    if (!sentinel.has(t)) return [t];
    const span = fill.get(t);
    if (!span) throw new ArgumentError(`undoSpanCorruption: sentinel ${t} of the input is not in the target`);
    return span;
  });
}
