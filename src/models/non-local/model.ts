// Non-local ResNet: a self-attention block between all places of a feature map, in the small ResNet.
//   Wang, Girshick, Gupta, He 2018, "Non-local Neural Networks", CVPR, https://arxiv.org/abs/1711.07971
//     (§3.1: y_i = (1/C(x)) Σ_j f(x_i, x_j) g(x_j); §3.2: the embedded-Gaussian f is a softmax, "self-attention")
//   Zhang, Goodfellow, Metaxas, Odena 2019, "Self-Attention Generative Adversarial Networks", ICML,
//     https://arxiv.org/abs/1805.08318 (§3, eq. 1–3: the form written here, with the gate γ starting at 0)
//
// Every place j of a map x (C channels, N_p = H·W places) attends to every place i: with three 1×1
// convolutions f, g, h to C̄ channels, β_{j,i} = softmax_i(f(x_i)ᵀ g(x_j)) (eq. 1), the attended values
// o_j = v(Σ_i β_{j,i} h(x_i)) with a fourth 1×1 convolution v back to C channels (eq. 2), and the block's
// output y_i = γ·o_i + x_i (eq. 3) with a learned scalar γ that starts at 0: a fresh block is the
// identity, and the network first learns on the local (convolutional) evidence, then lets the attention
// in. Unlike SE-Net and CBAM (which gate a block's maps), the block sits between the parent's residual
// blocks: after the stages listed in `nonLocal` (the preset: after stage 2, on the 14×14 map — 196 places;
// Wang et al. put theirs in res3/res4 of a ResNet-50, SAGAN at the 32² and 64² maps of its generator).
//
// Differences from the papers: the parent's small MNIST ResNet; C̄ = C/2 (SAGAN: C/8, at 256+ channels;
// Wang et al.: C/2); no scaling of the scores (neither paper scales them); no spectral norm (SAGAN's,
// for GAN training), no max-pool subsampling of f, h (SAGAN's later code, Wang et al.'s "subsampling").
//
// Read top to bottom: config → layers (the non-local block) → model → describe → weight map.
//
// Vocabulary (shape comments): N batch, C channels, H W the map's side, P = H·W places, C̄ = max(1, ⌊C/r⌋).

import { noGrad } from "../../engine/autograd.js";
import { configOf } from "../presets.js";
import type { Generator } from "../../engine/rng.js";
import type { Tensor } from "../../engine/tensor.js";
import * as F from "../../nn/functional.js";
import { Module, type Parameter } from "../../nn/module.js";
import { Conv2d, type UnaryModule } from "../../nn/index.js";
import { param } from "../../nn/linear.js";
import { zeros_ } from "../../nn/init.js";
import { convFlops, sortedKinds, type Architecture } from "../architecture.js";
import * as resnet from "../resnet/model.js";
import { ResNet, stageSides, type ResNetConfig } from "../resnet/model.js";

// =====================================================================================================
// Config

export interface NonLocalResNetConfig extends ResNetConfig {
  /** the stages (counted from 0) after whose blocks a non-local block sits */
  readonly nonLocal: readonly number[];
  /** C̄ = max(1, ⌊C/reduction⌋): the channels of f, g, h */
  readonly reduction: number;
}

/** A checked, frozen config: `nonLocalResNetConfig("nonlocal-resnet")`. */
export function nonLocalResNetConfig(
  base: NonLocalResNetConfig | keyof typeof PRESETS,
  overrides: Partial<NonLocalResNetConfig> = {},
): NonLocalResNetConfig {
  const c = configOf("NonLocalResNetConfig", PRESETS, base, overrides, {
    positive: ["reduction"],
    also: (c) => {
      const stages = resnet.resnetConfig(c).widths.length;
      const ok =
        Array.isArray(c.nonLocal) &&
        c.nonLocal.length > 0 &&
        c.nonLocal.every((s, i) => Number.isInteger(s) && s >= 0 && s < stages && (i === 0 || s > c.nonLocal[i - 1]!));
      return ok
        ? undefined
        : `nonLocal must list stages 0…${stages - 1} in increasing order, got ${JSON.stringify(c.nonLocal)}`;
    },
  });
  return Object.freeze({ ...resnet.resnetConfig(c), nonLocal: Object.freeze([...c.nonLocal]), reduction: c.reduction });
}

export const PRESETS = Object.freeze({
  /** resnet-mnist-small (ResNet-8, widths 8, 16, 32) with one non-local block after stage 2 (14×14, C̄ = 8): 20,363 parameters */
  "nonlocal-resnet": Object.freeze({
    ...resnet.PRESETS["resnet-mnist-small"],
    nonLocal: Object.freeze([1]),
    reduction: 2,
  }),
} satisfies Record<string, NonLocalResNetConfig>);

/** C̄ for C channels. */
export const innerOf = (channels: number, reduction: number): number => Math.max(1, Math.floor(channels / reduction));

/** The parent's, plus per non-local block: f, g, h (C̄, C, 1, 1) with biases (C̄), v (C, C̄, 1, 1) with bias (C), and γ. */
export function countParameters(c: NonLocalResNetConfig): number {
  const block = (C: number, Cb: number): number => 3 * (Cb * C + Cb) + (C * Cb + C) + 1;
  return (
    resnet.countParameters(c) +
    c.nonLocal.reduce((n, s) => n + block(c.widths[s]!, innerOf(c.widths[s]!, c.reduction)), 0)
  );
}

/** The parent's row with the non-local blocks' four 1×1 convolutions and their attention (P queries × P keys) added. */
export function describe(c: NonLocalResNetConfig, imageSize = 28): Architecture {
  const parent = resnet.describe(c, imageSize);
  const sides = stageSides(c, imageSize);
  let flops = 0;
  for (const s of c.nonLocal) {
    const C = c.widths[s]!,
      Cb = innerOf(C, c.reduction),
      side = sides[s]!,
      P = side * side;
    flops += 3 * convFlops(C, Cb, 1, side) + convFlops(Cb, C, 1, side); // f, g, h; v
    flops += 2 * P * P * (Cb + Cb); //                                     f(x)ᵀg(x) and β·h(x)
  }
  const where = c.nonLocal.map((s) => `${sides[s]}×${sides[s]} (after stage ${s + 1})`).join(", ");
  return {
    ...parent,
    title: `Non-local ${parent.title}`,
    config: `${parent.config}, non-local after stage ${c.nonLocal.map((s) => s + 1).join(", ")}, C̄ = C/${c.reduction}`,
    parameters: countParameters(c),
    layers: sortedKinds({
      ...parent.layers,
      [Conv2d.name]: parent.layers[Conv2d.name]! + 4 * c.nonLocal.length,
      [NonLocalBlock.name]: c.nonLocal.length,
    }),
    attention: `self-attention between all places of the map, 1 head, unscaled dot products, gated residual γ (starts at 0): ${where}`,
    flops: { ...parent.flops, value: parent.flops.value + flops },
  };
}

// =====================================================================================================
// Layers: the non-local block (SAGAN's self-attention module, fig. 2)

export class NonLocalBlock extends Module {
  f: Conv2d;
  g: Conv2d;
  h: Conv2d;
  v: Conv2d;
  gamma: Parameter;

  constructor(channels: number, reduction: number, generator: Generator) {
    super();
    const Cb = innerOf(channels, reduction);
    this.f = new Conv2d(channels, Cb, 1, { generator }); // W_f ∈ ℝ^{C̄×C}
    this.g = new Conv2d(channels, Cb, 1, { generator }); // W_g ∈ ℝ^{C̄×C}
    this.h = new Conv2d(channels, Cb, 1, { generator }); // W_h ∈ ℝ^{C̄×C}
    this.v = new Conv2d(Cb, channels, 1, { generator }); // W_v ∈ ℝ^{C×C̄}
    this.gamma = param([1]); // γ, a scalar
    noGrad(() => zeros_(this.gamma)); // γ = 0: the block starts as the identity
  }

  /** The places as a sequence: (N, C', H, W) → (N, P, 1, C'), one head, in the "BTHE" layout. */
  private places(t: Tensor): Tensor {
    const [N, Cp, H, W] = t.shape as [number, number, number, number];
    return t
      .reshape([N, Cp, H * W])
      .transpose(1, 2)
      .reshape([N, H * W, 1, Cp]); // (N, P, 1, C')
  }

  forward(x: Tensor): Tensor {
    const [N, , H, W] = x.shape as [number, number, number, number];
    const q = this.places(this.g.forward(x)); // g(x_j), the queries  (N, P, 1, C̄)
    const k = this.places(this.f.forward(x)); // f(x_i), the keys     (N, P, 1, C̄)
    const val = this.places(this.h.forward(x)); // h(x_i)              (N, P, 1, C̄)
    // s_ij = f(x_i)ᵀ g(x_j),  β_{j,i} = exp(s_ij) / Σ_i exp(s_ij)       (eq. 1)
    // Σ_i β_{j,i} h(x_i)                                                 (eq. 2, inside v)
    const a = F.scaledDotProductAttention(q, k, val, { scale: 1, layout: "BTHE" }); // (N, P, 1, C̄)
    const Cb = a.shape[3]!;
    const o = this.v.forward(
      a
        .reshape([N, H * W, Cb])
        .transpose(1, 2)
        .reshape([N, Cb, H, W]),
    ); // o = v(…) (N, C, H, W)
    // y_i = γ·o_i + x_i                                                  (eq. 3)
    return o.mul(this.gamma).add(x); // (N, C, H, W)
  }

  /** β (N, P, P): row j is where place j looks (row-major places), for the pictures. */
  attention(x: Tensor): Tensor {
    const q = this.places(this.g.forward(x)).squeeze(2); // (N, P, C̄)
    const k = this.places(this.f.forward(x)).squeeze(2); // (N, P, C̄)
    return F.softmax(q.matmul(k.transpose(1, 2)), -1); //  (N, P, P)
  }
}

// =====================================================================================================
// Model

export class NonLocalResNet extends ResNet {
  declare readonly config: NonLocalResNetConfig;

  constructor(config: NonLocalResNetConfig, opts: resnet.ResNetOptions = {}) {
    super(nonLocalResNetConfig(config), opts);
  }

  /** DIFF(resnet): a non-local block after the blocks of the stages the config lists. */
  protected override afterStage(stage: number, width: number, generator: Generator): UnaryModule[] {
    return this.config.nonLocal.includes(stage) ? [new NonLocalBlock(width, this.config.reduction, generator)] : [];
  }

  /** The attention β (N, P, P) of each non-local block for a batch, and the side of its map. */
  attentionMaps(x: Tensor): { side: number; beta: Tensor }[] {
    const out: { side: number; beta: Tensor }[] = [];
    let h = F.relu(this.stemNorm.forward(this.stem.forward(x))); // (N, w_1, S, S)
    for (const stage of this.stages) {
      for (const m of stage) {
        if (m instanceof NonLocalBlock) out.push({ side: h.shape[2]!, beta: m.attention(h) });
        h = m.forward(h);
      }
    }
    return out;
  }
}

// Init: the parent's He-normal for every convolution (f, g, h, v too; their biases keep PyTorch's default
// U(±1/√fan_in)), BN γ = 1, β = 0; the non-local gate γ = 0.

// =====================================================================================================
// Weight map: the parent's names (src/models/resnet/model.ts); a non-local block is the last module of
// its stage's Sequential (stages.{s}.{n} with n = the stage's block count). No transposes.
//
// | ours                          | SAGAN (eq. 1–3)     | Wang et al. (fig. 2, embedded Gaussian) |
// |-------------------------------|---------------------|-----------------------------------------|
// | stages.{s}.{n}.f.{weight,bias} | W_f (key)          | φ                                       |
// | stages.{s}.{n}.g.{weight,bias} | W_g (query)        | θ                                       |
// | stages.{s}.{n}.h.{weight,bias} | W_h (value)        | g                                       |
// | stages.{s}.{n}.v.{weight,bias} | W_v                | W_z                                     |
// | stages.{s}.{n}.gamma           | γ                  | (BN after W_z, its scale initialised 0) |
