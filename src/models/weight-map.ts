// A model's weight map: the table that names each tensor of ours in a released checkpoint (Hugging Face's
// names and layouts), and the one reader and writer every model folder uses with it. A model.ts declares
// only its table (and, where the layouts differ, how a fused tensor splits and joins); the loops, the
// checks of missing, unexpected and mis-shaped tensors and their messages live here, once.
//
//   entry("blocks.{i}.attn.wo.weight", "transformer.h.{i}.attn.c_proj.weight", true)   // one tensor, transposed
//   entry(["…wq.weight", "…wk.weight", "…wv.weight"], "…c_attn.weight")                // three of ours fused in one
//   const map = expandMap(TABLE, { i: c.nLayer });                                       // {i} → 0 … nLayer−1
//   fromCheckpointWith("fromGPT2Checkpoint", state, map, { skipped, prefix: "transformer" })
//
// Loader names follow one pattern: from<Model>Checkpoint (theirs → ours) and to<Model>Checkpoint (ours → theirs).
// Browser-safe: works on tensors already in memory.

import { noGrad } from "../engine/autograd.js";
import { ArgumentError, ShapeError } from "../engine/errors.js";
import { meta } from "../engine/meta.js";
import { fmt } from "../engine/shape.js";
import type { Tensor } from "../engine/tensor.js";
import type { Module } from "../nn/module.js";
import { cat, split } from "../ops/shape.js";

/** One row of a weight map: our name(s) and the checkpoint's. */
export interface MapEntry {
  /** one name, or the parts of a fused tensor of theirs (joined along dim 0 unless the model says otherwise) */
  readonly ours: readonly string[];
  readonly theirs: string;
  /** stored (in, out) in the checkpoint, (out, in) in ours (OpenAI's Conv1D) */
  readonly transposed: boolean;
}

export const entry = (ours: string | readonly string[], theirs: string, transposed = false): MapEntry => ({
  ours: typeof ours === "string" ? [ours] : [...ours],
  theirs,
  transposed,
});

/** A row of a map written as a pair: our name, the checkpoint's. */
export type MapRow = readonly [ours: string, theirs: string];

/** [ours, theirs] pairs (a map built from a module's own names) as entries. */
export const entriesOf = (pairs: readonly MapRow[]): MapEntry[] => pairs.map(([o, t]) => entry(o, t));

/**
 * The table with each placeholder `{x}` of `counts` expanded (x = 0 … counts.x − 1, nested in the order of
 * `counts`); entries that `keep` refuses (a bias the config lacks) are dropped first.
 */
export function expandMap<E extends MapEntry>(
  table: readonly E[],
  counts: Readonly<Record<string, number>>,
  keep?: (m: E) => boolean,
): E[] {
  let out = table.filter((m) => !keep || keep(m));
  for (const [key, n] of Object.entries(counts)) {
    const mark = `{${key}}`;
    out = out.flatMap((m) => {
      if (!m.theirs.includes(mark) && !m.ours.some((o) => o.includes(mark))) return [m];
      const at =
        (i: number) =>
        (s: string): string =>
          s.split(mark).join(String(i));
      return Array.from({ length: n }, (_, i) => ({ ...m, ours: m.ours.map(at(i)), theirs: at(i)(m.theirs) }));
    });
  }
  return out;
}

/**
 * The map of one built model: the [ours, theirs] rows expanded as expandMap does, only those naming a tensor the model
 * holds (a model without a pooler or a head skips their rows); every tensor of the model must have a row.
 */
export function modelMap(model: Module, rows: readonly MapRow[], counts: Readonly<Record<string, number>>): MapEntry[] {
  const own = new Set(Object.keys(model.stateDict()));
  const out = expandMap(entriesOf(rows), counts).filter((m) => own.has(m.ours[0]!));
  if (out.length !== own.size) {
    const mapped = new Set(out.map((m) => m.ours[0]!));
    throw new ArgumentError(`weightMap: no checkpoint name for ${[...own].filter((k) => !mapped.has(k)).join(", ")}`);
  }
  return out;
}

/** A map as [ours, theirs] pairs (maps without fused tensors). */
export const pairsOf = (map: readonly MapEntry[]): [string, string][] => map.map((m) => [m.ours[0]!, m.theirs]);

export interface ReadOptions {
  /** what the names are checked against, in messages: "config" (default) or "model" */
  readonly of?: "config" | "model";
  /** names a valid checkpoint may hold that are not loaded (causal-mask buffers, tied copies, ...) */
  readonly skipped?: RegExp | ((name: string) => boolean);
  /** the trunk's prefix: names saved without it (a GPT2Model file) get it, the head's lm_head.* excepted */
  readonly prefix?: string;
  /** the shape each tensor must have, by our name: the model's own (`shapesOf`), never a table written by hand */
  readonly shapes?: Readonly<Record<string, readonly number[]>>;
  /** a fused tensor of theirs → the parts of ours (default: equal pieces along dim 0) */
  readonly unfuse?: (t: Tensor, parts: number) => Tensor[];
}

/**
 * The one shape check of a checkpoint's tensor, used by every loader and by the Hugging Face folder reader:
 * undefined when `got` is `want`, else the message naming the tensor and both shapes.
 */
export function shapeMismatch(name: string, got: readonly number[], want: readonly number[]): string | undefined {
  return fmt(got) === fmt(want) ? undefined : `${name} has shape ${fmt(got)}, this config needs ${fmt(want)}`;
}

/**
 * The shape of every tensor of the model that `build` makes, by our name: what a checkpoint for its config
 * must hold. The model is built shape-only (`meta`), so this costs milliseconds and allocates nothing.
 */
export function shapesOf(build: () => Module): Record<string, readonly number[]> {
  const state = meta(build).stateDict();
  return Object.fromEntries(Object.entries(state).map(([name, t]) => [name, t.shape]));
}

/** A checkpoint's state dict (their names and layouts) → ours, ready for `model.loadStateDict`; names (and shapes) checked. */
export function fromCheckpointWith(
  loader: string,
  state: Record<string, Tensor>,
  map: readonly MapEntry[],
  opts: ReadOptions = {},
): Record<string, Tensor> {
  let named = state;
  if (opts.prefix !== undefined) {
    const p = `${opts.prefix}.`;
    named = {};
    for (const [k, t] of Object.entries(state)) named[k.startsWith(p) || k.startsWith("lm_head.") ? k : `${p}${k}`] = t;
  }
  const skipped =
    opts.skipped instanceof RegExp ? (k: string) => (opts.skipped as RegExp).test(k) : (opts.skipped ?? (() => false));
  const known = new Set(map.map((m) => m.theirs));
  const unexpected = Object.keys(named).filter((k) => !known.has(k) && !skipped(k));
  if (unexpected.length)
    throw new ArgumentError(`${loader}: unexpected keys for this ${opts.of ?? "config"}: ${unexpected.join(", ")}`);
  const out: Record<string, Tensor> = {};
  return noGrad(() => {
    for (const m of map) {
      const src = named[m.theirs];
      if (!src) throw new ArgumentError(`${loader}: missing key ${m.theirs}`);
      const want = m.ours.length === 1 ? opts.shapes?.[m.ours[0]!] : undefined;
      if (want) {
        const wrong = shapeMismatch(m.theirs, src.shape, m.transposed ? [...want].reverse() : want);
        if (wrong) throw new ShapeError(`${loader}: ${wrong}`);
      }
      const t = m.transposed ? src.transpose(0, 1) : src; // (in, out) → (out, in)
      const parts =
        m.ours.length === 1
          ? [t]
          : opts.unfuse
            ? opts.unfuse(t, m.ours.length)
            : split(t, t.shape[0]! / m.ours.length, 0);
      m.ours.forEach((name, j) => (out[name] = parts[j]!));
    }
    return out;
  });
}

/** Our state dict → a checkpoint's names and layouts (`fuse` joins the parts of a fused tensor; default: along dim 0). */
export function toCheckpointWith(
  loader: string,
  state: Record<string, Tensor>,
  map: readonly MapEntry[],
  fuse?: (parts: Tensor[]) => Tensor,
): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  return noGrad(() => {
    for (const m of map) {
      const parts = m.ours.map((name) => {
        const t = state[name];
        if (!t) throw new ArgumentError(`${loader}: missing key ${name}`);
        return t;
      });
      const t = parts.length === 1 ? parts[0]! : fuse ? fuse(parts) : cat(parts, 0);
      out[m.theirs] = m.transposed ? t.transpose(0, 1) : t; // (out, in) → (in, out)
    }
    return out;
  });
}
