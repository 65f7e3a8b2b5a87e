// Sharded checkpoints on disk (Node only). A checkpoint folder holds one folder per save and a pointer:
//
//   DIR/step-000300/shard-00000-of-00004.safetensors    rank 0's chunks (sharded-checkpoint.ts says what they hold)
//   DIR/step-000300/shard-00001-of-00004.safetensors    ...
//   DIR/step-000300/index.json                          the layout and the run's other state (rank 0)
//   DIR/latest                                          "step-000300": the last complete save
//
// A save is atomic as a whole: every worker writes into DIR/step-000300.tmp/ (each file itself written to a
// temporary name and renamed), the workers meet at a barrier, and only then rank 0 writes the index, renames
// the folder to its final name and rewrites `latest` (also by rename). A worker that dies during the save never
// reaches the barrier: the others fail with a CollectiveError, the .tmp folder is never renamed, and `latest`
// still names the previous save, which stays loadable. The save before the previous one is removed.

import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { LoadError } from "../engine/errors.js";
import { readCheckedJson, readCheckedText } from "../io/checked-file-node.js";
import { loadSafetensors, saveSafetensors, writeFileAtomic } from "../io/node.js";
import type { Communicator } from "./collectives.js";
import { checkIndex, reassemble, type ShardedIndex, type ShardTensors } from "./sharded-checkpoint.js";

export const LATEST = "latest";
const INDEX = "index.json";
const stepDir = (step: number): string => `step-${String(step).padStart(6, "0")}`;
const shardFile = (r: number, S: number): string =>
  `shard-${String(r).padStart(5, "0")}-of-${String(S).padStart(5, "0")}.safetensors`;

export interface SaveShardedOptions {
  /** tests: called on every worker after the folder exists and before it writes its shard */
  beforeWrite?: () => void;
}

/**
 * Every worker writes its shard (`tensors`, or null when it has nothing to write: DDP's ranks > 0); rank 0 passes
 * the index (the other ranks null). A collective. Returns the folder written.
 */
export function saveShardedCheckpoint(
  dir: string,
  comm: Communicator,
  tensors: ShardTensors | null,
  index: ShardedIndex | null,
  opts: SaveShardedOptions = {},
): string {
  const head = new Float32Array([index?.step ?? 0, index?.shards ?? 0]); // rank 0's: every worker names the same files
  comm.broadcast(head, 0);
  const name = stepDir(head[0]!),
    S = head[1]!;
  const tmp = join(dir, `${name}.tmp`);
  if (comm.rank === 0) {
    rmSync(tmp, { recursive: true, force: true }); // what a failed save left
    mkdirSync(tmp, { recursive: true });
  }
  comm.barrier(); // the folder exists
  opts.beforeWrite?.();
  if (tensors) saveSafetensors(join(tmp, shardFile(comm.rank, S)), tensors);
  comm.barrier(); // every shard is on disk
  if (comm.rank === 0) {
    writeFileAtomic(join(tmp, INDEX), [new TextEncoder().encode(JSON.stringify(index))]);
    const final = join(dir, name);
    const previous = readLatest(dir);
    rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
    writeFileAtomic(join(dir, LATEST), [new TextEncoder().encode(name + "\n")]);
    // keep this save and the one before it
    for (const f of readdirSync(dir))
      if (/^step-\d+(\.tmp)?$/.test(f) && f !== name && f !== previous)
        rmSync(join(dir, f), { recursive: true, force: true });
  }
  comm.barrier(); // the save is complete for everyone
  return join(dir, name);
}

function readLatest(dir: string): string | null {
  const p = join(dir, LATEST);
  if (!existsSync(p)) return null;
  const name = readCheckedText(p, { maxBytes: 256 }).trim();
  if (!/^step-\d+$/.test(name))
    throw new LoadError(`${p}: expected the name of a save (step-NNNNNN), got ${JSON.stringify(name.slice(0, 40))}`);
  return name;
}

/** True when `dir` holds a sharded checkpoint (a `latest` pointer). */
export function isShardedCheckpoint(dir: string): boolean {
  return existsSync(join(dir, LATEST));
}

/** The last complete save of `dir`: its index, every parameter whole, and the whole optimizer's state. */
export function loadShardedCheckpoint(dir: string): { index: ShardedIndex } & ReturnType<typeof reassemble> {
  const name = readLatest(dir);
  if (name === null) throw new LoadError(`${dir}: no sharded checkpoint here (no ${LATEST} file)`);
  const folder = join(dir, name);
  const index = checkIndex(readCheckedJson(join(folder, INDEX)), join(folder, INDEX));
  const read = (r: number): ShardTensors => loadSafetensors(join(folder, shardFile(r, index.shards))).tensors;
  return { index, ...reassemble(index, read) };
}
