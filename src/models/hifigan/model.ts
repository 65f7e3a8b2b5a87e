// HiFi-GAN: a mel spectrogram → a waveform, by a convolutional generator trained against discriminators that
// look at the waveform in periods and at several scales.
//   Kong, Kim, Bae 2020, "HiFi-GAN: Generative Adversarial Networks for Efficient and High Fidelity Speech
//     Synthesis", https://arxiv.org/abs/2010.05646
//   Kumar et al. 2019, "MelGAN", https://arxiv.org/abs/1910.06711 (the multi-scale discriminator)
//
// Generator (§2.1): a convolution, then for each upsampling rate u: LeakyReLU(0.1), a transposed convolution
// that multiplies the length by u and halves the channels, and a multi-receptive-field fusion (MRF): the
// mean of residual blocks of different kernels, each block a chain of dilated convolutions with residuals;
// then LeakyReLU, a convolution to one channel and tanh. The product of the rates is the STFT hop.
// Discriminators (§2.2, §2.3): MPD reshapes the waveform to (T/p, p) for p = 2, 3, 5, 7, 11 and runs 2-D
// convolutions along the time axis only (kernels (k, 1)); MSD runs 1-D grouped convolutions on the raw wave
// and on two average-pooled versions of it.
// Losses (§2.4): least-squares GAN, feature matching (L1 between the discriminators' feature maps, λ_fm = 2)
// and the mel-spectrogram L1 (λ_mel = 45).
// DIFF(paper): no weight normalisation or spectral normalisation (a reparameterisation of the same function;
// the open implementation uses them to steady the GAN's training); every width is a config field, so the
// model scales down for a CPU.
//
// Vocabulary (shape comments): B batch, M mel bins, Tm mel frames, T = Tm · hop samples, C channels.

import { ShapeError } from "../../engine/errors.js";
import { fmt } from "../../engine/shape.js";
import type { Tensor } from "../../engine/tensor.js";
import * as F from "../../nn/functional.js";
import { Module, ModuleList, type Parameter } from "../../nn/module.js";
import { param, type InitOptions } from "../../nn/linear.js";
import { Conv1d, Conv2d } from "../../nn/conv.js";
import { uniform_ } from "../../nn/init.js";
import { configOf } from "../presets.js";
import { matmulFlops, sortedKinds, type Architecture } from "../architecture.js";

// =====================================================================================================
// Config

export interface HiFiGANConfig {
  readonly nMels: number;
  /** the generator's first width (C₀); each upsampling halves it */
  readonly initialChannels: number;
  readonly upsampleRates: readonly number[];
  readonly upsampleKernels: readonly number[];
  /** MRF: one residual block per kernel, each with these dilations */
  readonly resblockKernels: readonly number[];
  readonly resblockDilations: readonly (readonly number[])[];
  /** MPD periods and the widths of its four strided convolutions (the last conv keeps the last width) */
  readonly periods: readonly number[];
  readonly mpdChannels: readonly number[];
  /** MSD widths of its seven convolutions (groups as the paper's: 1, 4, 16, 16, 16, 16, 1) */
  readonly msdChannels: readonly number[];
}

export const PRESETS = Object.freeze({
  /** HiFi-GAN V1 (Table 5; 22.05 kHz, hop 256) */
  v1: Object.freeze({
    nMels: 80,
    initialChannels: 512,
    upsampleRates: [8, 8, 2, 2],
    upsampleKernels: [16, 16, 4, 4],
    resblockKernels: [3, 7, 11],
    resblockDilations: [
      [1, 3, 5],
      [1, 3, 5],
      [1, 3, 5],
    ],
    periods: [2, 3, 5, 7, 11],
    mpdChannels: [32, 128, 512, 1024],
    msdChannels: [128, 128, 256, 512, 1024, 1024, 1024],
  }),
  /** a CPU-sized vocoder for the 16 kHz corpus (hop 200 = 5 · 5 · 4 · 2) */
  small: Object.freeze({
    nMels: 80,
    initialChannels: 128,
    upsampleRates: [5, 5, 4, 2],
    upsampleKernels: [11, 11, 8, 4],
    resblockKernels: [3, 7],
    resblockDilations: [
      [1, 3],
      [1, 3],
    ],
    periods: [2, 3, 5, 7, 11],
    mpdChannels: [8, 16, 32, 64],
    msdChannels: [16, 16, 32, 64, 64, 64, 64],
  }),
  /** the 16 kHz corpus's hop at a test's size */
  micro: Object.freeze({
    nMels: 80,
    initialChannels: 16,
    upsampleRates: [5, 5, 4, 2],
    upsampleKernels: [11, 11, 8, 4],
    resblockKernels: [3],
    resblockDilations: [[1]],
    periods: [2, 3],
    mpdChannels: [2, 4, 4, 8],
    msdChannels: [16, 16, 16, 16, 16, 16, 4],
  }),
  /** the fixture's configuration */
  tiny: Object.freeze({
    nMels: 4,
    initialChannels: 8,
    upsampleRates: [2, 3],
    upsampleKernels: [4, 5],
    resblockKernels: [3, 5],
    resblockDilations: [
      [1, 2],
      [1, 3],
    ],
    periods: [2, 3],
    mpdChannels: [2, 4, 4, 8],
    msdChannels: [16, 16, 16, 16, 16, 16, 4],
  }),
} satisfies Record<string, HiFiGANConfig>);

export function hifiganConfig(
  base: HiFiGANConfig | keyof typeof PRESETS,
  overrides: Partial<HiFiGANConfig> = {},
): HiFiGANConfig {
  const ints = (xs: readonly number[]) =>
    Array.isArray(xs) && xs.every((n) => Number.isInteger(n) && n >= 1 && n <= 1 << 16);
  return configOf("HiFiGANConfig", PRESETS, base, overrides, {
    sizes: ["nMels", "initialChannels"],
    also: (c) => {
      const lists = [
        "upsampleRates",
        "upsampleKernels",
        "resblockKernels",
        "resblockDilations",
        "periods",
        "mpdChannels",
        "msdChannels",
      ] as const;
      const notList = lists.find((k) => !Array.isArray(c[k]));
      if (notList !== undefined) return `${notList} must be a list`;
      const up = c.upsampleRates;
      if (up.length === 0 || up.length !== c.upsampleKernels.length || !ints(up) || !ints(c.upsampleKernels))
        return "upsampleRates and upsampleKernels must be lists of the same length of positive integers";
      const bad = up.findIndex((u, i) => (c.upsampleKernels[i]! - u) % 2 !== 0 || c.upsampleKernels[i]! < u);
      if (bad >= 0)
        return `upsample kernel ${c.upsampleKernels[bad]} must be ≥ rate ${up[bad]} with an even difference (exact ×${up[bad]} lengths)`;
      if (c.initialChannels % 2 ** up.length !== 0)
        return `initialChannels ${c.initialChannels} must halve ${up.length} times`;
      if (
        c.resblockKernels.length === 0 ||
        c.resblockKernels.length !== c.resblockDilations.length ||
        c.resblockKernels.some((k) => k % 2 !== 1)
      )
        return "one list of dilations per odd resblock kernel";
      if (!c.resblockDilations.every((d) => ints(d) && d.length > 0))
        return "every resblock's dilations must be a list of positive integers";
      if (
        c.mpdChannels.length !== 4 ||
        c.msdChannels.length !== 7 ||
        !ints(c.mpdChannels) ||
        !ints(c.msdChannels) ||
        !ints(c.periods)
      )
        return "4 MPD widths, 7 MSD widths and periods, positive integers";
      for (const [i, g] of MSD_GROUPS.entries()) {
        const inC = i === 0 ? 1 : c.msdChannels[i - 1]!;
        if (inC % g !== 0 || c.msdChannels[i]! % g !== 0)
          return `MSD layer ${i} has groups ${g}; widths ${inC} → ${c.msdChannels[i]} must divide by it`;
      }
      return undefined;
    },
  });
}

/** The samples per mel frame: the product of the upsampling rates. */
export const hopOf = (c: HiFiGANConfig) => c.upsampleRates.reduce((a, b) => a * b, 1);

const LRELU = 0.1;
const MSD_KERNELS = [15, 41, 41, 41, 41, 41, 5],
  MSD_STRIDES = [1, 2, 2, 4, 4, 1, 1],
  MSD_GROUPS = [1, 4, 16, 16, 16, 16, 1];

/** The generator's parameters (what `wnn say` runs), counted from the layers' shapes (nothing allocated). */
export function countGeneratorParameters(c: HiFiGANConfig): number {
  const conv = (i: number, o: number, k: number): number => i * o * k + o; // weight + bias
  let n = conv(c.nMels, c.initialChannels, 7);
  c.upsampleRates.forEach((_, i) => {
    const C = c.initialChannels >> (i + 1);
    n += conv(c.initialChannels >> i, C, c.upsampleKernels[i]!); // the transposed convolution
    c.resblockKernels.forEach((k, j) => (n += 2 * c.resblockDilations[j]!.length * conv(C, C, k)));
  });
  return n + conv(c.initialChannels >> c.upsampleRates.length, 1, 7);
}

/**
 * The generator as a table row (src/models/architecture.ts). FLOPs per example of Tm mel frames, matrix
 * products only: the first convolution 2·M·C₀·7·Tm; upsampling stage i (C = C₀/2^{i+1} channels, L_i frames
 * in, L_i·u_i out) a transposed convolution 2·2C·C·k_i·L_i and, per residual block of kernel k and dilation
 * list d, 2·|d| convolutions of 2·C·C·k·L_i·u_i; the last convolution 2·C_last·7·Tm·hop.
 */
export function describe(c: HiFiGANConfig, Tm = 80, title = "HiFi-GAN generator"): Architecture {
  let flops = matmulFlops(c.initialChannels, c.nMels * 7, Tm),
    L = Tm;
  c.upsampleRates.forEach((u, i) => {
    const C = c.initialChannels >> (i + 1);
    flops += matmulFlops(C * c.upsampleKernels[i]!, c.initialChannels >> i, L);
    L *= u;
    c.resblockKernels.forEach((k, j) => (flops += 2 * c.resblockDilations[j]!.length * matmulFlops(C, C * k, L)));
  });
  flops += matmulFlops(1, (c.initialChannels >> c.upsampleRates.length) * 7, L);
  const convs = 2 + c.upsampleRates.length * c.resblockDilations.reduce((n, d) => n + 2 * d.length, 0);
  return {
    title,
    config: `C₀ ${c.initialChannels}, upsampling ×${c.upsampleRates.join("·")} = hop ${hopOf(c)}, MRF kernels ${c.resblockKernels.join(", ")}, ${c.nMels} mels`,
    parameters: countGeneratorParameters(c),
    layers: sortedKinds({ [Conv1d.name]: convs, [ConvTranspose1d.name]: c.upsampleRates.length }),
    normalization: "none (the paper's weight normalisation left out)",
    positions: "none: convolutions over time",
    attention: "none",
    activation: "LeakyReLU (0.1), tanh at the output",
    flops: { value: flops, per: "example", at: `${Tm} mel frames (${Tm * hopOf(c)} samples)` },
  };
}

// =====================================================================================================
// Generator

/** ConvTranspose1d as the 2-D op on (B, C, 1, T): length ×u with kernel k and padding (k − u)/2. */
class ConvTranspose1d extends Module {
  weight: Parameter; // (Cin, Cout, k)
  bias: Parameter; //   (Cout)

  constructor(
    readonly inC: number,
    readonly outC: number,
    readonly k: number,
    readonly u: number,
    opts: InitOptions,
  ) {
    super();
    this.weight = param([inC, outC, k]);
    this.bias = param([outC]);
    // PyTorch's default: U(±1/√(Cout·k)) (fan-in of the transposed weight's dim 1)
    const bound = 1 / Math.sqrt(outC * k);
    uniform_(this.weight, -bound, bound, opts);
    uniform_(this.bias, -bound, bound, opts);
  }

  forward(x: Tensor): Tensor {
    const y = F.convTranspose2d(x.unsqueeze(2), this.weight.unsqueeze(2), this.bias, {
      stride: [1, this.u],
      padding: [0, (this.k - this.u) / 2],
    }); // (B, Cout, 1, T·u)
    return y.squeeze(2); // (B, Cout, T·u)
  }
}

/** A residual block (ResBlock1 of the paper): for each dilation d, x ← x + conv₂(lrelu(conv₁,d(lrelu(x)))). */
class ResBlock extends Module {
  convs1: ModuleList<Conv1d>;
  convs2: ModuleList<Conv1d>;

  constructor(C: number, k: number, dilations: readonly number[], opts: InitOptions) {
    super();
    this.convs1 = new ModuleList(
      dilations.map((d) => new Conv1d(C, C, k, { dilation: d, padding: (d * (k - 1)) / 2, ...opts })),
    );
    this.convs2 = new ModuleList(dilations.map(() => new Conv1d(C, C, k, { padding: (k - 1) / 2, ...opts })));
  }

  forward(x: Tensor): Tensor {
    for (let i = 0; i < this.convs1.length; i++) {
      const h = this.convs1.at(i).forward(F.leakyRelu(x, LRELU)); // (B, C, T)
      x = x.add(this.convs2.at(i).forward(F.leakyRelu(h, LRELU))); // (B, C, T)
    }
    return x;
  }
}

export class Generator extends Module {
  convPre: Conv1d;
  ups: ModuleList<ConvTranspose1d>;
  resblocks: ModuleList<ResBlock>; // upsample i uses blocks i·K … i·K + K − 1
  convPost: Conv1d;

  constructor(
    readonly config: HiFiGANConfig,
    opts: InitOptions = {},
  ) {
    super();
    const c = config,
      K = c.resblockKernels.length;
    this.convPre = new Conv1d(c.nMels, c.initialChannels, 7, { padding: 3, ...opts });
    this.ups = new ModuleList(
      c.upsampleRates.map(
        (u, i) =>
          new ConvTranspose1d(c.initialChannels >> i, c.initialChannels >> (i + 1), c.upsampleKernels[i]!, u, opts),
      ),
    );
    const blocks: ResBlock[] = [];
    c.upsampleRates.forEach((_, i) => {
      for (let j = 0; j < K; j++)
        blocks.push(new ResBlock(c.initialChannels >> (i + 1), c.resblockKernels[j]!, c.resblockDilations[j]!, opts));
    });
    this.resblocks = new ModuleList(blocks);
    this.convPost = new Conv1d(c.initialChannels >> c.upsampleRates.length, 1, 7, { padding: 3, ...opts });
  }

  /** mel (B, M, Tm) → waveform (B, 1, Tm · hop) in (−1, 1). */
  forward(mel: Tensor): Tensor {
    const c = this.config,
      K = c.resblockKernels.length;
    if (mel.ndim !== 3 || mel.shape[1] !== c.nMels)
      throw new ShapeError(`HiFiGAN Generator: mel ${fmt(mel.shape)} must be (B, ${c.nMels}, Tm)`);
    let x = this.convPre.forward(mel); // (B, C₀, Tm)
    for (let i = 0; i < c.upsampleRates.length; i++) {
      x = this.ups.at(i).forward(F.leakyRelu(x, LRELU)); // (B, C₀/2^{i+1}, T_i · u_i)
      // MRF: the mean of the K residual blocks
      let sum = this.resblocks.at(i * K).forward(x);
      for (let j = 1; j < K; j++) sum = sum.add(this.resblocks.at(i * K + j).forward(x));
      x = sum.div(K);
    }
    // the open implementation's last activation has PyTorch's default slope, 0.01
    return this.convPost.forward(F.leakyRelu(x, 0.01)).tanh(); // (B, 1, T)
  }
}

// =====================================================================================================
// Discriminators

/**
 * What both discriminators do after shaping their input: each convolution then LeakyReLU(0.1), a last
 * convolution to one channel; the score map flattened per example and every layer's output (feature matching).
 */
function convChain(
  convs: Iterable<Module & { forward(x: Tensor): Tensor }>,
  convPost: Module & { forward(x: Tensor): Tensor },
  h: Tensor,
): { score: Tensor; features: Tensor[] } {
  const features: Tensor[] = [];
  for (const conv of convs) {
    h = F.leakyRelu(conv.forward(h), LRELU);
    features.push(h);
  }
  h = convPost.forward(h);
  features.push(h);
  return { score: h.reshape([h.shape[0]!, -1]), features };
}

/** One period p of the MPD: the wave as (T/p, p) columns, 2-D convolutions with kernels (k, 1). */
class PeriodDiscriminator extends Module {
  convs: ModuleList<Conv2d>;
  convPost: Conv2d;

  constructor(
    readonly period: number,
    widths: readonly number[],
    opts: InitOptions,
  ) {
    super();
    const chans = [1, ...widths, widths[3]];
    this.convs = new ModuleList(
      chans
        .slice(0, 5)
        .map(
          (inC, i) => new Conv2d(inC!, chans[i + 1]!, [5, 1], { stride: [i < 4 ? 3 : 1, 1], padding: [2, 0], ...opts }),
        ),
    );
    this.convPost = new Conv2d(widths[3]!, 1, [3, 1], { padding: [1, 0], ...opts });
  }

  /** x (B, 1, T) → the score map flattened (B, ·) and the feature maps. */
  forward(x: Tensor): { score: Tensor; features: Tensor[] } {
    const [B, , T] = x.shape as [number, number, number];
    const p = this.period;
    if (T % p !== 0) x = F.pad(x, [0, p - (T % p)], { mode: "reflect" }); // (B, 1, ⌈T/p⌉·p)
    const h = x.reshape([B, 1, x.shape[2]! / p, p]); // (B, 1, T/p, p)
    return convChain(this.convs, this.convPost, h);
  }
}

/** One scale of the MSD: grouped 1-D convolutions. */
class ScaleDiscriminator extends Module {
  convs: ModuleList<Conv1d>;
  convPost: Conv1d;

  constructor(widths: readonly number[], opts: InitOptions) {
    super();
    this.convs = new ModuleList(
      widths.map(
        (w, i) =>
          new Conv1d(i === 0 ? 1 : widths[i - 1]!, w, MSD_KERNELS[i]!, {
            stride: MSD_STRIDES[i],
            groups: MSD_GROUPS[i],
            padding: (MSD_KERNELS[i]! - 1) / 2,
            ...opts,
          }),
      ),
    );
    this.convPost = new Conv1d(widths[6]!, 1, 3, { padding: 1, ...opts });
  }

  forward(x: Tensor): { score: Tensor; features: Tensor[] } {
    return convChain(this.convs, this.convPost, x); // x (B, 1, T)
  }
}

export class Discriminators extends Module {
  mpd: ModuleList<PeriodDiscriminator>;
  msd: ModuleList<ScaleDiscriminator>;

  constructor(
    readonly config: HiFiGANConfig,
    opts: InitOptions = {},
  ) {
    super();
    this.mpd = new ModuleList(config.periods.map((p) => new PeriodDiscriminator(p, config.mpdChannels, opts)));
    this.msd = new ModuleList([0, 1, 2].map(() => new ScaleDiscriminator(config.msdChannels, opts)));
  }

  /** x (B, 1, T) → every sub-discriminator's score and feature maps: the MPD's periods, then the MSD's scales. */
  forward(x: Tensor): { score: Tensor; features: Tensor[] }[] {
    const out = [...this.mpd].map((d) => d.forward(x));
    let y = x;
    for (let i = 0; i < 3; i++) {
      // scales ×1, ×½, ×¼: average pooling (kernel 4, stride 2, padding 2) between them
      if (i > 0) y = F.avgPool2d(y.unsqueeze(2), [1, 4], { stride: [1, 2], padding: [0, 2] }).squeeze(2); // (B, 1, T/2^i)
      out.push(this.msd.at(i).forward(y));
    }
    return out;
  }
}

// =====================================================================================================
// Losses (§2.4)

/** The discriminators' loss: Σ_k E[(D_k(x) − 1)²] + E[D_k(G(s))²]. */
export function discriminatorLoss(real: { score: Tensor }[], fake: { score: Tensor }[]): Tensor {
  let loss = real[0]!.score.sub(1).pow(2).mean().add(fake[0]!.score.pow(2).mean());
  for (let k = 1; k < real.length; k++)
    loss = loss.add(real[k]!.score.sub(1).pow(2).mean()).add(fake[k]!.score.pow(2).mean());
  return loss;
}

/** The generator's adversarial loss Σ_k E[(D_k(G(s)) − 1)²] and feature matching Σ_k Σ_i ‖D_k^i(x) − D_k^i(G(s))‖₁ / N_i. */
export function generatorLosses(
  real: { features: Tensor[] }[],
  fake: { score: Tensor; features: Tensor[] }[],
): { adversarial: Tensor; featureMatching: Tensor } {
  let adversarial = fake[0]!.score.sub(1).pow(2).mean();
  for (let k = 1; k < fake.length; k++) adversarial = adversarial.add(fake[k]!.score.sub(1).pow(2).mean());
  let featureMatching: Tensor | null = null;
  for (let k = 0; k < fake.length; k++) {
    for (let i = 0; i < fake[k]!.features.length; i++) {
      const l = fake[k]!.features[i]!.sub(real[k]!.features[i]!.detach()).abs().mean();
      featureMatching = featureMatching ? featureMatching.add(l) : l;
    }
  }
  return { adversarial, featureMatching: featureMatching! };
}
