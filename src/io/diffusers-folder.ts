// A diffusers pipeline folder (Node only: the file system), the layout `StableDiffusionPipeline.save_pretrained`
// writes:
//
//   <dir>/unet/config.json, unet/diffusion_pytorch_model.safetensors
//   <dir>/vae/config.json, vae/diffusion_pytorch_model.safetensors
//   <dir>/text_encoder/config.json, text_encoder/model.safetensors
//   <dir>/tokenizer/vocab.json, tokenizer/merges.txt          (CLIP's byte-level BPE)
//   <dir>/scheduler/scheduler_config.json
//
// Safetensors only: a component whose weights are only pickles (diffusion_pytorch_model.bin, pytorch_model.bin)
// is refused and never opened. Every problem is a LoadError naming the folder and the file. What the tensors
// mean is src/models/latent-diffusion/diffusers.ts's business: this file only moves bytes.

import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { DEFAULT_MAX_JSON_BYTES, readCheckedText } from "./checked-file-node.js";
import { join } from "node:path";
import { LoadError } from "../engine/errors.js";
import type { Tensor } from "../engine/tensor.js";
import { isJsonObject, parseStrictJson, type JsonObject } from "./json.js";
import { openSafetensors, saveSafetensors, writeFileAtomic } from "./node.js";
import { setOwn } from "./safetensors.js";

export interface DiffusersComponent {
  config: JsonObject;
  tensors: Record<string, Tensor>;
}

export interface DiffusersFolder {
  unet: DiffusersComponent;
  vae: DiffusersComponent;
  textEncoder: DiffusersComponent;
  /** tokenizer/vocab.json (parsed) and merges.txt (text) */
  tokenizer: { vocab: JsonObject; merges: string };
  /** scheduler/scheduler_config.json */
  scheduler: JsonObject;
}

const WEIGHTS: Record<"unet" | "vae" | "text_encoder", string> = {
  unet: "diffusion_pytorch_model.safetensors",
  vae: "diffusion_pytorch_model.safetensors",
  text_encoder: "model.safetensors",
};
const PICKLE = /\.(bin|pt|pth|ckpt|pkl|pickle)$/i;

function listDir(dir: string, what: string): string[] {
  try {
    if (!statSync(dir).isDirectory()) throw new LoadError(`${dir}: not a folder (${what})`);
    return readdirSync(dir);
  } catch (e) {
    if (e instanceof LoadError) throw e;
    throw new LoadError(`${dir}: missing or unreadable (${what}): ${(e as Error).message}`);
  }
}

function readText(path: string): string {
  return readCheckedText(path, { maxBytes: DEFAULT_MAX_JSON_BYTES }); // a regular file within the cap: a FIFO or a folder is refused, not waited on
}

function readJson(path: string): JsonObject {
  const json = parseStrictJson(readText(path), path);
  if (!isJsonObject(json)) throw new LoadError(`${path}: expected a JSON object at the top level`);
  return json;
}

function readComponent(dir: string, name: "unet" | "vae" | "text_encoder"): DiffusersComponent {
  const sub = join(dir, name);
  const names = listDir(sub, `the pipeline's ${name} component`);
  const weights = WEIGHTS[name];
  if (!names.includes(weights)) {
    const pickles = names.filter((n) => PICKLE.test(n));
    if (pickles.length)
      throw new LoadError(
        `${sub}: holds only pickle weights (${pickles.join(", ")}); a pickle can run arbitrary code when it is loaded, so writtingNNs never reads one: convert it to ${weights}`,
      );
    throw new LoadError(`${sub}: no ${weights}`);
  }
  if (!names.includes("config.json")) throw new LoadError(`${sub}: no config.json`);
  const reader = openSafetensors(join(sub, weights));
  try {
    const tensors: Record<string, Tensor> = {};
    for (const e of reader.entries) setOwn(tensors, e.name, reader.read(e.name));
    return { config: readJson(join(sub, "config.json")), tensors };
  } finally {
    reader.close();
  }
}

/** Read a diffusers Stable Diffusion folder: the three networks' configs and tensors, the tokenizer's files, the scheduler's config. */
export function readDiffusersFolder(dir: string): DiffusersFolder {
  listDir(dir, "a diffusers pipeline folder");
  const tok = join(dir, "tokenizer");
  const tokNames = listDir(tok, "the pipeline's tokenizer");
  for (const f of ["vocab.json", "merges.txt"])
    if (!tokNames.includes(f))
      throw new LoadError(`${tok}: no ${f} (CLIP's tokenizer needs vocab.json and merges.txt)`);
  const schedulerFile = join(dir, "scheduler", "scheduler_config.json");
  if (!existsSync(schedulerFile)) throw new LoadError(`${dir}: no scheduler/scheduler_config.json`);
  return {
    unet: readComponent(dir, "unet"),
    vae: readComponent(dir, "vae"),
    textEncoder: readComponent(dir, "text_encoder"),
    tokenizer: { vocab: readJson(join(tok, "vocab.json")), merges: readText(join(tok, "merges.txt")) },
    scheduler: readJson(schedulerFile),
  };
}

/** Write a diffusers Stable Diffusion folder (the layout readDiffusersFolder reads). */
export function writeDiffusersFolder(
  dir: string,
  f: {
    unet: { config: object; tensors: Record<string, Tensor> };
    vae: { config: object; tensors: Record<string, Tensor> };
    textEncoder: { config: object; tensors: Record<string, Tensor> };
    tokenizer: { vocab: object; merges: string };
    scheduler: object;
  },
): void {
  const json = (o: object): Uint8Array[] => [new TextEncoder().encode(JSON.stringify(o, null, 2) + "\n")];
  for (const [name, c] of [
    ["unet", f.unet],
    ["vae", f.vae],
    ["text_encoder", f.textEncoder],
  ] as const) {
    mkdirSync(join(dir, name), { recursive: true });
    writeFileAtomic(join(dir, name, "config.json"), json(c.config));
    saveSafetensors(join(dir, name, WEIGHTS[name]), c.tensors);
  }
  mkdirSync(join(dir, "tokenizer"), { recursive: true });
  writeFileAtomic(join(dir, "tokenizer", "vocab.json"), json(f.tokenizer.vocab));
  writeFileAtomic(join(dir, "tokenizer", "merges.txt"), [new TextEncoder().encode(f.tokenizer.merges)]);
  mkdirSync(join(dir, "scheduler"), { recursive: true });
  writeFileAtomic(join(dir, "scheduler", "scheduler_config.json"), json(f.scheduler));
  writeFileAtomic(join(dir, "model_index.json"), json({ _class_name: "StableDiffusionPipeline" }));
}
