// The U-Net that denoises: ε_θ(x_t, t, y) → ε̂ (or v̂), the network of DDPM, DDIM and latent diffusion.
//   Ronneberger, Fischer, Brox 2015, "U-Net", https://arxiv.org/abs/1505.04597 (down and up paths with skips)
//   Ho, Jain, Abbeel 2020, "Denoising Diffusion Probabilistic Models", https://arxiv.org/abs/2006.11239 (appendix B:
//     a PixelCNN++-like U-Net: Wide-ResNet blocks with GroupNorm, the timestep as a sinusoidal embedding added in
//     every block, self-attention at 16×16)
//   Ho & Salimans 2022, "Classifier-Free Diffusion Guidance", https://arxiv.org/abs/2207.12598 (a class embedding
//     with one extra "no class" entry ∅, dropped in training with probability p_uncond)
//   Rombach et al. 2022, "High-Resolution Image Synthesis with Latent Diffusion Models", https://arxiv.org/abs/2112.10752
//     (cross-attention to a text encoder's states through a spatial transformer: self-attention, cross-attention, GEGLU)
//
// The layout is diffusers' UNet2DModel / UNet2DConditionModel: conv_in; per resolution level `numResBlocks`
// residual blocks (each followed by an attention block at the levels that have one), then a stride-2 conv;
// a middle of block, attention, block; the up path mirrors it with one more block per level, each taking
// the matching skip concatenated on the channels, then nearest ×2 upsampling and a conv; GroupNorm, SiLU, conv_out.
//
// With `contextDim` 0 an attention block is DDPM's (GroupNorm, single self-attention, residual); with
// contextDim > 0 it is latent diffusion's spatial transformer attending to a context (B, L, contextDim).
//
// Read top to bottom: config → layers (time embedding, residual block, attention, spatial transformer,
// down/upsample) → model → init.
//
// Vocabulary (shape comments): B batch, C channels, H W the map's height and width, N = H·W positions,
// E the time embedding's width (4·C₀), nh heads, hs = C/nh, L context length, D context width, K classes.

import { ArgumentError, ShapeError } from "../../engine/errors.js";
import { tensor } from "../../engine/creation.js";
import { defaultGenerator, type Generator } from "../../engine/rng.js";
import { fmt } from "../../engine/shape.js";
import type { Tensor } from "../../engine/tensor.js";
import * as F from "../../nn/functional.js";
import { Module, ModuleList } from "../../nn/module.js";
import { Conv2d, Embedding, GroupNorm, LayerNorm, Linear } from "../../nn/index.js";
import { cat } from "../../ops/shape.js";
import { configOf } from "../presets.js";
import { linearFlops, matmulFlops, sortedKinds, type Architecture } from "../architecture.js";

// =====================================================================================================
// Config

export interface UNetConfig {
  /** channels of x_t (1 for MNIST, 4 for SD's latents) */
  readonly inChannels: number;
  /** channels of the prediction (= inChannels) */
  readonly outChannels: number;
  /** C₀, the width of the first level; level i has C₀·channelMult[i] */
  readonly channels: number;
  readonly channelMult: readonly number[];
  /** residual blocks per level on the way down (the way up has one more) */
  readonly numResBlocks: number;
  /** the levels (0 = full resolution) that have attention after each residual block; the middle always has one */
  readonly attnLevels: readonly number[];
  /** GroupNorm's groups (diffusers: 32) */
  readonly groups: number;
  /** attention heads */
  readonly heads: number;
  /** classes for class conditioning (0: none); the embedding has one more row, ∅, for guidance */
  readonly numClasses: number;
  /** the context's width for cross-attention (0: self-attention only) */
  readonly contextDim: number;
  readonly dropout: number;
}

export function unetConfig(base: UNetConfig | keyof typeof PRESETS, overrides: Partial<UNetConfig> = {}): UNetConfig {
  const positive = (n: number): boolean => Number.isInteger(n) && n >= 1;
  const c = configOf("UNetConfig", PRESETS, base, overrides, {
    positive: ["inChannels", "outChannels", "channels", "numResBlocks", "groups", "heads"],
    counts: ["numClasses", "contextDim"],
    probabilities: ["dropout"],
    also: (c) => {
      if (!Array.isArray(c.channelMult) || c.channelMult.length < 1 || !c.channelMult.every(positive))
        return `channelMult must be a non-empty list of positive integers, got ${JSON.stringify(c.channelMult)}`;
      if (
        !Array.isArray(c.attnLevels) ||
        !c.attnLevels.every((l) => Number.isInteger(l) && l >= 0 && l < c.channelMult.length)
      )
        return `attnLevels must be level indices below ${c.channelMult.length}, got ${JSON.stringify(c.attnLevels)}`;
      for (const w of [c.channels, ...c.channelMult.map((m) => m * c.channels)]) {
        if (w % c.groups !== 0) return `every width (${w}) must be divisible by groups ${c.groups}`;
        if (w % c.heads !== 0) return `every width (${w}) must be divisible by heads ${c.heads}`;
      }
      return undefined;
    },
  });
  return Object.freeze({
    ...c,
    channelMult: Object.freeze([...c.channelMult]),
    attnLevels: Object.freeze([...c.attnLevels]),
  });
}

export const PRESETS = Object.freeze({
  /** class-conditional MNIST (28 → 14 → 7, attention at 7×7): sized to train on 2 CPU cores */
  "ddpm-mnist": Object.freeze({
    inChannels: 1,
    outChannels: 1,
    channels: 16,
    channelMult: Object.freeze([1, 2, 2]),
    numResBlocks: 1,
    attnLevels: Object.freeze([2]),
    groups: 8,
    heads: 1,
    numClasses: 10,
    contextDim: 0,
    dropout: 0,
  }),
  /** Stable Diffusion v1's UNet2DConditionModel (64×64×4 latents, CLIP ViT-L/14 context): 859,520,964 parameters */
  "sd-v1-unet": Object.freeze({
    inChannels: 4,
    outChannels: 4,
    channels: 320,
    channelMult: Object.freeze([1, 2, 4, 4]),
    numResBlocks: 2,
    attnLevels: Object.freeze([0, 1, 2]),
    groups: 32,
    heads: 8,
    numClasses: 0,
    contextDim: 768,
    dropout: 0,
  }),
} satisfies Record<string, UNetConfig>);

// =====================================================================================================
// Parameters and FLOPs, block by block (src/models/architecture.ts: forward FLOPs per image, matrix products only)

/**
 * A running account of a network built block by block: its parameters, the classes of its parameter-owning layers
 * (counted), and the forward FLOPs of one image. The U-Net below and the autoencoder (latent-diffusion/vae.ts) add
 * their blocks to one in the order their constructors build them.
 */
export class Tally {
  parameters = 0;
  flops = 0;
  readonly kinds: Record<string, number> = {};

  private layer(kind: string, parameters: number, flops: number): void {
    this.kinds[kind] = (this.kinds[kind] ?? 0) + 1;
    this.parameters += parameters;
    this.flops += flops;
  }
  /** in → out applied to `n` vectors: W (out, in), b (out) */
  linear(inF: number, outF: number, n: number, bias = true): this {
    this.layer(Linear.name, inF * outF + (bias ? outF : 0), n * linearFlops(inF, outF));
    return this;
  }
  /** a k×k convolution cin → cout whose output map has `n` positions: 2·cin·k²·cout·n (im2col · W) */
  conv(cin: number, cout: number, k: number, n: number): this {
    this.layer(Conv2d.name, cin * cout * k * k + cout, matmulFlops(cout, cin * k * k, n));
    return this;
  }
  groupNorm(channels: number): this {
    this.layer(GroupNorm.name, 2 * channels, 0);
    return this;
  }
  layerNorm(channels: number): this {
    this.layer(LayerNorm.name, 2 * channels, 0);
    return this;
  }
  embedding(rows: number, dim: number): this {
    this.layer(Embedding.name, rows * dim, 0);
    return this;
  }
  /** softmax(q·kᵀ)·v over `n` queries and `keys` keys of `channels` (all heads): 2·n·keys·C twice */
  attention(n: number, keys: number, channels: number): this {
    this.flops += 4 * n * keys * channels;
    return this;
  }

  /** ResBlock(cin → cout) on a map of n positions; embDim 0: no time embedding */
  resBlock(cin: number, cout: number, embDim: number, n: number): this {
    this.groupNorm(cin).conv(cin, cout, 3, n);
    if (embDim > 0) this.linear(embDim, cout, 1); // W_t·SiLU(temb): once per image
    this.groupNorm(cout).conv(cout, cout, 3, n);
    if (cin !== cout) this.conv(cin, cout, 1, n);
    return this;
  }
  /** DDPM's AttnBlock: GN, q, k, v, o (with biases), self-attention over the n positions */
  attnBlock(channels: number, n: number): this {
    this.groupNorm(channels);
    for (let i = 0; i < 4; i++) this.linear(channels, channels, n);
    return this.attention(n, n, channels);
  }
  /** the spatial transformer: self-attention, cross-attention to L context tokens of width D, GEGLU */
  spatialTransformer(C: number, D: number, L: number, n: number): this {
    this.groupNorm(C).linear(C, C, n); //                                                  norm, projIn
    this.layerNorm(C).linear(C, C, n, false).linear(C, C, n, false).linear(C, C, n, false).linear(C, C, n);
    this.attention(n, n, C); //                                                            attn1: self
    this.layerNorm(C).linear(C, C, n, false).linear(D, C, L, false).linear(D, C, L, false).linear(C, C, n);
    this.attention(n, L, C); //                                                            attn2: cross
    this.layerNorm(C)
      .linear(C, 8 * C, n)
      .linear(4 * C, C, n); //                          GEGLU feed-forward
    return this.linear(C, C, n); //                                                        projOut
  }
}

/**
 * The U-Net built on paper, in the constructor's order: parameters, layer kinds and the forward FLOPs of one image of
 * H×W (and, with cross-attention, a context of L tokens). The sizes halve as the stride-2 convs make them, ⌈H/2⌉.
 */
export function tallyUNet(c: UNetConfig, H: number, W = H, L = 0): Tally {
  const t = new Tally(),
    E = 4 * c.channels,
    levels = c.channelMult.length;
  const sizes: [number, number][] = [[H, W]];
  for (let l = 1; l < levels; l++) sizes.push([Math.ceil(sizes[l - 1]![0] / 2), Math.ceil(sizes[l - 1]![1] / 2)]);
  const n = (l: number): number => sizes[l]![0] * sizes[l]![1];
  const mixer = (ch: number, l: number): Tally =>
    c.contextDim > 0 ? t.spatialTransformer(ch, c.contextDim, L, n(l)) : t.attnBlock(ch, n(l));

  t.linear(c.channels, E, 1).linear(E, E, 1); // the time MLP
  if (c.numClasses > 0) t.embedding(c.numClasses + 1, E);
  t.conv(c.inChannels, c.channels, 3, n(0));
  const skips = [c.channels];
  let ch = c.channels;
  for (let l = 0; l < levels; l++) {
    const out = c.channels * c.channelMult[l]!;
    for (let j = 0; j < c.numResBlocks; j++) {
      t.resBlock(ch, out, E, n(l));
      ch = out;
      if (c.attnLevels.includes(l)) mixer(ch, l);
      skips.push(ch);
    }
    if (l < levels - 1) {
      t.conv(ch, ch, 3, n(l + 1)); // Downsample
      skips.push(ch);
    }
  }
  t.resBlock(ch, ch, E, n(levels - 1));
  mixer(ch, levels - 1);
  t.resBlock(ch, ch, E, n(levels - 1));
  for (let l = levels - 1; l >= 0; l--) {
    const out = c.channels * c.channelMult[l]!;
    for (let j = 0; j <= c.numResBlocks; j++) {
      t.resBlock(ch + skips.pop()!, out, E, n(l));
      ch = out;
      if (c.attnLevels.includes(l)) mixer(ch, l);
    }
    if (l > 0) t.conv(ch, ch, 3, n(l - 1)); // Upsample to the next level's size
  }
  return t.groupNorm(ch).conv(ch, c.outChannels, 3, n(0));
}

export const countParameters = (c: UNetConfig): number => tallyUNet(c, 8).parameters;

/**
 * The architecture in one row (src/models/architecture.ts). FLOPs per image of H×W at one timestep (one network
 * evaluation; a sampler runs it once per step, twice with classifier-free guidance): every 3×3 and 1×1 conv over its
 * output map, the time MLP and each block's W_t once, the attention blocks' projections per position and their
 * q·kᵀ and α·v over every pair of positions (and, with cross-attention, the context's L tokens' k and v).
 */
export function describe(c: UNetConfig, size: number, title: string, contextLength = 0): Architecture {
  const t = tallyUNet(c, size, size, contextLength);
  const widths = c.channelMult.map((m) => m * c.channels).join("-");
  const attnAt = c.attnLevels.map((l) => `${Math.ceil(size / 2 ** l)}²`).join(", ");
  return {
    title,
    config:
      `${size}×${size}×${c.inChannels} input, widths ${widths}, ${c.numResBlocks} res block${c.numResBlocks > 1 ? "s" : ""} a level, attention at ` +
      `${attnAt || "the middle only"}` +
      (c.numClasses > 0 ? `, ${c.numClasses} classes + ∅` : "") +
      (c.contextDim > 0 ? `, context ${contextLength}×${c.contextDim}` : ""),
    parameters: t.parameters,
    layers: sortedKinds(t.kinds),
    normalization:
      "GroupNorm, before every conv of a residual block and every attention block" +
      (c.contextDim > 0 ? "; LayerNorm before each sublayer of the spatial transformers" : ""),
    positions:
      "the timestep: a sinusoidal embedding through an MLP, added in every residual block; pixels: none (convolutions)",
    attention:
      c.contextDim > 0
        ? `spatial transformers: self-attention over positions, then cross-attention to the text (${c.heads} heads)`
        : `self-attention over positions (${c.heads} head${c.heads > 1 ? "s" : ""}), at the listed sizes and the middle`,
    activation: "SiLU" + (c.contextDim > 0 ? "; GEGLU in the transformers' feed-forward" : ""),
    flops: {
      value: t.flops,
      per: "image",
      at: `${size}×${size}` + (c.contextDim > 0 ? `, ${contextLength} context tokens` : ""),
    },
  };
}

// =====================================================================================================
// Layers

/**
 * The sinusoidal timestep embedding (Vaswani et al. §3.5 applied to t; diffusers' get_timestep_embedding with
 * flip_sin_to_cos = True, downscale_freq_shift = 0, as SD and UNet2DModel use):
 *   f_i = exp(−ln(10000)·i/half), i = 0 … half−1;   emb(t) = [cos(t·f), sin(t·f)]   → (B, dim)
 */
export function timestepEmbedding(t: readonly number[], dim: number): Tensor {
  if (!Number.isInteger(dim) || dim < 2 || dim % 2 !== 0)
    throw new ArgumentError(`timestepEmbedding: dim must be an even integer ≥ 2, got ${dim}`);
  const half = dim / 2,
    B = t.length;
  const out = new Float32Array(B * dim);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < half; i++) {
      const arg = t[b]! * Math.exp((-Math.log(10000) * i) / half);
      out[b * dim + i] = Math.cos(arg);
      out[b * dim + half + i] = Math.sin(arg);
    }
  }
  return tensor(out, { shape: [B, dim] });
}

/** The time MLP: emb(t) (B, C₀) → Linear → SiLU → Linear → (B, E). */
export class TimeEmbedding extends Module {
  linear1: Linear;
  linear2: Linear;

  constructor(channels: number, dim: number, generator: Generator) {
    super();
    this.linear1 = new Linear(channels, dim, { generator });
    this.linear2 = new Linear(dim, dim, { generator });
  }

  forward(emb: Tensor): Tensor {
    return this.linear2.forward(F.silu(this.linear1.forward(emb))); // (B, E)
  }
}

/**
 * The residual block with the time embedding added between its two convolutions (Ho et al. appendix B):
 *   h = conv1(SiLU(GN(x))) + W_t·SiLU(temb);   y = skip(x) + conv2(dropout(SiLU(GN(h))))
 * skip is a 1×1 conv when the width changes.
 */
export class ResBlock extends Module {
  norm1: GroupNorm;
  conv1: Conv2d;
  timeProj: Linear | null;
  norm2: GroupNorm;
  conv2: Conv2d;
  skip: Conv2d | null;

  /** embDim 0: no time embedding (the VAE's blocks); eps: GroupNorm's (the VAE: 1e-6) */
  constructor(
    cin: number,
    cout: number,
    embDim: number,
    groups: number,
    readonly dropout: number,
    generator: Generator,
    eps = 1e-5,
  ) {
    super();
    this.norm1 = new GroupNorm(groups, cin, { eps });
    this.conv1 = new Conv2d(cin, cout, 3, { padding: 1, generator });
    this.timeProj = embDim > 0 ? new Linear(embDim, cout, { generator }) : null;
    this.norm2 = new GroupNorm(groups, cout, { eps });
    this.conv2 = new Conv2d(cout, cout, 3, { padding: 1, generator });
    this.skip = cin !== cout ? new Conv2d(cin, cout, 1, { generator }) : null;
  }

  forward(x: Tensor, temb?: Tensor): Tensor {
    let h = this.conv1.forward(F.silu(this.norm1.forward(x))); //                  (B, cout, H, W)
    const [B, C] = h.shape as [number, number];
    if (this.timeProj) {
      if (!temb) throw new ArgumentError("ResBlock: this block adds a time embedding (B, E); none was given");
      h = h.add(this.timeProj.forward(F.silu(temb)).reshape([B, C, 1, 1])); //     + W_t·SiLU(temb), broadcast over H, W
    }
    h = F.silu(this.norm2.forward(h));
    if (this.dropout > 0) h = F.dropout(h, this.dropout, this.training);
    h = this.conv2.forward(h); //                                                    (B, cout, H, W)
    return (this.skip ? this.skip.forward(x) : x).add(h);
  }
}

/**
 * Multi-head attention over positions: q from x (B, N, C), k and v from the context (B, L, D) (x itself for
 * self-attention).  y = softmax(q·kᵀ/√hs)·v, heads concatenated, then W_o.
 */
export class Attention extends Module {
  wq: Linear;
  wk: Linear;
  wv: Linear;
  wo: Linear;

  constructor(
    dim: number,
    contextDim: number,
    readonly heads: number,
    qkvBias: boolean,
    generator: Generator,
  ) {
    super();
    this.wq = new Linear(dim, dim, { bias: qkvBias, generator });
    this.wk = new Linear(contextDim, dim, { bias: qkvBias, generator });
    this.wv = new Linear(contextDim, dim, { bias: qkvBias, generator });
    this.wo = new Linear(dim, dim, { generator });
  }

  forward(x: Tensor, context: Tensor = x): Tensor {
    const [B, N, C] = x.shape as [number, number, number];
    const L = context.shape[1]!,
      nh = this.heads,
      hs = C / nh;
    const q = this.wq.forward(x).reshape([B, N, nh, hs]).transpose(1, 2); //       (B, nh, N, hs)
    const k = this.wk.forward(context).reshape([B, L, nh, hs]).transpose(1, 2); // (B, nh, L, hs)
    const v = this.wv.forward(context).reshape([B, L, nh, hs]).transpose(1, 2); // (B, nh, L, hs)
    const y = F.scaledDotProductAttention(q, k, v); //                              (B, nh, N, hs)
    return this.wo.forward(y.transpose(1, 2).reshape([B, N, C])); //                (B, N, C)
  }
}

/** (B, C, H, W) → (B, N, C) and back. */
const toTokens = (x: Tensor): Tensor => x.flatten(2, 3).transpose(1, 2);
const toMap = (x: Tensor, H: number, W: number): Tensor => x.transpose(1, 2).reshape([x.shape[0]!, x.shape[2]!, H, W]);

/** DDPM's attention block: y = x + W_o·Attention(GN(x)) over the H·W positions. */
export class AttnBlock extends Module {
  norm: GroupNorm;
  attn: Attention;

  constructor(channels: number, groups: number, heads: number, generator: Generator, eps = 1e-5) {
    super();
    this.norm = new GroupNorm(groups, channels, { eps });
    this.attn = new Attention(channels, channels, heads, true, generator);
  }

  forward(x: Tensor, _context?: Tensor): Tensor {
    const [, , H, W] = x.shape as [number, number, number, number];
    const h = toTokens(this.norm.forward(x)); //  (B, N, C)
    return x.add(toMap(this.attn.forward(h), H, W)); // (B, C, H, W)
  }
}

/** GEGLU (Shazeer 2020): [a, g] = W·x; y = a ⊙ GELU(g); then the down projection. inner = 4·C. */
export class FeedForward extends Module {
  up: Linear;
  down: Linear;

  constructor(dim: number, generator: Generator) {
    super();
    this.up = new Linear(dim, 8 * dim, { generator }); // both halves: a and the gate
    this.down = new Linear(4 * dim, dim, { generator });
  }

  forward(x: Tensor): Tensor {
    const [a, g] = this.up.forward(x).chunk(2, -1) as [Tensor, Tensor]; // (B, N, 4C) each
    return this.down.forward(a.mul(F.gelu(g))); //                          (B, N, C)
  }
}

/**
 * Latent diffusion's spatial transformer (Rombach et al. §3.3): GN, a linear projection to tokens, one
 * transformer block (pre-LN self-attention, cross-attention to the context, GEGLU feed-forward, each residual),
 * back to a map, plus the input.
 */
export class SpatialTransformer extends Module {
  norm: GroupNorm;
  projIn: Linear;
  norm1: LayerNorm;
  attn1: Attention;
  norm2: LayerNorm;
  attn2: Attention;
  norm3: LayerNorm;
  ff: FeedForward;
  projOut: Linear;

  constructor(channels: number, contextDim: number, groups: number, heads: number, generator: Generator) {
    super();
    this.norm = new GroupNorm(groups, channels, { eps: 1e-6 });
    this.projIn = new Linear(channels, channels, { generator });
    this.norm1 = new LayerNorm(channels);
    this.attn1 = new Attention(channels, channels, heads, false, generator);
    this.norm2 = new LayerNorm(channels);
    this.attn2 = new Attention(channels, contextDim, heads, false, generator);
    this.norm3 = new LayerNorm(channels);
    this.ff = new FeedForward(channels, generator);
    this.projOut = new Linear(channels, channels, { generator });
  }

  forward(x: Tensor, context?: Tensor): Tensor {
    if (!context) throw new ArgumentError("SpatialTransformer: a context (B, L, D) is required for cross-attention");
    const [, , H, W] = x.shape as [number, number, number, number];
    let h = this.projIn.forward(toTokens(this.norm.forward(x))); // (B, N, C)
    h = h.add(this.attn1.forward(this.norm1.forward(h))); //         self-attention
    h = h.add(this.attn2.forward(this.norm2.forward(h), context)); // cross-attention: k, v from the context (B, L, D)
    h = h.add(this.ff.forward(this.norm3.forward(h))); //            GEGLU feed-forward
    return x.add(toMap(this.projOut.forward(h), H, W)); //           (B, C, H, W)
  }
}

/**
 * Halve the map: a 3×3 conv of stride 2, padding 1 (H → ⌈H/2⌉). The VAE's pads only the right and bottom
 * by one (asymmetric), as diffusers' AutoencoderKL does: the same weights, a one-pixel shift of the grid.
 */
export class Downsample extends Module {
  conv: Conv2d;
  constructor(
    channels: number,
    generator: Generator,
    readonly asymmetric = false,
  ) {
    super();
    this.conv = new Conv2d(channels, channels, 3, { stride: 2, padding: asymmetric ? 0 : 1, generator });
  }
  forward(x: Tensor): Tensor {
    return this.conv.forward(this.asymmetric ? F.pad(x, [0, 1, 0, 1]) : x);
  }
}

/** Double the map: nearest-neighbour ×2, then a 3×3 conv. */
export class Upsample extends Module {
  conv: Conv2d;
  constructor(channels: number, generator: Generator) {
    super();
    this.conv = new Conv2d(channels, channels, 3, { padding: 1, generator });
  }
  forward(x: Tensor, size?: readonly [number, number]): Tensor {
    const up = size
      ? F.interpolate(x, { size: [size[0], size[1]], mode: "nearest" })
      : F.interpolate(x, { scaleFactor: 2, mode: "nearest" });
    return this.conv.forward(up);
  }
}

type Mixer = AttnBlock | SpatialTransformer;

/** One level of the down path: residual blocks (each with its attention), then the downsampling. */
export class DownLevel extends Module {
  res: ModuleList<ResBlock>;
  attn: ModuleList<Mixer>;
  down: Downsample | null;
  constructor(res: ResBlock[], attn: Mixer[], down: Downsample | null) {
    super();
    this.res = new ModuleList(res);
    this.attn = new ModuleList(attn);
    this.down = down;
  }
}

/** One level of the up path: residual blocks over [h, skip] (each with its attention), then the upsampling. */
export class UpLevel extends Module {
  res: ModuleList<ResBlock>;
  attn: ModuleList<Mixer>;
  up: Upsample | null;
  constructor(res: ResBlock[], attn: Mixer[], up: Upsample | null) {
    super();
    this.res = new ModuleList(res);
    this.attn = new ModuleList(attn);
    this.up = up;
  }
}

// =====================================================================================================
// Model

export interface UNetOptions {
  generator?: Generator;
}

export class UNet extends Module {
  readonly config: UNetConfig;
  time: TimeEmbedding;
  classEmb: Embedding | null;
  convIn: Conv2d;
  down: ModuleList<DownLevel>;
  midRes1: ResBlock;
  midAttn: Mixer;
  midRes2: ResBlock;
  up: ModuleList<UpLevel>;
  normOut: GroupNorm;
  convOut: Conv2d;

  constructor(config: UNetConfig, opts: UNetOptions = {}) {
    super();
    const c = (this.config = unetConfig(config));
    const g = opts.generator ?? defaultGenerator;
    const E = 4 * c.channels,
      levels = c.channelMult.length;
    const mixer = (ch: number): Mixer =>
      c.contextDim > 0
        ? new SpatialTransformer(ch, c.contextDim, c.groups, c.heads, g)
        : new AttnBlock(ch, c.groups, c.heads, g);
    this.time = new TimeEmbedding(c.channels, E, g);
    // DIFF(unconditional): K classes and ∅ (index K), the label dropped for classifier-free guidance
    this.classEmb = c.numClasses > 0 ? new Embedding(c.numClasses + 1, E, { generator: g }) : null;
    this.convIn = new Conv2d(c.inChannels, c.channels, 3, { padding: 1, generator: g });

    // the down path; `skips` lists the width of every map kept for the up path
    const skips = [c.channels];
    let ch = c.channels;
    const down: DownLevel[] = [];
    for (let l = 0; l < levels; l++) {
      const out = c.channels * c.channelMult[l]!,
        res: ResBlock[] = [],
        attn: Mixer[] = [];
      for (let j = 0; j < c.numResBlocks; j++) {
        res.push(new ResBlock(ch, out, E, c.groups, c.dropout, g));
        ch = out;
        if (c.attnLevels.includes(l)) attn.push(mixer(ch));
        skips.push(ch);
      }
      const last = l === levels - 1;
      down.push(new DownLevel(res, attn, last ? null : new Downsample(ch, g)));
      if (!last) skips.push(ch);
    }
    this.down = new ModuleList(down);
    this.midRes1 = new ResBlock(ch, ch, E, c.groups, c.dropout, g);
    this.midAttn = mixer(ch);
    this.midRes2 = new ResBlock(ch, ch, E, c.groups, c.dropout, g);

    const up: UpLevel[] = [];
    for (let l = levels - 1; l >= 0; l--) {
      const out = c.channels * c.channelMult[l]!,
        res: ResBlock[] = [],
        attn: Mixer[] = [];
      for (let j = 0; j <= c.numResBlocks; j++) {
        res.push(new ResBlock(ch + skips.pop()!, out, E, c.groups, c.dropout, g));
        ch = out;
        if (c.attnLevels.includes(l)) attn.push(mixer(ch));
      }
      up.push(new UpLevel(res, attn, l === 0 ? null : new Upsample(ch, g)));
    }
    this.up = new ModuleList(up);
    this.normOut = new GroupNorm(c.groups, ch, { eps: 1e-5 });
    this.convOut = new Conv2d(ch, c.outChannels, 3, { padding: 1, generator: g });
  }

  /**
   * x_t (B, C_in, H, W), t (B) integer timesteps, y (B) int32 class labels (K = ∅, no class; required when
   * numClasses > 0), context (B, L, D) for cross-attention → the prediction (B, C_out, H, W).
   */
  forward(x: Tensor, t: readonly number[], y?: Tensor | null, context?: Tensor | null): Tensor {
    const c = this.config;
    if (x.ndim !== 4 || x.shape[1] !== c.inChannels)
      throw new ShapeError(`UNet: expected x_t (B, ${c.inChannels}, H, W), got ${fmt(x.shape)}`);
    const B = x.shape[0]!;
    if (t.length !== B) throw new ShapeError(`UNet: ${t.length} timesteps for a batch of ${B}`);
    if (this.classEmb && (!y || y.ndim !== 1 || y.shape[0] !== B))
      throw new ShapeError(`UNet: class conditioning needs labels (${B}), got ${y ? fmt(y.shape) : "none"}`);
    if (
      c.contextDim > 0 &&
      (!context || context.ndim !== 3 || context.shape[0] !== B || context.shape[2] !== c.contextDim)
    ) {
      throw new ShapeError(
        `UNet: cross-attention needs a context (${B}, L, ${c.contextDim}), got ${context ? fmt(context.shape) : "none"}`,
      );
    }
    const ctx = context ?? undefined;
    // temb = MLP(emb(t)) + E_y[y]     (B, E)
    let temb = this.time.forward(timestepEmbedding(t, c.channels));
    if (this.classEmb) temb = temb.add(this.classEmb.forward(y!));

    let h = this.convIn.forward(x); // (B, C₀, H, W)
    const skips: Tensor[] = [h];
    for (const level of this.down) {
      level.res.children().forEach((_, j) => {
        h = level.res.at(j).forward(h, temb);
        if (level.attn.length) h = level.attn.at(j).forward(h, ctx);
        skips.push(h);
      });
      if (level.down) skips.push((h = level.down.forward(h))); // (B, C_l, ⌈H/2⌉, ⌈W/2⌉)
    }
    h = this.midRes2.forward(this.midAttn.forward(this.midRes1.forward(h, temb), ctx), temb);
    for (const level of this.up) {
      level.res.children().forEach((_, j) => {
        h = level.res.at(j).forward(cat([h, skips.pop()!], 1), temb); // [h, skip] on the channels
        if (level.attn.length) h = level.attn.at(j).forward(h, ctx);
      });
      if (level.up) {
        const next = skips[skips.length - 1]!; // upsample to the size of the skip it meets (7 → 14 → 28)
        h = level.up.forward(h, [next.shape[2]!, next.shape[3]!]);
      }
    }
    return this.convOut.forward(F.silu(this.normOut.forward(h))); // (B, C_out, H, W)
  }
}
