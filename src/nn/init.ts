// Weight initialisers (PyTorch's torch.nn.init, in camelCase). Each one fills a tensor's storage in
// place and returns the tensor; nothing is recorded for autograd (the storage is written directly,
// inside noGrad, as PyTorch's `with torch.no_grad()`). The random ones draw from a Generator: the one
// passed as `generator`, or the library's default one (seeded by manualSeed).
//
// Our generator is not PyTorch's, so the values differ from PyTorch's for the same seed; the
// distributions are the same, and the tests check their bounds and moments.
//
// Inside meta() (src/engine/meta.ts) the tensors are shape-only: every initialiser checks its arguments and
// leaves a meta tensor as it is (nothing to fill, nothing drawn from the generator).
//
// Fans, for a weight of shape (out, in, *k) (Linear (out, in), Conv2d (out, in/groups, kh, kw)):
//   fan_in = in · Π k,   fan_out = out · Π k
// The gain of a nonlinearity (PyTorch's calculate_gain) keeps the variance of activations steady:
//   linear, conv*, sigmoid: 1   tanh: 5/3   relu: √2   leaky_relu(a): √(2/(1 + a²))   selu: 3/4

import { noGrad } from "../engine/autograd.js";
import { isFloating } from "../engine/dtype.js";
import { ArgumentError, DTypeError } from "../engine/errors.js";
import { defaultGenerator, type Generator } from "../engine/rng.js";
import { fmt } from "../engine/shape.js";
import type { Tensor } from "../engine/tensor.js";

export type Nonlinearity =
  | "linear"
  | "conv1d"
  | "conv2d"
  | "conv3d"
  | "conv_transpose1d"
  | "conv_transpose2d"
  | "conv_transpose3d"
  | "sigmoid"
  | "tanh"
  | "relu"
  | "leaky_relu"
  | "selu";

export type FanMode = "fan_in" | "fan_out";

export interface RandomInitOptions {
  /** the source of randomness; default the library's default generator */
  generator?: Generator;
}

export interface KaimingOptions extends RandomInitOptions {
  /** the negative slope of the leaky ReLU after this layer (only with nonlinearity "leaky_relu"); default 0 */
  a?: number;
  /** "fan_in" (default) keeps the forward variance, "fan_out" the backward one */
  mode?: FanMode;
  /** default "leaky_relu" (with a = 0 that is ReLU's gain √2), as PyTorch */
  nonlinearity?: Nonlinearity;
}

export interface XavierOptions extends RandomInitOptions {
  /** default 1 */
  gain?: number;
}

/** The recommended gain for a nonlinearity (PyTorch's calculate_gain); `param` is leaky_relu's negative slope. */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case "linear":
    case "conv1d":
    case "conv2d":
    case "conv3d":
    case "conv_transpose1d":
    case "conv_transpose2d":
    case "conv_transpose3d":
    case "sigmoid":
      return 1;
    case "tanh":
      return 5 / 3;
    case "relu":
      return Math.SQRT2;
    case "leaky_relu": {
      const slope = param ?? 0.01;
      // gain = √(2 / (1 + a²))
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case "selu":
      return 3 / 4;
    default:
      throw new ArgumentError(`calculateGain: unsupported nonlinearity ${JSON.stringify(nonlinearity)}`);
  }
}

/** [fan_in, fan_out] of a weight of at least 2 dims: (out, in, *k) → [in·Πk, out·Πk]. */
export function calculateFanInAndFanOut(t: Tensor): [number, number] {
  if (t.ndim < 2)
    throw new ArgumentError(
      `init: fan in and fan out cannot be computed for a tensor with fewer than 2 dims, got shape ${fmt(t.shape)}`,
    );
  let receptive = 1;
  for (let d = 2; d < t.ndim; d++) receptive *= t.shape[d]!;
  return [t.shape[1]! * receptive, t.shape[0]! * receptive];
}

function fanOf(t: Tensor, mode: FanMode): number {
  if (mode !== "fan_in" && mode !== "fan_out")
    throw new ArgumentError(`init: mode must be "fan_in" or "fan_out", got ${JSON.stringify(mode)}`);
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  return mode === "fan_in" ? fanIn : fanOut;
}

function floatStorage(op: string, t: Tensor) {
  if (!isFloating(t.dtype))
    throw new DTypeError(`${op}: can only fill a floating-point tensor, got ${t.dtype} of shape ${fmt(t.shape)}`);
  return t.storage;
}

/** Fill every element with fn() (in place, outside autograd); a meta tensor has no elements to fill. */
function fill(op: string, t: Tensor, fn: () => number): Tensor {
  const s = floatStorage(op, t);
  if (t.isMeta) return t;
  noGrad(() => {
    for (let i = 0; i < s.length; i++) s[i] = fn();
  });
  return t;
}

/** U(low, high). */
export function uniform_(t: Tensor, low = 0, high = 1, opts: RandomInitOptions = {}): Tensor {
  if (!(low <= high)) throw new ArgumentError(`uniform_: expected low ≤ high, got low=${low}, high=${high}`);
  const g = opts.generator ?? defaultGenerator;
  return fill("uniform_", t, () => low + (high - low) * g.random());
}

/** N(mean, std²). */
export function normal_(t: Tensor, mean = 0, std = 1, opts: RandomInitOptions = {}): Tensor {
  if (!(std >= 0)) throw new ArgumentError(`normal_: std must be non-negative, got ${std}`);
  const g = opts.generator ?? defaultGenerator;
  return fill("normal_", t, () => mean + std * g.normal());
}

/**
 * N(mean, std²) truncated to [a, b] (absolute bounds, as PyTorch's trunc_normal_). Drawn by rejection,
 * which gives exactly the truncated distribution (PyTorch uses the inverse CDF; same law, other values).
 */
export function truncNormal_(t: Tensor, mean = 0, std = 1, a = -2, b = 2, opts: RandomInitOptions = {}): Tensor {
  if (!(std > 0) || !(a < b))
    throw new ArgumentError(`truncNormal_: need std > 0 and a < b, got std=${std}, a=${a}, b=${b}`);
  // rejection needs the interval to hold a fair share of the mass; [mean − 2σ, mean + 2σ]-like bounds hold 95%
  const g = opts.generator ?? defaultGenerator;
  const za = (a - mean) / std,
    zb = (b - mean) / std;
  if (zb < -5 || za > 5)
    throw new ArgumentError(
      `truncNormal_: [a, b] = [${a}, ${b}] lies more than 5 std from the mean ${mean}; rejection sampling would not end`,
    );
  return fill("truncNormal_", t, () => {
    for (;;) {
      const z = g.normal();
      if (z >= za && z <= zb) return mean + std * z;
    }
  });
}

export function constant_(t: Tensor, value: number): Tensor {
  return fill("constant_", t, () => value);
}

export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/** Glorot & Bengio (2010): U(−a, a) with a = gain·√(6/(fan_in + fan_out)). */
export function xavierUniform_(t: Tensor, opts: XavierOptions = {}): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const a = (opts.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -a, a, opts);
}

/** Glorot & Bengio (2010): N(0, std²) with std = gain·√(2/(fan_in + fan_out)). */
export function xavierNormal_(t: Tensor, opts: XavierOptions = {}): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const std = (opts.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut));
  return normal_(t, 0, std, opts);
}

/** He et al. (2015): U(−bound, bound) with bound = gain·√(3/fan), gain = calculateGain(nonlinearity, a). */
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const fan = fanOf(t, opts.mode ?? "fan_in");
  const gain = calculateGain(opts.nonlinearity ?? "leaky_relu", opts.a ?? 0);
  // std = gain/√fan, and U(−b, b) has std b/√3
  const bound = fan === 0 ? 0 : gain * Math.sqrt(3 / fan);
  return uniform_(t, -bound, bound, opts);
}

/** He et al. (2015): N(0, std²) with std = gain/√fan. */
export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const fan = fanOf(t, opts.mode ?? "fan_in");
  const gain = calculateGain(opts.nonlinearity ?? "leaky_relu", opts.a ?? 0);
  const std = fan === 0 ? 0 : gain / Math.sqrt(fan);
  return normal_(t, 0, std, opts);
}
