// The text pipeline of Hugging Face's tokenizer.json, for the sentencepiece-style tokenizers (Unigram as
// T5's, BPE with byte fallback as LLaMA's). A text goes through, in this order:
//   1. added tokens: special tokens (`</s>`, `<unk>`, ...) are cut out of the raw text and map to their
//      ids directly; each stretch of text between them goes on alone;
//   2. the normalizer: Precompiled (sentencepiece's character map), Replace, Strip, Prepend, NFC/NFD/
//      NFKC/NFKD, Lowercase, StripAccents, or a Sequence of these;
//   3. the pre-tokenizer: Metaspace (spaces → "▁", a "▁" in front, split before each "▁"),
//      WhitespaceSplit, or a Sequence;
//   4. the model, word by word (the subclass: Unigram's Viterbi, BPE's merges);
//   5. the post-processor: TemplateProcessing (T5 appends </s>, LLaMA prepends <s>).
// Decoding turns ids back into tokens and runs the decoder chain: Metaspace, Replace, ByteFallback,
// Fuse, Strip, or a Sequence, then joins the pieces.
//
// A component this file does not know raises a LoadError that names it, never a silent difference.
//
// sentencepiece's precompiled_charsmap (Kudo & Richardson 2018, "SentencePiece", §3.2; the format of
// normalizer.cc): a little-endian uint32 giving the byte size of a darts-clone double-array trie, the
// trie's uint32 units, then a blob of NUL-terminated replacement strings. The text's UTF-8 bytes are
// matched greedily: at each position the longest key in the trie is replaced by its string; where no
// key matches, one character is copied as it is.

import { ArgumentError, LoadError } from "../engine/errors.js";
import { Tensor } from "../engine/tensor.js";
import { applySingle, templatesFromJSON, type SingleTemplate, type Template } from "./post-processor.js";
import type { Tokenizer } from "./tokenizer.js";
import { LinearRegex } from "./regex.js";
import { isObject } from "./tokenizer-file.js";

export { isObject, parseTokenizerJSON } from "./tokenizer-file.js";
const describe = (v: unknown): string =>
  isObject(v) ? JSON.stringify(v.type ?? "an object without a type") : JSON.stringify(v);

// ---------------------------------------------------------------------------------------------------
// Precompiled: sentencepiece's character map

/** Characters with Unicode's White_Space property (Rust's char::is_whitespace, which Hugging Face uses). */
const WS = "\\t\\n\\v\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";
const LEADING_WS = new RegExp(`^[${WS}]+`, "u");
const TRAILING_WS = new RegExp(`[${WS}]+$`, "u");
const WS_RUNS = new RegExp(`[${WS}]+`, "u");

export class PrecompiledCharsmap {
  private readonly units: Uint32Array;
  private readonly blob: Uint8Array;

  /** `bytes`: the decoded precompiled_charsmap. An empty map normalizes nothing. */
  constructor(bytes: Uint8Array) {
    if (bytes.length === 0) {
      this.units = new Uint32Array(0);
      this.blob = new Uint8Array(0);
      return;
    }
    if (bytes.length < 4)
      throw new LoadError(
        `tokenizer.json: precompiled_charsmap has ${bytes.length} bytes; it needs at least 4 (the trie's size)`,
      );
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const trieBytes = view.getUint32(0, true);
    if (trieBytes % 4 !== 0 || 4 + trieBytes > bytes.length) {
      throw new LoadError(
        `tokenizer.json: precompiled_charsmap says its trie has ${trieBytes} bytes, but ${bytes.length - 4} bytes follow (and the size must be a multiple of 4)`,
      );
    }
    this.units = new Uint32Array(trieBytes / 4);
    for (let i = 0; i < this.units.length; i++) this.units[i] = view.getUint32(4 + 4 * i, true);
    this.blob = bytes.subarray(4 + trieBytes);
  }

  /**
   * darts-clone's common-prefix search, keeping the longest match: the length in bytes of the longest
   * key that starts at `bytes[start]`, and the blob offset of its replacement; length 0 when none.
   * A unit packs: bit 8 "has a leaf", bits 0–7 and 31 the label, bits 10–30 the offset to the
   * children (shifted left by 8 when bit 9 is set); a leaf unit's low 31 bits are the value.
   */
  private longestMatch(bytes: Uint8Array, start: number): { length: number; value: number } {
    const u = this.units;
    let best = { length: 0, value: 0 };
    if (u.length === 0) return best;
    const offset = (unit: number) => (unit >>> 10) << ((unit & 0x200) >>> 6);
    let pos = offset(u[0]!);
    for (let i = start; i < bytes.length; i++) {
      const c = bytes[i]!;
      pos = (pos ^ c) >>> 0;
      if (pos >= u.length) break; // a malformed trie points outside itself: stop, as a mismatch
      const unit = u[pos]!;
      if ((unit & 0x800000ff) >>> 0 !== c) break;
      pos = (pos ^ offset(unit)) >>> 0;
      if ((unit >>> 8) & 1) {
        if (pos >= u.length) break;
        best = { length: i - start + 1, value: u[pos]! & 0x7fffffff };
      }
    }
    return best;
  }

  normalize(text: string): string {
    if (this.units.length === 0) return text;
    const bytes = new TextEncoder().encode(text);
    const out: number[] = [];
    for (let i = 0; i < bytes.length;) {
      const m = this.longestMatch(bytes, i);
      if (m.length > 0) {
        for (let k = m.value; k < this.blob.length && this.blob[k] !== 0; k++) out.push(this.blob[k]!);
        i += m.length;
      } else {
        const n = utf8Length(bytes[i]!); // TextEncoder writes valid UTF-8: copy one whole character
        for (let k = 0; k < n && i < bytes.length; k++) out.push(bytes[i++]!);
      }
    }
    return new TextDecoder("utf-8", { ignoreBOM: true }).decode(new Uint8Array(out)); // keep a U+FEFF that is text
  }
}

const utf8Length = (lead: number): number => (lead < 0x80 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4);

/** Standard base64 (as tokenizer.json stores precompiled_charsmap), without relying on atob or Buffer. */
export function base64Decode(s: string, where: string): Uint8Array {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const clean = s.replace(/=+$/, "");
  if (/[^A-Za-z0-9+/]/.test(clean) || clean.length % 4 === 1)
    throw new LoadError(`tokenizer.json: ${where} is not valid base64`);
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0,
    acc = 0,
    o = 0;
  for (const ch of clean) {
    acc = (acc << 6) | alphabet.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Normalizers

export type Normalizer = (text: string) => string;

/** A Replace pattern: {"String": "x"} replaces every occurrence, {"Regex": "..."} every match. */
function replacer(spec: Record<string, any>, where: string): (s: string) => string {
  const pattern = spec.pattern,
    content = spec.content;
  if (typeof content !== "string") throw new LoadError(`tokenizer.json: ${where} Replace needs a string "content"`);
  if (isObject(pattern) && typeof pattern.String === "string") {
    const from = pattern.String;
    if (from === "") throw new LoadError(`tokenizer.json: ${where} Replace has an empty pattern`);
    return (s) => s.split(from).join(content);
  }
  if (isObject(pattern) && typeof pattern.Regex === "string") {
    // a pattern from a file is untrusted: matched in linear time (./regex.ts), never by RegExp's backtracking
    let re: LinearRegex;
    try {
      re = new LinearRegex(pattern.Regex);
    } catch (e) {
      throw new LoadError(`tokenizer.json: ${where} Replace: ${(e as Error).message}`);
    }
    return (s) => re.replaceAll(s, content); // "$" in content is literal, as in Rust
  }
  throw new LoadError(
    `tokenizer.json: ${where} Replace needs a pattern {"String": ...} or {"Regex": ...}, got ${JSON.stringify(pattern)}`,
  );
}

export function normalizerFromJSON(spec: unknown): Normalizer | null {
  if (spec === null || spec === undefined) return null;
  if (!isObject(spec))
    throw new LoadError(`tokenizer.json: normalizer must be an object or null, got ${describe(spec)}`);
  switch (spec.type) {
    case "Sequence": {
      if (!Array.isArray(spec.normalizers))
        throw new LoadError(`tokenizer.json: normalizer Sequence needs a "normalizers" array`);
      const steps = spec.normalizers
        .map((s: unknown) => normalizerFromJSON(s))
        .filter((s: Normalizer | null): s is Normalizer => s !== null);
      return (text) => steps.reduce((t: string, f: Normalizer) => f(t), text);
    }
    case "Precompiled": {
      const raw = spec.precompiled_charsmap;
      if (raw === null || raw === undefined || raw === "") return (t) => t;
      if (typeof raw !== "string")
        throw new LoadError(`tokenizer.json: normalizer Precompiled needs a base64 string "precompiled_charsmap"`);
      const map = new PrecompiledCharsmap(base64Decode(raw, "precompiled_charsmap"));
      return (t) => map.normalize(t);
    }
    case "Replace":
      return replacer(spec, "normalizer");
    case "Strip": {
      const left = spec.strip_left !== false,
        right = spec.strip_right !== false;
      return (t) => {
        if (left) t = t.replace(LEADING_WS, "");
        if (right) t = t.replace(TRAILING_WS, "");
        return t;
      };
    }
    case "Prepend": {
      if (typeof spec.prepend !== "string")
        throw new LoadError(`tokenizer.json: normalizer Prepend needs a string "prepend"`);
      const p = spec.prepend;
      return (t) => (t.length ? p + t : t); // an empty text stays empty
    }
    case "NFC":
    case "NFD":
    case "NFKC":
    case "NFKD": {
      const form = spec.type;
      return (t) => t.normalize(form);
    }
    case "Lowercase":
      return (t) => t.toLowerCase();
    case "StripAccents": // drop the combining marks (usually after NFD)
      return (t) => t.replace(/\p{Mn}/gu, "");
    default:
      throw new LoadError(
        `tokenizer.json: normalizer ${describe(spec)} is not supported (supported: Sequence, Precompiled, Replace, Strip, Prepend, NFC, NFD, NFKC, NFKD, Lowercase, StripAccents)`,
      );
  }
}

// ---------------------------------------------------------------------------------------------------
// Pre-tokenizers

/** A word and whether it starts at the very beginning of the original text (Metaspace "first"). */
export interface Word {
  text: string;
  atStart: boolean;
}

export type PreTokenizer = (words: Word[]) => Word[];

export type PrependScheme = "always" | "first" | "never";

/** Metaspace's settings, old (`add_prefix_space`) or new (`prepend_scheme`, `split`) spelling. */
function metaspaceSettings(
  spec: Record<string, any>,
  where: string,
): { replacement: string; scheme: PrependScheme; split: boolean } {
  const replacement = spec.replacement ?? "▁";
  if (typeof replacement !== "string" || [...replacement].length !== 1)
    throw new LoadError(
      `tokenizer.json: ${where} Metaspace replacement must be one character, got ${JSON.stringify(replacement)}`,
    );
  let scheme: PrependScheme;
  if (spec.prepend_scheme !== undefined) {
    if (!["always", "first", "never"].includes(spec.prepend_scheme))
      throw new LoadError(
        `tokenizer.json: ${where} Metaspace prepend_scheme ${JSON.stringify(spec.prepend_scheme)} is not one of "always", "first", "never"`,
      );
    scheme = spec.prepend_scheme;
  } else scheme = spec.add_prefix_space === false ? "never" : "always";
  if (spec.add_prefix_space === false) scheme = "never";
  return { replacement, scheme, split: spec.split !== false };
}

export function preTokenizerFromJSON(spec: unknown): PreTokenizer | null {
  if (spec === null || spec === undefined) return null;
  if (!isObject(spec))
    throw new LoadError(`tokenizer.json: pre_tokenizer must be an object or null, got ${describe(spec)}`);
  switch (spec.type) {
    case "Sequence": {
      if (!Array.isArray(spec.pretokenizers))
        throw new LoadError(`tokenizer.json: pre_tokenizer Sequence needs a "pretokenizers" array`);
      const steps = spec.pretokenizers
        .map((s: unknown) => preTokenizerFromJSON(s))
        .filter((s: PreTokenizer | null): s is PreTokenizer => s !== null);
      return (words) => steps.reduce((w: Word[], f: PreTokenizer) => f(w), words);
    }
    case "Metaspace": {
      const { replacement, scheme, split } = metaspaceSettings(spec, "pre_tokenizer");
      return (words) =>
        words.flatMap(({ text, atStart }) => {
          // spaces become "▁"; a "▁" goes in front unless one is there already ("first": only on the
          // stretch that begins the text)
          let t = text.split(" ").join(replacement);
          if (!t.startsWith(replacement) && (scheme === "always" || (scheme === "first" && atStart)))
            t = replacement + t;
          if (!split) return t.length ? [{ text: t, atStart }] : [];
          // split before every "▁", which stays with the word it opens
          const parts: Word[] = [];
          let from = 0;
          for (let i = t.indexOf(replacement, 1); i !== -1; i = t.indexOf(replacement, i + 1)) {
            if (i > from) parts.push({ text: t.slice(from, i), atStart: atStart && from === 0 });
            from = i;
          }
          if (from < t.length) parts.push({ text: t.slice(from), atStart: atStart && from === 0 });
          return parts;
        });
    }
    case "WhitespaceSplit":
      return (words) =>
        words.flatMap(({ text, atStart }) => {
          const startsClean = !LEADING_WS.test(text);
          return text
            .split(WS_RUNS)
            .filter((w) => w.length > 0)
            .map((w, i) => ({ text: w, atStart: atStart && i === 0 && startsClean }));
        });
    default:
      throw new LoadError(
        `tokenizer.json: pre_tokenizer ${describe(spec)} is not supported here (supported: Metaspace, WhitespaceSplit, Sequence)`,
      );
  }
}

// ---------------------------------------------------------------------------------------------------
// Decoders: each step maps the list of token strings to a new list, as Hugging Face's decode_chain

export type Decoder = (tokens: string[]) => string[];

const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;

export function decoderFromJSON(spec: unknown): Decoder | null {
  if (spec === null || spec === undefined) return null;
  if (!isObject(spec)) throw new LoadError(`tokenizer.json: decoder must be an object or null, got ${describe(spec)}`);
  switch (spec.type) {
    case "Sequence": {
      if (!Array.isArray(spec.decoders))
        throw new LoadError(`tokenizer.json: decoder Sequence needs a "decoders" array`);
      const steps = spec.decoders
        .map((s: unknown) => decoderFromJSON(s))
        .filter((s: Decoder | null): s is Decoder => s !== null);
      return (tokens) => steps.reduce((t: string[], f: Decoder) => f(t), tokens);
    }
    case "Metaspace": {
      // "▁" → " ", except that the first token loses its "▁" (the one the pre-tokenizer put in front)
      const { replacement, scheme } = metaspaceSettings(spec, "decoder");
      return (tokens) => tokens.map((t, i) => t.split(replacement).join(i === 0 && scheme !== "never" ? "" : " "));
    }
    case "Replace": {
      const f = replacer(spec, "decoder");
      return (tokens) => tokens.map(f);
    }
    case "ByteFallback":
      // runs of <0xXX> tokens become the text their bytes spell; bytes that are not valid UTF-8 give
      // one U+FFFD each
      return (tokens) => {
        const out: string[] = [];
        let bytes: number[] = [];
        const flush = () => {
          if (!bytes.length) return;
          try {
            out.push(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(new Uint8Array(bytes)));
          } catch {
            out.push("\uFFFD".repeat(bytes.length));
          }
          bytes = [];
        };
        for (const t of tokens) {
          const m = BYTE_TOKEN.exec(t);
          if (m) bytes.push(parseInt(m[1]!, 16));
          else {
            flush();
            out.push(t);
          }
        }
        flush();
        return out;
      };
    case "Fuse":
      return (tokens) => [tokens.join("")];
    case "Strip": {
      // remove up to `start` copies of `content` from the front of each token and `stop` from the back
      const content = spec.content,
        start = spec.start ?? 0,
        stop = spec.stop ?? 0;
      if (typeof content !== "string" || [...content].length !== 1)
        throw new LoadError(`tokenizer.json: decoder Strip needs a one-character "content"`);
      return (tokens) =>
        tokens.map((t) => {
          let a = 0,
            b = t.length;
          for (let k = 0; k < start && t.startsWith(content, a); k++) a += content.length;
          for (let k = 0; k < stop && b - content.length >= a && t.startsWith(content, b - content.length); k++)
            b -= content.length;
          return t.slice(a, b);
        });
    }
    default:
      throw new LoadError(
        `tokenizer.json: decoder ${describe(spec)} is not supported here (supported: Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence)`,
      );
  }
}

// ---------------------------------------------------------------------------------------------------
// Post-processor: TemplateProcessing, read by post-processor.ts

/** The post-processor's templates; only TemplateProcessing is supported here. */
export function templateFromJSON(spec: unknown): { single: SingleTemplate; pair: Template | null } | null {
  if (spec === null || spec === undefined) return null;
  if (!isObject(spec) || spec.type !== "TemplateProcessing")
    throw new LoadError(
      `tokenizer.json: post_processor ${describe(spec)} is not supported here (supported: TemplateProcessing)`,
    );
  return templatesFromJSON(spec);
}

// ---------------------------------------------------------------------------------------------------
// Added tokens

export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
  lstrip: boolean;
  rstrip: boolean;
}

export function addedTokensFromJSON(added: unknown): AddedToken[] {
  if (added === undefined || added === null) return [];
  if (!Array.isArray(added)) throw new LoadError(`tokenizer.json: added_tokens must be an array`);
  return added.map((t: unknown, i: number) => {
    if (
      !isObject(t) ||
      typeof t.content !== "string" ||
      t.content === "" ||
      typeof t.id !== "number" ||
      !Number.isInteger(t.id) ||
      t.id < 0
    ) {
      throw new LoadError(
        `tokenizer.json: added_tokens[${i}] must have a non-empty string "content" and an integer "id" ≥ 0`,
      );
    }
    if (t.single_word === true)
      throw new LoadError(
        `tokenizer.json: added_tokens[${i}] (${JSON.stringify(t.content)}) has single_word: true, which is not supported`,
      );
    return {
      id: t.id,
      content: t.content,
      special: t.special !== false,
      lstrip: t.lstrip === true,
      rstrip: t.rstrip === true,
    };
  });
}

/** A stretch of the text: an added token's id, or text that goes through the pipeline. */
type Segment = { id: number } | { text: string; atStart: boolean };

// ---------------------------------------------------------------------------------------------------
// The pipeline tokenizer

export interface PipelineEncodeOptions {
  /** run the post-processor (T5: append </s>; LLaMA: prepend <s>); default true, as Hugging Face's encode */
  addSpecialTokens?: boolean;
}

export interface PipelineDecodeOptions {
  /** leave the special added tokens out (default false, as Hugging Face's decode) */
  skipSpecialTokens?: boolean;
}

/** The parts of a tokenizer.json around the model. */
export interface PipelineParts {
  addedTokens: AddedToken[];
  normalizer: Normalizer | null;
  preTokenizer: PreTokenizer | null;
  postProcessor: { single: SingleTemplate; pair: Template | null } | null;
  decoder: Decoder | null;
}

/** Read the parts around the model from a parsed tokenizer.json. */
export function pipelineFromJSON(j: Record<string, any>): PipelineParts {
  return {
    addedTokens: addedTokensFromJSON(j.added_tokens),
    normalizer: normalizerFromJSON(j.normalizer),
    preTokenizer: preTokenizerFromJSON(j.pre_tokenizer),
    postProcessor: templateFromJSON(j.post_processor),
    decoder: decoderFromJSON(j.decoder),
  };
}

/** Steps 1–3 and 5 around a model that turns one word into ids (the subclass). */
export abstract class PipelineTokenizer implements Tokenizer {
  protected readonly parts: PipelineParts;
  private readonly addedPattern: RegExp | null;
  private readonly addedByContent = new Map<string, AddedToken>();
  private readonly addedById = new Map<number, string>();
  private readonly specialIds = new Set<number>();
  private readonly cache = new Map<string, number[]>();

  constructor(parts: PipelineParts) {
    this.parts = parts;
    for (const t of parts.addedTokens) {
      this.addedByContent.set(t.content, t);
      this.addedById.set(t.id, t.content);
      if (t.special) this.specialIds.add(t.id);
    }
    // longest first, so that a token that is a prefix of another does not cut it
    const escaped = [...this.addedByContent.keys()]
      .sort((a, b) => b.length - a.length)
      .map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    this.addedPattern = escaped.length ? new RegExp(`(${escaped.join("|")})`, "u") : null;
  }

  /** The model's own vocabulary (added tokens outside it are handled here). */
  protected abstract modelVocabSize(): number;
  protected abstract modelIdToToken(id: number): string | undefined;
  protected abstract modelTokenToId(token: string): number | undefined;
  /** The model: one pre-tokenized word → ids. */
  protected abstract encodeWord(word: string): number[];

  /** One more than the largest id, added tokens included. */
  get vocabSize(): number {
    let n = this.modelVocabSize();
    for (const t of this.parts.addedTokens) n = Math.max(n, t.id + 1);
    return n;
  }

  idToToken(id: number): string | undefined {
    return this.modelIdToToken(id) ?? this.addedById.get(id);
  }

  tokenToId(token: string): number | undefined {
    return this.modelTokenToId(token) ?? this.addedByContent.get(token)?.id;
  }

  /** Step 1: split out the added tokens (lstrip / rstrip eat the whitespace beside them). */
  private segments(text: string): Segment[] {
    if (!this.addedPattern) return [{ text, atStart: true }];
    const parts = text.split(this.addedPattern); // text, token, text, token, ..., text
    const out: Segment[] = [];
    let offset = 0;
    for (let i = 0; i < parts.length; i++) {
      let part = parts[i]!;
      if (i % 2 === 1) {
        out.push({ id: this.addedByContent.get(part)!.id });
        offset += part.length;
        continue;
      }
      const before = i > 0 ? this.addedByContent.get(parts[i - 1]!)! : null;
      const after = i + 1 < parts.length ? this.addedByContent.get(parts[i + 1]!)! : null;
      let start = offset;
      offset += part.length;
      if (before?.rstrip) {
        const kept = part.replace(LEADING_WS, "");
        start += part.length - kept.length;
        part = kept;
      }
      if (after?.lstrip) part = part.replace(TRAILING_WS, "");
      if (part.length) out.push({ text: part, atStart: start === 0 });
    }
    return out;
  }

  /** Steps 1–4: the ids of the text before the post-processor. */
  private encodeBare(text: string): number[] {
    const out: number[] = [];
    for (const seg of this.segments(text)) {
      if ("id" in seg) {
        out.push(seg.id);
        continue;
      }
      const normalized = this.parts.normalizer ? this.parts.normalizer(seg.text) : seg.text;
      if (!normalized.length) continue;
      const words = this.parts.preTokenizer
        ? this.parts.preTokenizer([{ text: normalized, atStart: seg.atStart }])
        : [{ text: normalized, atStart: seg.atStart }];
      for (const w of words) if (w.text.length) for (const id of this.cachedWord(w.text)) out.push(id);
    }
    return out;
  }

  private cachedWord(word: string): number[] {
    let ids = this.cache.get(word);
    if (!ids) {
      ids = this.encodeWord(word);
      if (this.cache.size >= 100_000) this.cache.clear(); // bounded memory on endless streams of new words
      this.cache.set(word, ids);
    }
    return ids;
  }

  encode(text: string, opts: PipelineEncodeOptions = {}): number[] {
    if (typeof text !== "string")
      throw new ArgumentError(`${this.constructor.name}.encode: expected a string, got ${typeof text}`);
    const ids = this.encodeBare(text);
    const post = this.parts.postProcessor;
    if (!post || opts.addSpecialTokens === false) return ids;
    return applySingle(post.single, ids);
  }

  encodeTensor(text: string, opts: PipelineEncodeOptions = {}): Tensor {
    const ids = this.encode(text, opts);
    return new Tensor(Int32Array.from(ids), [ids.length]);
  }

  /** The token strings of `encode`'s ids. */
  tokenize(text: string, opts: PipelineEncodeOptions = {}): string[] {
    return this.encode(text, opts).map((id) => this.idToToken(id)!);
  }

  /** True for the ids of special added tokens (`</s>`, `<unk>`, ...). */
  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  decode(ids: ArrayLike<number> | Tensor, opts: PipelineDecodeOptions = {}): string {
    const list = ids instanceof Tensor ? ids.storage : ids;
    const tokens: string[] = [];
    for (let i = 0; i < list.length; i++) {
      const id = list[i]!;
      const token = this.idToToken(id);
      if (token === undefined)
        throw new ArgumentError(
          `${this.constructor.name}.decode: id ${id} at position ${i} is not in the vocabulary (ids 0..${this.vocabSize - 1})`,
        );
      if (opts.skipSpecialTokens && this.specialIds.has(id)) continue;
      tokens.push(token);
    }
    return this.parts.decoder ? this.parts.decoder(tokens).join("") : tokens.join(" ");
  }
}
