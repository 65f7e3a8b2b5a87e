// A Linear layer whose weight stays in GGML blocks: y = x·Wᵀ + b computed by qmatmul on the blocks
// (inference only: no gradient reaches a quantized weight). What a GGUF model loads its matrices into.

import { ArgumentError } from "../../engine/errors.js";
import type { Tensor } from "../../engine/tensor.js";
import { tensor } from "../../engine/creation.js";
import { Module } from "../../nn/module.js";
import { qmatmul } from "./qmatmul.js";
import { GGML_TYPES, rowBytes, type GgmlType } from "./quants.js";

export class QuantLinear extends Module {
  /** W (out, in) as out rows of `type` blocks */
  readonly blocks: Uint8Array;
  readonly bias: Tensor | null; // (out)

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    readonly type: GgmlType,
    blocks: Uint8Array,
    bias: Tensor | null = null,
  ) {
    super();
    const need = rowBytes(type, inFeatures) * outFeatures;
    if (blocks.length !== need)
      throw new ArgumentError(
        `QuantLinear: a ${type} weight (${outFeatures}, ${inFeatures}) takes ${need} bytes, got ${blocks.length}`,
      );
    this.blocks = blocks;
    this.bias = bias;
  }

  /** Bytes the weight takes, and per parameter. */
  get weightBytes(): number {
    return this.blocks.length;
  }
  get bitsPerWeight(): number {
    return (8 * GGML_TYPES[this.type].typeSize) / GGML_TYPES[this.type].blockSize;
  }

  forward(x: Tensor): Tensor {
    const K = this.inFeatures,
      N = this.outFeatures;
    if (x.shape[x.shape.length - 1] !== K)
      throw new ArgumentError(`QuantLinear: input (..., ${x.shape[x.shape.length - 1]}) needs last dimension ${K}`);
    const T = x.numel() / K;
    const data = x.dataSync();
    const xs = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
    const y = qmatmul(xs, T, K, this.blocks, this.type, N); // (T, N)
    if (this.bias) {
      const b = this.bias.dataSync();
      for (let t = 0; t < T; t++)
        for (let n = 0; n < N; n++) y[t * N + n] = Math.fround(y[t * N + n]! + (b[n] as number));
    }
    return tensor(y, { shape: [...x.shape.slice(0, -1), N] }); // (..., out)
  }
}
