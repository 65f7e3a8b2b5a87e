// The op table (`--workloads=ops`, ./ops.ts) of two builds in one process, the builds taking turns, so that
// both see the same load: the way to compare a kernel change on a shared machine. Not part of `npm run bench`:
//
//   cp -r dist dist-before                            # before the change; then rebuild
//   node dist/bench/ops-ab.js dist-before dist [--rounds=3]
//
// Each build dir is a `dist` (its bench/ops.js is loaded, which loads that build's src). Prints, per op, the
// median over the rounds of each build's CPU ms per call and of its ratio to the copy of the same run. A build
// dir outside the project resolves its packages from the node_modules above it.

import { loadavg } from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type * as Ops from "./ops.js";
import { median } from "./timing.js";

const arg = (name: string, fallback: number): number => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a === undefined ? fallback : Number(a.slice(name.length + 3));
};
const [dirA, dirB] = process.argv.slice(2).filter((s) => !s.startsWith("--"));
if (dirA === undefined || dirB === undefined) throw new Error("usage: ops-ab.js <dist A> <dist B> [--rounds=3]");
const rounds = arg("rounds", 3);

const load = async (dir: string): Promise<typeof Ops> =>
  (await import(pathToFileURL(resolve(dir, "bench/ops.js")).href)) as typeof Ops;
const builds = [await load(dirA), await load(dirB)];
const runs: Ops.OpsResult[][] = [[], []];
const quiet = (): void => {};
console.log(`ops A/B: A = ${dirA}, B = ${dirB}, ${rounds} rounds, load average ${loadavg()[0]!.toFixed(1)}`);
for (let r = 0; r < rounds; r++) {
  for (const k of r % 2 === 0 ? [0, 1] : [1, 0]) runs[k]!.push(builds[k]!.runOps(quiet));
  console.log(
    `  round ${r + 1}: copy A ${runs[0]![r]!.copy.cpu_ms.toFixed(3)} ms, B ${runs[1]![r]!.copy.cpu_ms.toFixed(3)} ms, load ${loadavg()[0]!.toFixed(1)}`,
  );
}
const med = (k: number, i: number, f: (row: Ops.OpRow) => number): string =>
  median(runs[k]!.map((run) => f(run.rows[i]!))).toFixed(3);
console.log(
  "| op | forward A | × copy | forward B | × copy | backward A | × copy | backward B | × copy |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|",
);
runs[0]![0]!.rows.forEach((row, i) => {
  const cells = [
    med(0, i, (r) => r.forward.cpu_ms),
    med(0, i, (r) => r.forward_x_copy),
    med(1, i, (r) => r.forward.cpu_ms),
    med(1, i, (r) => r.forward_x_copy),
    med(0, i, (r) => r.backward.cpu_ms),
    med(0, i, (r) => r.backward_x_copy),
    med(1, i, (r) => r.backward.cpu_ms),
    med(1, i, (r) => r.backward_x_copy),
  ];
  console.log(`| ${row.family}: ${row.name} | ${cells.join(" | ")} |`);
});
