// `wnn train gpt --workers N --strategy ddp|zero1|zero2|fsdp`: the GPT recipe (src/models/gpt2/train.ts) run by
// one worker of N, as a job of the shared training loop (loop.ts). Every worker builds the same trainer (the
// same seed: the same initial weights, the same stream of batches); each step every worker draws the same
// global batch of B sequences and trains on its rows [r·B/N, (r+1)·B/N); the strategy makes the workers agree
// (src/distributed/data-parallel.ts). The global batch's mean loss is the mean of the workers' losses, so the
// losses are those of one process on the whole batch up to float32 rounding (the gradient's sum runs in another
// order). With dropout too: the forward runs inside forwardOnRows (data-parallel-job.ts), so each mask a worker
// draws is its block of the mask one process draws for the whole batch, and every worker's default generator ends
// the step where one process's does.
//
// Checkpoints are one process's: `checkpoint(meta, write)` consolidates the shards (a collective) and hands
// GPTTrainer's checkpoint to `write` (rank 0 writes it), so a run can continue with any number of workers.

import { noGrad } from "../engine/autograd.js";
import { ArgumentError } from "../engine/errors.js";
import { getBatch } from "../data/batch.js";
import type { Communicator } from "../distributed/collectives.js";
import { DataParallel, type StrategyName } from "../distributed/data-parallel.js";
import type { Checkpoint, LoadedCheckpoint } from "../io/checkpoint.js";
import type { ShardedIndex, ShardTensors } from "../distributed/sharded-checkpoint.js";
import { moduleClassPolicy } from "../nn/checkpoint.js";
import { Block } from "../models/gpt2/model.js";
import { GPTTrainer, type TokenSplits, type TrainConfig } from "../models/gpt2/train.js";
import type { GPTConfig } from "../models/gpt2/model.js";
import type { TrainingJob } from "./loop.js";
import { forwardOnRows } from "./data-parallel-job.js";

export interface ParallelOptions {
  strategy: StrategyName;
  /** recompute every block's forward in backward */
  activationCheckpointing?: boolean;
}

type StepMetrics = { loss: number; lr: number; gradNorm: number; skipped: number };

export class ParallelGPTTrainer implements TrainingJob<StepMetrics, { train: number; val: number }> {
  readonly base: GPTTrainer;
  readonly dp: DataParallel;

  /** `base` is this worker's GPTTrainer, new or loaded from a checkpoint (the same on every worker). */
  constructor(base: GPTTrainer, comm: Communicator, opts: ParallelOptions) {
    const N = comm.worldSize,
      B = base.config.batchSize;
    if (B % N !== 0)
      throw new ArgumentError(
        `ParallelGPTTrainer: the batch of ${B} sequences does not split evenly over ${N} workers`,
      );
    this.base = base;
    this.dp = new DataParallel(base.model, base.optimizer, comm, {
      strategy: opts.strategy,
      autoWrapPolicy: moduleClassPolicy(Block),
      activationCheckpointing: opts.activationCheckpointing,
    });
    this.dp.loadFromWhole(); // a resumed run: the shards take their chunks of the optimizer state
  }

  static create(
    modelConfig: GPTConfig,
    config: TrainConfig,
    data: TokenSplits,
    comm: Communicator,
    opts: ParallelOptions,
  ): ParallelGPTTrainer {
    return new ParallelGPTTrainer(new GPTTrainer(modelConfig, config, data), comm, opts);
  }

  static fromCheckpoint(
    ckpt: LoadedCheckpoint,
    data: TokenSplits,
    overrides: Partial<TrainConfig>,
    comm: Communicator,
    opts: ParallelOptions,
  ): ParallelGPTTrainer {
    return new ParallelGPTTrainer(GPTTrainer.fromCheckpoint(ckpt, data, overrides), comm, opts);
  }

  get step(): number {
    return this.base.step;
  }

  get totalSteps(): number {
    return this.base.totalSteps;
  }

  /** This worker's rows of a global batch: [r·B/N, (r+1)·B/N). */
  private slice(split: keyof TokenSplits, generator: Parameters<typeof getBatch>[3]) {
    const { batchSize } = this.base.config,
      { rank, worldSize } = this.dp.comm;
    const { x, y } = getBatch(this.base.data[split], this.base.modelConfig.blockSize, batchSize, generator); // (B, T) the same on every worker
    const b = batchSize / worldSize;
    return { x: x.narrow(0, rank * b, b), y: y.narrow(0, rank * b, b) }; // (B/N, T)
  }

  /** GPTTrainer.trainStep on this worker's slice; the loss reported is the global batch's (the workers' mean). */
  trainStep(): StepMetrics {
    const { base, dp } = this;
    const lr = base.optimizer.paramGroups[0]!.lr;
    const { x, y } = this.slice("train", base.generator);
    const { rank, worldSize } = dp.comm;
    const { loss } = forwardOnRows(dp, { rank, worldSize }, () => base.model.forward(x, y)); // dropout: one process's masks
    const value = dp.mean(loss!.item()); // every worker decides on the same number
    if (!Number.isFinite(value)) {
      dp.endEvaluation();
      return { loss: value, lr, gradNorm: NaN, skipped: 1 };
    }
    loss!.backward();
    const gradNorm = dp.reduceGradients(base.config.gradClip);
    if (base.config.gradClip > 0 && !Number.isFinite(gradNorm)) {
      dp.zeroGrad();
      return { loss: value, lr, gradNorm, skipped: 1 };
    }
    dp.step();
    base.scheduler.step();
    base.step += 1;
    return { loss: value, lr, gradNorm, skipped: 0 };
  }

  evalDue(): boolean {
    return this.base.evalDue();
  }

  /** GPTTrainer.evaluate with each batch split over the workers (the same batches, the mean of the workers' means). */
  *evaluate(): Iterator<void, { train: number; val: number }, void> {
    const { base, dp } = this;
    const g = base.evalGenerator();
    const out = { train: 0, val: 0 };
    for (const split of ["train", "val"] as const) {
      let s = 0;
      for (let k = 0; k < base.config.evalIters; k++) {
        const { x, y } = this.slice(split, g);
        base.model.eval();
        let local: number;
        try {
          local = noGrad(() =>
            dp.forward<[typeof x, typeof y], ReturnType<typeof base.model.forward>>(x, y).loss!.item(),
          );
        } finally {
          base.model.train();
          dp.endEvaluation();
        }
        s += dp.mean(local);
        yield;
      }
      out[split] = s / base.config.evalIters;
    }
    base.lastEval = base.step;
    return out;
  }

  /**
   * This worker's part of a sharded checkpoint (null: nothing to write) and, on rank 0, the index
   * (src/distributed/sharded-checkpoint.ts). No collective: saveShardedCheckpoint writes them.
   */
  shardedCheckpoint(meta: Record<string, unknown>): { tensors: ShardTensors | null; index: ShardedIndex | null } {
    return this.dp.shardedCheckpoint(() => this.base.checkpoint(meta));
  }

  /** One process's checkpoint (GPTTrainer.checkpoint), consolidated from the shards, handed to write. A collective. */
  checkpoint(meta: Record<string, unknown>, write: (c: Checkpoint) => void): void {
    this.dp.consolidate(() => write(this.base.checkpoint(meta)));
  }
}
