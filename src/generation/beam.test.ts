// Decoding of the encoder-decoders through src/models/beam.ts: T5's and BART's generate (greedy, sampled, with the
// repetition penalty) against uncached loops over the full teacher-forced forward; beam search (shared by T5, BART
// and the Transformer) against greedy decoding and an exhaustive search of every hypothesis on tiny vocabularies.

import { test } from "node:test";
import assert from "node:assert/strict";
import { cat, Generator, noGrad, tensor, randint, ArgumentError, type Tensor } from "../index.js";
import { assertThrowsWith } from "../../test/harness/assert.js";
import { sampleTokens, type SamplingOptions } from "./sampling.js";
import {
  beamSearch as t5Beam,
  generate as t5Generate,
  greedyDecode as t5Greedy,
  T5,
  t5Config,
} from "../models/t5/model.js";
import {
  Bart,
  bartConfig,
  beamSearch as bartBeam,
  generate as bartGenerate,
  greedyDecode as bartGreedy,
} from "../models/bart/model.js";
import { beamSearch as transformerBeam, Transformer, transformerConfig } from "../models/transformer/model.js";
import type { BeamResult } from "./beam.js";

// -----------------------------------------------------------------------------------------------------
// The references: plain JS in float64 over the full (uncached) forward

const argmax = (z: readonly number[]): number => z.reduce((best, v, i) => (v > z[best]! ? i : best), 0);

/** z_i/θ for a seen token with z_i > 0, z_i·θ with z_i < 0 (Hugging Face's signs) */
function refPenalty(z: readonly number[], seen: readonly number[], theta: number): number[] {
  const s = new Set(seen);
  return z.map((v, i) => (!s.has(i) ? v : v < 0 ? v * theta : v / theta));
}

/** log softmax(z) in float64 */
function logSoftmax(z: readonly number[]): number[] {
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
  return z.map((v) => v - lse);
}

/** An encoder-decoder seen by the tests: the full forward's last logits for one source and a decoder prefix. */
interface Subject {
  name: string;
  V: number;
  startId: number;
  eosId: number;
  banned: number[];
  /** logits (V) of the token after decoder input `prefix` (start token first) for source b, full forward */
  next(b: number, prefix: number[]): number[];
  /** the same for every source at once: decoder inputs (B, t) → last logits (B, 1, V) */
  nextAll(dec: Tensor): Tensor;
}

function t5Subject(model: T5, inputIds: Tensor, attentionMask: Tensor): Subject {
  model.eval();
  const V = model.config.vocabSize;
  return {
    name: "T5",
    V,
    startId: model.config.decoderStartId,
    eosId: model.config.eosId,
    banned: [],
    next: (b, prefix) =>
      noGrad(() => {
        const logits = model.forward(inputIds.narrow(0, b, 1), tensor([prefix], { dtype: "int32" }), {
          attentionMask: attentionMask.narrow(0, b, 1),
        }).logits; // (1, t, V)
        return Array.from(logits.storage.subarray((prefix.length - 1) * V, prefix.length * V));
      }),
    nextAll: (dec) =>
      noGrad(() => {
        const logits = model.forward(inputIds, dec, { attentionMask }).logits; // (B, t, V)
        return logits.narrow(1, dec.shape[1]! - 1, 1); // (B, 1, V)
      }),
  };
}

function bartSubject(model: Bart, inputIds: Tensor, attentionMask: Tensor): Subject {
  model.eval();
  const V = model.config.vocabSize;
  return {
    name: "BART",
    V,
    startId: model.config.decoderStartId,
    eosId: model.config.eosId,
    banned: [],
    next: (b, prefix) =>
      noGrad(() => {
        const logits = model.forward(inputIds.narrow(0, b, 1), tensor([prefix], { dtype: "int32" }), {
          attentionMask: attentionMask.narrow(0, b, 1),
        }).logits; // (1, t, V)
        return Array.from(logits.storage.subarray((prefix.length - 1) * V, prefix.length * V));
      }),
    nextAll: (dec) =>
      noGrad(() => {
        const logits = model.forward(inputIds, dec, { attentionMask }).logits; // (B, t, V)
        return logits.narrow(1, dec.shape[1]! - 1, 1); // (B, 1, V)
      }),
  };
}

function transformerSubject(model: Transformer, src: Tensor, bosId: number, eosId: number): Subject {
  model.eval();
  const V = model.config.vocabSize;
  return {
    name: "Transformer",
    V,
    startId: bosId,
    eosId,
    banned: [model.config.padId, bosId],
    next: (b, prefix) =>
      noGrad(() => {
        const logits = model.forward(src.narrow(0, b, 1), tensor([prefix], { dtype: "int32" })).logits; // (1, t, V)
        return Array.from(logits.storage.subarray((prefix.length - 1) * V, prefix.length * V));
      }),
    nextAll: () => {
      throw new Error("not used");
    },
  };
}

/** Greedy decoding the slow way: the full forward at every step, the penalty θ on [start, …generated]. */
function slowGreedy(s: Subject, b: number, maxLen: number, theta = 1): number[] {
  const seq = [s.startId];
  for (let t = 0; t < maxLen; t++) {
    const tok = argmax(refPenalty(s.next(b, seq), seq, theta));
    if (tok === s.eosId) break;
    seq.push(tok);
  }
  return seq.slice(1);
}

/** Sampling the slow way: the full forward of the whole batch at every step, the same sampler and generator. */
function slowSample(s: Subject, B: number, maxLen: number, opts: SamplingOptions, generator: Generator): number[][] {
  let dec = tensor(new Int32Array(B).fill(s.startId), { shape: [B, 1] });
  const out: number[][] = Array.from({ length: B }, () => []),
    done = new Array<boolean>(B).fill(false);
  for (let t = 0; t < maxLen && !done.every(Boolean); t++) {
    const tok = sampleTokens(s.nextAll(dec), opts, generator, dec); // (B, 1)
    for (let b = 0; b < B; b++) {
      if (done[b]) continue;
      if (tok.storage[b] === s.eosId) done[b] = true;
      else out[b]!.push(tok.storage[b]!);
    }
    dec = cat([dec, tok], 1); // (B, t + 2)
  }
  return out;
}

/** log P(Y|X) of a hypothesis (EOS appended unless cut at maxLen), summed in float64 over the full forward */
function logProb(s: Subject, b: number, tokens: number[], maxLen: number): number {
  const ended = tokens.length < maxLen ? [...tokens, s.eosId] : tokens;
  let sum = 0;
  for (let t = 0; t < ended.length; t++) sum += logSoftmax(s.next(b, [s.startId, ...ended.slice(0, t)]))[ended[t]!]!;
  return sum;
}

interface Scored {
  tokens: number[];
  score: number;
}

/**
 * Every hypothesis: y₁…y_{n−1} EOS for n ≤ maxLen, or maxLen tokens without EOS (cut off); none with a banned
 * token. Scored log P(Y|X)/lp(|Y|), best first.
 */
function exhaustive(s: Subject, b: number, maxLen: number, lp: (n: number) => number): Scored[] {
  const all: Scored[] = [];
  const walk = (prefix: number[], logP: number): void => {
    const lps = logSoftmax(s.next(b, [s.startId, ...prefix]));
    for (let v = 0; v < s.V; v++) {
      if (s.banned.includes(v)) continue;
      const sum = logP + lps[v]!;
      if (v === s.eosId) all.push({ tokens: prefix, score: sum / lp(prefix.length + 1) });
      else if (prefix.length + 1 === maxLen) all.push({ tokens: [...prefix, v], score: sum / lp(maxLen) });
      else walk([...prefix, v], sum);
    }
  };
  walk([], 0);
  return all.sort((x, y) => y.score - x.score);
}

/** The beam's answer is the exhaustive optimum: the same score (1e-4), the same tokens unless a near-tie. */
function assertOptimal(r: BeamResult, b: number, all: Scored[], what: string, nBest = 1): void {
  assert.ok(
    Math.abs(r.scores[b]! - all[0]!.score) < 1e-4,
    `${what}: beam ${r.scores[b]} vs exhaustive best ${all[0]!.score}`,
  );
  if (all[0]!.score - all[1]!.score > 1e-4) assert.deepEqual(r.tokens[b], all[0]!.tokens, what);
  assert.equal(r.nBest[b]!.length, nBest);
  for (let i = 0; i < nBest; i++)
    assert.ok(
      Math.abs(r.nBest[b]![i]!.score - all[i]!.score) < 1e-4,
      `${what}: hypothesis ${i}: ${r.nBest[b]![i]!.score} vs ${all[i]!.score}`,
    );
}

// -----------------------------------------------------------------------------------------------------
// Models

const t5Tiny = (V: number, overrides = {}): T5 =>
  new T5(
    t5Config("tiny", {
      vocabSize: V,
      nEncoderLayer: 1,
      nDecoderLayer: 2,
      nHead: 2,
      dModel: 16,
      dKv: 8,
      dFF: 32,
      numBuckets: 8,
      maxDistance: 16,
      dropout: 0,
      ...overrides,
    }),
    { generator: new Generator(5) },
  );
const bartTiny = (V: number, overrides = {}, seed = 5): Bart =>
  new Bart(
    bartConfig("tiny", {
      vocabSize: V,
      maxPositions: 12,
      nEncoderLayer: 1,
      nDecoderLayer: 2,
      nHead: 2,
      dModel: 16,
      dFF: 32,
      dropout: 0,
      ...overrides,
    }),
    { generator: new Generator(seed) },
  );
/**
 * BART's N(0, 0.02²) init gives near-uniform logits: scale the (tied) embedding up so that the hypotheses differ.
 * The tests that need rows of several tokens move EOS off the start token (2), which such a model repeats.
 */
function sharpen(model: Bart, by: number): Bart {
  noGrad(() => model.tokEmb.weight.storage.forEach((x, i, a) => (a[i] = x * by)));
  return model;
}

const inputs = (V: number, seed: number): { ids: Tensor; mask: Tensor } => {
  const ids = randint(3, V, [3, 5], { generator: new Generator(seed) });
  const mask = tensor(
    [
      [1, 1, 1, 1, 1],
      [1, 1, 1, 0, 0],
      [1, 1, 1, 1, 0],
    ],
    { dtype: "int32" },
  ); // rows 1 and 2 padded
  return { ids, mask };
};

// -----------------------------------------------------------------------------------------------------
// generate

test("T5 and BART generate: greedy (with and without a repetition penalty) is the argmax of the full forward at every step; EOS stops a row", () => {
  const V = 12,
    maxLen = 7;
  const { ids, mask } = inputs(V, 1);
  for (const family of ["T5", "BART"] as const) {
    const make = (overrides = {}): T5 | Bart =>
      family === "T5" ? t5Tiny(V, overrides) : sharpen(bartTiny(V, { eosId: V - 1, ...overrides }), 5);
    const gen = (m: T5 | Bart, opts: object): number[][] =>
      m instanceof T5
        ? t5Generate(m, ids, { attentionMask: mask, maxLen, ...opts })
        : bartGenerate(m, ids, { attentionMask: mask, maxLen, ...opts });
    const subject = (m: T5 | Bart) => (m instanceof T5 ? t5Subject(m, ids, mask) : bartSubject(m, ids, mask));
    let model = make();
    const first = gen(model, { temperature: 0 });
    assert.equal(model.training, true, "generate restores the training mode");
    // a row's second token as EOS makes it stop early (the same weights: the config's ids are not parameters)
    const r = first.findIndex((row) => row.length >= 2);
    assert.ok(r >= 0, `${family}: a row of ≥ 2 tokens`);
    const eosId = first[r]![1]!;
    for (const eos of [null, eosId]) {
      if (eos !== null) model = make({ eosId: eos });
      for (const theta of [1, 1.4, 0.8]) {
        const got = gen(model, { temperature: 0, repetitionPenalty: theta });
        const s = subject(model);
        for (let b = 0; b < 3; b++)
          assert.deepEqual(
            got[b],
            slowGreedy(s, b, maxLen, theta),
            `${family} EOS ${eos ?? "default"} θ ${theta} row ${b}`,
          );
        if (theta === 1) {
          const greedy =
            model instanceof T5
              ? t5Greedy(model, ids, { attentionMask: mask, maxLen })
              : bartGreedy(model, ids, { attentionMask: mask, maxLen });
          assert.deepEqual(got, greedy, `${family}: generate at τ 0 is greedyDecode`);
        }
        model.train();
      }
    }
    assert.ok(gen(model, { temperature: 0 })[r]!.length <= 1, `${family}: row ${r} stopped at its EOS`);
    assert.notDeepEqual(
      gen(model, { temperature: 0, repetitionPenalty: 3 }),
      gen(model, { temperature: 0 }),
      `${family}: a strong penalty changes the output`,
    );
  }
});

test("T5 and BART generate: sampled tokens (τ, top-k, top-p, penalty) are those of an uncached sampling loop over the full forward", () => {
  const V = 12,
    maxLen = 6;
  const { ids, mask } = inputs(V, 2);
  for (const model of [t5Tiny(V), sharpen(bartTiny(V, { eosId: 3 }), 5)]) {
    for (const opts of [
      { temperature: 1, topK: null, topP: 1, repetitionPenalty: 1 },
      { temperature: 0.8, topK: 5, topP: 0.95, repetitionPenalty: 1.3 },
    ]) {
      const got =
        model instanceof T5
          ? t5Generate(model, ids, { attentionMask: mask, maxLen, ...opts, generator: new Generator(3) })
          : bartGenerate(model, ids, { attentionMask: mask, maxLen, ...opts, generator: new Generator(3) });
      const s = model instanceof T5 ? t5Subject(model, ids, mask) : bartSubject(model, ids, mask);
      assert.deepEqual(got, slowSample(s, 3, maxLen, opts, new Generator(3)), `${s.name} ${JSON.stringify(opts)}`);
      // θ = 1 changes nothing
      const plain =
        model instanceof T5
          ? t5Generate(model, ids, {
              attentionMask: mask,
              maxLen,
              temperature: opts.temperature,
              topK: opts.topK,
              topP: opts.topP,
              generator: new Generator(3),
            })
          : bartGenerate(model, ids, {
              attentionMask: mask,
              maxLen,
              temperature: opts.temperature,
              topK: opts.topK,
              topP: opts.topP,
              generator: new Generator(3),
            });
      if (opts.repetitionPenalty === 1) assert.deepEqual(plain, got, `${s.name}: θ = 1 is no penalty`);
    }
  }
});

// -----------------------------------------------------------------------------------------------------
// Beam search

test("beam search: beam 1 is greedy decoding (T5, BART; any α; with a repetition penalty too)", () => {
  const V = 12,
    maxLen = 7;
  const { ids, mask } = inputs(V, 3);
  for (const model of [t5Tiny(V), sharpen(bartTiny(V, { eosId: 3 }), 5)]) {
    const beam = (opts: object): BeamResult =>
      model instanceof T5
        ? t5Beam(model, ids, { attentionMask: mask, maxLen, beamSize: 1, ...opts })
        : bartBeam(model, ids, { attentionMask: mask, maxLen, beamSize: 1, ...opts });
    const gen = (theta: number): number[][] =>
      model instanceof T5
        ? t5Generate(model, ids, { attentionMask: mask, maxLen, temperature: 0, repetitionPenalty: theta })
        : bartGenerate(model, ids, { attentionMask: mask, maxLen, temperature: 0, repetitionPenalty: theta });
    for (const alpha of [0, 1, 2]) assert.deepEqual(beam({ lengthPenalty: alpha }).tokens, gen(1), `α ${alpha}`);
    assert.deepEqual(beam({ lengthNorm: "gnmt", lengthPenalty: 0.6 }).tokens, gen(1), "gnmt");
    assert.deepEqual(beam({ repetitionPenalty: 1.5 }).tokens, gen(1.5), "θ 1.5");
    assert.equal(model.training, true, "beam search restores the training mode");
  }
});

test("beam search with a beam as wide as needed finds the exhaustive optimum of log P/lp (T5, BART, the Transformer; tiny vocabularies)", () => {
  const maxLen = 3;
  const lengthLp =
    (alpha: number) =>
    (n: number): number =>
      n ** alpha;
  // T5: V 4 (pad/start 0, EOS 1): 40 hypotheses per input; beam 64 keeps every one
  {
    const V = 4,
      { ids, mask } = inputs(V, 4),
      model = t5Tiny(V);
    for (const alpha of [0, 1]) {
      const r = t5Beam(model, ids, { attentionMask: mask, maxLen, beamSize: 64, lengthPenalty: alpha, nBest: 5 });
      const s = t5Subject(model, ids, mask);
      for (let b = 0; b < 3; b++)
        assertOptimal(r, b, exhaustive(s, b, maxLen, lengthLp(alpha)), `T5 α ${alpha} row ${b}`, 5);
      model.train();
    }
  }
  // BART: V 4 (pad 1, start = EOS 2)
  {
    const V = 4,
      { ids, mask } = inputs(V, 5),
      model = sharpen(bartTiny(V), 30);
    for (const alpha of [0, 1]) {
      const r = bartBeam(model, ids, { attentionMask: mask, maxLen, beamSize: 64, lengthPenalty: alpha, nBest: 5 });
      const s = bartSubject(model, ids, mask);
      for (let b = 0; b < 3; b++)
        assertOptimal(r, b, exhaustive(s, b, maxLen, lengthLp(alpha)), `BART α ${alpha} row ${b}`, 5);
      model.train();
    }
  }
  // the Transformer: V 5, PAD 0 and BOS 1 never generated; GNMT's lp = ((5 + n)/6)^α
  {
    const V = 5,
      model = new Transformer(
        transformerConfig("tiny", {
          vocabSize: V,
          maxLen: 8,
          nEncoderLayer: 1,
          nDecoderLayer: 1,
          nHead: 2,
          dModel: 16,
          dFF: 32,
          dropout: 0,
        }),
        { generator: new Generator(6) },
      );
    const src = randint(3, V, [2, 4], { generator: new Generator(7) });
    for (const alpha of [0, 0.6]) {
      const r = transformerBeam(model, src, {
        bosId: 1,
        eosId: 2,
        maxLen,
        beamSize: 64,
        lengthPenalty: alpha,
        nBest: 3,
      });
      const s = transformerSubject(model, src, 1, 2);
      for (let b = 0; b < 2; b++)
        assertOptimal(
          r,
          b,
          exhaustive(s, b, maxLen, (n) => ((5 + n) / 6) ** alpha),
          `Transformer α ${alpha} row ${b}`,
          3,
        );
      model.train();
    }
  }
});

test("beam search: the best beam's log P is at least greedy's; scores are log P/lp of the tokens; n-best sorted; a source decodes alone as in a batch", () => {
  const V = 12,
    maxLen = 6;
  for (let trial = 0; trial < 3; trial++) {
    const { ids, mask } = inputs(V, 10 + trial);
    const models = [t5Tiny(V, {}), sharpen(bartTiny(V, { eosId: 3 }, 20 + trial), 5)];
    for (const model of models) {
      const s = model instanceof T5 ? t5Subject(model, ids, mask) : bartSubject(model, ids, mask);
      const beam = (inputIds: Tensor, m: Tensor, opts: object): BeamResult =>
        model instanceof T5
          ? t5Beam(model, inputIds, { attentionMask: m, maxLen, ...opts } as never)
          : bartBeam(model, inputIds, { attentionMask: m, maxLen, ...opts } as never);
      const greedy =
        model instanceof T5
          ? t5Generate(model, ids, { attentionMask: mask, maxLen, temperature: 0 })
          : bartGenerate(model, ids, { attentionMask: mask, maxLen, temperature: 0 });
      const r0 = beam(ids, mask, { beamSize: 4, lengthPenalty: 0, nBest: 4 });
      const r1 = beam(ids, mask, { beamSize: 4, lengthPenalty: 1, nBest: 3 });
      model.eval();
      for (let b = 0; b < 3; b++) {
        const what = `${s.name} trial ${trial} row ${b}`;
        const lpGreedy = logProb(s, b, greedy[b]!, maxLen),
          lpBeam = logProb(s, b, r0.tokens[b]!, maxLen);
        assert.ok(
          Math.abs(r0.logProbs[b]! - lpBeam) < 1e-4 && Math.abs(r0.scores[b]! - lpBeam) < 1e-4,
          `${what}: α 0 score ${r0.scores[b]} = log P ${lpBeam}`,
        );
        assert.ok(r0.logProbs[b]! >= lpGreedy - 1e-5, `${what}: beam log P ${r0.logProbs[b]} < greedy's ${lpGreedy}`);
        // α = 1: the score is log P / |Y|, |Y| counting the EOS
        const n = Math.min(r1.tokens[b]!.length + 1, maxLen);
        assert.ok(
          Math.abs(r1.scores[b]! - logProb(s, b, r1.tokens[b]!, maxLen) / n) < 1e-4,
          `${what}: α 1 score ${r1.scores[b]}`,
        );
        for (const r of [r0, r1]) {
          const scores = r.nBest[b]!.map((h) => h.score);
          assert.deepEqual(
            scores,
            [...scores].sort((x, y) => y - x),
            `${what}: n-best sorted`,
          );
          assert.deepEqual(r.nBest[b]![0]!.tokens, r.tokens[b]);
        }
        const alone = beam(ids.narrow(0, b, 1), mask.narrow(0, b, 1), { beamSize: 4, lengthPenalty: 1 });
        assert.deepEqual(alone.tokens[0], r1.tokens[b], `${what}: alone as in the batch`);
      }
      model.train();
    }
  }
});

test("beam search: options are checked", () => {
  const V = 8,
    { ids, mask } = inputs(V, 1),
    model = t5Tiny(V);
  assertThrowsWith(
    () => t5Beam(model, ids, { attentionMask: mask, beamSize: 0 }),
    ArgumentError,
    /beamSearch: beamSize must be a positive integer, got 0/,
  );
  assertThrowsWith(
    () => t5Beam(model, ids, { attentionMask: mask, beamSize: 2, nBest: 3 }),
    ArgumentError,
    /nBest must be an integer in \[1, beamSize 2\], got 3/,
  );
  assertThrowsWith(
    () => t5Beam(model, ids, { beamSize: 2, lengthPenalty: -1 }),
    ArgumentError,
    /lengthPenalty must be ≥ 0, got -1/,
  );
  assertThrowsWith(
    () => t5Beam(model, ids, { beamSize: 2, maxLen: 0 }),
    ArgumentError,
    /beamSearch: maxLen must be a positive integer, got 0/,
  );
  assertThrowsWith(
    () => t5Beam(model, ids, { beamSize: 2, repetitionPenalty: -2 }),
    ArgumentError,
    /repetitionPenalty must be a positive number, got -2/,
  );
  assertThrowsWith(
    () => t5Generate(model, ids, { topP: 0 }),
    ArgumentError,
    /generate: topP must be in \(0, 1\], got 0/,
  );
  const bart = bartTiny(V);
  assertThrowsWith(
    () => bartBeam(bart, ids, { beamSize: 2, maxLen: 12 }),
    ArgumentError,
    /maxLen must be an integer in \[1, 11\], got 12/,
  );
  assertThrowsWith(
    () => bartGenerate(bart, ids, { repetitionPenalty: 0 }),
    ArgumentError,
    /generate: repetitionPenalty must be a positive number, got 0/,
  );
});
