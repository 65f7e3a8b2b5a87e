// Comparing a data-parallel run with one process: losses per step, parameters and AdamW moments per tensor
// within 1e-6 relative, "relative" per tensor meaning the larger of ‖a − b‖/‖b‖ and max|a − b|/max|b|.
import assert from "node:assert/strict";
import type { TrainResult } from "./jobs.js";

export const REL = 1e-6;

/** the larger of ‖a − b‖₂ / ‖b‖₂ and max|a − b| / max|b| */
export function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d2 = 0,
    b2 = 0,
    dMax = 0,
    bMax = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    d2 += d * d;
    b2 += b[i]! * b[i]!;
    dMax = Math.max(dMax, d);
    bMax = Math.max(bMax, Math.abs(b[i]!));
  }
  return Math.max(Math.sqrt(d2 / b2), dMax / bMax);
}

/** Losses within REL per step; parameters and moments within `tensorRel` (default REL) per tensor. */
export function compareRuns(got: TrainResult, ref: TrainResult, what: string, tensorRel = REL): void {
  got.losses.forEach((l, i) =>
    assert.ok(
      Math.abs(l - ref.losses[i]!) <= REL * ref.losses[i]!,
      `${what}: loss at step ${i + 1}: ${l} vs ${ref.losses[i]}`,
    ),
  );
  for (const key of ["params", "expAvg", "expAvgSq"] as const) {
    got[key].forEach((a, i) => {
      const r = maxRel(a, ref[key][i]!);
      assert.ok(r <= tensorRel, `${what}: ${key}[${i}] differs by ${r.toExponential(2)} relative`);
    });
  }
}
