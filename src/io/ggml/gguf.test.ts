// GGUF: the round trip of every value type and tensor type, and the hardened reader against 40+
// malformed files (the known llama.cpp GGUF CVE patterns among them), truncation and bit flips.
import assert from "node:assert/strict";
import { test } from "node:test";
import { LoadError } from "../../engine/errors.js";
import {
  GgufError,
  parseGguf,
  serializeGguf,
  tensorBytes,
  metaNumber,
  metaString,
  metaArray,
  type GgufEntry,
  type GgufTensorData,
} from "./gguf.js";
import { GGML_TYPE_NAMES, quantize, GGML_TYPES } from "./quants.js";

function sampleMetadata(): [string, GgufEntry][] {
  return [
    ["general.architecture", { type: "string", value: "llama" }],
    ["general.alignment", { type: "u32", value: 64 }],
    ["t.u8", { type: "u8", value: 255 }],
    ["t.i8", { type: "i8", value: -128 }],
    ["t.u16", { type: "u16", value: 65535 }],
    ["t.i16", { type: "i16", value: -32768 }],
    ["t.u32", { type: "u32", value: 4294967295 }],
    ["t.i32", { type: "i32", value: -2147483648 }],
    ["t.f32", { type: "f32", value: Math.fround(-1.5e-7) }],
    ["t.bool", { type: "bool", value: true }],
    ["t.string", { type: "string", value: "naïve ✓ \u0000 end" }],
    ["t.u64", { type: "u64", value: 18446744073709551615n }],
    ["t.i64", { type: "i64", value: -9223372036854775808n }],
    ["t.f64", { type: "f64", value: Math.PI }],
    ["t.empty", { type: "string", value: "" }],
    ["t.tokens", { type: "array", value: { itemType: "string", items: ["<s>", "▁the", "", "\n"] } }],
    ["t.scores", { type: "array", value: { itemType: "f32", items: [0, -1.5, Math.fround(0.1)] } }],
    [
      "t.nested",
      {
        type: "array",
        value: {
          itemType: "array",
          items: [
            { itemType: "i32", items: [1, 2] },
            { itemType: "bool", items: [] },
          ],
        },
      },
    ],
    ["t.empty_array", { type: "array", value: { itemType: "u64", items: [] } }],
  ];
}

function sampleTensors(): GgufTensorData[] {
  const tensors: GgufTensorData[] = [];
  let s = 3;
  const rnd = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 2 ** 32 - 0.5);
  for (const type of GGML_TYPE_NAMES) {
    const cols = GGML_TYPES[type].blockSize === 256 ? 256 : 64;
    const x = Float32Array.from({ length: cols * 3 }, rnd);
    tensors.push({ name: `blk.0.${type.toLowerCase()}.weight`, type, ne: [cols, 3], data: quantize(type, x) });
  }
  tensors.push({ name: "vector", type: "F32", ne: [5], data: quantize("F32", new Float32Array([1, 2, 3, 4, 5])) });
  tensors.push({ name: "scalar4d", type: "F32", ne: [1, 1, 1, 1], data: quantize("F32", new Float32Array([7])) });
  return tensors;
}

test("round trip: every metadata value type, nested arrays, every tensor type, alignment 64", () => {
  const meta = sampleMetadata();
  const tensors = sampleTensors();
  const file = serializeGguf(meta, tensors);
  const g = parseGguf(file);
  assert.equal(g.version, 3);
  assert.equal(g.alignment, 64);
  assert.equal(g.dataOffset % 64, 0);
  assert.deepEqual(
    [...g.metadata.keys()],
    meta.map(([k]) => k),
  );
  for (const [k, e] of meta) assert.deepEqual(g.metadata.get(k), e, k);
  assert.equal(g.tensors.length, tensors.length);
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i]!,
      r = g.tensors[i]!;
    assert.equal(r.name, t.name);
    assert.equal(r.type, t.type);
    assert.deepEqual(r.ne, t.ne);
    assert.equal((r.byteOffset - g.dataOffset) % 64, 0);
    assert.deepEqual(tensorBytes(file, r), t.data, t.name);
  }
  assert.throws(() => metaNumber(g, "t.u64"), GgufError); // 2^64 − 1 is not an exact number
  assert.equal(metaNumber(g, "t.u32"), 4294967295);
  assert.equal(metaString(g, "general.architecture"), "llama");
  assert.deepEqual(metaArray(g, "t.tokens")?.items, ["<s>", "▁the", "", "\n"]);
  // a second serialization is the same bytes
  assert.deepEqual(
    serializeGguf(
      g.metadata,
      g.tensors.map((t) => ({ ...t, data: tensorBytes(file, t) })),
    ),
    file,
  );
});

test("default alignment 32, no tensors, no metadata", () => {
  const empty = serializeGguf([], []);
  assert.equal(empty.length, 24);
  const g = parseGguf(empty);
  assert.equal(g.alignment, 32);
  assert.equal(g.tensors.length, 0);
  const one = serializeGguf(
    [],
    [{ name: "w", type: "Q8_0", ne: [32, 1], data: quantize("Q8_0", new Float32Array(32).fill(1)) }],
  );
  assert.equal(parseGguf(one).dataOffset % 32, 0);
});

// ---------------------------------------------------------------------------------------------------
// Malformed files, crafted byte by byte

class Bytes {
  parts: number[] = [];
  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  u32(v: number): this {
    for (let i = 0; i < 4; i++) this.parts.push((v >>> (8 * i)) & 0xff);
    return this;
  }
  u64(v: bigint | number): this {
    let b = BigInt.asUintN(64, BigInt(v));
    for (let i = 0; i < 8; i++) {
      this.parts.push(Number(b & 0xffn));
      b >>= 8n;
    }
    return this;
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    for (const x of b) this.parts.push(x);
    return this;
  }
  raw(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.parts.push(b[i]!);
    return this;
  }
  pad(a = 32): this {
    while (this.parts.length % a) this.parts.push(0);
    return this;
  }
  done(): Uint8Array {
    return new Uint8Array(this.parts);
  }
}
const header = (tensors: number | bigint, kvs: number | bigint, version = 3): Bytes =>
  new Bytes().raw([0x47, 0x47, 0x55, 0x46]).u32(version).u64(tensors).u64(kvs);
/** A tensor info: name, dims, type id, offset. */
const info = (b: Bytes, name: string, ne: (number | bigint)[], type: number, offset: number | bigint): Bytes => {
  b.str(name).u32(ne.length);
  for (const d of ne) b.u64(d);
  return b.u32(type).u64(offset);
};

const MALFORMED: [string, () => Uint8Array, RegExp][] = [
  ["empty file", () => new Uint8Array(0), /GGUF/],
  ["three bytes", () => new Uint8Array([0x47, 0x47, 0x55]), /GGUF/],
  ["wrong magic", () => new Bytes().raw([0x47, 0x47, 0x4d, 0x4c]).u32(3).u64(0).u64(0).done(), /GGUF/],
  ["version 1", () => header(0, 0, 1).done(), /version 1/],
  ["version 4", () => header(0, 0, 4).done(), /version 4/],
  ["big-endian file", () => header(0, 0, 0x03000000).done(), /big-endian/],
  ["header cut after version", () => header(0, 0).done().subarray(0, 10), /tensor count/],
  ["huge tensor count (CVE: count × size overflow)", () => header(0xffffffffffffffffn, 0).done(), /tensor count/],
  ["tensor count past 2^53", () => header(2n ** 60n, 0).done(), /too large/],
  ["tensor count larger than the file can hold", () => header(1000, 0).done(), /tensor count 1000.*cannot fit/],
  ["huge metadata count", () => header(0, 0x7fffffffffffffffn).done(), /metadata count/],
  ["metadata count larger than the file", () => header(0, 2).str("a").u32(0).u8(1).done(), /metadata count 2/],
  [
    "key length past the end (CVE: string length)",
    () => header(0, 1).u64(1000).raw([0x61]).u32(0).u8(0).raw(new Array(20).fill(0)).done(),
    /key 0.*needs 1000/,
  ],
  ["key length 2^64−1", () => header(0, 1).u64(0xffffffffffffffffn).raw(new Array(13).fill(0)).done(), /too large/],
  ["key longer than 65535 bytes", () => header(0, 1).str("k".repeat(70000)).u32(0).u8(1).done(), /more than 65535/],
  ["key not UTF-8", () => header(0, 1).u64(2).raw([0xc3, 0x28]).u32(0).u8(1).done(), /UTF-8/],
  ["duplicate key", () => header(0, 2).str("a").u32(0).u8(1).str("a").u32(0).u8(2).done(), /appears twice/],
  [
    "unknown value type 13",
    () => header(0, 1).str("a").u32(13).u8(1).raw(new Array(12).fill(0)).done(),
    /not a known value type/,
  ],
  [
    "value type 2^31",
    () => header(0, 1).str("a").u32(0x80000000).u8(1).raw(new Array(12).fill(0)).done(),
    /not a known value type/,
  ],
  ["bool of value 2", () => header(0, 1).str("a").u32(7).u8(2).done(), /bool of value 2/],
  ["u32 value cut short", () => header(0, 1).str("a").u32(4).raw([1, 2]).raw(new Array(0)).done(), /needs 4 bytes/],
  [
    "string value length past the end",
    () =>
      header(0, 1)
        .str("a")
        .u32(8)
        .u64(1 << 30)
        .raw([1, 2, 3])
        .done(),
    /needs 1073741824/,
  ],
  [
    "string value length 2^63",
    () =>
      header(0, 1)
        .str("a")
        .u32(8)
        .u64(2n ** 63n)
        .done(),
    /too large/,
  ],
  [
    "array of 2^40 u8 (CVE: array length)",
    () =>
      header(0, 1)
        .str("a")
        .u32(9)
        .u32(0)
        .u64(2n ** 40n)
        .raw([1, 2])
        .done(),
    /cannot fit/,
  ],
  [
    "array of 2^61 u64: count × 8 overflows 64 bits",
    () =>
      header(0, 1)
        .str("a")
        .u32(9)
        .u32(10)
        .u64(2n ** 61n)
        .raw(new Array(16).fill(0))
        .done(),
    /too large|cannot fit/,
  ],
  [
    "array of strings longer than the file",
    () => header(0, 1).str("a").u32(9).u32(8).u64(100).u64(0).done(),
    /cannot fit/,
  ],
  [
    "array of unknown item type",
    () => header(0, 1).str("a").u32(9).u32(99).u64(1).u8(0).done(),
    /not a known value type/,
  ],
  [
    "arrays nested 100 deep",
    () => {
      const b = header(0, 1).str("a").u32(9);
      for (let i = 0; i < 100; i++) b.u32(9).u64(1);
      return b.u32(0).u64(0).done();
    },
    /deeper than 8/,
  ],
  [
    "general.alignment of type u64",
    () => header(0, 1).str("general.alignment").u32(10).u64(32).done(),
    /alignment is a u64/,
  ],
  ["general.alignment 0", () => header(0, 1).str("general.alignment").u32(4).u32(0).done(), /not a power of 2/],
  ["general.alignment 48", () => header(0, 1).str("general.alignment").u32(4).u32(48).done(), /not a power of 2/],
  [
    "tensor name longer than 63 bytes",
    () => info(header(1, 0), "n".repeat(64), [32], 0, 0).pad().raw(new Array(128).fill(0)).done(),
    /more than 63/,
  ],
  [
    "tensor name length past the end",
    () => header(1, 0).u64(5000).raw(new Array(30).fill(0)).done(),
    /5000 bytes long, more than 63/,
  ],
  [
    "duplicate tensor name",
    () => {
      const b = header(2, 0);
      info(b, "w", [32], 0, 0);
      info(b, "w", [32], 0, 128);
      return b.pad().raw(new Array(256).fill(0)).done();
    },
    /appears twice/,
  ],
  [
    "5 dimensions",
    () => info(header(1, 0), "w", [1, 1, 1, 1, 1], 0, 0).pad().raw(new Array(32).fill(0)).done(),
    /5 dimensions/,
  ],
  [
    "dimension count 2^32−1 (CVE: n_dims)",
    () => header(1, 0).str("w").u32(0xffffffff).raw(new Array(40).fill(0)).done(),
    /4294967295 dimensions/,
  ],
  [
    "dimension 2^63 (CVE: ne overflow)",
    () =>
      info(header(1, 0), "w", [2n ** 63n, 1], 0, 0)
        .pad()
        .done(),
    /too large/,
  ],
  [
    "dimensions whose product overflows (CVE: ne0·ne1·ne2)",
    () =>
      info(header(1, 0), "w", [2 ** 30, 2 ** 30, 2 ** 30], 0, 0)
        .pad()
        .done(),
    /overflows/,
  ],
  [
    "unknown ggml type 99",
    () => info(header(1, 0), "w", [32], 99, 0).pad().raw(new Array(128).fill(0)).done(),
    /ggml type 99/,
  ],
  [
    "removed ggml type 4 (Q4_2)",
    () => info(header(1, 0), "w", [32], 4, 0).pad().raw(new Array(128).fill(0)).done(),
    /ggml type 4/,
  ],
  [
    "row not a multiple of the block size",
    () => info(header(1, 0), "w", [33, 2], 8, 0).pad().raw(new Array(128).fill(0)).done(),
    /rows of 33.*block size 32/,
  ],
  [
    "misaligned tensor offset",
    () => info(header(1, 0), "w", [4], 0, 8).pad().raw(new Array(64).fill(0)).done(),
    /offset 8, not a multiple/,
  ],
  [
    "tensor data past the end of the file",
    () => info(header(1, 0), "w", [64], 0, 0).pad().raw(new Array(100).fill(0)).done(),
    /runs past the end/,
  ],
  [
    "tensor offset 2^52 (CVE: offset past the file)",
    () =>
      info(header(1, 0), "w", [4], 0, 2 ** 52)
        .pad()
        .raw(new Array(64).fill(0))
        .done(),
    /runs past the end/,
  ],
  [
    "overlapping tensors",
    () => {
      const b = header(2, 0);
      info(b, "a", [16], 0, 0);
      info(b, "b", [16], 0, 32);
      return b.pad().raw(new Array(128).fill(0)).done();
    },
    /overlap/,
  ],
  [
    "two tensors at the same offset",
    () => {
      const b = header(2, 0);
      info(b, "a", [8], 0, 0);
      info(b, "b", [8], 0, 0);
      return b.pad().raw(new Array(64).fill(0)).done();
    },
    /overlap/,
  ],
  [
    "no room for the padding before the data",
    () => info(header(1, 0), "w", [0], 0, 0).done(),
    /past the end of the file/,
  ],
  [
    "non-zero padding",
    () => {
      const b = info(header(1, 0), "w", [8], 0, 0);
      b.u8(7);
      return b.pad().raw(new Array(32).fill(0)).done();
    },
    /padding byte/,
  ],
  [
    "tensor info cut in the middle of its dimensions",
    () => header(1, 0).str("w").u32(2).u64(4).raw([1, 2, 3]).done(),
    /dimension 1 of w/,
  ],
];

test(`${MALFORMED.length} malformed files each raise a GgufError (a LoadError) naming the problem`, () => {
  assert.ok(MALFORMED.length >= 40);
  for (const [name, make, pattern] of MALFORMED) {
    const bytes = make();
    assert.throws(
      () => parseGguf(bytes),
      (e: unknown) => {
        assert.ok(
          e instanceof GgufError && e instanceof LoadError,
          `${name}: expected GgufError, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`,
        );
        assert.match(e.message, pattern, name);
        return true;
      },
      name,
    );
  }
});

test("fuzz: every truncation and 3000 seeded bit flips raise a GgufError or parse, never anything else", () => {
  const file = serializeGguf(sampleMetadata(), sampleTensors().slice(0, 4));
  const check = (bytes: Uint8Array, what: string): void => {
    try {
      const g = parseGguf(bytes);
      for (const t of g.tensors) assert.ok(t.byteOffset + t.byteLength <= bytes.length, what);
    } catch (e) {
      if (!(e instanceof GgufError))
        throw new Error(`${what}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    }
  };
  // cut anywhere before the end of the last tensor's data: an error; in the trailing padding: still whole
  const g = parseGguf(file);
  const end = Math.max(...g.tensors.map((t) => t.byteOffset + t.byteLength));
  for (let n = 0; n < file.length; n++) {
    if (n < end) assert.throws(() => parseGguf(file.subarray(0, n)), GgufError, `truncated to ${n}`);
    else assert.equal(parseGguf(file.subarray(0, n)).tensors.length, 4);
  }
  let s = 12345;
  const rnd = (k: number): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s % k);
  // flips in the header and tensor infos, where they matter
  const headerEnd = g.dataOffset;
  for (let i = 0; i < 3000; i++) {
    const b = file.slice();
    const flips = 1 + rnd(3);
    for (let j = 0; j < flips; j++) {
      const at = rnd(headerEnd);
      b[at]! ^= 1 << rnd(8);
    }
    check(b, `flip ${i}`);
  }
});
