// GPT-2: parity with the PyTorch reference (tools/fixtures/gpt2.py), the KV cache against the full
// forward, overfitting one batch, the parameter count, the weight map, sampling.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, noGrad, Tensor, tensor, randint, ArgumentError, DTypeError, ShapeError } from "../../index.js";
import {
  cachedForwardEqualsFull,
  cachedGenerationEqualsRecomputed,
  matchesFixture,
  overfitsOneBatch,
} from "../../../test/harness/decoder.js";
import { assertClose, assertThrowsWith } from "../../../test/harness/assert.js";
import { fromJson, tensorsOf, type TensorJson, readModelFixture } from "../../../test/harness/fixtures.js";
import * as optim from "../../optim/index.js";
import {
  countParameters,
  fromGPT2Checkpoint,
  GPT,
  gptConfig,
  PRESETS,
  toGPT2Checkpoint,
  type GPTConfig,
} from "./model.js";
import { sampleTokens } from "../../generation/sampling.js";

// -----------------------------------------------------------------------------------------------------
// The fixture

interface Gpt2Fixture {
  config: {
    vocab_size: number;
    block_size: number;
    n_layer: number;
    n_head: number;
    n_embd: number;
    dropout: number;
    bias: boolean;
  };
  state: Record<string, TensorJson>;
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

const fx = readModelFixture<Gpt2Fixture>("gpt2");
const fxConfig: GPTConfig = gptConfig({
  vocabSize: fx.config.vocab_size,
  blockSize: fx.config.block_size,
  nLayer: fx.config.n_layer,
  nHead: fx.config.n_head,
  nEmbd: fx.config.n_embd,
  dropout: fx.config.dropout,
  bias: fx.config.bias,
});

/** Our model holding the fixture's weights, loaded through the weight map. */
function fixtureModel(): GPT {
  const model = new GPT(fxConfig, { generator: new Generator(0) });
  model.loadStateDict(fromGPT2Checkpoint(tensorsOf(fx.state), fxConfig));
  return model;
}

/** nanoGPT's optimizer groups: weight decay on the 2-D parameters (matmul weights, embeddings) only. */
function nanoGptAdamW(model: GPT, lr: number, betas: [number, number], eps: number, weightDecay: number): optim.AdamW {
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

test("GPT-2 matches the PyTorch reference: logits, loss, every parameter gradient", () => {
  matchesFixture(
    fixtureModel(),
    fx,
    (s) => fromGPT2Checkpoint(s, fxConfig),
    (s) => toGPT2Checkpoint(s, fxConfig),
  );
});

test("GPT-2 matches the PyTorch reference over 10 AdamW steps (nanoGPT's groups; the optimizer written in this test)", () => {
  const model = fixtureModel();
  const { lr, betas, eps, weight_decay } = fx.adamw;
  const opt = nanoGptAdamW(model, lr, betas, eps, weight_decay);
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
// Overfitting one batch

test("GPT-2 overfits one batch", () => {
  const config = gptConfig("tiny", { vocabSize: 17, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32 });
  const model = new GPT(config, { generator: new Generator(3) });
  overfitsOneBatch(model, nanoGptAdamW(model, 1e-2, [0.9, 0.99], 1e-8, 0)); // measured: 56 steps
});

// -----------------------------------------------------------------------------------------------------
// The KV cache

test("the KV-cached forward equals the full forward at every step", () => {
  const config = gptConfig("tiny", { vocabSize: 13, blockSize: 12, nLayer: 2, nHead: 2, nEmbd: 16 });
  const model = new GPT(config, { generator: new Generator(5) }).eval();
  cachedForwardEqualsFull(model, config.nLayer, { blockSize: 12 });
});

test("generate: the KV cache gives the tokens of the recomputed window, past blockSize, greedy and sampled", () => {
  const config = gptConfig("tiny", { vocabSize: 13, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16 });
  const model = new GPT(config, { generator: new Generator(7) });
  cachedGenerationEqualsRecomputed(model, 14, [
    { temperature: 0 },
    { temperature: 1 },
    { temperature: 0.8, topK: 4 },
    { temperature: 1.2, topP: 0.9 },
  ]);
  const prompt = randint(0, 13, [2, 3], { generator: new Generator(8) });
  assertThrowsWith(() => model.generate(prompt, 2, { topP: 0 }), ArgumentError, /topP must be in \(0, 1\], got 0/);
  assertThrowsWith(
    () => model.generate(prompt, 2, { topK: 0 }),
    ArgumentError,
    /topK must be a positive integer, got 0/,
  );
  assertThrowsWith(() => model.generate(prompt, 2, { temperature: -1 }), ArgumentError, /temperature must be ≥ 0/);
  assertThrowsWith(() => model.generate(prompt, -1), ArgumentError, /maxNewTokens must be an integer ≥ 0, got -1/);
});

test("generate: greedy decoding takes the argmax of the full forward at every step", () => {
  const config = gptConfig("tiny", { vocabSize: 13, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16 });
  const model = new GPT(config, { generator: new Generator(10) }).eval();
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
// Sampling

test("sampleTokens: top-k and top-p keep only their candidates; frequencies follow softmax(z/τ)", () => {
  const z = [2, 1, 0.5, 0, -1]; // (V)
  const logits = tensor([z, z], { shape: [2, 1, 5] });
  const g = new Generator(11);
  const draw = (opts: { temperature: number; topK: number | null; topP: number }, n: number): number[] => {
    const counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < n; i++) for (const t of sampleTokens(logits, opts, g).storage) counts[t]!++;
    return counts;
  };
  assert.deepEqual(draw({ temperature: 0, topK: null, topP: 1 }, 10), [20, 0, 0, 0, 0]);
  assert.deepEqual(draw({ temperature: 1, topK: 1, topP: 1 }, 10), [20, 0, 0, 0, 0]);
  const k2 = draw({ temperature: 1, topK: 2, topP: 1 }, 200);
  assert.equal(k2[2]! + k2[3]! + k2[4]!, 0);
  // p = softmax(z): 0.575, 0.211, 0.128, 0.078, 0.029; top-p 0.7 keeps the first two (0.575 < 0.7 ≤ 0.786)
  const p7 = draw({ temperature: 1, topK: null, topP: 0.7 }, 200);
  assert.ok(p7[0]! > 0 && p7[1]! > 0 && p7[2]! + p7[3]! + p7[4]! === 0, JSON.stringify(p7));
  const n = 5000,
    counts = draw({ temperature: 1.5, topK: null, topP: 1 }, n / 2);
  const e = z.map((v) => Math.exp(v / 1.5)),
    s = e.reduce((a, b) => a + b);
  counts.forEach((c, i) => {
    const p = e[i]! / s,
      sd = Math.sqrt((p * (1 - p)) / n);
    assert.ok(Math.abs(c / n - p) < 5 * sd, `token ${i}: frequency ${c / n}, expected ${p}`);
  });
});

// -----------------------------------------------------------------------------------------------------
// Parameter count

test("the gpt2 preset has 124,439,808 parameters; the count from the config equals the allocated model's", () => {
  assert.equal(countParameters(PRESETS.gpt2), 124_439_808);
  assert.equal(countParameters(PRESETS.gpt2, { nonEmbedding: true }), 124_439_808 - 1024 * 768);
  for (const c of [
    fxConfig,
    gptConfig("tiny"),
    gptConfig("tiny", { bias: false, nLayer: 3, nEmbd: 24, nHead: 3, vocabSize: 7 }),
  ]) {
    const model = new GPT(c, { generator: new Generator(0) });
    assert.equal(model.numParameters(), countParameters(c));
    assert.equal(model.numParameters({ nonEmbedding: true }), countParameters(c, { nonEmbedding: true }));
  }
  // the fixture's PyTorch model counted its own parameters
  assert.equal(
    countParameters(fxConfig),
    Object.values(fx.state).reduce((n, t) => n + t.data.length, 0),
  );
});

test("the head is tied: one tensor, listed once (its gradient, from both uses, is checked against PyTorch above)", () => {
  const model = new GPT(fxConfig, { generator: new Generator(0) });
  assert.equal(model.lmHead.weight, model.tokEmb.weight);
  const names = model.namedParameters().map(([n]) => n);
  assert.ok(names.includes("tokEmb.weight") && !names.some((n) => n.startsWith("lmHead")));
});

// -----------------------------------------------------------------------------------------------------
// Config and init

test("configs are frozen and checked", () => {
  const c = gptConfig("tiny", { vocabSize: 80 });
  assert.ok(Object.isFrozen(c) && Object.isFrozen(PRESETS.gpt2));
  assert.equal(c.vocabSize, 80);
  assertThrowsWith(() => gptConfig("tiny", { nHead: 3 }), ArgumentError, /nEmbd 128 must be a multiple of nHead 3/);
  assertThrowsWith(() => gptConfig("gpt3" as "gpt2"), ArgumentError, /unknown preset "gpt3"/);
  assertThrowsWith(() => gptConfig("tiny", { dropout: 1 }), ArgumentError, /dropout/);
  const model = new GPT(fxConfig, { generator: new Generator(0) });
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

test("init: N(0, 0.02), residual projections N(0, 0.02/√(2L)), zero biases, unit gains; seeded", () => {
  const c = gptConfig("tiny", { vocabSize: 64, blockSize: 64, nLayer: 2, nHead: 2, nEmbd: 64 });
  const a = new GPT(c, { generator: new Generator(1) }),
    b = new GPT(c, { generator: new Generator(1) });
  assert.deepEqual(Object.keys(a.stateDict()), Object.keys(b.stateDict()));
  for (const [name, t] of Object.entries(a.stateDict()))
    assert.deepEqual(t.storage, b.stateDict()[name]!.storage, name);
  const std = (t: Tensor): number => Math.sqrt(Array.from(t.storage).reduce((s, x) => s + x * x, 0) / t.numel());
  const block = a.blocks.at(1);
  for (const t of [a.tokEmb.weight, a.posEmb.weight, block.attn.wq.weight, block.mlp.up.weight])
    assert.ok(Math.abs(std(t) / 0.02 - 1) < 0.05, `std ${std(t)}`);
  for (const t of [block.attn.wo.weight, block.mlp.down.weight])
    assert.ok(Math.abs(std(t) / (0.02 / 2) - 1) < 0.05, `std ${std(t)}`);
  assert.ok(block.attn.wq.bias!.storage.every((x) => x === 0) && block.norm1.weight!.storage.every((x) => x === 1));
});

test("dropout is active in training mode only", () => {
  const c = gptConfig("tiny", { vocabSize: 11, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0.2 });
  const model = new GPT(c, { generator: new Generator(2) });
  const idx = randint(0, 11, [2, 8], { generator: new Generator(3) });
  noGrad(() => {
    const t1 = model.forward(idx).logits,
      t2 = model.forward(idx).logits;
    assert.notDeepEqual(t1.storage, t2.storage);
    model.eval();
    assert.deepEqual(model.forward(idx).logits.storage, model.forward(idx).logits.storage);
  });
});

// -----------------------------------------------------------------------------------------------------
// Weight map

test("weight map: our names ↔ GPT-2 checkpoint names and layouts, both ways", () => {
  const model = new GPT(fxConfig, { generator: new Generator(12) });
  const ours = model.stateDict();
  const theirs = toGPT2Checkpoint(ours, fxConfig);
  // the names and shapes of the PyTorch reference, which uses GPT-2's checkpoint layout
  assert.deepEqual(Object.keys(theirs).sort(), Object.keys(fx.state).sort());
  for (const [k, t] of Object.entries(theirs)) assert.deepEqual([...t.shape], fx.state[k]!.shape, k);
  // Conv1D weights are stored (in, out); c_attn is q, k, v side by side
  const cAttn = theirs["transformer.h.1.attn.c_attn.weight"]!; // (C, 3C)
  const C = fxConfig.nEmbd;
  assert.equal(cAttn.storage[2 * 3 * C + C + 5], ours["blocks.1.attn.wk.weight"]!.storage[5 * C + 2]); // c_attn[2, C+5] = wk[5, 2]
  // and back, exactly
  const back = fromGPT2Checkpoint(theirs, fxConfig);
  assert.deepEqual(Object.keys(back).sort(), Object.keys(ours).sort());
  for (const [k, t] of Object.entries(back)) {
    assert.deepEqual([...t.shape], [...ours[k]!.shape], k);
    assert.deepEqual(t.storage, ours[k]!.storage, k);
  }
  // files without the "transformer." prefix, with the tied head and the causal-mask buffers, also load
  const bare: Record<string, Tensor> = Object.fromEntries(
    Object.entries(theirs).map(([k, t]) => [k.replace(/^transformer\./, ""), t]),
  );
  bare["lm_head.weight"] = theirs["transformer.wte.weight"]!;
  bare["h.0.attn.bias"] = tensor([1]);
  const fresh = new GPT(fxConfig, { generator: new Generator(13) });
  fresh.loadStateDict(fromGPT2Checkpoint(bare, fxConfig));
  for (const [k, t] of Object.entries(fresh.stateDict())) assert.deepEqual(t.storage, ours[k]!.storage, k);
  assertThrowsWith(
    () => fromGPT2Checkpoint({ ...theirs, "transformer.h.2.ln_1.weight": tensor([1]) }, fxConfig),
    ArgumentError,
    /unexpected keys.*h\.2\.ln_1/,
  );
  const { ["transformer.ln_f.bias"]: _, ...missing } = theirs;
  assertThrowsWith(() => fromGPT2Checkpoint(missing, fxConfig), ArgumentError, /missing key transformer\.ln_f\.bias/);
  // without biases, the map has no bias entries
  const nb = gptConfig(fxConfig, { bias: false });
  const nbTheirs = toGPT2Checkpoint(new GPT(nb, { generator: new Generator(0) }).stateDict(), nb);
  assert.deepEqual(
    Object.keys(nbTheirs).sort(),
    Object.keys(fx.state)
      .filter((k) => !k.endsWith(".bias"))
      .sort(),
  );
});
