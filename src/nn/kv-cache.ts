// The key/value cache of a decoder's self-attention, and the causal mask over cached and new tokens: shared by
// every decoder-only language model (GPT-2, LLaMA, BLOOM, Falcon) and the decoders of the encoder-decoders.
//
// Vocabulary (shape comments): B batch, h heads stored (nh, or nkv with grouped or multi-query attention),
// P tokens already cached, T tokens in this call, hs head size.

import { arange } from "../engine/creation.js";
import type { Tensor } from "../engine/tensor.js";

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
