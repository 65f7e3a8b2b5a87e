// The node-classification recipes: the protocol runs end to end (a short budget), the table and metrics
// have what the READMEs report, the karate picture is a PNG, the layout is seeded.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator } from "../index.js";
import { karateClub } from "../data/graphs.js";
import { graphRecipe, graphsRecipe, springLayout, trainOnGraph } from "./graphs.js";
import { gcnRecipe } from "../models/gcn/recipe.js";
import { gatRecipe } from "../models/gat/recipe.js";

test("graph recipes: names, defaults, a short run gives the table, the metrics and karate.png", () => {
  assert.deepEqual([gcnRecipe.name, gatRecipe.name, graphsRecipe.name], ["gcn", "gat", "graphs"]);
  assert.deepEqual(graphsRecipe.needs, []);
  const lines: string[] = [];
  const recipe = graphRecipe("both", "test", ["mlp", "gcn"]);
  const r = recipe.run(
    { ...recipe.defaults, seeds: 2, epochs: 3 },
    {},
    { log: (l) => lines.push(l) },
    new Generator(0),
  );
  assert.equal(lines.length, 2 * 2 * 2, "one line per model, graph and seed");
  const table = r.tables!.accuracy!;
  assert.match(table, /\| MLP \(features only, no graph\) \| \d+\.\d ± \d+\.\d \|/);
  assert.match(table, /\| GCN \(Kipf & Welling 2017\) \|/);
  assert.match(table, /over 2 seeds/);
  for (const key of ["gcn_sbm_test_acc_mean", "gcn_karate_test_acc_std", "mlp_karate_parameters"])
    assert.ok(Number.isFinite(r.metrics[key]), key);
  const png = r.images!["karate.png"]!;
  assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], "a PNG signature");
});

test("trainOnGraph: the same seed gives the same run; the karate club reports the last epoch", () => {
  const g = karateClub();
  const a = trainOnGraph("gcn", g, 3, 5),
    b = trainOnGraph("gcn", g, 3, 5);
  assert.equal(a.testAccuracy, b.testAccuracy);
  assert.deepEqual([...a.predictions], [...b.predictions]);
  assert.equal(a.epoch, 5, "no validation nodes: the last epoch");
  assert.ok(Number.isNaN(a.valAccuracy));
  assert.deepEqual(springLayout(g, 1, 20), springLayout(g, 1, 20));
  for (const [x, y] of springLayout(g, 1, 20)) assert.ok(x >= 0 && x <= 1 && y >= 0 && y <= 1);
});
