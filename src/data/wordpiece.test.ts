// WordPiece: BERT's basic tokenizer and greedy longest-match-first pieces, on examples derived by hand
// from the rules in src/data/wordpiece.ts (BERT's tokenization.py).

import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError, LoadError } from "../index.js";
import { assertThrowsWith } from "../../test/harness/assert.js";
import { WordPieceTokenizer } from "./wordpiece.js";

const VOCAB = [
  "[PAD]",
  "[UNK]",
  "[CLS]",
  "[SEP]",
  "[MASK]",
  "want",
  "##want",
  "##ed",
  "wa",
  "un",
  "runn",
  "##ing",
  ",",
  "!",
  "hello",
  "how",
  "are",
  "you",
  "?",
  "cafe",
  "中",
  "国",
  "a",
  "##b",
  "##c",
  "ab",
];
const tok = new WordPieceTokenizer(VOCAB);

test("basic tokenizer: whitespace, lower-casing, accents, punctuation, CJK, control characters", () => {
  // whitespace of every kind is one separator; each punctuation character a word of its own
  assert.deepEqual(tok.basicTokenize(" \tHeLLo!how  \n Are yoU?  "), ["hello", "!", "how", "are", "you", "?"]);
  // NFD then drop the combining marks: é = e + U+0301
  assert.deepEqual(tok.basicTokenize("Café UNwant\u00E9d,running"), ["cafe", "unwanted", ",", "running"]);
  // a CJK ideograph is a word even inside a word; kana is not CJK here
  assert.deepEqual(tok.basicTokenize("ah\u535A\u63A8zz"), ["ah", "\u535A", "\u63A8", "zz"]);
  assert.deepEqual(tok.basicTokenize("中国a"), ["中", "国", "a"]);
  // NUL, U+FFFD and category C (U+200B zero-width space is Cf) are dropped; U+00A0 (Zs) separates
  assert.deepEqual(tok.basicTokenize("a\u0000b\uFFFDc\u200Bd e\u00A0f"), ["abcd", "e", "f"]);
  // ASCII symbols that are not Unicode punctuation still split: $ ^ ` (and Unicode P: ¿ «)
  assert.deepEqual(tok.basicTokenize("x$y^z`w ¿q«"), ["x", "$", "y", "^", "z", "`", "w", "¿", "q", "«"]);
  // cased: no lower-casing, accents kept
  const cased = new WordPieceTokenizer(VOCAB, { lowercase: false });
  assert.deepEqual(cased.basicTokenize("HäLLo wORLD!"), ["HäLLo", "wORLD", "!"]);
  // special tokens stay whole and keep their case
  assert.deepEqual(tok.basicTokenize("[CLS] Hi [MASK]!"), ["[CLS]", "hi", "[MASK]", "!"]);
});

test("WordPiece: greedy longest match first, ## continuations, [UNK] for a word that cannot be split or is too long", () => {
  // un|want|ed: "unwanted" is not in the vocab, "un" is; then "##want", "##ed"
  assert.deepEqual(tok.tokenize("UNwant\u00E9d,running"), ["un", "##want", "##ed", ",", "runn", "##ing"]);
  // longest first: "ab" beats "a" + "##b"; then "##c"
  assert.deepEqual(tok.wordPiece("abc"), ["ab", "##c"]);
  assert.deepEqual(tok.wordPiece("acb"), ["a", "##c", "##b"]);
  // "unwantedX": un, ##want, ##ed, then "X"→"x" has no "##x": the whole word is [UNK]
  assert.deepEqual(tok.tokenize("unwantedX running"), ["[UNK]", "runn", "##ing"]);
  assert.deepEqual(tok.tokenize(""), []);
  // 100 characters are tokenized, 101 are [UNK]
  assert.deepEqual(tok.wordPiece("a" + "b".repeat(99)), ["ab", ...Array(98).fill("##b")]); // longest first: "ab"
  assert.deepEqual(tok.wordPiece("a" + "b".repeat(100)), ["[UNK]"]);
  assert.deepEqual(new WordPieceTokenizer(VOCAB, { maxInputCharsPerWord: 3 }).wordPiece("abcb"), ["[UNK]"]);
});

test("encode, encodePair, decode", () => {
  const ids = tok.encode("Hello, how are you?");
  assert.deepEqual(ids, [14, 12, 15, 16, 17, 18]);
  assert.deepEqual([...tok.encodeTensor("Hello, how are you?").storage], ids);
  assert.equal(tok.decode(tok.encode("unwanted running")), "unwanted running");
  assert.equal(tok.decode([9, 6, 7, 12]), "unwanted ,");
  // [CLS] a [SEP] b [SEP], segments 0 … 0 1 … 1
  assert.deepEqual(tok.encodePair("hello", "how are"), {
    ids: [2, 14, 3, 15, 16, 3],
    tokenTypeIds: [0, 0, 0, 1, 1, 1],
  });
  assert.deepEqual(tok.encodePair("you"), { ids: [2, 17, 3], tokenTypeIds: [0, 0, 0] });
  assert.equal(tok.vocabSize, VOCAB.length);
  assertThrowsWith(() => tok.decode([99]), ArgumentError, /id 99 at position 0 is not in the vocabulary/);
});

test("files: vocab.txt and tokenizer.json (WordPiece model, BertNormalizer) give the same tokenizer", () => {
  const fromTxt = WordPieceTokenizer.fromVocabTxt(VOCAB.join("\n") + "\n");
  assert.deepEqual(fromTxt.tokens, VOCAB);
  const json = {
    version: "1.0",
    added_tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].map((content, id) => ({ id, content, special: true })),
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(VOCAB.map((t, i) => [t, i])),
    },
  };
  const fromJson = WordPieceTokenizer.fromJSON(JSON.stringify(json));
  const text = "[CLS] Café UNwant\u00E9d,running 中国 abc? [SEP]";
  assert.deepEqual(fromJson.encode(text), fromTxt.encode(text));
  assert.deepEqual(fromJson.tokenize(text), [
    "[CLS]",
    "cafe",
    "un",
    "##want",
    "##ed",
    ",",
    "runn",
    "##ing",
    "中",
    "国",
    "ab",
    "##c",
    "?",
    "[SEP]",
  ]);
  // a cased tokenizer.json
  const cased = WordPieceTokenizer.fromJSON({ ...json, normalizer: { ...json.normalizer, lowercase: false } });
  assert.deepEqual(cased.basicTokenize("Café"), ["Café"]);
  assertThrowsWith(
    () => WordPieceTokenizer.fromJSON({ ...json, model: { ...json.model, type: "BPE" } }),
    LoadError,
    /model type "BPE" is not supported/,
  );
  assertThrowsWith(
    () => WordPieceTokenizer.fromJSON({ ...json, model: { ...json.model, unk_token: "<unk>" } }),
    LoadError,
    /unknown token "<unk>" is not in the vocabulary/,
  );
  assertThrowsWith(() => WordPieceTokenizer.fromJSON("{"), LoadError, /not valid JSON/);
  assertThrowsWith(() => new WordPieceTokenizer(["[UNK]", "a", "a"]), ArgumentError, /"a" appears twice/);
});
