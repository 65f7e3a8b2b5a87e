// Load a GGUF file (llama.cpp's or ours) into our LLaMA, GPT-2, BLOOM or Falcon, with its tokenizer metadata. With
// `quantized` (the default) every matrix stays in its GGML blocks inside a QuantLinear, and the
// products are computed on the blocks (src/io/ggml/qmatmul.ts); the embeddings and norms are float32.

import { ArgumentError } from "../engine/errors.js";
import type { Tensor } from "../engine/tensor.js";
import type { Module } from "../nn/module.js";
import { fromGguf, type GgufModelConfig, type GgufTokenizer } from "../io/ggml/convert.js";
import { QuantLinear } from "../io/ggml/qlinear.js";
import type { GgmlType } from "../io/ggml/quants.js";
import { Bloom, bloomConfig } from "./bloom/model.js";
import { Falcon, falconConfig } from "./falcon/model.js";
import { GPT, gptConfig } from "./gpt2/model.js";
import { Llama, llamaConfig } from "./llama/model.js";

export interface LoadedGguf {
  model: Llama | GPT | Bloom | Falcon;
  config: GgufModelConfig;
  tokenizer: GgufTokenizer;
  /** the ggml type of each matrix, by our name */
  types: Record<string, GgmlType>;
  /** bytes the weights take in memory (blocks as stored; float32 for what was expanded) */
  weightBytes: number;
}

/** A llama, gpt2, bloom or falcon GGUF file → our model. `quantized: false` expands every matrix to float32. */
export function loadGguf(bytes: Uint8Array, opts: { quantized?: boolean } = {}): LoadedGguf {
  const quantized = opts.quantized ?? true;
  const g = fromGguf(bytes, { dequantize: !quantized });
  const c = g.config;
  let model: Llama | GPT | Bloom | Falcon;
  const layerNormEps = (): void => {
    // our LayerNorms use ε = 1e-5, as BLOOM's and Falcon's checkpoints do
    if (Math.abs(c.normEps - 1e-5) > 1e-12)
      throw new ArgumentError(`loadGguf: ${c.arch} with layer_norm_epsilon ${c.normEps}; our LayerNorms use 1e-5`);
  };
  if (c.arch === "bloom" || c.arch === "falcon") {
    layerNormEps();
    if (c.intermediateSize !== 4 * c.nEmbd)
      throw new ArgumentError(`loadGguf: ${c.arch} with feed_forward_length ${c.intermediateSize} ≠ 4·${c.nEmbd}`);
    const bias = g.raw["blocks.0.attn.wq.bias"] !== undefined;
    if (c.arch === "bloom") {
      if ((c.nKvHeads ?? c.nHead) !== c.nHead)
        throw new ArgumentError(`loadGguf: bloom with ${c.nKvHeads} key/value heads for ${c.nHead} query heads`);
      model = new Bloom(
        bloomConfig({
          vocabSize: c.vocabSize,
          blockSize: c.blockSize,
          nLayer: c.nLayer,
          nHead: c.nHead,
          nEmbd: c.nEmbd,
          dropout: 0,
          bias,
        }),
      );
    } else {
      if ((c.nKvHeads ?? 1) !== 1)
        throw new ArgumentError(`loadGguf: falcon with ${c.nKvHeads} key/value heads; ours is the 7B kind, with one`);
      model = new Falcon(
        falconConfig({
          vocabSize: c.vocabSize,
          blockSize: c.blockSize,
          nLayer: c.nLayer,
          nHead: c.nHead,
          nEmbd: c.nEmbd,
          dropout: 0,
          bias,
          ropeTheta: c.ropeTheta ?? 10000,
        }),
      );
    }
  } else if (c.arch === "llama") {
    model = new Llama(
      llamaConfig({
        vocabSize: c.vocabSize,
        blockSize: c.blockSize,
        nLayer: c.nLayer,
        nHead: c.nHead,
        nKvHeads: c.nKvHeads ?? c.nHead,
        nEmbd: c.nEmbd,
        intermediateSize: c.intermediateSize,
        multipleOf: 1,
        normEps: c.normEps,
        ropeTheta: c.ropeTheta ?? 10000,
        dropout: 0,
      }),
    );
  } else {
    if (c.intermediateSize !== 4 * c.nEmbd)
      throw new ArgumentError(
        `loadGguf: gpt2 with feed_forward_length ${c.intermediateSize} ≠ 4·${c.nEmbd} is not GPT-2`,
      );
    model = new GPT(
      gptConfig({
        vocabSize: c.vocabSize,
        blockSize: c.blockSize,
        nLayer: c.nLayer,
        nHead: c.nHead,
        nEmbd: c.nEmbd,
        dropout: 0,
        bias: true,
      }),
    );
  }
  const state: Record<string, Tensor> = { ...g.state };
  const types: Record<string, GgmlType> = {};
  let weightBytes = 0;
  if (quantized) {
    const modules = new Map<string, Module>(model.namedModules());
    for (const [name, r] of Object.entries(g.raw)) {
      if (!name.endsWith(".weight") || r.shape.length !== 2 || /Emb\./.test(name)) continue;
      // a head tied to the embedding (GPT-2, BLOOM, Falcon) reads the file's output (or token_embd) blocks, as
      // llama.cpp does; in F32 it stays the float32 TiedHead
      if (name === "lmHead.weight" && c.arch !== "llama" && r.type === "F32") continue;
      const path = name.slice(0, -".weight".length);
      const dot = path.lastIndexOf(".");
      const parentPath = dot < 0 ? "" : path.slice(0, dot);
      const parent = modules.get(parentPath);
      if (!parent) throw new ArgumentError(`loadGguf: no module ${parentPath} for ${name}`);
      const biasName = `${path}.bias`;
      const bias = state[biasName] ?? null;
      delete state[biasName];
      (parent as unknown as Record<string, Module>)[path.slice(dot + 1)] = new QuantLinear(
        r.shape[1]!,
        r.shape[0]!,
        r.type,
        r.bytes,
        bias,
      );
      types[name] = r.type;
      weightBytes += r.bytes.length;
    }
  } else {
    for (const [name, r] of Object.entries(g.raw)) if (r.shape.length === 2) types[name] = r.type;
  }
  model.loadStateDict(state);
  model.eval();
  for (const t of Object.values(state)) weightBytes += 4 * t.numel();
  return { model, config: c, tokenizer: g.tokenizer, types, weightBytes };
}
