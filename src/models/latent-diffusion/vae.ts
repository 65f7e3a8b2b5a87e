// The KL-regularised autoencoder of latent diffusion (Stable Diffusion's AutoencoderKL).
//   Rombach, Blattmann, Lorenz, Esser, Ommer 2022, "High-Resolution Image Synthesis with Latent Diffusion Models",
//   https://arxiv.org/abs/2112.10752 (§3.1: an encoder E to a latent z of 1/f the side, a decoder D, and a small
//   KL penalty towards N(0, I)); Kingma & Welling 2014, "Auto-Encoding Variational Bayes", https://arxiv.org/abs/1312.6114
//
// The encoder is the U-Net's down path without time or skips (ddpm/unet.ts's ResBlock, Downsample, AttnBlock),
// ending in 2·L channels: the mean and the log-variance of q(z | x). The decoder mirrors it with the up path.
// Every level but the last halves the side: f = 2^(levels − 1) (SD: 4 levels, f = 8, L = 4).
//
// Read top to bottom: config → encoder → decoder → model (encode, sample, decode, loss).
//
// Vocabulary (shape comments): B batch, C image channels, H W the image's side, h w the latent's, L latent channels.

import { ShapeError } from "../../engine/errors.js";
import { randn } from "../../engine/creation.js";
import { defaultGenerator, type Generator } from "../../engine/rng.js";
import { fmt } from "../../engine/shape.js";
import type { Tensor } from "../../engine/tensor.js";
import * as F from "../../nn/functional.js";
import { Module, ModuleList } from "../../nn/module.js";
import { Conv2d, GroupNorm } from "../../nn/index.js";
import { AttnBlock, Downsample, ResBlock, Tally, Upsample } from "../ddpm/unet.js";
import { sortedKinds, type Architecture } from "../architecture.js";
import { configOf } from "../presets.js";

// =====================================================================================================
// Config

export interface VAEConfig {
  readonly inChannels: number;
  readonly outChannels: number;
  /** L, the latent's channels */
  readonly latentChannels: number;
  /** the width of each level (SD: 128, 256, 512, 512) */
  readonly channels: readonly number[];
  /** residual blocks per level in the encoder (the decoder has one more) */
  readonly layersPerBlock: number;
  readonly groups: number;
}

export const VAE_PRESETS = Object.freeze({
  /** Stable Diffusion v1's AutoencoderKL (f = 8, L = 4): 83,653,863 parameters */
  "sd-v1-vae": Object.freeze({
    inChannels: 3,
    outChannels: 3,
    latentChannels: 4,
    channels: Object.freeze([128, 256, 512, 512]),
    layersPerBlock: 2,
    groups: 32,
  }),
} satisfies Record<string, VAEConfig>);

export function vaeConfig(base: VAEConfig | keyof typeof VAE_PRESETS, overrides: Partial<VAEConfig> = {}): VAEConfig {
  const c = configOf("VAEConfig", VAE_PRESETS, base, overrides, {
    positive: ["inChannels", "outChannels", "latentChannels", "layersPerBlock", "groups"],
    also: (c) =>
      !Array.isArray(c.channels) || c.channels.length < 1
        ? `channels must be a non-empty list, got ${JSON.stringify(c.channels)}`
        : c.channels.every((w) => Number.isInteger(w) && w >= 1 && w % c.groups === 0)
          ? undefined
          : `every width must be a positive multiple of groups ${c.groups}, got ${JSON.stringify(c.channels)}`,
  });
  return Object.freeze({ ...c, channels: Object.freeze([...c.channels]) });
}

const EPS = 1e-6; // GroupNorm's ε in the autoencoder

// =====================================================================================================
// Parameters and FLOPs

/**
 * The autoencoder built on paper, in the constructors' order (ddpm/unet.ts's Tally): parameters, layer kinds and the
 * FLOPs of encoding one H×W image and decoding its latent (the training pass). The encoder's asymmetric stride-2 convs
 * give ⌊H/2⌋ at each level; the decoder doubles
 * back from the bottom.
 */
export function tallyVAE(c: VAEConfig, H: number, W = H): Tally {
  const t = new Tally(),
    ch = c.channels,
    levels = ch.length,
    L = c.latentChannels;
  const sizes: [number, number][] = [[H, W]];
  for (let l = 1; l < levels; l++) sizes.push([Math.floor(sizes[l - 1]![0] / 2), Math.floor(sizes[l - 1]![1] / 2)]);
  const n = (l: number): number => sizes[l]![0] * sizes[l]![1];
  const top = ch[levels - 1]!,
    bottom = n(levels - 1);
  const middle = (): Tally => t.resBlock(top, top, 0, bottom).attnBlock(top, bottom).resBlock(top, top, 0, bottom);

  t.conv(c.inChannels, ch[0]!, 3, n(0)); // the encoder
  let cin = ch[0]!;
  ch.forEach((w, l) => {
    for (let j = 0; j < c.layersPerBlock; j++) t.resBlock(j === 0 ? cin : w, w, 0, n(l));
    cin = w;
    if (l < levels - 1) t.conv(w, w, 3, n(l + 1)); // Downsample
  });
  middle();
  t.groupNorm(top).conv(top, 2 * L, 3, bottom);
  t.conv(2 * L, 2 * L, 1, bottom).conv(L, L, 1, bottom); // quantConv, postQuantConv
  t.conv(L, top, 3, bottom); // the decoder
  middle();
  cin = top;
  let m = bottom; // the decoder's map: ×4 positions at every upsampling
  [...ch].reverse().forEach((w, i) => {
    for (let j = 0; j <= c.layersPerBlock; j++) t.resBlock(j === 0 ? cin : w, w, 0, m);
    cin = w;
    if (i < levels - 1) t.conv(w, w, 3, (m *= 4)); // Upsample ×2
  });
  return t.groupNorm(ch[0]!).conv(ch[0]!, c.outChannels, 3, m);
}

export const countParameters = (c: VAEConfig): number => tallyVAE(c, 8).parameters;

/** The architecture in one row (src/models/architecture.ts); FLOPs per image: encode an H×W image, decode its latent. */
export function describe(c: VAEConfig, size: number, title: string): Architecture {
  const t = tallyVAE(c, size);
  const f = 2 ** (c.channels.length - 1);
  return {
    title,
    config: `${size}×${size}×${c.inChannels} → ${size / f}×${size / f}×${c.latentChannels} (f = ${f}), widths ${c.channels.join("-")}`,
    parameters: t.parameters,
    layers: sortedKinds(t.kinds),
    normalization: "GroupNorm, before every conv of a residual block and the middle attention",
    positions: "none: convolutions",
    attention: "one self-attention block in the middle of the encoder and of the decoder (1 head)",
    activation: "SiLU",
    flops: { value: t.flops, per: "image", at: `${size}×${size}, encode + decode` },
  };
}

// =====================================================================================================
// Encoder and decoder

/** A level: residual blocks, then a resampling (none at the bottom of the encoder / the top of the decoder). */
export class VAELevel extends Module {
  res: ModuleList<ResBlock>;
  resample: Downsample | Upsample | null;
  constructor(res: ResBlock[], resample: Downsample | Upsample | null) {
    super();
    this.res = new ModuleList(res);
    this.resample = resample;
  }
  forward(x: Tensor): Tensor {
    let h = x;
    for (const r of this.res) h = r.forward(h);
    return this.resample ? this.resample.forward(h) : h;
  }
}

/** x (B, C, H, W) → the moments of q(z | x): (B, 2L, H/f, W/f), mean then log-variance. */
export class Encoder extends Module {
  convIn: Conv2d;
  down: ModuleList<VAELevel>;
  midRes1: ResBlock;
  midAttn: AttnBlock;
  midRes2: ResBlock;
  normOut: GroupNorm;
  convOut: Conv2d;

  constructor(c: VAEConfig, g: Generator) {
    super();
    const ch = c.channels,
      n = ch.length;
    this.convIn = new Conv2d(c.inChannels, ch[0]!, 3, { padding: 1, generator: g });
    let cin = ch[0]!;
    this.down = new ModuleList(
      ch.map((w, l) => {
        const res = Array.from(
          { length: c.layersPerBlock },
          (_, j) => new ResBlock(j === 0 ? cin : w, w, 0, c.groups, 0, g, EPS),
        );
        cin = w;
        return new VAELevel(res, l < n - 1 ? new Downsample(w, g, true) : null);
      }),
    );
    const top = ch[n - 1]!;
    this.midRes1 = new ResBlock(top, top, 0, c.groups, 0, g, EPS);
    this.midAttn = new AttnBlock(top, c.groups, 1, g, EPS);
    this.midRes2 = new ResBlock(top, top, 0, c.groups, 0, g, EPS);
    this.normOut = new GroupNorm(c.groups, top, { eps: EPS });
    this.convOut = new Conv2d(top, 2 * c.latentChannels, 3, { padding: 1, generator: g });
  }

  forward(x: Tensor): Tensor {
    let h = this.convIn.forward(x); //                               (B, ch₀, H, W)
    for (const level of this.down) h = level.forward(h); //          (B, ch_top, H/f, W/f)
    h = this.midRes2.forward(this.midAttn.forward(this.midRes1.forward(h)));
    return this.convOut.forward(F.silu(this.normOut.forward(h))); // (B, 2L, h, w)
  }
}

/** z (B, L, h, w) → x̂ (B, C, h·f, w·f). */
export class Decoder extends Module {
  convIn: Conv2d;
  midRes1: ResBlock;
  midAttn: AttnBlock;
  midRes2: ResBlock;
  up: ModuleList<VAELevel>;
  normOut: GroupNorm;
  convOut: Conv2d;

  constructor(c: VAEConfig, g: Generator) {
    super();
    const ch = [...c.channels].reverse(),
      n = ch.length,
      top = ch[0]!;
    this.convIn = new Conv2d(c.latentChannels, top, 3, { padding: 1, generator: g });
    this.midRes1 = new ResBlock(top, top, 0, c.groups, 0, g, EPS);
    this.midAttn = new AttnBlock(top, c.groups, 1, g, EPS);
    this.midRes2 = new ResBlock(top, top, 0, c.groups, 0, g, EPS);
    let cin = top;
    this.up = new ModuleList(
      ch.map((w, l) => {
        const res = Array.from(
          { length: c.layersPerBlock + 1 },
          (_, j) => new ResBlock(j === 0 ? cin : w, w, 0, c.groups, 0, g, EPS),
        );
        cin = w;
        return new VAELevel(res, l < n - 1 ? new Upsample(w, g) : null);
      }),
    );
    this.normOut = new GroupNorm(c.groups, ch[n - 1]!, { eps: EPS });
    this.convOut = new Conv2d(ch[n - 1]!, c.outChannels, 3, { padding: 1, generator: g });
  }

  forward(z: Tensor): Tensor {
    let h = this.convIn.forward(z); //                               (B, ch_top, h, w)
    h = this.midRes2.forward(this.midAttn.forward(this.midRes1.forward(h)));
    for (const level of this.up) h = level.forward(h); //            (B, ch₀, H, W)
    return this.convOut.forward(F.silu(this.normOut.forward(h))); // (B, C, H, W)
  }
}

// =====================================================================================================
// Model

export class AutoencoderKL extends Module {
  readonly config: VAEConfig;
  encoder: Encoder;
  decoder: Decoder;
  quantConv: Conv2d;
  postQuantConv: Conv2d;

  constructor(config: VAEConfig, opts: { generator?: Generator } = {}) {
    super();
    const c = (this.config = vaeConfig(config));
    const g = opts.generator ?? defaultGenerator;
    this.encoder = new Encoder(c, g);
    this.decoder = new Decoder(c, g);
    this.quantConv = new Conv2d(2 * c.latentChannels, 2 * c.latentChannels, 1, { generator: g });
    this.postQuantConv = new Conv2d(c.latentChannels, c.latentChannels, 1, { generator: g });
  }

  /** q(z | x) = N(μ, σ²): μ and log σ² (B, L, h, w); log σ² clamped to [−30, 20] as diffusers does. */
  encode(x: Tensor): { mean: Tensor; logvar: Tensor } {
    if (x.ndim !== 4 || x.shape[1] !== this.config.inChannels)
      throw new ShapeError(`AutoencoderKL: expected images (B, ${this.config.inChannels}, H, W), got ${fmt(x.shape)}`);
    const moments = this.quantConv.forward(this.encoder.forward(x)); // (B, 2L, h, w)
    const [mean, logvar] = moments.chunk(2, 1) as [Tensor, Tensor];
    return { mean, logvar: logvar.clamp(-30, 20) };
  }

  /** z = μ + σ·ε (the reparameterisation trick), ε ~ N(0, I). */
  sample(q: { mean: Tensor; logvar: Tensor }, generator?: Generator): Tensor {
    return q.mean.add(q.logvar.mul(0.5).exp().mul(randn(q.mean.shape, { generator })));
  }

  decode(z: Tensor): Tensor {
    if (z.ndim !== 4 || z.shape[1] !== this.config.latentChannels)
      throw new ShapeError(
        `AutoencoderKL: expected latents (B, ${this.config.latentChannels}, h, w), got ${fmt(z.shape)}`,
      );
    return this.decoder.forward(this.postQuantConv.forward(z)); // (B, C, H, W)
  }

  /** KL(q(z | x) ‖ N(0, I)) = ½·Σ (μ² + σ² − 1 − log σ²), summed over the latent and averaged over the batch. */
  static kl(q: { mean: Tensor; logvar: Tensor }): Tensor {
    const B = q.mean.shape[0]!;
    return q.mean
      .mul(q.mean)
      .add(q.logvar.exp())
      .sub(1)
      .sub(q.logvar)
      .sum()
      .mul(0.5 / B);
  }
}
