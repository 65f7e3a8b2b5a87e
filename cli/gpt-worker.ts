// The workers of `wnn train gpt --workers N` (ranks 1 … N−1; the command's own thread is rank 0, cli/gpt.ts):
// each builds the same trainer as rank 0 (new, or from the run's checkpoint), and runs the shared training loop in
// step with it: the same steps and estimates, the same collectives, the checkpoint's consolidation when rank 0
// saves; whether to stop is rank 0's decision, broadcast after every unit of work (agreeToStop).

import "../src/index-node.js";
import * as wnn from "../src/index.js";
import type { Communicator } from "../src/distributed/collectives.js";
import type { Checkpoint, LoadedCheckpoint } from "../src/io/checkpoint.js";
import { saveShardedCheckpoint } from "../src/distributed/sharded-checkpoint-node.js";
import { SHARDED_DIR, loadLatestCheckpoint } from "./rundir.js";
import type { GPTConfig } from "../src/models/gpt2/model.js";
import type { TokenSplits, TrainConfig } from "../src/models/gpt2/train.js";
import { ParallelGPTTrainer, type ParallelOptions } from "../src/recipes/gpt-parallel.js";
import { runLoop } from "../src/recipes/loop.js";

export interface GptWorkerArgs {
  data: TokenSplits;
  parallel: ParallelOptions;
  threads: number;
  /** a new run: its configs; a resumed one: the checkpoint file and the options that may change */
  fresh?: { model: GPTConfig; train: TrainConfig };
  resume?: { dir: string; overrides: Partial<TrainConfig> };
  /** save sharded checkpoints into this folder (instead of consolidating them on rank 0) */
  shardedDir?: string;
}

/** The folder of a run's sharded checkpoints. */
export { SHARDED_DIR };

/**
 * The checkpoint a run continues from: its consolidated checkpoint.safetensors or its sharded saves (reassembled
 * into one process's checkpoint), whichever is at the later step.
 */
export const loadRunCheckpoint = (dir: string): LoadedCheckpoint => loadLatestCheckpoint(dir);

/** Every worker's part of a save: the consolidated checkpoint (rank 0 writes it) or the sharded one. A collective. */
export function saveRun(
  job: ParallelGPTTrainer,
  meta: Record<string, unknown>,
  shardedDir: string | undefined,
  write: (c: Checkpoint) => void,
): void {
  if (shardedDir === undefined) return job.checkpoint(meta, write);
  const { tensors, index } = job.shardedCheckpoint(meta);
  saveShardedCheckpoint(shardedDir, job.dp.comm, tensors, index);
}

/** Rank 0's decision (stop or not), the same on every worker: one broadcast. */
export function agreeToStop(comm: Communicator, mine: boolean): boolean {
  const flag = new Float32Array([mine ? 1 : 0]);
  comm.broadcast(flag, 0);
  return flag[0] === 1;
}

/** Builds this worker's trainer, new or from the checkpoint (the same on every worker). */
export function parallelTrainer(comm: Communicator, a: GptWorkerArgs): ParallelGPTTrainer {
  if (a.resume)
    return ParallelGPTTrainer.fromCheckpoint(
      loadRunCheckpoint(a.resume.dir),
      a.data,
      a.resume.overrides,
      comm,
      a.parallel,
    );
  return ParallelGPTTrainer.create(a.fresh!.model, a.fresh!.train, a.data, comm, a.parallel);
}

export async function gptWorker(comm: Communicator, a: GptWorkerArgs): Promise<number> {
  wnn.setNumThreads(a.threads);
  const job = parallelTrainer(comm, a);
  const consolidate = (): void => saveRun(job, {}, a.shardedDir, () => {}); // rank 0 writes; the others take part
  await runLoop(job, { onEval: consolidate }, { shouldStop: () => agreeToStop(comm, false) });
  consolidate(); // the save after the loop
  return job.step;
}
