// CPU time for the recipes' time-per-step figures. Wall time on a shared machine measures the contention
// (how much of a core the run got); the CPU time the process spent (user + system, all its threads) is the
// run's own cost. Node reports it (process.cpuUsage); a browser has no such clock, so there it is NaN.
// Browser-safe: the process object is looked up on globalThis, never imported.

interface CpuUsage {
  user: number; //   microseconds
  system: number; // microseconds
}

const cpuUsage = (globalThis as { process?: { cpuUsage?: () => CpuUsage } }).process?.cpuUsage;

/** The process's CPU time so far in milliseconds (user + system), NaN where the runtime does not say. */
export function cpuMs(): number {
  if (!cpuUsage) return NaN;
  const { user, system } = cpuUsage();
  return (user + system) / 1000;
}

/** Run fn and add its CPU and wall milliseconds to the totals. */
export function timed<T>(totals: { cpuMs: number; wallMs: number }, fn: () => T): T {
  const c0 = cpuMs(),
    w0 = globalThis.performance.now();
  try {
    return fn();
  } finally {
    totals.cpuMs += cpuMs() - c0;
    totals.wallMs += globalThis.performance.now() - w0;
  }
}
