// The op families on a tensor of a few MB against the time of copying that tensor (`npm run bench --
// --workloads=ops`): what a user's own code pays per elementwise op, reduction and layout copy, forward
// and backward. Every call runs inside `wnn.tidy` (the way the project's loops and an opting-in user run),
// so operands (made inside a scope and kept) and results live in the wasm heap; the copy is `Float32Array.prototype.set` of the same
// number of bytes between two ordinary arrays (memcpy: the floor any op that writes its output pays).
//
// Timing: per op, 3 warm-up calls, then calls until ≥ 10 and ≥ 200 ms (at most 200), the median; the
// backward column is the median of forward + backward (`y.backward(dy)` into a leaf) minus the forward's.
// The bar (a unary or binary elementwise op ≤ 3× the copy) is printed beside each row, never asserted.
//
//   shape: (B, T, C) = (12, 64, 1024), 786,432 float32 values, 3 MiB

import { spawnSync } from "node:child_process";
import * as wnn from "../src/index-node.js";
import { median } from "./timing.js";

/** Times in ms per call: the process CPU time (user + system) over the timed calls / calls, and the wall median. */
export interface OpTime {
  cpu_ms: number;
  wall_ms: number;
}

export interface OpRow {
  family: string;
  name: string;
  forward: OpTime;
  /** forward + backward minus forward */
  backward: OpTime;
  /** CPU times against the copy's CPU time */
  forward_x_copy: number;
  backward_x_copy: number;
}

export interface OpsResult {
  shape: number[];
  copy: OpTime;
  rows: OpRow[];
  /** the same table on PyTorch (bench/torch_ops.py), when it ran */
  torch?: TorchOps;
}

/** PyTorch's op table: ms per call (CPU, and the wall median), its own copy of the same bytes (`dst.copy_(src)`). */
export interface TorchOps {
  threads: number;
  version: string;
  copy: OpTime;
  rows: { family: string; name: string; forward: OpTime; backward: OpTime }[];
}

/** 3 warm-up calls, then calls until ≥ 10 and ≥ 200 ms of wall time (at most 200); CPU time per call and the wall median. */
function measure(fn: () => void): OpTime {
  for (let i = 0; i < 3; i++) fn();
  const walls: number[] = [];
  let total = 0;
  const cpu0 = process.cpuUsage();
  while (walls.length < 10 || (total < 200 && walls.length < 200)) {
    const t0 = performance.now();
    fn();
    const dt = performance.now() - t0;
    walls.push(dt);
    total += dt;
  }
  const cpu = process.cpuUsage(cpu0);
  return { cpu_ms: (cpu.user + cpu.system) / 1000 / walls.length, wall_ms: median(walls) };
}

const B = 12,
  T = 64,
  C = 1024;

interface Case {
  family: "unary" | "binary" | "reduce" | "layout";
  name: string;
  /** the op on x (and the other operand where it has one) */
  fn: (x: wnn.Tensor, o: wnn.Tensor) => wnn.Tensor;
  /** the second operand's shape (binary ops), else none */
  other?: number[];
  /** inputs kept positive (log, sqrt) */
  positive?: boolean;
}

const CASES: Case[] = [
  { family: "unary", name: "neg", fn: (x) => x.neg() },
  { family: "unary", name: "abs", fn: (x) => x.abs() },
  { family: "unary", name: "relu", fn: (x) => x.relu() },
  { family: "unary", name: "exp", fn: (x) => x.exp() },
  { family: "unary", name: "log", fn: (x) => x.log(), positive: true },
  { family: "unary", name: "sqrt", fn: (x) => x.sqrt(), positive: true },
  { family: "unary", name: "tanh", fn: (x) => x.tanh() },
  { family: "unary", name: "sigmoid", fn: (x) => x.sigmoid() },
  { family: "unary", name: "silu", fn: (x) => wnn.silu(x) },
  { family: "unary", name: "gelu (erf)", fn: (x) => x.gelu() },
  { family: "unary", name: "gelu (tanh)", fn: (x) => x.gelu({ approximate: "tanh" }) },
  { family: "unary", name: "mul by a scalar", fn: (x) => x.mul(0.5) },
  { family: "binary", name: "add (same shape)", fn: (x, o) => x.add(o), other: [B, T, C] },
  { family: "binary", name: "sub (same shape)", fn: (x, o) => x.sub(o), other: [B, T, C] },
  { family: "binary", name: "mul (same shape)", fn: (x, o) => x.mul(o), other: [B, T, C] },
  { family: "binary", name: "div (same shape)", fn: (x, o) => x.div(o), other: [B, T, C], positive: true },
  { family: "binary", name: "add a bias (C)", fn: (x, o) => x.add(o), other: [C] },
  { family: "binary", name: "mul by a column (B, T, 1)", fn: (x, o) => x.mul(o), other: [B, T, 1] },
  { family: "reduce", name: "sum over C", fn: (x) => x.sum(-1) },
  { family: "reduce", name: "mean over C", fn: (x) => x.mean(-1) },
  { family: "reduce", name: "max over C", fn: (x) => x.max(-1).values },
  { family: "reduce", name: "sum over B", fn: (x) => x.sum(0) },
  { family: "layout", name: "permute (0, 2, 1)", fn: (x) => x.permute([0, 2, 1]) },
  { family: "layout", name: "transpose (-2, -1), heads", fn: (x) => x.reshape([B, T, 16, 64]).transpose(1, 2) },
  { family: "layout", name: "narrow C to half", fn: (x) => x.narrow(2, 256, 512) },
  { family: "layout", name: "reshape of a permuted view", fn: (x) => x.permute([1, 0, 2]).reshape([T, B * C]) },
  {
    family: "layout",
    name: "cat of two halves on C",
    fn: (x) => wnn.cat([x.narrow(2, 0, 512), x.narrow(2, 512, 512)], 2),
  },
];

const ELEMENTWISE_BAR = 3;

export function runOps(log: (line: string) => void): OpsResult {
  const n = B * T * C;
  const src = new Float32Array(n).map((_, i) => Math.sin(i)),
    dst = new Float32Array(n);
  // the copy repeated 20 times per call, so the CPU clock's granularity does not matter
  const copy20 = measure(() => {
    for (let k = 0; k < 20; k++) dst.set(src);
  });
  const copy: OpTime = { cpu_ms: copy20.cpu_ms / 20, wall_ms: copy20.wall_ms / 20 };
  wnn.manualSeed(1);
  // operands made inside a scope and kept: they live in the wasm heap, as the activations of a scoped step do
  const make = (shape: number[], positive: boolean): wnn.Tensor =>
    wnn.tidy(() => wnn.keep((positive ? wnn.rand(shape).add(0.5) : wnn.randn(shape)).requiresGrad_()));
  log(
    `  ops on (${B}, ${T}, ${C}) float32 (${((4 * n) / 2 ** 20).toFixed(0)} MiB), inside tidy; copy (Float32Array.set) ${copy.cpu_ms.toFixed(3)} ms CPU, ${copy.wall_ms.toFixed(3)} ms wall`,
  );
  log(
    `  ${"op (CPU ms per call; wall median in brackets)".padEnd(34)} ${"forward".padStart(16)} ${"× copy".padStart(7)} ${"backward".padStart(16)} ${"× copy".padStart(7)}`,
  );
  const rows: OpRow[] = [];
  for (const c of CASES) {
    const x = make([B, T, C], c.positive ?? false);
    const o = c.other ? make(c.other, c.positive ?? false) : x;
    const dy = wnn.tidy(() => wnn.keep(wnn.randn(c.fn(x, o).shape)));
    const fwd = measure(() => wnn.tidy(() => void c.fn(x, o)));
    const both = measure(() =>
      wnn.tidy(() => {
        c.fn(x, o).backward(dy);
        x.grad?.dispose();
        x.grad = null;
        if (o !== x) {
          o.grad?.dispose();
          o.grad = null;
        }
      }),
    );
    const bwd: OpTime = {
      cpu_ms: Math.max(0, both.cpu_ms - fwd.cpu_ms),
      wall_ms: Math.max(0, both.wall_ms - fwd.wall_ms),
    };
    const row: OpRow = {
      family: c.family,
      name: c.name,
      forward: fwd,
      backward: bwd,
      forward_x_copy: fwd.cpu_ms / copy.cpu_ms,
      backward_x_copy: bwd.cpu_ms / copy.cpu_ms,
    };
    rows.push(row);
    const bar =
      c.family === "unary" || c.family === "binary" ? (row.forward_x_copy <= ELEMENTWISE_BAR ? "" : "  > 3×") : "";
    const f = (t: OpTime): string => `${t.cpu_ms.toFixed(3)} (${t.wall_ms.toFixed(3)})`.padStart(16);
    log(
      `  ${`${c.family}: ${c.name}`.padEnd(34)} ${f(fwd)} ${row.forward_x_copy.toFixed(2).padStart(7)} ${f(bwd)} ${row.backward_x_copy.toFixed(2).padStart(7)}${bar}`,
    );
    for (const t of new Set([x, o, dy])) t.dispose();
  }
  return { shape: [B, T, C], copy, rows };
}

/**
 * Runs bench/torch_ops.py (the same cases, shape and timing on PyTorch) on `threads` threads; the
 * environment is the caller's plus OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = threads. Returns why not on failure.
 */
export function runTorchOps(threads: number, script: string): TorchOps | string {
  const p = spawnSync("/usr/bin/python3", [script, String(threads)], {
    encoding: "utf8",
    env: { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) },
  });
  if (p.status !== 0) return `torch_ops.py failed: ${p.stderr.trim().split("\n").slice(-2).join(" | ")}`;
  const lines = p.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const head = lines[0] as { copy: OpTime; threads: number; torch: string };
  return { threads: head.threads, version: head.torch, copy: head.copy, rows: lines.slice(1) as TorchOps["rows"] };
}

/**
 * Ours beside PyTorch per op: the wall medians (PyTorch's CPU time also counts its autograd engine's thread,
 * and its mean is thrown by rare slow calls), each against its own copy, and the ratio ours / PyTorch.
 */
export function logOpsVsTorch(ours: OpsResult, torch: TorchOps, log: (line: string) => void): void {
  log(
    `  beside PyTorch ${torch.version} (${torch.threads} thread(s); its copy_ ${torch.copy.wall_ms.toFixed(3)} ms, ours ${ours.copy.wall_ms.toFixed(3)}): wall medians in ms per call, × each one's own copy, ours / torch`,
  );
  log(
    `  ${"op".padEnd(34)} ${"fwd ours".padStart(9)} ${"×".padStart(5)} ${"torch".padStart(7)} ${"×".padStart(5)} ${"o/t".padStart(5)}   ${"bwd ours".padStart(9)} ${"×".padStart(5)} ${"torch".padStart(7)} ${"×".padStart(5)} ${"o/t".padStart(5)}`,
  );
  for (const r of ours.rows) {
    const t = torch.rows.find((x) => x.name === r.name && x.family === r.family);
    if (!t) continue;
    const cell = (o: number, oc: number, th: number, tc: number): string =>
      `${o.toFixed(3).padStart(9)} ${(o / oc).toFixed(1).padStart(5)} ${th.toFixed(3).padStart(7)} ${(th / tc).toFixed(1).padStart(5)} ${(o / th).toFixed(2).padStart(5)}`;
    log(
      `  ${`${r.family}: ${r.name}`.padEnd(34)} ${cell(r.forward.wall_ms, ours.copy.wall_ms, t.forward.wall_ms, torch.copy.wall_ms)}   ${cell(r.backward.wall_ms, ours.copy.wall_ms, t.backward.wall_ms, torch.copy.wall_ms)}`,
    );
  }
}
