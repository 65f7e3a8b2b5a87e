// The AdamW step of W2 alone (the GPT of ./w2.ts, its 68 parameter tensors in two groups, as w2Trainer makes
// them), in two builds of the project in one process, alternating blocks of steps between them, as ./w2-ab.ts
// does for the whole training step. Each build computes one set of gradients inside `wnn.tidy` (so parameters,
// gradients and moments live in wasm memory, as in every loop of the project) and then times `opt.step()`
// inside `wnn.tidy`, again and again on those gradients. Not part of `npm run bench`:
//
//   cp -r dist /tmp/dist-before                      # before the change; then rebuild
//   node dist/bench/adam-ab.js /tmp/dist-before dist [--rounds=16]
//
// Prints the median process CPU time per optimizer step of each build over the blocks, and their ratio.

import { loadavg } from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type * as Wnn from "../src/index-node.js";
import type * as Model from "../src/models/gpt2/model.js";
import type * as Adam from "../src/optim/adam.js";
import type * as W2 from "./w2.js";

const arg = (name: string, fallback: number): number => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a === undefined ? fallback : Number(a.slice(name.length + 3));
};
const [dirA, dirB] = process.argv.slice(2).filter((s) => !s.startsWith("--"));
const rounds = arg("rounds", 16),
  per = 20;
if (dirA === undefined || dirB === undefined) throw new Error("usage: adam-ab.js <dist A> <dist B> [--rounds=16]");

const load = async (dir: string): Promise<() => void> => {
  const url = (p: string): string => pathToFileURL(resolve(dir, p)).href;
  const wnn = (await import(url("src/index-node.js"))) as typeof Wnn;
  const { GPT } = (await import(url("src/models/gpt2/model.js"))) as typeof Model;
  const { AdamW } = (await import(url("src/optim/adam.js"))) as typeof Adam;
  const w2 = (await import(url("bench/w2.js"))) as typeof W2;
  wnn.setNumThreads(1);
  wnn.manualSeed(1337);
  const model = new GPT(w2.W2_CONFIG);
  const params = model.parameters();
  // w2Trainer's groups: weight decay on the matrices only
  const opt = new AdamW(
    [
      { params: params.filter((p) => p.ndim >= 2), weightDecay: 0.1 },
      { params: params.filter((p) => p.ndim < 2), weightDecay: 0 },
    ],
    { lr: 1e-3, betas: [0.9, 0.99], eps: 1e-8 },
  );
  const b = w2.w2Batches(1)[0]!;
  wnn.tidy(() => model.forward(b.x, b.y).loss!.backward()); // the gradients outlive the scope (kept)
  const step = (): void => wnn.tidy(() => opt.step());
  for (let k = 0; k < 20; k++) step(); // warm-up
  return step;
};

/** CPU ms per optimizer step over one block of `per` steps. */
const block = (step: () => void): number => {
  const c0 = process.cpuUsage();
  for (let k = 0; k < per; k++) step();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / per;
};

const stepA = await load(dirA),
  stepB = await load(dirB);
const ta: number[] = [],
  tb: number[] = [];
for (let r = 0; r < rounds; r++) {
  // ABBA order, so neither build always runs first
  if (r % 2 === 0) (ta.push(block(stepA)), tb.push(block(stepB)));
  else (tb.push(block(stepB)), ta.push(block(stepA)));
}
const median = (x: number[]): number => [...x].sort((p, q) => p - q)[x.length >> 1]!;
const ma = median(ta),
  mb = median(tb);
console.log(
  `W2's AdamW step inside wnn.tidy, 1 thread, CPU ms per step, median of ${rounds} blocks of ${per} steps: ` +
    `A ${ma.toFixed(3)} (${dirA}), B ${mb.toFixed(3)} (${dirB}), B/A ${(mb / ma).toFixed(3)}; load average ${loadavg()[0]!.toFixed(1)}`,
);
