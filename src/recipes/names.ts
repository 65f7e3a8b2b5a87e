// Training on the names task (src/data/tasks/names.ts): the job every model of the names comparison runs
// (bengio-mlp, char-rnn, the tiny GPT of names-compare) in the shared loop (./loop.ts), with the same batches
// for the same seed.

import { Generator } from "../engine/rng.js";
import type { Tensor } from "../engine/tensor.js";
import { AdamW } from "../optim/adam.js";
import { clipGradNorm } from "../optim/clip.js";
import { runLoopSync, type TrainingJob } from "./loop.js";
import { evalLoss, nameBatch, sampleName, type LogitsFn, type NamesTask } from "../data/tasks/names.js";

// =====================================================================================================
// Training: the loop every model of the comparison runs, with the same batches for the same seed

/** What the loop needs of a model: the siblings' forward(idx, targets) → { logits, loss }. */
export interface NameModel {
  forward(idx: Tensor, targets?: Tensor | null): { logits: Tensor; loss: Tensor | null };
  parameters(): Tensor[];
  numParameters(): number;
  train(mode?: boolean): unknown;
  eval(): unknown;
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
): TrainResult {
  const batches = new Generator(o.seed);
  const opt = new AdamW(model.parameters(), { lr: o.lr, weightDecay: 0.01 });
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
      const { x, y } = nameBatch(task.train, o.batchSize, batches);
      const { loss } = model.forward(x, y);
      for (const p of model.parameters()) p.grad = null;
      loss!.backward();
      if (o.clip > 0) clipGradNorm(model.parameters(), o.clip);
      opt.step();
      step++;
      return { loss: loss!.item() };
    },
    // the validation loss every evalEvery steps and after the last
    evalDue() {
      const evaluated = curve.length > 0 && curve[curve.length - 1]![0] === step;
      return step > 0 && !evaluated && (step % o.evalEvery === 0 || step === o.steps);
    },
    *evaluate() {
      model.eval();
      const val = evalLoss(logitsOf, task.val);
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
