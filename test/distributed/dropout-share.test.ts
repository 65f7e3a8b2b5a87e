// Dropout on N data-parallel workers (src/engine/rng.ts withDrawShare): worker r's masks are rows
// [r·B/N, (r+1)·B/N) of the masks one process draws for the whole batch of B rows, in F.dropout and in the
// attention's dropout, and every worker's generator ends where one process's does; a table without a batch
// dimension (batchFirst: false) gets the whole mask on every worker.

import { strict as assert } from "node:assert";
import { test } from "node:test";
import { Generator, withDrawShare } from "../../src/engine/rng.js";
import { ones } from "../../src/engine/creation.js";
import * as F from "../../src/nn/functional.js";

const B = 6,
  T = 5,
  C = 7; // 210 elements: no power of two

function masks(N: number, draw: (g: Generator, rows: number) => number[]): { rows: number[][]; next: number[] } {
  const rows: number[][] = [],
    next: number[] = [];
  for (let r = 0; r < N; r++) {
    const g = new Generator(3);
    rows.push(withDrawShare(r, N, () => draw(g, B / N)));
    next.push(g.random()); // where the generator ended
  }
  return { rows, next };
}

for (const N of [2, 3]) {
  test(`F.dropout on ${N} workers: each keeps its rows of one process's mask; the generators end together`, () => {
    const draw = (g: Generator, rows: number): number[] =>
      Array.from(F.dropout(ones([rows, T, C]), 0.3, true, { generator: g }).dataSync());
    const one = masks(1, draw),
      many = masks(N, draw);
    assert.deepEqual(many.rows.flat(), one.rows[0]);
    assert.ok(one.rows[0]!.some((x) => x === 0) && one.rows[0]!.some((x) => x > 1)); // a mask, not all kept
    for (const n of many.next) assert.equal(n, one.next[0]);
  });

  test(`attention dropout on ${N} workers: each keeps its rows of one process's mask`, () => {
    const nh = 2;
    const draw = (g: Generator, rows: number): number[] => {
      const q = ones([rows, nh, T, 4]);
      // v = identity-like ones: y sums the kept, scaled probabilities of each query row
      return Array.from(F.scaledDotProductAttention(q, q, q, { dropoutP: 0.4, generator: g }).dataSync());
    };
    const one = masks(1, draw),
      many = masks(N, draw);
    assert.deepEqual(many.rows.flat(), one.rows[0]);
    assert.ok(one.rows[0]!.some((x) => Math.abs(x - 1) > 1e-3)); // without dropout every output would be 1
    for (const n of many.next) assert.equal(n, one.next[0]);
  });
}

test("dropout with batchFirst false (a table every row shares): every worker draws one process's whole mask", () => {
  const draw = (g: Generator): number[] =>
    Array.from(F.dropout(ones([T, C]), 0.5, true, { generator: g, batchFirst: false }).dataSync());
  const one = masks(1, draw),
    many = masks(2, draw);
  for (const m of many.rows) assert.deepEqual(m, one.rows[0]);
  for (const n of many.next) assert.equal(n, one.next[0]);
});

test("outside withDrawShare, and on one worker, dropout draws as before", () => {
  const a = F.dropout(ones([B, T]), 0.5, true, { generator: new Generator(9) }).dataSync();
  const b = withDrawShare(0, 1, () => F.dropout(ones([B, T]), 0.5, true, { generator: new Generator(9) }).dataSync());
  assert.deepEqual(Array.from(b), Array.from(a));
});
