// Prompt tuning: n trainable "soft prompt" embeddings prepended to the input of a frozen model.
//   Lester, Al-Rfou, Constant 2021, "The Power of Scale for Parameter-Efficient Prompt Tuning",
//   https://arxiv.org/abs/2104.08691
//
// The input sequence X = [x₁ … x_T] is embedded as usual, X_e (T, C), and n learned vectors P_e (n, C)
// are put in front of it (§2): the model reads [P_e; X_e] (n + T, C) and nothing else changes. Unlike
// prefix tuning only the input layer is touched; the upper layers' keys and values of the virtual tokens
// are computed by the frozen model. Lester et al. initialise P_e from the embeddings of real vocabulary
// tokens (§3.2, "sampled vocab"); so do we.
//
// How: the token embedding E (V, C) is wrapped so that ids V…V+n−1 look up P_e ("virtual token ids", as
// PEFT names them), and the forward prepends those ids. Positions and attention are the base model's own:
// the virtual tokens take positions 0…n−1, and the causal mask lets every real token see all of them.
// For generation the virtual tokens are fed once into an empty KV cache.
//
// Vocabulary: B batch, T tokens, n virtual tokens, C model width, V vocabulary.

import { noGrad } from "../engine/autograd.js";
import { arange } from "../engine/creation.js";
import { ShapeError } from "../engine/errors.js";
import { defaultGenerator, type Generator } from "../engine/rng.js";
import { fmt } from "../engine/shape.js";
import type { Tensor } from "../engine/tensor.js";
import { cat } from "../ops/shape.js";
import { embedding } from "../ops/indexing.js";
import * as F from "../nn/functional.js";
import { Embedding, param } from "../nn/linear.js";
import { Module, type Parameter } from "../nn/module.js";
import { generateWithCache, type GenerateOptions } from "../generation/index.js";
import { findTargets, freeze, replaceModule, trainableParameters, type Finetuned } from "./common.js";
import { KVCache } from "../nn/kv-cache.js";
import { attentionGeometry, virtualTokens, type CachedLM, type LMOutput } from "./prefix.js";

/** The token embedding E (V, C) extended by the soft prompt P_e (n, C): ids ≥ V look up P_e. */
export class PromptEmbedding extends Module {
  base: Embedding; // E (V, C), frozen
  prompt: Parameter; // P_e (n, C)

  constructor(base: Embedding, n: number, generator: Generator) {
    super();
    this.base = base;
    this.prompt = param([n, base.embeddingDim]);
    // P_e ← rows of E at n random vocabulary ids (Lester et al. §3.2)
    noGrad(() => {
      const V = base.numEmbeddings,
        C = base.embeddingDim;
      for (let i = 0; i < n; i++) {
        const row = Math.floor(generator.random() * V);
        this.prompt.storage.set(base.weight.storage.subarray(row * C, (row + 1) * C), i * C);
      }
    });
  }

  get numEmbeddings(): number {
    return this.base.numEmbeddings + this.prompt.shape[0]!;
  }

  get embeddingDim(): number {
    return this.base.embeddingDim;
  }

  forward(ids: Tensor): Tensor {
    // [E; P_e] (V + n, C): id v < V reads E[v], id V + i reads P_e[i]
    const table = cat([this.base.weight, this.prompt], 0); // (V+n, C)
    return embedding(ids, table); // (*, C)
  }
}

export interface PromptOptions {
  /** n, the soft prompt's length (default 10) */
  numVirtualTokens?: number;
  /** the token embedding to extend, by name suffix (default "tokEmb") */
  embedding?: string;
  generator?: Generator;
}

const isEmbedding = (m: Module): m is Embedding => m instanceof Embedding;
export const promptTarget = (base: Module, opts: PromptOptions): [[string, Embedding]] =>
  findTargets(base, [opts.embedding ?? "tokEmb"], isEmbedding, "prompt") as [[string, Embedding]];

/** A frozen decoder reading n trainable soft-prompt embeddings before its input. */
export class PromptTuning<M extends CachedLM = CachedLM> extends Module {
  base: M;
  readonly n: number;
  /** the id of the first virtual token (the base vocabulary size) */
  readonly firstVirtual: number;
  readonly config: { readonly blockSize: number; readonly nLayer: number };

  constructor(base: M, opts: PromptOptions = {}) {
    super();
    const n = virtualTokens(base, opts.numVirtualTokens, "prompt");
    const [[path, emb]] = promptTarget(base, opts);
    this.base = base;
    this.n = n;
    this.firstVirtual = emb.numEmbeddings;
    this.config = Object.freeze({ blockSize: base.config.blockSize - n, nLayer: base.config.nLayer });
    replaceModule(base, path, new PromptEmbedding(emb, n, opts.generator ?? defaultGenerator));
  }

  /** The virtual token ids V…V+n−1 for B rows: (B, n) int32. */
  virtualIds(B: number): Tensor {
    return arange(this.firstVirtual, this.firstVirtual + this.n)
      .unsqueeze(0)
      .expand(B, this.n); // (B, n)
  }

  /** The trunk over idx (B, T) read after the soft prompt: (B, T, C), the prompt's positions cut off. */
  hidden(idx: Tensor, cache?: KVCache): Tensor {
    if (idx.ndim !== 2) throw new ShapeError(`prompt: idx must be (B, T) token ids, got shape ${fmt(idx.shape)}`);
    const [B, T] = idx.shape as [number, number];
    if (this.n === 0) return this.base.hidden(idx, cache);
    if (cache) {
      // generation: feed the virtual tokens once into the empty cache, then the real ones after them
      if (cache.length === 0) this.base.hidden(this.virtualIds(B), cache);
      return this.base.hidden(idx, cache); // (B, T, C)
    }
    const h = this.base.hidden(cat([this.virtualIds(B), idx], 1)); // [P_e; X_e] → (B, n+T, C)
    return h.narrow(1, this.n, T); // (B, T, C)
  }

  get lmHead(): { forward(h: Tensor): Tensor } {
    return this.base.lmHead;
  }

  /** logits (B, T, V) for the real tokens and, with targets (B, T), their mean next-token cross-entropy. */
  forward(idx: Tensor, targets?: Tensor | null): LMOutput {
    const logits = this.base.lmHead.forward(this.hidden(idx)); // (B, T, V)
    if (!targets) return { logits, loss: null };
    const [B, T, V] = logits.shape as [number, number, number];
    if (targets.shape.length !== 2 || targets.shape[0] !== B || targets.shape[1] !== T)
      throw new ShapeError(`prompt: targets ${fmt(targets.shape)} must have the shape of idx ${fmt(idx.shape)}`);
    return { logits, loss: F.crossEntropy(logits.view(B * T, V), targets.view(B * T)) };
  }

  generate(idx: Tensor, maxNewTokens: number, opts: GenerateOptions = {}): Tensor {
    return generateWithCache(this, idx, maxNewTokens, opts, () => new KVCache(this.base.config.nLayer));
  }
}

/** Freeze `model` and put a trainable soft prompt of n embeddings in front of its input. */
export function applyPromptTuning<M extends CachedLM>(model: M, opts: PromptOptions = {}): Finetuned<PromptTuning<M>> {
  attentionGeometry(model, "prompt"); // check before anything changes
  virtualTokens(model, opts.numVirtualTokens, "prompt");
  promptTarget(model, opts);
  freeze(model); // first: the soft prompt the wrapper adds must stay trainable
  const wrapped = new PromptTuning(model, opts);
  return { model: wrapped, method: "prompt", trainable: trainableParameters(wrapped) };
}
