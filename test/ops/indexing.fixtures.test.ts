// PyTorch parity of the indexing ops: test/fixtures/ops/indexing.json, written by tools/fixtures/ops_indexing.py.
// gather and indexSelect outputs are copies (exact); scatter-adds and the gradients that add up repeated
// indices sum in another order than PyTorch, so the family uses the elementwise tolerance.
import * as wnn from "../../src/index.js";
import { replayFixtures, type FixtureCall } from "../harness/fixtures.js";
import { ELEMENTWISE_TOL } from "../harness/optable.js";

const F = wnn.nn.functional;

const calls: Record<string, FixtureCall> = {
  gather: ([x, index], a) => x!.gather(a.dim, index!),
  scatterAdd: ([x, index, src], a) => wnn.scatterAdd(x!, a.dim, index!, src!),
  indexSelect: ([x, index], a) => x!.indexSelect(a.dim, index!),
  embedding: ([indices, weight], a) => F.embedding(indices!, weight!, { paddingIdx: a.paddingIdx }),
  oneHot: ([indices], a) => F.oneHot(indices!, a.numClasses),
};

replayFixtures("ops/indexing.json", calls, () => ELEMENTWISE_TOL);
