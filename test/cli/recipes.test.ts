// `wnn train <recipe>`: a recipe's defaults become options, its results become files. Run in-process
// with a small recipe written here (the zoo's recipes are tested beside their models).

import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { UsageError } from "../../cli/args.js";
import { RECIPES, recipeHelp, recipeOptions, runRecipe, snake, type AnyRecipe } from "../../cli/recipes.js";
import type { Generator } from "../../src/engine/rng.js";
import type { RecipeData, RecipeHooks } from "../../src/recipes/recipe.js";

const tmp = mkdtempSync(join(tmpdir(), "wnn-recipe-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const seen: { options?: Record<string, unknown>; first?: number } = {};
const echo: AnyRecipe = {
  name: "echo",
  paper: "Nobody 2024, An echo",
  trainsOn: "nothing",
  needs: [],
  defaults: Object.freeze({ batchSize: 4, lr: 0.5, mode: "fast", shuffle: true }),
  run(options: Record<string, unknown>, _data: RecipeData, hooks: RecipeHooks, g: Generator) {
    seen.options = options;
    seen.first = g.random();
    hooks.log("hello");
    for (let s = 1; s <= 3; s++) hooks.progress?.(s, 3, { loss: 1 / s });
    return {
      metrics: { answer: 42 },
      tables: { "table.md": "| a |\n| - |\n| 1 |" },
      images: { "x.png": new Uint8Array([1, 2, 3]) },
      samples: ["one", "two"],
    };
  },
};

function collect(): { write(s: string): void; text: string } {
  const o = { text: "", write: (s: string) => void (o.text += s) };
  return o;
}

test("a recipe's defaults become typed options, and its results files", () => {
  assert.equal(snake("batchSize"), "batch_size");
  assert.deepEqual(Object.keys(recipeOptions(echo)), [
    "batch_size",
    "lr",
    "mode",
    "shuffle",
    "seed",
    "out",
    "max_memory",
  ]);
  const dir = join(tmp, "echo");
  const out = collect();
  assert.equal(runRecipe(echo, ["--batch_size", "8", "--shuffle", "false", "--seed", "3", "--out", dir], out), 0);
  assert.deepEqual(seen.options, { batchSize: 8, lr: 0.5, mode: "fast", shuffle: false });
  assert.match(out.text, /hello[\s\S]*answer 42/);
  assert.equal(readFileSync(join(dir, "table.md"), "utf8"), "| a |\n| - |\n| 1 |\n");
  assert.deepEqual([...readFileSync(join(dir, "x.png"))], [1, 2, 3]);
  assert.equal(readFileSync(join(dir, "samples.txt"), "utf8"), "one\ntwo\n");
  const metrics = JSON.parse(readFileSync(join(dir, "metrics.json"), "utf8")) as {
    metrics: { answer: number };
    seed: number;
  };
  assert.equal(metrics.metrics.answer, 42);
  assert.equal(metrics.seed, 3);
  // the generator is seeded by --seed
  const first = seen.first;
  runRecipe(echo, ["--seed", "3", "--out", join(tmp, "echo2")], collect());
  assert.equal(seen.first, first);
});

test("a recipe's bad options are usage errors; --help lists them", () => {
  assert.throws(
    () => runRecipe(echo, ["--batchsize", "8"], collect()),
    (e: unknown) =>
      e instanceof UsageError && /unknown option --batchsize \(did you mean --batch_size\?\)/.test(e.message),
  );
  assert.throws(
    () => runRecipe(echo, ["--shuffle", "yes"], collect()),
    (e: unknown) => e instanceof UsageError && /--shuffle must be one of true, false/.test(e.message),
  );
  const out = collect();
  assert.equal(runRecipe(echo, ["--help"], out), 0);
  assert.match(
    out.text,
    /usage: wnn train echo[\s\S]*Nobody 2024[\s\S]*--batch_size N\s+the recipe's batchSize \(default 4\) \[1 to 64\]/,
  );
  assert.match(out.text, /--lr X\s+the recipe's lr \(default 0\.5\) \[0 to 1,000,000\]/);
  // the bounds hold: a size past 16 × its default, a fractional count, a learning rate past 10⁶
  for (const [args, why] of [
    [["--batch_size", "65"], /--batch_size must be ≤ 64/],
    [["--batch_size", "2.5"], /--batch_size must be an integer/],
    [["--lr", "2e6"], /--lr must be ≤ 1000000/],
    [["--seed", "4294967296"], /--seed must be ≤ 4294967295/],
  ] as const) {
    assert.throws(
      () => runRecipe(echo, [...args], collect()),
      (e: unknown) => e instanceof UsageError && why.test(e.message),
      args.join(" "),
    );
  }
});

test("every numeric option of every recipe of the zoo has a range, printed in its --help", () => {
  for (const r of RECIPES) {
    const specs = recipeOptions(r);
    for (const [name, spec] of Object.entries(specs)) {
      if (spec.kind !== "int" && spec.kind !== "number") continue;
      assert.ok(
        spec.min !== undefined && spec.max !== undefined && Number.isFinite(spec.max),
        `${r.name} --${name} has no range`,
      );
      assert.ok(
        spec.default === undefined || ((spec.default as number) >= spec.min! && (spec.default as number) <= spec.max!),
        `${r.name} --${name}: its default ${String(spec.default)} is outside ${spec.min} to ${spec.max}`,
      );
      assert.match(recipeHelp(r), new RegExp(`--${name} [NX] .*\\[`), `${r.name} --${name} in --help`);
    }
  }
});
