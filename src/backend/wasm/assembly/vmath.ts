// AssemblyScript: SIMD math shared by the kernels (inlined where used; no exports, no data).
// exp4, tanh4 and sigmoid4 evaluate four float32 lanes at once with Cephes' single-precision
// polynomials (Moshier, "Cephes Math Library", expf.c and tanhf.c): ≈ 1–2 ulp in float32, against the
// reference kernels' float64 evaluation rounded once to float32. Special values follow the reference:
// NaN propagates, exp(−inf) = 0, exp(+inf) = +inf, tanh(±0) = ±0, tanh(±inf) = ±1.

/** a·b + c: one fused multiply-add where the module is built with relaxed SIMD, else a multiply and an add. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
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

/** eˣ per lane. */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  const xc = f32x4.min(f32x4.max(x, f32x4.splat(EXP_LO)), f32x4.splat(EXP_HI)); // NaN stays NaN
  // n = round(x·log₂e) (t holds it in its low mantissa bits);  r = x − n·ln2, ln2 in two parts
  const t = madd(xc, f32x4.splat(LOG2E), f32x4.splat(ROUND));
  const n = f32x4.sub(t, f32x4.splat(ROUND));
  let r = f32x4.sub(xc, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  // e^r = 1 + r + r²·P(r)
  let p = f32x4.splat(1.9875691500e-4);
  p = madd(p, r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  const e = f32x4.add(madd(p, f32x4.mul(r, r), r), f32x4.splat(1));
  // 2ⁿ: (n + 127) << 23, with n = bits(t) − bits(1.5·2²³)
  const pow2 = i32x4.shl(i32x4.add(t, i32x4.splat(127 - 0x4b400000)), 23);
  return f32x4.mul(e, pow2);
}

/** tanh per lane: an odd polynomial below |x| = 0.625, else 1 − 2/(e^{2|x|} + 1); the sign of x restored. */
// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  const ax = f32x4.abs(x);
  // |x| ≥ 0.625: tanh|x| = 1 − 2/(e^{2|x|} + 1)   (e^{2|x|} = +inf gives exactly 1)
  const e = exp4(f32x4.add(ax, ax));
  const big = f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1))));
  // |x| < 0.625: tanh|x| = |x| + |x|·x²·P(x²)
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745e-3);
  p = madd(p, z, f32x4.splat(2.06390887954e-2));
  p = madd(p, z, f32x4.splat(-5.37397155531e-2));
  p = madd(p, z, f32x4.splat(1.33314422036e-1));
  p = madd(p, z, f32x4.splat(-3.33332819422e-1));
  const small = madd(f32x4.mul(ax, z), p, ax);
  const t = v128.bitselect(small, big, f32x4.lt(ax, f32x4.splat(0.625)));
  // tanh x = sign(x)·tanh|x|  (t ≥ 0 or NaN: or-ing in x's sign bit)
  return v128.or(t, v128.and(x, i32x4.splat(<i32>0x80000000)));
}

/** σ(x) = 1/(1 + e^(−x)) per lane (e^(−x) = +inf for x ≪ 0 gives 0). */
// @ts-ignore: decorator
@inline export function sigmoid4(x: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), exp4(f32x4.neg(x))));
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
