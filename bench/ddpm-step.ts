// The cost of one `wnn train ddpm` step (a batch of MNIST digits through the U-Net, the loss, backward, Adam,
// the EMA) for a few widths and batch sizes: CPU time (user + system of every thread, process.cpuUsage) and
// wall time per step, after one warm-up step, with the load average — on a shared machine the wall time is
// the load, the CPU time the cost. Each step runs inside `wnn.tidy`, as `wnn train ddpm` runs it (its tensors in
// the wasm heap: the kernels read and write them where they are); --scope=0 runs it without the scope.
//
//   node dist/bench/ddpm-step.js [--configs=8x32,16x32,16x64,32x32] [--steps=4] [--threads=N] [--scope=0|1]

import { loadavg } from "node:os";
import * as wnn from "../src/index-node.js";
import { DDPMTrainer } from "../src/models/ddpm/train.js";
import { unetConfig } from "../src/models/ddpm/unet.js";
import { loadMnist } from "../src/node.js";

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=") as [string, string]));
const configs = (args.configs ?? "8x32,16x32,16x64,32x32")
  .split(",")
  .map((s) => s.split("x").map(Number) as [number, number]);
const steps = Number(args.steps ?? 4);
const scoped = args.scope !== "0";
if (args.threads) wnn.setNumThreads(Number(args.threads));
const data = loadMnist().train;
console.log(
  `backend ${wnn.getBackend()}, ${wnn.getNumThreads()} thread(s), ${scoped ? "inside wnn.tidy" : "no scope"}`,
);
for (const [channels, batchSize] of configs) {
  const tr = new DDPMTrainer(unetConfig("ddpm-mnist", { channels }), {}, { batchSize }, data);
  const step = scoped ? (): unknown => wnn.tidy(() => tr.trainStep()) : (): unknown => tr.trainStep();
  step(); // warm-up
  const c0 = process.cpuUsage(),
    w0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  const c = process.cpuUsage(c0),
    wall = (performance.now() - w0) / steps;
  console.log(
    `channels ${channels}, batch ${batchSize} (${tr.model.numParameters().toLocaleString("en-US")} parameters): ${((c.user + c.system) / 1000 / steps).toFixed(0)} ms CPU, ${wall.toFixed(0)} ms wall per step; load average ${loadavg()[0]!.toFixed(1)}`,
  );
}
