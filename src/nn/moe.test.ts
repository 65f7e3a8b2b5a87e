// Mixture of experts: parity with the PyTorch reference (tools/fixtures/moe.py: both routings, forward,
// auxiliary losses, every gradient), finite differences in float64 through the routing, and the routing
// invariants (one expert = a plain MLP, Mixtral's gates sum to one, no drops without a capacity, the
// dropped choices are those past capacity in token order); W workers routing with synchronized routing keep the
// choices one process keeps, and their losses and gradients average to its.

import { readFileSync } from "../../test/harness/files.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError, Generator, noGrad, randn, ShapeError, Tensor } from "../index.js";
import { assertClose, assertThrowsWith } from "../../test/harness/assert.js";
import { fromJson, type TensorJson } from "../../test/harness/fixtures.js";
import {
  expertCapacity,
  GeluExpert,
  MIXTRAL,
  MoE,
  moeOptions,
  SWITCH,
  SwiGLUExpert,
  withSyncRouting,
  type MoEOptions,
  type MoEOutput,
} from "./moe.js";

interface MoECase {
  label: string;
  options: MoEOptions & { expert: "gelu" | "swiglu" };
  C: number;
  I: number;
  state: Record<string, TensorJson>;
  x: TensorJson;
  y: TensorJson;
  lb: number;
  z: number;
  expert_of: TensorJson;
  kept: TensorJson;
  gy: TensorJson;
  lb_coef: number;
  z_coef: number;
  grads: Record<string, TensorJson>;
  dx: TensorJson;
}

const cases = (
  JSON.parse(readFileSync(new URL("../../../test/fixtures/nn/moe.json", import.meta.url), "utf8")) as {
    cases: MoECase[];
  }
).cases;

function build(C: number, I: number, o: MoEOptions, kind: "gelu" | "swiglu", seed = 0): MoE {
  const generator = new Generator(seed);
  const make = () => (kind === "gelu" ? new GeluExpert(C, I, { generator }) : new SwiGLUExpert(C, I, { generator }));
  return new MoE(C, o, make, { generator });
}

// -----------------------------------------------------------------------------------------------------
// Parity with PyTorch

for (const fx of cases) {
  test(`MoE matches the PyTorch reference: ${fx.label}`, () => {
    const { expert, ...o } = fx.options;
    const moe = build(fx.C, fx.I, moeOptions(SWITCH, o), expert);
    moe.loadStateDict(Object.fromEntries(Object.entries(fx.state).map(([k, v]) => [k, fromJson(v)])));
    const x = fromJson(fx.x, true);
    const out = moe.forward(x);
    assert.deepEqual([...out.routing.expertOf], fx.expert_of.data, "the experts chosen");
    assert.deepEqual([...out.routing.kept], fx.kept.data, "the choices kept under capacity");
    assertClose(out.y, fromJson(fx.y), { atol: 1e-5, rtol: 1e-4 }, "y");
    assertClose(
      [out.loadBalancingLoss.item(), out.zLoss.item()],
      [fx.lb, fx.z],
      { atol: 1e-5, rtol: 1e-5 },
      "load-balancing loss, z-loss",
    );
    const loss = out.y
      .mul(fromJson(fx.gy))
      .sum()
      .add(out.loadBalancingLoss.mul(fx.lb_coef))
      .add(out.zLoss.mul(fx.z_coef));
    loss.backward();
    assertClose(x.grad!, fromJson(fx.dx), { atol: 1e-5, rtol: 1e-3 }, "dL/dx");
    const params = moe.namedParameters();
    assert.deepEqual(params.map(([n]) => n).sort(), Object.keys(fx.grads).sort());
    for (const [name, p] of params)
      assertClose(p.grad!, fromJson(fx.grads[name]!), { atol: 1e-5, rtol: 1e-3 }, `dL/d ${name}`);
    assert.ok(moe.router.weight.grad!.abs().sum().item() > 0, "the router's weight gets a gradient");
  });
}

// -----------------------------------------------------------------------------------------------------
// Finite differences in float64 (the op table's gradient check, applied to the whole layer)

/** Central differences of L = Σ w⊙y + lb + z against backward, for x and every parameter, in float64. */
function gradcheckLayer(moe: MoE, x: Tensor): void {
  moe.double();
  const w = randn(x.shape, { generator: new Generator(9), dtype: "float64" });
  const lossOf = (inp: Tensor): { L: number; choice: string } =>
    noGrad(() => {
      const o = moe.forward(inp);
      return {
        L: o.y.mul(w).sum().add(o.loadBalancingLoss).add(o.zLoss).item(),
        choice: [...o.routing.expertOf, ...o.routing.kept].join(),
      };
    });
  const xl = new Tensor(x.storage.slice(), x.shape).requiresGrad_();
  const out = moe.forward(xl);
  out.y.mul(w).sum().add(out.loadBalancingLoss).add(out.zLoss).backward();
  const base = lossOf(x).choice;
  const eps = 1e-6;
  const check = (t: Tensor, grad: Tensor, name: string, recompute: () => { L: number; choice: string }): void => {
    const s = t.storage as Float64Array;
    for (let i = 0; i < s.length; i++) {
      const v = s[i]!;
      s[i] = v + eps;
      const plus = recompute();
      s[i] = v - eps;
      const minus = recompute();
      s[i] = v;
      assert.equal(plus.choice, base, `${name}[${i}]: the routing must not change under the perturbation`);
      assert.equal(minus.choice, base);
      const fd = (plus.L - minus.L) / (2 * eps);
      const an = grad.storage[i]!;
      assert.ok(
        Math.abs(fd - an) <= 1e-6 + 1e-4 * Math.abs(fd),
        `${name}[${i}]: backward ${an} vs finite difference ${fd}`,
      );
    }
  };
  const xp = new Tensor(x.storage.slice(), x.shape);
  check(xp, xl.grad!, "x", () => lossOf(xp));
  for (const [name, p] of moe.namedParameters()) check(p, p.grad!, name, () => lossOf(x));
}

test("MoE backward equals finite differences in float64: Switch top-1 with drops, Mixtral top-2, shared expert", () => {
  const C = 4,
    I = 5;
  const x = randn([1, 6, C], { generator: new Generator(31), dtype: "float64" });
  gradcheckLayer(build(C, I, moeOptions(SWITCH, { nExperts: 3, capacityFactor: 1.0 }), "gelu", 1), x);
  gradcheckLayer(build(C, I, moeOptions(MIXTRAL, { nExperts: 3 }), "swiglu", 2), x);
  gradcheckLayer(
    build(C, I, moeOptions(SWITCH, { nExperts: 3, topK: 2, capacityFactor: 0.75, nShared: 1 }), "swiglu", 3),
    x,
  );
});

// -----------------------------------------------------------------------------------------------------
// Routing invariants

test("with one expert the layer is that expert: a plain MLP (both routings)", () => {
  const x = randn([2, 5, 8], { generator: new Generator(40) });
  for (const base of [SWITCH, MIXTRAL]) {
    const moe = build(8, 12, moeOptions(base, { nExperts: 1, topK: 1, capacityFactor: null }), "swiglu", 41);
    const { y, droppedFraction, loadBalancingLoss } = noGrad(() => moe.forward(x));
    assertClose(
      y,
      noGrad(() => moe.experts.at(0).forward(x)),
      { atol: 1e-6, rtol: 1e-6 },
      "y = expert(x)",
    );
    assert.equal(droppedFraction, 0);
    assertClose([loadBalancingLoss.item()], [1], { atol: 1e-6, rtol: 0 }, "one expert: f = P = 1");
  }
});

test("Mixtral's gates are a softmax over the two chosen experts: they sum to one for every token", () => {
  const moe = build(8, 12, MIXTRAL, "swiglu", 50);
  const { routing } = noGrad(() => moe.forward(randn([3, 7, 8], { generator: new Generator(51) })));
  const sums = routing.gates.sum(-1); // (N)
  assertClose(
    sums,
    Array.from({ length: 21 }, () => 1),
    { atol: 1e-6, rtol: 0 },
    "Σ_k gates",
  );
  // and they are the selected probabilities renormalised: p_i / (p_a + p_b)
  const p = routing.probs.storage,
    g = routing.gates.storage,
    E = 8;
  for (let t = 0; t < 21; t++) {
    const a = routing.expertOf[2 * t]!,
      b = routing.expertOf[2 * t + 1]!;
    assert.notEqual(a, b);
    assertClose(
      [g[2 * t]!],
      [p[t * E + a]! / (p[t * E + a]! + p[t * E + b]!)],
      { atol: 1e-6, rtol: 1e-5 },
      "renormalised",
    );
  }
});

test("without a capacity limit (null or ∞) nothing is dropped, however unbalanced the routing", () => {
  const moe = build(8, 12, moeOptions(SWITCH, { capacityFactor: null }), "gelu", 60);
  // push every token to expert 3: a large router row
  noGrad(() => {
    (moe.router.weight.storage as Float32Array).fill(0);
    for (let c = 0; c < 8; c++) moe.router.weight.storage[3 * 8 + c] = 5;
  });
  const x = randn([4, 8, 8], { generator: new Generator(61) }).abs();
  for (const cf of [null, Infinity]) {
    const m = build(8, 12, moeOptions(SWITCH, { capacityFactor: cf }), "gelu", 60);
    m.loadStateDict(moe.stateDict());
    const out = noGrad(() => m.forward(x));
    assert.equal(out.droppedFraction, 0, `capacity factor ${cf}`);
    assert.deepEqual(out.tokensPerExpert, [0, 0, 0, 32, 0, 0, 0, 0]);
    assertClose(
      [out.loadBalancingLoss.item()],
      [8 * out.routing.probs.mean(0).storage[3]!],
      { atol: 1e-5, rtol: 1e-5 },
      "f = one-hot of expert 3",
    );
  }
});

test("the dropped choices are exactly those past capacity in token order (first choices before second); dropped tokens output 0", () => {
  for (const [k, cf] of [
    [1, 1.0],
    [1, 0.5],
    [2, 1.25],
    [2, 0.5],
  ] as const) {
    const o = moeOptions(SWITCH, { topK: k, capacityFactor: cf });
    const moe = build(8, 12, o, "gelu", 70 + k);
    const x = randn([2, 16, 8], { generator: new Generator(71) });
    const out = noGrad(() => moe.forward(x));
    const N = 32,
      cap = expertCapacity(o, N);
    assert.equal(cap, Math.ceil((cf * N * k) / 8));
    // the independent account: walk (s, t) in priority order and count per expert
    const count = new Array<number>(8).fill(0);
    const expected = new Array<number>(N * k).fill(0);
    for (let s = 0; s < k; s++)
      for (let t = 0; t < N; t++) {
        const e = out.routing.expertOf[t * k + s]!;
        if (count[e]! < cap) expected[t * k + s] = 1;
        count[e]!++;
      }
    assert.deepEqual([...out.routing.kept], expected, `k ${k}, capacity factor ${cf}`);
    assert.ok(out.tokensPerExpert.every((n) => n <= cap));
    assert.equal(out.droppedFraction, 1 - expected.reduce((a, b) => a + b, 0) / (N * k));
    if (k === 1) {
      assert.ok(out.droppedFraction > 0, "this routing overflows some expert");
      for (let t = 0; t < N; t++) {
        const row = [...out.y.storage.subarray(t * 8, t * 8 + 8)];
        if (!expected[t]) assert.deepEqual(row, new Array(8).fill(0), `dropped token ${t} outputs 0`);
        else assert.ok(row.some((v) => v !== 0));
      }
    }
  }
});

test("balanced routing gives a load-balancing loss near its minimum 1; the z-loss is the mean squared logsumexp", () => {
  const moe = build(8, 12, SWITCH, "gelu", 80);
  noGrad(() => (moe.router.weight.storage as Float32Array).fill(0)); // p uniform; ties → expert 0 for all
  const out = noGrad(() => moe.forward(randn([1, 16, 8], { generator: new Generator(81) })));
  // all tokens on expert 0 (f = e_0) and P uniform: E·(1·1/E) = 1; z = (log 8)²
  assertClose(
    [out.loadBalancingLoss.item(), out.zLoss.item()],
    [1, Math.log(8) ** 2],
    { atol: 1e-6, rtol: 1e-6 },
    "lb, z",
  );
});

test("MoE refuses bad options and inputs with typed errors naming them", () => {
  assertThrowsWith(() => moeOptions(SWITCH, { topK: 9 }), ArgumentError, /topK/, /nExperts = 8/);
  assertThrowsWith(() => moeOptions(SWITCH, { nExperts: 0 }), ArgumentError, /nExperts/);
  assertThrowsWith(() => moeOptions(SWITCH, { capacityFactor: 0 }), ArgumentError, /capacityFactor/);
  assertThrowsWith(() => moeOptions(SWITCH, { nShared: -1 }), ArgumentError, /nShared/);
  const moe = build(8, 12, SWITCH, "gelu");
  assertThrowsWith(() => moe.forward(randn([2, 3, 7])), ShapeError, /MoE/, /\(2,3,7\)/, /8/);
});

test("active parameters: the router, k experts and the shared ones", () => {
  const moe = build(8, 12, moeOptions(MIXTRAL, { nShared: 1 }), "swiglu");
  const expert = 3 * 8 * 12;
  assert.equal(moe.numParameters(), 8 * 8 + 9 * expert);
  assert.equal(moe.activeParameters(), 8 * 8 + 3 * expert);
});

// -----------------------------------------------------------------------------------------------------
// Synchronized routing: W workers, each routing its block of the tokens, act as one process

/**
 * The layer run as W workers on consecutive blocks of x's rows (B, T, C), each inside withSyncRouting; the
 * collective is played in one thread: a first pass records what each worker contributes (its own slot), the
 * second adds the others' records. → each worker's output.
 */
function asWorkers(moe: MoE, x: Tensor, W: number): MoEOutput[] {
  const rows = x.shape[0]! / W;
  const part = (r: number) => x.narrow(0, r * rows, rows);
  const sent: Float32Array[] = [];
  for (let r = 0; r < W; r++)
    withSyncRouting({ rank: r, worldSize: W, sum: (buf) => void (sent[r] = buf.slice()) }, () =>
      noGrad(() => moe.forward(part(r))),
    );
  return Array.from({ length: W }, (_, r) =>
    withSyncRouting(
      {
        rank: r,
        worldSize: W,
        sum: (buf) => sent.forEach((s, q) => q !== r && s.forEach((v, i) => (buf[i]! += v))),
      },
      () => moe.forward(part(r)),
    ),
  );
}

test("synchronized routing: W workers keep the choices one process keeps, and their load-balancing losses and gradients average to its", () => {
  for (const [label, o, W] of [
    ["Switch top-1, capacity 1.0", moeOptions(SWITCH, { nExperts: 4, capacityFactor: 1.0 }), 2],
    ["Switch top-1, capacity 0.5", moeOptions(SWITCH, { nExperts: 4, capacityFactor: 0.5 }), 3],
    ["top-2, capacity 0.75", moeOptions(SWITCH, { nExperts: 4, topK: 2, capacityFactor: 0.75 }), 3],
    ["Mixtral top-2, no capacity", moeOptions(MIXTRAL, { nExperts: 4 }), 2],
  ] as const) {
    const moe = build(8, 12, o, o.normalizeGates ? "swiglu" : "gelu", 90);
    const x = randn([6, 5, 8], { generator: new Generator(91) }); // 30 tokens
    const w = randn([6, 5, 8], { generator: new Generator(92) });
    const grads = () => moe.parameters().map((p) => Float32Array.from(p.grad!.storage as Float32Array));
    // one process: L = (1/N)·Σ y·w + L_aux
    const one = moe.forward(x);
    one.y.mul(w).sum().div(30).add(one.loadBalancingLoss).backward();
    const want = grads();
    moe.zeroGrad();
    // W workers: L_r = (1/N_r)·Σ_{t∈r} y·w + L_aux,r, whose mean over the workers is L
    const outs = asWorkers(moe, x, W);
    outs.forEach((out, r) => {
      const wr = w.narrow(0, (r * 6) / W, 6 / W);
      out.y
        .mul(wr)
        .sum()
        .div(30 / W)
        .add(out.loadBalancingLoss)
        .div(W)
        .backward(); // the gradients add up over r
    });
    const kept = outs.flatMap((out) => [...out.routing.kept]);
    assert.deepEqual(kept, [...one.routing.kept], `${label}: the kept choices`);
    if (o.capacityFactor !== null) {
      assert.ok(one.droppedFraction > 0, `${label}: some choices dropped`);
      // each worker alone would keep others: its own capacity ⌈cf·N_r·k/E⌉, its places from 0
      const alone = Array.from(
        { length: W },
        (_, r) => noGrad(() => moe.forward(x.narrow(0, (r * 6) / W, 6 / W))).routing.kept,
      ).flatMap((k) => [...k]);
      assert.notDeepEqual(alone, [...one.routing.kept], `${label}: unsynchronized workers keep other choices`);
    }
    assertClose(
      outs.map((out) => out.y.dataSync()).flatMap((y) => [...y]),
      [...one.y.dataSync()],
      { atol: 1e-6, rtol: 1e-6 },
      `${label}: y`,
    );
    const mean = outs.reduce((s, out) => s + out.loadBalancingLoss.item(), 0) / W;
    assertClose([mean], [one.loadBalancingLoss.item()], { atol: 0, rtol: 1e-6 }, `${label}: L_aux`);
    grads().forEach((g, i) => assertClose([...g], [...want[i]!], { atol: 1e-6, rtol: 1e-5 }, `${label}: grad ${i}`));
  }
});
