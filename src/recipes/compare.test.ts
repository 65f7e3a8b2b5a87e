// trainOnTask on each shared task with a tiny budget and tiny data: it runs, reports the task's metric, and
// the same seed gives the same result (the CLI's side-by-side table rests on that). The architecture table.

import { strict as assert } from "node:assert";
import { test } from "node:test";
import { architectureTable, markdownTable, trainOnTask, TASKS } from "./compare.js";
import { findModel } from "../models/zoo.js";
import type { RecipeData } from "./recipe.js";

const WORDS = [
  "emma",
  "olivia",
  "ava",
  "isabella",
  "sophia",
  "mia",
  "amelia",
  "harper",
  "evelyn",
  "abigail",
  "emily",
  "ella",
  "scarlett",
  "grace",
  "chloe",
  "lily",
  "zoe",
  "nora",
  "anna",
  "lea",
];

/** 40 fake digits: label k has a bright 4×4 square at a place of its own. */
function digits(n: number): NonNullable<RecipeData["mnist"]>["train"] {
  const images = new Float32Array(n * 784),
    labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = (labels[i] = i % 10);
    const r0 = 2 + 6 * Math.floor(k / 4),
      c0 = 2 + 6 * (k % 4);
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) images[i * 784 + (r0 + r) * 28 + c0 + c] = 1;
  }
  return { images, labels, count: n };
}

const quiet = { log: () => {} };

test("trainOnTask: names, mnist, graphs and dates with a tiny budget, reproducible from the seed", () => {
  const data: RecipeData = { words: WORDS, mnist: { train: digits(40), test: digits(20) } };
  const cases = [
    ["bengio-mlp", 3, 4],
    ["char-rnn:gru", 3, 4],
    ["lenet5", 2, 8],
    ["mlp", 2, 8],
    ["gcn", 3, 1],
    ["bahdanau", 1, 2],
    ["convs2s", 1, 2],
    ["transformer", 1, 2],
  ] as const;
  for (const [spec, steps, batchSize] of cases) {
    const entry = findModel(spec);
    const a = trainOnTask(entry, { steps, batchSize, seed: 5, testLimit: 10 }, data, quiet);
    const b = trainOnTask(entry, { steps, batchSize, seed: 5, testLimit: 10 }, data, quiet);
    assert.equal(a.task, entry.preset.train!.task);
    // (the names models are built for the task's vocabulary: these 20 names have fewer letters than the preset's 28;
    // the Transformer for the dates' shared vocabulary)
    if (a.task !== "names" && spec !== "transformer")
      assert.equal(a.parameters, entry.preset.describe().parameters, `${spec}: the model trained is the one described`);
    assert.equal(a.steps, steps);
    assert.ok(Number.isFinite(a.metric), `${spec}: ${TASKS[a.task].metric} ${a.metric}`);
    assert.equal(b.metric, a.metric, `${spec}: the same seed, the same ${TASKS[a.task].metric}`);
    if (a.task !== "names") assert.ok(a.metric >= 0 && a.metric <= 100);
  }
  assert.throws(
    () => trainOnTask(findModel("lenet5:lenet5-32"), { steps: 1, batchSize: 1, seed: 0 }, data, quiet),
    /lenet5:lenet5-32 has no shared task/,
  );
  assert.throws(
    () => trainOnTask(findModel("lstm"), { steps: 1, batchSize: 1, seed: 0 }, {}, quiet),
    /the names task needs data.words/,
  );
  assert.throws(
    () => trainOnTask(findModel("lstm"), { steps: 0, batchSize: 1, seed: 0 }, data, quiet),
    /steps must be a positive integer/,
  );
});

test("markdownTable pads its columns and escapes pipes; architectureTable has one column per model", () => {
  assert.equal(markdownTable(["", "a|b"], [["x", "1"]]), "|     | a\\|b |\n|-----|------|\n| x   | 1    |");
  const t = architectureTable([findModel("gcn"), findModel("gat")]).split("\n");
  assert.equal(t.length, 2 + 9);
  assert.match(t[0]!, /^\| +\| gcn:sbm +\| gat:sbm +\|$/);
  const width = (l: string): number => [...l.replace(/\p{M}/gu, "")].length; // combining marks (D̃) take no column
  assert.ok(
    t.every((l) => width(l) === width(t[0]!)),
    "every line as wide as the header",
  );
});
