// The scope an unscoped backward opens for its own temporaries (./scope.ts backwardScope): gradients bit for bit
// those of the same backward with that scope off (the engine before it), of the same graph inside wnn.tidy, and
// close to the reference backend's; leaves' and retained gradients come out as ordinary arrays, usable after the
// pass, accumulating over passes; a throw leaves no scope open; inside a user's tidy nothing changes; the heap
// holds nothing after the pass and stays flat over many.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as wnn from "../index.js";
import { Tensor, tidy } from "../index.js";
import { heapStats, residentOffset } from "../backend/wasm/heap.js";
import { checkpoint } from "../nn/checkpoint.js";
import { record } from "./autograd.js";
import { AutogradError } from "./errors.js";
import { inScope, isKept, scopeStats, setBackwardScope } from "./scope.js";

const F = wnn.nn.functional;
const resident = (t: Tensor): boolean => residentOffset(t.storage) >= 0;
/** An ordinary garbage-collected array: not a view over the wasm heap, not shared, not kept, not released. */
const ordinary = (t: Tensor): boolean =>
  !resident(t) && !(t.storage.buffer instanceof SharedArrayBuffer) && !isKept(t) && !t.isReleased;

// vocabulary: B batch, T tokens, C channels, nh heads, hs = C / nh, V classes
const B = 2,
  T = 8,
  C = 32,
  nh = 2,
  V = 16;

interface Params {
  w1: Tensor; // (C, 3C)
  b1: Tensor; // (3C,)
  lnw: Tensor; // (C,)
  lnb: Tensor; // (C,)
  w2: Tensor; // (C, V)
}

const params = (): Params => {
  wnn.manualSeed(7);
  const w = (...shape: number[]): Tensor => wnn.randn(shape).mul(0.2).requiresGrad_();
  return { w1: w(C, 3 * C), b1: w(3 * C), lnw: w(C).add(1).detach().requiresGrad_(), lnb: w(C), w2: w(C, V) };
};

/** A small attention step: the ops of a GPT block (matmul, bias broadcast, narrow, permute, attention, gelu, norm, loss). */
const forward = (p: Params, retain?: Tensor[]): Tensor => {
  wnn.manualSeed(8);
  const x = wnn.randn([B, T, C]); // (B, T, C)
  const y = wnn.randint(0, V, [B * T], { dtype: "int32" });
  const qkv = x.matmul(p.w1).add(p.b1); // (B, T, 3C)
  const heads = (t: Tensor): Tensor => t.reshape([B, T, nh, C / nh]).permute(0, 2, 1, 3); // (B, nh, T, hs)
  const a = F.scaledDotProductAttention(
    heads(qkv.narrow(2, 0, C)),
    heads(qkv.narrow(2, C, C)),
    heads(qkv.narrow(2, 2 * C, C)),
    {
      isCausal: true,
    },
  )
    .permute(0, 2, 1, 3)
    .reshape([B, T, C]); // (B, T, C)
  const h = F.layerNorm(a.add(x).gelu(), [C], p.lnw, p.lnb); // (B, T, C)
  retain?.push(h.retainGrad()); // asked for: h's gradient kept in h.grad
  const logits = h.matmul(p.w2); // (B, T, V)
  return F.crossEntropy(logits.reshape([B * T, V]), y);
};

const grads = (p: Params): Float32Array[] =>
  Object.values(p).map((t) => (t as Tensor).grad!.dataSync() as Float32Array);

/** The gradients of `passes` backwards through the step, unscoped, with the backward's own scope on or off. */
const unscoped = (on: boolean, passes = 1): { g: Float32Array[]; p: Params } => {
  const old = setBackwardScope(on);
  try {
    const p = params();
    for (let k = 0; k < passes; k++) forward(p).backward();
    return { g: grads(p), p };
  } finally {
    setBackwardScope(old);
  }
};

test("an unscoped backward: gradients bit for bit as with no scope of its own, as inside tidy, and close to the reference backend", () => {
  assert.equal(wnn.getBackend(), "wasm");
  const before = unscoped(false).g;
  const { g: after, p } = unscoped(true);
  assert.deepEqual(after, before);
  const pt = params();
  tidy(() => forward(pt).backward());
  assert.deepEqual(grads(pt), after);
  for (const t of Object.values(p) as Tensor[]) assert.ok(ordinary(t.grad!), "a leaf's .grad is an ordinary array");
  wnn.setBackend("reference");
  try {
    const pr = params();
    forward(pr).backward();
    const ref = grads(pr);
    ref.forEach((r, i) => r.forEach((v, j) => assert.ok(Math.abs(v - after[i]![j]!) <= 1e-5 + 1e-4 * Math.abs(v))));
  } finally {
    wnn.setBackend("wasm");
  }
});

test("leaf gradients survive the pass as ordinary arrays, usable after it; the pass leaves no block and no scope", () => {
  const p = params();
  const loss = forward(p);
  const live = heapStats().liveBytes;
  loss.backward();
  assert.equal(heapStats().liveBytes, live, "every block the pass made went back to the heap");
  assert.equal(inScope(), false);
  assert.equal(scopeStats().depth, 0);
  const g = p.w1.grad!;
  assert.ok(ordinary(g));
  const twice = g.mul(2).dataSync();
  assert.equal(twice[5], 2 * g.dataSync()[5]!);
  assert.ok(!loss.isReleased && loss.item() > 0, "a forward tensor is untouched");
});

test("gradients accumulate over two unscoped backwards, bit for bit as before", () => {
  const before = unscoped(false, 2).g;
  const { g: after, p } = unscoped(true, 2);
  assert.deepEqual(after, before);
  for (const t of Object.values(p) as Tensor[]) assert.ok(ordinary(t.grad!));
});

test("retainGrad and retainGraph: a retained gradient is an ordinary array; saved forward values survive a second pass", () => {
  const run = (on: boolean): Float32Array[] => {
    const old = setBackwardScope(on);
    try {
      const p = params();
      const retained: Tensor[] = [];
      const loss = forward(p, retained);
      loss.backward(undefined, { retainGraph: true });
      loss.backward();
      const h = retained[retained.length - 1]!;
      assert.ok(ordinary(h.grad!), "a retained gradient is an ordinary array");
      assert.ok(!h.isReleased && Number.isFinite(h.dataSync()[0]!), "the forward tensor itself is untouched");
      return [...grads(p), h.grad!.dataSync() as Float32Array];
    } finally {
      setBackwardScope(old);
    }
  };
  assert.deepEqual(run(true), run(false));
});

test("a backward inside a backward (activation checkpointing): the inner leaves' gradients are ordinary, values as before", () => {
  const run = (on: boolean): Float32Array[] => {
    const old = setBackwardScope(on);
    try {
      const p = params();
      wnn.manualSeed(9);
      const x = wnn.randn([B * T, C]).requiresGrad_();
      const y = checkpoint((u) => F.layerNorm(u.matmul(p.w1).narrow(1, 0, C).gelu(), [C], p.lnw, p.lnb), x, {
        params: [p.w1, p.lnw, p.lnb],
      });
      const z = y.matmul(p.w2); // (B·T, V)
      z.mul(z).mean().backward();
      for (const t of [x, p.w1, p.lnw, p.w2]) assert.ok(ordinary(t.grad!));
      return [x, p.w1, p.lnw, p.lnb, p.w2].map((t) => t.grad!.dataSync() as Float32Array);
    } finally {
      setBackwardScope(old);
    }
  };
  assert.deepEqual(run(true), run(false));
});

test("inside an unscoped backward the gradient temporaries are blocks of the wasm heap (and ordinary arrays with the scope off)", () => {
  const seen = (on: boolean): boolean => {
    const old = setBackwardScope(on);
    try {
      wnn.manualSeed(12);
      const a = wnn.randn([16, 32]).requiresGrad_();
      let dyResident = false;
      // an identity op that looks at the gradient it receives: exp's backward made it during the pass
      const look = (x: Tensor): Tensor =>
        record("look", [x], x.detach(), (dy) => {
          dyResident = resident(dy);
          return [dy];
        });
      look(a.mul(2)).exp().sum().backward();
      assert.ok(ordinary(a.grad!));
      return dyResident;
    } finally {
      setBackwardScope(old);
    }
  };
  assert.equal(seen(true), true);
  assert.equal(seen(false), false);
});

test("the pass releases a gradient once no node needs it: its heap holds the live gradients, not all it made", () => {
  wnn.manualSeed(13);
  const a = wnn.randn([16, 32]).requiresGrad_(); // 2 KiB
  const base = heapStats().liveBytes;
  let live = -1;
  // the node nearest the leaf runs last: by then 80 nodes made a gradient each (160 KiB in all)
  const look = (x: Tensor): Tensor =>
    record("look", [x], x.detach(), (dy) => {
      live = heapStats().liveBytes - base;
      return [dy];
    });
  let y = look(a.mul(1));
  for (let k = 0; k < 40; k++) y = y.mul(1.01).add(0.5);
  y.sum().backward();
  assert.ok(live > 0 && live <= 8 * 2048, `bytes of the heap live at the last node: ${live}`);
  assert.equal(heapStats().liveBytes, base);
  assert.ok(ordinary(a.grad!));
});

test("a throw inside an unscoped backward leaves no scope open, releases its temporaries and gives the same error", () => {
  const live = heapStats().liveBytes;
  const attempt = (): unknown => {
    wnn.manualSeed(10);
    const a = wnn.randn([16, 32]).requiresGrad_();
    const b = wnn.randn([16, 32]).requiresGrad_();
    // an op whose backward returns a gradient of the wrong shape (a bug in a custom op)
    const bad = (x: Tensor): Tensor => record("bad", [x], x.mul(1).detach(), (dy) => [dy.sum(0)]);
    const loss = bad(a.mul(b).exp()).add(b).sum();
    try {
      loss.backward();
    } catch (e) {
      assert.ok(b.grad === null || ordinary(b.grad), "a gradient accumulated before the throw is ordinary");
      return e;
    }
    return null;
  };
  const old = setBackwardScope(false);
  const before = attempt();
  setBackwardScope(old);
  const after = attempt();
  assert.ok(after instanceof AutogradError);
  assert.equal((after as Error).message, (before as Error).message);
  assert.match((after as Error).message, /backward of bad: gradient for input 0 has shape \(32\)/);
  assert.equal(inScope(), false);
  assert.equal(scopeStats().depth, 0);
  assert.equal(heapStats().liveBytes, live);
});

test("a backward inside a user's tidy keeps the scoped behaviour: kept, resident leaf gradients", () => {
  const p = params();
  tidy(() => forward(p).backward());
  assert.ok(isKept(p.w1.grad!) && resident(p.w1.grad!), "inside tidy a leaf's gradient is a kept block, as before");
  const q = params();
  forward(q).backward();
  assert.deepEqual(grads(q), grads(p));
});

test("many unscoped steps with AdamW: the heap stays flat and training matches the engine without the backward's scope", () => {
  const train = (on: boolean): { loss: number[]; top: number[] } => {
    const old = setBackwardScope(on);
    try {
      const p = params();
      const opt = new wnn.optim.AdamW(Object.values(p) as Tensor[], { lr: 1e-2 });
      const loss: number[] = [],
        top: number[] = [];
      for (let s = 0; s < 12; s++) {
        const l = forward(p);
        opt.zeroGrad();
        l.backward();
        opt.step();
        loss.push(l.item());
        top.push(heapStats().topBytes);
      }
      return { loss, top };
    } finally {
      setBackwardScope(old);
    }
  };
  const after = train(true);
  assert.deepEqual(after.loss, train(false).loss);
  assert.deepEqual(after.top.slice(2), Array(10).fill(after.top[2]), "the heap does not grow after the first steps");
});
