// The way out to PyTorch FSDP: the Hugging Face GPT-2 folder `wnn consolidate --hf` wrote from the shards of a
// 4-worker FSDP run (test/fixtures/distributed/fsdp-gpt2-hf/, the commands in tools/fixtures/fsdp_hf.py), read by
// plain PyTorch into a GPT-2 written from the paper with HF's names and Conv1D layouts, gives the logits our
// model gives from the same folder: torch took every tensor of the file, and the logits agree within 1e-5.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { Tensor } from "../../src/engine/tensor.js";
import { readHFFolder } from "../../src/io/hf-folder.js";
import { fromPretrained } from "../../src/models/hf.js";

const FOLDER = fileURLToPath(new URL("../../../test/fixtures/distributed/fsdp-gpt2-hf", import.meta.url));
type TensorJson = { shape: number[]; dtype: string; data: number[] };
const fx = JSON.parse(
  readFileSync(new URL("../../../test/fixtures/distributed/fsdp-gpt2-hf-torch.json", import.meta.url), "utf8"),
) as { idx: TensorJson; logits: TensorJson; loaded: string[] };

test("the HF folder consolidated from FSDP shards gives PyTorch's logits (plain torch, no transformers)", () => {
  const files = readHFFolder(FOLDER);
  // torch loaded every tensor the file holds (the tied lm_head, if written, aside), under HF's names
  const held = Object.keys(files.tensors)
    .filter((n) => n !== "lm_head.weight")
    .map((n) => (n.startsWith("transformer.") ? n : `transformer.${n}`))
    .sort();
  assert.deepEqual(held, fx.loaded);
  const { kind, model } = fromPretrained(files);
  assert.equal(kind, "gpt2");
  const idx = new Tensor(Int32Array.from(fx.idx.data), fx.idx.shape); // (B, T)
  const logits = (model as unknown as { forward(i: Tensor): { logits: Tensor } }).forward(idx).logits; // (B, T, V)
  assert.deepEqual(logits.shape, fx.logits.shape);
  let worst = 0;
  logits.storage.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - fx.logits.data[i]!))));
  const scale = Math.max(...fx.logits.data.map(Math.abs));
  assert.ok(worst <= 1e-5 * Math.max(1, scale), `logits differ from torch's by ${worst} (largest |logit| ${scale})`);
});
