// ViT: the Vision Transformer — attention replacing convolution — sized for 28×28 digits.
//   Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale",
//   ICLR, https://arxiv.org/abs/2010.11929 (§3.1, eq. 1–4)
//
// The image is cut into N_p = (S/P)² patches of P×P pixels; each flattened patch is projected linearly
// to D channels (the patch embedding E), a learned class token is put in front, learned positions are
// added (eq. 1), and a pre-LN Transformer encoder of L blocks (eq. 2–3: x = x + MSA(LN(x)), x = x +
// MLP(LN(x))) mixes the N_p + 1 tokens; the class token's output, normalised, is the image's
// representation, and a Linear head classifies it (eq. 4). No convolution, no pooling: the only prior
// about images is the cutting into patches.
//
// Differences from the paper: the model is tiny (D 32, 2 blocks, 4 heads, P 4: 49 patches; ViT-Base: D
// 768, 12 blocks, 12 heads, P 16 at 224²) so as to have about the parameters of the small ResNets it is
// compared with; the head is one Linear (the paper: an MLP with one hidden layer when pretraining); no
// dropout (the paper: 0.1); positions N(0, 0.02²) as the reference code's, the class token likewise.
//
// Read top to bottom: config → layers (patch embedding, attention, MLP) → block → model → init → weight map.
//
// Vocabulary (shape comments): B batch, C input channels, S image side, P patch side, T = (S/P)² + 1
// tokens, D channels, nh heads, hs = D/nh, M the MLP's width, K classes.

import { noGrad } from "../../engine/autograd.js";
import { ShapeError } from "../../engine/errors.js";
import { configOf } from "../presets.js";
import { defaultGenerator, type Generator } from "../../engine/rng.js";
import { fmt } from "../../engine/shape.js";
import { tensor } from "../../engine/creation.js";
import type { Tensor } from "../../engine/tensor.js";
import * as F from "../../nn/functional.js";
import { Module, ModuleList, type Parameter } from "../../nn/module.js";
import { LayerNorm, Linear } from "../../nn/index.js";
import { param } from "../../nn/linear.js";
import { normal_ } from "../../nn/init.js";
import { cat } from "../../ops/shape.js";
import { linearFlops, sortedKinds, type Architecture } from "../architecture.js";

// =====================================================================================================
// Config

export interface ViTConfig {
  /** the side S of the (square) images */
  readonly imageSize: number;
  /** the side P of a patch; S must be a multiple of P */
  readonly patchSize: number;
  /** input channels C: 1 for MNIST */
  readonly inChannels: number;
  /** the width D of every token */
  readonly dim: number;
  /** encoder blocks L */
  readonly depth: number;
  /** attention heads nh; D must be a multiple */
  readonly heads: number;
  /** the MLP's hidden width M */
  readonly mlpDim: number;
  /** classes K */
  readonly numClasses: number;
}

/** A checked, frozen config: `vitConfig("vit-mnist")`. */
export function vitConfig(base: ViTConfig | keyof typeof PRESETS, overrides: Partial<ViTConfig> = {}): ViTConfig {
  return configOf("ViTConfig", PRESETS, base, overrides, {
    positive: ["imageSize", "patchSize", "inChannels", "dim", "depth", "heads", "mlpDim", "numClasses"],
    multiples: [
      ["imageSize", "patchSize"],
      ["dim", "heads"],
    ],
  });
}

export const PRESETS = Object.freeze({
  /** 28×28 digits in 49 patches of 4×4, D 32, 2 blocks of 4 heads, MLP 64: 19,466 parameters (ResNet-8 small: 19,810) */
  "vit-mnist": Object.freeze({
    imageSize: 28,
    patchSize: 4,
    inChannels: 1,
    dim: 32,
    depth: 2,
    heads: 4,
    mlpDim: 64,
    numClasses: 10,
  }),
  /** 16 patches of 7×7 (the coarser cut the digits allow), otherwise vit-mnist */
  "vit-mnist-p7": Object.freeze({
    imageSize: 28,
    patchSize: 7,
    inChannels: 1,
    dim: 32,
    depth: 2,
    heads: 4,
    mlpDim: 64,
    numClasses: 10,
  }),
} satisfies Record<string, ViTConfig>);

/** The patches N_p = (S/P)² and tokens T = N_p + 1. */
export const patchesOf = (c: ViTConfig): number => (c.imageSize / c.patchSize) ** 2;

/** The number of parameters, from the equations. */
export function countParameters(c: ViTConfig): number {
  const { dim: D, mlpDim: M } = c;
  const linear = (i: number, o: number): number => i * o + o;
  const ln = 2 * D; //                                                      γ, β
  const embed = linear(c.inChannels * c.patchSize ** 2, D) + D + (patchesOf(c) + 1) * D; // E, x_class, E_pos
  const block = ln + 4 * linear(D, D) + ln + linear(D, M) + linear(M, D); // LN, wq wk wv wo, LN, up, down
  return embed + c.depth * block + ln + linear(D, c.numClasses);
}

/**
 * The architecture row. FLOPs per image: the patch embedding (N_p products of P²C → D), per block the four
 * projections and the MLP on T tokens and attention's q·kᵀ and α·v (T × T pairs of D channels each), the head.
 */
export function describe(c: ViTConfig): Architecture {
  const { dim: D, mlpDim: M } = c;
  const Np = patchesOf(c),
    T = Np + 1;
  const block = T * (4 * linearFlops(D, D) + linearFlops(D, M) + linearFlops(M, D)) + 2 * T * T * (D + D);
  return {
    title: "ViT",
    config: `${c.imageSize}×${c.imageSize}×${c.inChannels} in ${Np} patches of ${c.patchSize}×${c.patchSize}, D ${D}, ${c.depth} blocks, ${c.heads} heads, MLP ${M}, ${c.numClasses} classes`,
    parameters: countParameters(c),
    layers: sortedKinds({ [Linear.name]: 1 + 6 * c.depth + 1, [LayerNorm.name]: 2 * c.depth + 1, [ViT.name]: 1 }),
    normalization: `${LayerNorm.name}, pre-LN (before attention and MLP), and one after the last block`,
    positions: `learned absolute, ${T} positions (the class token and ${Np} patches)`,
    attention: `multi-head self-attention, ${c.heads} heads of ${D / c.heads}, between all ${T} tokens (bidirectional)`,
    activation: "GELU (the erf form)",
    flops: {
      value: Np * linearFlops(c.inChannels * c.patchSize ** 2, D) + c.depth * block + linearFlops(D, c.numClasses),
      per: "image",
      at: `${c.imageSize}×${c.imageSize}`,
    },
  };
}

// =====================================================================================================
// Layers

/**
 * Images → patches: (B, C, S, S) → (B, N_p, C·P·P), the patches in row-major order, each flattened as
 * (c, i, j) — the order of a Conv2d(C, D, P, stride P)'s weight, so E may be read as that convolution.
 */
export function patchify(x: Tensor, P: number): Tensor {
  const [B, C, H, W] = x.shape as [number, number, number, number];
  const gh = H / P,
    gw = W / P;
  return x
    .reshape([B, C, gh, P, gw, P])
    .permute(0, 2, 4, 1, 3, 5)
    .reshape([B, gh * gw, C * P * P]); // (B, N_p, C·P·P)
}

/** Multi-head self-attention (eq. 2's MSA): every token attends to every token, no mask. */
export class SelfAttention extends Module {
  readonly nHead: number;
  wq: Linear;
  wk: Linear;
  wv: Linear;
  wo: Linear;

  constructor(c: ViTConfig, generator: Generator) {
    super();
    this.nHead = c.heads;
    this.wq = new Linear(c.dim, c.dim, { generator });
    this.wk = new Linear(c.dim, c.dim, { generator });
    this.wv = new Linear(c.dim, c.dim, { generator });
    this.wo = new Linear(c.dim, c.dim, { generator });
  }

  forward(x: Tensor): Tensor {
    const [B, T, D] = x.shape as [number, number, number]; // x (B, T, D)
    const nh = this.nHead,
      hs = D / nh;
    const q = this.wq.forward(x).view(B, T, nh, hs); // (B, T, nh, hs)
    const k = this.wk.forward(x).view(B, T, nh, hs); // (B, T, nh, hs)
    const v = this.wv.forward(x).view(B, T, nh, hs); // (B, T, nh, hs)
    // y = softmax(q·kᵀ/√hs)·v per head, over all T tokens
    const y = F.scaledDotProductAttention(q, k, v, { layout: "BTHE" }); // (B, T, nh, hs)
    return this.wo.forward(y.reshape([B, T, D])); //                     (B, T, D)
  }

  /** The attention probabilities A (B, nh, T, T) of each head, for the pictures (rollout). */
  probabilities(x: Tensor): Tensor {
    const [B, T, D] = x.shape as [number, number, number];
    const nh = this.nHead,
      hs = D / nh;
    const q = this.wq.forward(x).view(B, T, nh, hs).transpose(1, 2); // (B, nh, T, hs)
    const k = this.wk.forward(x).view(B, T, nh, hs).transpose(1, 2); // (B, nh, T, hs)
    return F.softmax(q.matmul(k.transpose(2, 3)).mul(1 / Math.sqrt(hs)), -1); // (B, nh, T, T)
  }
}

/** The MLP (eq. 3): two layers with a GELU between. */
export class MLP extends Module {
  up: Linear;
  down: Linear;

  constructor(c: ViTConfig, generator: Generator) {
    super();
    this.up = new Linear(c.dim, c.mlpDim, { generator });
    this.down = new Linear(c.mlpDim, c.dim, { generator });
  }

  forward(x: Tensor): Tensor {
    return this.down.forward(F.gelu(this.up.forward(x))); // (B, T, M) → (B, T, D)
  }
}

// =====================================================================================================
// Block

/** A pre-LN encoder block. */
export class Block extends Module {
  norm1: LayerNorm;
  attn: SelfAttention;
  norm2: LayerNorm;
  mlp: MLP;

  constructor(c: ViTConfig, generator: Generator) {
    super();
    this.norm1 = new LayerNorm(c.dim, { eps: 1e-6 });
    this.attn = new SelfAttention(c, generator);
    this.norm2 = new LayerNorm(c.dim, { eps: 1e-6 });
    this.mlp = new MLP(c, generator);
  }

  forward(x: Tensor): Tensor {
    // z'_ℓ = MSA(LN(z_{ℓ−1})) + z_{ℓ−1}                                    (eq. 2)
    x = x.add(this.attn.forward(this.norm1.forward(x))); // (B, T, D)
    // z_ℓ = MLP(LN(z'_ℓ)) + z'_ℓ                                           (eq. 3)
    x = x.add(this.mlp.forward(this.norm2.forward(x))); //  (B, T, D)
    return x;
  }
}

// =====================================================================================================
// Model

export interface ViTOptions {
  /** the source of the initial weights (default: the library's default generator, seeded by manualSeed) */
  generator?: Generator;
}

export class ViT extends Module {
  readonly config: ViTConfig;
  patchEmbed: Linear;
  clsToken: Parameter;
  posEmbed: Parameter;
  blocks: ModuleList<Block>;
  normF: LayerNorm;
  head: Linear;

  constructor(config: ViTConfig, opts: ViTOptions = {}) {
    super();
    const c = (this.config = vitConfig(config));
    const generator = opts.generator ?? defaultGenerator;
    this.patchEmbed = new Linear(c.inChannels * c.patchSize ** 2, c.dim, { generator }); // E
    this.clsToken = param([1, 1, c.dim]); //                                                x_class
    this.posEmbed = param([1, patchesOf(c) + 1, c.dim]); //                                 E_pos
    this.blocks = new ModuleList(Array.from({ length: c.depth }, () => new Block(c, generator)));
    this.normF = new LayerNorm(c.dim, { eps: 1e-6 });
    this.head = new Linear(c.dim, c.numClasses, { generator });
    this.initWeights(generator);
  }

  /** The tokens z_0 (B, T, D) of images x (B, C, S, S). */
  embed(x: Tensor): Tensor {
    const c = this.config;
    if (x.ndim !== 4 || x.shape[1] !== c.inChannels || x.shape[2] !== c.imageSize || x.shape[3] !== c.imageSize) {
      throw new ShapeError(
        `ViT: expected images (B, ${c.inChannels}, ${c.imageSize}, ${c.imageSize}), got ${fmt(x.shape)}`,
      );
    }
    const B = x.shape[0]!;
    const patches = this.patchEmbed.forward(patchify(x, c.patchSize)); // x_p E      (B, N_p, D)
    const cls = this.clsToken.expand([B, 1, c.dim]); //                  x_class    (B, 1, D)
    // z_0 = [x_class; x_p¹E; …; x_p^N E] + E_pos                                    (eq. 1)
    return cat([cls, patches], 1).add(this.posEmbed); //                             (B, T, D)
  }

  /** x (B, C, S, S) → logits (B, K). */
  forward(x: Tensor): Tensor {
    let z = this.embed(x); //                                  (B, T, D)
    for (const block of this.blocks) z = block.forward(z); //  (B, T, D)
    // y = LN(z_L⁰): the class token's output                 (eq. 4)
    const y = this.normF.forward(z.narrow(1, 0, 1).squeeze(1)); // (B, D)
    return this.head.forward(y); //                           (B, K)
  }

  /** Every block's attention probabilities (B, nh, T, T), for the rollout picture. */
  attentionMaps(x: Tensor): Tensor[] {
    const maps: Tensor[] = [];
    let z = this.embed(x);
    for (const block of this.blocks) {
      maps.push(block.attn.probabilities(block.norm1.forward(z)));
      z = block.forward(z);
    }
    return maps;
  }

  // ===================================================================================================
  // Init

  /**
   * The reference code's: the class token and the positions N(0, 0.02²); Linear layers keep PyTorch's
   * default U(±1/√fan_in) (the reference code: Xavier-uniform, the head zero); LayerNorm γ = 1, β = 0.
   */
  private initWeights(generator: Generator): void {
    noGrad(() => {
      normal_(this.clsToken, 0, 0.02, { generator });
      normal_(this.posEmbed, 0, 0.02, { generator });
    });
  }
}

/**
 * Attention rollout (Abnar & Zuidema 2020, https://arxiv.org/abs/2005.00928): with each block's attention
 * averaged over heads and the residual added, Ã_ℓ = ½(Ā_ℓ + I) (rows sum to 1), R = Ã_L ⋯ Ã_1; row 0 of R
 * says how much each input token flows into the class token. Returns (B, N_p), the patches' part of row 0.
 */
export function rollout(maps: readonly Tensor[]): Tensor {
  const [B, , T] = maps[0]!.shape as [number, number, number, number];
  const eye = new Float32Array(T * T);
  for (let i = 0; i < T; i++) eye[i * T + i] = 1;
  const I = tensor(eye, { shape: [T, T] }); //                              (T, T)
  let r: Tensor | null = null;
  for (const a of maps) {
    const at = a.mean(1).add(I).mul(0.5); //   Ã = ½(Ā + I)                 (B, T, T)
    r = r ? at.matmul(r) : at; //              R = Ã_ℓ · R                  (B, T, T)
  }
  return r!
    .narrow(1, 0, 1)
    .narrow(2, 1, T - 1)
    .reshape([B, T - 1]); //     (B, N_p)
}

// =====================================================================================================
// Weight map: ours ↔ timm's VisionTransformer (vision_transformer.py), the reference implementation most
// checkpoints use. Transposes: none; timm fuses wq, wk, wv into one qkv Linear (concatenate the rows), and
// its patch embedding is a Conv2d (D, C, P, P): our E is that weight reshaped to (D, C·P·P) (patchify's order).
//
// | ours                          | timm                                  |
// |-------------------------------|---------------------------------------|
// | patchEmbed.weight / .bias     | patch_embed.proj.weight (reshaped) / .bias |
// | clsToken                      | cls_token                             |
// | posEmbed                      | pos_embed                             |
// | blocks.{l}.norm1.*            | blocks.{l}.norm1.*                    |
// | blocks.{l}.attn.w{q,k,v}.*    | blocks.{l}.attn.qkv.* (rows q, k, v)  |
// | blocks.{l}.attn.wo.*          | blocks.{l}.attn.proj.*                |
// | blocks.{l}.norm2.*            | blocks.{l}.norm2.*                    |
// | blocks.{l}.mlp.up.*           | blocks.{l}.mlp.fc1.*                  |
// | blocks.{l}.mlp.down.*         | blocks.{l}.mlp.fc2.*                  |
// | normF.*                       | norm.*                                |
// | head.*                        | head.*                                |
