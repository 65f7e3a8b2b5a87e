// Linear and Embedding, with PyTorch's default initialisation.
//
// Vocabulary: * any leading dims, in / out features, V vocabulary (num embeddings), D embedding dim.

import { empty } from "../ops/util.js";
import { linear } from "../ops/nn.js";
import { embedding } from "../ops/indexing.js";
import { flatten } from "../ops/shape.js";
import { ArgumentError } from "../engine/errors.js";
import { inMeta, metaStorage } from "../engine/meta.js";
import type { Generator } from "../engine/rng.js";
import { Tensor } from "../engine/tensor.js";
import { kaimingUniform_, normal_, uniform_, calculateFanInAndFanOut } from "./init.js";
import { Module, Parameter } from "./module.js";

export interface InitOptions {
  /** the generator of the initial values (default: the library's default one) */
  generator?: Generator;
}

export function checkSize(layer: string, what: string, n: number, min = 1): number {
  if (!Number.isInteger(n) || n < min)
    throw new ArgumentError(`${layer}: ${what} must be an integer ≥ ${min}, got ${n}`);
  return n;
}

/** A fresh float32 parameter of the given shape (values to be filled by an initialiser); shape-only inside meta(). */
export function param(shape: number[]): Parameter {
  if (inMeta()) return new Parameter(new Tensor(metaStorage("float32", shape), shape));
  return new Parameter(empty(shape, "float32"));
}

export interface LinearOptions extends InitOptions {
  /** learn an additive bias (default true) */
  bias?: boolean;
}

/** y = x·Wᵀ + b:  x (*, in) → (*, out), weight (out, in), bias (out). */
export class Linear extends Module {
  weight: Parameter; // (out, in)
  bias: Parameter | null; // (out)

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: LinearOptions = {},
  ) {
    super();
    checkSize("Linear", "inFeatures", inFeatures, 0);
    checkSize("Linear", "outFeatures", outFeatures, 0);
    this.weight = param([outFeatures, inFeatures]);
    this.bias = (opts.bias ?? true) ? param([outFeatures]) : null;
    this.resetParameters(opts);
  }

  /**
   * PyTorch's default: W ~ kaiming_uniform(a = √5), i.e. U(±gain·√(3/in)) with gain = √(2/(1 + 5)),
   * which is U(±1/√in); b ~ U(±1/√in).
   */
  resetParameters(opts: InitOptions = {}): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5), generator: opts.generator });
    if (this.bias) {
      const [fanIn] = calculateFanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      uniform_(this.bias, -bound, bound, opts);
    }
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias); // (*, out)
  }
}

export interface EmbeddingOptions extends InitOptions {
  /** this row is initialised to zeros and gets no gradient (a padding token); negative counts from the end */
  paddingIdx?: number | null;
}

/** A lookup table: int32 indices of any shape (*) → (*, D) rows of weight (V, D), initialised N(0, 1). */
export class Embedding extends Module {
  weight: Parameter; // (V, D)
  readonly paddingIdx: number | null;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    opts: EmbeddingOptions = {},
  ) {
    super();
    checkSize("Embedding", "numEmbeddings", numEmbeddings, 0);
    checkSize("Embedding", "embeddingDim", embeddingDim, 0);
    let pad = opts.paddingIdx ?? null;
    if (pad !== null) {
      if (!Number.isInteger(pad) || pad < -numEmbeddings || pad >= numEmbeddings) {
        throw new ArgumentError(
          `Embedding: paddingIdx ${pad} must be within [${-numEmbeddings}, ${numEmbeddings - 1}] for ${numEmbeddings} embeddings`,
        );
      }
      if (pad < 0) pad += numEmbeddings;
    }
    this.paddingIdx = pad;
    this.weight = param([numEmbeddings, embeddingDim]);
    this.resetParameters(opts);
  }

  /** PyTorch's default: W ~ N(0, 1), the padding row zeroed. */
  resetParameters(opts: InitOptions = {}): void {
    normal_(this.weight, 0, 1, opts);
    if (this.paddingIdx !== null && !this.weight.isMeta) {
      const d = this.embeddingDim;
      this.weight.storage.fill(0, this.paddingIdx * d, (this.paddingIdx + 1) * d);
    }
  }

  forward(indices: Tensor): Tensor {
    return embedding(indices, this.weight, { paddingIdx: this.paddingIdx }); // (*, D)
  }
}

/** Returns its input (a placeholder, e.g. for an optional layer in a Sequential). */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Flattens dims startDim..endDim into one: (N, C, H, W) → (N, C·H·W) with the defaults 1, −1. */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
}

/**
 * An output head tied to a token embedding E (V, C) (Press & Wolf 2017): logits = h·Eᵀ, a Linear without a
 * weight of its own. One tensor in two places: namedParameters lists it once, under the embedding's name.
 */
export class TiedHead extends Module {
  constructor(public weight: Parameter) {
    super();
  }

  forward(h: Tensor): Tensor {
    return linear(h, this.weight); // (B, T, C) → (B, T, V)
  }
}
