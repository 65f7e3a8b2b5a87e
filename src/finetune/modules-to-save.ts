// Modules to save: whole modules of the base that train beside a method (Hugging Face PEFT's
// `modules_to_save`, an option of every PEFT method). The usual ones are a new classification head and the
// token embedding: a method that leaves the embedding frozen cannot change what a token the pretraining
// rarely saw means — the digits of a base pretrained on a novel — nor, with a tied head, how likely the
// model makes it. The price is the module's full size: V·C parameters for an embedding.
//
// Every parameter of each named module gets requiresGrad = true, after the method has frozen the rest.
// Names are suffixes of module paths, as for the methods' targets: "tokEmb" (the token embedding, tied to
// GPT-2's head, so both train), "lmHead" (LLaMA's untied head). PEFT keeps a trainable copy beside the
// frozen original; here the module itself trains and a fresh base is loaded for the next task.

import { ArgumentError } from "../engine/errors.js";
import type { Module } from "../nn/module.js";
import { matchesTarget, trainableParameters, type Finetuned } from "./common.js";

/** The modules of `model` whose dotted path ends with one of `names`; an unknown name throws, naming the candidates. */
export function modulesToSave(model: Module, names: readonly string[]): [string, Module][] {
  const all = [...model.namedModules()].filter(([path, m]) => path !== "" && m.parameters().length > 0);
  const found: [string, Module][] = [];
  for (const name of names) {
    if (typeof name !== "string" || name === "")
      throw new ArgumentError(`modulesToSave: a module name must be a non-empty string, got ${JSON.stringify(name)}`);
    const hits = all.filter(([path]) => matchesTarget(path, name));
    if (hits.length === 0) {
      const top = [...new Set(all.map(([p]) => p.split(".").pop()!))];
      throw new ArgumentError(
        `modulesToSave: "${name}" names no module with parameters of ${model.constructor.name}; its modules are ${top.join(", ")}`,
      );
    }
    for (const hit of hits) if (!found.some(([p]) => p === hit[0])) found.push(hit);
  }
  return found;
}

/** Unfreeze the modules named in `names` of a fine-tuned model: they train (and are saved) beside the method's parameters. */
export function applyModulesToSave<M extends Module>(ft: Finetuned<M>, names: readonly string[]): Finetuned<M> {
  if (names.length === 0) return ft;
  for (const [, m] of modulesToSave(ft.model, names)) for (const p of m.parameters()) p.requiresGrad = true;
  return { ...ft, trainable: trainableParameters(ft.model) };
}
