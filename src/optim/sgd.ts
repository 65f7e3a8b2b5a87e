// Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay
// (PyTorch's torch.optim.SGD, 1.13). Per parameter, with g its gradient:
//
//   g ← −g                         if maximize
//   g ← g + λ·θ                    weight decay (L2), λ = weightDecay
//   b ← g                          at the first step (the buffer starts as the gradient itself)
//   b ← μ·b + (1 − τ)·g            afterwards; μ = momentum, τ = dampening
//   g ← g + μ·b  (Nesterov)   or   g ← b  (classical)          when μ ≠ 0
//   θ ← θ − lr·g
//
// Nesterov momentum is Sutskever et al. 2013's reformulation, http://www.cs.toronto.edu/~hinton/absps/momentum.pdf

import { ArgumentError } from "../engine/errors.js";
import { kernels } from "../ops/kernels.js";
import {
  checkNonNegative,
  Optimizer,
  type FloatStorage,
  type ParamGroup,
  type ParamsInput,
  type ParamState,
} from "./optimizer.js";

export interface SGDOptions {
  /** the learning rate; required (here or in every group), as in PyTorch */
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsInput<SGDOptions>, opts: Partial<SGDOptions> = {}) {
    const defaults = {
      lr: opts.lr as number,
      momentum: 0,
      dampening: 0,
      weightDecay: 0,
      nesterov: false,
      maximize: false,
      ...stripUndefined(opts),
    };
    super("SGD", params, defaults, ["momentumBuffer"]);
  }

  protected validate(h: SGDOptions, where: string): void {
    if (h.lr === undefined)
      throw new ArgumentError(`${where}: SGD needs a learning rate; pass { lr } to SGD or to the group`);
    checkNonNegative(where, "learning rate lr", h.lr);
    checkNonNegative(where, "momentum", h.momentum);
    checkNonNegative(where, "weightDecay", h.weightDecay);
    if (typeof h.dampening !== "number" || !Number.isFinite(h.dampening))
      throw new ArgumentError(`${where}: invalid dampening ${JSON.stringify(h.dampening)}`);
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) {
      throw new ArgumentError(
        `${where}: Nesterov momentum needs a momentum > 0 and zero dampening (got momentum ${h.momentum}, dampening ${h.dampening})`,
      );
    }
  }

  protected update(param: FloatStorage, grad: FloatStorage, state: ParamState, group: ParamGroup<SGDOptions>): void {
    let buf: FloatStorage | null = null;
    let initBuffer = false;
    if (group.momentum !== 0) ({ buf, created: initBuffer } = this.buffer(state, "momentumBuffer", param));
    kernels().sgd(param, grad, buf, {
      lr: group.lr,
      momentum: group.momentum,
      dampening: group.dampening,
      nesterov: group.nesterov,
      weightDecay: group.weightDecay,
      maximize: group.maximize,
      initBuffer,
    });
  }
}

/** The options the caller set (so that `{ lr: undefined }` does not hide a default). */
export function stripUndefined<T extends object>(opts: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
