// RMSprop (Hinton's lecture 6e, https://www.cs.toronto.edu/~tijmen/csc321/slides/lecture_slides_lec6.pdf;
// the centered form from Graves 2013, https://arxiv.org/abs/1308.0850), as PyTorch 1.13's
// torch.optim.RMSprop. Per parameter, with g its gradient:
//
//   g ← −g                             if maximize
//   g ← g + λ·θ                        weight decay (L2)
//   s ← α·s + (1 − α)·g²               running mean of g² (squareAvg)
//   ḡ ← α·ḡ + (1 − α)·g                centered only: running mean of g (gradAvg)
//   d ← √(s − ḡ²) + ε   (centered)  or  √s + ε
//   b ← μ·b + g/d;  θ ← θ − lr·b       with momentum μ > 0 (the buffer starts at 0)
//   θ ← θ − lr·g/d                     without
//
// Unlike Adam there is no bias correction, and ε is added outside the square root.

import { kernels } from "../ops/kernels.js";
import {
  checkNonNegative,
  Optimizer,
  type FloatStorage,
  type ParamGroup,
  type ParamsInput,
  type ParamState,
} from "./optimizer.js";
import { stripUndefined } from "./sgd.js";

export interface RMSpropOptions {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
}

export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: ParamsInput<RMSpropOptions>, opts: Partial<RMSpropOptions> = {}) {
    const defaults = {
      lr: 1e-2,
      alpha: 0.99,
      eps: 1e-8,
      weightDecay: 0,
      momentum: 0,
      centered: false,
      maximize: false,
      ...stripUndefined(opts),
    };
    super("RMSprop", params, defaults, ["squareAvg", "momentumBuffer", "gradAvg"]);
  }

  protected validate(h: RMSpropOptions, where: string): void {
    checkNonNegative(where, "learning rate lr", h.lr);
    checkNonNegative(where, "eps", h.eps);
    checkNonNegative(where, "momentum", h.momentum);
    checkNonNegative(where, "weightDecay", h.weightDecay);
    checkNonNegative(where, "alpha", h.alpha);
  }

  protected update(
    param: FloatStorage,
    grad: FloatStorage,
    state: ParamState,
    group: ParamGroup<RMSpropOptions>,
  ): void {
    const buf = (name: string) => this.buffer(state, name, param).buf;
    kernels().rmsprop(
      param,
      grad,
      buf("squareAvg"),
      group.centered ? buf("gradAvg") : null,
      group.momentum > 0 ? buf("momentumBuffer") : null,
      {
        lr: group.lr,
        alpha: group.alpha,
        eps: group.eps,
        weightDecay: group.weightDecay,
        momentum: group.momentum,
        maximize: group.maximize,
      },
    );
  }
}
