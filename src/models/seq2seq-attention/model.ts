// Sequence to sequence with a GRU encoder-decoder, three ways: without attention, with Bahdanau's
// additive attention, and with Luong's multiplicative attention (dot and general scores).
//   Cho, van Merriënboer, Gulcehre, Bahdanau, Bougares, Schwenk, Bengio 2014, "Learning Phrase Representations
//     using RNN Encoder-Decoder for Statistical Machine Translation", https://arxiv.org/abs/1406.1078 (the GRU,
//     and the decoder fed one fixed context vector)
//   Sutskever, Vinyals, Le 2014, "Sequence to Sequence Learning with Neural Networks", https://arxiv.org/abs/1409.3215
//   Bahdanau, Cho, Bengio 2015, "Neural Machine Translation by Jointly Learning to Align and Translate",
//     https://arxiv.org/abs/1409.0473 (additive attention; the bidirectional encoder)
//   Luong, Pham, Manning 2015, "Effective Approaches to Attention-based Neural Machine Translation",
//     https://arxiv.org/abs/1508.04025 (global attention with dot / general scores, after the RNN step)
//
// The three models share everything but the decoder step: the same bidirectional GRU encoder (Bahdanau's),
// the same bridge to the decoder's first state, the same embeddings, teacher forcing, loss and greedy
// decoding. The three decoders are written out whole, one after the other, so that the lines that differ
// are the lesson (each marked DIFF):
//   PlainDecoder     c = [→h_S; ←h_1] fixed         s_i = GRU([y_{i−1}; c], s_{i−1})     logits from [s_i; c; y_{i−1}]
//   BahdanauDecoder  c_i = Σ_j α_ij h_j, α from s_{i−1}  s_i = GRU([y_{i−1}; c_i], s_{i−1})   logits from [s_i; c_i; y_{i−1}]
//   LuongDecoder     s_i = GRU(y_{i−1}, s_{i−1}),  c_i = Σ_j α_ij h_j with α from s_i,  h̃_i = tanh(W_c [c_i; s_i]),  logits from h̃_i
//
// Read top to bottom: config → layers (GRU cell, encoder, attention) → decoders → model → init →
// weight map → generate. The PyTorch names appear only in the weight-map table.
//
// Vocabulary (shape comments): B batch, S source tokens, T target steps, E = embDim, H = hidden (the
// decoder's state and an annotation h_j = [→h_j; ←h_j]; each encoder direction has H/2), A = attnDim
// (Bahdanau), V target vocabulary. Token id 0 is padding (PAD), 1 starts (BOS) and 2 ends (EOS) a target.

import { tensor, zeros } from "../../engine/creation.js";
import { ArgumentError, DTypeError, ShapeError } from "../../engine/errors.js";
import { configOf } from "../presets.js";
import { defaultGenerator, type Generator } from "../../engine/rng.js";
import { fmt } from "../../engine/shape.js";
import type { Tensor } from "../../engine/tensor.js";
import { cat, stack } from "../../ops/shape.js";
import * as F from "../../nn/functional.js";
import { Module, evaluating, type Parameter } from "../../nn/module.js";
import { Embedding, Linear, param, type InitOptions } from "../../nn/linear.js";
import { uniform_ } from "../../nn/init.js";
import { fromTorchName, toTorchName } from "../../nn/names.js";
import { linearFlops, matmulFlops, sortedKinds, type Architecture } from "../architecture.js";

// =====================================================================================================
// Config

export type AttentionKind = "none" | "bahdanau" | "luong-dot" | "luong-general";
export const ATTENTION_KINDS: readonly AttentionKind[] = ["none", "bahdanau", "luong-dot", "luong-general"];

export interface Seq2SeqConfig {
  /** source tokens, PAD = 0 included */
  readonly srcVocab: number;
  /** target tokens (V), PAD = 0, BOS = 1, EOS = 2 included */
  readonly tgtVocab: number;
  /** embedding width of source and target tokens (E) */
  readonly embDim: number;
  /** the decoder's state and an encoder annotation (H); each encoder direction has H/2, so H is even */
  readonly hidden: number;
  /** the width of Bahdanau's scoring layer (A); unused by the others */
  readonly attnDim: number;
  /** which decoder: none (Cho/Sutskever), bahdanau (additive), luong-dot, luong-general (multiplicative) */
  readonly attention: AttentionKind;
}

/** A checked, frozen config: `seq2seqConfig("dates", { attention: "bahdanau", srcVocab, tgtVocab })`. */
export function seq2seqConfig(
  base: Seq2SeqConfig | keyof typeof PRESETS,
  overrides: Partial<Seq2SeqConfig> = {},
): Seq2SeqConfig {
  return configOf("Seq2SeqConfig", PRESETS, base, overrides, {
    positive: ["srcVocab", "tgtVocab", "embDim", "hidden", "attnDim"],
    oneOf: { attention: ATTENTION_KINDS },
    also: (c) =>
      c.hidden % 2 !== 0
        ? `hidden ${c.hidden} must be even (two encoder directions of hidden/2)`
        : c.tgtVocab < 4
          ? `tgtVocab ${c.tgtVocab} must hold PAD, BOS, EOS and at least one token`
          : undefined,
  });
}

export const PRESETS = Object.freeze({
  /** the character-level dates task (67 source characters, 11 target characters, + 3 specials) */
  dates: Object.freeze({
    srcVocab: 70,
    tgtVocab: 14,
    embDim: 32,
    hidden: 64,
    attnDim: 64,
    attention: "bahdanau" as AttentionKind,
  }),
  /** reversal of 5…40 tokens out of 20 */
  reversal: Object.freeze({
    srcVocab: 23,
    tgtVocab: 23,
    embDim: 16,
    hidden: 64,
    attnDim: 32,
    attention: "bahdanau" as AttentionKind,
  }),
  /** the fixture's configuration */
  tiny: Object.freeze({
    srcVocab: 9,
    tgtVocab: 7,
    embDim: 4,
    hidden: 6,
    attnDim: 5,
    attention: "bahdanau" as AttentionKind,
  }),
} satisfies Record<string, Seq2SeqConfig>);

/** The number of parameters of a config, counted from the equations (nothing allocated). */
export function countParameters(c: Seq2SeqConfig): number {
  const { srcVocab: Vs, tgtVocab: V, embDim: E, hidden: H, attnDim: A } = c;
  const gru = (inp: number, h: number): number => 3 * h * inp + 3 * h * h + 2 * 3 * h; // W_ih, W_hh, b_ih, b_hh
  const encoder = Vs * E + 2 * gru(E, H / 2); //   embedding, two directions
  const bridge = H * H + H; //                      s_0 = tanh(W_b [→h_S; ←h_1] + b_b)
  const decoder = {
    none: V * E + gru(E + H, H) + (2 * H + E) * V + V, //                      embed, cell, out
    bahdanau: V * E + (H * A + H * A + A) + gru(E + H, H) + (2 * H + E) * V + V, // embed, W_a, U_a, v_a, cell, out
    "luong-dot": V * E + gru(E, H) + 2 * H * H + H * V + V, //                 embed, cell, W_c, out
    "luong-general": V * E + gru(E, H) + H * H + 2 * H * H + H * V + V, //     embed, cell, W_a, W_c, out
  }[c.attention];
  return encoder + bridge + decoder;
}

const TITLES: Record<AttentionKind, string> = {
  none: "GRU seq2seq",
  bahdanau: "GRU seq2seq + Bahdanau attention",
  "luong-dot": "GRU seq2seq + Luong attention (dot)",
  "luong-general": "GRU seq2seq + Luong attention (general)",
};

/**
 * The architecture in one row (src/models/architecture.ts). FLOPs per example of S source and T target
 * tokens (teacher forcing): the encoder's two GRU directions over S tokens, 2·S·2·(E·3H/2 + H/2·3H/2); the
 * bridge 2·H²; the attention's keys once per sentence (Bahdanau U_a: 2·S·H·A, Luong general W_a: 2·S·H²);
 * then per target step the decoder's GRU, its scores (Bahdanau: W_a s 2·H·A and v_a over S, 2·S·A; Luong:
 * s·kᵀ 2·S·H), the context α·h 2·S·H, Luong's W_c 2·2H·H and the output layer.
 */
export function describe(c: Seq2SeqConfig, srcLen = 20, tgtLen = 11): Architecture {
  const { srcVocab: Vs, tgtVocab: V, embDim: E, hidden: H, attnDim: A } = c;
  const S = srcLen,
    T = tgtLen,
    h2 = H / 2;
  const gru = (inp: number, h: number): number => linearFlops(inp, 3 * h) + linearFlops(h, 3 * h); // W_ih x, W_hh h
  const encoder = 2 * S * gru(E, h2);
  const bridge = linearFlops(H, H);
  const context = matmulFlops(1, S, H); // α·h
  const step = {
    none: gru(E + H, H) + linearFlops(2 * H + E, V),
    bahdanau: linearFlops(H, A) + S * linearFlops(A, 1) + context + gru(E + H, H) + linearFlops(2 * H + E, V),
    "luong-dot": gru(E, H) + matmulFlops(S, H, 1) + context + linearFlops(2 * H, H) + linearFlops(H, V),
    "luong-general": gru(E, H) + matmulFlops(S, H, 1) + context + linearFlops(2 * H, H) + linearFlops(H, V),
  }[c.attention];
  const keys = { none: 0, bahdanau: S * linearFlops(H, A), "luong-dot": 0, "luong-general": S * linearFlops(H, H) }[
    c.attention
  ];
  // encoder.embed, decoder.embed; encoder.fwd, encoder.bwd, decoder.cell; bridge + the decoder's Linears
  const linears = { none: 1 + 1, bahdanau: 1 + 3 + 1, "luong-dot": 1 + 2, "luong-general": 1 + 3 }[c.attention];
  return {
    title: TITLES[c.attention],
    config: `E ${E}, H ${H}${c.attention === "bahdanau" ? `, A ${A}` : ""}, V ${Vs} → ${V}`,
    parameters: countParameters(c),
    layers: sortedKinds({ [Embedding.name]: 2, [GRUCell.name]: 3, [Linear.name]: linears }),
    normalization: "none",
    positions: "none: order from the GRU recurrences (a bidirectional encoder, annotations h_j = [→h_j; ←h_j])",
    attention: {
      none: "none: one fixed context vector [→h_S; ←h_1]",
      bahdanau: "additive (Bahdanau): v_aᵀ tanh(W_a s_{i−1} + U_a h_j), softmax over the source, before the GRU step",
      "luong-dot": "multiplicative (Luong dot): s_iᵀ h_j, softmax over the source, after the GRU step",
      "luong-general": "multiplicative (Luong general): s_iᵀ W_a h_j, softmax over the source, after the GRU step",
    }[c.attention],
    activation: `GRU (sigmoid gates, tanh candidate); tanh in the bridge${c.attention === "bahdanau" ? " and the scores" : c.attention === "none" ? "" : " and h̃ = tanh(W_c [c; s])"}`,
    flops: { value: encoder + bridge + keys + T * step, per: "example", at: `source ${S}, target ${T} tokens` },
  };
}

// =====================================================================================================
// Layers

/**
 * A gated recurrent unit (Cho et al. 2014) with PyTorch's layout and gate order (r, z, n), so that
 * nn.GRUCell's and nn.GRU's weights load as they are:
 *   r = σ(W_ir x + b_ir + W_hr h + b_hr)
 *   z = σ(W_iz x + b_iz + W_hz h + b_hz)
 *   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
 *   h' = (1 − z) ⊙ n + z ⊙ h
 */
export class GRUCell extends Module {
  weightIh: Parameter; // (3H, in)  rows r, z, n
  weightHh: Parameter; // (3H, H)
  biasIh: Parameter; //   (3H)
  biasHh: Parameter; //   (3H)

  constructor(
    readonly inputSize: number,
    readonly hiddenSize: number,
    opts: InitOptions = {},
  ) {
    super();
    this.weightIh = param([3 * hiddenSize, inputSize]);
    this.weightHh = param([3 * hiddenSize, hiddenSize]);
    this.biasIh = param([3 * hiddenSize]);
    this.biasHh = param([3 * hiddenSize]);
    this.resetParameters(opts);
  }

  /** PyTorch's default: every weight and bias U(±1/√H). */
  resetParameters(opts: InitOptions = {}): void {
    const k = 1 / Math.sqrt(this.hiddenSize);
    for (const p of [this.weightIh, this.weightHh, this.biasIh, this.biasHh]) uniform_(p, -k, k, opts);
  }

  /** The input's share of the gates, W_i· x + b_i·: (*, in) → (*, 3H). The encoder computes it for all steps at once. */
  inputGates(x: Tensor): Tensor {
    return F.linear(x, this.weightIh, this.biasIh); // (*, 3H)
  }

  /** One step from the input's gates gi (B, 3H) and the state h (B, H) → h' (B, H). */
  step(gi: Tensor, h: Tensor): Tensor {
    const gh = F.linear(h, this.weightHh, this.biasHh); // (B, 3H)
    const [ir, iz, iN] = gi.chunk(3, 1) as [Tensor, Tensor, Tensor]; // (B, H) each
    const [hr, hz, hN] = gh.chunk(3, 1) as [Tensor, Tensor, Tensor]; // (B, H) each
    // r = σ(W_ir x + b_ir + W_hr h + b_hr),  z = σ(W_iz x + b_iz + W_hz h + b_hz)
    const r = ir.add(hr).sigmoid(); // (B, H)
    const z = iz.add(hz).sigmoid(); // (B, H)
    // n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
    const n = iN.add(r.mul(hN)).tanh(); // (B, H)
    // h' = (1 − z) ⊙ n + z ⊙ h = n + z ⊙ (h − n)
    return n.add(z.mul(h.sub(n))); // (B, H)
  }

  forward(x: Tensor, h: Tensor): Tensor {
    return this.step(this.inputGates(x), h); // (B, H)
  }
}

/** What the encoder hands every decoder. */
export interface Memory {
  /** the annotations h_j = [→h_j; ←h_j], zero at padding */
  h: Tensor; // (B, S, H)
  /** true at padding: those positions get no attention */
  pad: Tensor; // (B, S) bool
  /** the two directions' last states [→h_S; ←h_1] (each direction's state after its last real token) */
  final: Tensor; // (B, H)
  /** what an attention layer precomputes from h once per sequence (U_a h_j, W_a h_j or h_j); null without attention */
  keys: Tensor | null; // (B, S, A) or (B, S, H)
}

/**
 * Bahdanau's encoder: a bidirectional GRU over the embedded source. Padding (id 0) ends a row: the
 * forward direction keeps its state through it, the backward one starts at the row's last real token,
 * which is what PyTorch's pack_padded_sequence computes.
 */
export class Encoder extends Module {
  embed: Embedding;
  fwd: GRUCell;
  bwd: GRUCell;

  constructor(c: Seq2SeqConfig, generator: Generator) {
    super();
    this.embed = new Embedding(c.srcVocab, c.embDim, { generator });
    this.fwd = new GRUCell(c.embDim, c.hidden / 2, { generator });
    this.bwd = new GRUCell(c.embDim, c.hidden / 2, { generator });
  }

  forward(src: Tensor): Omit<Memory, "keys"> {
    const [B, S] = src.shape as [number, number]; // src (B, S) int32
    const pad = src.eq(0); // (B, S) bool
    const real = src.ne(0).unsqueeze(2); // (B, S, 1) bool
    const x = this.embed.forward(src); // (B, S, E)
    const gf = this.fwd.inputGates(x),
      gb = this.bwd.inputGates(x); // (B, S, 3H/2) each
    const H2 = this.fwd.hiddenSize;
    let hf = zeros([B, H2]),
      hb = zeros([B, H2]); // (B, H/2)
    const outF: Tensor[] = new Array(S),
      outB: Tensor[] = new Array(S);
    for (let j = 0; j < S; j++) {
      // →h_j = GRU(x_j, →h_{j−1}), kept unchanged where x_j is padding
      const m = real.narrow(1, j, 1).squeeze(1); // (B, 1)
      hf = this.fwd.step(gf.narrow(1, j, 1).squeeze(1), hf).where(m, hf); // (B, H/2)
      outF[j] = hf.where(m, 0);
    }
    for (let j = S - 1; j >= 0; j--) {
      // ←h_j = GRU(x_j, ←h_{j+1}), starting from 0 at the row's last real token
      const m = real.narrow(1, j, 1).squeeze(1); // (B, 1)
      hb = this.bwd.step(gb.narrow(1, j, 1).squeeze(1), hb).where(m, hb); // (B, H/2)
      outB[j] = hb.where(m, 0);
    }
    // h_j = [→h_j; ←h_j]
    const h = cat([stack(outF, 1), stack(outB, 1)], 2); // (B, S, H)
    return { h, pad, final: cat([hf, hb], 1) }; //         final (B, H) = [→h_S; ←h_1]
  }
}

/** The weighted sum c = Σ_j α_j h_j, padding masked out of α = softmax(e): scores e (B, S) → { context (B, H), weights (B, S) }. */
function attend(e: Tensor, mem: Memory): { context: Tensor; weights: Tensor } {
  const weights = e.maskedFill(mem.pad, -Infinity).softmax(1); // (B, S)
  const context = weights.unsqueeze(1).bmm(mem.h).squeeze(1); // (B, 1, S)·(B, S, H) → (B, H)
  return { context, weights };
}

/** Bahdanau et al. 2015 (§3.1, appendix A.1.2): e_ij = v_aᵀ tanh(W_a s_{i−1} + U_a h_j). */
export class AdditiveAttention extends Module {
  wq: Linear; // W_a (A, H)
  wk: Linear; // U_a (A, H)
  v: Linear; //  v_a (1, A)

  constructor(c: Seq2SeqConfig, generator: Generator) {
    super();
    this.wq = new Linear(c.hidden, c.attnDim, { bias: false, generator });
    this.wk = new Linear(c.hidden, c.attnDim, { bias: false, generator });
    this.v = new Linear(c.attnDim, 1, { bias: false, generator });
  }

  /** U_a h_j for every j, once per source sentence (Bahdanau A.1.2: "can be pre-computed") */
  keys(h: Tensor): Tensor {
    return this.wk.forward(h); // (B, S, A)
  }

  forward(q: Tensor, mem: Memory): { context: Tensor; weights: Tensor } {
    // e_ij = v_aᵀ tanh(W_a s_{i−1} + U_a h_j)
    const e = this.v.forward(mem.keys!.add(this.wq.forward(q).unsqueeze(1)).tanh()).squeeze(2); // (B, S, A) → (B, S)
    return attend(e, mem);
  }
}

/** Luong et al. 2015 (§3.1, eq. 8), the `dot` score: score(s_i, h_j) = s_iᵀ h_j. */
export class DotAttention extends Module {
  keys(h: Tensor): Tensor {
    return h; // (B, S, H)
  }

  forward(q: Tensor, mem: Memory): { context: Tensor; weights: Tensor } {
    // e_ij = s_iᵀ k_j
    const e = mem.keys!.bmm(q.unsqueeze(2)).squeeze(2); // (B, S, H)·(B, H, 1) → (B, S)
    return attend(e, mem);
  }
}

/** Luong's `general` score: score(s_i, h_j) = s_iᵀ W_a h_j; the dot score with keys W_a h_j. */
export class GeneralAttention extends DotAttention {
  wa: Linear; // W_a (H, H)

  constructor(c: Seq2SeqConfig, generator: Generator) {
    super();
    this.wa = new Linear(c.hidden, c.hidden, { bias: false, generator });
  }

  // DIFF(DotAttention): the keys are W_a h_j (precomputed once per sentence), not h_j
  override keys(h: Tensor): Tensor {
    return this.wa.forward(h); // (B, S, H)
  }
}

// =====================================================================================================
// Decoders: one step each, from the previous token y (B) and state s (B, H). Written out whole.

export interface DecoderStep {
  logits: Tensor; //        (B, V)
  s: Tensor; //             (B, H) the new state
  weights: Tensor | null; // (B, S) the attention over the source, when there is one
}

export interface Decoder extends Module {
  /** what the decoder precomputes from the annotations once per sequence */
  keys(h: Tensor): Tensor | null;
  step(y: Tensor, s: Tensor, mem: Memory): DecoderStep;
}

/** Cho et al. 2014 (and Bahdanau's RNNencdec baseline): the encoder's final state is the only context. */
export class PlainDecoder extends Module implements Decoder {
  embed: Embedding;
  cell: GRUCell;
  out: Linear;

  constructor(c: Seq2SeqConfig, generator: Generator) {
    super();
    this.embed = new Embedding(c.tgtVocab, c.embDim, { generator });
    this.cell = new GRUCell(c.embDim + c.hidden, c.hidden, { generator });
    this.out = new Linear(2 * c.hidden + c.embDim, c.tgtVocab, { generator });
  }

  keys(): null {
    return null;
  }

  step(y: Tensor, s: Tensor, mem: Memory): DecoderStep {
    const e = this.embed.forward(y); // (B, E)
    // DIFF(bahdanau): c = [→h_S; ←h_1], the same vector at every step
    const c = mem.final; // (B, H)
    // s_i = GRU([E y_{i−1}; c], s_{i−1})
    s = this.cell.forward(cat([e, c], 1), s); // (B, H)
    // logits_i = W_o [s_i; c; E y_{i−1}] + b_o
    const logits = this.out.forward(cat([s, c, e], 1)); // (B, V)
    return { logits, s, weights: null };
  }
}

/** Bahdanau et al. 2015: the context is recomputed at every step from the previous state, then fed to the GRU. */
export class BahdanauDecoder extends Module implements Decoder {
  embed: Embedding;
  attn: AdditiveAttention;
  cell: GRUCell;
  out: Linear;

  constructor(c: Seq2SeqConfig, generator: Generator) {
    super();
    this.embed = new Embedding(c.tgtVocab, c.embDim, { generator });
    this.attn = new AdditiveAttention(c, generator);
    this.cell = new GRUCell(c.embDim + c.hidden, c.hidden, { generator });
    this.out = new Linear(2 * c.hidden + c.embDim, c.tgtVocab, { generator });
  }

  keys(h: Tensor): Tensor {
    return this.attn.keys(h); // (B, S, A)
  }

  step(y: Tensor, s: Tensor, mem: Memory): DecoderStep {
    const e = this.embed.forward(y); // (B, E)
    // DIFF(none): c_i = Σ_j α_ij h_j,  α_ij = softmax_j(v_aᵀ tanh(W_a s_{i−1} + U_a h_j)) — BEFORE the GRU step
    const { context: c, weights } = this.attn.forward(s, mem); // (B, H), (B, S)
    // s_i = GRU([E y_{i−1}; c_i], s_{i−1})
    s = this.cell.forward(cat([e, c], 1), s); // (B, H)
    // logits_i = W_o [s_i; c_i; E y_{i−1}] + b_o   (the paper adds a maxout layer here)
    const logits = this.out.forward(cat([s, c, e], 1)); // (B, V)
    return { logits, s, weights };
  }
}

/** Luong et al. 2015, global attention: the GRU steps first, then its new state attends (dot or general). */
export class LuongDecoder extends Module implements Decoder {
  embed: Embedding;
  cell: GRUCell;
  attn: DotAttention;
  combine: Linear; // W_c (H, 2H)
  out: Linear; //     W_s (V, H)

  constructor(c: Seq2SeqConfig, generator: Generator) {
    super();
    this.embed = new Embedding(c.tgtVocab, c.embDim, { generator });
    // DIFF(bahdanau): the GRU reads only the token; the context enters after it
    this.cell = new GRUCell(c.embDim, c.hidden, { generator });
    this.attn = c.attention === "luong-general" ? new GeneralAttention(c, generator) : new DotAttention();
    this.combine = new Linear(2 * c.hidden, c.hidden, { bias: false, generator });
    this.out = new Linear(c.hidden, c.tgtVocab, { generator });
  }

  keys(h: Tensor): Tensor {
    return this.attn.keys(h); // (B, S, H)
  }

  step(y: Tensor, s: Tensor, mem: Memory): DecoderStep {
    const e = this.embed.forward(y); // (B, E)
    // s_i = GRU(E y_{i−1}, s_{i−1})
    s = this.cell.forward(e, s); // (B, H)
    // DIFF(bahdanau): α_ij = softmax_j(score(s_i, h_j)) from the NEW state, score = s_iᵀ h_j or s_iᵀ W_a h_j
    const { context: c, weights } = this.attn.forward(s, mem); // (B, H), (B, S)
    // h̃_i = tanh(W_c [c_i; s_i])   (Luong eq. 5)
    const hTilde = this.combine.forward(cat([c, s], 1)).tanh(); // (B, H)
    // logits_i = W_s h̃_i + b_s   (Luong eq. 6)
    const logits = this.out.forward(hTilde); // (B, V)
    return { logits, s, weights };
  }
}

// =====================================================================================================
// Model

export interface Seq2SeqOptions {
  /** the source of the initial weights (default: the library's default generator) */
  generator?: Generator;
}

export interface Seq2SeqOutput {
  logits: Tensor; //          (B, T, V)
  /** mean cross-entropy over the non-padding target positions, when targets were given */
  loss: Tensor | null; //     ()
  /** the attention of every step over the source; null for the attention-free decoder */
  attention: Tensor | null; // (B, T, S)
}

export class Seq2Seq extends Module {
  readonly config: Seq2SeqConfig;
  encoder: Encoder;
  bridge: Linear; // W_b (H, H)
  decoder: Decoder;

  constructor(config: Seq2SeqConfig, opts: Seq2SeqOptions = {}) {
    super();
    const c = (this.config = seq2seqConfig(config));
    const generator = opts.generator ?? defaultGenerator;
    this.encoder = new Encoder(c, generator);
    this.bridge = new Linear(c.hidden, c.hidden, { generator });
    this.decoder =
      c.attention === "none"
        ? new PlainDecoder(c, generator)
        : c.attention === "bahdanau"
          ? new BahdanauDecoder(c, generator)
          : new LuongDecoder(c, generator);
  }

  /** The encoder's memory and the decoder's first state s_0 = tanh(W_b [→h_S; ←h_1] + b_b). */
  encode(src: Tensor): { mem: Memory; s0: Tensor } {
    if (src.ndim !== 2) throw new ShapeError(`Seq2Seq: src must be (B, S) token ids, got shape ${fmt(src.shape)}`);
    if (src.dtype !== "int32")
      throw new DTypeError(`Seq2Seq: src must be int32 token ids, got ${src.dtype} ${fmt(src.shape)}`);
    const enc = this.encoder.forward(src);
    const mem: Memory = { ...enc, keys: this.decoder.keys(enc.h) };
    // s_0 = tanh(W_b [→h_S; ←h_1] + b_b)   (Bahdanau A.2.2 uses ←h_1 alone)
    const s0 = this.bridge.forward(enc.final).tanh(); // (B, H)
    return { mem, s0 };
  }

  /**
   * Teacher forcing: src (B, S), tgtIn (B, T) = BOS y_1 … y_{T−1} → logits (B, T, V) for y_1 … EOS;
   * with tgtOut (B, T) the mean cross-entropy over the positions that are not PAD.
   */
  forward(src: Tensor, tgtIn: Tensor, tgtOut?: Tensor | null): Seq2SeqOutput {
    if (tgtIn.ndim !== 2 || tgtIn.shape[0] !== src.shape[0])
      throw new ShapeError(`Seq2Seq: tgtIn ${fmt(tgtIn.shape)} must be (B, T) with the batch of src ${fmt(src.shape)}`);
    const { mem, s0 } = this.encode(src);
    const [B, T] = tgtIn.shape as [number, number];
    let s = s0;
    const logits: Tensor[] = [],
      weights: Tensor[] = [];
    for (let i = 0; i < T; i++) {
      const out = this.decoder.step(tgtIn.narrow(1, i, 1).squeeze(1), s, mem); // y_{i−1} (B)
      s = out.s;
      logits.push(out.logits);
      if (out.weights) weights.push(out.weights);
    }
    const all = stack(logits, 1); // (B, T, V)
    const attention = weights.length ? stack(weights, 1) : null; // (B, T, S)
    if (!tgtOut) return { logits: all, loss: null, attention };
    if (tgtOut.ndim !== 2 || tgtOut.shape[0] !== B || tgtOut.shape[1] !== T)
      throw new ShapeError(`Seq2Seq: tgtOut ${fmt(tgtOut.shape)} must have the shape of tgtIn ${fmt(tgtIn.shape)}`);
    // loss = −(1/N)·Σ_{b,i: y_bi ≠ PAD} log softmax(logits_bi)[y_bi]
    const loss = F.crossEntropy(all.view(B * T, -1), tgtOut.view(B * T), { ignoreIndex: 0 }); // ()
    return { logits: all, loss, attention };
  }

  // ===================================================================================================
  // Init
  //
  // PyTorch's defaults, as the papers' reference implementations used them: GRU weights and biases
  // U(±1/√H), Linear U(±1/√in), Embedding N(0, 1). (Bahdanau initialised recurrent matrices orthogonally
  // and the rest N(0, 0.01²); at our sizes the defaults train as well.) Each layer does it in its constructor.

  /** Greedy decoding; see `greedyDecode` below. */
  generate(src: Tensor, maxLen: number): GreedyOutput {
    return greedyDecode(this, src, maxLen);
  }
}

// =====================================================================================================
// Weight map: our names ↔ the PyTorch reference (tools/fixtures/seq2seq.py)
//
// | ours                             | PyTorch                                  | how                   |
// |----------------------------------|------------------------------------------|-----------------------|
// | encoder.fwd.weightIh/Hh, biasIh/Hh | encoder.rnn.weight_ih_l0, … (nn.GRU)   | forward direction     |
// | encoder.bwd.weightIh/Hh, biasIh/Hh | encoder.rnn.weight_ih_l0_reverse, …    | backward direction    |
// | everything else                  | the same path in snake_case              | toTorchName           |
//
// Ours is nn.GRU's layout (gates r, z, n stacked along dim 0), so nothing is transposed.

const GRU_NAMES: readonly [string, string][] = [
  ["weightIh", "weight_ih"],
  ["weightHh", "weight_hh"],
  ["biasIh", "bias_ih"],
  ["biasHh", "bias_hh"],
];
const WEIGHT_MAP: readonly [string, string][] = GRU_NAMES.flatMap(
  ([ours, theirs]) =>
    [
      [`encoder.fwd.${ours}`, `encoder.rnn.${theirs}_l0`],
      [`encoder.bwd.${ours}`, `encoder.rnn.${theirs}_l0_reverse`],
    ] as [string, string][],
);

/** A state dict of the PyTorch reference → ours, ready for `model.loadStateDict`. */
export function fromTorchState(state: Record<string, Tensor>): Record<string, Tensor> {
  const theirsToOurs = new Map(WEIGHT_MAP.map(([o, t]) => [t, o]));
  return Object.fromEntries(Object.entries(state).map(([k, v]) => [theirsToOurs.get(k) ?? fromTorchName(k), v]));
}

/** Our state dict → the PyTorch reference's names. */
export function toTorchState(state: Record<string, Tensor>): Record<string, Tensor> {
  const oursToTheirs = new Map(WEIGHT_MAP);
  return Object.fromEntries(Object.entries(state).map(([k, v]) => [oursToTheirs.get(k) ?? toTorchName(k), v]));
}

// =====================================================================================================
// Generate

export interface GreedyOutput {
  /** each row's tokens up to and without EOS */
  tokens: number[][];
  /** each row's attention (steps × S, the step that produced EOS included); empty without attention */
  attention: number[][][];
}

/**
 * Greedy decoding: feed BOS, then each step's most likely token, until every row has produced EOS or
 * maxLen tokens (EOS not counted) were produced.
 */
export function greedyDecode(model: Seq2Seq, src: Tensor, maxLen: number): GreedyOutput {
  if (!(Number.isInteger(maxLen) && maxLen >= 0))
    throw new ArgumentError(`greedyDecode: maxLen must be an integer ≥ 0, got ${maxLen}`);
  return evaluating(model, () => {
    const { mem, s0 } = model.encode(src);
    const B = src.shape[0]!,
      S = src.shape[1]!,
      V = model.config.tgtVocab;
    const tokens: number[][] = Array.from({ length: B }, () => []);
    const attention: number[][][] = Array.from({ length: B }, () => []);
    const done = new Array<boolean>(B).fill(false);
    let y = tensor(new Int32Array(B).fill(1)); // (B) BOS
    let s = s0;
    for (let i = 0; i <= maxLen && done.includes(false); i++) {
      const out = model.decoder.step(y, s, mem);
      s = out.s;
      const next = new Int32Array(B);
      for (let b = 0; b < B; b++) {
        next[b] = argmax(out.logits.storage.subarray(b * V, (b + 1) * V));
        if (done[b]) continue;
        if (out.weights) attention[b]!.push(Array.from(out.weights.storage.subarray(b * S, (b + 1) * S)));
        if (next[b] === 2 || i === maxLen) done[b] = true;
        else tokens[b]!.push(next[b]!);
      }
      y = tensor(next); // (B)
    }
    return { tokens, attention };
  });
}

function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}
