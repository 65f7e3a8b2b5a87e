// Unit tests of the engine: creation, dtypes, the RNG, autograd's contract, printing and errors.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ArgumentError,
  AutogradError,
  DTypeError,
  Generator,
  ShapeError,
  Tensor,
  WnnError,
  arange,
  eye,
  full,
  linspace,
  manualSeed,
  noGrad,
  ones,
  onesLike,
  rand,
  randint,
  randn,
  randnLike,
  tensor,
  zeros,
  zerosLike,
} from "../index.js";
import { broadcastShapes, normDim } from "./shape.js";

test("tensor() infers shape and dtype from nested arrays and typed arrays", () => {
  const a = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  assert.deepEqual(a.shape, [2, 3]);
  assert.equal(a.dtype, "float32");
  assert.deepEqual(a.toArray(), [
    [1, 2, 3],
    [4, 5, 6],
  ]);
  assert.equal(tensor([true, false]).dtype, "bool");
  assert.deepEqual(tensor([true, false]).toArray(), [true, false]);
  assert.equal(tensor([1, 2], { dtype: "int32" }).dtype, "int32");
  assert.deepEqual(tensor([1.7, -1.7], { dtype: "int32" }).toArray(), [1, -1]); // truncation toward zero
  const f = tensor(new Float64Array([1, 2, 3, 4, 5, 6]), { shape: [3, 2] });
  assert.equal(f.dtype, "float64");
  assert.deepEqual(f.toArray(), [
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  const s = tensor(3.5);
  assert.deepEqual(s.shape, []);
  assert.equal(s.item(), 3.5);
  assert.deepEqual(tensor([]).shape, [0]);
});

test("tensor() rejects ragged and non-numeric data with clear errors", () => {
  assert.throws(
    () => tensor([[1, 2], [3]]),
    (e: Error) => e instanceof ArgumentError && /ragged/.test(e.message),
  );
  assert.throws(() => tensor(["a" as never]), ArgumentError);
  assert.throws(
    () => tensor(new Float32Array(5), { shape: [2, 3] }),
    (e: Error) => e instanceof ArgumentError && /\(2,3\)/.test(e.message),
  );
  assert.throws(() => tensor([1], { dtype: "float16" as never }), DTypeError);
});

test("constant creators", () => {
  assert.deepEqual(zeros([2, 2]).toArray(), [
    [0, 0],
    [0, 0],
  ]);
  assert.deepEqual(ones([3], { dtype: "int32" }).toArray(), [1, 1, 1]);
  assert.deepEqual(full([2], 7).toArray(), [7, 7]);
  assert.deepEqual(eye(2, 3).toArray(), [
    [1, 0, 0],
    [0, 1, 0],
  ]);
  const x = tensor([[1, 2]], { dtype: "float64" });
  assert.equal(zerosLike(x).dtype, "float64");
  assert.deepEqual(onesLike(x).toArray(), [[1, 1]]);
  assert.throws(() => zeros([2, -1]), ArgumentError);
});

test("arange and linspace follow PyTorch", () => {
  assert.deepEqual(arange(5).toArray(), [0, 1, 2, 3, 4]);
  assert.equal(arange(5).dtype, "int32");
  assert.deepEqual(arange(1, 2, 0.25).toArray(), [1, 1.25, 1.5, 1.75]);
  assert.equal(arange(1, 2, 0.25).dtype, "float32");
  assert.deepEqual(arange(5, 0, -2).toArray(), [5, 3, 1]);
  assert.throws(() => arange(0, 5, 0), ArgumentError);
  assert.throws(() => arange(0, 5, -1), ArgumentError);
  const l = linspace(0, 1, 5, { dtype: "float64" });
  assert.deepEqual(l.toArray(), [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(linspace(2, 3, 1).toArray(), [2]);
  assert.equal(linspace(0, 1, 0).numel(), 0);
});

test("the seeded RNG is reproducible and its state can be saved and restored", () => {
  manualSeed(42);
  const a = randn([5]).toArray();
  manualSeed(42);
  assert.deepEqual(randn([5]).toArray(), a);
  const g = new Generator(7);
  g.normal(); // leaves a Box–Muller spare in the state
  const state = g.getState();
  const next = [g.normal(), g.normal(), g.random(), g.nextUint32()];
  g.setState(state);
  assert.deepEqual([g.normal(), g.normal(), g.random(), g.nextUint32()], next);
  // a state survives JSON (it goes into checkpoints)
  const g2 = new Generator(0).setState(JSON.parse(JSON.stringify(state)));
  g.setState(state);
  assert.equal(g2.normal(), g.normal());
  assert.notDeepEqual(new Generator(1).getState(), new Generator(2).getState());
});

test("random draws have the right distribution", () => {
  const g = new Generator(3);
  const n = 20000;
  const u = rand([n], { generator: g, dtype: "float64" }).storage;
  let mean = 0;
  for (const v of u) {
    assert.ok(v >= 0 && v < 1);
    mean += v / n;
  }
  assert.ok(Math.abs(mean - 0.5) < 0.01, `uniform mean ${mean}`);
  const z = randn([n], { generator: g, dtype: "float64" }).storage;
  let m = 0,
    v2 = 0;
  for (const v of z) m += v / n;
  for (const v of z) v2 += (v - m) ** 2 / n;
  assert.ok(Math.abs(m) < 0.03 && Math.abs(v2 - 1) < 0.04, `normal mean ${m} var ${v2}`);
  const r = randint(-2, 3, [n], { generator: g });
  assert.equal(r.dtype, "int32");
  const counts = new Map<number, number>();
  for (const v of r.storage) counts.set(v, (counts.get(v) ?? 0) + 1);
  assert.deepEqual([...counts.keys()].sort(), [-1, -2, 0, 1, 2].sort());
  for (const c of counts.values()) assert.ok(Math.abs(c / n - 0.2) < 0.02);
  assert.throws(() => randint(3, 3, [1]), ArgumentError);
  assert.equal(randnLike(tensor([1], { dtype: "int32" })).dtype, "float32");
});

test("broadcasting and dims", () => {
  assert.deepEqual(broadcastShapes("add", [3, 1], [4]), [3, 4]);
  assert.deepEqual(broadcastShapes("add", [], [2, 3]), [2, 3]);
  assert.deepEqual(broadcastShapes("add", [0, 1], [1, 5]), [0, 5]);
  assert.throws(
    () => broadcastShapes("add", [2, 3], [4]),
    (e: Error) => e instanceof ShapeError && /add: shapes \(2,3\) and \(4\)/.test(e.message),
  );
  assert.equal(normDim("sum", -1, 3), 2);
  assert.equal(normDim("sum", -1, 0), 0); // a 0-d tensor accepts dim -1 and 0
  assert.throws(
    () => normDim("sum", 3, 3, [2, 2, 2]),
    (e: Error) => e instanceof ArgumentError && /sum: dim 3.*\(2,2,2\).*\[-3, 2\]/.test(e.message),
  );
});

test("reading values", async () => {
  const x = tensor([
    [1, 2],
    [3, 4],
  ]);
  const copy = x.dataSync();
  copy[0] = 99;
  assert.equal(x.storage[0], 1, "dataSync returns a copy");
  assert.deepEqual([...(await x.data())], [1, 2, 3, 4]);
  assert.throws(
    () => x.item(),
    (e: Error) => e instanceof ArgumentError && /\(2,2\)/.test(e.message),
  );
  assert.equal(x.size(-1), 2);
  assert.deepEqual(x.size(), [2, 2]);
  assert.throws(() => x.size(2), ArgumentError);
});

test("toString prints like PyTorch", () => {
  assert.equal(
    String(
      tensor([
        [0.5, -1.25],
        [2, 3],
      ]),
    ),
    "tensor([[ 0.5000, -1.2500],\n        [ 2.0000,  3.0000]])",
  );
  assert.equal(String(tensor([1, 2, 3])), "tensor([1., 2., 3.])");
  assert.equal(String(tensor([1, 2], { dtype: "int32" })), "tensor([1, 2], dtype=int32)");
  assert.equal(String(tensor([true, false])), "tensor([ True, False])");
  assert.equal(String(tensor(2.5)), "tensor(2.5000)");
  assert.equal(String(zeros([0, 3])), "tensor([], size=(0, 3))");
  assert.equal(String(tensor([1, 2], { requiresGrad: true })), "tensor([1., 2.], requires_grad=True)");
  assert.equal(String(tensor([NaN, Infinity, 1.5])), "tensor([   nan,    inf, 1.5000])");
  const big = String(arange(2000));
  assert.match(big, /^tensor\(\[   0,    1,    2, \.\.\., 1997, 1998, 1999\], dtype=int32\)$/);
});

test("autograd: accumulation into .grad, shared subexpressions, leaves only", () => {
  const x = tensor([1, 2, 3], { requiresGrad: true, dtype: "float64" });
  const y = x.mul(x).add(x); // y = x² + x  ⇒  dy/dx = 2x + 1
  y.backward(ones([3], { dtype: "float64" }));
  assert.deepEqual(x.grad!.toArray(), [3, 5, 7]);
  assert.equal(y.grad, null, "non-leaves keep no grad");
  // a second graph accumulates
  x.mul(2).backward(ones([3], { dtype: "float64" }));
  assert.deepEqual(x.grad!.toArray(), [5, 7, 9]);
  assert.ok(x.isLeaf && !y.isLeaf);
});

test("autograd: retainGrad, detach, noGrad", () => {
  const x = tensor([2], { requiresGrad: true });
  const h = x.mul(3).retainGrad();
  h.mul(h).backward(); // d(h²)/dh = 2h = 12
  assert.deepEqual(h.grad!.toArray(), [12]);
  assert.deepEqual(x.grad!.toArray(), [36]);
  const d = x.detach();
  assert.equal(d.requiresGrad, false);
  assert.equal(d.storage, x.storage, "detach shares storage");
  const z = noGrad(() => x.mul(2));
  assert.equal(z.requiresGrad, false);
  assert.equal(z.gradFn, null);
});

test("autograd: clear errors", () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const y = x.mul(x);
  assert.throws(
    () => y.backward(),
    (e: Error) => e instanceof AutogradError && /scalar output.*\(2\)/.test(e.message),
  );
  assert.throws(
    () => y.backward(ones([3])),
    (e: Error) => e instanceof AutogradError && /\(3\).*\(2\)/.test(e.message),
  );
  y.backward(ones([2]));
  assert.throws(
    () => y.backward(ones([2])),
    (e: Error) => e instanceof AutogradError && /second time/.test(e.message),
  );
  const r = x.mul(x);
  r.backward(ones([2]), { retainGraph: true });
  r.backward(ones([2])); // allowed with retainGraph
  assert.throws(
    () => {
      tensor([1], { dtype: "int32" }).requiresGrad = true;
    },
    (e: Error) => e instanceof AutogradError && /int32/.test(e.message),
  );
  assert.throws(
    () => tensor([1, 2]).backward(),
    (e: Error) => e instanceof AutogradError && /does not require grad/.test(e.message),
  );
  assert.throws(() => {
    y.requiresGrad = false;
  }, AutogradError);
  assert.ok(new ShapeError("x") instanceof WnnError);
  assert.equal(new ShapeError("x").name, "ShapeError");
});

test("autograd: a deep chain does not overflow the stack", () => {
  const x = tensor([1], { requiresGrad: true, dtype: "float64" });
  let y: Tensor = x;
  for (let i = 0; i < 20000; i++) y = y.add(1);
  y.backward();
  assert.deepEqual(x.grad!.toArray(), [1]);
});
