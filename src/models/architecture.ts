// What a model of the zoo is, as a table row: the facts `wnn compare`, `wnn list` and the docs print. Every
// model.ts exports `describe(config): Architecture` right below its countParameters, so the numbers are
// computed from the config by the model's own equations and the words sit next to the code they describe.
// Nothing here is typed twice: src/models/architecture.test.ts builds every model of the zoo on a tiny
// config and checks, against the built module, that
//   - parameters equals model.numParameters(),
//   - layers equals layerKinds(model) (the classes of the modules that own parameters, counted),
//   - normalization names a class of `layers` (or says "none" when the model has no norm layer),
//   - flops equals the multiply-adds the kernels performed in one forward pass (counted by a wrapper
//     around the matmul and attention kernels).
//
// FLOPs, one convention for every model: the forward pass of one unit (a token, an image, a node, a pair
// of source and target sequences),
// 2 FLOPs per multiply-add, matrix products only — Linear layers, convolutions (im2col · W), attention's
// q·kᵀ and α·v, recurrent weights, graph aggregations (Â·H, α·W h). Elementwise work (activations,
// norms, softmax, residual adds, pooling, embedding lookups) is left out: it is a few percent of the
// total for every model here and would make the counts depend on how an op is written. Attention over
// masked keys counts every key, as the kernels compute them (a causal mask does not halve the work).

import type { Module } from "../nn/module.js";
import { Parameter } from "../nn/module.js";

/** The unit the FLOPs are counted per: a token of a sequence, an image, a node of a graph, a source–target pair. */
export type FlopsUnit = "token" | "image" | "node" | "example";

export interface Architecture {
  /** the model as the papers call it, with its preset: "GPT-2 (tiny)", "LSTM" */
  readonly title: string;
  /** the config in a few words, from the config: "4 layers, 4 heads, C 128, context 64, V 65" */
  readonly config: string;
  /** trainable parameters (countParameters of the model file) */
  readonly parameters: number;
  /** the parameters one token uses, when fewer than all (a mixture of experts: the router and k of E experts) */
  readonly activeParameters?: number;
  /** the classes of the modules that own parameters, with how many of each: { Linear: 24, LayerNorm: 9 } */
  readonly layers: Readonly<Record<string, number>>;
  /** the normalisation layers and where they sit: "LayerNorm, pre-LN …", or "none" */
  readonly normalization: string;
  /** how the model knows where a token (pixel, node) is: "learned absolute, 64 positions" */
  readonly positions: string;
  /** the attention it computes, or "none" */
  readonly attention: string;
  /** the nonlinearities */
  readonly activation: string;
  /** forward FLOPs per unit (the convention above); `at` says what they depend on ("context 64") */
  readonly flops: { readonly value: number; readonly per: FlopsUnit; readonly at: string };
}

/** 2·m·k·n: the FLOPs of an (m, k) · (k, n) product (a multiply-add counted as 2). */
export const matmulFlops = (m: number, k: number, n: number): number => 2 * m * k * n;

/** The FLOPs of a Linear (in → out) on one input vector: 2·in·out (the bias add is elementwise). */
export const linearFlops = (inF: number, outF: number): number => matmulFlops(1, inF, outF);

/** The FLOPs of a k×k convolution (cin → cout) producing an (oh, ow) map of one image: 2·cin·k²·cout·oh·ow. */
export const convFlops = (cin: number, cout: number, k: number, oh: number, ow = oh): number =>
  matmulFlops(cout, cin * k * k, oh * ow);

/**
 * The layer kinds of a built model: the class name of every module that owns a parameter itself (not
 * through a child), counted. Containers (ModuleList, Sequential, blocks) and parameter-free modules
 * (Dropout, pooling) do not appear.
 */
export function layerKinds(model: Module): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const [, m] of model.namedModules()) {
    if (Object.values(m).some((v) => v instanceof Parameter))
      kinds[m.constructor.name] = (kinds[m.constructor.name] ?? 0) + 1;
  }
  return sortedKinds(kinds);
}

/** A layer-kind table with its keys in alphabetical order (so that two tables compare equal). */
export function sortedKinds(kinds: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(kinds).sort()) if (kinds[k]! > 0) out[k] = kinds[k]!;
  return out;
}

/** "Embedding ×2, LayerNorm ×9, Linear ×24" */
export function formatKinds(kinds: Readonly<Record<string, number>>): string {
  return Object.entries(kinds)
    .map(([k, n]) => `${k} ×${n}`)
    .join(", ");
}
