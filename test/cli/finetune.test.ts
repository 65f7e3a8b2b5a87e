// `wnn finetune` and `wnn sample --adapter`, run as a user runs them, on a GPT trained for a few steps: every
// method trains from the command line and writes its folder; the base checkpoint is not touched; sampling
// with the adapter is reproducible and differs from the base; a LoRA folder is PEFT's; bad input is refused.

import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { BPETokenizer } from "../../src/data/bpe.js";
import { parseSafetensors } from "../../src/io/safetensors.js";
import { Generator } from "../../src/engine/rng.js";
import { writeHFFolder } from "../../src/io/hf-folder.js";
import { GPT, gptConfig } from "../../src/models/gpt2/model.js";
import { toHFFiles } from "../../src/models/hf.js";

const WNN = fileURLToPath(new URL("../../cli/wnn.js", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "wnn-finetune-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function wnn(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [WNN, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const base = join(tmp, "base");
const data = join(tmp, "notes.txt");

test("wnn finetune: every method trains on a text file and writes its folder; wnn sample --adapter reads it", () => {
  const trained = wnn(
    "train",
    "gpt",
    "--n_layer",
    "1",
    "--n_embd",
    "32",
    "--block_size",
    "24",
    "--batch_size",
    "4",
    "--iters",
    "10",
    "--eval_interval",
    "10",
    "--eval_iters",
    "1",
    "--warmup_iters",
    "2",
    "--out",
    base,
  );
  assert.equal(trained.code, 0, trained.stderr);
  writeFileSync(data, "the whale, the sea, the ship and the captain. ".repeat(40));
  const before = readFileSync(join(base, "checkpoint.safetensors"));
  const plain = wnn("sample", "--checkpoint", base, "--prompt", "the ", "--tokens", "12", "--seed", "3");
  for (const method of ["full", "lora", "adapter", "adapter-pfeiffer", "prefix", "prompt", "bitfit", "ia3"]) {
    const out = join(tmp, method);
    const r = wnn(
      "finetune",
      "--model",
      base,
      "--method",
      method,
      "--data",
      data,
      "--steps",
      "4",
      "--batch_size",
      "2",
      "--block_size",
      "12",
      "--num_virtual_tokens",
      "3",
      "--out",
      out,
    );
    assert.equal(r.code, 0, `${method}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^${method}: [\\d,]+ trainable parameters of [\\d,]+`), method);
    assert.ok(
      existsSync(join(out, method === "lora" ? "adapter_model.safetensors" : "finetune.safetensors")),
      `${method} wrote its weights`,
    );
    const a = wnn(
      "sample",
      "--checkpoint",
      base,
      "--adapter",
      out,
      "--prompt",
      "the ",
      "--tokens",
      "12",
      "--seed",
      "3",
    );
    assert.equal(a.code, 0, `${method} sample: ${a.stderr}`);
    if (method === "prefix") {
      const b = wnn(
        "sample",
        "--checkpoint",
        base,
        "--adapter",
        out,
        "--prompt",
        "the ",
        "--tokens",
        "12",
        "--seed",
        "3",
      );
      assert.equal(a.stdout, b.stdout, `${method}: the same seed, the same text`);
    }
    assert.ok(a.stdout.startsWith("the "), `${method}: the prompt, then the sample`);
    if (method !== "lora") assert.notEqual(a.stdout, plain.stdout, `${method}: the adapter changes the sample`); // LoRA starts at ΔW = 0 and moves little in 4 steps
  }
  const config = JSON.parse(readFileSync(join(tmp, "lora", "adapter_config.json"), "utf8")) as Record<string, unknown>;
  assert.equal(config.peft_type, "LORA");
  assert.deepEqual(config.target_modules, ["c_attn"]);
  assert.deepEqual(readFileSync(join(base, "checkpoint.safetensors")), before, "the base checkpoint is untouched");
});

test("wnn finetune: bad input is a usage error naming the problem", () => {
  const r = wnn(
    "finetune",
    "--model",
    base,
    "--method",
    "lora",
    "--data",
    data,
    "--steps",
    "2",
    "--target_modules",
    "attn.q_proj",
    "--out",
    join(tmp, "bad"),
  );
  assert.equal(r.code, 1);
  assert.match(r.stderr, /target module "attn\.q_proj" matches no module/);
  assert.ok(!existsSync(join(tmp, "bad")), "nothing written");
  const q = wnn("finetune", "--model", base, "--method", "qlora", "--data", data, "--out", join(tmp, "bad"));
  assert.equal(q.code, 2);
  const s = wnn("sample", "--checkpoint", base, "--adapter", join(tmp, "nothing-here"));
  assert.equal(s.code, 1);
  assert.match(s.stderr, /neither adapter_config\.json/);
});

test("wnn finetune --modules_to_save tokEmb: the embedding trains beside the method, is saved (PEFT's names for LoRA) and sampled with", () => {
  const baseEmb = parseSafetensors(readFileSync(join(base, "checkpoint.safetensors"))).tensors["model.tokEmb.weight"]!;
  for (const method of ["lora", "bitfit", "prefix"]) {
    const out = join(tmp, `${method}-emb`);
    const r = wnn(
      "finetune",
      "--model",
      base,
      "--method",
      method,
      "--modules_to_save",
      "tokEmb",
      "--data",
      data,
      "--steps",
      "3",
      "--batch_size",
      "2",
      "--block_size",
      "12",
      "--num_virtual_tokens",
      "3",
      "--out",
      out,
    );
    assert.equal(r.code, 0, `${method}: ${r.stderr}`);
    const saved =
      method === "lora"
        ? parseSafetensors(readFileSync(join(out, "adapter_model.safetensors"))).tensors
        : parseSafetensors(readFileSync(join(out, "finetune.safetensors"))).tensors;
    const names =
      method === "lora"
        ? ["base_model.model.transformer.wte.weight", "base_model.model.lm_head.weight"]
        : [method === "prefix" ? "base.tokEmb.weight" : "tokEmb.weight"];
    for (const name of names) {
      const t = saved[name];
      assert.ok(t, `${method}: ${name} saved (has ${Object.keys(saved).join(", ")})`);
      assert.deepEqual(t.shape, baseEmb.shape);
      assert.ok(
        t.storage.some((v, i) => v !== baseEmb.storage[i]),
        `${method}: ${name} trained`,
      );
    }
    if (method === "lora") {
      const config = JSON.parse(readFileSync(join(out, "adapter_config.json"), "utf8")) as Record<string, unknown>;
      assert.deepEqual(config.modules_to_save, ["lm_head", "wte"]);
    }
    const sample = (): string =>
      wnn("sample", "--checkpoint", base, "--adapter", out, "--prompt", "the ", "--tokens", "8", "--seed", "3").stdout;
    const a = sample();
    assert.ok(a.startsWith("the "), `${method}: ${a}`);
  }
});

test("wnn finetune on a Hugging Face GPT-2 folder: LoRA --merge writes a plain HF folder that samples as the adapter does", () => {
  const corpus = [
    "Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse,",
  ];
  const bpe = BPETokenizer.train(corpus, 256 + 20, { specialTokens: ["</s>"] });
  const c = gptConfig({
    vocabSize: bpe.vocabSize,
    blockSize: 32,
    nLayer: 1,
    nHead: 2,
    nEmbd: 16,
    dropout: 0,
    bias: true,
  });
  const dir = join(tmp, "hf-gpt2");
  const files = toHFFiles("gpt2", new GPT(c, { generator: new Generator(2) }), c);
  writeHFFolder(dir, {
    config: files.config,
    tensors: files.tensors,
    tokenizerJSON: JSON.parse(JSON.stringify(bpe)) as object,
  });
  writeFileSync(data, corpus[0]!.repeat(20));
  const out = join(tmp, "hf-lora");
  const r = wnn(
    "finetune",
    "--model",
    dir,
    "--method",
    "lora",
    "--target_modules",
    "attn.wq,attn.wv,mlp.down",
    "--data",
    data,
    "--steps",
    "5",
    "--batch_size",
    "2",
    "--block_size",
    "16",
    "--lr",
    "0.05",
    "--merge",
    "true",
    "--out",
    out,
  );
  assert.equal(r.code, 0, r.stderr);
  for (const f of [
    "adapter_config.json",
    "adapter_model.safetensors",
    "merged/config.json",
    "merged/model.safetensors",
    "merged/tokenizer.json",
  ])
    assert.ok(existsSync(join(out, f)), f);
  const args = ["--prompt", "Call me", "--tokens", "8", "--temperature", "0"];
  const withAdapter = wnn("sample", "--model", dir, "--adapter", out, ...args);
  const merged = wnn("sample", "--model", join(out, "merged"), ...args);
  const plain = wnn("sample", "--model", dir, ...args);
  assert.equal(withAdapter.code, 0, withAdapter.stderr);
  assert.equal(merged.stdout, withAdapter.stdout, "the merged folder generates what the base + adapter generate");
  assert.notEqual(withAdapter.stdout, plain.stdout, "the adapter changed the model");
});
