// Run every compiled test file (dist/**/*.test.js) with Node's built-in test runner.
// Usage: node tools/run-tests.mjs [substring ...]   (only files whose path contains a substring)
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const filters = process.argv.slice(2);
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith(".test.js") && (filters.length === 0 || filters.some((f) => p.includes(f))) && hasSource(p))
      files.push(p);
  }
};
/** a compiled test whose source was moved or deleted is stale output of an earlier build: skip it */
const hasSource = (p) => existsSync(p.replace(/^dist[\\/]/, "").replace(/\.js$/, ".ts"));
walk("dist");
files.sort();
if (files.length === 0) {
  console.error("run-tests: no test files found under dist/ (did the build run?)");
  process.exit(1);
}
const r = spawnSync(process.execPath, ["--test", "--test-reporter=spec", ...files], { stdio: "inherit" });
process.exit(r.status ?? 1);
