// Run a model's training recipe and write what it returns under runs/<name>[-<task>]/: metrics.json,
// the markdown tables, the PNG pictures and the samples. (A stand-in until `wnn train <name>` runs recipes.)
// Usage: npm run build && node tools/run-recipe.mjs <name> [--option value ...]
//   e.g. node tools/run-recipe.mjs seq2seq-attention --task dates --steps 600
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Generator } from "../dist/src/index.js";

const [name, ...rest] = process.argv.slice(2);
if (!name) {
  console.error("usage: node tools/run-recipe.mjs <name> [--option value ...]");
  process.exit(2);
}
const { recipe } = await import(`../dist/src/models/${name}/recipe.js`);
const options = { ...recipe.defaults };
for (let i = 0; i < rest.length; i += 2) {
  const key = rest[i].replace(/^--/, ""), value = rest[i + 1];
  if (!(key in options)) throw new Error(`${name}: unknown option --${key}; the options are ${Object.keys(options).join(", ")}`);
  options[key] = typeof options[key] === "number" ? Number(value) : typeof options[key] === "boolean" ? value === "true" : value;
}
const dir = join("runs", options.task ? `${name}-${options.task}` : name);
mkdirSync(dir, { recursive: true });
const t0 = performance.now();
const result = recipe.run(options, {}, { log: (line) => console.log(line) }, new Generator(options.seed ?? 0));
const seconds = (performance.now() - t0) / 1000;
writeFileSync(join(dir, "metrics.json"), JSON.stringify({ options, seconds, metrics: result.metrics }, null, 2) + "\n");
for (const [k, v] of Object.entries(result.tables ?? {})) writeFileSync(join(dir, `${k}.md`), v + "\n");
for (const [k, v] of Object.entries(result.images ?? {})) writeFileSync(join(dir, k), v);
if (result.samples) writeFileSync(join(dir, "samples.txt"), result.samples.join("\n") + "\n");
for (const v of Object.values(result.tables ?? {})) console.log("\n" + v);
console.log(`\n${name}: ${seconds.toFixed(0)} s; wrote ${dir}/`);
