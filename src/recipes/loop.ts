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
// Browser-safe: no timers of Node, no signals; the caller says how to pause and when to stop.

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
}

const now = (): number => globalThis.performance.now();

/**
 * The loop itself, as a generator that yields between units of work (after each step and after each batch
 * of an evaluation). Drive it with `runLoop` (asynchronous, stoppable) or `runLoopSync` (to the end).
 */
export function* trainingLoop<S extends Metrics, E extends Metrics>(job: TrainingJob<S, E>, events: LoopEvents<NoInfer<S>, NoInfer<E>>): Generator<void, void, void> {
  for (;;) {
    if (job.evalDue()) {
      const t0 = now();
      const it = job.evaluate();
      let r = it.next();
      for (; !r.done; r = it.next()) yield;
      const metrics = r.value;
      events.onEval?.(job.step, metrics, now() - t0);
    }
    if (job.step >= job.totalSteps) return;
    const t0 = now();
    const metrics = job.trainStep();
    events.onStep?.(job.step, metrics, now() - t0);
    yield;
  }
}

export interface RunOptions {
  /** awaited at every yield of the loop (for example one turn of the event loop, so that signals are heard) */
  pause?: () => Promise<void>;
  /** asked after every pause: true ends the run at the current unit of work (an unfinished evaluation is dropped) */
  shouldStop?: () => boolean;
}

/** Run the loop asynchronously; resolves to true when it reached the last step, false when it was stopped. */
export async function runLoop<S extends Metrics, E extends Metrics>(job: TrainingJob<S, E>, events: LoopEvents<NoInfer<S>, NoInfer<E>>, opts: RunOptions = {}): Promise<boolean> {
  const { pause, shouldStop } = opts;
  if (shouldStop?.()) return false;
  for (const _ of trainingLoop(job, events)) {
    if (pause) await pause();
    if (shouldStop?.()) return false;
  }
  return true;
}

/** Run the loop to the end in one call (the recipes that return their result synchronously). */
export function runLoopSync<S extends Metrics, E extends Metrics>(job: TrainingJob<S, E>, events: LoopEvents<NoInfer<S>, NoInfer<E>>): void {
  for (const _ of trainingLoop(job, events));
}
