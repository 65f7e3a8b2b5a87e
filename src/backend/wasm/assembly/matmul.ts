// AssemblyScript (compiled to WebAssembly SIMD by tools/build-wasm.mjs; not part of the tsc build).
// Single-precision GEMM in the Goto/BLIS layout:
//
//   B packed whole (all KC×NR panels) once per call by packB tasks, shared by all threads; then per task:
//   for ic in rows of the task by MC:
//     for pc in k by KC:                 A block MC×KC, packed into the thread's scratch (L2)
//       for jr in n by NR:                 B micro-panel KC×NR (L1)
//         for ir in mc by MR:                micro-kernel: C[MR×NR] (+)= Apanel[MR×KC] · Bpanel[KC×NR]
//
// Memory is owned by the JavaScript side (the arena of ../instance.ts, ../matmul.ts): every pointer is a byte
// offset it chose. Nothing here allocates, and the module has no data segments, so each worker can
// instantiate it over the same shared memory without clobbering anything.

// Register tile: MR rows × NR columns = 4 × 8 = 8 f32x4 accumulators (+2 B vectors, 1 broadcast A).
export const MR: i32 = 4;
export const NR: i32 = 8;
// Cache blocks: the A block MC×KC (64 KiB) stays in L2, a B micro-panel KC×NR (8 KiB) in L1.
export const KC: i32 = 256;
export const MC: i32 = 64;

// Layout of the parameter block written by the JavaScript side (i32 fields, byte offsets).
const P_KIND = 0;       // 1 = gemm
const P_A = 4;          // A base (bytes)
const P_BP = 8;         // packed B base (bytes)
const P_C = 12;         // C base (bytes), contiguous [batch, m, n]
const P_M = 16;
const P_N = 20;
const P_K = 24;
const P_RSA = 28;       // elements between A(i, p) and A(i+1, p)
const P_CSA = 32;       // elements between A(i, p) and A(i, p+1)
const P_STRIDE_A = 36;  // elements between batch matrices of A (0: broadcast)
const P_STRIDE_BP = 40; // elements between packed batch matrices of B (0: broadcast)
const P_ACC = 44;       // 1: C += A·B
const P_ROWS = 48;      // rows per task (multiple of MR)
const P_COLS = 52;      // columns per task (multiple of NR)
const P_TASKS_M = 56;   // row tasks per batch matrix
const P_TASKS_N = 60;   // column tasks per row task
const P_SCRATCH = 64;   // scratch base (bytes); thread t uses [base + t·stride, base + (t+1)·stride)
const P_SCRATCH_STRIDE = 68;
const P_B = 72;          // B as stored (bytes), for the packing tasks
const P_RSB = 76;        // elements between op(B)(p, j) and op(B)(p+1, j)
const P_CSB = 80;        // elements between op(B)(p, j) and op(B)(p, j+1)
const P_STRIDE_B = 84;   // elements between batch matrices of B as stored
const P_PACK_COLS = 88;  // columns per packing task (multiple of NR)
const P_PACK_TASKS = 92; // packing tasks per batch matrix of B

/** Bytes of scratch one thread needs: the packed A block and one edge tile. */
export function scratchBytes(): i32 {
  return (MC * KC + MR * NR) * 4;
}

/** Elements of the packed B buffer for one op(B) of k×n. */
export function packedBElems(k: i32, n: i32): i32 {
  return k * ((n + NR - 1) / NR) * NR;
}

/**
 * Packs columns [jBegin, jEnd) (jBegin a multiple of NR) of op(B) (k×n; element (p, j) at
 * b + (p·rsB + j·csB)·4) into dst: for each KC block starting at p0, NR-column panels of kc×NR floats;
 * panel j0 of block p0 starts at element p0·npad + j0·kc. Columns past n are zero.
 */
export function packB(b: usize, rsB: i32, csB: i32, k: i32, n: i32, jBegin: i32, jEnd: i32, dst: usize): void {
  const npad = ((n + NR - 1) / NR) * NR;
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = min(KC, k - p0);
    for (let j0 = jBegin; j0 < jEnd; j0 += NR) {
      const nr = min(NR, n - j0);
      let d = dst + (<usize>(p0 * npad + j0 * kc) << 2);
      if (csB == 1 && nr == NR) {
        // rows of B are contiguous: copy 8 floats per p
        let s = b + (<usize>(p0 * rsB + j0) << 2);
        const step = <usize>rsB << 2;
        for (let p = 0; p < kc; p++) {
          v128.store(d, v128.load(s));
          v128.store(d, v128.load(s, 16), 16);
          s += step;
          d += NR << 2;
        }
      } else if (rsB == 1 && nr == NR) {
        // columns of B are contiguous (B stored transposed): 4×4 transposes
        const cs = <usize>csB << 2;
        let p = 0;
        for (; p + 4 <= kc; p += 4) {
          for (let h = 0; h < 2; h++) {
            const s = b + (<usize>(p0 + p + (j0 + h * 4) * csB) << 2);
            const r0 = v128.load(s), r1 = v128.load(s + cs), r2 = v128.load(s + 2 * cs), r3 = v128.load(s + 3 * cs);
            // r_c = column j0+4h+c, lanes p..p+3; write lanes as rows p..p+3 of the panel
            const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
            const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
            const o = d + (<usize>(p * NR + h * 4) << 2);
            v128.store(o, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
            v128.store(o, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), NR * 4);
            v128.store(o, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), NR * 8);
            v128.store(o, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), NR * 12);
          }
        }
        for (; p < kc; p++) {
          for (let j = 0; j < NR; j++) {
            store<f32>(d + (<usize>(p * NR + j) << 2), load<f32>(b + (<usize>((p0 + p) + (j0 + j) * csB) << 2)));
          }
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let j = 0; j < NR; j++) {
            const v = j < nr ? load<f32>(b + (<usize>((p0 + p) * rsB + (j0 + j) * csB) << 2)) : f32(0);
            store<f32>(d + (<usize>(p * NR + j) << 2), v);
          }
        }
      }
    }
  }
}

/** Packs rows i0..i0+mc, columns p0..p0+kc of op(A) into MR-row panels of kc×MR floats (rows past mc are zero). */
function packA(a: usize, rsA: i32, csA: i32, i0: i32, mc: i32, p0: i32, kc: i32, dst: usize): void {
  let d = dst;
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = min(MR, mc - ir);
    if (mr == MR && csA == 1) {
      // rows of A are contiguous: 4×4 transposes
      const rs = <usize>rsA << 2;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const s = a + (<usize>((i0 + ir) * rsA + p0 + p) << 2);
        const r0 = v128.load(s), r1 = v128.load(s + rs), r2 = v128.load(s + 2 * rs), r3 = v128.load(s + 3 * rs);
        const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
        const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
        v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
        v128.store(d, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 16);
        v128.store(d, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 32);
        v128.store(d, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 48);
        d += 64;
      }
      for (; p < kc; p++) {
        const s = a + (<usize>((i0 + ir) * rsA + p0 + p) << 2);
        store<f32>(d, load<f32>(s));
        store<f32>(d, load<f32>(s + rs), 4);
        store<f32>(d, load<f32>(s + 2 * rs), 8);
        store<f32>(d, load<f32>(s + 3 * rs), 12);
        d += 16;
      }
    } else if (mr == MR && rsA == 1) {
      // A stored transposed: the MR values of one p are contiguous
      let s = a + (<usize>(i0 + ir + p0 * csA) << 2);
      const step = <usize>csA << 2;
      for (let p = 0; p < kc; p++) {
        v128.store(d, v128.load(s));
        s += step;
        d += 16;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let r = 0; r < MR; r++) {
          const v = r < mr ? load<f32>(a + (<usize>((i0 + ir + r) * rsA + (p0 + p) * csA) << 2)) : f32(0);
          store<f32>(d + (<usize>r << 2), v);
        }
        d += 16;
      }
    }
  }
}

/** a·b + c: one fused multiply-add where the module is built with relaxed SIMD, else a multiply and an add. */
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** C[4×8] (+)= Apanel[4×kc] · Bpanel[kc×8]; c rows are ldc bytes apart. */
// @ts-ignore: decorator
@inline function micro4x8(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, beta: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    pa += 16;
    pb += 32;
  }
  if (beta) {
    c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + ldc)); c11 = f32x4.add(c11, v128.load(c + ldc, 16));
    c20 = f32x4.add(c20, v128.load(c + 2 * ldc)); c21 = f32x4.add(c21, v128.load(c + 2 * ldc, 16));
    c30 = f32x4.add(c30, v128.load(c + 3 * ldc)); c31 = f32x4.add(c31, v128.load(c + 3 * ldc, 16));
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ldc, c10); v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20); v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30); v128.store(c + 3 * ldc, c31, 16);
}

/** One task of a gemm: rows [i0, i1) × columns [j0, j1) of batch matrix t, with thread-private scratch. */
function gemmTask(params: usize, task: i32, scratch: usize): void {
  const m = load<i32>(params, P_M), n = load<i32>(params, P_N), k = load<i32>(params, P_K);
  const rsA = load<i32>(params, P_RSA), csA = load<i32>(params, P_CSA);
  const rows = load<i32>(params, P_ROWS), cols = load<i32>(params, P_COLS);
  const tasksM = load<i32>(params, P_TASKS_M), tasksN = load<i32>(params, P_TASKS_N);
  const acc = load<i32>(params, P_ACC) != 0;
  const perBatch = tasksM * tasksN;
  const t = task / perBatch, r = task % perBatch;
  const i0 = (r / tasksN) * rows, i1 = min(m, i0 + rows);
  const j0 = (r % tasksN) * cols, j1 = min(n, j0 + cols);
  const a = <usize>load<i32>(params, P_A) + (<usize>(t * load<i32>(params, P_STRIDE_A)) << 2);
  const bp = <usize>load<i32>(params, P_BP) + (<usize>(t * load<i32>(params, P_STRIDE_BP)) << 2);
  const c = <usize>load<i32>(params, P_C) + (<usize>(t * m * n) << 2);
  const npad = ((n + NR - 1) / NR) * NR;
  const ldc = <usize>n << 2;
  const pa = scratch, tile = scratch + (<usize>(MC * KC) << 2);
  // ic outside pc: the MC×n strip of C being accumulated stays in L2 across the KC blocks (B is
  // already packed whole, so this order costs nothing).
  for (let ic = i0; ic < i1; ic += MC) {
    const mc = min(MC, i1 - ic);
    for (let p0 = 0; p0 < k; p0 += KC) {
      const kc = min(KC, k - p0);
      const beta = acc || p0 > 0;
      packA(a, rsA, csA, ic, mc, p0, kc, pa);
      for (let jr = j0; jr < j1; jr += NR) {
        const nr = min(NR, j1 - jr);
        const pb = bp + (<usize>(p0 * npad + jr * kc) << 2);
        for (let ir = 0; ir < mc; ir += MR) {
          const mr = min(MR, mc - ir);
          const pai = pa + (<usize>(ir * kc) << 2);
          const cij = c + (<usize>((ic + ir) * n + jr) << 2);
          if (mr == MR && nr == NR) {
            micro4x8(kc, pai, pb, cij, ldc, beta);
          } else {
            micro4x8(kc, pai, pb, tile, NR << 2, false);
            for (let y = 0; y < mr; y++) {
              for (let x = 0; x < nr; x++) {
                const o = cij + (<usize>(y * n + x) << 2);
                const v = load<f32>(tile + (<usize>(y * NR + x) << 2));
                store<f32>(o, beta ? load<f32>(o) + v : v);
              }
            }
          }
        }
      }
    }
  }
}

/** One packing task of a gemm: columns [j0, j1) of batch matrix t of op(B). */
function packBTask(params: usize, task: i32): void {
  const n = load<i32>(params, P_N), k = load<i32>(params, P_K);
  const cols = load<i32>(params, P_PACK_COLS), perBatch = load<i32>(params, P_PACK_TASKS);
  const t = task / perBatch, j0 = (task % perBatch) * cols, j1 = min(n, j0 + cols);
  const b = <usize>load<i32>(params, P_B) + (<usize>(t * load<i32>(params, P_STRIDE_B)) << 2);
  const bp = <usize>load<i32>(params, P_BP) + (<usize>(t * load<i32>(params, P_STRIDE_BP)) << 2);
  packB(b, load<i32>(params, P_RSB), load<i32>(params, P_CSB), k, n, j0, j1, bp);
}

/** Runs task `task` of the kernel described at `params`, using thread `thread`'s scratch. */
export function runTask(params: usize, task: i32, thread: i32): void {
  const scratch = <usize>load<i32>(params, P_SCRATCH) + <usize>(thread * load<i32>(params, P_SCRATCH_STRIDE));
  const kind = load<i32>(params, P_KIND);
  if (kind == 1) gemmTask(params, task, scratch);
  else if (kind == 2) packBTask(params, task);
}
