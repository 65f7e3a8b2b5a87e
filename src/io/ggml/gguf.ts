// GGUF v3 (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md): the single-file model format
// of ggml and llama.cpp. Pure functions over bytes, so they run in browsers too.
//
//   "GGUF"  u32 version (3)  u64 tensor_count  u64 kv_count
//   kv_count × { string key, u32 value_type, value }            string = u64 length + UTF-8 bytes
//   tensor_count × { string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset }
//   zero padding to `general.alignment` (default 32)
//   tensor data: tensor i at data_start + offset_i, every offset a multiple of the alignment
//
// ne[0] is the fastest-moving dimension: a PyTorch weight of shape (out, in) is stored as ne = [in, out],
// and a row of ne[0] values is a whole number of blocks of its ggml type.
//
// A file is untrusted input. Every count, length and offset is checked against the bytes that are
// left before anything of that size is allocated: n items of a type need at least n × (its smallest
// encoding) bytes, so a header cannot ask for more memory than the file is long. Every problem is a
// GgufError (a LoadError) saying what is wrong and where.

import { LoadError } from "../../engine/errors.js";
import { GGML_TYPES, ggmlTypeOfId, rowBytes, type GgmlType } from "./quants.js";

export class GgufError extends LoadError {}

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** ggml's limits: at most 4 dimensions, tensor names shorter than 64 bytes, keys at most 65535 bytes. */
export const GGUF_MAX_DIMS = 4;
export const GGUF_MAX_NAME = 63;
export const GGUF_MAX_KEY = 65535;
/** Nested arrays deeper than this are rejected (ggml's own files use depth 1). */
export const GGUF_MAX_DEPTH = 8;

/** The metadata value types, in the order of their numbers in the file. */
export const GGUF_VALUE_TYPES = [
  "u8",
  "i8",
  "u16",
  "i16",
  "u32",
  "i32",
  "f32",
  "bool",
  "string",
  "array",
  "u64",
  "i64",
  "f64",
] as const;
export type GgufValueType = (typeof GGUF_VALUE_TYPES)[number];

/** A value: numbers for types up to 32 bits and f64, bigint for u64/i64, and arrays of one item type. */
export type GgufValue = number | bigint | boolean | string | GgufArray;
export interface GgufArray {
  itemType: GgufValueType;
  items: GgufValue[];
}
export interface GgufEntry {
  type: GgufValueType;
  value: GgufValue;
}

export interface GgufTensorInfo {
  name: string;
  type: GgmlType;
  /** ggml's ne: ne[0] is the fastest-moving dimension (PyTorch's last). */
  ne: number[];
  /** where the data starts in the file, and its length */
  byteOffset: number;
  byteLength: number;
}

export interface Gguf {
  version: number;
  alignment: number;
  metadata: Map<string, GgufEntry>;
  tensors: GgufTensorInfo[];
  /** where the tensor data section starts in the file */
  dataOffset: number;
}

/** The smallest encoding of one value of each type: what bounds a count before allocation. */
const MIN_SIZE: Record<GgufValueType, number> = {
  u8: 1,
  i8: 1,
  u16: 2,
  i16: 2,
  u32: 4,
  i32: 4,
  f32: 4,
  bool: 1,
  string: 8,
  array: 12,
  u64: 8,
  i64: 8,
  f64: 8,
};

// ---------------------------------------------------------------------------------------------------
// Reading

class Cursor {
  pos = 0;
  readonly view: DataView;
  private readonly utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get left(): number {
    return this.bytes.length - this.pos;
  }
  need(n: number, what: string): void {
    if (n > this.left)
      throw new GgufError(`gguf: ${what} at byte ${this.pos} needs ${n} bytes, only ${this.left} are left`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++);
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  /** A u64 as a number; above 2^53 it cannot be an honest size in a file we can hold, so it is an error. */
  u64(what: string): number {
    this.need(8, what);
    const lo = this.view.getUint32(this.pos, true),
      hi = this.view.getUint32(this.pos + 4, true);
    if (hi >= 0x200000)
      throw new GgufError(`gguf: ${what} at byte ${this.pos} is ${(BigInt(hi) << 32n) | BigInt(lo)}, too large`);
    this.pos += 8;
    return hi * 2 ** 32 + lo;
  }
  /** A count of items each at least `minSize` bytes long: it must fit in what is left. */
  count(what: string, minSize: number): number {
    const at = this.pos;
    const n = this.u64(what);
    if (n * minSize > this.left)
      throw new GgufError(`gguf: ${what} ${n} at byte ${at} cannot fit in the ${this.left} bytes left`);
    return n;
  }
  string(what: string, maxLength = Infinity): string {
    const at = this.pos;
    const n = this.u64(`${what} length`);
    if (n > maxLength) throw new GgufError(`gguf: ${what} at byte ${at} is ${n} bytes long, more than ${maxLength}`);
    this.need(n, what);
    try {
      const s = this.utf8.decode(this.bytes.subarray(this.pos, this.pos + n));
      this.pos += n;
      return s;
    } catch {
      throw new GgufError(`gguf: ${what} at byte ${at} is not valid UTF-8`);
    }
  }
  valueType(what: string): GgufValueType {
    const at = this.pos;
    const id = this.u32(what);
    const t = GGUF_VALUE_TYPES[id];
    if (t === undefined) throw new GgufError(`gguf: ${what} at byte ${at} is ${id}, not a known value type (0..12)`);
    return t;
  }
  value(type: GgufValueType, what: string, depth: number): GgufValue {
    const v = this.view;
    switch (type) {
      case "u8":
        return this.u8(what);
      case "i8":
        this.need(1, what);
        return v.getInt8(this.pos++);
      case "u16":
        this.need(2, what);
        this.pos += 2;
        return v.getUint16(this.pos - 2, true);
      case "i16":
        this.need(2, what);
        this.pos += 2;
        return v.getInt16(this.pos - 2, true);
      case "u32":
        return this.u32(what);
      case "i32":
        this.need(4, what);
        this.pos += 4;
        return v.getInt32(this.pos - 4, true);
      case "f32":
        this.need(4, what);
        this.pos += 4;
        return v.getFloat32(this.pos - 4, true);
      case "bool": {
        const at = this.pos;
        const b = this.u8(what);
        if (b > 1) throw new GgufError(`gguf: ${what} at byte ${at} is a bool of value ${b}, not 0 or 1`);
        return b === 1;
      }
      case "string":
        return this.string(what);
      case "u64":
        this.need(8, what);
        this.pos += 8;
        return v.getBigUint64(this.pos - 8, true);
      case "i64":
        this.need(8, what);
        this.pos += 8;
        return v.getBigInt64(this.pos - 8, true);
      case "f64":
        this.need(8, what);
        this.pos += 8;
        return v.getFloat64(this.pos - 8, true);
      case "array": {
        if (depth >= GGUF_MAX_DEPTH)
          throw new GgufError(`gguf: ${what} at byte ${this.pos} nests arrays deeper than ${GGUF_MAX_DEPTH}`);
        const itemType = this.valueType(`${what} item type`);
        const n = this.count(`${what} length`, MIN_SIZE[itemType]);
        const items: GgufValue[] = new Array<GgufValue>(n);
        for (let i = 0; i < n; i++) items[i] = this.value(itemType, `${what}[${i}]`, depth + 1);
        return { itemType, items };
      }
    }
  }
}

/** The number of elements of ne (checked: non-negative integers whose product stays exact). */
function elementCount(ne: number[], name: string): number {
  let n = 1;
  for (const d of ne) {
    n *= d;
    if (!Number.isSafeInteger(n))
      throw new GgufError(
        `gguf: tensor ${JSON.stringify(name)} has dimensions [${ne.join(", ")}] whose product overflows`,
      );
  }
  return n;
}

const alignUp = (x: number, a: number): number => Math.ceil(x / a) * a;

/** Parse and check a whole GGUF file held in memory. Tensor data is not copied: see tensorBytes. */
export function parseGguf(bytes: Uint8Array): Gguf {
  const c = new Cursor(bytes);
  if (bytes.length < 4 || c.u32("magic") !== GGUF_MAGIC)
    throw new GgufError(`gguf: the file does not start with "GGUF"`);
  const version = c.u32("version");
  if (version !== 2 && version !== 3) {
    const swapped =
      ((version & 0xff) << 24) | ((version & 0xff00) << 8) | ((version >>> 8) & 0xff00) | (version >>> 24);
    if (swapped === 2 || swapped === 3) throw new GgufError("gguf: the file is big-endian, which is not supported");
    throw new GgufError(`gguf: version ${version} is not supported (2 and 3 are)`);
  }
  // a tensor info takes at least 8 + 4 + 4 + 8 bytes, a key-value pair 8 + 4 + 1
  const tensorCount = c.count("tensor count", 24);
  const kvCount = c.count("metadata count", 13);

  const metadata = new Map<string, GgufEntry>();
  for (let i = 0; i < kvCount; i++) {
    const at = c.pos;
    const key = c.string(`key ${i}`, GGUF_MAX_KEY);
    if (metadata.has(key)) throw new GgufError(`gguf: key ${JSON.stringify(key)} at byte ${at} appears twice`);
    const type = c.valueType(`type of ${key}`);
    metadata.set(key, { type, value: c.value(type, key, 0) });
  }

  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const a = metadata.get("general.alignment");
  if (a !== undefined) {
    if (a.type !== "u32") throw new GgufError(`gguf: general.alignment is a ${a.type}, not a u32`);
    alignment = a.value as number;
    if (alignment === 0 || (alignment & (alignment - 1)) !== 0)
      throw new GgufError(`gguf: general.alignment ${alignment} is not a power of 2`);
  }

  const infos: { name: string; type: GgmlType; ne: number[]; offset: number; bytes: number }[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const at = c.pos;
    const name = c.string(`tensor ${i} name`, GGUF_MAX_NAME);
    if (names.has(name)) throw new GgufError(`gguf: tensor ${JSON.stringify(name)} at byte ${at} appears twice`);
    names.add(name);
    const nDims = c.u32(`dimension count of ${name}`);
    if (nDims > GGUF_MAX_DIMS)
      throw new GgufError(`gguf: tensor ${JSON.stringify(name)} has ${nDims} dimensions, more than ${GGUF_MAX_DIMS}`);
    const ne: number[] = [];
    for (let d = 0; d < nDims; d++) ne.push(c.u64(`dimension ${d} of ${name}`));
    const typeAt = c.pos;
    const typeId = c.u32(`type of ${name}`);
    const type = ggmlTypeOfId(typeId);
    if (type === undefined)
      throw new GgufError(
        `gguf: tensor ${JSON.stringify(name)} has ggml type ${typeId} (byte ${typeAt}), which we do not read`,
      );
    const offset = c.u64(`offset of ${name}`);
    const n = elementCount(ne, name);
    const bs = GGML_TYPES[type].blockSize;
    if ((ne[0] ?? 1) % bs !== 0)
      throw new GgufError(
        `gguf: tensor ${JSON.stringify(name)} of type ${type} has rows of ${ne[0]} values, not a multiple of its block size ${bs}`,
      );
    if (offset % alignment !== 0)
      throw new GgufError(
        `gguf: tensor ${JSON.stringify(name)} has offset ${offset}, not a multiple of the alignment ${alignment}`,
      );
    infos.push({ name, type, ne, offset, bytes: rowBytes(type, n) });
  }

  const dataOffset = tensorCount > 0 ? alignUp(c.pos, alignment) : c.pos;
  if (dataOffset > bytes.length)
    throw new GgufError(
      `gguf: the tensor data would start at byte ${dataOffset}, past the end of the file (${bytes.length} bytes)`,
    );
  for (let p = c.pos; p < dataOffset; p++) {
    if (bytes[p] !== 0) throw new GgufError(`gguf: padding byte ${p} before the tensor data is ${bytes[p]}, not 0`);
  }
  const dataLength = bytes.length - dataOffset;
  const byOffset = [...infos].sort((x, y) => x.offset - y.offset);
  for (let i = 0; i < byOffset.length; i++) {
    const t = byOffset[i]!;
    if (t.offset + t.bytes > dataLength) {
      throw new GgufError(
        `gguf: tensor ${JSON.stringify(t.name)} (${t.type} [${t.ne.join(", ")}], ${t.bytes} bytes at data offset ${t.offset}) runs past the end of the file`,
      );
    }
    const next = byOffset[i + 1];
    if (next !== undefined && t.offset + t.bytes > next.offset) {
      throw new GgufError(
        `gguf: tensors ${JSON.stringify(t.name)} and ${JSON.stringify(next.name)} overlap (bytes ${t.offset}..${t.offset + t.bytes} and ${next.offset}..)`,
      );
    }
  }
  const tensors = infos.map((t) => ({
    name: t.name,
    type: t.type,
    ne: t.ne,
    byteOffset: dataOffset + t.offset,
    byteLength: t.bytes,
  }));
  return { version, alignment, metadata, tensors, dataOffset };
}

/** The bytes of one tensor, a view into the file (no copy). */
export function tensorBytes(file: Uint8Array, info: GgufTensorInfo): Uint8Array {
  return file.subarray(info.byteOffset, info.byteOffset + info.byteLength);
}

// ---------------------------------------------------------------------------------------------------
// Typed access to metadata

/** A numeric value (u64/i64 converted when exact), or undefined; any other type is a GgufError. */
export function metaNumber(g: Pick<Gguf, "metadata">, key: string): number | undefined {
  const e = g.metadata.get(key);
  if (e === undefined) return undefined;
  if (typeof e.value === "number") return e.value;
  if (
    typeof e.value === "bigint" &&
    e.value <= BigInt(Number.MAX_SAFE_INTEGER) &&
    e.value >= -BigInt(Number.MAX_SAFE_INTEGER)
  )
    return Number(e.value);
  throw new GgufError(`gguf: ${key} is a ${e.type}, not a number`);
}
export function metaString(g: Pick<Gguf, "metadata">, key: string): string | undefined {
  const e = g.metadata.get(key);
  if (e === undefined) return undefined;
  if (typeof e.value !== "string") throw new GgufError(`gguf: ${key} is a ${e.type}, not a string`);
  return e.value;
}
export function metaArray(g: Pick<Gguf, "metadata">, key: string): GgufArray | undefined {
  const e = g.metadata.get(key);
  if (e === undefined) return undefined;
  if (e.type !== "array") throw new GgufError(`gguf: ${key} is a ${e.type}, not an array`);
  return e.value as GgufArray;
}

// ---------------------------------------------------------------------------------------------------
// Writing

export interface GgufTensorData {
  name: string;
  type: GgmlType;
  ne: number[];
  /** exactly rowBytes(type, product of ne) bytes, little-endian */
  data: Uint8Array;
}

class Writer {
  private chunks: Uint8Array[] = [];
  private cur = new Uint8Array(1 << 16);
  private view = new DataView(this.cur.buffer);
  private at = 0;
  size = 0;
  private flush(): void {
    if (this.at === 0) return;
    this.chunks.push(this.cur.subarray(0, this.at));
    this.cur = new Uint8Array(1 << 16);
    this.view = new DataView(this.cur.buffer);
    this.at = 0;
  }
  private room(n: number): void {
    if (this.at + n > this.cur.length) this.flush();
  }
  bytes(b: Uint8Array): void {
    if (b.length > 1 << 15) {
      this.flush();
      this.chunks.push(b);
      this.size += b.length;
      return;
    } // large: kept as it is
    this.room(b.length);
    this.cur.set(b, this.at);
    this.at += b.length;
    this.size += b.length;
  }
  num(kind: GgufValueType, v: number | bigint): void {
    const n = MIN_SIZE[kind];
    this.room(n);
    const o = this.at;
    switch (kind) {
      case "u8":
        this.view.setUint8(o, v as number);
        break;
      case "i8":
        this.view.setInt8(o, v as number);
        break;
      case "u16":
        this.view.setUint16(o, v as number, true);
        break;
      case "i16":
        this.view.setInt16(o, v as number, true);
        break;
      case "u32":
        this.view.setUint32(o, v as number, true);
        break;
      case "i32":
        this.view.setInt32(o, v as number, true);
        break;
      case "f32":
        this.view.setFloat32(o, v as number, true);
        break;
      case "u64":
        this.view.setBigUint64(o, BigInt(v), true);
        break;
      case "i64":
        this.view.setBigInt64(o, BigInt(v), true);
        break;
      case "f64":
        this.view.setFloat64(o, v as number, true);
        break;
      default:
        throw new GgufError(`gguf: ${kind} is not a number type`);
    }
    this.at += n;
    this.size += n;
  }
  string(s: string): void {
    const b = new TextEncoder().encode(s);
    this.num("u64", BigInt(b.length));
    this.bytes(b);
  }
  value(type: GgufValueType, v: GgufValue, what: string): void {
    switch (type) {
      case "bool":
        if (typeof v !== "boolean") throw new GgufError(`gguf: ${what} is not a boolean`);
        this.num("u8", v ? 1 : 0);
        return;
      case "string":
        if (typeof v !== "string") throw new GgufError(`gguf: ${what} is not a string`);
        this.string(v);
        return;
      case "array": {
        const a = v as GgufArray;
        if (typeof a !== "object" || !Array.isArray(a.items)) throw new GgufError(`gguf: ${what} is not an array`);
        this.num("u32", GGUF_VALUE_TYPES.indexOf(a.itemType));
        this.num("u64", BigInt(a.items.length));
        for (let i = 0; i < a.items.length; i++) this.value(a.itemType, a.items[i]!, `${what}[${i}]`);
        return;
      }
      default:
        if (typeof v !== "number" && typeof v !== "bigint") throw new GgufError(`gguf: ${what} is not a number`);
        this.num(type, v);
    }
  }
  pad(alignment: number): void {
    const n = alignUp(this.size, alignment) - this.size;
    if (n > 0) this.bytes(new Uint8Array(n));
  }
  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const ch of this.chunks) {
      out.set(ch, o);
      o += ch.length;
    }
    return out;
  }
}

/**
 * Write a GGUF v3 file. `metadata` keeps its order; its general.alignment (a u32 power of two) sets
 * the alignment, 32 otherwise. Tensors are laid out in the order given, each at an aligned offset.
 */
export function serializeGguf(
  metadata: Map<string, GgufEntry> | [string, GgufEntry][],
  tensors: GgufTensorData[],
): Uint8Array {
  const kv = metadata instanceof Map ? [...metadata] : metadata;
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const a = kv.find(([k]) => k === "general.alignment");
  if (a !== undefined) {
    if (
      a[1].type !== "u32" ||
      typeof a[1].value !== "number" ||
      a[1].value === 0 ||
      (a[1].value & (a[1].value - 1)) !== 0
    ) {
      throw new GgufError("gguf: general.alignment must be a u32 power of 2");
    }
    alignment = a[1].value;
  }
  const w = new Writer();
  w.num("u32", GGUF_MAGIC);
  w.num("u32", GGUF_VERSION);
  w.num("u64", BigInt(tensors.length));
  w.num("u64", BigInt(kv.length));
  const keys = new Set<string>();
  for (const [key, e] of kv) {
    if (keys.has(key)) throw new GgufError(`gguf: key ${JSON.stringify(key)} given twice`);
    keys.add(key);
    w.string(key);
    w.num("u32", GGUF_VALUE_TYPES.indexOf(e.type));
    w.value(e.type, e.value, key);
  }
  let offset = 0;
  const names = new Set<string>();
  for (const t of tensors) {
    if (names.has(t.name)) throw new GgufError(`gguf: tensor ${JSON.stringify(t.name)} given twice`);
    names.add(t.name);
    if (new TextEncoder().encode(t.name).length > GGUF_MAX_NAME)
      throw new GgufError(`gguf: tensor name ${JSON.stringify(t.name)} is longer than ${GGUF_MAX_NAME} bytes`);
    const need = rowBytes(t.type, elementCount(t.ne, t.name));
    if (t.data.length !== need)
      throw new GgufError(
        `gguf: tensor ${JSON.stringify(t.name)} (${t.type} [${t.ne.join(", ")}]) needs ${need} bytes, got ${t.data.length}`,
      );
    if ((t.ne[0] ?? 1) % GGML_TYPES[t.type].blockSize !== 0)
      throw new GgufError(`gguf: tensor ${JSON.stringify(t.name)}: rows of ${t.ne[0]} are not whole ${t.type} blocks`);
    w.string(t.name);
    w.num("u32", t.ne.length);
    for (const d of t.ne) w.num("u64", BigInt(d));
    w.num("u32", GGML_TYPES[t.type].id);
    w.num("u64", BigInt(offset));
    offset = alignUp(offset + t.data.length, alignment);
  }
  if (tensors.length > 0) w.pad(alignment);
  for (const t of tensors) {
    w.bytes(t.data);
    w.pad(alignment);
  }
  return w.finish();
}
