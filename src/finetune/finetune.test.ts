// Fine-tuning methods on tiny models of four families: the wrapped model equals the base at step 0, the
// frozen parameters do not move during training, merge/unmerge agree, the trainable counts follow from the
// shapes, and bad input is refused with a typed error before anything changes.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError, Generator, noGrad, randint, randn, type Tensor } from "../index.js";
import * as optim from "../optim/index.js";
import { assertThrowsWith } from "../../test/harness/assert.js";
import { GPT, gptConfig } from "../models/gpt2/model.js";
import { Llama, llamaConfig } from "../models/llama/model.js";
import { BertForMaskedLM, BertForSequenceClassification, bertConfig } from "../models/bert/model.js";
import { KVCache } from "../models/transformer/model.js";
import { tensor } from "../engine/creation.js";
import { T5, t5Config } from "../models/t5/model.js";
import type { Module } from "../nn/module.js";
import {
  applyAdapters,
  applyBitFit,
  applyEncoderPrefixTuning,
  applyEncoderPromptTuning,
  applyFullFinetune,
  applyIA3,
  applyLora,
  applyMethod,
  applyPrefixTuning,
  applyPromptTuning,
  loraLayers,
  mergeAndUnloadLora,
  mergeLora,
  snapshotFrozen,
  stepBytes,
  tapeBytes,
  trainableReport,
  unmergeLora,
  METHODS,
  PrefixTuning,
  type Finetuned,
} from "./index.js";

const g = (): Generator => new Generator(7);
const gpt = (): GPT =>
  new GPT(gptConfig({ vocabSize: 13, blockSize: 12, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true }), {
    generator: g(),
  });
const llama = (): Llama =>
  new Llama(llamaConfig("tiny", { vocabSize: 13, blockSize: 12, nLayer: 2, nHead: 4, nKvHeads: 2, nEmbd: 32 }), {
    generator: g(),
  });
const bert = (): BertForSequenceClassification =>
  new BertForSequenceClassification(
    bertConfig("tiny", { vocabSize: 13, nLayer: 2, dModel: 16, nHead: 2, dFF: 32, dropout: 0 }),
    2,
    { generator: g() },
  );
const t5 = (): T5 =>
  new T5(t5Config("tiny", { vocabSize: 13, dModel: 16, dKv: 8, nHead: 2, dFF: 32, dropout: 0 }), { generator: g() });

const idx = randint(0, 13, [2, 6], { generator: new Generator(3) });
const idx2 = randint(0, 13, [2, 5], { generator: new Generator(4) });

type Family = { name: string; make: () => Module; run: (m: Module) => Tensor };
const FAMILIES: Family[] = [
  { name: "GPT-2", make: gpt, run: (m) => (m as GPT).forward(idx).logits },
  { name: "LLaMA", make: llama, run: (m) => (m as Llama).forward(idx).logits },
  { name: "BERT", make: bert, run: (m) => (m as BertForSequenceClassification).forward(idx).logits },
  { name: "T5", make: t5, run: (m) => (m as T5).forward(idx, idx2).logits },
];

const out = (f: Family, m: Module): Float32Array => noGrad(() => f.run(m).storage.slice() as Float32Array);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

// -----------------------------------------------------------------------------------------------------
// Step 0: the wrapped model is the base model

for (const f of FAMILIES) {
  test(`${f.name}: LoRA and (IA)³ at initialisation reproduce the base model bit for bit; adapters within 1% of the output's scale`, () => {
    const base = out(f, f.make());
    const lora = applyLora(f.make(), {
      r: 4,
      alpha: 8,
      targetModules: ["attn.wq", "attn.wv", "mlp.down"],
      generator: g(),
    });
    assert.deepEqual(out(f, lora.model), base, "LoRA at step 0");
    const ia3 = applyIA3(f.make());
    assert.deepEqual(out(f, ia3.model), base, "IA3 at step 0");
    const adapter = applyAdapters(f.make(), { bottleneck: 4, generator: g() });
    // near identity: |Δy| ≤ 1e-2·max|y| (the N(0, 10⁻⁴) weights perturb each sublayer by ~1e-4 of its output)
    const d = maxDiff(out(f, adapter.model), base),
      scale = maxDiff(base, new Float32Array(base.length));
    assert.ok(d > 0 && d < 1e-2 * scale, `adapters near identity: max |Δ| ${d} for max |y| ${scale}`);
  });
}

for (const make of [gpt, llama]) {
  test(`${make().constructor.name}: prefix and prompt tuning of length 0 are the base model; longer ones change it`, () => {
    const base = noGrad(() => make().forward(idx).logits.storage.slice());
    for (const apply of [applyPrefixTuning, applyPromptTuning]) {
      const zero = apply(make() as never, { numVirtualTokens: 0, generator: g() });
      assert.deepEqual(
        noGrad(() => zero.model.forward(idx).logits.storage.slice()),
        base,
        `${apply.name} n = 0`,
      );
      const some = apply(make() as never, { numVirtualTokens: 3, generator: g() });
      assert.ok(
        maxDiff(
          noGrad(() => some.model.forward(idx).logits.storage),
          base,
        ) > 1e-3,
        `${apply.name} n = 3 changes the output`,
      );
    }
  });
}

// Encoders and encoder-decoders: prefix and prompt tuning of BERT and T5, with padding masks in play
const bertMlm = (): BertForMaskedLM =>
  new BertForMaskedLM(bertConfig("tiny", { vocabSize: 13, nLayer: 2, dModel: 16, nHead: 2, dFF: 32, dropout: 0 }), {
    generator: g(),
  });
const pad = tensor(
  [
    [1, 1, 1, 1, 0, 0],
    [1, 1, 1, 1, 1, 1],
  ],
  { dtype: "int32" },
); // (2, 6): row 0 has 2 padding tokens
const encoderCases: Family[] = [
  {
    name: "BERT (classifier)",
    make: bert,
    run: (m) => (m as BertForSequenceClassification).forward(idx, { attentionMask: pad }).logits,
  },
  {
    name: "BERT (masked LM)",
    make: bertMlm,
    run: (m) => (m as BertForMaskedLM).forward(idx, { attentionMask: pad }).logits,
  },
  { name: "T5", make: t5, run: (m) => (m as T5).forward(idx, idx2, { attentionMask: pad }).logits },
];

for (const f of encoderCases) {
  test(`${f.name}: prefix and prompt tuning of length 0 are the base model bit for bit; length 3 changes it; the shapes stay`, () => {
    const base = out(f, f.make());
    for (const apply of [applyEncoderPrefixTuning, applyEncoderPromptTuning] as ((
      m: never,
      o: object,
    ) => Finetuned<Module>)[]) {
      const zero = apply(f.make() as never, { numVirtualTokens: 0, generator: g() });
      assert.deepEqual(out(f, zero.model), base, `${apply.name} n = 0`);
      const some = apply(f.make() as never, { numVirtualTokens: 3, generator: g() });
      const o = out(f, some.model);
      assert.equal(o.length, base.length, `${apply.name}: the real tokens' outputs only`);
      const scale = maxDiff(base, new Float32Array(base.length));
      assert.ok(
        maxDiff(o, base) > 1e-3 * scale,
        `${apply.name} n = 3 changes the output: max |Δ| ${maxDiff(o, base)}, max |y| ${scale}`,
      );
    }
  });
}

test("BERT and T5 prompt tuning starts from real vocabulary rows; the trainable counts follow from the shapes", () => {
  const ft = applyEncoderPromptTuning(t5(), { numVirtualTokens: 3, generator: g() });
  const E = ft.model.base.tokEmb; // the wrapper around the shared embedding
  const rows = (E as unknown as { base: { weight: Tensor } }).base.weight.storage,
    P = (E as unknown as { prompt: Tensor }).prompt.storage,
    C = 16;
  for (let i = 0; i < 3; i++) {
    const row = P.subarray(i * C, (i + 1) * C);
    assert.ok(
      Array.from({ length: 13 }, (_, v) => v).some((v) => maxDiff(rows.subarray(v * C, (v + 1) * C), row) === 0),
      `P_e[${i}] is a row of E`,
    );
  }
  assert.equal(trainableReport(ft.model).trainable, 3 * C);
  // T5 tiny: 2 encoder + 2 decoder layers (self + cross) = 6 attentions of I = nh·dk = 16; prefix P' (3, C), W₁ (C, C), W₂ (6·2·16, C)
  const nAttn = [...t5().namedModules()].filter(([p]) => /(attn|cross)$/.test(p)).length,
    I = 16;
  const prefix = applyEncoderPrefixTuning(t5(), { numVirtualTokens: 3, generator: g() });
  assert.equal(prefix.model.attentions.length, nAttn);
  assert.equal(trainableReport(prefix.model).trainable, 3 * C + (C * C + C) + (nAttn * 2 * I * C + nAttn * 2 * I));
  assert.equal(applyEncoderPrefixTuning(bert(), { numVirtualTokens: 3, generator: g() }).model.attentions.length, 2);
});

test("T5 prefix tuning: folding keeps the outputs; the prefixed attentions refuse to run outside the wrapper", () => {
  const ft = applyEncoderPrefixTuning(t5(), { numVirtualTokens: 2, generator: g() });
  const run = (): Float32Array =>
    noGrad(() => ft.model.forward(idx, idx2, { attentionMask: pad }).logits.storage.slice() as Float32Array);
  const before = run();
  ft.model.fold();
  assert.ok(maxDiff(run(), before) < 1e-5);
  assertThrowsWith(() => ft.model.base.forward(idx, idx2), ArgumentError, /outside EncoderPrefixTuning/);
  assertThrowsWith(() => ft.model.base.greedy(idx), ArgumentError, /outside EncoderPrefixTuning/);
  const bert1 = applyEncoderPrefixTuning(bert(), { numVirtualTokens: 2, generator: g() });
  assertThrowsWith(() => bert1.model.greedy(idx), ArgumentError, /has no decoder/);
});

test("T5 prefix tuning: cached greedy decoding, sampling and beam search equal uncached decoding of the whole prefix + sequence", () => {
  // a prefix far from zero (P_θ itself, N(0, 1)) and a padded input, so that both the self- and the
  // cross-attention prefixes and the mask's extra columns matter
  const ft = applyEncoderPrefixTuning(t5(), { numVirtualTokens: 3, noReparameterization: true, generator: g() });
  noGrad(() =>
    ft.model.prefixKV!.storage.set(randn([ft.model.prefixKV!.numel()], { generator: new Generator(9) }).storage),
  );
  const m = ft.model;
  const { eosId, decoderStartId, vocabSize: V } = m.base.config;
  const maxLen = 6;
  // uncached: feed [start, y_1 … y_t] whole through the wrapper's forward and take the argmax at the last position
  const uncached: number[][] = [];
  for (let b = 0; b < 2; b++) {
    const src = idx.narrow(0, b, 1),
      mask = pad.narrow(0, b, 1);
    const ys = [decoderStartId];
    const row: number[] = [];
    for (let t = 0; t < maxLen; t++) {
      const logits = noGrad(
        () => m.forward(src, tensor(Int32Array.from(ys), { shape: [1, ys.length] }), { attentionMask: mask }).logits,
      ).storage; // (1, t+1, V)
      let best = 0;
      for (let v = 1; v < V; v++) if (logits[t * V + v]! > logits[t * V + best]!) best = v;
      if (best === eosId) break;
      row.push(best);
      ys.push(best);
    }
    uncached.push(row);
  }
  assert.ok(
    uncached.some((r) => r.length > 0),
    "the test decodes at least one token",
  );
  assert.deepEqual(m.greedy(idx, { attentionMask: pad, maxLen }), uncached);
  assert.deepEqual(m.generate(idx, { attentionMask: pad, maxLen, temperature: 0 }), uncached);
  assert.deepEqual(m.beamSearch(idx, { attentionMask: pad, maxLen, beamSize: 1 }).tokens, uncached);
  // a beam of 3 reorders the cache as hypotheses are extended: each best hypothesis's log P(Y|X) is the uncached one
  const beams = m.beamSearch(idx, { attentionMask: pad, maxLen, beamSize: 3 });
  for (let b = 0; b < 2; b++) {
    const y = beams.tokens[b]!,
      targets = y.length < maxLen ? [...y, eosId] : y; // EOS counts when it was generated
    const logits = noGrad(() =>
      m
        .forward(
          idx.narrow(0, b, 1),
          tensor(Int32Array.from([decoderStartId, ...targets.slice(0, -1)]), { shape: [1, targets.length] }),
          {
            attentionMask: pad.narrow(0, b, 1),
          },
        )
        .logits.logSoftmax(-1),
    ).storage; // (1, |targets|, V)
    const logProb = targets.reduce((s, tok, t) => s + logits[t * V + tok]!, 0);
    assert.ok(Math.abs(beams.logProbs[b]! - logProb) < 1e-4, `beam row ${b}: ${beams.logProbs[b]} vs ${logProb}`);
  }
  // and the prefix changes what is decoded: the base alone decodes something else
  assert.notDeepEqual(
    noGrad(() => {
      const base = t5();
      return base.greedy(idx, { attentionMask: pad, maxLen });
    }),
    uncached,
  );
});

// -----------------------------------------------------------------------------------------------------
// Training: only the method's parameters move

/** Train `steps` AdamW steps of next-token prediction (or classification) on one batch; return the losses. */
function train(ft: Finetuned<Module>, loss: (m: Module) => Tensor, steps = 5): number[] {
  const opt = new optim.AdamW(
    ft.trainable.map(([, p]) => p),
    { lr: 1e-2, weightDecay: 0 },
  );
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const l = loss(ft.model);
    losses.push(l.item());
    l.backward();
    opt.step();
    opt.zeroGrad();
  }
  return losses;
}

const lmLoss = (m: Module): Tensor => (m as GPT).forward(idx.narrow(1, 0, 5), idx.narrow(1, 1, 5)).loss!;

for (const method of METHODS) {
  test(`GPT-2 ${method}: training lowers the loss and leaves every frozen parameter bit-identical`, () => {
    const ft = applyMethod(method, gpt(), { r: 2, bottleneck: 4, numVirtualTokens: 2, generator: g() });
    const frozen = snapshotFrozen(ft.model);
    const start = new Map(ft.trainable.map(([name, p]) => [name, p.storage.slice()]));
    if (method !== "full") assert.ok(frozen.size > 0, "something is frozen");
    const losses = train(ft, lmLoss);
    assert.ok(losses[losses.length - 1]! < losses[0]!, `loss ${losses[0]} → ${losses[losses.length - 1]}`);
    const now = new Map(ft.model.namedParameters());
    for (const [name, values] of frozen) assert.deepEqual(now.get(name)!.storage, values, `${name} moved`);
    const moved = ft.trainable.filter(([name, p]) => maxDiff(p.storage, start.get(name)!) > 0).length;
    assert.ok(moved > 0, "the method's parameters moved");
  });
}

test("BERT and T5: LoRA training leaves the frozen parameters bit-identical", () => {
  const b = applyLora(bert(), { r: 2, generator: g() });
  const bFrozen = snapshotFrozen(b.model);
  const labels = randint(0, 2, [2], { generator: new Generator(5) });
  train(b, (m) => (m as BertForSequenceClassification).forward(idx, { targets: labels }).loss!, 3);
  for (const [name, p] of b.model.namedParameters())
    if (bFrozen.has(name)) assert.deepEqual(p.storage, bFrozen.get(name), name);
  const t = applyLora(t5(), { r: 2, targetModules: ["attn.wq", "attn.wv", "cross.wq", "cross.wv"], generator: g() });
  const tFrozen = snapshotFrozen(t.model);
  train(t, (m) => (m as T5).forward(idx, idx2, { targets: idx2 }).loss!, 3);
  for (const [name, p] of t.model.namedParameters())
    if (tFrozen.has(name)) assert.deepEqual(p.storage, tFrozen.get(name), name);
});

// every method on every family where it applies (BitFit needs biases: LLaMA and T5 have none, and say so)
const labels2 = randint(0, 2, [2], { generator: new Generator(5) });
const familyLoss: [string, () => Module, (m: Module) => Tensor][] = [
  ["LLaMA", llama, (m) => (m as Llama).forward(idx.narrow(1, 0, 5), idx.narrow(1, 1, 5)).loss!],
  [
    "BERT",
    bert,
    (m) => (m as BertForSequenceClassification).forward(idx, { targets: labels2, attentionMask: pad }).loss!,
  ],
  ["T5", t5, (m) => (m as T5).forward(idx, idx2, { targets: idx2, attentionMask: pad }).loss!],
];
for (const [name, make, loss] of familyLoss) {
  test(`${name}: every method trains (the loss falls) and leaves every frozen parameter bit-identical`, () => {
    for (const method of METHODS) {
      if (method === "bitfit" && name !== "BERT") {
        assertThrowsWith(() => applyMethod(method, make()), ArgumentError, /no bias parameters/);
        continue;
      }
      const ft = applyMethod(method, make(), { r: 2, bottleneck: 4, numVirtualTokens: 2, generator: g() });
      const frozen = snapshotFrozen(ft.model);
      if (method !== "full")
        assert.ok(frozen.size > 0 && ft.trainable.length > 0, `${method}: something trains, something is frozen`);
      const losses = train(ft, loss, 4);
      assert.ok(losses[3]! < losses[0]!, `${name} ${method}: loss ${losses[0]} → ${losses[3]}`);
      for (const [p, t] of ft.model.namedParameters())
        if (frozen.has(p)) assert.deepEqual(t.storage, frozen.get(p), `${name} ${method}: ${p} moved`);
    }
  });
}

// -----------------------------------------------------------------------------------------------------
// LoRA: merge, unmerge, counts

test("LoRA: merged and unmerged outputs agree within 1e-5; unmerge restores the base weight within 1e-6", () => {
  const ft = applyLora(gpt(), {
    r: 4,
    alpha: 16,
    targetModules: ["wq", "wk", "wv", "wo", "up", "down"],
    generator: g(),
  });
  train(ft, lmLoss, 5); // B ≠ 0 now
  const before = noGrad(() => (ft.model as GPT).forward(idx).logits.storage.slice());
  const w0 = loraLayers(ft.model)[0]![1].base.weight.storage.slice();
  mergeLora(ft.model);
  const merged = noGrad(() => (ft.model as GPT).forward(idx).logits.storage.slice());
  assert.ok(maxDiff(merged, before) < 1e-5, `merged vs unmerged: ${maxDiff(merged, before)}`);
  assert.ok(maxDiff(loraLayers(ft.model)[0]![1].base.weight.storage, w0) > 1e-4, "the merge changed W");
  unmergeLora(ft.model);
  assert.ok(maxDiff(loraLayers(ft.model)[0]![1].base.weight.storage, w0) < 1e-6, "unmerge restored W₀");
  assert.ok(
    maxDiff(
      noGrad(() => (ft.model as GPT).forward(idx).logits.storage),
      before,
    ) < 1e-5,
  );
  mergeAndUnloadLora(ft.model);
  assert.equal(loraLayers(ft.model).length, 0);
  assert.deepEqual(Object.keys(ft.model.stateDict()), Object.keys(gpt().stateDict()), "a plain GPT again");
  assert.ok(
    maxDiff(
      noGrad(() => (ft.model as GPT).forward(idx).logits.storage),
      before,
    ) < 1e-5,
  );
});

test("trainable counts follow from the shapes", () => {
  // GPT-2 tiny here: L 2, C 16, 4C 64
  const L = 2,
    C = 16;
  assert.equal(trainableReport(applyLora(gpt(), { r: 4, generator: g() }).model).trainable, L * 2 * (4 * C + C * 4)); // wq, wv: A (r, C) + B (C, r)
  assert.equal(
    trainableReport(applyAdapters(gpt(), { bottleneck: 4, generator: g() }).model).trainable,
    L * 2 * (C * 4 + 4 + 4 * C + C),
  );
  assert.equal(
    trainableReport(applyAdapters(gpt(), { bottleneck: 4, placement: "pfeiffer", generator: g() }).model).trainable,
    L * (C * 4 + 4 + 4 * C + C),
  );
  assert.equal(trainableReport(applyIA3(gpt()).model).trainable, L * (C + C + 4 * C));
  assert.equal(
    trainableReport(applyPromptTuning(gpt(), { numVirtualTokens: 3, generator: g() }).model).trainable,
    3 * C,
  );
  const prefix = applyPrefixTuning(gpt(), { numVirtualTokens: 3, generator: g() });
  assert.equal(trainableReport(prefix.model).trainable, 3 * C + (C * C + C) + (C * L * 2 * C + L * 2 * C)); // P' (n, C), W₁ (C, C), W₂ (2LC, C)
  const full = applyFullFinetune(gpt());
  const r = trainableReport(full.model);
  assert.equal(r.trainable, r.total);
  assert.equal(r.optimizerBytes, 8 * r.total);
  // BitFit on GPT-2: the Linears' biases (4C + 4C + C per block) and the LayerNorms' β (2C per block, + C)
  assert.equal(trainableReport(applyBitFit(gpt()).model).trainable, L * (4 * C + 4 * C + C + 2 * C) + C);
});

test("prefix tuning: folding the MLP away keeps the outputs and leaves P_θ alone; generation sees the prefix", () => {
  const ft = applyPrefixTuning(gpt(), { numVirtualTokens: 3, generator: g() });
  train(ft, (m) => (m as PrefixTuning).forward(idx.narrow(1, 0, 5), idx.narrow(1, 1, 5)).loss!, 3);
  const before = noGrad(() => ft.model.forward(idx).logits.storage.slice());
  ft.model.fold();
  assert.equal(ft.model.mlpIn, null);
  assert.equal(ft.model.parameters().filter((p) => p.requiresGrad).length, 0, "nothing left to train after folding");
  assert.ok(
    maxDiff(
      noGrad(() => ft.model.forward(idx).logits.storage),
      before,
    ) < 1e-5,
  );
  // greedy generation with the KV cache = the argmax of the full forward over the prefix + the sequence so far
  const prompt = idx.narrow(0, 0, 1).narrow(1, 0, 3);
  const gen = ft.model.generate(prompt, 4, { temperature: 0 });
  const again = ft.model.generate(prompt, 4, { temperature: 0, useCache: false });
  assert.deepEqual(gen.storage, again.storage, "cached and uncached decoding agree");
  assert.equal(gen.shape[1], 7);
});

test("prompt tuning: cached generation agrees with recomputing the window", () => {
  const ft = applyPromptTuning(llama(), { numVirtualTokens: 2, generator: g() });
  train(ft, (m) => (m as PrefixTuning).forward(idx.narrow(1, 0, 5), idx.narrow(1, 1, 5)).loss!, 3);
  const prompt = idx.narrow(0, 0, 1).narrow(1, 0, 3);
  assert.deepEqual(
    ft.model.generate(prompt, 4, { temperature: 0 }).storage,
    ft.model.generate(prompt, 4, { temperature: 0, useCache: false }).storage,
  );
});

// -----------------------------------------------------------------------------------------------------
// Bad input

test("bad input: unknown targets, r ≤ 0, a bias-free model for BitFit, unknown methods; nothing changes", () => {
  const m = gpt();
  const names = Object.keys(m.stateDict());
  assertThrowsWith(
    () => applyLora(m, { targetModules: ["attn.wq", "attn.q_proj"] }),
    ArgumentError,
    /attn\.q_proj/,
    /matches no module/,
    /attn\.wq/,
  );
  assertThrowsWith(() => applyLora(m, { r: 0 }), ArgumentError, /r must be a positive integer/);
  assertThrowsWith(() => applyLora(m, { r: -2 }), ArgumentError, /r must be a positive integer/);
  assertThrowsWith(() => applyLora(m, { r: 2.5 }), ArgumentError, /r must be a positive integer/);
  assertThrowsWith(() => applyAdapters(m, { bottleneck: 0 }), ArgumentError, /bottleneck/);
  assertThrowsWith(
    () => applyIA3(m, { targetModules: ["attn.wk"], feedforwardModules: ["mlp.down"] }),
    ArgumentError,
    /mlp\.down/,
  );
  assertThrowsWith(() => applyPrefixTuning(m, { numVirtualTokens: 12 }), ArgumentError, /leaves no room/);
  assertThrowsWith(() => applyMethod("qlora", m), ArgumentError, /unknown method "qlora"/);
  assert.deepEqual(Object.keys(m.stateDict()), names, "the model is unchanged");
  assert.ok(
    m.parameters().every((p) => p.requiresGrad),
    "nothing was frozen",
  );
  assertThrowsWith(() => applyBitFit(llama()), ArgumentError, /no bias parameters/);
  assertThrowsWith(() => applyPrefixTuning(bert() as never), ArgumentError, /blocks\[i\]\.attn/);
  for (const apply of [applyEncoderPrefixTuning, applyEncoderPromptTuning] as ((m: never) => unknown)[]) {
    const d = gpt();
    assertThrowsWith(() => apply(d as never), ArgumentError, /no BERT or T5 attention/);
    assert.ok(
      d.parameters().every((p) => p.requiresGrad),
      `${apply.name}: nothing was frozen`,
    );
  }
  assertThrowsWith(() => applyEncoderPrefixTuning(t5(), { numVirtualTokens: -1 }), ArgumentError, /numVirtualTokens/);
});

// -----------------------------------------------------------------------------------------------------
// Memory of a step, measured on the tape

test("tapeBytes counts each storage the tape reaches once; stepBytes adds weights, grads and AdamW's moments", () => {
  const x = randint(0, 5, [2, 3], { generator: new Generator(1) }).float(); // (2, 3), no gradient
  const w = randint(0, 5, [3, 4], { generator: new Generator(2) })
    .float()
    .requiresGrad_();
  const y = x.matmul(w); //     (2, 4)
  const loss = y.add(y).sum(); // y reached twice, counted once
  // loss 1 + y+y 8 + y 8 + x 6 + w 12 floats
  assert.equal(tapeBytes(loss), 4 * (1 + 8 + 8 + 6 + 12));
  // a tiny GPT-2: LoRA holds gradients and moments for A and B only; a frozen layer's weights are still weights
  const full = applyFullFinetune(gpt()),
    lora = applyLora(gpt(), { r: 2, generator: g() });
  const sf = stepBytes(full.model, lmLoss(full.model)),
    sl = stepBytes(lora.model, lmLoss(lora.model));
  const W = 4 * trainableReport(full.model).total;
  assert.equal(sf.weights, W);
  assert.equal(sf.grads, W);
  assert.equal(sf.optimizer, 2 * W);
  assert.equal(sl.grads, 4 * trainableReport(lora.model).trainable);
  assert.equal(sl.weights, W + sl.grads, "LoRA's weights: the base and A, B");
  assert.ok(sf.activations > 0 && sl.activations > 0);
  assert.equal(sf.total, sf.weights + sf.grads + sf.optimizer + sf.activations);
});
