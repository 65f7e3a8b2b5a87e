// The peers of ../shared/peers (PyTorch via Debian's /usr/bin/python3 + OpenBLAS; TensorFlow.js when
// its npm set is installed there), run on the same workloads in the same invocation. Absent peers are
// skipped with a note: a fresh clone without ../shared/peers prints only our figures.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export interface PeerW1 {
  m: number;
  k: number;
  n: number;
  median_ms: number;
  gflops_at_median: number;
  runs: number;
}

export interface PeerResult {
  peer: string;
  threads: number;
  w1?: PeerW1[];
  w2?: { median_ms: number; tokens_per_s_at_median: number };
  w3?: {
    forward: { median_ms: number };
    generate: {
      median_ms: number;
      tokens_per_s_total_at_median: number;
      prefill_median_ms: number;
      decode_median_ms_per_token: number;
    };
  };
}

/** $WNN_PEERS, else ../shared/peers next to the repository root (or next to its parent, for worktrees), if present. */
export function peersDir(repoRoot: string): string | null {
  const candidates = process.env["WNN_PEERS"]
    ? [process.env["WNN_PEERS"]]
    : [resolve(repoRoot, "../shared/peers"), resolve(repoRoot, "../../shared/peers")];
  return candidates.find((dir) => existsSync(join(dir, "torch_bench.py"))) ?? null;
}

function multiarch(): string {
  const r = spawnSync("dpkg-architecture", ["-qDEB_HOST_MULTIARCH"], { encoding: "utf8" });
  if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  return process.arch === "arm64" ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
}

/** Why PyTorch cannot run here, or null when it can. */
export function torchMissing(dir: string | null): string | null {
  if (!dir) return "../shared/peers not found";
  if (!existsSync("/usr/bin/python3")) return "/usr/bin/python3 not found";
  const r = spawnSync("/usr/bin/python3", ["-c", "import torch"], { encoding: "utf8" });
  if (r.status !== 0) return "torch is not installed for /usr/bin/python3 (apt-get install python3-torch)";
  if (!existsSync(`/usr/lib/${multiarch()}/openblas-openmp`))
    return "OpenBLAS (openmp) missing (apt-get install libopenblas0-openmp)";
  return null;
}

/**
 * Runs torch_bench.py for the given workloads on `threads` threads with the OpenMP OpenBLAS (the
 * peers README's baseline: torch.set_num_threads(N) plus OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = N).
 */
export function runTorch(
  dir: string,
  threads: number,
  workloads: string,
  log: (line: string) => void,
): PeerResult | null {
  const tmp = mkdtempSync(join(tmpdir(), "wnn-bench-"));
  const outFile = join(tmp, "torch.json");
  const env = {
    ...process.env,
    LD_LIBRARY_PATH: `/usr/lib/${multiarch()}/openblas-openmp`,
    OMP_NUM_THREADS: String(threads),
    OPENBLAS_NUM_THREADS: String(threads),
  };
  const r = spawnSync(
    "/usr/bin/python3",
    [
      join(dir, "torch_bench.py"),
      "--threads",
      String(threads),
      "--workloads",
      workloads,
      "--label",
      "wnn-bench",
      "--out",
      outFile,
    ],
    { env, encoding: "utf8" },
  );
  for (const line of (r.stdout ?? "").split("\n")) if (line.trim()) log(`  | ${line}`);
  try {
    if (r.status !== 0) {
      log(`  PyTorch peer failed (exit ${r.status}): ${(r.stderr ?? "").trim().split("\n").slice(-3).join(" / ")}`);
      return null;
    }
    return JSON.parse(readFileSync(outFile, "utf8")) as PeerResult;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Runs tfjs_bench.mjs (wasm backend, 1 thread) when the peers' npm set is installed. */
export function runTfjs(
  dir: string | null,
  workloads: string,
  log: (line: string) => void,
  extraArgs: string[] = [],
): PeerResult | null {
  if (!dir || !existsSync(join(dir, "node_modules/@tensorflow/tfjs-backend-wasm"))) return null;
  const tmp = mkdtempSync(join(tmpdir(), "wnn-bench-"));
  const outFile = join(tmp, "tfjs.json");
  const r = spawnSync(
    process.execPath,
    [join(dir, "tfjs_bench.mjs"), "--backend=wasm", `--workloads=${workloads}`, `--out=${outFile}`, ...extraArgs],
    { cwd: dir, encoding: "utf8" },
  );
  for (const line of (r.stdout ?? "").split("\n")) if (line.trim()) log(`  | ${line}`);
  try {
    if (r.status !== 0) {
      log(`  TensorFlow.js peer failed (exit ${r.status})`);
      return null;
    }
    return JSON.parse(readFileSync(outFile, "utf8")) as PeerResult;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
