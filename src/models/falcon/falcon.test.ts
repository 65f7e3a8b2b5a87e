// Falcon: parity with the PyTorch reference (tools/fixtures/falcon.py), the multi-query KV cache against the
// full forward, overfitting one batch, the parameter counts, the weight map.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, noGrad, Tensor, tensor, randint, ArgumentError } from "../../index.js";
import {
  cachedForwardEqualsFull,
  cachedGenerationEqualsRecomputed,
  matchesFixture,
  overfitsOneBatch,
} from "../../../test/harness/decoder.js";
import { assertThrowsWith } from "../../../test/harness/assert.js";
import { tensorsOf, type TensorJson, readModelFixture } from "../../../test/harness/fixtures.js";
import * as optim from "../../optim/index.js";
import {
  countParameters,
  Falcon,
  falconConfig,
  fromFalconCheckpoint,
  PRESETS,
  toFalconCheckpoint,
  type FalconConfig,
} from "./model.js";

interface FalconFixture {
  config: {
    vocab_size: number;
    block_size: number;
    n_layer: number;
    n_head: number;
    n_embd: number;
    dropout: number;
    bias: boolean;
    rope_base: number;
  };
  state: Record<string, TensorJson>;
  idx: TensorJson;
  targets: TensorJson;
  logits: TensorJson;
  loss: number;
  grads: Record<string, TensorJson>;
}

const fx = readModelFixture<FalconFixture>("falcon");
const fxConfig: FalconConfig = falconConfig({
  vocabSize: fx.config.vocab_size,
  blockSize: fx.config.block_size,
  nLayer: fx.config.n_layer,
  nHead: fx.config.n_head,
  nEmbd: fx.config.n_embd,
  dropout: fx.config.dropout,
  bias: fx.config.bias,
  ropeTheta: fx.config.rope_base,
});

function fixtureModel(): Falcon {
  const model = new Falcon(fxConfig, { generator: new Generator(0) });
  model.loadStateDict(fromFalconCheckpoint(tensorsOf(fx.state), fxConfig));
  return model;
}

test("Falcon matches the PyTorch reference: logits, loss, every parameter gradient", () => {
  matchesFixture(
    fixtureModel(),
    fx,
    (s) => fromFalconCheckpoint(s, fxConfig), // the map splits rows: linear
    (s) => toFalconCheckpoint(s, fxConfig),
  );
});

test("Falcon overfits one batch", () => {
  const config = falconConfig("tiny", { vocabSize: 17, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32 });
  const model = new Falcon(config, { generator: new Generator(3) });
  const opt = new optim.AdamW(model.parameters(), { lr: 1e-2, betas: [0.9, 0.99], weightDecay: 0 });
  overfitsOneBatch(model, opt, { maxSteps: 150 });
});

test("the KV-cached forward equals the full forward at every step; the cache holds one k/v head (B, 1, P, hs)", () => {
  const config = falconConfig("tiny", { vocabSize: 13, blockSize: 12, nLayer: 2, nHead: 3, nEmbd: 18 });
  const model = new Falcon(config, { generator: new Generator(5) }).eval();
  cachedForwardEqualsFull(model, config.nLayer, {
    inspect: (cache, when) => when === "end" && assert.deepEqual([...cache.layers[1]!.k!.shape], [2, 1, 12, 6]),
  });
});

test("generate: the KV cache gives the tokens of the recomputed window, past blockSize, greedy and sampled", () => {
  const config = falconConfig("tiny", { vocabSize: 13, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16 });
  cachedGenerationEqualsRecomputed(new Falcon(config, { generator: new Generator(7) }), 14);
});

test("falcon-7b has 6,921,720,704 parameters (counted, not allocated); the count equals the allocated model's", () => {
  assert.equal(countParameters(PRESETS["falcon-7b"]), 6_921_720_704);
  for (const c of [
    fxConfig,
    falconConfig("tiny"),
    falconConfig("tiny", { bias: true, nLayer: 3, nEmbd: 24, nHead: 3, vocabSize: 7 }),
  ]) {
    assert.equal(new Falcon(c, { generator: new Generator(0) }).numParameters(), countParameters(c));
  }
  assert.equal(
    countParameters(fxConfig),
    Object.values(fx.state).reduce((n, t) => n + t.data.length, 0),
  );
});

test("weight map: our names ↔ Falcon checkpoint names and the multi-query fused layout, both ways", () => {
  const model = new Falcon(fxConfig, { generator: new Generator(12) });
  const ours = model.stateDict();
  const theirs = toFalconCheckpoint(ours, fxConfig);
  assert.deepEqual(Object.keys(theirs).sort(), Object.keys(fx.state).sort());
  for (const [k, t] of Object.entries(theirs)) assert.deepEqual([...t.shape], fx.state[k]!.shape, k);
  // rows (nh + 2, hs): the nh query heads = wq, then the key head = wk, then the value head = wv
  const C = fxConfig.nEmbd,
    hs = C / fxConfig.nHead;
  const qkv = theirs["transformer.h.1.self_attention.query_key_value.weight"]!; // ((nh+2)·hs, C)
  assert.deepEqual([...qkv.shape], [C + 2 * hs, C]);
  for (const [row0, w] of [
    [0, "wq"],
    [C, "wk"],
    [C + hs, "wv"],
  ] as const) {
    const d = 3,
      col = 5;
    assert.equal(qkv.storage[(row0 + d) * C + col], ours[`blocks.1.attn.${w}.weight`]!.storage[d * C + col], w);
  }
  const back = fromFalconCheckpoint(theirs, fxConfig);
  assert.deepEqual(Object.keys(back).sort(), Object.keys(ours).sort());
  for (const [k, t] of Object.entries(back)) assert.deepEqual(t.storage, ours[k]!.storage, k);
  const bare: Record<string, Tensor> = Object.fromEntries(
    Object.entries(theirs).map(([k, t]) => [k.replace(/^transformer\./, ""), t]),
  );
  bare["lm_head.weight"] = theirs["transformer.word_embeddings.weight"]!;
  const fresh = new Falcon(fxConfig, { generator: new Generator(13) });
  fresh.loadStateDict(fromFalconCheckpoint(bare, fxConfig));
  for (const [k, t] of Object.entries(fresh.stateDict())) assert.deepEqual(t.storage, ours[k]!.storage, k);
  assertThrowsWith(
    () => fromFalconCheckpoint({ ...theirs, "transformer.h.0.self_attention.dense.bias": tensor([1]) }, fxConfig),
    ArgumentError,
    /unexpected keys.*dense\.bias/,
  );
  const { ["transformer.ln_f.bias"]: _, ...missing } = theirs;
  assertThrowsWith(() => fromFalconCheckpoint(missing, fxConfig), ArgumentError, /missing key transformer\.ln_f\.bias/);
  // with biases in the Linears, the map holds them (query_key_value.bias in the same layout), and round-trips
  const wb = falconConfig(fxConfig, { bias: true });
  const wbOurs = new Falcon(wb, { generator: new Generator(14) }).stateDict();
  const wbTheirs = toFalconCheckpoint(wbOurs, wb);
  assert.deepEqual([...wbTheirs["transformer.h.0.self_attention.query_key_value.bias"]!.shape], [C + 2 * hs]);
  for (const [k, t] of Object.entries(fromFalconCheckpoint(wbTheirs, wb)))
    assert.deepEqual(t.storage, wbOurs[k]!.storage, k);
});

test("configs are frozen and checked; forward accepts more than blockSize tokens (no learned positions)", () => {
  assert.ok(Object.isFrozen(falconConfig("tiny")) && Object.isFrozen(PRESETS["falcon-7b"]));
  assertThrowsWith(() => falconConfig("tiny", { nHead: 3 }), ArgumentError, /nEmbd 128 must be a multiple of nHead 3/);
  assertThrowsWith(() => falconConfig("tiny", { nEmbd: 12, nHead: 4 }), ArgumentError, /head size 3 must be even/);
  const model = new Falcon(fxConfig, { generator: new Generator(0) });
  const out = noGrad(() => model.forward(randint(0, 11, [1, 12])).logits);
  assert.deepEqual([...out.shape], [1, 12, 11]);
});
