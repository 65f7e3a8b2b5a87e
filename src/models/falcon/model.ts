// Falcon (7B style): a decoder-only Transformer with multi-query attention, rotary positions and a
// parallel attention + MLP block.
//   Almazrouei et al. 2023, "The Falcon Series of Open Language Models", https://arxiv.org/abs/2311.16867
//   Penedo et al. 2023, "The RefinedWeb Dataset for Falcon LLM", https://arxiv.org/abs/2306.01116
//   Shazeer 2019, "Fast Transformer Decoding: One Write-Head is All You Need" (multi-query attention),
//   https://arxiv.org/abs/1911.02150
//   Su et al. 2021, "RoFormer: Enhanced Transformer with Rotary Position Embedding", https://arxiv.org/abs/2104.09864
//   Wang & Komatsuzaki 2021, GPT-J (the parallel block y = x + attn(ln(x)) + mlp(ln(x)))
//
// Differences from GPT-2 (src/models/gpt2/model.ts), each marked `// DIFF(gpt2): …` where it happens:
//   1. multi-query attention: nh query heads share ONE key head and ONE value head (wk, wv: C → hs), so
//      the KV cache holds (B, 1, P, hs) instead of (B, nh, P, hs);
//   2. rotary position embeddings on q and k (GPT-NeoX's rotate-half layout), no position embeddings;
//   3. the parallel block: x ← x + attn(LN(x)) + mlp(LN(x)), one shared LayerNorm per block (norm1, no norm2);
//   4. no biases in the Linears (the LayerNorms keep theirs), and GELU exact (erf), not the tanh form;
//   5. forward accepts any length; blockSize is only the window `generate` keeps;
//   6. init: every weight N(0, 0.02), without GPT-2's 1/√(2L) residual scaling (HF's FalconPreTrainedModel);
//   7. the checkpoint fuses q, k, v as nh query heads then one k and one v head: (nh + 2)·hs rows.
// The same as GPT-2: causal softmax attention with scale 1/√hs, a 4× MLP, normF, the tied head.
//
// Read top to bottom: config → layers (rotary, attention, MLP) → block → model → init → weight map → generate.
// The checkpoint's key names appear only in the weight-map table near the bottom.
//
// Vocabulary (shape comments): B batch, T tokens in this call, P tokens already in the KV cache,
// C = nEmbd channels, nh = nHead query heads, hs = C/nh head size, V vocabulary, L = nLayer blocks.

import { noGrad } from "../../engine/autograd.js";
import { DTypeError, ShapeError } from "../../engine/errors.js";
import { configOf } from "../presets.js";
import { defaultGenerator, Generator } from "../../engine/rng.js";
import { fmt } from "../../engine/shape.js";
import type { Tensor } from "../../engine/tensor.js";
import { cat, split } from "../../ops/shape.js";
import * as F from "../../nn/functional.js";
import { Module, ModuleList } from "../../nn/module.js";
import { Dropout, Embedding, LayerNorm, Linear } from "../../nn/index.js";
import { normal_, zeros_ } from "../../nn/init.js";
import { linearFlops, sortedKinds, type Architecture } from "../architecture.js";
import { entry as e, expandMap, fromCheckpointWith, toCheckpointWith, type MapEntry } from "../weight-map.js";
import { KVCache, causalMask, type LayerCache } from "../../nn/kv-cache.js"; // the same as GPT-2's
import { TiedHead } from "../../nn/linear.js"; // the same as GPT-2's
import { applyRotary, rotaryTables } from "../../nn/rotary.js"; // DIFF(gpt2): RoPE, the same as LLaMA's
import { generateWithCache } from "../../generation/decode.js";
import type { GenerateOptions } from "../../generation/sampling.js";

export { KVCache, type GenerateOptions, type LayerCache };

// =====================================================================================================
// Config

export interface FalconConfig {
  /** tokens in the vocabulary (V) */
  readonly vocabSize: number;
  /** DIFF(gpt2): no learned positions; the context `generate` keeps (Falcon-7B was trained on 2048) */
  readonly blockSize: number;
  /** Transformer blocks (L) */
  readonly nLayer: number;
  /** query heads per block (nh); keys and values have one head (multi-query) */
  readonly nHead: number;
  /** channels of the residual stream (C); a multiple of nHead, with an even head size for the rotation */
  readonly nEmbd: number;
  /** dropout on the attention probabilities and the summed residual branch (Falcon: 0) */
  readonly dropout: number;
  /** DIFF(gpt2): biases in the Linears only (Falcon-7B: false); the LayerNorms always have β */
  readonly bias: boolean;
  /** DIFF(gpt2): the rotary base θ: pair k of a head turns by position·θ^(−2k/hs) (Falcon: 10000) */
  readonly ropeTheta: number;
}

/** A checked, frozen config: `falconConfig("tiny", { vocabSize: tokenizer.vocabSize })`. */
export function falconConfig(
  base: FalconConfig | keyof typeof PRESETS,
  overrides: Partial<FalconConfig> = {},
): FalconConfig {
  return configOf("FalconConfig", PRESETS, base, overrides, {
    positive: ["vocabSize", "blockSize", "nLayer", "nHead", "nEmbd"],
    multiples: [["nEmbd", "nHead"]],
    probabilities: ["dropout"],
    flags: ["bias"],
    also: (c) =>
      (c.nEmbd / c.nHead) % 2 !== 0 // DIFF(bloom): the rotation
        ? `the head size ${c.nEmbd / c.nHead} must be even for the rotation`
        : !(c.ropeTheta > 1)
          ? `ropeTheta must be > 1, got ${c.ropeTheta}`
          : undefined,
  });
}

export const PRESETS = Object.freeze({
  /** tiiuae/falcon-7b: 6,921,720,704 parameters (the tied head counted once); head size 4544/71 = 64 */
  "falcon-7b": Object.freeze({
    vocabSize: 65024,
    blockSize: 2048,
    nLayer: 32,
    nHead: 71,
    nEmbd: 4544,
    dropout: 0,
    bias: false,
    ropeTheta: 10000,
  }),
  /** GPT-2's `tiny` (nanoGPT's Shakespeare-char on a CPU) with Falcon's architecture, for side-by-side runs */
  tiny: Object.freeze({
    vocabSize: 65,
    blockSize: 64,
    nLayer: 4,
    nHead: 4,
    nEmbd: 128,
    dropout: 0,
    bias: false,
    ropeTheta: 10000,
  }),
} satisfies Record<string, FalconConfig>);

/** The number of parameters of a config, counted from the equations (nothing allocated), the tied head once. */
export function countParameters(c: FalconConfig): number {
  const { vocabSize: V, nLayer: L, nEmbd: C } = c;
  const hs = C / c.nHead;
  const b = c.bias ? 1 : 0;
  const norm = 2 * C; //                          γ (C), β (C)
  // DIFF(gpt2): multi-query: wq (C, C), wk and wv (hs, C), wo (C, C)
  const attn = 2 * (C * C + b * C) + 2 * (hs * C + b * hs);
  const mlp = C * 4 * C + b * 4 * C + 4 * C * C + b * C; // up (4C, C) + (4C), down (C, 4C) + (C)
  const block = norm + attn + mlp; // DIFF(gpt2): one LayerNorm per block
  return V * C + L * block + norm; //  tokEmb (= lmHead), blocks, normF  DIFF(gpt2): no position embeddings
}

/**
 * The architecture in one row (src/models/architecture.ts). FLOPs per token at the context T = blockSize
 * (forward takes any length; generation keeps blockSize): per block wq and wo 2·C² each, the single key
 * and value heads 2·C·hs each (multi-query), the 4× MLP 2·8C², attention's q·kᵀ and α·v over T keys for
 * every query head, 2·T·C each; then the tied head 2·C·V.
 */
export function describe(c: FalconConfig, title = "Falcon"): Architecture {
  const { vocabSize: V, blockSize: T, nLayer: L, nHead: nh, nEmbd: C } = c;
  const hs = C / nh;
  const block =
    2 * linearFlops(C, C) +
    2 * linearFlops(C, hs) +
    linearFlops(C, 4 * C) +
    linearFlops(4 * C, C) +
    2 * linearFlops(C, T); // + q·kᵀ, α·v
  return {
    title,
    config: `${L} layers, ${nh} heads (1 KV), C ${C}, context ${T}, V ${V}`,
    parameters: countParameters(c),
    // tokEmb; per block norm1, wq wk wv wo, up, down; normF; the tied head
    layers: sortedKinds({ [Embedding.name]: 1, [LayerNorm.name]: L + 1, [Linear.name]: 6 * L, [TiedHead.name]: 1 }),
    normalization: `${LayerNorm.name}, one per block shared by the parallel attention and MLP, and after the last block`,
    positions: `rotary (RoPE, θ ${c.ropeTheta}) on q and k in every block; no position embedding`,
    attention: `causal multi-query self-attention, ${nh} query heads × ${hs} sharing one key/value head`,
    activation: "GELU (exact, erf) in the 4× MLP",
    flops: { value: L * block + linearFlops(C, V), per: "token", at: `context ${T}` },
  };
}

// =====================================================================================================
// Layers

/** Masked multi-query self-attention (Shazeer 2019) with rotary positions. */
export class CausalSelfAttention extends Module {
  readonly nHead: number;
  readonly dropoutP: number;
  readonly ropeTheta: number;
  wq: Linear;
  wk: Linear;
  wv: Linear;
  wo: Linear;
  residDrop: Dropout;

  constructor(c: FalconConfig, generator: Generator) {
    super();
    this.nHead = c.nHead;
    this.dropoutP = c.dropout;
    this.ropeTheta = c.ropeTheta;
    const hs = c.nEmbd / c.nHead;
    const opts = { bias: c.bias, generator };
    this.wq = new Linear(c.nEmbd, c.nEmbd, opts);
    this.wk = new Linear(c.nEmbd, hs, opts); // DIFF(gpt2): one key head (multi-query)
    this.wv = new Linear(c.nEmbd, hs, opts); // DIFF(gpt2): one value head (multi-query)
    this.wo = new Linear(c.nEmbd, c.nEmbd, opts);
    this.residDrop = new Dropout(c.dropout);
  }

  forward(x: Tensor, cache?: LayerCache): Tensor {
    const [B, T, C] = x.shape as [number, number, number]; // x (B, T, C)
    const nh = this.nHead,
      hs = C / nh;
    const P = cache?.k ? cache.k.shape[2]! : 0;
    // q = x·Wqᵀ split into nh heads; k = x·Wkᵀ and v = x·Wvᵀ are ONE head each, shared by all nh
    let q = this.wq.forward(x).view(B, T, nh, hs).transpose(1, 2); // (B, nh, T, hs)
    let k = this.wk.forward(x).view(B, T, 1, hs).transpose(1, 2); //  (B, 1, T, hs)   DIFF(gpt2): multi-query
    let v = this.wv.forward(x).view(B, T, 1, hs).transpose(1, 2); //  (B, 1, T, hs)   DIFF(gpt2): multi-query
    // DIFF(gpt2): rotate q and k by their positions P…P+T: q_p·k_s then depends on p − s only (RoFormer eq. 16)
    const { cos, sin } = rotaryTables(P, T, hs, this.ropeTheta); // (T, hs) each
    q = applyRotary(q, cos, sin); // (B, nh, T, hs)
    k = applyRotary(k, cos, sin); // (B, 1, T, hs)
    if (cache) {
      // append this call's keys and values to those of the earlier tokens
      if (cache.k && cache.v) {
        k = cat([cache.k, k], 2); // (B, 1, P+T, hs)
        v = cat([cache.v, v], 2); // (B, 1, P+T, hs)
      }
      cache.k = k;
      cache.v = v;
    }
    // y = softmax(q·kᵀ/√hs + M)·v, M = −∞ where a key lies in the query's future (Vaswani eq. 1);
    // DIFF(gpt2): k, v (B, 1, …) broadcast over the nh query heads
    const dropoutP = this.training ? this.dropoutP : 0;
    const y = F.scaledDotProductAttention(q, k, v, { ...causalMask(P, T), dropoutP }); // (B, nh, T, hs)
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

  constructor(c: FalconConfig, generator: Generator) {
    super();
    this.up = new Linear(c.nEmbd, 4 * c.nEmbd, { bias: c.bias, generator });
    this.down = new Linear(4 * c.nEmbd, c.nEmbd, { bias: c.bias, generator });
    this.drop = new Dropout(c.dropout);
  }

  forward(x: Tensor): Tensor {
    const h = this.up.forward(x); // (B, T, 4C)
    // DIFF(gpt2): GELU exact, g(h) = h·Φ(h) = h/2·(1 + erf(h/√2)) (Falcon's nn.GELU())
    const g = F.gelu(h); // (B, T, 4C)
    return this.drop.forward(this.down.forward(g)); // (B, T, C)
  }
}

// =====================================================================================================
// Block

/** A parallel block: attention and MLP read the same normalised residual stream, and both add back. */
export class Block extends Module {
  norm1: LayerNorm;
  attn: CausalSelfAttention;
  mlp: MLP; // DIFF(gpt2): no norm2, the MLP reads norm1's output too

  constructor(c: FalconConfig, generator: Generator) {
    super();
    this.norm1 = new LayerNorm(c.nEmbd); // DIFF(gpt2): always with β (Falcon's bias flag is the Linears')
    this.attn = new CausalSelfAttention(c, generator);
    this.mlp = new MLP(c, generator);
  }

  forward(x: Tensor, cache?: LayerCache): Tensor {
    // DIFF(gpt2): x ← x + attn(LN(x)) + mlp(LN(x)), one LN shared (the parallel block, GPT-J / Falcon)
    const h = this.norm1.forward(x); // (B, T, C)
    return x.add(this.attn.forward(h, cache)).add(this.mlp.forward(h)); // (B, T, C)
  }
}

// =====================================================================================================
// Model

export interface FalconOptions {
  /** the source of the initial weights (default: the library's default generator, seeded by manualSeed) */
  generator?: Generator;
}

export interface FalconOutput {
  logits: Tensor; // (B, T, V)
  /** mean cross-entropy over all B·T positions, when targets were given */
  loss: Tensor | null; // ()
}

export class Falcon extends Module {
  readonly config: FalconConfig;
  tokEmb: Embedding;
  drop: Dropout; // DIFF(gpt2): no posEmb
  blocks: ModuleList<Block>;
  normF: LayerNorm;
  lmHead: TiedHead;

  constructor(config: FalconConfig, opts: FalconOptions = {}) {
    super();
    const c = (this.config = falconConfig(config));
    const generator = opts.generator ?? defaultGenerator;
    this.tokEmb = new Embedding(c.vocabSize, c.nEmbd, { generator });
    this.drop = new Dropout(c.dropout);
    this.blocks = new ModuleList(Array.from({ length: c.nLayer }, () => new Block(c, generator)));
    this.normF = new LayerNorm(c.nEmbd);
    // weight tying (Press & Wolf 2017): the output head reads the token embedding, logits = h·Eᵀ.
    // One tensor in two places: namedParameters lists it once, as tokEmb.weight.
    this.lmHead = new TiedHead(this.tokEmb.weight);
    this.initWeights(generator);
  }

  /**
   * idx (B, T) int32 token ids → logits (B, T, V) for every position, and with targets (B, T) the mean
   * cross-entropy of predicting each next token.
   */
  forward(idx: Tensor, targets?: Tensor | null, cache?: KVCache): FalconOutput {
    const h = this.hidden(idx, cache); // (B, T, C)
    const logits = this.lmHead.forward(h); // (B, T, V)
    if (!targets) return { logits, loss: null };
    const [B, T, V] = logits.shape as [number, number, number];
    if (targets.shape.length !== 2 || targets.shape[0] !== B || targets.shape[1] !== T) {
      throw new ShapeError(`Falcon: targets ${fmt(targets.shape)} must have the shape of idx ${fmt(idx.shape)}`);
    }
    // loss = −(1/BT)·Σ_{b,t} log softmax(logits[b,t])[targets[b,t]]
    const loss = F.crossEntropy(logits.view(B * T, V), targets.view(B * T)); // ()
    return { logits, loss };
  }

  /** The trunk: embeddings, blocks and the final norm; the residual stream before the head, (B, T, C). */
  hidden(idx: Tensor, cache?: KVCache): Tensor {
    if (idx.ndim !== 2) throw new ShapeError(`Falcon: idx must be (B, T) token ids, got shape ${fmt(idx.shape)}`);
    if (idx.dtype !== "int32")
      throw new DTypeError(`Falcon: idx must be int32 token ids, got ${idx.dtype} ${fmt(idx.shape)}`);
    // DIFF(gpt2): no blockSize check: rotary positions have no table to run out of
    // DIFF(gpt2): x = E[idx], no position embedding (positions enter as rotations of q and k)
    let x = this.tokEmb.forward(idx); // (B, T, C)
    x = this.drop.forward(x);
    let l = 0;
    for (const block of this.blocks) x = block.forward(x, cache?.layers[l++]); // (B, T, C)
    return this.normF.forward(x); // (B, T, C)
  }

  // ===================================================================================================
  // Init

  /**
   * Falcon's initialisation (HF's FalconPreTrainedModel._init_weights): every weight matrix and the
   * embedding N(0, 0.02), biases 0, LayerNorm γ = 1, β = 0.
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
// Weight map: our names ↔ the released Falcon-7B checkpoint (FalconForCausalLM, as HF transformers names it)
//
// | ours                              | Falcon checkpoint                                       | how                   |
// |-----------------------------------|---------------------------------------------------------|-----------------------|
// | tokEmb.weight (V, C)              | transformer.word_embeddings.weight (V, C)               |                       |
// | blocks.{i}.norm1.weight/.bias     | transformer.h.{i}.input_layernorm.weight/.bias          |                       |
// | blocks.{i}.attn.wq/wk/wv.weight   | transformer.h.{i}.self_attention.query_key_value.weight | ((nh+2)·hs, C): split |
// | blocks.{i}.attn.wq/wk/wv.bias     | transformer.h.{i}.self_attention.query_key_value.bias   | (bias: true only)     |
// | blocks.{i}.attn.wo.weight         | transformer.h.{i}.self_attention.dense.weight           |                       |
// | blocks.{i}.mlp.up.weight          | transformer.h.{i}.mlp.dense_h_to_4h.weight              |                       |
// | blocks.{i}.mlp.down.weight        | transformer.h.{i}.mlp.dense_4h_to_h.weight              |                       |
// | normF.weight/.bias                | transformer.ln_f.weight/.bias                           |                       |
// | lmHead.weight (= tokEmb.weight)   | lm_head.weight                                          | tied: not stored      |
//
// DIFF(gpt2): nothing is transposed (Falcon's Linears store (out, in), as ours). Split: for multi-query,
// query_key_value's rows are (nh + 2, hs): the nh query heads (C rows, = wq), then the one key head (hs rows,
// = wk), then the one value head (hs rows, = wv) — HF's `fused_qkv.view(B, T, nh + 2, hs)` then `[..., :-2, :]`,
// `[..., [-2], :]`, `[..., [-1], :]`. (Falcon-40B's new_decoder_architecture groups heads differently; not here.)
// With bias: true the .bias entries of the Linears follow the same layout.
// Reading also accepts the names without "transformer." (HF's FalconModel files).

const WEIGHT_MAP: readonly MapEntry[] = [
  e("tokEmb.weight", "transformer.word_embeddings.weight"),
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
  e("blocks.{i}.mlp.up.weight", "transformer.h.{i}.mlp.dense_h_to_4h.weight"),
  e("blocks.{i}.mlp.up.bias", "transformer.h.{i}.mlp.dense_h_to_4h.bias"),
  e("blocks.{i}.mlp.down.weight", "transformer.h.{i}.mlp.dense_4h_to_h.weight"),
  e("blocks.{i}.mlp.down.bias", "transformer.h.{i}.mlp.dense_4h_to_h.bias"),
  e("normF.weight", "transformer.ln_f.weight"),
  e("normF.bias", "transformer.ln_f.bias"),
];

/** Keys that a Falcon checkpoint may hold and that we do not load: the tied head. */
const SKIPPED = /^lm_head\.weight$/;

/** The table with {i} expanded for each block; the Linears' bias entries dropped when bias: false. */
const expandedMap = (c: FalconConfig): MapEntry[] =>
  expandMap(WEIGHT_MAP, { i: c.nLayer }, (m) => c.bias || !m.ours[0]!.endsWith(".bias") || /norm/.test(m.ours[0]!)); // DIFF(gpt2): LayerNorm β stays

/** A Falcon checkpoint's state dict (HF names and layouts) → ours, ready for `model.loadStateDict`. */
export const fromFalconCheckpoint = (state: Record<string, Tensor>, config: FalconConfig): Record<string, Tensor> => {
  const C = config.nEmbd,
    hs = C / config.nHead;
  const unfuse = (t: Tensor): Tensor[] => split(t, [C, hs, hs], 0); // rows (nh·hs | hs | hs)
  return fromCheckpointWith("fromFalconCheckpoint", state, expandedMap(config), {
    skipped: SKIPPED,
    prefix: "transformer",
    unfuse,
  });
};

/** Our state dict → a Falcon checkpoint's names and layouts (without the tied lm_head.weight); q, k, v joined as (C + 2hs, …). */
export const toFalconCheckpoint = (state: Record<string, Tensor>, config: FalconConfig): Record<string, Tensor> =>
  toCheckpointWith("toFalconCheckpoint", state, expandedMap(config));

// =====================================================================================================
// Generate

/**
 * Append `maxNewTokens` tokens to idx (B, T0) and return (B, T0 + maxNewTokens). Each step feeds only
 * the new token: the keys and values of the earlier ones come from a KV cache of (B, 1, P, hs) per block.
 * When the context reaches blockSize, the cache is rebuilt from the last blockSize tokens (as GPT-2's
 * generate does, so the cached and recomputed windows agree).
 */
export function generate(model: Falcon, idx: Tensor, maxNewTokens: number, opts: GenerateOptions = {}): Tensor {
  return generateWithCache(model, idx, maxNewTokens, opts, () => new KVCache(model.config.nLayer));
}
