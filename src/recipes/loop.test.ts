// The shared loop's guard against non-finite losses: skipped steps are reported as skips (not steps), a good
// step resets the count, and the run ends after maxInARow bad steps in a row (runLoop → false, guard.tripped).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError } from "../engine/errors.js";
import { NonFiniteGuard, runLoop, runLoopSync, skipStep, type TrainingJob } from "./loop.js";

/** A job whose step k reports losses[k]; a non-finite loss is skipped as a real job does (no step taken). */
type Job = TrainingJob<{ loss: number; skipped: number }, { val: number }>;
function job(losses: number[], totalSteps = 100): { -readonly [K in keyof Job]: Job[K] } & { calls: number } {
  return {
    step: 0,
    calls: 0,
    totalSteps,
    trainStep() {
      const loss = losses[this.calls++] ?? 1;
      if (skipStep(loss)) return { loss, skipped: 1 };
      this.step++;
      return { loss, skipped: 0 };
    },
    evalDue: () => false,
    *evaluate() {
      return { val: 0 };
    },
  };
}

test("skipStep: a NaN or infinite loss or gradient norm is skipped, finite ones are not", () => {
  assert.equal(skipStep(1.5), false);
  assert.equal(skipStep(1.5, 3), false);
  for (const bad of [NaN, Infinity, -Infinity]) {
    assert.equal(skipStep(bad), true);
    assert.equal(skipStep(1, bad), true);
  }
});

test("NonFiniteGuard: counts bad steps in a row and in all; a good step resets the row", () => {
  const g = new NonFiniteGuard(3);
  assert.equal(g.record({ loss: 1 }), false);
  assert.equal(g.record({ loss: NaN }), true);
  assert.equal(g.record({ loss: 2, skipped: 1 }), true); // the job's own verdict counts (a non-finite gradient norm)
  assert.equal(g.tripped, false);
  assert.equal(g.record({ loss: 1, skipped: 0 }), false);
  assert.equal(g.inARow, 0);
  for (let k = 0; k < 3; k++) g.record({ loss: Infinity });
  assert.equal(g.tripped, true);
  assert.equal(g.total, 5);
  assert.match(
    g.message(7, 1e6),
    /^training stopped at step 7: the loss was NaN or infinite for 3 batches in a row \(5 skipped in all\); the learning rate \(1000000\) is probably too high$/,
  );
  assert.throws(() => new NonFiniteGuard(0), ArgumentError);
  assert.throws(() => new NonFiniteGuard(1.5), ArgumentError);
});

test("runLoop with a guard: skips go to onSkip, the run stops after maxInARow bad steps and resolves false", async () => {
  const j = job([1, NaN, 2, NaN, NaN, NaN, 3]);
  const steps: number[] = [],
    skips: number[] = [];
  const guard = new NonFiniteGuard(3);
  const done = await runLoop(j, { onStep: (s) => steps.push(s), onSkip: (s) => skips.push(s) }, { guard });
  assert.equal(done, false);
  assert.equal(guard.tripped, true);
  assert.deepEqual(steps, [1, 2]); // the step count after each good step
  assert.deepEqual(skips, [1, 2, 2, 2]); // no step taken by a skipped batch
  assert.equal(j.calls, 6); // the 7th batch was never drawn
  assert.equal(guard.total, 4);
});

test("runLoop with a guard reaches the end when the bad steps never come maxInARow in a row; runLoopSync stops too", async () => {
  const j = job([NaN, NaN, 1, NaN, NaN, 1], 4);
  const guard = new NonFiniteGuard(3);
  assert.equal(await runLoop(j, {}, { guard }), true);
  assert.equal(j.step, 4);
  assert.equal(guard.total, 4);
  const k = job([1, NaN, NaN], 10);
  const g2 = new NonFiniteGuard(2);
  runLoopSync(k, {}, g2);
  assert.equal(g2.tripped, true);
  assert.equal(k.step, 1);
  // without a guard the loop is as before: every step goes to onStep
  const m = job([1, 1], 2);
  const seen: number[] = [];
  runLoopSync(m, { onStep: (s) => seen.push(s) });
  assert.deepEqual(seen, [1, 2]);
});
