// The generated docs (cli/docs.ts, written by tools/gen-docs.mjs) are up to date: regenerated in memory,
// every file equals the one on disk, no generated page is left over from a model that is gone, and every
// relative link of a generated page points at a file that exists.

import { strict as assert } from "node:assert";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { GENERATED, generateDocs, rewriteLinks } from "../../cli/docs.js";
import { FAMILIES, ZOO } from "../../src/models/zoo.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", ".."); // dist/test/cli → the repository

test("the generated docs are up to date (run `npm run build && node tools/gen-docs.mjs` when this fails)", () => {
  const files = generateDocs(ROOT);
  for (const m of ZOO) assert.ok(files.has(`docs/models/${m.name}.md`), `a page for ${m.name}`);
  for (const f of Object.keys(FAMILIES))
    assert.ok(files.has(`docs/compare/${f}-architecture.md`), `a page for the ${f} family`);
  assert.ok(files.has("docs/models/index.md"));
  for (const [path, text] of files) {
    const file = join(ROOT, path);
    assert.ok(existsSync(file), `${path} is missing`);
    assert.ok(readFileSync(file, "utf8") === text, `${path} is out of date`);
  }
  for (const dir of ["docs/models", "docs/compare"]) {
    for (const name of readdirSync(join(ROOT, dir))) {
      const path = `${dir}/${name}`;
      if (name.endsWith(".md") && !files.has(path))
        assert.ok(
          !readFileSync(join(ROOT, path), "utf8").startsWith(GENERATED),
          `${path}: a generated page nobody generates any more`,
        );
    }
  }
});

test("every relative link of a generated page resolves", () => {
  for (const [path, text] of generateDocs(ROOT)) {
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^([a-z]+:|#)/i.test(target!)) continue;
      const file = join(ROOT, dirname(path), target!.split("#")[0]!);
      assert.ok(existsSync(file), `${path}: the link ${target} points at nothing`);
    }
  }
});

test("rewriteLinks: siblings' READMEs become their pages, other paths are made relative to docs/models", () => {
  const md =
    "[m](model.ts) [g](../gat/README.md#differences-from-gcn) ![k](../../../docs/compare/karate.png) [w](https://x.org/a.md) [a](#top) [o](../nowhere/README.md)";
  assert.equal(
    rewriteLinks(md, "src/models/gcn"),
    "[m](../../src/models/gcn/model.ts) [g](gat.md#differences-from-gcn) ![k](../compare/karate.png) [w](https://x.org/a.md) [a](#top) [o](../../src/models/nowhere/README.md)",
  );
});
