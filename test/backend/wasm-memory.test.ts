// The wasm memory's refusal to grow (past the 4 GiB wasm32 addresses) reaches the user as the library's typed
// error: the backend imports none of ours, so the ops layer installs MemoryBudgetError in it (src/ops/kernels.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryBudgetError } from "../../src/engine/errors.js";
import "../../src/ops/kernels.js";
import { ensureBytes, wasm } from "../../src/backend/wasm/instance.js";
import { wasmAvailable } from "../../src/backend/wasm/index.js";

test(
  "ensureBytes past 4 GiB throws MemoryBudgetError naming the bytes, and the memory stays as it was",
  { skip: !wasmAvailable() },
  () => {
    const st = wasm();
    const before = st.memory.buffer.byteLength;
    assert.throws(
      () => ensureBytes(st, 5 * 2 ** 30),
      (e: unknown) =>
        e instanceof MemoryBudgetError && /5,368,709,120 bytes/.test(e.message) && /4 GiB/.test(e.message),
    );
    assert.equal(st.memory.buffer.byteLength, before);
  },
);
