// Timing shared by the workloads: the protocol of ../shared/peers/README.md (warm-up calls, then timed
// calls until at least minRuns and at least minTimeMs in total, at most maxRuns; the median).

export interface Timing {
  median_ms: number;
  min_ms: number;
  max_ms: number;
  runs: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

export function time(fn: () => void, warmup: number, minRuns: number, minTimeMs = 0, maxRuns = 1000): Timing {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  let total = 0;
  while (times.length < minRuns || (total < minTimeMs && times.length < maxRuns)) {
    const t0 = performance.now();
    fn();
    const dt = performance.now() - t0;
    times.push(dt);
    total += dt;
  }
  return { median_ms: median(times), min_ms: Math.min(...times), max_ms: Math.max(...times), runs: times.length };
}
