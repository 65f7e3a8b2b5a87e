// Reference elementwise kernels: one plain loop each. The spec for every faster backend.

import type { Arr, BinaryKernel, ElementwiseKernels, UnaryKernel } from "../backend.js";

const unary =
  (f: (v: number) => number): UnaryKernel =>
  (x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i]!);
  };

/** Walk every index of `shape` in row-major order, keeping the broadcast offsets of a and b in step. */
const binary =
  (f: (a: number, b: number) => number): BinaryKernel =>
  (a, as, b, bs, out, shape) => {
    const nd = shape.length;
    const n = out.length;
    if (n === 0) return;
    if (nd === 0) {
      out[0] = f(a[0]!, b[0]!);
      return;
    }
    const last = nd - 1;
    const cols = shape[last]!;
    const sa = as[last]!,
      sb = bs[last]!;
    const idx = new Array<number>(nd).fill(0);
    let ia = 0,
      ib = 0;
    for (let o = 0; o < n; o += cols) {
      for (let j = 0, pa = ia, pb = ib; j < cols; j++, pa += sa, pb += sb) out[o + j] = f(a[pa]!, b[pb]!);
      // odometer over the outer dims
      for (let d = last - 1; d >= 0; d--) {
        idx[d]!++;
        ia += as[d]!;
        ib += bs[d]!;
        if (idx[d]! < shape[d]!) break;
        ia -= as[d]! * shape[d]!;
        ib -= bs[d]! * shape[d]!;
        idx[d] = 0;
      }
    }
  };

/** erf(x) to float64 accuracy: Abramowitz–Stegun is too coarse, so use the series / continued fraction pair. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: erf x = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
    let term = ax,
      sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 100; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    const r = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -r : r;
  }
  if (ax > 6) return x < 0 ? -1 : 1;
  // erfc x = e^(−x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))) (Lentz continued fraction)
  const tiny = 1e-300;
  let f = ax,
    c = ax,
    d = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    d = ax + an * d;
    d = d === 0 ? tiny : 1 / d;
    c = ax + an / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return x < 0 ? erfc - 1 : 1 - erfc;
}

/**
 * aᵇ with C's pow semantics (which PyTorch follows) where JavaScript's `**` differs:
 * 1ᵇ = 1 even for b = NaN, and (−1)^±∞ = 1 (JavaScript gives NaN for both).
 */
export function powC(a: number, b: number): number {
  if (a === 1) return 1;
  if (a === -1 && (b === Infinity || b === -Infinity)) return 1;
  return a ** b;
}

/** The rounding of a store into `out`'s dtype: a backward kernel that stands for several ops rounds between them as they would. */
const rounding = (out: Arr): ((v: number) => number) => (out instanceof Float32Array ? Math.fround : (v) => v);
const SQRT1_2 = Math.SQRT1_2;
const SQRT_2_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const sigmoid = (v: number): number => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));

export const elementwise: ElementwiseKernels = {
  neg: unary((v) => -v),
  abs: unary(Math.abs),
  sign: unary((v) => (v > 0 ? 1 : v < 0 ? -1 : 0)), // 0 for ±0 and NaN, as torch.sign
  exp: unary(Math.exp),
  log: unary(Math.log),
  log1p: unary(Math.log1p),
  sqrt: unary(Math.sqrt),
  rsqrt: unary((v) => 1 / Math.sqrt(v)),
  reciprocal: unary((v) => 1 / v),
  sin: unary(Math.sin),
  cos: unary(Math.cos),
  tanh: unary(Math.tanh),
  sigmoid: unary(sigmoid),
  relu: unary((v) => (v > 0 ? v : Number.isNaN(v) ? v : 0)),
  // gelu(x) = x·Φ(x) = x/2 · (1 + erf(x/√2))
  gelu: unary((v) => 0.5 * v * (1 + erf(v * SQRT1_2))),
  // gelu_tanh(x) = x/2 · (1 + tanh(√(2/π)·(x + 0.044715 x³)))
  geluTanh: unary((v) => 0.5 * v * (1 + Math.tanh(SQRT_2_PI * (v + 0.044715 * v * v * v)))),
  // silu(x) = x·σ(x)
  silu: unary((v) => v * sigmoid(v)),
  erf: unary(erf),

  add: binary((a, b) => a + b),
  sub: binary((a, b) => a - b),
  mul: binary((a, b) => a * b),
  div: binary((a, b) => a / b),
  pow: binary(powC),
  maximum: binary((a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b))),
  minimum: binary((a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b))),
  eq: binary((a, b) => (a === b ? 1 : 0)),
  ne: binary((a, b) => (a !== b ? 1 : 0)),
  lt: binary((a, b) => (a < b ? 1 : 0)),
  le: binary((a, b) => (a <= b ? 1 : 0)),
  gt: binary((a, b) => (a > b ? 1 : 0)),
  ge: binary((a, b) => (a >= b ? 1 : 0)),

  where(cond, cs, a, as, b, bs, out, shape) {
    const nd = shape.length;
    const idx = new Array<number>(nd).fill(0);
    let ic = 0,
      ia = 0,
      ib = 0;
    for (let o = 0; o < out.length; o++) {
      out[o] = cond[ic] ? a[ia]! : b[ib]!;
      for (let d = nd - 1; d >= 0; d--) {
        idx[d]!++;
        ic += cs[d]!;
        ia += as[d]!;
        ib += bs[d]!;
        if (idx[d]! < shape[d]!) break;
        ic -= cs[d]! * shape[d]!;
        ia -= as[d]! * shape[d]!;
        ib -= bs[d]! * shape[d]!;
        idx[d] = 0;
      }
    }
  },
  powScalar(x, out, p) {
    if (p === 2) for (let i = 0; i < x.length; i++) out[i] = x[i]! * x[i]!;
    else for (let i = 0; i < x.length; i++) out[i] = powC(x[i]!, p);
  },
  clamp(x, out, lo, hi) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      out[i] = Number.isNaN(v) ? v : Math.min(Math.max(v, lo), hi);
    }
  },
  leakyRelu(x, out, slope) {
    for (let i = 0; i < x.length; i++) out[i] = x[i]! > 0 ? x[i]! : slope * x[i]!;
  },
  elu(x, out, alpha) {
    for (let i = 0; i < x.length; i++) out[i] = x[i]! > 0 ? x[i]! : alpha * Math.expm1(x[i]!);
  },
  softplus(x, out, beta, threshold) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      out[i] = v * beta > threshold ? v : Math.log1p(Math.exp(beta * v)) / beta;
    }
  },
  geluBackward(x, dy, dx) {
    // y = x·Φ(x)  ⇒  y' = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π)
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      dx[i] = dy[i]! * (0.5 * (1 + erf(v * SQRT1_2)) + v * Math.exp(-0.5 * v * v) * INV_SQRT_2PI);
    }
  },
  geluTanhBackward(x, dy, dx) {
    // y = x/2·(1 + t), t = tanh(u), u = √(2/π)(x + 0.044715x³)
    //   ⇒  y' = (1 + t)/2 + x/2·(1 − t²)·√(2/π)(1 + 3·0.044715x²)
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      const t = Math.tanh(SQRT_2_PI * (v + 0.044715 * v * v * v));
      dx[i] = dy[i]! * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * SQRT_2_PI * (1 + 3 * 0.044715 * v * v));
    }
  },
  geluTanhGate(x, out, gate) {
    // y = x/2·(1 + t) as geluTanh, and s = (1 + t)/2
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      const t = Math.tanh(SQRT_2_PI * (v + 0.044715 * v * v * v));
      out[i] = 0.5 * v * (1 + t);
      gate[i] = 0.5 * (1 + t);
    }
  },
  geluTanhGateBackward(x, gate, dy, dx) {
    // y = x·s, s = (1 + t)/2  ⇒  y' = s + x/2·(1 − t²)·u',  t = 2s − 1,  u' = √(2/π)(1 + 3·0.044715x²)
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!,
        s = gate[i]!;
      const t = 2 * s - 1;
      dx[i] = dy[i]! * (s + 0.5 * v * (1 - t * t) * SQRT_2_PI * (1 + 3 * 0.044715 * v * v));
    }
  },
  tanhBackward(y, dy, dx) {
    // y = tanh x  ⇒  dx = dy·(1 − y²), rounded after each operation as mul(dy, sub(1, mul(y, y)))
    const r = rounding(dx);
    for (let i = 0; i < y.length; i++) dx[i] = dy[i]! * r(1 - r(y[i]! * y[i]!));
  },
  sigmoidBackward(y, dy, dx) {
    // y = σ(x)  ⇒  dx = dy·(y·(1 − y)), as mul(dy, mul(y, sub(1, y)))
    const r = rounding(dx);
    for (let i = 0; i < y.length; i++) dx[i] = dy[i]! * r(y[i]! * r(1 - y[i]!));
  },
  absBackward(x, dy, dx) {
    // y = |x|  ⇒  dx = dy·sign(x), sign(0) = sign(NaN) = 0
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      dx[i] = dy[i]! * (v > 0 ? 1 : v < 0 ? -1 : 0);
    }
  },
  sqrtBackward(y, dy, dx) {
    // y = √x  ⇒  dx = dy/(2y), as div(dy, mul(y, 2))
    const r = rounding(dx);
    for (let i = 0; i < y.length; i++) dx[i] = dy[i]! / r(y[i]! * 2);
  },
  mulBackward(dy, a, b, da, db) {
    // y = a·b  ⇒  da = dy·b, db = dy·a
    for (let i = 0; i < dy.length; i++) {
      da[i] = dy[i]! * b[i]!;
      db[i] = dy[i]! * a[i]!;
    }
  },
  divBackward(dy, b, q, da, db) {
    // y = q = a/b  ⇒  da = dy/b, db = −dy·a/b² = −((dy·q)/b), as neg(div(mul(dy, q), b))
    const r = rounding(db);
    for (let i = 0; i < dy.length; i++) {
      da[i] = dy[i]! / b[i]!;
      db[i] = -(r(dy[i]! * q[i]!) / b[i]!);
    }
  },
  reluBackward(x, dy, dx) {
    // y = max(x, 0)  ⇒  dx = dy·[x > 0], and dy where x is NaN
    for (let i = 0; i < x.length; i++) dx[i] = x[i]! <= 0 ? 0 : dy[i]!;
  },
  geluSlope(x, out, slope) {
    // y = x·Φ(x) as gelu, and y' = Φ(x) + x·φ(x) as geluBackward's factor
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      out[i] = 0.5 * v * (1 + erf(v * SQRT1_2));
      slope[i] = 0.5 * (1 + erf(v * SQRT1_2)) + v * Math.exp(-0.5 * v * v) * INV_SQRT_2PI;
    }
  },
  siluSlope(x, out, slope) {
    // y = x·σ(x) as silu, and y' = σ(x)·(1 + x·(1 − σ(x))) as siluBackward's factor
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!,
        s = sigmoid(v);
      out[i] = v * s;
      slope[i] = s * (1 + v * (1 - s));
    }
  },
  mulColumnBackward(dy, x, col, dx, dcol, rows, cols) {
    // y[r, c] = x[r, c]·col[r]  ⇒  dx[r, c] = dy[r, c]·col[r], dcol[r] = Σ_c dy[r, c]·x[r, c]
    // (as sum(mul(dy, x)) over c: each product rounded to the dtype, the row summed in float64 in order)
    const r = rounding(dcol);
    for (let i = 0, p = 0; i < rows; i++) {
      const c = col[i]!;
      let s = 0;
      for (let j = 0; j < cols; j++, p++) {
        if (dx !== null) dx[p] = dy[p]! * c;
        s += r(dy[p]! * x[p]!);
      }
      dcol[i] = s;
    }
  },
  siluBackward(x, dy, dx) {
    // y = x·σ(x)  ⇒  y' = σ(x)·(1 + x·(1 − σ(x)))
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!,
        s = sigmoid(v);
      dx[i] = dy[i]! * s * (1 + v * (1 - s));
    }
  },
  leakyReluBackward(x, dy, dx, slope) {
    for (let i = 0; i < x.length; i++) dx[i] = x[i]! > 0 ? dy[i]! : dy[i]! * slope;
  },
  eluBackward(x, dy, dx, alpha) {
    // PyTorch's test is x ≤ 0, so NaN takes the positive branch and x = 0 the negative one
    for (let i = 0; i < x.length; i++) dx[i] = x[i]! <= 0 ? dy[i]! * alpha * Math.exp(x[i]!) : dy[i]!;
  },
  softplusBackward(x, dy, dx, beta, threshold) {
    // y = log(1 + e^(βx))/β  ⇒  y' = e^(βx)/(1 + e^(βx)) = σ(βx)
    for (let i = 0; i < x.length; i++) dx[i] = x[i]! * beta > threshold ? dy[i]! : dy[i]! * sigmoid(beta * x[i]!);
  },
  cast(x: Arr, out: Arr) {
    if (out instanceof Uint8Array)
      for (let i = 0; i < x.length; i++) out[i] = x[i] !== 0 ? 1 : 0; // NaN is truthy, as in PyTorch
    else if (out instanceof Int32Array) for (let i = 0; i < x.length; i++) out[i] = Math.trunc(x[i]!) | 0;
    else out.set(x);
  },
  fill(out, value) {
    out.fill(value);
  },
};
