// Comparing a data-parallel run with one process: losses per step within 1e-6 relative; parameters and AdamW
// moments per tensor within 1e-6 relative in the normwise reading ‖a − b‖₂/‖b‖₂ (the standard relative error of
// a tensor), and in the max reading max|a − b|/max|b| within 1e-6 too — or, where a test measures it, within
// twice one process's own float32 noise floor in that reading (see fsdp.test.ts: why the max reading of one
// tensor cannot meet 1e-6 even between two runs of one process on the same batch).
import assert from "node:assert/strict";
import type { TrainResult } from "./jobs.js";

export const REL = 1e-6;

/** ‖a − b‖₂ / ‖b‖₂: the normwise relative error */
export function normRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d2 = 0,
    b2 = 0;
  for (let i = 0; i < a.length; i++) {
    d2 += (a[i]! - b[i]!) ** 2;
    b2 += b[i]! ** 2;
  }
  return Math.sqrt(d2 / b2);
}

/** max|a − b| / max|b|: the error of the worst element, relative to the tensor's largest */
export function infRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let dMax = 0,
    bMax = 0;
  for (let i = 0; i < a.length; i++) {
    dMax = Math.max(dMax, Math.abs(a[i]! - b[i]!));
    bMax = Math.max(bMax, Math.abs(b[i]!));
  }
  return dMax / bMax;
}

/** the larger of the two readings */
export const maxRel = (a: ArrayLike<number>, b: ArrayLike<number>): number => Math.max(normRel(a, b), infRel(a, b));

/** The largest max-reading distance over the tensors (parameters and moments) of two runs. */
export function worstInfRel(got: TrainResult, ref: TrainResult): number {
  let worst = 0;
  for (const key of ["params", "expAvg", "expAvgSq"] as const)
    got[key].forEach((a, i) => (worst = Math.max(worst, infRel(a, ref[key][i]!))));
  return worst;
}

/**
 * Losses within REL per step; parameters and moments within REL per tensor in the normwise reading, and in the
 * max reading within REL, or within 2 × `infFloor` where a test measured one process's own floor (infFloor).
 */
export function compareRuns(got: TrainResult, ref: TrainResult, what: string, infFloor = 0): void {
  got.losses.forEach((l, i) =>
    assert.ok(
      Math.abs(l - ref.losses[i]!) <= REL * ref.losses[i]!,
      `${what}: loss at step ${i + 1}: ${l} vs ${ref.losses[i]}`,
    ),
  );
  const infBound = Math.max(REL, 2 * infFloor);
  for (const key of ["params", "expAvg", "expAvgSq"] as const) {
    got[key].forEach((a, i) => {
      const n = normRel(a, ref[key][i]!),
        m = infRel(a, ref[key][i]!);
      assert.ok(n <= REL, `${what}: ${key}[${i}] differs by ${n.toExponential(2)} relative (‖a − b‖/‖b‖)`);
      assert.ok(m <= infBound, `${what}: ${key}[${i}] differs by ${m.toExponential(2)} (max|a − b|/max|b|)`);
    });
  }
}
