// LoRA: low-rank adaptation of the chosen Linear layers; everything else stays frozen.
//   Hu, Shen, Wallis, Allen-Zhu, Li, Wang, Wang, Chen 2021, "LoRA: Low-Rank Adaptation of Large Language
//   Models", https://arxiv.org/abs/2106.09685
//
// A frozen weight W₀ (out, in) gets a trainable update of rank r ≪ min(in, out) (§4.1, eq. 3):
//   h = W₀x + ΔWx = W₀x + (α/r)·B·A·x,   A (r, in), B (out, r)
// A starts Kaiming-uniform and B at zero, so ΔW = 0 and the wrapped model computes exactly what the base
// model computes at step 0. The scale α/r lets one α serve every r (the paper sets α to the first r tried
// and does not tune it). LoRA dropout (PEFT's `lora_dropout`) drops the input of the A·x branch only.
//
// After training, `mergeLora` folds ΔW into W₀ (no extra latency at inference, §4.1 "No Additional
// Inference Latency"); `unmergeLora` takes it out again (W₀ is recovered up to float rounding).
//
// Vocabulary: * any leading dims, in / out the wrapped Linear's features, r the rank.

import { noGrad } from "../engine/autograd.js";
import { ArgumentError } from "../engine/errors.js";
import type { Generator } from "../engine/rng.js";
import { defaultGenerator } from "../engine/rng.js";
import type { Tensor } from "../engine/tensor.js";
import { Dropout } from "../nn/activation.js";
import { kaimingUniform_, zeros_ } from "../nn/init.js";
import { Linear, param } from "../nn/linear.js";
import { Module, type Parameter } from "../nn/module.js";
import {
  findTargets,
  freeze,
  isLinear,
  replaceModule,
  trainableParameters,
  ATTENTION_QV,
  type Finetuned,
} from "./common.js";

export interface LoraOptions {
  /** the rank r of ΔW = B·A (default 8) */
  r?: number;
  /** α of the scale α/r (default: r, a scale of 1) */
  alpha?: number;
  /** dropout on the input of the low-rank branch (default 0) */
  dropout?: number;
  /** the Linear layers to adapt, by name suffix (default ["attn.wq", "attn.wv"], the paper's §7.1 choice) */
  targetModules?: readonly string[];
  /** the source of A's initial values */
  generator?: Generator;
}

/** A Linear with a low-rank update beside it: y = base(x) + (α/r)·B·A·drop(x). */
export class LoraLinear extends Module {
  base: Linear; // frozen W₀ (out, in), b₀ (out)
  loraA: Parameter; // (r, in)
  loraB: Parameter; // (out, r)
  loraDrop: Dropout;
  readonly r: number;
  readonly alpha: number;
  /** α/r */
  readonly scaling: number;
  /** ΔW is inside base.weight (forward skips the branch) */
  merged = false;

  constructor(base: Linear, opts: { r: number; alpha: number; dropout: number; generator?: Generator }) {
    super();
    const { r, alpha, dropout } = opts;
    this.base = base;
    this.r = r;
    this.alpha = alpha;
    this.scaling = alpha / r;
    this.loraA = param([r, base.inFeatures]);
    this.loraB = param([base.outFeatures, r]);
    this.loraDrop = new Dropout(dropout);
    // A ~ kaiming_uniform(a = √5) as PEFT initialises it (= U(±1/√in)), B = 0: ΔW = B·A = 0 at step 0
    kaimingUniform_(this.loraA, { a: Math.sqrt(5), generator: opts.generator ?? defaultGenerator });
    zeros_(this.loraB);
  }

  get inFeatures(): number {
    return this.base.inFeatures;
  }

  get outFeatures(): number {
    return this.base.outFeatures;
  }

  forward(x: Tensor): Tensor {
    const h = this.base.forward(x); // W₀x + b₀   (*, out)
    if (this.merged) return h;
    // h + (α/r)·B·A·drop(x)   (Hu et al. eq. 3)
    const ax = this.loraDrop.forward(x).matmul(this.loraA.transpose(0, 1)); // (*, r)
    return h.add(ax.matmul(this.loraB.transpose(0, 1)).mul(this.scaling)); // (*, out)
  }

  /** ΔW = (α/r)·B·A, (out, in), without gradient. */
  delta(): Tensor {
    return noGrad(() => this.loraB.matmul(this.loraA).mul(this.scaling)); // (out, r)·(r, in) → (out, in)
  }

  /** W₀ ← W₀ + ΔW; forward then skips the branch. */
  merge(): void {
    if (this.merged) return;
    addInto(this.base.weight, this.delta(), 1);
    this.merged = true;
  }

  /** W₀ ← W₀ − ΔW: the base weight back (up to rounding), the branch live again. */
  unmerge(): void {
    if (!this.merged) return;
    addInto(this.base.weight, this.delta(), -1);
    this.merged = false;
  }
}

function addInto(w: Tensor, d: Tensor, sign: number): void {
  const ws = w.storage,
    ds = d.storage;
  for (let i = 0; i < ws.length; i++) ws[i] = ws[i]! + sign * ds[i]!;
}

/** The checked options with their defaults. */
export function loraOptions(opts: LoraOptions = {}): Required<Omit<LoraOptions, "generator">> {
  const r = opts.r ?? 8;
  if (!Number.isInteger(r) || r <= 0) throw new ArgumentError(`lora: r must be a positive integer, got ${r}`);
  const alpha = opts.alpha ?? r;
  if (!(Number.isFinite(alpha) && alpha > 0))
    throw new ArgumentError(`lora: alpha must be a positive number, got ${alpha}`);
  const dropout = opts.dropout ?? 0;
  if (!(dropout >= 0 && dropout < 1)) throw new ArgumentError(`lora: dropout must be in [0, 1), got ${dropout}`);
  return { r, alpha, dropout, targetModules: opts.targetModules ?? ATTENTION_QV };
}

/**
 * Freeze `model` and wrap every Linear named in `targetModules` in a LoraLinear. Trains A and B only.
 * A target that names no Linear of the model throws (before anything changes), as does r ≤ 0.
 */
export function applyLora<M extends Module>(model: M, opts: LoraOptions = {}): Finetuned<M> {
  const o = loraOptions(opts);
  const targets = findTargets(model, o.targetModules, isLinear, "lora");
  freeze(model);
  for (const [path, linear] of targets) {
    replaceModule(
      model,
      path,
      new LoraLinear(linear, { r: o.r, alpha: o.alpha, dropout: o.dropout, generator: opts.generator }),
    );
  }
  return { model, method: "lora", trainable: trainableParameters(model) };
}

/** Every LoraLinear of the model with its path. */
export function loraLayers(model: Module): [string, LoraLinear][] {
  return [...model.namedModules()].filter(([, m]) => m instanceof LoraLinear) as [string, LoraLinear][];
}

/** Fold every ΔW into its base weight (inference without the branch). */
export function mergeLora(model: Module): void {
  for (const [, m] of loraLayers(model)) m.merge();
}

/** Take every ΔW back out of its base weight. */
export function unmergeLora(model: Module): void {
  for (const [, m] of loraLayers(model)) m.unmerge();
}

/** Merge and put the plain Linear back in place of every wrapper: the model as the base architecture. */
export function mergeAndUnloadLora<M extends Module>(model: M): M {
  for (const [path, m] of loraLayers(model)) {
    m.merge();
    replaceModule(model, path, m.base);
  }
  return model;
}
