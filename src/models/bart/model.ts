// BART: a denoising autoencoder for pretraining sequence-to-sequence models.
//   Lewis, Liu, Goyal, Ghazvininejad, Mohamed, Levy, Stoyanov, Zettlemoyer 2020, https://arxiv.org/abs/1910.13461
//   Vaswani et al. 2017, "Attention Is All You Need", https://arxiv.org/abs/1706.03762 (the architecture, §2.1)
//   Hendrycks & Gimpel 2016, "Gaussian Error Linear Units", https://arxiv.org/abs/1606.08415
//
// "BART uses the standard sequence-to-sequence Transformer architecture …, except, following GPT, that we
// modify ReLU activation functions to GeLUs" (§2.1). It is pretrained by corrupting text (text infilling,
// sentence permutation: noise.ts) and learning to reconstruct the original with a cross-entropy loss.
//
// Differences from the Transformer (src/models/transformer/model.ts), each marked DIFF(transformer) where it
// happens: GELU (exact erf) instead of ReLU; learned positions, whose ids start at 2 (the released checkpoints'
// offset), in a table of their own for each stack; a LayerNorm on the embeddings of each stack
// (layernorm_embedding); the embedding not scaled by √C (scale_embedding false for bart-base); biases in every
// projection; a bias on the logits (final_logits_bias, a buffer); separate dropouts on the sub-layer outputs,
// the attention weights and the FFN activation; the source padding mask given by an attention mask (as
// Hugging Face's), the decoder only causal unless a decoder attention mask is given; plain cross-entropy with
// ignore index −100 (no label smoothing); N(0, 0.02²) init; decoding starts from </s> (decoder_start_token_id 2).
//
// Read top to bottom: config → layers (attention, feed-forward, positions) → blocks → model → init →
// weight map → decode (greedy, sampling, beam search).
//
// Vocabulary (shape comments): B batch, S source tokens, T target tokens in this call, P target tokens
// already in the KV cache, C = dModel channels, nh = nHead heads, hs = C/nh head size, F = dFF, V the shared
// vocabulary.

import { noGrad } from "../../engine/autograd.js";
import { arange, tensor, zeros } from "../../engine/creation.js";
import { ArgumentError, DTypeError, ShapeError } from "../../engine/errors.js";
import { configOf } from "../presets.js";
import { defaultGenerator, Generator } from "../../engine/rng.js";
import { fmt } from "../../engine/shape.js";
import { Tensor } from "../../engine/tensor.js";
import { cat } from "../../ops/shape.js";
import * as F from "../../nn/functional.js";
import { Module, ModuleList, evaluating } from "../../nn/module.js";
import { Dropout, Embedding, LayerNorm, Linear } from "../../nn/index.js";
import { normal_, zeros_ } from "../../nn/init.js";
import { linearFlops, matmulFlops, sortedKinds, type Architecture } from "../architecture.js";
import { entriesOf, expandMap, fromCheckpointWith, pairsOf, toCheckpointWith } from "../weight-map.js";
import { KVCache, TiedHead, type AttnCache, type Mask } from "../transformer/model.js";
import { indexSelect } from "../../ops/indexing.js";
import { samplingOptions, type GenerateOptions as SamplingGenerateOptions } from "../../generation/sampling.js";
import {
  sampleSeq2Seq,
  searchBeams,
  type BeamChoices,
  type BeamResult,
  type BeamSearchable,
  type Hypothesis,
} from "../../generation/beam.js";

export { KVCache, type AttnCache, type Mask, type BeamResult, type Hypothesis };
export {
  samplePoisson,
  sentencePermutation,
  textInfilling,
  type InfillingOptions,
  type InfillingResult,
  type PermutationOptions,
  type Span,
} from "./noise.js";

// =====================================================================================================
// Config

export interface BartConfig {
  /** tokens in the vocabulary shared by source and target (V; bart-base: 50265, GPT-2's byte-level BPE + 4) */
  readonly vocabSize: number;
  /** the longest source or target sequence (1024); the position tables have maxPositions + 2 rows */
  readonly maxPositions: number;
  /** encoder layers (bart-base: 6) */
  readonly nEncoderLayer: number;
  /** decoder layers (bart-base: 6) */
  readonly nDecoderLayer: number;
  /** attention heads per layer (12) */
  readonly nHead: number;
  /** channels of the residual stream (d_model = 768); a multiple of nHead */
  readonly dModel: number;
  /** the feed-forward network's inner width (3072) */
  readonly dFF: number;
  /** on the embeddings and on every sub-layer output (0.1) */
  readonly dropout: number;
  /** on the attention weights (attention_dropout: 0) */
  readonly attnDropout: number;
  /** on the FFN's GELU output (activation_dropout: 0) */
  readonly activationDropout: number;
  /** multiply the token embedding by √C on input (scale_embedding: false for bart-base) */
  readonly scaleEmbedding: boolean;
  /** LayerNorm ε (1e-5) */
  readonly layerNormEps: number;
  /** <pad> (1): the shared embedding's padding row */
  readonly padId: number;
  /** </s> (2): ends a sentence */
  readonly eosId: number;
  /** the decoder's first input (decoder_start_token_id: 2, which is </s>) */
  readonly decoderStartId: number;
  /**
   * σ of the N(0, σ²) init of every Linear and Embedding weight (init_std: 0.02, chosen for d_model 768–1024).
   * At a small width it is too small: at d_model 128 each projection scales its input by ~0.02·√128 ≈ 0.23,
   * and BART then learns only the unigram distribution for hundreds of steps (measured, and identical in the
   * PyTorch reference: src/models/bart/README.md, "Init"); 1/√d_model suits such widths.
   */
  readonly initStd: number;
}

/** A checked, frozen config: `bartConfig("tiny", { vocabSize: 40 })`. */
export function bartConfig(base: BartConfig | keyof typeof PRESETS, overrides: Partial<BartConfig> = {}): BartConfig {
  return configOf("BartConfig", PRESETS, base, overrides, {
    positive: ["vocabSize", "maxPositions", "nEncoderLayer", "nDecoderLayer", "nHead", "dModel", "dFF"],
    multiples: [["dModel", "nHead"]],
    probabilities: ["dropout", "attnDropout", "activationDropout"],
    positiveNumbers: ["initStd"],
    tokenIds: ["padId", "eosId", "decoderStartId"],
  });
}

export const PRESETS = Object.freeze({
  /**
   * facebook/bart-base (config.json of the release): 139,420,416 parameters by countParameters — the
   * published count, which holds the shared embedding once, both position tables (1026 rows each) and both
   * embedding LayerNorms, and not final_logits_bias (a buffer).
   */
  "bart-base": Object.freeze({
    vocabSize: 50265,
    maxPositions: 1024,
    nEncoderLayer: 6,
    nDecoderLayer: 6,
    nHead: 12,
    dModel: 768,
    dFF: 3072,
    dropout: 0.1,
    attnDropout: 0,
    activationDropout: 0,
    scaleEmbedding: false,
    layerNormEps: 1e-5,
    padId: 1,
    eosId: 2,
    decoderStartId: 2,
    initStd: 0.02,
  }),
  /** A CPU-sized model for the denoising pretraining and the date task; vocabSize from the task */
  tiny: Object.freeze({
    vocabSize: 64,
    maxPositions: 64,
    nEncoderLayer: 2,
    nDecoderLayer: 2,
    nHead: 4,
    dModel: 64,
    dFF: 128,
    dropout: 0.1,
    attnDropout: 0,
    activationDropout: 0,
    scaleEmbedding: false,
    layerNormEps: 1e-5,
    padId: 1,
    eosId: 2,
    decoderStartId: 2,
    initStd: 0.02,
  }),
} satisfies Record<string, BartConfig>);

/** The learned positions: position p is row p + 2 of the table (the released checkpoints' offset). */
export const POSITION_OFFSET = 2;

/**
 * The number of parameters of a config, counted from the equations (nothing allocated), the shared
 * embedding once, final_logits_bias not (a buffer). `nonEmbedding` leaves out the token embedding (V·C).
 */
export function countParameters(c: BartConfig, opts: { nonEmbedding?: boolean } = {}): number {
  const { vocabSize: V, dModel: C, dFF: Fw } = c;
  const norm = 2 * C; //                            γ (C), β (C)
  const attn = 4 * (C * C + C); //                  wq, wk, wv, wo: W (C, C), b (C)
  const ffn = C * Fw + Fw + Fw * C + C; //          up (F, C) + (F), down (C, F) + (C)
  const encoderLayer = attn + norm + ffn + norm;
  const decoderLayer = attn + norm + attn + norm + ffn + norm; // self-attention, cross-attention, ffn
  const stackInput = (c.maxPositions + POSITION_OFFSET) * C + norm; // DIFF(transformer): learned positions + embedding LayerNorm, per stack
  const embedding = opts.nonEmbedding ? 0 : V * C; // source = target = output head
  return embedding + 2 * stackInput + c.nEncoderLayer * encoderLayer + c.nDecoderLayer * decoderLayer;
}

/**
 * The architecture in one row (src/models/architecture.ts). FLOPs per example of S source and T target
 * tokens (teacher forcing), the Transformer's formula: per encoder layer and source token the four C×C
 * projections, attention over S keys (2·S·C twice) and the FFN 2·2·C·F; per decoder layer and target token
 * the same over T keys, plus cross-attention (W_Q, W_O per target token, W_K, W_V per source token, 2·S·C
 * twice per target token); the tied head 2·C·V per target token.
 */
export function describe(c: BartConfig, srcLen = 25, tgtLen = 25, title = "BART"): Architecture {
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
    config: `${Le}+${Ld} layers, ${nh} heads, C ${C}, d_ff ${Fw}, ${c.maxPositions} positions, V ${V} (shared)`,
    parameters: countParameters(c),
    // the shared embedding and the two position tables; the two embedding norms, 2 per encoder layer, 3 per decoder layer; per encoder layer 6 Linears, per decoder layer 10; the tied head
    layers: sortedKinds({
      [Embedding.name]: 3,
      [LayerNorm.name]: 2 + 2 * Le + 3 * Ld,
      [Linear.name]: 6 * Le + 10 * Ld,
      [TiedHead.name]: 1,
    }),
    normalization: `${LayerNorm.name} on the embeddings of each stack and after each residual add (post-LN)`,
    positions: `learned absolute (${c.maxPositions} positions, offset 2), a table per stack, added to the token embedding`,
    attention: `multi-head scaled dot product, ${nh} heads × ${C / nh}: encoder self-attention, causal decoder self-attention, cross-attention`,
    activation: "GELU (exact, erf) in the FFN",
    flops: { value: encoder + decoder + T * linearFlops(C, V), per: "example", at: `source ${S}, target ${T} tokens` },
  };
}

// =====================================================================================================
// Layers

/** Multi-head attention: queries from x, keys and values from kv (x itself, or the encoder output). */
export class MultiHeadAttention extends Module {
  readonly nHead: number;
  readonly attnDropoutP: number;
  wq: Linear;
  wk: Linear;
  wv: Linear;
  wo: Linear;
  residDrop: Dropout;

  constructor(c: BartConfig, generator: Generator) {
    super();
    this.nHead = c.nHead;
    this.attnDropoutP = c.attnDropout; // DIFF(transformer): the attention weights' dropout of its own
    const opts = { bias: true, generator }; // DIFF(transformer): biases in every projection
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
    // q = x·W_Q + b_Q, k = kv·W_K + b_K, v = kv·W_V + b_V, each split into nh heads of hs channels
    const q = heads(this.wq.forward(x)); // (B, nh, T, hs)
    let k: Tensor, v: Tensor;
    if (cache && !cache.grow && cache.k && cache.v) {
      // cross-attention — the encoder output's keys and values, computed at the first step
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
    // y = softmax(q·kᵀ/√hs + M)·v, M = −∞ where a key is padding or in the query's future
    const dropoutP = this.training ? this.attnDropoutP : 0;
    const y = F.scaledDotProductAttention(q, k, v, { ...mask, dropoutP }); // (B, nh, T, hs)
    // concatenate the heads: (B, nh, T, hs) → (B, T, nh·hs = C), then W_O
    const merged = y.transpose(1, 2).reshape(B, T, C); // (B, T, C)
    return this.residDrop.forward(this.wo.forward(merged)); // (B, T, C)
  }
}

/** The position-wise feed-forward network: FFN(x) = GELU(x·W₁ + b₁)·W₂ + b₂. */
export class FeedForward extends Module {
  up: Linear;
  down: Linear;
  actDrop: Dropout;
  drop: Dropout;

  constructor(c: BartConfig, generator: Generator) {
    super();
    this.up = new Linear(c.dModel, c.dFF, { generator });
    this.down = new Linear(c.dFF, c.dModel, { generator });
    this.actDrop = new Dropout(c.activationDropout); // DIFF(transformer): activation_dropout
    this.drop = new Dropout(c.dropout);
  }

  forward(x: Tensor): Tensor {
    const h = this.up.forward(x); // (B, T, F)
    const g = F.gelu(h); // DIFF(transformer): GELU(x) = x/2·(1 + erf(x/√2)) instead of ReLU (§2.1)
    return this.drop.forward(this.down.forward(this.actDrop.forward(g))); // (B, T, C)
  }
}

/** DIFF(transformer): learned positions, E_pos[p + 2] for p = P … P+T−1 (the sinusoid table's place). */
export class LearnedPositions extends Module {
  table: Embedding;

  constructor(c: BartConfig, generator: Generator) {
    super();
    this.table = new Embedding(c.maxPositions + POSITION_OFFSET, c.dModel, { generator }); // (maxPositions + 2, C)
  }

  /** The rows of T positions after P cached ones → (T, C) */
  forward(T: number, P = 0): Tensor {
    return this.table.weight.narrow(0, P + POSITION_OFFSET, T); // (T, C)
  }
}

// =====================================================================================================
// Blocks

/** A post-LN encoder layer: self-attention, then the feed-forward network, each added back and then normalised. */
export class EncoderBlock extends Module {
  norm1: LayerNorm;
  attn: MultiHeadAttention;
  norm2: LayerNorm;
  mlp: FeedForward;

  constructor(c: BartConfig, generator: Generator) {
    super();
    this.norm1 = new LayerNorm(c.dModel, { eps: c.layerNormEps });
    this.attn = new MultiHeadAttention(c, generator);
    this.norm2 = new LayerNorm(c.dModel, { eps: c.layerNormEps });
    this.mlp = new FeedForward(c, generator);
  }

  forward(x: Tensor, srcMask: Mask): Tensor {
    // post-LN, x ← LN(x + sublayer(x))
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

  constructor(c: BartConfig, generator: Generator) {
    super();
    this.norm1 = new LayerNorm(c.dModel, { eps: c.layerNormEps });
    this.attn = new MultiHeadAttention(c, generator);
    this.norm2 = new LayerNorm(c.dModel, { eps: c.layerNormEps });
    this.cross = new MultiHeadAttention(c, generator);
    this.norm3 = new LayerNorm(c.dModel, { eps: c.layerNormEps });
    this.mlp = new FeedForward(c, generator);
  }

  forward(
    x: Tensor,
    memory: Tensor,
    tgtMask: Mask,
    srcMask: Mask,
    cache?: { self: AttnCache; cross: AttnCache },
  ): Tensor {
    // x ← LN(x + attn(x));  x ← LN(x + cross(x, memory));  x ← LN(x + mlp(x))   (post-LN)
    x = this.norm1.forward(x.add(this.attn.forward(x, x, tgtMask, cache?.self))); //          (B, T, C)
    x = this.norm2.forward(x.add(this.cross.forward(x, memory, srcMask, cache?.cross))); //  (B, T, C)
    x = this.norm3.forward(x.add(this.mlp.forward(x))); //                                  (B, T, C)
    return x;
  }
}

// =====================================================================================================
// Model

export interface BartOptions {
  /** the source of the initial weights (default: the library's default generator, seeded by manualSeed) */
  generator?: Generator;
}

export interface BartForwardOptions {
  /** (B, S): 1 for a real source token, 0 for padding (Hugging Face's attention_mask); default: all real */
  attentionMask?: Tensor | null;
  /** (B, T): 1 for a real decoder input, 0 for padding; default: only the causal mask */
  decoderAttentionMask?: Tensor | null;
  /** (B, T) int32: the next token at every decoder position, −100 where ignored */
  targets?: Tensor | null;
}

export interface BartOutput {
  logits: Tensor; // (B, T, V)
  /** cross-entropy averaged over the targets ≠ −100, when targets were given */
  loss: Tensor | null; // ()
}

/** The targets' ignored value (PyTorch's CrossEntropyLoss default, Hugging Face's labels) */
export const IGNORE_INDEX = -100;

export class Bart extends Module {
  readonly config: BartConfig;
  tokEmb: Embedding;
  encPos: LearnedPositions;
  encEmbNorm: LayerNorm;
  decPos: LearnedPositions;
  decEmbNorm: LayerNorm;
  drop: Dropout;
  encoder: ModuleList<EncoderBlock>;
  decoder: ModuleList<DecoderBlock>;
  lmHead: TiedHead;
  declare finalLogitsBias: Tensor; // (1, V), a saved buffer

  constructor(config: BartConfig, opts: BartOptions = {}) {
    super();
    const c = (this.config = bartConfig(config));
    const generator = opts.generator ?? defaultGenerator;
    // one embedding for the source, the target and the output head; its <pad> row gets no gradient from the input side
    this.tokEmb = new Embedding(c.vocabSize, c.dModel, { paddingIdx: c.padId, generator });
    // DIFF(transformer): learned positions and an embedding LayerNorm, one of each per stack
    this.encPos = new LearnedPositions(c, generator);
    this.encEmbNorm = new LayerNorm(c.dModel, { eps: c.layerNormEps });
    this.decPos = new LearnedPositions(c, generator);
    this.decEmbNorm = new LayerNorm(c.dModel, { eps: c.layerNormEps });
    this.drop = new Dropout(c.dropout);
    this.encoder = new ModuleList(Array.from({ length: c.nEncoderLayer }, () => new EncoderBlock(c, generator)));
    this.decoder = new ModuleList(Array.from({ length: c.nDecoderLayer }, () => new DecoderBlock(c, generator)));
    // logits = h·Eᵀ + b: one tensor in two places, listed once (as tokEmb.weight)
    this.lmHead = new TiedHead(this.tokEmb.weight);
    // DIFF(transformer): a bias on the logits, a buffer (zeros in bart-base; saved, not trained)
    this.registerBuffer("finalLogitsBias", zeros([1, c.vocabSize]));
    this.initWeights(generator);
  }

  /**
   * inputIds (B, S) and decoderInputIds (B, T) int32 token ids (the decoder's input is the target shifted
   * right: `shiftTokensRight`) → logits (B, T, V) of the next target token at every position; with
   * targets (B, T) the cross-entropy over the targets ≠ −100.
   */
  forward(inputIds: Tensor, decoderInputIds: Tensor, opts: BartForwardOptions = {}): BartOutput {
    const srcMask = this.sourceMask(inputIds, opts.attentionMask);
    const memory = this.encode(inputIds, srcMask); // (B, S, C)
    const h = this.decode(decoderInputIds, memory, srcMask, undefined, opts.decoderAttentionMask); // (B, T, C)
    const logits = this.logits(h); // (B, T, V)
    const targets = opts.targets;
    if (!targets) return { logits, loss: null };
    const [B, T, V] = logits.shape as [number, number, number];
    if (targets.shape.length !== 2 || targets.shape[0] !== B || targets.shape[1] !== T) {
      throw new ShapeError(
        `Bart: targets ${fmt(targets.shape)} must have the shape of decoderInputIds ${fmt(decoderInputIds.shape)}`,
      );
    }
    // DIFF(transformer): plain cross-entropy, targets of −100 ignored
    // loss = mean over t ≠ −100 of −log p(t)
    const loss = F.crossEntropy(logits.view(B * T, V), targets.view(B * T), { ignoreIndex: IGNORE_INDEX }); // ()
    return { logits, loss };
  }

  /** logits = h·Eᵀ + b_final: (B, T, C) → (B, T, V) */
  logits(h: Tensor): Tensor {
    return this.lmHead.forward(h).add(this.finalLogitsBias); // DIFF(transformer): + final_logits_bias
  }

  /**
   * Which source keys every query may see. DIFF(transformer): given by the attention mask (1 = real token),
   * not derived from the pad id, as in Hugging Face's BART. → a bool mask (B, 1, 1, S), or none.
   */
  sourceMask(inputIds: Tensor, attentionMask?: Tensor | null): Mask {
    this.checkIds("inputIds", inputIds);
    if (!attentionMask) return {};
    const [B, S] = inputIds.shape as [number, number];
    if (attentionMask.ndim !== 2 || attentionMask.shape[0] !== B || attentionMask.shape[1] !== S) {
      throw new ShapeError(
        `Bart: attentionMask ${fmt(attentionMask.shape)} must have the shape of inputIds ${fmt(inputIds.shape)}`,
      );
    }
    return { attnMask: attentionMask.ne(0).view(B, 1, 1, S) };
  }

  /** x = Dropout(LN(s·E[ids] + E_pos[P+2 .. P+T+2)))  → (B, T, C); s = √C with scaleEmbedding, else 1 */
  embed(ids: Tensor, pos: LearnedPositions, norm: LayerNorm, P = 0): Tensor {
    const T = ids.shape[1]!;
    if (P + T > this.config.maxPositions)
      throw new ShapeError(
        `Bart: ${P ? `${P} cached + ` : ""}${T} tokens exceed maxPositions ${this.config.maxPositions} (ids ${fmt(ids.shape)})`,
      );
    // DIFF(transformer): not scaled by √C in bart-base (scale_embedding false)
    const scale = this.config.scaleEmbedding ? Math.sqrt(this.config.dModel) : 1;
    const x = this.tokEmb.forward(ids).mul(scale); // (B, T, C)
    // DIFF(transformer): learned positions, then a LayerNorm (layernorm_embedding)
    return this.drop.forward(norm.forward(x.add(pos.forward(T, P)))); // (B, T, C) + (T, C)
  }

  /** The encoder: inputIds (B, S) → memory (B, S, C). */
  encode(inputIds: Tensor, srcMask: Mask = this.sourceMask(inputIds)): Tensor {
    this.checkIds("inputIds", inputIds);
    let x = this.embed(inputIds, this.encPos, this.encEmbNorm); // (B, S, C)
    for (const block of this.encoder) x = block.forward(x, srcMask); // (B, S, C)
    return x; // post-LN ends normalised; no final norm
  }

  /** The decoder's trunk: decoderInputIds (B, T) after P cached tokens, memory (B, S, C) → (B, T, C), before the head. */
  decode(
    decoderInputIds: Tensor,
    memory: Tensor,
    srcMask: Mask,
    cache?: KVCache,
    decoderAttentionMask?: Tensor | null,
  ): Tensor {
    this.checkIds("decoderInputIds", decoderInputIds);
    const P = cache?.length ?? 0;
    let x = this.embed(decoderInputIds, this.decPos, this.decEmbNorm, P); // (B, T, C)
    const tgtMask = this.targetMask(decoderInputIds, P, decoderAttentionMask);
    let l = 0;
    for (const block of this.decoder) x = block.forward(x, memory, tgtMask, srcMask, cache?.layers[l++]); // (B, T, C)
    return x;
  }

  /**
   * Which target keys each query may see: its past (j ≤ P + i), and, with a decoder attention mask, not
   * padding. DIFF(transformer): padding is masked only when the mask is given (Hugging Face's default is
   * causal alone; right padding is then harmless, as no real token sees a later one). One new token after a
   * cache sees every key.
   */
  targetMask(tgt: Tensor, P: number, decoderAttentionMask?: Tensor | null): Mask {
    const [B, T] = tgt.shape as [number, number];
    if (P > 0 && T === 1 && !decoderAttentionMask) return {};
    // M_ij = (j ≤ P + i)
    const causal = arange(P + T)
      .unsqueeze(0)
      .le(arange(P, P + T).unsqueeze(1)); // (T, P+T) bool
    if (!decoderAttentionMask) return { attnMask: causal };
    if (
      decoderAttentionMask.ndim !== 2 ||
      decoderAttentionMask.shape[0] !== B ||
      decoderAttentionMask.shape[1] !== P + T
    ) {
      throw new ShapeError(
        `Bart: decoderAttentionMask ${fmt(decoderAttentionMask.shape)} must be (B, P+T) = (${B},${P + T})`,
      );
    }
    const keys = decoderAttentionMask.ne(0).view(B, 1, 1, P + T); // (B, 1, 1, P+T) bool
    return { attnMask: causal.mul(keys) }; //                          (B, 1, T, P+T) bool: causal ∧ key ≠ pad
  }

  /** Parameters, the shared embedding counted once; `nonEmbedding` leaves it out. */
  override numParameters(opts: { nonEmbedding?: boolean } = {}): number {
    const n = super.numParameters();
    return opts.nonEmbedding ? n - this.tokEmb.weight.numel() : n;
  }

  private checkIds(what: string, ids: Tensor): void {
    if (ids.ndim !== 2)
      throw new ShapeError(
        `Bart: ${what} must be (B, ${what === "inputIds" ? "S" : "T"}) token ids, got shape ${fmt(ids.shape)}`,
      );
    if (ids.dtype !== "int32")
      throw new DTypeError(`Bart: ${what} must be int32 token ids, got ${ids.dtype} ${fmt(ids.shape)}`);
  }

  // ===================================================================================================
  // Init

  /**
   * Hugging Face's BART init (init_std σ, 0.02 in the presets): every Linear and Embedding weight N(0, σ²),
   * biases 0, the <pad> row of the token embedding 0; LayerNorm γ = 1, β = 0; final_logits_bias 0.
   * DIFF(transformer): N(0, σ²) everywhere instead of Xavier-uniform and N(0, 1/C).
   */
  private initWeights(generator: Generator): void {
    noGrad(() => {
      for (const [, m] of this.namedModules()) {
        if (m instanceof Linear) {
          normal_(m.weight, 0, this.config.initStd, { generator });
          if (m.bias) zeros_(m.bias);
        } else if (m instanceof Embedding) {
          normal_(m.weight, 0, this.config.initStd, { generator });
          if (m.paddingIdx !== null && !m.weight.isMeta)
            m.weight.storage.fill(0, m.paddingIdx * this.config.dModel, (m.paddingIdx + 1) * this.config.dModel);
        }
      }
    });
  }

  /** Greedy decoding of inputIds (B, S); see `greedyDecode` below. */
  greedy(inputIds: Tensor, opts: DecodeOptions = {}): number[][] {
    return greedyDecode(this, inputIds, opts);
  }

  /** Sampled (greedy at temperature 0) decoding of inputIds (B, S); see `generate` below. */
  generate(inputIds: Tensor, opts: GenerateOptions = {}): number[][] {
    return generate(this, inputIds, opts);
  }

  /** Beam search over inputIds (B, S); see `beamSearch` below. */
  beamSearch(inputIds: Tensor, opts: BeamOptions): BeamResult {
    return beamSearch(this, inputIds, opts);
  }
}

/**
 * shift_tokens_right: the decoder's input is the target moved one step right, starting from
 * decoderStartId (2, </s>), with −100 (an ignored target) replaced by padId (1).
 *   out[:, 0] = start,  out[:, t] = targets[:, t−1]  (t ≥ 1)
 * targets (B, T) int32 → (B, T) int32
 */
export function shiftTokensRight(targets: Tensor, padId: number, decoderStartId: number): Tensor {
  if (targets.ndim !== 2)
    throw new ShapeError(`shiftTokensRight: targets must be (B, T), got shape ${fmt(targets.shape)}`);
  if (targets.dtype !== "int32")
    throw new DTypeError(`shiftTokensRight: targets must be int32, got ${targets.dtype} ${fmt(targets.shape)}`);
  const [B, T] = targets.shape as [number, number];
  const src = targets.storage as Int32Array,
    out = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    out[b * T] = decoderStartId;
    for (let t = 1; t < T; t++) {
      const v = src[b * T + t - 1]!;
      out[b * T + t] = v === IGNORE_INDEX ? padId : v;
    }
  }
  return tensor(out, { shape: [B, T] });
}

// =====================================================================================================
// Weight map: our names ↔ Hugging Face's BartForConditionalGeneration (as in tools/fixtures/bart.py)
//
// | ours                                   | Hugging Face                                                | how          |
// |----------------------------------------|-------------------------------------------------------------|--------------|
// | tokEmb.weight (V, C)                   | model.shared.weight (V, C)                                  |              |
// |                                        | model.encoder.embed_tokens.weight, model.decoder.embed_tokens.weight, lm_head.weight | tied copies: accepted if present, not written |
// | encPos.table.weight (maxPos+2, C)      | model.encoder.embed_positions.weight                        |              |
// | encEmbNorm.weight/.bias                | model.encoder.layernorm_embedding.weight/.bias              |              |
// | encoder.{i}.attn.wq/wk/wv/wo.*         | model.encoder.layers.{i}.self_attn.q_proj/k_proj/v_proj/out_proj.* |       |
// | encoder.{i}.norm1.*                    | model.encoder.layers.{i}.self_attn_layer_norm.*             |              |
// | encoder.{i}.mlp.up/down.*              | model.encoder.layers.{i}.fc1/fc2.*                          |              |
// | encoder.{i}.norm2.*                    | model.encoder.layers.{i}.final_layer_norm.*                 |              |
// | decPos.table.weight, decEmbNorm.*      | model.decoder.embed_positions.weight, model.decoder.layernorm_embedding.* |  |
// | decoder.{j}.attn.*, norm1.*            | model.decoder.layers.{j}.self_attn.*, self_attn_layer_norm.* |             |
// | decoder.{j}.cross.*, norm2.*           | model.decoder.layers.{j}.encoder_attn.*, encoder_attn_layer_norm.* |       |
// | decoder.{j}.mlp.up/down.*, norm3.*     | model.decoder.layers.{j}.fc1/fc2.*, final_layer_norm.*      |              |
// | finalLogitsBias (1, V)                 | final_logits_bias (1, V)                                    | a buffer     |
//
// Hugging Face's Linear layouts are (out, in) as ours: nothing is transposed. (* = .weight and .bias)

const attnEntries = (ours: string, theirs: string): [string, string][] =>
  [
    ["wq", "q_proj"],
    ["wk", "k_proj"],
    ["wv", "v_proj"],
    ["wo", "out_proj"],
  ].flatMap(([o, t]) => plain(`${ours}.${o}`, `${theirs}.${t}`));
const plain = (ours: string, theirs: string): [string, string][] =>
  [".weight", ".bias"].map((s) => [ours + s, theirs + s]);

const WEIGHT_MAP: readonly [string, string][] = [
  ["tokEmb.weight", "model.shared.weight"],
  ["encPos.table.weight", "model.encoder.embed_positions.weight"],
  ...plain("encEmbNorm", "model.encoder.layernorm_embedding"),
  ...attnEntries("encoder.{i}.attn", "model.encoder.layers.{i}.self_attn"),
  ...plain("encoder.{i}.norm1", "model.encoder.layers.{i}.self_attn_layer_norm"),
  ...plain("encoder.{i}.mlp.up", "model.encoder.layers.{i}.fc1"),
  ...plain("encoder.{i}.mlp.down", "model.encoder.layers.{i}.fc2"),
  ...plain("encoder.{i}.norm2", "model.encoder.layers.{i}.final_layer_norm"),
  ["decPos.table.weight", "model.decoder.embed_positions.weight"],
  ...plain("decEmbNorm", "model.decoder.layernorm_embedding"),
  ...attnEntries("decoder.{j}.attn", "model.decoder.layers.{j}.self_attn"),
  ...plain("decoder.{j}.norm1", "model.decoder.layers.{j}.self_attn_layer_norm"),
  ...attnEntries("decoder.{j}.cross", "model.decoder.layers.{j}.encoder_attn"),
  ...plain("decoder.{j}.norm2", "model.decoder.layers.{j}.encoder_attn_layer_norm"),
  ...plain("decoder.{j}.mlp.up", "model.decoder.layers.{j}.fc1"),
  ...plain("decoder.{j}.mlp.down", "model.decoder.layers.{j}.fc2"),
  ...plain("decoder.{j}.norm3", "model.decoder.layers.{j}.final_layer_norm"),
  ["finalLogitsBias", "final_logits_bias"],
];

/** Hugging Face's tied copies of model.shared.weight, which some checkpoints store as well */
const TIED_ALIASES = ["model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight", "lm_head.weight"];

/** The table with {i} (encoder layers) and {j} (decoder layers) expanded: [ours, theirs] pairs. */
export const weightMap = (c: BartConfig): [string, string][] =>
  pairsOf(expandMap(entriesOf(WEIGHT_MAP), { i: c.nEncoderLayer, j: c.nDecoderLayer }));

/** A state dict under Hugging Face's BartForConditionalGeneration names → ours, ready for `model.loadStateDict`. */
export function fromBartCheckpoint(state: Record<string, Tensor>, config: BartConfig): Record<string, Tensor> {
  const shared = state["model.shared.weight"];
  for (const alias of TIED_ALIASES) {
    const t = state[alias];
    if (t && shared && fmt(t.shape) !== fmt(shared.shape))
      throw new ShapeError(
        `fromBartCheckpoint: ${alias} ${fmt(t.shape)} is tied to model.shared.weight ${fmt(shared.shape)}`,
      );
  }
  return fromCheckpointWith("fromBartCheckpoint", state, entriesOf(weightMap(config)), {
    skipped: (k) => TIED_ALIASES.includes(k),
  });
}

/** Our state dict → Hugging Face's names (the tied copies not written, as its safetensors files). */
export const toBartCheckpoint = (state: Record<string, Tensor>, config: BartConfig): Record<string, Tensor> =>
  toCheckpointWith("toBartCheckpoint", state, entriesOf(weightMap(config)));

/** @deprecated the earlier name of fromBartCheckpoint */
export const fromHuggingFace = fromBartCheckpoint;
/** @deprecated the earlier name of toBartCheckpoint */
export const toHuggingFace = toBartCheckpoint;

// =====================================================================================================
// Decode

export interface DecodeOptions {
  /** the most tokens to generate per sentence, EOS included (default: maxPositions − 1) */
  maxLen?: number;
  /** the source's attention mask (B, S), when it is padded */
  attentionMask?: Tensor | null;
}

/**
 * Greedy decoding: start every row from decoderStartId (</s>) and append the most likely next token until
 * it is EOS or maxLen tokens were generated. The encoder runs once; each step feeds only the new token, the
 * earlier ones' keys and values coming from the KV cache. → the tokens of each row, without the start
 * token and EOS.
 */
export function greedyDecode(model: Bart, inputIds: Tensor, opts: DecodeOptions = {}): number[][] {
  const { eosId, decoderStartId, vocabSize: V } = model.config;
  const maxLen = checkMaxLen(model, opts.maxLen);
  const B = inputIds.shape[0]!;
  return evaluating(model, () => {
    const srcMask = model.sourceMask(inputIds, opts.attentionMask);
    const memory = model.encode(inputIds, srcMask); // (B, S, C)
    const cache = new KVCache(model.config.nDecoderLayer);
    const out: number[][] = Array.from({ length: B }, () => []);
    const done = new Array<boolean>(B).fill(false);
    let next = tensor(new Int32Array(B).fill(decoderStartId), { shape: [B, 1] }); // (B, 1)
    for (let step = 0; step < maxLen && !done.every(Boolean); step++) {
      const h = model.decode(next, memory, srcMask, cache); // (B, 1, C)
      const logits = model.logits(h).storage; // (B, 1, V)
      const tok = new Int32Array(B);
      for (let b = 0; b < B; b++) {
        // argmax_v logits[b, v]; ties: the lower index
        let best = 0;
        for (let v = 1; v < V; v++) if (logits[b * V + v]! > logits[b * V + best]!) best = v;
        tok[b] = best;
        if (done[b]) continue;
        if (best === eosId) done[b] = true;
        else out[b]!.push(best);
      }
      next = tensor(tok, { shape: [B, 1] }); // (B, 1)
    }
    return out;
  });
}

export interface GenerateOptions extends DecodeOptions, Omit<SamplingGenerateOptions, "useCache"> {}

/**
 * Generation: start every row from decoderStartId (</s>) and draw each next token from the decoder's logits —
 * the repetition penalty θ on the row's decoder tokens so far (start token included), then temperature τ (0:
 * greedy), top-k, top-p, as the decoders' generate (src/models/gpt2/model.ts) — until EOS or maxLen tokens.
 * The encoder runs once; its keys and values for the cross-attention are computed at the first step and
 * cached, the decoder's own grow by one token per step. → the tokens of each row, without the start token and EOS.
 */
export function generate(model: Bart, inputIds: Tensor, opts: GenerateOptions = {}): number[][] {
  const maxLen = checkMaxLen(model, opts.maxLen);
  const sampling = samplingOptions(opts);
  const { eosId, decoderStartId } = model.config;
  return evaluating(model, () =>
    sampleSeq2Seq(searchable(model, inputIds, opts.attentionMask), {
      maxLen,
      startId: decoderStartId,
      eosId,
      sampling,
      generator: opts.generator ?? defaultGenerator,
    }),
  );
}

/** Greedy-decoding options and the beam's (src/models/beam.ts). */
export interface BeamOptions extends DecodeOptions, BeamChoices {}

/**
 * Beam search (src/models/beam.ts): K hypotheses per input, ranked by log P(Y|X)/lp(|Y|), |Y| counting the EOS;
 * the encoder runs once and its output is repeated K times, each decoder step feeds one token per hypothesis
 * through the KV cache, reordered when hypotheses are extended. Every token may be generated. With K = 1 this is
 * greedy decoding.
 */
export function beamSearch(model: Bart, inputIds: Tensor, opts: BeamOptions): BeamResult {
  const maxLen = checkMaxLen(model, opts.maxLen);
  const { eosId, decoderStartId } = model.config;
  return evaluating(model, () =>
    searchBeams(searchable(model, inputIds, opts.attentionMask), { ...opts, maxLen, startId: decoderStartId, eosId }),
  );
}

/** The inputs encoded once; a decoder over any rows of them, its self- and cross-attention keys and values cached. */
function searchable(model: Bart, inputIds: Tensor, attentionMask?: Tensor | null): BeamSearchable {
  const srcMask = model.sourceMask(inputIds, attentionMask); // { attnMask: (B, 1, 1, S) } or {}
  const memory = model.encode(inputIds, srcMask); //           (B, S, C)
  return {
    batch: inputIds.shape[0]!,
    vocabSize: model.config.vocabSize,
    start(rows) {
      // row r continues input rows[r]
      const memoryN = indexSelect(memory, 0, rows); // (N, S, C)
      const maskN: Mask = srcMask.attnMask ? { attnMask: indexSelect(srcMask.attnMask, 0, rows) } : {}; // (N, 1, 1, S)
      const cache = new KVCache(model.config.nDecoderLayer);
      const N = rows.shape[0]!;
      return {
        step: (next) => model.logits(model.decode(next, memoryN, maskN, cache)).view(N, model.config.vocabSize), // (N, V)
        select: (keep) => cache.select(keep),
      };
    },
  };
}

/** maxLen (default maxPositions − 1), checked: the start token and maxLen − 1 fed tokens must fit the positions */
function checkMaxLen(model: Bart, maxLen = model.config.maxPositions - 1): number {
  const { maxPositions } = model.config;
  if (!(Number.isInteger(maxLen) && maxLen >= 1 && maxLen < maxPositions)) {
    throw new ArgumentError(`decode: maxLen must be an integer in [1, ${maxPositions - 1}], got ${maxLen}`);
  }
  return maxLen;
}
