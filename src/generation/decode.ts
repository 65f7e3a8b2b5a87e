// The decoding loop of every decoder-only language model (GPT-2, LLaMA, BLOOM, Falcon): feed the tokens not
// yet cached, sample the next token from the last position's logits, append it.
//
// Vocabulary (shape comments): B rows, T0 prompt tokens, Tn tokens fed in one step, C channels, V vocabulary.

import { ArgumentError } from "../engine/errors.js";
import { defaultGenerator } from "../engine/rng.js";
import { tidy } from "../engine/scope.js";
import type { Tensor } from "../engine/tensor.js";
import { cat } from "../ops/shape.js";
import { evaluating } from "../nn/module.js";
import { sampleTokens, samplingOptions, type GenerateOptions } from "./sampling.js";

/** What the shared decoding loop needs of a decoder: its window, its hidden states over a cache, its head. */
export interface CachedDecoder<Cache extends { readonly length: number }> {
  readonly config: { readonly blockSize: number };
  readonly training: boolean;
  eval(): unknown;
  train(mode?: boolean): unknown;
  /** the last layer's hidden states (B, Tn, C) of the tokens `next`, appending their keys and values to `cache` */
  hidden(next: Tensor, cache: Cache): Tensor;
  readonly lmHead: { forward(x: Tensor): Tensor };
}

/**
 * The decoding loop of every decoder in the zoo (GPT-2, LLaMA, BLOOM, Falcon: each passes its own KV cache):
 * feed the tokens not yet cached, sample the next one from the last position's logits, append it; rebuild the
 * cache from the last blockSize tokens when the window is full (or at every step without a cache).
 */
export function generateWithCache<Cache extends { readonly length: number }>(
  model: CachedDecoder<NoInfer<Cache>>,
  idx: Tensor,
  maxNewTokens: number,
  opts: GenerateOptions,
  newCache: () => Cache,
): Tensor {
  const { useCache = true } = opts;
  const sampling = samplingOptions(opts);
  const generator = opts.generator ?? defaultGenerator;
  if (!(Number.isInteger(maxNewTokens) && maxNewTokens >= 0))
    throw new ArgumentError(`generate: maxNewTokens must be an integer ≥ 0, got ${maxNewTokens}`);
  const { blockSize } = model.config;
  // inside a memory scope: the activations and caches of every step live in wasm memory, freed at the end
  return tidy("generate", () =>
    evaluating(model, () => {
      let out = idx; //  (B, T0 + steps so far)
      let next = idx; // the tokens not yet in the cache
      let cache = newCache();
      for (let step = 0; step < maxNewTokens; step++) {
        if (!useCache || cache.length + next.shape[1]! > blockSize) {
          // (re)start from the context window: the last ≤ blockSize tokens at positions 0…
          const Tc = Math.min(out.shape[1]!, blockSize);
          next = out.narrow(1, out.shape[1]! - Tc, Tc); // (B, Tc)
          cache = newCache();
        }
        const h = model.hidden(next, cache); // (B, Tn, C)
        const last = h.narrow(1, h.shape[1]! - 1, 1); // (B, 1, C)
        const logits = model.lmHead.forward(last); // (B, 1, V)
        const tok = sampleTokens(logits, sampling, generator, out); // (B, 1) int32; the penalty sees prompt + generated
        out = cat([out, tok], 1);
        next = tok;
      }
      return out;
    }),
  );
}
