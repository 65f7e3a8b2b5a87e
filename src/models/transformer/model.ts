// The Transformer: the encoder-decoder of "Attention Is All You Need".
//   Vaswani, Shazeer, Parmar, Uszkoreit, Jones, Gomez, Kaiser, Polosukhin 2017, https://arxiv.org/abs/1706.03762
//   Wu et al. 2016, "Google's Neural Machine Translation System", https://arxiv.org/abs/1609.08144 (the beam
//   search's length penalty, §7)
//   Szegedy et al. 2016, "Rethinking the Inception Architecture", https://arxiv.org/abs/1512.00567 (label smoothing)
//
// An encoder reads the source sentence with self-attention; a decoder writes the target one token at a
// time, attending to its own past (masked self-attention) and to the encoder's output (cross-attention).
// Post-LN sub-layers (§5.4: LayerNorm(x + Dropout(Sublayer(x)))), sinusoidal positions (§3.5), one
// embedding matrix shared by the source, the target and the output head and scaled by √d_model on input
// (§3.4), a ReLU feed-forward network (§3.3), label smoothing ε = 0.1 (§5.4), greedy and beam decoding (§6.1).
//
// Differences from its sibling GPT-2 (src/models/gpt2/model.ts), each marked DIFF(gpt2) where it happens:
// an encoder and cross-attention; post-LN instead of pre-LN, and no final norm; fixed sinusoidal instead of
// learned positions; the embedding scaled by √C on input; ReLU instead of GELU, and d_ff is set in the
// config; no biases in the attention projections (the paper's W^Q, W^K, W^V, W^O; configurable, as
// PyTorch's nn.Transformer has them); Xavier init; a padding mask; label smoothing.
//
// Read top to bottom: config → layers (attention, feed-forward, positions) → blocks → model → init →
// weight map → decode (greedy, beam search).
//
// Vocabulary (shape comments): B batch, S source tokens, T target tokens in this call, P target tokens
// already in the KV cache, C = dModel channels, nh = nHead heads, hs = C/nh head size, F = dFF, V the shared
// vocabulary, K beams.

import { noGrad } from "../../engine/autograd.js";
import { arange, tensor, zeros } from "../../engine/creation.js";
import { ArgumentError, DTypeError, ShapeError } from "../../engine/errors.js";
import { configOf } from "../presets.js";
import { defaultGenerator, Generator } from "../../engine/rng.js";
import { fmt } from "../../engine/shape.js";
import { Tensor } from "../../engine/tensor.js";
import { cat, split } from "../../ops/shape.js";
import { indexSelect } from "../../ops/indexing.js";
import * as F from "../../nn/functional.js";
import { Module, ModuleList, evaluating, type Parameter } from "../../nn/module.js";
import { Dropout, Embedding, LayerNorm, Linear } from "../../nn/index.js";
import { normal_, xavierUniform_, zeros_ } from "../../nn/init.js";
import { linearFlops, matmulFlops, sortedKinds, type Architecture } from "../architecture.js";
import { entry, expandMap, type MapEntry as WeightMapEntry } from "../weight-map.js";
import { searchBeams, type BeamResult, type BeamSearchable, type Hypothesis } from "../../generation/beam.js";

// =====================================================================================================
// Config

export interface TransformerConfig {
  /** tokens in the vocabulary shared by source and target (V) */
  readonly vocabSize: number;
  /** the longest source or target sequence: rows of the sinusoid table */
  readonly maxLen: number;
  /** encoder layers (the paper's N = 6) */
  readonly nEncoderLayer: number;
  /** decoder layers (N = 6) */
  readonly nDecoderLayer: number;
  /** attention heads per layer (h = 8) */
  readonly nHead: number;
  /** channels of the residual stream (d_model = 512); a multiple of nHead */
  readonly dModel: number;
  /** the feed-forward network's inner width (d_ff = 2048) */
  readonly dFF: number;
  /** P_drop (0.1): on the embeddings + positions, on every sub-layer output, and on the attention weights */
  readonly dropout: number;
  /** ε_ls (0.1): the target distribution puts 1 − ε on the right token and ε/V on every token */
  readonly labelSmoothing: number;
  /** biases in the attention projections W^Q, W^K, W^V, W^O (the paper writes none; PyTorch's nn.Transformer has them) */
  readonly attnBias: boolean;
  /** the padding token: masked out as a key, ignored as a target */
  readonly padId: number;
}

/** A checked, frozen config: `transformerConfig("tiny", { vocabSize: vocab.size })`. */
export function transformerConfig(
  base: TransformerConfig | keyof typeof PRESETS,
  overrides: Partial<TransformerConfig> = {},
): TransformerConfig {
  return configOf("TransformerConfig", PRESETS, base, overrides, {
    positive: ["vocabSize", "maxLen", "nEncoderLayer", "nDecoderLayer", "nHead", "dModel", "dFF"],
    multiples: [["dModel", "nHead"]],
    probabilities: ["dropout"],
    flags: ["attnBias"],
    tokenIds: ["padId"],
    also: (c) =>
      !(c.labelSmoothing >= 0 && c.labelSmoothing <= 1)
        ? `labelSmoothing must be in [0, 1], got ${c.labelSmoothing}`
        : undefined,
  });
}

export const PRESETS = Object.freeze({
  /**
   * The paper's base model (Table 3, row "base"). Its vocabulary is the shared 37,000-token BPE of WMT
   * English-German (§5.1); with it the model has 63,045,632 parameters by countParameters
   * (44,101,632 + 37000·512) — the paper's Table 3 says 65M.
   */
  base: Object.freeze({
    vocabSize: 37000,
    maxLen: 512,
    nEncoderLayer: 6,
    nDecoderLayer: 6,
    nHead: 8,
    dModel: 512,
    dFF: 2048,
    dropout: 0.1,
    labelSmoothing: 0.1,
    attnBias: false,
    padId: 0,
  }),
  /** A CPU-sized model for the synthetic tasks (dates, the invented-language translation); vocabSize from the task */
  tiny: Object.freeze({
    vocabSize: 64,
    maxLen: 64,
    nEncoderLayer: 2,
    nDecoderLayer: 2,
    nHead: 4,
    dModel: 64,
    dFF: 128,
    dropout: 0.1,
    labelSmoothing: 0.1,
    attnBias: false,
    padId: 0,
  }),
} satisfies Record<string, TransformerConfig>);

/**
 * The number of parameters of a config, counted from the equations (nothing allocated), the shared
 * embedding once. `nonEmbedding` leaves out the embedding (V·C); the positions are a fixed table, not
 * parameters.
 */
export function countParameters(c: TransformerConfig, opts: { nonEmbedding?: boolean } = {}): number {
  const { vocabSize: V, dModel: C, dFF: Fw } = c;
  const b = c.attnBias ? 1 : 0;
  const norm = 2 * C; //                            γ (C), β (C)
  const attn = 4 * (C * C + b * C); //              wq, wk, wv, wo: W (C, C), [b (C)]
  const ffn = C * Fw + Fw + Fw * C + C; //          up (F, C) + (F), down (C, F) + (C)
  const encoderLayer = attn + norm + ffn + norm;
  const decoderLayer = attn + norm + attn + norm + ffn + norm; // self-attention, cross-attention, ffn
  const embedding = opts.nonEmbedding ? 0 : V * C; // source = target = output head
  return embedding + c.nEncoderLayer * encoderLayer + c.nDecoderLayer * decoderLayer;
}

/**
 * The architecture in one row (src/models/architecture.ts). FLOPs per example of S source and T target
 * tokens (teacher forcing): per encoder layer and source token the four C×C projections, attention over S
 * keys (q·kᵀ and α·v, 2·S·C each) and the FFN 2·2·C·F; per decoder layer and target token the same with
 * T keys, plus cross-attention (W_Q, W_O per target token, W_K, W_V per source token, 2·S·C twice); the
 * tied head 2·C·V per target token.
 */
export function describe(c: TransformerConfig, srcLen = 20, tgtLen = 11, title = "Transformer"): Architecture {
  const { vocabSize: V, dModel: C, dFF: Fw, nEncoderLayer: Le, nDecoderLayer: Ld, nHead: nh } = c;
  const S = srcLen,
    T = tgtLen;
  const proj = linearFlops(C, C),
    ffn = linearFlops(C, Fw) + linearFlops(Fw, C);
  const attend = (keys: number): number => 2 * matmulFlops(1, C, keys); // q·kᵀ and α·v over `keys` keys, all heads
  const encoder = Le * S * (4 * proj + attend(S) + ffn);
  const decoder = Ld * (T * (4 * proj + attend(T)) + T * 2 * proj + S * 2 * proj + T * attend(S) + T * ffn);
  return {
    title,
    config: `${Le}+${Ld} layers, ${nh} heads, C ${C}, d_ff ${Fw}, V ${V} (shared)`,
    parameters: countParameters(c),
    // the shared embedding; per encoder layer 2 norms, wq wk wv wo, up, down; per decoder layer 3 norms, 2×4 projections, up, down; the tied head
    layers: sortedKinds({
      [Embedding.name]: 1,
      [LayerNorm.name]: 2 * Le + 3 * Ld,
      [Linear.name]: 6 * Le + 10 * Ld,
      [TiedHead.name]: 1,
    }),
    normalization: `${LayerNorm.name} after each residual add (post-LN), no final norm`,
    positions: "fixed sinusoids (sin/cos of pos/10000^(2i/C)), added to the √C-scaled embedding",
    attention: `multi-head scaled dot product, ${nh} heads × ${C / nh}: encoder self-attention, masked (causal) decoder self-attention, cross-attention`,
    activation: "ReLU in the feed-forward network",
    flops: { value: encoder + decoder + T * linearFlops(C, V), per: "example", at: `source ${S}, target ${T} tokens` },
  };
}

// =====================================================================================================
// Layers

/**
 * One attention layer's cache. Self-attention appends each call's keys and values (`grow: true`);
 * cross-attention computes the encoder output's keys and values at the first call and reuses them.
 */
// The self- and cross-attention caches of the decoder live in src/nn/kv-cache.ts (shared with T5 and BART).
import { EncoderDecoderCache as KVCache, type AttnCache } from "../../nn/kv-cache.js";
export { KVCache, type AttnCache };

/** Which keys each query may see, as `scaledDotProductAttention`'s options: a bool mask (true = attend) or isCausal. */
export interface Mask {
  attnMask?: Tensor;
  isCausal?: boolean;
}

/** Multi-head attention (§3.2.2): queries from x, keys and values from kv (x itself, or the encoder output). */
export class MultiHeadAttention extends Module {
  readonly nHead: number;
  readonly dropoutP: number;
  wq: Linear;
  wk: Linear;
  wv: Linear;
  wo: Linear;
  residDrop: Dropout;
  /** set true to keep the attention weights of the next calls in `weights` (for the heatmaps; off in training) */
  keepWeights = false;
  /** softmax(q·kᵀ/√hs + M) of the last call while keepWeights is set */
  weights: Tensor | null = null; // (B, nh, T, S)

  constructor(c: TransformerConfig, generator: Generator) {
    super();
    this.nHead = c.nHead;
    this.dropoutP = c.dropout;
    const opts = { bias: c.attnBias, generator }; // DIFF(gpt2): the paper's projections have no biases (attnBias: false)
    this.wq = new Linear(c.dModel, c.dModel, opts);
    this.wk = new Linear(c.dModel, c.dModel, opts);
    this.wv = new Linear(c.dModel, c.dModel, opts);
    this.wo = new Linear(c.dModel, c.dModel, opts);
    this.residDrop = new Dropout(c.dropout);
  }

  forward(x: Tensor, kv: Tensor, mask: Mask, cache?: AttnCache): Tensor {
    const [B, T, C] = x.shape as [number, number, number]; // x (B, T, C), kv (B, S, C)
    const nh = this.nHead,
      hs = C / nh;
    const heads = (t: Tensor): Tensor => t.view(B, t.shape[1]!, nh, hs).transpose(1, 2); // (B, ·, C) → (B, nh, ·, hs)
    // q = x·W_Q, k = kv·W_K, v = kv·W_V, each split into nh heads of hs channels
    const q = heads(this.wq.forward(x)); // (B, nh, T, hs)
    let k: Tensor, v: Tensor;
    if (cache && !cache.grow && cache.k && cache.v) {
      // DIFF(gpt2): cross-attention — the encoder output's keys and values, computed at the first step
      k = cache.k; // (B, nh, S, hs)
      v = cache.v;
    } else {
      k = heads(this.wk.forward(kv)); // (B, nh, S, hs)
      v = heads(this.wv.forward(kv)); // (B, nh, S, hs)
      if (cache) {
        // self-attention: append this call's keys and values to those of the earlier tokens
        if (cache.grow && cache.k && cache.v) {
          k = cat([cache.k, k], 2); // (B, nh, P+T, hs)
          v = cat([cache.v, v], 2); // (B, nh, P+T, hs)
        }
        cache.k = k;
        cache.v = v;
      }
    }
    // y = softmax(q·kᵀ/√hs + M)·v, M = −∞ where a key is padding or in the query's future (eq. 1)
    const dropoutP = this.training ? this.dropoutP : 0;
    const y = F.scaledDotProductAttention(q, k, v, { ...mask, dropoutP }); // (B, nh, T, hs)
    if (this.keepWeights) this.weights = noGrad(() => attentionWeights(q, k, mask));
    // concatenate the heads: (B, nh, T, hs) → (B, T, nh·hs = C), then W_O
    const merged = y.transpose(1, 2).reshape(B, T, C); // (B, T, C)
    return this.residDrop.forward(this.wo.forward(merged)); // (B, T, C)
  }
}

/** softmax(q·kᵀ/√hs + M) written out: the weights that scaledDotProductAttention applies, for pictures. */
export function attentionWeights(q: Tensor, k: Tensor, mask: Mask): Tensor {
  const hs = q.shape[q.ndim - 1]!,
    T = q.shape[q.ndim - 2]!,
    S = k.shape[k.ndim - 2]!;
  let scores = q.matmul(k.transpose(-2, -1)).mul(1 / Math.sqrt(hs)); // (B, nh, T, S)
  const keep = mask.isCausal ? arange(S).unsqueeze(0).le(arange(T).unsqueeze(1)) : mask.attnMask; // bool, broadcast to (B, nh, T, S)
  if (keep) scores = scores.maskedFill(keep.eq(0), -Infinity);
  return scores.softmax(-1); // (B, nh, T, S)
}

/** The position-wise feed-forward network (§3.3): FFN(x) = max(0, x·W₁ + b₁)·W₂ + b₂. */
export class FeedForward extends Module {
  up: Linear;
  down: Linear;
  drop: Dropout;

  constructor(c: TransformerConfig, generator: Generator) {
    super();
    this.up = new Linear(c.dModel, c.dFF, { generator }); // DIFF(gpt2): d_ff from the config (4C in the paper too)
    this.down = new Linear(c.dFF, c.dModel, { generator });
    this.drop = new Dropout(c.dropout);
  }

  forward(x: Tensor): Tensor {
    const h = this.up.forward(x); // (B, T, F)
    const g = F.relu(h); // DIFF(gpt2): ReLU instead of GELU
    return this.drop.forward(this.down.forward(g)); // (B, T, C)
  }
}

/** The output head tied to the shared embedding E (V, C): logits = h·Eᵀ, a Linear without a weight of its own. */
export class TiedHead extends Module {
  constructor(public weight: Parameter) {
    super();
  }

  forward(h: Tensor): Tensor {
    return F.linear(h, this.weight); // (B, T, C) → (B, T, V)
  }
}

/**
 * The sinusoid table (§3.5): PE(pos, 2i) = sin(pos/10000^{2i/C}), PE(pos, 2i+1) = cos(pos/10000^{2i/C}).
 * Computed in float64, stored float32. → (maxLen, C)
 */
export function sinusoids(maxLen: number, C: number): Tensor {
  const table = zeros([maxLen, C]); // (maxLen, C)
  if (table.isMeta) return table; // built inside meta(): shape only, nothing to compute
  const pe = table.storage;
  for (let pos = 0; pos < maxLen; pos++) {
    for (let i = 0; 2 * i < C; i++) {
      const angle = pos / Math.pow(10000, (2 * i) / C);
      pe[pos * C + 2 * i] = Math.sin(angle);
      if (2 * i + 1 < C) pe[pos * C + 2 * i + 1] = Math.cos(angle);
    }
  }
  return table;
}

// =====================================================================================================
// Blocks

/** A post-LN encoder layer: self-attention, then the feed-forward network, each added back and then normalised. */
export class EncoderBlock extends Module {
  norm1: LayerNorm;
  attn: MultiHeadAttention;
  norm2: LayerNorm;
  mlp: FeedForward;

  constructor(c: TransformerConfig, generator: Generator) {
    super();
    this.norm1 = new LayerNorm(c.dModel);
    this.attn = new MultiHeadAttention(c, generator);
    this.norm2 = new LayerNorm(c.dModel);
    this.mlp = new FeedForward(c, generator);
  }

  forward(x: Tensor, srcMask: Mask): Tensor {
    // DIFF(gpt2): post-LN, x ← LN(x + sublayer(x))  (§3.1, §5.4; GPT-2 normalises the sub-layer's input: x ← x + sublayer(LN(x)))
    x = this.norm1.forward(x.add(this.attn.forward(x, x, srcMask))); // (B, S, C)
    x = this.norm2.forward(x.add(this.mlp.forward(x))); //             (B, S, C)
    return x;
  }
}

/** A post-LN decoder layer: masked self-attention, cross-attention to the encoder output, the feed-forward network. */
export class DecoderBlock extends Module {
  norm1: LayerNorm;
  attn: MultiHeadAttention;
  norm2: LayerNorm;
  cross: MultiHeadAttention;
  norm3: LayerNorm;
  mlp: FeedForward;

  constructor(c: TransformerConfig, generator: Generator) {
    super();
    this.norm1 = new LayerNorm(c.dModel);
    this.attn = new MultiHeadAttention(c, generator);
    this.norm2 = new LayerNorm(c.dModel);
    this.cross = new MultiHeadAttention(c, generator);
    this.norm3 = new LayerNorm(c.dModel);
    this.mlp = new FeedForward(c, generator);
  }

  forward(
    x: Tensor,
    memory: Tensor,
    tgtMask: Mask,
    srcMask: Mask,
    cache?: { self: AttnCache; cross: AttnCache },
  ): Tensor {
    // x ← LN(x + attn(x));  x ← LN(x + cross(x, memory));  x ← LN(x + mlp(x))   (post-LN, §3.1)
    x = this.norm1.forward(x.add(this.attn.forward(x, x, tgtMask, cache?.self))); //          (B, T, C)
    x = this.norm2.forward(x.add(this.cross.forward(x, memory, srcMask, cache?.cross))); //  (B, T, C)
    x = this.norm3.forward(x.add(this.mlp.forward(x))); //                                  (B, T, C)
    return x;
  }
}

// =====================================================================================================
// Model

export interface TransformerOptions {
  /** the source of the initial weights (default: the library's default generator, seeded by manualSeed) */
  generator?: Generator;
}

export interface TransformerOutput {
  logits: Tensor; // (B, T, V)
  /** label-smoothed cross-entropy averaged over the non-padding targets, when targets were given */
  loss: Tensor | null; // ()
}

export class Transformer extends Module {
  readonly config: TransformerConfig;
  tokEmb: Embedding;
  drop: Dropout;
  encoder: ModuleList<EncoderBlock>;
  decoder: ModuleList<DecoderBlock>;
  lmHead: TiedHead;
  declare pe: Tensor; // (maxLen, C), a fixed buffer

  constructor(config: TransformerConfig, opts: TransformerOptions = {}) {
    super();
    const c = (this.config = transformerConfig(config));
    const generator = opts.generator ?? defaultGenerator;
    // DIFF(gpt2): one embedding for the source, the target and the output head (§3.4: a shared BPE vocabulary)
    this.tokEmb = new Embedding(c.vocabSize, c.dModel, { generator });
    this.drop = new Dropout(c.dropout);
    this.encoder = new ModuleList(Array.from({ length: c.nEncoderLayer }, () => new EncoderBlock(c, generator)));
    this.decoder = new ModuleList(Array.from({ length: c.nDecoderLayer }, () => new DecoderBlock(c, generator)));
    // logits = h·Eᵀ: one tensor in two places, listed once (as tokEmb.weight)
    this.lmHead = new TiedHead(this.tokEmb.weight);
    // DIFF(gpt2): fixed sinusoidal positions, not learned; not saved in the state dict
    this.registerBuffer("pe", sinusoids(c.maxLen, c.dModel), false);
    this.initWeights(generator);
  }

  /**
   * src (B, S) and tgt (B, T) int32 token ids (tgt starts with BOS: the decoder's input is the target
   * shifted right) → logits (B, T, V) of the next target token at every position; with targets (B, T)
   * the label-smoothed cross-entropy over the targets that are not padding.
   */
  forward(src: Tensor, tgt: Tensor, targets?: Tensor | null): TransformerOutput {
    const srcMask = this.sourceMask(src);
    const memory = this.encode(src, srcMask); // (B, S, C)
    const h = this.decode(tgt, memory, srcMask); // (B, T, C)
    const logits = this.lmHead.forward(h); // (B, T, V)
    if (!targets) return { logits, loss: null };
    const [B, T, V] = logits.shape as [number, number, number];
    if (targets.shape.length !== 2 || targets.shape[0] !== B || targets.shape[1] !== T) {
      throw new ShapeError(`Transformer: targets ${fmt(targets.shape)} must have the shape of tgt ${fmt(tgt.shape)}`);
    }
    // DIFF(gpt2): label smoothing (§5.4) and padding ignored
    // loss = mean over t ≠ pad of −[(1−ε)·log p(t) + (ε/V)·Σ_v log p(v)]
    const loss = F.crossEntropy(logits.view(B * T, V), targets.view(B * T), {
      labelSmoothing: this.config.labelSmoothing,
      ignoreIndex: this.config.padId,
    }); // ()
    return { logits, loss };
  }

  /** Which source keys every query may see: all but padding. → a bool mask (B, 1, 1, S) */
  sourceMask(src: Tensor): Mask {
    this.checkIds("src", src);
    const [B, S] = src.shape as [number, number];
    return { attnMask: src.ne(this.config.padId).view(B, 1, 1, S) };
  }

  /** x = Dropout(√C·E[ids] + PE[P..P+T))  (§3.4, §3.5) → (B, T, C) */
  embed(ids: Tensor, P = 0): Tensor {
    const T = ids.shape[1]!;
    if (P + T > this.config.maxLen)
      throw new ShapeError(
        `Transformer: ${P ? `${P} cached + ` : ""}${T} tokens exceed maxLen ${this.config.maxLen} (ids ${fmt(ids.shape)})`,
      );
    // DIFF(gpt2): the embedding scaled by √C, so that it is not drowned by the unit-sized positions
    const x = this.tokEmb.forward(ids).mul(Math.sqrt(this.config.dModel)); // (B, T, C)
    return this.drop.forward(x.add(this.pe.narrow(0, P, T))); //             (B, T, C) + (T, C)
  }

  /** The encoder: src (B, S) → memory (B, S, C). */
  encode(src: Tensor, srcMask: Mask = this.sourceMask(src)): Tensor {
    this.checkIds("src", src);
    let x = this.embed(src); // (B, S, C)
    for (const block of this.encoder) x = block.forward(x, srcMask); // (B, S, C)
    return x; // DIFF(gpt2): post-LN ends normalised; no final norm
  }

  /** The decoder's trunk: tgt (B, T) after P cached tokens, memory (B, S, C) → (B, T, C), before the head. */
  decode(tgt: Tensor, memory: Tensor, srcMask: Mask, cache?: KVCache): Tensor {
    this.checkIds("tgt", tgt);
    const P = cache?.length ?? 0;
    let x = this.embed(tgt, P); // (B, T, C)
    const tgtMask = this.targetMask(tgt, P);
    let l = 0;
    for (const block of this.decoder) x = block.forward(x, memory, tgtMask, srcMask, cache?.layers[l++]); // (B, T, C)
    return x;
  }

  /**
   * Which target keys each query may see: its past (j ≤ P + i) and not padding. Without a cache that is the
   * (B, 1, T, T) mask causal ∧ key ≠ pad. With a cache the prefix comes from decoding, which pads nothing: one
   * new token sees every key; several need the (T, P + T) causal mask.
   */
  targetMask(tgt: Tensor, P: number): Mask {
    const [B, T] = tgt.shape as [number, number];
    if (P > 0 && T === 1) return {};
    // M_ij = (j ≤ P + i)
    const causal = arange(P + T)
      .unsqueeze(0)
      .le(arange(P, P + T).unsqueeze(1)); // (T, P+T) bool
    if (P > 0) return { attnMask: causal };
    const keys = tgt.ne(this.config.padId).view(B, 1, 1, T); // (B, 1, 1, T) bool
    return { attnMask: causal.mul(keys) }; //                    (B, 1, T, T) bool: causal ∧ key ≠ pad
  }

  /** Parameters, the shared embedding counted once; `nonEmbedding` leaves it out. */
  override numParameters(opts: { nonEmbedding?: boolean } = {}): number {
    const n = super.numParameters();
    return opts.nonEmbedding ? n - this.tokEmb.weight.numel() : n;
  }

  private checkIds(what: string, ids: Tensor): void {
    if (ids.ndim !== 2)
      throw new ShapeError(
        `Transformer: ${what} must be (B, ${what === "src" ? "S" : "T"}) token ids, got shape ${fmt(ids.shape)}`,
      );
    if (ids.dtype !== "int32")
      throw new DTypeError(`Transformer: ${what} must be int32 token ids, got ${ids.dtype} ${fmt(ids.shape)}`);
  }

  // ===================================================================================================
  // Init

  /**
   * The paper gives no initialisation; this is tensor2tensor's, which its authors trained it with: the
   * shared embedding N(0, 1/C) (so that √C·E has unit variance), every Linear weight Xavier-uniform
   * U(±√(6/(in + out))), biases 0; LayerNorm γ = 1, β = 0.
   * DIFF(gpt2): GPT-2 draws everything from N(0, 0.02²) and scales the residual projections by 1/√(2L).
   */
  private initWeights(generator: Generator): void {
    noGrad(() => {
      for (const [, m] of this.namedModules()) {
        if (m instanceof Linear) {
          xavierUniform_(m.weight, { generator });
          if (m.bias) zeros_(m.bias);
        } else if (m instanceof Embedding) {
          normal_(m.weight, 0, 1 / Math.sqrt(this.config.dModel), { generator });
        }
      }
    });
  }

  /** Greedy decoding of src (B, S); see `greedyDecode` below. */
  greedy(src: Tensor, opts: DecodeOptions): number[][] {
    return greedyDecode(this, src, opts);
  }

  /** Beam-search decoding of src (B, S); see `beamSearch` below. */
  beam(src: Tensor, opts: BeamOptions): BeamResult {
    return beamSearch(this, src, opts);
  }
}

// =====================================================================================================
// Weight map: our names ↔ PyTorch's nn.Transformer layers (nn.TransformerEncoderLayer / DecoderLayer,
// norm_first=False, as in tools/fixtures/transformer.py)
//
// | ours                                   | PyTorch                                           | how                 |
// |----------------------------------------|---------------------------------------------------|---------------------|
// | tokEmb.weight (V, C)                   | embedding.weight (V, C)                           | (outside nn.Transformer) |
// | encoder.{i}.attn.wq/wk/wv.weight       | encoder.layers.{i}.self_attn.in_proj_weight (3C, C) | split in 3        |
// | encoder.{i}.attn.wq/wk/wv.bias         | encoder.layers.{i}.self_attn.in_proj_bias (3C)    | split in 3          |
// | encoder.{i}.attn.wo.weight/.bias       | encoder.layers.{i}.self_attn.out_proj.weight/.bias |                    |
// | encoder.{i}.norm1.weight/.bias         | encoder.layers.{i}.norm1.weight/.bias             |                     |
// | encoder.{i}.mlp.up.weight/.bias        | encoder.layers.{i}.linear1.weight/.bias           |                     |
// | encoder.{i}.mlp.down.weight/.bias      | encoder.layers.{i}.linear2.weight/.bias           |                     |
// | encoder.{i}.norm2.weight/.bias         | encoder.layers.{i}.norm2.weight/.bias             |                     |
// | decoder.{i}.attn.*                     | decoder.layers.{i}.self_attn.*                    | as the encoder's    |
// | decoder.{i}.norm1.weight/.bias         | decoder.layers.{i}.norm1.weight/.bias             |                     |
// | decoder.{i}.cross.*                    | decoder.layers.{i}.multihead_attn.*               | as the encoder's    |
// | decoder.{i}.norm2.weight/.bias         | decoder.layers.{i}.norm2.weight/.bias             |                     |
// | decoder.{i}.mlp.up/down.weight/.bias   | decoder.layers.{i}.linear1/linear2.weight/.bias   |                     |
// | decoder.{i}.norm3.weight/.bias         | decoder.layers.{i}.norm3.weight/.bias             |                     |
// | lmHead.weight (= tokEmb.weight)        | —                                                 | tied: not stored    |
//
// PyTorch's layouts are already (out, in): nothing is transposed. Its MultiheadAttention always has the
// in_proj/out_proj biases: with attnBias false they must be absent or zero (a non-zero one is refused).
// nn.Transformer itself also adds a final LayerNorm after each stack (encoder.norm, decoder.norm), which
// the paper does not have; a state dict holding them is refused as well.

interface MapEntry extends WeightMapEntry {
  readonly bias: boolean; // an attention bias, present only with attnBias
}

const e = (ours: string | string[], theirs: string, bias = false): MapEntry => ({ ...entry(ours, theirs), bias });
const attnEntries = (ours: string, theirs: string): MapEntry[] => [
  e(
    ["wq", "wk", "wv"].map((w) => `${ours}.${w}.weight`),
    `${theirs}.in_proj_weight`,
  ),
  e(
    ["wq", "wk", "wv"].map((w) => `${ours}.${w}.bias`),
    `${theirs}.in_proj_bias`,
    true,
  ),
  e(`${ours}.wo.weight`, `${theirs}.out_proj.weight`),
  e(`${ours}.wo.bias`, `${theirs}.out_proj.bias`, true),
];
const plain = (ours: string, theirs: string): MapEntry[] => [".weight", ".bias"].map((s) => e(ours + s, theirs + s));

const WEIGHT_MAP: readonly MapEntry[] = [
  e("tokEmb.weight", "embedding.weight"),
  ...attnEntries("encoder.{i}.attn", "encoder.layers.{i}.self_attn"),
  ...plain("encoder.{i}.norm1", "encoder.layers.{i}.norm1"),
  ...plain("encoder.{i}.mlp.up", "encoder.layers.{i}.linear1"),
  ...plain("encoder.{i}.mlp.down", "encoder.layers.{i}.linear2"),
  ...plain("encoder.{i}.norm2", "encoder.layers.{i}.norm2"),
  ...attnEntries("decoder.{j}.attn", "decoder.layers.{j}.self_attn"),
  ...plain("decoder.{j}.norm1", "decoder.layers.{j}.norm1"),
  ...attnEntries("decoder.{j}.cross", "decoder.layers.{j}.multihead_attn"),
  ...plain("decoder.{j}.norm2", "decoder.layers.{j}.norm2"),
  ...plain("decoder.{j}.mlp.up", "decoder.layers.{j}.linear1"),
  ...plain("decoder.{j}.mlp.down", "decoder.layers.{j}.linear2"),
  ...plain("decoder.{j}.norm3", "decoder.layers.{j}.norm3"),
];

/** The table with {i} (encoder layers) and {j} (decoder layers) expanded. */
const expandedMap = (c: TransformerConfig): MapEntry[] =>
  expandMap(WEIGHT_MAP, { i: c.nEncoderLayer, j: c.nDecoderLayer });

/** A state dict in PyTorch's nn.TransformerEncoderLayer/DecoderLayer names → ours, ready for `model.loadStateDict`. */
export function fromTorchTransformer(state: Record<string, Tensor>, config: TransformerConfig): Record<string, Tensor> {
  const map = expandedMap(config);
  const known = new Set(map.map((m) => m.theirs));
  const unexpected = Object.keys(state).filter((k) => !known.has(k));
  if (unexpected.length)
    throw new ArgumentError(`fromTorchTransformer: unexpected keys for this config: ${unexpected.join(", ")}`);
  const out: Record<string, Tensor> = {};
  return noGrad(() => {
    for (const m of map) {
      const t = state[m.theirs];
      if (m.bias && !config.attnBias) {
        if (t && t.storage.some((x) => x !== 0))
          throw new ArgumentError(`fromTorchTransformer: ${m.theirs} is not zero, but the config has attnBias: false`);
        continue;
      }
      if (!t) throw new ArgumentError(`fromTorchTransformer: missing key ${m.theirs}`);
      const parts = m.ours.length === 1 ? [t] : split(t, t.shape[0]! / m.ours.length, 0);
      m.ours.forEach((name, j) => (out[name] = parts[j]!));
    }
    return out;
  });
}

/** Our state dict → PyTorch's nn.Transformer layer names (q, k, v fused; zero biases written when attnBias is false). */
export function toTorchTransformer(state: Record<string, Tensor>, config: TransformerConfig): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  const C = config.dModel;
  return noGrad(() => {
    for (const m of expandedMap(config)) {
      if (m.bias && !config.attnBias) {
        out[m.theirs] = tensor(new Float32Array(m.ours.length * C), { shape: [m.ours.length * C] });
        continue;
      }
      const parts = m.ours.map((name) => {
        const t = state[name];
        if (!t) throw new ArgumentError(`toTorchTransformer: missing key ${name}`);
        return t;
      });
      out[m.theirs] = parts.length === 1 ? parts[0]! : cat(parts, 0);
    }
    return out;
  });
}

// =====================================================================================================
// Decode

export interface DecodeOptions {
  /** the token the decoder starts from */
  bosId: number;
  /** the token that ends a sentence */
  eosId: number;
  /** the most tokens to generate per sentence, EOS included (default: maxLen − 1) */
  maxLen?: number;
}

/**
 * Greedy decoding: start every row from BOS and append the most likely next token until it is EOS or
 * maxLen tokens were generated. PAD and BOS are never generated (a PAD in the prefix would be masked out
 * of the full forward's attention, so the cached and full decoders would disagree). The encoder runs once; each step feeds only the new token, the earlier
 * ones' keys and values coming from the KV cache. → the tokens of each row, without BOS and EOS.
 */
export function greedyDecode(model: Transformer, src: Tensor, opts: DecodeOptions): number[][] {
  const { bosId, eosId } = opts;
  const maxLen = checkDecode(model, opts);
  const B = src.shape[0]!,
    V = model.config.vocabSize;
  return evaluating(model, () => {
    const srcMask = model.sourceMask(src);
    const memory = model.encode(src, srcMask); // (B, S, C)
    const cache = new KVCache(model.config.nDecoderLayer);
    const out: number[][] = Array.from({ length: B }, () => []);
    const done = new Array<boolean>(B).fill(false);
    let next = tensor(new Int32Array(B).fill(bosId), { shape: [B, 1] }); // (B, 1)
    for (let step = 0; step < maxLen && !done.every(Boolean); step++) {
      const h = model.decode(next, memory, srcMask, cache); // (B, 1, C)
      const logits = model.lmHead.forward(h).storage; // (B, 1, V)
      const tok = new Int32Array(B);
      for (let b = 0; b < B; b++) {
        // argmax_v logits[b, v] over the tokens that may be generated
        tok[b] = argmaxGenerable(logits, b * V, V, model.config.padId, bosId);
        if (done[b]) continue;
        if (tok[b] === eosId) done[b] = true;
        else out[b]!.push(tok[b]!);
      }
      next = tensor(tok, { shape: [B, 1] }); // (B, 1)
    }
    return out;
  });
}

export interface BeamOptions extends DecodeOptions {
  /** hypotheses kept per sentence (the paper: 4) */
  beamSize: number;
  /** α of the length penalty lp(Y) = ((5 + |Y|)/6)^α (the paper: 0.6); 0 ranks by log-probability alone */
  lengthPenalty?: number;
  /** return this many best hypotheses per sentence in `nBest` (≤ beamSize; default 1) */
  nBest?: number;
  /** the repetition penalty θ on the tokens of each hypothesis so far (default 1: off); see src/models/beam.ts */
  repetitionPenalty?: number;
}

export type { BeamResult, Hypothesis };

/**
 * Beam search (§6.1: beam 4, α = 0.6) with GNMT's length penalty (Wu et al. 2016, eq. 14):
 *   s(Y, X) = log P(Y|X) / lp(Y),  lp(Y) = (5 + |Y|)^α / (5 + 1)^α,  |Y| counting the EOS.
 * The search itself is shared with T5 and BART (src/models/beam.ts): each step extends the K live hypotheses of
 * a sentence by every token and keeps the 2K best extensions by log-probability; those among the first K that
 * end in EOS are finished, the best K others stay live; a sentence is done when K hypotheses have finished
 * (fairseq's rule), or at maxLen. The encoder runs once, on the B sentences; its output is repeated K times.
 * PAD and BOS are never generated. With K = 1 this is exactly greedy decoding (tested).
 */
export function beamSearch(model: Transformer, src: Tensor, opts: BeamOptions): BeamResult {
  const { bosId, eosId, beamSize, lengthPenalty = 0.6, nBest, repetitionPenalty } = opts;
  const maxLen = checkDecode(model, opts);
  return evaluating(model, () => {
    const srcMask = model.sourceMask(src);
    const memory = model.encode(src, srcMask); // (B, S, C)
    const searchable: BeamSearchable = {
      batch: src.shape[0]!,
      vocabSize: model.config.vocabSize,
      start(rows) {
        // row r continues sentence rows[r]: its memory and padding mask, repeated
        const memoryK = indexSelect(memory, 0, rows); // (N, S, C)
        const maskK = model.sourceMask(indexSelect(src, 0, rows)); // (N, 1, 1, S)
        const cache = new KVCache(model.config.nDecoderLayer);
        return {
          step: (next) => model.lmHead.forward(model.decode(next, memoryK, maskK, cache)).view(rows.shape[0]!, -1), // (N, V)
          select: (keep) => cache.select(keep),
        };
      },
    };
    return searchBeams(searchable, {
      beamSize,
      maxLen,
      startId: bosId,
      eosId,
      lengthPenalty,
      lengthNorm: "gnmt",
      nBest,
      repetitionPenalty,
      banned: [model.config.padId, bosId],
    });
  });
}

/** The index of the largest of row[o … o+V), PAD and BOS left out (they are never generated); ties: the lower index. */
function argmaxGenerable(row: ArrayLike<number>, o: number, V: number, padId: number, bosId: number): number {
  let best = -1;
  for (let v = 0; v < V; v++) if (v !== padId && v !== bosId && (best < 0 || row[o + v]! > row[o + best]!)) best = v;
  return best;
}

function checkDecode(model: Transformer, opts: DecodeOptions): number {
  const V = model.config.vocabSize;
  for (const key of ["bosId", "eosId"] as const) {
    if (!(Number.isInteger(opts[key]) && opts[key] >= 0 && opts[key] < V))
      throw new ArgumentError(`decode: ${key} must be a token id in [0, ${V}), got ${opts[key]}`);
  }
  const maxLen = opts.maxLen ?? model.config.maxLen - 1;
  if (!(Number.isInteger(maxLen) && maxLen >= 1 && maxLen < model.config.maxLen)) {
    throw new ArgumentError(`decode: maxLen must be an integer in [1, ${model.config.maxLen - 1}], got ${maxLen}`);
  }
  return maxLen;
}
