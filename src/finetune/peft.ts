// LoRA adapters in Hugging Face PEFT's folder format, both ways, for GPT-2 and LLaMA.
//
// The folder (the facts of PEFT's layout; nothing here is PEFT's code):
//   adapter_config.json          {"peft_type": "LORA", "r", "lora_alpha", "target_modules", "lora_dropout",
//                                 "fan_in_fan_out", "bias": "none", "task_type": "CAUSAL_LM",
//                                 "base_model_name_or_path", "rank_pattern", "alpha_pattern", ...}
//   adapter_model.safetensors    per adapted module M of the Hugging Face model:
//                                 base_model.model.<M>.lora_A.weight (r, in), base_model.model.<M>.lora_B.weight (out, r)
// A and B are stored as nn.Linear weights whatever the layer (GPT-2's Conv1D included: fan_in_fan_out only
// changes how PEFT merges). The update is ΔW = (lora_alpha / r)·B·A, with per-module r and α taken from
// rank_pattern / alpha_pattern when they name the module.
//
// GPT-2 fuses q, k and v into one c_attn (out 3C). LoRA on our separate wq, wk, wv becomes one LoRA on
// c_attn whose A stacks the parts' A's and whose B is block-diagonal:
//   A = [A_q; A_k; A_v]  (r_q + r_k + r_v, C),   B = diag(B_q, B_k, B_v)  (3C, r_q + r_k + r_v)
// so B·A = [B_q·A_q; B_k·A_k; B_v·A_v] exactly, with rank_pattern/alpha_pattern giving c_attn the summed
// rank and α (the scale α/r is the same for every part). The safetensors metadata records which columns
// belong to which part ("wnn.parts"), so reading our own files gives back every tensor bit for bit; a
// c_attn LoRA trained by PEFT (no such metadata) is read exactly too: each part gets the whole A and its
// rows of B, ΔW_q = (α/R)·B[0:C]·A.
//
// Modules to save (src/finetune/modules-to-save.ts) are stored whole, as PEFT stores its `modules_to_save`:
//   adapter_config.json          "modules_to_save": ["wte", "lm_head"]  (the modules' last names)
//   adapter_model.safetensors    base_model.model.<M>.<parameter>, e.g. base_model.model.transformer.wte.weight
// GPT-2 ties lm_head to wte; PEFT wraps each module it saves in a copy of its own, which unties them (a
// trained wte alone would leave PEFT's lm_head at the base's values), so our tied matrix is written under
// both names. Read back, the two must be equal: our GPT-2 cannot hold an untied pair.
//
// Vocabulary: C width, R the fused rank, r a part's rank.

import { noGrad } from "../engine/autograd.js";
import { zeros } from "../engine/creation.js";
import { ArgumentError, LoadError, ShapeError } from "../engine/errors.js";
import { fmt } from "../engine/shape.js";
import type { Tensor } from "../engine/tensor.js";
import { cat } from "../ops/shape.js";
import { Module as ModuleClass, type Module, type Parameter } from "../nn/module.js";
import { GPT } from "../models/gpt2/model.js";
import { Llama } from "../models/llama/model.js";
import { freeze } from "./common.js";
import { LoraLinear, loraLayers } from "./lora.js";
import type { Linear } from "../nn/linear.js";

export const ADAPTER_CONFIG_FILE = "adapter_config.json";
export const ADAPTER_WEIGHTS_FILE = "adapter_model.safetensors";

type Family = "gpt2" | "llama";

/** Our module (after "blocks.{i}.") → the Hugging Face module (after the layer prefix), and its part of a fused c_attn. */
const MODULES: Record<
  Family,
  { layer: string; modules: Record<string, { theirs: string; part?: number; parts?: number }> }
> = {
  gpt2: {
    layer: "transformer.h.{i}.",
    modules: {
      "attn.wq": { theirs: "attn.c_attn", part: 0, parts: 3 },
      "attn.wk": { theirs: "attn.c_attn", part: 1, parts: 3 },
      "attn.wv": { theirs: "attn.c_attn", part: 2, parts: 3 },
      "attn.wo": { theirs: "attn.c_proj" },
      "mlp.up": { theirs: "mlp.c_fc" },
      "mlp.down": { theirs: "mlp.c_proj" },
    },
  },
  llama: {
    layer: "model.layers.{i}.",
    modules: {
      "attn.wq": { theirs: "self_attn.q_proj" },
      "attn.wk": { theirs: "self_attn.k_proj" },
      "attn.wv": { theirs: "self_attn.v_proj" },
      "attn.wo": { theirs: "self_attn.o_proj" },
      "mlp.gate": { theirs: "mlp.gate_proj" },
      "mlp.up": { theirs: "mlp.up_proj" },
      "mlp.down": { theirs: "mlp.down_proj" },
    },
  },
};

/** Our top-level module → the Hugging Face modules it is saved as (GPT-2's tied embedding and head: both names). */
const SAVED: Record<Family, Record<string, string[]>> = {
  gpt2: {
    tokEmb: ["transformer.wte", "lm_head"],
    lmHead: ["transformer.wte", "lm_head"],
    posEmb: ["transformer.wpe"],
    normF: ["transformer.ln_f"],
  },
  llama: { tokEmb: ["model.embed_tokens"], lmHead: ["lm_head"], normF: ["model.norm"] },
};

/** The parameters of our top-level module `ours` by their own names ("weight", "bias"). */
function ownParameters(model: Module, ours: string): [string, Parameter][] {
  const m = (model as unknown as Record<string, unknown>)[ours];
  return m instanceof ModuleClass ? m.namedParameters() : [];
}

/** The trainable parameters outside the LoRA layers: the modules to save, as PEFT's keys → our tensors. */
function savedModules(model: Module, family: Family): { names: string[]; tensors: Record<string, Tensor> } {
  const lora = new Set(loraLayers(model).flatMap(([, m]) => [m.loraA, m.loraB]));
  const tensors: Record<string, Tensor> = {};
  const names = new Set<string>();
  const covered = new Set<Parameter>();
  for (const [ours, theirs] of Object.entries(SAVED[family])) {
    const params = ownParameters(model, ours);
    if (!params.some(([, p]) => p.requiresGrad)) continue;
    for (const t of theirs) {
      names.add(t.split(".").pop()!);
      for (const [n, p] of params) {
        tensors[`base_model.model.${t}.${n}`] = p.detach();
        covered.add(p);
      }
    }
  }
  for (const [name, p] of model.namedParameters())
    if (p.requiresGrad && !lora.has(p) && !covered.has(p))
      throw new ArgumentError(
        `peft: ${name} trains but has no PEFT name; the modules saved beside LoRA are ${Object.keys(SAVED[family]).join(", ")}`,
      );
  return { names: [...names].sort(), tensors };
}

/**
 * The saved modules of a PEFT folder (base_model.model.<M>.<parameter> for M of SAVED): our parameter and its
 * new values, each shape checked. GPT-2's wte and lm_head are one matrix here, so a folder must hold both, equal.
 */
function planSaved(
  model: Module,
  family: Family,
  tensors: Record<string, Tensor>,
): { keys: Set<string>; values: Map<Parameter, Tensor> } {
  const ours = new Map<string, Parameter>();
  for (const [mine, theirs] of Object.entries(SAVED[family]))
    for (const t of theirs) for (const [n, p] of ownParameters(model, mine)) ours.set(`base_model.model.${t}.${n}`, p);
  const keys = new Set<string>();
  const values = new Map<Parameter, Tensor>();
  const from = new Map<Parameter, string>();
  for (const [key, t] of Object.entries(tensors)) {
    const p = ours.get(key);
    if (!p) continue;
    if (t.shape.join(",") !== p.shape.join(","))
      throw new ShapeError(`peft: ${key} has shape ${fmt(t.shape)}, the model's is ${fmt(p.shape)}`);
    const before = values.get(p);
    if (before && before.storage.some((v, i) => v !== t.storage[i]))
      throw new LoadError(
        `peft: ${from.get(p)} and ${key} differ, but ${model.constructor.name} ties them (one matrix); it cannot hold an untied pair`,
      );
    keys.add(key);
    values.set(p, t);
    from.set(p, key);
  }
  // a tied matrix saved under one of its names only: PEFT would keep the other at the base's values
  for (const [p, key] of from) {
    const twins = [...ours].filter(([k, q]) => q === p && k !== key && !keys.has(k));
    if (twins.length)
      throw new LoadError(
        `peft: the folder saves ${key} but not ${twins.map(([k]) => k).join(", ")}; ${model.constructor.name} ties them, and PEFT would keep the other at the base's values`,
      );
  }
  return { keys, values };
}

function familyOf(model: Module): Family {
  if (model instanceof GPT) return "gpt2";
  if (model instanceof Llama) return "llama";
  throw new ArgumentError(
    `peft: ${model.constructor.name} has no PEFT mapping; LoRA folders are written and read for GPT-2 and LLaMA`,
  );
}

/** "blocks.3.attn.wq" → { i: 3, ours: "attn.wq" } */
function splitPath(path: string): { i: number; ours: string } {
  const m = /^blocks\.(\d+)\.(.+)$/.exec(path);
  if (!m) throw new ArgumentError(`peft: the LoRA layer "${path}" is not inside blocks.{i}`);
  return { i: Number(m[1]), ours: m[2]! };
}

export interface PeftFiles {
  /** adapter_config.json's object */
  config: Record<string, unknown>;
  /** adapter_model.safetensors' tensors */
  tensors: Record<string, Tensor>;
  /** its metadata (string → string) */
  metadata: Record<string, string>;
}

/** The LoRA layers of a model as PEFT's adapter folder (config, tensors, metadata). Nothing is written here. */
export function toPeft(model: Module, opts: { baseModelNameOrPath?: string } = {}): PeftFiles {
  const family = familyOf(model);
  const spec = MODULES[family];
  const layers = loraLayers(model);
  if (layers.length === 0) throw new ArgumentError(`peft: ${model.constructor.name} carries no LoRA layers`);
  const r0 = layers[0]![1].r,
    a0 = layers[0]![1].alpha,
    drop = layers[0]![1].loraDrop.p;
  // group by the Hugging Face module (c_attn gathers q, k, v)
  const groups = new Map<
    string,
    { theirs: string; parts: { part: number; of: number; ours: string; m: LoraLinear }[] }
  >();
  for (const [path, m] of layers) {
    if (m.merged) throw new ArgumentError(`peft: ${path} is merged; unmerge before saving the adapter`);
    const { i, ours } = splitPath(path);
    const map = spec.modules[ours];
    if (!map)
      throw new ArgumentError(
        `peft: no ${family} module corresponds to "${ours}"; the mapped ones are ${Object.keys(spec.modules).join(", ")}`,
      );
    const key = spec.layer.replace("{i}", String(i)) + map.theirs;
    const g = groups.get(key) ?? { theirs: map.theirs, parts: [] };
    g.parts.push({ part: map.part ?? 0, of: map.parts ?? 1, ours, m });
    groups.set(key, g);
  }
  const tensors: Record<string, Tensor> = {};
  const rankPattern: Record<string, number> = {},
    alphaPattern: Record<string, number> = {};
  const partsMeta: Record<string, string> = {};
  const targets = new Set<string>();
  noGrad(() => {
    for (const [key, g] of groups) {
      // PEFT matches target_modules as name suffixes: the leaf ("c_attn") unless another module of the family
      // ends the same way (GPT-2's attn.c_proj and mlp.c_proj), then the longer suffix ("mlp.c_proj")
      const leaf = g.theirs.split(".").pop()!;
      const ambiguous = Object.values(spec.modules).some(
        (m) => m.theirs !== g.theirs && m.theirs.split(".").pop() === leaf,
      );
      targets.add(ambiguous ? g.theirs : leaf);
      g.parts.sort((a, b) => a.part - b.part);
      const R = g.parts.reduce((n, p) => n + p.m.r, 0);
      const scale = g.parts[0]!.m.scaling;
      for (const p of g.parts)
        if (p.m.scaling !== scale)
          throw new ArgumentError(`peft: the parts of ${key} have different scales α/r; PEFT keeps one per module`);
      let A: Tensor, B: Tensor;
      if (g.parts.length === 1 && g.parts[0]!.of === 1) {
        A = g.parts[0]!.m.loraA.detach();
        B = g.parts[0]!.m.loraB.detach();
      } else {
        // A = [A_q; A_k; A_v], B = diag(B_q, B_k, B_v) over the three row blocks of c_attn (missing parts: zero rows)
        const of = g.parts[0]!.of,
          out = g.parts[0]!.m.outFeatures;
        A = cat(
          g.parts.map((p) => p.m.loraA.detach()),
          0,
        ); // (R, C)
        const b = zeros([of * out, R]);
        let col = 0;
        const cols: string[] = [];
        for (const p of g.parts) {
          const Bp = p.m.loraB.storage,
            r = p.m.r;
          for (let row = 0; row < out; row++)
            for (let c = 0; c < r; c++) b.storage[(p.part * out + row) * R + col + c] = Bp[row * r + c]!;
          cols.push(`${p.ours}:${col}-${col + r}`);
          col += r;
        }
        B = b;
        partsMeta[key] = cols.join(",");
      }
      tensors[`base_model.model.${key}.lora_A.weight`] = A;
      tensors[`base_model.model.${key}.lora_B.weight`] = B;
      // PEFT reads rank_pattern / alpha_pattern by module name: a rank other than r, and α = scale·rank
      if (R !== r0 || scale * R !== a0) {
        rankPattern[key] = R;
        alphaPattern[key] = scale * R;
      }
    }
  });
  const config: Record<string, unknown> = {
    peft_type: "LORA",
    task_type: "CAUSAL_LM",
    base_model_name_or_path: opts.baseModelNameOrPath ?? null,
    r: r0,
    lora_alpha: a0,
    lora_dropout: drop,
    target_modules: [...targets].sort(),
    fan_in_fan_out: family === "gpt2", // GPT-2's Conv1D stores W as (in, out)
    bias: "none",
    modules_to_save: null,
    rank_pattern: rankPattern,
    alpha_pattern: alphaPattern,
    inference_mode: true,
    init_lora_weights: true,
    use_rslora: false,
    use_dora: false,
  };
  const saved = savedModules(model, family);
  Object.assign(tensors, saved.tensors);
  if (saved.names.length) config.modules_to_save = saved.names;
  const metadata: Record<string, string> = { format: "pt" };
  if (Object.keys(partsMeta).length) metadata["wnn.parts"] = JSON.stringify(partsMeta);
  return { config, tensors, metadata };
}

/** The rank and α PEFT uses for module `key`: rank_pattern / alpha_pattern when a pattern names it, else r and lora_alpha. */
/** The largest LoRA rank an adapter may claim. */
const MAX_RANK = 65_536;

function rankAndAlpha(config: Record<string, unknown>, key: string): { r: number; alpha: number } {
  const pick = (pattern: unknown, dflt: number): number => {
    if (pattern && typeof pattern === "object") {
      for (const [k, v] of Object.entries(pattern as Record<string, unknown>)) {
        if ((key === k || key.endsWith(`.${k}`)) && typeof v === "number") return v;
      }
    }
    return dflt;
  };
  return {
    r: pick(config.rank_pattern, config.r as number),
    alpha: pick(config.alpha_pattern, config.lora_alpha as number),
  };
}

/**
 * Wrap `model`'s Linears named by a PEFT LoRA folder and load its A and B. Everything is checked first —
 * the config (peft_type LORA, r > 0), every key (this architecture's module names), every shape — and the
 * model is changed only when all of it fits: a folder for another architecture or with mismatched shapes
 * throws a LoadError / ShapeError naming the key and leaves the model as it was.
 */
export function fromPeft(
  model: Module,
  files: { config: Record<string, unknown>; tensors: Record<string, Tensor>; metadata?: Record<string, string> },
): LoraLinear[] {
  const family = familyOf(model);
  const spec = MODULES[family];
  const { config, tensors } = files;
  if (config.peft_type !== "LORA")
    throw new LoadError(
      `peft: adapter_config.json has peft_type ${JSON.stringify(config.peft_type)}; only "LORA" adapters are read`,
    );
  for (const k of ["r", "lora_alpha"] as const) {
    if (!(typeof config[k] === "number" && (config[k] as number) > 0))
      throw new LoadError(
        `peft: adapter_config.json's ${k} must be a positive number, got ${JSON.stringify(config[k])}`,
      );
  }
  // PEFT's r is an integer (a rank); the most a checkpoint may claim is far past any real adapter's
  if (!(Number.isSafeInteger(config.r) && (config.r as number) <= MAX_RANK))
    throw new LoadError(
      `peft: adapter_config.json's r must be an integer from 1 to ${MAX_RANK}, got ${JSON.stringify(config.r)}`,
    );
  const targetModules = config.target_modules;
  if (
    targetModules !== undefined &&
    targetModules !== null &&
    typeof targetModules !== "string" &&
    !(Array.isArray(targetModules) && targetModules.every((t) => typeof t === "string"))
  ) {
    throw new LoadError(
      `peft: adapter_config.json's target_modules must be a module name pattern or a list of module names, got ${JSON.stringify(targetModules)}`,
    );
  }
  const parts: Record<string, string> = files.metadata?.["wnn.parts"]
    ? (JSON.parse(files.metadata["wnn.parts"]) as Record<string, string>)
    : {};
  // the HF module of each of our Linears
  const ours = new Map<string, { path: string; linear: Linear; part: number; of: number }[]>();
  for (const [path, m] of model.namedModules()) {
    const s = /^blocks\.(\d+)\.(.+)$/.exec(path);
    const map = s ? spec.modules[s[2]!] : undefined;
    if (!s || !map) continue;
    const key = spec.layer.replace("{i}", s[1]!) + map.theirs;
    const list = ours.get(key) ?? [];
    list.push({ path, linear: m as Linear, part: map.part ?? 0, of: map.parts ?? 1 });
    ours.set(key, list);
  }
  const plan: { path: string; base: Linear; A: Tensor; B: Tensor; r: number; alpha: number }[] = [];
  const saves = planSaved(model, family, tensors);
  const keys = Object.keys(tensors).filter((k) => !saves.keys.has(k));
  for (const name of keys) {
    const m = /^base_model\.model\.(.+)\.lora_([AB])\.weight$/.exec(name);
    if (!m)
      throw new LoadError(
        `peft: unexpected key ${name} in ${ADAPTER_WEIGHTS_FILE} (expected base_model.model.<module>.lora_A/lora_B.weight)`,
      );
    if (!ours.has(m[1]!))
      throw new LoadError(
        `peft: ${name} names module ${m[1]} which ${model.constructor.name} (${family}) does not have; is the adapter for another architecture?`,
      );
  }
  for (const [key, targets] of ours) {
    const A = tensors[`base_model.model.${key}.lora_A.weight`],
      B = tensors[`base_model.model.${key}.lora_B.weight`];
    if (!A && !B) continue;
    if (!A || !B) throw new LoadError(`peft: ${key} has lora_${A ? "A" : "B"} but not lora_${A ? "B" : "A"}`);
    // a list of target modules names every adapted module (a string is a pattern, as PEFT reads it)
    if (Array.isArray(targetModules) && !targetModules.some((t) => key === t || key.endsWith(`.${t}`)))
      throw new LoadError(
        `peft: ${key} is adapted, but adapter_config.json's target_modules (${targetModules.join(", ")}) does not name it`,
      );
    const { r: R, alpha } = rankAndAlpha(config, key);
    const of = targets[0]!.of,
      inF = targets[0]!.linear.inFeatures,
      out = targets[0]!.linear.outFeatures;
    if (A.ndim !== 2 || A.shape[0] !== R || A.shape[1] !== inF)
      throw new ShapeError(
        `peft: ${key}.lora_A.weight has shape ${fmt(A.shape)}, expected (${R}, ${inF}) for r ${R} and the model's ${inF} input features`,
      );
    if (B.ndim !== 2 || B.shape[0] !== of * out || B.shape[1] !== R)
      throw new ShapeError(`peft: ${key}.lora_B.weight has shape ${fmt(B.shape)}, expected (${of * out}, ${R})`);
    const scale = alpha / R;
    const columns = parts[key]
      ? Object.fromEntries(
          parts[key]!.split(",").map((s) => {
            const [n, range] = s.split(":");
            const [a, b] = range!.split("-").map(Number);
            return [n!, [a!, b!]];
          }),
        )
      : null;
    for (const t of targets) {
      const name = splitPath(t.path).ours;
      if (of > 1 && columns && !columns[name]) continue; // a part the adapter does not adapt
      const [c0, c1] = of > 1 && columns ? (columns[name] as [number, number]) : [0, R];
      const r = c1 - c0;
      // this part's rows of B and its columns c0…c1 of B and rows of A
      const a = A.narrow(0, c0, r),
        b = B.narrow(0, t.part * out, out).narrow(1, c0, r);
      plan.push({ path: t.path, base: t.linear, A: a, B: b, r, alpha: scale * r });
    }
  }
  if (plan.length === 0) throw new LoadError(`peft: the adapter holds no LoRA weights for ${model.constructor.name}`);
  // everything fits: now change the model
  freeze(model);
  for (const [p, t] of saves.values) p.storage.set(t.storage);
  const made: LoraLinear[] = [];
  for (const p of plan) {
    const m = new LoraLinear(p.base, {
      r: p.r,
      alpha: p.alpha,
      dropout: typeof config.lora_dropout === "number" ? config.lora_dropout : 0,
    });
    m.loraA.storage.set(p.A.storage);
    m.loraB.storage.set(p.B.storage);
    const segs = p.path.split(".");
    const field = segs.pop()!;
    let parent = model as unknown as Record<string, unknown>;
    for (const s of segs) parent = parent[s] as Record<string, unknown>;
    parent[field] = m;
    made.push(m);
  }
  return made;
}
