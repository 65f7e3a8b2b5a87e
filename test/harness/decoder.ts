// The checks every decoder-only language model of the zoo passes (GPT-2, LLaMA, Mixtral, BLOOM, Falcon),
// written once: it overfits one batch, its KV-cached forward equals the full forward, and its cached
// generation equals generation that recomputes the window. Each model's test file calls these with its own
// tiny config and adds what is its own (the PyTorch fixture, the paper's parts, the cache's layout).

import assert from "node:assert/strict";
import { noGrad } from "../../src/engine/autograd.js";
import type { Tensor } from "../../src/engine/tensor.js";
import { ShapeError } from "../../src/engine/errors.js";
import { KVCache } from "../../src/nn/kv-cache.js";
import type { Optimizer } from "../../src/optim/optimizer.js";
import type { GenerateOptions } from "../../src/generation/sampling.js";
import { Generator, randint } from "../../src/index.js";
import { assertClose, assertThrowsWith } from "./assert.js";
import { fromJson, tensorsOf, type TensorJson } from "./fixtures.js";
import type { Module } from "../../src/nn/module.js";

/** What the checks need of a decoder: the forward with targets and a cache, generate, zeroGrad. */
export interface DecoderLM {
  forward(idx: Tensor, targets?: Tensor | null, cache?: KVCache): { logits: Tensor; loss: Tensor | null };
  generate(idx: Tensor, maxNewTokens: number, opts?: GenerateOptions): Tensor;
  zeroGrad(): void;
  readonly training: boolean;
}

/**
 * Random tokens of a 17-token vocabulary, (4, 16), learned by heart: the first loss is near ln 17 = 2.83 and
 * the loss falls below `target` within `maxSteps` steps. Returns the last step's forward for more checks.
 */
export function overfitsOneBatch<M extends DecoderLM>(
  model: M,
  opt: Optimizer,
  { maxSteps = 100, target = 0.05 }: { maxSteps?: number; target?: number } = {},
): ReturnType<M["forward"]> {
  const g = new Generator(4);
  const idx = randint(0, 17, [4, 16], { generator: g }),
    targets = randint(0, 17, [4, 16], { generator: g });
  let first = NaN,
    loss = NaN,
    steps = 0,
    out!: ReturnType<M["forward"]>;
  for (; steps < maxSteps && !(loss < target); steps++) {
    model.zeroGrad();
    out = model.forward(idx, targets) as ReturnType<M["forward"]>;
    loss = out.loss!.item();
    if (steps === 0) first = loss;
    out.loss!.backward();
    opt.step();
  }
  assert.ok(first > 2.5, `the first loss ${first} should be near ln 17 = 2.83`);
  assert.ok(loss < target, `loss ${loss} after ${steps} steps (first ${first})`);
  return out;
}

/**
 * The KV-cached forward equals the full forward on 12 tokens of a 13-token vocabulary: a prompt of 3, then
 * one token at a time to 8, then a chunk of 4 after the cache (the (T, P+T) mask path). `inspect` sees the
 * cache after the prompt and at the end (the layout of what it holds is each model's own).
 */
export function cachedForwardEqualsFull(
  model: DecoderLM,
  nLayer: number,
  { blockSize, inspect }: { blockSize?: number; inspect?: (cache: KVCache, when: "prompt" | "end") => void } = {},
): void {
  const seq = randint(0, 13, [2, 12], { generator: new Generator(6) }); // (B, T)
  const tol = { atol: 1e-5, rtol: 1e-5 };
  noGrad(() => {
    const full = model.forward(seq).logits; // (B, T, V)
    const cache = new KVCache(nLayer);
    assertClose(model.forward(seq.narrow(1, 0, 3), null, cache).logits, full.narrow(1, 0, 3), tol, "prompt logits");
    inspect?.(cache, "prompt");
    for (let t = 3; t < 8; t++) {
      const step = model.forward(seq.narrow(1, t, 1), null, cache).logits; // (B, 1, V)
      assertClose(step, full.narrow(1, t, 1), tol, `logits at step ${t}`);
      assert.equal(cache.length, t + 1);
    }
    const chunk = model.forward(seq.narrow(1, 8, 4), null, cache).logits; // (B, 4, V)
    assertClose(chunk, full.narrow(1, 8, 4), tol, "chunk logits after the cache");
    inspect?.(cache, "end");
    if (blockSize !== undefined) {
      const over = new RegExp(`12 cached \\+ 1 tokens exceed blockSize ${blockSize}`);
      assertThrowsWith(() => model.forward(seq.narrow(1, 0, 1), null, cache), ShapeError, over);
    }
  });
}

/**
 * Generation with the KV cache gives the tokens of generation that recomputes the window, past the model's
 * blockSize, greedy and sampled (each sampler seeded alike); the prompt is kept; the training mode is restored.
 */
export function cachedGenerationEqualsRecomputed(
  model: DecoderLM,
  newTokens: number,
  samplers: readonly GenerateOptions[] = [{ temperature: 0 }, { temperature: 1 }, { temperature: 0.8, topK: 4 }],
): void {
  const prompt = randint(0, 13, [2, 3], { generator: new Generator(8) });
  for (const opts of samplers) {
    const cached = model.generate(prompt, newTokens, { ...opts, generator: new Generator(9) });
    const recomputed = model.generate(prompt, newTokens, { ...opts, generator: new Generator(9), useCache: false });
    assert.deepEqual([...cached.shape], [2, 3 + newTokens]);
    assert.deepEqual(cached.toArray(), recomputed.toArray(), JSON.stringify(opts));
    assert.deepEqual(cached.narrow(1, 0, 3).toArray(), prompt.toArray(), "the prompt is kept");
  }
  assert.equal(model.training, true, "generate restores the training mode");
}

/** A decoder's PyTorch fixture (tools/fixtures/<model>.py): one batch, its logits and loss, the gradients. */
export interface DecoderFixture {
  idx: TensorJson;
  targets: TensorJson;
  logits: TensorJson;
  loss: number;
  grads: Record<string, TensorJson>;
}

/**
 * The model, holding the fixture's weights, gives PyTorch's logits (atol 1e-4) and loss (1e-5), and every
 * parameter's gradient (rtol 1e-3, atol 1e-6) — in our names through the loader `from`, and in the checkpoint's
 * names and layouts through the writer `to` (the weight map's transposes and splits are linear, so they carry
 * gradients as they carry weights).
 */
export function matchesFixture(
  model: DecoderLM & Module,
  fx: DecoderFixture,
  from: (state: Record<string, Tensor>) => Record<string, Tensor>,
  to: (state: Record<string, Tensor>) => Record<string, Tensor>,
): void {
  const { logits, loss } = model.forward(fromJson(fx.idx), fromJson(fx.targets));
  assertClose(logits, fromJson(fx.logits), { atol: 1e-4, rtol: 0 }, "logits");
  assert.ok(Math.abs(loss!.item() - fx.loss) <= 1e-5, `loss ${loss!.item()} vs PyTorch ${fx.loss}`);
  loss!.backward();
  const expected = from(tensorsOf(fx.grads));
  const params = model.namedParameters();
  assert.deepEqual(params.map(([n]) => n).sort(), Object.keys(expected).sort());
  for (const [name, p] of params) assertClose(p.grad!, expected[name]!, { rtol: 1e-3, atol: 1e-6 }, `d loss/d ${name}`);
  const ours = to(Object.fromEntries(params.map(([n, p]) => [n, p.grad!])));
  for (const [name, g] of Object.entries(ours))
    assertClose(g, fromJson(fx.grads[name]!), { rtol: 1e-3, atol: 1e-6 }, `d loss/d ${name} (checkpoint layout)`);
}
