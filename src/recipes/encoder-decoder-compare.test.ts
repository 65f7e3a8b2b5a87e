// The T5-vs-BART comparison: its tokenizer, its batches, the two pretraining examples, and the whole recipe on a
// tiny budget (tiny models, a few steps).

import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError, Generator } from "../index.js";
import { assertThrowsWith } from "../../test/harness/assert.js";
import * as optim from "../optim/index.js";
import { undoSpanCorruption } from "../models/t5/noise.js";
import type { Parameter } from "../nn/module.js";
import { T5 } from "../models/t5/model.js";
import {
  bartContender,
  bartExample,
  CharVocab,
  collate,
  EOS,
  MASK,
  normalizeText,
  PAD,
  recipe,
  SENTINELS,
  t5Contender,
  t5Example,
  t5LrScale,
  type Contender,
} from "./encoder-decoder-compare.js";

const TEXT = normalizeText(
  "Call me Ishmael. Some years ago - never mind how long precisely - having little or no money in my purse, and nothing\n" +
    "particular to interest me on shore, I thought I would sail about a little and see the watery part of the world! Is it\n" +
    "a way I have of driving off the spleen? It is. ".repeat(4),
);

test("CharVocab: specials, then sentinels, then sorted characters; encode/decode/show", () => {
  const v = new CharVocab("ba, b");
  assert.deepEqual(v.chars, [" ", ",", "a", "b"]);
  assert.equal(v.size, 3 + SENTINELS + 4);
  assert.deepEqual(
    v.sentinelIds,
    Array.from({ length: SENTINELS }, (_, i) => 3 + i),
  );
  const ids = v.encode("a b");
  assert.deepEqual(ids, [3 + SENTINELS + 2, 3 + SENTINELS, 3 + SENTINELS + 3]);
  assert.equal(v.decode([...ids, EOS, ids[0]!]), "a b", "stops at </s>");
  assert.equal(v.decode([PAD, v.sentinelIds[0]!, ...ids]), "a b", "skips the specials");
  assert.equal(v.show([v.sentinelIds[1]!, MASK, ids[0]!, EOS, PAD]), "<1><mask>a</s><pad>");
  assertThrowsWith(() => v.encode("a?"), ArgumentError, /character "\?" is not in the vocabulary/);
  assert.equal(normalizeText("a \n\n  b\tc"), "a b c");
});

test("collate: </s> after every source and target, padding masked, targets −100 past </s>, decoder input shifted right", () => {
  const b = collate(
    [
      { src: [10, 11, 12], tgt: [20] },
      { src: [13], tgt: [21, 22, 23] },
    ],
    7,
  );
  assert.deepEqual(b.inputIds.toArray(), [
    [10, 11, 12, EOS],
    [13, EOS, PAD, PAD],
  ]);
  assert.deepEqual(b.attentionMask.toArray(), [
    [1, 1, 1, 1],
    [1, 1, 0, 0],
  ]);
  assert.deepEqual(b.targets.toArray(), [
    [20, EOS, -100, -100],
    [21, 22, 23, EOS],
  ]);
  assert.deepEqual(b.decoderInputIds.toArray(), [
    [7, 20, EOS, PAD],
    [7, 21, 22, 23],
  ]);
});

test("pretraining examples: T5's input + target give the passage back; BART's target is the passage, its input has masks", () => {
  const v = new CharVocab(TEXT);
  const passage = v.encode(TEXT.slice(0, 64));
  const g = new Generator(5);
  for (let rep = 0; rep < 20; rep++) {
    const t5 = t5Example(passage, v, g);
    assert.deepEqual(undoSpanCorruption(t5.src, t5.tgt, v.sentinelIds), passage);
    assert.equal(
      t5.src.length + t5.tgt.length,
      64 + 2 * 3 + 1,
      "64 characters, 10 dropped in 3 spans: 3 sentinels in each, the final one",
    );
    const bart = bartExample(passage, v, g);
    assert.deepEqual(bart.tgt, passage);
    assert.ok(bart.src.includes(MASK));
    // 30% of the 64 characters are masked, each span one <mask>: the input is shorter
    assert.ok(
      bart.src.filter((t) => t !== MASK).length === 64 - Math.round(0.3 * 64),
      "round(0.3·64) characters masked",
    );
  }
});

test("the contenders: the same size, each loss finite, greedy decoding within maxLen", () => {
  const v = new CharVocab(TEXT);
  const size = { vocabSize: v.size, dModel: 16, nHead: 2, layers: 1, dFF: 32, maxPositions: 40 };
  const batch = [
    { src: v.encode("Call me"), tgt: v.encode("Ishmael") },
    { src: v.encode("It is."), tgt: v.encode("no") },
  ];
  for (const c of [t5Contender(size, 1), bartContender(size, 1)]) {
    const l = c.loss(batch).item();
    assert.ok(Number.isFinite(l) && l > 0, `${c.name} loss ${l}`);
    const out = c.greedy(
      batch.map((e) => e.src),
      5,
    );
    assert.equal(out.length, 2);
    for (const o of out) assert.ok(o.length <= 5);
  }
});

/**
 * Trains c on a toy task of `len` symbols drawn uniformly from A (target = task(source)), 16 per batch, AdamW at
 * lr 3·10⁻³ (times c.lrScale where `useScale`), and returns the mean loss of the last 10 steps.
 */
function toyLoss(
  c: Contender,
  o: { A: number; len: number; steps: number; task: (seq: number[]) => number[]; useScale?: boolean },
): number {
  const first = 3 + SENTINELS;
  const params = c.model.parameters();
  const k = (p: Parameter): number => (o.useScale ? (c.lrScale?.get(p) ?? 1) : 1);
  const scales = [...new Set(params.map(k))];
  const opt = new optim.AdamW(
    scales.map((s) => ({ params: params.filter((p) => k(p) === s), lr: 3e-3 * s })),
    { lr: 3e-3 },
  );
  const g = new Generator(7);
  let last = 0;
  for (let step = 1; step <= o.steps; step++) {
    const batch = Array.from({ length: 16 }, () => {
      const seq = Array.from({ length: o.len }, () => first + g.randint(0, o.A));
      return { src: seq, tgt: o.task(seq) };
    });
    c.model.zeroGrad();
    const loss = c.loss(batch);
    loss.backward();
    opt.step();
    if (step > o.steps - 10) last += loss.item() / 10;
  }
  return last;
}

test("BART at the recipe's init learns to copy its input; at bart-base's N(0, 0.02²) it stays on the unigram plateau", () => {
  // source = target = 8 symbols drawn uniformly from 10: a model that ignores its input can do no better than
  // (8·ln 10 + 0)/9 ≈ 2.05 nats per target (the </s> is certain); one that reads it, ~0.
  const A = 10,
    len = 8;
  const size = { vocabSize: 3 + SENTINELS + A, dModel: 32, nHead: 2, layers: 1, dFF: 64, maxPositions: len + 2 };
  const copy = { A, len, steps: 120, task: (seq: number[]) => seq };
  const recipeInit = toyLoss(bartContender(size, 1), copy);
  assert.ok(recipeInit < 0.5, `initStd 1/√C: mean loss of steps 111–120 ${recipeInit.toFixed(3)}, want < 0.5`);
  const bartBase = toyLoss(bartContender(size, 1, 0.02), copy);
  assert.ok(bartBase > 1.5, `initStd 0.02: mean loss of steps 111–120 ${bartBase.toFixed(3)}, the plateau is ≈ 2.05`);
});

test("t5LrScale: 1/√d_kv on every W_Q (self and cross), the given scale on the two position tables, nothing else", () => {
  const size = { vocabSize: 50, dModel: 16, nHead: 2, layers: 2, dFF: 32, maxPositions: 40 };
  const c = t5Contender(size, 1);
  const scale = t5LrScale(c.model as T5, 100);
  const named = new Map<Parameter, string>(c.model.namedParameters().map(([n, p]) => [p, n]));
  const got = [...scale].map(([p, k]) => `${named.get(p)} ${k}`).sort();
  const q = 1 / Math.sqrt(16 / 2); // d_kv = dModel / nHead
  assert.deepEqual(got, [
    `decoder.0.attn.wq.weight ${q}`,
    `decoder.0.cross.wq.weight ${q}`,
    `decoder.1.attn.wq.weight ${q}`,
    `decoder.1.cross.wq.weight ${q}`,
    "decoderPosBias.emb.weight 100",
    `encoder.0.attn.wq.weight ${q}`,
    `encoder.1.attn.wq.weight ${q}`,
    "encoderPosBias.emb.weight 100",
  ]);
  assert.ok(c.lrScale instanceof Map && c.lrScale.size === 8);
});

test("T5 learns to reverse its input with the recipe's learning-rate multipliers, and stalls without them", () => {
  // source = 6 symbols drawn uniformly from 8, target = the source reversed: only word order tells which symbol
  // comes next, and T5's only source of order is its relative-position tables.
  const A = 8,
    len = 6;
  const size = { vocabSize: 3 + SENTINELS + A, dModel: 64, nHead: 2, layers: 1, dFF: 128, maxPositions: len + 2 };
  const reverse = { A, len, steps: 250, task: (seq: number[]) => [...seq].reverse() };
  // measured (seeds 1, 2, 3 of the model): with 0.092 / 0.124 / 0.281, without 1.788 / 1.847 / 1.802
  const withScale = toyLoss(t5Contender(size, 1), { ...reverse, useScale: true });
  const without = toyLoss(t5Contender(size, 1), reverse);
  assert.ok(withScale < 0.5, `with the multipliers: mean loss of steps 241–250 ${withScale.toFixed(3)}, want < 0.5`);
  assert.ok(
    without > 1.5,
    `without: mean loss of steps 241–250 ${without.toFixed(3)}, want > 1.5 (ignoring order: (6·ln 8)/7 ≈ 1.78)`,
  );
});

test("encoder-decoder-compare on a tiny budget: pretraining, four fine-tunings, the table, the curves", () => {
  const lines: string[] = [];
  const r = recipe.run(
    {
      ...recipe.defaults,
      pretrainSteps: 3,
      finetuneSteps: 3,
      pretrainBatch: 2,
      chunk: 24,
      finetuneBatch: 4,
      dModel: 16,
      nHead: 2,
      layers: 1,
      ffWidth: 32,
      testSize: 6,
      valPassages: 2,
      evalEvery: 2,
    },
    { text: TEXT.repeat(4) },
    { log: (l) => lines.push(l) },
    new Generator(0),
  );
  const table = r.tables!["encoder-decoder-compare.md"]!.split("\n");
  assert.equal(table.length, 6);
  assert.ok(table[2]!.startsWith("| T5 |") && table[2]!.includes("pretrained"));
  assert.ok(table[5]!.startsWith("| BART |") && table[5]!.includes("scratch"));
  for (const m of ["t5", "bart"]) {
    assert.ok(r.metrics[`${m}.pretrainValLoss`]! > 0);
    for (const init of ["pretrained", "scratch"]) {
      const em = r.metrics[`${m}.${init}.exactMatch`]!,
        chars = r.metrics[`${m}.${init}.charAccuracy`]!;
      assert.ok(em >= 0 && em <= chars && chars <= 1, `${m}.${init}: exact match ${em}, characters ${chars}`);
      assert.ok(r.metrics[`${m}.${init}.testLoss`]! > 0);
    }
  }
  for (const png of Object.values(r.images!)) assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  assert.deepEqual(Object.keys(r.images!).sort(), [
    "finetune-char-accuracy.png",
    "finetune-exact-match.png",
    "finetune-loss.png",
    "pretrain-loss.png",
  ]);
  assert.equal(r.samples!.length, 6);
  assert.ok(lines.some((l) => l.startsWith("T5 from scratch: exact match")));
  assertThrowsWith(
    () => recipe.run({ ...recipe.defaults, dModel: 15 }, { text: TEXT }, { log: () => {} }, new Generator(0)),
    ArgumentError,
    /dModel 15 must be a multiple of nHead 4/,
  );
});
