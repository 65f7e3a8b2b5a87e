// AssemblyScript: float32 binary arithmetic over a (rows × cols) output and the sum reduction, four lanes
// at a time.
//
// binaryF32: out[i][j] = a[i·ra + j·ca] ∘ b[i·rb + j·cb] with ca, cb ∈ {0, 1} (the JavaScript side
// coalesces the broadcast dims to this form: same shape, a row vector, a column, a scalar); ∘ is
// 0 add · 1 sub · 2 mul · 3 div. out may be a (in place).
//
// sumF32: out[o][j] = Σ_i x[o][i][j] over (outer, r, inner), accumulated in float64 in the reference's
// order (i ascending for each (o, j)), so the result is the reference's, bit for bit; a contiguous row
// (inner = 1) in eight float64 partial sums added at the end (the same terms in another order: at most
// one float32 rounding from the reference).
//
// extremeF32: the max (or min) along the middle dim of (outer, r, inner) and the index of its first
// occurrence; a NaN wins and stops the scan (the reference's rule). Sixteen lanes in four vectors, four
// compare/select chains side by side: across sixteen columns when inner > 1, else across the row (lane
// l takes i ≡ l mod 16; the lanes' winners are merged by value, then by the lower index). NaNs are only
// noted in that loop, and a row or block of columns that has one is redone by the exact per-lane rule.
// Rows of 8 to 15 elements take one vector with the exact rule, shorter ones the scan. Columns left
// over in fours (inner mod 16) run the rows in four interleaved chains, merged by value, then by row.
//
// mulColumnF32: the backward of y = x·col, x (rows, cols), col (rows, 1), in one pass: dx = dy·col (the
// product binaryF32 writes) and dcol[r] = Σ_c dy[r][c]·x[r][c], each product rounded to float32 as the mul
// kernel's, summed in float64 in eight interleaved partial sums (c mod 8, added pairwise at the end; the
// reference adds in order: the same float64 terms, another order, so at most a rounding apart in float32).

// @ts-ignore: decorator
@inline function apply(op: i32, x: v128, y: v128): v128 {
  if (op == 0) return f32x4.add(x, y);
  if (op == 1) return f32x4.sub(x, y);
  if (op == 2) return f32x4.mul(x, y);
  return f32x4.div(x, y);
}

// @ts-ignore: decorator
@inline function apply1(op: i32, x: f32, y: f32): f32 {
  if (op == 0) return x + y;
  if (op == 1) return x - y;
  if (op == 2) return x * y;
  return x / y;
}

/** One row: out[j] = a[j·ca] ∘ b[j·cb] for j < cols; a loop per operation and stride pattern. */
// @ts-ignore: decorator
@inline function row(op: i32, pa: usize, ca: i32, pb: usize, cb: i32, po: usize, cols: i32): void {
  const c4 = <usize>(cols & ~3) << 2, end = <usize>cols << 2;
  if (ca == 1 && cb == 1) {
    for (let o: usize = 0; o < c4; o += 16) v128.store(po + o, apply(op, v128.load(pa + o), v128.load(pb + o)));
    for (let o = c4; o < end; o += 4) store<f32>(po + o, apply1(op, load<f32>(pa + o), load<f32>(pb + o)));
  } else if (ca == 1) {
    const sb = load<f32>(pb), vb = f32x4.splat(sb);
    for (let o: usize = 0; o < c4; o += 16) v128.store(po + o, apply(op, v128.load(pa + o), vb));
    for (let o = c4; o < end; o += 4) store<f32>(po + o, apply1(op, load<f32>(pa + o), sb));
  } else if (cb == 1) {
    const sa = load<f32>(pa), va = f32x4.splat(sa);
    for (let o: usize = 0; o < c4; o += 16) v128.store(po + o, apply(op, va, v128.load(pb + o)));
    for (let o = c4; o < end; o += 4) store<f32>(po + o, apply1(op, sa, load<f32>(pb + o)));
  } else {
    const r = apply1(op, load<f32>(pa), load<f32>(pb));
    for (let o: usize = 0; o < end; o += 4) store<f32>(po + o, r);
  }
}

export function binaryF32(op: i32, a: usize, ra: i32, ca: i32, b: usize, rb: i32, cb: i32, out: usize, rows: i32, cols: i32): void {
  for (let i = 0; i < rows; i++) {
    const pa = a + (<usize>(i * ra) << 2), pb = b + (<usize>(i * rb) << 2), po = out + (<usize>(i * cols) << 2);
    switch (op) {
      case 0: row(0, pa, ca, pb, cb, po, cols); break;
      case 1: row(1, pa, ca, pb, cb, po, cols); break;
      case 2: row(2, pa, ca, pb, cb, po, cols); break;
      default: row(3, pa, ca, pb, cb, po, cols);
    }
  }
}

/** out (outer × inner) = Σ over the middle dim of x (outer, r, inner), float64 accumulators in acc (inner doubles). */
export function sumF32(x: usize, out: usize, outer: i32, r: i32, inner: i32, acc: usize): void {
  const i4 = inner & ~3;
  for (let o = 0; o < outer; o++) {
    const xo = x + (<usize>(o * r * inner) << 2), oo = out + (<usize>(o * inner) << 2);
    if (inner == 1) {
      // a contiguous row: eight float64 partial sums (four pairs), eight floats per step, then one total
      // (a sum of float64 partials, rounded once to float32: at most one float32 rounding from the reference)
      let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
      let i = 0;
      for (; i + 8 <= r; i += 8) {
        const px = xo + (<usize>i << 2);
        const v0 = v128.load(px), v1 = v128.load(px, 16);
        s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v0));
        s1 = f64x2.add(s1, f64x2.promote_low_f32x4(v128.shuffle<f32>(v0, v0, 2, 3, 0, 1)));
        s2 = f64x2.add(s2, f64x2.promote_low_f32x4(v1));
        s3 = f64x2.add(s3, f64x2.promote_low_f32x4(v128.shuffle<f32>(v1, v1, 2, 3, 0, 1)));
      }
      const t = f64x2.add(f64x2.add(s0, s1), f64x2.add(s2, s3));
      let s: f64 = f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
      for (; i < r; i++) s += <f64>load<f32>(xo + (<usize>i << 2));
      store<f32>(oo, <f32>s);
      continue;
    }
    memory.fill(acc, 0, <usize>inner << 3);
    // four rows at a time: each accumulator is loaded once, gets rows i, i+1, i+2, i+3 added in that order
    // (the same float64 additions in the same order as one row at a time) and is stored once
    const row4 = <usize>inner << 2;
    let i = 0;
    for (; i + 4 <= r; i += 4) {
      const xr = xo + (<usize>(i * inner) << 2);
      for (let j = 0; j < i4; j += 4) {
        const px = xr + (<usize>j << 2);
        const v0 = v128.load(px), v1 = v128.load(px + row4), v2 = v128.load(px + 2 * row4), v3 = v128.load(px + 3 * row4);
        const pa = acc + (<usize>j << 3);
        let lo = v128.load(pa), hi = v128.load(pa, 16);
        lo = f64x2.add(lo, f64x2.promote_low_f32x4(v0)); hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<f32>(v0, v0, 2, 3, 0, 1)));
        lo = f64x2.add(lo, f64x2.promote_low_f32x4(v1)); hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<f32>(v1, v1, 2, 3, 0, 1)));
        lo = f64x2.add(lo, f64x2.promote_low_f32x4(v2)); hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<f32>(v2, v2, 2, 3, 0, 1)));
        lo = f64x2.add(lo, f64x2.promote_low_f32x4(v3)); hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<f32>(v3, v3, 2, 3, 0, 1)));
        v128.store(pa, lo); v128.store(pa, hi, 16);
      }
      for (let j = i4; j < inner; j++) {
        const pa = acc + (<usize>j << 3), px = xr + (<usize>j << 2);
        store<f64>(pa, load<f64>(pa) + <f64>load<f32>(px) + <f64>load<f32>(px + row4) + <f64>load<f32>(px + 2 * row4) + <f64>load<f32>(px + 3 * row4));
      }
    }
    for (; i < r; i++) {
      const xr = xo + (<usize>(i * inner) << 2);
      // acc_j += x_ij: four floats promoted to two pairs of doubles
      for (let j = 0; j < i4; j += 4) {
        const v = v128.load(xr + (<usize>j << 2));
        const pa = acc + (<usize>j << 3);
        v128.store(pa, f64x2.add(v128.load(pa), f64x2.promote_low_f32x4(v)));
        v128.store(pa, f64x2.add(v128.load(pa, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1))), 16);
      }
      for (let j = i4; j < inner; j++) {
        const pa = acc + (<usize>j << 3);
        store<f64>(pa, load<f64>(pa) + <f64>load<f32>(xr + (<usize>j << 2)));
      }
    }
    for (let j = 0; j < inner; j++) store<f32>(oo + (<usize>j << 2), <f32>load<f64>(acc + (<usize>j << 3)));
  }
}

/** dx = dy·col (skipped when dx is 0) and dcol = Σ over each row of dy·x, for x, dy, dx (rows, cols) and col, dcol (rows). */
export function mulColumnF32(dy: usize, x: usize, col: usize, dx: usize, dcol: usize, rows: i32, cols: i32): void {
  const c8 = <usize>(cols & ~7) << 2, c4 = <usize>(cols & ~3) << 2, end = <usize>cols << 2;
  for (let i = 0; i < rows; i++) {
    const ro = <usize>(i * cols) << 2;
    const pd = dy + ro, px = x + ro;
    if (dx != 0) {
      const sc = load<f32>(col + (<usize>i << 2)), vc = f32x4.splat(sc), po = dx + ro;
      for (let o: usize = 0; o < c4; o += 16) v128.store(po + o, f32x4.mul(v128.load(pd + o), vc));
      for (let o = c4; o < end; o += 4) store<f32>(po + o, load<f32>(pd + o) * sc);
    }
    // Σ_c dy·x: four float64 pairs of partial sums over eight columns at a time
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
    for (let o: usize = 0; o < c8; o += 32) {
      const p0 = f32x4.mul(v128.load(pd + o), v128.load(px + o));
      const p1 = f32x4.mul(v128.load(pd + o, 16), v128.load(px + o, 16));
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(p0));
      a1 = f64x2.add(a1, f64x2.promote_low_f32x4(v128.shuffle<f32>(p0, p0, 2, 3, 0, 1)));
      a2 = f64x2.add(a2, f64x2.promote_low_f32x4(p1));
      a3 = f64x2.add(a3, f64x2.promote_low_f32x4(v128.shuffle<f32>(p1, p1, 2, 3, 0, 1)));
    }
    let t: f64 = 0;
    for (let o = c8; o < end; o += 4) t += <f64>(load<f32>(pd + o) * load<f32>(px + o));
    const a = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
    store<f32>(dcol + (<usize>i << 2), <f32>(f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1) + t));
  }
}

/** Zeroes n bytes from p (memory.fill: the host's memset; a typed array's fill on shared memory is ≈ 10× slower). */
export function zeroBytes(p: usize, n: usize): void {
  memory.fill(p, 0, n);
}

/**
 * n copies of one float32 (as its bits, so a NaN keeps its payload) from p: a zero inner stride, the
 * broadcast of an expand or of a reduction's backward (dy repeated along the reduced dim).
 */
// @ts-ignore: decorator
@inline function fillRun(p: usize, bits: i32, n: i32): void {
  const v = i32x4.splat(bits), end = <usize>n << 2, e16 = <usize>(n & ~15) << 2, e4 = <usize>(n & ~3) << 2;
  let o: usize = 0;
  for (; o < e16; o += 64) {
    v128.store(p + o, v);
    v128.store(p + o, v, 16);
    v128.store(p + o, v, 32);
    v128.store(p + o, v, 48);
  }
  for (; o < e4; o += 16) v128.store(p + o, v);
  for (; o < end; o += 4) store<i32>(p + o, bits);
}

/**
 * The layout copies over a coalesced view (shape at `sh`, element strides at `st`, nd i32 each, in the
 * parameter block; nd ≥ 1), both operands in wasm memory:
 *   dir 0 (stridedCopy):    out[i] = x[offset + idx(i)·st]
 *   dir 1 (stridedAssign):  x[offset + idx(i)·st] = out[i]
 *   dir 2 (accumulate):     x[offset + idx(i)·st] += out[i], in row-major order (the reference's)
 * The innermost dim is one run: memory.copy when its stride is 1 (copies), or a SIMD add (accumulate), a
 * SIMD fill when it is 0 (copies of one element: a broadcast), else a scalar loop; the outer dims are walked
 * by an odometer (at `idx`, nd i32 of scratch).
 */
export function stridedF32(dir: i32, x: usize, offset: i32, sh: usize, st: usize, nd: i32, out: usize, idx: usize): void {
  const inner = load<i32>(sh + (<usize>(nd - 1) << 2)), s = load<i32>(st + (<usize>(nd - 1) << 2));
  let outer = 1;
  for (let d = 0; d < nd - 1; d++) {
    outer *= load<i32>(sh + (<usize>d << 2));
    store<i32>(idx + (<usize>d << 2), 0);
  }
  let p = offset;
  const runBytes = <usize>inner << 2;
  for (let r = 0, i = 0; r < outer; r++, i += inner) {
    const pe = x + (<usize>p << 2), pi = out + (<usize>i << 2);
    if (dir == 0) {
      if (s == 1) memory.copy(pi, pe, runBytes);
      else if (s == 0) fillRun(pi, load<i32>(pe), inner);
      else for (let j = 0, q = pe; j < inner; j++, q += <usize>s << 2) store<f32>(pi + (<usize>j << 2), load<f32>(q));
    } else if (dir == 1) {
      if (s == 1) memory.copy(pe, pi, runBytes);
      else for (let j = 0, q = pe; j < inner; j++, q += <usize>s << 2) store<f32>(q, load<f32>(pi + (<usize>j << 2)));
    } else if (s == 1) {
      // a run of distinct elements: four at a time, each the same one addition as alone
      const e4 = runBytes & ~(<usize>15);
      let o: usize = 0;
      for (; o < e4; o += 16) v128.store(pe + o, f32x4.add(v128.load(pe + o), v128.load(pi + o)));
      for (; o < runBytes; o += 4) store<f32>(pe + o, load<f32>(pe + o) + load<f32>(pi + o));
    } else {
      for (let j = 0, q = pe; j < inner; j++, q += <usize>s << 2) store<f32>(q, load<f32>(q) + load<f32>(pi + (<usize>j << 2)));
    }
    for (let d = nd - 2; d >= 0; d--) {
      const pd = idx + (<usize>d << 2), n = load<i32>(sh + (<usize>d << 2)), sd = load<i32>(st + (<usize>d << 2));
      const k = load<i32>(pd) + 1;
      p += sd;
      if (k < n) {
        store<i32>(pd, k);
        break;
      }
      p -= sd * n;
      store<i32>(pd, 0);
    }
  }
}

/**
 * dst[c][r] = src[r][c] for r < rows, c < cols: src rows `ss` bytes apart, dst rows `ds` bytes apart (either
 * may be negative, src's may be 0: a broadcast), each row contiguous. 4×4 blocks go through registers (four
 * 16-byte loads along src's rows, eight shuffles, four 16-byte stores along dst's rows), so reads and
 * writes both walk memory in 16-byte runs. The src rows are taken rb at a time and, within such a band,
 * column block by column block: the four dst rows a column block writes get rb contiguous floats, and
 * each src line (16 floats) is read by four consecutive column blocks while it is still cached. The edges
 * (rows or cols mod 4) are scalar. A copy: bit-exact.
 */
function transpose2d(src: usize, ss: i32, dst: usize, ds: i32, rows: i32, cols: i32): void {
  const r4 = rows & ~3, c4 = cols & ~3;
  // src rows a multiple of 4 KiB apart share cache sets: fewer of them per block, unless dst's rows do too
  // (measured on (12, 64, 1024) permuted either way and on 768 × 1024, 1024 × 768, 1024 × 1024 transposes)
  const rb = (ss & 4095) == 0 && (ds & 4095) != 0 ? 16 : 64;
  for (let r0 = 0; r0 < r4; r0 += rb) {
    const re = min(r0 + rb, r4);
    for (let c = 0; c < c4; c += 4) {
      const s0 = src + (<usize>c << 2), o0 = dst + <usize>(c * ds);
      for (let r = r0; r < re; r += 4) {
        const s = s0 + <usize>(r * ss);
        const r0 = v128.load(s), r1 = v128.load(s + <usize>ss), r2 = v128.load(s + <usize>(2 * ss)), r3 = v128.load(s + <usize>(3 * ss));
        const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
        const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
        const o = o0 + (<usize>r << 2);
        v128.store(o, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
        v128.store(o + <usize>ds, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
        v128.store(o + <usize>(2 * ds), v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
        v128.store(o + <usize>(3 * ds), v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
      }
    }
  }
  // the last cols mod 4 columns, for the rows the blocks covered
  for (let r = 0; r < r4; r++)
    for (let c = c4; c < cols; c++) store<f32>(dst + <usize>(c * ds) + (<usize>r << 2), load<f32>(src + <usize>(r * ss) + (<usize>c << 2)));
  // the last rows mod 4 rows, every column
  for (let r = r4; r < rows; r++)
    for (let c = 0; c < cols; c++) store<f32>(dst + <usize>(c * ds) + (<usize>r << 2), load<f32>(src + <usize>(r * ss) + (<usize>c << 2)));
}

/**
 * The copies of stridedF32 (dir 0 copy, dir 1 assign) for a view whose innermost dim (size N, stride s)
 * is not contiguous but whose dim `a` (size M) has stride 1: a transpose. Each (M × N) plane, for one
 * index of the other dims, is
 *   dir 0:  out[q + i·Oa + j] = x[p + i + j·s]
 *   dir 1:  x[p + i + j·s] = out[q + i·Oa + j]        (i < M, j < N)
 * with Oa = ∏ sh[a+1 ..] the contiguous side's stride of dim a, moved by transpose2d. The other dims are
 * walked by an odometer (at `idx`: nd i32 of indices, then nd i32 of the contiguous side's strides), which
 * moves p by st[d] and q by that stride.
 */
export function transposeF32(dir: i32, x: usize, offset: i32, sh: usize, st: usize, nd: i32, a: i32, out: usize, idx: usize): void {
  const ost = idx + (<usize>nd << 2);
  let o = 1;
  for (let d = nd - 1; d >= 0; d--) {
    store<i32>(ost + (<usize>d << 2), o);
    store<i32>(idx + (<usize>d << 2), 0);
    o *= load<i32>(sh + (<usize>d << 2));
  }
  const l = nd - 1;
  const n = load<i32>(sh + (<usize>l << 2)), s = load<i32>(st + (<usize>l << 2));
  const m = load<i32>(sh + (<usize>a << 2)), oa = load<i32>(ost + (<usize>a << 2));
  let planes = 1;
  for (let d = 0; d < l; d++) if (d != a) planes *= load<i32>(sh + (<usize>d << 2));
  let p = offset, q = 0;
  for (let k = 0; k < planes; k++) {
    const px = x + <usize>(p << 2), qo = out + <usize>(q << 2);
    if (dir == 0) transpose2d(px, s << 2, qo, oa << 2, n, m);
    else transpose2d(qo, oa << 2, px, s << 2, m, n);
    for (let d = l - 1; d >= 0; d--) {
      if (d == a) continue;
      const pd = idx + (<usize>d << 2), nn = load<i32>(sh + (<usize>d << 2));
      const sd = load<i32>(st + (<usize>d << 2)), od = load<i32>(ost + (<usize>d << 2));
      const kk = load<i32>(pd) + 1;
      p += sd;
      q += od;
      if (kk < nn) {
        store<i32>(pd, kk);
        break;
      }
      p -= sd * nn;
      q -= od * nn;
      store<i32>(pd, 0);
    }
  }
}

/** maxOrMin = 1: max (v > best), 0: min (v < best); per lane, a NaN v replaces a non-NaN best (then nothing replaces it). */
// @ts-ignore: decorator
@inline function takes(v: v128, best: v128, maxOrMin: i32): v128 {
  const better = maxOrMin ? f32x4.gt(v, best) : f32x4.lt(v, best);
  return v128.or(better, v128.andnot(f32x4.ne(v, v), f32x4.ne(best, best)));
}

/** takes without NaNs: v strictly better than best, per lane (false where either is NaN). */
// @ts-ignore: decorator
@inline function beats(v: v128, best: v128, maxOrMin: i32): v128 {
  return maxOrMin ? f32x4.gt(v, best) : f32x4.lt(v, best);
}

/**
 * The winner after v, without NaNs: v where it strictly beats best, else best. pmax(b, v) = b < v ? v : b
 * and pmin(b, v) = v < b ? v : b are exactly that (one instruction each; an equal v, +0 against −0
 * included, keeps best).
 */
// @ts-ignore: decorator
@inline function better(best: v128, v: v128, maxOrMin: i32): v128 {
  return maxOrMin ? f32x4.pmax(best, v) : f32x4.pmin(best, v);
}

/** Per lane, the candidate (w, k) replaces (v, i) when it is better, or as good and earlier (no NaNs). */
// @ts-ignore: decorator
@inline function mergeTakes(w: v128, k: v128, v: v128, i: v128, maxOrMin: i32): v128 {
  return v128.or(beats(w, v, maxOrMin), v128.and(f32x4.eq(w, v), i32x4.lt_s(k, i)));
}

/** The reference's scan of the r elements at p, p + step, ... from element `from` on, given the winner so far. */
// @ts-ignore: decorator
@inline function scanTail(p: usize, step: usize, from: i32, r: i32, best: f32, at: i32, values: usize, indices: usize, maxOrMin: i32): void {
  for (let i = from; i < r && best == best; i++) {
    const v = load<f32>(p + <usize>i * step);
    if (v != v || (maxOrMin ? v > best : v < best)) {
      best = v;
      at = i;
    }
  }
  store<f32>(values, best);
  store<i32>(indices, at);
}

/**
 * One contiguous row of r ≥ 16 elements. Sixteen lanes in four vectors (lane l of vector a takes the
 * i ≡ 4a + l (mod 16), and keeps the number of the 16-block it came from), so that four compare/select
 * chains run side by side instead of one. NaNs are only noted on the way (a NaN never beats anything
 * under > or <); a row that has one is scanned again by the reference's loop, which stops at its first
 * NaN. Otherwise each lane holds the first occurrence of its best value, and the sixteen are merged by
 * value, then by the lower index: the reference's winner, the first index of the extreme value (+0 and
 * −0 compare equal, so the first of them wins, as in the scan).
 */
// @ts-ignore: decorator
@inline function extremeRow(xo: usize, r: i32, value: usize, index: usize, maxOrMin: i32): void {
  let b0 = v128.load(xo), b1 = v128.load(xo, 16), b2 = v128.load(xo, 32), b3 = v128.load(xo, 48);
  let k0 = i32x4.splat(0), k1 = k0, k2 = k0, k3 = k0, kv = k0;
  let nan = v128.or(v128.or(f32x4.ne(b0, b0), f32x4.ne(b1, b1)), v128.or(f32x4.ne(b2, b2), f32x4.ne(b3, b3)));
  const one = i32x4.splat(1), r16 = r & ~15;
  for (let i = 16; i < r16; i += 16) {
    const p = xo + (<usize>i << 2);
    const v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32), v3 = v128.load(p, 48);
    kv = i32x4.add(kv, one);
    const t0 = beats(v0, b0, maxOrMin), t1 = beats(v1, b1, maxOrMin), t2 = beats(v2, b2, maxOrMin), t3 = beats(v3, b3, maxOrMin);
    b0 = better(b0, v0, maxOrMin);
    b1 = better(b1, v1, maxOrMin);
    b2 = better(b2, v2, maxOrMin);
    b3 = better(b3, v3, maxOrMin);
    // the block number where taken: kv where t, else k (kv ≥ k ≥ 0, so max(k, kv & t) selects it)
    k0 = i32x4.max_s(k0, v128.and(kv, t0));
    k1 = i32x4.max_s(k1, v128.and(kv, t1));
    k2 = i32x4.max_s(k2, v128.and(kv, t2));
    k3 = i32x4.max_s(k3, v128.and(kv, t3));
    nan = v128.or(nan, v128.or(v128.or(f32x4.ne(v0, v0), f32x4.ne(v1, v1)), v128.or(f32x4.ne(v2, v2), f32x4.ne(v3, v3))));
  }
  if (v128.any_true(nan)) {
    scanTail(xo, 4, 1, r, load<f32>(xo), 0, value, index, maxOrMin);
    return;
  }
  // the index of lane l of vector a: 16·block + 4a + l
  let i0 = i32x4.add(i32x4.shl(k0, 4), i32x4(0, 1, 2, 3));
  let i1 = i32x4.add(i32x4.shl(k1, 4), i32x4(4, 5, 6, 7));
  let i2 = i32x4.add(i32x4.shl(k2, 4), i32x4(8, 9, 10, 11));
  let i3 = i32x4.add(i32x4.shl(k3, 4), i32x4(12, 13, 14, 15));
  // four vectors to one, lane by lane
  let t = mergeTakes(b1, i1, b0, i0, maxOrMin);
  b0 = v128.bitselect(b1, b0, t);
  i0 = v128.bitselect(i1, i0, t);
  t = mergeTakes(b3, i3, b2, i2, maxOrMin);
  b2 = v128.bitselect(b3, b2, t);
  i2 = v128.bitselect(i3, i2, t);
  t = mergeTakes(b2, i2, b0, i0, maxOrMin);
  b0 = v128.bitselect(b2, b0, t);
  i0 = v128.bitselect(i2, i0, t);
  // four lanes to one
  let best = f32x4.extract_lane(b0, 0), at = i32x4.extract_lane(i0, 0);
  for (let l = 1; l < 4; l++) {
    const v = l == 1 ? f32x4.extract_lane(b0, 1) : l == 2 ? f32x4.extract_lane(b0, 2) : f32x4.extract_lane(b0, 3);
    const k = l == 1 ? i32x4.extract_lane(i0, 1) : l == 2 ? i32x4.extract_lane(i0, 2) : i32x4.extract_lane(i0, 3);
    if ((maxOrMin ? v > best : v < best) || (v == best && k < at)) {
      best = v;
      at = k;
    }
  }
  // the last r mod 16 elements: after every index above, so only a strictly better value (or a NaN) wins
  scanTail(xo, 4, r16, r, best, at, value, index, maxOrMin);
}

/**
 * One contiguous row of 8 ≤ r < 16 elements: one vector, the exact rule per lane (lane l takes i ≡ l
 * (mod 4); a NaN replaces a non-NaN winner, then nothing replaces it), the four lanes merged in index
 * order as the scan would meet their winners, then the scan of the last r mod 4.
 */
// @ts-ignore: decorator
@inline function extremeShortRow(xo: usize, r: i32, value: usize, index: usize, maxOrMin: i32): void {
  let bv = v128.load(xo), bi = i32x4(0, 1, 2, 3), iv = i32x4(4, 5, 6, 7);
  const four = i32x4.splat(4);
  let i = 4;
  for (; i + 4 <= r; i += 4) {
    const v = v128.load(xo + (<usize>i << 2));
    const t = takes(v, bv, maxOrMin);
    bv = v128.bitselect(v, bv, t);
    bi = v128.bitselect(iv, bi, t);
    iv = i32x4.add(iv, four);
  }
  let best = f32x4.extract_lane(bv, 0), at = i32x4.extract_lane(bi, 0);
  for (let l = 1; l < 4; l++) {
    const v = l == 1 ? f32x4.extract_lane(bv, 1) : l == 2 ? f32x4.extract_lane(bv, 2) : f32x4.extract_lane(bv, 3);
    const k = l == 1 ? i32x4.extract_lane(bi, 1) : l == 2 ? i32x4.extract_lane(bi, 2) : i32x4.extract_lane(bi, 3);
    const bNaN = best != best, vNaN = v != v;
    let take = false;
    if (vNaN) take = !bNaN || k < at;
    else if (!bNaN) take = (maxOrMin ? v > best : v < best) || (v == best && k < at);
    if (take) {
      best = v;
      at = k;
    }
  }
  scanTail(xo, 4, i, r, best, at, value, index, maxOrMin);
}

/**
 * Four columns of (r, inner) at p, p + row, ...: one vector per row, the exact rule per lane (a NaN
 * replaces a non-NaN winner, then nothing replaces it).
 */
// @ts-ignore: decorator
@inline function extremeColumns4(p: usize, row: usize, r: i32, vo: usize, io: usize, maxOrMin: i32): void {
  let bv = v128.load(p), bi = i32x4.splat(0);
  for (let i = 1; i < r; i++) {
    p += row;
    const v = v128.load(p);
    const t = takes(v, bv, maxOrMin);
    bv = v128.bitselect(v, bv, t);
    bi = v128.bitselect(i32x4.splat(i), bi, t);
  }
  v128.store(vo, bv);
  v128.store(io, bi);
}

/**
 * Sixteen columns of (r, inner): four vectors per row (one 64-byte line), four independent chains; NaNs
 * only noted, and the sixteen columns redone by extremeColumns4 when there was one. Without NaNs, a
 * strictly better value replaces the winner: the first index of the extreme value, as in the scan.
 */
// @ts-ignore: decorator
@inline function extremeColumns16(p: usize, row: usize, r: i32, vo: usize, io: usize, maxOrMin: i32): void {
  let b0 = v128.load(p), b1 = v128.load(p, 16), b2 = v128.load(p, 32), b3 = v128.load(p, 48);
  let k0 = i32x4.splat(0), k1 = k0, k2 = k0, k3 = k0;
  let nan = v128.or(v128.or(f32x4.ne(b0, b0), f32x4.ne(b1, b1)), v128.or(f32x4.ne(b2, b2), f32x4.ne(b3, b3)));
  let q = p;
  for (let i = 1; i < r; i++) {
    q += row;
    const v0 = v128.load(q), v1 = v128.load(q, 16), v2 = v128.load(q, 32), v3 = v128.load(q, 48);
    const kv = i32x4.splat(i);
    const t0 = beats(v0, b0, maxOrMin), t1 = beats(v1, b1, maxOrMin), t2 = beats(v2, b2, maxOrMin), t3 = beats(v3, b3, maxOrMin);
    b0 = better(b0, v0, maxOrMin);
    b1 = better(b1, v1, maxOrMin);
    b2 = better(b2, v2, maxOrMin);
    b3 = better(b3, v3, maxOrMin);
    // the row where taken: i where t, else k (i > k ≥ 0, so max(k, i & t) selects it)
    k0 = i32x4.max_s(k0, v128.and(kv, t0));
    k1 = i32x4.max_s(k1, v128.and(kv, t1));
    k2 = i32x4.max_s(k2, v128.and(kv, t2));
    k3 = i32x4.max_s(k3, v128.and(kv, t3));
    nan = v128.or(nan, v128.or(v128.or(f32x4.ne(v0, v0), f32x4.ne(v1, v1)), v128.or(f32x4.ne(v2, v2), f32x4.ne(v3, v3))));
  }
  if (v128.any_true(nan)) {
    for (let c: usize = 0; c < 64; c += 16) extremeColumns4(p + c, row, r, vo + c, io + c, maxOrMin);
    return;
  }
  v128.store(vo, b0);
  v128.store(vo, b1, 16);
  v128.store(vo, b2, 32);
  v128.store(vo, b3, 48);
  v128.store(io, k0);
  v128.store(io, k1, 16);
  v128.store(io, k2, 32);
  v128.store(io, k3, 48);
}

/**
 * Four columns of (r, inner), r ≥ 8: the rows in four interleaved chains (chain c takes the rows
 * i ≡ c (mod 4), keeping the row where its winner was taken), so that four compare/select chains run side
 * by side; merged by value, then by the lower row; the last r mod 4 rows after that (a later row wins only
 * when strictly better). NaNs are only noted, and the four columns redone by extremeColumns4 when there
 * was one.
 */
// @ts-ignore: decorator
@inline function extremeColumns4x4(p: usize, row: usize, r: i32, vo: usize, io: usize, maxOrMin: i32): void {
  let b0 = v128.load(p), b1 = v128.load(p + row), b2 = v128.load(p + 2 * row), b3 = v128.load(p + 3 * row);
  let k0 = i32x4.splat(0), k1 = i32x4.splat(1), k2 = i32x4.splat(2), k3 = i32x4.splat(3);
  let nan = v128.or(v128.or(f32x4.ne(b0, b0), f32x4.ne(b1, b1)), v128.or(f32x4.ne(b2, b2), f32x4.ne(b3, b3)));
  const r4 = r & ~3;
  let q = p + 4 * row;
  for (let i = 4; i < r4; i += 4, q += 4 * row) {
    const v0 = v128.load(q), v1 = v128.load(q + row), v2 = v128.load(q + 2 * row), v3 = v128.load(q + 3 * row);
    const t0 = beats(v0, b0, maxOrMin), t1 = beats(v1, b1, maxOrMin), t2 = beats(v2, b2, maxOrMin), t3 = beats(v3, b3, maxOrMin);
    b0 = better(b0, v0, maxOrMin);
    b1 = better(b1, v1, maxOrMin);
    b2 = better(b2, v2, maxOrMin);
    b3 = better(b3, v3, maxOrMin);
    // the row where taken: i + c where t, else k (i + c > k ≥ 0, so max(k, (i + c) & t) selects it)
    k0 = i32x4.max_s(k0, v128.and(i32x4.splat(i), t0));
    k1 = i32x4.max_s(k1, v128.and(i32x4.splat(i + 1), t1));
    k2 = i32x4.max_s(k2, v128.and(i32x4.splat(i + 2), t2));
    k3 = i32x4.max_s(k3, v128.and(i32x4.splat(i + 3), t3));
    nan = v128.or(nan, v128.or(v128.or(f32x4.ne(v0, v0), f32x4.ne(v1, v1)), v128.or(f32x4.ne(v2, v2), f32x4.ne(v3, v3))));
  }
  for (let i = r4; i < r; i++) {
    const v = v128.load(p + <usize>i * row);
    nan = v128.or(nan, f32x4.ne(v, v));
  }
  if (v128.any_true(nan)) {
    extremeColumns4(p, row, r, vo, io, maxOrMin);
    return;
  }
  let t = mergeTakes(b1, k1, b0, k0, maxOrMin);
  b0 = v128.bitselect(b1, b0, t);
  k0 = v128.bitselect(k1, k0, t);
  t = mergeTakes(b3, k3, b2, k2, maxOrMin);
  b2 = v128.bitselect(b3, b2, t);
  k2 = v128.bitselect(k3, k2, t);
  t = mergeTakes(b2, k2, b0, k0, maxOrMin);
  b0 = v128.bitselect(b2, b0, t);
  k0 = v128.bitselect(k2, k0, t);
  for (let i = r4; i < r; i++) {
    const v = v128.load(p + <usize>i * row);
    t = beats(v, b0, maxOrMin);
    b0 = v128.bitselect(v, b0, t);
    k0 = v128.bitselect(i32x4.splat(i), k0, t);
  }
  v128.store(vo, b0);
  v128.store(io, k0);
}

// @ts-ignore: decorator
@inline function extreme(x: usize, values: usize, indices: usize, outer: i32, r: i32, inner: i32, maxOrMin: i32): void {
  for (let o = 0; o < outer; o++) {
    const xo = x + (<usize>(o * r * inner) << 2);
    if (inner == 1) {
      const vo = values + (<usize>o << 2), io = indices + (<usize>o << 2);
      if (r >= 16) extremeRow(xo, r, vo, io, maxOrMin);
      else if (r >= 8) extremeShortRow(xo, r, vo, io, maxOrMin);
      else scanTail(xo, 4, 1, r, load<f32>(xo), 0, vo, io, maxOrMin);
      continue;
    }
    const row = <usize>inner << 2;
    const vo = values + (<usize>(o * inner) << 2), io = indices + (<usize>(o * inner) << 2);
    let j = 0;
    for (; j + 16 <= inner; j += 16) {
      const c = <usize>j << 2;
      extremeColumns16(xo + c, row, r, vo + c, io + c, maxOrMin);
    }
    for (; j + 4 <= inner; j += 4) {
      const c = <usize>j << 2;
      if (r >= 8) extremeColumns4x4(xo + c, row, r, vo + c, io + c, maxOrMin);
      else extremeColumns4(xo + c, row, r, vo + c, io + c, maxOrMin);
    }
    for (; j < inner; j++) {
      const c = <usize>j << 2;
      scanTail(xo + c, row, 1, r, load<f32>(xo + c), 0, vo + c, io + c, maxOrMin);
    }
  }
}

export function extremeF32(x: usize, values: usize, indices: usize, outer: i32, r: i32, inner: i32, maxOrMin: i32): void {
  if (maxOrMin) extreme(x, values, indices, outer, r, inner, 1);
  else extreme(x, values, indices, outer, r, inner, 0);
}
