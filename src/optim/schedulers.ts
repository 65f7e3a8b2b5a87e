// Learning-rate schedulers (PyTorch 1.13's torch.optim.lr_scheduler) and nanoGPT's cosine schedule
// with warmup. A scheduler sets `group.lr` of its optimizer's groups; call it after the optimizer:
//
//   const sched = new CosineAnnealingLR(opt, { tMax: 100 });
//   for (...) { loss.backward(); opt.step(); opt.zeroGrad(); sched.step(); }
//
// As in PyTorch, constructing a scheduler already takes its first step (epoch 0), so the learning rate
// of the first optimizer step is the schedule's value at 0. The PyTorch schedulers are written in
// PyTorch's *recursive* ("chainable") form — each step computes the new lr from the group's current
// lr — so step-by-step use gives PyTorch's values to the last bit, including CosineAnnealingLR's,
// which differ slightly from its closed form. (Passing an epoch to step(), deprecated in PyTorch, is
// not supported; resume with loadStateDict.)
//
// Symbols: η the learning rate, η₀ the group's base lr (its lr when the scheduler was made), t the
// epoch (`lastEpoch`, the number of step() calls so far, counting the one in the constructor as 0).

import { ArgumentError } from "../engine/errors.js";
import type { HyperParams, Optimizer } from "./optimizer.js";

/** A setting saved in the state dict. */
export type SettingValue = number | boolean | string | number[];

/** A scheduler's state: where it is, and its settings (restored too, as PyTorch does). */
export interface SchedulerStateDict {
  kind: string;
  lastEpoch: number;
  baseLrs: number[];
  lastLr: number[];
  settings: Record<string, SettingValue>;
}

export abstract class LRScheduler<S extends Record<string, SettingValue> = Record<string, SettingValue>> {
  /** Each group's lr when the scheduler was made (η₀). */
  baseLrs: number[];
  /** The epoch of the last step(): 0 after construction. */
  lastEpoch = -1;
  protected lastLr: number[] = [];

  protected constructor(
    readonly kind: string,
    readonly optimizer: Optimizer<HyperParams>,
    /** the constructor's settings, kept in one object so that the state dict can save and restore them */
    protected settings: S,
  ) {
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
  }

  /** The learning rates of the groups at epoch `lastEpoch` (PyTorch's get_lr). */
  protected abstract computeLr(): number[];

  /** The constructor's first step; subclasses call it once their settings are in place. */
  protected initialStep(): void {
    this.step();
  }

  /** Advance one epoch and set every group's lr. */
  step(): void {
    this.lastEpoch += 1;
    const lrs = this.computeLr();
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = lrs[i]!));
    this.lastLr = lrs;
  }

  /** The learning rates set by the last step, one per group. */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  stateDict(): SchedulerStateDict {
    const settings: Record<string, SettingValue> = {};
    for (const [k, v] of Object.entries(this.settings)) settings[k] = Array.isArray(v) ? [...v] : v;
    return {
      kind: this.kind,
      lastEpoch: this.lastEpoch,
      baseLrs: [...this.baseLrs],
      lastLr: [...this.lastLr],
      settings,
    };
  }

  /**
   * Restore a state written by stateDict() of the same kind of scheduler. The settings are restored as
   * well (as PyTorch does), and every group's lr is set to the restored last lr, so the order in which
   * the optimizer and the scheduler are loaded does not matter.
   */
  loadStateDict(sd: SchedulerStateDict): void {
    const op = `${this.kind}.loadStateDict`;
    if (typeof sd !== "object" || sd === null)
      throw new ArgumentError(`${op}: expected a state dict written by stateDict()`);
    if (sd.kind !== this.kind)
      throw new ArgumentError(`${op}: the state dict is of a ${JSON.stringify(sd.kind)} scheduler, not ${this.kind}`);
    const n = this.optimizer.paramGroups.length;
    const numbers = (v: unknown, what: string): number[] => {
      if (!Array.isArray(v) || v.length !== n || !v.every((x) => typeof x === "number")) {
        throw new ArgumentError(
          `${op}: ${what} must be ${n} numbers (one per parameter group), got ${JSON.stringify(v)}`,
        );
      }
      return [...v];
    };
    const baseLrs = numbers(sd.baseLrs, "baseLrs");
    const lastLr = numbers(sd.lastLr, "lastLr");
    if (!Number.isInteger(sd.lastEpoch) || sd.lastEpoch < 0)
      throw new ArgumentError(`${op}: lastEpoch must be an integer ≥ 0, got ${JSON.stringify(sd.lastEpoch)}`);
    const settings = { ...this.settings } as Record<string, SettingValue>;
    for (const [k, want] of Object.entries(this.settings)) {
      const v = sd.settings?.[k];
      const ok = Array.isArray(want)
        ? Array.isArray(v) && v.length === want.length && v.every((x) => typeof x === "number")
        : typeof v === typeof want;
      if (!ok)
        throw new ArgumentError(
          `${op}: setting ${k} is ${JSON.stringify(v)}; expected a value like ${JSON.stringify(want)}`,
        );
      settings[k] = Array.isArray(v) ? [...v] : v!;
    }
    this.settings = settings as S;
    this.baseLrs = baseLrs;
    this.lastLr = lastLr;
    this.lastEpoch = sd.lastEpoch;
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = lastLr[i]!));
  }

  /** The groups' current learning rates (the recursive forms start from these). */
  protected groupLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }
}

// ---------------------------------------------------------------------------------------------------

export interface StepLROptions {
  stepSize: number;
  gamma?: number;
}

/** η ← η·γ every stepSize epochs (closed form η₀·γ^⌊t/stepSize⌋). */
export class StepLR extends LRScheduler<{ stepSize: number; gamma: number }> {
  constructor(optimizer: Optimizer<HyperParams>, { stepSize, gamma = 0.1 }: StepLROptions) {
    if (!Number.isInteger(stepSize) || stepSize < 1)
      throw new ArgumentError(`StepLR: stepSize must be an integer ≥ 1, got ${stepSize}`);
    super("StepLR", optimizer, { stepSize, gamma });
    this.initialStep();
  }

  protected computeLr(): number[] {
    const { stepSize, gamma } = this.settings;
    const t = this.lastEpoch;
    if (t === 0 || t % stepSize !== 0) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * gamma);
  }
}

/** η ← η·γ every epoch (closed form η₀·γᵗ). */
export class ExponentialLR extends LRScheduler<{ gamma: number }> {
  constructor(optimizer: Optimizer<HyperParams>, { gamma }: { gamma: number }) {
    if (typeof gamma !== "number")
      throw new ArgumentError(`ExponentialLR: gamma must be a number, got ${JSON.stringify(gamma)}`);
    super("ExponentialLR", optimizer, { gamma });
    this.initialStep();
  }

  protected computeLr(): number[] {
    const t = this.lastEpoch;
    if (t === 0) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * this.settings.gamma);
  }
}

export interface CosineAnnealingLROptions {
  tMax: number;
  etaMin?: number;
}

/**
 * Cosine annealing from η₀ to etaMin over tMax epochs (SGDR without restarts, Loshchilov & Hutter 2016,
 * https://arxiv.org/abs/1608.03983). Closed form: η_t = η_min + (η₀ − η_min)·(1 + cos(π·t/T))/2. PyTorch
 * steps it recursively, which is what this computes:
 *
 *   η_t = (1 + cos(π·t/T)) / (1 + cos(π·(t−1)/T)) · (η_{t−1} − η_min) + η_min
 *   η_t = η_{t−1} + (η₀ − η_min)·(1 − cos(π/T))/2        when (t − 1 − T) mod 2T = 0 (the bottom of a cosine period)
 *
 * Past tMax the rate rises again along the cosine (period 2·tMax), as PyTorch's does.
 */
export class CosineAnnealingLR extends LRScheduler<{ tMax: number; etaMin: number }> {
  constructor(optimizer: Optimizer<HyperParams>, { tMax, etaMin = 0 }: CosineAnnealingLROptions) {
    if (!(tMax > 0)) throw new ArgumentError(`CosineAnnealingLR: tMax must be > 0, got ${tMax}`);
    super("CosineAnnealingLR", optimizer, { tMax, etaMin });
    this.initialStep();
  }

  protected computeLr(): number[] {
    const { tMax: T, etaMin } = this.settings;
    const t = this.lastEpoch;
    if (t === 0) return this.groupLrs();
    if ((t - 1 - T) % (2 * T) === 0) {
      return this.groupLrs().map((lr, i) => lr + ((this.baseLrs[i]! - etaMin) * (1 - Math.cos(Math.PI / T))) / 2);
    }
    return this.groupLrs().map(
      (lr) => ((1 + Math.cos((Math.PI * t) / T)) / (1 + Math.cos((Math.PI * (t - 1)) / T))) * (lr - etaMin) + etaMin,
    );
  }
}

export interface LinearLROptions {
  startFactor?: number;
  endFactor?: number;
  totalIters?: number;
}

/**
 * The lr's factor goes linearly from startFactor to endFactor over totalIters epochs, then stays
 * (warmup when start < end, decay when start > end). Closed form η₀·(s + (e − s)·min(t, N)/N);
 * PyTorch's recursive form, computed here:
 *
 *   η_0 = η₀·s;   η_t = η_{t−1}·(1 + (e − s) / (N·s + (t − 1)·(e − s)))   for 1 ≤ t ≤ N
 */
export class LinearLR extends LRScheduler<{ startFactor: number; endFactor: number; totalIters: number }> {
  constructor(
    optimizer: Optimizer<HyperParams>,
    { startFactor = 1 / 3, endFactor = 1, totalIters = 5 }: LinearLROptions = {},
  ) {
    if (!(startFactor >= 0 && startFactor <= 1))
      throw new ArgumentError(`LinearLR: startFactor must be in [0, 1], got ${startFactor}`);
    if (!(endFactor >= 0 && endFactor <= 1))
      throw new ArgumentError(`LinearLR: endFactor must be in [0, 1], got ${endFactor}`);
    if (!Number.isInteger(totalIters) || totalIters < 1)
      throw new ArgumentError(`LinearLR: totalIters must be an integer ≥ 1, got ${totalIters}`);
    super("LinearLR", optimizer, { startFactor, endFactor, totalIters });
    this.initialStep();
  }

  protected computeLr(): number[] {
    const { startFactor: s, endFactor: e, totalIters: N } = this.settings;
    const t = this.lastEpoch;
    if (t === 0) return this.groupLrs().map((lr) => lr * s);
    if (t > N) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * (1 + (e - s) / (N * s + (t - 1) * (e - s))));
  }
}

// ---------------------------------------------------------------------------------------------------

export interface OneCycleLROptions {
  /** the peak lr: one for all groups or one per group */
  maxLr: number | number[];
  totalSteps: number;
  pctStart?: number;
  annealStrategy?: "cos" | "linear";
  /** cycle the momentum (SGD, RMSprop) or β1 (Adam, AdamW) inversely to the lr */
  cycleMomentum?: boolean;
  baseMomentum?: number | number[];
  maxMomentum?: number | number[];
  divFactor?: number;
  finalDivFactor?: number;
  threePhase?: boolean;
}

type OneCycleSettings = {
  totalSteps: number;
  pctStart: number;
  annealStrategy: string;
  cycleMomentum: boolean;
  useBeta1: boolean;
  threePhase: boolean;
  initialLr: number[];
  maxLr: number[];
  minLr: number[];
  maxMomentum: number[];
  baseMomentum: number[];
};

/**
 * The 1cycle policy (Smith & Topin 2017, https://arxiv.org/abs/1708.07120), as PyTorch's OneCycleLR:
 * the lr rises from maxLr/divFactor to maxLr over the first pctStart of totalSteps, then anneals to
 * (maxLr/divFactor)/finalDivFactor; the momentum moves the opposite way between maxMomentum and
 * baseMomentum. Each phase anneals from its start value a to its end value b by
 *
 *   cos:     b + (a − b)/2·(1 + cos(π·p))        linear:  (b − a)·p + a
 *
 * with p = (t − phase start)/(phase end − phase start) and phase ends at pctStart·totalSteps − 1 and
 * totalSteps − 1 (threePhase: pctStart·totalSteps − 1, 2·pctStart·totalSteps − 2, totalSteps − 1,
 * the second phase coming back down to the initial lr). It is computed in closed form each step.
 */
export class OneCycleLR extends LRScheduler<OneCycleSettings> {
  constructor(optimizer: Optimizer<HyperParams>, opts: OneCycleLROptions) {
    const {
      maxLr,
      totalSteps,
      pctStart = 0.3,
      annealStrategy = "cos",
      cycleMomentum = true,
      baseMomentum = 0.85,
      maxMomentum = 0.95,
      divFactor = 25,
      finalDivFactor = 1e4,
      threePhase = false,
    } = opts;
    const n = optimizer.paramGroups.length;
    const perGroup = (name: string, v: number | number[]): number[] => {
      if (Array.isArray(v)) {
        if (v.length !== n)
          throw new ArgumentError(
            `OneCycleLR: expected ${n} values for ${name} (one per parameter group), got ${v.length}`,
          );
        return [...v];
      }
      return new Array<number>(n).fill(v);
    };
    if (!Number.isInteger(totalSteps) || totalSteps <= 0)
      throw new ArgumentError(`OneCycleLR: totalSteps must be a positive integer, got ${totalSteps}`);
    if (!(pctStart >= 0 && pctStart <= 1))
      throw new ArgumentError(`OneCycleLR: pctStart must be in [0, 1], got ${pctStart}`);
    if (annealStrategy !== "cos" && annealStrategy !== "linear")
      throw new ArgumentError(
        `OneCycleLR: annealStrategy must be "cos" or "linear", got ${JSON.stringify(annealStrategy)}`,
      );
    const maxLrs = perGroup("maxLr", maxLr);
    const initialLr = maxLrs.map((m) => m / divFactor);
    const minLr = initialLr.map((lr) => lr / finalDivFactor);
    const hasBetas = "betas" in optimizer.defaults;
    if (cycleMomentum && !hasBetas && !("momentum" in optimizer.defaults)) {
      throw new ArgumentError(
        `OneCycleLR: ${optimizer.name} has no momentum or betas to cycle; pass { cycleMomentum: false }`,
      );
    }
    const maxMomenta = perGroup("maxMomentum", maxMomentum);
    const baseMomenta = perGroup("baseMomentum", baseMomentum);
    // the groups start at the initial lr, and at the top of the momentum cycle
    optimizer.paramGroups.forEach((g, i) => {
      g.lr = initialLr[i]!;
      if (cycleMomentum) setMomentum(g, hasBetas, maxMomenta[i]!);
    });
    super("OneCycleLR", optimizer, {
      totalSteps,
      pctStart,
      annealStrategy,
      cycleMomentum,
      useBeta1: hasBetas,
      threePhase,
      initialLr,
      maxLr: maxLrs,
      minLr,
      maxMomentum: maxMomenta,
      baseMomentum: baseMomenta,
    });
    this.initialStep();
  }

  /** The phases: where each ends, and the settings the lr and the momentum go from and to. */
  private phases(): {
    endStep: number;
    lr: [keyof OneCycleSettings, keyof OneCycleSettings];
    momentum: [keyof OneCycleSettings, keyof OneCycleSettings];
  }[] {
    const { pctStart, totalSteps } = this.settings;
    if (this.settings.threePhase) {
      return [
        { endStep: pctStart * totalSteps - 1, lr: ["initialLr", "maxLr"], momentum: ["maxMomentum", "baseMomentum"] },
        {
          endStep: 2 * pctStart * totalSteps - 2,
          lr: ["maxLr", "initialLr"],
          momentum: ["baseMomentum", "maxMomentum"],
        },
        { endStep: totalSteps - 1, lr: ["initialLr", "minLr"], momentum: ["maxMomentum", "maxMomentum"] },
      ];
    }
    return [
      { endStep: pctStart * totalSteps - 1, lr: ["initialLr", "maxLr"], momentum: ["maxMomentum", "baseMomentum"] },
      { endStep: totalSteps - 1, lr: ["maxLr", "minLr"], momentum: ["baseMomentum", "maxMomentum"] },
    ];
  }

  private anneal(a: number, b: number, p: number): number {
    if (this.settings.annealStrategy === "cos") return b + ((a - b) / 2) * (Math.cos(Math.PI * p) + 1);
    return (b - a) * p + a;
  }

  protected computeLr(): number[] {
    const t = this.lastEpoch;
    const s = this.settings;
    if (t > s.totalSteps)
      throw new ArgumentError(`OneCycleLR: tried to step ${t + 1} times; the schedule has totalSteps ${s.totalSteps}`);
    const { lrs, momenta } = this.at(t);
    if (s.cycleMomentum) this.optimizer.paramGroups.forEach((g, i) => setMomentum(g, s.useBeta1, momenta[i]!));
    return lrs;
  }

  /** The lr and momentum of every group at epoch t. */
  private at(t: number): { lrs: number[]; momenta: number[] } {
    const s = this.settings as Record<string, SettingValue>;
    const phases = this.phases();
    const lrs: number[] = [],
      momenta: number[] = [];
    for (let gi = 0; gi < this.optimizer.paramGroups.length; gi++) {
      let start = 0;
      for (let i = 0; i < phases.length; i++) {
        const ph = phases[i]!;
        if (t <= ph.endStep || i === phases.length - 1) {
          const p = (t - start) / (ph.endStep - start);
          const v = (key: keyof OneCycleSettings) => (s[key] as number[])[gi]!;
          lrs.push(this.anneal(v(ph.lr[0]), v(ph.lr[1]), p));
          momenta.push(this.anneal(v(ph.momentum[0]), v(ph.momentum[1]), p));
          break;
        }
        start = ph.endStep;
      }
    }
    return { lrs, momenta };
  }

  /** Also puts back the momentum (or β1) of the restored epoch. */
  override loadStateDict(sd: SchedulerStateDict): void {
    super.loadStateDict(sd);
    if (this.settings.cycleMomentum) {
      const { momenta } = this.at(this.lastEpoch);
      this.optimizer.paramGroups.forEach((g, i) => setMomentum(g, this.settings.useBeta1, momenta[i]!));
    }
  }
}

/** Set a group's momentum: β1 of Adam's betas, or SGD's / RMSprop's momentum. */
function setMomentum(group: HyperParams, useBeta1: boolean, m: number): void {
  const g = group as HyperParams & { betas?: [number, number]; momentum?: number };
  if (useBeta1) g.betas = [m, g.betas![1]];
  else g.momentum = m;
}

// ---------------------------------------------------------------------------------------------------

export interface CosineWithWarmupOptions {
  warmupIters: number;
  lrDecayIters: number;
  maxLr: number;
  minLr: number;
}

/**
 * nanoGPT's learning-rate schedule (train.py `get_lr`): linear warmup to maxLr over warmupIters, cosine
 * decay to minLr at lrDecayIters, then constant:
 *
 *   it < W:        η = maxLr·(it + 1)/(W + 1)
 *   it > D:        η = minLr
 *   otherwise:     r = (it − W)/(D − W);  η = minLr + ½(1 + cos(π·r))·(maxLr − minLr)
 */
export function cosineWithWarmup({
  warmupIters,
  lrDecayIters,
  maxLr,
  minLr,
}: CosineWithWarmupOptions): (it: number) => number {
  if (!Number.isInteger(warmupIters) || warmupIters < 0)
    throw new ArgumentError(`cosineWithWarmup: warmupIters must be an integer ≥ 0, got ${warmupIters}`);
  if (!Number.isInteger(lrDecayIters) || lrDecayIters < warmupIters) {
    throw new ArgumentError(
      `cosineWithWarmup: lrDecayIters must be an integer ≥ warmupIters (${warmupIters}), got ${lrDecayIters}`,
    );
  }
  return (it: number): number => {
    // 1) linear warmup
    if (it < warmupIters) return (maxLr * (it + 1)) / (warmupIters + 1);
    // 2) after the decay, the minimum (also when there is no decay window at all)
    if (it > lrDecayIters || lrDecayIters === warmupIters) return minLr;
    // 3) in between, cosine decay down to minLr
    const decayRatio = (it - warmupIters) / (lrDecayIters - warmupIters);
    const coeff = 0.5 * (1 + Math.cos(Math.PI * decayRatio));
    return minLr + coeff * (maxLr - minLr);
  };
}

/** cosineWithWarmup as a scheduler: every group's lr is set to the schedule's value at lastEpoch. */
export class CosineWithWarmupLR extends LRScheduler<{
  warmupIters: number;
  lrDecayIters: number;
  maxLr: number;
  minLr: number;
}> {
  private schedule: (it: number) => number;

  constructor(optimizer: Optimizer<HyperParams>, opts: CosineWithWarmupOptions) {
    const { warmupIters, lrDecayIters, maxLr, minLr } = opts;
    const schedule = cosineWithWarmup(opts);
    super("CosineWithWarmupLR", optimizer, { warmupIters, lrDecayIters, maxLr, minLr });
    this.schedule = schedule;
    this.initialStep();
  }

  protected computeLr(): number[] {
    return this.optimizer.paramGroups.map(() => this.schedule(this.lastEpoch));
  }

  override loadStateDict(sd: SchedulerStateDict): void {
    super.loadStateDict(sd);
    this.schedule = cosineWithWarmup(this.settings);
  }
}

// ---------------------------------------------------------------------------------------------------

/**
 * PyTorch's LambdaLR: η = η₀·λ(t), one λ for every group or one per group. As in PyTorch, the functions
 * are not saved in the state dict (only where the schedule is): a resumed scheduler is built with the
 * same functions and then loaded.
 */
export class LambdaLR extends LRScheduler<Record<string, never>> {
  private readonly lambdas: ((epoch: number) => number)[];

  constructor(
    optimizer: Optimizer<HyperParams>,
    lrLambda: ((epoch: number) => number) | readonly ((epoch: number) => number)[],
  ) {
    const n = optimizer.paramGroups.length;
    const lambdas = typeof lrLambda === "function" ? Array.from({ length: n }, () => lrLambda) : [...lrLambda];
    if (lambdas.length !== n || lambdas.some((f) => typeof f !== "function")) {
      throw new ArgumentError(
        `LambdaLR: expected one function or ${n} (one per parameter group), got ${Array.isArray(lrLambda) ? lrLambda.length : typeof lrLambda}`,
      );
    }
    super("LambdaLR", optimizer, {});
    this.lambdas = lambdas;
    this.initialStep();
  }

  protected computeLr(): number[] {
    return this.baseLrs.map((lr, i) => lr * this.lambdas[i]!(this.lastEpoch));
  }
}

export interface InverseSqrtWarmupOptions {
  /** the model width d_model */
  dModel: number;
  /** warmup steps (the Transformer paper: 4000) */
  warmupSteps: number;
}

/**
 * The Transformer's schedule (Vaswani et al. 2017, §5.3, eq. 3), as a LambdaLR factor of the epoch t
 * (t = 0 after construction, i.e. before the first optimizer step, which is step s = t + 1):
 *
 *   lr(s) = d_model^−0.5 · min(s^−0.5, s·warmup^−1.5)
 *
 * linear growth for `warmupSteps` steps, then decay as 1/√s; the peak d_model^−0.5·warmup^−0.5 is at
 * s = warmup. Use it with a base lr of 1 (the paper's) or a factor: `new LambdaLR(opt, inverseSqrtWarmup(...))`.
 */
export function inverseSqrtWarmup({ dModel, warmupSteps }: InverseSqrtWarmupOptions): (epoch: number) => number {
  if (!(dModel > 0)) throw new ArgumentError(`inverseSqrtWarmup: dModel must be > 0, got ${dModel}`);
  if (!(Number.isInteger(warmupSteps) && warmupSteps >= 1))
    throw new ArgumentError(`inverseSqrtWarmup: warmupSteps must be an integer ≥ 1, got ${warmupSteps}`);
  return (epoch: number): number => {
    const s = epoch + 1;
    return Math.pow(dModel, -0.5) * Math.min(Math.pow(s, -0.5), s * Math.pow(warmupSteps, -1.5));
  };
}
