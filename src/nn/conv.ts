// Convolution and pooling layers, with PyTorch's default initialisation:
//   weight ~ kaiming_uniform(a = √5) = U(±1/√fan_in),  bias ~ U(±1/√fan_in)
// where fan_in = weight.shape[1]·Π kernel — for Conv that is (in/groups)·Π k; for ConvTranspose2d,
// whose weight is (in, out/groups, kh, kw), PyTorch takes the same formula, so fan_in = (out/groups)·kh·kw.
//
// Vocabulary: N batch, C in channels, O out channels, H W L spatial sizes, k kernel.

import { avgPool2d, conv1d, conv2d, convTranspose2d, maxPool2d, type IntPair } from "../ops/conv.js";
import { ArgumentError } from "../engine/errors.js";
import type { Tensor } from "../engine/tensor.js";
import { calculateFanInAndFanOut, kaimingUniform_, uniform_ } from "./init.js";
import { checkSize, param, type InitOptions } from "./linear.js";
import { Module, type Parameter } from "./module.js";

function pair(layer: string, what: string, v: IntPair): [number, number] {
  const p: [number, number] = typeof v === "number" ? [v, v] : [v[0], v[1]];
  if (!p.every((n) => Number.isInteger(n) && n >= 0) || (typeof v !== "number" && v.length !== 2)) {
    throw new ArgumentError(
      `${layer}: ${what} must be a non-negative integer or a pair of them, got ${JSON.stringify(v)}`,
    );
  }
  return p;
}

function checkGroups(layer: string, inC: number, outC: number, groups: number): void {
  checkSize(layer, "groups", groups);
  if (inC % groups !== 0) throw new ArgumentError(`${layer}: inChannels ${inC} must be divisible by groups ${groups}`);
  if (outC % groups !== 0)
    throw new ArgumentError(`${layer}: outChannels ${outC} must be divisible by groups ${groups}`);
}

/** PyTorch's ConvNd.reset_parameters: W ~ kaiming_uniform(a = √5), b ~ U(±1/√fan_in). */
function resetConv(weight: Parameter, bias: Parameter | null, opts: InitOptions): void {
  kaimingUniform_(weight, { a: Math.sqrt(5), generator: opts.generator });
  if (bias) {
    const [fanIn] = calculateFanInAndFanOut(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform_(bias, -bound, bound, opts);
  }
}

export interface Conv2dOptions extends InitOptions {
  stride?: IntPair;
  /** zeros on each side; "same" keeps the size (stride 1 only), "valid" = 0 */
  padding?: IntPair | "same" | "valid";
  dilation?: IntPair;
  groups?: number;
  /** default true */
  bias?: boolean;
}

/** 2-D convolution: x (N, C, H, W) → (N, O, oh, ow); weight (O, C/groups, kh, kw), bias (O). */
export class Conv2d extends Module {
  weight: Parameter; // (O, C/groups, kh, kw)
  bias: Parameter | null; // (O)
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number] | "same" | "valid";
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: IntPair,
    opts: Conv2dOptions = {},
  ) {
    super();
    checkSize("Conv2d", "inChannels", inChannels);
    checkSize("Conv2d", "outChannels", outChannels);
    this.groups = opts.groups ?? 1;
    checkGroups("Conv2d", inChannels, outChannels, this.groups);
    this.kernelSize = pair("Conv2d", "kernelSize", kernelSize);
    this.stride = pair("Conv2d", "stride", opts.stride ?? 1);
    const padding = opts.padding ?? 0;
    this.padding = typeof padding === "string" ? padding : pair("Conv2d", "padding", padding);
    this.dilation = pair("Conv2d", "dilation", opts.dilation ?? 1);
    this.weight = param([outChannels, inChannels / this.groups, ...this.kernelSize]);
    this.bias = (opts.bias ?? true) ? param([outChannels]) : null;
    this.resetParameters(opts);
  }

  resetParameters(opts: InitOptions = {}): void {
    resetConv(this.weight, this.bias, opts);
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }
}

export interface Conv1dOptions extends InitOptions {
  stride?: number;
  /** zeros on each side; "same" keeps the length (stride 1 only), "valid" = 0 */
  padding?: number | "same" | "valid";
  dilation?: number;
  groups?: number;
  /** default true */
  bias?: boolean;
}

/** 1-D convolution: x (N, C, L) → (N, O, oL); weight (O, C/groups, k), bias (O). */
export class Conv1d extends Module {
  weight: Parameter; // (O, C/groups, k)
  bias: Parameter | null; // (O)
  readonly stride: number;
  readonly padding: number | "same" | "valid";
  readonly dilation: number;
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    opts: Conv1dOptions = {},
  ) {
    super();
    checkSize("Conv1d", "inChannels", inChannels);
    checkSize("Conv1d", "outChannels", outChannels);
    checkSize("Conv1d", "kernelSize", kernelSize);
    this.groups = opts.groups ?? 1;
    checkGroups("Conv1d", inChannels, outChannels, this.groups);
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    this.dilation = opts.dilation ?? 1;
    this.weight = param([outChannels, inChannels / this.groups, kernelSize]);
    this.bias = (opts.bias ?? true) ? param([outChannels]) : null;
    this.resetParameters(opts);
  }

  resetParameters(opts: InitOptions = {}): void {
    resetConv(this.weight, this.bias, opts);
  }

  forward(x: Tensor): Tensor {
    return conv1d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }
}

export interface ConvTranspose2dOptions extends InitOptions {
  stride?: IntPair;
  padding?: IntPair;
  /** extra rows/columns on the bottom/right of the output (smaller than stride or dilation) */
  outputPadding?: IntPair;
  groups?: number;
  /** default true */
  bias?: boolean;
  dilation?: IntPair;
}

/**
 * The transposed convolution (the gradient of Conv2d with respect to its input):
 * x (N, C, H, W) → (N, O, (H − 1)·s − 2p + d(k − 1) + outputPadding + 1, …); weight (C, O/groups, kh, kw).
 */
export class ConvTranspose2d extends Module {
  weight: Parameter; // (C, O/groups, kh, kw)
  bias: Parameter | null; // (O)
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly outputPadding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: IntPair,
    opts: ConvTranspose2dOptions = {},
  ) {
    super();
    checkSize("ConvTranspose2d", "inChannels", inChannels);
    checkSize("ConvTranspose2d", "outChannels", outChannels);
    this.groups = opts.groups ?? 1;
    checkGroups("ConvTranspose2d", inChannels, outChannels, this.groups);
    this.kernelSize = pair("ConvTranspose2d", "kernelSize", kernelSize);
    this.stride = pair("ConvTranspose2d", "stride", opts.stride ?? 1);
    this.padding = pair("ConvTranspose2d", "padding", opts.padding ?? 0);
    this.outputPadding = pair("ConvTranspose2d", "outputPadding", opts.outputPadding ?? 0);
    this.dilation = pair("ConvTranspose2d", "dilation", opts.dilation ?? 1);
    this.weight = param([inChannels, outChannels / this.groups, ...this.kernelSize]);
    this.bias = (opts.bias ?? true) ? param([outChannels]) : null;
    this.resetParameters(opts);
  }

  resetParameters(opts: InitOptions = {}): void {
    resetConv(this.weight, this.bias, opts);
  }

  forward(x: Tensor): Tensor {
    return convTranspose2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      outputPadding: this.outputPadding,
      groups: this.groups,
      dilation: this.dilation,
    });
  }
}

export interface MaxPool2dOptions {
  /** default: kernelSize */
  stride?: IntPair;
  padding?: IntPair;
  dilation?: IntPair;
  ceilMode?: boolean;
}

/** The maximum over each window: (N, C, H, W) → (N, C, oh, ow). */
export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: IntPair,
    readonly opts: MaxPool2dOptions = {},
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.opts);
  }
}

export interface AvgPool2dOptions {
  /** default: kernelSize */
  stride?: IntPair;
  padding?: IntPair;
  ceilMode?: boolean;
  /** count the zero padding in the divisor (default true) */
  countIncludePad?: boolean;
}

/** The mean over each window: (N, C, H, W) → (N, C, oh, ow). */
export class AvgPool2d extends Module {
  constructor(
    readonly kernelSize: IntPair,
    readonly opts: AvgPool2dOptions = {},
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.opts);
  }
}
