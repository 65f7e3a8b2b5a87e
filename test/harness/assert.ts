// Numeric assertions shared by every suite.

import assert from "node:assert/strict";
import { Tensor } from "../../src/index.js";

export interface Tolerance {
  rtol: number;
  atol: number;
}

/** Elementwise |a − b| ≤ atol + rtol·|b|, with NaN matching NaN and ±inf matching exactly. */
export function assertClose(
  actual: Tensor | ArrayLike<number>,
  expected: Tensor | ArrayLike<number>,
  tol: Tolerance,
  what = "value",
): void {
  const a = actual instanceof Tensor ? actual.storage : actual;
  const b = expected instanceof Tensor ? expected.storage : expected;
  if (actual instanceof Tensor && expected instanceof Tensor) {
    assert.deepEqual(
      [...actual.shape],
      [...expected.shape],
      `${what}: shape ${JSON.stringify(actual.shape)} != expected ${JSON.stringify(expected.shape)}`,
    );
  }
  assert.equal(a.length, b.length, `${what}: ${a.length} elements != expected ${b.length}`);
  let worst = -1,
    worstErr = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Number(a[i]),
      y = Number(b[i]);
    if (Number.isNaN(y) || Number.isNaN(x)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) assert.fail(`${what}[${i}]: got ${x}, expected ${y}`);
      continue;
    }
    if (!Number.isFinite(y) || !Number.isFinite(x)) {
      if (x !== y) assert.fail(`${what}[${i}]: got ${x}, expected ${y}`);
      continue;
    }
    const err = Math.abs(x - y) - (tol.atol + tol.rtol * Math.abs(y));
    if (err > worstErr) {
      worstErr = err;
      worst = i;
    }
  }
  if (worst >= 0) {
    assert.fail(
      `${what}[${worst}]: got ${Number(a[worst])}, expected ${Number(b[worst])} (atol ${tol.atol}, rtol ${tol.rtol})`,
    );
  }
}

/** fn must throw an instance of `cls` whose message matches every pattern. */
export function assertThrowsWith(fn: () => unknown, cls: new (...a: never[]) => Error, ...patterns: RegExp[]): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  if (thrown === undefined) assert.fail(`expected ${cls.name} to be thrown, but the call returned`);
  if (!(thrown instanceof cls))
    assert.fail(`expected ${cls.name}, got ${(thrown as Error)?.constructor?.name}: ${(thrown as Error)?.message}`);
  for (const p of patterns) assert.match((thrown as Error).message, p);
}
