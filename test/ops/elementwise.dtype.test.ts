// dtype rules of the elementwise family (see the header of src/ops/elementwise.ts): PyTorch's type
// promotion, integer-preserving ops, our DTypeError for transcendental functions of integer tensors,
// and the Tensor methods / nn.functional exports. Expected values are computed here in plain JS.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as wnn from "../../src/index.js";
import { DTypeError } from "../../src/index.js";
import { assertThrowsWith } from "../harness/assert.js";

const ints = [3, -2, 0, 7];
const i32 = () => wnn.tensor(ints, { dtype: "int32" });
const f32 = () => wnn.tensor([0.5, -1.25, 2, 3.5]);
const mask = () => wnn.tensor([true, false, true, true]);

test("type promotion: int32 + float32 gives float32", () => {
  const y = wnn.add(i32(), f32());
  assert.equal(y.dtype, "float32");
  assert.deepEqual(
    [...y.storage],
    ints.map((v, i) => v + [0.5, -1.25, 2, 3.5][i]!),
  );
});

test("type promotion: bool + int32 gives int32", () => {
  const y = wnn.add(mask(), i32());
  assert.equal(y.dtype, "int32");
  assert.deepEqual(
    [...y.storage],
    ints.map((v, i) => v + Number([1, 0, 1, 1][i])),
  );
});

test("type promotion: a fractional number turns an int32 tensor into float32; an integer keeps int32", () => {
  const y = i32().add(1.5);
  assert.equal(y.dtype, "float32");
  assert.deepEqual(
    [...y.storage],
    ints.map((v) => v + 1.5),
  );
  const z = i32().mul(2);
  assert.equal(z.dtype, "int32");
  assert.deepEqual(
    [...z.storage],
    ints.map((v) => v * 2),
  );
  // a number does not promote a float tensor of its own category
  assert.equal(wnn.tensor([1, 2], { dtype: "float64" }).add(2.5).dtype, "float64");
  assert.equal(f32().add(wnn.tensor([1], { dtype: "float64" })).dtype, "float64");
});

test("integer-preserving ops keep int32; div is true division", () => {
  for (const [name, y] of [
    ["neg", i32().neg()],
    ["abs", i32().abs()],
    ["relu", i32().relu()],
    ["sub", i32().sub(i32())],
    ["maximum", i32().maximum(1)],
    ["minimum", i32().minimum(1)],
    ["clamp", i32().clamp(-1, 2)],
    ["where", wnn.where(mask(), i32(), 0)],
    ["maskedFill", i32().maskedFill(mask(), 9)],
    ["pow", i32().pow(2)],
  ] as const) {
    assert.equal(y.dtype, "int32", `${name} of int32`);
  }
  assert.deepEqual(
    [...i32().clamp(-1, 2).storage],
    ints.map((v) => Math.min(Math.max(v, -1), 2)),
  );
  const q = i32().div(2);
  assert.equal(q.dtype, "float32");
  assert.deepEqual(
    [...q.storage],
    ints.map((v) => v / 2),
  );
  assert.equal(i32().clamp(0.5).dtype, "float32");
});

test("bool: add is or, mul is and, comparisons give bool, sub/neg/abs refuse", () => {
  const a = wnn.tensor([true, true, false, false]),
    b = wnn.tensor([true, false, true, false]);
  const or = a.add(b),
    and = a.mul(b);
  assert.equal(or.dtype, "bool");
  assert.deepEqual(or.toArray(), [true, true, true, false]);
  assert.deepEqual(and.toArray(), [true, false, false, false]);
  assert.equal(i32().gt(1.5).dtype, "bool");
  assert.deepEqual(
    i32().gt(1.5).toArray(),
    ints.map((v) => v > 1.5),
  );
  assertThrowsWith(() => a.sub(b), DTypeError, /sub/, /bool/);
  assertThrowsWith(() => a.neg(), DTypeError, /neg/, /bool/);
  assertThrowsWith(() => a.abs(), DTypeError, /abs/, /bool/);
});

test("our choice: transcendental functions of int32 raise DTypeError naming the op (PyTorch would promote)", () => {
  const fns: [string, (x: wnn.Tensor) => wnn.Tensor][] = [
    ["exp", wnn.exp],
    ["log", wnn.log],
    ["log1p", wnn.log1p],
    ["sqrt", wnn.sqrt],
    ["rsqrt", wnn.rsqrt],
    ["sin", wnn.sin],
    ["cos", wnn.cos],
    ["tanh", wnn.tanh],
    ["sigmoid", wnn.sigmoid],
    ["silu", wnn.silu],
    ["gelu", (x) => wnn.gelu(x)],
    ["softplus", (x) => wnn.softplus(x)],
    ["elu", (x) => wnn.elu(x)],
    ["leakyRelu", (x) => wnn.leakyRelu(x)],
  ];
  for (const [name, fn] of fns)
    assertThrowsWith(() => fn(i32()), DTypeError, new RegExp(`^${name}:`), /int32/, /\(4\)/, /\.float\(\)/);
  assertThrowsWith(() => wnn.pow(i32(), -1), DTypeError, /pow/, /negative/);
  // the conversion the message recommends works
  assert.equal(wnn.exp(i32().float()).dtype, "float32");
});

test("gradients flow back through promotion with each input's own dtype", () => {
  const x = wnn.tensor([1, 2, 3], { requiresGrad: true }); // float32
  const w = wnn.tensor([0.5, 0.25, 2], { dtype: "float64", requiresGrad: true });
  const y = x.mul(w).add(wnn.tensor([1, 0, 1], { dtype: "int32" })); // float64
  assert.equal(y.dtype, "float64");
  y.backward(wnn.ones([3], { dtype: "float64" }));
  assert.equal(x.grad!.dtype, "float32");
  assert.equal(w.grad!.dtype, "float64");
  assert.deepEqual([...x.grad!.storage], [0.5, 0.25, 2]);
  assert.deepEqual([...w.grad!.storage], [1, 2, 3]);
});

test("Tensor methods call the ops; nn.functional exports the activations", () => {
  const x = wnn.tensor([0.5, -1.25, 2, 3.5]),
    y = wnn.tensor([1, 1, -2, 4]);
  const same = (a: wnn.Tensor, b: wnn.Tensor) => assert.deepEqual([...a.storage], [...b.storage]);
  same(x.add(y), wnn.add(x, y));
  same(x.pow(2), wnn.pow(x, 2));
  same(x.pow(y), wnn.pow(x, y));
  same(x.maskedFill(mask(), -1), wnn.maskedFill(x, mask(), -1));
  same(x.clamp(-1, 1), wnn.clamp(x, -1, 1));
  same(x.sigmoid(), wnn.sigmoid(x));
  same(x.where(mask(), y), wnn.where(mask(), x, y));
  same(x.gelu({ approximate: "tanh" }), wnn.gelu(x, { approximate: "tanh" }));
  same(x.softplus(2, 1), wnn.softplus(x, 2, 1));
  same(x.leakyRelu(0.2), wnn.leakyRelu(x, 0.2));
  same(x.elu(1.5), wnn.elu(x, 1.5));
  const F = wnn.nn.functional;
  for (const name of ["relu", "leakyRelu", "elu", "gelu", "silu", "softplus", "sigmoid", "tanh"] as const) {
    assert.equal(F[name], wnn[name], `F.${name}`);
  }
});
