// The log-mel spectrogram as tensor ops, so that a loss on it sends gradients back to the waveform (the
// HiFi-GAN generator's mel loss). The same numbers as logMelSpectrogram (./mel.ts) on a centred,
// reflection-padded STFT, built from differentiable pieces:
//   frames  x_m[n] = x_pad[m·H + n]              a gather                                 (B, M, N)
//   DFT     Re = (w ⊙ x_m) · cos,  Im = −(w ⊙ x_m) · sin,  cos/sin[n, f] = cos/sin(2π f n / N)  (B, M, F)
//   |X| = √(Re² + Im² + ε),   mel = |X| · fb,   log(max(mel, floor))                       (B, nMels, M)

import { tensor } from "../engine/creation.js";
import { ArgumentError, ShapeError } from "../engine/errors.js";
import { fmt } from "../engine/shape.js";
import type { Tensor } from "../engine/tensor.js";
import { pad } from "../ops/shape.js";
import { hannWindow, type StftOptions } from "./stft.js";
import { melFilterBank, type MelOptions } from "./mel.js";

export interface MelTensorOptions extends StftOptions, MelOptions {
  /** clamp below before the log; default 1e-5 */
  floor?: number;
  /** added under the square root so that its gradient stays finite at 0; default 1e-9 */
  eps?: number;
}

/** A reusable log-mel transform for waveforms (B, T) or (B, 1, T) → (B, nMels, frames). */
export class LogMelTransform {
  private readonly cos: Tensor; // (N, F), window folded in
  private readonly sin: Tensor; // (N, F)
  private readonly fb: Tensor; //  (F, nMels)
  readonly nFft: number;
  readonly hop: number;

  constructor(
    readonly o: MelTensorOptions,
    dtype: "float32" | "float64" = "float32",
  ) {
    const N = o.nFft,
      hop = o.hopLength ?? Math.floor(N / 4),
      win = o.winLength ?? N;
    if (o.center === false) throw new ArgumentError("LogMelTransform: only centred frames (center true) are built");
    const w = new Float64Array(N);
    w.set(o.window ?? hannWindow(win), Math.floor((N - win) / 2));
    const F = Math.floor(N / 2) + 1;
    const cos = new Float64Array(N * F),
      sin = new Float64Array(N * F);
    for (let n = 0; n < N; n++)
      for (let f = 0; f < F; f++) {
        const k = (f * n) % N; // exact index arithmetic, as the FFT's twiddles
        cos[n * F + f] = w[n]! * Math.cos((2 * Math.PI * k) / N);
        sin[n * F + f] = -w[n]! * Math.sin((2 * Math.PI * k) / N);
      }
    this.cos = tensor(cos, { shape: [N, F], dtype });
    this.sin = tensor(sin, { shape: [N, F], dtype });
    this.fb = tensor(melFilterBank(F, o), { shape: [F, o.nMels], dtype });
    this.nFft = N;
    this.hop = hop;
  }

  forward(x: Tensor): Tensor {
    const wave = x.ndim === 3 && x.shape[1] === 1 ? x.squeeze(1) : x; // (B, T)
    if (wave.ndim !== 2) throw new ShapeError(`LogMelTransform: waveform ${fmt(x.shape)} must be (B, T) or (B, 1, T)`);
    const [B, T] = wave.shape as [number, number];
    const N = this.nFft,
      half = Math.floor(N / 2);
    if (T <= half) throw new ShapeError(`LogMelTransform: ${T} samples are too few for reflection padding of ${half}`);
    const xp = pad(wave.unsqueeze(1), [half, half], { mode: "reflect" }).squeeze(1); // (B, T + N)
    const M = 1 + Math.floor((T + 2 * half - N) / this.hop);
    const idx: number[] = [];
    for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) idx.push(m * this.hop + n);
    const index = tensor(idx, { shape: [1, M * N], dtype: "int32" }).expand([B, M * N]); // (B, M·N)
    const frames = xp.gather(1, index).reshape([B, M, N]); // (B, M, N)
    const re = frames.matmul(this.cos),
      im = frames.matmul(this.sin); // (B, M, F)
    const mag = re
      .pow(2)
      .add(im.pow(2))
      .add(this.o.eps ?? 1e-9)
      .sqrt(); // (B, M, F)
    const mel = mag.matmul(this.fb); // (B, M, nMels)
    return mel
      .clamp(this.o.floor ?? 1e-5, Infinity)
      .log()
      .transpose(1, 2); // (B, nMels, M)
  }
}
