// `wnn sample --checkpoint runs/<name>`: continue a prompt with a trained GPT (nanoGPT's sample.py).
// `wnn sample --model DIR`: the same with a Hugging Face checkpoint folder (cli/hf.ts).

import { CharTokenizer } from "../src/data/char.js";
import { ArgumentError, LoadError } from "../src/engine/errors.js";
import { Generator } from "../src/engine/rng.js";
import { tensor } from "../src/engine/creation.js";
import { GPT } from "../src/models/gpt2/model.js";
import { checkpointConfig } from "../src/models/gpt2/train.js";
import { checkFinite } from "../src/io/finite.js";
import { loadCheckpoint } from "../src/io/node.js";
import { UsageError, helpText, parseOptions, type OptionSpecs } from "./args.js";
import { sampleFromGguf } from "./gguf.js";
import { sampleFromFolder } from "./hf.js";
import { loadAdapter } from "./finetune.js";
import type { Output } from "./progress.js";
import { checkpointPath, loadRunCheckpoint } from "./rundir.js";
import { isZooCheckpoint, sampleZooRun } from "./zoo-train.js";

export interface SampleSettings {
  prompt: string;
  tokens: number;
  temperature: number;
  topK: number | null;
  topP: number;
  seed: number;
  /** the repetition penalty θ (default 1: off) */
  repetitionPenalty?: number;
}

/** nanoGPT's sample.py: start from a newline, temperature 0.8, top-k 200 (here: every character, the vocabulary is smaller). */
export const SAMPLE_DEFAULTS: Readonly<SampleSettings> = Object.freeze({
  prompt: "\n",
  tokens: 500,
  temperature: 0.8,
  topK: 200,
  topP: 1,
  seed: 1337,
});

/** The prompt followed by `tokens` generated characters. */
export function sampleText(model: GPT, tok: CharTokenizer, s: SampleSettings): string {
  let ids: number[];
  try {
    ids = tok.encode(s.prompt);
  } catch (e) {
    if (e instanceof ArgumentError)
      throw new UsageError(
        `sample: the prompt has a character the model does not know: ${e.message.replace(/^CharTokenizer.encode: /, "")}`,
      );
    throw e;
  }
  if (ids.length === 0) throw new UsageError("sample: the prompt must not be empty");
  const idx = tensor(Int32Array.from(ids), { shape: [1, ids.length] }); // (1, T0)
  const out = model.generate(idx, s.tokens, {
    temperature: s.temperature,
    topK: s.topK,
    topP: s.topP,
    repetitionPenalty: s.repetitionPenalty ?? 1,
    generator: new Generator(s.seed),
  }); // (1, T0 + tokens)
  return tok.decode(out.storage);
}

export const SAMPLE_OPTIONS = {
  checkpoint: {
    kind: "string",
    metavar: "DIR",
    help: "a run's folder (or its checkpoint.safetensors); this or --model is required",
  },
  model: {
    kind: "string",
    metavar: "DIR",
    help: "a Hugging Face checkpoint folder (config.json, model.safetensors, tokenizer.json) of gpt2, llama, mixtral, bloom, falcon (continue the prompt) or t5, bart (answer it: greedy, sampled with --temperature, or --beam K)",
  },
  prompt: { kind: "string", metavar: "TEXT", help: 'the text to continue (default a newline, "\\n")' },
  tokens: {
    kind: "int",
    min: 0,
    max: 1_000_000,
    default: SAMPLE_DEFAULTS.tokens,
    help: "characters (tokens with --model) to generate",
  },
  temperature: {
    kind: "number",
    min: 0,
    max: 1_000_000,
    default: SAMPLE_DEFAULTS.temperature,
    help: "divide the logits by this (0: always the most likely)",
  },
  top_k: {
    kind: "int",
    min: 1,
    max: 4_194_304,
    default: SAMPLE_DEFAULTS.topK!,
    help: "sample among the k most likely characters only",
  },
  top_p: {
    kind: "number",
    min: 0,
    max: 1,
    exclusiveMin: true,
    default: SAMPLE_DEFAULTS.topP,
    help: "nucleus sampling: the most likely characters up to this probability",
  },
  seed: {
    kind: "int",
    min: 0,
    max: 2 ** 32 - 1,
    default: SAMPLE_DEFAULTS.seed,
    help: "seed of the sampling (the same seed, the same text)",
  },
  repetition_penalty: {
    kind: "number",
    min: 0,
    max: 1_000_000,
    exclusiveMin: true,
    default: 1,
    help: "divide the logit of every token already in the text by θ (multiply when negative; CTRL's penalty, 1: off)",
  },
  strict: { kind: "flag", help: "refuse weights holding NaN or infinite values (default: a warning naming them)" },
  beam: {
    kind: "int",
    min: 1,
    max: 64,
    default: 1,
    // each hypothesis holds a KV cache of the whole answer: past 64, t5-small's would pass a gigabyte at 100 tokens
    help: "with --model t5/bart: beam search over this many hypotheses (1: greedy, or sampling with --temperature)",
  },
  adapter: {
    kind: "string",
    metavar: "DIR",
    help: "a folder written by wnn finetune (or a PEFT LoRA folder) to apply to the model first",
  },
} as const satisfies OptionSpecs;

export const SAMPLE_HELP = helpText(
  "wnn sample --checkpoint DIR [options]\n       wnn sample --model DIR --prompt TEXT [options]",
  "Generate text with a GPT trained by `wnn train gpt`: the prompt, then --tokens characters sampled one at a\ntime (with a KV cache) at the given temperature, top-k and top-p.\nWith --model, a Hugging Face checkpoint folder: a decoder (gpt2, llama, mixtral, bloom, falcon) continues the prompt\nwith --tokens tokens, stopping at its end-of-sequence token; an encoder-decoder (t5, bart) reads the prompt\nand writes its answer, at most --tokens tokens: greedily, sampled when --temperature is given, or with\n--beam K beam search.",
  SAMPLE_OPTIONS,
  'example: wnn sample --checkpoint runs/quick --prompt "Call me" --tokens 200 --seed 7\n         wnn sample --model gpt2/ --prompt "Call me Ishmael." --tokens 40 --top_k 40',
);

export function sampleCommand(args: readonly string[], out: Output): number {
  const { values: v, help, given } = parseOptions("sample", args, SAMPLE_OPTIONS);
  if (help) {
    out.write(SAMPLE_HELP);
    return 0;
  }
  if (v.checkpoint !== undefined && v.model !== undefined)
    throw new UsageError("sample: give --checkpoint or --model, not both");
  if (v.model !== undefined && v.model.endsWith(".gguf")) {
    return sampleFromGguf(
      v.model,
      {
        prompt: v.prompt ?? SAMPLE_DEFAULTS.prompt,
        tokens: v.tokens,
        temperature: v.temperature,
        topK: v.top_k,
        topP: v.top_p,
        seed: v.seed,
        repetitionPenalty: v.repetition_penalty,
      },
      out,
    );
  }
  if (v.model !== undefined) {
    const settings = {
      prompt: v.prompt ?? SAMPLE_DEFAULTS.prompt,
      tokens: v.tokens,
      temperature: v.temperature,
      topK: v.top_k,
      topP: v.top_p,
      seed: v.seed,
      repetitionPenalty: v.repetition_penalty,
      beam: v.beam,
      adapter: v.adapter,
      strict: v.strict,
    };
    sampleFromFolder(v.model, settings, given, out, process.stderr);
    return 0;
  }
  if (v.checkpoint === undefined)
    throw new UsageError(
      "sample: which model? give --checkpoint runs/<name> (a run of wnn train gpt) or --model DIR (a Hugging Face checkpoint folder)",
    );
  const loaded = loadCheckpoint(checkpointPath(v.checkpoint));
  if (isZooCheckpoint(loaded)) {
    // a run of wnn train <model> (llama, t5, ...)
    checkFinite(checkpointPath(v.checkpoint), loaded.model, {
      strict: v.strict,
      warn: (line) => process.stderr.write(line + "\n"),
    });
    return sampleZooRun(
      loaded,
      {
        prompt: v.prompt ?? SAMPLE_DEFAULTS.prompt,
        tokens: v.tokens,
        temperature: v.temperature,
        topK: v.top_k,
        topP: v.top_p,
        seed: v.seed,
        repetitionPenalty: v.repetition_penalty,
      },
      out,
    );
  }
  // a GPT run of wnn train gpt: checked as every run checkpoint is (cli/rundir.ts)
  const {
    ckpt,
    checked: { model: config, config: meta },
  } = loadRunCheckpoint(v.checkpoint, "sample", checkpointConfig, { strict: v.strict });
  const tok = CharTokenizer.fromJSON(meta.tokenizer);
  if (tok.vocabSize > config.vocabSize)
    throw new LoadError(
      `${checkpointPath(v.checkpoint)}: the tokenizer has ${tok.vocabSize} characters, past the model's vocabulary of ${config.vocabSize}`,
    );
  const model = new GPT(config);
  model.loadStateDict(ckpt.model);
  const tuned = v.adapter !== undefined ? loadAdapter(model, v.adapter) : null; // prefix/prompt: a wrapper that generates
  if (v.beam > 1)
    throw new UsageError(
      "sample: --beam is for encoder-decoders (--model with t5 or bart); a GPT samples one character at a time",
    );
  const text = sampleText((tuned ?? model) as GPT, tok, {
    prompt: v.prompt ?? SAMPLE_DEFAULTS.prompt,
    tokens: v.tokens,
    temperature: v.temperature,
    topK: v.top_k,
    topP: v.top_p,
    seed: v.seed,
    repetitionPenalty: v.repetition_penalty,
  });
  out.write(text + "\n");
  return 0;
}
