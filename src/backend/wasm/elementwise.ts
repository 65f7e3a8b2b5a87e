// Elementwise kernels of the wasm backend, float32 only (every other dtype runs the reference kernel).
//
// - Transcendental activations (exp, tanh, sigmoid, silu, geluTanh and the backwards of silu and
//   geluTanh) run in wasm SIMD (./assembly/elementwise.ts): the operand is copied into the arena, the
//   kernel runs in place (on the pool when large), the result is copied out.
// - add, sub, mul, div stay in TypeScript: copying both operands into wasm memory would cost more than
//   the arithmetic. The reference walks every element through a shared closure (one call per element);
//   here the broadcast dims are first coalesced and each op has its own loop over at most two dims
//   (same shape; a row vector, a column or a scalar broadcast against a matrix). Bit-identical to the
//   reference: the same float64 operation rounded once to float32.

import type { Arr, BinaryKernel, ElementwiseKernels, FloatArr, UnaryKernel } from "../backend.js";
import { elementwise as reference } from "../reference/elementwise.js";
import { Frame } from "./arena.js";
import { threadPool } from "./pool.js";

/** Op ids of ./assembly/elementwise.ts. */
const enum Op {
  EXP = 0, TANH = 1, SIGMOID = 2, SILU = 3, GELU_TANH = 4, SILU_BACKWARD = 5, GELU_TANH_BACKWARD = 6,
}
const KIND_UNARY = 3;
/** Elements from which an elementwise kernel is split over the pool (≈ 50–100 µs of work on one core). */
const PARALLEL_MIN = 1 << 16;
/** Elements per pool task (a multiple of 4). */
const TASK_ELEMS = 1 << 14;

const f32 = (...xs: (Arr | null)[]): boolean => xs.every((x) => x === null || x instanceof Float32Array);

/** y = op(x) (dy given: a backward op), float32, in wasm. */
function runUnary(op: Op, x: Float32Array, dy: Float32Array | null, out: Float32Array): void {
  const n = x.length;
  if (n === 0) return;
  const fr = new Frame();
  const xo = fr.alloc(n), dyo = dy ? fr.alloc(n) : 0;
  fr.commit();
  fr.put(xo, x);
  if (dy) fr.put(dyo, dy);
  const pool = n >= PARALLEL_MIN ? threadPool(fr.st) : null;
  if (pool) {
    const prm = fr.params();
    prm[0] = KIND_UNARY; prm[1] = op; prm[2] = xo; prm[3] = dyo; prm[4] = xo; prm[5] = n; prm[6] = TASK_ELEMS;
    pool.run(Math.ceil(n / TASK_ELEMS));
  } else {
    fr.exports.unaryRange(op, xo, dyo, xo, 0, n);
  }
  fr.get(xo, out, n);
}

const unary = (op: Op, ref: UnaryKernel): UnaryKernel => (x, out) => {
  if (x instanceof Float32Array && out instanceof Float32Array) runUnary(op, x, null, out);
  else ref(x, out);
};

const backward = (op: Op, ref: (x: FloatArr, dy: FloatArr, dx: FloatArr) => void) => (x: FloatArr, dy: FloatArr, dx: FloatArr): void => {
  if (x instanceof Float32Array && dy instanceof Float32Array && dx instanceof Float32Array) runUnary(op, x, dy, dx);
  else ref(x, dy, dx);
};

// ---------------------------------------------------------------------------------------------------
// Binary arithmetic

/** shape and the operands' strides with size-1 dims dropped and adjacent dims merged where both allow. */
function coalesce(shape: readonly number[], as: readonly number[], bs: readonly number[]): [number[], number[], number[]] {
  const sh: number[] = [], sa: number[] = [], sb: number[] = [];
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
  ADD, SUB, MUL, DIV,
}

/** out (rows × cols, contiguous) = a ∘ b with a at i·ra + j·ca and b at i·rb + j·cb. */
function binary2d(op: Bin, a: Float32Array, ra: number, ca: number, b: Float32Array, rb: number, cb: number, out: Float32Array, rows: number, cols: number): void {
  for (let i = 0, o = 0; i < rows; i++, o += cols) {
    let pa = i * ra, pb = i * rb;
    switch (op) {
      case Bin.ADD: for (let j = 0; j < cols; j++, pa += ca, pb += cb) out[o + j] = a[pa]! + b[pb]!; break;
      case Bin.SUB: for (let j = 0; j < cols; j++, pa += ca, pb += cb) out[o + j] = a[pa]! - b[pb]!; break;
      case Bin.MUL: for (let j = 0; j < cols; j++, pa += ca, pb += cb) out[o + j] = a[pa]! * b[pb]!; break;
      case Bin.DIV: for (let j = 0; j < cols; j++, pa += ca, pb += cb) out[o + j] = a[pa]! / b[pb]!; break;
    }
  }
}

const binary = (op: Bin, ref: BinaryKernel): BinaryKernel => (a, as, b, bs, out, shape) => {
  if (!f32(a, b, out) || out.length === 0) {
    ref(a, as, b, bs, out, shape);
    return;
  }
  const [sh, sa, sb] = coalesce(shape, as, bs);
  if (sh.length === 0) binary2d(op, a as Float32Array, 0, 0, b as Float32Array, 0, 0, out as Float32Array, 1, 1);
  else if (sh.length === 1) binary2d(op, a as Float32Array, 0, sa[0]!, b as Float32Array, 0, sb[0]!, out as Float32Array, 1, sh[0]!);
  else if (sh.length === 2) binary2d(op, a as Float32Array, sa[0]!, sa[1]!, b as Float32Array, sb[0]!, sb[1]!, out as Float32Array, sh[0]!, sh[1]!);
  else ref(a, as, b, bs, out, shape);
};

export const elementwise: Partial<ElementwiseKernels> = {
  exp: unary(Op.EXP, reference.exp),
  tanh: unary(Op.TANH, reference.tanh),
  sigmoid: unary(Op.SIGMOID, reference.sigmoid),
  silu: unary(Op.SILU, reference.silu),
  geluTanh: unary(Op.GELU_TANH, reference.geluTanh),
  siluBackward: backward(Op.SILU_BACKWARD, reference.siluBackward),
  geluTanhBackward: backward(Op.GELU_TANH_BACKWARD, reference.geluTanhBackward),
  add: binary(Bin.ADD, reference.add),
  sub: binary(Bin.SUB, reference.sub),
  mul: binary(Bin.MUL, reference.mul),
  div: binary(Bin.DIV, reference.div),
};
