// Distributed data parallelism (DDP): every worker holds the whole model and the whole optimizer, runs
// forward and backward on its slice of the global batch, then the gradients are averaged over the group so
// that every worker takes the same optimizer step — PyTorch's DistributedDataParallel (Li et al. 2020,
// "PyTorch Distributed", https://arxiv.org/abs/2006.15704), and the baseline of ZeRO (Rajbhandari et al.
// 2020, https://arxiv.org/abs/1910.02054): per worker 4Ψ bytes of fp32 parameters + 4Ψ of gradients +
// 8Ψ of Adam moments, whatever the number of workers N.
//
// With a global batch of B examples split into N slices of B/N, each worker's loss is the mean over its
// slice, so the mean over the whole batch is the mean of the workers' losses, and by linearity
//
//   ∇L = (1/B) Σ_b ∇ℓ_b = (1/N) Σ_r ∇L_r        (L_r: worker r's mean loss over its B/N examples)
//
// which is what allReduceGradients computes: an all-reduce (sum) of every gradient, divided by N.
//
// A parameter no worker computed a gradient for in a step (an expert of a mixture that no token of the whole batch
// chose) keeps none, as in one process, where the optimizer then skips it (its moments and step count stay): one
// small all-reduce counts, per parameter, the workers that have a gradient (PyTorch's DDP likewise leaves a globally
// unused parameter's grad untouched). A parameter some worker has a gradient for counts as zeros on the others.
//
// Buckets: gradients are packed, in reverse registration order (roughly the order backward produces them),
// into flat buckets of at most bucketElements, one all-reduce per bucket instead of one per parameter —
// fewer, larger messages. (PyTorch starts a bucket's all-reduce while backward still runs; here backward
// and communication take turns on the same thread, so buckets only batch the messages.)

import { ArgumentError } from "../engine/errors.js";
import { Tensor } from "../engine/tensor.js";
import type { Module, Parameter } from "../nn/module.js";
import type { Communicator } from "./collectives.js";
import { unusedOnEveryWorker } from "./shards.js";

export interface DDPOptions {
  /** float32 elements of one bucket (default: the communicator's capacity, at least 1) */
  bucketElements?: number;
}

/** The parameters of one all-reduce: a run of parameters whose gradients are packed one after another. */
export interface Bucket {
  params: Parameter[];
  elements: number;
}

/**
 * The module's trainable float32 parameters in reverse registration order, cut into buckets of at most cap
 * elements; a parameter larger than cap gets a bucket of its own.
 */
export function makeBuckets(op: string, module: Module, cap: number, only?: readonly Parameter[]): Bucket[] {
  if (!Number.isInteger(cap) || cap < 1)
    throw new ArgumentError(`${op}: bucketElements must be a positive integer, got ${cap}`);
  const params = (only ?? module.parameters()).filter((p) => p.requiresGrad);
  for (const p of params) {
    if (!(p.storage instanceof Float32Array))
      throw new ArgumentError(`${op}: parameters must be float32, got ${p.dtype} of shape (${p.shape.join(", ")})`);
  }
  const buckets: Bucket[] = [];
  let cur: Bucket = { params: [], elements: 0 };
  for (const p of [...params].reverse()) {
    if (cur.elements > 0 && cur.elements + p.numel() > cap) {
      buckets.push(cur);
      cur = { params: [], elements: 0 };
    }
    cur.params.push(p);
    cur.elements += p.numel();
  }
  if (cur.elements > 0) buckets.push(cur);
  return buckets;
}

/** Copies the bucket's gradients one after another into flat (zeros for a parameter without one). */
export function packGradients(bucket: Bucket, flat: Float32Array): void {
  let off = 0;
  for (const p of bucket.params) {
    if (p.grad) flat.set(p.grad.storage as Float32Array, off);
    else flat.fill(0, off, off + p.numel());
    off += p.numel();
  }
}

/** Copies the bucket's parameters one after another into flat. */
export function packParams(bucket: Bucket, flat: Float32Array): void {
  let off = 0;
  for (const p of bucket.params) {
    flat.set(p.storage as Float32Array, off);
    off += p.numel();
  }
}

/**
 * The global-norm clipping of sharded gradients: ‖g‖ = √(Σ_r Σ_i g_r,i²), summed in float64 per worker and
 * all-reduced (one float32 number), then each shard scaled by min(maxNorm/(‖g‖+1e-6), 1). Every worker must call it.
 */
export function clipShardedGradNorm(shards: readonly Tensor[], comm: Communicator, maxNorm: number): number {
  let sq = 0;
  for (const p of shards) {
    const g = p.grad?.storage as Float32Array | undefined;
    if (g) for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
  }
  const total = new Float32Array([sq]);
  comm.allReduce(total);
  const norm = Math.fround(Math.sqrt(total[0]!));
  const coef = Math.fround(Math.min(maxNorm / (norm + 1e-6), 1));
  for (const p of shards) {
    const g = p.grad?.storage as Float32Array | undefined;
    if (g) for (let i = 0; i < g.length; i++) g[i] = g[i]! * coef;
  }
  return norm;
}

/** Copies the parameters of rank `root` (trainable or not, float32) to every worker. */
export function broadcastParameters(module: Module, comm: Communicator, root = 0): void {
  for (const p of module.parameters()) {
    if (p.storage instanceof Float32Array) comm.broadcast(p.storage, root);
  }
}

export class DistributedDataParallel {
  readonly module: Module;
  readonly comm: Communicator;
  readonly buckets: Bucket[];
  private readonly flat: Float32Array;

  constructor(module: Module, comm: Communicator, opts: DDPOptions = {}) {
    this.module = module;
    this.comm = comm;
    this.buckets = makeBuckets("DistributedDataParallel", module, opts.bucketElements ?? comm.capacity);
    this.flat = new Float32Array(Math.max(0, ...this.buckets.map((b) => b.elements)));
  }

  /** Copies rank `root`'s parameters to every worker, so that all start equal. */
  broadcastParameters(root = 0): void {
    broadcastParameters(this.module, this.comm, root);
  }

  /**
   * grad ← (1/N) Σ_r grad_r for every trainable parameter, bucket by bucket, the same bits on every worker.
   * A parameter without a gradient on a worker counts as zeros there (and receives the average); one without a
   * gradient on every worker keeps none (the optimizer skips it, as one process's).
   */
  allReduceGradients(): void {
    const N = this.comm.worldSize;
    const unused = unusedOnEveryWorker(
      this.comm,
      this.buckets.flatMap((b) => b.params),
      (p) => p.grad !== null,
    );
    for (const bucket of this.buckets) {
      const flat = this.flat.subarray(0, bucket.elements);
      packGradients(bucket, flat);
      this.comm.allReduce(flat);
      // unpack: ∇L = (1/N) Σ_r ∇L_r
      let off = 0;
      for (const p of bucket.params) {
        const n = p.numel();
        if (unused.has(p)) {
          off += n; // no worker's gradient: none, as one process's
          continue;
        }
        const g = new Float32Array(n); // a fresh gradient: the old one's storage may be shared with another tensor
        for (let i = 0; i < n; i++) g[i] = flat[off + i]! / N;
        p.grad = new Tensor(g, [...p.shape]);
        off += n;
      }
    }
  }
}
