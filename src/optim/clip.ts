// Gradient clipping, in place on the parameters' `.grad` (PyTorch's torch.nn.utils.clip_grad_norm_
// and clip_grad_value_, 1.13). Parameters whose grad is null are left out.

import { ArgumentError } from "../engine/errors.js";
import { Tensor } from "../engine/tensor.js";
import { kernels } from "../ops/kernels.js";
import type { FloatStorage } from "./optimizer.js";

function gradsOf(op: string, params: Tensor | Iterable<Tensor>): Tensor[] {
  const list = params instanceof Tensor ? [params] : [...params];
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) throw new ArgumentError(`${op}: params[${i}] is not a Tensor`);
  });
  return list.map((p) => p.grad).filter((g): g is Tensor => g !== null);
}

/**
 * Scale all gradients together so that their global norm is at most maxNorm, and return the norm they
 * had before (a number; PyTorch returns it as a 0-d tensor). As PyTorch:
 *
 *   n_i   = ‖g_i‖_p                         the norm of each gradient
 *   total = ‖(n_1, …, n_k)‖_p               p = Infinity: max_i n_i
 *   c     = min(maxNorm / (total + 1e-6), 1)
 *   g_i  ← c·g_i                            (always multiplied, also when c = 1)
 *
 * The norms are rounded to the gradients' dtype as PyTorch's float32 tensors are. With no gradient
 * at all the norm is 0. A non-finite total norm throws when errorIfNonfinite is set; otherwise the
 * gradients are scaled by it anyway (and become NaN), as in PyTorch.
 */
export function clipGradNorm(
  params: Tensor | Iterable<Tensor>,
  maxNorm: number,
  normType = 2,
  { errorIfNonfinite = false }: { errorIfNonfinite?: boolean } = {},
): number {
  const op = "clipGradNorm";
  if (typeof maxNorm !== "number" || Number.isNaN(maxNorm))
    throw new ArgumentError(`${op}: maxNorm must be a number, got ${JSON.stringify(maxNorm)}`);
  if (typeof normType !== "number" || !(normType >= 0))
    throw new ArgumentError(`${op}: normType must be a number ≥ 0 or Infinity, got ${JSON.stringify(normType)}`);
  const grads = gradsOf(op, params);
  if (grads.length === 0) return 0;
  const k = kernels();
  const f32 = grads[0]!.dtype === "float32";
  // n_i, stored in the gradients' precision (PyTorch stacks the per-gradient norms into one tensor)
  const norms = f32 ? new Float32Array(grads.length) : new Float64Array(grads.length);
  grads.forEach((g, i) => (norms[i] = k.vectorNorm(g.storage as FloatStorage, normType)));
  let total = k.vectorNorm(norms, normType);
  if (f32) total = Math.fround(total);
  if (errorIfNonfinite && !Number.isFinite(total)) {
    throw new ArgumentError(
      `${op}: the total norm of order ${normType} of the gradients is ${total}, so they cannot be clipped; pass { errorIfNonfinite: false } to scale them by it anyway`,
    );
  }
  // c = min(maxNorm / (total + 1e-6), 1); NaN stays NaN
  const coef = Math.min(maxNorm / (total + 1e-6), 1);
  for (const g of grads) k.scale(g.storage as FloatStorage, g.dtype === "float32" ? Math.fround(coef) : coef);
  return total;
}

/** Clamp every gradient element into [−clipValue, clipValue] (NaN stays NaN). */
export function clipGradValue(params: Tensor | Iterable<Tensor>, clipValue: number): void {
  const op = "clipGradValue";
  if (typeof clipValue !== "number" || Number.isNaN(clipValue))
    throw new ArgumentError(`${op}: clipValue must be a number, got ${JSON.stringify(clipValue)}`);
  // the elementwise clamp kernel, run in place (out = x)
  for (const g of gradsOf(op, params)) kernels().clamp(g.storage, g.storage, -clipValue, clipValue);
}
