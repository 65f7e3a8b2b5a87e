// AssemblyScript: a convolution's unfold (im2col) and fold (col2im), float32, on operands that live in
// wasm memory (the JavaScript side calls these only then: for operands on the JavaScript heap the copies in
// and out would cost as much as the pass itself, and ../conv.ts runs its own loops).
//
// Vocabulary as ../../reference/conv.ts: N batch, C channels, (H, W) input plane, (kh, kw) kernel,
// (sh, sw) stride, (ph, pw) padding, (dh, dw) dilation, (oh, ow) output plane.
//
//   im2col: cols[n][(c, ki, kj)][(oi, oj)] = x[n][c][oi·sh − ph + ki·dh][oj·sw − pw + kj·dw]  (0 in the padding)
//   col2im: dx[n][c][ih][iw] += cols[n][(c, ki, kj)][(oi, oj)] for every entry whose source is (ih, iw)
//
// Each column row is clipped to the input once (the outputs oj ∈ [j0, j1) read inside the row); a stride-1
// row is one memory.copy (im2col) or a four-lane add (col2im). The additions of col2im are the reference's,
// in its order (each dx entry receives its terms in the same sequence), so both kernels are bit-identical
// to the reference.

/** The first output o < count whose input index o·s + off is ≥ 0: ⌈−off/s⌉ clipped to [0, count]. */
// @ts-ignore: decorator
@inline function firstInside(count: i32, s: i32, off: i32): i32 {
  return off >= 0 ? 0 : min(count, (s - 1 - off) / s);
}

/** One past the last output o < count whose input index o·s + off is ≤ size − 1: ⌊(size − 1 − off)/s⌋ + 1 clipped. */
// @ts-ignore: decorator
@inline function endInside(count: i32, s: i32, off: i32, size: i32): i32 {
  const span = size - 1 - off;
  return span < 0 ? 0 : min(count, span / s + 1);
}

export function im2colF32(
  x: usize, cols: usize, n: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32, oh: i32, ow: i32,
): void {
  const rowBytes = <usize>ow << 2;
  let o = cols; // walks cols in order: (n, c, ki, kj, oi, oj)
  for (let p = 0; p < n * c; p++) {
    const plane = x + (<usize>(p * h * w) << 2);
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        // oj ∈ [j0, j1) reads column iw = oj·sw − pw + kj·dw inside the row; the rest is padding
        const off = kj * dw - pw;
        const j0 = firstInside(ow, sw, off);
        const j1 = max(j0, endInside(ow, sw, off, w));
        for (let oi = 0; oi < oh; oi++, o += rowBytes) {
          const ih = oi * sh - ph + ki * dh;
          if (ih < 0 || ih >= h || j0 == j1) {
            memory.fill(o, 0, rowBytes);
            continue;
          }
          if (j0 > 0) memory.fill(o, 0, <usize>j0 << 2);
          const src = plane + (<usize>(ih * w + off + j0 * sw) << 2),
            dst = o + (<usize>j0 << 2);
          if (sw == 1) memory.copy(dst, src, <usize>(j1 - j0) << 2);
          else {
            const step = <usize>sw << 2;
            for (let j = j0, q = src, r = dst; j < j1; j++, q += step, r += 4) store<u32>(r, load<u32>(q));
          }
          if (j1 < ow) memory.fill(o + (<usize>j1 << 2), 0, <usize>(ow - j1) << 2);
        }
      }
    }
  }
}

export function col2imF32(
  cols: usize, dx: usize, n: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32, oh: i32, ow: i32,
): void {
  // forward: cols[(c, ki, kj)][(oi, oj)] = x[c][ih][iw]  ⇒  dx[c][ih][iw] += cols[(c, ki, kj)][(oi, oj)]
  const rowBytes = <usize>ow << 2;
  let o = cols;
  for (let p = 0; p < n * c; p++) {
    const plane = dx + (<usize>(p * h * w) << 2);
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        const off = kj * dw - pw;
        const j0 = firstInside(ow, sw, off);
        const j1 = max(j0, endInside(ow, sw, off, w));
        for (let oi = 0; oi < oh; oi++, o += rowBytes) {
          const ih = oi * sh - ph + ki * dh;
          if (ih < 0 || ih >= h || j0 == j1) continue;
          const d = plane + (<usize>(ih * w + off + j0 * sw) << 2),
            s = o + (<usize>j0 << 2);
          const len = j1 - j0;
          if (sw == 1) {
            const bytes = <usize>len << 2,
              b4 = <usize>(len & ~3) << 2;
            let i: usize = 0;
            for (; i < b4; i += 16) v128.store(d + i, f32x4.add(v128.load(d + i), v128.load(s + i)));
            for (; i < bytes; i += 4) store<f32>(d + i, load<f32>(d + i) + load<f32>(s + i));
          } else {
            const step = <usize>sw << 2;
            for (let j = 0, q = d, r = s; j < len; j++, q += step, r += 4) store<f32>(q, load<f32>(q) + load<f32>(r));
          }
        }
      }
    }
  }
}
