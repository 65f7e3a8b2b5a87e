// AssemblyScript: the product of a few rows by a matrix, C (m × n) (+)= A (m × k) · op(B) (k × n) for
// m ≤ 4, without packing: the decode step of a language model (one token: m = 1) reads every weight
// once, so the work is streaming B through memory. A is m contiguous rows of k floats.
//
//   transB (B stored n × k, a Linear's weight):  C[r][j] = a_r · B_j — dot products along B's rows,
//     two rows of B at a time against all m rows of A (8 accumulators);
//   B stored k × n:  C[r][j..j+8) += a_r[p]·B[p][j..j+8) — eight columns at a time, p ascending.
//
// Tasks (the pool's) take runs of COLS_PER_TASK-aligned columns [j0, j1).

import { hsum, madd } from "./vmath";

// parameter block (i32 fields, byte offsets), written by ../matmul.ts
const G_A = 4, G_B = 8, G_C = 12, G_M = 16, G_N = 20, G_K = 24, G_TRANS_B = 28, G_ACC = 32, G_COLS = 36;

/** dot(a, b) over k floats: four lanes, then the scalar tail. */
// @ts-ignore: decorator
@inline function dot(a: usize, b: usize, k: i32): f32 {
  const k4 = <usize>(k & ~3) << 2, end = <usize>k << 2;
  let acc = f32x4.splat(0);
  for (let o: usize = 0; o < k4; o += 16) acc = madd(v128.load(a + o), v128.load(b + o), acc);
  let s = hsum(acc);
  for (let o = k4; o < end; o += 4) s += load<f32>(a + o) * load<f32>(b + o);
  return s;
}

function gemvTransB(a: usize, B: usize, c: usize, m: i32, n: i32, k: i32, acc: bool, j0: i32, j1: i32): void {
  const ks = <usize>k << 2, ns = <usize>n << 2;
  const k4 = <usize>(k & ~3) << 2, end = <usize>k << 2;
  let j = j0;
  if (m == 1) {
    // two rows of B per pass, four lanes each, two accumulators per row
    for (; j + 2 <= j1; j += 2) {
      const b0 = B + <usize>j * ks, b1 = b0 + ks;
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), t0 = f32x4.splat(0), t1 = f32x4.splat(0);
      let o: usize = 0;
      for (; o + 32 <= k4; o += 32) {
        const x0 = v128.load(a + o), x1 = v128.load(a + o, 16);
        s0 = madd(x0, v128.load(b0 + o), s0); t0 = madd(x1, v128.load(b0 + o, 16), t0);
        s1 = madd(x0, v128.load(b1 + o), s1); t1 = madd(x1, v128.load(b1 + o, 16), t1);
      }
      for (; o < k4; o += 16) {
        const x0 = v128.load(a + o);
        s0 = madd(x0, v128.load(b0 + o), s0);
        s1 = madd(x0, v128.load(b1 + o), s1);
      }
      let r0 = hsum(f32x4.add(s0, t0)), r1 = hsum(f32x4.add(s1, t1));
      for (; o < end; o += 4) {
        const x = load<f32>(a + o);
        r0 += x * load<f32>(b0 + o);
        r1 += x * load<f32>(b1 + o);
      }
      const pc = c + (<usize>j << 2);
      store<f32>(pc, acc ? load<f32>(pc) + r0 : r0);
      store<f32>(pc, acc ? load<f32>(pc, 4) + r1 : r1, 4);
    }
  }
  for (; j < j1; j++) {
    const bj = B + <usize>j * ks;
    for (let r = 0; r < m; r++) {
      const s = dot(a + <usize>r * ks, bj, k);
      const pc = c + <usize>r * ns + (<usize>j << 2);
      store<f32>(pc, acc ? load<f32>(pc) + s : s);
    }
  }
}

function gemvB(a: usize, B: usize, c: usize, m: i32, n: i32, k: i32, acc: bool, j0: i32, j1: i32): void {
  const ks = <usize>k << 2, ns = <usize>n << 2;
  // rows past m read row 0 again (their sums are never stored)
  const a0 = a, a1 = a + <usize>min(1, m - 1) * ks, a2 = a + <usize>min(2, m - 1) * ks, a3 = a + <usize>min(3, m - 1) * ks;
  let j = j0;
  for (; j + 8 <= j1; j += 8) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    let pb = B + (<usize>j << 2);
    for (let p = 0; p < k; p++) {
      const b0 = v128.load(pb), b1 = v128.load(pb, 16);
      const o = <usize>p << 2;
      let x = v128.load32_splat(a0 + o);
      c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
      x = v128.load32_splat(a1 + o);
      c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
      x = v128.load32_splat(a2 + o);
      c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
      x = v128.load32_splat(a3 + o);
      c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
      pb += ns;
    }
    const pc = c + (<usize>j << 2);
    if (acc) {
      c00 = f32x4.add(c00, v128.load(pc)); c01 = f32x4.add(c01, v128.load(pc, 16));
      if (m > 1) { c10 = f32x4.add(c10, v128.load(pc + ns)); c11 = f32x4.add(c11, v128.load(pc + ns, 16)); }
      if (m > 2) { c20 = f32x4.add(c20, v128.load(pc + 2 * ns)); c21 = f32x4.add(c21, v128.load(pc + 2 * ns, 16)); }
      if (m > 3) { c30 = f32x4.add(c30, v128.load(pc + 3 * ns)); c31 = f32x4.add(c31, v128.load(pc + 3 * ns, 16)); }
    }
    v128.store(pc, c00); v128.store(pc, c01, 16);
    if (m > 1) { v128.store(pc + ns, c10); v128.store(pc + ns, c11, 16); }
    if (m > 2) { v128.store(pc + 2 * ns, c20); v128.store(pc + 2 * ns, c21, 16); }
    if (m > 3) { v128.store(pc + 3 * ns, c30); v128.store(pc + 3 * ns, c31, 16); }
  }
  for (; j < j1; j++) {
    for (let r = 0; r < m; r++) {
      let s: f32 = 0;
      for (let p = 0; p < k; p++) s += load<f32>(a + <usize>r * ks + (<usize>p << 2)) * load<f32>(B + <usize>p * ns + (<usize>j << 2));
      const pc = c + <usize>r * ns + (<usize>j << 2);
      store<f32>(pc, acc ? load<f32>(pc) + s : s);
    }
  }
}

/** One task of a gemv: columns [task·cols, (task + 1)·cols). */
export function gemvTask(P: usize, task: i32): void {
  const n = load<i32>(P, G_N), cols = load<i32>(P, G_COLS);
  const j0 = task * cols, j1 = min(n, j0 + cols);
  const a = <usize>load<i32>(P, G_A), B = <usize>load<i32>(P, G_B), c = <usize>load<i32>(P, G_C);
  const m = load<i32>(P, G_M), k = load<i32>(P, G_K), acc = load<i32>(P, G_ACC) != 0;
  if (load<i32>(P, G_TRANS_B) != 0) gemvTransB(a, B, c, m, n, k, acc, j0, j1);
  else gemvB(a, B, c, m, n, k, acc, j0, j1);
}
