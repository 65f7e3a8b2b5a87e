// Reference matrix multiply: the algorithmic definition, three loops per batch matrix.

import type { MatmulKernels } from "../backend.js";

export const matmul: MatmulKernels = {
  matmul(a, b, out, { batch, m, n, k, transA, transB, strideA, strideB }, accumulate = false) {
    // A[i][p] sits at i*k + p, or at p*m + i when transposed; B[p][j] at p*n + j, or j*k + p.
    const ai = transA ? 1 : k, ap = transA ? m : 1;
    const bp = transB ? 1 : n, bj = transB ? k : 1;
    for (let t = 0; t < batch; t++) {
      const oa = t * strideA, ob = t * strideB, oc = t * m * n;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) s += a[oa + i * ai + p * ap]! * b[ob + p * bp + j * bj]!;
          out[oc + i * n + j] = accumulate ? out[oc + i * n + j]! + s : s;
        }
      }
    }
  },
};
