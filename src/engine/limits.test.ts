// The engine's caps (./limits.ts): refused before allocating, with the library's errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { arange, eye, full, tensor, zeros } from "./creation.js";
import { ArgumentError, DTypeError, LoadError } from "./errors.js";
import { getMaxTensorBytes, jsonDepth, parseJsonText, setMaxTensorBytes, toInt32, valueDepth } from "./limits.js";
import { meta } from "./meta.js";

test("a tensor past the byte budget is an ArgumentError naming the op, the shape and the budget", () => {
  assert.throws(
    () => zeros([1e9]),
    (e: Error) =>
      e instanceof ArgumentError &&
      /^zeros: a tensor of shape \(1000000000\) \(float32\) needs 4,000,000,000 bytes/.test(e.message),
  );
  assert.throws(
    () => eye(1e6),
    (e: Error) => e instanceof ArgumentError && /^eye:/.test(e.message),
  );
  assert.throws(
    () => arange(0, 1e10, 1, { dtype: "float32" }),
    (e: Error) => e instanceof ArgumentError && /^arange:/.test(e.message),
  );
  // the budget is a setting: lowered, a small tensor is refused; restored, it is made
  const old = setMaxTensorBytes(64);
  try {
    assert.throws(() => zeros([17]), ArgumentError);
    assert.equal(zeros([16]).numel(), 16);
  } finally {
    setMaxTensorBytes(old);
  }
  assert.equal(getMaxTensorBytes(), old);
  // shape-only tensors allocate nothing, so the budget does not apply to them
  assert.deepEqual(meta(() => zeros([1e6, 1e6])).shape, [1e6, 1e6]);
});

test("int32 holds integers in [-2^31, 2^31 - 1]; anything else is a DTypeError, never a wrap-around", () => {
  assert.deepEqual(
    [...tensor([2 ** 31 - 1, -(2 ** 31), 2.7, -2.7], { dtype: "int32" }).storage],
    [2147483647, -2147483648, 2, -2],
  );
  for (const v of [2 ** 31, 3e10, NaN, Infinity, -Infinity])
    assert.throws(() => tensor([v], { dtype: "int32" }), DTypeError, String(v));
  assert.throws(() => tensor(Float32Array.from([1, NaN]), { dtype: "int32" }), DTypeError);
  assert.throws(() => full([2], 1e10, { dtype: "int32" }), DTypeError);
  assert.throws(() => arange(0, 3e9), DTypeError);
  assert.equal(toInt32("x", -0.5), 0);
});

test("nesting: at most 64 levels in tensor() and in a JSON text, checked without recursion", () => {
  let a: unknown = [1];
  for (let i = 1; i < 64; i++) a = [a];
  assert.equal(tensor(a as number[]).ndim, 64);
  assert.throws(() => tensor([a] as number[]), ArgumentError);
  let deep: unknown = [1];
  for (let i = 0; i < 100_000; i++) deep = [deep];
  assert.throws(() => tensor(deep as number[]), ArgumentError);
  assert.equal(jsonDepth('{"a":[1,{"b":"[[[["}],"c":"\\"{"}'), 3);
  assert.throws(
    () => parseJsonText("[".repeat(65) + "]".repeat(65), "x.json"),
    (e: Error) => e instanceof LoadError && /x\.json: JSON nested deeper than 64/.test(e.message),
  );
  assert.ok(Array.isArray(parseJsonText("[".repeat(64) + "]".repeat(64), "x.json")));
  assert.throws(
    () => parseJsonText("{nope", "x.json"),
    (e: Error) => e instanceof LoadError && /not valid JSON/.test(e.message),
  );
  assert.equal(valueDepth(deep, 64), 65);
  assert.equal(valueDepth({ a: [1, { b: 2 }] }), 3);
});
