// Prefix-Tuning for encoders (BERT, RoBERTa) and encoder-decoders (T5).
//   Li & Liang 2021, "Prefix-Tuning: Optimizing Continuous Prompts for Generation",
//   https://arxiv.org/abs/2101.00190
//
// The decoders' version (./prefix.ts) reaches attention through the KV cache. Encoders have no cache, so
// here every attention module of the model is wrapped: its queries read n extra keys and values, the layer's
// own rows of P_θ, in front of the keys and values it computes from its input:
//   head_i = Attention(x·W_Q, [P_k; kv·W_K], [P_v; kv·W_V])        (Li & Liang §4.2, eq. in §4.1)
// For an encoder-decoder Li & Liang prefix both stacks (§4.2: z = [PREFIX; x; PREFIX′; y]); we give a
// prefix to every attention of T5: the encoder's self-attention, the decoder's self-attention and its
// cross-attention (whose queries then see n virtual encoder positions before the real ones). All of them
// come from one P_θ (n, M·2·I), M the wrapped attentions, I = nh·hs, through one reparameterisation MLP.
//
// The prefix keys are never masked (padding masks concern the real tokens) and carry no position: BERT's
// positions are added to its input, not to keys; T5's relative-position bias is 0 for them. A prefix of
// length 0 adds nothing, so the model computes exactly what the base computes.
//
// T5's cached decoding (greedy, sampling, beam search) keeps only the real tokens' keys and values in the
// cache (src/nn/kv-cache.ts, EncoderDecoderCache) and prepends the prefix at every step, to the self-attention's
// P + T cached keys and to the cross-attention's S encoder keys; the decoder's position bias and causal mask
// count the real positions only and grow n zero columns here. `greedy`, `generate` and `beamSearch` below run
// the base's own decoding with the prefixes set, so it equals recomputing the whole prefix + sequence.
//
// Vocabulary: B batch, T queries, S keys of the input, n virtual tokens, nh heads, hs head size,
// I = nh·hs, C the model width, M the wrapped attention modules.

import { ArgumentError } from "../engine/errors.js";
import { ones, zeros } from "../engine/creation.js";
import type { Tensor } from "../engine/tensor.js";
import { cat } from "../ops/shape.js";
import * as F from "../nn/functional.js";
import { Module } from "../nn/module.js";
import { SelfAttention as BertSelfAttention } from "../models/bert/model.js";
import { MultiHeadAttention as T5Attention, T5, type AttnCache, type BeamResult } from "../models/t5/model.js";
import { freeze, replaceModule, trainableParameters, type Finetuned } from "./common.js";
import { PrefixParameters, type PrefixOptions } from "./prefix.js";

type BaseAttention = BertSelfAttention | T5Attention;
const isEncoderAttention = (m: Module): m is BaseAttention =>
  m instanceof BertSelfAttention || m instanceof T5Attention;

/** The BERT or T5 attention modules of `model` with their paths; none is an ArgumentError. */
export function encoderAttentions(model: Module): [string, BaseAttention][] {
  const found = [...model.namedModules()].filter(([path, m]) => path !== "" && isEncoderAttention(m)) as [
    string,
    BaseAttention,
  ][];
  if (found.length === 0)
    throw new ArgumentError(
      `prefix: ${model.constructor.name} has no BERT or T5 attention module; encoder prefix tuning applies to BERT, RoBERTa and T5 (the decoders take applyPrefixTuning)`,
    );
  return found;
}

/** One attention module whose keys and values start with n prefix rows (set by EncoderPrefixTuning). */
export class PrefixedAttention extends Module {
  base: BaseAttention;
  readonly nHead: number;
  readonly hs: number;
  /** this module's prefix keys and values (1, nh, n, hs), for the forward under way */
  prefixK: Tensor | null = null;
  prefixV: Tensor | null = null;

  constructor(base: BaseAttention) {
    super();
    this.base = base;
    this.nHead = base.nHead;
    this.hs = base.wq.outFeatures / base.nHead;
  }

  /** BERT: (x, keep); T5: (x, kv, bias, cache) — the wrapped module's own arguments. */
  forward(x: Tensor, ...rest: unknown[]): Tensor {
    const a = this.base;
    if (!this.prefixK || !this.prefixV)
      throw new ArgumentError(
        `prefix: a prefixed attention was called outside EncoderPrefixTuning.forward (no prefix set)`,
      );
    const t5 = a instanceof T5Attention;
    const kvIn = t5 ? (rest[0] as Tensor) : x; //                                   (B, S, C)
    const mask = (t5 ? rest[1] : rest[0]) as Tensor | null; // T5: additive bias; BERT: keep (bool)
    const cache = t5 ? (rest[2] as AttnCache | undefined) : undefined; // T5's cached decoding
    const [B, T] = x.shape as [number, number];
    const nh = this.nHead,
      hs = this.hs,
      n = this.prefixK.shape[2]!;
    const heads = (t: Tensor): Tensor => t.view(B, t.shape[1]!, nh, hs).transpose(1, 2); // (B, len, I) → (B, nh, len, hs)
    const q = heads(a.wq.forward(x)); // (B, nh, T, hs)
    // the real keys and values: T5's own, through its cache (which holds the real tokens only, so that its length
    // stays the P positions the decoder's bias counts); BERT's from its input
    const real =
      a instanceof T5Attention
        ? a.keysValues(kvIn, cache)
        : { k: heads(a.wk.forward(kvIn)), v: heads(a.wv.forward(kvIn)) }; // (B, nh, S, hs)
    // [P_k; kv·W_K] and [P_v; kv·W_V]: the prefix rows first, shared by every row of the batch (and every step)
    const k = cat([this.prefixK.expand(B, nh, n, hs), real.k], 2); // (B, nh, n+S, hs)
    const v = cat([this.prefixV.expand(B, nh, n, hs), real.v], 2); // (B, nh, n+S, hs)
    // the mask grows n columns that let every query see the prefix: keep = true (BERT), bias = 0 (T5)
    let attnMask: Tensor | null = null;
    if (mask) {
      const lead = [...mask.shape.slice(0, -1), n];
      attnMask = cat([t5 ? zeros(lead) : ones(lead, { dtype: mask.dtype }), mask], mask.ndim - 1); // (·, ·, ·, n+S)
    }
    const dropoutP = this.training ? a.dropoutP : 0;
    // BERT: softmax(q·kᵀ/√hs + M)·v;  T5: softmax(q·kᵀ + bias)·v (no 1/√hs)
    const y = F.scaledDotProductAttention(q, k, v, { attnMask, dropoutP, ...(t5 ? { scale: 1 } : {}) }); // (B, nh, T, hs)
    const merged = y.transpose(1, 2).reshape(B, T, nh * hs); // (B, T, I)
    return a.residDrop.forward(a.wo.forward(merged)); // (B, T, C)
  }
}

/** A frozen encoder (BERT family) or encoder-decoder (T5) whose every attention reads trainable prefixes. */
export class EncoderPrefixTuning<
  M extends Module & { forward(...args: never[]): unknown } = Module & { forward(...args: never[]): unknown },
> extends PrefixParameters {
  base: M;
  /** the wrapped attention modules, in the order of their rows in P_θ */
  readonly attentions: PrefixedAttention[];
  readonly nh: number;
  readonly hs: number;

  constructor(base: M, opts: PrefixOptions = {}) {
    const found = encoderAttentions(base);
    const n = opts.numVirtualTokens ?? 10;
    if (!Number.isInteger(n) || n < 0)
      throw new ArgumentError(`prefix: numVirtualTokens must be an integer ≥ 0, got ${n}`);
    const a0 = found[0]![1];
    const C = a0.wq.inFeatures,
      I = a0.wq.outFeatures;
    super(n, C, found.length * 2 * I, opts, "prefix");
    this.base = base;
    this.nh = a0.nHead;
    this.hs = I / a0.nHead;
    this.attentions = found.map(([path, m]) => {
      const wrapped = new PrefixedAttention(m);
      replaceModule(base, path, wrapped);
      return wrapped;
    });
  }

  /** Give every wrapped attention its rows of P_θ: (n, M·2·I) → (2M, nh, n, hs), keys at 2i, values at 2i + 1. */
  private setPrefixes(): void {
    const { n, nh, hs } = this,
      M = this.attentions.length;
    const kv =
      n === 0
        ? zeros([2 * M, nh, 0, hs])
        : this.prefix()
            .view(n, 2 * M, nh, hs)
            .permute(1, 2, 0, 3); // (2M, nh, n, hs)
    this.attentions.forEach((att, i) => {
      att.prefixK = kv.narrow(0, 2 * i, 1); //     (1, nh, n, hs)
      att.prefixV = kv.narrow(0, 2 * i + 1, 1); // (1, nh, n, hs)
    });
  }

  /** Run fn with every attention prefixed; no stale prefix after it. */
  private prefixed<R>(fn: () => R): R {
    this.setPrefixes();
    try {
      return fn();
    } finally {
      for (const att of this.attentions) att.prefixK = att.prefixV = null;
    }
  }

  /** The base model's forward, with the base's own arguments and output, every attention prefixed. */
  forward(...args: Parameters<M["forward"]>): ReturnType<M["forward"]> {
    return this.prefixed(() => (this.base.forward as (...a: unknown[]) => ReturnType<M["forward"]>)(...args));
  }

  /** T5's cached greedy decoding, prefixed (the base's `greedy`, with its arguments). */
  greedy(...args: Parameters<T5["greedy"]>): number[][] {
    return this.prefixed(() => this.decoder("greedy").greedy(...args));
  }

  /** T5's cached sampling (greedy at temperature 0), prefixed (the base's `generate`). */
  generate(...args: Parameters<T5["generate"]>): number[][] {
    return this.prefixed(() => this.decoder("generate").generate(...args));
  }

  /** T5's beam search through the cache, prefixed (the base's `beamSearch`). */
  beamSearch(...args: Parameters<T5["beamSearch"]>): BeamResult {
    return this.prefixed(() => this.decoder("beamSearch").beamSearch(...args));
  }

  private decoder(who: string): T5 {
    if (!(this.base instanceof T5))
      throw new ArgumentError(
        `prefix: ${who} decodes an encoder-decoder (T5); ${this.base.constructor.name} has no decoder`,
      );
    return this.base;
  }
}

/** Freeze a BERT-family or T5 model and prefix every attention: trains P'_θ and the MLP (or P_θ directly). */
export function applyEncoderPrefixTuning<M extends Module & { forward(...args: never[]): unknown }>(
  model: M,
  opts: PrefixOptions = {},
): Finetuned<EncoderPrefixTuning<M>> {
  encoderAttentions(model); //  check before anything changes
  freeze(model); //             first: the prefix parameters the wrapper adds must train
  const wrapped = new EncoderPrefixTuning(model, opts);
  return { model: wrapped, method: "prefix", trainable: trainableParameters(wrapped) };
}
