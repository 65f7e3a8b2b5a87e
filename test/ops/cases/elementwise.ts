// Op-table entries of the elementwise family (see test/harness/optable.ts).
//
// The references below are plain JS float64, written independently of the kernels: broadcasting is
// done by index arithmetic here, and gelu's Φ(x) comes from Simpson integration of the normal density
// (the kernel uses a series / continued fraction for erf).
import * as wnn from "../../../src/index.js";
import { ArgumentError, DTypeError, ShapeError } from "../../../src/index.js";
import type { TensorLike } from "../../../src/ops/util.js";
import {
  EXTREMES,
  TAIL_SIZES,
  bool,
  int32,
  randn64,
  uniform64,
  values64,
  type OpInfo,
  type Sample,
} from "../../harness/optable.js";

type Make = (shape: number[], seed: number) => wnn.Tensor;
const normal: Make = (s, seed) => randn64(s, seed);
/** Inputs in [0.5, 2): inside the domain of log, sqrt, rsqrt and away from their singularities. */
const positive: Make = (s, seed) => uniform64(s, 0.5, 2, seed);

/** Samples for a unary op: scalar, empty, SIMD tail sizes, a 3-D tensor, and the extreme values (no gradcheck). */
function unarySamples(make: Make = normal, args: unknown[] = [], extremes: number[] = EXTREMES): Sample[] {
  const tag = args.length ? ` ${JSON.stringify(args)}` : "";
  return [
    { label: `0-d scalar${tag}`, inputs: [make([], 1)], args },
    { label: `empty (0,3)${tag}`, inputs: [make([0, 3], 2)], args },
    ...TAIL_SIZES.map((n) => ({ label: `size ${n}${tag}`, inputs: [make([n], 10 + n)], args })),
    { label: `(2,3,4)${tag}`, inputs: [make([2, 3, 4], 3)], args },
    { label: `extremes${tag}`, inputs: [values64(extremes)], args, grad: false },
  ];
}

/** The extremes whose float32 rounding does not change a periodic function's value wholesale. */
const EXTREMES_SMALL = EXTREMES.filter((v) => !(Math.abs(v) >= 1e30));

const pointwiseRef = (f: (v: number) => number) => (inputs: wnn.Tensor[]) => Array.from(inputs[0]!.storage, f);

/** f over the broadcast of the operands (tensors or numbers, in the op's argument order). */
function bcast(f: (...v: number[]) => number, operands: (wnn.Tensor | number)[]): number[] {
  const shapes = operands.map((o) => (typeof o === "number" ? [] : [...o.shape]));
  const nd = Math.max(...shapes.map((s) => s.length));
  // each output size is the one operand size that is not 1 (or 1)
  const out = Array.from(
    { length: nd },
    (_, i) => shapes.map((s) => s[s.length - nd + i] ?? 1).find((d) => d !== 1) ?? 1,
  );
  const n = out.reduce((a, b) => a * b, 1);
  // with no float64 tensor operand the op computes in float32 (or an integer dtype, where fround is exact)
  const round = operands.some((o) => typeof o !== "number" && o.dtype === "float64") ? (v: number) => v : Math.fround;
  const result: number[] = [];
  for (let flat = 0; flat < n; flat++) {
    const vals = operands.map((o, k) => {
      if (typeof o === "number") return o;
      const s = shapes[k]!;
      let rem = flat,
        off = 0,
        stride = 1;
      for (let d = nd - 1; d >= 0; d--) {
        const i = rem % out[d]!;
        rem = Math.floor(rem / out[d]!);
        const sd = s[s.length - nd + d];
        if (sd !== undefined) {
          off += (sd === 1 ? 0 : i) * stride;
          stride *= sd;
        }
      }
      return o.storage[off]!;
    });
    result.push(round(f(...vals)));
  }
  return result;
}

/** Binary samples call op(inputs[0], inputs[1]); args [n] call op(inputs[0], n); args ["left", n] call op(n, inputs[0]). */
function binaryOperands(inputs: wnn.Tensor[], args: unknown[]): (wnn.Tensor | number)[] {
  if (args[0] === "left") return [args[1] as number, inputs[0]!];
  if (typeof args[0] === "number") return [inputs[0]!, args[0]];
  return [inputs[0]!, inputs[1]!];
}
const binaryCall = (fn: (a: TensorLike, b: TensorLike) => wnn.Tensor) => (inputs: wnn.Tensor[], args: unknown[]) => {
  const [a, b] = binaryOperands(inputs, args);
  return fn(a!, b!);
};
const binaryRef = (f: (a: number, b: number) => number) => (inputs: wnn.Tensor[], args: unknown[]) =>
  bcast(f, binaryOperands(inputs, args));

/** Extreme pairs whose results stay inside float32's range (so float32 and float64 agree). */
const EXTREME_A = [0, -0, 0, Infinity, -Infinity, NaN, 1, -1, 1e-30, 88, -88, Infinity, 3];
const EXTREME_B = [0, 1, -0, 2, Infinity, 1, NaN, Infinity, -1, -88, 0.5, Infinity, -Infinity];

function binarySamples(
  makeA: Make = normal,
  makeB: Make = normal,
  ints: [number[], number[]] = [
    [3, -2, 0, 7],
    [2, 5, -1, -7],
  ],
): Sample[] {
  return [
    { label: "same shape (5)", inputs: [makeA([5], 1), makeB([5], 2)] },
    { label: "broadcast (3,1)·(4)", inputs: [makeA([3, 1], 3), makeB([4], 4)] },
    { label: "broadcast (2,1,4)·(3,1)", inputs: [makeA([2, 1, 4], 5), makeB([3, 1], 6)] },
    { label: "scalar·(7)", inputs: [makeA([], 7), makeB([7], 8)] },
    { label: "(8)·scalar", inputs: [makeA([8], 7), makeB([], 8)] },
    { label: "empty (0)·(1)", inputs: [makeA([0], 9), makeB([1], 10)] },
    { label: "(17)·(17)", inputs: [makeA([17], 11), makeB([17], 12)] },
    { label: "(33,2)·(1,2)", inputs: [makeA([33, 2], 13), makeB([1, 2], 14)] },
    { label: "tensor·number", inputs: [makeA([4], 15)], args: [1.75] },
    { label: "number·tensor", inputs: [makeB([3, 2], 16)], args: ["left", 1.25] },
    { label: "extremes", inputs: [values64(EXTREME_A), values64(EXTREME_B)], grad: false },
    { label: "int32·int32", inputs: [int32(ints[0]), int32(ints[1])], grad: false },
  ];
}

const binaryErrors = (name: string, fn: (a: TensorLike, b: TensorLike) => wnn.Tensor) => [
  {
    label: "shapes that do not broadcast",
    call: () => fn(wnn.zeros([2, 3]), wnn.zeros([4])),
    error: ShapeError,
    message: [new RegExp(name), /\(2,3\)/, /\(4\)/],
  },
  {
    label: "a string",
    call: () => fn(wnn.zeros([2]), "x" as never),
    error: ArgumentError,
    message: [new RegExp(name), /string/],
  },
];

const intInputError = (name: string, fn: (x: wnn.Tensor) => unknown) => ({
  label: "int32 input",
  call: () => fn(int32([1, 2])),
  error: DTypeError,
  message: [new RegExp(`${name}:`), /int32/, /\(2\)/],
});

/** An entry for a unary float op with a plain-JS reference. */
function floatUnary(
  name: string,
  fn: (x: wnn.Tensor) => wnn.Tensor,
  ref: (v: number) => number,
  make: Make = normal,
  extremes = EXTREMES,
): OpInfo {
  return {
    name,
    fn,
    samples: unarySamples(make, [], extremes),
    differentiable: true,
    ref: pointwiseRef(ref),
    errors: [intInputError(name, fn)],
  };
}

// Φ(x) by composite Simpson's rule on the normal density, h ≤ 1e-3 (error < 1e-14); beyond |x| > 9 Φ
// is 0 or 1 to double precision.
function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x > 9) return 1;
  if (x < -9) return 0;
  const n = 2 * Math.max(1, Math.ceil(Math.abs(x) * 500));
  const h = x / n;
  const pdf = (t: number) => Math.exp(-0.5 * t * t) / Math.sqrt(2 * Math.PI);
  let s = pdf(0) + pdf(x);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * pdf(i * h);
  return 0.5 + (s * h) / 3;
}

const sig = (v: number) => 1 / (1 + Math.exp(-v));
const nanMax = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a > b ? a : b);
const nanMin = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a < b ? a : b);
// C's pow, which PyTorch follows: 1ᵇ = 1 and (−1)^±∞ = 1
const cpow = (a: number, b: number) => (a === 1 || (a === -1 && Math.abs(b) === Infinity) ? 1 : Math.pow(a, b));

function comparison(name: "eq" | "ne" | "lt" | "le" | "gt" | "ge", f: (a: number, b: number) => boolean): OpInfo {
  const fn = wnn[name];
  return {
    name,
    fn,
    call: binaryCall(fn),
    samples: [
      ...binarySamples(),
      { label: "ties (5)", inputs: [values64([1, 2, 3, -0, 0]), values64([1, 3, 2, 0, 0])] },
      { label: "int32 vs 1.5", inputs: [int32([1, 2, -3])], args: [1.5] },
      { label: "bool vs bool", inputs: [bool([1, 0, 1, 0]), bool([1, 1, 0, 0])] },
    ],
    differentiable: false,
    ref: binaryRef((a, b) => (f(a, b) ? 1 : 0)),
    errors: binaryErrors(name, fn),
  };
}

export const cases: OpInfo[] = [
  // ----------------------------------------------------------------------------------------------- unary
  {
    name: "neg",
    fn: wnn.neg,
    samples: [...unarySamples(), { label: "int32 stays int32", inputs: [int32([1, -2, 0])], grad: false }],
    differentiable: true,
    ref: pointwiseRef((v) => -v),
    errors: [
      { label: "bool input", call: () => wnn.neg(bool([1, 0])), error: DTypeError, message: [/neg/, /bool/, /\(2\)/] },
    ],
  },
  {
    name: "abs",
    fn: wnn.abs,
    samples: [...unarySamples(), { label: "int32 stays int32", inputs: [int32([1, -2, 0])], grad: false }],
    differentiable: true,
    ref: pointwiseRef(Math.abs),
    errors: [
      { label: "bool input", call: () => wnn.abs(bool([1, 0])), error: DTypeError, message: [/abs/, /bool/, /\(2\)/] },
    ],
  },
  floatUnary("exp", wnn.exp, Math.exp),
  floatUnary("log", wnn.log, Math.log, positive),
  floatUnary("log1p", wnn.log1p, Math.log1p, positive),
  floatUnary("sqrt", wnn.sqrt, Math.sqrt, positive),
  floatUnary("rsqrt", wnn.rsqrt, (v) => 1 / Math.sqrt(v), positive),
  floatUnary("sin", wnn.sin, Math.sin, normal, EXTREMES_SMALL),
  floatUnary("cos", wnn.cos, Math.cos, normal, EXTREMES_SMALL),
  floatUnary("tanh", wnn.tanh, Math.tanh),
  floatUnary("sigmoid", wnn.sigmoid, sig),
  floatUnary("silu", wnn.silu, (v) => v * sig(v)),
  {
    name: "relu",
    fn: wnn.relu,
    samples: [...unarySamples(), { label: "int32 stays int32", inputs: [int32([1, -2, 0])], grad: false }],
    differentiable: true,
    ref: pointwiseRef((v) => (Number.isNaN(v) ? v : Math.max(v, 0))),
    errors: [
      {
        label: "bool input",
        call: () => wnn.relu(bool([1, 0])),
        error: DTypeError,
        message: [/relu/, /bool/, /\(2\)/],
      },
    ],
  },
  {
    name: "leakyRelu",
    fn: wnn.leakyRelu,
    samples: [...unarySamples(), ...unarySamples(normal, [0.2]).slice(2, 6)],
    differentiable: true,
    ref: (inputs, args) =>
      Array.from(inputs[0]!.storage, (v) => (v > 0 ? v : ((args[0] as number | undefined) ?? 0.01) * v)),
    errors: [intInputError("leakyRelu", wnn.leakyRelu)],
  },
  {
    name: "elu",
    fn: wnn.elu,
    samples: [...unarySamples(), ...unarySamples(normal, [1.7]).slice(2, 6)],
    differentiable: true,
    ref: (inputs, args) =>
      Array.from(inputs[0]!.storage, (v) => (v > 0 ? v : ((args[0] as number | undefined) ?? 1) * (Math.exp(v) - 1))),
    errors: [intInputError("elu", wnn.elu)],
  },
  {
    name: "gelu",
    fn: wnn.gelu,
    samples: [...unarySamples(), ...unarySamples(normal, [{ approximate: "tanh" }])],
    differentiable: true,
    ref: (inputs, args) => {
      const tanhForm = (args[0] as wnn.GeluOptions | undefined)?.approximate === "tanh";
      const k = Math.sqrt(2 / Math.PI);
      return Array.from(inputs[0]!.storage, (v) =>
        tanhForm ? 0.5 * v * (1 + Math.tanh(k * (v + 0.044715 * v ** 3))) : v * normalCdf(v),
      );
    },
    errors: [
      intInputError("gelu", wnn.gelu),
      {
        label: "unknown approximation",
        call: () => wnn.gelu(wnn.zeros([2]), { approximate: "erf" as never }),
        error: ArgumentError,
        message: [/gelu/, /approximate/],
      },
    ],
  },
  {
    name: "softplus",
    fn: wnn.softplus,
    samples: [
      ...unarySamples(),
      ...unarySamples(normal, [2, 1]).slice(2, 6), // β = 2, threshold 1: both branches
      { label: "beyond the threshold", inputs: [values64([19, 20, 21, 25])], grad: false },
    ],
    differentiable: true,
    ref: (inputs, args) => {
      const beta = (args[0] as number | undefined) ?? 1,
        th = (args[1] as number | undefined) ?? 20;
      return Array.from(inputs[0]!.storage, (v) => (v * beta > th ? v : Math.log(1 + Math.exp(beta * v)) / beta));
    },
    errors: [intInputError("softplus", wnn.softplus)],
  },
  {
    name: "clamp",
    fn: wnn.clamp,
    samples: [
      ...unarySamples(normal, [-0.5, 0.5]),
      { label: "min only (7)", inputs: [randn64([7], 40)], args: [0.1] },
      { label: "max only (7)", inputs: [randn64([7], 41)], args: [null, 0.1] },
      { label: "min > max gives max", inputs: [randn64([5], 42)], args: [1, -1] },
      { label: "on the bounds", inputs: [values64([-1, 1, 0, NaN])], args: [-1, 1], grad: false },
      { label: "int32 with int bounds", inputs: [int32([-5, 0, 5])], args: [-1, 2], grad: false },
      { label: "int32 with a fractional bound", inputs: [int32([-5, 0, 5])], args: [0.5], grad: false },
    ],
    differentiable: true,
    ref: (inputs, args) =>
      Array.from(inputs[0]!.storage, (v) =>
        Number.isNaN(v)
          ? v
          : Math.min(Math.max(v, (args[0] as number | null) ?? -Infinity), (args[1] as number | null) ?? Infinity),
      ),
    errors: [
      {
        label: "no bounds",
        call: () => wnn.clamp(wnn.zeros([2, 3])),
        error: ArgumentError,
        message: [/clamp/, /min and max/, /\(2,3\)/],
      },
    ],
  },
  {
    name: "pow",
    fn: wnn.pow,
    call: binaryCall(wnn.pow),
    samples: [
      ...binarySamples(positive, normal, [
        [3, -2, 0, 7],
        [2, 3, 0, 1],
      ]),
      ...[2, 3, -1.5, 0].map((p, i) => ({ label: `(2,3) ** ${p}`, inputs: [positive([2, 3], 50 + i)], args: [p] })),
      { label: "negative base ** 3", inputs: [randn64([6], 55)], args: [3] },
      { label: "(5) ** 0.5", inputs: [positive([5], 56)], args: [0.5] },
      { label: "2 ** tensor", inputs: [randn64([5], 57)], args: ["left", 2] },
      { label: "zero base", inputs: [values64([0, 0, 0, -0]), values64([0, 2, -1, 3])], grad: false },
      { label: "int32 ** 2", inputs: [int32([3, -2, 0])], args: [2], grad: false },
      { label: "int32 ** 0.5 gives float32", inputs: [int32([4, 2, 0])], args: [0.5], grad: false },
    ],
    differentiable: true,
    ref: binaryRef(cpow),
    errors: [
      ...binaryErrors("pow", wnn.pow),
      {
        label: "int32 to a negative power",
        call: () => wnn.pow(int32([1, 2]), -1),
        error: DTypeError,
        message: [/pow/, /negative/, /\(2\)/],
      },
    ],
  },

  // ----------------------------------------------------------------------------------------------- binary
  {
    name: "add",
    fn: wnn.add,
    call: binaryCall(wnn.add),
    samples: [...binarySamples(), { label: "bool + bool (or)", inputs: [bool([1, 0, 1, 0]), bool([1, 1, 0, 0])] }],
    differentiable: true,
    ref: (inputs, args) =>
      binaryRef(inputs[0]!.dtype === "bool" ? (a, b) => (a || b ? 1 : 0) : (a, b) => a + b)(inputs, args),
    errors: binaryErrors("add", wnn.add),
  },
  {
    name: "sub",
    fn: wnn.sub,
    call: binaryCall(wnn.sub),
    samples: binarySamples(),
    differentiable: true,
    ref: binaryRef((a, b) => a - b),
    errors: [
      ...binaryErrors("sub", wnn.sub),
      {
        label: "bool − bool",
        call: () => wnn.sub(bool([1, 0]), bool([1])),
        error: DTypeError,
        message: [/sub/, /bool/, /\(2\)/, /\(1\)/],
      },
      {
        label: "int32 − bool",
        call: () => wnn.sub(int32([1, 0]), bool([1])),
        error: DTypeError,
        message: [/sub/, /bool/, /\(2\)/, /\(1\)/],
      },
    ],
  },
  {
    name: "mul",
    fn: wnn.mul,
    call: binaryCall(wnn.mul),
    samples: [...binarySamples(), { label: "bool · bool (and)", inputs: [bool([1, 0, 1, 0]), bool([1, 1, 0, 0])] }],
    differentiable: true,
    ref: binaryRef((a, b) => a * b),
    errors: binaryErrors("mul", wnn.mul),
  },
  {
    name: "div",
    fn: wnn.div,
    call: binaryCall(wnn.div),
    samples: [
      ...binarySamples(normal, positive),
      { label: "int32 / int32 gives float32", inputs: [int32([7, -7, 1, 0]), int32([2, 2, 3, 0])] },
    ],
    differentiable: true,
    ref: binaryRef((a, b) => a / b),
    errors: binaryErrors("div", wnn.div),
  },
  {
    name: "maximum",
    fn: wnn.maximum,
    call: binaryCall(wnn.maximum),
    // at a tie the central difference is exactly ½ for each input: the half/half split is checked too
    samples: [...binarySamples(), { label: "ties", inputs: [values64([1, 2, -3]), values64([1, 2, -3])] }],
    differentiable: true,
    ref: binaryRef(nanMax),
    errors: binaryErrors("maximum", wnn.maximum),
  },
  {
    name: "minimum",
    fn: wnn.minimum,
    call: binaryCall(wnn.minimum),
    samples: [...binarySamples(), { label: "ties", inputs: [values64([1, 2, -3]), values64([1, 2, -3])] }],
    differentiable: true,
    ref: binaryRef(nanMin),
    errors: binaryErrors("minimum", wnn.minimum),
  },
  {
    name: "where",
    fn: wnn.where,
    call: (inputs, args) => {
      const [c, ...rest] = inputs;
      if (args[0] === "a") return wnn.where(c!, args[1] as number, rest[0]!);
      if (args[0] === "b") return wnn.where(c!, rest[0]!, args[1] as number);
      if (args[0] === "both") return wnn.where(c!, args[1] as number, args[2] as number);
      return wnn.where(c!, rest[0]!, rest[1]!);
    },
    samples: [
      { label: "same shape (5)", inputs: [bool([1, 0, 1, 1, 0]), randn64([5], 1), randn64([5], 2)] },
      { label: "cond (3,1), a (4), b (3,4)", inputs: [bool([1, 0, 1], [3, 1]), randn64([4], 3), randn64([3, 4], 4)] },
      {
        label: "cond (2,1,4), a (3,1), b ()",
        inputs: [bool([1, 0, 0, 1, 1, 1, 0, 0], [2, 1, 4]), randn64([3, 1], 5), randn64([], 6)],
      },
      { label: "0-d all", inputs: [bool([1], []), randn64([], 7), randn64([], 8)] },
      { label: "empty (0,2)", inputs: [bool([], [0, 2]), randn64([2], 9), randn64([1], 10)] },
      {
        label: "(17)",
        inputs: [
          bool(Array.from({ length: 17 }, (_, i) => (i % 3 === 0 ? 1 : 0))),
          randn64([17], 11),
          randn64([17], 12),
        ],
      },
      {
        label: "(33)",
        inputs: [bool(Array.from({ length: 33 }, (_, i) => (i % 2 ? 1 : 0))), randn64([33], 13), randn64([1], 14)],
      },
      { label: "a is a number", inputs: [bool([1, 0, 1, 0]), randn64([4], 15)], args: ["a", -2.5] },
      { label: "b is a number", inputs: [bool([1, 0, 1, 0]), randn64([2, 4], 16)], args: ["b", 0] },
      { label: "both numbers", inputs: [bool([1, 0, 1])], args: ["both", 1, 2], grad: false },
      {
        label: "extremes",
        inputs: [
          bool([1, 0, 1, 0, 1, 0]),
          values64([Infinity, 0, NaN, 1, -0, 2]),
          values64([0, -Infinity, 1, NaN, 3, -0]),
        ],
        grad: false,
      },
      {
        label: "int32 with a fractional number",
        inputs: [bool([1, 0, 1]), int32([1, 2, -3])],
        args: ["b", 0.5],
        grad: false,
      },
    ],
    differentiable: true,
    ref: (inputs, args) => {
      const [c, ...rest] = inputs;
      const ops: (wnn.Tensor | number)[] =
        args[0] === "a"
          ? [c!, args[1] as number, rest[0]!]
          : args[0] === "b"
            ? [c!, rest[0]!, args[1] as number]
            : args[0] === "both"
              ? [c!, args[1] as number, args[2] as number]
              : [c!, rest[0]!, rest[1]!];
      return bcast((cv, a, b) => (cv ? a : b), ops);
    },
    errors: [
      {
        label: "condition not bool",
        call: () => wnn.where(int32([1, 0]), wnn.zeros([2]), 1),
        error: DTypeError,
        message: [/where/, /bool/, /int32/, /\(2\)/],
      },
      {
        label: "shapes that do not broadcast",
        call: () => wnn.where(bool([1, 0, 1]), wnn.zeros([2]), 1),
        error: ShapeError,
        message: [/where/, /\(3\)/, /\(2\)/],
      },
    ],
  },
  {
    name: "maskedFill",
    fn: wnn.maskedFill,
    samples: [
      { label: "same shape (5)", inputs: [randn64([5], 1), bool([1, 0, 1, 1, 0])], args: [2.5] },
      { label: "mask (3,1) over (3,4)", inputs: [randn64([3, 4], 2), bool([1, 0, 1], [3, 1])], args: [-1] },
      { label: "mask (4) over (2,3,4)", inputs: [randn64([2, 3, 4], 3), bool([0, 1, 1, 0])], args: [0] },
      { label: "0-d", inputs: [randn64([], 4), bool([1], [])], args: [7] },
      { label: "empty (0,3)", inputs: [randn64([0, 3], 5), bool([1, 0, 1])], args: [1] },
      {
        label: "(17) filled with −inf",
        inputs: [randn64([17], 6), bool(Array.from({ length: 17 }, (_, i) => (i % 4 === 0 ? 1 : 0)))],
        args: [-Infinity],
        grad: false,
      },
      { label: "(33) nothing masked", inputs: [randn64([33], 7), bool(new Array(33).fill(0))], args: [3] },
      { label: "(8) all masked", inputs: [randn64([8], 8), bool(new Array(8).fill(1))], args: [NaN], grad: false },
      {
        label: "(16) half masked",
        inputs: [randn64([16], 10), bool(Array.from({ length: 16 }, (_, i) => (i < 8 ? 1 : 0)))],
        args: [0.25],
      },
      {
        label: "(31) every third masked",
        inputs: [randn64([31], 11), bool(Array.from({ length: 31 }, (_, i) => (i % 3 === 0 ? 1 : 0)))],
        args: [-2],
      },
      {
        label: "mask larger than x: (2,3) over (1,3)",
        inputs: [randn64([1, 3], 9), bool([1, 0, 0, 0, 1, 1], [2, 3])],
        args: [5],
      },
      {
        label: "extremes",
        inputs: [values64([Infinity, NaN, -0, 1e30]), bool([0, 0, 1, 0])],
        args: [NaN],
        grad: false,
      },
      {
        label: "int32 keeps int32 (0.5 truncates)",
        inputs: [int32([1, 2, -3]), bool([1, 0, 1])],
        args: [0.5],
        grad: false,
      },
    ],
    differentiable: true,
    ref: (inputs, args) => {
      const v = args[0] as number;
      const trunc = inputs[0]!.dtype === "int32" ? Math.trunc(v) : v;
      return bcast((x, m) => (m ? trunc : x), [inputs[0]!, inputs[1]!]);
    },
    errors: [
      {
        label: "mask not bool",
        call: () => wnn.maskedFill(wnn.zeros([2]), int32([1, 0]), 1),
        error: DTypeError,
        message: [/maskedFill/, /bool/, /int32/, /\(2\)/],
      },
      {
        label: "mask that does not broadcast",
        call: () => wnn.maskedFill(wnn.zeros([2, 3]), bool([1, 0]), 1),
        error: ShapeError,
        message: [/maskedFill/, /\(2,3\)/, /\(2\)/],
      },
      {
        label: "inf into int32",
        call: () => wnn.maskedFill(int32([1, 2]), bool([1, 0]), -Infinity),
        error: ArgumentError,
        message: [/maskedFill/, /int32/, /\(2\)/],
      },
    ],
  },

  // ----------------------------------------------------------------------------------------------- comparisons
  comparison("eq", (a, b) => a === b),
  comparison("ne", (a, b) => a !== b),
  comparison("lt", (a, b) => a < b),
  comparison("le", (a, b) => a <= b),
  comparison("gt", (a, b) => a > b),
  comparison("ge", (a, b) => a >= b),
];
