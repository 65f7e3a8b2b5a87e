// Convolution over a batch taken in chunks of samples (src/ops/conv.ts holds at most COLS_MAX floats of
// columns: here 3 samples of a (4, 64, 64) input with a 3×3 kernel, so a batch of 5 runs as chunks of 3
// and 2): the output and every gradient must equal those of the samples convolved one at a time
// (a batch of 1 is always one chunk), with one group (the batched product) and with two.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as wnn from "../../src/index.js";

const F = wnn.nn.functional;

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

for (const dtype of ["float64", "float32"] as const) {
  for (const groups of [1, 2]) {
    test(`conv2d over chunks of samples = one sample at a time (${dtype}, groups ${groups})`, () => {
      wnn.manualSeed(3);
      const x = wnn.randn([5, 4, 64, 64], { dtype, requiresGrad: true });
      const w = wnn.randn([6, 4 / groups, 3, 3], { dtype, requiresGrad: true }),
        b = wnn.randn([6], { dtype, requiresGrad: true });
      const dy = wnn.randn([5, 6, 64, 64], { dtype });
      const y = F.conv2d(x, w, b, { padding: 1, groups });
      y.backward(dy);
      const ys: wnn.Tensor[] = [],
        dxs: wnn.Tensor[] = [];
      const dw = new Float64Array(w.numel()),
        db = new Float64Array(6);
      for (let n = 0; n < 5; n++) {
        const xn = x.detach().narrow(0, n, 1).clone().requiresGrad_();
        const wn = w.detach().clone().requiresGrad_(),
          bn = b.detach().clone().requiresGrad_();
        const yn = F.conv2d(xn, wn, bn, { padding: 1, groups });
        yn.backward(dy.narrow(0, n, 1).clone());
        ys.push(yn);
        dxs.push(xn.grad!);
        wn.grad!.dataSync().forEach((v, i) => (dw[i]! += v));
        bn.grad!.dataSync().forEach((v, i) => (db[i]! += v));
      }
      const tol = dtype === "float64" ? 1e-9 : 2e-3;
      assert.ok(maxDiff(y.dataSync(), wnn.cat(ys, 0).dataSync()) <= tol, "y");
      assert.ok(maxDiff(x.grad!.dataSync(), wnn.cat(dxs, 0).dataSync()) <= tol, "dx");
      assert.ok(maxDiff(w.grad!.dataSync(), dw) <= tol * 100, "dW");
      assert.ok(maxDiff(b.grad!.dataSync(), db) <= tol * 100, "db");
    });
  }
}
