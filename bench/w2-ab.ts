// Two builds of the project in one process, W2 steps inside `wnn.tidy` on 1 thread (--threads, --scope=0), alternating blocks of
// steps between them, so that both see the same load: the way to compare a change on a shared machine, where
// two separate runs minutes apart see different neighbours. Not part of `npm run bench`:
//
//   cp -r dist /tmp/dist-before                      # before the change; then rebuild
//   node dist/bench/w2-ab.js /tmp/dist-before dist [--user=1] [--rounds=16] [--scope=0] [--threads=1]
//
// --scope=0 runs the steps with no `wnn.tidy` around them (the unscoped path: ordinary arrays, collected by the GC).
// Each build dir is a `dist` (its src/index-node.js and bench/w2*.js are loaded). Prints the median process CPU
// time and wall time per step of each build over the blocks, and their ratios. A build dir outside the project
// resolves its packages from the node_modules above it.

import { loadavg } from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type * as Wnn from "../src/index-node.js";
import type * as W2 from "./w2.js";
import type * as W2User from "./w2-user.js";

const arg = (name: string, fallback: number): number => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a === undefined ? fallback : Number(a.slice(name.length + 3));
};
const [dirA, dirB] = process.argv.slice(2).filter((s) => !s.startsWith("--"));
if (dirA === undefined || dirB === undefined)
  throw new Error("usage: w2-ab.js <dist A> <dist B> [--user=1] [--rounds=16] [--scope=0] [--threads=1]");
const user = arg("user", 0) !== 0,
  scoped = arg("scope", 1) !== 0,
  threads = arg("threads", 1),
  rounds = arg("rounds", 16),
  per = 5;

const load = async (dir: string): Promise<() => number> => {
  const url = (p: string): string => pathToFileURL(resolve(dir, p)).href;
  const wnn = (await import(url("src/index-node.js"))) as typeof Wnn;
  const w2 = (await import(url("bench/w2.js"))) as typeof W2;
  wnn.setNumThreads(threads);
  const trainer = user ? ((await import(url("bench/w2-user.js"))) as typeof W2User).w2UserTrainer() : w2.w2Trainer();
  const batches = w2.w2Batches(per);
  let i = 0;
  const step = (): number => {
    const b = batches[i++ % per]!;
    return scoped ? wnn.tidy(() => trainer.step(b.x, b.y)) : trainer.step(b.x, b.y);
  };
  for (let k = 0; k < 10; k++) step(); // warm-up
  return step;
};

/**
 * CPU ms and wall ms per step over one block of `per` steps. The CPU time counts every thread of the process (the
 * collector's helpers too), the wall time what the caller waits: on an idle second core they can differ.
 */
const block = (step: () => number): [number, number] => {
  const c0 = process.cpuUsage(),
    w0 = performance.now();
  for (let k = 0; k < per; k++) step();
  const c = process.cpuUsage(c0);
  return [(c.user + c.system) / 1000 / per, (performance.now() - w0) / per];
};

const stepA = await load(dirA),
  stepB = await load(dirB);
const ta: [number, number][] = [],
  tb: [number, number][] = [];
for (let r = 0; r < rounds; r++) {
  // ABBA order, so neither build always runs first
  if (r % 2 === 0) (ta.push(block(stepA)), tb.push(block(stepB)));
  else (tb.push(block(stepB)), ta.push(block(stepA)));
}
const median = (x: number[]): number => [...x].sort((p, q) => p - q)[x.length >> 1]!;
const [ma, mb] = [ta, tb].map((t) => median(t.map((v) => v[0])));
const [wa, wb] = [ta, tb].map((t) => median(t.map((v) => v[1])));
console.log(
  `W2 ${user ? "user-written" : "GPT module"} ${scoped ? "inside wnn.tidy" : "with no scope"}, ${threads} thread(s), median of ${rounds} blocks of ${per} steps: ` +
    `CPU ms per step A ${ma!.toFixed(1)} (${dirA}), B ${mb!.toFixed(1)} (${dirB}), B/A ${(mb! / ma!).toFixed(3)}; ` +
    `wall ms per step A ${wa!.toFixed(1)}, B ${wb!.toFixed(1)}, B/A ${(wb! / wa!).toFixed(3)}; load average ${loadavg()[0]!.toFixed(1)}`,
);
