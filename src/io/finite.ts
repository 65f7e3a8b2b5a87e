// Non-finite weights (NaN, ±Infinity) in what was loaded: found by name, so a reader can report them
// and refuse them when asked to be strict. A model with a NaN weight still runs, and prints garbage with
// exit code 0; this is the check that says why.

import { LoadError } from "../engine/errors.js";
import type { Tensor } from "../engine/tensor.js";

/** The names of the floating tensors holding a NaN or ±Infinity, with how many such values each. */
export function nonFiniteTensors(tensors: Record<string, Tensor>): { name: string; count: number }[] {
  const out: { name: string; count: number }[] = [];
  for (const name of Object.keys(tensors)) {
    const t = tensors[name]!;
    if (t.dtype !== "float32" && t.dtype !== "float64") continue;
    const s = t.storage;
    let count = 0;
    for (let i = 0; i < s.length; i++) if (!Number.isFinite(s[i]!)) count++;
    if (count) out.push({ name, count });
  }
  return out;
}

/** One line naming the tensors (the first five) that hold non-finite values, or null when none do. */
export function describeNonFinite(tensors: Record<string, Tensor>): string | null {
  const bad = nonFiniteTensors(tensors);
  if (!bad.length) return null;
  const list = bad
    .slice(0, 5)
    .map((b) => `${b.name} (${b.count.toLocaleString("en-US")} values)`)
    .join(", ");
  return `${bad.length} tensor${bad.length === 1 ? "" : "s"} hold NaN or infinite values: ${list}${bad.length > 5 ? ", ..." : ""}`;
}

/**
 * Report non-finite weights: with `strict`, a LoadError naming them; otherwise `warn` is called with
 * the same line (and the caller goes on).
 */
export function checkFinite(
  what: string,
  tensors: Record<string, Tensor>,
  opts: { strict?: boolean; warn?: (line: string) => void } = {},
): void {
  const line = describeNonFinite(tensors);
  if (line === null) return;
  if (opts.strict) throw new LoadError(`${what}: ${line}`);
  opts.warn?.(`warning: ${what}: ${line}`);
}
