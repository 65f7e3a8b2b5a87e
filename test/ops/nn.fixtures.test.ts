// PyTorch parity of the nn family: fixtures written by tools/fixtures/ops_nn.py (torch 1.13; rmsNorm
// composed as PyTorch 2.x defines it). batchNorm's running statistics are checked as their own cases
// (batchNormRunningStats); dropout is compared by its statistics, not by PyTorch's random stream.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as wnn from "../../src/index.js";
import { Generator, Tensor } from "../../src/index.js";
import { assertClose } from "../harness/assert.js";
import { fromJson, loadFixtures, replayFixtures, type FixtureCall } from "../harness/fixtures.js";

const F = wnn.nn.functional;

/** A float32 tensor from a {shape, data} object in a case's args. */
function argTensor(a: { shape: number[]; data: number[] }): Tensor {
  return new Tensor(Float32Array.from(a.data), a.shape);
}

/** Split [x, weight?, bias?] by the case's "affine" flags ("wb", "w", ""). */
function affine(inputs: Tensor[], flags: string): [Tensor, Tensor | null, Tensor | null] {
  const rest = inputs.slice(1);
  const w = flags.includes("w") ? rest.shift()! : null;
  const b = flags.includes("b") ? rest.shift()! : null;
  return [inputs[0]!, w, b];
}

const calls: Record<string, FixtureCall> = {
  softmax: ([x], a) => F.softmax(x!, a.dim),
  logSoftmax: ([x], a) => F.logSoftmax(x!, a.dim),
  crossEntropy: ([x, t], a) =>
    F.crossEntropy(x!, t!, { reduction: a.reduction, ignoreIndex: a.ignoreIndex, labelSmoothing: a.labelSmoothing }),
  nllLoss: ([x, t], a) => F.nllLoss(x!, t!, { reduction: a.reduction, ignoreIndex: a.ignoreIndex }),
  mseLoss: ([x, y], a) => F.mseLoss(x!, y!, { reduction: a.reduction }),
  l1Loss: ([x, y], a) => F.l1Loss(x!, y!, { reduction: a.reduction }),
  binaryCrossEntropyWithLogits: ([x, t], a) =>
    F.binaryCrossEntropyWithLogits(x!, t!, {
      reduction: a.reduction,
      posWeight: a.posWeight ? argTensor(a.posWeight) : undefined,
    }),
  layerNorm: (inputs, a) => {
    const [x, w, b] = affine(inputs, a.affine);
    return F.layerNorm(x, a.normalizedShape, w, b, a.eps);
  },
  rmsNorm: (inputs, a) => {
    const [x, w] = affine(inputs, a.affine);
    return F.rmsNorm(x, a.normalizedShape, w, a.eps);
  },
  groupNorm: (inputs, a) => {
    const [x, w, b] = affine(inputs, a.affine);
    return F.groupNorm(x, a.numGroups, w, b, a.eps);
  },
  batchNorm: (inputs, a) => {
    const [x, w, b] = affine(inputs, a.affine);
    return F.batchNorm(x, argTensor(a.runningMean), argTensor(a.runningVar), w, b, a.training, a.momentum, a.eps);
  },
  // one training step, then the running statistics it left behind (updated in place)
  batchNormRunningStats: ([x, rm, rv, ...p], a) => {
    const [, w, b] = affine([x!, ...p], a.affine);
    F.batchNorm(x!, rm!, rv!, w, b, true, a.momentum, a.eps);
    return [rm!, rv!];
  },
  linear: ([x, w, b]) => F.linear(x!, w!, b ?? null),
};

replayFixtures("ops/nn.json", calls, () => ({ rtol: 1e-4, atol: 1e-4 }));

test("every nn op has a PyTorch fixture case", () => {
  const ops = new Set(loadFixtures("ops/nn.json").map((c) => c.op));
  for (const name of Object.keys(calls)) assert.ok(ops.has(name), `no fixture case for ${name}`);
  assert.equal(loadFixtures("ops/nn_dropout.json").length > 0, true);
});

// ---------------------------------------------------------------------------------------------------
// dropout: both PyTorch's output and ours must keep about 1 − p of the values (within 5 standard
// deviations of the binomial), scale the kept ones by exactly 1/(1 − p), and backpropagate the same mask.

/** Check one dropout result: returns the keep rate. */
function checkDropout(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  dy: ArrayLike<number>,
  dx: ArrayLike<number>,
  p: number,
  who: string,
): number {
  const scale = Math.fround(1 / (1 - p));
  let kept = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] === 0) {
      assert.ok(dx[i] === 0, `${who}: a dropped element must get no gradient, got ${dx[i]}`);
      continue;
    }
    kept++;
    assertClose([y[i]!], [x[i]! * scale], { rtol: 1e-6, atol: 0 }, `${who}: kept value ${i}`);
    assertClose([dx[i]!], [dy[i]! * scale], { rtol: 1e-6, atol: 0 }, `${who}: gradient ${i}`);
  }
  const n = y.length,
    rate = kept / n;
  const sd = Math.sqrt((p * (1 - p)) / n);
  assert.ok(Math.abs(rate - (1 - p)) < 5 * sd, `${who}: keep rate ${rate}, expected ${1 - p} ± ${5 * sd}`);
  return rate;
}

test("dropout statistics match PyTorch's (keep rate, scaling, backward mask)", async (t) => {
  for (const c of loadFixtures("ops/nn_dropout.json")) {
    await t.test(c.label, () => {
      const p = c.args.p as number;
      const x = fromJson(c.inputs[0]!),
        dy = fromJson(c.grad_outputs[0]!);
      // PyTorch's own result obeys the statistics (a check that the fixture means what we think) ...
      checkDropout(x.storage, fromJson(c.outputs[0]!).storage, dy.storage, fromJson(c.grads[0]!).storage, p, "PyTorch");
      // ... and so does ours, for a few seeds.
      for (const seed of [0, 1, 2]) {
        const xs = fromJson(c.inputs[0]!, true);
        const y = F.dropout(xs, p, true, { generator: new Generator(seed) });
        y.backward(dy);
        checkDropout(xs.storage, y.storage, dy.storage, xs.grad!.storage, p, `ours, seed ${seed}`);
      }
    });
  }
});
