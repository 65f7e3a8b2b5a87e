// The memory a training run will take, estimated before it starts, the same way for every command that trains.
//
// First, and nearly for free: run the command's own code up to the end of its first training step on shape-only
// tensors (metaExecute, src/engine/meta.ts: the kernels do nothing and no storage is allocated, but every storage
// that would be is counted by the engine's meter), at every size as asked except the batch, which is 2 and then 4
// (the code's own work outside the kernels — batching, masking, routing — grows with the batch), and extend the
// line through the two counts to the batch asked for (the rule below). A width, a length, a canvas or a number of
// experts costs nothing to count however large. Where the code reads a value that a shape-only tensor cannot
// stand in for (it throws), fall back to measuring real steps:
//
// run the command's own code twice, at a batch of 2 and of 4, each up to the end of its first training step (the
// shared loop stops there: loop.ts), count the bytes of tensor storage allocated (the engine's meter,
// src/engine/memory.ts: the data, the model, its gradients and optimizer state, and everything the first step
// holds at its end), and extend the line through the two points to the batch asked for:
//
//   m(b) = bytes allocated by the run at batch b, up to the end of its first step
//   estimate(B) = m(2) + (B − 2) · (m(4) − m(2)) / 2
//
// Why a probe rather than a formula per model: the zoo has dozens of models and recipes, each with its own sizes
// (widths, lengths, canvases, experts); a formula written for each drifts from the code it describes, a probe
// runs the code itself. Why at small batches rather than at the batch asked for: memory grows with the batch
// (every activation has the batch as a dim) while the rest (weights, optimizer state, data) does not, and two
// small runs separate the two. A recipe that trains several models one after the other is measured on the first
// one's first step (the others are of the same sizes). Browser-safe: the caller decides the budget.

import { MemoryBudgetError } from "../engine/errors.js";
import { meterAllocations } from "../engine/memory.js";
import { metaExecute, metaLivePeak } from "../engine/meta.js";
import { defaultGenerator } from "../engine/rng.js";
import { tidy } from "../engine/scope.js";
import type { Tensor } from "../engine/tensor.js";

/** Thrown by the shared loop (loop.ts) after the first training step of a probe, to end the run there. */
export class FirstStepDone extends Error {
  constructor() {
    super("memory probe: first training step done");
  }
}

let probing = 0;

/** The end of a probe for a trainer driven outside the shared loop: its first step, in a memory scope, then stop. */
export function probeFirstStep(step: () => unknown): never {
  tidy("training step", step);
  throw new FirstStepDone();
}

/** True while a probe runs: the shared loop skips its evaluations and stops after the first step. */
export function isProbing(): boolean {
  return probing > 0;
}

/**
 * The bytes `run` allocates up to the end of its first training step (all of it, if it never reaches the loop);
 * past `limit` it is stopped where it is and the count returned is above `limit`.
 */
export function firstStepBytes(run: () => void, limit = Infinity): number {
  const rng = defaultGenerator.getState(); // the probe must leave the run it measures unchanged
  probing++;
  try {
    return meterAllocations(() => {
      try {
        run();
      } catch (e) {
        if (!(e instanceof FirstStepDone)) throw e;
      }
    }, limit);
  } finally {
    probing--;
    defaultGenerator.setState(rng);
  }
}

export interface MemoryEstimate {
  /** the estimated bytes at the batch asked for */
  readonly bytes: number;
  /**
   * "counted": the step run once at its real sizes on shape-only tensors; "measured": at batches of 2 and 4;
   * "live": an inference counted on shape-only tensors, the peak of its live buffers (estimateInferenceBytes)
   */
  readonly how: "counted" | "measured" | "live";
  /** true when a probe passed the budget and was stopped there: `bytes` is then only a lower bound */
  readonly stopped: boolean;
  /** the two points measured: [batch, bytes] */
  readonly small: readonly [number, number];
  readonly large: readonly [number, number];
}

/**
 * The estimated training memory at batch `batch`: `run(b)` starts the command's run at batch b (it is stopped
 * after its first step). Linear in the batch through the points measured at batches of 2 and 4 (not 1: a batch
 * norm or a loss averaged over a batch may refuse a batch of one); a batch below 4 is measured as it is. With a
 * `budget`, a probe that passes it stops there (sizes other than the batch may ask for too much at a small batch
 * already): the estimate is then above the budget, and no more than the budget was allocated.
 * First of all the same two steps are counted on shape-only tensors (`countedStepBytes`): when that works, the
 * line through those counts is the estimate and no real step runs. With `atBatch`, the step is counted (or
 * measured) at the batch asked for itself, no line: for runs whose memory is not linear in the batch (a batch of
 * sentences is padded to its longest, and a batch of 2 does not draw the longest that a batch of 256 does).
 */
export function estimateTrainingBytes(
  run: (batch: number) => void,
  batch: number,
  budget = Infinity,
  atBatch = false,
): MemoryEstimate {
  const counted = countedEstimate(run, batch, atBatch);
  if (counted !== null) return counted;
  if (batch < 4 || atBatch) {
    const m = firstStepBytes(() => run(batch), budget);
    return { bytes: m, how: "measured", stopped: m > budget, small: [batch, m], large: [batch, m] };
  }
  const m2 = firstStepBytes(() => run(2), budget);
  // the second probe stops as soon as its slope alone puts the estimate past the budget
  const limit4 = m2 + (2 * (budget - m2)) / (batch - 2);
  const m4 = m2 > budget ? m2 : firstStepBytes(() => run(4), limit4);
  const bytes = m2 + ((batch - 2) * Math.max(0, m4 - m2)) / 2;
  return { bytes, how: "measured", stopped: m2 > budget || m4 > limit4, small: [2, m2], large: [4, m4] };
}

/**
 * The estimate counted on shape-only tensors: the step at batches of 2 and 4 (every other size as asked), the
 * line through them at `batch` — or the batch itself below 4 or with `atBatch`. Counted whole (nothing is allocated, so nothing
 * stops at the budget). Null when the run cannot be counted.
 */
function countedEstimate(run: (batch: number) => void, batch: number, atBatch: boolean): MemoryEstimate | null {
  if (batch < 4 || atBatch) {
    const m = countedStepBytes(() => run(batch));
    return m === null ? null : { bytes: m, how: "counted", stopped: false, small: [batch, m], large: [batch, m] };
  }
  const m2 = countedStepBytes(() => run(2));
  const m4 = m2 === null ? null : countedStepBytes(() => run(4));
  if (m2 === null || m4 === null) return null;
  const bytes = m2 + ((batch - 2) * Math.max(0, m4 - m2)) / 2;
  return { bytes, how: "counted", stopped: false, small: [2, m2], large: [4, m4] };
}

/**
 * The bytes `run` allocates up to the end of its first training step, counted on shape-only tensors
 * (metaExecute): exact, and nothing computed or allocated. Null when the run cannot go on without values (it
 * threw); a tensor past the one-tensor cap is the refusal the real run would meet, and is thrown.
 */
export function countedStepBytes(run: () => void, limit = Infinity): number | null {
  try {
    return firstStepBytes(() => metaExecute(run), limit);
  } catch (e) {
    if (e instanceof MemoryBudgetError) throw e;
    return null;
  }
}

/**
 * The memory of an inference (a sampler under noGrad, outside any memory scope, whose buffers are freed as it goes
 * rather than at a scope's end): `run(b)` makes the output at batch b (one step of a sampler, say) and returns
 * it. Counted on shape-only tensors at the batch asked for (every size as the real run's): the peak of the
 * buffers live at once, each from its allocation to its last use (`metaLivePeak`, src/engine/meta.ts) — a lower
 * bound of the real run's peak, which the garbage collector reaches only when it frees each buffer at once.
 * Where the run cannot be counted (it needs values), the sum of what one call allocates (estimateTrainingBytes,
 * measured at batches of 2 and 4), an upper bound. `sum` is the sum of every buffer the counted run allocated.
 */
export function estimateInferenceBytes(
  run: (batch: number) => Tensor | readonly Tensor[],
  batch: number,
  budget = Infinity,
): MemoryEstimate & { readonly sum: number } {
  const rng = defaultGenerator.getState(); // the estimate must leave the run it weighs unchanged
  let counted: { peak: number; total: number } | null = null;
  try {
    counted = metaLivePeak(
      () => run(batch),
      (r) => (Array.isArray(r) ? (r as readonly Tensor[]) : [r as Tensor]).map((t) => t.storage),
    );
  } catch (e) {
    if (e instanceof MemoryBudgetError) throw e;
  } finally {
    defaultGenerator.setState(rng);
  }
  if (counted !== null)
    return {
      bytes: counted.peak,
      how: "live",
      stopped: false,
      small: [batch, counted.peak],
      large: [batch, counted.peak],
      sum: counted.total,
    };
  const m = estimateTrainingBytes((b) => probeFirstStep(() => run(b)), batch, budget);
  return { ...m, sum: m.bytes };
}
