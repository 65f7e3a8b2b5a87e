// The autograd tape. Every differentiable op that runs while gradients are enabled and has an input
// that requires grad attaches a Node to its output: the op's name, its inputs, and its backward
// closure (which captures exactly what the backward needs). `backward()` walks the nodes from the
// output in reverse topological order, calls each closure with the gradient of the node's output,
// and accumulates what it returns into the gradients of the inputs; leaves keep theirs in `.grad`.
// After a backward the closures are dropped (the graph is "freed") unless `retainGraph` is set, so
// memory does not grow over a training run.

import { isFloating } from "./dtype.js";
import { AutogradError } from "./errors.js";
import { fmt, sameShape } from "./shape.js";
import {
  accumulateLeafGrad,
  backwardNodeScope,
  backwardScope,
  blockSerial,
  releaseBackwardTemporary,
} from "./scope.js";
import type { Tensor } from "./tensor.js";

/** Gradients of the op's inputs, in input order, given the gradient of its output; null = no gradient. */
export type BackwardFn = (dy: Tensor) => readonly (Tensor | null | undefined)[];

export interface Node {
  readonly name: string;
  readonly inputs: readonly Tensor[];
  /** null once the graph has been freed by a backward pass */
  backward: BackwardFn | null;
}

let gradEnabled = true;
/** Counts the switches of gradient mode: constant over one uninterrupted no-grad region. */
let gradModeSwitches = 0;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * An id of the current gradient-mode region, which changes whenever recording is switched on or off:
 * one outermost `noGrad(fn)` call (an inference, a `generate`) is one region. Kernels may keep copies of
 * weights within one no-grad region (see MatmulParams.constantB).
 */
export function gradModeRegion(): number {
  return gradModeSwitches;
}

/** Run fn with gradient recording switched off (PyTorch's `torch.no_grad()`). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  if (prev) gradModeSwitches++;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
    if (prev) gradModeSwitches++;
  }
}

/** Run fn with gradient recording switched on, even inside noGrad. */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  if (!prev) gradModeSwitches++;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
    if (!prev) gradModeSwitches++;
  }
}

/**
 * Attach the backward of op `name` to `out` when gradients are recorded and some input requires
 * grad. Returns `out`, so an op ends with `return record("exp", [x], y, (dy) => [dy.mul(y)])`.
 */
export function record(name: string, inputs: readonly Tensor[], out: Tensor, backward: BackwardFn): Tensor {
  if (!gradEnabled || !isFloating(out.dtype)) return out;
  if (!inputs.some((t) => t.requiresGrad)) return out;
  out.gradFn = { name, inputs, backward };
  out.markRequiresGrad();
  return out;
}

export interface BackwardOptions {
  /** keep the graph's closures so that backward can run through it again */
  retainGraph?: boolean;
}

/** Reverse-mode differentiation from `root` (see Tensor.backward). */
export function runBackward(
  root: Tensor,
  grad: Tensor,
  opts: BackwardOptions,
  add: (a: Tensor, b: Tensor) => Tensor,
): void {
  // Outside any memory scope the pass runs inside one of its own (scope.ts backwardScope): its gradient
  // temporaries live in the kernels' memory and are released once no node needs them, while the leaves' .grad
  // come out as ordinary garbage-collected arrays, as with no scope. Inside a user's tidy it runs in that scope.
  backwardScope(() => backwardPass(root, grad, opts, add));
}

function backwardPass(root: Tensor, grad: Tensor, opts: BackwardOptions, add: (a: Tensor, b: Tensor) => Tensor): void {
  // blocks made after this mark hold gradients of this pass only (a leaf may take one over: ./scope.ts)
  const mark = blockSerial();
  // Topological order by iterative depth-first search over gradFn inputs.
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const inputs = t.gradFn?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const child = inputs[i]!;
      if (child.requiresGrad && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }

  const grads = new Map<Tensor, Tensor>([[root, grad]]);
  // In the scope of an unscoped backward (./scope.ts backwardScope) a gradient no entry of `grads` holds any more
  // is released at once, so that the next nodes reuse its block: the pass's heap is then the largest set of
  // gradients alive at one time, not the sum of all it made. `uses` counts the entries holding each tensor (one
  // tensor may be the gradient of several inputs: add's backward returns dy twice).
  const uses = new Map<Tensor, number>([[grad, 1]]);
  const hold = (v: Tensor): void => void uses.set(v, (uses.get(v) ?? 0) + 1);
  const drop = (v: Tensor): void => {
    const k = uses.get(v)! - 1;
    if (k === 0) uses.delete(v);
    else uses.set(v, k);
  };
  for (let n = order.length - 1; n >= 0; n--) {
    const t = order[n]!;
    const g = grads.get(t);
    if (g === undefined) continue;
    grads.delete(t);
    drop(g);
    const done: Tensor[] = [g]; // gradients this node may be the last user of
    if (t.gradFn === null || t.retainsGrad) {
      // a leaf (or a tensor that asked for retainGrad): accumulate into .grad
      t.grad = accumulateLeafGrad(t.grad, g, add, mark); // (inside a memory scope: kept, ./scope.ts)
    }
    const node = t.gradFn;
    if (node === null) {
      if (!uses.has(g)) releaseBackwardTemporary(g, mark);
      continue;
    }
    if (node.backward === null) {
      throw new AutogradError(
        `backward: trying to backward through the graph a second time (op ${node.name}); its saved values were freed by the first backward. Pass { retainGraph: true } to the first backward if you need to call it twice`,
      );
    }
    const backwardFn = node.backward;
    // backward closures are not themselves recorded; what one makes and does not return is released as it returns
    // (in the scope of an unscoped backward only: backwardNodeScope)
    const inputGrads = noGrad(() => backwardNodeScope(() => backwardFn(g)));
    for (let i = 0; i < node.inputs.length; i++) {
      const x = node.inputs[i]!;
      const dx = inputGrads[i];
      if (!x.requiresGrad || dx === null || dx === undefined) continue;
      if (!sameShape(dx.shape, x.shape) || dx.dtype !== x.dtype) {
        throw new AutogradError(
          `backward of ${node.name}: gradient for input ${i} has shape ${fmt(dx.shape)} ${dx.dtype} but the input is ${fmt(x.shape)} ${x.dtype} (a bug in the op's backward)`,
        );
      }
      const prev = grads.get(x);
      if (prev === undefined) {
        grads.set(x, dx);
        hold(dx);
      } else {
        const sum = add(prev, dx);
        grads.set(x, sum);
        drop(prev);
        hold(sum);
        done.push(prev, dx);
      }
    }
    for (const v of done) if (!uses.has(v)) releaseBackwardTemporary(v, mark);
  }
  if (!opts.retainGraph) for (const t of order) if (t.gradFn) t.gradFn.backward = null;
}
