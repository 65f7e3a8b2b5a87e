// Modules to save beside a method (PEFT's modules_to_save): they train with every method, the rest stays
// frozen, and with LoRA they go into the PEFT folder under PEFT's names — GPT-2's tied embedding under both of
// its names — and come back bit for bit; a folder our tied GPT-2 cannot hold is refused before the model changes.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError, Generator, LoadError, noGrad, randint, ShapeError, type Tensor } from "../index.js";
import * as optim from "../optim/index.js";
import { assertThrowsWith } from "../../test/harness/assert.js";
import { parseSafetensors, serializeSafetensors } from "../io/safetensors.js";
import { GPT, gptConfig } from "../models/gpt2/model.js";
import { Llama, llamaConfig } from "../models/llama/model.js";
import type { Module } from "../nn/module.js";
import { applyMethod, fromPeft, snapshotFrozen, toPeft, METHODS, type PeftFiles } from "./index.js";

const V = 13,
  C = 16;
const gpt = (): GPT =>
  new GPT(gptConfig({ vocabSize: V, blockSize: 24, nLayer: 2, nHead: 2, nEmbd: C, dropout: 0, bias: true }), {
    generator: new Generator(5),
  });
const llama = (): Llama =>
  new Llama(llamaConfig("tiny", { vocabSize: V, blockSize: 12, nLayer: 2, nHead: 4, nKvHeads: 2, nEmbd: 32 }), {
    generator: new Generator(5),
  });
const idx = randint(0, V, [2, 7], { generator: new Generator(3) });

type LM = Module & { forward(idx: Tensor, targets?: Tensor | null): { logits: Tensor; loss: Tensor | null } };

/** A few AdamW steps on the trainable parameters of a tuned model. */
function steps(model: LM, params: Tensor[], n = 3): void {
  const opt = new optim.AdamW(params as never, { lr: 1e-2 });
  for (let s = 0; s < n; s++) {
    const loss = model.forward(idx.narrow(1, 0, 6), idx.narrow(1, 1, 6)).loss!;
    opt.zeroGrad();
    loss.backward();
    opt.step();
  }
}

test("every method with tokEmb saved: the embedding (tied head) trains beside the method, the rest stays frozen", () => {
  for (const method of METHODS.filter((m) => m !== "full")) {
    const plain = applyMethod(method, gpt(), { r: 2, bottleneck: 4, numVirtualTokens: 2 });
    const base = gpt();
    const E = base.tokEmb.weight; // (V, C), the head's too; prompt tuning wraps its module
    const emb0 = E.storage.slice();
    const ft = applyMethod(method, base, {
      r: 2,
      bottleneck: 4,
      numVirtualTokens: 2,
      modulesToSave: ["tokEmb"],
      generator: new Generator(1),
    });
    const count = (f: typeof ft): number => f.trainable.reduce((n, [, p]) => n + p.numel(), 0);
    assert.equal(count(ft), count(plain) + V * C, `${method}: the method's parameters plus the (V, C) embedding`);
    assert.ok(
      ft.trainable.some(([, p]) => p === E),
      `${method}: tokEmb.weight trains`,
    );
    const frozen = snapshotFrozen(ft.model);
    steps(
      ft.model as LM,
      ft.trainable.map(([, p]) => p),
    );
    for (const [name, p] of ft.model.namedParameters())
      if (frozen.has(name)) assert.deepEqual(p.storage, frozen.get(name), `${method}: ${name} stays frozen`);
    assert.ok(
      E.storage.some((v, i) => v !== emb0[i]),
      `${method}: the embedding moved`,
    );
    assert.equal(base.lmHead.weight, E, `${method}: the head is still the embedding`);
  }
});

test("modulesToSave: an unknown module name throws before the method changes anything", () => {
  const model = gpt();
  assertThrowsWith(
    () => applyMethod("lora", model, { modulesToSave: ["wte"] }),
    ArgumentError,
    /modulesToSave: "wte" names no module/,
    /tokEmb/,
  );
  assert.ok(
    model.parameters().every((p) => p.requiresGrad),
    "nothing frozen",
  );
  assert.equal(model.blocks.at(0).attn.wq.constructor.name, "Linear", "nothing wrapped");
});

/** toPeft → safetensors bytes → fromPeft into a fresh model. */
function viaBytes(files: PeftFiles): PeftFiles {
  const parsed = parseSafetensors(serializeSafetensors(files.tensors, files.metadata));
  return { config: JSON.parse(JSON.stringify(files.config)), tensors: parsed.tensors, metadata: parsed.metadata };
}

function loraWithEmbedding<M extends GPT | Llama>(model: M, saved: string[]): M {
  const ft = applyMethod("lora", model, { r: 2, alpha: 4, modulesToSave: saved, generator: new Generator(1) });
  steps(
    model as LM,
    ft.trainable.map(([, p]) => p),
  );
  return model;
}

test("PEFT folder: LoRA + tokEmb on GPT-2 saves wte and lm_head (the tied matrix) and reads back bit for bit", () => {
  const model = loraWithEmbedding(gpt(), ["tokEmb"]);
  const files = toPeft(model, { baseModelNameOrPath: "gpt2" });
  assert.deepEqual(files.config.modules_to_save, ["lm_head", "wte"]);
  const wte = files.tensors["base_model.model.transformer.wte.weight"]!,
    head = files.tensors["base_model.model.lm_head.weight"]!;
  assert.deepEqual(wte.shape, [V, C]);
  assert.deepEqual(head.storage, model.tokEmb.weight.storage);
  assert.deepEqual(wte.storage, model.tokEmb.weight.storage);
  const back = gpt();
  fromPeft(back, viaBytes(files));
  assert.deepEqual(back.tokEmb.weight.storage, model.tokEmb.weight.storage);
  noGrad(() => assert.deepEqual(back.forward(idx).logits.storage, model.forward(idx).logits.storage));
  // without modules to save the folder holds LoRA alone, as before
  const plain = toPeft(loraWithEmbedding(gpt(), []));
  assert.equal(plain.config.modules_to_save, null);
  assert.ok(Object.keys(plain.tensors).every((k) => k.includes(".lora_")));
});

test("PEFT folder: LLaMA's untied embedding and head are saved under their own names", () => {
  const model = loraWithEmbedding(llama(), ["tokEmb", "lmHead"]);
  const files = toPeft(model);
  assert.deepEqual(files.config.modules_to_save, ["embed_tokens", "lm_head"]);
  assert.deepEqual(files.tensors["base_model.model.model.embed_tokens.weight"]!.storage, model.tokEmb.weight.storage);
  assert.deepEqual(files.tensors["base_model.model.lm_head.weight"]!.storage, model.lmHead.weight.storage);
  const back = llama();
  fromPeft(back, viaBytes(files));
  noGrad(() => assert.deepEqual(back.forward(idx).logits.storage, model.forward(idx).logits.storage));
});

test("PEFT folder: GPT-2 saves that untie wte and lm_head, or have the wrong shape, are refused before the model changes", () => {
  const files = toPeft(loraWithEmbedding(gpt(), ["tokEmb"]));
  const fresh = gpt();
  const emb0 = fresh.tokEmb.weight.storage.slice();
  const only = { ...files, tensors: { ...files.tensors } };
  delete only.tensors["base_model.model.lm_head.weight"];
  assertThrowsWith(() => fromPeft(fresh, only), LoadError, /saves .*wte\.weight but not .*lm_head\.weight/, /ties/);
  const head = files.tensors["base_model.model.lm_head.weight"]!.clone();
  head.storage[0] = head.storage[0]! + 1;
  assertThrowsWith(
    () => fromPeft(fresh, { ...files, tensors: { ...files.tensors, "base_model.model.lm_head.weight": head } }),
    LoadError,
    /differ/,
    /untied/,
  );
  const wide = gpt();
  assertThrowsWith(
    () =>
      fromPeft(wide, {
        ...files,
        tensors: {
          ...files.tensors,
          "base_model.model.transformer.wpe.weight": files.tensors["base_model.model.transformer.wte.weight"]!,
        },
      }),
    ShapeError,
    /transformer\.wpe\.weight has shape/,
  );
  assert.deepEqual(fresh.tokEmb.weight.storage, emb0, "the model is unchanged");
  assert.ok(
    fresh.parameters().every((p) => p.requiresGrad),
    "nothing frozen",
  );
});
