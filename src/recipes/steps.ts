// A run of training steps with no evaluation inside it (the model is evaluated once, after): the shape most task
// trainers take. It is a TrainingJob of the shared loop (loop.ts), so its steps run like every other recipe's,
// each inside the loop's memory scope. Browser-safe.

import { runLoopSync, type Metrics, type TrainingJob } from "./loop.js";

/** `totalSteps` calls of `step` (each one optimizer step, returning its metrics) through the shared loop; `onStep` after each. */
export function runSteps<S extends Metrics>(
  totalSteps: number,
  step: () => S,
  onStep: (step: number, metrics: S, ms: number) => void,
): void {
  let done = 0;
  const job: TrainingJob<S, Record<string, never>> = {
    get step() {
      return done;
    },
    totalSteps,
    trainStep() {
      const m = step();
      done++;
      return m;
    },
    evalDue: () => false,
    evaluate: function* () {
      return {};
    },
  };
  runLoopSync(job, { onStep });
}
