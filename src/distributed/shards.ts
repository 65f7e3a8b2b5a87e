// What ZeRO-1/2 and FSDP share: a worker's shard of a flat run of parameters (a ZeRO bucket, an FSDP
// FlatParameter), and the collectives that put whole values back together from the shards or cut whole values
// into them: the parameters, and the optimizer's state (for checkpoints and for comparing with one process).

import { Tensor } from "../engine/tensor.js";
import type { Parameter } from "../nn/module.js";
import type { Optimizer, OptimizerStateDict } from "../optim/optimizer.js";
import type { Communicator } from "./collectives.js";
import type { Bucket } from "./ddp.js";

/** Chunk [start, end) of a bucket's packed parameters, held by this worker as one flat Parameter. */
export interface Shard {
  bucket: Bucket;
  /** the index of the parameter group (of the optimizer over the whole model) its parameters belong to */
  group: number;
  start: number;
  end: number;
  /** (end − start,) the optimizer's parameter */
  param: Parameter;
}

/**
 * For every shard, the whole bucket gathered from every worker's chunk (chunkOf(shard)), cut back into the
 * bucket's parameters. A collective: every worker calls it with its own shards, in the same order.
 */
export function gatherShards(
  comm: Communicator,
  shards: readonly Shard[],
  chunkOf: (s: Shard) => Float32Array,
): Map<Parameter, Float32Array> {
  const full = new Map<Parameter, Float32Array>();
  for (const s of shards) {
    const flat = new Float32Array(s.bucket.elements);
    comm.allGather(chunkOf(s), flat);
    let off = 0;
    for (const p of s.bucket.params) {
      full.set(p, flat.slice(off, off + p.numel()));
      off += p.numel();
    }
  }
  return full;
}

/** One optimizer buffer (AdamW's "expAvg", "expAvgSq") of every parameter the shards cover, gathered (a collective). */
export function gatherShardState(
  comm: Communicator,
  shards: readonly Shard[],
  optimizer: Optimizer<any>,
  name: string,
): Map<Parameter, Float32Array> {
  return gatherShards(comm, shards, (s) => {
    const mine = optimizer.getState(s.param)?.buffers[name];
    return mine ? Float32Array.from(mine) : new Float32Array(s.end - s.start);
  });
}

/**
 * The state of `whole` (an optimizer over the whole model's parameters, e.g. loaded from a checkpoint) cut into
 * the shards' optimizer: each shard's buffers are its chunk of the bucket's packed buffers, its step the
 * parameters' step. No collective: every worker has the whole state.
 */
export function loadShardState(shards: readonly Shard[], sharded: Optimizer<any>, whole: Optimizer<any>): void {
  const sd: OptimizerStateDict = { state: {}, paramGroups: sharded.stateDict().paramGroups };
  const index = new Map<Tensor, number>();
  sharded.paramGroups.flatMap((g) => g.params).forEach((p, i) => index.set(p, i));
  for (const s of shards) {
    const i = index.get(s.param);
    const states = s.bucket.params.map((p) => whole.getState(p));
    if (i === undefined || states.some((st) => st === undefined)) continue;
    const buffers: Record<string, Float32Array> = {};
    for (const name of Object.keys(states[0]!.buffers)) {
      const flat = new Float32Array(s.bucket.elements);
      let off = 0;
      s.bucket.params.forEach((p, k) => {
        flat.set(states[k]!.buffers[name]!, off);
        off += p.numel();
      });
      buffers[name] = flat.slice(s.start, s.end);
    }
    sd.state[i] = { step: states[0]!.step, buffers };
  }
  sharded.loadStateDict(sd);
}

/**
 * The shards' optimizer state gathered into `whole` (the optimizer over the whole model's parameters), so that
 * whole.stateDict() is what one process would have saved. `names` are the buffers the optimizer may keep (AdamW:
 * expAvg, expAvgSq, maxExpAvgSq); rank 0 says which exist. A collective.
 */
export function gatherShardStateInto(
  comm: Communicator,
  shards: readonly Shard[],
  sharded: Optimizer<any>,
  whole: Optimizer<any>,
  names: readonly string[],
): void {
  const first = shards.map((s) => sharded.getState(s.param)).find((st) => st !== undefined);
  // [step, has buffer 0, has buffer 1, ...] as rank 0 holds them: every worker then runs the same collectives
  const head = new Float32Array([first?.step ?? 0, ...names.map((n) => (first && n in first.buffers ? 1 : 0))]);
  comm.broadcast(head, 0);
  if (head[0] === 0) return; // no step taken yet: no state
  const present = names.filter((_, k) => head[k + 1] === 1);
  const gathered = present.map((n) => gatherShardState(comm, shards, sharded, n));
  const sd: OptimizerStateDict = { state: {}, paramGroups: whole.stateDict().paramGroups };
  whole.paramGroups
    .flatMap((g) => g.params)
    .forEach((p, i) => {
      if (!gathered[0]?.has(p as Parameter)) return;
      sd.state[i] = {
        step: head[0]!,
        buffers: Object.fromEntries(present.map((n, k) => [n, gathered[k]!.get(p as Parameter)!])),
      };
    });
  whole.loadStateDict(sd);
}
