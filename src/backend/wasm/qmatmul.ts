// The product on GGML blocks on the wasm kernels (./assembly/qmatmul.ts, ./assembly/qmatmul-k.ts):
// y (T, N) = x (T, K) · Wᵀ, W in Q8_0, Q4_0, Q4_K, Q5_K or Q6_K blocks. The same values as the reference
// kernel (../reference/qmatmul.ts, ../reference/qmatmul-k.ts), bit for bit.
//
//   1. x is rounded to Q8_0 (Q8_K for the k-quants) here, by the reference's own function (T·K values: small
//      next to N·K weights), and laid out as int16 in the order the kernel unpacks the weights (Q4_0's
//      scaled by 256, 1, 16, 256: ./assembly/qmatmul.ts);
//   2. W's blocks are copied into wasm memory once and kept there (a heap block per weight, freed when the
//      weight's array is collected): a decode step then reads each weight once, in its 4.5 to 8.5 bits.
//      Q4_0 is repacked on the way (groups of four rows, float32 scales: 80 bytes per four blocks, 5 bits
//      per weight in wasm memory);
//   3. the rows of W are cut into tasks of ROWS rows that the pool's threads take (above a work size).
//
//   arena: [q_x: T·K int16] [d_x: one float32 per block] [Σq_x per block (Q4_0: 8·Σq_x) or Q8_K's bsums
//          per 16: int32] [y: T·N float32] (and W's blocks when no heap block was had)

import type { QuantKernels, QuantMatmulParams } from "../backend.js";
import { fp16ToFp32 } from "../reference/half.js";
import { quantizeActivations } from "../reference/qmatmul.js";
import { quantizeActivationsK } from "../reference/qmatmul-k.js";
import { heapAlloc, heapFree, heapTop } from "./heap.js";
import { ensureBytes, PARAMS, wasm, type WasmState } from "./instance.js";
import { threadPool } from "./pool.js";
import { parallelMin } from "./thresholds.js";

const KIND_QMATMUL = 7;
/** Parameter block (i32 index); mirrors Q_* in ./assembly/qmatmul.ts. */
const enum Q {
  KIND,
  TYPE,
  W,
  XQ,
  XD,
  Y,
  T,
  N,
  K,
  ROWS,
  XS,
}
const TYPE_CODE = { Q8_0: 0, Q4_0: 1, Q4_K: 2, Q5_K: 3, Q6_K: 4 } as const;
/** Tasks per thread, so that a slow thread (another process on its core) does not stall the others. */
const TASKS_PER_THREAD = 8;
const SAMPLES = 16;

const align = (x: number, a: number): number => Math.ceil(x / a) * a;

/** m·Σq over each block of 32 (Q4_0's kernel takes Σ nib·q_x − 8·Σq_x). */
function blockSums(q: Int8Array, m: number): Int32Array {
  const sums = new Int32Array(q.length / 32);
  for (let b = 0; b < sums.length; b++) {
    let s = 0;
    for (let i = 32 * b; i < 32 * b + 32; i++) s += q[i]!;
    sums[b] = m * s;
  }
  return sums;
}

// ---------------------------------------------------------------------------------------------------
// Weights kept in wasm memory: one heap block per Uint8Array of blocks, checked by 16 sampled bytes (a
// weight rewritten in place is copied again), freed when the array is garbage-collected.

interface Kept {
  off: number;
  sample: Uint8Array;
}
const kept = new WeakMap<Uint8Array, Kept>();
const release = new FinalizationRegistry<number>((off) => heapFree(off));
let keptBytes = 0;

const sampleAt = (w: Uint8Array, i: number): number => w[Math.floor((i * (w.length - 1)) / (SAMPLES - 1))]!;

/**
 * The offset of W's blocks in wasm memory (copied on first use, as `store` writes them: `size` bytes), or -1
 * when the heap has no room.
 */
function keptWeight(st: WasmState, w: Uint8Array, size: number, store: (dst: Uint8Array) => void): number {
  const e = kept.get(w);
  if (e) {
    let same = true;
    for (let i = 0; i < SAMPLES && same; i++) same = sampleAt(w, i) === e.sample[i];
    if (!same) store(new Uint8Array(st.memory.buffer, e.off, size));
    if (!same) e.sample = Uint8Array.from({ length: SAMPLES }, (_, i) => sampleAt(w, i));
    return e.off;
  }
  const off = heapAlloc(size + 16);
  if (off < 0) return -1;
  store(new Uint8Array(st.memory.buffer, off, size));
  kept.set(w, { off, sample: Uint8Array.from({ length: SAMPLES }, (_, i) => sampleAt(w, i)) });
  release.register(w, off);
  keptBytes += size;
  return off;
}

/**
 * Q4_0 blocks (N rows of nb) repacked for the kernel: per group of four rows (the last group padded with
 * its last row) and per block, the four scales as float32, then the four rows' 16 bytes of nibbles.
 */
function repackQ4_0(w: Uint8Array, N: number, nb: number, dst: Uint8Array): void {
  const f = new Float32Array(1),
    fb = new Uint8Array(f.buffer);
  for (let g = 0; g < Math.ceil(N / 4); g++) {
    for (let b = 0; b < nb; b++) {
      const o = (g * nb + b) * 80;
      for (let r = 0; r < 4; r++) {
        const src = (Math.min(4 * g + r, N - 1) * nb + b) * 18;
        f[0] = fp16ToFp32(w[src]! | (w[src + 1]! << 8));
        dst.set(fb, o + 4 * r);
        dst.set(w.subarray(src + 2, src + 18), o + 16 + 16 * r);
      }
    }
  }
}

/** Bytes of GGML blocks copied into wasm memory so far (for the benchmarks' memory accounting). */
export function keptBlockBytes(): number {
  return keptBytes;
}

// ---------------------------------------------------------------------------------------------------

export const qmatmul: QuantKernels = {
  qmatmul(x: Float32Array, w: Uint8Array, out: Float32Array, p: QuantMatmulParams): void {
    const { type, t: T, k: K, n: N } = p;
    const st = wasm();
    const k32 = type === "Q8_0" || type === "Q4_0"; // blocks of 32 (else the k-quants' 256)
    const nb = k32 ? K / 32 : K / 256;
    const q4 = type === "Q4_0";
    const wSize = q4 ? Math.ceil(N / 4) * nb * 80 : w.length;
    const store = q4 ? (dst: Uint8Array) => repackQ4_0(w, N, nb, dst) : (dst: Uint8Array) => dst.set(w);
    const wKept = keptWeight(st, w, wSize, store);
    // activations to Q8_0 (Q8_K) blocks: q (T·K int8), d (one per block), sums (one per block; Q8_K: per 16)
    const a = k32
      ? (({ q, d }) => ({ q, d, sums: blockSums(q, q4 ? 8 : 1) }))(quantizeActivations(x.subarray(0, T * K), false))
      : (({ q, d, bsums }) => ({ q, d, sums: bsums }))(quantizeActivationsK(x.subarray(0, T * K)));
    const base = heapTop();
    const wOff = wKept >= 0 ? wKept : base;
    const xqOff = align(wKept >= 0 ? base : base + wSize + 16, 64);
    const xdOff = align(xqOff + 2 * T * K + 16, 64);
    const xsOff = align(xdOff + 4 * a.d.length + 16, 64);
    const yOff = align(xsOff + 4 * a.sums.length + 16, 64);
    ensureBytes(st, yOff + 4 * T * N + 16);
    const buf = st.memory.buffer;
    if (wKept < 0) store(new Uint8Array(buf, wOff, wSize));
    const xq = new Int16Array(buf, xqOff, T * K);
    if (k32) {
      // per block of 32: q_0 q_2 … q_14 | q_1 q_3 … q_15 | q_16 q_18 … q_30 | q_17 … q_31 (Q4_0: ×256, ×1, ×16, ×256)
      const [s0, s1, s2, s3] = q4 ? [256, 1, 16, 256] : [1, 1, 1, 1];
      for (let o = 0; o < T * K; o += 32) {
        for (let i = 0; i < 8; i++) {
          xq[o + i] = s0 * a.q[o + 2 * i]!;
          xq[o + 8 + i] = s1 * a.q[o + 2 * i + 1]!;
          xq[o + 16 + i] = s2 * a.q[o + 16 + 2 * i]!;
          xq[o + 24 + i] = s3 * a.q[o + 17 + 2 * i]!;
        }
      }
    } else xq.set(a.q); // the k-quants: in order
    new Float32Array(buf).set(a.d, xdOff >>> 2);
    new Int32Array(buf).set(a.sums, xsOff >>> 2);

    // an eighth of the float32 matmul's threshold: a block product moves a quarter of the bytes (or less) per
    // multiply-add, so a decode step's matrices (768 × 2304 on GPT-2 small) are worth splitting
    const pool = T * N * K >= parallelMin.matmulMacs / 8 ? threadPool(st) : null;
    const tasks = pool ? Math.min(Math.ceil(N / 4), TASKS_PER_THREAD * pool.threads) : 1;
    const rows = align(Math.ceil(N / tasks), 4);
    const prm = new Int32Array(buf, PARAMS, 32);
    prm[Q.KIND] = KIND_QMATMUL;
    prm[Q.TYPE] = TYPE_CODE[type];
    prm[Q.W] = wOff;
    prm[Q.XQ] = xqOff;
    prm[Q.XD] = xdOff;
    prm[Q.Y] = yOff;
    prm[Q.T] = T;
    prm[Q.N] = N;
    prm[Q.K] = K;
    prm[Q.ROWS] = rows;
    prm[Q.XS] = xsOff;
    const count = Math.ceil(N / rows);
    if (pool && count > 1) pool.run(count);
    else for (let t = 0; t < count; t++) st.exports.runTask(PARAMS, t, 0);
    out.set(new Float32Array(buf, yOff, T * N));
  },
};
