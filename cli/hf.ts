// Hugging Face checkpoint folders on the command line:
//   wnn sample --model DIR --prompt "..."      decoders (gpt2, llama, mixtral, bloom, falcon) continue the prompt;
//                                              encoder-decoders (t5, bart) read it and write their output
//   wnn fill-mask --model DIR --text "..."     encoders (bert, roberta, deberta): the likeliest tokens at each mask
// The folder holds config.json, model.safetensors (or shards + index) and tokenizer.json
// (src/io/hf-folder.ts, src/models/hf.ts, src/data/tokenizer-json.ts).

import { addedTokens, postProcessorFromJSON } from "../src/data/post-processor.js";
import { PipelineTokenizer } from "../src/data/hf-pipeline.js";
import { tokenizerFromJSON } from "../src/data/tokenizer-json.js";
import { checkTokenizerFits } from "../src/data/tokenizer-file.js";
import { checkFinite } from "../src/io/finite.js";
import type { Tokenizer } from "../src/data/tokenizer.js";
import { noGrad } from "../src/engine/autograd.js";
import { tensor } from "../src/engine/creation.js";
import { ArgumentError, LoadError } from "../src/engine/errors.js";
import { fillMaskChars } from "../src/recipes/zoo-train.js";
import { openZooRun } from "./zoo-train.js";
import { Generator } from "../src/engine/rng.js";
import type { Tensor } from "../src/engine/tensor.js";
import { readHFFolder, type HFFolder } from "../src/io/hf-folder.js";
import { beamSearch as bartBeamSearch, generate as bartGenerate } from "../src/models/bart/model.js";
import { BertForMaskedLM } from "../src/models/bert/model.js";
import { generate as bloomGenerate } from "../src/models/bloom/model.js";
import { DebertaForMaskedLM } from "../src/models/deberta/model.js";
import { generate as falconGenerate } from "../src/models/falcon/model.js";
import { generate as gptGenerate } from "../src/models/gpt2/model.js";
import type { GenerateOptions } from "../src/generation/sampling.js";
import { ENCODER_KINDS, fromPretrained, type Pretrained } from "../src/models/hf.js";
import { generate as llamaGenerate } from "../src/models/llama/model.js";
import { generate as mixtralGenerate } from "../src/models/mixtral/model.js";
import { beamSearch as t5BeamSearch, generate as t5Generate } from "../src/models/t5/model.js";
import { UsageError, helpText, parseOptions, type OptionSpecs } from "./args.js";
import type { Output } from "./progress.js";
import type { SampleSettings } from "./sample.js";
import { loadAdapter } from "./finetune.js";

/** The folder's model and its tokenizer (tokenizer.json), with the post-processor's special tokens. */
function openFolder(
  command: string,
  dir: string,
  strict = false,
): {
  folder: HFFolder;
  pre: Pretrained;
  tok: Tokenizer;
  encode: (text: string) => number[];
  decode: (ids: number[]) => string;
} {
  const folder = readHFFolder(dir);
  if (folder.tokenizerJSON === undefined)
    throw new LoadError(
      `${dir}: no tokenizer.json; \`wnn ${command} --model\` needs the folder's tokenizer to turn text into token ids`,
    );
  // consistency before anything is built: the tokenizer's ids within the model's vocabulary, the weights finite
  const vocabSize = folder.config.vocab_size;
  if (typeof vocabSize === "number") checkTokenizerFits(folder.tokenizerJSON, vocabSize, `${dir}/tokenizer.json`);
  checkFinite(dir, folder.tensors, { strict, warn: (line) => process.stderr.write(line + "\n") });
  const tok = tokenizerFromJSON(folder.tokenizerJSON);
  const pre = fromPretrained(folder);
  // Unigram (T5) and byte-fallback BPE (LLaMA) read the whole tokenizer.json pipeline, post-processor included;
  // byte-level BPE and WordPiece get the post-processor's special tokens here.
  if (tok instanceof PipelineTokenizer) {
    return {
      folder,
      pre,
      tok,
      encode: (text) => tok.encode(text),
      decode: (ids) => tok.decode(ids, { skipSpecialTokens: true }),
    };
  }
  const post = postProcessorFromJSON(folder.tokenizerJSON);
  return { folder, pre, tok, encode: (text) => post(tok.encode(text)), decode: (ids) => tok.decode(ids) };
}

/** config.json's eos_token_id (a number or a list of them). */
function eosIds(config: Record<string, unknown>): number[] {
  const e = config.eos_token_id;
  return typeof e === "number" ? [e] : Array.isArray(e) ? e.filter((x): x is number => typeof x === "number") : [];
}

/** `wnn sample`'s settings (./sample.ts), with the repetition penalty always given, and a beam width. */
export interface HFSampleSettings extends SampleSettings {
  /** the repetition penalty θ (1: off) */
  repetitionPenalty: number;
  /** beam width for encoder-decoders (1: no beam search) */
  beam: number;
  /** a folder of wnn finetune (or PEFT LoRA) applied to the model first */
  adapter?: string;
  /** refuse NaN or infinite weights (default: a warning) */
  strict?: boolean;
}

/**
 * `wnn sample --model DIR`: a decoder continues the prompt (printed, then the new tokens up to EOS); an
 * encoder-decoder encodes the prompt and its decoder writes the answer, greedily. → the text printed
 */
export function sampleFromFolder(
  dir: string,
  s: HFSampleSettings,
  given: ReadonlySet<string>,
  out: Output,
  err: Output,
): string {
  const { folder, pre, encode, decode } = openFolder("sample", dir, s.strict === true);
  if (pre.kind === "bert" || pre.kind === "roberta" || pre.kind === "deberta") {
    throw new UsageError(
      `sample: ${dir} holds a ${pre.kind} model, an encoder; it fills in masked tokens instead: wnn fill-mask --model ${dir} --text "..."`,
    );
  }
  const ids = encode(s.prompt);
  if (ids.length === 0) throw new UsageError("sample: the prompt must not be empty");
  const idx = tensor(Int32Array.from(ids), { shape: [1, ids.length] }); // (1, T0)
  let text: string;
  if (pre.kind === "t5" || pre.kind === "bart") {
    if (s.adapter !== undefined)
      throw new UsageError(
        `sample: --adapter applies to decoders (gpt2, llama, bloom, falcon); ${dir} holds ${pre.kind}`,
      );
    // encoder-decoders answer greedily unless --temperature is given; --beam K > 1 searches K hypotheses
    if (s.beam > 1) {
      const ignored = ["temperature", "top_k", "top_p", "seed"].filter((o) => given.has(o));
      if (ignored.length)
        err.write(`wnn: sample: beam search is deterministic; ${ignored.map((o) => `--${o}`).join(", ")} not used\n`);
    }
    if (s.tokens === 0) return write(out, "");
    const maxLen = pre.kind === "t5" ? s.tokens : Math.min(s.tokens, pre.config.maxPositions - 1);
    const sampling = {
      maxLen,
      temperature: given.has("temperature") ? s.temperature : 0,
      topK: s.topK,
      topP: s.topP,
      repetitionPenalty: s.repetitionPenalty,
      generator: new Generator(s.seed),
    };
    const beam = { beamSize: s.beam, maxLen, repetitionPenalty: s.repetitionPenalty };
    const rows =
      pre.kind === "t5"
        ? s.beam > 1
          ? t5BeamSearch(pre.model, idx, beam).tokens
          : t5Generate(pre.model, idx, sampling)
        : s.beam > 1
          ? bartBeamSearch(pre.model, idx, beam).tokens
          : bartGenerate(pre.model, idx, sampling);
    text = decode(rows[0]!);
  } else {
    if (s.beam > 1)
      throw new UsageError(
        `sample: --beam is for encoder-decoders (t5, bart); ${pre.kind} samples one token at a time`,
      );
    const opts: GenerateOptions = {
      temperature: s.temperature,
      topK: s.topK,
      topP: s.topP,
      repetitionPenalty: s.repetitionPenalty,
      generator: new Generator(s.seed),
    };
    let all: Tensor;
    const tuned = s.adapter !== undefined ? loadAdapter(pre.model, s.adapter) : null; // prefix/prompt: a wrapper that generates
    if (tuned) all = tuned.generate(idx, s.tokens, opts);
    else
      switch (pre.kind) {
        case "gpt2":
          all = gptGenerate(pre.model, idx, s.tokens, opts);
          break;
        case "llama":
          all = llamaGenerate(pre.model, idx, s.tokens, opts);
          break;
        case "mixtral":
          all = mixtralGenerate(pre.model, idx, s.tokens, opts);
          break;
        case "bloom":
          all = bloomGenerate(pre.model, idx, s.tokens, opts);
          break;
        case "falcon":
          all = falconGenerate(pre.model, idx, s.tokens, opts);
          break;
      }
    const fresh = Array.from(all.storage.subarray(ids.length)); // the generated tokens
    const eos = eosIds(folder.config);
    const end = fresh.findIndex((t) => eos.includes(t));
    text = s.prompt + decode(end < 0 ? fresh : fresh.slice(0, end));
  }
  return write(out, text);
}

function write(out: Output, text: string): string {
  out.write(text + "\n");
  return text;
}

// ---------------------------------------------------------------------------------------------------
// wnn fill-mask

export const FILL_MASK_OPTIONS = {
  model: {
    kind: "string",
    metavar: "DIR",
    help: "a Hugging Face checkpoint folder of an encoder with its masked-LM head (bert, roberta, deberta-v2): config.json, model.safetensors, tokenizer.json; this or --checkpoint is required",
  },
  checkpoint: {
    kind: "string",
    metavar: "DIR",
    help: "a run of wnn train bert, roberta or deberta (its folder or checkpoint.safetensors): a character-level encoder; [MASK] stands for one character",
  },
  text: {
    kind: "string",
    metavar: "TEXT",
    help: 'the text, with the mask token where words are missing ("the [MASK] sat"); required',
  },
  top_k: { kind: "int", min: 1, max: 4_194_304, default: 5, help: "tokens to show for each mask" },
  mask_token: {
    kind: "string",
    metavar: "TOKEN",
    help: "the mask token (default: tokenizer_config.json's mask_token, else the added token [MASK] or <mask>)",
  },
  json: { kind: "flag", help: "print the predictions as JSON" },
} as const satisfies OptionSpecs;

export const FILL_MASK_HELP = helpText(
  "wnn fill-mask --model DIR --text TEXT [options]",
  "Fill in the masked tokens of a text with an encoder's masked-LM head: for each mask, the --top_k likeliest\ntokens and their probabilities (softmax over the vocabulary at that position).",
  FILL_MASK_OPTIONS,
  'example: wnn fill-mask --model bert-base-uncased/ --text "the capital of france is [MASK]."',
);

export interface MaskPrediction {
  /** the mask's index among the text's token ids (special tokens counted) */
  position: number;
  candidates: { id: number; token: string; probability: number }[];
}

/** The mask token: the option, tokenizer_config.json's mask_token, or an added token spelled [MASK] or <mask>. */
function maskToken(
  folder: HFFolder,
  option: string | undefined,
): { content: string; id: number | null; lstrip: boolean } {
  const added = addedTokens(folder.tokenizerJSON!);
  const find = (content: string): { content: string; id: number | null; lstrip: boolean } => {
    const a = added.find((t) => t.content === content);
    return { content, id: a?.id ?? null, lstrip: a?.lstrip ?? false };
  };
  if (option !== undefined) return find(option);
  const m = folder.tokenizerConfig?.mask_token;
  const fromConfig =
    typeof m === "string"
      ? m
      : typeof m === "object" &&
          m !== null &&
          !Array.isArray(m) &&
          typeof (m as Record<string, unknown>).content === "string"
        ? ((m as Record<string, unknown>).content as string)
        : null;
  if (fromConfig !== null) return find(fromConfig);
  const a = added.find((t) => t.special && (t.content === "[MASK]" || t.content === "<mask>"));
  if (a) return { content: a.content, id: a.id, lstrip: a.lstrip };
  throw new UsageError(
    "fill-mask: the folder names no mask token (tokenizer_config.json's mask_token, or an added token [MASK] / <mask>); give it with --mask_token",
  );
}

/** The predictions for every mask of `text`. */
export function fillMask(dir: string, text: string, topK: number, maskOption?: string): MaskPrediction[] {
  const { folder, pre, tok, encode } = openFolder("fill-mask", dir);
  if (!ENCODER_KINDS.includes(pre.kind)) {
    throw new UsageError(
      `fill-mask: ${dir} holds a ${pre.kind} model; fill-mask needs an encoder with a masked-LM head (bert, roberta, deberta-v2); for text generation: wnn sample --model ${dir}`,
    );
  }
  const model = pre.model;
  if (!(model instanceof BertForMaskedLM || model instanceof DebertaForMaskedLM)) {
    throw new LoadError(
      `${dir}: the ${pre.kind} checkpoint has no masked-LM head (cls.predictions.* / lm_head.*), so it cannot fill in masks`,
    );
  }
  const mask = maskToken(folder, maskOption);
  if (!text.includes(mask.content)) throw new UsageError(`fill-mask: the text has no mask token ${mask.content}`);
  // a mask token that strips the space on its left (RoBERTa's <mask>) takes it into itself
  if (mask.lstrip) text = text.replace(new RegExp(`\\s+${escapeRegExp(mask.content)}`, "g"), mask.content);
  let maskId = mask.id;
  if (maskId === null) {
    const one = tok.encode(mask.content);
    if (one.length !== 1)
      throw new UsageError(
        `fill-mask: the tokenizer does not read ${mask.content} as one token (got ${one.length}); give the right one with --mask_token`,
      );
    maskId = one[0]!;
  }
  const ids = encode(text);
  const positions = ids.flatMap((id, i) => (id === maskId ? [i] : []));
  if (positions.length === 0)
    throw new UsageError(`fill-mask: the tokenizer did not keep ${mask.content} as a token in the text`);
  const idx = tensor(Int32Array.from(ids), { shape: [1, ids.length] }); // (1, T)
  const logits = noGrad(() => model.forward(idx).logits); // (1, T, V)
  const V = logits.shape[2]!;
  return positions.map((position) => {
    const row = logits.storage.subarray(position * V, (position + 1) * V);
    // p_v = e^{z_v − z_max} / Σ_u e^{z_u − z_max}, in float64
    let zMax = -Infinity;
    for (let v = 0; v < V; v++) zMax = Math.max(zMax, row[v]!);
    let total = 0;
    for (let v = 0; v < V; v++) total += Math.exp(row[v]! - zMax);
    const order = Array.from({ length: V }, (_, v) => v)
      .sort((a, b) => row[b]! - row[a]! || a - b)
      .slice(0, Math.min(topK, V));
    return {
      position,
      candidates: order.map((id) => ({ id, token: tok.decode([id]), probability: Math.exp(row[id]! - zMax) / total })),
    };
  });
}

/** The predictions of an encoder trained by `wnn train bert|roberta|deberta` (one character per mask). */
function fillMaskRun(dir: string, text: string, topK: number, maskOption?: string): MaskPrediction[] {
  const { trainer } = openZooRun(dir);
  try {
    return fillMaskChars(trainer, text, topK, maskOption).map((p) => ({
      position: p.position,
      candidates: p.candidates.map((c) => ({ id: c.id, token: c.token, probability: c.probability })),
    }));
  } catch (e) {
    if (e instanceof ArgumentError) throw new UsageError(`fill-mask: ${e.message.replace(/^fill-mask: /, "")}`);
    throw e;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function fillMaskCommand(args: readonly string[], out: Output): number {
  const { values: v, help } = parseOptions("fill-mask", args, FILL_MASK_OPTIONS);
  if (help) {
    out.write(FILL_MASK_HELP);
    return 0;
  }
  if (v.model !== undefined && v.checkpoint !== undefined)
    throw new UsageError("fill-mask: give --model or --checkpoint, not both");
  if (v.model === undefined && v.checkpoint === undefined)
    throw new UsageError(
      "fill-mask: which model? give --model DIR (a Hugging Face checkpoint folder) or --checkpoint DIR (a run of wnn train bert, roberta or deberta)",
    );
  if (v.text === undefined) throw new UsageError('fill-mask: give the text with --text "... [MASK] ..."');
  const predictions =
    v.checkpoint !== undefined
      ? fillMaskRun(v.checkpoint, v.text, v.top_k, v.mask_token)
      : fillMask(v.model!, v.text, v.top_k, v.mask_token);
  if (v.json) {
    out.write(JSON.stringify(predictions, null, 2) + "\n");
    return 0;
  }
  predictions.forEach((p, k) => {
    out.write(`mask ${k + 1} of ${predictions.length} (token ${p.position}):\n`);
    for (const c of p.candidates)
      out.write(`  ${c.probability.toFixed(4)}  ${JSON.stringify(c.token)}  (id ${c.id})\n`);
  });
  return 0;
}
