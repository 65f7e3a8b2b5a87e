// Initialisers and every layer's default initialisation. Our generator is not PyTorch's, so values
// cannot agree; the laws must. Every statistical check uses a bound derived from the sample size:
// a sample mean is within 5 standard errors (σ/√n) of the expected one, a sample variance within
// 5·√((μ₄ − σ⁴)/n) (the standard error of the variance, from the 4th central moment); two samples are
// compared with the root-sum-square of their standard errors. A correct sampler fails such a check with
// probability below 1e-6, and every test is seeded, so the outcome is fixed.

import { readFileSync } from "node:fs";
import { test } from "node:test";
import assert from "node:assert/strict";
import * as wnn from "../../src/index.js";
import { assertThrowsWith } from "../harness/assert.js";

const { nn } = wnn;
const { init } = nn;

interface Moments {
  n: number;
  mean: number;
  var: number;
  m4: number;
  min: number;
  max: number;
}

function moments(values: ArrayLike<number>): Moments {
  const n = values.length;
  let s = 0,
    min = Infinity,
    max = -Infinity;
  for (let i = 0; i < n; i++) {
    s += values[i]!;
    min = Math.min(min, values[i]!);
    max = Math.max(max, values[i]!);
  }
  const mean = s / n;
  let v = 0,
    m4 = 0;
  for (let i = 0; i < n; i++) {
    const c = values[i]! - mean;
    v += c * c;
    m4 += c * c * c * c;
  }
  return { n, mean, var: v / n, m4: m4 / n, min, max };
}

/** Checks a sample against the expected mean and variance of its law (μ₄ given by the law). */
function assertLaw(what: string, m: Moments, mean: number, variance: number, m4: number): void {
  const seMean = Math.sqrt(variance / m.n),
    seVar = Math.sqrt((m4 - variance * variance) / m.n);
  assert.ok(Math.abs(m.mean - mean) <= 5 * seMean, `${what}: mean ${m.mean}, expected ${mean} ± ${5 * seMean}`);
  assert.ok(Math.abs(m.var - variance) <= 5 * seVar, `${what}: variance ${m.var}, expected ${variance} ± ${5 * seVar}`);
}

// μ₄ of U(−b, b) is b⁴/5; of N(0, σ²) it is 3σ⁴
const uniformLaw = (b: number) => [0, (b * b) / 3, b ** 4 / 5] as const;
const normalLaw = (s: number) => [0, s * s, 3 * s ** 4] as const;

const N = 20000;
const sample = (shape: number[]) => wnn.zeros(shape);

test("uniform_ and normal_: support and moments", () => {
  const g = new wnn.Generator(11);
  const u = init.uniform_(sample([N]), -0.5, 1.5, { generator: g });
  const m = moments(u.storage);
  assert.ok(m.min >= -0.5 && m.max < 1.5);
  // U(a, b): mean (a+b)/2, variance (b−a)²/12, μ₄ (b−a)⁴/80
  assertLaw("uniform_(-0.5, 1.5)", m, 0.5, 4 / 12, 16 / 80);
  const n = init.normal_(sample([N]), 2, 0.5, { generator: g });
  assertLaw("normal_(2, 0.5)", moments(n.storage), 2, 0.25, 3 * 0.5 ** 4);
  assert.deepEqual([...init.constant_(wnn.zeros([3]), 2.5).storage], [2.5, 2.5, 2.5]);
  assert.deepEqual([...init.ones_(wnn.zeros([2])).storage], [1, 1]);
  assert.deepEqual([...init.zeros_(wnn.ones([2])).storage], [0, 0]);
  assertThrowsWith(() => init.normal_(wnn.zeros([2], { dtype: "int32" })), wnn.DTypeError, /normal_/, /int32/);
});

test("the default generator: seeded by manualSeed, and the same seed gives the same values", () => {
  wnn.manualSeed(5);
  const a = init.normal_(sample([8]));
  wnn.manualSeed(5);
  const b = init.normal_(sample([8]));
  assert.deepEqual([...a.storage], [...b.storage]);
  const c = init.normal_(sample([8]), 0, 1, { generator: new wnn.Generator(5) });
  assert.deepEqual([...a.storage], [...c.storage], "the default generator seeded with 5 equals a Generator(5)");
});

test("truncNormal_: inside [a, b], moments of the truncated normal", () => {
  const t = init.truncNormal_(sample([N]), 0, 1, -2, 2, { generator: new wnn.Generator(12) });
  const m = moments(t.storage);
  assert.ok(m.min >= -2 && m.max <= 2);
  // the law of N(0,1) restricted to [−2, 2]: moments by Simpson's rule on the density φ (a reference computation)
  const phi = (x: number) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
  const integrate = (f: (x: number) => number) => {
    const k = 2000,
      h = 4 / k;
    let s = f(-2) + f(2);
    for (let i = 1; i < k; i++) s += (i % 2 ? 4 : 2) * f(-2 + i * h);
    return (s * h) / 3;
  };
  const z = integrate(phi);
  const variance = integrate((x) => x * x * phi(x)) / z,
    m4 = integrate((x) => x ** 4 * phi(x)) / z;
  assertLaw("truncNormal_", m, 0, variance, m4);
});

test("calculateGain and fans equal PyTorch's", () => {
  const fx = JSON.parse(readFileSync(new URL("../../../test/fixtures/nn_init.json", import.meta.url), "utf8"));
  for (const [name, gain] of Object.entries(fx.gains as Record<string, number>)) {
    assert.ok(Math.abs(init.calculateGain(name as wnn.nn.init.Nonlinearity) - gain) < 1e-12, `gain of ${name}`);
  }
  for (const [a, gain] of fx.leaky_relu_gains as [number, number][])
    assert.ok(Math.abs(init.calculateGain("leaky_relu", a) - gain) < 1e-12);
  for (const { shape, fans } of fx.fans as { shape: number[]; fans: number[] }[])
    assert.deepEqual(init.calculateFanInAndFanOut(wnn.zeros(shape)), fans);
  assertThrowsWith(() => init.calculateFanInAndFanOut(wnn.zeros([4])), wnn.ArgumentError, /fewer than 2 dims/, /\(4\)/);
  assertThrowsWith(() => init.calculateGain("swish" as wnn.nn.init.Nonlinearity), wnn.ArgumentError, /swish/);
});

test("kaiming and xavier: bounds and variances from the fans", () => {
  const g = new wnn.Generator(13);
  const w = sample([40, 25, 3, 3]); // fan_in 225, fan_out 360
  const [fanIn, fanOut] = [225, 360];
  // kaimingUniform_(a = 0, leaky_relu): bound √2·√(3/fan_in)
  let b = Math.SQRT2 * Math.sqrt(3 / fanIn);
  let m = moments(init.kaimingUniform_(w, { generator: g }).storage);
  assert.ok(m.max <= b && m.min >= -b && m.max > 0.995 * b, `kaiming uniform within ±${b}`); // P(max < 0.995b) = 0.995^36000
  assertLaw("kaimingUniform_", m, ...uniformLaw(b));
  // fan_out, tanh
  b = (5 / 3) * Math.sqrt(3 / fanOut);
  m = moments(init.kaimingUniform_(w, { mode: "fan_out", nonlinearity: "tanh", generator: g }).storage);
  assertLaw("kaimingUniform_(fan_out, tanh)", m, ...uniformLaw(b));
  // kaimingNormal_: std = gain/√fan with leaky_relu(a = 0.2)
  const gain = Math.sqrt(2 / (1 + 0.04));
  m = moments(init.kaimingNormal_(w, { a: 0.2, generator: g }).storage);
  assertLaw("kaimingNormal_(a = 0.2)", m, ...normalLaw(gain / Math.sqrt(fanIn)));
  // xavier: a = gain·√(6/(fan_in + fan_out)), std = gain·√(2/(fan_in + fan_out))
  b = 2 * Math.sqrt(6 / (fanIn + fanOut));
  m = moments(init.xavierUniform_(w, { gain: 2, generator: g }).storage);
  assert.ok(m.max <= b && m.min >= -b);
  assertLaw("xavierUniform_(gain 2)", m, ...uniformLaw(b));
  m = moments(init.xavierNormal_(w, { generator: g }).storage);
  assertLaw("xavierNormal_", m, ...normalLaw(Math.sqrt(2 / (fanIn + fanOut))));
});

test("every layer's default initialisation has PyTorch's law (moments of freshly built PyTorch layers)", () => {
  const fx = JSON.parse(readFileSync(new URL("../../../test/fixtures/nn_init.json", import.meta.url), "utf8"));
  const layers = fx.layers as {
    module: string;
    ctor: unknown[];
    opts: Record<string, unknown>;
    params: Record<string, Moments>;
    buffers: Record<string, Moments>;
  }[];
  let seed = 100;
  for (const l of layers) {
    const cls = (nn as unknown as Record<string, new (...a: unknown[]) => wnn.nn.Module>)[l.module]!;
    const m = new cls(...l.ctor, { ...l.opts, generator: new wnn.Generator(seed++) });
    const ours = Object.fromEntries(
      [...m.namedParameters(), ...m.namedBuffers()].map(([n, p]) => [n, moments(p.storage)]),
    );
    const theirs = { ...l.params, ...l.buffers };
    assert.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).map(nn.fromTorchName).sort(), `${l.module}: names`);
    for (const [name, t] of Object.entries(theirs)) {
      const o = ours[nn.fromTorchName(name)]!;
      const what = `${l.module}(${l.ctor.join(", ")}) ${name}`;
      assert.equal(o.n, t.n, `${what}: size`);
      // two samples of one law: the difference of their means and of their variances, within 5 combined standard errors
      const seMean = Math.sqrt(o.var / o.n + t.var / t.n);
      const seVar = Math.sqrt(Math.max(0, o.m4 - o.var ** 2) / o.n + Math.max(0, t.m4 - t.var ** 2) / t.n);
      assert.ok(
        Math.abs(o.mean - t.mean) <= 5 * seMean + 1e-7,
        `${what}: mean ${o.mean} vs PyTorch's ${t.mean} (±${5 * seMean})`,
      );
      assert.ok(
        Math.abs(o.var - t.var) <= 5 * seVar + 1e-7,
        `${what}: variance ${o.var} vs PyTorch's ${t.var} (±${5 * seVar})`,
      );
      // the support of large uniform samples: both maxima are within 1% of the bound (P(miss) ≤ 0.99^n per side)
      if (t.n >= 1000 && t.max - t.min > 0 && t.m4 / t.var ** 2 < 2) {
        assert.ok(
          Math.abs(o.max - t.max) <= 0.01 * t.max && Math.abs(o.min - t.min) <= 0.01 * Math.abs(t.min),
          `${what}: range [${o.min}, ${o.max}] vs PyTorch's [${t.min}, ${t.max}]`,
        );
      }
    }
  }
});
