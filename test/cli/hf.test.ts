// `wnn sample --model DIR` and `wnn fill-mask --model DIR` on tiny Hugging Face folders written here:
// seeded models (toHFFiles → writeHFFolder) with tokenizers trained here (BPETokenizer.train) or a
// WordPiece vocabulary, run as a user runs them (a child process), and compared with the same
// computation done in this process through the library.

import "../../src/index-node.js"; // this process computes on the CLI's backend (wasm + threads), so the numbers match bit for bit
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { BPETokenizer } from "../../src/data/bpe.js";
import { WordPieceTokenizer } from "../../src/data/wordpiece.js";
import type { ByteFallbackBPETokenizer } from "../../src/data/bpe-fallback.js";
import { tokenizerFromJSON } from "../../src/data/tokenizer-json.js";
import type { UnigramTokenizer } from "../../src/data/unigram.js";
import { noGrad } from "../../src/engine/autograd.js";
import { tensor } from "../../src/engine/creation.js";
import { Generator } from "../../src/engine/rng.js";
import { readHFFolder, writeHFFolder } from "../../src/io/hf-folder.js";
import { Bart, bartConfig, greedyDecode as bartDecode } from "../../src/models/bart/model.js";
import { BertForMaskedLM, bertConfig } from "../../src/models/bert/model.js";
import { Bloom, bloomConfig, generate as bloomGenerate } from "../../src/models/bloom/model.js";
import { DebertaForMaskedLM, debertaConfig } from "../../src/models/deberta/model.js";
import { Falcon, falconConfig, generate as falconGenerate } from "../../src/models/falcon/model.js";
import { GPT, gptConfig, generate as gptGenerate } from "../../src/models/gpt2/model.js";
import { fromPretrained, toHFFiles, type HFKind } from "../../src/models/hf.js";
import { Llama, llamaConfig, generate as llamaGenerate } from "../../src/models/llama/model.js";
import { Mixtral, mixtralConfig, generate as mixtralGenerate } from "../../src/models/mixtral/model.js";
import { RobertaForMaskedLM, robertaConfig } from "../../src/models/roberta/model.js";
import {
  T5,
  t5Config,
  beamSearch as t5BeamSearch,
  generate as t5Generate,
  greedyDecode as t5Decode,
} from "../../src/models/t5/model.js";
import type { Module } from "../../src/nn/module.js";

const WNN = fileURLToPath(new URL("../../cli/wnn.js", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "wnn-cli-hf-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function wnn(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [WNN, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const CORPUS = [
  "Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse,",
  "and nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of the world.",
];

// a byte-level BPE tokenizer trained on two sentences, with the special tokens the families use
const bpe = BPETokenizer.train(CORPUS, 256 + 40, { specialTokens: ["<s>", "<pad>", "</s>", "<mask>"] });
const BOS = bpe.tokenToId("<s>")!,
  PAD = bpe.tokenToId("<pad>")!,
  EOS = bpe.tokenToId("</s>")!,
  MASK = bpe.tokenToId("<mask>")!;
const V = bpe.vocabSize;

/** tokenizer.json of the BPE tokenizer with a post-processor (a list of template pieces) and RoBERTa's lstrip <mask>. */
function bpeJSON(template: ("A" | string)[] | null): object {
  const j = JSON.parse(JSON.stringify(bpe)) as Record<string, unknown> & {
    added_tokens: { content: string; lstrip: boolean }[];
  };
  for (const t of j.added_tokens) if (t.content === "<mask>") t.lstrip = true;
  if (template) {
    const special: Record<string, object> = {};
    for (const p of template) if (p !== "A") special[p] = { id: p, ids: [bpe.tokenToId(p)!], tokens: [p] };
    j.post_processor = {
      type: "TemplateProcessing",
      single: template.map((p) =>
        p === "A" ? { Sequence: { id: "A", type_id: 0 } } : { SpecialToken: { id: p, type_id: 0 } },
      ),
      pair: [],
      special_tokens: special,
    };
  }
  return j;
}

function folder(
  name: string,
  kind: HFKind,
  model: Module,
  config: unknown,
  tokenizerJSON: object,
  extra: Record<string, unknown> = {},
): string {
  const dir = join(tmp, name);
  const files = toHFFiles(kind, model, config);
  writeHFFolder(dir, { config: { ...files.config, ...extra }, tensors: files.tensors, tokenizerJSON });
  return dir;
}

const PROMPT = "Call me Ishmael.";
const g = (): Generator => new Generator(11);

// ---------------------------------------------------------------------------------------------------
// sample --model: decoders

const DECODERS = [
  {
    kind: "gpt2" as const,
    template: null,
    make: () => {
      const c = gptConfig({ vocabSize: V, blockSize: 32, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0, bias: true });
      return { config: c, model: new GPT(c, { generator: g() }) };
    },
    gen: gptGenerate,
  },
  {
    kind: "llama" as const,
    template: ["<s>", "A"],
    make: () => {
      const c = llamaConfig({
        vocabSize: V,
        blockSize: 32,
        nLayer: 1,
        nHead: 2,
        nKvHeads: 1,
        nEmbd: 16,
        intermediateSize: 24,
        multipleOf: 8,
        normEps: 1e-5,
        ropeTheta: 10000,
        dropout: 0,
      });
      return { config: c, model: new Llama(c, { generator: g() }) };
    },
    gen: llamaGenerate,
  },
  {
    kind: "mixtral" as const,
    template: ["<s>", "A"],
    make: () => {
      const c = mixtralConfig({
        vocabSize: V,
        blockSize: 32,
        nLayer: 1,
        nHead: 2,
        nKvHeads: 1,
        nEmbd: 16,
        intermediateSize: 12,
        nExperts: 4,
        topK: 2,
        routerAuxLossCoef: 0.02,
        normEps: 1e-5,
        ropeTheta: 1e6,
        dropout: 0,
      });
      return { config: c, model: new Mixtral(c, { generator: g() }) };
    },
    gen: mixtralGenerate,
  },
  {
    kind: "bloom" as const,
    template: null,
    make: () => {
      const c = bloomConfig({ vocabSize: V, blockSize: 32, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0, bias: true });
      return { config: c, model: new Bloom(c, { generator: g() }) };
    },
    gen: bloomGenerate,
  },
  {
    kind: "falcon" as const,
    template: null,
    make: () => {
      const c = falconConfig({
        vocabSize: V,
        blockSize: 32,
        nLayer: 1,
        nHead: 2,
        nEmbd: 16,
        dropout: 0,
        bias: false,
        ropeTheta: 10000,
      });
      return { config: c, model: new Falcon(c, { generator: g() }) };
    },
    gen: falconGenerate,
  },
];

for (const d of DECODERS) {
  test(`sample --model: ${d.kind} continues the prompt as the library does, the same text for the same seed`, () => {
    const { model, config } = d.make();
    const dir = folder(`dec-${d.kind}`, d.kind, model, config, bpeJSON(d.template));
    const args = [
      "sample",
      "--model",
      dir,
      "--prompt",
      PROMPT,
      "--tokens",
      "12",
      "--temperature",
      "0.9",
      "--top_k",
      "20",
      "--top_p",
      "0.95",
      "--seed",
      "5",
    ];
    const r = wnn(...args);
    assert.equal(r.code, 0, r.stderr);
    // the same in this process: the prompt's ids (with <s> for LLaMA's template), generate, decode
    const ids = [...(d.template ? [BOS] : []), ...bpe.encode(PROMPT)];
    model.eval();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const out = (d.gen as any)(model, tensor(Int32Array.from(ids), { shape: [1, ids.length] }), 12, {
      temperature: 0.9,
      topK: 20,
      topP: 0.95,
      generator: new Generator(5),
    });
    assert.equal(r.stdout, PROMPT + bpe.decode(Array.from(out.storage.subarray(ids.length) as Int32Array)) + "\n");
    if (d.kind === "gpt2") assert.equal(wnn(...args).stdout, r.stdout, "the same seed, the same text");
  });
}

test("sample --model: generation stops at config.json's eos_token_id", () => {
  const { model, config } = DECODERS[0]!.make();
  model.eval();
  const ids = bpe.encode(PROMPT);
  const greedy = Array.from(
    gptGenerate(model as GPT, tensor(Int32Array.from(ids), { shape: [1, ids.length] }), 6, {
      temperature: 0,
    }).storage.subarray(ids.length),
  );
  // call the third greedy token the end of sequence: the output stops before it
  const dir = folder("dec-eos", "gpt2", model, config, bpeJSON(null), { eos_token_id: greedy[2] });
  const r = wnn("sample", "--model", dir, "--prompt", PROMPT, "--tokens", "6", "--temperature", "0");
  assert.equal(r.code, 0, r.stderr);
  const cut = greedy.indexOf(greedy[2]!);
  assert.equal(r.stdout, PROMPT + bpe.decode(greedy.slice(0, cut)) + "\n");
});

// ---------------------------------------------------------------------------------------------------
// sample --model: encoder-decoders (greedy)

test("sample --model: t5 and bart write the greedy answer of the library's decoders (no --temperature given)", () => {
  const t5c = t5Config("tiny", {
    vocabSize: V,
    nEncoderLayer: 1,
    nDecoderLayer: 1,
    nHead: 2,
    dModel: 16,
    dKv: 8,
    dFF: 32,
    numBuckets: 8,
    maxDistance: 16,
    padId: PAD,
    eosId: EOS,
    decoderStartId: PAD,
  });
  const t5 = new T5(t5c, { generator: g() });
  const bartc = bartConfig("tiny", {
    vocabSize: V,
    maxPositions: 32,
    nEncoderLayer: 1,
    nDecoderLayer: 1,
    nHead: 2,
    dModel: 16,
    dFF: 32,
    padId: PAD,
    eosId: EOS,
    decoderStartId: EOS,
  });
  const bart = new Bart(bartc, { generator: g() });
  const cases = [
    {
      kind: "t5" as const,
      model: t5,
      config: t5c,
      template: ["A", "</s>"],
      decode: (ids: number[]) => t5Decode(t5, tensor(Int32Array.from(ids), { shape: [1, ids.length] }), { maxLen: 10 }),
    },
    {
      kind: "bart" as const,
      model: bart,
      config: bartc,
      template: ["<s>", "A", "</s>"],
      decode: (ids: number[]) =>
        bartDecode(bart, tensor(Int32Array.from(ids), { shape: [1, ids.length] }), { maxLen: 10 }),
    },
  ];
  for (const c of cases) {
    const dir = folder(`s2s-${c.kind}`, c.kind, c.model, c.config, bpeJSON(c.template));
    const r = wnn("sample", "--model", dir, "--prompt", PROMPT, "--tokens", "10", "--seed", "3");
    assert.equal(r.code, 0, r.stderr);
    const ids = c.template.flatMap((p) => (p === "A" ? bpe.encode(PROMPT) : [bpe.tokenToId(p)!]));
    assert.equal(r.stdout, bpe.decode(c.decode(ids)[0]!) + "\n", c.kind);
  }
});

// sentencepiece's tokenizers (Unigram for T5, byte-fallback BPE for LLaMA), written by tools/fixtures/tokenizers_sp.py
const spTokenizer = (name: string): Record<string, unknown> =>
  (
    JSON.parse(
      readFileSync(fileURLToPath(new URL(`../../../test/fixtures/data/${name}.json`, import.meta.url)), "utf8"),
    ) as { tokenizer: Record<string, unknown> }
  ).tokenizer;

test("sample --model: t5 with a Unigram tokenizer.json, --beam 3 and --repetition_penalty, as the library's beam search", () => {
  const tj = spTokenizer("sp_unigram"),
    tok = tokenizerFromJSON(tj) as UnigramTokenizer;
  const c = t5Config("tiny", {
    vocabSize: tok.vocabSize,
    nEncoderLayer: 1,
    nDecoderLayer: 1,
    nHead: 2,
    dModel: 16,
    dKv: 8,
    dFF: 32,
    numBuckets: 8,
    maxDistance: 16,
    padId: 0,
    eosId: 1,
    decoderStartId: 0,
  });
  const model = new T5(c, { generator: g() });
  const dir = folder("s2s-t5-unigram", "t5", model, c, tj);
  const r = wnn(
    "sample",
    "--model",
    dir,
    "--prompt",
    PROMPT,
    "--tokens",
    "8",
    "--beam",
    "3",
    "--repetition_penalty",
    "1.3",
  );
  assert.equal(r.code, 0, r.stderr);
  const ids = tok.encode(PROMPT); // ends with </s> (the post-processor)
  assert.equal(ids.at(-1), 1);
  const best = t5BeamSearch(model, tensor(Int32Array.from(ids), { shape: [1, ids.length] }), {
    beamSize: 3,
    maxLen: 8,
    repetitionPenalty: 1.3,
  }).tokens[0]!;
  assert.equal(r.stdout, tok.decode(best, { skipSpecialTokens: true }) + "\n");
  // sampling when --temperature is given: the library's generate with the same seed
  const s = wnn("sample", "--model", dir, "--prompt", PROMPT, "--tokens", "8", "--temperature", "1.2", "--seed", "4");
  assert.equal(s.code, 0, s.stderr);
  const sampled = t5Generate(model, tensor(Int32Array.from(ids), { shape: [1, ids.length] }), {
    maxLen: 8,
    temperature: 1.2,
    topK: 200,
    topP: 1,
    generator: new Generator(4),
  })[0]!;
  assert.equal(s.stdout, tok.decode(sampled, { skipSpecialTokens: true }) + "\n");
});

test("sample --model: llama with a byte-fallback BPE tokenizer.json and --repetition_penalty, as the library's generate", () => {
  const tj = spTokenizer("sp_bpe"),
    tok = tokenizerFromJSON(tj) as ByteFallbackBPETokenizer;
  const c = llamaConfig({
    vocabSize: tok.vocabSize,
    blockSize: 48,
    nLayer: 1,
    nHead: 2,
    nKvHeads: 1,
    nEmbd: 16,
    intermediateSize: 24,
    multipleOf: 8,
    normEps: 1e-5,
    ropeTheta: 10000,
    dropout: 0,
  });
  const model = new Llama(c, { generator: g() });
  const dir = folder("dec-llama-sp", "llama", model, c, tj);
  const r = wnn(
    "sample",
    "--model",
    dir,
    "--prompt",
    PROMPT,
    "--tokens",
    "10",
    "--temperature",
    "0",
    "--repetition_penalty",
    "1.5",
  );
  assert.equal(r.code, 0, r.stderr);
  const ids = tok.encode(PROMPT); // starts with <s>
  assert.equal(ids[0], tok.tokenToId("<s>"));
  model.eval();
  const out = llamaGenerate(model, tensor(Int32Array.from(ids), { shape: [1, ids.length] }), 10, {
    temperature: 0,
    repetitionPenalty: 1.5,
  });
  assert.equal(
    r.stdout,
    PROMPT + tok.decode(Array.from(out.storage.subarray(ids.length)), { skipSpecialTokens: true }) + "\n",
  );
  assert.equal(
    wnn("sample", "--model", dir, "--prompt", PROMPT, "--beam", "2").code,
    2,
    "--beam is for encoder-decoders",
  );
});

// ---------------------------------------------------------------------------------------------------
// fill-mask

const WORDS = [
  ...new Set(
    CORPUS.join(" ")
      .toLowerCase()
      .match(/[a-z]+|[.,]/g)!,
  ),
];
const WP_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ...WORDS];
const wordPiece = new WordPieceTokenizer(WP_VOCAB);
const id = (t: string): number => wordPiece.tokenToId(t);

/** tokenizer.json of a WordPiece vocabulary, as Hugging Face writes BERT's. */
function wordPieceJSON(): object {
  return {
    version: "1.0",
    added_tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].map((content) => ({
      id: id(content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
      ],
      pair: [],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [id("[CLS]")], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [id("[SEP]")], tokens: ["[SEP]"] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(WP_VOCAB.map((t, i) => [t, i])),
    },
  };
}

interface Prediction {
  position: number;
  candidates: { id: number; token: string; probability: number }[];
}

/** The library's answer: softmax of the MLM logits at each mask position, the top k. */
function expected(
  model: BertForMaskedLM | DebertaForMaskedLM,
  ids: number[],
  mask: number,
  k: number,
  decode: (id: number) => string,
): Prediction[] {
  model.eval();
  const logits = noGrad(() => model.forward(tensor(Int32Array.from(ids), { shape: [1, ids.length] })).logits);
  const Vm = logits.shape[2]!;
  return ids.flatMap((t, position) => {
    if (t !== mask) return [];
    const row = Array.from(logits.storage.subarray(position * Vm, (position + 1) * Vm));
    const m = Math.max(...row),
      z = row.reduce((s, x) => s + Math.exp(x - m), 0);
    const order = row
      .map((_, i) => i)
      .sort((a, b) => row[b]! - row[a]! || a - b)
      .slice(0, k);
    return [
      { position, candidates: order.map((i) => ({ id: i, token: decode(i), probability: Math.exp(row[i]! - m) / z })) },
    ];
  });
}

test("fill-mask: bert and deberta with a WordPiece tokenizer, roberta with BPE and its <mask>: the library's top-k", () => {
  const bc = bertConfig("tiny", {
    vocabSize: WP_VOCAB.length,
    maxPositions: 32,
    nLayer: 1,
    nHead: 2,
    dModel: 16,
    dFF: 32,
  });
  const dc = debertaConfig("tiny", {
    vocabSize: WP_VOCAB.length,
    nLayer: 1,
    nHead: 2,
    dModel: 16,
    dFF: 32,
    positionBuckets: 8,
    maxRelativePositions: 32,
  });
  const rc = robertaConfig("tiny", {
    vocabSize: V,
    maxPositions: PAD + 34, // positions count from padId + 1
    nLayer: 1,
    nHead: 2,
    dModel: 16,
    dFF: 32,
    padId: PAD,
  });
  const text = "call me [MASK]. some years [MASK], never mind";
  const wpIds = [id("[CLS]"), ...wordPiece.encode(text), id("[SEP]")];
  const rText = "Call me <mask>. Some years ago";
  const rIds = [BOS, ...bpe.encode("Call me<mask>. Some years ago"), EOS]; // <mask> strips the space on its left
  const cases = [
    {
      kind: "bert" as const,
      model: new BertForMaskedLM(bc, { generator: g() }),
      config: bc,
      tok: wordPieceJSON(),
      text,
      ids: wpIds,
      mask: id("[MASK]"),
      decode: (i: number) => wordPiece.decode([i]),
    },
    {
      kind: "deberta" as const,
      model: new DebertaForMaskedLM(dc, { generator: g() }),
      config: dc,
      tok: wordPieceJSON(),
      text,
      ids: wpIds,
      mask: id("[MASK]"),
      decode: (i: number) => wordPiece.decode([i]),
    },
    {
      kind: "roberta" as const,
      model: new RobertaForMaskedLM(rc, { generator: g() }),
      config: rc,
      tok: bpeJSON(["<s>", "A", "</s>"]),
      text: rText,
      ids: rIds,
      mask: MASK,
      decode: (i: number) => bpe.decode([i]),
    },
  ];
  for (const c of cases) {
    const dir = folder(`mlm-${c.kind}`, c.kind, c.model, c.config, c.tok);
    const r = wnn("fill-mask", "--model", dir, "--text", c.text, "--top_k", "4", "--json");
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout) as Prediction[];
    const want = expected(c.model, c.ids, c.mask, 4, c.decode);
    assert.equal(want.length, c.kind === "roberta" ? 1 : 2);
    assert.deepEqual(got, want, c.kind);
    // the plain output lists the same tokens and probabilities
    const plain = wnn("fill-mask", "--model", dir, "--text", c.text, "--top_k", "4");
    assert.equal(plain.code, 0, plain.stderr);
    for (const p of want) {
      assert.ok(plain.stdout.includes(`(token ${p.position}):`), plain.stdout);
      for (const cand of p.candidates)
        assert.ok(
          plain.stdout.includes(`  ${cand.probability.toFixed(4)}  ${JSON.stringify(cand.token)}  (id ${cand.id})`),
          plain.stdout,
        );
    }
  }
});

// ---------------------------------------------------------------------------------------------------
// Errors and help

test("sample --model / fill-mask: usage errors exit 2, unreadable folders exit 1, --help exits 0", () => {
  const bc = bertConfig("tiny", {
    vocabSize: WP_VOCAB.length,
    maxPositions: 32,
    nLayer: 1,
    nHead: 2,
    dModel: 16,
    dFF: 32,
  });
  const bertDir = folder("err-bert", "bert", new BertForMaskedLM(bc, { generator: g() }), bc, wordPieceJSON());
  const { model, config } = DECODERS[0]!.make();
  const gptDir = folder("err-gpt2", "gpt2", model, config, bpeJSON(null));
  const cases: [string[], number, RegExp][] = [
    [["fill-mask"], 2, /fill-mask: which model\? give --model DIR/],
    [["fill-mask", "--model", bertDir], 2, /fill-mask: give the text with --text/],
    [["fill-mask", "--model", bertDir, "--text", "no mask here"], 2, /fill-mask: the text has no mask token \[MASK\]/],
    [["fill-mask", "--model", gptDir, "--text", "a <mask>"], 2, /holds a gpt2 model; fill-mask needs an encoder/],
    [["sample", "--model", bertDir, "--prompt", "hi"], 2, /holds a bert model, an encoder.*wnn fill-mask/],
    [["sample", "--model", gptDir, "--checkpoint", gptDir], 2, /give --checkpoint or --model, not both/],
  ];
  for (const [args, code, re] of cases) {
    const r = wnn(...args);
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(" "));
  }
  unlinkSync(join(gptDir, "tokenizer.json"));
  const noTok = wnn("sample", "--model", gptDir, "--prompt", "hi");
  assert.equal(noTok.code, 1);
  assert.match(noTok.stderr, /no tokenizer\.json/);
  const help = wnn("fill-mask", "--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--model DIR[\s\S]*--text TEXT[\s\S]*--top_k N[\s\S]*--mask_token TOKEN/);
  assert.match(wnn("sample", "--help").stdout, /wnn sample --model DIR --prompt TEXT[\s\S]*--model DIR/);
  assert.match(wnn("--help").stdout, /fill-mask --model DIR/);
  // the folder itself reads back as the model written
  assert.equal(fromPretrained(readHFFolder(bertDir)).kind, "bert");
});
