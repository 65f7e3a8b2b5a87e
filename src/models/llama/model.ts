// LLaMA-1/2: a decoder-only Transformer language model, GPT-2's sibling.
//   Touvron et al. 2023, "LLaMA: Open and Efficient Foundation Language Models", https://arxiv.org/abs/2302.13971
//   Touvron et al. 2023, "Llama 2: Open Foundation and Fine-Tuned Chat Models", https://arxiv.org/abs/2307.09288
//   Su et al. 2021, "RoFormer: Enhanced Transformer with Rotary Position Embedding", https://arxiv.org/abs/2104.09864
//   Shazeer 2020, "GLU Variants Improve Transformer", https://arxiv.org/abs/2002.05202 (SwiGLU)
//   Zhang & Sennrich 2019, "Root Mean Square Layer Normalization", https://arxiv.org/abs/1910.07467
//   Ainslie et al. 2023, "GQA: Training Generalized Multi-Query Transformer Models from Multi-Head
//   Checkpoints", https://arxiv.org/abs/2305.13245 (grouped-query attention, Llama 2 34B/70B)
//
// Differences from GPT-2 (src/models/gpt2/model.ts, written out whole so that `diff` shows only these;
// every differing line carries `// DIFF(gpt2): …`):
//   1. RMSNorm instead of LayerNorm: no mean subtracted, no bias, eps from the config (LLaMA §2.2).
//   2. Rotary position embeddings on q and k in every block instead of learned absolute positions added
//      to the input (LLaMA §2.2, RoFormer §3.4); θ = 10000, the half-split ("rotate_half") pairing.
//   3. SwiGLU MLP: down(silu(gate(x)) ⊙ up(x)), three matrices, hidden size ≈ 2/3·4C rounded up to a
//      multiple of `multipleOf` (LLaMA §2.2, Shazeer 2020) instead of GELU(up(x)) 4C wide.
//   4. No biases anywhere.
//   5. An untied output head (lmHead has its own (V, C) weight).
//   6. Grouped-query attention: nKvHeads key/value heads, each shared by nHead/nKvHeads query heads
//      (= nHead in LLaMA-1 and Llama 2 7B/13B: plain multi-head attention); the KV cache holds nKvHeads.
//   7. Init: every matrix N(0, 0.02), no 1/√(2L) residual scaling (HF's LlamaPreTrainedModel).
//
// Read top to bottom: config → layers (rotary, attention, MLP) → block → model → init → weight map → generate.
// The checkpoint's key names appear only in the weight-map table near the bottom.
//
// Vocabulary (shape comments): B batch, T tokens in this call, P tokens already in the KV cache,
// C = nEmbd channels, nh = nHead query heads, nkv = nKvHeads key/value heads, hs = C/nh head size,
// I the MLP's hidden size, V vocabulary, L = nLayer blocks.

import { noGrad } from "../../engine/autograd.js";
import { DTypeError, ShapeError } from "../../engine/errors.js";
import { configOf } from "../presets.js";
import { defaultGenerator, Generator } from "../../engine/rng.js";
import { fmt } from "../../engine/shape.js";
import type { Tensor } from "../../engine/tensor.js";
import { cat } from "../../ops/shape.js";
import * as F from "../../nn/functional.js";
import { Module, ModuleList } from "../../nn/module.js";
import { Dropout, Embedding, RMSNorm, Linear } from "../../nn/index.js"; // DIFF(gpt2): RMSNorm, not LayerNorm
import { normal_ } from "../../nn/init.js";
import { linearFlops, sortedKinds, type Architecture } from "../architecture.js";
import { entry as e, expandMap, fromCheckpointWith, toCheckpointWith, type MapEntry, shapesOf } from "../weight-map.js";
import { KVCache, causalMask, type LayerCache } from "../../nn/kv-cache.js"; // the same as GPT-2's; DIFF(gpt2): the cache holds nkv heads, keys rotated
import { applyRotary, rotaryTables } from "../../nn/rotary.js"; // DIFF(gpt2): RoPE
import { generateWithCache } from "../../generation/decode.js";
import type { GenerateOptions } from "../../generation/sampling.js";

export { KVCache, type GenerateOptions, type LayerCache };

// =====================================================================================================
// Config

export interface LlamaConfig {
  /** tokens in the vocabulary (V) */
  readonly vocabSize: number;
  /** the longest context (DIFF(gpt2): no learned positions; it bounds the KV cache and generation's window) */
  readonly blockSize: number;
  /** Transformer blocks (L) */
  readonly nLayer: number;
  /** attention (query) heads per block (nh) */
  readonly nHead: number;
  /** DIFF(gpt2): key/value heads (nkv), a divisor of nHead; nHead = plain multi-head, 1 = multi-query */
  readonly nKvHeads: number;
  /** channels of the residual stream (C); a multiple of nHead, C/nHead even (RoPE rotates pairs) */
  readonly nEmbd: number;
  /** DIFF(gpt2): the MLP's hidden size I; null: multipleOf·⌈(2/3·4C)/multipleOf⌉ (Meta's rule) */
  readonly intermediateSize: number | null;
  /** DIFF(gpt2): the rounding of the computed hidden size (Meta's multiple_of; 256 for LLaMA) */
  readonly multipleOf: number;
  /** DIFF(gpt2): ε of RMSNorm (Llama 2: 1e-5; LLaMA-1: 1e-6) */
  readonly normEps: number;
  /** DIFF(gpt2): the base θ of the rotary frequencies θ^(−2i/hs) (10000) */
  readonly ropeTheta: number;
  /** dropout on the attention probabilities and both residual branches (LLaMA trains without: 0) */
  readonly dropout: number;
  // DIFF(gpt2): no `bias` (LLaMA has none)
}

/** A checked, frozen config: `llamaConfig("tiny", { vocabSize: tokenizer.vocabSize })`. */
export function llamaConfig(
  base: LlamaConfig | keyof typeof PRESETS,
  overrides: Partial<LlamaConfig> = {},
): LlamaConfig {
  return configOf("LlamaConfig", PRESETS, base, overrides, {
    positive: ["vocabSize", "blockSize", "nLayer", "nHead", "nKvHeads", "nEmbd", "multipleOf"],
    multiples: [
      ["nEmbd", "nHead"],
      ["nHead", "nKvHeads"], // DIFF(gpt2): grouped-query attention
    ],
    probabilities: ["dropout"],
    positiveNumbers: ["normEps", "ropeTheta"], // DIFF(gpt2)
    also: (c) =>
      (c.nEmbd / c.nHead) % 2 !== 0 // DIFF(gpt2)
        ? `the head size nEmbd/nHead = ${c.nEmbd / c.nHead} must be even (RoPE rotates pairs of channels)`
        : c.intermediateSize !== null && !(Number.isInteger(c.intermediateSize) && c.intermediateSize >= 1)
          ? `intermediateSize must be a positive integer or null, got ${c.intermediateSize}`
          : undefined,
  });
}

export const PRESETS = Object.freeze({
  /** Llama 2 7B (meta-llama/Llama-2-7b-hf config.json): 6,738,415,616 parameters */
  "llama-2-7b": Object.freeze({
    vocabSize: 32000,
    blockSize: 4096,
    nLayer: 32,
    nHead: 32,
    nKvHeads: 32,
    nEmbd: 4096,
    intermediateSize: 11008,
    multipleOf: 256,
    normEps: 1e-5,
    ropeTheta: 10000,
    dropout: 0,
  }),
  /** GPT-2's `tiny` (4 layers, 4 heads, 128 wide, block 64) as a LLaMA: I = 32·⌈(2/3·512)/32⌉ = 352, 2 KV heads */
  tiny: Object.freeze({
    vocabSize: 65,
    blockSize: 64,
    nLayer: 4,
    nHead: 4,
    nKvHeads: 2,
    nEmbd: 128,
    intermediateSize: null,
    multipleOf: 32,
    normEps: 1e-5,
    ropeTheta: 10000,
    dropout: 0,
  }),
} satisfies Record<string, LlamaConfig>);

/**
 * DIFF(gpt2): the SwiGLU hidden size. Given explicitly, or Meta's rule (llama/model.py, FeedForward):
 * I = multipleOf·⌈⌊2/3·4C⌋ / multipleOf⌉ — 2/3 of GPT's 4C keeps the three SwiGLU matrices at the
 * parameter count of two 4C ones (Shazeer 2020 §2); 4096 → 10922 → 11008 with multipleOf 256.
 */
export function intermediateSize(c: LlamaConfig): number {
  if (c.intermediateSize !== null) return c.intermediateSize;
  const h = Math.floor((2 * 4 * c.nEmbd) / 3); // ⌊2/3·4C⌋ (Meta: int(2 * hidden_dim / 3))
  return c.multipleOf * Math.ceil(h / c.multipleOf);
}

/**
 * The number of parameters of a config, counted from the equations (nothing allocated).
 * `nonEmbedding` leaves out the token embedding (DIFF(gpt2): the head is untied, so it stays counted).
 */
export function countParameters(c: LlamaConfig, opts: { nonEmbedding?: boolean } = {}): number {
  const { vocabSize: V, nLayer: L, nEmbd: C } = c;
  const kv = c.nKvHeads * (C / c.nHead); //        nkv·hs: the width of k and v  DIFF(gpt2): GQA
  const I = intermediateSize(c); //                DIFF(gpt2): SwiGLU hidden size
  const norm = C; //                               g (C)  DIFF(gpt2): RMSNorm has no β; no biases
  const attn = C * C + 2 * kv * C + C * C; //      wq (C, C), wk, wv (nkv·hs, C), wo (C, C)
  const mlp = 3 * I * C; //                        gate, up (I, C), down (C, I)  DIFF(gpt2): SwiGLU
  const block = 2 * norm + attn + mlp;
  const embedding = opts.nonEmbedding ? 0 : V * C;
  return embedding + L * block + norm + V * C; //  tokEmb, blocks, normF, lmHead  DIFF(gpt2): no positions, untied head
}

/**
 * The architecture in one row (src/models/architecture.ts). FLOPs per token at the full context T =
 * blockSize: per block wq and wo 2·C² each, wk and wv 2·C·(nkv·hs) each (GQA), the SwiGLU MLP 3·2·C·I,
 * and attention's q·kᵀ and α·v over T keys, 2·T·C each (every query head, the kv heads repeated); then
 * the untied head 2·C·V.
 */
export function describe(c: LlamaConfig, title = "LLaMA"): Architecture {
  const { vocabSize: V, blockSize: T, nLayer: L, nHead: nh, nKvHeads: nkv, nEmbd: C } = c;
  const kv = nkv * (C / nh),
    I = intermediateSize(c);
  const block = 2 * linearFlops(C, C) + 2 * linearFlops(C, kv) + 3 * linearFlops(C, I) + 2 * linearFlops(C, T); // + q·kᵀ, α·v
  return {
    title,
    config: `${L} layers, ${nh} heads (${nkv} KV), C ${C}, I ${I}, context ${T}, V ${V}`,
    parameters: countParameters(c),
    // tokEmb; per block norm1, wq wk wv wo, norm2, gate up down; normF; lmHead
    layers: sortedKinds({ [Embedding.name]: 1, [RMSNorm.name]: 2 * L + 1, [Linear.name]: 7 * L + 1 }),
    normalization: `${RMSNorm.name} before each sub-block (pre-norm) and after the last block, no bias`,
    positions: `rotary (RoPE, θ ${c.ropeTheta}) on q and k in every block; no position embedding`,
    attention:
      nkv === nh
        ? `causal multi-head self-attention, ${nh} heads × ${C / nh}, scaled dot product`
        : `causal grouped-query self-attention, ${nh} query heads × ${C / nh} sharing ${nkv} key/value heads`,
    activation: `SwiGLU (silu(gate)·up, I ${I}) in the MLP`,
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

  constructor(c: LlamaConfig, generator: Generator) {
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

/** DIFF(gpt2): the SwiGLU feed-forward network (Shazeer 2020): down(silu(gate(x)) ⊙ up(x)), I wide inside. */
export class MLP extends Module {
  gate: Linear; // DIFF(gpt2): the gate's own matrix
  up: Linear;
  down: Linear;
  drop: Dropout;

  constructor(c: LlamaConfig, generator: Generator) {
    super();
    const I = intermediateSize(c); // DIFF(gpt2): ≈ 2/3·4C, not 4C
    this.gate = new Linear(c.nEmbd, I, { bias: false, generator }); // DIFF(gpt2)
    this.up = new Linear(c.nEmbd, I, { bias: false, generator }); // DIFF(gpt2): no bias
    this.down = new Linear(I, c.nEmbd, { bias: false, generator }); // DIFF(gpt2): no bias
    this.drop = new Dropout(c.dropout);
  }

  forward(x: Tensor): Tensor {
    const h = this.up.forward(x); // (B, T, I)
    // DIFF(gpt2): SwiGLU(x) = silu(x·W_gateᵀ) ⊙ x·W_upᵀ, silu(a) = a·σ(a) (Shazeer 2020 eq. 6, β = 1)
    const g = F.silu(this.gate.forward(x)).mul(h); // (B, T, I)
    return this.drop.forward(this.down.forward(g)); // (B, T, C)
  }
}

// DIFF(gpt2): no TiedHead — the output head is a Linear with a weight of its own

// =====================================================================================================
// Block

/** A pre-norm Transformer block: each sub-layer reads a normalised copy of the residual stream and adds back. */
export class Block extends Module {
  norm1: RMSNorm; // DIFF(gpt2): RMSNorm
  attn: CausalSelfAttention;
  norm2: RMSNorm; // DIFF(gpt2): RMSNorm
  mlp: MLP;

  constructor(c: LlamaConfig, generator: Generator) {
    super();
    this.norm1 = new RMSNorm(c.nEmbd, { eps: c.normEps }); // DIFF(gpt2): RMSNorm, eps from the config
    this.attn = new CausalSelfAttention(c, generator);
    this.norm2 = new RMSNorm(c.nEmbd, { eps: c.normEps }); // DIFF(gpt2): RMSNorm, eps from the config
    this.mlp = new MLP(c, generator);
  }

  forward(x: Tensor, cache?: LayerCache): Tensor {
    // x ← x + attn(RMSNorm(x));  x ← x + mlp(RMSNorm(x))   (pre-norm, LLaMA §2.2)  DIFF(gpt2): RMSNorm
    x = x.add(this.attn.forward(this.norm1.forward(x), cache)); // (B, T, C)
    x = x.add(this.mlp.forward(this.norm2.forward(x))); //         (B, T, C)
    return x;
  }
}

// =====================================================================================================
// Model

export interface LlamaOptions {
  /** the source of the initial weights (default: the library's default generator, seeded by manualSeed) */
  generator?: Generator;
}

export interface LlamaOutput {
  logits: Tensor; // (B, T, V)
  /** mean cross-entropy over all B·T positions, when targets were given */
  loss: Tensor | null; // ()
}

export class Llama extends Module {
  readonly config: LlamaConfig;
  tokEmb: Embedding;
  // DIFF(gpt2): no posEmb (positions enter through RoPE in every block)
  drop: Dropout;
  blocks: ModuleList<Block>;
  normF: RMSNorm; // DIFF(gpt2): RMSNorm
  lmHead: Linear; // DIFF(gpt2): untied, a weight of its own

  constructor(config: LlamaConfig, opts: LlamaOptions = {}) {
    super();
    const c = (this.config = llamaConfig(config));
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
   * cross-entropy of predicting each next token.
   */
  forward(idx: Tensor, targets?: Tensor | null, cache?: KVCache): LlamaOutput {
    const h = this.hidden(idx, cache); // (B, T, C)
    const logits = this.lmHead.forward(h); // (B, T, V)
    if (!targets) return { logits, loss: null };
    const [B, T, V] = logits.shape as [number, number, number];
    if (targets.shape.length !== 2 || targets.shape[0] !== B || targets.shape[1] !== T) {
      throw new ShapeError(`Llama: targets ${fmt(targets.shape)} must have the shape of idx ${fmt(idx.shape)}`);
    }
    // loss = −(1/BT)·Σ_{b,t} log softmax(logits[b,t])[targets[b,t]]
    const loss = F.crossEntropy(logits.view(B * T, V), targets.view(B * T)); // ()
    return { logits, loss };
  }

  /** The trunk: embedding, blocks and the final norm; the residual stream before the head, (B, T, C). */
  hidden(idx: Tensor, cache?: KVCache): Tensor {
    if (idx.ndim !== 2) throw new ShapeError(`Llama: idx must be (B, T) token ids, got shape ${fmt(idx.shape)}`);
    if (idx.dtype !== "int32")
      throw new DTypeError(`Llama: idx must be int32 token ids, got ${idx.dtype} ${fmt(idx.shape)}`);
    const T = idx.shape[1]!;
    const P = cache?.length ?? 0;
    if (P + T > this.config.blockSize) {
      throw new ShapeError(
        `Llama: ${P ? `${P} cached + ` : ""}${T} tokens exceed blockSize ${this.config.blockSize} (idx ${fmt(idx.shape)})`,
      );
    }
    // x = E[idx]   DIFF(gpt2): no position embedding added (each block rotates q and k instead)
    let x = this.tokEmb.forward(idx); // (B, T, C)
    x = this.drop.forward(x);
    let l = 0;
    for (const block of this.blocks) x = block.forward(x, cache?.layers[l++]); // (B, T, C)
    return this.normF.forward(x); // (B, T, C)
  }

  /** Parameters; `nonEmbedding` leaves out the token embedding (DIFF(gpt2): the untied head stays). */
  override numParameters(opts: { nonEmbedding?: boolean } = {}): number {
    const n = super.numParameters();
    return opts.nonEmbedding ? n - this.tokEmb.weight.numel() : n;
  }

  // ===================================================================================================
  // Init

  /**
   * HF's LlamaPreTrainedModel init (initializer_range 0.02): every weight matrix, the embedding and the
   * head N(0, 0.02), RMSNorm g = 1. DIFF(gpt2): no N(0, 0.02/√(2L)) residual scaling, no biases to zero.
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
// Weight map: our names ↔ the HF `transformers` LlamaForCausalLM checkpoints (meta-llama/Llama-2-*-hf)
//
// | ours                              | HF LlamaForCausalLM checkpoint                     | shape         |
// |-----------------------------------|----------------------------------------------------|---------------|
// | tokEmb.weight                     | model.embed_tokens.weight                          | (V, C)        |
// | blocks.{i}.norm1.weight           | model.layers.{i}.input_layernorm.weight            | (C)           |
// | blocks.{i}.attn.wq.weight         | model.layers.{i}.self_attn.q_proj.weight           | (C, C)        |
// | blocks.{i}.attn.wk.weight         | model.layers.{i}.self_attn.k_proj.weight           | (nkv·hs, C)   |
// | blocks.{i}.attn.wv.weight         | model.layers.{i}.self_attn.v_proj.weight           | (nkv·hs, C)   |
// | blocks.{i}.attn.wo.weight         | model.layers.{i}.self_attn.o_proj.weight           | (C, C)        |
// | blocks.{i}.norm2.weight           | model.layers.{i}.post_attention_layernorm.weight   | (C)           |
// | blocks.{i}.mlp.gate.weight        | model.layers.{i}.mlp.gate_proj.weight              | (I, C)        |
// | blocks.{i}.mlp.up.weight          | model.layers.{i}.mlp.up_proj.weight                | (I, C)        |
// | blocks.{i}.mlp.down.weight        | model.layers.{i}.mlp.down_proj.weight              | (C, I)        |
// | normF.weight                      | model.norm.weight                                  | (C)           |
// | lmHead.weight                     | lm_head.weight                                     | (V, C)        |
//
// DIFF(gpt2): nothing is transposed or split — HF's LLaMA stores nn.Linear weights (out, in) as we do,
// and q, k, v are separate. Older HF files also hold `self_attn.rotary_emb.inv_freq` buffers: skipped.
//
// Meta's original checkpoints (consolidated.*.pth: tok_embeddings, layers.{i}.attention.wq, …) are NOT
// this layout: Meta's RoPE rotates interleaved pairs (2i, 2i+1) as complex numbers, HF's rotate_half
// pairs (i, i + hs/2). HF's convert_llama_weights_to_hf.py therefore permutes the rows of wq and wk in
// every head: W_hf = W_meta.view(h, hs/2, 2, C).transpose(1, 2).reshape(h·hs, C) (h = nh for wq, nkv for wk).
// `fromMetaRotaryLayout` below is that permutation; with it, q·kᵀ is unchanged (a test checks).

// DIFF(gpt2): one tensor each, no transposes
const WEIGHT_MAP: readonly MapEntry[] = [
  e("tokEmb.weight", "model.embed_tokens.weight"),
  e("blocks.{i}.norm1.weight", "model.layers.{i}.input_layernorm.weight"),
  e("blocks.{i}.attn.wq.weight", "model.layers.{i}.self_attn.q_proj.weight"),
  e("blocks.{i}.attn.wk.weight", "model.layers.{i}.self_attn.k_proj.weight"),
  e("blocks.{i}.attn.wv.weight", "model.layers.{i}.self_attn.v_proj.weight"),
  e("blocks.{i}.attn.wo.weight", "model.layers.{i}.self_attn.o_proj.weight"),
  e("blocks.{i}.norm2.weight", "model.layers.{i}.post_attention_layernorm.weight"),
  e("blocks.{i}.mlp.gate.weight", "model.layers.{i}.mlp.gate_proj.weight"),
  e("blocks.{i}.mlp.up.weight", "model.layers.{i}.mlp.up_proj.weight"),
  e("blocks.{i}.mlp.down.weight", "model.layers.{i}.mlp.down_proj.weight"),
  e("normF.weight", "model.norm.weight"),
  e("lmHead.weight", "lm_head.weight"),
];

/** Keys that a LLaMA checkpoint may hold and that we do not load: the rotary frequency buffers. */
const SKIPPED = /^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/;

/** The table with {i} expanded for each block. */
const expandedMap = (c: LlamaConfig): MapEntry[] => expandMap(WEIGHT_MAP, { i: c.nLayer });

/** A LLaMA checkpoint's state dict (HF names) → ours, ready for `model.loadStateDict`; names and shapes checked. */
export const fromLlamaCheckpoint = (state: Record<string, Tensor>, config: LlamaConfig): Record<string, Tensor> =>
  fromCheckpointWith("fromLlamaCheckpoint", state, expandedMap(config), {
    skipped: SKIPPED,
    shapes: shapesOf(() => new Llama(config)),
  });

/** Our state dict → a LLaMA checkpoint's names (HF LlamaForCausalLM). */
export const toLlamaCheckpoint = (state: Record<string, Tensor>, config: LlamaConfig): Record<string, Tensor> =>
  toCheckpointWith("toLlamaCheckpoint", state, expandedMap(config));

/**
 * A wq or wk weight of Meta's original checkpoints (interleaved RoPE pairs) → the HF layout (half-split
 * pairs) used here: within each of the `heads` heads, row 2i + s moves to row s·hs/2 + i (s ∈ {0, 1}).
 * W (heads·hs, C) → (heads, hs/2, 2, C) → transpose(1, 2) → (heads·hs, C).
 */
export function fromMetaRotaryLayout(w: Tensor, heads: number): Tensor {
  const [rows, C] = w.shape as [number, number];
  const hs = rows / heads;
  return noGrad(() =>
    w
      .view(heads, hs / 2, 2, C)
      .transpose(1, 2)
      .reshape(rows, C),
  );
}

// =====================================================================================================
// Generate

/**
 * Append `maxNewTokens` tokens to idx (B, T0) and return (B, T0 + maxNewTokens). Each step feeds only
 * the new token: the keys and values of the earlier ones come from a KV cache. When the context
 * reaches blockSize, the cache is rebuilt from the last blockSize tokens (the window restarts at
 * position 0, as GPT-2's does; RoPE itself would not need it), which is nanoGPT's crop `idx[:, -block_size:]`.
 */
export function generate(model: Llama, idx: Tensor, maxNewTokens: number, opts: GenerateOptions = {}): Tensor {
  return generateWithCache(model, idx, maxNewTokens, opts, () => new KVCache(model.config.nLayer));
}
