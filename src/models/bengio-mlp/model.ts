// The neural probabilistic language model: a character's probability from the embeddings of the n
// characters before it, through one tanh hidden layer.
//   Bengio, Ducharme, Vincent, Jauvin 2003, "A Neural Probabilistic Language Model", JMLR 3:1137–1155
//   https://www.jmlr.org/papers/volume3/bengio03a/bengio03a.pdf
//
// The paper's equation (§2, eq. 1), for the context of the n − 1 = `context` previous tokens:
//   x = (C(w_{t−1}), C(w_{t−2}), …, C(w_{t−n+1}))        the embeddings, concatenated, most recent first
//   y = b + W·x + U·tanh(d + H·x)                        W: the optional direct connections (paper: "W may be 0")
//   P(w_t | context) = softmax(y)
// Here the tokens are characters, and the model reads a whole sequence (B, T) at once: at every position t
// it predicts token t + 1 from tokens t, t−1, …, t−context+1; positions before the start read the boundary
// token (id 0), the padding of makemore's MLP.
//
// Differences from its siblings (char-rnn, gpt2): a fixed window of `context` characters, no state and no
// attention — what lies further back is invisible. The same forward(idx, targets?) → { logits, loss }.
//
// Read top to bottom: config → model → init → weight map → generate.
// Vocabulary (shape comments): B batch, T tokens, n = context, m = nEmbd, h = nHidden, V vocabulary.

import { noGrad } from "../../engine/autograd.js";
import { ArgumentError, DTypeError, ShapeError } from "../../engine/errors.js";
import { configOf } from "../presets.js";
import { defaultGenerator, type Generator } from "../../engine/rng.js";
import { fmt } from "../../engine/shape.js";
import { Tensor } from "../../engine/tensor.js";
import { add } from "../../ops/elementwise.js";
import * as F from "../../nn/functional.js";
import { Module } from "../../nn/module.js";
import { Embedding, Linear } from "../../nn/index.js";
import { linearFlops, sortedKinds, type Architecture } from "../architecture.js";

// =====================================================================================================
// Config

export interface BengioConfig {
  /** tokens in the vocabulary (V); id 0 pads the context before the start */
  readonly vocabSize: number;
  /** n − 1 in the paper: how many previous tokens the model reads */
  readonly context: number;
  /** the embedding width m of C */
  readonly nEmbd: number;
  /** the tanh hidden units h */
  readonly nHidden: number;
  /** the direct connections W (V, n·m) from the embeddings to the output */
  readonly direct: boolean;
}

/** A checked, frozen config: `bengioConfig("names", { vocabSize: 28 })`. */
export function bengioConfig(
  base: BengioConfig | keyof typeof PRESETS,
  overrides: Partial<BengioConfig> = {},
): BengioConfig {
  return configOf("BengioConfig", PRESETS, base, overrides, {
    positive: ["vocabSize", "context", "nEmbd", "nHidden"],
    flags: ["direct"],
  });
}

export const PRESETS = Object.freeze({
  /** names-compare: 5 characters of context, m = 32 as its siblings' embedding width */
  names: Object.freeze({ vocabSize: 28, context: 5, nEmbd: 32, nHidden: 128, direct: false }),
} satisfies Record<string, BengioConfig>);

/** Parameters from the equations: C (V·m), H and d (h·n·m + h), U and b (V·h + V), W (V·n·m) when direct. */
export function countParameters(c: BengioConfig): number {
  const { vocabSize: V, context: n, nEmbd: m, nHidden: h } = c;
  return V * m + (h * n * m + h) + (V * h + V) + (c.direct ? V * n * m : 0);
}

/**
 * The architecture in one row (src/models/architecture.ts). FLOPs per token: H (h, n·m) and U (V, h),
 * 2·(n·m·h + h·V), plus W (V, n·m) when direct, 2·n·m·V; independent of the sequence length.
 */
export function describe(c: BengioConfig): Architecture {
  const { vocabSize: V, context: n, nEmbd: m, nHidden: h } = c;
  return {
    title: "Bengio MLP",
    config: `context ${n}, embedding ${m}, ${h} hidden, V ${V}${c.direct ? ", direct connections" : ""}`,
    parameters: countParameters(c),
    layers: sortedKinds({ [Embedding.name]: 1, [Linear.name]: c.direct ? 3 : 2 }),
    normalization: "none",
    positions: `none: a fixed window of ${n} tokens, each in its own slot of the concatenation`,
    attention: "none",
    activation: "tanh",
    flops: {
      value: linearFlops(n * m, h) + linearFlops(h, V) + (c.direct ? linearFlops(n * m, V) : 0),
      per: "token",
      at: "any length",
    },
  };
}

// =====================================================================================================
// Model

export interface BengioOptions {
  /** the source of the initial weights (default: the library's default generator) */
  generator?: Generator;
}

export interface BengioOutput {
  logits: Tensor; // (B, T, V)
  /** mean cross-entropy over the positions whose target is not ignored (−100), when targets were given */
  loss: Tensor | null; // ()
}

export class BengioMLP extends Module {
  readonly config: BengioConfig;
  emb: Embedding; //         C (V, m)
  hidden: Linear; //         H (h, n·m), d (h)
  out: Linear; //            U (V, h), b (V)
  direct: Linear | null; //  W (V, n·m), no bias (b is out's)

  constructor(config: BengioConfig, opts: BengioOptions = {}) {
    super();
    const c = (this.config = bengioConfig(config));
    const generator = opts.generator ?? defaultGenerator;
    const nm = c.context * c.nEmbd;
    this.emb = new Embedding(c.vocabSize, c.nEmbd, { generator });
    this.hidden = new Linear(nm, c.nHidden, { generator });
    this.out = new Linear(c.nHidden, c.vocabSize, { generator });
    this.direct = c.direct ? new Linear(nm, c.vocabSize, { bias: false, generator }) : null;
  }

  /** idx (B, T) int32 → logits (B, T, V) at every position; with targets (B, T) the mean cross-entropy. */
  forward(idx: Tensor, targets?: Tensor | null): BengioOutput {
    if (idx.ndim !== 2) throw new ShapeError(`BengioMLP: idx must be (B, T) token ids, got shape ${fmt(idx.shape)}`);
    if (idx.dtype !== "int32")
      throw new DTypeError(`BengioMLP: idx must be int32 token ids, got ${idx.dtype} ${fmt(idx.shape)}`);
    const [B, T] = idx.shape as [number, number];
    const { context: n, nEmbd: m, vocabSize: V } = this.config;
    // x = (C(w_t), C(w_{t−1}), …, C(w_{t−n+1})): the window of each position, most recent first
    const windows = contextWindows(idx, n); // (B, T, n) int32
    const x = this.emb.forward(windows).reshape(B, T, n * m); // (B, T, n·m)
    // y = b + W·x + U·tanh(d + H·x)
    const a = F.tanh(this.hidden.forward(x)); // (B, T, h)
    let logits = this.out.forward(a); //         (B, T, V)
    if (this.direct) logits = add(logits, this.direct.forward(x)); // the direct connections (paper's W)
    if (!targets) return { logits, loss: null };
    if (targets.ndim !== 2 || targets.shape[0] !== B || targets.shape[1] !== T) {
      throw new ShapeError(`BengioMLP: targets ${fmt(targets.shape)} must have the shape of idx ${fmt(idx.shape)}`);
    }
    // loss = −(1/N)·Σ log softmax(y)[target], N the counted positions
    const loss = F.crossEntropy(logits.reshape(B * T, V), targets.reshape(B * T)); // ()
    return { logits, loss };
  }

  /** Append maxNewTokens sampled tokens to idx (B, T0); see `generate` below. */
  generate(idx: Tensor, maxNewTokens: number, opts: { temperature?: number; generator?: Generator } = {}): Tensor {
    return generate(this, idx, maxNewTokens, opts);
  }
}

/** windows[b, t, j] = idx[b, t − j], or 0 (the boundary token) before the start. No gradient: ids only. */
export function contextWindows(idx: Tensor, n: number): Tensor {
  const [B, T] = idx.shape as [number, number];
  const ids = idx.storage,
    out = new Int32Array(B * T * n);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < n && j <= t; j++) out[(b * T + t) * n + j] = ids[b * T + t - j]!;
    }
  }
  return new Tensor(out, [B, T, n]); // (B, T, n)
}

// =====================================================================================================
// Init: PyTorch's defaults of the layers (Embedding N(0, 1); Linear U(±1/√fan_in)). The paper initialised
// from small uniform values and trained with plain SGD; the recipe uses AdamW instead.

// =====================================================================================================
// Weight map: our names are those of the PyTorch reference in tools/fixtures/bengio_mlp.py, one to one:
//   emb.weight C (V, m) · hidden.weight H (h, n·m), hidden.bias d (h) · out.weight U (V, h), out.bias b (V)
//   · direct.weight W (V, n·m)

// =====================================================================================================
// Generate

/** Append maxNewTokens tokens to idx (B, T0): each is drawn from softmax(y/τ) of the last window. */
export function generate(
  model: BengioMLP,
  idx: Tensor,
  maxNewTokens: number,
  opts: { temperature?: number; generator?: Generator } = {},
): Tensor {
  const temperature = opts.temperature ?? 1;
  const generator = opts.generator ?? defaultGenerator;
  if (!(Number.isInteger(maxNewTokens) && maxNewTokens >= 0))
    throw new ArgumentError(`generate: maxNewTokens must be an integer ≥ 0, got ${maxNewTokens}`);
  if (!(temperature > 0)) throw new ArgumentError(`generate: temperature must be > 0, got ${temperature}`);
  const [B, T0] = idx.shape as [number, number];
  const V = model.config.vocabSize,
    n = model.config.context;
  const seqs = Array.from({ length: B }, (_, b) => Array.from(idx.storage.subarray(b * T0, (b + 1) * T0)));
  return noGrad(() => {
    for (let s = 0; s < maxNewTokens; s++) {
      // only the last n tokens matter: feed them as a (B, n) sequence and read the last position
      const L = Math.min(n, seqs[0]!.length);
      const last = new Tensor(Int32Array.from(seqs.flatMap((q) => q.slice(q.length - L))), [B, L]);
      const logits = model.forward(last).logits; // (B, L, V)
      for (let b = 0; b < B; b++) {
        const row = logits.storage.subarray((b * L + L - 1) * V, (b * L + L) * V);
        let zMax = -Infinity;
        for (const z of row) zMax = Math.max(zMax, z);
        const p = Array.from(row, (z) => Math.exp((z - zMax) / temperature));
        let u = generator.random() * p.reduce((x, y) => x + y, 0),
          next = V - 1;
        for (let i = 0; i < V; i++)
          if ((u -= p[i]!) < 0) {
            next = i;
            break;
          }
        seqs[b]!.push(next);
      }
    }
    return new Tensor(Int32Array.from(seqs.flat()), [B, T0 + maxNewTokens]);
  });
}
