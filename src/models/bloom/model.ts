// BLOOM: a decoder-only Transformer language model with ALiBi attention biases.
//   BigScience Workshop 2022, "BLOOM: A 176B-Parameter Open-Access Multilingual Language Model"
//   https://arxiv.org/abs/2211.05100
//   Press, Smith, Lewis 2022, "Train Short, Test Long: Attention with Linear Biases Enables Input Length
//   Extrapolation" (ALiBi), https://arxiv.org/abs/2108.12409
//   Dettmers et al. 2022, "8-bit Optimizers via Block-wise Quantization" (the embedding LayerNorm, §5)
//
// Differences from GPT-2 (src/models/gpt2/model.ts), each marked `// DIFF(gpt2): …` where it happens:
//   1. no position embeddings: each head h adds a linear bias m_h·(j − i) to its attention scores (ALiBi),
//      with head slopes m_h = 2^(−8h/n) for n = nh a power of two, interleaved from 2n's slopes otherwise;
//   2. a LayerNorm right after the word embedding (normEmb), before the first block;
//   3. forward accepts any length (ALiBi extrapolates); blockSize is only the window `generate` keeps;
//   4. init: every weight N(0, 0.02), without GPT-2's 1/√(2L) residual scaling (HF's BloomPreTrainedModel);
//   5. the checkpoint fuses q, k, v per head: query_key_value's rows are (nh, 3, hs), see the weight map.
// The same as GPT-2: pre-LN blocks, a 4× MLP with GELU (tanh), biases everywhere, normF, the tied head.
//
// Read top to bottom: config → layers (ALiBi, attention, MLP) → block → model → init → weight map → generate.
// The checkpoint's key names appear only in the weight-map table near the bottom.
//
// Vocabulary (shape comments): B batch, T tokens in this call, P tokens already in the KV cache,
// C = nEmbd channels, nh = nHead heads, hs = C/nh head size, V vocabulary, L = nLayer blocks.

import { noGrad } from "../../engine/autograd.js";
import { tensor, zeros } from "../../engine/creation.js";
import { inMetaExecution } from "../../engine/meta.js";
import { DTypeError, ShapeError } from "../../engine/errors.js";
import { configOf } from "../presets.js";
import { defaultGenerator, Generator } from "../../engine/rng.js";
import { fmt } from "../../engine/shape.js";
import type { Tensor } from "../../engine/tensor.js";
import { cat } from "../../ops/shape.js";
import * as F from "../../nn/functional.js";
import { Module, ModuleList } from "../../nn/module.js";
import { Dropout, Embedding, LayerNorm, Linear } from "../../nn/index.js";
import { normal_, zeros_ } from "../../nn/init.js";
import { linearFlops, sortedKinds, type Architecture } from "../architecture.js";
import { entry as e, expandMap, fromCheckpointWith, toCheckpointWith, type MapEntry } from "../weight-map.js";
import { KVCache, type LayerCache } from "../../nn/kv-cache.js"; // the same as GPT-2's
import { TiedHead } from "../../nn/linear.js"; // the same as GPT-2's
import { generateWithCache } from "../../generation/decode.js";
import type { GenerateOptions } from "../../generation/sampling.js";

export { KVCache, type GenerateOptions, type LayerCache };

// =====================================================================================================
// Config

export interface BloomConfig {
  /** tokens in the vocabulary (V) */
  readonly vocabSize: number;
  /** DIFF(gpt2): no learned positions; the context `generate` keeps (BLOOM was trained on 2048) */
  readonly blockSize: number;
  /** Transformer blocks (L) */
  readonly nLayer: number;
  /** attention heads per block (nh); any number (ALiBi interleaves slopes when it is not a power of two) */
  readonly nHead: number;
  /** channels of the residual stream (C); a multiple of nHead */
  readonly nEmbd: number;
  /** dropout on the attention probabilities and both residual branches (BLOOM: 0) */
  readonly dropout: number;
  /** biases in the Linears and LayerNorms (BLOOM: true) */
  readonly bias: boolean;
}

/** A checked, frozen config: `bloomConfig("tiny", { vocabSize: tokenizer.vocabSize })`. */
export function bloomConfig(
  base: BloomConfig | keyof typeof PRESETS,
  overrides: Partial<BloomConfig> = {},
): BloomConfig {
  return configOf("BloomConfig", PRESETS, base, overrides, {
    positive: ["vocabSize", "blockSize", "nLayer", "nHead", "nEmbd"],
    multiples: [["nEmbd", "nHead"]],
    probabilities: ["dropout"],
    flags: ["bias"],
  });
}

export const PRESETS = Object.freeze({
  /** bigscience/bloom-560m: 559,214,592 parameters (the tied head counted once) */
  "bloom-560m": Object.freeze({
    vocabSize: 250880,
    blockSize: 2048,
    nLayer: 24,
    nHead: 16,
    nEmbd: 1024,
    dropout: 0,
    bias: true,
  }),
  /** GPT-2's `tiny` (nanoGPT's Shakespeare-char on a CPU) with BLOOM's architecture, for side-by-side runs */
  tiny: Object.freeze({ vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0, bias: true }),
} satisfies Record<string, BloomConfig>);

/** The number of parameters of a config, counted from the equations (nothing allocated), the tied head once. */
export function countParameters(c: BloomConfig): number {
  const { vocabSize: V, nLayer: L, nEmbd: C } = c;
  const b = c.bias ? 1 : 0;
  const norm = C + b * C; //                      γ (C), β (C)
  const attn = 4 * (C * C + b * C); //            wq, wk, wv, wo: W (C, C), b (C)
  const mlp = C * 4 * C + b * 4 * C + 4 * C * C + b * C; // up (4C, C) + (4C), down (C, 4C) + (C)
  const block = 2 * norm + attn + mlp;
  // DIFF(gpt2): no position embeddings; one more LayerNorm (normEmb) after the word embedding
  return V * C + norm + L * block + norm; //  tokEmb (= lmHead), normEmb, blocks, normF
}

/**
 * The architecture in one row (src/models/architecture.ts). FLOPs per token at the context T = blockSize
 * (forward takes any length; generation keeps blockSize): per block GPT-2's 24C² (four C×C projections,
 * the 4× MLP) plus attention's q·kᵀ and α·v over T keys, 2·T·C each; then the tied head 2·C·V. The ALiBi
 * bias is an elementwise add, not counted.
 */
export function describe(c: BloomConfig, title = "BLOOM"): Architecture {
  const { vocabSize: V, blockSize: T, nLayer: L, nHead: nh, nEmbd: C } = c;
  const block = 4 * linearFlops(C, C) + linearFlops(C, 4 * C) + linearFlops(4 * C, C) + 2 * linearFlops(C, T); // + q·kᵀ, α·v
  return {
    title,
    config: `${L} layers, ${nh} heads, C ${C}, context ${T}, V ${V}`,
    parameters: countParameters(c),
    // tokEmb; normEmb; per block norm1, wq wk wv wo, norm2, up, down; normF; the tied head
    layers: sortedKinds({ [Embedding.name]: 1, [LayerNorm.name]: 2 * L + 2, [Linear.name]: 6 * L, [TiedHead.name]: 1 }),
    normalization: `${LayerNorm.name} after the word embedding, before each sub-block (pre-LN) and after the last block`,
    positions: "ALiBi: a linear bias m_h·(j − i) on each head's attention scores; no position embedding",
    attention: `causal multi-head self-attention, ${nh} heads × ${C / nh}, scaled dot product plus the ALiBi bias`,
    activation: "GELU (tanh approximation) in the 4× MLP",
    flops: { value: L * block + linearFlops(C, V), per: "token", at: `context ${T}` },
  };
}

// =====================================================================================================
// Layers

/**
 * ALiBi's head slopes (Press et al. 2022, §3): for n heads, n a power of two, the geometric sequence that
 * starts at and has ratio 2^(−8/n): m_h = 2^(−8h/n), h = 1…n (n = 8: 1/2, 1/4, …, 1/256). Otherwise, with
 * p the largest power of two below n, the p slopes of p heads, then the slopes of 2p heads at the odd
 * positions, 2^(−4(2h−1)/p), h = 1…n−p (the ones that fall between the first p).
 */
export function alibiSlopes(nh: number): number[] {
  const p = 2 ** Math.floor(Math.log2(nh)); // the closest power of two ≤ nh
  const slopes = Array.from({ length: p }, (_, h) => 2 ** ((-8 * (h + 1)) / p)); // m_h = 2^(−8h/p)
  for (let h = 1; h <= nh - p; h++) slopes.push(2 ** ((-4 * (2 * h - 1)) / p)); // 2p's slopes 1, 3, 5, …
  return slopes;
}

/**
 * The additive attention bias of this call, ALiBi plus the causal mask: query i of this call sits at
 * position P + i and key j at position j, A_hij = m_h·(j − (P + i)) for j ≤ P + i, −∞ otherwise.
 * (HF adds m_h·j instead; the two differ by m_h·(P + i) along a row, which softmax ignores.)
 */
export function alibiBias(slopes: readonly number[], P: number, T: number): Tensor {
  const nh = slopes.length,
    S = P + T;
  if (inMetaExecution()) return zeros([nh, T, S]); // a memory estimate counts the bias's bytes, not its values
  const A = new Float32Array(nh * T * S);
  for (let h = 0; h < nh; h++) {
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < S; j++) A[(h * T + i) * S + j] = j <= P + i ? slopes[h]! * (j - (P + i)) : -Infinity;
    }
  }
  return tensor(A, { shape: [nh, T, S] }); // (nh, T, P+T)
}

/** Masked multi-head self-attention with linear biases (ALiBi) instead of position embeddings. */
export class CausalSelfAttention extends Module {
  readonly nHead: number;
  readonly dropoutP: number;
  readonly slopes: number[];
  wq: Linear;
  wk: Linear;
  wv: Linear;
  wo: Linear;
  residDrop: Dropout;

  constructor(c: BloomConfig, generator: Generator) {
    super();
    this.nHead = c.nHead;
    this.dropoutP = c.dropout;
    this.slopes = alibiSlopes(c.nHead); // DIFF(gpt2): one ALiBi slope per head
    const opts = { bias: c.bias, generator };
    this.wq = new Linear(c.nEmbd, c.nEmbd, opts);
    this.wk = new Linear(c.nEmbd, c.nEmbd, opts);
    this.wv = new Linear(c.nEmbd, c.nEmbd, opts);
    this.wo = new Linear(c.nEmbd, c.nEmbd, opts);
    this.residDrop = new Dropout(c.dropout);
  }

  forward(x: Tensor, cache?: LayerCache): Tensor {
    const [B, T, C] = x.shape as [number, number, number]; // x (B, T, C)
    const nh = this.nHead,
      hs = C / nh;
    // q = x·Wqᵀ + bq, k = x·Wkᵀ + bk, v = x·Wvᵀ + bv, each split into nh heads of hs channels
    const q = this.wq.forward(x).view(B, T, nh, hs).transpose(1, 2); // (B, nh, T, hs)
    let k = this.wk.forward(x).view(B, T, nh, hs).transpose(1, 2); //   (B, nh, T, hs)
    let v = this.wv.forward(x).view(B, T, nh, hs).transpose(1, 2); //   (B, nh, T, hs)
    const P = cache?.k ? cache.k.shape[2]! : 0;
    if (cache) {
      // append this call's keys and values to those of the earlier tokens
      if (cache.k && cache.v) {
        k = cat([cache.k, k], 2); // (B, nh, P+T, hs)
        v = cat([cache.v, v], 2); // (B, nh, P+T, hs)
      }
      cache.k = k;
      cache.v = v;
    }
    // DIFF(gpt2): y = softmax(q·kᵀ/√hs + m_h·(j − i) + M)·v, the ALiBi bias and the causal mask in one (ALiBi eq. in §3)
    const dropoutP = this.training ? this.dropoutP : 0;
    const y = F.scaledDotProductAttention(q, k, v, { attnMask: alibiBias(this.slopes, P, T), dropoutP }); // (B, nh, T, hs)
    // concatenate the heads: (B, nh, T, hs) → (B, T, nh·hs = C), then the output projection
    const merged = y.transpose(1, 2).reshape(B, T, C); // (B, T, C)
    return this.residDrop.forward(this.wo.forward(merged)); // (B, T, C)
  }
}

/** The position-wise feed-forward network: two Linears around a GELU, 4× wide inside. */
export class MLP extends Module {
  up: Linear;
  down: Linear;
  drop: Dropout;

  constructor(c: BloomConfig, generator: Generator) {
    super();
    this.up = new Linear(c.nEmbd, 4 * c.nEmbd, { bias: c.bias, generator });
    this.down = new Linear(4 * c.nEmbd, c.nEmbd, { bias: c.bias, generator });
    this.drop = new Dropout(c.dropout);
  }

  forward(x: Tensor): Tensor {
    const h = this.up.forward(x); // (B, T, 4C)
    // GELU, the tanh approximation (BLOOM's bloom_gelu_forward): g(h) = h/2·(1 + tanh(√(2/π)·(h + 0.044715h³)))
    const g = F.gelu(h, { approximate: "tanh" }); // (B, T, 4C)
    return this.drop.forward(this.down.forward(g)); // (B, T, C)
  }
}

// =====================================================================================================
// Block

/** A pre-LN Transformer block: each sub-layer reads a normalised copy of the residual stream and adds back. */
export class Block extends Module {
  norm1: LayerNorm;
  attn: CausalSelfAttention;
  norm2: LayerNorm;
  mlp: MLP;

  constructor(c: BloomConfig, generator: Generator) {
    super();
    this.norm1 = new LayerNorm(c.nEmbd, { bias: c.bias });
    this.attn = new CausalSelfAttention(c, generator);
    this.norm2 = new LayerNorm(c.nEmbd, { bias: c.bias });
    this.mlp = new MLP(c, generator);
  }

  forward(x: Tensor, cache?: LayerCache): Tensor {
    // x ← x + attn(LN(x));  x ← x + mlp(LN(x))   (pre-LN, as GPT-2)
    x = x.add(this.attn.forward(this.norm1.forward(x), cache)); // (B, T, C)
    x = x.add(this.mlp.forward(this.norm2.forward(x))); //         (B, T, C)
    return x;
  }
}

// =====================================================================================================
// Model

export interface BloomOptions {
  /** the source of the initial weights (default: the library's default generator, seeded by manualSeed) */
  generator?: Generator;
}

export interface BloomOutput {
  logits: Tensor; // (B, T, V)
  /** mean cross-entropy over all B·T positions, when targets were given */
  loss: Tensor | null; // ()
}

export class Bloom extends Module {
  readonly config: BloomConfig;
  tokEmb: Embedding;
  normEmb: LayerNorm; // DIFF(gpt2): a LayerNorm after the word embedding, in place of posEmb
  drop: Dropout;
  blocks: ModuleList<Block>;
  normF: LayerNorm;
  lmHead: TiedHead;

  constructor(config: BloomConfig, opts: BloomOptions = {}) {
    super();
    const c = (this.config = bloomConfig(config));
    const generator = opts.generator ?? defaultGenerator;
    this.tokEmb = new Embedding(c.vocabSize, c.nEmbd, { generator });
    this.normEmb = new LayerNorm(c.nEmbd, { bias: c.bias }); // DIFF(gpt2): word_embeddings_layernorm, no posEmb
    this.drop = new Dropout(c.dropout);
    this.blocks = new ModuleList(Array.from({ length: c.nLayer }, () => new Block(c, generator)));
    this.normF = new LayerNorm(c.nEmbd, { bias: c.bias });
    // weight tying (Press & Wolf 2017): the output head reads the token embedding, logits = h·Eᵀ.
    // One tensor in two places: namedParameters lists it once, as tokEmb.weight.
    this.lmHead = new TiedHead(this.tokEmb.weight);
    this.initWeights(generator);
  }

  /**
   * idx (B, T) int32 token ids → logits (B, T, V) for every position, and with targets (B, T) the mean
   * cross-entropy of predicting each next token.
   */
  forward(idx: Tensor, targets?: Tensor | null, cache?: KVCache): BloomOutput {
    const h = this.hidden(idx, cache); // (B, T, C)
    const logits = this.lmHead.forward(h); // (B, T, V)
    if (!targets) return { logits, loss: null };
    const [B, T, V] = logits.shape as [number, number, number];
    if (targets.shape.length !== 2 || targets.shape[0] !== B || targets.shape[1] !== T) {
      throw new ShapeError(`Bloom: targets ${fmt(targets.shape)} must have the shape of idx ${fmt(idx.shape)}`);
    }
    // loss = −(1/BT)·Σ_{b,t} log softmax(logits[b,t])[targets[b,t]]
    const loss = F.crossEntropy(logits.view(B * T, V), targets.view(B * T)); // ()
    return { logits, loss };
  }

  /** The trunk: embeddings, blocks and the final norm; the residual stream before the head, (B, T, C). */
  hidden(idx: Tensor, cache?: KVCache): Tensor {
    if (idx.ndim !== 2) throw new ShapeError(`Bloom: idx must be (B, T) token ids, got shape ${fmt(idx.shape)}`);
    if (idx.dtype !== "int32")
      throw new DTypeError(`Bloom: idx must be int32 token ids, got ${idx.dtype} ${fmt(idx.shape)}`);
    // DIFF(gpt2): no blockSize check: ALiBi has no learned positions to run out of
    // DIFF(gpt2): x = LN_emb(E[idx]), no position embedding (positions enter as ALiBi biases in attention)
    let x = this.normEmb.forward(this.tokEmb.forward(idx)); // (B, T, C)
    x = this.drop.forward(x);
    let l = 0;
    for (const block of this.blocks) x = block.forward(x, cache?.layers[l++]); // (B, T, C)
    return this.normF.forward(x); // (B, T, C)
  }

  // ===================================================================================================
  // Init

  /**
   * BLOOM's initialisation (HF's BloomPreTrainedModel._init_weights): every weight matrix and the embedding
   * N(0, 0.02), biases 0, LayerNorm γ = 1, β = 0.
   * DIFF(gpt2): no 1/√(2L) scaling of the residual projections.
   */
  private initWeights(generator: Generator): void {
    const std = 0.02;
    noGrad(() => {
      for (const [, m] of this.namedModules()) {
        if (m instanceof Linear) {
          normal_(m.weight, 0, std, { generator });
          if (m.bias) zeros_(m.bias);
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
// Weight map: our names ↔ the released BLOOM checkpoints (BloomForCausalLM, as HF transformers names them)
//
// | ours                              | BLOOM checkpoint                                        | how                  |
// |-----------------------------------|---------------------------------------------------------|----------------------|
// | tokEmb.weight (V, C)              | transformer.word_embeddings.weight (V, C)               |                      |
// | normEmb.weight/.bias              | transformer.word_embeddings_layernorm.weight/.bias      |                      |
// | blocks.{i}.norm1.weight/.bias     | transformer.h.{i}.input_layernorm.weight/.bias          |                      |
// | blocks.{i}.attn.wq/wk/wv.weight   | transformer.h.{i}.self_attention.query_key_value.weight | (3C, C): per head    |
// | blocks.{i}.attn.wq/wk/wv.bias     | transformer.h.{i}.self_attention.query_key_value.bias   | (3C): per head       |
// | blocks.{i}.attn.wo.weight/.bias   | transformer.h.{i}.self_attention.dense.weight/.bias     |                      |
// | blocks.{i}.norm2.weight/.bias     | transformer.h.{i}.post_attention_layernorm.weight/.bias |                      |
// | blocks.{i}.mlp.up.weight/.bias    | transformer.h.{i}.mlp.dense_h_to_4h.weight/.bias        |                      |
// | blocks.{i}.mlp.down.weight/.bias  | transformer.h.{i}.mlp.dense_4h_to_h.weight/.bias        |                      |
// | normF.weight/.bias                | transformer.ln_f.weight/.bias                           |                      |
// | lmHead.weight (= tokEmb.weight)   | lm_head.weight                                          | tied: not stored     |
//
// DIFF(gpt2): nothing is transposed (BLOOM's Linears store (out, in), as ours). Per head: query_key_value
// interleaves q, k and v head by head, its 3C rows are (nh, 3, hs) — head 0's q, k, v, then head 1's, … —
// so row h·3·hs + s·hs + d is row h·hs + d of wq (s = 0), wk (s = 1) or wv (s = 2). GPT-2's c_attn is
// instead q, k, v side by side (3, nh, hs).
// Reading also accepts the names without "transformer." (HF's BloomModel files, such as bloom-560m's).

const WEIGHT_MAP: readonly MapEntry[] = [
  e("tokEmb.weight", "transformer.word_embeddings.weight"),
  e("normEmb.weight", "transformer.word_embeddings_layernorm.weight"),
  e("normEmb.bias", "transformer.word_embeddings_layernorm.bias"),
  e("blocks.{i}.norm1.weight", "transformer.h.{i}.input_layernorm.weight"),
  e("blocks.{i}.norm1.bias", "transformer.h.{i}.input_layernorm.bias"),
  e(
    ["blocks.{i}.attn.wq.weight", "blocks.{i}.attn.wk.weight", "blocks.{i}.attn.wv.weight"],
    "transformer.h.{i}.self_attention.query_key_value.weight",
  ),
  e(
    ["blocks.{i}.attn.wq.bias", "blocks.{i}.attn.wk.bias", "blocks.{i}.attn.wv.bias"],
    "transformer.h.{i}.self_attention.query_key_value.bias",
  ),
  e("blocks.{i}.attn.wo.weight", "transformer.h.{i}.self_attention.dense.weight"),
  e("blocks.{i}.attn.wo.bias", "transformer.h.{i}.self_attention.dense.bias"),
  e("blocks.{i}.norm2.weight", "transformer.h.{i}.post_attention_layernorm.weight"),
  e("blocks.{i}.norm2.bias", "transformer.h.{i}.post_attention_layernorm.bias"),
  e("blocks.{i}.mlp.up.weight", "transformer.h.{i}.mlp.dense_h_to_4h.weight"),
  e("blocks.{i}.mlp.up.bias", "transformer.h.{i}.mlp.dense_h_to_4h.bias"),
  e("blocks.{i}.mlp.down.weight", "transformer.h.{i}.mlp.dense_4h_to_h.weight"),
  e("blocks.{i}.mlp.down.bias", "transformer.h.{i}.mlp.dense_4h_to_h.bias"),
  e("normF.weight", "transformer.ln_f.weight"),
  e("normF.bias", "transformer.ln_f.bias"),
];

/** Keys that a BLOOM checkpoint may hold and that we do not load: the tied head. */
const SKIPPED = /^lm_head\.weight$/;

/** The table with {i} expanded for each block; entries whose tensors the config lacks (bias: false) dropped. */
const expandedMap = (c: BloomConfig): MapEntry[] =>
  expandMap(WEIGHT_MAP, { i: c.nLayer }, (m) => c.bias || !m.ours[0]!.endsWith(".bias"));

/** query_key_value (3C, …) with rows (nh, 3, hs) → wq, wk, wv (C, …) each. */
function unfusePerHead(t: Tensor, nh: number): Tensor[] {
  const [rows, ...rest] = t.shape as number[];
  const hs = rows! / 3 / nh;
  const heads = t.reshape([nh, 3, hs, ...rest]); // (nh, 3, hs, …)
  return [0, 1, 2].map((s) => heads.narrow(1, s, 1).reshape([nh * hs, ...rest])); // (C, …)
}

/** wq, wk, wv (C, …) → query_key_value (3C, …) with rows (nh, 3, hs). */
function fusePerHead(parts: Tensor[], nh: number): Tensor {
  const [C, ...rest] = parts[0]!.shape as number[];
  const hs = C! / nh;
  const heads = parts.map((p) => p.reshape([nh, 1, hs, ...rest])); // (nh, 1, hs, …) each
  return cat(heads, 1).reshape([3 * C!, ...rest]); // (nh, 3, hs, …) → (3C, …)
}

/** A BLOOM checkpoint's state dict (HF names and layouts) → ours, ready for `model.loadStateDict`. */
export const fromBloomCheckpoint = (state: Record<string, Tensor>, config: BloomConfig): Record<string, Tensor> =>
  fromCheckpointWith("fromBloomCheckpoint", state, expandedMap(config), {
    skipped: SKIPPED,
    prefix: "transformer",
    unfuse: (t) => unfusePerHead(t, config.nHead),
  });

/** Our state dict → a BLOOM checkpoint's names and layouts (without the tied lm_head.weight). */
export const toBloomCheckpoint = (state: Record<string, Tensor>, config: BloomConfig): Record<string, Tensor> =>
  toCheckpointWith("toBloomCheckpoint", state, expandedMap(config), (parts) => fusePerHead(parts, config.nHead));

// =====================================================================================================
// Generate

/**
 * Append `maxNewTokens` tokens to idx (B, T0) and return (B, T0 + maxNewTokens). Each step feeds only
 * the new token: the keys and values of the earlier ones come from a KV cache. When the context
 * reaches blockSize, the cache is rebuilt from the last blockSize tokens (as GPT-2's generate does, so
 * the cached and recomputed windows agree; ALiBi itself would accept the longer context).
 */
export function generate(model: Bloom, idx: Tensor, maxNewTokens: number, opts: GenerateOptions = {}): Tensor {
  return generateWithCache(model, idx, maxNewTokens, opts, () => new KVCache(model.config.nLayer));
}
