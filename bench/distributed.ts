// Data-parallel training of a small GPT on N worker threads: for each strategy (DDP, ZeRO-1, ZeRO-2) and
// N = 1, 2, 4, the bytes each worker holds (parameters, optimizer state, the averaged gradient it keeps for
// the optimizer), the float32 elements it receives through the collectives per step, the time per step, and
// whether the losses equal those of one process. Every worker runs single-threaded kernels; on a machine
// with fewer cores than workers the threads share the cores, so time per step measures overhead, not speedup.
//
//   npm run build && node dist/bench/distributed.js [--steps=8] [--batch=8] [--workers=1,2,4] [--strategies=ddp,zero1,zero2]

import { isMainThread } from "node:worker_threads";
import { availableParallelism, loadavg } from "node:os";
import * as wnn from "../src/index.js";
import { launch } from "../src/distributed/launch-node.js";
import { DistributedDataParallel } from "../src/distributed/ddp.js";
import { ZeRO1 } from "../src/distributed/zero1.js";
import { ZeRO2 } from "../src/distributed/zero2.js";
import type { Communicator } from "../src/distributed/collectives.js";
import { GPT } from "../src/models/gpt2/model.js";

type Strategy = "ddp" | "zero1" | "zero2";
interface JobArgs { strategy: Strategy; steps: number; batch: number }
interface JobResult { losses: number[]; msPerStep: number; paramBytes: number; gradBytes: number; stateBytes: number; received: number }

const CONFIG = { vocabSize: 65, blockSize: 32, nLayer: 2, nHead: 4, nEmbd: 64, dropout: 0, bias: true };

/** One worker: the same seeded model and data on every rank; rank r trains on rows [r·B/N, (r+1)·B/N). */
export function benchJob(comm: Communicator, args: JobArgs): JobResult {
  const N = comm.worldSize, B = args.batch, b = B / N, T = CONFIG.blockSize;
  wnn.manualSeed(0);
  const model = new GPT(CONFIG);
  const makeOpt = (params: wnn.nn.Parameter[]) => new wnn.optim.AdamW(params, { lr: 1e-3 });
  const ddp = args.strategy === "ddp" ? new DistributedDataParallel(model, comm) : null;
  const zero = args.strategy === "zero1" ? new ZeRO1(model, comm, makeOpt) : args.strategy === "zero2" ? new ZeRO2(model, comm, makeOpt) : null;
  const opt = ddp ? makeOpt(model.parameters()) : zero!.optimizer;
  const gen = new wnn.Generator(1);
  const losses: number[] = [];
  let start = 0, received = 0;
  for (let step = 0; step < args.steps; step++) {
    if (step === 1) { start = performance.now(); received = comm.elementsReceived; } // step 0 warms up
    const idx = wnn.randint(0, CONFIG.vocabSize, [B, T + 1], { generator: gen }); // (B, T+1)
    const mine = idx.narrow(0, comm.rank * b, b); // (b, T+1)
    const { loss } = model.forward(mine.narrow(1, 0, T), mine.narrow(1, 1, T));
    loss!.backward();
    if (ddp) { ddp.allReduceGradients(); opt.step(); opt.zeroGrad(); model.zeroGrad(); }
    else { zero!.step(); zero!.zeroGrad(); }
    const l = new Float32Array([loss!.item()]);
    comm.allReduce(l);
    losses.push(l[0]! / N);
  }
  const steps = args.steps - 1;
  const psi = model.parameters().reduce((n, p) => n + p.numel(), 0);
  const stateBytes = 4 * Object.values(opt.stateDict().state).reduce((n, s) => n + Object.values(s.buffers).reduce((m, x) => m + x.length, 0), 0);
  // the averaged gradient a worker keeps for its optimizer: all of it (DDP), its shards (ZeRO-1 and 2)
  const gradBytes = ddp ? 4 * psi : 4 * zero!.optimizer.paramGroups.flatMap((g) => g.params).reduce((n, p) => n + p.numel(), 0);
  // the loss all-reduce moves 1 element per step per worker at most: subtracted
  const perStep = (comm.elementsReceived - received) / steps - (N > 1 ? 2 * (N - 1) / N : 0);
  return { losses, msPerStep: (performance.now() - start) / steps, paramBytes: 4 * psi, gradBytes, stateBytes, received: Math.round(perStep) };
}

if (isMainThread) {
  const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=") as [string, string]));
  const steps = Number(args["steps"] ?? 8), batch = Number(args["batch"] ?? 8);
  const workers = (args["workers"] ?? "1,2,4").split(",").map(Number);
  const strategies = (args["strategies"] ?? "ddp,zero1,zero2").split(",") as Strategy[];
  console.log(`data-parallel bench: GPT ${JSON.stringify(CONFIG)}, global batch ${batch}, ${steps} steps (first one not timed); ${availableParallelism()} cores, load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  console.log("| strategy | N | params B/worker | averaged grad B/worker | optimizer state B/worker | elements received/step/worker | ms/step | max rel. loss diff vs N=1 |");
  console.log("|---|---|---|---|---|---|---|---|");
  let base: number[] | null = null;
  for (const strategy of strategies) {
    for (const N of workers) {
      const res = await launch<JobResult>({ worldSize: N, module: import.meta.url, fn: "benchJob", args: { strategy, steps, batch }, capacity: 1 << 16 });
      const r0 = res[0]!;
      base ??= r0.losses;
      const diff = Math.max(...r0.losses.map((l, i) => Math.abs(l - base![i]!) / base![i]!));
      const ms = Math.max(...res.map((r) => r.msPerStep));
      console.log(`| ${strategy} | ${N} | ${r0.paramBytes} | ${r0.gradBytes} | ${Math.max(...res.map((r) => r.stateBytes))} | ${r0.received} | ${ms.toFixed(0)} | ${diff.toExponential(1)} |`);
    }
  }
}
