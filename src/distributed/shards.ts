// What ZeRO-1/2 and FSDP share: a worker's shard of a flat run of parameters (a ZeRO bucket, an FSDP
// FlatParameter), and the collectives that put whole values back together from the shards or cut whole values
// into them: the parameters, and the optimizer's state (for checkpoints and for comparing with one process).
//
// The collectives move a shard as one flat chunk [start, end) of its bucket. The optimizer sees it cut at the
// parameters' borders: one segment per parameter the chunk touches, each a Parameter of its own with its own
// gradient, moments and step count — as PyTorch's FSDP (use_orig_params) and DeepSpeed's ZeRO keep a step per
// parameter. So a parameter that no worker has a gradient for in a step (an expert of a mixture that no token
// chose) is skipped as one process's optimizer skips it: its values, moments and step count stay.
//
//   bucket:    [ p0 ......... | p1 .... | p2 .............. ]
//   chunks:    [ worker 0        | worker 1       | worker 2  ]
//   worker 1:                [p0 | p1 .... | p2 ]            three segments, three optimizer parameters

import { Tensor } from "../engine/tensor.js";
import { Parameter } from "../nn/module.js";
import type { Optimizer, OptimizerStateDict, ParamState } from "../optim/optimizer.js";
import type { Communicator } from "./collectives.js";
import type { Bucket } from "./ddp.js";

/** The run of one parameter that falls in a worker's chunk: the optimizer's parameter for it. */
export interface Segment {
  /** the whole parameter */
  source: Parameter;
  /** the segment is its elements [from, from + length) ... */
  from: number;
  /** ... at [at, at + length) of the chunk */
  at: number;
  length: number;
  /** (length,) its values, gradient and optimizer state */
  param: Parameter;
}

/** Chunk [start, end) of a bucket's packed parameters, held by this worker as the segments of its parameters. */
export interface Shard {
  bucket: Bucket;
  /** the index of the parameter group (of the optimizer over the whole model) its parameters belong to */
  group: number;
  start: number;
  end: number;
  /** the chunk cut at the parameters' borders, in order; they cover [start, end) */
  segments: Segment[];
}

/** The shard of a bucket's chunk [start, end), its segments holding `values` (end − start,), the chunk's values. */
export function makeShard(bucket: Bucket, group: number, start: number, end: number, values: Float32Array): Shard {
  const segments: Segment[] = [];
  let off = 0; // where the parameter begins in the bucket
  for (const p of bucket.params) {
    const n = p.numel();
    const a = Math.max(start, off),
      b = Math.min(end, off + n);
    if (b > a) {
      const length = b - a;
      const at = a - start;
      segments.push({
        source: p,
        from: a - off,
        at,
        length,
        param: new Parameter(new Tensor(values.slice(at, at + length), [length])),
      });
    }
    off += n;
  }
  return { bucket, group, start, end, segments };
}

/** The chunk's values (end − start,), packed from its segments. */
export function chunkValues(s: Shard): Float32Array {
  const out = new Float32Array(s.end - s.start);
  for (const g of s.segments) out.set(g.param.storage as Float32Array, g.at);
  return out;
}

/** Writes the chunk's values (end − start,) into its segments. */
export function setChunkValues(s: Shard, values: Float32Array): void {
  for (const g of s.segments) (g.param.storage as Float32Array).set(values.subarray(g.at, g.at + g.length));
}

/**
 * The chunk's averaged gradient g (end − start,) handed to its segments, each a view of its run; a segment whose
 * parameter is in `unused` (no worker has a gradient for it) gets none, and the optimizer skips it.
 */
export function setChunkGrad(s: Shard, g: Float32Array, unused: ReadonlySet<Parameter>): void {
  for (const seg of s.segments)
    seg.param.grad = unused.has(seg.source) ? null : new Tensor(g.subarray(seg.at, seg.at + seg.length), [seg.length]);
}

/** The segments' optimizer parameters of the shards, in order. */
export function segmentParams(shards: readonly Shard[]): Parameter[] {
  return shards.flatMap((s) => s.segments.map((g) => g.param));
}

/**
 * The parameters no worker has a gradient for: one all-reduce (a collective) counts, per parameter, the workers
 * for which `has` is true.
 */
export function unusedOnEveryWorker(
  comm: Communicator,
  params: readonly Parameter[],
  has: (p: Parameter) => boolean,
): Set<Parameter> {
  const having = new Float32Array(params.length); // (P) the workers holding each parameter's gradient
  params.forEach((p, i) => (having[i] = has(p) ? 1 : 0));
  if (comm.worldSize > 1) comm.allReduce(having);
  return new Set(params.filter((_, i) => having[i] === 0));
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

/** One optimizer buffer of the chunk (end − start,), packed from its segments' state (zeros where a segment has none). */
export function chunkState(s: Shard, optimizer: Optimizer<any>, name: string): Float32Array {
  const out = new Float32Array(s.end - s.start);
  for (const g of s.segments) {
    const b = optimizer.getState(g.param)?.buffers[name];
    if (b) out.set(b, g.at);
  }
  return out;
}

/** One optimizer buffer (AdamW's "expAvg", "expAvgSq") of every parameter the shards cover, gathered (a collective). */
export function gatherShardState(
  comm: Communicator,
  shards: readonly Shard[],
  optimizer: Optimizer<any>,
  name: string,
): Map<Parameter, Float32Array> {
  return gatherShards(comm, shards, (s) => chunkState(s, optimizer, name));
}

/**
 * The state of `whole` (an optimizer over the whole model's parameters, e.g. loaded from a checkpoint) cut into
 * the shards' optimizer: each segment's buffers are its run of its parameter's, its step its parameter's; a
 * parameter without state leaves its segments without. No collective: every worker has the whole state.
 */
export function loadShardState(shards: readonly Shard[], sharded: Optimizer<any>, whole: Optimizer<any>): void {
  const sd: OptimizerStateDict = { state: {}, paramGroups: sharded.stateDict().paramGroups };
  const index = new Map<Tensor, number>();
  sharded.paramGroups.flatMap((g) => g.params).forEach((p, i) => index.set(p, i));
  for (const s of shards) {
    for (const g of s.segments) {
      const i = index.get(g.param);
      const st = whole.getState(g.source);
      if (i === undefined || st === undefined) continue;
      const buffers: Record<string, Float32Array> = {};
      for (const [name, b] of Object.entries(st.buffers))
        buffers[name] = Float32Array.from(b.subarray(g.from, g.from + g.length));
      sd.state[i] = { step: st.step, buffers };
    }
  }
  sharded.loadStateDict(sd);
}

/**
 * The step count of every parameter of the shards' buckets (0: no state yet), as one process's optimizer counts
 * it, and which of `names` the state holds: one all-reduce (a collective). The worker whose chunk holds a
 * parameter's first element speaks for it (every segment of a parameter has the same step: they are skipped
 * together).
 */
export function gatherShardSteps(
  comm: Communicator,
  shards: readonly Shard[],
  sharded: Optimizer<any>,
  names: readonly string[],
): { steps: Map<Parameter, number>; present: string[] } {
  const params = shards.flatMap((s) => s.bucket.params);
  const buf = new Float32Array(names.length + params.length); // [has buffer k ...; step of each parameter ...]
  const slot = new Map(params.map((p, i) => [p, names.length + i]));
  for (const s of shards) {
    for (const g of s.segments) {
      const st: ParamState | undefined = sharded.getState(g.param);
      if (!st) continue;
      names.forEach((n, k) => n in st.buffers && (buf[k] = 1));
      if (g.from === 0) buf[slot.get(g.source)!] = st.step;
    }
  }
  comm.allReduce(buf);
  return {
    steps: new Map(params.map((p) => [p, buf[slot.get(p)!]!])),
    present: names.filter((_, k) => buf[k]! > 0),
  };
}

/**
 * The shards' optimizer state gathered into `whole` (the optimizer over the whole model's parameters), so that
 * whole.stateDict() is what one process would have saved: a parameter with its own step count and moments, none
 * for one never stepped. `names` are the buffers the optimizer may keep (AdamW: expAvg, expAvgSq, maxExpAvgSq).
 * A collective.
 */
export function gatherShardStateInto(
  comm: Communicator,
  shards: readonly Shard[],
  sharded: Optimizer<any>,
  whole: Optimizer<any>,
  names: readonly string[],
): void {
  const { steps, present } = gatherShardSteps(comm, shards, sharded, names);
  if (![...steps.values()].some((n) => n > 0)) return; // no step taken yet: no state
  const gathered = present.map((n) => gatherShardState(comm, shards, sharded, n));
  const sd: OptimizerStateDict = { state: {}, paramGroups: whole.stateDict().paramGroups };
  whole.paramGroups
    .flatMap((g) => g.params)
    .forEach((p, i) => {
      const step = steps.get(p as Parameter) ?? 0;
      if (step === 0) return;
      sd.state[i] = {
        step,
        buffers: Object.fromEntries(present.map((n, k) => [n, gathered[k]!.get(p as Parameter)!])),
      };
    });
  whole.loadStateDict(sd);
}
