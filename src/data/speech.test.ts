import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError } from "../engine/errors.js";
import { assertThrowsWith } from "../../test/harness/assert.js";
import {
  charFrontEnd,
  numberToWords,
  ordinalWords,
  parseCmudict,
  phonemeFrontEnd,
  shortPrompts,
  speakableSentences,
  yearWords,
} from "./speech.js";
import { loadMobyDick } from "./node/datasets.js";
import { loadCmudict } from "./node/speech-corpus.js";

test("numbers, ordinals and years in words, as they are read aloud", () => {
  assert.equal(numberToWords(0), "zero");
  assert.equal(numberToWords(42), "forty-two");
  assert.equal(numberToWords(110), "one hundred ten");
  assert.equal(numberToWords(1851), "one thousand eight hundred fifty-one");
  assert.equal(numberToWords(999_999), "nine hundred ninety-nine thousand nine hundred ninety-nine");
  assert.equal(ordinalWords(1), "first");
  assert.equal(ordinalWords(12), "twelfth");
  assert.equal(ordinalWords(22), "twenty-second");
  assert.equal(ordinalWords(30), "thirtieth");
  assert.equal(ordinalWords(28), "twenty-eighth");
  assert.equal(yearWords(1851), "eighteen fifty-one");
  assert.equal(yearWords(1900), "nineteen hundred");
  assert.equal(yearWords(1905), "nineteen oh five");
  assert.equal(yearWords(2005), "two thousand five");
  assert.equal(yearWords(2024), "twenty twenty-four");
  assertThrowsWith(() => numberToWords(-1), ArgumentError, /numberToWords/);
  assertThrowsWith(() => numberToWords(1.5), ArgumentError, /numberToWords/);
});

test("speakable sentences from Moby Dick: lower-cased, in bounds, distinct, the same for the same seed", () => {
  const text = loadMobyDick();
  const a = speakableSentences(text, { count: 300, seed: 1 });
  assert.equal(a.length, 300);
  assert.equal(new Set(a).size, 300);
  for (const s of a) assert.ok(s.length >= 20 && s.length <= 100 && /^[a-z ,.;:!?'-]+[.!?]$/.test(s), s);
  assert.deepEqual(speakableSentences(text, { count: 300, seed: 1 }), a);
  assert.notDeepEqual(speakableSentences(text, { count: 300, seed: 2 }), a);
  assertThrowsWith(() => speakableSentences("Too short.", { count: 1 }), ArgumentError, /0 speakable sentences/);
  const p = shortPrompts(["Anna", "Zoë"], 6, 3);
  assert.equal(p.length, 6);
  for (const s of p) assert.ok(/^[a-z ,.'-]+\.$/.test(s), s);
});

test("front ends: characters, and CMUdict phonemes with letters for unknown words", () => {
  const chars = charFrontEnd();
  const ids = chars.encode("Call me Ishmael.");
  assert.equal(ids.length, "call me ishmael.".length + 1);
  assert.equal(ids.at(-1), 1);
  assert.equal(ids.map((i) => chars.symbols[i]).join(""), "call me ishmael.<eos>");
  const dict = parseCmudict(";;; comment\nCALL  K AO1 L\nME  M IY1\nME(1)  M EY1\nISHMAEL  IH1 SH M IY0 L\n");
  assert.deepEqual(dict.get("me"), ["M", "IY1"]);
  const ph = phonemeFrontEnd(dict);
  const out = ph.encode("Call me Ishmael, zorg.").map((i) => ph.symbols[i]);
  assert.deepEqual(out, [
    "@K",
    "@AO",
    "@L",
    " ",
    "@M",
    "@IY",
    " ",
    "@IH",
    "@SH",
    "@M",
    "@IY",
    "@L",
    ",",
    " ",
    "z",
    "o",
    "r",
    "g",
    ".",
    "<eos>",
  ]);
  const cmu = loadCmudict();
  assert.ok(cmu.size > 100_000, `${cmu.size} words`);
  assert.deepEqual(cmu.get("ishmael"), ["IH1", "SH", "M", "IY0", "L"]);
});
