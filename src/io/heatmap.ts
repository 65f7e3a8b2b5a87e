// A heatmap: a matrix of values in [0, 1] (attention weights) drawn as coloured cells, with a label beside
// every row and above every column (the tokens), as an RGB image or PNG bytes. Browser-safe.

import { ArgumentError } from "../engine/errors.js";
import { fmt } from "../engine/shape.js";
import { Tensor } from "../engine/tensor.js";
import { Canvas, type Rgb } from "./chart.js";
import { GLYPH_ADVANCE, GLYPH_HEIGHT, glyph, textWidth } from "./font.js";
import { encodePng, type PngOptions, type RasterImage } from "./png.js";

export interface HeatmapOptions extends PngOptions {
  /** a label left of each row (the queries) */
  rowLabels?: readonly string[];
  /** a label above each column (the keys), written vertically */
  colLabels?: readonly string[];
  /** a line above the map */
  title?: string;
  /** pixels per cell side (default 16) */
  cell?: number;
  /** values mapped to the two ends of the colour scale (default [0, 1]; outside is clipped) */
  range?: readonly [number, number];
}

/** White → dark blue through light blue: the colour of u ∈ [0, 1]. */
export function blues(u: number): Rgb {
  const stops: Rgb[] = [[255, 255, 255], [158, 202, 225], [33, 113, 181], [8, 48, 107]];
  const x = Math.min(1, Math.max(0, Number.isNaN(u) ? 0 : u)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x)), f = x - i;
  const a = stops[i]!, b = stops[i + 1]!;
  return [Math.round(a[0] + f * (b[0] - a[0])), Math.round(a[1] + f * (b[1] - a[1])), Math.round(a[2] + f * (b[2] - a[2]))];
}

/** values (R, C) → an image of R × C cells with their labels. */
export function heatmap(values: Tensor | readonly (readonly number[])[], opts: HeatmapOptions = {}): RasterImage {
  const rows = toRows(values);
  const R = rows.length, C = rows[0]?.length ?? 0;
  if (R === 0 || C === 0) throw new ArgumentError("heatmap: no values");
  if (rows.some((r) => r.length !== C)) throw new ArgumentError("heatmap: every row must have as many values as the first");
  const { rowLabels = [], colLabels = [], title = "", cell = 16, range = [0, 1] } = opts;
  if (rowLabels.length && rowLabels.length !== R) throw new ArgumentError(`heatmap: ${rowLabels.length} row labels for ${R} rows`);
  if (colLabels.length && colLabels.length !== C) throw new ArgumentError(`heatmap: ${colLabels.length} column labels for ${C} columns`);
  if (!(Number.isInteger(cell) && cell >= 2)) throw new ArgumentError(`heatmap: cell must be an integer ≥ 2, got ${cell}`);
  const [lo, hi] = range;
  if (!(hi > lo)) throw new ArgumentError(`heatmap: range [${lo}, ${hi}] is empty`);
  const pad = 6;
  const left = pad + Math.max(0, ...rowLabels.map((l) => textWidth(l))) + pad;
  const titleH = title ? GLYPH_HEIGHT + pad : 0;
  const top = pad + titleH + Math.max(0, ...colLabels.map((l) => textWidth(l))) + pad;
  const width = Math.max(left + C * cell + pad, pad + textWidth(title) + pad), height = top + R * cell + pad;
  const c = new Canvas(width, height);
  const ink: Rgb = [0, 0, 0];
  if (title) c.text(pad, pad, title, ink);
  for (let i = 0; i < R; i++) {
    if (rowLabels[i]) c.text(left - pad - textWidth(rowLabels[i]!), top + i * cell + Math.floor((cell - GLYPH_HEIGHT) / 2), rowLabels[i]!, ink);
    for (let j = 0; j < C; j++) c.rect(left + j * cell, top + i * cell, cell, cell, blues((rows[i]![j]! - lo) / (hi - lo)));
  }
  colLabels.forEach((label, j) => {
    // rotated 90° counter-clockwise, reading upwards, ending just above the column
    const x = left + j * cell + Math.floor((cell - GLYPH_HEIGHT) / 2);
    let y = top - pad;
    for (const ch of label) {
      glyph(ch).forEach((row, gy) => row.forEach((on, gx) => { if (on) c.set(x + gy, y - gx, ink); }));
      y -= GLYPH_ADVANCE;
    }
  });
  return c.toImage();
}

export function heatmapPng(values: Tensor | readonly (readonly number[])[], opts: HeatmapOptions = {}): Uint8Array {
  return encodePng(heatmap(values, opts), opts);
}

function toRows(values: Tensor | readonly (readonly number[])[]): number[][] {
  if (!(values instanceof Tensor)) return values.map((r) => [...r]);
  if (values.ndim !== 2) throw new ArgumentError(`heatmap: values must be a matrix (R, C), got ${fmt(values.shape)}`);
  const [R, C] = values.shape as [number, number];
  return Array.from({ length: R }, (_, i) => Array.from(values.storage.subarray(i * C, (i + 1) * C), Number));
}
