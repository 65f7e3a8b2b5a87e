// Convolutional sequence to sequence learning (ConvS2S): an encoder and a decoder of gated convolutions, and
// an attention in every decoder layer ("multi-step attention").
//   Gehring, Auli, Grangier, Yarats, Dauphin 2017, "Convolutional Sequence to Sequence Learning",
//     https://arxiv.org/abs/1705.03122
//   Dauphin, Fan, Auli, Grangier 2017, "Language Modeling with Gated Convolutional Networks",
//     https://arxiv.org/abs/1612.08083 (the gated linear unit, GLU)
//   Salimans, Kingma 2016, "Weight Normalization", https://arxiv.org/abs/1602.07868
//
// The sibling of the GRU encoder-decoder with Bahdanau's attention (src/models/seq2seq-attention): the same
// task interface (token 0 PAD, 1 BOS, 2 EOS), the same forward(src, tgtIn, tgtOut) → { logits, loss,
// attention }, the same greedy decoding. What changes is how order and context are computed:
//   seq2seq-attention  a recurrence over time (bidirectional GRU encoder, GRU decoder); one attention per
//                      target step, before the GRU step
//   convs2s            no recurrence: stacked convolutions over all positions at once (non-causal in the
//                      encoder, causal in the decoder), learned position embeddings for order, and an
//                      attention in EVERY decoder layer, each over the same encoder output
// Lines that differ from the GRU model in the role they play are marked DIFF(seq2seq-attention).
//
// Following the paper (§3.2–3.5) and its reference implementation's layout (fairseq's fconv):
//   e_j = w_j + p_j                              token + position embeddings (source; g_i the same for the target)
//   block:  h^l = GLU(conv(h^{l−1})) + h^{l−1},  scaled by √0.5       (§3.2, §3.5)
//   GLU([A B]) = A ⊗ σ(B)
//   d_i^l = (W_d^l h_i^l + b_d^l + g_i)·√0.5                         (§3.3 eq. for d)
//   a_ij^l = softmax_j(d_i^l · z_j^u)                               z^u: the encoder's last layer
//   c_i^l = Σ_j a_ij^l (z_j^u + e_j)·√0.5,  scaled by m·√(1/m)      (m source vectors, §3.5)
//   h_i^l ← (h_i^l + W_c c_i^l)·√0.5, then the residual of the block
// Weight normalisation (w = g·v/‖v‖ per output unit, §3.5) on every linear and convolution layer, and the
// paper's initialisation (§3.5: N(0, √(1/n_in)) for the linear layers, N(0, √(4/(k·n_in)))
// for the convolutions feeding a GLU, embeddings N(0, 0.1)), with g set so that w = v at the start.
// DIFF(paper): no dropout (our tasks are synthetic streams, never repeated), and no gradient scaling of the
// encoder by 1/(2·decoder layers) (§3.5: it changes only the optimizer's step size for the encoder).
//
// Read top to bottom: config → layers (weight-normed linear and convolution, encoder, attention) → decoder →
// model → init → weight map → generate.
//
// Vocabulary (shape comments): B batch, S source tokens, T target steps, E = embDim, D = hidden (the
// convolutions' channels), K = kernel, L the decoder's layers, V target vocabulary.

import { arange, tensor, zeros } from "../../engine/creation.js";
import { ArgumentError, DTypeError, ShapeError } from "../../engine/errors.js";
import { defaultGenerator, type Generator } from "../../engine/rng.js";
import { fmt } from "../../engine/shape.js";
import type { Tensor } from "../../engine/tensor.js";
import { cat } from "../../ops/shape.js";
import * as F from "../../nn/functional.js";
import { Module, ModuleList, evaluating, type Parameter } from "../../nn/module.js";
import { Embedding, param, type InitOptions } from "../../nn/linear.js";
import { normal_, zeros_ } from "../../nn/init.js";
import { fromTorchName, toTorchName } from "../../nn/names.js";
import { linearFlops, matmulFlops, sortedKinds, type Architecture } from "../architecture.js";
import { configOf } from "../presets.js";

// =====================================================================================================
// Config

export interface ConvS2SConfig {
  /** source tokens, PAD = 0 included */
  readonly srcVocab: number;
  /** target tokens (V), PAD = 0, BOS = 1, EOS = 2 included */
  readonly tgtVocab: number;
  /** embedding width of tokens and positions (E); attention scores and the context live in it too */
  readonly embDim: number;
  /** the convolutions' channels (D) */
  readonly hidden: number;
  /** the convolutions' width (K), odd: the encoder sees (K−1)/2 tokens either side, the decoder K−1 before */
  readonly kernel: number;
  /** convolution blocks of the encoder */
  readonly encLayers: number;
  /** convolution blocks of the decoder, each with its own attention */
  readonly decLayers: number;
  /** the longest source or target sequence (the learned positions) */
  readonly maxLen: number;
}

/** A checked, frozen config: `convS2SConfig("dates", { srcVocab, tgtVocab })`. */
export function convS2SConfig(
  base: ConvS2SConfig | keyof typeof PRESETS,
  overrides: Partial<ConvS2SConfig> = {},
): ConvS2SConfig {
  return configOf("ConvS2SConfig", PRESETS, base, overrides, {
    positive: ["srcVocab", "tgtVocab", "embDim", "hidden", "kernel", "encLayers", "decLayers", "maxLen"],
    also: (c) =>
      c.kernel % 2 !== 1
        ? `kernel ${c.kernel} must be odd (the encoder pads (K−1)/2 either side)`
        : c.tgtVocab < 4
          ? `tgtVocab ${c.tgtVocab} must hold PAD, BOS, EOS and at least one token`
          : undefined,
  });
}

export const PRESETS = Object.freeze({
  /** the character-level dates task (seq2seq-attention's dates vocabularies), about the GRU's 61k parameters: 62k */
  dates: Object.freeze({
    srcVocab: 70,
    tgtVocab: 14,
    embDim: 32,
    hidden: 32,
    kernel: 3,
    encLayers: 4,
    decLayers: 3,
    maxLen: 64,
  }),
  /** reversal of 5…40 tokens out of 20: 6 encoder blocks of width 5 see 12 tokens either side of a token */
  reversal: Object.freeze({
    srcVocab: 23,
    tgtVocab: 23,
    embDim: 32,
    hidden: 32,
    kernel: 5,
    encLayers: 6,
    decLayers: 2,
    maxLen: 48,
  }),
  /** the fixture's configuration */
  tiny: Object.freeze({
    srcVocab: 9,
    tgtVocab: 7,
    embDim: 4,
    hidden: 6,
    kernel: 3,
    encLayers: 2,
    decLayers: 2,
    maxLen: 8,
  }),
} satisfies Record<string, ConvS2SConfig>);

/** The number of parameters of a config, counted from the equations (nothing allocated). */
export function countParameters(c: ConvS2SConfig): number {
  const { srcVocab: Vs, tgtVocab: V, embDim: E, hidden: D, kernel: K, encLayers: Le, decLayers: L, maxLen: P } = c;
  const linear = (i: number, o: number): number => o * i + o + o; //   v, g, b
  const conv = (i: number, o: number): number => o * i * K + o + o; // v, g, b
  const encoder = Vs * E + P * E + linear(E, D) + Le * conv(D, 2 * D) + linear(D, E);
  const decoder =
    V * E + P * E + linear(E, D) + L * (conv(D, 2 * D) + linear(D, E) + linear(E, D)) + linear(D, E) + linear(E, V);
  return encoder + decoder;
}

/**
 * The architecture in one row (src/models/architecture.ts). FLOPs per example of S source and T target
 * tokens (teacher forcing): the encoder's fc1, Le convolutions (2·K·D·2D per token) and fc2 over S tokens;
 * the decoder's fc1, L blocks of convolution + attention (W_d, the scores d·z over S, the context a·(z+e)
 * over S, W_c) and fc2 + the output layer over T tokens.
 */
export function describe(c: ConvS2SConfig, srcLen = 20, tgtLen = 11): Architecture {
  const { tgtVocab: V, embDim: E, hidden: D, kernel: K, encLayers: Le, decLayers: L } = c;
  const S = srcLen,
    T = tgtLen;
  const conv = linearFlops(K * D, 2 * D); // one position of a convolution
  const encoder = S * (linearFlops(E, D) + Le * conv + linearFlops(D, E));
  const attention = linearFlops(D, E) + matmulFlops(1, E, S) + matmulFlops(1, S, E) + linearFlops(E, D);
  const decoder = T * (linearFlops(E, D) + L * (conv + attention) + linearFlops(D, E) + linearFlops(E, V));
  return {
    title: "ConvS2S (convolutional seq2seq, multi-step attention)",
    config: `E ${E}, D ${D}, K ${K}, ${Le} + ${L} blocks, V ${c.srcVocab} → ${V}`,
    parameters: countParameters(c),
    layers: sortedKinds({ [Embedding.name]: 4, [WNConv1d.name]: Le + L, [WNLinear.name]: 2 + 2 + 2 * L + 1 }),
    normalization: "WNLinear, WNConv1d: weight normalisation (w = g·v/‖v‖) in every layer; residuals scaled by √0.5",
    positions: "learned absolute position embeddings added to the tokens (source and target)",
    attention:
      "dot-product in every decoder layer: (W_d h_i + g_i)·z_j over the source, context Σ a (z_j + e_j) scaled by √m",
    activation: "GLU (A ⊗ σ(B)) after every convolution",
    flops: { value: encoder + decoder, per: "example", at: `source ${S}, target ${T} tokens` },
  };
}

// =====================================================================================================
// Layers

const SQRT_HALF = Math.sqrt(0.5);

/** w = g · v / ‖v‖, the norm over every axis but the first (one g per output unit); v (O, …), g (O, 1, …). */
function weightNorm(v: Tensor, g: Tensor): Tensor {
  const O = v.shape[0]!;
  const norm = v.reshape([O, -1]).pow(2).sum(1, true).sqrt().reshape(g.shape); // (O, 1, …)
  return v.mul(g.div(norm)); // (O, …)
}

/** Set g = ‖v‖ so that w = v at the start (Salimans & Kingma's init without data; fairseq's too). */
function normInit(v: Parameter, g: Parameter): void {
  if (v.isMeta) return;
  const O = v.shape[0]!,
    n = v.numel() / O;
  for (let o = 0; o < O; o++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += v.storage[o * n + i]! ** 2;
    g.storage[o] = Math.sqrt(s);
  }
}

/** A weight-normalised linear layer: y = x wᵀ + b with w = g·v/‖v‖; v ~ N(0, √(gain/in)) (§3.5), b = 0. */
export class WNLinear extends Module {
  weightV: Parameter; // (out, in)
  weightG: Parameter; // (out, 1)
  bias: Parameter; //    (out)

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: InitOptions & { gain?: number } = {},
  ) {
    super();
    this.weightV = param([outFeatures, inFeatures]);
    this.weightG = param([outFeatures, 1]);
    this.bias = param([outFeatures]);
    normal_(this.weightV, 0, Math.sqrt((opts.gain ?? 1) / inFeatures), opts);
    normInit(this.weightV, this.weightG);
    zeros_(this.bias);
  }

  forward(x: Tensor): Tensor {
    return F.linear(x, weightNorm(this.weightV, this.weightG), this.bias); // (*, out)
  }
}

/**
 * A weight-normalised 1-D convolution (O, C, K) over (B, C, N) with K−1 zeros of padding: centred
 * ((K−1)/2 either side) for the encoder, causal (all K−1 before) for the decoder, so that position i sees
 * only positions ≤ i. v ~ N(0, √(4/(K·C))): the GLU halves the
 * variance of what it passes on (§3.5).
 */
export class WNConv1d extends Module {
  weightV: Parameter; // (O, C, K)
  weightG: Parameter; // (O, 1, 1)
  bias: Parameter; //    (O)

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    readonly causal: boolean,
    opts: InitOptions = {},
  ) {
    super();
    this.weightV = param([outChannels, inChannels, kernel]);
    this.weightG = param([outChannels, 1, 1]);
    this.bias = param([outChannels]);
    normal_(this.weightV, 0, Math.sqrt(4 / (kernel * inChannels)), opts);
    normInit(this.weightV, this.weightG);
    zeros_(this.bias);
  }

  forward(x: Tensor): Tensor {
    const K = this.kernel; // x (B, C, N)
    const w = weightNorm(this.weightV, this.weightG); // (O, C, K)
    // DIFF(seq2seq-attention): every position at once, no recurrence
    if (!this.causal) return F.conv1d(x, w, this.bias, { padding: (K - 1) / 2 }); // (B, O, N)
    // causal: K − 1 zeros before the sequence, none after, so that output i sees inputs i−K+1 … i
    const [B, C] = x.shape as [number, number];
    return F.conv1d(cat([zeros([B, C, K - 1]), x], 2), w, this.bias); // (B, C, N + K − 1) → (B, O, N)
  }
}

/** GLU([A B]) = A ⊗ σ(B), the halves along the channels: (B, 2D, N) → (B, D, N). */
function glu(x: Tensor): Tensor {
  const [a, b] = x.chunk(2, 1) as [Tensor, Tensor]; // (B, D, N) each
  return a.mul(b.sigmoid());
}

/** Token + learned position embeddings: e_j = w_j + p_j for positions 0…N−1. */
export class Embed extends Module {
  tokens: Embedding;
  positions: Embedding;

  constructor(vocab: number, c: ConvS2SConfig, generator: Generator) {
    super();
    // DIFF(seq2seq-attention): positions are learned vectors; the GRU gets order from its recurrence
    this.tokens = new Embedding(vocab, c.embDim, { paddingIdx: 0, generator });
    this.positions = new Embedding(c.maxLen, c.embDim, { generator });
    for (const e of [this.tokens, this.positions])
      if (!e.weight.isMeta) e.weight.storage.forEach((v, i, a) => (a[i] = 0.1 * v)); // N(0, 0.1) (§3.5), PAD's row stays 0
  }

  forward(ids: Tensor): Tensor {
    const N = ids.shape[1]!;
    if (N > this.positions.numEmbeddings)
      throw new ShapeError(
        `ConvS2S: a sequence of ${N} tokens is longer than maxLen ${this.positions.numEmbeddings} (ids ${fmt(ids.shape)})`,
      );
    // e_j = w_j + p_j
    return this.tokens.forward(ids).add(this.positions.forward(arange(0, N, 1, { dtype: "int32" }))); // (B, N, E)
  }
}

/** What the encoder hands the decoder. */
export interface Memory {
  /** z_j^u: the keys of every attention, the encoder's last layer projected back to E */
  z: Tensor; //      (B, S, E)
  /** z_j^u + e_j: the values, the keys plus the source's own embeddings (point information, §3.3) */
  values: Tensor; // (B, S, E)
  /** true at padding: those positions get no attention */
  pad: Tensor; //    (B, S) bool
  /** m: the real source tokens of each row, for the context's scale m·√(1/m) */
  count: Tensor; //  (B, 1, 1)
}

/** The encoder: embeddings, fc1 to D channels, Le blocks of a centred convolution + GLU + residual, fc2 back to E. */
export class Encoder extends Module {
  embed: Embed;
  fc1: WNLinear;
  convs: ModuleList<WNConv1d>;
  fc2: WNLinear;

  constructor(c: ConvS2SConfig, generator: Generator) {
    super();
    this.embed = new Embed(c.srcVocab, c, generator);
    this.fc1 = new WNLinear(c.embDim, c.hidden, { generator });
    this.convs = new ModuleList(
      Array.from({ length: c.encLayers }, () => new WNConv1d(c.hidden, 2 * c.hidden, c.kernel, false, { generator })),
    );
    this.fc2 = new WNLinear(c.hidden, c.embDim, { generator });
  }

  forward(src: Tensor): Memory {
    const pad = src.eq(0); // (B, S) bool
    const padC = pad.unsqueeze(1); // (B, 1, S)
    const e = this.embed.forward(src); // (B, S, E)
    let h = this.fc1.forward(e).transpose(1, 2); // (B, D, S)
    for (const conv of this.convs) {
      // padding is zero before every convolution, so a row's result does not depend on how much of it there is
      const x = h.maskedFill(padC, 0); // (B, D, S)
      // h^l = (GLU(conv(h^{l−1})) + h^{l−1})·√0.5
      h = glu(conv.forward(x)).add(h).mul(SQRT_HALF); // (B, D, S)
    }
    const z = this.fc2.forward(h.transpose(1, 2)); // (B, S, E)
    // DIFF(seq2seq-attention): the values are z_j + e_j, the keys z_j (the GRU attends over h_j alone)
    const values = z.add(e).mul(SQRT_HALF); // (B, S, E)
    const count = src.ne(0).to("float32").sum(1, true).unsqueeze(2); // (B, 1, 1)
    return { z, values, pad, count };
  }
}

/**
 * The attention of one decoder layer (§3.3): d_i = W_d h_i + b_d + g_i, a_ij = softmax_j(d_i·z_j),
 * c_i = Σ_j a_ij (z_j + e_j) · m√(1/m), then W_c c_i back to D channels, added to h_i and scaled by √0.5.
 */
export class Attention extends Module {
  wq: WNLinear; // W_d (E, D)
  wo: WNLinear; // W_c (D, E)

  constructor(c: ConvS2SConfig, generator: Generator) {
    super();
    this.wq = new WNLinear(c.hidden, c.embDim, { generator });
    this.wo = new WNLinear(c.embDim, c.hidden, { generator });
  }

  forward(h: Tensor, g: Tensor, mem: Memory): { y: Tensor; weights: Tensor } {
    // d_i = (W_d h_i + b_d + g_i)·√0.5
    const d = this.wq.forward(h).add(g).mul(SQRT_HALF); // (B, T, E)
    // a_ij = softmax_j(d_i · z_j), padding masked out
    const e = d.bmm(mem.z.transpose(1, 2)); // (B, T, E)·(B, E, S) → (B, T, S)
    const weights = e.maskedFill(mem.pad.unsqueeze(1), -Infinity).softmax(2); // (B, T, S)
    // c_i = Σ_j a_ij (z_j + e_j) · m·√(1/m)   (m real source tokens: the context's variance kept, §3.5)
    const context = weights.bmm(mem.values).mul(mem.count.sqrt()); // (B, T, E)
    // (h_i + W_c c_i)·√0.5
    const y = this.wo.forward(context).add(h).mul(SQRT_HALF); // (B, T, D)
    return { y, weights };
  }
}

// =====================================================================================================
// Decoder: all target positions at once (teacher forcing), causal convolutions

export interface DecoderOutput {
  logits: Tensor; //     (B, T, V)
  /** the attention of every layer over the source */
  weights: Tensor[]; //  L × (B, T, S)
}

export class Decoder extends Module {
  embed: Embed;
  fc1: WNLinear;
  convs: ModuleList<WNConv1d>;
  attns: ModuleList<Attention>;
  fc2: WNLinear;
  out: WNLinear;

  constructor(c: ConvS2SConfig, generator: Generator) {
    super();
    this.embed = new Embed(c.tgtVocab, c, generator);
    this.fc1 = new WNLinear(c.embDim, c.hidden, { generator });
    this.convs = new ModuleList(
      Array.from({ length: c.decLayers }, () => new WNConv1d(c.hidden, 2 * c.hidden, c.kernel, true, { generator })),
    );
    this.attns = new ModuleList(Array.from({ length: c.decLayers }, () => new Attention(c, generator)));
    this.fc2 = new WNLinear(c.hidden, c.embDim, { generator });
    this.out = new WNLinear(c.embDim, c.tgtVocab, { generator });
  }

  /** y (B, T) = BOS y_1 … y_{T−1} → the logits of y_1 … y_T, each position seeing only the tokens before it. */
  forward(y: Tensor, mem: Memory): DecoderOutput {
    const g = this.embed.forward(y); // (B, T, E)
    let h = this.fc1.forward(g); // (B, T, D)
    const weights: Tensor[] = [];
    for (let l = 0; l < this.convs.length; l++) {
      const residual = h; // (B, T, D)
      // h^l = GLU(causal conv(h^{l−1}))
      const x = glu(this.convs.at(l).forward(h.transpose(1, 2))).transpose(1, 2); // (B, T, D)
      // DIFF(seq2seq-attention): an attention in every layer ("multi-step"), each over the same encoder output
      const att = this.attns.at(l).forward(x, g, mem);
      weights.push(att.weights);
      // h^l = (attended h^l + h^{l−1})·√0.5
      h = att.y.add(residual).mul(SQRT_HALF); // (B, T, D)
    }
    // logits_i = W_o (W_2 h_i^L + b_2) + b_o
    const logits = this.out.forward(this.fc2.forward(h)); // (B, T, V)
    return { logits, weights };
  }
}

// =====================================================================================================
// Model

export interface ConvS2SOptions {
  /** the source of the initial weights (default: the library's default generator) */
  generator?: Generator;
}

export interface ConvS2SOutput {
  logits: Tensor; //        (B, T, V)
  /** mean cross-entropy over the non-padding target positions, when targets were given */
  loss: Tensor | null; //   ()
  /** the last layer's attention over the source (the other layers' in `layers`) */
  attention: Tensor; //     (B, T, S)
  /** every layer's attention */
  layers: Tensor[]; //      L × (B, T, S)
}

export class ConvS2S extends Module {
  readonly config: ConvS2SConfig;
  encoder: Encoder;
  decoder: Decoder;

  constructor(config: ConvS2SConfig, opts: ConvS2SOptions = {}) {
    super();
    const c = (this.config = convS2SConfig(config));
    const generator = opts.generator ?? defaultGenerator;
    this.encoder = new Encoder(c, generator);
    this.decoder = new Decoder(c, generator);
  }

  /** The encoder's memory (keys, values, padding, lengths). */
  encode(src: Tensor): Memory {
    if (src.ndim !== 2) throw new ShapeError(`ConvS2S: src must be (B, S) token ids, got shape ${fmt(src.shape)}`);
    if (src.dtype !== "int32")
      throw new DTypeError(`ConvS2S: src must be int32 token ids, got ${src.dtype} ${fmt(src.shape)}`);
    return this.encoder.forward(src);
  }

  /**
   * Teacher forcing: src (B, S), tgtIn (B, T) = BOS y_1 … y_{T−1} → logits (B, T, V) for y_1 … EOS;
   * with tgtOut (B, T) the mean cross-entropy over the positions that are not PAD.
   */
  forward(src: Tensor, tgtIn: Tensor, tgtOut?: Tensor | null): ConvS2SOutput {
    if (tgtIn.ndim !== 2 || tgtIn.shape[0] !== src.shape[0])
      throw new ShapeError(`ConvS2S: tgtIn ${fmt(tgtIn.shape)} must be (B, T) with the batch of src ${fmt(src.shape)}`);
    const mem = this.encode(src);
    // DIFF(seq2seq-attention): every target position in one pass (no loop over steps)
    const { logits, weights } = this.decoder.forward(tgtIn, mem); // (B, T, V)
    const attention = weights[weights.length - 1]!;
    if (!tgtOut) return { logits, loss: null, attention, layers: weights };
    const [B, T] = tgtIn.shape as [number, number];
    if (tgtOut.ndim !== 2 || tgtOut.shape[0] !== B || tgtOut.shape[1] !== T)
      throw new ShapeError(`ConvS2S: tgtOut ${fmt(tgtOut.shape)} must have the shape of tgtIn ${fmt(tgtIn.shape)}`);
    // loss = −(1/N)·Σ_{b,i: y_bi ≠ PAD} log softmax(logits_bi)[y_bi]
    const loss = F.crossEntropy(logits.view(B * T, -1), tgtOut.view(B * T), { ignoreIndex: 0 }); // ()
    return { logits, loss, attention, layers: weights };
  }

  // ===================================================================================================
  // Init
  //
  // The paper's (§3.5), in each layer's constructor: embeddings N(0, 0.1) (PAD's row 0); linear layers
  // v ~ N(0, √(1/n_in)), convolutions feeding a GLU v ~ N(0, √(4/(K·n_in))), biases 0, and g = ‖v‖ so that
  // the weight-normed w equals v at step 0.

  /** Greedy decoding; see `greedyDecode` below. */
  generate(src: Tensor, maxLen: number): GreedyOutput {
    return greedyDecode(this, src, maxLen);
  }
}

// =====================================================================================================
// Weight map: our names ↔ the PyTorch reference (tools/fixtures/convs2s.py)
//
// | ours                                | PyTorch                                    | how          |
// |-------------------------------------|--------------------------------------------|--------------|
// | *.weightV, *.weightG, *.bias        | *.weight_v, *.weight_g, *.bias             | toTorchName (torch.nn.utils.weight_norm, dim 0) |
// | encoder.convs.0…, decoder.attns.0…  | the same path                              | toTorchName  |
//
// Every name maps by toTorchName alone (the reference is written with our module names); nothing is transposed.

/** A state dict of the PyTorch reference → ours, ready for `model.loadStateDict`. */
export function fromTorchState(state: Record<string, Tensor>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(state).map(([k, v]) => [fromTorchName(k), v]));
}

/** Our state dict → the PyTorch reference's names. */
export function toTorchState(state: Record<string, Tensor>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(state).map(([k, v]) => [toTorchName(k), v]));
}

// =====================================================================================================
// Generate

export interface GreedyOutput {
  /** each row's tokens up to and without EOS */
  tokens: number[][];
  /** each row's attention of every layer (L × steps × S, the step that produced EOS included) */
  attention: number[][][][];
}

/**
 * Greedy decoding: feed BOS, then each step's most likely token, until every row has produced EOS or
 * maxLen tokens (EOS not counted) were produced. The encoder runs once; the decoder reruns over the prefix
 * at every step (its convolutions keep no state; the last position's logits are the next token's).
 */
export function greedyDecode(model: ConvS2S, src: Tensor, maxLen: number): GreedyOutput {
  if (!(Number.isInteger(maxLen) && maxLen >= 0))
    throw new ArgumentError(`greedyDecode: maxLen must be an integer ≥ 0, got ${maxLen}`);
  return evaluating(model, () => {
    const mem = model.encode(src);
    const B = src.shape[0]!,
      S = src.shape[1]!,
      V = model.config.tgtVocab,
      L = model.config.decLayers;
    const tokens: number[][] = Array.from({ length: B }, () => []);
    const attention: number[][][][] = Array.from({ length: B }, () => Array.from({ length: L }, () => []));
    const done = new Array<boolean>(B).fill(false);
    const prefix: number[][] = Array.from({ length: B }, () => [1]); // BOS
    for (let i = 0; i <= maxLen && done.includes(false); i++) {
      const y = tensor(Int32Array.from(prefix.flat()), { shape: [B, i + 1] }); // (B, i + 1)
      const { logits, weights } = model.decoder.forward(y, mem); // (B, i + 1, V)
      for (let b = 0; b < B; b++) {
        const next = argmax(logits.storage.subarray((b * (i + 1) + i) * V, (b * (i + 1) + i + 1) * V));
        prefix[b]!.push(next);
        if (done[b]) continue;
        for (let l = 0; l < L; l++)
          attention[b]![l]!.push(
            Array.from(weights[l]!.storage.subarray((b * (i + 1) + i) * S, (b * (i + 1) + i + 1) * S)),
          );
        if (next === 2 || i === maxLen) done[b] = true;
        else tokens[b]!.push(next);
      }
    }
    return { tokens, attention };
  });
}

function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}
