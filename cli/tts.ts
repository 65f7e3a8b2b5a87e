// Text to speech on the command line: `wnn train tacotron2 | fastspeech2 | vocoder` (src/recipes/tts-train.ts,
// run by the shared loop with progress, log.jsonl, loss.png, checkpoint.safetensors at every evaluation, at the
// end and on Ctrl-C, --resume DIR, the NaN guard; Tacotron 2 draws its alignment at every evaluation; with
// --workers N this thread is rank 0 of N data-parallel workers, the others cli/tts-worker.ts's),
// `wnn say --checkpoint DIR "text" --out FILE.wav [--vocoder griffin-lim|DIR]` and `wnn eval --checkpoint DIR`
// of a TTS run (the held-out numbers of docs/compare/tts.md).

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ArgumentError, LoadError } from "../src/engine/errors.js";
import type { Communicator } from "../src/distributed/collectives.js";
import { STRATEGIES, type StrategyName } from "../src/distributed/data-parallel.js";
import { launchWithHost } from "../src/distributed/launch-node.js";
import { lineChart } from "../src/io/chart.js";
import type { LoadedCheckpoint } from "../src/io/checkpoint.js";
import { deflatePng, loadCheckpoint, saveCheckpoint, savePng, writeFileAtomic } from "../src/io/node.js";
import { encodeWav } from "../src/io/wav.js";
import { setNumThreads } from "../src/index.js";
import { loadCmudict } from "../src/node.js";
import { NonFiniteGuard, runLoop, type LoopEvents, type Metrics, type TrainingJob } from "../src/recipes/loop.js";
import { probeFirstStep } from "../src/recipes/memory-probe.js";
import type { RecipeData } from "../src/recipes/recipe.js";
import {
  HiFiGAN,
  TTS_CAPS,
  TTS_DEFAULTS,
  TTS_MODELS,
  TtsTrainer,
  type TtsStep,
  prepareTtsCorpus,
  savedTtsRun,
  ttsFrontEnd,
  ttsModelOf,
  type SavedTtsRun,
  type TtsModelName,
  type TtsTrainOptions,
} from "../src/recipes/tts-train.js";
import {
  evaluateTeacherMels,
  evaluateTts,
  summarizeTts,
  synthesizeMel,
  vocode,
  type Vocoder,
} from "../src/recipes/tts-eval.js";
import { TTS_AUDIO, alignmentPng, melPng } from "../src/recipes/tts-data.js";
import { UsageError, helpText, parseOptions, type OptionSpec, type OptionSpecs } from "./args.js";
import { Progress, formatDuration, type Output } from "./progress.js";
import { checkTrainingMemory, givenNumbers, MAX_MEMORY_OPTION, workerStateBytes } from "./memory.js";
import { speechCorpus } from "./recipes.js";
import { agreeToStop } from "./gpt-worker.js";
import type { TtsWorkerArgs } from "./tts-worker.js";
import {
  checkResumeOptions,
  CHECKPOINT,
  JsonlLog,
  checkOutputFile,
  checkRunDir,
  checkpointPath,
  createRunDir,
  defaultRunDir,
  loadRunCheckpoint,
  stopDiverged,
} from "./rundir.js";

export { isTtsModel } from "../src/recipes/tts-models.js";

const PAPERS: Record<TtsModelName, string> = {
  tacotron2:
    "Shen et al. 2018, Natural TTS Synthesis by Conditioning WaveNet on Mel Spectrogram Predictions (Tacotron 2), https://arxiv.org/abs/1712.05884",
  fastspeech2:
    "Ren et al. 2021, FastSpeech 2: Fast and High-Quality End-to-End Text to Speech, https://arxiv.org/abs/2006.04558",
  vocoder:
    "Kong, Kim, Bae 2020, HiFi-GAN: Generative Adversarial Networks for Efficient and High Fidelity Speech Synthesis, https://arxiv.org/abs/2010.05646",
};

const HELP: Record<keyof TtsTrainOptions, string> = {
  steps: "optimizer steps in all",
  batchSize: "sentences per batch (the vocoder: segments)",
  lr: "AdamW's learning rate",
  evalEvery: "held-out loss (and Tacotron 2's alignment picture) every N steps; a checkpoint at each",
  sentences:
    "the corpus: N Moby Dick sentences and N/10 short prompts, read once by the teacher voice (cached in runs/)",
  heldOut: "the corpus's first N sentences, never trained on",
  frontEnd: "phonemes (CMUdict, letters for unknown words) or chars",
  preset: "the model's preset (small; tiny for tests)",
  maxFrames: "training sentences longer than N frames (12.5 ms each) are left out",
  guidedAttention: "Tacotron 2: weight of the guided-attention loss (0: none)",
  framesPerStep: "Tacotron 2: the reduction factor r, mel frames per decoder step (0: the preset's, 2 for small)",
  alignIterations: "FastSpeech 2: flat-start alignment iterations for the durations",
  segmentFrames: "the vocoder: frames per training segment",
  adversarial: "the vocoder: 1 trains with HiFi-GAN's discriminators, 0 with the mel loss alone",
  seed: "the seed of weights, batches and dropout",
};

export function ttsTrainOptions(name: TtsModelName): OptionSpecs {
  const d = TTS_DEFAULTS[name];
  const specs: Record<string, OptionSpec> = {};
  for (const [k, v] of Object.entries(d) as [keyof TtsTrainOptions, number | string][]) {
    const key = k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    if (typeof v === "string") {
      specs[key] = {
        kind: "string",
        default: v,
        help: HELP[k],
        ...(k === "frontEnd" ? { choices: ["phonemes", "chars"] } : {}),
      };
    } else if (k === "lr")
      specs[key] = { kind: "number", min: 0, exclusiveMin: true, max: 1e6, default: v, help: HELP[k] };
    else if (k === "guidedAttention") specs[key] = { kind: "number", min: 0, max: 1000, default: v, help: HELP[k] };
    else if (k === "adversarial") specs[key] = { kind: "int", min: 0, max: 1, default: v, help: HELP[k] };
    else if (k === "seed") specs[key] = { kind: "int", min: 0, max: 2 ** 32 - 1, default: v, help: HELP[k] };
    else specs[key] = { kind: "int", min: k === "framesPerStep" ? 0 : 1, max: TTS_CAPS[k]!, default: v, help: HELP[k] };
  }
  specs.out = { kind: "string", metavar: "DIR", help: `the run's folder (default runs/${name}-<date>-<time>)` };
  specs.resume = {
    kind: "string",
    metavar: "DIR",
    help: "continue the run in DIR from its checkpoint (only --steps and --eval_every may change)",
  };
  specs.log_interval = {
    kind: "int",
    min: 1,
    max: 10_000_000,
    default: 10,
    help: "a line every N steps off a terminal",
  };
  specs.max_cpu_minutes = {
    kind: "number",
    min: 0,
    exclusiveMin: true,
    max: 1e7,
    metavar: "M",
    help: "stop (evaluating and saving) once the run's training has used M minutes of CPU (user + system, all threads, counted across --resume)",
  };
  specs.threads = {
    kind: "int",
    min: 1,
    max: 256,
    metavar: "N",
    help: "threads for the kernels (default: one per core)",
  };
  specs.max_memory = MAX_MEMORY_OPTION;
  specs.max_bad_steps = {
    kind: "int",
    min: 1,
    max: 1000,
    default: 5,
    help: "stop (saving a checkpoint) after this many steps in a row whose loss is NaN or infinite; each is skipped",
  };
  specs.workers = {
    kind: "int",
    min: 1,
    max: 64,
    default: 1,
    help: "data-parallel workers (threads); each trains on batch_size/N of every batch, the same losses as one process (may change on --resume)",
  };
  specs.strategy = {
    kind: "string",
    choices: STRATEGIES,
    help: `with --workers: ddp, zero1, zero2 or fsdp (${name === "fastspeech2" ? "each FFT block its own FSDP unit, the root the rest" : name === "tacotron2" ? "the whole model one FSDP unit" : "the generator one FSDP unit, the discriminators another"}); default ddp`,
  };
  return specs;
}

export function ttsTrainHelp(name: TtsModelName): string {
  return helpText(
    `wnn train ${name} [options]`,
    `${PAPERS[name]}
Trains on the synthesized speech corpus (Moby Dick sentences read by the flite teacher voice, docs/audio.md).
Writes DIR/checkpoint.safetensors (at every evaluation, at the end and on Ctrl-C), DIR/log.jsonl, DIR/loss.png,
DIR/held-out-0.wav${name === "tacotron2" ? ", DIR/alignment.png and DIR/alignments/step-N.png" : ""};
Ctrl-C saves and exits with code 130; --resume DIR continues exactly where the run stopped.
--workers N --strategy ddp|zero1|zero2|fsdp trains on N threads, each on B/N of every batch, with the training
losses of one process (${name === "tacotron2" ? "the BatchNorms synchronized; FSDP: the whole model one unit" : name === "fastspeech2" ? "FSDP: each FFT block a unit" : "FSDP: the generator one unit, the discriminators another"}).
Afterwards: wnn say --checkpoint DIR "Call me Ishmael." --out ishmael.wav; wnn eval --checkpoint DIR.`,
    ttsTrainOptions(name),
    `example: wnn train ${name} --steps 20 --sentences 40 --out runs/${name}-quick`,
  );
}

/** The corpus and dictionary a run reads. */
export function ttsData(o: { sentences: number; frontEnd: string }, out: Output): RecipeData {
  return {
    speech: speechCorpus(o.sentences, out),
    ...(o.frontEnd === "phonemes" ? { pronunciations: loadCmudict() } : {}),
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const fmt = (m: Metrics): string =>
  Object.entries(m)
    .map(([k, x]) => `${k} ${x.toFixed(4)}`)
    .join(", ");
const cpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/**
 * One evaluation at the step the trainer reached (the CPU budget spent), as the loop evaluates at the last step:
 * a job of no steps whose evaluation is due unless it ran at this step.
 */
export function evaluationAt(trainer: TtsTrainer): TrainingJob<TtsStep, Metrics> {
  return {
    get step() {
      return trainer.step;
    },
    totalSteps: trainer.step,
    trainStep: (): TtsStep => {
      throw new ArgumentError("no step after the CPU budget");
    },
    evalDue: () => trainer.lastEval !== trainer.step,
    evaluate: () => trainer.evaluate(),
  };
}

/** Run `wnn train tacotron2 | fastspeech2 | vocoder`; resolves to the exit code. */
export async function trainTts(name: TtsModelName, args: readonly string[], out: Output): Promise<number> {
  const cmd = `train ${name}`;
  const { values, given, help } = parseOptions(cmd, args, ttsTrainOptions(name));
  if (help) {
    out.write(ttsTrainHelp(name));
    return 0;
  }
  const v = values as Record<string, number | string | undefined>;
  const print = (s: string): void => void out.write(s + "\n");
  if (v.threads !== undefined) setNumThreads(v.threads as number);
  const wallStart = performance.now();
  let trainer: TtsTrainer, dir: string, log: JsonlLog;
  try {
    if (v.resume !== undefined) {
      checkResumeOptions(cmd, given, [
        "steps",
        "eval_every",
        "log_interval",
        "max_bad_steps",
        "max_cpu_minutes",
        "threads",
        "workers",
        "strategy",
      ]);
      dir = v.resume as string;
      const { ckpt, checked: saved } = loadRunCheckpoint(dir, cmd, savedTtsRun, { resume: true });
      if (saved.model !== name)
        throw new UsageError(
          `${cmd}: ${dir} is a run of ${saved.model}; continue it with wnn train ${saved.model} --resume ${dir}`,
        );
      if (given.has("steps") && (v.steps as number) < ckpt.step)
        throw new UsageError(`${cmd}: --steps ${v.steps} is before the checkpoint's step ${ckpt.step}`);
      TtsTrainer.checkState(ckpt); // its weights and optimizer states, before the corpus (minutes to make) is read
      trainer = TtsTrainer.fromCheckpoint(ckpt, ttsData(saved.options, out), {
        ...(given.has("steps") ? { steps: v.steps as number } : {}),
        ...(given.has("eval_every") ? { evalEvery: v.eval_every as number } : {}),
      });
      log = new JsonlLog(join(dir, "log.jsonl"));
      log.retainUpTo(trainer.step, trainer.lastEval); // what a killed process logged after its last checkpoint goes
      print(`resuming ${dir} at step ${trainer.step} of ${trainer.options.steps}`);
    } else {
      if (v.out !== undefined) checkRunDir(v.out as string, cmd);
      const o = {} as Record<string, number | string>;
      for (const k of Object.keys(TTS_DEFAULTS[name])) o[k] = v[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)]!;
      const options = o as unknown as TtsTrainOptions;
      if (options.batchSize % (v.workers as number) !== 0)
        throw new UsageError(
          `${cmd}: --batch_size ${options.batchSize} does not split evenly over --workers ${v.workers}`,
        );
      const data = ttsData(options, out);
      const t0 = performance.now();
      trainer = new TtsTrainer(name, options, data);
      print(
        `${name}: features${name === "fastspeech2" ? " and alignment" : ""} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      // the memory of this model and batch, from its own first step counted on shape-only tensors at the batch
      // itself, before the first step: a batch of sentences is padded to its longest, and a convolution's scratch
      // grows with the batch only up to a chunk of samples, so the line through batches of 2 and 4 would not hold
      const probe = trainer;
      checkTrainingMemory(
        cmd,
        givenNumbers(given, v),
        options.batchSize,
        v.max_memory as number | undefined,
        (b) => {
          const t = probe.atBatch(b, data);
          probeFirstStep(() => t.trainStep());
        },
        0,
        true,
        () => workerStateBytes((v.strategy ?? "ddp") as string, v.workers as number, probe.model.numParameters()),
      );
      dir = (v.out as string | undefined) ?? defaultRunDir(name);
      createRunDir(dir, cmd);
      log = new JsonlLog(join(dir, "log.jsonl"));
      log.retain(() => false);
    }
  } catch (e) {
    if (e instanceof ArgumentError) throw new UsageError(`${cmd}: ${e.message.replace(`${cmd}: `, "")}`);
    throw e;
  }
  const o = trainer.options,
    ckptFile = join(dir, CHECKPOINT),
    params = trainer.model.numParameters();
  print(
    `${name}: ${params.toLocaleString("en-US")} parameters; ${trainer.train.length} training and ${trainer.held.length} held-out sentences (${o.frontEnd})`,
  );
  print(
    `training: ${o.steps} steps of batch ${o.batchSize}, lr ${o.lr}, seed ${o.seed}; evaluating every ${o.evalEvery} steps; writing ${dir}/`,
  );
  // data parallel: this thread is rank 0 of the group, the workers (cli/tts-worker.ts) ranks 1 … N−1
  const workers = v.workers as number,
    strategy = (v.strategy ?? "ddp") as StrategyName;
  const parallel =
    workers > 1 || v.strategy !== undefined
      ? startParallel(cmd, trainer, workers, {
          name,
          strategy,
          ...(v.resume !== undefined
            ? {
                resume: {
                  dir,
                  overrides: {
                    ...(given.has("steps") ? { steps: v.steps as number } : {}),
                    ...(given.has("eval_every") ? { evalEvery: v.eval_every as number } : {}),
                  },
                },
              }
            : { fresh: { ...o } }),
        })
      : null;
  if (parallel) {
    const units = trainer.fsdpUnits();
    print(
      `data parallel: ${workers} worker${workers === 1 ? "" : "s"} (threads), strategy ${strategy}, ${o.batchSize / workers} of each batch per worker` +
        (units
          ? `; FSDP: ${units.units} unit${units.units === 1 ? "" : "s"}, the largest ${units.largestUnit.toLocaleString("en-US")} bytes when gathered`
          : ""),
    );
  }

  const batchLoss: [number, number][] = [],
    valLoss: [number, number][] = [];
  // the CPU the run's training used before this process (the last kept evaluation's total), for --max_cpu_minutes
  let cpuBefore = 0;
  for (const e of log.read()) {
    if (e.type === "train") batchLoss.push([e.step as number, e.loss as number]);
    if (e.type === "eval") {
      valLoss.push([e.step as number, (e.metrics as Metrics).val!]);
      if (typeof e.cpuTotal === "number") cpuBefore = e.cpuTotal;
    }
  }
  const drawChart = (): void =>
    savePng(
      join(dir, "loss.png"),
      lineChart({
        series: [
          { name: "train (one batch)", points: batchLoss, color: [174, 199, 232] },
          { name: "held-out", points: valLoss },
        ],
        title: `${name} on the speech corpus, ${params.toLocaleString("en-US")} parameters`,
        xLabel: "step",
        yLabel: name === "vocoder" ? "log-mel L1" : "loss",
      }),
    );
  const drawAlignment = (): void => {
    const png = trainer.alignmentPng();
    if (!png) return;
    const bytes = deflatePng(png);
    writeFileAtomic(join(dir, "alignment.png"), [bytes]);
    mkdirSync(join(dir, "alignments"), { recursive: true });
    writeFileAtomic(join(dir, "alignments", `step-${trainer.step}.png`), [bytes]);
  };
  // with workers, the shards are consolidated first (a collective: the workers take part) and this thread writes
  const save = (): void => trainer.save((c) => saveCheckpoint(ckptFile, c));

  let stop = false;
  const onSigint = (): void => {
    if (stop) process.exit(130);
    stop = true;
  };
  process.on("SIGINT", onSigint);
  const progress = new Progress({ total: o.steps, start: trainer.step, out, every: v.log_interval as number });
  let trainMs = 0,
    steps = 0,
    last: Metrics | null = null;
  const guard = new NonFiniteGuard(v.max_bad_steps as number);
  const cpu0 = cpuSeconds();
  const cpuBudget = v.max_cpu_minutes === undefined ? Infinity : 60 * (v.max_cpu_minutes as number);
  const cpuTotal = (): number => cpuBefore + cpuSeconds() - cpu0;
  let overBudget = false;
  const events: LoopEvents<TtsStep, Metrics> = {
    onSkip: (step, r, ms) => {
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
      log.append({ type: "train", step, loss: r.loss, ms: Math.round(ms * 10) / 10 });
      batchLoss.push([step, r.loss]);
      progress.update(step, [`loss ${r.loss.toFixed(4)}`]);
    },
    onEval: (step, m, ms) => {
      last = m;
      log.append({
        type: "eval",
        step,
        metrics: m,
        ms: Math.round(ms),
        cpuSeconds: cpuSeconds() - cpu0,
        cpuTotal: cpuTotal(),
      });
      valLoss.push([step, m.val!]);
      progress.line(`step ${step}: held-out ${fmt(m)} (${formatDuration(ms / 1000)})`);
      drawChart();
      drawAlignment();
      save();
    },
  };
  // with workers, rank 0 decides whether to stop and every worker hears it (one broadcast)
  const agreed = (mine: boolean): boolean => (parallel ? agreeToStop(parallel.comm, mine) : mine);
  try {
    const shouldStop = (): boolean =>
      agreed(stop || (overBudget ||= cpuTotal() >= cpuBudget) || (parallel !== null && guard.tripped));
    await runLoop(trainer, events, { pause: tick, shouldStop, guard: parallel ? undefined : guard });
    // the budget is spent: evaluate (and so save) at the step reached, as the loop does at the last step
    if (agreed(overBudget && !stop && !guard.tripped && trainer.lastEval !== trainer.step))
      await runLoop(evaluationAt(trainer), events, { pause: tick, shouldStop: () => agreed(stop) });
  } catch (e) {
    parallel?.comm.abort(); // the workers stop too
    await parallel?.workers.catch(() => undefined);
    throw e;
  } finally {
    progress.done();
    process.off("SIGINT", onSigint);
  }
  if (guard.tripped) {
    drawChart();
    const code = stopDiverged(guard, trainer.step, o.lr, save, ckptFile);
    await parallel?.workers;
    return code;
  }
  save();
  await parallel?.workers; // after the last save the workers end
  drawChart();
  if (stop) {
    print(
      `interrupted: saved ${ckptFile} at step ${trainer.step} (${(cpuTotal() / 60).toFixed(1)} CPU minutes of training in all); continue with: wnn train ${name} --resume ${dir}`,
    );
    return 130;
  }
  if (overBudget)
    print(
      `stopped at the CPU budget: ${(cpuTotal() / 60).toFixed(1)} of ${v.max_cpu_minutes} CPU minutes at step ${trainer.step}; continue with: wnn train ${name} --resume ${dir} --max_cpu_minutes M`,
    );
  const cpu = cpuSeconds() - cpu0;
  const wall = (performance.now() - wallStart) / 1000;
  print(
    `done: step ${trainer.step} of ${o.steps} in ${formatDuration(wall)}` +
      (steps
        ? ` (${steps} steps here: ${(trainMs / steps).toFixed(0)} ms per step wall, ${((1000 * cpu) / steps).toFixed(0)} ms CPU per step with the evaluations)`
        : overBudget
          ? " (no step within the CPU budget)"
          : " (no steps left to take)"),
  );
  if (last) print(`final: held-out ${fmt(last)}`);
  // the first held-out sentence: the model's own (Griffin-Lim), or the teacher's mel through the vocoder; with
  // workers (FSDP holds only shards) the model is read back from the checkpoint
  const u = trainer.held[0]!;
  const m = parallel
    ? (() => {
        const ckpt = loadCheckpoint(ckptFile);
        return ttsModelOf(savedTtsRun(ckpt), ckpt);
      })()
    : trainer.model;
  m.eval();
  const samples =
    m instanceof HiFiGAN
      ? vocode(Float64Array.from(u.mel), u.nFrames, { kind: "neural", generator: m.generator })
      : (() => {
          const s = synthesizeMel(m, u.ids, 3 * u.nFrames);
          return vocode(s.mel, s.T, { kind: "griffin-lim", iterations: 60 });
        })();
  writeFileAtomic(join(dir, "held-out-0.wav"), [encodeWav({ sampleRate: TTS_AUDIO.sampleRate, channels: [samples] })]);
  print(
    `wrote ${ckptFile}, ${join(dir, "log.jsonl")}, ${join(dir, "loss.png")}, ${join(dir, "held-out-0.wav")} ("${u.text}")`,
  );
  return 0;
}

// ---------------------------------------------------------------------------------------------------
// wnn say

export const SAY_OPTIONS = {
  checkpoint: {
    kind: "string",
    metavar: "DIR",
    help: "a run of wnn train tacotron2 or wnn train fastspeech2 (or its checkpoint.safetensors); required",
  },
  text: { kind: "string", help: "the text to speak (or give it as the one argument without --)" },
  out: {
    kind: "string",
    metavar: "FILE",
    help: "the WAV file to write (16-bit, 16 kHz); never replaces a file; required",
  },
  vocoder: {
    kind: "string",
    default: "griffin-lim",
    metavar: "griffin-lim|DIR",
    help: "Griffin-Lim, or a run of wnn train vocoder",
  },
  gl_iters: { kind: "int", min: 1, max: 1000, default: 60, help: "Griffin-Lim iterations" },
  mel_png: {
    kind: "string",
    metavar: "FILE.png",
    help: "also draw the log-mel the model made (and Tacotron 2's alignment beside it, FILE-alignment.png)",
  },
  max_seconds: {
    kind: "number",
    min: 0.1,
    max: 120,
    default: 20,
    help: "the most audio Tacotron 2 may make before it is cut",
  },
  seed: {
    kind: "int",
    min: 0,
    max: 2 ** 32 - 1,
    default: 0,
    help: "Tacotron 2's pre-net dropout (on at inference, §2.3)",
  },
} as const satisfies OptionSpecs;

export const SAY_HELP = helpText(
  'wnn say --checkpoint DIR "TEXT" --out FILE.wav [options]',
  "Speak a text with a trained Tacotron 2 or FastSpeech 2, through Griffin-Lim or a trained vocoder.",
  SAY_OPTIONS,
  'example: wnn say --checkpoint runs/tacotron2 "Call me Ishmael." --out ishmael.wav --vocoder runs/vocoder',
);

/** The text given as `--text` or as the one argument that is no option's value. */
function splitPositional(args: readonly string[]): { text: string | undefined; rest: string[] } {
  const rest: string[] = [];
  const texts: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith("--") && a.length > 2) {
      rest.push(a);
      const name = a.slice(2).replace(/-/g, "_");
      const spec = (SAY_OPTIONS as Record<string, { kind: string }>)[name];
      if (spec && spec.kind !== "flag" && !a.includes("=") && i + 1 < args.length) rest.push(args[++i]!);
    } else if (a === "-h") rest.push(a);
    else texts.push(a);
  }
  if (texts.length > 1)
    throw new UsageError(
      `say: one text, in quotes (got ${texts.length} arguments: ${texts.map((t) => JSON.stringify(t)).join(" ")})`,
    );
  return { text: texts[0], rest };
}

/** A run's checkpoint checked as a TTS run of one of `models`. */
function openTtsRun(
  dir: string,
  cmd: string,
  models: readonly TtsModelName[],
): { ckpt: LoadedCheckpoint; saved: SavedTtsRun } {
  const { ckpt, checked } = loadRunCheckpoint(dir, cmd, savedTtsRun, { strict: true });
  if (!models.includes(checked.model))
    throw new UsageError(`${cmd}: ${dir} is a run of ${checked.model}; give a run of ${models.join(" or ")}`);
  return { ckpt, saved: checked };
}

function vocoderOf(spec: string, glIters: number, cmd: string): Vocoder {
  if (spec === "griffin-lim") return { kind: "griffin-lim", iterations: glIters };
  const { ckpt, saved } = openTtsRun(spec, cmd, ["vocoder"]);
  return { kind: "neural", generator: (ttsModelOf(saved, ckpt) as HiFiGAN).generator };
}

export function sayCommand(args: readonly string[], out: Output): number {
  const cmd = "say";
  const split = splitPositional(args);
  const { values: v, help } = parseOptions(cmd, split.rest, SAY_OPTIONS);
  if (help) {
    out.write(SAY_HELP);
    return 0;
  }
  if (v.text !== undefined && split.text !== undefined)
    throw new UsageError(`${cmd}: give the text once (--text or the argument)`);
  const text = v.text ?? split.text;
  if (v.checkpoint === undefined)
    throw new UsageError(
      `${cmd}: which model? give --checkpoint runs/<name> (a run of wnn train tacotron2 or fastspeech2)`,
    );
  if (text === undefined || text.trim() === "")
    throw new UsageError(
      `${cmd}: the text is empty; give it in quotes: wnn say --checkpoint DIR "Call me Ishmael." --out FILE.wav`,
    );
  if (text.length > 2000)
    throw new UsageError(`${cmd}: the text has ${text.length} characters; say at most 2,000 at once`);
  if (v.out === undefined) throw new UsageError(`${cmd}: where to? give --out FILE.wav`);
  checkOutputFile(v.out, cmd);
  const alignmentFile = v.mel_png?.replace(/(\.png)?$/i, "-alignment.png");
  if (v.mel_png !== undefined) for (const f of [v.mel_png, alignmentFile!]) checkOutputFile(f, cmd);
  const { ckpt, saved } = openTtsRun(v.checkpoint, cmd, ["tacotron2", "fastspeech2"]);
  const vocoder = vocoderOf(v.vocoder, v.gl_iters, cmd);
  const fe = ttsFrontEnd(
    saved.options.frontEnd,
    saved.options.frontEnd === "phonemes" ? { pronunciations: loadCmudict() } : {},
  );
  if (fe.symbols.join("\n") !== saved.symbols.join("\n"))
    throw new LoadError(
      `${checkpointPath(v.checkpoint)}: the run's ${saved.options.frontEnd} symbols are not this dictionary's`,
    );
  const ids = fe.encode(text);
  if (ids.length <= 1) throw new UsageError(`${cmd}: ${JSON.stringify(text)} holds no letter or word to speak`);
  const model = ttsModelOf({ ...saved, options: { ...saved.options, seed: v.seed } }, ckpt);
  if (model instanceof HiFiGAN) throw new UsageError(`${cmd}: a vocoder speaks no text; give it as --vocoder`);
  const t0 = performance.now(),
    c0 = cpuSeconds();
  const maxFrames = Math.round((v.max_seconds * TTS_AUDIO.sampleRate) / TTS_AUDIO.hopLength);
  const s = synthesizeMel(model, ids, maxFrames);
  const samples = vocode(s.mel, s.T, vocoder);
  const seconds = (performance.now() - t0) / 1000,
    cpu = cpuSeconds() - c0;
  writeFileAtomic(v.out, [encodeWav({ sampleRate: TTS_AUDIO.sampleRate, channels: [samples] })]);
  if (v.mel_png !== undefined) {
    writeFileAtomic(v.mel_png, [deflatePng(melPng(s.mel, s.T, `${saved.model} at step ${ckpt.step}: ${text}`))]);
    if (s.alignment) writeFileAtomic(alignmentFile!, [deflatePng(alignmentPng(s.alignment, "", 4))]);
  }
  const audio = samples.length / TTS_AUDIO.sampleRate;
  out.write(
    `wrote ${v.out}: ${audio.toFixed(2)} s of audio in ${seconds.toFixed(2)} s (${cpu.toFixed(2)} s CPU; real-time factor ${(seconds / audio).toFixed(2)}), ${saved.model} at step ${ckpt.step}, ${vocoder.kind === "griffin-lim" ? `Griffin-Lim ×${vocoder.iterations}` : `the vocoder of ${v.vocoder}`}${s.stopped === false ? `; cut at ${v.max_seconds} s (the stop token never fired)` : ""}\n`,
  );
  return 0;
}

// ---------------------------------------------------------------------------------------------------
// wnn eval --checkpoint DIR of a TTS run

/** Whether a checkpoint was written by `wnn train tacotron2 | fastspeech2 | vocoder`. */
export const isTtsCheckpoint = (ckpt: LoadedCheckpoint): boolean =>
  (ckpt.config as { kind?: unknown } | null | undefined)?.kind === "tts";

/** Whether `wnn eval`'s --checkpoint names a TTS run (read once; any problem is left to the command that reads it). */
export function evalArgsNameTtsRun(args: readonly string[]): boolean {
  const i = args.findIndex((a) => a === "--checkpoint" || a.startsWith("--checkpoint="));
  if (i < 0) return false;
  const dir = args[i]!.includes("=") ? args[i]!.slice(args[i]!.indexOf("=") + 1) : args[i + 1];
  if (dir === undefined) return false;
  try {
    return isTtsCheckpoint(loadCheckpoint(checkpointPath(dir)));
  } catch {
    return false;
  }
}

export const TTS_EVAL_OPTIONS = {
  checkpoint: {
    kind: "string",
    metavar: "DIR",
    help: "a run of wnn train tacotron2, fastspeech2 or vocoder; required",
  },
  vocoder: { kind: "string", default: "griffin-lim", metavar: "griffin-lim|DIR", help: "how the mels become audio" },
  gl_iters: { kind: "int", min: 1, max: 1000, default: 60, help: "Griffin-Lim iterations" },
  sentences: { kind: "int", min: 1, max: 1000, help: "the first N held-out sentences (default: all of the run's)" },
  json: { kind: "flag", help: "print the numbers as JSON" },
} as const satisfies OptionSpecs;

/** The options `wnn eval` takes when its checkpoint is a speech run, shown after the zoo's in `wnn eval --help`. */
export const TTS_EVAL_HELP = helpText(
  "wnn eval --checkpoint DIR [options]   (DIR a run of wnn train tacotron2 | fastspeech2 | vocoder)",
  "Synthesize every held-out sentence of a speech run and measure it against the teacher voice: mel cepstral\ndistortion with DTW, the ratio of durations, Tacotron 2's focus rate and diagonality, the real-time factor, beside\nGriffin-Lim on the teacher's own mels (the floor). A vocoder run is measured on the teacher's mels.",
  TTS_EVAL_OPTIONS,
  "example: wnn eval --checkpoint runs/tacotron2 --vocoder runs/vocoder --sentences 5",
);

/**
 * `wnn eval --checkpoint DIR` of a TTS run: every held-out sentence synthesized and measured against the
 * teacher (MCD with DTW, duration ratio, Tacotron 2's focus and diagonality, real-time factor) beside Griffin-Lim's
 * floor on the teacher's own mels. A vocoder run is measured on the teacher's mels (its floor).
 */
export function ttsEvalCommand(args: readonly string[], out: Output): number {
  const cmd = "eval";
  const { values: v } = parseOptions(cmd, args, TTS_EVAL_OPTIONS);
  const { ckpt, saved } = openTtsRun(v.checkpoint!, cmd, TTS_MODELS);
  const isVocoder = saved.model === "vocoder";
  const vocoder = isVocoder ? vocoderOf(v.checkpoint!, v.gl_iters, cmd) : vocoderOf(v.vocoder, v.gl_iters, cmd);
  const o = saved.options;
  const model = isVocoder ? null : ttsModelOf(saved, ckpt); // its weights loaded before the corpus is read
  const data = ttsData(o, v.json ? process.stderr : out); // with --json, stdout holds the JSON alone
  const fe = ttsFrontEnd(o.frontEnd, data);
  // the held-out sentences only, with the features every model reads (no pitch, no durations)
  const { held } = prepareTtsCorpus("tacotron2", o, data, fe, true);
  const some = held.slice(0, v.sentences ?? held.length);
  const now = () => performance.now() / 1000;
  const c0 = cpuSeconds();
  let summary: Record<string, number>;
  if (isVocoder) {
    // the vocoder alone: the teacher's mels through it, and through Griffin-Lim, against the teacher
    const gl = evaluateTeacherMels(some, { kind: "griffin-lim", iterations: v.gl_iters }, now);
    const neural = evaluateTeacherMels(some, vocoder, now);
    summary = {
      sentences: some.length,
      mcd: neural.mcd,
      griffinLimMcd: gl.mcd,
      realTimeFactor: neural.rtf,
      griffinLimRealTimeFactor: gl.rtf,
    };
  } else {
    summary = summarizeTts(evaluateTts(model as Parameters<typeof evaluateTts>[0], some, vocoder, now));
  }
  summary.cpuSeconds = cpuSeconds() - c0;
  if (v.json)
    out.write(JSON.stringify({ model: saved.model, step: ckpt.step, vocoder: v.vocoder, metrics: summary }) + "\n");
  else
    out.write(
      `${saved.model} at step ${ckpt.step}, ${some.length} held-out sentences, vocoder ${isVocoder ? "its own" : v.vocoder}: ${fmt(summary)}\n`,
    );
  return 0;
}

/** Rank 0's part of `--workers N` (trainer becomes worker 0) and the workers (ranks 1 … N−1) started on the same run. */
function startParallel(
  cmd: string,
  trainer: TtsTrainer,
  N: number,
  args: TtsWorkerArgs,
): { comm: Communicator; workers: Promise<number[]> } {
  const B = trainer.options.batchSize;
  if (B % N !== 0) throw new UsageError(`${cmd}: --batch_size ${B} does not split evenly over --workers ${N}`);
  setNumThreads(1); // one thread per worker
  // one segment holds the largest flat run a collective moves: FSDP's one unit per group, a ZeRO bucket
  const psi = trainer.model.parameters().reduce((n, p) => n + p.numel(), 0);
  const { comm, workers } = launchWithHost<number>({
    worldSize: N,
    module: new URL("./tts-worker.js", import.meta.url),
    fn: "ttsWorker",
    args,
    capacity: Math.max(1 << 16, Math.min(psi, 1 << 24)),
    timeoutMs: 2 ** 31 - 1,
  });
  workers.catch(() => comm.abort()); // a worker that fails stops this thread's collectives too
  try {
    trainer.dataParallel(comm, args.strategy);
    comm.barrier(); // every worker has read the checkpoint before this thread may write one
  } catch (e) {
    comm.abort();
    if (e instanceof ArgumentError) throw new UsageError(`${cmd}: ${e.message}`);
    throw e;
  }
  return { comm, workers };
}
