// AssemblyScript: elementwise float32 kernels, four lanes at a time. Every loop runs over ⌈n/4⌉ whole
// vectors: the JavaScript side pads each operand's region of the arena to a multiple of 16 bytes and
// copies back only n elements, so no scalar tail is needed (lanes never interact). The loops of the ops built on
// exp4 (exp, sigmoid, silu, the tanh-form GELU and these ops' backwards) and tanh take four vectors per step:
// measured 1.4–1.7× faster in cache (in one process against the one-vector loops; tanh ≈ 1.2×). Log and the
// erf-form GELU (its forward, backward and slope) take two: with their polynomials written out (a `for` over the
// coefficients stays a loop in the module) they are bound by the count of instructions, and four vectors' live
// values no longer fit the 16 SIMD registers (spills: four measured no faster than two).
//
// Operations (op ids mirror UNARY_OPS in ../elementwise.ts):
//   0 exp       y = eˣ
//   1 tanh      y = tanh x
//   2 sigmoid   y = σ(x) = 1/(1 + e^(−x))
//   3 silu      y = x·σ(x)
//   4 geluTanh  y = x/2·(1 + tanh(√(2/π)·(x + 0.044715x³)))
//   5 siluBackward      dx = dy·σ(x)·(1 + x·(1 − σ(x)))
//   6 geluTanhBackward  dx = dy·((1 + t)/2 + x/2·(1 − t²)·√(2/π)(1 + 3·0.044715x²)),  t = tanh(√(2/π)(x + 0.044715x³))
//   7 neg  8 abs  9 sign (0 for ±0 and NaN)  10 relu (NaN stays NaN)  11 sqrt  12 rsqrt  13 reciprocal
//  14 log (Cephes logf, four lanes; see log4)
//  15 gelu (erf)       y = x·Φ(x)
//  16 geluBackward     dx = dy·(Φ(x) + x·φ(x))
//  17 reluBackward     dx = x ≤ 0 ? 0 : dy  (NaN x passes dy, as the reference)
//  18 geluTanhGate          y = geluTanh x (as op 4), and its gate s = σ(2u) at `aux`
//  19 geluTanhGateBackward  as op 6, with s read from `aux` instead of recomputed (one exp fewer; same bits)
//  20 mulBackward      da = dy·b (y), db = dy·a (at `aux2`), x = a, aux = b
//  21 divBackward      da = dy/b (y), db = −((dy·q)/b) (at `aux2`), x = b, aux = q = a/b
//  22 tanhBackward     dx = dy·(1 − y·y), x = y       23 sigmoidBackward  dx = dy·(y·(1 − y)), x = y
//  24 absBackward      dx = dy·sign(x)                 25 sqrtBackward     dx = dy/(y·2), x = y
//  26 geluSlope        y = gelu x (as op 15), and its slope y' = Φ(x) + x·φ(x) (as op 16's factor of dy) at `aux`
//  27 siluSlope        y = silu x (as op 3), and its slope y' = σ(x)·(1 + x·(1 − σ(x))) (as op 5's factor) at `aux`
// (both tanh-gelu forms are evaluated as x·σ(2u): see geluGate; Φ of the erf form, a rational erf: see phi4)

import { exp4, expNonPositive4, kc, KTAB, K_HALF, K_INF, K_NEG_INF, K_ONE, K_TWO, K_USER, K_ZERO, madd, select, setK, sigmoid4, tanh4 } from "./vmath";

const SQRT_2_PI: f32 = 0.7978845608028654; // √(2/π)
const GELU_A: f32 = 0.044715;
// this file's constants in the table of ./vmath.ts
const K_M2_SQRT_2_PI = K_USER, K_GELU_A = K_USER + 1, K_2_SQRT_2_PI = K_USER + 2, K_3_GELU_A = K_USER + 3, K_TEN = K_USER + 4;
const K_MINUS_ONE = K_USER + 5, K_SQRT1_2 = K_USER + 6, K_INV_SQRT_2PI = K_USER + 7, K_M_HALF = K_USER + 8;
// log: the smallest normal, 2²⁵, −25, the bits of √½ (rounded to float32), the mantissa mask, a quiet NaN's bits,
// ln2 in two parts
const K_MIN_NORMAL = K_USER + 9, K_TWO25 = K_USER + 10, K_M25 = K_USER + 11, K_SQRT_HALF_BITS = K_USER + 12;
const K_MANT = K_USER + 14, K_QNAN_BITS = K_USER + 15, K_LN2_LO_ = K_USER + 16, K_LN2_HI_ = K_USER + 17;
/** log's polynomial P(f), 9 coefficients, highest first */
const K_LP = K_USER + 18;
/** erf's rational form: the numerator's 7 coefficients (odd powers, highest first), then the denominator's 5 (even) */
const K_EP = K_USER + 27, K_EQ = K_USER + 34, K_FOUR = K_USER + 39, K_M_FOUR = K_USER + 40;

export function initElementwiseConstants(): void {
  setK(K_M2_SQRT_2_PI, -2 * SQRT_2_PI); setK(K_GELU_A, GELU_A); setK(K_2_SQRT_2_PI, 2 * SQRT_2_PI);
  setK(K_3_GELU_A, 3 * GELU_A); setK(K_TEN, 10);
  setK(K_MINUS_ONE, -1); setK(K_SQRT1_2, 0.7071067811865476); setK(K_INV_SQRT_2PI, 0.3989422804014327); setK(K_M_HALF, -0.5);
  setK(K_MIN_NORMAL, 1.17549435e-38); setK(K_TWO25, 33554432); setI(K_SQRT_HALF_BITS, 0x3f3504f3);
  setI(K_M25, -25); setI(K_MANT, 0x007fffff); setI(K_QNAN_BITS, 0x7fc00000);
  setK(K_LN2_LO_, -2.12194440e-4); setK(K_LN2_HI_, 0.693359375);
  setK(K_LP, 7.0376836292e-2); setK(K_LP + 1, -1.1514610310e-1); setK(K_LP + 2, 1.1676998740e-1);
  setK(K_LP + 3, -1.2420140846e-1); setK(K_LP + 4, 1.4249322787e-1); setK(K_LP + 5, -1.6668057665e-1);
  setK(K_LP + 6, 2.0000714765e-1); setK(K_LP + 7, -2.4999993993e-1); setK(K_LP + 8, 3.3333331174e-1);
  // erf z ≈ z·P(z²)/Q(z²) on |z| ≤ 4 (float32's erf is ±1 beyond): the rational fit of Eigen's and XLA's
  // float32 erf (generic_fast_erf_float); measured against a float64 erf over [−8, 8] in float32 arithmetic:
  // |error| < 4e-7
  setK(K_EP, -2.72614225801306e-10); setK(K_EP + 1, 2.77068142495902e-08); setK(K_EP + 2, -2.10102402082508e-06);
  setK(K_EP + 3, -5.69250639462346e-05); setK(K_EP + 4, -7.34990630326855e-04); setK(K_EP + 5, -2.95459980854025e-03);
  setK(K_EP + 6, -1.60960333262415e-02);
  setK(K_EQ, -1.45660718464996e-05); setK(K_EQ + 1, -2.13374055278905e-04); setK(K_EQ + 2, -1.68282697438203e-03);
  setK(K_EQ + 3, -7.37332916720468e-03); setK(K_EQ + 4, -1.42647390514189e-02);
  setK(K_FOUR, 4); setK(K_M_FOUR, -4);
}

/** Writes constant i of the table as i32 bits. */
// @ts-ignore: decorator
@inline function setI(i: i32, v: i32): void {
  store<i32>(KTAB + (<usize>i << 2), v);
}

/**
 * ln x per lane (Cephes logf, as logf in ./vmath.ts): x = 2ᵉ·m, m ∈ [√½, √2), ln x = e·ln2 + f − f²/2 + f³·P(f),
 * f = m − 1. Subnormals are scaled by 2²⁵ first. ln 0 = −inf, ln(x < 0) = NaN, ln(+inf) = +inf, NaN stays NaN.
 */
// @ts-ignore: decorator
@inline function log4(x: v128): v128 {
  const sub = f32x4.lt(x, kc(K_MIN_NORMAL));
  const xs = select(f32x4.mul(x, kc(K_TWO25)), x, sub);
  // m and e from the bits: bits(xs) − bits(√½) holds e in its exponent field (negative below √½: an arithmetic
  // shift), and its mantissa field added back to bits(√½) gives m (2m where Cephes' m ∈ [½, 1) is below √½:
  // the same f and e)
  const t = i32x4.sub(xs, kc(K_SQRT_HALF_BITS));
  const e = i32x4.add(i32x4.shr_s(t, 23), v128.and(sub, kc(K_M25)));
  const f = f32x4.sub(i32x4.add(v128.and(t, kc(K_MANT)), kc(K_SQRT_HALF_BITS)), kc(K_ONE));
  const z = f32x4.mul(f, f);
  // P(f) by Horner from the highest coefficient (written out: see the header)
  let p = madd(kc(K_LP), f, kc(K_LP + 1));
  p = madd(p, f, kc(K_LP + 2));
  p = madd(p, f, kc(K_LP + 3));
  p = madd(p, f, kc(K_LP + 4));
  p = madd(p, f, kc(K_LP + 5));
  p = madd(p, f, kc(K_LP + 6));
  p = madd(p, f, kc(K_LP + 7));
  p = madd(p, f, kc(K_LP + 8));
  const ef = f32x4.convert_i32x4_s(e);
  let y = f32x4.mul(f32x4.mul(p, f), z);
  y = madd(ef, kc(K_LN2_LO_), y);
  y = madd(kc(K_M_HALF), z, y);
  const r = madd(ef, kc(K_LN2_HI_), f32x4.add(f, y));
  // outside (0, +inf) ln x is −inf for ±0, else x with a quiet NaN's bits or-ed in where the sign is set
  // (negatives → NaN; +inf and NaN stay)
  const zero = kc(K_ZERO);
  const inside = v128.and(f32x4.gt(x, zero), f32x4.lt(x, kc(K_INF)));
  const nanIfNeg = v128.or(x, v128.and(i32x4.shr_s(x, 31), kc(K_QNAN_BITS)));
  return select(r, select(kc(K_NEG_INF), nanIfNeg, f32x4.eq(x, zero)), inside);
}

/**
 * Φ(x) = P(N(0,1) ≤ x) = (1 + erf(x/√2))/2 per lane, erf by a rational function (no exponential): absolute
 * error < 3e-7, as PyTorch's float32 gelu (which also forms 1 + erf). Below x/√2 = −4 Φ is 0 exactly, so
 * gelu(−inf) = −inf·0 = NaN as the reference; NaN stays NaN.
 */
// @ts-ignore: decorator
@inline function phi4(x: v128): v128 {
  const zu = f32x4.mul(x, kc(K_SQRT1_2));
  const z = f32x4.pmin(f32x4.pmax(zu, kc(K_M_FOUR)), kc(K_FOUR));
  const z2 = f32x4.mul(z, z);
  // P and Q by Horner from the highest coefficient (written out: see the header)
  let p = madd(z2, kc(K_EP), kc(K_EP + 1));
  p = madd(z2, p, kc(K_EP + 2));
  p = madd(z2, p, kc(K_EP + 3));
  p = madd(z2, p, kc(K_EP + 4));
  p = madd(z2, p, kc(K_EP + 5));
  p = madd(z2, p, kc(K_EP + 6));
  let q = madd(z2, kc(K_EQ), kc(K_EQ + 1));
  q = madd(z2, q, kc(K_EQ + 2));
  q = madd(z2, q, kc(K_EQ + 3));
  q = madd(z2, q, kc(K_EQ + 4));
  const erf = f32x4.div(f32x4.mul(z, p), q);
  const phi = madd(kc(K_HALF), erf, kc(K_HALF));
  return v128.andnot(phi, f32x4.lt(zu, kc(K_M_FOUR)));
}

// @ts-ignore: decorator
@inline function gelu4(v: v128): v128 {
  return f32x4.mul(v, phi4(v));
}

// @ts-ignore: decorator
@inline function silu4(v: v128): v128 {
  return f32x4.mul(v, sigmoid4(v));
}

// @ts-ignore: decorator
@inline function geluBackward4(v: v128, dy: v128): v128 {
  // dx = dy·(Φ(x) + x·φ(x)),  φ(x) = e^(−x²/2)/√(2π)
  return f32x4.mul(dy, geluSlopeOf(v, phi4(v)));
}

/** gelu's slope Φ(x) + x·φ(x), given Φ(x) */
// @ts-ignore: decorator
@inline function geluSlopeOf(v: v128, phi: v128): v128 {
  // −x²/2 as (−½)·x²: the bits of ½·(−x²), without a negation (three instructions in V8); ≤ 0 or NaN
  const pdf = f32x4.mul(kc(K_INV_SQRT_2PI), expNonPositive4(f32x4.mul(kc(K_M_HALF), f32x4.mul(v, v))));
  return madd(v, pdf, phi);
}

/** silu's slope σ(x)·(1 + x·(1 − σ(x))), given s = σ(x) */
// @ts-ignore: decorator
@inline function siluSlopeOf(v: v128, s: v128): v128 {
  const one = kc(K_ONE);
  return f32x4.mul(s, madd(v, f32x4.sub(one, s), one));
}

// gelu_tanh(x) = x/2·(1 + tanh u) = x·σ(2u), u = √(2/π)·(x + 0.044715x³)   (1 + tanh u = 2σ(2u))

/** σ(2u) = 1/(1 + e^(−2u)) */
// @ts-ignore: decorator
@inline function geluGate(x: v128): v128 {
  // −2u = −2√(2/π)·(x + 0.044715x³)
  const x3 = f32x4.mul(f32x4.mul(x, x), x);
  const m2u = f32x4.mul(kc(K_M2_SQRT_2_PI), madd(kc(K_GELU_A), x3, x));
  return f32x4.div(kc(K_ONE), f32x4.add(kc(K_ONE), exp4(m2u)));
}

// @ts-ignore: decorator
@inline function geluTanh4(v: v128): v128 {
  // y = x·σ(2u)
  return f32x4.mul(v, geluGate(v));
}

// @ts-ignore: decorator
@inline function siluBackward4(v: v128, dy: v128): v128 {
  // dx = dy·s·(1 + x·(1 − s)),  s = σ(x)
  return f32x4.mul(dy, siluSlopeOf(v, sigmoid4(v)));
}

// @ts-ignore: decorator
@inline function geluTanhBackward4(v: v128, dy: v128): v128 {
  return geluTanhGateBackward4(v, geluGate(v), dy);
}

// @ts-ignore: decorator
@inline function geluTanhGateBackward4(v: v128, s: v128, dy: v128): v128 {
  // y = x·s, s = σ(2u)  ⇒  y' = s + 2x·s·(1 − s)·u',  u' = √(2/π)·(1 + 3·0.044715x²)
  // (the same as (1 + t)/2 + x/2·(1 − t²)·u' with t = tanh u = 2s − 1)
  const one = kc(K_ONE);
  const du2 = f32x4.mul(kc(K_2_SQRT_2_PI), madd(kc(K_3_GELU_A), f32x4.mul(v, v), one));
  const g = madd(f32x4.mul(f32x4.mul(v, s), f32x4.sub(one, s)), du2, s);
  // 10 < |x| < inf: s·(1 − s) underflows to 0 while x² may overflow float32 (0·inf): the slope is s
  const ax = f32x4.abs(v);
  const flat = v128.and(f32x4.gt(ax, kc(K_TEN)), f32x4.lt(ax, kc(K_INF)));
  return f32x4.mul(dy, v128.bitselect(s, g, flat));
}

/**
 * One elementwise operation over elements [i0, i1) (i0 a multiple of 4): x at `x`, dy at `dy`
 * (backward ops only), the result at `y` (may equal x or dy), the gate of ops 18 and 19 and the slope of ops 26
 * and 27 at `aux`. One loop
 * per operation.
 */
export function unaryRange(op: i32, x: usize, dy: usize, y: usize, i0: i32, i1: i32, aux: usize, aux2: usize): void {
  const b = <usize>i0 << 2, e = <usize>i1 << 2;
  switch (op) {
    case 0: {
      let o = b;
      for (; o + 64 <= e; o += 64) {
        const r0 = exp4(v128.load(x + o)), r1 = exp4(v128.load(x + o, 16)), r2 = exp4(v128.load(x + o, 32)), r3 = exp4(v128.load(x + o, 48));
        v128.store(y + o, r0); v128.store(y + o, r1, 16); v128.store(y + o, r2, 32); v128.store(y + o, r3, 48);
      }
      for (; o < e; o += 16) v128.store(y + o, exp4(v128.load(x + o)));
      break;
    }
    case 1: {
      let o = b;
      for (; o + 64 <= e; o += 64) {
        const r0 = tanh4(v128.load(x + o)), r1 = tanh4(v128.load(x + o, 16)), r2 = tanh4(v128.load(x + o, 32)), r3 = tanh4(v128.load(x + o, 48));
        v128.store(y + o, r0); v128.store(y + o, r1, 16); v128.store(y + o, r2, 32); v128.store(y + o, r3, 48);
      }
      for (; o < e; o += 16) v128.store(y + o, tanh4(v128.load(x + o)));
      break;
    }
    case 2: {
      let o = b;
      for (; o + 64 <= e; o += 64) {
        const r0 = sigmoid4(v128.load(x + o)), r1 = sigmoid4(v128.load(x + o, 16)), r2 = sigmoid4(v128.load(x + o, 32)), r3 = sigmoid4(v128.load(x + o, 48));
        v128.store(y + o, r0); v128.store(y + o, r1, 16); v128.store(y + o, r2, 32); v128.store(y + o, r3, 48);
      }
      for (; o < e; o += 16) v128.store(y + o, sigmoid4(v128.load(x + o)));
      break;
    }
    case 3: {
      let o = b;
      for (; o + 64 <= e; o += 64) {
        const r0 = silu4(v128.load(x + o)), r1 = silu4(v128.load(x + o, 16)), r2 = silu4(v128.load(x + o, 32)), r3 = silu4(v128.load(x + o, 48));
        v128.store(y + o, r0); v128.store(y + o, r1, 16); v128.store(y + o, r2, 32); v128.store(y + o, r3, 48);
      }
      for (; o < e; o += 16) v128.store(y + o, silu4(v128.load(x + o)));
      break;
    }
    case 4: {
      let o = b;
      for (; o + 64 <= e; o += 64) {
        const r0 = geluTanh4(v128.load(x + o)), r1 = geluTanh4(v128.load(x + o, 16)), r2 = geluTanh4(v128.load(x + o, 32)), r3 = geluTanh4(v128.load(x + o, 48));
        v128.store(y + o, r0); v128.store(y + o, r1, 16); v128.store(y + o, r2, 32); v128.store(y + o, r3, 48);
      }
      for (; o < e; o += 16) v128.store(y + o, geluTanh4(v128.load(x + o)));
      break;
    }
    case 5: {
      let o = b;
      for (; o + 64 <= e; o += 64) {
        const r0 = siluBackward4(v128.load(x + o), v128.load(dy + o)), r1 = siluBackward4(v128.load(x + o, 16), v128.load(dy + o, 16)), r2 = siluBackward4(v128.load(x + o, 32), v128.load(dy + o, 32)), r3 = siluBackward4(v128.load(x + o, 48), v128.load(dy + o, 48));
        v128.store(y + o, r0); v128.store(y + o, r1, 16); v128.store(y + o, r2, 32); v128.store(y + o, r3, 48);
      }
      for (; o < e; o += 16) v128.store(y + o, siluBackward4(v128.load(x + o), v128.load(dy + o)));
      break;
    }
    case 6: {
      let o = b;
      for (; o + 64 <= e; o += 64) {
        const r0 = geluTanhBackward4(v128.load(x + o), v128.load(dy + o)), r1 = geluTanhBackward4(v128.load(x + o, 16), v128.load(dy + o, 16)), r2 = geluTanhBackward4(v128.load(x + o, 32), v128.load(dy + o, 32)), r3 = geluTanhBackward4(v128.load(x + o, 48), v128.load(dy + o, 48));
        v128.store(y + o, r0); v128.store(y + o, r1, 16); v128.store(y + o, r2, 32); v128.store(y + o, r3, 48);
      }
      for (; o < e; o += 16) v128.store(y + o, geluTanhBackward4(v128.load(x + o), v128.load(dy + o)));
      break;
    }
    case 7: for (let o = b; o < e; o += 16) v128.store(y + o, f32x4.neg(v128.load(x + o))); break;
    case 8: for (let o = b; o < e; o += 16) v128.store(y + o, f32x4.abs(v128.load(x + o))); break;
    case 9: {
      const one = kc(K_ONE), m1 = kc(K_MINUS_ONE), zero = kc(K_ZERO);
      for (let o = b; o < e; o += 16) {
        const v = v128.load(x + o);
        v128.store(y + o, v128.or(v128.and(f32x4.gt(v, zero), one), v128.and(f32x4.lt(v, zero), m1)));
      }
      break;
    }
    case 10: {
      // x ≤ 0 → +0; NaN (not ≤ 0) stays
      const zero = kc(K_ZERO);
      for (let o = b; o < e; o += 16) { const v = v128.load(x + o); v128.store(y + o, v128.andnot(v, f32x4.le(v, zero))); }
      break;
    }
    case 11: for (let o = b; o < e; o += 16) v128.store(y + o, f32x4.sqrt(v128.load(x + o))); break;
    case 12: for (let o = b; o < e; o += 16) v128.store(y + o, f32x4.div(kc(K_ONE), f32x4.sqrt(v128.load(x + o)))); break;
    case 13: for (let o = b; o < e; o += 16) v128.store(y + o, f32x4.div(kc(K_ONE), v128.load(x + o))); break;
    case 14: {
      let o = b;
      for (; o + 32 <= e; o += 32) {
        const r0 = log4(v128.load(x + o)), r1 = log4(v128.load(x + o, 16));
        v128.store(y + o, r0); v128.store(y + o, r1, 16);
      }
      for (; o < e; o += 16) v128.store(y + o, log4(v128.load(x + o)));
      break;
    }
    case 15: {
      let o = b;
      for (; o + 32 <= e; o += 32) {
        const r0 = gelu4(v128.load(x + o)), r1 = gelu4(v128.load(x + o, 16));
        v128.store(y + o, r0); v128.store(y + o, r1, 16);
      }
      for (; o < e; o += 16) v128.store(y + o, gelu4(v128.load(x + o)));
      break;
    }
    case 16: {
      let o = b;
      for (; o + 32 <= e; o += 32) {
        const r0 = geluBackward4(v128.load(x + o), v128.load(dy + o)), r1 = geluBackward4(v128.load(x + o, 16), v128.load(dy + o, 16));
        v128.store(y + o, r0); v128.store(y + o, r1, 16);
      }
      for (; o < e; o += 16) v128.store(y + o, geluBackward4(v128.load(x + o), v128.load(dy + o)));
      break;
    }
    case 17: {
      const zero = kc(K_ZERO);
      for (let o = b; o < e; o += 16) v128.store(y + o, v128.andnot(v128.load(dy + o), f32x4.le(v128.load(x + o), zero)));
      break;
    }
    case 18: {
      let o = b;
      for (; o + 64 <= e; o += 64) {
        const v0 = v128.load(x + o), v1 = v128.load(x + o, 16), v2 = v128.load(x + o, 32), v3 = v128.load(x + o, 48);
        const s0 = geluGate(v0), s1 = geluGate(v1), s2 = geluGate(v2), s3 = geluGate(v3);
        v128.store(y + o, f32x4.mul(v0, s0)); v128.store(y + o, f32x4.mul(v1, s1), 16);
        v128.store(y + o, f32x4.mul(v2, s2), 32); v128.store(y + o, f32x4.mul(v3, s3), 48);
        v128.store(aux + o, s0); v128.store(aux + o, s1, 16); v128.store(aux + o, s2, 32); v128.store(aux + o, s3, 48);
      }
      for (; o < e; o += 16) {
        const v = v128.load(x + o);
        const s = geluGate(v);
        v128.store(y + o, f32x4.mul(v, s));
        v128.store(aux + o, s);
      }
      break;
    }
    case 19: {
      let o = b;
      for (; o + 64 <= e; o += 64) {
        const r0 = geluTanhGateBackward4(v128.load(x + o), v128.load(aux + o), v128.load(dy + o)), r1 = geluTanhGateBackward4(v128.load(x + o, 16), v128.load(aux + o, 16), v128.load(dy + o, 16)), r2 = geluTanhGateBackward4(v128.load(x + o, 32), v128.load(aux + o, 32), v128.load(dy + o, 32)), r3 = geluTanhGateBackward4(v128.load(x + o, 48), v128.load(aux + o, 48), v128.load(dy + o, 48));
        v128.store(y + o, r0); v128.store(y + o, r1, 16); v128.store(y + o, r2, 32); v128.store(y + o, r3, 48);
      }
      for (; o < e; o += 16) v128.store(y + o, geluTanhGateBackward4(v128.load(x + o), v128.load(aux + o), v128.load(dy + o)));
      break;
    }
    // The backwards below are the composed ops' float32 operations in the same order, each rounded once (no
    // fused multiply-add), so they write the same bits as the ops they replace, in one pass.
    case 20: {
      // mul: da = dy·b (y), db = dy·a (aux2); x = a, aux = b
      for (let o = b; o < e; o += 16) {
        const g = v128.load(dy + o);
        v128.store(y + o, f32x4.mul(g, v128.load(aux + o)));
        v128.store(aux2 + o, f32x4.mul(g, v128.load(x + o)));
      }
      break;
    }
    case 21: {
      // div: da = dy/b (y), db = −((dy·q)/b) (aux2); x = b, aux = q = a/b
      for (let o = b; o < e; o += 16) {
        const g = v128.load(dy + o), d = v128.load(x + o);
        v128.store(y + o, f32x4.div(g, d));
        v128.store(aux2 + o, f32x4.neg(f32x4.div(f32x4.mul(g, v128.load(aux + o)), d)));
      }
      break;
    }
    case 22: {
      // tanh: dx = dy·(1 − y·y); x = y
      const one = kc(K_ONE);
      for (let o = b; o < e; o += 16) {
        const t = v128.load(x + o);
        v128.store(y + o, f32x4.mul(v128.load(dy + o), f32x4.sub(one, f32x4.mul(t, t))));
      }
      break;
    }
    case 23: {
      // sigmoid: dx = dy·(y·(1 − y)); x = y
      const one = kc(K_ONE);
      for (let o = b; o < e; o += 16) {
        const s = v128.load(x + o);
        v128.store(y + o, f32x4.mul(v128.load(dy + o), f32x4.mul(s, f32x4.sub(one, s))));
      }
      break;
    }
    case 24: {
      // abs: dx = dy·sign(x), sign as case 9
      const one = kc(K_ONE), m1 = kc(K_MINUS_ONE), zero = kc(K_ZERO);
      for (let o = b; o < e; o += 16) {
        const v = v128.load(x + o);
        const sg = v128.or(v128.and(f32x4.gt(v, zero), one), v128.and(f32x4.lt(v, zero), m1));
        v128.store(y + o, f32x4.mul(v128.load(dy + o), sg));
      }
      break;
    }
    case 25: {
      // sqrt: dx = dy/(y·2); x = y
      const two = kc(K_TWO);
      for (let o = b; o < e; o += 16) v128.store(y + o, f32x4.div(v128.load(dy + o), f32x4.mul(v128.load(x + o), two)));
      break;
    }
    // The forwards that keep their slope: y as ops 15 and 3 write it, the slope as ops 16 and 5 multiply dy by it
    // (the same operations), so dx = dy·slope has the bits of those backwards.
    case 26: {
      let o = b;
      for (; o + 32 <= e; o += 32) {
        const v0 = v128.load(x + o), v1 = v128.load(x + o, 16);
        const c0 = phi4(v0), c1 = phi4(v1);
        v128.store(y + o, f32x4.mul(v0, c0)); v128.store(y + o, f32x4.mul(v1, c1), 16);
        v128.store(aux + o, geluSlopeOf(v0, c0)); v128.store(aux + o, geluSlopeOf(v1, c1), 16);
      }
      for (; o < e; o += 16) {
        const v = v128.load(x + o);
        const phi = phi4(v);
        v128.store(y + o, f32x4.mul(v, phi));
        v128.store(aux + o, geluSlopeOf(v, phi));
      }
      break;
    }
    case 27: {
      let o = b;
      for (; o + 64 <= e; o += 64) {
        const v0 = v128.load(x + o), v1 = v128.load(x + o, 16), v2 = v128.load(x + o, 32), v3 = v128.load(x + o, 48);
        const s0 = sigmoid4(v0), s1 = sigmoid4(v1), s2 = sigmoid4(v2), s3 = sigmoid4(v3);
        v128.store(y + o, f32x4.mul(v0, s0)); v128.store(y + o, f32x4.mul(v1, s1), 16);
        v128.store(y + o, f32x4.mul(v2, s2), 32); v128.store(y + o, f32x4.mul(v3, s3), 48);
        v128.store(aux + o, siluSlopeOf(v0, s0)); v128.store(aux + o, siluSlopeOf(v1, s1), 16);
        v128.store(aux + o, siluSlopeOf(v2, s2), 32); v128.store(aux + o, siluSlopeOf(v3, s3), 48);
      }
      for (; o < e; o += 16) {
        const v = v128.load(x + o);
        const s = sigmoid4(v);
        v128.store(y + o, f32x4.mul(v, s));
        v128.store(aux + o, siluSlopeOf(v, s));
      }
      break;
    }
  }
}
