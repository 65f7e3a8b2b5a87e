// safetensors: round trips, files written by PyTorch (tools/fixtures/safetensors.py), and every check
// of the hardened reader. Fuzzing is in test/io/fuzz.test.ts.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ArgumentError, LoadError, Tensor, tensor, zeros } from "../index.js";
import { halfToNumber, parseSafetensors, serializeSafetensors, type ParseOptions } from "./safetensors.js";

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`../../../test/fixtures/io/${name}`, import.meta.url)));

/** A file from a header object and data bytes, padded as the spec allows. */
function file(header: unknown, data: Uint8Array = new Uint8Array(0), rawHeader?: string): Uint8Array {
  const text = new TextEncoder().encode(rawHeader ?? JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setUint32(0, text.length, true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

function rejects(bytes: Uint8Array, pattern: RegExp, opts?: ParseOptions): void {
  assert.throws(
    () => parseSafetensors(bytes, opts),
    (e: unknown) => {
      assert.ok(
        e instanceof LoadError,
        `expected LoadError, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`,
      );
      assert.match(e.message, pattern);
      return true;
    },
  );
}

const sameBits = (a: Tensor, b: Tensor): void => {
  assert.equal(a.dtype, b.dtype);
  assert.deepEqual([...a.shape], [...b.shape]);
  assert.deepEqual(
    new Uint8Array(a.storage.buffer, a.storage.byteOffset, a.storage.byteLength),
    new Uint8Array(b.storage.buffer, b.storage.byteOffset, b.storage.byteLength),
  );
};

test("round trip: every dtype, 0-d and empty tensors, metadata, odd names", () => {
  const tensors: Record<string, Tensor> = {
    w: tensor([
      [1.5, -2],
      [NaN, Infinity],
    ]),
    d: tensor(new Float64Array([Math.PI, -0, 5e-324])),
    i: tensor([-2147483648, 2147483647, 0], { dtype: "int32" }),
    m: tensor([true, false, true]),
    s: tensor(7),
    e: zeros([0, 4]),
    e2: zeros([3, 0], { dtype: "int32" }),
    eb: tensor(new Uint8Array(0), { dtype: "bool" }),
    "blocks.0.attn.wq": tensor([[1, 2, 3]], { dtype: "float64" }),
    "ünï ✓": tensor([1], { dtype: "int32" }),
  };
  Object.defineProperty(tensors, "__proto__", { value: tensor([9]), enumerable: true });
  const metadata = { format: "pt", 'key with "quotes"': "value\nwith newline ✓" };
  const bytes = serializeSafetensors(tensors, metadata);
  const n = new DataView(bytes.buffer).getUint32(0, true);
  assert.equal((8 + n) % 8, 0, "the data section starts 8-byte aligned");
  const back = parseSafetensors(bytes);
  assert.deepEqual(back.metadata, metadata);
  assert.deepEqual(Object.keys(back.tensors).sort(), Object.keys(tensors).sort());
  for (const name of Object.keys(tensors)) sameBits(back.tensors[name]!, tensors[name]!);
  assert.equal(
    Object.getPrototypeOf(back.tensors),
    Object.prototype,
    "a tensor named __proto__ did not replace the prototype",
  );
  // Deterministic: the same tensors in another insertion order give the same bytes.
  const reversed: Record<string, Tensor> = {};
  for (const name of Object.keys(tensors).reverse())
    Object.defineProperty(reversed, name, { value: tensors[name], enumerable: true });
  assert.deepEqual(serializeSafetensors(reversed, metadata), bytes);
  // Without metadata, the header has no __metadata__ and parse gives {}.
  assert.deepEqual(parseSafetensors(serializeSafetensors({ x: tensor([1]) })).metadata, {});
  assert.deepEqual(parseSafetensors(serializeSafetensors({})).tensors, {});
});

test("tensor data is aligned to its item size (largest items first)", () => {
  const bytes = serializeSafetensors({
    a: tensor([true]),
    b: tensor([1], { dtype: "float64" }),
    c: tensor([2]),
    d: tensor([true, false, true]),
    e: tensor([3], { dtype: "float64" }),
  });
  const n = new DataView(bytes.buffer).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<
    string,
    { dtype: string; data_offsets: [number, number] }
  >;
  const size: Record<string, number> = { F64: 8, F32: 4, BOOL: 1 };
  for (const [name, e] of Object.entries(header)) assert.equal(e.data_offsets[0] % size[e.dtype]!, 0, name);
  assert.deepEqual(Object.keys(header), ["b", "e", "c", "a", "d"]);
});

interface Expected {
  dtype: string;
  shape: number[];
  f32_bits?: number[];
  f64_bits?: string[];
  bits16?: number[];
  values?: number[];
}
const expectedDoc = (): {
  native: { metadata: Record<string, string>; tensors: Record<string, Expected> };
  widened: { metadata: Record<string, string>; tensors: Record<string, Expected> };
} => JSON.parse(readFileSync(new URL("../../../test/fixtures/io/torch_safetensors.json", import.meta.url), "utf8"));

function checkAgainstTorch(got: Tensor, e: Expected, name: string): void {
  assert.deepEqual([...got.shape], e.shape, `${name}: shape`);
  if (e.values) {
    assert.deepEqual([...got.storage], e.values, `${name}: values`);
    return;
  }
  if (e.f64_bits) {
    assert.equal(got.dtype, "float64");
    const bits = new BigUint64Array(got.storage.buffer, got.storage.byteOffset, got.numel());
    assert.deepEqual(
      [...bits].map((b) => b.toString(16).padStart(16, "0")),
      e.f64_bits,
      `${name}: float64 bits`,
    );
    return;
  }
  assert.equal(got.dtype, "float32", `${name}: dtype`);
  const bits = new Uint32Array(got.storage.buffer, got.storage.byteOffset, got.numel());
  e.f32_bits!.forEach((b, i) => {
    const isNaN32 = (x: number): boolean => (x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0;
    if (isNaN32(b)) assert.ok(Number.isNaN(got.storage[i]), `${name}[${i}]: expected NaN`);
    else
      assert.equal(bits[i], b, `${name}[${i}]: float32 bits ${bits[i]!.toString(16)}, torch gives ${b.toString(16)}`);
  });
}

test("reads PyTorch's F32/F64/I32/BOOL file exactly, and our writer reproduces its bytes", () => {
  const bytes = fixture("torch_native.safetensors");
  const doc = expectedDoc().native;
  const { tensors, metadata } = parseSafetensors(bytes);
  assert.deepEqual(metadata, doc.metadata);
  assert.deepEqual(Object.keys(tensors).sort(), Object.keys(doc.tensors).sort());
  for (const [name, e] of Object.entries(doc.tensors)) checkAgainstTorch(tensors[name]!, e, name);
  assert.deepEqual(tensors["mask"]!.toArray(), [true, false, true, true, false]);
  assert.equal(tensors["double"]!.storage[0], Math.PI);
  assert.equal(tensors["double"]!.storage[2], 5e-324);
  assert.deepEqual(
    serializeSafetensors(tensors, metadata),
    bytes,
    "our writer lays the file out byte for byte as the script does",
  );
});

test("F16, BF16, I64, I16, I8 and U8 from PyTorch widen to float32/int32 exactly as torch converts them", () => {
  const bytes = fixture("torch_widened.safetensors");
  const doc = expectedDoc().widened;
  const { tensors, metadata } = parseSafetensors(bytes);
  assert.deepEqual(metadata, doc.metadata);
  for (const [name, e] of Object.entries(doc.tensors)) {
    checkAgainstTorch(tensors[name]!, e, name);
    assert.equal(tensors[name]!.dtype, e.dtype.startsWith("F") || e.dtype === "BF16" ? "float32" : "int32", name);
  }
  // halfToNumber on the raw bit patterns gives torch's float32 values
  const half = doc.tensors["half"]!;
  half.bits16!.forEach((b, i) => {
    const v = Math.fround(halfToNumber(b));
    const want = new Float32Array(new Uint32Array([half.f32_bits![i]!]).buffer)[0]!;
    if (Number.isNaN(want)) assert.ok(Number.isNaN(v));
    else assert.ok(Object.is(v, want), `half 0x${b.toString(16)}: ${v} != ${want}`);
  });
  // a few patterns checked by hand against IEEE 754: 1, −2, 65504, 2^-24, 2^-14, −0, +inf
  assert.deepEqual([0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x8000, 0x7c00].map(halfToNumber), [
    1,
    -2,
    65504,
    2 ** -24,
    2 ** -14,
    -0,
    Infinity,
  ]);
});

test("allowedDtypes restricts what a file may hold", () => {
  const bytes = fixture("torch_widened.safetensors");
  rejects(bytes, /dtype (F16|BF16|I64|I16|I8|U8) is not allowed here \(allowed: F32\)/, { allowedDtypes: ["F32"] });
});

// ---------------------------------------------------------------------------------------------------
// Every check of the reader, one malformed file each

const f32 = (n: number): Uint8Array => new Uint8Array(4 * n);
const entry = (dtype: string, shape: unknown, offsets: unknown): unknown => ({ dtype, shape, data_offsets: offsets });

test("rejects bad header lengths before reading anything", () => {
  rejects(new Uint8Array(0), /0 bytes long, shorter than the 8-byte header length/);
  rejects(new Uint8Array(7), /7 bytes long/);
  const big = new Uint8Array(16);
  new DataView(big.buffer).setUint32(0, 9, true);
  rejects(big, /header length 9 runs past the end of the file \(16 bytes\)/);
  new DataView(big.buffer).setUint32(0, 200_000_000, true);
  rejects(big, /header length 200000000 exceeds the limit of 100000000 bytes/);
  new DataView(big.buffer).setUint32(4, 0xffffffff, true); // a u64 far beyond 2^53
  rejects(big, /exceeds the limit/);
  rejects(file(null, undefined, "{"), /header length 1 is too short/);
});

test("rejects headers that are not a UTF-8 JSON object", () => {
  rejects(file(null, undefined, "[1,2]   "), /does not start with "\{"/);
  rejects(file(null, undefined, " {}     "), /does not start with "\{"/);
  const bad = file(null, undefined, '{"\u00e9":1}');
  bad[11] = 0xff; // inside the two-byte é
  rejects(bad, /not valid UTF-8/);
  rejects(file(null, undefined, '{"a":}'), /invalid JSON/);
  rejects(file(null, undefined, '{"a":1} x'), /unexpected text after the value/);
  rejects(file(null, undefined, '{"a":' + "[".repeat(100) + "]".repeat(100) + "}"), /nested deeper than 64 levels/);
  rejects(file(null, undefined, '{"a":"\u0001"}'), /control character/);
});

test("rejects duplicate names (JSON.parse would silently keep the last)", () => {
  const e = JSON.stringify(entry("F32", [1], [0, 4]));
  rejects(file(null, f32(1), `{"x":${e},"x":${e}}`), /duplicate key "x"/);
});

test("rejects bad metadata", () => {
  rejects(file({ __metadata__: { a: 1 } }), /__metadata__ value of "a" is not a string/);
  rejects(file({ __metadata__: "x" }), /__metadata__ is not an object of strings/);
});

test("rejects bad entries, naming the tensor and the problem", () => {
  rejects(file({ x: 5 }), /tensor "x": its entry is not an object/);
  rejects(
    file({ x: { ...(entry("F32", [1], [0, 4]) as object), extra: 1 } }, f32(1)),
    /tensor "x": unknown field "extra"/,
  );
  rejects(file({ x: entry("F99", [1], [0, 4]) }, f32(1)), /tensor "x": unknown dtype "F99"/);
  rejects(file({ x: { shape: [1], data_offsets: [0, 4] } }, f32(1)), /tensor "x": dtype is missing/);
  rejects(file({ x: entry("U32", [1], [0, 4]) }, f32(1)), /tensor "x": dtype U32 is not supported/);
  rejects(file({ x: entry("F8_E4M3", [4], [0, 4]) }, f32(1)), /dtype F8_E4M3 is not supported/);
  rejects(
    file({ x: entry("F32", [-1], [0, 4]) }, f32(1)),
    /tensor "x": shape must be an array of non-negative integers/,
  );
  rejects(file({ x: entry("F32", [1.5], [0, 4]) }, f32(1)), /shape must be/);
  rejects(file({ x: entry("F32", "1", [0, 4]) }, f32(1)), /shape must be/);
  rejects(file({ x: entry("F32", [2 ** 53], [0, 4]) }, f32(1)), /shape must be/);
  rejects(file({ x: entry("F32", [1], [0]) }, f32(1)), /data_offsets must be two non-negative integers/);
  rejects(file({ x: entry("F32", [1], [0, -4]) }, f32(1)), /data_offsets must be/);
  rejects(file({ x: entry("F32", [1], [4, 0]) }, f32(1)), /data_offsets \[4, 0\] end before they begin/);
  rejects(
    file({ x: entry("F32", [1], [0, 8]) }, f32(1)),
    /data_offsets \[0, 8\] run past the data section \(4 bytes\)/,
  );
  rejects(
    file({ x: entry("F32", [2], [0, 4]) }, f32(1)),
    /shape \(2\) of F32 needs more than 4 bytes, but data_offsets \[0, 4\] hold 4/,
  );
  rejects(
    file({ x: entry("F32", [1], [0, 8]) }, f32(2)),
    /shape \(1\) of F32 needs 4 bytes, but data_offsets \[0, 8\] hold 8/,
  );
  // a huge shape is rejected by arithmetic, without allocating it
  rejects(file({ x: entry("F64", [2 ** 40, 2 ** 40, 2 ** 40], [0, 8]) }, f32(2)), /needs more than 8 bytes/);
});

test("rejects byte ranges that overlap, leave gaps, or leave data after the last tensor", () => {
  rejects(
    file({ a: entry("F32", [2], [0, 8]), b: entry("F32", [1], [4, 8]) }, f32(2)),
    /overlap the previous tensor's data, which ends at 8/,
  );
  rejects(file({ a: entry("F32", [1], [0, 4]), b: entry("F32", [1], [8, 12]) }, f32(3)), /leave a gap after byte 4/);
  rejects(file({ a: entry("F32", [1], [4, 8]) }, f32(2)), /leave a gap after byte 0/);
  rejects(file({ a: entry("F32", [1], [0, 4]) }, f32(2)), /cover 4 bytes of data, but the data section is 8 bytes/);
  rejects(file({}, f32(1)), /cover 0 bytes of data, but the data section is 4 bytes/);
  // two empty tensors at one offset do not overlap
  assert.equal(
    Object.keys(
      parseSafetensors(
        file({ a: entry("F32", [0], [4, 4]), b: entry("F32", [0], [4, 4]), c: entry("F32", [1], [0, 4]) }, f32(1)),
      ).tensors,
    ).length,
    3,
  );
});

test("I64 values outside int32 are a LoadError; BOOL bytes other than 0 read as true", () => {
  const data = new Uint8Array(8);
  new DataView(data.buffer).setBigInt64(0, 2n ** 31n, true);
  rejects(
    file({ x: entry("I64", [1], [0, 8]) }, data),
    /tensor "x": I64 value 2147483648 at index 0 does not fit in int32/,
  );
  const b = parseSafetensors(file({ m: entry("BOOL", [3], [0, 3]) }, new Uint8Array([0, 1, 7]))).tensors["m"]!;
  assert.deepEqual([...b.storage], [0, 1, 1]);
});

test("serializeSafetensors rejects what it cannot write", () => {
  assert.throws(
    () => serializeSafetensors({ x: [1, 2] as never }),
    (e: Error) => e instanceof ArgumentError && /"x" is not a Tensor/.test(e.message),
  );
  assert.throws(
    () => serializeSafetensors({ __metadata__: tensor([1]) }),
    (e: Error) => e instanceof ArgumentError && /reserved/.test(e.message),
  );
  assert.throws(
    () => serializeSafetensors({}, { a: 1 as never }),
    (e: Error) => e instanceof ArgumentError && /metadata values must be strings; "a" is number/.test(e.message),
  );
});
