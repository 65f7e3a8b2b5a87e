// One interface over the four strategies, for a training loop that must not care which one runs: it gives the
// model and the optimizer one process would use (its parameter groups and hyper-parameters are the template of
// the sharded optimizer), then per step
//
//   out = dp.forward(...)                 this worker's slice of the global batch
//   loss = dp.meanLoss(out.loss)          (1/N) Σ_r L_r, the global batch's mean loss, on every worker
//   loss.backward()                       (FSDP: the units all-gather, backward, reduce-scatter, here)
//   norm = dp.reduceGradients(maxNorm)    DDP: all-reduce; ZeRO/FSDP: the shards' averaged gradient; then clipping
//   dp.step()                             the optimizer (sharded: the lr of the template's groups), then zeroGrad
//
// and for checkpoints dp.consolidate() (the whole parameters in the model and the whole state in the template
// optimizer, as one process holds them) and dp.loadFromWhole() (the other way, after loading a checkpoint).

import { ArgumentError } from "../engine/errors.js";
import { applyActivationCheckpointing, type ModulePolicy } from "../nn/checkpoint.js";
import type { Module, Parameter } from "../nn/module.js";
import { clipGradNorm } from "../optim/clip.js";
import type { Optimizer } from "../optim/optimizer.js";
import type { Communicator } from "./collectives.js";
import { DistributedDataParallel } from "./ddp.js";
import { FullyShardedDataParallel } from "./fsdp.js";
import { gatherShardStateInto, loadShardState, type Shard } from "./shards.js";
import {
  SHARDED_FORMAT,
  shardContents,
  wholeContents,
  type FlatEntry,
  type ShardedIndex,
  type ShardTensors,
} from "./sharded-checkpoint.js";
import { ZeRO1 } from "./zero1.js";
import { ZeRO2 } from "./zero2.js";

export const STRATEGIES = ["ddp", "zero1", "zero2", "fsdp"] as const;
export type StrategyName = (typeof STRATEGIES)[number];

export interface DataParallelOptions {
  strategy: StrategyName;
  /** FSDP's units, and the modules activation checkpointing recomputes (e.g. moduleClassPolicy(Block)) */
  autoWrapPolicy?: ModulePolicy;
  /** recompute the policy's modules in backward (with every strategy) */
  activationCheckpointing?: boolean;
  /** the optimizer's buffer names, for consolidation (default AdamW's) */
  stateNames?: readonly string[];
}

type OptimizerCtor = new (params: { params: Parameter[] }[], defaults: object) => Optimizer<any>;

export class DataParallel {
  readonly strategy: StrategyName;
  readonly comm: Communicator;
  readonly model: Module;
  /** the optimizer over the whole model: it steps under DDP; under ZeRO and FSDP it holds the hyper-parameters (and the state, after consolidate) */
  readonly whole: Optimizer<any>;
  /** the optimizer that steps: `whole` (DDP) or the one over this worker's shards */
  readonly optimizer: Optimizer<any>;
  private readonly ddp: DistributedDataParallel | null = null;
  private readonly zero: ZeRO1 | null = null;
  private readonly fsdp: FullyShardedDataParallel | null = null;
  /** for each of the sharded optimizer's groups, the template group it copies its lr from */
  private groupMap: number[] = [];
  private readonly stateNames: readonly string[];

  /** Every worker must build the same model (the same seed) and the same optimizer. */
  constructor(model: Module, optimizer: Optimizer<any>, comm: Communicator, opts: DataParallelOptions) {
    if (!STRATEGIES.includes(opts.strategy))
      throw new ArgumentError(
        `DataParallel: strategy must be one of ${STRATEGIES.join(", ")}, got ${JSON.stringify(opts.strategy)}`,
      );
    if (opts.activationCheckpointing && !opts.autoWrapPolicy)
      throw new ArgumentError(
        "DataParallel: activation checkpointing needs an autoWrapPolicy naming the modules to recompute",
      );
    this.strategy = opts.strategy;
    this.comm = comm;
    this.model = model;
    this.whole = optimizer;
    this.stateNames = opts.stateNames ?? ["expAvg", "expAvgSq", "maxExpAvgSq"];
    const groups = optimizer.paramGroups.map((g) => g.params as Parameter[]);
    const makeSharded = (_all: Parameter[], shardGroups: Parameter[][]): Optimizer<any> => {
      // the template's class and each group's hyper-parameters, over this worker's shards of that group
      this.groupMap = shardGroups.map((g, i) => (g.length ? i : -1)).filter((i) => i >= 0);
      const input = this.groupMap.map((i) => {
        const { params: _p, ...hyper } = optimizer.paramGroups[i]!;
        return { ...hyper, params: shardGroups[i]! };
      });
      return new (optimizer.constructor as OptimizerCtor)(input, optimizer.defaults);
    };
    if (opts.strategy === "fsdp") {
      this.fsdp = new FullyShardedDataParallel(model, comm, {
        autoWrapPolicy: opts.autoWrapPolicy,
        activationCheckpointing: opts.activationCheckpointing,
        paramGroups: groups,
      });
      this.optimizer = makeSharded([], this.fsdp.paramGroups());
      return;
    }
    if (opts.activationCheckpointing) applyActivationCheckpointing(model, opts.autoWrapPolicy!);
    if (opts.strategy === "ddp") {
      this.ddp = new DistributedDataParallel(model, comm);
      this.optimizer = optimizer;
    } else {
      const Zero = opts.strategy === "zero1" ? ZeRO1 : ZeRO2;
      this.zero = new Zero(model, comm, makeSharded, { paramGroups: groups });
      this.optimizer = this.zero.optimizer;
    }
  }

  /** The model's forward (FSDP gathers the root unit first). */
  forward<A extends unknown[], R>(...args: A): R {
    if (this.fsdp) return this.fsdp.forward<A, R>(...args);
    return (this.model as unknown as { forward: (...a: A) => R }).forward(...args);
  }

  /** Runs fn, a forward the caller writes (a task's loss around the model's methods); FSDP gathers the root unit first. */
  within<T>(fn: () => T): T {
    return this.fsdp ? this.fsdp.run(fn) : fn();
  }

  /** After a forward without backward (evaluation): FSDP frees the root's parameters. */
  endEvaluation(): void {
    this.fsdp?.reshard();
  }

  /** (1/N) Σ_r x_r of one number (a loss), the same on every worker. */
  mean(x: number): number {
    const buf = new Float32Array([x]);
    this.comm.allReduce(buf);
    return buf[0]! / this.comm.worldSize;
  }

  /**
   * After backward: every worker's gradient averaged over the group (the whole gradient under DDP, this worker's
   * shard under ZeRO and FSDP); with maxNorm > 0 clipped to that global norm. Returns the norm before clipping
   * (NaN without clipping).
   */
  reduceGradients(maxNorm = 0): number {
    if (this.ddp) {
      this.ddp.allReduceGradients();
      return maxNorm > 0 ? clipGradNorm(this.model.parameters(), maxNorm) : NaN;
    }
    if (this.zero) {
      this.zero.reduceGradients();
      return maxNorm > 0 ? this.zero.clipGradNorm(maxNorm) : NaN;
    }
    this.fsdp!.reduceGradients();
    return maxNorm > 0 ? this.fsdp!.clipGradNorm(maxNorm) : NaN;
  }

  /** The optimizer step (sharded: with the template groups' current lr), then every gradient forgotten. */
  step(): void {
    if (this.optimizer !== this.whole)
      this.groupMap.forEach((t, i) => (this.optimizer.paramGroups[i]!.lr = this.whole.paramGroups[t]!.lr));
    if (this.zero) this.zero.step();
    else this.optimizer.step();
    this.zeroGrad();
  }

  /** Forget every gradient (after a skipped step too). */
  zeroGrad(): void {
    this.optimizer.zeroGrad();
    this.model.zeroGrad();
    this.fsdp?.zeroGrad();
  }

  private shards(): readonly Shard[] {
    return this.zero ? this.zero.shardList() : this.fsdp ? this.fsdp.shards() : [];
  }

  /**
   * Runs fn with the whole model and optimizer as one process would hold them: the parameters' values in the
   * model (FSDP gathers them and frees them after fn) and the optimizer state in `whole`. A collective.
   */
  consolidate<T>(fn: () => T): T {
    if (this.optimizer !== this.whole)
      gatherShardStateInto(this.comm, this.shards(), this.optimizer, this.whole, this.stateNames);
    return this.fsdp ? this.fsdp.summonFullParams(fn) : fn();
  }

  /**
   * After `whole` and the model were loaded from a checkpoint (on every worker): the shards take their chunks
   * of the parameters and of the optimizer state. ZeRO: its shards are cut again from the model; FSDP must be
   * built after the model was loaded (its constructor shards it), so only the state is cut here.
   */
  loadFromWhole(): void {
    if (this.optimizer === this.whole) return;
    if (this.zero) this.zero.broadcastParameters(); // re-packs the shards from the model (equal on every worker)
    loadShardState(this.shards(), this.optimizer, this.whole);
  }

  /**
   * What this worker saves in a sharded checkpoint (null: nothing, DDP's ranks > 0), the flats of the index, and
   * the number of shard files (N; 1 for DDP). No collective.
   */
  shardedState(): {
    tensors: ShardTensors | null;
    flats: FlatEntry[];
    shards: number;
    buffers: string[];
    stepCount: number;
  } {
    const names = this.stateNames;
    const steps = this.optimizer.paramGroups.flatMap((g) => g.params).map((p) => this.optimizer.getState(p)?.step ?? 0);
    const stepCount = Math.max(0, ...steps);
    if (this.optimizer === this.whole) {
      const { flats, tensors, buffers } = wholeContents(this.model, this.whole, names);
      return { tensors: this.comm.rank === 0 ? tensors : null, flats, shards: 1, buffers, stepCount };
    }
    const { flats, tensors, buffers } = shardContents(this.model, this.shards(), this.optimizer, names);
    return { tensors, flats, shards: this.comm.worldSize, buffers, stepCount };
  }

  /**
   * This worker's part of a sharded checkpoint (null: nothing to write) and, on rank 0, the index
   * (sharded-checkpoint.ts). `whole` gives the rest of one process's checkpoint (called on rank 0 only): its step
   * and everything but its model and optimizer, which the shards replace. No collective: saveShardedCheckpoint
   * (sharded-checkpoint-node.ts) writes them.
   */
  shardedCheckpoint(whole: () => { step: number; model?: unknown; optimizer?: unknown }): {
    tensors: ShardTensors | null;
    index: ShardedIndex | null;
  } {
    const s = this.shardedState();
    if (this.comm.rank !== 0) return { tensors: s.tensors, index: null };
    const { model: _m, optimizer: _o, step, ...rest } = whole(); // the scheduler, the generators, the configs
    const names = new Map(this.model.namedParameters().map(([n, p]) => [p, n]));
    const index: ShardedIndex = {
      format: SHARDED_FORMAT,
      version: 1,
      shards: s.shards,
      strategy: this.strategy,
      step,
      flats: s.flats,
      optimizer: {
        order: this.whole.paramGroups.flatMap((g) => g.params).map((p) => names.get(p as Parameter)!),
        paramGroups: this.whole.stateDict().paramGroups,
        stepCount: s.stepCount,
        buffers: s.buffers,
      },
      rest: rest as Record<string, unknown>,
    };
    return { tensors: s.tensors, index };
  }

  /**
   * After the whole parameters were put back in the model (consolidate, then each parameter's storage replaced):
   * FSDP gives its wrapped modules their own forwards back, so the model runs without the group. Training with
   * this object does not go on after it.
   */
  release(): void {
    this.fsdp?.unwrap();
  }

  /** FSDP: its units (the root and the wrapped blocks) and the bytes of the largest one gathered whole; null otherwise. */
  fsdpUnits(): { units: number; largestUnit: number } | null {
    return this.fsdp ? { units: this.fsdp.units.length, largestUnit: this.fsdp.heldBytes().largestUnit } : null;
  }

  /**
   * Bytes this worker keeps for parameters, averaged gradients and optimizer state (ZeRO's accounting; during
   * backward every strategy but FSDP also holds each parameter's whole local gradient before it is reduced).
   */
  heldBytes(): { params: number; grads: number; state: number } {
    const state =
      4 *
      Object.values(this.optimizer.stateDict().state).reduce(
        (n, s) => n + Object.values(s.buffers).reduce((m, b) => m + b.length, 0),
        0,
      );
    const psi = this.model.parameters().reduce((n, p) => n + p.numel(), 0);
    if (this.fsdp) {
      const h = this.fsdp.heldBytes();
      return { params: h.params, grads: h.params, state };
    }
    // ZeRO-1's all-reduce leaves the whole averaged gradient on every worker; ZeRO-2 keeps its shard of it
    const shard = this.shards().reduce((n, s) => n + s.end - s.start, 0);
    return { params: 4 * psi, grads: this.strategy === "zero2" ? 4 * shard : 4 * psi, state };
  }
}
