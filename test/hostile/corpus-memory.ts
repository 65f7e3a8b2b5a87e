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
import { clipTextConfig } from "../../src/models/latent-diffusion/clip-text.js";
import {
  clipToTransformersConfig,
  unetToDiffusersConfig,
  vaeToDiffusersConfig,
} from "../../src/models/latent-diffusion/diffusers.js";
import { vaeConfig } from "../../src/models/latent-diffusion/vae.js";
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

/**
 * A Stable Diffusion v1 folder of configs only (its weights files empty): `wnn generate --model` must weigh the
 * image's size from the configs, before it opens a weight.
 */
function stableDiffusionConfigs(c: Ctx): string {
  const dir = c.dir("cli-memory/sd-v1");
  const configs: [string, object][] = [
    ["unet", unetToDiffusersConfig(unetConfig("sd-v1-unet"))],
    ["vae", vaeToDiffusersConfig(vaeConfig("sd-v1-vae"))],
    ["text_encoder", clipToTransformersConfig(clipTextConfig("clip-vit-l-14-text"))],
  ];
  for (const [name, config] of configs) {
    c.file(`cli-memory/sd-v1/${name}/config.json`, JSON.stringify(config));
    c.file(`cli-memory/sd-v1/${name}/${name === "text_encoder" ? "model" : "diffusion_pytorch_model"}.safetensors`, "");
  }
  c.file("cli-memory/sd-v1/tokenizer/vocab.json", JSON.stringify({ "<|startoftext|>": 0, "<|endoftext|>": 1 }));
  c.file("cli-memory/sd-v1/tokenizer/merges.txt", "#version: 0.2\n");
  c.file("cli-memory/sd-v1/scheduler/scheduler_config.json", "{}");
  return dir;
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
  const sd = stableDiffusionConfigs(c);
  return [
    // Stable Diffusion v1's configs at 2048 pixels: refused from the configs alone (the weights files are empty)
    {
      ...add("generate --model <SD v1> --size 2048", [
        "generate",
        "--model",
        sd,
        "a prompt",
        "--size",
        "2048",
        "--out",
        join(cwd, "sd.png"),
      ]),
      cli: {
        argv: ["generate", "--model", sd, "a prompt", "--size", "2048", "--out", join(cwd, "sd.png")],
        cwd,
        stderr: /--size 2048: one tensor of this image would take .* more than the limit of 2\.00 GiB for one tensor/,
      },
    },
    add("generate --model <SD v1> --size 256 --max_memory 1", [
      "generate",
      "--model",
      sd,
      "a prompt",
      "--size",
      "256",
      "--max_memory",
      "1",
      "--out",
      join(cwd, "sd2.png"),
    ]),
    // the commands of text-to-speech, evaluation, quantization and data parallelism given the wrong run or option
    ...(
      [
        ["train", "tacotron2", "--workers", "1000"],
        ["train", "llama", "--workers", "0"],
        ["train", "llama", "--workers", "2", "--strategy", "zero9"],
        ["say", "--checkpoint", join(cwd, "missing-run"), "--text", "hi", "--out", join(cwd, "s1.wav")],
        ["say", "--checkpoint", base.run, "--text", "hi", "--out", join(cwd, "s2.wav")],
        ["say", "--checkpoint", ddpm, "--text", "hi", "--out", join(cwd, "s3.wav")],
        ["eval", "--checkpoint", base.run],
        ["eval", "--checkpoint", ddpm],
        ["quantize", "--model", base.run, "--out", join(cwd, "q.gguf")],
        ["train", "vocoder", "--batch_size", "100000000"],
        ["train", "fastspeech2", "--batch_size", "100000000"],
        ["generate", "--checkpoint", base.run, "--out", join(cwd, "gg.png")],
        ["finetune", "--model", ddpm, "--data", base.data, "--out", join(cwd, "ftx")],
      ] as string[][]
    ).map((argv): Case => ({
      format: "cli (options, outputs, folders)",
      name: argv.map((a) => a.replace(cwd, "…")).join(" "),
      cli: { argv, cwd, stderr: /^wnn: / },
      expect: "error",
    })),
    // numeric options of sample and finetune that had no upper bound
    ...(
      [
        ["sample", "--model", sd, "--beam", "1000000"],
        ["sample", "--checkpoint", base.run, "--top_k", "100000000000"],
        ["sample", "--checkpoint", base.run, "--temperature", "1e300"],
        ["sample", "--checkpoint", base.run, "--seed", "99999999999999"],
        ["sample", "--checkpoint", base.run, "--repetition_penalty", "1e300"],
        ["finetune", "--model", base.run, "--data", base.data, "--r", "1000000000"],
        ["finetune", "--model", base.run, "--data", base.data, "--steps", "100000000000"],
        ["finetune", "--model", base.run, "--data", base.data, "--num_virtual_tokens", "1000000000"],
        ["finetune", "--model", base.run, "--data", base.data, "--bottleneck", "1000000000"],
        ["fill-mask", "--model", sd, "--top_k", "100000000000", "a [MASK]"],
      ] as string[][]
    ).map((argv): Case => ({
      format: "cli (options, outputs, folders)",
      name: `${argv[0]} ${argv.slice(-2).join(" ")}`,
      cli: { argv, cwd, stderr: /must be ≤/ },
      expect: "error",
    })),
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
