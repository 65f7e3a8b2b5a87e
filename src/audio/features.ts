// Prosody features and alignment for non-autoregressive TTS (FastSpeech 2): the pitch and the energy of
// each frame, and the durations that align a sentence's symbols with its frames.
//
//   energy   e_m = ‖ |X[·, m]| ‖₂                      the L2 norm of frame m's STFT magnitude (FastSpeech 2 §2.3)
//   pitch    YIN (de Cheveigné & Kawahara 2002, https://doi.org/10.1121/1.1458024) on the frame centred on
//            sample m·H:  d(τ) = Σ_j (x_j − x_{j+τ})²,  d'(τ) = d(τ) · τ / Σ_{k≤τ} d(k),  the first τ where
//            d' dips under the threshold (then its local minimum, refined by a parabola) gives f0 = sr / τ;
//            no dip: unvoiced (0)
//   durations  the monotonic alignment with the largest total score (Kim et al. 2020, Glow-TTS,
//            https://arxiv.org/abs/2005.11129): every frame belongs to one symbol, symbols in order, each at
//            least one frame — a dynamic programme over (symbol, frame):
//            Q[j, t] = score[j, t] + max(Q[j, t−1], Q[j−1, t−1])

import { ArgumentError } from "../engine/errors.js";
import { magnitude, stft, type StftOptions } from "./stft.js";

/** The L2 norm of each frame's STFT magnitude: (M,). */
export function frameEnergy(x: ArrayLike<number>, o: StftOptions): Float64Array {
  const spec = stft(x, o);
  const mag = magnitude(spec, 2);
  const out = new Float64Array(spec.nFrames);
  for (let f = 0; f < spec.nFreq; f++) for (let m = 0; m < spec.nFrames; m++) out[m]! += mag[f * spec.nFrames + m]!;
  for (let m = 0; m < out.length; m++) out[m] = Math.sqrt(out[m]!);
  return out;
}

export interface PitchOptions {
  sampleRate: number;
  /** the hop between frames (the STFT's, so that pitch frames line up with mel frames) */
  hopLength: number;
  /** the analysis window, in samples; default 2 · sampleRate / fMin (two periods of the lowest pitch) */
  frameLength?: number;
  /** default 60 Hz */
  fMin?: number;
  /** default 500 Hz */
  fMax?: number;
  /** YIN's absolute threshold; default 0.1 */
  threshold?: number;
  /** how many frames: default 1 + ⌊len / hop⌋ (the centred STFT's count) */
  nFrames?: number;
}

/** f0 in Hz of each frame centred on sample m·hop, 0 where unvoiced. */
export function yinPitch(x: ArrayLike<number>, o: PitchOptions): Float64Array {
  const { sampleRate: sr, hopLength: hop } = o;
  const fMin = o.fMin ?? 60,
    fMax = o.fMax ?? 500,
    threshold = o.threshold ?? 0.1;
  if (!(sr > 0) || !Number.isInteger(hop) || hop < 1)
    throw new ArgumentError(
      `yinPitch: sampleRate must be positive and hopLength a positive integer, got ${sr} and ${hop}`,
    );
  if (!(fMin > 0 && fMax > fMin && fMax < sr / 2))
    throw new ArgumentError(`yinPitch: need 0 < fMin < fMax < sampleRate/2, got ${fMin}, ${fMax}`);
  const tauMin = Math.max(2, Math.floor(sr / fMax)),
    tauMax = Math.ceil(sr / fMin);
  const W = o.frameLength ?? 2 * tauMax; // the integration window
  const nFrames = o.nFrames ?? 1 + Math.floor(x.length / hop);
  const out = new Float64Array(nFrames);
  const d = new Float64Array(tauMax + 2);
  for (let m = 0; m < nFrames; m++) {
    const start = m * hop - Math.floor((W + tauMax) / 2);
    const at = (i: number) => {
      const j = start + i;
      return j >= 0 && j < x.length ? x[j] : 0;
    };
    // d(τ) = Σ_{j<W} (x_j − x_{j+τ})²
    for (let tau = 1; tau <= tauMax + 1; tau++) {
      let s = 0;
      for (let j = 0; j < W; j++) {
        const diff = at(j)! - at(j + tau)!;
        s += diff * diff;
      }
      d[tau] = s;
    }
    // d'(τ) = d(τ) · τ / Σ_{k=1..τ} d(k)
    let running = 0;
    const dn = new Float64Array(tauMax + 2);
    dn[0] = 1;
    for (let tau = 1; tau <= tauMax + 1; tau++) {
      running += d[tau]!;
      dn[tau] = running > 0 ? (d[tau]! * tau) / running : 1;
    }
    let tau = -1;
    for (let t = tauMin; t <= tauMax; t++) {
      if (dn[t]! < threshold) {
        while (t + 1 <= tauMax && dn[t + 1]! < dn[t]!) t++; // slide to the dip's minimum
        tau = t;
        break;
      }
    }
    if (tau < 0) continue; // unvoiced
    // a parabola through (τ−1, τ, τ+1) refines the period
    const a = dn[tau - 1]!,
      b = dn[tau]!,
      c = dn[tau + 1]!;
    const den = a - 2 * b + c;
    const shift = den !== 0 ? (0.5 * (a - c)) / den : 0;
    out[m] = sr / (tau + Math.max(-1, Math.min(1, shift)));
  }
  return out;
}

/**
 * The monotonic alignment of S symbols with T frames (S ≤ T) that maximises the total score: score is
 * (S, T) row-major; returns the frames of each symbol (durations summing to T, each ≥ 1).
 */
export function monotonicAlignment(score: Float64Array, S: number, T: number): number[] {
  if (!Number.isInteger(S) || !Number.isInteger(T) || S < 1 || T < S)
    throw new ArgumentError(`monotonicAlignment: need 1 ≤ S ≤ T, got S = ${S}, T = ${T}`);
  if (score.length !== S * T)
    throw new ArgumentError(`monotonicAlignment: score must hold (${S}, ${T}) values, got ${score.length}`);
  // Q[j, t]: the best total of frames 0..t with frame t on symbol j
  const Q = new Float64Array(S * T).fill(-Infinity);
  const fromPrev = new Uint8Array(S * T); // 1: frame t−1 was on symbol j − 1
  Q[0] = score[0]!;
  for (let t = 1; t < T; t++) {
    for (let j = Math.max(0, S - (T - t)); j <= Math.min(t, S - 1); j++) {
      const stay = Q[j * T + t - 1]!;
      const move = j > 0 ? Q[(j - 1) * T + t - 1]! : -Infinity;
      fromPrev[j * T + t] = move > stay ? 1 : 0;
      Q[j * T + t] = score[j * T + t]! + Math.max(stay!, move);
    }
  }
  const durations = new Array<number>(S).fill(0);
  for (let t = T - 1, j = S - 1; t >= 0; t--) {
    durations[j]!++;
    if (t > 0 && fromPrev[j * T + t]) j--;
  }
  return durations;
}

/**
 * Per-symbol averages of a frame-level feature (pitch, energy) over the symbol's frames; for pitch, pass
 * `voicedOnly` so that unvoiced frames (0) are left out (a symbol with none gets 0).
 */
export function averageByDuration(values: ArrayLike<number>, durations: number[], voicedOnly = false): Float64Array {
  const out = new Float64Array(durations.length);
  let t = 0;
  durations.forEach((n, j) => {
    let s = 0,
      k = 0;
    for (let i = 0; i < n; i++, t++) {
      const v = values[t]!;
      if (voicedOnly && !(v > 0)) continue;
      s += v;
      k++;
    }
    out[j] = k > 0 ? s / k : 0;
  });
  if (t > values.length)
    throw new ArgumentError(`averageByDuration: durations cover ${t} frames, the feature has ${values.length}`);
  return out;
}

export interface AlignUtterance {
  /** the symbol ids, S of them */
  ids: readonly number[];
  /** the frames as (D, T) row-major features (a log-mel spectrogram: D = nMels) */
  features: Float64Array;
  nFrames: number;
}

/**
 * Durations for a corpus without any aligner model: "flat-start" Viterbi training, as speech recognisers
 * bootstrap their HMMs. Every symbol starts with an equal share of its utterance's frames; then, `iterations`
 * times: each symbol type's mean feature vector μ_s and one variance σ² per dimension are estimated from the
 * frames aligned to it, and every utterance is re-aligned by monotonicAlignment with the Gaussian
 * log-likelihood score[j, t] = −Σ_d (f_{d,t} − μ_{s_j,d})² / 2σ_d². Needs S ≤ T in every utterance.
 */
export function flatStartDurations(
  corpus: readonly AlignUtterance[],
  nSymbols: number,
  D: number,
  iterations = 8,
): number[][] {
  for (const [i, u] of corpus.entries()) {
    if (u.ids.length < 1 || u.ids.length > u.nFrames || u.features.length !== D * u.nFrames)
      throw new ArgumentError(
        `flatStartDurations: utterance ${i} has ${u.ids.length} symbols, ${u.nFrames} frames and ${u.features.length} values (need 1 ≤ S ≤ T and D·T values)`,
      );
    if (u.ids.some((s) => !Number.isInteger(s) || s < 0 || s >= nSymbols))
      throw new ArgumentError(`flatStartDurations: utterance ${i} has a symbol outside [0, ${nSymbols})`);
  }
  // the flat start: T frames shared out as evenly as the integers allow
  let durations = corpus.map((u) =>
    u.ids.map((_, j) => Math.floor(((j + 1) * u.nFrames) / u.ids.length) - Math.floor((j * u.nFrames) / u.ids.length)),
  );
  for (let it = 0; it < iterations; it++) {
    // μ_s and σ²_d from the current alignment
    const sum = new Float64Array(nSymbols * D),
      count = new Float64Array(nSymbols);
    corpus.forEach((u, i) => {
      let t = 0;
      durations[i]!.forEach((n, j) => {
        const s = u.ids[j]!;
        for (let k = 0; k < n; k++, t++) {
          count[s!]!++;
          for (let d = 0; d < D; d++) sum[s * D + d]! += u.features[d * u.nFrames + t]!;
        }
      });
    });
    const mu = sum.map((v, i) => (count[Math.floor(i / D)]! > 0 ? v / count[Math.floor(i / D)]! : 0));
    const v2 = new Float64Array(D);
    let frames = 0;
    corpus.forEach((u, i) => {
      let t = 0;
      durations[i]!.forEach((n, j) => {
        for (let k = 0; k < n; k++, t++)
          for (let d = 0; d < D; d++) v2[d]! += (u.features[d * u.nFrames + t]! - mu[u.ids[j]! * D + d]!) ** 2;
      });
      frames += u.nFrames;
    });
    for (let d = 0; d < D; d++) v2[d] = Math.max(v2[d]! / frames, 1e-6);
    // re-align every utterance under the new model
    durations = corpus.map((u) => {
      const S = u.ids.length,
        T = u.nFrames;
      const score = new Float64Array(S * T);
      for (let j = 0; j < S; j++)
        for (let t = 0; t < T; t++) {
          let s = 0;
          for (let d = 0; d < D; d++) s -= (u.features[d * T + t]! - mu[u.ids[j]! * D + d]!) ** 2 / (2 * v2[d]!);
          score[j * T + t] = s;
        }
      return monotonicAlignment(score, S, T);
    });
  }
  return durations;
}
