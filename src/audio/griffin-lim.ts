// Griffin-Lim (Griffin & Lim 1984, https://doi.org/10.1109/TASSP.1984.1164317): a waveform whose STFT
// magnitude matches a given one, found by alternating projections, with the "fast" momentum α of
// Perraudin et al. 2013 (https://arxiv.org/abs/1306.1429): c_n = t_n + α(t_n − t_{n−1}). Only the phase of
// c_n is kept, so c_n may be divided by 1 + α: the step below subtracts α/(1+α)·t_{n−1}, as
// torchaudio.functional.griffinlim does.
//
//   S = |X|                         the target magnitude (from |X|^power: S = (|X|^power)^(1/power))
//   A_0 = 1                         the phase estimate (rand_init = False), t_{-1} = 0
//   repeat n times:
//     y   = ISTFT(S ⊙ A)            a signal with the target magnitude and the current phase
//     R   = STFT(y)                 the consistent spectrogram nearest to it
//     A   = R − α/(1+α) · t_prev    accelerate, then keep the phase only: A ← A / (|A| + 1e-16)
//     t_prev = R
//   return ISTFT(S ⊙ A)
//
// The vocoder floor of text-to-speech: what a mel spectrogram sounds like without a neural vocoder.

import { ArgumentError } from "../engine/errors.js";
import { istft, stft, type Spectrogram, type StftOptions } from "./stft.js";

export interface GriffinLimOptions extends StftOptions {
  /** iterations; default 32 (torchaudio's default) */
  nIter?: number;
  /** Perraudin's α; default 0.99 */
  momentum?: number;
  /** the exponent of the given spectrogram: 1 magnitude, 2 power; default 2 (torchaudio's default) */
  power?: number;
  /** the length of the signal to return */
  length?: number;
}

/** A waveform whose STFT magnitude approximates `spec` ((F, M) row-major values of |X|^power). */
export function griffinLim(spec: Float64Array, nFreq: number, nFrames: number, o: GriffinLimOptions): Float64Array {
  const nIter = o.nIter ?? 32,
    momentum = o.momentum ?? 0.99,
    power = o.power ?? 2;
  if (spec.length !== nFreq * nFrames)
    throw new ArgumentError(`griffinLim: the spectrogram must hold (${nFreq}, ${nFrames}) values, got ${spec.length}`);
  if (!Number.isInteger(nIter) || nIter < 0 || nIter > 100_000)
    throw new ArgumentError(`griffinLim: nIter must be an integer in [0, 100000], got ${nIter}`);
  if (!(momentum >= 0 && momentum < 1))
    throw new ArgumentError(`griffinLim: momentum must be in [0, 1), got ${momentum}`);
  if (!(power > 0)) throw new ArgumentError(`griffinLim: power must be positive, got ${power}`);
  const n = spec.length;
  const S = new Float64Array(n);
  for (let i = 0; i < n; i++) S[i] = spec[i]! ** (1 / power);
  const ar = new Float64Array(n).fill(1),
    ai = new Float64Array(n); // A = 1
  let pr: Float64Array = new Float64Array(n),
    pi: Float64Array = new Float64Array(n); // t_prev = 0
  const withPhase = (): Spectrogram => {
    const re = new Float64Array(n),
      im = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      re[i] = S[i]! * ar[i]!;
      im[i] = S[i]! * ai[i]!;
    }
    return { re, im, nFreq, nFrames };
  };
  const beta = momentum / (1 + momentum);
  for (let it = 0; it < nIter; it++) {
    const y = istft(withPhase(), o);
    const R = stft(y, o);
    if (R.nFrames !== nFrames)
      throw new ArgumentError(
        `griffinLim: the rebuilt spectrogram has ${R.nFrames} frames, not ${nFrames}: pass the signal's length`,
      );
    for (let i = 0; i < n; i++) {
      const xr = R.re[i]! - beta * pr[i]!,
        xi = R.im[i]! - beta * pi[i]!;
      const a = Math.hypot(xr, xi) + 1e-16;
      ar[i] = xr / a;
      ai[i] = xi / a;
    }
    pr = R.re;
    pi = R.im;
  }
  return istft(withPhase(), o);
}

/**
 * Spectral convergence ‖ |STFT(y)| − S ‖_F / ‖S‖_F: how far a signal's magnitude is from a target
 * magnitude S ((F, M)); 0 when they agree.
 */
export function spectralConvergence(y: ArrayLike<number>, S: Float64Array, o: StftOptions): number {
  const R = stft(y, o);
  if (R.re.length !== S.length)
    throw new ArgumentError(
      `spectralConvergence: the signal's spectrogram holds ${R.re.length} values, the target ${S.length}`,
    );
  let num = 0,
    den = 0;
  for (let i = 0; i < S.length; i++) {
    const d = Math.hypot(R.re[i]!, R.im[i]!) - S[i]!;
    num += d * d;
    den += S[i]! * S[i]!;
  }
  return Math.sqrt(num / den);
}

/**
 * A nonnegative linear spectrogram S (F, M) with fbᵀ·S ≈ mel (nMels, M), by the multiplicative updates
 * of nonnegative least squares (Lee & Seung 2001): S ← S ⊙ (fb · mel) / (fb · fbᵀ · S + ε).
 * Inverts a mel spectrogram for Griffin-Lim.
 */
export function inverseMel(
  mel: Float64Array,
  nMels: number,
  nFrames: number,
  fb: Float64Array,
  nFreq: number,
  iterations = 200,
): Float64Array {
  if (mel.length !== nMels * nFrames)
    throw new ArgumentError(`inverseMel: mel must hold (${nMels}, ${nFrames}) values, got ${mel.length}`);
  if (fb.length !== nFreq * nMels)
    throw new ArgumentError(`inverseMel: the bank must hold (${nFreq}, ${nMels}) values, got ${fb.length}`);
  const S = new Float64Array(nFreq * nFrames).fill(1);
  const num = new Float64Array(nFreq * nFrames); // fb · mel, fixed
  for (let f = 0; f < nFreq; f++)
    for (let j = 0; j < nMels; j++) {
      const w = fb[f * nMels + j]!;
      if (w !== 0) for (let m = 0; m < nFrames; m++) num[f * nFrames + m]! += w * mel[j * nFrames + m]!;
    }
  const proj = new Float64Array(nMels * nFrames);
  for (let it = 0; it < iterations; it++) {
    proj.fill(0); // fbᵀ · S
    for (let f = 0; f < nFreq; f++)
      for (let j = 0; j < nMels; j++) {
        const w = fb[f * nMels + j]!;
        if (w !== 0) for (let m = 0; m < nFrames; m++) proj[j * nFrames + m]! += w * S[f * nFrames + m]!;
      }
    for (let f = 0; f < nFreq; f++) {
      for (let m = 0; m < nFrames; m++) {
        let den = 1e-12; // fb · (fbᵀ · S)
        for (let j = 0; j < nMels; j++) den += fb[f * nMels + j]! * proj[j * nFrames + m]!;
        S[f * nFrames + m]! *= num[f * nFrames + m]! / den;
      }
    }
  }
  return S;
}
