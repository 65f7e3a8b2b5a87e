// Adapters: small bottleneck layers inserted into every block of a frozen Transformer.
//   Houlsby, Giurgiu, Jastrzębski, Morrone, de Laroussilhe, Gesmundo, Attariyan, Gelly 2019,
//   "Parameter-Efficient Transfer Learning for NLP", https://arxiv.org/abs/1902.00751
//   Pfeiffer, Kamath, Rücklé, Cho, Gurevych 2021, "AdapterFusion: Non-Destructive Task Composition for
//   Transfer Learning", https://arxiv.org/abs/2005.00247 (the placement after the feed-forward only)
//
// An adapter maps the sublayer's output h (C channels) through a bottleneck of m ≪ C channels and adds
// the result back (Houlsby §2.1, Figure 2):
//   adapter(h) = h + W_up·f(W_down·h + b_down) + b_up,   W_down (m, C), W_up (C, m), f = ReLU
// Houlsby puts one after the attention sublayer and one after the feed-forward sublayer of every block,
// each applied to the sublayer's output before it joins the residual stream; Pfeiffer keeps only the one
// after the feed-forward sublayer (half the parameters, about the same accuracy in their study).
// Initialisation near identity (Houlsby §3.6): both projections N(0, 10⁻²) truncated at two standard
// deviations, biases 0, so adapter(h) = h + O(10⁻⁴·|h|) and the model starts where the base model is.
// Trains the adapters only (Houlsby also trains the layer norms; we leave them frozen so that the
// comparison measures the adapter alone).
//
// Vocabulary: * leading dims, C the sublayer's output channels, m the bottleneck.

import { ArgumentError } from "../engine/errors.js";
import { defaultGenerator, type Generator } from "../engine/rng.js";
import type { Tensor } from "../engine/tensor.js";
import * as F from "../nn/functional.js";
import { truncNormal_, zeros_ } from "../nn/init.js";
import { Linear } from "../nn/linear.js";
import { Module } from "../nn/module.js";
import { findTargets, freeze, replaceModule, trainableParameters, type Finetuned } from "./common.js";

export interface AdapterOptions {
  /** the bottleneck width m (default 16) */
  bottleneck?: number;
  /** "houlsby": after attention and feed-forward (default); "pfeiffer": after the feed-forward only */
  placement?: "houlsby" | "pfeiffer";
  /** the sublayers to follow with an adapter, by name suffix (default from the placement: ["attn", "mlp"] or ["mlp"]) */
  sublayers?: readonly string[];
  /** standard deviation of the near-identity initialisation (default 1e-2) */
  initStd?: number;
  generator?: Generator;
}

/** The bottleneck: h + W_up·ReLU(W_down·h + b_down) + b_up. */
export class Adapter extends Module {
  down: Linear; // (m, C)
  up: Linear; //   (C, m)

  constructor(C: number, m: number, std: number, generator: Generator) {
    super();
    this.down = new Linear(C, m, { generator });
    this.up = new Linear(m, C, { generator });
    // near identity (Houlsby §3.6): N(0, std²) truncated at ±2·std, biases 0
    for (const l of [this.down, this.up]) {
      truncNormal_(l.weight, 0, std, -2 * std, 2 * std, { generator });
      zeros_(l.bias!);
    }
  }

  forward(h: Tensor): Tensor {
    const z = F.relu(this.down.forward(h)); // f(W_down·h + b_down)   (*, m)
    return h.add(this.up.forward(z)); //        h + W_up·z + b_up     (*, C)
  }
}

/** A sublayer followed by its adapter: forward(...args) = adapter(sublayer(...args)). */
export class AdapterSublayer extends Module {
  base: Module; //  the frozen sublayer (attention or feed-forward), called with whatever its block passes
  adapter: Adapter;

  constructor(base: Module, adapter: Adapter) {
    super();
    this.base = base;
    this.adapter = adapter;
  }

  forward(...args: unknown[]): Tensor {
    const h = (this.base as unknown as { forward(...a: unknown[]): Tensor }).forward(...args); // (*, C)
    return this.adapter.forward(h); // (*, C)
  }
}

/** The output channels of a sublayer: those of its last Linear (attn.wo, mlp.down). */
function outputChannels(sublayer: Module, path: string): number {
  const linears = [...sublayer.namedModules()].map(([, m]) => m).filter((m): m is Linear => m instanceof Linear);
  const last = linears[linears.length - 1];
  if (!last)
    throw new ArgumentError(
      `adapter: the sublayer "${path}" (${sublayer.constructor.name}) holds no Linear to read its width from`,
    );
  return last.outFeatures;
}

/** Freeze `model` and follow each chosen sublayer of every block with an adapter. Trains the adapters only. */
export function applyAdapters<M extends Module>(model: M, opts: AdapterOptions = {}): Finetuned<M> {
  const m = opts.bottleneck ?? 16;
  if (!Number.isInteger(m) || m <= 0)
    throw new ArgumentError(`adapter: bottleneck must be a positive integer, got ${m}`);
  const placement = opts.placement ?? "houlsby";
  if (placement !== "houlsby" && placement !== "pfeiffer")
    throw new ArgumentError(`adapter: placement must be "houlsby" or "pfeiffer", got ${String(placement)}`);
  const std = opts.initStd ?? 1e-2;
  if (!(std >= 0 && Number.isFinite(std))) throw new ArgumentError(`adapter: initStd must be ≥ 0, got ${std}`);
  const sublayers = opts.sublayers ?? (placement === "houlsby" ? ["attn", "mlp"] : ["mlp"]);
  const isSublayer = (x: Module): x is Module =>
    !(x instanceof Linear) && !(x instanceof AdapterSublayer) && !(x instanceof Adapter);
  const targets = findTargets(model, sublayers, isSublayer, "adapter");
  const generator = opts.generator ?? defaultGenerator;
  const widths = targets.map(([path, sub]) => outputChannels(sub, path));
  freeze(model);
  targets.forEach(([path, sub], i) =>
    replaceModule(model, path, new AdapterSublayer(sub, new Adapter(widths[i]!, m, std, generator))),
  );
  return {
    model,
    method: placement === "houlsby" ? "adapter" : "adapter-pfeiffer",
    trainable: trainableParameters(model),
  };
}
