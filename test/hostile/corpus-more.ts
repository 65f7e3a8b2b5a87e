// The hostile-input corpus, continued: the formats that came after the first readers (GGUF, WAV, PEFT and
// diffusers folders), the checkpoints of the other training commands (DDPM, LeNet-5), and the command line's
// other writers and options: every `wnn train <recipe>` option past its bound, output files that exist,
// read-only run folders. Registered in ./corpus.ts's GENERATORS.

import { mkdirSync, writeFileSync } from "node:fs";
import { CharTokenizer } from "../../src/data/char.js";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { tensor } from "../../src/engine/creation.js";
import { Generator } from "../../src/engine/rng.js";
import type { Tensor } from "../../src/engine/tensor.js";
import { serializeCheckpoint, type Checkpoint } from "../../src/io/checkpoint.js";
import { writeDiffusersFolder } from "../../src/io/diffusers-folder.js";
import { quantize } from "../../src/io/ggml/quants.js";
import { serializeGguf, type GgufEntry } from "../../src/io/ggml/gguf.js";
import { joinPlan, planSafetensors } from "../../src/io/safetensors.js";
import { encodeWav } from "../../src/io/wav.js";
import { applyMethod } from "../../src/finetune/methods.js";
import { toPeft } from "../../src/finetune/peft.js";
import { GPT, gptConfig } from "../../src/models/gpt2/model.js";
import { GPTTrainer } from "../../src/models/gpt2/train.js";
import { DDPMTrainer } from "../../src/models/ddpm/train.js";
import { UNet, unetConfig } from "../../src/models/ddpm/unet.js";
import { LeNet5, lenetConfig } from "../../src/models/lenet5/model.js";
import { AutoencoderKL, vaeConfig } from "../../src/models/latent-diffusion/vae.js";
import { CLIPTextModel, clipTextConfig } from "../../src/models/latent-diffusion/clip-text.js";
import { toDiffusers } from "../../src/models/latent-diffusion/diffusers.js";
import { RECIPES, recipeOptions } from "../../cli/recipes.js";
import { GPT_OPTIONS } from "../../cli/gpt.js";
import { DDPM_OPTIONS } from "../../cli/ddpm.js";
import { MNIST_OPTIONS } from "../../cli/mnist.js";
import type { OptionSpecs } from "../../cli/args.js";
import type { Case } from "./run.js";
import { memoryCases } from "./corpus-memory.js";
import { runCheckpointCases } from "./corpus-runs.js";
import type { CaseGenerator, Ctx } from "./corpus.js";

/** Seeded byte edits of a valid file (a few bytes set, set to a syntax character, or flipped; sometimes cut short). */
function mutate(c: Ctx, valid: Uint8Array): Uint8Array {
  const b = valid.slice();
  for (let e = 0; e < 1 + c.g.randint(0, 4); e++) {
    const kind = c.g.randint(0, 3),
      at = c.g.randint(0, b.length);
    if (kind === 0) b[at] = c.g.randint(0, 256);
    else if (kind === 1) b[at] = [0, 1, 0xff, 0x7f, 0x80][c.g.randint(0, 5)]!;
    else b[at]! ^= 1 << c.g.randint(0, 8);
  }
  return c.g.random() < 0.2 ? b.subarray(0, c.g.randint(0, b.length)) : b;
}

/** A little-endian byte writer for hand-made binary files. */
class Bytes {
  private parts: number[] = [];
  u8(x: number): this {
    this.parts.push(x & 255);
    return this;
  }
  u16(x: number): this {
    return this.u8(x).u8(x >>> 8);
  }
  u32(x: number): this {
    return this.u16(x & 0xffff).u16(x >>> 16);
  }
  u64(x: bigint): this {
    return this.u32(Number(x & 0xffffffffn)).u32(Number(x >> 32n));
  }
  ascii(s: string): this {
    for (const ch of s) this.u8(ch.charCodeAt(0));
    return this;
  }
  str(s: string): this {
    return this.u64(BigInt(s.length)).ascii(s);
  }
  zeros(n: number): this {
    for (let i = 0; i < n; i++) this.u8(0);
    return this;
  }
  get bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

// ---------------------------------------------------------------------------------------------------
// GGUF

function ggufCases(c: Ctx): Case[] {
  const cases: Case[] = [];
  const add = (name: string, bytes: Uint8Array | string, expect: Case["expect"] = "error"): void => {
    const p = typeof bytes === "string" ? bytes : c.file(`gguf/${cases.length}.gguf`, bytes);
    cases.push({ format: "gguf", name, lib: { op: "gguf", args: [p] }, expect });
  };
  const meta: [string, GgufEntry][] = [
    ["general.architecture", { type: "string", value: "llama" }],
    ["general.alignment", { type: "u32", value: 32 }],
  ];
  const valid = serializeGguf(meta, [
    { name: "w", type: "Q8_0", ne: [32, 2], data: quantize("Q8_0", new Float32Array(64).fill(0.5)) },
    { name: "b", type: "F32", ne: [4], data: quantize("F32", new Float32Array([1, 2, 3, 4])) },
  ]);
  add("a valid GGUF", valid, "ok");
  add("an empty file", new Uint8Array(0));
  add("3 bytes", Uint8Array.of(0x47, 0x47, 0x55));
  /** a GGUF header: magic, version, tensor count, metadata count, then `rest` */
  const head = (version: number, tensors: bigint, kvs: bigint): Bytes =>
    new Bytes().ascii("GGUF").u32(version).u64(tensors).u64(kvs);
  add("the magic GGUG", new Bytes().ascii("GGUG").u32(3).u64(0n).u64(0n).bytes);
  add("version 2 (an older version llama.cpp also reads)", head(2, 0n, 0n).bytes, "any");
  add("version 4", head(4, 0n, 0n).bytes);
  add("2^63 tensors in a 24-byte file", head(3, 2n ** 63n, 0n).bytes);
  add("2^63 metadata entries", head(3, 0n, 2n ** 63n).bytes);
  add(
    "a key of 2^63 bytes",
    head(3, 0n, 1n)
      .u64(2n ** 63n)
      .ascii("k").bytes,
  );
  add("a key of 70,000 bytes", head(3, 0n, 1n).str("k".repeat(70_000)).u32(4).u32(1).bytes);
  add(
    "a string value of 2^62 bytes",
    head(3, 0n, 1n)
      .str("k")
      .u32(8)
      .u64(2n ** 62n)
      .ascii("x").bytes,
  );
  add(
    "an array of 2^62 u32",
    head(3, 0n, 1n)
      .str("k")
      .u32(9)
      .u32(4)
      .u64(2n ** 62n)
      .u32(1).bytes,
  );
  add(
    "an array of 100,000,000 bools in 40 bytes",
    head(3, 0n, 1n).str("k").u32(9).u32(7).u64(100_000_000n).u8(1).bytes,
  );
  const nest = head(3, 0n, 1n).str("k");
  for (let d = 0; d < 100; d++) nest.u32(9).u32(9).u64(1n);
  add("arrays nested 100 deep", nest.u32(4).u64(1n).u32(1).bytes);
  add("an unknown value type 13", head(3, 0n, 1n).str("k").u32(13).u32(0).bytes);
  add(
    "an unknown value type 2^31",
    head(3, 0n, 1n)
      .str("k")
      .u32(2 ** 31)
      .u32(0).bytes,
  );
  add("a duplicate key", head(3, 0n, 2n).str("k").u32(4).u32(1).str("k").u32(4).u32(2).bytes);
  add("alignment 0", head(3, 0n, 1n).str("general.alignment").u32(4).u32(0).bytes);
  add("alignment 3 (not a power of two)", head(3, 0n, 1n).str("general.alignment").u32(4).u32(3).bytes);
  /** one tensor's info after an empty metadata section, then 64 bytes of data */
  const oneTensor = (name: string, dims: bigint[], type: number, offset: bigint, nDims = dims.length): Uint8Array => {
    const b = head(3, 1n, 0n).str(name).u32(nDims);
    for (const d of dims) b.u64(d);
    b.u32(type).u64(offset);
    const pad = (32 - (b.bytes.length % 32)) % 32;
    return b.zeros(pad + 64).bytes;
  };
  add("a tensor of 5 dims", oneTensor("t", [1n, 1n, 1n, 1n, 1n], 0, 0n));
  add("a tensor of 2^62 × 4 elements", oneTensor("t", [2n ** 62n, 4n], 0, 0n));
  add("a tensor of 2^31 × 2^31 f32 over 64 bytes", oneTensor("t", [2n ** 31n, 2n ** 31n], 0, 0n));
  add("a dim of 0", oneTensor("t", [0n, 4n], 0, 0n), "any");
  add("an unknown tensor type 99", oneTensor("t", [4n], 99, 0n));
  add("a tensor whose data runs past the end", oneTensor("t", [1024n], 0, 0n));
  add("a tensor offset of 2^63", oneTensor("t", [4n], 0, 2n ** 63n));
  add("a misaligned tensor offset", oneTensor("t", [4n], 0, 3n));
  add("a Q8_0 row of 31 values (not whole blocks)", oneTensor("t", [31n], 8, 0n));
  add("a tensor name of 64 bytes", oneTensor("t".repeat(64), [4n], 0, 0n));
  const two = head(3, 2n, 0n).str("t").u32(1).u64(4n).u32(0).u64(0n).str("t").u32(1).u64(4n).u32(0).u64(32n);
  add("a duplicate tensor name", two.zeros(64 + 32).bytes);
  add("a folder named model.gguf", c.dir("gguf/dir.gguf"));
  add("a FIFO named model.gguf", c.fifo("gguf/fifo.gguf"));
  add("/dev/zero", "/dev/zero");
  for (let k = 0; k < 12; k++) add(`mutation ${k} of a valid GGUF`, mutate(c, valid), "any");
  // the model reader on top (the architecture's keys): a valid container without them is refused
  cases.push({
    format: "gguf",
    name: "a valid container that holds no model",
    lib: { op: "gguf-model", args: [join(c.root, "gguf/0.gguf")] },
    expect: "error",
  });
  return cases;
}

// ---------------------------------------------------------------------------------------------------
// WAV

function wavCases(c: Ctx): Case[] {
  const cases: Case[] = [];
  const add = (name: string, bytes: Uint8Array | string, expect: Case["expect"] = "error"): void => {
    const p = typeof bytes === "string" ? bytes : c.file(`wav/${cases.length}.wav`, bytes);
    cases.push({ format: "wav", name, lib: { op: "wav", args: [p] }, expect });
  };
  const valid = encodeWav({
    sampleRate: 16000,
    channels: [Float32Array.from({ length: 64 }, (_, i) => Math.sin(i / 3) * 0.5)],
  });
  add("a valid 16-bit WAV", valid, "ok");
  /** a WAV: RIFF header, then a fmt chunk (format, channels, rate, bits) and a data chunk of `data` bytes (its size field `dataSize`) */
  const wav = (
    o: {
      format?: number;
      channels?: number;
      rate?: number;
      bits?: number;
      align?: number;
      dataSize?: number;
      data?: number;
      riffSize?: number;
      fmtSize?: number;
    } = {},
  ): Uint8Array => {
    const ch = o.channels ?? 1,
      bits = o.bits ?? 16,
      rate = o.rate ?? 16000,
      data = o.data ?? 64;
    const align = o.align ?? (ch * bits) / 8;
    return new Bytes()
      .ascii("RIFF")
      .u32(o.riffSize ?? 36 + data)
      .ascii("WAVE")
      .ascii("fmt ")
      .u32(o.fmtSize ?? 16)
      .u16(o.format ?? 1)
      .u16(ch)
      .u32(rate)
      .u32(rate * align)
      .u16(align)
      .u16(bits)
      .ascii("data")
      .u32(o.dataSize ?? data)
      .zeros(data).bytes;
  };
  add("as written by hand (a baseline)", wav(), "ok");
  add("an empty file", new Uint8Array(0));
  add("RIFF and nothing else", new Bytes().ascii("RIFF").bytes);
  add("RIFF … AVI", new Bytes().ascii("RIFF").u32(4).ascii("AVI ").bytes);
  add("0 channels", wav({ channels: 0, align: 2 }));
  add("65,535 channels", wav({ channels: 65535, align: 2 }));
  add("a sample rate of 0", wav({ rate: 0 }));
  add("a sample rate of 2^32 − 1", wav({ rate: 0xffffffff }));
  add("7 bits per sample", wav({ bits: 7, align: 1 }));
  add("64-bit integer samples", wav({ bits: 64 }));
  add("a block align that disagrees with the channels", wav({ align: 3 }));
  add("format 2 (ADPCM)", wav({ format: 2 }));
  add("format 0xfffe with a 16-byte fmt", wav({ format: 0xfffe }));
  add("32-bit float (format 3)", wav({ format: 3, bits: 32 }), "ok");
  add("a data size of 2^32 − 1 over 64 bytes", wav({ dataSize: 0xffffffff }));
  add("a data size that is not whole frames", wav({ dataSize: 63 }), "any");
  add("a RIFF size of 2^32 − 1", wav({ riffSize: 0xffffffff }), "any");
  add("a fmt chunk of 2^32 − 1 bytes", wav({ fmtSize: 0xffffffff }));
  add("a fmt chunk of 2 bytes", wav({ fmtSize: 2 }));
  add("no fmt chunk", new Bytes().ascii("RIFF").u32(12).ascii("WAVE").ascii("data").u32(0).bytes);
  add(
    "no data chunk",
    new Bytes()
      .ascii("RIFF")
      .u32(28)
      .ascii("WAVE")
      .ascii("fmt ")
      .u32(16)
      .u16(1)
      .u16(1)
      .u32(16000)
      .u32(32000)
      .u16(2)
      .u16(16).bytes,
  );
  const many = new Bytes().ascii("RIFF").u32(0).ascii("WAVE");
  for (let i = 0; i < 200_000; i++) many.ascii("LIST").u32(0);
  add("200,000 empty chunks before fmt", many.bytes);
  add("a folder named voice.wav", c.dir("wav/dir.wav"));
  add("a FIFO named voice.wav", c.fifo("wav/fifo.wav"));
  add("/dev/zero", "/dev/zero");
  for (let k = 0; k < 12; k++) add(`mutation ${k} of a valid WAV`, mutate(c, valid), "any");
  return cases;
}

// ---------------------------------------------------------------------------------------------------
// PEFT (LoRA) folders

function peftCases(c: Ctx): Case[] {
  const cases: Case[] = [];
  const cfg = gptConfig("tiny", { vocabSize: 20, nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 8 });
  const lora = applyMethod("lora", new GPT(cfg, { generator: new Generator(1) }), {
    r: 2,
    alpha: 4,
    generator: new Generator(2),
  });
  const peft = toPeft(lora.model);
  const weights = joinPlan(planSafetensors(peft.tensors, peft.metadata));
  let n = 0;
  const folder = (
    config: unknown,
    st: Uint8Array | "fifo" | "dir" | null = weights,
    configKind: "json" | "fifo" | "dir" = "json",
  ): string => {
    const d = c.dir(`peft/${n++}`);
    if (configKind === "fifo") execFileSync("mkfifo", [join(d, "adapter_config.json")]);
    else if (configKind === "dir") mkdirSync(join(d, "adapter_config.json"));
    else writeFileSync(join(d, "adapter_config.json"), typeof config === "string" ? config : JSON.stringify(config));
    if (st === "fifo") execFileSync("mkfifo", [join(d, "adapter_model.safetensors")]);
    else if (st === "dir") mkdirSync(join(d, "adapter_model.safetensors"));
    else if (st !== null) writeFileSync(join(d, "adapter_model.safetensors"), st);
    return d;
  };
  const add = (name: string, dir: string, expect: Case["expect"] = "error"): void => {
    cases.push({ format: "peft", name, lib: { op: "peft", args: [dir] }, expect });
  };
  const base = peft.config as Record<string, unknown>;
  add("a valid LoRA folder", folder(base), "ok");
  add("adapter_config.json is a FIFO", folder(base, weights, "fifo"));
  add("adapter_config.json is a folder", folder(base, weights, "dir"));
  add("the weights are a FIFO", folder(base, "fifo"));
  add("the weights are a folder", folder(base, "dir"));
  add("no weights", folder(base, null));
  add(
    "only pickle weights",
    (() => {
      const d = folder(base, null);
      writeFileSync(join(d, "adapter_model.bin"), "never opened");
      return d;
    })(),
  );
  add("a config nested 100,000 deep", folder('{"r":' + "[".repeat(100_000) + "]".repeat(100_000) + "}"));
  add("a config that is not JSON", folder("{ r: 2 }"));
  for (const [field, value] of [
    ["r", 0],
    ["r", 1e9],
    ["r", -1],
    ["r", 2.5],
    ["lora_alpha", "NaN"],
    ["lora_alpha", 1e309],
    ["target_modules", ["nowhere"]],
    ["target_modules", 5],
    ["peft_type", "PREFIX_TUNING"],
    ["rank_pattern", { x: 1e9 }],
  ] as const) {
    add(
      `config ${field} = ${JSON.stringify(value)}`,
      folder({ ...base, [field]: value }),
      field === "lora_alpha" || field === "rank_pattern" ? "any" : "error",
    );
  }
  const wrong: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(peft.tensors))
    wrong[k] = tensor(new Float32Array(t.numel() + 2), { shape: [t.numel() + 2] });
  add("LoRA weights of the wrong shapes", folder(base, joinPlan(planSafetensors(wrong))));
  add(
    "LoRA weights holding NaN",
    folder(
      base,
      joinPlan(
        planSafetensors(
          Object.fromEntries(
            Object.entries(peft.tensors).map(([k, t]) => [
              k,
              tensor(new Float32Array(t.numel()).fill(NaN), { shape: t.shape }),
            ]),
          ),
        ),
      ),
    ),
  );
  add("no LoRA weights at all", folder(base, joinPlan(planSafetensors({ other: tensor([1]) }))));
  const fields = Object.keys(base);
  const hostile: unknown[] = [-1, 0, 1e9, 1e300, 2.5, "x", "", null, true, [], {}, [1e9], { a: 1 }];
  for (let k = 0; k < 12; k++) {
    const field = fields[c.g.randint(0, fields.length)]!,
      value = hostile[c.g.randint(0, hostile.length)];
    add(`config mutation ${k}: ${field} = ${JSON.stringify(value)}`, folder({ ...base, [field]: value }), "any");
  }
  for (let k = 0; k < 6; k++) add(`weights mutation ${k}`, folder(base, mutate(c, weights)), "any");
  return cases;
}

// ---------------------------------------------------------------------------------------------------
// diffusers (Stable Diffusion) folders

function diffusersCases(c: Ctx): Case[] {
  const cases: Case[] = [];
  const g = new Generator(0);
  const vocab: Record<string, number> = {
    "<|startoftext|>": 0,
    "<|endoftext|>": 1,
    "a</w>": 2,
    "b</w>": 3,
    a: 4,
    b: 5,
  };
  const nets = {
    unet: new UNet(
      unetConfig("sd-v1-unet", {
        channels: 4,
        channelMult: [1, 2],
        numResBlocks: 1,
        attnLevels: [1],
        groups: 2,
        heads: 2,
        contextDim: 6,
      }),
      { generator: g },
    ),
    vae: new AutoencoderKL(vaeConfig("sd-v1-vae", { channels: [4, 8], layersPerBlock: 1, groups: 2 }), {
      generator: g,
    }),
    textEncoder: new CLIPTextModel(
      clipTextConfig("clip-vit-l-14-text", {
        vocabSize: 6,
        maxPositions: 8,
        width: 6,
        layers: 1,
        heads: 2,
        mlpWidth: 12,
      }),
      { generator: g },
    ),
  };
  const files = toDiffusers(nets);
  let n = 0;
  const folder = (edit: (d: string) => void = () => {}): string => {
    const d = c.dir(`sd/${n++}`);
    writeDiffusersFolder(d, {
      ...files,
      tokenizer: { vocab, merges: "#version: 0.2\n" },
      scheduler: { num_train_timesteps: 1000, beta_schedule: "scaled_linear", beta_start: 0.00085, beta_end: 0.012 },
    });
    edit(d);
    return d;
  };
  const add = (name: string, dir: string, expect: Case["expect"] = "error"): void => {
    cases.push({ format: "diffusers", name, lib: { op: "diffusers", args: [dir] }, expect });
  };
  const replace =
    (what: "fifo" | "dir", rel: string) =>
    (d: string): void => {
      execFileSync("rm", ["-rf", join(d, rel)]);
      if (what === "dir") mkdirSync(join(d, rel));
      else execFileSync("mkfifo", [join(d, rel)]);
    };
  const json =
    (rel: string, v: unknown) =>
    (d: string): void =>
      writeFileSync(join(d, rel), typeof v === "string" ? v : JSON.stringify(v));
  add("a valid tiny pipeline", folder(), "ok");
  for (const rel of [
    "unet/config.json",
    "unet/diffusion_pytorch_model.safetensors",
    "vae/config.json",
    "text_encoder/model.safetensors",
    "tokenizer/vocab.json",
    "tokenizer/merges.txt",
    "scheduler/scheduler_config.json",
  ]) {
    add(`${rel} is a FIFO`, folder(replace("fifo", rel)));
    add(`${rel} is a folder`, folder(replace("dir", rel)));
  }
  add(
    "unet holds only pickle weights",
    folder((d) => {
      execFileSync("rm", ["-f", join(d, "unet/diffusion_pytorch_model.safetensors")]);
      writeFileSync(join(d, "unet/diffusion_pytorch_model.bin"), "never opened");
    }),
  );
  add(
    "no text_encoder",
    folder((d) => execFileSync("rm", ["-rf", join(d, "text_encoder")])),
  );
  const unetCfg = files.unet.config as Record<string, unknown>;
  for (const [field, value] of [
    ["block_out_channels", [1_000_000, 2_000_000]],
    ["layers_per_block", 1e6],
    ["cross_attention_dim", 1e9],
    ["in_channels", 0],
    ["norm_num_groups", 3],
    ["attention_head_dim", -1],
    ["block_out_channels", "wide"],
  ] as const) {
    add(
      `unet config ${field} = ${JSON.stringify(value)}`,
      folder(json("unet/config.json", { ...unetCfg, [field]: value })),
    );
  }
  add(
    "unet config nested 100,000 deep",
    folder(json("unet/config.json", '{"a":' + "[".repeat(100_000) + "]".repeat(100_000) + "}")),
  );
  add("a vocabulary of 10^9 ids", folder(json("tokenizer/vocab.json", { ...vocab, huge: 1e9 })), "any");
  add(
    "a scheduler of 10^8 timesteps",
    folder(json("scheduler/scheduler_config.json", { num_train_timesteps: 1e8, beta_schedule: "scaled_linear" })),
  );
  add(
    "a scheduler of 10^12 timesteps",
    folder(json("scheduler/scheduler_config.json", { num_train_timesteps: 1e12, beta_schedule: "scaled_linear" })),
  );
  const fields = Object.keys(unetCfg);
  const hostile: unknown[] = [-1, 0, 1e9, 2.5, "x", null, true, [], {}, [1e9]];
  for (let k = 0; k < 10; k++) {
    const field = fields[c.g.randint(0, fields.length)]!,
      value = hostile[c.g.randint(0, hostile.length)];
    add(
      `unet config mutation ${k}: ${field} = ${JSON.stringify(value)}`,
      folder(json("unet/config.json", { ...unetCfg, [field]: value })),
      "any",
    );
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------------
// the checkpoints of `wnn train ddpm` and `wnn train cnn`

function ddpmCheckpointCases(c: Ctx): Case[] {
  const cases: Case[] = [];
  const digits = { images: new Float32Array(4 * 784).fill(0.5), labels: Int32Array.of(0, 1, 2, 3), count: 4 };
  const trainer = new DDPMTrainer(
    unetConfig("ddpm-mnist", { channels: 8 }),
    {},
    { steps: 10, batchSize: 2, seed: 1 },
    digits,
  );
  trainer.trainStep();
  const ckpt = trainer.checkpoint();
  const edited = (edit: (k: Checkpoint & { config: any }) => void): Uint8Array => {
    const k = { ...ckpt, config: JSON.parse(JSON.stringify(ckpt.config)), model: { ...ckpt.model } };
    edit(k);
    return serializeCheckpoint(k);
  };
  const add = (name: string, bytes: Uint8Array, expect: Case["expect"] = "error"): void => {
    cases.push({
      format: "checkpoint (ddpm, cnn)",
      name,
      lib: { op: "ddpm-checkpoint", args: [c.file(`ckpt-ddpm/${cases.length}.safetensors`, bytes)] },
      expect,
    });
  };
  add("a valid DDPM checkpoint", serializeCheckpoint(ckpt), "ok");
  for (const [field, value] of [
    ["channels", 1e6],
    ["channels", 4096],
    ["numResBlocks", 1e6],
    ["heads", 0],
    ["numClasses", 1e9],
    ["channelMult", [1, 64, 64, 64]],
    ["channelMult", Array(100).fill(1)],
    ["groups", "8"],
  ] as const) {
    add(
      `unet.${field} = ${JSON.stringify(value).slice(0, 30)} (valid checksum)`,
      edited((k) => void (k.config.unet[field] = value)),
    );
  }
  for (const [field, value] of [
    ["steps", 0],
    ["steps", 1e12],
    ["batchSize", 1e9],
    ["lr", -1],
    ["seed", -1],
  ] as const) {
    add(
      `train.${field} = ${value} (valid checksum)`,
      edited((k) => void (k.config.train[field] = value)),
    );
  }
  add(
    "step 1e9 of a 10-step run",
    edited((k) => void (k.step = 1e9)),
  );
  add(
    "config.kind = gpt",
    edited((k) => void (k.config.kind = "gpt")),
  );
  add(
    "no optimizer state",
    edited((k) => void delete (k as Partial<Checkpoint>).optimizer),
  );
  add(
    "a missing weight",
    edited((k) => void delete k.model[Object.keys(k.model)[0]!]),
  );
  add(
    "a NaN weight",
    edited((k) => {
      const [name, t] = Object.entries(k.model)[0]!;
      k.model[name] = tensor(new Float32Array(t.numel()).fill(NaN), { shape: t.shape });
    }),
  );
  // LeNet-5 runs, read by `wnn generate --judge`
  const lenet = new LeNet5(lenetConfig("lenet5"), { generator: new Generator(0) });
  const cnn = (config: Record<string, unknown>, name: string, expect: Case["expect"] = "error"): void => {
    const p = c.file(
      `ckpt-ddpm/cnn-${cases.length}.safetensors`,
      serializeCheckpoint({
        model: lenet.stateDict(),
        step: 5,
        config: { kind: "cnn", c1: 6, c3: 16, ...config } as Checkpoint["config"],
      }),
    );
    cases.push({ format: "checkpoint (ddpm, cnn)", name, lib: { op: "cnn-checkpoint", args: [p] }, expect });
  };
  cnn({}, "a valid LeNet-5 checkpoint", "ok");
  cnn({ c1: 1e6 }, "LeNet-5 with c1 = 1e6 (valid checksum)");
  cnn({ c1: 4096, c3: 4096 }, "LeNet-5 with c1 = c3 = 4096, more than the file holds");
  cnn({ c3: "16" }, 'LeNet-5 with c3 = "16"');
  cnn({ kind: "mlp" }, "an MLP run given as a LeNet-5");
  return cases;
}

// ---------------------------------------------------------------------------------------------------
// the command line: recipe options past their bounds, outputs that exist, read-only folders, DDPM runs

function cliMoreCases(c: Ctx): Case[] {
  const cases: Case[] = [];
  const cwd = c.dir("cli-more");
  const add = (
    name: string,
    argv: string[],
    expect: Case["expect"] = "error",
    extra: Partial<Case> = {},
    stderr?: RegExp,
  ): void => {
    cases.push({
      format: "cli (options, outputs, folders)",
      name,
      cli: { argv, cwd, ...(stderr ? { stderr } : {}) },
      expect,
      ...extra,
    });
  };
  // every `wnn train` command: its largest size option one past its bound
  const commands: [string, OptionSpecs][] = [
    ["gpt", GPT_OPTIONS],
    ["ddpm", DDPM_OPTIONS],
    ["mlp", MNIST_OPTIONS.mlp],
    ["cnn", MNIST_OPTIONS.cnn],
    ...RECIPES.map((r) => [r.name, recipeOptions(r)] as [string, OptionSpecs]),
  ];
  for (const [name, specs] of commands) {
    const numeric = Object.entries(specs).filter(
      ([, s]) => (s.kind === "int" || s.kind === "number") && s.max !== undefined,
    );
    const [opt, spec] = numeric.reduce((a, b) =>
      b[1].max! / Math.max(1, Math.abs(Number(b[1].default ?? 1))) <
      a[1].max! / Math.max(1, Math.abs(Number(a[1].default ?? 1)))
        ? b
        : a,
    );
    add(
      `train ${name} --${opt} past its bound (${spec.max})`,
      ["train", name, `--${opt}`, String(spec.max! * 10 + 1)],
      "error",
      {},
      /must be ≤/,
    );
  }
  // outputs that exist: never replaced
  const mine = c.file("cli-more/mine.md", "my notes\n");
  const png = c.file("cli-more/mine.png", "not yours\n");
  const gguf = c.file("cli-more/mine.gguf", "not yours\n");
  const full = c.dir("cli-more/full");
  const kept = c.file("cli-more/full/notes.txt", "keep me\n");
  add(
    "compare --out an existing file",
    ["compare", "gpt2", "llama", "--out", mine],
    "error",
    { keep: [mine] },
    /exists/,
  );
  add("compare --out /dev/null", ["compare", "gpt2", "--out", "/dev/null"]);
  add("compare --out a path under a file", ["compare", "gpt2", "--out", join(mine, "x.md")], "error", { keep: [mine] });
  add("compare --out in a missing folder", ["compare", "gpt2", "--out", join(cwd, "nowhere/x.md")]);
  add(
    "generate --out an existing file",
    ["generate", "--checkpoint", join(cwd, "missing-run"), "--out", png],
    "error",
    { keep: [png] },
    /exists/,
  );
  add(
    "generate --model --out an existing file",
    ["generate", "--model", join(cwd, "missing-sd"), "a prompt", "--out", png],
    "error",
    { keep: [png] },
    /exists/,
  );
  add(
    "quantize --out an existing file",
    ["quantize", "--model", join(cwd, "missing-hf"), "--out", gguf],
    "error",
    { keep: [gguf] },
    /exists/,
  );
  add("quantize --out /proc/x.gguf", ["quantize", "--model", join(cwd, "missing-hf"), "--out", "/proc/x.gguf"]);
  add(
    "finetune --out a folder holding files",
    ["finetune", "--model", join(cwd, "missing-base"), "--data", mine, "--out", full],
    "error",
    { keep: [kept] },
    /not empty/,
  );
  add("finetune --data a FIFO", [
    "finetune",
    "--model",
    join(cwd, "missing-base"),
    "--data",
    c.fifo("cli-more/data-fifo"),
    "--out",
    join(cwd, "ft-out"),
  ]);
  add("sample --model a GGUF that is a FIFO", ["sample", "--model", c.fifo("cli-more/fifo.gguf")]);
  // DDPM runs: hostile checkpoints for --resume and generate
  const digits = { images: new Float32Array(4 * 784).fill(0.5), labels: Int32Array.of(0, 1, 2, 3), count: 4 };
  const trainer = new DDPMTrainer(
    unetConfig("ddpm-mnist", { channels: 8 }),
    {},
    { steps: 10, batchSize: 2, seed: 1 },
    digits,
  );
  const ckpt = trainer.checkpoint();
  const run = (name: string, edit: (k: any) => void = () => {}): string => {
    const d = c.dir(`cli-more/ddpm-${name}`);
    const k = { ...ckpt, config: JSON.parse(JSON.stringify(ckpt.config)), model: { ...ckpt.model } };
    edit(k);
    writeFileSync(join(d, "checkpoint.safetensors"), serializeCheckpoint(k));
    return d;
  };
  const nan = run("nan", (k) => {
    const [name, t] = Object.entries(k.model as Record<string, Tensor>)[0]!;
    k.model[name] = tensor(new Float32Array(t.numel()).fill(NaN), { shape: t.shape });
  });
  add("train ddpm --resume NaN weights: refused", ["train", "ddpm", "--resume", nan], "error", {}, /NaN or infinite/);
  add(
    "generate from NaN weights: a warning naming them",
    ["generate", "--checkpoint", nan, "--digit", "1", "--n", "1", "--steps", "1", "--out", join(cwd, "nan.png")],
    "ok",
    {},
    /warning: .*NaN or infinite/,
  );
  add(
    "generate --strict from NaN weights: refused",
    ["generate", "--checkpoint", nan, "--strict", "--out", join(cwd, "nan2.png")],
    "error",
    {},
    /NaN or infinite/,
  );
  for (const [name, edit] of [
    ["channels 1e6", (k: any) => (k.config.unet.channels = 1e6)],
    ["step 1e9", (k: any) => (k.step = 1e9)],
    ["train.steps 0", (k: any) => (k.config.train.steps = 0)],
  ] as const) {
    const d = run(name.replace(/\W/g, "-"), edit);
    add(`train ddpm --resume a checkpoint with ${name} (valid checksum)`, ["train", "ddpm", "--resume", d]);
    add(`generate --checkpoint a checkpoint with ${name} (valid checksum)`, [
      "generate",
      "--checkpoint",
      d,
      "--out",
      join(cwd, `${name.replace(/\W/g, "-")}.png`),
    ]);
  }
  // read-only folders (./run.ts: as the user nobody when run as root, by chmod otherwise)
  const gptRun = (() => {
    const text = "call me ishmael. ".repeat(40);
    const tok = CharTokenizer.fromText(text);
    const cfg = gptConfig("tiny", { vocabSize: tok.vocabSize, nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 8 });
    const t = Int32Array.from(tok.encode(text));
    const tr = new GPTTrainer(
      cfg,
      {
        batchSize: 2,
        lr: 1e-3,
        minLr: 1e-4,
        warmupIters: 1,
        lrDecayIters: 20,
        iters: 20,
        evalInterval: 100,
        evalIters: 1,
        weightDecay: 0.1,
        beta1: 0.9,
        beta2: 0.99,
        gradClip: 1,
        seed: 1,
      },
      { train: t, val: t },
    );
    const d = c.dir("cli-more/ro-gpt");
    writeFileSync(
      join(d, "checkpoint.safetensors"),
      serializeCheckpoint(tr.checkpoint({ dataset: "moby-dick", split: 0.9, tokenizer: tok.toJSON() })),
    );
    return d;
  })();
  const ddpmRo = run("ro");
  const roParent = c.dir("cli-more/ro-parent");
  add(
    "train gpt --resume a read-only run folder",
    ["train", "gpt", "--resume", gptRun],
    "error",
    { readOnly: [gptRun], keep: [join(gptRun, "checkpoint.safetensors")] },
    /cannot write|permission denied|read-only/,
  );
  add(
    "train ddpm --resume a read-only run folder",
    ["train", "ddpm", "--resume", ddpmRo],
    "error",
    { readOnly: [ddpmRo], keep: [join(ddpmRo, "checkpoint.safetensors")] },
    /cannot write|permission denied|read-only/,
  );
  add(
    "train gpt --out under an unwritable parent",
    ["train", "gpt", "--out", join(roParent, "run")],
    "error",
    { readOnly: [roParent] },
    /cannot write|permission denied/,
  );
  add(
    "train bengio-mlp --out under an unwritable parent",
    ["train", "bengio-mlp", "--out", join(roParent, "run")],
    "error",
    { readOnly: [roParent] },
    /cannot write|permission denied/,
  );
  add(
    "compare --out in an unwritable folder",
    ["compare", "gpt2", "--out", join(roParent, "table.md")],
    "error",
    { readOnly: [roParent] },
    /cannot write|permission denied/,
  );
  add(
    "generate --out in an unwritable folder",
    ["generate", "--checkpoint", ddpmRo, "--out", join(roParent, "x.png")],
    "error",
    { readOnly: [roParent] },
    /cannot write|permission denied/,
  );
  add(
    "finetune --out under an unwritable parent",
    ["finetune", "--model", gptRun, "--data", mine, "--out", join(roParent, "ft")],
    "error",
    { readOnly: [roParent] },
    /cannot write|permission denied/,
  );
  return cases;
}

export const MORE_GENERATORS: Record<string, CaseGenerator> = {
  gguf: ggufCases,
  wav: wavCases,
  peft: peftCases,
  diffusers: diffusersCases,
  "checkpoint (ddpm, cnn)": ddpmCheckpointCases,
  "cli (options, outputs, folders)": cliMoreCases,
  "cli (memory)": memoryCases,
  "run checkpoints (ddpm, ldm, tts)": runCheckpointCases,
};
