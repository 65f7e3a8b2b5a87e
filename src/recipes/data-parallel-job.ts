// What a training job needs to run on N data-parallel workers (`wnn train <model> --workers N --strategy S`),
// whatever its model: its step is written once against a `StepDriver` — one process (`SingleProcess`) or one
// worker of N (src/distributed/data-parallel.ts's `DataParallel`, which has the same methods) — and its loss
// takes this worker's `Part` of the global batch:
//
//   loss = driver.within(() => task.loss(g, part))   every worker draws the same global batch of B examples from g
//                                                    and runs its rows [r·B/N, (r+1)·B/N); FSDP gathers first
//   value = driver.mean(loss.item())                 (1/N) Σ_r L_r, the global batch's loss, on every worker
//   loss.backward()
//   norm = driver.reduceGradients(clip)             the averaged gradient (DDP: all-reduce; ZeRO/FSDP: shards), clipped
//   driver.step()                                    the optimizer, then zeroGrad
//
// The mean of the workers' losses is the global batch's mean loss when each worker's loss is a mean over the same
// number of terms (tokens of equal windows, digits). When the terms per row vary (the masked positions of masked
// LM, the target tokens of dates), a worker's loss is weighted by its share: L_r · N·n_r/n, so that
// (1/N) Σ_r L_r · N·n_r/n = Σ_r (Σ_{i∈r} ℓ_i)/n = one process's mean over the n terms (`shareWeight`).
//
// A worker takes its rows out of the whole batch as one process builds it (`myRows`): padded to the whole batch's
// lengths, so that its rows are computed on the same shapes as one process's. Its forward runs inside
// `forwardOnRows`, so that each dropout mask it draws is its block of the mask one process draws for the whole
// batch (rng.ts withDrawShare): with dropout too, the losses are one process's.
//
// What breaks the equality, so that a job refuses N > 1 rather than train another model: statistics over the
// batch inside the forward that no collective makes the whole batch's. Inside forwardOnRows the two the zoo has
// are synchronized: BatchNorm's statistics (ops/nn.ts withSyncBatchNorm) and a mixture of experts' routing — the
// load-balancing loss's fᵢ and the experts' capacity, functions of the whole batch's routing (nn/moe.ts
// withSyncRouting); a forward run outside it computes them over the worker's own rows.
//
// Browser-safe: spawning the workers is the CLI's (cli/zoo-worker.ts, cli/recipe-worker.ts). Users: ZooTrainer
// (zoo-train.ts) and ParallelGPTTrainer (gpt-parallel.ts, forwardOnRows only); through `driverFor` and a
// RecipeHooks.dataParallel, trainClassifier (mnist.ts: lenet5, resnet), vision-attention-compare's contenders,
// trainOnNames (names.ts: bengio-mlp, char-rnn, names-compare), decoder-compare's and encoder-decoder-compare's runs,
// seq2seq-attention's and transformer's recipes, convs2s-compare, encoder-compare and finetune-compare; TtsTrainer
// (tts-train.ts: tacotron2, fastspeech2, vocoder) through its own dataParallel.

import type { Communicator } from "../distributed/collectives.js";
import { DataParallel, type StrategyName } from "../distributed/data-parallel.js";
import { ArgumentError } from "../engine/errors.js";
import { withDrawShare } from "../engine/rng.js";
import { withSyncBatchNorm } from "../ops/nn.js";
import type { Tensor } from "../engine/tensor.js";
import type { ModulePolicy } from "../nn/checkpoint.js";
import type { Module } from "../nn/module.js";
import { withSyncRouting } from "../nn/moe.js";
import { clipGradNorm } from "../optim/clip.js";
import type { Optimizer } from "../optim/optimizer.js";

/** This worker's place in the group: rows [rank·B/N, (rank+1)·B/N) of every global batch of B examples. */
export interface Part {
  readonly rank: number;
  readonly worldSize: number;
}
export const WHOLE: Part = Object.freeze({ rank: 0, worldSize: 1 });

/** The rows of a global batch of B examples this worker trains on: [start, start + count). */
export function rowsOf(B: number, part: Part): { start: number; count: number } {
  const count = B / part.worldSize;
  if (!Number.isInteger(count))
    throw new ArgumentError(`data parallel: the batch of ${B} does not split evenly over ${part.worldSize} workers`);
  return { start: part.rank * count, count };
}

/**
 * The weight of a worker's mean loss when the terms per row vary: N·n_r/n, n_r the terms in its rows and n in
 * the global batch (1 for one process).
 */
export function shareWeight(mine: number, total: number, part: Part): number {
  return part.worldSize === 1 ? 1 : (part.worldSize * mine) / total;
}

/** The step's operations, one process's or one worker's of N (DataParallel implements the same). */
export interface StepDriver {
  /** run a forward (a task's loss around the model's methods); FSDP gathers its parameters first */
  within<T>(fn: () => T): T;
  /** the mean of one number over the workers (one process: the number) */
  mean(x: number): number;
  /** after backward: the gradient averaged over the workers, clipped to maxNorm when > 0; → the norm before (NaN without) */
  reduceGradients(maxNorm?: number): number;
  /** the optimizer step, then the gradients forgotten */
  step(): void;
  /** forget the gradients (a skipped step) */
  zeroGrad(): void;
  /** after a forward without backward: FSDP frees what it gathered */
  endEvaluation(): void;
  /** run fn with the whole parameters in the model and the whole optimizer state in the job's optimizer (a collective) */
  consolidate<T>(fn: () => T): T;
}

/** One process: the model's own gradient, clipGradNorm, the optimizer. */
export class SingleProcess implements StepDriver {
  constructor(
    readonly model: Module,
    readonly optimizer: Optimizer<any>,
  ) {}
  within<T>(fn: () => T): T {
    return fn();
  }
  mean(x: number): number {
    return x;
  }
  reduceGradients(maxNorm = 0): number {
    return maxNorm > 0 ? clipGradNorm(this.model.parameters(), maxNorm) : NaN;
  }
  step(): void {
    this.optimizer.step();
    this.optimizer.zeroGrad();
  }
  zeroGrad(): void {
    this.optimizer.zeroGrad();
  }
  endEvaluation(): void {}
  consolidate<T>(fn: () => T): T {
    return fn();
  }
}

/**
 * An evaluation's steps, each run whole on every worker (FSDP: its parameters gathered, then freed): yields
 * between steps, returns the evaluation's result.
 */
export function* evaluateWhole<R>(driver: StepDriver, it: Iterator<void, R, void>): Generator<void, R, void> {
  const next = (): IteratorResult<void, R> => {
    try {
      return driver.within(() => it.next());
    } finally {
      driver.endEvaluation();
    }
  };
  let r = next();
  for (; !r.done; r = next()) yield;
  return r.value;
}

/** How a recipe's trainer runs: one process, or worker comm.rank of N (RecipeHooks.dataParallel). */
export interface DataParallelHook {
  comm: Communicator;
  strategy: StrategyName;
}

/**
 * The step driver and rows of a recipe's trainer: one process (no hook), or worker comm.rank of N with the hook's
 * strategy. FSDP: the whole model one unit, or with `blocks` (moduleClassPolicy of the model's block classes, as
 * PyTorch's transformer_auto_wrap_policy) each block a unit of its own, the root keeping the rest; wholeModel gives
 * the blocks their own forwards back. `log` hears, under FSDP, the units and the bytes of the largest one gathered.
 * Every worker must have built the same model and optimizer (the same seed).
 */
export function driverFor(
  model: Module,
  optimizer: Optimizer<any>,
  dp: DataParallelHook | undefined,
  opts: { blocks?: ModulePolicy; log?: (line: string) => void } = {},
): { driver: StepDriver; part: Part } {
  if (!dp) return { driver: new SingleProcess(model, optimizer), part: WHOLE };
  const driver = new DataParallel(model, optimizer, dp.comm, {
    strategy: dp.strategy,
    ...(opts.blocks ? { autoWrapPolicy: opts.blocks } : {}),
  });
  const units = driver.fsdpUnits();
  if (units && opts.log)
    opts.log(
      `FSDP: ${units.units} unit${units.units === 1 ? "" : "s"}${opts.blocks ? " (the root and each block)" : " (the whole model)"}, the largest ${units.largestUnit.toLocaleString("en-US")} bytes when gathered`,
    );
  return { driver, part: { rank: dp.comm.rank, worldSize: dp.comm.worldSize } };
}

/**
 * After training on N workers: the whole trained parameters back in the model's own Parameter objects (FSDP holds
 * only shards; the objects stay, so maps keyed by them — a contender's lr multipliers — still hold), for what the
 * recipe does next (evaluate, sample, draw, train again). A collective; nothing to do for one process.
 */
export function wholeModel(driver: StepDriver, model: Module): void {
  if (driver instanceof SingleProcess) return;
  const params = model.namedParameters();
  const whole = driver.consolidate(() => params.map(([, p]) => p.storage.slice())); // copies: FSDP frees after
  params.forEach(([, p], i) => p.replaceStorage(whole[i]!));
  (driver as DataParallel).release(); // FSDP's blocks: their own forwards back
}

/**
 * A worker's mean loss L_r scaled by its share (shareWeight); `zero` is the loss of rows that hold no term (their
 * mean is 0/0): a zero that still reaches the parameters (e.g. logits.sum()·0), so every worker takes part.
 */
export function weighted(loss: Tensor, mine: number, total: number, part: Part, zero: () => Tensor): Tensor {
  if (part.worldSize === 1) return loss;
  return mine === 0 ? zero().mul(0) : loss.mul(shareWeight(mine, total, part));
}

/**
 * A forward on this worker's rows (driver.within), with each dropout mask drawn inside it the block of the whole
 * batch's mask one process would draw for those rows (rng.ts withDrawShare): the same masks, so the workers'
 * losses are one process's with dropout too. A BatchNorm in training inside it normalizes by the statistics of
 * every worker's rows (ops/nn.ts withSyncBatchNorm, PyTorch's SyncBatchNorm): its output is one process's too; a
 * mixture of experts routes with the whole batch's fᵢ and capacity (nn/moe.ts withSyncRouting), keeping the tokens
 * one process keeps. The rows must be the outermost dimension of every dropped tensor, and
 * every worker's default generator in the same state as one process's.
 */
export function forwardOnRows<T>(driver: StepDriver, part: Part, fn: () => T): T {
  const comm = driver instanceof DataParallel && driver.comm.worldSize > 1 ? driver.comm : null;
  const sum = (buf: Float32Array): void => comm!.allReduce(buf);
  // BatchNorm: the statistics of every worker's rows together (ops/nn.ts withSyncBatchNorm, a collective); a mixture
  // of experts: the load-balancing loss's fᵢ and the capacity of the whole batch (nn/moe.ts withSyncRouting)
  const rows = comm
    ? () => withSyncBatchNorm(sum, () => withSyncRouting({ rank: comm.rank, worldSize: comm.worldSize, sum }, fn))
    : fn;
  return driver.within(() => withDrawShare(part.rank, part.worldSize, rows));
}

/** This worker's rows of a batch-first tensor (B, …) → (B/N, …); the whole tensor for one process. */
export function myRows(t: Tensor, part: Part): Tensor {
  if (part.worldSize === 1) return t;
  const { start, count } = rowsOf(t.shape[0]!, part);
  return t.narrow(0, start, count);
}

/** The ids ≠ pad in rows [start, start + count) of an int32 batch (B, T): the tokens a loss averages over. */
export function tokensIn(t: Tensor, pad: number, start = 0, count = t.shape[0]!): number {
  const T = t.shape[1]!,
    ids = t.dataSync();
  let n = 0;
  for (let i = start * T; i < (start + count) * T; i++) if (ids[i] !== pad) n++;
  return n;
}
