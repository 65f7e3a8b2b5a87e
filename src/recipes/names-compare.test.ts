// The names task (framing, split, evaluation, sampling) and the comparison recipe on a tiny budget.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, zeros, type Tensor } from "../index.js";
import { evalLoss, frame, IGNORE, namesTask, sampleName } from "../data/tasks/names.js";
import { namesCompareRecipe } from "./names-compare.js";

const WORDS = [
  "Emma",
  "olivia",
  "Ava",
  "ava",
  "Isabella",
  "Sophia",
  "Mia",
  "Amelia",
  "Harper",
  "Evelyn",
  "Abigail",
  "Emily",
  "Ella",
  "Scarlett",
  "Grace",
  "Chloe",
  "Mary-Kate",
  "Lily",
  "Zoe",
  "Nora",
];

test("namesTask: lower-cased, de-duplicated, '.' is id 0, a seeded disjoint 90/10 split", () => {
  const task = namesTask(WORDS, { seed: 3 });
  assert.equal(task.tokenizer.chars[0], ".");
  assert.equal(task.tokenizer.chars.join(""), "." + [...new Set(WORDS.join("").toLowerCase())].sort().join(""));
  const all = [...task.train, ...task.val].map((n) => task.tokenizer.decode(n));
  assert.equal(all.length, 19, "Ava and ava are one name");
  assert.equal(new Set(all).size, 19);
  assert.equal(task.val.length, 2);
  assert.equal(task.maxLen, 9);
  assert.deepEqual(namesTask(WORDS, { seed: 3 }).val, task.val, "seeded");
  assert.notDeepEqual(
    namesTask(WORDS, { seed: 4 }).val.map((n) => [...n]),
    task.val.map((n) => [...n]),
  );
});

test("frame: inputs '.'-prefixed and padded with '.', targets end with '.' then IGNORE", () => {
  const { x, y } = frame([Int32Array.from([5, 6]), Int32Array.from([7, 8, 9, 4])]);
  assert.deepEqual(x.toArray(), [
    [0, 5, 6, 0, 0],
    [0, 7, 8, 9, 4],
  ]);
  assert.deepEqual(y.toArray(), [
    [5, 6, 0, IGNORE, IGNORE],
    [7, 8, 9, 4, 0],
  ]);
});

test("evalLoss: a model of constant logits scores ln V nats per character; sampling from it", () => {
  const task = namesTask(WORDS);
  const V = task.tokenizer.vocabSize;
  const uniform = (x: Tensor): Tensor => zeros([x.shape[0]!, x.shape[1]!, V]);
  assert.ok(Math.abs(evalLoss(uniform, task.train, 4) - Math.log(V)) < 1e-6);
  const s = sampleName(uniform, task, new Generator(1), { maxLen: 6 });
  assert.ok(s.length <= 6 && !s.includes("."));
});

test("names-compare runs all five models on the same batches and tabulates them", () => {
  const lines: string[] = [];
  const r = namesCompareRecipe.run(
    { steps: 2, batchSize: 4, lr: 1e-3, evalEvery: 2, seed: 0, samples: 2 },
    { words: WORDS },
    { log: (l) => lines.push(l) },
    new Generator(0),
  );
  const table = r.tables!["names-compare.md"]!.split("\n");
  assert.equal(table.length, 7);
  for (const name of ["Bengio MLP", "RNN", "LSTM", "GRU", "GPT (2 blocks)"])
    assert.ok(
      table.some((l) => l.startsWith(`| ${name} |`)),
      name,
    );
  for (const key of ["bengio", "rnn", "lstm", "gru", "gpt"]) {
    assert.ok(r.metrics[`${key}.valLoss`]! > 0 && r.metrics[`${key}.valLoss`]! < 5, key);
  }
  assert.equal(r.samples!.length, 10);
  const png = r.images!["val-loss.png"]!;
  assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
});
