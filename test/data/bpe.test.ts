// Byte-level BPE: the byte table, GPT-2's pre-tokenization and encodings against an independent Python
// reference (tools/fixtures/data_bpe.py), merge order, training, round trips and tokenizer.json.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ArgumentError, Generator, LoadError, data } from "../../src/index.js";

const { BPETokenizer, BYTE_ORDER, BYTE_TO_CHAR, pretokenize } = data;

const fixture = (name: string) => readFileSync(new URL(`../../../test/fixtures/data/${name}`, import.meta.url), "utf8");
const reference = JSON.parse(fixture("bpe_gpt2.json")) as {
  byte_chars: string[];
  cases: { text: string; pieces: string[] | null; ids: number[] }[];
};
const moby1000 = BPETokenizer.fromJSON(fixture("bpe_moby_1000.json"));

/** The vocabulary of the 256 byte tokens, ids in GPT-2's order. */
const byteVocab = (): Record<string, number> => Object.fromEntries(BYTE_ORDER.map((b, id) => [BYTE_TO_CHAR[b]!, id]));
const id = (ch: string) => BYTE_ORDER.indexOf(ch.charCodeAt(0)); // the id of an ASCII character's byte token

test("the byte ↔ character table matches the Python reference and GPT-2's known ids", () => {
  assert.deepEqual(BYTE_TO_CHAR, reference.byte_chars);
  assert.equal(new Set(BYTE_TO_CHAR).size, 256);
  assert.equal(BYTE_TO_CHAR[0x20], "Ġ"); // the space is U+0120, id 220 in GPT-2
  assert.equal(BYTE_ORDER.indexOf(0x20), 220);
  assert.equal(BYTE_TO_CHAR[0x0a], "Ċ");
  assert.equal(BYTE_ORDER[0], 0x21); // "!" is id 0
});

test("pre-tokenization splits exactly as GPT-2's pattern in Python's regex module (contractions, spaces, digits, punctuation, emoji, scripts)", () => {
  let checked = 0;
  for (const c of reference.cases) {
    if (c.pieces === null) continue;
    assert.deepEqual(pretokenize(c.text), c.pieces, `pieces of ${JSON.stringify(c.text)}`);
    assert.equal(pretokenize(c.text).join(""), c.text);
    checked++;
  }
  assert.ok(checked >= 250, `only ${checked} cases`);
});

test("encode gives the ids of GPT-2's algorithm (Python reference) and decode inverts it", () => {
  for (const c of reference.cases) {
    assert.deepEqual(moby1000.encode(c.text), c.ids, `ids of ${JSON.stringify(c.text)}`);
    assert.equal(moby1000.decode(c.ids), c.text);
  }
});

test("merges apply in rank order, not left to right (hand-checked)", () => {
  // Rules: rank 0 "b c" → "bc" (id 256), rank 1 "a b" → "ab" (id 257).
  // "abc": the pairs are (a,b) rank 1 and (b,c) rank 0; rank 0 goes first → [a, bc], and no rule joins
  //        (a, bc), so the tokens are a, bc = [id(a), 256]. Left to right would have given [ab, c].
  // "abcab": (b,c) rank 0 first → [a, bc, a, b]; then (a,b) rank 1 → [a, bc, ab] = [id(a), 256, 257].
  const tok = new BPETokenizer({
    vocab: { ...byteVocab(), bc: 256, ab: 257 },
    merges: [
      ["b", "c"],
      ["a", "b"],
    ],
  });
  assert.deepEqual(tok.encode("abc"), [id("a"), 256]);
  assert.deepEqual(tok.tokenize("abcab"), ["a", "bc", "ab"]);
  assert.deepEqual(tok.encode("abcab"), [id("a"), 256, 257]);
  // the same rules in the other order: now "a b" is rank 0 → [ab, c]
  const swapped = new BPETokenizer({
    vocab: { ...byteVocab(), bc: 256, ab: 257 },
    merges: [
      ["a", "b"],
      ["b", "c"],
    ],
  });
  assert.deepEqual(swapped.tokenize("abc"), ["ab", "c"]);
});

test("training merges the most frequent pair, ties to the smaller ids (hand-checked)", () => {
  // One word, "aaabdaaabac" (a single run of letters). Byte ids: a=64 b=65 c=66 d=67.
  // Round 1: pairs aa×4, ab×2, bd, da, ba, ac → merge "a a" → aa (256); the word is aa a b d aa a b a c.
  // Round 2: (aa,a)×2 and (a,b)×2 tie; (64,65) < (256,64) → merge "a b" → ab (257): aa ab d aa ab a c.
  // Round 3: (aa,ab)×2 is the most frequent → "aa ab" → aaab (258).
  const tok = BPETokenizer.train("aaabdaaabac", 259);
  assert.deepEqual(tok.merges, [
    ["a", "a"],
    ["a", "b"],
    ["aa", "ab"],
  ]);
  assert.equal(tok.vocabSize, 259);
  assert.deepEqual(tok.encode("aaabdaaabac"), [258, id("d"), 258, id("a"), id("c")]);
  // special tokens come last and never take part in merges
  const withSpecial = BPETokenizer.train("aa<|x|>aa<|x|>", 258, { specialTokens: ["<|x|>"] });
  assert.deepEqual(withSpecial.merges, [["a", "a"]]);
  assert.deepEqual(withSpecial.encode("aa<|x|>a"), [256, 257, id("a")]);
  assert.deepEqual(withSpecial.encode("<|x|>", { allowSpecial: false }), [id("<"), id("|"), id("x"), id("|"), id(">")]);
});

test("training is deterministic and stops when no pair is left", () => {
  const text = "the whale, the white whale; the sea and the ship. ".repeat(20);
  const a = BPETokenizer.train(text, 400),
    b = BPETokenizer.train([text], 400);
  assert.equal(JSON.stringify(a), JSON.stringify(b));
  assert.ok(a.vocabSize < 400, "a small corpus runs out of pairs before 400 tokens");
  for (const w of ["Ġwhale", "Ġthe", "Ġwhite"]) assert.ok(a.tokenToId(w) !== undefined, `${w} was learned`);
  assert.deepEqual(a.tokenize(" the whale"), ["Ġthe", "Ġwhale"]);
  assert.throws(
    () => BPETokenizer.train(text, 100),
    (e: Error) => e instanceof ArgumentError && /vocabSize must be an integer in \[256/.test(e.message),
  );
});

test("encode/decode round trip on 1,000 seeded random Unicode strings", () => {
  const trained = BPETokenizer.train("Ünïcödé tëxt, 中文 and emoji 😀😀 — mixed 123 'quotes' ".repeat(10), 320, {
    specialTokens: ["<|endoftext|>"],
  });
  const gen = new Generator(2024);
  const codePoint = (): number => {
    const r = gen.random();
    if (r < 0.4) return gen.randint(0x20, 0x7f); // ASCII
    if (r < 0.45) return [0x0a, 0x09, 0x0d, 0x00, 0x85, 0xa0][gen.randint(0, 6)]!; // line breaks, controls, odd spaces
    if (r < 0.65) return gen.randint(0x80, 0x800); // two UTF-8 bytes
    if (r < 0.85) {
      const c = gen.randint(0x800, 0x10000); // three bytes, skipping the surrogates (not valid on their own)
      return c >= 0xd800 && c <= 0xdfff ? 0x4e2d : c;
    }
    return gen.randint(0x10000, 0x110000); // four bytes
  };
  for (let k = 0; k < 1000; k++) {
    let s = "";
    const n = gen.randint(0, 24);
    for (let i = 0; i < n; i++) s += String.fromCodePoint(codePoint());
    if (k % 50 === 0) s += "<|endoftext|>" + s;
    for (const tok of [moby1000, trained]) {
      const ids = tok.encode(s);
      assert.equal(tok.decode(ids), s, `round trip of ${JSON.stringify(s)}`);
      assert.ok(ids.every((i) => i >= 0 && i < tok.vocabSize));
    }
  }
});

test("decode of ids that cut a character writes U+FFFD; bad ids are errors", () => {
  const bytesOnly = new BPETokenizer({ vocab: byteVocab(), merges: [] });
  const e = bytesOnly.encode("é"); // 0xC3 0xA9
  assert.equal(e.length, 2);
  assert.equal(bytesOnly.decode(e.slice(0, 1)), "\uFFFD");
  assert.throws(
    () => moby1000.decode([5000]),
    (err: Error) => err instanceof ArgumentError && /id 5000 at position 0/.test(err.message),
  );
  const t = moby1000.encodeTensor("Call me Ishmael.");
  assert.equal(t.dtype, "int32");
  assert.equal(moby1000.decode(t), "Call me Ishmael.");
});

test("tokenizer.json: save → load gives the same file and the same encodings", () => {
  const trained = BPETokenizer.train("It is not down in any map; true places never are. ".repeat(30), 300, {
    specialTokens: ["<|endoftext|>", "<|pad|>"],
  });
  for (const tok of [trained, moby1000]) {
    const text = JSON.stringify(tok);
    const back = BPETokenizer.fromJSON(text);
    assert.equal(JSON.stringify(back), text);
    assert.deepEqual(back.merges, tok.merges);
    assert.deepEqual([...back.specialTokens], [...tok.specialTokens]);
    const sample = "Call me Ishmael.<|endoftext|> It is not down in any map; 🐳 1851";
    assert.deepEqual(back.encode(sample), tok.encode(sample));
  }
  const json = trained.toJSON();
  assert.equal(json.model.type, "BPE");
  assert.equal(json.pre_tokenizer.type, "ByteLevel");
  assert.equal(json.decoder.type, "ByteLevel");
  const n = 256 + trained.merges.length; // the small corpus runs out of pairs before 300; specials follow the learned tokens
  assert.equal(trained.vocabSize, n + 2);
  assert.deepEqual(
    json.added_tokens.map((t) => [t.content, t.id, t.special]),
    [
      ["<|endoftext|>", n, true],
      ["<|pad|>", n + 1, true],
    ],
  );
  assert.equal(json.model.vocab["<|endoftext|>"], n);
});

test("a tokenizer.json laid out like GPT-2's loads (both merge spellings) and encodes as GPT-2 does", () => {
  // GPT-2's file: ids 0–255 the byte tokens in BYTE_ORDER, then the merges' tokens ("Ġt" 256, "Ġa" 257,
  // "he" 258, "in" 259 are its first four), <|endoftext|> = 50256 in both vocab and added_tokens.
  const gpt2Like = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [
      {
        id: 50256,
        content: "<|endoftext|>",
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: true,
        special: true,
      },
    ],
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      vocab: { ...byteVocab(), Ġt: 256, Ġa: 257, he: 258, in: 259, "<|endoftext|>": 50256 },
      merges: ["Ġ t", "Ġ a", "h e", "i n"],
    },
  };
  const newer = {
    ...gpt2Like,
    model: {
      ...gpt2Like.model,
      merges: [
        ["Ġ", "t"],
        ["Ġ", "a"],
        ["h", "e"],
        ["i", "n"],
      ],
    },
  };
  for (const file of [gpt2Like, newer, JSON.stringify(gpt2Like)]) {
    const tok = BPETokenizer.fromJSON(file);
    assert.equal(tok.vocabSize, 50257);
    // " the": Ġ t h e → rank 0 (Ġ,t) → Ġt h e → rank 2 (h,e) → Ġt he = [256, 258]
    // " in":  Ġ i n → rank 3 (i,n) → Ġ in = [220, 259]
    assert.deepEqual(tok.encode(" the in<|endoftext|>"), [256, 258, 220, 259, 50256]);
    assert.equal(tok.decode([256, 258, 220, 259, 50256]), " the in<|endoftext|>");
  }
  // add_prefix_space puts a space before the text, as Hugging Face's ByteLevel does
  const prefixed = BPETokenizer.fromJSON({
    ...gpt2Like,
    pre_tokenizer: { ...gpt2Like.pre_tokenizer, add_prefix_space: true },
  });
  assert.deepEqual(prefixed.encode("the"), [256, 258]);
});

test("malformed tokenizer.json files raise LoadError naming the problem", () => {
  const good = moby1000.toJSON();
  const bad: [string, unknown, RegExp][] = [
    ["not JSON", "{ nope", /not valid JSON/],
    ["an array", "[]", /expected an object/],
    ["no model", { ...good, model: undefined }, /"model" must be an object/],
    ["WordPiece", { ...good, model: { ...good.model, type: "WordPiece" } }, /model type "WordPiece" is not supported/],
    ["vocab is a list", { ...good, model: { ...good.model, vocab: [] } }, /model.vocab must be an object/],
    [
      "merge of unknown tokens",
      { ...good, model: { ...good.model, merges: ["Ġ zzz"] } },
      /merge 0 \("Ġ zzz"\) needs the token "zzz"/,
    ],
    [
      "merge without a space",
      { ...good, model: { ...good.model, merges: ["abc"] } },
      /merge 0 "abc" must be two tokens/,
    ],
    ["merge as a number", { ...good, model: { ...good.model, merges: [7] } }, /merge 0 must be "a b" or \["a", "b"\]/],
    [
      "duplicate ids",
      { ...good, model: { ...good.model, vocab: { ...good.model.vocab, zz: 3 } } },
      /id 3 is given to both/,
    ],
    [
      "fractional id",
      { ...good, model: { ...good.model, vocab: { ...good.model.vocab, zz: 1.5 } } },
      /ids must be integers/,
    ],
    [
      "a token outside the byte alphabet",
      { ...good, model: { ...good.model, vocab: { ...good.model.vocab, "a b": 5000 } } },
      /not byte-level/,
    ],
    ["a normalizer", { ...good, normalizer: { type: "NFC" } }, /normalizer "NFC" is not supported/],
    [
      "a Metaspace pre-tokenizer",
      { ...good, pre_tokenizer: { type: "Metaspace" } },
      /pre_tokenizer "Metaspace" is not supported/,
    ],
    ["a WordPiece decoder", { ...good, decoder: { type: "WordPiece" } }, /decoder "WordPiece" is not supported/],
    [
      "a subword prefix",
      { ...good, model: { ...good.model, continuing_subword_prefix: "##" } },
      /continuing_subword_prefix "##" is not supported/,
    ],
    [
      "an added token with a clashing id",
      { ...good, added_tokens: [{ id: 5, content: "<|endoftext|>" }] },
      /"<\|endoftext\|>" has id 999 in the vocab but 5 in added_tokens/,
    ],
  ];
  for (const [what, file, message] of bad) {
    assert.throws(
      () => BPETokenizer.fromJSON(file as object),
      (e: Error) => e instanceof LoadError && message.test(e.message),
      what,
    );
  }
});
