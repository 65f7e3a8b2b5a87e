// The MNIST recipes' shared helpers: splits, batches, the seeded order, evaluation, the map pictures.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError, Generator, tensor, type Tensor } from "../index.js";
import * as F from "../nn/functional.js";
import { Module } from "../nn/module.js";
import { assertThrowsWith } from "../../test/harness/assert.js";
import { evaluate, mapsPng, mnistBatch, permutation, scaleMaps, takeSplit } from "./mnist.js";

/** n images whose pixel 0 holds a class c/10 and whose other pixels hold the image's index; labels = c except every 3rd. */
function coded(n: number): { images: Float32Array; labels: Int32Array; count: number } {
  const images = new Float32Array(n * 784),
    labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 10;
    images.fill(i, i * 784 + 1, (i + 1) * 784);
    images[i * 784] = c / 10;
    labels[i] = i % 3 === 0 ? (c + 1) % 10 : c;
  }
  return { images, labels, count: n };
}

/** Reads the class from pixel 0: logits (B, 10) with 3 at that class and 0 elsewhere. */
class PixelReader extends Module {
  forward(x: Tensor): Tensor {
    const B = x.shape[0]!;
    const out = new Float32Array(B * 10);
    for (let b = 0; b < B; b++) out[b * 10 + Math.round(x.storage[b * 784]! * 10)] = 3;
    return tensor(out, { shape: [B, 10] });
  }
}

test("mnistBatch takes the images and labels in the given order", () => {
  const split = coded(7);
  const { x, y } = mnistBatch(split, [5, 2, 6], 1, 4); // order[1…] = 2, 6 (the batch is cut at the end)
  assert.deepEqual([...x.shape], [2, 1, 28, 28]);
  assert.deepEqual([x.storage[1], x.storage[784 + 1]], [2, 6]);
  assert.deepEqual([...y.storage], [split.labels[2], split.labels[6]]);
  assert.equal(y.dtype, "int32");
});

test("permutation is a seeded permutation", () => {
  const p = permutation(50, new Generator(1));
  assert.deepEqual(
    [...p].sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.deepEqual(p, permutation(50, new Generator(1)));
  assert.notDeepEqual(p, permutation(50, new Generator(2)));
});

test("evaluate: accuracy and mean cross-entropy over the split, in batches, in eval mode", () => {
  const split = coded(25);
  const model = new PixelReader();
  const r = evaluate(model, split, 10); // batches of 10, 10, 5
  const wrong = Array.from({ length: 25 }, (_, i) => i).filter((i) => i % 3 === 0).length; // 9
  assert.equal(r.accuracy, (25 - wrong) / 25);
  const all = mnistBatch(
    split,
    Array.from({ length: 25 }, (_, i) => i),
    0,
    25,
  );
  assert.ok(Math.abs(r.loss - F.crossEntropy(model.forward(all.x), all.y).item()) < 1e-6);
  assert.equal(model.training, true, "the mode is restored");
});

test("takeSplit keeps the first digits and checks the arrays", () => {
  const split = coded(10);
  const t = takeSplit(split, 4, "train");
  assert.equal(t.count, 4);
  assert.equal(t.images.length, 4 * 784);
  assert.deepEqual([...t.labels], [...split.labels.subarray(0, 4)]);
  assert.equal(takeSplit(split, 0, "train").count, 10);
  assert.equal(takeSplit(split, 99, "train").count, 10);
  assertThrowsWith(
    () => takeSplit({ ...split, count: 11 }, 0, "test"),
    ArgumentError,
    /the test split must hold count·784 pixels and count labels/,
  );
  assertThrowsWith(
    () => takeSplit(split, 1.5, "train"),
    ArgumentError,
    /the train limit must be an integer ≥ 0, got 1.5/,
  );
});

test("mapsPng scales each map on its own: signed maps around grey, positive maps from black", () => {
  const maps = tensor([
    [
      [-2, 0],
      [1, 4],
    ],
    [
      [0, 0.5],
      [0.25, -1],
    ],
    [
      [0, 0],
      [0, 0],
    ],
  ]); // (3, 2, 2)
  assert.deepEqual(
    [...scaleMaps(maps, "signed").storage],
    [0.25, 0.5, 0.625, 1, 0.5, 0.75, 0.625, 0, 0.5, 0.5, 0.5, 0.5],
  );
  assert.deepEqual([...scaleMaps(maps, "positive").storage], [0, 0, 0.25, 1, 0, 1, 0.5, 0, 0, 0, 0, 0]);
  const png = mapsPng(maps.narrow(0, 0, 2), 2, 1, "signed");
  assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
  // a 1-row grid of 2 maps of 2×2 with 3-pixel gaps: 3 + 2 + 3 + 2 + 3 = 13 wide, 3 + 2 + 3 = 8 high
  const ihdr = new DataView(png.buffer, png.byteOffset + 16, 8);
  assert.deepEqual([ihdr.getUint32(0), ihdr.getUint32(4)], [13, 8]);
});
