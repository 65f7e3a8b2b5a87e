// The convs2s-compare recipe on a few short reversals: both models train on the same batches and are decoded
// greedily; the table, metrics (parameters, CPU and wall time per step) and pictures come back; bad options.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError, Generator } from "../index.js";
import { assertThrowsWith } from "../../test/harness/assert.js";
import { convs2sCompareRecipe as recipe, type ConvS2SCompareOptions } from "./convs2s-compare.js";

const PNG = [137, 80, 78, 71, 13, 10, 26, 10];
const small = { tasks: "reversal", steps: 2, batch: 4, testSize: 6, minLen: 3, maxLen: 6 };

test("GRU + Bahdanau and ConvS2S on one budget: the table, the metrics, a loss chart, the attention of every layer", () => {
  const lines: string[] = [];
  const r = recipe.run({ ...recipe.defaults, ...small }, {}, { log: (l) => lines.push(l) }, new Generator(0));
  for (const k of ["gru", "convs2s"]) {
    for (const m of ["exactMatch", "tokenAccuracy", "cpuMsPerStep", "wallMsPerStep", "parameters"])
      assert.ok(Number.isFinite(r.metrics[`reversal.${k}.${m}`]), `${k}.${m}`);
    assert.equal(
      Math.round(r.metrics[`reversal.${k}.exactMatch`]! * 6),
      r.metrics[`reversal.${k}.exactMatch`]! * 6,
      "exact match counts whole examples",
    );
  }
  const table = r.tables!["convs2s-compare.md"]!;
  assert.match(table, /\| reversal \| GRU \+ Bahdanau \| 49,991 \|/);
  assert.match(table, /\| reversal \| ConvS2S \| 96,974 \|/);
  // the GRU has one attention, ConvS2S one per decoder layer (2 in the reversal preset)
  assert.deepEqual(Object.keys(r.images!).sort(), [
    "reversal-attention-convs2s-layer1.png",
    "reversal-attention-convs2s-layer2.png",
    "reversal-attention-gru.png",
    "reversal-loss.png",
  ]);
  for (const [name, bytes] of Object.entries(r.images!)) assert.deepEqual([...bytes.subarray(0, 8)], PNG, name);
  assert.ok(
    lines.some((l) => /ConvS2S \(reversal\): exact match [\d.]+%/.test(l)),
    lines.join("\n"),
  );
});

test("the same seed gives the same run of a model whether trained alone or after the other", () => {
  const both = recipe.run({ ...recipe.defaults, ...small }, {}, { log: () => {} }, new Generator(0));
  const alone = recipe.run(
    { ...recipe.defaults, ...small, models: "convs2s" },
    {},
    { log: () => {} },
    new Generator(0),
  );
  assert.equal(alone.metrics["reversal.convs2s.tokenAccuracy"], both.metrics["reversal.convs2s.tokenAccuracy"]);
  assert.equal(alone.metrics["reversal.gru.parameters"], undefined);
});

test("bad options are typed errors", () => {
  const run = (o: Partial<ConvS2SCompareOptions>) => () =>
    recipe.run(
      { ...recipe.defaults, ...small, ...o } as ConvS2SCompareOptions,
      {},
      { log: () => {} },
      new Generator(0),
    );
  assertThrowsWith(run({ models: "gru,lstm" }), ArgumentError, /unknown model "lstm"/);
  assertThrowsWith(run({ tasks: "sorting" }), ArgumentError, /unknown task "sorting"/);
  assertThrowsWith(run({ steps: 0 }), ArgumentError, /steps must be a positive integer/);
  assertThrowsWith(run({ lr: 0 }), ArgumentError, /lr must be > 0/);
});
