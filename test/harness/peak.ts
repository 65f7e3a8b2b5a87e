// The live peak of a run, measured: the bytes of array buffers alive before each kernel of the reference backend,
// each read after a full collection, less those alive before the run. What the shape-only count (memory-probe)
// estimates is checked against it.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { KernelTable } from "../../src/backend/backend.js";
import { referenceKernels } from "../../src/backend/reference/backend.js";
import { getBackend, registerBackend, setBackend } from "../../src/ops/kernels.js";

/** The largest number of array-buffer bytes alive at a kernel call while fn runs, above those alive before it. */
export function measureLivePeak(fn: () => void): number {
  setFlagsFromString("--expose-gc");
  const collect = runInNewContext("gc") as () => void;
  // twice: V8 frees array buffers on a background sweeper, which a second full collection waits for, so that
  // arrayBuffers counts only what is alive (one collection left the base and the samples off by up to 2 MB)
  const gc = (): void => {
    collect();
    collect();
  };
  const bytes = () => process.memoryUsage().arrayBuffers;
  let peak = 0;
  const measuring = Object.fromEntries(
    Object.entries(referenceKernels).map(([name, f]) => [
      name,
      (...args: unknown[]) => {
        gc();
        peak = Math.max(peak, bytes());
        return (f as (...a: unknown[]) => unknown)(...args);
      },
    ]),
  ) as unknown as Partial<KernelTable>;
  registerBackend({ name: "measuring", kernels: measuring });
  const before = getBackend();
  setBackend("measuring");
  try {
    gc();
    const base = bytes(); // the weights and whatever else was alive before
    peak = base;
    fn();
    return peak - base;
  } finally {
    setBackend(before);
  }
}
