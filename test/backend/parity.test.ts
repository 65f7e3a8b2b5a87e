// The backend-parity suite: the engine's whole op table (float32 samples against the float64 reference
// computation, each op with its own float32 tolerance; error cases) and every PyTorch fixture replay of
// the ops, the nn modules, the recurrent layers and the optimizers, re-run on the backend that the rest
// of the suite does not use (./parity-backend.ts). With the default (wasm) everywhere else, this file
// runs them on the reference backend; with WNN_BACKEND=reference, on wasm. float64 gradient checks are
// skipped here: float64 always runs the reference kernels, whatever the backend (the op table's own
// run checks them).
import { PARITY_BACKEND } from "./parity-backend.js"; // first: selects the backend before the modules below register their tests
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { getBackend } from "../../src/index.js";
import { referenceKernels } from "../../src/backend/reference/backend.js";
import { wasmBackend } from "../../src/backend/wasm/index.js";
import { runOpTable } from "../harness/optable.js";
import { cases as attention } from "../ops/cases/attention.js";
import { cases as cast } from "../ops/cases/cast.js";
import { cases as conv } from "../ops/cases/conv.js";
import { cases as elementwise } from "../ops/cases/elementwise.js";
import { cases as indexing } from "../ops/cases/indexing.js";
import { cases as matmul } from "../ops/cases/matmul.js";
import { cases as nn } from "../ops/cases/nn.js";
import { cases as reduce } from "../ops/cases/reduce.js";
import { cases as shape } from "../ops/cases/shape.js";
// The fixture replays: importing a fixtures test module registers its tests in this file.
import "../ops/attention.fixtures.test.js";
import "../ops/cast.fixtures.test.js";
import "../ops/conv.fixtures.test.js";
import "../ops/elementwise.fixtures.test.js";
import "../ops/indexing.fixtures.test.js";
import "../ops/matmul.fixtures.test.js";
import "../ops/nn.fixtures.test.js";
import "../ops/nn.threeway.test.js";
import "../ops/reduce.fixtures.test.js";
import "../ops/shape.fixtures.test.js";
import "../nn/modules.fixtures.test.js";
import "../nn/rnn.fixtures.test.js";
import "../optim/optim.fixtures.test.js";

runOpTable([...cast, ...elementwise, ...reduce, ...matmul, ...shape, ...indexing, ...nn, ...conv, ...attention], {
  gradcheck: false,
  prefix: `[${PARITY_BACKEND}] `,
});
// and inside a memory scope on this backend: the same values and gradients as outside one (on the reference
// backend the scope records and releases tensors but lends no wasm memory)
runOpTable([...cast, ...elementwise, ...reduce, ...matmul, ...shape, ...indexing, ...nn, ...conv, ...attention], {
  scopedOnly: true,
  prefix: `[${PARITY_BACKEND}] `,
});

test(`parity: the run above used the ${PARITY_BACKEND} backend`, () => assert.equal(getBackend(), PARITY_BACKEND));

after(() => assert.equal(getBackend(), PARITY_BACKEND, "a test module changed the backend during the parity run"));

// The kernels that once fell back to the reference on the wasm backend: the wasm backend
// must serve them itself (so that the op table above, or the rest of the suite, runs them on wasm).
const WASM_SERVED = [
  "im2col",
  "col2im",
  "biasAdd",
  "biasGrad",
  "maxPool2d",
  "maxPool2dBackward",
  "avgPool2d",
  "avgPool2dBackward",
  "rmsNorm",
  "rmsNormBackward",
  "gather",
  "scatterAdd",
  "indexSelect",
  "indexAdd",
  "matmul",
  "layerNorm",
  "layerNormBackward",
  "attention",
  "attentionBackward",
  "crossEntropy",
  "adam",
  "adamMulti",
] as const;

test("parity: conv, pooling, rmsNorm and indexing kernels are served by the wasm backend, not the reference fallback", () => {
  const own = wasmBackend.kernels;
  for (const name of WASM_SERVED) {
    assert.equal(typeof own[name], "function", `wasm backend lacks ${name}`);
    assert.notEqual(own[name], referenceKernels[name], `wasm backend's ${name} is the reference kernel`);
  }
});
