// BERT: a bidirectional Transformer encoder pretrained by masked language modelling.
//   Devlin, Chang, Lee, Toutanova 2019, "BERT: Pre-training of Deep Bidirectional Transformers for Language
//   Understanding", https://arxiv.org/abs/1810.04805
//   Vaswani et al. 2017, "Attention Is All You Need", https://arxiv.org/abs/1706.03762 (the encoder layer)
//   Hendrycks & Gimpel 2016, "Gaussian Error Linear Units", https://arxiv.org/abs/1606.08415 (GELU)
//
// The input is the sum of three learned embeddings — word piece, absolute position, segment ("token
// type") — normalised and dropped out (§3, Figure 2). Each encoder layer is the post-LN layer of Vaswani
// 2017 with GELU in its feed-forward network; the attention is bidirectional, only padding is masked. On
// top: the masked-LM head (a dense + GELU + LayerNorm transform, then a decoder tied to the word embedding
// with its own bias, §A.1), the pooler (tanh dense on the [CLS] token, the sentence vector), and the
// sequence- and token-classification heads of the fine-tuning tasks (§4).
//
// Differences from its sibling GPT-2 (src/models/gpt2/model.ts), each marked DIFF(gpt2) where it happens:
// an encoder (bidirectional attention with a padding mask, no causal mask, no KV cache, no generation);
// post-LN instead of pre-LN and no final norm; segment (token-type) embeddings; a LayerNorm and dropout on
// the embeddings; LayerNorm ε = 1e-12; the exact (erf) GELU; d_ff from the config; the MLM head's extra
// transform and output bias; the pooler and classification heads.
// Its sibling the Transformer encoder (src/models/transformer/model.ts) is post-LN too; BERT learns its
// positions instead of the sinusoids and does not scale the embedding by √C.
//
// Read top to bottom: config → layers (embeddings, attention, MLP, heads) → block → models → init → weight map.
// The checkpoint's key names appear only in the weight-map table at the bottom.
//
// Vocabulary (shape comments): B batch, T tokens, C = dModel channels, nh = nHead heads, hs = C/nh head
// size, F = dFF, V vocabulary, K labels, L = nLayer blocks.

import { noGrad } from "../../engine/autograd.js";
import { arange, zeros } from "../../engine/creation.js";
import { DTypeError, ShapeError } from "../../engine/errors.js";
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

export interface BertConfig {
  /** word pieces in the vocabulary (V) */
  readonly vocabSize: number;
  /** rows of the learned position table (BERT: 512) */
  readonly maxPositions: number;
  /** segment ids (BERT: 2, sentence A and B) */
  readonly typeVocabSize: number;
  /** encoder layers (L) */
  readonly nLayer: number;
  /** attention heads per layer (nh) */
  readonly nHead: number;
  /** channels of the residual stream (C, the paper's H); a multiple of nHead */
  readonly dModel: number;
  /** the feed-forward network's inner width (F = 4H) */
  readonly dFF: number;
  /** dropout on the embeddings, the attention probabilities, both residual branches and the classifiers */
  readonly dropout: number;
  /** the LayerNorms' ε (BERT's TensorFlow code: 1e-12) */
  readonly layerNormEps: number;
  /** the padding token: its embedding row starts at 0 and gets no gradient from the lookup */
  readonly padId: number;
}

/** A checked, frozen config: `bertConfig("tiny", { vocabSize: tokenizer.vocabSize })`. */
export function bertConfig(base: BertConfig | keyof typeof PRESETS, overrides: Partial<BertConfig> = {}): BertConfig {
  return configOf("BertConfig", PRESETS, base, overrides, {
    positive: ["vocabSize", "maxPositions", "typeVocabSize", "nLayer", "nHead", "dModel", "dFF"],
    multiples: [["dModel", "nHead"]],
    probabilities: ["dropout"],
    positiveNumbers: ["layerNormEps"],
    tokenIds: ["padId"],
  });
}

export const PRESETS = Object.freeze({
  /** BERT-base, uncased (L=12, H=768, A=12): 109,482,240 parameters as BertModel with the pooler */
  "bert-base-uncased": Object.freeze({
    vocabSize: 30522,
    maxPositions: 512,
    typeVocabSize: 2,
    nLayer: 12,
    nHead: 12,
    dModel: 768,
    dFF: 3072,
    dropout: 0.1,
    layerNormEps: 1e-12,
    padId: 0,
  }),
  /** A CPU-sized model; vocabSize from the tokenizer */
  tiny: Object.freeze({
    vocabSize: 1000,
    maxPositions: 128,
    typeVocabSize: 2,
    nLayer: 2,
    nHead: 4,
    dModel: 64,
    dFF: 256,
    dropout: 0.1,
    layerNormEps: 1e-12,
    padId: 0,
  }),
} satisfies Record<string, BertConfig>);

/**
 * The number of parameters of a config, counted from the equations (nothing allocated). The default is
 * HF's BertModel: the trunk with the pooler. `mlmHead` adds the masked-LM head (its decoder weight is the
 * word embedding, counted once); `pooler: false` leaves the pooler out (as BertForMaskedLM has it).
 */
export function countParameters(c: BertConfig, opts: { pooler?: boolean; mlmHead?: boolean } = {}): number {
  const { vocabSize: V, maxPositions: P, typeVocabSize: S, dModel: C, dFF: Fw } = c;
  const norm = 2 * C; //                                γ (C), β (C)
  const embeddings = V * C + P * C + S * C + norm; //   word, position, token type, LayerNorm
  const attn = 4 * (C * C + C); //                      wq, wk, wv, wo: W (C, C), b (C)
  const mlp = C * Fw + Fw + Fw * C + C; //              up (F, C) + (F), down (C, F) + (C)
  const block = attn + norm + mlp + norm;
  const pooler = (opts.pooler ?? true) ? C * C + C : 0; // dense (C, C) + (C)
  const mlm = opts.mlmHead ? C * C + C + norm + V : 0; //  transform dense, LayerNorm, output bias (V)
  return embeddings + c.nLayer * block + pooler + mlm;
}

/**
 * The architecture of BertModel (the trunk with the pooler) in one row (src/models/architecture.ts).
 * FLOPs per token of one sequence of S tokens: per layer the four C×C projections 4·2C², the FFN 2·2·C·F,
 * attention's q·kᵀ and α·v over S keys, 2·S·C each; plus the pooler's 2C², computed once on [CLS] and
 * shared by the S tokens (2C²/S each). For bert-base at S 128: 12·(8·768² + 4·768·3072 + 4·128·768)
 * + 2·768²/128 = 174,597,120.
 */
export function describe(c: BertConfig, seqLen = 128, title = "BERT"): Architecture {
  const { vocabSize: V, nLayer: L, nHead: nh, dModel: C, dFF: Fw } = c;
  const S = seqLen;
  const layer = 4 * linearFlops(C, C) + linearFlops(C, Fw) + linearFlops(Fw, C) + 2 * linearFlops(C, S); // + q·kᵀ, α·v
  return {
    title,
    config: `${L} layers, ${nh} heads, C ${C}, d_ff ${Fw}, ${c.maxPositions} positions, V ${V}`,
    parameters: countParameters(c),
    // word, position and segment embeddings; the embedding LayerNorm; per layer wq wk wv wo, norm1, up, down, norm2; the pooler
    layers: sortedKinds({ [Embedding.name]: 3, [LayerNorm.name]: 2 * L + 1, [Linear.name]: 6 * L + 1 }),
    normalization: `${LayerNorm.name} on the embeddings and after each residual add (post-LN)`,
    positions: `learned absolute (${c.maxPositions} positions), added to the word and segment embeddings`,
    attention: `bidirectional multi-head self-attention, ${nh} heads × ${C / nh}, scaled dot product (padding masked)`,
    activation: "GELU (exact, erf) in the FFN; tanh in the pooler",
    flops: { value: L * layer + linearFlops(C, C) / S, per: "token", at: `sequence ${S}, the pooler's [CLS] shared` },
  };
}

// =====================================================================================================
// Layers

/** The input representation (§3, Figure 2): word + position + segment embeddings, LayerNorm, dropout. */
export class Embeddings extends Module {
  tokEmb: Embedding;
  posEmb: Embedding;
  typeEmb: Embedding;
  norm: LayerNorm;
  drop: Dropout;

  constructor(c: BertConfig, generator: Generator) {
    super();
    this.tokEmb = new Embedding(c.vocabSize, c.dModel, { paddingIdx: c.padId, generator });
    this.posEmb = new Embedding(c.maxPositions, c.dModel, { generator });
    this.typeEmb = new Embedding(c.typeVocabSize, c.dModel, { generator }); // DIFF(gpt2): segment embeddings
    this.norm = new LayerNorm(c.dModel, { eps: c.layerNormEps }); //            DIFF(gpt2): a LayerNorm on the input
    this.drop = new Dropout(c.dropout);
  }

  /** The position of every token: 0, 1, …, T−1 in every row. RoBERTa overrides this. → (T) or (B, T) int32 */
  positionIds(idx: Tensor): Tensor {
    return arange(idx.shape[1]!); // (T)
  }

  /** x = Dropout(LN(E_tok[idx] + E_pos[pos] + E_type[types])) → (B, T, C) */
  forward(idx: Tensor, tokenTypeIds: Tensor): Tensor {
    const pos = this.positionIds(idx); // (T) or (B, T)
    const x = this.tokEmb.forward(idx).add(this.posEmb.forward(pos)).add(this.typeEmb.forward(tokenTypeIds)); // (B, T, C)
    return this.drop.forward(this.norm.forward(x)); // (B, T, C)
  }
}

/** Bidirectional multi-head self-attention (Vaswani et al. 2017, §3.2.2); padding keys masked out. */
export class SelfAttention extends Module {
  readonly nHead: number;
  readonly dropoutP: number;
  wq: Linear;
  wk: Linear;
  wv: Linear;
  wo: Linear;
  residDrop: Dropout;

  constructor(c: BertConfig, generator: Generator) {
    super();
    this.nHead = c.nHead;
    this.dropoutP = c.dropout;
    this.wq = new Linear(c.dModel, c.dModel, { generator });
    this.wk = new Linear(c.dModel, c.dModel, { generator });
    this.wv = new Linear(c.dModel, c.dModel, { generator });
    this.wo = new Linear(c.dModel, c.dModel, { generator });
    this.residDrop = new Dropout(c.dropout);
  }

  /** x (B, T, C), keep (B, 1, 1, T) bool: true where the key is a real token → (B, T, C) */
  forward(x: Tensor, keep: Tensor | null): Tensor {
    const [B, T, C] = x.shape as [number, number, number];
    const nh = this.nHead,
      hs = C / nh;
    const heads = (t: Tensor): Tensor => t.view(B, T, nh, hs).transpose(1, 2); // (B, T, C) → (B, nh, T, hs)
    const q = heads(this.wq.forward(x)); // (B, nh, T, hs)
    const k = heads(this.wk.forward(x)); // (B, nh, T, hs)
    const v = heads(this.wv.forward(x)); // (B, nh, T, hs)
    // y = softmax(q·kᵀ/√hs + M)·v, M = −∞ where the key is padding
    // DIFF(gpt2): bidirectional — every token sees every real token, before and after it
    const dropoutP = this.training ? this.dropoutP : 0;
    const y = F.scaledDotProductAttention(q, k, v, { attnMask: keep, dropoutP }); // (B, nh, T, hs)
    const merged = y.transpose(1, 2).reshape(B, T, C); // (B, T, C)
    return this.residDrop.forward(this.wo.forward(merged)); // (B, T, C)
  }
}

/** The position-wise feed-forward network: FFN(x) = GELU(x·W₁ + b₁)·W₂ + b₂. */
export class MLP extends Module {
  up: Linear;
  down: Linear;
  drop: Dropout;

  constructor(c: BertConfig, generator: Generator) {
    super();
    this.up = new Linear(c.dModel, c.dFF, { generator }); // DIFF(gpt2): d_ff from the config
    this.down = new Linear(c.dFF, c.dModel, { generator });
    this.drop = new Dropout(c.dropout);
  }

  forward(x: Tensor): Tensor {
    const h = this.up.forward(x); // (B, T, F)
    // DIFF(gpt2): the exact GELU, g(h) = h·Φ(h) = h/2·(1 + erf(h/√2)), not the tanh approximation
    const g = F.gelu(h); // (B, T, F)
    return this.drop.forward(this.down.forward(g)); // (B, T, C)
  }
}

/** The sentence vector (§3, "C"): p = tanh(W·h_[CLS] + b), the first token's final hidden state. */
export class Pooler extends Module {
  dense: Linear;

  constructor(c: BertConfig, generator: Generator) {
    super();
    this.dense = new Linear(c.dModel, c.dModel, { generator });
  }

  forward(h: Tensor): Tensor {
    const [B, , C] = h.shape as [number, number, number];
    const cls = h.narrow(1, 0, 1).reshape(B, C); // (B, C) the [CLS] position
    return F.tanh(this.dense.forward(cls)); //     (B, C)
  }
}

/**
 * The masked-LM head (§A.1, BERT's run_pretraining.py): a dense + GELU + LayerNorm transform, then the
 * decoder, whose weight is the word embedding E (V, C) and whose bias is its own:
 * logits = LN(GELU(h·W_tᵀ + b_t))·Eᵀ + b.
 */
export class MLMHead extends Module {
  dense: Linear;
  norm: LayerNorm;
  decoder: Parameter; // (V, C) = the word embedding, listed once under its first name
  bias: Parameter; // (V)

  constructor(c: BertConfig, wordEmbedding: Parameter, generator: Generator) {
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

  constructor(c: BertConfig, generator: Generator) {
    super();
    this.attn = new SelfAttention(c, generator);
    this.norm1 = new LayerNorm(c.dModel, { eps: c.layerNormEps });
    this.mlp = new MLP(c, generator);
    this.norm2 = new LayerNorm(c.dModel, { eps: c.layerNormEps });
  }

  forward(x: Tensor, keep: Tensor | null): Tensor {
    // DIFF(gpt2): post-LN, x ← LN(x + sublayer(x))  (Vaswani §3.1; GPT-2 normalises the sub-layer's input)
    x = this.norm1.forward(x.add(this.attn.forward(x, keep))); // (B, T, C)
    x = this.norm2.forward(x.add(this.mlp.forward(x))); //        (B, T, C)
    return x;
  }
}

// =====================================================================================================
// Models

export interface BertOptions {
  /** the source of the initial weights (default: the library's default generator, seeded by manualSeed) */
  generator?: Generator;
  /** the pooler on [CLS] (default true; the masked-LM and token-classification models have none) */
  pooler?: boolean;
  /** the input embeddings' class (RoBERTa passes its own); default BERT's */
  embeddings?: new (c: BertConfig, generator: Generator) => Embeddings;
}

export interface ForwardOptions {
  /** (B, T) int32 segment ids; default all 0 */
  tokenTypeIds?: Tensor | null;
  /** (B, T): 1 (or true) for real tokens, 0 for padding; default all real */
  attentionMask?: Tensor | null;
  /** (B, T) int32 for masked LM and token classification, (B) for sequence classification; −100 is ignored */
  targets?: Tensor | null;
}

export interface EncoderOutput {
  hidden: Tensor; // (B, T, C) the last layer's output ("sequence output")
  pooled: Tensor | null; // (B, C) the pooler's output, when there is a pooler
}

export interface HeadOutput {
  logits: Tensor; // (B, T, V), (B, K) or (B, T, K)
  /** mean cross-entropy over the targets that are not −100, when targets were given */
  loss: Tensor | null; // ()
}

/** The trunk (HF's BertModel): embeddings, L post-LN layers, and the pooler. */
export class BertModel extends Module {
  readonly config: BertConfig;
  embeddings: Embeddings;
  layers: ModuleList<Block>;
  pooler: Pooler | null;

  constructor(config: BertConfig, opts: BertOptions = {}) {
    super();
    const c = (this.config = bertConfig(config));
    const generator = opts.generator ?? defaultGenerator;
    this.embeddings = new (opts.embeddings ?? Embeddings)(c, generator);
    this.layers = new ModuleList(Array.from({ length: c.nLayer }, () => new Block(c, generator)));
    this.pooler = (opts.pooler ?? true) ? new Pooler(c, generator) : null;
    initWeights(this, generator);
  }

  /** idx (B, T) int32 → the last layer's hidden states (B, T, C) and the pooled [CLS] vector (B, C). */
  forward(idx: Tensor, opts: ForwardOptions = {}): EncoderOutput {
    const { tokenTypeIds, keep } = this.checkInputs(idx, opts);
    let x = this.embeddings.forward(idx, tokenTypeIds); // (B, T, C)
    for (const block of this.layers) x = block.forward(x, keep); // (B, T, C)
    // DIFF(gpt2): no final norm — post-LN layers end normalised
    return { hidden: x, pooled: this.pooler ? this.pooler.forward(x) : null };
  }

  private checkInputs(idx: Tensor, opts: ForwardOptions): { tokenTypeIds: Tensor; keep: Tensor | null } {
    const name = this.constructor.name;
    if (idx.ndim !== 2) throw new ShapeError(`${name}: idx must be (B, T) token ids, got shape ${fmt(idx.shape)}`);
    if (idx.dtype !== "int32")
      throw new DTypeError(`${name}: idx must be int32 token ids, got ${idx.dtype} ${fmt(idx.shape)}`);
    const [B, T] = idx.shape as [number, number];
    if (T > this.config.maxPositions)
      throw new ShapeError(
        `${name}: ${T} tokens exceed maxPositions ${this.config.maxPositions} (idx ${fmt(idx.shape)})`,
      );
    for (const [key, t] of [
      ["tokenTypeIds", opts.tokenTypeIds],
      ["attentionMask", opts.attentionMask],
    ] as const) {
      if (t && (t.ndim !== 2 || t.shape[0] !== B || t.shape[1] !== T))
        throw new ShapeError(`${name}: ${key} ${fmt(t.shape)} must have the shape of idx ${fmt(idx.shape)}`);
    }
    const tokenTypeIds = opts.tokenTypeIds ?? zeros([B, T], { dtype: "int32" }); // (B, T)
    // keep[b, 0, 0, j] = (attentionMask[b, j] ≠ 0): broadcast over heads and queries
    const keep = opts.attentionMask ? opts.attentionMask.ne(0).view(B, 1, 1, T) : null; // (B, 1, 1, T) bool
    return { tokenTypeIds, keep };
  }
}

/** Masked language modelling (§3.1, Task #1): the trunk without pooler, then the MLM head. */
export class BertForMaskedLM extends Module {
  readonly config: BertConfig;
  encoder: BertModel;
  mlmHead: MLMHead;

  constructor(config: BertConfig, opts: Omit<BertOptions, "pooler"> = {}) {
    super();
    const generator = opts.generator ?? defaultGenerator;
    this.encoder = new BertModel(config, { ...opts, generator, pooler: false });
    this.config = this.encoder.config;
    // the decoder is tied to the word embedding (Press & Wolf 2017): one tensor, listed once
    this.mlmHead = new MLMHead(this.config, this.encoder.embeddings.tokEmb.weight, generator);
    initWeights(this.mlmHead, generator);
  }

  /** → logits (B, T, V); with targets (B, T), −100 at the unmasked positions, the mean cross-entropy of the rest. */
  forward(idx: Tensor, opts: ForwardOptions = {}): HeadOutput {
    const logits = this.mlmHead.forward(this.encoder.forward(idx, opts).hidden); // (B, T, V)
    return { logits, loss: opts.targets ? tokenLoss("BertForMaskedLM", logits, opts.targets) : null };
  }
}

/** Sequence classification (§4.1): a Linear on the pooled [CLS] vector, after dropout. */
export class BertForSequenceClassification extends Module {
  readonly config: BertConfig;
  encoder: BertModel;
  drop: Dropout;
  classifier: Linear;

  constructor(
    config: BertConfig,
    readonly numLabels: number,
    opts: Omit<BertOptions, "pooler"> = {},
  ) {
    super();
    const generator = opts.generator ?? defaultGenerator;
    this.encoder = new BertModel(config, { ...opts, generator, pooler: true });
    this.config = this.encoder.config;
    this.drop = new Dropout(this.config.dropout);
    this.classifier = new Linear(this.config.dModel, numLabels, { generator });
    initWeights(this.classifier, generator);
  }

  /** → logits (B, K); with targets (B) int32 the mean cross-entropy. */
  forward(idx: Tensor, opts: ForwardOptions = {}): HeadOutput {
    const pooled = this.encoder.forward(idx, opts).pooled!; // (B, C)
    const logits = this.classifier.forward(this.drop.forward(pooled)); // (B, K)
    if (!opts.targets) return { logits, loss: null };
    if (opts.targets.ndim !== 1 || opts.targets.shape[0] !== logits.shape[0]) {
      throw new ShapeError(
        `BertForSequenceClassification: targets ${fmt(opts.targets.shape)} must be (B) = (${logits.shape[0]}) labels`,
      );
    }
    return { logits, loss: F.crossEntropy(logits, opts.targets) };
  }
}

/** Token classification (§4.3, NER): a Linear on every token's final hidden state, after dropout. */
export class BertForTokenClassification extends Module {
  readonly config: BertConfig;
  encoder: BertModel;
  drop: Dropout;
  classifier: Linear;

  constructor(
    config: BertConfig,
    readonly numLabels: number,
    opts: Omit<BertOptions, "pooler"> = {},
  ) {
    super();
    const generator = opts.generator ?? defaultGenerator;
    this.encoder = new BertModel(config, { ...opts, generator, pooler: false });
    this.config = this.encoder.config;
    this.drop = new Dropout(this.config.dropout);
    this.classifier = new Linear(this.config.dModel, numLabels, { generator });
    initWeights(this.classifier, generator);
  }

  /** → logits (B, T, K); with targets (B, T), −100 where there is no label, the mean cross-entropy. */
  forward(idx: Tensor, opts: ForwardOptions = {}): HeadOutput {
    const h = this.encoder.forward(idx, opts).hidden; // (B, T, C)
    const logits = this.classifier.forward(this.drop.forward(h)); // (B, T, K)
    return { logits, loss: opts.targets ? tokenLoss("BertForTokenClassification", logits, opts.targets) : null };
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
 * BERT's initialisation (its TensorFlow code; HF's `_init_weights`): every Linear weight and embedding
 * N(0, 0.02) — truncated at ±2σ in TensorFlow, plain here as in HF — biases 0, the padding row 0,
 * LayerNorm γ = 1, β = 0 (as constructed).
 */
export function initWeights(root: Module, generator: Generator, std = 0.02): void {
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
// Weight map: our names ↔ the released checkpoints (Google's, as HF transformers names them)
//
// | ours (BertModel; heads prefix "encoder.") | checkpoint ({p} = "bert")                              |
// |-------------------------------------------|--------------------------------------------------------|
// | embeddings.tokEmb.weight (V, C)           | {p}.embeddings.word_embeddings.weight                  |
// | embeddings.posEmb.weight (P, C)           | {p}.embeddings.position_embeddings.weight              |
// | embeddings.typeEmb.weight (S, C)          | {p}.embeddings.token_type_embeddings.weight            |
// | embeddings.norm.weight/.bias              | {p}.embeddings.LayerNorm.weight/.bias                  |
// | layers.{i}.attn.wq.weight/.bias           | {p}.encoder.layer.{i}.attention.self.query.weight/.bias |
// | layers.{i}.attn.wk.weight/.bias           | {p}.encoder.layer.{i}.attention.self.key.weight/.bias  |
// | layers.{i}.attn.wv.weight/.bias           | {p}.encoder.layer.{i}.attention.self.value.weight/.bias |
// | layers.{i}.attn.wo.weight/.bias           | {p}.encoder.layer.{i}.attention.output.dense.*         |
// | layers.{i}.norm1.weight/.bias             | {p}.encoder.layer.{i}.attention.output.LayerNorm.*     |
// | layers.{i}.mlp.up.weight/.bias            | {p}.encoder.layer.{i}.intermediate.dense.*             |
// | layers.{i}.mlp.down.weight/.bias          | {p}.encoder.layer.{i}.output.dense.*                   |
// | layers.{i}.norm2.weight/.bias             | {p}.encoder.layer.{i}.output.LayerNorm.*               |
// | pooler.dense.weight/.bias                 | {p}.pooler.dense.*                                     |
// | mlmHead.dense.weight/.bias                | cls.predictions.transform.dense.*                      |
// | mlmHead.norm.weight/.bias                 | cls.predictions.transform.LayerNorm.*                  |
// | mlmHead.bias (V)                          | cls.predictions.bias                                   |
// | mlmHead.decoder (= tokEmb.weight)         | cls.predictions.decoder.weight: tied, not read         |
// | classifier.weight/.bias                   | classifier.*                                           |
//
// No transposes: HF's BERT uses nn.Linear, (out, in) like ours. Reading skips what we do not hold: the
// tied decoder (and its bias alias cls.predictions.decoder.bias), the next-sentence head
// (cls.seq_relationship.*), the position_ids buffer of older files, and the pooler when the model has none.

/** One row of the table: our name suffix ↔ theirs, `{p}` the checkpoint's trunk prefix, `{i}` the layer. */
export type { MapRow };

export const TRUNK_MAP: readonly MapRow[] = [
  ["embeddings.tokEmb.weight", "{p}.embeddings.word_embeddings.weight"],
  ["embeddings.posEmb.weight", "{p}.embeddings.position_embeddings.weight"],
  ["embeddings.typeEmb.weight", "{p}.embeddings.token_type_embeddings.weight"],
  ["embeddings.norm.weight", "{p}.embeddings.LayerNorm.weight"],
  ["embeddings.norm.bias", "{p}.embeddings.LayerNorm.bias"],
  ...(["weight", "bias"] as const).flatMap((w): MapRow[] => [
    [`layers.{i}.attn.wq.${w}`, `{p}.encoder.layer.{i}.attention.self.query.${w}`],
    [`layers.{i}.attn.wk.${w}`, `{p}.encoder.layer.{i}.attention.self.key.${w}`],
    [`layers.{i}.attn.wv.${w}`, `{p}.encoder.layer.{i}.attention.self.value.${w}`],
    [`layers.{i}.attn.wo.${w}`, `{p}.encoder.layer.{i}.attention.output.dense.${w}`],
    [`layers.{i}.norm1.${w}`, `{p}.encoder.layer.{i}.attention.output.LayerNorm.${w}`],
    [`layers.{i}.mlp.up.${w}`, `{p}.encoder.layer.{i}.intermediate.dense.${w}`],
    [`layers.{i}.mlp.down.${w}`, `{p}.encoder.layer.{i}.output.dense.${w}`],
    [`layers.{i}.norm2.${w}`, `{p}.encoder.layer.{i}.output.LayerNorm.${w}`],
  ]),
  ["pooler.dense.weight", "{p}.pooler.dense.weight"],
  ["pooler.dense.bias", "{p}.pooler.dense.bias"],
];

export const MLM_HEAD_MAP: readonly MapRow[] = [
  ["mlmHead.dense.weight", "cls.predictions.transform.dense.weight"],
  ["mlmHead.dense.bias", "cls.predictions.transform.dense.bias"],
  ["mlmHead.norm.weight", "cls.predictions.transform.LayerNorm.weight"],
  ["mlmHead.norm.bias", "cls.predictions.transform.LayerNorm.bias"],
  ["mlmHead.bias", "cls.predictions.bias"],
];

export const CLASSIFIER_MAP: readonly MapRow[] = [
  ["classifier.weight", "classifier.weight"],
  ["classifier.bias", "classifier.bias"],
];

/** What a family's checkpoints call things: the trunk prefix, the head tables, the keys to skip. */
export interface CheckpointNaming {
  readonly prefix: string;
  readonly mlmHead: readonly MapRow[];
  readonly classifier: readonly MapRow[];
  readonly skipped: RegExp;
}

export const BERT_NAMING: CheckpointNaming = {
  prefix: "bert",
  mlmHead: MLM_HEAD_MAP,
  classifier: CLASSIFIER_MAP,
  skipped: /^(cls\.predictions\.decoder\.(weight|bias)|cls\.seq_relationship\..*|bert\.embeddings\.position_ids)$/,
};

type AnyBert = BertModel | BertForMaskedLM | BertForSequenceClassification | BertForTokenClassification;

/** The (ours, theirs) name pairs of one model, {i} expanded, only the tensors the model holds. */
export function weightMap(model: Module, naming: CheckpointNaming = BERT_NAMING): [string, string][] {
  const trunk = model instanceof BertModel ? "" : "encoder.";
  const rows = [...TRUNK_MAP.map(([o, t]): MapRow => [trunk + o, t]), ...naming.mlmHead, ...naming.classifier].map(
    ([o, t]): MapRow => [o, t.replace("{p}", naming.prefix)],
  );
  return pairsOf(modelMap(model, rows, { i: (model as AnyBert).config.nLayer }));
}

/** A checkpoint's state dict (HF names) → ours for `model.loadStateDict`; unknown keys refused, known extras skipped. */
export function fromBertCheckpoint(
  state: Record<string, Tensor>,
  model: Module,
  naming: CheckpointNaming = BERT_NAMING,
): Record<string, Tensor> {
  const map = weightMap(model, naming);
  // what a file holds that this model has no place for: the pooler of a pooler-less model, the other heads
  const poolerless = !map.some(([o]) => o.endsWith("pooler.dense.weight"));
  const skipped = (k: string): boolean =>
    naming.skipped.test(k) || (poolerless && k.startsWith(`${naming.prefix}.pooler.`));
  return fromCheckpointWith("fromBertCheckpoint", state, entriesOf(map), { skipped, of: "model" });
}

/** Our state dict → the checkpoint's names (without the tied decoder weight). */
export const toBertCheckpoint = (
  state: Record<string, Tensor>,
  model: Module,
  naming: CheckpointNaming = BERT_NAMING,
): Record<string, Tensor> => toCheckpointWith("toBertCheckpoint", state, entriesOf(weightMap(model, naming)));

/** @deprecated the earlier name of fromBertCheckpoint */
export const fromCheckpoint = fromBertCheckpoint;
/** @deprecated the earlier name of toBertCheckpoint */
export const toCheckpoint = toBertCheckpoint;
