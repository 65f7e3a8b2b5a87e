// Merge the accuracy-vs-length tables of several runs of the seq2seq-attention recipe (the decoders of one
// task trained in separate processes, with the same seed, data stream and budget) into one table and one
// line chart. Usage: npm run build && node tools/merge-seq2seq-runs.mjs <out-folder> <run-folder> <run-folder> ...
//   e.g. node tools/merge-seq2seq-runs.mjs runs/s2s-dates runs/s2s-dates-a runs/s2s-dates-b
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { io } from "../dist/src/index.js";

const [out, ...runs] = process.argv.slice(2);
if (!out || runs.length === 0) {
  console.error("usage: node tools/merge-seq2seq-runs.mjs <out-folder> <run-folder> ...");
  process.exit(2);
}
const cells = (line) =>
  line
    .split("|")
    .slice(1, -1)
    .map((c) => c.trim());
let rows = null,
  header = null,
  task = "";
for (const run of runs) {
  const lines = readFileSync(join(run, "accuracyByLength.md"), "utf8").trim().split("\n");
  task = JSON.parse(readFileSync(join(run, "metrics.json"), "utf8")).options.task;
  const h = cells(lines[0]),
    body = lines.slice(2).map(cells);
  if (!rows) {
    header = h;
    rows = body;
  } else {
    if (body.length !== rows.length || body.some((r, i) => r[0] !== rows[i][0] || r[1] !== rows[i][1]))
      throw new Error(`${run}: its buckets differ from ${runs[0]}'s`);
    header.push(...h.slice(2));
    body.forEach((r, i) => rows[i].push(...r.slice(2)));
  }
}
const table = [
  `| ${header.join(" | ")} |`,
  `|${header.map(() => "---").join("|")}|`,
  ...rows.map((r) => `| ${r.join(" | ")} |`),
].join("\n");
const models = header.slice(2).map((h) => h.replace(/ exact \/ token %$/, ""));
const buckets = rows.filter((r) => r[0] !== "all").map((r) => r[0].split("–").map(Number));
const series = models.map((name, k) => ({
  name,
  points: rows
    .filter((r) => r[0] !== "all")
    .map((r, i) => [(buckets[i][0] + buckets[i][1]) / 2, Number(r[2 + k].replace(/\*/g, "").split(" / ")[0])]),
}));
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "accuracyByLength.md"), table + "\n");
writeFileSync(
  join(out, "accuracy-vs-length.png"),
  io.lineChartPng({
    title: `${task}: exact match vs input length`,
    xLabel: "input length (bucket middle)",
    yLabel: "exact match %",
    yRange: [0, 100],
    series,
  }),
);
console.log(table);
console.log(`wrote ${out}/accuracyByLength.md and accuracy-vs-length.png`);
