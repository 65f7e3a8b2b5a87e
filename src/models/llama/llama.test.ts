// LLaMA: parity with the PyTorch reference (tools/fixtures/llama.py), the KV cache against the full
// forward, overfitting one batch, the parameter count, the weight map, Meta's RoPE layout.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Generator,
  noGrad,
  Tensor,
  tensor,
  randint,
  randn,
  ArgumentError,
  DTypeError,
  ShapeError,
} from "../../index.js";
import {
  cachedForwardEqualsFull,
  cachedGenerationEqualsRecomputed,
  matchesFixture,
  overfitsOneBatch,
} from "../../../test/harness/decoder.js";
import { assertClose, assertThrowsWith } from "../../../test/harness/assert.js";
import { fromJson, tensorsOf, type TensorJson, readModelFixture } from "../../../test/harness/fixtures.js";
import * as optim from "../../optim/index.js";
import { parseSafetensors, serializeSafetensors } from "../../io/safetensors.js";
import {
  countParameters,
  fromLlamaCheckpoint,
  fromMetaRotaryLayout,
  intermediateSize,
  Llama,
  llamaConfig,
  PRESETS,
  toLlamaCheckpoint,
  type LlamaConfig,
} from "./model.js";
import { applyRotary, rotaryTables } from "../../nn/rotary.js";

// -----------------------------------------------------------------------------------------------------
// The fixture

interface LlamaFixture {
  config: {
    vocab_size: number;
    block_size: number;
    n_layer: number;
    n_heads: number;
    n_kv_heads: number;
    dim: number;
    multiple_of: number;
    norm_eps: number;
    rope_theta: number;
    hidden_dim: number;
  };
  state: Record<string, TensorJson>;
  meta_wq0: TensorJson;
  meta_wk0: TensorJson;
  idx: TensorJson;
  targets: TensorJson;
  logits: TensorJson;
  loss: number;
  grads: Record<string, TensorJson>;
  adamw: {
    lr: number;
    betas: [number, number];
    eps: number;
    weight_decay: number;
    losses: number[];
    final_loss: number;
  };
}

const fx = readModelFixture<LlamaFixture>("llama");
const fxConfig: LlamaConfig = llamaConfig({
  vocabSize: fx.config.vocab_size,
  blockSize: fx.config.block_size,
  nLayer: fx.config.n_layer,
  nHead: fx.config.n_heads,
  nKvHeads: fx.config.n_kv_heads,
  nEmbd: fx.config.dim,
  intermediateSize: null,
  multipleOf: fx.config.multiple_of,
  normEps: fx.config.norm_eps,
  ropeTheta: fx.config.rope_theta,
  dropout: 0,
});

/** Our model holding the fixture's weights, loaded through the weight map. */
function fixtureModel(): Llama {
  const model = new Llama(fxConfig, { generator: new Generator(0) });
  model.loadStateDict(fromLlamaCheckpoint(tensorsOf(fx.state), fxConfig));
  return model;
}

/** AdamW with weight decay on the 2-D parameters (matmul weights, embedding, head) only. */
function groupedAdamW(
  model: Llama,
  lr: number,
  betas: [number, number],
  eps: number,
  weightDecay: number,
): optim.AdamW {
  const params = model.parameters();
  return new optim.AdamW(
    [
      { params: params.filter((p) => p.ndim >= 2), weightDecay },
      { params: params.filter((p) => p.ndim < 2), weightDecay: 0 },
    ],
    { lr, betas, eps },
  );
}

// -----------------------------------------------------------------------------------------------------
// Parity with PyTorch

test("LLaMA (GQA: 4 query heads, 2 kv heads) matches the PyTorch reference: logits, loss, every parameter gradient", () => {
  assert.ok(fxConfig.nKvHeads < fxConfig.nHead);
  assert.equal(intermediateSize(fxConfig), fx.config.hidden_dim); // Meta's rounding rule, both sides: 42 → 48
  matchesFixture(
    fixtureModel(),
    fx,
    (s) => fromLlamaCheckpoint(s, fxConfig),
    (s) => toLlamaCheckpoint(s, fxConfig),
  );
});

test("LLaMA matches the PyTorch reference over 5 AdamW steps", () => {
  const model = fixtureModel();
  const { lr, betas, eps, weight_decay } = fx.adamw;
  const opt = groupedAdamW(model, lr, betas, eps, weight_decay);
  const idx = fromJson(fx.idx),
    targets = fromJson(fx.targets);
  const losses: number[] = [];
  for (let step = 0; step < fx.adamw.losses.length; step++) {
    model.zeroGrad();
    const { loss } = model.forward(idx, targets);
    losses.push(loss!.item());
    loss!.backward();
    opt.step();
  }
  const final = noGrad(() => model.forward(idx, targets).loss!.item());
  assertClose([...losses, final], [...fx.adamw.losses, fx.adamw.final_loss], { atol: 1e-4, rtol: 0 }, "AdamW losses");
});

// -----------------------------------------------------------------------------------------------------
// RoPE and Meta's layout

test("RoPE: q·kᵀ after rotation depends only on the distance between the positions", () => {
  const hs = 8,
    g = new Generator(20);
  const q = randn([1, 1, 1, hs], { generator: g }),
    k = randn([1, 1, 1, hs], { generator: g });
  const score = (m: number, n: number): number =>
    noGrad(() => {
      const a = rotaryTables(m, 1, hs, 10000),
        b = rotaryTables(n, 1, hs, 10000);
      return applyRotary(q, a.cos, a.sin)
        .mul(applyRotary(k, b.cos, b.sin))
        .sum()
        .item();
    });
  assertClose(
    [score(5, 2), score(13, 10), score(3, 0)],
    [score(103, 100), score(103, 100), score(103, 100)],
    { atol: 1e-4, rtol: 0 },
    "scores at distance 3",
  );
  assert.ok(Math.abs(score(5, 2) - score(5, 1)) > 1e-3, "a different distance gives a different score");
  // a rotation keeps the norm
  const { cos, sin } = rotaryTables(7, 1, hs, 10000);
  assertClose(
    [applyRotary(q, cos, sin).pow(2).sum().item()],
    [q.pow(2).sum().item()],
    { atol: 1e-5, rtol: 1e-5 },
    "|Rq|² = |q|²",
  );
});

test("fromMetaRotaryLayout turns Meta's interleaved wq/wk rows into the HF layout of the fixture", () => {
  const hfWq = fx.state["model.layers.0.self_attn.q_proj.weight"]!,
    hfWk = fx.state["model.layers.0.self_attn.k_proj.weight"]!;
  const wq = fromMetaRotaryLayout(fromJson(fx.meta_wq0), fxConfig.nHead);
  const wk = fromMetaRotaryLayout(fromJson(fx.meta_wk0), fxConfig.nKvHeads);
  assert.deepEqual(
    [...wq.storage],
    hfWq.data.map((x) => Math.fround(x as number)),
  );
  assert.deepEqual(
    [...wk.storage],
    hfWk.data.map((x) => Math.fround(x as number)),
  );
  assert.notDeepEqual(
    [...fromJson(fx.meta_wq0).storage],
    hfWq.data.map((x) => Math.fround(x as number)),
    "the two layouts differ",
  );
});

// -----------------------------------------------------------------------------------------------------
// Overfitting one batch

test("LLaMA overfits one batch", () => {
  const config = llamaConfig("tiny", {
    vocabSize: 17,
    blockSize: 16,
    nLayer: 2,
    nHead: 4,
    nKvHeads: 2,
    nEmbd: 32,
    multipleOf: 16,
  });
  const model = new Llama(config, { generator: new Generator(3) });
  overfitsOneBatch(model, groupedAdamW(model, 1e-2, [0.9, 0.99], 1e-8, 0)); // measured: 40 steps
});

// -----------------------------------------------------------------------------------------------------
// The KV cache

test("the KV-cached forward equals the full forward at every step; the cache holds nKvHeads heads", () => {
  const config = llamaConfig("tiny", {
    vocabSize: 13,
    blockSize: 12,
    nLayer: 2,
    nHead: 4,
    nKvHeads: 2,
    nEmbd: 16,
    multipleOf: 8,
  });
  const model = new Llama(config, { generator: new Generator(5) }).eval();
  cachedForwardEqualsFull(model, config.nLayer, {
    blockSize: 12,
    inspect: (cache, when) =>
      when === "prompt"
        ? assert.deepEqual([...cache.layers[1]!.k!.shape], [2, 2, 3, 4], "(B, nkv, P, hs)")
        : assert.deepEqual([...cache.layers[0]!.v!.shape], [2, 2, 12, 4]),
  });
});

test("generate: the KV cache gives the tokens of the recomputed window, past blockSize, greedy and sampled", () => {
  const config = llamaConfig("tiny", {
    vocabSize: 13,
    blockSize: 8,
    nLayer: 2,
    nHead: 4,
    nKvHeads: 1,
    nEmbd: 16,
    multipleOf: 8,
  });
  const model = new Llama(config, { generator: new Generator(7) });
  cachedGenerationEqualsRecomputed(model, 14, [
    { temperature: 0 },
    { temperature: 1 },
    { temperature: 0.8, topK: 4 },
    { temperature: 1.2, topP: 0.9 },
  ]);
  const prompt = randint(0, 13, [2, 3], { generator: new Generator(8) });
  assertThrowsWith(() => model.generate(prompt, 2, { topP: 0 }), ArgumentError, /topP must be in \(0, 1\], got 0/);
});

test("generate: greedy decoding takes the argmax of the full forward at every step", () => {
  const config = llamaConfig("tiny", {
    vocabSize: 13,
    blockSize: 16,
    nLayer: 1,
    nHead: 2,
    nKvHeads: 2,
    nEmbd: 16,
    multipleOf: 8,
  });
  const model = new Llama(config, { generator: new Generator(10) }).eval();
  const out = model.generate(tensor([[1, 2]], { dtype: "int32" }), 6, { temperature: 0 });
  noGrad(() => {
    for (let t = 2; t < 8; t++) {
      const logits = model
        .forward(out.narrow(1, 0, t))
        .logits.narrow(1, t - 1, 1)
        .reshape(13); // (V)
      assert.equal(out.storage[t], logits.argmax().item(), `token ${t}`);
    }
  });
});

// -----------------------------------------------------------------------------------------------------
// Parameter count

test("the llama-2-7b preset has 6,738,415,616 parameters (counted, nothing allocated); the count equals the allocated model's", () => {
  const c7 = llamaConfig("llama-2-7b");
  assert.equal(
    intermediateSize(llamaConfig(c7, { intermediateSize: null })),
    11008,
    "Meta's rule gives the published 11008",
  );
  assert.equal(countParameters(c7), 6_738_415_616);
  assert.equal(countParameters(c7, { nonEmbedding: true }), 6_738_415_616 - 32000 * 4096);
  for (const c of [
    fxConfig,
    llamaConfig("tiny"),
    llamaConfig("tiny", { nLayer: 3, nEmbd: 24, nHead: 6, nKvHeads: 3, vocabSize: 7, intermediateSize: 50 }),
  ]) {
    const model = new Llama(c, { generator: new Generator(0) });
    assert.equal(model.numParameters(), countParameters(c));
    assert.equal(model.numParameters({ nonEmbedding: true }), countParameters(c, { nonEmbedding: true }));
  }
  // the fixture's PyTorch model counted its own parameters
  assert.equal(
    countParameters(fxConfig),
    Object.values(fx.state).reduce((n, t) => n + t.data.length, 0),
  );
});

test("the head is untied: lmHead has a weight of its own, listed as a parameter", () => {
  const model = new Llama(fxConfig, { generator: new Generator(0) });
  assert.notEqual(model.lmHead.weight, model.tokEmb.weight);
  const names = model.namedParameters().map(([n]) => n);
  assert.ok(names.includes("tokEmb.weight") && names.includes("lmHead.weight"));
  assert.ok(!names.some((n) => n.endsWith(".bias")), "no biases");
});

// -----------------------------------------------------------------------------------------------------
// Config and init

test("configs are frozen and checked", () => {
  const c = llamaConfig("tiny", { vocabSize: 80 });
  assert.ok(Object.isFrozen(c) && Object.isFrozen(PRESETS["llama-2-7b"]));
  assert.equal(c.vocabSize, 80);
  assert.equal(intermediateSize(c), 352); // 32·⌈341/32⌉
  assertThrowsWith(() => llamaConfig("tiny", { nHead: 3 }), ArgumentError, /nEmbd 128 must be a multiple of nHead 3/);
  assertThrowsWith(
    () => llamaConfig("tiny", { nKvHeads: 3 }),
    ArgumentError,
    /nHead 4 must be a multiple of nKvHeads 3/,
  );
  assertThrowsWith(
    () => llamaConfig("tiny", { nEmbd: 12, nHead: 4 }),
    ArgumentError,
    /head size nEmbd\/nHead = 3 must be even/,
  );
  assertThrowsWith(() => llamaConfig("llama-3" as "tiny"), ArgumentError, /unknown preset "llama-3"/);
  const model = new Llama(fxConfig, { generator: new Generator(0) });
  assertThrowsWith(
    () => model.forward(tensor([[1, 2]])),
    DTypeError,
    /idx must be int32 token ids, got float32 \(1,2\)/,
  );
  assertThrowsWith(
    () => model.forward(randint(0, 11, [4])),
    ShapeError,
    /idx must be \(B, T\) token ids, got shape \(4\)/,
  );
  assertThrowsWith(() => model.forward(randint(0, 11, [1, 9])), ShapeError, /9 tokens exceed blockSize 8/);
  assertThrowsWith(() => model.forward(randint(0, 11, [1, 4]), randint(0, 11, [1, 5])), ShapeError, /targets \(1,5\)/);
});

test("init: every matrix N(0, 0.02) (no residual scaling), unit RMSNorm gains; seeded", () => {
  const c = llamaConfig("tiny", { vocabSize: 64, nLayer: 2, nHead: 2, nKvHeads: 2, nEmbd: 64 });
  const a = new Llama(c, { generator: new Generator(1) }),
    b = new Llama(c, { generator: new Generator(1) });
  for (const [name, t] of Object.entries(a.stateDict()))
    assert.deepEqual(t.storage, b.stateDict()[name]!.storage, name);
  const std = (t: Tensor): number => Math.sqrt(Array.from(t.storage).reduce((s, x) => s + x * x, 0) / t.numel());
  const block = a.blocks.at(1);
  for (const t of [
    a.tokEmb.weight,
    a.lmHead.weight,
    block.attn.wq.weight,
    block.attn.wo.weight,
    block.mlp.gate.weight,
    block.mlp.down.weight,
  ]) {
    assert.ok(Math.abs(std(t) / 0.02 - 1) < 0.05, `std ${std(t)}`);
  }
  assert.ok(block.norm1.weight!.storage.every((x) => x === 1) && a.normF.weight!.storage.every((x) => x === 1));
});

// -----------------------------------------------------------------------------------------------------
// Weight map

test("weight map: our names ↔ HF LlamaForCausalLM names and shapes, both ways, checked", () => {
  const model = new Llama(fxConfig, { generator: new Generator(12) });
  const ours = model.stateDict();
  const theirs = toLlamaCheckpoint(ours, fxConfig);
  // the names and shapes of the PyTorch reference, written in HF's layout
  assert.deepEqual(Object.keys(theirs).sort(), Object.keys(fx.state).sort());
  for (const [k, t] of Object.entries(theirs)) assert.deepEqual([...t.shape], fx.state[k]!.shape, k);
  assert.deepEqual([...theirs["model.layers.1.self_attn.k_proj.weight"]!.shape], [8, 16], "k_proj (nkv·hs, C)");
  const back = fromLlamaCheckpoint(theirs, fxConfig);
  assert.deepEqual(Object.keys(back).sort(), Object.keys(ours).sort());
  for (const [k, t] of Object.entries(back)) {
    assert.deepEqual([...t.shape], [...ours[k]!.shape], k);
    assert.deepEqual(t.storage, ours[k]!.storage, k);
  }
  // older HF files carry rotary_emb.inv_freq buffers: skipped
  const fresh = new Llama(fxConfig, { generator: new Generator(13) });
  fresh.loadStateDict(
    fromLlamaCheckpoint({ ...theirs, "model.layers.0.self_attn.rotary_emb.inv_freq": tensor([1, 0.01]) }, fxConfig),
  );
  for (const [k, t] of Object.entries(fresh.stateDict())) assert.deepEqual(t.storage, ours[k]!.storage, k);
  assertThrowsWith(
    () => fromLlamaCheckpoint({ ...theirs, "model.layers.2.input_layernorm.weight": tensor([1]) }, fxConfig),
    ArgumentError,
    /unexpected keys.*layers\.2\.input_layernorm/,
  );
  const { ["lm_head.weight"]: _, ...missing } = theirs;
  assertThrowsWith(() => fromLlamaCheckpoint(missing, fxConfig), ArgumentError, /missing key lm_head\.weight/);
  const wrongKv = {
    ...theirs,
    "model.layers.0.self_attn.k_proj.weight": theirs["model.layers.0.self_attn.q_proj.weight"]!,
  };
  assertThrowsWith(
    () => fromLlamaCheckpoint(wrongKv, fxConfig),
    ShapeError,
    /k_proj\.weight has shape \(16,16\), this config needs \(8,16\)/,
  );
});

test("a tiny HF-layout safetensors checkpoint: written, read back, loaded through the map, gives the same logits", () => {
  const model = new Llama(fxConfig, { generator: new Generator(14) }).eval();
  const bytes = serializeSafetensors(toLlamaCheckpoint(model.stateDict(), fxConfig), { format: "pt" });
  const { tensors } = parseSafetensors(bytes);
  assert.ok("model.layers.1.mlp.gate_proj.weight" in tensors && "lm_head.weight" in tensors);
  const loaded = new Llama(fxConfig, { generator: new Generator(15) }).eval();
  loaded.loadStateDict(fromLlamaCheckpoint(tensors, fxConfig));
  const idx = randint(0, 11, [2, 8], { generator: new Generator(16) });
  noGrad(() => assert.deepEqual(loaded.forward(idx).logits.storage, model.forward(idx).logits.storage));
});
