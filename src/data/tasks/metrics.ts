// Metrics of sequence-to-sequence tasks: exact match, and corpus BLEU as sacrebleu computes it.
//
// BLEU (Papineni et al. 2002, https://aclanthology.org/P02-1040) as defined by sacrebleu (Post 2018,
// "A Call for Clarity in Reporting BLEU Scores", https://aclanthology.org/W18-6319), corpus_bleu's defaults:
//   1. every hypothesis and reference is right-stripped and tokenised with 13a (mteval-v13a's tokeniser,
//      below); tokens are then split on whitespace;
//   2. for n = 1…4: total_n = the hypothesis n-grams, correct_n = those matched, each n-gram's count clipped
//      to its largest count in any one reference of that segment; both summed over the corpus;
//   3. sys_len = Σ hypothesis tokens, ref_len = Σ the reference length closest to each hypothesis's
//      (ties: the shorter);
//   4. BP = 1 if sys_len ≥ ref_len, else exp(1 − ref_len/sys_len) (0 when sys_len = 0);
//   5. p_n = 100·correct_n/total_n;  BLEU = BP·exp(¼·Σ_n log p_n), on a 0–100 scale;
//      0 when nothing matched at all. Smoothing of orders with no match: sacrebleu's default is "exp"
//      (p_n = 100/(2^k·total_n) for the k-th such order, mteval's NIST smoothing); "none" leaves p_n = 0,
//      which makes BLEU 0; "floor" uses 100·smoothValue/total_n; "add-k" adds k to correct_n and total_n
//      for n ≥ 2. An order with total_n = 0 ends the loop and leaves p_n = 0 for it and the rest.

import { ArgumentError } from "../../engine/errors.js";

/** The fraction (0–1) of hypotheses equal to their reference, character for character. */
export function exactMatch(hypotheses: readonly string[], references: readonly string[]): number {
  if (hypotheses.length !== references.length)
    throw new ArgumentError(`exactMatch: ${hypotheses.length} hypotheses but ${references.length} references`);
  if (hypotheses.length === 0) return 0;
  let n = 0;
  for (let i = 0; i < hypotheses.length; i++) if (hypotheses[i] === references[i]) n++;
  return n / hypotheses.length;
}

/**
 * mteval-v13a's tokenisation as sacrebleu writes it: drop "<skipped>", join "-\n" line breaks, turn other
 * newlines into spaces, unescape &quot; &amp; &lt; &gt;, then split off punctuation; periods and commas only
 * when not between digits, dashes only after a digit. Returns the tokens joined by single spaces.
 */
export function tokenize13a(line: string): string {
  line = line.split("<skipped>").join("").split("-\n").join("").split("\n").join(" ");
  line = line.split("&quot;").join('"').split("&amp;").join("&").split("&lt;").join("<").split("&gt;").join(">");
  line = ` ${line} `;
  // the ASCII punctuation ranges { | } ~, [ \ ] ^ _ `, space ! " # $ % &, ( ) * +, : ; < = > ? @, and /
  line = line.replace(/([{-~[-` -&(-+:-@/])/g, " $1 ");
  line = line.replace(/([^0-9])([.,])/g, "$1 $2 "); // period and comma unless preceded by a digit
  line = line.replace(/([.,])([^0-9])/g, " $1 $2"); // period and comma unless followed by a digit
  line = line.replace(/([0-9])(-)/g, "$1 $2 "); //     dash when preceded by a digit
  return splitWhitespace(line).join(" ");
}

export type SmoothMethod = "exp" | "none" | "floor" | "add-k";

export interface BleuOptions {
  /** "13a" (default) or "none" (split on whitespace only) */
  tokenize?: "13a" | "none";
  /** lowercase hypotheses and references first (default false) */
  lowercase?: boolean;
  /** default "exp", sacrebleu's corpus_bleu default */
  smoothMethod?: SmoothMethod;
  /** for "floor" (default 0.1) and "add-k" (default 1) */
  smoothValue?: number;
  /** the highest n-gram order (default 4) */
  maxNgramOrder?: number;
  /** average only up to the highest order with any n-gram in the hypotheses (default false) */
  effectiveOrder?: boolean;
}

export interface BleuScore {
  /** BLEU on a 0–100 scale */
  score: number;
  /** correct_n, n = 1…maxNgramOrder */
  counts: number[];
  /** total_n */
  totals: number[];
  /** p_n on a 0–100 scale */
  precisions: number[];
  /** the brevity penalty */
  bp: number;
  sysLen: number;
  refLen: number;
}

/**
 * Corpus BLEU of `hypotheses` against one or more reference streams, sacrebleu's layout:
 * `references[k][i]` is the k-th reference of segment i (`corpusBleu(hyps, [refs])` for one reference each).
 */
export function corpusBleu(
  hypotheses: readonly string[],
  references: readonly (readonly string[])[],
  opts: BleuOptions = {},
): BleuScore {
  const {
    tokenize = "13a",
    lowercase = false,
    smoothMethod = "exp",
    maxNgramOrder: N = 4,
    effectiveOrder = false,
  } = opts;
  if (!["exp", "none", "floor", "add-k"].includes(smoothMethod))
    throw new ArgumentError(`corpusBleu: unknown smoothMethod ${JSON.stringify(smoothMethod)}`);
  if (!(Number.isInteger(N) && N >= 1))
    throw new ArgumentError(`corpusBleu: maxNgramOrder must be a positive integer, got ${N}`);
  if (references.length === 0) throw new ArgumentError("corpusBleu: no reference streams");
  for (const [k, stream] of references.entries()) {
    if (stream.length !== hypotheses.length)
      throw new ArgumentError(
        `corpusBleu: reference stream ${k} has ${stream.length} segments, the hypotheses ${hypotheses.length}`,
      );
  }
  const prep = (s: string): string[] => {
    const t = (lowercase ? s.toLowerCase() : s).trimEnd();
    return splitWhitespace(tokenize === "13a" ? tokenize13a(t) : t);
  };
  const correct = new Array<number>(N).fill(0),
    total = new Array<number>(N).fill(0);
  let sysLen = 0,
    refLen = 0;
  for (let i = 0; i < hypotheses.length; i++) {
    const hyp = prep(hypotheses[i]!);
    // each n-gram's largest count in any one reference, and the reference lengths
    const refMax = Array.from({ length: N }, () => new Map<string, number>());
    const refLens: number[] = [];
    for (const stream of references) {
      const ref = prep(stream[i]!);
      refLens.push(ref.length);
      ngramCounts(ref, N).forEach((m, n) =>
        m.forEach((c, g) => refMax[n]!.set(g, Math.max(refMax[n]!.get(g) ?? 0, c))),
      );
    }
    sysLen += hyp.length;
    refLen += closestRefLen(hyp.length, refLens);
    ngramCounts(hyp, N).forEach((m, n) =>
      m.forEach((c, g) => {
        total[n]! += c;
        correct[n]! += Math.min(c, refMax[n]!.get(g) ?? 0);
      }),
    );
  }
  return bleuFromStats(correct, total, sysLen, refLen, { ...opts, smoothMethod, maxNgramOrder: N, effectiveOrder });
}

/** BLEU from its sufficient statistics (sacrebleu's compute_bleu). */
export function bleuFromStats(
  correct: readonly number[],
  total: readonly number[],
  sysLen: number,
  refLen: number,
  opts: BleuOptions = {},
): BleuScore {
  const { smoothMethod = "exp", maxNgramOrder: N = 4, effectiveOrder = false } = opts;
  const smoothValue = opts.smoothValue ?? (smoothMethod === "floor" ? 0.1 : smoothMethod === "add-k" ? 1 : 0);
  const counts = [...correct],
    totals = [...total];
  // BP = exp(1 − r/c) when c < r
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const precisions = new Array<number>(N).fill(0);
  if (!counts.some((c) => c > 0)) return { score: 0, counts, totals, precisions, bp, sysLen, refLen };
  let smoothMteval = 1,
    effOrder = N;
  for (let n = 1; n <= N; n++) {
    if (smoothMethod === "add-k" && n > 1) {
      counts[n - 1]! += smoothValue;
      totals[n - 1]! += smoothValue;
    }
    if (totals[n - 1] === 0) break;
    if (effectiveOrder) effOrder = n;
    if (counts[n - 1] === 0) {
      if (smoothMethod === "exp") {
        smoothMteval *= 2;
        precisions[n - 1] = 100 / (smoothMteval * totals[n - 1]!);
      } else if (smoothMethod === "floor") {
        precisions[n - 1] = (100 * smoothValue) / totals[n - 1]!;
      }
    } else {
      precisions[n - 1] = (100 * counts[n - 1]!) / totals[n - 1]!;
    }
  }
  // BLEU = BP·exp((1/N')·Σ log p_n); log 0 = −∞ makes it 0
  let sumLog = 0;
  for (let n = 0; n < effOrder; n++) sumLog += Math.log(precisions[n]!);
  const score = bp * Math.exp(sumLog / effOrder);
  return { score, counts, totals, precisions, bp, sysLen, refLen };
}

/** Python's str.split(): runs of whitespace separate, none at either end. */
function splitWhitespace(s: string): string[] {
  const t = s.trim();
  return t === "" ? [] : t.split(/\s+/);
}

/** Counts of the n-grams of each order: element n − 1 maps each n-gram (its tokens as JSON) to its count. */
function ngramCounts(tokens: readonly string[], N: number): Map<string, number>[] {
  return Array.from({ length: N }, (_, k) => {
    const out = new Map<string, number>();
    for (let i = 0; i + k + 1 <= tokens.length; i++) {
      const g = JSON.stringify(tokens.slice(i, i + k + 1));
      out.set(g, (out.get(g) ?? 0) + 1);
    }
    return out;
  });
}

/** The reference length closest to the hypothesis's; ties go to the shorter. */
function closestRefLen(hypLen: number, refLens: readonly number[]): number {
  let bestDiff = -1,
    best = -1;
  for (const r of refLens) {
    const diff = Math.abs(hypLen - r);
    if (bestDiff === -1 || diff < bestDiff) {
      bestDiff = diff;
      best = r;
    } else if (diff === bestDiff && r < best) {
      best = r;
    }
  }
  return best;
}
