// PyTorch parity of scaledDotProductAttention: test/fixtures/ops/attention.json, written by
// tools/fixtures/ops_attention.py (PyTorch 2.x's definition composed in torch 1.13). The mask, if any, is input 3.
import * as wnn from "../../src/index.js";
import { replayFixtures, type FixtureCall } from "../harness/fixtures.js";
import { FUSED_TOL } from "../harness/optable.js";

const calls: Record<string, FixtureCall> = {
  scaledDotProductAttention: ([q, k, v, mask], a) =>
    wnn.nn.functional.scaledDotProductAttention(q!, k!, v!, {
      attnMask: mask ?? null,
      isCausal: a.isCausal,
      scale: a.scale,
    }),
};

replayFixtures("ops/attention.json", calls, () => FUSED_TOL);
