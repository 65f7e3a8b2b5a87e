// WordPiece: BERT's tokenizer.
//   Devlin et al. 2019, "BERT", §3 and the released tokenization.py (BasicTokenizer, WordpieceTokenizer);
//   Wu et al. 2016, "Google's Neural Machine Translation System", §4.1 (the word-piece model).
//
// Two stages:
// 1. Basic tokenization (text → words): drop NUL, U+FFFD and control characters, turn every whitespace
//    character into a space, put spaces around CJK ideographs (each becomes a word), split on whitespace;
//    then per word: lower-case and strip accents (NFD, drop the combining marks) when `lowercase`, and
//    split off every punctuation character as a word of its own.
// 2. WordPiece (word → pieces): greedy longest-match-first from the left; a piece that does not start the
//    word is looked up with the "##" prefix. A word with no segmentation, or longer than 100 characters,
//    becomes the single [UNK].
//
// Files: `WordPieceTokenizer.fromVocabTxt(text)` reads BERT's vocab.txt (one token a line, the id is the
// line number); `WordPieceTokenizer.fromJSON(tokenizer.json)` reads HF's tokenizer.json with a "WordPiece"
// model and its BertNormalizer settings.

import { ArgumentError, LoadError } from "../engine/errors.js";
import { Tensor } from "../engine/tensor.js";
import type { Tokenizer } from "./tokenizer.js";
import { isObject, parseTokenizerJSON } from "./tokenizer-file.js";

export interface WordPieceOptions {
  /** lower-case the text and strip accents (bert-base-uncased: true; the cased models: false) */
  lowercase?: boolean;
  /** strip accents; default: as `lowercase` (BERT's rule) */
  stripAccents?: boolean;
  /** spaces around CJK ideographs (default true) */
  handleChineseChars?: boolean;
  /** the unknown token (default "[UNK]"); it must be in the vocabulary */
  unkToken?: string;
  /** the prefix of a piece that continues a word (default "##") */
  continuingPrefix?: string;
  /** a longer word is [UNK] (default 100) */
  maxInputCharsPerWord?: number;
  /** tokens kept whole by the basic tokenizer and never lower-cased (default: those of [PAD] [UNK] [CLS] [SEP] [MASK] in the vocabulary) */
  specialTokens?: readonly string[];
}

export interface EncodedPair {
  /** [CLS] a [SEP] (b [SEP]) */
  ids: number[];
  /** 0 for [CLS], a and its [SEP]; 1 for b and its [SEP] */
  tokenTypeIds: number[];
}

const DEFAULT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

export class WordPieceTokenizer implements Tokenizer {
  readonly vocab: ReadonlyMap<string, number>;
  readonly tokens: readonly string[]; // id → token
  readonly lowercase: boolean;
  readonly stripAccents: boolean;
  readonly handleChineseChars: boolean;
  readonly unkToken: string;
  readonly continuingPrefix: string;
  readonly maxInputCharsPerWord: number;
  readonly specialTokens: readonly string[];
  private readonly unkId: number;

  /** vocab: the tokens in id order (vocab.txt's lines), or a token → id map (tokenizer.json's model.vocab). */
  constructor(vocab: readonly string[] | Record<string, number>, opts: WordPieceOptions = {}) {
    const entries: [string, number][] = Array.isArray(vocab) ? vocab.map((t, i) => [t, i]) : Object.entries(vocab);
    const map = new Map<string, number>();
    const tokens: string[] = [];
    for (const [t, id] of entries) {
      if (!Number.isInteger(id) || id < 0)
        throw new ArgumentError(
          `WordPieceTokenizer: token ${JSON.stringify(t)} has id ${id}; ids must be integers ≥ 0`,
        );
      if (map.has(t))
        throw new ArgumentError(`WordPieceTokenizer: token ${JSON.stringify(t)} appears twice in the vocabulary`);
      if (tokens[id] !== undefined)
        throw new ArgumentError(
          `WordPieceTokenizer: id ${id} is given to both ${JSON.stringify(tokens[id])} and ${JSON.stringify(t)}`,
        );
      map.set(t, id);
      tokens[id] = t;
    }
    this.vocab = map;
    this.tokens = tokens;
    this.lowercase = opts.lowercase ?? true;
    this.stripAccents = opts.stripAccents ?? this.lowercase;
    this.handleChineseChars = opts.handleChineseChars ?? true;
    this.unkToken = opts.unkToken ?? "[UNK]";
    this.continuingPrefix = opts.continuingPrefix ?? "##";
    this.maxInputCharsPerWord = opts.maxInputCharsPerWord ?? 100;
    this.specialTokens = opts.specialTokens ?? DEFAULT_SPECIALS.filter((t) => map.has(t));
    const unk = map.get(this.unkToken);
    if (unk === undefined)
      throw new ArgumentError(
        `WordPieceTokenizer: the unknown token ${JSON.stringify(this.unkToken)} is not in the vocabulary`,
      );
    this.unkId = unk;
  }

  get vocabSize(): number {
    return this.tokens.length;
  }

  /** The id of a token in the vocabulary ("[CLS]", "##ing"); throws when it is not there. */
  tokenToId(token: string): number {
    const id = this.vocab.get(token);
    if (id === undefined)
      throw new ArgumentError(`WordPieceTokenizer: ${JSON.stringify(token)} is not in the vocabulary`);
    return id;
  }

  // ---------------------------------------------------------------------------------------------------
  // Stage 1: the basic tokenizer

  /** Text → words: cleaning, CJK spacing, whitespace split, lower-casing and accent stripping, punctuation split. */
  basicTokenize(text: string): string[] {
    const words: string[] = [];
    for (const chunk of this.splitSpecials(text)) {
      if (this.specialTokens.includes(chunk)) {
        words.push(chunk);
        continue;
      }
      let clean = "";
      for (const ch of chunk) {
        const cp = ch.codePointAt(0)!;
        if (cp === 0 || cp === 0xfffd || isControl(ch)) continue; //          dropped
        if (isWhitespace(ch))
          clean += " "; //                                 one space
        else if (this.handleChineseChars && isCJK(cp))
          clean += ` ${ch} `; // a word of its own
        else clean += ch;
      }
      for (let word of clean.split(" ")) {
        if (!word) continue;
        if (this.lowercase) word = word.toLowerCase();
        // strip accents: decompose (NFD), then drop the nonspacing marks (Unicode category Mn)
        if (this.stripAccents) word = word.normalize("NFD").replace(/\p{Mn}/gu, "");
        words.push(...splitPunctuation(word));
      }
    }
    return words;
  }

  /** The text cut around the special tokens, which stay whole. */
  private splitSpecials(text: string): string[] {
    if (this.specialTokens.length === 0) return [text];
    const escaped = this.specialTokens.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    return text.split(new RegExp(`(${escaped.join("|")})`)).filter((s) => s.length > 0);
  }

  // ---------------------------------------------------------------------------------------------------
  // Stage 2: WordPiece

  /** One word → its pieces, greedy longest-match-first; [UNK] when a part cannot be matched or the word is too long. */
  wordPiece(word: string): string[] {
    const chars = [...word]; // code points
    if (chars.length > this.maxInputCharsPerWord) return [this.unkToken];
    const pieces: string[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length,
        found: string | null = null;
      // the longest chars[start, end) in the vocabulary ("##" + it after the first piece)
      for (; end > start; end--) {
        const sub = (start > 0 ? this.continuingPrefix : "") + chars.slice(start, end).join("");
        if (this.vocab.has(sub)) {
          found = sub;
          break;
        }
      }
      if (found === null) return [this.unkToken]; // the whole word is unknown
      pieces.push(found);
      start = end;
    }
    return pieces;
  }

  /** Text → WordPiece tokens (strings). */
  tokenize(text: string): string[] {
    return this.basicTokenize(text).flatMap((w) => (this.specialTokens.includes(w) ? [w] : this.wordPiece(w)));
  }

  /** Text → ids, without [CLS]/[SEP] (see `encodePair`). */
  encode(text: string): number[] {
    return this.tokenize(text).map((t) => this.vocab.get(t) ?? this.unkId);
  }

  encodeTensor(text: string): Tensor {
    const ids = this.encode(text);
    return new Tensor(Int32Array.from(ids), [ids.length]);
  }

  /** BERT's input (§3, Figure 2): [CLS] a [SEP] or [CLS] a [SEP] b [SEP], with the segment ids. */
  encodePair(a: string, b?: string): EncodedPair {
    const cls = this.tokenToId("[CLS]"),
      sep = this.tokenToId("[SEP]");
    const first = [cls, ...this.encode(a), sep];
    const second = b === undefined ? [] : [...this.encode(b), sep];
    return { ids: [...first, ...second], tokenTypeIds: [...first.map(() => 0), ...second.map(() => 1)] };
  }

  /** Ids → text: tokens joined by spaces, a "##" piece glued to the one before it. */
  decode(ids: ArrayLike<number> | Tensor): string {
    const list = ids instanceof Tensor ? ids.storage : ids;
    let s = "";
    for (let i = 0; i < list.length; i++) {
      const t = this.tokens[list[i]!];
      if (t === undefined)
        throw new ArgumentError(`WordPieceTokenizer.decode: id ${list[i]} at position ${i} is not in the vocabulary`);
      if (t.startsWith(this.continuingPrefix)) s += t.slice(this.continuingPrefix.length);
      else s += (s ? " " : "") + t;
    }
    return s;
  }

  // ---------------------------------------------------------------------------------------------------
  // Files

  /** BERT's vocab.txt: one token a line, the id is the line number (a trailing newline is ignored). */
  static fromVocabTxt(text: string, opts: WordPieceOptions = {}): WordPieceTokenizer {
    const lines = text.split(/\r?\n/);
    if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
    return new WordPieceTokenizer(lines, opts);
  }

  /** HF's tokenizer.json (text or parsed) with model type "WordPiece"; the BertNormalizer's flags are read. */
  static fromJSON(json: string | object): WordPieceTokenizer {
    const j = parseTokenizerJSON(json, { model: false });
    const obj = isObject;
    const model = j.model;
    if (!obj(model) || model.type !== "WordPiece")
      throw new LoadError(
        `tokenizer.json: model type ${JSON.stringify(obj(model) ? model.type : model)} is not supported; this loader reads "WordPiece"`,
      );
    if (!obj(model.vocab)) throw new LoadError("tokenizer.json: model.vocab must be an object of token → id");
    const norm = j.normalizer;
    if (norm !== undefined && norm !== null && !(obj(norm) && norm.type === "BertNormalizer")) {
      throw new LoadError(
        `tokenizer.json: normalizer ${JSON.stringify(obj(norm) ? norm.type : norm)} is not supported; expected "BertNormalizer"`,
      );
    }
    const n = obj(norm) ? norm : {};
    const lowercase = n.lowercase === undefined ? true : n.lowercase === true;
    const added = Array.isArray(j.added_tokens) ? j.added_tokens : [];
    const specials = added
      .filter(
        (t): t is { content: string; special: boolean } =>
          obj(t) && typeof t.content === "string" && t.special === true,
      )
      .map((t) => t.content);
    try {
      return new WordPieceTokenizer(model.vocab as Record<string, number>, {
        lowercase,
        stripAccents: n.strip_accents === null || n.strip_accents === undefined ? lowercase : n.strip_accents === true,
        handleChineseChars: n.handle_chinese_chars !== false,
        unkToken: typeof model.unk_token === "string" ? model.unk_token : "[UNK]",
        continuingPrefix: typeof model.continuing_subword_prefix === "string" ? model.continuing_subword_prefix : "##",
        maxInputCharsPerWord: typeof model.max_input_chars_per_word === "number" ? model.max_input_chars_per_word : 100,
        ...(specials.length ? { specialTokens: specials } : {}),
      });
    } catch (e) {
      if (e instanceof ArgumentError) throw new LoadError(`tokenizer.json: ${e.message}`);
      throw e;
    }
  }
}

// -----------------------------------------------------------------------------------------------------
// Character classes (as BERT's tokenization.py defines them)

/** space, \t, \n, \r, or Unicode category Zs */
function isWhitespace(ch: string): boolean {
  return ch === " " || ch === "\t" || ch === "\n" || ch === "\r" || /\p{Zs}/u.test(ch);
}

/** Unicode category C* (control, format, …), except \t \n \r which count as whitespace */
function isControl(ch: string): boolean {
  if (ch === "\t" || ch === "\n" || ch === "\r") return false;
  return /\p{C}/u.test(ch);
}

/** ASCII non-letter-non-digit symbols (33–47, 58–64, 91–96, 123–126: "$", "^", "`" too), or Unicode category P* */
function isPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126))
    return true;
  return /\p{P}/u.test(ch);
}

/** The CJK Unified Ideographs blocks (not Hiragana, Katakana or Hangul, which are written with spaces) */
function isCJK(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** "hello,world!" → ["hello", ",", "world", "!"]: every punctuation character a word of its own */
function splitPunctuation(word: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (const ch of word) {
    if (isPunctuation(ch)) {
      if (cur) out.push(cur);
      out.push(ch);
      cur = "";
    } else cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}
