// One case of the hostile-input corpus, in its own process: `node --import probe.js child.js <op> <args...>`.
// It runs one reader (or one call of the tensor API) on the case's input and prints one JSON line:
//   { "outcome": "ok" }                                      the input was accepted
//   { "outcome": "typed", "class": "LoadError", "message" }  refused with one of the library's errors
//   { "outcome": "raw", "class": "RangeError", "message" }   anything else: a bug the corpus reports
// The runner (./run.ts) adds the time, the peak memory and whether the process hung.
// Each op imports only what it needs, so that a case costs little more than starting Node.
import { WnnError } from "../../src/engine/errors.js";

/** A tensor-API call from JSON: { call, args }, where { "nest": d } is a number nested d arrays deep. */
type Call = { call: string; args: unknown[]; on?: { call: string; args: unknown[] } };

function revive(v: unknown, wnn: { tensor: typeof import("../../src/engine/creation.js").tensor }): unknown {
  if (typeof v === "object" && v !== null && "i32" in v)
    return wnn.tensor((v as { i32: number[] }).i32, { dtype: "int32" });
  if (typeof v === "object" && v !== null && "nest" in v) {
    let a: unknown = [1];
    for (let i = 1; i < (v as { nest: number }).nest; i++) a = [a];
    return a;
  }
  if (typeof v === "object" && v !== null && "f32" in v)
    return Float32Array.from((v as { f32: (number | string)[] }).f32.map(Number));
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (Array.isArray(v)) return v.map((x) => revive(x, wnn));
  if (typeof v === "object" && v !== null)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x, wnn)]));
  return v;
}

function resolve(wnn: object, path: string): (...a: unknown[]) => unknown {
  let obj: any = wnn;
  for (const part of path.split(".")) obj = obj?.[part];
  if (typeof obj !== "function") throw new Error(`corpus: no function wnn.${path}`);
  return obj;
}

const OPS: Record<string, (args: string[]) => Promise<void>> = {
  safetensors: async ([p]) => {
    const { loadSafetensors } = await import("../../src/io/node.js");
    loadSafetensors(p!);
  },
  "safetensors-lazy": async ([p]) => {
    const { openSafetensors } = await import("../../src/io/node.js");
    const r = openSafetensors(p!);
    try {
      for (const e of r.entries) r.read(e.name);
    } finally {
      r.close();
    }
  },
  "hf-folder": async ([dir]) => {
    const { readHFFolder } = await import("../../src/io/hf-folder.js");
    const { checkTokenizerFits } = await import("../../src/data/tokenizer-file.js");
    const { tokenizerFromJSON } = await import("../../src/data/tokenizer-json.js");
    const { fromPretrained } = await import("../../src/models/hf.js");
    const { checkFinite } = await import("../../src/io/finite.js");
    const f = readHFFolder(dir!);
    if (f.tokenizerJSON !== undefined && typeof f.config.vocab_size === "number")
      checkTokenizerFits(f.tokenizerJSON, f.config.vocab_size);
    checkFinite(dir!, f.tensors, { strict: true });
    fromPretrained(f);
    if (f.tokenizerJSON !== undefined) tokenizerFromJSON(f.tokenizerJSON).encode("Call me Ishmael.");
  },
  tokenizer: async ([p, prompt]) => {
    const { readCheckedText } = await import("../../src/io/checked-file-node.js");
    const { tokenizerFromJSON } = await import("../../src/data/tokenizer-json.js");
    const tok = tokenizerFromJSON(readCheckedText(p!));
    tok.decode(tok.encode(prompt ?? "Call me Ishmael."));
  },
  json: async ([p]) => {
    const { readCheckedJson } = await import("../../src/io/checked-file-node.js");
    readCheckedJson(p!);
  },
  checkpoint: async ([p]) => {
    const { loadCheckpoint } = await import("../../src/io/node.js");
    const { GPTTrainer, checkpointConfig } = await import("../../src/models/gpt2/train.js");
    const { checkFinite } = await import("../../src/io/finite.js");
    const ckpt = loadCheckpoint(p!);
    const { model } = checkpointConfig(ckpt);
    checkFinite(p!, ckpt.model, { strict: true });
    const n = model.blockSize * 4 + 8;
    const tokens = Int32Array.from({ length: n }, (_, i) => i % model.vocabSize);
    GPTTrainer.fromCheckpoint(ckpt, { train: tokens, val: tokens });
  },
  gguf: async ([p]) => {
    const { readCheckedFile } = await import("../../src/io/checked-file-node.js");
    const { parseGguf, tensorBytes } = await import("../../src/io/ggml/gguf.js");
    const bytes = readCheckedFile(p!);
    const g = parseGguf(bytes);
    for (const t of g.tensors) tensorBytes(bytes, t);
  },
  "gguf-model": async ([p]) => {
    const { readCheckedFile } = await import("../../src/io/checked-file-node.js");
    const { loadGguf } = await import("../../src/models/gguf.js");
    loadGguf(readCheckedFile(p!));
  },
  wav: async ([p]) => {
    const { readCheckedFile } = await import("../../src/io/checked-file-node.js");
    const { decodeWav } = await import("../../src/io/wav.js");
    decodeWav(readCheckedFile(p!));
  },
  peft: async ([dir]) => {
    // as `wnn sample --adapter DIR` reads it, onto the tiny GPT-2 the corpus's adapter was trained for
    const { loadAdapter } = await import("../../cli/finetune.js");
    const { GPT, gptConfig } = await import("../../src/models/gpt2/model.js");
    const { Generator } = await import("../../src/engine/rng.js");
    loadAdapter(
      new GPT(gptConfig("tiny", { vocabSize: 20, nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 8 }), {
        generator: new Generator(1),
      }),
      dir!,
    );
  },
  diffusers: async ([dir]) => {
    const { loadStableDiffusion } = await import("../../cli/sd.js");
    loadStableDiffusion(dir!);
  },
  "ddpm-checkpoint": async ([p]) => {
    const { loadRunCheckpoint } = await import("../../cli/rundir.js");
    const { DDPMTrainer, ddpmCheckpointConfig, loadDDPM } = await import("../../src/models/ddpm/train.js");
    const { ckpt } = loadRunCheckpoint(p!, "corpus", ddpmCheckpointConfig, { strict: true });
    loadDDPM(ckpt);
    DDPMTrainer.fromCheckpoint(ckpt, {
      images: new Float32Array(4 * 784),
      labels: Int32Array.of(0, 1, 2, 3),
      count: 4,
    });
  },
  "cnn-checkpoint": async ([p]) => {
    const { loadRunCheckpoint } = await import("../../cli/rundir.js");
    const { mnistCheckpointConfig } = await import("../../cli/mnist.js");
    const { LeNet5, lenetConfig } = await import("../../src/models/lenet5/model.js");
    const { ckpt, checked } = loadRunCheckpoint(p!, "corpus", (k) => mnistCheckpointConfig(k, "cnn"), { strict: true });
    new LeNet5(lenetConfig("lenet5", { c1: checked.c1, c3: checked.c3 })).loadStateDict(ckpt.model);
  },
  tensor: async ([json]) => {
    // the tensor API without the model zoo (half the start-up time of "../../src/index.js")
    const wnn = {
      ...(await import("../../src/engine/index.js")),
      ...(await import("../../src/ops/index.js")),
      ...(await import("../../src/ops/kernels.js")),
      nn: { functional: await import("../../src/nn/functional.js") },
    };
    const c = revive(JSON.parse(json!), wnn) as Call;
    if (c.on) {
      const target = resolve(wnn, c.on.call)(...c.on.args) as Record<string, (...a: unknown[]) => unknown>;
      const method = target[c.call];
      if (typeof method !== "function") throw new Error(`corpus: no method ${c.call}`);
      method.apply(target, c.args);
    } else resolve(wnn, c.call)(...c.args);
  },
};

const [op, ...args] = process.argv.slice(2);
let line: Record<string, unknown>;
try {
  const f = OPS[op!];
  if (!f) throw new Error(`corpus: unknown op ${op}`);
  await f(args);
  line = { outcome: "ok" };
} catch (e) {
  const err = e as Error;
  line = {
    outcome: e instanceof WnnError ? "typed" : "raw",
    class: err?.constructor?.name ?? typeof e,
    message: String(err?.message ?? e).slice(0, 300),
  };
}
process.stdout.write(JSON.stringify(line) + "\n");
