// Multi-head attention with PyTorch's nn.MultiheadAttention layout and semantics (Vaswani et al. 2017,
// https://arxiv.org/abs/1706.03762):
//   MultiHead(Q, K, V) = Concat(head_1, …, head_h)·W_Oᵀ + b_O,   head_i = softmax(Q_i·K_iᵀ/√d + mask)·V_i
// with Q = query·W_qᵀ + b_q (likewise K, V), d = E/h.
//
// Parameters, named as PyTorch's (in camelCase):
//   inProjWeight (3E, E), the rows [W_q; W_k; W_v], when kdim = vdim = E; otherwise qProjWeight (E, E),
//   kProjWeight (E, kdim), vProjWeight (E, vdim);  inProjBias (3E) = [b_q; b_k; b_v];  outProj a Linear(E, E).
//
// MASKS — a bool mask here means "true = NOT allowed" (PyTorch's MultiheadAttention convention), the
// OPPOSITE of F.scaledDotProductAttention's bool attnMask (true = the key takes part). Float masks are
// added to the scores in both. Every mask is turned into one additive float mask (−inf = not allowed).
//
// Vocabulary: N batch, L target (query) length, S source (key) length, E embedDim, H heads, d = E/H.
// The returned weights are the probabilities after dropout (as PyTorch's), so in training mode with
// dropout > 0 their rows need not sum to 1.
// Differences from PyTorch: no addBiasKV / addZeroAttn; isCausal without attnMask builds the causal mask
// itself (PyTorch requires attnMask with the hint); with attnMask, isCausal is ignored as a hint as there.

import { scaledDotProductAttention } from "../ops/attention.js";
import { linear, dropout, softmax } from "../ops/nn.js";
import { add } from "../ops/elementwise.js";
import "../ops/index.js"; // installs the Tensor methods used below (narrow, reshape, transpose, matmul, mean, to)
import { ArgumentError, DTypeError, ShapeError } from "../engine/errors.js";
import { fmt } from "../engine/shape.js";
import { Tensor } from "../engine/tensor.js";
import { allocate, isFloating } from "../engine/dtype.js";
import type { Generator } from "../engine/rng.js";
import { constant_, xavierUniform_ } from "./init.js";
import { Linear, checkSize, param, type InitOptions } from "./linear.js";
import { Module, type Parameter } from "./module.js";

export interface MultiheadAttentionOptions extends InitOptions {
  /** dropout on the attention probabilities in training mode (default 0) */
  dropout?: number;
  /** in- and out-projection biases (default true) */
  bias?: boolean;
  /** the features of key (default embedDim) */
  kdim?: number;
  /** the features of value (default embedDim) */
  vdim?: number;
  /** inputs and outputs are (N, L, E) instead of (L, N, E) (default false, as PyTorch) */
  batchFirst?: boolean;
  /** the generator of the dropout masks (default: the library's default one) */
  dropoutGenerator?: Generator;
}

export interface MultiheadAttentionForwardOptions {
  /** (N, S) or (S) for unbatched input: bool (true = this key is padding, ignore it) or float (added) */
  keyPaddingMask?: Tensor | null;
  /** return the attention weights (default true); false takes the fused attention kernel */
  needWeights?: boolean;
  /** (L, S) or (N·H, L, S): bool (true = NOT allowed) or float (added to the scores) */
  attnMask?: Tensor | null;
  /** average the weights over the heads → (N, L, S) (default true); false → (N, H, L, S) */
  averageAttnWeights?: boolean;
  /** query i attends to keys j ≤ i; builds the causal mask when attnMask is not given */
  isCausal?: boolean;
}

export interface MultiheadAttentionOutput {
  /** (L, N, E), or (N, L, E) with batchFirst, or (L, E) unbatched */
  output: Tensor;
  /** (N, L, S) averaged or (N, H, L, S) per head (without N when unbatched); null when needWeights is false */
  weights: Tensor | null;
}

/** A mask as an additive float mask of the given dtype: bool true → −inf, false → 0; float as is. */
function additive(what: string, mask: Tensor, dtype: "float32" | "float64"): Tensor {
  if (mask.dtype === "bool") {
    const out = allocate(dtype, mask.numel());
    for (let i = 0; i < out.length; i++) out[i] = mask.storage[i] ? -Infinity : 0;
    return new Tensor(out, mask.shape);
  }
  if (!isFloating(mask.dtype))
    throw new DTypeError(
      `MultiheadAttention: ${what} must be bool or floating point, got ${mask.dtype} of shape ${fmt(mask.shape)}`,
    );
  return mask.dtype === dtype ? mask : mask.to(dtype);
}

export class MultiheadAttention extends Module {
  inProjWeight: Parameter | null = null; // (3E, E) when kdim = vdim = E
  qProjWeight: Parameter | null = null; // (E, E) otherwise
  kProjWeight: Parameter | null = null; // (E, kdim)
  vProjWeight: Parameter | null = null; // (E, vdim)
  inProjBias: Parameter | null; // (3E)
  outProj: Linear; // (E, E)
  readonly headDim: number;
  readonly kdim: number;
  readonly vdim: number;
  readonly dropout: number;
  readonly batchFirst: boolean;
  private readonly dropoutGenerator: Generator | undefined;

  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
    opts: MultiheadAttentionOptions = {},
  ) {
    super();
    checkSize("MultiheadAttention", "embedDim", embedDim);
    checkSize("MultiheadAttention", "numHeads", numHeads);
    if (embedDim % numHeads !== 0)
      throw new ArgumentError(`MultiheadAttention: embedDim ${embedDim} must be divisible by numHeads ${numHeads}`);
    this.headDim = embedDim / numHeads;
    this.kdim = checkSize("MultiheadAttention", "kdim", opts.kdim ?? embedDim);
    this.vdim = checkSize("MultiheadAttention", "vdim", opts.vdim ?? embedDim);
    this.dropout = opts.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout <= 1))
      throw new ArgumentError(`MultiheadAttention: dropout must be in [0, 1], got ${opts.dropout}`);
    this.batchFirst = opts.batchFirst ?? false;
    this.dropoutGenerator = opts.dropoutGenerator;
    const E = embedDim;
    if (this.sameEmbedDim) {
      this.inProjWeight = param([3 * E, E]);
    } else {
      this.qProjWeight = param([E, E]);
      this.kProjWeight = param([E, this.kdim]);
      this.vProjWeight = param([E, this.vdim]);
    }
    const bias = opts.bias ?? true;
    this.inProjBias = bias ? param([3 * E]) : null;
    this.outProj = new Linear(E, E, { bias, generator: opts.generator });
    this.resetParameters(opts);
  }

  get sameEmbedDim(): boolean {
    return this.kdim === this.embedDim && this.vdim === this.embedDim;
  }

  /** PyTorch's _reset_parameters: xavier_uniform on the in-projection(s), zero biases; outProj.weight keeps Linear's init. */
  resetParameters(opts: InitOptions = {}): void {
    if (this.inProjWeight) xavierUniform_(this.inProjWeight, opts);
    else for (const w of [this.qProjWeight!, this.kProjWeight!, this.vProjWeight!]) xavierUniform_(w, opts);
    if (this.inProjBias) constant_(this.inProjBias, 0);
    if (this.outProj.bias) constant_(this.outProj.bias, 0);
  }

  /** query (L, N, E), key (S, N, kdim), value (S, N, vdim) — (N, ·, ·) with batchFirst, or unbatched (L, E), (S, kdim), (S, vdim). */
  forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    opts: MultiheadAttentionForwardOptions = {},
  ): MultiheadAttentionOutput {
    const E = this.embedDim,
      H = this.numHeads,
      d = this.headDim;
    const needWeights = opts.needWeights ?? true;
    const batched = query.ndim === 3;
    if (!(query.ndim === 3 || query.ndim === 2) || key.ndim !== query.ndim || value.ndim !== query.ndim) {
      throw new ShapeError(
        `MultiheadAttention: query, key and value must all be 3-D (batched) or 2-D (unbatched), got ${fmt(query.shape)}, ${fmt(key.shape)}, ${fmt(value.shape)}`,
      );
    }
    // everything in (N, T, features) from here on
    const toBatchFirst = (x: Tensor): Tensor => (!batched ? x.unsqueeze(0) : this.batchFirst ? x : x.transpose(0, 1));
    const q0 = toBatchFirst(query),
      k0 = toBatchFirst(key),
      v0 = toBatchFirst(value);
    const [N, L] = q0.shape as [number, number],
      S = k0.shape[1]!;
    if (
      q0.shape[2] !== E ||
      k0.shape[2] !== this.kdim ||
      v0.shape[2] !== this.vdim ||
      k0.shape[0] !== N ||
      v0.shape[0] !== N ||
      v0.shape[1] !== S
    ) {
      throw new ShapeError(
        `MultiheadAttention: expected query (…, ${E}), key (…, ${this.kdim}) and value (…, ${this.vdim}) with the same batch and key/value lengths; got query ${fmt(query.shape)}, key ${fmt(key.shape)}, value ${fmt(value.shape)}${batched ? ` (batchFirst ${this.batchFirst})` : ""}`,
      );
    }
    const dtype = q0.dtype as "float32" | "float64";

    // q = query·W_qᵀ + b_q,  k = key·W_kᵀ + b_k,  v = value·W_vᵀ + b_v
    const [wq, wk, wv] = this.inProjWeight
      ? [this.inProjWeight.narrow(0, 0, E), this.inProjWeight.narrow(0, E, E), this.inProjWeight.narrow(0, 2 * E, E)]
      : [this.qProjWeight!, this.kProjWeight!, this.vProjWeight!];
    const b = this.inProjBias;
    const [bq, bk, bv] = b ? [b.narrow(0, 0, E), b.narrow(0, E, E), b.narrow(0, 2 * E, E)] : [null, null, null];
    const heads = (x: Tensor, T: number): Tensor => x.reshape([N, T, H, d]).transpose(1, 2); // (N, H, T, d)
    const q = heads(linear(q0, wq, bq), L); // (N, H, L, d)
    const k = heads(linear(k0, wk, bk), S); // (N, H, S, d)
    const v = heads(linear(v0, wv, bv), S); // (N, H, S, d)

    // one additive mask, broadcastable to (N, H, L, S)
    let mask: Tensor | null = null;
    let causal = false;
    if (opts.attnMask) {
      const m = opts.attnMask;
      if (m.ndim === 2 && m.shape[0] === L && m.shape[1] === S)
        mask = additive("attnMask", m, dtype); // (L, S)
      else if (m.ndim === 3 && m.shape[0] === N * H && m.shape[1] === L && m.shape[2] === S)
        mask = additive("attnMask", m, dtype).reshape([N, H, L, S]);
      else
        throw new ShapeError(
          `MultiheadAttention: attnMask must have shape (${L},${S}) or (${N * H},${L},${S}) (L, S or N·numHeads, L, S), got ${fmt(m.shape)}`,
        );
    } else if (opts.isCausal) {
      causal = true;
    }
    if (opts.keyPaddingMask) {
      const m = opts.keyPaddingMask;
      const ok = batched ? m.ndim === 2 && m.shape[0] === N && m.shape[1] === S : m.ndim === 1 && m.shape[0] === S;
      if (!ok)
        throw new ShapeError(
          `MultiheadAttention: keyPaddingMask must have shape ${batched ? `(${N},${S}) (N, S)` : `(${S}) (S)`}, got ${fmt(m.shape)}`,
        );
      const kpm = additive("keyPaddingMask", m, dtype).reshape([N, 1, 1, S]);
      mask = mask ? add(mask, kpm) : kpm;
    }
    if (causal && (needWeights || mask)) {
      // the causal mask as an additive one: −inf above the diagonal (j > i)
      const cm = allocate(dtype, L * S);
      for (let i = 0; i < L; i++) for (let j = i + 1; j < S; j++) cm[i * S + j] = -Infinity;
      const c = new Tensor(cm, [L, S]);
      mask = mask ? add(mask, c) : c;
      causal = false;
    }
    const p = this.training ? this.dropout : 0;

    let y: Tensor; // (N, H, L, d)
    let weights: Tensor | null = null;
    if (!needWeights) {
      // the fused kernel; its bool masks mean the opposite, so only the float mask is passed
      y = scaledDotProductAttention(q, k, v, {
        attnMask: mask,
        dropoutP: p,
        isCausal: causal,
        generator: this.dropoutGenerator,
      });
    } else {
      // P = softmax(q·kᵀ/√d + mask), dropped in training, y = P·v
      let scores = q.mul(1 / Math.sqrt(d)).matmul(k.transpose(2, 3)); // (N, H, L, S)
      if (mask) scores = scores.add(mask);
      let probs = softmax(scores, -1); // (N, H, L, S)
      if (p > 0) probs = dropout(probs, p, true, { generator: this.dropoutGenerator });
      y = probs.matmul(v);
      weights = (opts.averageAttnWeights ?? true) ? probs.mean(1) : probs; // (N, L, S) or (N, H, L, S)
      if (!batched) weights = weights.squeeze(0);
    }
    // concatenate the heads and project: (N, H, L, d) → (N, L, E)
    let out = this.outProj.forward(y.transpose(1, 2).reshape([N, L, E]));
    out = !batched ? out.squeeze(0) : this.batchFirst ? out : out.transpose(0, 1);
    return { output: out, weights };
  }
}
