// toGguf → fromGguf / loadGguf without llama.cpp, for LLaMA, GPT-2, BLOOM and Falcon: F32 files give back
// every weight exactly (LLaMA's q/k permutation undone) and, expanded to float32, the same logits bit for
// bit; quantized files give a model whose logits follow the float model's; BLOOM's and Falcon's files carry
// llama.cpp's keys and tensor names; files that lack what a model needs raise a GgufError.
import assert from "node:assert/strict";
import { test } from "node:test";
import { noGrad, tensor } from "../../src/index.js";
import { Generator } from "../../src/engine/rng.js";
import { GgufError, parseGguf, serializeGguf, tensorBytes } from "../../src/io/ggml/gguf.js";
import {
  fromGguf,
  permuteRotary,
  toGguf,
  type GgufModelConfig,
  type GgufTokenizer,
} from "../../src/io/ggml/convert.js";
import { QuantLinear } from "../../src/io/ggml/qlinear.js";
import { loadGguf } from "../../src/models/gguf.js";
import { Bloom, bloomConfig } from "../../src/models/bloom/model.js";
import { Falcon, falconConfig } from "../../src/models/falcon/model.js";
import { GPT, gptConfig } from "../../src/models/gpt2/model.js";
import { Llama, intermediateSize, llamaConfig } from "../../src/models/llama/model.js";

const V = 64;
const TOK: GgufTokenizer = {
  model: "gpt2",
  tokens: Array.from({ length: V }, (_, i) => `t${i}`),
  merges: [],
  eosId: 0,
};
const lc = llamaConfig({
  vocabSize: V,
  blockSize: 16,
  nLayer: 2,
  nHead: 4,
  nKvHeads: 2,
  nEmbd: 64,
  intermediateSize: 96,
  multipleOf: 8,
  normEps: 1e-5,
  ropeTheta: 10000,
  dropout: 0,
});
const LCFG: GgufModelConfig = {
  arch: "llama",
  vocabSize: V,
  blockSize: 16,
  nLayer: 2,
  nHead: 4,
  nKvHeads: 2,
  nEmbd: 64,
  intermediateSize: intermediateSize(lc),
  normEps: 1e-5,
  ropeTheta: 10000,
};
const gc = gptConfig({ vocabSize: V, blockSize: 16, nLayer: 2, nHead: 4, nEmbd: 64, dropout: 0, bias: true });
const GCFG: GgufModelConfig = {
  arch: "gpt2",
  vocabSize: V,
  blockSize: 16,
  nLayer: 2,
  nHead: 4,
  nEmbd: 64,
  intermediateSize: 256,
  normEps: 1e-5,
};
const bc = bloomConfig({ vocabSize: V, blockSize: 16, nLayer: 2, nHead: 4, nEmbd: 64, dropout: 0, bias: true });
const BCFG: GgufModelConfig = {
  arch: "bloom",
  vocabSize: V,
  blockSize: 16,
  nLayer: 2,
  nHead: 4,
  nKvHeads: 4,
  nEmbd: 64,
  intermediateSize: 256,
  normEps: 1e-5,
};
const fc = falconConfig({
  vocabSize: V,
  blockSize: 16,
  nLayer: 2,
  nHead: 4,
  nEmbd: 64,
  dropout: 0,
  bias: false,
  ropeTheta: 10000,
});
const FCFG: GgufModelConfig = {
  arch: "falcon",
  vocabSize: V,
  blockSize: 16,
  nLayer: 2,
  nHead: 4,
  nKvHeads: 1,
  nEmbd: 64,
  intermediateSize: 256,
  normEps: 1e-5,
  ropeTheta: 10000,
};
const idx = tensor([[1, 5, 9, 2, 33, 7]], { dtype: "int32" });

test("permuteRotary: the interleaved layout and back is the identity, and moves row s·hs/2 + i to 2i + s", () => {
  const w = Float32Array.from({ length: 8 * 3 }, (_, i) => i);
  const p = permuteRotary(w, 8, 3, 2);
  assert.deepEqual([...p.subarray(3, 6)], [6, 7, 8]); // head 0, hs 4: row 2 (s=1, i=0) → row 1
  assert.deepEqual(permuteRotary(p, 8, 3, 2, true), w);
});

const MODELS = [
  ["LLaMA", () => new Llama(lc, { generator: new Generator(4) }), LCFG],
  ["GPT-2", () => new GPT(gc, { generator: new Generator(4) }), GCFG],
  ["BLOOM", () => new Bloom(bc, { generator: new Generator(4) }), BCFG],
  ["Falcon", () => new Falcon(fc, { generator: new Generator(4) }), FCFG],
] as const;

for (const [name, make, cfg] of MODELS) {
  test(`${name}: an F32 file expanded to float32 gives the float model's logits bit for bit`, () => {
    const model = make();
    const loaded = loadGguf(toGguf(model.stateDict(), cfg, "F32", TOK), { quantized: false }).model;
    assert.equal(loaded.constructor, model.constructor);
    const a = noGrad(() => (model as Llama).forward(idx).logits).dataSync(),
      b = noGrad(() => (loaded as Llama).forward(idx).logits).dataSync();
    assert.deepEqual(b, a);
  });

  test(`${name}: an F32 file gives back every weight exactly and the same logits`, () => {
    const model = make();
    const file = toGguf(model.stateDict(), cfg, "F32", TOK);
    const back = fromGguf(file);
    const own = model.stateDict();
    for (const [k, t] of Object.entries(back.state)) assert.deepEqual(t.dataSync(), own[k]!.dataSync(), k);
    assert.equal(Object.keys(back.state).length, Object.keys(own).length);
    const loaded = loadGguf(file).model;
    const a = noGrad(() => (model as Llama).forward(idx).logits).dataSync(),
      b = noGrad(() => (loaded as Llama).forward(idx).logits).dataSync();
    let d = 0;
    for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
    assert.ok(d < 1e-4, `max |Δ logit| ${d}`);
  });

  test(`${name}: Q8_0 and Q4_K files load with their matrices in blocks; logits follow the float model`, () => {
    const model = make();
    const ref = noGrad(() => (model as Llama).forward(idx).logits).dataSync();
    for (const [type, bound] of [
      ["Q8_0", 0.02],
      ["Q4_K", 0.25],
    ] as const) {
      const g = loadGguf(toGguf(model.stateDict(), cfg, type, TOK));
      assert.ok([...g.model.namedModules()].some(([, m]) => m instanceof QuantLinear));
      const out = noGrad(() => (g.model as Llama).forward(idx).logits).dataSync();
      let d = 0,
        s = 0;
      for (let i = 0; i < out.length; i++) {
        d = Math.max(d, Math.abs((out[i] as number) - (ref[i] as number)));
        s = Math.max(s, Math.abs(ref[i] as number));
      }
      assert.ok(d <= bound * s, `${type}: max |Δ logit| ${d}, max |logit| ${s}`);
    }
  });
}

test("files missing what a model needs raise a GgufError", () => {
  const file = toGguf(new Llama(lc, { generator: new Generator(1) }).stateDict(), LCFG, "F32", TOK);
  const g = parseGguf(file);
  const without = (key: string): Uint8Array =>
    serializeGguf(
      [...g.metadata].filter(([k]) => k !== key),
      g.tensors.map((t) => ({ ...t, data: tensorBytes(file, t) })),
    );
  const noTensor = (name: string): Uint8Array =>
    serializeGguf(
      g.metadata,
      g.tensors.filter((t) => t.name !== name).map((t) => ({ ...t, data: tensorBytes(file, t) })),
    );
  for (const bad of [
    without("general.architecture"),
    without("llama.block_count"),
    without("tokenizer.ggml.tokens"),
    noTensor("blk.1.ffn_up.weight"),
  ]) {
    assert.throws(() => loadGguf(bad), GgufError);
  }
});

test("BLOOM and Falcon files carry llama.cpp's keys and tensor names; q, k, v stacked as q; k; v", () => {
  for (const [make, cfg, names] of [
    [
      () => new Bloom(bc, { generator: new Generator(2) }),
      BCFG,
      [
        "token_embd.weight",
        "token_embd_norm.weight",
        "token_embd_norm.bias",
        "blk.0.attn_norm.bias",
        "blk.0.attn_qkv.weight",
        "blk.0.attn_qkv.bias",
        "blk.0.attn_output.bias",
        "blk.0.ffn_norm.weight",
        "blk.0.ffn_up.bias",
        "blk.0.ffn_down.weight",
        "output_norm.bias",
        "output.weight",
      ],
    ],
    [
      () => new Falcon(fc, { generator: new Generator(2) }),
      FCFG,
      [
        "token_embd.weight",
        "blk.0.attn_norm.weight",
        "blk.0.attn_norm.bias",
        "blk.0.attn_qkv.weight",
        "blk.0.attn_output.weight",
        "blk.0.ffn_up.weight",
        "blk.0.ffn_down.weight",
        "output_norm.weight",
        "output_norm.bias",
        "output.weight",
      ],
    ],
  ] as const) {
    const model = make();
    const file = toGguf(model.stateDict(), cfg, "F32", TOK);
    const g = parseGguf(file);
    const a = cfg.arch;
    const keys = new Map([...g.metadata].map(([k, e]) => [k, e.value]));
    for (const k of [
      "context_length",
      "embedding_length",
      "block_count",
      "feed_forward_length",
      "attention.head_count",
      "attention.head_count_kv",
      "attention.layer_norm_epsilon",
    ]) {
      assert.ok(keys.has(`${a}.${k}`), `${a}.${k}`);
    }
    assert.equal(keys.get(`${a}.attention.head_count_kv`), a === "falcon" ? 1 : 4);
    const have = new Set(g.tensors.map((t) => t.name));
    for (const n of names) assert.ok(have.has(n), `${a}: ${n}`);
    assert.ok(!have.has("blk.0.ffn_norm.weight") || a === "bloom");
    // attn_qkv holds wq's rows, then wk's, then wv's (Falcon: C + hs + hs rows)
    const own = model.stateDict();
    const qkv = g.tensors.find((t) => t.name === "blk.0.attn_qkv.weight")!;
    const rows = qkv.ne[1]!;
    assert.equal(rows, a === "falcon" ? 64 + 16 + 16 : 3 * 64);
    const data = new Float32Array(tensorBytes(file, qkv).slice().buffer);
    const want = [
      ...own["blocks.0.attn.wq.weight"]!.dataSync(),
      ...own["blocks.0.attn.wk.weight"]!.dataSync(),
      ...own["blocks.0.attn.wv.weight"]!.dataSync(),
    ];
    assert.deepEqual([...data], want);
    // the tied head is stored as output, equal to token_embd
    const out = g.tensors.find((t) => t.name === "output.weight")!,
      emb = g.tensors.find((t) => t.name === "token_embd.weight")!;
    assert.deepEqual(tensorBytes(file, out), tensorBytes(file, emb));
  }
});

test("outputType gives the output matrix its own type (GPT-2's tied token_embd, LLaMA's output), as llama-quantize does", () => {
  for (const [make, cfg, head] of [
    [() => new GPT(gc, { generator: new Generator(4) }), GCFG, "token_embd.weight"],
    [() => new Llama(lc, { generator: new Generator(4) }), LCFG, "output.weight"],
  ] as const) {
    const types = (file: Uint8Array): Map<string, string> =>
      new Map(parseGguf(file).tensors.map((t) => [t.name, String(t.type)]));
    const plain = types(toGguf(make().stateDict(), cfg, "Q4_0", TOK));
    const mixed = types(toGguf(make().stateDict(), cfg, "Q4_0", TOK, { outputType: "Q8_0" }));
    assert.equal(plain.get(head), "Q4_0");
    assert.equal(mixed.get(head), "Q8_0");
    for (const [name, type] of mixed) if (name !== head) assert.equal(type, plain.get(name), name);
  }
});
