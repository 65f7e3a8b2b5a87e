// Checkpoints in memory: round trips of every field, the RNG continuing exactly, and the loader's
// checks. Files, atomic saves and kills: src/io/node.test.ts and test/io/crash.test.ts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ArgumentError, Generator, LoadError, Tensor, randn, tensor } from "../index.js";
import { CHECKPOINT_FORMAT, parseCheckpoint, serializeCheckpoint, type Checkpoint } from "./checkpoint.js";
import { serializeSafetensors } from "./safetensors.js";

function rejects(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(
    () => parseCheckpoint(bytes),
    (e: unknown) => {
      assert.ok(
        e instanceof LoadError,
        `expected LoadError, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`,
      );
      assert.match(e.message, pattern);
      return true;
    },
  );
}

const sameTensors = (a: Record<string, Tensor>, b: Record<string, Tensor>): void => {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
  for (const k of Object.keys(a)) {
    assert.equal(a[k]!.dtype, b[k]!.dtype, k);
    assert.deepEqual([...a[k]!.shape], [...b[k]!.shape], k);
    assert.deepEqual([...a[k]!.storage], [...b[k]!.storage], k);
  }
};

function sampleCheckpoint(step = 10): Checkpoint {
  const g = new Generator(step);
  for (let i = 0; i < 5; i++) g.normal(); // leaves a spare normal deviate in the state
  return {
    model: {
      "wte.weight": randn([5, 4], { generator: g }),
      "blocks.0.norm1.weight": randn([4], { generator: g, dtype: "float64" }),
      "blocks.0.attn.mask": tensor([
        [true, false],
        [true, true],
      ]),
      counts: tensor([1, 2, 3], { dtype: "int32" }),
      scalar: tensor(0.5),
      empty: randn([0, 4]),
    },
    optimizer: {
      tensors: {
        "state.wte.weight.expAvg": randn([5, 4], { generator: g }),
        "state.wte.weight.expAvgSq": randn([5, 4], { generator: g }),
      },
      json: { kind: "AdamW", lr: 1e-3, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.1, step: 10 },
    },
    scheduler: { kind: "cosine", lastEpoch: step, baseLr: 1e-3, minLr: 1e-4 },
    rng: g.getState(),
    step,
    dataPosition: { epoch: 0, index: 1234 },
    config: { nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, dropout: 0, bias: true, name: "mobydick ✓" },
    extra: { bestValLoss: 1.88, runName: "run-1" },
  };
}

test("a checkpoint round-trips every field, and its RNG continues the same stream", () => {
  const ckpt = sampleCheckpoint();
  const back = parseCheckpoint(serializeCheckpoint(ckpt));
  sameTensors(back.model, ckpt.model);
  sameTensors(back.optimizer!.tensors, ckpt.optimizer!.tensors);
  assert.deepEqual(back.optimizer!.json, ckpt.optimizer!.json);
  for (const f of ["scheduler", "step", "dataPosition", "config", "extra", "rng"] as const)
    assert.deepEqual(back[f], ckpt[f], f);
  assert.notEqual(ckpt.rng!.spare, null, "the sample state carries a spare normal");
  const a = new Generator().setState(ckpt.rng!),
    b = new Generator().setState(back.rng!);
  for (let i = 0; i < 5; i++) assert.equal(b.normal(), a.normal());
  // deterministic bytes
  assert.deepEqual(serializeCheckpoint(ckpt), serializeCheckpoint(sampleCheckpoint()));
});

test("a minimal checkpoint (model and step) loads without the optional fields", () => {
  const back = parseCheckpoint(serializeCheckpoint({ model: { w: tensor([1, 2]) }, step: 0 }));
  assert.deepEqual(Object.keys(back).sort(), ["model", "step"]);
  const empty = parseCheckpoint(serializeCheckpoint({ model: {}, step: 3, optimizer: { tensors: {}, json: null } }));
  assert.deepEqual(empty.optimizer, { tensors: {}, json: null });
});

test("saveCheckpoint rejects what it cannot store faithfully", () => {
  const base = { model: { w: tensor([1]) }, step: 1 };
  const bad = (c: unknown, pattern: RegExp): void =>
    assert.throws(
      () => serializeCheckpoint(c as Checkpoint),
      (e: Error) => e instanceof ArgumentError && pattern.test(e.message),
    );
  bad({ ...base, step: -1 }, /step must be a non-negative integer, got -1/);
  bad({ ...base, step: 1.5 }, /step must be/);
  bad({ ...base, config: { lr: NaN } }, /config\.lr is NaN, which JSON cannot hold/);
  bad({ ...base, extra: { best: [1, Infinity] } }, /extra\.best\[1\] is Infinity/);
  bad({ ...base, config: { w: tensor([1]) } }, /config\.w is a Tensor, which JSON cannot hold/);
  bad({ ...base, rng: { s: [1, 2, 3], spare: null } }, /rng must be a Generator state/);
  bad({ ...base, rng: { s: [0, 0, 0, 0], spare: null } }, /rng must be a Generator state/);
  bad({ step: 1 }, /model must be a record of tensors/);
});

/** A file with our format marker and a document we choose (the checksum is left wrong on purpose). */
const withDoc = (doc: unknown, tensors: Record<string, Tensor> = {}): Uint8Array =>
  serializeSafetensors(tensors, { format: CHECKPOINT_FORMAT, checkpoint: JSON.stringify(doc), crc32: "00000000" });

test("loadCheckpoint: wrong format, wrong version or missing fields are LoadErrors that say so", () => {
  rejects(serializeSafetensors({ w: tensor([1]) }), /not a writtingnns checkpoint \(metadata format is null/);
  rejects(serializeSafetensors({}, { format: CHECKPOINT_FORMAT }), /no checkpoint document/);
  rejects(serializeSafetensors({}, { format: CHECKPOINT_FORMAT, checkpoint: "{}" }), /no valid crc32/);
  rejects(withDoc({ version: 2, step: 1 }), /format version 2 is not supported \(this library reads version 1\)/);
  rejects(withDoc({ step: 1 }), /format version null is not supported/);
  rejects(withDoc({ version: 1 }), /step is missing/);
  rejects(withDoc({ version: 1, step: -3 }), /step is missing or not a non-negative integer/);
  rejects(
    withDoc({ version: 1, step: 1, rng: { s: [1, 2, 3, 2 ** 32], spare: null } }),
    /rng is not a Generator state/,
  );
  // all zeros: xoshiro128** stays there, every draw 0, and a normal deviate's search for a nonzero u never ends
  rejects(withDoc({ version: 1, step: 1, rng: { s: [0, 0, 0, 0], spare: null } }), /rng is not a Generator state/);
  assert.throws(() => new Generator().setState({ s: [0, 0, 0, 0], spare: null }), ArgumentError);
  rejects(withDoc([1]), /not a JSON object/);
  rejects(
    serializeSafetensors({}, { format: CHECKPOINT_FORMAT, checkpoint: "{", crc32: "00000000" }),
    /not valid JSON/,
  );
  rejects(
    withDoc({ version: 1, step: 1 }, { "other.w": tensor([1]) }),
    /tensor "other\.w" is neither model\.\* nor optim\.\*/,
  );
  rejects(
    withDoc({ version: 1, step: 1 }, { "optim.m": tensor([1]) }),
    /optimizer tensors without the optimizer's state/,
  );
  rejects(withDoc({ version: 1, step: 1 }, { "model.w": tensor([1]) }), /checksum mismatch \(the file says 00000000/);
});

test("loadCheckpoint: a changed data byte or tensor name fails the checksum", () => {
  const bytes = serializeCheckpoint(sampleCheckpoint());
  const data = bytes.slice();
  data[data.length - 30]! ^= 0x10;
  rejects(data, /checksum mismatch/);
  const renamed = bytes.slice();
  const at = Buffer.from(renamed).indexOf("model.counts");
  renamed[at + 6] = "C".charCodeAt(0); // "model.Counts": a valid file, another model
  rejects(renamed, /checksum mismatch/);
});
