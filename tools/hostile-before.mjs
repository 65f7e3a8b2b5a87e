#!/usr/bin/env node
// Does each case of the hostile-input corpus fail on the tree before the hardening, and pass now? A one-off
// measurement (not part of `npm test`), run after `npm run build`:
//
//   nice -n 10 node tools/hostile-before.mjs [COMMIT]      (default 1f8302f: main just before the hardening merged)
//
// It exports COMMIT into a temporary folder (git archive; node_modules linked from here), builds it, copies
// the corpus's runner there with tools/hostile-before-child.mjs as its child (the same ops, written with the
// readers of that time), builds today's corpus (test/hostile/corpus.ts, seed 12) and runs every case against
// both builds. It prints, per format, how many cases failed then — by the first of: a hang, a raw error or a
// stack trace, over budget (2 s of CPU, 300 MB), a wrong acceptance (a hostile input accepted, a file
// replaced), something else (two lines on stderr, another message) — how many had no reader or command then
// (n/a), and how many pass now.
import { execSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = fileURLToPath(new URL("..", import.meta.url));
const commit = process.argv[2] ?? "1f8302f";
const old = join(tmpdir(), `wnn-before-${commit}`);
const sh = (cmd, cwd = here) => execSync(cmd, { cwd, stdio: ["ignore", "inherit", "inherit"] });

if (!existsSync(join(old, "dist", "cli", "wnn.js"))) {
  rmSync(old, { recursive: true, force: true });
  mkdirSync(old, { recursive: true });
  sh(`git archive ${commit} | tar -x -C ${old}`);
  symlinkSync(join(here, "node_modules"), join(old, "node_modules"));
  console.log(`building ${commit} in ${old} ...`);
  sh("node tools/build-wasm.mjs && npx tsc -p tsconfig.json", old);
}
execSync(`chmod -R a+rX ${old}`); // the read-only cases run as another user
const hostile = join(old, "dist", "test", "hostile");
mkdirSync(hostile, { recursive: true });
copyFileSync(join(here, "dist/test/hostile/run.js"), join(hostile, "run.js"));
copyFileSync(join(here, "dist/test/hostile/probe.js"), join(hostile, "probe.js"));
copyFileSync(join(here, "tools/hostile-before-child.mjs"), join(hostile, "child.js"));

const { buildCorpus } = await import(pathToFileURL(join(here, "dist/test/hostile/corpus.js")).href);
const now = await import(pathToFileURL(join(here, "dist/test/hostile/run.js")).href);
const then = await import(pathToFileURL(join(hostile, "run.js")).href);
const { root, cases } = buildCorpus(12);
execSync(`chmod -R a+rX ${root}`);
const chosen = now.READ_ONLY_MODE === null ? cases.filter((c) => !c.readOnly) : cases;
console.log(`${chosen.length} cases; running them against ${commit} ...`);
const before = await then.runCases(chosen, 3);
console.log("... and against this tree");
const after = await now.runCases(chosen, 3);
rmSync(root, { recursive: true, force: true });

/** Why a case failed before, in one word (n/a: no reader or command of that kind then). */
function kind(r) {
  if (r.outcome === "na") return "n/a";
  if (r.case.cli && /unknown command|unknown option|unknown model|needs a value/.test(r.message)) return "n/a";
  if (r.problem === null) return "passed";
  const p = r.problem;
  if (/still running/.test(p)) return "hang";
  if (/raw|stack trace|crashed/.test(p)) return "stack trace";
  if (/CPU time|resident/.test(p)) return "over budget";
  if (/accepted, expected|exit code 0, expected|replaced or removed/.test(p)) return "wrong acceptance";
  return "other";
}
const cols = ["hang", "stack trace", "over budget", "wrong acceptance", "other", "passed", "n/a"];
const formats = [...new Set(chosen.map((c) => c.format))];
const rows = formats.map((f) => {
  const idx = chosen.map((c, i) => (c.format === f ? i : -1)).filter((i) => i >= 0);
  const counts = cols.map((k) => idx.filter((i) => kind(before[i]) === k).length);
  return [f, idx.length, ...counts, idx.filter((i) => after[i].problem === null).length];
});
const total = [
  "all",
  chosen.length,
  ...cols.map((_, j) => rows.reduce((s, r) => s + r[j + 2], 0)),
  rows.reduce((s, r) => s + r[r.length - 1], 0),
];
const head = ["format", "cases", ...cols.map((k) => `before: ${k}`), "pass now"];
console.log(`\n| ${head.join(" | ")} |\n|${head.map((_, i) => (i ? " ---: " : " --- ")).join("|")}|`);
for (const r of [...rows, total]) console.log(`| ${r.join(" | ")} |`);
const failingNow = after.filter((r) => r.problem !== null);
for (const r of failingNow) console.log(`now failing: ${r.case.format}: ${r.case.name}: ${r.problem}`);
if (process.env.WNN_BEFORE_DETAILS)
  for (let i = 0; i < chosen.length; i++)
    console.log(`${kind(before[i])}\t${chosen[i].format}\t${chosen[i].name}\t${before[i].problem ?? ""}`);
