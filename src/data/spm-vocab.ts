// A SentencePiece-style vocabulary as GGUF files hold it (tokenizer.ggml.model = "llama": tokens, scores,
// token types, special ids, no merges) and the tokenizer llama.cpp runs over it (its llm_tokenizer_spm, as
// facts; the code is ours):
//
//   1. the text gets a space in front (add_space_prefix) and every " " becomes "▁";
//   2. it is cut into characters, the symbols;
//   3. repeatedly, of all adjacent pairs whose concatenation is a token, the one whose token has the highest
//      score is joined (ties: the leftmost);
//   4. each final symbol is its token, or — when no token has its text — the tokens <0xXX> of its UTF-8 bytes.
//
// A BPE vocabulary with byte fallback (LLaMA's tokenizer.json) becomes such a vocabulary when each token made
// by a merge rule scores −(the rule's rank): then step 3 applies the lowest-ranked applicable rule first, as
// BPE does (fromByteFallbackBPE below). Decoding is the inverse: "▁" → " ", byte tokens → their bytes, control
// tokens dropped, the leading space removed.

import { ArgumentError } from "../engine/errors.js";

/** GGUF's token types (llama.cpp's llama_token_type). */
export const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

export interface SpmVocab {
  tokens: string[];
  scores: number[];
  tokenTypes: number[];
  bosId?: number;
  eosId?: number;
  unkId?: number;
  padId?: number;
  addBos?: boolean;
  /** a "▁" in front of the text (llama.cpp's default: true) */
  addSpacePrefix?: boolean;
}

const byteToken = (b: number): string => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`;

export class SpmTokenizer {
  private readonly ids = new Map<string, number>();
  private readonly byteIds = new Int32Array(256).fill(-1);
  private readonly utf8 = new TextEncoder();

  constructor(readonly vocab: SpmVocab) {
    const { tokens, scores, tokenTypes } = vocab;
    if (scores.length !== tokens.length || tokenTypes.length !== tokens.length) {
      throw new ArgumentError(
        `SpmTokenizer: ${tokens.length} tokens, ${scores.length} scores and ${tokenTypes.length} token types must be as many`,
      );
    }
    tokens.forEach((t, id) => {
      if (!this.ids.has(t)) this.ids.set(t, id);
    });
    for (let b = 0; b < 256; b++) this.byteIds[b] = this.ids.get(byteToken(b)) ?? -1;
  }

  get vocabSize(): number {
    return this.vocab.tokens.length;
  }

  /** Token ids of `text` (with BOS in front where the vocabulary asks for it and `addSpecialTokens`). */
  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    const out: number[] = [];
    if ((opts.addSpecialTokens ?? true) && this.vocab.addBos && this.vocab.bosId !== undefined)
      out.push(this.vocab.bosId);
    if (text.length === 0) return out;
    const s = ((this.vocab.addSpacePrefix ?? true) ? " " + text : text).replaceAll(" ", "▁");
    // symbols: one per character (code point); a merged symbol spans [start, start + len) of s
    const chars = Array.from(s);
    const start: number[] = [],
      len: number[] = [],
      prev: number[] = [],
      next: number[] = [];
    let o = 0;
    chars.forEach((c, i) => {
      start.push(o);
      len.push(c.length);
      prev.push(i - 1);
      next.push(i + 1 < chars.length ? i + 1 : -1);
      o += c.length;
    });
    // the work queue: bigrams by (score desc, left asc); a binary heap
    interface Bigram {
      left: number;
      right: number;
      score: number;
      size: number;
    }
    const heap: Bigram[] = [];
    const before = (a: Bigram, b: Bigram): boolean => a.score > b.score || (a.score === b.score && a.left < b.left);
    const push = (g: Bigram): void => {
      heap.push(g);
      for (let i = heap.length - 1; i > 0;) {
        const p = (i - 1) >> 1;
        if (!before(heap[i]!, heap[p]!)) break;
        [heap[i], heap[p]] = [heap[p]!, heap[i]!];
        i = p;
      }
    };
    const pop = (): Bigram => {
      const top = heap[0]!,
        last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        for (let i = 0; ;) {
          const l = 2 * i + 1,
            r = l + 1;
          let m = i;
          if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
          if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
          if (m === i) break;
          [heap[i], heap[m]] = [heap[m]!, heap[i]!];
          i = m;
        }
      }
      return top;
    };
    /** text → the two symbols it was last made of (to split a symbol that is no token back into tokens) */
    const madeOf = new Map<string, [number, number]>();
    const tryBigram = (left: number, right: number): void => {
      if (left < 0 || right < 0) return;
      const t = s.slice(start[left]!, start[left]! + len[left]! + len[right]!);
      const id = this.ids.get(t);
      if (id === undefined) return;
      push({ left, right, score: this.vocab.scores[id]!, size: t.length });
      madeOf.set(t, [left, right]);
    };
    for (let i = 1; i < chars.length; i++) tryBigram(i - 1, i);
    while (heap.length > 0) {
      const g = pop();
      // skip a pair one of whose symbols has been merged since
      if (len[g.left] === 0 || len[g.right] === 0 || len[g.left]! + len[g.right]! !== g.size) continue;
      len[g.left] = g.size;
      len[g.right] = 0;
      next[g.left] = next[g.right]!;
      if (next[g.right]! >= 0) prev[next[g.right]!] = g.left;
      tryBigram(prev[g.left]!, g.left);
      tryBigram(g.left, next[g.left]!);
    }
    const emit = (i: number): void => {
      const t = s.slice(start[i]!, start[i]! + len[i]!);
      const id = this.ids.get(t);
      if (id !== undefined) {
        out.push(id);
        return;
      }
      const parts = madeOf.get(t);
      if (parts) {
        emit(parts[0]);
        emit(parts[1]);
        return;
      }
      for (const b of this.utf8.encode(t)) {
        const bid = this.byteIds[b]!;
        if (bid >= 0) out.push(bid);
        else if (this.vocab.unkId !== undefined) out.push(this.vocab.unkId);
      }
    };
    for (let i = 0; i !== -1; i = next[i]!) emit(i);
    return out;
  }

  /**
   * Text of `ids`: "▁" → " ", byte tokens → their bytes (UTF-8), control tokens dropped, the leading space
   * removed (kept with `continuation`: the ids follow earlier text, as a generated continuation does).
   */
  decode(ids: readonly number[], opts: { continuation?: boolean } = {}): string {
    const bytes: number[] = [];
    for (const id of ids) {
      const t = this.vocab.tokens[id];
      if (t === undefined)
        throw new ArgumentError(`SpmTokenizer.decode: id ${id} is outside the vocabulary of ${this.vocabSize}`);
      const type = this.vocab.tokenTypes[id];
      if (type === TOKEN_TYPE.control || type === TOKEN_TYPE.unused) continue;
      if (type === TOKEN_TYPE.byte) {
        const b = /^<0x([0-9A-Fa-f]{2})>$/.exec(t);
        if (b) {
          bytes.push(parseInt(b[1]!, 16));
          continue;
        }
      }
      for (const b of this.utf8.encode(t.replaceAll("▁", " "))) bytes.push(b);
    }
    const text = new TextDecoder().decode(Uint8Array.from(bytes));
    return !opts.continuation && (this.vocab.addSpacePrefix ?? true) && text.startsWith(" ") ? text.slice(1) : text;
  }
}

/**
 * A BPE vocabulary with byte fallback (tokens by id and merge rules in rank order) as a SentencePiece-style
 * one: a token made by rule r scores −1 − r (see the scores below); <0xXX> tokens are bytes, the unknown token
 * unknown, `special` ids control tokens.
 */
export function fromByteFallbackBPE(
  tokens: readonly string[],
  merges: ReadonlyArray<readonly [string, string]>,
  special: ReadonlySet<number>,
  unkId?: number,
): { scores: number[]; tokenTypes: number[] } {
  const rank = new Map<string, number>();
  merges.forEach(([a, b], r) => {
    const t = a + b;
    if (!rank.has(t)) rank.set(t, r);
  });
  // −1 − rank for a token a rule makes; 0 for a single character (never a pair's result) or a control token;
  // far below every rule for a longer token no rule makes (BPE never produces it; here it comes last)
  const scores = tokens.map((t, id) =>
    rank.has(t) ? -1 - rank.get(t)! : Array.from(t).length === 1 || special.has(id) ? 0 : -1e9,
  );
  const tokenTypes = tokens.map((t, id) =>
    id === unkId
      ? TOKEN_TYPE.unknown
      : special.has(id)
        ? TOKEN_TYPE.control
        : /^<0x[0-9A-F]{2}>$/.test(t)
          ? TOKEN_TYPE.byte
          : TOKEN_TYPE.normal,
  );
  return { scores, tokenTypes };
}
