// The key/value cache of a decoder's self-attention, and the causal mask over cached and new tokens: shared by
// every decoder-only language model (GPT-2, LLaMA, BLOOM, Falcon) and the decoders of the encoder-decoders.
//
// Vocabulary (shape comments): B batch, h heads stored (nh, or nkv with grouped or multi-query attention),
// P tokens already cached, T tokens in this call, hs head size.

import { arange, zeros } from "../engine/creation.js";
import type { Tensor } from "../engine/tensor.js";
import { indexSelect } from "../ops/indexing.js";

/** The per-layer KV cache: keys and values of every token seen so far. */
export interface LayerCache {
  k: Tensor | null; // (B, h, P, hs)
  v: Tensor | null; // (B, h, P, hs)
}

/** Keys and values for each block, grown by one `cat` per call; `length` is P, the tokens cached. */
export class KVCache {
  readonly layers: LayerCache[];

  constructor(nLayer: number) {
    this.layers = Array.from({ length: nLayer }, () => ({ k: null, v: null }));
  }

  get length(): number {
    return this.layers[0]?.k?.shape[2] ?? 0;
  }
}

/**
 * Which keys each query may see, as options of `scaledDotProductAttention`. Query i of this call sits at
 * position P + i and sees keys j ≤ P + i. With an empty cache that is PyTorch's isCausal (the square lower
 * triangle); one new token sees every key; several new tokens after a cache need the explicit (T, P + T) mask.
 */
export function causalMask(P: number, T: number): { isCausal?: boolean; attnMask?: Tensor } {
  if (P === 0) return { isCausal: true };
  if (T === 1) return {};
  // M_ij = (j ≤ P + i)
  const j = arange(P + T).unsqueeze(0); // (1, P+T)
  const i = arange(P, P + T).unsqueeze(1); // (T, 1)
  return { attnMask: j.le(i) }; // (T, P+T) bool
}

/**
 * The causal mask as an additive bias (T, P+T): 0 where key j ≤ P + i (the query's past and itself), −∞ after;
 * for attention that adds a position bias to its logits before the softmax (T5's relative buckets).
 */
export function causalBias(P: number, T: number): Tensor {
  // M_ij = 0 if j ≤ P + i else −∞
  const j = arange(P + T).unsqueeze(0); // (1, P+T)
  const i = arange(P, P + T).unsqueeze(1); // (T, 1)
  return zeros([T, P + T]).maskedFill(j.gt(i), -Infinity); // (T, P+T)
}

// ---------------------------------------------------------------------------------------------------
// The decoder of an encoder-decoder (the Transformer, T5, BART): two caches per layer. The self-attention's
// keys and values grow by the new tokens at every call; the cross-attention's are computed from the encoder's
// output at the first call and reused unchanged after it (the memory does not change while decoding).

/** One attention's cache: `grow` (self-attention) appends each call's keys and values; otherwise they are computed once. */
export interface AttnCache {
  readonly grow: boolean;
  k: Tensor | null; // (B, nh, P or S, hs)
  v: Tensor | null; // (B, nh, P or S, hs)
}

/** Keys and values for every decoder layer of an encoder-decoder: its self-attention and its cross-attention. */
export class EncoderDecoderCache {
  readonly layers: { self: AttnCache; cross: AttnCache }[];

  constructor(nLayer: number) {
    this.layers = Array.from({ length: nLayer }, () => ({
      self: { grow: true, k: null, v: null },
      cross: { grow: false, k: null, v: null },
    }));
  }

  /** P: the target tokens cached so far */
  get length(): number {
    return this.layers[0]?.self.k?.shape[2] ?? 0;
  }

  /** Keep (and repeat) the cached rows of `rows` (N) int32, in that order: beam search's reordering. */
  select(rows: Tensor): void {
    for (const l of this.layers) {
      for (const c of [l.self, l.cross]) {
        if (c.k && c.v) {
          c.k = indexSelect(c.k, 0, rows); // (N, nh, ·, hs)
          c.v = indexSelect(c.v, 0, rows);
        }
      }
    }
  }
}
