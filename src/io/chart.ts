// Two pictures every training run draws: a line chart (loss curves) and a grid of small images
// (MNIST digits, generated samples). They paint into an RGB canvas and encode it with png.ts.

import { ArgumentError } from "../engine/errors.js";
import { fmt } from "../engine/shape.js";
import { Tensor } from "../engine/tensor.js";
import { GLYPH_ADVANCE, GLYPH_HEIGHT, glyph, textWidth } from "./font.js";
import { encodePng, type PngOptions, type RasterImage } from "./png.js";

export type Rgb = readonly [number, number, number];

/** matplotlib's "tab10" colours, one per series. */
export const PALETTE: readonly Rgb[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
];
const WHITE: Rgb = [255, 255, 255],
  BLACK: Rgb = [0, 0, 0],
  GRID: Rgb = [225, 225, 225],
  FRAME: Rgb = [160, 160, 160];

/** An RGB image to paint on; drawing outside it is clipped. */
export class Canvas {
  readonly data: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = WHITE,
  ) {
    this.data = new Uint8Array(width * height * 3);
    this.rect(0, 0, width, height, background);
  }

  set(x: number, y: number, c: Rgb): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = 3 * (y * this.width + x);
    this.data[i] = c[0];
    this.data[i + 1] = c[1];
    this.data[i + 2] = c[2];
  }

  rect(x: number, y: number, w: number, h: number, c: Rgb): void {
    for (let j = y; j < y + h; j++) for (let i = x; i < x + w; i++) this.set(i, j, c);
  }

  /** A straight line (Bresenham) drawn with a square brush `thickness` pixels wide. */
  line(x0: number, y0: number, x1: number, y1: number, c: Rgb, thickness = 1): void {
    x0 = Math.round(x0);
    y0 = Math.round(y0);
    x1 = Math.round(x1);
    y1 = Math.round(y1);
    const dx = Math.abs(x1 - x0),
      dy = -Math.abs(y1 - y0);
    const sx = x0 < x1 ? 1 : -1,
      sy = y0 < y1 ? 1 : -1;
    const lo = -Math.floor((thickness - 1) / 2);
    let err = dx + dy;
    for (;;) {
      this.rect(x0 + lo, y0 + lo, thickness, thickness, c);
      if (x0 === x1 && y0 === y1) return;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x0 += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y0 += sy;
      }
    }
  }

  /** Text with its top-left corner at (x, y), in the 5×7 font magnified `scale` times. */
  text(x: number, y: number, text: string, c: Rgb, scale = 1): void {
    let cx = x;
    for (const ch of text) {
      glyph(ch).forEach((row, j) =>
        row.forEach((on, i) => {
          if (on) this.rect(cx + i * scale, y + j * scale, scale, scale, c);
        }),
      );
      cx += GLYPH_ADVANCE * scale;
    }
  }

  toImage(): RasterImage {
    return { width: this.width, height: this.height, channels: 3, data: this.data };
  }
}

// ---------------------------------------------------------------------------------------------------
// Line charts

export interface Series {
  name: string;
  /** [x, y] pairs; points with a non-finite coordinate break the line. */
  points: readonly (readonly [number, number])[];
  color?: Rgb;
}

export interface LineChartOptions {
  series: readonly Series[];
  width?: number;
  height?: number;
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** a y interval the axis must include (e.g. [0, 100] for percentages), besides the data */
  yRange?: readonly [number, number];
}

/** Tick positions at a "nice" step (1, 2 or 5 × 10^k) giving about `count` intervals over [lo, hi]. */
export function niceTicks(
  lo: number,
  hi: number,
  count = 5,
): { lo: number; hi: number; step: number; ticks: number[] } {
  if (!(hi > lo)) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const first = Math.floor(lo / step + 1e-9),
    last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let k = first; k <= last; k++) ticks.push(k * step);
  return { lo: first * step, hi: last * step, step, ticks };
}

/** A tick label with as many decimals as the step needs: 0.25, 1500, 2e-05 → "2e-5". */
export function formatTick(v: number, step: number): string {
  if (Math.abs(v) < step * 1e-6) return "0";
  if (Math.abs(v) >= 1e6 || step < 1e-4)
    return v
      .toExponential(Math.max(0, Math.round(-Math.log10(step / Math.abs(v)))))
      .replace(/\.?0+e/, "e")
      .replace("e+", "e");
  const decimals = Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
  return v.toFixed(decimals);
}

/** Draw loss curves (or any x–y series): axes, ticks with labels, light grid, legend, title. */
export function lineChart(opts: LineChartOptions): RasterImage {
  const width = opts.width ?? 800,
    height = opts.height ?? 500;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 120 || height < 80) {
    throw new ArgumentError(`lineChart: width and height must be integers of at least 120×80, got ${width}×${height}`);
  }
  const series = opts.series ?? [];
  let x0 = Infinity,
    x1 = -Infinity,
    y0 = Infinity,
    y1 = -Infinity;
  for (const s of series) {
    for (const [x, y] of s.points) {
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
  }
  if (x0 > x1) {
    x0 = 0;
    x1 = 1;
    y0 = 0;
    y1 = 1;
  } // nothing to draw: empty axes
  if (opts.yRange) {
    y0 = Math.min(y0, opts.yRange[0]);
    y1 = Math.max(y1, opts.yRange[1]);
  }
  const xt = niceTicks(x0, x1, Math.max(2, Math.floor(width / 110)));
  const yt = niceTicks(y0, y1, Math.max(2, Math.floor(height / 70)));
  const yLabels = yt.ticks.map((v) => formatTick(v, yt.step));
  const xLabels = xt.ticks.map((v) => formatTick(v, xt.step));

  // Layout: the plot area leaves room for the title, the y labels and the x labels.
  const S = 2; // font scale for the title; labels use scale 1
  const top = opts.title ? 12 + GLYPH_HEIGHT * S + 10 : 14;
  const left = 12 + (opts.yLabel ? GLYPH_HEIGHT + 8 : 0) + Math.max(...yLabels.map((l) => textWidth(l))) + 8;
  const bottom = 10 + GLYPH_HEIGHT + 8 + (opts.xLabel ? GLYPH_HEIGHT + 8 : 0);
  const right = 10 + Math.ceil(textWidth(xLabels[xLabels.length - 1]!) / 2);
  const pw = width - left - right,
    ph = height - top - bottom;
  if (pw < 20 || ph < 20) throw new ArgumentError(`lineChart: ${width}×${height} leaves no room for the plot`);
  const px = (x: number): number => left + ((x - xt.lo) / (xt.hi - xt.lo)) * pw;
  const py = (y: number): number => top + ph - ((y - yt.lo) / (yt.hi - yt.lo)) * ph;

  const c = new Canvas(width, height);
  // grid and tick labels
  yt.ticks.forEach((v, i) => {
    const y = Math.round(py(v));
    c.line(left, y, left + pw, y, GRID);
    c.line(left - 4, y, left, y, BLACK);
    c.text(left - 7 - textWidth(yLabels[i]!), y - 3, yLabels[i]!, BLACK);
  });
  xt.ticks.forEach((v, i) => {
    const x = Math.round(px(v));
    c.line(x, top, x, top + ph, GRID);
    c.line(x, top + ph, x, top + ph + 4, BLACK);
    c.text(x - Math.floor(textWidth(xLabels[i]!) / 2), top + ph + 8, xLabels[i]!, BLACK);
  });
  // axes
  c.line(left, top, left, top + ph, BLACK);
  c.line(left, top + ph, left + pw, top + ph, BLACK);
  if (opts.title) c.text(Math.round((width - textWidth(opts.title, S)) / 2), 12, opts.title, BLACK, S);
  if (opts.xLabel)
    c.text(left + Math.round((pw - textWidth(opts.xLabel)) / 2), height - 8 - GLYPH_HEIGHT, opts.xLabel, BLACK);
  if (opts.yLabel) verticalText(c, 10, top + Math.round((ph + textWidth(opts.yLabel)) / 2), opts.yLabel, BLACK);

  // the series, clipped to the plot area
  const plot = new Canvas(pw + 1, ph + 1);
  plot.data.set(cropRgb(c, left, top, pw + 1, ph + 1));
  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length]!;
    let prev: [number, number] | null = null;
    for (const [x, y] of s.points) {
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        prev = null;
        continue;
      }
      const p: [number, number] = [px(x) - left, py(y) - top];
      if (prev) plot.line(prev[0], prev[1], p[0], p[1], color, 2);
      else plot.rect(Math.round(p[0]), Math.round(p[1]), 2, 2, color);
      prev = p;
    }
  });
  pasteRgb(c, plot, left, top);
  c.line(left, top, left, top + ph, BLACK); // redraw the axes over the lines
  c.line(left, top + ph, left + pw, top + ph, BLACK);

  // legend, top right inside the plot
  if (series.length > 0) {
    const rowH = GLYPH_HEIGHT + 6;
    const w = 8 + 18 + 6 + Math.max(...series.map((s) => textWidth(s.name))) + 8;
    const h = 6 + series.length * rowH;
    const lx = left + pw - w - 8,
      ly = top + 8;
    c.rect(lx, ly, w, h, WHITE);
    c.line(lx, ly, lx + w, ly, FRAME);
    c.line(lx, ly + h, lx + w, ly + h, FRAME);
    c.line(lx, ly, lx, ly + h, FRAME);
    c.line(lx + w, ly, lx + w, ly + h, FRAME);
    series.forEach((s, k) => {
      const y = ly + 6 + k * rowH;
      c.line(lx + 8, y + 3, lx + 26, y + 3, s.color ?? PALETTE[k % PALETTE.length]!, 2);
      c.text(lx + 32, y, s.name, BLACK);
    });
  }
  return c.toImage();
}

export function lineChartPng(opts: LineChartOptions, png: PngOptions = {}): Uint8Array {
  return encodePng(lineChart(opts), png);
}

function verticalText(c: Canvas, x: number, yBottom: number, text: string, color: Rgb): void {
  // rotated 90° counter-clockwise: glyph column i becomes row −i
  let y = yBottom;
  for (const ch of text) {
    glyph(ch).forEach((row, j) =>
      row.forEach((on, i) => {
        if (on) c.set(x + j, y - i, color);
      }),
    );
    y -= GLYPH_ADVANCE;
  }
}

function cropRgb(c: Canvas, x: number, y: number, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let j = 0; j < h; j++)
    out.set(c.data.subarray(3 * ((y + j) * c.width + x), 3 * ((y + j) * c.width + x + w)), 3 * j * w);
  return out;
}

function pasteRgb(c: Canvas, src: Canvas, x: number, y: number): void {
  for (let j = 0; j < src.height; j++)
    c.data.set(src.data.subarray(3 * j * src.width, 3 * (j + 1) * src.width), 3 * ((y + j) * c.width + x));
}

// ---------------------------------------------------------------------------------------------------
// Image grids

export interface ImageGridOptions extends PngOptions {
  /** Pixels between images and around the grid. Default 2. */
  pad?: number;
  /** Magnify every pixel this many times. Default 1. */
  scale?: number;
  /** Values mapped to black and white for floating tensors. Default [0, 1]; outside is clipped. */
  range?: readonly [number, number];
  /** Gray level (0–255) of the padding. Default 0 (black), as torchvision's make_grid. */
  background?: number;
}

/**
 * Tile images into `rows` × `cols` cells, row by row. `images` is a tensor (N, H, W) or (N, C, H, W)
 * with C = 1 or 3, or a list of (H, W) / (C, H, W) tensors of one size. Floating values map from
 * `range` to 0–255; integer values are 0–255 already; bool is black/white.
 */
export function imageGrid(
  images: Tensor | readonly Tensor[],
  rows: number,
  cols: number,
  opts: ImageGridOptions = {},
): RasterImage {
  const list = images instanceof Tensor ? unstack(images) : [...images];
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1)
    throw new ArgumentError(`imageGrid: rows and cols must be positive integers, got ${rows} and ${cols}`);
  if (list.length > rows * cols)
    throw new ArgumentError(`imageGrid: ${list.length} images do not fit in ${rows}×${cols} cells`);
  if (list.length === 0) throw new ArgumentError("imageGrid: no images");
  const first = list[0]!;
  const shape = first.shape.length === 2 ? [1, ...first.shape] : [...first.shape];
  if (!(first instanceof Tensor) || shape.length !== 3 || (shape[0] !== 1 && shape[0] !== 3)) {
    throw new ArgumentError(
      `imageGrid: each image must be (H, W) or (C, H, W) with C = 1 or 3, got ${fmt(first.shape)}`,
    );
  }
  const [C, H, W] = shape as [number, number, number];
  for (const t of list) {
    const s = t.shape.length === 2 ? [1, ...t.shape] : t.shape;
    if (s.length !== 3 || s[0] !== C || s[1] !== H || s[2] !== W)
      throw new ArgumentError(`imageGrid: all images must have one shape; got ${fmt(first.shape)} and ${fmt(t.shape)}`);
  }
  const grid = new ImageGridWriter(rows, cols, [C, H, W], opts);
  list.forEach((t, n) => grid.draw(t.storage, 0, n, t.dtype));
  return grid.image;
}

/**
 * An image grid filled a batch at a time: the picture imageGrid makes of all the images, without holding them all
 * (a sampler's chunks are drawn into it as they come). Cells are filled row by row, as imageGrid fills them.
 */
export class ImageGridWriter {
  readonly image: RasterImage;
  private readonly shape: readonly [number, number, number];
  private readonly pad: number;
  private readonly scale: number;
  private readonly lo: number;
  private readonly hi: number;

  constructor(
    readonly rows: number,
    readonly cols: number,
    shape: readonly [number, number, number], // (C, H, W), C = 1 or 3
    opts: ImageGridOptions = {},
  ) {
    const [C, H, W] = shape;
    const pad = opts.pad ?? 2,
      scale = opts.scale ?? 1,
      [lo, hi] = opts.range ?? [0, 1];
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1)
      throw new ArgumentError(`imageGrid: rows and cols must be positive integers, got ${rows} and ${cols}`);
    if ((C !== 1 && C !== 3) || !Number.isInteger(H) || !Number.isInteger(W) || H < 1 || W < 1)
      throw new ArgumentError(`imageGrid: each image must be (C, H, W) with C = 1 or 3, got ${fmt(shape)}`);
    if (!Number.isInteger(pad) || pad < 0 || !Number.isInteger(scale) || scale < 1)
      throw new ArgumentError("imageGrid: pad must be an integer ≥ 0 and scale an integer ≥ 1");
    if (!(hi > lo)) throw new ArgumentError(`imageGrid: range [${lo}, ${hi}] is empty`);
    const width = cols * W * scale + (cols + 1) * pad,
      height = rows * H * scale + (rows + 1) * pad;
    this.image = {
      width,
      height,
      channels: C as 1 | 3,
      data: new Uint8Array(width * height * C).fill(opts.background ?? 0),
    };
    this.shape = [C, H, W];
    this.pad = pad;
    this.scale = scale;
    this.lo = lo;
    this.hi = hi;
  }

  /** The bytes of a grid's picture, before it is made. */
  static bytes(rows: number, cols: number, [C, H, W]: readonly number[], opts: ImageGridOptions = {}): number {
    const pad = opts.pad ?? 2,
      scale = opts.scale ?? 1;
    return (cols * W! * scale + (cols + 1) * pad) * (rows * H! * scale + (rows + 1) * pad) * C!;
  }

  /** Images (n, C, H, W) or (n, H, W) into cells first, first + 1, ... (row by row). */
  add(images: Tensor, first: number): void {
    const [C, H, W] = this.shape;
    const inner = images.shape.slice(1);
    const ok =
      inner.length === 3
        ? inner[0] === C && inner[1] === H && inner[2] === W
        : inner.length === 2 && C === 1 && inner[0] === H && inner[1] === W;
    if (!ok) throw new ArgumentError(`imageGrid: images ${fmt(images.shape)} do not fit cells of (${C}, ${H}, ${W})`);
    const n = images.shape[0]!;
    if (!Number.isInteger(first) || first < 0 || first + n > this.rows * this.cols)
      throw new ArgumentError(
        `imageGrid: images ${first} to ${first + n - 1} do not fit in ${this.rows}×${this.cols} cells`,
      );
    for (let k = 0; k < n; k++) this.draw(images.storage, k * C * H * W, first + k, images.dtype);
  }

  /** One image, C·H·W values of `values` from `offset`, into cell n. */
  draw(values: ArrayLike<number>, offset: number, n: number, dtype: string): void {
    const [C, H, W] = this.shape;
    const { pad, scale, lo, hi } = this,
      { width, data } = this.image;
    const cw = W * scale,
      ch = H * scale;
    const toByte = (v: number): number => {
      if (dtype === "bool") return v ? 255 : 0;
      if (dtype === "int32") return Math.min(255, Math.max(0, v));
      const u = (v - lo) / (hi - lo);
      return Number.isNaN(u) ? 0 : Math.round(Math.min(1, Math.max(0, u)) * 255);
    };
    const ox = pad + (n % this.cols) * (cw + pad),
      oy = pad + Math.floor(n / this.cols) * (ch + pad);
    for (let c = 0; c < C; c++) {
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const b = toByte(values[offset + (c * H + y) * W + x]!);
          for (let sy = 0; sy < scale; sy++) {
            for (let sx = 0; sx < scale; sx++) data[((oy + y * scale + sy) * width + ox + x * scale + sx) * C + c] = b;
          }
        }
      }
    }
  }
}

export function imageGridPng(
  images: Tensor | readonly Tensor[],
  rows: number,
  cols: number,
  opts: ImageGridOptions = {},
): Uint8Array {
  return encodePng(imageGrid(images, rows, cols, opts), opts);
}

/** (N, ...) → N tensors of shape (...), sharing nothing with the input. */
function unstack(t: Tensor): Tensor[] {
  if (t.ndim !== 3 && t.ndim !== 4)
    throw new ArgumentError(`imageGrid: a batch of images must be (N, H, W) or (N, C, H, W), got ${fmt(t.shape)}`);
  const inner = t.shape.slice(1);
  const size = inner.reduce((a, b) => a * b, 1);
  const out: Tensor[] = [];
  for (let n = 0; n < t.shape[0]!; n++) out.push(new Tensor(t.storage.slice(n * size, (n + 1) * size), inner));
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Heatmaps (attention weights: one row per output token, one column per input token)

export interface HeatmapOptions {
  /** rows × cols values; every row must have the same length */
  values: readonly (readonly number[])[];
  /** one label per row, written left of it */
  rowLabels?: readonly string[];
  /** one label per column, written vertically above it */
  colLabels?: readonly string[];
  title?: string;
  /** pixels per cell side (default 16) */
  cell?: number;
  /** the values mapped to the ends of the colour scale (default [0, 1]); outside is clipped */
  range?: readonly [number, number];
}

/** matplotlib's "viridis" at five stops, interpolated linearly between them. */
const VIRIDIS: readonly Rgb[] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

export function viridis(u: number): Rgb {
  const t = Math.min(1, Math.max(0, Number.isNaN(u) ? 0 : u)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(t)),
    f = t - i;
  const a = VIRIDIS[i]!,
    b = VIRIDIS[i + 1]!;
  return [0, 1, 2].map((c) => Math.round(a[c]! + f * (b[c]! - a[c]!))) as unknown as Rgb;
}

/** A matrix as coloured cells (viridis), with row and column labels and a colour bar. */
export function heatmap(opts: HeatmapOptions): RasterImage {
  const { values, rowLabels = [], colLabels = [], title } = opts;
  const cell = opts.cell ?? 16,
    [lo, hi] = opts.range ?? [0, 1];
  const rows = values.length,
    cols = values[0]?.length ?? 0;
  if (rows === 0 || cols === 0)
    throw new ArgumentError(`heatmap: values must be a non-empty matrix, got ${rows}×${cols}`);
  values.forEach((r, i) => {
    if (r.length !== cols) throw new ArgumentError(`heatmap: row ${i} has ${r.length} values, row 0 has ${cols}`);
  });
  if (rowLabels.length > rows || colLabels.length > cols)
    throw new ArgumentError(
      `heatmap: ${rowLabels.length} row and ${colLabels.length} column labels for a ${rows}×${cols} matrix`,
    );
  if (!Number.isInteger(cell) || cell < 2) throw new ArgumentError(`heatmap: cell must be an integer ≥ 2, got ${cell}`);
  if (!(hi > lo)) throw new ArgumentError(`heatmap: range [${lo}, ${hi}] is empty`);

  const S = 2; // title scale
  const labelW = Math.max(0, ...rowLabels.map((l) => textWidth(l)));
  // column labels of one character stand upright above their cells; longer ones are written vertically
  const upright = colLabels.every((l) => [...l].length <= 1) && cell >= GLYPH_ADVANCE;
  const labelH = upright ? (colLabels.length ? GLYPH_HEIGHT : 0) : Math.max(0, ...colLabels.map((l) => textWidth(l)));
  const left = 10 + labelW + 6,
    top = (title ? 12 + GLYPH_HEIGHT * S + 10 : 10) + labelH + 6;
  const barW = 12,
    barGap = 14,
    tickW = textWidth(formatTick(hi, (hi - lo) / 4)) + 8;
  const width = Math.max(left + cols * cell + barGap + barW + tickW + 10, title ? textWidth(title, S) + 24 : 0);
  const height = top + rows * cell + 10;
  const c = new Canvas(width, height);
  if (title) c.text(Math.round((width - textWidth(title, S)) / 2), 12, title, BLACK, S);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++)
      c.rect(left + j * cell, top + i * cell, cell, cell, viridis((values[i]![j]! - lo) / (hi - lo)));
  }
  rowLabels.forEach((l, i) =>
    c.text(left - 6 - textWidth(l), top + i * cell + Math.floor((cell - GLYPH_HEIGHT) / 2), l, BLACK),
  );
  colLabels.forEach((l, j) => {
    if (upright) c.text(left + j * cell + Math.floor((cell - textWidth(l)) / 2), top - 6 - GLYPH_HEIGHT, l, BLACK);
    else verticalText(c, left + j * cell + Math.floor((cell - GLYPH_HEIGHT) / 2), top - 6, l, BLACK);
  });
  // the colour bar, low at the bottom, with its ends labelled
  const bx = left + cols * cell + barGap,
    bh = rows * cell;
  for (let y = 0; y < bh; y++) c.rect(bx, top + y, barW, 1, viridis(1 - y / Math.max(1, bh - 1)));
  c.text(bx + barW + 4, top, formatTick(hi, (hi - lo) / 4), BLACK);
  c.text(bx + barW + 4, top + bh - GLYPH_HEIGHT, formatTick(lo, (hi - lo) / 4), BLACK);
  return c.toImage();
}

export function heatmapPng(opts: HeatmapOptions, png: PngOptions = {}): Uint8Array {
  return encodePng(heatmap(opts), png);
}
