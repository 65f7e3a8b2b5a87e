// Data-parallel training of a small GPT on N worker threads: for each strategy (DDP, ZeRO-1, ZeRO-2, FSDP, and
// FSDP with activation checkpointing) and N workers, the bytes each worker holds (parameters, the gradients the
// optimizer reads, optimizer state) against ZeRO's formulas, the float32 elements it receives per step from
// each collective, the time per step (wall time on rank 0, and CPU time of the whole process — all workers —
// per step), and whether the losses equal those of one process. Every worker runs single-threaded kernels; on a
// machine with fewer cores than workers the threads share the cores, so time per step measures overhead, not
// speedup. Writes the table (markdown) to stdout and, with --png=FILE, the memory picture.
//
//   npm run build && node dist/bench/distributed.js [--steps=8] [--batch=8] [--workers=1,2,4,8] [--strategies=ddp,zero1,zero2,fsdp,fsdp+ac] [--png=FILE]

import { isMainThread } from "node:worker_threads";
import { availableParallelism, loadavg } from "node:os";
import * as wnn from "../src/index.js";
import { launch } from "../src/distributed/launch-node.js";
import { DataParallel, type StrategyName } from "../src/distributed/data-parallel.js";
import type { Communicator } from "../src/distributed/collectives.js";
import { lineChart, type Series } from "../src/io/chart.js";
import { savePng } from "../src/io/node.js";
import { Block, GPT } from "../src/models/gpt2/model.js";

interface JobArgs {
  strategy: StrategyName;
  checkpointing: boolean;
  steps: number;
  batch: number;
}
interface JobResult {
  losses: number[];
  msPerStep: number;
  psi: number;
  held: { params: number; grads: number; state: number };
  /** float32 elements received per step (steps 1 … end), by collective */
  received: { allReduce: number; reduceScatter: number; allGather: number; broadcast: number };
}

const CONFIG = { vocabSize: 65, blockSize: 32, nLayer: 2, nHead: 4, nEmbd: 64, dropout: 0, bias: true };

/** One worker: the same seeded model and data on every rank; rank r trains on rows [r·B/N, (r+1)·B/N). */
export function benchJob(comm: Communicator, args: JobArgs, post: (m: unknown) => void): JobResult {
  const N = comm.worldSize,
    B = args.batch,
    b = B / N,
    T = CONFIG.blockSize;
  wnn.setNumThreads(1);
  wnn.manualSeed(0);
  const model = new GPT(CONFIG);
  const psi = model.numParameters();
  const opt = new wnn.optim.AdamW(model.parameters(), { lr: 1e-3 });
  const dp = new DataParallel(model, opt, comm, {
    strategy: args.strategy,
    autoWrapPolicy: wnn.nn.moduleClassPolicy(Block),
    activationCheckpointing: args.checkpointing,
  });
  const gen = new wnn.Generator(1);
  const losses: number[] = [];
  let start = 0,
    held = { params: 0, grads: 0, state: 0 };
  let before = { ...comm.receivedBy };
  for (let step = 0; step < args.steps; step++) {
    if (step === 1) {
      // step 0 warms up
      comm.barrier();
      if (comm.rank === 0) post("start");
      start = performance.now();
      before = { ...comm.receivedBy };
    }
    const idx = wnn.randint(0, CONFIG.vocabSize, [B, T + 1], { generator: gen }); // (B, T+1)
    const mine = idx.narrow(0, comm.rank * b, b); // (b, T+1)
    const { loss } = dp.forward<[wnn.Tensor, wnn.Tensor], { loss: wnn.Tensor }>(
      mine.narrow(1, 0, T),
      mine.narrow(1, 1, T),
    );
    const value = dp.mean(loss.item());
    loss.backward();
    dp.reduceGradients(1.0);
    dp.step();
    held = dp.heldBytes();
    losses.push(value);
  }
  comm.barrier();
  if (comm.rank === 0) post("end");
  const steps = args.steps - 1;
  const per = (k: keyof typeof before) => Math.round((comm.receivedBy[k] - before[k]) / steps);
  // the loss's all-reduce (1 element) and clipping's norm all-reduce (1 element) are left in: ≤ 2 elements
  return {
    losses,
    msPerStep: (performance.now() - start) / steps,
    psi,
    held,
    received: {
      allReduce: per("allReduce"),
      reduceScatter: per("reduceScatter"),
      allGather: per("allGather"),
      broadcast: per("broadcast"),
    },
  };
}

/** ZeRO's bytes per worker for fp32 Adam (the paper's 2Ψ + 2Ψ + 12Ψ restated: 4Ψ parameters, 4Ψ gradients, 8Ψ moments). */
function formula(strategy: string, psi: number, N: number): number {
  if (strategy === "ddp") return 16 * psi;
  if (strategy === "zero1") return 4 * psi + 4 * psi + (8 * psi) / N;
  if (strategy === "zero2") return 4 * psi + (4 * psi) / N + (8 * psi) / N;
  return (16 * psi) / N;
}

if (isMainThread) {
  const args = Object.fromEntries(
    process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=") as [string, string]),
  );
  const steps = Number(args["steps"] ?? 8),
    batch = Number(args["batch"] ?? 8);
  const workers = (args["workers"] ?? "1,2,4,8").split(",").map(Number);
  const strategies = (args["strategies"] ?? "ddp,zero1,zero2,fsdp,fsdp+ac").split(",");
  console.log(
    `data-parallel bench: GPT ${JSON.stringify(CONFIG)}, global batch ${batch}, AdamW, clipping 1.0, ${steps} steps (the first not timed); ${availableParallelism()} cores, load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
  console.log(
    "| strategy | N | params B/worker | grads B/worker | optimizer state B/worker | total | ZeRO formula | all-reduce | reduce-scatter | all-gather | wall ms/step | CPU ms/step (all workers) | max rel. loss diff vs one process |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  let base: number[] | null = null;
  const memory = new Map<string, [number, number][]>();
  for (const name of strategies) {
    const strategy = name.replace("+ac", "") as StrategyName;
    for (const N of workers) {
      if (batch % N !== 0) continue;
      let cpu0 = process.cpuUsage(),
        cpu = 0;
      const res = await launch<JobResult>({
        worldSize: N,
        module: import.meta.url,
        fn: "benchJob",
        args: { strategy, checkpointing: name.endsWith("+ac"), steps, batch },
        capacity: 1 << 17,
        onMessage: (_r, m) => {
          if (m === "start") cpu0 = process.cpuUsage();
          else if (m === "end") {
            const d = process.cpuUsage(cpu0);
            cpu = (d.user + d.system) / 1000;
          }
        },
      });
      const r0 = res[0]!;
      base ??= r0.losses;
      const diff = Math.max(...r0.losses.map((l, i) => Math.abs(l - base![i]!) / base![i]!));
      const ms = Math.max(...res.map((r) => r.msPerStep));
      const h = {
        params: Math.max(...res.map((r) => r.held.params)),
        grads: Math.max(...res.map((r) => r.held.grads)),
        state: Math.max(...res.map((r) => r.held.state)),
      };
      const total = h.params + h.grads + h.state;
      const f = formula(strategy, r0.psi, N);
      (memory.get(name) ?? memory.set(name, []).get(name)!).push([N, total / 1024]);
      const e = (n: number) => (n * 4).toLocaleString("en-US");
      console.log(
        `| ${name} | ${N} | ${h.params} | ${h.grads} | ${h.state} | ${total} | ${Math.round(f)} | ${e(r0.received.allReduce)} | ${e(r0.received.reduceScatter)} | ${e(r0.received.allGather)} | ${ms.toFixed(0)} | ${(cpu / (steps - 1)).toFixed(0)} | ${diff.toExponential(1)} |`,
      );
    }
  }
  console.log(
    `(collective columns: bytes a worker receives per step; load average after: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")})`,
  );
  if (args["png"]) {
    // fsdp+ac holds what fsdp holds (checkpointing saves activations, not these): one line for both
    const series: Series[] = [...memory]
      .filter(([name]) => !name.endsWith("+ac"))
      .map(([name, points]) => ({ name, points }));
    savePng(
      args["png"],
      lineChart({
        series,
        title: "KiB per worker: params + grads + AdamW state",
        xLabel: "workers N (GPT of 106,304 parameters, fp32)",
        yLabel: "KiB per worker",
      }),
    );
  }
}
