// The product on GGML blocks on the wasm kernels (./assembly/qmatmul.ts): y (T, N) = x (T, K) · Wᵀ, W in
// Q8_0 or Q4_0 blocks. The same values as the reference kernel (../reference/qmatmul.ts), bit for bit.
//
//   1. x is rounded to Q8_0 here, by the reference's own function (T·K values: small next to N·K weights),
//      and laid out as int16 in the order the kernel unpacks the weights (./assembly/qmatmul.ts);
//   2. W's blocks are copied into wasm memory once and kept there (a heap block per weight, freed when the
//      weight's array is collected): a decode step then reads each weight once, in its 4.5 or 8.5 bits;
//   3. the rows of W are cut into tasks of ROWS rows that the pool's threads take (above a work size).
//
//   arena: [q_x: T·K int16] [d_x: T·K/32 float32] [Σq_x: T·K/32 int32] [y: T·N float32] (and W's blocks when no heap block was had)

import type { QuantKernels, QuantMatmulParams } from "../backend.js";
import { quantizeActivations } from "../reference/qmatmul.js";
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
const TYPE_CODE = { Q8_0: 0, Q4_0: 1 } as const;
/** Tasks per thread, so that a slow thread (another process on its core) does not stall the others. */
const TASKS_PER_THREAD = 8;
const SAMPLES = 16;

const align = (x: number, a: number): number => Math.ceil(x / a) * a;

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

/** The offset of W's blocks in wasm memory (copied on first use), or -1 when the heap has no room. */
function keptWeight(st: WasmState, w: Uint8Array): number {
  const e = kept.get(w);
  if (e) {
    let same = true;
    for (let i = 0; i < SAMPLES && same; i++) same = sampleAt(w, i) === e.sample[i];
    if (!same) new Uint8Array(st.memory.buffer).set(w, e.off);
    if (!same) e.sample = Uint8Array.from({ length: SAMPLES }, (_, i) => sampleAt(w, i));
    return e.off;
  }
  const off = heapAlloc(w.length + 16);
  if (off < 0) return -1;
  new Uint8Array(st.memory.buffer).set(w, off);
  kept.set(w, { off, sample: Uint8Array.from({ length: SAMPLES }, (_, i) => sampleAt(w, i)) });
  release.register(w, off);
  keptBytes += w.length;
  return off;
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
    const wKept = keptWeight(st, w);
    // activations to Q8_0 blocks: q (T·K int8), d (T·K/32)
    const a = quantizeActivations(x.subarray(0, T * K), false);
    const base = heapTop();
    const wOff = wKept >= 0 ? wKept : base;
    const xqOff = align(wKept >= 0 ? base : base + w.length + 16, 64);
    const xdOff = align(xqOff + 2 * T * K + 16, 64);
    const xsOff = align(xdOff + 4 * a.d.length + 16, 64);
    const yOff = align(xsOff + 4 * a.d.length + 16, 64);
    ensureBytes(st, yOff + 4 * T * N + 16);
    const buf = st.memory.buffer;
    if (wKept < 0) new Uint8Array(buf).set(w, wOff);
    // per block of 32: q_0 q_2 … q_14 | q_1 q_3 … q_15 | q_16 q_18 … q_30 | q_17 … q_31
    const xq = new Int16Array(buf, xqOff, T * K);
    for (let o = 0; o < T * K; o += 32) {
      for (let i = 0; i < 8; i++) {
        xq[o + i] = a.q[o + 2 * i]!;
        xq[o + 8 + i] = a.q[o + 2 * i + 1]!;
        xq[o + 16 + i] = a.q[o + 16 + 2 * i]!;
        xq[o + 24 + i] = a.q[o + 17 + 2 * i]!;
      }
    }
    new Float32Array(buf).set(a.d, xdOff >>> 2);
    // Σq_x per block (Q4_0's kernel takes Σ nib·q_x − 8·Σq_x)
    const sums = new Int32Array(buf, xsOff, a.d.length);
    for (let b = 0; b < a.d.length; b++) {
      let s = 0;
      for (let i = 32 * b; i < 32 * b + 32; i++) s += a.q[i]!;
      sums[b] = s;
    }

    const pool = T * N * K >= parallelMin.matmulMacs ? threadPool(st) : null; // the float32 matmul's threshold
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
