#!/usr/bin/env node
// wnn — the command line of writtingNNs: list the zoo, train a model, sample from one, compare models.
// Exit codes: 0 done, 1 an error while running (a file that cannot be read, ...), 2 a usage error
// (unknown command, bad option), 130 interrupted by Ctrl-C after saving a checkpoint.
// One error path: whatever goes wrong ends as one line on stderr ("wnn: ...") and a non-zero exit; the
// stack trace is printed only with --debug (anywhere on the command line) or WNN_DEBUG=1.

import "../src/index-node.js"; // the Node entry: the wasm backend's thread pool and relaxed SIMD
import { LoadError, WnnError } from "../src/engine/errors.js";
import { UsageError, helpText, parseOptions, type OptionSpecs } from "./args.js";
import { COMPARE_HELP, compareCommand, compareWorker } from "./compare.js";
import { CONSOLIDATE_HELP, consolidateCommand } from "./consolidate.js";
import { DDPM_HELP, GENERATE_HELP, generateCommand, trainDdpm } from "./ddpm.js";
import { LDM_HELP, trainLdm } from "./ldm.js";
import { FILL_MASK_HELP, fillMaskCommand } from "./hf.js";
import { FINETUNE_HELP, finetuneCommand } from "./finetune.js";
import { GPT_HELP, trainGpt } from "./gpt.js";
import { QUANTIZE_HELP, quantizeCommand } from "./gguf.js";
import { LIST_HELP, listCommand } from "./list.js";
import { MNIST_HELP, trainMnist } from "./mnist.js";
import { RECIPES, recipeHelp, runRecipe } from "./recipes.js";
import { SAMPLE_HELP, sampleCommand } from "./sample.js";
import { trainSpirals } from "./spirals.js";
import {
  SAY_HELP,
  TTS_EVAL_HELP,
  evalArgsNameTtsRun,
  isTtsModel,
  sayCommand,
  trainTts,
  ttsEvalCommand,
  ttsTrainHelp,
} from "./tts.js";
import { TTS_MODELS } from "../src/recipes/tts-train.js";
import { EVAL_HELP, evalCommand, trainZooModel, zooTrainHelp } from "./zoo-train.js";
import { ZOO_TRAINING } from "../src/recipes/zoo-train.js";

const USAGE = `usage: wnn <command> [options]

commands:
  list                      the model zoo: name, paper, parameters, what it trains on (--json)
  train gpt                 a character-level GPT on Moby Dick (nanoGPT's CPU configuration)
  train mlp                 an MLP on MNIST digits
  train cnn                 LeNet-5 on MNIST digits
  train spirals             a 2-layer MLP on a seeded 3-arm spiral
  train ddpm                a class-conditional diffusion model (DDPM, U-Net) on MNIST digits
  train ldm                 latent diffusion with a VAE and a text encoder on captioned MNIST digits
  train <recipe>            any recipe of the zoo (\`wnn list\` names them)
  train <model>             any model of the zoo without a recipe, on its kind's default task (llama, bert, t5, vit, ...)
  sample --checkpoint DIR   text from a GPT trained by \`wnn train gpt\` or a decoder by \`wnn train <model>\`
  sample --model DIR        text from a Hugging Face checkpoint folder (gpt2, llama, mixtral, bloom, falcon, t5, bart)
  sample --model FILE.gguf  text from a GGUF file (llama, gpt2), its matrices kept quantized
  quantize --model DIR      a Hugging Face folder (gpt2, llama) → a GGUF file llama.cpp runs (--type q8_0, q4_0, ...)
  finetune --model DIR ...  fine-tune a decoder on a text file: full, lora, adapter, prefix, prompt, bitfit, ia3
  fill-mask --model DIR     the likeliest tokens for the masks of a text (bert, roberta, deberta-v2; --checkpoint: a run of wnn train bert)
  generate --checkpoint DIR digits from a diffusion model trained by \`wnn train ddpm\` or \`ldm\` (PNG)
  eval --checkpoint DIR     evaluate a model trained by \`wnn train <model>\` on its task (loss, exact match, accuracy; TTS: MCD, durations, attention)
  say --checkpoint DIR TEXT speech from a Tacotron 2 or FastSpeech 2 run (\`wnn train tacotron2\`), --out FILE.wav (--vocoder griffin-lim|DIR)
  compare <a> <b> [...]     models side by side: architecture table; --train runs them on their shared task
  consolidate --checkpoint DIR  the sharded saves of a data-parallel run as one checkpoint (--hf OUT: a GPT-2 folder)

\`wnn <command> --help\` shows a command's options.
`;

const TRAIN_USAGE = (): string => `usage: wnn train <model> [options]

models: ${MODELS.join(", ")}   (\`wnn train <model> --help\` for the options)
`;

const SPIRAL_OPTIONS = {
  steps: { kind: "int", min: 0, max: 10_000_000, default: 1500, help: "steps of full-batch gradient descent" },
  hidden: { kind: "int", min: 1, max: 65536, default: 64, help: "hidden units" },
  lr: { kind: "number", min: 0, max: 1e6, default: 1, help: "learning rate" },
  seed: { kind: "int", min: 0, max: 2 ** 32 - 1, default: 0, help: "seed of the points and the weights" },
  every: { kind: "int", min: 1, max: 10_000_000, default: 100, help: "print the loss every N steps" },
} as const satisfies OptionSpecs;

const SPIRAL_HELP = helpText(
  "wnn train spirals [options]",
  "Train a 2-layer MLP (2 → hidden → 3, tanh) on 300 points of a seeded 3-arm spiral and print loss and accuracy.",
  SPIRAL_OPTIONS,
);

function spirals(args: readonly string[]): number {
  const { values: v, help } = parseOptions("train spirals", args, SPIRAL_OPTIONS);
  if (help) {
    process.stdout.write(SPIRAL_HELP);
    return 0;
  }
  trainSpirals({
    steps: v.steps,
    hidden: v.hidden,
    lr: v.lr,
    seed: v.seed,
    every: v.every,
    log: (line) => process.stdout.write(line + "\n"),
  });
  return 0;
}

/** What `wnn train` trains: its own commands, then the zoo's recipes. */
const MODELS = [
  "gpt",
  "mlp",
  "cnn",
  "spirals",
  "ddpm",
  "ldm",
  ...RECIPES.map((r) => r.name),
  ...TTS_MODELS.filter((n) => !RECIPES.some((r) => r.name === n)),
];
/** The models of the zoo trained on their kind's default task (src/recipes/zoo-train.ts), unless a recipe has the name. */
const ZOO_MODELS = Object.keys(ZOO_TRAINING).filter((n) => !MODELS.includes(n));
MODELS.push(...ZOO_MODELS);

const HELP: Record<string, string> = {
  list: LIST_HELP,
  sample: SAMPLE_HELP,
  finetune: FINETUNE_HELP,
  quantize: QUANTIZE_HELP,
  "fill-mask": FILL_MASK_HELP,
  compare: COMPARE_HELP,
  consolidate: CONSOLIDATE_HELP,
  "train gpt": GPT_HELP,
  "train mlp": MNIST_HELP("mlp"),
  "train cnn": MNIST_HELP("cnn"),
  "train spirals": SPIRAL_HELP,
  "train ddpm": DDPM_HELP,
  "train ldm": LDM_HELP,
  generate: GENERATE_HELP,
  ...Object.fromEntries(RECIPES.map((r) => [`train ${r.name}`, recipeHelp(r)])),
  ...Object.fromEntries(ZOO_MODELS.map((n) => [`train ${n}`, zooTrainHelp(n)])),
  ...Object.fromEntries(TTS_MODELS.map((n) => [`train ${n}`, ttsTrainHelp(n)])),
  eval: `${EVAL_HELP}\n${TTS_EVAL_HELP}`,
  say: SAY_HELP,
};

async function run(argv: string[]): Promise<number> {
  const out = process.stdout;
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h") {
    out.write(USAGE);
    return 0;
  }
  if (command === "help") {
    const topic = rest.join(" ");
    if (topic === "") out.write(USAGE);
    else if (HELP[topic]) out.write(HELP[topic]);
    else throw new UsageError(`help: no command ${JSON.stringify(topic)}`);
    return 0;
  }
  switch (command) {
    case "list":
      return listCommand(rest, out);
    case "sample":
      return sampleCommand(rest, out);
    case "fill-mask":
      return fillMaskCommand(rest, out);
    case "finetune":
      return finetuneCommand(rest, out);
    case "quantize":
      return quantizeCommand(rest, out, process.stderr);
    case "compare":
      return compareCommand(rest, out);
    case "generate":
      return generateCommand(rest, out);
    case "consolidate":
      return consolidateCommand(rest, out);
    case "eval":
      if (rest.includes("--help") || rest.includes("-h")) {
        out.write(HELP.eval!); // the zoo's options and the speech runs'
        return 0;
      }
      return evalArgsNameTtsRun(rest) ? ttsEvalCommand(rest, out) : evalCommand(rest, out);
    case "say":
      return sayCommand(rest, out);
    case "__compare-worker": // one model of `wnn compare --train`, in its own process (not for users)
      return compareWorker(rest, out);
    case "train": {
      const [model, ...args] = rest;
      if (model === undefined || model === "--help" || model === "-h") {
        if (model === undefined) throw new UsageError(`train: which model? (${MODELS.join(", ")})`);
        out.write(TRAIN_USAGE());
        return 0;
      }
      if (model === "gpt") return trainGpt(args, out);
      if (model === "mlp" || model === "cnn") return trainMnist(model, args, out);
      if (model === "spirals") return spirals(args);
      if (model === "ddpm") return trainDdpm(args, out);
      if (model === "ldm") return trainLdm(args, out);
      if (isTtsModel(model)) return trainTts(model, args, out); // before the recipes: FastSpeech 2's library recipe has no checkpoints
      const recipe = RECIPES.find((r) => r.name === model);
      if (recipe) return runRecipe(recipe, args, out);
      if (ZOO_MODELS.includes(model)) return trainZooModel(model, args, out);
      throw new UsageError(`train: unknown model ${JSON.stringify(model)} (${MODELS.join(", ")})`);
    }
    default:
      throw new UsageError(
        `unknown command ${JSON.stringify(command)} (list, train, sample, finetune, quantize, fill-mask, generate, eval, say, compare)`,
      );
  }
}

// \`wnn list | head\`: a closed pipe ends the command quietly
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

const argv = process.argv.slice(2);
const debug = argv.includes("--debug") || ((process.env.WNN_DEBUG ?? "") !== "" && process.env.WNN_DEBUG !== "0");

/** One line: newlines folded, very long messages cut. */
const oneLine = (s: string): string => {
  const flat = s.replace(/\s*\n\s*/g, " ").trim();
  return flat.length > 2000 ? flat.slice(0, 2000) + " ..." : flat;
};

/** Every failure the user can cause, as one line and an exit code (the stack only with --debug). */
function fail(e: unknown): void {
  if (e instanceof UsageError) {
    const topic = e.message.match(
      /^(train [\w-]+|sample|finetune|quantize|fill-mask|generate|eval|say|list|compare):/,
    )?.[1];
    process.stderr.write(`wnn: ${oneLine(e.message)} (run \`wnn ${topic ? `${topic} ` : ""}--help\` for the usage)\n`);
    process.exitCode = 2;
  } else if (e instanceof LoadError || e instanceof WnnError) {
    process.stderr.write(`wnn: ${oneLine(e.message)}\n`);
    process.exitCode = 1;
  } else {
    // not one of ours: a file-system error (EACCES, ENOSPC, ...) or a bug; still one line
    const err = e instanceof Error ? e : new Error(String(e));
    const code = (err as NodeJS.ErrnoException).code;
    process.stderr.write(
      `wnn: ${code ? "" : "internal error: "}${oneLine(err.message)}${debug ? "" : " (--debug shows where)"}\n`,
    );
    process.exitCode = 1;
  }
  if (debug && e instanceof Error && e.stack) process.stderr.write(e.stack + "\n");
}

process.on("uncaughtException", (e) => {
  fail(e);
  process.exit(process.exitCode ?? 1);
});

run(argv.filter((a) => a !== "--debug")).then((code) => {
  process.exitCode = code;
}, fail);
