// The workers of `wnn train tacotron2 | fastspeech2 | vocoder --workers N` (ranks 1 … N−1; the command's own
// thread is rank 0, cli/tts.ts): each builds the same TtsTrainer as rank 0 (new, or from the run's checkpoint),
// makes it one worker of N (TtsTrainer.dataParallel) and runs the shared training loop in step with rank 0: the
// same steps and evaluations, the same collectives, the checkpoint's consolidation when rank 0 saves (rank 0 writes
// it). Whether to stop, and whether to evaluate once more at the step reached (the CPU budget spent), is rank 0's
// decision, heard after every unit of work (agreeToStop, one broadcast).

import "../src/index-node.js";
import * as wnn from "../src/index.js";
import type { Communicator } from "../src/distributed/collectives.js";
import type { StrategyName } from "../src/distributed/data-parallel.js";
import { runLoop } from "../src/recipes/loop.js";
import { TtsTrainer, savedTtsRun, type TtsModelName, type TtsTrainOptions } from "../src/recipes/tts-train.js";
import { agreeToStop } from "./gpt-worker.js";
import { loadRunCheckpoint } from "./rundir.js";
import { evaluationAt, ttsData } from "./tts.js";

export interface TtsWorkerArgs {
  name: TtsModelName;
  strategy: StrategyName;
  /** a new run: its options; a resumed one: the run's folder and the options that may change */
  fresh?: TtsTrainOptions;
  resume?: { dir: string; overrides: Partial<Pick<TtsTrainOptions, "steps" | "evalEvery">> };
}

/** This worker's trainer, new or from the run's checkpoint (the same as rank 0's), made worker comm.rank of N. */
export function ttsWorkerTrainer(comm: Communicator, a: TtsWorkerArgs): TtsTrainer {
  const silent = { write: () => true };
  let t: TtsTrainer;
  if (a.resume) {
    const { ckpt, checked } = loadRunCheckpoint(a.resume.dir, `train ${a.name}`, savedTtsRun);
    t = TtsTrainer.fromCheckpoint(ckpt, ttsData(checked.options, silent), a.resume.overrides);
  } else t = new TtsTrainer(a.name, a.fresh!, ttsData(a.fresh!, silent));
  t.dataParallel(comm, a.strategy);
  return t;
}

export async function ttsWorker(comm: Communicator, a: TtsWorkerArgs): Promise<number> {
  wnn.setNumThreads(1); // one thread per worker
  const t = ttsWorkerTrainer(comm, a);
  comm.barrier(); // every worker has read the checkpoint before rank 0 may write one
  const save = (): void => t.save(() => {}); // rank 0 writes the consolidated one
  const shouldStop = (): boolean => agreeToStop(comm, false);
  await runLoop(t, { onEval: save }, { shouldStop });
  // the CPU budget spent: rank 0 evaluates (and so saves) at the step reached, as the loop does at the last step
  if (agreeToStop(comm, false)) await runLoop(evaluationAt(t), { onEval: save }, { shouldStop });
  save(); // the save after the loop
  return t.step;
}
