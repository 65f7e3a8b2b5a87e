// Reference matrix multiply: the algorithmic definition, and the spec for every faster backend.
//
//   out[t] (m, n) = op(A[t]) (m, k) · op(B[t]) (k, n)     for t < batch
//
// op(A)[i][p] sits at i·k + p, or at p·m + i when transA (A stored as [k, m]);
// op(B)[p][j] sits at p·n + j, or at j·k + p when transB (B stored as [n, k]).
// Two loop orders, chosen so that the innermost loop walks memory contiguously:
//   B not transposed: i-p-j, out row i += A[i][p] · (row p of B)     (row of B and row of out contiguous)
//   B transposed:     i-j-p, out[i][j] = (row i of A) · (row j of Bᵀ)  (a dot product of two rows)
// Then the optional bias row is added to every output row, and the optional row sums of op(A) written.

import type { MatmulKernels } from "../backend.js";

export const matmul: MatmulKernels = {
  matmul(a, b, out, { batch, m, n, k, transA, transB, strideA, strideB, bias, rowSumsA }, accumulate = false) {
    const ai = transA ? 1 : k,
      ap = transA ? m : 1; // A[i][p] = a[oa + i·ai + p·ap]
    for (let t = 0; t < batch; t++) {
      const oa = t * strideA,
        ob = t * strideB,
        oc = t * m * n;
      if (!transB) {
        for (let i = 0; i < m; i++) {
          const row = oc + i * n;
          if (!accumulate) for (let j = 0; j < n; j++) out[row + j] = 0;
          for (let p = 0; p < k; p++) {
            const aip = a[oa + i * ai + p * ap]!;
            const brow = ob + p * n;
            for (let j = 0; j < n; j++) out[row + j] = out[row + j]! + aip * b[brow + j]!;
          }
        }
      } else {
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let p = 0; p < k; p++) s += a[oa + i * ai + p * ap]! * b[ob + j * k + p]!;
            const c = oc + i * n + j;
            out[c] = accumulate ? out[c]! + s : s;
          }
        }
      }
      // out[t][i][j] += bias[j]
      if (bias) for (let i = 0, c = oc; i < m; i++) for (let j = 0; j < n; j++, c++) out[c] = out[c]! + bias[j]!;
    }
    // rowSumsA[i] = Σ_p op(A)[i][p]
    if (rowSumsA) {
      for (let i = 0; i < m; i++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[i * ai + p * ap]!;
        rowSumsA[i] = s;
      }
    }
  },
};
