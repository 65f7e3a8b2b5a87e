// The hostile-input corpus (./corpus.ts): every case in its own process (./run.ts), none may hang, print
// a stack trace, raise anything but the library's typed errors, take more than 2 s of CPU time or more
// than 300 MB of memory. The counts by format and outcome are printed, and the slowest cases.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { buildCorpus } from "./corpus.js";
import { READ_ONLY_MODE, runCases, slowest, summary } from "./run.js";

test("the hostile-input corpus: no hangs, no stack traces, no raw errors, nothing over budget", async () => {
  const { root, cases } = buildCorpus(12);
  try {
    assert.ok(cases.length >= 250, `${cases.length} cases, expected at least 250`);
    const only = process.env.WNN_CORPUS_ONLY; // a substring of case names, to run a few by hand
    let chosen = only ? cases.filter((c) => c.name.includes(only)) : cases;
    if (READ_ONLY_MODE === null) {
      console.log(
        `skipping ${chosen.filter((c) => c.readOnly).length} read-only cases: running as root without setpriv (or with a build other users cannot reach), so nothing can be made read-only`,
      );
      chosen = chosen.filter((c) => !c.readOnly);
    }
    const results = await runCases(chosen, Math.max(2, Math.min(4, availableParallelism())));
    console.log(summary(results));
    console.log(slowest(results, 10));
    const failing = results.filter((r) => r.problem !== null);
    assert.deepEqual(
      failing.map((r) => `${r.case.format}: ${r.case.name}: ${r.problem}`),
      [],
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
