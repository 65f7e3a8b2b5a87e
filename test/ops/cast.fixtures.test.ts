// PyTorch parity of dtype conversion: test/fixtures/ops/cast.json, written by tools/fixtures/ops_cast.py.
import assert from "node:assert/strict";
import * as wnn from "../../src/index.js";
import { replayFixtures } from "../harness/fixtures.js";

replayFixtures(
  "ops/cast.json",
  {
    to: ([x], args) => {
      const y = wnn.to(x!, args.dtype as wnn.DType);
      assert.equal(y.dtype, args.dtype);
      return y;
    },
  },
  () => ({ rtol: 0, atol: 0 }), // conversion is exact: the same rounding as PyTorch, bit for bit
);
