// BART's noising functions: Poisson span lengths, text infilling, sentence permutation — seeded, and checked
// against what the paper says they do.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError, Generator } from "../../index.js";
import { assertThrowsWith } from "../../../test/harness/assert.js";
import { samplePoisson, sentencePermutation, textInfilling, type Span } from "./noise.js";

const MASK = 99;

test("samplePoisson(λ = 3): mean and variance λ, P(0) = e^−3, over 40,000 seeded draws", () => {
  const g = new Generator(7);
  const n = 40_000;
  let sum = 0,
    sq = 0,
    zeros = 0;
  for (let i = 0; i < n; i++) {
    const k = samplePoisson(3, g);
    sum += k;
    sq += k * k;
    if (k === 0) zeros++;
  }
  const mean = sum / n,
    variance = sq / n - mean * mean;
  // standard errors: √(λ/n) = 0.0087 for the mean, P(0) = 0.0498 with √(p(1−p)/n) = 0.0011
  assert.ok(Math.abs(mean - 3) < 0.04, `mean ${mean}`);
  assert.ok(Math.abs(variance - 3) < 0.15, `variance ${variance}`);
  assert.ok(Math.abs(zeros / n - Math.exp(-3)) < 0.005, `P(0) ${zeros / n}`);
  assertThrowsWith(() => samplePoisson(0, g), ArgumentError, /samplePoisson: lambda must be in \(0, 30\), got 0/);
});

/** Undo text infilling with its spans: put each span's tokens (or nothing) back where its [MASK] stands. */
function restore(noisy: number[], spans: Span[], original: number[]): number[] {
  const out: number[] = [];
  let j = 0,
    next = 0; // j: position in noisy, next: position in original
  for (const s of spans) {
    while (next < s.start) {
      assert.equal(noisy[j], original[next], `token ${next} kept`);
      out.push(noisy[j++]!);
      next++;
    }
    assert.equal(noisy[j++], MASK, `a [MASK] for the span at ${s.start}`);
    out.push(...original.slice(s.start, s.start + s.length));
    next += s.length;
  }
  while (next < original.length) {
    out.push(noisy[j++]!);
    next++;
  }
  assert.equal(j, noisy.length, "nothing left over");
  return out;
}

test("text infilling: each span becomes one [MASK], the rest is kept in order; 30% of the tokens masked", () => {
  const g = new Generator(11);
  for (const n of [1, 5, 10, 37, 100]) {
    for (let trial = 0; trial < 10; trial++) {
      const doc = Array.from({ length: n }, (_, i) => i % 50); // never MASK
      const { tokens, spans } = textInfilling(doc, { maskId: MASK, generator: g });
      const masked = spans.reduce((s, sp) => s + sp.length, 0);
      assert.equal(masked, Math.round(0.3 * n), `n ${n}: ${masked} tokens masked`);
      assert.equal(tokens.filter((t) => t === MASK).length, spans.length, "one [MASK] per span");
      assert.equal(tokens.length, n - masked + spans.length);
      assert.deepEqual(restore(tokens, spans, doc), doc, "the spans put back give the document");
      // spans never overlap or touch: a gap of ≥ 1 token between two spans, no insertion inside or beside a span
      const real = spans.filter((sp) => sp.length > 0);
      for (let i = 1; i < real.length; i++)
        assert.ok(real[i - 1]!.start + real[i - 1]!.length < real[i]!.start, `spans ${JSON.stringify(real)}`);
      for (const z of spans.filter((sp) => sp.length === 0)) {
        for (const r of real)
          assert.ok(
            z.start < r.start || z.start > r.start + r.length,
            `insertion ${z.start} at span ${JSON.stringify(r)}`,
          );
      }
    }
  }
  assert.deepEqual(textInfilling([], { maskId: MASK, generator: g }), { tokens: [], spans: [] });
  assertThrowsWith(
    () => textInfilling([1, 2], { maskId: MASK, maskRatio: 1.5, generator: g }),
    ArgumentError,
    /maskRatio must be in \[0, 1\], got 1.5/,
  );
});

test("text infilling: span lengths follow Poisson(3) on long documents, 0-length spans insert a [MASK]; seeded", () => {
  const g = new Generator(12);
  const doc = Array.from({ length: 2000 }, (_, i) => i % 50);
  const lengths: number[] = [];
  for (let trial = 0; trial < 10; trial++) {
    const { spans } = textInfilling(doc, { maskId: MASK, generator: g });
    lengths.push(...spans.map((s) => s.length));
  }
  const nonzero = lengths.filter((l) => l > 0);
  const zerosShare = lengths.filter((l) => l === 0).length / lengths.length;
  // Poisson(3): mean 3, P(0) = 0.0498 (σ ≈ 0.005 over ~2,000 spans); the ~10 spans cut to fit shift the mean by < 0.02
  const mean = lengths.reduce((s, l) => s + l, 0) / lengths.length;
  assert.ok(Math.abs(mean - 3) < 0.12, `mean span length ${mean} over ${lengths.length} spans`);
  assert.ok(Math.abs(zerosShare - Math.exp(-3)) < 0.01, `0-length share ${zerosShare}`);
  assert.ok(Math.max(...nonzero) >= 9, "long spans occur");
  // seeded: the same generator state gives the same corruption, another seed another
  const a = textInfilling(doc.slice(0, 60), { maskId: MASK, generator: new Generator(5) });
  const b = textInfilling(doc.slice(0, 60), { maskId: MASK, generator: new Generator(5) });
  const c = textInfilling(doc.slice(0, 60), { maskId: MASK, generator: new Generator(6) });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.tokens, c.tokens);
});

test("sentence permutation keeps the multiset of sentences, splits after each full stop, is seeded and varies", () => {
  const DOT = 0;
  // sentences [1 2 .] [3 .] [4 5 6 .] [7 .] and a trailing piece [8 9] without a full stop
  const doc = [1, 2, DOT, 3, DOT, 4, 5, 6, DOT, 7, DOT, 8, 9];
  const key = (s: number[]): string => JSON.stringify(s);
  const sentencesOf = (toks: number[]): string[] => {
    const out: string[] = [];
    let cur: number[] = [];
    for (const t of toks) {
      cur.push(t);
      if (t === DOT || t === 9) {
        out.push(key(cur));
        cur = [];
      }
    }
    return out.sort();
  };
  const g = new Generator(3);
  const seen = new Map<string, number>();
  for (let trial = 0; trial < 1200; trial++) {
    const out = sentencePermutation(doc, { sentenceEnds: [DOT], generator: g });
    assert.deepEqual(sentencesOf(out), sentencesOf(doc), `trial ${trial}: ${out}`);
    const end = out.findIndex((t) => t === DOT || t === 9);
    const first = key(out.slice(0, end + 1));
    seen.set(first, (seen.get(first) ?? 0) + 1);
  }
  // 5 sentences: each comes first with probability 1/5 (240 of 1200, σ ≈ 14); the trailing piece [8 9] can lead too
  assert.equal(seen.size, 5, JSON.stringify([...seen]));
  for (const [s, count] of seen) assert.ok(Math.abs(count - 240) < 70, `${s} first ${count} times`);
  assert.deepEqual(
    sentencePermutation(doc, { sentenceEnds: [DOT], generator: new Generator(9) }),
    sentencePermutation(doc, { sentenceEnds: [DOT], generator: new Generator(9) }),
  );
  assert.deepEqual(sentencePermutation([], { sentenceEnds: [DOT], generator: g }), []);
  assert.deepEqual(
    sentencePermutation([4, 5, DOT], { sentenceEnds: [DOT], generator: g }),
    [4, 5, DOT],
    "one sentence stays",
  );
});
