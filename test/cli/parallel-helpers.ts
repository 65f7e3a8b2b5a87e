// What the data-parallel command-line tests share: running `wnn` in a temporary folder, reading log.jsonl, the
// printed loss lines, and comparing two logs' losses within 1e-6 relative.

import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { fileURLToPath } from "node:url";

const WNN = fileURLToPath(new URL("../../cli/wnn.js", import.meta.url));
export const tmp = mkdtempSync(join(tmpdir(), "wnn-parallel-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

export function wnn(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [WNN, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export type Entry = Record<string, number | string>;
export const readLog = (dir: string): Entry[] =>
  readFileSync(join(dir, "log.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Entry);
/** The lines that print a loss: "step 3/6 ... loss 4.1234 ...", "step 3: train loss ..., val loss ..." (or those `lines` picks) */
export const printed = (stdout: string, lines = /loss \d/): string[] =>
  stdout
    .split("\n")
    .filter((l) => lines.test(l))
    .map((l) => l.replace(/\s+[\d.]+ it\/s|\s+ETA.*$|\s*\([^)]*\)\s*$/g, ""));

/**
 * The losses of two logs within 1e-6 relative, entry by entry (an evaluation's `metrics`, of `wnn train <model>`, too);
 * → the largest relative difference.
 */
export function sameLosses(got: Entry[], want: Entry[], what: string): number {
  const pick = (es: Entry[]) =>
    es
      .filter((e) => e.type === "train" || e.type === "eval")
      .map((e) => ({ ...e, ...(e.metrics as unknown as Record<string, number> | undefined) }));
  const [a, b] = [pick(got), pick(want)];
  assert.equal(a.length, b.length, `${what}: the same entries`);
  let worst = 0;
  a.forEach((e, i) => {
    assert.equal(e.step, b[i]!.step);
    for (const k of ["loss", "train", "val", "exactMatch", "accuracy"]) {
      if (!(k in e)) continue;
      const [x, y] = [e[k] as number, b[i]![k] as number];
      assert.ok(Math.abs(x - y) <= 1e-6 * Math.abs(y), `${what}: step ${e.step} ${k} ${x} vs ${y}`);
      if (x !== y) worst = Math.max(worst, Math.abs(x - y) / Math.abs(y));
    }
  });
  return worst;
}

const metrics = (dir: string): Record<string, number> =>
  (JSON.parse(readFileSync(join(dir, "metrics.json"), "utf8")) as { metrics: Record<string, number> }).metrics;

/** The runs of `wnn train <recipe> <args>` on one process, by recipe and arguments: each is run once per file. */
const singleRuns = new Map<string, { dir: string; out: string }>();

/**
 * `wnn train <recipe> <args>` run once with --workers 1 (once per file for the same arguments) and once with
 * --workers N --strategy S: the loss lines that `lines` picks are printed alike (to their digits), and the metrics
 * that `keys` picks are within 1e-6 relative; → both runs' output and the metrics' largest relative difference.
 */
export function compareRecipe(
  recipe: string,
  args: string[],
  N: number,
  strategy: string,
  lines: RegExp,
  keys: RegExp,
): { one: string; many: string; worst: number } {
  const run = (dir: string, ...more: string[]): string => {
    const r = wnn("train", recipe, ...args, "--out", dir, ...more);
    assert.equal(r.code, 0, `${recipe} ${more.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const key = JSON.stringify([recipe, args]);
  if (!singleRuns.has(key)) {
    const dir = join(tmp, `${recipe}-1-${singleRuns.size}`);
    singleRuns.set(key, { dir, out: run(dir) });
  }
  const { dir: one, out: a } = singleRuns.get(key)!;
  const many = join(tmp, `${recipe}-${strategy}-${N}`);
  const b = run(many, "--workers", String(N), "--strategy", strategy);
  assert.match(b, new RegExp(`data parallel: ${N} workers \\(threads\\), strategy ${strategy}`));
  assert.ok(printed(a, lines).length >= 2, a);
  assert.deepEqual(printed(b, lines), printed(a, lines));
  const [m1, mN] = [metrics(one), metrics(many)];
  const picked = Object.keys(m1).filter((k) => keys.test(k));
  assert.ok(picked.length >= 1);
  let worst = 0;
  for (const k of picked) {
    assert.ok(Math.abs(mN[k]! - m1[k]!) <= 1e-6 * Math.abs(m1[k]!), `${k}: ${mN[k]} vs ${m1[k]}`);
    if (mN[k] !== m1[k]) worst = Math.max(worst, Math.abs(mN[k]! - m1[k]!) / Math.abs(m1[k]!));
  }
  return { one: a, many: b, worst };
}
