// PyTorch parity for src/optim, from test/fixtures/optim.json (written by tools/fixtures/optim.py):
// every parameter after every step of every optimizer run, every scheduler's learning rates (and
// cycled momentum), and gradient clipping.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as wnn from "../../src/index.js";
import { assertClose, type Tolerance } from "../harness/assert.js";
import { fromJson } from "../harness/fixtures.js";
import { fixture, makeOptimizer, TOL } from "./fixture.js";

const { optim } = wnn;

test("PyTorch fixtures: optimizer trajectories", async (t) => {
  assert.ok(fixture.optimizers.length >= 30);
  for (const run of fixture.optimizers) {
    await t.test(`${run.optimizer} ${run.dtype}: ${run.label}`, () => {
      const params = run.params.map((p) => fromJson(p, true));
      const opt = makeOptimizer(run, params);
      assert.ok(run.grads.length >= 10, "at least 10 steps");
      run.grads.forEach((grads, step) => {
        params.forEach((p, i) => (p.grad = grads[i] ? fromJson(grads[i]!) : null));
        opt.step();
        params.forEach((p, i) =>
          assertClose(p, fromJson(run.expected[step]![i]!), TOL[run.dtype], `step ${step + 1}, parameter ${i}`),
        );
      });
    });
  }
});

const SCHEDULERS: Record<string, new (opt: wnn.optim.Optimizer<any>, o: any) => wnn.optim.LRScheduler> = {
  StepLR: optim.StepLR,
  ExponentialLR: optim.ExponentialLR,
  CosineAnnealingLR: optim.CosineAnnealingLR,
  LinearLR: optim.LinearLR,
  OneCycleLR: optim.OneCycleLR,
};

// Learning rates are plain double arithmetic on both sides; only Math.cos may differ from C's cos in the last bit.
const LR_TOL: Tolerance = { rtol: 1e-14, atol: 1e-18 };

test("PyTorch fixtures: scheduler learning rates", async (t) => {
  for (const c of fixture.schedulers) {
    await t.test(`${c.scheduler}: ${c.label}`, () => {
      if (c.scheduler === "cosineWithWarmup") {
        const f = optim.cosineWithWarmup(c.options as unknown as wnn.optim.CosineWithWarmupOptions);
        assertClose(
          c.lrs.map((_, it) => f(it)),
          c.lrs.map((l) => l[0]!),
          LR_TOL,
          "cosineWithWarmup(it)",
        );
        // and as a scheduler: lastEpoch 0 after construction, one epoch per step()
        const opt = new optim.SGD([wnn.zeros([1])], { lr: 123 });
        const sched = new optim.CosineWithWarmupLR(opt, c.options as unknown as wnn.optim.CosineWithWarmupOptions);
        const seen = [sched.getLastLr()];
        for (let i = 1; i < c.lrs.length; i++) {
          sched.step();
          seen.push(sched.getLastLr());
          assert.equal(opt.paramGroups[0]!.lr, seen[i]![0]);
        }
        assertClose(seen.flat(), c.lrs.flat(), LR_TOL, "CosineWithWarmupLR");
        return;
      }
      const Opt = c.optimizer === "Adam" ? optim.Adam : optim.SGD;
      const opt: wnn.optim.Optimizer<any> = new Opt(
        c.groupLrs!.map((lr) => ({ params: [wnn.zeros([1])], lr })),
        c.optimizerOptions as never,
      );
      const sched = new SCHEDULERS[c.scheduler]!(opt, c.options);
      const momenta = () =>
        opt.paramGroups.map((g) => ("betas" in g ? (g.betas as number[])[0]! : (g.momentum as number)));
      const lrs = [sched.getLastLr()],
        moms = [momenta()];
      for (let i = 1; i < c.lrs.length; i++) {
        opt.step(); // no gradients: a no-op, in PyTorch's order
        if (i - 1 === c.poke) for (const g of opt.paramGroups) g.lr *= 0.5;
        sched.step();
        lrs.push(sched.getLastLr());
        moms.push(momenta());
        assert.deepEqual(
          opt.paramGroups.map((g) => g.lr),
          lrs[i],
          "the groups' lr is the scheduler's",
        );
      }
      assertClose(lrs.flat(), c.lrs.flat(), LR_TOL, "learning rates");
      if (c.momenta) assertClose(moms.flat(), c.momenta.flat(), LR_TOL, "momenta");
    });
  }
});

test("PyTorch fixtures: gradient clipping", async (t) => {
  for (const c of fixture.clip) {
    await t.test(`clipGrad${c.kind === "norm" ? "Norm" : "Value"} ${c.dtype}: ${c.label}`, () => {
      const params = c.grads.map((g, i) => {
        const p = wnn.zeros(g ? g.shape : [2], { dtype: c.dtype });
        p.grad = g ? fromJson(g) : null;
        void i;
        return p;
      });
      const tol = c.dtype === "float32" ? TOL.float32 : TOL.float64;
      if (c.kind === "norm") {
        const total = optim.clipGradNorm(params, c.max, c.normType === "inf" ? Infinity : c.normType);
        assertClose(
          [total],
          [c.total!],
          c.dtype === "float32" ? { rtol: 1e-6, atol: 0 } : { rtol: 1e-13, atol: 0 },
          "total norm",
        );
      } else {
        optim.clipGradValue(params, c.max);
      }
      params.forEach((p, i) => {
        const want = c.clipped[i];
        if (!want) return assert.equal(p.grad, null);
        assertClose(p.grad!, fromJson(want), tol, `clipped grad ${i}`);
      });
    });
  }
});
