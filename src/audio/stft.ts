// The short-time Fourier transform and its inverse, with PyTorch's conventions (torch.stft /
// torch.istft, return_complex, onesided, not normalized), so that spectrograms made here and there agree.
//
//   STFT   X[f, m] = Σ_{n=0}^{N-1} w[n] · x[m·H + n] · e^{−2πi·f·n/N}       f = 0 … N/2,  m = 0 … M−1
//   ISTFT  y = Σ_m shift_{m·H}( w · irfft(X[·, m]) ) / Σ_m shift_{m·H}( w² )   (overlap-add, least squares)
//
// N = nFft, H = hopLength, w = the window (periodic Hann of winLength, zero-padded to N, centred).
// With center, x is first padded by N/2 on each side by reflection, and the inverse trims it again.
// Vocabulary: F = nFft/2 + 1 frequency bins, M frames, L samples. Spectra are (F, M), row-major.

import { ArgumentError } from "../engine/errors.js";

export interface StftOptions {
  nFft: number;
  /** default ⌊nFft / 4⌋ */
  hopLength?: number;
  /** default nFft */
  winLength?: number;
  /** default the periodic Hann window of winLength */
  window?: Float64Array;
  /** pad by nFft/2 on both sides (reflection) so that frame m is centred on sample m·H; default true */
  center?: boolean;
}

/** A one-sided complex spectrogram: re and im are (F, M) row-major. */
export interface Spectrogram {
  re: Float64Array;
  im: Float64Array;
  nFreq: number;
  nFrames: number;
}

/** The periodic Hann window (torch.hann_window's default): w[n] = sin²(π n / N) = ½ − ½ cos(2π n / N). */
export function hannWindow(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

interface Resolved {
  nFft: number;
  hop: number;
  window: Float64Array; // (N,), winLength zero-padded to N and centred
  center: boolean;
}

function resolve(op: string, o: StftOptions): Resolved {
  const { nFft } = o;
  if (!Number.isInteger(nFft) || nFft < 1 || nFft > 1 << 20)
    throw new ArgumentError(`${op}: nFft must be an integer in [1, 2^20], got ${nFft}`);
  const hop = o.hopLength ?? Math.floor(nFft / 4);
  if (!Number.isInteger(hop) || hop < 1)
    throw new ArgumentError(`${op}: hopLength must be a positive integer, got ${hop}`);
  const winLength = o.winLength ?? o.window?.length ?? nFft;
  if (!Number.isInteger(winLength) || winLength < 1 || winLength > nFft)
    throw new ArgumentError(`${op}: winLength must be in [1, nFft = ${nFft}], got ${winLength}`);
  const w = o.window ?? hannWindow(winLength);
  if (w.length !== winLength)
    throw new ArgumentError(`${op}: the window has ${w.length} values but winLength is ${winLength}`);
  const window = new Float64Array(nFft);
  window.set(w, Math.floor((nFft - winLength) / 2));
  return { nFft, hop, window, center: o.center ?? true };
}

/** torch.stft(x, …, center, pad_mode="reflect", onesided=True, return_complex=True) for one signal. */
export function stft(x: ArrayLike<number>, opts: StftOptions): Spectrogram {
  const { nFft, hop, window, center } = resolve("stft", opts);
  const pad = center ? Math.floor(nFft / 2) : 0;
  if (center && x.length <= pad)
    throw new ArgumentError(
      `stft: reflection padding of ${pad} needs a signal longer than ${pad} samples, got ${x.length}`,
    );
  // x padded: xp[i] = x[reflect(i − pad)]
  const L = x.length + 2 * pad;
  if (L < nFft)
    throw new ArgumentError(`stft: a signal of ${x.length} samples (${L} padded) is shorter than nFft = ${nFft}`);
  const xp = new Float64Array(L);
  for (let i = 0; i < L; i++) {
    let j = i - pad;
    if (j < 0) j = -j;
    else if (j >= x.length) j = 2 * (x.length - 1) - j;
    xp[i] = x[j]!;
  }
  const nFreq = Math.floor(nFft / 2) + 1;
  const nFrames = 1 + Math.floor((L - nFft) / hop);
  const re = new Float64Array(nFreq * nFrames),
    im = new Float64Array(nFreq * nFrames);
  const fft = new Fft(nFft);
  const fr = new Float64Array(nFft),
    fi = new Float64Array(nFft);
  for (let m = 0; m < nFrames; m++) {
    for (let n = 0; n < nFft; n++) {
      fr[n] = window[n]! * xp[m * hop + n]!;
      fi[n] = 0;
    }
    fft.transform(fr, fi, -1);
    for (let f = 0; f < nFreq; f++) {
      re[f * nFrames + m] = fr[f]!;
      im[f * nFrames + m] = fi[f]!;
    }
  }
  return { re, im, nFreq, nFrames };
}

export interface IstftOptions extends StftOptions {
  /** the length of the signal to return (zero-padded or trimmed); default all that the frames cover */
  length?: number;
}

/** torch.istft(X, …, center, onesided=True): the least-squares inverse of stft by weighted overlap-add. */
export function istft(spec: Spectrogram, opts: IstftOptions): Float64Array {
  const { nFft, hop, window, center } = resolve("istft", opts);
  const { re, im, nFreq, nFrames } = spec;
  if (nFreq !== Math.floor(nFft / 2) + 1)
    throw new ArgumentError(
      `istft: a one-sided spectrum of nFft = ${nFft} has ${Math.floor(nFft / 2) + 1} bins, got ${nFreq}`,
    );
  if (re.length !== nFreq * nFrames || im.length !== nFreq * nFrames)
    throw new ArgumentError(
      `istft: re and im must hold (${nFreq}, ${nFrames}) values, got ${re.length} and ${im.length}`,
    );
  const expected = nFft + hop * (nFrames - 1);
  const y = new Float64Array(expected),
    envelope = new Float64Array(expected);
  const fft = new Fft(nFft);
  const fr = new Float64Array(nFft),
    fi = new Float64Array(nFft);
  for (let m = 0; m < nFrames; m++) {
    // the full spectrum from the one-sided one: X[N − f] = conj(X[f]); the imaginary parts of the DC and
    // Nyquist bins cannot belong to a real signal and are dropped, as a C2R transform does
    for (let f = 0; f < nFreq; f++) {
      fr[f] = re[f * nFrames + m]!;
      fi[f] = im[f * nFrames + m]!;
    }
    fi[0] = 0;
    if (nFft % 2 === 0) fi[nFft / 2] = 0;
    for (let f = nFreq; f < nFft; f++) {
      fr[f] = fr[nFft - f]!;
      fi[f] = -fi[nFft - f]!;
    }
    fft.transform(fr, fi, +1); // irfft: (1/N) Σ_f X[f] e^{+2πi f n / N}
    for (let n = 0; n < nFft; n++) {
      y[m * hop + n]! += (window[n]! * fr[n]!) / nFft;
      envelope[m * hop + n]! += window[n]! * window[n]!;
    }
  }
  const start = center ? Math.floor(nFft / 2) : 0;
  const end = opts.length !== undefined ? start + opts.length : center ? expected - Math.floor(nFft / 2) : expected;
  if (opts.length !== undefined && (!Number.isInteger(opts.length) || opts.length < 0))
    throw new ArgumentError(`istft: length must be a non-negative integer, got ${opts.length}`);
  const out = new Float64Array(end - start);
  for (let i = start; i < Math.min(end, expected); i++) {
    if (Math.abs(envelope[i]!) < 1e-11)
      throw new ArgumentError(
        `istft: the window's overlap-add is zero at sample ${i - start} (nonzero overlap-add is needed: choose a smaller hop or another window)`,
      );
    out[i - start] = y[i]! / envelope[i]!;
  }
  return out;
}

/** |X|^power, (F, M). */
export function magnitude(spec: Spectrogram, power = 1): Float64Array {
  const out = new Float64Array(spec.re.length);
  for (let i = 0; i < out.length; i++) {
    const a = Math.hypot(spec.re[i]!, spec.im[i]!);
    out[i] = power === 1 ? a : power === 2 ? a * a : a ** power;
  }
  return out;
}

/**
 * A complex discrete Fourier transform of one size, in place: an iterative radix-2 FFT when the size is
 * a power of two, the direct O(N²) sum otherwise (with a twiddle table, exact index arithmetic).
 * sign −1: X[k] = Σ x[n] e^{−2πi kn/N};  sign +1: the same with e^{+2πi kn/N} (not divided by N).
 */
export class Fft {
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly pow2: boolean;
  private readonly tr: Float64Array;
  private readonly ti: Float64Array;

  constructor(readonly n: number) {
    this.cos = new Float64Array(n);
    this.sin = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / n);
      this.sin[k] = Math.sin((2 * Math.PI * k) / n);
    }
    this.pow2 = (n & (n - 1)) === 0;
    this.tr = new Float64Array(this.pow2 ? 0 : n);
    this.ti = new Float64Array(this.pow2 ? 0 : n);
  }

  transform(re: Float64Array, im: Float64Array, sign: -1 | 1): void {
    if (this.pow2) this.radix2(re, im, sign);
    else this.direct(re, im, sign);
  }

  private direct(re: Float64Array, im: Float64Array, sign: -1 | 1): void {
    const { n, cos, sin, tr, ti } = this;
    for (let k = 0; k < n; k++) {
      let sr = 0,
        si = 0;
      for (let j = 0, idx = 0; j < n; j++, idx = (idx + k) % n) {
        // e^{sign·2πi·k·j/N} = cos + sign·i·sin at index (k·j) mod N
        const c = cos[idx]!,
          s = sign * sin[idx]!;
        sr += re[j]! * c - im[j]! * s;
        si += re[j]! * s + im[j]! * c;
      }
      tr[k] = sr;
      ti[k] = si;
    }
    re.set(tr);
    im.set(ti);
  }

  private radix2(re: Float64Array, im: Float64Array, sign: -1 | 1): void {
    const { n, cos, sin } = this;
    // bit-reversal permutation
    for (let i = 1, j = 0; i < n; i++) {
      let bit = n >> 1;
      for (; j & bit; bit >>= 1) j ^= bit;
      j ^= bit;
      if (i < j) {
        [re[i], re[j]] = [re[j]!, re[i]!];
        [im[i], im[j]] = [im[j]!, im[i]!];
      }
    }
    // butterflies: a block of size `len` combines two halves with the twiddles e^{sign·2πi·k/len}
    for (let len = 2; len <= n; len <<= 1) {
      const half = len >> 1,
        step = n / len;
      for (let i = 0; i < n; i += len) {
        for (let k = 0; k < half; k++) {
          const c = cos[k * step]!,
            s = sign * sin[k * step]!;
          const a = i + k,
            b = a + half;
          const br = re[b]! * c - im[b]! * s,
            bi = re[b]! * s + im[b]! * c;
          re[b] = re[a]! - br;
          im[b] = im[a]! - bi;
          re[a]! += br;
          im[a]! += bi;
        }
      }
    }
  }
}
