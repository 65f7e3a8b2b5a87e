// Run a node-classification recipe (graphs, gcn or gat) from dist/ and write its outputs under runs/<name>/.
// Usage: npm run build && node tools/run-graphs.mjs [graphs|gcn|gat] [--seeds 5] [--epochs 200]
// (a stand-in for `wnn train <name>` until the CLI wires the recipes)
import { mkdirSync, writeFileSync } from "node:fs";
import { Generator } from "../dist/src/index.js";
import { recompress } from "./png-deflate.mjs";
import { graphsRecipe } from "../dist/src/recipes/graphs.js";
import { gcnRecipe } from "../dist/src/models/gcn/recipe.js";
import { gatRecipe } from "../dist/src/models/gat/recipe.js";

const recipes = { graphs: graphsRecipe, gcn: gcnRecipe, gat: gatRecipe };
const args = process.argv.slice(2);
const name = args[0] && !args[0].startsWith("--") ? args.shift() : "graphs";
const recipe = recipes[name];
if (!recipe) throw new Error(`unknown recipe ${name}; one of ${Object.keys(recipes).join(", ")}`);
const options = { ...recipe.defaults };
for (let i = 0; i < args.length; i += 2) options[args[i].replace(/^--/, "")] = Number(args[i + 1]);
const result = recipe.run(options, {}, { log: (line) => console.log(line) }, new Generator(0));
const dir = `runs/${name}`;
mkdirSync(dir, { recursive: true });
for (const [file, bytes] of Object.entries(result.images ?? {}))
  writeFileSync(`${dir}/${file}`, file.endsWith(".png") ? recompress(bytes) : bytes);
for (const [table, md] of Object.entries(result.tables ?? {})) writeFileSync(`${dir}/${table}.md`, md + "\n");
writeFileSync(`${dir}/metrics.json`, JSON.stringify(result.metrics, null, 2) + "\n");
for (const md of Object.values(result.tables ?? {})) console.log("\n" + md);
console.log(`\nwrote ${dir}/`);
