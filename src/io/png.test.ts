// PNG: our files decoded by an independent path (chunk walk, zlib's CRC-32, zlib's inflate), then
// the pictures checked pixel by pixel where the pixels are known.
import assert from "node:assert/strict";
import { test } from "node:test";
import { crc32 as zlibCrc32, deflateSync, inflateSync } from "node:zlib";
import { ArgumentError, Generator, rand, tensor } from "../index.js";
import { PALETTE, formatTick, imageGrid, imageGridPng, lineChart, lineChartPng, niceTicks } from "./chart.js";
import { adler32, crc32 } from "./checksum.js";
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from "./font.js";
import { deflatePng, zlibDeflate } from "./node.js";
import { encodePng, zlibStored, type RasterImage } from "./png.js";

interface Decoded {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  chunks: string[];
  pixels: Uint8Array;
}

/** A minimal PNG reader for our own output (8-bit, no interlace, filter 0 on every row). */
function decodePng(png: Uint8Array): Decoded {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "signature");
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: string[] = [];
  const idat: Uint8Array[] = [];
  let ihdr: Uint8Array | null = null;
  for (let at = 8; at < png.length;) {
    const len = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const body = png.subarray(at + 8, at + 8 + len);
    assert.equal(view.getUint32(at + 8 + len), zlibCrc32(png.subarray(at + 4, at + 8 + len)), `${type}: CRC`);
    chunks.push(type);
    if (type === "IHDR") ihdr = body;
    if (type === "IDAT") idat.push(body);
    at += 12 + len;
  }
  assert.ok(ihdr, "IHDR");
  const h = new DataView(ihdr.buffer, ihdr.byteOffset, 13);
  const width = h.getUint32(0),
    height = h.getUint32(4),
    bitDepth = ihdr[8]!,
    colorType = ihdr[9]!;
  assert.deepEqual([...ihdr.subarray(10, 13)], [0, 0, 0], "compression, filter, interlace");
  const channels = { 0: 1, 2: 3, 6: 4 }[colorType]!;
  const raw = new Uint8Array(inflateSync(Buffer.concat(idat))); // zlib checks the Adler-32 too
  const stride = width * channels;
  assert.equal(raw.length, height * (stride + 1));
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    assert.equal(raw[y * (stride + 1)], 0, `row ${y}: filter type`);
    pixels.set(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)), y * stride);
  }
  return { width, height, bitDepth, colorType, chunks, pixels };
}

test("CRC-32 and Adler-32 match zlib and the standards' check values", () => {
  const ascii = new TextEncoder().encode("123456789");
  assert.equal(crc32(ascii), 0xcbf43926); // the CRC-32 check value (ISO 3309 / ITU-T V.42)
  const r = new Generator(3);
  const data = new Uint8Array(100_000).map(() => r.randint(0, 256));
  assert.equal(crc32(data), zlibCrc32(data));
  assert.equal(crc32(data.subarray(500), crc32(data.subarray(0, 500))), crc32(data), "running CRC");
  // Adler-32 is the last 4 bytes of a zlib stream
  const z = deflateSync(data);
  assert.equal(adler32(data), new DataView(z.buffer, z.byteOffset, z.length).getUint32(z.length - 4));
  assert.equal(adler32(new Uint8Array(0)), 1);
});

test("zlibStored is a valid zlib stream, for empty, small and multi-block inputs", () => {
  for (const n of [0, 1, 65535, 65536, 200_000]) {
    const raw = new Uint8Array(n).map((_, i) => (i * 7) & 255);
    assert.deepEqual(new Uint8Array(inflateSync(zlibStored(raw))), raw, `${n} bytes`);
  }
});

test("encodePng: gray, RGB and RGBA, stored and zlib-compressed, decode to the same pixels", () => {
  const r = new Generator(4);
  for (const channels of [1, 3, 4] as const) {
    for (const deflate of [undefined, zlibDeflate]) {
      const img: RasterImage = {
        width: 7,
        height: 5,
        channels,
        data: new Uint8Array(7 * 5 * channels).map(() => r.randint(0, 256)),
      };
      const d = decodePng(encodePng(img, { deflate }));
      assert.deepEqual(d.chunks, ["IHDR", "IDAT", "IEND"]);
      assert.deepEqual([d.width, d.height, d.bitDepth, d.colorType], [7, 5, 8, { 1: 0, 3: 2, 4: 6 }[channels]]);
      assert.deepEqual(d.pixels, img.data);
    }
  }
  assert.throws(
    () => encodePng({ width: 2, height: 2, channels: 3, data: new Uint8Array(11) }),
    (e: Error) => e instanceof ArgumentError && /needs 12 bytes, got 11/.test(e.message),
  );
  assert.throws(() => encodePng({ width: 0, height: 2, channels: 1, data: new Uint8Array(0) }), ArgumentError);
});

test("imageGrid places each image in its cell, maps values to 0–255, pads and magnifies", () => {
  // two 2×2 images; floats map [0, 1] → [0, 255], clipped
  const imgs = tensor([
    [
      [0, 0.5],
      [1, 2],
    ],
    [
      [-1, 0.25],
      [0.75, 1],
    ],
  ]);
  const d = decodePng(imageGridPng(imgs, 1, 3, { pad: 1, background: 9 }));
  assert.deepEqual([d.width, d.height, d.colorType], [3 * 2 + 4, 2 + 2, 0]);
  const px = (x: number, y: number): number => d.pixels[y * d.width + x]!;
  assert.deepEqual([px(1, 1), px(2, 1), px(1, 2), px(2, 2)], [0, 128, 255, 255]); // first image
  assert.deepEqual([px(4, 1), px(5, 1), px(4, 2), px(5, 2)], [0, 64, 191, 255]); // second image
  assert.deepEqual([px(0, 0), px(3, 1), px(7, 2), px(9, 3)], [9, 9, 9, 9]); // padding and the empty third cell
  // scale 2 repeats each pixel in a 2×2 block; RGB images keep their channels
  const big = imageGrid([tensor([[0, 1]])], 1, 1, { pad: 0, scale: 2 });
  assert.deepEqual([...big.data], [0, 0, 255, 255, 0, 0, 255, 255]);
  const rgb = imageGrid(tensor([[[[1]], [[0]], [[0.5]]]]), 1, 1, { pad: 0 });
  assert.deepEqual([rgb.channels, ...rgb.data], [3, 255, 0, 128]);
  assert.throws(
    () => imageGrid(rand([5, 4, 4]), 2, 2),
    (e: Error) => e instanceof ArgumentError && /5 images do not fit in 2×2 cells/.test(e.message),
  );
  assert.throws(
    () => imageGrid(rand([2, 2, 4, 4]), 1, 2),
    (e: Error) => e instanceof ArgumentError && /C = 1 or 3, got \(2,4,4\)/.test(e.message),
  );
});

test("lineChart draws axes, both series in their colours, a title and a legend", () => {
  const series = [
    { name: "train", points: Array.from({ length: 50 }, (_, i) => [i, 3 * Math.exp(-i / 10) + 1] as [number, number]) },
    {
      name: "val",
      points: [
        [0, 4],
        [25, 1.8],
        [NaN, 1],
        [49, 1.5],
      ] as [number, number][],
    },
  ];
  const d = decodePng(lineChartPng({ series, width: 400, height: 300, title: "Loss" }, { deflate: zlibDeflate }));
  assert.deepEqual([d.width, d.height, d.colorType], [400, 300, 2]);
  const at = (x: number, y: number): number[] => [
    ...d.pixels.subarray(3 * (y * d.width + x), 3 * (y * d.width + x) + 3),
  ];
  const count = (c: readonly number[]): number => {
    let n = 0;
    for (let i = 0; i < d.pixels.length; i += 3)
      if (d.pixels[i] === c[0] && d.pixels[i + 1] === c[1] && d.pixels[i + 2] === c[2]) n++;
    return n;
  };
  assert.deepEqual(at(0, 0), [255, 255, 255], "white background");
  assert.ok(count(PALETTE[0]!) > 100, "the first series is drawn");
  assert.ok(count(PALETTE[1]!) > 50, "the second series is drawn");
  // the y axis: a column that is black over most of the plot's height
  let axis = -1;
  for (let x = 0; x < 120 && axis < 0; x++) {
    let black = 0;
    for (let y = 0; y < d.height; y++) if (at(x, y).every((v) => v === 0)) black++;
    if (black > d.height / 2) axis = x;
  }
  assert.ok(axis > 10, "a vertical black axis line right of the y tick labels");
  // the title: black pixels in the top rows, centred
  let titleBlack = 0;
  for (let y = 0; y < 12 + 2 * GLYPH_HEIGHT + 2; y++)
    for (let x = 150; x < 250; x++) if (at(x, y).every((v) => v === 0)) titleBlack++;
  assert.ok(titleBlack > 20, "title drawn");
  // empty and flat series still give a chart
  assert.equal(lineChart({ series: [] }).width, 800);
  assert.equal(
    lineChart({
      series: [
        {
          name: "flat",
          points: [
            [0, 1],
            [1, 1],
          ],
        },
      ],
    }).height,
    500,
  );
});

test("deflatePng: a stored chart (as a recipe returns it) shrinks and keeps its pixels and chunks; a truncated file is a LoadError", () => {
  const series = [
    { name: "loss", points: Array.from({ length: 100 }, (_, i) => [i, Math.exp(-i / 30)] as [number, number]) },
  ];
  const stored = lineChartPng({ series, width: 800, height: 500, title: "Loss" }); // the core's default: no compression
  const small = deflatePng(stored);
  const a = decodePng(stored),
    b = decodePng(small);
  assert.deepEqual([b.width, b.height, b.colorType, b.chunks], [a.width, a.height, a.colorType, a.chunks]);
  assert.deepEqual(b.pixels, a.pixels);
  assert.ok(small.length * 10 < stored.length, `${small.length} bytes deflated vs ${stored.length} stored`);
  assert.throws(
    () => deflatePng(stored.subarray(0, 100)),
    (e: unknown) => e instanceof Error && e.name === "LoadError" && /runs past the end/.test(e.message),
  );
});

test("nice ticks and their labels", () => {
  assert.deepEqual(niceTicks(0.13, 4.2, 5), { lo: 0, hi: 5, step: 1, ticks: [0, 1, 2, 3, 4, 5] });
  assert.deepEqual(niceTicks(0, 2000, 5).ticks, [0, 500, 1000, 1500, 2000]);
  assert.equal(niceTicks(1.5, 1.85, 5).step, 0.1); // 0.35 / 5 = 0.07 → the next nice step, 0.1
  assert.equal(niceTicks(1.5, 1.7, 5).step, 0.05);
  assert.deepEqual(
    [formatTick(0.25, 0.05), formatTick(1500, 500), formatTick(2e-5, 1e-5), formatTick(3e-17, 0.1)],
    ["0.25", "1500", "2e-5", "0"],
  );
});

test("every glyph of the font is 7 rows of 5 pixels", () => {
  for (const ch of "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz .,-+:;/()[]_=%#?!*'\"<>|~") {
    const g = glyph(ch);
    assert.equal(g.length, GLYPH_HEIGHT, ch);
    for (const row of g) assert.equal(row.length, GLYPH_WIDTH, ch);
  }
});
