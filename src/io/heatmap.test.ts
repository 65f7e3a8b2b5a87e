import { test } from "node:test";
import assert from "node:assert/strict";
import { tensor } from "../engine/creation.js";
import { ArgumentError } from "../engine/errors.js";
import { assertThrowsWith } from "../../test/harness/assert.js";
import { blues, heatmap, heatmapPng } from "./heatmap.js";

test("heatmap: one coloured cell per value, white at 0, dark blue at 1, labels beside", () => {
  assert.deepEqual(blues(0), [255, 255, 255]);
  assert.deepEqual(blues(1), [8, 48, 107]);
  assert.deepEqual(blues(2), blues(1));
  const img = heatmap([[0, 1], [0.5, 0.25]], { cell: 4 });
  // no labels: pad 6 + pad 6 on the left and top
  const px = (x: number, y: number): number[] => Array.from(img.data.subarray(3 * (y * img.width + x), 3 * (y * img.width + x) + 3));
  assert.deepEqual([img.width, img.height], [12 + 8 + 6, 12 + 8 + 6]);
  assert.deepEqual(px(13, 13), [255, 255, 255]);
  assert.deepEqual(px(17, 13), [8, 48, 107]);
  assert.deepEqual(px(13, 17), [...blues(0.5)]);
  const labelled = heatmap(tensor([[0.2, 0.8, 0]]), { rowLabels: ["q"], colLabels: ["a", "bb", "c"], title: "attention" });
  assert.ok(labelled.width > 3 * 16 && labelled.height > 16);
  const png = heatmapPng([[0.1]]);
  assert.deepEqual(Array.from(png.subarray(1, 4)), [80, 78, 71]); // "PNG"
  assertThrowsWith(() => heatmap([[0, 1], [1]]), ArgumentError, /every row must have as many values/);
  assertThrowsWith(() => heatmap([[0]], { rowLabels: ["a", "b"] }), ArgumentError, /2 row labels for 1 rows/);
  assertThrowsWith(() => heatmap(tensor([1, 2])), ArgumentError, /must be a matrix \(R, C\), got \(2\)/);
});
