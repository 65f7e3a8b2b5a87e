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

import { kernels } from "../ops/kernels.js";
import {
  checkNonNegative,
  checkUnitInterval,
  Optimizer,
  type FloatStorage,
  type ParamGroup,
  type ParamsInput,
  type ParamState,
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
    lr: group.lr,
    beta1,
    beta2,
    eps: group.eps,
    weightDecay: group.weightDecay,
    decoupledWeightDecay: decoupled,
    maximize: group.maximize,
    // 1 − βᵗ, computed in double as PyTorch does (`1 - beta1 ** step` on a Python float)
    biasCorrection1: 1 - beta1 ** t,
    biasCorrection2: 1 - beta2 ** t,
  });
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
}
