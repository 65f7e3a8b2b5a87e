// The heatmap (attention pictures): cells in the right place and colour, labels around them, errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError } from "../index.js";
import { assertThrowsWith } from "../../test/harness/assert.js";
import { heatmap, heatmapPng, lineChart, PALETTE, viridis } from "./chart.js";

test("viridis runs from matplotlib's dark purple to its yellow, clipped outside [0, 1]", () => {
  assert.deepEqual(viridis(0), [68, 1, 84]);
  assert.deepEqual(viridis(1), [253, 231, 37]);
  assert.deepEqual(viridis(-3), viridis(0));
  assert.deepEqual(viridis(7), viridis(1));
  assert.deepEqual(viridis(NaN), viridis(0));
});

test("heatmap: each value paints its cell; the picture grows with the labels", () => {
  const values = [
    [0, 0.5, 1],
    [1, 0.25, 0],
  ];
  const cell = 10;
  const img = heatmap({ values, cell });
  const px = (x: number, y: number): number[] => [
    ...img.data.subarray(3 * (y * img.width + x), 3 * (y * img.width + x) + 3),
  ];
  // find the top-left cell: the first pixel of viridis(0) scanning rows
  const first = viridis(0);
  let x0 = -1,
    y0 = -1;
  for (let y = 0; y < img.height && x0 < 0; y++)
    for (let x = 0; x < img.width; x++)
      if (px(x, y).join() === first.join()) {
        x0 = x;
        y0 = y;
        break;
      }
  assert.ok(x0 >= 0, "the 0 cell is drawn");
  values.forEach((row, i) =>
    row.forEach((v, j) => {
      assert.deepEqual(px(x0 + j * cell + cell / 2, y0 + i * cell + cell / 2), [...viridis(v)], `cell ${i},${j}`);
    }),
  );
  const labelled = heatmap({ values, cell, rowLabels: ["long label", "b"], colLabels: ["x", "y", "zzzz"], title: "t" });
  assert.ok(labelled.width > img.width && labelled.height > img.height);
  const png = heatmapPng({ values, range: [0, 2] });
  assert.deepEqual([...png.subarray(1, 4)], [80, 78, 71]); // "PNG"
});

test("heatmap: errors name what is wrong", () => {
  assertThrowsWith(() => heatmap({ values: [] }), ArgumentError, /non-empty matrix, got 0×0/);
  assertThrowsWith(() => heatmap({ values: [[1, 2], [3]] }), ArgumentError, /row 1 has 1 values, row 0 has 2/);
  assertThrowsWith(
    () => heatmap({ values: [[1]], rowLabels: ["a", "b"] }),
    ArgumentError,
    /2 row and 0 column labels for a 1×1 matrix/,
  );
  assertThrowsWith(() => heatmap({ values: [[1]], range: [1, 1] }), ArgumentError, /range \[1, 1\] is empty/);
});

test("lineChart: yRange widens the axis to include it", () => {
  const narrow = lineChart({
    series: [
      {
        name: "a",
        points: [
          [0, 40],
          [1, 60],
        ],
      },
    ],
  });
  const wide = lineChart({
    series: [
      {
        name: "a",
        points: [
          [0, 40],
          [1, 60],
        ],
      },
    ],
    yRange: [0, 100],
  });
  // the line spans fewer rows when the axis runs 0…100 than when it runs 40…60
  const rowsWithLine = (img: ReturnType<typeof lineChart>): number => {
    let n = 0;
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < img.width; x++) {
        const i = 3 * (y * img.width + x);
        if (
          img.data[i] === PALETTE[0]![0] &&
          img.data[i + 1] === PALETTE[0]![1] &&
          img.data[i + 2] === PALETTE[0]![2]
        ) {
          n++;
          break;
        }
      }
    }
    return n;
  };
  assert.ok(rowsWithLine(wide) < rowsWithLine(narrow) / 2, `${rowsWithLine(wide)} vs ${rowsWithLine(narrow)}`);
});
