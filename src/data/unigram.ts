// Unigram language-model tokenizer, as T5's and ALBERT's (Kudo 2018, "Subword Regularization: Improving
// Neural Network Translation Models with Multiple Subword Candidates", https://arxiv.org/abs/1804.10959,
// §3; the sentencepiece library, Kudo & Richardson 2018, https://arxiv.org/abs/1808.06226).
//
// Every vocabulary piece x has a log-probability log p(x). A word is cut into the pieces whose log-
// probabilities sum highest:
//   x* = argmax_{x₁…x_k spelling the word} Σᵢ log p(xᵢ)
// found by the Viterbi algorithm over character positions: best[0] = 0, and for every piece x that
// starts at position i and ends at j, best[j] = max(best[j], best[i] + log p(x)). Positions are visited
// left to right and, from one position, pieces from short to long; a later candidate replaces an
// earlier one only when it scores strictly higher (so ties go to the earlier start, i.e. the longer
// last piece), as sentencepiece and Hugging Face do. A character no piece starts with becomes the
// unknown piece with the score min_x log p(x) − 10, and a run of unknown characters is fused into one
// unknown token.
//
// Files: `UnigramTokenizer.fromJSON()` reads Hugging Face's tokenizer.json with model type "Unigram"
// (vocab: [piece, log-probability] pairs in id order, unk_id), with the normalizers, pre-tokenizers,
// decoder and post-processor of hf-pipeline.ts.

import { ArgumentError, LoadError } from "../engine/errors.js";
import {
  PipelineTokenizer,
  isObject,
  parseTokenizerJSON,
  pipelineFromJSON,
  type PipelineParts,
} from "./hf-pipeline.js";

/** The unknown piece scores this much below the lowest-scoring piece (sentencepiece's kUnkPenalty). */
const UNK_PENALTY = 10;

interface TrieNode {
  id: number; // the piece that ends here, or −1
  next: Map<string, TrieNode>;
}

export interface UnigramConfig {
  /** [piece, log-probability] in id order */
  vocab: ReadonlyArray<readonly [string, number]>;
  /** the id of the unknown piece (T5: 2) */
  unkId: number;
  /** an unknown character becomes the <0xXX> pieces of its UTF-8 bytes instead of the unknown piece */
  byteFallback?: boolean;
}

export class UnigramTokenizer extends PipelineTokenizer {
  private readonly pieces: string[];
  private readonly scores: Float64Array;
  private readonly ids = new Map<string, number>();
  private readonly root: TrieNode = { id: -1, next: new Map() };
  private readonly unkScore: number;
  readonly unkId: number;
  readonly byteFallback: boolean;

  constructor(
    config: UnigramConfig,
    parts: PipelineParts = {
      addedTokens: [],
      normalizer: null,
      preTokenizer: null,
      postProcessor: null,
      decoder: null,
    },
  ) {
    super(parts);
    const n = config.vocab.length;
    if (n === 0) throw new ArgumentError(`UnigramTokenizer: the vocabulary is empty`);
    this.pieces = new Array<string>(n);
    this.scores = new Float64Array(n);
    let minScore = Infinity;
    config.vocab.forEach(([piece, score], id) => {
      if (typeof piece !== "string" || piece.length === 0)
        throw new ArgumentError(
          `UnigramTokenizer: vocab[${id}] must be a non-empty string, got ${JSON.stringify(piece)}`,
        );
      if (typeof score !== "number" || !Number.isFinite(score))
        throw new ArgumentError(
          `UnigramTokenizer: vocab[${id}] (${JSON.stringify(piece)}) has score ${JSON.stringify(score)}; scores must be finite numbers`,
        );
      if (this.ids.has(piece))
        throw new ArgumentError(
          `UnigramTokenizer: the piece ${JSON.stringify(piece)} appears twice (ids ${this.ids.get(piece)} and ${id})`,
        );
      this.pieces[id] = piece;
      this.scores[id] = score;
      this.ids.set(piece, id);
      minScore = Math.min(minScore, score);
      let node = this.root;
      for (const ch of piece) {
        let child = node.next.get(ch);
        if (!child) node.next.set(ch, (child = { id: -1, next: new Map() }));
        node = child;
      }
      node.id = id;
    });
    if (!Number.isInteger(config.unkId) || config.unkId < 0 || config.unkId >= n)
      throw new ArgumentError(`UnigramTokenizer: unk_id ${config.unkId} is not an id of the vocabulary (0..${n - 1})`);
    this.unkId = config.unkId;
    this.unkScore = minScore - UNK_PENALTY;
    this.byteFallback = config.byteFallback ?? false;
  }

  protected modelVocabSize(): number {
    return this.pieces.length;
  }

  protected modelIdToToken(id: number): string | undefined {
    return this.pieces[id];
  }

  protected modelTokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }

  /** The log-probability of a piece. */
  score(id: number): number | undefined {
    return this.scores[id];
  }

  /** Viterbi over the word's characters, then the pieces' ids (unknown runs fused). */
  protected encodeWord(word: string): number[] {
    const chars = [...word]; // code points: a piece never splits a character
    const n = chars.length;
    const best = new Float64Array(n + 1); // best[j]: the best score of a segmentation of chars[0, j)
    const from = new Int32Array(n + 1).fill(-1); // where the last piece of that segmentation starts
    const pieceId = new Int32Array(n + 1).fill(-1); // and which piece it is
    from[0] = 0;
    for (let i = 0; i < n; i++) {
      if (from[i] === -1) continue; // unreachable (cannot happen: every character has at least the unknown piece)
      let hasSingle = false;
      let node: TrieNode | undefined = this.root;
      for (let j = i; j < n; j++) {
        node = node.next.get(chars[j]!);
        if (!node) break;
        if (node.id < 0) continue;
        // best[j+1] = max(best[j+1], best[i] + log p(piece))
        const candidate = best[i]! + this.scores[node.id]!;
        if (from[j + 1] === -1 || candidate > best[j + 1]!) {
          best[j + 1] = candidate;
          from[j + 1] = i;
          pieceId[j + 1] = node.id;
        }
        if (j === i) hasSingle = true;
      }
      if (!hasSingle) {
        const candidate = best[i]! + this.unkScore;
        if (from[i + 1] === -1 || candidate > best[i + 1]!) {
          best[i + 1] = candidate;
          from[i + 1] = i;
          pieceId[i + 1] = this.unkId;
        }
      }
    }
    // walk back from the end; a run of unknown pieces becomes one
    const pieces: { id: number; text: string }[] = [];
    for (let end = n; end > 0; end = from[end]!) {
      const id = pieceId[end]!,
        text = chars.slice(from[end]!, end).join("");
      const last = pieces[pieces.length - 1];
      if (id === this.unkId && last && last.id === this.unkId) last.text = text + last.text;
      else pieces.push({ id, text });
    }
    pieces.reverse();
    if (!this.byteFallback) return pieces.map((p) => p.id);
    // byte fallback: an unknown run becomes the <0xXX> pieces of its UTF-8 bytes, when all exist
    return pieces.flatMap((p) => {
      if (p.id !== this.unkId) return [p.id];
      const bytes = [...new TextEncoder().encode(p.text)].map((b) =>
        this.ids.get(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`),
      );
      return bytes.every((b) => b !== undefined) ? (bytes as number[]) : [p.id];
    });
  }

  /**
   * Read a tokenizer.json (its text or its parsed object) with model type "Unigram". Components this
   * reader does not know raise a LoadError that names them.
   */
  static fromJSON(json: string | object): UnigramTokenizer {
    const j = parseTokenizerJSON(json);
    const model = j.model;
    if (model.type !== "Unigram")
      throw new LoadError(`tokenizer.json: model type ${JSON.stringify(model.type)} is not "Unigram"`);
    if (!Array.isArray(model.vocab))
      throw new LoadError(`tokenizer.json: model.vocab must be an array of [piece, score] pairs`);
    const vocab = model.vocab.map((e: unknown, i: number): [string, number] => {
      if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== "string" || typeof e[1] !== "number")
        throw new LoadError(
          `tokenizer.json: model.vocab[${i}] must be a [piece, score] pair, got ${JSON.stringify(e)?.slice(0, 60)}`,
        );
      return [e[0], e[1]];
    });
    if (typeof model.unk_id !== "number")
      throw new LoadError(
        `tokenizer.json: model.unk_id must be a number (a Unigram model without an unknown piece is not supported)`,
      );
    const parts = pipelineFromJSON(j);
    for (const t of parts.addedTokens) {
      if (t.id < vocab.length && vocab[t.id]![0] !== t.content)
        throw new LoadError(
          `tokenizer.json: added token ${JSON.stringify(t.content)} has id ${t.id}, but the vocabulary gives that id to ${JSON.stringify(vocab[t.id]?.[0])}`,
        );
    }
    if (isObject(model) && model.byte_fallback !== undefined && typeof model.byte_fallback !== "boolean")
      throw new LoadError(`tokenizer.json: model.byte_fallback must be a boolean`);
    try {
      return new UnigramTokenizer({ vocab, unkId: model.unk_id, byteFallback: model.byte_fallback === true }, parts);
    } catch (e) {
      if (e instanceof ArgumentError) throw new LoadError(`tokenizer.json: ${e.message}`);
      throw e;
    }
  }
}
