// Decoding for the encoder-decoders (the Transformer, T5, BART): beam search and sampling, one routine each over
// an interface.
//   Sutskever, Vinyals, Le 2014, "Sequence to Sequence Learning with Neural Networks", https://arxiv.org/abs/1409.3215
//   (a left-to-right beam over partial hypotheses, §3.2)
//   Wu et al. 2016, "Google's Neural Machine Translation System", https://arxiv.org/abs/1609.08144 (the length
//   penalty, eq. 14)
//   Keskar et al. 2019, "CTRL", https://arxiv.org/abs/1909.05858 (the repetition penalty, §4.1)
//
// A model takes part by encoding its sources once and handing back a decoder over N = B·K rows (row b·K + k
// is beam k of source b) that feeds one token per row and step through its KV cache, and whose cache can be
// reordered by row indices when beams are extended, dropped or repeated.
//
// Vocabulary (shape comments): B sources, K beams per source, N = B·K rows, V the vocabulary.

import { tensor } from "../engine/creation.js";
import { ArgumentError, ShapeError } from "../engine/errors.js";
import { fmt } from "../engine/shape.js";
import type { Tensor } from "../engine/tensor.js";
import { Generator } from "../engine/rng.js";
import { tidy } from "../engine/scope.js";
import { cat } from "../ops/shape.js";
import { penalizeRepetition, sampleTokens, type SamplingOptions } from "./sampling.js";

/** A decoder over N rows, each continuing one source: what beam search steps. */
export interface BeamDecoder {
  /** feed one token per row, next (N, 1) int32 (the start token at the first call) → the next token's logits (N, V) */
  step(next: Tensor): Tensor;
  /** keep (and repeat) the cached rows `rows` (N) int32, in that order: row r becomes the old row rows[r] */
  select(rows: Tensor): void;
}

/** An encoder-decoder with its B sources: encode them once, then decode any rows of them. */
export interface BeamSearchable {
  /** B: the sources */
  readonly batch: number;
  /** V: the tokens each step scores */
  readonly vocabSize: number;
  /** encode the sources (once) and start a decoder whose row r continues source rows[r]; rows (N) int32 */
  start(rows: Tensor): BeamDecoder;
}

/** What a caller of an encoder-decoder's beamSearch chooses (T5, BART: their BeamOptions add their DecodeOptions). */
export interface BeamChoices {
  /** K: hypotheses kept per input */
  beamSize: number;
  /** α of the length penalty (default 1, Hugging Face's); 0 ranks by log-probability alone */
  lengthPenalty?: number;
  /** lp(|Y|) = |Y|^α ("length", Hugging Face's, default) or ((5 + |Y|)/6)^α ("gnmt") */
  lengthNorm?: "length" | "gnmt";
  /** return this many best hypotheses per input in `nBest` (≤ beamSize; default 1) */
  nBest?: number;
  /** the repetition penalty θ on each hypothesis's decoder tokens (default 1: off) */
  repetitionPenalty?: number;
}

export interface BeamSearchOptions {
  /** K: the hypotheses kept per source */
  beamSize: number;
  /** the most tokens to generate per hypothesis, EOS included */
  maxLen: number;
  /** the decoder's first input token */
  startId: number;
  /** the token that ends a hypothesis */
  eosId: number;
  /** α of the length penalty (0: rank by log-probability alone); default 1 */
  lengthPenalty?: number;
  /**
   * lp(|Y|), |Y| the generated tokens with the EOS: "length" |Y|^α (Hugging Face's `length_penalty`, default),
   * "gnmt" ((5 + |Y|)/6)^α (Wu et al. 2016, eq. 14)
   */
  lengthNorm?: "length" | "gnmt";
  /** return this many best hypotheses per source in `nBest` (≤ beamSize; default 1) */
  nBest?: number;
  /** tokens never generated (the Transformer: PAD and BOS) */
  banned?: readonly number[];
  /** the repetition penalty θ on the logits of the tokens of the hypothesis so far, start token included (default 1: off) */
  repetitionPenalty?: number;
}

export interface Hypothesis {
  /** the generated tokens, without the start token and EOS */
  tokens: number[];
  /** log P(Y|X) / lp(|Y|) */
  score: number;
  /** log P(Y|X): the sum of the log-probabilities of the tokens, EOS included (of the penalised logits with θ ≠ 1) */
  logProb: number;
}

export interface BeamResult {
  /** the best hypothesis of each source, without the start token and EOS */
  tokens: number[][];
  /** its score log P(Y|X) / lp(|Y|) */
  scores: number[];
  /** its log P(Y|X) */
  logProbs: number[];
  /** the nBest best finished hypotheses of each source, best first */
  nBest: Hypothesis[][];
}

/**
 * Beam search with a length penalty: s(Y, X) = log P(Y|X) / lp(|Y|).
 * Each step extends the K live hypotheses of a source by every token and keeps the 2K best extensions by
 * log-probability, log P(y₁..y_t) = log P(y₁..y_{t−1}) + log p(y_t | y_<t, X). Those among the first K that end
 * in EOS are finished (scored with the penalty); the best K others stay live. A source is done when K
 * hypotheses have finished (fairseq's rule), or at maxLen, where the live ones finish too (cut off: |Y| =
 * maxLen). The answer is the finished hypothesis with the best s; ties go to the one finished first. With
 * K = 1 this is greedy decoding exactly.
 */
export function searchBeams(model: BeamSearchable, opts: BeamSearchOptions): BeamResult {
  return tidy("beamSearch", () => searchBeamsInScope(model, opts)); // every step's tensors freed at the end
}

function searchBeamsInScope(model: BeamSearchable, opts: BeamSearchOptions): BeamResult {
  const {
    beamSize: K,
    maxLen,
    startId,
    eosId,
    lengthPenalty: alpha = 1,
    lengthNorm = "length",
    nBest = 1,
    repetitionPenalty = 1,
  } = opts;
  const B = model.batch,
    V = model.vocabSize;
  if (!(Number.isInteger(K) && K >= 1))
    throw new ArgumentError(`beamSearch: beamSize must be a positive integer, got ${K}`);
  if (!(Number.isInteger(maxLen) && maxLen >= 1))
    throw new ArgumentError(`beamSearch: maxLen must be a positive integer, got ${maxLen}`);
  if (!(alpha >= 0)) throw new ArgumentError(`beamSearch: lengthPenalty must be ≥ 0, got ${alpha}`);
  if (lengthNorm !== "length" && lengthNorm !== "gnmt")
    throw new ArgumentError(`beamSearch: lengthNorm must be "length" or "gnmt", got ${JSON.stringify(lengthNorm)}`);
  if (!(Number.isInteger(nBest) && nBest >= 1 && nBest <= K))
    throw new ArgumentError(`beamSearch: nBest must be an integer in [1, beamSize ${K}], got ${nBest}`);
  if (!(repetitionPenalty > 0 && Number.isFinite(repetitionPenalty)))
    throw new ArgumentError(`beamSearch: repetitionPenalty must be a positive number, got ${repetitionPenalty}`);
  for (const [key, id] of [
    ["startId", startId],
    ["eosId", eosId],
  ] as const) {
    if (!(Number.isInteger(id) && id >= 0 && id < V))
      throw new ArgumentError(`beamSearch: ${key} must be a token id in [0, ${V}), got ${id}`);
  }
  const banned = new Uint8Array(V);
  for (const id of opts.banned ?? []) if (id >= 0 && id < V) banned[id] = 1;
  // lp(n) = n^α (Hugging Face) or ((5 + n)/6)^α (GNMT)
  const lp =
    lengthNorm === "gnmt"
      ? (n: number): number => Math.pow((5 + n) / 6, alpha)
      : (n: number): number => Math.pow(n, alpha);
  const N = B * K;
  // every source repeated K times: row b·K + k is beam k of source b
  const decoder = model.start(
    tensor(
      Int32Array.from({ length: N }, (_, r) => Math.floor(r / K)),
      { shape: [N] },
    ),
  );
  // live hypotheses: tokens and log-probabilities per row; at the start only beam 0 of each source is live
  let seqs: number[][] = Array.from({ length: N }, () => []);
  let logP = Float64Array.from({ length: N }, (_, r) => (r % K === 0 ? 0 : -Infinity));
  const finished: Hypothesis[][] = Array.from({ length: B }, () => []);
  const done = new Array<boolean>(B).fill(false);
  let next = tensor(new Int32Array(N).fill(startId), { shape: [N, 1] }); // (N, 1)
  for (let step = 0; step < maxLen && !done.every(Boolean); step++) {
    let logits = decoder.step(next); // (N, V)
    if (logits.shape.length !== 2 || logits.shape[0] !== N || logits.shape[1] !== V) {
      throw new ShapeError(
        `beamSearch: the decoder step must give logits (N, V) = (${N},${V}), got ${fmt(logits.shape)}`,
      );
    }
    if (repetitionPenalty !== 1) {
      // z_i ← z_i/θ (z_i > 0) or z_i·θ (z_i < 0) for the tokens of the row's hypothesis, start token included
      const z = new Float32Array(N * V);
      for (let r = 0; r < N; r++)
        z.set(
          penalizeRepetition(logits.storage.subarray(r * V, (r + 1) * V), [startId, ...seqs[r]!], repetitionPenalty),
          r * V,
        );
      logits = tensor(z, { shape: [N, V] });
    }
    const logp = logits.logSoftmax(-1).storage; // (N, V): log p(v | prefix)
    const lastStep = step === maxLen - 1;
    const keepRows = new Int32Array(N),
      nextTok = new Int32Array(N);
    const nextSeqs: number[][] = [],
      nextLogP = new Float64Array(N).fill(-Infinity);
    for (let b = 0; b < B; b++) {
      // the 2K best extensions of source b's live hypotheses
      const cand = topCandidates(logp, logP, b, K, V, 2 * K, banned);
      let live = 0;
      for (let r = 0; r < cand.length; r++) {
        const { row, tok, score } = cand[r]!;
        if (done[b] || live === K) break;
        const isEos = tok === eosId;
        if ((isEos && r < K) || lastStep) {
          // finished: |Y| counts the EOS (or the maxLen tokens of a cut-off hypothesis)
          const tokens = isEos ? seqs[row]! : [...seqs[row]!, tok];
          if (!isEos || r < K) finished[b]!.push({ tokens, score: score / lp(seqs[row]!.length + 1), logProb: score });
          if (finished[b]!.length >= K) done[b] = true;
        } else if (!isEos) {
          const slot = b * K + live++;
          keepRows[slot] = row;
          nextTok[slot] = tok;
          nextSeqs[slot] = [...seqs[row]!, tok];
          nextLogP[slot] = score;
        }
      }
      for (let k = live; k < K; k++) {
        // fewer than K live (the source is done): keep a row, with −∞ so it is never chosen
        keepRows[b * K + k] = b * K;
        nextSeqs[b * K + k] = [];
      }
    }
    decoder.select(tensor(keepRows, { shape: [N] }));
    seqs = nextSeqs;
    logP = nextLogP;
    next = tensor(nextTok, { shape: [N, 1] });
  }
  const result: BeamResult = { tokens: [], scores: [], logProbs: [], nBest: [] };
  for (let b = 0; b < B; b++) {
    // best first by s(Y, X); a stable sort keeps ties in the order they finished
    const ranked = [...finished[b]!].sort((x, y) => y.score - x.score);
    const best = ranked[0] ?? { tokens: [], score: -Infinity, logProb: -Infinity }; // none only if nothing could be generated
    result.tokens.push(best.tokens);
    result.scores.push(best.score);
    result.logProbs.push(best.logProb);
    result.nBest.push(ranked.slice(0, nBest));
  }
  return result;
}

/**
 * The n best (row, token) extensions of source b's K rows by log P, highest first (ties: lower row, then
 * lower token); banned tokens are never generated.
 */
function topCandidates(
  logp: ArrayLike<number>,
  logP: Float64Array,
  b: number,
  K: number,
  V: number,
  n: number,
  banned: Uint8Array,
): { row: number; tok: number; score: number }[] {
  const best: { row: number; tok: number; score: number }[] = [];
  for (let k = 0; k < K; k++) {
    const row = b * K + k;
    if (logP[row] === -Infinity) continue;
    for (let v = 0; v < V; v++) {
      if (banned[v]) continue;
      const score = logP[row]! + logp[row * V + v]!;
      if (best.length === n && score <= best[n - 1]!.score) continue;
      let i = best.length < n ? best.length : n - 1;
      while (i > 0 && best[i - 1]!.score < score) i--;
      best.splice(i, 0, { row, tok: v, score });
      if (best.length > n) best.pop();
    }
  }
  return best;
}

export interface SampleSeq2SeqOptions {
  /** the most tokens to generate per row, EOS included */
  maxLen: number;
  /** the decoder's first input token */
  startId: number;
  /** the token that ends a row */
  eosId: number;
  /** temperature, top-k, top-p, repetition penalty: `sampleTokens` (src/generation/sampling.ts) */
  sampling: SamplingOptions;
  /** the source of the samples */
  generator: Generator;
}

/**
 * Sampling (greedy at temperature 0) from an encoder-decoder: every row starts from startId; each step feeds the
 * last token through the decoder's KV cache and draws the next one with the decoders' `sampleTokens`, the
 * repetition penalty seeing the row's decoder tokens so far (start token included, as Hugging Face's
 * decoder_input_ids). A row stops at its EOS; all stop at maxLen. → the tokens of each row, without the start
 * token and EOS.
 */
export function sampleSeq2Seq(model: BeamSearchable, opts: SampleSeq2SeqOptions): number[][] {
  return tidy("sampleSeq2Seq", () => sampleSeq2SeqInScope(model, opts)); // every step's tensors freed at the end
}

function sampleSeq2SeqInScope(model: BeamSearchable, opts: SampleSeq2SeqOptions): number[][] {
  const { maxLen, startId, eosId, sampling, generator } = opts;
  const B = model.batch,
    V = model.vocabSize;
  const decoder = model.start(
    tensor(
      Int32Array.from({ length: B }, (_, b) => b),
      { shape: [B] },
    ),
  );
  const out: number[][] = Array.from({ length: B }, () => []);
  const done = new Array<boolean>(B).fill(false);
  let next = tensor(new Int32Array(B).fill(startId), { shape: [B, 1] }); // (B, 1)
  let context = next; // (B, 1 + steps so far): the decoder's tokens, for the repetition penalty
  for (let step = 0; step < maxLen && !done.every(Boolean); step++) {
    const logits = decoder.step(next).view(B, 1, V); // (B, 1, V)
    next = sampleTokens(logits, sampling, generator, context); // (B, 1) int32
    context = cat([context, next], 1);
    for (let b = 0; b < B; b++) {
      const tok = next.storage[b]!;
      if (done[b]) continue;
      if (tok === eosId) done[b] = true;
      else out[b]!.push(tok);
    }
  }
  return out;
}
