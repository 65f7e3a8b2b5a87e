// GGML block formats against ggml's reference quantizer, byte for byte (tools/fixtures/ggml_blocks.mjs),
// and the error each type's round trip may make.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ArgumentError, DTypeError } from "../../engine/errors.js";
import { crc32 } from "../checksum.js";
import {
  GGML_TYPES,
  GGML_TYPE_NAMES,
  dequantize,
  fp16ToFp32,
  fp32ToFp16,
  quantize,
  rowBytes,
  type GgmlType,
} from "./quants.js";

interface Fixture {
  n: number;
  cases: {
    name: string;
    input: string;
    types: Record<string, { bytes: string; dequantized?: string; dequantizedCrc32: number }>;
  }[];
}
const fixture = JSON.parse(
  readFileSync(new URL("../../../../test/fixtures/io/ggml-blocks.json", import.meta.url), "utf8"),
) as Fixture;
const bytesOf = (b64: string): Uint8Array => new Uint8Array(Buffer.from(b64, "base64"));
const floatsOf = (b64: string): Float32Array => {
  const u8 = bytesOf(b64);
  return new Float32Array(u8.buffer.slice(u8.byteOffset, u8.byteOffset + u8.byteLength));
};
const asBytes = (x: Float32Array): Uint8Array => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);

/** The first byte where a and b differ, with the block it falls in, for a readable failure. */
function firstDiff(a: Uint8Array, b: Uint8Array, typeSize: number): string {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i])
      return `byte ${i} (block ${Math.floor(i / typeSize)}, offset ${i % typeSize}): ours ${a[i]}, ggml ${b[i]}`;
  }
  return "none";
}

test("every block type quantizes and dequantizes bit for bit as ggml's reference (20 input rows)", () => {
  let checked = 0;
  for (const c of fixture.cases) {
    const x = floatsOf(c.input);
    assert.equal(x.length, fixture.n);
    for (const [name, want] of Object.entries(c.types)) {
      const type = name as GgmlType;
      const ours = quantize(type, x);
      const theirs = bytesOf(want.bytes);
      assert.equal(ours.length, theirs.length, `${c.name} ${type}: length`);
      assert.ok(
        firstDiff(ours, theirs, GGML_TYPES[type].typeSize) === "none",
        `${c.name} ${type}: ${firstDiff(ours, theirs, GGML_TYPES[type].typeSize)}`,
      );
      const deq = dequantize(type, theirs, x.length);
      if (want.dequantized !== undefined)
        assert.deepEqual(asBytes(deq), bytesOf(want.dequantized), `${c.name} ${type}: dequantized`);
      assert.equal(crc32(asBytes(deq)), want.dequantizedCrc32, `${c.name} ${type}: dequantized (CRC-32)`);
      checked++;
    }
  }
  // 19 finite rows × 12 types + the special values row × 2 (F16, BF16)
  assert.equal(checked, 19 * 12 + 2);
  for (const t of ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "F16", "BF16"]) {
    assert.ok(
      fixture.cases.some((c) => t in c.types),
      t,
    );
  }
});

test("F16: NaN, ±inf, ±0, overflow and subnormals as ggml converts them", () => {
  assert.equal(fp32ToFp16(NaN), 0x7e00);
  assert.equal(fp32ToFp16(-Infinity), 0xfc00);
  assert.equal(fp32ToFp16(-0), 0x8000);
  assert.equal(fp32ToFp16(65504), 0x7bff);
  assert.equal(fp32ToFp16(65520), 0x7c00); // the tie above the largest half rounds to even: inf
  assert.equal(fp32ToFp16(2 ** -24), 0x0001);
  assert.equal(fp32ToFp16(2 ** -25), 0x0000); // tie to even: 0
  assert.equal(fp32ToFp16(3 * 2 ** -25), 0x0002); // 1.5 ulp: tie to even 2
  for (let h = 0; h < 0x10000; h++) {
    const v = fp16ToFp32(h);
    if (!Number.isNaN(v)) assert.equal(fp32ToFp16(v), h, `half 0x${h.toString(16)} round trip`);
  }
});

test("round-trip error per type stays within its bound (seeded Gaussian rows)", () => {
  // bound on the RMS error relative to the RMS of the input, loose enough for any seed
  const bounds: Record<GgmlType, number> = {
    F32: 0,
    F16: 1e-3,
    BF16: 8e-3,
    Q8_0: 0.01,
    Q6_K: 0.03,
    Q5_1: 0.05,
    Q5_0: 0.06,
    Q5_K: 0.06,
    Q4_1: 0.1,
    Q4_0: 0.12,
    Q4_K: 0.1,
    Q3_K: 0.25,
    Q2_K: 0.5,
  };
  let s = 7;
  const x = Float32Array.from({ length: 4096 }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const u1 = (s + 1) / 4294967297;
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const u2 = s / 4294967296;
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  });
  const rms = Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length);
  const errors: Partial<Record<GgmlType, number>> = {};
  for (const t of GGML_TYPE_NAMES) {
    const y = dequantize(t, quantize(t, x), x.length);
    let e = 0;
    for (let i = 0; i < x.length; i++) e += (y[i]! - x[i]!) ** 2;
    errors[t] = Math.sqrt(e / x.length) / rms;
    assert.ok(errors[t]! <= bounds[t], `${t}: relative RMS error ${errors[t]} above ${bounds[t]}`);
  }
  // more bits, less error: the order ggml's bits per weight promise
  assert.ok(
    errors.Q8_0! < errors.Q6_K! &&
      errors.Q6_K! < errors.Q5_K! &&
      errors.Q5_K! < errors.Q4_K! &&
      errors.Q4_K! < errors.Q3_K! &&
      errors.Q3_K! < errors.Q2_K!,
  );
  assert.ok(errors.Q5_0! < errors.Q4_0! && errors.Q5_1! < errors.Q4_1!);
});

test("rows that are not whole blocks, non-finite values and wrong byte counts are rejected", () => {
  assert.throws(
    () => quantize("Q4_0", new Float32Array(33)),
    (e: unknown) => e instanceof ArgumentError && /Q4_0.*33.*block size 32/.test(e.message),
  );
  assert.throws(
    () => quantize("Q6_K", new Float32Array(255)),
    (e: unknown) => e instanceof ArgumentError && /Q6_K.*255.*256/.test(e.message),
  );
  const x = new Float32Array(64);
  x[40] = NaN;
  assert.throws(
    () => quantize("Q8_0", x),
    (e: unknown) => e instanceof DTypeError && /Q8_0.*NaN.*index 40.*block 1/.test(e.message),
  );
  x[40] = -Infinity;
  assert.throws(() => quantize("Q4_K", new Float32Array(256).fill(Infinity)), DTypeError);
  assert.throws(() => dequantize("Q4_0", new Uint8Array(17), 32), ArgumentError);
  assert.equal(rowBytes("Q4_K", 512), 288);
  assert.equal(quantize("F16", new Float32Array(3)).length, 6); // plain casts take any length
});
