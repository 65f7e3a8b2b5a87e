// Normalisation layers: LayerNorm, RMSNorm, GroupNorm, BatchNorm1d/2d, with PyTorch's defaults
// (weight ones, bias zeros; BatchNorm's running mean zeros, running variance ones).
//
// Vocabulary: N batch, C channels, * trailing dims, G groups.

import { batchNorm, groupNorm, layerNorm, rmsNorm } from "../ops/nn.js";
import { ArgumentError, ShapeError } from "../engine/errors.js";
import { zeros, ones } from "../engine/creation.js";
import { fmt } from "../engine/shape.js";
import type { Tensor } from "../engine/tensor.js";
import { ones_, zeros_ } from "./init.js";
import { checkSize, param } from "./linear.js";
import { Module, type Parameter } from "./module.js";

function shapeOf(layer: string, normalizedShape: number | readonly number[]): number[] {
  const s = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
  if (s.length === 0 || !s.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new ArgumentError(
      `${layer}: normalizedShape must be a non-negative integer or a non-empty list of them, got ${JSON.stringify(normalizedShape)}`,
    );
  }
  return s;
}

export interface LayerNormOptions {
  /** added to the variance (default 1e-5) */
  eps?: number;
  /** learn weight and bias (default true) */
  elementwiseAffine?: boolean;
  /** learn the bias too (default true; only with elementwiseAffine) */
  bias?: boolean;
}

/** y = (x − μ)/√(σ² + eps)·w + b over the trailing normalizedShape dims:  x (*, ...normalizedShape). */
export class LayerNorm extends Module {
  weight: Parameter | null; // normalizedShape
  bias: Parameter | null; // normalizedShape
  readonly normalizedShape: number[];
  readonly eps: number;

  constructor(normalizedShape: number | readonly number[], opts: LayerNormOptions = {}) {
    super();
    this.normalizedShape = shapeOf("LayerNorm", normalizedShape);
    this.eps = opts.eps ?? 1e-5;
    const affine = opts.elementwiseAffine ?? true;
    this.weight = affine ? param(this.normalizedShape) : null;
    this.bias = affine && (opts.bias ?? true) ? param(this.normalizedShape) : null;
    this.resetParameters();
  }

  resetParameters(): void {
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
}

export interface RMSNormOptions {
  /** added to mean(x²); default undefined: the machine epsilon of x's dtype (PyTorch 2.x's nn.RMSNorm) */
  eps?: number;
  /** learn weight (default true) */
  elementwiseAffine?: boolean;
}

/** y = x/√(mean(x²) + eps)·w over the trailing normalizedShape dims (Zhang & Sennrich 2019). */
export class RMSNorm extends Module {
  weight: Parameter | null; // normalizedShape
  readonly normalizedShape: number[];
  readonly eps: number | undefined;

  constructor(normalizedShape: number | readonly number[], opts: RMSNormOptions = {}) {
    super();
    this.normalizedShape = shapeOf("RMSNorm", normalizedShape);
    this.eps = opts.eps;
    this.weight = (opts.elementwiseAffine ?? true) ? param(this.normalizedShape) : null;
    this.resetParameters();
  }

  resetParameters(): void {
    if (this.weight) ones_(this.weight);
  }

  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.normalizedShape, this.weight, this.eps);
  }
}

export interface GroupNormOptions {
  /** default 1e-5 */
  eps?: number;
  /** learn a per-channel weight and bias (default true) */
  affine?: boolean;
}

/** Normalise each (sample, group of C/G channels) of x (N, C, *), then y·w[c] + b[c] (Wu & He 2018). */
export class GroupNorm extends Module {
  weight: Parameter | null; // (C)
  bias: Parameter | null; // (C)
  readonly eps: number;

  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    opts: GroupNormOptions = {},
  ) {
    super();
    checkSize("GroupNorm", "numGroups", numGroups);
    checkSize("GroupNorm", "numChannels", numChannels);
    if (numChannels % numGroups !== 0)
      throw new ArgumentError(`GroupNorm: numChannels ${numChannels} must be divisible by numGroups ${numGroups}`);
    this.eps = opts.eps ?? 1e-5;
    const affine = opts.affine ?? true;
    this.weight = affine ? param([numChannels]) : null;
    this.bias = affine ? param([numChannels]) : null;
    this.resetParameters();
  }

  resetParameters(): void {
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  forward(x: Tensor): Tensor {
    if (x.ndim < 2 || x.shape[1] !== this.numChannels) {
      throw new ShapeError(`GroupNorm: expected an input (N, ${this.numChannels}, *), got ${fmt(x.shape)}`);
    }
    return groupNorm(x, this.numGroups, this.weight, this.bias, this.eps);
  }
}

export interface BatchNormOptions {
  /** default 1e-5 */
  eps?: number;
  /**
   * the weight of the new batch in the running statistics (default 0.1):
   * running ← (1 − momentum)·running + momentum·batch. null: a cumulative average (momentum = 1/numBatchesTracked).
   */
  momentum?: number | null;
  /** learn a per-channel weight and bias (default true) */
  affine?: boolean;
  /** keep running statistics and use them in eval mode (default true); false: always normalise with the batch's */
  trackRunningStats?: boolean;
}

/**
 * Batch norm (Ioffe & Szegedy 2015) over the channel dim 1: in training mode each channel is normalised
 * with the batch's mean and biased variance, and the buffers runningMean/runningVar are updated (with the
 * unbiased variance, as PyTorch); in eval mode the running statistics are used.
 */
abstract class BatchNormBase extends Module {
  weight: Parameter | null; // (C)
  bias: Parameter | null; // (C)
  runningMean: Tensor | null = null; // (C) buffer
  runningVar: Tensor | null = null; // (C) buffer
  numBatchesTracked: Tensor | null = null; // () int32 buffer
  readonly eps: number;
  readonly momentum: number | null;
  readonly trackRunningStats: boolean;

  protected abstract checkInput(x: Tensor): void;

  constructor(
    readonly numFeatures: number,
    opts: BatchNormOptions = {},
  ) {
    super();
    checkSize(this.constructor.name, "numFeatures", numFeatures);
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    const affine = opts.affine ?? true;
    this.weight = affine ? param([numFeatures]) : null;
    this.bias = affine ? param([numFeatures]) : null;
    if (this.trackRunningStats) {
      this.registerBuffer("runningMean", zeros([numFeatures]));
      this.registerBuffer("runningVar", ones([numFeatures]));
      this.registerBuffer("numBatchesTracked", zeros([], { dtype: "int32" }));
    }
    this.resetParameters();
  }

  resetRunningStats(): void {
    if (this.runningMean?.isMeta) return; // built inside meta(): nothing to reset
    this.runningMean?.storage.fill(0);
    this.runningVar?.storage.fill(1);
    this.numBatchesTracked?.storage.fill(0);
  }

  resetParameters(): void {
    this.resetRunningStats();
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    if (x.shape[1] !== this.numFeatures) {
      throw new ShapeError(
        `${this.constructor.name}: expected ${this.numFeatures} channels in dim 1, got input of shape ${fmt(x.shape)}`,
      );
    }
    let factor = this.momentum ?? 0;
    if (this.training && this.numBatchesTracked) {
      this.numBatchesTracked.storage[0]! += 1;
      // momentum null: running = the plain average of every batch so far
      if (this.momentum === null) factor = 1 / this.numBatchesTracked.storage[0]!;
    }
    // batch statistics when training or when there are no running ones
    const useBatch = this.training || this.runningMean === null;
    const track = this.training ? this.runningMean : null; // eval never updates the buffers
    return batchNorm(
      x,
      useBatch ? track : this.runningMean,
      useBatch ? track && this.runningVar : this.runningVar,
      this.weight,
      this.bias,
      useBatch,
      factor,
      this.eps,
    );
  }
}

/** BatchNorm over (N, C) or (N, C, L). */
export class BatchNorm1d extends BatchNormBase {
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3)
      throw new ShapeError(`BatchNorm1d: expected a 2-D (N, C) or 3-D (N, C, L) input, got ${fmt(x.shape)}`);
  }
}

/** BatchNorm over (N, C, H, W). */
export class BatchNorm2d extends BatchNormBase {
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 4) throw new ShapeError(`BatchNorm2d: expected a 4-D (N, C, H, W) input, got ${fmt(x.shape)}`);
  }
}
