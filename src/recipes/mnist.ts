// What the MNIST recipes (lenet5, resnet) share: batches from RecipeData.mnist, the training loop of an
// image classifier, evaluation, and the pictures (loss curve, filters, feature maps). Browser-safe: arrays
// in, numbers and PNG bytes out.
//
// Vocabulary (shape comments): N images, B batch, K classes, S = 28 the digits' side.

import { tensor } from "../engine/creation.js";
import { ArgumentError } from "../engine/errors.js";
import type { Generator } from "../engine/rng.js";
import type { Tensor } from "../engine/tensor.js";
import * as F from "../nn/functional.js";
import { evaluating, type Module } from "../nn/module.js";
import { imageGridPng, lineChartPng } from "../io/chart.js";
import type { Optimizer } from "../optim/optimizer.js";
import type { LRScheduler } from "../optim/schedulers.js";
import type { RecipeData, RecipeHooks } from "./recipe.js";
import { runLoopSync, type TrainingJob } from "./loop.js";
import { driverFor, forwardOnRows, rowsOf, wholeModel } from "./data-parallel-job.js";

export type MnistData = NonNullable<RecipeData["mnist"]>;
export type MnistSplit = MnistData["train"];

/** The side of an MNIST digit. */
export const SIDE = 28;

/** A module that maps images (B, 1, S, S) to logits (B, K). */
export interface ImageClassifier extends Module {
  forward(x: Tensor): Tensor;
}

/** The first `limit` images of a split (limit 0: all of them), checked. */
export function takeSplit(split: MnistSplit, limit: number, what: string): MnistSplit {
  const P = SIDE * SIDE;
  if (!(split.count >= 1) || split.images.length !== split.count * P || split.labels.length !== split.count) {
    throw new ArgumentError(
      `mnist: the ${what} split must hold count·784 pixels and count labels, got ${split.images.length} pixels and ${split.labels.length} labels for count ${split.count}`,
    );
  }
  if (!(Number.isInteger(limit) && limit >= 0))
    throw new ArgumentError(`mnist: the ${what} limit must be an integer ≥ 0, got ${limit}`);
  const n = limit === 0 ? split.count : Math.min(limit, split.count);
  return { images: split.images.subarray(0, n * P), labels: split.labels.subarray(0, n), count: n };
}

/** Images order[start…start+B) of a split → x (B, 1, S, S) float32, y (B) int32. */
export function mnistBatch(
  split: MnistSplit,
  order: ArrayLike<number>,
  start: number,
  size: number,
): { x: Tensor; y: Tensor } {
  const P = SIDE * SIDE;
  const B = Math.min(size, order.length - start);
  const images = new Float32Array(B * P); // (B, S·S)
  const labels = new Int32Array(B); //       (B)
  for (let b = 0; b < B; b++) {
    const i = order[start + b]!;
    images.set(split.images.subarray(i * P, (i + 1) * P), b * P);
    labels[b] = split.labels[i]!;
  }
  return { x: tensor(images, { shape: [B, 1, SIDE, SIDE] }), y: tensor(labels, { shape: [B] }) };
}

/** A seeded permutation of 0…n−1 (Fisher–Yates). */
export function permutation(n: number, generator: Generator): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = generator.randint(0, i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/** Accuracy and mean cross-entropy on a split, in eval mode (BatchNorm's running statistics), without gradients. */
export function evaluate(
  model: ImageClassifier,
  split: MnistSplit,
  batchSize = 500,
): { accuracy: number; loss: number } {
  return evaluating(model, () => {
    const order = Int32Array.from({ length: split.count }, (_, i) => i);
    let correct = 0,
      lossSum = 0;
    for (let start = 0; start < split.count; start += batchSize) {
      const { x, y } = mnistBatch(split, order, start, batchSize);
      const logits = model.forward(x); // (B, K)
      lossSum += F.crossEntropy(logits, y, { reduction: "sum" }).item();
      const pred = logits.argmax(1); //   (B) int32
      for (let b = 0; b < y.numel(); b++) if (pred.storage[b] === y.storage[b]) correct++;
    }
    return { accuracy: correct / split.count, loss: lossSum / split.count };
  });
}

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  /** log a line every this many steps */
  logEvery?: number;
}

export interface TrainResult {
  /** [epoch (fractional), training loss of that step] */
  trainLoss: [number, number][];
  /** [epoch, test loss, test accuracy] after each epoch */
  test: [number, number, number][];
  /** seconds spent in training steps (forward, backward, update), evaluation left out */
  trainSeconds: number;
  /** seconds spent evaluating on the test split */
  evalSeconds: number;
  steps: number;
}

/**
 * Minibatch training with the mean cross-entropy: each epoch visits the training split in a new seeded
 * order; the scheduler (if any) steps after every optimizer step; the test split is evaluated after each epoch.
 */
export function trainClassifier(
  model: ImageClassifier,
  optimizer: Optimizer,
  scheduler: LRScheduler | null,
  train: MnistSplit,
  test: MnistSplit,
  opts: TrainOptions,
  hooks: RecipeHooks,
  generator: Generator,
): TrainResult {
  const { epochs, batchSize } = opts;
  if (!(Number.isInteger(epochs) && epochs >= 1))
    throw new ArgumentError(`trainClassifier: epochs must be a positive integer, got ${epochs}`);
  if (!(Number.isInteger(batchSize) && batchSize >= 1))
    throw new ArgumentError(`trainClassifier: batchSize must be a positive integer, got ${batchSize}`);
  const perEpoch = Math.ceil(train.count / batchSize);
  // one process, or this worker's of N (hooks.dataParallel): every batch split evenly over the workers, the last too
  const { driver, part } = driverFor(model, optimizer, hooks.dataParallel);
  rowsOf(batchSize, part);
  rowsOf(train.count - (perEpoch - 1) * batchSize, part);
  const total = epochs * perEpoch;
  const logEvery = opts.logEvery ?? Math.max(1, Math.floor(perEpoch / 4));
  const result: TrainResult = { trainLoss: [], test: [], trainSeconds: 0, evalSeconds: 0, steps: 0 };
  model.train();
  // the job the shared loop (loop.ts) runs: a step per minibatch, a new seeded order at each epoch's first step,
  // the test split evaluated after each epoch's last step
  let order: Int32Array = new Int32Array(0),
    lastEval = 0;
  const job: TrainingJob<{ loss: number }, { loss: number; accuracy: number }> = {
    get step() {
      return result.steps;
    },
    totalSteps: total,
    trainStep() {
      const k = result.steps % perEpoch;
      if (k === 0) order = permutation(train.count, generator);
      const B = Math.min(batchSize, train.count - k * batchSize); // the last batch of an epoch may be smaller
      const { start, count } = rowsOf(B, part);
      const { x, y } = mnistBatch(train, order, k * batchSize + start, count); // (B/N, 1, 28, 28), (B/N)
      driver.zeroGrad();
      // loss = −(1/B)·Σ_b log softmax(f(x_b))[y_b]   (with N workers: the mean of their means over B/N digits each;
      // a BatchNorm normalizes by the statistics of every worker's digits, as one process's: forwardOnRows)
      const loss = forwardOnRows(driver, part, () => F.crossEntropy(model.forward(x), y)); // ()
      const value = driver.mean(loss.item());
      loss.backward();
      driver.reduceGradients();
      driver.step();
      scheduler?.step();
      result.steps++;
      return { loss: value };
    },
    evalDue: () => result.steps > 0 && result.steps % perEpoch === 0 && lastEval !== result.steps,
    *evaluate() {
      let r: { accuracy: number; loss: number };
      try {
        r = driver.within(() => evaluate(model, test)); // whole on every worker (FSDP: gathered, then freed)
      } finally {
        driver.endEvaluation();
      }
      lastEval = result.steps;
      yield;
      return r;
    },
  };
  runLoopSync(job, {
    onStep(step, { loss: l }, ms) {
      result.trainSeconds += ms / 1000;
      const epoch = Math.floor((step - 1) / perEpoch),
        k = (step - 1) % perEpoch;
      result.trainLoss.push([epoch + (k + 1) / perEpoch, l]);
      hooks.progress?.(step, total, { loss: l, epoch: epoch + (k + 1) / perEpoch });
      if (step % logEvery === 0) hooks.log(`epoch ${epoch + 1}/${epochs} step ${step}/${total} loss ${l.toFixed(4)}`);
    },
    onEval(step, { accuracy, loss }, ms) {
      result.evalSeconds += ms / 1000;
      const epoch = step / perEpoch;
      result.test.push([epoch, loss, accuracy]);
      hooks.log(
        `epoch ${epoch}/${epochs}: test loss ${loss.toFixed(4)}, test accuracy ${(100 * accuracy).toFixed(2)}% (${test.count} digits)`,
      );
    },
  });
  wholeModel(driver, model); // the whole trained parameters back in the model (FSDP holds only shards)
  return result;
}

/** The mean loss of the last n steps (the last epoch's, with n steps per epoch). */
export function meanLast(points: readonly (readonly [number, number])[], n: number): number {
  const last = points.slice(-n);
  return last.reduce((s, [, l]) => s + l, 0) / last.length;
}

/** | epoch | test loss | test accuracy | as markdown. */
export function epochTable(r: TrainResult): string {
  const rows = r.test.map(([e, l, a]) => `| ${e} | ${l.toFixed(4)} | ${(100 * a).toFixed(2)}% |`);
  return ["| epoch | test loss | test accuracy |", "|---:|---:|---:|", ...rows].join("\n");
}

/** The training loss (averaged over windows of `window` steps) and the test loss after each epoch, as a PNG. */
export function lossChart(r: TrainResult, title: string, window = 10): Uint8Array {
  const smoothed: [number, number][] = [];
  for (let i = 0; i + window <= r.trainLoss.length; i += window) {
    const chunk = r.trainLoss.slice(i, i + window);
    smoothed.push([chunk[chunk.length - 1]![0], chunk.reduce((s, [, l]) => s + l, 0) / chunk.length]);
  }
  return lineChartPng({
    title,
    xLabel: "epoch",
    yLabel: "cross-entropy",
    series: [
      { name: `train (mean of ${window} steps)`, points: smoothed.length ? smoothed : r.trainLoss },
      { name: "test (each epoch)", points: r.test.map(([e, l]) => [e, l] as [number, number]) },
    ],
  });
}

/**
 * Maps (M, H, W) scaled each on its own into [0, 1]: "signed": v/(2·max|v|) + ½ — zero is mid-grey, for
 * filters; "positive": max(v, 0)/max v — zero is black, for ReLU outputs. An all-zero map stays at zero's grey.
 */
export function scaleMaps(maps: Tensor, mode: "signed" | "positive"): Tensor {
  const [M, H, W] = maps.shape as [number, number, number];
  const src = maps.storage; // tensors are contiguous row-major
  const out = new Float32Array(M * H * W); // (M, H, W)
  for (let m = 0; m < M; m++) {
    const plane = src.subarray(m * H * W, (m + 1) * H * W);
    let peak = 0;
    for (const v of plane) peak = Math.max(peak, mode === "signed" ? Math.abs(v) : v);
    for (let i = 0; i < H * W; i++) {
      const v = plane[i]!;
      out[m * H * W + i] =
        peak === 0 ? (mode === "signed" ? 0.5 : 0) : mode === "signed" ? v / (2 * peak) + 0.5 : Math.max(0, v) / peak;
    }
  }
  return tensor(out, { shape: [M, H, W] });
}

/** Maps (M, H, W) as a PNG grid of `cols` columns, each map scaled by scaleMaps and magnified `scale` times. */
export function mapsPng(maps: Tensor, cols: number, scale: number, mode: "signed" | "positive"): Uint8Array {
  const M = maps.shape[0]!;
  // white gaps between signed maps (whose zero is grey), grey gaps between positive ones (whose zero is black)
  return imageGridPng(scaleMaps(maps, mode), Math.ceil(M / cols), cols, {
    scale,
    pad: 3,
    background: mode === "signed" ? 255 : 128,
  });
}
