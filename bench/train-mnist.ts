// Train one of the MNIST recipes (lenet5, resnet) and write what it returns under runs/<name>/:
// metrics.json, the markdown tables and the PNGs. Until `wnn train <name>` reaches the recipes:
//
//   npm run build && node dist/bench/train-mnist.js lenet5 [--epochs 8] [--batchSize 64] [--seed 0] ...
//
// Every option of the recipe's `defaults` can be given as --name value.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadMnist } from "../src/node.js";
import { Generator } from "../src/index.js";
import { lenet5Recipe } from "../src/models/lenet5/recipe.js";
import { resnetRecipe } from "../src/models/resnet/recipe.js";
import type { Recipe, RecipeResult } from "../src/recipes/recipe.js";

type AnyRecipe = Recipe<Record<string, number | string | boolean>>;
const RECIPES: Record<string, AnyRecipe> = {
  lenet5: lenet5Recipe as unknown as AnyRecipe,
  resnet: resnetRecipe as unknown as AnyRecipe,
};

const [name, ...rest] = process.argv.slice(2);
const recipe = RECIPES[name ?? ""];
if (!recipe) {
  console.error(
    `usage: node dist/bench/train-mnist.js <${Object.keys(RECIPES).join("|")}> [--option value ...] [--seed n]`,
  );
  process.exit(2);
}
const options: Record<string, number | string | boolean> = { ...recipe.defaults };
let seed = 0;
for (let i = 0; i < rest.length; i += 2) {
  const key = rest[i]!.replace(/^--/, ""),
    value = rest[i + 1];
  if (value === undefined) throw new Error(`--${key} needs a value`);
  if (key === "seed") {
    seed = Number(value);
    continue;
  }
  if (!(key in recipe.defaults))
    throw new Error(`unknown option --${key}; the options are ${Object.keys(recipe.defaults).join(", ")}, seed`);
  const d = recipe.defaults[key];
  options[key] = typeof d === "number" ? Number(value) : typeof d === "boolean" ? value === "true" : value;
}

const mnist = loadMnist();
const t0 = performance.now();
const result: RecipeResult = recipe.run(options, { mnist }, { log: (line) => console.log(line) }, new Generator(seed));
const wall = (performance.now() - t0) / 1000;
const dir = join("runs", recipe.name);
mkdirSync(dir, { recursive: true });
writeFileSync(
  join(dir, "metrics.json"),
  JSON.stringify({ recipe: recipe.name, options, seed, wallSeconds: wall, ...result.metrics }, null, 2) + "\n",
);
for (const [file, bytes] of Object.entries(result.images ?? {})) writeFileSync(join(dir, file), bytes);
for (const [table, md] of Object.entries(result.tables ?? {})) writeFileSync(join(dir, `${table}.md`), md + "\n");
console.log(JSON.stringify(result.metrics, null, 2));
console.log(`wall ${wall.toFixed(1)} s; wrote ${dir}/`);
