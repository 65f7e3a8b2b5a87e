// Every method against the PyTorch reference (tools/fixtures/finetune.py → test/fixtures/finetune.json):
// the wrapped tiny GPT-2 and BERT with the fixture's method parameters give PyTorch's logits and loss, and
// the gradient of the loss with respect to every method parameter (the base is frozen: no gradient there).

import { readFileSync } from "../../test/harness/files.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, type Tensor } from "../index.js";
import { assertClose } from "../../test/harness/assert.js";
import { fromJson, type TensorJson } from "../../test/harness/fixtures.js";
import { fromGPT2Checkpoint, GPT, gptConfig } from "../models/gpt2/model.js";
import { BertForMaskedLM, bertConfig, fromBertCheckpoint } from "../models/bert/model.js";
import type { Module } from "../nn/module.js";
import { fromT5Checkpoint, T5, t5Config } from "../models/t5/model.js";
import {
  applyAdapters,
  applyEncoderPrefixTuning,
  applyEncoderPromptTuning,
  applyIA3,
  applyLora,
  applyPrefixTuning,
  applyPromptTuning,
  type Finetuned,
} from "./index.js";

interface MethodCase {
  params: Record<string, TensorJson>;
  logits: TensorJson;
  loss: number;
  grads: Record<string, TensorJson>;
}
interface Fixture {
  gpt2: {
    config: Record<string, number | boolean>;
    state: Record<string, TensorJson>;
    idx: TensorJson;
    targets: TensorJson;
    methods: Record<string, MethodCase>;
  };
  bert: {
    config: Record<string, number | boolean>;
    state: Record<string, TensorJson>;
    idx: TensorJson;
    labels: TensorJson;
    padded_mask: TensorJson;
    methods: Record<string, MethodCase>;
  };
  t5: {
    config: Record<string, number | string | boolean>;
    state: Record<string, TensorJson>;
    input_ids: TensorJson;
    attention_mask: TensorJson;
    decoder_input_ids: TensorJson;
    labels: TensorJson;
    methods: Record<string, MethodCase>;
  };
}

const fx = JSON.parse(
  readFileSync(new URL("../../../test/fixtures/finetune.json", import.meta.url), "utf8"),
) as Fixture;
const values = (o: Record<string, TensorJson>): Record<string, Tensor> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fromJson(v)]));

function gpt(): GPT {
  const c = fx.gpt2.config as Record<string, number>;
  const config = gptConfig({
    vocabSize: c.vocab_size!,
    blockSize: c.block_size!,
    nLayer: c.n_layer!,
    nHead: c.n_head!,
    nEmbd: c.n_embd!,
    dropout: 0,
    bias: true,
  });
  const model = new GPT(config, { generator: new Generator(0) });
  model.loadStateDict(fromGPT2Checkpoint(values(fx.gpt2.state), config));
  return model;
}

function bert(): BertForMaskedLM {
  const c = fx.bert.config as Record<string, number>;
  const model = new BertForMaskedLM(
    bertConfig({
      vocabSize: c.vocab_size!,
      maxPositions: c.max_positions!,
      typeVocabSize: c.type_vocab_size!,
      nLayer: c.n_layer!,
      nHead: c.n_head!,
      dModel: c.d_model!,
      dFF: c.d_ff!,
      dropout: 0,
      layerNormEps: c.layer_norm_eps!,
      padId: c.pad_id!,
    }),
    { generator: new Generator(0) },
  );
  model.loadStateDict(fromBertCheckpoint(values(fx.bert.state), model));
  return model;
}

/** Put the fixture's method parameters into the wrapped model, run `loss`, compare with PyTorch. */
function check(
  ft: Finetuned<Module>,
  c: MethodCase,
  run: (m: Module) => { logits: Tensor; loss: Tensor | null },
  what: string,
): void {
  const own = new Map(ft.trainable);
  assert.deepEqual(
    [...own.keys()].sort(),
    Object.keys(c.params).sort(),
    `${what}: the trainable parameters are PyTorch's method parameters`,
  );
  for (const [name, t] of Object.entries(values(c.params))) own.get(name)!.storage.set(t.storage);
  const { logits, loss } = run(ft.model);
  assertClose(logits, fromJson(c.logits), { atol: 1e-4, rtol: 0 }, `${what} logits`);
  assert.ok(Math.abs(loss!.item() - c.loss) <= 1e-5, `${what}: loss ${loss!.item()} vs PyTorch ${c.loss}`);
  loss!.backward();
  for (const [name, g] of Object.entries(values(c.grads)))
    assertClose(own.get(name)!.grad!, g, { rtol: 1e-3, atol: 1e-5 }, `${what}: d loss/d ${name}`);
  for (const [name, p] of ft.model.namedParameters())
    if (!p.requiresGrad) assert.equal(p.grad, null, `${what}: the frozen ${name} got no gradient`);
}

const g = new Generator(1);
const T = (): Tensor => fromJson(fx.gpt2.idx);
const lm = (m: Module): { logits: Tensor; loss: Tensor | null } => (m as GPT).forward(T(), fromJson(fx.gpt2.targets));
const targets3 = ["attn.wq", "attn.wv", "mlp.down"];

test("GPT-2 + LoRA (r 2, α 4 on wq, wv, mlp.down) matches PyTorch: logits, loss, dA and dB", () => {
  check(
    applyLora(gpt(), { r: 2, alpha: 4, targetModules: targets3, generator: g }),
    fx.gpt2.methods.lora!,
    lm,
    "GPT-2 LoRA",
  );
});

test("GPT-2 + Houlsby adapters matches PyTorch", () => {
  check(applyAdapters(gpt(), { bottleneck: 3, generator: g }), fx.gpt2.methods.adapter!, lm, "GPT-2 adapter");
});

test("GPT-2 + (IA)³ matches PyTorch", () => {
  check(applyIA3(gpt()), fx.gpt2.methods.ia3!, lm, "GPT-2 IA3");
});

test("GPT-2 + prefix tuning through the reparameterisation MLP matches PyTorch", () => {
  check(
    applyPrefixTuning(gpt(), { numVirtualTokens: 3, hidden: 8, generator: g }),
    fx.gpt2.methods.prefix!,
    lm,
    "GPT-2 prefix",
  );
});

test("GPT-2 + prompt tuning matches PyTorch", () => {
  check(applyPromptTuning(gpt(), { numVirtualTokens: 3, generator: g }), fx.gpt2.methods.prompt!, lm, "GPT-2 prompt");
});

const mlm = (m: Module): { logits: Tensor; loss: Tensor | null } =>
  (m as BertForMaskedLM).forward(fromJson(fx.bert.idx), { targets: fromJson(fx.bert.labels) });

test("BERT + LoRA matches PyTorch", () => {
  check(
    applyLora(bert(), { r: 2, alpha: 4, targetModules: targets3, generator: g }),
    fx.bert.methods.lora!,
    mlm,
    "BERT LoRA",
  );
});

test("BERT + Houlsby adapters (inside the post-LN residual branch) matches PyTorch", () => {
  check(applyAdapters(bert(), { bottleneck: 3, generator: g }), fx.bert.methods.adapter!, mlm, "BERT adapter");
});

test("BERT + (IA)³ matches PyTorch", () => {
  check(applyIA3(bert()), fx.bert.methods.ia3!, mlm, "BERT IA3");
});

// prefix and prompt tuning of the encoders: a batch whose row 0 ends in two padding tokens
const mlmPadded = (m: Module): { logits: Tensor; loss: Tensor | null } =>
  (m as BertForMaskedLM).forward(fromJson(fx.bert.idx), {
    targets: fromJson(fx.bert.labels),
    attentionMask: fromJson(fx.bert.padded_mask),
  });

test("BERT + prefix tuning (every self-attention, the prefix never masked) matches PyTorch", () => {
  check(
    applyEncoderPrefixTuning(bert(), { numVirtualTokens: 3, hidden: 8, generator: g }),
    fx.bert.methods.prefix!,
    mlmPadded,
    "BERT prefix",
  );
});

test("BERT + prompt tuning (the prompt before [CLS], positions 0…n+T−1) matches PyTorch", () => {
  check(
    applyEncoderPromptTuning(bert(), { numVirtualTokens: 3, generator: g }),
    fx.bert.methods.prompt!,
    mlmPadded,
    "BERT prompt",
  );
});

function t5(): T5 {
  const c = fx.t5.config as Record<string, never>;
  const config = t5Config({
    vocabSize: c.vocab_size!,
    nEncoderLayer: c.n_encoder_layer!,
    nDecoderLayer: c.n_decoder_layer!,
    nHead: c.n_head!,
    dModel: c.d_model!,
    dKv: c.d_kv!,
    dFF: c.d_ff!,
    numBuckets: c.num_buckets!,
    maxDistance: c.max_distance!,
    dropout: 0,
    eps: c.eps!,
    feedForward: c.feed_forward!,
    tieHead: c.tie_head!,
    padId: 0,
    eosId: 1,
    decoderStartId: 0,
  });
  const model = new T5(config, { generator: new Generator(0) });
  model.loadStateDict(fromT5Checkpoint(values(fx.t5.state), config));
  return model;
}

const seq2seq = (m: Module): { logits: Tensor; loss: Tensor | null } =>
  (m as T5).forward(fromJson(fx.t5.input_ids), fromJson(fx.t5.decoder_input_ids), {
    attentionMask: fromJson(fx.t5.attention_mask),
    targets: fromJson(fx.t5.labels),
  });

test("T5 + prefix tuning (encoder self-attention, decoder self- and cross-attention) matches PyTorch", () => {
  check(
    applyEncoderPrefixTuning(t5(), { numVirtualTokens: 3, hidden: 8, generator: g }),
    fx.t5.methods.prefix!,
    seq2seq,
    "T5 prefix",
  );
});

test("T5 + prompt tuning (the prompt before the encoder's input) matches PyTorch", () => {
  check(
    applyEncoderPromptTuning(t5(), { numVirtualTokens: 3, generator: g }),
    fx.t5.methods.prompt!,
    seq2seq,
    "T5 prompt",
  );
});
