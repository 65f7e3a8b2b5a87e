// Opening untrusted files (Node only). Every reader of a user's file goes through here, so that no file
// can hang the process or make it allocate what the file merely claims:
//
//   stat the path           → it must be a regular file: a folder, a FIFO, a socket or a device is refused
//                             before it is opened (opening a FIFO for reading blocks until a writer comes)
//   open with O_NONBLOCK    → if the path was swapped for a FIFO between the stat and the open, the open
//                             returns at once instead of blocking
//   fstat the descriptor    → the file we hold is the regular file we checked; its size is known
//   size against the cap    → before a byte is allocated; the caps are in docs/limits.md
//
// Every failure is a LoadError naming the path and saying what was found, in words (not an errno).

import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";
import { LoadError } from "../engine/errors.js";
import { DEFAULT_MAX_JSON_DEPTH, parseJsonText } from "../engine/limits.js";

/** The default cap of a JSON file (config.json, an index, tokenizer.json): 256 MiB. */
export const DEFAULT_MAX_JSON_BYTES = 256 * 2 ** 20;

export interface CheckedFileOptions {
  /** the largest size accepted, in bytes (default: no cap beyond the file's own size) */
  maxBytes?: number;
}

/** What a path that is not a regular file is, in words. */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return "a folder";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  return "not a regular file";
}

/** errno codes in words. */
function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    ENOENT: "no such file",
    EACCES: "permission denied",
    EPERM: "permission denied",
    ENOTDIR: "a part of the path is not a folder",
    ELOOP: "too many symbolic links",
    ENAMETOOLONG: "the name is too long",
    EISDIR: "it is a folder",
    EMFILE: "too many open files",
  };
  return (code && words[code]) ?? (e as Error).message;
}

/** An open, checked regular file: its descriptor and size. Close it with closeSync(fd). */
export interface CheckedFile {
  fd: number;
  size: number;
}

/** Open `path` for reading after checking that it is a regular file within `maxBytes`. */
export function openCheckedFile(path: string, opts: CheckedFileOptions = {}): CheckedFile {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    throw new LoadError(`${path}: cannot open: ${reason(e)}`);
  }
  if (!st.isFile()) throw new LoadError(`${path}: cannot read: it is ${kindOf(st)}, not a regular file`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new LoadError(`${path}: cannot open: ${reason(e)}`);
  }
  try {
    const st2 = fstatSync(fd);
    if (!st2.isFile()) throw new LoadError(`${path}: cannot read: it is ${kindOf(st2)}, not a regular file`);
    const max = opts.maxBytes ?? Infinity;
    if (st2.size > max)
      throw new LoadError(
        `${path}: the file is ${st2.size.toLocaleString("en-US")} bytes, more than the limit of ${max.toLocaleString("en-US")} bytes for this kind of file`,
      );
    return { fd, size: st2.size };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Read exactly `into.length` bytes at `position`; a file that shrank meanwhile is a LoadError. */
export function readFully(fd: number, into: Uint8Array, position: number, path: string): void {
  for (let done = 0; done < into.length;) {
    let n: number;
    try {
      n = readSync(fd, into, done, into.length - done, position + done);
    } catch (e) {
      throw new LoadError(`${path}: cannot read: ${reason(e)}`);
    }
    if (n === 0) throw new LoadError(`${path}: the file ended early (it changed while being read?)`);
    done += n;
  }
}

/** The whole of a checked regular file. */
export function readCheckedFile(path: string, opts: CheckedFileOptions = {}): Uint8Array {
  const { fd, size } = openCheckedFile(path, opts);
  try {
    const out = new Uint8Array(size);
    readFully(fd, out, 0, path);
    return out;
  } finally {
    closeSync(fd);
  }
}

/** A checked regular file as UTF-8 text (malformed bytes are a LoadError, not replacement characters). */
export function readCheckedText(path: string, opts: CheckedFileOptions = {}): string {
  const bytes = readCheckedFile(path, opts);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new LoadError(`${path}: the file is not valid UTF-8 text`);
  }
}

export interface CheckedJsonOptions extends CheckedFileOptions {
  /** the deepest nesting accepted (default DEFAULT_MAX_JSON_DEPTH) */
  maxDepth?: number;
}

/** A JSON file: checked as a file (default cap DEFAULT_MAX_JSON_BYTES), then its depth, then parsed. */
export function readCheckedJson(path: string, opts: CheckedJsonOptions = {}): unknown {
  const text = readCheckedText(path, { maxBytes: opts.maxBytes ?? DEFAULT_MAX_JSON_BYTES });
  return parseJsonText(text, path, opts.maxDepth ?? DEFAULT_MAX_JSON_DEPTH);
}
