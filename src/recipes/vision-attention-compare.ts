// wnn train vision-attention-compare: the three ways attention entered convolutional networks, and
// attention replacing convolution, on the same digits and budget:
//   ResNet-8 (src/models/resnet, no attention), SE-ResNet (channels re-weighted, src/models/senet), CBAM
//   (channels, then places re-weighted, src/models/cbam), a non-local ResNet (places attending to places,
//   src/models/non-local) and a ViT (attention between patches, no convolution, src/models/vit),
//   each of about 20,000 parameters.
// The protocol, one for all: the same training digits in the same seeded order (a new permutation every
// pass), `steps` minibatches of `batchSize`, Adam with a cosine decay of the learning rate to 0 over the
// steps (the lr of each model's recipe: 1e-2 for the ResNets, as `wnn train resnet`; for the ViT --vit_lr, 3e-3 by default), the
// weights drawn from the same seed; accuracy and loss on the test digits in eval mode. Time per step is
// measured over the training steps alone (forward, backward, update), as the process's CPU time (user +
// system, src/recipes/clock.ts: on a shared machine the wall time measures the contention) and as wall time.
// Each contender is a job of the shared training loop (src/recipes/loop.ts). On N data-parallel workers
// (--workers N) each trains on its rows of every minibatch; the ResNets' BatchNorms normalize by the statistics of
// every worker's rows together (synchronized: forwardOnRows), so that the losses are one process's.
// Two tasks: the mnist package's digits as they are (canvas 0: 8,000 train / 2,000 test, 28×28), and the
// harder one (canvas S > 28): the same digits at random places of an S×S canvas with clutter from other
// digits (src/data/cluttered-digits.ts), where the digit must first be found.
// Outputs: the comparison table, the loss curves, and the pictures of where each attention looks — CBAM's
// spatial gates, the non-local attention of one query place, the ViT's attention rollout from the class token.
//
// Vocabulary (shape comments): B batch, S the image side, K classes.

import {
  driverFor,
  evaluateWhole,
  forwardOnRows,
  rowsOf,
  wholeModel,
  type DataParallelHook,
  type Part,
  type StepDriver,
} from "./data-parallel-job.js";
import { tensor, zeros } from "../engine/creation.js";
import { inMetaExecution } from "../engine/meta.js";
import { ArgumentError } from "../engine/errors.js";
import { Generator } from "../engine/rng.js";
import type { Tensor } from "../engine/tensor.js";
import { evaluating } from "../nn/module.js";
import * as F from "../nn/functional.js";
import { imageGridPng, lineChartPng } from "../io/chart.js";
import { Adam } from "../optim/adam.js";
import { CosineAnnealingLR, CosineWithWarmupLR } from "../optim/schedulers.js";
import { clutteredDigits, type ImageSplit } from "../data/cluttered-digits.js";
import type { Architecture } from "../models/architecture.js";
import type { Recipe, RecipeData, RecipeHooks, RecipeResult } from "./recipe.js";
import { runLoopSync, type TrainingJob } from "./loop.js";
import { timed } from "./clock.js";
import { permutation, takeSplit, type ImageClassifier } from "./mnist.js";
import * as resnet from "../models/resnet/model.js";
import * as senet from "../models/senet/model.js";
import * as cbam from "../models/cbam/model.js";
import * as nonLocal from "../models/non-local/model.js";
import * as vit from "../models/vit/model.js";

export interface VisionAttentionOptions extends Record<string, number | string | boolean> {
  steps: number;
  batchSize: number;
  /** 0: the digits as they are (28×28); S > 28: each digit at a random place of an S×S canvas with clutter (S a multiple of 4) */
  canvas: number;
  /** clutter pieces (8×8 crops of other digits) per canvas when canvas > 0 */
  clutter: number;
  /** the models to train, comma-separated keys of CONTENDERS (default: all five) */
  models: string;
  /** the ViT's Adam learning rate (the ResNets keep their recipe's 1e-2) */
  vitLr: number;
  /** the ViT's linear warmup in steps before the cosine decay (0: none, the cosine from the first step as the ResNets) */
  vitWarmup: number;
  /** use only the first trainLimit training / testLimit test digits (0: all) */
  trainLimit: number;
  testLimit: number;
  seed: number;
}

/** One contender: its key, its name in the table, how it is built for images of side S, its lr, its architecture. */
export interface Contender {
  key: string;
  name: string;
  lr: number;
  build(side: number, generator: Generator): ImageClassifier;
  describe(side: number): Architecture;
}

export const CONTENDERS: readonly Contender[] = [
  {
    key: "resnet",
    name: "ResNet-8",
    lr: 1e-2,
    build: (_, g) => new resnet.ResNet(resnet.resnetConfig("resnet-mnist-small"), { generator: g }),
    describe: (side) => resnet.describe(resnet.resnetConfig("resnet-mnist-small"), side),
  },
  {
    key: "se",
    name: "SE-ResNet-8",
    lr: 1e-2,
    build: (_, g) => new senet.SEResNet(senet.seResNetConfig("se-resnet"), { generator: g }),
    describe: (side) => senet.describe(senet.seResNetConfig("se-resnet"), side),
  },
  {
    key: "cbam",
    name: "CBAM-ResNet-8",
    lr: 1e-2,
    build: (_, g) => new cbam.CBAMResNet(cbam.cbamResNetConfig("cbam-resnet"), { generator: g }),
    describe: (side) => cbam.describe(cbam.cbamResNetConfig("cbam-resnet"), side),
  },
  {
    key: "non-local",
    name: "Non-local ResNet-8",
    lr: 1e-2,
    build: (_, g) => new nonLocal.NonLocalResNet(nonLocal.nonLocalResNetConfig("nonlocal-resnet"), { generator: g }),
    describe: (side) => nonLocal.describe(nonLocal.nonLocalResNetConfig("nonlocal-resnet"), side),
  },
  {
    key: "vit",
    name: "ViT (patch 4)",
    lr: 3e-3, // the default of the recipe's vitLr
    build: (side, g) => new vit.ViT(vit.vitConfig("vit-mnist", { imageSize: side }), { generator: g }),
    describe: (side) => vit.describe(vit.vitConfig("vit-mnist", { imageSize: side })),
  },
];

// =====================================================================================================
// Data: batches of square images of any side

/** Images order[start…start+B) of a split → x (B, 1, S, S), y (B). */
export function imageBatch(
  split: ImageSplit,
  order: ArrayLike<number>,
  start: number,
  size: number,
): { x: Tensor; y: Tensor } {
  const P = split.side * split.side;
  const B = Math.min(size, order.length - start);
  const S = split.side;
  // shape-only (a memory estimate, src/engine/meta.ts): the batch's shapes, nothing copied
  if (inMetaExecution()) return { x: zeros([B, 1, S, S]), y: zeros([B], { dtype: "int32" }) };
  const images = new Float32Array(B * P),
    labels = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const i = order[start + b]!;
    images.set(split.images.subarray(i * P, (i + 1) * P), b * P);
    labels[b] = split.labels[i]!;
  }
  return { x: tensor(images, { shape: [B, 1, split.side, split.side] }), y: tensor(labels, { shape: [B] }) };
}

/** Accuracy and mean cross-entropy on a split, in eval mode, without gradients; one batch per `next()`. */
export function* evaluateImagesSteps(
  model: ImageClassifier,
  split: ImageSplit,
  batchSize = 250,
): globalThis.Generator<void, { accuracy: number; loss: number }, void> {
  const order = Int32Array.from({ length: split.count }, (_, i) => i);
  let correct = 0,
    lossSum = 0;
  for (let start = 0; start < split.count; start += batchSize) {
    evaluating(model, () => {
      const { x, y } = imageBatch(split, order, start, batchSize);
      const logits = model.forward(x); // (B, K)
      lossSum += F.crossEntropy(logits, y, { reduction: "sum" }).item();
      const pred = logits.argmax(1);
      for (let b = 0; b < y.numel(); b++) if (pred.storage[b] === y.storage[b]) correct++;
    });
    yield;
  }
  return { accuracy: correct / split.count, loss: lossSum / split.count };
}

/** The same, to the end in one call. */
export function evaluateImages(
  model: ImageClassifier,
  split: ImageSplit,
  batchSize = 250,
): { accuracy: number; loss: number } {
  const it = evaluateImagesSteps(model, split, batchSize);
  for (let r = it.next(); ; r = it.next()) if (r.done) return r.value;
}

export interface RunResult {
  contender: Contender;
  model: ImageClassifier;
  parameters: number;
  flops: number;
  /** the training steps' wall time and the process's CPU time over them (user + system, all threads), in ms */
  time: { wallMs: number; cpuMs: number };
  curve: [number, number][];
  accuracy: number;
  loss: number;
}

/** The learning rate of a contender and its schedule: cosine to 0 over the steps, after a linear warmup for the ViT if asked. */
function schedule(c: Contender, optimizer: Adam, o: VisionAttentionOptions): CosineAnnealingLR | CosineWithWarmupLR {
  const lr = c.key === "vit" ? o.vitLr : c.lr;
  if (c.key === "vit" && o.vitWarmup > 0)
    return new CosineWithWarmupLR(optimizer, { warmupIters: o.vitWarmup, lrDecayIters: o.steps, maxLr: lr, minLr: 0 });
  return new CosineAnnealingLR(optimizer, { tMax: o.steps });
}

/**
 * One contender's training as a job of the shared loop (src/recipes/loop.ts): a step is one minibatch
 * (forward, backward, update), timed in wall and CPU time; the evaluation on the test images runs once,
 * after the last step.
 */
class ContenderJob implements TrainingJob<{ loss: number }, { accuracy: number; loss: number }> {
  step = 0;
  readonly totalSteps: number;
  readonly model: ImageClassifier;
  readonly time = { wallMs: 0, cpuMs: 0 };
  result: { accuracy: number; loss: number } | null = null;
  private readonly optimizer: Adam;
  private readonly scheduler: CosineAnnealingLR | CosineWithWarmupLR;
  private readonly g: Generator;
  private order: Int32Array;
  private at = 0;
  /** one process, or this worker's of N, and its rows of every minibatch */
  readonly driver: StepDriver;
  private readonly part: Part;

  constructor(
    readonly c: Contender,
    private readonly train: ImageSplit,
    private readonly test: ImageSplit,
    private readonly o: VisionAttentionOptions,
    dataParallel?: DataParallelHook,
  ) {
    this.totalSteps = o.steps;
    this.model = c.build(train.side, new Generator(o.seed));
    this.optimizer = new Adam(this.model.parameters(), { lr: c.key === "vit" ? o.vitLr : c.lr });
    this.scheduler = schedule(c, this.optimizer, o);
    ({ driver: this.driver, part: this.part } = driverFor(this.model, this.optimizer, dataParallel));
    rowsOf(o.batchSize, this.part); // splits evenly, or says so
    this.g = new Generator(o.seed + 1); // the order of the digits: the same for every contender
    this.order = permutation(train.count, this.g);
    this.model.train();
  }

  trainStep(): { loss: number } {
    const loss = timed(this.time, () => {
      if (this.at + this.o.batchSize > this.train.count)
        [this.order, this.at] = [permutation(this.train.count, this.g), 0];
      // with N workers, this one's rows of the minibatch: the mean of their means over B/N images is the batch's
      const { start, count } = rowsOf(this.o.batchSize, this.part);
      const { x, y } = imageBatch(this.train, this.order, this.at + start, count); // (B/N, 1, S, S), (B/N)
      this.at += this.o.batchSize;
      // BatchNorm: the statistics of every worker's rows together; dropout: one process's masks (forwardOnRows)
      const loss = forwardOnRows(this.driver, this.part, () => F.crossEntropy(this.model.forward(x), y)); // ()
      const value = this.driver.mean(loss.item());
      loss.backward();
      this.driver.reduceGradients();
      this.driver.step(); // the optimizer, then zeroGrad (sharded: with the lr the scheduler set)
      this.scheduler.step();
      return value;
    });
    this.step++;
    return { loss };
  }

  evalDue(): boolean {
    return this.step === this.totalSteps && this.result === null;
  }

  *evaluate(): globalThis.Generator<void, { accuracy: number; loss: number }, void> {
    this.result = yield* evaluateWhole(this.driver, evaluateImagesSteps(this.model, this.test));
    return this.result;
  }
}

/** Train one contender with the protocol at the top of this file. */
export function trainContender(
  c: Contender,
  train: ImageSplit,
  test: ImageSplit,
  o: VisionAttentionOptions,
  hooks: RecipeHooks,
): RunResult {
  const job = new ContenderJob(c, train, test, o, hooks.dataParallel);
  const curve: [number, number][] = [];
  const every = Math.max(1, Math.ceil(o.steps / 5));
  let window = 0;
  runLoopSync(job, {
    onStep: (step, { loss: l }) => {
      window += l;
      hooks.progress?.(step, o.steps, { loss: l });
      if (step % every === 0 || step === o.steps) {
        const n = step % every === 0 ? every : step % every;
        curve.push([step, window / n]);
        window = 0;
        hooks.log(
          `  ${c.name}: step ${step}/${o.steps} loss ${l.toFixed(4)} (${(job.time.wallMs / 1000).toFixed(1)} s wall, ${(job.time.cpuMs / 1000).toFixed(1)} s CPU)`,
        );
      }
    },
  });
  wholeModel(job.driver, job.model); // with workers: the whole trained parameters back in the model (the pictures)
  const { accuracy, loss } = job.result!;
  hooks.log(
    `${c.name}: test accuracy ${(100 * accuracy).toFixed(2)}%, test loss ${loss.toFixed(4)} (${test.count} images), ${(job.time.cpuMs / o.steps).toFixed(0)} CPU ms/step, ${(job.time.wallMs / o.steps).toFixed(0)} wall ms/step`,
  );
  return {
    contender: c,
    model: job.model,
    parameters: job.model.numParameters(),
    flops: c.describe(train.side).flops.value,
    time: job.time,
    curve,
    accuracy,
    loss,
  };
}

/** The comparison table in markdown; time per step is the process's CPU time (user + system) over the training steps. */
export function compareTable(rows: readonly RunResult[], steps: number): string {
  return [
    "| model | parameters | forward FLOPs / image | CPU ms / step | test accuracy | test loss |",
    "|---|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.contender.name} | ${r.parameters.toLocaleString("en-US")} | ${r.flops.toLocaleString("en-US")} | ${(r.time.cpuMs / steps).toFixed(0)} | ${(100 * r.accuracy).toFixed(2)}% | ${r.loss.toFixed(4)} |`,
    ),
  ].join("\n");
}

// =====================================================================================================
// Pictures: where each attention looks

/** A (h, w) map, scaled to [0, 1] by its maximum, enlarged to (h·f, w·f) by repeating pixels. */
function enlarge(map: Float32Array, h: number, w: number, f: number): Tensor {
  let peak = 0;
  for (const v of map) peak = Math.max(peak, v);
  const out = new Float32Array(h * f * w * f);
  for (let y = 0; y < h * f; y++)
    for (let x = 0; x < w * f; x++)
      out[y * w * f + x] = peak > 0 ? map[Math.floor(y / f) * w + Math.floor(x / f)]! / peak : 0;
  return tensor(out, { shape: [h * f, w * f] });
}

/** Row b of a batch of images (B, 1, S, S) as an (S, S) tensor. */
const imageOf = (x: Tensor, b: number): Tensor => x.narrow(0, b, 1).reshape([x.shape[2]!, x.shape[3]!]);

/** CBAM: each digit, then the spatial gate M_s of every block (one column per stage, enlarged to S×S). */
export function cbamPicture(model: cbam.CBAMResNet, x: Tensor): Uint8Array {
  const S = x.shape[2]!,
    B = x.shape[0]!;
  const maps = evaluating(model, () => model.spatialMaps(x)); // (B, 1, H_i, W_i) each
  const cells: Tensor[] = [];
  for (let b = 0; b < B; b++) {
    cells.push(imageOf(x, b));
    for (const m of maps) {
      const side = m.shape[2]!;
      cells.push(enlarge(m.narrow(0, b, 1).dataSync() as Float32Array, side, side, S / side));
    }
  }
  return imageGridPng(cells, B, maps.length + 1, { scale: 3, pad: 3, background: 128 });
}

/**
 * Non-local: each digit with the query place marked (a grey square), then the attention β of that place
 * over all places of the map. The query is the map place whose S/side × S/side window of the digit is brightest.
 */
export function nonLocalPicture(model: nonLocal.NonLocalResNet, x: Tensor): Uint8Array {
  const S = x.shape[2]!,
    B = x.shape[0]!;
  const { side, beta } = evaluating(model, () => model.attentionMaps(x))[0]!; // β (B, P, P)
  const f = S / side,
    P = side * side;
  const cells: Tensor[] = [];
  for (let b = 0; b < B; b++) {
    const img = Float32Array.from(imageOf(x, b).dataSync() as Float32Array);
    let best = 0,
      bestSum = -1;
    for (let q = 0; q < P; q++) {
      const qy = Math.floor(q / side),
        qx = q % side;
      let sum = 0;
      for (let y = 0; y < f; y++) for (let xx = 0; xx < f; xx++) sum += img[(qy * f + y) * S + qx * f + xx]!;
      if (sum > bestSum) [best, bestSum] = [q, sum];
    }
    const qy = Math.floor(best / side),
      qx = best % side;
    const marked = Float32Array.from(img);
    for (let y = 0; y < f; y++) for (let xx = 0; xx < f; xx++) marked[(qy * f + y) * S + qx * f + xx] = 0.5;
    cells.push(tensor(img, { shape: [S, S] }), tensor(marked, { shape: [S, S] }));
    const row = beta.narrow(0, b, 1).narrow(1, best, 1).dataSync() as Float32Array; // β_{best, ·} (P)
    cells.push(enlarge(row, side, side, f));
  }
  return imageGridPng(cells, B, 3, { scale: 3, pad: 3, background: 128 });
}

/** ViT: each digit, then the attention rollout from the class token over the patches, enlarged to S×S. */
export function vitPicture(model: vit.ViT, x: Tensor): Uint8Array {
  const S = x.shape[2]!,
    B = x.shape[0]!,
    P = model.config.patchSize,
    side = S / P;
  const r = evaluating(model, () => vit.rollout(model.attentionMaps(x))); // (B, N_p)
  const cells: Tensor[] = [];
  for (let b = 0; b < B; b++)
    cells.push(imageOf(x, b), enlarge(r.narrow(0, b, 1).dataSync() as Float32Array, side, side, P));
  return imageGridPng(cells, B, 2, { scale: 3, pad: 3, background: 128 });
}

// =====================================================================================================
// The recipe

export const visionAttentionCompareRecipe: Recipe<VisionAttentionOptions> = {
  name: "vision-attention-compare",
  paper:
    "He et al. 2016 (ResNet); Hu et al. 2018 (SE-Net); Woo et al. 2018 (CBAM); Wang et al. 2018 and Zhang et al. 2019 (non-local / self-attention); Dosovitskiy et al. 2021 (ViT)",
  trainsOn:
    "MNIST digits (the mnist package: 8,000 train / 2,000 test), as they are or cluttered on a larger canvas; five models, one budget",
  needs: ["mnist"],
  dataParallel: true, // each model on N workers, each on its rows of every minibatch (BatchNorms synchronized)
  defaults: Object.freeze({
    steps: 250,
    batchSize: 64,
    canvas: 0,
    clutter: 4,
    models: CONTENDERS.map((c) => c.key).join(","),
    vitLr: 3e-3,
    vitWarmup: 0,
    trainLimit: 0,
    testLimit: 0,
    seed: 0,
  }),
  bounds: { canvas: { min: 0, max: 256 } }, // a canvas side (0: none), not a size to scale by 16

  run(options: VisionAttentionOptions, data: RecipeData, hooks: RecipeHooks, _generator: Generator): RecipeResult {
    const o = { ...this.defaults, ...options };
    if (!data.mnist)
      throw new ArgumentError("vision-attention-compare: needs data.mnist (loadMnist() from writtingnns/node)");
    for (const key of ["steps", "batchSize"] as const) {
      if (!(Number.isInteger(o[key]) && o[key] >= 1))
        throw new ArgumentError(`vision-attention-compare: ${key} must be a positive integer, got ${o[key]}`);
    }
    if (!(o.canvas === 0 || (Number.isInteger(o.canvas) && o.canvas > 28 && o.canvas % 4 === 0))) {
      throw new ArgumentError(
        `vision-attention-compare: canvas must be 0 (the digits as they are) or a multiple of 4 above 28 (the ViT's patches), got ${o.canvas}`,
      );
    }
    const keys = String(o.models)
      .split(",")
      .map((k) => k.trim())
      .filter((k) => k);
    const chosen = keys.map((k) => {
      const c = CONTENDERS.find((x) => x.key === k);
      if (!c)
        throw new ArgumentError(
          `vision-attention-compare: unknown model "${k}"; the models are ${CONTENDERS.map((x) => x.key).join(", ")}`,
        );
      return c;
    });
    if (chosen.length === 0) throw new ArgumentError("vision-attention-compare: no models to train");
    const trainDigits = takeSplit(data.mnist.train, o.trainLimit, "train");
    const testDigits = takeSplit(data.mnist.test, o.testLimit, "test");
    // the images: the digits as they are, or cluttered on a canvas (the test canvases from their own seed)
    const [train, test]: ImageSplit[] =
      o.canvas === 0
        ? [
            { ...trainDigits, side: 28 },
            { ...testDigits, side: 28 },
          ]
        : [
            clutteredDigits(trainDigits, { side: o.canvas, pieces: o.clutter, generator: new Generator(o.seed + 100) }),
            clutteredDigits(testDigits, { side: o.canvas, pieces: o.clutter, generator: new Generator(o.seed + 200) }),
          ];
    const task =
      o.canvas === 0 ? "digits (28×28)" : `cluttered digits (${o.canvas}×${o.canvas}, ${o.clutter} pieces of clutter)`;
    hooks.log(
      `vision-attention-compare: ${task}; ${train!.count} training and ${test!.count} test images; ${o.steps} steps of ${o.batchSize}`,
    );

    const rows = chosen.map((c) => trainContender(c, train!, test!, o, hooks));

    // the pictures, on the first 4 test images
    const shown = imageBatch(
      test!,
      Int32Array.from({ length: Math.min(4, test!.count) }, (_, i) => i),
      0,
      4,
    ).x; // (4, 1, S, S)
    const images: Record<string, Uint8Array> = {
      "loss.png": lineChartPng({
        title: `${task.replace(/×/g, "x")}: training loss (mean over ${Math.ceil(o.steps / 5)} steps)`,
        xLabel: "step",
        yLabel: "cross-entropy", // the chart font is ASCII
        series: rows.map((r) => ({ name: r.contender.name, points: r.curve })),
      }),
    };
    for (const r of rows) {
      if (r.model instanceof cbam.CBAMResNet) images["cbam-spatial.png"] = cbamPicture(r.model, shown);
      if (r.model instanceof nonLocal.NonLocalResNet)
        images["nonlocal-attention.png"] = nonLocalPicture(r.model, shown);
      if (r.model instanceof vit.ViT) images["vit-rollout.png"] = vitPicture(r.model, shown);
    }
    const metrics: Record<string, number> = {
      steps: o.steps,
      batchSize: o.batchSize,
      side: train!.side,
      trainCount: train!.count,
      testCount: test!.count,
    };
    for (const r of rows) {
      metrics[`${r.contender.key}.testAccuracy`] = r.accuracy;
      metrics[`${r.contender.key}.testLoss`] = r.loss;
      metrics[`${r.contender.key}.cpuMsPerStep`] = r.time.cpuMs / o.steps;
      metrics[`${r.contender.key}.wallMsPerStep`] = r.time.wallMs / o.steps;
      metrics[`${r.contender.key}.parameters`] = r.parameters;
      metrics[`${r.contender.key}.flops`] = r.flops;
      for (const [step, loss] of r.curve) metrics[`${r.contender.key}.trainLoss@${step}`] = loss; // the loss curve, for merging runs
    }
    return { metrics, tables: { "vision-attention-compare.md": compareTable(rows, o.steps) }, images };
  },
};
