// The Optimizer's contract beyond the PyTorch values: exact resume through stateDict (with schedulers),
// state dicts as plain data, skipping parameters without gradients, zeroGrad, mutable lr, kernels
// going through the backend table, and the errors.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as wnn from "../../src/index.js";
import { ArgumentError, DTypeError, ShapeError, Tensor } from "../../src/index.js";
import { referenceKernels } from "../../src/backend/reference/backend.js";
import { assertClose, assertThrowsWith } from "../harness/assert.js";
import { fromJson } from "../harness/fixtures.js";
import { fixture, makeOptimizer, TOL, type OptimizerRun } from "./fixture.js";

const { optim } = wnn;

/** The fixture run with this optimizer and label (its seeded parameters and gradients). */
function run(optimizer: string, label: string, dtype = "float32"): OptimizerRun {
  const r = fixture.optimizers.find((o) => o.optimizer === optimizer && o.label === label && o.dtype === dtype);
  assert.ok(r, `fixture run ${optimizer} ${label}`);
  return r;
}

type Sched = (opt: wnn.optim.Optimizer<any>) => wnn.optim.LRScheduler;

/**
 * Steps [from, to) of a fixture run: gradients from the fixture, one scheduler step after each
 * optimizer step when there is a scheduler.
 */
function steps(
  r: OptimizerRun,
  params: Tensor[],
  opt: wnn.optim.Optimizer<any>,
  sched: wnn.optim.LRScheduler | null,
  from: number,
  to: number,
): void {
  for (let s = from; s < to; s++) {
    params.forEach((p, i) => (p.grad = r.grads[s]![i] ? fromJson(r.grads[s]![i]!) : null));
    opt.step();
    sched?.step();
  }
}

const RESUME: [string, string, Sched | null][] = [
  ["SGD", "nesterov, weight decay", (o) => new optim.StepLR(o, { stepSize: 3, gamma: 0.5 })],
  ["Adam", "amsgrad", (o) => new optim.OneCycleLR(o, { maxLr: 0.05, totalSteps: 12 })],
  [
    "AdamW",
    "weight decay 0.1, amsgrad",
    (o) => new optim.CosineWithWarmupLR(o, { warmupIters: 3, lrDecayIters: 8, maxLr: 0.02, minLr: 0.002 }),
  ],
  ["RMSprop", "centered, momentum, weight decay", (o) => new optim.CosineAnnealingLR(o, { tMax: 6, etaMin: 1e-4 })],
  ["SGD", "two groups", (o) => new optim.LinearLR(o, { startFactor: 0.5, totalIters: 4 })],
  ["RMSprop", "lr 0.01", null],
];

for (const [name, label, makeSched] of RESUME) {
  test(`stateDict round trip mid-run is bit-identical: ${name} (${label})${makeSched ? " with a scheduler" : ""}`, () => {
    const r = run(name, label);
    const n = r.grads.length; // 11 steps: save after 5, resume for the rest
    // uninterrupted
    const pa = r.params.map((p) => fromJson(p, true));
    const oa = makeOptimizer(r, pa);
    const sa = makeSched?.(oa) ?? null;
    steps(r, pa, oa, sa, 0, n);

    // interrupted after 5 steps; the state goes through JSON (typed arrays written as number lists)
    const pb = r.params.map((p) => fromJson(p, true));
    const ob = makeOptimizer(r, pb);
    const sb = makeSched?.(ob) ?? null;
    steps(r, pb, ob, sb, 0, 5);
    const saved = JSON.parse(
      JSON.stringify({ opt: ob.stateDict(), sched: sb?.stateDict(), params: pb.map((p) => [...p.storage]) }, (_k, v) =>
        ArrayBuffer.isView(v) ? [...(v as Float32Array)] : v,
      ),
    );

    // a fresh optimizer (and scheduler) over fresh parameters holding the saved values
    const pc = r.params.map((p, i) => {
      const t = fromJson(p, true);
      t.storage.set(saved.params[i]);
      return t;
    });
    const oc = makeOptimizer(r, pc);
    const sc = makeSched?.(oc) ?? null;
    oc.loadStateDict(saved.opt);
    sc?.loadStateDict(saved.sched);
    steps(r, pc, oc, sc, 5, n);

    pa.forEach((p, i) => assert.deepEqual(pc[i]!.storage, p.storage, `parameter ${i}`));
    assert.deepEqual(oc.stateDict(), oa.stateDict());
    if (sa) assert.deepEqual(sc!.getLastLr(), sa.getLastLr());
    // without a scheduler, the trajectory is PyTorch's
    if (!makeSched)
      pa.forEach((p, i) => assertClose(p, fromJson(r.expected[n - 1]![i]!), TOL.float32, `parameter ${i}`));
  });
}

test("stateDict: plain data, copied both ways, with step counts per parameter index", () => {
  const r = run("Adam", "amsgrad");
  const params = r.params.map((p) => fromJson(p, true));
  const opt = makeOptimizer(r, params);
  steps(r, params, opt, null, 0, 4); // parameter 2 has no gradient at step 3 (index 3): 3 updates
  const sd = opt.stateDict();
  assert.deepEqual(Object.keys(sd.state), ["0", "1", "2"]);
  assert.deepEqual(sd.state[0]!.step, 4);
  assert.deepEqual(sd.state[2]!.step, 3);
  assert.deepEqual(Object.keys(sd.state[0]!.buffers).sort(), ["expAvg", "expAvgSq", "maxExpAvgSq"]);
  assert.ok(sd.state[0]!.buffers.expAvg instanceof Float32Array);
  assert.deepEqual(sd.paramGroups, [
    { lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: true, maximize: false, params: [0, 1, 2] },
  ]);
  // the dict does not alias the optimizer
  const before = sd.state[0]!.buffers.expAvg!.slice();
  steps(r, params, opt, null, 4, 5);
  assert.deepEqual(sd.state[0]!.buffers.expAvg, before);
  sd.paramGroups[0]!.betas = [0.5, 0.5];
  assert.deepEqual(opt.paramGroups[0]!.betas, [0.9, 0.999]);
  // loading restores hyper-parameters, and copies the buffers
  const other = new optim.Adam(params, { lr: 0.5 });
  other.loadStateDict(sd);
  assert.equal(other.paramGroups[0]!.lr, 0.01);
  assert.deepEqual(other.paramGroups[0]!.betas, [0.5, 0.5]);
  assert.equal(other.paramGroups[0]!.amsgrad, true);
  sd.state[0]!.buffers.expAvg![0] = 99;
  assert.notEqual(other.getState(params[0]!)!.buffers.expAvg![0], 99);
});

test("a float64 optimizer keeps float64 state; loading converts buffers to the parameter's dtype", () => {
  const p = wnn.tensor([1, 2, 3], { dtype: "float64" });
  const opt = new optim.AdamW([p], { lr: 0.1 });
  p.grad = wnn.tensor([0.5, -0.5, 1], { dtype: "float64" });
  opt.step();
  assert.ok(opt.getState(p)!.buffers.expAvg instanceof Float64Array);
  const sd = opt.stateDict();
  const q = wnn.tensor([1, 2, 3]);
  const opt32 = new optim.AdamW([q]);
  opt32.loadStateDict(sd);
  assert.ok(opt32.getState(q)!.buffers.expAvg instanceof Float32Array);
  assert.equal(opt32.getState(q)!.step, 1);
});

test("parameters without a gradient are skipped: unchanged, and their state does not advance", () => {
  const a = wnn.tensor([1, 2]),
    b = wnn.tensor([3, 4]);
  const opt = new optim.SGD([a, b], { lr: 0.1, momentum: 0.9 });
  a.grad = wnn.tensor([1, 1]);
  opt.step();
  assert.deepEqual([...b.storage], [3, 4]);
  assert.equal(opt.getState(b), undefined);
  assert.equal(opt.getState(a)!.step, 1);
  assert.deepEqual(Object.keys(opt.stateDict().state), ["0"]);
});

test("zeroGrad sets gradients to null (or fills them with zeros); lr is mutable between steps", () => {
  const a = wnn.tensor([1, 2]);
  const opt = new optim.SGD([a], { lr: 0.5 });
  a.grad = wnn.tensor([1, -1]);
  opt.zeroGrad({ setToNone: false });
  assert.deepEqual([...a.grad!.storage], [0, 0]);
  a.grad = wnn.tensor([1, -1]);
  opt.paramGroups[0]!.lr = 0.25;
  opt.step();
  assert.deepEqual([...a.storage], [0.75, 2.25]);
  opt.zeroGrad();
  assert.equal(a.grad, null);
});

test("the update runs through the active backend's kernel table", () => {
  const calls = { adam: 0, adamMulti: 0 };
  wnn.registerBackend({
    name: "counting-optim",
    kernels: {
      adam: (...args) => {
        calls.adam++;
        referenceKernels.adam(...args);
      },
      adamMulti: (...args) => {
        calls.adamMulti++;
        referenceKernels.adamMulti(...args);
      },
    },
  });
  const before = wnn.getBackend();
  try {
    wnn.setBackend("counting-optim");
    const p = wnn.tensor([1, 2, 3]),
      q = wnn.tensor([4, 5]);
    // without AMSGrad, one adamMulti call per group; with it, one adam call per parameter
    const opt = new optim.Adam([p, q], { lr: 0.1 });
    p.grad = wnn.tensor([1, 1, 1]);
    q.grad = wnn.tensor([1, 1]);
    opt.step();
    assert.deepEqual(calls, { adam: 0, adamMulti: 1 });
    assert.ok(p.storage[0]! < 1 && q.storage[0]! < 4);
    const ams = new optim.Adam([p, q], { lr: 0.1, amsgrad: true });
    ams.step();
    assert.deepEqual(calls, { adam: 2, adamMulti: 1 });
  } finally {
    wnn.setBackend(before);
  }
});

test("constructor errors name the optimizer, the group and what was expected", () => {
  const p = wnn.tensor([1, 2]);
  assertThrowsWith(() => new optim.SGD([], { lr: 0.1 }), ArgumentError, /SGD: got an empty parameter list/);
  assertThrowsWith(() => new optim.SGD([p]), ArgumentError, /SGD needs a learning rate/);
  assertThrowsWith(() => new optim.SGD([p], { lr: -1 }), ArgumentError, /invalid learning rate lr -1/);
  assertThrowsWith(
    () => new optim.SGD([p], { lr: 0.1, nesterov: true }),
    ArgumentError,
    /Nesterov momentum needs a momentum > 0 and zero dampening/,
  );
  assertThrowsWith(
    () => new optim.Adam([p], { betas: [1, 0.999] }),
    ArgumentError,
    /Adam: parameter group 0: invalid betas\[0\] 1/,
  );
  assertThrowsWith(
    () => new optim.AdamW([{ params: [p] }, { params: [p] }]),
    ArgumentError,
    /parameter group 1: some parameters appear more than once/,
  );
  assertThrowsWith(
    () => new optim.AdamW([{ params: [p], momentum: 0.9 } as never]),
    ArgumentError,
    /unknown hyper-parameter "momentum"/,
  );
  assertThrowsWith(
    () => new optim.Adam([wnn.tensor([1, 2], { dtype: "int32" })]),
    DTypeError,
    /params\[0\] is int32 of shape \(2\)/,
  );
  const leaf = wnn.tensor([1, 2]).requiresGrad_();
  assertThrowsWith(() => new optim.Adam([leaf.mul(2)]), ArgumentError, /not a leaf \(it was computed by mul\)/);
  assertThrowsWith(() => new optim.RMSprop([p, { params: [p] }] as never), ArgumentError, /not a mix/);
  // a group's own lr is used, and SGD needs no default lr when every group has one
  const opt = new optim.SGD([{ params: [p], lr: 0.3 }]);
  assert.equal(opt.paramGroups[0]!.lr, 0.3);
});

test("step: a gradient that does not fit its parameter is a ShapeError", () => {
  const p = wnn.tensor([[1, 2, 3]]);
  const opt = new optim.Adam([p]);
  p.grad = wnn.tensor([1, 2]);
  assertThrowsWith(
    () => opt.step(),
    ShapeError,
    /Adam.step: parameter 0 is \(1,3\) float32 but its gradient is \(2\) float32/,
  );
});

test("loadStateDict errors are clear and leave the optimizer unchanged", () => {
  const a = wnn.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]),
    b = wnn.tensor([1, 2]);
  const opt = new optim.AdamW([a, b], { lr: 0.01 });
  a.grad = wnn.onesLike(a);
  b.grad = wnn.onesLike(b);
  opt.step();
  const good = opt.stateDict();
  const snapshot = opt.stateDict();

  const twoGroups = new optim.AdamW([{ params: [a] }, { params: [b] }]);
  assertThrowsWith(
    () => twoGroups.loadStateDict(good),
    ArgumentError,
    /the state dict has 1 parameter groups, this optimizer has 2/,
  );
  const fewer = new optim.AdamW([a]);
  assertThrowsWith(
    () => fewer.loadStateDict(good),
    ArgumentError,
    /group 0 of the state dict has 2 parameters, this optimizer's group 0 has 1/,
  );

  const badShape = opt.stateDict();
  badShape.state[1]!.buffers.expAvg = new Float32Array(5);
  badShape.paramGroups[0]!.lr = 123; // must not be applied when the load fails
  assertThrowsWith(
    () => opt.loadStateDict(badShape),
    ShapeError,
    /buffer expAvg of parameter 1 has 5 elements, but the parameter has shape \(2\) \(2 elements\)/,
  );
  assert.deepEqual(opt.stateDict(), snapshot);

  const sgd = new optim.SGD([a, b], { lr: 0.1, momentum: 0.9 });
  sgd.step();
  assertThrowsWith(
    () => opt.loadStateDict(sgd.stateDict() as never),
    ArgumentError,
    /hyper-parameter "momentum", which AdamW does not have/,
  );
  const foreign = opt.stateDict();
  (foreign.state[0]!.buffers as Record<string, Float32Array>).momentumBuffer = new Float32Array(6);
  assertThrowsWith(
    () => opt.loadStateDict(foreign),
    ArgumentError,
    /buffer "momentumBuffer"; AdamW keeps expAvg, expAvgSq, maxExpAvgSq/,
  );
  const badStep = opt.stateDict();
  badStep.state[0]!.step = -1;
  assertThrowsWith(() => opt.loadStateDict(badStep), ArgumentError, /needs a step count/);
  const badBetas = opt.stateDict();
  badBetas.paramGroups[0]!.betas = [0.9];
  assertThrowsWith(
    () => opt.loadStateDict(badBetas),
    ArgumentError,
    /hyper-parameter betas of parameter group 0 is \[0.9\]/,
  );
  assertThrowsWith(() => opt.loadStateDict({} as never), ArgumentError, /expected \{ state, paramGroups \}/);
  assert.deepEqual(opt.stateDict(), snapshot);
});

test("schedulers: errors, state dict kind checks, and lr restored on load", () => {
  const p = wnn.tensor([1]);
  const opt = new optim.SGD([p], { lr: 0.1 });
  assertThrowsWith(
    () => new optim.StepLR(opt, { stepSize: 0 }),
    ArgumentError,
    /StepLR: stepSize must be an integer ≥ 1, got 0/,
  );
  assertThrowsWith(() => new optim.LinearLR(opt, { startFactor: 2 }), ArgumentError, /startFactor must be in \[0, 1\]/);
  assertThrowsWith(() => new optim.CosineAnnealingLR(opt, { tMax: 0 }), ArgumentError, /tMax must be > 0/);
  assertThrowsWith(
    () => new optim.OneCycleLR(opt, { maxLr: [0.1, 0.2], totalSteps: 10 }),
    ArgumentError,
    /expected 1 values for maxLr/,
  );
  assertThrowsWith(
    () => optim.cosineWithWarmup({ warmupIters: 10, lrDecayIters: 5, maxLr: 1, minLr: 0 }),
    ArgumentError,
    /lrDecayIters must be an integer ≥ warmupIters \(10\), got 5/,
  );
  const one = new optim.OneCycleLR(new optim.SGD([p], { lr: 0.1, momentum: 0.9 }), { maxLr: 0.1, totalSteps: 3 });
  one.step();
  one.step();
  one.step();
  assertThrowsWith(() => one.step(), ArgumentError, /OneCycleLR: tried to step 5 times; the schedule has totalSteps 3/);

  const cos = new optim.CosineAnnealingLR(opt, { tMax: 10 });
  for (let i = 0; i < 4; i++) cos.step();
  const sd = cos.stateDict();
  assert.deepEqual(JSON.parse(JSON.stringify(sd)), sd, "a scheduler's state dict is JSON");
  assertThrowsWith(
    () => new optim.StepLR(opt, { stepSize: 2 }).loadStateDict(sd),
    ArgumentError,
    /state dict is of a "CosineAnnealingLR" scheduler, not StepLR/,
  );
  const opt2 = new optim.SGD([p], { lr: 0.1 });
  const cos2 = new optim.CosineAnnealingLR(opt2, { tMax: 3 });
  cos2.loadStateDict(sd);
  assert.equal(opt2.paramGroups[0]!.lr, sd.lastLr[0]);
  cos.step();
  cos2.step();
  assert.deepEqual(cos2.getLastLr(), cos.getLastLr(), "settings (tMax) restored too");
  const last = cos.getLastLr();
  last[0] = 5;
  assert.notEqual(cos.getLastLr()[0], 5);
});

test("clipGradNorm: no gradients gives 0; a non-finite norm throws only when asked", () => {
  assert.equal(optim.clipGradNorm([wnn.tensor([1, 2])], 1), 0);
  const p = wnn.tensor([1, 2]);
  p.grad = wnn.tensor([Infinity, 1]);
  assertThrowsWith(
    () => optim.clipGradNorm([p], 1, 2, { errorIfNonfinite: true }),
    ArgumentError,
    /total norm of order 2 of the gradients is Infinity/,
  );
  assert.deepEqual([...p.grad.storage], [Infinity, 1]);
  assert.equal(optim.clipGradNorm(p, 1), Infinity);
  assert.ok(Number.isNaN(p.grad.storage[0]!), "∞ scaled by maxNorm/∞ = 0 gives NaN, as in PyTorch");
  assert.equal(p.grad.storage[1], 0);
});
