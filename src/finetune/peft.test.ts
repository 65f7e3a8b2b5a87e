// LoRA adapters in PEFT's folder format: the round trip keeps every tensor bit for bit, a fused c_attn
// LoRA as PEFT trains it on GPT-2 gives PyTorch's logits, and a folder for another architecture or with
// wrong shapes is refused before the model changes.

import { readFileSync } from "../../test/harness/files.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, LoadError, noGrad, randint, ShapeError, type Tensor } from "../index.js";
import { assertClose, assertThrowsWith } from "../../test/harness/assert.js";
import { fromJson, type TensorJson } from "../../test/harness/fixtures.js";
import { parseSafetensors, serializeSafetensors } from "../io/safetensors.js";
import { fromGPT2Checkpoint, GPT, gptConfig } from "../models/gpt2/model.js";
import { Llama, llamaConfig } from "../models/llama/model.js";
import * as optim from "../optim/index.js";
import { fromPretrained } from "../models/hf.js";
import { applyLora, fromPeft, loraLayers, toPeft } from "./index.js";

const g = (): Generator => new Generator(5);
const gpt = (): GPT =>
  new GPT(gptConfig({ vocabSize: 13, blockSize: 12, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true }), {
    generator: g(),
  });
const llama = (): Llama =>
  new Llama(llamaConfig("tiny", { vocabSize: 13, blockSize: 12, nLayer: 2, nHead: 4, nKvHeads: 2, nEmbd: 32 }), {
    generator: g(),
  });
const idx = randint(0, 13, [2, 6], { generator: new Generator(3) });

/** A few AdamW steps so that B ≠ 0. */
function trained<M extends GPT | Llama>(model: M, targets: string[], r: number): M {
  const ft = applyLora(model, { r, alpha: 2 * r, targetModules: targets, generator: g() });
  const opt = new optim.AdamW(
    ft.trainable.map(([, p]) => p),
    { lr: 1e-2 },
  );
  for (let s = 0; s < 3; s++) {
    const loss = model.forward(idx.narrow(1, 0, 5), idx.narrow(1, 1, 5)).loss!;
    loss.backward();
    opt.step();
    opt.zeroGrad();
  }
  return model;
}

/** toPeft → safetensors bytes → parse → fromPeft into a fresh model with the same base weights. */
function roundTrip<M extends GPT | Llama>(
  model: M,
  fresh: () => M,
): { back: M; bytes: Uint8Array; config: Record<string, unknown> } {
  const files = toPeft(model, { baseModelNameOrPath: "gpt2" });
  const bytes = serializeSafetensors(files.tensors, files.metadata);
  const parsed = parseSafetensors(bytes);
  const back = fresh();
  fromPeft(back, {
    config: JSON.parse(JSON.stringify(files.config)) as Record<string, unknown>,
    tensors: parsed.tensors,
    metadata: parsed.metadata,
  });
  return { back, bytes, config: files.config };
}

for (const [name, make, targets] of [
  ["GPT-2 (q, v fused into c_attn; mlp.down)", gpt, ["attn.wq", "attn.wv", "mlp.down"]],
  ["GPT-2 (q, k, v, wo, up)", gpt, ["wq", "wk", "wv", "wo", "up"]],
  ["LLaMA (q, k, v, o, gate, up, down)", llama, ["wq", "wk", "wv", "wo", "gate", "up", "down"]],
] as const) {
  test(`PEFT round trip, ${name}: every LoRA tensor bit for bit, the same logits, the same file again`, () => {
    const model = trained(make() as GPT | Llama, [...targets], 3);
    const { back, bytes } = roundTrip(model, make as () => GPT | Llama);
    const a = loraLayers(model),
      b = loraLayers(back);
    assert.deepEqual(
      b.map(([p]) => p),
      a.map(([p]) => p),
    );
    a.forEach(([path, m], i) => {
      const n = b[i]![1];
      assert.equal(n.r, m.r, `${path} r`);
      assert.equal(n.scaling, m.scaling, `${path} α/r`);
      assert.deepEqual(n.loraA.storage, m.loraA.storage, `${path} A`);
      assert.deepEqual(n.loraB.storage, m.loraB.storage, `${path} B`);
    });
    assert.deepEqual(
      noGrad(() => back.forward(idx).logits.storage),
      noGrad(() => model.forward(idx).logits.storage),
    );
    const again = toPeft(back, { baseModelNameOrPath: "gpt2" });
    assert.deepEqual(
      serializeSafetensors(again.tensors, again.metadata),
      bytes,
      "the file written again is byte-identical",
    );
  });
}

test("PEFT config and keys: peft_type, r, lora_alpha, target_modules, base model, PEFT's key names and shapes", () => {
  const files = toPeft(trained(gpt(), ["attn.wq", "attn.wv"], 4), { baseModelNameOrPath: "gpt2" });
  assert.equal(files.config.peft_type, "LORA");
  assert.equal(files.config.r, 4);
  assert.equal(files.config.lora_alpha, 8);
  assert.deepEqual(files.config.target_modules, ["c_attn"]);
  // GPT-2's attention and feed-forward both have a c_proj: PEFT matches suffixes, so the feed-forward's is named in full
  assert.deepEqual(toPeft(trained(gpt(), ["attn.wq", "mlp.down"], 2)).config.target_modules, ["c_attn", "mlp.c_proj"]);
  assert.equal(files.config.base_model_name_or_path, "gpt2");
  assert.equal(files.config.fan_in_fan_out, true);
  // q and v stacked: rank 8, α 16 on c_attn, keeping α/r = 2
  assert.deepEqual(files.config.rank_pattern, { "transformer.h.0.attn.c_attn": 8, "transformer.h.1.attn.c_attn": 8 });
  assert.deepEqual(files.config.alpha_pattern, {
    "transformer.h.0.attn.c_attn": 16,
    "transformer.h.1.attn.c_attn": 16,
  });
  assert.deepEqual(Object.keys(files.tensors).sort(), [
    "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight",
    "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight",
    "base_model.model.transformer.h.1.attn.c_attn.lora_A.weight",
    "base_model.model.transformer.h.1.attn.c_attn.lora_B.weight",
  ]);
  assert.deepEqual(files.tensors["base_model.model.transformer.h.0.attn.c_attn.lora_A.weight"]!.shape, [8, 16]);
  assert.deepEqual(files.tensors["base_model.model.transformer.h.0.attn.c_attn.lora_B.weight"]!.shape, [48, 8]);
});

test("a fused c_attn LoRA as PEFT trains it on GPT-2 gives PyTorch's logits", () => {
  const fx = JSON.parse(readFileSync(new URL("../../../test/fixtures/finetune.json", import.meta.url), "utf8")) as {
    gpt2: {
      config: Record<string, number>;
      state: Record<string, TensorJson>;
      idx: TensorJson;
      targets: TensorJson;
      peft_c_attn: {
        config: Record<string, unknown>;
        tensors: Record<string, TensorJson>;
        logits: TensorJson;
        loss: number;
      };
    };
  };
  const c = fx.gpt2.config;
  const config = gptConfig({
    vocabSize: c.vocab_size!,
    blockSize: c.block_size!,
    nLayer: c.n_layer!,
    nHead: c.n_head!,
    nEmbd: c.n_embd!,
    dropout: 0,
    bias: true,
  });
  const model = new GPT(config, { generator: g() });
  const values = (o: Record<string, TensorJson>): Record<string, Tensor> =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fromJson(v)]));
  model.loadStateDict(fromGPT2Checkpoint(values(fx.gpt2.state), config));
  const made = fromPeft(model, { config: fx.gpt2.peft_c_attn.config, tensors: values(fx.gpt2.peft_c_attn.tensors) });
  assert.equal(made.length, 6, "wq, wk, wv of each of the 2 blocks");
  const out = model.forward(fromJson(fx.gpt2.idx), fromJson(fx.gpt2.targets));
  assertClose(out.logits, fromJson(fx.gpt2.peft_c_attn.logits), { atol: 1e-4, rtol: 0 }, "logits");
  assert.ok(Math.abs(out.loss!.item() - fx.gpt2.peft_c_attn.loss) < 1e-5);
});

test("PEFT bad input: another architecture, wrong shapes, not LoRA — a typed error and the model unchanged", () => {
  const llamaFiles = toPeft(trained(llama(), ["wq", "wv"], 2));
  const m = gpt();
  const keys = Object.keys(m.stateDict());
  assertThrowsWith(
    () => fromPeft(m, llamaFiles),
    LoadError,
    /model\.layers\.0\.self_attn\.q_proj/,
    /another architecture/,
  );
  const gptFiles = toPeft(trained(gpt(), ["wq", "wv"], 2));
  const bad = { ...gptFiles, tensors: { ...gptFiles.tensors } };
  bad.tensors["base_model.model.transformer.h.1.attn.c_attn.lora_A.weight"] = randint(0, 2, [4, 15]).float();
  assertThrowsWith(
    () => fromPeft(m, bad),
    ShapeError,
    /transformer\.h\.1\.attn\.c_attn\.lora_A\.weight/,
    /\(4,15\)/,
    /\(4, 16\)/,
  );
  assertThrowsWith(
    () => fromPeft(m, { ...gptFiles, config: { ...gptFiles.config, peft_type: "PREFIX_TUNING" } }),
    LoadError,
    /PREFIX_TUNING/,
  );
  assertThrowsWith(
    () => fromPeft(m, { ...gptFiles, config: { ...gptFiles.config, r: 0 } }),
    LoadError,
    /r must be a positive number/,
  );
  assert.deepEqual(Object.keys(m.stateDict()), keys, "no module was wrapped");
  assert.ok(
    m.parameters().every((p) => p.requiresGrad),
    "nothing was frozen",
  );
});

// The folders our code wrote (tools/fixtures/peft_lora_folders.mjs), read by tools/fixtures/peft_lora.py, which
// applies the adapter as PEFT documents it (PEFT itself cannot be installed here): the same logits, unmerged and merged.
for (const fam of ["gpt2", "llama", "gpt2-saved", "llama-saved"] as const) {
  test(`PEFT's documented LoRA format, ${fam}: PyTorch applying our adapter folder gives our logits`, () => {
    const at = (f: string): URL => new URL(`../../../test/fixtures/peft/${fam}/${f}`, import.meta.url);
    const ref = (
      JSON.parse(readFileSync(new URL("../../../test/fixtures/peft_lora.json", import.meta.url), "utf8")) as Record<
        string,
        {
          lora_modules: string[];
          saved: string[];
          targeted_without_weights: string[];
          logits: TensorJson;
          merged_logits: TensorJson;
          base_logits: TensorJson;
        }
      >
    )[fam]!;
    const base = fromPretrained({
      config: JSON.parse(readFileSync(at("config.json"), "utf8")) as Record<string, unknown>,
      tensors: parseSafetensors(readFileSync(at("model.safetensors"))).tensors,
    });
    const model = base.model as GPT | Llama;
    const input = JSON.parse(readFileSync(at("inputs.json"), "utf8")) as { idx: { shape: number[]; data: number[] } };
    const idx = fromJson({ ...input.idx, dtype: "int32" });
    assertClose(
      noGrad(() => model.forward(idx).logits),
      fromJson(ref.base_logits),
      { atol: 1e-4, rtol: 0 },
      `${fam}: the base`,
    );
    const adapter = parseSafetensors(readFileSync(at("adapter_model.safetensors")));
    fromPeft(model, {
      config: JSON.parse(readFileSync(at("adapter_config.json"), "utf8")) as Record<string, unknown>,
      tensors: adapter.tensors,
      metadata: adapter.metadata,
    });
    assert.deepEqual(ref.targeted_without_weights, [], "target_modules names no module the file has no weights for");
    assert.ok(ref.lora_modules.length > 0);
    // modules_to_save: PyTorch replaced these base weights by the folder's (GPT-2: wte and its own copy of lm_head)
    assert.deepEqual(
      ref.saved,
      {
        gpt2: [],
        llama: [],
        "gpt2-saved": ["lm_head.weight", "transformer.wte.weight"],
        "llama-saved": ["lm_head.weight", "model.embed_tokens.weight"],
      }[fam],
    );
    const ours = noGrad(() => model.forward(idx).logits);
    assertClose(
      ours,
      fromJson(ref.logits),
      { atol: 1e-4, rtol: 0 },
      `${fam}: with the adapter (PEFT's unmerged forward)`,
    );
    assertClose(
      ours,
      fromJson(ref.merged_logits),
      { atol: 1e-4, rtol: 0 },
      `${fam}: with the adapter merged (fan_in_fan_out ${fam.startsWith("gpt2")})`,
    );
    assert.ok(maxAbsDiff(ours, fromJson(ref.base_logits)) > 1e-2, "the adapter changes the output");
  });
}

function maxAbsDiff(a: Tensor, b: Tensor): number {
  let d = 0;
  for (let i = 0; i < a.storage.length; i++) d = Math.max(d, Math.abs(a.storage[i]! - b.storage[i]!));
  return d;
}
