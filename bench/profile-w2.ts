// Where a W2 step's time goes: runs W2 steps under V8's sampling profiler (node:inspector, in this process)
// and sums the samples' self time by kind — the wasm kernels, the JavaScript that copies operands into wasm
// memory and results out (src/backend/wasm), typed-array allocation, the garbage collector, and the rest of the
// JavaScript (ops, autograd, optimizer). Not part of `npm run bench`:
//
//   node dist/bench/profile-w2.js [--threads=1] [--steps=40] [--scope=0] [--user=1]
//
// Then, outside the profiler, the time of each kernel of the active table per step (matmul by its shape
// and transpose flags): the kernels wrapped in a timer for --steps more steps.
//
// Then the finalizer check: whether a FinalizationRegistry ever runs inside a synchronous training loop. It
// decides whether tensors could live in wasm memory and still be garbage-collected (see bench/README.md).

import { Session, type Profiler, type Runtime } from "node:inspector";
import * as wnn from "../src/index-node.js";
import { kernels } from "../src/ops/kernels.js";
import type { MatmulParams } from "../src/backend/backend.js";
import { w2Batches, w2Trainer } from "./w2.js";
import { w2UserTrainer } from "./w2-user.js";

const arg = (name: string, fallback: number): number => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a === undefined ? fallback : Number(a.slice(name.length + 3));
};
const threads = arg("threads", 1),
  steps = arg("steps", 40);
// --scope=0: the step without wnn.tidy (default 1: inside it); --user=1: the user-written form (./w2-user.ts)
const scoped = arg("scope", 1) !== 0,
  user = arg("user", 0) !== 0;
wnn.setNumThreads(threads);

/** The kind of a profile node: by its function and file. */
function kindOf(f: Runtime.CallFrame): string {
  if (f.url.startsWith("wasm://") || f.functionName.startsWith("wasm-function") || f.functionName.startsWith("$"))
    return "wasm kernels";
  if (f.functionName === "(garbage collector)") return "garbage collector";
  if (f.url.includes("/engine/dtype.")) return "typed-array allocation (engine/dtype allocate)";
  if (f.url.includes("/engine/scope.")) return "memory scope: blocks, zero-fill, release (engine/scope)";
  if (f.url.includes("/backend/wasm/"))
    return "copies into / out of wasm memory, kernel set-up, waiting for the pool (backend/wasm JS)";
  if (f.functionName === "(idle)" || f.functionName === "(program)") return "idle / program";
  return "other JavaScript (ops, autograd, optimizer, model)";
}

function post<T>(s: Session, method: string, params?: object): T {
  let out: T | undefined,
    err: Error | null = null;
  s.post(method, params ?? {}, (e, r) => ((err = e), (out = r as T)));
  if (err) throw err;
  return out!;
}

const trainer = user ? w2UserTrainer() : w2Trainer();
const step = scoped ? (x: wnn.Tensor, y: wnn.Tensor): number => wnn.tidy(() => trainer.step(x, y)) : trainer.step;
const batches = w2Batches(10 + steps);
for (let i = 0; i < 10; i++) step(batches[i]!.x, batches[i]!.y); // warm-up, unprofiled

const session = new Session();
session.connect();
post(session, "Profiler.enable");
post(session, "Profiler.setSamplingInterval", { interval: 100 });
post(session, "Profiler.start");
const t0 = performance.now();
for (let i = 10; i < 10 + steps; i++) step(batches[i]!.x, batches[i]!.y);
const wallMs = (performance.now() - t0) / steps;
const { profile } = post<{ profile: Profiler.Profile }>(session, "Profiler.stop");
session.disconnect();

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const kinds = new Map<string, number>();
let total = 0;
profile.samples!.forEach((id, i) => {
  const dt = profile.timeDeltas![i]!;
  const k = kindOf(byId.get(id)!.callFrame);
  kinds.set(k, (kinds.get(k) ?? 0) + dt);
  total += dt;
});
console.log(
  `W2 (${user ? "user-written" : "GPT module"}, ${scoped ? "inside wnn.tidy" : "no scope"}), ${threads} thread(s), ${steps} profiled steps: ${wallMs.toFixed(1)} ms per step (wall, under the profiler); the calling thread's time by kind:`,
);
for (const [k, us] of [...kinds].sort((a, b) => b[1] - a[1])) {
  console.log(
    `  ${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1000 / steps).toFixed(1).padStart(6)} ms/step  ${k}`,
  );
}
// the functions with the most self time (JavaScript by name and file; wasm as one entry per function)
const self = new Map<string, number>();
profile.samples!.forEach((id, i) => {
  const f = byId.get(id)!.callFrame;
  const key = `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\/dist\//, "")}`;
  self.set(key, (self.get(key) ?? 0) + profile.timeDeltas![i]!);
});
console.log("top functions by self time:");
for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15))
  console.log(`  ${((100 * us) / total).toFixed(1).padStart(5)} %  ${k}`);

// Kernel by kernel, outside the profiler: each function of the active table timed around its call.
{
  const table = kernels() as unknown as Record<string, unknown>;
  const spent = new Map<string, { ms: number; calls: number }>();
  const originals = new Map<string, unknown>();
  for (const [name, f] of Object.entries(table)) {
    if (typeof f !== "function") continue;
    originals.set(name, f);
    table[name] = (...args: unknown[]): unknown => {
      const t0 = performance.now();
      const out = (f as (...a: unknown[]) => unknown)(...args);
      const dt = performance.now() - t0;
      let key = name;
      if (name === "matmul") {
        const p = args[3] as MatmulParams;
        key = `matmul ${p.batch}×(${p.m}×${p.k})·(${p.k}×${p.n}) ${p.transA ? "T" : "N"}${p.transB ? "T" : "N"}`;
      }
      const e = spent.get(key) ?? { ms: 0, calls: 0 };
      e.ms += dt;
      e.calls++;
      spent.set(key, e);
      return out;
    };
  }
  const more = w2Batches(steps);
  const k0 = performance.now();
  for (let i = 0; i < steps; i++) step(more[i]!.x, more[i]!.y);
  const stepMs = (performance.now() - k0) / steps;
  for (const [name, f] of originals) table[name] = f;
  let inKernels = 0,
    inMatmul = 0;
  for (const [k, e] of spent) {
    inKernels += e.ms;
    if (k.startsWith("matmul")) inMatmul += e.ms;
  }
  console.log(
    `kernel by kernel (${steps} more steps, timers around each call): ${stepMs.toFixed(1)} ms per step, ${(inKernels / steps).toFixed(1)} ms in kernels (${(inMatmul / steps).toFixed(1)} in matmul), ${((stepMs * steps - inKernels) / steps).toFixed(1)} ms outside them`,
  );
  for (const [k, e] of [...spent].sort((a, b) => b[1].ms - a[1].ms).slice(0, 24))
    console.log(
      `  ${(e.ms / steps).toFixed(2).padStart(7)} ms/step  ${(e.calls / steps).toFixed(0).padStart(4)} calls/step  ${k}`,
    );
}

// A FinalizationRegistry callback is a task of the event loop: a loop that never yields never sees one.
const registry = new FinalizationRegistry<number>(() => void finalized++);
let finalized = 0,
  made = 0;
const churn = (): void => {
  for (let i = 0; i < 2000; i++) registry.register(new Float32Array(16), made++);
};
for (let s = 0; s < 200; s++) churn();
console.log(`finalizers: a synchronous loop made ${made} registered arrays and saw ${finalized} finalized`);
for (let s = 0; s < 200; s++) {
  churn();
  await new Promise((r) => setImmediate(r));
}
console.log(
  `finalizers: the same loop yielding to the event loop after each 2,000: ${made} made, ${finalized} finalized`,
);
