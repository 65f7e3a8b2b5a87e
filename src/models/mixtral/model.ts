// Mixtral: a sparse mixture-of-experts decoder, LLaMA's sibling.
//   Jiang et al. 2024, "Mixtral of Experts", https://arxiv.org/abs/2401.04088
//   Jiang et al. 2023, "Mistral 7B", https://arxiv.org/abs/2310.06825 (the dense parent: LLaMA with GQA)
//   Fedus, Zoph & Shazeer 2021, "Switch Transformers", https://arxiv.org/abs/2101.03961 (the load-balancing loss)
//   Shazeer et al. 2017, "Outrageously Large Neural Networks", https://arxiv.org/abs/1701.06538 (sparse gating)
//
// Differences from LLaMA (src/models/llama/model.ts, written out whole so that `diff` shows only these;
// every differing line carries `// DIFF(llama): …`, except those that only say Mixtral where LLaMA says Llama):
//   1. The MLP of every block is a sparse mixture of experts (src/nn/moe.ts): a router (the "gate", (E, C))
//      picks the top-2 of E = 8 SwiGLU experts for each token, and the block adds
//      Σ_{i ∈ top-2} softmax(top-2 logits)_i · SwiGLU_i(x) (Mixtral §2.1 eq. 1–2). No capacity limit.
//   2. The loss adds the routers' load-balancing loss, α·mean over the blocks of E·Σᵢ fᵢ·Pᵢ
//      (α = routerAuxLossCoef, 0.02 in the released config), so that training keeps every expert in use.
//   3. The expert's hidden size is given (14336 in 8x7B), not computed by Meta's 2/3·4C rule.
//   4. Preset: RoPE θ = 10⁶, 32768 positions, 8 KV heads (grouped-query attention, as Mistral 7B).
//   Mistral's sliding-window attention is not used: the released Mixtral 8x7B attends to the whole
//   context (its config has "sliding_window": null), and so does this file.
//
// Read top to bottom: config → layers (attention, sparse MoE) → block → model → init → weight map → generate.
// The checkpoint's key names appear only in the weight-map table near the bottom.
//
// Vocabulary (shape comments): B batch, T tokens in this call, P tokens already in the KV cache,
// C = nEmbd channels, nh = nHead query heads, nkv = nKvHeads key/value heads, hs = C/nh head size,
// I an expert's hidden size, E experts, k experts per token, V vocabulary, L = nLayer blocks.

import { noGrad } from "../../engine/autograd.js";
import { DTypeError, ShapeError } from "../../engine/errors.js";
import { configOf } from "../presets.js";
import { defaultGenerator, Generator } from "../../engine/rng.js";
import { fmt } from "../../engine/shape.js";
import type { Tensor } from "../../engine/tensor.js";
import { cat } from "../../ops/shape.js";
import * as F from "../../nn/functional.js";
import { Module, ModuleList } from "../../nn/module.js";
import { Dropout, Embedding, RMSNorm, Linear } from "../../nn/index.js";
import { MIXTRAL, MoE, moeOptions, SwiGLUExpert, type MoEOutput } from "../../nn/moe.js"; // DIFF(llama)
import { normal_ } from "../../nn/init.js";
import { linearFlops, sortedKinds, type Architecture } from "../architecture.js";
import { entry as e, expandMap, fromCheckpointWith, toCheckpointWith, type MapEntry, shapesOf } from "../weight-map.js";
import { KVCache, causalMask, type LayerCache } from "../../nn/kv-cache.js"; // the cache holds nkv heads, keys rotated
import { applyRotary, rotaryTables } from "../../nn/rotary.js";
import { generateWithCache } from "../../generation/decode.js";
import type { GenerateOptions } from "../../generation/sampling.js";

export { KVCache, type GenerateOptions, type LayerCache };

// =====================================================================================================
// Config

export interface MixtralConfig {
  /** tokens in the vocabulary (V) */
  readonly vocabSize: number;
  /** the longest context (no learned positions; it bounds the KV cache and generation's window) */
  readonly blockSize: number;
  /** Transformer blocks (L) */
  readonly nLayer: number;
  /** attention (query) heads per block (nh) */
  readonly nHead: number;
  /** key/value heads (nkv), a divisor of nHead; nHead = plain multi-head, 1 = multi-query */
  readonly nKvHeads: number;
  /** channels of the residual stream (C); a multiple of nHead, C/nHead even (RoPE rotates pairs) */
  readonly nEmbd: number;
  /** DIFF(llama): each expert's SwiGLU hidden size I (always given) */
  readonly intermediateSize: number;
  /** DIFF(llama): E, the experts of every block (num_local_experts) */
  readonly nExperts: number;
  /** DIFF(llama): k, the experts each token uses (num_experts_per_tok) */
  readonly topK: number;
  /** DIFF(llama): α, the weight of the load-balancing loss in the training loss (router_aux_loss_coef) */
  readonly routerAuxLossCoef: number;
  /** ε of RMSNorm */
  readonly normEps: number;
  /** the base θ of the rotary frequencies θ^(−2i/hs) (DIFF(llama): 10⁶ in Mixtral) */
  readonly ropeTheta: number;
  /** dropout on the attention probabilities and both residual branches (0) */
  readonly dropout: number;
}

/** A checked, frozen config: `mixtralConfig("tiny", { vocabSize: tokenizer.vocabSize })`. */
export function mixtralConfig(
  base: MixtralConfig | keyof typeof PRESETS,
  overrides: Partial<MixtralConfig> = {},
): MixtralConfig {
  return configOf("MixtralConfig", PRESETS, base, overrides, {
    positive: [
      "vocabSize",
      "blockSize",
      "nLayer",
      "nHead",
      "nKvHeads",
      "nEmbd",
      "intermediateSize",
      "nExperts",
      "topK",
    ], // DIFF(llama)
    multiples: [
      ["nEmbd", "nHead"],
      ["nHead", "nKvHeads"],
    ],
    probabilities: ["dropout"],
    positiveNumbers: ["normEps", "ropeTheta"],
    nonNegative: ["routerAuxLossCoef"], // DIFF(llama)
    also: (c) =>
      (c.nEmbd / c.nHead) % 2 !== 0
        ? `the head size nEmbd/nHead = ${c.nEmbd / c.nHead} must be even (RoPE rotates pairs of channels)`
        : c.topK > c.nExperts // DIFF(llama)
          ? `topK ${c.topK} must be at most nExperts ${c.nExperts}`
          : undefined,
  });
}

export const PRESETS = Object.freeze({
  /** Mixtral 8x7B (mistralai/Mixtral-8x7B-v0.1 config.json): 46,702,792,704 parameters, 12,879,925,248 active per token */
  "mixtral-8x7b": Object.freeze({
    vocabSize: 32000,
    blockSize: 32768,
    nLayer: 32,
    nHead: 32,
    nKvHeads: 8,
    nEmbd: 4096,
    intermediateSize: 14336,
    nExperts: 8,
    topK: 2,
    routerAuxLossCoef: 0.02,
    normEps: 1e-5,
    ropeTheta: 1e6,
    dropout: 0,
  }),
  /** LLaMA's `tiny` with 8 experts of a quarter of its MLP each (I 88 = 352/4): top-2 uses half the dense MLP's compute */
  tiny: Object.freeze({
    vocabSize: 65,
    blockSize: 64,
    nLayer: 4,
    nHead: 4,
    nKvHeads: 2,
    nEmbd: 128,
    intermediateSize: 88,
    nExperts: 8,
    topK: 2,
    routerAuxLossCoef: 0.02,
    normEps: 1e-5,
    ropeTheta: 10000,
    dropout: 0,
  }),
} satisfies Record<string, MixtralConfig>);

/**
 * The number of parameters of a config, counted from the equations (nothing allocated). `active`: those
 * one token uses — the router and k of the E experts in every block (DIFF(llama)); `nonEmbedding` leaves
 * out the token embedding (the head is untied, so it stays counted).
 */
export function countParameters(c: MixtralConfig, opts: { nonEmbedding?: boolean; active?: boolean } = {}): number {
  const { vocabSize: V, nLayer: L, nEmbd: C } = c;
  const kv = c.nKvHeads * (C / c.nHead); //        nkv·hs: the width of k and v
  const I = c.intermediateSize; //                 DIFF(llama): given
  const norm = C; //                               g (C)
  const attn = C * C + 2 * kv * C + C * C; //      wq (C, C), wk, wv (nkv·hs, C), wo (C, C)
  const experts = opts.active ? c.topK : c.nExperts; // DIFF(llama)
  const mlp = c.nExperts * C + experts * 3 * I * C; // DIFF(llama): router (E, C); per expert gate, up (I, C), down (C, I)
  const block = 2 * norm + attn + mlp;
  const embedding = opts.nonEmbedding ? 0 : V * C;
  return embedding + L * block + norm + V * C; //  tokEmb, blocks, normF, lmHead
}

/**
 * The architecture in one row (src/models/architecture.ts). FLOPs per token at the full context T =
 * blockSize: per block wq and wo 2·C² each, wk and wv 2·C·(nkv·hs) each (GQA), the router 2·C·E, k SwiGLU
 * experts 3·2·C·I each (DIFF(llama): only the chosen ones run), and attention's q·kᵀ and α·v over T keys,
 * 2·T·C each; then the untied head 2·C·V.
 */
export function describe(c: MixtralConfig, title = "Mixtral"): Architecture {
  const { vocabSize: V, blockSize: T, nLayer: L, nHead: nh, nKvHeads: nkv, nEmbd: C, nExperts: E, topK: k } = c;
  const kv = nkv * (C / nh),
    I = c.intermediateSize;
  const block =
    2 * linearFlops(C, C) +
    2 * linearFlops(C, kv) +
    linearFlops(C, E) +
    k * 3 * linearFlops(C, I) +
    2 * linearFlops(C, T); // DIFF(llama)
  return {
    title,
    config: `${L} layers, ${nh} heads (${nkv} KV), C ${C}, top-${k} of ${E} experts × I ${I}, context ${T}, V ${V}`,
    parameters: countParameters(c),
    activeParameters: countParameters(c, { active: true }), // DIFF(llama)
    // tokEmb; per block norm1, wq wk wv wo, norm2, router, E × (gate up down); normF; lmHead
    layers: sortedKinds({ [Embedding.name]: 1, [RMSNorm.name]: 2 * L + 1, [Linear.name]: (5 + 3 * E) * L + 1 }),
    normalization: `${RMSNorm.name} before each sub-block (pre-norm) and after the last block, no bias`,
    positions: `rotary (RoPE, θ ${c.ropeTheta}) on q and k in every block; no position embedding`,
    attention:
      nkv === nh
        ? `causal multi-head self-attention, ${nh} heads × ${C / nh}, scaled dot product`
        : `causal grouped-query self-attention, ${nh} query heads × ${C / nh} sharing ${nkv} key/value heads`,
    activation: `SwiGLU (silu(gate)·up, I ${I}) in each of ${E} experts, top-${k} routed (softmax over the chosen)`, // DIFF(llama)
    flops: { value: L * block + linearFlops(C, V), per: "token", at: `context ${T}` },
  };
}

// =====================================================================================================
// Layers

/** DIFF(gpt2): GQA — each of the nkv key/value heads repeated for its nh/nkv query heads (HF's repeat_kv). */
function repeatKv(x: Tensor, nRep: number): Tensor {
  if (nRep === 1) return x;
  const [B, nkv, S, hs] = x.shape as [number, number, number, number]; // x (B, nkv, S, hs)
  // head j of the output reads kv head ⌊j/nRep⌋
  return x
    .unsqueeze(2)
    .expand(B, nkv, nRep, S, hs)
    .reshape(B, nkv * nRep, S, hs); // (B, nh, S, hs)
}

/** Masked multi-head self-attention (Vaswani et al. 2017, §3.2.2) with rotary positions and grouped k/v heads. */
export class CausalSelfAttention extends Module {
  readonly nHead: number;
  readonly nKvHeads: number; // DIFF(gpt2): GQA
  readonly ropeTheta: number; // DIFF(gpt2): RoPE
  readonly dropoutP: number;
  wq: Linear;
  wk: Linear;
  wv: Linear;
  wo: Linear;
  residDrop: Dropout;

  constructor(c: MixtralConfig, generator: Generator) {
    // DIFF(llama): Mixtral's config
    super();
    this.nHead = c.nHead;
    this.nKvHeads = c.nKvHeads; // DIFF(gpt2)
    this.ropeTheta = c.ropeTheta; // DIFF(gpt2)
    this.dropoutP = c.dropout;
    const opts = { bias: false, generator }; // DIFF(gpt2): no biases
    const kvDim = c.nKvHeads * (c.nEmbd / c.nHead); // DIFF(gpt2): nkv·hs
    this.wq = new Linear(c.nEmbd, c.nEmbd, opts);
    this.wk = new Linear(c.nEmbd, kvDim, opts); // DIFF(gpt2): (nkv·hs, C)
    this.wv = new Linear(c.nEmbd, kvDim, opts); // DIFF(gpt2): (nkv·hs, C)
    this.wo = new Linear(c.nEmbd, c.nEmbd, opts);
    this.residDrop = new Dropout(c.dropout);
  }

  forward(x: Tensor, cache?: LayerCache): Tensor {
    const [B, T, C] = x.shape as [number, number, number]; // x (B, T, C)
    const nh = this.nHead,
      hs = C / nh;
    const nkv = this.nKvHeads; // DIFF(gpt2)
    // q = x·Wqᵀ, k = x·Wkᵀ, v = x·Wvᵀ, split into nh (q) and nkv (k, v) heads of hs channels  DIFF(gpt2): no biases
    let q = this.wq.forward(x).view(B, T, nh, hs).transpose(1, 2); // (B, nh, T, hs)
    let k = this.wk.forward(x).view(B, T, nkv, hs).transpose(1, 2); // (B, nkv, T, hs)  DIFF(gpt2): nkv heads
    let v = this.wv.forward(x).view(B, T, nkv, hs).transpose(1, 2); // (B, nkv, T, hs)  DIFF(gpt2): nkv heads
    const P = cache?.k ? cache.k.shape[2]! : 0;
    // DIFF(gpt2): RoPE — q and k rotated by their positions P…P+T−1 (v is not); the cache keeps rotated keys
    const { cos, sin } = rotaryTables(P, T, hs, this.ropeTheta, x.dtype === "float64" ? "float64" : "float32"); // (T, hs)
    q = applyRotary(q, cos, sin); // (B, nh, T, hs)
    k = applyRotary(k, cos, sin); // (B, nkv, T, hs)
    if (cache) {
      // append this call's keys and values to those of the earlier tokens
      if (cache.k && cache.v) {
        k = cat([cache.k, k], 2); // (B, nkv, P+T, hs)
        v = cat([cache.v, v], 2); // (B, nkv, P+T, hs)
      }
      cache.k = k;
      cache.v = v;
    }
    // DIFF(gpt2): GQA — every kv head serves nh/nkv query heads
    k = repeatKv(k, nh / nkv); // (B, nh, P+T, hs)
    v = repeatKv(v, nh / nkv); // (B, nh, P+T, hs)
    // y = softmax(q·kᵀ/√hs + M)·v, M = −∞ where a key lies in the query's future (Vaswani eq. 1)
    const dropoutP = this.training ? this.dropoutP : 0;
    const y = F.scaledDotProductAttention(q, k, v, { ...causalMask(P, T), dropoutP }); // (B, nh, T, hs)
    // concatenate the heads: (B, nh, T, hs) → (B, T, nh·hs = C), then the output projection
    const merged = y.transpose(1, 2).reshape(B, T, C); // (B, T, C)
    return this.residDrop.forward(this.wo.forward(merged)); // (B, T, C)
  }
}

/**
 * DIFF(llama): the sparse MoE block in place of the MLP (Mixtral §2.1): a router and E SwiGLU experts (each
 * LLaMA's MLP), top-k routing with the gates renormalised over the chosen experts, no capacity limit.
 *   y = Σ_{i=0}^{E−1} G(x)_i · SwiGLU_i(x),  G(x) = Softmax(TopK(x·W_gᵀ))   (Mixtral eq. 1–2)
 */
export function sparseMoe(c: MixtralConfig, generator: Generator): MoE {
  const options = moeOptions(MIXTRAL, { nExperts: c.nExperts, topK: c.topK }); // normalised gates, no capacity
  return new MoE(c.nEmbd, options, () => new SwiGLUExpert(c.nEmbd, c.intermediateSize, { generator }), { generator });
}

// =====================================================================================================
// Block

/** What a block returns: the residual stream and its MoE layer's routing (DIFF(llama)). */
export interface BlockOutput {
  // DIFF(llama)
  x: Tensor; // (B, T, C)
  moe: MoEOutput;
}

/** A pre-norm Transformer block: each sub-layer reads a normalised copy of the residual stream and adds back. */
export class Block extends Module {
  norm1: RMSNorm; // DIFF(gpt2): RMSNorm
  attn: CausalSelfAttention;
  norm2: RMSNorm; // DIFF(gpt2): RMSNorm
  moe: MoE; // DIFF(llama): sparse experts, not one MLP
  drop: Dropout; // DIFF(llama): the MLP's dropout, outside the experts

  constructor(c: MixtralConfig, generator: Generator) {
    super();
    this.norm1 = new RMSNorm(c.nEmbd, { eps: c.normEps }); // DIFF(gpt2): RMSNorm, eps from the config
    this.attn = new CausalSelfAttention(c, generator);
    this.norm2 = new RMSNorm(c.nEmbd, { eps: c.normEps }); // DIFF(gpt2): RMSNorm, eps from the config
    this.moe = sparseMoe(c, generator); // DIFF(llama)
    this.drop = new Dropout(c.dropout);
  }

  forward(x: Tensor, cache?: LayerCache): BlockOutput {
    // DIFF(llama): the routing too
    // x ← x + attn(RMSNorm(x));  x ← x + moe(RMSNorm(x))   (pre-norm)  DIFF(llama): moe, not mlp
    x = x.add(this.attn.forward(this.norm1.forward(x), cache)); // (B, T, C)
    const moe = this.moe.forward(this.norm2.forward(x)); //        DIFF(llama): y (B, T, C) and the routing
    x = x.add(this.drop.forward(moe.y)); //                         (B, T, C)  DIFF(llama)
    return { x, moe }; // DIFF(llama)
  }
}

// =====================================================================================================
// Model

export interface MixtralOptions {
  /** the source of the initial weights (default: the library's default generator, seeded by manualSeed) */
  generator?: Generator;
}

export interface MixtralOutput {
  logits: Tensor; // (B, T, V)
  /** mean cross-entropy over all B·T positions + routerAuxLossCoef·auxLoss, when targets were given */
  loss: Tensor | null; // ()
  /** DIFF(llama): the load-balancing loss E·Σ fᵢ·Pᵢ averaged over the blocks (1 when balanced), () */
  auxLoss: Tensor; // DIFF(llama)
  /** DIFF(llama): the tokens each expert of each block processed in this call, (L) × (E) */
  tokensPerExpert: number[][]; // DIFF(llama)
}

export class Mixtral extends Module {
  readonly config: MixtralConfig;
  tokEmb: Embedding;
  drop: Dropout;
  blocks: ModuleList<Block>;
  normF: RMSNorm; // DIFF(gpt2): RMSNorm
  lmHead: Linear; // DIFF(gpt2): untied, a weight of its own

  constructor(config: MixtralConfig, opts: MixtralOptions = {}) {
    super();
    const c = (this.config = mixtralConfig(config));
    const generator = opts.generator ?? defaultGenerator;
    this.tokEmb = new Embedding(c.vocabSize, c.nEmbd, { generator });
    this.drop = new Dropout(c.dropout);
    this.blocks = new ModuleList(Array.from({ length: c.nLayer }, () => new Block(c, generator)));
    this.normF = new RMSNorm(c.nEmbd, { eps: c.normEps }); // DIFF(gpt2): RMSNorm
    // DIFF(gpt2): no weight tying — logits = h·W_headᵀ with W_head (V, C) learned separately
    this.lmHead = new Linear(c.nEmbd, c.vocabSize, { bias: false, generator });
    this.initWeights(generator);
  }

  /**
   * idx (B, T) int32 token ids → logits (B, T, V) for every position, and with targets (B, T) the mean
   * cross-entropy of predicting each next token plus α times the load-balancing loss (DIFF(llama)).
   */
  forward(idx: Tensor, targets?: Tensor | null, cache?: KVCache): MixtralOutput {
    const { h, auxLoss, tokensPerExpert } = this.trunk(idx, cache); // (B, T, C)  DIFF(llama): and the routers' losses
    const logits = this.lmHead.forward(h); // (B, T, V)
    if (!targets) return { logits, loss: null, auxLoss, tokensPerExpert }; // DIFF(llama)
    const [B, T, V] = logits.shape as [number, number, number];
    if (targets.shape.length !== 2 || targets.shape[0] !== B || targets.shape[1] !== T) {
      throw new ShapeError(`Mixtral: targets ${fmt(targets.shape)} must have the shape of idx ${fmt(idx.shape)}`);
    }
    // loss = −(1/BT)·Σ_{b,t} log softmax(logits[b,t])[targets[b,t]] + α·L_aux   DIFF(llama): + α·L_aux
    const ce = F.crossEntropy(logits.view(B * T, V), targets.view(B * T)); // ()  DIFF(llama): ce, then + α·L_aux
    const loss = this.config.routerAuxLossCoef > 0 ? ce.add(auxLoss.mul(this.config.routerAuxLossCoef)) : ce; // ()
    return { logits, loss, auxLoss, tokensPerExpert }; // DIFF(llama)
  }

  /** The trunk: embedding, blocks and the final norm; the residual stream before the head, (B, T, C). */
  hidden(idx: Tensor, cache?: KVCache): Tensor {
    return this.trunk(idx, cache).h; // DIFF(llama): the trunk below
  }

  /** DIFF(llama): the trunk and what its routers report: the mean load-balancing loss, the tokens per expert. */
  trunk(idx: Tensor, cache?: KVCache): { h: Tensor; auxLoss: Tensor; tokensPerExpert: number[][] } {
    if (idx.ndim !== 2) throw new ShapeError(`Mixtral: idx must be (B, T) token ids, got shape ${fmt(idx.shape)}`);
    if (idx.dtype !== "int32")
      throw new DTypeError(`Mixtral: idx must be int32 token ids, got ${idx.dtype} ${fmt(idx.shape)}`);
    const T = idx.shape[1]!;
    const P = cache?.length ?? 0;
    if (P + T > this.config.blockSize) {
      throw new ShapeError(
        `Mixtral: ${P ? `${P} cached + ` : ""}${T} tokens exceed blockSize ${this.config.blockSize} (idx ${fmt(idx.shape)})`,
      );
    }
    // x = E[idx]   (no position embedding: each block rotates q and k instead)
    let x = this.tokEmb.forward(idx); // (B, T, C)
    x = this.drop.forward(x);
    let l = 0,
      aux: Tensor | null = null; // DIFF(llama)
    const tokensPerExpert: number[][] = []; // DIFF(llama)
    for (const block of this.blocks) {
      const out = block.forward(x, cache?.layers[l++]); // DIFF(llama)
      x = out.x; // (B, T, C)  DIFF(llama)
      aux = aux ? aux.add(out.moe.loadBalancingLoss) : out.moe.loadBalancingLoss; // DIFF(llama): Σ over blocks
      tokensPerExpert.push(out.moe.tokensPerExpert); // DIFF(llama)
    }
    return { h: this.normF.forward(x), auxLoss: aux!.div(this.config.nLayer), tokensPerExpert }; // (B, T, C)  DIFF(llama): and the mean L_aux
  }

  /** Parameters; `nonEmbedding` leaves out the token embedding (the untied head stays). */
  override numParameters(opts: { nonEmbedding?: boolean } = {}): number {
    const n = super.numParameters();
    return opts.nonEmbedding ? n - this.tokEmb.weight.numel() : n;
  }

  // ===================================================================================================
  // Init

  /**
   * HF's MixtralPreTrainedModel init (initializer_range 0.02): every weight matrix — the routers and every
   * expert included (DIFF(llama)) — the embedding and the head N(0, 0.02), RMSNorm g = 1.
   */
  private initWeights(generator: Generator): void {
    const std = 0.02;
    noGrad(() => {
      for (const [, m] of this.namedModules()) {
        if (m instanceof Linear) {
          normal_(m.weight, 0, std, { generator });
        } else if (m instanceof Embedding) {
          normal_(m.weight, 0, std, { generator });
        }
      }
    });
  }

  /** Append maxNewTokens sampled tokens to idx (B, T0) → (B, T0 + maxNewTokens); see `generate` below. */
  generate(idx: Tensor, maxNewTokens: number, opts: GenerateOptions = {}): Tensor {
    return generate(this, idx, maxNewTokens, opts);
  }
}

// =====================================================================================================
// Weight map: our names ↔ the HF `transformers` MixtralForCausalLM checkpoints (mistralai/Mixtral-8x7B-v0.1)
//
// | ours                              | HF MixtralForCausalLM checkpoint                          | shape         |
// |-----------------------------------|-----------------------------------------------------------|---------------|
// | tokEmb.weight                     | model.embed_tokens.weight                                 | (V, C)        |
// | blocks.{i}.norm1.weight           | model.layers.{i}.input_layernorm.weight                   | (C)           |
// | blocks.{i}.attn.wq.weight         | model.layers.{i}.self_attn.q_proj.weight                  | (C, C)        |
// | blocks.{i}.attn.wk.weight         | model.layers.{i}.self_attn.k_proj.weight                  | (nkv·hs, C)   |
// | blocks.{i}.attn.wv.weight         | model.layers.{i}.self_attn.v_proj.weight                  | (nkv·hs, C)   |
// | blocks.{i}.attn.wo.weight         | model.layers.{i}.self_attn.o_proj.weight                  | (C, C)        |
// | blocks.{i}.norm2.weight           | model.layers.{i}.post_attention_layernorm.weight          | (C)           |
// | blocks.{i}.moe.router.weight      | model.layers.{i}.block_sparse_moe.gate.weight             | (E, C)        |
// | blocks.{i}.moe.experts.{e}.gate.weight | model.layers.{i}.block_sparse_moe.experts.{e}.w1.weight | (I, C)     |
// | blocks.{i}.moe.experts.{e}.down.weight | model.layers.{i}.block_sparse_moe.experts.{e}.w2.weight | (C, I)     |
// | blocks.{i}.moe.experts.{e}.up.weight   | model.layers.{i}.block_sparse_moe.experts.{e}.w3.weight | (I, C)     |
// | normF.weight                      | model.norm.weight                                         | (C)           |
// | lmHead.weight                     | lm_head.weight                                            | (V, C)        |
//
// DIFF(llama): the MLP rows become the router and E experts, named w1 (gate), w2 (down), w3 (up) as in
// Mistral's reference code. Nothing is transposed; q and k rows are in HF's half-split RoPE layout.

const WEIGHT_MAP: readonly MapEntry[] = [
  e("tokEmb.weight", "model.embed_tokens.weight"),
  e("blocks.{i}.norm1.weight", "model.layers.{i}.input_layernorm.weight"),
  e("blocks.{i}.attn.wq.weight", "model.layers.{i}.self_attn.q_proj.weight"),
  e("blocks.{i}.attn.wk.weight", "model.layers.{i}.self_attn.k_proj.weight"),
  e("blocks.{i}.attn.wv.weight", "model.layers.{i}.self_attn.v_proj.weight"),
  e("blocks.{i}.attn.wo.weight", "model.layers.{i}.self_attn.o_proj.weight"),
  e("blocks.{i}.norm2.weight", "model.layers.{i}.post_attention_layernorm.weight"),
  e("blocks.{i}.moe.router.weight", "model.layers.{i}.block_sparse_moe.gate.weight"), // DIFF(llama)
  e("blocks.{i}.moe.experts.{e}.gate.weight", "model.layers.{i}.block_sparse_moe.experts.{e}.w1.weight"), // DIFF(llama)
  e("blocks.{i}.moe.experts.{e}.down.weight", "model.layers.{i}.block_sparse_moe.experts.{e}.w2.weight"), // DIFF(llama)
  e("blocks.{i}.moe.experts.{e}.up.weight", "model.layers.{i}.block_sparse_moe.experts.{e}.w3.weight"), // DIFF(llama)
  e("normF.weight", "model.norm.weight"),
  e("lmHead.weight", "lm_head.weight"),
];

/** Keys that a checkpoint may hold and that we do not load: rotary frequency buffers of older files. */
const SKIPPED = /^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/;

/** The table with {i} expanded for each block and {e} for each expert. */
const expandedMap = (c: MixtralConfig): MapEntry[] => expandMap(WEIGHT_MAP, { i: c.nLayer, e: c.nExperts }); // DIFF(llama): and {e}

/** A Mixtral checkpoint's state dict (HF names) → ours, ready for `model.loadStateDict`; names and shapes checked. */
export const fromMixtralCheckpoint = (state: Record<string, Tensor>, config: MixtralConfig): Record<string, Tensor> =>
  fromCheckpointWith("fromMixtralCheckpoint", state, expandedMap(config), {
    skipped: SKIPPED,
    shapes: shapesOf(() => new Mixtral(config)),
  });

/** Our state dict → a Mixtral checkpoint's names (HF MixtralForCausalLM). */
export const toMixtralCheckpoint = (state: Record<string, Tensor>, config: MixtralConfig): Record<string, Tensor> =>
  toCheckpointWith("toMixtralCheckpoint", state, expandedMap(config));

// =====================================================================================================
// Generate

/**
 * Append `maxNewTokens` tokens to idx (B, T0) and return (B, T0 + maxNewTokens). Each step feeds only
 * the new token: the keys and values of the earlier ones come from a KV cache; the router of every block
 * picks the new token's experts on its own (routing is per token, so caching changes nothing).
 */
export function generate(model: Mixtral, idx: Tensor, maxNewTokens: number, opts: GenerateOptions = {}): Tensor {
  return generateWithCache(model, idx, maxNewTokens, opts, () => new KVCache(model.config.nLayer));
}
