// Prompt tuning for encoders (BERT, RoBERTa) and encoder-decoders (T5).
//   Lester, Al-Rfou, Constant 2021, "The Power of Scale for Parameter-Efficient Prompt Tuning",
//   https://arxiv.org/abs/2104.08691
//
// As for the decoders (./prompt.ts): n soft-prompt embeddings P_e (n, C) are put in front of the embedded
// input, [P_e; X_e] (n + T, C), through the token embedding extended by P_e (ids V…V+n−1 read P_e). Lester et
// al. prompt T5's encoder input (§2); its decoder is unchanged. For BERT the prompt is likewise in front of
// the input ([CLS] included), as PEFT prepends it: the virtual tokens take positions 0…n−1, segment 0, are
// never padding, and their outputs are cut off again — a token-level head (masked LM, token classification)
// answers for the real tokens only; a sequence classifier reads what its pooler reads, position 0.
//
// Vocabulary: B batch, T tokens, n virtual tokens, C model width, V vocabulary.

import { ArgumentError } from "../engine/errors.js";
import { arange, full, ones } from "../engine/creation.js";
import { defaultGenerator } from "../engine/rng.js";
import type { Tensor } from "../engine/tensor.js";
import { cat } from "../ops/shape.js";
import { Module } from "../nn/module.js";
import { T5, type T5ForwardOptions, type T5Output } from "../models/t5/model.js";
import type { ForwardOptions as BertForwardOptions, HeadOutput } from "../models/bert/model.js";
import { freeze, replaceModule, trainableParameters, type Finetuned } from "./common.js";
import { PromptEmbedding, promptTarget, type PromptOptions } from "./prompt.js";
import { encoderAttentions } from "./prefix-encoders.js";

/** What the BERT family's models (masked LM, sequence and token classification) take and give. */
export interface BertLike extends Module {
  forward(idx: Tensor, opts?: BertForwardOptions): HeadOutput;
}

/** A frozen BERT-family model or T5 reading n trainable soft-prompt embeddings before its (encoder) input. */
/** A model encoder prompt tuning wraps: the BERT family or T5. */
export type EncoderLike = BertLike | T5;

export class EncoderPromptTuning<M extends EncoderLike = EncoderLike> extends Module {
  base: M;
  readonly n: number;
  /** the id of the first virtual token (the base vocabulary size) */
  readonly firstVirtual: number;

  constructor(base: M, opts: PromptOptions = {}) {
    super();
    const n = opts.numVirtualTokens ?? 10;
    if (!Number.isInteger(n) || n < 0)
      throw new ArgumentError(`prompt: numVirtualTokens must be an integer ≥ 0, got ${n}`);
    const [[path, emb]] = promptTarget(base, opts);
    this.base = base;
    this.n = n;
    this.firstVirtual = emb.numEmbeddings;
    replaceModule(base, path, new PromptEmbedding(emb, n, opts.generator ?? defaultGenerator));
  }

  /** [V…V+n−1; ids]: (B, n + T) int32. */
  private withPrompt(ids: Tensor): Tensor {
    const B = ids.shape[0]!;
    return cat(
      [
        arange(this.firstVirtual, this.firstVirtual + this.n)
          .unsqueeze(0)
          .expand(B, this.n),
        ids,
      ],
      1,
    ); // (B, n+T)
  }

  /** (B, T) → (B, n + T): `value` in front (an attention mask's 1, a segment's 0, an ignored target's −100). */
  private grow(t: Tensor | null | undefined, value: number): Tensor | null | undefined {
    if (!t) return t;
    const B = t.shape[0]!;
    return cat(
      [value === 1 ? ones([B, this.n], { dtype: t.dtype }) : full([B, this.n], value, { dtype: t.dtype }), t],
      1,
    );
  }

  forward(
    ...args: M extends T5
      ? [inputIds: Tensor, decoderInputIds: Tensor, opts?: T5ForwardOptions]
      : [idx: Tensor, opts?: BertForwardOptions]
  ): M extends T5 ? T5Output : HeadOutput;
  forward(ids: Tensor, a?: Tensor | BertForwardOptions, b?: T5ForwardOptions): T5Output | HeadOutput {
    if (this.n === 0)
      return this.base instanceof T5
        ? this.base.forward(ids, a as Tensor, b)
        : (this.base as BertLike).forward(ids, a as BertForwardOptions);
    if (this.base instanceof T5) {
      // the prompt in front of the encoder's input; the decoder and its targets are unchanged
      const o = b ?? {};
      return this.base.forward(this.withPrompt(ids), a as Tensor, {
        ...o,
        attentionMask: this.grow(o.attentionMask, 1),
      });
    }
    const o = (a ?? {}) as BertForwardOptions;
    const T = ids.shape[1]!;
    const targets = o.targets && o.targets.ndim === 2 ? this.grow(o.targets, -100) : o.targets; // token-level targets grow; (B) class labels do not
    const out = (this.base as BertLike).forward(this.withPrompt(ids), {
      tokenTypeIds: this.grow(o.tokenTypeIds, 0),
      attentionMask: this.grow(o.attentionMask, 1),
      targets,
    });
    // a token-level head answered for n + T positions: keep the real tokens' (B, T, ·)
    return { logits: out.logits.ndim === 3 ? out.logits.narrow(1, this.n, T) : out.logits, loss: out.loss };
  }
}

/** Freeze a BERT-family model or T5 and put a trainable soft prompt of n embeddings in front of its input. */
export function applyEncoderPromptTuning<M extends BertLike | T5>(
  model: M,
  opts: PromptOptions = {},
): Finetuned<EncoderPromptTuning<M>> {
  encoderAttentions(model); // an encoder or encoder-decoder of the zoo; checked before anything changes
  promptTarget(model, opts);
  freeze(model); //            first: the soft prompt the wrapper adds must stay trainable
  const wrapped = new EncoderPromptTuning(model, opts);
  return { model: wrapped, method: "prompt", trainable: trainableParameters(wrapped) };
}
