// DDPM / DDIM and the U-Net: the schedules, q(x_t | x_0), one DDPM and one DDIM step (ε and v) and two tiny
// U-Nets (class-conditional with self-attention; cross-attention to a context) against the PyTorch reference
// (tools/fixtures/ddpm.py); guidance; a seeded sampler reproducible bit for bit; overfitting one batch; the
// trainer's checkpoint and resume; bad input.

import { readFileSync } from "../../../test/harness/files.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError, Generator, noGrad, randn, ShapeError, tensor, type Tensor } from "../../index.js";
import { assertClose, assertThrowsWith } from "../../../test/harness/assert.js";
import { fromJson, type TensorJson } from "../../../test/harness/fixtures.js";
import { syntheticDigits } from "../../../test/harness/digits.js";
import { parseCheckpoint, serializeCheckpoint } from "../../io/checkpoint.js";
import { Adam } from "../../optim/adam.js";
import * as F from "../../nn/functional.js";
import {
  ddimStep,
  ddimTimesteps,
  ddpmStep,
  guided,
  qSample,
  sample,
  Schedule,
  target,
  type Denoiser,
} from "./diffusion.js";
import { frechetDistance } from "./quality.js";
import { classDenoiser, DDPMTrainer, loadDDPM } from "./train.js";
import { PRESETS, UNet, unetConfig, type UNetConfig } from "./unet.js";

interface UNetCase {
  config: UNetConfig;
  state: Record<string, TensorJson>;
  x: TensorJson;
  t: number[];
  y?: TensorJson;
  context?: TensorJson;
  target: TensorJson;
  out: TensorJson;
  loss: number;
  grads: Record<string, TensorJson>;
  param_count: number;
}

interface StepCase {
  kind: "ddpm" | "ddim";
  schedule: "linear" | "cosine";
  t: number;
  t_prev?: number;
  eta?: number;
  prediction?: "epsilon" | "v";
  expected: TensorJson;
}

interface DdpmFixture {
  timesteps: number;
  at: number[];
  schedules: Record<"linear" | "cosine", { betas: number[]; alphas_cumprod: number[]; posterior_variance: number[] }>;
  q_sample: { x0: TensorJson; noise: TensorJson; t: number[]; xt: TensorJson; v: TensorJson };
  steps: { xt: TensorJson; out: TensorJson; z: TensorJson; cases: StepCase[] };
  unets: UNetCase[];
  preset_counts: Record<keyof typeof PRESETS, number>;
}

const fx = JSON.parse(
  readFileSync(new URL("../../../../test/fixtures/models/ddpm.json", import.meta.url), "utf8"),
) as DdpmFixture;
const STEP = { atol: 2e-6, rtol: 1e-5 };

// -----------------------------------------------------------------------------------------------------
// The schedules and the steps

test("the linear and cosine schedules match PyTorch: β_t, ᾱ_t and the posterior variance β̃_t", () => {
  for (const name of ["linear", "cosine"] as const) {
    const s = new Schedule({ schedule: name, timesteps: fx.timesteps });
    const ref = fx.schedules[name];
    fx.at.forEach((t, i) => {
      for (const [ours, theirs, what] of [
        [s.betas[t]!, ref.betas[i]!, "β"],
        [s.alphasCumprod[t]!, ref.alphas_cumprod[i]!, "ᾱ"],
        [s.posteriorVariance[t]!, ref.posterior_variance[i]!, "β̃"],
      ] as const) {
        assert.ok(
          Math.abs(ours - theirs) <= 1e-12 + 1e-9 * Math.abs(theirs),
          `${name} ${what}_${t}: ${ours} vs ${theirs}`,
        );
      }
    });
  }
});

test("q(x_t | x_0) in closed form and the v target match PyTorch", () => {
  const s = new Schedule();
  const q = fx.q_sample;
  const x0 = fromJson(q.x0),
    noise = fromJson(q.noise);
  assertClose(qSample(s, x0, q.t, noise), fromJson(q.xt), STEP, "x_t");
  assertClose(target(new Schedule({ prediction: "v" }), x0, q.t, noise), fromJson(q.v), STEP, "v");
  assert.equal(target(s, x0, q.t, noise), noise, "ε-prediction regresses the noise itself");
});

test("one DDPM step and one DDIM step (η 0, 0.5, 1; ε and v) match PyTorch", () => {
  const xt = fromJson(fx.steps.xt),
    out = fromJson(fx.steps.out),
    z = fromJson(fx.steps.z);
  for (const c of fx.steps.cases) {
    const s = new Schedule({ schedule: c.schedule, prediction: c.prediction ?? "epsilon" });
    const got = c.kind === "ddpm" ? ddpmStep(s, xt, c.t, out, z) : ddimStep(s, xt, c.t, c.t_prev!, out, c.eta!, z);
    assertClose(got, fromJson(c.expected), STEP, `${c.kind} ${c.schedule} t=${c.t}`);
  }
});

test("DDIM's timesteps: evenly spaced from T − T/steps down to 0", () => {
  assert.deepEqual(ddimTimesteps(1000, 10), [900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
  assert.deepEqual(ddimTimesteps(1000, 1000).slice(0, 3), [999, 998, 997]);
  assertThrowsWith(() => ddimTimesteps(1000, 0), ArgumentError, /steps/);
  assertThrowsWith(() => ddimTimesteps(10, 11), ArgumentError, /steps/);
});

// -----------------------------------------------------------------------------------------------------
// The U-Net

function fixtureUNet(c: UNetCase): UNet {
  const model = new UNet(unetConfig(c.config), { generator: new Generator(0) });
  const state = Object.fromEntries(Object.entries(c.state).map(([k, v]) => [k, fromJson(v)]));
  assert.deepEqual(
    Object.keys(model.stateDict()).sort(),
    Object.keys(state).sort(),
    "the same parameter names as the reference",
  );
  model.loadStateDict(state);
  return model;
}

for (const [i, label] of [
  [0, "class-conditional, self-attention"],
  [1, "cross-attention to a context (spatial transformer)"],
] as const) {
  test(`the U-Net (${label}) matches PyTorch: output, loss and every gradient`, () => {
    const c = fx.unets[i]!;
    const model = fixtureUNet(c);
    assert.equal(model.numParameters(), c.param_count);
    const out = model.forward(fromJson(c.x), c.t, c.y ? fromJson(c.y) : null, c.context ? fromJson(c.context) : null);
    assertClose(out, fromJson(c.out), { atol: 1e-4, rtol: 1e-4 }, "output");
    const loss = F.mseLoss(out, fromJson(c.target));
    assert.ok(Math.abs(loss.item() - c.loss) <= 1e-5 * Math.max(1, c.loss), `loss ${loss.item()} vs ${c.loss}`);
    loss.backward();
    for (const [name, p] of model.namedParameters())
      assertClose(p.grad!, fromJson(c.grads[name]!), { atol: 1e-5, rtol: 2e-3 }, `d loss/d ${name}`);
  });
}

test("the U-Net rejects bad input with typed errors", () => {
  const c = fx.unets[0]!;
  const model = fixtureUNet(c);
  const x = fromJson(c.x),
    y = fromJson(c.y!);
  assertThrowsWith(() => model.forward(x.narrow(1, 0, 1).reshape([2, 8, 8]), c.t, y), ShapeError, /UNet/);
  assertThrowsWith(() => model.forward(x, [1], y), ShapeError, /timesteps/);
  assertThrowsWith(() => model.forward(x, c.t), ShapeError, /labels/);
  const cross = fixtureUNet(fx.unets[1]!);
  assertThrowsWith(() => cross.forward(fromJson(fx.unets[1]!.x), fx.unets[1]!.t), ShapeError, /context/);
  assertThrowsWith(() => unetConfig("ddpm-mnist", { groups: 5 }), ArgumentError, /groups/);
  assertThrowsWith(() => unetConfig("ddpm-mnist", { attnLevels: [3] }), ArgumentError, /attnLevels/);
  assertThrowsWith(() => new Schedule({ timesteps: 0 }), ArgumentError, /timesteps/);
  // a checkpoint's or scheduler_config.json's 10⁹ steps would fill four tables of 8 GB
  assertThrowsWith(() => new Schedule({ timesteps: 1e9 }), ArgumentError, /from 1 to 100,000/);
  assertThrowsWith(() => qSample(new Schedule(), x, [0, 1000], x), ArgumentError, /timesteps/);
});

test("the ddpm-mnist preset's parameter count equals the reference module's, and it maps 28×28 to 28×28", () => {
  const model = new UNet(unetConfig("ddpm-mnist"), { generator: new Generator(0) });
  assert.equal(model.numParameters(), fx.preset_counts["ddpm-mnist"]);
  const out = noGrad(() => model.forward(randn([1, 1, 28, 28]), [999], tensor([7], { dtype: "int32" })));
  assert.deepEqual(out.shape, [1, 1, 28, 28]);
  assert.equal(PRESETS["ddpm-mnist"].numClasses, 10);
});

// -----------------------------------------------------------------------------------------------------
// Sampling, guidance, training

const tinyConfig = (): UNetConfig => unetConfig(fx.unets[0]!.config);

test("classifier-free guidance: w = 0 is unconditional, w = 1 conditional, otherwise ε_∅ + w·(ε_y − ε_∅) in one batch", () => {
  const model = new UNet(tinyConfig(), { generator: new Generator(1) }).eval();
  const x = randn([2, 1, 8, 8], { generator: new Generator(2) }),
    t = [10, 900];
  const y = tensor([0, 2], { dtype: "int32" }),
    empty = tensor([3, 3], { dtype: "int32" });
  noGrad(() => {
    const c = model.forward(x, t, y),
      u = model.forward(x, t, empty);
    assertClose(classDenoiser(model, y, 1)(x, t), c, { atol: 0, rtol: 0 }, "w = 1");
    assertClose(classDenoiser(model, y, 0)(x, t), u, { atol: 0, rtol: 0 }, "w = 0");
    const expected = u.add(c.sub(u).mul(3));
    assertClose(classDenoiser(model, y, 3)(x, t), expected, { atol: 1e-5, rtol: 1e-5 }, "w = 3, batched");
    const cond: Denoiser = (xx, tt) => model.forward(xx, tt, y),
      uncond: Denoiser = (xx, tt) => model.forward(xx, tt, empty);
    assertClose(guided(cond, uncond, 3)(x, t), expected, { atol: 1e-6, rtol: 1e-6 }, "w = 3, two calls");
  });
});

test("a seeded sampler is reproducible bit for bit (DDPM's 1000 steps on a stand-in network; DDIM with η > 0 on the U-Net)", () => {
  const s = new Schedule();
  const cheap: Denoiser = (x) => x.mul(0.1);
  const a = sample(s, cheap, [2, 1, 3, 3], { sampler: "ddpm", generator: new Generator(5) });
  const b = sample(s, cheap, [2, 1, 3, 3], { sampler: "ddpm", generator: new Generator(5) });
  assert.deepEqual([...a.storage], [...b.storage]);
  const model = new UNet(tinyConfig(), { generator: new Generator(1) }).eval();
  const y = tensor([1, 2], { dtype: "int32" });
  const run = (seed: number): Tensor =>
    sample(s, classDenoiser(model, y, 2), [2, 1, 8, 8], {
      sampler: "ddim",
      steps: 3,
      eta: 1,
      generator: new Generator(seed),
    });
  const c = run(7),
    d = run(7),
    e = run(8);
  assert.deepEqual([...c.storage], [...d.storage]);
  assert.notDeepEqual([...c.storage], [...e.storage]);
  assert.ok([...c.storage].every(Number.isFinite));
});

test("the U-Net overfits one batch: the denoising loss at fixed (x_t, t) falls by more than half in 40 Adam steps", () => {
  const g = new Generator(3);
  const model = new UNet(tinyConfig(), { generator: g });
  const s = new Schedule();
  const x0 = randn([4, 1, 8, 8], { generator: g }).clamp(-1, 1),
    noise = randn([4, 1, 8, 8], { generator: g });
  const t = [50, 300, 600, 900],
    y = tensor([0, 1, 2, 3], { dtype: "int32" });
  const xt = qSample(s, x0, t, noise);
  const opt = new Adam(model.parameters(), { lr: 3e-3 });
  const losses: number[] = [];
  for (let i = 0; i < 40; i++) {
    const loss = F.mseLoss(model.forward(xt, t, y), noise);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  assert.ok(losses[39]! < 0.5 * losses[0]!, `loss ${losses[0]} → ${losses[39]}`);
});

test("the trainer resumes from its checkpoint exactly: the same losses as a run that never stopped", () => {
  const data = syntheticDigits(20, new Generator(0));
  const config = unetConfig(tinyConfig(), { channels: 4, groups: 2, heads: 1, numClasses: 10 });
  const train = { steps: 4, batchSize: 2, warmup: 2, seed: 3 };
  const straight = new DDPMTrainer(config, {}, train, data);
  const losses = [0, 1, 2, 3].map(() => straight.trainStep().loss);
  const first = new DDPMTrainer(config, {}, train, data);
  first.trainStep();
  first.trainStep();
  const ckpt = parseCheckpoint(serializeCheckpoint(first.checkpoint()));
  const resumed = DDPMTrainer.fromCheckpoint(ckpt, data);
  assert.equal(resumed.step, 2);
  assert.deepEqual([resumed.trainStep().loss, resumed.trainStep().loss], losses.slice(2));
  // the sampling model is the moving average, not the trained weights
  const { model } = loadDDPM(parseCheckpoint(serializeCheckpoint(resumed.checkpoint())));
  const emaW = resumed.ema.convIn.weight.storage,
    rawW = resumed.model.convIn.weight.storage;
  assert.deepEqual([...model.convIn.weight.storage], [...emaW]);
  assert.notDeepEqual([...emaW], [...rawW]);
  assertThrowsWith(
    () => loadDDPM(parseCheckpoint(serializeCheckpoint({ model: {}, step: 0, config: { kind: "gpt" } }))),
    Error,
    /ddpm/,
  );
});

test("the Fréchet distance of two feature sets matches PyTorch's (eigh-based), and a set's distance to itself is 0", () => {
  const f = (fx as unknown as { frechet: { a: TensorJson; b: TensorJson; d: number; distance: number; self: number } })
    .frechet;
  const a = fromJson(f.a).storage as Float64Array,
    b = fromJson(f.b).storage as Float64Array;
  const ours = frechetDistance(a, a.length / f.d, b, b.length / f.d, f.d);
  assert.ok(Math.abs(ours - f.distance) <= 1e-8 * Math.abs(f.distance), `${ours} vs ${f.distance}`);
  assert.ok(Math.abs(frechetDistance(a, a.length / f.d, a, a.length / f.d, f.d)) < 1e-8);
  assertThrowsWith(() => frechetDistance(a, 1, b, b.length / f.d, f.d), ArgumentError, /meanCov/);
});

test("with an oracle network (the true ε, or v, of a known x_0) DDIM and DDPM's sampler land on x_0", () => {
  const x0 = randn([2, 1, 3, 3], { generator: new Generator(9) }).clamp(-0.9, 0.9);
  for (const prediction of ["epsilon", "v"] as const) {
    const s = new Schedule({ prediction });
    // ε = (x_t − √ᾱ_t·x_0)/√(1 − ᾱ_t);  v = √ᾱ_t·ε − √(1 − ᾱ_t)·x_0
    const oracle: Denoiser = (x, t) => {
      const ab = s.abar(t[0]!);
      const eps = x.sub(x0.mul(Math.sqrt(ab))).div(Math.sqrt(1 - ab));
      return prediction === "epsilon" ? eps : eps.mul(Math.sqrt(ab)).sub(x0.mul(Math.sqrt(1 - ab)));
    };
    for (const opts of [
      { sampler: "ddim" as const, steps: 10 },
      { sampler: "ddim" as const, steps: 7, eta: 1 },
      { sampler: "ddpm" as const },
    ]) {
      const x = sample(s, oracle, [2, 1, 3, 3], { ...opts, generator: new Generator(4) });
      assertClose(x, x0, { atol: 2e-4, rtol: 1e-4 }, `${prediction} ${JSON.stringify(opts)}`);
    }
  }
});
