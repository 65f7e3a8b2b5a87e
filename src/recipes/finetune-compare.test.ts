// finetune-compare on seeded stand-in data at a tiny size: every method gets a row, the counts follow the methods,
// and the two tasks' inputs are built as documented (the answer characters alone carry targets).

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator } from "../engine/rng.js";
import { dateRow, decodeChars, emailWindows, encodeChars, finetuneCompareRecipe, DEFAULTS } from "./finetune-compare.js";

test("dateRow: the answer characters are the only targets, each the next character", () => {
  const r = dateRow("3 May 1999", "1999-05-03", 24);
  assert.equal(decodeChars(r.ids).slice(0, 22), "3 May 1999=1999-05-03\n");
  const targets = [...r.targets].map((t, i) => [i, t] as const).filter(([, t]) => t !== -100);
  assert.deepEqual(targets.map(([i]) => i), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]); // from "=" to the last digit
  assert.equal(decodeChars(targets.map(([, t]) => t)), "1999-05-03\n");
  assert.equal(decodeChars(encodeChars("é")), "?");
});

test("emailWindows: whitespace squeezed, the first n characters, left-padded", () => {
  const [a, b] = emailWindows([{ text: "Subject:  hi\n\nthere", label: 1 }, { text: "x".repeat(50), label: 0 }], 20);
  assert.equal(decodeChars(a!.ids), "   Subject: hi there");
  assert.equal(decodeChars(b!.ids), "x".repeat(20));
});

test("finetune-compare at a tiny size: a row per method, the rank sweep, the counts of each method", () => {
  const g = new Generator(1);
  const words = ["whale", "sea", "ship", "captain", "harpoon", "deck", "ahab", "white"];
  const text = Array.from({ length: 3000 }, () => words[g.randint(0, words.length)]).join(" ");
  const emails = Array.from({ length: 120 }, (_, i) => ({ text: i % 3 ? `Subject: Re: meeting ${i}` : `Subject: WIN MONEY NOW ${i}`, label: i % 3 ? 0 : 1 }));
  const o = { ...DEFAULTS, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 48, baseSteps: 2, steps: 2, batchSize: 2, emailChars: 20, testEmails: 10, testDates: 4, ranks: "1,2" };
  const res = finetuneCompareRecipe.run(o, { text, emails }, { log: () => {} }, g);
  const rows = res.tables!["finetune-compare"]!.split("\n").filter((l) => /^\| [a-z]/.test(l) && !l.startsWith("| method"));
  assert.deepEqual(rows.map((l) => l.split(" ")[1]), ["full", "lora", "adapter", "adapter-pfeiffer", "prefix", "prompt", "bitfit", "ia3"]);
  const m = res.metrics;
  const C = 16;
  assert.equal(m["lora.trainable"], 2 * (DEFAULTS.r * C + C * DEFAULTS.r)); // one block: wq and wv, A (r, C) + B (C, r) each
  assert.equal(m["prompt.trainable"], DEFAULTS.numVirtualTokens * C);
  assert.equal(m["ia3.trainable"], C + C + 4 * C);
  assert.equal(m["full.trainable"], m["base.params"]);
  for (const k of Object.keys(m).filter((k) => k.endsWith("Accuracy") || k.endsWith("ExactMatch"))) assert.ok(m[k]! >= 0 && m[k]! <= 1, k);
  assert.ok(res.tables!["lora-ranks"]!.includes("| 2 | "), "the rank sweep");
  assert.ok(res.images!["lora-ranks.png"]!.length > 100 && res.images!["dates-loss.png"]!.length > 100);
});
