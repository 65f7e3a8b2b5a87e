// Cluttered digits: each 28×28 digit pasted at a random place of a larger black canvas, with pieces of
// other digits scattered around it as clutter — the "cluttered MNIST" of Mnih, Heess, Graves, Kavukcuoglu
// 2014 ("Recurrent Models of Visual Attention", https://arxiv.org/abs/1406.6247, §4.1), made here from the
// digits one has (the mnist package's), seeded. A harder task for image classifiers, where the digit's
// place is unknown and most of the canvas is distraction: where attention to places should pay.
// Browser-safe: arrays in, arrays out.
//
// Vocabulary: N images, S the canvas's side, 28 a digit's side, p a clutter piece's side.

import { ArgumentError } from "../engine/errors.js";
import { countedStorage, inMetaExecution } from "../engine/meta.js";
import type { Generator } from "../engine/rng.js";

/** Images of one side, flat: images (N·S·S) in [0, 1], labels (N). */
export interface ImageSplit {
  images: Float32Array;
  labels: Int32Array;
  count: number;
  /** the side S of every (square) image */
  side: number;
}

export interface ClutterOptions {
  /** the canvas's side S (≥ 28) */
  side: number;
  /** clutter pieces per canvas (default 4) */
  pieces?: number;
  /** the side p of a piece, cut at a random place of another random digit (default 8) */
  pieceSize?: number;
  /** the source of the places and pieces */
  generator: Generator;
}

const D = 28;

/**
 * Every digit of `digits` (N·784 pixels) on its own canvas of side S: first the clutter pieces, each a p×p
 * crop of another digit at a random place, then the digit at a random place; overlapping pixels keep the
 * brighter value (max), so the digit is never hidden.
 */
export function clutteredDigits(
  digits: { images: Float32Array; labels: Int32Array; count: number },
  opts: ClutterOptions,
): ImageSplit {
  const S = opts.side,
    pieces = opts.pieces ?? 4,
    p = opts.pieceSize ?? 8,
    g = opts.generator;
  const N = digits.count;
  if (!Number.isInteger(S) || S < D)
    throw new ArgumentError(`clutteredDigits: side must be an integer ≥ ${D}, got ${S}`);
  if (!Number.isInteger(pieces) || pieces < 0)
    throw new ArgumentError(`clutteredDigits: pieces must be an integer ≥ 0, got ${pieces}`);
  if (!Number.isInteger(p) || p < 1 || p > D)
    throw new ArgumentError(`clutteredDigits: pieceSize must be an integer in 1…${D}, got ${p}`);
  if (!(N >= 1) || digits.images.length !== N * D * D || digits.labels.length !== N) {
    throw new ArgumentError(
      `clutteredDigits: expected count·784 pixels and count labels, got ${digits.images.length} pixels and ${digits.labels.length} labels for count ${N}`,
    );
  }
  // a memory estimate runs this shape-only (src/engine/meta.ts): the canvases' bytes counted, none drawn
  if (inMetaExecution())
    return { images: countedStorage("float32", N * S * S) as Float32Array, labels: digits.labels, count: N, side: S };
  const images = new Float32Array(N * S * S); // (N, S, S)
  /** paste a (h, w) window of digit j, starting at (sy, sx) in it, at (ty, tx) of canvas i */
  const paste = (i: number, j: number, sy: number, sx: number, h: number, w: number, ty: number, tx: number): void => {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = digits.images[j * D * D + (sy + y) * D + sx + x]!;
        const at = i * S * S + (ty + y) * S + tx + x;
        if (v > images[at]!) images[at] = v;
      }
    }
  };
  for (let i = 0; i < N; i++) {
    for (let k = 0; k < pieces; k++) {
      const j = N > 1 ? (i + 1 + g.randint(0, N - 1)) % N : i; // another digit
      paste(
        i,
        j,
        g.randint(0, D - p + 1),
        g.randint(0, D - p + 1),
        p,
        p,
        g.randint(0, S - p + 1),
        g.randint(0, S - p + 1),
      );
    }
    paste(i, i, 0, 0, D, D, g.randint(0, S - D + 1), g.randint(0, S - D + 1));
  }
  return { images, labels: digits.labels.slice(), count: N, side: S };
}
