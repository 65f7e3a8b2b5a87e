// Micro-benchmarks of the kernels that the wasm backend took over from the reference in its
// second round (convolution, pooling, rmsNorm, embedding/gather): each case forward + backward on three
// kernel tables — the reference backend, the wasm backend with those kernels removed (what it did
// before: they fell back to the reference) and the wasm backend as it is. Median of the timed calls;
// process CPU time per call beside it (steadier on a shared machine). Not part of `npm run bench`.
//
//   node dist/bench/kernels.js [--threads=1] [--cases=lenet,conv64,pool,rmsnorm,embedding]

import { cpuUsage } from "node:process";
import * as wnn from "../src/index-node.js";
import { referenceKernels } from "../src/backend/reference/backend.js";
import { wasmBackend } from "../src/backend/wasm/index.js";
import type { Backend, KernelTable } from "../src/backend/backend.js";
import { LeNet5, lenetConfig } from "../src/models/lenet5/model.js";
import { SGD } from "../src/optim/sgd.js";
import { median } from "./timing.js";

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=") as [string, string]));
const threads = Number(args["threads"] ?? 1);
const cases = (args["cases"] ?? "lenet,conv64,pool,rmsnorm,embedding").split(",");
wnn.setNumThreads(threads);

/** The kernels this stint moved onto the wasm backend. */
const NEW: (keyof KernelTable)[] = [
  "im2col",
  "col2im",
  "biasAdd",
  "biasGrad",
  "maxPool2d",
  "maxPool2dBackward",
  "avgPool2d",
  "avgPool2dBackward",
  "rmsNorm",
  "rmsNormBackward",
  "gather",
  "scatterAdd",
  "indexSelect",
  "indexAdd",
];
const before: Backend = {
  name: "wasm-before",
  kernels: Object.fromEntries(
    Object.entries(wasmBackend.kernels).filter(([k]) => !NEW.includes(k as keyof KernelTable)),
  ),
};
wnn.registerBackend(before);
const BACKENDS = ["reference", "wasm-before", "wasm"];

const F = wnn.nn.functional;

interface Case {
  name: string;
  /** builds the inputs once per backend and returns one timed call */
  setup: () => () => void;
  runs: number;
}

const CASES: Record<string, Case> = {
  lenet: {
    name: "LeNet-5 training step, batch 64 × 1×28×28 (SGD)",
    runs: 10,
    setup: () => {
      wnn.manualSeed(0);
      const model = new LeNet5(lenetConfig("lenet5"));
      const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
      const x = wnn.randn([64, 1, 28, 28]),
        y = wnn.randint(0, 10, [64], { dtype: "int32" });
      return () => {
        const loss = F.crossEntropy(model.forward(x), y);
        opt.zeroGrad();
        loss.backward();
        opt.step();
        loss.item();
      };
    },
  },
  conv64: {
    name: "conv2d 3×3, 64→64, 32×32, padding 1, batch 8: forward + backward (dx, dW, db)",
    runs: 5,
    setup: () => {
      wnn.manualSeed(0);
      const x = wnn.randn([8, 64, 32, 32], { requiresGrad: true });
      const w = wnn.randn([64, 64, 3, 3], { requiresGrad: true }),
        b = wnn.randn([64], { requiresGrad: true });
      return () => {
        x.grad = null;
        w.grad = null;
        b.grad = null;
        F.conv2d(x, w, b, { padding: 1 }).sum().backward();
      };
    },
  },
  pool: {
    name: "maxPool2d 2×2 + avgPool2d 3×3/1 pad 1, (8, 64, 32, 32): forward + backward",
    runs: 10,
    setup: () => {
      wnn.manualSeed(0);
      const x = wnn.randn([8, 64, 32, 32], { requiresGrad: true });
      return () => {
        x.grad = null;
        F.maxPool2d(x, 2)
          .sum()
          .add(F.avgPool2d(x, 3, { stride: 1, padding: 1 }).sum())
          .backward();
      };
    },
  },
  rmsnorm: {
    name: "rmsNorm over 128, (768, 128) with weight: forward + backward",
    runs: 50,
    setup: () => {
      wnn.manualSeed(0);
      const x = wnn.randn([768, 128], { requiresGrad: true }),
        w = wnn.ones([128], { requiresGrad: true });
      return () => {
        x.grad = null;
        w.grad = null;
        F.rmsNorm(x, [128], w).sum().backward();
      };
    },
  },
  embedding: {
    name: "embedding 50257×768, 768 tokens + gather (768, 65) along dim 1: forward + backward",
    runs: 10,
    setup: () => {
      wnn.manualSeed(0);
      const wte = wnn.randn([50257, 768], { requiresGrad: true });
      const idx = wnn.randint(0, 50257, [768], { dtype: "int32" });
      const logits = wnn.randn([768, 65], { requiresGrad: true }),
        t = wnn.randint(0, 65, [768, 1], { dtype: "int32" });
      return () => {
        wte.grad = null;
        logits.grad = null;
        F.embedding(idx, wte).sum().add(logits.gather(1, t).sum()).backward();
      };
    },
  },
};

const uptime = (await import("node:os"))
  .loadavg()
  .map((x) => x.toFixed(2))
  .join(" ");
console.log(`kernels micro-benchmark, ${threads} thread(s), load average ${uptime}`);
console.log(`| case | ${BACKENDS.map((b) => `${b} ms (cpu ms)`).join(" | ")} | reference / wasm | before / wasm |`);
console.log(`|---|${BACKENDS.map(() => "---").join("|")}|---|---|`);
for (const key of cases) {
  const c = CASES[key];
  if (!c) throw new Error(`unknown case ${key}`);
  const cells: string[] = [];
  const med: number[] = [];
  for (const b of BACKENDS) {
    wnn.setBackend(b);
    const fn = c.setup();
    for (let i = 0; i < 2; i++) fn();
    const times: number[] = [];
    const u0 = cpuUsage();
    for (let i = 0; i < c.runs; i++) {
      const t0 = performance.now();
      fn();
      times.push(performance.now() - t0);
    }
    const u = cpuUsage(u0);
    const m = median(times);
    med.push(m);
    cells.push(`${m.toFixed(2)} (${((u.user + u.system) / 1000 / c.runs).toFixed(2)})`);
  }
  console.log(
    `| ${c.name} | ${cells.join(" | ")} | ${(med[0]! / med[2]!).toFixed(2)}× | ${(med[1]! / med[2]!).toFixed(2)}× |`,
  );
}

// The kernels alone, on the same inputs (no op, no allocation): reference vs wasm.
const ref = referenceKernels,
  was: KernelTable = { ...referenceKernels, ...wasmBackend.kernels };
const rnd = (n: number): Float32Array => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
const g = { n: 8, c: 64, h: 32, w: 32, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1, oh: 32, ow: 32 };
const gp = { ...g, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, oh: 16, ow: 16 };
const x = rnd(8 * 64 * 32 * 32),
  cols = new Float32Array(8 * 64 * 9 * 1024),
  dx = new Float32Array(x.length);
const ya = new Float32Array(x.length),
  yp = new Float32Array(8 * 64 * 16 * 16),
  ip = new Int32Array(yp.length),
  dyp = rnd(yp.length);
const xr = rnd(768 * 128),
  wr = rnd(128),
  yr = new Float32Array(xr.length),
  rs = new Float32Array(768),
  dwr = new Float32Array(128);
const wte = rnd((50257 * 768) / 8),
  idx = Int32Array.from({ length: 768 }, () => Math.floor(Math.random() * 6282)),
  emb = new Float32Array(768 * 768);
const t65 = idx.map((v) => v % 65);
const kcases: [string, (k: KernelTable) => void][] = [
  ["im2col (8, 64, 32, 32), 3×3 pad 1", (k) => k.im2col(x, g, cols)],
  [
    "col2im (8, 64, 32, 32), 3×3 pad 1",
    (k) => {
      dx.fill(0);
      k.col2im(cols, g, dx);
    },
  ],
  [
    "biasAdd + biasGrad (8, 64, 1024)",
    (k) => {
      k.biasAdd(x, wr.subarray(0, 64), 8, 64, 1024);
      k.biasGrad(x, dwr.subarray(0, 64), 8, 64, 1024);
    },
  ],
  [
    "maxPool2d + backward 2×2, (8, 64, 32, 32)",
    (k) => {
      k.maxPool2d(x, gp, yp, ip);
      k.maxPool2dBackward(dyp, ip, gp, dx);
    },
  ],
  [
    "avgPool2d + backward 3×3/1 pad 1, (8, 64, 32, 32)",
    (k) => {
      k.avgPool2d(x, g, ya, true);
      k.avgPool2dBackward(ya, g, dx, true);
    },
  ],
  [
    "rmsNorm + backward (768, 128)",
    (k) => {
      k.rmsNorm(xr, wr, yr, rs, 768, 128, 1e-6);
      k.rmsNormBackward(yr, xr, wr, rs, dx.subarray(0, xr.length), dwr, 768, 128);
    },
  ],
  [
    "indexSelect + indexAdd 768 rows of 768 (embedding)",
    (k) => {
      k.indexSelect(wte, idx, emb, 1, 6282, 768);
      k.indexAdd(wte, idx, emb, 1, 6282, 768);
    },
  ],
  [
    "gather + scatterAdd (768, 65) → (768, 1)",
    (k) => {
      k.gather(xr.subarray(0, 768 * 65), t65, yr.subarray(0, 768), 768, 65, 1, 1);
      k.scatterAdd(dx.subarray(0, 768 * 65), t65, yr.subarray(0, 768), 768, 65, 1, 1);
    },
  ],
];
console.log(
  `\nkernels alone (median ms of 20 after 3 warm-up), load average ${(await import("node:os"))
    .loadavg()
    .map((v) => v.toFixed(2))
    .join(" ")}`,
);
console.log("| kernel | reference ms | wasm ms | reference / wasm |\n|---|---|---|---|");
for (const [name, fn] of kcases) {
  const t = [ref, was].map((k) => {
    for (let i = 0; i < 3; i++) fn(k);
    const ts: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      fn(k);
      ts.push(performance.now() - t0);
    }
    return median(ts);
  });
  console.log(`| ${name} | ${t[0]!.toFixed(3)} | ${t[1]!.toFixed(3)} | ${(t[0]! / t[1]!).toFixed(2)}× |`);
}
wnn.setBackend("wasm");
wnn.setNumThreads(1);
