// Activation checkpointing on `wnn train gpt`'s model (4 blocks, C = 128, T = 64, batch 12, V = 65): the bytes
// of activations the graph keeps between forward and backward (graphBytes: the distinct non-leaf tensors it
// reaches) with and without recomputing each block, and the time of one forward + backward (wall and CPU time
// of this thread, median of the steps after the first).
//
//   npm run build && node dist/bench/checkpointing.js [--steps=6] [--threads=1]

import { loadavg } from "node:os";
import * as wnn from "../src/index.js";
import { Block, GPT, PRESETS } from "../src/models/gpt2/model.js";

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=") as [string, string]));
const steps = Number(args["steps"] ?? 6),
  B = 12;
wnn.setNumThreads(Number(args["threads"] ?? 1));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `activation checkpointing: GPT ${JSON.stringify(PRESETS.tiny)}, batch ${B}; ${wnn.backendSummary()}; load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
console.log(
  "| blocks recomputed | activations kept (graphBytes) | wall ms per forward+backward | CPU ms (this thread) |",
);
console.log("|---|---|---|---|");
for (const ckpt of [false, true]) {
  wnn.manualSeed(0);
  const model = new GPT(PRESETS.tiny);
  if (ckpt) wnn.nn.applyActivationCheckpointing(model, wnn.nn.moduleClassPolicy(Block));
  const gen = new wnn.Generator(1);
  const wall: number[] = [],
    cpu: number[] = [];
  let kept = 0;
  for (let s = 0; s < steps; s++) {
    const idx = wnn.randint(0, PRESETS.tiny.vocabSize, [B, PRESETS.tiny.blockSize + 1], { generator: gen });
    const t0 = performance.now(),
      c0 = process.cpuUsage();
    wnn.tidy(() => {
      const { loss } = model.forward(
        idx.narrow(1, 0, PRESETS.tiny.blockSize),
        idx.narrow(1, 1, PRESETS.tiny.blockSize),
      );
      kept = wnn.nn.graphBytes(loss!);
      loss!.backward();
      model.zeroGrad();
    });
    const c = process.cpuUsage(c0);
    if (s > 0) {
      wall.push(performance.now() - t0);
      cpu.push((c.user + c.system) / 1000);
    }
  }
  console.log(
    `| ${ckpt ? "all 4" : "none"} | ${kept.toLocaleString("en-US")} | ${median(wall).toFixed(0)} | ${median(cpu).toFixed(0)} |`,
  );
}
