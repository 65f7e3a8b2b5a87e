// `wnn finetune`: fine-tune a language model on a text file with one of the methods of src/finetune, and
// read the result back for `wnn sample --adapter DIR`.
//
//   wnn finetune --model DIR --method lora --data corpus.txt --steps 200 --out my-adapter/
//
// --model is a Hugging Face checkpoint folder of a decoder (gpt2, llama, bloom, falcon; with tokenizer.json)
// or a run folder of `wnn train gpt` (its checkpoint and character tokenizer). What is written to --out:
//   lora                  adapter_config.json + adapter_model.safetensors (PEFT's folder; GPT-2 and LLaMA),
//                         and with --merge also merged/ — the base with ΔW folded in, a plain HF folder
//   the other methods     finetune.json (method, options) + finetune.safetensors (the trained tensors by name)
// Every file is computed before the first is written, and each is written atomically.

import { copyFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { CharTokenizer } from "../src/data/char.js";
import { getBatch } from "../src/data/batch.js";
import { ArgumentError, LoadError } from "../src/engine/errors.js";
import { Generator } from "../src/engine/rng.js";
import { Tensor } from "../src/engine/tensor.js";
import { readHFFolder, writeHFFolder } from "../src/io/hf-folder.js";
import { loadSafetensors, writeFileAtomic } from "../src/io/node.js";
import { planSafetensors } from "../src/io/safetensors.js";
import { AdamW } from "../src/optim/adam.js";
import { clipGradNorm } from "../src/optim/clip.js";
import type { Module } from "../src/nn/module.js";
import { GPT } from "../src/models/gpt2/model.js";
import { checkpointConfig } from "../src/models/gpt2/train.js";
import { fromPretrained, toHFFiles, DECODER_KINDS, type HFKind } from "../src/models/hf.js";
import {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  applyMethod,
  fromPeft,
  mergeAndUnloadLora,
  toPeft,
  METHODS,
  PrefixTuning,
  PromptTuning,
  type MethodOptions,
} from "../src/finetune/index.js";
import { tokenizerFromJSON } from "../src/data/tokenizer-json.js";
import { UsageError, helpText, parseOptions, type OptionSpecs } from "./args.js";
import { Progress, formatDuration, type Output } from "./progress.js";
import { checkRunDir, createRunDir, loadRunCheckpoint } from "./rundir.js";
import { checkTrainingMemory, givenNumbers, MAX_MEMORY_OPTION } from "./memory.js";
import { probeFirstStep } from "../src/recipes/memory-probe.js";
import { checkFinite } from "../src/io/finite.js";
import { readCheckedJson, readCheckedText } from "../src/io/checked-file-node.js";

export const FINETUNE_FILE = "finetune.json";
export const FINETUNE_WEIGHTS = "finetune.safetensors";

/** The language model being tuned: its forward, and how text becomes ids. */
interface Base {
  model: Module & { config: { blockSize: number } };
  encode(text: string): number[];
  /** the HF family (a folder) or null (a run of wnn train gpt) */
  kind: HFKind | null;
  /** the folder's config (for writing a merged copy) */
  hfConfig: unknown;
  dir: string;
}

/** A Hugging Face decoder folder or a `wnn train gpt` run folder. */
export function openBase(dir: string): Base {
  if (existsSync(join(dir, "config.json"))) {
    const folder = readHFFolder(dir);
    const pre = fromPretrained(folder);
    if (!DECODER_KINDS.includes(pre.kind))
      throw new UsageError(
        `finetune: ${dir} holds a ${pre.kind} model; wnn finetune tunes decoders (${DECODER_KINDS.join(", ")}) on a text file`,
      );
    if (folder.tokenizerJSON === undefined)
      throw new LoadError(`${dir}: no tokenizer.json; wnn finetune needs the folder's tokenizer to read the text`);
    const tok = tokenizerFromJSON(folder.tokenizerJSON);
    return {
      model: pre.model as Base["model"],
      encode: (t) => tok.encode(t),
      kind: pre.kind,
      hfConfig: pre.config,
      dir,
    };
  }
  // a base holding NaN or infinite weights is refused: nothing tunes back from NaN
  const {
    ckpt,
    checked: { model: config, config: meta },
  } = loadRunCheckpoint(dir, "finetune", checkpointConfig, { strict: true });
  const tok = CharTokenizer.fromJSON(meta.tokenizer);
  const model = new GPT(config);
  model.loadStateDict(ckpt.model);
  const known = new Set(tok.decode(Array.from({ length: config.vocabSize }, (_, i) => i)));
  // characters outside the run's vocabulary are dropped from the text
  return {
    model,
    encode: (t) => tok.encode([...t].filter((c) => known.has(c)).join("")),
    kind: null,
    hfConfig: null,
    dir,
  };
}

export const FINETUNE_OPTIONS = {
  model: {
    kind: "string",
    metavar: "DIR",
    help: "the base: a Hugging Face decoder folder (gpt2, llama, bloom, falcon; with tokenizer.json) or a run folder of wnn train gpt; required",
  },
  method: { kind: "string", choices: [...METHODS], default: "lora", help: "the fine-tuning method" },
  data: { kind: "string", metavar: "FILE", help: "the text to fine-tune on (UTF-8); required" },
  steps: { kind: "int", min: 1, max: 10_000_000, default: 200, help: "optimizer steps" },
  out: { kind: "string", metavar: "DIR", help: "where the adapter (or model) is written; required" },
  batch_size: { kind: "int", min: 1, max: 100_000_000, default: 8, help: "sequences per step" },
  max_memory: MAX_MEMORY_OPTION,
  block_size: {
    kind: "int",
    min: 2,
    max: 1_048_576,
    default: 64,
    help: "tokens per sequence (at most the model's context less the virtual tokens)",
  },
  lr: {
    kind: "number",
    min: 0,
    max: 1_000_000,
    exclusiveMin: true,
    default: 5e-3,
    help: "AdamW's learning rate (full fine-tuning wants ~1e-4…1e-3)",
  },
  r: { kind: "int", min: 1, max: 65_536, default: 8, help: "LoRA: the rank" },
  alpha: { kind: "number", min: 0, max: 1_000_000, exclusiveMin: true, default: 16, help: "LoRA: α of the scale α/r" },
  dropout: { kind: "number", min: 0, max: 1, default: 0, help: "LoRA: dropout on the low-rank branch's input" },
  target_modules: {
    kind: "string",
    default: "",
    help: "LoRA, IA3: the Linears to adapt, comma-separated, by our names (attn.wq, attn.wk, attn.wv, attn.wo, mlp.up, mlp.down, mlp.gate); default LoRA attn.wq,attn.wv, IA3 attn.wk,attn.wv,mlp.down",
  },
  modules_to_save: {
    kind: "string",
    default: "",
    help: "every method: whole modules that train beside it, comma-separated (PEFT's modules_to_save; e.g. tokEmb, the token embedding, tied to GPT-2's head)",
  },
  bottleneck: { kind: "int", min: 1, max: 65_536, default: 16, help: "adapter: the bottleneck width" },
  num_virtual_tokens: { kind: "int", min: 1, max: 65_536, default: 10, help: "prefix, prompt: the virtual tokens" },
  merge: {
    kind: "string",
    choices: ["true", "false"],
    default: "false",
    help: "LoRA on a Hugging Face folder: also write the merged model to OUT/merged/ as a plain HF folder",
  },
  seed: {
    kind: "int",
    min: 0,
    max: 2 ** 32 - 1,
    default: 0,
    help: "seed of the method's initial values and the batches",
  },
} as const satisfies OptionSpecs;

export const FINETUNE_HELP = helpText(
  "wnn finetune --model DIR --method METHOD --data FILE --steps N --out DIR [options]",
  "Fine-tune a language model on a text file (next-token prediction) with one method of src/finetune:\nfull, lora, adapter, adapter-pfeiffer, prefix, prompt, bitfit, ia3. LoRA is written as a PEFT folder\n(adapter_config.json + adapter_model.safetensors); the others as finetune.json + finetune.safetensors.\nGenerate with it: wnn sample --model DIR --adapter OUT (or --checkpoint RUN --adapter OUT).",
  FINETUNE_OPTIONS,
  "example: wnn finetune --model runs/quick --method lora --data notes.txt --steps 200 --out runs/quick-lora",
);

export function finetuneCommand(args: readonly string[], out: Output): number {
  const { values: v, given, help } = parseOptions("finetune", args, FINETUNE_OPTIONS);
  if (help) {
    out.write(FINETUNE_HELP);
    return 0;
  }
  if (v.model === undefined)
    throw new UsageError(
      "finetune: which model? give --model DIR (a Hugging Face decoder folder or a run of wnn train gpt)",
    );
  if (v.data === undefined) throw new UsageError("finetune: which text? give --data FILE");
  if (v.out === undefined) throw new UsageError("finetune: where to? give --out DIR");
  checkRunDir(v.out, "finetune"); // a new or empty folder: files this command did not write are never replaced
  const base = openBase(v.model);
  const text = readCheckedText(v.data);
  const ids = Int32Array.from(base.encode(text));
  const targets = v.target_modules
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const saved = v.modules_to_save
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const opts: MethodOptions = {
    ...(saved.length ? { modulesToSave: saved } : {}),
    r: v.r,
    alpha: v.alpha,
    dropout: v.dropout,
    targetModules: targets.length ? targets : undefined,
    bottleneck: v.bottleneck,
    numVirtualTokens: v.num_virtual_tokens,
  };
  const virtual = v.method === "prefix" || v.method === "prompt" ? v.num_virtual_tokens : 0;
  const T = Math.min(v.block_size, base.model.config.blockSize - virtual);
  if (T < 2)
    throw new UsageError(
      `finetune: no room for a sequence: the context ${base.model.config.blockSize} less ${virtual} virtual tokens`,
    );
  if (ids.length < T + 2)
    throw new UsageError(`finetune: ${v.data} holds ${ids.length} tokens; it needs more than the sequence length ${T}`);
  if (v.merge === "true" && (v.method !== "lora" || base.kind === null))
    throw new UsageError("finetune: --merge is for --method lora on a Hugging Face folder");

  const ft = applyMethod(v.method, base.model, { ...opts, generator: new Generator(v.seed) });
  const lm = ft.model as Module & { forward(idx: Tensor, targets?: Tensor | null): { loss: Tensor | null } };
  const params = ft.trainable.map(([, p]) => p);
  const total = params.reduce((n, p) => n + p.numel(), 0),
    all = ft.model.numParameters();
  out.write(
    `${v.method}: ${total.toLocaleString("en-US")} trainable parameters of ${all.toLocaleString("en-US")} (${((100 * total) / all).toFixed(2)}%), ${ids.length.toLocaleString("en-US")} tokens, sequences of ${T}\n`,
  );
  // the memory of a step at this batch, measured on the model itself at batches of 2 and 4 (no update: the
  // gradients are dropped, the generators left as they were), plus the weights held and AdamW's two moments
  lm.train();
  checkTrainingMemory(
    "finetune",
    givenNumbers(given, v),
    v.batch_size,
    v.max_memory,
    (b) =>
      probeFirstStep(() => {
        const { x, y } = getBatch(ids, T, b, new Generator(v.seed + 1));
        lm.forward(x, y).loss!.backward();
        for (const p of params) p.grad = null;
      }),
    4 * all + 8 * total,
  );
  const opt = new AdamW(params, { lr: v.lr, weightDecay: 0 });
  const batches = new Generator(v.seed + 1);
  const bar = new Progress({ total: v.steps, start: 0, out, every: Math.max(1, Math.floor(v.steps / 10)) });
  const t0 = performance.now();
  lm.train();
  for (let step = 1; step <= v.steps; step++) {
    const { x, y } = getBatch(ids, T, v.batch_size, batches);
    const loss = lm.forward(x, y).loss!;
    for (const p of params) p.grad = null;
    loss.backward();
    clipGradNorm(params, 1);
    opt.step();
    bar.update(step, [`loss ${loss.item().toFixed(4)}`]);
  }
  bar.line?.(`done in ${formatDuration((performance.now() - t0) / 1000)}`);
  lm.eval();
  writeResult(
    v.out,
    v.method,
    ft.model,
    ft.trainable.map(([n, p]) => [n, p] as [string, Tensor]),
    { ...opts, seed: v.seed },
    base,
    v.merge === "true",
  );
  out.write(`wrote ${v.out}\n`);
  return 0;
}

function writeResult(
  dir: string,
  method: string,
  model: Module,
  trainable: [string, Tensor][],
  opts: Record<string, unknown>,
  base: Base,
  merge: boolean,
): void {
  const json = (o: unknown): Uint8Array[] => [new TextEncoder().encode(JSON.stringify(o, null, 2) + "\n")];
  const files: [string, Uint8Array[]][] = [];
  if (method === "lora") {
    const peft = toPeft(model, { baseModelNameOrPath: base.dir });
    const plan = planSafetensors(peft.tensors, peft.metadata);
    files.push([ADAPTER_CONFIG_FILE, json(peft.config)], [ADAPTER_WEIGHTS_FILE, [plan.head, ...plan.chunks]]);
  } else {
    if (method === "prefix") (model as PrefixTuning).fold(); // keep P_θ only (Li & Liang §4.3)
    // prefix tuning keeps P_θ and the modules saved beside it (the base's, "base.<module>.<parameter>")
    const tensors =
      method === "prefix"
        ? {
            prefixKV: (model as PrefixTuning).prefixKV!,
            ...Object.fromEntries(trainable.filter(([n]) => n.startsWith("base."))),
          }
        : Object.fromEntries(trainable);
    const plan = planSafetensors(tensors, { format: "pt" });
    files.push(
      [FINETUNE_FILE, json({ method, options: opts, folded: method === "prefix" })],
      [FINETUNE_WEIGHTS, [plan.head, ...plan.chunks]],
    );
  }
  createRunDir(dir, "finetune");
  for (const [name, chunks] of files) writeFileAtomic(join(dir, name), chunks);
  if (merge && base.kind) {
    mergeAndUnloadLora(model);
    writeHFFolder(join(dir, "merged"), toHFFiles(base.kind, model, base.hfConfig));
    if (existsSync(join(base.dir, "tokenizer.json")))
      copyFileSync(join(base.dir, "tokenizer.json"), join(dir, "merged", "tokenizer.json"));
  }
}

/** What sampling needs of a tuned model: the wrapper's generate for prefix/prompt tuning, else null (tuned in place). */
export type TunedGenerator = { generate(idx: Tensor, maxNewTokens: number, opts: object): Tensor } | null;

/** Apply the adapter folder written by `wnn finetune` (or a PEFT LoRA folder) to `model`. */
export function loadAdapter(model: Module, dir: string): TunedGenerator {
  if (existsSync(join(dir, ADAPTER_CONFIG_FILE))) {
    const config = readCheckedJson(join(dir, ADAPTER_CONFIG_FILE)) as Record<string, unknown>;
    const st = loadSafetensors(join(dir, ADAPTER_WEIGHTS_FILE));
    checkFinite(join(dir, ADAPTER_WEIGHTS_FILE), st.tensors, { strict: true }); // NaN weights would make every output NaN
    fromPeft(model, { config, tensors: st.tensors, metadata: st.metadata });
    return null;
  }
  if (!existsSync(join(dir, FINETUNE_FILE)))
    throw new LoadError(`${dir}: neither ${ADAPTER_CONFIG_FILE} (PEFT LoRA) nor ${FINETUNE_FILE} (wnn finetune)`);
  const meta = readCheckedJson(join(dir, FINETUNE_FILE)) as {
    method: string;
    options: MethodOptions & { seed?: number };
    folded?: boolean;
  };
  const st = loadSafetensors(join(dir, FINETUNE_WEIGHTS));
  checkFinite(join(dir, FINETUNE_WEIGHTS), st.tensors, { strict: true });
  const ft = applyMethod(meta.method, model, { ...meta.options, generator: new Generator(meta.options.seed ?? 0) });
  if (meta.folded) (ft.model as PrefixTuning).fold();
  const own = new Map(ft.model.namedParameters());
  for (const [name, t] of Object.entries(st.tensors)) {
    const p = own.get(name);
    if (!p)
      throw new LoadError(
        `${dir}: ${name} is not a parameter of the ${meta.method}-tuned ${model.constructor.name}; is the adapter for another model?`,
      );
    if (p.shape.join(",") !== t.shape.join(","))
      throw new LoadError(`${dir}: ${name} has shape (${t.shape.join(", ")}), the model's is (${p.shape.join(", ")})`);
  }
  for (const [name, t] of Object.entries(st.tensors)) own.get(name)!.storage.set(t.storage);
  if (ft.model instanceof PrefixTuning || ft.model instanceof PromptTuning) return ft.model;
  if (ft.model !== model)
    throw new ArgumentError(`${dir}: the ${meta.method} adapter wraps the model; it cannot be sampled in place`);
  return null;
}
