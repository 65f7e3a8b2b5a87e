// The reduce family beyond the op table: output dtypes, the calling forms of var/std, the Tensor
// methods and their overloads, and agreement between the contiguous and the permuted reduction paths.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as wnn from "../../src/index.js";
import { ArgumentError, Tensor } from "../../src/index.js";
import { assertClose } from "../harness/assert.js";
import { bool, int32, randn64 } from "../harness/optable.js";

const exact = { rtol: 0, atol: 0 };

test("output dtypes follow PyTorch (int32 standing in for int64)", () => {
  assert.equal(wnn.sum(int32([1, 2, 3])).dtype, "int32");
  assert.equal(wnn.sum(bool([1, 0, 1])).dtype, "int32");
  assert.equal(wnn.sum(wnn.zeros([2, 3])).dtype, "float32");
  assert.equal(wnn.sum(randn64([2, 3], 1), 1).dtype, "float64");
  assert.equal(wnn.argmax(randn64([4], 2)).dtype, "int32");
  assert.equal(wnn.max(randn64([2, 3], 3), 1).indices.dtype, "int32");
  assert.equal(wnn.max(int32([4, 1]), 0).values.dtype, "int32");
  assert.equal(wnn.logsumexp(int32([1, 2]), 0).dtype, "float32");
});

test("var and std accept PyTorch 1.13's unbiased flag and the correction option alike", () => {
  const x = randn64([3, 5], 4);
  const biased = wnn.var(x, 1, { correction: 0 });
  assertClose(wnn.var(x, 1, false), biased, exact);
  assertClose(wnn.var(x, 1, { unbiased: false }), biased, exact);
  assertClose(wnn.var(x, false), wnn.var(x, undefined, { correction: 0 }), exact);
  assertClose(wnn.std(x, 1, true, true), wnn.std(x, 1, { keepdim: true }), exact);
  assert.throws(() => wnn.var(x, 1, { correction: 1, unbiased: true }), ArgumentError);
  assert.throws(() => wnn.sum(x, 1, "yes" as never), ArgumentError);
});

test("a reduction over dims that are not contiguous equals reducing them one at a time", () => {
  const x = randn64([3, 4, 5, 2], 5);
  assertClose(wnn.sum(x, [0, 2]), wnn.sum(wnn.sum(x, 2), 0), { rtol: 1e-12, atol: 1e-12 });
  assertClose(wnn.sum(x, [1, 3], true), wnn.sum(wnn.sum(x, 3, true), 1, true), { rtol: 1e-12, atol: 1e-12 });
  assertClose(wnn.logsumexp(x, [0, 3]), wnn.logsumexp(wnn.logsumexp(x, 3), 0), { rtol: 1e-12, atol: 1e-12 });
});

test("Tensor methods call the ops; max/min without dim give a tensor, with dim { values, indices }", () => {
  const x = randn64([2, 3, 4], 6);
  assertClose(x.sum(1, true), wnn.sum(x, 1, true), exact);
  assertClose(x.mean([0, 2]), wnn.mean(x, [0, 2]), exact);
  assertClose(x.var(-1), wnn.var(x, -1), exact);
  assertClose(x.std(), wnn.std(x), exact);
  assertClose(x.logsumexp(1), wnn.logsumexp(x, 1), exact);
  assertClose(x.argmax(2), wnn.argmax(x, 2), exact);
  assertClose(x.argmin(), wnn.argmin(x), exact);
  const all = x.max();
  assert.ok(all instanceof Tensor);
  assert.deepEqual(all.shape, []);
  const along = x.min(1, true);
  assert.deepEqual(along.values.shape, [2, 1, 4]);
  assert.deepEqual(along.indices.shape, [2, 1, 4]);
  assertClose(along.values, wnn.min(x, 1, true).values, exact);
});

test("the indices of max/min along a dim carry no gradient; the values do", () => {
  const x = randn64([3, 4], 7).requiresGrad_();
  const { values, indices } = wnn.max(x, 1);
  assert.equal(values.requiresGrad, true);
  assert.equal(indices.requiresGrad, false);
  assert.equal(wnn.argmax(x, 1).requiresGrad, false);
});
