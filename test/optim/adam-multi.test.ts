// Adam/AdamW over a whole parameter group in one wasm call (kernels().adamMulti, adamMultiF32 of
// src/backend/wasm/assembly/optim.ts) against the per-parameter path it replaces (kernels().adam, one
// adamF32 call per parameter): the same bits in every parameter and both moments, step after step — two
// groups (weight decay 0.1 and 0), a parameter that never gets a gradient, one that gets it only on some
// steps (so the group's step counts differ), inside `wnn.tidy` (everything resident: one call per group)
// and outside it (nothing resident: the per-parameter fallback).
//
// The per-parameter path is replayed by hand: the same gradients (copied from the optimizer's run), the
// same step counts, and the wasm backend's own `adam` kernel on copies of the parameters and moments.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import * as wnn from "../../src/index-node.js";
import { Tensor } from "../../src/index.js";
import type { AdamParams, FloatArr, KernelTable } from "../../src/backend/backend.js";
import { referenceKernels as ref } from "../../src/backend/reference/backend.js";
import { wasmBackend } from "../../src/backend/wasm/index.js";
import { residentAllocator } from "../../src/backend/wasm/heap.js";
import { wasm as wasmState, type KernelExports } from "../../src/backend/wasm/instance.js";
import { Generator } from "../../src/engine/rng.js";
import { setScopeMinElements } from "../../src/engine/scope.js";

const { optim } = wnn;
const wasm = wasmBackend.kernels as KernelTable;

/** The bits of a float32 array, so that equality means bit-identical (−0 ≠ 0, NaN payloads). */
const bits = (x: FloatArr): number[] => [...new Uint32Array(Float32Array.from(x).buffer)];

function assertSameBits(a: FloatArr, b: FloatArr, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  const ba = bits(a),
    bb = bits(b);
  const i = ba.findIndex((x, k) => x !== bb[k]);
  assert.equal(i, -1, `${what}: element ${i} is ${a[i]} here, ${b[i]} on the per-parameter path`);
}

/** Counts the calls of the wasm module's two Adam kernels while fn runs. */
function countKernelCalls(fn: () => void): { multi: number; single: number } {
  const st = wasmState() as { exports: KernelExports };
  const original = st.exports;
  const counts = { multi: 0, single: 0 };
  st.exports = {
    ...original,
    adamMultiF32: (...a: Parameters<KernelExports["adamMultiF32"]>) => {
      counts.multi++;
      original.adamMultiF32(...a);
    },
    adamF32: (...a: Parameters<KernelExports["adamF32"]>) => {
      counts.single++;
      original.adamF32(...a);
    },
  };
  try {
    fn();
  } finally {
    st.exports = original;
  }
  return counts;
}

const before = wnn.getBackend();
afterEach(() => wnn.setBackend(before));

const randn = (g: Generator, n: number): Float32Array => {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = g.normal();
  return x;
};

/** A float32 array of n elements in wasm memory (as the storage of a kept tensor is). */
function residentCopy(x: Float32Array): Float32Array {
  const r = residentAllocator.alloc("float32", x.length) as Float32Array;
  r.set(x);
  return r;
}

test("adamMulti kernel: bit-identical to one adam call per tensor, resident or not, each at its own step", () => {
  const g = new Generator(7);
  const sizes = [1, 5, 16, 33, 1000, 0, 3];
  for (const decoupled of [true, false]) {
    for (const where of ["resident", "plain", "mixed"] as const) {
      const place = (x: Float32Array, i: number): Float32Array =>
        where === "resident" || (where === "mixed" && i % 2 === 0) ? residentCopy(x) : x.slice();
      const init = sizes.map((n) => [randn(g, n), randn(g, n), new Float32Array(n).map(() => Math.abs(g.normal()))]);
      // multi: the tensors under test; single: their per-tensor twins (never resident)
      const multi = init.map((xs) => xs.map((x, k) => place(x, k)) as [Float32Array, Float32Array, Float32Array]);
      const single = init.map((xs) => xs.map((x) => x.slice()) as [Float32Array, Float32Array, Float32Array]);
      const steps = sizes.map((_, i) => 1 + 3 * i); // a different step count for every tensor
      for (let s = 0; s < 4; s++) {
        const grads = sizes.map((n, i) => {
          const d = randn(g, n);
          return where === "plain" || (where === "mixed" && i % 3 === 0) ? d : residentCopy(d);
        });
        const shared = {
          lr: 3e-3,
          beta1: 0.9,
          beta2: 0.99,
          eps: 1e-8,
          weightDecay: 0.1,
          decoupledWeightDecay: decoupled,
          maximize: false,
        };
        const at = (i: number): AdamParams => ({
          ...shared,
          biasCorrection1: 1 - 0.9 ** (steps[i]! + s),
          biasCorrection2: 1 - 0.99 ** (steps[i]! + s),
        });
        const calls = countKernelCalls(() =>
          wasm.adamMulti(
            multi.map(([p]) => p),
            grads,
            multi.map(([, m]) => m),
            multi.map(([, , v]) => v),
            {
              ...shared,
              biasCorrection1: sizes.map((_, i) => at(i).biasCorrection1),
              biasCorrection2: sizes.map((_, i) => at(i).biasCorrection2),
            },
          ),
        );
        single.forEach(([p, m, v], i) => wasm.adam(p, grads[i]!.slice(), m, v, null, at(i)));
        // resident tensors (all four of a row) go through one call; the others one call each
        const rowResident = multi.map(
          (xs, i) => sizes[i]! > 0 && [...xs, grads[i]!].every((x) => residentAllocator.owns(x)),
        );
        const nOne = rowResident.filter(Boolean).length;
        assert.equal(calls.multi, nOne > 0 ? 1 : 0, `${where}: adamMultiF32 calls`);
        assert.equal(calls.single, sizes.filter((n, i) => n > 0 && !rowResident[i]).length, `${where}: adamF32 calls`);
        if (where === "resident") assert.equal(calls.single, 0);
        if (where === "plain") assert.equal(calls.multi, 0);
        multi.forEach((xs, i) =>
          xs.forEach((x, k) =>
            assertSameBits(x, single[i]![k]!, `${where} decoupled=${decoupled} tensor ${i} ${["θ", "m", "v"][k]}`),
          ),
        );
        for (const d of grads) if (residentAllocator.owns(d)) residentAllocator.free(d);
      }
      for (const xs of multi) for (const x of xs) if (residentAllocator.owns(x)) residentAllocator.free(x);
    }
  }
});

test("adamMulti kernel: maximize and float64 take the per-tensor path, with the reference's results", () => {
  const g = new Generator(8);
  for (const [maximize, dtype] of [
    [true, "float32"],
    [false, "float64"],
  ] as const) {
    const make = (n: number): FloatArr => (dtype === "float32" ? randn(g, n) : Float64Array.from(randn(g, n)));
    const p = [make(9), make(4)],
      d = [make(9), make(4)],
      m = [make(9).map(Math.abs), make(4).map(Math.abs)],
      v = [make(9).map(Math.abs), make(4).map(Math.abs)];
    const twin = (xs: FloatArr[]): FloatArr[] => xs.map((x) => x.slice());
    const [p2, m2, v2] = [twin(p), twin(m), twin(v)];
    const prm = {
      lr: 1e-2,
      beta1: 0.8,
      beta2: 0.9,
      eps: 1e-6,
      weightDecay: 0.01,
      decoupledWeightDecay: true,
      maximize,
      biasCorrection1: [1 - 0.8 ** 2, 1 - 0.8 ** 5],
      biasCorrection2: [1 - 0.9 ** 2, 1 - 0.9 ** 5],
    };
    const calls = countKernelCalls(() => wasm.adamMulti(p, d, m, v, prm));
    assert.deepEqual(calls, { multi: 0, single: 0 }, `maximize=${maximize} ${dtype}: the reference runs`);
    ref.adamMulti(p2, d, m2, v2, prm);
    p.forEach((x, i) => assert.deepEqual(x, p2[i]));
    m.forEach((x, i) => assert.deepEqual(x, m2[i]));
    v.forEach((x, i) => assert.deepEqual(x, v2[i]));
  }
});

/**
 * A small model's parameters in two AdamW/Adam groups, trained for a few steps; returns every step's
 * gradients (copied) and the optimizer, for the replay below.
 */
function train(kind: "Adam" | "AdamW", scoped: boolean, steps: number) {
  // (inside a scope, tensors of 64 elements or more live in wasm memory; see the `where` cases below)
  const g = new Generator(11);
  const shapes = [[8, 12], [12], [12, 8], [8], [7, 10], [2]]; // the biases are under 64 elements
  const leaves = shapes.map((s) =>
    wnn.tensor(
      randn(
        g,
        s.reduce((a, b) => a * b, 1),
      ),
      { shape: s, requiresGrad: true },
    ),
  );
  const init = leaves.map((p) => (p.storage as Float32Array).slice());
  const [w1, b1, w2, b2, sometimes, never] = leaves as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
  const Opt = kind === "Adam" ? optim.Adam : optim.AdamW;
  const opt = new Opt(
    [
      { params: [w1, w2, sometimes], weightDecay: 0.1 },
      { params: [b1, never, b2], weightDecay: 0 },
    ],
    { lr: 1e-2, betas: [0.9, 0.95] },
  );
  const x = wnn.tensor(randn(g, 4 * 8), { shape: [4, 8] });
  const xs = wnn.tensor(randn(g, 3 * 7), { shape: [3, 7] });
  const grads: (Float32Array | null)[][] = [];
  const calls: { multi: number; single: number }[] = [];
  for (let s = 0; s < steps; s++) {
    const one = (): void => {
      // loss = Σ tanh(tanh(x·W1 + b1)·W2 + b2)² (+ Σ (xs·S)² on steps where `sometimes` takes part)
      const h = x.matmul(w1).add(b1).tanh();
      let loss = h.matmul(w2).add(b2).tanh().pow(2).sum();
      if (s % 3 !== 1) loss = loss.add(xs.matmul(sometimes).pow(2).sum());
      opt.zeroGrad();
      loss.backward();
      grads.push(leaves.map((p) => (p.grad === null ? null : (p.grad.storage as Float32Array).slice())));
      calls.push(countKernelCalls(() => opt.step()));
    };
    if (scoped) wnn.tidy(one);
    else one();
  }
  return { leaves, opt, grads, calls, init };
}

for (const kind of ["AdamW", "Adam"] as const) {
  for (const where of ["tidy, all resident", "tidy", "no scope"] as const) {
    test(`${kind}, ${where}: bit-identical to the per-parameter path over 7 steps, two groups, step counts that differ`, () => {
      wnn.setBackend("wasm");
      const steps = 7;
      // "tidy, all resident": every float32 storage of the scope in wasm memory, however small; "tidy": the
      // default, where the biases (under 64 elements) stay ordinary arrays
      const oldMin = where === "tidy, all resident" ? setScopeMinElements(1) : null;
      let run: ReturnType<typeof train>;
      try {
        run = train(kind, where !== "no scope", steps);
      } finally {
        if (oldMin !== null) setScopeMinElements(oldMin);
      }
      const { leaves, opt, grads, calls, init } = run;
      // the replay: one wasm adam call per parameter with a gradient, at that parameter's own step
      const theta = init.map((x) => x.slice());
      const m = init.map((x) => new Float32Array(x.length)),
        v = init.map((x) => new Float32Array(x.length));
      const t = init.map(() => 0);
      const decay = [0.1, 0, 0.1, 0, 0.1, 0]; // w1 b1 w2 b2 sometimes never
      for (let s = 0; s < steps; s++) {
        grads[s]!.forEach((d, i) => {
          if (d === null) return;
          t[i]! += 1;
          wasm.adam(theta[i]!, d, m[i]!, v[i]!, null, {
            lr: 1e-2,
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-8,
            weightDecay: decay[i]!,
            decoupledWeightDecay: kind === "AdamW",
            maximize: false,
            biasCorrection1: 1 - 0.9 ** t[i]!,
            biasCorrection2: 1 - 0.95 ** t[i]!,
          });
        });
      }
      assert.deepEqual(t, [7, 7, 7, 7, 5, 0], "the step counts differ within the first group");
      leaves.forEach((p, i) => {
        assertSameBits(p.storage as Float32Array, theta[i]!, `param ${i}`);
        const st = opt.getState(p);
        if (t[i] === 0) {
          assert.equal(st, undefined, "a parameter that never had a gradient has no state");
          assertSameBits(p.storage as Float32Array, init[i]!, "and is unchanged");
          return;
        }
        assert.equal(st!.step, t[i]);
        assertSameBits(st!.buffers["expAvg"]!, m[i]!, `param ${i} m`);
        assertSameBits(st!.buffers["expAvgSq"]!, v[i]!, `param ${i} v`);
      });
      // all resident: one call per group and step. In the default scope, the matrices of the first group in
      // one call, the biases of the second one call each. Outside a scope, one call per parameter.
      for (let s = 0; s < steps; s++) {
        const withGrad = grads[s]!.filter((d) => d !== null).length;
        const expected =
          where === "tidy, all resident"
            ? { multi: 2, single: 0 }
            : where === "tidy"
              ? { multi: 1, single: 2 }
              : { multi: 0, single: withGrad };
        assert.deepEqual(calls[s], expected, `step ${s}`);
      }
    });
  }
}

test("AdamW with amsgrad inside wnn.tidy keeps the per-parameter path", () => {
  wnn.setBackend("wasm");
  const p = wnn.tensor([1, 2, 3, 4, 5], { requiresGrad: true });
  const opt = new optim.AdamW([p], { lr: 0.1, amsgrad: true });
  const calls = wnn.tidy(() => {
    p.mul(p).sum().backward();
    return countKernelCalls(() => opt.step());
  });
  assert.deepEqual(calls, { multi: 0, single: 0 }, "AMSGrad runs the reference kernel");
  assert.ok(opt.getState(p)!.buffers["maxExpAvgSq"] !== undefined);
});

test("Adam on the reference backend: adamMulti is the per-parameter reference, bit for bit", () => {
  wnn.setBackend("reference");
  const g = new Generator(3);
  const a = [wnn.tensor(randn(g, 6), { requiresGrad: true }), wnn.tensor(randn(g, 2), { requiresGrad: true })];
  const b = a.map((p) => wnn.tensor(p.storage.slice(), { requiresGrad: true }));
  const opt = new optim.AdamW(a, { lr: 0.05 });
  const states = b.map(() => ({ m: new Float32Array(0), v: new Float32Array(0), t: 0 }));
  for (let s = 0; s < 3; s++) {
    a.forEach((p, i) => (p.grad = wnn.tensor(randn(g, p.numel()))));
    if (s === 1) a[1]!.grad = null;
    opt.step();
    a.forEach((p, i) => {
      if (p.grad === null) return;
      const st = states[i]!;
      if (st.t === 0) ((st.m = new Float32Array(p.numel())), (st.v = new Float32Array(p.numel())));
      st.t++;
      ref.adam(b[i]!.storage as Float32Array, p.grad.storage as Float32Array, st.m, st.v, null, {
        lr: 0.05,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weightDecay: 0.01,
        decoupledWeightDecay: true,
        maximize: false,
        biasCorrection1: 1 - 0.9 ** st.t,
        biasCorrection2: 1 - 0.999 ** st.t,
      });
    });
  }
  a.forEach((p, i) => assertSameBits(p.storage as Float32Array, b[i]!.storage as Float32Array, `param ${i}`));
  assert.deepEqual(
    a.map((p) => opt.getState(p)!.step),
    [3, 2],
  );
});
