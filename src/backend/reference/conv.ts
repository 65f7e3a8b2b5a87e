// Reference conv kernels (NCHW): im2col / col2im for convolution as a matrix multiply, bias, pooling
// and resampling. Plain loops; the spec for every faster backend. Derivations: docs/derivations/conv2d.md.
//
// Vocabulary: N batch, C channels, (H, W) input plane, (kh, kw) kernel, (oh, ow) output plane,
// L = oh·ow output pixels, P = N·C planes.

import type { ConvKernels, Conv2dGeometry, ResampleGeometry } from "../backend.js";

// ---------------------------------------------------------------------------------------------------
// Pooling windows, as PyTorch computes them (avg_pool2d: aten/src/ATen/native/cpu/AvgPoolKernel.cpp).

interface AvgWindow {
  h0: number;
  h1: number;
  w0: number;
  w1: number; // the summed pixels [h0, h1) × [w0, w1)
  divisor: number;
}

function avgWindow(g: Conv2dGeometry, oi: number, oj: number, countIncludePad: boolean, win: AvgWindow): void {
  let h0 = oi * g.sh - g.ph,
    w0 = oj * g.sw - g.pw;
  let h1 = Math.min(h0 + g.kh, g.h + g.ph),
    w1 = Math.min(w0 + g.kw, g.w + g.pw);
  const padded = (h1 - h0) * (w1 - w0); // the window clipped to the padded input
  h0 = Math.max(h0, 0);
  w0 = Math.max(w0, 0);
  h1 = Math.min(h1, g.h);
  w1 = Math.min(w1, g.w);
  win.h0 = h0;
  win.h1 = h1;
  win.w0 = w0;
  win.w1 = w1;
  win.divisor = countIncludePad ? padded : (h1 - h0) * (w1 - w0);
}

/** [start, end) of adaptive window i: ⌊i·in/out⌋ to ⌈(i+1)·in/out⌉. */
const adaptiveStart = (i: number, inSize: number, outSize: number): number => Math.floor((i * inSize) / outSize);
const adaptiveEnd = (i: number, inSize: number, outSize: number): number => Math.ceil(((i + 1) * inSize) / outSize);

// ---------------------------------------------------------------------------------------------------
// Resampling source indices (PyTorch's aten/src/ATen/native/UpSample.h).

/** Nearest: src = min(⌊dst·scale⌋, in − 1) in float32; exact copies when out = in, halves when out = 2·in. */
function nearestIndex(dst: number, inSize: number, outSize: number, scale: number): number {
  if (outSize === inSize) return dst;
  if (outSize === 2 * inSize) return dst >> 1;
  return Math.min(Math.floor(Math.fround(dst * Math.fround(scale))), inSize - 1);
}

/** Bilinear: the two source indices around output index dst and their weights. */
function linearTaps(
  dst: number,
  inSize: number,
  outSize: number,
  alignCorners: boolean,
  scale: number,
): [number, number, number, number] {
  // source = alignCorners ? dst·(in−1)/(out−1) : max((dst + ½)·scale − ½, 0)
  const src = alignCorners
    ? (outSize > 1 ? (inSize - 1) / (outSize - 1) : 0) * dst
    : Math.max((dst + 0.5) * scale - 0.5, 0);
  const i0 = Math.min(Math.floor(src), inSize - 1);
  const i1 = i0 < inSize - 1 ? i0 + 1 : i0;
  const l1 = src - i0; // weight of i1
  return [i0, i1, 1 - l1, l1];
}

export const conv: ConvKernels = {
  im2col(x, g, cols) {
    const { n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow } = g;
    let o = 0; // walks cols in order: (n, c, ki, kj, oi, oj)
    for (let b = 0; b < n; b++) {
      for (let ch = 0; ch < c; ch++) {
        const plane = (b * c + ch) * h * w;
        for (let ki = 0; ki < kh; ki++) {
          for (let kj = 0; kj < kw; kj++) {
            for (let oi = 0; oi < oh; oi++) {
              const ih = oi * sh - ph + ki * dh;
              const rowInside = ih >= 0 && ih < h;
              for (let oj = 0; oj < ow; oj++, o++) {
                const iw = oj * sw - pw + kj * dw;
                cols[o] = rowInside && iw >= 0 && iw < w ? x[plane + ih * w + iw]! : 0;
              }
            }
          }
        }
      }
    }
  },

  col2im(cols, g, dx) {
    // forward: cols[(c, ki, kj)][(oi, oj)] = x[c][ih][iw]  ⇒  dx[c][ih][iw] += cols[(c, ki, kj)][(oi, oj)]
    const { n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow } = g;
    let o = 0;
    for (let b = 0; b < n; b++) {
      for (let ch = 0; ch < c; ch++) {
        const plane = (b * c + ch) * h * w;
        for (let ki = 0; ki < kh; ki++) {
          for (let kj = 0; kj < kw; kj++) {
            for (let oi = 0; oi < oh; oi++) {
              const ih = oi * sh - ph + ki * dh;
              const rowInside = ih >= 0 && ih < h;
              for (let oj = 0; oj < ow; oj++, o++) {
                const iw = oj * sw - pw + kj * dw;
                if (rowInside && iw >= 0 && iw < w) dx[plane + ih * w + iw]! += cols[o]!;
              }
            }
          }
        }
      }
    }
  },

  biasAdd(y, bias, n, c, inner) {
    for (let b = 0; b < n; b++) {
      for (let ch = 0; ch < c; ch++) {
        const base = (b * c + ch) * inner,
          v = bias[ch]!;
        for (let j = 0; j < inner; j++) y[base + j]! += v;
      }
    }
  },

  biasGrad(dy, db, n, c, inner) {
    // forward: y[i, c, j] += b[c]  ⇒  db[c] = Σ_{i, j} dy[i, c, j]
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      for (let b = 0; b < n; b++) {
        const base = (b * c + ch) * inner;
        for (let j = 0; j < inner; j++) s += dy[base + j]!;
      }
      db[ch] = s;
    }
  },

  maxPool2d(x, g, out, indices) {
    const { n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow } = g;
    let o = 0;
    for (let p = 0; p < n * c; p++) {
      const plane = p * h * w;
      for (let oi = 0; oi < oh; oi++) {
        for (let oj = 0; oj < ow; oj++, o++) {
          let best = -Infinity,
            at = -1;
          for (let ki = 0; ki < kh; ki++) {
            const ih = oi * sh - ph + ki * dh;
            if (ih < 0 || ih >= h) continue;
            for (let kj = 0; kj < kw; kj++) {
              const iw = oj * sw - pw + kj * dw;
              if (iw < 0 || iw >= w) continue;
              const v = x[plane + ih * w + iw]!;
              if (at < 0 || v > best || Number.isNaN(v)) {
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
  },

  maxPool2dBackward(dy, indices, g, dx) {
    // forward: y[o] = x[indices[o]]  ⇒  dx[indices[o]] += dy[o]
    const { n, c, h, w, oh, ow } = g;
    dx.fill(0);
    for (let p = 0, o = 0; p < n * c; p++) {
      for (let q = 0; q < oh * ow; q++, o++) {
        const at = indices[o]!;
        if (at >= 0) dx[p * h * w + at]! += dy[o]!;
      }
    }
  },

  avgPool2d(x, g, out, countIncludePad) {
    const { n, c, h, w, oh, ow } = g;
    const win: AvgWindow = { h0: 0, h1: 0, w0: 0, w1: 0, divisor: 0 };
    for (let p = 0, o = 0; p < n * c; p++) {
      const plane = p * h * w;
      for (let oi = 0; oi < oh; oi++) {
        for (let oj = 0; oj < ow; oj++, o++) {
          avgWindow(g, oi, oj, countIncludePad, win);
          let s = 0;
          for (let ih = win.h0; ih < win.h1; ih++)
            for (let iw = win.w0; iw < win.w1; iw++) s += x[plane + ih * w + iw]!;
          out[o] = s / win.divisor;
        }
      }
    }
  },

  avgPool2dBackward(dy, g, dx, countIncludePad) {
    // forward: y[o] = Σ_window x / divisor  ⇒  dx[window] += dy[o] / divisor
    const { n, c, h, w, oh, ow } = g;
    const win: AvgWindow = { h0: 0, h1: 0, w0: 0, w1: 0, divisor: 0 };
    dx.fill(0);
    for (let p = 0, o = 0; p < n * c; p++) {
      const plane = p * h * w;
      for (let oi = 0; oi < oh; oi++) {
        for (let oj = 0; oj < ow; oj++, o++) {
          avgWindow(g, oi, oj, countIncludePad, win);
          const share = dy[o]! / win.divisor;
          for (let ih = win.h0; ih < win.h1; ih++)
            for (let iw = win.w0; iw < win.w1; iw++) dx[plane + ih * w + iw]! += share;
        }
      }
    }
  },

  adaptiveAvgPool2d(x, g, out) {
    const { planes, h, w, oh, ow } = g;
    for (let p = 0, o = 0; p < planes; p++) {
      const plane = p * h * w;
      for (let oi = 0; oi < oh; oi++) {
        const h0 = adaptiveStart(oi, h, oh),
          h1 = adaptiveEnd(oi, h, oh);
        for (let oj = 0; oj < ow; oj++, o++) {
          const w0 = adaptiveStart(oj, w, ow),
            w1 = adaptiveEnd(oj, w, ow);
          let s = 0;
          for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) s += x[plane + ih * w + iw]!;
          out[o] = s / ((h1 - h0) * (w1 - w0));
        }
      }
    }
  },

  adaptiveAvgPool2dBackward(dy, g, dx) {
    // forward: y[o] = Σ_window x / |window|  ⇒  dx[window] += dy[o] / |window|
    const { planes, h, w, oh, ow } = g;
    dx.fill(0);
    for (let p = 0, o = 0; p < planes; p++) {
      const plane = p * h * w;
      for (let oi = 0; oi < oh; oi++) {
        const h0 = adaptiveStart(oi, h, oh),
          h1 = adaptiveEnd(oi, h, oh);
        for (let oj = 0; oj < ow; oj++, o++) {
          const w0 = adaptiveStart(oj, w, ow),
            w1 = adaptiveEnd(oj, w, ow);
          const share = dy[o]! / ((h1 - h0) * (w1 - w0));
          for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) dx[plane + ih * w + iw]! += share;
        }
      }
    }
  },

  upsampleNearest2d(x, g, scaleH, scaleW, out) {
    nearest(g, scaleH, scaleW, (src, dst) => {
      out[dst] = x[src]!;
    });
  },

  upsampleNearest2dBackward(dy, g, scaleH, scaleW, dx) {
    // forward: y[dst] = x[src]  ⇒  dx[src] += dy[dst]
    dx.fill(0);
    nearest(g, scaleH, scaleW, (src, dst) => {
      dx[src]! += dy[dst]!;
    });
  },

  upsampleBilinear2d(x, g, alignCorners, scaleH, scaleW, out) {
    bilinear(g, alignCorners, scaleH, scaleW, (dst, s00, s01, s10, s11, w00, w01, w10, w11) => {
      out[dst] = w00 * x[s00]! + w01 * x[s01]! + w10 * x[s10]! + w11 * x[s11]!;
    });
  },

  upsampleBilinear2dBackward(dy, g, alignCorners, scaleH, scaleW, dx) {
    // forward: y = Σ w_ab·x[s_ab]  ⇒  dx[s_ab] += w_ab·dy
    dx.fill(0);
    bilinear(g, alignCorners, scaleH, scaleW, (dst, s00, s01, s10, s11, w00, w01, w10, w11) => {
      const d = dy[dst]!;
      dx[s00]! += w00 * d;
      dx[s01]! += w01 * d;
      dx[s10]! += w10 * d;
      dx[s11]! += w11 * d;
    });
  },
};

/** visit(source offset, output offset) for every output pixel of nearest resampling. */
function nearest(g: ResampleGeometry, scaleH: number, scaleW: number, visit: (src: number, dst: number) => void): void {
  const { planes, h, w, oh, ow } = g;
  const cols = Int32Array.from({ length: ow }, (_, j) => nearestIndex(j, w, ow, scaleW));
  for (let p = 0, o = 0; p < planes; p++) {
    for (let oi = 0; oi < oh; oi++) {
      const row = p * h * w + nearestIndex(oi, h, oh, scaleH) * w;
      for (let oj = 0; oj < ow; oj++, o++) visit(row + cols[oj]!, o);
    }
  }
}

type BilinearVisit = (
  dst: number,
  s00: number,
  s01: number,
  s10: number,
  s11: number,
  w00: number,
  w01: number,
  w10: number,
  w11: number,
) => void;

/** visit the four source pixels and weights of every output pixel of bilinear resampling. */
function bilinear(
  g: ResampleGeometry,
  alignCorners: boolean,
  scaleH: number,
  scaleW: number,
  visit: BilinearVisit,
): void {
  const { planes, h, w, oh, ow } = g;
  const colTaps = Array.from({ length: ow }, (_, j) => linearTaps(j, w, ow, alignCorners, scaleW));
  for (let p = 0, o = 0; p < planes; p++) {
    const plane = p * h * w;
    for (let oi = 0; oi < oh; oi++) {
      const [h0, h1, a0, a1] = linearTaps(oi, h, oh, alignCorners, scaleH);
      for (let oj = 0; oj < ow; oj++, o++) {
        const [w0, w1, b0, b1] = colTaps[oj]!;
        // out = a0·(b0·x[h0][w0] + b1·x[h0][w1]) + a1·(b0·x[h1][w0] + b1·x[h1][w1])
        visit(
          o,
          plane + h0 * w + w0,
          plane + h0 * w + w1,
          plane + h1 * w + w0,
          plane + h1 * w + w1,
          a0 * b0,
          a0 * b1,
          a1 * b0,
          a1 * b1,
        );
      }
    }
  }
}
