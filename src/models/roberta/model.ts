// RoBERTa: BERT's architecture, pretrained longer on more data with a better recipe.
//   Liu, Ott, Goyal, Du, Joshi, Chen, Levy, Lewis, Zettlemoyer, Stoyanov 2019, "RoBERTa: A Robustly
//   Optimized BERT Pretraining Approach", https://arxiv.org/abs/1907.11692
//
// The network is BERT's (src/models/bert/model.ts), imported here; RoBERTa overrides one piece, the
// input embeddings. Most of what the paper changed is the recipe, not the model (§4): dynamic masking
// (a new mask every time a sequence is seen), no next-sentence prediction, full-length sequences, large
// batches, byte-level BPE (GPT-2's, 50K tokens), more data and steps.
//
// Differences from BERT (parent), each marked DIFF(bert) where it happens:
// - positions are counted from padId + 1 and skip padding: a token's position is padId + (the number of
//   real tokens up to and including it), a padding token's is padId (fairseq's make_positions, HF's
//   create_position_ids_from_input_ids). So a left-padded sequence gets the positions an unpadded one would;
// - the position table therefore has maxPositions = 512 + 2 rows (514), and its padding row gets no gradient;
// - one token type (typeVocabSize 1): no sentence-B embedding, since there is no next-sentence task;
// - vocabulary 50,265 byte-level BPE tokens, padId 1 (<s> 0, <pad> 1, </s> 2, <unk> 3);
// - the checkpoints' MLM head is named lm_head.* (dense, layer_norm, decoder tied, bias) and the trunk roberta.*;
// - sequence classification has no pooler: a head of its own on <s> (dropout, dense, tanh, dropout, out_proj),
//   HF's RobertaClassificationHead, named classifier.dense.* and classifier.out_proj.*.
//
// Vocabulary (shape comments): B batch, T tokens, C channels.

import { tensor } from "../../engine/creation.js";
import { ArgumentError, ShapeError } from "../../engine/errors.js";
import { presetOf } from "../presets.js";
import { defaultGenerator, type Generator } from "../../engine/rng.js";
import { fmt } from "../../engine/shape.js";
import type { Tensor } from "../../engine/tensor.js";
import * as F from "../../nn/functional.js";
import { Module } from "../../nn/module.js";
import { Dropout, Embedding, Linear } from "../../nn/index.js";
import type { Architecture } from "../architecture.js";
import {
  BertForMaskedLM,
  BertForTokenClassification,
  BertModel,
  CLASSIFIER_MAP,
  Embeddings,
  bertConfig,
  countParameters as bertCountParameters,
  describe as bertDescribe,
  initWeights,
  type BertConfig,
  type BertOptions,
  type CheckpointNaming,
  type ForwardOptions,
  type HeadOutput,
  type MapRow,
} from "../bert/model.js";

export type RobertaConfig = BertConfig;

/** A checked, frozen config: `robertaConfig("tiny", { vocabSize })`. */
export function robertaConfig(
  base: RobertaConfig | keyof typeof PRESETS,
  overrides: Partial<RobertaConfig> = {},
): RobertaConfig {
  const c = bertConfig({
    ...(typeof base === "string" ? presetOf("RobertaConfig", PRESETS, base) : base),
    ...overrides,
  });
  if (c.maxPositions < c.padId + 2)
    throw new ArgumentError(`RobertaConfig: maxPositions ${c.maxPositions} leaves no position after padId ${c.padId}`);
  return c;
}

export const PRESETS = Object.freeze({
  /** RoBERTa-base: 124,645,632 parameters as RobertaModel with the pooler */
  "roberta-base": Object.freeze({
    vocabSize: 50265, // DIFF(bert): byte-level BPE, 50,265 tokens (BERT: 30,522 word pieces)
    maxPositions: 514, // DIFF(bert): 512 positions after the offset padId + 1 = 2
    typeVocabSize: 1, //  DIFF(bert): a single token type (no next-sentence prediction)
    nLayer: 12,
    nHead: 12,
    dModel: 768,
    dFF: 3072,
    dropout: 0.1,
    layerNormEps: 1e-5, // DIFF(bert): fairseq's LayerNorm ε (BERT: 1e-12)
    padId: 1, //           DIFF(bert): <pad> is 1
  }),
  /** A CPU-sized model; vocabSize from the tokenizer */
  tiny: Object.freeze({
    vocabSize: 1000,
    maxPositions: 130,
    typeVocabSize: 1,
    nLayer: 2,
    nHead: 4,
    dModel: 64,
    dFF: 256,
    dropout: 0.1,
    layerNormEps: 1e-5,
    padId: 1,
  }),
} satisfies Record<string, RobertaConfig>);

/** The number of parameters from the config (nothing allocated): BERT's count, the same equations. */
export const countParameters = bertCountParameters;

/**
 * The architecture of RobertaModel in one row (src/models/architecture.ts): BERT's (its describe, the same
 * layers and FLOPs per token at S tokens) with RoBERTa's positions. DIFF(bert): positions from padId + 1.
 */
export function describe(c: RobertaConfig, seqLen = 128, title = "RoBERTa"): Architecture {
  return {
    ...bertDescribe(c, seqLen, title),
    positions: `learned absolute (${c.maxPositions - c.padId - 1} positions, counted from padId + 1 = ${c.padId + 1}, padding skipped), added to the token embedding`,
  };
}

// =====================================================================================================
// The one overridden layer

/**
 * position_t = padId + Σ_{s ≤ t} [idx_s ≠ padId]  for a real token,  padId  for padding.
 * (fairseq's utils.make_positions; HF's create_position_ids_from_input_ids.) → (B, T) int32
 */
export function positionIds(idx: Tensor, padId: number): Tensor {
  const [B, T] = idx.shape as [number, number];
  const ids = idx.storage,
    out = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    let seen = 0; // real tokens so far in this row
    for (let t = 0; t < T; t++) {
      const real = ids[b * T + t] !== padId;
      if (real) seen++;
      out[b * T + t] = real ? padId + seen : padId;
    }
  }
  return tensor(out, { shape: [B, T] });
}

export class RobertaEmbeddings extends Embeddings {
  constructor(c: RobertaConfig, generator: Generator) {
    super(c, generator);
    // DIFF(bert): the position table's padding row (padId) is where padding tokens look; it starts at 0 and learns nothing
    this.posEmb = new Embedding(c.maxPositions, c.dModel, { paddingIdx: c.padId, generator });
  }

  // DIFF(bert): positions from padId + 1, skipping padding (BERT: 0, 1, …, T−1 whatever the tokens)
  override positionIds(idx: Tensor): Tensor {
    return positionIds(idx, this.tokEmb.paddingIdx!); // (B, T)
  }
}

// =====================================================================================================
// Models: BERT's, with RoBERTa's embeddings

type Opts = Omit<BertOptions, "embeddings" | "pooler">;

export class RobertaModel extends BertModel {
  constructor(config: RobertaConfig, opts: Omit<BertOptions, "embeddings"> = {}) {
    super(robertaConfig(config), { ...opts, embeddings: RobertaEmbeddings });
  }
}

export class RobertaForMaskedLM extends BertForMaskedLM {
  constructor(config: RobertaConfig, opts: Opts = {}) {
    super(robertaConfig(config), { ...opts, embeddings: RobertaEmbeddings });
  }
}

/**
 * HF's RobertaClassificationHead (fairseq's RobertaClassificationHead): on the <s> token's final hidden state,
 * logits = W_o·Dropout(tanh(W_d·Dropout(h_<s>) + b_d)) + b_o.
 * The same equations as BERT's pooler + classifier, but the dense layer belongs to the head (it is trained
 * afresh for each task) and there is a dropout before it as well.
 */
export class ClassificationHead extends Module {
  drop: Dropout;
  dense: Linear;
  outProj: Linear;

  constructor(c: RobertaConfig, numLabels: number, generator: Generator) {
    super();
    this.drop = new Dropout(c.dropout);
    this.dense = new Linear(c.dModel, c.dModel, { generator });
    this.outProj = new Linear(c.dModel, numLabels, { generator });
  }

  forward(h: Tensor): Tensor {
    const [B, , C] = h.shape as [number, number, number];
    const first = h.narrow(1, 0, 1).reshape(B, C); //                  (B, C) the <s> position
    const x = F.tanh(this.dense.forward(this.drop.forward(first))); // (B, C)  DIFF(bert): dropout before the dense too
    return this.outProj.forward(this.drop.forward(x)); //              (B, K)
  }
}

/** Sequence classification (HF's RobertaForSequenceClassification): the trunk without pooler, then ClassificationHead. */
export class RobertaForSequenceClassification extends Module {
  readonly config: RobertaConfig;
  encoder: RobertaModel;
  classifier: ClassificationHead; // DIFF(bert): its own dense + tanh head on <s> (BERT: the trunk's pooler, dropout, a Linear)

  constructor(
    config: RobertaConfig,
    readonly numLabels: number,
    opts: Opts = {},
  ) {
    super();
    const generator = opts.generator ?? defaultGenerator;
    this.encoder = new RobertaModel(config, { ...opts, generator, pooler: false }); // DIFF(bert): no pooler
    this.config = this.encoder.config;
    this.classifier = new ClassificationHead(this.config, numLabels, generator);
    initWeights(this.classifier, generator);
  }

  /** → logits (B, K); with targets (B) int32 the mean cross-entropy. */
  forward(idx: Tensor, opts: ForwardOptions = {}): HeadOutput {
    const logits = this.classifier.forward(this.encoder.forward(idx, opts).hidden); // (B, K)
    if (!opts.targets) return { logits, loss: null };
    if (opts.targets.ndim !== 1 || opts.targets.shape[0] !== logits.shape[0]) {
      throw new ShapeError(
        `RobertaForSequenceClassification: targets ${fmt(opts.targets.shape)} must be (B) = (${logits.shape[0]}) labels`,
      );
    }
    return { logits, loss: F.crossEntropy(logits, opts.targets) };
  }
}

export class RobertaForTokenClassification extends BertForTokenClassification {
  constructor(config: RobertaConfig, numLabels: number, opts: Opts = {}) {
    super(robertaConfig(config), numLabels, { ...opts, embeddings: RobertaEmbeddings });
  }
}

// =====================================================================================================
// Weight map: BERT's table (src/models/bert/model.ts) with the trunk prefix "roberta" and this MLM head
//
// | ours                      | RoBERTa checkpoint                                   |
// |---------------------------|------------------------------------------------------|
// | encoder.…                 | roberta.… (BERT's trunk table with {p} = "roberta")  |
// | mlmHead.dense.weight/bias | lm_head.dense.weight/bias                            |
// | mlmHead.norm.weight/bias  | lm_head.layer_norm.weight/bias                       |
// | mlmHead.bias (V)          | lm_head.bias                                         |
// | mlmHead.decoder (tied)    | lm_head.decoder.weight (and .bias, an alias): not read |
// | classifier.dense.weight/bias   | classifier.dense.weight/bias (sequence classification) |
// | classifier.outProj.weight/bias | classifier.out_proj.weight/bias                        |
// | classifier.weight/bias         | classifier.weight/bias (token classification, BERT's)  |

// DIFF(bert): the MLM head is lm_head.* (BERT: cls.predictions.*)
const ROBERTA_MLM_HEAD_MAP: readonly MapRow[] = [
  ["mlmHead.dense.weight", "lm_head.dense.weight"],
  ["mlmHead.dense.bias", "lm_head.dense.bias"],
  ["mlmHead.norm.weight", "lm_head.layer_norm.weight"],
  ["mlmHead.norm.bias", "lm_head.layer_norm.bias"],
  ["mlmHead.bias", "lm_head.bias"],
];

// DIFF(bert): the sequence classifier's own head (the token classifier keeps BERT's names)
const ROBERTA_CLASSIFIER_MAP: readonly MapRow[] = [
  ...CLASSIFIER_MAP,
  ["classifier.dense.weight", "classifier.dense.weight"],
  ["classifier.dense.bias", "classifier.dense.bias"],
  ["classifier.outProj.weight", "classifier.out_proj.weight"],
  ["classifier.outProj.bias", "classifier.out_proj.bias"],
];

export const ROBERTA_NAMING: CheckpointNaming = {
  prefix: "roberta",
  mlmHead: ROBERTA_MLM_HEAD_MAP,
  classifier: ROBERTA_CLASSIFIER_MAP,
  skipped: /^(lm_head\.decoder\.(weight|bias)|roberta\.embeddings\.position_ids)$/,
};
