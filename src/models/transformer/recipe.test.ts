// The recipe end to end on a toy budget: it trains, decodes both ways and returns its metrics and pictures.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator } from "../../engine/rng.js";
import { ArgumentError } from "../../engine/errors.js";
import { assertThrowsWith } from "../../../test/harness/assert.js";
import { datesTask } from "../../data/tasks/dates.js";
import { recipe, withSharedVocab } from "./recipe.js";

test("the transformer recipe runs on both tasks and returns metrics, a table, charts and attention heatmaps", () => {
  for (const task of ["dates", "translation"]) {
    const lines: string[] = [];
    const r = recipe.run(
      {
        ...recipe.defaults,
        task,
        steps: 3,
        batch: 4,
        warmup: 2,
        testSize: 3,
        beam: 2,
        dModel: 16,
        nHead: 2,
        dFF: 32,
        layers: 1,
      },
      {},
      { log: (l) => lines.push(l) },
      new Generator(0),
    );
    for (const k of ["greedy.exactMatch", "greedy.bleu", "beam.exactMatch", "beam.bleu", "parameters", "finalLoss"])
      assert.ok(Number.isFinite(r.metrics[k]), `${task}: ${k} = ${r.metrics[k]}`);
    assert.deepEqual(Object.keys(r.images!).sort(), [
      "attention-cross.png",
      "attention-decoder.png",
      "attention-encoder.png",
      "loss.png",
      "lr.png",
    ]);
    for (const png of Object.values(r.images!)) assert.deepEqual(Array.from(png.subarray(1, 4)), [80, 78, 71]);
    assert.match(r.tables!.results!, /\| greedy \|/);
    assert.ok(lines.some((l) => l.includes("exact match")));
  }
  assertThrowsWith(
    () => recipe.run({ ...recipe.defaults, task: "poems" }, {}, { log: () => {} }, new Generator(0)),
    ArgumentError,
    /unknown task "poems"/,
  );
});

test("withSharedVocab: one id space for both sides, each symbol once", () => {
  const t = withSharedVocab(datesTask());
  assert.equal(t.srcVocab, t.tgtVocab);
  const digits = datesTask().tgtVocab.symbols;
  assert.ok(digits.every((d) => t.srcVocab.symbols.includes(d)));
  assert.equal(new Set(t.srcVocab.symbols).size, t.srcVocab.symbols.length);
});
