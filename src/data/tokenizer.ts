// What every tokenizer offers: text → ids → text, and the ids as an int32 tensor.

import type { Tensor } from "../engine/tensor.js";

export interface Tokenizer {
  /** One more than the largest id the tokenizer produces. */
  readonly vocabSize: number;
  encode(text: string): number[];
  /** The ids of `text` as an int32 tensor of shape (n). */
  encodeTensor(text: string): Tensor;
  /** The text of a sequence of ids (a plain array, a typed array or a 1-d integer tensor). */
  decode(ids: ArrayLike<number> | Tensor): string;
}
