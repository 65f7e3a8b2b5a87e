// Shape-only (meta) tensors: what meta() creates, and that every use of their missing values throws a clear
// ArgumentError (from the accessors, from a kernel of either backend, from autograd), never a wrong value.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ArgumentError,
  Generator,
  Tensor,
  arange,
  cat,
  eye,
  full,
  fullLike,
  getBackend,
  inMeta,
  linspace,
  listBackends,
  matmul,
  meta,
  noGrad,
  ones,
  onesLike,
  rand,
  randint,
  randn,
  randnLike,
  setBackend,
  tensor,
  zeros,
  zerosLike,
} from "../index.js";
import * as F from "../nn/functional.js";

const META = /is a meta tensor \(shape-only\); it has no data/;
const isMetaError =
  (what: RegExp) =>
  (e: unknown): boolean =>
    e instanceof ArgumentError && META.test(e.message) && what.test(e.message);

test("meta(): every creation function returns a shape-only tensor of the shape and dtype it would have returned", () => {
  const real = zeros([2, 3]);
  const made = meta(() => ({
    tensorNested: tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { dtype: "int32" },
    ),
    tensorTyped: tensor(new Float64Array(6), { shape: [3, 2] }),
    tensorBool: tensor([true, false]),
    zeros: zeros([4096, 4096]),
    ones: ones([5], { dtype: "float64" }),
    full: full([2, 2], 7, { requiresGrad: true }),
    zerosLike: zerosLike(real),
    onesLike: onesLike(real, { dtype: "int32" }),
    fullLike: fullLike(real, 3),
    arange: arange(10),
    arangeF: arange(0, 1, 0.25),
    linspace: linspace(0, 1, 11, { dtype: "float64" }),
    eye: eye(3, 4),
    rand: rand([2, 5]),
    randn: randn([32000, 4096]),
    randnLike: randnLike(real),
    randint: randint(0, 9, [7]),
    scalar: tensor(3.5),
    empty: zeros([0, 4]),
  }));
  const expect: Record<string, [number[], string]> = {
    tensorNested: [[2, 3], "int32"],
    tensorTyped: [[3, 2], "float64"],
    tensorBool: [[2], "bool"],
    zeros: [[4096, 4096], "float32"],
    ones: [[5], "float64"],
    full: [[2, 2], "float32"],
    zerosLike: [[2, 3], "float32"],
    onesLike: [[2, 3], "int32"],
    fullLike: [[2, 3], "float32"],
    arange: [[10], "int32"],
    arangeF: [[4], "float32"],
    linspace: [[11], "float64"],
    eye: [[3, 4], "float32"],
    rand: [[2, 5], "float32"],
    randn: [[32000, 4096], "float32"],
    randnLike: [[2, 3], "float32"],
    randint: [[7], "int32"],
    scalar: [[], "float32"],
    empty: [[0, 4], "float32"],
  };
  for (const [name, t] of Object.entries(made)) {
    const [shape, dtype] = expect[name]!;
    assert.ok(t instanceof Tensor && t.isMeta, `${name} is meta`);
    assert.deepEqual(t.shape, shape, name);
    assert.equal(t.dtype, dtype, name);
    assert.equal(
      t.numel(),
      shape.reduce((a, b) => a * b, 1),
      name,
    );
  }
  assert.equal(made.full.requiresGrad, true);
  assert.equal(real.isMeta, false);
  assert.equal(zeros([2]).isMeta, false, "outside meta() tensors are real again");
});

test("meta(): nests, returns its value, restores the mode after a throw, checks arguments as usual and draws nothing", () => {
  assert.equal(inMeta(), false);
  const t = meta(() => meta(() => zeros([2])).shape.length + (inMeta() ? 10 : 0));
  assert.equal(t, 11);
  assert.throws(
    () =>
      meta(() => {
        throw new Error("boom");
      }),
    /boom/,
  );
  assert.equal(inMeta(), false);
  assert.equal(zeros([1]).isMeta, false);
  // the same argument checks as outside meta()
  assert.throws(() => meta(() => zeros([-1])), ArgumentError);
  assert.throws(() => meta(() => randint(3, 3, [2])), /low < high/);
  assert.throws(() => meta(() => tensor([[1, 2], [3]])), /ragged/);
  // the generator does not advance
  const g = new Generator(5),
    h = new Generator(5);
  meta(() => randn([1000], { generator: g }));
  assert.equal(g.random(), h.random());
});

test("a meta tensor's values cannot be read: dataSync, data, item, toArray, clone's values and storage all throw", async () => {
  const t = meta(() => zeros([3, 4]));
  assert.throws(() => t.dataSync(), isMetaError(/dataSync: this float32 tensor of shape \(3,4\)/));
  await assert.rejects(async () => t.data(), isMetaError(/dataSync/));
  assert.throws(() => meta(() => tensor(2)).item(), isMetaError(/item: this float32 tensor of shape \(\)/));
  assert.throws(() => t.toArray(), isMetaError(/toArray/));
  assert.throws(() => t.storage[0], isMetaError(/storage\[0\]: this float32 tensor of shape \(3,4\)/));
  assert.throws(
    () => {
      t.storage[5] = 1;
    },
    isMetaError(/storage\[5\]/),
  );
  assert.throws(() => t.storage.slice(), isMetaError(/storage\.slice/));
  assert.throws(() => t.storage.buffer, isMetaError(/storage\.buffer/));
  assert.throws(() => new Float32Array(12).set(t.storage), isMetaError(/./));
  assert.throws(() => Array.from(t.storage), isMetaError(/./));
  // what needs no values works: shape, numel, dtype, detach and reshape (they share the storage), clone, printing
  assert.equal(t.storage.length, 12);
  assert.ok(t.storage instanceof Float32Array);
  assert.ok(t.detach().isMeta && t.reshape([2, 6]).isMeta && t.clone().isMeta);
  assert.deepEqual(t.reshape([12]).shape, [12]);
  assert.equal(String(t), "tensor(..., meta, size=(3, 4), dtype=float32)");
  assert.equal(
    String(meta(() => randn([2], { requiresGrad: true }))),
    "tensor(..., meta, size=(2), dtype=float32, requires_grad=True)",
  );
});

test("no op runs on a meta tensor, with either backend: every kernel throws at its first read", () => {
  const before = getBackend();
  try {
    for (const backend of listBackends()) {
      setBackend(backend);
      const w = meta(() => randn([64, 64])); // large enough for the wasm kernels
      const x = randn([8, 64]);
      const cases: [string, () => unknown][] = [
        ["add", () => w.add(1)],
        ["mul real·meta", () => x.mul(w.narrow(0, 0, 8))],
        ["matmul", () => matmul(x, w)],
        ["matmul meta·real", () => matmul(w, x.transpose(0, 1))],
        ["sum", () => w.sum()],
        ["softmax", () => w.softmax(-1)],
        ["linear", () => F.linear(x, w)],
        ["layerNorm", () => F.layerNorm(w, [64])],
        ["embedding", () => F.embedding(tensor([1, 2], { dtype: "int32" }), w)],
        ["permute", () => w.permute(1, 0)],
        ["cat", () => cat([x, w], 0)],
        ["inside noGrad", () => noGrad(() => x.matmul(w))],
      ];
      for (const [name, run] of cases)
        assert.throws(run, isMetaError(/shape \(64,64\)|shape \(8,64\)/), `${backend}: ${name}`);
    }
  } finally {
    setBackend(before);
  }
});

test("autograd on a meta leaf: the forward already throws, so no gradient is ever computed from missing values", () => {
  const w = meta(() => randn([4, 4], { requiresGrad: true }));
  assert.equal(w.requiresGrad, true);
  assert.throws(() => w.mul(2).sum().backward(), isMetaError(/shape \(4,4\)/));
});

test("metaLivePeak: a memory scope's buffers live to its end; outside a scope each dies after its last use", async () => {
  const { metaLivePeak } = await import("./meta.js");
  const { tidy } = await import("./scope.js");
  const { zeros: z } = await import("./creation.js");
  const storages = (t: Tensor) => [t.storage];
  // a chain of 10 adds on (1000) float32: 4,000 bytes each; freed as it goes, two at once (input and output)
  const chain = () => {
    let x = z([1000]);
    for (let i = 0; i < 10; i++) x = x.add(1);
    return x;
  };
  const free = metaLivePeak(chain, storages);
  assert.equal(free.total, 11 * 4000 + 10 * 4); // and the scalar 1, ten times
  assert.ok(free.peak >= 2 * 4000 && free.peak < 3 * 4000, `peak ${free.peak}`);
  // the same chain in a scope: every buffer it made is live until it ends
  const scoped = metaLivePeak(() => tidy(chain), storages);
  assert.equal(scoped.peak, scoped.total);
  // two scopes one after the other: the first's buffers end with it (its result leaves and lives on)
  const two = metaLivePeak(() => {
    const a = tidy(chain);
    const b = tidy(chain);
    return a.add(b);
  }, storages);
  assert.equal(two.peak, 4000 + scoped.total);
});
