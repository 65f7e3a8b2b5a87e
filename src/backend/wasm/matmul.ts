// float32 matmul on the wasm kernels (./assembly/matmul.ts); every other dtype runs the reference loop.
//
// Memory model: an operand that lives in wasm memory (a tensor made inside a memory scope, or a kept
// one: heap.ts) is read, and C written, where it is; an ordinary garbage-collected typed array is copied
// into the scratch arena of the wasm memory (and C back out):
//
//   arena: [A: as stored, all batch matrices] [B: as stored] [packed B] [C: batch·m·n] [scratch × threads]
//
// (A, B and C take no arena room when resident.) The arena is reused by every call and only grows. A weight B that the op marks constant (Linear under
// noGrad: MatmulParams.constantB) is copied once per no-grad region and kept below the arena
// (weights.ts). Products of at most four rows (decoding one token) skip packing: gemv below. B is packed once per call on the calling thread
// (all of op(B), in KC×NR panels), then the output is cut into tasks of rows (and, when rows are few,
// columns) that the pool's threads take in any order; each task packs its own rows of A.

import type { FloatArr, MatmulKernels, MatmulParams } from "../backend.js";
import { matmul as reference } from "../reference/matmul.js";
import { ensureBytes, PARAMS, wasm, type WasmState } from "./instance.js";
import { threadPool } from "./pool.js";
import { DEFAULT_PARALLEL_MIN, parallelMin, setParallelMin } from "./thresholds.js";
import { heapTop, residentOffset } from "./heap.js";
import { cachedWeight } from "./weights.js";

/** Tests only: dispatch to the pool from this many multiply-adds on (undefined: the default). */
export function setParallelThreshold(macs: number | undefined): void {
  setParallelMin({ matmulMacs: macs ?? DEFAULT_PARALLEL_MIN.matmulMacs });
}
/** Tasks per thread, so that a slow thread (another process on its core) does not stall the others. */
const TASKS_PER_THREAD = 8;

const align = (x: number, a: number): number => Math.ceil(x / a) * a;

/** Parameter block fields (i32 index = byte offset / 4); mirrors P_* in ./assembly/matmul.ts. */
const enum P {
  KIND,
  A,
  BP,
  C,
  M,
  N,
  K,
  RSA,
  CSA,
  STRIDE_A,
  STRIDE_BP,
  ACC,
  ROWS,
  COLS,
  TASKS_M,
  TASKS_N,
  SCRATCH,
  SCRATCH_STRIDE,
  B,
  RSB,
  CSB,
  STRIDE_B,
  PACK_COLS,
  PACK_TASKS,
}
const KIND_GEMM = 1;
const KIND_PACK_B = 2;
const KIND_GEMV = 6;
/** Products with at most this many rows (one batch matrix) take the unpacked gemv path. */
const GEMV_MAX_M = 4;
/** Multiply-adds from which a gemv is split over the pool (it streams B: ≈ 4 MB of weights). */
const GEMV_PARALLEL_MIN = 1 << 20;
/** Parameter block of a gemv (i32 index); mirrors G_* in ./assembly/gemv.ts. */
const enum G {
  KIND,
  A,
  B,
  C,
  M,
  N,
  K,
  TRANS_B,
  ACC,
  COLS,
}

/** Time spent copying operands in and the result out, for the benchmark's accounting. */
export const copyStats = { calls: 0, copyMs: 0 };
export let measureCopies = false;
export function setMeasureCopies(on: boolean): void {
  measureCopies = on;
}

export const matmul: MatmulKernels = {
  matmul(a: FloatArr, b: FloatArr, out: FloatArr, p: MatmulParams, accumulate = false): void {
    if (!(a instanceof Float32Array && b instanceof Float32Array && out instanceof Float32Array)) {
      reference.matmul(a, b, out, p, accumulate);
      return;
    }
    matmulF32(a, b, out, p, accumulate);
  },
};

function matmulF32(a: Float32Array, b: Float32Array, out: Float32Array, p: MatmulParams, accumulate: boolean): void {
  const { batch, m, n, k, transA, transB, strideA, strideB } = p;
  const cLen = batch * m * n;
  if (cLen === 0 || k === 0) {
    if (k === 0 && !accumulate) out.fill(0, 0, cLen);
    if (k === 0 && p.bias) addBias(out, p.bias, batch * m, n);
    if (p.rowSumsA) rowSums(a, p, p.rowSumsA);
    return;
  }
  const st = wasm();
  const x = st.exports;
  // B kept in wasm memory across calls when the op says it is a constant weight (weights.ts)
  const bRes = residentOffset(b);
  const bKept =
    bRes >= 0
      ? bRes
      : p.constantB !== undefined && strideB === 0 && b.length === k * n
        ? cachedWeight(st, b, p.constantB)
        : -1;
  if (batch === 1 && m <= GEMV_MAX_M) {
    gemv(st, a, b, bKept, out, p, accumulate);
    return;
  }
  const MR = x.MR.value,
    NR = x.NR.value;
  const pool = batch * m * n * k >= parallelMin.matmulMacs ? threadPool(st) : null;
  const threads = pool ? pool.threads : 1;

  // Arena layout (bytes, 16-aligned).
  const aLen = strideA === 0 ? m * k : (batch - 1) * strideA + m * k;
  const bLen = bKept >= 0 ? 0 : strideB === 0 ? k * n : (batch - 1) * strideB + k * n;
  const bBatches = strideB === 0 ? 1 : batch;
  const bpLen = x.packedBElems(k, n);
  const aRes = residentOffset(a),
    cRes = residentOffset(out);
  const base = heapTop();
  const aOff = aRes >= 0 ? aRes : base;
  const aEnd = aRes >= 0 ? base : aOff + 4 * aLen;
  const bOff = bKept >= 0 ? bKept : align(aEnd, 64);
  const bpOff = align(bKept >= 0 ? aEnd : bOff + 4 * bLen, 64);
  const cOff = cRes >= 0 ? cRes : align(bpOff + 4 * bpLen * bBatches, 64);
  const scratchOff = align(cRes >= 0 ? bpOff + 4 * bpLen * bBatches : cOff + 4 * cLen, 64);
  const scratchStride = align(x.scratchBytes(), 64);
  // the bias row, the row sums of op(A) and their float64 accumulators
  const biasOff = align(scratchOff + scratchStride * threads, 64);
  const sumsOff = align(biasOff + 4 * n + 16, 64),
    accOff = align(sumsOff + 4 * m + 16, 64);
  ensureBytes(
    st,
    p.rowSumsA ? accOff + 8 * Math.max(m, 1) + 16 : p.bias ? sumsOff : scratchOff + scratchStride * threads,
  );

  const t0 = measureCopies ? performance.now() : 0;
  const buf = st.memory.buffer;
  const heap = new Float32Array(buf);
  if (aRes < 0) heap.set(a.subarray(0, aLen), aOff >>> 2);
  if (bKept < 0) heap.set(b.subarray(0, bLen), bOff >>> 2);
  if (accumulate && cRes < 0) heap.set(out.subarray(0, cLen), cOff >>> 2);
  const t1 = measureCopies ? performance.now() : 0;

  // op(A)(i, p) sits at i·rsA + p·csA; op(B)(p, j) at p·rsB + j·csB.
  const rsA = transA ? 1 : k,
    csA = transA ? m : 1;
  const rsB = transB ? 1 : n,
    csB = transB ? k : 1;
  // Tasks: split rows (multiples of MR) until there are enough; split columns only when rows run out.
  const want = threads === 1 ? 1 : Math.ceil((TASKS_PER_THREAD * threads) / batch);
  const tasksM0 = Math.min(want, Math.ceil(m / MR));
  const rows = align(Math.ceil(m / tasksM0), MR),
    tasksM = Math.ceil(m / rows);
  const tasksN0 = Math.min(Math.ceil(want / tasksM), Math.ceil(n / NR));
  const cols = align(Math.ceil(n / tasksN0), NR),
    tasksN = Math.ceil(n / cols);

  const prm = new Int32Array(buf, PARAMS, 32);
  prm[P.A] = aOff;
  prm[P.BP] = bpOff;
  prm[P.C] = cOff;
  prm[P.M] = m;
  prm[P.N] = n;
  prm[P.K] = k;
  prm[P.RSA] = rsA;
  prm[P.CSA] = csA;
  prm[P.STRIDE_A] = strideA;
  prm[P.STRIDE_BP] = strideB === 0 ? 0 : bpLen;
  prm[P.ACC] = accumulate ? 1 : 0;
  prm[P.ROWS] = rows;
  prm[P.COLS] = cols;
  prm[P.TASKS_M] = tasksM;
  prm[P.TASKS_N] = tasksN;
  prm[P.SCRATCH] = scratchOff;
  prm[P.SCRATCH_STRIDE] = scratchStride;
  prm[P.B] = bOff;
  prm[P.RSB] = rsB;
  prm[P.CSB] = csB;
  prm[P.STRIDE_B] = strideB;

  // Phase 1: pack op(B), split over column panels. Phase 2: the products, split over rows (and columns).
  const packTasks = pool ? Math.min(Math.ceil(n / NR), Math.ceil((TASKS_PER_THREAD * threads) / bBatches)) : 1;
  const packCols = align(Math.ceil(n / packTasks), NR);
  prm[P.PACK_COLS] = packCols;
  prm[P.PACK_TASKS] = Math.ceil(n / packCols);
  run(KIND_PACK_B, bBatches * prm[P.PACK_TASKS]!);
  run(KIND_GEMM, batch * tasksM * tasksN);
  if (p.bias) {
    // C += bias on every row (./assembly/arith.ts, op 0 = add), while C is still in cache
    const biasRes = residentOffset(p.bias);
    if (biasRes < 0) heap.set(p.bias.subarray(0, n), biasOff >>> 2);
    x.binaryF32(0, cOff, n, 1, biasRes >= 0 ? biasRes : biasOff, 0, 1, cOff, batch * m, n);
  }
  if (p.rowSumsA) {
    // Σ_p op(A)(i, p) from A's copy: down the columns of A stored [k, m], along the rows of A stored [m, k]
    if (transA) x.sumF32(aOff, sumsOff, 1, k, m, accOff);
    else x.sumF32(aOff, sumsOff, m, k, 1, accOff);
    (p.rowSumsA as Float32Array).set(heap.subarray(sumsOff >>> 2, (sumsOff >>> 2) + m));
  }

  function run(kind: number, count: number): void {
    prm[P.KIND] = kind;
    if (pool && count > 1) pool.run(count);
    else for (let t = 0; t < count; t++) x.runTask(PARAMS, t, 0);
  }

  const t2 = measureCopies ? performance.now() : 0;
  if (cRes < 0) out.set(heap.subarray(cOff >>> 2, (cOff >>> 2) + cLen));
  if (measureCopies) {
    copyStats.calls++;
    copyStats.copyMs += t1 - t0 + (performance.now() - t2);
  }
}

/**
 * C (m × n, m ≤ 4) (+)= op(A)·op(B) without packing (./assembly/gemv.ts): A copied in as m contiguous
 * rows, B read where it is (a kept weight) or copied in as stored, columns split over the pool.
 */
function gemv(
  st: WasmState,
  a: Float32Array,
  b: Float32Array,
  bKept: number,
  out: Float32Array,
  p: MatmulParams,
  accumulate: boolean,
): void {
  const { m, n, k, transA, transB } = p;
  const x = st.exports;
  const aOff = heapTop();
  const bOff = bKept >= 0 ? bKept : align(aOff + 4 * m * k + 16, 64);
  const cOff = align((bKept >= 0 ? aOff + 4 * m * k : bOff + 4 * k * n) + 16, 64);
  ensureBytes(st, cOff + 4 * m * n + 16);
  const heap = new Float32Array(st.memory.buffer);
  // A as m contiguous rows of k (transposed when stored [k, m]); small, so always copied
  if (!transA || m === 1) heap.set(a.subarray(0, m * k), aOff >>> 2);
  else for (let i = 0; i < m; i++) for (let q = 0; q < k; q++) heap[(aOff >>> 2) + i * k + q] = a[q * m + i]!;
  if (bKept < 0) heap.set(b.subarray(0, k * n), bOff >>> 2);
  if (accumulate) heap.set(out.subarray(0, m * n), cOff >>> 2);
  const pool = m * n * k >= GEMV_PARALLEL_MIN ? threadPool(st) : null;
  if (p.rowSumsA) rowSums(a, p, p.rowSumsA);
  const tasks = pool ? Math.min(Math.ceil(n / 8), TASKS_PER_THREAD * pool.threads) : 1;
  const cols = align(Math.ceil(n / tasks), 8);
  const prm = new Int32Array(st.memory.buffer, PARAMS, 32);
  prm[G.KIND] = KIND_GEMV;
  prm[G.A] = aOff;
  prm[G.B] = bOff;
  prm[G.C] = cOff;
  prm[G.M] = m;
  prm[G.N] = n;
  prm[G.K] = k;
  prm[G.TRANS_B] = transB ? 1 : 0;
  prm[G.ACC] = accumulate ? 1 : 0;
  prm[G.COLS] = cols;
  const count = Math.ceil(n / cols);
  if (pool && count > 1) pool.run(count);
  else for (let t = 0; t < count; t++) x.runTask(PARAMS, t, 0);
  out.set(heap.subarray(cOff >>> 2, (cOff >>> 2) + m * n));
  if (p.bias) addBias(out, p.bias, m, n);
}

/** out (rows × n) += bias on every row. */
function addBias(out: Float32Array, bias: FloatArr, rows: number, n: number): void {
  for (let i = 0, c = 0; i < rows; i++) for (let j = 0; j < n; j++, c++) out[c] = out[c]! + bias[j]!;
}

/** sums[i] = Σ_p op(A)(i, p) in float64, p in order (batch 1): the reference's row sums. */
function rowSums(a: Float32Array, p: MatmulParams, sums: FloatArr): void {
  const { m, k, transA } = p;
  const ai = transA ? 1 : k,
    ap = transA ? m : 1;
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let q = 0; q < k; q++) s += a[i * ai + q * ap]!;
    sums[i] = s;
  }
}
