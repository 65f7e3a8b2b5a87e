// Dropout and the activation modules (stateless wrappers of the functional ops, for use in Sequential).

import { dropout, softmax, logSoftmax } from "../ops/nn.js";
import { gelu, leakyRelu, relu, sigmoid, silu, tanh } from "../ops/elementwise.js";
import { ArgumentError } from "../engine/errors.js";
import type { Generator } from "../engine/rng.js";
import type { Tensor } from "../engine/tensor.js";
import { Module } from "./module.js";

export interface DropoutOptions {
  /** the source of the masks (default: the library's default generator) */
  generator?: Generator;
  /** false: the input has no batch dimension (a table every row shares; see F.dropout); default true */
  batchFirst?: boolean;
}

/**
 * In training mode, zero each element with probability p and scale the others by 1/(1 − p);
 * in eval mode, the identity (Srivastava et al. 2014).
 */
export class Dropout extends Module {
  private readonly generator: Generator | undefined;
  private readonly batchFirst: boolean;

  constructor(
    readonly p = 0.5,
    opts: DropoutOptions = {},
  ) {
    super();
    if (typeof p !== "number" || !(p >= 0 && p <= 1))
      throw new ArgumentError(`Dropout: probability p must be in [0, 1], got ${p}`);
    this.generator = opts.generator;
    this.batchFirst = opts.batchFirst ?? true;
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training, { generator: this.generator, batchFirst: this.batchFirst });
  }
}

/** max(0, x) */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** x for x ≥ 0, negativeSlope·x otherwise */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }

  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }
}

export interface GELUOptions {
  /** "none" (default): x·Φ(x) with erf; "tanh": the tanh approximation (GPT-2's) */
  approximate?: "none" | "tanh";
}

/** x·Φ(x) (Hendrycks & Gimpel 2016) */
export class GELU extends Module {
  readonly approximate: "none" | "tanh";

  constructor(opts: GELUOptions = {}) {
    super();
    this.approximate = opts.approximate ?? "none";
    if (this.approximate !== "none" && this.approximate !== "tanh")
      throw new ArgumentError(`GELU: approximate must be "none" or "tanh", got ${JSON.stringify(opts.approximate)}`);
  }

  forward(x: Tensor): Tensor {
    return gelu(x, { approximate: this.approximate });
  }
}

/** x·σ(x) (also called swish) */
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return silu(x);
  }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** 1/(1 + e^−x) */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** exp(x)/Σ exp(x) along dim */
export class Softmax extends Module {
  constructor(readonly dim: number) {
    super();
  }

  forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }
}

/** log softmax along dim */
export class LogSoftmax extends Module {
  constructor(readonly dim: number) {
    super();
  }

  forward(x: Tensor): Tensor {
    return logSoftmax(x, this.dim);
  }
}
