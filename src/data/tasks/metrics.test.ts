// Exact match, and corpus BLEU against hand-computed examples and against sacrebleu's own numbers
// (tools/fixtures/bleu.py → test/fixtures/data/bleu.json).

import { readFileSync } from "node:fs";
import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError } from "../../engine/errors.js";
import { assertThrowsWith } from "../../../test/harness/assert.js";
import { corpusBleu, exactMatch, tokenize13a, type BleuOptions, type SmoothMethod } from "./metrics.js";

interface BleuCase {
  label: string;
  hyps: string[];
  refs: string[][];
  options: {
    smooth_method?: SmoothMethod;
    smooth_value?: number;
    lowercase?: boolean;
    tokenize?: "13a" | "none";
    max_ngram_order?: number;
    effective_order?: boolean;
  };
  score: number;
  counts: number[];
  totals: number[];
  precisions: number[];
  bp: number;
  sys_len: number;
  ref_len: number;
}
const fx = JSON.parse(readFileSync(new URL("../../../../test/fixtures/data/bleu.json", import.meta.url), "utf8")) as {
  tokenize: [string, string][];
  cases: BleuCase[];
};

test("exactMatch: the fraction of identical strings", () => {
  assert.equal(exactMatch(["2021-03-03", "1999-12-31", "x"], ["2021-03-03", "1999-12-30", "x"]), 2 / 3);
  assert.equal(exactMatch([], []), 0);
  assertThrowsWith(() => exactMatch(["a"], []), ArgumentError, /1 hypotheses but 0 references/);
});

test("BLEU by hand: 'the cat sat on the mat' against 'the cat is on the mat'", () => {
  // 1-grams 5/6 (the×2, cat, on, mat), 2-grams 3/5 (the cat, on the, the mat), 3-grams 1/4 (on the mat),
  // 4-grams 0/3; equal lengths, BP = 1
  const hyp = ["the cat sat on the mat"],
    refs = [["the cat is on the mat"]];
  const none = corpusBleu(hyp, refs, { smoothMethod: "none" });
  assert.deepEqual(
    [none.counts, none.totals, none.sysLen, none.refLen, none.bp],
    [[5, 3, 1, 0], [6, 5, 4, 3], 6, 6, 1],
  );
  assert.equal(none.score, 0, "no smoothing: a zero 4-gram precision makes BLEU 0");
  // exp smoothing: the first order without a match gets 1/(2·total) = 1/6
  const exp = corpusBleu(hyp, refs);
  assert.ok(Math.abs(exp.score - 100 * ((5 / 6) * (3 / 5) * (1 / 4) * (1 / 6)) ** 0.25) < 1e-9, `${exp.score}`);
  // floor 0.1: 0.1/3
  assert.ok(
    Math.abs(
      corpusBleu(hyp, refs, { smoothMethod: "floor" }).score - 100 * ((5 / 6) * (3 / 5) * (1 / 4) * (0.1 / 3)) ** 0.25,
    ) < 1e-9,
  );
  // add-1 from n = 2 on: 4/6, 2/5, 1/4
  assert.ok(
    Math.abs(
      corpusBleu(hyp, refs, { smoothMethod: "add-k" }).score - 100 * ((5 / 6) * (4 / 6) * (2 / 5) * (1 / 4)) ** 0.25,
    ) < 1e-9,
  );
  // a perfect match is 100; a shorter one pays BP = exp(1 − r/c)
  assert.ok(Math.abs(corpusBleu(["a b c d e"], [["a b c d e"]]).score - 100) < 1e-9);
  const short = corpusBleu(["a b c d"], [["a b c d e"]]);
  assert.ok(
    Math.abs(short.bp - Math.exp(1 - 5 / 4)) < 1e-12 && Math.abs(short.score - 100 * Math.exp(1 - 5 / 4)) < 1e-9,
  );
});

test("BLEU: the closest reference length (ties to the shorter) and clipping by the largest count in one reference", () => {
  // hypothesis of 4 tokens; references of 3 and 5 tokens are equally close: r = 3 (the shorter)
  const s = corpusBleu(["x x x y"], [["x y z"], ["x x w v u"]], { maxNgramOrder: 1 });
  assert.equal(s.refLen, 3);
  // x appears 3 times; at most 2 in one reference (the second): 2 + 1 (y) = 3 of 4
  assert.deepEqual([s.counts, s.totals], [[3], [4]]);
});

test("tokenize13a gives sacrebleu's tokenisation", () => {
  for (const [line, expected] of fx.tokenize) assert.equal(tokenize13a(line), expected, JSON.stringify(line));
});

test("corpusBleu gives sacrebleu's scores and statistics", () => {
  for (const c of fx.cases) {
    const o = c.options;
    const opts: BleuOptions = {
      ...(o.smooth_method && { smoothMethod: o.smooth_method }),
      ...(o.smooth_value !== undefined && { smoothValue: o.smooth_value }),
      ...(o.lowercase !== undefined && { lowercase: o.lowercase }),
      ...(o.tokenize && { tokenize: o.tokenize }),
      ...(o.max_ngram_order && { maxNgramOrder: o.max_ngram_order }),
      ...(o.effective_order !== undefined && { effectiveOrder: o.effective_order }),
    };
    const s = corpusBleu(c.hyps, c.refs, opts);
    assert.ok(Math.abs(s.score - c.score) < 1e-9, `${c.label}: BLEU ${s.score} vs sacrebleu ${c.score}`);
    assert.deepEqual([s.counts, s.totals, s.sysLen, s.refLen], [c.counts, c.totals, c.sys_len, c.ref_len], c.label);
    assert.ok(Math.abs(s.bp - c.bp) < 1e-12, `${c.label}: BP`);
    s.precisions.forEach((p, i) =>
      assert.ok(Math.abs(p - c.precisions[i]!) < 1e-9, `${c.label}: p${i + 1} ${p} vs ${c.precisions[i]}`),
    );
  }
});

test("corpusBleu checks its arguments", () => {
  assertThrowsWith(
    () => corpusBleu(["a"], [["a", "b"]]),
    ArgumentError,
    /reference stream 0 has 2 segments, the hypotheses 1/,
  );
  assertThrowsWith(() => corpusBleu(["a"], []), ArgumentError, /no reference streams/);
  assertThrowsWith(
    () => corpusBleu(["a"], [["a"]], { smoothMethod: "add-one" as SmoothMethod }),
    ArgumentError,
    /unknown smoothMethod "add-one"/,
  );
});
