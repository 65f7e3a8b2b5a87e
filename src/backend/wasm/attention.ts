// Fused attention of the wasm backend (./assembly/attention.ts), float32. When both head dims are multiples
// of 4 the kernel reads q, k, v (and dy, y, lse for the backward) and writes its results where they are, in
// either layout ((bh, T, D), or (B, T, H, D) when AttentionParams.heads is set): nothing is copied for
// operands that live in wasm memory, one block copy each for the others (arena.ts). Otherwise they are
// copied into the arena with their head dims zero-padded to a multiple of 4 (gathered from and scattered
// to the (B, T, H, D) layout). The slices b < bh are split over the pool (runs of slices per task; each
// task owns the dk, dv rows of its slices). Other dtypes, and calls without keys or queries, run the
// reference.

import type { AttentionKernels, AttentionParams, FloatArr } from "../backend.js";
import { attention as reference } from "../reference/attention.js";
import { Frame } from "./arena.js";
import { PARAMS, wasm } from "./instance.js";
import { threadPool } from "./pool.js";
import { parallelMin } from "./thresholds.js";

const KIND_ATTENTION = 4;
const KIND_ATTENTION_BACKWARD = 5;
/** Tasks per thread, so that a thread slowed by another process does not stall the others. */
const TASKS_PER_THREAD = 4;

/** Parameter block fields (i32 index = byte offset / 4); mirrors A_* in ./assembly/attention.ts. */
const enum A {
  KIND,
  Q,
  K,
  V,
  Y,
  LSE,
  MASK,
  MSB,
  MSQ,
  MSK,
  BH,
  TQ,
  TK,
  D,
  DV,
  LDQ,
  LDV,
  SCALE,
  CAUSAL,
  SCRATCH,
  SCRATCH_STRIDE,
  PER_TASK,
  DY,
  DQ,
  DK,
  DVO,
  DMASK,
  HEADS,
  WQ,
  WV,
}

const pad4 = (x: number): number => (x + 3) & ~3;
const align64 = (x: number): number => Math.ceil(x / 64) * 64;

/** rows × width floats of src into the region at `off`, each row padded with zeros to ld floats. */
function putRows(fr: Frame, off: number, src: Float32Array, rows: number, width: number, ld: number): void {
  if (ld === width) {
    fr.put(off, src.subarray(0, rows * width));
    return;
  }
  const h = fr.f32,
    base = off >>> 2;
  h.fill(0, base, base + rows * ld);
  for (let r = 0; r < rows; r++) h.set(src.subarray(r * width, (r + 1) * width), base + r * ld);
}

/** The inverse of putRows: rows × width floats out of rows ld floats apart. */
function getRows(fr: Frame, off: number, dst: Float32Array, rows: number, width: number, ld: number): void {
  if (ld === width) {
    fr.get(off, dst, rows * width);
    return;
  }
  const h = fr.f32,
    base = off >>> 2;
  for (let r = 0; r < rows; r++) dst.set(h.subarray(base + r * ld, base + r * ld + width), r * width);
}

/**
 * putRows for the (B, T, H, width) layout (AttentionParams.heads = H): slice b's T rows, gathered from rows
 * (⌊b/H⌋·T + t)·H + b mod H, land one after another as in (bh, T, ld).
 */
function putRowsHeads(
  fr: Frame,
  off: number,
  src: Float32Array,
  bh: number,
  T: number,
  heads: number,
  width: number,
  ld: number,
): void {
  const h = fr.f32;
  for (let b = 0, dst = off >>> 2; b < bh; b++) {
    const first = Math.floor(b / heads) * T * heads + (b % heads);
    for (let t = 0; t < T; t++, dst += ld) {
      const s = (first + t * heads) * width;
      for (let e = 0; e < width; e++) h[dst + e] = src[s + e]!;
      for (let e = width; e < ld; e++) h[dst + e] = 0;
    }
  }
}

/** The inverse of putRowsHeads. */
function getRowsHeads(
  fr: Frame,
  off: number,
  dst: Float32Array,
  bh: number,
  T: number,
  heads: number,
  width: number,
  ld: number,
): void {
  const h = fr.f32;
  for (let b = 0, src = off >>> 2; b < bh; b++) {
    const first = Math.floor(b / heads) * T * heads + (b % heads);
    for (let t = 0; t < T; t++, src += ld) {
      const d = (first + t * heads) * width;
      for (let e = 0; e < width; e++) dst[d + e] = h[src + e]!;
    }
  }
}

/** The bh·T rows of a q/k/v-like tensor into the arena, from either layout. */
function putTokens(
  fr: Frame,
  off: number,
  src: Float32Array,
  p: AttentionParams,
  T: number,
  width: number,
  ld: number,
): void {
  if (p.heads) putRowsHeads(fr, off, src, p.bh, T, p.heads, width, ld);
  else putRows(fr, off, src, p.bh * T, width, ld);
}

/** The inverse of putTokens. */
function getTokens(
  fr: Frame,
  off: number,
  dst: Float32Array,
  p: AttentionParams,
  T: number,
  width: number,
  ld: number,
): void {
  if (p.heads) getRowsHeads(fr, off, dst, p.bh, T, p.heads, width, ld);
  else getRows(fr, off, dst, p.bh * T, width, ld);
}

interface Layout {
  fr: Frame;
  prm: Int32Array;
  /** floats per row of the padded copies of q-like and v-like tensors (pad4 of the head dims) */
  ldq: number;
  ldv: number;
  /** true: the kernel reads and writes the callers' arrays in their own layout (no padding) */
  direct: boolean;
}

/** The backward's tensors, given to `setup` so that it places them with the rest. */
interface BackwardArrays {
  dy: Float32Array;
  dq: Float32Array;
  dk: Float32Array;
  dv: Float32Array;
  dmask: Float32Array | null;
}

/**
 * Places every operand of one call (the backward's when `bw` is given) and fills the parameter block.
 * Direct (both head dims multiples of 4): operands are addressed where they live, H = heads and row
 * strides H·D; padded: copies with rows of pad4(D) floats in the (bh, T, ·) layout, H = 1.
 */
function setup(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  mask: FloatArr | null,
  ms: readonly number[] | null,
  p: AttentionParams,
  y: Float32Array,
  lse: Float32Array,
  bw: BackwardArrays | null,
  threads: number,
): Layout {
  const { bh, tq, tk, d, dv } = p;
  const direct = d % 4 === 0 && dv % 4 === 0;
  const wq = pad4(d),
    wv = pad4(dv),
    H = direct && p.heads ? p.heads : 1;
  const ldq = H * wq,
    ldv = H * wv;
  const fr = new Frame();
  let qo: number, ko: number, vo: number, yo: number, lo: number;
  let dyo = 0,
    dqo = 0,
    dko = 0,
    dvo = 0,
    dmo = 0;
  if (direct) {
    qo = fr.in(q, bh * tq * d);
    ko = fr.in(k, bh * tk * d);
    vo = fr.in(v, bh * tk * dv);
    // the forward writes y and lse; the backward reads them
    yo = bw ? fr.in(y, bh * tq * dv) : fr.out(y, bh * tq * dv);
    lo = bw ? fr.in(lse, bh * tq) : fr.out(lse, bh * tq);
    if (bw) {
      dyo = fr.in(bw.dy, bh * tq * dv);
      dqo = fr.out(bw.dq, bh * tq * d);
      dko = fr.out(bw.dk, bh * tk * d);
      dvo = fr.out(bw.dv, bh * tk * dv);
    }
  } else {
    qo = fr.alloc(bh * tq * wq);
    ko = fr.alloc(bh * tk * wq);
    vo = fr.alloc(bh * tk * wv);
    yo = fr.alloc(bh * tq * wv);
    lo = fr.alloc(bh * tq);
    if (bw) {
      dyo = fr.alloc(bh * tq * wv);
      dqo = fr.alloc(bh * tq * wq);
      dko = fr.alloc(bh * tk * wq);
      dvo = fr.alloc(bh * tk * wv);
    }
  }
  if (bw?.dmask) dmo = fr.alloc(bh * tq * tk);
  const mo = mask ? fr.in(mask as Float32Array) : 0;
  const scratchStride = align64(fr.exports.attentionScratchBytes(wq, wv, tk));
  const so = fr.alloc((scratchStride * threads) / 4);
  fr.commit();
  if (!direct) {
    putTokens(fr, qo, q, p, tq, d, wq);
    putTokens(fr, ko, k, p, tk, d, wq);
    putTokens(fr, vo, v, p, tk, dv, wv);
    if (bw) {
      putTokens(fr, yo, y, p, tq, dv, wv);
      fr.put(lo, lse.subarray(0, bh * tq));
      putTokens(fr, dyo, bw.dy, p, tq, dv, wv);
    }
  }
  if (dmo) fr.f32.fill(0, dmo >>> 2, (dmo >>> 2) + bh * tq * tk);
  const prm = new Int32Array(fr.st.memory.buffer, PARAMS, 64);
  prm[A.Q] = qo;
  prm[A.K] = ko;
  prm[A.V] = vo;
  prm[A.Y] = yo;
  prm[A.LSE] = lo;
  prm[A.MASK] = mo;
  prm[A.MSB] = ms?.[0] ?? 0;
  prm[A.MSQ] = ms?.[1] ?? 0;
  prm[A.MSK] = ms?.[2] ?? 0;
  prm[A.BH] = bh;
  prm[A.TQ] = tq;
  prm[A.TK] = tk;
  prm[A.D] = d;
  prm[A.DV] = dv;
  prm[A.LDQ] = ldq;
  prm[A.LDV] = ldv;
  new Float32Array(fr.st.memory.buffer, PARAMS, 64)[A.SCALE] = p.scale;
  prm[A.CAUSAL] = p.causal ? 1 : 0;
  prm[A.SCRATCH] = so;
  prm[A.SCRATCH_STRIDE] = scratchStride;
  prm[A.DY] = dyo;
  prm[A.DQ] = dqo;
  prm[A.DK] = dko;
  prm[A.DVO] = dvo;
  prm[A.DMASK] = dmo;
  prm[A.HEADS] = H;
  prm[A.WQ] = wq;
  prm[A.WV] = wv;
  return { fr, prm, ldq: wq, ldv: wv, direct };
}

/** Runs every slice, on the pool when the work is large enough. */
function dispatch(l: Layout, kind: number, p: AttentionParams, pool: ReturnType<typeof threadPool>): void {
  const { bh } = p;
  const threads = pool ? pool.threads : 1;
  const per = pool ? Math.max(1, Math.ceil(bh / (TASKS_PER_THREAD * threads))) : bh;
  const tasks = Math.ceil(bh / per);
  l.prm[A.KIND] = kind;
  l.prm[A.PER_TASK] = per;
  if (pool && tasks > 1) pool.run(tasks);
  else for (let t = 0; t < tasks; t++) l.fr.exports.runTask(PARAMS, t, 0);
}

/** The pool for this call's size, or null (single thread). */
function poolFor(p: AttentionParams): ReturnType<typeof threadPool> {
  const macs = p.bh * p.tq * p.tk * (p.d + p.dv) * (p.causal ? 0.5 : 1);
  return macs >= parallelMin.attentionMacs && p.bh > 1 ? threadPool(wasm()) : null;
}

const f32 = (...xs: (FloatArr | null)[]): boolean => xs.every((x) => x === null || x instanceof Float32Array);

export const attention: Partial<AttentionKernels> = {
  attention(q, k, v, mask, ms, p, y, lse) {
    if (!f32(q, k, v, mask, y, lse) || p.bh * p.tq === 0 || p.tk === 0 || (mask !== null && ms === null)) {
      reference.attention(q, k, v, mask, ms, p, y, lse);
      return;
    }
    const { bh, tq, dv } = p;
    const pool = poolFor(p);
    const l = setup(
      q as Float32Array,
      k as Float32Array,
      v as Float32Array,
      mask,
      ms,
      p,
      y as Float32Array,
      lse as Float32Array,
      null,
      pool ? pool.threads : 1,
    );
    dispatch(l, KIND_ATTENTION, p, pool);
    if (l.direct) l.fr.finish();
    else {
      getTokens(l.fr, l.prm[A.Y]!, y as Float32Array, p, tq, dv, l.ldv);
      l.fr.get(l.prm[A.LSE]!, lse as Float32Array, bh * tq);
    }
  },

  attentionBackward(q, k, v, mask, ms, p, y, lse, dy, dq, dk, dv, dmask) {
    if (
      !f32(q, k, v, mask, y, lse, dy, dq, dk, dv, dmask) ||
      p.bh * p.tq === 0 ||
      p.tk === 0 ||
      (mask !== null && ms === null)
    ) {
      reference.attentionBackward(q, k, v, mask, ms, p, y, lse, dy, dq, dk, dv, dmask);
      return;
    }
    const { bh, tq, tk, d } = p;
    const pool = poolFor(p);
    const l = setup(
      q as Float32Array,
      k as Float32Array,
      v as Float32Array,
      mask,
      ms,
      p,
      y as Float32Array,
      lse as Float32Array,
      {
        dy: dy as Float32Array,
        dq: dq as Float32Array,
        dk: dk as Float32Array,
        dv: dv as Float32Array,
        dmask: dmask as Float32Array | null,
      },
      pool ? pool.threads : 1,
    );
    dispatch(l, KIND_ATTENTION_BACKWARD, p, pool);
    if (l.direct) l.fr.finish();
    else {
      getTokens(l.fr, l.prm[A.DQ]!, dq as Float32Array, p, tq, d, l.ldq);
      getTokens(l.fr, l.prm[A.DK]!, dk as Float32Array, p, tk, d, l.ldq);
      getTokens(l.fr, l.prm[A.DVO]!, dv as Float32Array, p, tk, p.dv, l.ldv);
    }
    if (dmask) l.fr.get(l.prm[A.DMASK]!, dmask as Float32Array, bh * tq * tk);
  },
};
