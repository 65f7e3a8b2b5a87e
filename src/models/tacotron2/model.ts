// Tacotron 2: text → mel spectrogram, one frame group per decoder step, aligned by location-sensitive attention.
//   Shen, Pang, Weiss, Schuster, Jaitly, Yang, Chen, Zhang, Wang, Skerry-Ryan, Saurous, Agiomyrgiannakis, Wu 2018,
//     "Natural TTS Synthesis by Conditioning WaveNet on Mel Spectrogram Predictions", https://arxiv.org/abs/1712.05884
//   Chorowski, Bahdanau, Serdyuk, Cho, Bengio 2015, "Attention-Based Models for Speech Recognition",
//     https://arxiv.org/abs/1506.07503 (location-sensitive attention)
//   Tachibana, Uenoyama, Aihara 2018, "Efficiently Trainable Text-to-Speech System Based on Deep Convolutional
//     Networks with Guided Attention", https://arxiv.org/abs/1710.08969 (the guided-attention loss, an option)
//   Wang et al. 2017, "Tacotron", https://arxiv.org/abs/1703.10135 (the reduction factor r)
//
// The additive attention of the GRU seq2seq (src/models/seq2seq-attention, Bahdanau) learns to align text
// with sound here, where the alignment must move forward monotonically through hundreds of frames. What
// Tacotron 2 adds, each marked DIFF(seq2seq-attention) below:
//   - the scores also see where the attention was: a convolution over the previous and the cumulative
//     attention weights (location features f = U * [α_{i−1}; Σ_{k<i} α_k]);
//   - the decoder's input is the previous mel frame through a pre-net whose dropout stays on at inference;
//   - the output is continuous (a mel frame group and a stop-token logit), trained with mean squared error
//     and a binary cross-entropy, refined by a convolutional post-net with a residual.
// Layout and biases follow the common open implementation of the paper (NVIDIA's): the attention's linear
// maps and the pre-net have no bias, the attention RNN reads [pre-net; context], the decoder RNN reads
// [attention RNN state; context], frames and stop logits come from [decoder state; context]. Two changes:
// the encoder zeroes padded positions before each convolution, so a sentence's encoding does not depend on
// what else is in its batch; and the convolutions before a batch norm have no bias (as in ResNet), since the
// norm cancels it. A checkpoint that has those biases folds them into the norms' running means (foldConvBiases).
//
// Vocabulary (shape comments): B batch, S text symbols, T mel frames, N = T / r decoder steps, M mel bins,
// E embedding, C encoder channels (= E), A attention dim, F location filters, P pre-net, Ha attention-RNN
// state, Hd decoder-RNN state.

import { noGrad } from "../../engine/autograd.js";
import { zeros, tensor } from "../../engine/creation.js";
import { ArgumentError, ShapeError } from "../../engine/errors.js";
import type { Generator } from "../../engine/rng.js";
import { fmt, sameShape } from "../../engine/shape.js";
import type { Tensor } from "../../engine/tensor.js";
import { cat, stack } from "../../ops/shape.js";
import * as F from "../../nn/functional.js";
import { Module, ModuleList } from "../../nn/module.js";
import { Embedding, Linear, type InitOptions } from "../../nn/linear.js";
import { Conv1d } from "../../nn/conv.js";
import { BatchNorm1d } from "../../nn/norm.js";
import { LSTM, LSTMCell, lstmStep } from "../../nn/rnn.js";
import { configOf } from "../presets.js";
import { linearFlops, matmulFlops, sortedKinds, type Architecture } from "../architecture.js";

// =====================================================================================================
// Config

export interface Tacotron2Config {
  /** text symbols (S ids), pad = 0 */
  readonly nSymbols: number;
  /** mel bins per frame (M) */
  readonly nMels: number;
  /** the embedding and every encoder convolution's channels (E = C); the BiLSTM has C/2 per direction */
  readonly embDim: number;
  readonly encConvLayers: number;
  readonly encKernel: number;
  /** pre-net widths (P) */
  readonly prenetDim: number;
  readonly attnRnnDim: number;
  readonly decRnnDim: number;
  /** attention dim (A) */
  readonly attnDim: number;
  /** location features: filters (F) and kernel width */
  readonly locFilters: number;
  readonly locKernel: number;
  readonly postnetDim: number;
  readonly postnetLayers: number;
  readonly postnetKernel: number;
  /** the reduction factor r: frames predicted per decoder step */
  readonly framesPerStep: number;
  /** dropout of the encoder and post-net convolutions (0.5), the pre-net (0.5, also at inference) and the RNN states (0.1) */
  readonly convDropout: number;
  readonly prenetDropout: number;
  readonly rnnDropout: number;
}

export const PRESETS = Object.freeze({
  /** the paper's configuration (Shen et al. 2018, §2.2–2.3), 80 mel bins, r = 1 */
  paper: Object.freeze({
    nSymbols: 148,
    nMels: 80,
    embDim: 512,
    encConvLayers: 3,
    encKernel: 5,
    prenetDim: 256,
    attnRnnDim: 1024,
    decRnnDim: 1024,
    attnDim: 128,
    locFilters: 32,
    locKernel: 31,
    postnetDim: 512,
    postnetLayers: 5,
    postnetKernel: 5,
    framesPerStep: 1,
    convDropout: 0.5,
    prenetDropout: 0.5,
    rnnDropout: 0.1,
  }),
  /** a CPU-sized model for the synthesized corpus: the same layers, narrower, r = 2 */
  small: Object.freeze({
    nSymbols: 40,
    nMels: 80,
    embDim: 128,
    encConvLayers: 3,
    encKernel: 5,
    prenetDim: 128,
    attnRnnDim: 256,
    decRnnDim: 256,
    attnDim: 64,
    locFilters: 16,
    locKernel: 15,
    postnetDim: 128,
    postnetLayers: 5,
    postnetKernel: 5,
    framesPerStep: 2,
    convDropout: 0.5,
    prenetDropout: 0.5,
    rnnDropout: 0.1,
  }),
  /** the fixture's configuration */
  tiny: Object.freeze({
    nSymbols: 7,
    nMels: 5,
    embDim: 6,
    encConvLayers: 2,
    encKernel: 3,
    prenetDim: 4,
    attnRnnDim: 8,
    decRnnDim: 7,
    attnDim: 5,
    locFilters: 3,
    locKernel: 5,
    postnetDim: 6,
    postnetLayers: 3,
    postnetKernel: 3,
    framesPerStep: 2,
    convDropout: 0,
    prenetDropout: 0,
    rnnDropout: 0,
  }),
} satisfies Record<string, Tacotron2Config>);

/** A checked, frozen config: `tacotron2Config("small", { nSymbols: 39 })`. */
export function tacotron2Config(
  base: Tacotron2Config | keyof typeof PRESETS,
  overrides: Partial<Tacotron2Config> = {},
): Tacotron2Config {
  return configOf("Tacotron2Config", PRESETS, base, overrides, {
    sizes: [
      "nSymbols",
      "nMels",
      "embDim",
      "encConvLayers",
      "encKernel",
      "prenetDim",
      "attnRnnDim",
      "decRnnDim",
      "attnDim",
      "locFilters",
      "locKernel",
      "postnetDim",
      "postnetLayers",
      "postnetKernel",
      "framesPerStep",
    ],
    probabilities: ["convDropout", "prenetDropout", "rnnDropout"],
    also: (c) => {
      const even = (["encKernel", "locKernel", "postnetKernel"] as const).find((k) => c[k] % 2 !== 1);
      if (even) return `${even} ${c[even]} must be odd (same-length convolutions)`;
      if (c.embDim % 2 !== 0) return `embDim ${c.embDim} must be even (two LSTM directions of embDim/2)`;
      if (c.postnetLayers < 2) return `postnetLayers must be at least 2, got ${c.postnetLayers}`;
      return undefined;
    },
  });
}

/** The number of parameters of a config, counted from the layers' shapes (nothing allocated). */
export function countParameters(c: Tacotron2Config): number {
  const {
    nSymbols: V,
    nMels: M,
    embDim: E,
    encKernel: K,
    prenetDim: P,
    attnRnnDim: Ha,
    decRnnDim: Hd,
    attnDim: A,
    locFilters: Fl,
    locKernel: Kl,
    postnetDim: D,
    postnetKernel: Kp,
  } = c;
  const r = c.framesPerStep;
  const lstm = (inp: number, h: number) => 4 * h * (inp + h) + 2 * 4 * h; // W_ih, W_hh, b_ih, b_hh
  const convBn = (i: number, o: number, k: number) => o * i * k + 2 * o; // conv weight (no bias), BN γ β
  const encoder = V * E + c.encConvLayers * convBn(E, E, K) + 2 * lstm(E, E / 2);
  const prenet = M * P + P * P; // no biases
  const attention = Ha * A + E * A + A + 2 * Fl * Kl + Fl * A; // query, memory, v, location conv + dense (no biases)
  const decoder = lstm(P + E, Ha) + lstm(Ha + E, Hd) + (Hd + E) * M * r + M * r + (Hd + E) + 1; // RNNs, frame projection, stop
  const postnet = convBn(M, D, Kp) + (c.postnetLayers - 2) * convBn(D, D, Kp) + convBn(D, M, Kp);
  return encoder + prenet + attention + decoder + postnet;
}

/**
 * The model as a table row (src/models/architecture.ts). FLOPs per example: one teacher-forced pass over S
 * symbols and T frames (N = T / r decoder steps), matrix products only:
 *   encoder  layers · 2·E·E·K·S (convolutions) + S · 2 directions · 2·4(E/2)·(E + E/2) (the BiLSTM)
 *   memory   2·S·E·A (V h_j, once per sentence)
 *   a step   pre-net 2(M·P + P·P) + attention LSTM 2·4Ha(P + E + Ha) + W s 2·Ha·A + location conv 2·2·Kl·F·S
 *            + W_f f 2·S·F·A + v 2·S·A + α·h 2·S·E + decoder LSTM 2·4Hd(Ha + E + Hd) + frames and stop 2(Hd + E)(M·r + 1)
 *   post-net 2·T·Kp·(M·D + (L − 2)·D·D + D·M)
 */
export function describe(c: Tacotron2Config, S = 60, T = 240, title = "Tacotron 2"): Architecture {
  const {
    nMels: M,
    embDim: E,
    encKernel: K,
    prenetDim: P,
    attnRnnDim: Ha,
    decRnnDim: Hd,
    attnDim: A,
    locFilters: Fl,
    locKernel: Kl,
    postnetDim: D,
    postnetKernel: Kp,
    postnetLayers: L,
    framesPerStep: r,
  } = c;
  if (T % r !== 0) throw new ArgumentError(`Tacotron2.describe: T ${T} must be a multiple of r = ${r}`);
  const lstm = (inp: number, h: number): number => linearFlops(inp, 4 * h) + linearFlops(h, 4 * h);
  const encoder = c.encConvLayers * matmulFlops(E, E * K, S) + S * 2 * lstm(E, E / 2);
  const memory = S * linearFlops(E, A);
  const step =
    linearFlops(M, P) +
    linearFlops(P, P) +
    lstm(P + E, Ha) +
    linearFlops(Ha, A) +
    matmulFlops(Fl, 2 * Kl, S) +
    S * linearFlops(Fl, A) +
    S * linearFlops(A, 1) +
    matmulFlops(1, S, E) +
    lstm(Ha + E, Hd) +
    linearFlops(Hd + E, M * r) +
    linearFlops(Hd + E, 1);
  const postnet = matmulFlops(D, M * Kp, T) + (L - 2) * matmulFlops(D, D * Kp, T) + matmulFlops(M, D * Kp, T);
  return {
    title,
    config: `E ${E}, LSTMs ${Ha}/${Hd}, A ${A}, r ${r}, ${M} mels, ${c.nSymbols} symbols`,
    parameters: countParameters(c),
    layers: sortedKinds({
      [Embedding.name]: 1,
      [Conv1d.name]: c.encConvLayers + 1 + L,
      [BatchNorm1d.name]: c.encConvLayers + L,
      [LSTM.name]: 1,
      [LSTMCell.name]: 2,
      [Linear.name]: 8,
    }),
    normalization: "BatchNorm1d after every convolution (encoder and post-net)",
    positions: "none: order from the BiLSTM and the location features of the previous alignments",
    attention:
      "location-sensitive (Chorowski et al.): vᵀ tanh(W s_i + V h_j + W_f (U * [α_{i−1}; Σα])), one query per decoder step",
    activation: "ReLU (encoder convolutions, pre-net), tanh (post-net, scores), LSTM gates",
    flops: {
      value: encoder + memory + (T / r) * step + postnet,
      per: "example",
      at: `${S} symbols, ${T} frames (teacher-forced)`,
    },
  };
}

// =====================================================================================================
// Layers

/**
 * A state dict whose convolutions before a batch norm carry a bias (NVIDIA's layout, this project's earlier one) →
 * the same function without them: in evaluation BN(Wx + b) = γ·(Wx + b − μ)/σ + β = γ·(Wx − (μ − b))/σ + β, so each
 * bias is subtracted from its norm's running mean, exactly. (In training the norm subtracts the batch's mean, and
 * the bias has no effect at all.) A state without such biases is returned as it is.
 */
export function foldConvBiases(state: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = { ...state };
  for (const key of Object.keys(state)) {
    const m = /^(.*)\.conv\.bias$/.exec(key);
    const mean = m ? state[`${m[1]}.norm.runningMean`] : undefined;
    const bias = state[key]!;
    if (!m || !mean || !sameShape(mean.shape, bias.shape)) continue;
    out[`${m[1]}.norm.runningMean`] = noGrad(() => mean.sub(bias));
    delete out[key];
  }
  return out;
}

/** Convolution → batch norm → activation → dropout, the unit of the encoder and the post-net. */
class ConvBlock extends Module {
  conv: Conv1d;
  norm: BatchNorm1d;

  constructor(
    inC: number,
    outC: number,
    kernel: number,
    readonly activation: "relu" | "tanh" | "none",
    readonly p: number,
    private readonly generator: Generator | undefined,
    opts: InitOptions,
  ) {
    super();
    // no bias: the batch norm subtracts the batch's mean right after, so a bias here has no effect in training and
    // its gradient is exactly 0 in arithmetic; in float it is rounding noise, which Adam turns into steps of the
    // learning rate's size that move only the running mean (see foldConvBiases for checkpoints that have one)
    this.conv = new Conv1d(inC, outC, kernel, { padding: (kernel - 1) / 2, bias: false, ...opts });
    this.norm = new BatchNorm1d(outC);
  }

  forward(x: Tensor): Tensor {
    let h = this.norm.forward(this.conv.forward(x)); // (B, outC, L)
    if (this.activation === "relu") h = h.relu();
    else if (this.activation === "tanh") h = h.tanh();
    return F.dropout(h, this.p, this.training, { generator: this.generator });
  }
}

/**
 * The encoder: symbol embeddings, convolutions over neighbouring symbols, then a bidirectional LSTM.
 * Padding sits at the end of each row; the backward direction reads each row's own symbols reversed, so
 * that a row's states do not depend on how much padding follows it (PyTorch's packed sequences).
 */
class Encoder extends Module {
  embed: Embedding;
  convs: ModuleList<ConvBlock>;
  lstm: LSTM;

  constructor(
    readonly c: Tacotron2Config,
    generator: Generator | undefined,
    opts: InitOptions,
  ) {
    super();
    this.embed = new Embedding(c.nSymbols, c.embDim, opts);
    this.convs = new ModuleList(
      Array.from(
        { length: c.encConvLayers },
        () => new ConvBlock(c.embDim, c.embDim, c.encKernel, "relu", c.convDropout, generator, opts),
      ),
    );
    this.lstm = new LSTM(c.embDim, c.embDim / 2, { bidirectional: true, batchFirst: true, ...opts });
  }

  forward(text: Tensor, lengths: number[]): Tensor {
    const [B, S] = text.shape as [number, number];
    // padded positions are zeroed before every convolution, so that a row's last symbols see the zeros of
    // the convolution's own padding whatever the batch holds after them
    const keep = tensor(
      lengths.flatMap((L) => Array.from({ length: S }, (_, s) => (s < L ? 1 : 0))),
      { shape: [B, 1, S], dtype: this.embed.weight.dtype },
    ); // (B, 1, S)
    let x = this.embed.forward(text).transpose(1, 2); // (B, E, S)
    for (const conv of this.convs) x = conv.forward(x.mul(keep)); // (B, C, S)
    x = x.transpose(1, 2); // (B, S, C)
    // the reversal of each row within its length: rev[b, s] = L_b − 1 − s for s < L_b, else s
    const rev = tensor(
      lengths.flatMap((L) => Array.from({ length: S }, (_, s) => (s < L ? L - 1 - s : s))),
      { shape: [B, S], dtype: "int32" },
    );
    const revIdx = rev.unsqueeze(2).expand([B, S, x.shape[2]!]); // (B, S, C)
    const fwd = this.direction(x, 0); // (B, S, C/2)
    const bwd = this.direction(x.gather(1, revIdx), 1).gather(1, rev.unsqueeze(2).expand([B, S, this.c.embDim / 2])); // (B, S, C/2)
    return cat([fwd, bwd], 2); // (B, S, C): h_j = [→h_j; ←h_j]
  }

  /** One LSTM direction over the rows of x (B, S, C) from zero states → (B, S, C/2). */
  private direction(x: Tensor, d: number): Tensor {
    const [B, S] = x.shape as [number, number, number];
    const H = this.c.embDim / 2;
    const w = this.lstm.weightsOf(0, d);
    let h = zeros([B, H], { dtype: x.dtype }),
      cell = zeros([B, H], { dtype: x.dtype });
    const hs: Tensor[] = [];
    for (let s = 0; s < S; s++) {
      [h, cell] = lstmStep(x.narrow(1, s, 1).squeeze(1), h, cell, w); // (B, H) each
      hs.push(h);
    }
    return stack(hs, 1); // (B, S, H)
  }
}

/**
 * Location-sensitive attention (Chorowski et al. 2015, eq. 8–9, with Tacotron 2's cumulative weights):
 *   f_i = U * [α_{i−1}; Σ_{k<i} α_k]                          location features, (B, F, S)
 *   e_ij = vᵀ tanh(W s_i + V h_j + W_f f_ij)                  scores
 *   α_i = softmax(e_i) over the text, padding masked;  c_i = Σ_j α_ij h_j
 */
class LocationSensitiveAttention extends Module {
  query: Linear; //    W: (A, Ha)
  memory: Linear; //   V: (A, C)
  v: Linear; //        (1, A)
  locConv: Conv1d; //  U: (F, 2, kernel)
  locDense: Linear; // W_f: (A, F)

  constructor(c: Tacotron2Config, opts: InitOptions) {
    super();
    this.query = new Linear(c.attnRnnDim, c.attnDim, { bias: false, ...opts });
    this.memory = new Linear(c.embDim, c.attnDim, { bias: false, ...opts });
    this.v = new Linear(c.attnDim, 1, { bias: false, ...opts });
    this.locConv = new Conv1d(2, c.locFilters, c.locKernel, { padding: (c.locKernel - 1) / 2, bias: false, ...opts });
    this.locDense = new Linear(c.locFilters, c.attnDim, { bias: false, ...opts });
  }

  /** query s (B, Ha), memory h (B, S, C) and its projection Vh (B, S, A), the two weight rows (B, 2, S), pad (B, S). */
  forward(s: Tensor, h: Tensor, vh: Tensor, prev: Tensor, pad: Tensor): { context: Tensor; weights: Tensor } {
    const ws = this.query.forward(s).unsqueeze(1); // (B, 1, A)
    // DIFF(seq2seq-attention): the scores also see the previous and the cumulative alignment
    const f = this.locDense.forward(this.locConv.forward(prev).transpose(1, 2)); // (B, S, A)
    const e = this.v.forward(ws.add(vh).add(f).tanh()).squeeze(2); // (B, S)
    const weights = e.maskedFill(pad, -Infinity).softmax(1); // (B, S)
    const context = weights.unsqueeze(1).matmul(h).squeeze(1); // (B, C)
    return { context, weights };
  }
}

/** The pre-net: two ReLU layers without bias, with dropout that stays on at inference (§2.3). */
class Prenet extends Module {
  fc1: Linear;
  fc2: Linear;

  constructor(
    readonly c: Tacotron2Config,
    private readonly generator: Generator | undefined,
    opts: InitOptions,
  ) {
    super();
    this.fc1 = new Linear(c.nMels, c.prenetDim, { bias: false, ...opts });
    this.fc2 = new Linear(c.prenetDim, c.prenetDim, { bias: false, ...opts });
  }

  forward(x: Tensor): Tensor {
    const g = { generator: this.generator };
    const h = F.dropout(this.fc1.forward(x).relu(), this.c.prenetDropout, true, g); // (B, P), always dropped
    return F.dropout(this.fc2.forward(h).relu(), this.c.prenetDropout, true, g); // (B, P)
  }
}

// =====================================================================================================
// Model

export interface Tacotron2Output {
  /** before and after the post-net: (B, M, T) */
  mel: Tensor;
  melPost: Tensor;
  /** stop-token logits, one per decoder step: (B, N) */
  stop: Tensor;
  /** the attention weights of every step: (B, N, S) */
  alignments: Tensor;
  loss?: Tensor;
}

export interface Tacotron2Targets {
  /** (B, M, T), T a multiple of r; frames past a row's length are ignored by the loss */
  mel: Tensor;
  /** frames per row */
  melLengths: number[];
  /** the guided-attention loss weight (Tachibana et al. 2018); default 0 (off) */
  guidedAttention?: number;
  /** its width g; default 0.2 */
  guidedSigma?: number;
  /**
   * the weights of the means over frames and over guided-attention cells; default 1. A data-parallel worker
   * holding n_r of the batch's n frames (cells) passes N·n_r/n, so that the mean of the N workers' losses is the
   * whole batch's (src/recipes/data-parallel-job.ts shareWeight)
   */
  shares?: { frames: number; cells: number };
}

export class Tacotron2 extends Module {
  encoder: Encoder;
  attention: LocationSensitiveAttention;
  prenet: Prenet;
  attnRnn: LSTMCell;
  decRnn: LSTMCell;
  proj: Linear; //  (M·r, Hd + C)
  stopHead: Linear; // (1, Hd + C)
  postnet: ModuleList<ConvBlock>;

  constructor(
    readonly config: Tacotron2Config,
    opts: InitOptions & { generator?: Generator } = {},
  ) {
    super();
    const c = config,
      g = opts.generator;
    this.encoder = new Encoder(c, g, opts);
    this.attention = new LocationSensitiveAttention(c, opts);
    this.prenet = new Prenet(c, g, opts);
    this.attnRnn = new LSTMCell(c.prenetDim + c.embDim, c.attnRnnDim, opts);
    this.decRnn = new LSTMCell(c.attnRnnDim + c.embDim, c.decRnnDim, opts);
    this.proj = new Linear(c.decRnnDim + c.embDim, c.nMels * c.framesPerStep, opts);
    this.stopHead = new Linear(c.decRnnDim + c.embDim, 1, opts);
    const L = c.postnetLayers;
    this.postnet = new ModuleList(
      Array.from(
        { length: L },
        (_, i) =>
          new ConvBlock(
            i === 0 ? c.nMels : c.postnetDim,
            i === L - 1 ? c.nMels : c.postnetDim,
            c.postnetKernel,
            i === L - 1 ? "none" : "tanh",
            c.convDropout,
            g,
            opts,
          ),
      ),
    );
  }

  /**
   * Teacher forcing: text (B, S) int32 with its lengths, the target mels (B, M, T) → every step's frames,
   * stop logits and alignments, and the loss when targets are given.
   */
  forward(text: Tensor, textLengths: number[], targets: Tacotron2Targets): Tacotron2Output {
    const c = this.config,
      r = c.framesPerStep;
    const [B, S] = checkText(text, textLengths, c);
    const { mel: target, melLengths } = targets;
    if (
      target.ndim !== 3 ||
      target.shape[0] !== B ||
      target.shape[1] !== c.nMels ||
      target.shape[2]! % r !== 0 ||
      target.shape[2] === 0
    ) {
      throw new ShapeError(
        `Tacotron2: target mel ${fmt(target.shape)} must be (${B}, ${c.nMels}, T) with T a positive multiple of r = ${r}`,
      );
    }
    const T = target.shape[2]!,
      N = T / r;
    if (melLengths.length !== B || melLengths.some((n) => !Number.isInteger(n) || n < 1 || n > T))
      throw new ArgumentError(
        `Tacotron2: melLengths must be ${B} integers in [1, ${T}], got [${melLengths.join(", ")}]`,
      );
    const h = this.encoder.forward(text, textLengths); // (B, S, C)
    const pad = padMask(textLengths, S); // (B, S)
    // the decoder reads the last frame of the previous group; a zero "go" frame first
    const frames = target
      .reshape([B, c.nMels, N, r])
      .narrow(3, r - 1, 1)
      .squeeze(3)
      .transpose(1, 2); // (B, N, M)
    const inputs = cat([zeros([B, 1, c.nMels], { dtype: target.dtype }), frames.narrow(1, 0, N - 1)], 1); // (B, N, M)
    const state = this.initialState(h);
    const outs: Tensor[] = [],
      stops: Tensor[] = [],
      aligns: Tensor[] = [];
    for (let i = 0; i < N; i++) {
      const o = this.step(inputs.narrow(1, i, 1).squeeze(1), h, pad, state); // frames (B, M·r), stop (B, 1)
      outs.push(o.frames);
      stops.push(o.stop);
      aligns.push(o.weights);
    }
    const mel = stack(outs, 1).reshape([B, N, r, c.nMels]).reshape([B, T!, c.nMels]).transpose(1, 2); // (B, M, T)
    const melPost = mel.add(this.postnetForward(mel)); // (B, M, T)
    const stop = cat(stops, 1); // (B, N)
    const alignments = stack(aligns, 1); // (B, N, S)
    const loss = this.loss({ mel, melPost, stop, alignments }, targets, textLengths);
    return { mel, melPost, stop, alignments, loss };
  }

  /** The decoder's state: both RNNs' (h, c), the context, the previous and cumulative attention weights. */
  private initialState(h: Tensor): DecoderState {
    const [B, S] = h.shape as [number, number, number];
    const c = this.config,
      dt = h.dtype;
    return {
      attnH: zeros([B, c.attnRnnDim], { dtype: dt }),
      attnC: zeros([B, c.attnRnnDim], { dtype: dt }),
      decH: zeros([B, c.decRnnDim], { dtype: dt }),
      decC: zeros([B, c.decRnnDim], { dtype: dt }),
      context: zeros([B, c.embDim], { dtype: dt }),
      prevWeights: zeros([B, S], { dtype: dt }),
      cumWeights: zeros([B, S], { dtype: dt }),
      vh: this.attention.memory.forward(h), // (B, S, A), once per sentence
    };
  }

  /** One decoder step from the previous frame x (B, M); updates `state` in place. */
  private step(
    x: Tensor,
    h: Tensor,
    pad: Tensor,
    state: DecoderState,
  ): { frames: Tensor; stop: Tensor; weights: Tensor } {
    const c = this.config,
      p = c.rnnDropout,
      t = this.training;
    // DIFF(seq2seq-attention): the input is the previous frame through the pre-net, not an embedded token
    const q = this.prenet.forward(x); // (B, P)
    [state.attnH, state.attnC] = this.attnRnn.forward(cat([q, state.context], 1), [state.attnH, state.attnC]); // (B, Ha)
    const s = F.dropout(state.attnH, p, t); // (B, Ha)
    const prev = stack([state.prevWeights, state.cumWeights], 1); // (B, 2, S)
    const { context, weights } = this.attention.forward(s, h, state.vh, prev, pad); // (B, C), (B, S)
    state.context = context;
    state.prevWeights = weights;
    state.cumWeights = state.cumWeights.add(weights);
    [state.decH, state.decC] = this.decRnn.forward(cat([s, context], 1), [state.decH, state.decC]); // (B, Hd)
    const d = cat([F.dropout(state.decH, p, t), context], 1); // (B, Hd + C)
    // DIFF(seq2seq-attention): continuous frames and a stop-token logit instead of a softmax over tokens
    return { frames: this.proj.forward(d), stop: this.stopHead.forward(d), weights }; // (B, M·r), (B, 1), (B, S)
  }

  /** The post-net's residual: five convolutions (tanh but the last) over the whole spectrogram (B, M, T). */
  private postnetForward(mel: Tensor): Tensor {
    let x = mel;
    for (const conv of this.postnet) x = conv.forward(x); // (B, ·, T)
    return x; // (B, M, T)
  }

  /**
   * L = MSE(mel, y) + MSE(melPost, y) over each row's frames + BCE(stop, [step ≥ last]) over all steps
   *   (+ λ · guided-attention loss mean(α_nt · (1 − exp(−(n/N − t/T)² / 2g²))) over each row's steps and symbols)
   */
  loss(out: Omit<Tacotron2Output, "loss">, targets: Tacotron2Targets, textLengths: number[]): Tensor {
    const c = this.config,
      r = c.framesPerStep;
    const { mel: y, melLengths } = targets;
    const [B, M, T] = y.shape as [number, number, number];
    const N = T / r,
      S = out.alignments.shape[2]!;
    const frameMask = tensor(
      melLengths.flatMap((n) => Array.from({ length: T }, (_, t) => (t < n ? 1 : 0))),
      { shape: [B, 1, T], dtype: y.dtype },
    ); // (B, 1, T)
    const count = melLengths.reduce((a, b) => a + b, 0) * M;
    const mse = (a: Tensor) =>
      a
        .sub(y)
        .pow(2)
        .mul(frameMask)
        .sum()
        .div(count)
        .mul(targets.shares?.frames ?? 1);
    // the stop target: 1 from the step that holds a row's last frame on
    const stopTarget = tensor(
      melLengths.flatMap((n) => Array.from({ length: N }, (_, i) => (i >= Math.ceil(n / r) - 1 ? 1 : 0))),
      { shape: [B, N], dtype: y.dtype },
    );
    let loss = mse(out.mel).add(mse(out.melPost)).add(F.binaryCrossEntropyWithLogits(out.stop, stopTarget));
    const lambda = targets.guidedAttention ?? 0;
    if (lambda > 0) {
      const g = targets.guidedSigma ?? 0.2;
      const w: number[] = [];
      let cells = 0;
      for (let b = 0; b < B; b++) {
        const Nb = Math.ceil(melLengths[b]! / r),
          Sb = textLengths[b]!;
        for (let n = 0; n < N; n++)
          for (let s = 0; s < S; s++) {
            const inside = n < Nb && s < Sb;
            if (inside) cells++;
            w.push(inside ? 1 - Math.exp(-((n / Nb - s / Sb) ** 2) / (2 * g * g)) : 0);
          }
      }
      const W = tensor(w, { shape: [B, N, S!], dtype: y.dtype }); // (B, N, S)
      loss = loss.add(
        out.alignments
          .mul(W)
          .sum()
          .div(cells)
          .mul(lambda * (targets.shares?.cells ?? 1)),
      );
    }
    return loss;
  }

  /** Greedy synthesis: text (1, S) → mel (1, M, T) until the stop token fires (σ > 0.5) or maxSteps. */
  infer(text: Tensor, maxSteps = 1000): { melPost: Tensor; alignments: Tensor; steps: number } {
    const c = this.config,
      r = c.framesPerStep;
    const [B, S] = checkText(text, [text.shape[1] ?? 0], c);
    if (B !== 1) throw new ShapeError(`Tacotron2.infer: one sentence at a time, text ${fmt(text.shape)}`);
    const h = this.encoder.forward(text, [S]);
    const pad = padMask([S], S);
    const state = this.initialState(h);
    let x = zeros([1, c.nMels], { dtype: h.dtype });
    const outs: Tensor[] = [],
      aligns: Tensor[] = [];
    for (let i = 0; i < maxSteps; i++) {
      const o = this.step(x, h, pad, state);
      outs.push(o.frames);
      aligns.push(o.weights);
      x = o.frames.narrow(1, (r - 1) * c.nMels, c.nMels); // the group's last frame, (1, M)
      if (o.stop.sigmoid().item() > 0.5) break;
    }
    const N = outs.length;
    const mel = stack(outs, 1)
      .reshape([1, N * r, c.nMels])
      .transpose(1, 2); // (1, M, T)
    return { melPost: mel.add(this.postnetForward(mel)), alignments: stack(aligns, 1), steps: N };
  }
}

interface DecoderState {
  attnH: Tensor;
  attnC: Tensor;
  decH: Tensor;
  decC: Tensor;
  context: Tensor;
  prevWeights: Tensor;
  cumWeights: Tensor;
  vh: Tensor;
}

function checkText(text: Tensor, lengths: number[], c: Tacotron2Config): [number, number] {
  if (text.ndim !== 2 || text.dtype !== "int32")
    throw new ShapeError(`Tacotron2: text must be (B, S) int32, got ${fmt(text.shape)} ${text.dtype}`);
  const [B, S] = text.shape as [number, number];
  if (S === 0) throw new ShapeError(`Tacotron2: text ${fmt(text.shape)} holds no symbols`);
  if (lengths.length !== B || lengths.some((n) => !Number.isInteger(n) || n < 1 || n > S))
    throw new ArgumentError(`Tacotron2: textLengths must be ${B} integers in [1, ${S}], got [${lengths.join(", ")}]`);
  const ids = text.dataSync();
  for (let i = 0; i < ids.length; i++)
    if (!(ids[i]! >= 0 && ids[i]! < c.nSymbols))
      throw new ArgumentError(`Tacotron2: symbol id ${ids[i]} outside [0, ${c.nSymbols})`);
  return [B, S];
}

/** true where s ≥ the row's length: (B, S) bool. */
function padMask(lengths: number[], S: number): Tensor {
  return tensor(
    lengths.flatMap((L) => Array.from({ length: S }, (_, s) => s >= L)),
    { shape: [lengths.length, S], dtype: "bool" },
  );
}

// =====================================================================================================
// Init

/** PyTorch's default init for every layer (uniform ±1/√fan_in), as the open implementation keeps it. */
export function initTacotron2(model: Tacotron2, opts: InitOptions = {}): void {
  model.apply((m) => (m as { resetParameters?: (o: InitOptions) => void }).resetParameters?.(opts));
}
