// The dense-vs-sparse comparison on a tiny budget: every contender reads the same batches, the parameter
// counts are equal where the recipe says so, the table and the expert-load table have their rows, and the
// capacity factor orders the dropped fraction.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, meta } from "../index.js";
import { contenders, imbalance, moeCompareRecipe, type MoECompareOptions } from "./moe-compare.js";

const TEXT = (
  "Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse, " +
  "and nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of the world. "
).repeat(20);

const TINY: MoECompareOptions = {
  ...moeCompareRecipe.defaults,
  steps: 12,
  batchSize: 4,
  blockSize: 16,
  nLayer: 1,
  nHead: 2,
  nEmbd: 16,
  nExperts: 4,
  lr: 1e-2,
  minLr: 1e-3,
  warmupSteps: 2,
  evalEvery: 6,
  evalBatches: 2,
};

test("moe-compare: equal active parameters (dense vs switch) and equal total parameters (dense-wide vs switch), up to the routers and biases", () => {
  const C = 48,
    L = 2,
    E = 8;
  const list = contenders({ ...moeCompareRecipe.defaults, nEmbd: C, nLayer: L, nExperts: E }, 89);
  const by = Object.fromEntries(list.map((c) => [c.key, c]));
  assert.deepEqual(
    list.map((c) => c.key),
    ["dense", "switch", "dense-wide", "switch-nolb", "switch-cf1.0", "switch-cf2.0", "switch-top2"],
  );
  // switch's token uses one expert = GPT-2's MLP, plus the router (E, C) of each block
  assert.equal(by.switch!.active, by.dense!.total + L * E * C);
  // dense-wide's one MLP has E·4C hidden units, as switch's E experts together; it has E − 1 fewer output biases (C each)
  // and E − 1 fewer router rows (C each)
  assert.equal(by["dense-wide"]!.total, by.switch!.total - L * (E - 1) * C - L * (E - 1) * C);
  // top-2 runs one more expert per token: C·4C + 4C + 4C·C + C parameters per block
  assert.equal(by["switch-top2"]!.active, by.switch!.active + L * (8 * C * C + 5 * C));
  for (const c of list) assert.equal(meta(() => c.build(new Generator(0))).numParameters(), c.total, c.key);
});

test("moe-compare trains all seven on the same batches; the tables have their rows; the capacity factor orders the drops", () => {
  const r = moeCompareRecipe.run(TINY, { text: TEXT }, { log: () => {} }, new Generator(0));
  const keys = ["dense", "switch", "dense-wide", "switch-nolb", "switch-cf1.0", "switch-cf2.0", "switch-top2"];
  const table = r.tables!["moe-compare.md"]!.split("\n");
  assert.equal(table.length, 2 + keys.length);
  keys.forEach((k, i) => assert.ok(table[2 + i]!.startsWith(`| ${k} |`), table[2 + i]));
  const checksum = r.metrics["dense.batchChecksum"]!;
  for (const k of keys) {
    assert.equal(r.metrics[`${k}.batchChecksum`], checksum, `${k} read the same batches`);
    assert.ok(r.metrics[`${k}.valLoss`]! < r.metrics[`${k}.initialValLoss`]! - 0.2, `${k} learns`);
  }
  // at step 0 the switch variants share their weights (one seed) and so their routing: only the capacity differs
  const load = r
    .tables!["expert-load.md"]!.split("\n")
    .slice(2)
    .map((l) => l.split("|").map((c) => c.trim()));
  const dropped0 = (k: string): number =>
    Number(load.find((row) => row[1] === k && row[2] === "0")![5]!.replace("%", ""));
  assert.ok(
    dropped0("switch-cf1.0") >= dropped0("switch") && dropped0("switch") >= dropped0("switch-cf2.0"),
    `${dropped0("switch-cf1.0")} ≥ ${dropped0("switch")} ≥ ${dropped0("switch-cf2.0")}`,
  );
  assert.ok(dropped0("switch-cf1.0") > dropped0("switch-cf2.0"));
  assert.equal(r.metrics["dense-wide.droppedFraction"], undefined, "no capacity, no router: not reported");
  for (const png of ["val-loss.png", "expert-load-switch.png", "expert-load-switch-nolb.png"])
    assert.deepEqual([...r.images![png]!.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], png);
});

test("imbalance: 1 when balanced, E when one expert takes every token", () => {
  assert.equal(imbalance([5, 5, 5, 5]), 1);
  assert.equal(imbalance([0, 20, 0, 0]), 4);
  assert.equal(imbalance([0, 0]), 0);
});

test("moe-compare refuses one expert and an unknown contender", () => {
  assert.throws(
    () => moeCompareRecipe.run({ ...TINY, nExperts: 1 }, { text: TEXT }, { log: () => {} }, new Generator(0)),
    /nExperts must be at least 2/,
  );
  assert.throws(
    () => moeCompareRecipe.run({ ...TINY, only: "sparse" }, { text: TEXT }, { log: () => {} }, new Generator(0)),
    /names none of/,
  );
});
