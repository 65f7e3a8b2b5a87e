// The memory estimate every training command makes before it starts: the run's own first step counted on
// shape-only tensors at the sizes asked for (metaExecute) or, where that cannot run, measured at batches of 2 and 4
// and extended to the batch asked for. Both are checked against a direct measurement of the first step at that
// batch (the meter on the run itself): the count on real models (GPT-2's trainer, the DDPM U-Net, Mixtral's
// experts), the probes on a job whose memory is linear in the batch; a probe skips evaluation, leaves the default
// generator as it was, and stops at the budget.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randn } from "../engine/creation.js";
import { defaultGenerator, manualSeed } from "../engine/rng.js";
import { Linear } from "../nn/linear.js";
import { mseLoss } from "../ops/nn.js";
import { AdamW } from "../optim/adam.js";
import { runLoopSync, type TrainingJob } from "./loop.js";
import { countedStepBytes, estimateTrainingBytes, firstStepBytes, probeFirstStep } from "./memory-probe.js";
import { inMetaExecution } from "../engine/meta.js";
import { tensor } from "../engine/creation.js";
import { gptConfig } from "../models/gpt2/model.js";
import { GPTTrainer } from "../models/gpt2/train.js";
import { DDPMTrainer } from "../models/ddpm/train.js";
import { unetConfig } from "../models/ddpm/unet.js";
import { Mixtral, mixtralConfig } from "../models/mixtral/model.js";

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

/** The same job, which reads a value the shape-only run has not (as a run the count cannot follow): probed. */
function runReading(b: number): void {
  if (inMetaExecution()) throw new Error("this run needs values");
  run(b);
}

test("counted on shape-only tensors: the bytes the first step allocates, exactly, with nothing computed", () => {
  manualSeed(0);
  for (const batch of [1, 4, 7, 300]) {
    const est = estimateTrainingBytes(run, batch);
    assert.equal(est.how, "counted");
    assert.equal(
      est.bytes,
      firstStepBytes(() => run(batch)),
      `batch ${batch}`,
    );
  }
  // GPT-2's trainer (embeddings, attention, AdamW's state, gradient clipping)
  const text = Int32Array.from({ length: 400 }, (_, i) => (i * 7) % 13);
  const gpt = (B: number, T: number) => () => {
    const cfg = gptConfig("tiny", { vocabSize: 13, nLayer: 2, nHead: 2, nEmbd: 16, blockSize: T });
    const train = { batchSize: B, lr: 1e-3, minLr: 1e-4, warmupIters: 1, lrDecayIters: 20, iters: 20 };
    const rest = { evalInterval: 100, evalIters: 1, weightDecay: 0.1, beta1: 0.9, beta2: 0.99, gradClip: 1, seed: 1 };
    const tr = new GPTTrainer(cfg, { ...train, ...rest }, { train: text, val: text });
    probeFirstStep(() => tr.trainStep());
  };
  // equal, the tied embedding's two gradients (its lookup's and the output layer's) and their sum included
  for (const [B, T] of [
    [2, 8],
    [5, 32],
  ] as const)
    assert.equal(countedStepBytes(gpt(B, T)), firstStepBytes(gpt(B, T)), `gpt B ${B} T ${T}`);
  // the DDPM U-Net (convolutions, group norms, attention, the EMA copy)
  const digits = { images: new Float32Array(4 * 784).fill(0.5), labels: Int32Array.of(0, 1, 2, 3), count: 4 };
  const ddpm = (B: number) => () => {
    const tr = new DDPMTrainer(unetConfig("ddpm-mnist", { channels: 8 }), {}, { steps: 10, batchSize: B }, digits);
    probeFirstStep(() => tr.trainStep());
  };
  assert.equal(countedStepBytes(ddpm(3)), firstStepBytes(ddpm(3)), "ddpm");
  // Mixtral's experts: every token routed (shape-only: spread evenly; here: by its router), the same total
  const moe = (B: number, T: number) => () => {
    const m = new Mixtral(mixtralConfig("tiny", { nLayer: 1 }));
    const idx = tensor(
      Int32Array.from({ length: B * T }, (_, i) => i % 65),
      { shape: [B, T] },
    );
    probeFirstStep(() => m.forward(idx, idx).loss!.backward());
  };
  const counted = countedStepBytes(moe(2, 16))!,
    measured = firstStepBytes(moe(2, 16));
  assert.ok(Math.abs(counted - measured) <= 0.01 * measured, `mixtral: counted ${counted}, measured ${measured}`);
  assert.equal(
    countedStepBytes(() => runReading(4)),
    null,
    "a run that needs values is not counted",
  );
});

test("the estimate from batches 2 and 4 equals the first step measured at the batch itself", () => {
  manualSeed(0);
  for (const batch of [4, 7, 64, 300]) {
    const est = estimateTrainingBytes(runReading, batch);
    assert.equal(est.how, "measured");
    assert.equal(est.stopped, false);
    assert.equal(
      est.bytes,
      firstStepBytes(() => run(batch)),
      `batch ${batch}`,
    );
  }
  // below 4 the batch itself is measured
  assert.equal(
    estimateTrainingBytes(runReading, 3).bytes,
    firstStepBytes(() => run(3)),
  );
});

test("a probe runs no evaluation, leaves the default generator as it was, and stops at the budget", () => {
  manualSeed(5);
  const state = JSON.stringify(defaultGenerator.getState());
  evaluations = 0;
  const full = estimateTrainingBytes(runReading, 1000);
  assert.equal(evaluations, 0);
  assert.equal(JSON.stringify(defaultGenerator.getState()), state);
  // a budget below the estimate: refused on the way (stopped), the estimate above the budget
  const budget = full.bytes / 10;
  const cut = estimateTrainingBytes(runReading, 1000, budget);
  assert.equal(cut.stopped, true);
  assert.ok(cut.bytes > budget, `${cut.bytes} > ${budget}`);
  // a budget the first probe alone passes
  const tiny = estimateTrainingBytes(runReading, 1000, 1000);
  assert.equal(tiny.stopped, true);
  assert.ok(tiny.bytes > 1000);
});
