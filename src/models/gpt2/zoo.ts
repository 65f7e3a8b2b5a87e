// The zoo entry of gpt2: its presets, paper and recipes, and the task it shares with its siblings (src/models/zoo.ts lists it).

import { type ZooModel } from "../zoo-entry.js";
import * as gpt2 from "./model.js";

export const zooEntry: ZooModel = {
  name: "gpt2",
  paper:
    "Radford et al. 2019, Language Models are Unsupervised Multitask Learners, https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf",
  trainsOn: "Moby Dick, characters (wnn train gpt); English first names (names preset)",
  recipes: [],
  presets: [
    {
      name: "tiny",
      describe: () => gpt2.describe(gpt2.gptConfig("tiny"), "GPT-2 (tiny)"),
      build: () => new gpt2.GPT(gpt2.gptConfig("tiny")),
    },
    {
      name: "gpt2",
      describe: () => gpt2.describe(gpt2.gptConfig("gpt2"), "GPT-2 small"),
      build: () => new gpt2.GPT(gpt2.gptConfig("gpt2")),
    },
    {
      name: "names",
      describe: () => gpt2.describe(gpt2.gptConfig("names"), "GPT-2 (2 blocks)"),
      build: () => new gpt2.GPT(gpt2.gptConfig("names")),
      train: {
        task: "names",
        build: (t, g) =>
          new gpt2.GPT(gpt2.gptConfig("names", { vocabSize: t.tokenizer.vocabSize, blockSize: t.maxLen + 1 }), {
            generator: g,
          }),
      },
    },
  ],
};
