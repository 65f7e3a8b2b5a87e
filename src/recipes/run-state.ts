// The checks every training run's checkpoint passes before anything is built from it, whatever the model:
// `wnn train <x> --resume`, `wnn sample`, `wnn generate` and `wnn finetune` read checkpoints written by a
// run, and a file with a valid checksum can still describe a model of a million layers, a step past the
// run's end, or a generator state that is not one. Each model's checkpoint reader (gpt2/train.ts
// `checkpointConfig`, ddpm/train.ts `ddpmCheckpointConfig`, the MNIST classifiers) calls these with its
// own numbers; the command line (cli/rundir.ts `loadRunCheckpoint`) adds the non-finite weights.
//
//   caps        each size of the config at most its cap, checked before the model is allocated
//   weights     the parameters the config implies against the weights the file holds: a config that
//               claims more than the file can be (a lower bound is enough) is refused before allocating
//   step        an integer from 0 to the run's last step
//   generators  every saved generator state a state ({ s: [4 uint32], spare }), not a number or a string
//
// Every problem is a LoadError naming the checkpoint's field. Browser-safe.

import { LoadError } from "../engine/errors.js";
import type { Tensor } from "../engine/tensor.js";
import { isGeneratorState } from "../io/checkpoint.js";

/** Each named size of `config` a positive integer (or 0 where `zeroOk`) at most its cap. */
export function checkCaps(
  what: string,
  config: Record<string, unknown>,
  caps: Readonly<Record<string, number>>,
  zeroOk: readonly string[] = [],
): void {
  for (const [k, cap] of Object.entries(caps)) {
    const v = config[k];
    const least = zeroOk.includes(k) ? 0 : 1;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < least)
      throw new LoadError(`${what}: ${k} is ${JSON.stringify(v) ?? "missing"}, expected an integer ≥ ${least}`);
    if (v > cap)
      throw new LoadError(
        `${what}: ${k} is ${v}, more than the ${cap.toLocaleString("en-US")} a checkpoint may describe`,
      );
  }
}

/** The number of values the checkpoint's weights hold. */
export function heldValues(tensors: Record<string, Tensor>): number {
  let n = 0;
  for (const t of Object.values(tensors)) n += t.numel();
  return n;
}

/**
 * The parameters a config implies (`atLeast`: a lower bound is enough) against the `held` values of the file:
 * refused when the config claims more than the file holds, before the model is allocated.
 */
export function checkImpliedSize(what: string, atLeast: number, held: number): void {
  if (atLeast > held) {
    throw new LoadError(
      `${what}: the config implies at least ${atLeast.toLocaleString("en-US")} parameters, but the file holds ${held.toLocaleString("en-US")} values`,
    );
  }
}

/** The step within [0, totalSteps] and every generator state (the checkpoint's `rng`, then `extra`'s named ones) a state. */
export function checkRunState(
  what: string,
  ckpt: { step: number; rng?: unknown; extra?: unknown },
  o: { totalSteps?: number; generators?: readonly string[] } = {},
): void {
  if (!Number.isSafeInteger(ckpt.step) || ckpt.step < 0)
    throw new LoadError(`${what}: step ${JSON.stringify(ckpt.step)} is not an integer ≥ 0`);
  if (o.totalSteps !== undefined && ckpt.step > o.totalSteps)
    throw new LoadError(`${what}: the checkpoint is at step ${ckpt.step}, past the ${o.totalSteps} steps of its run`);
  if (ckpt.rng !== undefined && !isGeneratorState(ckpt.rng))
    throw new LoadError(`${what}: rng is not a generator state { s: [4 uint32, not all 0], spare: number | null }`);
  const extra = ckpt.extra;
  if (extra === undefined) return;
  if (typeof extra !== "object" || extra === null || Array.isArray(extra))
    throw new LoadError(`${what}: the checkpoint's extra state is not an object`);
  for (const k of o.generators ?? []) {
    if (k in extra && !isGeneratorState((extra as Record<string, unknown>)[k]))
      throw new LoadError(
        `${what}: extra.${k} is not a generator state { s: [4 uint32, not all 0], spare: number | null }`,
      );
  }
}
