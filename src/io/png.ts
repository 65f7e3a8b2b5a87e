// A PNG writer (https://www.w3.org/TR/png/): 8-bit grayscale, RGB or RGBA, no interlacing.
//
//   signature  89 50 4E 47 0D 0A 1A 0A
//   chunks     length (u32 BE) · type (4 ASCII) · data · CRC-32 of type + data (u32 BE)
//              IHDR  width, height, bit depth 8, colour type (0 gray, 2 RGB, 6 RGBA), 0, 0, 0
//              IDAT  a zlib stream of the scanlines, each prefixed by its filter byte (0: none)
//              IEND  empty
//
// Compression is pluggable: the core has a stored-block zlib stream (valid, uncompressed, runs
// anywhere); src/io/node.ts passes node:zlib's deflate.

import { ArgumentError } from "../engine/errors.js";
import { adler32, crc32 } from "./checksum.js";

/** Pixels, row-major, `channels` bytes per pixel (1 gray, 3 RGB, 4 RGBA). */
export interface RasterImage {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

export interface PngOptions {
  /** raw bytes → a zlib stream (RFC 1950). Default: zlibStored, no compression. */
  deflate?: (raw: Uint8Array) => Uint8Array;
}

const COLOR_TYPE = { 1: 0, 3: 2, 4: 6 } as const;

export function encodePng(image: RasterImage, opts: PngOptions = {}): Uint8Array {
  const { width, height, channels, data } = image;
  if (
    !Number.isInteger(width) ||
    !Number.isInteger(height) ||
    width < 1 ||
    height < 1 ||
    width > 2 ** 31 - 1 ||
    height > 2 ** 31 - 1
  ) {
    throw new ArgumentError(`encodePng: width and height must be positive integers, got ${width}×${height}`);
  }
  if (channels !== 1 && channels !== 3 && channels !== 4)
    throw new ArgumentError(`encodePng: channels must be 1, 3 or 4, got ${channels}`);
  if (!(data instanceof Uint8Array) || data.length !== width * height * channels) {
    throw new ArgumentError(
      `encodePng: a ${width}×${height} image with ${channels} channels needs ${width * height * channels} bytes, got ${data?.length}`,
    );
  }

  // Scanlines: filter byte 0 (none), then the row's bytes.
  const stride = width * channels;
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) raw.set(data.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);

  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = COLOR_TYPE[channels];
  // compression 0 (deflate), filter method 0, interlace 0: already zero

  const deflate = opts.deflate ?? zlibStored;
  const chunks = [chunk("IHDR", ihdr), chunk("IDAT", deflate(raw)), chunk("IEND", new Uint8Array(0))];
  const signature = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const out = new Uint8Array(signature.length + chunks.reduce((n, c) => n + c.length, 0));
  out.set(signature, 0);
  let at = signature.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length))); // CRC of type + data
  return out;
}

/**
 * A zlib stream (RFC 1950) of stored deflate blocks (RFC 1951, BTYPE 00): no compression, but valid
 * everywhere and a few lines long.
 *   header 78 01 · blocks [BFINAL|00, LEN (u16 LE), ~LEN, LEN bytes] · Adler-32 (u32 BE)
 */
export function zlibStored(raw: Uint8Array): Uint8Array {
  const MAX = 65535;
  const blocks = Math.max(1, Math.ceil(raw.length / MAX));
  const out = new Uint8Array(2 + blocks * 5 + raw.length + 4);
  out[0] = 0x78; // CM 8 (deflate), CINFO 7 (32 KB window)
  out[1] = 0x01; // FCHECK: (0x78·256 + 0x01) mod 31 = 0; no dictionary, "fastest" level
  let at = 2;
  for (let b = 0; b < blocks; b++) {
    const start = b * MAX,
      len = Math.min(MAX, raw.length - start);
    out[at] = b === blocks - 1 ? 1 : 0;
    out[at + 1] = len & 0xff;
    out[at + 2] = len >>> 8;
    out[at + 3] = ~len & 0xff;
    out[at + 4] = (~len >>> 8) & 0xff;
    out.set(raw.subarray(start, start + len), at + 5);
    at += 5 + len;
  }
  new DataView(out.buffer).setUint32(at, adler32(raw));
  return out;
}
