// PyTorch parity for the reduce family: replays test/fixtures/ops/reduce.json (tools/fixtures/ops_reduce.py).
import * as wnn from "../../src/index.js";
import { replayFixtures, type FixtureCall } from "../harness/fixtures.js";

const dimOf = (a: Record<string, any>): number | number[] | undefined => a.dim ?? undefined;

/** var and std in the calling form the fixture used: PyTorch 1.13's unbiased flag, or { correction, keepdim }. */
const varLike =
  (f: typeof wnn.var): FixtureCall =>
  ([x], a) => {
    if (a.unbiased !== undefined)
      return a.dim === null ? f(x!, a.unbiased) : f(x!, a.dim, a.unbiased, a.keepdim ?? false);
    return f(x!, dimOf(a), { correction: a.correction, keepdim: a.keepdim });
  };

const calls: Record<string, FixtureCall> = {
  sum: ([x], a) => wnn.sum(x!, dimOf(a), a.keepdim),
  mean: ([x], a) => wnn.mean(x!, dimOf(a), a.keepdim),
  var: varLike(wnn.var),
  std: varLike(wnn.std),
  max: ([x], a) => (a.dim === null ? wnn.max(x!) : wnn.max(x!, a.dim, a.keepdim)),
  min: ([x], a) => (a.dim === null ? wnn.min(x!) : wnn.min(x!, a.dim, a.keepdim)),
  argmax: ([x], a) => wnn.argmax(x!, a.dim ?? undefined, a.keepdim),
  argmin: ([x], a) => wnn.argmin(x!, a.dim ?? undefined, a.keepdim),
  logsumexp: ([x], a) => wnn.logsumexp(x!, a.dim, a.keepdim),
  topk: ([x], a) => wnn.topk(x!, a.k, a.dim, { largest: a.largest }),
};

replayFixtures("ops/reduce.json", calls, () => ({ rtol: 1e-4, atol: 1e-4 }));
