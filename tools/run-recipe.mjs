// Run one recipe of the zoo from the compiled library (until `wnn train <name>` is wired to the recipes):
//   npm run build && node tools/run-recipe.mjs <name> [--option value ...]
//   e.g. node tools/run-recipe.mjs seq2seq-attention --task dates --steps 600
//        node tools/run-recipe.mjs transformer --backend wasm --task translation
// --backend <name> picks the kernel backend (setBackend; default: the library's default, reference).
// <name> is a recipe registered below, or a model folder whose recipe.js exports `recipe`. Loads the data the
// recipe needs, prints its log, and writes its tables, samples, images and metrics under runs/<name>[-<task>]/.
// (Merged from the rnn and seq2seq branches' versions of this script.)
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Generator, setBackend } from "../dist/src/index.js";
import { loadNames } from "../dist/src/node.js";
import { bengioMlpRecipe } from "../dist/src/models/bengio-mlp/recipe.js";
import { charRnnRecipe } from "../dist/src/models/char-rnn/recipe.js";
import { namesCompareRecipe } from "../dist/src/models/names-compare/recipe.js";

const recipes = Object.fromEntries([bengioMlpRecipe, charRnnRecipe, namesCompareRecipe].map((r) => [r.name, r]));
const [name, ...argv] = process.argv.slice(2);
const b = argv.indexOf("--backend");
const args = b >= 0 ? [...argv.slice(0, b), ...argv.slice(b + 2)] : argv;
if (b >= 0) setBackend(argv[b + 1]);
if (!name) {
  console.error(`usage: node tools/run-recipe.mjs <${Object.keys(recipes).join("|")}|model folder> [--option value ...]`);
  process.exit(1);
}
const recipe = recipes[name] ?? (await import(`../dist/src/models/${name}/recipe.js`)).recipe;
const options = { ...recipe.defaults };
for (let i = 0; i < args.length; i += 2) {
  const key = args[i].replace(/^--/, "");
  if (!(key in options)) throw new Error(`${name}: unknown option --${key}; the options are ${Object.keys(options).join(", ")}`);
  const d = options[key];
  options[key] = typeof d === "number" ? Number(args[i + 1]) : typeof d === "boolean" ? args[i + 1] === "true" : args[i + 1];
}
const data = {};
if (recipe.needs.includes("words")) data.words = loadNames();
console.log(`${recipe.name}: ${JSON.stringify(options)}${b >= 0 ? ` (backend ${argv[b + 1]})` : ""}`);
const t0 = Date.now();
const result = recipe.run(options, data, { log: (l) => console.log(l) }, new Generator(options.seed ?? 0));
const seconds = (Date.now() - t0) / 1000;
const out = join("runs", options.task ? `${recipe.name}-${options.task}` : recipe.name);
mkdirSync(out, { recursive: true });
for (const [file, md] of Object.entries(result.tables ?? {})) {
  writeFileSync(join(out, file.endsWith(".md") ? file : `${file}.md`), md + "\n");
  console.log(`\n${md}\n`);
}
for (const [file, png] of Object.entries(result.images ?? {})) writeFileSync(join(out, file), png);
if (result.samples) writeFileSync(join(out, "samples.txt"), result.samples.join("\n") + "\n");
writeFileSync(join(out, "metrics.json"), JSON.stringify({ options, seconds, metrics: result.metrics }, null, 2) + "\n");
console.log(`${recipe.name}: ${seconds.toFixed(0)} s; wrote ${out}/`);
