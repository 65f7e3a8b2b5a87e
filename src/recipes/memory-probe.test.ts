// The memory probe every training command runs before it starts: the run's own first step at batches of 2 and 4,
// extended to the batch asked for. Checked against a direct measurement of the first step at that batch (the
// meter on the run itself), on a job whose memory is linear in the batch; the probe skips evaluation, leaves the
// default generator as it was, and stops at the budget.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randn } from "../engine/creation.js";
import { defaultGenerator, manualSeed } from "../engine/rng.js";
import { Linear } from "../nn/linear.js";
import { mseLoss } from "../ops/nn.js";
import { AdamW } from "../optim/adam.js";
import { runLoopSync, type TrainingJob } from "./loop.js";
import { estimateTrainingBytes, firstStepBytes } from "./memory-probe.js";

let evaluations = 0;

/** A two-layer regression trained by the shared loop at batch `b` (one step per batch, evaluation due at step 0). */
function run(b: number): void {
  const l1 = new Linear(32, 64),
    l2 = new Linear(64, 8);
  const params = [...l1.parameters(), ...l2.parameters()];
  const opt = new AdamW(params, { lr: 1e-3 });
  let step = 0;
  const job: TrainingJob<{ loss: number }, { val: number }> = {
    get step() {
      return step;
    },
    totalSteps: 10,
    trainStep() {
      const x = randn([b, 32]),
        y = randn([b, 8]);
      const loss = mseLoss(l2.forward(l1.forward(x).relu()), y);
      loss.backward();
      opt.step();
      opt.zeroGrad();
      step++;
      return { loss: loss.item() };
    },
    evalDue: () => step === 0,
    *evaluate() {
      evaluations++;
      return { val: 0 };
    },
  };
  runLoopSync(job, {});
}

test("the estimate from batches 2 and 4 equals the first step measured at the batch itself", () => {
  manualSeed(0);
  for (const batch of [4, 7, 64, 300]) {
    const est = estimateTrainingBytes(run, batch);
    assert.equal(est.stopped, false);
    assert.equal(
      est.bytes,
      firstStepBytes(() => run(batch)),
      `batch ${batch}`,
    );
  }
  // below 4 the batch itself is measured
  assert.equal(
    estimateTrainingBytes(run, 3).bytes,
    firstStepBytes(() => run(3)),
  );
});

test("a probe runs no evaluation, leaves the default generator as it was, and stops at the budget", () => {
  manualSeed(5);
  const state = JSON.stringify(defaultGenerator.getState());
  evaluations = 0;
  const full = estimateTrainingBytes(run, 1000);
  assert.equal(evaluations, 0);
  assert.equal(JSON.stringify(defaultGenerator.getState()), state);
  // a budget below the estimate: refused on the way (stopped), the estimate above the budget
  const budget = full.bytes / 10;
  const cut = estimateTrainingBytes(run, 1000, budget);
  assert.equal(cut.stopped, true);
  assert.ok(cut.bytes > budget, `${cut.bytes} > ${budget}`);
  // a budget the first probe alone passes
  const tiny = estimateTrainingBytes(run, 1000, 1000);
  assert.equal(tiny.stopped, true);
  assert.ok(tiny.bytes > 1000);
});
