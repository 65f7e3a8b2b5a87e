// Convolution and pooling kernels of the wasm backend, float32 (other dtypes run the reference). They only
// move data (im2col, col2im, pooling windows, the bias); the convolution's products themselves run in the
// wasm matmul (src/ops/conv.ts calls it on the columns).
//
// im2col and col2im run in wasm (./assembly/conv.ts) when every operand already lives in wasm memory (the
// storage of tensors made inside a memory scope: a training step's activations and the columns); otherwise
// a copy in and a copy out would cost as much as the pass itself, and they run here, on the JavaScript heap,
// as the pooling kernels and the bias always do.
//
// What makes the TypeScript loops faster than the reference: each takes Float32Array only (V8 compiles
// monomorphic loads and stores, where the reference's loops see every dtype), and each window or column row
// is clipped to the input once, instead of a bounds test per element. Same arithmetic in the same order as
// the reference (copies; col2im's, the pools' and the bias gradient's additions in the reference's order):
// bit-identical, in wasm as here.
//
// Vocabulary as ../reference/conv.ts: N batch, C channels, (H, W) input plane, (kh, kw) kernel, (oh, ow)
// output plane, L = oh·ow.

import type { Conv2dGeometry, ConvKernels, FloatArr } from "../backend.js";
import { conv as reference } from "../reference/conv.js";
import { residentOffset } from "./heap.js";
import { wasm } from "./instance.js";

const isF32 = (...xs: FloatArr[]): boolean => xs.every((x) => x instanceof Float32Array);

/** The first output o < count whose input index o·s + off is ≥ 0: o ≥ ⌈−off/s⌉. */
const firstInside = (count: number, s: number, off: number): number =>
  Math.min(count, Math.max(0, Math.ceil(-off / s)));

/** One past the last output o < count whose input index o·s + off is ≤ size − 1: o ≤ ⌊(size − 1 − off)/s⌋. */
const endInside = (count: number, s: number, off: number, size: number): number =>
  Math.max(0, Math.min(count, Math.floor((size - 1 - off) / s) + 1));

/** The outputs o in [lo, hi) whose input index o·s + off falls inside [0, size). */
function inside(count: number, s: number, off: number, size: number): [number, number] {
  const lo = firstInside(count, s, off);
  return [lo, Math.max(lo, endInside(count, s, off, size))];
}

/** The geometry as the wasm kernels take it (./assembly/conv.ts). */
const geometry = (g: Conv2dGeometry): number[] => [
  g.n,
  g.c,
  g.h,
  g.w,
  g.kh,
  g.kw,
  g.sh,
  g.sw,
  g.ph,
  g.pw,
  g.dh,
  g.dw,
  g.oh,
  g.ow,
];

/** Runs at least this long are copied with TypedArray.set. */
const SET_MIN = 32;

function im2colF32(x: Float32Array, g: Conv2dGeometry, cols: Float32Array): void {
  const { n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow } = g;
  let o = 0; // walks cols in order: (n, c, ki, kj, oi, oj)
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const plane = (b * c + ch) * h * w;
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++) {
          // oj in [j0, j1) reads column iw = oj·sw − pw + kj·dw inside the row; the rest is padding
          const off = kj * dw - pw;
          const [j0, j1] = inside(ow, sw, off, w);
          for (let oi = 0; oi < oh; oi++, o += ow) {
            const ih = oi * sh - ph + ki * dh;
            if (ih < 0 || ih >= h || j0 === j1) {
              cols.fill(0, o, o + ow);
              continue;
            }
            if (j0 > 0) cols.fill(0, o, o + j0);
            const row = plane + ih * w + off;
            if (sw === 1 && j1 - j0 >= SET_MIN) cols.set(x.subarray(row + j0, row + j1), o + j0);
            else for (let oj = j0, q = row + j0 * sw; oj < j1; oj++, q += sw) cols[o + oj] = x[q]!;
            if (j1 < ow) cols.fill(0, o + j1, o + ow);
          }
        }
      }
    }
  }
}

function col2imF32(cols: Float32Array, g: Conv2dGeometry, dx: Float32Array): void {
  // forward: cols[(c, ki, kj)][(oi, oj)] = x[c][ih][iw]  ⇒  dx[c][ih][iw] += cols[(c, ki, kj)][(oi, oj)]
  const { n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow } = g;
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const plane = (b * c + ch) * h * w;
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++) {
          const off = kj * dw - pw;
          const [j0, j1] = inside(ow, sw, off, w);
          for (let oi = 0; oi < oh; oi++, o += ow) {
            const ih = oi * sh - ph + ki * dh;
            if (ih < 0 || ih >= h) continue;
            const row = plane + ih * w + off;
            for (let oj = j0, q = row + j0 * sw; oj < j1; oj++, q += sw) dx[q] = dx[q]! + cols[o + oj]!;
          }
        }
      }
    }
  }
}

function maxPoolF32(x: Float32Array, g: Conv2dGeometry, out: Float32Array, indices: Int32Array): void {
  const { n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow } = g;
  const hw = h * w;
  for (let p = 0, o = 0; p < n * c; p++) {
    const plane = p * hw;
    for (let oi = 0; oi < oh; oi++) {
      const top = oi * sh - ph;
      const k0 = firstInside(kh, dh, top),
        k1 = endInside(kh, dh, top, h); // the window's rows inside the input
      for (let oj = 0; oj < ow; oj++, o++) {
        const left = oj * sw - pw;
        const l0 = firstInside(kw, dw, left),
          l1 = endInside(kw, dw, left, w);
        // y = max over the window (the first maximum; NaN wins, the last NaN as the reference)
        let best = -Infinity,
          at = -1;
        for (let ki = k0; ki < k1; ki++) {
          const ih = top + ki * dh;
          for (let kj = l0; kj < l1; kj++) {
            const iw = left + kj * dw,
              v = x[plane + ih * w + iw]!;
            if (at < 0 || v > best || v !== v) {
              best = v;
              at = ih * w + iw;
            }
          }
        }
        out[o] = best;
        indices[o] = at;
      }
    }
  }
}

function maxPoolBackwardF32(dy: Float32Array, indices: Int32Array, g: Conv2dGeometry, dx: Float32Array): void {
  // forward: y[o] = x[indices[o]]  ⇒  dx[indices[o]] += dy[o]
  const { n, c, h, w, oh, ow } = g;
  const hw = h * w,
    l = oh * ow;
  dx.fill(0);
  for (let p = 0, o = 0; p < n * c; p++) {
    const plane = p * hw;
    for (let q = 0; q < l; q++, o++) {
      const at = indices[o]!;
      if (at >= 0) dx[plane + at] = dx[plane + at]! + dy[o]!;
    }
  }
}

/** The window as ../reference/conv.ts avgWindow clips it: first to the padded input (its size is the
 * divisor when countIncludePad), then to the input. */
function avgPoolF32(x: Float32Array, g: Conv2dGeometry, out: Float32Array, countIncludePad: boolean): void {
  const { n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow } = g;
  for (let p = 0, o = 0; p < n * c; p++) {
    const plane = p * h * w;
    for (let oi = 0; oi < oh; oi++) {
      let h0 = oi * sh - ph,
        h1 = Math.min(h0 + kh, h + ph);
      const hp = h1 - h0;
      h0 = Math.max(h0, 0);
      h1 = Math.min(h1, h);
      for (let oj = 0; oj < ow; oj++, o++) {
        let w0 = oj * sw - pw,
          w1 = Math.min(w0 + kw, w + pw);
        const padded = hp * (w1 - w0); // the window clipped to the padded input
        w0 = Math.max(w0, 0);
        w1 = Math.min(w1, w);
        const divisor = countIncludePad ? padded : (h1 - h0) * (w1 - w0);
        // y = Σ_window x / divisor
        let s = 0;
        for (let ih = h0; ih < h1; ih++)
          for (let q = plane + ih * w + w0, e = plane + ih * w + w1; q < e; q++) s += x[q]!;
        out[o] = s / divisor;
      }
    }
  }
}

function avgPoolBackwardF32(dy: Float32Array, g: Conv2dGeometry, dx: Float32Array, countIncludePad: boolean): void {
  // forward: y[o] = Σ_window x / divisor  ⇒  dx[window] += dy[o] / divisor
  const { n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow } = g;
  dx.fill(0);
  for (let p = 0, o = 0; p < n * c; p++) {
    const plane = p * h * w;
    for (let oi = 0; oi < oh; oi++) {
      let h0 = oi * sh - ph,
        h1 = Math.min(h0 + kh, h + ph);
      const hp = h1 - h0;
      h0 = Math.max(h0, 0);
      h1 = Math.min(h1, h);
      for (let oj = 0; oj < ow; oj++, o++) {
        let w0 = oj * sw - pw,
          w1 = Math.min(w0 + kw, w + pw);
        const padded = hp * (w1 - w0);
        w0 = Math.max(w0, 0);
        w1 = Math.min(w1, w);
        const divisor = countIncludePad ? padded : (h1 - h0) * (w1 - w0);
        const share = dy[o]! / divisor;
        for (let ih = h0; ih < h1; ih++)
          for (let q = plane + ih * w + w0, e = plane + ih * w + w1; q < e; q++) dx[q] = dx[q]! + share;
      }
    }
  }
}

export const conv: Partial<ConvKernels> = {
  im2col(x, g, cols) {
    if (!isF32(x, cols)) return reference.im2col(x, g, cols);
    const xo = residentOffset(x),
      co = residentOffset(cols);
    if (xo >= 0 && co >= 0) wasm().exports.im2colF32(xo, co, ...geometry(g));
    else im2colF32(x as Float32Array, g, cols as Float32Array);
  },

  col2im(cols, g, dx) {
    if (!isF32(cols, dx)) return reference.col2im(cols, g, dx);
    const co = residentOffset(cols),
      xo = residentOffset(dx);
    if (co >= 0 && xo >= 0) wasm().exports.col2imF32(co, xo, ...geometry(g));
    else col2imF32(cols as Float32Array, g, dx as Float32Array);
  },

  biasAdd(y, bias, n, c, inner) {
    if (!isF32(y, bias)) return reference.biasAdd(y, bias, n, c, inner);
    const yf = y as Float32Array,
      bf = bias as Float32Array;
    // y[i, c, j] += b[c]
    for (let b = 0, base = 0; b < n; b++) {
      for (let ch = 0; ch < c; ch++, base += inner) {
        const v = bf[ch]!;
        for (let j = base, e = base + inner; j < e; j++) yf[j] = yf[j]! + v;
      }
    }
  },

  biasGrad(dy, db, n, c, inner) {
    if (!isF32(dy, db)) return reference.biasGrad(dy, db, n, c, inner);
    const d = dy as Float32Array;
    // db[c] = Σ_{i, j} dy[i, c, j], in float64, in the reference's order
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      for (let b = 0; b < n; b++) for (let j = (b * c + ch) * inner, e = j + inner; j < e; j++) s += d[j]!;
      db[ch] = s;
    }
  },

  maxPool2d(x, g, out, indices) {
    if (!isF32(x, out)) return reference.maxPool2d(x, g, out, indices);
    maxPoolF32(x as Float32Array, g, out as Float32Array, indices);
  },

  maxPool2dBackward(dy, indices, g, dx) {
    if (!isF32(dy, dx)) return reference.maxPool2dBackward(dy, indices, g, dx);
    maxPoolBackwardF32(dy as Float32Array, indices, g, dx as Float32Array);
  },

  avgPool2d(x, g, out, countIncludePad) {
    if (!isF32(x, out)) return reference.avgPool2d(x, g, out, countIncludePad);
    avgPoolF32(x as Float32Array, g, out as Float32Array, countIncludePad);
  },

  avgPool2dBackward(dy, g, dx, countIncludePad) {
    if (!isF32(dy, dx)) return reference.avgPool2dBackward(dy, g, dx, countIncludePad);
    avgPoolBackwardF32(dy as Float32Array, g, dx as Float32Array, countIncludePad);
  },
};
