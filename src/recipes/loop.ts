// The training loop shared by the recipes: `wnn train gpt` (asynchronous, so that Ctrl-C is heard between
// steps and between the batches of a loss estimate) and the recipes that run to the end in one call (the names
// task's trainOnNames). What varies between them is the job (its step and its evaluation); the order of
// events is the loop's, written once:
//
//   evaluate if due → stop at the last step → one optimizer step → report it → (yield) → again
//
// A job's evaluation is a generator: each `yield` ends a unit of work (one batch), where an asynchronous run
// may pause and stop; the evaluation's result counts only when the generator returns. Stopping leaves the job
// at a step boundary (its last completed step), which is where checkpoints are written and resumed from.
//
// Memory: every step and every unit of an evaluation runs inside `tidy` (src/engine/scope.ts), so its tensors
// live in wasm memory and are freed when it ends; only numbers leave it. A job keeps no tensor across steps but
// its parameters, gradients and optimizer state, which the scope keeps by itself.
//
// Browser-safe: no timers of Node, no signals; the caller says how to pause and when to stop.

import { ArgumentError } from "../engine/errors.js";
import { tidy } from "../engine/scope.js";
import { FirstStepDone, isProbing } from "./memory-probe.js";

/** Numbers a step or an evaluation reports (loss first by convention: { loss, lr }, { train, val }). */
export type Metrics = Record<string, number>;

/** What the loop drives: a job with a step counter, an optimizer step and an evaluation. */
export interface TrainingJob<Step extends Metrics = Metrics, Eval extends Metrics = Metrics> {
  /** optimizer steps taken so far (a resumed job starts where it stopped) */
  readonly step: number;
  /** the step at which the run ends */
  readonly totalSteps: number;
  /** one optimizer step on a fresh batch; advances `step` by one */
  trainStep(): Step;
  /** whether an evaluation is due now, before the next step (and after the last one) */
  evalDue(): boolean;
  /** the evaluation, one unit of work (a batch) per `next()`; its return value is the metrics (the step is then evaluated) */
  evaluate(): Iterator<void, Eval, void>;
}

/** What the loop reports: each step and each completed evaluation, with its wall time in milliseconds. */
export interface LoopEvents<Step extends Metrics = Metrics, Eval extends Metrics = Metrics> {
  onStep?(step: number, metrics: Step, ms: number): void;
  onEval?(step: number, metrics: Eval, ms: number): void;
  /** a step the job skipped because its loss (or gradient norm) was NaN or infinite (with a guard: instead of onStep) */
  onSkip?(step: number, metrics: Step, ms: number): void;
}

/**
 * Non-finite losses, counted in one place for every job. A job skips a step whose loss or gradient norm is NaN
 * or infinite (no update: `skipStep`, as llm.c does) and says so with `skipped: 1` in its metrics; the guard
 * counts those steps and ends the run after `maxInARow` of them in a row, so that the caller can save its
 * checkpoint (the last good weights) and say why it stopped (`message`). A job that does not report `skipped`
 * is judged by its `loss` alone.
 */
export class NonFiniteGuard {
  /** bad steps in a row so far, and in all */
  inARow = 0;
  total = 0;

  constructor(readonly maxInARow = 5) {
    if (!(Number.isSafeInteger(maxInARow) && maxInARow >= 1))
      throw new ArgumentError(`NonFiniteGuard: maxInARow must be a positive integer, got ${maxInARow}`);
  }

  /** Whether a step's metrics say it was skipped (or its loss is not finite). */
  static isBad(m: Metrics): boolean {
    return m.skipped === 1 || ("loss" in m && !Number.isFinite(m.loss));
  }

  /** Count one step's metrics; → whether it was bad. */
  record(m: Metrics): boolean {
    if (!NonFiniteGuard.isBad(m)) {
      this.inARow = 0;
      return false;
    }
    this.inARow++;
    this.total++;
    return true;
  }

  /** true once maxInARow bad steps came in a row: the run must stop */
  get tripped(): boolean {
    return this.inARow >= this.maxInARow;
  }

  /** Why the run stopped, in one line (without the file saved). */
  message(step: number, lr?: number): string {
    return `training stopped at step ${step}: the loss was NaN or infinite for ${this.inARow} batches in a row (${this.total} skipped in all)${lr !== undefined ? `; the learning rate (${lr}) is probably too high` : ""}`;
  }
}

/** The test a job applies before its update: skip (no update) when the loss or the gradient norm is not finite. */
export function skipStep(loss: number, gradNorm = 0): boolean {
  return !Number.isFinite(loss) || !Number.isFinite(gradNorm);
}

const now = (): number => globalThis.performance.now();

/**
 * The loop itself, as a generator that yields between units of work (after each step and after each batch
 * of an evaluation). Drive it with `runLoop` (asynchronous, stoppable) or `runLoopSync` (to the end).
 */
export function* trainingLoop<S extends Metrics, E extends Metrics>(
  job: TrainingJob<S, E>,
  events: LoopEvents<NoInfer<S>, NoInfer<E>>,
  guard?: NonFiniteGuard,
): Generator<void, void, void> {
  if (isProbing()) {
    // a memory probe (memory-probe.ts) measures the data, the model and one step: no evaluation, no second step
    tidy("training step", () => job.trainStep());
    throw new FirstStepDone();
  }
  for (;;) {
    if (job.evalDue()) {
      const t0 = now();
      const it = job.evaluate();
      const next = (): IteratorResult<void, E> => tidy("evaluation", () => it.next());
      let r = next();
      for (; !r.done; r = next()) yield;
      const metrics = r.value;
      events.onEval?.(job.step, metrics, now() - t0);
    }
    if (job.step >= job.totalSteps) return;
    const t0 = now();
    const metrics = tidy("training step", () => job.trainStep());
    if (guard?.record(metrics)) {
      events.onSkip?.(job.step, metrics, now() - t0);
      if (guard.tripped) return; // the caller saves and says why (guard.message)
    } else events.onStep?.(job.step, metrics, now() - t0);
    yield;
  }
}

export interface RunOptions {
  /** awaited at every yield of the loop (for example one turn of the event loop, so that signals are heard) */
  pause?: () => Promise<void>;
  /** asked after every pause: true ends the run at the current unit of work (an unfinished evaluation is dropped) */
  shouldStop?: () => boolean;
  /** counts the steps whose loss is not finite and ends the run after too many in a row (then the result is false and guard.tripped) */
  guard?: NonFiniteGuard;
}

/** Run the loop asynchronously; resolves to true when it reached the last step, false when it was stopped. */
export async function runLoop<S extends Metrics, E extends Metrics>(
  job: TrainingJob<S, E>,
  events: LoopEvents<NoInfer<S>, NoInfer<E>>,
  opts: RunOptions = {},
): Promise<boolean> {
  const { pause, shouldStop, guard } = opts;
  if (shouldStop?.()) return false;
  for (const _ of trainingLoop(job, events, guard)) {
    if (pause) await pause();
    if (shouldStop?.()) return false;
  }
  return !guard?.tripped;
}

/** Run the loop to the end in one call (the recipes that return their result synchronously). */
export function runLoopSync<S extends Metrics, E extends Metrics>(
  job: TrainingJob<S, E>,
  events: LoopEvents<NoInfer<S>, NoInfer<E>>,
  guard?: NonFiniteGuard,
): void {
  for (const _ of trainingLoop(job, events, guard));
}
