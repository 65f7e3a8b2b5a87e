// The `wnn` command line, run as a user runs it: `node dist/cli/wnn.js ...` in a child process, with
// tiny settings so that every run takes a second or two.

import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadCheckpoint } from "../../src/io/node.js";
import type { Tensor } from "../../src/engine/tensor.js";
import { ZOO } from "../../src/models/zoo.js";

const WNN = fileURLToPath(new URL("../../cli/wnn.js", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "wnn-cli-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function wnn(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [WNN, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A GPT small enough to train 20 steps in about a second. */
const TINY = [
  "--n_layer",
  "1",
  "--n_embd",
  "32",
  "--block_size",
  "16",
  "--batch_size",
  "4",
  "--eval_iters",
  "2",
  "--warmup_iters",
  "5",
];

type Entry = Record<string, number | string>;
const readLog = (dir: string): Entry[] =>
  readFileSync(join(dir, "log.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Entry);
/** The log without timings, which differ from run to run. */
const losses = (dir: string): Entry[] => readLog(dir).map(({ ms: _, ...rest }) => rest);

function sameBits(a: Record<string, Tensor>, b: Record<string, Tensor>, what: string): void {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), `${what}: the same tensors`);
  for (const k of Object.keys(a)) {
    assert.deepEqual(a[k]!.shape, b[k]!.shape, `${what} ${k}: shape`);
    const x = new Uint8Array(a[k]!.storage.buffer, a[k]!.storage.byteOffset, a[k]!.storage.byteLength);
    const y = new Uint8Array(b[k]!.storage.buffer, b[k]!.storage.byteOffset, b[k]!.storage.byteLength);
    assert.ok(Buffer.compare(x, y) === 0, `${what} ${k}: not bit-identical`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Usage errors: a clear message on stderr and exit code 2

test("usage errors exit 2 with a message that says what is wrong", () => {
  const cases: [string[], RegExp][] = [
    [["frobnicate"], /unknown command "frobnicate"/],
    [["train"], /train: which model\?/],
    [["train", "resnet50"], /train: unknown model "resnet50"/],
    [["train", "gpt", "--n_layr", "2"], /unknown option --n_layr \(did you mean --n_layer\?\)/],
    [["train", "gpt", "--iters", "abc"], /--iters must be an integer, got "abc"/],
    [["train", "gpt", "--iters", "2.5"], /--iters must be an integer/],
    [["train", "gpt", "--lr", "-1"], /--lr must be ≥ 0/],
    [["train", "gpt", "--iters"], /--iters needs a value/],
    [["train", "gpt", "--iters", "3", "--iters", "4"], /--iters is given twice/],
    [["train", "gpt", "stray"], /unexpected argument "stray"/],
    [["train", "gpt", "--n_embd", "30", "--n_head", "4"], /nEmbd 30 must be a multiple of nHead 4/],
    [["train", "mlp", "--optimizer", "lbfgs"], /--optimizer must be one of adam, sgd/],
    [["train", "cnn", "--epochs", "0"], /--epochs must be ≥ 1/],
    [["sample"], /sample: which model\? give --checkpoint/],
    [["sample", "--checkpoint", "x", "--top_p", "0"], /--top_p must be > 0/],
    [["list", "--jsn"], /unknown option --jsn \(did you mean --json\?\)/],
    [["train", "spirals", "--steps", "-3"], /--steps must be ≥ 0/],
  ];
  for (const [args, message] of cases) {
    const r = wnn(...args);
    assert.equal(r.code, 2, `wnn ${args.join(" ")}: exit code (stderr: ${r.stderr})`);
    assert.match(r.stderr, message, `wnn ${args.join(" ")}`);
    assert.match(r.stderr, /--help/, `wnn ${args.join(" ")}: points to --help`);
  }
});

test("--help on every command prints its usage and exits 0", () => {
  const cases: [string[], RegExp][] = [
    [["--help"], /commands:[\s\S]*train gpt/],
    [[], /usage: wnn <command>/],
    [["list", "--help"], /usage: wnn list/],
    [["sample", "--help"], /--top_k N[\s\S]*--seed N/],
    [["train", "--help"], /models: gpt, mlp, cnn, spirals/],
    [
      ["train", "gpt", "--help"],
      /--n_layer N\s+Transformer blocks \(default 4\)[\s\S]*--batch_size N\s+sequences per batch \(default 12\)[\s\S]*--resume DIR/,
    ],
    [["train", "mlp", "--help"], /usage: wnn train mlp[\s\S]*--epochs/],
    [["train", "cnn", "-h"], /LeNet-5/],
    [["train", "spirals", "--help"], /--hidden N/],
    [["help", "train", "gpt"], /usage: wnn train gpt/],
    // eval: the zoo's options, then a speech run's
    [
      ["eval", "--help"],
      /--eval_size N[\s\S]*train tacotron2 \| fastspeech2 \| vocoder[\s\S]*--vocoder griffin-lim\|DIR/,
    ],
    [["eval", "--checkpoint", "runs/none", "--help"], /--eval_size N[\s\S]*--gl_iters N/],
  ];
  for (const [args, usage] of cases) {
    const r = wnn(...args);
    assert.equal(r.code, 0, `wnn ${args.join(" ")} (stderr: ${r.stderr})`);
    assert.match(r.stdout, usage, `wnn ${args.join(" ")}`);
  }
});

// ---------------------------------------------------------------------------------------------------
// wnn list

test("list --json: every model of the zoo, each preset with its parameters computed", () => {
  const r = wnn("list", "--json");
  assert.equal(r.code, 0, r.stderr);
  type Listing = {
    name: string;
    kind: string;
    parameters: number | null;
    paper: string;
    trainsOn: string;
    commands: string[];
    presets: { name: string; parameters: number }[];
  };
  const zoo = JSON.parse(r.stdout) as Listing[];
  const by = new Map(zoo.map((e) => [e.name, e]));
  for (const m of ZOO) assert.equal(by.get(m.name)?.kind, "model", `${m.name} is listed`);
  const preset = (model: string, name: string): number =>
    by.get(model)!.presets.find((p) => p.name === name)!.parameters;
  assert.equal(preset("gpt2", "gpt2"), 124_439_808); // GPT-2 small as released (HF's num_parameters())
  // LeNet-5 as built here: conv 1→6 5×5, conv 6→16 5×5, conv 16→120 5×5 (= 400→120), 120→84→10, each with a bias
  assert.equal(
    preset("lenet5", "lenet5"),
    6 * 25 + 6 + (16 * 6 * 25 + 16) + (400 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10),
  );
  assert.equal(by.get("mlp")!.parameters, 784 * 512 + 512 + (512 * 256 + 256) + (256 * 10 + 10));
  assert.deepEqual(by.get("lenet5")!.commands, ["wnn train cnn", "wnn train lenet5"]);
  assert.deepEqual(by.get("resnet")!.commands, ["wnn train resnet"]);
  for (const e of zoo) {
    assert.ok(e.paper.length > 0 && e.trainsOn.length > 0 && e.commands.length + e.presets.length > 0, e.name);
    if (e.kind !== "comparison")
      assert.ok(
        typeof e.parameters === "number" && e.parameters > 0 && e.presets.every((p) => p.parameters > 0),
        `${e.name}: parameters computed`,
      );
  }
  assert.ok(zoo.some((e) => e.kind === "comparison" && e.name === "names-compare"));
  const text = wnn("list");
  assert.equal(text.code, 0);
  assert.match(text.stdout, /gpt2\s+GPT-2 \(tiny\), [\d,]+ parameters[\s\S]*gpt2\s+124,439,808 parameters\s+12 layers/);
  assert.doesNotMatch(text.stdout, /—/);
});

// ---------------------------------------------------------------------------------------------------
// wnn train gpt

test("train gpt writes the checkpoint, log.jsonl and loss.png and prints a sample", () => {
  const dir = join(tmp, "gpt");
  const r = wnn(
    "train",
    "gpt",
    ...TINY,
    "--iters",
    "20",
    "--eval_interval",
    "10",
    "--sample_tokens",
    "40",
    "--out",
    dir,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /step 20: train loss \d\.\d{4}, val loss \d\.\d{4}/);
  const sample = /--- sample: 40 characters[^\n]*---\n([\s\S]*)\n---\n/.exec(r.stdout);
  assert.ok(sample, `a sample in the output:\n${r.stdout}`);
  assert.equal([...sample[1]!].length, 41); // the prompt "\n" and 40 characters
  assert.equal(readFileSync(join(dir, "sample.txt"), "utf8"), sample[1] + "\n");

  const log = readLog(dir);
  assert.deepEqual(
    log.filter((e) => e.type === "train").map((e) => e.step),
    Array.from({ length: 20 }, (_, i) => i + 1),
  );
  assert.deepEqual(
    log.filter((e) => e.type === "eval").map((e) => e.step),
    [0, 10, 20],
  );
  for (const e of log)
    for (const k of e.type === "train" ? ["loss", "lr"] : ["train", "val"])
      assert.ok(Number.isFinite(e[k]), `${JSON.stringify(e)}: ${k}`);

  const png = readFileSync(join(dir, "loss.png"));
  assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
  const ckpt = loadCheckpoint(join(dir, "checkpoint.safetensors"));
  assert.equal(ckpt.step, 20);
  for (const k of ["tokEmb.weight", "posEmb.weight", "blocks.0.attn.wq.weight", "normF.bias"])
    assert.ok(k in ckpt.model, k);
  const config = ckpt.config as {
    kind: string;
    model: { nLayer: number };
    tokenizer: { type: string; chars: string[] };
  };
  assert.equal(config.kind, "gpt");
  assert.equal(config.model.nLayer, 1);
  assert.equal(config.tokenizer.type, "char");

  // a folder that holds a run is not overwritten
  const again = wnn("train", "gpt", ...TINY, "--iters", "1", "--out", dir);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already holds a run[\s\S]*--resume/);
  // a resumed run keeps its architecture
  const changed = wnn("train", "gpt", "--resume", dir, "--n_layer", "2");
  assert.equal(changed.code, 2);
  assert.match(changed.stderr, /--n_layer cannot change when resuming/);
});

test("exact resume: 10 steps, save, 10 more in a fresh process = 20 steps uninterrupted, bit for bit", () => {
  // dropout on, so the dropout generator's state is part of what must be restored
  const common = [
    ...TINY,
    "--dropout",
    "0.1",
    "--eval_interval",
    "5",
    "--lr_decay_iters",
    "20",
    "--sample_tokens",
    "0",
  ];
  const straight = join(tmp, "straight"),
    split = join(tmp, "split");
  assert.equal(wnn("train", "gpt", ...common, "--iters", "20", "--out", straight).code, 0);
  assert.equal(wnn("train", "gpt", ...common, "--iters", "10", "--out", split).code, 0);
  assert.equal(loadCheckpoint(join(split, "checkpoint.safetensors")).step, 10);
  // --steps: the recipes' name for --iters, accepted as its alias (and allowed to change on resume, as --iters is)
  const resumed = wnn("train", "gpt", "--resume", split, "--steps", "20", "--sample_tokens", "0");
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /resuming .* at step 10 of 20/);

  // the losses of every step and every estimate
  const a = losses(straight),
    b = losses(split);
  assert.equal(a.filter((e) => e.type === "train").length, 20);
  assert.deepEqual(b, a);
  // the parameters, the optimizer's moments, the generators
  const ca = loadCheckpoint(join(straight, "checkpoint.safetensors")),
    cb = loadCheckpoint(join(split, "checkpoint.safetensors"));
  assert.equal(cb.step, 20);
  sameBits(cb.model, ca.model, "model");
  sameBits(cb.optimizer!.tensors, ca.optimizer!.tensors, "optimizer");
  assert.deepEqual(cb.optimizer!.json, ca.optimizer!.json);
  assert.deepEqual(cb.scheduler, ca.scheduler);
  assert.deepEqual(cb.rng, ca.rng);
  assert.deepEqual(cb.extra, ca.extra);
  // so the files are the same bytes
  assert.ok(
    readFileSync(join(split, "checkpoint.safetensors")).equals(readFileSync(join(straight, "checkpoint.safetensors"))),
  );
});

test("Ctrl-C saves a loadable checkpoint, exits 130, and --resume continues as if never stopped", async () => {
  const dir = join(tmp, "sigint");
  const common = [...TINY, "--eval_interval", "25", "--lr_decay_iters", "5000", "--sample_tokens", "0"];
  const child = spawn(process.execPath, [WNN, "train", "gpt", ...common, "--iters", "5000", "--out", dir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("exit", (c) => resolve(c));
    child.on("error", reject);
    // interrupt once a few steps are logged
    const poll = setInterval(() => {
      const log = existsSync(join(dir, "log.jsonl")) ? readFileSync(join(dir, "log.jsonl"), "utf8") : "";
      if ((log.match(/"type":"train"/g) ?? []).length >= 3) {
        clearInterval(poll);
        child.kill("SIGINT");
      }
    }, 20);
  });
  assert.equal(code, 130, stdout);
  const ckpt = loadCheckpoint(join(dir, "checkpoint.safetensors"));
  const k = ckpt.step;
  assert.ok(k >= 3 && k < 5000, `stopped at step ${k}`);
  assert.match(stdout, new RegExp(`interrupted: saved .* at step ${k}; continue with: wnn train gpt --resume`));
  assert.equal(
    Math.max(
      ...readLog(dir)
        .filter((e) => e.type === "train")
        .map((e) => e.step as number),
    ),
    k,
  );

  // resume to k + 5 and compare with a run that went to k + 5 without stopping
  const end = String(k + 5);
  const resumed = wnn("train", "gpt", "--resume", dir, "--iters", end, "--sample_tokens", "0");
  assert.equal(resumed.code, 0, resumed.stderr);
  const straight = join(tmp, "sigint-straight");
  assert.equal(wnn("train", "gpt", ...common, "--iters", end, "--out", straight).code, 0);
  assert.deepEqual(losses(dir), losses(straight));
  sameBits(
    loadCheckpoint(join(dir, "checkpoint.safetensors")).model,
    loadCheckpoint(join(straight, "checkpoint.safetensors")).model,
    "model",
  );
});

// ---------------------------------------------------------------------------------------------------
// wnn sample

test("sample from a checkpoint is deterministic with a seed", () => {
  const dir = join(tmp, "for-sample");
  assert.equal(
    wnn("train", "gpt", ...TINY, "--iters", "5", "--eval_interval", "5", "--sample_tokens", "0", "--out", dir).code,
    0,
  );
  const run = (...extra: string[]): string => {
    const r = wnn("sample", "--checkpoint", dir, "--prompt", "Call me", "--tokens", "60", ...extra);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const a = run("--seed", "7"),
    b = run("--seed", "7"),
    c = run("--seed", "8");
  assert.equal(a, b);
  assert.notEqual(a, c);
  assert.ok(a.startsWith("Call me"));
  assert.equal([...a].length, "Call me".length + 60 + 1); // and a newline
  // greedy decoding needs no seed
  assert.equal(run("--temperature", "0", "--seed", "1"), run("--temperature", "0", "--seed", "2"));
  // the checkpoint file itself works as well as its folder
  assert.equal(
    wnn(
      "sample",
      "--checkpoint",
      join(dir, "checkpoint.safetensors"),
      "--prompt",
      "Call me",
      "--tokens",
      "60",
      "--seed",
      "7",
    ).stdout,
    a,
  );

  const unknown = wnn("sample", "--checkpoint", dir, "--prompt", "日本");
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /the prompt has a character the model does not know/);
  const missing = wnn("sample", "--checkpoint", join(tmp, "nowhere"));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot open/);
});

// ---------------------------------------------------------------------------------------------------
// MNIST and spirals (tiny runs: the real numbers are measured by hand, see the CLI's report)

test("train cnn and train mlp run an epoch, print the test accuracy and write their files", () => {
  // LeNet-5 sits on a plateau for its first ~15 steps; the MLP learns from the start
  for (const [model, subset, batch] of [
    ["cnn", "960", "16"],
    ["mlp", "256", "64"],
  ] as const) {
    const dir = join(tmp, model);
    const r = wnn("train", model, "--epochs", "1", "--subset", subset, "--batch_size", batch, "--out", dir);
    assert.equal(r.code, 0, r.stderr);
    const acc = /test accuracy: (\d+\.\d\d)% \((\d+)\/2000\)/.exec(r.stdout);
    assert.ok(acc, r.stdout);
    assert.ok(Number(acc[2]) > 400, `${model}: well above chance (10%) after one short epoch (${acc[0]})`);
    for (const f of ["checkpoint.safetensors", "log.jsonl", "loss.png"])
      assert.ok(existsSync(join(dir, f)), `${model}: ${f}`);
    const tests = readLog(dir).filter((e) => e.type === "test");
    assert.equal(tests.length, 1);
    assert.equal(tests[0]!.accuracy, Number(acc[2]) / 2000);
  }
});

test("train spirals still works", () => {
  const r = wnn("train", "spirals", "--steps", "50", "--every", "25");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /step\s+50\s+loss \d\.\d{4}\s+accuracy/);
});
