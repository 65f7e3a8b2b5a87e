// Files (Node only; the only file of src/io that imports Node built-ins, so the rest bundles for
// browsers). Every save is atomic: a crash or a kill at any moment leaves either the previous file or
// the new one at `path`, never a half-written one.
//
//   write <path>.tmp-<pid>-<random>   →   fsync it   →   rename it over <path>   →   fsync the folder
//
// rename() replaces the directory entry in one step (POSIX), the first fsync makes sure the new
// file's bytes are on disk before the name points at them, and the last one makes the rename itself
// durable.

import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { deflateSync, inflateSync } from "node:zlib";
import { LoadError, WnnError } from "../engine/errors.js";
import type { Tensor } from "../engine/tensor.js";
import { openCheckedFile, readCheckedFile, readFully } from "./checked-file-node.js";
import { parseCheckpoint, planCheckpoint, type Checkpoint, type LoadedCheckpoint } from "./checkpoint.js";
import { encodePng, type RasterImage } from "./png.js";
import { crc32 } from "./checksum.js";
import {
  decodeTensor,
  parseHeader,
  parseSafetensors,
  planSafetensors,
  readHeaderLength,
  type ParseOptions,
  type Safetensors,
  type SafetensorsEntry,
} from "./safetensors.js";

// ---------------------------------------------------------------------------------------------------
// Atomic writes

/** Write `chunks` (concatenated) to `path` atomically; see the top of this file. */
export function writeFileAtomic(path: string, chunks: readonly Uint8Array[]): void {
  removeStaleTemporaries(path);
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`;
  let fd = openSync(tmp, "wx", 0o644);
  try {
    for (const chunk of chunks) {
      for (let done = 0; done < chunk.length;) done += writeSync(fd, chunk, done, chunk.length - done);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already renamed or never created
    }
    throw e;
  }
  fsyncDirectory(dirname(path));
}

function fsyncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, "r");
  } catch {
    return; // some platforms (Windows) cannot open a folder; the rename is all they offer
  }
  try {
    fsyncSync(fd);
  } catch {
    // EINVAL/EISDIR where folders cannot be synced
  } finally {
    closeSync(fd);
  }
}

/** Delete `<path>.tmp-<pid>-*` files left by processes that died mid-save (never a live one's). */
function removeStaleTemporaries(path: string): void {
  const dir = dirname(path),
    prefix = `${basename(path)}.tmp-`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split("-")[0]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || isAlive(pid)) continue;
    try {
      unlinkSync(join(dir, name));
    } catch {
      // someone else removed it
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, but is not ours
  }
}

// ---------------------------------------------------------------------------------------------------
// Reading whole files, with the path in every error

function readWhole(path: string): Uint8Array {
  return readCheckedFile(path); // a regular file, never a folder, FIFO or device (./checked-file-node.ts)
}

function withPath<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof LoadError) throw new LoadError(`${path}: ${e.message}`);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------------
// safetensors files

export function saveSafetensors(
  path: string,
  tensors: Record<string, Tensor>,
  metadata: Record<string, string> = {},
): void {
  const plan = planSafetensors(tensors, metadata);
  writeFileAtomic(path, [plan.head, ...plan.chunks]);
}

export function loadSafetensors(path: string, opts: ParseOptions = {}): Safetensors {
  const bytes = readWhole(path);
  return withPath(path, () => parseSafetensors(bytes, opts));
}

/** A safetensors file opened for reading one tensor at a time (for checkpoints bigger than memory). */
export interface SafetensorsReader {
  readonly path: string;
  readonly metadata: Record<string, string>;
  /** The tensors' descriptions, in the order of their data. */
  readonly entries: readonly SafetensorsEntry[];
  has(name: string): boolean;
  /** Read and decode one tensor. */
  read(name: string): Tensor;
  close(): void;
}

/** Read only the header now (checked as parseSafetensors checks it); tensors are read on demand. */
export function openSafetensors(path: string, opts: ParseOptions = {}): SafetensorsReader {
  const { fd, size } = openCheckedFile(path);
  try {
    const first8 = new Uint8Array(Math.min(8, size));
    readFully(fd, first8, 0, path);
    const n = withPath(path, () => readHeaderLength(first8, size));
    const headerBytes = new Uint8Array(n);
    readFully(fd, headerBytes, 8, path);
    const header = withPath(path, () => parseHeader(headerBytes, size - 8 - n, opts));
    const byName = new Map(header.entries.map((e) => [e.name, e]));
    let open = true;
    return {
      path,
      metadata: header.metadata,
      entries: header.entries,
      has: (name) => byName.has(name),
      read(name) {
        if (!open) throw new WnnError(`${path}: read(${JSON.stringify(name)}) after close()`);
        const e = byName.get(name);
        if (e === undefined) throw new LoadError(`${path}: no tensor named ${JSON.stringify(name)}`);
        const bytes = new Uint8Array(e.end - e.begin);
        readFully(fd, bytes, header.dataStart + e.begin, path);
        return withPath(path, () => decodeTensor(e, bytes));
      },
      close() {
        if (open) closeSync(fd);
        open = false;
      },
    };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------------
// Checkpoints

export function saveCheckpoint(path: string, ckpt: Checkpoint): void {
  const plan = planCheckpoint(ckpt);
  writeFileAtomic(path, [plan.head, ...plan.chunks]);
}

export function loadCheckpoint(path: string): LoadedCheckpoint {
  const bytes = readWhole(path);
  return withPath(path, () => parseCheckpoint(bytes));
}

// ---------------------------------------------------------------------------------------------------
// PNG

/** zlib's deflate (much smaller files than the core's stored blocks). */
export function zlibDeflate(raw: Uint8Array): Uint8Array {
  return deflateSync(raw, { level: 9 });
}

/**
 * The same PNG with its image data deflated (zlib level 9), for PNG bytes made by the browser-safe core
 * (`encodePng` without a deflate: stored blocks, about 4 bytes a pixel). The other chunks are kept as they are.
 */
export function deflatePng(png: Uint8Array): Uint8Array {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: [string, Uint8Array][] = [];
  let idat: Uint8Array[] = [];
  for (let at = 8; at + 12 <= png.length;) {
    const len = view.getUint32(at),
      type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    if (at + 12 + len > png.length)
      throw new LoadError(
        `deflatePng: chunk ${JSON.stringify(type)} of ${len} bytes runs past the end of the ${png.length}-byte file`,
      );
    const body = png.subarray(at + 8, at + 8 + len);
    if (type === "IDAT") idat.push(body);
    else {
      if (idat.length)
        (chunks.push(["IDAT", deflateSync(inflateSync(Buffer.concat(idat)), { level: 9 })]), (idat = []));
      chunks.push([type, body]);
    }
    at += 12 + len;
  }
  const parts: Uint8Array[] = [png.subarray(0, 8)];
  for (const [type, body] of chunks) {
    const head = new Uint8Array(8);
    new DataView(head.buffer).setUint32(0, body.length);
    head.set(
      [...type].map((c) => c.charCodeAt(0)),
      4,
    );
    const crc = new Uint8Array(4);
    new DataView(crc.buffer).setUint32(0, crc32(Buffer.concat([head.subarray(4), body])));
    parts.push(head, body, crc);
  }
  return Buffer.concat(parts);
}

/** Write an image as a PNG file, compressed with zlib, atomically. */
export function savePng(path: string, image: RasterImage): void {
  writeFileAtomic(path, [encodePng(image, { deflate: zlibDeflate })]);
}
