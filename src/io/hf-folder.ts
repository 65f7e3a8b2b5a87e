// Hugging Face checkpoint folders (Node only: the file system). The layout `save_pretrained` writes:
//
//   <dir>/config.json                          the model's settings (required)
//   <dir>/model.safetensors                    all tensors in one file, or
//   <dir>/model.safetensors.index.json         { "metadata": { "total_size": N },
//                                                "weight_map": { "<tensor>": "model-00001-of-00002.safetensors", ... } }
//   <dir>/model-0000k-of-0000n.safetensors     the shards the index names
//   <dir>/tokenizer.json                       the tokenizer (optional; src/data/tokenizer-json.ts reads it)
//   <dir>/tokenizer_config.json                the tokenizer's settings, e.g. its mask token (optional)
//
// Pickle files (pytorch_model.bin, *.pt, *.ckpt, ...) are refused and never opened: unpickling runs code
// the file chooses. Every problem is a LoadError naming the folder and the file. What the tensors mean
// (which model, which names) is src/models/hf.ts's business: this file only moves bytes.

import { existsSync, mkdirSync, readdirSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { ArgumentError, LoadError } from "../engine/errors.js";
import type { Tensor } from "../engine/tensor.js";
import { DEFAULT_MAX_JSON_BYTES, readCheckedText } from "./checked-file-node.js";
import { isJsonObject, parseStrictJson, type Json, type JsonObject } from "./json.js";
import { openSafetensors, writeFileAtomic } from "./node.js";
import { planSafetensors, setOwn } from "./safetensors.js";

export const CONFIG_FILE = "config.json";
export const WEIGHTS_FILE = "model.safetensors";
export const INDEX_FILE = "model.safetensors.index.json";
export const TOKENIZER_FILE = "tokenizer.json";
export const TOKENIZER_CONFIG_FILE = "tokenizer_config.json";

/** File names that hold Python pickles: never opened; ignored beside safetensors, refused alone. */
const PICKLE = /\.(bin|pt|pth|ckpt|pkl|pickle)$/i;

export interface HFFolder {
  /** config.json, parsed */
  config: JsonObject;
  /** every tensor of model.safetensors or of the shards, by its checkpoint name */
  tensors: Record<string, Tensor>;
  /** tokenizer.json's text, when the folder has one */
  tokenizerJSON?: string;
  /** tokenizer_config.json, parsed, when the folder has one */
  tokenizerConfig?: JsonObject;
}

// ---------------------------------------------------------------------------------------------------
// Reading

/** Read a Hugging Face checkpoint folder: config.json, the safetensors weights (single or sharded), the tokenizer. */
export function readHFFolder(dir: string): HFFolder {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory())
      throw new LoadError(
        `${dir}: not a folder (expected a Hugging Face checkpoint folder with config.json and model.safetensors)`,
      );
    names = readdirSync(dir);
  } catch (e) {
    if (e instanceof LoadError) throw e;
    if ((e as { code?: string }).code === "ENOENT") {
      throw new LoadError(
        `${dir}: no such folder. --model reads a Hugging Face checkpoint folder that is already on this machine (config.json, model.safetensors, tokenizer.json); nothing here downloads one — on a machine with internet access, \`huggingface-cli download gpt2 --local-dir ./gpt2\` fetches one (README, "Real checkpoints")`,
      );
    }
    throw new LoadError(`${dir}: cannot read the folder: ${(e as Error).message}`);
  }
  // Pickles are never opened: beside safetensors they are ignored (Hugging Face folders often ship both);
  // alone they are refused, because a pickle can run arbitrary code when it is loaded.
  const pickles = names.filter((n) => PICKLE.test(n)).sort();
  const hasSafetensors = names.includes(WEIGHTS_FILE) || names.includes(INDEX_FILE);
  if (pickles.length && !hasSafetensors) {
    throw new LoadError(
      `${dir}: holds only pickle weights (${pickles.join(", ")}); a pickle can run arbitrary code when it is loaded, ` +
        `so writtingNNs never reads one. The folder needs its weights as safetensors (${WEIGHTS_FILE}, or shards with ${INDEX_FILE}): ` +
        `convert them with safetensors' own tools in Python`,
    );
  }

  if (!names.includes(CONFIG_FILE))
    throw new LoadError(
      `${dir}: no ${CONFIG_FILE}; a Hugging Face checkpoint folder needs one (it says which model the weights are for)`,
    );
  const config = readJsonObject(join(dir, CONFIG_FILE));

  const single = names.includes(WEIGHTS_FILE),
    sharded = names.includes(INDEX_FILE);
  if (single && sharded)
    throw new LoadError(
      `${dir}: has both ${WEIGHTS_FILE} and ${INDEX_FILE}; which weights are meant is ambiguous, remove one`,
    );
  if (!single && !sharded)
    throw new LoadError(`${dir}: no weights: expected ${WEIGHTS_FILE} or ${INDEX_FILE} with its shards`);
  const tensors = single ? readSingle(join(dir, WEIGHTS_FILE)) : readSharded(dir, names);

  const out: HFFolder = { config, tensors };
  if (names.includes(TOKENIZER_FILE)) out.tokenizerJSON = readText(join(dir, TOKENIZER_FILE));
  if (names.includes(TOKENIZER_CONFIG_FILE)) out.tokenizerConfig = readJsonObject(join(dir, TOKENIZER_CONFIG_FILE));
  return out;
}

/** A JSON file of the folder: a regular file (never a FIFO or folder) of at most DEFAULT_MAX_JSON_BYTES. */
function readText(path: string): string {
  return readCheckedText(path, { maxBytes: DEFAULT_MAX_JSON_BYTES });
}

function readJsonObject(path: string): JsonObject {
  const json = parseStrictJson(readText(path), path);
  if (!isJsonObject(json)) throw new LoadError(`${path}: expected a JSON object at the top level`);
  return json;
}

function readSingle(path: string): Record<string, Tensor> {
  const reader = openSafetensors(path);
  try {
    const out: Record<string, Tensor> = {};
    for (const e of reader.entries) setOwn(out, e.name, reader.read(e.name));
    return out;
  } finally {
    reader.close();
  }
}

/** A shard name from an index: a plain file name in the folder, never a path. */
function checkShardName(index: string, tensor: string, shard: Json | undefined): string {
  if (typeof shard !== "string")
    throw new LoadError(
      `${index}: weight_map[${JSON.stringify(tensor)}] must be a file name (a string), got ${JSON.stringify(shard)}`,
    );
  if (shard === "" || shard === "." || shard === ".." || /[/\\\0]/.test(shard) || /^[A-Za-z]:/.test(shard)) {
    throw new LoadError(
      `${index}: weight_map[${JSON.stringify(tensor)}] names the shard ${JSON.stringify(shard)}, which is not a plain file name in the folder (no paths or "..")`,
    );
  }
  if (!shard.endsWith(".safetensors"))
    throw new LoadError(
      `${index}: weight_map[${JSON.stringify(tensor)}] names the shard ${JSON.stringify(shard)}, which is not a .safetensors file`,
    );
  return shard;
}

function readSharded(dir: string, names: readonly string[]): Record<string, Tensor> {
  const indexPath = join(dir, INDEX_FILE);
  const index = readJsonObject(indexPath); // strict: a tensor named twice in weight_map is an error here
  for (const key of Object.keys(index)) {
    if (key !== "metadata" && key !== "weight_map")
      throw new LoadError(`${indexPath}: unknown field ${JSON.stringify(key)} (expected "metadata" and "weight_map")`);
  }
  if (index.metadata !== undefined && !isJsonObject(index.metadata))
    throw new LoadError(`${indexPath}: "metadata" must be an object`);
  const map = index.weight_map;
  if (!isJsonObject(map))
    throw new LoadError(`${indexPath}: "weight_map" must be an object of tensor name → shard file`);
  const byShard = new Map<string, string[]>();
  for (const tensor of Object.keys(map)) {
    const shard = checkShardName(indexPath, tensor, map[tensor]);
    if (!byShard.has(shard)) byShard.set(shard, []);
    byShard.get(shard)!.push(tensor);
  }
  if (byShard.size === 0) throw new LoadError(`${indexPath}: "weight_map" is empty`);
  for (const shard of byShard.keys()) {
    if (!names.includes(shard))
      throw new LoadError(`${indexPath}: names the shard ${JSON.stringify(shard)}, which is not in ${dir}`);
  }

  const out: Record<string, Tensor> = {};
  for (const [shard, listed] of byShard) {
    const path = join(dir, shard);
    const reader = openSafetensors(path);
    try {
      const listedHere = new Set(listed);
      for (const e of reader.entries) {
        if (listedHere.has(e.name)) continue;
        const where = Object.prototype.hasOwnProperty.call(map, e.name)
          ? `the index puts it in ${JSON.stringify(map[e.name])}`
          : "the index does not list it";
        throw new LoadError(`${path}: holds tensor ${JSON.stringify(e.name)}, but ${where}`);
      }
      for (const name of listed) {
        if (!reader.has(name))
          throw new LoadError(
            `${indexPath}: tensor ${JSON.stringify(name)} should be in ${shard}, which does not hold it`,
          );
        setOwn(out, name, reader.read(name));
      }
    } finally {
      reader.close();
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Writing

export interface HFFiles {
  /** config.json's object (Hugging Face field names) */
  config: object;
  /** the tensors by checkpoint name */
  tensors: Record<string, Tensor>;
  /** tokenizer.json's text, or an object to write as JSON */
  tokenizerJSON?: string | object;
}

export interface WriteHFOptions {
  /** split the weights into shards of at most this many bytes of tensor data (a tensor larger than it gets a shard of its own); default: one file */
  maxShardBytes?: number;
}

/**
 * Write a Hugging Face checkpoint folder: config.json, model.safetensors (or shards and the index when the
 * tensors exceed maxShardBytes), tokenizer.json if given. Each file is written atomically; weight files of
 * the other layout left by an earlier save are removed, so the folder always has exactly one.
 */
export function writeHFFolder(dir: string, files: HFFiles, opts: WriteHFOptions = {}): void {
  const max = opts.maxShardBytes ?? Infinity;
  if (!(max > 0)) throw new ArgumentError(`writeHFFolder: maxShardBytes must be > 0, got ${max}`);
  mkdirSync(dir, { recursive: true });
  const names = Object.keys(files.tensors);
  const bytesOf = (name: string): number => files.tensors[name]!.storage.byteLength;

  // greedy shards in the tensors' order, as save_pretrained cuts them
  const shards: string[][] = [];
  let size = Infinity;
  for (const name of names) {
    if (size + bytesOf(name) > max || shards.length === 0) {
      shards.push([]);
      size = 0;
    }
    shards[shards.length - 1]!.push(name);
    size += bytesOf(name);
  }

  const written = new Set<string>([CONFIG_FILE]);
  writeFileAtomic(join(dir, CONFIG_FILE), [new TextEncoder().encode(JSON.stringify(files.config, null, 2) + "\n")]);
  if (shards.length <= 1) {
    const plan = planSafetensors(files.tensors, { format: "pt" });
    writeFileAtomic(join(dir, WEIGHTS_FILE), [plan.head, ...plan.chunks]);
    written.add(WEIGHTS_FILE);
  } else {
    const n = shards.length,
      pad = (k: number): string => String(k).padStart(5, "0");
    const weightMap: Record<string, string> = {};
    shards.forEach((part, k) => {
      const file = `model-${pad(k + 1)}-of-${pad(n)}.safetensors`;
      const plan = planSafetensors(Object.fromEntries(part.map((name) => [name, files.tensors[name]!])), {
        format: "pt",
      });
      writeFileAtomic(join(dir, file), [plan.head, ...plan.chunks]);
      written.add(file);
      for (const name of part) weightMap[name] = file;
    });
    const totalSize = names.reduce((s, name) => s + bytesOf(name), 0);
    const index = { metadata: { total_size: totalSize }, weight_map: weightMap };
    writeFileAtomic(join(dir, INDEX_FILE), [new TextEncoder().encode(JSON.stringify(index, null, 2) + "\n")]);
    written.add(INDEX_FILE);
  }
  if (files.tokenizerJSON !== undefined) {
    const text =
      typeof files.tokenizerJSON === "string"
        ? files.tokenizerJSON
        : JSON.stringify(files.tokenizerJSON, null, 2) + "\n";
    writeFileAtomic(join(dir, TOKENIZER_FILE), [new TextEncoder().encode(text)]);
    written.add(TOKENIZER_FILE);
  }
  // the other layout's weights from an earlier save in the same folder
  for (const name of readdirSync(dir)) {
    const weights = name === WEIGHTS_FILE || name === INDEX_FILE || /^model-\d+-of-\d+\.safetensors$/.test(name);
    if (weights && !written.has(name) && existsSync(join(dir, name))) unlinkSync(join(dir, name));
  }
}
