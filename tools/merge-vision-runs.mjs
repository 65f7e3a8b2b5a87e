// Merge runs of vision-attention-compare that trained its models in separate processes (`--models <key>`,
// the same seed, data, canvas and budget each) into one folder: the comparison table (the runs' rows under
// one header, in the recipe's model order), one loss chart, the pictures, and the runs' metrics.
// Usage: npm run build && node tools/merge-vision-runs.mjs <out-folder> <run-folder> <run-folder> ...
//   e.g. node tools/merge-vision-runs.mjs runs/vision-plain runs/vision-plain-resnet runs/vision-plain-se ...
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { io } from "../dist/src/index.js";
import { CONTENDERS } from "../dist/src/recipes/vision-attention-compare.js";

const [out, ...runs] = process.argv.slice(2);
if (!out || runs.length === 0) {
  console.error("usage: node tools/merge-vision-runs.mjs <out-folder> <run-folder> ...");
  process.exit(2);
}
const order = CONTENDERS.map((c) => c.key);
const parsed = runs.map((run) => {
  const m = JSON.parse(readFileSync(join(run, "metrics.json"), "utf8"));
  const lines = readFileSync(join(run, "vision-attention-compare.md"), "utf8").trim().split("\n");
  const keys = String(m.options.models)
    .split(",")
    .map((k) => k.trim());
  return { run, m, header: lines.slice(0, 2), rows: lines.slice(2), keys };
});
// one protocol: every run with the same options but the models
const same = (o) => JSON.stringify({ ...o, models: undefined, vitLr: undefined, vitWarmup: undefined }); // the ViT's lr and warmup may differ: the page says which run the row comes from
for (const p of parsed)
  if (same(p.m.options) !== same(parsed[0].m.options))
    throw new Error(`${p.run}: its options differ from ${parsed[0].run}'s`);
const rows = parsed
  .flatMap((p) => p.keys.map((k, i) => ({ k, row: p.rows[i] })))
  .sort((a, b) => order.indexOf(a.k) - order.indexOf(b.k));
const table = [...parsed[0].header, ...rows.map((r) => r.row)].join("\n");
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "vision-attention-compare.md"), table + "\n");
// the loss curves from the metrics (key.trainLoss@step)
const name = (k) => CONTENDERS.find((c) => c.key === k).name;
const series = rows.map(({ k }) => {
  const p = parsed.find((q) => q.keys.includes(k));
  const points = Object.entries(p.m.metrics)
    .filter(([key]) => key.startsWith(`${k}.trainLoss@`))
    .map(([key, v]) => [Number(key.split("@")[1]), v]);
  return { name: name(k), points };
});
const o = parsed[0].m.options;
const task =
  o.canvas === 0 ? "digits (28x28)" : `cluttered digits (${o.canvas}x${o.canvas}, ${o.clutter} pieces of clutter)`; // ASCII: the chart font has no ×
writeFileSync(
  join(out, "loss.png"),
  io.lineChartPng({
    title: `${task}: training loss (mean over ${Math.ceil(o.steps / 5)} steps)`,
    xLabel: "step",
    yLabel: "cross-entropy",
    series,
  }),
);
for (const p of parsed) {
  for (const pic of ["cbam-spatial.png", "nonlocal-attention.png", "vit-rollout.png"])
    if (existsSync(join(p.run, pic))) copyFileSync(join(p.run, pic), join(out, pic));
}
const metrics = Object.assign({}, ...parsed.map((p) => p.m.metrics));
writeFileSync(
  join(out, "metrics.json"),
  JSON.stringify(
    {
      recipe: "vision-attention-compare",
      options: { ...o, models: rows.map((r) => r.k).join(",") },
      runs: parsed.map((p) => ({ folder: p.run, options: p.m.options })),
      metrics,
    },
    null,
    2,
  ) + "\n",
);
console.log(table);
