// The memory budget of the commands that train: before a run allocates anything of its size, its training memory
// is estimated by running its own code at two small batches (src/recipes/memory-probe.ts) and refused, in one
// line naming the options, when the estimate passes the budget. docs/limits.md says why it is done this way.

import { totalmem } from "node:os";
import { MemoryBudgetError } from "../src/engine/errors.js";
import { getBackend } from "../src/ops/kernels.js";
import type { Tensor } from "../src/engine/tensor.js";
import { estimateInferenceBytes, estimateTrainingBytes } from "../src/recipes/memory-probe.js";
import type { OptionSpec } from "./args.js";

/** The wasm backend's memory, where a training step's tensors live: wasm32 addresses 4 GiB. */
const WASM_BYTES = 4 * 2 ** 30;

/** `--max_memory GIB`, shared by every command that trains. */
export const MAX_MEMORY_OPTION: OptionSpec = {
  kind: "number",
  min: 0.001,
  max: 1_000_000,
  help: "the memory budget in GiB (gibibytes): a run whose estimated training memory passes it is refused before it starts (default: 3/4 of this machine's memory, at most 4 on the wasm backend)",
};

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(bytes < 2 ** 30 ? 2 : 1)} GiB`;

/** The budget in bytes, and how it was chosen (for the message). */
export function memoryBudget(maxMemoryGiB: number | undefined, inWasm = true): { bytes: number; why: string } {
  if (maxMemoryGiB !== undefined) return { bytes: Math.floor(maxMemoryGiB * 2 ** 30), why: "--max_memory" };
  const machine = 0.75 * totalmem();
  // (`inWasm` false: the tensors live outside a memory scope, in ordinary arrays, not in the wasm memory)
  if (inWasm && getBackend() === "wasm" && WASM_BYTES < machine)
    return { bytes: WASM_BYTES, why: "the wasm backend's 4 GiB of memory" };
  return { bytes: Math.floor(machine), why: `3/4 of this machine's ${gib(totalmem())}` };
}

/** The refusal: one line naming the options, the estimate and how to raise the budget. */
export function overBudget(
  cmd: string,
  options: string,
  need: number,
  budget: { bytes: number; why: string },
  how: string,
  atLeast = false,
): Error {
  return new MemoryBudgetError(
    `${cmd}: ${options ? `${options}: ` : ""}this would need ${atLeast ? "more than" : "about"} ${gib(need)} (${how}), more than the budget of ${gib(budget.bytes)} (${budget.why}); choose smaller sizes or batch, or raise the budget with --max_memory (in GiB)`,
  );
}

/**
 * Estimate the training memory of `run` (the command's own run at a batch b, stopped after its first step) at
 * `batch`, and refuse it past the budget. `options` names what the user chose ("--batch_size 65536"); `held` is
 * what the command already holds that the probe does not allocate (a model loaded before it); `atBatch` counts
 * the step at `batch` itself rather than on the line through batches of 2 and 4 (estimateTrainingBytes);
 * `workers`, called after the probe, gives what data-parallel workers add (workerStateBytes).
 */
export function checkTrainingMemory(
  cmd: string,
  options: string,
  batch: number,
  maxMemoryGiB: number | undefined,
  run: (batch: number) => void,
  held = 0,
  atBatch = false,
  workers?: () => number,
): void {
  const budget = memoryBudget(maxMemoryGiB);
  const est = estimateTrainingBytes(run, batch, Math.max(0, budget.bytes - held), atBatch);
  // data-parallel workers: what their replicas add (workerStateBytes), once the run has counted the model
  held += workers ? workers() : 0;
  const at = atBatch || batch < 4 ? "at this batch" : "at small batches";
  if (held + est.bytes > budget.bytes)
    throw overBudget(
      cmd,
      options,
      held + est.bytes,
      budget,
      est.how === "counted" ? `counted on shape-only tensors ${at}` : `measured ${at}`,
      est.stopped,
    );
}

/**
 * Estimate the memory of an inference (`run(b)`: one step of a sampler at batch b, returning its output; no
 * gradients, no memory scope) at `batch` and refuse it past the budget: `held` (the weights already loaded) plus
 * twice the peak of its live buffers counted on shape-only tensors (estimateInferenceBytes). The count is a lower
 * bound — a buffer dies no sooner than after its last use — and V8 keeps a function's locals until it returns:
 * the peak measured with the collector forced before every kernel was 1.3 to 1.6 times the count
 * (test/cli/generate-memory.test.ts checks it is at most twice). The sampler keeps its tensors in ordinary
 * arrays, not in the wasm memory: the budget is 3/4 of the machine's.
 */
export const LIVE_PEAK_FACTOR = 2;

export function checkInferenceMemory(
  cmd: string,
  options: string,
  batch: number,
  maxMemoryGiB: number | undefined,
  run: (batch: number) => Tensor | readonly Tensor[],
  held = 0,
  heldWhat = "the weights",
): void {
  const budget = memoryBudget(maxMemoryGiB, false);
  const est = inferenceNeed(batch, run, held, budget.bytes, heldWhat);
  if (est.bytes > budget.bytes) throw overBudget(cmd, options, est.bytes, budget, est.how, est.stopped);
}

/**
 * What checkInferenceMemory weighs: `held` plus twice the live peak of `run(batch)` counted on shape-only tensors
 * (or, where it cannot be counted, the sum measured at small batches); `how` says which, for the message.
 */
export function inferenceNeed(
  batch: number,
  run: (batch: number) => Tensor | readonly Tensor[],
  held = 0,
  budgetBytes = Infinity,
  heldWhat = "the weights",
): { bytes: number; how: string; stopped: boolean; live: number | null } {
  const est = estimateInferenceBytes(run, batch, Math.max(0, budgetBytes - held));
  const live = est.how === "live";
  return {
    bytes: held + (live ? LIVE_PEAK_FACTOR * est.bytes : est.bytes),
    how: live
      ? `${heldWhat} and twice the peak of the buffers one step keeps at once, counted on shape-only tensors`
      : "measured at small batches",
    stopped: est.stopped,
    live: live ? est.bytes : null,
  };
}

/** The options the user gave, as they would be typed ("--batch_size 1024 --canvas 256"), numbers only. */
export function givenNumbers(given: Iterable<string>, values: Record<string, unknown>): string {
  return [...given]
    .filter((k) => typeof values[k] === "number" && k !== "max_memory")
    .map((k) => `--${k} ${values[k] as number}`)
    .join(" ");
}

/**
 * What N data-parallel workers hold beyond one process's parameters, gradients and AdamW moments (16Ψ bytes in
 * float32 for Ψ parameters, which a one-process estimate already counts): ZeRO's bytes per worker (Rajbhandari et
 * al. 2020, restated for float32: 4Ψ parameters, 4Ψ gradients, 8Ψ moments, the sharded parts divided by N) times N,
 * less 16Ψ. DDP holds N full replicas; ZeRO-1 shards the moments, ZeRO-2 the gradients too, FSDP everything (its
 * transient all-gathered unit is left out). The activations need nothing here: they split with the batch.
 */
export function workerStateBytes(strategy: string, workers: number, psi: number): number {
  const N = workers;
  const perWorker =
    strategy === "ddp"
      ? 16 * psi
      : strategy === "zero1"
        ? 8 * psi + (8 * psi) / N
        : strategy === "zero2"
          ? 4 * psi + (12 * psi) / N
          : (16 * psi) / N;
  return Math.max(0, N * perWorker - 16 * psi);
}
