// Deflate the image data of a PNG written by src/io/png.ts (stored, uncompressed: the core has no zlib) for
// files on disk. Usage as a module (recompress(bytes) → bytes), or: node tools/png-deflate.mjs FILE.png ...
// (rewrites each file in place).
import { readFileSync, writeFileSync } from "node:fs";
import { deflateSync, inflateSync } from "node:zlib";
import { io } from "../dist/src/index.js";

export /** The same image with its IDAT data deflated (level 9); the other chunks are kept. */
function recompress(png) {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks = [];
  let idat = [];
  for (let at = 8; at < png.length; ) {
    const len = view.getUint32(at), type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const body = png.subarray(at + 8, at + 8 + len);
    if (type === "IDAT") idat.push(body);
    else {
      if (idat.length) chunks.push(["IDAT", deflateSync(inflateSync(Buffer.concat(idat)), { level: 9 })]), (idat = []);
      chunks.push([type, body]);
    }
    at += 12 + len;
  }
  const parts = [png.subarray(0, 8)];
  for (const [type, body] of chunks) {
    const head = new Uint8Array(8);
    new DataView(head.buffer).setUint32(0, body.length);
    head.set([...type].map((c) => c.charCodeAt(0)), 4);
    const crc = new Uint8Array(4);
    new DataView(crc.buffer).setUint32(0, io.crc32(Buffer.concat([head.subarray(4), body])));
    parts.push(head, body, crc);
  }
  return Buffer.concat(parts);
}


if (import.meta.url === `file://${process.argv[1]}`) {
  for (const file of process.argv.slice(2)) {
    const before = readFileSync(file);
    const after = recompress(before);
    writeFileSync(file, after);
    console.log(`${file}: ${before.length} → ${after.length} bytes`);
  }
}
