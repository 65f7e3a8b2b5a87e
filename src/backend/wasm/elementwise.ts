// Elementwise kernels of the wasm backend, float32 only (every other dtype runs the reference kernel).
//
// - Unary float32 ops (neg, abs, sign, relu, sqrt, rsqrt, reciprocal, exp, log, tanh, sigmoid, silu,
//   gelu in both forms (and the forms of gelu and silu that keep their slope), the backwards of relu, silu,
//   both gelus, tanh, sigmoid, abs and sqrt, and the one-pass backwards of same-shape mul and div) run in wasm SIMD (./assembly/elementwise.ts) on the pool when large; operands that do not
//   live in wasm memory are copied into the arena and the result out (arena.ts).
// - add, sub, mul, div: the broadcast dims are first coalesced; what is then at most two dims with unit
//   or zero inner strides (same shape; a row vector, a column or a scalar broadcast against a matrix)
//   runs in wasm SIMD (./assembly/arith.ts) — even with both operands copied in and the result copied
//   out, that is ≈ 3× faster than V8's scalar loop (memcpy runs at memory speed, the loop at ≈ 2 ns per
//   element); small or other cases run a TypeScript loop over at most two dims, the rest the reference.
//   float32 arithmetic: the same single operation, rounded once, as the reference (bit-identical).
// - The backward of a product by a column (mulColumnBackward): one pass in wasm that writes dx and sums each
//   row's dy·x as it goes, in float64 partial sums (./assembly/arith.ts: at most a rounding from the reference).

import type { Arr, BinaryKernel, ElementwiseKernels, FloatArr, UnaryKernel } from "../backend.js";
import { elementwise as reference } from "../reference/elementwise.js";
import { Frame } from "./arena.js";
import { threadPool } from "./pool.js";
import { parallelMin } from "./thresholds.js";

/** Op ids of ./assembly/elementwise.ts. */
const enum Op {
  EXP = 0,
  TANH = 1,
  SIGMOID = 2,
  SILU = 3,
  GELU_TANH = 4,
  SILU_BACKWARD = 5,
  GELU_TANH_BACKWARD = 6,
  NEG = 7,
  ABS = 8,
  SIGN = 9,
  RELU = 10,
  SQRT = 11,
  RSQRT = 12,
  RECIPROCAL = 13,
  LOG = 14,
  GELU = 15,
  GELU_BACKWARD = 16,
  RELU_BACKWARD = 17,
  GELU_TANH_GATE = 18,
  GELU_TANH_GATE_BACKWARD = 19,
  MUL_BACKWARD = 20,
  DIV_BACKWARD = 21,
  TANH_BACKWARD = 22,
  SIGMOID_BACKWARD = 23,
  ABS_BACKWARD = 24,
  SQRT_BACKWARD = 25,
  GELU_SLOPE = 26,
  SILU_SLOPE = 27,
}
/** The ops that write `aux` (a kept gate or slope) rather than read it. */
const writesAux = (op: Op): boolean => op === Op.GELU_TANH_GATE || op === Op.GELU_SLOPE || op === Op.SILU_SLOPE;
const KIND_UNARY = 3;
/** Elements per pool task (a multiple of 4). */
const TASK_ELEMS = 1 << 14;

const f32 = (...xs: (Arr | null)[]): boolean => xs.every((x) => x === null || x instanceof Float32Array);

/**
 * y = op(x) (dy given: a backward op), float32, in wasm; `aux` is the gelu gate, written by GELU_TANH_GATE
 * and read by GELU_TANH_GATE_BACKWARD, the slope written by GELU_SLOPE and SILU_SLOPE, or a third operand read by the binary backwards (MUL_BACKWARD,
 * DIV_BACKWARD), which write their second gradient to `aux2`.
 */
function runUnary(
  op: Op,
  x: Float32Array,
  dy: Float32Array | null,
  out: Float32Array,
  aux: Float32Array | null = null,
  aux2: Float32Array | null = null,
): void {
  const n = x.length;
  if (n === 0) return;
  const fr = new Frame();
  const xo = fr.in(x),
    dyo = dy ? fr.in(dy) : 0,
    yo = fr.out(out, n),
    auxo = aux === null ? 0 : writesAux(op) ? fr.out(aux, n) : fr.in(aux),
    aux2o = aux2 === null ? 0 : fr.out(aux2, n);
  fr.commit();
  const pool = n >= parallelMin.elements ? threadPool(fr.st) : null;
  if (pool) {
    const prm = fr.params();
    prm[0] = KIND_UNARY;
    prm[1] = op;
    prm[2] = xo;
    prm[3] = dyo;
    prm[4] = yo;
    prm[5] = n;
    prm[6] = TASK_ELEMS;
    prm[7] = auxo;
    prm[8] = aux2o;
    pool.run(Math.ceil(n / TASK_ELEMS));
  } else {
    fr.exports.unaryRange(op, xo, dyo, yo, 0, n, auxo, aux2o);
  }
  fr.finish();
}

const unary =
  (op: Op, ref: UnaryKernel): UnaryKernel =>
  (x, out) => {
    if (x instanceof Float32Array && out instanceof Float32Array) runUnary(op, x, null, out);
    else ref(x, out);
  };

const backward =
  (op: Op, ref: (x: FloatArr, dy: FloatArr, dx: FloatArr) => void) =>
  (x: FloatArr, dy: FloatArr, dx: FloatArr): void => {
    if (x instanceof Float32Array && dy instanceof Float32Array && dx instanceof Float32Array) runUnary(op, x, dy, dx);
    else ref(x, dy, dx);
  };

// ---------------------------------------------------------------------------------------------------
// Binary arithmetic

/** shape and the operands' strides with size-1 dims dropped and adjacent dims merged where both allow. */
function coalesce(
  shape: readonly number[],
  as: readonly number[],
  bs: readonly number[],
): [number[], number[], number[]] {
  const sh: number[] = [],
    sa: number[] = [],
    sb: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const k = sh.length - 1;
    // dim d continues dim k when stepping k once equals stepping d n times, for both operands
    if (k >= 0 && sa[k] === as[d]! * n && sb[k] === bs[d]! * n) {
      sh[k] = sh[k]! * n;
      sa[k] = as[d]!;
      sb[k] = bs[d]!;
    } else {
      sh.push(n);
      sa.push(as[d]!);
      sb.push(bs[d]!);
    }
  }
  return [sh, sa, sb];
}

const enum Bin {
  ADD,
  SUB,
  MUL,
  DIV,
}

/** out (rows × cols, contiguous) = a ∘ b with a at i·ra + j·ca and b at i·rb + j·cb. */
function binary2d(
  op: Bin,
  a: Float32Array,
  ra: number,
  ca: number,
  b: Float32Array,
  rb: number,
  cb: number,
  out: Float32Array,
  rows: number,
  cols: number,
): void {
  for (let i = 0, o = 0; i < rows; i++, o += cols) {
    let pa = i * ra,
      pb = i * rb;
    switch (op) {
      case Bin.ADD:
        for (let j = 0; j < cols; j++, pa += ca, pb += cb) out[o + j] = a[pa]! + b[pb]!;
        break;
      case Bin.SUB:
        for (let j = 0; j < cols; j++, pa += ca, pb += cb) out[o + j] = a[pa]! - b[pb]!;
        break;
      case Bin.MUL:
        for (let j = 0; j < cols; j++, pa += ca, pb += cb) out[o + j] = a[pa]! * b[pb]!;
        break;
      case Bin.DIV:
        for (let j = 0; j < cols; j++, pa += ca, pb += cb) out[o + j] = a[pa]! / b[pb]!;
        break;
    }
  }
}

/** Below this many output elements the TypeScript loop beats setting up the copies. */
const WASM_BINARY_MIN = 1024;

/** out (rows × cols) = a ∘ b in wasm (./assembly/arith.ts): a and b copied in whole, out copied back. */
function binaryWasm(
  op: Bin,
  a: Float32Array,
  ra: number,
  ca: number,
  b: Float32Array,
  rb: number,
  cb: number,
  out: Float32Array,
  rows: number,
  cols: number,
): void {
  const n = rows * cols;
  const fr = new Frame();
  const ao = fr.in(a),
    bo = fr.in(b),
    oo = fr.out(out, n);
  fr.commit();
  fr.exports.binaryF32(op, ao, ra, ca, bo, rb, cb, oo, rows, cols);
  fr.finish();
}

const binary =
  (op: Bin, ref: BinaryKernel): BinaryKernel =>
  (a, as, b, bs, out, shape) => {
    if (!f32(a, b, out) || out.length === 0) {
      ref(a, as, b, bs, out, shape);
      return;
    }
    const [sh, sa, sb] = coalesce(shape, as, bs);
    if (sh.length > 2) {
      ref(a, as, b, bs, out, shape);
      return;
    }
    // (rows, cols) with row strides ra, rb and column strides ca, cb
    const rows = sh.length === 2 ? sh[0]! : 1,
      cols = sh.length === 0 ? 1 : sh[sh.length - 1]!;
    const ra = sh.length === 2 ? sa[0]! : 0,
      rb = sh.length === 2 ? sb[0]! : 0;
    const ca = sh.length === 0 ? 0 : sa[sa.length - 1]!,
      cb = sh.length === 0 ? 0 : sb[sb.length - 1]!;
    const unit = (c: number): boolean => c === 0 || c === 1;
    if (rows * cols >= WASM_BINARY_MIN && unit(ca) && unit(cb))
      binaryWasm(op, a as Float32Array, ra, ca, b as Float32Array, rb, cb, out as Float32Array, rows, cols);
    else binary2d(op, a as Float32Array, ra, ca, b as Float32Array, rb, cb, out as Float32Array, rows, cols);
  };

export const elementwise: Partial<ElementwiseKernels> = {
  exp: unary(Op.EXP, reference.exp),
  tanh: unary(Op.TANH, reference.tanh),
  sigmoid: unary(Op.SIGMOID, reference.sigmoid),
  silu: unary(Op.SILU, reference.silu),
  geluTanh: unary(Op.GELU_TANH, reference.geluTanh),
  neg: unary(Op.NEG, reference.neg),
  abs: unary(Op.ABS, reference.abs),
  sign: unary(Op.SIGN, reference.sign),
  relu: unary(Op.RELU, reference.relu),
  sqrt: unary(Op.SQRT, reference.sqrt),
  rsqrt: unary(Op.RSQRT, reference.rsqrt),
  reciprocal: unary(Op.RECIPROCAL, reference.reciprocal),
  log: unary(Op.LOG, reference.log),
  gelu: unary(Op.GELU, reference.gelu),
  geluBackward: backward(Op.GELU_BACKWARD, reference.geluBackward),
  reluBackward: backward(Op.RELU_BACKWARD, reference.reluBackward),
  siluBackward: backward(Op.SILU_BACKWARD, reference.siluBackward),
  geluTanhBackward: backward(Op.GELU_TANH_BACKWARD, reference.geluTanhBackward),
  tanhBackward: backward(Op.TANH_BACKWARD, reference.tanhBackward),
  sigmoidBackward: backward(Op.SIGMOID_BACKWARD, reference.sigmoidBackward),
  absBackward: backward(Op.ABS_BACKWARD, reference.absBackward),
  sqrtBackward: backward(Op.SQRT_BACKWARD, reference.sqrtBackward),
  mulBackward(dy, a, b, da, db) {
    if (f32(dy, a, b, da, db))
      runUnary(
        Op.MUL_BACKWARD,
        a as Float32Array,
        dy as Float32Array,
        da as Float32Array,
        b as Float32Array,
        db as Float32Array,
      );
    else reference.mulBackward(dy, a, b, da, db);
  },
  divBackward(dy, b, q, da, db) {
    if (f32(dy, b, q, da, db))
      runUnary(
        Op.DIV_BACKWARD,
        b as Float32Array,
        dy as Float32Array,
        da as Float32Array,
        q as Float32Array,
        db as Float32Array,
      );
    else reference.divBackward(dy, b, q, da, db);
  },
  geluTanhGate(x, out, gate) {
    if (f32(x, out, gate))
      runUnary(Op.GELU_TANH_GATE, x as Float32Array, null, out as Float32Array, gate as Float32Array);
    else reference.geluTanhGate(x, out, gate);
  },
  mulColumnBackward(dy, x, col, dx, dcol, rows, cols) {
    const n = rows * cols;
    if (!f32(dy, x, col, dx, dcol) || n < WASM_BINARY_MIN) {
      reference.mulColumnBackward(dy, x, col, dx, dcol, rows, cols);
      return;
    }
    // in wasm (./assembly/arith.ts): dx as the mul kernel writes it, dcol in float64 partial sums
    const fr = new Frame();
    const dyo = fr.in(dy as Float32Array),
      xo = fr.in(x as Float32Array),
      co = fr.in(col as Float32Array),
      dxo = dx === null ? 0 : fr.out(dx as Float32Array, n),
      dco = fr.out(dcol as Float32Array, rows);
    fr.commit();
    fr.exports.mulColumnF32(dyo, xo, co, dxo, dco, rows, cols);
    fr.finish();
  },
  geluSlope(x, out, slope) {
    if (f32(x, out, slope))
      runUnary(Op.GELU_SLOPE, x as Float32Array, null, out as Float32Array, slope as Float32Array);
    else reference.geluSlope(x, out, slope);
  },
  siluSlope(x, out, slope) {
    if (f32(x, out, slope))
      runUnary(Op.SILU_SLOPE, x as Float32Array, null, out as Float32Array, slope as Float32Array);
    else reference.siluSlope(x, out, slope);
  },
  geluTanhGateBackward(x, gate, dy, dx) {
    if (f32(x, gate, dy, dx))
      runUnary(
        Op.GELU_TANH_GATE_BACKWARD,
        x as Float32Array,
        dy as Float32Array,
        dx as Float32Array,
        gate as Float32Array,
      );
    else reference.geluTanhGateBackward(x, gate, dy, dx);
  },
  add: binary(Bin.ADD, reference.add),
  sub: binary(Bin.SUB, reference.sub),
  mul: binary(Bin.MUL, reference.mul),
  div: binary(Bin.DIV, reference.div),
};
