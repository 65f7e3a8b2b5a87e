// Hostile input, the memory budget: options each within its range that together ask for gigabytes. Every command
// that trains estimates its memory from its own first step at two small batches (src/recipes/memory-probe.ts) and
// refuses, before anything of that size is allocated, in one line naming the options (cli/memory.ts). Registered
// in ./corpus-more.ts's MORE_GENERATORS.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CharTokenizer } from "../../src/data/char.js";
import { serializeCheckpoint } from "../../src/io/checkpoint.js";
import { DDPMTrainer } from "../../src/models/ddpm/train.js";
import { unetConfig } from "../../src/models/ddpm/unet.js";
import { gptConfig } from "../../src/models/gpt2/model.js";
import { GPTTrainer } from "../../src/models/gpt2/train.js";
import type { Ctx } from "./corpus.js";
import type { Case } from "./run.js";

/** A run folder of `wnn train gpt` (one small untrained model) and a text, for `wnn finetune --model`. */
function finetuneBase(c: Ctx): { run: string; data: string } {
  const text = "call me ishmael. ".repeat(40);
  const tok = CharTokenizer.fromText(text);
  const cfg = gptConfig("tiny", { vocabSize: tok.vocabSize, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 32 });
  const t = Int32Array.from(tok.encode(text));
  const train = { batchSize: 2, lr: 1e-3, minLr: 1e-4, warmupIters: 1, lrDecayIters: 20, iters: 20 };
  const rest = { evalInterval: 100, evalIters: 1, weightDecay: 0.1, beta1: 0.9, beta2: 0.99, gradClip: 1, seed: 1 };
  const tr = new GPTTrainer(cfg, { ...train, ...rest }, { train: t, val: t });
  const run = c.dir("cli-memory/gpt-run");
  const ckpt = tr.checkpoint({ dataset: "moby-dick", split: 0.9, tokenizer: tok.toJSON() });
  writeFileSync(join(run, "checkpoint.safetensors"), serializeCheckpoint(ckpt));
  return { run, data: c.file("cli-memory/data.txt", text) };
}

/** A run folder of `wnn train ddpm` (a small untrained U-Net), for `wnn generate --checkpoint`. */
function ddpmRun(c: Ctx): string {
  const digits = { images: new Float32Array(4 * 784).fill(0.5), labels: Int32Array.of(0, 1, 2, 3), count: 4 };
  const trainer = new DDPMTrainer(unetConfig("ddpm-mnist", { channels: 8 }), {}, { steps: 10, batchSize: 2 }, digits);
  const run = c.dir("cli-memory/ddpm-run");
  writeFileSync(join(run, "checkpoint.safetensors"), serializeCheckpoint(trainer.checkpoint()));
  return run;
}

export function memoryCases(c: Ctx): Case[] {
  const cwd = c.dir("cli-memory");
  const refused = /would need .* more than the budget .* --max_memory/;
  const add = (name: string, argv: string[]): Case => ({
    format: "cli (memory)",
    name,
    cli: { argv, cwd, stderr: refused },
    expect: "error",
  });
  const base = finetuneBase(c);
  const finetune = (method: string, batch: string): Case =>
    add(`finetune --method ${method} --batch_size ${batch}`, [
      "finetune",
      "--model",
      base.run,
      "--data",
      base.data,
      "--method",
      method,
      "--batch_size",
      batch,
      "--steps",
      "1",
      "--out",
      join(cwd, `ft-${method}`),
    ]);
  const ddpm = ddpmRun(c);
  return [
    // generating: 10 × 1,024 digits at once took 8 GB and more than two minutes before
    add("generate --n 1024 --max_memory 0.1", [
      "generate",
      "--checkpoint",
      ddpm,
      "--n",
      "1024",
      "--steps",
      "1",
      "--max_memory",
      "0.1",
      "--out",
      join(cwd, "g.png"),
    ]),
    finetune("lora", "10000000"),
    finetune("full", "1000000"),
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
    // recipes, at the default budget: the estimate counts their first step on shape-only tensors at the sizes
    // asked for, so a size other than the batch costs nothing to refuse (these took 17 s of CPU, 1.1 GB and 4 GB
    // when the estimate ran real steps at small batches)
    add("train vision-attention-compare --batch_size 1024 --canvas 256", [
      "train",
      "vision-attention-compare",
      "--batch_size",
      "1024",
      "--canvas",
      "256",
      "--steps",
      "1",
    ]),
    add("train moe-compare --batch_size 128 --block_size 1024 --n_layer 8", [
      "train",
      "moe-compare",
      "--batch_size",
      "128",
      "--block_size",
      "1024",
      "--n_layer",
      "8",
    ]),
    add("train ddpm --channels 256 --batch_size 1024", ["train", "ddpm", "--channels", "256", "--batch_size", "1024"]),
    add("train decoder-compare --batch_size 192 --block_size 1024", [
      "train",
      "decoder-compare",
      "--batch_size",
      "192",
      "--block_size",
      "1024",
    ]),
  ];
}
