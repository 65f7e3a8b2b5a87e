// AssemblyScript: SIMD math shared by the kernels (inlined where used; no exports, no data).
// exp4 and sigmoid4 evaluate four float32 lanes at once with Cephes' single-precision polynomial
// (Moshier, "Cephes Math Library", expf.c), tanh4 with a rational fit (below): ≈ 1–3 ulp in float32, against the
// reference kernels' float64 evaluation rounded once to float32. Special values follow the reference:
// NaN propagates, exp(−inf) = 0, exp(+inf) = +inf, tanh(±0) = ±0, tanh(±inf) = ±1.

// Constants of the vector math live in a table in memory (at KTAB, written once by initConstants when
// the instance is created): V8 materialises a v128.const with several instructions at every use inside
// a loop, while a broadcast load from a table in L1 is one. (≈ 1.8× on exp.)
export const KTAB: usize = 256;
export const K_EXP_LO = 0, K_EXP_HI = 1, K_LOG2E = 2, K_ROUND = 3, K_LN2_HI = 4, K_LN2_LO = 5;
export const K_EP0 = 6, K_EP1 = 7, K_EP2 = 8, K_EP3 = 9, K_EP4 = 10, K_EP5 = 11, K_ONE = 12, K_EXP_BIAS = 13;
export const K_TWO = 20, K_SIGN = 21; // (14–19: free)
export const K_HALF = 22, K_ZERO = 23, K_NEG_INF = 24, K_INF = 25, K_NINE = 26, K_M_NINE = 27, K_TANH_TINY = 28;
/** tanh's rational fit: the numerator's 7 coefficients (odd powers, highest first), the denominator's 4 (even) */
export const K_TA = 96, K_TB = 103;
/** first free index for the kernels' own constants (see initConstants' callers) */
export const K_USER = 32;

/** The constant i of the table in all four lanes. */
// @ts-ignore: decorator
@inline export function kc(i: i32): v128 {
  return v128.load32_splat(KTAB + (<usize>i << 2));
}

/** Writes constant i of the table (f32 bits). */
// @ts-ignore: decorator
@inline export function setK(i: i32, v: f32): void {
  store<f32>(KTAB + (<usize>i << 2), v);
}

/** a·b + c: one fused multiply-add where the module is built with relaxed SIMD, else a multiply and an add. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** c − a·b: one fused negated multiply-add where the module is built with relaxed SIMD, else a multiply and a subtract. */
// @ts-ignore: decorator
@inline export function nmadd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_nmadd(a, b, c);
  return f32x4.sub(c, f32x4.mul(a, b));
}

/**
 * a where the mask is set, else b, for masks of whole lanes (a comparison's result): one blend instruction where the
 * module is built with relaxed SIMD (relaxed_laneselect, exact on such masks), else the three of a bitwise select.
 */
// @ts-ignore: decorator
@inline export function select(a: v128, b: v128, mask: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i32x4.relaxed_laneselect(a, b, mask);
  return v128.bitselect(a, b, mask);
}

/** Σ of the four lanes. */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

/** max of the four lanes (NaN propagates). */
// @ts-ignore: decorator
@inline export function hmax(v: v128): f32 {
  const s = f32x4.max(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return max(f32x4.extract_lane(s, 0), f32x4.extract_lane(s, 1));
}

// exp: x = n·ln2 + r with |r| ≤ ln2/2, eˣ = 2ⁿ·e^r, e^r = 1 + r + r²·P(r). n is rounded with the
// 1.5·2²³ trick (adding it leaves round(x·log₂e) in the low mantissa bits), and 2ⁿ is built in the
// exponent bits. x is clamped to [−127·ln2, 128·ln2] first, where 2ⁿ becomes 0 (exponent field 0)
// and +inf (exponent field 255): eˣ below about −87.9 is 0 (the reference rounds it to a float32
// subnormal, < 1.2e-38 away) and above about 88.4 it is +inf.
const EXP_HI: f32 = 88.72283935546875; // 128·ln2
const EXP_LO: f32 = -88.02969360351562; // −127·ln2
const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const ROUND: f32 = 12582912; // 1.5·2²³

/** Fills the constants of this file (called by initConstants in ./index.ts). */
export function initMathConstants(): void {
  setK(K_EXP_LO, EXP_LO); setK(K_EXP_HI, EXP_HI); setK(K_LOG2E, LOG2E); setK(K_ROUND, ROUND);
  setK(K_LN2_HI, LN2_HI); setK(K_LN2_LO, LN2_LO);
  setK(K_EP0, 1.9875691500e-4); setK(K_EP1, 1.3981999507e-3); setK(K_EP2, 8.3334519073e-3);
  setK(K_EP3, 4.1665795894e-2); setK(K_EP4, 1.6666665459e-1); setK(K_EP5, 5.0000001201e-1);
  setK(K_ONE, 1);
  store<i32>(KTAB + (<usize>K_EXP_BIAS << 2), 127 - 0x4b400000);
  setK(K_TWO, 2);
  store<i32>(KTAB + (<usize>K_SIGN << 2), <i32>0x80000000);
  setK(K_HALF, 0.5); setK(K_ZERO, 0); setK(K_NEG_INF, -Infinity); setK(K_INF, Infinity);
  setK(K_NINE, 9); setK(K_M_NINE, -9); setK(K_TANH_TINY, 0.0004);
  setK(K_TA, -2.76076847742355e-16); setK(K_TA + 1, 2.00018790482477e-13); setK(K_TA + 2, -8.60467152213735e-11);
  setK(K_TA + 3, 5.12229709037114e-08); setK(K_TA + 4, 1.48572235717979e-05); setK(K_TA + 5, 6.37261928875436e-04);
  setK(K_TA + 6, 4.89352455891786e-03);
  setK(K_TB, 1.19825839466702e-06); setK(K_TB + 1, 1.18534705686654e-04); setK(K_TB + 2, 2.26843463243900e-03);
  setK(K_TB + 3, 4.89352518554385e-03);
}

/** 2ⁿ·e^r from t (n = round(x·log₂e) in its low mantissa bits) and r = x − n·ln2: the end of exp4 and expNonPositive4. */
// @ts-ignore: decorator
@inline function expReduced(t: v128, r: v128): v128 {
  // e^r = 1 + r + r²·P(r)
  let p = madd(kc(K_EP0), r, kc(K_EP1));
  p = madd(p, r, kc(K_EP2));
  p = madd(p, r, kc(K_EP3));
  p = madd(p, r, kc(K_EP4));
  p = madd(p, r, kc(K_EP5));
  const e = f32x4.add(madd(p, f32x4.mul(r, r), r), kc(K_ONE));
  // 2ⁿ: (n + 127) << 23, with n = bits(t) − bits(1.5·2²³)
  const pow2 = i32x4.shl(i32x4.add(t, kc(K_EXP_BIAS)), 23);
  return f32x4.mul(e, pow2);
}

/** eˣ per lane. */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  // pmax/pmin (one instruction each, unlike max/min's NaN and ±0 rules); a NaN x stays NaN through both
  const xc = f32x4.pmin(f32x4.pmax(x, kc(K_EXP_LO)), kc(K_EXP_HI));
  // n = round(x·log₂e) (t holds it in its low mantissa bits);  r = x − n·ln2, ln2 in two parts
  const t = madd(xc, kc(K_LOG2E), kc(K_ROUND));
  const n = f32x4.sub(t, kc(K_ROUND));
  let r = f32x4.sub(xc, f32x4.mul(n, kc(K_LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, kc(K_LN2_LO)));
  return expReduced(t, r);
}

/**
 * eˣ per lane for x ≤ 0 (or NaN), as exp4 without its upper clamp and with r = x − n·ln2 in two negated multiply-adds
 * (four instructions fewer): the same bits as exp4 in the plain-SIMD build; with relaxed SIMD each step of r is
 * fused (rounded once instead of twice).
 */
// @ts-ignore: decorator
@inline export function expNonPositive4(x: v128): v128 {
  const xc = f32x4.pmax(x, kc(K_EXP_LO));
  const t = madd(xc, kc(K_LOG2E), kc(K_ROUND));
  const n = f32x4.sub(t, kc(K_ROUND));
  const r = nmadd(n, kc(K_LN2_LO), nmadd(n, kc(K_LN2_HI), xc));
  return expReduced(t, r);
}

/**
 * tanh per lane, without an exponential: tanh x ≈ x·P(x²)/Q(x²), the 13/6-degree rational fit of Eigen's float32
 * tanh (generic_fast_tanh_float), on x clamped to [−9, 9]; |x| < 0.0004 gives x itself (subnormals keep their
 * bits) and |tanh| is capped at 1 (the fit passes 1 by < 3e-7 near 9). Measured against float64 tanh over
 * [−20, 20] in float32 arithmetic (every 1e-5): relative error < 2.8e-7 with the fused multiply-add, < 4e-7 without
(2–3 ulp; the exponential form it replaced: 1–2 ulp).
 * tanh(±0) = ±0, tanh(±inf) = ±1, NaN stays NaN.
 */
// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  // pmin/pmax keep a NaN x (their comparisons are false)
  const xc = f32x4.pmin(f32x4.pmax(x, kc(K_M_NINE)), kc(K_NINE));
  const z = f32x4.mul(xc, xc);
  // P and Q by Horner from the highest coefficient, written out (a `for` over the coefficients stays a loop in the
  // module, ≈ 1.15× slower)
  let p = madd(z, kc(K_TA), kc(K_TA + 1));
  p = madd(z, p, kc(K_TA + 2));
  p = madd(z, p, kc(K_TA + 3));
  p = madd(z, p, kc(K_TA + 4));
  p = madd(z, p, kc(K_TA + 5));
  p = madd(z, p, kc(K_TA + 6));
  let q = madd(z, kc(K_TB), kc(K_TB + 1));
  q = madd(z, q, kc(K_TB + 2));
  q = madd(z, q, kc(K_TB + 3));
  const t = f32x4.div(f32x4.mul(xc, p), q);
  // |t| ≤ 1 with x's sign (t has it: P, Q > 0), then x itself where |x| is tiny
  const ax = f32x4.abs(x);
  const r = v128.or(f32x4.pmin(f32x4.abs(t), kc(K_ONE)), v128.and(x, kc(K_SIGN)));
  return v128.bitselect(x, r, f32x4.lt(ax, kc(K_TANH_TINY)));
}

/** σ(x) = 1/(1 + e^(−x)) per lane (e^(−x) = +inf for x ≪ 0 gives 0). */
// @ts-ignore: decorator
@inline export function sigmoid4(x: v128): v128 {
  return f32x4.div(kc(K_ONE), f32x4.add(kc(K_ONE), exp4(f32x4.neg(x))));
}

/**
 * ln x of one float32 (Cephes logf): x = 2ᵉ·m with m ∈ [√½, √2), ln x = e·ln2 + ln m, ln(1 + f) by a
 * polynomial. Written here because the standard library's Mathf.log uses lookup tables, i.e. static data,
 * which this module must not have. ln 0 = −inf, ln(x < 0) = NaN, ln(+inf) = +inf, NaN stays NaN.
 */
export function logf(x: f32): f32 {
  if (!(x > 0)) return x == 0 ? -Infinity : NaN;
  if (x == Infinity) return x;
  let ix = reinterpret<i32>(x);
  let e: i32 = 0;
  if (ix < 0x00800000) {
    // subnormal: scale into the normal range
    x *= 33554432; // 2²⁵
    e = -25;
    ix = reinterpret<i32>(x);
  }
  // m ∈ [0.5, 1)
  e += (ix >> 23) - 126;
  let m = reinterpret<f32>((ix & 0x007fffff) | 0x3f000000);
  let f: f32;
  if (m < 0.707106781186547524) {
    e -= 1;
    f = m + m - 1;
  } else {
    f = m - 1;
  }
  const z = f * f;
  let p: f32 = 7.0376836292e-2;
  p = p * f - 1.1514610310e-1;
  p = p * f + 1.1676998740e-1;
  p = p * f - 1.2420140846e-1;
  p = p * f + 1.4249322787e-1;
  p = p * f - 1.6668057665e-1;
  p = p * f + 2.0000714765e-1;
  p = p * f - 2.4999993993e-1;
  p = p * f + 3.3333331174e-1;
  let y = p * f * z;
  const ef = <f32>e;
  y += ef * -2.12194440e-4;
  y += -0.5 * z;
  return f + y + ef * 0.693359375;
}

/**
 * logf of each lane, by the same float32 operations in the same order (no fused multiply-add), so each
 * lane has the bits logf gives it: for callers that need a few logarithms at once and must agree with
 * logf exactly. Its constants are vector literals (it is not meant for a loop's body).
 */
// @ts-ignore: decorator
@inline export function logf4(x: v128): v128 {
  const sub = f32x4.lt(x, f32x4.splat(1.17549435e-38));
  const xs = v128.bitselect(f32x4.mul(x, f32x4.splat(33554432)), x, sub);
  // e = exponent − 126 (− 25 for a scaled subnormal), m ∈ [0.5, 1)
  let e = i32x4.add(i32x4.sub(i32x4.shr_s(xs, 23), i32x4.splat(126)), v128.and(sub, i32x4.splat(-25)));
  const m = v128.or(v128.and(xs, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000));
  // m < √½: e −= 1, f = m + m − 1; else f = m − 1   (the mask is −1 in each lane where it holds)
  const lo = f32x4.lt(m, f32x4.splat(0.707106781186547524));
  e = i32x4.add(e, lo);
  const f = f32x4.sub(v128.bitselect(f32x4.add(m, m), m, lo), f32x4.splat(1));
  const z = f32x4.mul(f, f);
  let p = f32x4.splat(7.0376836292e-2);
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(-1.1514610310e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1.1676998740e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(-1.2420140846e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1.4249322787e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(-1.6668057665e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(2.0000714765e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(-2.4999993993e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(3.3333331174e-1));
  let y = f32x4.mul(f32x4.mul(p, f), z);
  const ef = f32x4.convert_i32x4_s(e);
  y = f32x4.add(y, f32x4.mul(ef, f32x4.splat(-2.12194440e-4)));
  y = f32x4.add(y, f32x4.mul(f32x4.splat(-0.5), z));
  let r = f32x4.add(f32x4.add(f, y), f32x4.mul(ef, f32x4.splat(0.693359375)));
  // special values, as logf: 0 → −inf; < 0 → NaN; +inf and NaN → themselves
  r = v128.bitselect(f32x4.splat(-Infinity), r, f32x4.eq(x, f32x4.splat(0)));
  r = v128.bitselect(f32x4.splat(NaN), r, f32x4.lt(x, f32x4.splat(0)));
  return v128.bitselect(x, r, v128.or(f32x4.ne(x, x), f32x4.eq(x, f32x4.splat(Infinity))));
}
