#!/usr/bin/env node
// wnn — the command line of writtingNNs: list the zoo, train a model, sample from one, compare models.
// Exit codes: 0 done, 1 an error while running (a file that cannot be read, ...), 2 a usage error
// (unknown command, bad option), 130 interrupted by Ctrl-C after saving a checkpoint.
// One error path: whatever goes wrong ends as one line on stderr ("wnn: ...") and a non-zero exit; the
// stack trace is printed only with --debug (anywhere on the command line) or WNN_DEBUG=1.

// The Node setup of src/index-node.ts (the wasm backend's thread pool and relaxed SIMD) without the whole library:
// each command imports its own modules when it runs (`load` below), so that a command, and above all one refused
// on its options, does not start by loading every model of the zoo.
import "../src/ops/index.js"; // every op, so that every Tensor method (installed by its op's file) is there
import { enableRelaxedSimd } from "../src/backend/wasm/features-node.js";
import { installNodeThreadPool } from "../src/backend/wasm/pool-node.js";
import { LoadError, WnnError } from "../src/engine/errors.js";
import { UsageError, helpText, parseOptions, type OptionSpecs } from "./args.js";
import { isTtsModel, TTS_MODELS } from "../src/recipes/tts-models.js";

enableRelaxedSimd();
installNodeThreadPool();

/** The modules of the commands, imported when a command runs. */
const load = {
  compare: () => import("./compare.js"),
  consolidate: () => import("./consolidate.js"),
  ddpm: () => import("./ddpm.js"),
  ldm: () => import("./ldm.js"),
  hf: () => import("./hf.js"),
  finetune: () => import("./finetune.js"),
  gpt: () => import("./gpt.js"),
  gguf: () => import("./gguf.js"),
  list: () => import("./list.js"),
  mnist: () => import("./mnist.js"),
  recipes: () => import("./recipes.js"),
  sample: () => import("./sample.js"),
  spirals: () => import("./spirals.js"),
  tts: () => import("./tts.js"),
  zoo: () => import("./zoo-train.js"),
  zooTraining: () => import("../src/recipes/zoo-train.js"),
};

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

const TRAIN_USAGE = async (): Promise<string> => `usage: wnn train <model> [options]

models: ${(await trainModels()).all.join(", ")}   (\`wnn train <model> --help\` for the options)
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

async function spirals(args: readonly string[]): Promise<number> {
  const { values: v, help } = parseOptions("train spirals", args, SPIRAL_OPTIONS);
  if (help) {
    process.stdout.write(SPIRAL_HELP);
    return 0;
  }
  (await load.spirals()).trainSpirals({
    steps: v.steps,
    hidden: v.hidden,
    lr: v.lr,
    seed: v.seed,
    every: v.every,
    log: (line) => process.stdout.write(line + "\n"),
  });
  return 0;
}

/** What `wnn train` trains: its own commands, then the zoo's recipes, then the zoo's models without a recipe. */
async function trainModels(): Promise<{ all: string[]; zoo: string[] }> {
  const [{ RECIPES }, { ZOO_TRAINING }] = await Promise.all([load.recipes(), load.zooTraining()]);
  const all = [
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
  const zoo = Object.keys(ZOO_TRAINING).filter((n) => !all.includes(n));
  return { all: [...all, ...zoo], zoo };
}

/** `wnn help <topic>`: the help of a command, its module loaded for it. */
async function helpOf(topic: string): Promise<string | undefined> {
  const train = topic.startsWith("train ") ? topic.slice(6) : null;
  switch (topic) {
    case "list":
      return (await load.list()).LIST_HELP;
    case "sample":
      return (await load.sample()).SAMPLE_HELP;
    case "finetune":
      return (await load.finetune()).FINETUNE_HELP;
    case "quantize":
      return (await load.gguf()).QUANTIZE_HELP;
    case "fill-mask":
      return (await load.hf()).FILL_MASK_HELP;
    case "compare":
      return (await load.compare()).COMPARE_HELP;
    case "consolidate":
      return (await load.consolidate()).CONSOLIDATE_HELP;
    case "generate":
      return (await load.ddpm()).GENERATE_HELP;
    case "eval": {
      const [{ EVAL_HELP }, { TTS_EVAL_HELP }] = await Promise.all([load.zoo(), load.tts()]);
      return `${EVAL_HELP}\n${TTS_EVAL_HELP}`;
    }
    case "say":
      return (await load.tts()).SAY_HELP;
  }
  if (train === null) return undefined;
  if (train === "gpt") return (await load.gpt()).GPT_HELP;
  if (train === "mlp" || train === "cnn") return (await load.mnist()).MNIST_HELP(train);
  if (train === "spirals") return SPIRAL_HELP;
  if (train === "ddpm") return (await load.ddpm()).DDPM_HELP;
  if (train === "ldm") return (await load.ldm()).LDM_HELP;
  if (isTtsModel(train)) return (await load.tts()).ttsTrainHelp(train);
  const { recipeHelp, RECIPES } = await load.recipes();
  const recipe = RECIPES.find((r) => r.name === train);
  if (recipe) return recipeHelp(recipe);
  if ((await trainModels()).zoo.includes(train)) return (await load.zoo()).zooTrainHelp(train);
  return undefined;
}

async function run(argv: string[]): Promise<number> {
  const out = process.stdout;
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h") {
    out.write(USAGE);
    return 0;
  }
  if (command === "help") {
    const topic = rest.join(" ");
    const help = topic === "" ? USAGE : await helpOf(topic);
    if (help === undefined) throw new UsageError(`help: no command ${JSON.stringify(topic)}`);
    out.write(help);
    return 0;
  }
  switch (command) {
    case "list":
      return (await load.list()).listCommand(rest, out);
    case "sample":
      return (await load.sample()).sampleCommand(rest, out);
    case "fill-mask":
      return (await load.hf()).fillMaskCommand(rest, out);
    case "finetune":
      return (await load.finetune()).finetuneCommand(rest, out);
    case "quantize":
      return (await load.gguf()).quantizeCommand(rest, out, process.stderr);
    case "compare":
      return (await load.compare()).compareCommand(rest, out);
    case "generate":
      return (await load.ddpm()).generateCommand(rest, out);
    case "consolidate":
      return (await load.consolidate()).consolidateCommand(rest, out);
    case "eval": {
      if (rest.includes("--help") || rest.includes("-h")) {
        out.write((await helpOf("eval"))!); // the zoo's options and the speech runs'
        return 0;
      }
      const tts = await load.tts();
      return tts.evalArgsNameTtsRun(rest) ? tts.ttsEvalCommand(rest, out) : (await load.zoo()).evalCommand(rest, out);
    }
    case "say":
      return (await load.tts()).sayCommand(rest, out);
    case "__compare-worker": // one model of `wnn compare --train`, in its own process (not for users)
      return (await load.compare()).compareWorker(rest, out);
    case "train": {
      const [model, ...args] = rest;
      if (model === undefined || model === "--help" || model === "-h") {
        if (model === undefined) throw new UsageError(`train: which model? (${(await trainModels()).all.join(", ")})`);
        out.write(await TRAIN_USAGE());
        return 0;
      }
      if (model === "gpt") return (await load.gpt()).trainGpt(args, out);
      if (model === "mlp" || model === "cnn") return (await load.mnist()).trainMnist(model, args, out);
      if (model === "spirals") return spirals(args);
      if (model === "ddpm") return (await load.ddpm()).trainDdpm(args, out);
      if (model === "ldm") return (await load.ldm()).trainLdm(args, out);
      // before the recipes: FastSpeech 2's library recipe has no checkpoints
      if (isTtsModel(model)) return (await load.tts()).trainTts(model, args, out);
      const { RECIPES, runRecipe } = await load.recipes();
      const recipe = RECIPES.find((r) => r.name === model);
      if (recipe) return runRecipe(recipe, args, out);
      const models = await trainModels();
      if (models.zoo.includes(model)) return (await load.zoo()).trainZooModel(model, args, out);
      throw new UsageError(`train: unknown model ${JSON.stringify(model)} (${models.all.join(", ")})`);
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
