// Write the generated docs (cli/docs.ts): a page per model under docs/models/, the architecture comparisons
// of each shared task and each family of siblings under docs/compare/, and docs/models/index.md. Removes
// generated pages of models that are gone. test/cli/docs.test.ts fails when these files are not up to date.
//   npm run build && node tools/gen-docs.mjs
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { GENERATED, generateDocs } from "../dist/cli/docs.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const files = generateDocs(root);
let changed = 0;
for (const [path, text] of files) {
  const file = join(root, path);
  let old = null;
  try {
    old = readFileSync(file, "utf8");
  } catch {}
  if (old === text) continue;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  changed++;
  console.log(`wrote ${path}`);
}
for (const dir of ["docs/models", "docs/compare"]) {
  for (const name of readdirSync(join(root, dir))) {
    const path = `${dir}/${name}`;
    if (!name.endsWith(".md") || files.has(path)) continue;
    if (readFileSync(join(root, path), "utf8").startsWith(GENERATED)) {
      rmSync(join(root, path));
      changed++;
      console.log(`removed ${path} (its model is gone)`);
    }
  }
}
console.log(`gen-docs: ${files.size} files, ${changed} changed`);
