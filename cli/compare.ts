// `wnn compare <a> <b> [...]`: models of the zoo side by side. Without options, the architecture table made
// from each model's describe() (src/models/architecture.ts: parameters, layer kinds, normalisation, positional
// scheme, attention, activation, forward FLOPs). With --train, it also trains them on the task they share
// (src/recipes/compare.ts: the names task, MNIST, the stochastic-block-model graph, dates) with the same seed and
// step budget, each in a fresh process of its own so that its time and peak memory are its own, and puts
// parameters, training time, wall time, peak RSS and the task's metric side by side. --out FILE writes the
// tables as markdown.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ArgumentError } from "../src/engine/errors.js";
import { writeFileAtomic } from "../src/io/node.js";
import { checkOutputFile } from "./rundir.js";
import {
  architectureTable,
  markdownTable,
  taskInfo,
  trainOnDefaultTask,
  trainOnTask,
  type CompareTask,
  type TaskOptions,
  type TaskResult,
} from "../src/recipes/compare.js";
import { defaultTaskOf } from "../src/recipes/zoo-train.js";
import type { RecipeData } from "../src/recipes/recipe.js";
import { ZOO, entryName, findModel, tasksOf, type TaskName, type ZooEntry, type ZooModel } from "../src/models/zoo.js";
import { loadMnist, loadMobyDick, loadNames } from "../src/node.js";
import { UsageError, helpText, parseOptions, type OptionSpecs } from "./args.js";
import type { Output } from "./progress.js";

const COMPARE_OPTIONS = {
  train: {
    kind: "flag",
    help: "also train them on the task they share (names, mnist, graphs, dates, moby-dick or mlm), each in its own process",
  },
  steps: {
    kind: "int",
    min: 1,
    max: 10_000_000,
    help: "optimizer steps (graphs: full-batch epochs); default the task's: names 400, mnist 250, graphs 300, dates 600, moby-dick 200, mlm 200",
  },
  batch_size: {
    kind: "int",
    min: 1,
    max: 65536,
    help: "examples per step; default the task's: names 32, mnist 64, dates 32, moby-dick 12, mlm 16",
  },
  seed: {
    kind: "int",
    min: 0,
    max: 2 ** 32 - 1,
    default: 0,
    help: "the seed of the weights and the batches, the same for every model",
  },
  test_limit: {
    kind: "int",
    min: 0,
    max: 1_000_000,
    default: 0,
    help: "mnist: evaluate on the first N test digits only (0: all 2,000); dates: N held-out dates (0: 200)",
  },
  out: { kind: "string", metavar: "FILE", help: "also write the tables as markdown to FILE" },
} as const satisfies OptionSpecs;

export const COMPARE_HELP = helpText(
  "wnn compare <model> <model> [...] [options]",
  `Models of the zoo side by side: parameters, layer kinds, normalisation, positional scheme, attention,
activation and forward FLOPs, all computed from the code (each model's describe()). A model is a name of
\`wnn list\` (its default preset), model:preset (gpt2:names, char-rnn:gru, resnet:resnet20-mnist), or a
preset's name alone when it is unique (gru, lstm). The zoo: ${ZOO.map((m) => m.name).join(", ")}.

With --train they are trained on the task they share — the names task (bengio-mlp, char-rnn, the names presets of
gpt2, llama, bloom and falcon), MNIST (mlp, lenet5, resnet), the stochastic block model (gcn, gat) or dates → ISO (seq2seq-attention's
none, bahdanau, luong-dot, luong-general, and transformer) — or, for siblings that share none of these, the
default task of their kind that \`wnn train <model>\` runs: Moby Dick's characters (llama mixtral, gpt2 switch),
masked LM on Moby Dick (bert roberta deberta), dates (t5 bart) — on the same data, seed and step
budget, and the table adds the training time, the wall time, the peak memory (maxRSS of the model's own
process) and the task's metric. Example: wnn compare lstm gru gpt2 --train --steps 200`,
  COMPARE_OPTIONS,
);

/** The positional arguments (model names) and the options, split: an option's value is not a name. */
function splitArgs(args: readonly string[]): { names: string[]; options: string[] } {
  const names: string[] = [],
    options: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("-")) {
      names.push(a);
      continue;
    }
    options.push(a);
    const spec = (COMPARE_OPTIONS as OptionSpecs)[a.slice(2).replace(/-/g, "_")];
    if (spec && spec.kind !== "flag" && !a.includes("=") && i + 1 < args.length) options.push(args[++i]!);
  }
  return { names, options };
}

/** The tasks a model trains on in a comparison: its presets' shared tasks, then its kind's default task (zoo-train.ts). */
function tasksFor(model: ZooModel): CompareTask[] {
  const own: CompareTask[] = tasksOf(model),
    d = defaultTaskOf(model.name);
  return d && !own.includes(d) ? [...own, d] : own;
}

function resolve(spec: string, task?: CompareTask): ZooEntry {
  try {
    return findModel(spec, task as TaskName | undefined);
  } catch (e) {
    if (e instanceof ArgumentError) throw new UsageError(`compare: ${e.message}`);
    throw e;
  }
}

/** One model trained by a worker process: what it returns on stdout. */
interface WorkerResult extends TaskResult {
  /** seconds from the start of training to the end of evaluation */
  wallSeconds: number;
  /** the process's peak resident set size, MiB */
  peakRssMiB: number;
}

interface Job extends TaskOptions {
  spec: string;
  task: CompareTask;
}

export async function compareCommand(args: readonly string[], out: Output): Promise<number> {
  const { names, options } = splitArgs(args);
  const { values: v, help } = parseOptions("compare", options, COMPARE_OPTIONS);
  if (help) {
    out.write(COMPARE_HELP);
    return 0;
  }
  if (names.length === 0) throw new UsageError(`compare: which models? (${ZOO.map((m) => m.name).join(", ")})`);
  if (v.out !== undefined) checkOutputFile(v.out, "compare"); // before any training: a file it did not write is never replaced
  let entries = names.map((n) => resolve(n));
  const sections: string[] = [];

  let task: CompareTask | null = null;
  if (v.train) {
    // the task every model can train on (a model name without a preset picks its preset for that task)
    const common = entries.map((e) => tasksFor(e.model)).reduce((a, b) => a.filter((t) => b.includes(t)));
    task = common[0] ?? null;
    if (task === null) {
      throw new UsageError(
        `compare: ${entries.map((e) => `${e.model.name} (${tasksFor(e.model).join(", ") || "no shared task"})`).join(", ")} share no task to train on`,
      );
    }
    entries = names.map((n) => resolve(n, task!));
    for (const e of entries)
      if (e.preset.train?.task !== task && defaultTaskOf(e.model.name) !== task)
        throw new UsageError(
          `compare: ${entryName(e)} does not train on the ${task} task; its presets that do: ${e.model.presets
            .filter((p) => p.train?.task === task)
            .map((p) => p.name)
            .join(", ")}`,
        );
  } else if (v.steps !== undefined || v.batch_size !== undefined) {
    throw new UsageError("compare: --steps and --batch_size need --train");
  }

  const arch = architectureTable(entries);
  out.write(`${arch}\n`);
  sections.push(
    `## Architecture\n\n${arch}\n\nFrom each model's \`describe()\` (src/models/architecture.ts). FLOPs: the forward pass of one unit, 2 per multiply-add, matrix products only (Linear, convolution, attention's q·kᵀ and α·v, recurrences, graph aggregations).`,
  );

  if (task !== null) {
    const info = taskInfo(task);
    const steps = v.steps ?? info.defaults.steps,
      batchSize = v.batch_size ?? info.defaults.batchSize;
    const budget = task === "graphs" ? `${steps} full-batch epochs` : `${steps} steps of ${batchSize}`;
    const heading = `Trained on ${info.title}: ${budget}, seed ${v.seed}`;
    out.write(`\n${heading}\n`);
    const results: WorkerResult[] = [];
    for (const e of entries) {
      const job: Job = { spec: entryName(e), task, steps, batchSize, seed: v.seed, testLimit: v.test_limit };
      results.push(await runWorker(job, out));
    }
    const col = (f: (r: WorkerResult) => string): string[] => results.map(f);
    const table = markdownTable(
      ["", ...entries.map(entryName)],
      [
        ["parameters", ...col((r) => r.parameters.toLocaleString("en-US"))],
        ["training time (s)", ...col((r) => r.trainSeconds.toFixed(1))],
        ["ms per step", ...col((r) => ((1000 * r.trainSeconds) / r.steps).toFixed(1))],
        ["wall time with evaluation (s)", ...col((r) => r.wallSeconds.toFixed(1))],
        ["peak memory (maxRSS, MiB)", ...col((r) => r.peakRssMiB.toFixed(0))],
        [`${info.metric}, ${info.better} is better`, ...col((r) => r.metric.toFixed(info.better === "lower" ? 4 : 2))],
        [task === "names" ? "samples" : "note", ...col((r) => r.note)],
      ],
    );
    out.write(`\n${table}\n`);
    sections.push(
      `## ${heading}\n\n${table}\n\nEach model trained in a fresh process of its own (its peak memory includes Node and the task's data); the same seed, data and batches for every model (src/recipes/compare.ts says how each task is trained).`,
    );
  }

  if (v.out) {
    const md = `# wnn compare ${names.join(" ")}${v.train ? " --train" : ""}\n\n${sections.join("\n\n")}\n`;
    writeFileAtomic(v.out, [new TextEncoder().encode(md)]);
    out.write(`\nwrote ${v.out}\n`);
  }
  return 0;
}

const WNN = fileURLToPath(new URL("./wnn.js", import.meta.url));

/** Train one model in a child process (`wnn __compare-worker JOB`), its log lines shown as they come. */
function runWorker(job: Job, out: Output): Promise<WorkerResult> {
  return new Promise((resolvePromise, reject) => {
    out.write(`${job.spec}: training…\n`);
    const child = spawn(process.execPath, [WNN, "__compare-worker", JSON.stringify(job)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "",
      pending = "",
      stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => {
      const text = d.toString();
      stderr += text;
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const l of lines) out.write(`  ${job.spec} ${l}\n`);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0)
        return reject(
          new ArgumentError(
            `compare: training ${job.spec} failed (exit ${code}): ${stderr.trim().split("\n").slice(-3).join(" / ")}`,
          ),
        );
      try {
        resolvePromise(JSON.parse(stdout.trim().split("\n").pop()!) as WorkerResult);
      } catch {
        reject(new ArgumentError(`compare: training ${job.spec} printed no result`));
      }
    });
  });
}

/** The worker: load the task's data, train, evaluate, and print the result as one JSON line. */
export function compareWorker(args: readonly string[], out: Output): number {
  const job = JSON.parse(args[0] ?? "null") as Job;
  const entry = findModel(job.spec, job.task as TaskName);
  const data: RecipeData = {};
  const needs = taskInfo(job.task).needs;
  if (needs.includes("words")) data.words = loadNames();
  if (needs.includes("mnist")) data.mnist = loadMnist();
  if (needs.includes("text")) data.text = loadMobyDick();
  const t0 = performance.now();
  const hooks = { log: (line: string) => void process.stderr.write(line + "\n") };
  // a preset that declares the task trains by its protocol; otherwise the model's kind's default task (zoo-train.ts)
  const r =
    entry.preset.train?.task === job.task
      ? trainOnTask(entry, job, data, hooks)
      : trainOnDefaultTask(entry, job.task, job, data, hooks);
  const wallSeconds = (performance.now() - t0) / 1000;
  const peakRssMiB = process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
  out.write(JSON.stringify({ ...r, wallSeconds, peakRssMiB } satisfies WorkerResult) + "\n");
  return 0;
}
