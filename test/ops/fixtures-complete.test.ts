// Every exported op has at least one PyTorch fixture case (test/fixtures/ops/*.json), so no op is
// checked only against itself.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import * as wnn from "../../src/index.js";
import * as ops from "../../src/ops/index.js";

/** Exported functions that are not tensor ops. */
const NOT_OPS = new Set([
  "setBackend",
  "getBackend",
  "listBackends",
  "registerBackend",
  "withSyncBatchNorm",
  "syncBatchNormSum",
]);

test("every exported op has a PyTorch fixture case", () => {
  const dir = new URL("../../../test/fixtures/ops/", import.meta.url);
  const covered = new Set<string>();
  for (const f of readdirSync(dir)) {
    for (const c of (JSON.parse(readFileSync(new URL(f, dir), "utf8")) as { cases: { op: string }[] }).cases)
      covered.add(c.op);
  }
  const exported = new Set<string>();
  for (const mod of [ops, wnn.nn.functional] as Record<string, unknown>[]) {
    for (const [name, v] of Object.entries(mod))
      if (typeof v === "function" && /^[a-z]/.test(name) && !NOT_OPS.has(name)) exported.add(name);
  }
  const missing = [...exported].filter((n) => !covered.has(n)).sort();
  assert.deepEqual(missing, [], `ops without a PyTorch fixture: ${missing.join(", ")}`);
});
