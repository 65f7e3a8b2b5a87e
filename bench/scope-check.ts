// Quick check: the W2 step with and without wnn.tidy — same losses, time per step.
import * as wnn from "../src/index-node.js";
import { w2Batches, w2Trainer } from "./w2.js";

const steps = Number(process.argv[2] ?? 20);
const threads = Number(process.argv[3] ?? 1);
wnn.setNumThreads(threads);
for (const scoped of [false, true, false, true]) {
  const { step } = w2Trainer();
  const batches = w2Batches(steps);
  const losses: number[] = [];
  const t: number[] = [];
  const c0 = process.cpuUsage();
  for (const { x, y } of batches) {
    const t0 = performance.now();
    losses.push(scoped ? wnn.tidy(() => step(x, y)) : step(x, y));
    t.push(performance.now() - t0);
  }
  const c = process.cpuUsage(c0);
  t.sort((a, b) => a - b);
  console.log(
    `${scoped ? "tidy " : "plain"} median ${t[t.length >> 1]!.toFixed(1)} ms CPU ${((c.user + c.system) / 1000 / steps).toFixed(1)} ms/step  losses ${losses
      .slice(0, 3)
      .map((l) => l.toFixed(6))
      .join(" ")} … ${losses[losses.length - 1]!.toFixed(6)}`,
  );
}
