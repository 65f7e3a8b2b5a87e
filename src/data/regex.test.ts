// The linear-time matcher against JavaScript's own RegExp (the oracle, on inputs small enough for its
// backtracking): the same matches on seeded random texts for the patterns tokenizer files use, the
// refusals, and the pathological patterns finishing in linear time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError } from "../engine/errors.js";
import { Generator } from "../engine/rng.js";
import { LinearRegex } from "./regex.js";

/** Every match of a global "u" RegExp, as [start, end) pairs (empty matches advance one code point). */
function nativeMatches(pattern: string, text: string): [number, number][] {
  const re = new RegExp(pattern, "gu");
  return [...text.matchAll(re)].map((m) => [m.index!, m.index! + m[0].length]);
}

function linearMatches(re: LinearRegex, text: string): [number, number][] {
  const out: [number, number][] = [];
  for (let from = 0; from <= text.length;) {
    const m = re.exec(text, from);
    if (m === null) break;
    out.push(m);
    if (m[1] > m[0]) from = m[1];
    else from = m[1] + ((text.codePointAt(m[1]) ?? 0) > 0xffff ? 2 : 1);
  }
  return out;
}

// Patterns of real tokenizer files (GPT-2's, LLaMA-3's split written without (?i:), Replace
// normalizers) and small ones that exercise each construct.
const PATTERNS = [
  String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
  String.raw`[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
  String.raw` {2,}`,
  String.raw`\s+`,
  String.raw`^\s+|\s+$`,
  String.raw`▁`,
  String.raw`(a|ab)(c|bcd)(d*)`,
  String.raw`a*?b`,
  String.raw`(?:ab)+?c`,
  String.raw`x{2,3}`,
  String.raw`[a-c]+|[^a-c ]`,
  String.raw`\bab\b`,
  String.raw`\Ba`,
  String.raw`.+`,
  String.raw`(?=a)ab|b`,
  String.raw`a??`,
  String.raw`(a*)*b`,
  String.raw`\d+\.\d*`,
  String.raw`\w+`,
  String.raw`[\u00e9-\u00ff]`,
  String.raw`(?<word>\p{Lu}\p{Ll}*)`,
  String.raw`$`,
  String.raw`^`,
  String.raw`x*`,
];
const ALPHABET = [
  "a",
  "b",
  "c",
  "d",
  "x",
  " ",
  "  ",
  "\n",
  "\r",
  "é",
  "ü",
  "Ab",
  "1",
  "23",
  ".",
  "'s",
  "'ll",
  "▁",
  "🙂",
  "中",
  "!",
  "\t",
];

test("LinearRegex finds the matches RegExp finds, on seeded random texts", () => {
  const g = new Generator(12);
  for (const pattern of PATTERNS) {
    const re = new LinearRegex(pattern);
    for (let k = 0; k < 60; k++) {
      let text = "";
      const n = g.randint(0, 14);
      for (let j = 0; j < n; j++) text += ALPHABET[g.randint(0, ALPHABET.length)];
      assert.deepEqual(linearMatches(re, text), nativeMatches(pattern, text), `${pattern} on ${JSON.stringify(text)}`);
      assert.equal(
        re.replaceAll(text, "<$&>"),
        text.replace(new RegExp(pattern, "gu"), () => "<$&>"),
        `replace ${pattern} on ${JSON.stringify(text)}`,
      );
    }
  }
});

test("LinearRegex: (?i:…) matches either case inside the group only", () => {
  const re = new LinearRegex("(?i:'s|ab)c");
  assert.deepEqual(re.exec("xABc"), [1, 4]);
  assert.deepEqual(re.exec("'Sc"), [0, 3]);
  assert.equal(re.exec("abC"), null);
});

test("LinearRegex refuses what it cannot match in linear time, naming the pattern", () => {
  for (const bad of [
    String.raw`(a)\1`,
    String.raw`(?<=a)b`,
    String.raw`(?<!a)b`,
    String.raw`(?=ab)a`,
    String.raw`(?>a)`,
    String.raw`a++`,
    String.raw`a{2000}`,
    String.raw`(a`,
    String.raw`a)`,
    String.raw`[a`,
    String.raw`*a`,
    String.raw`\p{Nope}`,
    String.raw`\q`,
    "(".repeat(200) + ")".repeat(200),
    String.raw`(?<n>a)\k<n>`,
  ]) {
    assert.throws(
      () => new LinearRegex(bad),
      (e: Error) => e instanceof ArgumentError && e.message.includes("regex ") && /at position \d+/.test(e.message),
      bad,
    );
  }
});

test("LinearRegex: the patterns that make RegExp backtrack for minutes take linear time", () => {
  // ^(a+)+$ against 34 × "a" + "!": RegExp takes 2^34 steps; here 35 positions × a dozen instructions
  for (const pattern of [String.raw`^(a+)+$`, String.raw`(a|a)*b`, String.raw`(a*)*c`, String.raw`^(\w+\s?)*$`]) {
    const re = new LinearRegex(pattern);
    // 20,001 characters: the answer comes back (a backtracking engine would not finish before the sun dies)
    assert.equal(re.exec("a".repeat(20_000) + "!"), null, pattern);
    assert.equal(re.exec("a".repeat(34) + "!"), null, pattern);
  }
});
