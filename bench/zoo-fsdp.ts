// FSDP on a model of the zoo (`wnn train <model> --workers N --strategy fsdp`): the bytes each worker holds between
// steps (parameter shards, their averaged gradients, AdamW's moments) for N = 1, 2, 4 workers against ZeRO-3's
// 16Ψ/N, and the largest unit a worker gathers whole for a moment (one Transformer block, or the root: embeddings,
// final norm, head) against the whole model's 4Ψ, which one unit would gather. Each worker is the ZooTrainer of the
// command line, on its rows of the same batches (the model's default task and tiny preset); the losses of the steps
// taken are compared with one worker's.
//
//   npm run build && node dist/bench/zoo-fsdp.js [--model=llama] [--workers=1,2,4] [--steps=2] [--batch=8]

import { isMainThread } from "node:worker_threads";
import { loadavg } from "node:os";
import * as wnn from "../src/index.js";
import { launch } from "../src/distributed/launch-node.js";
import type { Communicator } from "../src/distributed/collectives.js";
import { ZooTrainer, kindOf } from "../src/recipes/zoo-train.js";
import { loadMnist, loadMobyDick } from "../src/node.js";

interface JobArgs {
  model: string;
  steps: number;
  batch: number;
}
interface JobResult {
  psi: number;
  losses: number[];
  held: { params: number; grads: number; state: number };
  units: number;
  largestUnit: number;
}

export function zooFsdpJob(comm: Communicator, a: JobArgs): JobResult {
  wnn.setNumThreads(1);
  const kind = kindOf(a.model);
  const data = kind === "vision" ? { mnist: loadMnist() } : kind === "encoder-decoder" ? {} : { text: loadMobyDick() };
  const options = { steps: a.steps, batchSize: a.batch, lr: 1e-3, evalEvery: 1_000_000, evalSize: 1, seed: 0 };
  const t = new ZooTrainer(a.model, options, data);
  const psi = t.model.numParameters();
  const dp = t.dataParallel(comm, "fsdp");
  const losses: number[] = [];
  for (let s = 0; s < a.steps; s++) losses.push(t.trainStep().loss);
  return { psi, losses, held: dp.heldBytes(), ...dp.fsdpUnits()! };
}

if (isMainThread) {
  const args = Object.fromEntries(
    process.argv.slice(2).map((x) => x.replace(/^--/, "").split("=") as [string, string]),
  );
  const model = args["model"] ?? "llama",
    steps = Number(args["steps"] ?? 2),
    batch = Number(args["batch"] ?? 8);
  const workers = (args["workers"] ?? "1,2,4").split(",").map(Number);
  console.log(
    `FSDP on ${model} (wnn train ${model}'s task and tiny preset), each Transformer block a unit; ${steps} steps of batch ${batch}; load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
  console.log(
    "| N | units | params B/worker | grads B/worker | AdamW state B/worker | total | 16Ψ/N | largest unit gathered (B) | whole model 4Ψ (B) | max rel. loss diff vs N = 1 |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  let base: number[] | null = null;
  for (const N of workers) {
    const res = await launch<JobResult>({
      worldSize: N,
      module: import.meta.url,
      fn: "zooFsdpJob",
      args: { model, steps, batch },
      capacity: 1 << 20,
    });
    const r0 = res[0]!;
    base ??= r0.losses;
    const diff = Math.max(...r0.losses.map((l, i) => Math.abs(l - base![i]!) / Math.abs(base![i]!)));
    const h = {
      params: Math.max(...res.map((r) => r.held.params)),
      grads: Math.max(...res.map((r) => r.held.grads)),
      state: Math.max(...res.map((r) => r.held.state)),
    };
    const f = (n: number): string => n.toLocaleString("en-US");
    console.log(
      `| ${N} | ${r0.units} | ${f(h.params)} | ${f(h.grads)} | ${f(h.state)} | ${f(h.params + h.grads + h.state)} | ${f(Math.round((16 * r0.psi) / N))} | ${f(r0.largestUnit)} | ${f(4 * r0.psi)} | ${diff.toExponential(1)} |`,
    );
  }
}
