// One entry point over every method, for the CLI and the comparison: `applyMethod("lora", model, { r: 4 })`.

import { ArgumentError } from "../engine/errors.js";
import type { Generator } from "../engine/rng.js";
import type { Module } from "../nn/module.js";
import { applyAdapters } from "./adapter.js";
import { applyBitFit } from "./bitfit.js";
import type { Finetuned } from "./common.js";
import { applyFullFinetune } from "./full.js";
import { applyIA3 } from "./ia3.js";
import { applyLora } from "./lora.js";
import { applyModulesToSave, modulesToSave } from "./modules-to-save.js";
import { applyPrefixTuning, type CachedLM } from "./prefix.js";
import { applyPromptTuning } from "./prompt.js";
import { applyEncoderPrefixTuning } from "./prefix-encoders.js";
import { applyEncoderPromptTuning, type EncoderLike } from "./prompt-encoders.js";

export const METHODS = ["full", "lora", "adapter", "adapter-pfeiffer", "prefix", "prompt", "bitfit", "ia3"] as const;
export type MethodName = (typeof METHODS)[number];

export interface MethodOptions {
  /** LoRA */
  r?: number;
  alpha?: number;
  dropout?: number;
  targetModules?: readonly string[];
  /** adapters */
  bottleneck?: number;
  /** prefix and prompt tuning */
  numVirtualTokens?: number;
  /** every method: whole modules that train beside it (PEFT's modules_to_save), e.g. ["tokEmb"] */
  modulesToSave?: readonly string[];
  generator?: Generator;
}

/** A decoder of the zoo (GPT-2, LLaMA, ...): a trunk that reads a KV cache. Encoders and T5 are wrapped otherwise. */
const isDecoder = (m: Module): m is CachedLM =>
  typeof (m as unknown as Partial<CachedLM>).hidden === "function" &&
  (m as unknown as Partial<CachedLM>).blocks !== undefined;

/** Apply the named method to a model of the zoo (prefix and prompt tuning wrap it: decoders, encoders, T5). */
export function applyMethod(method: string, model: Module, opts: MethodOptions = {}): Finetuned<Module> {
  const saved = opts.modulesToSave ?? [];
  if (saved.length) modulesToSave(model, saved); // an unknown name throws before anything changes
  return applyModulesToSave(applyOne(method, model, opts), saved);
}

function applyOne(method: string, model: Module, opts: MethodOptions): Finetuned<Module> {
  switch (method as MethodName) {
    case "full":
      return applyFullFinetune(model);
    case "lora":
      return applyLora(model, opts);
    case "adapter":
      return applyAdapters(model, { bottleneck: opts.bottleneck, generator: opts.generator });
    case "adapter-pfeiffer":
      return applyAdapters(model, { bottleneck: opts.bottleneck, placement: "pfeiffer", generator: opts.generator });
    case "prefix": {
      const o = { numVirtualTokens: opts.numVirtualTokens, generator: opts.generator };
      return isDecoder(model)
        ? applyPrefixTuning(model, o)
        : applyEncoderPrefixTuning(model as Module & { forward(...a: never[]): unknown }, o);
    }
    case "prompt": {
      const o = { numVirtualTokens: opts.numVirtualTokens, generator: opts.generator };
      return isDecoder(model) ? applyPromptTuning(model, o) : applyEncoderPromptTuning(model as EncoderLike, o);
    }
    case "bitfit":
      return applyBitFit(model);
    case "ia3":
      return applyIA3(model, { targetModules: opts.targetModules });
    default:
      throw new ArgumentError(`finetune: unknown method "${method}"; the methods are ${METHODS.join(", ")}`);
  }
}
