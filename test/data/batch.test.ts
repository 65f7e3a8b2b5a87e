// Splits and nanoGPT-style batches.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ArgumentError, Generator, data, tensor } from "../../src/index.js";

const { getBatch, randomSplit, shuffle, trainValSplit } = data;

/** 0, 1, ..., n−1: each token is its own position, so a window shows where it was cut. */
const positions = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

test("trainValSplit keeps order: the first ⌊fraction·n⌋ items train, the rest validate", () => {
  const { train, val } = trainValSplit(positions(10));
  assert.deepEqual([...train], [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual([...val], [9]);
  const s = trainValSplit("abcdefg", 0.9); // int(0.9 * 7) = int(6.3) = 6
  assert.deepEqual(s, { train: "abcdef", val: "g" });
  assert.deepEqual(trainValSplit([1, 2, 3, 4], 0.5), { train: [1, 2], val: [3, 4] });
  assert.deepEqual(trainValSplit([1, 2], 0), { train: [], val: [1, 2] });
  assert.throws(() => trainValSplit([1], 1.5), ArgumentError);
  assert.throws(() => trainValSplit([1], NaN), ArgumentError);
});

test("randomSplit is a seeded permutation cut at ⌊fraction·n⌋", () => {
  const items = Array.from({ length: 100 }, (_, i) => `name${i}`);
  const a = randomSplit(items, 0.8, 7);
  assert.equal(a.train.length, 80);
  assert.equal(a.val.length, 20);
  assert.deepEqual([...a.train, ...a.val].sort(), [...items].sort()); // every item exactly once
  assert.deepEqual(randomSplit(items, 0.8, 7), a); // same seed, same split
  assert.deepEqual(randomSplit(items, 0.8, new Generator(7)), a); // a seed and a fresh Generator agree
  assert.notDeepEqual(randomSplit(items, 0.8, 8).train, a.train);
  assert.notDeepEqual(a.train, items.slice(0, 80)); // it did shuffle
  assert.deepEqual(items[0], "name0"); // the input is untouched
});

test("shuffle draws j uniformly from [0, i] (Fisher–Yates): every position is reached", () => {
  const gen = new Generator(3);
  const firstCounts = [0, 0, 0, 0];
  for (let k = 0; k < 4000; k++) firstCounts[shuffle([0, 1, 2, 3], gen)[0]!]!++;
  for (const c of firstCounts)
    assert.ok(Math.abs(c - 1000) < 150, `first-position counts ${firstCounts} are not uniform`);
});

test("getBatch: (B, T) int32 windows, y is x shifted by one", () => {
  const tokens = positions(50);
  const { x, y } = getBatch(tokens, 8, 4, new Generator(0));
  assert.deepEqual(x.shape, [4, 8]);
  assert.deepEqual(y.shape, [4, 8]);
  assert.equal(x.dtype, "int32");
  assert.equal(y.dtype, "int32");
  const xs = x.toArray() as number[][],
    ys = y.toArray() as number[][];
  for (let b = 0; b < 4; b++) {
    for (let t = 0; t < 8; t++) {
      assert.equal(xs[b]![t], xs[b]![0]! + t); // a contiguous window
      assert.equal(ys[b]![t], xs[b]![t]! + 1); // the next token
    }
  }
});

test("getBatch draws offsets uniformly from [0, len − T) with the given generator", () => {
  const T = 5,
    n = T + 3; // offsets 0, 1, 2 are possible; 3 would make y run past the end
  const seen = new Set<number>();
  const gen = new Generator(11);
  for (let k = 0; k < 300; k++) {
    const { x, y } = getBatch(positions(n), T, 1, gen);
    seen.add(x.storage[0]!);
    assert.ok(y.storage[T - 1]! <= n - 1);
  }
  assert.deepEqual([...seen].sort(), [0, 1, 2]);
  // the offsets are the generator's randint(0, len − T) draws, in batch order
  const g1 = new Generator(5),
    g2 = new Generator(5);
  const { x } = getBatch(positions(1000), 16, 6, g1);
  const expected = Array.from({ length: 6 }, () => g2.randint(0, 1000 - 16));
  assert.deepEqual(
    (x.toArray() as number[][]).map((row) => row[0]),
    expected,
  );
});

test("getBatch resumes the same batch sequence from a saved generator state", () => {
  const tokens = positions(500);
  const gen = new Generator(42);
  for (let k = 0; k < 3; k++) getBatch(tokens, 10, 4, gen);
  const state = JSON.parse(JSON.stringify(gen.getState())); // as a checkpoint would store it
  const cont = [getBatch(tokens, 10, 4, gen), getBatch(tokens, 10, 4, gen)];
  const resumed = new Generator(0).setState(state);
  const again = [getBatch(tokens, 10, 4, resumed), getBatch(tokens, 10, 4, resumed)];
  for (let k = 0; k < 2; k++) {
    assert.deepEqual(again[k]!.x.toArray(), cont[k]!.x.toArray());
    assert.deepEqual(again[k]!.y.toArray(), cont[k]!.y.toArray());
  }
  // and a fresh generator with the same seed gives the same first batch
  assert.deepEqual(
    getBatch(tokens, 10, 4, new Generator(42)).x.toArray(),
    getBatch(tokens, 10, 4, new Generator(42)).x.toArray(),
  );
});

test("getBatch takes a 1-d int32 tensor and rejects what it cannot sample", () => {
  const t = tensor(positions(20));
  assert.deepEqual(getBatch(t, 4, 2, new Generator(0)).x.shape, [2, 4]);
  assert.throws(
    () => getBatch(positions(8), 8, 2),
    (e: Error) => e instanceof ArgumentError && /8 tokens are too few for blocks of 8/.test(e.message),
  );
  assert.throws(
    () => getBatch(tensor([1, 2, 3, 4, 5]), 2, 1),
    (e: Error) => e instanceof ArgumentError && /1-d int32 tensor/.test(e.message),
  );
  assert.throws(() => getBatch(positions(20), 0, 1), ArgumentError);
  assert.deepEqual(getBatch(positions(20), 4, 0).x.shape, [0, 4]);
});

test("stratifiedSplit keeps every class's share, is seeded, and mixes the classes", () => {
  const items = Array.from({ length: 103 }, (_, i) => ({ i, label: i % 10 < 3 ? "spam" : "ham" })); // 33 spam, 70 ham
  const s = data.stratifiedSplit(items, (x) => x.label, 0.8, 3);
  assert.equal(s.train.filter((x) => x.label === "spam").length, Math.floor(0.8 * 33));
  assert.equal(s.train.filter((x) => x.label === "ham").length, Math.floor(0.8 * 70));
  assert.deepEqual(
    [...s.train, ...s.val].map((x) => x.i).sort((a, b) => a - b),
    items.map((x) => x.i),
  ); // each item once
  assert.deepEqual(
    data.stratifiedSplit(items, (x) => x.label, 0.8, 3),
    s,
  );
  assert.notDeepEqual(data.stratifiedSplit(items, (x) => x.label, 0.8, 4).train, s.train);
  assert.ok(
    s.train.slice(0, 20).some((x) => x.label === "spam") && s.train.slice(0, 20).some((x) => x.label === "ham"),
    "classes mixed",
  );
  assert.throws(() => data.stratifiedSplit(items, (x) => x.label, 2), ArgumentError);
});
