// `wnn compare`, run as a user runs it (node dist/cli/wnn.js in a child process): the architecture table
// of two models, usage errors, and --train on the cheapest pair (GCN and GAT, a few full-batch epochs).

import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { formatKinds } from "../../src/models/architecture.js";
import { findModel } from "../../src/models/zoo.js";

const WNN = fileURLToPath(new URL("../../cli/wnn.js", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "wnn-compare-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function wnn(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [WNN, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The cells of a markdown table's row, by its label. */
function row(table: string, label: string): string[] {
  const line = table.split("\n").find((l) => l.startsWith(`| ${label} `));
  assert.ok(line, `a row "${label}" in\n${table}`);
  return line
    .split(/(?<!\\)\|/)
    .slice(2, -1)
    .map((c) => c.trim());
}

test("compare gpt2 char-rnn: the architecture table, every cell from the models' describe()", () => {
  const r = wnn("compare", "gpt2", "char-rnn");
  assert.equal(r.code, 0, r.stderr);
  const gpt = findModel("gpt2").preset.describe(),
    lstm = findModel("char-rnn").preset.describe();
  assert.deepEqual(row(r.stdout, ""), ["gpt2:tiny", "char-rnn:lstm"]);
  assert.deepEqual(row(r.stdout, "model"), ["GPT-2 (tiny)", "LSTM"]);
  assert.deepEqual(
    row(r.stdout, "parameters"),
    [gpt.parameters, lstm.parameters].map((n) => n.toLocaleString("en-US")),
  );
  assert.deepEqual(row(r.stdout, "layers (with parameters)"), [formatKinds(gpt.layers), formatKinds(lstm.layers)]);
  assert.match(row(r.stdout, "normalisation")[0]!, /^LayerNorm .*pre-LN/);
  assert.equal(row(r.stdout, "normalisation")[1], "none");
  assert.match(row(r.stdout, "attention")[0]!, /causal multi-head self-attention, 4 heads × 32/);
  assert.equal(row(r.stdout, "attention")[1], "none");
  assert.match(row(r.stdout, "positions")[0]!, /learned absolute/);
  assert.match(row(r.stdout, "activation")[0]!, /GELU/);
  assert.deepEqual(row(r.stdout, "forward FLOPs"), [
    `${gpt.flops.value.toLocaleString("en-US")} per token (context 64)`,
    `${lstm.flops.value.toLocaleString("en-US")} per token (any length)`,
  ]);
  // model:preset and a unique preset name
  const p = wnn("compare", "gpt2:gpt2", "gru", "resnet:resnet20-mnist");
  assert.equal(p.code, 0, p.stderr);
  assert.deepEqual(row(p.stdout, "parameters"), ["124,439,808", "25,277", "272,186"]);
});

test("compare gpt2 llama: the decoder-only siblings side by side, their differences in the generated table", () => {
  const r = wnn("compare", "gpt2", "llama");
  assert.equal(r.code, 0, r.stderr);
  const gpt = findModel("gpt2").preset.describe(),
    llama = findModel("llama").preset.describe();
  assert.deepEqual(row(r.stdout, ""), ["gpt2:tiny", "llama:tiny"]);
  assert.deepEqual(
    row(r.stdout, "parameters"),
    [gpt.parameters, llama.parameters].map((n) => n.toLocaleString("en-US")),
  );
  const [gptNorm, llamaNorm] = row(r.stdout, "normalisation");
  assert.match(gptNorm!, /^LayerNorm /);
  assert.match(llamaNorm!, /^RMSNorm /);
  const [gptPos, llamaPos] = row(r.stdout, "positions");
  assert.match(gptPos!, /^learned absolute/);
  assert.match(llamaPos!, /^rotary \(RoPE/);
  assert.match(
    row(r.stdout, "attention")[1]!,
    /grouped-query self-attention, 4 query heads × 32 sharing 2 key\/value heads/,
  );
  assert.match(row(r.stdout, "activation")[1]!, /^SwiGLU/);
  assert.deepEqual(row(r.stdout, "layers (with parameters)"), [formatKinds(gpt.layers), formatKinds(llama.layers)]);
  assert.deepEqual(
    row(r.stdout, "forward FLOPs")[1],
    `${llama.flops.value.toLocaleString("en-US")} per token (context 64)`,
  );
  // the released checkpoints are described from their configs, nothing allocated: 7B parameters, printed at once
  const big = wnn("compare", "llama:llama-2-7b", "falcon:falcon-7b", "bloom:bloom-560m");
  assert.equal(big.code, 0, big.stderr);
  assert.deepEqual(row(big.stdout, "parameters"), ["6,738,415,616", "6,921,720,704", "559,214,592"]);
});

test("compare: unknown models and bad combinations are usage errors (exit 2)", () => {
  const cases: [string[], RegExp][] = [
    [["compare", "gpt2", "resnet50"], /compare: unknown model "resnet50"; the zoo: gpt2, .*char-rnn/],
    [["compare", "gpt2:huge"], /unknown preset "huge" of gpt2; its presets are tiny, gpt2, names/],
    [
      ["compare", "names"],
      /"names" is a preset of gpt2:names and bengio-mlp:names and llama:names and bloom:names and falcon:names: say which/,
    ],
    [["compare"], /compare: which models\?/],
    [["compare", "gpt2", "lenet5", "--train"], /gpt2 \(names, moby-dick\), lenet5 \(mnist\) share no task to train on/],
    [["compare", "gcn", "gat", "--steps", "3"], /--steps and --batch_size need --train/],
    [["compare", "lenet5", "lenet5:lenet5-32", "--train"], /lenet5:lenet5-32 does not train on the mnist task/],
    [["compare", "gcn", "--stpes", "3"], /unknown option --stpes \(did you mean --steps\?\)/],
  ];
  for (const [args, message] of cases) {
    const r = wnn(...args);
    assert.equal(r.code, 2, `wnn ${args.join(" ")}: exit code (stderr: ${r.stderr})`);
    assert.match(r.stderr, message, `wnn ${args.join(" ")}`);
    assert.match(r.stderr, /wnn compare --help/);
  }
  const help = wnn("compare", "--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /usage: wnn compare <model> <model>[\s\S]*--train[\s\S]*--steps N/);
});

test("compare gpt2 llama --train: the decoder siblings share the names task (their names presets), one budget", () => {
  const r = wnn("compare", "gpt2", "llama", "--train", "--steps", "3", "--seed", "1");
  assert.equal(r.code, 0, r.stderr);
  const results = r.stdout.slice(r.stdout.indexOf("Trained on"));
  assert.deepEqual(row(results, ""), ["gpt2:names", "llama:names"]);
  assert.deepEqual(
    row(results, "parameters"),
    ["gpt2:names", "llama:names"].map((n) => findModel(n).preset.describe().parameters.toLocaleString("en-US")),
  );
  const loss = row(results, "val loss (nats/char), lower is better").map(Number);
  // 3 steps from a uniform start: below the uniform ln 28 = 3.33 is not asked, only a finite loss near it
  for (const l of loss) assert.ok(Number.isFinite(l) && l > 2 && l < 4, String(l));
});

test("compare --train for the sibling groups the docs list: each trains on the task its group shares (a preset's, or the kind's default task)", () => {
  const groups: [string[], string, string[]][] = [
    [["bert", "roberta", "deberta"], "held-out MLM loss (nats/masked char), lower is better", ["--batch_size", "2"]],
    [["t5", "bart"], "exact match (%), higher is better", ["--batch_size", "2", "--test_limit", "2"]],
    [["llama", "mixtral"], "val loss (nats/char), lower is better", ["--batch_size", "2"]],
    [["gpt2", "switch"], "val loss (nats/char), lower is better", ["--batch_size", "2"]],
    // the vision siblings (resnet senet cbam non-local vit) share their MNIST presets' task: two of them stand for the five
    [["senet", "vit"], "test accuracy (%), higher is better", ["--batch_size", "4", "--test_limit", "10"]],
  ];
  for (const [models, metric, options] of groups) {
    const r = wnn("compare", ...models, "--train", "--steps", "1", ...options);
    assert.equal(r.code, 0, `${models.join(" ")}: ${r.stderr}`);
    const results = r.stdout.slice(r.stdout.indexOf("Trained on"));
    const values = row(results, metric).map(Number);
    assert.equal(values.length, models.length);
    for (const x of values) assert.ok(Number.isFinite(x) && x >= 0, `${models.join(" ")}: ${metric} ${x}`);
  }
});

test("compare gcn gat --train: one budget, side by side, also as markdown", () => {
  const file = join(tmp, "graphs.md");
  const r = wnn("compare", "gcn", "gat", "--train", "--steps", "4", "--seed", "1", "--out", file);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Trained on node classification .*: 4 full-batch epochs, seed 1/);
  const results = r.stdout.slice(r.stdout.indexOf("Trained on"));
  assert.deepEqual(row(results, ""), ["gcn:sbm", "gat:sbm"]);
  assert.deepEqual(
    row(results, "parameters"),
    ["gcn:sbm", "gat:sbm"].map((n) => findModel(n).preset.describe().parameters.toLocaleString("en-US")),
  );
  for (const label of ["training time (s)", "wall time with evaluation (s)", "peak memory (maxRSS, MiB)"]) {
    for (const cell of row(results, label))
      assert.ok(Number(cell) >= 0 && Number.isFinite(Number(cell)), `${label}: ${cell}`);
  }
  for (const cell of row(results, "peak memory (maxRSS, MiB)"))
    assert.ok(Number(cell) > 10, `a Node process takes more than 10 MiB: ${cell}`);
  const acc = row(results, "test accuracy (%), higher is better").map(Number);
  for (const a of acc) assert.ok(a >= 0 && a <= 100, String(a));
  // the same seed gives the same metric (each model in a fresh process)
  const again = wnn("compare", "gcn", "gat", "--train", "--steps", "4", "--seed", "1");
  assert.deepEqual(
    row(again.stdout.slice(again.stdout.indexOf("Trained on")), "test accuracy (%), higher is better").map(Number),
    acc,
  );
  const md = readFileSync(file, "utf8");
  assert.match(
    md,
    /^# wnn compare gcn gat --train\n\n## Architecture\n\n\| +\| gcn:sbm +\| gat:sbm +\|[\s\S]*## Trained on node classification[\s\S]*\| test accuracy \(%\), higher is better/,
  );
});
