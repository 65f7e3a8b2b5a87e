// The sentencepiece-style tokenizers against sentencepiece itself (tools/fixtures/tokenizers_sp.py trains
// a T5-like Unigram model and a LLaMA-like BPE model with byte fallback, converts each to tokenizer.json
// and records sentencepiece's ids and decoded text for 443 strings), then the file formats' variants,
// the post-processors, decoding, hand-checked Viterbi cases and the errors.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ArgumentError, LoadError, data } from "../../src/index.js";
import { decoderFromJSON, normalizerFromJSON, preTokenizerFromJSON } from "../../src/data/hf-pipeline.js";
import { assertThrowsWith } from "../harness/assert.js";

const { BPETokenizer, ByteFallbackBPETokenizer, UnigramTokenizer, tokenizerFromJSON } = data;

interface Fixture {
  tokenizer: Record<string, any>;
  cases: { text: string; ids: number[]; decoded: string }[];
}
const fixture = (name: string): Fixture =>
  JSON.parse(readFileSync(new URL(`../../../test/fixtures/data/${name}`, import.meta.url), "utf8"));
const uni = fixture("sp_unigram.json");
const bpe = fixture("sp_bpe.json");

// Where Hugging Face's pipeline (which we follow) and sentencepiece differ by design, and no converted file
// can agree with both: an added token's text ("<unk>") is that token in Hugging Face, plain text in
// sentencepiece; and a literal "▁" in the input counts as a space in sentencepiece, while Hugging Face's
// Metaspace adds no "▁" in front of a word that already starts with one.
const ADDED = ["<pad>", "</s>", "<unk>", "<s>"];
const hasAdded = (s: string) => ADDED.some((t) => s.includes(t));
const comparable = (s: string) => !hasAdded(s) && !s.includes("▁");

test("Unigram (T5 style): the ids of sentencepiece's Viterbi for every recorded string, normalization and unknowns included", () => {
  const tok = tokenizerFromJSON(uni.tokenizer);
  assert.ok(tok instanceof UnigramTokenizer);
  let checked = 0,
    withUnk = 0,
    normalized = 0;
  for (const c of uni.cases) {
    if (!comparable(c.text)) continue;
    assert.deepEqual(tok.encode(c.text, { addSpecialTokens: false }), c.ids, `ids of ${JSON.stringify(c.text)}`);
    checked++;
    if (c.ids.includes(tok.unkId)) withUnk++;
    if (c.decoded !== c.text.trim()) normalized++;
  }
  assert.ok(checked >= 430, `only ${checked} strings compared`);
  assert.ok(withUnk >= 50, `only ${withUnk} strings with unknown pieces`); // unknown runs fused, as sentencepiece
  assert.ok(normalized >= 50, `only ${normalized} strings that the charsmap or the whitespace rules changed`);
});

test("Unigram: decode gives sentencepiece's decoded text; the post-processor appends </s>; special tokens can be skipped", () => {
  const tok = UnigramTokenizer.fromJSON(JSON.stringify(uni.tokenizer));
  const eos = tok.tokenToId("</s>")!;
  let checked = 0;
  for (const c of uni.cases) {
    if (!comparable(c.text)) continue;
    assert.deepEqual(tok.encode(c.text), [...c.ids, eos]);
    // sentencepiece writes an unknown piece as " ⁇ ", Hugging Face as its token text: compare the others
    if (c.ids.includes(tok.unkId)) continue;
    assert.equal(tok.decode(c.ids), c.decoded, `decode of ${JSON.stringify(c.text)}`);
    assert.equal(tok.decode(tok.encode(c.text), { skipSpecialTokens: true }), c.decoded);
    checked++;
  }
  assert.ok(checked >= 250, `only ${checked} decodes compared`);
  assert.equal(tok.decode([...tok.encode("Call me Ishmael.")]), "Call me Ishmael.</s>");
  assert.equal(tok.encodeTensor("whale").shape.join(","), String(tok.encode("whale").length));
});

test("Unigram: T5's own layout (Precompiled alone, WhitespaceSplit + legacy Metaspace) gives the same ids", () => {
  const t5 = structuredClone(uni.tokenizer);
  t5.normalizer = uni.tokenizer.normalizer.normalizers[0]; // {"type": "Precompiled", ...}
  t5.pre_tokenizer = {
    type: "Sequence",
    pretokenizers: [{ type: "WhitespaceSplit" }, { type: "Metaspace", replacement: "▁", add_prefix_space: true }],
  };
  t5.decoder = { type: "Metaspace", replacement: "▁", add_prefix_space: true };
  const tok = tokenizerFromJSON(t5);
  for (const c of uni.cases)
    if (comparable(c.text))
      assert.deepEqual(tok.encode(c.text).slice(0, -1), c.ids, `ids of ${JSON.stringify(c.text)}`);
});

test("BPE with byte fallback (LLaMA style): sentencepiece's ids for every recorded string, and decode inverts encode", () => {
  const tok = tokenizerFromJSON(bpe.tokenizer);
  assert.ok(tok instanceof ByteFallbackBPETokenizer);
  const bos = tok.tokenToId("<s>")!;
  const isByte = (id: number) => /^<0x[0-9A-F]{2}>$/.test(tok.idToToken(id)!);
  let checked = 0,
    withBytes = 0;
  for (const c of bpe.cases) {
    if (hasAdded(c.text)) continue;
    assert.deepEqual(tok.encode(c.text, { addSpecialTokens: false }), c.ids, `ids of ${JSON.stringify(c.text)}`);
    assert.deepEqual(tok.encode(c.text), [bos, ...c.ids]); // the post-processor puts <s> in front
    assert.equal(tok.decode(c.ids), c.decoded, `decode of ${JSON.stringify(c.text)}`);
    // identity normalization and no unknowns: the text comes back, save "▁" that stands for a space
    if (!c.text.includes("▁")) assert.equal(tok.decode(tok.encode(c.text), { skipSpecialTokens: true }), c.text);
    if (c.ids.some(isByte)) withBytes++;
    checked++;
  }
  assert.ok(checked >= 440, `only ${checked} strings compared`);
  assert.ok(withBytes >= 100, `only ${withBytes} strings that fell back to bytes`);
});

test("BPE with byte fallback: the newer layout (Metaspace pre-tokenizer, prepend_scheme first, no split) matches except Hugging Face's leading-space rule", () => {
  const newer = structuredClone(bpe.tokenizer);
  newer.normalizer = null;
  newer.pre_tokenizer = { type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: false };
  const tok = tokenizerFromJSON(newer) as InstanceType<typeof ByteFallbackBPETokenizer>;
  let checked = 0;
  for (const c of bpe.cases) {
    // Metaspace puts no "▁" in front of a text that already starts with one (a leading space becomes one)
    if (hasAdded(c.text) || c.text.startsWith(" ") || c.text.startsWith("▁")) continue;
    assert.deepEqual(tok.encode(c.text, { addSpecialTokens: false }), c.ids, `ids of ${JSON.stringify(c.text)}`);
    checked++;
  }
  assert.ok(checked >= 400);
  // the leading-space rule, and "first": after a special token no "▁" is put in front
  assert.deepEqual(
    tok.tokenize(" whale", { addSpecialTokens: false }),
    tok.tokenize("whale", { addSpecialTokens: false }),
  );
  const after = tok.tokenize("<s>whale", { addSpecialTokens: false });
  assert.equal(after[0], "<s>");
  assert.equal(after.slice(1).join(""), "whale");
  // the older layout's Prepend normalizer puts "▁" in front of every stretch of text
  const older = tokenizerFromJSON(bpe.tokenizer) as InstanceType<typeof ByteFallbackBPETokenizer>;
  assert.equal(older.tokenize("<s>whale", { addSpecialTokens: false }).slice(1).join(""), "▁whale");
});

test("added tokens are cut out of the raw text before the model (Hugging Face), unlike in sentencepiece", () => {
  const u = tokenizerFromJSON(uni.tokenizer) as InstanceType<typeof UnigramTokenizer>;
  const unk = u.tokenToId("<unk>")!,
    eos = u.tokenToId("</s>")!;
  assert.deepEqual(u.encode("<unk>", { addSpecialTokens: false }), [unk]);
  const a = u.encode("whale", { addSpecialTokens: false }),
    b = u.encode("ship", { addSpecialTokens: false });
  assert.deepEqual(u.encode("whale</s>ship", { addSpecialTokens: false }), [...a, eos, ...b]);
  assert.equal(u.decode([...a, eos, ...b], { skipSpecialTokens: true }), "whale ship");
  const l = tokenizerFromJSON(bpe.tokenizer) as InstanceType<typeof ByteFallbackBPETokenizer>;
  assert.deepEqual(l.encode("</s>", { addSpecialTokens: false }), [l.tokenToId("</s>")]);
});

test("Unigram Viterbi, hand-checked: the highest total log-probability, strict ties, unknown runs fused", () => {
  // pieces: a −1, b −1, ab −1.5, abc −4, c −2, unk; "abc": ab+c = −3.5 beats abc = −4 and a+b+c = −4
  const vocab: [string, number][] = [
    ["<unk>", 0],
    ["a", -1],
    ["b", -1],
    ["ab", -1.5],
    ["abc", -4],
    ["c", -2],
  ];
  const tok = new UnigramTokenizer({ vocab, unkId: 0 });
  assert.deepEqual(tok.encode("abc"), [3, 5]);
  // with abc at −3.5 the tie goes to the path found first: from position 0, abc (start 0) before ab+c (start 2)
  const tie = new UnigramTokenizer({
    vocab: vocab.map(([p, s]) => [p, p === "abc" ? -3.5 : s] as [string, number]),
    unkId: 0,
  });
  assert.deepEqual(tie.encode("abc"), [4]);
  // x and y are unknown: min score −4, so each unknown scores −14; "xyaxb" → unk(xy) a unk(x) b
  assert.deepEqual(tok.encode("xyaxb"), [0, 1, 0, 2]);
  assert.equal(tok.vocabSize, 6);
  assert.equal(tok.score(3), -1.5);
  // byte fallback: unknown runs become the <0xXX> pieces of their bytes
  const bytes: [string, number][] = Array.from({ length: 256 }, (_, b) => [
    `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`,
    -20,
  ]);
  const fb = new UnigramTokenizer({ vocab: [...vocab, ...bytes], unkId: 0, byteFallback: true });
  assert.deepEqual(fb.encode("aé"), [1, 6 + 0xc3, 6 + 0xa9]);
});

test("BPE with byte fallback, hand-checked: merges by rank over characters, bytes for unknown characters, fused unknowns", () => {
  const vocab = { "<unk>": 0, a: 1, b: 2, c: 3, ab: 4, bc: 5, "<0xC3>": 6, "<0xA9>": 7 };
  // rank 0 "b c", rank 1 "a b": "abc" → a, bc (rank order, not left to right)
  const tok = new ByteFallbackBPETokenizer({
    vocab,
    merges: [
      ["b", "c"],
      ["a", "b"],
    ],
    unkToken: "<unk>",
  });
  assert.deepEqual(tok.encode("abc"), [1, 5]);
  assert.deepEqual(tok.encode("abab"), [4, 4]);
  // é has no token but its bytes do; 😀 has neither: one <unk> for the run "😀😀"
  assert.deepEqual(tok.encode("aé😀😀b"), [1, 6, 7, 0, 2]);
  const noFuse = new ByteFallbackBPETokenizer({ vocab, merges: [], unkToken: "<unk>", fuseUnk: false });
  assert.deepEqual(noFuse.encode("😀😀"), [0, 0]);
  const noFallback = new ByteFallbackBPETokenizer({ vocab, merges: [], unkToken: "<unk>", byteFallback: false });
  assert.deepEqual(noFallback.encode("é"), [0]);
  assertThrowsWith(
    () => new ByteFallbackBPETokenizer({ vocab, merges: [["a", "c"]] }),
    ArgumentError,
    /merge 0 \("a c"\) needs the token "ac"/,
  );
});

test("tokenizerFromJSON sends each file to its tokenizer; byte-level BPE is unchanged", () => {
  const gpt2 = readFileSync(new URL("../../../test/fixtures/data/bpe_moby_1000.json", import.meta.url), "utf8");
  assert.ok(tokenizerFromJSON(gpt2) instanceof BPETokenizer);
  assert.ok(tokenizerFromJSON(uni.tokenizer) instanceof UnigramTokenizer);
  assert.ok(tokenizerFromJSON(bpe.tokenizer) instanceof ByteFallbackBPETokenizer);
});

test("unsupported components and malformed files raise a LoadError that names them", () => {
  const cases: [string, Record<string, any>, Record<string, any>, RegExp][] = [
    [
      "a BertNormalizer",
      uni.tokenizer,
      { normalizer: { type: "BertNormalizer" } },
      /normalizer "BertNormalizer" is not supported/,
    ],
    [
      "a nested unknown normalizer",
      uni.tokenizer,
      {
        normalizer: {
          type: "Sequence",
          normalizers: [{ type: "Precompiled", precompiled_charsmap: "" }, { type: "Nmt" }],
        },
      },
      /normalizer "Nmt" is not supported/,
    ],
    [
      "a ByteLevel pre-tokenizer in a Unigram file",
      uni.tokenizer,
      { pre_tokenizer: { type: "Sequence", pretokenizers: [{ type: "Digits" }] } },
      /pre_tokenizer "Digits" is not supported/,
    ],
    ["a WordPiece decoder", bpe.tokenizer, { decoder: { type: "WordPiece" } }, /decoder "WordPiece" is not supported/],
    [
      "a BertProcessing post-processor",
      uni.tokenizer,
      { post_processor: { type: "BertProcessing" } },
      /post_processor "BertProcessing" is not supported/,
    ],
    [
      "a bad regex",
      uni.tokenizer,
      { normalizer: { type: "Replace", pattern: { Regex: "(?<" }, content: "" } },
      /Replace: regex "\(\?<": bad group name/,
    ],
    [
      "a charsmap that is not base64",
      uni.tokenizer,
      { normalizer: { type: "Precompiled", precompiled_charsmap: "@@@@" } },
      /precompiled_charsmap is not valid base64/,
    ],
    [
      "a charsmap whose trie is larger than itself",
      uni.tokenizer,
      { normalizer: { type: "Precompiled", precompiled_charsmap: "AAEAAA==" } },
      /says its trie has 256 bytes, but 0 bytes follow/,
    ],
    [
      "a Unigram vocab entry that is not a pair",
      uni.tokenizer,
      { model: { ...uni.tokenizer.model, vocab: [["a", -1], ["b"]] } },
      /model.vocab\[1\] must be a \[piece, score\] pair/,
    ],
    [
      "an unk_id outside the vocab",
      uni.tokenizer,
      { model: { ...uni.tokenizer.model, unk_id: 5000 } },
      /unk_id 5000 is not an id of the vocabulary/,
    ],
    [
      "a model type",
      uni.tokenizer,
      { model: { ...uni.tokenizer.model, type: "WordLevel" } },
      /model type "WordLevel" is not supported/,
    ],
    [
      "BPE dropout",
      bpe.tokenizer,
      { model: { ...bpe.tokenizer.model, dropout: 0.1 } },
      /BPE dropout 0.1 is not supported/,
    ],
    [
      "a merge with a missing token",
      bpe.tokenizer,
      { model: { ...bpe.tokenizer.model, merges: ["▁ zzz"] } },
      /needs the token "zzz"/,
    ],
    [
      "an added token with another id",
      bpe.tokenizer,
      { added_tokens: [{ id: 5, content: "<s>", special: true }] },
      /added token "<s>" has id 5, but the vocabulary gives it 1/,
    ],
    [
      "a single_word added token",
      bpe.tokenizer,
      { added_tokens: [{ id: 1, content: "<s>", single_word: true }] },
      /single_word: true, which is not supported/,
    ],
  ];
  for (const [, base, change, message] of cases)
    assertThrowsWith(() => tokenizerFromJSON({ ...base, ...change }), LoadError, message);
  assertThrowsWith(() => tokenizerFromJSON("{not json"), LoadError, /not valid JSON/);
});

test("pipeline components, hand-checked: NFKC, Lowercase, StripAccents, Replace, Strip, Prepend; Metaspace schemes; decoders", () => {
  const norm = (spec: object, text: string) => normalizerFromJSON(spec)!(text);
  assert.equal(norm({ type: "NFKC" }, "ｈｅｌｌｏ ﬁ ½"), "hello fi 1⁄2");
  assert.equal(norm({ type: "NFC" }, "e\u0301"), "é");
  assert.equal(norm({ type: "NFD" }, "é"), "e\u0301");
  assert.equal(norm({ type: "NFKD" }, "ﬁé"), "fie\u0301");
  assert.equal(
    norm(
      { type: "Sequence", normalizers: [{ type: "NFD" }, { type: "StripAccents" }, { type: "Lowercase" }] },
      "ÀÉÎ Öz",
    ),
    "aei oz",
  );
  assert.equal(norm({ type: "Replace", pattern: { Regex: " {2,}" }, content: "▁" }, "a  b   c d"), "a▁b▁c d");
  assert.equal(norm({ type: "Replace", pattern: { String: "$" }, content: "$&" }, "a$b"), "a$&b"); // content is literal
  assert.equal(norm({ type: "Strip", strip_left: false, strip_right: true }, " \t a \u3000\n"), " \t a");
  assert.equal(norm({ type: "Strip", strip_left: true, strip_right: true }, "\u00a0a b\u2028"), "a b");
  assert.equal(norm({ type: "Prepend", prepend: "▁" }, "a"), "▁a");
  assert.equal(norm({ type: "Prepend", prepend: "▁" }, ""), "");
  const pre = (spec: object, text: string, atStart = true) =>
    preTokenizerFromJSON(spec)!([{ text, atStart }]).map((w) => w.text);
  assert.deepEqual(pre({ type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true }, "Hey  friend"), [
    "▁Hey",
    "▁",
    "▁friend",
  ]);
  assert.deepEqual(pre({ type: "Metaspace", replacement: "▁", prepend_scheme: "never", split: true }, "Hey friend"), [
    "Hey",
    "▁friend",
  ]);
  assert.deepEqual(pre({ type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: false }, "a b", false), [
    "a▁b",
  ]);
  assert.deepEqual(pre({ type: "Metaspace", replacement: "▁", add_prefix_space: false }, "a b"), ["a", "▁b"]);
  assert.deepEqual(pre({ type: "WhitespaceSplit" }, " a\tb\n\nc "), ["a", "b", "c"]);
  const dec = (spec: object, tokens: string[]) => decoderFromJSON(spec)!(tokens).join("");
  assert.equal(
    dec({ type: "Metaspace", replacement: "▁", prepend_scheme: "always" }, ["▁Hey", "▁friend"]),
    "Hey friend",
  );
  assert.equal(
    dec({ type: "Metaspace", replacement: "▁", prepend_scheme: "never" }, ["▁Hey", "▁friend"]),
    " Hey friend",
  );
  assert.equal(dec({ type: "ByteFallback" }, ["a", "<0xE2>", "<0x96>", "<0x81>", "b", "<0xE2>", "c"]), "a▁b\uFFFDc");
  assert.equal(dec({ type: "Strip", content: " ", start: 1, stop: 1 }, ["  a  "]), " a ");
});
