// Fuzzing the readers: every truncation and every single-bit flip of a valid safetensors file and of a
// valid checkpoint, plus random overwrites. A reader must answer each with a LoadError or, for a
// safetensors flip that lands in tensor data, a structurally valid result — never another exception,
// never a hang. Checkpoints carry a CRC-32, so every corruption of one must be a LoadError.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Generator, LoadError, Tensor, randn, tensor } from "../../src/index.js";
import { parseCheckpoint, serializeCheckpoint } from "../../src/io/checkpoint.js";
import { parseSafetensors, serializeSafetensors } from "../../src/io/safetensors.js";

const g = new Generator(1234);

const validSafetensors = serializeSafetensors(
  {
    "emb.weight": randn([6, 5], { generator: g }),
    "norm.weight": randn([5], { generator: g, dtype: "float64" }),
    ids: tensor([3, 1, 4, 1, 5], { dtype: "int32" }),
    mask: tensor([true, false, true]),
    scalar: tensor(2),
    empty: randn([0, 2]),
  },
  { format: "pt", note: "fuzz" },
);

const validCheckpoint = serializeCheckpoint({
  model: {
    "lin.weight": randn([4, 3], { generator: g }),
    "lin.bias": randn([4], { generator: g }),
    buf: tensor([1, 0], { dtype: "int32" }),
  },
  optimizer: {
    tensors: { "m.lin.weight": randn([4, 3], { generator: g }) },
    json: { kind: "AdamW", lr: 1e-3, step: 7 },
  },
  scheduler: { lastEpoch: 7 },
  rng: new Generator(5).getState(),
  step: 7,
  dataPosition: 4096,
  config: { nLayer: 1 },
});

type Outcome = "LoadError" | "loaded";

/** Run the parser; a LoadError or a result is fine, anything else fails the test with the case. */
function attempt<T>(what: string, parse: () => T, check: (r: T) => void): Outcome {
  let result: T;
  try {
    result = parse();
  } catch (e) {
    if (e instanceof LoadError) return "LoadError";
    assert.fail(`${what}: threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
  }
  check(result);
  return "loaded";
}

/** A loaded safetensors file must be made of well-formed tensors. */
function structurallyValid(r: { tensors: Record<string, Tensor>; metadata: Record<string, string> }): void {
  for (const [name, t] of Object.entries(r.tensors)) {
    assert.ok(t instanceof Tensor, name);
    assert.equal(
      t.storage.length,
      t.shape.reduce((a, b) => a * b, 1),
      name,
    );
    assert.ok(["float32", "float64", "int32", "bool"].includes(t.dtype), name);
  }
  for (const v of Object.values(r.metadata)) assert.equal(typeof v, "string");
}

const dataStart = (bytes: Uint8Array): number => 8 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);

/** Every truncation, at least 200. */
function truncations(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let n = 0; n < bytes.length; n++) out.push(bytes.slice(0, n));
  assert.ok(out.length >= 200, `only ${out.length} truncations`);
  return out;
}

/** Every single-bit flip, at least 200: [position, flipped bytes]. */
function bitFlips(bytes: Uint8Array): [number, Uint8Array][] {
  const out: [number, Uint8Array][] = [];
  for (let i = 0; i < bytes.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const b = bytes.slice();
      b[i]! ^= 1 << bit;
      out.push([i, b]);
    }
  }
  assert.ok(out.length >= 200);
  return out;
}

test("safetensors: every truncation is a LoadError", { timeout: 20_000 }, () => {
  assert.doesNotThrow(() => parseSafetensors(validSafetensors));
  for (const t of truncations(validSafetensors)) {
    assert.equal(
      attempt(`truncated to ${t.length}`, () => parseSafetensors(t), structurallyValid),
      "LoadError",
      `truncated to ${t.length} bytes loaded`,
    );
  }
});

test(
  "safetensors: every bit flip is a LoadError or, in tensor data, a valid file with the same tensors",
  { timeout: 20_000 },
  () => {
    const original = parseSafetensors(validSafetensors);
    const start = dataStart(validSafetensors);
    let errors = 0,
      loaded = 0;
    for (const [pos, b] of bitFlips(validSafetensors)) {
      const outcome = attempt(
        `bit flip at byte ${pos}`,
        () => parseSafetensors(b),
        (r) => {
          structurallyValid(r);
          if (pos >= start) {
            // data flips change values, never names, shapes or dtypes
            assert.deepEqual(Object.keys(r.tensors).sort(), Object.keys(original.tensors).sort());
            for (const [name, t] of Object.entries(r.tensors)) {
              assert.deepEqual([...t.shape], [...original.tensors[name]!.shape]);
              assert.equal(t.dtype, original.tensors[name]!.dtype);
            }
          }
        },
      );
      if (pos >= start) assert.equal(outcome, "loaded", `a flip in the data at byte ${pos} was rejected`);
      outcome === "LoadError" ? errors++ : loaded++;
    }
    assert.ok(errors >= 200, `${errors} flips were rejected`);
    console.log(
      `safetensors fuzz: ${validSafetensors.length} bytes, ${validSafetensors.length * 8} bit flips: ${errors} LoadError, ${loaded} loaded`,
    );
  },
);

test("safetensors: random byte overwrites in the header never crash", { timeout: 20_000 }, () => {
  const r = new Generator(99);
  const start = dataStart(validSafetensors);
  for (let k = 0; k < 2000; k++) {
    const b = validSafetensors.slice();
    const count = 1 + r.randint(0, 4);
    for (let j = 0; j < count; j++) b[r.randint(0, start)] = r.randint(0, 256);
    attempt(`overwrite #${k}`, () => parseSafetensors(b), structurallyValid);
  }
});

test("checkpoint: every truncation and every bit flip is a LoadError", { timeout: 20_000 }, () => {
  assert.equal(parseCheckpoint(validCheckpoint).step, 7);
  for (const t of truncations(validCheckpoint)) {
    assert.equal(
      attempt(
        `truncated to ${t.length}`,
        () => parseCheckpoint(t),
        () => {},
      ),
      "LoadError",
      `checkpoint truncated to ${t.length} bytes loaded`,
    );
  }
  let flips = 0;
  for (const [pos, b] of bitFlips(validCheckpoint)) {
    assert.equal(
      attempt(
        `bit flip at byte ${pos}`,
        () => parseCheckpoint(b),
        () => {},
      ),
      "LoadError",
      `checkpoint with a bit flipped at byte ${pos} loaded`,
    );
    flips++;
  }
  assert.ok(flips >= 200);
  console.log(`checkpoint fuzz: ${validCheckpoint.length} truncations and ${flips} bit flips, all LoadError`);
});
