// LeNet-5: the convolutional network that read cheques.
//   LeCun, Bottou, Bengio, Haffner 1998, "Gradient-Based Learning Applied to Document Recognition",
//   Proc. IEEE 86(11), http://yann.lecun.com/exdb/publis/pdf/lecun-01a.pdf (§II.B: LeNet-5)
//
// Seven layers on a 32×32 image: C1 conv 5×5 → 6 maps, S2 2×2 subsampling, C3 conv 5×5 → 16 maps,
// S4 2×2 subsampling, C5 conv 5×5 → 120 (1×1 maps: a fully connected layer that stays a convolution on
// bigger inputs), F6 fully connected → 84, and the output → 10 classes. MNIST's 28×28 digits are padded
// by 2 in C1, as the paper's own input was: digits of at most 20×20 centred in a 28×28 field, placed in a
// 32×32 image so that features such as stroke end-points and corners can fall in the centre of the
// receptive field of the highest-level feature detectors (§II.B).
//
// This file is the modern variant, as PyTorch users write LeNet-5 today. Differences from the paper
// (DIFF(paper) at each line; the README has the full list):
//   - ReLU, not the scaled tanh f(a) = 1.7159·tanh(2a/3)
//   - max-pooling, not subsampling with a trainable coefficient and bias per map (S2, S4)
//   - C3 sees all 6 maps of S2, not the paper's table I of partial connections
//   - the output is a Linear layer read by softmax cross-entropy, not 10 Euclidean RBF units with fixed
//     ±1 codes of stylised 7×12 digits, trained with the paper's MAP criterion
//   - PyTorch's default init, not U(±2.4/F_in)
//
// Read top to bottom: config → model (its layers are nn's) → init → weight map. No generate: a classifier.
//
// Vocabulary (shape comments): N batch, C input channels, S = imageSize, S' = S + 2·padding,
// K = numClasses.

import { ShapeError } from "../../engine/errors.js";
import { configOf } from "../presets.js";
import { defaultGenerator, Generator } from "../../engine/rng.js";
import { fmt } from "../../engine/shape.js";
import type { Tensor } from "../../engine/tensor.js";
import * as F from "../../nn/functional.js";
import { Module } from "../../nn/module.js";
import { Conv2d, Linear } from "../../nn/index.js";
import { convFlops, linearFlops, sortedKinds, type Architecture } from "../architecture.js";

// =====================================================================================================
// Config

export interface LeNetConfig {
  /** input channels (C): 1 for MNIST */
  readonly inChannels: number;
  /** the input's height and width (S): 28 for MNIST, 32 in the paper */
  readonly imageSize: number;
  /** zeros around the input in C1 (2 for 28×28 → the paper's 32×32; 0 for 32×32 inputs) */
  readonly padding: number;
  /** C1's feature maps (the paper: 6) */
  readonly c1: number;
  /** C3's feature maps (16) */
  readonly c3: number;
  /** C5's feature maps (120) */
  readonly c5: number;
  /** F6's units (84: the paper's 7×12 bitmaps of its RBF codes) */
  readonly f6: number;
  /** classes (K) */
  readonly numClasses: number;
}

/** The paper's kernel and pooling sizes, fixed: every conv is 5×5 with stride 1, every pool 2×2 with stride 2. */
export const KERNEL = 5;
export const POOL = 2;

/** A checked, frozen config: `lenetConfig("lenet5")`, `lenetConfig("lenet5", { numClasses: 4 })`. */
export function lenetConfig(
  base: LeNetConfig | keyof typeof PRESETS,
  overrides: Partial<LeNetConfig> = {},
): LeNetConfig {
  return configOf("LeNetConfig", PRESETS, base, overrides, {
    positive: ["inChannels", "imageSize", "c1", "c3", "c5", "f6", "numClasses"],
    counts: ["padding"],
    also: (c) =>
      mapSizes(c).c5 < 1
        ? `a ${c.imageSize}×${c.imageSize} input with padding ${c.padding} is too small for C5 (LeNet-5 needs S + 2·padding ≥ 32)`
        : undefined,
  });
}

export const PRESETS = Object.freeze({
  /** LeNet-5 on MNIST's 28×28 digits, padded by 2 in C1: 61,706 parameters */
  lenet5: Object.freeze({ inChannels: 1, imageSize: 28, padding: 2, c1: 6, c3: 16, c5: 120, f6: 84, numClasses: 10 }),
  /** the same network on the paper's 32×32 inputs (no padding): the same 61,706 parameters */
  "lenet5-32": Object.freeze({
    inChannels: 1,
    imageSize: 32,
    padding: 0,
    c1: 6,
    c3: 16,
    c5: 120,
    f6: 84,
    numClasses: 10,
  }),
} satisfies Record<string, LeNetConfig>);

/** The side of each layer's square maps: a 5×5 conv takes 4 off, a 2×2 pool halves (rounding down). */
export function mapSizes(c: LeNetConfig): { c1: number; s2: number; c3: number; s4: number; c5: number } {
  const c1 = c.imageSize + 2 * c.padding - (KERNEL - 1); // 32 → 28
  const s2 = Math.floor(c1 / POOL); //                      28 → 14
  const c3 = s2 - (KERNEL - 1); //                          14 → 10
  const s4 = Math.floor(c3 / POOL); //                      10 → 5
  const c5 = s4 - (KERNEL - 1); //                           5 → 1
  return { c1, s2, c3, s4, c5 };
}

/**
 * The number of parameters of a config, counted from the equations (nothing allocated). For the preset:
 * C1 6·(1·25 + 1) = 156, C3 16·(6·25 + 1) = 2,416, C5 120·(16·25 + 1) = 48,120, F6 84·(120 + 1) = 10,164,
 * output 10·(84 + 1) = 850: 61,706. (The paper's LeNet-5 trains 60,000: C3's partial connections have
 * 1,516 instead of 2,416, S2 and S4 add 12 and 32 coefficients, and its RBF output is fixed.)
 */
export function countParameters(c: LeNetConfig): number {
  const k2 = KERNEL * KERNEL;
  const conv = (cin: number, cout: number): number => cout * (cin * k2 + 1); // W (out, in, 5, 5), b (out)
  const linear = (fin: number, fout: number): number => fout * (fin + 1); //   W (out, in), b (out)
  const side = mapSizes(c).c5;
  return (
    conv(c.inChannels, c.c1) +
    conv(c.c1, c.c3) +
    conv(c.c3, c.c5) +
    linear(c.c5 * side * side, c.f6) +
    linear(c.f6, c.numClasses)
  );
}

/**
 * The architecture in one row (src/models/architecture.ts). FLOPs per image: each 5×5 conv
 * 2·in·25·out·side² over its output map (C1 28², C3 10², C5 1² for the preset), then F6 and the output;
 * pooling is not counted. The preset: 2·(1·25·6·784 + 6·25·16·100 + 16·25·120·1 + 120·84 + 84·10) = 833,040.
 */
export function describe(c: LeNetConfig): Architecture {
  const m = mapSizes(c);
  const flops =
    convFlops(c.inChannels, c.c1, KERNEL, m.c1) +
    convFlops(c.c1, c.c3, KERNEL, m.c3) +
    convFlops(c.c3, c.c5, KERNEL, m.c5) +
    linearFlops(c.c5 * m.c5 * m.c5, c.f6) +
    linearFlops(c.f6, c.numClasses);
  return {
    title: "LeNet-5",
    config: `${c.imageSize}×${c.imageSize}×${c.inChannels} input (padding ${c.padding}), maps ${c.c1}-${c.c3}-${c.c5}, F6 ${c.f6}, ${c.numClasses} classes`,
    parameters: countParameters(c),
    layers: sortedKinds({ [Conv2d.name]: 3, [Linear.name]: 2 }),
    normalization: "none",
    positions: "none: 5×5 convolutions and 2×2 max-pooling (translation-equivariant); C5 reads the whole 5×5 map",
    attention: "none",
    activation: "ReLU (the paper: scaled tanh)",
    flops: { value: flops, per: "image", at: `${c.imageSize}×${c.imageSize}` },
  };
}

// =====================================================================================================
// Model

export interface LeNetOptions {
  /** the source of the initial weights (default: the library's default generator, seeded by manualSeed) */
  generator?: Generator;
}

/** Every layer's output for one batch: what the pictures of the feature maps show. */
export interface LeNetActivations {
  c1: Tensor; // (N, c1, 28, 28)  for the preset
  s2: Tensor; // (N, c1, 14, 14)
  c3: Tensor; // (N, c3, 10, 10)
  s4: Tensor; // (N, c3, 5, 5)
  c5: Tensor; // (N, c5, 1, 1)
  f6: Tensor; // (N, f6)
  logits: Tensor; // (N, K)
}

export class LeNet5 extends Module {
  readonly config: LeNetConfig;
  c1: Conv2d;
  c3: Conv2d;
  c5: Conv2d;
  f6: Linear;
  out: Linear;

  constructor(config: LeNetConfig, opts: LeNetOptions = {}) {
    super();
    const c = (this.config = lenetConfig(config));
    const generator = opts.generator ?? defaultGenerator;
    const side = mapSizes(c).c5;
    this.c1 = new Conv2d(c.inChannels, c.c1, KERNEL, { padding: c.padding, generator });
    // DIFF(paper): C3 connects every S2 map to every C3 map (the paper's table I leaves out 60 of the 96 pairs)
    this.c3 = new Conv2d(c.c1, c.c3, KERNEL, { generator });
    this.c5 = new Conv2d(c.c3, c.c5, KERNEL, { generator });
    this.f6 = new Linear(c.c5 * side * side, c.f6, { generator });
    // DIFF(paper): a Linear output; the paper has 10 RBF units y_k = Σ_j (x_j − w_kj)² with fixed ±1 codes
    this.out = new Linear(c.f6, c.numClasses, { generator });
  }

  /** x (N, C, S, S) → logits (N, K). */
  forward(x: Tensor): Tensor {
    return this.activations(x).logits;
  }

  /** The forward pass, keeping every layer's output. */
  activations(x: Tensor): LeNetActivations {
    const { inChannels: C, imageSize: S } = this.config;
    if (x.ndim !== 4 || x.shape[1] !== C || x.shape[2] !== S || x.shape[3] !== S) {
      throw new ShapeError(`LeNet5: expected images (N, ${C}, ${S}, ${S}), got ${fmt(x.shape)}`);
    }
    // DIFF(paper): a = ReLU(W∗x + b), not 1.7159·tanh(2/3·(W∗x + b))
    const c1 = F.relu(this.c1.forward(x)); // (N, c1, S'−4, S'−4)
    // DIFF(paper): the maximum of each 2×2 window, not the paper's squash(w·Σ window + b), one (w, b) per map
    const s2 = F.maxPool2d(c1, POOL); //      (N, c1, 14, 14)
    const c3 = F.relu(this.c3.forward(s2)); // (N, c3, 10, 10)
    const s4 = F.maxPool2d(c3, POOL); //      (N, c3, 5, 5)
    const c5 = F.relu(this.c5.forward(s4)); // (N, c5, 1, 1)
    const f6 = F.relu(this.f6.forward(c5.flatten(1))); // (N, f6)
    const logits = this.out.forward(f6); //    (N, K)
    return { c1, s2, c3, s4, c5, f6, logits };
  }
}

// =====================================================================================================
// Init
//
// PyTorch's defaults, set by the layers themselves: W ~ U(±1/√F_in), b ~ U(±1/√F_in) with F_in the
// inputs of one unit (in·5·5 for a conv). DIFF(paper): the paper draws W ~ U(±2.4/F_in) (§II.B, appendix A),
// which with its scaled tanh keeps the units in their linear range; with ReLU the PyTorch default trains.

// =====================================================================================================
// Weight map
//
// No released LeNet-5 checkpoint exists to load. Our parameter names are the paper's layer names
// (c1, c3, c5, f6, out) and equal, through `fromTorchName`, those of the PyTorch reference
// tools/fixtures/lenet5.py, so its state dict loads with `model.loadStateDict(state)` as it is:
//
// | ours                  | PyTorch reference    | shape                  |
// |-----------------------|----------------------|------------------------|
// | c1.weight / c1.bias   | c1.weight / c1.bias  | (6, 1, 5, 5) / (6)     |
// | c3.weight / c3.bias   | c3.weight / c3.bias  | (16, 6, 5, 5) / (16)   |
// | c5.weight / c5.bias   | c5.weight / c5.bias  | (120, 16, 5, 5) / (120)|
// | f6.weight / f6.bias   | f6.weight / f6.bias  | (84, 120) / (84)       |
// | out.weight / out.bias | out.weight / out.bias| (10, 84) / (10)        |
//
// A LeNet-5 whose C5 is an nn.Linear(400, 120) (the usual PyTorch tutorial) loads after
// c5.weight.view(120, 16, 5, 5): the same numbers, as C5's 5×5 kernels cover its whole 5×5 input.
