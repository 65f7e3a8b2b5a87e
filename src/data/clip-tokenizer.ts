// CLIP's tokenizer (Radford et al. 2021, §2.5: "a lower-cased byte pair encoding with a 49,152 vocab size"),
// read from the two files a diffusers folder holds: tokenizer/vocab.json (token → id) and tokenizer/merges.txt
// (one merge "a b" per line after a "#version" header, in rank order).
//
// Its rules, which differ from GPT-2's byte-level BPE (bytelevel.ts, bpe.ts):
//   1. whitespace runs become one space, the ends are trimmed, the text is lower-cased;
//   2. words: <|startoftext|>, <|endoftext|>, the English clitics 's 't 're 've 'm 'll 'd, runs of letters, single
//      digits, runs of other non-space characters (spaces separate words and are dropped);
//   3. each word's UTF-8 bytes become GPT-2's byte characters, and its last character carries the end-of-word mark
//      "</w>" (so "a" inside a word and "a" ending one are different symbols);
//   4. the pair of adjacent symbols with the lowest merge rank is merged, until no pair is in the table;
//   5. a prompt is [<|startoftext|>, ids…, <|endoftext|>], cut to 77 and padded with <|endoftext|> (SD v1's pad).
// (CLIP's reference also repairs mojibake with ftfy and unescapes HTML; those steps are left out.)

import { ArgumentError, LoadError } from "../engine/errors.js";
import { BYTE_TO_CHAR } from "./bytelevel.js";

export const CLIP_PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/gu;

export class CLIPTokenizer {
  readonly vocab: Map<string, number>;
  /** "a b" → rank */
  readonly ranks: Map<string, number>;
  readonly bos: number;
  readonly eos: number;
  private readonly cache = new Map<string, number[]>();

  constructor(vocab: Record<string, unknown>, merges: string) {
    this.vocab = new Map();
    for (const [token, id] of Object.entries(vocab)) {
      if (!Number.isInteger(id) || (id as number) < 0)
        throw new LoadError(
          `CLIPTokenizer: vocab.json maps ${JSON.stringify(token)} to ${JSON.stringify(id)}, not an id`,
        );
      this.vocab.set(token, id as number);
    }
    this.ranks = new Map();
    const lines = merges.split(/\r?\n/);
    lines.forEach((line, i) => {
      if ((i === 0 && line.startsWith("#version")) || line.trim() === "") return;
      const parts = line.split(" ");
      if (parts.length !== 2)
        throw new LoadError(
          `CLIPTokenizer: merges.txt line ${i + 1} should hold two symbols, got ${JSON.stringify(line)}`,
        );
      if (!this.ranks.has(line)) this.ranks.set(line, this.ranks.size);
    });
    const special = (t: string): number => {
      const id = this.vocab.get(t);
      if (id === undefined) throw new LoadError(`CLIPTokenizer: vocab.json has no ${t}`);
      return id;
    };
    this.bos = special("<|startoftext|>");
    this.eos = special("<|endoftext|>");
  }

  /** Rule 4 on one word's symbols (rule 3 already applied). */
  private bpe(word: string): number[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    const chars = [...word];
    let symbols = [...chars.slice(0, -1), chars[chars.length - 1]! + "</w>"];
    for (;;) {
      let best = -1,
        bestRank = Infinity;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const r = this.ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
        if (r !== undefined && r < bestRank) [best, bestRank] = [i, r];
      }
      if (best < 0) break;
      // merge every occurrence of the best pair, left to right
      const [a, b] = [symbols[best]!, symbols[best + 1]!];
      const merged: string[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i + 1 < symbols.length && symbols[i] === a && symbols[i + 1] === b) {
          merged.push(a + b);
          i++;
        } else merged.push(symbols[i]!);
      }
      symbols = merged;
    }
    const ids = symbols.map((s) => {
      const id = this.vocab.get(s);
      if (id === undefined) throw new LoadError(`CLIPTokenizer: the symbol ${JSON.stringify(s)} is not in vocab.json`);
      return id;
    });
    this.cache.set(word, ids);
    return ids;
  }

  /** The ids of a text, without the start and end tokens (rules 1–4). */
  encode(text: string): number[] {
    const clean = text.replace(/\s+/g, " ").trim().toLowerCase();
    const out: number[] = [];
    for (const m of clean.matchAll(CLIP_PATTERN)) {
      const word = m[0];
      if (word === "<|startoftext|>" || word === "<|endoftext|>") {
        out.push(word === "<|startoftext|>" ? this.bos : this.eos);
        continue;
      }
      const chars = Array.from(new TextEncoder().encode(word), (b) => BYTE_TO_CHAR[b]!).join("");
      out.push(...this.bpe(chars));
    }
    return out;
  }

  /** Rule 5: [bos, ids…, eos] cut to `length` (the end token kept) and padded with the end token. */
  prompt(text: string, length = 77): Int32Array {
    if (!Number.isInteger(length) || length < 2)
      throw new ArgumentError(`CLIPTokenizer.prompt: length must be an integer ≥ 2, got ${length}`);
    const ids = [this.bos, ...this.encode(text).slice(0, length - 2), this.eos];
    const out = new Int32Array(length).fill(this.eos);
    out.set(ids);
    return out;
  }

  decode(ids: readonly number[]): string {
    const inv = new Map([...this.vocab].map(([t, i]) => [i, t]));
    const chars = ids.map((i) => inv.get(i) ?? "").join("");
    const bytes = Uint8Array.from(
      [...chars.replace(/<\/w>/g, " ")].map((c) => (c === " " ? 32 : BYTE_TO_CHAR.indexOf(c))).filter((b) => b >= 0),
    );
    return new TextDecoder().decode(bytes).trim();
  }
}
