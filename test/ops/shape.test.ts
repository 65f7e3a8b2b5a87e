// What the op table cannot show for the shape and indexing families: storage sharing, the two call
// forms of the Tensor methods, dtype rules, and gradients flowing through chains of views.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as wnn from "../../src/index.js";

const x = () => wnn.arange(0, 24, 1, { dtype: "float32" });

test("reshape, view, flatten, squeeze and unsqueeze share storage; copies do not", () => {
  const a = x();
  for (const y of [a.reshape([4, 6]), a.view(2, 12), a.reshape(2, 3, 4).flatten(), a.unsqueeze(0).squeeze()])
    assert.equal(y.storage, a.storage);
  assert.notEqual(a.reshape(4, 6).transpose(0, 1).storage, a.storage);
});

test("size methods take one array or separate numbers", () => {
  const a = x().reshape(2, 3, 4);
  assert.deepEqual(a.reshape(4, -1).shape, a.reshape([4, -1]).shape);
  assert.deepEqual(a.permute(2, 0, 1).toArray(), a.permute([2, 0, 1]).toArray());
  assert.deepEqual(a.slice(0, 1).expand(3, -1, -1).shape, [3, 3, 4]);
  assert.deepEqual(a.repeat(1, 2, 1).toArray(), a.repeat([1, 2, 1]).toArray());
  assert.deepEqual(a.slice(-1, 1, null, 2).toArray(), a.slice([null, null, [1, null, 2]]).toArray());
});

test("cat promotes dtypes as PyTorch; oneHot gives int32", () => {
  const y = wnn.cat([wnn.tensor([1, 2], { dtype: "int32" }), wnn.tensor([0.5])]);
  assert.equal(y.dtype, "float32");
  assert.deepEqual(y.toArray(), [1, 2, 0.5]);
  assert.equal(wnn.oneHot(wnn.tensor([1], { dtype: "int32" })).dtype, "int32");
});

test("gradients flow through a chain of views and copies to the leaf", () => {
  const a = wnn.randn([2, 3], { requiresGrad: true });
  // y = Σ 2·(a permuted, flipped, padded, sliced back): every element of a is read once
  const y = wnn.pad(a.transpose(0, 1).flip(0), [1, 1]).slice(1, 1, 3).reshape(-1).mul(2);
  y.backward(wnn.onesLike(y));
  assert.deepEqual(a.grad!.toArray(), [
    [2, 2, 2],
    [2, 2, 2],
  ]);
});

test("slice and narrow copy dy into zeros (PyTorch's slice backward): a −0 of dy stays −0", () => {
  const a = wnn.randn([2, 4], { requiresGrad: true });
  a.narrow(1, 1, 2).backward(wnn.tensor([-0, 1, 2, -0]).reshape(2, 2));
  const b = wnn.randn([2, 4], { requiresGrad: true });
  b.slice(1, 0, 4, 2).backward(wnn.tensor([-0, 1, 2, -0]).reshape(2, 2));
  const signs = (t: wnn.Tensor): string[] => [...t.grad!.storage].map((v) => (Object.is(v, -0) ? "-0" : String(v)));
  assert.deepEqual(signs(a), ["0", "-0", "1", "0", "0", "2", "-0", "0"]);
  assert.deepEqual(signs(b), ["-0", "0", "1", "0", "2", "0", "-0", "0"]);
});

test("embedding: the padding row gets no gradient, the others get the sum of their rows of dy", () => {
  const w = wnn.randn([3, 2], { requiresGrad: true });
  const idx = wnn.tensor([1, 0, 1, 2], { dtype: "int32" });
  const dy = wnn.tensor([
    [1, 2],
    [3, 4],
    [5, 6],
    [7, 8],
  ]);
  wnn.embedding(idx, w, { paddingIdx: 1 }).backward(dy);
  assert.deepEqual(w.grad!.toArray(), [
    [3, 4],
    [0, 0],
    [7, 8],
  ]);
});
