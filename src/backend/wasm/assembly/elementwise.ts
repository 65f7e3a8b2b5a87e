// AssemblyScript: elementwise float32 kernels, four lanes at a time. Every loop runs over ⌈n/4⌉ whole
// vectors: the JavaScript side pads each operand's region of the arena to a multiple of 16 bytes and
// copies back only n elements, so no scalar tail is needed (lanes never interact).
//
// Operations (op ids mirror UNARY_OPS in ../elementwise.ts):
//   0 exp       y = eˣ
//   1 tanh      y = tanh x
//   2 sigmoid   y = σ(x) = 1/(1 + e^(−x))
//   3 silu      y = x·σ(x)
//   4 geluTanh  y = x/2·(1 + tanh(√(2/π)·(x + 0.044715x³)))
//   5 siluBackward      dx = dy·σ(x)·(1 + x·(1 − σ(x)))
//   6 geluTanhBackward  dx = dy·((1 + t)/2 + x/2·(1 − t²)·√(2/π)(1 + 3·0.044715x²)),  t = tanh(√(2/π)(x + 0.044715x³))
// (both gelu forms are evaluated as x·σ(2u): see geluGate)

import { exp4, kc, K_INF, K_ONE, K_USER, madd, setK, sigmoid4, tanh4 } from "./vmath";

const SQRT_2_PI: f32 = 0.7978845608028654; // √(2/π)
const GELU_A: f32 = 0.044715;
// this file's constants in the table of ./vmath.ts
const K_M2_SQRT_2_PI = K_USER, K_GELU_A = K_USER + 1, K_2_SQRT_2_PI = K_USER + 2, K_3_GELU_A = K_USER + 3, K_TEN = K_USER + 4;

export function initElementwiseConstants(): void {
  setK(K_M2_SQRT_2_PI, -2 * SQRT_2_PI); setK(K_GELU_A, GELU_A); setK(K_2_SQRT_2_PI, 2 * SQRT_2_PI);
  setK(K_3_GELU_A, 3 * GELU_A); setK(K_TEN, 10);
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
  const one = kc(K_ONE);
  const s = sigmoid4(v);
  return f32x4.mul(dy, f32x4.mul(s, madd(v, f32x4.sub(one, s), one)));
}

// @ts-ignore: decorator
@inline function geluTanhBackward4(v: v128, dy: v128): v128 {
  // y = x·s, s = σ(2u)  ⇒  y' = s + 2x·s·(1 − s)·u',  u' = √(2/π)·(1 + 3·0.044715x²)
  // (the same as (1 + t)/2 + x/2·(1 − t²)·u' with t = tanh u = 2s − 1)
  const one = kc(K_ONE);
  const s = geluGate(v);
  const du2 = f32x4.mul(kc(K_2_SQRT_2_PI), madd(kc(K_3_GELU_A), f32x4.mul(v, v), one));
  const g = madd(f32x4.mul(f32x4.mul(v, s), f32x4.sub(one, s)), du2, s);
  // 10 < |x| < inf: s·(1 − s) underflows to 0 while x² may overflow float32 (0·inf): the slope is s
  const ax = f32x4.abs(v);
  const flat = v128.and(f32x4.gt(ax, kc(K_TEN)), f32x4.lt(ax, kc(K_INF)));
  return f32x4.mul(dy, v128.bitselect(s, g, flat));
}

/**
 * One elementwise operation over elements [i0, i1) (i0 a multiple of 4): x at `x`, dy at `dy`
 * (backward ops only), the result at `y` (may equal x or dy). One loop per operation.
 */
export function unaryRange(op: i32, x: usize, dy: usize, y: usize, i0: i32, i1: i32): void {
  const b = <usize>i0 << 2, e = <usize>i1 << 2;
  switch (op) {
    case 0: {
      let o = b;
      for (; o + 32 <= e; o += 32) {
        const v0 = v128.load(x + o), v1 = v128.load(x + o, 16);
        v128.store(y + o, exp4(v0));
        v128.store(y + o, exp4(v1), 16);
      }
      for (; o < e; o += 16) v128.store(y + o, exp4(v128.load(x + o)));
      break;
    }
    case 1: for (let o = b; o < e; o += 16) v128.store(y + o, tanh4(v128.load(x + o))); break;
    case 2: for (let o = b; o < e; o += 16) v128.store(y + o, sigmoid4(v128.load(x + o))); break;
    case 3: for (let o = b; o < e; o += 16) { const v = v128.load(x + o); v128.store(y + o, f32x4.mul(v, sigmoid4(v))); } break;
    case 4: for (let o = b; o < e; o += 16) v128.store(y + o, geluTanh4(v128.load(x + o))); break;
    case 5: for (let o = b; o < e; o += 16) v128.store(y + o, siluBackward4(v128.load(x + o), v128.load(dy + o))); break;
    case 6: for (let o = b; o < e; o += 16) v128.store(y + o, geluTanhBackward4(v128.load(x + o), v128.load(dy + o))); break;
  }
}
