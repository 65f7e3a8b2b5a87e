import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError, LoadError } from "../engine/errors.js";
import { Generator } from "../engine/rng.js";
import { assertThrowsWith } from "../../test/harness/assert.js";
import { decodeWav, encodeWav } from "./wav.js";

/** A RIFF file from its chunks (id, body), with the RIFF size filled in. */
function riff(chunks: [string, Uint8Array][]): Uint8Array {
  const size = chunks.reduce((n, [, b]) => n + 8 + b.length + (b.length & 1), 4);
  const out = new Uint8Array(8 + size);
  const v = new DataView(out.buffer);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i);
  };
  ascii(0, "RIFF");
  v.setUint32(4, size, true);
  ascii(8, "WAVE");
  let at = 12;
  for (const [id, body] of chunks) {
    ascii(at, id);
    v.setUint32(at + 4, body.length, true);
    out.set(body, at + 8);
    at += 8 + body.length + (body.length & 1);
  }
  return out;
}

function fmt(
  format: number,
  channels: number,
  rate: number,
  bits: number,
  blockAlign = channels * (bits / 8),
): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint16(0, format, true);
  v.setUint16(2, channels, true);
  v.setUint32(4, rate, true);
  v.setUint32(8, rate * blockAlign, true);
  v.setUint16(12, blockAlign, true);
  v.setUint16(14, bits, true);
  return b;
}

test("16-bit PCM: encode → decode → encode gives the same bytes; samples are q / 32768", () => {
  const g = new Generator(1);
  const left = Float32Array.from({ length: 1001 }, () => Math.round((g.random() * 2 - 1) * 32767) / 32768);
  const right = Float32Array.from({ length: 1001 }, () => Math.round((g.random() * 2 - 1) * 32767) / 32768);
  const bytes = encodeWav({ sampleRate: 16000, channels: [left, right] });
  assert.equal(bytes.length, 44 + 1001 * 2 * 2);
  const wav = decodeWav(bytes);
  assert.equal(wav.sampleRate, 16000);
  assert.deepEqual(wav.channels[0], left);
  assert.deepEqual(wav.channels[1], right);
  assert.deepEqual(encodeWav(wav), bytes);
  // the edges: -1 → -32768, values past +1 clip to 32767
  const edge = decodeWav(encodeWav({ sampleRate: 8000, channels: [Float32Array.from([-1, 2, -3, 0.5])] }));
  assert.deepEqual([...edge.channels[0]!], [-1, 32767 / 32768, -1, 0.5]);
});

test("8-, 24- and 32-bit PCM and 32-bit float are read; other chunks are skipped, odd sizes padded", () => {
  const pcm8 = riff([
    ["fmt ", fmt(1, 1, 8000, 8)],
    ["data", Uint8Array.from([0, 128, 255])],
  ]);
  assert.deepEqual([...decodeWav(pcm8).channels[0]!], [-1, 0, 127 / 128]);
  const pcm24 = riff([
    ["LIST", Uint8Array.from([1, 2, 3])],
    ["fmt ", fmt(1, 1, 8000, 24)],
    ["data", Uint8Array.from([0, 0, 0x80, 0xff, 0xff, 0x7f])],
  ]);
  assert.deepEqual([...decodeWav(pcm24).channels[0]!], [-1, 8388607 / 8388608].map(Math.fround));
  const f = new Uint8Array(8);
  new DataView(f.buffer).setFloat32(0, 0.25, true);
  new DataView(f.buffer).setFloat32(4, -0.75, true);
  assert.deepEqual(
    [
      ...decodeWav(
        riff([
          ["fmt ", fmt(3, 2, 44100, 32)],
          ["data", f],
        ]),
      ).channels.map((c) => c[0]),
    ],
    [0.25, -0.75],
  );
});

test("malformed WAV files are refused with LoadError saying what is wrong", () => {
  const good = riff([
    ["fmt ", fmt(1, 1, 8000, 16)],
    ["data", new Uint8Array(8)],
  ]);
  assertThrowsWith(() => decodeWav(new Uint8Array(0)), LoadError, /not a RIFF\/WAVE/);
  assertThrowsWith(
    () => decodeWav(new TextEncoder().encode("RIFF\x04\x00\x00\x00WAVX")),
    LoadError,
    /not a RIFF\/WAVE/,
  );
  assertThrowsWith(() => decodeWav(riff([["fmt ", fmt(1, 1, 8000, 16)]])), LoadError, /no 'data' chunk/);
  assertThrowsWith(
    () =>
      decodeWav(
        riff([
          ["data", new Uint8Array(4)],
          ["fmt ", fmt(1, 1, 8000, 16)],
        ]),
      ),
    LoadError,
    /before any 'fmt '/,
  );
  assertThrowsWith(
    () =>
      decodeWav(
        riff([
          ["fmt ", new Uint8Array(10)],
          ["data", new Uint8Array(4)],
        ]),
      ),
    LoadError,
    /shorter than 16/,
  );
  assertThrowsWith(
    () =>
      decodeWav(
        riff([
          ["fmt ", fmt(1, 0, 8000, 16, 2)],
          ["data", new Uint8Array(4)],
        ]),
      ),
    LoadError,
    /0 channels/,
  );
  assertThrowsWith(
    () =>
      decodeWav(
        riff([
          ["fmt ", fmt(1, 65535, 8000, 16, 2)],
          ["data", new Uint8Array(4)],
        ]),
      ),
    LoadError,
    /65535 channels/,
  );
  assertThrowsWith(
    () =>
      decodeWav(
        riff([
          ["fmt ", fmt(1, 1, 0, 16)],
          ["data", new Uint8Array(4)],
        ]),
      ),
    LoadError,
    /sample rate 0/,
  );
  assertThrowsWith(
    () =>
      decodeWav(
        riff([
          ["fmt ", fmt(2, 1, 8000, 4, 1)],
          ["data", new Uint8Array(4)],
        ]),
      ),
    LoadError,
    /format 2 with 4 bits/,
  );
  assertThrowsWith(
    () =>
      decodeWav(
        riff([
          ["fmt ", fmt(1, 2, 8000, 16, 3)],
          ["data", new Uint8Array(6)],
        ]),
      ),
    LoadError,
    /block align 3/,
  );
  // a chunk claiming more bytes than the file holds
  const lying = good.slice();
  new DataView(lying.buffer).setUint32(40, 0xfffffff0, true);
  assertThrowsWith(() => decodeWav(lying), LoadError, /claims 4294967280 bytes/);
  assertThrowsWith(
    () => encodeWav({ sampleRate: 8000, channels: [new Float32Array(2), new Float32Array(3)] }),
    ArgumentError,
    /same number of samples/,
  );
  assertThrowsWith(() => encodeWav({ sampleRate: 0.5, channels: [new Float32Array(2)] }), ArgumentError, /sample rate/);
  assertThrowsWith(
    () => encodeWav({ sampleRate: 8000, channels: [Float32Array.from([0, NaN])] }),
    ArgumentError,
    /NaN/,
  );
});

test("fuzz: every truncation and 2,000 seeded byte flips either decode or raise LoadError", () => {
  const g = new Generator(7);
  const base = riff([
    ["LIST", new Uint8Array(5)],
    ["fmt ", fmt(1, 2, 16000, 16)],
    ["data", Uint8Array.from({ length: 40 }, (_, i) => i * 7)],
  ]);
  const tryDecode = (b: Uint8Array, what: string) => {
    try {
      const w = decodeWav(b);
      assert.ok(
        w.channels.length >= 1 && w.channels.every((c) => c.every((s) => Number.isFinite(s) || Number.isNaN(s))),
      );
    } catch (e) {
      assert.ok(e instanceof LoadError, `${what}: ${(e as Error).name}: ${(e as Error).message}`);
    }
  };
  for (let n = 0; n <= base.length; n++) tryDecode(base.subarray(0, n), `truncated to ${n}`);
  for (let i = 0; i < 2000; i++) {
    const b = base.slice();
    for (let k = 0; k < 1 + (i % 4); k++) b[g.randint(0, b.length)] = g.randint(0, 256);
    tryDecode(b, `flip ${i}`);
  }
});
