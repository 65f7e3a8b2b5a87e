// PyTorch parity of the elementwise family: test/fixtures/ops/elementwise.json, written by
// tools/fixtures/ops_elementwise.py with torch 1.13. Outputs, every input gradient, and the output
// dtype PyTorch gave (args.out_dtype; torch's int64 is our int32).
import assert from "node:assert/strict";
import * as wnn from "../../src/index.js";
import type { TensorLike } from "../../src/ops/util.js";
import { replayFixtures, type FixtureCall } from "../harness/fixtures.js";
import { ELEMENTWISE_TOL } from "../harness/optable.js";

/** A scalar argument as written by common.num: non-finite values arrive as strings. */
function scalar(v: unknown): number {
  if (v === "inf") return Infinity;
  if (v === "-inf") return -Infinity;
  if (v === "nan") return NaN;
  return v as number;
}

/** The op's call, then a check that our output dtype is PyTorch's. */
function checked(call: FixtureCall): FixtureCall {
  return (inputs, args) => {
    const out = call(inputs, args);
    const first = out instanceof wnn.Tensor ? out : Array.isArray(out) ? out[0]! : out.values;
    assert.equal(first.dtype, args.out_dtype, `output dtype ${first.dtype}, PyTorch gives ${args.out_dtype}`);
    return out;
  };
}

const unary =
  (fn: (x: wnn.Tensor) => wnn.Tensor): FixtureCall =>
  ([x]) =>
    fn(x!);

/** A binary op whose scalar operand, if any, is args.a (left) or args.b (right). */
const binary =
  (fn: (a: TensorLike, b: TensorLike) => wnn.Tensor): FixtureCall =>
  (xs, args) => {
    if (args.a !== undefined) return fn(scalar(args.a), xs[0]!);
    if (args.b !== undefined) return fn(xs[0]!, scalar(args.b));
    return fn(xs[0]!, xs[1]!);
  };

const calls: Record<string, FixtureCall> = {
  neg: unary(wnn.neg),
  abs: unary(wnn.abs),
  exp: unary(wnn.exp),
  log: unary(wnn.log),
  log1p: unary(wnn.log1p),
  sqrt: unary(wnn.sqrt),
  rsqrt: unary(wnn.rsqrt),
  sin: unary(wnn.sin),
  cos: unary(wnn.cos),
  tanh: unary(wnn.tanh),
  sigmoid: unary(wnn.sigmoid),
  relu: unary(wnn.relu),
  silu: unary(wnn.silu),
  gelu: ([x], a) => wnn.gelu(x!, { approximate: a.approximate }),
  leakyRelu: ([x], a) => wnn.leakyRelu(x!, a.negative_slope),
  elu: ([x], a) => wnn.elu(x!, a.alpha),
  softplus: ([x], a) => wnn.softplus(x!, a.beta, a.threshold),
  clamp: ([x], a) => wnn.clamp(x!, a.min, a.max),
  pow: binary(wnn.pow),
  add: binary(wnn.add),
  sub: binary(wnn.sub),
  mul: binary(wnn.mul),
  div: binary(wnn.div),
  maximum: binary(wnn.maximum),
  minimum: binary(wnn.minimum),
  where: ([c, ...xs], a) => {
    if (a.a !== undefined) return wnn.where(c!, scalar(a.a), xs[0]!);
    if (a.b !== undefined) return wnn.where(c!, xs[0]!, scalar(a.b));
    return wnn.where(c!, xs[0]!, xs[1]!);
  },
  maskedFill: ([x, m], a) => wnn.maskedFill(x!, m!, scalar(a.value)),
  eq: binary(wnn.eq),
  ne: binary(wnn.ne),
  lt: binary(wnn.lt),
  le: binary(wnn.le),
  gt: binary(wnn.gt),
  ge: binary(wnn.ge),
};

replayFixtures(
  "ops/elementwise.json",
  Object.fromEntries(Object.entries(calls).map(([k, c]) => [k, checked(c)])),
  () => ELEMENTWISE_TOL,
);
