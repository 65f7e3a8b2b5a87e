// Compiles the AssemblyScript kernels of src/backend/wasm/assembly/ to WebAssembly (SIMD) and writes
// src/backend/wasm/generated/kernels.ts, a TypeScript module that embeds the bytes in base64, so nothing
// is fetched at run time and bundlers need no loader. The generated file is gitignored; `npm run build`
// (and so `npm ci`, through `prepare`) regenerates it. Skips the compile when the sources are unchanged.
//
// Two variants of the same code, both importing a shared memory (for the worker-thread pool: each
// worker instantiates the same module over the same memory): plain SIMD, and relaxed SIMD
// (f32x4.relaxed_madd, a fused multiply-add), chosen at run time by feature detection. Where
// SharedArrayBuffer is unavailable the runtime flips the memory import's limits flag from "shared"
// (0x03) to plain (0x01) at MEMORY_FLAG_OFFSET: the only byte in which a build without
// --sharedMemory differs (the kernels use no atomics), which this script checks.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const SRC = "src/backend/wasm/assembly";
const OUT_DIR = "src/backend/wasm/generated";
const OUT = join(OUT_DIR, "kernels.ts");
/** 64 KiB pages: at most 4 GiB (wasm32); the arena grows on demand. */
const MAX_PAGES = 65536;
const INITIAL_PAGES = 32;

/** Every source (for the hash); the module is compiled from index.ts, which re-exports what JavaScript calls. */
const sources = readdirSync(SRC)
  .filter((f) => f.endsWith(".ts"))
  .sort();
const ENTRY = "index.ts";
const asc = await import("assemblyscript/asc");
const hash = createHash("sha256");
hash.update(readFileSync("tools/build-wasm.mjs"));
hash.update(JSON.stringify(asc.version ?? ""));
for (const f of sources) hash.update(f + "\0" + readFileSync(join(SRC, f)));
const digest = hash.digest("hex").slice(0, 16);
if (existsSync(OUT) && readFileSync(OUT, "utf8").includes(`source hash ${digest}`)) {
  console.log(`build-wasm: ${OUT} is up to date`);
  process.exit(0);
}

async function compile(shared, relaxed) {
  const files = {};
  const args = [
    join(SRC, ENTRY),
    "--outFile",
    "kernels.wasm",
    "-O3",
    "--noAssert",
    "--runtime",
    "stub",
    "--use",
    "abort=",
    "--enable",
    "simd",
    "--importMemory",
    "--initialMemory",
    String(INITIAL_PAGES),
    "--maximumMemory",
    String(MAX_PAGES),
    ...(shared ? ["--sharedMemory", "--enable", "threads"] : []),
    ...(relaxed ? ["--enable", "relaxed-simd"] : []),
  ];
  const { error, stderr } = await asc.main(args, {
    writeFile: (name, contents) => {
      files[name] = contents;
    },
  });
  if (error) {
    console.error(stderr.toString());
    throw error;
  }
  const wasm = files["kernels.wasm"];
  if (!relaxed) new WebAssembly.Module(wasm); // validates (Node 20 cannot validate relaxed SIMD without a flag)
  // Instantiating over a memory another instance already uses must not rewrite it.
  if (hasDataSegments(wasm)) throw new Error("build-wasm: the kernels must not have data segments (static data)");
  return Buffer.from(wasm);
}

/** True when the binary has a data section (id 11) with at least one segment. */
function hasDataSegments(bytes) {
  let i = 8;
  const leb = () => {
    let r = 0,
      s = 0,
      b;
    do {
      b = bytes[i++];
      r |= (b & 0x7f) << s;
      s += 7;
    } while (b & 0x80);
    return r >>> 0;
  };
  while (i < bytes.length) {
    const id = bytes[i++],
      size = leb(),
      end = i + size;
    if (id === 11) return leb() > 0;
    i = end;
  }
  return false;
}

/** Offset of the limits flag of the memory import (the module's only import). */
function memoryFlagOffset(bytes) {
  let i = 8;
  const leb = () => {
    let r = 0,
      s = 0,
      b;
    do {
      b = bytes[i++];
      r |= (b & 0x7f) << s;
      s += 7;
    } while (b & 0x80);
    return r >>> 0;
  };
  while (i < bytes.length) {
    const id = bytes[i++],
      size = leb(),
      end = i + size;
    if (id === 2) {
      if (leb() !== 1) break;
      const moduleName = leb();
      i += moduleName;
      const fieldName = leb();
      i += fieldName;
      if (bytes[i++] !== 2) break; // kind: memory
      return i;
    }
    i = end;
  }
  throw new Error("build-wasm: expected exactly one import, the memory");
}

const t0 = Date.now();
const shared = await compile(true, false),
  sharedRelaxed = await compile(true, true);
const flag = memoryFlagOffset(shared);
if (flag !== memoryFlagOffset(sharedRelaxed) || shared[flag] !== 3 || sharedRelaxed[flag] !== 3)
  throw new Error("build-wasm: unexpected memory import");
// The plain-memory build must equal the shared one but for that flag.
const single = await compile(false, false);
const patched = Buffer.from(shared);
patched[flag] = 1;
if (!patched.equals(single))
  throw new Error("build-wasm: a plain-memory build differs from the shared one beyond the memory flag");
mkdirSync(OUT_DIR, { recursive: true });
writeFileSync(
  OUT,
  `// GENERATED by tools/build-wasm.mjs from ${SRC}/ (source hash ${digest}). Do not edit; not committed.
/** WebAssembly kernels importing a shared memory (env.memory). */
export const WASM_SIMD = ${JSON.stringify(shared.toString("base64"))};
/** The same kernels built with relaxed SIMD (fused multiply-add), for hosts that validate it. */
export const WASM_RELAXED_SIMD = ${JSON.stringify(sharedRelaxed.toString("base64"))};
/** Byte offset of the memory import's limits flag: 0x03 (shared, with maximum); 0x01 imports a plain memory. */
export const MEMORY_FLAG_OFFSET = ${flag};
export const INITIAL_PAGES = ${INITIAL_PAGES};
export const MAX_PAGES = ${MAX_PAGES};
`,
);
console.log(`build-wasm: ${OUT} (${shared.length} + ${sharedRelaxed.length} bytes of wasm) in ${Date.now() - t0} ms`);
