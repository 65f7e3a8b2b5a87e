// BitFit: fine-tune the bias terms only.
//   Ben Zaken, Ravfogel, Goldberg 2021, "BitFit: Simple Parameter-efficient Fine-tuning for
//   Transformer-based Masked Language-models", https://arxiv.org/abs/2106.10199
//
// Every weight matrix, embedding and norm gain stays frozen; the additive biases b of y = W·x + b (the
// Linears' and, as in the paper's BERT, the LayerNorms' β) train. For BERT-base that is 0.08% of the
// parameters (§2). A model without biases (LLaMA, T5: bias-free by design) has nothing to train and is
// refused with an error rather than "fine-tuned" to no effect.

import { ArgumentError } from "../engine/errors.js";
import { Module } from "../nn/module.js";
import { freeze, trainableParameters, type Finetuned } from "./common.js";

export interface BitFitOptions {
  /** train only the biases whose dotted name contains one of these (default: every bias) */
  only?: readonly string[];
}

/** Freeze `model` except its bias vectors (names ending in ".bias"). */
export function applyBitFit<M extends Module>(model: M, opts: BitFitOptions = {}): Finetuned<M> {
  const biases = model
    .namedParameters()
    .filter(([name]) => name === "bias" || name.endsWith(".bias"))
    .filter(([name]) => !opts.only || opts.only.some((s) => name.includes(s)));
  if (biases.length === 0) {
    throw new ArgumentError(
      `bitfit: ${model.constructor.name} has no bias parameters${opts.only ? ` matching ${opts.only.join(", ")}` : ""}; BitFit trains biases only (LLaMA and T5 have none)`,
    );
  }
  freeze(model);
  for (const [, p] of biases) p.requiresGrad = true;
  return { model, method: "bitfit", trainable: trainableParameters(model) };
}
