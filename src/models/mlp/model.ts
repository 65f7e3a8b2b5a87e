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

export interface MLPConfig {
  readonly inputs: number;
  /** the widths of the hidden layers */
  readonly hidden: readonly number[];
  readonly classes: number;
  /** dropout after every hidden layer (Srivastava et al. 2014) */
  readonly dropout: number;
}

/** 784 → 512 → 256 → 10 */
export const MNIST_MLP: MLPConfig = Object.freeze({ inputs: 784, hidden: Object.freeze([512, 256]), classes: 10, dropout: 0.2 });

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
