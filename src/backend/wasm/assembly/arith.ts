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
// occurrence; a NaN wins and stops the scan (the reference's rule). Four lanes: across the columns when
// inner > 1, else across the row (lane l takes i ≡ l mod 4; the lanes' winners are merged by value,
// then by the lower index, a NaN lane first).
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
 * The layout copies over a coalesced view (shape at `sh`, element strides at `st`, nd i32 each, in the
 * parameter block; nd ≥ 1), both operands in wasm memory:
 *   dir 0 (stridedCopy):    out[i] = x[offset + idx(i)·st]
 *   dir 1 (stridedAssign):  x[offset + idx(i)·st] = out[i]
 *   dir 2 (accumulate):     x[offset + idx(i)·st] += out[i], in row-major order (the reference's)
 * The innermost dim is one run: memory.copy when its stride is 1 (copies), else a scalar loop; the outer
 * dims are walked by an odometer (at `idx`, nd i32 of scratch).
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
      else for (let j = 0, q = pe; j < inner; j++, q += <usize>s << 2) store<f32>(pi + (<usize>j << 2), load<f32>(q));
    } else if (dir == 1) {
      if (s == 1) memory.copy(pe, pi, runBytes);
      else for (let j = 0, q = pe; j < inner; j++, q += <usize>s << 2) store<f32>(q, load<f32>(pi + (<usize>j << 2)));
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

export function extremeF32(x: usize, values: usize, indices: usize, outer: i32, r: i32, inner: i32, maxOrMin: i32): void {
  for (let o = 0; o < outer; o++) {
    const xo = x + (<usize>(o * r * inner) << 2);
    if (inner == 1) {
      let best = load<f32>(xo), at = 0;
      let i = 1;
      if (r >= 8) {
        // lane l holds the winner among i ≡ l (mod 4)
        let bv = v128.load(xo), bi = i32x4(0, 1, 2, 3), iv = i32x4(4, 5, 6, 7);
        const four = i32x4.splat(4);
        i = 4;
        for (; i + 4 <= r; i += 4) {
          const v = v128.load(xo + (<usize>i << 2));
          const t = takes(v, bv, maxOrMin);
          bv = v128.bitselect(v, bv, t);
          bi = v128.bitselect(iv, bi, t);
          iv = i32x4.add(iv, four);
        }
        // merge the lanes in index order: lane winners are tried as the reference's scan would meet them
        best = f32x4.extract_lane(bv, 0);
        at = i32x4.extract_lane(bi, 0);
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
      }
      for (; i < r && best == best; i++) {
        const v = load<f32>(xo + (<usize>i << 2));
        if (v != v || (maxOrMin ? v > best : v < best)) {
          best = v;
          at = i;
        }
      }
      store<f32>(values + (<usize>o << 2), best);
      store<i32>(indices + (<usize>o << 2), at);
      continue;
    }
    const i4 = inner & ~3, row = <usize>inner << 2;
    const vo = values + (<usize>(o * inner) << 2), io = indices + (<usize>(o * inner) << 2);
    for (let j = 0; j < i4; j += 4) {
      let p = xo + (<usize>j << 2);
      let bv = v128.load(p), bi = i32x4.splat(0);
      for (let i = 1; i < r; i++) {
        p += row;
        const v = v128.load(p);
        const t = takes(v, bv, maxOrMin);
        bv = v128.bitselect(v, bv, t);
        bi = v128.bitselect(i32x4.splat(i), bi, t);
      }
      v128.store(vo + (<usize>j << 2), bv);
      v128.store(io + (<usize>j << 2), bi);
    }
    for (let j = i4; j < inner; j++) {
      let best = load<f32>(xo + (<usize>j << 2)), at = 0;
      for (let i = 1; i < r && best == best; i++) {
        const v = load<f32>(xo + (<usize>(i * inner + j) << 2));
        if (v != v || (maxOrMin ? v > best : v < best)) {
          best = v;
          at = i;
        }
      }
      store<f32>(vo + (<usize>j << 2), best);
      store<i32>(io + (<usize>j << 2), at);
    }
  }
}
