// Full fine-tuning: the baseline every parameter-efficient method is measured against. Every parameter of
// the pretrained model keeps training on the new task, so the optimizer holds two moments for each of
// them (AdamW: 8 bytes per float32 parameter) and each task needs its own copy of the whole model.
//   Howard & Ruder 2018, "Universal Language Model Fine-tuning for Text Classification",
//   https://arxiv.org/abs/1801.06146; Radford et al. 2018 (GPT-1 §3.2), the recipe the others reuse.
//
// Freezes nothing: requiresGrad = true on every floating-point parameter.

import { Module } from "../nn/module.js";
import { trainableParameters, type Finetuned } from "./common.js";

/** Unfreeze every parameter of `model` (the baseline: everything trains). */
export function applyFullFinetune<M extends Module>(model: M): Finetuned<M> {
  for (const p of model.parameters()) p.requiresGrad = true;
  return { model, method: "full", trainable: trainableParameters(model) };
}
