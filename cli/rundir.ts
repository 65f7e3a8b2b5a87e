// A run's folder, runs/<name>/: checkpoint.safetensors, log.jsonl (one JSON object per line, appended
// as the run goes), loss.png, and whatever else the command writes.

import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../src/io/node.js";
import { UsageError } from "./args.js";

export const CHECKPOINT = "checkpoint.safetensors";

/** runs/<prefix>-<local time>, e.g. runs/gpt-2024-05-01-14-03-59 */
export function defaultRunDir(prefix: string, now = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, "0");
  const stamp = `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}-${p(now.getHours())}-${p(now.getMinutes())}-${p(now.getSeconds())}`;
  return join("runs", `${prefix}-${stamp}`);
}

/** Create the folder of a new run; a folder that already holds a checkpoint is refused (it would be overwritten). */
export function createRunDir(dir: string, command: string): void {
  if (existsSync(join(dir, CHECKPOINT))) {
    throw new UsageError(`${command}: ${dir} already holds a run (${CHECKPOINT}); continue it with --resume ${dir}, or choose another --out`);
  }
  mkdirSync(dir, { recursive: true });
}

/** A run's checkpoint file, given the run's folder or the file itself. */
export function checkpointPath(dirOrFile: string): string {
  return dirOrFile.endsWith(".safetensors") ? dirOrFile : join(dirOrFile, CHECKPOINT);
}

/** log.jsonl: one JSON object per line. */
export class JsonlLog {
  constructor(readonly path: string) {}

  append(entry: Record<string, unknown>): void {
    appendFileSync(this.path, JSON.stringify(entry) + "\n");
  }

  /** Every entry (an absent file has none; a torn last line, from a killed process, is dropped). */
  read(): Record<string, unknown>[] {
    if (!existsSync(this.path)) return [];
    const out: Record<string, unknown>[] = [];
    for (const line of readFileSync(this.path, "utf8").split("\n")) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a line cut short by a kill: the checkpoint does not include it either
      }
    }
    return out;
  }

  /** Keep only the entries `keep` accepts (a resumed run drops what came after its checkpoint). */
  retain(keep: (entry: Record<string, unknown>) => boolean): Record<string, unknown>[] {
    const kept = this.read().filter(keep);
    writeFileAtomic(this.path, [new TextEncoder().encode(kept.map((e) => JSON.stringify(e) + "\n").join(""))]);
    return kept;
  }
}
