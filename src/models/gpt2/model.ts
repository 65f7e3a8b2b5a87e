// GPT-2: a decoder-only Transformer language model.
//   Radford, Wu, Child, Luan, Amodei, Sutskever 2019, "Language Models are Unsupervised Multitask Learners"
//   https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf
//   Vaswani et al. 2017, "Attention Is All You Need", https://arxiv.org/abs/1706.03762 (the attention)
//   Radford et al. 2018, "Improving Language Understanding by Generative Pre-Training" (GPT-1, the decoder stack)
//
// What GPT-2 changed from GPT-1: the LayerNorm moved to the input of each sub-block (pre-LN) and one more
// was added after the last block (normF); residual projections are initialised scaled by 1/√(2·nLayer).
// The rest: learned position embeddings, masked (causal) multi-head self-attention, a 4× MLP with GELU,
// the output head tied to the token embedding.
//
// Read top to bottom: config → layers (attention, MLP) → block → model → init → weight map → generate.
// The checkpoint's key names appear only in the weight-map table near the bottom.
//
// Vocabulary (shape comments): B batch, T tokens in this call, P tokens already in the KV cache,
// C = nEmbd channels, nh = nHead heads, hs = C/nh head size, V vocabulary, L = nLayer blocks.

import { noGrad } from "../../engine/autograd.js";
import { arange } from "../../engine/creation.js";
import { DTypeError, ShapeError } from "../../engine/errors.js";
import { configOf } from "../presets.js";
import { defaultGenerator, Generator } from "../../engine/rng.js";
import { fmt } from "../../engine/shape.js";
import type { Tensor } from "../../engine/tensor.js";
import { cat } from "../../ops/shape.js";
import * as F from "../../nn/functional.js";
import { Module, ModuleList } from "../../nn/module.js";
import {
  Dropout,
  Embedding,
  LayerNorm,
  Linear,
  TiedHead,
  KVCache,
  causalMask,
  type LayerCache,
} from "../../nn/index.js";
import { generateWithCache } from "../../generation/decode.js";
import type { GenerateOptions } from "../../generation/sampling.js";

export { KVCache, type GenerateOptions, type LayerCache };
import { normal_, zeros_ } from "../../nn/init.js";
import { linearFlops, sortedKinds, type Architecture } from "../architecture.js";
import { entry as e, expandMap, fromCheckpointWith, toCheckpointWith, type MapEntry } from "../weight-map.js";

// =====================================================================================================
// Config

export interface GPTConfig {
  /** tokens in the vocabulary (V) */
  readonly vocabSize: number;
  /** the longest context: the number of learned positions */
  readonly blockSize: number;
  /** Transformer blocks (L) */
  readonly nLayer: number;
  /** attention heads per block (nh) */
  readonly nHead: number;
  /** channels of the residual stream (C); a multiple of nHead */
  readonly nEmbd: number;
  /** dropout on the embeddings, the attention probabilities and both residual branches */
  readonly dropout: number;
  /** biases in the Linears and LayerNorms (GPT-2: true) */
  readonly bias: boolean;
}

/** A checked, frozen config: `gptConfig("tiny", { vocabSize: tokenizer.vocabSize })`. */
export function gptConfig(base: GPTConfig | keyof typeof PRESETS, overrides: Partial<GPTConfig> = {}): GPTConfig {
  return configOf("GPTConfig", PRESETS, base, overrides, {
    positive: ["vocabSize", "blockSize", "nLayer", "nHead", "nEmbd"],
    multiples: [["nEmbd", "nHead"]],
    probabilities: ["dropout"],
    flags: ["bias"],
  });
}

export const PRESETS = Object.freeze({
  /** GPT-2 small, the released 124M model: 124,439,808 parameters (the tied head counted once) */
  gpt2: Object.freeze({ vocabSize: 50257, blockSize: 1024, nLayer: 12, nHead: 12, nEmbd: 768, dropout: 0, bias: true }),
  /** nanoGPT's Shakespeare-char configuration for a CPU; vocabSize is the character tokenizer's (65 for Shakespeare) */
  tiny: Object.freeze({ vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0, bias: true }),
  /** names-compare's GPT: 2 blocks of the siblings' width 32, context = the longest name + 1 (16), V = 28 */
  names: Object.freeze({ vocabSize: 28, blockSize: 16, nLayer: 2, nHead: 4, nEmbd: 32, dropout: 0, bias: true }),
} satisfies Record<string, GPTConfig>);

/**
 * The number of parameters of a config, counted from the equations (nothing allocated), the tied head
 * once. `nonEmbedding` leaves out the position embeddings, as nanoGPT's report does (the token
 * embedding stays: it is also the output head).
 */
export function countParameters(c: GPTConfig, opts: { nonEmbedding?: boolean } = {}): number {
  const { vocabSize: V, blockSize, nLayer: L, nEmbd: C } = c;
  const b = c.bias ? 1 : 0;
  const norm = C + b * C; //                      γ (C), β (C)
  const attn = 4 * (C * C + b * C); //            wq, wk, wv, wo: W (C, C), b (C)
  const mlp = C * 4 * C + b * 4 * C + 4 * C * C + b * C; // up (4C, C) + (4C), down (C, 4C) + (C)
  const block = 2 * norm + attn + mlp;
  const positions = opts.nonEmbedding ? 0 : blockSize * C;
  return V * C + positions + L * block + norm; //  tokEmb (= lmHead), posEmb, blocks, normF
}

/**
 * The architecture in one row (src/models/architecture.ts). FLOPs per token at the full context T =
 * blockSize: per block the four C×C projections and the 4× MLP, 2·(4C² + 8C²) = 24C², plus attention's
 * q·kᵀ and α·v over T keys, 2·T·C each; then the head 2·C·V. For the tiny preset (L 4, C 128, T 64, V 65):
 * 4·(24·128² + 4·64·128) + 2·128·65 = 1,703,936 + 16,640 = 1,720,576.
 */
export function describe(c: GPTConfig, title = "GPT-2"): Architecture {
  const { vocabSize: V, blockSize: T, nLayer: L, nHead: nh, nEmbd: C } = c;
  const block = 4 * linearFlops(C, C) + linearFlops(C, 4 * C) + linearFlops(4 * C, C) + 2 * linearFlops(C, T); // + q·kᵀ, α·v
  return {
    title,
    config: `${L} layers, ${nh} heads, C ${C}, context ${T}, V ${V}`,
    parameters: countParameters(c),
    // tokEmb, posEmb; per block norm1, wq wk wv wo, norm2, up, down; normF; the tied head
    layers: sortedKinds({ [Embedding.name]: 2, [LayerNorm.name]: 2 * L + 1, [Linear.name]: 6 * L, [TiedHead.name]: 1 }),
    normalization: `${LayerNorm.name} before each sub-block (pre-LN) and after the last block`,
    positions: `learned absolute (${T} positions, added to the token embedding)`,
    attention: `causal multi-head self-attention, ${nh} heads × ${C / nh}, scaled dot product`,
    activation: "GELU (tanh approximation) in the 4× MLP",
    flops: { value: L * block + linearFlops(C, V), per: "token", at: `context ${T}` },
  };
}

// =====================================================================================================
// Layers

/** Masked multi-head self-attention (Vaswani et al. 2017, §3.2.2). */
export class CausalSelfAttention extends Module {
  readonly nHead: number;
  readonly dropoutP: number;
  wq: Linear;
  wk: Linear;
  wv: Linear;
  wo: Linear;
  residDrop: Dropout;

  constructor(c: GPTConfig, generator: Generator) {
    super();
    this.nHead = c.nHead;
    this.dropoutP = c.dropout;
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
    const dropoutP = this.training ? this.dropoutP : 0;
    if (!cache) {
      // the same attention with the heads after the sequence (layout "BTHE"): no transposes to (B, nh, T, hs) and back
      const q = this.wq.forward(x).view(B, T, nh, hs); // (B, T, nh, hs)
      const k = this.wk.forward(x).view(B, T, nh, hs); // (B, T, nh, hs)
      const v = this.wv.forward(x).view(B, T, nh, hs); // (B, T, nh, hs)
      // y = softmax(q·kᵀ/√hs + M)·v per head, M = −∞ where a key lies in the query's future (Vaswani eq. 1)
      const y = F.scaledDotProductAttention(q, k, v, { isCausal: true, dropoutP, layout: "BTHE" }); // (B, T, nh, hs)
      return this.residDrop.forward(this.wo.forward(y.reshape(B, T, C))); // (B, T, C)
    }
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
    // y = softmax(q·kᵀ/√hs + M)·v, M = −∞ where a key lies in the query's future (Vaswani eq. 1)
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

  constructor(c: GPTConfig, generator: Generator) {
    super();
    this.up = new Linear(c.nEmbd, 4 * c.nEmbd, { bias: c.bias, generator });
    this.down = new Linear(4 * c.nEmbd, c.nEmbd, { bias: c.bias, generator });
    this.drop = new Dropout(c.dropout);
  }

  forward(x: Tensor): Tensor {
    const h = this.up.forward(x); // (B, T, 4C)
    // GELU as GPT-2 computes it, the tanh approximation: g(h) = h/2·(1 + tanh(√(2/π)·(h + 0.044715h³)))
    // (nanoGPT uses the exact h·Φ(h); the two differ by < 1e-3 and GPT-2's weights were trained with this one)
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

  constructor(c: GPTConfig, generator: Generator) {
    super();
    this.norm1 = new LayerNorm(c.nEmbd, { bias: c.bias });
    this.attn = new CausalSelfAttention(c, generator);
    this.norm2 = new LayerNorm(c.nEmbd, { bias: c.bias });
    this.mlp = new MLP(c, generator);
  }

  forward(x: Tensor, cache?: LayerCache): Tensor {
    // x ← x + attn(LN(x));  x ← x + mlp(LN(x))   (pre-LN: GPT-2 §2.3)
    x = x.add(this.attn.forward(this.norm1.forward(x), cache)); // (B, T, C)
    x = x.add(this.mlp.forward(this.norm2.forward(x))); //         (B, T, C)
    return x;
  }
}

// =====================================================================================================
// Model

export interface GPTOptions {
  /** the source of the initial weights (default: the library's default generator, seeded by manualSeed) */
  generator?: Generator;
}

export interface GPTOutput {
  logits: Tensor; // (B, T, V)
  /** mean cross-entropy over all B·T positions, when targets were given */
  loss: Tensor | null; // ()
}

export class GPT extends Module {
  readonly config: GPTConfig;
  tokEmb: Embedding;
  posEmb: Embedding;
  drop: Dropout;
  blocks: ModuleList<Block>;
  normF: LayerNorm;
  lmHead: TiedHead;

  constructor(config: GPTConfig, opts: GPTOptions = {}) {
    super();
    const c = (this.config = gptConfig(config));
    const generator = opts.generator ?? defaultGenerator;
    this.tokEmb = new Embedding(c.vocabSize, c.nEmbd, { generator });
    this.posEmb = new Embedding(c.blockSize, c.nEmbd, { generator });
    this.drop = new Dropout(c.dropout);
    this.blocks = new ModuleList(Array.from({ length: c.nLayer }, () => new Block(c, generator)));
    this.normF = new LayerNorm(c.nEmbd, { bias: c.bias });
    // weight tying (Press & Wolf 2017): the output head reads the token embedding, logits = h·Eᵀ.
    // One tensor in two places: namedParameters lists it once, as tokEmb.weight.
    this.lmHead = new TiedHead(this.tokEmb.weight);
    this.initWeights(generator);
  }

  /**
   * idx (B, T) int32 token ids → logits (B, T, V) for every position (nanoGPT computes only the last
   * one when there are no targets; we keep all T, which generate avoids by calling `hidden`), and with
   * targets (B, T) the mean cross-entropy of predicting each next token.
   */
  forward(idx: Tensor, targets?: Tensor | null, cache?: KVCache): GPTOutput {
    const h = this.hidden(idx, cache); // (B, T, C)
    const logits = this.lmHead.forward(h); // (B, T, V)
    if (!targets) return { logits, loss: null };
    const [B, T, V] = logits.shape as [number, number, number];
    if (targets.shape.length !== 2 || targets.shape[0] !== B || targets.shape[1] !== T) {
      throw new ShapeError(`GPT: targets ${fmt(targets.shape)} must have the shape of idx ${fmt(idx.shape)}`);
    }
    // loss = −(1/BT)·Σ_{b,t} log softmax(logits[b,t])[targets[b,t]]
    const loss = F.crossEntropy(logits.view(B * T, V), targets.view(B * T)); // ()
    return { logits, loss };
  }

  /** The trunk: embeddings, blocks and the final norm; the residual stream before the head, (B, T, C). */
  hidden(idx: Tensor, cache?: KVCache): Tensor {
    if (idx.ndim !== 2) throw new ShapeError(`GPT: idx must be (B, T) token ids, got shape ${fmt(idx.shape)}`);
    if (idx.dtype !== "int32")
      throw new DTypeError(`GPT: idx must be int32 token ids, got ${idx.dtype} ${fmt(idx.shape)}`);
    const T = idx.shape[1]!;
    const P = cache?.length ?? 0;
    if (P + T > this.config.blockSize) {
      throw new ShapeError(
        `GPT: ${P ? `${P} cached + ` : ""}${T} tokens exceed blockSize ${this.config.blockSize} (idx ${fmt(idx.shape)})`,
      );
    }
    // x = E[idx] + W_pos[P..P+T)   (learned absolute positions)
    const pos = arange(P, P + T); // (T) int32
    let x = this.tokEmb.forward(idx).add(this.posEmb.forward(pos)); // (B, T, C) + (T, C)
    x = this.drop.forward(x);
    let l = 0;
    for (const block of this.blocks) x = block.forward(x, cache?.layers[l++]); // (B, T, C)
    return this.normF.forward(x); // (B, T, C)
  }

  /** Parameters, the tied head counted once; `nonEmbedding` leaves out the position embeddings (nanoGPT's report). */
  override numParameters(opts: { nonEmbedding?: boolean } = {}): number {
    const n = super.numParameters();
    return opts.nonEmbedding ? n - this.posEmb.weight.numel() : n;
  }

  // ===================================================================================================
  // Init

  /**
   * GPT-2's initialisation (as nanoGPT writes it): every weight matrix and both embeddings N(0, 0.02),
   * biases 0, LayerNorm γ = 1, β = 0; the projections that write into the residual stream (attn.wo,
   * mlp.down) N(0, 0.02/√(2·L)), so the stream's variance does not grow with depth (GPT-2 §2.3).
   */
  private initWeights(generator: Generator): void {
    const std = 0.02;
    const residualStd = 0.02 / Math.sqrt(2 * this.config.nLayer);
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
        normal_(block.mlp.down.weight, 0, residualStd, { generator });
      }
    });
  }

  /** Append maxNewTokens sampled tokens to idx (B, T0) → (B, T0 + maxNewTokens); see `generate` below. */
  generate(idx: Tensor, maxNewTokens: number, opts: GenerateOptions = {}): Tensor {
    return generate(this, idx, maxNewTokens, opts);
  }
}

// =====================================================================================================
// Weight map: our names ↔ the released GPT-2 checkpoints (OpenAI's, as HF transformers names them)
//
// | ours                              | GPT-2 checkpoint                         | how                            |
// |-----------------------------------|------------------------------------------|--------------------------------|
// | tokEmb.weight (V, C)              | transformer.wte.weight (V, C)            |                                |
// | posEmb.weight (blockSize, C)      | transformer.wpe.weight (blockSize, C)    |                                |
// | blocks.{i}.norm1.weight/.bias     | transformer.h.{i}.ln_1.weight/.bias      |                                |
// | blocks.{i}.attn.wq/wk/wv.weight   | transformer.h.{i}.attn.c_attn.weight     | transposed (C, 3C), split in 3 |
// | blocks.{i}.attn.wq/wk/wv.bias     | transformer.h.{i}.attn.c_attn.bias (3C)  | split in 3                     |
// | blocks.{i}.attn.wo.weight         | transformer.h.{i}.attn.c_proj.weight     | transposed                     |
// | blocks.{i}.attn.wo.bias           | transformer.h.{i}.attn.c_proj.bias       |                                |
// | blocks.{i}.norm2.weight/.bias     | transformer.h.{i}.ln_2.weight/.bias      |                                |
// | blocks.{i}.mlp.up.weight          | transformer.h.{i}.mlp.c_fc.weight        | transposed                     |
// | blocks.{i}.mlp.up.bias            | transformer.h.{i}.mlp.c_fc.bias          |                                |
// | blocks.{i}.mlp.down.weight        | transformer.h.{i}.mlp.c_proj.weight      | transposed                     |
// | blocks.{i}.mlp.down.bias          | transformer.h.{i}.mlp.c_proj.bias        |                                |
// | normF.weight/.bias                | transformer.ln_f.weight/.bias            |                                |
// | lmHead.weight (= tokEmb.weight)   | lm_head.weight                           | tied: not stored, ignored      |
//
// Transposed: OpenAI's "conv1d" (HF's Conv1D) stores W as (in, out) and computes x·W; our Linear stores
// (out, in) and computes x·Wᵀ. Split in 3: c_attn holds q, k and v side by side along its out dim.
// Reading also accepts the names without "transformer." (HF's GPT2Model files) and skips the causal-mask
// buffers (attn.bias, attn.masked_bias) that older files carry.

const WEIGHT_MAP: readonly MapEntry[] = [
  e("tokEmb.weight", "transformer.wte.weight"),
  e("posEmb.weight", "transformer.wpe.weight"),
  e("blocks.{i}.norm1.weight", "transformer.h.{i}.ln_1.weight"),
  e("blocks.{i}.norm1.bias", "transformer.h.{i}.ln_1.bias"),
  e(
    ["blocks.{i}.attn.wq.weight", "blocks.{i}.attn.wk.weight", "blocks.{i}.attn.wv.weight"],
    "transformer.h.{i}.attn.c_attn.weight",
    true,
  ),
  e(
    ["blocks.{i}.attn.wq.bias", "blocks.{i}.attn.wk.bias", "blocks.{i}.attn.wv.bias"],
    "transformer.h.{i}.attn.c_attn.bias",
  ),
  e("blocks.{i}.attn.wo.weight", "transformer.h.{i}.attn.c_proj.weight", true),
  e("blocks.{i}.attn.wo.bias", "transformer.h.{i}.attn.c_proj.bias"),
  e("blocks.{i}.norm2.weight", "transformer.h.{i}.ln_2.weight"),
  e("blocks.{i}.norm2.bias", "transformer.h.{i}.ln_2.bias"),
  e("blocks.{i}.mlp.up.weight", "transformer.h.{i}.mlp.c_fc.weight", true),
  e("blocks.{i}.mlp.up.bias", "transformer.h.{i}.mlp.c_fc.bias"),
  e("blocks.{i}.mlp.down.weight", "transformer.h.{i}.mlp.c_proj.weight", true),
  e("blocks.{i}.mlp.down.bias", "transformer.h.{i}.mlp.c_proj.bias"),
  e("normF.weight", "transformer.ln_f.weight"),
  e("normF.bias", "transformer.ln_f.bias"),
];

/** Keys that a GPT-2 checkpoint may hold and that we do not load: the tied head and causal-mask buffers. */
const SKIPPED = /^(lm_head\.weight|transformer\.h\.\d+\.attn\.(bias|masked_bias))$/;

/** The table with {i} expanded for each block; entries whose tensors the config lacks (bias: false) dropped. */
const expandedMap = (c: GPTConfig): MapEntry[] =>
  expandMap(WEIGHT_MAP, { i: c.nLayer }, (m) => c.bias || !m.ours[0]!.endsWith(".bias"));

/** A GPT-2 checkpoint's state dict (HF names and layouts) → ours, ready for `model.loadStateDict`. */
export const fromGPT2Checkpoint = (state: Record<string, Tensor>, config: GPTConfig): Record<string, Tensor> =>
  fromCheckpointWith("fromGPT2Checkpoint", state, expandedMap(config), { skipped: SKIPPED, prefix: "transformer" });

/** Our state dict → a GPT-2 checkpoint's names and layouts (without the tied lm_head.weight). */
export const toGPT2Checkpoint = (state: Record<string, Tensor>, config: GPTConfig): Record<string, Tensor> =>
  toCheckpointWith("toGPT2Checkpoint", state, expandedMap(config));

// =====================================================================================================
// Generate

/**
 * Append `maxNewTokens` tokens to idx (B, T0) and return (B, T0 + maxNewTokens). Each step feeds only
 * the new token: the keys and values of the earlier ones come from a KV cache. When the context
 * reaches blockSize, the cache is rebuilt from the last blockSize tokens (learned positions cannot
 * slide), which is nanoGPT's crop `idx[:, -block_size:]`.
 */
export function generate(model: GPT, idx: Tensor, maxNewTokens: number, opts: GenerateOptions = {}): Tensor {
  return generateWithCache(model, idx, maxNewTokens, opts, () => new KVCache(model.config.nLayer));
}
