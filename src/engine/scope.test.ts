// The memory scope's rules (./scope.ts): escape by return, keep, nesting, a throw inside a scope,
// use-after-release errors, dispose / Symbol.dispose, and a training loop inside scopes that matches the
// same loop outside any scope bit for bit (parameters, gradients and AdamW state across steps, a
// checkpoint round-trip), with the heap flat across steps.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as wnn from "../index.js";
import { ReleasedTensorError, Tensor, dispose, keep, tidy, zeros } from "../index.js";
import { heapStats, residentOffset } from "../backend/wasm/heap.js";
import { parseCheckpoint, serializeCheckpoint } from "../io/checkpoint.js";
import { addF32Into, inScope, setPoisonUninitialised } from "./scope.js";
import { uninitialised } from "../ops/util.js";
import { meterAllocations } from "./memory.js";
import { metaExecute } from "./meta.js";

const F = wnn.nn.functional;
const resident = (t: Tensor): boolean => residentOffset(t.storage) >= 0;
const big = (seed: number): Tensor => {
  wnn.manualSeed(seed);
  return wnn.randn([16, 32]); // 512 elements: above the scope's 64-element threshold
};
const releasedBy =
  (op: RegExp, scope: RegExp) =>
  (e: unknown): boolean =>
    e instanceof ReleasedTensorError && op.test(e.message) && scope.test(e.message) && /released/.test(e.message);

test("outside any scope nothing changes: outputs are ordinary arrays", () => {
  assert.equal(wnn.getBackend(), "wasm");
  const y = big(0).mul(2).exp();
  assert.equal(resident(y), false);
  assert.equal(inScope(), false);
});

test("tidy: outputs live in wasm memory inside; the result survives as an ordinary array, the rest is released", () => {
  const x = big(1);
  const want = x.mul(2).exp().sum(1).dataSync();
  let inner: Tensor | null = null;
  let wasResident = false;
  const y = tidy("t1", () => {
    inner = x.mul(2);
    wasResident = resident(inner);
    return inner.exp().sum(1);
  });
  assert.ok(wasResident, "an output made inside the scope is a view over the wasm heap");
  assert.equal(resident(y), false, "a result leaving the outermost scope is copied into an ordinary array");
  assert.deepEqual(y.dataSync(), want);
  assert.ok(inner!.isReleased);
  assert.throws(() => inner!.item(), releasedBy(/^item/, /tidy\(t1\)/));
  assert.throws(() => inner!.add(1), releasedBy(/^add/, /tidy\(t1\)/));
  assert.throws(() => F.gelu(inner!), releasedBy(/gelu/, /tidy\(t1\)/));
  assert.throws(() => inner!.matmul(x.transpose(0, 1)), releasedBy(/matmul/, /tidy\(t1\)/));
  assert.ok(!x.isReleased, "a tensor made outside the scope is untouched");
});

test("tidy returns arrays and objects of tensors; other values pass through", () => {
  const x = big(2);
  const r = tidy(() => ({ a: x.add(1), list: [x.mul(3), 7], n: 5, nested: { b: x.neg() } }));
  assert.deepEqual(r.a.dataSync(), x.add(1).dataSync());
  assert.deepEqual((r.list[0] as Tensor).dataSync(), x.mul(3).dataSync());
  assert.equal(r.list[1], 7);
  assert.equal(r.n, 5);
  assert.deepEqual(r.nested.b.dataSync(), x.neg().dataSync());
});

test("scopes nest: an inner result lives until the outer scope ends", () => {
  const x = big(3);
  let fromInner: Tensor | null = null;
  const out = tidy("outer", () => {
    fromInner = tidy("inner", () => x.mul(2).add(1));
    assert.ok(resident(fromInner), "still in the heap: it moved to the outer scope");
    return fromInner.sum();
  });
  assert.ok(fromInner!.isReleased, "released by the outer scope");
  assert.throws(() => fromInner!.dataSync(), releasedBy(/^dataSync/, /tidy\(outer\)/));
  assert.ok(Math.abs(out.item() - x.mul(2).add(1).sum().item()) < 1e-3);
});

test("keep: a kept tensor outlives every scope until dispose; dispose and Symbol.dispose release one tensor", () => {
  const x = big(4);
  const kept = tidy(() => {
    const k = keep(x.mul(5));
    x.mul(6); // released
    return null;
  });
  assert.equal(kept, null);
  // the kept one was made inside the scope and is still readable
  const k2 = tidy(() => keep(x.add(2)));
  assert.deepEqual(k2.dataSync(), x.add(2).dataSync());
  assert.ok(resident(k2), "a tensor kept inside a scope stays in the heap");
  k2.dispose();
  assert.ok(k2.isReleased);
  assert.throws(() => k2.sum(), releasedBy(/sum/, /dispose/));
  const t = x.add(1);
  t[Symbol.dispose as unknown as "dispose"]();
  assert.throws(() => t.toArray(), releasedBy(/^toArray/, /dispose/));
  const list = [x.add(1), x.add(2)];
  dispose(list);
  assert.ok(list.every((u) => u.isReleased));
});

test("a throw inside a scope releases its tensors and propagates", () => {
  const x = big(5);
  let made: Tensor | null = null;
  const before = heapStats().liveBytes;
  assert.throws(
    () =>
      tidy("boom", () => {
        made = x.mul(2);
        throw new Error("boom inside");
      }),
    /boom inside/,
  );
  assert.ok(made!.isReleased);
  assert.throws(() => made!.item(), releasedBy(/^item/, /tidy\(boom\)/));
  assert.equal(heapStats().liveBytes, before, "every block of the scope is back in the heap");
  assert.equal(inScope(), false);
});

test("backward through a graph whose scope ended throws, naming backward", () => {
  const w = big(6).requiresGrad_();
  const loss = tidy("fwd", () => w.mul(w).exp().mean());
  assert.throws(
    () => loss.backward(),
    (e: unknown) => e instanceof ReleasedTensorError && /backward/.test(e.message) && /tidy\(fwd\)/.test(e.message),
  );
});

test("a nested scope inside a forward keeps its graph for the enclosing scope's backward", () => {
  const w = big(7).requiresGrad_();
  const g0 = (() => {
    w.grad = null;
    w.mul(w).exp().mean().backward();
    return w.grad!.dataSync();
  })();
  w.grad = null;
  tidy(() => {
    const h = tidy(() => w.mul(w));
    h.exp().mean().backward();
  });
  assert.deepEqual(w.grad!.dataSync(), g0);
  assert.ok(!w.grad!.isReleased, "a leaf's gradient is kept past the scope");
});

test("tidy refuses an async callback", () => {
  assert.throws(() => tidy(async () => 1), /Promise/);
});

// ---------------------------------------------------------------------------------------------------
// Training inside scopes: parameters, gradients and AdamW state across steps, checkpoints

class Mlp extends wnn.nn.Module {
  readonly up = new wnn.nn.Linear(32, 64);
  readonly norm = new wnn.nn.LayerNorm(64);
  readonly down = new wnn.nn.Linear(64, 10);
  forward(x: Tensor): Tensor {
    return this.down.forward(this.norm.forward(F.gelu(this.up.forward(x), { approximate: "tanh" })));
  }
}

function trainer(seed: number) {
  wnn.manualSeed(seed);
  const model = new Mlp();
  const opt = new wnn.optim.AdamW(model.parameters(), { lr: 1e-2, weightDecay: 0.1 });
  const g = new wnn.Generator(99);
  const batches = Array.from({ length: 4 }, () => ({
    x: wnn.randn([24, 32], { generator: g }),
    y: new Tensor(
      Int32Array.from({ length: 24 }, (_, i) => (i * 7 + 3) % 10),
      [24],
    ),
  }));
  const step = (i: number): number => {
    const { x, y } = batches[i % batches.length]!;
    const loss = F.crossEntropy(model.forward(x), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    return loss.item();
  };
  return { model, opt, step };
}

test("training inside tidy matches training outside bit for bit: losses, parameters, gradients, AdamW state", () => {
  const plain = trainer(11),
    scoped = trainer(11);
  for (let i = 0; i < 6; i++) {
    const a = plain.step(i);
    const b = tidy(() => scoped.step(i));
    assert.equal(b, a, `loss of step ${i}`);
  }
  const pp = plain.model.parameters(),
    sp = scoped.model.parameters();
  pp.forEach((p, i) => {
    const q = sp[i]!;
    assert.deepEqual(q.dataSync(), p.dataSync(), `parameter ${i}`);
    assert.deepEqual(q.grad!.dataSync(), p.grad!.dataSync(), `gradient ${i}`);
    if (q.numel() >= 64) {
      assert.ok(resident(q), `parameter ${i} lives in the heap`);
      assert.ok(resident(q.grad!), `gradient ${i} lives in the heap`);
    }
    const ps = plain.opt.getState(p)!,
      ss = scoped.opt.getState(q)!;
    assert.equal(ss.step, ps.step);
    for (const k of Object.keys(ps.buffers))
      assert.deepEqual([...ss.buffers[k]!], [...ps.buffers[k]!], `AdamW ${k} of parameter ${i}`);
  });
  // the state dicts and a checkpoint round-trip
  const sd = scoped.model.stateDict();
  const bytes = serializeCheckpoint({ model: sd, step: 6 });
  const loaded = parseCheckpoint(bytes);
  const fresh = trainer(12);
  fresh.model.loadStateDict(loaded.model);
  fresh.opt.loadStateDict(scoped.opt.stateDict());
  const x = wnn.randn([3, 32]);
  assert.deepEqual(fresh.model.forward(x).dataSync(), scoped.model.forward(x).dataSync());
  // loading into a model whose parameters live in the heap writes them in place
  scoped.model.loadStateDict(plain.model.stateDict());
  assert.ok(resident(scoped.model.up.weight));
  assert.deepEqual(scoped.model.up.weight.dataSync(), plain.model.up.weight.dataSync());
  // both continue identically
  const a = plain.step(6),
    b = tidy(() => scoped.step(6));
  assert.equal(b, a);
});

test("the heap stays flat over scoped training steps", () => {
  const t = trainer(13);
  for (let i = 0; i < 3; i++) tidy(() => t.step(i));
  const live = heapStats().liveBytes,
    extent = heapStats().topBytes;
  for (let i = 3; i < 30; i++) tidy(() => t.step(i));
  assert.equal(heapStats().liveBytes, live, "live blocks after step 3 and after step 30");
  assert.equal(heapStats().topBytes, extent, "the heap did not grow");
});

test("a kept gradient is released by zeroGrad; an ordinary one is left alone", () => {
  const t = trainer(14);
  tidy(() => t.step(0));
  const g = t.model.up.weight.grad!;
  assert.ok(resident(g));
  t.opt.zeroGrad();
  assert.throws(() => g.item(), releasedBy(/^item/, /zeroGrad/));
  const u = trainer(15);
  u.step(0);
  const h = u.model.up.weight.grad!;
  u.opt.zeroGrad();
  assert.ok(!h.isReleased);
});

test("a GPT trained inside tidy exports the same Hugging Face tensors as one trained outside", async () => {
  const { GPT, gptConfig } = await import("../models/gpt2/model.js");
  const { toHFFiles } = await import("../models/hf.js");
  const config = gptConfig("tiny", { vocabSize: 40, nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 16 });
  const make = () => {
    wnn.manualSeed(5);
    const model = new GPT(config);
    const opt = new wnn.optim.AdamW(model.parameters(), { lr: 1e-2 });
    return { model, opt };
  };
  const a = make(),
    b = make();
  const g = new wnn.Generator(3);
  const x = wnn.randint(0, 40, [4, 16], { generator: g }),
    y = wnn.randint(0, 40, [4, 16], { generator: g });
  const step = (m: ReturnType<typeof make>): number => {
    const { loss } = m.model.forward(x, y);
    m.opt.zeroGrad();
    loss!.backward();
    m.opt.step();
    return loss!.item();
  };
  for (let i = 0; i < 3; i++)
    assert.equal(
      tidy(() => step(b)),
      step(a),
    );
  assert.ok(resident(b.model.parameters()[0]!));
  const fa = toHFFiles("gpt2", a.model, config),
    fb = toHFFiles("gpt2", b.model, config);
  assert.deepEqual(Object.keys(fb.tensors), Object.keys(fa.tensors));
  for (const k of Object.keys(fa.tensors)) assert.deepEqual(fb.tensors[k]!.dataSync(), fa.tensors[k]!.dataSync(), k);
});

test("outputs written whole skip the zero-fill: a poisoned block shows it, zero-filled storage stays zero", () => {
  const old = setPoisonUninitialised(true);
  try {
    tidy(() => {
      // a block freed by the inner scope is handed out again; `uninitialised` does not clear it (poisoned here)
      tidy(() => void big(1).exp());
      const u = uninitialised([16, 32], "float32");
      assert.ok(resident(u));
      assert.ok([...u.storage].every(Number.isNaN), "an uninitialised block holds the poison until written");
      const z = zeros([16, 32]);
      assert.ok(
        [...z.storage].every((v) => v === 0),
        "zeros() is zero-filled whatever the block held",
      );
      // the ops that allocate without a zero-fill write every element: no poison survives
      const x = big(2).requiresGrad_();
      const y = x.mul(3).permute([1, 0]).exp().sum();
      y.backward();
      assert.ok([...x.grad!.storage].every(Number.isFinite));
    });
  } finally {
    setPoisonUninitialised(old);
  }
});

test("the tape's gradient sums run on the backend's add kernel: bit for bit the float32 sums of a loop, in place too", () => {
  const n = 1000;
  const a = new Float32Array(n).map((_, i) => Math.sin(i) * 1e3),
    b = new Float32Array(n).map((_, i) => Math.cos(i * 0.7) * 1e-2);
  const want = a.map((v, i) => v + b[i]!); // a Float32Array's map rounds each double sum to float32
  const out = new Float32Array(n);
  addF32Into(a, b, out);
  assert.deepEqual(out, want);
  tidy(() => {
    const ra = keep(wnn.tensor([...a]));
    addF32Into(ra.storage as Float32Array, b, ra.storage as Float32Array); // in place, in the heap
    assert.ok(resident(ra));
    assert.deepEqual(ra.storage, want);
    ra.dispose();
  });
});

test("a leaf's gradient that takes over a block of its backward is its own: never shared with another leaf, and it accumulates", () => {
  wnn.manualSeed(11);
  const [a, b, c] = [0, 1, 2].map(() => wnn.randn([16, 32]).requiresGrad_());
  for (let pass = 1; pass <= 3; pass++) {
    tidy("grad", () => {
      // (a + b)·c: a and b get the same incoming gradient c; c gets a + b
      a!.add(b!).mul(c!).sum().backward();
    });
    const [ga, gb, gc] = [a!.grad!.dataSync(), b!.grad!.dataSync(), c!.grad!.dataSync()];
    const [va, vb, vc] = [a!.dataSync(), b!.dataSync(), c!.dataSync()];
    for (let i = 0; i < va.length; i++) {
      assert.equal(ga[i], Math.fround(pass * vc[i]!), `pass ${pass}: d/da[${i}]`);
      assert.equal(gb[i], Math.fround(pass * vc[i]!), `pass ${pass}: d/db[${i}]`);
      assert.ok(Math.abs(gc[i]! - pass * Math.fround(va[i]! + vb[i]!)) <= 1e-5 * pass, `pass ${pass}: d/dc[${i}]`);
    }
  }
  // the two gradients are separate blocks: changing one leaves the other
  const before = b!.grad!.dataSync()[0]!;
  a!.grad!.storage[0] = 123;
  assert.equal(b!.grad!.dataSync()[0], before);
  assert.notEqual(a!.grad!.storage, b!.grad!.storage);
});

test("shape-only tensors count a backward's bytes as a real pass allocates them: a leaf's gradient taken over is not counted twice, a copied one is", () => {
  // a·b + a: a's gradient is a sum made in the pass and b's a product (both taken over); then y.backward(dy) of a sum
  // hands the caller's dy to both leaves (both copied, into the gradients they already have: in place)
  const step = (): void => {
    tidy("step", () => {
      wnn.manualSeed(3);
      const a = wnn.randn([16, 32]).requiresGrad_(),
        b = wnn.randn([16, 32]).requiresGrad_(),
        c = wnn.randn([16, 32]).requiresGrad_();
      a.mul(b).add(a).sum().backward();
      const dy = wnn.randn([16, 32]);
      a.add(c).backward(dy);
    });
  };
  const real = meterAllocations(step);
  const counted = meterAllocations(() => metaExecute(step));
  assert.ok(real > 0);
  assert.equal(counted, real);
});
