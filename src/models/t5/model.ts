// T5: the Text-to-Text Transfer Transformer, an encoder-decoder with relative position buckets.
//   Raffel, Shazeer, Roberts, Lee, Narang, Matena, Zhou, Li, Liu 2020, "Exploring the Limits of Transfer
//   Learning with a Unified Text-to-Text Transformer", https://arxiv.org/abs/1910.10683 (§2.1 the model)
//   Shaw, Uszkoreit, Vaswani 2018, "Self-Attention with Relative Position Representations",
//   https://arxiv.org/abs/1803.02155 (relative positions; T5 keeps one scalar per bucket and head)
//   Shazeer 2020, "GLU Variants Improve Transformer", https://arxiv.org/abs/2002.05202 (v1.1's gated GELU)
//
// An encoder reads the input text, a decoder writes the output text token by token, attending to its own
// past and to the encoder's output — the Transformer's layout (§2.1: "closely follows its originally
// proposed form"), with the changes the paper lists: a simplified layer normalisation that only rescales,
// placed on each sub-layer's input, and relative instead of absolute positions.
//
// Two versions, chosen by data in the config and fixed at construction (no flag inside forward):
//   v1.0 (t5-small): ReLU feed-forward (wi, wo); the output head is the embedding, the decoder output
//        scaled by d_model^−½ before it.
//   v1.1 (t5-v1_1-small): gated-GELU feed-forward (wi_0, wi_1, wo; the tanh GELU), an untied output head.
//
// Differences from the Transformer (src/models/transformer/model.ts), each marked DIFF(transformer) where it
// happens: pre-LN instead of post-LN, with a final norm after each stack; T5's LayerNorm (RMS: no mean
// subtraction, no bias, eps 1e-6); no absolute positions — a learned scalar per (relative-position bucket,
// head) added to the self-attention logits, bidirectional in the encoder and causal in the decoder, computed
// once per stack and shared by its layers; no 1/√d_kv on the logits (folded into the init of W_Q); the
// attention's inner width nh·d_kv set apart from d_model; no biases anywhere; the embedding not scaled on
// input; the v1.0 head scaled by d_model^−½ instead; v1.1's gated GELU and untied head; the decoder starts from
// the pad token 0 and its inputs are not padding-masked; the loss ignores −100 (no label smoothing); T5's
// (Mesh TensorFlow's) normal init.
//
// Read top to bottom: config → layers (positions, attention, feed-forward, head) → blocks → model → init →
// weight map → decode (greedy, sampling, beam search).
//
// Vocabulary (shape comments): B batch, S input tokens, T decoder tokens in this call, P decoder tokens already
// in the KV cache, C = dModel channels, nh = nHead heads, dk = dKv head size, I = nh·dk the attention's inner
// width, F = dFF, V the shared vocabulary, NB = numBuckets.

import { noGrad } from "../../engine/autograd.js";
import { tensor, zeros } from "../../engine/creation.js";
import { ArgumentError, DTypeError, ShapeError } from "../../engine/errors.js";
import { configOf } from "../presets.js";
import { defaultGenerator, Generator } from "../../engine/rng.js";
import { fmt } from "../../engine/shape.js";
import type { Tensor } from "../../engine/tensor.js";
import { cat } from "../../ops/shape.js";
import * as F from "../../nn/functional.js";
import { Module, ModuleList, evaluating, type Parameter } from "../../nn/module.js";
import { Dropout, Embedding, Linear, RMSNorm } from "../../nn/index.js";
import { normal_ } from "../../nn/init.js";
import { linearFlops, matmulFlops, sortedKinds, type Architecture } from "../architecture.js";
import { entry as e, expandMap, fromCheckpointWith, toCheckpointWith, type MapEntry, shapesOf } from "../weight-map.js";
import { KVCache, type AttnCache } from "../transformer/model.js";
import { causalBias } from "../../nn/kv-cache.js";
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

export { KVCache, type AttnCache, type BeamResult, type Hypothesis };

// =====================================================================================================
// Config

export interface T5Config {
  /** tokens in the vocabulary shared by input and output (V; 32128 for the released models) */
  readonly vocabSize: number;
  /** encoder blocks (6 in t5-small) */
  readonly nEncoderLayer: number;
  /** decoder blocks (6 in t5-small) */
  readonly nDecoderLayer: number;
  /** attention heads per layer (nh) */
  readonly nHead: number;
  /** channels of the residual stream (d_model) */
  readonly dModel: number;
  /** DIFF(transformer): the head size d_kv, set apart from d_model/nh (the inner width is nh·d_kv) */
  readonly dKv: number;
  /** the feed-forward network's inner width (d_ff) */
  readonly dFF: number;
  /** relative-position buckets (32); half per direction in the encoder */
  readonly numBuckets: number;
  /** the distance from which all positions share the last bucket (128) */
  readonly maxDistance: number;
  /** dropout on the embeddings, every sub-layer output, the attention weights, inside the FFN and after each stack (0.1) */
  readonly dropout: number;
  /** ε of T5's LayerNorm (1e-6) */
  readonly eps: number;
  /** v1.0 "relu": max(0, x·W_i)·W_o;  v1.1 "gated-gelu": (GELU(x·W_i0) ⊙ x·W_i1)·W_o */
  readonly feedForward: "relu" | "gated-gelu";
  /** v1.0 true: the head is the embedding, applied to h·d_model^−½;  v1.1 false: a head of its own */
  readonly tieHead: boolean;
  /** the padding token (0): masked out of the encoder through attentionMask */
  readonly padId: number;
  /** the end-of-sequence token (1) */
  readonly eosId: number;
  /** the decoder's first input token (T5: the pad token 0) */
  readonly decoderStartId: number;
}

/** A checked, frozen config: `t5Config("tiny", { vocabSize: 40 })`. */
export function t5Config(base: T5Config | keyof typeof PRESETS, overrides: Partial<T5Config> = {}): T5Config {
  return configOf("T5Config", PRESETS, base, overrides, {
    positive: [
      "vocabSize",
      "nEncoderLayer",
      "nDecoderLayer",
      "nHead",
      "dModel",
      "dKv",
      "dFF",
      "numBuckets",
      "maxDistance",
    ],
    probabilities: ["dropout"],
    positiveNumbers: ["eps"],
    flags: ["tieHead"],
    oneOf: { feedForward: ["relu", "gated-gelu"] },
    tokenIds: ["padId", "eosId", "decoderStartId"],
    also: (c) => (c.numBuckets < 4 ? `numBuckets must be at least 4, got ${c.numBuckets}` : undefined),
  });
}

const SPECIAL = { padId: 0, eosId: 1, decoderStartId: 0 } as const;

export const PRESETS = Object.freeze({
  /** T5 v1.0 small (google-t5/t5-small config.json): 60,506,624 parameters, the tied head counted once */
  "t5-small": Object.freeze({
    vocabSize: 32128,
    nEncoderLayer: 6,
    nDecoderLayer: 6,
    nHead: 8,
    dModel: 512,
    dKv: 64,
    dFF: 2048,
    numBuckets: 32,
    maxDistance: 128,
    dropout: 0.1,
    eps: 1e-6,
    feedForward: "relu",
    tieHead: true,
    ...SPECIAL,
  }),
  /** T5 v1.1 small (google/t5-v1_1-small config.json): 76,961,152 parameters by countParameters (published "~77M") */
  "t5-v1_1-small": Object.freeze({
    vocabSize: 32128,
    nEncoderLayer: 8,
    nDecoderLayer: 8,
    nHead: 6,
    dModel: 512,
    dKv: 64,
    dFF: 1024,
    numBuckets: 32,
    maxDistance: 128,
    dropout: 0.1,
    eps: 1e-6,
    feedForward: "gated-gelu",
    tieHead: false,
    ...SPECIAL,
  }),
  /** A CPU-sized v1.1 for the synthetic tasks; vocabSize from the task */
  tiny: Object.freeze({
    vocabSize: 64,
    nEncoderLayer: 2,
    nDecoderLayer: 2,
    nHead: 4,
    dModel: 64,
    dKv: 16,
    dFF: 128,
    numBuckets: 32,
    maxDistance: 128,
    dropout: 0.1,
    eps: 1e-6,
    feedForward: "gated-gelu",
    tieHead: false,
    ...SPECIAL,
  }),
} satisfies Record<string, T5Config>);

/** The number of parameters of a config, counted from the equations (nothing allocated), a tied head once. */
export function countParameters(c: T5Config): number {
  const { vocabSize: V, dModel: C, dFF: Fw, nHead: nh } = c;
  const I = nh * c.dKv;
  const norm = C; //                                                 γ (C): no β
  const attn = 3 * C * I + I * C; //                                  wq, wk, wv (I, C), wo (C, I): no biases
  const ffn = (c.feedForward === "relu" ? 2 : 3) * C * Fw; //        [gate], up (F, C), down (C, F)
  const posBias = c.numBuckets * nh; //                              one (NB, nh) table per stack
  const encoder = c.nEncoderLayer * (norm + attn + norm + ffn) + posBias + norm;
  const decoder = c.nDecoderLayer * (norm + attn + norm + attn + norm + ffn) + posBias + norm;
  const head = c.tieHead ? 0 : V * C;
  return V * C + encoder + decoder + head;
}

/**
 * The architecture in one row (src/models/architecture.ts). FLOPs per example of S source and T target
 * tokens (teacher forcing), as the Transformer's, with the inner width I = nh·d_kv: per encoder layer and
 * source token wq wk wv wo 4·2·C·I, attention over S keys (2·S·I twice) and the FFN ((2 or 3)·2·C·F); per
 * decoder layer and target token the same over T keys, plus cross-attention (W_Q, W_O per target token,
 * W_K, W_V per source token, 2·S·I twice per target token); the head 2·C·V per target token. The
 * relative-position biases are lookups and adds, not counted.
 */
export function describe(c: T5Config, srcLen = 25, tgtLen = 25, title = "T5"): Architecture {
  const { vocabSize: V, dModel: C, dFF: Fw, nEncoderLayer: Le, nDecoderLayer: Ld, nHead: nh, dKv } = c;
  const S = srcLen,
    T = tgtLen,
    I = nh * dKv;
  const gated = c.feedForward === "gated-gelu";
  const proj = linearFlops(C, I),
    ffn = (gated ? 3 : 2) * linearFlops(C, Fw);
  const attend = (keys: number): number => 2 * matmulFlops(1, I, keys); // q·kᵀ and α·v over `keys` keys, all heads
  const encoder = Le * S * (4 * proj + attend(S) + ffn);
  const decoder = Ld * (T * (4 * proj + attend(T)) + T * 2 * proj + S * 2 * proj + T * attend(S) + T * ffn);
  const ffnLinears = gated ? 3 : 2;
  return {
    title,
    config: `${Le}+${Ld} layers, ${nh} heads × ${dKv}, C ${C}, d_ff ${Fw}, V ${V} (shared)`,
    parameters: countParameters(c),
    // the shared embedding and the two position-bias tables; per encoder layer 2 norms, per decoder layer 3, the two final norms; the projections and FFNs; the head
    layers: sortedKinds({
      [Embedding.name]: 3,
      [RMSNorm.name]: 2 * Le + 3 * Ld + 2,
      [Linear.name]: Le * (4 + ffnLinears) + Ld * (8 + ffnLinears) + (c.tieHead ? 0 : 1),
      [TiedHead.name]: c.tieHead ? 1 : 0,
    }),
    normalization: `${RMSNorm.name} (T5's LayerNorm: no mean, no β) before each sub-block (pre-norm) and after each stack`,
    positions: `relative: a learned bias per head on ${c.numBuckets} log buckets of key − query (to ${c.maxDistance}), one table per stack; no position embedding`,
    attention: `multi-head dot product without 1/√d scaling, ${nh} heads × ${dKv}: encoder self-attention, causal decoder self-attention, cross-attention`,
    activation: gated ? "gated GELU (tanh approximation): GELU(x·W_i0) ⊙ x·W_i1 in the FFN" : "ReLU in the FFN",
    flops: { value: encoder + decoder + T * linearFlops(C, V), per: "example", at: `source ${S}, target ${T} tokens` },
  };
}

// =====================================================================================================
// Layers

/**
 * The bucket of a relative position rel = key − query (Raffel et al. §2.1; Mesh TensorFlow's
 * `_relative_position_bucket`). Bidirectional (encoder): half the buckets for keys after the query,
 * half for keys at or before it, by distance n = |rel|. Causal (decoder): n = max(−rel, 0), so every later
 * key falls in bucket 0 (it is masked anyway). Of the NB' buckets of a direction, distances n < NB'/2 each
 * get their own; larger ones share logarithmically wider ones up to maxDistance, and beyond it the last:
 *   bucket(n) = n                                                          if n < e = NB'/2
 *             = min(NB' − 1, e + ⌊log(n/e)/log(maxDistance/e)·(NB' − e)⌋)  otherwise
 * The log term is computed in float32, as the reference implementations do (it decides the boundaries).
 */
export function relativePositionBucket(
  rel: number,
  bidirectional: boolean,
  numBuckets: number,
  maxDistance: number,
): number {
  let nb = numBuckets,
    bucket = 0,
    n: number;
  if (bidirectional) {
    nb = Math.floor(nb / 2);
    if (rel > 0) bucket += nb;
    n = Math.abs(rel);
  } else {
    n = Math.max(-rel, 0);
  }
  const maxExact = Math.floor(nb / 2);
  if (n < maxExact) return bucket + n;
  const f = Math.fround;
  const large =
    maxExact + Math.trunc(f(f(f(Math.log(f(n / maxExact))) / f(Math.log(maxDistance / maxExact))) * (nb - maxExact)));
  return bucket + Math.min(large, nb - 1);
}

/**
 * DIFF(transformer): positions enter as a learned scalar b[bucket(j − i), h] added to head h's logit of query i
 * and key j (instead of sinusoids added to the embeddings). One table per stack, shared by its layers.
 */
export class RelativePositionBias extends Module {
  readonly bidirectional: boolean;
  readonly numBuckets: number;
  readonly maxDistance: number;
  emb: Embedding; // (NB, nh)

  constructor(c: T5Config, bidirectional: boolean, generator: Generator) {
    super();
    this.bidirectional = bidirectional;
    this.numBuckets = c.numBuckets;
    this.maxDistance = c.maxDistance;
    this.emb = new Embedding(c.numBuckets, c.nHead, { generator });
  }

  /** The bias of queries at positions P..P+T−1 over keys at 0..S−1 → (1, nh, T, S). */
  forward(T: number, S: number, P = 0): Tensor {
    const buckets = new Int32Array(T * S);
    for (let i = 0; i < T; i++)
      for (let j = 0; j < S; j++)
        buckets[i * S + j] = relativePositionBucket(j - (P + i), this.bidirectional, this.numBuckets, this.maxDistance);
    const b = this.emb.forward(tensor(buckets, { shape: [T, S] })); // (T, S, nh)
    return b.permute(2, 0, 1).unsqueeze(0); // (1, nh, T, S)
  }
}

/** Multi-head attention without biases or scaling: queries from x, keys and values from kv (x itself, or the encoder output). */
export class MultiHeadAttention extends Module {
  readonly nHead: number;
  readonly dKv: number;
  readonly dropoutP: number;
  wq: Linear;
  wk: Linear;
  wv: Linear;
  wo: Linear;
  residDrop: Dropout;

  constructor(c: T5Config, generator: Generator) {
    super();
    this.nHead = c.nHead;
    this.dKv = c.dKv;
    this.dropoutP = c.dropout;
    const I = c.nHead * c.dKv; // DIFF(transformer): the inner width nh·d_kv need not be d_model
    const opts = { bias: false, generator };
    this.wq = new Linear(c.dModel, I, opts);
    this.wk = new Linear(c.dModel, I, opts);
    this.wv = new Linear(c.dModel, I, opts);
    this.wo = new Linear(I, c.dModel, opts);
    this.residDrop = new Dropout(c.dropout);
  }

  /** x (B, T, C), kv (B, S, C), bias: additive, broadcastable to (B, nh, T, S) (positions and masks) → (B, T, C) */
  forward(x: Tensor, kv: Tensor, bias: Tensor | null, cache?: AttnCache): Tensor {
    const [B, T] = x.shape as [number, number, number];
    const nh = this.nHead,
      dk = this.dKv;
    const heads = (t: Tensor): Tensor => t.view(B, t.shape[1]!, nh, dk).transpose(1, 2); // (B, ·, I) → (B, nh, ·, dk)
    const q = heads(this.wq.forward(x)); // (B, nh, T, dk)
    let k: Tensor, v: Tensor;
    if (cache && !cache.grow && cache.k && cache.v) {
      // cross-attention: the encoder output's keys and values, computed at the first step
      k = cache.k; // (B, nh, S, dk)
      v = cache.v;
    } else {
      k = heads(this.wk.forward(kv)); // (B, nh, S, dk)
      v = heads(this.wv.forward(kv)); // (B, nh, S, dk)
      if (cache) {
        // self-attention: append this call's keys and values to those of the earlier tokens
        if (cache.grow && cache.k && cache.v) {
          k = cat([cache.k, k], 2); // (B, nh, P+T, dk)
          v = cat([cache.v, v], 2); // (B, nh, P+T, dk)
        }
        cache.k = k;
        cache.v = v;
      }
    }
    // DIFF(transformer): y = softmax(q·kᵀ + bias)·v — no 1/√dk (T5 folds it into W_Q's init); bias = the
    // relative-position bias plus the −∞ of masked keys
    const dropoutP = this.training ? this.dropoutP : 0;
    const y = F.scaledDotProductAttention(q, k, v, { attnMask: bias, dropoutP, scale: 1 }); // (B, nh, T, dk)
    const merged = y.transpose(1, 2).reshape(B, T, nh * dk); // (B, T, I)
    return this.residDrop.forward(this.wo.forward(merged)); // (B, T, C)
  }
}

/** v1.0's feed-forward network (§2.1): FFN(x) = max(0, x·W_i)·W_o, no biases; dropout on the hidden layer. */
export class ReluFeedForward extends Module {
  up: Linear;
  down: Linear;
  drop: Dropout;

  constructor(c: T5Config, generator: Generator) {
    super();
    this.up = new Linear(c.dModel, c.dFF, { bias: false, generator }); // DIFF(transformer): no biases
    this.down = new Linear(c.dFF, c.dModel, { bias: false, generator });
    this.drop = new Dropout(c.dropout);
  }

  forward(x: Tensor): Tensor {
    const h = F.relu(this.up.forward(x)); // (B, T, F)
    return this.down.forward(this.drop.forward(h)); // (B, T, C); DIFF(transformer): the dropout is inside
  }
}

/** v1.1's gated-GELU feed-forward network (Shazeer 2020): FFN(x) = (GELU(x·W_i0) ⊙ x·W_i1)·W_o. */
export class GatedGeluFeedForward extends Module {
  gate: Linear;
  up: Linear;
  down: Linear;
  drop: Dropout;

  constructor(c: T5Config, generator: Generator) {
    super();
    this.gate = new Linear(c.dModel, c.dFF, { bias: false, generator }); // W_i0
    this.up = new Linear(c.dModel, c.dFF, { bias: false, generator }); //   W_i1
    this.down = new Linear(c.dFF, c.dModel, { bias: false, generator }); // W_o
    this.drop = new Dropout(c.dropout);
  }

  forward(x: Tensor): Tensor {
    // DIFF(transformer): gated, GELU(u) = u/2·(1 + tanh(√(2/π)·(u + 0.044715u³))) ("gelu_new")
    const g = F.gelu(this.gate.forward(x), { approximate: "tanh" }); // (B, T, F)
    const h = g.mul(this.up.forward(x)); //                             (B, T, F)
    return this.down.forward(this.drop.forward(h)); //                  (B, T, C)
  }
}

export type FeedForward = ReluFeedForward | GatedGeluFeedForward;

/** The feed-forward class of the config's version, chosen once at construction. */
function feedForward(c: T5Config, generator: Generator): FeedForward {
  return c.feedForward === "relu" ? new ReluFeedForward(c, generator) : new GatedGeluFeedForward(c, generator);
}

/**
 * v1.0's output head, tied to the shared embedding E (V, C): logits = (h·C^−½)·Eᵀ. DIFF(transformer): the
 * decoder output is scaled down (Mesh TensorFlow's rescaling for a tied head) instead of the embedding up.
 */
export class TiedHead extends Module {
  readonly scale: number;

  constructor(
    public weight: Parameter,
    dModel: number,
  ) {
    super();
    this.scale = 1 / Math.sqrt(dModel);
  }

  forward(h: Tensor): Tensor {
    return F.linear(h.mul(this.scale), this.weight); // (B, T, C) → (B, T, V)
  }
}

// =====================================================================================================
// Blocks

/** A pre-LN encoder block: self-attention, then the feed-forward network, each on a normalised input and added back. */
export class EncoderBlock extends Module {
  norm1: RMSNorm;
  attn: MultiHeadAttention;
  norm2: RMSNorm;
  mlp: FeedForward;

  constructor(c: T5Config, generator: Generator) {
    super();
    this.norm1 = new RMSNorm(c.dModel, { eps: c.eps }); // DIFF(transformer): y = γ·x/√(mean(x²) + ε), no mean, no β
    this.attn = new MultiHeadAttention(c, generator);
    this.norm2 = new RMSNorm(c.dModel, { eps: c.eps });
    this.mlp = feedForward(c, generator);
  }

  forward(x: Tensor, bias: Tensor | null): Tensor {
    // DIFF(transformer): pre-LN, x ← x + sublayer(LN(x))  (the Transformer: x ← LN(x + sublayer(x)))
    const h = this.norm1.forward(x); //                             (B, S, C)
    x = x.add(this.attn.forward(h, h, bias)); //                    (B, S, C)
    x = x.add(this.mlp.forward(this.norm2.forward(x))); //          (B, S, C)
    return x;
  }
}

/** A pre-LN decoder block: causal self-attention, cross-attention to the encoder output, the feed-forward network. */
export class DecoderBlock extends Module {
  norm1: RMSNorm;
  attn: MultiHeadAttention;
  norm2: RMSNorm;
  cross: MultiHeadAttention;
  norm3: RMSNorm;
  mlp: FeedForward;

  constructor(c: T5Config, generator: Generator) {
    super();
    this.norm1 = new RMSNorm(c.dModel, { eps: c.eps });
    this.attn = new MultiHeadAttention(c, generator);
    this.norm2 = new RMSNorm(c.dModel, { eps: c.eps });
    this.cross = new MultiHeadAttention(c, generator);
    this.norm3 = new RMSNorm(c.dModel, { eps: c.eps });
    this.mlp = feedForward(c, generator);
  }

  forward(
    x: Tensor,
    memory: Tensor,
    selfBias: Tensor,
    crossMask: Tensor | null,
    cache?: { self: AttnCache; cross: AttnCache },
  ): Tensor {
    // x ← x + attn(LN(x));  x ← x + cross(LN(x), memory);  x ← x + mlp(LN(x))   DIFF(transformer): pre-LN
    const h = this.norm1.forward(x); //                                                          (B, T, C)
    x = x.add(this.attn.forward(h, h, selfBias, cache?.self)); //                                (B, T, C)
    // DIFF(transformer): no position bias across: the encoder's padding mask alone
    x = x.add(this.cross.forward(this.norm2.forward(x), memory, crossMask, cache?.cross)); //    (B, T, C)
    x = x.add(this.mlp.forward(this.norm3.forward(x))); //                                       (B, T, C)
    return x;
  }
}

// =====================================================================================================
// Model

export interface T5Options {
  /** the source of the initial weights (default: the library's default generator, seeded by manualSeed) */
  generator?: Generator;
}

export interface T5ForwardOptions {
  /** (B, S) int32 or bool, 1 = a real input token, 0 = padding (masked out as a key); default: all real */
  attentionMask?: Tensor | null;
  /** (B, T) int32 next-token targets; −100 = ignored */
  targets?: Tensor | null;
}

export interface T5Output {
  logits: Tensor; // (B, T, V)
  /** the mean cross-entropy over the targets ≠ −100, when targets were given */
  loss: Tensor | null; // ()
}

export class T5 extends Module {
  readonly config: T5Config;
  tokEmb: Embedding;
  drop: Dropout;
  encoderPosBias: RelativePositionBias;
  encoder: ModuleList<EncoderBlock>;
  encoderNorm: RMSNorm;
  decoderPosBias: RelativePositionBias;
  decoder: ModuleList<DecoderBlock>;
  decoderNorm: RMSNorm;
  lmHead: TiedHead | Linear;

  constructor(config: T5Config, opts: T5Options = {}) {
    super();
    const c = (this.config = t5Config(config));
    const generator = opts.generator ?? defaultGenerator;
    this.tokEmb = new Embedding(c.vocabSize, c.dModel, { generator }); // one embedding for input and output tokens
    this.drop = new Dropout(c.dropout);
    // DIFF(transformer): no sinusoids; one relative-position table per stack (bidirectional / causal)
    this.encoderPosBias = new RelativePositionBias(c, true, generator);
    this.encoder = new ModuleList(Array.from({ length: c.nEncoderLayer }, () => new EncoderBlock(c, generator)));
    this.encoderNorm = new RMSNorm(c.dModel, { eps: c.eps }); // DIFF(transformer): pre-LN needs a final norm
    this.decoderPosBias = new RelativePositionBias(c, false, generator);
    this.decoder = new ModuleList(Array.from({ length: c.nDecoderLayer }, () => new DecoderBlock(c, generator)));
    this.decoderNorm = new RMSNorm(c.dModel, { eps: c.eps });
    // DIFF(transformer): v1.0 ties the head to the embedding (and rescales h); v1.1 has a head of its own
    this.lmHead = c.tieHead
      ? new TiedHead(this.tokEmb.weight, c.dModel)
      : new Linear(c.dModel, c.vocabSize, { bias: false, generator });
    this.initWeights(generator);
  }

  /**
   * inputIds (B, S) and decoderInputIds (B, T) int32 (the target shifted right behind decoderStartId) →
   * logits (B, T, V) of the next target token at every position; with targets (B, T) the mean cross-entropy.
   */
  forward(inputIds: Tensor, decoderInputIds: Tensor, opts: T5ForwardOptions = {}): T5Output {
    const keyMask = this.keyMask(inputIds, opts.attentionMask ?? null);
    const memory = this.encode(inputIds, keyMask); // (B, S, C)
    const h = this.decode(decoderInputIds, memory, keyMask); // (B, T, C)
    const logits = this.lmHead.forward(h); // (B, T, V)
    const targets = opts.targets;
    if (!targets) return { logits, loss: null };
    const [B, T, V] = logits.shape as [number, number, number];
    if (targets.shape.length !== 2 || targets.shape[0] !== B || targets.shape[1] !== T) {
      throw new ShapeError(
        `T5: targets ${fmt(targets.shape)} must have the shape of decoderInputIds ${fmt(decoderInputIds.shape)}`,
      );
    }
    // DIFF(transformer): no label smoothing; ignored targets are −100
    // loss = mean over t ≠ −100 of −log p(t)
    const loss = F.crossEntropy(logits.view(B * T, V), targets.view(B * T), { ignoreIndex: -100 }); // ()
    return { logits, loss };
  }

  /**
   * The encoder's padding as an additive mask M (B, 1, 1, S): 0 for a real key, −∞ for padding; null without
   * an attentionMask. DIFF(transformer): from an explicit attentionMask (T5's pad 0 is also the decoder's start).
   */
  keyMask(inputIds: Tensor, attentionMask: Tensor | null): Tensor | null {
    this.checkIds("inputIds", inputIds);
    if (!attentionMask) return null;
    const [B, S] = inputIds.shape as [number, number];
    if (attentionMask.ndim !== 2 || attentionMask.shape[0] !== B || attentionMask.shape[1] !== S) {
      throw new ShapeError(
        `T5: attentionMask ${fmt(attentionMask.shape)} must have the shape of inputIds ${fmt(inputIds.shape)}`,
      );
    }
    return zeros([B, 1, 1, S]).maskedFill(attentionMask.eq(0).view(B, 1, 1, S), -Infinity); // (B, 1, 1, S)
  }

  /** The encoder: inputIds (B, S) → memory (B, S, C), after the final norm. */
  encode(inputIds: Tensor, keyMask: Tensor | null = null): Tensor {
    this.checkIds("inputIds", inputIds);
    const S = inputIds.shape[1]!;
    // DIFF(transformer): x = Dropout(E[ids]) — not scaled by √C, no positions added
    let x = this.drop.forward(this.tokEmb.forward(inputIds)); // (B, S, C)
    // bias_hij = b[bucket(j − i), h] (bidirectional) + M_j, computed once for every layer
    const posBias = this.encoderPosBias.forward(S, S); // (1, nh, S, S)
    const bias = keyMask ? posBias.add(keyMask) : posBias; // (B, nh, S, S)
    for (const block of this.encoder) x = block.forward(x, bias); // (B, S, C)
    return this.drop.forward(this.encoderNorm.forward(x)); // (B, S, C)
  }

  /** The decoder's trunk: decoderInputIds (B, T) after P cached tokens, memory (B, S, C) → (B, T, C), before the head. */
  decode(decoderInputIds: Tensor, memory: Tensor, keyMask: Tensor | null, cache?: KVCache): Tensor {
    this.checkIds("decoderInputIds", decoderInputIds);
    const T = decoderInputIds.shape[1]!;
    const P = cache?.length ?? 0;
    let x = this.drop.forward(this.tokEmb.forward(decoderInputIds)); // (B, T, C)
    // bias_hij = b[bucket(j − (P + i)), h] (causal) + (j ≤ P + i ? 0 : −∞); the decoder inputs are not padding-masked
    const bias = this.decoderPosBias.forward(T, P + T, P).add(causalBias(P, T)); // (1, nh, T, P+T)
    let l = 0;
    for (const block of this.decoder) x = block.forward(x, memory, bias, keyMask, cache?.layers[l++]); // (B, T, C)
    return this.drop.forward(this.decoderNorm.forward(x)); // (B, T, C)
  }

  private checkIds(what: string, ids: Tensor): void {
    if (ids.ndim !== 2)
      throw new ShapeError(
        `T5: ${what} must be (B, ${what === "inputIds" ? "S" : "T"}) token ids, got shape ${fmt(ids.shape)}`,
      );
    if (ids.dtype !== "int32")
      throw new DTypeError(`T5: ${what} must be int32 token ids, got ${ids.dtype} ${fmt(ids.shape)}`);
  }

  // ===================================================================================================
  // Init

  /**
   * Mesh TensorFlow's init, as the released checkpoints were trained (HF's T5PreTrainedModel._init_weights):
   * embedding and untied head N(0, 1); W_Q N(0, 1/(C·dk)) — the 1/√dk that the logits do not get, folded in;
   * W_K, W_V N(0, 1/C); W_O N(0, 1/I); the FFN's W_i (gate, up) N(0, 1/C), W_o N(0, 1/F); the position
   * tables N(0, 1/C); every norm's γ = 1.
   * DIFF(transformer): Xavier-uniform weights and an N(0, 1/C) embedding there.
   */
  private initWeights(generator: Generator): void {
    const c = this.config,
      C = c.dModel,
      I = c.nHead * c.dKv;
    const n = (p: Parameter, variance: number): void => void normal_(p, 0, Math.sqrt(variance), { generator });
    noGrad(() => {
      n(this.tokEmb.weight, 1);
      if (this.lmHead instanceof Linear) n(this.lmHead.weight, 1);
      for (const [, m] of this.namedModules()) {
        if (m instanceof MultiHeadAttention) {
          n(m.wq.weight, 1 / (C * c.dKv));
          n(m.wk.weight, 1 / C);
          n(m.wv.weight, 1 / C);
          n(m.wo.weight, 1 / I);
        } else if (m instanceof ReluFeedForward || m instanceof GatedGeluFeedForward) {
          if (m instanceof GatedGeluFeedForward) n(m.gate.weight, 1 / C);
          n(m.up.weight, 1 / C);
          n(m.down.weight, 1 / c.dFF);
        } else if (m instanceof RelativePositionBias) {
          n(m.emb.weight, 1 / C);
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

// =====================================================================================================
// Weight map: our names ↔ HF `transformers` T5ForConditionalGeneration checkpoints (t5-small, google/t5-v1_1-*)
//
// | ours                                   | HF T5ForConditionalGeneration                                    | shape     |
// |----------------------------------------|------------------------------------------------------------------|-----------|
// | tokEmb.weight                          | shared.weight                                                    | (V, C)    |
// | encoderPosBias.emb.weight              | encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight | (NB, nh) |
// | encoder.{i}.norm1.weight               | encoder.block.{i}.layer.0.layer_norm.weight                      | (C)       |
// | encoder.{i}.attn.wq/wk/wv.weight       | encoder.block.{i}.layer.0.SelfAttention.q/k/v.weight             | (I, C)    |
// | encoder.{i}.attn.wo.weight             | encoder.block.{i}.layer.0.SelfAttention.o.weight                 | (C, I)    |
// | encoder.{i}.norm2.weight               | encoder.block.{i}.layer.1.layer_norm.weight                      | (C)       |
// | encoder.{i}.mlp.up.weight (v1.0)       | encoder.block.{i}.layer.1.DenseReluDense.wi.weight               | (F, C)    |
// | encoder.{i}.mlp.gate/up.weight (v1.1)  | encoder.block.{i}.layer.1.DenseReluDense.wi_0/wi_1.weight        | (F, C)    |
// | encoder.{i}.mlp.down.weight            | encoder.block.{i}.layer.1.DenseReluDense.wo.weight               | (C, F)    |
// | encoderNorm.weight                     | encoder.final_layer_norm.weight                                  | (C)       |
// | decoderPosBias.emb.weight              | decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight | (NB, nh) |
// | decoder.{j}.norm1 / attn.*             | decoder.block.{j}.layer.0.layer_norm / SelfAttention.*           |           |
// | decoder.{j}.norm2 / cross.*            | decoder.block.{j}.layer.1.layer_norm / EncDecAttention.*         |           |
// | decoder.{j}.norm3 / mlp.*              | decoder.block.{j}.layer.2.layer_norm / DenseReluDense.*          |           |
// | decoderNorm.weight                     | decoder.final_layer_norm.weight                                  | (C)       |
// | lmHead.weight (v1.1)                   | lm_head.weight                                                   | (V, C)    |
//
// Nothing is transposed: HF stores nn.Linear weights (out, in) as we do. HF keeps the position table in the
// first block's attention and hands its output to the later blocks; we keep it beside the stack
// (the same tensor, computed once). Files may also hold encoder.embed_tokens.weight and
// decoder.embed_tokens.weight (copies of shared.weight) and, for a tied head, lm_head.weight: skipped.

const attnEntries = (ours: string, theirs: string): MapEntry[] => [
  ...["q", "k", "v", "o"].map((w) => e(`${ours}.w${w}.weight`, `${theirs}.${w}.weight`)),
];
const ffnEntries = (c: T5Config, ours: string, theirs: string): MapEntry[] =>
  c.feedForward === "relu"
    ? [e(`${ours}.up.weight`, `${theirs}.wi.weight`), e(`${ours}.down.weight`, `${theirs}.wo.weight`)]
    : [
        e(`${ours}.gate.weight`, `${theirs}.wi_0.weight`),
        e(`${ours}.up.weight`, `${theirs}.wi_1.weight`),
        e(`${ours}.down.weight`, `${theirs}.wo.weight`),
      ];

/** The table of a config with {i} (encoder blocks) and {j} (decoder blocks) expanded. */
function expandedMap(c: T5Config): MapEntry[] {
  const table: MapEntry[] = [
    e("tokEmb.weight", "shared.weight"),
    e("encoderPosBias.emb.weight", "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"),
    e("encoder.{i}.norm1.weight", "encoder.block.{i}.layer.0.layer_norm.weight"),
    ...attnEntries("encoder.{i}.attn", "encoder.block.{i}.layer.0.SelfAttention"),
    e("encoder.{i}.norm2.weight", "encoder.block.{i}.layer.1.layer_norm.weight"),
    ...ffnEntries(c, "encoder.{i}.mlp", "encoder.block.{i}.layer.1.DenseReluDense"),
    e("encoderNorm.weight", "encoder.final_layer_norm.weight"),
    e("decoderPosBias.emb.weight", "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"),
    e("decoder.{j}.norm1.weight", "decoder.block.{j}.layer.0.layer_norm.weight"),
    ...attnEntries("decoder.{j}.attn", "decoder.block.{j}.layer.0.SelfAttention"),
    e("decoder.{j}.norm2.weight", "decoder.block.{j}.layer.1.layer_norm.weight"),
    ...attnEntries("decoder.{j}.cross", "decoder.block.{j}.layer.1.EncDecAttention"),
    e("decoder.{j}.norm3.weight", "decoder.block.{j}.layer.2.layer_norm.weight"),
    ...ffnEntries(c, "decoder.{j}.mlp", "decoder.block.{j}.layer.2.DenseReluDense"),
    e("decoderNorm.weight", "decoder.final_layer_norm.weight"),
    ...(c.tieHead ? [] : [e("lmHead.weight", "lm_head.weight")]),
  ];
  return expandMap(table, { i: c.nEncoderLayer, j: c.nDecoderLayer });
}

/** Keys a T5 checkpoint may hold that we do not load: the stacks' copies of shared.weight (and a tied lm_head). */
const skipped = (c: T5Config, key: string): boolean =>
  /^(encoder|decoder)\.embed_tokens\.weight$/.test(key) || (c.tieHead && key === "lm_head.weight");

/** A T5ForConditionalGeneration state dict (HF names) → ours, ready for `model.loadStateDict`; names and shapes checked. */
export const fromT5Checkpoint = (state: Record<string, Tensor>, config: T5Config): Record<string, Tensor> =>
  fromCheckpointWith("fromT5Checkpoint", state, expandedMap(config), {
    skipped: (k) => skipped(config, k),
    shapes: shapesOf(() => new T5(config)),
  });

/** Our state dict → HF T5ForConditionalGeneration names (the tied head not written, as HF's safetensors files). */
export const toT5Checkpoint = (state: Record<string, Tensor>, config: T5Config): Record<string, Tensor> =>
  toCheckpointWith("toT5Checkpoint", state, expandedMap(config));

/** @deprecated the earlier name of fromT5Checkpoint */
export const fromHFT5 = fromT5Checkpoint;
/** @deprecated the earlier name of toT5Checkpoint */
export const toHFT5 = toT5Checkpoint;

// =====================================================================================================
// Decode

export interface DecodeOptions {
  /** (B, S) 1 = a real input token, 0 = padding */
  attentionMask?: Tensor | null;
  /** the most tokens to generate per row, EOS included (default 64) */
  maxLen?: number;
}

/**
 * Greedy decoding: start every row from decoderStartId and append the most likely next token until it is EOS
 * or maxLen tokens were generated. The encoder runs once; each step feeds only the new token, the earlier
 * ones' keys and values coming from the KV cache and its position bias row computed for position P.
 * DIFF(transformer): every token may be generated (T5's decoder inputs are not padding-masked, so the cached and
 * full decoders agree whatever comes out). → the tokens of each row, without the start token and EOS.
 */
export function greedyDecode(model: T5, inputIds: Tensor, opts: DecodeOptions = {}): number[][] {
  const maxLen = opts.maxLen ?? 64;
  if (!(Number.isInteger(maxLen) && maxLen >= 1))
    throw new ArgumentError(`greedyDecode: maxLen must be a positive integer, got ${maxLen}`);
  const { eosId, decoderStartId, vocabSize: V } = model.config;
  const B = inputIds.shape[0]!;
  return evaluating(model, () => {
    const keyMask = model.keyMask(inputIds, opts.attentionMask ?? null);
    const memory = model.encode(inputIds, keyMask); // (B, S, C)
    const cache = new KVCache(model.config.nDecoderLayer);
    const out: number[][] = Array.from({ length: B }, () => []);
    const done = new Array<boolean>(B).fill(false);
    let next = tensor(new Int32Array(B).fill(decoderStartId), { shape: [B, 1] }); // (B, 1)
    for (let step = 0; step < maxLen && !done.every(Boolean); step++) {
      const logits = model.lmHead.forward(model.decode(next, memory, keyMask, cache)).storage; // (B, 1, V)
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
 * Generation: start every row from decoderStartId and draw each next token from the decoder's logits — the
 * repetition penalty θ on the row's decoder tokens so far (start token included), then temperature τ (0:
 * greedy), top-k, top-p, as the decoders' generate (src/models/gpt2/model.ts) — until EOS or maxLen tokens.
 * The encoder runs once; its keys and values for the cross-attention are computed at the first step and
 * cached, the decoder's own grow by one token per step. → the tokens of each row, without the start token and EOS.
 */
export function generate(model: T5, inputIds: Tensor, opts: GenerateOptions = {}): number[][] {
  const maxLen = checkMaxLen(opts.maxLen, "generate");
  const sampling = samplingOptions(opts);
  const { eosId, decoderStartId } = model.config;
  return evaluating(model, () =>
    sampleSeq2Seq(searchable(model, inputIds, opts.attentionMask ?? null), {
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
export function beamSearch(model: T5, inputIds: Tensor, opts: BeamOptions): BeamResult {
  const maxLen = checkMaxLen(opts.maxLen, "beamSearch");
  const { eosId, decoderStartId } = model.config;
  return evaluating(model, () =>
    searchBeams(searchable(model, inputIds, opts.attentionMask ?? null), {
      ...opts,
      maxLen,
      startId: decoderStartId,
      eosId,
    }),
  );
}

/** The inputs encoded once; a decoder over any rows of them, its self- and cross-attention keys and values cached. */
function searchable(model: T5, inputIds: Tensor, attentionMask: Tensor | null): BeamSearchable {
  const keyMask = model.keyMask(inputIds, attentionMask); // (B, 1, 1, S) or null
  const memory = model.encode(inputIds, keyMask); //         (B, S, C)
  return {
    batch: inputIds.shape[0]!,
    vocabSize: model.config.vocabSize,
    start(rows) {
      // row r continues input rows[r]
      const memoryN = indexSelect(memory, 0, rows); //                      (N, S, C)
      const maskN = keyMask ? indexSelect(keyMask, 0, rows) : null; //      (N, 1, 1, S)
      const cache = new KVCache(model.config.nDecoderLayer);
      const N = rows.shape[0]!;
      return {
        step: (next) => model.lmHead.forward(model.decode(next, memoryN, maskN, cache)).view(N, model.config.vocabSize), // (N, V)
        select: (keep) => cache.select(keep),
      };
    },
  };
}

function checkMaxLen(maxLen = 64, who: string): number {
  if (!(Number.isInteger(maxLen) && maxLen >= 1))
    throw new ArgumentError(`${who}: maxLen must be a positive integer, got ${maxLen}`);
  return maxLen;
}
