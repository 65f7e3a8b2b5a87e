// (IA)³: Infused Adapter by Inhibiting and Amplifying Inner Activations.
//   Liu, Tam, Muqeeth, Mohta, Huang, Bansal, Raffel 2022, "Few-Shot Parameter-Efficient Fine-Tuning is
//   Better and Cheaper than In-Context Learning", https://arxiv.org/abs/2205.05638 (§3.3)
//
// Three learned vectors rescale the keys, the values and the feed-forward's inner activations of every
// block (element-wise ⊙), all else frozen:
//   softmax(q·(l_k ⊙ k)ᵀ/√d)·(l_v ⊙ v)          l_k, l_v ∈ ℝ^{d_k}   (the outputs of attn.wk, attn.wv)
//   (l_ff ⊙ γ(W₁x))·W₂                          l_ff ∈ ℝ^{d_ff}      (the input of mlp.down)
// The vectors start at 1, so the wrapped model computes exactly what the base model computes at step 0.
// As in PEFT's IA3: a "feed-forward" target scales the Linear's input, any other target its output.
//
// Vocabulary: * leading dims, in / out the wrapped Linear's features.

import { ArgumentError } from "../engine/errors.js";
import type { Tensor } from "../engine/tensor.js";
import { ones_ } from "../nn/init.js";
import { Linear, param } from "../nn/linear.js";
import { Module, type Parameter } from "../nn/module.js";
import {
  findTargets,
  freeze,
  isLinear,
  matchesTarget,
  replaceModule,
  trainableParameters,
  type Finetuned,
} from "./common.js";

export interface IA3Options {
  /** the Linears to rescale, by name suffix (default ["attn.wk", "attn.wv", "mlp.down"]) */
  targetModules?: readonly string[];
  /** which of the targets are feed-forward layers, whose input is scaled (default ["mlp.down"]) */
  feedforwardModules?: readonly string[];
}

/** A frozen Linear with a learned per-channel scale on its output (l ⊙ (W·x + b)) or its input (W·(l ⊙ x) + b). */
export class IA3Linear extends Module {
  base: Linear;
  scale: Parameter; // (out) for an output scale, (in) for an input scale
  readonly scalesInput: boolean;

  constructor(base: Linear, scalesInput: boolean) {
    super();
    this.base = base;
    this.scalesInput = scalesInput;
    this.scale = param([scalesInput ? base.inFeatures : base.outFeatures]);
    ones_(this.scale); // l = 1: the identity at step 0
  }

  forward(x: Tensor): Tensor {
    if (this.scalesInput) return this.base.forward(x.mul(this.scale)); // W·(l_ff ⊙ x) + b   (*, out)
    return this.base.forward(x).mul(this.scale); //                        l ⊙ (W·x + b)      (*, out)
  }
}

/** Freeze `model` and give each target Linear a learned scale vector, initialised to ones. */
export function applyIA3<M extends Module>(model: M, opts: IA3Options = {}): Finetuned<M> {
  const targetModules = opts.targetModules ?? ["attn.wk", "attn.wv", "mlp.down"];
  const ff = opts.feedforwardModules ?? ["mlp.down"];
  for (const f of ff) {
    if (!targetModules.includes(f))
      throw new ArgumentError(`ia3: feed-forward module "${f}" is not among the targets ${targetModules.join(", ")}`);
  }
  const targets = findTargets(model, targetModules, isLinear, "ia3");
  freeze(model);
  for (const [path, linear] of targets)
    replaceModule(
      model,
      path,
      new IA3Linear(
        linear,
        ff.some((f) => matchesTarget(path, f)),
      ),
    );
  return { model, method: "ia3", trainable: trainableParameters(model) };
}
