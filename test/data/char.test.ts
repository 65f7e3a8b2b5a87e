// CharTokenizer: vocabulary order, round trips, unknown characters, saving.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ArgumentError, Generator, LoadError, data } from "../../src/index.js";

const { CharTokenizer } = data;

test("the vocabulary is the distinct characters sorted by code point (as Python's sorted(set(text)))", () => {
  // "\uFFFF" sorts before "😀" (U+1F600) by code point, though its UTF-16 unit (FFFF) is above 😀's (D83D)
  const tok = CharTokenizer.fromText("b😀a\uFFFFab😀");
  assert.deepEqual(tok.chars, ["a", "b", "\uFFFF", "😀"]);
  assert.equal(tok.vocabSize, 4);
  assert.deepEqual(tok.encode("ab😀\uFFFF"), [0, 1, 3, 2]); // the emoji is one token, not two surrogates
});

test("encode then decode gives the text back (seeded random texts over a mixed alphabet)", () => {
  const alphabet = ["a", "Z", " ", "\n", "\t", "é", "ж", "中", "😀", "👍", "\u0000", "'", "—"];
  const gen = new Generator(1);
  const corpus = alphabet.join("");
  const tok = CharTokenizer.fromText(corpus);
  for (let k = 0; k < 200; k++) {
    let s = "";
    const n = gen.randint(0, 40);
    for (let i = 0; i < n; i++) s += alphabet[gen.randint(0, alphabet.length)];
    const ids = tok.encode(s);
    assert.equal(ids.length, [...s].length);
    assert.equal(tok.decode(ids), s);
    assert.equal(tok.decode(Int32Array.from(ids)), s);
  }
});

test("fromText and encode (tables below 2¹⁶) agree with the definition on a mixed text: lone surrogates, emoji, U+FFFF", () => {
  const alphabet = ["a", "é", "中", "😀", "\uD800", "\uDFFF", "\uFFFF", "\u0000", "𝔸", "—"];
  const gen = new Generator(3);
  let text = "";
  for (let i = 0; i < 5000; i++) text += alphabet[gen.randint(0, alphabet.length)];
  // the definition: the sorted set of code points, each code point's place in it
  const points: number[] = [];
  for (let i = 0; i < text.length;) {
    const cp = text.codePointAt(i)!;
    points.push(cp);
    i += cp > 0xffff ? 2 : 1;
  }
  const vocab = [...new Set(points)].sort((a, b) => a - b);
  const tok = CharTokenizer.fromText(text);
  assert.deepEqual(
    tok.chars,
    vocab.map((c) => String.fromCodePoint(c)),
  );
  assert.deepEqual(
    tok.encode(text),
    points.map((cp) => vocab.indexOf(cp)),
  );
  assert.equal(tok.decode(tok.encode(text)), text);
  // a character outside the vocabulary after the table has been made: still the error, with its index
  assert.throws(() => tok.encode("a\uD801x"), /U\+D801\) at index 1 is not in the vocabulary/);
});

test("encodeTensor gives a 1-d int32 tensor that decode accepts", () => {
  const tok = CharTokenizer.fromText("hello");
  const t = tok.encodeTensor("hello");
  assert.equal(t.dtype, "int32");
  assert.deepEqual(t.shape, [5]);
  assert.deepEqual(t.toArray(), [1, 0, 2, 2, 3]); // e h l o → sorted: e=0 h=1 l=2 o=3
  assert.equal(tok.decode(t), "hello");
});

test("an unknown character is a clear error, or the unk token when one is given", () => {
  const tok = CharTokenizer.fromText("abc");
  assert.throws(
    () => tok.encode("abxc"),
    (e: Error) =>
      e instanceof ArgumentError &&
      /"x" \(U\+0078\) at index 2 is not in the vocabulary of 3 characters/.test(e.message),
  );
  assert.throws(
    () => tok.decode([0, 3]),
    (e: Error) => e instanceof ArgumentError && /id 3 at position 1/.test(e.message),
  );
  const withUnk = CharTokenizer.fromText("abc", { unk: "<unk>" });
  assert.equal(withUnk.vocabSize, 4);
  assert.deepEqual(withUnk.encode("axb"), [0, 3, 1]);
  assert.equal(withUnk.decode([0, 3, 1]), "a<unk>b");
  const unkInside = CharTokenizer.fromText("abc?", { unk: "?" }); // an unk that is already a character
  assert.equal(unkInside.vocabSize, 4);
  assert.deepEqual(unkInside.encode("a!"), [1, 0]); // '?' sorts first (0x3F < 'a')
});

test("toJSON / fromJSON keep the vocabulary and the unk token", () => {
  for (const tok of [CharTokenizer.fromText("the whale 🐳"), CharTokenizer.fromText("abc", { unk: "<unk>" })]) {
    const back = CharTokenizer.fromJSON(JSON.parse(JSON.stringify(tok)));
    assert.deepEqual(back.chars, tok.chars);
    assert.equal(back.unk, tok.unk);
    assert.deepEqual(back.toJSON(), tok.toJSON());
  }
  assert.throws(() => CharTokenizer.fromJSON({ type: "bpe" }), LoadError);
  assert.throws(
    () => CharTokenizer.fromJSON({ type: "char", chars: ["a", "a"], unk: null }),
    (e: Error) => e instanceof LoadError && /twice/.test(e.message),
  );
  assert.throws(
    () => CharTokenizer.fromJSON({ type: "char", chars: ["ab"], unk: null }),
    (e: Error) => e instanceof LoadError && /one character/.test(e.message),
  );
});

test("charTokens: the text's tokenizer and ids, kept for the same text (the ids copied for each caller), new ones for another", async () => {
  const { charTokens } = await import("../../src/data/char.js");
  const a = charTokens("call me ishmael");
  assert.deepEqual(a.tok.chars, CharTokenizer.fromText("call me ishmael").chars);
  assert.deepEqual([...a.ids], a.tok.encode("call me ishmael"));
  // an equal string, made anew: the same tokenizer, a copy of the same ids (a caller may write to its own)
  const again = charTokens("call me " + "ishmael");
  assert.equal(again.tok, a.tok);
  assert.notEqual(again.ids, a.ids);
  assert.deepEqual(again.ids, a.ids);
  a.ids[0] = 99;
  assert.notEqual(charTokens("call me ishmael").ids[0], 99);
  const b = charTokens("the whale");
  assert.notEqual(b, a);
  assert.deepEqual(b.tok.decode(b.ids), "the whale");
});
