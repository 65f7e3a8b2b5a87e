// Our LLaMA and GPT-2 weights ↔ GGUF files as llama.cpp names and reads them: the architecture
// strings, the hyper-parameter keys, the tensor names, the tokenizer metadata, and LLaMA's q/k row
// permutation (llama.cpp rotates interleaved pairs (2i, 2i+1), the HF layout we use pairs (i, i+hs/2)).
//
// | ours                        | llama.cpp (llama)        | llama.cpp (gpt2)          | (bloom)              | (falcon)                 |
// |-----------------------------|--------------------------|---------------------------|----------------------|--------------------------|
// | tokEmb.weight               | token_embd.weight        | token_embd.weight         | token_embd           | token_embd               |
// | posEmb.weight               |                          | position_embd.weight      |                      |                          |
// | normEmb.{w,b}               |                          |                           | token_embd_norm      |                          |
// | blocks.{i}.norm1.{w,b}      | blk.{i}.attn_norm.weight | blk.{i}.attn_norm.{w,b}   | blk.{i}.attn_norm    | blk.{i}.attn_norm        |
// | blocks.{i}.attn.wq/wk/wv    | blk.{i}.attn_q/k/v       | blk.{i}.attn_qkv (q;k;v)  | attn_qkv (q;k;v)     | attn_qkv (q: C; k, v: hs)|
// | blocks.{i}.attn.wo          | blk.{i}.attn_output      | blk.{i}.attn_output       | attn_output          | attn_output              |
// | blocks.{i}.norm2            | blk.{i}.ffn_norm         | blk.{i}.ffn_norm          | ffn_norm             | (none: a parallel block) |
// | blocks.{i}.mlp.gate/up/down | blk.{i}.ffn_gate/up/down | blk.{i}.ffn_up/down       | ffn_up/down          | ffn_up/down              |
// | normF                       | output_norm              | output_norm               | output_norm          | output_norm              |
// | lmHead.weight               | output.weight            | (tied: token_embd)        | output (= token_embd)| output (= token_embd)    |
//
// BLOOM's checkpoint interleaves q, k, v per head ((nh, 3, hs) rows); llama.cpp's converter regroups them as
// q; k; v, which is how our separate wq, wk, wv stack. Falcon's (7B style, one key/value head) is already
// q (nh heads); k; v. Both tie the head to the embedding, and llama.cpp's converters store it twice (output
// and token_embd), so we do too; reading, the head takes output's blocks. Falcon's rotary embedding is the
// rotate-half kind (llama.cpp's NEOX rope), as ours: no row permutation.
//
// A weight (out, in) is stored with ne = [in, out]: the same bytes. One-dimensional tensors (norms,
// biases) stay F32, as llama.cpp's converter keeps them; a matrix whose rows are not whole blocks of
// the chosen type falls back to Q8_0 (rows of 32) or F16.

import type { Tensor } from "../../engine/tensor.js";
import { tensor } from "../../engine/creation.js";
import { ArgumentError } from "../../engine/errors.js";
import {
  GgufError,
  metaArray,
  metaNumber,
  metaString,
  parseGguf,
  serializeGguf,
  tensorBytes,
  type Gguf,
  type GgufEntry,
  type GgufTensorData,
} from "./gguf.js";
import { GGML_TYPES, dequantize, quantize, rowBytes, type GgmlType } from "./quants.js";

/** The hyper-parameters GGUF needs, in our config's names (LLaMA's; GPT-2 leaves the LLaMA-only ones out). */
export interface GgufModelConfig {
  arch: "llama" | "gpt2" | "bloom" | "falcon";
  vocabSize: number;
  blockSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  /** llama: the SwiGLU hidden size I; gpt2: 4·C */
  intermediateSize: number;
  normEps: number;
  /** llama (grouped-query) and falcon (1: multi-query) */
  nKvHeads?: number;
  /** llama and falcon */
  ropeTheta?: number;
}

/** The tokenizer metadata llama.cpp reads (tokenizer.ggml.*). */
export interface GgufTokenizer {
  /** "gpt2": byte-level BPE; "llama": SentencePiece-style */
  model: "gpt2" | "llama";
  /** the pre-tokenizer llama.cpp applies for "gpt2" ("default", "gpt-2", ...) */
  pre?: string;
  tokens: string[];
  scores?: number[];
  /** 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte */
  tokenTypes?: number[];
  /** "a b" strings, the BPE merges in rank order */
  merges?: string[];
  bosId?: number;
  eosId?: number;
  unkId?: number;
  padId?: number;
  addBos?: boolean;
}

/** The GGUF `general.file_type` of a file whose matrices are mostly `type` (llama.cpp's llama_ftype). */
const FILE_TYPE: Record<GgmlType, number> = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q8_0: 7,
  Q5_0: 8,
  Q5_1: 9,
  Q2_K: 10,
  Q3_K: 12,
  Q4_K: 15,
  Q5_K: 17,
  Q6_K: 18,
  BF16: 32,
};

/** The type a matrix with rows of `cols` gets when `type` was asked for. */
export function matrixType(type: GgmlType, cols: number): GgmlType {
  if (cols % GGML_TYPES[type].blockSize === 0) return type;
  return cols % 32 === 0 ? "Q8_0" : "F16";
}

const u32 = (value: number): GgufEntry => ({ type: "u32", value });
const f32 = (value: number): GgufEntry => ({ type: "f32", value: Math.fround(value) });
const str = (value: string): GgufEntry => ({ type: "string", value });

/**
 * LLaMA's wq/wk rows from the half-split layout (HF, ours) to llama.cpp's interleaved one, per head:
 * row s·hs/2 + i → row 2i + s (llama.cpp's convert_hf_to_gguf `permute`); `inverse` undoes it.
 */
export function permuteRotary(
  w: Float32Array,
  rows: number,
  cols: number,
  heads: number,
  inverse = false,
): Float32Array {
  const hs = rows / heads,
    half = hs / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < heads; h++) {
    for (let s = 0; s < 2; s++) {
      for (let i = 0; i < half; i++) {
        const split = h * hs + s * half + i,
          interleaved = h * hs + 2 * i + s;
        const [from, to] = inverse ? [interleaved, split] : [split, interleaved];
        out.set(w.subarray(from * cols, (from + 1) * cols), to * cols);
      }
    }
  }
  return out;
}

/** Our state dict (LLaMA or GPT-2 names) → a GGUF file llama.cpp loads, matrices in `type`. */
export function toGguf(
  state: Record<string, Tensor>,
  c: GgufModelConfig,
  type: GgmlType,
  tok: GgufTokenizer,
  opts: {
    name?: string;
    onTensor?: (done: number, total: number, name: string) => void;
    /** the output matrix's type (the tied head's: token_embd), as llama-quantize's --output-tensor-type */
    outputType?: GgmlType;
  } = {},
): Uint8Array {
  if (tok.tokens.length !== c.vocabSize)
    throw new ArgumentError(`toGguf: the tokenizer has ${tok.tokens.length} tokens, the model ${c.vocabSize}`);
  const a = c.arch;
  const meta: [string, GgufEntry][] = [
    ["general.architecture", str(a)],
    ["general.name", str(opts.name ?? `writtingnns ${a}`)],
    ["general.file_type", u32(FILE_TYPE[type])],
    [`${a}.context_length`, u32(c.blockSize)],
    [`${a}.embedding_length`, u32(c.nEmbd)],
    [`${a}.block_count`, u32(c.nLayer)],
    [`${a}.feed_forward_length`, u32(c.intermediateSize)],
    [`${a}.attention.head_count`, u32(c.nHead)],
  ];
  if (a === "llama") {
    meta.push(
      ["llama.attention.head_count_kv", u32(c.nKvHeads ?? c.nHead)],
      ["llama.rope.dimension_count", u32(c.nEmbd / c.nHead)],
      ["llama.rope.freq_base", f32(c.ropeTheta ?? 10000)],
      ["llama.attention.layer_norm_rms_epsilon", f32(c.normEps)],
    );
  } else {
    if (a !== "gpt2") meta.push([`${a}.attention.head_count_kv`, u32(c.nKvHeads ?? c.nHead)]);
    if (a === "falcon") meta.push(["falcon.rope.freq_base", f32(c.ropeTheta ?? 10000)]);
    meta.push([`${a}.attention.layer_norm_epsilon`, f32(c.normEps)]);
  }
  meta.push(["tokenizer.ggml.model", str(tok.model)]);
  if (tok.pre !== undefined) meta.push(["tokenizer.ggml.pre", str(tok.pre)]);
  meta.push(["tokenizer.ggml.tokens", { type: "array", value: { itemType: "string", items: tok.tokens } }]);
  if (tok.scores)
    meta.push([
      "tokenizer.ggml.scores",
      { type: "array", value: { itemType: "f32", items: tok.scores.map(Math.fround) } },
    ]);
  meta.push([
    "tokenizer.ggml.token_type",
    { type: "array", value: { itemType: "i32", items: tok.tokenTypes ?? tok.tokens.map(() => 1) } },
  ]);
  if (tok.merges)
    meta.push(["tokenizer.ggml.merges", { type: "array", value: { itemType: "string", items: tok.merges } }]);
  for (const [k, v] of [
    ["bos", tok.bosId],
    ["eos", tok.eosId],
    ["unknown", tok.unkId],
    ["padding", tok.padId],
  ] as const) {
    if (v !== undefined) meta.push([`tokenizer.ggml.${k}_token_id`, u32(v)]);
  }
  if (tok.addBos !== undefined) meta.push(["tokenizer.ggml.add_bos_token", { type: "bool", value: tok.addBos }]);

  const plan = tensorPlan(c);
  const tensors: GgufTensorData[] = [];
  let done = 0;
  for (const p of plan) {
    if (p.tiedHead && !p.write) continue;
    const parts = p.ours.map((n) => {
      const t = state[n];
      if (!t) throw new ArgumentError(`toGguf: the state dict has no ${n}`);
      return t;
    });
    const shape = [...parts[0]!.shape];
    let data: Float32Array = new Float32Array(parts.reduce((s, t) => s + t.numel(), 0));
    let o = 0;
    for (const t of parts) {
      data.set(Float32Array.from(t.dataSync() as ArrayLike<number>), o);
      o += t.numel();
    }
    if (parts.length > 1) shape[0] = parts.reduce((s, t) => s + t.shape[0]!, 0); // q; k; v stacked along the output rows
    if (p.rotaryHeads) data = permuteRotary(data, shape[0]!, shape[1]!, p.rotaryHeads);
    const ne = [...shape].reverse();
    const isOutput =
      p.gguf === "output.weight" || (p.gguf === "token_embd.weight" && plan.some((e) => e.tiedHead && !e.write));
    const t = shape.length === 1 ? "F32" : matrixType(isOutput ? (opts.outputType ?? type) : type, ne[0]!);
    tensors.push({ name: p.gguf, type: t, ne, data: quantize(t, data) });
    opts.onTensor?.(++done, plan.filter((e) => !e.tiedHead || e.write).length, p.gguf);
  }
  return serializeGguf(meta, tensors);
}

/**
 * One GGUF tensor: the tensors of ours it stacks (along the rows), LLaMA's rotary permutation, the row counts
 * of unequal parts (Falcon's q; k; v), and for a head tied to the embedding: whether the file holds it.
 */
interface PlanEntry {
  ours: string[];
  gguf: string;
  rotaryHeads?: number;
  partRows?: number[];
  tiedHead?: boolean;
  write?: boolean;
}

function tensorPlan(c: GgufModelConfig): PlanEntry[] {
  const out: PlanEntry[] = [{ ours: ["tokEmb.weight"], gguf: "token_embd.weight" }];
  if (c.arch === "gpt2") out.push({ ours: ["posEmb.weight"], gguf: "position_embd.weight" });
  if (c.arch === "bloom")
    out.push(
      { ours: ["normEmb.weight"], gguf: "token_embd_norm.weight" },
      { ours: ["normEmb.bias"], gguf: "token_embd_norm.bias" },
    );
  const hs = c.nEmbd / c.nHead;
  for (let i = 0; i < c.nLayer; i++) {
    const b = `blocks.${i}.`,
      g = `blk.${i}.`;
    if (c.arch === "llama") {
      out.push(
        { ours: [`${b}norm1.weight`], gguf: `${g}attn_norm.weight` },
        { ours: [`${b}attn.wq.weight`], gguf: `${g}attn_q.weight`, rotaryHeads: c.nHead },
        { ours: [`${b}attn.wk.weight`], gguf: `${g}attn_k.weight`, rotaryHeads: c.nKvHeads ?? c.nHead },
        { ours: [`${b}attn.wv.weight`], gguf: `${g}attn_v.weight` },
        { ours: [`${b}attn.wo.weight`], gguf: `${g}attn_output.weight` },
        { ours: [`${b}norm2.weight`], gguf: `${g}ffn_norm.weight` },
        { ours: [`${b}mlp.gate.weight`], gguf: `${g}ffn_gate.weight` },
        { ours: [`${b}mlp.up.weight`], gguf: `${g}ffn_up.weight` },
        { ours: [`${b}mlp.down.weight`], gguf: `${g}ffn_down.weight` },
      );
    } else if (c.arch === "falcon") {
      // DIFF(gpt2): one norm before the parallel attention and MLP, no biases in the Linears
      const kv = (c.nKvHeads ?? 1) * hs;
      out.push(
        { ours: [`${b}norm1.weight`], gguf: `${g}attn_norm.weight` },
        { ours: [`${b}norm1.bias`], gguf: `${g}attn_norm.bias` },
        {
          ours: [`${b}attn.wq.weight`, `${b}attn.wk.weight`, `${b}attn.wv.weight`],
          gguf: `${g}attn_qkv.weight`,
          partRows: [c.nEmbd, kv, kv],
        },
        { ours: [`${b}attn.wo.weight`], gguf: `${g}attn_output.weight` },
        { ours: [`${b}mlp.up.weight`], gguf: `${g}ffn_up.weight` },
        { ours: [`${b}mlp.down.weight`], gguf: `${g}ffn_down.weight` },
      );
    } else {
      // gpt2 and bloom: the same block, every norm and Linear with a bias
      for (const s of ["weight", "bias"]) {
        out.push(
          { ours: [`${b}norm1.${s}`], gguf: `${g}attn_norm.${s}` },
          { ours: [`${b}attn.wq.${s}`, `${b}attn.wk.${s}`, `${b}attn.wv.${s}`], gguf: `${g}attn_qkv.${s}` },
          { ours: [`${b}attn.wo.${s}`], gguf: `${g}attn_output.${s}` },
          { ours: [`${b}norm2.${s}`], gguf: `${g}ffn_norm.${s}` },
          { ours: [`${b}mlp.up.${s}`], gguf: `${g}ffn_up.${s}` },
          { ours: [`${b}mlp.down.${s}`], gguf: `${g}ffn_down.${s}` },
        );
      }
    }
  }
  out.push({ ours: ["normF.weight"], gguf: "output_norm.weight" });
  if (c.arch === "llama") out.push({ ours: ["lmHead.weight"], gguf: "output.weight" });
  else {
    out.push({ ours: ["normF.bias"], gguf: "output_norm.bias" });
    // the head tied to the embedding: read as lmHead (its blocks), written from tokEmb where llama.cpp's converter writes it
    out.push({ ours: ["tokEmb.weight"], gguf: "output.weight", tiedHead: true, write: c.arch !== "gpt2" });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Reading back

export interface GgufModel {
  config: GgufModelConfig;
  tokenizer: GgufTokenizer;
  /** every tensor under our names, in float32 (PyTorch shapes); matrices only when `dequantize` was asked */
  state: Record<string, Tensor>;
  /** every tensor under our names as the file stores it (rows in our order): type, (rows, cols) and bytes */
  raw: Record<string, { type: GgmlType; shape: number[]; bytes: Uint8Array }>;
  gguf: Gguf;
}

/** Rows of a stored matrix permuted like permuteRotary, moving whole rows of bytes (blocks never span rows). */
function permuteRows(bytes: Uint8Array, rows: number, rowLength: number, heads: number): Uint8Array {
  const hs = rows / heads,
    half = hs / 2;
  const out = new Uint8Array(bytes.length);
  for (let h = 0; h < heads; h++) {
    for (let s = 0; s < 2; s++) {
      for (let i = 0; i < half; i++) {
        const split = h * hs + s * half + i,
          interleaved = h * hs + 2 * i + s; // file row `interleaved` → our row `split`
        out.set(bytes.subarray(interleaved * rowLength, (interleaved + 1) * rowLength), split * rowLength);
      }
    }
  }
  return out;
}

/**
 * A GGUF file of a llama, gpt2, bloom or falcon model (ours or llama.cpp's converter's) → our names. One-dimensional
 * tensors and the token/position embeddings are always dequantized into `state`; the matrices are
 * dequantized too unless `dequantize` is false (then they are only in `raw`, still in blocks).
 */
export function fromGguf(bytes: Uint8Array, opts: { dequantize?: boolean } = {}): GgufModel {
  const g = parseGguf(bytes);
  const arch = metaString(g, "general.architecture");
  if (arch !== "llama" && arch !== "gpt2" && arch !== "bloom" && arch !== "falcon") {
    throw new GgufError(`gguf: architecture ${JSON.stringify(arch)} is not one we load (llama, gpt2, bloom, falcon)`);
  }
  const need = (key: string): number => {
    const v = metaNumber(g, key);
    if (v === undefined) throw new GgufError(`gguf: ${key} is missing`);
    return v;
  };
  const tokens = metaArray(g, "tokenizer.ggml.tokens");
  if (!tokens || tokens.itemType !== "string")
    throw new GgufError("gguf: tokenizer.ggml.tokens is missing or not an array of strings");
  const c: GgufModelConfig = {
    arch,
    vocabSize: tokens.items.length,
    blockSize: need(`${arch}.context_length`),
    nLayer: need(`${arch}.block_count`),
    nHead: need(`${arch}.attention.head_count`),
    nEmbd: need(`${arch}.embedding_length`),
    intermediateSize: need(`${arch}.feed_forward_length`),
    normEps:
      arch === "llama" ? need("llama.attention.layer_norm_rms_epsilon") : need(`${arch}.attention.layer_norm_epsilon`),
  };
  if (arch !== "gpt2")
    c.nKvHeads = metaNumber(g, `${arch}.attention.head_count_kv`) ?? (arch === "falcon" ? 1 : c.nHead);
  if (arch === "llama" || arch === "falcon") c.ropeTheta = metaNumber(g, `${arch}.rope.freq_base`) ?? 10000;
  if (c.nHead < 1 || c.nEmbd % c.nHead !== 0)
    throw new GgufError(`gguf: embedding_length ${c.nEmbd} is not a multiple of head_count ${c.nHead}`);
  const tokModel = metaString(g, "tokenizer.ggml.model");
  const numbers = (key: string): number[] | undefined => metaArray(g, key)?.items.map(Number);
  const tokenizer: GgufTokenizer = {
    model: tokModel === "llama" ? "llama" : "gpt2",
    tokens: tokens.items as string[],
    scores: numbers("tokenizer.ggml.scores"),
    tokenTypes: numbers("tokenizer.ggml.token_type"),
    merges: metaArray(g, "tokenizer.ggml.merges")?.items as string[] | undefined,
    bosId: metaNumber(g, "tokenizer.ggml.bos_token_id"),
    eosId: metaNumber(g, "tokenizer.ggml.eos_token_id"),
    unkId: metaNumber(g, "tokenizer.ggml.unknown_token_id"),
    padId: metaNumber(g, "tokenizer.ggml.padding_token_id"),
  };
  const pre = metaString(g, "tokenizer.ggml.pre");
  if (pre !== undefined) tokenizer.pre = pre;
  const addBos = g.metadata.get("tokenizer.ggml.add_bos_token");
  if (addBos?.type === "bool") tokenizer.addBos = addBos.value as boolean;
  const byName = new Map(g.tensors.map((t) => [t.name, t]));
  const state: Record<string, Tensor> = {};
  const raw: GgufModel["raw"] = {};
  for (const p of tensorPlan(c)) {
    let info = byName.get(p.gguf);
    if (!info && p.tiedHead) info = byName.get("token_embd.weight"); // tied in the file
    if (!info) throw new GgufError(`gguf: tensor ${p.gguf} is missing`);
    const shape = [...info.ne].reverse(); // PyTorch order
    if (shape.length > 2)
      throw new GgufError(`gguf: tensor ${p.gguf} has ${shape.length} dimensions, a model's have at most 2`);
    const cols = shape.length === 2 ? shape[1]! : 1;
    const totalRows = shape[0]!;
    // a row is a row of a matrix, or one element of a vector (vectors are F32, F16 or BF16: blocks of one)
    const rb =
      shape.length === 2
        ? rowBytes(info.type, cols)
        : GGML_TYPES[info.type].blockSize === 1
          ? GGML_TYPES[info.type].typeSize
          : 0;
    if (rb === 0) throw new GgufError(`gguf: vector ${p.gguf} is stored as ${info.type}; vectors are F32, F16 or BF16`);
    const parts = p.partRows ?? p.ours.map(() => totalRows / p.ours.length);
    if (parts.some((r) => !Number.isInteger(r)) || parts.reduce((s, r) => s + r, 0) !== totalRows) {
      throw new GgufError(
        `gguf: tensor ${p.gguf} (${shape.join(", ")}) does not split into parts of ${parts.join(", ")} rows`,
      );
    }
    let stored = tensorBytes(bytes, info);
    if (p.rotaryHeads) stored = permuteRows(stored, totalRows, rb, p.rotaryHeads);
    const names = p.tiedHead ? ["lmHead.weight"] : p.ours;
    let row = 0;
    names.forEach((name, k) => {
      const rows = parts[k]!;
      const partShape = shape.length === 1 ? [rows] : [rows, cols];
      const partBytes = stored.subarray(row * rb, (row + rows) * rb);
      row += rows;
      raw[name] = { type: info!.type, shape: partShape, bytes: partBytes };
      if (p.tiedHead) return; // our tied head has no tensor of its own: only its blocks are kept
      const isMatrix = shape.length === 2 && !/Emb\./.test(name);
      if ((opts.dequantize ?? true) ? true : !isMatrix) {
        const n = partShape.reduce((s, d) => s * d, 1);
        state[name] = tensor(dequantize(info!.type, partBytes, n), { shape: partShape });
      }
    });
  }
  return { config: c, tokenizer, state, raw, gguf: g };
}
