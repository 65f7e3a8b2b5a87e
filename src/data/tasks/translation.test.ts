// The invented-language translation task: a seeded lexicon, SVO → SOV with mirrored adjectives and moved markers.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator } from "../../engine/rng.js";
import { ArgumentError } from "../../engine/errors.js";
import { assertThrowsWith } from "../../../test/harness/assert.js";
import { distinctPairs, makeBatch } from "./seq.js";
import {
  GLOSSES,
  gloss,
  lexiconWords,
  makeLexicon,
  randomMeaning,
  sourceSentence,
  targetSentence,
  translationTask,
} from "./translation.js";

test("translation: a seeded lexicon of distinct words; SVO → SOV, adjectives mirrored after the noun, markers moved", () => {
  const lex = makeLexicon(new Generator(7));
  assert.deepEqual(lex, makeLexicon(new Generator(7)));
  const words = lexiconWords(lex);
  const count =
    2 * (GLOSSES.nouns.length + GLOSSES.adjectives.length + GLOSSES.verbs.length + GLOSSES.prepositions.length + 2) + 1;
  assert.equal(words.length, count, "every word is distinct across both languages");
  const S = lex.source,
    T = lex.target;
  const m = {
    subject: { noun: 0, plural: true, adjectives: [0, 2] },
    verb: 4,
    past: true,
    object: { noun: 2, plural: false, adjectives: [3] },
    adjunct: { adposition: 1, np: { noun: 8, plural: false, adjectives: [] } },
  };
  assert.equal(gloss(m), "big red dogs build (past) blue bird near king");
  assert.deepEqual(sourceSentence(m, lex).split(" "), [
    S.plural,
    S.adjectives[0],
    S.adjectives[2],
    S.nouns[0],
    S.past,
    S.verbs[4],
    S.adjectives[3],
    S.nouns[2],
    S.adpositions[1],
    S.nouns[8],
  ]);
  assert.deepEqual(targetSentence(m, lex).split(" "), [
    T.nouns[0],
    T.plural,
    T.adjectives[2],
    T.adjectives[0],
    T.nouns[8],
    T.adpositions[1],
    T.nouns[2],
    T.adjectives[3],
    T.object,
    T.verbs[4],
    T.past,
  ]);
});

test("translationTask: seeded samples in its vocabularies; no word shared by a source and its target; lengths vary up to maxTgtLen", () => {
  const task = translationTask({ lexiconSeed: 7 });
  const a = distinctPairs(task, 400, new Generator(8));
  assert.deepEqual(a, distinctPairs(translationTask({ lexiconSeed: 7 }), 400, new Generator(8)));
  const srcLens = new Set<number>();
  let longest = 0;
  for (const p of a) {
    const src = task.split(p.src),
      tgt = task.split(p.tgt);
    assert.deepEqual(task.srcVocab.decode(task.srcVocab.encode(src)), src);
    assert.deepEqual(task.tgtVocab.decode(task.tgtVocab.encode(tgt)), tgt);
    assert.ok(
      tgt.every((w) => !src.includes(w)),
      `${p.src} / ${p.tgt}`,
    );
    assert.equal(task.join(tgt), p.tgt);
    srcLens.add(src.length);
    longest = Math.max(longest, tgt.length);
  }
  assert.ok(
    Math.min(...srcLens) <= 3 && Math.max(...srcLens) >= 12,
    `source lengths ${[...srcLens].sort((x, y) => x - y)}`,
  );
  assert.ok(
    longest <= task.maxTgtLen && longest >= task.maxTgtLen - 3,
    `longest target ${longest}, maxTgtLen ${task.maxTgtLen}`,
  );
  const b = makeBatch(task, a.slice(0, 4));
  assert.equal(b.src.shape[0], 4);
  const m = randomMeaning(new Generator(9), { maxAdjectives: 0, adjunctP: 0 });
  assert.deepEqual([m.subject.adjectives, m.object.adjectives, m.adjunct], [[], [], null]);
  assertThrowsWith(
    () => translationTask({ maxAdjectives: -1 }),
    ArgumentError,
    /maxAdjectives must be an integer in \[0, 12\], got -1/,
  );
});
