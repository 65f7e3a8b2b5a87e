// A token vocabulary for sequence-to-sequence tasks, with the four special tokens every such model needs,
// and the batching of (source, target) pairs into padded int32 tensors.
//
//   id 0 <pad>  fills sequences to the batch's longest; ignored by the loss, masked out of attention
//   id 1 <bos>  starts the decoder's input (the target shifted right by one)
//   id 2 <eos>  ends every target (and every source)
//   id 3 <unk>  any token outside the vocabulary
//
// Vocabulary: B pairs, S the longest source + EOS, T the longest target + 1 (BOS or EOS).

import { ArgumentError } from "../../engine/errors.js";
import { tensor } from "../../engine/creation.js";
import type { Tensor } from "../../engine/tensor.js";

export const PAD = 0, BOS = 1, EOS = 2, UNK = 3;
const SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"] as const;

export class Vocab {
  /** every token by id; the specials first */
  readonly tokens: readonly string[];
  private readonly ids: Map<string, number>;

  /** The specials, then `tokens` in order (duplicates and specials among them are skipped). */
  constructor(tokens: Iterable<string>) {
    const list: string[] = [...SPECIALS];
    const ids = new Map<string, number>(list.map((t, i) => [t, i]));
    for (const t of tokens) {
      if (typeof t !== "string" || t === "") throw new ArgumentError(`Vocab: tokens must be non-empty strings, got ${JSON.stringify(t)}`);
      if (!ids.has(t)) {
        ids.set(t, list.length);
        list.push(t);
      }
    }
    this.tokens = Object.freeze(list);
    this.ids = ids;
  }

  /** The vocabulary of every token in `sequences`, sorted (so that it does not depend on their order). */
  static fromSequences(sequences: Iterable<readonly string[]>): Vocab {
    const seen = new Set<string>();
    for (const s of sequences) for (const t of s) seen.add(t);
    return new Vocab([...seen].sort());
  }

  get size(): number {
    return this.tokens.length;
  }

  id(token: string): number {
    return this.ids.get(token) ?? UNK;
  }

  /** tokens → ids, with EOS appended when `eos` */
  encode(tokens: readonly string[], opts: { eos?: boolean } = {}): number[] {
    const out = tokens.map((t) => this.id(t));
    if (opts.eos) out.push(EOS);
    return out;
  }

  /** ids → tokens, stopping at the first EOS and leaving out PAD and BOS */
  decode(ids: Iterable<number>): string[] {
    const out: string[] = [];
    for (const i of ids) {
      if (i === EOS) break;
      if (i === PAD || i === BOS) continue;
      const t = this.tokens[i];
      if (t === undefined) throw new ArgumentError(`Vocab.decode: id ${i} is outside the vocabulary of ${this.size} tokens`);
      out.push(t);
    }
    return out;
  }
}

export interface Seq2SeqBatch {
  /** source ids + EOS, padded: (B, S) int32 */
  src: Tensor;
  /** the decoder's input, BOS + target ids, padded: (B, T) int32 */
  tgtIn: Tensor;
  /** what each decoder position must predict, target ids + EOS, padded: (B, T) int32 */
  tgtOut: Tensor;
}

/** Pad rows of ids to one length with PAD → (rows, length) int32. */
export function padSequences(rows: readonly (readonly number[])[], length = Math.max(1, ...rows.map((r) => r.length))): Tensor {
  const out = new Int32Array(rows.length * length).fill(PAD);
  rows.forEach((r, i) => {
    if (r.length > length) throw new ArgumentError(`padSequences: a row of ${r.length} ids does not fit in length ${length}`);
    out.set(r, i * length);
  });
  return tensor(out, { shape: [rows.length, length] });
}

/** Token pairs → the three tensors of one teacher-forced batch. */
export function seq2seqBatch(pairs: readonly { source: readonly string[]; target: readonly string[] }[], vocab: Vocab): Seq2SeqBatch {
  if (pairs.length === 0) throw new ArgumentError("seq2seqBatch: no pairs");
  const src = pairs.map((p) => vocab.encode(p.source, { eos: true }));
  const tgt = pairs.map((p) => vocab.encode(p.target));
  return {
    src: padSequences(src),
    tgtIn: padSequences(tgt.map((t) => [BOS, ...t])),
    tgtOut: padSequences(tgt.map((t) => [...t, EOS])),
  };
}
