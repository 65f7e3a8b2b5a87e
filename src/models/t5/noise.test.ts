// T5's span corruption: the masked fraction, the span count, the sentinels' layout, that input + target give the
// text back, the uniformity of the cuts, seeding and errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError, Generator } from "../../index.js";
import { assertThrowsWith } from "../../../test/harness/assert.js";
import { randomSegmentation, spanCorruption, undoSpanCorruption } from "./noise.js";

const SENTINELS = Array.from({ length: 40 }, (_, i) => 1000 + i); // <extra_id_i> = 1000 + i
const isSentinel = (t: number): boolean => t >= 1000;
const doc = (n: number, g: Generator): number[] => Array.from({ length: n }, () => g.randint(0, 50));

test("spanCorruption: exactly round(0.15·n) tokens dropped, in round(m/3) spans that never touch", () => {
  const g = new Generator(1);
  let noise = 0,
    total = 0,
    spanTokens = 0,
    spanCount = 0;
  for (const n of [2, 3, 7, 10, 20, 33, 64, 100, 128, 200]) {
    for (let rep = 0; rep < 20; rep++) {
      const tokens = doc(n, g);
      const { input, target, spans } = spanCorruption(tokens, { sentinelIds: SENTINELS, generator: g });
      const m = Math.min(Math.max(Math.round(0.15 * n), 1), n - 1);
      const k = Math.min(Math.max(Math.round(m / 3), 1), m, n - m);
      assert.equal(spans.length, k, `n ${n}: span count`);
      assert.equal(
        spans.reduce((a, s) => a + s.length, 0),
        m,
        `n ${n}: dropped tokens`,
      );
      for (const s of spans) assert.ok(s.length >= 1);
      // kept runs between spans are non-empty: the spans never touch, and the first token is always kept
      assert.ok(spans[0]!.start >= 1);
      for (let i = 1; i < spans.length; i++)
        assert.ok(
          spans[i]!.start > spans[i - 1]!.start + spans[i - 1]!.length,
          `n ${n}: spans ${i - 1} and ${i} touch`,
        );
      // input: the n − m kept tokens and one sentinel per span; target: k sentinels, the m dropped tokens, the final sentinel
      assert.equal(input.length, n - m + k);
      assert.equal(target.length, m + k + 1);
      assert.deepEqual(input.filter(isSentinel), SENTINELS.slice(0, k));
      assert.deepEqual(target.filter(isSentinel), SENTINELS.slice(0, k + 1));
      assert.equal(target[0], SENTINELS[0]);
      assert.equal(target[target.length - 1], SENTINELS[k]);
      noise += m;
      total += n;
      spanTokens += m;
      spanCount += k;
    }
  }
  // over these lengths the dropped share is 0.15 up to rounding, and the mean span length about 3
  assert.ok(Math.abs(noise / total - 0.15) < 0.01, `dropped share ${noise / total}`);
  assert.ok(Math.abs(spanTokens / spanCount - 3) < 0.35, `mean span length ${spanTokens / spanCount}`);
  // n = 100: 15 tokens in 5 spans, the paper's baseline numbers
  const { spans } = spanCorruption(doc(100, g), { sentinelIds: SENTINELS, generator: g });
  assert.equal(spans.length, 5);
  assert.equal(
    spans.reduce((a, s) => a + s.length, 0),
    15,
  );
});

test("spanCorruption: the input with each sentinel replaced by its span in the target is the text", () => {
  const g = new Generator(2);
  for (let rep = 0; rep < 200; rep++) {
    const n = 2 + g.randint(0, 150);
    const tokens = doc(n, g);
    const density = [0.15, 0.3, 0.5][rep % 3]!,
      mean = [1, 3, 8][rep % 3]!;
    const { input, target, spans } = spanCorruption(tokens, {
      sentinelIds: SENTINELS,
      noiseDensity: density,
      meanSpanLength: mean,
      generator: g,
    });
    assert.deepEqual(undoSpanCorruption(input, target, SENTINELS), tokens);
    // and the spans say where: the target's pieces are the text's tokens at the spans
    const pieces: number[][] = [];
    for (const t of target)
      if (isSentinel(t)) pieces.push([]);
      else pieces[pieces.length - 1]!.push(t);
    assert.equal(pieces.pop()!.length, 0, "nothing after the final sentinel");
    assert.deepEqual(
      pieces,
      spans.map((s) => tokens.slice(s.start, s.start + s.length)),
    );
  }
  // the paper's picture, by hand: kept "a b", span "c d", kept "e", span "f" → input a b <0> e <1>, target <0> c d <1> f <2>
  assert.deepEqual(
    undoSpanCorruption([1, 2, 1000, 5, 1001], [1000, 3, 4, 1001, 6, 1002], SENTINELS),
    [1, 2, 3, 4, 5, 6],
  );
});

test("randomSegmentation: k non-empty runs adding to n, each of the C(n−1, k−1) cuttings about equally likely", () => {
  const g = new Generator(3);
  const counts = new Map<string, number>();
  const draws = 12_000;
  for (let i = 0; i < draws; i++) {
    const s = randomSegmentation(5, 3, g);
    assert.equal(s.length, 3);
    assert.equal(
      s.reduce((a, b) => a + b, 0),
      5,
    );
    for (const l of s) assert.ok(l >= 1);
    counts.set(s.join(","), (counts.get(s.join(",")) ?? 0) + 1);
  }
  // C(4, 2) = 6 cuttings, each 1/6: 2000 expected, standard deviation √(12000·(1/6)·(5/6)) ≈ 41
  assert.equal(counts.size, 6);
  for (const [key, c] of counts) assert.ok(Math.abs(c - draws / 6) < 200, `${key}: ${c}`);
  assert.deepEqual(randomSegmentation(4, 4, g), [1, 1, 1, 1]);
  assert.deepEqual(randomSegmentation(4, 1, g), [4]);
  assertThrowsWith(
    () => randomSegmentation(3, 4, g),
    ArgumentError,
    /randomSegmentation: need integers 1 ≤ k ≤ n, got n 3, k 4/,
  );
});

test("spanCorruption: seeded; refuses short documents, bad rates and too few sentinels", () => {
  const tokens = doc(60, new Generator(4));
  const a = spanCorruption(tokens, { sentinelIds: SENTINELS, generator: new Generator(9) });
  const b = spanCorruption(tokens, { sentinelIds: SENTINELS, generator: new Generator(9) });
  const c = spanCorruption(tokens, { sentinelIds: SENTINELS, generator: new Generator(10) });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.spans, c.spans);
  const g = new Generator(0);
  assertThrowsWith(
    () => spanCorruption([1], { sentinelIds: SENTINELS, generator: g }),
    ArgumentError,
    /at least 2 tokens, got 1/,
  );
  assertThrowsWith(
    () => spanCorruption(tokens, { sentinelIds: SENTINELS, noiseDensity: 1, generator: g }),
    ArgumentError,
    /noiseDensity must be in \(0, 1\), got 1/,
  );
  assertThrowsWith(
    () => spanCorruption(tokens, { sentinelIds: SENTINELS, meanSpanLength: 0.5, generator: g }),
    ArgumentError,
    /meanSpanLength must be ≥ 1/,
  );
  // 60 tokens: 9 noise tokens in 3 spans need 4 sentinels
  assertThrowsWith(
    () => spanCorruption(tokens, { sentinelIds: SENTINELS.slice(0, 3), generator: g }),
    ArgumentError,
    /3 spans need 4 sentinels, only 3 given/,
  );
  assertThrowsWith(
    () => undoSpanCorruption([1, 1000], [5, 1000], SENTINELS),
    ArgumentError,
    /must start with a sentinel/,
  );
});
