// Activation checkpointing (gradient checkpointing): keep a block's input, drop everything its forward made,
// and compute the forward again during backward — Chen et al. 2016, "Training Deep Nets with Sublinear Memory
// Cost" (https://arxiv.org/abs/1604.06174), PyTorch's torch.utils.checkpoint. For L blocks whose forward keeps
// A bytes of activations each, backward holds L·(block input) + A instead of L·A, for one more forward per block.
//
//   y = checkpoint(fn, x)                  forward: y = fn(x) without recording a graph (only x is kept)
//   backward(dy):  x' = x.detach() that requires grad
//                  y' = fn(x')            the forward again, recorded this time (the same dropout masks: the
//                                         default generator is put back to where the first forward found it,
//                                         and a data-parallel worker's share of the draws, rng.ts withDrawShare,
//                                         is the one the first forward ran under)
//                  y'.backward(dy)        the block's parameters receive their gradients here
//                  dx = x'.grad           passed on to whatever made x
//
// The recorded node lists x and the block's parameters as its inputs, so it is recorded when either requires
// grad; its backward returns null for the parameters, which got theirs from the inner backward.
// Browser-safe; usable alone (applyActivationCheckpointing below) and under FSDP (src/distributed/fsdp.ts).

import { enableGrad, noGrad, record } from "../engine/autograd.js";
import { ArgumentError } from "../engine/errors.js";
import { defaultGenerator, drawShare, withDrawShare } from "../engine/rng.js";
import { Tensor } from "../engine/tensor.js";
import { syncBatchNormSum, withSyncBatchNorm } from "../ops/nn.js";
import type { Module } from "./module.js";
import { syncRoutingGroup, withSyncRouting } from "./moe.js";

export interface CheckpointOptions {
  /** the parameters fn reads (their gradients are accumulated by the recomputation); default none */
  params?: readonly Tensor[];
  /** fn's further arguments (masks, an encoder's output, a position bias); those that need a gradient get it */
  args?: readonly unknown[];
}

/**
 * A unit's further arguments cut from the outer graph. Each Tensor among them that requires grad (given directly, or
 * as a field of a plain object such as DeBERTa's RelativeContext) is an input of the unit's recorded node, and the
 * recorded forward reads a fresh leaf in its place: the inner backward then stops at the unit's boundary, and the
 * node hands the leaves' gradients back to the outer graph (a T5 decoder block's encoder output and position bias).
 */
export class UnitArgs {
  /** the outer tensors that need a gradient, in the order the node lists them */
  readonly inputs: Tensor[] = [];
  constructor(readonly rest: readonly unknown[]) {
    const add = (v: unknown): void => {
      if (v instanceof Tensor && v.requiresGrad && !this.inputs.includes(v)) this.inputs.push(v);
    };
    for (const a of rest) {
      if (a instanceof Tensor) add(a);
      else if (isPlainObject(a)) Object.values(a).forEach(add);
    }
  }
  /** the arguments with a fresh leaf for every input, and those leaves (read their .grad after the inner backward) */
  fresh(): { args: unknown[]; leaves: Tensor[] } {
    if (this.inputs.length === 0) return { args: [...this.rest], leaves: [] };
    const leaves = this.inputs.map((t) => t.detach().requiresGrad_(true));
    const swap = (v: unknown): unknown =>
      v instanceof Tensor && this.inputs.includes(v) ? leaves[this.inputs.indexOf(v)] : v;
    const args = this.rest.map((a) =>
      a instanceof Tensor
        ? swap(a)
        : isPlainObject(a)
          ? Object.fromEntries(Object.entries(a).map(([k, v]) => [k, swap(v)]))
          : a,
    );
    return { args, leaves };
  }
}

const isPlainObject = (a: unknown): a is Record<string, unknown> =>
  typeof a === "object" && a !== null && Object.getPrototypeOf(a) === Object.prototype;

/**
 * What a forward on a data-parallel worker's rows runs inside — its share of the dropout draws (rng.ts
 * withDrawShare), the group of a synchronized BatchNorm (ops/nn.ts withSyncBatchNorm) and of a mixture's routing
 * (moe.ts withSyncRouting) — captured now, to run a forward again inside the same during backward.
 */
export function forwardContext(): <T>(fn: () => T) => T {
  const { rank, worldSize } = drawShare();
  const sum = syncBatchNormSum();
  const group = syncRoutingGroup();
  return (fn) => withDrawShare(rank, worldSize, () => withSyncBatchNorm(sum, () => withSyncRouting(group, fn)));
}

/** y = fn(x, ...args), keeping only x (and args) for backward and running fn again there (see the top of this file). */
export function checkpoint(
  fn: (x: Tensor, ...args: unknown[]) => Tensor,
  x: Tensor,
  opts: CheckpointOptions = {},
): Tensor {
  if (!(x instanceof Tensor)) throw new ArgumentError("checkpoint: the input must be a Tensor");
  const params = (opts.params ?? []).filter((p) => p.requiresGrad);
  const extra = new UnitArgs(opts.args ?? []);
  const rng = defaultGenerator.getState(); // dropout masks are drawn again identically
  const again = forwardContext(); // backward runs outside the worker's forwardOnRows: the same context again
  const y = noGrad(() => fn(x.detach(), ...extra.rest)); // no graph: the block's activations are freed when it returns
  return record("checkpoint", [x, ...extra.inputs, ...params], y, (dy) => {
    const after = defaultGenerator.getState();
    defaultGenerator.setState(rng);
    const xr = x.detach().requiresGrad_(x.requiresGrad);
    const { args, leaves } = extra.fresh();
    let yr: Tensor;
    try {
      yr = again(() => enableGrad(() => fn(xr, ...args))); // the forward again, recorded
    } finally {
      defaultGenerator.setState(after);
    }
    if (yr.requiresGrad) yr.backward(dy); // the parameters' gradients accumulate here
    return [xr.requiresGrad ? xr.grad : null, ...leaves.map((l) => l.grad), ...params.map(() => null)];
  });
}

/** Which submodules to wrap: PyTorch's check_fn / auto-wrap policy, by module (and its dotted name). */
export type ModulePolicy = (m: Module, name: string) => boolean;

/** A policy that wraps every module of one of these classes (PyTorch's transformer_auto_wrap_policy / ModuleWrapPolicy). */
export function moduleClassPolicy(...classes: (abstract new (...args: never[]) => Module)[]): ModulePolicy {
  if (classes.length === 0) throw new ArgumentError("moduleClassPolicy: name at least one module class");
  return (m) => classes.some((c) => m instanceof c);
}

/**
 * Replace the forward of every submodule that `policy` selects (not the root) by its checkpointed version
 * (PyTorch's apply_activation_checkpointing(model, check_fn=...)). The module's forward must take the tensor
 * to differentiate first; further tensor arguments that need a gradient get it (UnitArgs). Returns the names wrapped.
 */
export function applyActivationCheckpointing(model: Module, policy: ModulePolicy): string[] {
  const wrapped: string[] = [];
  for (const [name, m] of model.namedModules()) {
    if (name === "" || !policy(m, name)) continue;
    const inner = (m as unknown as { forward: (x: Tensor, ...rest: unknown[]) => Tensor }).forward.bind(m);
    const params = m.parameters();
    (m as unknown as { forward: unknown }).forward = (x: Tensor, ...rest: unknown[]): Tensor =>
      checkpoint(inner, x, { params, args: rest });
    wrapped.push(name);
  }
  return wrapped;
}

/**
 * Bytes of the distinct storages of the non-leaf tensors the autograd graph reaches from t through its nodes'
 * inputs: the activations a backward from t keeps alive (parameters and inputs, the leaves, are not counted;
 * values a backward closure captures besides its inputs are not seen, so this is a lower bound).
 */
export function graphBytes(t: Tensor): number {
  const seen = new Set<Tensor>(),
    storages = new Set<unknown>();
  const stack = [t];
  let bytes = 0;
  while (stack.length) {
    const x = stack.pop()!;
    if (seen.has(x)) continue;
    seen.add(x);
    if (x.gradFn === null) continue; // a leaf (parameters, inputs) is not an activation
    if (!storages.has(x.storage)) {
      storages.add(x.storage);
      bytes += x.storage.length * (x.dtype === "float64" ? 8 : 4);
    }
    for (const i of x.gradFn.inputs) stack.push(i);
  }
  return bytes;
}
