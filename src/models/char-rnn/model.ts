// A character-level recurrent language model: embedding → recurrent layers → a linear head, trained to
// predict the next character at every step. One wrapper for the three recurrent cells; each cell's
// equations live in src/nn/rnn.ts (rnnStep, lstmStep, gruStep).
//   Elman 1990, "Finding Structure in Time" (RNN); Hochreiter & Schmidhuber 1997 (LSTM);
//   Cho et al. 2014, https://arxiv.org/abs/1406.1078 (GRU); Karpathy 2015, "The Unreasonable
//   Effectiveness of Recurrent Neural Networks" (char-rnn, the task's shape)
//
//   x_t = E[w_t]                                         embedding (B, T, C)
//   h_t^(1) = cell(x_t, h_{t−1}^(1)),  h_t^(k) = cell(h_t^(k−1), h_{t−1}^(k))   recurrent layers (src/nn/rnn.ts)
//   P(w_{t+1} | w_≤t) = softmax(W_o·h_t^(L) + b_o)
//
// Differences from its siblings: bengio-mlp reads a fixed window of characters; gpt2 attends to every
// earlier position at once; here everything before t reaches the prediction through the state h_t (and
// the LSTM's c_t), so the context is unbounded but squeezed into H numbers. Same forward(idx, targets?).
//
// Read top to bottom: config → model → init → weight map → generate.
// Vocabulary (shape comments): B batch, T tokens, C = nEmbd, H = nHidden, L = nLayer, V vocabulary.

import { noGrad } from "../../engine/autograd.js";
import { ArgumentError, DTypeError, ShapeError } from "../../engine/errors.js";
import { configOf } from "../presets.js";
import { defaultGenerator, type Generator } from "../../engine/rng.js";
import { fmt } from "../../engine/shape.js";
import { Tensor } from "../../engine/tensor.js";
import * as F from "../../nn/functional.js";
import { Module } from "../../nn/module.js";
import { Embedding, Linear, RNN, LSTM, GRU } from "../../nn/index.js";
import { linearFlops, sortedKinds, type Architecture } from "../architecture.js";

// =====================================================================================================
// Config

export type Cell = "rnn" | "lstm" | "gru";

export interface CharRNNConfig {
  /** tokens in the vocabulary (V) */
  readonly vocabSize: number;
  /** the recurrent cell: "rnn" (Elman, tanh), "lstm" or "gru" */
  readonly cell: Cell;
  /** the embedding width (C) */
  readonly nEmbd: number;
  /** the state size of every recurrent layer (H) */
  readonly nHidden: number;
  /** stacked recurrent layers (L) */
  readonly nLayer: number;
  /** dropout between the recurrent layers (nn.RNN's dropout) */
  readonly dropout: number;
}

/** A checked, frozen config: `charRnnConfig("lstm", { vocabSize: 28 })`. */
export function charRnnConfig(
  base: CharRNNConfig | keyof typeof PRESETS,
  overrides: Partial<CharRNNConfig> = {},
): CharRNNConfig {
  return configOf("CharRNNConfig", PRESETS, base, overrides, {
    positive: ["vocabSize", "nEmbd", "nHidden", "nLayer"],
    oneOf: { cell: ["rnn", "lstm", "gru"] },
    probabilities: ["dropout"],
  });
}

/**
 * names-compare's three: embedding width 32 as the siblings', the state size chosen so that each has
 * about the parameters of the others: 25,244 (rnn), 25,164 (lstm), 25,277 (gru) with V = 28.
 */
export const PRESETS = Object.freeze({
  rnn: Object.freeze({ vocabSize: 28, cell: "rnn", nEmbd: 32, nHidden: 128, nLayer: 1, dropout: 0 }),
  lstm: Object.freeze({ vocabSize: 28, cell: "lstm", nEmbd: 32, nHidden: 60, nLayer: 1, dropout: 0 }),
  gru: Object.freeze({ vocabSize: 28, cell: "gru", nEmbd: 32, nHidden: 71, nLayer: 1, dropout: 0 }),
} satisfies Record<string, CharRNNConfig>);

const GATES: Record<Cell, number> = { rnn: 1, gru: 3, lstm: 4 };

/** Parameters from the equations: E (V·C), per layer k G·(in_k + H + 2) with G = gates·H, head V·H + V. */
export function countParameters(c: CharRNNConfig): number {
  const { vocabSize: V, nEmbd: C, nHidden: H, nLayer: L } = c;
  const G = GATES[c.cell] * H;
  let n = V * C + V * H + V;
  for (let k = 0; k < L; k++) n += G * ((k === 0 ? C : H) + H + 2);
  return n;
}

const CELL_CLASS: Record<Cell, { name: string }> = { rnn: RNN, lstm: LSTM, gru: GRU };
const CELL_TITLE: Record<Cell, string> = { rnn: "Elman RNN", lstm: "LSTM", gru: "GRU" };
const CELL_ACTIVATION: Record<Cell, string> = {
  rnn: "tanh",
  lstm: "sigmoid gates (input, forget, output), tanh candidate and cell output",
  gru: "sigmoid gates (reset, update), tanh candidate",
};

/**
 * The architecture in one row (src/models/architecture.ts). FLOPs per token: each layer's G = gates·H rows
 * of W_ih (G, in) and W_hh (G, H), 2·G·(in + H), then the head 2·H·V; independent of the sequence length.
 */
export function describe(c: CharRNNConfig): Architecture {
  const { vocabSize: V, nEmbd: C, nHidden: H, nLayer: L } = c;
  const G = GATES[c.cell] * H;
  let flops = linearFlops(H, V);
  for (let k = 0; k < L; k++) flops += linearFlops((k === 0 ? C : H) + H, G);
  return {
    title: CELL_TITLE[c.cell],
    config: `${L} layer${L === 1 ? "" : "s"}, H ${H}, embedding ${C}, V ${V}`,
    parameters: countParameters(c),
    layers: sortedKinds({ [Embedding.name]: 1, [CELL_CLASS[c.cell].name]: 1, [Linear.name]: 1 }),
    normalization: "none",
    positions: "none: order comes from the recurrence (unbounded context through the state)",
    attention: "none",
    activation: CELL_ACTIVATION[c.cell],
    flops: { value: flops, per: "token", at: "any length" },
  };
}

// =====================================================================================================
// Model

/** The recurrent state between calls: [h] for rnn and gru, [h, c] for lstm, each (L, B, H). */
export type RecurrentState = Tensor[];

export interface CharRNNOptions {
  /** the source of the initial weights (default: the library's default generator) */
  generator?: Generator;
}

export interface CharRNNOutput {
  logits: Tensor; // (B, T, V)
  /** mean cross-entropy over the positions whose target is not ignored (−100), when targets were given */
  loss: Tensor | null; // ()
  /** the state after the last step, to continue from (generation) */
  state: RecurrentState;
}

export class CharRNN extends Module {
  readonly config: CharRNNConfig;
  emb: Embedding; //          E (V, C)
  rnn: RNN | LSTM | GRU; //   L layers, batchFirst
  head: Linear; //            W_o (V, H), b_o (V)

  constructor(config: CharRNNConfig, opts: CharRNNOptions = {}) {
    super();
    const c = (this.config = charRnnConfig(config));
    const generator = opts.generator ?? defaultGenerator;
    this.emb = new Embedding(c.vocabSize, c.nEmbd, { generator });
    const layer = { numLayers: c.nLayer, dropout: c.dropout, batchFirst: true, generator };
    this.rnn =
      c.cell === "lstm"
        ? new LSTM(c.nEmbd, c.nHidden, layer)
        : c.cell === "gru"
          ? new GRU(c.nEmbd, c.nHidden, layer)
          : new RNN(c.nEmbd, c.nHidden, layer);
    this.head = new Linear(c.nHidden, c.vocabSize, { generator });
  }

  /**
   * idx (B, T) int32 → logits (B, T, V) at every position, starting from `state` (default zeros);
   * with targets (B, T) the mean cross-entropy of predicting each next token.
   */
  forward(idx: Tensor, targets?: Tensor | null, state?: RecurrentState): CharRNNOutput {
    if (idx.ndim !== 2) throw new ShapeError(`CharRNN: idx must be (B, T) token ids, got shape ${fmt(idx.shape)}`);
    if (idx.dtype !== "int32")
      throw new DTypeError(`CharRNN: idx must be int32 token ids, got ${idx.dtype} ${fmt(idx.shape)}`);
    const [B, T] = idx.shape as [number, number];
    const x = this.emb.forward(idx); // (B, T, C)
    // h_t^(L) for every t, and the final states (L, B, H)
    const r =
      this.rnn instanceof LSTM
        ? this.rnn.forward(x, state as [Tensor, Tensor] | undefined)
        : this.rnn.forward(x, state?.[0]);
    const h = r.output; // (B, T, H)
    const next = "cN" in r ? [r.hN, r.cN as Tensor] : [r.hN];
    const logits = this.head.forward(h); // (B, T, V)
    if (!targets) return { logits, loss: null, state: next };
    if (targets.ndim !== 2 || targets.shape[0] !== B || targets.shape[1] !== T) {
      throw new ShapeError(`CharRNN: targets ${fmt(targets.shape)} must have the shape of idx ${fmt(idx.shape)}`);
    }
    // loss = −(1/N)·Σ log softmax(logits[b,t])[targets[b,t]], N the counted positions
    const loss = F.crossEntropy(logits.reshape(B * T, this.config.vocabSize), targets.reshape(B * T)); // ()
    return { logits, loss, state: next };
  }

  /** Append maxNewTokens sampled tokens to idx (B, T0); see `generate` below. */
  generate(idx: Tensor, maxNewTokens: number, opts: { temperature?: number; generator?: Generator } = {}): Tensor {
    return generate(this, idx, maxNewTokens, opts);
  }
}

// =====================================================================================================
// Init: PyTorch's defaults of the layers — Embedding N(0, 1), the recurrent weights U(±1/√H), the head
// U(±1/√H) — which is what the PyTorch reference (tools/fixtures/char_rnn.py) starts from too.

// =====================================================================================================
// Weight map: ours ↔ the PyTorch reference (nn.Embedding, nn.RNN/LSTM/GRU(batch_first=True), nn.Linear):
//   emb.weight ↔ emb.weight;  rnn.weightIhL{k} ↔ rnn.weight_ih_l{k} (and weightHh, biasIh, biasHh);
//   head.weight/.bias ↔ head.weight/.bias.   nn.fromTorchName maps every key; nothing is transposed.

// =====================================================================================================
// Generate

/**
 * Append maxNewTokens tokens to idx (B, T0): the prompt runs once, then each new token is fed alone,
 * carrying the recurrent state (no recomputation of the prefix).
 */
export function generate(
  model: CharRNN,
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
  const V = model.config.vocabSize;
  const out = new Int32Array(B * (T0 + maxNewTokens));
  for (let b = 0; b < B; b++) out.set(idx.storage.subarray(b * T0, (b + 1) * T0), b * (T0 + maxNewTokens));
  const wasTraining = model.training;
  model.eval();
  try {
    noGrad(() => {
      let next = idx,
        state: RecurrentState | undefined;
      for (let s = 0; s < maxNewTokens; s++) {
        const r = model.forward(next, null, state);
        state = r.state;
        const Tn = next.shape[1]!;
        const tok = new Int32Array(B);
        for (let b = 0; b < B; b++) {
          const row = r.logits.storage.subarray((b * Tn + Tn - 1) * V, (b * Tn + Tn) * V);
          let zMax = -Infinity;
          for (const z of row) zMax = Math.max(zMax, z);
          const p = Array.from(row, (z) => Math.exp((z - zMax) / temperature)); // softmax(z/τ), unnormalised
          let u = generator.random() * p.reduce((x, y) => x + y, 0);
          tok[b] = V - 1;
          for (let i = 0; i < V; i++)
            if ((u -= p[i]!) < 0) {
              tok[b] = i;
              break;
            }
          out[b * (T0 + maxNewTokens) + T0 + s] = tok[b]!;
        }
        next = new Tensor(tok, [B, 1]);
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return new Tensor(out, [B, T0 + maxNewTokens]);
}
