// DeBERTa (v3 as released): a BERT-style encoder whose attention separates content from relative position.
//   He, Liu, Gao, Chen 2021, "DeBERTa: Decoding-enhanced BERT with Disentangled Attention",
//   https://arxiv.org/abs/2006.03654 (disentangled attention §3.1, enhanced mask decoder §3.2)
//   He, Gao, Chen 2021, "DeBERTaV3: Improving DeBERTa using ELECTRA-Style Pre-Training with Gradient-Disentangled
//   Embedding Sharing", https://arxiv.org/abs/2111.09543 (v3 keeps the v2 network; its config is our preset)
//   Devlin et al. 2019, BERT, https://arxiv.org/abs/1810.04805 (the post-LN encoder and the MLM head it keeps)
//
// Each token is represented by its content vector only; positions enter every layer's attention through a
// shared table of relative-position embeddings P (2k, C). With δ(i, j) the bucketed distance i − j, the score
// of query i on key j has three terms (§3.1, Eq. 4):
//   Ã_ij = Q_i·K_jᵀ  +  Q_i·K^r_{δ(i,j)}ᵀ  +  K_j·Q^r_{δ(j,i)}ᵀ ,   A = softmax(Ã / √(3d))
//          content→content  content→position    position→content
// where K^r = P·W_k and Q^r = P·W_q reuse the content projections (v2's share_att_key). The v2/v3 details,
// as HF's DebertaV2 configures deberta-v3-base: log-bucketed distances (position_buckets k = 256,
// max_relative_positions 512), a LayerNorm on P (norm_rel_ebd "layer_norm"), no absolute position embedding
// in the input (position_biased_input false), no token types (type_vocab_size 0), GELU, LayerNorm ε = 1e-7.
// Not built: v2's convolution layer beside the first layer (conv_kernel_size; v3 does not use it) and the
// enhanced mask decoder (§3.2: absolute positions added to the last hidden states, which are then passed twice
// more through the last layer before the MLM head). HF's DebertaV2ForMaskedLM has no EMD either — it puts the
// BERT head on the last layer — and the MLM head here is that one (README: "The MLM head").
//
// Differences from its sibling BERT (src/models/bert/model.ts), each marked DIFF(bert) where it happens:
// no absolute position embedding and (in v3) no segment embedding in the input; the embeddings of padding
// tokens zeroed after the LayerNorm; disentangled attention (c2c + c2p + p2c, scaled by 1/√(3·hs)) over
// log-bucketed relative positions, with one relative-embedding table and its LayerNorm shared by all layers;
// the padding mask on queries as well as keys (a padding query attends to nothing); LayerNorm ε = 1e-7; the
// pooler is HF's ContextPooler (dropout, dense, GELU) instead of tanh; no token-classification model.
//
// Read top to bottom: config → relative positions → layers (embeddings, attention, MLP, heads) → block →
// models → init → weight map. The checkpoint's key names appear only in the weight-map table at the bottom.
//
// Vocabulary (shape comments): B batch, T tokens, C = dModel channels, nh = nHead heads, hs = C/nh head
// size, F = dFF, V vocabulary, K labels, L = nLayer blocks, R = 2k rows of the relative table (k buckets).

import { noGrad } from "../../engine/autograd.js";
import { arange, tensor, zeros } from "../../engine/creation.js";
import { ArgumentError, DTypeError, ShapeError } from "../../engine/errors.js";
import { configOf } from "../presets.js";
import { defaultGenerator, Generator } from "../../engine/rng.js";
import { fmt } from "../../engine/shape.js";
import type { Tensor } from "../../engine/tensor.js";
import * as F from "../../nn/functional.js";
import { Module, ModuleList, Parameter } from "../../nn/module.js";
import { Dropout, Embedding, LayerNorm, Linear } from "../../nn/index.js";
import { normal_, zeros_ } from "../../nn/init.js";
import { linearFlops, sortedKinds, type Architecture } from "../architecture.js";
import { entriesOf, fromCheckpointWith, modelMap, pairsOf, toCheckpointWith, type MapRow } from "../weight-map.js";

// =====================================================================================================
// Config

export interface DebertaConfig {
  /** tokens in the vocabulary (V) */
  readonly vocabSize: number;
  /** segment ids; 0 = no segment embedding (DeBERTa v3) */
  readonly typeVocabSize: number;
  /** encoder layers (L) */
  readonly nLayer: number;
  /** attention heads per layer (nh) */
  readonly nHead: number;
  /** channels of the residual stream (C); a multiple of nHead */
  readonly dModel: number;
  /** the feed-forward network's inner width (F) */
  readonly dFF: number;
  /** k: relative distances fall into 2k buckets, exact within (−k/2, k/2), log-spaced beyond (v3: 256) */
  readonly positionBuckets: number;
  /** the distance that the log buckets reach at their edge ±(k − 1) (v3: 512, max_position_embeddings) */
  readonly maxRelativePositions: number;
  /** dropout on the embeddings, the relative table, the attention probabilities, the residual branches, the heads */
  readonly dropout: number;
  /** the LayerNorms' ε (DeBERTa: 1e-7) */
  readonly layerNormEps: number;
  /** the padding token: its embedding row starts at 0 and gets no gradient from the lookup */
  readonly padId: number;
}

/** A checked, frozen config: `debertaConfig("tiny", { vocabSize: tokenizer.vocabSize })`. */
export function debertaConfig(
  base: DebertaConfig | keyof typeof PRESETS,
  overrides: Partial<DebertaConfig> = {},
): DebertaConfig {
  return configOf("DebertaConfig", PRESETS, base, overrides, {
    positive: ["vocabSize", "nLayer", "nHead", "dModel", "dFF", "positionBuckets", "maxRelativePositions"],
    counts: ["typeVocabSize"],
    multiples: [["dModel", "nHead"]],
    probabilities: ["dropout"],
    positiveNumbers: ["layerNormEps"],
    tokenIds: ["padId"],
    // the log buckets divide by log((max − 1)/mid): it must be positive
    also: (c) => {
      const mid = Math.floor(c.positionBuckets / 2);
      return mid < 1 || c.maxRelativePositions - 1 <= mid
        ? `need positionBuckets ≥ 2 and maxRelativePositions > positionBuckets/2 + 1, got ${c.positionBuckets} and ${c.maxRelativePositions}`
        : undefined;
    },
  });
}

export const PRESETS = Object.freeze({
  /** microsoft/deberta-v3-base: 183,831,552 parameters as DebertaV2Model (98.4M of them the 128K embedding) */
  "deberta-v3-base": Object.freeze({
    vocabSize: 128100,
    typeVocabSize: 0,
    nLayer: 12,
    nHead: 12,
    dModel: 768,
    dFF: 3072,
    positionBuckets: 256,
    maxRelativePositions: 512,
    dropout: 0.1,
    layerNormEps: 1e-7,
    padId: 0,
  }),
  /** A CPU-sized model; vocabSize from the tokenizer */
  tiny: Object.freeze({
    vocabSize: 1000,
    typeVocabSize: 0,
    nLayer: 2,
    nHead: 4,
    dModel: 64,
    dFF: 256,
    positionBuckets: 32,
    maxRelativePositions: 128,
    dropout: 0.1,
    layerNormEps: 1e-7,
    padId: 0,
  }),
} satisfies Record<string, DebertaConfig>);

/**
 * The number of parameters of a config, counted from the equations (nothing allocated). The default is
 * HF's DebertaV2Model: embeddings, layers, the relative table and its LayerNorm (no pooler). `mlmHead` adds
 * the masked-LM head (its decoder weight is the word embedding, counted once); `pooler` adds the
 * ContextPooler of the sequence classifier; `emdPositions` P the enhanced mask decoder's absolute table (P, C).
 */
export function countParameters(
  c: DebertaConfig,
  opts: { pooler?: boolean; mlmHead?: boolean; emdPositions?: number } = {},
): number {
  const { vocabSize: V, typeVocabSize: S, dModel: C, dFF: Fw, positionBuckets: k } = c;
  const norm = 2 * C; //                                γ (C), β (C)
  const embeddings = V * C + S * C + norm; //           DIFF(bert): word (+ token type), LayerNorm; no position table
  const attn = 4 * (C * C + C); //                      wq, wk, wv, wo: W (C, C), b (C)
  const mlp = C * Fw + Fw + Fw * C + C; //              up (F, C) + (F), down (C, F) + (C)
  const block = attn + norm + mlp + norm;
  const relative = 2 * k * C + norm; //                 DIFF(bert): the relative table P (2k, C) and its LayerNorm
  const pooler = opts.pooler ? C * C + C : 0; //        dense (C, C) + (C)
  const mlm = opts.mlmHead ? C * C + C + norm + V : 0; // transform dense, LayerNorm, output bias (V)
  const emd = (opts.emdPositions ?? 0) * C; //            the EMD's absolute table z (P, C); its layer is the trunk's last
  return embeddings + c.nLayer * block + relative + pooler + mlm + emd;
}

/**
 * The architecture of DebertaModel (no pooler) in one row (src/models/architecture.ts). FLOPs per token of
 * one sequence of S tokens: per layer the four C×C projections 4·2C², the FFN 2·2·C·F, and the disentangled
 * attention: content→content q·kᵀ and α·v over S keys (2·S·C each), content→position q·K^rᵀ and
 * position→content k·Q^rᵀ against all R = 2k rows of the relative table (2·R·C each); plus, once per layer
 * and sequence, the table projected by W_k and W_q (2·2·R·C², shared by the S tokens: 4·R·C²/S each).
 */
export function describe(c: DebertaConfig, seqLen = 128, title = "DeBERTa-v3"): Architecture {
  const { vocabSize: V, nLayer: L, nHead: nh, dModel: C, dFF: Fw, positionBuckets: k } = c;
  const S = seqLen,
    R = 2 * k;
  const layer =
    4 * linearFlops(C, C) + linearFlops(C, Fw) + linearFlops(Fw, C) + 2 * linearFlops(C, S) + 2 * linearFlops(C, R); // + c2c, α·v, c2p, p2c
  const relative = (2 * R * linearFlops(C, C)) / S; // K^r = P·W_k, Q^r = P·W_q, per layer, shared by the S tokens
  return {
    title,
    config: `${L} layers, ${nh} heads, C ${C}, d_ff ${Fw}, ${R} relative buckets, V ${V}`,
    parameters: countParameters(c),
    // word (+ segment) embeddings, the relative table; the embedding LayerNorm, per layer norm1 norm2, the relative LayerNorm; per layer wq wk wv wo up down
    layers: sortedKinds({
      [Embedding.name]: 2 + (c.typeVocabSize > 0 ? 1 : 0),
      [LayerNorm.name]: 2 * L + 2,
      [Linear.name]: 6 * L,
    }),
    normalization: `${LayerNorm.name} on the embeddings, on the relative table and after each residual add (post-LN)`,
    positions: `relative only: ${R} log buckets of i − j (to ±${c.maxRelativePositions}), a shared table entering every layer's attention; no absolute position embedding`,
    attention: `bidirectional disentangled self-attention, ${nh} heads × ${C / nh}: content→content + content→position + position→content, scaled 1/√(3·${C / nh})`,
    activation: "GELU (exact, erf) in the FFN",
    flops: { value: L * (layer + relative), per: "token", at: `sequence ${S}, the relative projections shared` },
  };
}

// =====================================================================================================
// Relative positions (DeBERTa v2: log buckets)

/**
 * The bucket of a relative distance r = i − j (HF's make_log_bucket_position), with mid = ⌊k/2⌋:
 *   |r| ≤ mid:  r itself
 *   |r| > mid:  sign(r)·(mid + ⌈log(|r|/mid) / log((max − 1)/mid) · (mid − 1)⌉)
 * so the buckets run over [−(k − 1), k − 1] for |r| ≤ max − 1 and a little beyond for farther tokens (the
 * attention clamps them to the table's edge). The logarithms are taken in float32 (Math.fround) as PyTorch
 * does, so that the ceiling agrees at the boundaries.
 */
export function logBucketPosition(r: number, bucketSize: number, maxPosition: number): number {
  const mid = Math.floor(bucketSize / 2);
  if (Math.abs(r) <= mid) return r;
  const f = Math.fround;
  const ratio = f(f(Math.log(f(Math.abs(r) / mid))) / f(Math.log(f((maxPosition - 1) / mid))));
  return Math.sign(r) * (Math.ceil(f(ratio * (mid - 1))) + mid);
}

/**
 * The gather indices of the two position terms for T tokens (HF's build_relative_position, then the clamp):
 *   c2p[i, j] = clamp(δ(i, j) + k, 0, 2k − 1)   the row of K^r that query i uses for key j
 *   p2c[j, i] = clamp(−δ(j, i) + k, 0, 2k − 1)  the row of Q^r that key j uses for query i, j as the row
 * with δ(i, j) = logBucketPosition(i − j). Both (B, nh, T, T) int32, repeated over batch and heads for gather.
 */
export function relativeIndices(c: DebertaConfig, B: number, T: number): { c2p: Tensor; p2c: Tensor } {
  const k = c.positionBuckets;
  const clampRow = (x: number): number => Math.min(Math.max(x, 0), 2 * k - 1);
  const c2p = new Int32Array(B * c.nHead * T * T),
    p2c = new Int32Array(B * c.nHead * T * T);
  for (let i = 0; i < T; i++) {
    for (let j = 0; j < T; j++) {
      const delta = logBucketPosition(i - j, k, c.maxRelativePositions); // δ(i, j)
      c2p[i * T + j] = clampRow(delta + k);
      p2c[i * T + j] = clampRow(-delta + k); // row i is the key here: −δ(i, j) + k
    }
  }
  for (let n = 1; n < B * c.nHead; n++) {
    c2p.copyWithin(n * T * T, 0, T * T);
    p2c.copyWithin(n * T * T, 0, T * T);
  }
  const shape = [B, c.nHead, T, T];
  return { c2p: tensor(c2p, { shape, dtype: "int32" }), p2c: tensor(p2c, { shape, dtype: "int32" }) };
}

// =====================================================================================================
// Layers

/** The input representation: word (+ segment) embeddings, LayerNorm, padding zeroed, dropout. */
export class Embeddings extends Module {
  tokEmb: Embedding;
  typeEmb: Embedding | null;
  norm: LayerNorm;
  drop: Dropout;

  constructor(c: DebertaConfig, generator: Generator) {
    super();
    this.tokEmb = new Embedding(c.vocabSize, c.dModel, { paddingIdx: c.padId, generator });
    // DIFF(bert): no absolute position embedding (position_biased_input false): positions live in the attention
    this.typeEmb = c.typeVocabSize > 0 ? new Embedding(c.typeVocabSize, c.dModel, { generator }) : null; // DIFF(bert): none in v3
    this.norm = new LayerNorm(c.dModel, { eps: c.layerNormEps });
    this.drop = new Dropout(c.dropout);
  }

  /** x = Dropout(LN(E_tok[idx] (+ E_type[types])) ⊙ m), m = 1 at real tokens, 0 at padding → (B, T, C) */
  forward(idx: Tensor, tokenTypeIds: Tensor | null, realTokens: Tensor | null): Tensor {
    let x = this.tokEmb.forward(idx); // (B, T, C)
    if (this.typeEmb && tokenTypeIds) x = x.add(this.typeEmb.forward(tokenTypeIds));
    x = this.norm.forward(x); // (B, T, C)
    // DIFF(bert): padding tokens' embeddings are zeroed after the LayerNorm
    if (realTokens) x = x.mul(realTokens.unsqueeze(2).to(x.dtype)); // (B, T, C) · (B, T, 1)
    return this.drop.forward(x); // (B, T, C)
  }
}

/** What every layer's attention shares: the normalised relative table and the gather indices. */
export interface RelativeContext {
  rel: Tensor; // (R, C) LN(P)
  c2p: Tensor; // (B, nh, T, T) int32
  p2c: Tensor; // (B, nh, T, T) int32
}

/** Disentangled multi-head self-attention (§3.1): content and relative-position terms, padding masked. */
export class SelfAttention extends Module {
  readonly nHead: number;
  wq: Linear;
  wk: Linear;
  wv: Linear;
  wo: Linear;
  posDrop: Dropout;
  attnDrop: Dropout;
  residDrop: Dropout;

  constructor(c: DebertaConfig, generator: Generator) {
    super();
    this.nHead = c.nHead;
    this.wq = new Linear(c.dModel, c.dModel, { generator });
    this.wk = new Linear(c.dModel, c.dModel, { generator });
    this.wv = new Linear(c.dModel, c.dModel, { generator });
    this.wo = new Linear(c.dModel, c.dModel, { generator });
    this.posDrop = new Dropout(c.dropout, { batchFirst: false }); // the table every row shares: one mask
    this.attnDrop = new Dropout(c.dropout);
    this.residDrop = new Dropout(c.dropout);
  }

  /**
   * x (B, T, C) the keys' and values' stream; masked (B, 1, T, T) bool: true where query or key is padding;
   * query (B, T, C) the queries' stream — x itself, except in the enhanced mask decoder → (B, T, C)
   */
  forward(x: Tensor, masked: Tensor | null, r: RelativeContext, query: Tensor = x): Tensor {
    const [B, T, C] = x.shape as [number, number, number];
    const nh = this.nHead,
      hs = C / nh;
    const heads = (t: Tensor): Tensor => t.view(t.shape[0]!, t.shape[1]!, nh, hs).transpose(1, 2); // (·, n, C) → (·, nh, n, hs)
    const q = heads(this.wq.forward(query)); // (B, nh, T, hs)
    const k = heads(this.wk.forward(x)); // (B, nh, T, hs)
    const v = heads(this.wv.forward(x)); // (B, nh, T, hs)
    // DIFF(bert): K^r = P·W_k + b_k, Q^r = P·W_q + b_q — the content projections applied to the relative table
    const rel = this.posDrop.forward(r.rel).unsqueeze(0); // (1, R, C)
    const kr = heads(this.wk.forward(rel)); // (1, nh, R, hs)
    const qr = heads(this.wq.forward(rel)); // (1, nh, R, hs)
    // content→content: Q_i·K_jᵀ
    const c2c = q.matmul(k.transpose(-1, -2)); // (B, nh, T, T)
    // content→position: Q_i·K^r_{δ(i,j)}ᵀ, all R rows scored, then row c2p[i, j] taken for key j
    const c2p = q.matmul(kr.transpose(-1, -2)).gather(-1, r.c2p); // (B, nh, T, R) → (B, nh, T, T)
    // position→content: K_j·Q^r_{δ(j,i)}ᵀ, gathered with key j as the row, then transposed to (query, key)
    const p2c = k.matmul(qr.transpose(-1, -2)).gather(-1, r.p2c).transpose(-1, -2); // (B, nh, T, T)
    // Ã = (c2c + c2p + p2c) / √(3·hs)   (DIFF(bert): three terms, so 3·hs under the root)
    let att = c2c
      .add(c2p)
      .add(p2c)
      .mul(1 / Math.sqrt(3 * hs)); // (B, nh, T, T)
    // DIFF(bert): HF's XSoftmax — masked scores set to the lowest float before the softmax and to 0 after, so a
    // padding query attends to nothing (its output is the bias of wo)
    if (masked) att = att.maskedFill(masked, -3.4028234663852886e38);
    let p = att.softmax(-1); // (B, nh, T, T)
    if (masked) p = p.maskedFill(masked, 0);
    const y = this.attnDrop.forward(p).matmul(v); // (B, nh, T, hs)
    const merged = y.transpose(1, 2).reshape(B, T, C); // (B, T, C)
    return this.residDrop.forward(this.wo.forward(merged)); // (B, T, C)
  }
}

/** The position-wise feed-forward network: FFN(x) = GELU(x·W₁ + b₁)·W₂ + b₂. */
export class MLP extends Module {
  up: Linear;
  down: Linear;
  drop: Dropout;

  constructor(c: DebertaConfig, generator: Generator) {
    super();
    this.up = new Linear(c.dModel, c.dFF, { generator });
    this.down = new Linear(c.dFF, c.dModel, { generator });
    this.drop = new Dropout(c.dropout);
  }

  forward(x: Tensor): Tensor {
    const h = this.up.forward(x); // (B, T, F)
    // the exact GELU, g(h) = h·Φ(h) = h/2·(1 + erf(h/√2))
    const g = F.gelu(h); // (B, T, F)
    return this.drop.forward(this.down.forward(g)); // (B, T, C)
  }
}

/** The sentence vector (HF's ContextPooler): p = GELU(W·Dropout(h_[CLS]) + b). */
export class Pooler extends Module {
  drop: Dropout;
  dense: Linear;

  constructor(c: DebertaConfig, generator: Generator) {
    super();
    this.drop = new Dropout(c.dropout);
    this.dense = new Linear(c.dModel, c.dModel, { generator });
  }

  forward(h: Tensor): Tensor {
    const [B, , C] = h.shape as [number, number, number];
    const cls = h.narrow(1, 0, 1).reshape(B, C); // (B, C) the [CLS] position
    return F.gelu(this.dense.forward(this.drop.forward(cls))); // (B, C)  DIFF(bert): GELU, not tanh
  }
}

/**
 * The masked-LM head as HF's DebertaV2ForMaskedLM has it (BERT's): a dense + GELU + LayerNorm transform, then
 * the decoder, whose weight is the word embedding E (V, C) and whose bias is its own:
 * logits = LN(GELU(h·W_tᵀ + b_t))·Eᵀ + b.
 */
export class MLMHead extends Module {
  dense: Linear;
  norm: LayerNorm;
  decoder: Parameter; // (V, C) = the word embedding, listed once under its first name
  bias: Parameter; // (V)

  constructor(c: DebertaConfig, wordEmbedding: Parameter, generator: Generator) {
    super();
    this.dense = new Linear(c.dModel, c.dModel, { generator });
    this.norm = new LayerNorm(c.dModel, { eps: c.layerNormEps });
    this.decoder = wordEmbedding;
    this.bias = new Parameter(zeros([c.vocabSize]));
  }

  forward(h: Tensor): Tensor {
    const t = this.norm.forward(F.gelu(this.dense.forward(h))); // (B, T, C)
    return F.linear(t, this.decoder, this.bias); //                (B, T, V)
  }
}

// =====================================================================================================
// Block

/** A post-LN encoder layer: each sub-layer's output is added to its input, then normalised. */
export class Block extends Module {
  attn: SelfAttention;
  norm1: LayerNorm;
  mlp: MLP;
  norm2: LayerNorm;

  constructor(c: DebertaConfig, generator: Generator) {
    super();
    this.attn = new SelfAttention(c, generator);
    this.norm1 = new LayerNorm(c.dModel, { eps: c.layerNormEps });
    this.mlp = new MLP(c, generator);
    this.norm2 = new LayerNorm(c.dModel, { eps: c.layerNormEps });
  }

  /** x (B, T, C); query (B, T, C): the stream the queries and the first residual come from (default x; the EMD's I) */
  forward(x: Tensor, masked: Tensor | null, r: RelativeContext, query: Tensor = x): Tensor {
    // post-LN, x ← LN(x + sublayer(x)); with a query stream I: y ← LN(I + attn(Q = I, K = V = x))
    let y = this.norm1.forward(query.add(this.attn.forward(x, masked, r, query))); // (B, T, C)
    y = this.norm2.forward(y.add(this.mlp.forward(y))); //                              (B, T, C)
    return y;
  }
}

// =====================================================================================================
// Models

export interface DebertaOptions {
  /** the source of the initial weights (default: the library's default generator, seeded by manualSeed) */
  generator?: Generator;
}

export interface ForwardOptions {
  /** (B, T) int32 segment ids, used only when typeVocabSize > 0; default all 0 */
  tokenTypeIds?: Tensor | null;
  /** (B, T): 1 (or true) for real tokens, 0 for padding; default all real */
  attentionMask?: Tensor | null;
  /** (B, T) int32 for masked LM, (B) for sequence classification; −100 is ignored */
  targets?: Tensor | null;
}

export interface HeadOutput {
  logits: Tensor; // (B, T, V) or (B, K)
  /** mean cross-entropy over the targets that are not −100, when targets were given */
  loss: Tensor | null; // ()
}

/** The trunk (HF's DebertaV2Model): embeddings, L post-LN layers sharing one relative table. */
export class DebertaModel extends Module {
  readonly config: DebertaConfig;
  embeddings: Embeddings;
  layers: ModuleList<Block>;
  relEmb: Embedding; //  DIFF(bert): P (R, C), shared by all layers
  relNorm: LayerNorm; // DIFF(bert): norm_rel_ebd = "layer_norm"

  constructor(config: DebertaConfig, opts: DebertaOptions = {}) {
    super();
    const c = (this.config = debertaConfig(config));
    const generator = opts.generator ?? defaultGenerator;
    this.embeddings = new Embeddings(c, generator);
    this.layers = new ModuleList(Array.from({ length: c.nLayer }, () => new Block(c, generator)));
    this.relEmb = new Embedding(2 * c.positionBuckets, c.dModel, { generator });
    this.relNorm = new LayerNorm(c.dModel, { eps: c.layerNormEps });
    initWeights(this, generator);
  }

  /** idx (B, T) int32 → the last layer's hidden states (B, T, C). */
  forward(idx: Tensor, opts: ForwardOptions = {}): Tensor {
    return this.encode(idx, opts, this.config.nLayer).x;
  }

  /**
   * The embeddings and the first n layers: their output (B, T, C) with the padding mask and the relative
   * context they used (the enhanced mask decoder runs the last layer again with both).
   */
  encode(idx: Tensor, opts: ForwardOptions, n: number): { x: Tensor; masked: Tensor | null; r: RelativeContext } {
    const { tokenTypeIds, realTokens, masked } = this.checkInputs(idx, opts);
    const [B, T] = idx.shape as [number, number];
    let x = this.embeddings.forward(idx, tokenTypeIds, realTokens); // (B, T, C)
    // DIFF(bert): the relative table, normalised once per forward, and the gather indices of δ(i, j)
    const r: RelativeContext = { rel: this.relNorm.forward(this.relEmb.weight), ...relativeIndices(this.config, B, T) };
    for (let i = 0; i < n; i++) x = this.layers.at(i).forward(x, masked, r); // (B, T, C)
    return { x, masked, r };
  }

  private checkInputs(
    idx: Tensor,
    opts: ForwardOptions,
  ): { tokenTypeIds: Tensor | null; realTokens: Tensor | null; masked: Tensor | null } {
    const name = this.constructor.name;
    if (idx.ndim !== 2) throw new ShapeError(`${name}: idx must be (B, T) token ids, got shape ${fmt(idx.shape)}`);
    if (idx.dtype !== "int32")
      throw new DTypeError(`${name}: idx must be int32 token ids, got ${idx.dtype} ${fmt(idx.shape)}`);
    const [B, T] = idx.shape as [number, number];
    for (const [key, t] of [
      ["tokenTypeIds", opts.tokenTypeIds],
      ["attentionMask", opts.attentionMask],
    ] as const) {
      if (t && (t.ndim !== 2 || t.shape[0] !== B || t.shape[1] !== T))
        throw new ShapeError(`${name}: ${key} ${fmt(t.shape)} must have the shape of idx ${fmt(idx.shape)}`);
    }
    const tokenTypeIds =
      this.config.typeVocabSize > 0 ? (opts.tokenTypeIds ?? zeros([B, T], { dtype: "int32" })) : null; // (B, T)
    if (!opts.attentionMask) return { tokenTypeIds, realTokens: null, masked: null };
    const realTokens = opts.attentionMask.ne(0); // (B, T) bool
    // DIFF(bert): a 2-D mask, keep[b, i, j] = real[b, i] ∧ real[b, j]; masked is its complement
    // masked[b, 0, i, j] = pad[b, i] ∨ pad[b, j], as (pad_i + pad_j ≠ 0) with pad ∈ {0, 1}
    const pad = opts.attentionMask.eq(0).to("int32"); // (B, T)
    const masked = pad
      .view(B, 1, T, 1)
      .add(pad.view(B, 1, 1, T))
      .ne(0); // (B, 1, T, T) bool
    return { tokenTypeIds, realTokens, masked };
  }
}

/** Masked language modelling as HF's DebertaV2ForMaskedLM: the trunk, then the MLM head on the last layer (no EMD). */
export class DebertaForMaskedLM extends Module {
  readonly config: DebertaConfig;
  encoder: DebertaModel;
  mlmHead: MLMHead;

  constructor(config: DebertaConfig, opts: DebertaOptions = {}) {
    super();
    const generator = opts.generator ?? defaultGenerator;
    this.encoder = new DebertaModel(config, { ...opts, generator });
    this.config = this.encoder.config;
    // the decoder is tied to the word embedding (Press & Wolf 2017): one tensor, listed once
    this.mlmHead = new MLMHead(this.config, this.encoder.embeddings.tokEmb.weight, generator);
    initWeights(this.mlmHead, generator);
  }

  /** → logits (B, T, V); with targets (B, T), −100 at the unmasked positions, the mean cross-entropy of the rest. */
  forward(idx: Tensor, opts: ForwardOptions = {}): HeadOutput {
    const logits = this.mlmHead.forward(this.encoder.forward(idx, opts)); // (B, T, V)
    return { logits, loss: opts.targets ? tokenLoss("DebertaForMaskedLM", logits, opts.targets) : null };
  }
}

/**
 * The enhanced mask decoder (§3.2, "EMD"; Figure 2): absolute positions enter only here, right before the MLM
 * head. With H the output of layer L−1 and z the absolute position embedding of each token,
 *   I₁ = H + z,   I_{s+1} = Layer_L(K = V = H, Q = I_s),  s = 1 … n,   logits = MLMHead(I_{n+1})
 * where Layer_L is the trunk's last layer, run n = 2 times with its own weights (the paper: "the n layers can
 * share the same weight … we share the same weight for n = 2"; the original code reuses encoder.layer[-1] and
 * takes H = the second-to-last layer's output). The relative positions and the padding mask are the trunk's.
 * The table z is the only new parameter; fine-tuning drops it with the EMD.
 */
export class EnhancedMaskDecoder extends Module {
  readonly steps: number;
  posEmb: Embedding; // z (P, C) absolute positions 0 … P−1

  constructor(c: DebertaConfig, opts: { steps: number; maxPositions: number; generator: Generator }) {
    super();
    if (!Number.isInteger(opts.steps) || opts.steps < 1)
      throw new ArgumentError(`EnhancedMaskDecoder: steps must be a positive integer, got ${opts.steps}`);
    if (!Number.isInteger(opts.maxPositions) || opts.maxPositions < 1)
      throw new ArgumentError(`EnhancedMaskDecoder: maxPositions must be a positive integer, got ${opts.maxPositions}`);
    this.steps = opts.steps;
    this.posEmb = new Embedding(opts.maxPositions, c.dModel, { generator: opts.generator });
  }

  /** h (B, T, C) = H, the stream the EMD decodes from (keys and values); layer: the trunk's last → (B, T, C) */
  forward(h: Tensor, layer: Block, masked: Tensor | null, r: RelativeContext): Tensor {
    const T = h.shape[1]!;
    if (T > this.posEmb.numEmbeddings)
      throw new ShapeError(
        `EnhancedMaskDecoder: ${T} tokens exceed its ${this.posEmb.numEmbeddings} absolute positions (h ${fmt(h.shape)})`,
      );
    // I₁ = H + z: the absolute positions, added only here (DIFF(bert): BERT adds them to the input)
    let query = h.add(this.posEmb.forward(arange(T))); // (B, T, C) + (T, C)
    // I_{s+1} = Layer(K = V = H, Q = I_s): the same layer, the same weights, n times
    for (let s = 0; s < this.steps; s++) query = layer.forward(h, masked, r, query); // (B, T, C)
    return query;
  }
}

export interface EmdOptions extends DebertaOptions {
  /** n, the decoding passes through the last layer (the paper: 2) */
  emdSteps?: number;
  /** rows of the absolute position table z (default maxRelativePositions, v3's max_position_embeddings) */
  maxPositions?: number;
}

/**
 * Masked language modelling with the paper's enhanced mask decoder (§3.2): the trunk's first L−1 layers give
 * H; the EMD runs layer L n times with H + z as the queries; the MLM head reads its output. The trunk
 * (`encoder.*`) is DebertaModel's, so the pretrained weights load into DebertaForSequenceClassification, which
 * runs all L layers once, without z.
 */
export class DebertaForMaskedLMWithEMD extends Module {
  readonly config: DebertaConfig;
  encoder: DebertaModel;
  emd: EnhancedMaskDecoder;
  mlmHead: MLMHead;

  constructor(config: DebertaConfig, opts: EmdOptions = {}) {
    super();
    const generator = opts.generator ?? defaultGenerator;
    this.encoder = new DebertaModel(config, { generator });
    this.config = this.encoder.config;
    this.emd = new EnhancedMaskDecoder(this.config, {
      steps: opts.emdSteps ?? 2,
      maxPositions: opts.maxPositions ?? this.config.maxRelativePositions,
      generator,
    });
    this.mlmHead = new MLMHead(this.config, this.encoder.embeddings.tokEmb.weight, generator);
    initWeights(this.emd, generator);
    initWeights(this.mlmHead, generator);
  }

  /** → logits (B, T, V); with targets (B, T), −100 at the unmasked positions, the mean cross-entropy of the rest. */
  forward(idx: Tensor, opts: ForwardOptions = {}): HeadOutput {
    const L = this.config.nLayer;
    const { x: h, masked, r } = this.encoder.encode(idx, opts, L - 1); // H (B, T, C): layer L−1's output
    const y = this.emd.forward(h, this.encoder.layers.at(L - 1), masked, r); // (B, T, C)  DIFF(bert): the EMD
    const logits = this.mlmHead.forward(y); // (B, T, V)
    return { logits, loss: opts.targets ? tokenLoss("DebertaForMaskedLMWithEMD", logits, opts.targets) : null };
  }
}

/** Sequence classification (HF's DebertaV2ForSequenceClassification): ContextPooler, dropout, Linear. */
export class DebertaForSequenceClassification extends Module {
  readonly config: DebertaConfig;
  encoder: DebertaModel;
  pooler: Pooler; // DIFF(bert): the pooler belongs to the classifier, not to the trunk
  drop: Dropout;
  classifier: Linear;

  constructor(
    config: DebertaConfig,
    readonly numLabels: number,
    opts: DebertaOptions = {},
  ) {
    super();
    const generator = opts.generator ?? defaultGenerator;
    this.encoder = new DebertaModel(config, { ...opts, generator });
    this.config = this.encoder.config;
    this.pooler = new Pooler(this.config, generator);
    this.drop = new Dropout(this.config.dropout);
    this.classifier = new Linear(this.config.dModel, numLabels, { generator });
    initWeights(this.pooler, generator);
    initWeights(this.classifier, generator);
  }

  /** → logits (B, K); with targets (B) int32 the mean cross-entropy. */
  forward(idx: Tensor, opts: ForwardOptions = {}): HeadOutput {
    const pooled = this.pooler.forward(this.encoder.forward(idx, opts)); // (B, C)
    const logits = this.classifier.forward(this.drop.forward(pooled)); // (B, K)
    if (!opts.targets) return { logits, loss: null };
    if (opts.targets.ndim !== 1 || opts.targets.shape[0] !== logits.shape[0]) {
      throw new ShapeError(
        `DebertaForSequenceClassification: targets ${fmt(opts.targets.shape)} must be (B) = (${logits.shape[0]}) labels`,
      );
    }
    return { logits, loss: F.crossEntropy(logits, opts.targets) };
  }
}

/** loss = −(1/N)·Σ_{(b,t): y ≠ −100} log softmax(logits[b,t])[y[b,t]] over the N labelled positions */
function tokenLoss(name: string, logits: Tensor, targets: Tensor): Tensor {
  const [B, T, V] = logits.shape as [number, number, number];
  if (targets.ndim !== 2 || targets.shape[0] !== B || targets.shape[1] !== T) {
    throw new ShapeError(`${name}: targets ${fmt(targets.shape)} must be (B, T) = (${B},${T})`);
  }
  return F.crossEntropy(logits.view(B * T, V), targets.view(B * T), { ignoreIndex: -100 }); // ()
}

// =====================================================================================================
// Init

/**
 * HF's DebertaV2 `_init_weights` (as BERT's): every Linear weight and embedding — the relative table too —
 * N(0, 0.02), biases 0, the padding row 0, LayerNorm γ = 1, β = 0 (as constructed).
 */
function initWeights(root: Module, generator: Generator, std = 0.02): void {
  noGrad(() => {
    for (const [, m] of root.namedModules()) {
      if (m instanceof Linear) {
        normal_(m.weight, 0, std, { generator });
        if (m.bias) zeros_(m.bias);
      } else if (m instanceof Embedding) {
        normal_(m.weight, 0, std, { generator });
        if (m.paddingIdx !== null && !m.weight.isMeta)
          m.weight.storage.fill(0, m.paddingIdx * m.embeddingDim, (m.paddingIdx + 1) * m.embeddingDim);
      }
    }
  });
}

// =====================================================================================================
// Weight map: our names ↔ HF's DebertaV2 checkpoints (microsoft/deberta-v3-*)
//
// | ours (DebertaModel; heads prefix "encoder.") | checkpoint                                                   |
// |----------------------------------------------|--------------------------------------------------------------|
// | embeddings.tokEmb.weight (V, C)              | deberta.embeddings.word_embeddings.weight                    |
// | embeddings.typeEmb.weight (S, C), if S > 0   | deberta.embeddings.token_type_embeddings.weight              |
// | embeddings.norm.weight/.bias                 | deberta.embeddings.LayerNorm.weight/.bias                    |
// | layers.{i}.attn.wq.weight/.bias              | deberta.encoder.layer.{i}.attention.self.query_proj.*        |
// | layers.{i}.attn.wk.weight/.bias              | deberta.encoder.layer.{i}.attention.self.key_proj.*          |
// | layers.{i}.attn.wv.weight/.bias              | deberta.encoder.layer.{i}.attention.self.value_proj.*        |
// | layers.{i}.attn.wo.weight/.bias              | deberta.encoder.layer.{i}.attention.output.dense.*           |
// | layers.{i}.norm1.weight/.bias                | deberta.encoder.layer.{i}.attention.output.LayerNorm.*       |
// | layers.{i}.mlp.up.weight/.bias               | deberta.encoder.layer.{i}.intermediate.dense.*               |
// | layers.{i}.mlp.down.weight/.bias             | deberta.encoder.layer.{i}.output.dense.*                     |
// | layers.{i}.norm2.weight/.bias                | deberta.encoder.layer.{i}.output.LayerNorm.*                 |
// | relEmb.weight (2k, C)                        | deberta.encoder.rel_embeddings.weight                        |
// | relNorm.weight/.bias                         | deberta.encoder.LayerNorm.weight/.bias                       |
// | mlmHead.dense.weight/.bias                   | cls.predictions.transform.dense.*                            |
// | mlmHead.norm.weight/.bias                    | cls.predictions.transform.LayerNorm.*                        |
// | mlmHead.bias (V)                             | cls.predictions.bias                                         |
// | mlmHead.decoder (= tokEmb.weight)            | cls.predictions.decoder.weight: tied, not read               |
// | emd.posEmb.weight (P, C)                     | deberta.embeddings.position_embeddings.weight (see below)    |
// | pooler.dense.weight/.bias                    | pooler.dense.*                                               |
// | classifier.weight/.bias                      | classifier.*                                                 |
//
// No transposes: HF uses nn.Linear, (out, in) like ours. The MLM head's names are HF's (legacy) DebertaV2
// ones; the original repository's lm_predictions.lm_head.* are not mapped. Reading skips the tied decoder
// (and its bias alias), the position_ids buffer of older files, and the RTD discriminator head of the v3
// checkpoints (mask_predictions.*), which no model here holds. The EMD's table z is named as the original code
// names the table it takes z from (the embeddings' position table, unused in the input when
// position_biased_input is false); HF's DebertaV2 has no EMD and, for v3, no such table: no released file has it.

/** One row of the table: our name suffix ↔ theirs, `{i}` the layer. */
export type { MapRow };

export const TRUNK_MAP: readonly MapRow[] = [
  ["embeddings.tokEmb.weight", "deberta.embeddings.word_embeddings.weight"],
  ["embeddings.typeEmb.weight", "deberta.embeddings.token_type_embeddings.weight"],
  ["embeddings.norm.weight", "deberta.embeddings.LayerNorm.weight"],
  ["embeddings.norm.bias", "deberta.embeddings.LayerNorm.bias"],
  ...(["weight", "bias"] as const).flatMap((w): MapRow[] => [
    [`layers.{i}.attn.wq.${w}`, `deberta.encoder.layer.{i}.attention.self.query_proj.${w}`],
    [`layers.{i}.attn.wk.${w}`, `deberta.encoder.layer.{i}.attention.self.key_proj.${w}`],
    [`layers.{i}.attn.wv.${w}`, `deberta.encoder.layer.{i}.attention.self.value_proj.${w}`],
    [`layers.{i}.attn.wo.${w}`, `deberta.encoder.layer.{i}.attention.output.dense.${w}`],
    [`layers.{i}.norm1.${w}`, `deberta.encoder.layer.{i}.attention.output.LayerNorm.${w}`],
    [`layers.{i}.mlp.up.${w}`, `deberta.encoder.layer.{i}.intermediate.dense.${w}`],
    [`layers.{i}.mlp.down.${w}`, `deberta.encoder.layer.{i}.output.dense.${w}`],
    [`layers.{i}.norm2.${w}`, `deberta.encoder.layer.{i}.output.LayerNorm.${w}`],
  ]),
  ["relEmb.weight", "deberta.encoder.rel_embeddings.weight"],
  ["relNorm.weight", "deberta.encoder.LayerNorm.weight"],
  ["relNorm.bias", "deberta.encoder.LayerNorm.bias"],
];

export const HEAD_MAP: readonly MapRow[] = [
  ["mlmHead.dense.weight", "cls.predictions.transform.dense.weight"],
  ["mlmHead.dense.bias", "cls.predictions.transform.dense.bias"],
  ["mlmHead.norm.weight", "cls.predictions.transform.LayerNorm.weight"],
  ["mlmHead.norm.bias", "cls.predictions.transform.LayerNorm.bias"],
  ["mlmHead.bias", "cls.predictions.bias"],
  ["emd.posEmb.weight", "deberta.embeddings.position_embeddings.weight"],
  ["pooler.dense.weight", "pooler.dense.weight"],
  ["pooler.dense.bias", "pooler.dense.bias"],
  ["classifier.weight", "classifier.weight"],
  ["classifier.bias", "classifier.bias"],
];

const SKIPPED = /^(cls\.predictions\.decoder\.(weight|bias)|deberta\.embeddings\.position_ids|mask_predictions\..*)$/;

type AnyDeberta = DebertaModel | DebertaForMaskedLM | DebertaForMaskedLMWithEMD | DebertaForSequenceClassification;

/** The (ours, theirs) name pairs of one model, {i} expanded, only the tensors the model holds. */
export function weightMap(model: AnyDeberta): [string, string][] {
  const trunk = model instanceof DebertaModel ? "" : "encoder.";
  return pairsOf(
    modelMap(model, [...TRUNK_MAP.map(([o, t]): MapRow => [trunk + o, t]), ...HEAD_MAP], { i: model.config.nLayer }),
  );
}

/** A checkpoint's state dict (HF names) → ours for `model.loadStateDict`; unknown keys refused, known extras skipped. */
export function fromDebertaCheckpoint(state: Record<string, Tensor>, model: AnyDeberta): Record<string, Tensor> {
  // what a file holds that this model has no place for: the other model's head
  const skipped = (k: string): boolean => SKIPPED.test(k) || /^(cls|pooler|classifier)\./.test(k);
  return fromCheckpointWith("fromDebertaCheckpoint", state, entriesOf(weightMap(model)), { skipped, of: "model" });
}

/** Our state dict → the checkpoint's names (without the tied decoder weight). */
export const toDebertaCheckpoint = (state: Record<string, Tensor>, model: AnyDeberta): Record<string, Tensor> =>
  toCheckpointWith("toDebertaCheckpoint", state, entriesOf(weightMap(model)));

/** @deprecated the earlier name of fromDebertaCheckpoint */
export const fromCheckpoint = fromDebertaCheckpoint;
/** @deprecated the earlier name of toDebertaCheckpoint */
export const toCheckpoint = toDebertaCheckpoint;
