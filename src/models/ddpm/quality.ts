// How good are generated digits? Judged by a trained MNIST classifier (the project's LeNet-5):
//   - class-conditional accuracy: the share of digits drawn for class y that the classifier assigns to y;
//   - the Fréchet distance between the classifier's penultimate features (F6, 84 numbers) of generated and of
//     real test digits, as FID does with Inception's pool features (Heusel et al. 2017,
//     https://arxiv.org/abs/1706.08500):  FD = ‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2·(Σ_a^½ Σ_b Σ_a^½)^½).
// Browser-safe: features in, numbers out.
//
// Vocabulary: n, m samples, d features.

import { noGrad } from "../../engine/autograd.js";
import { tensor } from "../../engine/creation.js";
import { ArgumentError } from "../../engine/errors.js";
import type { Tensor } from "../../engine/tensor.js";
import type { LeNet5 } from "../lenet5/model.js";

/** The eigenvalues and eigenvectors (columns of V) of a symmetric d×d matrix, by cyclic Jacobi rotations (float64). */
export function symmetricEigen(a: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  const A = Float64Array.from(a),
    V = new Float64Array(d * d);
  for (let i = 0; i < d; i++) V[i * d + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += A[p * d + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = A[p * d + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        // the rotation that zeroes A[p][q]: tan(2θ) = 2·a_pq / (a_qq − a_pp)
        const theta = (A[q * d + q]! - A[p * d + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1),
          s = t * c;
        for (let k = 0; k < d; k++) {
          // A ← A·J
          const akp = A[k * d + p]!,
            akq = A[k * d + q]!;
          A[k * d + p] = c * akp - s * akq;
          A[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          // A ← Jᵀ·A
          const apk = A[p * d + k]!,
            aqk = A[q * d + k]!;
          A[p * d + k] = c * apk - s * aqk;
          A[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          // V ← V·J
          const vkp = V[k * d + p]!,
            vkq = V[k * d + q]!;
          V[k * d + p] = c * vkp - s * vkq;
          V[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: d }, (_, i) => A[i * d + i]!), vectors: V };
}

/** The mean (d) and the unbiased covariance (d×d) of n rows of d features. */
export function meanCov(
  x: Float64Array | Float32Array,
  n: number,
  d: number,
): { mean: Float64Array; cov: Float64Array } {
  if (n < 2 || x.length !== n * d)
    throw new ArgumentError(`meanCov: need n ≥ 2 rows of ${d} features, got ${x.length} values for n = ${n}`);
  const mean = new Float64Array(d),
    cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += x[i * d + j]! / n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const dj = x[i * d + j]! - mean[j]!;
      for (let k = j; k < d; k++) cov[j * d + k]! += (dj * (x[i * d + k]! - mean[k]!)) / (n - 1);
    }
  }
  for (let j = 0; j < d; j++) for (let k = 0; k < j; k++) cov[j * d + k] = cov[k * d + j]!;
  return { mean, cov };
}

/** S^½ of a symmetric positive semi-definite matrix: V·diag(√max(λ, 0))·Vᵀ. */
function sqrtPsd(s: Float64Array, d: number): Float64Array {
  const { values, vectors: V } = symmetricEigen(s, d);
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      let acc = 0;
      for (let k = 0; k < d; k++) acc += V[i * d + k]! * Math.sqrt(Math.max(values[k]!, 0)) * V[j * d + k]!;
      out[i * d + j] = acc;
    }
  return out;
}

function matmul(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k]!;
      for (let j = 0; j < d; j++) out[i * d + j]! += aik * b[k * d + j]!;
    }
  return out;
}

/** FD = ‖μ_a − μ_b‖² + tr Σ_a + tr Σ_b − 2·tr (Σ_a^½ Σ_b Σ_a^½)^½, for rows of d features. */
export function frechetDistance(
  a: Float64Array | Float32Array,
  n: number,
  b: Float64Array | Float32Array,
  m: number,
  d: number,
): number {
  const A = meanCov(a, n, d),
    B = meanCov(b, m, d);
  let diff = 0,
    tr = 0;
  for (let j = 0; j < d; j++) {
    diff += (A.mean[j]! - B.mean[j]!) ** 2;
    tr += A.cov[j * d + j]! + B.cov[j * d + j]!;
  }
  const sa = sqrtPsd(A.cov, d);
  const inner = matmul(matmul(sa, B.cov, d), sa, d); // Σ_a^½ Σ_b Σ_a^½, symmetric PSD
  for (let i = 0; i < d; i++)
    for (let j = 0; j < i; j++) inner[i * d + j] = inner[j * d + i] = (inner[i * d + j]! + inner[j * d + i]!) / 2;
  const { values } = symmetricEigen(inner, d);
  let trSqrt = 0;
  for (const v of values) trSqrt += Math.sqrt(Math.max(v, 0));
  return diff + tr - 2 * trSqrt;
}

/** The classifier's verdict on images (N, 1, 28, 28) in [0, 1]: predicted classes and F6 features (N·84). */
export function judge(
  classifier: LeNet5,
  images: Tensor,
  batch = 250,
): { predictions: Int32Array; features: Float32Array; dim: number } {
  const N = images.shape[0]!,
    dim = classifier.config.f6;
  const predictions = new Int32Array(N),
    features = new Float32Array(N * dim);
  classifier.eval();
  noGrad(() => {
    for (let s = 0; s < N; s += batch) {
      const b = Math.min(batch, N - s);
      const act = classifier.activations(images.narrow(0, s, b)); // logits (b, 10), f6 (b, 84)
      predictions.set(act.logits.argmax(1).storage as Int32Array, s);
      features.set(act.f6.storage as Float32Array, s * dim);
    }
  });
  return { predictions, features, dim };
}

/** Images i of a flat MNIST split (N·784, [0, 1]) as a tensor (n, 1, 28, 28). */
export function digitsTensor(images: Float32Array, from: number, n: number): Tensor {
  return tensor(images.slice(from * 784, (from + n) * 784), { shape: [n, 1, 28, 28] });
}
