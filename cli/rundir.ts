// A run's folder, runs/<name>/: checkpoint.safetensors, log.jsonl (one JSON object per line, appended
// as the run goes), loss.png, and whatever else the command writes.

import {
  accessSync,
  appendFileSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { LoadError } from "../src/engine/errors.js";
import type { LoadedCheckpoint } from "../src/io/checkpoint.js";
import { describeNonFinite } from "../src/io/finite.js";
import { loadCheckpoint, writeFileAtomic } from "../src/io/node.js";
import { isShardedCheckpoint, loadShardedCheckpoint } from "../src/distributed/sharded-checkpoint-node.js";
import { toCheckpoint } from "../src/distributed/sharded-checkpoint.js";
import type { NonFiniteGuard } from "../src/recipes/loop.js";
import { UsageError } from "./args.js";

export const CHECKPOINT = "checkpoint.safetensors";

/** runs/<prefix>-<local time>, e.g. runs/gpt-2024-05-01-14-03-59 */
export function defaultRunDir(prefix: string, now = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, "0");
  const stamp = `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}-${p(now.getHours())}-${p(now.getMinutes())}-${p(now.getSeconds())}`;
  return join("runs", `${prefix}-${stamp}`);
}

/** Why an errno failed, in words. */
function why(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    EACCES: "permission denied",
    EPERM: "permission denied",
    EROFS: "the file system is read-only",
    ENOTDIR: "a part of the path is a file, not a folder",
    ENOENT: "the path does not exist",
    EEXIST: "it exists already",
    ENOSPC: "the disk is full",
    ENAMETOOLONG: "the name is too long",
    ELOOP: "too many symbolic links",
  };
  return (code && words[code]) ?? (e as Error).message.split("\n")[0]!;
}

/** Folders a run is never written under: the kernel's views of itself and the devices. */
const SYSTEM = /^\/(proc|sys|dev)(\/|$)/;

/**
 * Create the folder of a new run. Refused, with one line saying why: a folder that already holds a run
 * (it would be overwritten), a folder that holds anything else (files this command did not write are
 * never replaced), a path that is a file or a device, a path under /proc, /sys or /dev, and a folder that
 * cannot be created or written. The folders are made one at a time from the nearest existing one (Node's
 * recursive mkdir loops forever on some paths under /proc).
 */
export function createRunDir(dir: string, command: string): void {
  for (const d of checkRunDir(dir, command)) {
    try {
      mkdirSync(d);
    } catch (e) {
      throw new UsageError(`${command}: --out ${dir}: cannot create ${d}: ${why(e)}`);
    }
  }
  checkWritable(dir, command);
}

/** The checks of createRunDir, nothing created: → the folders that would have to be made, outermost first. */
export function checkRunDir(dir: string, command: string): string[] {
  const refuse = (msg: string): never => {
    throw new UsageError(`${command}: --out ${dir}: ${msg}`);
  };
  const abs = resolve(dir);
  if (SYSTEM.test(abs)) refuse("a run cannot be written under /proc, /sys or /dev");
  if (existsSync(join(dir, CHECKPOINT))) {
    throw new UsageError(
      `${command}: ${dir} already holds a run (${CHECKPOINT}); continue it with --resume ${dir}, or choose another --out`,
    );
  }
  // the nearest existing folder, then each missing one below it
  const missing: string[] = [];
  let at = abs;
  for (;;) {
    let st;
    try {
      st = statSync(at);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") refuse(why(e));
      if (dirname(at) === at) refuse("the path does not exist");
      missing.unshift(at);
      at = dirname(at);
      continue;
    }
    if (!st.isDirectory()) refuse(at === abs ? "it exists and is not a folder" : `${at} is a file, not a folder`);
    break;
  }
  if (missing.length === 0) {
    const names = readdirSync(abs);
    if (names.length)
      refuse(
        `the folder is not empty (it holds ${names.slice(0, 3).join(", ")}${names.length > 3 ? ", ..." : ""}) and a new run never replaces files it did not write; choose a new or empty folder`,
      );
    checkWritable(dir, command);
  } else checkWritable(dirname(missing[0]!), command);
  return missing;
}

/** A run's folder must be writable before the run starts (a resumed one included). */
export function checkWritable(dir: string, command: string): void {
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new UsageError(`${command}: cannot write to ${dir}: ${why(e)}`);
  }
}

/**
 * Refuse an output file this command would replace without having written it: the command's own
 * `--out FILE` (compare's tables, generate's PNG, quantize's GGUF). A path that exists (a file, a folder,
 * a device), a path under /proc, /sys or /dev, and a folder that is missing or cannot be written are
 * refused with one line, before any work is done.
 */
export function checkOutputFile(file: string, command: string, option = "--out"): void {
  const refuse = (msg: string): never => {
    throw new UsageError(`${command}: ${option} ${file}: ${msg}`);
  };
  const abs = resolve(file);
  if (SYSTEM.test(abs)) refuse("nothing is written under /proc, /sys or /dev");
  let st;
  try {
    st = statSync(abs);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") refuse(why(e));
  }
  if (st)
    refuse(
      st.isFile()
        ? "the file exists, and a command never replaces a file it did not write; choose a new name or remove it first"
        : "it exists and is not a file",
    );
  let parent;
  try {
    parent = statSync(dirname(abs));
  } catch (e) {
    refuse(`its folder ${dirname(abs)} cannot be used: ${why(e)}`);
  }
  if (!parent!.isDirectory()) refuse(`${dirname(abs)} is not a folder`);
  checkWritable(dirname(abs), command);
}

/** A default output name that replaces nothing: `file`, or `name-2.ext`, `name-3.ext`, ... (the first that does not exist). */
export function freshFile(file: string): string {
  const dot = file.lastIndexOf("."),
    stem = dot > file.lastIndexOf("/") ? file.slice(0, dot) : file,
    ext = file.slice(stem.length);
  for (let k = 1; k <= 10_000; k++) {
    const p = k === 1 ? file : `${stem}-${k}${ext}`;
    if (!existsSync(p)) return p;
  }
  throw new UsageError(`${file} and 10,000 numbered copies of it exist already; choose a name with --out`);
}

/**
 * A run's checkpoint, read and checked as every command that continues or uses a run does: the file
 * through the checked reader, then `check` (the model's own: its config's caps, its weights against its
 * config, the step, the generators; src/recipes/run-state.ts), then its weights: NaN or infinite values
 * are named, refused when the run is to be continued (`resume`: nothing trains back from NaN) or with
 * `strict`, a warning otherwise. A resumed run's folder must be writable.
 */
export function loadRunCheckpoint<T>(
  dirOrFile: string,
  command: string,
  check: (ckpt: LoadedCheckpoint) => T,
  o: { resume?: boolean; strict?: boolean; sharded?: boolean } = {},
): { ckpt: LoadedCheckpoint; checked: T } {
  const file = checkpointPath(dirOrFile);
  const ckpt = o.sharded ? loadLatestCheckpoint(dirOrFile) : loadCheckpoint(file);
  let checked: T;
  try {
    checked = check(ckpt);
  } catch (e) {
    if (e instanceof LoadError) throw new LoadError(`${file}: ${e.message}`);
    throw e;
  }
  const bad = describeNonFinite(ckpt.model);
  if (bad !== null) {
    if (o.resume)
      throw new LoadError(`${file}: ${bad}; this run cannot continue (start a new one, with a lower learning rate)`);
    if (o.strict) throw new LoadError(`${file}: ${bad}`);
    process.stderr.write(`warning: ${file}: ${bad}\n`);
  }
  if (o.resume) checkWritable(dirname(file), command);
  return { ckpt, checked };
}

/** A value of a checkpoint's config as it may be shown in a message: a short JSON string (the file is not trusted). */
const shown = (v: unknown): string => {
  const j = JSON.stringify(v) ?? String(v);
  return j.length > 40 ? `${j.slice(0, 40)}...` : j;
};

/**
 * What run a checkpoint is, from its config, and the commands that read it: "a speech run of `wnn train tacotron2`
 * (config.kind "tts"), which `wnn say` and `wnn eval` read". For the message of a command given another's run.
 */
export function describeRun(ckpt: LoadedCheckpoint): string {
  const c = ckpt.config as { kind?: unknown; model?: unknown } | null | undefined;
  const kind = c && typeof c === "object" ? c.kind : undefined;
  const model =
    c && typeof c === "object" && typeof c.model === "string" && /^[\w.-]{1,40}$/.test(c.model) ? c.model : null;
  const what = `config.kind ${shown(kind)}`;
  switch (kind) {
    case "gpt":
      return `a run of \`wnn train gpt\` (a character-level GPT; ${what}), which \`wnn sample\` reads`;
    case "zoo":
      return `a run of ${model === null ? "`wnn train` on a model of the zoo" : `\`wnn train ${model}\``} (${what}), which \`wnn eval\` and \`wnn ${model === "bert" ? "fill-mask" : "sample"}\` read`;
    case "tts":
      return model === "vocoder"
        ? `a vocoder run of \`wnn train vocoder\` (${what}), which \`wnn say --vocoder\` and \`wnn eval\` read`
        : `a speech run${model === null ? "" : ` of \`wnn train ${model}\``} (text to speech; ${what}), which \`wnn say\` and \`wnn eval\` read`;
    case "cnn":
      return `a run of \`wnn train cnn\` (LeNet-5 on MNIST digits; ${what}), which \`wnn generate --judge\` reads`;
    case "mlp":
      return `a run of \`wnn train mlp\` (an MLP on MNIST digits; ${what}), which no other command reads`;
    case "ddpm":
    case "ldm":
      return `a diffusion run of \`wnn train ${kind}\` (${what}), which \`wnn generate --checkpoint\` reads`;
    case undefined:
      return "a checkpoint without a run's config (no config.kind), written by no `wnn train`";
    default:
      return `a checkpoint of no \`wnn train\` command (${what})`;
  }
}

/** The end of a run whose loss stayed NaN or infinite (NonFiniteGuard): save the last good state, say so in one line, exit code 1. */
export function stopDiverged(
  guard: NonFiniteGuard,
  step: number,
  lr: number | undefined,
  save: () => void,
  file: string,
): number {
  save();
  process.stderr.write(`wnn: ${guard.message(step, lr)}. Saved ${file}\n`);
  return 1;
}

/** The folder of a data-parallel run's sharded checkpoints (`--sharded_checkpoint`). */
export const SHARDED_DIR = "sharded";

/**
 * A data-parallel run's checkpoint: its checkpoint.safetensors or its sharded saves in SHARDED_DIR/ (reassembled
 * into one process's checkpoint, whatever the number of workers that saved them), whichever is at the later step.
 */
export function loadLatestCheckpoint(dirOrFile: string): LoadedCheckpoint {
  const file = checkpointPath(dirOrFile);
  const sharded = join(dirname(file), SHARDED_DIR);
  const fromShards = isShardedCheckpoint(sharded)
    ? (() => {
        const s = loadShardedCheckpoint(sharded);
        return toCheckpoint(s.index, s) as LoadedCheckpoint;
      })()
    : null;
  const whole = !fromShards || existsSync(file) ? loadCheckpoint(file) : null;
  return fromShards && (!whole || fromShards.step > whole.step) ? fromShards : whole!;
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
  /**
   * On resume: drop what a killed process logged after its last checkpoint — training lines past `step`, evaluations
   * past `lastEval` — and keep every other line.
   */
  retainUpTo(step: number, lastEval: number): Record<string, unknown>[] {
    return this.retain((e) =>
      e.type === "train" ? (e.step as number) <= step : e.type === "eval" ? (e.step as number) <= lastEval : true,
    );
  }

  retain(keep: (entry: Record<string, unknown>) => boolean): Record<string, unknown>[] {
    const kept = this.read().filter(keep);
    writeFileAtomic(this.path, [new TextEncoder().encode(kept.map((e) => JSON.stringify(e) + "\n").join(""))]);
    return kept;
  }
}

/**
 * `--resume DIR` continues the run in its own folder with the settings of its checkpoint: refuses --out and any
 * option given that is not in `resumable` (what a resumed run may change), naming them and what may change.
 */
export function checkResumeOptions(command: string, given: ReadonlySet<string>, resumable: readonly string[]): void {
  if (given.has("out"))
    throw new UsageError(`${command}: --resume continues the run in its own folder; leave out --out`);
  const fixed = [...given].filter((k) => k !== "resume" && !resumable.includes(k));
  if (fixed.length)
    throw new UsageError(
      `${command}: ${fixed.map((k) => `--${k}`).join(", ")} cannot change when resuming (the run's settings come from its checkpoint; only ${resumable.map((k) => `--${k}`).join(", ")} can)`,
    );
}
