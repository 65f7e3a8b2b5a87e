// LeNet-5: a small convolutional network for 28×28 hand-written digits.
//   LeCun, Bottou, Bengio, Haffner 1998, "Gradient-Based Learning Applied to Document Recognition"
//   http://yann.lecun.com/exdb/publis/pdf/lecun-98.pdf
//
// The 1998 network read 32×32 images; MNIST's digits are 28×28, so the first convolution pads by 2 and
// the shapes after it are the paper's. What differs from the paper, as most modern versions do:
//   - ReLU instead of the scaled tanh (A·tanh(S·a)),
//   - max pooling instead of the trainable subsampling (average × coefficient + bias),
//   - C3 connects every S2 map to every C3 map (the paper's sparse connection table is dropped),
//   - the output is a Linear layer read by softmax cross-entropy, not Euclidean RBF units.
//
// Vocabulary: N images, H×W pixels. Layer names follow the paper (c1, s2, c3, s4, f5 = C5, f6, out).

import type { Tensor } from "../../engine/tensor.js";
import { Conv2d, Flatten, Linear, MaxPool2d } from "../../nn/index.js";
import { Module } from "../../nn/module.js";
import type { Generator } from "../../engine/rng.js";

export interface LeNetConfig {
  /** the input's side in pixels (28 for MNIST) */
  readonly imageSize: number;
  readonly classes: number;
}

export const LENET5: LeNetConfig = Object.freeze({ imageSize: 28, classes: 10 });

export class LeNet5 extends Module {
  readonly config: LeNetConfig;
  c1: Conv2d;
  s2: MaxPool2d;
  c3: Conv2d;
  s4: MaxPool2d;
  flatten: Flatten;
  f5: Linear;
  f6: Linear;
  out: Linear;

  constructor(config: LeNetConfig = LENET5, opts: { generator?: Generator } = {}) {
    super();
    this.config = config;
    const g = { generator: opts.generator };
    const pad = (32 - config.imageSize) / 2; // 28×28 → the paper's 32×32 frame
    this.c1 = new Conv2d(1, 6, 5, { padding: Math.max(0, pad), ...g });
    this.s2 = new MaxPool2d(2);
    this.c3 = new Conv2d(6, 16, 5, g);
    this.s4 = new MaxPool2d(2);
    this.flatten = new Flatten();
    this.f5 = new Linear(16 * 5 * 5, 120, g);
    this.f6 = new Linear(120, 84, g);
    this.out = new Linear(84, config.classes, g);
  }

  /** x (N, 1, 28, 28) in [0, 1] → logits (N, classes) */
  forward(x: Tensor): Tensor {
    let h = this.s2.forward(this.c1.forward(x).relu()); // (N, 6, 14, 14)
    h = this.s4.forward(this.c3.forward(h).relu()); //     (N, 16, 5, 5)
    h = this.flatten.forward(h); //                        (N, 400)
    h = this.f5.forward(h).relu(); //                      (N, 120)
    h = this.f6.forward(h).relu(); //                      (N, 84)
    return this.out.forward(h); //                         (N, classes)
  }
}
