// Cluttered digits: the digit is on the canvas whole, the clutter adds pixels only, seeded, checked input.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError, Generator } from "../index.js";
import { assertThrowsWith } from "../../test/harness/assert.js";
import { clutteredDigits } from "./cluttered-digits.js";

/** n "digits": digit i is a 28×28 block of value (i + 1)/(n + 1) in a 6×6 square at (11, 11), zero elsewhere. */
function blocks(n: number): { images: Float32Array; labels: Int32Array; count: number } {
  const images = new Float32Array(n * 784);
  for (let i = 0; i < n; i++)
    for (let y = 11; y < 17; y++) for (let x = 11; x < 17; x++) images[i * 784 + y * 28 + x] = (i + 1) / (n + 1);
  return { images, labels: Int32Array.from({ length: n }, (_, i) => i % 10), count: n };
}

test("each digit lies whole somewhere on its canvas; without clutter nothing else is drawn", () => {
  const d = blocks(5);
  const c = clutteredDigits(d, { side: 40, pieces: 0, generator: new Generator(1) });
  assert.equal(c.side, 40);
  assert.deepEqual([...c.labels], [...d.labels]);
  for (let i = 0; i < 5; i++) {
    const canvas = c.images.subarray(i * 1600, (i + 1) * 1600);
    const lit = [...canvas.keys()].filter((p) => canvas[p]! > 0);
    assert.equal(lit.length, 36, `canvas ${i}: the 6×6 square and nothing else`);
    assert.ok(lit.every((p) => canvas[p] === Math.fround((i + 1) / 6)));
  }
});

test("clutter adds pixels from other digits and never dims the digit; the same seed gives the same canvases", () => {
  const d = blocks(6);
  const clean = clutteredDigits(d, { side: 36, pieces: 0, generator: new Generator(2) });
  const a = clutteredDigits(d, { side: 36, pieces: 6, pieceSize: 8, generator: new Generator(2) });
  const b = clutteredDigits(d, { side: 36, pieces: 6, pieceSize: 8, generator: new Generator(2) });
  assert.deepEqual(a.images, b.images);
  let more = 0;
  for (let i = 0; i < 6; i++) {
    const own = Math.fround((i + 1) / 7);
    const canvas = a.images.subarray(i * 1296, (i + 1) * 1296);
    more += canvas.filter((v) => v > 0 && v !== own).length;
    // the digit's own value appears at least on its 36 pixels (the clutter may only brighten)
    assert.ok(canvas.filter((v) => v >= own).length >= 36);
  }
  assert.ok(more > 0, "some clutter from other digits shows");
  assert.notDeepEqual(a.images, clutteredDigits(d, { side: 36, pieces: 6, generator: new Generator(3) }).images);
  assert.equal(clean.images.filter((v) => v > 0).length, 6 * 36);
});

test("bad options are typed errors", () => {
  const d = blocks(2);
  assertThrowsWith(
    () => clutteredDigits(d, { side: 20, generator: new Generator(0) }),
    ArgumentError,
    /side must be an integer ≥ 28, got 20/,
  );
  assertThrowsWith(
    () => clutteredDigits(d, { side: 40, pieceSize: 29, generator: new Generator(0) }),
    ArgumentError,
    /pieceSize must be an integer in 1…28/,
  );
  assertThrowsWith(
    () => clutteredDigits({ ...d, count: 3 }, { side: 40, generator: new Generator(0) }),
    ArgumentError,
    /count·784 pixels/,
  );
});
