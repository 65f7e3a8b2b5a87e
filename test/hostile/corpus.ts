// The hostile-input corpus: careless and hostile inputs for every reader of user files, the command
// line and the tensor API, generated into a fresh folder by seeded code (nothing large is committed).
// Each generator returns its cases (./run.ts runs them); a new format adds a generator to GENERATORS.
//
//   hand-written cases   one per way a file can lie: sizes, counts, depths, types, kinds of file (a
//                        folder, a FIFO, a missing file), configs that disagree with their weights
//   mutation fuzzing     a valid file with seeded random edits (bytes for binary files, values and
//                        keys for JSON): each must be accepted or refused with a typed error

import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CharTokenizer } from "../../src/data/char.js";
import { tokenizerIdCount } from "../../src/data/tokenizer-file.js";
import { Generator } from "../../src/engine/rng.js";
import { tensor } from "../../src/engine/creation.js";
import type { Tensor } from "../../src/engine/tensor.js";
import { serializeCheckpoint, type Checkpoint } from "../../src/io/checkpoint.js";
import { writeHFFolder } from "../../src/io/hf-folder.js";
import { joinPlan, planSafetensors } from "../../src/io/safetensors.js";
import { GPT, gptConfig } from "../../src/models/gpt2/model.js";
import { GPTTrainer } from "../../src/models/gpt2/train.js";
import { toHFFiles } from "../../src/models/hf.js";
import type { Case } from "./run.js";
import { MORE_GENERATORS } from "./corpus-more.js";

export interface Ctx {
  /** the corpus's folder: every file a case reads is made under it */
  root: string;
  g: Generator;
  /** a new sub-folder of root */
  dir(name: string): string;
  /** write a file under root (a string as UTF-8) and return its path */
  file(name: string, content: string | Uint8Array): string;
  /** a FIFO under root (nothing ever writes to it: reading it blocks forever) */
  fifo(name: string): string;
}

const FIXTURES = new URL("../../../test/fixtures/data/", import.meta.url);
const fixture = (name: string): any => JSON.parse(readFileSync(new URL(name, FIXTURES), "utf8"));

/** A safetensors file from a header object (written as given: offsets, dtypes and all) and data bytes. */
export function rawSafetensors(header: unknown, data = new Uint8Array(0), headerText?: string): Uint8Array {
  const text = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// safetensors

function safetensorsCases(c: Ctx): Case[] {
  const cases: Case[] = [];
  const add = (name: string, bytes: Uint8Array | string, expect: Case["expect"] = "error", lazyToo = false): void => {
    const p = typeof bytes === "string" ? bytes : c.file(`st/${cases.length}.safetensors`, bytes);
    cases.push({ format: "safetensors", name, lib: { op: "safetensors", args: [p] }, expect });
    if (lazyToo)
      cases.push({
        format: "safetensors",
        name: `${name} (read lazily)`,
        lib: { op: "safetensors-lazy", args: [p] },
        expect,
      });
  };
  const f32 = (shape: number[], begin: number, end: number): unknown => ({
    dtype: "F32",
    shape,
    data_offsets: [begin, end],
  });
  const valid = joinPlan(
    planSafetensors({
      a: tensor([
        [1, 2],
        [3, 4],
      ]),
      b: tensor([5, 6, 7]),
    }),
  );
  add("a valid file", valid, "ok", true);
  add("an empty file", new Uint8Array(0), "error", true);
  add("7 bytes", new Uint8Array(7), "error", true);
  const lenOnly = new Uint8Array(8);
  new DataView(lenOnly.buffer).setBigUint64(0, 1000n, true);
  add("a header length past the end", lenOnly, "error", true);
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
  add("a header length of 2^63", huge, "error", true);
  add("a header length of 1", rawSafetensors(null, new Uint8Array(0), "{"), "error");
  add("a header that is not an object", rawSafetensors([1, 2]));
  add("a header that is not JSON", rawSafetensors(null, new Uint8Array(0), "{nope}"));
  add(
    "a header of invalid UTF-8",
    (() => {
      const b = rawSafetensors(null, new Uint8Array(0), '{"a":"xx"}');
      b[14] = 0xff;
      return b;
    })(),
  );
  add(
    "a duplicate tensor name",
    rawSafetensors(
      null,
      new Uint8Array(8),
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
    ),
  );
  add("an unknown dtype", rawSafetensors({ a: { dtype: "F31", shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)));
  add(
    "an unsupported dtype",
    rawSafetensors({ a: { dtype: "U64", shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)),
  );
  add("a negative dim", rawSafetensors({ a: f32([-1], 0, 4) }, new Uint8Array(4)));
  add("a fractional dim", rawSafetensors({ a: f32([1.5], 0, 4) }, new Uint8Array(4)));
  add(
    "dims whose product passes 2^53",
    rawSafetensors({ a: f32([2 ** 30, 2 ** 30, 2 ** 30], 0, 4) }, new Uint8Array(4)),
    "error",
    true,
  );
  add(
    "a shape of 2^31 × 2^31 over 4 bytes",
    rawSafetensors({ a: f32([2 ** 31, 2 ** 31], 0, 4) }, new Uint8Array(4)),
    "error",
    true,
  );
  add("offsets in reverse", rawSafetensors({ a: f32([1], 4, 0) }, new Uint8Array(4)));
  add("offsets past the data", rawSafetensors({ a: f32([1000], 0, 4000) }, new Uint8Array(4)), "error", true);
  add("a gap between tensors", rawSafetensors({ a: f32([1], 0, 4), b: f32([1], 8, 12) }, new Uint8Array(12)));
  add("overlapping tensors", rawSafetensors({ a: f32([2], 0, 8), b: f32([1], 4, 8) }, new Uint8Array(8)));
  add("an unknown field", rawSafetensors({ a: { ...(f32([1], 0, 4) as object), extra: 1 } }, new Uint8Array(4)));
  add("metadata that is not strings", rawSafetensors({ __metadata__: { a: 1 } }));
  add("an entry that is not an object", rawSafetensors({ a: 5 }));
  add(
    "JSON nested 100,000 deep",
    rawSafetensors(null, new Uint8Array(0), '{"a":' + "[".repeat(100_000) + "]".repeat(100_000) + "}"),
  );
  add(
    "a string of 10 MB as a name",
    rawSafetensors(
      null,
      new Uint8Array(0),
      `{"${"n".repeat(10_000_000)}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`,
    ),
  );
  // 1,000,000 zero-size tensors (59 MB): once 34 s and 1.6 GB before the error
  const many = (n: number): string =>
    "{" +
    Array.from({ length: n }, (_, i) => `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`).join(",") +
    "}";
  add(
    "1,000,000 zero-size tensors (59 MB of header)",
    rawSafetensors(null, new Uint8Array(0), many(1_000_000)),
    "error",
    true,
  );
  add("50,000 zero-size tensors (under the cap)", rawSafetensors(null, new Uint8Array(0), many(50_000)), "ok");
  add("a folder named model.safetensors", c.dir("st/dir.safetensors"), "error", true);
  add("a FIFO named model.safetensors", c.fifo("st/fifo.safetensors"), "error", true);
  add("a missing file", join(c.root, "st/missing.safetensors"), "error", true);
  const link = join(c.root, "st/link-to-fifo.safetensors");
  symlinkSync(c.fifo("st/fifo2"), link);
  add("a symbolic link to a FIFO", link, "error", true);
  const loop = join(c.root, "st/loop.safetensors");
  symlinkSync(loop, loop);
  add("a symbolic link to itself", loop, "error");
  add("/dev/zero", "/dev/zero", "error", true);
  // mutation fuzzing: seeded edits of a valid file
  for (let k = 0; k < 20; k++) {
    const b = valid.slice();
    const edits = 1 + c.g.randint(0, 4);
    for (let e = 0; e < edits; e++) {
      const kind = c.g.randint(0, 3),
        at = c.g.randint(0, b.length);
      if (kind === 0) b[at] = c.g.randint(0, 256);
      else if (kind === 1) b[at] = '0123456789[]{}",:-e.'.charCodeAt(c.g.randint(0, 21));
      else b[at]! ^= 1 << c.g.randint(0, 8);
    }
    const cut = c.g.random() < 0.2 ? b.subarray(0, c.g.randint(0, b.length)) : b;
    add(`mutation ${k} of a valid file`, cut, "any");
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------------
// Hugging Face folders and config.json

/** A tiny GPT-2 as a Hugging Face folder's files. */
function tinyGpt2(): { config: Record<string, unknown>; tensors: Record<string, Tensor> } {
  const cfg = gptConfig("tiny", { vocabSize: 300, nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 16 });
  return toHFFiles("gpt2", new GPT(cfg, { generator: new Generator(1) }), cfg);
}

function hfFolderCases(c: Ctx): Case[] {
  const cases: Case[] = [];
  const base = tinyGpt2();
  const tokenizer = JSON.stringify(fixture("bpe_moby_1000.json"));
  let n = 0;
  const folder = (edit: (dir: string) => void, files = base, tok: string | undefined = tokenizer): string => {
    const dir = c.dir(`hf/${n++}`);
    writeHFFolder(dir, {
      config: files.config,
      tensors: files.tensors,
      ...(tok === undefined ? {} : { tokenizerJSON: tok }),
    });
    edit(dir);
    return dir;
  };
  const add = (name: string, dir: string, expect: Case["expect"] = "error", format = "hf-folder"): void => {
    cases.push({ format, name, lib: { op: "hf-folder", args: [dir] }, expect });
  };
  const replaceWith =
    (what: "fifo" | "dir", name: string) =>
    (dir: string): void => {
      execFileSync("rm", ["-f", join(dir, name)]);
      if (what === "dir") mkdirSync(join(dir, name));
      else execFileSync("mkfifo", [join(dir, name)]);
    };
  const ids = tokenizerIdCount(tokenizer);
  add(
    "a valid tiny GPT-2 folder",
    folder(() => {}, { config: { ...base.config, vocab_size: ids }, tensors: tinyGpt2Vocab(ids) }),
    "ok",
  );
  for (const name of ["config.json", "model.safetensors", "tokenizer.json"]) {
    add(`${name} is a FIFO`, folder(replaceWith("fifo", name)));
    add(`${name} is a folder`, folder(replaceWith("dir", name)));
  }
  const sharded = (edit: (dir: string) => void): string => {
    const dir = c.dir(`hf/${n++}`);
    writeHFFolder(dir, base, { maxShardBytes: 64 });
    edit(dir);
    return dir;
  };
  add("the shard index is a FIFO", sharded(replaceWith("fifo", "model.safetensors.index.json")));
  add(
    "a shard is a FIFO",
    sharded((d) =>
      replaceWith(
        "fifo",
        readdirSync(d).find((f) => /^model-00001-of-\d+\.safetensors$/.test(f))!,
      )(d),
    ),
  );
  add(
    "a shard named ../x.safetensors",
    sharded((d) =>
      writeFileSync(
        join(d, "model.safetensors.index.json"),
        JSON.stringify({ weight_map: { "wte.weight": "../x.safetensors" } }),
      ),
    ),
  );
  add(
    "an index nested 10,000 deep",
    sharded((d) =>
      writeFileSync(
        join(d, "model.safetensors.index.json"),
        '{"weight_map":' + "[".repeat(10_000) + "]".repeat(10_000) + "}",
      ),
    ),
  );
  add(
    "only pickle weights",
    folder((d) => {
      execFileSync("rm", ["-f", join(d, "model.safetensors")]);
      writeFileSync(join(d, "pytorch_model.bin"), "not opened");
    }),
  );
  add(
    "no config.json",
    folder((d) => execFileSync("rm", ["-f", join(d, "config.json")])),
  );
  // tokenizer ids far past the model's vocabulary (once 16 s and 1.4 GB to load)
  add(
    "a tokenizer with 200,000 ids past a vocabulary of 300",
    folder((d) => {
      const tok = fixture("bpe_moby_1000.json");
      for (let i = 0; i < 200_000; i++) tok.model.vocab[`w${i}`] = 2000 + i;
      writeFileSync(join(d, "tokenizer.json"), JSON.stringify(tok));
    }),
  );
  add(
    "normalizers nested 20,000 deep",
    folder((d) => {
      const tok = fixture("bpe_moby_1000.json");
      tok.normalizer = "@@";
      writeFileSync(join(d, "tokenizer.json"), JSON.stringify(tok).replace('"@@"', nested(20_000)));
    }),
  );
  add(
    "NaN weights",
    folder(
      () => {},
      {
        config: base.config,
        tensors: { ...base.tensors, "h.0.ln_1.weight": tensor(Array.from({ length: 8 }, () => NaN)) },
      },
      undefined,
    ),
  );
  // config.json: careless and hostile values (each folder's weights stay the tiny model's)
  const config = (name: string, cfg: Record<string, unknown> | string, expect: Case["expect"] = "error"): void => {
    add(
      `config.json: ${name}`,
      folder(
        (d) => writeFileSync(join(d, "config.json"), typeof cfg === "string" ? cfg : JSON.stringify(cfg)),
        base,
        undefined,
      ),
      expect,
      "config.json",
    );
  };
  for (const [field, value] of [
    ["n_layer", 1e6],
    ["n_embd", 1e5],
    ["vocab_size", 1e9],
    ["n_positions", 1e9],
    ["n_head", 0],
    ["n_layer", -1],
    ["n_layer", 2.5],
    ["n_layer", "12"],
    ["n_embd", 1e300],
    ["n_head", 3],
  ] as const) {
    config(`${field} = ${JSON.stringify(value)}`, { ...base.config, [field]: value });
  }
  config("not JSON", "{ model_type: gpt2 }");
  config("an array", "[]");
  config("nested 100,000 deep", '{"a":' + "[".repeat(100_000) + "]".repeat(100_000) + "}");
  config("a duplicate key", JSON.stringify(base.config).replace("{", '{"n_layer":1,'));
  config("an unknown model_type", { ...base.config, model_type: "gpt5" });
  config("no model_type", { ...base.config, model_type: undefined });
  // config.json mutation fuzzing: one field at a time set to a seeded hostile value
  const fields = Object.keys(base.config);
  const hostile = [-1, 0, 1e9, 1e300, -1e300, 2 ** 53, 2.5, "x", "", null, true, [], {}, [1, 2], { a: 1 }];
  for (let k = 0; k < 15; k++) {
    const field = fields[c.g.randint(0, fields.length)]!,
      value = hostile[c.g.randint(0, hostile.length)];
    config(`mutation ${k}: ${field} = ${JSON.stringify(value)}`, { ...base.config, [field]: value }, "any");
  }
  for (const [name, text] of [
    ["a FIFO", null],
    ["nested 1,000 deep", "[".repeat(1000) + "]".repeat(1000)],
    ["a folder", "dir"],
  ] as const) {
    const p =
      text === null
        ? c.fifo(`json/${name}.json`)
        : text === "dir"
          ? c.dir(`json/${name}.json`)
          : c.file(`json/${name}.json`, text);
    cases.push({
      format: "config.json",
      name: `a JSON file that is ${name}`,
      lib: { op: "json", args: [p] },
      expect: "error",
    });
  }
  return cases;
}

/** `{"type":"Sequence","normalizers":[ … ]}` nested `depth` deep, as text (JSON.stringify of it would recurse). */
function nested(depth: number): string {
  return '{"type":"Sequence","normalizers":['.repeat(depth) + '{"type":"Lowercase"}' + "]}".repeat(depth);
}

/** The tiny GPT-2's tensors for a vocabulary of `V` (so a real tokenizer fits it). */
function tinyGpt2Vocab(V: number): Record<string, Tensor> {
  const cfg = gptConfig("tiny", { vocabSize: V, nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 16 });
  return toHFFiles("gpt2", new GPT(cfg, { generator: new Generator(1) }), cfg).tensors;
}

// ---------------------------------------------------------------------------------------------------
// tokenizer.json

function tokenizerCases(c: Ctx): Case[] {
  const cases: Case[] = [];
  const add = (name: string, content: string | null, expect: Case["expect"], prompt = "Call me Ishmael."): void => {
    const p = content === null ? c.fifo(`tok/${cases.length}.json`) : c.file(`tok/${cases.length}.json`, content);
    cases.push({ format: "tokenizer.json", name, lib: { op: "tokenizer", args: [p, prompt] }, expect });
  };
  const spBpe = fixture("sp_bpe.json").tokenizer; // byte-fallback BPE (LLaMA's kind)
  const moby = fixture("bpe_moby_1000.json"); // byte-level BPE (GPT-2's kind)
  const withNormalizer = (normalizer: unknown): string => JSON.stringify({ ...spBpe, normalizer });
  const replace = (regex: string): unknown => ({
    type: "Sequence",
    normalizers: [{ type: "Replace", pattern: { Regex: regex }, content: "_" }, ...spBpe.normalizer.normalizers],
  });
  add("a valid byte-fallback BPE", JSON.stringify(spBpe), "ok");
  add("a valid byte-level BPE", JSON.stringify(moby), "ok");
  // a regex from a file is untrusted code: once past 20 s (exponential in the prompt's length)
  add("Replace ^(a+)+$ on 34 × a + !", withNormalizer(replace("^(a+)+$")), "ok", "a".repeat(34) + "!");
  add("Replace ^(a+)+$ on 5,000 × a + !", withNormalizer(replace("^(a+)+$")), "ok", "a".repeat(5000) + "!");
  add("Replace (a|aa)*b on 3,000 × a", withNormalizer(replace("(a|aa)*b")), "ok", "a".repeat(3000));
  add("Replace (x*)*y on 3,000 × x", withNormalizer(replace("(x*)*y")), "ok", "x".repeat(3000));
  add(
    "Replace ^(\\w+\\s?)*$ on words and a !",
    withNormalizer(replace("^(\\w+\\s?)*$")),
    "ok",
    "word ".repeat(400) + "!",
  );
  for (const bad of ["(a)\\1", "(?<=a)b", "(?<!a)b", "(?=ab)", "(?>a)", "a{5000}", "(", "[z-a]", "\\p{Bogus}", "a++"]) {
    add(`Replace with the unsupported regex ${bad}`, withNormalizer(replace(bad)), "error");
  }
  add(
    "normalizers nested 20,000 deep",
    JSON.stringify({ ...spBpe, normalizer: "@@" }).replace('"@@"', nested(20_000)),
    "error",
  );
  add(
    "pre-tokenizers nested 100 deep",
    JSON.stringify({ ...spBpe, pre_tokenizer: "@@" }).replace(
      '"@@"',
      '{"type":"Sequence","pretokenizers":['.repeat(100) + '{"type":"WhitespaceSplit"}' + "]}".repeat(100),
    ),
    "error",
  );
  add("a model of an unknown type", JSON.stringify({ ...moby, model: { ...moby.model, type: "Bogus" } }), "error");
  add("a model that is a string", JSON.stringify({ ...moby, model: "BPE" }), "error");
  add(
    "a vocabulary that is an array of numbers",
    JSON.stringify({ ...moby, model: { ...moby.model, vocab: [1, 2, 3] } }),
    "error",
  );
  add("merges that are numbers", JSON.stringify({ ...moby, model: { ...moby.model, merges: [1, 2, 3] } }), "error");
  add("not JSON", "{ model: BPE }", "error");
  add("invalid UTF-8", "\u00ff", "any");
  add("a FIFO", null, "error");
  // mutation fuzzing: a seeded edit of one value or key of the byte-level tokenizer's JSON
  const hostile: unknown[] = [
    null,
    -1,
    1e300,
    "x",
    "",
    true,
    [],
    {},
    [[]],
    { type: "Sequence" },
    2 ** 31,
    -(2 ** 31) - 1,
  ];
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[], depth: number): void => {
    if (depth > 4 || typeof v !== "object" || v === null) return;
    const entries = Array.isArray(v) ? v.slice(0, 3).map((x, i) => [i, x] as const) : Object.entries(v).slice(0, 12);
    for (const [k, x] of entries) {
      paths.push([...path, k]);
      walk(x, [...path, k], depth + 1);
    }
  };
  walk(moby, [], 0);
  for (let k = 0; k < 20; k++) {
    const copy = JSON.parse(JSON.stringify(moby));
    const path = paths[c.g.randint(0, paths.length)]!;
    let at = copy;
    for (const key of path.slice(0, -1)) at = at[key];
    const value = hostile[c.g.randint(0, hostile.length)];
    if (c.g.random() < 0.25 && !Array.isArray(at)) delete at[path[path.length - 1]!];
    else at[path[path.length - 1]!] = value;
    add(`mutation ${k}: ${path.join(".")}`, JSON.stringify(copy), "any");
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------------
// checkpoints

function checkpointCases(c: Ctx): Case[] {
  const cases: Case[] = [];
  const cfg = gptConfig("tiny", { vocabSize: 20, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 8 });
  const tokens = Int32Array.from({ length: 200 }, (_, i) => (i * 7) % 20);
  const trainer = new GPTTrainer(
    cfg,
    {
      batchSize: 2,
      lr: 1e-3,
      minLr: 1e-4,
      warmupIters: 1,
      lrDecayIters: 10,
      iters: 10,
      evalInterval: 5,
      evalIters: 1,
      weightDecay: 0.1,
      beta1: 0.9,
      beta2: 0.99,
      gradClip: 1,
      seed: 1,
    },
    { train: tokens, val: tokens },
  );
  trainer.trainStep();
  const ckpt = trainer.checkpoint({ dataset: "corpus" });
  const add = (name: string, bytes: Uint8Array | string, expect: Case["expect"] = "error"): void => {
    const p = typeof bytes === "string" ? bytes : c.file(`ckpt/${cases.length}.safetensors`, bytes);
    cases.push({ format: "checkpoint", name, lib: { op: "checkpoint", args: [p] }, expect });
  };
  /** the checkpoint with one edit, written with a valid checksum (the file is consistent with itself) */
  const edited = (edit: (k: Checkpoint & { config: any; extra: any }) => void): Uint8Array => {
    const k = {
      ...ckpt,
      config: JSON.parse(JSON.stringify(ckpt.config)),
      extra: JSON.parse(JSON.stringify(ckpt.extra)),
      model: { ...ckpt.model },
    };
    edit(k);
    return serializeCheckpoint(k);
  };
  const valid = serializeCheckpoint(ckpt);
  add("a valid checkpoint", valid, "ok");
  for (const [field, value] of [
    ["nLayer", 1e6],
    ["nEmbd", 1e5],
    ["blockSize", 1e9],
    ["vocabSize", 1e9],
    ["nHead", 0],
    ["nLayer", 2],
    ["nEmbd", 32],
    ["dropout", 5],
    ["bias", "yes"],
  ] as const) {
    add(
      `model.${field} = ${value} (valid checksum)`,
      edited((k) => void (k.config.model[field] = value)),
    );
  }
  for (const [field, value] of [
    ["iters", 0],
    ["lr", -1],
    ["batchSize", 0],
    ["beta1", 1],
    ["warmupIters", 1e9],
    ["seed", -1],
  ] as const) {
    add(
      `train.${field} = ${value} (valid checksum)`,
      edited((k) => void (k.config.train[field] = value)),
    );
  }
  add(
    "step 1e9 of a 10-step run",
    edited((k) => void (k.step = 1e9)),
  );
  add(
    "extra.dropoutRng = 5",
    edited((k) => void (k.extra.dropoutRng = 5)),
  );
  add(
    "extra.dropoutRng with 3 words",
    edited((k) => void (k.extra.dropoutRng = { s: [1, 2, 3], spare: null })),
  );
  add(
    "extra.lastEval = 1e9",
    edited((k) => void (k.extra.lastEval = 1e9)),
  );
  add(
    "config.kind = bert",
    edited((k) => void (k.config.kind = "bert")),
  );
  add(
    "no optimizer state",
    edited((k) => void delete (k as Partial<Checkpoint>).optimizer),
  );
  add(
    "a scheduler state of another kind",
    edited((k) => void (k.scheduler = { kind: "step" })),
  );
  add(
    "optimizer state for other parameters",
    edited((k) => void (k.optimizer = { tensors: {}, json: { state: {}, paramGroups: [] } })),
  );
  add(
    "a NaN weight",
    edited((k) => void (k.model["normF.weight"] = tensor(Array.from({ length: 16 }, (_, i) => (i === 3 ? NaN : 1))))),
  );
  add(
    "an infinite weight",
    edited(
      (k) => void (k.model["normF.bias"] = tensor(Array.from({ length: 16 }, (_, i) => (i === 0 ? -Infinity : 0)))),
    ),
  );
  add(
    "a missing weight",
    edited((k) => void delete k.model["normF.bias"]),
  );
  const flipped = valid.slice();
  flipped[flipped.length - 5]! ^= 1;
  add("a bit flipped in the data", flipped);
  add("cut in half", valid.subarray(0, valid.length >> 1));
  add("a folder", c.dir("ckpt/dir.safetensors"));
  add("a FIFO", c.fifo("ckpt/fifo.safetensors"));
  add("a plain safetensors file", joinPlan(planSafetensors({ a: tensor([1]) })));
  for (let k = 0; k < 10; k++) {
    const b = valid.slice();
    for (let e = 0; e < 1 + c.g.randint(0, 3); e++) b[c.g.randint(0, b.length)] = c.g.randint(0, 256);
    add(`mutation ${k}: random bytes`, b, "any");
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------------
// the tensor API

function tensorCases(c: Ctx): Case[] {
  const cases: Case[] = [];
  const add = (name: string, call: unknown, expect: Case["expect"] = "error"): void => {
    cases.push({ format: "tensor", name, lib: { op: "tensor", args: [JSON.stringify(call)] }, expect });
  };
  const big = [[1e9], [1e12], [2 ** 32], [2 ** 31], [1e6, 1e6], [65536, 65536], [2 ** 20, 2 ** 20, 4], [3e9]];
  for (const fn of ["zeros", "ones", "rand", "randn"])
    for (const shape of big.slice(0, 4)) add(`${fn}(${JSON.stringify(shape)})`, { call: fn, args: [shape] });
  for (const shape of big.slice(4)) add(`full(${JSON.stringify(shape)}, 1)`, { call: "full", args: [shape, 1] });
  add("eye(1e6)", { call: "eye", args: [1e6] });
  add("eye(1e5, 1e5)", { call: "eye", args: [1e5, 1e5] });
  add("arange(0, 1e12)", { call: "arange", args: [0, 1e12] });
  add("arange(0, 1e10, 1, float32)", { call: "arange", args: [0, 1e10, 1, { dtype: "float32" }] });
  add("arange(0, 3e9) as int32", { call: "arange", args: [0, 3e9] });
  add("linspace(0, 1, 1e10)", { call: "linspace", args: [0, 1, 1e10] });
  add("randint(0, 10, [1e11])", { call: "randint", args: [0, 10, [1e11]] });
  add("oneHot(x, 1e11)", { call: "nn.functional.oneHot", args: [{ i32: [1, 2] }, 1e11] });
  add("tensor nested 10,000 deep", { call: "tensor", args: [{ nest: 10_000 }] });
  add("tensor nested 65 deep", { call: "tensor", args: [{ nest: 65 }] });
  add("tensor nested 64 deep (the most allowed)", { call: "tensor", args: [{ nest: 64 }] }, "ok");
  add("tensor([3e10, NaN]) as int32", { call: "tensor", args: [[3e10, "NaN"], { dtype: "int32" }] });
  add("tensor([NaN]) as int32", { call: "tensor", args: [["NaN"], { dtype: "int32" }] });
  add("tensor([Infinity]) as int32", { call: "tensor", args: [["Infinity"], { dtype: "int32" }] });
  add("tensor([2^31]) as int32", { call: "tensor", args: [[2 ** 31], { dtype: "int32" }] });
  add(
    "tensor([-2^31]) as int32 (the smallest int32)",
    { call: "tensor", args: [[-(2 ** 31)], { dtype: "int32" }] },
    "ok",
  );
  add("a Float32Array holding NaN as int32", { call: "tensor", args: [{ f32: ["NaN", 1] }, { dtype: "int32" }] });
  add("full([2], 1e10) as int32", { call: "full", args: [[2], 1e10, { dtype: "int32" }] });
  add("zeros([-1])", { call: "zeros", args: [[-1]] });
  add("zeros([1.5])", { call: "zeros", args: [[1.5]] });
  add("zeros of 100 dims", { call: "zeros", args: [Array.from({ length: 100 }, () => 1)] });
  add('zeros("abc")', { call: "zeros", args: ["abc"] });
  add("ragged nested arrays", { call: "tensor", args: [[[1, 2], [3]]] });
  add("a string in a tensor", { call: "tensor", args: [[1, "a"]] });
  add("setNumThreads(1000)", { call: "setNumThreads", args: [1000] });
  add("setMaxTensorBytes(-1)", { call: "setMaxTensorBytes", args: [-1] });
  add("reshape of 6 values to 1e12", { call: "reshape", args: [[1e6, 1e6]], on: { call: "zeros", args: [[6]] } });
  add("expand to (1e6, 1e6)", { call: "expand", args: [[1e6, 1e6]], on: { call: "zeros", args: [[1, 1]] } });
  // seeded shapes past the budget: 2 to 5 dims whose product passes 2^31 bytes
  for (let k = 0; k < 4; k++) {
    const ndim = 2 + c.g.randint(0, 4),
      shape: number[] = [];
    let n = 1;
    for (let d = 0; d < ndim; d++) {
      const size = d === ndim - 1 ? Math.ceil(2 ** 30 / n) + c.g.randint(1, 1000) : 1 + c.g.randint(1, 2000);
      shape.push(size);
      n *= size;
    }
    add(`zeros(${JSON.stringify(shape)}) (seeded, past the budget)`, { call: "zeros", args: [shape] });
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------------
// the command line

function cliCases(c: Ctx): Case[] {
  const cases: Case[] = [];
  const cwd = c.dir("cli");
  const add = (
    name: string,
    argv: string[],
    expect: Case["expect"] = "error",
    extra: Partial<Case> = {},
    stderr?: RegExp,
  ): void => {
    cases.push({ format: "cli", name, cli: { argv, cwd, ...(stderr ? { stderr } : {}) }, expect, ...extra });
  };
  const gpt = (...a: string[]): string[] => ["train", "gpt", ...a];
  for (const [opt, value] of [
    ["iters", "0x10"],
    ["iters", "0b11"],
    ["iters", "1e3"],
    ["iters", "Infinity"],
    ["iters", "-1"],
    ["iters", " 5"],
    ["lr", "0x1"],
    ["lr", "NaN"],
    ["lr", "Infinity"],
    ["threads", "1000"],
    ["threads", "0"],
    ["n_layer", "100000"],
    ["n_embd", "100000"],
    ["block_size", "1000000000"],
    ["batch_size", "100000000"],
    ["n_head", "3"],
    ["dropout", "1"],
    ["seed", "9007199254740993"],
  ] as const) {
    add(`train gpt --${opt} ${JSON.stringify(value)}`, gpt(`--${opt}`, value));
  }
  add("train gpt: a model too big for the machine", gpt("--n_layer", "128", "--n_embd", "16384", "--n_head", "128"));
  const file = c.file("cli/a-file", "mine\n");
  const nonEmpty = c.dir("cli/not-empty");
  const log = c.file("cli/not-empty/log.jsonl", '{"type":"train","step":1,"loss":1}\n');
  for (const out of ["/proc/x/run", "/dev/null", "/sys/x", "/dev/shm/../null"])
    add(`train gpt --out ${out}`, gpt("--out", out));
  add("train gpt --out an existing file", gpt("--out", file), "error", { keep: [file] });
  add("train gpt --out a path under a file", gpt("--out", join(file, "run")), "error", { keep: [file] });
  add("train gpt --out a folder holding a log but no checkpoint", gpt("--out", nonEmpty), "error", { keep: [log] });
  add("train gpt --resume a missing folder", gpt("--resume", join(cwd, "missing")));
  add("train gpt --resume a folder without a checkpoint", gpt("--resume", c.dir("cli/empty-run")));
  const fifoRun = c.dir("cli/fifo-run");
  execFileSync("mkfifo", [join(fifoRun, "checkpoint.safetensors")]);
  add("train gpt --resume a run whose checkpoint is a FIFO", gpt("--resume", fifoRun));
  const dirRun = c.dir("cli/dir-run");
  mkdirSync(join(dirRun, "checkpoint.safetensors"));
  add("train gpt --resume a run whose checkpoint is a folder", gpt("--resume", dirRun));
  add("sample --checkpoint a run whose checkpoint is a folder", ["sample", "--checkpoint", dirRun]);
  add("sample --checkpoint a run whose checkpoint is a FIFO", ["sample", "--checkpoint", fifoRun]);
  add("sample --tokens 0x10", ["sample", "--checkpoint", dirRun, "--tokens", "0x10"]);
  add("sample --tokens 1e12", ["sample", "--checkpoint", dirRun, "--tokens", "1000000000000"]);
  add("sample --top_p 2", ["sample", "--checkpoint", dirRun, "--top_p", "2"]);
  add("sample --model a FIFO", ["sample", "--model", c.fifo("cli/model-fifo")]);
  add("sample --model a folder whose config.json is a FIFO", [
    "sample",
    "--model",
    (() => {
      const d = c.dir("cli/hf-fifo");
      execFileSync("mkfifo", [join(d, "config.json")]);
      writeFileSync(join(d, "model.safetensors"), "");
      return d;
    })(),
  ]);
  add("fill-mask --model a missing folder", ["fill-mask", "--model", join(cwd, "nope"), "--text", "x"]);
  add("an unknown command", ["frobnicate"]);
  add("help for an unknown command", ["help", "frobnicate"]);
  add("list --jsn", ["list", "--jsn"]);
  add("compare an unknown model", ["compare", "gpt2", "nope"]);
  return cases;
}

/** Checkpoint-based command-line cases: hostile checkpoints that `wnn train gpt --resume` and `wnn sample` must refuse. */
function cliCheckpointCases(c: Ctx): Case[] {
  const cases: Case[] = [];
  const cwd = c.dir("cli-ckpt");
  // a real run's checkpoint, written by the CLI's own recipe with a character tokenizer
  const text = "call me ishmael. some years ago, never mind how long precisely. ".repeat(20);
  const tok = CharTokenizer.fromText(text);
  const cfg = gptConfig("tiny", { vocabSize: tok.vocabSize, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 8 });
  const tokens = Int32Array.from(tok.encode(text));
  const trainer = new GPTTrainer(
    cfg,
    {
      batchSize: 2,
      lr: 1e-3,
      minLr: 1e-4,
      warmupIters: 1,
      lrDecayIters: 62,
      iters: 62,
      evalInterval: 100,
      evalIters: 1,
      weightDecay: 0.1,
      beta1: 0.9,
      beta2: 0.99,
      gradClip: 1,
      seed: 1,
    },
    { train: tokens, val: tokens },
  );
  const ckpt = trainer.checkpoint({ dataset: "moby-dick", split: 0.9, tokenizer: tok.toJSON() });
  const run = (name: string, edit: (k: any) => void): string => {
    const d = c.dir(`cli-ckpt/${name}`);
    const k = {
      ...ckpt,
      config: JSON.parse(JSON.stringify(ckpt.config)),
      extra: JSON.parse(JSON.stringify(ckpt.extra)),
      model: { ...ckpt.model },
    };
    edit(k);
    writeFileSync(join(d, "checkpoint.safetensors"), serializeCheckpoint(k));
    return d;
  };
  const add = (name: string, argv: string[], expect: Case["expect"] = "error", stderr?: RegExp): void => {
    cases.push({ format: "cli", name, cli: { argv, cwd, ...(stderr ? { stderr } : {}) }, expect });
  };
  const nanRun = run("nan", (k) => (k.model["normF.weight"] = tensor(Array.from({ length: 16 }, () => NaN))));
  add(
    "sample from NaN weights: a warning naming them",
    ["sample", "--checkpoint", nanRun, "--tokens", "5", "--prompt", "call"],
    "ok",
    /warning: .*normF\.weight/,
  );
  add(
    "sample --strict from NaN weights: refused",
    ["sample", "--checkpoint", nanRun, "--tokens", "5", "--strict"],
    "error",
    /normF\.weight/,
  );
  add("train gpt --resume NaN weights: refused", ["train", "gpt", "--resume", nanRun], "error", /NaN or infinite/);
  for (const [name, edit] of [
    ["nLayer 1e6", (k: any) => (k.config.model.nLayer = 1e6)],
    ["nEmbd 1e5", (k: any) => (k.config.model.nEmbd = 1e5)],
    ["blockSize 1e9", (k: any) => (k.config.model.blockSize = 1e9)],
    ["step 1e9", (k: any) => (k.step = 1e9)],
    ["dropoutRng 5", (k: any) => (k.extra.dropoutRng = 5)],
  ] as const) {
    const d = run(name.replace(/\W/g, "-"), edit);
    add(`train gpt --resume a checkpoint with ${name} (valid checksum)`, ["train", "gpt", "--resume", d]);
    add(`sample --checkpoint a checkpoint with ${name} (valid checksum)`, ["sample", "--checkpoint", d]);
  }
  return cases;
}

export type CaseGenerator = (c: Ctx) => Case[];

/** Every generator of the corpus, by format. New formats (GGUF, WAV, PEFT and diffusers folders) add theirs here. */
export const GENERATORS: Record<string, CaseGenerator> = {
  safetensors: safetensorsCases,
  "hf-folder and config.json": hfFolderCases,
  "tokenizer.json": tokenizerCases,
  checkpoint: checkpointCases,
  tensor: tensorCases,
  cli: cliCases,
  "cli (checkpoints)": cliCheckpointCases,
  ...MORE_GENERATORS,
};

/** Build the whole corpus in a new temporary folder, seeded. */
export function buildCorpus(seed = 12): { root: string; cases: Case[] } {
  const root = mkdtempSync(join(tmpdir(), "wnn-hostile-"));
  chmodSync(root, 0o755); // the read-only cases run as another user (./run.ts READ_ONLY_MODE)
  const g = new Generator(seed);
  const ctx: Ctx = {
    root,
    g,
    dir(name) {
      const p = join(root, name);
      mkdirSync(p, { recursive: true });
      return p;
    },
    file(name, content) {
      const p = join(root, name);
      mkdirSync(join(p, ".."), { recursive: true });
      writeFileSync(p, content);
      return p;
    },
    fifo(name) {
      const p = join(root, name);
      mkdirSync(join(p, ".."), { recursive: true });
      execFileSync("mkfifo", [p]);
      return p;
    },
  };
  const cases = Object.values(GENERATORS).flatMap((gen) => gen(ctx));
  return { root, cases };
}
