// Hugging Face checkpoint folders: every Transformer of the zoo written as a tiny HF-layout checkpoint
// (toHFFiles → writeHFFolder) and read back (readHFFolder → fromPretrained) gives bit-identical logits;
// malformed folders and checkpoints are LoadErrors that name the problem.

import { strict as assert } from "node:assert";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { tensor, zeros } from "../../src/engine/creation.js";
import { LoadError } from "../../src/engine/errors.js";
import { Generator } from "../../src/engine/rng.js";
import type { Tensor } from "../../src/engine/tensor.js";
import { readHFFolder, writeHFFolder } from "../../src/io/hf-folder.js";
import { Bart, bartConfig } from "../../src/models/bart/model.js";
import { BertForMaskedLM, BertModel, bertConfig } from "../../src/models/bert/model.js";
import { Bloom, bloomConfig } from "../../src/models/bloom/model.js";
import { DebertaForMaskedLM, debertaConfig } from "../../src/models/deberta/model.js";
import { Falcon, falconConfig } from "../../src/models/falcon/model.js";
import { GPT, gptConfig } from "../../src/models/gpt2/model.js";
import { fromPretrained, toHFFiles, type HFKind } from "../../src/models/hf.js";
import { Llama, llamaConfig } from "../../src/models/llama/model.js";
import { Mixtral, mixtralConfig } from "../../src/models/mixtral/model.js";
import { RobertaForMaskedLM, robertaConfig } from "../../src/models/roberta/model.js";
import { T5, t5Config } from "../../src/models/t5/model.js";
import type { Module } from "../../src/nn/module.js";

const tmp = mkdtempSync(join(tmpdir(), "wnn-hf-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const V = 50;
/** (B, T) int32 ids from a seeded generator */
function ids(B: number, T: number, seed: number, low = 0): Tensor {
  const g = new Generator(seed);
  return tensor(
    Int32Array.from({ length: B * T }, () => low + Math.floor(g.random() * (V - low))),
    { shape: [B, T] },
  );
}
const src = ids(2, 7, 1, 3),
  tgt = ids(2, 5, 2, 3);

interface Case {
  name: string;
  kind: HFKind;
  make(g: Generator): { model: Module; config: unknown };
  logits(m: Module): Tensor;
  /** write with shards of at most this many bytes */
  shard?: number;
}

const decoder = (m: Module): Tensor => (m as GPT).forward(src).logits;
const masked = (m: Module): Tensor => (m as BertForMaskedLM).forward(src).logits;
const seq2seq = (m: Module): Tensor => (m as T5).forward(src, tgt).logits;

const CASES: Case[] = [
  {
    name: "gpt2",
    kind: "gpt2",
    shard: 4000,
    logits: decoder,
    make(g) {
      const config = gptConfig({ vocabSize: V, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true });
      return { model: new GPT(config, { generator: g }), config };
    },
  },
  {
    name: "llama",
    kind: "llama",
    logits: decoder,
    make(g) {
      const config = llamaConfig({
        vocabSize: V,
        blockSize: 16,
        nLayer: 2,
        nHead: 4,
        nKvHeads: 2,
        nEmbd: 16,
        intermediateSize: 24,
        multipleOf: 8,
        normEps: 1e-5,
        ropeTheta: 10000,
        dropout: 0,
      });
      return { model: new Llama(config, { generator: g }), config };
    },
  },
  {
    name: "mixtral",
    kind: "mixtral",
    shard: 6000,
    logits: decoder,
    make(g) {
      const config = mixtralConfig({
        vocabSize: V,
        blockSize: 16,
        nLayer: 2,
        nHead: 4,
        nKvHeads: 2,
        nEmbd: 16,
        intermediateSize: 12,
        nExperts: 4,
        topK: 2,
        routerAuxLossCoef: 0.02,
        normEps: 1e-5,
        ropeTheta: 1e6,
        dropout: 0,
      });
      return { model: new Mixtral(config, { generator: g }), config };
    },
  },
  {
    name: "bloom",
    kind: "bloom",
    logits: decoder,
    make(g) {
      const config = bloomConfig({
        vocabSize: V,
        blockSize: 16,
        nLayer: 2,
        nHead: 3,
        nEmbd: 18,
        dropout: 0,
        bias: true,
      });
      return { model: new Bloom(config, { generator: g }), config };
    },
  },
  {
    name: "falcon",
    kind: "falcon",
    logits: decoder,
    make(g) {
      const config = falconConfig({
        vocabSize: V,
        blockSize: 16,
        nLayer: 2,
        nHead: 4,
        nEmbd: 16,
        dropout: 0,
        bias: false,
        ropeTheta: 10000,
      });
      return { model: new Falcon(config, { generator: g }), config };
    },
  },
  {
    name: "bert",
    kind: "bert",
    logits: masked,
    make(g) {
      const config = bertConfig("tiny", { vocabSize: V, maxPositions: 16, nLayer: 2, nHead: 2, dModel: 16, dFF: 32 });
      return { model: new BertForMaskedLM(config, { generator: g }), config };
    },
  },
  {
    name: "bert (trunk with pooler)",
    kind: "bert",
    logits: (m) => (m as BertModel).forward(src).pooled!,
    make(g) {
      const config = bertConfig("tiny", { vocabSize: V, maxPositions: 16, nLayer: 1, nHead: 2, dModel: 16, dFF: 32 });
      return { model: new BertModel(config, { generator: g }), config };
    },
  },
  {
    name: "roberta",
    kind: "roberta",
    logits: masked,
    make(g) {
      const config = robertaConfig("tiny", {
        vocabSize: V,
        maxPositions: 18,
        nLayer: 2,
        nHead: 2,
        dModel: 16,
        dFF: 32,
      });
      return { model: new RobertaForMaskedLM(config, { generator: g }), config };
    },
  },
  {
    name: "deberta",
    kind: "deberta",
    logits: masked,
    make(g) {
      const config = debertaConfig("tiny", {
        vocabSize: V,
        nLayer: 2,
        nHead: 2,
        dModel: 16,
        dFF: 32,
        positionBuckets: 8,
        maxRelativePositions: 32,
      });
      return { model: new DebertaForMaskedLM(config, { generator: g }), config };
    },
  },
  {
    name: "t5 v1.0",
    kind: "t5",
    shard: 6000,
    logits: seq2seq,
    make(g) {
      const config = t5Config("t5-small", {
        vocabSize: V,
        nEncoderLayer: 2,
        nDecoderLayer: 1,
        nHead: 2,
        dModel: 16,
        dKv: 8,
        dFF: 32,
        numBuckets: 8,
        maxDistance: 16,
      });
      return { model: new T5(config, { generator: g }), config };
    },
  },
  {
    name: "t5 v1.1",
    kind: "t5",
    logits: seq2seq,
    make(g) {
      const config = t5Config("tiny", {
        vocabSize: V,
        nEncoderLayer: 2,
        nDecoderLayer: 2,
        nHead: 2,
        dModel: 16,
        dKv: 8,
        dFF: 32,
        numBuckets: 8,
        maxDistance: 16,
      });
      return { model: new T5(config, { generator: g }), config };
    },
  },
  {
    name: "bart",
    kind: "bart",
    logits: seq2seq,
    make(g) {
      const config = bartConfig("tiny", {
        vocabSize: V,
        maxPositions: 16,
        nEncoderLayer: 2,
        nDecoderLayer: 2,
        nHead: 2,
        dModel: 16,
        dFF: 32,
      });
      const model = new Bart(config, { generator: g });
      // a non-zero final_logits_bias, so the round trip shows it is carried
      model.finalLogitsBias.storage.set(Float32Array.from({ length: V }, (_, i) => ((i * 7) % 5) / 10));
      return { model, config };
    },
  },
];

function bitsEqual(a: Tensor, b: Tensor, what: string): void {
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  const x = new Uint8Array(a.storage.buffer, a.storage.byteOffset, a.storage.byteLength);
  const y = new Uint8Array(b.storage.buffer, b.storage.byteOffset, b.storage.byteLength);
  assert.ok(Buffer.compare(x, y) === 0, `${what}: logits are not bit-identical`);
}

for (const c of CASES) {
  test(`HF round trip: ${c.name} — toHFFiles → writeHFFolder → readHFFolder → fromPretrained gives bit-identical logits`, () => {
    const { model, config } = c.make(new Generator(42));
    model.eval();
    const before = c.logits(model);
    const dir = join(tmp, c.name.replace(/\W+/g, "-"));
    writeHFFolder(dir, toHFFiles(c.kind, model, config), c.shard ? { maxShardBytes: c.shard } : {});
    const files = readdirSync(dir);
    if (c.shard) {
      assert.ok(
        files.includes("model.safetensors.index.json") && !files.includes("model.safetensors"),
        `sharded: ${files.join(", ")}`,
      );
      assert.ok(
        files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f)).length > 1,
        `several shards: ${files.join(", ")}`,
      );
    } else {
      assert.ok(
        files.includes("model.safetensors") && !files.includes("model.safetensors.index.json"),
        `one file: ${files.join(", ")}`,
      );
    }
    const loaded = fromPretrained(readHFFolder(dir));
    assert.equal(loaded.kind, c.kind);
    assert.equal(loaded.model.constructor, model.constructor);
    assert.equal(loaded.model.training, false);
    bitsEqual(c.logits(loaded.model), before, c.name);
    // and a fresh model of the same config (other weights) differs: the comparison can fail
    const other = c.make(new Generator(7)).model;
    other.eval();
    assert.notDeepEqual(Array.from(c.logits(other).storage), Array.from(before.storage));
  });
}

test("HF round trip: writing again in the other layout leaves one set of weights", () => {
  const { model, config } = CASES[0]!.make(new Generator(3));
  const dir = join(tmp, "relayout");
  writeHFFolder(dir, toHFFiles("gpt2", model, config), { maxShardBytes: 4000 });
  writeHFFolder(dir, toHFFiles("gpt2", model, config));
  assert.deepEqual(readdirSync(dir).sort(), ["config.json", "model.safetensors"]);
  writeHFFolder(dir, toHFFiles("gpt2", model, config), { maxShardBytes: 4000 });
  assert.ok(!readdirSync(dir).includes("model.safetensors"));
  fromPretrained(readHFFolder(dir));
});

test("HF: tokenizer.json and tokenizer_config.json are read with the weights", () => {
  const { model, config } = CASES[0]!.make(new Generator(3));
  const dir = join(tmp, "with-tokenizer");
  writeHFFolder(dir, { ...toHFFiles("gpt2", model, config), tokenizerJSON: { model: { type: "BPE" } } });
  writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify({ mask_token: "<mask>" }));
  const f = readHFFolder(dir);
  assert.deepEqual(JSON.parse(f.tokenizerJSON!), { model: { type: "BPE" } });
  assert.deepEqual({ ...f.tokenizerConfig }, { mask_token: "<mask>" });
});

// ---------------------------------------------------------------------------------------------------
// Malformed folders and checkpoints

function loadError(f: () => unknown, re: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof LoadError, `a LoadError, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  });
}

/** A fresh tiny GPT-2 folder; `edit` changes the files before they are written. */
function gpt2Folder(
  name: string,
  opts: {
    shard?: number;
    edit?: (f: { config: Record<string, unknown>; tensors: Record<string, Tensor> }) => void;
  } = {},
): string {
  const { model, config } = CASES[0]!.make(new Generator(5));
  const files = toHFFiles("gpt2", model, config);
  opts.edit?.(files);
  const dir = join(tmp, `bad-${name}`);
  writeHFFolder(dir, files, opts.shard ? { maxShardBytes: opts.shard } : {});
  return dir;
}
const load = (dir: string): unknown => fromPretrained(readHFFolder(dir));

test("HF malformed: no config.json", () => {
  const dir = gpt2Folder("no-config");
  unlinkSync(join(dir, "config.json"));
  loadError(() => readHFFolder(dir), /no config\.json/);
  // a folder that is not there: say where such a folder comes from (nothing here downloads)
  loadError(
    () => readHFFolder(join(tmp, "not-there")),
    /no such folder\. --model reads a Hugging Face checkpoint folder .* nothing here downloads/,
  );
});

test("HF malformed: an unknown model_type, an unknown field, an unsupported setting", () => {
  loadError(
    () => load(gpt2Folder("type", { edit: (f) => (f.config.model_type = "gptj") })),
    /model_type "gptj" is not supported \(supported: gpt2, llama/,
  );
  loadError(
    () => load(gpt2Folder("field", { edit: (f) => (f.config.rotary_dim = 8) })),
    /"rotary_dim" is a field writtingNNs does not know/,
  );
  loadError(
    () => load(gpt2Folder("act", { edit: (f) => (f.config.activation_function = "relu") })),
    /activation_function is "relu", which writtingNNs does not support/,
  );
  loadError(() => load(gpt2Folder("missing-field", { edit: (f) => delete f.config.n_head })), /n_head is missing/);
  const t5 = CASES.find((c) => c.name === "t5 v1.1")!.make(new Generator(1));
  const files = toHFFiles("t5", t5.model, t5.config);
  loadError(
    () => fromPretrained({ config: { ...files.config, feed_forward_proj: "gated-silu" }, tensors: files.tensors }),
    /feed_forward_proj is "gated-silu"/,
  );
});

test("HF: the generic tie_word_embeddings field — true loads a tied-head family (GPT-2, BERT), false is refused", () => {
  const plain = fromPretrained(readHFFolder(gpt2Folder("tied-plain"))) as { model: Module };
  const tied = fromPretrained(
    readHFFolder(gpt2Folder("tied-true", { edit: (f) => (f.config.tie_word_embeddings = true) })),
  ) as { model: Module };
  const a = plain.model.stateDict(),
    b = tied.model.stateDict();
  assert.deepEqual(Object.keys(b), Object.keys(a));
  for (const k of Object.keys(a)) assert.deepEqual(Array.from(b[k]!.storage), Array.from(a[k]!.storage), k);
  loadError(
    () => load(gpt2Folder("tied-false", { edit: (f) => (f.config.tie_word_embeddings = false) })),
    /tie_word_embeddings is false, which writtingNNs does not support \(the output head is the word embedding/,
  );
  const bert = CASES.find((c) => c.kind === "bert")!.make(new Generator(2));
  const files = toHFFiles("bert", bert.model, bert.config);
  assert.doesNotThrow(() =>
    fromPretrained({ config: { ...files.config, tie_word_embeddings: true }, tensors: files.tensors }),
  );
});

test("HF pickles: refused when they are the only weights, ignored (never opened) beside safetensors", () => {
  const alone = join(tmp, "pickle-only");
  const dir = gpt2Folder("pickle-beside");
  rmSync(alone, { recursive: true, force: true });
  writeHFFolder(alone, { config: JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as object, tensors: {} });
  unlinkSync(join(alone, "model.safetensors"));
  writeFileSync(join(alone, "pytorch_model.bin"), "not a real pickle: it must never be opened");
  loadError(
    () => readHFFolder(alone),
    /only pickle weights \(pytorch_model\.bin\); a pickle can run arbitrary code[\s\S]*needs its weights as safetensors[\s\S]*convert/,
  );
  // beside safetensors: "pickles" that cannot be read as files (folders) prove they are never opened
  const before = readHFFolder(dir);
  mkdirSync(join(dir, "pytorch_model.bin"));
  mkdirSync(join(dir, "model.pt"));
  const again = readHFFolder(dir);
  assert.deepEqual(Object.keys(again.tensors).sort(), Object.keys(before.tensors).sort());
  for (const [name, t] of Object.entries(before.tensors))
    assert.deepEqual(again.tensors[name]!.storage, t.storage, name);
});

test("HF malformed: an index that names a missing shard, a path, or the wrong shard", () => {
  const dir = gpt2Folder("index", { shard: 4000 });
  const indexPath = join(dir, "model.safetensors.index.json");
  const index = JSON.parse(readFileSync(indexPath, "utf8")) as { weight_map: Record<string, string> };
  const names = Object.keys(index.weight_map);
  const shards = [...new Set(Object.values(index.weight_map))];
  const withMap = (edit: (m: Record<string, string>) => void): void => {
    const m = { ...index.weight_map };
    edit(m);
    writeFileSync(indexPath, JSON.stringify({ metadata: {}, weight_map: m }));
  };
  withMap((m) => (m[names[0]!] = "model-00009-of-00009.safetensors"));
  loadError(() => readHFFolder(dir), /names the shard "model-00009-of-00009\.safetensors", which is not in/);
  withMap((m) => (m[names[0]!] = "../model.safetensors"));
  loadError(() => readHFFolder(dir), /names the shard "\.\.\/model\.safetensors", which is not a plain file name/);
  withMap((m) => (m[names[0]!] = "/etc/model.safetensors"));
  loadError(() => readHFFolder(dir), /not a plain file name/);
  // a tensor put in another shard than the one holding it
  // a tensor that shares its shard with others (so the shard is still read when the tensor is dropped from the index)
  const first = names.find((n) => names.filter((m) => index.weight_map[m] === index.weight_map[n]).length > 1)!,
    elsewhere = shards.find((s) => s !== index.weight_map[first])!;
  withMap((m) => (m[first] = elsewhere));
  const q = first.replace(/\./g, "\\.");
  loadError(
    () => readHFFolder(dir),
    new RegExp(
      `holds tensor "${q}", but the index puts it in "${elsewhere}"|tensor "${q}" should be in ${elsewhere}, which does not hold it`,
    ),
  );
  // a tensor of a shard that the index does not list
  withMap((m) => delete m[first]);
  loadError(() => readHFFolder(dir), new RegExp(`holds tensor "${q}", but the index does not list it`));
  // the same name twice in the index (JSON.parse would keep the last silently)
  writeFileSync(indexPath, `{"weight_map": {"a": "${shards[0]}", "a": "${shards[1]}"}}`);
  loadError(() => readHFFolder(dir), /duplicate key "a"|"a" twice|duplicate/i);
  writeFileSync(indexPath, `{"weight_map": ["x"]}`);
  loadError(() => readHFFolder(dir), /"weight_map" must be an object/);
  // both layouts at once
  withMap(() => {});
  writeFileSync(join(dir, "model.safetensors"), readFileSync(join(dir, shards[0]!)));
  loadError(() => readHFFolder(dir), /has both model\.safetensors and model\.safetensors\.index\.json/);
});

test("HF malformed: a wrong shape, a missing and an unexpected tensor are named with their shapes", () => {
  loadError(
    () => load(gpt2Folder("shape", { edit: (f) => (f.tensors["transformer.h.0.ln_1.weight"] = zeros([17])) })),
    /wrong shapes: transformer\.h\.0\.ln_1\.weight has shape \(17\), this config needs \(16\)/,
  );
  loadError(
    () => load(gpt2Folder("missing", { edit: (f) => delete f.tensors["transformer.h.1.mlp.c_fc.bias"] })),
    /missing tensors: transformer\.h\.1\.mlp\.c_fc\.bias \(64\)/,
  );
  loadError(
    () =>
      load(
        gpt2Folder("unexpected", { edit: (f) => (f.tensors["transformer.h.0.attn.rotary.weight"] = zeros([2, 3])) }),
      ),
    /unexpected tensors: transformer\.h\.0\.attn\.rotary\.weight \(2,3\)/,
  );
  // a tied copy of the wrong shape is caught too, and the extras of the one list are accepted
  loadError(
    () => load(gpt2Folder("tied", { edit: (f) => (f.tensors["lm_head.weight"] = zeros([V, 3])) })),
    /lm_head\.weight is \(50,3\) in the file, but it is the head, tied to wte \(50,16\)/,
  );
  const ok = gpt2Folder("extras", {
    edit: (f) => {
      f.tensors["lm_head.weight"] = f.tensors["transformer.wte.weight"]!;
      f.tensors["transformer.h.0.attn.masked_bias"] = zeros([1]);
    },
  });
  assert.equal((load(ok) as { kind: string }).kind, "gpt2");
});

test("HF: a trunk saved without its prefix and TensorFlow-era gamma/beta names load as the same model", () => {
  const c = CASES.find((x) => x.name === "bert (trunk with pooler)")!;
  const { model, config } = c.make(new Generator(9));
  model.eval();
  const files = toHFFiles("bert", model, config);
  const renamed: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(files.tensors))
    renamed[
      k
        .replace(/^bert\./, "")
        .replace(/LayerNorm\.weight$/, "LayerNorm.gamma")
        .replace(/LayerNorm\.bias$/, "LayerNorm.beta")
    ] = t;
  assert.ok("embeddings.LayerNorm.gamma" in renamed);
  const loaded = fromPretrained({ config: files.config, tensors: renamed });
  bitsEqual(c.logits(loaded.model), c.logits(model), "renamed bert");
  assert.ok(existsSync(tmp));
});

test("HF: the layouts of released files — tied copies stored, prefixes dropped, buffers missing — load as the same model", () => {
  const run = (
    name: string,
    kind: HFKind,
    edit: (f: { config: Record<string, unknown>; tensors: Record<string, Tensor> }) => void,
    prepare?: (m: Module) => void,
  ): void => {
    const c = CASES.find((x) => x.name === name)!;
    const { model, config } = c.make(new Generator(13));
    model.eval();
    prepare?.(model);
    const files = toHFFiles(kind, model, config);
    edit(files);
    const loaded = fromPretrained(files);
    bitsEqual(c.logits(loaded.model), c.logits(model), `${name} as released`);
  };
  // T5 v1.0: the stacks' copies of shared.weight and the tied lm_head are stored too
  run("t5 v1.0", "t5", (f) => {
    for (const k of ["encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight"])
      f.tensors[k] = f.tensors["shared.weight"]!;
  });
  // BART saved as BartModel: no "model." prefix and no final_logits_bias (zeros, as Hugging Face starts it)
  run(
    "bart",
    "bart",
    (f) => {
      for (const k of Object.keys(f.tensors)) {
        const t = f.tensors[k]!;
        delete f.tensors[k];
        if (k !== "final_logits_bias") f.tensors[k.replace(/^model\./, "")] = t;
      }
    },
    (m) => (m as Bart).finalLogitsBias.storage.fill(0),
  );
  // DeBERTa-v3's own MLM head names and its replaced-token-detection head
  run("deberta", "deberta", (f) => {
    for (const [from, to] of [
      ["cls.predictions.transform.dense.weight", "lm_predictions.lm_head.dense.weight"],
      ["cls.predictions.transform.LayerNorm.bias", "lm_predictions.lm_head.LayerNorm.bias"],
      ["cls.predictions.bias", "lm_predictions.lm_head.bias"],
    ] as const) {
      f.tensors[to] = f.tensors[from]!;
      delete f.tensors[from];
    }
    f.tensors["mask_predictions.classifier.weight"] = zeros([1, 16]);
  });
});

test("HF: a LLaMA with tie_word_embeddings and no lm_head.weight gets the embedding as its head", () => {
  const c = CASES.find((x) => x.name === "llama")!;
  const { model, config } = c.make(new Generator(13));
  const files = toHFFiles("llama", model, config);
  delete files.tensors["lm_head.weight"];
  loadError(() => fromPretrained(files), /missing tensors: lm_head\.weight \(50,16\)/);
  const loaded = fromPretrained({ config: { ...files.config, tie_word_embeddings: true }, tensors: files.tensors })
    .model as Llama;
  assert.deepEqual(Array.from(loaded.lmHead.weight.storage), Array.from((model as Llama).tokEmb.weight.storage));
});

test("HF malformed: a config.json far larger than its tensors is refused before anything is allocated", () => {
  loadError(
    () => load(gpt2Folder("huge", { edit: (f) => (f.config.vocab_size = 1e9) })),
    /config\.json describes a model of 16,000,[\d,]+ parameters, but the files hold [\d,]+ numbers/,
  );
  loadError(
    () => load(gpt2Folder("deep", { edit: (f) => (f.config.n_layer = 100_000) })),
    /describes a model of [\d,]+ parameters/,
  );
});

test("HF fuzz: mutated config.json and index.json bytes load or raise LoadError, never anything else", () => {
  const dir = gpt2Folder("fuzz", { shard: 4000 });
  const paths = [join(dir, "config.json"), join(dir, "model.safetensors.index.json")];
  const originals = paths.map((p) => readFileSync(p));
  const g = new Generator(2026);
  let loadErrors = 0;
  for (let trial = 0; trial < 300; trial++) {
    const k = trial % 2;
    const bytes = Buffer.from(originals[k]!);
    for (let m = 1 + Math.floor(g.random() * 3); m > 0; m--) {
      const at = Math.floor(g.random() * bytes.length);
      const r = g.random();
      // flip a digit, a quote, a brace, or any byte
      bytes[at] =
        r < 0.3 ? 0x30 + Math.floor(g.random() * 10) : r < 0.45 ? 0x22 : r < 0.6 ? 0x7d : Math.floor(g.random() * 256);
    }
    writeFileSync(paths[k]!, bytes);
    try {
      load(dir);
    } catch (e) {
      if (!(e instanceof LoadError))
        throw new Error(`trial ${trial}: ${String(e)}\n${bytes.toString("latin1").slice(0, 400)}`);
      loadErrors++;
    }
    writeFileSync(paths[k]!, originals[k]!);
  }
  assert.ok(loadErrors > 100, `most mutations are caught (${loadErrors} of 300)`);
});
