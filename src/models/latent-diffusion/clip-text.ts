// CLIP's text encoder (the transformer Stable Diffusion v1 conditions on; CLIPTextModel).
//   Radford et al. 2021, "Learning Transferable Visual Models From Natural Language Supervision",
//   https://arxiv.org/abs/2103.00020 (§2.4: a 12-layer, 512-wide GPT-2-style Transformer with a causal mask; the
//   activations of the highest layer at the [EOS] token, layer-normalised, represent the text)
//
// Pre-LN blocks as GPT-2's, with learned positions, QuickGELU (x·σ(1.702·x)) in the MLP, a final LayerNorm; the
// output is every token's state (what SD's cross-attention reads) and the pooled state at the end-of-text
// token, the highest id of the vocabulary, found as the argmax of the ids (as CLIP's reference does).
//
// Differences from GPT-2 (src/models/gpt2): DIFF(gpt2) QuickGELU instead of tanh-GELU; no LM head; the pooled output.
//
// Vocabulary (shape comments): B batch, T tokens, D width, nh heads, hs = D/nh, V vocabulary.

import { ShapeError } from "../../engine/errors.js";
import { defaultGenerator, type Generator } from "../../engine/rng.js";
import { fmt } from "../../engine/shape.js";
import { arange } from "../../engine/creation.js";
import type { Tensor } from "../../engine/tensor.js";
import * as F from "../../nn/functional.js";
import { Module, ModuleList } from "../../nn/module.js";
import { Embedding, LayerNorm, Linear } from "../../nn/index.js";
import { configOf } from "../presets.js";
import { linearFlops, sortedKinds, type Architecture } from "../architecture.js";

// =====================================================================================================
// Config

export interface CLIPTextConfig {
  readonly vocabSize: number;
  /** the longest text in tokens (SD: 77) */
  readonly maxPositions: number;
  readonly width: number;
  readonly layers: number;
  readonly heads: number;
  /** the MLP's hidden width (4·D) */
  readonly mlpWidth: number;
}

export const CLIP_PRESETS = Object.freeze({
  /** CLIP ViT-L/14's text encoder, which Stable Diffusion v1 uses: 123,060,480 parameters */
  "clip-vit-l-14-text": Object.freeze({
    vocabSize: 49408,
    maxPositions: 77,
    width: 768,
    layers: 12,
    heads: 12,
    mlpWidth: 3072,
  }),
} satisfies Record<string, CLIPTextConfig>);

export function clipTextConfig(
  base: CLIPTextConfig | keyof typeof CLIP_PRESETS,
  overrides: Partial<CLIPTextConfig> = {},
): CLIPTextConfig {
  return configOf("CLIPTextConfig", CLIP_PRESETS, base, overrides, {
    positive: ["vocabSize", "maxPositions", "width", "layers", "heads", "mlpWidth"],
    multiples: [["width", "heads"]],
  });
}

/** Token and position embeddings; per block two LayerNorms, q, k, v, o and the MLP (all with biases); the final norm. */
export function countParameters(c: CLIPTextConfig): number {
  const D = c.width,
    perBlock = 2 * 2 * D + 4 * (D * D + D) + (D * c.mlpWidth + c.mlpWidth) + (c.mlpWidth * D + D);
  return (c.vocabSize + c.maxPositions) * D + c.layers * perBlock + 2 * D;
}

/**
 * The architecture in one row (src/models/architecture.ts). FLOPs per token of a T-token text, per block:
 * q, k, v, o 4·2·D², q·kᵀ and α·v 2·2·T·D (every key counted, the causal mask as the kernels see it), the MLP 2·2·D·M.
 */
export function describe(c: CLIPTextConfig, title: string, T = c.maxPositions): Architecture {
  const D = c.width;
  return {
    title,
    config: `${c.layers} layers, ${c.heads} heads, D ${D}, MLP ${c.mlpWidth}, context ${c.maxPositions}, V ${c.vocabSize}`,
    parameters: countParameters(c),
    layers: sortedKinds({
      [Embedding.name]: 2,
      [LayerNorm.name]: 2 * c.layers + 1,
      [Linear.name]: 6 * c.layers,
    }),
    normalization: "LayerNorm, pre-LN in every block and after the last",
    positions: `learned absolute, ${c.maxPositions} positions`,
    attention: `causal multi-head self-attention, ${c.heads} heads`,
    activation: "QuickGELU, x·σ(1.702·x)",
    flops: {
      value: c.layers * (4 * linearFlops(D, D) + 4 * T * D + 2 * linearFlops(D, c.mlpWidth)),
      per: "token",
      at: `context ${T}`,
    },
  };
}

// =====================================================================================================
// Layers and block

/** QuickGELU: x·σ(1.702·x), the approximation CLIP was trained with. */
export const quickGelu = (x: Tensor): Tensor => x.mul(x.mul(1.702).sigmoid());

export class CausalSelfAttention extends Module {
  wq: Linear;
  wk: Linear;
  wv: Linear;
  wo: Linear;
  constructor(
    d: number,
    readonly heads: number,
    g: Generator,
  ) {
    super();
    this.wq = new Linear(d, d, { generator: g });
    this.wk = new Linear(d, d, { generator: g });
    this.wv = new Linear(d, d, { generator: g });
    this.wo = new Linear(d, d, { generator: g });
  }
  forward(x: Tensor): Tensor {
    const [B, T, D] = x.shape as [number, number, number];
    const nh = this.heads,
      hs = D / nh;
    const q = this.wq.forward(x).reshape([B, T, nh, hs]).transpose(1, 2); // (B, nh, T, hs)
    const k = this.wk.forward(x).reshape([B, T, nh, hs]).transpose(1, 2); // (B, nh, T, hs)
    const v = this.wv.forward(x).reshape([B, T, nh, hs]).transpose(1, 2); // (B, nh, T, hs)
    const y = F.scaledDotProductAttention(q, k, v, { isCausal: true }); //   (B, nh, T, hs)
    return this.wo.forward(y.transpose(1, 2).reshape([B, T, D])); //        (B, T, D)
  }
}

export class MLP extends Module {
  up: Linear;
  down: Linear;
  constructor(d: number, hidden: number, g: Generator) {
    super();
    this.up = new Linear(d, hidden, { generator: g });
    this.down = new Linear(hidden, d, { generator: g });
  }
  forward(x: Tensor): Tensor {
    return this.down.forward(quickGelu(this.up.forward(x))); // DIFF(gpt2): QuickGELU
  }
}

export class Block extends Module {
  norm1: LayerNorm;
  attn: CausalSelfAttention;
  norm2: LayerNorm;
  mlp: MLP;
  constructor(c: CLIPTextConfig, g: Generator) {
    super();
    this.norm1 = new LayerNorm(c.width);
    this.attn = new CausalSelfAttention(c.width, c.heads, g);
    this.norm2 = new LayerNorm(c.width);
    this.mlp = new MLP(c.width, c.mlpWidth, g);
  }
  forward(x: Tensor): Tensor {
    x = x.add(this.attn.forward(this.norm1.forward(x)));
    x = x.add(this.mlp.forward(this.norm2.forward(x)));
    return x;
  }
}

// =====================================================================================================
// Model

export class CLIPTextModel extends Module {
  readonly config: CLIPTextConfig;
  tokenEmb: Embedding;
  posEmb: Embedding;
  blocks: ModuleList<Block>;
  normF: LayerNorm;

  constructor(config: CLIPTextConfig, opts: { generator?: Generator } = {}) {
    super();
    const c = (this.config = clipTextConfig(config));
    const g = opts.generator ?? defaultGenerator;
    this.tokenEmb = new Embedding(c.vocabSize, c.width, { generator: g });
    this.posEmb = new Embedding(c.maxPositions, c.width, { generator: g });
    this.blocks = new ModuleList(Array.from({ length: c.layers }, () => new Block(c, g)));
    this.normF = new LayerNorm(c.width);
  }

  /** ids (B, T) int32 → every token's state (B, T, D) and the pooled state at the end-of-text token (B, D). */
  forward(ids: Tensor): { hidden: Tensor; pooled: Tensor } {
    const c = this.config;
    if (ids.ndim !== 2 || ids.dtype !== "int32" || ids.shape[1]! > c.maxPositions || ids.shape[1]! < 1) {
      throw new ShapeError(
        `CLIPTextModel: expected int32 ids (B, T) with 1 ≤ T ≤ ${c.maxPositions}, got ${ids.dtype} ${fmt(ids.shape)}`,
      );
    }
    const [B, T] = ids.shape as [number, number];
    let x = this.tokenEmb.forward(ids).add(this.posEmb.forward(arange(0, T, 1, { dtype: "int32" }))); // (B, T, D)
    for (const block of this.blocks) x = block.forward(x);
    const hidden = this.normF.forward(x); // (B, T, D)
    // pooled_b = hidden[b, argmax_t ids[b, t]]   (the end-of-text token has the highest id)
    const eos = ids.argmax(1); //                                                  (B)
    const rows = arange(0, B, 1, { dtype: "int32" }).mul(T).add(eos).int(); //    b·T + eos_b
    const pooled = hidden.reshape([B * T, c.width]).indexSelect(0, rows); //       (B, D)
    return { hidden, pooled };
  }
}
