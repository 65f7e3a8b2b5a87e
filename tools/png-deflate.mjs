// Deflate the image data of a PNG written by src/io/png.ts (stored, uncompressed: the core has no zlib) for
// files on disk. Usage as a module (recompress(bytes) → bytes), or: node tools/png-deflate.mjs FILE.png ...
// (rewrites each file in place).
import { readFileSync, writeFileSync } from "node:fs";
import { deflatePng } from "../dist/src/io/node.js";

/** The same image with its IDAT data deflated (level 9); the other chunks are kept (src/io/node.ts deflatePng). */
export const recompress = deflatePng;

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const file of process.argv.slice(2)) {
    const before = readFileSync(file);
    const after = recompress(before);
    writeFileSync(file, after);
    console.log(`${file}: ${before.length} → ${after.length} bytes`);
  }
}
