// A FLOP counter for tests: runs a function on a backend whose matmul and attention kernels are the
// reference ones wrapped to add up the multiply-adds they perform, 2 FLOPs each (the convention of
// src/models/architecture.ts). Every Linear, convolution (im2col · W), batched matmul and recurrent step
// goes through `matmul`; scaled dot-product attention through `attention`, whose q·kᵀ and α·v count every
// (query, key) pair of the score matrix, masked or not.

import type { MatmulParams, AttentionParams } from "../../src/backend/backend.js";
import { getBackend, reference, registerBackend, setBackend } from "../../src/ops/kernels.js";

let flops = 0;
const ref = reference();
registerBackend({
  name: "flop-counter",
  kernels: {
    matmul(a, b, out, p: MatmulParams, accumulate?: boolean) {
      flops += 2 * p.batch * p.m * p.n * p.k;
      ref.matmul(a, b, out, p, accumulate);
    },
    attention(q, k, v, mask, maskStrides, p: AttentionParams, y, lse) {
      flops += 2 * p.bh * p.tq * p.tk * (p.d + p.dv);
      ref.attention(q, k, v, mask, maskStrides, p, y, lse);
    },
  },
});

/** The value of fn() and the matrix-product FLOPs its kernels performed. */
export function countFlops<T>(fn: () => T): { value: T; flops: number } {
  const previous = getBackend();
  setBackend("flop-counter");
  flops = 0;
  try {
    const value = fn();
    return { value, flops };
  } finally {
    setBackend(previous);
  }
}
