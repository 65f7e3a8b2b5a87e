// PyTorch parity for the matmul family: replays test/fixtures/ops/matmul.json (tools/fixtures/ops_matmul.py).
import * as wnn from "../../src/index.js";
import { replayFixtures, type FixtureCall } from "../harness/fixtures.js";

const calls: Record<string, FixtureCall> = {
  matmul: ([a, b]) => wnn.matmul(a!, b!),
  mm: ([a, b]) => wnn.mm(a!, b!),
  bmm: ([a, b]) => wnn.bmm(a!, b!),
};

replayFixtures("ops/matmul.json", calls, () => ({ rtol: 1e-4, atol: 1e-4 }));
