// BART's noising functions (Lewis et al. 2020, §2.2, https://arxiv.org/abs/1910.13461), for the denoising
// pretraining: the model reads the corrupted document and is trained to write the original.
//
// - Text infilling: "A number of text spans are sampled, with span lengths drawn from a Poisson distribution
//   (λ = 3). Each span is replaced with a single [MASK] token. 0-length spans correspond to the insertion of
//   [MASK] tokens." The final model masks 30% of the tokens of each document (§5.1).
// - Sentence permutation: "A document is divided into sentences based on full stops, and these sentences
//   are shuffled in a random order."
//
// Both work on plain token-id arrays (one document, without <s> and </s>) and draw from a seeded Generator,
// so the same seed gives the same corruption.

import { ArgumentError } from "../../engine/errors.js";
import type { Generator } from "../../engine/rng.js";

/**
 * One draw of Poisson(λ) (Knuth): multiply uniforms u₁u₂… until the product falls to e^{−λ} or below;
 * the number of factors before that is k ~ Poisson(λ), P(k) = λ^k e^{−λ} / k!.
 */
export function samplePoisson(lambda: number, generator: Generator): number {
  if (!(lambda > 0 && lambda < 30)) throw new ArgumentError(`samplePoisson: lambda must be in (0, 30), got ${lambda}`);
  const limit = Math.exp(-lambda);
  let k = 0,
    p = generator.random();
  while (p > limit) {
    k++;
    p *= generator.random();
  }
  return k;
}

export interface InfillingOptions {
  /** the [MASK] token (<mask> is 50264 in bart-base) */
  maskId: number;
  /** the share of the document's tokens to mask (§5.1: 0.3) */
  maskRatio?: number;
  /** the mean span length λ of Poisson(λ) (3) */
  lambda?: number;
  generator: Generator;
}

export interface Span {
  /** the first masked token; for a 0-length span, the token before which a [MASK] is inserted */
  start: number;
  length: number;
}

export interface InfillingResult {
  /** the corrupted document: each span replaced by one maskId */
  tokens: number[];
  /** the spans, sorted by start (for the tests and the pictures) */
  spans: Span[];
}

/**
 * Text infilling. round(ratio·n) tokens are masked, in spans of Poisson(λ) lengths: span lengths are drawn
 * until they add up to the budget (the last one cut to fit, as fairseq does); each span is placed at a
 * start drawn uniformly among those where it touches no other span (so that every span stays one [MASK]);
 * a 0-length span inserts a [MASK] at a uniformly drawn free place (before a token or at the end, not
 * beside a span, at most one per place). A span that finds no place is dropped and another length drawn
 * (only on documents too short for the budget, where this shortens the spans).
 */
export function textInfilling(tokens: readonly number[], opts: InfillingOptions): InfillingResult {
  const { maskId, maskRatio = 0.3, lambda = 3, generator } = opts;
  if (!(maskRatio >= 0 && maskRatio <= 1))
    throw new ArgumentError(`textInfilling: maskRatio must be in [0, 1], got ${maskRatio}`);
  const n = tokens.length;
  const budget = Math.round(maskRatio * n);
  const taken = new Uint8Array(n); //            1 where a span covers the token
  const inserted = new Uint8Array(n + 1); //     1 where a [MASK] is inserted before token i (i = n: at the end)
  const spans: Span[] = [];
  let masked = 0,
    tries = 0;
  while (masked < budget && tries++ < 10 * n + 100) {
    const length = Math.min(samplePoisson(lambda, generator), budget - masked);
    if (length === 0) {
      // a 0-length span: a [MASK] inserted before token i, where no other span begins, ends or is inserted
      const free: number[] = [];
      for (let i = 0; i <= n; i++) if (!inserted[i] && !(i < n && taken[i]) && !(i > 0 && taken[i - 1])) free.push(i);
      if (free.length === 0) continue;
      const i = free[generator.randint(0, free.length)]!;
      inserted[i] = 1;
      spans.push({ start: i, length: 0 });
      continue;
    }
    // the starts s where [s, s+length) and its two neighbours are free, and no [MASK] is inserted inside or beside it
    const free: number[] = [];
    for (let s = 0; s + length <= n; s++) {
      let ok = true;
      for (let j = Math.max(0, s - 1); j < Math.min(n, s + length + 1) && ok; j++) ok = !taken[j];
      for (let j = s; j <= s + length && ok; j++) ok = !inserted[j];
      if (ok) free.push(s);
    }
    if (free.length === 0) continue;
    const s = free[generator.randint(0, free.length)]!;
    taken.fill(1, s, s + length);
    spans.push({ start: s, length });
    masked += length;
  }
  spans.sort((a, b) => a.start - b.start || a.length - b.length);
  // y: every token outside the spans, one maskId per span
  const out: number[] = [];
  for (let i = 0; i <= n; i++) {
    if (inserted[i]) out.push(maskId);
    if (i === n) break;
    if (taken[i]) {
      if (i === 0 || !taken[i - 1]) out.push(maskId);
    } else {
      out.push(tokens[i]!);
    }
  }
  return { tokens: out, spans };
}

export interface PermutationOptions {
  /** the tokens that end a sentence (full stops, question and exclamation marks) */
  sentenceEnds: readonly number[];
  generator: Generator;
}

/**
 * Sentence permutation: split the document after every sentence end (a trailing piece without one is a
 * sentence too) and shuffle the sentences (Fisher–Yates, uniform over the orders).
 */
export function sentencePermutation(tokens: readonly number[], opts: PermutationOptions): number[] {
  const ends = new Set(opts.sentenceEnds);
  const sentences: number[][] = [];
  let current: number[] = [];
  for (const t of tokens) {
    current.push(t);
    if (ends.has(t)) {
      sentences.push(current);
      current = [];
    }
  }
  if (current.length) sentences.push(current);
  for (let i = sentences.length - 1; i > 0; i--) {
    // swap sentence i with a uniformly drawn j ≤ i
    const j = opts.generator.randint(0, i + 1);
    [sentences[i], sentences[j]] = [sentences[j]!, sentences[i]!];
  }
  return sentences.flat();
}
