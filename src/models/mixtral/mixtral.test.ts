// Mixtral: parity with the PyTorch reference (tools/fixtures/mixtral.py: logits, cross-entropy, the
// load-balancing loss, the experts chosen, every gradient, AdamW steps), the KV cache against the full
// forward, generation, overfitting one batch, the preset's parameter count on the shape-only model, the
// weight map and a Hugging Face folder round trip.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, meta, noGrad, tensor, randint, ArgumentError, ShapeError } from "../../index.js";
import {
  cachedForwardEqualsFull,
  cachedGenerationEqualsRecomputed,
  overfitsOneBatch,
} from "../../../test/harness/decoder.js";
import { assertClose, assertThrowsWith } from "../../../test/harness/assert.js";
import { fromJson, tensorsOf, type TensorJson, readModelFixture } from "../../../test/harness/fixtures.js";
import * as optim from "../../optim/index.js";
import { fromPretrained, toHFFiles } from "../hf.js";
import { parseSafetensors, serializeSafetensors } from "../../io/safetensors.js";
import {
  countParameters,
  describe,
  fromMixtralCheckpoint,
  Mixtral,
  mixtralConfig,
  PRESETS,
  toMixtralCheckpoint,
  type MixtralConfig,
} from "./model.js";

// -----------------------------------------------------------------------------------------------------
// The fixture

interface MixtralFixture {
  config: {
    vocab_size: number;
    block_size: number;
    n_layer: number;
    n_heads: number;
    n_kv_heads: number;
    dim: number;
    hidden_dim: number;
    n_experts: number;
    top_k: number;
    aux_coef: number;
    norm_eps: number;
    rope_theta: number;
  };
  state: Record<string, TensorJson>;
  idx: TensorJson;
  targets: TensorJson;
  logits: TensorJson;
  ce: number;
  aux: number;
  loss: number;
  expert_of: TensorJson;
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

const fx = readModelFixture<MixtralFixture>("mixtral");
const fxConfig: MixtralConfig = mixtralConfig({
  vocabSize: fx.config.vocab_size,
  blockSize: fx.config.block_size,
  nLayer: fx.config.n_layer,
  nHead: fx.config.n_heads,
  nKvHeads: fx.config.n_kv_heads,
  nEmbd: fx.config.dim,
  intermediateSize: fx.config.hidden_dim,
  nExperts: fx.config.n_experts,
  topK: fx.config.top_k,
  routerAuxLossCoef: fx.config.aux_coef,
  normEps: fx.config.norm_eps,
  ropeTheta: fx.config.rope_theta,
  dropout: 0,
});

function fixtureModel(): Mixtral {
  const model = new Mixtral(fxConfig, { generator: new Generator(0) });
  model.loadStateDict(fromMixtralCheckpoint(tensorsOf(fx.state), fxConfig));
  return model;
}

function groupedAdamW(
  model: Mixtral,
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

test("Mixtral (GQA, top-2 of 4 experts) matches the PyTorch reference: logits, experts chosen, CE + α·aux, every gradient", () => {
  const model = fixtureModel();
  const B = fx.idx.shape[0]!,
    T = fx.idx.shape[1]!;
  const ce = noGrad(() => model.forward(fromJson(fx.idx), fromJson(fx.targets)));
  // the experts each block chose, (L, B·T, k)
  const chosen: number[] = [];
  noGrad(() => {
    let x = model.tokEmb.forward(fromJson(fx.idx));
    for (const block of model.blocks) {
      const out = block.forward(x);
      chosen.push(...out.moe.routing.expertOf);
      x = out.x;
    }
  });
  assert.deepEqual(chosen, fx.expert_of.data, "experts chosen in every block");
  assert.equal(chosen.length, fxConfig.nLayer * B * T * fxConfig.topK);
  const { logits, loss, auxLoss } = model.forward(fromJson(fx.idx), fromJson(fx.targets));
  assertClose(logits, fromJson(fx.logits), { atol: 1e-4, rtol: 0 }, "logits");
  assertClose([auxLoss.item(), loss!.item()], [fx.aux, fx.loss], { atol: 1e-5, rtol: 0 }, "aux, loss");
  assertClose(
    [ce.loss!.item() - fxConfig.routerAuxLossCoef * ce.auxLoss.item()],
    [fx.ce],
    { atol: 1e-5, rtol: 0 },
    "cross-entropy",
  );
  loss!.backward();
  const expected = fromMixtralCheckpoint(tensorsOf(fx.grads), fxConfig);
  const params = model.namedParameters();
  assert.deepEqual(params.map(([n]) => n).sort(), Object.keys(expected).sort());
  for (const [name, p] of params) assertClose(p.grad!, expected[name]!, { rtol: 1e-3, atol: 1e-6 }, `d loss/d ${name}`);
  assert.ok(model.blocks.at(0).moe.router.weight.grad!.abs().sum().item() > 0, "the routers learn");
});

test("Mixtral matches the PyTorch reference over 3 AdamW steps", () => {
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
// Overfitting, the KV cache, generation

test("Mixtral overfits one batch, and the load-balancing loss stays near its minimum 1", () => {
  const config = mixtralConfig("tiny", {
    vocabSize: 17,
    blockSize: 16,
    nLayer: 2,
    nHead: 4,
    nKvHeads: 2,
    nEmbd: 32,
    intermediateSize: 24,
    nExperts: 4,
  });
  const model = new Mixtral(config, { generator: new Generator(3) });
  const last = overfitsOneBatch(model, groupedAdamW(model, 1e-2, [0.9, 0.99], 1e-8, 0), { target: 0.1 }); // measured: 31 steps
  const aux = last.auxLoss.item();
  assert.ok(aux >= 1 - 1e-6 && aux < 1.5, `load-balancing loss ${aux}`);
});

test("the KV-cached forward equals the full forward at every step (routing is per token)", () => {
  const config = mixtralConfig("tiny", {
    vocabSize: 13,
    blockSize: 12,
    nLayer: 2,
    nHead: 4,
    nKvHeads: 2,
    nEmbd: 16,
    intermediateSize: 8,
    nExperts: 4,
  });
  const model = new Mixtral(config, { generator: new Generator(5) }).eval();
  cachedForwardEqualsFull(model, config.nLayer, { blockSize: 12 });
});

test("generate: the KV cache gives the tokens of the recomputed window, past blockSize, greedy and sampled", () => {
  const config = mixtralConfig("tiny", {
    vocabSize: 13,
    blockSize: 8,
    nLayer: 2,
    nHead: 4,
    nKvHeads: 1,
    nEmbd: 16,
    intermediateSize: 8,
    nExperts: 4,
  });
  cachedGenerationEqualsRecomputed(new Mixtral(config, { generator: new Generator(7) }), 12);
});

// -----------------------------------------------------------------------------------------------------
// Parameter count

test("the mixtral-8x7b preset, built shape-only, has the published 46,702,792,704 parameters; 12,879,925,248 active per token", () => {
  const c = mixtralConfig("mixtral-8x7b");
  const model = meta(() => new Mixtral(c));
  assert.equal(model.numParameters(), 46_702_792_704);
  assert.equal(countParameters(c), model.numParameters());
  // active: the router and 2 of the 8 experts in each of the 32 blocks
  const expert = model.blocks.at(0).moe.experts.at(0).numParameters();
  assert.equal(expert, 3 * 4096 * 14336);
  assert.equal(countParameters(c, { active: true }), model.numParameters() - 32 * 6 * expert);
  assert.equal(countParameters(c, { active: true }), 12_879_925_248);
  assert.equal(describe(c).activeParameters, 12_879_925_248);
  for (const small of [fxConfig, mixtralConfig("tiny")]) {
    const m = new Mixtral(small, { generator: new Generator(0) });
    assert.equal(m.numParameters(), countParameters(small));
    assert.equal(
      m.blocks.at(0).moe.activeParameters() * small.nLayer +
        countParameters(small) -
        small.nLayer * m.blocks.at(0).moe.numParameters(),
      countParameters(small, { active: true }),
    );
  }
  assert.equal(
    countParameters(fxConfig),
    Object.values(fx.state).reduce((n, t) => n + t.data.length, 0),
    "the PyTorch model's own count",
  );
});

// -----------------------------------------------------------------------------------------------------
// Config, weight map, Hugging Face folders

test("configs are frozen and checked", () => {
  const c = mixtralConfig("tiny", { vocabSize: 80 });
  assert.ok(Object.isFrozen(c) && Object.isFrozen(PRESETS["mixtral-8x7b"]));
  assertThrowsWith(() => mixtralConfig("tiny", { topK: 9 }), ArgumentError, /topK 9 must be at most nExperts 8/);
  assertThrowsWith(() => mixtralConfig("tiny", { nExperts: 0 }), ArgumentError, /nExperts must be a positive integer/);
  assertThrowsWith(() => mixtralConfig("tiny", { routerAuxLossCoef: -1 }), ArgumentError, /routerAuxLossCoef/);
  assertThrowsWith(() => mixtralConfig("mixtral-8x22b" as "tiny"), ArgumentError, /unknown preset "mixtral-8x22b"/);
});

test("weight map: our names ↔ HF MixtralForCausalLM names (block_sparse_moe.gate, experts.N.w1/w2/w3), both ways, checked", () => {
  const model = new Mixtral(fxConfig, { generator: new Generator(12) });
  const ours = model.stateDict();
  const theirs = toMixtralCheckpoint(ours, fxConfig);
  assert.deepEqual(Object.keys(theirs).sort(), Object.keys(fx.state).sort());
  for (const [k, t] of Object.entries(theirs)) assert.deepEqual([...t.shape], fx.state[k]!.shape, k);
  assert.equal(
    theirs["model.layers.1.block_sparse_moe.experts.3.w2.weight"],
    ours["blocks.1.moe.experts.3.down.weight"],
  );
  assert.equal(theirs["model.layers.0.block_sparse_moe.gate.weight"], ours["blocks.0.moe.router.weight"]);
  const back = fromMixtralCheckpoint(theirs, fxConfig);
  for (const [k, t] of Object.entries(back)) assert.equal(t, ours[k], k);
  assertThrowsWith(
    () =>
      fromMixtralCheckpoint(
        { ...theirs, "model.layers.0.block_sparse_moe.experts.4.w1.weight": tensor([1]) },
        fxConfig,
      ),
    ArgumentError,
    /unexpected keys.*experts\.4\.w1/,
  );
  const wrong = {
    ...theirs,
    "model.layers.0.block_sparse_moe.gate.weight": theirs["model.layers.0.self_attn.q_proj.weight"]!,
  };
  assertThrowsWith(
    () => fromMixtralCheckpoint(wrong, fxConfig),
    ShapeError,
    /gate\.weight has shape \(16,16\), this config needs \(4,16\)/,
  );
});

test("a Hugging Face folder round trip: toHFFiles → config.json with model_type mixtral → fromPretrained, the same logits", () => {
  const model = new Mixtral(fxConfig, { generator: new Generator(14) }).eval();
  const files = toHFFiles("mixtral", model, fxConfig);
  assert.equal(files.config.model_type, "mixtral");
  assert.equal(files.config.num_local_experts, 4);
  assert.equal(files.config.num_experts_per_tok, 2);
  assert.ok("model.layers.1.block_sparse_moe.experts.0.w3.weight" in files.tensors);
  // through the bytes of a safetensors file and the text of config.json
  const json = JSON.parse(JSON.stringify(files.config)) as Record<string, unknown>;
  const { tensors } = parseSafetensors(serializeSafetensors(files.tensors, { format: "pt" }));
  const loaded = fromPretrained({ config: json, tensors });
  assert.equal(loaded.kind, "mixtral");
  const idx = randint(0, 11, [2, 8], { generator: new Generator(16) });
  noGrad(() =>
    assert.deepEqual((loaded.model as Mixtral).forward(idx).logits.storage, model.forward(idx).logits.storage),
  );
  assertThrowsWith(
    () => fromPretrained({ config: { ...json, sliding_window: 4096 }, tensors: files.tensors }),
    Error,
    /sliding_window/,
  );
});
