// `wnn quantize` and `wnn sample --model FILE.gguf` on tiny Hugging Face folders written here, run as a
// user runs them (a child process), compared with the same computation done through the library.
import "../../src/index-node.js";
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { BPETokenizer } from "../../src/data/bpe.js";
import { noGrad } from "../../src/engine/autograd.js";
import { tensor } from "../../src/engine/creation.js";
import { Generator } from "../../src/engine/rng.js";
import { parseGguf, metaString, metaArray } from "../../src/io/ggml/gguf.js";
import { writeHFFolder } from "../../src/io/hf-folder.js";
import { loadGguf } from "../../src/models/gguf.js";
import { Bloom, bloomConfig, generate as bloomGenerate } from "../../src/models/bloom/model.js";
import { Falcon, falconConfig, generate as falconGenerate } from "../../src/models/falcon/model.js";
import { GPT, gptConfig, generate as gptGenerate } from "../../src/models/gpt2/model.js";
import { toHFFiles } from "../../src/models/hf.js";
import { Llama, llamaConfig, generate as llamaGenerate } from "../../src/models/llama/model.js";

const WNN = fileURLToPath(new URL("../../cli/wnn.js", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "wnn-cli-gguf-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
const wnn = (...args: string[]): { code: number | null; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [WNN, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

const bpe = BPETokenizer.train(
  ["Call me Ishmael. Some years ago, never mind how long precisely, having little money,"],
  256 + 24,
  { specialTokens: ["<|endoftext|>"] },
);
const V = bpe.vocabSize;
const PROMPT = "Call me";

const CASES = [
  {
    arch: "gpt2" as const,
    make: () => {
      const c = gptConfig({ vocabSize: V, blockSize: 32, nLayer: 1, nHead: 2, nEmbd: 64, dropout: 0, bias: true });
      return { config: c, model: new GPT(c, { generator: new Generator(3) }) };
    },
  },
  {
    arch: "llama" as const,
    make: () => {
      const c = llamaConfig({
        vocabSize: V,
        blockSize: 32,
        nLayer: 1,
        nHead: 2,
        nKvHeads: 1,
        nEmbd: 64,
        intermediateSize: 96,
        multipleOf: 8,
        normEps: 1e-5,
        ropeTheta: 10000,
        dropout: 0,
      });
      return { config: c, model: new Llama(c, { generator: new Generator(3) }) };
    },
  },
  {
    arch: "bloom" as const,
    make: () => {
      const c = bloomConfig({ vocabSize: V, blockSize: 32, nLayer: 1, nHead: 2, nEmbd: 64, dropout: 0, bias: true });
      return { config: c, model: new Bloom(c, { generator: new Generator(3) }) };
    },
  },
  {
    arch: "falcon" as const,
    make: () => {
      const c = falconConfig({
        vocabSize: V,
        blockSize: 32,
        nLayer: 1,
        nHead: 2,
        nEmbd: 64,
        dropout: 0,
        bias: false,
        ropeTheta: 10000,
      });
      return { config: c, model: new Falcon(c, { generator: new Generator(3) }) };
    },
  },
];

for (const c of CASES) {
  test(`quantize --model (${c.arch}) --type q4_0 writes a GGUF with llama.cpp's names; sample --model FILE.gguf continues the prompt as the library does`, () => {
    const { model, config } = c.make();
    const dir = join(tmp, c.arch);
    const files = toHFFiles(c.arch, model, config);
    writeHFFolder(dir, {
      config: { ...files.config, eos_token_id: V - 1 },
      tensors: files.tensors,
      tokenizerJSON: JSON.parse(JSON.stringify(bpe)) as object,
    });
    const out = join(tmp, `${c.arch}.gguf`);
    const q = wnn("quantize", "--model", dir, "--type", "q4_0", "--output_type", "q8_0", "--out", out);
    assert.equal(q.code, 0, q.stderr);
    assert.deepEqual(
      readdirSync(tmp).filter((n) => n.includes(".tmp")),
      [],
    ); // no temporary left
    const bytes = new Uint8Array(readFileSync(out));
    const g = parseGguf(bytes);
    assert.equal(metaString(g, "general.architecture"), c.arch);
    assert.equal(metaString(g, "tokenizer.ggml.model"), "gpt2");
    assert.equal(metaArray(g, "tokenizer.ggml.tokens")!.items.length, V);
    assert.ok(g.tensors.some((t) => t.name === "blk.0.ffn_down.weight" && t.type === "Q4_0"));
    assert.ok(g.tensors.some((t) => t.name === "output_norm.weight" && t.type === "F32"));
    const head =
      g.tensors.find((t) => t.name === "output.weight") ?? g.tensors.find((t) => t.name === "token_embd.weight");
    assert.equal(head?.type, "Q8_0"); // --output_type

    const s = wnn("sample", "--model", out, "--prompt", PROMPT, "--tokens", "8", "--temperature", "0");
    assert.equal(s.code, 0, s.stderr);
    const loaded = loadGguf(bytes);
    const ids = bpe.encode(PROMPT);
    const idx = tensor(Int32Array.from(ids), { shape: [1, ids.length] });
    const o = { temperature: 0 };
    const all = noGrad(() =>
      c.arch === "gpt2"
        ? gptGenerate(loaded.model as GPT, idx, 8, o)
        : c.arch === "bloom"
          ? bloomGenerate(loaded.model as Bloom, idx, 8, o)
          : c.arch === "falcon"
            ? falconGenerate(loaded.model as Falcon, idx, 8, o)
            : llamaGenerate(loaded.model as Llama, idx, 8, o),
    );
    const fresh = Array.from(all.storage.subarray(ids.length) as Int32Array);
    const end = fresh.indexOf(V - 1);
    assert.equal(s.stdout, PROMPT + bpe.decode(end < 0 ? fresh : fresh.slice(0, end)) + "\n");
  });
}

test("quantize: usage errors name the problem", () => {
  assert.equal(wnn("quantize", "--model", tmp).code, 2);
  const r = wnn("quantize", "--model", tmp, "--out", join(tmp, "x.gguf"), "--type", "q9_9");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown --type q9_9/);
  const o = wnn("quantize", "--model", tmp, "--out", join(tmp, "x.gguf"), "--output_type", "q9_9");
  assert.equal(o.code, 2);
  assert.match(o.stderr, /unknown --output_type q9_9/);
});
