// What every fine-tuning method shares: freezing the base model, finding the modules a method wraps by
// their neutral names (`attn.wq`, `mlp.down`, ...), swapping a module for its wrapper in place, and the
// report of what trains (count and share of the model, optimizer-state bytes).
//
// A method takes a model of the zoo and returns a `Finetuned` record: the same model object (its chosen
// modules replaced by wrappers that hold the base module as `base`) and the parameters that train. The
// base parameters get requiresGrad = false, so backward computes no gradient for them and an optimizer
// built on `trainable` never touches them.

import { ArgumentError } from "../engine/errors.js";
import { Linear } from "../nn/linear.js";
import { Module, type Parameter } from "../nn/module.js";

export interface Finetuned<M extends Module = Module> {
  /** the model, modified in place: chosen modules wrapped, the base frozen */
  readonly model: M;
  /** the method's name (full, lora, adapter, prefix, prompt, bitfit, ia3) */
  readonly method: string;
  /** the parameters that train, with their dotted names in the model */
  readonly trainable: [string, Parameter][];
}

/** requiresGrad = false on every parameter of `model` (its gradients dropped): the frozen base. */
export function freeze(model: Module): void {
  for (const p of model.parameters()) {
    p.requiresGrad = false;
    p.grad = null;
  }
}

/** The parameters of `model` that require gradients, with their names. */
export function trainableParameters(model: Module): [string, Parameter][] {
  return model.namedParameters().filter(([, p]) => p.requiresGrad);
}

export interface TrainableReport {
  /** parameters that train */
  trainable: number;
  /** every parameter of the model (base and added) */
  total: number;
  /** 100 · trainable / total */
  percent: number;
  /** AdamW's state: two float32 moments per trainable parameter, 8 bytes each */
  optimizerBytes: number;
}

/** Count what trains, the way PEFT's print_trainable_parameters does, plus AdamW's two moments. */
export function trainableReport(model: Module): TrainableReport {
  const all = model.parameters();
  const total = all.reduce((n, p) => n + p.numel(), 0);
  const trainable = all.filter((p) => p.requiresGrad).reduce((n, p) => n + p.numel(), 0);
  return { trainable, total, percent: total ? (100 * trainable) / total : 0, optimizerBytes: 8 * trainable };
}

/** Does the module at dotted `path` match a target name? Targets are name suffixes: "attn.wq" or "wq". */
export function matchesTarget(path: string, target: string): boolean {
  return path === target || path.endsWith(`.${target}`);
}

/**
 * The modules whose dotted path ends with one of `targets` and that pass `accept` (for LoRA and IA³: a
 * Linear). An unknown target — one that matches nothing — throws, naming the candidates, before anything
 * is changed.
 */
export function findTargets<T extends Module>(
  model: Module,
  targets: readonly string[],
  accept: (m: Module) => m is T,
  who: string,
): [string, T][] {
  if (!Array.isArray(targets) || targets.length === 0)
    throw new ArgumentError(
      `${who}: targetModules must be a non-empty list of module names, got ${JSON.stringify(targets)}`,
    );
  const candidates = [...model.namedModules()].filter(([path, m]) => path !== "" && accept(m)) as [string, T][];
  const found: [string, T][] = [];
  for (const target of targets) {
    if (typeof target !== "string" || target === "")
      throw new ArgumentError(`${who}: a target module name must be a non-empty string, got ${JSON.stringify(target)}`);
    const hits = candidates.filter(([path]) => matchesTarget(path, target));
    if (hits.length === 0) {
      const names = [...new Set(candidates.map(([p]) => p.replace(/^.*?\.\d+\./, "")))];
      throw new ArgumentError(
        `${who}: target module "${target}" matches no module of ${model.constructor.name}; its candidates are ${names.join(", ") || "none"}`,
      );
    }
    for (const hit of hits) if (!found.some(([p]) => p === hit[0])) found.push(hit);
  }
  return found;
}

export const isLinear = (m: Module): m is Linear => m instanceof Linear;

/** Put `replacement` where the module at dotted `path` is (the parent's field is reassigned). */
export function replaceModule(model: Module, path: string, replacement: Module): void {
  const parts = path.split(".");
  const field = parts.pop()!;
  let parent: Module = model;
  for (const part of parts) {
    const next = (parent as unknown as Record<string, unknown>)[part];
    if (!(next instanceof Module))
      throw new ArgumentError(`replaceModule: no module at "${path}" in ${model.constructor.name}`);
    parent = next;
  }
  if (!((parent as unknown as Record<string, unknown>)[field] instanceof Module))
    throw new ArgumentError(`replaceModule: no module at "${path}" in ${model.constructor.name}`);
  (parent as unknown as Record<string, Module>)[field] = replacement;
}

/** A snapshot of every frozen parameter's values (copies), to check after training that none moved. */
export function snapshotFrozen(model: Module): Map<string, Float32Array | Float64Array | Int32Array> {
  const out = new Map<string, Float32Array | Float64Array | Int32Array>();
  for (const [name, p] of model.namedParameters())
    if (!p.requiresGrad) out.set(name, p.storage.slice() as Float32Array);
  return out;
}

/** The default targets of a method in each family of the zoo, by the families' own neutral names. */
export const ATTENTION_QV = ["attn.wq", "attn.wv"] as const;
