// FastSpeech 2: text → mel spectrogram in one pass, no attention between text and sound; the alignment is
// given as a duration per symbol.
//   Ren, Hu, Tan, Qin, Zhao, Zhao, Liu 2021, "FastSpeech 2: Fast and High-Quality End-to-End Text to Speech",
//     https://arxiv.org/abs/2006.04558
//   Ren et al. 2019, "FastSpeech", https://arxiv.org/abs/1905.09263 (the FFT block, the length regulator)
//   Łańcucki 2021, "FastPitch", https://arxiv.org/abs/2006.06873 (pitch per symbol, averaged over its frames)
//
// The encoder and decoder are the Transformer's post-LN encoder (src/models/transformer, Vaswani 2017) with
// the lines that differ marked DIFF(transformer):
//   - the feed-forward network is two 1-D convolutions (kernel 9, then 1) instead of two position-wise linears:
//     neighbouring phonemes and frames are related (FastSpeech §3.1);
//   - padded positions are zeroed after every sub-layer;
//   - no decoder self-attention mask and no cross-attention: the decoder reads frames that the length
//     regulator made from the encoder's states, all at once (non-autoregressive).
// Between them, the variance adaptor (§2.3): a duration predictor, then pitch and energy predictors whose
// targets are quantized into bins (pitch in log scale) and embedded back into the hidden states, then the
// length regulator that repeats each symbol's state for its number of frames.
// DIFF(paper): pitch and energy are predicted per symbol (averaged over its frames, as FastPitch does) and
// pitch is predicted directly, not as the paper's continuous-wavelet pitch spectrogram.
//
// Vocabulary (shape comments): B batch, S symbols, T frames, C hidden (dModel), nh heads, hs = C/nh head size,
// Fc the convolutional FFN's filters, Fv the variance predictors' filters, M mel bins, K bins of pitch/energy.

import { arange, tensor } from "../../engine/creation.js";
import { ArgumentError, ShapeError } from "../../engine/errors.js";
import type { Generator } from "../../engine/rng.js";
import { fmt } from "../../engine/shape.js";
import type { Tensor } from "../../engine/tensor.js";
import type { DType } from "../../engine/dtype.js";
import * as F from "../../nn/functional.js";
import { Module, ModuleList } from "../../nn/module.js";
import { Embedding, Linear, type InitOptions } from "../../nn/linear.js";
import { Conv1d } from "../../nn/conv.js";
import { LayerNorm } from "../../nn/norm.js";
import { sinusoids } from "../transformer/model.js";
import { configOf } from "../presets.js";
import { matmulFlops, sortedKinds, type Architecture } from "../architecture.js";

// =====================================================================================================
// Config

export interface FastSpeech2Config {
  /** text symbols, pad = 0 */
  readonly nSymbols: number;
  readonly nMels: number;
  /** hidden width (C) */
  readonly dModel: number;
  readonly nHead: number;
  readonly encLayers: number;
  readonly decLayers: number;
  /** the convolutional FFN: filters (Fc) and the kernels of its two convolutions */
  readonly convFilters: number;
  readonly convKernels: readonly [number, number];
  /** the variance predictors: filters (Fv) and kernel */
  readonly varFilters: number;
  readonly varKernel: number;
  /** pitch and energy bins (K) */
  readonly nBins: number;
  /** the longest input and output handled by the positional tables */
  readonly maxLen: number;
  readonly dropout: number;
  readonly varDropout: number;
}

export const PRESETS = Object.freeze({
  /** the paper's configuration (§3.1, Table 6 of the appendix) */
  paper: Object.freeze({
    nSymbols: 76,
    nMels: 80,
    dModel: 256,
    nHead: 2,
    encLayers: 4,
    decLayers: 4,
    convFilters: 1024,
    convKernels: [9, 1] as const,
    varFilters: 256,
    varKernel: 3,
    nBins: 256,
    maxLen: 1000,
    dropout: 0.2,
    varDropout: 0.5,
  }),
  /** a CPU-sized model for the synthesized corpus */
  small: Object.freeze({
    nSymbols: 40,
    nMels: 80,
    dModel: 128,
    nHead: 2,
    encLayers: 2,
    decLayers: 2,
    convFilters: 256,
    convKernels: [9, 1] as const,
    varFilters: 128,
    varKernel: 3,
    nBins: 64,
    maxLen: 1000,
    dropout: 0.1,
    varDropout: 0.3,
  }),
  /** the fixture's configuration */
  tiny: Object.freeze({
    nSymbols: 7,
    nMels: 5,
    dModel: 8,
    nHead: 2,
    encLayers: 1,
    decLayers: 1,
    convFilters: 6,
    convKernels: [3, 1] as const,
    varFilters: 5,
    varKernel: 3,
    nBins: 4,
    maxLen: 32,
    dropout: 0,
    varDropout: 0,
  }),
} satisfies Record<string, FastSpeech2Config>);

export function fastSpeech2Config(
  base: FastSpeech2Config | keyof typeof PRESETS,
  overrides: Partial<FastSpeech2Config> = {},
): FastSpeech2Config {
  return configOf("FastSpeech2Config", PRESETS, base, overrides, {
    sizes: [
      "nSymbols",
      "nMels",
      "dModel",
      "nHead",
      "encLayers",
      "decLayers",
      "convFilters",
      "varFilters",
      "varKernel",
      "nBins",
      "maxLen",
    ],
    multiples: [["dModel", "nHead"]],
    probabilities: ["dropout", "varDropout"],
    also: (c) => {
      if (!Array.isArray(c.convKernels) || c.convKernels.length !== 2)
        return `convKernels must be a list of two kernel widths, got ${JSON.stringify(c.convKernels)}`;
      const even = [...c.convKernels, c.varKernel].find((k) => !(Number.isInteger(k) && k >= 1 && k % 2 === 1));
      return even === undefined ? undefined : `kernels must be odd positive integers, got ${even}`;
    },
  });
}

/** The number of parameters of a config, counted from the layers' shapes (nothing allocated). */
export function countParameters(c: FastSpeech2Config): number {
  const {
    nSymbols: V,
    nMels: M,
    dModel: C,
    convFilters: Fc,
    convKernels: [k1, k2],
    varFilters: Fv,
    varKernel: kv,
    nBins: K,
  } = c;
  const ln = 2 * C;
  const block = 4 * (C * C + C) + ln + (C * Fc * k1 + Fc) + (Fc * C * k2 + C) + ln; // attention, norm1, FFN, norm2
  const predictor = C * Fv * kv + Fv + 2 * Fv + Fv * Fv * kv + Fv + 2 * Fv + Fv + 1; // conv, LN, conv, LN, linear
  return V * C + (c.encLayers + c.decLayers) * block + 3 * predictor + 2 * K * C + C * M + M;
}

/**
 * The model as a table row (src/models/architecture.ts). FLOPs per example: S symbols expanded to T frames
 * with the teacher's durations, matrix products only; an FFT block over L positions costs
 *   4 · 2·L·C·C (q, k, v, o) + 2·L·L·2C (q·kᵀ and α·v over the heads) + 2·L·(C·Fc·k₁ + Fc·C·k₂) (the conv FFN)
 * and a variance predictor over S symbols 2·S·(C·Fv·kv + Fv·Fv·kv + Fv); then the mel head 2·T·C·M.
 */
export function describe(c: FastSpeech2Config, S = 60, T = 240, title = "FastSpeech 2"): Architecture {
  const { nMels: M, dModel: C, convFilters: Fc, convKernels: ks, varFilters: Fv, varKernel: kv } = c;
  const block = (L: number): number =>
    4 * matmulFlops(L, C, C) + 2 * matmulFlops(L, L, C) + matmulFlops(L, C * ks[0], Fc) + matmulFlops(L, Fc * ks[1], C);
  const predictor = matmulFlops(S, C * kv, Fv) + matmulFlops(S, Fv * kv, Fv) + matmulFlops(S, Fv, 1);
  const blocks = c.encLayers + c.decLayers;
  return {
    title,
    config: `${c.encLayers}+${c.decLayers} FFT blocks, C ${C}, ${c.nHead} heads, conv FFN ${Fc}, ${M} mels, ${c.nSymbols} symbols`,
    parameters: countParameters(c),
    layers: sortedKinds({
      [Embedding.name]: 3,
      [Conv1d.name]: 2 * blocks + 6,
      [LayerNorm.name]: 2 * blocks + 6,
      [Linear.name]: 4 * blocks + 4,
    }),
    normalization: "LayerNorm, post-LN in the FFT blocks and after each variance predictor convolution",
    positions: `sinusoidal, added to the symbols and again to the frames (up to ${c.maxLen})`,
    attention: "multi-head self-attention over the symbols (encoder) and over the frames (decoder), padding masked",
    activation: "ReLU",
    flops: {
      value: c.encLayers * block(S) + 3 * predictor + c.decLayers * block(T) + matmulFlops(T, C, M),
      per: "example",
      at: `${S} symbols, ${T} frames (the teacher's durations)`,
    },
  };
}

// =====================================================================================================
// Layers

/** Multi-head self-attention over the valid positions (the Transformer's, without the cache). */
class SelfAttention extends Module {
  wq: Linear;
  wk: Linear;
  wv: Linear;
  wo: Linear;

  constructor(
    readonly c: FastSpeech2Config,
    opts: InitOptions,
  ) {
    super();
    this.wq = new Linear(c.dModel, c.dModel, opts);
    this.wk = new Linear(c.dModel, c.dModel, opts);
    this.wv = new Linear(c.dModel, c.dModel, opts);
    this.wo = new Linear(c.dModel, c.dModel, opts);
  }

  /** x (B, T, C), keep (B, 1, 1, T) bool: true where the key is a real position. */
  forward(x: Tensor, keep: Tensor): Tensor {
    const [B, T, C] = x.shape as [number, number, number];
    const nh = this.c.nHead,
      hs = C / nh;
    const heads = (t: Tensor): Tensor => t.view(B, T, nh, hs).transpose(1, 2); // (B, nh, T, hs)
    const q = heads(this.wq.forward(x)),
      k = heads(this.wk.forward(x)),
      v = heads(this.wv.forward(x));
    // y = softmax(q·kᵀ/√hs + M)·v, M = −∞ on padded keys
    const y = F.scaledDotProductAttention(q, k, v, { attnMask: keep, dropoutP: this.training ? this.c.dropout : 0 }); // (B, nh, T, hs)
    return F.dropout(this.wo.forward(y.transpose(1, 2).reshape(B, T, C)), this.c.dropout, this.training); // (B, T, C)
  }
}

/** DIFF(transformer): the feed-forward network as two 1-D convolutions, FFN(x) = Conv₂(ReLU(Conv₁(x))). */
class ConvFeedForward extends Module {
  up: Conv1d;
  down: Conv1d;

  constructor(
    readonly c: FastSpeech2Config,
    opts: InitOptions,
  ) {
    super();
    const [k1, k2] = c.convKernels;
    this.up = new Conv1d(c.dModel, c.convFilters, k1, { padding: (k1 - 1) / 2, ...opts });
    this.down = new Conv1d(c.convFilters, c.dModel, k2, { padding: (k2 - 1) / 2, ...opts });
  }

  forward(x: Tensor): Tensor {
    const h = this.up.forward(x.transpose(1, 2)).relu(); // (B, Fc, T)
    return F.dropout(this.down.forward(h).transpose(1, 2), this.c.dropout, this.training); // (B, T, C)
  }
}

/** The feed-forward Transformer block (FFT block): post-LN self-attention and convolutional FFN. */
export class FFTBlock extends Module {
  norm1: LayerNorm;
  attn: SelfAttention;
  norm2: LayerNorm;
  mlp: ConvFeedForward;

  constructor(c: FastSpeech2Config, opts: InitOptions) {
    super();
    this.norm1 = new LayerNorm(c.dModel);
    this.attn = new SelfAttention(c, opts);
    this.norm2 = new LayerNorm(c.dModel);
    this.mlp = new ConvFeedForward(c, opts);
  }

  /** x (B, T, C), keep (B, 1, 1, T) bool, zero (B, T, 1) float: 1 on real positions, 0 on padding. */
  forward(x: Tensor, keep: Tensor, zero: Tensor): Tensor {
    // x ← LN(x + attn(x)),  x ← LN(x + FFN(x))   (post-LN, as the Transformer's encoder)
    x = this.norm1.forward(x.add(this.attn.forward(x, keep))).mul(zero); // DIFF(transformer): padding zeroed
    x = this.norm2.forward(x.add(this.mlp.forward(x))).mul(zero); //        (B, T, C)
    return x;
  }
}

/** A variance predictor (§2.3): two conv → ReLU → LayerNorm → dropout layers, then one number per position. */
class VariancePredictor extends Module {
  conv1: Conv1d;
  norm1: LayerNorm;
  conv2: Conv1d;
  norm2: LayerNorm;
  out: Linear;

  constructor(
    readonly c: FastSpeech2Config,
    opts: InitOptions,
  ) {
    super();
    const k = c.varKernel,
      pad = (k - 1) / 2;
    this.conv1 = new Conv1d(c.dModel, c.varFilters, k, { padding: pad, ...opts });
    this.norm1 = new LayerNorm(c.varFilters);
    this.conv2 = new Conv1d(c.varFilters, c.varFilters, k, { padding: pad, ...opts });
    this.norm2 = new LayerNorm(c.varFilters);
    this.out = new Linear(c.varFilters, 1, opts);
  }

  /** x (B, S, C) → (B, S), zero on padding. */
  forward(x: Tensor, zero: Tensor): Tensor {
    const p = this.c.varDropout,
      t = this.training;
    let h = F.dropout(this.norm1.forward(this.conv1.forward(x.transpose(1, 2)).relu().transpose(1, 2)), p, t); // (B, S, Fv)
    h = F.dropout(this.norm2.forward(this.conv2.forward(h.transpose(1, 2)).relu().transpose(1, 2)), p, t); //    (B, S, Fv)
    return this.out.forward(h).mul(zero).squeeze(2); // (B, S)
  }
}

/**
 * The length regulator (FastSpeech §3.2): h (B, S, C) and integer durations (B, S) → (B, T, C), symbol j's
 * state repeated d_j times, rows padded with zeros to the longest (or to padTo frames); a gather, so gradients
 * flow back to h.
 */
export function lengthRegulate(h: Tensor, durations: number[][], padTo = 0): { frames: Tensor; lengths: number[] } {
  const [B, S, C] = h.shape as [number, number, number];
  if (durations.length !== B || durations.some((d) => d.length !== S || d.some((n) => !Number.isInteger(n) || n < 0))) {
    throw new ArgumentError(
      `lengthRegulate: durations must be ${B} rows of ${S} non-negative integers for h ${fmt(h.shape)}`,
    );
  }
  const lengths = durations.map((d) => d.reduce((a, b) => a + b, 0));
  const T = Math.max(1, padTo, ...lengths);
  const idx: number[] = [],
    keep: number[] = [];
  for (const d of durations) {
    const row: number[] = [];
    d.forEach((n, j) => {
      for (let k = 0; k < n; k++) row.push(j);
    });
    for (let t = 0; t < T; t++) {
      idx.push(row[t] ?? 0);
      keep.push(t < row.length ? 1 : 0);
    }
  }
  const index = tensor(idx, { shape: [B, T, 1], dtype: "int32" }).expand([B, T, C]); // (B, T, C)
  const frames = h.gather(1, index).mul(tensor(keep, { shape: [B, T, 1], dtype: h.dtype })); // (B, T, C)
  return { frames, lengths };
}

/** The bin of each value: the number of boundaries below it (torch.bucketize, right = False). */
function bucketize(values: Tensor, boundaries: readonly number[]): Tensor {
  const v = values.dataSync();
  const out = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    let n = 0;
    while (n < boundaries.length && boundaries[n]! < v[i]!) n++;
    out[i] = n;
  }
  return tensor(out, { shape: values.shape, dtype: "int32" });
}

// =====================================================================================================
// Model

export interface FastSpeech2Targets {
  /** frames per symbol (B, S): the alignment, from the teacher */
  durations: number[][];
  /** per-symbol log pitch (log Hz, 0 where unvoiced) and energy, (B, S) */
  pitch: Tensor;
  energy: Tensor;
  /** (B, M, T), T ≥ the longest row's total duration: the frames are padded to T */
  mel: Tensor;
  /**
   * the weights of the mean over frames and of the means over symbols; default 1. A data-parallel worker holding
   * n_r of the batch's n frames (symbols) passes N·n_r/n, so that the mean of the N workers' losses is the whole
   * batch's (src/recipes/data-parallel-job.ts shareWeight)
   */
  shares?: { frames: number; symbols: number };
}

export interface FastSpeech2Output {
  mel: Tensor; //      (B, M, T)
  logDuration: Tensor; // (B, S), predicted log(1 + d)
  pitch: Tensor; //    (B, S), predicted
  energy: Tensor; //   (B, S), predicted
  melLengths: number[];
  loss?: Tensor;
}

export class FastSpeech2 extends Module {
  embed: Embedding;
  encoder: ModuleList<FFTBlock>;
  duration: VariancePredictor;
  pitchPredictor: VariancePredictor;
  energyPredictor: VariancePredictor;
  pitchEmbed: Embedding;
  energyEmbed: Embedding;
  decoder: ModuleList<FFTBlock>;
  melHead: Linear;
  private readonly positions: Tensor; // (maxLen, C)

  /** bin boundaries (K − 1 each): pitch uniform in log Hz, energy uniform; set from the corpus's range */
  pitchBins: number[];
  energyBins: number[];

  constructor(
    readonly config: FastSpeech2Config,
    opts: InitOptions & { generator?: Generator } = {},
  ) {
    super();
    const c = config;
    this.embed = new Embedding(c.nSymbols, c.dModel, opts);
    this.encoder = new ModuleList(Array.from({ length: c.encLayers }, () => new FFTBlock(c, opts)));
    this.duration = new VariancePredictor(c, opts);
    this.pitchPredictor = new VariancePredictor(c, opts);
    this.energyPredictor = new VariancePredictor(c, opts);
    this.pitchEmbed = new Embedding(c.nBins, c.dModel, opts);
    this.energyEmbed = new Embedding(c.nBins, c.dModel, opts);
    this.decoder = new ModuleList(Array.from({ length: c.decLayers }, () => new FFTBlock(c, opts)));
    this.melHead = new Linear(c.dModel, c.nMels, opts);
    this.positions = sinusoids(c.maxLen, c.dModel);
    this.pitchBins = uniformBins(Math.log(60), Math.log(500), c.nBins);
    this.energyBins = uniformBins(0, 1, c.nBins);
  }

  /** Set the bins from the range the corpus's pitch (log Hz) and energy take. */
  setBins(pitch: [number, number], energy: [number, number]): void {
    this.pitchBins = uniformBins(pitch[0], pitch[1], this.config.nBins);
    this.energyBins = uniformBins(energy[0], energy[1], this.config.nBins);
  }

  /**
   * text (B, S) int32 with its lengths → mel (B, M, T). Given targets, the adaptor uses the true durations,
   * pitch and energy (teacher forcing) and the loss is returned; without, it uses its own predictions.
   */
  forward(text: Tensor, textLengths: number[], targets?: FastSpeech2Targets): FastSpeech2Output {
    const c = this.config;
    const [B, S] = checkText(text, textLengths, c);
    const { keep, zero } = masks(textLengths, S, this.embed.weight.dtype);
    // DIFF(transformer): positions are added without scaling the embedding by √C
    let x = this.embed
      .forward(text)
      .add(this.positions.narrow(0, 0, S).to(this.embed.weight.dtype))
      .mul(zero); // (B, S, C)
    for (const block of this.encoder) x = block.forward(x, keep, zero); // (B, S, C)

    // the variance adaptor: durations, pitch and energy predicted from the encoder's states
    const logDuration = this.duration.forward(x, zero); //     (B, S), log(1 + d)
    const pitch = this.pitchPredictor.forward(x, zero); //     (B, S)
    const energy = this.energyPredictor.forward(x, zero); //   (B, S)
    const p = targets ? targets.pitch : pitch.detach(),
      e = targets ? targets.energy : energy.detach();
    x = x
      .add(this.pitchEmbed.forward(bucketize(p, this.pitchBins)))
      .add(this.energyEmbed.forward(bucketize(e, this.energyBins)))
      .mul(zero); // (B, S, C)
    const durations = targets ? targets.durations : roundDurations(logDuration, textLengths, c.maxLen);
    // teacher forcing: padded to the targets' frames (a data-parallel worker's rows as long as the whole batch's)
    const { frames, lengths: melLengths } = lengthRegulate(x, durations, targets?.mel.shape[2]); // (B, T, C)

    // DIFF(transformer): the decoder reads all frames at once; no causal mask, no cross-attention
    const T = frames.shape[1]!;
    if (T > c.maxLen) throw new ShapeError(`FastSpeech2: ${T} frames exceed maxLen ${c.maxLen}`);
    const dm = masks(melLengths, T!, frames.dtype);
    let y = frames.add(this.positions.narrow(0, 0, T!).to(frames.dtype)).mul(dm.zero); // (B, T, C)
    for (const block of this.decoder) y = block.forward(y, dm.keep, dm.zero); // (B, T, C)
    const mel = this.melHead.forward(y).mul(dm.zero).transpose(1, 2); // (B, M, T)
    const out: FastSpeech2Output = { mel, logDuration, pitch, energy, melLengths };
    if (targets) out.loss = this.loss(out, targets, textLengths);
    return out;
  }

  /**
   * L = MAE(mel, y) over real frames + MSE(log(1+d̂), log(1+d)) + MSE(p̂, p) + MSE(ê, e) over real symbols (§2.3, §3.1)
   */
  loss(out: FastSpeech2Output, t: FastSpeech2Targets, textLengths: number[]): Tensor {
    const [B, M, T] = t.mel.shape as [number, number, number];
    if (out.mel.shape[2] !== T || t.mel.shape[0] !== out.mel.shape[0] || M !== this.config.nMels) {
      throw new ShapeError(
        `FastSpeech2: target mel ${fmt(t.mel.shape)} must be (${out.mel.shape[0]}, ${this.config.nMels}, ${out.mel.shape[2]}) for these durations`,
      );
    }
    const S = out.logDuration.shape[1];
    const frameMask = masks(out.melLengths, T, t.mel.dtype).zero.transpose(1, 2); // (B, 1, T)
    const symMask = masks(textLengths, S!, t.mel.dtype).zero.squeeze(2); // (B, S)
    const nFrames = out.melLengths.reduce((a, b) => a + b, 0) * M,
      nSym = textLengths.reduce((a, b) => a + b, 0);
    const melLoss = out.mel
      .sub(t.mel)
      .abs()
      .mul(frameMask)
      .sum()
      .div(nFrames)
      .mul(t.shares?.frames ?? 1);
    const logD = tensor(
      t.durations.flat().map((d) => Math.log(1 + d)),
      { shape: [B, S!], dtype: t.mel.dtype },
    );
    const mse = (a: Tensor, b: Tensor) =>
      a
        .sub(b)
        .pow(2)
        .mul(symMask)
        .sum()
        .div(nSym)
        .mul(t.shares?.symbols ?? 1);
    return melLoss.add(mse(out.logDuration, logD)).add(mse(out.pitch, t.pitch)).add(mse(out.energy, t.energy));
  }
}

function uniformBins(lo: number, hi: number, K: number): number[] {
  return Array.from({ length: K - 1 }, (_, i) => lo + ((hi - lo) * (i + 1)) / K);
}

/**
 * d = max(0, round(exp(log(1 + d)) − 1)) on real symbols, 0 on padding; a row longer than maxLen frames is
 * scaled down to fit and a row of no frames gets one (an untrained predictor can ask for any length).
 */
function roundDurations(logDuration: Tensor, lengths: number[], maxLen: number): number[][] {
  const [B, S] = logDuration.shape as [number, number];
  const v = logDuration.dataSync();
  return Array.from({ length: B }, (_, b) => {
    const d = Array.from({ length: S }, (_, j) =>
      j < lengths[b]! ? Math.max(0, Math.round(Math.min(Math.exp(v[b * S + j]!), 1e6) - 1)) : 0,
    );
    const total = d.reduce((a, x) => a + x, 0);
    if (total === 0) d[0] = 1; // at least one frame, so that the decoder's attention has a key
    return total > maxLen ? d.map((x) => Math.floor((x * maxLen) / total)) : d;
  });
}

function masks(lengths: number[], T: number, dtype: DType): { keep: Tensor; zero: Tensor } {
  const B = lengths.length;
  const valid = arange(T)
    .unsqueeze(0)
    .lt(tensor(lengths, { dtype: "int32" }).unsqueeze(1)); // (B, T) bool
  return { keep: valid.reshape([B, 1, 1, T]), zero: valid.to(dtype).unsqueeze(2) }; // (B, 1, 1, T), (B, T, 1)
}

function checkText(text: Tensor, lengths: number[], c: FastSpeech2Config): [number, number] {
  if (text.ndim !== 2 || text.dtype !== "int32")
    throw new ShapeError(`FastSpeech2: text must be (B, S) int32, got ${fmt(text.shape)} ${text.dtype}`);
  const [B, S] = text.shape as [number, number];
  if (S === 0 || S > c.maxLen)
    throw new ShapeError(`FastSpeech2: text ${fmt(text.shape)} must hold 1 to maxLen ${c.maxLen} symbols`);
  if (lengths.length !== B || lengths.some((n) => !Number.isInteger(n) || n < 1 || n > S))
    throw new ArgumentError(`FastSpeech2: textLengths must be ${B} integers in [1, ${S}], got [${lengths.join(", ")}]`);
  const ids = text.dataSync();
  for (let i = 0; i < ids.length; i++)
    if (!(ids[i]! >= 0 && ids[i]! < c.nSymbols))
      throw new ArgumentError(`FastSpeech2: symbol id ${ids[i]} outside [0, ${c.nSymbols})`);
  return [B, S];
}
