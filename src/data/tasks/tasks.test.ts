// The synthetic seq2seq tasks: dates (every format parses back to its date, and only to it), reversal,
// the vocabularies and the padded teacher-forcing batches.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, ArgumentError } from "../../index.js";
import { assertThrowsWith } from "../../../test/harness/assert.js";
import {
  BOS,
  DATE_FORMATS,
  EOS,
  PAD,
  SymbolVocab,
  datesTask,
  distinctPairs,
  formatDate,
  isoDate,
  makeBatch,
  parseDate,
  randomDate,
  reversalTask,
} from "./index.js";

/** Whether s is an ISO date yyyy-mm-dd of a real day, checked through JavaScript's own Date parser. */
function isIsoDay(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const t = Date.parse(`${s}T00:00:00Z`);
  return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === s;
}

test("dates: every target is a valid ISO date in 1950…2049, and every format parses back to it alone", () => {
  const g = new Generator(11);
  for (let n = 0; n < 400; n++) {
    const d = randomDate(g);
    const iso = isoDate(d);
    assert.ok(isIsoDay(iso), iso);
    assert.ok(d.year >= 1950 && d.year <= 2049, iso);
    for (const f of DATE_FORMATS) {
      const s = formatDate(d, f);
      // the round trip through ALL templates: one reading, the right one (no US/European ambiguity)
      assert.deepEqual(parseDate(s), [iso], `${JSON.stringify(s)} (${f.template}) should mean ${iso} only`);
    }
  }
});

test("dates: the formats the brief names read as the dates they mean; malformed strings mean nothing", () => {
  // 3 March 1998 was a Tuesday (a calendar fact); 03/04/98 is month-first (US) in our formats
  for (const s of [
    "3 March 1998",
    "Tuesday, March 3, 1998",
    "1998-3-3",
    "mar 3 98",
    "the 3rd of March 1998",
    "03.03.1998",
    "19980303",
    "MARCH 3 1998",
  ]) {
    assert.deepEqual(parseDate(s), ["1998-03-03"], s);
  }
  assert.deepEqual(parseDate("03/04/98"), ["1998-03-04"]);
  assert.deepEqual(parseDate("4/3/2049"), ["2049-04-03"]);
  assert.deepEqual(parseDate("1/1/49"), [], "M/D/YY is not a format (only MM/DD/YY)");
  for (const s of [
    "Monday, March 3, 1998",
    "the 3th of March 1998",
    "30 February 2000",
    "31/12/99",
    "1949-12-31",
    "2050-01-01",
    "March 3 1998 ",
    "",
  ]) {
    assert.deepEqual(parseDate(s), [], JSON.stringify(s));
  }
});

test("dates: the sampler covers every format, its characters are in the vocabulary, and it is seeded", () => {
  const task = datesTask();
  const a = Array.from(
    { length: 2000 },
    (
      (g) => () =>
        task.sample(g)
    )(new Generator(5)),
  );
  const b = Array.from(
    { length: 2000 },
    (
      (g) => () =>
        task.sample(g)
    )(new Generator(5)),
  );
  assert.deepEqual(a, b);
  const templates = new Set<string>();
  for (const p of a) {
    task.srcVocab.encode(task.split(p.src)); // throws on an unknown character
    assert.deepEqual(task.tgtVocab.decode(task.tgtVocab.encode(task.split(p.tgt))), task.split(p.tgt));
    assert.deepEqual(parseDate(p.src), [p.tgt]);
    const f = DATE_FORMATS.find((f) => {
      const d = p.tgt.split("-").map(Number);
      return formatDate({ year: d[0]!, month: d[1]!, day: d[2]! }, f) === p.src;
    });
    templates.add(f!.template);
  }
  assert.equal(templates.size, DATE_FORMATS.length);
});

test("reversal: the target is the source reversed, lengths cover minLen…maxLen", () => {
  const task = reversalTask({ vocab: 5, minLen: 2, maxLen: 6 });
  const g = new Generator(3),
    seen = new Set<number>();
  for (let n = 0; n < 500; n++) {
    const p = task.sample(g);
    const src = task.split(p.src);
    assert.deepEqual(task.split(p.tgt), [...src].reverse());
    assert.ok(src.every((t) => "abcde".includes(t)));
    seen.add(src.length);
  }
  assert.deepEqual([...seen].sort(), [2, 3, 4, 5, 6]);
  assertThrowsWith(() => reversalTask({ minLen: 5, maxLen: 4 }), ArgumentError, /minLen ≤ maxLen, got 5 and 4/);
});

test("makeBatch: the source padded, the target shifted with BOS and closed with EOS; distinctPairs excludes", () => {
  const task = reversalTask({ vocab: 4 });
  const pairs = [
    { src: "a b c", tgt: "c b a" },
    { src: "d", tgt: "d" },
  ];
  const { src, tgtIn, tgtOut } = makeBatch(task, pairs);
  const [a, b, c, d] = task.srcVocab.encode(["a", "b", "c", "d"]);
  assert.deepEqual(src.toArray(), [
    [a, b, c],
    [d, PAD, PAD],
  ]);
  assert.deepEqual(tgtIn.toArray(), [
    [BOS, c, b, a],
    [BOS, d, PAD, PAD],
  ]);
  assert.deepEqual(tgtOut.toArray(), [
    [c, b, a, EOS],
    [d, EOS, PAD, PAD],
  ]);
  const held = distinctPairs(task, 50, new Generator(1));
  assert.equal(new Set(held.map((p) => p.src)).size, 50);
  const more = distinctPairs(task, 50, new Generator(2), new Set(held.map((p) => p.src)));
  assert.ok(more.every((p) => !held.some((h) => h.src === p.src)));
  const v = new SymbolVocab(["x", "y"]);
  assert.equal(v.size, 5);
  assert.deepEqual(v.decode([BOS, 3, 4, EOS, 3]), ["x", "y"]);
  assertThrowsWith(() => v.encode(["z"]), ArgumentError, /unknown symbol "z"/);
});
