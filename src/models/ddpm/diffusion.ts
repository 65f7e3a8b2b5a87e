// Diffusion: the forward process, the training loss and the samplers (DDPM's ancestral sampler and DDIM).
//   Ho, Jain, Abbeel 2020, "Denoising Diffusion Probabilistic Models", https://arxiv.org/abs/2006.11239
//   Nichol & Dhariwal 2021, "Improved Denoising Diffusion Probabilistic Models", https://arxiv.org/abs/2102.09672 (cosine schedule)
//   Song, Meng, Ermon 2021, "Denoising Diffusion Implicit Models", https://arxiv.org/abs/2010.02502 (DDIM, η)
//   Salimans & Ho 2022, "Progressive Distillation for Fast Sampling of Diffusion Models", https://arxiv.org/abs/2202.00512 (v-prediction)
//   Ho & Salimans 2022, "Classifier-Free Diffusion Guidance", https://arxiv.org/abs/2207.12598
//
// Timesteps are counted from 0 as in diffusers' schedulers: t = 0 … T−1, where the paper's t = 1 … T;
// ᾱ_{−1} = 1 stands for "no noise". The network is any function (x_t, t) → prediction: this file knows
// nothing of the U-Net (unet.ts) except that it predicts ε (or v).
//
// Vocabulary (shape comments): B batch, C channels, H W the image's height and width.

import { noGrad } from "../../engine/autograd.js";
import { tensor } from "../../engine/creation.js";
import { randn } from "../../engine/creation.js";
import { ArgumentError, ShapeError } from "../../engine/errors.js";
import type { Generator } from "../../engine/rng.js";
import { fmt } from "../../engine/shape.js";
import type { Tensor } from "../../engine/tensor.js";
import * as F from "../../nn/functional.js";

// =====================================================================================================
// Config: the β schedule

/** "scaled_linear": √β evenly spaced, then squared (Stable Diffusion: 0.00085 … 0.012) */
export type BetaSchedule = "linear" | "cosine" | "scaled_linear";
/** What the network predicts: the noise ε (Ho et al.) or the velocity v = √ᾱ·ε − √(1−ᾱ)·x_0 (Salimans & Ho). */
export type Prediction = "epsilon" | "v";

export interface ScheduleConfig {
  /** T, the number of noising steps (the papers: 1000) */
  readonly timesteps: number;
  readonly schedule: BetaSchedule;
  /** linear: β_0 … β_{T−1} evenly spaced from betaStart to betaEnd (Ho et al.: 1e-4 … 0.02) */
  readonly betaStart: number;
  readonly betaEnd: number;
  readonly prediction: Prediction;
}

export const DDPM_SCHEDULE: ScheduleConfig = Object.freeze({
  timesteps: 1000,
  schedule: "linear",
  betaStart: 1e-4,
  betaEnd: 0.02,
  prediction: "epsilon",
});

/**
 * The most noising steps a schedule may have: its four tables hold 8·T bytes each, and a sampler may take T
 * steps (the papers use 1,000 to 4,000). A checkpoint saying 10⁹ was still filling its tables after 30 s.
 */
export const MAX_TIMESTEPS = 100_000;

/** The schedule's tables, in float64: β_t, α_t = 1 − β_t, ᾱ_t = ∏_{s≤t} α_s, and the posterior variance β̃_t. */
export class Schedule {
  readonly config: ScheduleConfig;
  readonly betas: Float64Array; //         (T)
  readonly alphas: Float64Array; //        (T)
  readonly alphasCumprod: Float64Array; // (T) ᾱ_t
  readonly posteriorVariance: Float64Array; // (T) β̃_t

  constructor(config: Partial<ScheduleConfig> = {}) {
    const c = (this.config = Object.freeze({ ...DDPM_SCHEDULE, ...config }));
    if (!Number.isInteger(c.timesteps) || c.timesteps < 1 || c.timesteps > MAX_TIMESTEPS)
      throw new ArgumentError(
        `Schedule: timesteps must be an integer from 1 to ${MAX_TIMESTEPS.toLocaleString("en-US")}, got ${c.timesteps}`,
      );
    if (c.schedule !== "linear" && c.schedule !== "cosine" && c.schedule !== "scaled_linear")
      throw new ArgumentError(
        `Schedule: schedule must be "linear", "cosine" or "scaled_linear", got ${JSON.stringify(c.schedule)}`,
      );
    if (c.prediction !== "epsilon" && c.prediction !== "v")
      throw new ArgumentError(`Schedule: prediction must be "epsilon" or "v", got ${JSON.stringify(c.prediction)}`);
    const T = c.timesteps;
    this.betas =
      c.schedule === "linear"
        ? linearBetas(T, c.betaStart, c.betaEnd)
        : c.schedule === "scaled_linear"
          ? linearBetas(T, Math.sqrt(c.betaStart), Math.sqrt(c.betaEnd)).map((b) => b * b) // β_t = (√β evenly spaced)²
          : cosineBetas(T);
    this.alphas = this.betas.map((b) => 1 - b);
    this.alphasCumprod = new Float64Array(T);
    this.posteriorVariance = new Float64Array(T);
    let prod = 1;
    for (let t = 0; t < T; t++) {
      // ᾱ_t = ∏_{s≤t} (1 − β_s)
      prod *= this.alphas[t]!;
      this.alphasCumprod[t] = prod;
      // β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t      (Ho et al. eq. 7)
      this.posteriorVariance[t] = ((1 - this.abar(t - 1)) / (1 - prod)) * this.betas[t]!;
    }
  }

  get timesteps(): number {
    return this.config.timesteps;
  }

  /** ᾱ_t, with ᾱ_{−1} = 1 (no noise). */
  abar(t: number): number {
    return t < 0 ? 1 : this.alphasCumprod[t]!;
  }
}

/** β_t evenly spaced from start to end (Ho et al. §4: 1e-4 … 0.02 over T = 1000). */
export function linearBetas(T: number, start: number, end: number): Float64Array {
  if (!(start > 0 && end >= start && end < 1))
    throw new ArgumentError(`Schedule: need 0 < betaStart ≤ betaEnd < 1, got ${start} and ${end}`);
  return Float64Array.from({ length: T }, (_, t) => (T === 1 ? start : start + ((end - start) * t) / (T - 1)));
}

/**
 * Nichol & Dhariwal eq. 17: ᾱ(t) = f(t)/f(0), f(t) = cos²(((t/T) + s)/(1 + s) · π/2), s = 0.008;
 * β_t = 1 − ᾱ(t+1)/ᾱ(t), clipped at 0.999 so that the last step stays finite.
 */
export function cosineBetas(T: number, s = 0.008): Float64Array {
  const f = (t: number): number => Math.cos(((t / T + s) / (1 + s)) * (Math.PI / 2)) ** 2;
  return Float64Array.from({ length: T }, (_, t) => Math.min(1 - f(t + 1) / f(t), 0.999));
}

// =====================================================================================================
// The forward process and the loss

/** Per-sample coefficients as a (B, 1, 1, 1) float32 tensor, to broadcast over images. */
function perSample(values: ArrayLike<number>): Tensor {
  return tensor(Float32Array.from(values), { shape: [values.length, 1, 1, 1] });
}

function checkTimesteps(op: string, s: Schedule, t: readonly number[], B: number): void {
  if (t.length !== B) throw new ShapeError(`${op}: ${t.length} timesteps for a batch of ${B}`);
  for (const ti of t)
    if (!Number.isInteger(ti) || ti < 0 || ti >= s.timesteps)
      throw new ArgumentError(`${op}: timesteps must be integers in [0, ${s.timesteps}), got ${ti}`);
}

/** q(x_t | x_0) in closed form: x_t = √ᾱ_t·x_0 + √(1 − ᾱ_t)·ε   (Ho et al. eq. 4). x0, noise (B, C, H, W); t one per sample. */
export function qSample(s: Schedule, x0: Tensor, t: readonly number[], noise: Tensor): Tensor {
  if (x0.ndim < 2 || fmt(x0.shape) !== fmt(noise.shape))
    throw new ShapeError(`qSample: x0 ${fmt(x0.shape)} and noise ${fmt(noise.shape)} must have one shape (B, …)`);
  checkTimesteps("qSample", s, t, x0.shape[0]!);
  const shape = [t.length, ...x0.shape.slice(1).map(() => 1)];
  const a = tensor(
    Float32Array.from(t, (ti) => Math.sqrt(s.abar(ti))),
    { shape },
  ); //     √ᾱ_t       (B, 1, 1, 1)
  const b = tensor(
    Float32Array.from(t, (ti) => Math.sqrt(1 - s.abar(ti))),
    { shape },
  ); // √(1 − ᾱ_t) (B, 1, 1, 1)
  return x0.mul(a).add(noise.mul(b)); // (B, C, H, W)
}

/** The regression target of the network: ε, or v = √ᾱ_t·ε − √(1 − ᾱ_t)·x_0 (Salimans & Ho §4). */
export function target(s: Schedule, x0: Tensor, t: readonly number[], noise: Tensor): Tensor {
  if (s.config.prediction === "epsilon") return noise;
  const a = perSample(t.map((ti) => Math.sqrt(s.abar(ti))));
  const b = perSample(t.map((ti) => Math.sqrt(1 - s.abar(ti))));
  return noise.mul(a).sub(x0.mul(b)); // (B, C, H, W)
}

/** A network of the diffusion: (x_t (B, C, H, W), t (B)) → ε̂ or v̂ (B, C, H, W). */
export type Denoiser = (x: Tensor, t: readonly number[]) => Tensor;

/**
 * The simple loss (Ho et al. eq. 14): t ~ U{0 … T−1}, ε ~ N(0, I), L = ‖ε − ε_θ(x_t, t)‖² averaged over
 * every pixel; with v-prediction the target is v. Returns the loss and the timesteps drawn.
 */
export function diffusionLoss(
  s: Schedule,
  model: Denoiser,
  x0: Tensor,
  generator: Generator,
): { loss: Tensor; t: number[] } {
  const B = x0.shape[0]!;
  const t = Array.from({ length: B }, () => generator.randint(0, s.timesteps)); // (B)
  const noise = randn(x0.shape, { generator }); //                                   (B, C, H, W)
  const xt = qSample(s, x0, t, noise); //                                           (B, C, H, W)
  const loss = F.mseLoss(model(xt, t), target(s, x0, t, noise));
  return { loss, t };
}

// =====================================================================================================
// One step of each sampler

/** From the network's output at x_t: x̂_0 and ε̂ (for v: x̂_0 = √ᾱ·x_t − √(1−ᾱ)·v̂, ε̂ = √(1−ᾱ)·x_t + √ᾱ·v̂). */
export function predictX0Eps(s: Schedule, xt: Tensor, t: number, out: Tensor): { x0: Tensor; eps: Tensor } {
  const ab = s.abar(t);
  if (s.config.prediction === "v") {
    return {
      x0: xt.mul(Math.sqrt(ab)).sub(out.mul(Math.sqrt(1 - ab))),
      eps: xt.mul(Math.sqrt(1 - ab)).add(out.mul(Math.sqrt(ab))),
    };
  }
  // x̂_0 = (x_t − √(1 − ᾱ_t)·ε̂) / √ᾱ_t    (eq. 4 solved for x_0)
  return { x0: xt.sub(out.mul(Math.sqrt(1 - ab))).div(Math.sqrt(ab)), eps: out };
}

export interface StepOptions {
  /** clip x̂_0 to [−1, 1] (the data's range) before using it (Ho et al.'s sampler does; default true) */
  clip?: boolean;
}

/**
 * One step of DDPM's ancestral sampler, x_t → x_{t−1} (Ho et al. eq. 6–7, algorithm 2 written through x̂_0):
 *   μ̃_t = √ᾱ_{t−1}·β_t/(1 − ᾱ_t)·x̂_0 + √α_t·(1 − ᾱ_{t−1})/(1 − ᾱ_t)·x_t,   x_{t−1} = μ̃_t + σ_t·z,  σ_t² = β̃_t
 * and no noise at the last step (t = 0). `out` is the network's output at (x_t, t); z ~ N(0, I).
 */
export function ddpmStep(
  s: Schedule,
  xt: Tensor,
  t: number,
  out: Tensor,
  z: Tensor | null,
  opts: StepOptions = {},
): Tensor {
  let { x0 } = predictX0Eps(s, xt, t, out);
  if (opts.clip ?? true) x0 = x0.clamp(-1, 1);
  const ab = s.abar(t),
    abPrev = s.abar(t - 1),
    beta = s.betas[t]!;
  const c0 = (Math.sqrt(abPrev) * beta) / (1 - ab); //                   the coefficient of x̂_0
  const ct = (Math.sqrt(s.alphas[t]!) * (1 - abPrev)) / (1 - ab); //     the coefficient of x_t
  const mean = x0.mul(c0).add(xt.mul(ct)); //                            μ̃_t (B, C, H, W)
  if (t === 0 || z === null) return mean;
  return mean.add(z.mul(Math.sqrt(s.posteriorVariance[t]!))); //         x_{t−1}
}

/**
 * One DDIM step, x_t → x_{t'} with t' < t (Song et al. eq. 12; t' = −1 means ᾱ = 1, the clean image):
 *   x_{t'} = √ᾱ_{t'}·x̂_0 + √(1 − ᾱ_{t'} − σ²)·ε̂ + σ·z,   σ = η·√((1 − ᾱ_{t'})/(1 − ᾱ_t))·√(1 − ᾱ_t/ᾱ_{t'})   (eq. 16)
 * η = 0 is the deterministic DDIM, η = 1 DDPM's variance over the skipped steps.
 */
export function ddimStep(
  s: Schedule,
  xt: Tensor,
  t: number,
  tPrev: number,
  out: Tensor,
  eta: number,
  z: Tensor | null,
  opts: StepOptions = {},
): Tensor {
  const { x0: x0raw, eps: epsRaw } = predictX0Eps(s, xt, t, out);
  let x0 = x0raw,
    eps = epsRaw;
  const ab = s.abar(t),
    abPrev = s.abar(tPrev);
  if (opts.clip ?? true) {
    x0 = x0.clamp(-1, 1);
    // ε̂ re-derived from the clipped x̂_0, as diffusers' DDIMScheduler does: ε̂ = (x_t − √ᾱ_t·x̂_0)/√(1 − ᾱ_t)
    eps = xt.sub(x0.mul(Math.sqrt(ab))).div(Math.sqrt(1 - ab));
  }
  const sigma = eta * Math.sqrt((1 - abPrev) / (1 - ab)) * Math.sqrt(1 - ab / abPrev);
  let x = x0.mul(Math.sqrt(abPrev)).add(eps.mul(Math.sqrt(Math.max(0, 1 - abPrev - sigma * sigma))));
  if (sigma > 0 && z !== null) x = x.add(z.mul(sigma));
  return x; // (B, C, H, W)
}

// =====================================================================================================
// Samplers

/** DDIM's timesteps for `steps` steps of T: t_i = ⌊i·T/steps⌋, i = steps−1 … 0 (diffusers' "leading" spacing). */
export function ddimTimesteps(T: number, steps: number): number[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > T)
    throw new ArgumentError(`ddimTimesteps: steps must be an integer in [1, ${T}], got ${steps}`);
  return Array.from({ length: steps }, (_, i) => Math.floor((i * T) / steps)).reverse();
}

/**
 * Classifier-free guidance (Ho & Salimans 2022, eq. 6 in diffusers' form):
 *   ε̃ = ε_θ(x_t, ∅) + w·(ε_θ(x_t, c) − ε_θ(x_t, ∅))
 * w = 0: unconditional; w = 1: conditional; w > 1 pushes towards the condition. (The paper writes
 * (1 + w')·ε_c − w'·ε_∅, i.e. w = 1 + w'.) The same mix applies to a v-prediction.
 */
export function guided(cond: Denoiser, uncond: Denoiser, w: number): Denoiser {
  if (w === 1) return cond;
  if (w === 0) return uncond;
  return (x, t) => {
    const u = uncond(x, t),
      c = cond(x, t);
    return u.add(c.sub(u).mul(w));
  };
}

export interface SampleOptions extends StepOptions {
  /** "ddpm": all T ancestral steps; "ddim": `steps` DDIM steps */
  sampler?: "ddpm" | "ddim";
  /** DDIM's steps (default 50) */
  steps?: number;
  /** DDIM's η (default 0) */
  eta?: number;
  generator: Generator;
  /** called with each x_t after a step (t the step just taken), e.g. for a denoising strip */
  onStep?: (x: Tensor, t: number, index: number) => void;
}

/** Draw x_T ~ N(0, I) of `shape` and denoise it to x_0 with the chosen sampler, without gradients. */
export function sample(s: Schedule, model: Denoiser, shape: readonly number[], opts: SampleOptions): Tensor {
  const sampler = opts.sampler ?? "ddim";
  if (sampler !== "ddpm" && sampler !== "ddim")
    throw new ArgumentError(`sample: sampler must be "ddpm" or "ddim", got ${JSON.stringify(sampler)}`);
  const g = opts.generator;
  return noGrad(() => {
    let x = randn(shape, { generator: g }); // x_T (B, C, H, W)
    const B = shape[0]!;
    if (sampler === "ddpm") {
      for (let t = s.timesteps - 1; t >= 0; t--) {
        const out = model(x, new Array<number>(B).fill(t));
        x = ddpmStep(s, x, t, out, t > 0 ? randn(shape, { generator: g }) : null, opts);
        opts.onStep?.(x, t, s.timesteps - 1 - t);
      }
      return x;
    }
    const eta = opts.eta ?? 0;
    const ts = ddimTimesteps(s.timesteps, opts.steps ?? 50);
    ts.forEach((t, i) => {
      const tPrev = i + 1 < ts.length ? ts[i + 1]! : -1;
      const out = model(x, new Array<number>(B).fill(t));
      x = ddimStep(s, x, t, tPrev, out, eta, eta > 0 ? randn(shape, { generator: g }) : null, opts);
      opts.onStep?.(x, t, i);
    });
    return x;
  });
}
