// Byte-level byte-pair encoding, as GPT-2's tokenizer (Sennrich et al. 2016, "Neural Machine
// Translation of Rare Words with Subword Units", https://arxiv.org/abs/1508.07909; byte-level variant:
// Radford et al. 2019, section 2.2).
//
// Encoding a text:
//   1. split out the special tokens (`<|endoftext|>`), which map to their ids directly;
//   2. pre-tokenize the rest with GPT-2's pattern (bytelevel.ts) into words such as " whale" and ",";
//   3. write each word's UTF-8 bytes as byte-level characters (" whale" → "Ġwhale") and start from one
//      symbol per byte;
//   4. repeatedly merge the adjacent pair whose merge rule has the lowest rank (was learned first),
//      every occurrence of it in the word at once, left to right, until no adjacent pair has a rule;
//   5. look the symbols up in the vocabulary.
// Words repeat, so step 3–5's result is cached per word.
//
// Training learns the merge rules: count every adjacent pair of symbols over the pre-tokenized corpus
// (a word counts as often as it occurs), merge the most frequent pair everywhere, record the rule,
// repeat until the vocabulary has `vocabSize` entries. Ties go to the pair with the smaller ids
// (first id, then second), so training is deterministic.
//
// Files: `toJSON()` / `BPETokenizer.fromJSON()` write and read Hugging Face's `tokenizer.json`
// (model "BPE", pre_tokenizer and decoder "ByteLevel"), the format GPT-2's tokenizer ships in.

import { ArgumentError, LoadError } from "../engine/errors.js";
import { Tensor } from "../engine/tensor.js";
import { BYTE_ORDER, BYTE_TO_CHAR, bytesToChars, charToByte, pretokenize } from "./bytelevel.js";
import type { Tokenizer } from "./tokenizer.js";
import { isObject, kind, parseTokenizerJSON } from "./tokenizer-file.js";

/** Ids are below 2^21, so a pair of ids packs into one exact number: a·2^21 + b. */
export const ID_LIMIT = 2 ** 21;
export const pairKey = (a: number, b: number): number => a * ID_LIMIT + b;

/** tokenizer.json's model.merges (an array, checked by the caller): each "a b" (older files) or ["a", "b"] (newer). */
export function mergesFromJSON(merges: readonly unknown[]): [string, string][] {
  return merges.map((m: unknown, i: number): [string, string] => {
    if (typeof m === "string") {
      const parts = m.split(" ");
      if (parts.length !== 2 || !parts[0] || !parts[1])
        throw new LoadError(
          `tokenizer.json: merge ${i} ${JSON.stringify(m)} must be two tokens separated by one space`,
        );
      return [parts[0], parts[1]];
    }
    if (Array.isArray(m) && m.length === 2 && typeof m[0] === "string" && typeof m[1] === "string") return [m[0], m[1]];
    throw new LoadError(
      `tokenizer.json: merge ${i} must be "a b" or ["a", "b"], got ${JSON.stringify(m)?.slice(0, 60)}`,
    );
  });
}

/**
 * The merge rules as a table: pairKey(id of a, id of b) → the rule's rank and the id of the merged token a+b.
 * Every token a rule names must be in the vocabulary (`who` names the tokenizer in the error); a repeated rule
 * keeps its first rank. Shared with the byte-fallback BPE (bpe-fallback.ts).
 */
export function mergeTable(
  merges: readonly (readonly [string, string])[],
  ids: ReadonlyMap<string, number>,
  who: string,
): Map<number, { rank: number; id: number }> {
  const ranks = new Map<number, { rank: number; id: number }>();
  merges.forEach(([a, b], rank) => {
    const ia = ids.get(a),
      ib = ids.get(b),
      merged = ids.get(a + b);
    if (ia === undefined || ib === undefined || merged === undefined) {
      const missing = ia === undefined ? a : ib === undefined ? b : a + b;
      throw new ArgumentError(
        `${who}: merge ${rank} ("${a} ${b}") needs the token ${JSON.stringify(missing)}, which is not in the vocabulary`,
      );
    }
    const key = pairKey(ia, ib);
    if (!ranks.has(key)) ranks.set(key, { rank, id: merged });
  });
  return ranks;
}

export interface BPEConfig {
  /** byte-level token string → id (GPT-2: "Ġthe" → 262) */
  vocab: Record<string, number> | ReadonlyMap<string, number>;
  /** merge rules in rank order: ["Ġ", "t"] makes "Ġt" */
  merges: ReadonlyArray<readonly [string, string]>;
  /** tokens matched in the raw text before pre-tokenization, with their ids (GPT-2: <|endoftext|> 50256) */
  specialTokens?: Record<string, number> | ReadonlyMap<string, number>;
  /** prepend a space to each stretch of text that does not start with one (tokenizer.json's add_prefix_space) */
  addPrefixSpace?: boolean;
  /** split with GPT-2's pattern (true, the default) or treat each text between special tokens as one word */
  useRegex?: boolean;
  /** a word that is a vocabulary entry as a whole is taken as that token without merging (Llama 3 style) */
  ignoreMerges?: boolean;
}

export interface BPETrainOptions {
  /** special tokens, given the ids after the learned tokens, in this order */
  specialTokens?: string[];
  /** stop when the most frequent pair occurs fewer times than this (default 1: merge while any pair is left) */
  minFrequency?: number;
}

export interface EncodeOptions {
  /** recognize special tokens in the text (default true, as Hugging Face tokenizers do) */
  allowSpecial?: boolean;
}

export class BPETokenizer implements Tokenizer {
  /** id → token (byte-level string, or a special token's text); holes where the vocabulary has gaps */
  private readonly tokens: (string | undefined)[] = [];
  private readonly ids = new Map<string, number>();
  /** pair of ids → the rule's rank and the id of the merged token */
  private readonly ranks: Map<number, { rank: number; id: number }>;
  private readonly mergeList: (readonly [string, string])[];
  private readonly specials = new Map<string, number>();
  private readonly specialIds = new Set<number>();
  private readonly specialPattern: RegExp | null;
  /** id of each byte's one-character token (−1 when the vocabulary lacks it) */
  private readonly byteIds = new Int32Array(256).fill(-1);
  private readonly cache = new Map<string, number[]>();
  readonly addPrefixSpace: boolean;
  readonly useRegex: boolean;
  readonly ignoreMerges: boolean;

  constructor(config: BPEConfig) {
    const entries = config.vocab instanceof Map ? [...config.vocab] : Object.entries(config.vocab);
    for (const [token, id] of entries) this.addToken("vocab", token, id);
    for (let b = 0; b < 256; b++) this.byteIds[b] = this.ids.get(BYTE_TO_CHAR[b]!) ?? -1;
    this.mergeList = config.merges.map((m) => [m[0], m[1]] as const);
    this.ranks = mergeTable(this.mergeList, this.ids, "BPETokenizer");
    const specials =
      config.specialTokens instanceof Map ? [...config.specialTokens] : Object.entries(config.specialTokens ?? {});
    for (const [token, id] of specials) {
      if (token.length === 0) throw new ArgumentError("BPETokenizer: a special token must not be empty");
      const known = this.ids.get(token);
      if (known !== undefined && known !== id)
        throw new ArgumentError(
          `BPETokenizer: special token ${JSON.stringify(token)} has id ${id}, but the vocabulary gives it ${known}`,
        );
      if (known === undefined) this.addToken("special token", token, id, true);
      this.specials.set(token, id);
      this.specialIds.add(id);
    }
    // longest first, so "<|a|>b" is not cut at a special token that is a prefix of another
    const escaped = [...this.specials.keys()]
      .sort((x, y) => y.length - x.length)
      .map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    this.specialPattern = escaped.length ? new RegExp(`(${escaped.join("|")})`, "u") : null;
    this.addPrefixSpace = config.addPrefixSpace ?? false;
    this.useRegex = config.useRegex ?? true;
    this.ignoreMerges = config.ignoreMerges ?? false;
  }

  private addToken(what: string, token: string, id: number, special = false): void {
    if (typeof token !== "string" || token.length === 0)
      throw new ArgumentError(`BPETokenizer: ${what} entry ${JSON.stringify(token)} must be a non-empty string`);
    if (!Number.isInteger(id) || id < 0 || id >= ID_LIMIT)
      throw new ArgumentError(
        `BPETokenizer: ${what} entry ${JSON.stringify(token)} has id ${id}; ids must be integers in [0, ${ID_LIMIT})`,
      );
    if (this.ids.has(token))
      throw new ArgumentError(`BPETokenizer: ${what} entry ${JSON.stringify(token)} appears twice`);
    if (this.tokens[id] !== undefined)
      throw new ArgumentError(
        `BPETokenizer: id ${id} is given to both ${JSON.stringify(this.tokens[id])} and ${JSON.stringify(token)}`,
      );
    if (!special) {
      for (const ch of token) {
        if (charToByte(ch) < 0)
          throw new ArgumentError(
            `BPETokenizer: vocabulary entry ${JSON.stringify(token)} is not byte-level: ${JSON.stringify(ch)} stands for no byte (only special tokens may hold such characters)`,
          );
      }
    }
    this.tokens[id] = token;
    this.ids.set(token, id);
  }

  // -------------------------------------------------------------------------------------------------
  // Training

  /**
   * Learn merge rules from a corpus (one text or several). The vocabulary starts from the 256 byte
   * tokens in GPT-2's order (ids 0–255), then one token per learned merge, then the special tokens.
   */
  static train(corpus: string | readonly string[], vocabSize: number, opts: BPETrainOptions = {}): BPETokenizer {
    const specials = opts.specialTokens ?? [];
    const minFrequency = opts.minFrequency ?? 1;
    if (!Number.isInteger(vocabSize) || vocabSize < 256 + specials.length || vocabSize > ID_LIMIT) {
      throw new ArgumentError(
        `BPETokenizer.train: vocabSize must be an integer in [${256 + specials.length}, ${ID_LIMIT}] (256 bytes + ${specials.length} special tokens), got ${vocabSize}`,
      );
    }
    // 1. count the pre-tokenized words (special tokens never take part in merges)
    const wordCounts = new Map<string, number>();
    const texts = typeof corpus === "string" ? [corpus] : corpus;
    const split = specials.length
      ? new RegExp(specials.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "u")
      : null;
    for (const text of texts) {
      for (const part of split ? text.split(split) : [text]) {
        for (const w of pretokenize(part)) wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
      }
    }
    // 2. every word as a list of symbol ids, one per byte
    const tokens = BYTE_ORDER.map((b) => BYTE_TO_CHAR[b]!); // id → token string
    const byteId = new Int32Array(256);
    BYTE_ORDER.forEach((b, id) => (byteId[b] = id));
    const tokenId = new Map(tokens.map((t, id) => [t, id]));
    const encoder = new TextEncoder();
    const words: number[][] = [];
    const freq: number[] = [];
    for (const [w, n] of wordCounts) {
      words.push([...encoder.encode(w)].map((b) => byteId[b]!));
      freq.push(n);
    }
    // 3. pair counts, which words hold each pair, and a max-heap of (count, pair)
    const pairCount = new Map<number, number>();
    const where = new Map<number, Set<number>>();
    const heap = new PairHeap();
    words.forEach((w, wi) => {
      for (let i = 0; i + 1 < w.length; i++) {
        const key = pairKey(w[i]!, w[i + 1]!);
        pairCount.set(key, (pairCount.get(key) ?? 0) + freq[wi]!);
        let s = where.get(key);
        if (!s) where.set(key, (s = new Set()));
        s.add(wi);
      }
    });
    for (const [key, n] of pairCount) heap.push(n, key);
    // 4. merge the most frequent pair until the vocabulary is full
    const merges: [string, string][] = [];
    const target = vocabSize - specials.length;
    while (tokens.length < target) {
      const best = heap.popValid(pairCount);
      if (best === null || best.count < minFrequency) break;
      const a = Math.floor(best.key / ID_LIMIT),
        b = best.key % ID_LIMIT;
      const text = tokens[a]! + tokens[b]!;
      let id = tokenId.get(text); // two different merges can spell the same token; it keeps one id
      if (id === undefined) {
        id = tokens.length;
        tokens.push(text);
        tokenId.set(text, id);
      }
      merges.push([tokens[a]!, tokens[b]!]);
      // re-count only the words that hold the pair: their old pairs out, their new pairs in
      const delta = new Map<number, number>();
      for (const wi of where.get(best.key) ?? []) {
        const w = words[wi]!,
          f = freq[wi]!;
        const merged = mergeWord(w, a, b, id);
        if (merged === w) continue; // the set may name words that lost the pair to an earlier merge
        for (let i = 0; i + 1 < w.length; i++) {
          const key = pairKey(w[i]!, w[i + 1]!);
          delta.set(key, (delta.get(key) ?? 0) - f);
        }
        for (let i = 0; i + 1 < merged.length; i++) {
          const key = pairKey(merged[i]!, merged[i + 1]!);
          delta.set(key, (delta.get(key) ?? 0) + f);
          if (merged[i] === id || merged[i + 1] === id) {
            let s = where.get(key);
            if (!s) where.set(key, (s = new Set()));
            s.add(wi);
          }
        }
        words[wi] = merged;
      }
      where.delete(best.key);
      for (const [key, d] of delta) {
        if (d === 0) continue;
        const n = (pairCount.get(key) ?? 0) + d;
        if (n > 0) {
          pairCount.set(key, n);
          heap.push(n, key);
        } else pairCount.delete(key);
      }
    }
    const vocab = new Map(tokens.map((t, id) => [t, id]));
    const specialMap = new Map(specials.map((t, i) => [t, tokens.length + i]));
    return new BPETokenizer({ vocab, merges, specialTokens: specialMap });
  }

  // -------------------------------------------------------------------------------------------------
  // Encoding and decoding

  /** One more than the largest id. */
  get vocabSize(): number {
    return this.tokens.length;
  }

  /** The merge rules in rank order. */
  get merges(): ReadonlyArray<readonly [string, string]> {
    return this.mergeList;
  }

  /** The special tokens and their ids. */
  get specialTokens(): ReadonlyMap<string, number> {
    return this.specials;
  }

  idToToken(id: number): string | undefined {
    return this.tokens[id];
  }

  tokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    if (typeof text !== "string") throw new ArgumentError(`BPETokenizer.encode: expected a string, got ${typeof text}`);
    const out: number[] = [];
    const parts = this.specialPattern && opts.allowSpecial !== false ? text.split(this.specialPattern) : [text];
    // split() with a capturing group alternates: text, special, text, special, ...
    parts.forEach((part, i) => {
      if (i % 2 === 1) out.push(this.specials.get(part)!);
      else if (part.length) {
        // add_prefix_space, as Hugging Face's ByteLevel: each stretch between special tokens gets one
        if (this.addPrefixSpace && !part.startsWith(" ")) part = " " + part;
        for (const word of this.useRegex ? pretokenize(part) : [part])
          for (const id of this.encodeWord(word)) out.push(id);
      }
    });
    return out;
  }

  encodeTensor(text: string, opts: EncodeOptions = {}): Tensor {
    const ids = this.encode(text, opts);
    return new Tensor(Int32Array.from(ids), [ids.length]);
  }

  /** The tokens (byte-level strings) that `encode` would give ids for. */
  tokenize(text: string, opts: EncodeOptions = {}): string[] {
    return this.encode(text, opts).map((id) => this.tokens[id]!);
  }

  /** Steps 3–5 for one pre-tokenized word, cached. */
  private encodeWord(word: string): number[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    const bytes = new TextEncoder().encode(word);
    let ids: number[];
    const whole = this.ignoreMerges ? this.ids.get(bytesToChars(bytes)) : undefined;
    if (whole !== undefined && !this.specialIds.has(whole)) ids = [whole];
    else {
      ids = new Array<number>(bytes.length);
      for (let i = 0; i < bytes.length; i++) {
        const id = this.byteIds[bytes[i]!]!;
        if (id < 0)
          throw new ArgumentError(
            `BPETokenizer.encode: the byte 0x${bytes[i]!.toString(16).padStart(2, "0")} (in ${JSON.stringify(word)}) has no token in this vocabulary`,
          );
        ids[i] = id;
      }
      for (;;) {
        // the adjacent pair with the lowest-ranked rule
        let best: { rank: number; id: number } | undefined,
          bestAt = -1;
        for (let i = 0; i + 1 < ids.length; i++) {
          const r = this.ranks.get(pairKey(ids[i]!, ids[i + 1]!));
          if (r !== undefined && (best === undefined || r.rank < best.rank)) ((best = r), (bestAt = i));
        }
        if (best === undefined) break;
        ids = mergeWord(ids, ids[bestAt]!, ids[bestAt + 1]!, best.id);
      }
    }
    if (this.cache.size >= 200_000) this.cache.clear(); // bounded memory on endless streams of new words
    this.cache.set(word, ids);
    return ids;
  }

  decode(ids: ArrayLike<number> | Tensor): string {
    const list = ids instanceof Tensor ? ids.storage : ids;
    const bytes: number[] = [];
    const encoder = new TextEncoder();
    for (let i = 0; i < list.length; i++) {
      const id = list[i]!;
      const token = this.tokens[id];
      if (token === undefined)
        throw new ArgumentError(
          `BPETokenizer.decode: id ${id} at position ${i} is not in the vocabulary (ids 0..${this.tokens.length - 1})`,
        );
      if (this.specialIds.has(id)) for (const b of encoder.encode(token)) bytes.push(b);
      else for (const ch of token) bytes.push(charToByte(ch));
    }
    // bytes that are not valid UTF-8 (a multi-byte character cut between tokens) become U+FFFD, as
    // GPT-2's decoder with errors="replace"; ignoreBOM keeps a leading U+FEFF that was in the text
    return new TextDecoder("utf-8", { ignoreBOM: true }).decode(new Uint8Array(bytes));
  }

  // -------------------------------------------------------------------------------------------------
  // tokenizer.json

  /** Hugging Face's tokenizer.json, as an object (`JSON.stringify(tokenizer)` writes the file). */
  toJSON(): TokenizerJSON {
    const vocab: Record<string, number> = {};
    this.tokens.forEach((t, id) => {
      if (t !== undefined) vocab[t] = id;
    });
    const byteLevel = {
      type: "ByteLevel",
      add_prefix_space: this.addPrefixSpace,
      trim_offsets: true,
      use_regex: this.useRegex,
    };
    return {
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: [...this.specials].map(([content, id]) => ({
        id,
        content,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      })),
      normalizer: null,
      pre_tokenizer: byteLevel,
      post_processor: { ...byteLevel, trim_offsets: false },
      decoder: byteLevel,
      model: {
        type: "BPE",
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: "",
        end_of_word_suffix: "",
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: this.ignoreMerges,
        vocab,
        merges: this.mergeList.map(([a, b]) => `${a} ${b}`),
      },
    };
  }

  /**
   * Read a tokenizer.json (its text or its parsed object): GPT-2 style byte-level BPE. Merges may be
   * written "a b" (older files) or ["a", "b"] (newer ones). Anything else throws a LoadError that
   * says what was found.
   */
  static fromJSON(json: string | object): BPETokenizer {
    const j = parseTokenizerJSON(json);
    const model = j.model;
    if (model.type !== undefined && model.type !== "BPE")
      throw new LoadError(
        `tokenizer.json: model type ${JSON.stringify(model.type)} is not supported; this loader reads byte-level BPE (model type "BPE")`,
      );
    if (!isObject(model.vocab))
      throw new LoadError(`tokenizer.json: model.vocab must be an object of token → id, got ${kind(model.vocab)}`);
    if (!Array.isArray(model.merges))
      throw new LoadError(`tokenizer.json: model.merges must be an array, got ${kind(model.merges)}`);
    for (const field of ["continuing_subword_prefix", "end_of_word_suffix"] as const) {
      if (model[field] !== undefined && model[field] !== null && model[field] !== "")
        throw new LoadError(
          `tokenizer.json: model.${field} ${JSON.stringify(model[field])} is not supported (byte-level BPE uses none)`,
        );
    }
    if (model.byte_fallback === true)
      throw new LoadError(`tokenizer.json: model.byte_fallback is not supported (byte-level BPE needs no fallback)`);
    if (model.dropout !== undefined && model.dropout !== null && model.dropout !== 0)
      throw new LoadError(`tokenizer.json: BPE dropout ${JSON.stringify(model.dropout)} is not supported`);
    if (j.normalizer !== undefined && j.normalizer !== null)
      throw new LoadError(
        `tokenizer.json: normalizer ${JSON.stringify((j.normalizer as { type?: unknown }).type ?? j.normalizer)} is not supported (GPT-2 style tokenizers have none)`,
      );
    // the pre-tokenizer: ByteLevel, alone or as the only step of a Sequence
    let pre = j.pre_tokenizer;
    if (isObject(pre) && pre.type === "Sequence" && Array.isArray(pre.pretokenizers) && pre.pretokenizers.length === 1)
      pre = pre.pretokenizers[0];
    if (!isObject(pre) || pre.type !== "ByteLevel")
      throw new LoadError(
        `tokenizer.json: pre_tokenizer ${JSON.stringify(isObject(pre) ? pre.type : pre)} is not supported; expected "ByteLevel" (GPT-2 style)`,
      );
    const dec = j.decoder;
    if (dec !== undefined && dec !== null && !(isObject(dec) && dec.type === "ByteLevel"))
      throw new LoadError(
        `tokenizer.json: decoder ${JSON.stringify(isObject(dec) ? dec.type : dec)} is not supported; expected "ByteLevel"`,
      );

    const merges = mergesFromJSON(model.merges);
    const added = j.added_tokens ?? [];
    if (!Array.isArray(added)) throw new LoadError(`tokenizer.json: added_tokens must be an array, got ${kind(added)}`);
    const specials = new Map<string, number>();
    added.forEach((t: unknown, i: number) => {
      if (!isObject(t) || typeof t.content !== "string" || typeof t.id !== "number")
        throw new LoadError(`tokenizer.json: added_tokens[${i}] must have a string "content" and a numeric "id"`);
      specials.set(t.content, t.id);
    });
    // vocabulary entries that are special tokens (GPT-2 lists <|endoftext|> in both places) go in as specials
    const vocab = new Map<string, number>();
    for (const [token, id] of Object.entries(model.vocab)) {
      if (typeof id !== "number")
        throw new LoadError(
          `tokenizer.json: vocab entry ${JSON.stringify(token)} has id ${JSON.stringify(id)}; ids must be integers`,
        );
      if (specials.has(token)) {
        if (specials.get(token) !== id)
          throw new LoadError(
            `tokenizer.json: ${JSON.stringify(token)} has id ${id} in the vocab but ${specials.get(token)} in added_tokens`,
          );
      } else vocab.set(token, id);
    }
    try {
      return new BPETokenizer({
        vocab,
        merges,
        specialTokens: specials,
        addPrefixSpace: pre.add_prefix_space === true,
        useRegex: pre.use_regex !== false,
        ignoreMerges: model.ignore_merges === true,
      });
    } catch (e) {
      if (e instanceof ArgumentError) throw new LoadError(`tokenizer.json: ${e.message}`);
      throw e;
    }
  }
}

/** The shape of the tokenizer.json we write. */
export interface TokenizerJSON {
  version: string;
  truncation: null;
  padding: null;
  added_tokens: {
    id: number;
    content: string;
    single_word: boolean;
    lstrip: boolean;
    rstrip: boolean;
    normalized: boolean;
    special: boolean;
  }[];
  normalizer: null;
  pre_tokenizer: { type: string; add_prefix_space: boolean; trim_offsets: boolean; use_regex: boolean };
  post_processor: { type: string; add_prefix_space: boolean; trim_offsets: boolean; use_regex: boolean };
  decoder: { type: string; add_prefix_space: boolean; trim_offsets: boolean; use_regex: boolean };
  model: {
    type: "BPE";
    dropout: null;
    unk_token: null;
    continuing_subword_prefix: string;
    end_of_word_suffix: string;
    fuse_unk: boolean;
    byte_fallback: boolean;
    ignore_merges: boolean;
    vocab: Record<string, number>;
    merges: string[];
  };
}

/** Replace every non-overlapping (a, b), left to right, by `id`; returns `w` itself when there is none. */
function mergeWord(w: number[], a: number, b: number, id: number): number[] {
  let out: number[] | null = null;
  for (let i = 0; i < w.length; i++) {
    if (i + 1 < w.length && w[i] === a && w[i + 1] === b) {
      out ??= w.slice(0, i);
      out.push(id);
      i++;
    } else if (out) out.push(w[i]!);
  }
  return out ?? w;
}

/** A max-heap of (count, pair key): larger count first, then the smaller key (smaller ids). */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];

  private above(i: number, j: number): boolean {
    const ci = this.counts[i]!,
      cj = this.counts[j]!;
    return ci > cj || (ci === cj && this.keys[i]! < this.keys[j]!);
  }

  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j]!, this.counts[i]!];
    [this.keys[i], this.keys[j]] = [this.keys[j]!, this.keys[i]!];
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    for (let i = this.counts.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!this.above(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private pop(): { count: number; key: number } | null {
    const n = this.counts.length;
    if (n === 0) return null;
    const top = { count: this.counts[0]!, key: this.keys[0]! };
    this.swap(0, n - 1);
    this.counts.pop();
    this.keys.pop();
    for (let i = 0; ;) {
      const l = 2 * i + 1,
        r = l + 1;
      let m = i;
      if (l < n - 1 && this.above(l, m)) m = l;
      if (r < n - 1 && this.above(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }

  /** The best entry that still matches the current count (entries go stale as counts change). */
  popValid(current: Map<number, number>): { count: number; key: number } | null {
    for (let e = this.pop(); e !== null; e = this.pop()) if (current.get(e.key) === e.count) return e;
    return null;
  }
}
