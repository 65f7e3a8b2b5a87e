// A multilayer perceptron for MNIST: flattened pixels through fully connected layers with ReLU.
//   Rumelhart, Hinton, Williams 1986, "Learning representations by back-propagating errors"
//   https://www.nature.com/articles/323533a0
//
//   h₀ = x (N, 784);  hᵢ = ReLU(hᵢ₋₁·Wᵢᵀ + bᵢ);  logits = h_L·W_outᵀ + b_out (N, classes)
//
// Vocabulary: N images, D = 784 input pixels, H hidden units.

import type { Generator } from "../../engine/rng.js";
import type { Tensor } from "../../engine/tensor.js";
import { Dropout, Linear } from "../../nn/index.js";
import { Module, ModuleList } from "../../nn/module.js";
import { linearFlops, sortedKinds, type Architecture } from "../architecture.js";

export interface MLPConfig {
  readonly inputs: number;
  /** the widths of the hidden layers */
  readonly hidden: readonly number[];
  readonly classes: number;
  /** dropout after every hidden layer (Srivastava et al. 2014) */
  readonly dropout: number;
}

/** 784 → 512 → 256 → 10 */
export const MNIST_MLP: MLPConfig = Object.freeze({
  inputs: 784,
  hidden: Object.freeze([512, 256]),
  classes: 10,
  dropout: 0.2,
});

/** The widths of the layers: inputs → hidden… → classes. */
const widthsOf = (c: MLPConfig): number[] => [c.inputs, ...c.hidden, c.classes];

/** Parameters from the equations: every layer W (out, in) and b (out). 535,818 for MNIST_MLP. */
export function countParameters(c: MLPConfig): number {
  const w = widthsOf(c);
  return w.slice(1).reduce((n, out, i) => n + out * (w[i]! + 1), 0);
}

/** The architecture in one row (src/models/architecture.ts). FLOPs per image: Σ 2·in·out over the layers. */
export function describe(c: MLPConfig): Architecture {
  const w = widthsOf(c);
  return {
    title: "MLP",
    config: `${w.join(" → ")}, dropout ${c.dropout}`,
    parameters: countParameters(c),
    layers: sortedKinds({ [Linear.name]: w.length - 1 }),
    normalization: "none",
    positions: "none: the pixels are flattened, each in its own input slot",
    attention: "none",
    activation: "ReLU",
    flops: {
      value: w.slice(1).reduce((n, out, i) => n + linearFlops(w[i]!, out), 0),
      per: "image",
      at: `${c.inputs} inputs`,
    },
  };
}

export class MLP extends Module {
  readonly config: MLPConfig;
  layers: ModuleList<Linear>;
  drop: Dropout;
  out: Linear;

  constructor(config: MLPConfig = MNIST_MLP, opts: { generator?: Generator } = {}) {
    super();
    this.config = config;
    const widths = [config.inputs, ...config.hidden];
    this.layers = new ModuleList(config.hidden.map((h, i) => new Linear(widths[i]!, h, { generator: opts.generator })));
    this.drop = new Dropout(config.dropout);
    this.out = new Linear(widths[widths.length - 1]!, config.classes, { generator: opts.generator });
  }

  /** x (N, 784) or (N, 1, 28, 28) → logits (N, classes) */
  forward(x: Tensor): Tensor {
    let h = x.reshape(x.shape[0]!, -1); // (N, D)
    for (const layer of this.layers) h = this.drop.forward(layer.forward(h).relu()); // (N, H)
    return this.out.forward(h); // (N, classes)
  }
}
