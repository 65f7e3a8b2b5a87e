// finetune-compare on seeded stand-in data at a tiny size: every method gets a row, the counts follow the methods,
// and the two tasks' inputs are built as documented (the answer characters alone carry targets).

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator } from "../engine/rng.js";
import { CharTokenizer } from "../data/char.js";
import { serializeCheckpoint } from "../io/checkpoint.js";
import { gptConfig } from "../models/gpt2/model.js";
import { GPTTrainer } from "../models/gpt2/train.js";
import { ArgumentError } from "../engine/errors.js";
import {
  Chars,
  dateAnswer,
  dateFormatsOf,
  dateRow,
  emailWindows,
  finetuneCompareRecipe,
  learningRates,
  DEFAULTS,
} from "./finetune-compare.js";

const ascii = Chars.ascii();

test("dateRow: the answer characters are the only targets, each the next character", () => {
  const r = dateRow("3 May 1999", "1999-05-03", 24, ascii);
  assert.equal(ascii.decode(r.ids).slice(0, 22), "3 May 1999=1999-05-03\n");
  const targets = [...r.targets].map((t, i) => [i, t] as const).filter(([, t]) => t !== -100);
  assert.deepEqual(
    targets.map(([i]) => i),
    [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
  ); // from "=" to the last digit
  assert.equal(ascii.decode(targets.map(([, t]) => t)), "1999-05-03\n");
  assert.equal(ascii.decode(ascii.encode("é")), "?");
});

test("Chars: a vocabulary without / and = (the book's) writes them as - and :, other strangers as ?", () => {
  const book = new Chars(CharTokenizer.fromText("call me ishmael? 0123456789-:\n"));
  const r = dateRow("3/5/1999", "1999-03-05", 24, book);
  assert.equal(book.decode(r.ids).slice(0, 20), "3-5-1999:1999-03-05\n");
  assert.equal(book.decode(book.encode("é=/")), "?:-");
  assert.throws(() => new Chars(CharTokenizer.fromText("abc")), /must hold/);
});

test("emailWindows: the subject's label dropped, whitespace squeezed, the first n − 1 characters, left-padded, then \\n", () => {
  const [a, b] = emailWindows(
    [
      { text: "Subject: hi\n\nthere", label: 1 },
      { text: "x".repeat(50), label: 0 },
    ],
    20,
    ascii,
  );
  assert.equal(ascii.decode(a!.ids), "           hi there\n");
  assert.equal(ascii.decode(b!.ids), "x".repeat(19) + "\n");
});

test("dateAnswer: the whole ISO date, its month or its year; anything else is a typed error", () => {
  assert.equal(dateAnswer("1998-03-07", "iso"), "1998-03-07");
  assert.equal(dateAnswer("1998-03-07", "month"), "03");
  assert.equal(dateAnswer("1998-03-07", "year"), "1998");
  assert.throws(
    () => dateAnswer("1998-03-07", "day" as never),
    (e) => e instanceof ArgumentError && /--date_answer must be iso, month or year/.test(e.message),
  );
});

test("dateFormatsOf and learningRates: templates of the dates task and lr overrides; unknown names are typed errors", () => {
  assert.deepEqual(
    dateFormatsOf("DD MMM YYYY").map((f) => f.template),
    ["DD MMM YYYY"],
  );
  assert.equal(dateFormatsOf("all").length, 18);
  assert.throws(
    () => dateFormatsOf("D MMM YYYY"),
    (e) => e instanceof ArgumentError && /unknown date format "D MMM YYYY"/.test(e.message),
  );
  const lrs = learningRates("full=3e-4, lora=0.01");
  assert.equal(lrs.full, 3e-4);
  assert.equal(lrs.lora, 0.01);
  assert.equal(lrs.prompt, learningRates("").prompt);
  for (const bad of ["fulll=1e-3", "full=0", "full", "full=x"])
    assert.throws(
      () => learningRates(bad),
      (e) => e instanceof ArgumentError && /--lrs/.test(e.message),
      bad,
    );
});

test("finetune-compare at a tiny size: a row per method, the rank sweep, the counts of each method", () => {
  const g = new Generator(1);
  const words = ["whale", "sea", "ship", "captain", "harpoon", "deck", "ahab", "white"];
  const text = Array.from({ length: 3000 }, () => words[g.randint(0, words.length)]).join(" ");
  const emails = Array.from({ length: 120 }, (_, i) => ({
    text: i % 3 ? `Subject: Re: meeting ${i}` : `Subject: WIN MONEY NOW ${i}`,
    label: i % 3 ? 0 : 1,
  }));
  const o = {
    ...DEFAULTS,
    nLayer: 1,
    nHead: 2,
    nEmbd: 16,
    blockSize: 56,
    baseSteps: 2,
    steps: 2,
    batchSize: 2,
    emailChars: 20,
    testEmails: 10,
    testDates: 4,
    ranks: "1,2,4",
    modulesToSave: "tokEmb",
  };
  const res = finetuneCompareRecipe.run(
    o,
    { text, emails },
    { log: () => {}, cpuTime: () => performance.now() / 1000 },
    g,
  );
  const rows = res
    .tables!["finetune-compare"]!.split("\n")
    .filter((l) => /^\| [a-z]/.test(l) && !l.startsWith("| method"));
  const small = ["lora", "adapter", "adapter-pfeiffer", "prefix", "prompt", "bitfit", "ia3"];
  assert.deepEqual(
    rows.map((l) => l.split(" (lr")[0]!.slice(2)),
    ["full", ...small, ...small.map((x) => `${x} + tokEmb`)],
  );
  const m = res.metrics;
  const C = 16;
  // the rows with the modules to save: the method's parameters plus the token embedding (V, C), tied to the head
  for (const x of small) assert.equal(m[`${x}.saved.trainable`], m[`${x}.trainable`]! + ascii.size * C, x);
  assert.equal(m["lora.trainable"], 2 * (DEFAULTS.r * C + C * DEFAULTS.r)); // one block: wq and wv, A (r, C) + B (C, r) each
  assert.equal(m["prompt.trainable"], DEFAULTS.numVirtualTokens * C);
  assert.equal(m["ia3.trainable"], C + C + 4 * C);
  assert.equal(m["full.trainable"], m["base.params"]);
  for (const k of Object.keys(m).filter((k) => k.endsWith("Accuracy") || k.endsWith("ExactMatch")))
    assert.ok(m[k]! >= 0 && m[k]! <= 1, k);
  assert.ok(res.tables!["lora-ranks"]!.includes("| 2 | "), "the rank sweep");
  assert.equal(
    m["lora.r4.datesTestLoss"],
    m["lora.datesTestLoss"],
    "the sweep reuses the table's LoRA run at its rank",
  );
  // peak step memory: at least the weights, a gradient and two moments per trainable parameter, plus activations
  for (const method of ["full", "lora", "prompt", "bitfit"]) {
    const floor = 4 * m["base.params"]! + 12 * m[`${method}.trainable`]!;
    assert.ok(
      m[`${method}.peakBytes`]! > floor,
      `${method}: peak ${m[`${method}.peakBytes`]} bytes, weights + grads + moments alone ${floor}`,
    );
  }
  assert.ok(m["full.peakBytes"]! > m["lora.peakBytes"]!, "full fine-tuning's step holds more than LoRA's");
  for (const method of ["full", "lora", "prompt"])
    assert.ok(Number.isFinite(m[`${method}.cpuMsPerStep`]), `${method}: CPU time per step`);
  assert.ok(res.images!["lora-ranks.png"]!.length > 100 && res.images!["dates-loss.png"]!.length > 100);
});

test("finetune-compare on a wnn train gpt checkpoint: the run's weights and vocabulary are the base", () => {
  const g = new Generator(2);
  const text = "call me ishmael. some years ago - never mind how long precisely: 0123456789? ".repeat(200) + "\n";
  const tok = CharTokenizer.fromText(text);
  const cfg = gptConfig("tiny", { vocabSize: tok.vocabSize, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 56 });
  const ids = Int32Array.from(tok.encode(text));
  const trainer = new GPTTrainer(
    cfg,
    {
      batchSize: 2,
      lr: 1e-3,
      minLr: 1e-4,
      warmupIters: 1,
      lrDecayIters: 10,
      iters: 10,
      evalInterval: 100,
      evalIters: 1,
      weightDecay: 0.1,
      beta1: 0.9,
      beta2: 0.99,
      gradClip: 1,
      seed: 1,
    },
    { train: ids, val: ids },
  );
  const checkpoint = serializeCheckpoint(
    trainer.checkpoint({ dataset: "moby-dick", split: 0.9, tokenizer: tok.toJSON() }),
  );
  const emails = Array.from({ length: 120 }, (_, i) => ({
    text: i % 3 ? `Subject: Re: meeting ${i}` : `Subject: WIN MONEY NOW ${i}`,
    label: i % 3 ? 0 : 1,
  }));
  const o = {
    ...DEFAULTS,
    base: "run",
    steps: 1,
    batchSize: 2,
    emailChars: 20,
    testEmails: 10,
    testDates: 4,
    ranks: "",
    methods: "lora,prefix",
    modulesToSave: "none",
  };
  const res = finetuneCompareRecipe.run(o, { text, emails, checkpoint }, { log: () => {} }, g);
  assert.equal(res.metrics["base.params"], trainer.model.numParameters());
  assert.equal(res.metrics["lora.trainable"], 2 * (DEFAULTS.r * 16 + 16 * DEFAULTS.r));
  assert.ok(Number.isNaN(res.metrics["lora.cpuMsPerStep"]!), "no CPU clock given: NaN, not a made-up figure");
  assert.throws(() => finetuneCompareRecipe.run(o, { text, emails }, { log: () => {} }, g), /no checkpoint was read/);
  assert.throws(
    () => finetuneCompareRecipe.run({ ...o, modulesToSave: "wte" }, { text, emails, checkpoint }, { log: () => {} }, g),
    (e) => e instanceof ArgumentError && /"wte" names no module .*tokEmb/.test(e.message),
  );
});
