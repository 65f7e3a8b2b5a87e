// The workers of `wnn train <model> --workers N` (ranks 1 … N−1; the command's own thread is rank 0,
// cli/zoo-train.ts): each builds the same ZooTrainer as rank 0 (new, or from the run's checkpoint), makes it one
// worker of N (ZooTrainer.dataParallel) and runs the shared training loop in step with rank 0: the same steps and
// evaluations, the same collectives, the checkpoint's consolidation when rank 0 saves (rank 0 writes it); whether
// to stop is rank 0's decision, heard after every unit of work (agreeToStop, one broadcast).

import "../src/index-node.js";
import * as wnn from "../src/index.js";
import type { Communicator } from "../src/distributed/collectives.js";
import type { StrategyName } from "../src/distributed/data-parallel.js";
import { runLoop } from "../src/recipes/loop.js";
import { ZooTrainer, kindOf, savedRun, type ZooTrainOptions } from "../src/recipes/zoo-train.js";
import { agreeToStop } from "./gpt-worker.js";
import { loadRunCheckpoint } from "./rundir.js";
import type { Checkpoint } from "../src/io/checkpoint.js";
import { saveShardedCheckpoint } from "../src/distributed/sharded-checkpoint-node.js";
import { taskData } from "./zoo-train.js";

export interface ZooWorkerArgs {
  name: string;
  strategy: StrategyName;
  /** recompute each Transformer block's forward in backward */
  checkpointing?: boolean;
  /** save sharded checkpoints into this folder (instead of consolidating them on rank 0) */
  shardedDir?: string;
  /** a new run: its options; a resumed one: the run's folder and the options that may change */
  fresh?: ZooTrainOptions;
  resume?: { dir: string; overrides: Partial<Pick<ZooTrainOptions, "steps" | "evalEvery">> };
}

/** This worker's trainer, new or from the run's checkpoint (the same as rank 0's), made worker comm.rank of N. */
export function zooWorkerTrainer(comm: Communicator, a: ZooWorkerArgs): ZooTrainer {
  const data = taskData(kindOf(a.name));
  const t = a.resume
    ? ZooTrainer.fromCheckpoint(
        loadRunCheckpoint(a.resume.dir, `train ${a.name}`, savedRun, { sharded: true }).ckpt,
        data,
        a.resume.overrides,
      )
    : new ZooTrainer(a.name, a.fresh!, data);
  t.dataParallel(comm, a.strategy, { checkpointing: a.checkpointing });
  return t;
}

/**
 * Every worker's part of a save: the consolidated checkpoint (rank 0 writes it; the others take part in the
 * consolidation) or, with shardedDir, the sharded one (each worker writes its shard). One process: write.
 */
export function saveZooRun(
  t: ZooTrainer,
  comm: Communicator | undefined,
  shardedDir: string | undefined,
  write: (c: Checkpoint) => void,
): void {
  if (shardedDir === undefined || comm === undefined) return t.save(write);
  const { tensors, index } = t.shardedCheckpoint();
  saveShardedCheckpoint(shardedDir, comm, tensors, index);
}

export async function zooWorker(comm: Communicator, a: ZooWorkerArgs): Promise<number> {
  wnn.setNumThreads(1); // one thread per worker
  const t = zooWorkerTrainer(comm, a);
  const save = (): void => saveZooRun(t, comm, a.shardedDir, () => {}); // rank 0 writes the consolidated one
  await runLoop(t, { onEval: save }, { shouldStop: () => agreeToStop(comm, false) });
  save(); // the save after the loop
  return t.step;
}
