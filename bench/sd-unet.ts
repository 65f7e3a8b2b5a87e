// The time of one evaluation of Stable Diffusion v1's U-Net (859,520,964 parameters, random weights) on
// 64×64×4 latents with a 77×768 text context, as `wnn generate --model` runs it (batch 2: the prompt and ∅),
// or batch 1. Prints the wall and CPU time, the load average (the machine may be shared) and the resident memory
// (the weights alone are 859,520,964 × 4 bytes = 3.2 GiB in float32).
//
//   node dist/bench/sd-unet.js [--batch=1] [--runs=1]

import { loadavg } from "node:os";
import * as wnn from "../src/index-node.js";
import { UNet, unetConfig } from "../src/models/ddpm/unet.js";

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=") as [string, string]));
const B = Number(args.batch ?? 2),
  runs = Number(args.runs ?? 1);
const t0 = performance.now();
const unet = new UNet(unetConfig("sd-v1-unet"), { generator: new wnn.Generator(0) }).eval();
console.log(
  `built the U-Net (${unet.numParameters().toLocaleString("en-US")} parameters, random weights) in ${((performance.now() - t0) / 1000).toFixed(1)} s; backend ${wnn.getBackend()}, ${wnn.getNumThreads()} threads`,
);
const x = wnn.randn([B, 4, 64, 64]),
  context = wnn.randn([B, 77, 768]);
for (let r = 0; r < runs; r++) {
  const t1 = performance.now(),
    c1 = process.cpuUsage();
  const eps = wnn.noGrad(() => unet.forward(x, new Array<number>(B).fill(500), null, context));
  const s = (performance.now() - t1) / 1000,
    c = process.cpuUsage(c1);
  console.log(
    `U-Net evaluation, batch ${B} at 64×64 latents: ${s.toFixed(1)} s wall, ${((c.user + c.system) / 1e6).toFixed(1)} s CPU (user + system, every thread) (output ${eps.shape.join("×")}, finite: ${[...eps.storage].every(Number.isFinite)}); load average ${loadavg()[0]!.toFixed(1)}; resident memory ${(process.memoryUsage().rss / 2 ** 30).toFixed(2)} GiB`,
  );
}
