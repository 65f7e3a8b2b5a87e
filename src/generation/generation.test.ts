// Generation of the four decoders (GPT-2, LLaMA, BLOOM, Falcon): the repetition penalty of the shared sampling
// (src/generation/sampling.ts `sampleTokens`) against PyTorch (tools/fixtures/repetition_penalty.py, Hugging
// Face's RepetitionPenaltyLogitsProcessor in plain torch) and a plain-JS float64 reference, in every decoder's
// generate; greedy with a penalty equals the argmax of the full forward's penalised logits at every step.

import { readFileSync } from "../../test/harness/files.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, noGrad, tensor, randint, ArgumentError, ShapeError, type Tensor } from "../index.js";
import { assertThrowsWith } from "../../test/harness/assert.js";
import { fromJson, type TensorJson } from "../../test/harness/fixtures.js";
import { penalizeRepetition, sampleTokens, type GenerateOptions } from "./sampling.js";
import { GPT, gptConfig } from "../models/gpt2/model.js";
import { Llama, llamaConfig } from "../models/llama/model.js";
import { Bloom, bloomConfig } from "../models/bloom/model.js";
import { Falcon, falconConfig } from "../models/falcon/model.js";

/** The reference: z_i/θ for a seen token with z_i > 0, z_i·θ with z_i < 0 (Hugging Face's signs), float64. */
function refPenalty(z: readonly number[], seen: readonly number[], theta: number): number[] {
  const s = new Set(seen);
  return z.map((v, i) => (!s.has(i) ? v : v < 0 ? v * theta : v / theta));
}

const argmax = (z: readonly number[]): number => z.reduce((best, v, i) => (v > z[best]! ? i : best), 0);

// -----------------------------------------------------------------------------------------------------
// The penalty

interface PenaltyFixture {
  cases: { args: { penalty: number }; inputs: [TensorJson, TensorJson]; outputs: [TensorJson] }[];
}

test("the repetition penalty equals PyTorch's (HF RepetitionPenaltyLogitsProcessor) and the plain-JS reference", () => {
  const fx = JSON.parse(
    readFileSync(new URL("../../../test/fixtures/models/repetition_penalty.json", import.meta.url), "utf8"),
  ) as PenaltyFixture;
  assert.equal(fx.cases.length, 5);
  for (const c of fx.cases) {
    const scores = fromJson(c.inputs[0]),
      ids = fromJson(c.inputs[1]),
      want = fromJson(c.outputs[0]);
    const [B, V] = scores.shape as [number, number],
      T = ids.shape[1]!;
    for (let b = 0; b < B; b++) {
      const row = Array.from(scores.storage.subarray(b * V, (b + 1) * V));
      const seen = Array.from(ids.storage.subarray(b * T, (b + 1) * T));
      const got = Array.from(penalizeRepetition(row, seen, c.args.penalty));
      const torch = Array.from(want.storage.subarray(b * V, (b + 1) * V));
      const ref = refPenalty(row, seen, c.args.penalty);
      for (let i = 0; i < V; i++) {
        assert.ok(
          Math.abs(got[i]! - torch[i]!) <= 1e-12,
          `θ ${c.args.penalty} row ${b} token ${i}: ${got[i]} vs torch ${torch[i]}`,
        );
        assert.ok(
          Math.abs(got[i]! - ref[i]!) <= 1e-12,
          `θ ${c.args.penalty} row ${b} token ${i}: ${got[i]} vs ref ${ref[i]}`,
        );
      }
      if (c.args.penalty === 1) assert.deepEqual(got, row, "θ = 1 changes nothing");
      else assert.notDeepEqual(got, row, "θ ≠ 1 changes the seen tokens");
    }
  }
});

test("sampleTokens with a repetition penalty: greedy takes the argmax of the penalised logits; frequencies follow softmax(z'/τ); θ = 1 changes nothing", () => {
  const z = [2, 1.9, 0.5, -0.2, -1]; // (V)
  const logits = tensor([z, z], { shape: [2, 1, 5] });
  const context = tensor(
    [
      [0, 3, 0],
      [4, 4, 4],
    ],
    { dtype: "int32" },
  ); // row 0 saw 0 and 3, row 1 saw 4
  const greedy = sampleTokens(
    logits,
    { temperature: 0, topK: null, topP: 1, repetitionPenalty: 1.3 },
    new Generator(1),
    context,
  );
  assert.deepEqual(Array.from(greedy.storage), [argmax(refPenalty(z, [0, 3], 1.3)), argmax(refPenalty(z, [4], 1.3))]);
  assert.equal(greedy.storage[0], 1, "2/1.3 < 1.9: the seen argmax gives way");
  // θ = 1 draws exactly the tokens drawn without the option, from the same generator
  for (const opts of [
    { temperature: 1, topK: null, topP: 1 },
    { temperature: 0.7, topK: 3, topP: 0.9 },
  ]) {
    for (let i = 0; i < 50; i++) {
      const g1 = new Generator(100 + i),
        g2 = new Generator(100 + i);
      assert.deepEqual(
        Array.from(sampleTokens(logits, opts, g1).storage),
        Array.from(sampleTokens(logits, { ...opts, repetitionPenalty: 1 }, g2, context).storage),
      );
    }
  }
  // frequencies of row 0 at τ = 1.5 and θ = 2 follow softmax(penalised z / τ)
  const n = 6000,
    tau = 1.5,
    theta = 2,
    g = new Generator(11),
    counts = [0, 0, 0, 0, 0];
  const one = tensor(z, { shape: [1, 1, 5] }),
    ctx = tensor([[0, 3]], { dtype: "int32" });
  for (let i = 0; i < n; i++)
    counts[
      sampleTokens(one, { temperature: tau, topK: null, topP: 1, repetitionPenalty: theta }, g, ctx).storage[0]!
    ]!++;
  const e = refPenalty(z, [0, 3], theta).map((v) => Math.exp(v / tau)),
    s = e.reduce((a, b) => a + b);
  counts.forEach((c, i) => {
    const p = e[i]! / s,
      sd = Math.sqrt((p * (1 - p)) / n);
    assert.ok(Math.abs(c / n - p) < 5 * sd, `token ${i}: frequency ${c / n}, expected ${p}`);
  });
  assertThrowsWith(
    () => sampleTokens(logits, { temperature: 0, topK: null, topP: 1, repetitionPenalty: 1.2 }, g),
    ShapeError,
    /repetitionPenalty needs the context \(B, T\) of the 2 rows, got none/,
  );
});

// -----------------------------------------------------------------------------------------------------
// Every decoder's generate

interface Decoder {
  readonly training: boolean;
  eval(): unknown;
  train(mode?: boolean): unknown;
  forward(idx: Tensor): { logits: Tensor };
  generate(idx: Tensor, maxNewTokens: number, opts?: GenerateOptions): Tensor;
}

const DECODERS: [string, () => Decoder][] = [
  [
    "GPT-2",
    () =>
      new GPT(gptConfig("tiny", { vocabSize: 11, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16 }), {
        generator: new Generator(3),
      }),
  ],
  [
    "LLaMA",
    () =>
      new Llama(
        llamaConfig("tiny", {
          vocabSize: 11,
          blockSize: 16,
          nLayer: 2,
          nHead: 4,
          nKvHeads: 2,
          nEmbd: 16,
          multipleOf: 8,
        }),
        { generator: new Generator(3) },
      ),
  ],
  [
    "BLOOM",
    () =>
      new Bloom(bloomConfig("tiny", { vocabSize: 11, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16 }), {
        generator: new Generator(3),
      }),
  ],
  [
    "Falcon",
    () =>
      new Falcon(falconConfig("tiny", { vocabSize: 11, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16 }), {
        generator: new Generator(3),
      }),
  ],
];

for (const [name, make] of DECODERS) {
  test(`${name}: greedy generation with a repetition penalty takes the argmax of the full forward's penalised logits (prompt and generated tokens); θ = 1 changes nothing`, () => {
    const model = make();
    const prompt = randint(0, 11, [2, 3], { generator: new Generator(4) });
    for (const theta of [1.5, 0.7]) {
      const out = model.generate(prompt, 9, { temperature: 0, repetitionPenalty: theta });
      assert.equal(model.training, true, "generate restores the training mode");
      model.eval();
      noGrad(() => {
        for (let b = 0; b < 2; b++) {
          const seq = Array.from(out.storage.subarray(b * 12, (b + 1) * 12));
          for (let t = 3; t < 12; t++) {
            const logits = model.forward(tensor([seq.slice(0, t)], { dtype: "int32" })).logits; // (1, t, V)
            const z = Array.from(logits.storage.subarray((t - 1) * 11, t * 11));
            assert.equal(seq[t], argmax(refPenalty(z, seq.slice(0, t), theta)), `θ ${theta} row ${b} token ${t}`);
          }
        }
      });
      model.train(true);
    }
    const plain = model.generate(prompt, 9, { temperature: 0 });
    assert.notDeepEqual(
      model.generate(prompt, 9, { temperature: 0, repetitionPenalty: 10 }).toArray(),
      plain.toArray(),
      "a strong penalty changes this greedy output",
    );
    for (const opts of [{ temperature: 0 }, { temperature: 1 }, { temperature: 0.8, topK: 4, topP: 0.9 }]) {
      const without = model.generate(prompt, 9, { ...opts, generator: new Generator(9) });
      const one = model.generate(prompt, 9, { ...opts, repetitionPenalty: 1, generator: new Generator(9) });
      assert.deepEqual(one.toArray(), without.toArray(), `θ = 1, ${JSON.stringify(opts)}`);
      // sampled with a penalty: the KV cache gives the tokens of the recomputed window
      const cached = model.generate(prompt, 9, { ...opts, repetitionPenalty: 1.3, generator: new Generator(9) });
      const recomputed = model.generate(prompt, 9, {
        ...opts,
        repetitionPenalty: 1.3,
        generator: new Generator(9),
        useCache: false,
      });
      assert.deepEqual(cached.toArray(), recomputed.toArray(), `θ 1.3, ${JSON.stringify(opts)}`);
    }
    assertThrowsWith(
      () => model.generate(prompt, 2, { repetitionPenalty: 0 }),
      ArgumentError,
      /generate: repetitionPenalty must be a positive number, got 0/,
    );
  });
}
