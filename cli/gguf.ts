// `wnn quantize --model DIR --type T --out FILE.gguf`: a Hugging Face folder (gpt2, llama, bloom or falcon) → a GGUF
// file llama.cpp runs. `wnn sample --model FILE.gguf`: text from a GGUF file (ours or llama.cpp's),
// its matrices kept in their GGML blocks.

import { BPETokenizer, mergesFromJSON } from "../src/data/bpe.js";
import { SpmTokenizer, fromByteFallbackBPE } from "../src/data/spm-vocab.js";
import { noGrad } from "../src/engine/autograd.js";
import { tensor } from "../src/engine/creation.js";
import { LoadError } from "../src/engine/errors.js";
import { Generator } from "../src/engine/rng.js";
import type { Tensor } from "../src/engine/tensor.js";
import { toGguf, type GgufModelConfig, type GgufTokenizer } from "../src/io/ggml/convert.js";
import { GGML_TYPE_NAMES, type GgmlType } from "../src/io/ggml/quants.js";
import { readHFFolder } from "../src/io/hf-folder.js";
import { writeFileAtomic } from "../src/io/node.js";
import { readCheckedFile } from "../src/io/checked-file-node.js";
import { checkOutputFile } from "./rundir.js";
import { loadGguf } from "../src/models/gguf.js";
import { generate as bloomGenerate, type Bloom } from "../src/models/bloom/model.js";
import { generate as falconGenerate, type Falcon } from "../src/models/falcon/model.js";
import { generate as gptGenerate, type GPT } from "../src/models/gpt2/model.js";
import { fromPretrained } from "../src/models/hf.js";
import { intermediateSize, generate as llamaGenerate, type Llama } from "../src/models/llama/model.js";
import { UsageError, helpText, parseOptions, type OptionSpecs } from "./args.js";
import type { Output } from "./progress.js";
import type { SampleSettings } from "./sample.js";

const TYPES = ["q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "f16", "bf16", "f32"];

export const QUANTIZE_OPTIONS = {
  model: {
    kind: "string",
    metavar: "DIR",
    help: "a Hugging Face checkpoint folder (gpt2, llama, bloom or falcon) with its tokenizer.json",
  },
  type: { kind: "string", metavar: "TYPE", default: "q8_0", help: `the type of the matrices: ${TYPES.join(", ")}` },
  output_type: {
    kind: "string",
    metavar: "TYPE",
    help: "the output matrix's type (a tied head's: token_embd), as llama-quantize's --output-tensor-type (default: --type)",
  },
  out: {
    kind: "string",
    metavar: "FILE",
    help: "the GGUF file to write (atomically: a temporary file, fsynced, then renamed)",
  },
} as const satisfies OptionSpecs;

export const QUANTIZE_HELP = helpText(
  "wnn quantize --model DIR --type TYPE --out FILE.gguf",
  "Write a Hugging Face folder's model as a GGUF file llama.cpp runs: llama.cpp's architecture, keys and\ntensor names, the tokenizer's vocabulary and merges, LLaMA's q/k rows permuted for llama.cpp's RoPE;\nthe matrices quantized with ggml's reference quantizer (norms and biases stay F32).",
  QUANTIZE_OPTIONS,
  "example: wnn quantize --model gpt2/ --type q4_0 --out gpt2-q4_0.gguf",
);

/**
 * tokenizer.json → llama.cpp's vocabulary: a byte-level BPE (GPT-2's kind) as "gpt2" (tokens by id, merges,
 * special tokens); a BPE with byte fallback (LLaMA's kind) as "llama", SentencePiece-style (tokens, scores
 * from the merge ranks, token types, special ids: src/data/spm-vocab.ts).
 */
export function ggufTokenizerFromJSON(
  json: Record<string, unknown>,
  config: Record<string, unknown>,
  vocabSize: number,
): GgufTokenizer {
  const model = json.model as
    | {
        type?: string;
        vocab?: Record<string, number>;
        merges?: unknown[];
        byte_fallback?: boolean;
        unk_token?: string | null;
      }
    | undefined;
  if (!model || model.type !== "BPE" || typeof model.vocab !== "object" || !Array.isArray(model.merges)) {
    throw new LoadError(
      "quantize: only BPE tokenizers (GPT-2's byte-level kind, LLaMA's with byte fallback) are written to GGUF; this tokenizer.json is neither",
    );
  }
  const tokens: string[] = new Array<string>(vocabSize);
  const types: number[] = new Array<number>(vocabSize).fill(1);
  for (const [t, id] of Object.entries(model.vocab)) if (id >= 0 && id < vocabSize) tokens[id] = t;
  for (const a of (json.added_tokens as { id: number; content: string; special?: boolean }[] | undefined) ?? []) {
    if (a.id >= 0 && a.id < vocabSize) {
      tokens[a.id] = a.content;
      types[a.id] = a.special ? 3 : 4;
    }
  }
  for (let i = 0; i < vocabSize; i++)
    if (tokens[i] === undefined) {
      tokens[i] = `[PAD${i}]`;
      types[i] = 5;
    } // ids the model has and the tokenizer lacks
  const id = (k: string): number | undefined => (typeof config[k] === "number" ? (config[k] as number) : undefined);
  if (model.byte_fallback) {
    const special = new Set(types.flatMap((t, i) => (t === 3 ? [i] : [])));
    const unkId = typeof model.unk_token === "string" ? model.vocab[model.unk_token] : undefined;
    const { scores, tokenTypes } = fromByteFallbackBPE(tokens, mergesFromJSON(model.merges), special, unkId);
    for (let i = 0; i < vocabSize; i++) if (types[i] === 4 || types[i] === 5) tokenTypes[i] = types[i]!; // user-defined, padding
    // BOS in front where the post-processor's single-sequence template starts with a special token
    const single = (json.post_processor as { single?: { SpecialToken?: unknown }[] } | null | undefined)?.single;
    return {
      model: "llama",
      pre: "default",
      tokens,
      scores,
      tokenTypes,
      bosId: id("bos_token_id"),
      eosId: id("eos_token_id"),
      unkId,
      padId: id("pad_token_id"),
      addBos: Array.isArray(single) && single[0]?.SpecialToken !== undefined,
    };
  }
  return {
    model: "gpt2",
    pre: "gpt-2",
    tokens,
    tokenTypes: types,
    merges: mergesFromJSON(model.merges).map(([a, b]) => `${a} ${b}`),
    bosId: id("bos_token_id"),
    eosId: id("eos_token_id"),
    padId: id("pad_token_id"),
  };
}

export function quantizeCommand(args: readonly string[], out: Output, err: Output): number {
  const { values: v, help } = parseOptions("quantize", args, QUANTIZE_OPTIONS);
  if (help) {
    out.write(QUANTIZE_HELP);
    return 0;
  }
  if (v.model === undefined) throw new UsageError("quantize: which model? give --model DIR (a Hugging Face folder)");
  if (v.out === undefined) throw new UsageError("quantize: give --out FILE.gguf");
  checkOutputFile(v.out, "quantize"); // a file it did not write is never replaced
  const type = GGML_TYPE_NAMES.find((t) => t.toLowerCase() === v.type.toLowerCase()) as GgmlType | undefined;
  if (type === undefined || !TYPES.includes(v.type.toLowerCase()))
    throw new UsageError(`quantize: unknown --type ${v.type} (${TYPES.join(", ")})`);
  const outputType =
    v.output_type === undefined
      ? undefined
      : (GGML_TYPE_NAMES.find((t) => t.toLowerCase() === v.output_type!.toLowerCase()) as GgmlType | undefined);
  if (v.output_type !== undefined && (outputType === undefined || !TYPES.includes(v.output_type.toLowerCase())))
    throw new UsageError(`quantize: unknown --output_type ${v.output_type} (${TYPES.join(", ")})`);
  const folder = readHFFolder(v.model);
  if (folder.tokenizerJSON === undefined)
    throw new LoadError(`${v.model}: no tokenizer.json; a GGUF file carries its tokenizer`);
  const pre = fromPretrained(folder);
  let cfg: GgufModelConfig;
  if (pre.kind === "gpt2") {
    const c = pre.config;
    cfg = {
      arch: "gpt2",
      vocabSize: c.vocabSize,
      blockSize: c.blockSize,
      nLayer: c.nLayer,
      nHead: c.nHead,
      nEmbd: c.nEmbd,
      intermediateSize: 4 * c.nEmbd,
      normEps: 1e-5,
    };
  } else if (pre.kind === "llama") {
    const c = pre.config;
    cfg = {
      arch: "llama",
      vocabSize: c.vocabSize,
      blockSize: c.blockSize,
      nLayer: c.nLayer,
      nHead: c.nHead,
      nKvHeads: c.nKvHeads,
      nEmbd: c.nEmbd,
      intermediateSize: intermediateSize(c),
      normEps: c.normEps,
      ropeTheta: c.ropeTheta,
    };
  } else if (pre.kind === "bloom" || pre.kind === "falcon") {
    const c = pre.config;
    if (pre.kind === "falcon" && c.bias)
      throw new UsageError(
        `quantize: ${v.model} is a Falcon with biases in its Linears, which llama.cpp's falcon has no tensors for`,
      );
    cfg = {
      arch: pre.kind,
      vocabSize: c.vocabSize,
      blockSize: c.blockSize,
      nLayer: c.nLayer,
      nHead: c.nHead,
      nEmbd: c.nEmbd,
      intermediateSize: 4 * c.nEmbd,
      normEps: 1e-5,
    };
    if (pre.kind === "falcon") {
      cfg.nKvHeads = 1;
      cfg.ropeTheta = pre.config.ropeTheta;
    }
  } else {
    throw new UsageError(
      `quantize: ${v.model} holds a ${pre.kind} model; GGUF conversion is written for gpt2, llama, bloom and falcon`,
    );
  }
  const tok = ggufTokenizerFromJSON(
    JSON.parse(folder.tokenizerJSON) as Record<string, unknown>,
    folder.config,
    cfg.vocabSize,
  );
  const bytes = toGguf(pre.model.stateDict(), cfg, type, tok, {
    ...(outputType ? { outputType } : {}),
    onTensor: (done, total, name) =>
      err.write(`\rquantize: ${done}/${total} ${name.padEnd(28)}${done === total ? "\n" : ""}`),
  });
  writeFileAtomic(v.out, [bytes]); // a reader sees the old file or the whole new one
  out.write(`${v.out}: ${cfg.arch}, ${type}, ${bytes.length} bytes\n`);
  return 0;
}

/**
 * The tokenizer of a GGUF file's vocabulary: byte-level BPE ("gpt2") or SentencePiece-style ("llama"); BOS in
 * front where the file asks; `decode` reads a continuation (the ids follow the prompt's text).
 */
export function ggufTextTokenizer(t: GgufTokenizer): { encode(text: string): number[]; decode(ids: number[]): string } {
  if (t.model === "llama") {
    if (!t.scores || !t.tokenTypes)
      throw new LoadError('gguf: a "llama" vocabulary needs tokenizer.ggml.scores and tokenizer.ggml.token_type');
    const spm = new SpmTokenizer({
      tokens: t.tokens,
      scores: t.scores,
      tokenTypes: t.tokenTypes,
      bosId: t.bosId,
      eosId: t.eosId,
      unkId: t.unkId,
      addBos: t.addBos ?? true,
    });
    return { encode: (text) => spm.encode(text), decode: (ids) => spm.decode(ids, { continuation: true }) };
  }
  const specials = new Map<string, number>();
  const vocab = new Map<string, number>();
  t.tokens.forEach((tok, id) => ((t.tokenTypes?.[id] ?? 1) === 3 ? specials.set(tok, id) : vocab.set(tok, id)));
  const bpe = new BPETokenizer({
    vocab,
    merges: (t.merges ?? []).map((m) => {
      const i = m.indexOf(" ");
      return [m.slice(0, i), m.slice(i + 1)] as const;
    }),
    specialTokens: specials,
  });
  return {
    encode: (text) => [...(t.addBos && t.bosId !== undefined ? [t.bosId] : []), ...bpe.encode(text)],
    decode: (ids) => bpe.decode(ids),
  };
}

/** `wnn sample --model FILE.gguf`: the prompt continued by the file's model, with the file's tokenizer. */
export function sampleFromGguf(path: string, s: SampleSettings & { repetitionPenalty: number }, out: Output): number {
  const g = loadGguf(readCheckedFile(path)); // a regular file within the caps: a FIFO is refused, not waited on
  const bpe = ggufTextTokenizer(g.tokenizer);
  const ids = bpe.encode(s.prompt);
  if (ids.length === 0) throw new UsageError("sample: the prompt must not be empty");
  const idx = tensor(Int32Array.from(ids), { shape: [1, ids.length] }); // (1, T0)
  const opts = {
    temperature: s.temperature,
    topK: s.topK,
    topP: s.topP,
    repetitionPenalty: s.repetitionPenalty,
    generator: new Generator(s.seed),
  };
  const arch = g.config.arch;
  const all: Tensor = noGrad(() =>
    arch === "gpt2"
      ? gptGenerate(g.model as GPT, idx, s.tokens, opts)
      : arch === "bloom"
        ? bloomGenerate(g.model as Bloom, idx, s.tokens, opts)
        : arch === "falcon"
          ? falconGenerate(g.model as Falcon, idx, s.tokens, opts)
          : llamaGenerate(g.model as Llama, idx, s.tokens, opts),
  );
  const fresh = Array.from(all.storage.subarray(ids.length) as Int32Array);
  const end = g.tokenizer.eosId === undefined ? -1 : fresh.indexOf(g.tokenizer.eosId);
  out.write(s.prompt + bpe.decode(end < 0 ? fresh : fresh.slice(0, end)) + "\n");
  return 0;
}
