// Prefix-Tuning: trainable keys and values prepended to every layer's attention of a frozen decoder.
//   Li & Liang 2021, "Prefix-Tuning: Optimizing Continuous Prompts for Generation",
//   https://arxiv.org/abs/2101.00190
//
// Every layer l gets n virtual positions whose keys and values are free parameters P_θ[l] (§4.2): each
// real token attends to them as if a prompt of n tokens had been processed before it, but no token, no
// embedding and no lower layer produces them. Training P_θ directly is unstable (§4.3), so it is
// reparameterised through a small MLP of a smaller matrix P'_θ (n, C):
//   P_θ[i, :] = MLP_θ(P'_θ[i, :]) = W₂·tanh(W₁·P'_θ[i, :] + b₁) + b₂,    (n, L·2·nkv·hs)
// and once training ends only P_θ is kept: `fold()` computes it once and drops P'_θ and the MLP.
//
// How the prefix reaches attention: through the decoder's own KV cache (src/nn/kv-cache.ts). Before the tokens are fed, the
// cache of each layer is filled with the prefix keys and values (B, nkv, n, hs); the decoder then treats
// them as n earlier positions, so its causal mask already lets every query see the whole prefix
// (query i sees keys j ≤ n + i), the real tokens take positions n…n+T−1 (as in Hugging Face models fed
// past_key_values), and generation simply continues after them. A prefix of length 0 leaves the cache
// empty, so the model computes exactly what the base model computes.
//
// Vocabulary: B batch, T tokens, n virtual tokens, L layers, nkv key/value heads, hs head size,
// C the model width, H the reparameterisation MLP's hidden width, V vocabulary.

import { noGrad } from "../engine/autograd.js";
import { ArgumentError, ShapeError } from "../engine/errors.js";
import { defaultGenerator, type Generator } from "../engine/rng.js";
import { fmt } from "../engine/shape.js";
import type { Tensor } from "../engine/tensor.js";
import * as F from "../nn/functional.js";
import { normal_ } from "../nn/init.js";
import { Linear, param } from "../nn/linear.js";
import { Module, Parameter } from "../nn/module.js";
import { freeze, trainableParameters, type Finetuned } from "./common.js";
import { generateWithCache, type GenerateOptions } from "../generation/index.js";
import { KVCache } from "../nn/kv-cache.js";

interface AttentionShape {
  readonly nHead: number;
  wq: { readonly outFeatures: number };
  wk: { readonly outFeatures: number };
}

/** What prefix and prompt tuning need of a decoder: a trunk that reads a KV cache, a head, its blocks. */
export interface CachedLM extends Module {
  readonly config: { readonly blockSize: number; readonly nLayer: number };
  hidden(idx: Tensor, cache?: KVCache): Tensor; // (B, T, C)
  readonly lmHead: { forward(h: Tensor): Tensor };
  readonly blocks: Iterable<Module & { attn: Module }>;
}

/** The attention geometry of a decoder's blocks: nkv key/value heads of hs channels. */
export function attentionGeometry(model: CachedLM, who: string): { L: number; nkv: number; hs: number } {
  const blocks =
    model.blocks && typeof (model.blocks as Iterable<Module>)[Symbol.iterator] === "function" ? [...model.blocks] : [];
  const attn = blocks[0]?.attn as unknown as Partial<AttentionShape> | undefined;
  if (
    !attn ||
    typeof attn.nHead !== "number" ||
    !attn.wq ||
    !attn.wk ||
    typeof model.config?.blockSize !== "number" ||
    typeof model.hidden !== "function"
  ) {
    throw new ArgumentError(
      `${who}: ${model.constructor.name} has no blocks[i].attn with nHead, wq and wk, or no hidden(idx, cache) and config.blockSize; it applies to the decoders of the zoo (GPT-2, LLaMA, ...)`,
    );
  }
  const hs = attn.wq.outFeatures / attn.nHead;
  const nkv = attn.wk.outFeatures / hs;
  return { L: blocks.length, nkv, hs };
}

/** The checked number of virtual tokens n (default 10): an integer ≥ 0 that leaves room in the context. */
export function virtualTokens(base: CachedLM, n: number | undefined, who: string): number {
  n ??= 10;
  if (!Number.isInteger(n) || n < 0)
    throw new ArgumentError(`${who}: numVirtualTokens must be an integer ≥ 0, got ${n}`);
  if (n >= base.config.blockSize)
    throw new ArgumentError(`${who}: numVirtualTokens ${n} leaves no room in the context of ${base.config.blockSize}`);
  return n;
}

export interface PrefixOptions {
  /** n, the virtual tokens per layer (default 10; 0 is the base model) */
  numVirtualTokens?: number;
  /** H, the reparameterisation MLP's hidden width (default: the model width C) */
  hidden?: number;
  /** train P_θ directly, without the MLP (Li & Liang's ablation; default false) */
  noReparameterization?: boolean;
  generator?: Generator;
}

export interface LMOutput {
  logits: Tensor; // (B, T, V)
  loss: Tensor | null; // ()
}

/**
 * The prefix's parameters: P'_θ (n, C) through the MLP, or P_θ (n, width) itself. The decoders' wrapper below
 * and the encoders' (./prefix-encoders.ts) extend it; `width` is what their attention layers take in all.
 */
export class PrefixParameters extends Module {
  /** P'_θ (n, C): the small matrix the MLP expands; null after fold() or without reparameterisation */
  prefixEmb: Parameter | null;
  mlpIn: Linear | null; //  W₁ (H, C)
  mlpOut: Linear | null; // W₂ (width, H)
  /** P_θ (n, width) itself: after fold(), or trained directly without reparameterisation */
  prefixKV: Parameter | null;
  readonly n: number;

  constructor(n: number, C: number, width: number, opts: PrefixOptions, who: string) {
    super();
    const H = opts.hidden ?? C;
    if (!Number.isInteger(H) || H <= 0) throw new ArgumentError(`${who}: hidden must be a positive integer, got ${H}`);
    const generator = opts.generator ?? defaultGenerator;
    this.n = n;
    if (opts.noReparameterization) {
      this.prefixEmb = null;
      this.mlpIn = this.mlpOut = null;
      this.prefixKV = param([n, width]);
      normal_(this.prefixKV, 0, 0.02, { generator });
    } else {
      this.prefixEmb = param([n, C]);
      normal_(this.prefixEmb, 0, 1, { generator }); // as nn.Embedding initialises it
      this.mlpIn = new Linear(C, H, { generator });
      this.mlpOut = new Linear(H, width, { generator });
      this.prefixKV = null;
    }
  }

  /** P_θ (n, width): the folded matrix, or MLP_θ(P'_θ) while training. */
  prefix(): Tensor {
    if (this.prefixKV) return this.prefixKV;
    // P_θ = W₂·tanh(W₁·P'_θ + b₁) + b₂   (Li & Liang §4.3)
    return this.mlpOut!.forward(F.tanh(this.mlpIn!.forward(this.prefixEmb!))); // (n, width)
  }

  /**
   * Compute P_θ once and keep it as a frozen tensor; drop P'_θ and the MLP (Li & Liang §4.3: "we only
   * need to save the prefix parameters P_θ"). The outputs do not change.
   */
  fold(): void {
    if (!this.mlpIn) return;
    const p = noGrad(() => this.prefix().clone());
    this.prefixKV = new Parameter(p, false);
    this.prefixEmb = null;
    this.mlpIn = this.mlpOut = null;
  }
}

/** A frozen decoder with trainable per-layer prefixes of keys and values. */
export class PrefixTuning<M extends CachedLM = CachedLM> extends PrefixParameters {
  base: M;
  readonly L: number;
  readonly nkv: number;
  readonly hs: number;
  readonly config: { readonly blockSize: number; readonly nLayer: number };

  constructor(base: M, opts: PrefixOptions = {}) {
    const { L, nkv, hs } = attentionGeometry(base, "prefix");
    const n = virtualTokens(base, opts.numVirtualTokens, "prefix");
    const C = ([...base.blocks][0]!.attn as unknown as { wq: { inFeatures: number } }).wq.inFeatures; // the model width
    super(n, C, L * 2 * nkv * hs, opts, "prefix");
    this.base = base;
    this.L = L;
    this.nkv = nkv;
    this.hs = hs;
    // the prefix takes n of the base's positions: the wrapped model's window is what remains
    this.config = Object.freeze({ blockSize: base.config.blockSize - n, nLayer: base.config.nLayer });
  }

  /** A cache for a batch of B rows, each layer holding the prefix keys and values (B, nkv, n, hs). */
  prefixCache(B: number): KVCache {
    const cache = new KVCache(this.L);
    if (this.n === 0) return cache;
    const { n, L, nkv, hs } = this;
    // (n, L·2·nkv·hs) → (n, 2L, nkv, hs) → (2L, nkv, n, hs): row 2l holds layer l's keys, 2l + 1 its values
    const kv = this.prefix()
      .view(n, 2 * L, nkv, hs)
      .permute(1, 2, 0, 3); // (2L, nkv, n, hs)
    for (let l = 0; l < L; l++) {
      cache.layers[l]!.k = kv.narrow(0, 2 * l, 1).expand(B, nkv, n, hs); //     (B, nkv, n, hs)
      cache.layers[l]!.v = kv.narrow(0, 2 * l + 1, 1).expand(B, nkv, n, hs); // (B, nkv, n, hs)
    }
    return cache;
  }

  /** The trunk over idx (B, T) after the prefix: (B, T, C). An empty cache is filled with the prefix first. */
  hidden(idx: Tensor, cache?: KVCache): Tensor {
    if (idx.ndim !== 2) throw new ShapeError(`prefix: idx must be (B, T) token ids, got shape ${fmt(idx.shape)}`);
    const B = idx.shape[0]!;
    const c = cache ?? this.prefixCache(B);
    if (cache && cache.length === 0 && this.n > 0) {
      const filled = this.prefixCache(B);
      filled.layers.forEach((layer, l) => Object.assign(cache.layers[l]!, layer));
    }
    return this.base.hidden(idx, c); // (B, T, C)
  }

  get lmHead(): { forward(h: Tensor): Tensor } {
    return this.base.lmHead;
  }

  /** logits (B, T, V) and, with targets (B, T), the mean next-token cross-entropy. */
  forward(idx: Tensor, targets?: Tensor | null): LMOutput {
    const logits = this.base.lmHead.forward(this.hidden(idx)); // (B, T, V)
    if (!targets) return { logits, loss: null };
    const [B, T, V] = logits.shape as [number, number, number];
    if (targets.shape.length !== 2 || targets.shape[0] !== B || targets.shape[1] !== T)
      throw new ShapeError(`prefix: targets ${fmt(targets.shape)} must have the shape of idx ${fmt(idx.shape)}`);
    return { logits, loss: F.crossEntropy(logits.view(B * T, V), targets.view(B * T)) };
  }

  /** Sample maxNewTokens tokens after idx (B, T0) with the prefix in every layer's cache. */
  generate(idx: Tensor, maxNewTokens: number, opts: GenerateOptions = {}): Tensor {
    return generateWithCache(this, idx, maxNewTokens, opts, () => new KVCache(this.L));
  }
}

/** Freeze `model` and wrap it with trainable layer prefixes: trains P'_θ and the MLP (or P_θ directly). */
export function applyPrefixTuning<M extends CachedLM>(model: M, opts: PrefixOptions = {}): Finetuned<PrefixTuning<M>> {
  const wrapped = new PrefixTuning(model, opts); // checks the options before anything changes
  freeze(model); //                                 the base only: the prefix parameters live in the wrapper
  return { model: wrapped, method: "prefix", trainable: trainableParameters(wrapped) };
}
