// Recurrent cells and layers with PyTorch's weight layout, gate order and default initialisation, so that
// PyTorch's state dicts load (through fromTorchName: weight_ih_l0_reverse ↔ weightIhL0Reverse).
//   Elman 1990, "Finding Structure in Time" (the simple recurrent network)
//   Hochreiter & Schmidhuber 1997, "Long Short-Term Memory"; Gers, Schmidhuber & Cummins 2000 (the forget gate)
//   Cho et al. 2014, "Learning Phrase Representations using RNN Encoder–Decoder…", https://arxiv.org/abs/1406.1078 (GRU)
//
// A cell is one time step; a layer runs the cells over time (autograd through time: every step is
// recorded by the elementwise and linear ops, and backward walks it back), for numLayers stacked layers,
// optionally in both directions. The three step functions below hold every equation; the layers differ
// from one another only in which step they call and how many state tensors (h; or h and c) they carry.
//
// Parameters (PyTorch's names in camelCase), gates stacked along dim 0 in PyTorch's order:
//   RNN  weightIh (H, I),  weightHh (H, H),  biasIh (H),  biasHh (H)
//   LSTM weightIh (4H, I) rows [W_i; W_f; W_g; W_o],  weightHh (4H, H),  biasIh/biasHh (4H)
//   GRU  weightIh (3H, I) rows [W_r; W_z; W_n],        weightHh (3H, H),  biasIh/biasHh (3H)
// The layers name them per layer k and direction: weightIhL{k}, weightHhL{k}, biasIhL{k}, biasHhL{k},
// and with the suffix Reverse for the backward direction; layer k > 0 reads D·H features.
// Every parameter starts U(−1/√H, 1/√H) (PyTorch's reset_parameters).
//
// Vocabulary: T time steps, B batch, I input features, H hidden size, G = gates·H (RNN 1, GRU 3, LSTM 4),
// L numLayers, D directions (2 when bidirectional).
// Differences from PyTorch: no proj_size (LSTM projections) and no PackedSequence — pad the batch and,
// for a unidirectional layer, read each sequence's outputs up to its length.

import { linear, dropout } from "../ops/nn.js";
import { add, mul, relu, sigmoid, sub, tanh } from "../ops/elementwise.js";
import { cat, chunk, split, stack } from "../ops/shape.js";
import { zeros } from "../engine/creation.js";
import "../ops/index.js"; // installs the Tensor methods used below (squeeze, unsqueeze, transpose)
import { ArgumentError, DTypeError, ShapeError } from "../engine/errors.js";
import { isFloating } from "../engine/dtype.js";
import type { Generator } from "../engine/rng.js";
import { fmt } from "../engine/shape.js";
import type { Tensor } from "../engine/tensor.js";
import { uniform_ } from "./init.js";
import { checkSize, param, type InitOptions } from "./linear.js";
import { Module, type Parameter } from "./module.js";

export type RNNNonlinearity = "tanh" | "relu";

// =====================================================================================================
// The equations: one time step of each cell

/** One direction's weights of one layer (or a cell's): W_ih (G, I), W_hh (G, H), b_ih (G), b_hh (G). */
export interface CellWeights {
  wIh: Tensor; // (G, I)
  wHh: Tensor; // (G, H)
  bIh: Tensor | null; // (G)
  bHh: Tensor | null; // (G)
}

/** Elman RNN: x (B, I), h (B, H) → h' (B, H). */
export function rnnStep(x: Tensor, h: Tensor, w: CellWeights, nonlinearity: RNNNonlinearity): Tensor {
  // h' = tanh(W_ih·x + b_ih + W_hh·h + b_hh)   (or relu)
  const a = add(linear(x, w.wIh, w.bIh), linear(h, w.wHh, w.bHh)); // (B, H)
  return nonlinearity === "tanh" ? tanh(a) : relu(a); // (B, H)
}

/** LSTM: x (B, I), h (B, H), c (B, H) → [h', c'], each (B, H). */
export function lstmStep(x: Tensor, h: Tensor, c: Tensor, w: CellWeights): [Tensor, Tensor] {
  // [i; f; g; o] = W_ih·x + b_ih + W_hh·h + b_hh
  const gates = add(linear(x, w.wIh, w.bIh), linear(h, w.wHh, w.bHh)); // (B, 4H)
  const [gi, gf, gg, go] = chunk(gates, 4, 1) as [Tensor, Tensor, Tensor, Tensor]; // 4 × (B, H)
  const i = sigmoid(gi); // i = σ(W_ii·x + b_ii + W_hi·h + b_hi)   input gate
  const f = sigmoid(gf); // f = σ(W_if·x + b_if + W_hf·h + b_hf)   forget gate
  const g = tanh(gg); //    g = tanh(W_ig·x + b_ig + W_hg·h + b_hg) candidate cell
  const o = sigmoid(go); // o = σ(W_io·x + b_io + W_ho·h + b_ho)   output gate
  // c' = f ⊙ c + i ⊙ g
  const c2 = add(mul(f, c), mul(i, g)); // (B, H)
  // h' = o ⊙ tanh(c')
  const h2 = mul(o, tanh(c2)); // (B, H)
  return [h2, c2];
}

/** GRU: x (B, I), h (B, H) → h' (B, H). */
export function gruStep(x: Tensor, h: Tensor, w: CellWeights): Tensor {
  const [xr, xz, xn] = chunk(linear(x, w.wIh, w.bIh), 3, 1) as [Tensor, Tensor, Tensor]; // 3 × (B, H): W_i·x + b_i
  const [hr, hz, hn] = chunk(linear(h, w.wHh, w.bHh), 3, 1) as [Tensor, Tensor, Tensor]; // 3 × (B, H): W_h·h + b_h
  const r = sigmoid(add(xr, hr)); // r = σ(W_ir·x + b_ir + W_hr·h + b_hr)   reset gate
  const z = sigmoid(add(xz, hz)); // z = σ(W_iz·x + b_iz + W_hz·h + b_hz)   update gate
  // n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn))   (the reset gate scales W_hn·h + b_hn, as cuDNN and PyTorch;
  // Cho et al. apply it to h before W_hn — a different function)
  const n = tanh(add(xn, mul(r, hn))); // (B, H)
  // h' = (1 − z) ⊙ n + z ⊙ h
  return add(mul(sub(1, z), n), mul(z, h)); // (B, H)
}

// =====================================================================================================
// Checks and initialisation shared by cells and layers

function checkFloat(op: string, what: string, t: Tensor): void {
  if (!isFloating(t.dtype))
    throw new DTypeError(`${op}: ${what} must be floating point, got ${t.dtype} ${fmt(t.shape)}`);
}

/** PyTorch's RNN init: every parameter U(−1/√H, 1/√H). */
function resetUniform(params: Parameter[], hiddenSize: number, opts: InitOptions): void {
  const bound = 1 / Math.sqrt(hiddenSize);
  for (const p of params) uniform_(p, -bound, bound, opts);
}

/** A state argument: (B, H) for batched input, (H) for unbatched; undefined → zeros. */
function cellState(
  op: string,
  what: string,
  s: Tensor | undefined,
  x: Tensor,
  B: number,
  H: number,
  batched: boolean,
): Tensor {
  if (s === undefined) return zeros([B, H], { dtype: x.dtype });
  const want = batched ? [B, H] : [H];
  if (s.ndim !== want.length || s.shape.some((n, i) => n !== want[i])) {
    throw new ShapeError(`${op}: ${what} ${fmt(s.shape)} must have shape ${fmt(want)} for input ${fmt(x.shape)}`);
  }
  checkFloat(op, what, s);
  return batched ? s : s.unsqueeze(0);
}

// =====================================================================================================
// Cells

export interface RNNCellOptions extends InitOptions {
  /** b_ih and b_hh (default true) */
  bias?: boolean;
}

abstract class CellBase extends Module {
  weightIh: Parameter; // (G, I)
  weightHh: Parameter; // (G, H)
  biasIh: Parameter | null; // (G)
  biasHh: Parameter | null; // (G)

  constructor(
    readonly inputSize: number,
    readonly hiddenSize: number,
    gates: number,
    opts: RNNCellOptions,
  ) {
    super();
    const name = this.constructor.name;
    checkSize(name, "inputSize", inputSize, 0);
    checkSize(name, "hiddenSize", hiddenSize, 1);
    const G = gates * hiddenSize;
    this.weightIh = param([G, inputSize]);
    this.weightHh = param([G, hiddenSize]);
    const bias = opts.bias ?? true;
    this.biasIh = bias ? param([G]) : null;
    this.biasHh = bias ? param([G]) : null;
    this.resetParameters(opts);
  }

  resetParameters(opts: InitOptions = {}): void {
    resetUniform(
      [this.weightIh, this.weightHh, this.biasIh, this.biasHh].filter((p): p is Parameter => p !== null),
      this.hiddenSize,
      opts,
    );
  }

  protected weights(): CellWeights {
    return { wIh: this.weightIh, wHh: this.weightHh, bIh: this.biasIh, bHh: this.biasHh };
  }

  /** x (B, I) or unbatched (I) → [x as (B, I), B, batched] */
  protected input(x: Tensor): [Tensor, number, boolean] {
    const name = this.constructor.name;
    checkFloat(name, "input", x);
    if ((x.ndim !== 1 && x.ndim !== 2) || x.shape[x.ndim - 1] !== this.inputSize) {
      throw new ShapeError(`${name}: input ${fmt(x.shape)} must be (B, ${this.inputSize}) or (${this.inputSize})`);
    }
    return x.ndim === 2 ? [x, x.shape[0]!, true] : [x.unsqueeze(0), 1, false];
  }
}

/** h' = tanh(W_ih·x + b_ih + W_hh·h + b_hh) (or relu): x (B, I) or (I), h (B, H) or (H), default zeros. */
export class RNNCell extends CellBase {
  readonly nonlinearity: RNNNonlinearity;

  constructor(inputSize: number, hiddenSize: number, opts: RNNCellOptions & { nonlinearity?: RNNNonlinearity } = {}) {
    super(inputSize, hiddenSize, 1, opts);
    this.nonlinearity = checkNonlinearity("RNNCell", opts.nonlinearity);
  }

  forward(x: Tensor, h?: Tensor): Tensor {
    const [xb, B, batched] = this.input(x);
    const h0 = cellState("RNNCell", "h", h, x, B, this.hiddenSize, batched);
    const h1 = rnnStep(xb, h0, this.weights(), this.nonlinearity); // (B, H)
    return batched ? h1 : h1.squeeze(0);
  }
}

/** One LSTM step (lstmStep): (x, [h, c]) → [h', c']; h and c default to zeros. */
export class LSTMCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, opts: RNNCellOptions = {}) {
    super(inputSize, hiddenSize, 4, opts);
  }

  forward(x: Tensor, hx?: [Tensor, Tensor]): [Tensor, Tensor] {
    const [xb, B, batched] = this.input(x);
    const h0 = cellState("LSTMCell", "h", hx?.[0], x, B, this.hiddenSize, batched);
    const c0 = cellState("LSTMCell", "c", hx?.[1], x, B, this.hiddenSize, batched);
    const [h1, c1] = lstmStep(xb, h0, c0, this.weights()); // (B, H) each
    return batched ? [h1, c1] : [h1.squeeze(0), c1.squeeze(0)];
  }
}

/** One GRU step (gruStep): (x, h) → h'; h defaults to zeros. */
export class GRUCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, opts: RNNCellOptions = {}) {
    super(inputSize, hiddenSize, 3, opts);
  }

  forward(x: Tensor, h?: Tensor): Tensor {
    const [xb, B, batched] = this.input(x);
    const h0 = cellState("GRUCell", "h", h, x, B, this.hiddenSize, batched);
    const h1 = gruStep(xb, h0, this.weights()); // (B, H)
    return batched ? h1 : h1.squeeze(0);
  }
}

function checkNonlinearity(op: string, n: RNNNonlinearity | undefined): RNNNonlinearity {
  const v = n ?? "tanh";
  if (v !== "tanh" && v !== "relu")
    throw new ArgumentError(`${op}: nonlinearity must be "tanh" or "relu", got ${JSON.stringify(n)}`);
  return v;
}

// =====================================================================================================
// Layers: cells run over time, stacked and in both directions

export interface RNNOptions extends InitOptions {
  /** stacked layers; layer k > 0 reads the outputs of layer k − 1 (default 1) */
  numLayers?: number;
  /** b_ih and b_hh (default true) */
  bias?: boolean;
  /** input and output (B, T, ·) instead of (T, B, ·); the states stay (L·D, B, H) (default false) */
  batchFirst?: boolean;
  /** dropout on the outputs of every layer but the last, in training mode (default 0) */
  dropout?: number;
  /** a second layer reading the sequence backwards; outputs concatenated [forward, backward] (default false) */
  bidirectional?: boolean;
  /** the source of the dropout masks (default: the library's default generator); also the init's */
  generator?: Generator;
}

/** The outputs of a layer: the last layer's state at every step, and every layer's final state. */
export interface RNNOutput {
  output: Tensor; // (T, B, D·H), (B, T, D·H) with batchFirst, (T, D·H) unbatched
  hN: Tensor; //     (L·D, B, H), (L·D, H) unbatched; index k·D + d for layer k, direction d
}

export interface LSTMOutput extends RNNOutput {
  cN: Tensor; //     (L·D, B, H), like hN
}

/**
 * The loop over layers, directions and time shared by RNN, LSTM and GRU. A subclass says how many gates
 * its cell has and calls its step; the state is [h] or [h, c].
 */
abstract class RNNBase extends Module {
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  private readonly generator: Generator | undefined;

  constructor(
    readonly inputSize: number,
    readonly hiddenSize: number,
    gates: number,
    opts: RNNOptions,
  ) {
    super();
    const name = this.constructor.name;
    checkSize(name, "inputSize", inputSize, 0);
    checkSize(name, "hiddenSize", hiddenSize, 1);
    this.numLayers = checkSize(name, "numLayers", opts.numLayers ?? 1, 1);
    this.bias = opts.bias ?? true;
    this.batchFirst = opts.batchFirst ?? false;
    this.dropout = opts.dropout ?? 0;
    if (typeof this.dropout !== "number" || !(this.dropout >= 0 && this.dropout <= 1)) {
      throw new ArgumentError(`${name}: dropout must be in [0, 1], got ${opts.dropout}`);
    }
    this.bidirectional = opts.bidirectional ?? false;
    this.generator = opts.generator;
    // parameters in PyTorch's order: layer by layer, forward direction then reverse, W_ih W_hh b_ih b_hh
    const G = gates * hiddenSize,
      D = this.directions;
    const fields = this as unknown as Record<string, Parameter>;
    for (let k = 0; k < this.numLayers; k++) {
      const inF = k === 0 ? inputSize : D * hiddenSize;
      for (let d = 0; d < D; d++) {
        const sfx = suffix(k, d);
        fields[`weightIh${sfx}`] = param([G, inF]);
        fields[`weightHh${sfx}`] = param([G, hiddenSize]);
        if (this.bias) {
          fields[`biasIh${sfx}`] = param([G]);
          fields[`biasHh${sfx}`] = param([G]);
        }
      }
    }
    this.resetParameters(opts);
  }

  get directions(): number {
    return this.bidirectional ? 2 : 1;
  }

  resetParameters(opts: InitOptions = {}): void {
    resetUniform(this.parameters(), this.hiddenSize, opts);
  }

  /** The weights of layer k, direction d (looked up by name: `to(dtype)` replaces the fields). */
  weightsOf(k: number, d: number): CellWeights {
    const f = this as unknown as Record<string, Parameter>,
      sfx = suffix(k, d);
    return {
      wIh: f[`weightIh${sfx}`]!,
      wHh: f[`weightHh${sfx}`]!,
      bIh: f[`biasIh${sfx}`] ?? null,
      bHh: f[`biasHh${sfx}`] ?? null,
    };
  }

  /** One time step of the cell: x (B, I), state [h] or [h, c] each (B, H) → the new state. */
  protected abstract step(x: Tensor, state: Tensor[], w: CellWeights): Tensor[];

  /**
   * input (T, B, I) [(B, T, I) with batchFirst, (T, I) unbatched], states (L·D, B, H) [(L·D, H) unbatched],
   * default zeros → the last layer's h at every step and every layer's final states.
   */
  protected run(input: Tensor, states: (Tensor | undefined)[]): { output: Tensor; final: Tensor[] } {
    const name = this.constructor.name;
    checkFloat(name, "input", input);
    const H = this.hiddenSize,
      L = this.numLayers,
      D = this.directions;
    const batched = input.ndim === 3;
    if ((input.ndim !== 2 && input.ndim !== 3) || input.shape[input.ndim - 1] !== this.inputSize) {
      const want = this.batchFirst ? `(B, T, ${this.inputSize})` : `(T, B, ${this.inputSize})`;
      throw new ShapeError(`${name}: input ${fmt(input.shape)} must be ${want} or unbatched (T, ${this.inputSize})`);
    }
    const x = batched ? (this.batchFirst ? input.transpose(0, 1) : input) : input.unsqueeze(1); // (T, B, I)
    const [T, B] = x.shape as [number, number, number];
    if (T === 0) throw new ShapeError(`${name}: input ${fmt(input.shape)} has no time steps`);
    // the initial states, one (B, H) per layer and direction
    const init = states.map((s, j) => {
      if (s === undefined) return new Array<Tensor>(L * D).fill(zeros([B, H], { dtype: input.dtype }));
      const want = batched ? [L * D, B, H] : [L * D, H];
      if (s.ndim !== want.length || s.shape.some((n, i) => n !== want[i])) {
        throw new ShapeError(
          `${name}: ${j === 0 ? "h0" : "c0"} ${fmt(s.shape)} must have shape ${fmt(want)} for input ${fmt(input.shape)}`,
        );
      }
      checkFloat(name, j === 0 ? "h0" : "c0", s);
      return split(batched ? s : s.unsqueeze(1), 1, 0).map((t) => t.squeeze(0)); // L·D × (B, H)
    });
    let xs = split(x, 1, 0).map((t) => t.squeeze(0)); // T × (B, I): this layer's input at each step
    const final: Tensor[][] = states.map(() => []); // per state kind, L·D × (B, H)
    for (let k = 0; k < L; k++) {
      // dropout between layers: on the inputs of layer k > 0 (PyTorch drops layer k − 1's outputs)
      if (k > 0 && this.dropout > 0 && this.training)
        xs = xs.map((t) => dropout(t, this.dropout, true, { generator: this.generator }));
      const ys: Tensor[][] = []; // per direction, T × (B, H)
      for (let d = 0; d < D; d++) {
        const w = this.weightsOf(k, d);
        let state = init.map((s) => s[k * D + d]!); // [h] or [h, c], each (B, H)
        const y = new Array<Tensor>(T);
        for (let s = 0; s < T; s++) {
          const t = d === 0 ? s : T - 1 - s; // the reverse direction reads t = T−1 … 0
          state = this.step(xs[t]!, state, w);
          y[t] = state[0]!; // h_t (B, H)
        }
        state.forEach((s, j) => final[j]!.push(s));
        ys.push(y);
      }
      // the next layer's input at step t: [h_t forward, h_t backward] (B, D·H)
      xs = D === 1 ? ys[0]! : ys[0]!.map((h, t) => cat([h, ys[1]![t]!], 1));
    }
    let output = stack(xs, 0); // (T, B, D·H)
    if (!batched)
      output = output.squeeze(1); // (T, D·H)
    else if (this.batchFirst) output = output.transpose(0, 1); // (B, T, D·H)
    return { output, final: final.map((f) => (batched ? stack(f, 0) : stack(f, 0).squeeze(1))) }; // (L·D, B, H)
  }
}

function suffix(k: number, d: number): string {
  return `L${k}${d === 1 ? "Reverse" : ""}`;
}

/** A multi-layer Elman RNN: h_t = tanh(W_ih·x_t + b_ih + W_hh·h_{t−1} + b_hh) (or relu) in every layer. */
export class RNN extends RNNBase {
  readonly nonlinearity: RNNNonlinearity;

  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions & { nonlinearity?: RNNNonlinearity } = {}) {
    super(inputSize, hiddenSize, 1, opts);
    this.nonlinearity = checkNonlinearity("RNN", opts.nonlinearity);
  }

  protected step(x: Tensor, [h]: Tensor[], w: CellWeights): Tensor[] {
    return [rnnStep(x, h!, w, this.nonlinearity)];
  }

  forward(input: Tensor, h0?: Tensor): RNNOutput {
    const { output, final } = this.run(input, [h0]);
    return { output, hN: final[0]! };
  }
}

/** A multi-layer LSTM (lstmStep in every layer); forward(input, [h0, c0]?) → { output, hN, cN }. */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    super(inputSize, hiddenSize, 4, opts);
  }

  protected step(x: Tensor, [h, c]: Tensor[], w: CellWeights): Tensor[] {
    return lstmStep(x, h!, c!, w);
  }

  forward(input: Tensor, hx?: [Tensor, Tensor]): LSTMOutput {
    const { output, final } = this.run(input, [hx?.[0], hx?.[1]]);
    return { output, hN: final[0]!, cN: final[1]! };
  }
}

/** A multi-layer GRU (gruStep in every layer); forward(input, h0?) → { output, hN }. */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    super(inputSize, hiddenSize, 3, opts);
  }

  protected step(x: Tensor, [h]: Tensor[], w: CellWeights): Tensor[] {
    return [gruStep(x, h!, w)];
  }

  forward(input: Tensor, h0?: Tensor): RNNOutput {
    const { output, final } = this.run(input, [h0]);
    return { output, hN: final[0]! };
  }
}
