// Adam (Kingma & Ba 2014, https://arxiv.org/abs/1412.6980) and AdamW (Loshchilov & Hutter 2017,
// https://arxiv.org/abs/1711.05101), as PyTorch 1.13's torch.optim.Adam and torch.optim.AdamW.
// Per parameter, at its step t (counted per parameter, from 1), with g its gradient:
//
//   g ← −g                                   if maximize
//   g ← g + λ·θ                              Adam: weight decay as an L2 penalty in the gradient
//   θ ← θ·(1 − lr·λ)                         AdamW: decoupled weight decay, applied to θ directly
//   m ← β1·m + (1 − β1)·g                    first moment
//   v ← β2·v + (1 − β2)·g²                   second moment
//   v̂ ← max(v̂, v)                           AMSGrad (Reddi et al. 2018) keeps the running maximum
//   θ ← θ − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)
//
// Note where ε sits: it is added after the bias correction of √v, as PyTorch does.
// The two classes differ only in where weight decay enters and in AdamW's default λ = 0.01.
// Without AMSGrad a step updates each parameter group in one kernel call (kernels().adamMulti), each
// parameter at its own t; the result is that of one kernels().adam call per parameter, bit for bit.

import { kernels } from "../ops/kernels.js";
import {
  checkNonNegative,
  checkUnitInterval,
  Optimizer,
  type FloatStorage,
  type ParamGroup,
  type ParamsInput,
  type ParamState,
  type StepItem,
} from "./optimizer.js";
import { stripUndefined } from "./sgd.js";

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

const ADAM_BUFFERS = ["expAvg", "expAvgSq", "maxExpAvgSq"] as const;

function validateAdam(h: AdamOptions, where: string): void {
  checkNonNegative(where, "learning rate lr", h.lr);
  checkNonNegative(where, "eps", h.eps);
  checkUnitInterval(where, "betas[0]", h.betas?.[0]);
  checkUnitInterval(where, "betas[1]", h.betas?.[1]);
  checkNonNegative(where, "weightDecay", h.weightDecay);
}

/** One Adam/AdamW step of one parameter; `decoupled` selects AdamW's weight decay. */
function adamStep(
  buffer: (name: string) => FloatStorage,
  param: FloatStorage,
  grad: FloatStorage,
  state: ParamState,
  group: ParamGroup<AdamOptions>,
  decoupled: boolean,
): void {
  const [beta1, beta2] = group.betas;
  const t = state.step;
  kernels().adam(param, grad, buffer("expAvg"), buffer("expAvgSq"), group.amsgrad ? buffer("maxExpAvgSq") : null, {
    ...hyper(group, decoupled),
    // 1 − βᵗ, computed in double as PyTorch does (`1 - beta1 ** step` on a Python float)
    biasCorrection1: 1 - beta1 ** t,
    biasCorrection2: 1 - beta2 ** t,
  });
}

/** The adam kernel's parameters but the bias corrections. */
type AdamHyper = Omit<Parameters<ReturnType<typeof kernels>["adam"]>[5], "biasCorrection1" | "biasCorrection2">;

/** The kernels' hyper-parameters of a group (all but the bias corrections, which depend on the step). */
function hyper(group: ParamGroup<AdamOptions>, decoupled: boolean): AdamHyper {
  const [beta1, beta2] = group.betas;
  return {
    lr: group.lr,
    beta1,
    beta2,
    eps: group.eps,
    weightDecay: group.weightDecay,
    decoupledWeightDecay: decoupled,
    maximize: group.maximize,
  };
}

/**
 * One Adam/AdamW step of a group's parameters. Without AMSGrad, one kernel call for the whole group
 * (kernels().adamMulti: each parameter at its own step count); with it, one call per parameter.
 */
function adamGroupStep(
  buffer: (state: ParamState, name: string, like: FloatStorage) => FloatStorage,
  items: readonly StepItem[],
  group: ParamGroup<AdamOptions>,
  decoupled: boolean,
): void {
  if (group.amsgrad) {
    for (const { param, grad, state } of items)
      adamStep((name) => buffer(state, name, param), param, grad, state, group, decoupled);
    return;
  }
  if (items.length === 0) return;
  const [beta1, beta2] = group.betas;
  // the moments, created at a parameter's first step in the order the per-parameter path creates them
  const moments = items.map((it) => [buffer(it.state, "expAvg", it.param), buffer(it.state, "expAvgSq", it.param)]);
  kernels().adamMulti(
    items.map((it) => it.param),
    items.map((it) => it.grad),
    moments.map(([m]) => m!),
    moments.map(([, v]) => v!),
    {
      ...hyper(group, decoupled),
      // 1 − βᵗ at each parameter's own step t, in double as adamStep
      biasCorrection1: items.map((it) => 1 - beta1 ** it.state.step),
      biasCorrection2: items.map((it) => 1 - beta2 ** it.state.step),
    },
  );
}

export class Adam extends Optimizer<AdamOptions> {
  constructor(params: ParamsInput<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    super(
      "Adam",
      params,
      {
        lr: 1e-3,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weightDecay: 0,
        amsgrad: false,
        maximize: false,
        ...stripUndefined(opts),
      },
      ADAM_BUFFERS,
    );
  }

  protected validate(h: AdamOptions, where: string): void {
    validateAdam(h, where);
  }

  protected update(param: FloatStorage, grad: FloatStorage, state: ParamState, group: ParamGroup<AdamOptions>): void {
    adamStep((name) => this.buffer(state, name, param).buf, param, grad, state, group, false);
  }

  protected override updateGroup(items: readonly StepItem[], group: ParamGroup<AdamOptions>): void {
    adamGroupStep((state, name, like) => this.buffer(state, name, like).buf, items, group, false);
  }
}

export class AdamW extends Optimizer<AdamOptions> {
  constructor(params: ParamsInput<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    // DIFF(Adam): weight decay defaults to 0.01 and is decoupled from the gradient
    super(
      "AdamW",
      params,
      {
        lr: 1e-3,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weightDecay: 1e-2,
        amsgrad: false,
        maximize: false,
        ...stripUndefined(opts),
      },
      ADAM_BUFFERS,
    );
  }

  protected validate(h: AdamOptions, where: string): void {
    validateAdam(h, where);
  }

  protected update(param: FloatStorage, grad: FloatStorage, state: ParamState, group: ParamGroup<AdamOptions>): void {
    adamStep((name) => this.buffer(state, name, param).buf, param, grad, state, group, true);
  }

  protected override updateGroup(items: readonly StepItem[], group: ParamGroup<AdamOptions>): void {
    adamGroupStep((state, name, like) => this.buffer(state, name, like).buf, items, group, true);
  }
}
