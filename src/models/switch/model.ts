// Switch GPT: GPT-2 with a Switch mixture of experts in place of the MLP of every block — the sparse
// decoder of the dense-vs-sparse comparison (`wnn train moe-compare`).
//   Fedus, Zoph & Shazeer 2021, "Switch Transformers: Scaling to Trillion Parameter Models with Simple and
//     Efficient Sparsity", https://arxiv.org/abs/2101.03961 (top-1 routing, capacity factor, dropped tokens,
//     the load-balancing loss α·N·Σᵢ fᵢ·Pᵢ with α = 10⁻²)
//   Zoph et al. 2022, "ST-MoE", https://arxiv.org/abs/2202.08906 (the router z-loss, coefficient 10⁻³)
//   Radford et al. 2019 (GPT-2): everything else, imported from src/models/gpt2/model.ts.
//
// A small variant of GPT-2: it imports GPT-2's attention, tied head and KV cache and overrides one piece,
// the feed-forward network of each block:
//   GPT-2:  x ← x + mlp(LN(x)),           mlp = down(gelu(up(x))), 4C wide
//   Switch: x ← x + Σ gate·Eᵢ(LN(x)),     E experts like GPT-2's MLP (I wide), the router picks k per token
// The loss adds α·L_aux + β·L_z, each averaged over the blocks. Switch replaces every other FFN in its
// encoder-decoder; here every block has one, so that one sparse layer per block mirrors the dense MLP.
// With one expert and no capacity limit the layer is exactly a dense MLP I wide (its gate is softmax of a
// single logit, 1; tested in src/nn/moe.test.ts): the comparison's dense model at equal total parameters.
//
// Vocabulary (shape comments): B batch, T tokens, C = nEmbd, E experts, k experts per token, I an expert's
// hidden size, V vocabulary, L = nLayer blocks.

import { noGrad } from "../../engine/autograd.js";
import { arange } from "../../engine/creation.js";
import { DTypeError, ShapeError } from "../../engine/errors.js";
import { configOf } from "../presets.js";
import { defaultGenerator, Generator } from "../../engine/rng.js";
import { fmt } from "../../engine/shape.js";
import type { Tensor } from "../../engine/tensor.js";
import * as F from "../../nn/functional.js";
import { Module, ModuleList } from "../../nn/module.js";
import { Dropout, Embedding, LayerNorm, Linear, TiedHead, KVCache, type LayerCache } from "../../nn/index.js";
import { GeluExpert, MoE, moeOptions, SWITCH, type MoEOptions, type MoEOutput } from "../../nn/moe.js";
import { normal_, zeros_ } from "../../nn/init.js";
import { linearFlops, sortedKinds, type Architecture } from "../architecture.js";
import { generateWithCache } from "../../generation/decode.js";
import type { GenerateOptions } from "../../generation/sampling.js";
import { CausalSelfAttention, gptConfig, type GPTConfig } from "../gpt2/model.js";

// =====================================================================================================
// Config

export interface SwitchGPTConfig extends GPTConfig {
  /** E, the experts of every block (1: a dense MLP I wide) */
  readonly nExperts: number;
  /** k, the experts each token is sent to (Switch: 1) */
  readonly topK: number;
  /** I, each expert's hidden size (GPT-2's MLP: 4C) */
  readonly expertHidden: number;
  /** an expert takes at most ⌈capacityFactor·N·k/E⌉ of the N tokens of a batch (null: no limit) */
  readonly capacityFactor: number | null;
  /** false: the gates are the router's probabilities (Switch); true: softmax over the k chosen logits */
  readonly normalizeGates: boolean;
  /** α, the weight of the load-balancing loss (Switch: 10⁻²; 0: off) */
  readonly auxLossCoef: number;
  /** β, the weight of the router z-loss (ST-MoE: 10⁻³; 0: off) */
  readonly zLossCoef: number;
}

/** A checked, frozen config. */
export function switchConfig(
  base: SwitchGPTConfig | keyof typeof PRESETS,
  overrides: Partial<SwitchGPTConfig> = {},
): SwitchGPTConfig {
  return configOf("SwitchGPTConfig", PRESETS, base, overrides, {
    positive: ["expertHidden"],
    nonNegative: ["auxLossCoef", "zLossCoef"],
    also: (c) => {
      gptConfig(c); // GPT-2's checks
      moeOptions(moeOf(c)); // the router's checks
      return undefined;
    },
  });
}

export const PRESETS = Object.freeze({
  /** GPT-2's `tiny` (4 layers, 4 heads, C 128, block 64) with 8 experts of GPT-2's 4C MLP, top-1, capacity 1.25 */
  tiny: Object.freeze({
    vocabSize: 65,
    blockSize: 64,
    nLayer: 4,
    nHead: 4,
    nEmbd: 128,
    dropout: 0,
    bias: true,
    nExperts: 8,
    topK: 1,
    expertHidden: 512,
    capacityFactor: 1.25,
    normalizeGates: false,
    auxLossCoef: 0.01,
    zLossCoef: 0.001,
  }),
  /** the same with top-2 routing, the gates renormalised over the two (Shazeer et al. 2017, GShard) */
  "tiny-top2": Object.freeze({
    vocabSize: 65,
    blockSize: 64,
    nLayer: 4,
    nHead: 4,
    nEmbd: 128,
    dropout: 0,
    bias: true,
    nExperts: 8,
    topK: 2,
    expertHidden: 512,
    capacityFactor: 1.25,
    normalizeGates: true,
    auxLossCoef: 0.01,
    zLossCoef: 0.001,
  }),
} satisfies Record<string, SwitchGPTConfig>);

/** The MoE layer's options of a config. */
export function moeOf(c: SwitchGPTConfig): MoEOptions {
  return moeOptions(SWITCH, {
    nExperts: c.nExperts,
    topK: c.topK,
    capacityFactor: c.capacityFactor,
    normalizeGates: c.normalizeGates,
    nShared: 0,
  });
}

/**
 * Parameters counted from the equations (nothing allocated); `active`: those one token uses (the router
 * and k of the E experts per block).
 */
export function countParameters(c: SwitchGPTConfig, opts: { active?: boolean } = {}): number {
  const { vocabSize: V, blockSize, nLayer: L, nEmbd: C, expertHidden: I } = c;
  const b = c.bias ? 1 : 0;
  const norm = C + b * C; //                      γ (C), β (C)
  const attn = 4 * (C * C + b * C); //            wq, wk, wv, wo: W (C, C), b (C)
  const expert = C * I + b * I + I * C + b * C; // up (I, C) + (I), down (C, I) + (C)
  const moe = c.nExperts * C + (opts.active ? c.topK : c.nExperts) * expert; // router (E, C), experts
  return V * C + blockSize * C + L * (2 * norm + attn + moe) + norm; // tokEmb (= lmHead), posEmb, blocks, normF
}

/**
 * The architecture in one row. FLOPs per token at the full context: GPT-2's, with the 4C MLP replaced by
 * the router 2·C·E and k experts 2·2·C·I each (as routed: no token dropped, which a capacity may change).
 */
export function describe(c: SwitchGPTConfig, title = "Switch GPT"): Architecture {
  const { vocabSize: V, blockSize: T, nLayer: L, nHead: nh, nEmbd: C, nExperts: E, topK: k, expertHidden: I } = c;
  const block =
    4 * linearFlops(C, C) + linearFlops(C, E) + k * (linearFlops(C, I) + linearFlops(I, C)) + 2 * linearFlops(C, T);
  return {
    title,
    config: `${L} layers, ${nh} heads, C ${C}, top-${k} of ${E} experts × I ${I}, capacity ${c.capacityFactor ?? "∞"}, context ${T}, V ${V}`,
    parameters: countParameters(c),
    activeParameters: countParameters(c, { active: true }),
    // tokEmb, posEmb; per block norm1, wq wk wv wo, norm2, router, E × (up down); normF; the tied head
    layers: sortedKinds({
      [Embedding.name]: 2,
      [LayerNorm.name]: 2 * L + 1,
      [Linear.name]: (5 + 2 * E) * L,
      [TiedHead.name]: 1,
    }),
    normalization: `${LayerNorm.name} before each sub-block (pre-LN) and after the last block`,
    positions: `learned absolute (${T} positions, added to the token embedding)`,
    attention: `causal multi-head self-attention, ${nh} heads × ${C / nh}, scaled dot product`,
    activation: `GELU (tanh approximation) in each of ${E} experts (I ${I}), top-${k} ${c.normalizeGates ? "softmax over the chosen" : "Switch"} routing`,
    flops: { value: L * block + linearFlops(C, V), per: "token", at: `context ${T}` },
  };
}

// =====================================================================================================
// Block

/** GPT-2's pre-LN block with the MLP replaced by a Switch layer. */
export class Block extends Module {
  norm1: LayerNorm;
  attn: CausalSelfAttention;
  norm2: LayerNorm;
  moe: MoE; // DIFF(gpt2): E experts and a router instead of one MLP
  drop: Dropout;

  constructor(c: SwitchGPTConfig, generator: Generator) {
    super();
    this.norm1 = new LayerNorm(c.nEmbd, { bias: c.bias });
    this.attn = new CausalSelfAttention(c, generator);
    this.norm2 = new LayerNorm(c.nEmbd, { bias: c.bias });
    this.moe = new MoE(c.nEmbd, moeOf(c), () => new GeluExpert(c.nEmbd, c.expertHidden, { bias: c.bias, generator }), {
      generator,
    });
    this.drop = new Dropout(c.dropout);
  }

  forward(x: Tensor, cache?: LayerCache): { x: Tensor; moe: MoEOutput } {
    // x ← x + attn(LN(x));  x ← x + Σ_{kept choices} gate·E_e(LN(x))   (a dropped token adds 0: the residual carries it)
    x = x.add(this.attn.forward(this.norm1.forward(x), cache)); // (B, T, C)
    const moe = this.moe.forward(this.norm2.forward(x)); //        y (B, T, C), the routing
    return { x: x.add(this.drop.forward(moe.y)), moe }; //         (B, T, C)
  }
}

// =====================================================================================================
// Model

export interface SwitchGPTOutput {
  logits: Tensor; // (B, T, V)
  /** cross-entropy + α·auxLoss + β·zLoss, when targets were given */
  loss: Tensor | null; // ()
  /** the load-balancing loss, averaged over the blocks (1 when balanced), () */
  auxLoss: Tensor;
  /** the router z-loss, averaged over the blocks, () */
  zLoss: Tensor;
  /** the choices each expert of each block processed in this call, (L) × (E) */
  tokensPerExpert: number[][];
  /** the fraction of the N·k choices dropped for capacity, over all blocks */
  droppedFraction: number;
}

export class SwitchGPT extends Module {
  readonly config: SwitchGPTConfig;
  tokEmb: Embedding;
  posEmb: Embedding;
  drop: Dropout;
  blocks: ModuleList<Block>;
  normF: LayerNorm;
  lmHead: TiedHead;

  constructor(config: SwitchGPTConfig, opts: { generator?: Generator } = {}) {
    super();
    const c = (this.config = switchConfig(config));
    const generator = opts.generator ?? defaultGenerator;
    this.tokEmb = new Embedding(c.vocabSize, c.nEmbd, { generator });
    this.posEmb = new Embedding(c.blockSize, c.nEmbd, { generator });
    this.drop = new Dropout(c.dropout);
    this.blocks = new ModuleList(Array.from({ length: c.nLayer }, () => new Block(c, generator)));
    this.normF = new LayerNorm(c.nEmbd, { bias: c.bias });
    this.lmHead = new TiedHead(this.tokEmb.weight);
    this.initWeights(generator);
  }

  /** idx (B, T) → logits (B, T, V); with targets (B, T) the loss L = CE + α·L_aux + β·L_z. */
  forward(idx: Tensor, targets?: Tensor | null, cache?: KVCache): SwitchGPTOutput {
    const { h, auxLoss, zLoss, tokensPerExpert, droppedFraction } = this.trunk(idx, cache); // (B, T, C)
    const logits = this.lmHead.forward(h); // (B, T, V)
    const out = { logits, loss: null, auxLoss, zLoss, tokensPerExpert, droppedFraction };
    if (!targets) return out;
    const [B, T, V] = logits.shape as [number, number, number];
    if (targets.shape.length !== 2 || targets.shape[0] !== B || targets.shape[1] !== T) {
      throw new ShapeError(`SwitchGPT: targets ${fmt(targets.shape)} must have the shape of idx ${fmt(idx.shape)}`);
    }
    // L = −(1/BT)·Σ log softmax(logits)[target] + α·L_aux + β·L_z   (Switch §2.2, ST-MoE §3)
    let loss = F.crossEntropy(logits.view(B * T, V), targets.view(B * T)); // ()
    if (this.config.auxLossCoef > 0) loss = loss.add(auxLoss.mul(this.config.auxLossCoef));
    if (this.config.zLossCoef > 0) loss = loss.add(zLoss.mul(this.config.zLossCoef));
    return { ...out, loss };
  }

  /** The residual stream before the head, (B, T, C) (for generation). */
  hidden(idx: Tensor, cache?: KVCache): Tensor {
    return this.trunk(idx, cache).h;
  }

  /** Embeddings, blocks, final norm, and what the routers report. */
  trunk(
    idx: Tensor,
    cache?: KVCache,
  ): { h: Tensor; auxLoss: Tensor; zLoss: Tensor; tokensPerExpert: number[][]; droppedFraction: number } {
    if (idx.ndim !== 2) throw new ShapeError(`SwitchGPT: idx must be (B, T) token ids, got shape ${fmt(idx.shape)}`);
    if (idx.dtype !== "int32")
      throw new DTypeError(`SwitchGPT: idx must be int32 token ids, got ${idx.dtype} ${fmt(idx.shape)}`);
    const T = idx.shape[1]!,
      P = cache?.length ?? 0;
    if (P + T > this.config.blockSize) {
      throw new ShapeError(
        `SwitchGPT: ${P ? `${P} cached + ` : ""}${T} tokens exceed blockSize ${this.config.blockSize} (idx ${fmt(idx.shape)})`,
      );
    }
    // x = E[idx] + W_pos[P..P+T)
    let x = this.drop.forward(this.tokEmb.forward(idx).add(this.posEmb.forward(arange(P, P + T)))); // (B, T, C)
    let aux: Tensor | null = null,
      z: Tensor | null = null,
      dropped = 0,
      l = 0;
    const tokensPerExpert: number[][] = [];
    for (const block of this.blocks) {
      const out = block.forward(x, cache?.layers[l++]);
      x = out.x; // (B, T, C)
      aux = aux ? aux.add(out.moe.loadBalancingLoss) : out.moe.loadBalancingLoss;
      z = z ? z.add(out.moe.zLoss) : out.moe.zLoss;
      dropped += out.moe.droppedFraction;
      tokensPerExpert.push(out.moe.tokensPerExpert);
    }
    const L = this.config.nLayer;
    return {
      h: this.normF.forward(x),
      auxLoss: aux!.div(L),
      zLoss: z!.div(L),
      tokensPerExpert,
      droppedFraction: dropped / L,
    };
  }

  // ===================================================================================================
  // Init

  /** GPT-2's: N(0, 0.02) for every matrix (the routers too), biases 0, residual projections N(0, 0.02/√(2L)). */
  private initWeights(generator: Generator): void {
    const std = 0.02,
      residualStd = 0.02 / Math.sqrt(2 * this.config.nLayer);
    noGrad(() => {
      for (const [, m] of this.namedModules()) {
        if (m instanceof Linear) {
          normal_(m.weight, 0, std, { generator });
          if (m.bias) zeros_(m.bias);
        } else if (m instanceof Embedding) {
          normal_(m.weight, 0, std, { generator });
        }
      }
      for (const block of this.blocks) {
        normal_(block.attn.wo.weight, 0, residualStd, { generator });
        for (const expert of block.moe.experts)
          normal_((expert as GeluExpert).down.weight, 0, residualStd, { generator });
      }
    });
  }

  /** Append maxNewTokens sampled tokens to idx (B, T0), with GPT-2's KV cache. */
  generate(idx: Tensor, maxNewTokens: number, opts: GenerateOptions = {}): Tensor {
    return generateWithCache(this, idx, maxNewTokens, opts, () => new KVCache(this.config.nLayer));
  }
}
