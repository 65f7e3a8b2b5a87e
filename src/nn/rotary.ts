// Rotary position embeddings (RoPE), the one implementation used by every model that rotates q and k
// (LLaMA, Falcon).
//   Su et al. 2021, "RoFormer: Enhanced Transformer with Rotary Position Embedding", https://arxiv.org/abs/2104.09864
//
// The half-split layout (GPT-NeoX's "rotate_half", the layout of the Hugging Face checkpoints): channel i and
// i + hs/2 form pair i, turned by the angle m·θ_i at position m, θ_i = ropeTheta^(−2i/hs), i < hs/2
// (RoFormer eq. 15, 34). Meta's original LLaMA files rotate interleaved pairs (2i, 2i+1) instead; their wq/wk
// rows are permuted to this layout when loaded (src/models/llama/model.ts, fromMetaRotaryLayout).
//
// Vocabulary (shape comments): T positions, hs head size.

import { tensor } from "../engine/creation.js";
import { inMeta } from "../engine/meta.js";
import type { Tensor } from "../engine/tensor.js";
import { cat } from "../ops/shape.js";

/**
 * The rotary tables for positions P…P+T−1 with base `ropeTheta` (10000 in LLaMA and Falcon).
 * cos, sin (T, hs): [cos m·θ_0 … cos m·θ_{hs/2−1}, cos m·θ_0 … cos m·θ_{hs/2−1}], likewise sin.
 * The angles are rounded as PyTorch computes them in float32: θ_i = 1/ropeTheta^(2i/hs), then m·θ_i.
 */
export function rotaryTables(
  P: number,
  T: number,
  hs: number,
  ropeTheta: number,
  dtype: "float32" | "float64" = "float32",
): { cos: Tensor; sin: Tensor } {
  const half = hs / 2;
  const cos = new Float64Array(T * hs),
    sin = new Float64Array(T * hs);
  // counted on shape-only tensors (a memory estimate), the tables are never read: their angles are not computed
  if (inMeta()) return { cos: tensor(cos, { shape: [T, hs], dtype }), sin: tensor(sin, { shape: [T, hs], dtype }) };
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      // m·θ_i with m = P + t, in float32 like the reference implementations
      const a = Math.fround((P + t) * Math.fround(1 / Math.pow(ropeTheta, (2 * i) / hs)));
      cos[t * hs + i] = cos[t * hs + i + half] = Math.cos(a);
      sin[t * hs + i] = sin[t * hs + i + half] = Math.sin(a);
    }
  }
  return { cos: tensor(cos, { shape: [T, hs], dtype }), sin: tensor(sin, { shape: [T, hs], dtype }) };
}

/**
 * RoPE. x (…, T, hs) rotated pairwise by its position: x' = x ⊙ cos + rotate_half(x) ⊙ sin,
 * rotate_half([x₁, x₂]) = [−x₂, x₁] with x₁, x₂ the two halves of the head — per pair (x₁ᵢ, x₂ᵢ):
 * (x₁ᵢ cos − x₂ᵢ sin, x₂ᵢ cos + x₁ᵢ sin), the 2-D rotation of RoFormer eq. 13; then q·kᵀ depends on the
 * positions only through their difference (eq. 16).
 */
export function applyRotary(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const d = x.ndim - 1,
    half = x.shape[d]! / 2;
  const x1 = x.narrow(d, 0, half),
    x2 = x.narrow(d, half, half); // (…, T, hs/2) each
  const rotated = cat([x2.neg(), x1], d); // (…, T, hs)
  return x.mul(cos).add(rotated.mul(sin)); // (…, T, hs), cos and sin (T, hs) broadcast
}
