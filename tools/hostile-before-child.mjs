// The hostile corpus's child (test/hostile/child.ts) as the tree before the hardening could run it: the same
// ops, written with the readers of that time (plain readFileSync, no checked reader, no finite check, no
// tokenizer-against-model check). tools/hostile-before.mjs copies it into an old build's dist/test/hostile/.
// An op whose reader did not exist then reports { outcome: "na" }.
import { readFileSync } from "node:fs";

const lib = (p) => import(new URL(`../../src/${p}`, import.meta.url).href);
const cli = (p) => import(new URL(`../../cli/${p}`, import.meta.url).href);

function revive(v, wnn) {
  if (typeof v === "object" && v !== null && "i32" in v) return wnn.tensor(v.i32, { dtype: "int32" });
  if (typeof v === "object" && v !== null && "nest" in v) {
    let a = [1];
    for (let i = 1; i < v.nest; i++) a = [a];
    return a;
  }
  if (typeof v === "object" && v !== null && "f32" in v) return Float32Array.from(v.f32.map(Number));
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (Array.isArray(v)) return v.map((x) => revive(x, wnn));
  if (typeof v === "object" && v !== null)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x, wnn)]));
  return v;
}

const NA = Symbol("na");
const OPS = {
  safetensors: async ([p]) => (await lib("io/node.js")).loadSafetensors(p),
  "safetensors-lazy": async ([p]) => {
    const r = (await lib("io/node.js")).openSafetensors(p);
    try {
      for (const e of r.entries) r.read(e.name);
    } finally {
      r.close();
    }
  },
  "hf-folder": async ([dir]) => {
    const f = (await lib("io/hf-folder.js")).readHFFolder(dir);
    (await lib("models/hf.js")).fromPretrained(f);
    if (f.tokenizerJSON !== undefined)
      (await lib("data/tokenizer-json.js")).tokenizerFromJSON(f.tokenizerJSON).encode("Call me Ishmael.");
  },
  tokenizer: async ([p, prompt]) => {
    const tok = (await lib("data/tokenizer-json.js")).tokenizerFromJSON(readFileSync(p, "utf8"));
    tok.decode(tok.encode(prompt ?? "Call me Ishmael."));
  },
  json: async ([p]) => JSON.parse(readFileSync(p, "utf8")),
  checkpoint: async ([p]) => {
    const ckpt = (await lib("io/node.js")).loadCheckpoint(p);
    const { GPTTrainer, checkpointConfig } = await lib("models/gpt2/train.js");
    const { model } = checkpointConfig(ckpt);
    const n = model.blockSize * 4 + 8;
    const tokens = Int32Array.from({ length: n }, (_, i) => i % model.vocabSize);
    GPTTrainer.fromCheckpoint(ckpt, { train: tokens, val: tokens });
  },
  tensor: async ([json]) => {
    const wnn = {
      ...(await lib("engine/index.js")),
      ...(await lib("ops/index.js")),
      ...(await lib("ops/kernels.js")),
      nn: { functional: await lib("nn/functional.js") },
    };
    const c = revive(JSON.parse(json), wnn);
    const get = (path) => path.split(".").reduce((o, k) => o?.[k], wnn);
    if (c.on) {
      const target = get(c.on.call)(...c.on.args);
      target[c.call].apply(target, c.args);
    } else get(c.call)(...c.args);
  },
  gguf: async ([p]) => {
    const { parseGguf, tensorBytes } = await lib("io/ggml/gguf.js");
    const bytes = new Uint8Array(readFileSync(p));
    for (const t of parseGguf(bytes).tensors) tensorBytes(bytes, t);
  },
  "gguf-model": async ([p]) => (await lib("models/gguf.js")).loadGguf(new Uint8Array(readFileSync(p))),
  wav: async ([p]) => (await lib("io/wav.js")).decodeWav(new Uint8Array(readFileSync(p))),
  peft: async ([dir]) => {
    const { loadAdapter } = await cli("finetune.js");
    const { GPT, gptConfig } = await lib("models/gpt2/model.js");
    const { Generator } = await lib("engine/rng.js");
    loadAdapter(
      new GPT(gptConfig("tiny", { vocabSize: 20, nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 8 }), {
        generator: new Generator(1),
      }),
      dir,
    );
  },
  diffusers: async () => NA,
  "ddpm-checkpoint": async () => NA,
  "cnn-checkpoint": async () => NA,
};

const { WnnError } = await lib("engine/errors.js");
const [op, ...args] = process.argv.slice(2);
let line;
try {
  const r = await OPS[op](args);
  line = { outcome: r === NA ? "na" : "ok" };
} catch (e) {
  line = {
    outcome: e instanceof WnnError ? "typed" : "raw",
    class: e?.constructor?.name ?? typeof e,
    message: String(e?.message ?? e).slice(0, 300),
  };
}
process.stdout.write(JSON.stringify(line) + "\n");
