// Backend selection: the reference backend is always there, unknown names are refused, and a partial
// backend is completed with reference kernels.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as wnn from "../src/index.js";
import { ArgumentError } from "../src/index.js";
import { referenceKernels } from "../src/backend/reference/backend.js";
import { BINARY_KERNELS, UNARY_KERNELS } from "../src/backend/backend.js";

test("setBackend: reference exists, unknown names are refused with the list of backends", () => {
  assert.ok(wnn.listBackends().includes("reference"));
  const before = wnn.getBackend();
  assert.throws(
    () => wnn.setBackend("cuda"),
    (e: Error) => e instanceof ArgumentError && /cuda/.test(e.message) && /reference/.test(e.message),
  );
  assert.equal(wnn.getBackend(), before);
});

test("a partial backend falls back to the reference kernels", () => {
  let calls = 0;
  const before = wnn.getBackend();
  wnn.registerBackend({
    name: "counting",
    kernels: {
      exp: (x, out) => {
        calls++;
        referenceKernels.exp(x, out);
      },
    },
  });
  try {
    wnn.setBackend("counting");
    const y = wnn.exp(wnn.tensor([0, 1]));
    assert.equal(calls, 1);
    assert.deepEqual(
      [...y.storage].map((v) => Math.round(v * 1e4) / 1e4),
      [1, 2.7183],
    );
    assert.deepEqual(wnn.add(wnn.tensor([1]), 2).toArray(), [3]); // reference add
  } finally {
    wnn.setBackend(before);
  }
});

test("the reference table is complete", () => {
  for (const k of [...UNARY_KERNELS, ...BINARY_KERNELS]) assert.equal(typeof referenceKernels[k], "function", k);
});
