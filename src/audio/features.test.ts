import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError } from "../engine/errors.js";
import { Generator } from "../engine/rng.js";
import { assertThrowsWith } from "../../test/harness/assert.js";
import {
  averageByDuration,
  flatStartDurations,
  frameEnergy,
  magnitude,
  monotonicAlignment,
  stft,
  yinPitch,
} from "./index.js";

test("YIN finds the pitch of tones and harmonic sounds within 1%, and calls noise and silence unvoiced", () => {
  const sr = 16000;
  const g = new Generator(9);
  for (const f0 of [90, 150, 220, 330]) {
    // a harmonic sound: the fundamental and two overtones
    const x = Float64Array.from(
      { length: 8000 },
      (_, i) =>
        Math.sin((2 * Math.PI * f0 * i) / sr) +
        0.5 * Math.sin((4 * Math.PI * f0 * i) / sr) +
        0.3 * Math.sin((6 * Math.PI * f0 * i) / sr),
    );
    const p = yinPitch(x, { sampleRate: sr, hopLength: 200 });
    const inner = p.slice(5, -5);
    for (const v of inner) assert.ok(Math.abs(v - f0) < 0.01 * f0, `f0 ${f0}: frame pitch ${v}`);
  }
  const noise = Float64Array.from({ length: 8000 }, () => g.normal());
  const pn = yinPitch(noise, { sampleRate: sr, hopLength: 200 });
  assert.ok(
    pn.filter((v) => v > 0).length < 0.1 * pn.length,
    `noise voiced in ${pn.filter((v) => v > 0).length} of ${pn.length} frames`,
  );
  assert.ok(yinPitch(new Float64Array(4000), { sampleRate: sr, hopLength: 200 }).every((v) => v === 0));
  assertThrowsWith(() => yinPitch(noise, { sampleRate: sr, hopLength: 200, fMax: 9000 }), ArgumentError, /fMax/);
});

test("frame energy is the L2 norm of each STFT magnitude column", () => {
  const g = new Generator(2);
  const x = Float64Array.from({ length: 1000 }, () => g.normal());
  const o = { nFft: 128, hopLength: 32 };
  const spec = stft(x, o),
    mag = magnitude(spec);
  const e = frameEnergy(x, o);
  assert.equal(e.length, spec.nFrames);
  for (const m of [0, 7, spec.nFrames - 1]) {
    let s = 0;
    for (let f = 0; f < spec.nFreq; f++) s += mag[f * spec.nFrames + m]! ** 2;
    assert.ok(Math.abs(e[m]! - Math.sqrt(s)) < 1e-9 * Math.sqrt(s));
  }
});

test("monotonic alignment: the best path found by the dynamic programme equals the brute-force best", () => {
  const g = new Generator(4);
  // every way to split T frames into S runs of at least one
  const splits = (S: number, T: number): number[][] =>
    S === 1
      ? [[T]]
      : Array.from({ length: T - S + 1 }, (_, k) => k + 1).flatMap((d) => splits(S - 1, T - d).map((r) => [d, ...r]));
  const total = (score: Float64Array, T: number, d: number[]) => {
    let t = 0,
      s = 0;
    d.forEach((n, j) => {
      for (let i = 0; i < n; i++, t++) s += score[j * T + t]!;
    });
    return s;
  };
  for (const [S, T] of [
    [1, 1],
    [1, 5],
    [3, 3],
    [3, 7],
    [4, 9],
    [5, 12],
  ]) {
    for (let rep = 0; rep < 5; rep++) {
      const score = Float64Array.from({ length: S! * T! }, () => g.normal());
      const d = monotonicAlignment(score, S!, T!);
      assert.equal(
        d.reduce((a, b) => a + b, 0),
        T,
      );
      assert.ok(d.every((n) => n >= 1));
      const best = Math.max(...splits(S!, T!).map((c) => total(score, T!, c)));
      assert.ok(Math.abs(total(score, T!, d) - best) < 1e-12, `S ${S} T ${T}: ${total(score, T!, d)} vs best ${best}`);
    }
  }
  assertThrowsWith(() => monotonicAlignment(new Float64Array(6), 3, 2), ArgumentError, /1 ≤ S ≤ T/);
});

test("per-symbol averages over durations; unvoiced frames left out of pitch", () => {
  assert.deepEqual([...averageByDuration([1, 3, 5, 0, 0, 7], [2, 1, 3])], [2, 5, 7 / 3]);
  assert.deepEqual([...averageByDuration([1, 3, 5, 0, 0, 7], [2, 1, 3], true)], [2, 5, 7]);
  assert.deepEqual([...averageByDuration([0, 0], [1, 1], true)], [0, 0]);
});

test("flat-start alignment recovers the durations of a corpus whose symbols each emit their own feature vector", () => {
  const g = new Generator(12);
  const nSymbols = 6,
    D = 3;
  const proto = Array.from({ length: nSymbols }, () => Array.from({ length: D }, () => 3 * g.normal()));
  const truth: number[][] = [];
  const corpus = Array.from({ length: 40 }, () => {
    const S = 3 + g.randint(0, 5);
    const ids = Array.from({ length: S }, () => g.randint(0, nSymbols));
    const dur = ids.map(() => 1 + g.randint(0, 6));
    truth.push(dur);
    const T = dur.reduce((a, b) => a + b, 0);
    const features = new Float64Array(D * T);
    let t = 0;
    dur.forEach((n, j) => {
      for (let k = 0; k < n; k++, t++)
        for (let d = 0; d < D; d++) features[d * T + t] = proto[ids[j]!]![d]! + 0.3 * g.normal();
    });
    return { ids, features, nFrames: T };
  });
  const found = flatStartDurations(corpus, nSymbols, D, 8);
  let exact = 0,
    total = 0;
  found.forEach((d, i) =>
    d.forEach((n, j) => {
      total++;
      if (
        n === truth[i]![j] ||
        corpus[i]!.ids[j] === corpus[i]!.ids[j + 1] ||
        corpus[i]!.ids[j] === corpus[i]!.ids[j - 1]
      )
        exact++;
    }),
  );
  // a symbol repeated twice in a row cannot be split exactly; every other symbol's duration is recovered
  assert.ok(exact / total > 0.95, `${exact} of ${total} durations recovered`);
  assertThrowsWith(
    () => flatStartDurations([{ ids: [1, 2, 3], features: new Float64Array(6), nFrames: 2 }], 4, 3),
    ArgumentError,
    /1 ≤ S ≤ T/,
  );
});
