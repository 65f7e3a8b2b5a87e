// Training on the names task (src/data/tasks/names.ts): the job every model of the names comparison runs
// (bengio-mlp, char-rnn, the tiny GPT of names-compare) in the shared loop (./loop.ts), with the same batches
// for the same seed.

import { Generator } from "../engine/rng.js";
import type { Tensor } from "../engine/tensor.js";
import { AdamW } from "../optim/adam.js";
import type { Module } from "../nn/module.js";
import { driverFor, rowsOf, weighted, wholeModel, type DataParallelHook } from "./data-parallel-job.js";
import { runLoopSync, type TrainingJob } from "./loop.js";
import { evalLoss, nameBatch, sampleName, type LogitsFn, type NamesTask } from "../data/tasks/names.js";

// =====================================================================================================
// Training: the loop every model of the comparison runs, with the same batches for the same seed

/** What the loop needs of a model: a module with the siblings' forward(idx, targets) → { logits, loss }. */
export interface NameModel extends Module {
  forward(idx: Tensor, targets?: Tensor | null): { logits: Tensor; loss: Tensor | null };
}

export interface TrainOptions {
  steps: number;
  batchSize: number;
  lr: number;
  /** evaluate the validation loss every this many steps (and at the end) */
  evalEvery: number;
  /** clip the gradient norm to this (0: no clipping) */
  clip: number;
  /** the seed of the batches and samples */
  seed: number;
  /** how many names to sample at the end */
  samples: number;
}

export interface TrainResult {
  params: number;
  /** seconds of the training steps (evaluations excluded) */
  seconds: number;
  /** validation loss in nats per character at the end */
  valLoss: number;
  /** the last 100 steps' mean training loss */
  trainLoss: number;
  /** [step, validation loss] at each evaluation */
  curve: [number, number][];
  samples: string[];
}

/**
 * AdamW (weight decay 0.01) at a constant lr with gradient clipping, `steps` batches of `batchSize` names
 * drawn from a Generator seeded with `seed` — so every model sees the same batches — then the validation
 * loss and `samples` names sampled at temperature 1.
 */
export function trainOnNames(
  model: NameModel,
  task: NamesTask,
  o: TrainOptions,
  log: (line: string) => void = () => {},
  dataParallel?: DataParallelHook,
): TrainResult {
  const batches = new Generator(o.seed);
  const opt = new AdamW(model.parameters(), { lr: o.lr, weightDecay: 0.01 });
  // one process, or worker r of N: every worker draws the same batch of names and trains on its rows of it
  const { driver, part } = driverFor(model, opt, dataParallel);
  rowsOf(o.batchSize, part); // splits evenly, or says so
  const logitsOf: LogitsFn = (x) => model.forward(x).logits;
  const curve: [number, number][] = [];
  const recent: number[] = [];
  let seconds = 0;
  model.train();
  let step = 0;
  const job: TrainingJob<{ loss: number }, { val: number }> = {
    get step() {
      return step;
    },
    totalSteps: o.steps,
    trainStep() {
      const { x, y, terms } = nameBatch(task.train, o.batchSize, batches, rowsOf(o.batchSize, part)); // (B/N, T)
      driver.zeroGrad();
      // the mean over the batch's n characters; a worker's mean over its n_r weighted by N·n_r/n (data-parallel-job.ts)
      const loss = driver.within(() =>
        weighted(model.forward(x, y).loss!, terms.mine, terms.total, part, () => model.forward(x).logits.sum()),
      ); // ()
      const value = driver.mean(loss.item());
      loss.backward();
      driver.reduceGradients(o.clip);
      driver.step();
      step++;
      return { loss: value };
    },
    // the validation loss every evalEvery steps and after the last
    evalDue() {
      const evaluated = curve.length > 0 && curve[curve.length - 1]![0] === step;
      return step > 0 && !evaluated && (step % o.evalEvery === 0 || step === o.steps);
    },
    *evaluate() {
      model.eval();
      let val: number;
      try {
        val = driver.within(() => evalLoss(logitsOf, task.val)); // whole on every worker (FSDP: gathered, then freed)
      } finally {
        driver.endEvaluation();
      }
      model.train();
      return { val };
    },
  };
  runLoopSync(job, {
    onStep: (_, r, ms) => {
      seconds += ms / 1000;
      recent.push(r.loss);
      if (recent.length > 100) recent.shift();
    },
    onEval: (step, { val }) => {
      curve.push([step, val]);
      log(
        `step ${step}/${o.steps}: train ${mean(recent).toFixed(4)}, val ${val.toFixed(4)} nats/char (${seconds.toFixed(1)} s)`,
      );
    },
  });
  wholeModel(driver, model); // the whole trained parameters back in the model, for the samples
  model.eval();
  const sampler = new Generator(o.seed + 1);
  const samples = Array.from({ length: o.samples }, () => sampleName(logitsOf, task, sampler));
  model.train();
  return {
    params: model.numParameters(),
    seconds,
    valLoss: curve[curve.length - 1]![1],
    trainLoss: mean(recent),
    curve,
    samples,
  };
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
