// Row-wise nn kernels of the wasm backend (./assembly/nn.ts), float32 with the normalised or reduced
// dim last (layerNorm and rmsNorm always; softmax, logSoftmax and cross-entropy when inner = 1, i.e. the class dim
// is the last one). Operands are copied into the arena, results out. Everything else runs the
// reference kernel.

import type { FloatArr, NnKernels } from "../backend.js";
import { nn as reference } from "../reference/nn.js";
import { Frame } from "./arena.js";

const isF32 = (...xs: (FloatArr | Int32Array | null)[]): boolean => xs.every((x) => x === null || x instanceof Float32Array);

/** A region holding x, or `fill` repeated n times when x is null. */
function region(fr: Frame, off: number, x: Float32Array | null, n: number, fill: number): void {
  if (x) fr.put(off, x.subarray(0, n));
  else fr.f32.fill(fill, off >> 2, (off >> 2) + n);
}

/** softmax-like kernel over (rows, cols): one input, one output. */
function rowwise(run: (fr: Frame, x: number, y: number, rows: number, cols: number) => void, x: Float32Array, y: Float32Array, rows: number, cols: number): void {
  const n = rows * cols;
  if (n === 0) return;
  const fr = new Frame();
  const xo = fr.alloc(n);
  fr.commit();
  fr.put(xo, x.subarray(0, n));
  run(fr, xo, xo, rows, cols);
  fr.get(xo, y, n);
}

/** softmax-backward-like kernel over (rows, cols): y and dy in, dx out. */
function rowwiseBackward(run: (fr: Frame, y: number, dy: number, dx: number, rows: number, cols: number) => void, y: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, cols: number): void {
  const n = rows * cols;
  if (n === 0) return;
  const fr = new Frame();
  const yo = fr.alloc(n), dyo = fr.alloc(n);
  fr.commit();
  fr.put(yo, y.subarray(0, n));
  fr.put(dyo, dy.subarray(0, n));
  run(fr, yo, dyo, dyo, rows, cols);
  fr.get(dyo, dx, n);
}

export const nn: Partial<NnKernels> = {
  layerNorm(x, w, b, y, mean, rstd, rows, cols, eps) {
    if (!isF32(x, w, b, y, mean, rstd) || rows * cols === 0) {
      reference.layerNorm(x, w, b, y, mean, rstd, rows, cols, eps);
      return;
    }
    const n = rows * cols;
    const fr = new Frame();
    const xo = fr.alloc(n), wo = fr.alloc(cols), bo = fr.alloc(cols), mo = fr.alloc(rows), ro = fr.alloc(rows);
    fr.commit();
    fr.put(xo, (x as Float32Array).subarray(0, n));
    region(fr, wo, w as Float32Array | null, cols, 1);
    region(fr, bo, b as Float32Array | null, cols, 0);
    // y = (x − μ)·rstd·w + b, written over x
    fr.exports.layerNormF32(xo, wo, bo, xo, mo, ro, rows, cols, eps);
    fr.get(xo, y as Float32Array, n);
    fr.get(mo, mean as Float32Array, rows);
    fr.get(ro, rstd as Float32Array, rows);
  },

  layerNormBackward(dy, x, w, mean, rstd, dx, dw, db, rows, cols) {
    if (!isF32(dy, x, w, mean, rstd, dx, dw, db) || rows * cols === 0) {
      reference.layerNormBackward(dy, x, w, mean, rstd, dx, dw, db, rows, cols);
      return;
    }
    const n = rows * cols;
    const fr = new Frame();
    const dyo = fr.alloc(n), xo = fr.alloc(n), wo = fr.alloc(cols), mo = fr.alloc(rows), ro = fr.alloc(rows), dwo = fr.alloc(cols), dbo = fr.alloc(cols);
    fr.commit();
    fr.put(dyo, (dy as Float32Array).subarray(0, n));
    fr.put(xo, (x as Float32Array).subarray(0, n));
    region(fr, wo, w as Float32Array | null, cols, 1);
    fr.put(mo, (mean as Float32Array).subarray(0, rows));
    fr.put(ro, (rstd as Float32Array).subarray(0, rows));
    region(fr, dwo, dw as Float32Array | null, cols, 0); // accumulated into
    region(fr, dbo, db as Float32Array | null, cols, 0);
    // dx written over dy
    fr.exports.layerNormBackwardF32(dyo, xo, wo, mo, ro, dyo, dwo, dbo, rows, cols);
    fr.get(dyo, dx as Float32Array, n);
    if (dw) fr.get(dwo, dw as Float32Array, cols);
    if (db) fr.get(dbo, db as Float32Array, cols);
  },

  rmsNorm(x, w, y, rstd, rows, cols, eps) {
    if (!isF32(x, w, y, rstd) || rows * cols === 0) {
      reference.rmsNorm(x, w, y, rstd, rows, cols, eps);
      return;
    }
    const n = rows * cols;
    const fr = new Frame();
    const xo = fr.alloc(n), wo = fr.alloc(cols), ro = fr.alloc(rows);
    fr.commit();
    fr.put(xo, (x as Float32Array).subarray(0, n));
    region(fr, wo, w as Float32Array | null, cols, 1);
    // y = x·rstd·w, written over x
    fr.exports.rmsNormF32(xo, wo, xo, ro, rows, cols, eps);
    fr.get(xo, y as Float32Array, n);
    fr.get(ro, rstd as Float32Array, rows);
  },

  rmsNormBackward(dy, x, w, rstd, dx, dw, rows, cols) {
    if (!isF32(dy, x, w, rstd, dx, dw) || rows * cols === 0) {
      reference.rmsNormBackward(dy, x, w, rstd, dx, dw, rows, cols);
      return;
    }
    const n = rows * cols;
    const fr = new Frame();
    const dyo = fr.alloc(n), xo = fr.alloc(n), wo = fr.alloc(cols), ro = fr.alloc(rows), dwo = fr.alloc(cols);
    fr.commit();
    fr.put(dyo, (dy as Float32Array).subarray(0, n));
    fr.put(xo, (x as Float32Array).subarray(0, n));
    region(fr, wo, w as Float32Array | null, cols, 1);
    fr.put(ro, (rstd as Float32Array).subarray(0, rows));
    region(fr, dwo, dw as Float32Array | null, cols, 0); // accumulated into
    // dx written over dy
    fr.exports.rmsNormBackwardF32(dyo, xo, wo, ro, dyo, dwo, rows, cols);
    fr.get(dyo, dx as Float32Array, n);
    if (dw) fr.get(dwo, dw as Float32Array, cols);
  },

  softmax(x, y, outer, r, inner) {
    if (!isF32(x, y) || inner !== 1 || r === 0) return reference.softmax(x, y, outer, r, inner);
    rowwise((fr, xo, yo, rows, cols) => fr.exports.softmaxF32(xo, yo, rows, cols), x as Float32Array, y as Float32Array, outer, r);
  },

  softmaxBackward(y, dy, dx, outer, r, inner) {
    if (!isF32(y, dy, dx) || inner !== 1 || r === 0) return reference.softmaxBackward(y, dy, dx, outer, r, inner);
    rowwiseBackward((fr, yo, dyo, dxo, rows, cols) => fr.exports.softmaxBackwardF32(yo, dyo, dxo, rows, cols), y as Float32Array, dy as Float32Array, dx as Float32Array, outer, r);
  },

  logSoftmax(x, y, outer, r, inner) {
    if (!isF32(x, y) || inner !== 1 || r === 0) return reference.logSoftmax(x, y, outer, r, inner);
    rowwise((fr, xo, yo, rows, cols) => fr.exports.logSoftmaxF32(xo, yo, rows, cols), x as Float32Array, y as Float32Array, outer, r);
  },

  logSoftmaxBackward(y, dy, dx, outer, r, inner) {
    if (!isF32(y, dy, dx) || inner !== 1 || r === 0) return reference.logSoftmaxBackward(y, dy, dx, outer, r, inner);
    rowwiseBackward((fr, yo, dyo, dxo, rows, cols) => fr.exports.logSoftmaxBackwardF32(yo, dyo, dxo, rows, cols), y as Float32Array, dy as Float32Array, dx as Float32Array, outer, r);
  },

  crossEntropy(logits, target, losses, lse, outer, c, inner, ignoreIndex, labelSmoothing) {
    if (!isF32(logits, losses, lse) || inner !== 1 || outer === 0 || c === 0) {
      reference.crossEntropy(logits, target, losses, lse, outer, c, inner, ignoreIndex, labelSmoothing);
      return;
    }
    const fr = new Frame();
    const xo = fr.alloc(outer * c), to = fr.alloc(outer), lo = fr.alloc(outer), so = fr.alloc(outer);
    fr.commit();
    fr.put(xo, (logits as Float32Array).subarray(0, outer * c));
    fr.put(to, target.subarray(0, outer));
    fr.exports.crossEntropyF32(xo, to, lo, so, outer, c, ignoreIndex, labelSmoothing);
    fr.get(lo, losses as Float32Array, outer);
    fr.get(so, lse as Float32Array, outer);
  },

  crossEntropyBackward(logits, target, lse, dloss, dlogits, outer, c, inner, ignoreIndex, labelSmoothing) {
    if (!isF32(logits, lse, dloss, dlogits) || inner !== 1 || outer === 0 || c === 0) {
      reference.crossEntropyBackward(logits, target, lse, dloss, dlogits, outer, c, inner, ignoreIndex, labelSmoothing);
      return;
    }
    const fr = new Frame();
    const xo = fr.alloc(outer * c), to = fr.alloc(outer), so = fr.alloc(outer), go = fr.alloc(outer), dxo = fr.alloc(outer * c);
    fr.commit();
    fr.put(xo, (logits as Float32Array).subarray(0, outer * c));
    fr.put(to, target.subarray(0, outer));
    fr.put(so, (lse as Float32Array).subarray(0, outer));
    fr.put(go, (dloss as Float32Array).subarray(0, outer));
    fr.exports.crossEntropyBackwardF32(xo, to, so, go, dxo, outer, c, ignoreIndex, labelSmoothing);
    fr.get(dxo, dlogits as Float32Array, outer * c);
  },
};
