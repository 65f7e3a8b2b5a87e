// The matmul family's op table and PyTorch fixtures, re-run with the wasm backend active and every
// float32 product dispatched to the 2-thread pool (threshold 0). float64 (gradient checks) still runs
// the reference kernel, by design; the float32 samples and fixtures (forward and gradients) run wasm.

import { after, before } from "node:test";
import * as wnn from "../../src/index-node.js";
import { setParallelThreshold } from "../../src/backend/wasm/matmul.js";
import { replayFixtures, type FixtureCall } from "../harness/fixtures.js";
import { runOpTable } from "../harness/optable.js";
import { cases } from "../ops/cases/matmul.js";

before(() => {
  wnn.setBackend("wasm");
  wnn.setNumThreads(2);
  setParallelThreshold(0);
});

runOpTable(cases);

const calls: Record<string, FixtureCall> = {
  matmul: ([a, b]) => wnn.matmul(a!, b!),
  mm: ([a, b]) => wnn.mm(a!, b!),
  bmm: ([a, b]) => wnn.bmm(a!, b!),
};
replayFixtures("ops/matmul.json", calls, () => ({ rtol: 1e-4, atol: 1e-4 }));

after(() => {
  setParallelThreshold(undefined);
  wnn.setNumThreads(1);
  wnn.setBackend("reference");
});
