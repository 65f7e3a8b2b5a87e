// The allocation meter: it counts the bytes of every storage made while its fn runs (n · itemBytes), nested
// meters each see their own, and a limit stops fn at the allocation that would pass it, before it is made.
import { test } from "node:test";
import assert from "node:assert/strict";
import { full, zeros } from "./creation.js";
import { MemoryBudgetError } from "./errors.js";
import { meterAllocations } from "./memory.js";
import { keptBuffer, tidy } from "./scope.js";

test("meterAllocations counts n · itemBytes of every storage made inside fn, and nothing outside it", () => {
  zeros([1000]); // outside: not counted
  const bytes = meterAllocations(() => {
    zeros([10, 10]); // 400
    full([3], 1, { dtype: "float64" }); // 24
    zeros([5], { dtype: "int32" }); // 20
    tidy(() => void zeros([100])); // 400, freed at the end of the scope but counted
    keptBuffer(8); // 32: an optimizer's state
  });
  assert.equal(bytes, 400 + 24 + 20 + 400 + 32);
});

test("nested meters: the outer one counts the inner one's allocations too", () => {
  let inner = -1;
  const outer = meterAllocations(() => {
    zeros([4]);
    inner = meterAllocations(() => void zeros([8]));
  });
  assert.equal(inner, 32);
  assert.equal(outer, 48);
});

test("a limit stops fn at the allocation that would pass it, before that storage is made", () => {
  let after = false;
  const bytes = meterAllocations(() => {
    zeros([100]); // 400
    zeros([1000]); // 4,000: past the limit
    after = true;
  }, 1000);
  assert.equal(bytes, 4400);
  assert.equal(after, false);
  // an error of fn's own is not swallowed, and the budget error outside any meter is the library's
  assert.throws(
    () =>
      meterAllocations(() => {
        throw new MemoryBudgetError("mine");
      }),
    /mine/,
  );
});
