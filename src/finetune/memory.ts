// What a training step of a (fine-tuned) model holds in tensors, measured on the tensors themselves.
//
// A method saves memory in two places: the optimizer state and gradients it keeps (one per trainable
// parameter), and the activations the autograd tape keeps for the backward pass — an op is recorded only
// when one of its inputs requires a gradient, so the layers below the first trainable parameter record
// nothing at all. `tapeBytes(loss)` walks the tape from the loss, just before `backward()` (the moment a
// step holds the most: every saved activation and none freed yet), and adds up the storage of every tensor
// it reaches, each storage counted once. `stepBytes` adds the weights, the gradients and AdamW's two
// moments. These are bytes of tensor storage, not the process's resident memory (which also holds the
// JavaScript heap, the kernels' scratch and whatever the garbage collector has not yet reclaimed).

import type { Tensor } from "../engine/tensor.js";
import type { Module } from "../nn/module.js";

/** Every distinct storage reachable from `root` through the autograd tape (root's own included). */
export function tapeStorages(root: Tensor): Set<ArrayBufferView> {
  const storages = new Set<ArrayBufferView>();
  const visited = new Set<Tensor>();
  const stack: Tensor[] = [root];
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (visited.has(t)) continue;
    visited.add(t);
    storages.add(t.storage);
    if (t.gradFn) for (const x of t.gradFn.inputs) stack.push(x);
  }
  return storages;
}

const sumBytes = (storages: Iterable<ArrayBufferView>): number => {
  let n = 0;
  for (const s of storages) n += s.byteLength;
  return n;
};

/** Bytes of every distinct storage reachable from `root` through the autograd tape. */
export function tapeBytes(root: Tensor): number {
  return sumBytes(tapeStorages(root));
}

export interface StepBytes {
  /** every parameter of the model, frozen or not */
  weights: number;
  /** one gradient per trainable parameter */
  grads: number;
  /** AdamW's two moments per trainable parameter */
  optimizer: number;
  /** the tape at the end of the forward pass, less the parameters it reaches (counted in weights) */
  activations: number;
  /** the sum: the tensor bytes one training step holds at its peak */
  total: number;
}

/** The tensor bytes of one training step of `model` whose loss is `loss` (call before loss.backward()). */
export function stepBytes(model: Module, loss: Tensor): StepBytes {
  const params = model.parameters();
  const weights = params.reduce((n, p) => n + p.storage.byteLength, 0);
  const trainable = params.filter((p) => p.requiresGrad).reduce((n, p) => n + p.storage.byteLength, 0);
  // the tape also reaches parameters (trainable leaves, frozen weights read by recorded ops): counted in weights
  const paramStorage = new Set<ArrayBufferView>(params.map((p) => p.storage));
  const activations = sumBytes([...tapeStorages(loss)].filter((s) => !paramStorage.has(s)));
  const grads = trainable,
    optimizer = 2 * trainable;
  return { weights, grads, optimizer, activations, total: weights + grads + optimizer + activations };
}
