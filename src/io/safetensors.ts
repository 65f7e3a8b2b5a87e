// safetensors (https://github.com/huggingface/safetensors): the format of Hugging Face checkpoints and
// of ours. Pure functions over bytes, so they run in browsers too; src/io/node.ts adds files.
//
//   bytes 0..8        N, the header's length, an unsigned 64-bit little-endian integer
//   bytes 8..8+N      UTF-8 JSON: { "<name>": { "dtype": "F32", "shape": [2, 3], "data_offsets": [b, e] },
//                     ..., "__metadata__": { "<key>": "<string>" } (optional) }, padded with spaces
//   bytes 8+N..       the data: tensor <name> is bytes [8+N+b, 8+N+e), row-major, little-endian
//
// The tensors' byte ranges cover the data section exactly: no gaps, no overlaps, nothing after the
// last one. A file is untrusted input: parseSafetensors checks every number of the header before it
// allocates anything that depends on it, and every problem is a LoadError saying what is wrong.

import { allocate, type DType, type TypedArray } from "../engine/dtype.js";
import { ArgumentError, LoadError } from "../engine/errors.js";
import { fmt } from "../engine/shape.js";
import { Tensor } from "../engine/tensor.js";
import { isJsonObject, parseStrictJson, type Json } from "./json.js";

/** The largest header we read (the same limit as the reference implementation's). */
export const MAX_HEADER_BYTES = 100_000_000;

/** The file dtypes we read, their item size and the dtype of the tensor they load into. */
const READABLE = {
  F64: { size: 8, to: "float64" },
  F32: { size: 4, to: "float32" },
  F16: { size: 2, to: "float32" }, // widened: every half value is exactly a float32
  BF16: { size: 2, to: "float32" }, // widened: bfloat16 is the top half of a float32
  I64: { size: 8, to: "int32" }, // narrowed when every value fits, a LoadError otherwise
  I32: { size: 4, to: "int32" },
  I16: { size: 2, to: "int32" },
  U16: { size: 2, to: "int32" },
  I8: { size: 1, to: "int32" },
  U8: { size: 1, to: "int32" },
  BOOL: { size: 1, to: "bool" },
} as const satisfies Record<string, { size: number; to: DType }>;

export type SafetensorsDType = keyof typeof READABLE;

/** Dtypes the format defines that we do not read yet. */
const UNSUPPORTED = ["U32", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64"];

/** How each of our dtypes is written. */
const WRITTEN: Record<DType, SafetensorsDType> = { float64: "F64", float32: "F32", int32: "I32", bool: "BOOL" };

/** One tensor's description in the header; begin and end are relative to the data section. */
export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** The entries in the order of their data. */
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** Where the data section starts in the file: 8 + N. */
  dataStart: number;
}

/**
 * The most tensors one file may describe. The largest released checkpoints hold a few thousand per
 * file; a header of a million zero-size entries (59 MB) would otherwise take seconds and gigabytes
 * before any other check fails. Raise it with ParseOptions.maxTensors.
 */
export const DEFAULT_MAX_TENSORS = 100_000;

/** The longest tensor name accepted, in characters (real names are under 200). */
export const MAX_NAME_LENGTH = 4096;

export interface ParseOptions {
  /** The most tensors the header may describe (default DEFAULT_MAX_TENSORS). */
  maxTensors?: number;
  /** Accept only these file dtypes (e.g. ["F32"]); any other is a LoadError. Default: all we read. */
  allowedDtypes?: readonly string[];
}

export interface Safetensors {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------------------------------
// Reading

/**
 * N from the first 8 bytes, checked against the file's size and MAX_HEADER_BYTES.
 * `fileSize` is the size of the whole file (the first 8 bytes may be all the caller has read).
 */
export function readHeaderLength(first8: Uint8Array, fileSize: number): number {
  if (fileSize < 8 || first8.length < 8) {
    throw new LoadError(`safetensors: the file is ${fileSize} bytes long, shorter than the 8-byte header length`);
  }
  const view = new DataView(first8.buffer, first8.byteOffset, 8);
  const lo = view.getUint32(0, true),
    hi = view.getUint32(4, true);
  const n = hi * 2 ** 32 + lo; // exact below 2^53, and anything above is rejected as too large anyway
  if (n > MAX_HEADER_BYTES)
    throw new LoadError(`safetensors: header length ${n} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  if (n > fileSize - 8)
    throw new LoadError(`safetensors: header length ${n} runs past the end of the file (${fileSize} bytes)`);
  if (n < 2) throw new LoadError(`safetensors: header length ${n} is too short for a JSON object`);
  return n;
}

/**
 * Parse and check the JSON header (`headerBytes` = the N bytes after the length) for a data section
 * of `dataLength` bytes. Checks: UTF-8, JSON object, unique names, each entry's dtype, shape and
 * offsets, shape × item size = byte length, and that the byte ranges tile the data section exactly.
 */
export function parseHeader(headerBytes: Uint8Array, dataLength: number, opts: ParseOptions = {}): SafetensorsHeader {
  if (headerBytes[0] !== 0x7b) throw new LoadError(`safetensors: the header does not start with "{"`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    throw new LoadError("safetensors: the header is not valid UTF-8");
  }
  const maxTensors = opts.maxTensors ?? DEFAULT_MAX_TENSORS;
  // counted on the bytes, before a string or an object is made of them (a 59 MB header of a million
  // entries would otherwise cost its size twice over before the parser's own cap is reached)
  if (topLevelMembers(headerBytes, maxTensors + 1) > maxTensors + 1)
    throw new LoadError(
      `safetensors: the header describes more than ${maxTensors.toLocaleString("en-US")} tensors (the limit; ParseOptions.maxTensors raises it)`,
    );
  // + 1 for __metadata__; an object past the cap is refused while it is being parsed
  const json = parseStrictJson(text, "safetensors: header", 64, maxTensors + 1);
  if (!isJsonObject(json)) throw new LoadError("safetensors: the header is not a JSON object");

  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const name of Object.keys(json)) {
    const value = json[name];
    if (name === "__metadata__") {
      if (!isJsonObject(value)) throw new LoadError("safetensors: __metadata__ is not an object of strings");
      for (const key of Object.keys(value)) {
        const v = value[key];
        if (typeof v !== "string")
          throw new LoadError(`safetensors: __metadata__ value of ${JSON.stringify(key)} is not a string`);
        setOwn(metadata, key, v);
      }
      continue;
    }
    entries.push(parseEntry(name, value, dataLength, opts));
  }

  // The byte ranges must tile [0, dataLength): sorted by start, each begins where the previous ended.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const e of entries) {
    if (e.begin < expected)
      throw new LoadError(
        `safetensors: tensor ${JSON.stringify(e.name)}: data_offsets [${e.begin}, ${e.end}] overlap the previous tensor's data, which ends at ${expected}`,
      );
    if (e.begin > expected)
      throw new LoadError(
        `safetensors: tensor ${JSON.stringify(e.name)}: data_offsets [${e.begin}, ${e.end}] leave a gap after byte ${expected} of the data section`,
      );
    expected = e.end;
  }
  if (expected !== dataLength) {
    throw new LoadError(
      `safetensors: the tensors cover ${expected} bytes of data, but the data section is ${dataLength} bytes`,
    );
  }
  return { entries, metadata, dataStart: 8 + headerBytes.length };
}

function parseEntry(name: string, value: Json | undefined, dataLength: number, opts: ParseOptions): SafetensorsEntry {
  if (name.length > MAX_NAME_LENGTH)
    throw new LoadError(
      `safetensors: a tensor name of ${name.length.toLocaleString("en-US")} characters (${JSON.stringify(name.slice(0, 40))}...), longer than the limit of ${MAX_NAME_LENGTH}`,
    );
  const where = `safetensors: tensor ${JSON.stringify(name)}`;
  if (!isJsonObject(value)) throw new LoadError(`${where}: its entry is not an object`);
  for (const key of Object.keys(value)) {
    if (key !== "dtype" && key !== "shape" && key !== "data_offsets")
      throw new LoadError(`${where}: unknown field ${JSON.stringify(key)}`);
  }
  const { dtype, shape, data_offsets: offsets } = value;

  if (typeof dtype !== "string") throw new LoadError(`${where}: dtype is missing or not a string`);
  if (!Object.prototype.hasOwnProperty.call(READABLE, dtype)) {
    if (UNSUPPORTED.includes(dtype))
      throw new LoadError(`${where}: dtype ${dtype} is not supported (supported: ${Object.keys(READABLE).join(", ")})`);
    throw new LoadError(`${where}: unknown dtype ${JSON.stringify(dtype).slice(0, 40)}`);
  }
  if (opts.allowedDtypes !== undefined && !opts.allowedDtypes.includes(dtype)) {
    throw new LoadError(`${where}: dtype ${dtype} is not allowed here (allowed: ${opts.allowedDtypes.join(", ")})`);
  }
  const size = READABLE[dtype as SafetensorsDType].size;

  if (!Array.isArray(shape) || !shape.every(isIndex))
    throw new LoadError(`${where}: shape must be an array of non-negative integers`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    throw new LoadError(`${where}: data_offsets must be two non-negative integers [begin, end]`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw new LoadError(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataLength)
    throw new LoadError(`${where}: data_offsets [${begin}, ${end}] run past the data section (${dataLength} bytes)`);

  // numel · size must equal end − begin; multiply step by step so a huge shape cannot overflow.
  const bytes = end - begin;
  const dims = shape as number[];
  let count = dims.includes(0) ? 0 : 1;
  for (const d of dims) {
    if (count === 0) break;
    count *= d;
    if (count * size > bytes) break;
  }
  if (count * size !== bytes) {
    throw new LoadError(
      `${where}: shape ${fmt(dims)} of ${dtype} needs ${count * size > bytes ? "more than " + bytes : count * size} bytes, but data_offsets [${begin}, ${end}] hold ${bytes}`,
    );
  }
  return { name, dtype: dtype as SafetensorsDType, shape: dims.slice(), begin, end };
}

/**
 * The members of the top-level JSON object in `bytes` (its commas at depth 1, plus one), counted
 * without decoding; stops once past `limit`. Malformed JSON gives some count; the parser reports it.
 */
function topLevelMembers(bytes: Uint8Array, limit: number): number {
  let depth = 0,
    members = 1;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === 0x22) {
      // a string: to its closing quote, over escapes
      for (i++; i < bytes.length && bytes[i] !== 0x22; i++) if (bytes[i] === 0x5c) i++;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2c && depth === 1 && ++members > limit) return members;
  }
  return members;
}

function isIndex(v: Json): boolean {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/** The tensor of `entry` from its bytes (exactly end − begin of them). */
export function decodeTensor(entry: SafetensorsEntry, bytes: Uint8Array): Tensor {
  const { size, to } = READABLE[entry.dtype];
  const n = bytes.length / size;
  const out = allocate(to, n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  switch (entry.dtype) {
    case "F64":
    case "F32":
    case "I32":
      if (LITTLE_ENDIAN_HOST)
        new Uint8Array(out.buffer).set(bytes); // the same layout: copy the bytes
      else
        for (let i = 0; i < n; i++)
          out[i] =
            entry.dtype === "F64"
              ? view.getFloat64(8 * i, true)
              : entry.dtype === "F32"
                ? view.getFloat32(4 * i, true)
                : view.getInt32(4 * i, true);
      break;
    case "F16":
      for (let i = 0; i < n; i++) out[i] = halfToNumber(view.getUint16(2 * i, true));
      break;
    case "BF16": {
      // bfloat16 = the high 16 bits of a float32: shift them into place, keeping every bit (NaN payloads too)
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(2 * i, true) << 16;
      break;
    }
    case "I64":
      for (let i = 0; i < n; i++) {
        const lo = view.getInt32(8 * i, true),
          hi = view.getInt32(8 * i + 4, true);
        if (hi !== lo >> 31) {
          throw new LoadError(
            `safetensors: tensor ${JSON.stringify(entry.name)}: I64 value ${view.getBigInt64(8 * i, true)} at index ${i} does not fit in int32`,
          );
        }
        out[i] = lo;
      }
      break;
    case "I16":
      for (let i = 0; i < n; i++) out[i] = view.getInt16(2 * i, true);
      break;
    case "U16":
      for (let i = 0; i < n; i++) out[i] = view.getUint16(2 * i, true);
      break;
    case "I8":
      for (let i = 0; i < n; i++) out[i] = view.getInt8(i);
      break;
    case "U8":
      for (let i = 0; i < n; i++) out[i] = bytes[i]!;
      break;
    case "BOOL":
      for (let i = 0; i < n; i++) out[i] = bytes[i] !== 0 ? 1 : 0;
      break;
  }
  return new Tensor(out, entry.shape);
}

/** IEEE 754 binary16 → number: sign, 5 exponent bits (bias 15), 10 fraction bits. */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f,
    f = h & 0x3ff;
  if (e === 0) return sign * f * 2 ** -24; // subnormal: 0.f · 2^−14
  if (e === 31) return f === 0 ? sign * Infinity : NaN;
  return sign * (1 + f / 1024) * 2 ** (e - 15);
}

/** Read every tensor of a safetensors file held in memory. */
export function parseSafetensors(bytes: Uint8Array, opts: ParseOptions = {}): Safetensors {
  if (!(bytes instanceof Uint8Array))
    throw new ArgumentError("parseSafetensors: expected the file's bytes as a Uint8Array");
  const n = readHeaderLength(bytes, bytes.length);
  const dataStart = 8 + n;
  const header = parseHeader(bytes.subarray(8, dataStart), bytes.length - dataStart, opts);
  const tensors: Record<string, Tensor> = {};
  for (const e of header.entries)
    setOwn(tensors, e.name, decodeTensor(e, bytes.subarray(dataStart + e.begin, dataStart + e.end)));
  return { tensors, metadata: header.metadata };
}

// ---------------------------------------------------------------------------------------------------
// Writing

/** A file laid out but not yet joined: the length + header bytes, then one chunk per tensor. */
export interface SafetensorsPlan {
  head: Uint8Array;
  entries: SafetensorsEntry[];
  chunks: Uint8Array[];
  byteLength: number;
}

/**
 * Lay out a file. Tensors are ordered by item size (largest first), then by name, so every tensor's
 * data starts at a multiple of its item size (the header is padded to a multiple of 8) and the same
 * tensors always give the same bytes.
 */
export function planSafetensors(
  tensors: Record<string, Tensor>,
  metadata: Record<string, string> = {},
): SafetensorsPlan {
  const items: { name: string; t: Tensor; dtype: SafetensorsDType }[] = [];
  for (const name of Object.keys(tensors)) {
    const t = tensors[name];
    if (!(t instanceof Tensor))
      throw new ArgumentError(`serializeSafetensors: ${JSON.stringify(name)} is not a Tensor`);
    if (name === "__metadata__")
      throw new ArgumentError(`serializeSafetensors: "__metadata__" is reserved and cannot name a tensor`);
    items.push({ name, t, dtype: WRITTEN[t.dtype] });
  }
  for (const key of Object.keys(metadata)) {
    if (typeof metadata[key] !== "string")
      throw new ArgumentError(
        `serializeSafetensors: metadata values must be strings; ${JSON.stringify(key)} is ${typeof metadata[key]}`,
      );
  }
  items.sort(
    (a, b) => READABLE[b.dtype].size - READABLE[a.dtype].size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );

  const entries: SafetensorsEntry[] = [];
  const chunks: Uint8Array[] = [];
  const parts: string[] = [];
  if (Object.keys(metadata).length > 0) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  let offset = 0;
  for (const { name, t, dtype } of items) {
    const chunk = storageBytes(t.storage);
    const entry = { name, dtype, shape: [...t.shape], begin: offset, end: offset + chunk.length };
    parts.push(
      `${JSON.stringify(name)}:${JSON.stringify({ dtype, shape: entry.shape, data_offsets: [entry.begin, entry.end] })}`,
    );
    entries.push(entry);
    chunks.push(chunk);
    offset = entry.end;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const n = Math.ceil(json.length / 8) * 8; // pad with spaces so the data starts 8-byte aligned
  const head = new Uint8Array(8 + n).fill(0x20);
  new DataView(head.buffer).setUint32(0, n % 2 ** 32, true);
  new DataView(head.buffer).setUint32(4, Math.floor(n / 2 ** 32), true);
  head.set(json, 8);
  return { head, entries, chunks, byteLength: head.length + offset };
}

/** The little-endian bytes of a storage (a view of it on little-endian hosts, no copy). */
export function storageBytes(s: TypedArray): Uint8Array {
  if (LITTLE_ENDIAN_HOST || s instanceof Uint8Array) return new Uint8Array(s.buffer, s.byteOffset, s.byteLength);
  const out = new Uint8Array(s.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < s.length; i++) {
    if (s instanceof Float64Array) view.setFloat64(8 * i, s[i]!, true);
    else if (s instanceof Float32Array) view.setFloat32(4 * i, s[i]!, true);
    else view.setInt32(4 * i, s[i]!, true);
  }
  return out;
}

/** Join a plan into one buffer. */
export function joinPlan(plan: SafetensorsPlan): Uint8Array {
  const out = new Uint8Array(plan.byteLength);
  out.set(plan.head, 0);
  let at = plan.head.length;
  for (const c of plan.chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The bytes of a safetensors file holding `tensors` (and string `metadata`). */
export function serializeSafetensors(
  tensors: Record<string, Tensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  return joinPlan(planSafetensors(tensors, metadata));
}

/** obj[key] = value, also for keys such as "__proto__" (names come from files). */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
