// The Transformer: parity with the PyTorch reference (tools/fixtures/transformer.py, built from PyTorch's own
// post-LN layers), the schedule, Adam steps under it, the KV cache, greedy and beam decoding, overfitting
// one batch, the parameter count, the weight map, attention weights.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, noGrad, Tensor, tensor, randint, ArgumentError, DTypeError, ShapeError } from "../../index.js";
import { assertClose, assertThrowsWith } from "../../../test/harness/assert.js";
import { fromJson, tensorsOf, type TensorJson, readModelFixture } from "../../../test/harness/fixtures.js";
import * as optim from "../../optim/index.js";
import {
  attentionWeights,
  beamSearch,
  countParameters,
  fromTorchTransformer,
  greedyDecode,
  KVCache,
  PRESETS,
  sinusoids,
  toTorchTransformer,
  Transformer,
  transformerConfig,
  type TransformerConfig,
} from "./model.js";

// -----------------------------------------------------------------------------------------------------
// The fixture

interface TransformerFixture {
  config: {
    vocab_size: number;
    max_len: number;
    n_encoder_layer: number;
    n_decoder_layer: number;
    n_head: number;
    d_model: number;
    d_ff: number;
    dropout: number;
    label_smoothing: number;
    attn_bias: boolean;
    pad_id: number;
  };
  state: Record<string, TensorJson>;
  src: TensorJson;
  tgt_in: TensorJson;
  tgt_out: TensorJson;
  memory: TensorJson;
  logits: TensorJson;
  loss: number;
  grads: Record<string, TensorJson>;
  nobias: { logits: TensorJson; loss: number };
  schedule: { d_model: number; warmup_steps: number; lrs: number[] };
  adam: { base_lr: number; betas: [number, number]; eps: number; losses: number[]; final_loss: number };
}

const fx = readModelFixture<TransformerFixture>("transformer");
const fxConfig: TransformerConfig = transformerConfig({
  vocabSize: fx.config.vocab_size,
  maxLen: fx.config.max_len,
  nEncoderLayer: fx.config.n_encoder_layer,
  nDecoderLayer: fx.config.n_decoder_layer,
  nHead: fx.config.n_head,
  dModel: fx.config.d_model,
  dFF: fx.config.d_ff,
  dropout: fx.config.dropout,
  labelSmoothing: fx.config.label_smoothing,
  attnBias: fx.config.attn_bias,
  padId: fx.config.pad_id,
});

function fixtureModel(config = fxConfig): Transformer {
  const model = new Transformer(config, { generator: new Generator(0) });
  const state = tensorsOf(fx.state);
  if (!config.attnBias)
    for (const k of Object.keys(state)) if (/in_proj_bias|out_proj\.bias/.test(k)) state[k] = state[k]!.mul(0);
  model.loadStateDict(fromTorchTransformer(state, config));
  return model;
}

const batch = (): { src: Tensor; tgtIn: Tensor; tgtOut: Tensor } => ({
  src: fromJson(fx.src),
  tgtIn: fromJson(fx.tgt_in),
  tgtOut: fromJson(fx.tgt_out),
});

// -----------------------------------------------------------------------------------------------------
// Parity with PyTorch

test("Transformer matches PyTorch's post-LN layers: encoder output, decoder logits, label-smoothed loss, every gradient", () => {
  const model = fixtureModel();
  const { src, tgtIn, tgtOut } = batch();
  const memory = model.encode(src);
  assertClose(memory, fromJson(fx.memory), { atol: 1e-4, rtol: 0 }, "encoder output");
  const { logits, loss } = model.forward(src, tgtIn, tgtOut);
  assertClose(logits, fromJson(fx.logits), { atol: 1e-4, rtol: 0 }, "logits");
  assert.ok(Math.abs(loss!.item() - fx.loss) <= 1e-5, `loss ${loss!.item()} vs PyTorch ${fx.loss}`);
  loss!.backward();
  const expected = fromTorchTransformer(tensorsOf(fx.grads), fxConfig); // the same map: splitting is linear
  const params = model.namedParameters();
  assert.deepEqual(params.map(([n]) => n).sort(), Object.keys(expected).sort());
  for (const [name, p] of params) assertClose(p.grad!, expected[name]!, { rtol: 1e-3, atol: 1e-5 }, `d loss/d ${name}`);
});

test("without attention biases (the paper's projections) the logits and loss match PyTorch's with zeroed biases", () => {
  const model = fixtureModel(transformerConfig(fxConfig, { attnBias: false }));
  const { src, tgtIn, tgtOut } = batch();
  const { logits, loss } = model.forward(src, tgtIn, tgtOut);
  assertClose(logits, fromJson(fx.nobias.logits), { atol: 1e-4, rtol: 0 }, "logits");
  assert.ok(Math.abs(loss!.item() - fx.nobias.loss) <= 1e-5, `loss ${loss!.item()} vs PyTorch ${fx.nobias.loss}`);
});

test("the padding mask: padded source and target tokens change nothing else", () => {
  const model = fixtureModel();
  const { src, tgtIn } = batch();
  noGrad(() => {
    const a = model.forward(src, tgtIn).logits; // (B, T, V)
    // row 2 alone, without padding, against its padded version in the batch
    const S2 = 4,
      T2 = 2; // row 2 holds 3 source tokens + EOS, and BOS + 1 target token
    const alone = model.forward(src.narrow(0, 2, 1).narrow(1, 0, S2), tgtIn.narrow(0, 2, 1).narrow(1, 0, T2)).logits; // (1, T2, V)
    assertClose(alone, a.narrow(0, 2, 1).narrow(1, 0, T2), { atol: 1e-5, rtol: 1e-5 }, "row 2 without padding");
  });
});

// -----------------------------------------------------------------------------------------------------
// The schedule and the optimizer

test("LambdaLR(inverseSqrtWarmup) gives PyTorch's learning rates: d^−0.5·min(s^−0.5, s·w^−1.5)", () => {
  const { d_model, warmup_steps, lrs } = fx.schedule;
  const opt = new optim.Adam([tensor([0], { requiresGrad: true })], { lr: 1 });
  const sched = new optim.LambdaLR(opt, optim.inverseSqrtWarmup({ dModel: d_model, warmupSteps: warmup_steps }));
  const seen: number[] = [];
  for (let i = 0; i < lrs.length; i++) {
    seen.push(opt.paramGroups[0]!.lr);
    sched.step();
  }
  assertClose(seen, lrs, { atol: 0, rtol: 1e-12 }, "lr");
  // the peak is at step s = warmup (epoch warmup − 1), d^−0.5·w^−0.5
  const peak = seen.indexOf(Math.max(...seen));
  assert.equal(peak, warmup_steps - 1);
  // state dict round trip
  const sd = sched.stateDict();
  const opt2 = new optim.Adam([tensor([0], { requiresGrad: true })], { lr: 1 });
  const sched2 = new optim.LambdaLR(opt2, optim.inverseSqrtWarmup({ dModel: d_model, warmupSteps: warmup_steps }));
  sched2.loadStateDict(sd);
  sched.step();
  sched2.step();
  assert.equal(opt2.paramGroups[0]!.lr, opt.paramGroups[0]!.lr);
  assertThrowsWith(
    () => optim.inverseSqrtWarmup({ dModel: 8, warmupSteps: 0 }),
    ArgumentError,
    /warmupSteps must be an integer ≥ 1/,
  );
  assertThrowsWith(
    () => new optim.LambdaLR(opt, [(e: number) => e, (e: number) => e]),
    ArgumentError,
    /expected one function or 1/,
  );
});

test("6 Adam steps (betas 0.9, 0.98, eps 1e-9) under the schedule give PyTorch's losses", () => {
  const model = fixtureModel();
  const { src, tgtIn, tgtOut } = batch();
  const { base_lr, betas, eps } = fx.adam;
  const opt = new optim.Adam(model.parameters(), { lr: base_lr, betas, eps });
  const sched = new optim.LambdaLR(
    opt,
    optim.inverseSqrtWarmup({ dModel: fx.schedule.d_model, warmupSteps: fx.schedule.warmup_steps }),
  );
  const losses: number[] = [];
  for (let step = 0; step < fx.adam.losses.length; step++) {
    model.zeroGrad();
    const { loss } = model.forward(src, tgtIn, tgtOut);
    losses.push(loss!.item());
    loss!.backward();
    opt.step();
    sched.step();
  }
  const final = noGrad(() => model.forward(src, tgtIn, tgtOut).loss!.item());
  assertClose([...losses, final], [...fx.adam.losses, fx.adam.final_loss], { atol: 2e-4, rtol: 0 }, "Adam losses");
});

// -----------------------------------------------------------------------------------------------------
// Overfitting one batch

test("the Transformer overfits one batch", () => {
  const config = transformerConfig("tiny", {
    vocabSize: 17,
    maxLen: 16,
    nEncoderLayer: 1,
    nDecoderLayer: 1,
    nHead: 2,
    dModel: 32,
    dFF: 64,
    dropout: 0,
    labelSmoothing: 0,
  });
  const model = new Transformer(config, { generator: new Generator(3) });
  const g = new Generator(4);
  const src = randint(3, 17, [4, 8], { generator: g }),
    tgtIn = randint(3, 17, [4, 6], { generator: g }),
    tgtOut = randint(3, 17, [4, 6], { generator: g });
  const opt = new optim.Adam(model.parameters(), { lr: 1e-2, betas: [0.9, 0.98], eps: 1e-9 });
  let first = NaN,
    loss = NaN,
    steps = 0;
  for (; steps < 150 && !(loss < 0.05); steps++) {
    model.zeroGrad();
    const out = model.forward(src, tgtIn, tgtOut);
    loss = out.loss!.item();
    if (steps === 0) first = loss;
    out.loss!.backward();
    opt.step();
  }
  assert.ok(first > 2.5, `the first loss ${first} should be near ln 17 = 2.83`);
  assert.ok(loss < 0.05, `loss ${loss} after ${steps} steps (first ${first})`);
});

// -----------------------------------------------------------------------------------------------------
// The KV cache and decoding

test("the KV-cached decoder equals the full forward at every step", () => {
  const model = fixtureModel().eval();
  const { src, tgtIn } = batch();
  noGrad(() => {
    const full = model.forward(src, tgtIn).logits; // (B, T, V)
    const srcMask = model.sourceMask(src);
    const memory = model.encode(src, srcMask);
    const cache = new KVCache(fxConfig.nDecoderLayer);
    // row 0 has no target padding; rows 1 and 2 are compared where their targets are real tokens
    const prompt = model.lmHead.forward(model.decode(tgtIn.narrow(1, 0, 2), memory, srcMask, cache)); // (B, 2, V)
    assertClose(
      prompt.narrow(0, 0, 1),
      full.narrow(0, 0, 1).narrow(1, 0, 2),
      { atol: 1e-5, rtol: 1e-5 },
      "prompt logits",
    );
    for (let t = 2; t < tgtIn.shape[1]!; t++) {
      const step = model.lmHead.forward(model.decode(tgtIn.narrow(1, t, 1), memory, srcMask, cache)); // (B, 1, V)
      assertClose(
        step.narrow(0, 0, 1),
        full.narrow(0, 0, 1).narrow(1, t, 1),
        { atol: 1e-5, rtol: 1e-5 },
        `logits at step ${t}`,
      );
      assert.equal(cache.length, t + 1);
    }
    assertThrowsWith(
      () => model.decode(randint(3, 13, [3, 11]), memory, srcMask, cache),
      ShapeError,
      /6 cached \+ 11 tokens exceed maxLen 16/,
    );
  });
});

/** Greedy decoding the slow way: the full forward of the whole prefix at every step, argmax over tokens ≠ PAD, BOS. */
function slowGreedy(model: Transformer, src: Tensor, eosId: number, maxLen: number): number[] {
  return noGrad(() => {
    const seq = [1];
    for (;;) {
      const logits = model.forward(src, tensor([seq], { dtype: "int32" })).logits; // (1, t, V)
      const last = logits
        .narrow(1, seq.length - 1, 1)
        .reshape(model.config.vocabSize)
        .toArray() as number[];
      let next = 2;
      for (let v = 2; v < last.length; v++) if (last[v]! > last[next]!) next = v;
      if (next === eosId || seq.length - 1 === maxLen) return seq.slice(1);
      seq.push(next);
    }
  });
}

test("greedy decoding takes the argmax of the full forward at every step, and stops at EOS", () => {
  const model = fixtureModel();
  const { src } = batch();
  const out = greedyDecode(model, src, { bosId: 1, eosId: 2, maxLen: 10 });
  assert.equal(model.training, true, "decoding restores the training mode");
  model.eval();
  for (let b = 0; b < 3; b++) assert.deepEqual(out[b], slowGreedy(model, src.narrow(0, b, 1), 2, 10), `row ${b}`);
  // with row 0's second token as the end token, row 0 stops after its first
  const eos = out[0]![1]!;
  const stopped = greedyDecode(model, src, { bosId: 1, eosId: eos, maxLen: 10 });
  assert.deepEqual(stopped[0], out[0]!.slice(0, 1));
  for (let b = 0; b < 3; b++)
    assert.deepEqual(stopped[b], slowGreedy(model, src.narrow(0, b, 1), eos, 10), `row ${b}, EOS ${eos}`);
});

test("beam search with beam 1 is greedy decoding; wider beams score at least as well as greedy", () => {
  const config = transformerConfig("tiny", {
    vocabSize: 11,
    maxLen: 16,
    nEncoderLayer: 1,
    nDecoderLayer: 2,
    nHead: 2,
    dModel: 16,
    dFF: 32,
    dropout: 0,
  });
  const g = new Generator(21);
  for (let trial = 0; trial < 4; trial++) {
    const model = new Transformer(config, { generator: new Generator(30 + trial) });
    const src = randint(3, 11, [3, 6], { generator: g });
    const greedy = greedyDecode(model, src, { bosId: 1, eosId: 2, maxLen: 8 });
    for (const alpha of [0, 0.6, 1]) {
      const beam1 = beamSearch(model, src, { bosId: 1, eosId: 2, maxLen: 8, beamSize: 1, lengthPenalty: alpha });
      assert.deepEqual(beam1.tokens, greedy, `trial ${trial}, α ${alpha}`);
    }
    // with α = 0 the beam's score is log P(Y|X); the best of 4 beams is at least greedy's log P
    const beam4 = beamSearch(model, src, { bosId: 1, eosId: 2, maxLen: 8, beamSize: 4, lengthPenalty: 0 });
    const logP = (b: number, toks: number[]): number =>
      noGrad(() => {
        model.eval();
        const ended = toks.length < 8 ? [...toks, 2] : toks;
        const lp = model
          .forward(src.narrow(0, b, 1), tensor([[1, ...ended.slice(0, -1)]], { dtype: "int32" }))
          .logits.logSoftmax(-1); // (1, t, V)
        return ended.reduce((s, tok, t) => s + lp.storage[t * 11 + tok]!, 0);
      });
    for (let b = 0; b < 3; b++) {
      assert.ok(
        Math.abs(beam4.scores[b]! - logP(b, beam4.tokens[b]!)) < 1e-4,
        `beam score ${beam4.scores[b]} is log P of its tokens ${logP(b, beam4.tokens[b]!)}`,
      );
      assert.ok(
        beam4.scores[b]! >= logP(b, greedy[b]!) - 1e-4,
        `trial ${trial} row ${b}: beam ${beam4.scores[b]} < greedy ${logP(b, greedy[b]!)}`,
      );
    }
  }
});

test("beam search: the length penalty lp = ((5 + |Y|)/6)^α divides the score of the hypothesis returned", () => {
  const config = transformerConfig("tiny", {
    vocabSize: 11,
    maxLen: 16,
    nEncoderLayer: 1,
    nDecoderLayer: 1,
    nHead: 2,
    dModel: 16,
    dFF: 32,
    dropout: 0,
  });
  const model = new Transformer(config, { generator: new Generator(40) });
  const src = randint(3, 11, [2, 5], { generator: new Generator(41) });
  const r0 = beamSearch(model, src, { bosId: 1, eosId: 2, maxLen: 6, beamSize: 3, lengthPenalty: 0 });
  const r6 = beamSearch(model, src, { bosId: 1, eosId: 2, maxLen: 6, beamSize: 3, lengthPenalty: 0.6 });
  model.eval();
  for (let b = 0; b < 2; b++) {
    // the score is log P of the tokens (+ EOS unless cut at maxLen) over lp(|Y|), |Y| counting the EOS
    for (const [r, alpha] of [
      [r0, 0],
      [r6, 0.6],
    ] as const) {
      const toks = r.tokens[b]!,
        ended = toks.length < 6 ? [...toks, 2] : toks;
      const lp = noGrad(() =>
        model
          .forward(src.narrow(0, b, 1), tensor([[1, ...ended.slice(0, -1)]], { dtype: "int32" }))
          .logits.logSoftmax(-1),
      ); // (1, t, V)
      const logP = ended.reduce((sum, tok, t) => sum + lp.storage[t * 11 + tok]!, 0);
      assert.ok(
        Math.abs(r.scores[b]! - logP / ((5 + ended.length) / 6) ** alpha) < 1e-4,
        `α ${alpha}, row ${b}: ${r.scores[b]} vs ${logP}/lp(${ended.length})`,
      );
    }
    const again = beamSearch(model, src.narrow(0, b, 1), {
      bosId: 1,
      eosId: 2,
      maxLen: 6,
      beamSize: 3,
      lengthPenalty: 0.6,
    });
    assert.deepEqual(again.tokens[0], r6.tokens[b], "a sentence decodes the same alone as in a batch");
  }
  assertThrowsWith(
    () => beamSearch(model, src, { bosId: 1, eosId: 2, beamSize: 0 }),
    ArgumentError,
    /beamSize must be a positive integer, got 0/,
  );
  assertThrowsWith(
    () => greedyDecode(model, src, { bosId: 11, eosId: 2 }),
    ArgumentError,
    /bosId must be a token id in \[0, 11\), got 11/,
  );
  assertThrowsWith(
    () => greedyDecode(model, src, { bosId: 1, eosId: 2, maxLen: 16 }),
    ArgumentError,
    /maxLen must be an integer in \[1, 15\], got 16/,
  );
});

// -----------------------------------------------------------------------------------------------------
// Parameter count, config, init

test("the base preset has 63,045,632 parameters with the paper's 37,000-token vocabulary; the count from the config equals the allocated model's", () => {
  // 6 encoder layers of 4·512² + 2·(512·2048) + 2048 + 512 + 2·2·512 = 3,150,336, 6 decoder layers of 4,199,936, E (37000, 512)
  assert.equal(countParameters(PRESETS.base), 37000 * 512 + 6 * 3_150_336 + 6 * 4_199_936);
  assert.equal(countParameters(PRESETS.base), 63_045_632);
  assert.equal(countParameters(PRESETS.base, { nonEmbedding: true }), 44_101_632);
  for (const c of [
    fxConfig,
    transformerConfig(fxConfig, { attnBias: false }),
    transformerConfig("tiny"),
    transformerConfig("tiny", { nEncoderLayer: 3, nDecoderLayer: 1, dModel: 24, nHead: 3, dFF: 40, vocabSize: 7 }),
  ]) {
    const model = new Transformer(c, { generator: new Generator(0) });
    assert.equal(model.numParameters(), countParameters(c));
    assert.equal(model.numParameters({ nonEmbedding: true }), countParameters(c, { nonEmbedding: true }));
  }
  // the PyTorch model counted its own parameters
  assert.equal(
    countParameters(fxConfig),
    Object.values(fx.state).reduce((n, t) => n + t.data.length, 0),
  );
});

test("one embedding for source, target and output head: one tensor, listed once", () => {
  const model = new Transformer(fxConfig, { generator: new Generator(0) });
  assert.equal(model.lmHead.weight, model.tokEmb.weight);
  const names = model.namedParameters().map(([n]) => n);
  assert.ok(names.includes("tokEmb.weight") && !names.some((n) => n.startsWith("lmHead")));
  assert.ok(!Object.keys(model.stateDict()).includes("pe"), "the sinusoid table is not saved");
});

test("the sinusoid table: sin on even channels, cos on odd ones, wavelengths 2π·10000^(2i/C)", () => {
  const pe = sinusoids(50, 8);
  const at = (pos: number, ch: number): number => pe.storage[pos * 8 + ch]!;
  for (const pos of [0, 1, 7, 49]) {
    for (let i = 0; i < 4; i++) {
      const w = pos / 10000 ** ((2 * i) / 8);
      assert.ok(
        Math.abs(at(pos, 2 * i) - Math.sin(w)) < 1e-6 && Math.abs(at(pos, 2 * i + 1) - Math.cos(w)) < 1e-6,
        `pos ${pos} i ${i}`,
      );
    }
  }
});

test("configs are frozen and checked; inputs are checked", () => {
  const c = transformerConfig("tiny", { vocabSize: 80 });
  assert.ok(Object.isFrozen(c) && Object.isFrozen(PRESETS.base));
  assertThrowsWith(
    () => transformerConfig("tiny", { nHead: 3 }),
    ArgumentError,
    /dModel 64 must be a multiple of nHead 3/,
  );
  assertThrowsWith(() => transformerConfig("big" as "base"), ArgumentError, /unknown preset "big"/);
  assertThrowsWith(
    () => transformerConfig("tiny", { padId: 64 }),
    ArgumentError,
    /padId must be a token id in \[0, 64\), got 64/,
  );
  assertThrowsWith(() => transformerConfig("tiny", { labelSmoothing: 2 }), ArgumentError, /labelSmoothing/);
  const model = new Transformer(fxConfig, { generator: new Generator(0) });
  assertThrowsWith(
    () => model.forward(tensor([[1, 2]]), randint(0, 13, [1, 2])),
    DTypeError,
    /src must be int32 token ids, got float32 \(1,2\)/,
  );
  assertThrowsWith(
    () => model.forward(randint(0, 13, [4]), randint(0, 13, [1, 2])),
    ShapeError,
    /src must be \(B, S\) token ids, got shape \(4\)/,
  );
  assertThrowsWith(
    () => model.forward(randint(0, 13, [1, 17]), randint(0, 13, [1, 2])),
    ShapeError,
    /17 tokens exceed maxLen 16/,
  );
  assertThrowsWith(
    () => model.forward(randint(0, 13, [1, 4]), randint(0, 13, [1, 2]), randint(0, 13, [1, 3])),
    ShapeError,
    /targets \(1,3\)/,
  );
});

test("init: embedding N(0, 1/C), Xavier-uniform weights, zero biases, unit gains; seeded", () => {
  const c = transformerConfig("tiny", { vocabSize: 256, attnBias: true });
  const a = new Transformer(c, { generator: new Generator(1) }),
    b = new Transformer(c, { generator: new Generator(1) });
  for (const [name, t] of Object.entries(a.stateDict()))
    assert.deepEqual(t.storage, b.stateDict()[name]!.storage, name);
  const std = (t: Tensor): number => Math.sqrt(Array.from(t.storage).reduce((s, x) => s + x * x, 0) / t.numel());
  assert.ok(Math.abs(std(a.tokEmb.weight) * Math.sqrt(64) - 1) < 0.05, `embedding std ${std(a.tokEmb.weight)}`);
  const up = a.decoder.at(1).mlp.up.weight; // (F, C): U(±√(6/(C + F))) has std √(2/(C + F))
  assert.ok(Math.abs(std(up) / Math.sqrt(2 / (64 + 128)) - 1) < 0.05, `xavier std ${std(up)}`);
  assert.ok(Math.max(...Array.from(up.storage, Math.abs)) <= Math.sqrt(6 / (64 + 128)));
  assert.ok(
    a.encoder.at(0).attn.wq.bias!.storage.every((x) => x === 0) &&
      a.encoder.at(0).norm1.weight!.storage.every((x) => x === 1),
  );
});

test("dropout is active in training mode only", () => {
  const c = transformerConfig(fxConfig, { dropout: 0.2 });
  const model = new Transformer(c, { generator: new Generator(2) });
  const { src, tgtIn } = batch();
  noGrad(() => {
    assert.notDeepEqual(model.forward(src, tgtIn).logits.storage, model.forward(src, tgtIn).logits.storage);
    model.eval();
    assert.deepEqual(model.forward(src, tgtIn).logits.storage, model.forward(src, tgtIn).logits.storage);
  });
});

// -----------------------------------------------------------------------------------------------------
// Weight map and attention weights

test("weight map: our names ↔ PyTorch's nn.Transformer layer names, both ways", () => {
  const theirs = toTorchTransformer(fixtureModel().stateDict(), fxConfig);
  assert.deepEqual(Object.keys(theirs).sort(), Object.keys(fx.state).sort());
  for (const [k, t] of Object.entries(theirs))
    assert.deepEqual(
      Array.from(t.storage),
      fx.state[k]!.data.map((x) => Math.fround(x as number)),
      k,
    );
  // without attention biases: zeros written, zeros accepted, non-zero refused
  const nb = transformerConfig(fxConfig, { attnBias: false });
  const nbTheirs = toTorchTransformer(new Transformer(nb, { generator: new Generator(0) }).stateDict(), nb);
  assert.ok(nbTheirs["encoder.layers.0.self_attn.in_proj_bias"]!.storage.every((x) => x === 0));
  new Transformer(nb, { generator: new Generator(1) }).loadStateDict(fromTorchTransformer(nbTheirs, nb));
  assertThrowsWith(
    () => fromTorchTransformer(tensorsOf(fx.state), nb),
    ArgumentError,
    /in_proj_bias is not zero, but the config has attnBias: false/,
  );
  assertThrowsWith(
    () => fromTorchTransformer({ ...tensorsOf(fx.state), "encoder.norm.weight": tensor([1]) }, fxConfig),
    ArgumentError,
    /unexpected keys.*encoder\.norm\.weight/,
  );
  const { ["decoder.layers.1.norm3.bias"]: _, ...missing } = tensorsOf(fx.state);
  assertThrowsWith(
    () => fromTorchTransformer(missing, fxConfig),
    ArgumentError,
    /missing key decoder\.layers\.1\.norm3\.bias/,
  );
});

test("kept attention weights are the rows of softmax(q·kᵀ/√hs + M): sum to 1, zero on padding and the future", () => {
  const model = fixtureModel().eval();
  const { src, tgtIn } = batch();
  const layer = model.decoder.at(1);
  layer.attn.keepWeights = true;
  layer.cross.keepWeights = true;
  noGrad(() => model.forward(src, tgtIn));
  const self = layer.attn.weights!,
    cross = layer.cross.weights!; // (B, nh, T, T), (B, nh, T, S)
  const [B, nh, T] = self.shape as [number, number, number];
  const S = cross.shape[3]!;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < nh; h++) {
      for (let i = 0; i < T; i++) {
        let sumSelf = 0,
          sumCross = 0;
        for (let j = 0; j < T; j++) {
          const w = self.storage[((b * nh + h) * T + i) * T + j]!;
          sumSelf += w;
          if (j > i || tgtIn.storage[b * T + j] === 0) assert.equal(w, 0, `self (${b},${h},${i},${j})`);
        }
        for (let j = 0; j < S; j++) {
          const w = cross.storage[((b * nh + h) * T + i) * S + j]!;
          sumCross += w;
          if (src.storage[b * S + j] === 0) assert.equal(w, 0, `cross (${b},${h},${i},${j})`);
        }
        assert.ok(Math.abs(sumSelf - 1) < 1e-5 && Math.abs(sumCross - 1) < 1e-5);
      }
    }
  }
  // isCausal written out is the lower triangle
  const q = randint(0, 3, [1, 1, 3, 2]).float(),
    k = randint(0, 3, [1, 1, 3, 2]).float();
  const w = attentionWeights(q, k, { isCausal: true });
  assert.deepEqual([w.storage[1], w.storage[2], w.storage[5]], [0, 0, 0]);
});
