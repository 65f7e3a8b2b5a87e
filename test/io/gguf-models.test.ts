// toGguf → fromGguf / loadGguf without llama.cpp: F32 files give back every weight exactly (LLaMA's
// q/k permutation undone), quantized files give a model whose logits follow the float model's, and
// files that lack what a model needs raise a GgufError.
import assert from "node:assert/strict";
import { test } from "node:test";
import { noGrad, tensor } from "../../src/index.js";
import { Generator } from "../../src/engine/rng.js";
import { GgufError, parseGguf, serializeGguf, tensorBytes } from "../../src/io/ggml/gguf.js";
import { fromGguf, permuteRotary, toGguf, type GgufModelConfig, type GgufTokenizer } from "../../src/io/ggml/convert.js";
import { QuantLinear } from "../../src/io/ggml/qlinear.js";
import { loadGguf } from "../../src/models/gguf.js";
import { GPT, gptConfig } from "../../src/models/gpt2/model.js";
import { Llama, intermediateSize, llamaConfig } from "../../src/models/llama/model.js";

const V = 64;
const TOK: GgufTokenizer = { model: "gpt2", tokens: Array.from({ length: V }, (_, i) => `t${i}`), merges: [], eosId: 0 };
const lc = llamaConfig({ vocabSize: V, blockSize: 16, nLayer: 2, nHead: 4, nKvHeads: 2, nEmbd: 64, intermediateSize: 96, multipleOf: 8, normEps: 1e-5, ropeTheta: 10000, dropout: 0 });
const LCFG: GgufModelConfig = { arch: "llama", vocabSize: V, blockSize: 16, nLayer: 2, nHead: 4, nKvHeads: 2, nEmbd: 64, intermediateSize: intermediateSize(lc), normEps: 1e-5, ropeTheta: 10000 };
const gc = gptConfig({ vocabSize: V, blockSize: 16, nLayer: 2, nHead: 4, nEmbd: 64, dropout: 0, bias: true });
const GCFG: GgufModelConfig = { arch: "gpt2", vocabSize: V, blockSize: 16, nLayer: 2, nHead: 4, nEmbd: 64, intermediateSize: 256, normEps: 1e-5 };
const idx = tensor([[1, 5, 9, 2, 33, 7]], { dtype: "int32" });

test("permuteRotary: the interleaved layout and back is the identity, and moves row s·hs/2 + i to 2i + s", () => {
  const w = Float32Array.from({ length: 8 * 3 }, (_, i) => i);
  const p = permuteRotary(w, 8, 3, 2);
  assert.deepEqual([...p.subarray(3, 6)], [6, 7, 8]); // head 0, hs 4: row 2 (s=1, i=0) → row 1
  assert.deepEqual(permuteRotary(p, 8, 3, 2, true), w);
});

for (const [name, make, cfg] of [["LLaMA", () => new Llama(lc, { generator: new Generator(4) }), LCFG], ["GPT-2", () => new GPT(gc, { generator: new Generator(4) }), GCFG]] as const) {
  test(`${name}: an F32 file gives back every weight exactly and the same logits`, () => {
    const model = make();
    const file = toGguf(model.stateDict(), cfg, "F32", TOK);
    const back = fromGguf(file);
    const own = model.stateDict();
    for (const [k, t] of Object.entries(back.state)) assert.deepEqual(t.dataSync(), own[k]!.dataSync(), k);
    assert.equal(Object.keys(back.state).length, Object.keys(own).length);
    const loaded = loadGguf(file).model;
    const a = noGrad(() => (model as Llama).forward(idx).logits).dataSync(), b = noGrad(() => (loaded as Llama).forward(idx).logits).dataSync();
    let d = 0;
    for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
    assert.ok(d < 1e-4, `max |Δ logit| ${d}`);
  });

  test(`${name}: Q8_0 and Q4_K files load with their matrices in blocks; logits follow the float model`, () => {
    const model = make();
    const ref = noGrad(() => (model as Llama).forward(idx).logits).dataSync();
    for (const [type, bound] of [["Q8_0", 0.02], ["Q4_K", 0.25]] as const) {
      const g = loadGguf(toGguf(model.stateDict(), cfg, type, TOK));
      assert.ok([...g.model.namedModules()].some(([, m]) => m instanceof QuantLinear));
      const out = noGrad(() => (g.model as Llama).forward(idx).logits).dataSync();
      let d = 0, s = 0;
      for (let i = 0; i < out.length; i++) { d = Math.max(d, Math.abs((out[i] as number) - (ref[i] as number))); s = Math.max(s, Math.abs(ref[i] as number)); }
      assert.ok(d <= bound * s, `${type}: max |Δ logit| ${d}, max |logit| ${s}`);
    }
  });
}

test("files missing what a model needs raise a GgufError", () => {
  const file = toGguf(new Llama(lc, { generator: new Generator(1) }).stateDict(), LCFG, "F32", TOK);
  const g = parseGguf(file);
  const without = (key: string): Uint8Array => serializeGguf([...g.metadata].filter(([k]) => k !== key), g.tensors.map((t) => ({ ...t, data: tensorBytes(file, t) })));
  const noTensor = (name: string): Uint8Array => serializeGguf(g.metadata, g.tensors.filter((t) => t.name !== name).map((t) => ({ ...t, data: tensorBytes(file, t) })));
  for (const bad of [without("general.architecture"), without("llama.block_count"), without("tokenizer.ggml.tokens"), noTensor("blk.1.ffn_up.weight")]) {
    assert.throws(() => loadGguf(bad), GgufError);
  }
});
