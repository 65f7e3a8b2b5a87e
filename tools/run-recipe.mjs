// Run a model's training recipe from the compiled library and write what it returns under
// runs/<name>[-<task>]/: metrics.json, the markdown tables, the PNG pictures and the samples.
// (`wnn train <name>` does the same through the CLI; this script is what the recipes' READMEs used.)
// Usage: npm run build && node tools/run-recipe.mjs <folder under src/models> [--option value ...] [--run folder]
//   e.g. node tools/run-recipe.mjs seq2seq-attention --task dates --steps 600
//        node tools/run-recipe.mjs transformer --backend wasm --task translation
// --backend <name> picks the kernel backend (setBackend) before the recipe runs.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Generator, setBackend } from "../dist/src/index.js";
import { loadMnist, loadMobyDick, loadNames } from "../dist/src/node.js";

const [name, ...argv] = process.argv.slice(2);
const b = argv.indexOf("--backend");
const rest = b >= 0 ? [...argv.slice(0, b), ...argv.slice(b + 2)] : argv;
if (b >= 0) setBackend(argv[b + 1]);
if (!name) {
  console.error("usage: node tools/run-recipe.mjs <name> [--option value ...]");
  process.exit(2);
}
const mod = await import(`../dist/src/models/${name}/recipe.js`);
// the module's recipe: `recipe`, or its one export that is a Recipe (has defaults and run)
const recipe =
  mod.recipe ??
  Object.values(mod).find((v) => v && typeof v === "object" && "defaults" in v && typeof v.run === "function");
if (!recipe) {
  console.error(`${name}: src/models/${name}/recipe.ts exports no recipe`);
  process.exit(2);
}
const options = { ...recipe.defaults };
let runDir = null; // --run <folder under runs/> (default: <name>[-<task>])
for (let i = 0; i < rest.length; i += 2) {
  const key = rest[i].replace(/^--/, ""),
    value = rest[i + 1];
  if (key === "run") {
    runDir = value;
    continue;
  }
  if (!(key in options))
    throw new Error(`${name}: unknown option --${key}; the options are ${Object.keys(options).join(", ")}`);
  options[key] =
    typeof options[key] === "number" ? Number(value) : typeof options[key] === "boolean" ? value === "true" : value;
}
const data = {};
if (recipe.needs.includes("text")) data.text = loadMobyDick();
if (recipe.needs.includes("words")) data.words = loadNames();
if (recipe.needs.includes("mnist")) data.mnist = loadMnist();
if (recipe.needs.includes("emails")) data.emails = (await import("../dist/src/node.js")).loadSpamAssassin();
const dir = join("runs", runDir ?? (options.task ? `${name}-${options.task}` : name));
mkdirSync(dir, { recursive: true });
console.log(`${recipe.name}: ${JSON.stringify(options)}`);
const t0 = performance.now();
const result = recipe.run(options, data, { log: (line) => console.log(line) }, new Generator(options.seed ?? 0));
const seconds = (performance.now() - t0) / 1000;
writeFileSync(join(dir, "metrics.json"), JSON.stringify({ options, seconds, metrics: result.metrics }, null, 2) + "\n");
for (const [k, v] of Object.entries(result.tables ?? {})) writeFileSync(join(dir, `${k}.md`), v + "\n");
for (const [k, v] of Object.entries(result.images ?? {})) writeFileSync(join(dir, k), v);
if (result.samples) writeFileSync(join(dir, "samples.txt"), result.samples.join("\n") + "\n");
for (const v of Object.values(result.tables ?? {})) console.log("\n" + v);
console.log(`\n${name}: ${seconds.toFixed(0)} s; wrote ${dir}/`);
