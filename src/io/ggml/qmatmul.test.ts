// The kernels on GGML blocks against dequantize-then-matmul in float64, and QuantLinear in a model.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ArgumentError } from "../../engine/errors.js";
import { tensor } from "../../engine/creation.js";
import { QuantLinear } from "./qlinear.js";
import { qmatmul, quantizeActivations } from "./qmatmul.js";
import { quantizeActivationsK } from "../../ops/qmatmul.js";
import {
  GGML_TYPES,
  GGML_TYPE_NAMES,
  bf16ToFp32,
  dequantize,
  fp16ToFp32,
  fp32ToBf16,
  fp32ToFp16,
  quantize,
  type GgmlType,
} from "./quants.js";

function seeded(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 2 ** 32 - 0.5));
}

/** The activations as the kernel sees them: Q8_0-rounded for the 32-block types, Q8_K for Q4_K, Q5_K, Q6_K, cast for F16/BF16. */
function seenActivations(type: GgmlType, x: Float32Array, K: number): Float64Array {
  if (["Q4_K", "Q5_K", "Q6_K"].includes(type)) {
    const a = quantizeActivationsK(x);
    return Float64Array.from(a.q, (q, i) => q * a.d[i >> 8]!);
  }
  if (["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"].includes(type)) {
    const out = new Float64Array(x.length);
    for (let r = 0; r < x.length / K; r++) {
      const a = quantizeActivations(x.subarray(r * K, (r + 1) * K), false);
      for (let i = 0; i < K; i++) out[r * K + i] = a.q[i]! * a.d[Math.floor(i / 32)]!;
    }
    return out;
  }
  if (type === "F16") return Float64Array.from(x, (v) => fp16ToFp32(fp32ToFp16(v)));
  if (type === "BF16") return Float64Array.from(x, (v) => bf16ToFp32(fp32ToBf16(v)));
  return Float64Array.from(x);
}

test("qmatmul of every type equals dequantize-then-matmul (float64), for T = 1 and T = 3", () => {
  for (const type of GGML_TYPE_NAMES) {
    const K = GGML_TYPES[type].blockSize === 256 ? 512 : 96,
      N = 5;
    const w = seeded(N * K, 11),
      W = quantize(type, w);
    const Wd = dequantize(type, W, N * K);
    for (const T of [1, 3]) {
      const x = seeded(T * K, 5 + T);
      const y = qmatmul(x, T, K, W, type, N);
      const xs = seenActivations(type, x, K);
      for (let t = 0; t < T; t++) {
        for (let n = 0; n < N; n++) {
          let ref = 0,
            scale = 0;
          for (let k = 0; k < K; k++) {
            ref += xs[t * K + k]! * Wd[n * K + k]!;
            scale += Math.abs(xs[t * K + k]! * Wd[n * K + k]!);
          }
          if (type === "Q4_1" || type === "Q5_1") {
            // ggml adds m_w·s_x with s_x = fp16(d_x·Σq_x) as stored, not the exact m_w·d_x·Σq_x
            const a = quantizeActivations(x.subarray(t * K, (t + 1) * K), true);
            const ts = GGML_TYPES[type].typeSize;
            for (let b = 0; b < K / 32; b++) {
              const m = fp16ToFp32(W[((n * K) / 32 + b) * ts + 2]! | (W[((n * K) / 32 + b) * ts + 3]! << 8));
              let sq = 0;
              for (let j = 0; j < 32; j++) sq += a.q[32 * b + j]!;
              ref += m * (a.s[b]! - a.d[b]! * sq);
            }
          }
          assert.ok(
            Math.abs(y[t * N + n]! - ref) <= 1e-5 * scale + 1e-7,
            `${type} T=${T} (${t}, ${n}): ${y[t * N + n]} vs ${ref}`,
          );
        }
      }
    }
  }
});

test("activations are rounded as ggml's x86 backend does: ties to even, 127/max", () => {
  const x = new Float32Array(32);
  x[0] = 127;
  x[1] = 2.5;
  x[2] = 3.5;
  x[3] = -2.5;
  x[4] = 0.5;
  const a = quantizeActivations(x, true);
  assert.equal(a.d[0], 1);
  assert.deepEqual([...a.q.subarray(0, 5)], [127, 2, 4, -2, 0]);
  assert.equal(a.s[0], 127 + 2 + 4 - 2);
});

test("QuantLinear: (..., in) → (..., out) with bias, on the blocks; wrong sizes rejected", () => {
  const K = 64,
    N = 3;
  const w = seeded(N * K, 3),
    b = tensor([0.5, -1, 2]);
  const lin = new QuantLinear(K, N, "Q8_0", quantize("Q8_0", w), b);
  const x = seeded(2 * 2 * K, 9);
  const y = lin.forward(tensor(x, { shape: [2, 2, K] }));
  assert.deepEqual([...y.shape], [2, 2, N]);
  const plain = qmatmul(x, 4, K, quantize("Q8_0", w), "Q8_0", N);
  const yd = y.dataSync();
  for (let i = 0; i < 4 * N; i++) assert.equal(yd[i], Math.fround(plain[i]! + [0.5, -1, 2][i % N]!));
  assert.equal(lin.bitsPerWeight, 8.5);
  assert.equal(lin.parameters().length, 0); // nothing to train
  assert.throws(() => new QuantLinear(K, N, "Q4_0", new Uint8Array(10)), ArgumentError);
  assert.throws(() => lin.forward(tensor(seeded(10, 1), { shape: [1, 10] })), ArgumentError);
});
