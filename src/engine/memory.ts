// A meter of the bytes the engine allocates for tensor storage, for the memory estimate every training command
// makes before it starts (src/recipes/memory-probe.ts). Every storage an op or a creation function makes goes
// through `allocate` (./dtype.ts) and every optimizer state through `keptBuffer` (./scope.ts); both report here,
// before the storage is allocated.
//
//   bytes(fn) = Σ n_i · itemBytes(dtype_i) over the storages allocated while fn runs
//
// Nothing is subtracted when a storage is freed: inside a training step's memory scope nothing is freed before
// the scope ends, so the bytes a step allocates are the bytes it holds at its end (its peak), and outside a
// scope the count is an upper bound. A meter given a limit stops fn at the first allocation that would pass it,
// before that storage exists. Off (the default), the meter costs one comparison per allocation.

import { MemoryBudgetError } from "./errors.js";

let metering = 0;
let counted = 0;
/** the value of `counted` past which the innermost limited meter stops its fn */
let ceiling = Infinity;

/** the largest single storage counted since the outermost meter began */
let largest = 0;

/**
 * Runs fn under the meter and returns the bytes allocated and the largest single storage among them (a lower
 * bound of any peak: whatever else is freed, that one storage existed whole).
 */
export function meterLargest(fn: () => void): { bytes: number; largest: number } {
  const outer = largest;
  largest = 0;
  try {
    const bytes = meterAllocations(fn);
    return { bytes, largest };
  } finally {
    largest = Math.max(outer, largest);
  }
}

/** Thrown inside a metered fn at the allocation that passes the meter's limit; the meter catches it. */
class LimitReached extends MemoryBudgetError {}

/** Called by the allocators with the bytes of a storage about to be allocated. */
export function countAllocation(bytes: number): void {
  if (metering === 0) return;
  counted += bytes;
  if (bytes > largest) largest = bytes;
  if (counted > ceiling) throw new LimitReached(`allocation meter: past its limit of ${ceiling} bytes`);
}

/**
 * Runs fn and returns the bytes of tensor storage allocated while it ran. With a `limit`, fn is stopped at the
 * allocation that would pass it (that storage is not allocated) and the count returned is then above `limit`.
 */
export function meterAllocations(fn: () => void, limit = Infinity): number {
  const before = counted,
    outer = ceiling;
  metering++;
  ceiling = Math.min(outer, before + limit);
  try {
    fn();
  } catch (e) {
    if (!(e instanceof LimitReached) || counted <= before + limit) throw e;
  } finally {
    metering--;
    ceiling = outer;
  }
  return counted - before;
}
