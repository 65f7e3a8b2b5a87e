// Training checkpoints: one safetensors file that holds everything needed to resume a run exactly.
//
//   tensors        model.<name>   the model's stateDict
//                  optim.<name>   the optimizer's tensor state (moments, momentum buffers, ...)
//   __metadata__   format         "writtingnns.checkpoint"
//                  checkpoint     a JSON document: { version, step, dataPosition, config, rng,
//                                 optimizer (its scalar state), scheduler, extra }
//                  crc32          CRC-32 of the document, of every tensor's name, dtype, shape and
//                                 offsets, and of the data: a flipped bit anywhere is a LoadError, never
//                                 a silently different model.
//
// The interface is plain records of tensors and JSON, so Module.stateDict() and Optimizer.stateDict()
// plug in without this file knowing those classes. Files live in src/io/node.ts (saveCheckpoint,
// loadCheckpoint, written atomically); these functions work on bytes.

import { ArgumentError, LoadError } from "../engine/errors.js";
import type { GeneratorState } from "../engine/rng.js";
import type { Tensor } from "../engine/tensor.js";
import { crc32 } from "./checksum.js";
import type { Json } from "./json.js";
import {
  joinPlan,
  parseSafetensors,
  planSafetensors,
  setOwn,
  storageBytes,
  type SafetensorsEntry,
  type SafetensorsPlan,
} from "./safetensors.js";

export const CHECKPOINT_FORMAT = "writtingnns.checkpoint";
export const CHECKPOINT_VERSION = 1;

/** What a checkpoint holds. JSON fields take any JSON-representable value (finite numbers only). */
export interface Checkpoint {
  /** The model's stateDict. */
  model: Record<string, Tensor>;
  /** The optimizer's tensor state and its scalar state (hyperparameters, step counts, ...). */
  optimizer?: { tensors: Record<string, Tensor>; json: unknown };
  /** The learning-rate scheduler's state. */
  scheduler?: unknown;
  /** The random generator's state (Generator.getState()). */
  rng?: GeneratorState;
  /** The number of optimizer steps taken. */
  step: number;
  /** Where the data loader is (an offset, or an object such as { epoch, index }). */
  dataPosition?: unknown;
  /** The run's configuration (model and training). */
  config?: unknown;
  /** Anything else the caller wants back (the best validation loss, the run's name, ...). */
  extra?: unknown;
}

/** A loaded checkpoint: the same fields, with JSON values as parsed. */
export interface LoadedCheckpoint extends Checkpoint {
  optimizer?: { tensors: Record<string, Tensor>; json: Json };
  scheduler?: Json;
  dataPosition?: Json;
  config?: Json;
  extra?: Json;
}

/** The document kept in __metadata__.checkpoint. */
interface CheckpointDoc {
  version: number;
  step: number;
  rng?: GeneratorState;
  optimizer?: unknown;
  scheduler?: unknown;
  dataPosition?: unknown;
  config?: unknown;
  extra?: unknown;
}

const JSON_FIELDS = ["scheduler", "dataPosition", "config", "extra"] as const;

// ---------------------------------------------------------------------------------------------------
// Writing

/** Lay out a checkpoint's file (see planSafetensors); src/io/node.ts writes the chunks to disk. */
export function planCheckpoint(ckpt: Checkpoint): SafetensorsPlan {
  if (typeof ckpt !== "object" || ckpt === null)
    throw new ArgumentError("saveCheckpoint: expected a checkpoint object");
  if (!Number.isSafeInteger(ckpt.step) || ckpt.step < 0)
    throw new ArgumentError(`saveCheckpoint: step must be a non-negative integer, got ${String(ckpt.step)}`);
  if (typeof ckpt.model !== "object" || ckpt.model === null)
    throw new ArgumentError("saveCheckpoint: model must be a record of tensors (a stateDict)");
  const tensors: Record<string, Tensor> = {};
  for (const name of Object.keys(ckpt.model)) setOwn(tensors, `model.${name}`, ckpt.model[name]!);
  const doc: CheckpointDoc = { version: CHECKPOINT_VERSION, step: ckpt.step };
  if (ckpt.optimizer !== undefined) {
    const { tensors: optTensors, json } = ckpt.optimizer;
    if (typeof optTensors !== "object" || optTensors === null)
      throw new ArgumentError("saveCheckpoint: optimizer.tensors must be a record of tensors");
    for (const name of Object.keys(optTensors)) setOwn(tensors, `optim.${name}`, optTensors[name]!);
    checkJson(json ?? null, "optimizer.json");
    doc.optimizer = json ?? null;
  }
  if (ckpt.rng !== undefined) {
    if (!isGeneratorState(ckpt.rng))
      throw new ArgumentError(
        "saveCheckpoint: rng must be a Generator state { s: [4 uint32, not all 0], spare: number | null }",
      );
    doc.rng = { s: [...ckpt.rng.s], spare: ckpt.rng.spare };
  }
  for (const field of JSON_FIELDS) {
    if (ckpt[field] === undefined) continue;
    checkJson(ckpt[field], field);
    doc[field] = ckpt[field];
  }
  const docText = JSON.stringify(doc);
  const layout = planSafetensors(tensors); // the offsets do not depend on the metadata
  const crc = checkpointCrc(docText, layout.entries, layout.chunks);
  return planSafetensors(tensors, { format: CHECKPOINT_FORMAT, checkpoint: docText, crc32: hex32(crc) });
}

/** The bytes of a checkpoint file. */
export function serializeCheckpoint(ckpt: Checkpoint): Uint8Array {
  return joinPlan(planCheckpoint(ckpt));
}

/** Values JSON keeps exactly: null, booleans, finite numbers, strings, arrays and plain objects of them. */
function checkJson(v: unknown, path: string, depth = 0): void {
  if (depth > 48) throw new ArgumentError(`saveCheckpoint: ${path} is nested too deeply`);
  if (v === null || typeof v === "boolean" || typeof v === "string") return;
  if (typeof v === "number") {
    if (!Number.isFinite(v))
      throw new ArgumentError(`saveCheckpoint: ${path} is ${v}, which JSON cannot hold; store it as a string or null`);
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((x, i) => checkJson(x, `${path}[${i}]`, depth + 1));
    return;
  }
  if (typeof v === "object" && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
    for (const [k, x] of Object.entries(v)) if (x !== undefined) checkJson(x, `${path}.${k}`, depth + 1);
    return;
  }
  const what = typeof v === "object" ? ((v as object).constructor?.name ?? "object") : typeof v;
  throw new ArgumentError(
    `saveCheckpoint: ${path} is a ${what}, which JSON cannot hold (tensors go in model or optimizer.tensors)`,
  );
}

// ---------------------------------------------------------------------------------------------------
// Reading

/** Read a checkpoint from the bytes of its file; any problem is a LoadError. */
export function parseCheckpoint(bytes: Uint8Array): LoadedCheckpoint {
  const { tensors, metadata } = parseSafetensors(bytes, { allowedDtypes: ["F32", "F64", "I32", "BOOL"] });
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new LoadError(
      `checkpoint: not a writtingnns checkpoint (metadata format is ${JSON.stringify(metadata.format ?? null)}, expected ${JSON.stringify(CHECKPOINT_FORMAT)})`,
    );
  }
  const docText = metadata.checkpoint,
    crcText = metadata.crc32;
  if (docText === undefined) throw new LoadError("checkpoint: the metadata has no checkpoint document");
  if (crcText === undefined || !/^[0-9a-f]{8}$/.test(crcText))
    throw new LoadError("checkpoint: the metadata has no valid crc32");

  let doc: unknown;
  try {
    doc = JSON.parse(docText);
  } catch {
    throw new LoadError("checkpoint: the checkpoint document is not valid JSON");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw new LoadError("checkpoint: the checkpoint document is not a JSON object");
  const d = doc as Record<string, Json>;
  if (d.version !== CHECKPOINT_VERSION)
    throw new LoadError(
      `checkpoint: format version ${JSON.stringify(d.version ?? null)} is not supported (this library reads version ${CHECKPOINT_VERSION})`,
    );
  if (typeof d.step !== "number" || !Number.isSafeInteger(d.step) || d.step < 0)
    throw new LoadError("checkpoint: step is missing or not a non-negative integer");
  if ("rng" in d && !isGeneratorState(d.rng))
    throw new LoadError("checkpoint: rng is not a Generator state { s: [4 uint32, not all 0], spare: number | null }");

  const out: LoadedCheckpoint = { model: {}, step: d.step };
  const optTensors: Record<string, Tensor> = {};
  for (const name of Object.keys(tensors)) {
    if (name.startsWith("model.")) setOwn(out.model, name.slice(6), tensors[name]!);
    else if (name.startsWith("optim.")) setOwn(optTensors, name.slice(6), tensors[name]!);
    else throw new LoadError(`checkpoint: tensor ${JSON.stringify(name)} is neither model.* nor optim.*`);
  }
  if (!("optimizer" in d) && Object.keys(optTensors).length > 0)
    throw new LoadError("checkpoint: optimizer tensors without the optimizer's state");

  // Last, the checksum over what the file says (entries in data order): a bit flipped anywhere fails here.
  const entries = planSafetensors(tensors).entries;
  const chunks = entries.map((e) => storageBytes(tensors[e.name]!.storage));
  const crc = checkpointCrc(docText, entries, chunks);
  if (hex32(crc) !== crcText)
    throw new LoadError(
      `checkpoint: checksum mismatch (the file says ${crcText}, its contents give ${hex32(crc)}): the file is corrupted`,
    );

  if ("optimizer" in d) out.optimizer = { tensors: optTensors, json: d.optimizer! };
  if ("rng" in d) {
    const rng = d.rng as unknown as GeneratorState;
    out.rng = { s: [...rng.s], spare: rng.spare };
  }
  for (const field of JSON_FIELDS) if (field in d) out[field] = d[field]!;
  return out;
}

// ---------------------------------------------------------------------------------------------------

/** A generator state as Generator.setState takes it: { s: [4 uint32, not all 0], spare: number | null }. */
export function isGeneratorState(v: unknown): v is GeneratorState {
  if (typeof v !== "object" || v === null) return false;
  const { s, spare } = v as { s?: unknown; spare?: unknown };
  return (
    Array.isArray(s) &&
    s.length === 4 &&
    s.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32) &&
    s.some((w) => w !== 0) && // all zeros is xoshiro's fixed point: every draw 0, a normal deviate never found
    (spare === null || (typeof spare === "number" && Number.isFinite(spare)))
  );
}

/** CRC-32 of the document, then each entry's "name dtype shape begin end" line, then the data. */
function checkpointCrc(docText: string, entries: SafetensorsEntry[], chunks: Uint8Array[]): number {
  const enc = new TextEncoder();
  let crc = crc32(enc.encode(docText));
  for (const e of entries)
    crc = crc32(enc.encode(`\n${JSON.stringify(e.name)} ${e.dtype} [${e.shape.join(",")}] ${e.begin} ${e.end}`), crc);
  for (const c of chunks) crc = crc32(c, crc);
  return crc;
}

function hex32(x: number): string {
  return (x >>> 0).toString(16).padStart(8, "0");
}
