// The mel scale and a triangular mel filter bank, with torchaudio's conventions
// (torchaudio.functional.melscale_fbanks), and the log-mel spectrogram that TTS models predict.
//
//   HTK      mel(f) = 2595 · log10(1 + f / 700)
//   Slaney   mel(f) = 3f / 200                              f < 1000 Hz   (linear)
//            mel(f) = 15 + 27 · ln(f / 1000) / ln(6.4)     f ≥ 1000 Hz   (logarithmic)
//
// Filter j (j = 0 … nMels−1) is a triangle over the mel-spaced points p_j < p_{j+1} < p_{j+2} (in Hz):
//   fb[f, j] = max(0, min((freq_f − p_j) / (p_{j+1} − p_j), (p_{j+2} − freq_f) / (p_{j+2} − p_{j+1})))
// and the Slaney norm scales it by 2 / (p_{j+2} − p_j), the same area for every filter.

import { ArgumentError } from "../engine/errors.js";
import { magnitude, stft, type StftOptions } from "./stft.js";

export type MelScale = "htk" | "slaney";

export function hzToMel(f: number, scale: MelScale = "htk"): number {
  if (scale === "htk") return 2595 * Math.log10(1 + f / 700);
  if (f < 1000) return (3 * f) / 200;
  return 15 + (27 * Math.log(f / 1000)) / Math.log(6.4);
}

export function melToHz(m: number, scale: MelScale = "htk"): number {
  if (scale === "htk") return 700 * (10 ** (m / 2595) - 1);
  if (m < 15) return (200 * m) / 3;
  return 1000 * Math.exp((Math.log(6.4) * (m - 15)) / 27);
}

export interface MelOptions {
  sampleRate: number;
  nMels: number;
  /** default 0 */
  fMin?: number;
  /** default sampleRate / 2 */
  fMax?: number;
  /** default "htk" (torchaudio's default) */
  scale?: MelScale;
  /** "slaney": equal-area filters; default none */
  norm?: "slaney" | null;
}

/** The filter bank, (nFreqs, nMels) row-major, for a one-sided spectrum of nFreqs bins. */
export function melFilterBank(nFreqs: number, o: MelOptions): Float64Array {
  const { sampleRate, nMels } = o;
  const fMin = o.fMin ?? 0,
    fMax = o.fMax ?? sampleRate / 2,
    scale = o.scale ?? "htk";
  if (!Number.isInteger(nFreqs) || nFreqs < 2)
    throw new ArgumentError(`melFilterBank: nFreqs must be an integer ≥ 2, got ${nFreqs}`);
  if (!Number.isInteger(nMels) || nMels < 1 || nMels > 4096)
    throw new ArgumentError(`melFilterBank: nMels must be an integer in [1, 4096], got ${nMels}`);
  if (!(sampleRate > 0) || !(fMin >= 0) || !(fMax > fMin) || fMax > sampleRate / 2) {
    throw new ArgumentError(
      `melFilterBank: need 0 ≤ fMin < fMax ≤ sampleRate/2, got fMin ${fMin}, fMax ${fMax}, sampleRate ${sampleRate}`,
    );
  }
  // the bins' frequencies: linspace(0, ⌊sampleRate / 2⌋, nFreqs), as torchaudio computes them
  const nyquist = Math.floor(sampleRate / 2);
  const freqs = Float64Array.from({ length: nFreqs }, (_, i) => (nyquist * i) / (nFreqs - 1));
  // nMels + 2 points equally spaced in mel between fMin and fMax, back in Hz
  const mMin = hzToMel(fMin, scale),
    mMax = hzToMel(fMax, scale);
  const p = Float64Array.from({ length: nMels + 2 }, (_, i) =>
    melToHz(mMin + ((mMax - mMin) * i) / (nMels + 1), scale),
  );
  const fb = new Float64Array(nFreqs * nMels);
  for (let f = 0; f < nFreqs; f++) {
    for (let j = 0; j < nMels; j++) {
      const down = (freqs[f]! - p[j]!) / (p[j + 1]! - p[j]!);
      const up = (p[j + 2]! - freqs[f]!) / (p[j + 2]! - p[j + 1]!);
      let v = Math.max(0, Math.min(down, up));
      if (o.norm === "slaney") v *= 2 / (p[j + 2]! - p[j]!);
      fb[f * nMels + j] = v;
    }
  }
  return fb;
}

/** mel = fbᵀ · S: (nMels, M) from a (F, M) power or magnitude spectrogram and a (F, nMels) bank. */
export function applyFilterBank(
  spec: Float64Array,
  nFreq: number,
  nFrames: number,
  fb: Float64Array,
  nMels: number,
): Float64Array {
  if (spec.length !== nFreq * nFrames)
    throw new ArgumentError(
      `applyFilterBank: the spectrogram must hold (${nFreq}, ${nFrames}) values, got ${spec.length}`,
    );
  if (fb.length !== nFreq * nMels)
    throw new ArgumentError(`applyFilterBank: the bank must hold (${nFreq}, ${nMels}) values, got ${fb.length}`);
  const out = new Float64Array(nMels * nFrames);
  for (let f = 0; f < nFreq; f++) {
    for (let j = 0; j < nMels; j++) {
      const w = fb[f * nMels + j]!;
      if (w === 0) continue;
      for (let m = 0; m < nFrames; m++) out[j * nFrames + m]! += w * spec[f * nFrames + m]!;
    }
  }
  return out;
}

export interface LogMelOptions extends StftOptions, MelOptions {
  /** 1: magnitude (Tacotron 2's choice), 2: power; default 1 */
  power?: number;
  /** values are clamped below before the log: log(max(mel, floor)); default 1e-5 */
  floor?: number;
}

/** log(max(mel(|STFT(x)|^power), floor)): (nMels, M), the features TTS models predict. */
export function logMelSpectrogram(
  x: ArrayLike<number>,
  o: LogMelOptions,
): { mel: Float64Array; nMels: number; nFrames: number } {
  const spec = stft(x, o);
  const fb = melFilterBank(spec.nFreq, o);
  const mel = applyFilterBank(magnitude(spec, o.power ?? 1), spec.nFreq, spec.nFrames, fb, o.nMels);
  const floor = o.floor ?? 1e-5;
  for (let i = 0; i < mel.length; i++) mel[i] = Math.log(Math.max(mel[i]!, floor));
  return { mel, nMels: o.nMels, nFrames: spec.nFrames };
}
