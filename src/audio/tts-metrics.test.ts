// The TTS measures: mel cepstra (an orthonormal DCT: Parseval), DTW against every monotone path of a small case,
// MCD (0 for a sentence against itself and its time-stretched copy), the attention scores of known alignments.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError } from "../engine/errors.js";
import { Generator } from "../engine/rng.js";
import { assertThrowsWith } from "../../test/harness/assert.js";
import { attentionScores, dtwPath, melCepstra, melCepstralDistortion } from "./tts-metrics.js";

const randn = (g: Generator, n: number) => Float64Array.from({ length: n }, () => g.normal());

test("melCepstra: the DCT-II is orthonormal, so c₀² + Σ_k c_k² = Σ_m x_m² per frame", () => {
  const g = new Generator(1),
    M = 12,
    T = 5;
  const x = randn(g, M * T);
  const c = melCepstra(x, M, T, M - 1);
  for (let t = 0; t < T; t++) {
    let energy = 0,
      sum = 0,
      cep = 0;
    for (let m = 0; m < M; m++) ((energy += x[m * T + t]! ** 2), (sum += x[m * T + t]!));
    const c0 = sum / Math.sqrt(M);
    for (let k = 0; k < M - 1; k++) cep += c[t * (M - 1) + k]! ** 2;
    assert.ok(Math.abs(c0 * c0 + cep - energy) < 1e-9 * energy, `frame ${t}: ${c0 * c0 + cep} vs ${energy}`);
  }
  assertThrowsWith(() => melCepstra(x, M, T, M), ArgumentError, /K must be/);
  assertThrowsWith(() => melCepstra(x, M, T + 1), ArgumentError, /not \(nMels/);
});

/** The cheapest monotone path's cost, by trying every path (small sizes only). */
function bruteForceCost(d: (i: number, j: number) => number, Ta: number, Tb: number): number {
  let best = Infinity;
  const walk = (i: number, j: number, acc: number): void => {
    acc += d(i, j);
    if (i === Ta - 1 && j === Tb - 1) best = Math.min(best, acc);
    if (i + 1 < Ta) walk(i + 1, j, acc);
    if (j + 1 < Tb) walk(i, j + 1, acc);
    if (i + 1 < Ta && j + 1 < Tb) walk(i + 1, j + 1, acc);
  };
  walk(0, 0, 0);
  return best;
}

test("dtwPath: its path is monotone, joins the ends and costs what the cheapest of all paths costs", () => {
  const g = new Generator(2);
  for (const [Ta, Tb] of [
    [4, 6],
    [5, 5],
    [6, 3],
    [1, 4],
  ] as const) {
    const D = 3,
      a = randn(g, Ta * D),
      b = randn(g, Tb * D);
    const dist = (i: number, j: number) =>
      Math.sqrt(Array.from({ length: D }, (_, k) => (a[i * D + k]! - b[j * D + k]!) ** 2).reduce((x, y) => x + y));
    const path = dtwPath(a, Ta, b, Tb, D);
    assert.deepEqual(path[0], [0, 0]);
    assert.deepEqual(path.at(-1), [Ta - 1, Tb - 1]);
    for (let p = 1; p < path.length; p++) {
      const di = path[p]![0] - path[p - 1]![0],
        dj = path[p]![1] - path[p - 1]![1];
      assert.ok((di === 0 || di === 1) && (dj === 0 || dj === 1) && di + dj > 0, `step ${di}, ${dj}`);
    }
    const cost = path.reduce((s, [i, j]) => s + dist(i, j), 0);
    assert.ok(Math.abs(cost - bruteForceCost(dist, Ta, Tb)) < 1e-9, `${Ta}×${Tb}: ${cost}`);
  }
  assertThrowsWith(() => dtwPath(new Float64Array(0), 0, new Float64Array(3), 1, 3), ArgumentError, /non-empty/);
});

test("melCepstralDistortion: 0 against itself and a time-stretched copy; grows with the difference", () => {
  const g = new Generator(3),
    M = 20,
    T = 8;
  const x = randn(g, M * T);
  assert.equal(melCepstralDistortion(x, T, x, T, M, 13), 0);
  // every frame twice: DTW matches each frame with its copies
  const slow = new Float64Array(M * 2 * T);
  for (let m = 0; m < M; m++) for (let t = 0; t < 2 * T; t++) slow[m * 2 * T + t] = x[m * T + Math.floor(t / 2)]!;
  assert.ok(melCepstralDistortion(x, T, slow, 2 * T, M, 13) < 1e-9);
  const near = x.map((v) => v + 0.01 * g.normal()),
    far = x.map((v) => v + 0.5 * g.normal());
  const a = melCepstralDistortion(x, T, near, T, M, 13),
    b = melCepstralDistortion(x, T, far, T, M, 13);
  assert.ok(a > 0 && b > 10 * a, `${a} then ${b}`);
});

test("attentionScores: a hard diagonal is focused and diagonal; a uniform alignment is neither", () => {
  const N = 10,
    S = 10;
  const eye = new Float64Array(N * S);
  for (let n = 0; n < N; n++) eye[n * S + n] = 1;
  const d = attentionScores(eye, N, S);
  assert.equal(d.focusRate, 1);
  assert.equal(d.diagonality, 1);
  const anti = new Float64Array(N * S);
  for (let n = 0; n < N; n++) anti[n * S + (S - 1 - n)] = 1;
  assert.ok(attentionScores(anti, N, S).diagonality < 0.5);
  const u = attentionScores(new Float64Array(N * S).fill(1 / S), N, S);
  assert.ok(Math.abs(u.focusRate - 1 / S) < 1e-12);
  assertThrowsWith(() => attentionScores(eye, N, S + 1), ArgumentError, /weights are not/);
});
