// Hostile input, the memory budget: options each within its range that together ask for gigabytes. Every command
// that trains estimates its memory from its own first step at two small batches (src/recipes/memory-probe.ts) and
// refuses, before anything of that size is allocated, in one line naming the options (cli/memory.ts). Registered
// in ./corpus-more.ts's MORE_GENERATORS.

import type { Ctx } from "./corpus.js";
import type { Case } from "./run.js";

export function memoryCases(c: Ctx): Case[] {
  const cwd = c.dir("cli-memory");
  const refused = /training would need .* more than the budget .* --max_memory/;
  const add = (name: string, argv: string[]): Case => ({
    format: "cli (memory)",
    name,
    cli: { argv, cwd, stderr: refused },
    expect: "error",
  });
  return [
    // a zoo model (`wnn train <model>`): 2.2 GB and a raw RangeError of the wasm memory before
    add("train llama --batch_size 65536", ["train", "llama", "--batch_size", "65536", "--steps", "1"]),
    add("train gpt2 --batch_size 65536", ["train", "gpt2", "--batch_size", "65536", "--steps", "1"]),
    add("train bert --batch_size 65536", ["train", "bert", "--batch_size", "65536", "--steps", "1"]),
    // wnn train gpt: its own estimate, the same budget
    add("train gpt --batch_size 65536", ["train", "gpt", "--batch_size", "65536", "--iters", "1"]),
    add("train gpt sizes within range, together too large", [
      "train",
      "gpt",
      "--n_layer",
      "128",
      "--n_embd",
      "4096",
      "--iters",
      "1",
    ]),
    // recipes, the budget lowered with --max_memory (their data are read before the probe)
    add("train vision-attention-compare --batch_size 1024 --max_memory 0.05", [
      "train",
      "vision-attention-compare",
      "--batch_size",
      "1024",
      "--max_memory",
      "0.05",
    ]),
    add("train decoder-compare --batch_size 192 --max_memory 0.02", [
      "train",
      "decoder-compare",
      "--batch_size",
      "192",
      "--max_memory",
      "0.02",
    ]),
    add("train ddpm --batch_size 1024 --max_memory 0.1", [
      "train",
      "ddpm",
      "--batch_size",
      "1024",
      "--max_memory",
      "0.1",
    ]),
    add("train char-rnn --batch_size 512 --max_memory 0.01", [
      "train",
      "char-rnn",
      "--batch_size",
      "512",
      "--max_memory",
      "0.01",
    ]),
  ];
}
