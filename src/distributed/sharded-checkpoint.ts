// Sharded checkpoints: each worker saves only what it holds — its chunk of every flat run of parameters (an FSDP
// FlatParameter, a ZeRO bucket) and the optimizer state of that chunk — and rank 0 adds an index that says how
// the chunks fit together (PyTorch's SHARDED_STATE_DICT and torch.distributed.checkpoint, in our terms). The
// index is all a loader needs to put whole tensors back together for any number of workers:
//
//   flat k = concatenation of its parameters (names and shapes in the index), cut into `shards` chunks
//            chunk r = [⌊r·n/S⌋, ⌊(r+1)·n/S⌋) of its n elements, in shard file r as "flat.k" (and "flat.k.expAvg", ...)
//   whole parameter p = its range of flat k, reshaped; its optimizer buffers likewise
//   its step count = the largest of "flat.k.steps"[j] over the shard files (j: its place in flat k; a file
//            whose chunk holds none of p says 0); 0 means no optimizer state (a parameter never stepped)
//
// so loading with N′ workers reads the chunks, reassembles every parameter and its moments (one process's
// checkpoint), and the strategy of the new run cuts its own shards from them. DDP holds everything on every
// worker: rank 0 saves one shard holding one flat per parameter.
// This file is browser-safe (what a shard and the index hold); sharded-checkpoint-node.ts writes and reads them.

import { LoadError } from "../engine/errors.js";
import { Tensor } from "../engine/tensor.js";
import type { Module } from "../nn/module.js";
import type { Optimizer, OptimizerStateDict } from "../optim/optimizer.js";
import { stateDictToTensors } from "../optim/state.js";
import type { Checkpoint } from "../io/checkpoint.js";
import { chunkRange } from "./collectives.js";
import { chunkState, chunkValues, segmentParams, type Shard } from "./shards.js";

export const SHARDED_FORMAT = "writtingnns.sharded-checkpoint";

/** One flat run in the index: its parameters, packed in this order. */
export interface FlatEntry {
  params: { name: string; shape: number[] }[];
  elements: number;
}

/** index.json: the layout of the shards, the whole optimizer's groups, and the rest of the run's state (JSON). */
export interface ShardedIndex {
  format: typeof SHARDED_FORMAT;
  version: 1;
  /** the number of shard files (the workers that saved; 1 for DDP) */
  shards: number;
  strategy: string;
  step: number;
  flats: FlatEntry[];
  optimizer: {
    /** the whole optimizer's parameters, by name, in its order (through its groups) */
    order: string[];
    paramGroups: OptimizerStateDict["paramGroups"];
    /** the optimizer's step count (0: no state yet) and the buffers each parameter has */
    stepCount: number;
    buffers: string[];
  };
  /** everything else of the run's checkpoint (scheduler, generator, config, extra), as JSON */
  rest: Record<string, unknown>;
}

/** What one worker saves: its chunk of every flat run (and of the optimizer's buffers), by tensor name. */
export type ShardTensors = Record<string, Tensor>;

/** Of the optimizer's possible buffers, those its state holds for these parameters (all of them when it holds none). */
export function presentBuffers(
  optimizer: Optimizer<any>,
  params: readonly Tensor[],
  candidates: readonly string[],
): string[] {
  const have = new Set(params.flatMap((p) => Object.keys(optimizer.getState(p)?.buffers ?? {})));
  return have.size ? candidates.filter((b) => have.has(b)) : [...candidates];
}

/** The flats of the index and this worker's tensors, from its shards (ZeRO, FSDP). */
export function shardContents(
  model: Module,
  shards: readonly Shard[],
  optimizer: Optimizer<any>,
  candidates: readonly string[],
): { flats: FlatEntry[]; tensors: ShardTensors; buffers: string[] } {
  const buffers = presentBuffers(optimizer, segmentParams(shards), candidates);
  const names = new Map(model.namedParameters().map(([n, p]) => [p, n]));
  const flats: FlatEntry[] = [];
  const tensors: ShardTensors = {};
  shards.forEach((s, k) => {
    flats.push({
      params: s.bucket.params.map((p) => ({ name: names.get(p)!, shape: [...p.shape] })),
      elements: s.bucket.elements,
    });
    const n = s.end - s.start;
    tensors[`flat.${k}`] = new Tensor(chunkValues(s), [n]);
    for (const b of buffers) tensors[`flat.${k}.${b}`] = new Tensor(chunkState(s, optimizer, b), [n]);
    const steps = new Float32Array(s.bucket.params.length); // (params of the flat) the steps of those this chunk holds
    for (const g of s.segments) steps[s.bucket.params.indexOf(g.source)] = optimizer.getState(g.param)?.step ?? 0;
    tensors[`flat.${k}.steps`] = new Tensor(steps, [steps.length]);
  });
  return { flats, tensors, buffers };
}

/** DDP's single shard: one flat per parameter, whole, with the whole optimizer's buffers. */
export function wholeContents(
  model: Module,
  optimizer: Optimizer<any>,
  candidates: readonly string[],
): { flats: FlatEntry[]; tensors: ShardTensors; buffers: string[] } {
  const buffers = presentBuffers(optimizer, model.parameters(), candidates);
  const flats: FlatEntry[] = [];
  const tensors: ShardTensors = {};
  model
    .namedParameters()
    .filter(([, p]) => p.requiresGrad)
    .forEach(([name, p], k) => {
      flats.push({ params: [{ name, shape: [...p.shape] }], elements: p.numel() });
      tensors[`flat.${k}`] = new Tensor(Float32Array.from(p.storage as Float32Array), [p.numel()]);
      const st = optimizer.getState(p);
      for (const b of buffers)
        tensors[`flat.${k}.${b}`] = new Tensor(
          st?.buffers[b] ? Float32Array.from(st.buffers[b]!) : new Float32Array(p.numel()),
          [p.numel()],
        );
      tensors[`flat.${k}.steps`] = new Tensor(new Float32Array([st?.step ?? 0]), [1]);
    });
  return { flats, tensors, buffers };
}

/** Checks an index read from a file; a LoadError names what is wrong. */
export function checkIndex(x: unknown, where: string): ShardedIndex {
  const bad = (why: string): never => {
    throw new LoadError(`${where}: not a sharded checkpoint index: ${why}`);
  };
  if (typeof x !== "object" || x === null) bad("not a JSON object");
  const i = x as Partial<ShardedIndex>;
  if (i.format !== SHARDED_FORMAT || i.version !== 1)
    bad(`format ${JSON.stringify(i.format)} version ${JSON.stringify(i.version)}, expected ${SHARDED_FORMAT} 1`);
  if (!Number.isSafeInteger(i.shards) || i.shards! < 1 || i.shards! > 4096)
    bad(`shards must be an integer in [1, 4096], got ${JSON.stringify(i.shards)}`);
  if (!Number.isSafeInteger(i.step) || i.step! < 0) bad(`step must be an integer ≥ 0, got ${JSON.stringify(i.step)}`);
  if (!Array.isArray(i.flats)) bad("flats must be a list");
  for (const [k, f] of i.flats!.entries()) {
    if (
      typeof f !== "object" ||
      f === null ||
      !Array.isArray(f.params) ||
      !Number.isSafeInteger(f.elements) ||
      f.elements < 0
    )
      bad(`flats[${k}] must be { params: [...], elements }`);
    let n = 0;
    for (const p of f.params) {
      if (
        typeof p?.name !== "string" ||
        !Array.isArray(p.shape) ||
        !p.shape.every((d: unknown) => Number.isSafeInteger(d) && (d as number) >= 0)
      )
        bad(`flats[${k}] has a parameter without a name and a shape`);
      n += p.shape.reduce((a: number, b: number) => a * b, 1);
    }
    if (n !== f.elements) bad(`flats[${k}]: its parameters have ${n} elements, it says ${f.elements}`);
  }
  const o = i.optimizer;
  if (
    typeof o !== "object" ||
    o === null ||
    !Array.isArray(o.order) ||
    !Array.isArray(o.paramGroups) ||
    !Array.isArray(o.buffers) ||
    !Number.isSafeInteger(o.stepCount)
  )
    bad("optimizer must be { order, paramGroups, stepCount, buffers }");
  if (typeof i.rest !== "object" || i.rest === null) bad("rest must be an object");
  return i as ShardedIndex;
}

/**
 * Whole tensors from the shards: every parameter (by name) and, when the optimizer had state, the whole
 * optimizer's state dict (its parameters numbered in `order`). `read(r)` returns shard file r's tensors.
 */
export function reassemble(
  index: ShardedIndex,
  read: (rank: number) => ShardTensors,
): { model: Record<string, Tensor>; optimizer: OptimizerStateDict } {
  const S = index.shards;
  const files = Array.from({ length: S }, (_, r) => read(r));
  const model: Record<string, Tensor> = {};
  const buffers: Record<string, Record<string, Float32Array>> = {};
  const steps: Record<string, number> = {};
  const stepCount = index.optimizer.stepCount;
  /** flat k's step counts per parameter: the largest each file says (a file written before they were saved: stepCount) */
  const stepsOf = (k: number, count: number): number[] => {
    const out = new Array<number>(count).fill(0);
    for (const [r, f] of files.entries()) {
      const t = f[`flat.${k}.steps`];
      if (t === undefined) return out.fill(stepCount);
      if (t.dtype !== "float32" || t.numel() !== count)
        throw new LoadError(
          `sharded checkpoint: shard ${r} of ${S} has flat.${k}.steps of ${t.numel()} ${t.dtype} elements, expected ${count} float32`,
        );
      (t.storage as Float32Array).forEach((v, j) => {
        if (!Number.isInteger(v) || v < 0 || v > stepCount)
          throw new LoadError(
            `sharded checkpoint: shard ${r} of ${S}: flat.${k}.steps[${j}] is ${v}, not a step count in [0, ${stepCount}]`,
          );
        out[j] = Math.max(out[j]!, v);
      });
    }
    return out;
  };
  const whole = (name: string, k: number, n: number): Float32Array => {
    // every chunk checked against the files first: the index's sizes allocate nothing the files do not hold
    const chunks = files.map((f, r) => {
      const [a, b] = chunkRange(n, S, r);
      const t = f[name];
      if (!t || t.dtype !== "float32" || t.numel() !== b - a)
        throw new LoadError(
          `sharded checkpoint: shard ${r} of ${S} lacks ${name} (flat ${k}) of ${b - a} float32 elements`,
        );
      return t.storage as Float32Array;
    });
    const flat = new Float32Array(n);
    chunks.forEach((c, r) => flat.set(c, chunkRange(n, S, r)[0]));
    return flat;
  };
  index.flats.forEach((f, k) => {
    const values = whole(`flat.${k}`, k, f.elements);
    const bufs = stepCount > 0 ? index.optimizer.buffers.map((b) => whole(`flat.${k}.${b}`, k, f.elements)) : [];
    const counts = stepCount > 0 ? stepsOf(k, f.params.length) : [];
    let off = 0;
    f.params.forEach((p, j) => {
      const n = p.shape.reduce((a, b) => a * b, 1);
      model[p.name] = new Tensor(values.slice(off, off + n), p.shape);
      if (stepCount > 0 && counts[j]! > 0) {
        steps[p.name] = counts[j]!;
        index.optimizer.buffers.forEach((b, i) => ((buffers[p.name] ??= {})[b] = bufs[i]!.slice(off, off + n)));
      }
      off += n;
    });
  });
  const optimizer: OptimizerStateDict = { state: {}, paramGroups: index.optimizer.paramGroups };
  index.optimizer.order.forEach((name, i) => {
    if (steps[name]) optimizer.state[i] = { step: steps[name]!, buffers: buffers[name] ?? {} };
  });
  return { model, optimizer };
}

/** One process's checkpoint (src/io/checkpoint.ts) from a reassembled sharded one: what consolidation writes. */
export function toCheckpoint(index: ShardedIndex, whole: ReturnType<typeof reassemble>): Checkpoint {
  const { scheduler, rng, config, extra } = index.rest as Partial<Checkpoint>;
  return {
    model: whole.model,
    optimizer: stateDictToTensors(whole.optimizer),
    scheduler,
    rng,
    step: index.step,
    config,
    extra,
  };
}
