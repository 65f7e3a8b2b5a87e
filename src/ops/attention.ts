// Scaled dot-product attention with PyTorch 2.x semantics (F.scaled_dot_product_attention):
//   y = softmax(q·kᵀ·scale + mask)·v
// Without dropout it runs the fused kernel (online softmax, no score matrix; the row log-sum-exp is saved
// and the backward kernel recomputes the probabilities from it). With dropout the probabilities must
// exist to be dropped, so a composed path materialises them: scores → softmax → dropout → ·v.
// Derivation: docs/derivations/attention.md.
//
// Vocabulary: B… the broadcast leading (batch, head) dims, bh their product, Tq queries, Tk keys,
// E the q/k head size, Ev the v head size; S scores, P probabilities, M the dropout mask.

import { isMetaStorage } from "../engine/meta.js";
import { record } from "../engine/autograd.js";
import { ArgumentError, DTypeError, ShapeError } from "../engine/errors.js";
import { defaultGenerator, drawShared, drawsShared, type Generator } from "../engine/rng.js";
import { broadcastShapes, broadcastStrides, fmt, numel, sameShape, type Shape } from "../engine/shape.js";
import { Tensor, checkTensor } from "../engine/tensor.js";
import type { AttentionParams, FloatArr } from "../backend/backend.js";
import { kernels } from "./kernels.js";
import { transpose } from "./shape.js";
import { empty, requireFloat, sumToShape, toDType } from "./util.js";

export interface ScaledDotProductAttentionOptions {
  /** bool (true = the key takes part) or float (added to the scores), broadcastable to (…, Tq, Tk) */
  attnMask?: Tensor | null;
  /** probability of dropping an attention probability (default 0: the fused path) */
  dropoutP?: number;
  /** query i attends to keys j ≤ i (an error together with attnMask, as in PyTorch) */
  isCausal?: boolean;
  /** the factor on q·kᵀ; default 1/√E */
  scale?: number | null;
  /** the generator of the dropout mask (default: the global one, seeded by manualSeed) */
  generator?: Generator;
  /**
   * "BHTE" (default, PyTorch's): q (…, Tq, E), k, v (…, Tk, E/Ev) → (…, Tq, Ev). "BTHE": q (B, Tq, H, E),
   * k (B, Tk, H, E), v (B, Tk, H, Ev) → (B, Tq, H, Ev) — the heads after the sequence, as a Linear's output
   * viewed per head, so a multi-head layer needs no transposes to (B, H, T, E) and back. The same
   * attention (this op on each tensor transposed by (1, 2), the result transposed back); no broadcasting.
   */
  layout?: "BHTE" | "BTHE";
}

/** x (…, T, D) copied to a contiguous (…B, T, D) when its leading dims are broadcast; else x itself. */
function expandLead(x: Tensor, lead: Shape): Tensor {
  const shape = [...lead, ...x.shape.slice(-2)];
  if (sameShape(x.shape, shape)) return x;
  const out = empty(shape, x.dtype);
  kernels().stridedCopy(x.storage, 0, broadcastStrides(x.shape, shape), shape, out.storage);
  return out;
}

/**
 * The additive float mask (…, Tq, Tk)-broadcastable, and its element strides over (bh, tq, tk). Leading
 * dims that cannot be read with one bh stride (e.g. a (B, 1, Tq, Tk) mask over (B, H)) are copied out.
 */
function maskView(mask: Tensor, lead: Shape, tq: number, tk: number): { data: FloatArr; strides: number[] } {
  const full = [...lead, tq, tk];
  const st = broadcastStrides(mask.shape, full);
  const nl = lead.length;
  const [sq, sk] = [st[nl]!, st[nl + 1]!];
  // the bh stride: every leading dim must step by (its inner leading sizes) × the last leading dim's stride
  let sb = nl === 0 ? 0 : st[nl - 1]!;
  let ok = true;
  for (let d = nl - 1, span = 1; d >= 0; span *= lead[d]!, d--) if (lead[d]! > 1 && st[d] !== sb * span) ok = false;
  if (ok) return { data: mask.storage as FloatArr, strides: [sb, sq, sk] };
  const mq = sq === 0 ? 1 : tq,
    mk = sk === 0 ? 1 : tk;
  const out = empty([...lead, mq, mk], mask.dtype);
  kernels().stridedCopy(mask.storage, 0, [...st.slice(0, nl), sq, sk], [...lead, mq, mk], out.storage);
  sb = mq * mk;
  return { data: out.storage as FloatArr, strides: [sb, mq === 1 ? 0 : mk, mk === 1 ? 0 : 1] };
}

/** A bool mask (true = take part) as the additive 0 / −inf mask of the given float dtype. */
function additiveMask(mask: Tensor, dtype: "float32" | "float64"): Tensor {
  const out = empty(mask.shape, dtype);
  const zero = empty([], dtype),
    ninf = empty([], dtype);
  ninf.storage[0] = -Infinity;
  const same = broadcastStrides(mask.shape, mask.shape);
  const none = mask.shape.map(() => 0);
  // m = keep ? 0 : −inf
  kernels().where(mask.storage as Uint8Array, same, zero.storage, none, ninf.storage, none, out.storage, mask.shape);
  return out;
}

/**
 * softmax(q·kᵀ·scale + attnMask)·v with PyTorch 2.x's semantics: q (…, Tq, E), k (…, Tk, E), v (…, Tk, Ev)
 * with broadcastable leading dims → (…, Tq, Ev).
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: ScaledDotProductAttentionOptions = {},
): Tensor {
  const op = "scaledDotProductAttention";
  if (opts.layout === "BTHE") return attentionBTHE(q, k, v, opts);
  if (opts.layout !== undefined && opts.layout !== "BHTE")
    throw new ArgumentError(`${op}: layout must be "BHTE" or "BTHE", got ${JSON.stringify(opts.layout)}`);
  for (const [t, name] of [
    [q, "query"],
    [k, "key"],
    [v, "value"],
  ] as const) {
    checkTensor(op, t, name);
    requireFloat(op, t, name);
    if (t.ndim < 2)
      throw new ShapeError(`${op}: ${name} must have at least 2 dims (…, T, E), got shape ${fmt(t.shape)}`);
  }
  if (k.dtype !== q.dtype || v.dtype !== q.dtype)
    throw new DTypeError(`${op}: query, key and value must have one dtype, got ${q.dtype}, ${k.dtype} and ${v.dtype}`);
  const [tq, e] = q.shape.slice(-2) as [number, number];
  const [tk, ek] = k.shape.slice(-2) as [number, number];
  const [tv, ev] = v.shape.slice(-2) as [number, number];
  if (e !== ek)
    throw new ShapeError(
      `${op}: query ${fmt(q.shape)} and key ${fmt(k.shape)} have different head sizes ${e} and ${ek}`,
    );
  if (tk !== tv)
    throw new ShapeError(`${op}: key ${fmt(k.shape)} and value ${fmt(v.shape)} have different lengths ${tk} and ${tv}`);
  const { attnMask = null, dropoutP = 0, isCausal = false } = opts;
  if (!(dropoutP >= 0 && dropoutP <= 1)) throw new ArgumentError(`${op}: dropoutP must be in [0, 1], got ${dropoutP}`);
  if (isCausal && attnMask !== null)
    throw new ArgumentError(
      `${op}: isCausal and attnMask cannot both be given (mask ${fmt(attnMask.shape)}); fold the causal mask into attnMask`,
    );
  const scale = opts.scale ?? 1 / Math.sqrt(e);

  // The broadcast leading dims of q, k, v and the mask.
  let lead: number[];
  try {
    lead = broadcastShapes(op, broadcastShapes(op, q.shape.slice(0, -2), k.shape.slice(0, -2)), v.shape.slice(0, -2));
  } catch {
    throw new ShapeError(
      `${op}: the leading (batch, head) dims of query ${fmt(q.shape)}, key ${fmt(k.shape)} and value ${fmt(v.shape)} cannot be broadcast together`,
    );
  }
  let mask: Tensor | null = null; // additive, in q's dtype
  if (attnMask !== null) {
    checkTensor(op, attnMask, "attnMask");
    const ms = attnMask.shape,
      mq = ms.length >= 2 ? ms[ms.length - 2]! : 1,
      mk = ms.length >= 1 ? ms[ms.length - 1]! : 1;
    if ((mq !== 1 && mq !== tq) || (mk !== 1 && mk !== tk)) {
      throw new ShapeError(
        `${op}: attnMask ${fmt(ms)} cannot be broadcast to the scores (…,${tq},${tk}) of query ${fmt(q.shape)} and key ${fmt(k.shape)}`,
      );
    }
    if (attnMask.dtype === "bool") mask = additiveMask(attnMask, q.dtype as "float32" | "float64");
    else if (attnMask.dtype === "int32")
      throw new DTypeError(`${op}: attnMask must be bool or floating point, got int32 of shape ${fmt(ms)}`);
    else mask = toDType(attnMask, q.dtype);
    const ml = ms.slice(0, -2);
    try {
      lead = broadcastShapes(op, lead, ml);
    } catch {
      throw new ShapeError(
        `${op}: the leading dims of attnMask ${fmt(ms)} cannot be broadcast with those of query ${fmt(q.shape)}, key ${fmt(k.shape)} and value ${fmt(v.shape)}`,
      );
    }
  }
  const p: AttentionParams = { bh: numel(lead), tq, tk, d: e, dv: ev, scale, causal: isCausal };
  const qe = expandLead(q, lead),
    ke = expandLead(k, lead),
    ve = expandLead(v, lead); // (bh, T, E)
  const mv = mask === null ? null : maskView(mask, lead, tq, tk);
  const inputs = mask !== null && mask.requiresGrad ? [q, k, v, mask] : [q, k, v];
  const args = [
    qe.storage as FloatArr,
    ke.storage as FloatArr,
    ve.storage as FloatArr,
    mv?.data ?? null,
    mv?.strides ?? null,
  ] as const;
  const outShape = [...lead, tq, ev];

  /** (bh, T, D) gradients back to the shapes of the inputs (summing over broadcast leading dims). */
  const reduce = (g: FloatArr, x: Tensor): Tensor =>
    sumToShape(new Tensor(g, [...lead, ...x.shape.slice(-2)]), x.shape);
  const maskGrad = (g: FloatArr): Tensor => sumToShape(new Tensor(g, [...lead, tq, tk]), mask!.shape);

  if (dropoutP === 0) {
    const y = empty(outShape, q.dtype); // (…B, Tq, Ev)
    const lse = empty([p.bh, tq], q.dtype); // log Σ_j e^{S_ij}
    // y_i = Σ_j softmax_j(q_i·k_j·scale + m_ij)·v_j
    kernels().attention(...args, p, y.storage as FloatArr, lse.storage as FloatArr);
    return record(op, inputs, y, (dy) => {
      const dq = empty(qe.shape, q.dtype),
        dk = empty(ke.shape, q.dtype),
        dv = empty(ve.shape, q.dtype);
      const dm = inputs.length === 4 ? empty([p.bh, tq, tk], q.dtype) : null;
      // P = e^{S − lse}; dv = Pᵀ·dy; dS = P ⊙ (dy·vᵀ − rowsum(dy ⊙ y)); dq = dS·k·scale; dk = dSᵀ·q·scale
      kernels().attentionBackward(
        ...args,
        p,
        y.storage as FloatArr,
        lse.storage as FloatArr,
        dy.storage as FloatArr,
        dq.storage as FloatArr,
        dk.storage as FloatArr,
        dv.storage as FloatArr,
        (dm?.storage ?? null) as FloatArr | null,
      );
      return [
        reduce(dq.storage as FloatArr, q),
        reduce(dk.storage as FloatArr, k),
        reduce(dv.storage as FloatArr, v),
        dm ? maskGrad(dm.storage as FloatArr) : null,
      ];
    });
  }

  // Dropout: the composed path. PyTorch drops attention probabilities, so they have to exist.
  const kt = kernels();
  const { bh } = p;
  const n = bh * tq * tk;
  const probs = empty([bh, tq, tk], q.dtype).storage as FloatArr;
  // S = q·kᵀ (bh, Tq, Tk)
  kt.matmul(args[0], args[1], probs, {
    batch: bh,
    m: tq,
    n: tk,
    k: e,
    transA: false,
    transB: true,
    strideA: tq * e,
    strideB: tk * e,
  });
  // P = softmax(S·scale + mask), in place
  kt.attentionSoftmax(probs, args[3], args[4], p, probs);
  // M_ij = [u_ij ≥ p]/(1 − p), u uniform from the seeded generator
  const gen = opts.generator ?? defaultGenerator;
  const keep = empty([bh, tq, tk], q.dtype).storage as FloatArr;
  const kept = dropoutP < 1 ? 1 / (1 - dropoutP) : 0;
  if (!isMetaStorage(keep)) {
    // on worker r of N data-parallel workers (rng.ts withDrawShare): its block of the whole batch's draws
    const u = drawsShared() ? drawShared(gen, n) : null;
    for (let i = 0; i < n; i++) keep[i] = (u ? u[i]! : gen.random()) < dropoutP ? 0 : kept; // (shape-only: none)
  }
  const flat = [n],
    unit = [1];
  const dropped = empty([bh, tq, tk], q.dtype).storage as FloatArr;
  // P̃ = P ⊙ M
  kt.mul(probs, unit, keep, unit, dropped, flat);
  // y = P̃·v (bh, Tq, Ev)
  const y = empty(outShape, q.dtype);
  kt.matmul(dropped, args[2], y.storage as FloatArr, {
    batch: bh,
    m: tq,
    n: ev,
    k: tk,
    transA: false,
    transB: false,
    strideA: tq * tk,
    strideB: tk * ev,
  });
  return record(op, inputs, y, (dy) => {
    const kb = kernels();
    const g = dy.storage as FloatArr;
    // forward: y = P̃·v  ⇒  dv = P̃ᵀ·dy, dP̃ = dy·vᵀ
    const dv = empty(ve.shape, q.dtype).storage as FloatArr;
    kb.matmul(dropped, g, dv, {
      batch: bh,
      m: tk,
      n: ev,
      k: tq,
      transA: true,
      transB: false,
      strideA: tq * tk,
      strideB: tq * ev,
    });
    const dlogits = empty([bh, tq, tk], q.dtype).storage as FloatArr;
    kb.matmul(g, args[2], dlogits, {
      batch: bh,
      m: tq,
      n: tk,
      k: ev,
      transA: false,
      transB: true,
      strideA: tq * ev,
      strideB: tk * ev,
    });
    // forward: P̃ = P ⊙ M  ⇒  dP = dP̃ ⊙ M
    kb.mul(dlogits, unit, keep, unit, dlogits, flat);
    // forward: P = softmax(S·scale + mask)  ⇒  dlogits = P ⊙ (dP − Σ_j dP⊙P) (= dmask)
    kb.attentionSoftmaxBackward(probs, dlogits, p, dlogits);
    const dm = inputs.length === 4 ? maskGrad(dlogits.slice() as FloatArr) : null;
    // forward: logits = q·kᵀ·scale  ⇒  dq = dlogits·k·scale, dk = dlogitsᵀ·q·scale
    const s = empty([1], q.dtype);
    s.storage[0] = scale;
    kb.mul(dlogits, unit, s.storage, [0], dlogits, flat);
    const dq = empty(qe.shape, q.dtype).storage as FloatArr,
      dk = empty(ke.shape, q.dtype).storage as FloatArr;
    kb.matmul(dlogits, args[1], dq, {
      batch: bh,
      m: tq,
      n: e,
      k: tk,
      transA: false,
      transB: false,
      strideA: tq * tk,
      strideB: tk * e,
    });
    kb.matmul(dlogits, args[0], dk, {
      batch: bh,
      m: tk,
      n: e,
      k: tq,
      transA: true,
      transB: false,
      strideA: tq * tk,
      strideB: tq * e,
    });
    return [reduce(dq, q), reduce(dk, k), reduce(dv, v), dm];
  });
}

/**
 * The "BTHE" layout: q (B, Tq, H, E), k (B, Tk, H, E), v (B, Tk, H, Ev) → (B, Tq, H, Ev). Without a mask or
 * dropout the fused kernels read and write this layout themselves (AttentionParams.heads); with either,
 * the inputs are transposed to (B, H, T, E) and the result back.
 */
function attentionBTHE(q: Tensor, k: Tensor, v: Tensor, opts: ScaledDotProductAttentionOptions): Tensor {
  const op = "scaledDotProductAttention";
  for (const [t, name] of [
    [q, "query"],
    [k, "key"],
    [v, "value"],
  ] as const) {
    checkTensor(op, t, name);
    requireFloat(op, t, name);
    if (t.ndim !== 4)
      throw new ShapeError(`${op}: with layout "BTHE" ${name} must be 4-D (B, T, H, E), got shape ${fmt(t.shape)}`);
  }
  if (k.dtype !== q.dtype || v.dtype !== q.dtype)
    throw new DTypeError(`${op}: query, key and value must have one dtype, got ${q.dtype}, ${k.dtype} and ${v.dtype}`);
  const [B, tq, H, e] = q.shape as [number, number, number, number];
  const [Bk, tk, Hk, ek] = k.shape as [number, number, number, number];
  const [Bv, tv, Hv, ev] = v.shape as [number, number, number, number];
  if (Bk !== B || Bv !== B || Hk !== H || Hv !== H) {
    throw new ShapeError(
      `${op}: with layout "BTHE" query ${fmt(q.shape)}, key ${fmt(k.shape)} and value ${fmt(v.shape)} must have the same batch (dim 0) and heads (dim 2)`,
    );
  }
  if (e !== ek)
    throw new ShapeError(
      `${op}: query ${fmt(q.shape)} and key ${fmt(k.shape)} have different head sizes ${e} and ${ek}`,
    );
  if (tk !== tv)
    throw new ShapeError(`${op}: key ${fmt(k.shape)} and value ${fmt(v.shape)} have different lengths ${tk} and ${tv}`);
  const { attnMask = null, dropoutP = 0, isCausal = false } = opts;
  if ((attnMask !== null && attnMask !== undefined) || dropoutP !== 0) {
    // (B, T, H, E) → (B, H, T, E), the default layout's op, and back
    const y = scaledDotProductAttention(transpose(q, 1, 2), transpose(k, 1, 2), transpose(v, 1, 2), {
      ...opts,
      layout: "BHTE",
    });
    return transpose(y, 1, 2);
  }
  const scale = opts.scale ?? 1 / Math.sqrt(e);
  const p: AttentionParams = { bh: B * H, tq, tk, d: e, dv: ev, scale, causal: isCausal, heads: H };
  const y = empty([B, tq, H, ev], q.dtype); // (B, Tq, H, Ev)
  const lse = empty([B * H, tq], q.dtype); // log Σ_j e^{S_ij}, per (batch·head, query)
  const f = (t: Tensor): FloatArr => t.storage as FloatArr;
  // y_i = Σ_j softmax_j(q_i·k_j·scale)·v_j for every (batch, head)
  kernels().attention(f(q), f(k), f(v), null, null, p, f(y), f(lse));
  return record(op, [q, k, v], y, (dy) => {
    const dq = empty(q.shape, q.dtype),
      dk = empty(k.shape, q.dtype),
      dv = empty(v.shape, q.dtype);
    // P = e^{S − lse}; dv = Pᵀ·dy; dS = P ⊙ (dy·vᵀ − rowsum(dy ⊙ y)); dq = dS·k·scale; dk = dSᵀ·q·scale
    kernels().attentionBackward(f(q), f(k), f(v), null, null, p, f(y), f(lse), f(dy), f(dq), f(dk), f(dv), null);
    return [dq, dk, dv];
  });
}
