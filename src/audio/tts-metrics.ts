// The numbers by which synthesized speech is compared with the teacher's (docs/compare/tts.md):
//
//   mel cepstra      c_k = Σ_m log-mel_m · cos(π k (m + ½) / M) · √(2/M)       DCT-II (orthonormal) of each
//                                                                             frame's log-mel, k = 1..K (c₀, the
//                                                                             loudness, is left out)
//   MCD              (10 / ln 10) · √(2 Σ_k (c_k − ĉ_k)²)  dB, averaged over the frame pairs of the DTW path
//   DTW              D(i, j) = d(i, j) + min(D(i−1, j), D(i, j−1), D(i−1, j−1))  over Euclidean cepstral distances
//   focus rate       F = (1/N) Σ_n max_s α_{n,s}                (Ren et al. 2019, FastSpeech §3.3) — 1 when every
//                                                               decoder step attends to one symbol
//   diagonality      (1/N) Σ_n Σ_s α_{n,s} · exp(−(s/S − n/N)² / 2g²)   the attention mass inside the band that
//                                                               guided attention favours (g = 0.2)
//
// The cepstra here come from the 80-bin log-mel of the recipes, not from SPTK's mel-cepstral analysis, so the
// MCD is comparable between the rows of one table, not with numbers published elsewhere. Browser-safe.

import { ArgumentError } from "../engine/errors.js";

/** (nMels, T) row-major log-mel → (T, K) cepstra c₁..c_K, frame by frame. */
export function melCepstra(logMel: ArrayLike<number>, nMels: number, T: number, K = 13): Float64Array {
  if (logMel.length !== nMels * T)
    throw new ArgumentError(`melCepstra: ${logMel.length} values are not (nMels ${nMels}, T ${T})`);
  if (!(Number.isInteger(K) && K >= 1 && K < nMels))
    throw new ArgumentError(`melCepstra: K must be an integer in [1, ${nMels}), got ${K}`);
  const out = new Float64Array(T * K);
  const scale = Math.sqrt(2 / nMels);
  for (let t = 0; t < T; t++)
    for (let k = 1; k <= K; k++) {
      let s = 0;
      // c_k = √(2/M) Σ_m x_m cos(π k (m + ½) / M)
      for (let m = 0; m < nMels; m++) s += logMel[m * T + t]! * Math.cos((Math.PI * k * (m + 0.5)) / nMels);
      out[t * K + k - 1] = scale * s;
    }
  return out;
}

/**
 * The dynamic-time-warping path between two sequences of D-dimensional vectors (rows of a and b), by
 * Euclidean distance with steps (1, 0), (0, 1), (1, 1) → the matched pairs, first to last.
 */
export function dtwPath(a: Float64Array, Ta: number, b: Float64Array, Tb: number, D: number): [number, number][] {
  if (Ta < 1 || Tb < 1 || a.length !== Ta * D || b.length !== Tb * D)
    throw new ArgumentError(
      `dtwPath: sequences (${Ta}, ${D}) and (${Tb}, ${D}) must be non-empty and match their data`,
    );
  const dist = (i: number, j: number): number => {
    let s = 0;
    for (let d = 0; d < D; d++) s += (a[i * D + d]! - b[j * D + d]!) ** 2;
    return Math.sqrt(s);
  };
  const cost = new Float64Array(Ta * Tb).fill(Infinity);
  // D(i, j) = d(i, j) + min(D(i−1, j), D(i, j−1), D(i−1, j−1))
  for (let i = 0; i < Ta; i++)
    for (let j = 0; j < Tb; j++) {
      const best =
        i === 0 && j === 0
          ? 0
          : Math.min(
              i > 0 ? cost[(i - 1) * Tb + j]! : Infinity,
              j > 0 ? cost[i * Tb + j - 1]! : Infinity,
              i > 0 && j > 0 ? cost[(i - 1) * Tb + j - 1]! : Infinity,
            );
      cost[i * Tb + j] = best + dist(i, j);
    }
  const path: [number, number][] = [[Ta - 1, Tb - 1]];
  let i = Ta - 1,
    j = Tb - 1;
  while (i > 0 || j > 0) {
    const diag = i > 0 && j > 0 ? cost[(i - 1) * Tb + j - 1]! : Infinity,
      up = i > 0 ? cost[(i - 1) * Tb + j]! : Infinity,
      left = j > 0 ? cost[i * Tb + j - 1]! : Infinity;
    if (diag <= up && diag <= left) (i--, j--);
    else if (up <= left) i--;
    else j--;
    path.push([i, j]);
  }
  return path.reverse();
}

/** MCD (dB) between two log-mels (nMels, Ta) and (nMels, Tb), frames matched by DTW on their cepstra. */
export function melCepstralDistortion(
  ref: ArrayLike<number>,
  Ta: number,
  test: ArrayLike<number>,
  Tb: number,
  nMels: number,
  K = 13,
): number {
  const a = melCepstra(ref, nMels, Ta, K),
    b = melCepstra(test, nMels, Tb, K);
  const path = dtwPath(a, Ta, b, Tb, K);
  let sum = 0;
  for (const [i, j] of path) {
    let s = 0;
    for (let k = 0; k < K; k++) s += (a[i * K + k]! - b[j * K + k]!) ** 2;
    // MCD = (10 / ln 10) · √(2 Σ_k (c_k − ĉ_k)²)
    sum += (10 / Math.LN10) * Math.sqrt(2 * s);
  }
  return sum / path.length;
}

/** An alignment α (N decoder steps, S symbols) row-major → its focus rate and diagonality (band width g). */
export function attentionScores(
  alpha: ArrayLike<number>,
  N: number,
  S: number,
  g = 0.2,
): { focusRate: number; diagonality: number } {
  if (N < 1 || S < 1 || alpha.length !== N * S)
    throw new ArgumentError(`attentionScores: ${alpha.length} weights are not (N ${N}, S ${S}) with N, S ≥ 1`);
  let focus = 0,
    diag = 0;
  for (let n = 0; n < N; n++) {
    let max = 0;
    for (let s = 0; s < S; s++) {
      const w = alpha[n * S + s]!;
      max = Math.max(max, w);
      // exp(−(s/S − n/N)² / 2g²)
      diag += w * Math.exp(-((s / S - n / N) ** 2) / (2 * g * g));
    }
    focus += max;
  }
  return { focusRate: focus / N, diagonality: diag / N };
}
