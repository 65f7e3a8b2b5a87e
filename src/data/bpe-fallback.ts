// Byte-pair encoding over characters with byte fallback, as LLaMA's sentencepiece-BPE tokenizer (Sennrich
// et al. 2016, "Neural Machine Translation of Rare Words with Subword Units",
// https://arxiv.org/abs/1508.07909; byte fallback: Touvron et al. 2023, "LLaMA", §2.1).
//
// Differences from GPT-2's byte-level BPE (bpe.ts):
//   - the symbols a word starts from are its Unicode characters, not its bytes;
//   - a character the vocabulary lacks becomes the tokens <0xXX> of its UTF-8 bytes (byte_fallback), or
//     the unknown token (a run of them fused into one with fuse_unk);
//   - spaces are "▁" and the text gets a "▁" in front: by the normalizer Prepend("▁") + Replace(" ", "▁")
//     (older files), or by the Metaspace pre-tokenizer (newer ones); there is no GPT-2 regex;
//   - decoding: "▁" → " ", <0xXX> runs → their UTF-8 text, the first space dropped.
// The merges are the same: repeatedly join the adjacent pair with the lowest-ranked rule.
//
// Files: `ByteFallbackBPETokenizer.fromJSON()` reads Hugging Face's tokenizer.json with model type "BPE"
// when it is not byte-level (tokenizerFromJSON sends byte-level files to BPETokenizer).

import { ArgumentError, LoadError } from "../engine/errors.js";
import { ID_LIMIT, mergeTable, mergesFromJSON, pairKey } from "./bpe.js";
import { PipelineTokenizer, parseTokenizerJSON, pipelineFromJSON, type PipelineParts } from "./hf-pipeline.js";

export interface ByteFallbackBPEConfig {
  /** token → id (LLaMA: "▁the" → 278, "<0x0A>" → 13) */
  vocab: Record<string, number> | ReadonlyMap<string, number>;
  /** merge rules in rank order: ["▁", "t"] makes "▁t" */
  merges: ReadonlyArray<readonly [string, string]>;
  /** the unknown token (LLaMA: "<unk>"); null: a character with no token and no byte fallback is dropped */
  unkToken?: string | null;
  /** unknown characters become their <0xXX> byte tokens (default true) */
  byteFallback?: boolean;
  /** a run of unknown tokens becomes one (default true) */
  fuseUnk?: boolean;
  /** a word that is a vocabulary entry as a whole is taken as that token without merging */
  ignoreMerges?: boolean;
}

export class ByteFallbackBPETokenizer extends PipelineTokenizer {
  private readonly tokens: (string | undefined)[] = [];
  private readonly ids = new Map<string, number>();
  /** pair of ids → the rule's rank and the id of the merged token */
  private readonly ranks: Map<number, { rank: number; id: number }>;
  /** id of each byte's <0xXX> token (−1 when the vocabulary lacks it) */
  private readonly byteIds = new Int32Array(256).fill(-1);
  readonly unkId: number | null;
  readonly byteFallback: boolean;
  readonly fuseUnk: boolean;
  readonly ignoreMerges: boolean;

  constructor(
    config: ByteFallbackBPEConfig,
    parts: PipelineParts = {
      addedTokens: [],
      normalizer: null,
      preTokenizer: null,
      postProcessor: null,
      decoder: null,
    },
  ) {
    super(parts);
    const entries = config.vocab instanceof Map ? [...config.vocab] : Object.entries(config.vocab);
    for (const [token, id] of entries) {
      if (typeof token !== "string" || token.length === 0)
        throw new ArgumentError(
          `ByteFallbackBPETokenizer: vocabulary entry ${JSON.stringify(token)} must be a non-empty string`,
        );
      if (!Number.isInteger(id) || id < 0 || id >= ID_LIMIT)
        throw new ArgumentError(
          `ByteFallbackBPETokenizer: vocabulary entry ${JSON.stringify(token)} has id ${id}; ids must be integers in [0, ${ID_LIMIT})`,
        );
      if (this.tokens[id] !== undefined)
        throw new ArgumentError(
          `ByteFallbackBPETokenizer: id ${id} is given to both ${JSON.stringify(this.tokens[id])} and ${JSON.stringify(token)}`,
        );
      this.tokens[id] = token;
      this.ids.set(token, id);
    }
    for (let b = 0; b < 256; b++)
      this.byteIds[b] = this.ids.get(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`) ?? -1;
    this.ranks = mergeTable(config.merges, this.ids, "ByteFallbackBPETokenizer");
    const unk = config.unkToken ?? null;
    if (unk !== null && !this.ids.has(unk))
      throw new ArgumentError(
        `ByteFallbackBPETokenizer: the unknown token ${JSON.stringify(unk)} is not in the vocabulary`,
      );
    this.unkId = unk === null ? null : this.ids.get(unk)!;
    this.byteFallback = config.byteFallback ?? true;
    this.fuseUnk = config.fuseUnk ?? true;
    this.ignoreMerges = config.ignoreMerges ?? false;
  }

  protected modelVocabSize(): number {
    return this.tokens.length;
  }

  protected modelIdToToken(id: number): string | undefined {
    return this.tokens[id];
  }

  protected modelTokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }

  /** One word: characters (or their byte tokens, or the unknown token), then the merges by rank. */
  protected encodeWord(word: string): number[] {
    if (this.ignoreMerges) {
      const whole = this.ids.get(word);
      if (whole !== undefined) return [whole];
    }
    let ids: number[] = [];
    let lastWasUnk = false;
    for (const ch of word) {
      const id = this.ids.get(ch);
      if (id !== undefined) {
        ids.push(id);
        lastWasUnk = false;
        continue;
      }
      if (this.byteFallback) {
        const bytes = [...new TextEncoder().encode(ch)].map((b) => this.byteIds[b]!);
        if (bytes.every((b) => b >= 0)) {
          ids.push(...bytes);
          lastWasUnk = false;
          continue;
        }
      }
      if (this.unkId === null) continue; // no unknown token: the character is dropped, as Hugging Face does
      if (!(this.fuseUnk && lastWasUnk)) ids.push(this.unkId);
      lastWasUnk = true;
    }
    // merge the lowest-ranked adjacent pair, every occurrence left to right, until no rule applies
    for (;;) {
      let best: { rank: number; id: number } | undefined,
        bestAt = -1;
      for (let i = 0; i + 1 < ids.length; i++) {
        const r = this.ranks.get(pairKey(ids[i]!, ids[i + 1]!));
        if (r !== undefined && (best === undefined || r.rank < best.rank)) ((best = r), (bestAt = i));
      }
      if (best === undefined) return ids;
      const a = ids[bestAt]!,
        b = ids[bestAt + 1]!;
      const out: number[] = ids.slice(0, bestAt);
      for (let i = bestAt; i < ids.length; i++) {
        if (i + 1 < ids.length && ids[i] === a && ids[i + 1] === b) {
          out.push(best.id);
          i++;
        } else out.push(ids[i]!);
      }
      ids = out;
    }
  }

  /**
   * Read a tokenizer.json (its text or its parsed object) with model type "BPE" that is not byte-level:
   * LLaMA-1/2, Mistral and other sentencepiece-BPE files. Components this reader does not know raise a
   * LoadError that names them.
   */
  static fromJSON(json: string | object): ByteFallbackBPETokenizer {
    const j = parseTokenizerJSON(json);
    const model = j.model;
    if (model.type !== undefined && model.type !== "BPE")
      throw new LoadError(`tokenizer.json: model type ${JSON.stringify(model.type)} is not "BPE"`);
    if (typeof model.vocab !== "object" || model.vocab === null || Array.isArray(model.vocab))
      throw new LoadError(`tokenizer.json: model.vocab must be an object of token → id`);
    if (!Array.isArray(model.merges)) throw new LoadError(`tokenizer.json: model.merges must be an array`);
    for (const field of ["continuing_subword_prefix", "end_of_word_suffix"] as const) {
      if (model[field] !== undefined && model[field] !== null && model[field] !== "")
        throw new LoadError(`tokenizer.json: model.${field} ${JSON.stringify(model[field])} is not supported`);
    }
    if (model.dropout !== undefined && model.dropout !== null && model.dropout !== 0)
      throw new LoadError(`tokenizer.json: BPE dropout ${JSON.stringify(model.dropout)} is not supported`);
    const merges = mergesFromJSON(model.merges);
    const vocab = new Map<string, number>();
    for (const [token, id] of Object.entries(model.vocab)) {
      if (typeof id !== "number")
        throw new LoadError(
          `tokenizer.json: vocab entry ${JSON.stringify(token)} has id ${JSON.stringify(id)}; ids must be integers`,
        );
      vocab.set(token, id);
    }
    if (model.unk_token !== undefined && model.unk_token !== null && typeof model.unk_token !== "string")
      throw new LoadError(`tokenizer.json: model.unk_token must be a string or null`);
    const parts = pipelineFromJSON(j);
    for (const t of parts.addedTokens) {
      const known = vocab.get(t.content);
      if (known !== undefined && known !== t.id)
        throw new LoadError(
          `tokenizer.json: added token ${JSON.stringify(t.content)} has id ${t.id}, but the vocabulary gives it ${known}`,
        );
    }
    try {
      return new ByteFallbackBPETokenizer(
        {
          vocab,
          merges,
          unkToken: model.unk_token ?? null,
          byteFallback: model.byte_fallback === true,
          fuseUnk: model.fuse_unk === true,
          ignoreMerges: model.ignore_merges === true,
        },
        parts,
      );
    } catch (e) {
      if (e instanceof ArgumentError) throw new LoadError(`tokenizer.json: ${e.message}`);
      throw e;
    }
  }
}
