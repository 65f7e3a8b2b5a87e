// Row-wise nn kernels of the wasm backend (./assembly/nn.ts), float32 with the normalised or reduced
// dim last (layerNorm and rmsNorm always; softmax, logSoftmax and cross-entropy when inner = 1, i.e. the class dim
// is the last one). Operands are copied into the arena and results out, unless they already live in wasm memory (arena.ts). Everything else runs the
// reference kernel.

import type { FloatArr, NnKernels } from "../backend.js";
import { nn as reference } from "../reference/nn.js";
import { Frame } from "./arena.js";

const isF32 = (...xs: (FloatArr | Int32Array | null)[]): boolean =>
  xs.every((x) => x === null || x instanceof Float32Array);

const F = (x: FloatArr | null): Float32Array => x as Float32Array;

/** softmax-like kernel over (rows, cols): one input, one output. */
function rowwise(
  run: (fr: Frame, x: number, y: number, rows: number, cols: number) => void,
  x: Float32Array,
  y: Float32Array,
  rows: number,
  cols: number,
): void {
  const n = rows * cols;
  if (n === 0) return;
  const fr = new Frame();
  const xo = fr.in(x, n),
    yo = fr.out(y, n);
  fr.commit();
  run(fr, xo, yo, rows, cols);
  fr.finish();
}

/** softmax-backward-like kernel over (rows, cols): y and dy in, dx out. */
function rowwiseBackward(
  run: (fr: Frame, y: number, dy: number, dx: number, rows: number, cols: number) => void,
  y: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  rows: number,
  cols: number,
): void {
  const n = rows * cols;
  if (n === 0) return;
  const fr = new Frame();
  const yo = fr.in(y, n),
    dyo = fr.in(dy, n),
    dxo = fr.out(dx, n);
  fr.commit();
  run(fr, yo, dyo, dxo, rows, cols);
  fr.finish();
}

export const nn: Partial<NnKernels> = {
  layerNorm(x, w, b, y, mean, rstd, rows, cols, eps) {
    if (!isF32(x, w, b, y, mean, rstd) || rows * cols === 0) {
      reference.layerNorm(x, w, b, y, mean, rstd, rows, cols, eps);
      return;
    }
    const n = rows * cols;
    const fr = new Frame();
    const xo = fr.in(F(x), n),
      wo = fr.inOr(F(w), cols, 1),
      bo = fr.inOr(F(b), cols, 0);
    const yo = fr.out(F(y), n),
      mo = fr.out(F(mean), rows),
      ro = fr.out(F(rstd), rows);
    fr.commit();
    // y = (x − μ)·rstd·w + b
    fr.exports.layerNormF32(xo, wo, bo, yo, mo, ro, rows, cols, eps);
    fr.finish();
  },

  layerNormBackward(dy, x, w, mean, rstd, dx, dw, db, rows, cols) {
    if (!isF32(dy, x, w, mean, rstd, dx, dw, db) || rows * cols === 0) {
      reference.layerNormBackward(dy, x, w, mean, rstd, dx, dw, db, rows, cols);
      return;
    }
    const n = rows * cols;
    const fr = new Frame();
    const dyo = fr.in(F(dy), n),
      xo = fr.in(F(x), n),
      wo = fr.inOr(F(w), cols, 1),
      mo = fr.in(F(mean), rows),
      ro = fr.in(F(rstd), rows);
    const dxo = fr.out(F(dx), n);
    // dw, db accumulated into
    const dwo = dw ? fr.inout(F(dw), cols) : fr.constant(cols, 0),
      dbo = db ? fr.inout(F(db), cols) : fr.constant(cols, 0);
    fr.commit();
    fr.exports.layerNormBackwardF32(dyo, xo, wo, mo, ro, dxo, dwo, dbo, rows, cols);
    fr.finish();
  },

  rmsNorm(x, w, y, rstd, rows, cols, eps) {
    if (!isF32(x, w, y, rstd) || rows * cols === 0) {
      reference.rmsNorm(x, w, y, rstd, rows, cols, eps);
      return;
    }
    const n = rows * cols;
    const fr = new Frame();
    const xo = fr.in(F(x), n),
      wo = fr.inOr(F(w), cols, 1),
      yo = fr.out(F(y), n),
      ro = fr.out(F(rstd), rows);
    fr.commit();
    // y = x·rstd·w
    fr.exports.rmsNormF32(xo, wo, yo, ro, rows, cols, eps);
    fr.finish();
  },

  rmsNormBackward(dy, x, w, rstd, dx, dw, rows, cols) {
    if (!isF32(dy, x, w, rstd, dx, dw) || rows * cols === 0) {
      reference.rmsNormBackward(dy, x, w, rstd, dx, dw, rows, cols);
      return;
    }
    const n = rows * cols;
    const fr = new Frame();
    const dyo = fr.in(F(dy), n),
      xo = fr.in(F(x), n),
      wo = fr.inOr(F(w), cols, 1),
      ro = fr.in(F(rstd), rows);
    const dxo = fr.out(F(dx), n),
      dwo = dw ? fr.inout(F(dw), cols) : fr.constant(cols, 0); // dw accumulated into
    fr.commit();
    fr.exports.rmsNormBackwardF32(dyo, xo, wo, ro, dxo, dwo, rows, cols);
    fr.finish();
  },
  softmax(x, y, outer, r, inner) {
    if (!isF32(x, y) || inner !== 1 || r === 0) return reference.softmax(x, y, outer, r, inner);
    rowwise(
      (fr, xo, yo, rows, cols) => fr.exports.softmaxF32(xo, yo, rows, cols),
      x as Float32Array,
      y as Float32Array,
      outer,
      r,
    );
  },

  softmaxBackward(y, dy, dx, outer, r, inner) {
    if (!isF32(y, dy, dx) || inner !== 1 || r === 0) return reference.softmaxBackward(y, dy, dx, outer, r, inner);
    rowwiseBackward(
      (fr, yo, dyo, dxo, rows, cols) => fr.exports.softmaxBackwardF32(yo, dyo, dxo, rows, cols),
      y as Float32Array,
      dy as Float32Array,
      dx as Float32Array,
      outer,
      r,
    );
  },

  logSoftmax(x, y, outer, r, inner) {
    if (!isF32(x, y) || inner !== 1 || r === 0) return reference.logSoftmax(x, y, outer, r, inner);
    rowwise(
      (fr, xo, yo, rows, cols) => fr.exports.logSoftmaxF32(xo, yo, rows, cols),
      x as Float32Array,
      y as Float32Array,
      outer,
      r,
    );
  },

  logSoftmaxBackward(y, dy, dx, outer, r, inner) {
    if (!isF32(y, dy, dx) || inner !== 1 || r === 0) return reference.logSoftmaxBackward(y, dy, dx, outer, r, inner);
    rowwiseBackward(
      (fr, yo, dyo, dxo, rows, cols) => fr.exports.logSoftmaxBackwardF32(yo, dyo, dxo, rows, cols),
      y as Float32Array,
      dy as Float32Array,
      dx as Float32Array,
      outer,
      r,
    );
  },

  crossEntropy(logits, target, losses, lse, outer, c, inner, ignoreIndex, labelSmoothing) {
    if (!isF32(logits, losses, lse) || inner !== 1 || outer === 0 || c === 0) {
      reference.crossEntropy(logits, target, losses, lse, outer, c, inner, ignoreIndex, labelSmoothing);
      return;
    }
    const fr = new Frame();
    const xo = fr.in(F(logits), outer * c),
      to = fr.in(target, outer),
      lo = fr.out(F(losses), outer),
      so = fr.out(F(lse), outer);
    fr.commit();
    fr.exports.crossEntropyF32(xo, to, lo, so, outer, c, ignoreIndex, labelSmoothing);
    fr.finish();
  },

  crossEntropyBackward(logits, target, lse, dloss, dlogits, outer, c, inner, ignoreIndex, labelSmoothing) {
    if (!isF32(logits, lse, dloss, dlogits) || inner !== 1 || outer === 0 || c === 0) {
      reference.crossEntropyBackward(logits, target, lse, dloss, dlogits, outer, c, inner, ignoreIndex, labelSmoothing);
      return;
    }
    const fr = new Frame();
    const xo = fr.in(F(logits), outer * c),
      to = fr.in(target, outer),
      so = fr.in(F(lse), outer),
      go = fr.in(F(dloss), outer);
    const dxo = fr.out(F(dlogits), outer * c);
    fr.commit();
    fr.exports.crossEntropyBackwardF32(xo, to, so, go, dxo, outer, c, ignoreIndex, labelSmoothing);
    fr.finish();
  },
};
