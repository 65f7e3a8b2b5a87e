// The encoder-decoders (T5, BART) decode with the KV cache of src/nn/kv-cache.ts: the self-attention's keys and
// values grow by one token per step, the cross-attention's are computed from the encoder output once. Each cached
// step's logits equal those of the decoder run again over the whole prefix without a cache, and greedy decoding
// (which uses the cache) writes the tokens the uncached argmax writes. T5's causal mask is src/nn's causalBias.

import { strict as assert } from "node:assert";
import { test } from "node:test";
import { noGrad } from "../../src/engine/autograd.js";
import { tensor } from "../../src/engine/creation.js";
import { Generator } from "../../src/engine/rng.js";
import type { Tensor } from "../../src/engine/tensor.js";
import { EncoderDecoderCache, causalBias, causalMask } from "../../src/nn/kv-cache.js";
import { T5, t5Config, greedyDecode as t5Greedy } from "../../src/models/t5/model.js";
import { Bart, bartConfig, greedyDecode as bartGreedy } from "../../src/models/bart/model.js";

interface Face {
  start: number;
  nLayer: number;
  /** the decoder's logits (B, T, V) of the tokens after P cached ones (with a cache) or of the whole prefix */
  step(tokens: Tensor, cache?: EncoderDecoderCache): Tensor;
  greedy(maxLen: number): number[][];
}

const ids = tensor(Int32Array.from([5, 9, 12, 7, 30, 3, 8, 21, 1, 1]), { shape: [2, 5] }); // (B, S): row 1 padded
const mask = tensor(Int32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 0, 0]), { shape: [2, 5] });

function t5Face(): Face {
  const model = new T5(t5Config("tiny"), { generator: new Generator(3) });
  model.eval();
  const keyMask = model.keyMask(ids, mask);
  const memory = model.encode(ids, keyMask);
  return {
    start: model.config.decoderStartId,
    nLayer: model.config.nDecoderLayer,
    step: (tokens, cache) => model.lmHead.forward(model.decode(tokens, memory, keyMask, cache)),
    greedy: (maxLen) => t5Greedy(model, ids, { attentionMask: mask, maxLen }),
  };
}

function bartFace(): Face {
  const model = new Bart(bartConfig("tiny"), { generator: new Generator(3) });
  model.eval();
  const srcMask = model.sourceMask(ids, mask);
  const memory = model.encode(ids, srcMask);
  return {
    start: model.config.decoderStartId,
    nLayer: model.config.nDecoderLayer,
    step: (tokens, cache) => model.logits(model.decode(tokens, memory, srcMask, cache)),
    greedy: (maxLen) => bartGreedy(model, ids, { attentionMask: mask, maxLen }),
  };
}

/** argmax over the last position of logits (B, T, V) → (B) */
function lastArgmax(logits: Tensor): number[] {
  const [B, T, V] = logits.shape as [number, number, number];
  return Array.from({ length: B }, (_, b) => {
    const row = logits.storage.subarray((b * T + T - 1) * V, (b * T + T) * V);
    let best = 0;
    for (let v = 1; v < V; v++) if (row[v]! > row[best]!) best = v;
    return best;
  });
}

for (const [name, make] of [
  ["T5", t5Face],
  ["BART", bartFace],
] as const) {
  test(`${name}: cached decoding equals the uncached decoder, step by step; the self cache grows, the cross K/V are computed once`, () => {
    noGrad(() => {
      const f = make();
      const cache = new EncoderDecoderCache(f.nLayer);
      const prefix: number[][] = [[f.start], [f.start]];
      const steps = 6;
      let crossK: Tensor | null = null;
      const greedyTokens: number[][] = [[], []];
      for (let s = 0; s < steps; s++) {
        const next = tensor(Int32Array.from(prefix.map((p) => p[p.length - 1]!)), { shape: [2, 1] }); // (B, 1)
        const cached = f.step(next, cache); // (B, 1, V)
        assert.equal(cache.length, s + 1);
        if (s === 0) crossK = cache.layers[0]!.cross.k;
        else assert.equal(cache.layers[0]!.cross.k, crossK, "the cross-attention keys are the first step's tensor");
        const full = f.step(tensor(Int32Array.from(prefix.flat()), { shape: [2, s + 1] })); // (B, s+1, V), no cache
        const V = cached.shape[2]!;
        for (let b = 0; b < 2; b++) {
          const a = cached.storage.subarray(b * V, (b + 1) * V),
            w = full.storage.subarray((b * (s + 1) + s) * V, (b * (s + 1) + s + 1) * V);
          for (let v = 0; v < V; v++)
            assert.ok(
              Math.abs(a[v]! - w[v]!) <= 1e-4 * (1 + Math.abs(w[v]!)),
              `${name} step ${s} row ${b} token ${v}: ${a[v]} vs ${w[v]}`,
            );
        }
        const tok = lastArgmax(full);
        tok.forEach((t, b) => (prefix[b]!.push(t), greedyTokens[b]!.push(t)));
      }
      // greedyDecode (cached) writes the uncached argmax tokens, up to its first EOS
      const eos = name === "T5" ? 1 : 2;
      const got = f.greedy(steps);
      greedyTokens.forEach((row, b) => {
        const end = row.indexOf(eos);
        assert.deepEqual(got[b], end < 0 ? row : row.slice(0, end), `${name} row ${b}`);
      });
    });
  });
}

test("causalBias is causalMask as an additive bias: 0 where a key may be seen, −∞ after", () => {
  for (const [P, T] of [
    [0, 1],
    [0, 4],
    [3, 1],
    [2, 3],
  ] as const) {
    const bias = causalBias(P, T); // (T, P+T)
    assert.deepEqual(bias.shape, [T, P + T]);
    const m = causalMask(P, T);
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < P + T; j++) {
        const seen = m.attnMask ? m.attnMask.storage[i * (P + T) + j] === 1 : m.isCausal ? j <= i : true;
        assert.equal(bias.storage[i * (P + T) + j], seen ? 0 : -Infinity, `P ${P} T ${T} (${i}, ${j})`);
      }
    }
  }
});
