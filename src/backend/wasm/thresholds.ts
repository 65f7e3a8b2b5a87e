// Work sizes from which a kernel is split over the thread pool (below them it runs on the calling
// thread: waking a sleeping worker costs tens of µs on a quiet machine and far more on a loaded one,
// back-to-back dispatches to a spinning worker ≈ 4 µs). Tests lower them to run the pool paths on
// small inputs.

export interface ParallelMin {
  /** multiply-adds of a matmul (≈ 0.1 ms on one core) */
  matmulMacs: number;
  /** multiply-adds of an attention call */
  attentionMacs: number;
  /** elements of an elementwise kernel (≈ 50–100 µs of exp-like work) */
  elements: number;
}

export const DEFAULT_PARALLEL_MIN: Readonly<ParallelMin> = Object.freeze({
  matmulMacs: 1 << 22,
  attentionMacs: 1 << 22,
  elements: 1 << 16,
});

export const parallelMin: ParallelMin = { ...DEFAULT_PARALLEL_MIN };

/** Tests only: override some thresholds (null: back to the defaults). */
export function setParallelMin(o: Partial<ParallelMin> | null): void {
  Object.assign(parallelMin, o ?? DEFAULT_PARALLEL_MIN);
}
