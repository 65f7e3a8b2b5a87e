// The seeded sequence-to-sequence tasks: dates (human formats → ISO) and the invented-language translation.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator } from "../../engine/rng.js";
import { ArgumentError } from "../../engine/errors.js";
import { assertThrowsWith } from "../../../test/harness/assert.js";
import { DATE_FORMATS, dateAlphabet, datePairs, formatDate, isoDate, ordinal } from "./dates.js";
import { GLOSSES, gloss, lexiconWords, makeLexicon, randomMeaning, sourceSentence, targetSentence, translationPairs } from "./translation.js";
import { BOS, EOS, PAD, UNK, Vocab, seq2seqBatch } from "./vocab.js";

test("dates: every format writes the same day, and the ISO target parses back to it", () => {
  const d = { year: 2021, month: 3, day: 3 }; // a Wednesday
  // each format's name is the format applied to 3 March 2021
  for (const f of DATE_FORMATS) assert.equal(formatDate(d, f), f.replace(/^the/, "The"), f);
  assert.equal(formatDate(d, "Wednesday the 3rd of March 2021", "lower"), "wednesday the 3rd of march 2021");
  assert.equal(formatDate({ year: 1900, month: 1, day: 1 }, "Wed, 3 Mar 2021", "upper"), "MON, 1 JAN 1900"); // 1 Jan 1900 was a Monday
  assert.equal(isoDate({ year: 1999, month: 12, day: 31 }), "1999-12-31");
  assert.deepEqual([1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31].map(ordinal), ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "31st"]);
  assertThrowsWith(() => formatDate({ year: 2021, month: 2, day: 29 }, "3/3/2021"), ArgumentError, /not a calendar date/);
});

test("dates: pairs are seeded, cover every format and the whole range, and use only the alphabet", () => {
  const a = datePairs(3000, new Generator(1)), b = datePairs(3000, new Generator(1));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.slice(0, 20), datePairs(20, new Generator(2)));
  const alphabet = new Set(dateAlphabet());
  const formats = new Set<string>(), years = a.map((p) => Number(p.target.slice(0, 4)));
  for (const p of a) {
    formats.add(p.format);
    assert.match(p.target, /^\d{4}-\d{2}-\d{2}$/);
    for (const ch of p.source + p.target) assert.ok(alphabet.has(ch), `${JSON.stringify(ch)} of ${p.source}`);
    // the source holds the target's day and year
    const [y, , dd] = p.target.split("-");
    assert.ok(p.source.includes(y!) && p.source.includes(String(Number(dd))), `${p.source} → ${p.target}`);
  }
  assert.equal(formats.size, DATE_FORMATS.length);
  assert.ok(Math.min(...years) < 1905 && Math.max(...years) > 2094);
  assert.deepEqual(datePairs(5, new Generator(3), { formats: ["03/03/2021"] }).map((p) => p.format), Array(5).fill("03/03/2021"));
  assertThrowsWith(() => datePairs(1, new Generator(0), { formats: ["3-3-21" as "3/3/2021"] }), ArgumentError, /unknown format "3-3-21"/);
});

test("translation: a seeded lexicon of distinct words; SVO → SOV, adjectives mirrored after the noun, markers moved", () => {
  const lex = makeLexicon(new Generator(7));
  assert.deepEqual(lex, makeLexicon(new Generator(7)));
  const words = lexiconWords(lex);
  const count = 2 * (GLOSSES.nouns.length + GLOSSES.adjectives.length + GLOSSES.verbs.length + GLOSSES.prepositions.length + 2) + 1;
  assert.equal(words.length, count, "every word is distinct across both languages");
  const S = lex.source, T = lex.target;
  const m = {
    subject: { noun: 0, plural: true, adjectives: [0, 2] }, verb: 4, past: true,
    object: { noun: 2, plural: false, adjectives: [3] }, adjunct: { adposition: 1, np: { noun: 8, plural: false, adjectives: [] } },
  };
  assert.equal(gloss(m), "big red dogs build (past) blue bird near king");
  assert.deepEqual(sourceSentence(m, lex).split(" "), [S.plural, S.adjectives[0], S.adjectives[2], S.nouns[0], S.past, S.verbs[4], S.adjectives[3], S.nouns[2], S.adpositions[1], S.nouns[8]]);
  assert.deepEqual(targetSentence(m, lex).split(" "), [T.nouns[0], T.plural, T.adjectives[2], T.adjectives[0], T.nouns[8], T.adpositions[1], T.nouns[2], T.adjectives[3], T.object, T.verbs[4], T.past]);
});

test("translation: pairs are seeded; no word is shared between a source and its target; lengths vary", () => {
  const lex = makeLexicon(new Generator(7));
  const a = translationPairs(500, lex, new Generator(8));
  assert.deepEqual(a, translationPairs(500, lex, new Generator(8)));
  const lengths = new Set<number>();
  for (const p of a) {
    const src = new Set(p.source.split(" "));
    assert.ok(p.target.split(" ").every((w) => !src.has(w)), `${p.source} / ${p.target}`);
    lengths.add(p.source.split(" ").length);
  }
  assert.ok(Math.min(...lengths) <= 3 && Math.max(...lengths) >= 12, `source lengths ${[...lengths].sort((x, y) => x - y)}`);
  const m = randomMeaning(new Generator(9), { maxAdjectives: 0, adjunctP: 0 });
  assert.deepEqual([m.subject.adjectives, m.object.adjectives, m.adjunct], [[], [], null]);
  assertThrowsWith(() => translationPairs(-1, lex, new Generator(0)), ArgumentError, /n must be an integer ≥ 0/);
});

test("Vocab and seq2seqBatch: specials first, EOS on sources and targets, BOS on the decoder input, PAD after", () => {
  const v = Vocab.fromSequences([["b", "a"], ["c", "a"]]);
  assert.deepEqual(v.tokens, ["<pad>", "<bos>", "<eos>", "<unk>", "a", "b", "c"]);
  assert.deepEqual([PAD, BOS, EOS, UNK], [0, 1, 2, 3]);
  assert.deepEqual(v.encode(["a", "z"], { eos: true }), [4, UNK, EOS]);
  assert.deepEqual(v.decode([BOS, 5, 6, EOS, 4]), ["b", "c"]);
  const batch = seq2seqBatch([{ source: ["a", "b", "c"], target: ["c"] }, { source: ["b"], target: ["a", "b"] }], v);
  assert.deepEqual(batch.src.toArray(), [[4, 5, 6, EOS], [5, EOS, PAD, PAD]]);
  assert.deepEqual(batch.tgtIn.toArray(), [[BOS, 6, PAD], [BOS, 4, 5]]);
  assert.deepEqual(batch.tgtOut.toArray(), [[6, EOS, PAD], [4, 5, EOS]]);
  assert.equal(batch.src.dtype, "int32");
  assertThrowsWith(() => v.decode([99]), ArgumentError, /id 99 is outside the vocabulary of 7 tokens/);
});
