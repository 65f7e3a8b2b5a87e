// BLOOM: parity with the PyTorch reference (tools/fixtures/bloom.py), ALiBi's slopes, the KV cache against
// the full forward, overfitting one batch, the parameter counts, the weight map.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, noGrad, Tensor, tensor, randint, ArgumentError } from "../../index.js";
import {
  cachedForwardEqualsFull,
  cachedGenerationEqualsRecomputed,
  matchesFixture,
  overfitsOneBatch,
} from "../../../test/harness/decoder.js";
import { assertClose, assertThrowsWith } from "../../../test/harness/assert.js";
import { tensorsOf, type TensorJson, readModelFixture } from "../../../test/harness/fixtures.js";
import * as optim from "../../optim/index.js";
import {
  alibiSlopes,
  Bloom,
  bloomConfig,
  countParameters,
  fromBloomCheckpoint,
  PRESETS,
  toBloomCheckpoint,
  type BloomConfig,
} from "./model.js";

interface BloomFixture {
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
  alibi_slopes: Record<string, number[]>;
}

const fx = readModelFixture<BloomFixture>("bloom");
const fxConfig: BloomConfig = bloomConfig({
  vocabSize: fx.config.vocab_size,
  blockSize: fx.config.block_size,
  nLayer: fx.config.n_layer,
  nHead: fx.config.n_head,
  nEmbd: fx.config.n_embd,
  dropout: fx.config.dropout,
  bias: fx.config.bias,
});

function fixtureModel(): Bloom {
  const model = new Bloom(fxConfig, { generator: new Generator(0) });
  model.loadStateDict(fromBloomCheckpoint(tensorsOf(fx.state), fxConfig));
  return model;
}

test("BLOOM matches the PyTorch reference: logits, loss, every parameter gradient (3 heads: interleaved ALiBi slopes)", () => {
  matchesFixture(
    fixtureModel(),
    fx,
    (s) => fromBloomCheckpoint(s, fxConfig), // the map is a permutation of rows: linear
    (s) => toBloomCheckpoint(s, fxConfig),
  );
});

test("ALiBi slopes: the paper's geometric sequence for powers of two, interleaved otherwise (vs the Python reference)", () => {
  for (const [n, slopes] of Object.entries(fx.alibi_slopes))
    assertClose(alibiSlopes(Number(n)), slopes, { rtol: 1e-12, atol: 0 }, `${n} heads`);
});

test("BLOOM overfits one batch", () => {
  const config = bloomConfig("tiny", { vocabSize: 17, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32 });
  const model = new Bloom(config, { generator: new Generator(3) });
  const opt = new optim.AdamW(model.parameters(), { lr: 1e-2, betas: [0.9, 0.99], weightDecay: 0 });
  overfitsOneBatch(model, opt, { maxSteps: 150 });
});

test("the KV-cached forward equals the full forward at every step (ALiBi biases at positions P…P+T)", () => {
  const config = bloomConfig("tiny", { vocabSize: 13, blockSize: 12, nLayer: 2, nHead: 3, nEmbd: 18 });
  const model = new Bloom(config, { generator: new Generator(5) }).eval();
  cachedForwardEqualsFull(model, config.nLayer);
});

test("generate: the KV cache gives the tokens of the recomputed window, past blockSize, greedy and sampled", () => {
  const config = bloomConfig("tiny", { vocabSize: 13, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16 });
  cachedGenerationEqualsRecomputed(new Bloom(config, { generator: new Generator(7) }), 14);
});

test("bloom-560m has 559,214,592 parameters (counted, not allocated); the count equals the allocated model's", () => {
  assert.equal(countParameters(PRESETS["bloom-560m"]), 559_214_592);
  for (const c of [
    fxConfig,
    bloomConfig("tiny"),
    bloomConfig("tiny", { bias: false, nLayer: 3, nEmbd: 24, nHead: 3, vocabSize: 7 }),
  ]) {
    assert.equal(new Bloom(c, { generator: new Generator(0) }).numParameters(), countParameters(c));
  }
  assert.equal(
    countParameters(fxConfig),
    Object.values(fx.state).reduce((n, t) => n + t.data.length, 0),
  );
});

test("weight map: our names ↔ BLOOM checkpoint names and the per-head fused layout, both ways", () => {
  const model = new Bloom(fxConfig, { generator: new Generator(12) });
  const ours = model.stateDict();
  const theirs = toBloomCheckpoint(ours, fxConfig);
  assert.deepEqual(Object.keys(theirs).sort(), Object.keys(fx.state).sort());
  for (const [k, t] of Object.entries(theirs)) assert.deepEqual([...t.shape], fx.state[k]!.shape, k);
  // row h·3·hs + s·hs + d of query_key_value is row h·hs + d of wq / wk / wv (s = 0, 1, 2)
  const C = fxConfig.nEmbd,
    nh = fxConfig.nHead,
    hs = C / nh;
  const qkv = theirs["transformer.h.1.self_attention.query_key_value.weight"]!; // (3C, C)
  for (const [s, w] of [
    [0, "wq"],
    [1, "wk"],
    [2, "wv"],
  ] as const) {
    const h = 2,
      d = 1,
      col = 4;
    assert.equal(
      qkv.storage[(h * 3 * hs + s * hs + d) * C + col],
      ours[`blocks.1.attn.${w}.weight`]!.storage[(h * hs + d) * C + col],
      w,
    );
  }
  const back = fromBloomCheckpoint(theirs, fxConfig);
  assert.deepEqual(Object.keys(back).sort(), Object.keys(ours).sort());
  for (const [k, t] of Object.entries(back)) assert.deepEqual(t.storage, ours[k]!.storage, k);
  // BloomModel files (no "transformer." prefix) with a stored lm_head also load
  const bare: Record<string, Tensor> = Object.fromEntries(
    Object.entries(theirs).map(([k, t]) => [k.replace(/^transformer\./, ""), t]),
  );
  bare["lm_head.weight"] = theirs["transformer.word_embeddings.weight"]!;
  const fresh = new Bloom(fxConfig, { generator: new Generator(13) });
  fresh.loadStateDict(fromBloomCheckpoint(bare, fxConfig));
  for (const [k, t] of Object.entries(fresh.stateDict())) assert.deepEqual(t.storage, ours[k]!.storage, k);
  assertThrowsWith(
    () => fromBloomCheckpoint({ ...theirs, "transformer.h.2.input_layernorm.weight": tensor([1]) }, fxConfig),
    ArgumentError,
    /unexpected keys.*h\.2\.input_layernorm/,
  );
  const { ["transformer.ln_f.bias"]: _, ...missing } = theirs;
  assertThrowsWith(() => fromBloomCheckpoint(missing, fxConfig), ArgumentError, /missing key transformer\.ln_f\.bias/);
});

test("configs are frozen and checked; forward accepts more than blockSize tokens (no learned positions)", () => {
  assert.ok(Object.isFrozen(bloomConfig("tiny")) && Object.isFrozen(PRESETS["bloom-560m"]));
  assertThrowsWith(() => bloomConfig("tiny", { nHead: 3 }), ArgumentError, /nEmbd 128 must be a multiple of nHead 3/);
  assertThrowsWith(() => bloomConfig("bloom-7b" as "tiny"), ArgumentError, /unknown preset "bloom-7b"/);
  const model = new Bloom(fxConfig, { generator: new Generator(0) });
  const out = noGrad(() => model.forward(randint(0, 11, [1, 12])).logits);
  assert.deepEqual([...out.shape], [1, 12, 11]);
});
