// The character-level tokenizer of nanoGPT's shakespeare_char: the vocabulary is the sorted set of the
// corpus's characters, and a character's id is its place in that list.
//
// "Character" means a Unicode code point (what Python's `sorted(set(text))` sorts), not a UTF-16 code
// unit, so an emoji is one token; the order is by code point, as in Python.

import { ArgumentError, LoadError } from "../engine/errors.js";
import { Tensor } from "../engine/tensor.js";
import type { Tokenizer } from "./tokenizer.js";

export interface CharTokenizerOptions {
  /**
   * A token for characters that are not in the vocabulary. Without it, encoding an unknown character
   * throws. If it is not one of the characters, it is added as the last id.
   */
  unk?: string;
}

/** The saved form of a CharTokenizer (inside a checkpoint's config). */
export interface CharTokenizerJSON {
  type: "char";
  chars: string[];
  unk: string | null;
}

export class CharTokenizer implements Tokenizer {
  /** id → character (the unk token, when there is one, may be longer than one character). */
  readonly chars: readonly string[];
  readonly unk: string | null;
  private readonly ids = new Map<string, number>();
  /** The same ids by code point, for encode (a multi-character unk token is never read, so it is not here). */
  private readonly byCodePoint = new Map<number, number>();
  private readonly unkId: number;

  /** A tokenizer over exactly these characters, in this order (ids 0, 1, ...). */
  constructor(chars: readonly string[], opts: CharTokenizerOptions = {}) {
    const list = [...chars];
    list.forEach((ch, i) => {
      // one character each; only the unk token may be longer (a saved vocabulary holds it at its id)
      if (typeof ch !== "string" || (ch !== opts.unk && [...ch].length !== 1)) {
        throw new ArgumentError(
          `CharTokenizer: vocabulary entry ${i} must be one character, got ${JSON.stringify(ch)}`,
        );
      }
      if (this.ids.has(ch))
        throw new ArgumentError(`CharTokenizer: the character ${describe(ch)} appears twice in the vocabulary`);
      this.ids.set(ch, i);
    });
    this.unk = opts.unk ?? null;
    if (this.unk !== null && !this.ids.has(this.unk)) {
      if (this.unk.length === 0) throw new ArgumentError("CharTokenizer: the unk token must not be empty");
      this.ids.set(this.unk, list.length);
      list.push(this.unk);
    }
    this.unkId = this.unk === null ? -1 : this.ids.get(this.unk)!;
    for (const [ch, id] of this.ids) if ([...ch].length === 1) this.byCodePoint.set(ch.codePointAt(0)!, id);
    this.chars = Object.freeze(list);
  }

  /** The vocabulary of a corpus: its distinct characters sorted by code point. */
  static fromText(text: string, opts: CharTokenizerOptions = {}): CharTokenizer {
    // code points below 2¹⁶ flagged in a table (a book's million characters: no Set insertion each), the others in a Set
    const bmp = new Uint8Array(0x10000),
      astral = new Set<number>();
    for (let i = 0; i < text.length;) {
      const cp = text.codePointAt(i)!;
      if (cp > 0xffff) {
        astral.add(cp);
        i += 2;
      } else {
        bmp[cp] = 1;
        i++;
      }
    }
    const seen: number[] = [];
    for (let cp = 0; cp < 0x10000; cp++) if (bmp[cp]) seen.push(cp);
    seen.push(...[...astral].sort((a, b) => a - b));
    return new CharTokenizer(
      seen.map((c) => String.fromCodePoint(c)),
      opts,
    );
  }

  get vocabSize(): number {
    return this.chars.length;
  }

  encode(text: string): number[] {
    const out: number[] = [];
    // the ids of code points below 2¹⁶ in a table (−1: none), made at the first encode; the others by the Map
    const table = (this.bmpIds ??= this.makeBmpTable());
    // code point by code point (a Map keyed by numbers: no string made per character)
    for (let at = 0; at < text.length;) {
      const unit = text.charCodeAt(at);
      if (unit < 0xd800 || unit > 0xdfff) {
        const id = table[unit]!;
        if (id >= 0) {
          out.push(id);
          at++;
          continue;
        }
      }
      const cp = text.codePointAt(at)!;
      const id = this.byCodePoint.get(cp);
      if (id !== undefined) out.push(id);
      else if (this.unkId >= 0) out.push(this.unkId);
      else {
        throw new ArgumentError(
          `CharTokenizer.encode: the character ${describe(String.fromCodePoint(cp))} at index ${at} is not in the vocabulary of ${this.chars.length} characters ` +
            `(build the tokenizer from a text that contains it, or pass { unk } to map unknown characters to one token)`,
        );
      }
      at += cp > 0xffff ? 2 : 1; // a position in UTF-16 units, for the error message
    }
    return out;
  }

  private bmpIds: Int32Array | null = null;

  private makeBmpTable(): Int32Array {
    const table = new Int32Array(0x10000).fill(-1);
    for (const [cp, id] of this.byCodePoint) if (cp <= 0xffff) table[cp] = id;
    return table;
  }

  encodeTensor(text: string): Tensor {
    const ids = this.encode(text);
    return new Tensor(Int32Array.from(ids), [ids.length]);
  }

  decode(ids: ArrayLike<number> | Tensor): string {
    const list = ids instanceof Tensor ? ids.storage : ids;
    let s = "";
    for (let i = 0; i < list.length; i++) {
      const ch = this.chars[list[i]!];
      if (ch === undefined)
        throw new ArgumentError(
          `CharTokenizer.decode: id ${list[i]} at position ${i} is outside the vocabulary [0, ${this.chars.length})`,
        );
      s += ch;
    }
    return s;
  }

  toJSON(): CharTokenizerJSON {
    return { type: "char", chars: [...this.chars], unk: this.unk }; // an appended unk is in chars already
  }

  static fromJSON(json: unknown): CharTokenizer {
    const j = json as Partial<CharTokenizerJSON> | null;
    if (j === null || typeof j !== "object" || j.type !== "char" || !Array.isArray(j.chars)) {
      throw new LoadError(
        `CharTokenizer.fromJSON: expected { type: "char", chars: string[], unk }, got ${JSON.stringify(json)?.slice(0, 80)}`,
      );
    }
    if (j.unk !== null && j.unk !== undefined && typeof j.unk !== "string")
      throw new LoadError(`CharTokenizer.fromJSON: unk must be a string or null`);
    try {
      return new CharTokenizer(j.chars, j.unk ? { unk: j.unk } : {});
    } catch (e) {
      throw new LoadError(`CharTokenizer.fromJSON: ${(e as Error).message}`);
    }
  }
}

/** 'x' (U+0078), so invisible characters are still named. */
/**
 * A text's tokenizer (CharTokenizer.fromText) and its ids, the last text's kept: a memory estimate builds a recipe
 * at two small batches before the run builds it, and a book's million characters take about 100 ms to tokenize
 * each time. Each caller gets its own copy of the ids; the tokenizer is shared (it is never written to).
 */
export function charTokens(text: string): { tok: CharTokenizer; ids: Int32Array } {
  if (lastText === null || lastText.text !== text) {
    const tok = CharTokenizer.fromText(text);
    lastText = { text, tokens: { tok, ids: Int32Array.from(tok.encode(text)) } };
  }
  return { tok: lastText.tokens.tok, ids: lastText.tokens.ids.slice() };
}
let lastText: { text: string; tokens: { tok: CharTokenizer; ids: Int32Array } } | null = null;

function describe(ch: string): string {
  return `${JSON.stringify(ch)} (U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")})`;
}
