// Text for a speech corpus, and the text front ends of text-to-speech models.
//
// No speech data set is on npm, so a teacher voice reads text we choose (src/data/node/teacher.ts).
// This file chooses it, deterministically: sentences from Moby Dick of a speakable length, and short
// prompts (names, numbers, dates) written out in words, so that what the model reads is what it hears.
// Then it turns text into the ids a model embeds: characters, or phonemes from the CMU dictionary with
// the word's letters as the fallback for words the dictionary does not know.

import { ArgumentError } from "../engine/errors.js";
import { Generator } from "../engine/rng.js";

/** The characters a sentence may hold (after lower-casing): letters, space and light punctuation. */
const SPEAKABLE = /^[a-z ,.;:!?'-]+$/;

export interface SentenceOptions {
  /** how many sentences to return */
  count: number;
  /** default 20 */
  minChars?: number;
  /** default 100 */
  maxChars?: number;
  /** the order they are drawn in; default 0 */
  seed?: number;
}

/**
 * Distinct sentences of a text, lower-cased, whitespace collapsed, between minChars and maxChars long
 * and made only of letters, spaces and light punctuation; a seeded draw of `count` of them.
 */
export function speakableSentences(text: string, o: SentenceOptions): string[] {
  const minChars = o.minChars ?? 20,
    maxChars = o.maxChars ?? 100;
  if (!Number.isInteger(o.count) || o.count < 0)
    throw new ArgumentError(`speakableSentences: count must be a non-negative integer, got ${o.count}`);
  const seen = new Set<string>();
  const all: string[] = [];
  // a sentence ends at . ! or ? followed by white space (or the end)
  for (const raw of text.split(/(?<=[.!?])\s+/)) {
    const s = raw.replace(/\s+/g, " ").trim().toLowerCase().replace(/[“”"]/g, "").replace(/[‘’]/g, "'");
    if (s.length < minChars || s.length > maxChars || !SPEAKABLE.test(s) || !/[.!?]$/.test(s) || seen.has(s)) continue;
    seen.add(s);
    all.push(s);
  }
  if (all.length < o.count)
    throw new ArgumentError(
      `speakableSentences: the text has ${all.length} speakable sentences of ${minChars}–${maxChars} characters, fewer than the ${o.count} asked for`,
    );
  return shuffle(all, o.seed ?? 0).slice(0, o.count);
}

const ONES = [
  "zero",
  "one",
  "two",
  "three",
  "four",
  "five",
  "six",
  "seven",
  "eight",
  "nine",
  "ten",
  "eleven",
  "twelve",
  "thirteen",
  "fourteen",
  "fifteen",
  "sixteen",
  "seventeen",
  "eighteen",
  "nineteen",
];
const TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
const ORDINAL: Record<string, string> = {
  one: "first",
  two: "second",
  three: "third",
  five: "fifth",
  eight: "eighth",
  nine: "ninth",
  twelve: "twelfth",
};
const MONTHS = [
  "january",
  "february",
  "march",
  "april",
  "may",
  "june",
  "july",
  "august",
  "september",
  "october",
  "november",
  "december",
];

/** A whole number 0 … 999,999 in words, the way it is said: 1851 → "one thousand eight hundred fifty-one". */
export function numberToWords(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 999_999)
    throw new ArgumentError(`numberToWords: a whole number in [0, 999999], got ${n}`);
  if (n < 20) return ONES[n]!;
  if (n < 100) return TENS[Math.floor(n / 10)] + (n % 10 ? "-" + ONES[n % 10] : "");
  if (n < 1000) return ONES[Math.floor(n / 100)] + " hundred" + (n % 100 ? " " + numberToWords(n % 100) : "");
  return numberToWords(Math.floor(n / 1000)) + " thousand" + (n % 1000 ? " " + numberToWords(n % 1000) : "");
}

/** 1 → "first", 22 → "twenty-second", 30 → "thirtieth". */
export function ordinalWords(n: number): string {
  const words = numberToWords(n);
  const i = Math.max(words.lastIndexOf(" "), words.lastIndexOf("-")) + 1;
  const last = words.slice(i);
  const ord = ORDINAL[last] ?? (last.endsWith("y") ? last.slice(0, -1) + "ieth" : last + "th");
  return words.slice(0, i) + ord;
}

/** A year the way it is read: 1851 → "eighteen fifty-one", 1900 → "nineteen hundred", 2005 → "two thousand five". */
export function yearWords(y: number): string {
  if (!Number.isInteger(y) || y < 1100 || y > 2099)
    throw new ArgumentError(`yearWords: a year in [1100, 2099], got ${y}`);
  if (y >= 2000 && y < 2010) return numberToWords(y);
  const hi = Math.floor(y / 100),
    lo = y % 100;
  return numberToWords(hi) + (lo === 0 ? " hundred" : lo < 10 ? " oh " + ONES[lo] : " " + numberToWords(lo));
}

/** Short prompts: "anna.", "forty-two.", "the third of may, eighteen fifty-one." — seeded, lower-cased. */
export function shortPrompts(names: string[], count: number, seed = 0): string[] {
  const g = new Generator(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 3;
    if (kind === 0 && names.length)
      out.push(`${names[g.randint(0, names.length)]!.toLowerCase().replace(/[^a-z' -]/g, "")}.`);
    else if (kind === 1) out.push(`${numberToWords(g.randint(0, 10_000))}.`);
    else
      out.push(
        `the ${ordinalWords(g.randint(1, 29))} of ${MONTHS[g.randint(0, 12)]}, ${yearWords(g.randint(1800, 2030))}.`,
      );
  }
  return out;
}

function shuffle<T>(xs: T[], seed: number): T[] {
  const g = new Generator(seed);
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = g.randint(0, i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

// -------------------------------------------------------------------------------------------------
// Text front ends: text → ids. Id 0 pads a batch, id 1 ends a sentence.

export interface TextFrontEnd {
  readonly kind: "chars" | "phonemes";
  /** the symbols, index = id */
  readonly symbols: readonly string[];
  encode(text: string): number[];
}

const PAD = "<pad>",
  EOS = "<eos>";
const CHARS = [..." abcdefghijklmnopqrstuvwxyz,.;:!?'-"];

/** Characters: one id per letter, space and punctuation mark; other characters are dropped. */
export function charFrontEnd(): TextFrontEnd {
  const symbols = [PAD, EOS, ...CHARS];
  const id = new Map(symbols.map((s, i) => [s, i]));
  return {
    kind: "chars",
    symbols,
    encode: (text) => [...text.toLowerCase()].flatMap((c) => (id.has(c) ? [id.get(c)!] : [])).concat(1),
  };
}

/**
 * Phonemes (ARPAbet, stress marks dropped) from a pronouncing dictionary such as CMUdict (word → its
 * first pronunciation); a word it does not know is spelled with its letters. Words are separated by a
 * space symbol, punctuation is kept as its own symbol.
 */
export function phonemeFrontEnd(dictionary: ReadonlyMap<string, readonly string[]>): TextFrontEnd {
  const phones = new Set<string>();
  for (const p of dictionary.values()) for (const ph of p) phones.add(ph.replace(/[012]$/, ""));
  const symbols = [PAD, EOS, ...CHARS, ...[...phones].sort().map((p) => "@" + p)];
  const id = new Map(symbols.map((s, i) => [s, i]));
  return {
    kind: "phonemes",
    symbols,
    encode(text) {
      const out: number[] = [];
      for (const token of text.toLowerCase().match(/[a-z']+|[ ,.;:!?-]/g) ?? []) {
        const pron = /^[a-z']/.test(token) ? dictionary.get(token) : undefined;
        if (pron) for (const ph of pron) out.push(id.get("@" + ph.replace(/[012]$/, ""))!);
        else for (const c of token) if (id.has(c)) out.push(id.get(c)!);
      }
      out.push(1);
      return out;
    },
  };
}

/** Parse CMUdict's text ("WORD  P1 P2 …", alternates as "WORD(1)", comments ";;;"): word → first pronunciation. */
export function parseCmudict(text: string): Map<string, string[]> {
  const dict = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith(";;;")) continue;
    const m = /^([^\s(]+)(\(\d+\))?\s+(.+)$/.exec(line.trim());
    if (!m || m[2]) continue; // alternates: keep the first pronunciation
    dict.set(m[1]!.toLowerCase(), m[3]!.trim().split(/\s+/));
  }
  return dict;
}
