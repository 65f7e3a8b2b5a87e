// ZeRO stage 1: optimizer state partitioning (P_os) — Rajbhandari et al. 2020, "ZeRO: Memory Optimizations
// Toward Training Trillion Parameter Models", https://arxiv.org/abs/1910.02054, section 5.1.
//
// DDP keeps the whole Adam state on every worker. ZeRO-1 cuts the parameters into N shards; worker r keeps
// the optimizer state of shard r only and updates only shard r; then every worker gathers the others' updated
// shards. Per worker, with Ψ parameters and fp32 Adam (the paper's mixed-precision 2Ψ+2Ψ+12Ψ restated for our
// all-fp32 case: 4Ψ parameters, 4Ψ gradients, 8Ψ moments):
//
//   DDP:     4Ψ + 4Ψ + 8Ψ     = 16Ψ bytes
//   ZeRO-1:  4Ψ + 4Ψ + 8Ψ/N          (the moments are sharded)
//
// One step, per bucket of packed parameters (the same buckets as DDP; shard r = chunk r of the bucket):
//
//   g ← all-reduce(g) / N                      every worker holds the whole averaged gradient
//   θ_r ← AdamW(θ_r, g_r, state_r)             only its own chunk, with only its own state
//   θ ← all-gather(θ_r)                        every worker holds the whole updated parameters again
//
// Adam is elementwise, so updating chunk by chunk is the same arithmetic as updating the whole: the result
// equals DDP's, and one process's on the global batch up to float32 rounding of the gradient's sum. The chunk is
// stepped as the segments of its parameters (shards.ts), each with its own step count, and a parameter that no
// worker has a gradient for is skipped, as one process skips it.

import { ArgumentError } from "../engine/errors.js";
import type { Module, Parameter } from "../nn/module.js";
import type { Optimizer } from "../optim/optimizer.js";
import { chunkRange, type Communicator } from "./collectives.js";
import { broadcastParameters, clipShardedGradNorm, makeBuckets, packGradients, packParams } from "./ddp.js";
import {
  chunkValues,
  gatherShardState,
  makeShard,
  segmentParams,
  setChunkGrad,
  setChunkValues,
  unusedOnEveryWorker,
  type Shard,
} from "./shards.js";

export interface ZeroOptions {
  /** float32 elements of one bucket (default and maximum: the communicator's capacity) */
  bucketElements?: number;
  /**
   * Parameters that share optimizer settings (e.g. weight decay on matrices only): a bucket never mixes two
   * groups, and makeOptimizer receives this worker's shards one list per group. Default: one group.
   */
  paramGroups?: Parameter[][];
}

export class ZeRO1 {
  readonly module: Module;
  readonly comm: Communicator;
  /** the optimizer over this worker's shards only: its state is 1/N of DDP's */
  readonly optimizer: Optimizer<any>;
  protected readonly shards: Shard[];
  protected readonly flat: Float32Array;
  private reduced = false;

  /**
   * makeOptimizer receives this worker's segments (one Parameter per run of a parameter in its chunks), and the
   * same split by paramGroups
   */
  constructor(
    module: Module,
    comm: Communicator,
    makeOptimizer: (params: Parameter[], groups: Parameter[][]) => Optimizer<any>,
    opts: ZeroOptions = {},
  ) {
    this.module = module;
    this.comm = comm;
    const cap = Math.min(opts.bucketElements ?? comm.capacity, comm.capacity);
    const groups = opts.paramGroups ?? [module.parameters()];
    const buckets = groups.flatMap((g, group) =>
      makeBuckets(new.target.name, module, cap, g).map((b) => ({ ...b, group })),
    );
    const big = buckets.find((b) => b.elements > comm.capacity);
    if (big) {
      // a bucket is all-gathered in one pass through the shared segments
      throw new ArgumentError(
        `${new.target.name}: a parameter of shape (${big.params[0]!.shape.join(", ")}) has ${big.elements} elements, more than the group's capacity of ${comm.capacity} per rank; launch with a larger capacity`,
      );
    }
    this.flat = new Float32Array(Math.max(0, ...buckets.map((b) => b.elements)));
    this.shards = buckets.map((bucket) => {
      const [start, end] = chunkRange(bucket.elements, comm.worldSize, comm.rank);
      const flat = this.flat.subarray(0, bucket.elements);
      packParams(bucket, flat);
      return makeShard(bucket, bucket.group, start, end, flat.subarray(start, end));
    });
    // a worker whose chunk of a bucket is empty (a bucket smaller than N) has nothing to optimize there
    this.optimizer = makeOptimizer(
      segmentParams(this.shards),
      groups.map((_, g) => segmentParams(this.shards.filter((s) => s.group === g))),
    );
  }

  /** Copies rank `root`'s parameters to every worker (and into the shards), so that all start equal. */
  broadcastParameters(root = 0): void {
    broadcastParameters(this.module, this.comm, root);
    for (const s of this.shards) {
      const flat = this.flat.subarray(0, s.bucket.elements);
      packParams(s.bucket, flat);
      setChunkValues(s, flat.subarray(s.start, s.end));
    }
  }

  /**
   * This worker's chunk of the bucket's summed gradient, Σ_r g_r over [start, end).
   * ZeRO-1: all-reduce, so every worker also holds the whole gradient (4Ψ bytes), as in DDP.
   */
  protected reduceGradient(shard: Shard, flat: Float32Array): Float32Array {
    this.comm.allReduce(flat); // (elements,) Σ_r g_r everywhere
    return flat.slice(shard.start, shard.end);
  }

  /**
   * After backward on every worker: the segments' averaged gradients (1/N) Σ_r g_r, none for a parameter no worker
   * has a gradient for (step() does it when not done yet).
   */
  reduceGradients(): void {
    const N = this.comm.worldSize;
    const unused = unusedOnEveryWorker(
      this.comm,
      this.shards.flatMap((s) => s.bucket.params),
      (p) => p.grad !== null,
    );
    for (const s of this.shards) {
      const flat = this.flat.subarray(0, s.bucket.elements);
      packGradients(s.bucket, flat);
      const g = this.reduceGradient(s, flat); // (end − start,) Σ_r g_r
      for (let i = 0; i < g.length; i++) g[i] = g[i]! / N;
      setChunkGrad(s, g, unused);
    }
    this.reduced = true;
  }

  /** Clip the global norm of the averaged gradient (after reduceGradients; see clipShardedGradNorm). */
  clipGradNorm(maxNorm: number): number {
    return clipShardedGradNorm(segmentParams(this.shards), this.comm, maxNorm);
  }

  /** After backward on every worker: averages the gradients, updates this worker's shards, gathers the parameters. */
  step(): void {
    if (!this.reduced) this.reduceGradients();
    this.reduced = false;
    // θ_r ← AdamW(θ_r, g_r, state_r), segment by segment
    this.optimizer.step();
    this.optimizer.zeroGrad();
    // θ ← all-gather(θ_r)
    for (const s of this.shards) {
      const flat = this.flat.subarray(0, s.bucket.elements);
      this.comm.allGather(chunkValues(s), flat);
      let off = 0;
      for (const p of s.bucket.params) {
        (p.storage as Float32Array).set(flat.subarray(off, off + p.numel()));
        off += p.numel();
      }
    }
  }

  /** Forget the module's gradients (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const p of this.module.parameters()) p.grad = null;
  }

  /**
   * One optimizer buffer (e.g. AdamW's "expAvg") of every parameter, gathered from all workers, in the module's
   * registration order — what one process's optimizer would hold. A collective: every worker must call it.
   */
  gatherState(name: string): Float32Array[] {
    const full = gatherShardState(this.comm, this.shards, this.optimizer, name);
    return this.module
      .parameters()
      .filter((p) => full.has(p))
      .map((p) => full.get(p)!);
  }

  /** This worker's shards of every bucket. */
  shardList(): readonly Shard[] {
    return this.shards;
  }
}
