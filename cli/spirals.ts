// A 2-layer MLP on a seeded 3-arm spiral: the smallest real training run of the engine.
//
//   h = tanh(x·W1ᵀ + b1)      x (N, 2), W1 (H, 2)
//   logits = h·W2ᵀ + b2       W2 (C, H)
//   loss = crossEntropy(logits, y)
// trained full-batch with plain gradient descent: p ← p − lr·∂loss/∂p.

import * as wnn from "../src/index.js";

const F = wnn.nn.functional;

export interface SpiralOptions {
  steps: number;
  hidden: number;
  lr: number;
  seed: number;
  every: number;
  log: (line: string) => void;
}

/** K arms of N points each: radius grows from 0 to 1 along an arm, angle 4 radians plus noise. */
export function makeSpirals(n: number, k: number, generator: wnn.Generator): { x: wnn.Tensor; y: wnn.Tensor } {
  const xs = new Float32Array(n * k * 2);
  const ys = new Int32Array(n * k);
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < n; i++) {
      const r = i / (n - 1);
      const t = c * 4 + (4 * i) / (n - 1) + 0.2 * generator.normal();
      const p = c * n + i;
      xs[2 * p] = r * Math.sin(t);
      xs[2 * p + 1] = r * Math.cos(t);
      ys[p] = c;
    }
  }
  return { x: wnn.tensor(xs, { shape: [n * k, 2] }), y: wnn.tensor(ys) };
}

/** W1 (H, 2), b1 (H), W2 (3, H), b2 (3) */
export function spiralParameterCount(hidden: number): number {
  return hidden * 2 + hidden + 3 * hidden + 3;
}

export function trainSpirals(o: SpiralOptions): { loss: number; accuracy: number } {
  const g = new wnn.Generator(o.seed);
  const { x, y } = makeSpirals(100, 3, g); // x (300, 2), y (300)
  // PyTorch's default Linear init: U(−1/√fan_in, 1/√fan_in)
  const uniform = (shape: number[], fanIn: number): wnn.Tensor =>
    wnn
      .rand(shape, { generator: g })
      .mul(2 / Math.sqrt(fanIn))
      .sub(1 / Math.sqrt(fanIn))
      .detach()
      .requiresGrad_();
  const W1 = uniform([o.hidden, 2], 2),
    b1 = uniform([o.hidden], 2);
  const W2 = uniform([3, o.hidden], o.hidden),
    b2 = uniform([3], o.hidden);
  const params = [W1, b1, W2, b2];

  const forward = (): wnn.Tensor => F.linear(F.tanh(F.linear(x, W1, b1)), W2, b2); // (300, 3)
  const accuracy = (): number => wnn.noGrad(() => forward().argmax(1).eq(y).float().mean().item());

  const start = performance.now();
  let loss = NaN;
  o.log(
    `training a 2-layer MLP (2 → ${o.hidden} → 3, tanh) on 300 spiral points, ${o.steps} steps of gradient descent, lr ${o.lr}`,
  );
  for (let step = 1; step <= o.steps; step++) {
    const l = F.crossEntropy(forward(), y);
    for (const p of params) p.grad = null;
    l.backward();
    wnn.noGrad(() => {
      for (const p of params) {
        const w = p.storage,
          d = p.grad!.storage;
        for (let i = 0; i < w.length; i++) w[i] = w[i]! - o.lr * d[i]!;
      }
    });
    loss = l.item();
    if (step % o.every === 0 || step === o.steps) {
      o.log(`step ${String(step).padStart(5)}  loss ${loss.toFixed(4)}  accuracy ${(100 * accuracy()).toFixed(1)}%`);
    }
  }
  const acc = accuracy();
  o.log(
    `done in ${((performance.now() - start) / 1000).toFixed(1)} s: loss ${loss.toFixed(4)}, training accuracy ${(100 * acc).toFixed(1)}%`,
  );
  return { loss, accuracy: acc };
}
