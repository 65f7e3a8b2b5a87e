// Backend selection. Ops ask `kernels()` for the active table; a backend that implements only some
// kernels is completed with the reference ones, so every entry is always present.

import { ArgumentError, MemoryBudgetError } from "../engine/errors.js";
import type { Backend, KernelTable } from "../backend/backend.js";
import { referenceBackend, referenceKernels } from "../backend/reference/backend.js";
import { setThreads, threads, wasmAvailable, wasmBackend } from "../backend/wasm/index.js";
import { residentAllocator } from "../backend/wasm/heap.js";
import { setMemoryErrorFactory, wasm } from "../backend/wasm/instance.js";
import { setFloat32Add, setFloat32Copy, setResidentAllocator } from "../engine/scope.js";
import { inMetaExecution, noteKernelArgs } from "../engine/meta.js";

const backends = new Map<string, Backend>([["reference", referenceBackend]]);
let activeName = "reference";
let active: KernelTable = referenceKernels;

/**
 * Under metaExecute (src/engine/meta.ts) every kernel does nothing: its arguments are meta storages with no
 * values, and the outputs' shapes are the op's, not the kernel's. A kernel that returns a number returns 0.
 */
const NO_KERNELS = Object.fromEntries(
  Object.keys(referenceKernels).map((name) => [
    name,
    (...args: unknown[]) => {
      noteKernelArgs(args); // the storages' last use, for the peak of live buffers (metaLivePeak)
      return 0;
    },
  ]),
) as unknown as KernelTable;

/** The active kernel table (no-ops under metaExecute). */
export function kernels(): KernelTable {
  return inMetaExecution() ? NO_KERNELS : active;
}

/** The reference kernel table, whatever backend is active (float64 always runs here). */
export function reference(): KernelTable {
  return inMetaExecution() ? NO_KERNELS : referenceKernels;
}

export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
}

export function setBackend(name: string): void {
  const b = backends.get(name);
  if (!b)
    throw new ArgumentError(
      `setBackend: unknown backend ${JSON.stringify(name)}; available: ${[...backends.keys()].join(", ")}`,
    );
  activeName = name;
  active = { ...referenceKernels, ...b.kernels };
  // inside a memory scope, outputs live in the wasm heap while its kernels run (src/engine/scope.ts)
  setResidentAllocator(name === "wasm" ? residentAllocator : null);
  // the tape's gradient sums (src/engine) run on this backend's add kernel: the same float32 sums as a loop
  const add = active.add;
  setFloat32Add((a, b, out) => add(a, [1], b, [1], out, [out.length]));
  // and a gradient's kept copy on its layout copy (one memory.copy between two blocks of the wasm heap)
  const stridedCopy = active.stridedCopy;
  setFloat32Copy((a, out) => stridedCopy(a, 0, [1], [out.length], out));
}

/**
 * Threads used by large kernels of the wasm backend (default: every core where a thread pool is
 * installed, i.e. in Node through the package's Node entry point; 1 elsewhere). Small kernels always
 * run on the calling thread.
 */
/** The most worker threads setNumThreads accepts: each costs memory, and no machine we know gains past it. */
export const MAX_THREADS = 256;

export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS)
    throw new ArgumentError(`setNumThreads: expected an integer from 1 to ${MAX_THREADS}, got ${n}`);
  setThreads(n);
}

export function getNumThreads(): number {
  return threads();
}

export function getBackend(): string {
  return activeName;
}

/** The active backend, its SIMD features and its threads, e.g. "wasm (SIMD + FMA), 2 threads" (what a run prints). */
export function backendSummary(): string {
  const name = getBackend();
  const n = name === "wasm" ? getNumThreads() : 1;
  const simd = name === "wasm" ? (wasm().relaxed ? " (SIMD + FMA)" : " (SIMD)") : "";
  return `${name}${simd}, ${n} thread${n === 1 ? "" : "s"}`;
}

export function listBackends(): string[] {
  return [...backends.keys()];
}

registerBackend(wasmBackend);
// the wasm memory's refusal to grow (4 GiB of wasm32, or a host out of memory) is the library's typed error
setMemoryErrorFactory((message) => new MemoryBudgetError(message));

/**
 * The backend at load: $WNN_BACKEND ("reference" or "wasm") where a `process.env` exists, else wasm
 * where WebAssembly SIMD exists, else the reference.
 */
export function defaultBackend(): string {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.["WNN_BACKEND"];
  if (env !== undefined && env !== "") {
    if (env !== "reference" && env !== "wasm")
      throw new ArgumentError(`WNN_BACKEND=${JSON.stringify(env)}: expected "reference" or "wasm"`);
    if (env === "wasm" && !wasmAvailable())
      throw new ArgumentError("WNN_BACKEND=wasm: this host has no WebAssembly SIMD");
    return env;
  }
  return wasmAvailable() ? "wasm" : "reference";
}

setBackend(defaultBackend());

export type { Backend, KernelTable } from "../backend/backend.js";
