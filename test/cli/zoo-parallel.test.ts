// `wnn train <model> --workers N --strategy ...` for the zoo's models other than GPT: a decoder (LLaMA, FSDP) and an
// encoder-decoder (T5 on dates, ZeRO-2: its loss per target token weighted by each worker's share of the tokens)
// print the losses of `--workers 1` (the same digits; log.jsonl within 1e-6 relative); a run saved by 2 FSDP workers
// continues with 4 (ZeRO-1) as the uninterrupted single process, and a T5 run saved sharded by 2 FSDP workers (its
// blocks FSDP units, recomputed in backward) continues sharded by 4 (ZeRO-2) likewise; lenet5, a recipe of its own
// (trainClassifier), trains on 4 ZeRO-1 workers with one process's losses.
// The BatchNorm models (SE-ResNet with DDP, CBAM with FSDP; `wnn train resnet`, a recipe of its own, with DDP and
// ZeRO-2) normalize by the statistics of every worker's rows together (a synchronized BatchNorm): their losses, test
// accuracy and loss, and running statistics are one process's. The mixtures of experts (Switch with ZeRO-2, Mixtral
// with FSDP) route with the whole batch's load balance and capacity (synchronized routing): their losses are one
// process's.
// What N workers would train differently refuses with the reason: the full-batch graphs, a batch that does not split.

import { strict as assert } from "node:assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadCheckpoint } from "../../src/io/node.js";
import { compareRecipe, printed, readLog, sameLosses, tmp, wnn } from "./parallel-helpers.js";

/** 3 steps of batch 4 (1, 2 sequences or dates per worker), evaluations at 0, 2 and 3. */
const QUICK = ["--batch_size", "4", "--eval_every", "2", "--log_interval", "1", "--sample_tokens", "0"];
const EVAL = {
  llama: ["--eval_size", "1"],
  t5: ["--eval_size", "20"],
  senet: ["--eval_size", "100"],
  switch: ["--eval_size", "1"],
  mixtral: ["--eval_size", "1"],
  cbam: ["--eval_size", "100"],
} as const;
const LINES = /^(step \d|final:)/;

function train(model: keyof typeof EVAL, dir: string, ...args: string[]): string {
  const steps = args.includes("--steps") ? [] : ["--steps", "3"];
  const r = wnn("train", model, ...steps, ...QUICK, ...EVAL[model], "--out", dir, ...args);
  assert.equal(r.code, 0, `${model} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

const singles = new Map<string, string>();
const single = (model: keyof typeof EVAL): string => {
  if (!singles.has(model)) singles.set(model, train(model, join(tmp, `${model}-1`)));
  return singles.get(model)!;
};

for (const [model, N, strategy, ...more] of [
  ["llama", 2, "fsdp"],
  ["t5", 2, "zero2"],
  ["senet", 2, "ddp"],
  ["switch", 2, "zero2"],
  ["mixtral", 2, "fsdp"],
  ["cbam", 2, "fsdp"],
] as const) {
  test(`wnn train ${model} --workers ${N} --strategy ${strategy}${more.map((m) => " " + m).join("")} prints the losses of --workers 1`, (t) => {
    const one = single(model);
    const dir = join(tmp, `${model}-${strategy}-${N}`);
    const out = train(model, dir, "--workers", String(N), "--strategy", strategy, ...more);
    assert.match(
      out,
      new RegExp(`data parallel: ${N} workers \\(threads\\), strategy ${strategy}, ${4 / N} of each batch`),
    );
    assert.deepEqual(printed(out, LINES), printed(one, LINES));
    assert.equal(printed(out, LINES).length, 3 + 3 + 1); // every step, the 3 evaluations, the final line
    const worst = sameLosses(readLog(dir), readLog(join(tmp, `${model}-1`)), `${model} ${strategy} N=${N}`);
    t.diagnostic(`largest relative difference from --workers 1: ${worst.toExponential(1)}`);
    if (model === "senet" || model === "cbam") {
      // the BatchNorms' running statistics (what the evaluations normalize by), as one process's: each variance
      // within 1e-5 relative (the workers' float32 statistics combined round otherwise than one pass over the
      // batch: senet's stages.1.0.norm1 channel 13 differs by 1.5e-6 while every loss is bit-identical); each mean within 1e-6 of its channel's running standard deviation (a mean near 0 is
      // a cancellation of values of that size, so its own relative difference measures nothing: (x − μ)/σ moves by
      // Δμ/σ), the scale the normalized output sees
      const [a, b] = [dir, join(tmp, `${model}-1`)].map((d) => loadCheckpoint(join(d, "checkpoint.safetensors")).model);
      const means = Object.keys(b!).filter((k) => k.endsWith("runningMean"));
      assert.ok(means.length >= 5, means.join(", "));
      const far = { mean: 0, variance: 0 };
      for (const k of means) {
        const v = k.replace(/runningMean$/, "runningVar");
        const [m1, mN, v1, vN] = [b![k]!, a![k]!, b![v]!, a![v]!].map((x) => x.dataSync());
        v1!.forEach((want, c) => {
          const rv = Math.abs(vN![c]! - want) / want,
            rm = Math.abs(mN![c]! - m1![c]!) / Math.sqrt(want);
          assert.ok(rv <= 1e-5, `${v}[${c}]: ${vN![c]} vs ${want}`);
          assert.ok(rm <= 1e-6, `${k}[${c}]: ${mN![c]} vs ${m1![c]} (σ ${Math.sqrt(want)})`);
          far.variance = Math.max(far.variance, rv);
          far.mean = Math.max(far.mean, rm);
        });
      }
      t.diagnostic(
        `running statistics: variances within ${far.variance.toExponential(1)} relative, means within ${far.mean.toExponential(1)} σ`,
      );
    }
  });
}

for (const strategy of ["ddp", "zero2"]) {
  test(`wnn train resnet (a recipe of its own) --workers 2 --strategy ${strategy}: its synchronized BatchNorms give the losses and test metrics of --workers 1`, (t) => {
    const { worst } = compareRecipe(
      "resnet",
      ["--epochs", "2", "--train_limit", "32", "--batch_size", "8", "--test_limit", "100"],
      2,
      strategy,
      /loss \d/,
      /^(trainLoss|testLoss|testAccuracy)$/,
    );
    t.diagnostic(`largest relative difference from --workers 1: ${worst.toExponential(1)}`);
  });
}

test("wnn train llama: a run saved by 2 FSDP workers continues with 4 (ZeRO-1) as if never stopped", () => {
  single("llama");
  const dir = join(tmp, "llama-resumed");
  train("llama", dir, "--steps", "2", "--lr_decay_steps", "3", "--workers", "2", "--strategy", "fsdp");
  const r = wnn("train", "llama", "--resume", dir, "--steps", "3", "--workers", "4", "--strategy", "zero1");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /resuming .* at step 2 of 3/);
  sameLosses(readLog(dir), readLog(join(tmp, "llama-1")), "saved by 2 FSDP workers, continued by 4 (ZeRO-1)");
});

test("wnn train t5: saved sharded by 2 FSDP workers (each block a unit, checkpointing), continued by 4 (ZeRO-2, sharded) as if never stopped", () => {
  single("t5");
  const dir = join(tmp, "t5-sharded");
  const A = ["--sharded_checkpoint", "--checkpointing"];
  const first = train("t5", dir, "--steps", "2", "--lr_decay_steps", "3", "--workers", "2", "--strategy", "fsdp", ...A);
  assert.match(first, /strategy fsdp, 2 of each batch per worker, activation checkpointing, sharded checkpoints in/);
  assert.ok(existsSync(join(dir, "sharded", "latest")) && !existsSync(join(dir, "checkpoint.safetensors")));
  const r = wnn("train", "t5", "--resume", dir, "--steps", "3", "--workers", "4", "--strategy", "zero2", ...A);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /resuming .* at step 2 of 3/);
  sameLosses(readLog(dir), readLog(join(tmp, "t5-1")), "saved by 2 FSDP workers, continued by 4 (ZeRO-2)");
  const index = JSON.parse(readFileSync(join(dir, "sharded", "step-000003", "index.json"), "utf8")) as {
    shards: number;
  };
  assert.equal(index.shards, 4); // re-sharded for 4 workers
  const e = wnn("eval", "--checkpoint", dir, "--json"); // read back from the shards
  assert.equal(e.code, 0, e.stderr);
  assert.equal((JSON.parse(e.stdout) as { step: number }).step, 3);
});

// With dropout each worker draws its block of the masks one process draws for the whole batch (forwardOnRows), so the
// losses are still those of --workers 1: the encoders' own 0.1 (DeBERTa's dropout on its relative-position table,
// which every row shares, one whole mask on every worker) and T5 with --dropout 0.1 (its rows padded as the whole
// batch). Batch 6: 3 or 2 of each batch per worker; --checkpointing draws the masks again in backward.
const DROPOUT = {
  bert: ["--eval_size", "1"],
  deberta: ["--eval_size", "1"],
  t5: ["--eval_size", "20", "--dropout", "0.1"],
} as const;
const DROPOUT_RUN = ["--steps", "3", "--batch_size", "6", "--eval_every", "2", "--log_interval", "1"];
function trainDropout(model: keyof typeof DROPOUT, dir: string, ...args: string[]): string {
  const r = wnn("train", model, ...DROPOUT_RUN, "--sample_tokens", "0", ...DROPOUT[model], "--out", dir, ...args);
  assert.equal(r.code, 0, `${model} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}
const dropoutSingles = new Map<string, string>();
const dropoutSingle = (model: keyof typeof DROPOUT): string => {
  if (!dropoutSingles.has(model)) dropoutSingles.set(model, trainDropout(model, join(tmp, `${model}-dropout-1`)));
  return dropoutSingles.get(model)!;
};

for (const [model, N, strategy, extra] of [
  ["deberta", 3, "zero2"],
  ["deberta", 2, "fsdp", "--checkpointing"],
  ["bert", 2, "ddp"],
  ["t5", 2, "fsdp", "--checkpointing"],
  ["t5", 3, "ddp"],
] as const) {
  test(`wnn train ${model} with dropout --workers ${N} --strategy ${strategy}${extra ? ` ${extra}` : ""} prints the losses of --workers 1`, (t) => {
    const one = dropoutSingle(model);
    assert.match(one, /dropout 0\.1/);
    const dir = join(tmp, `${model}-dropout-${strategy}-${N}`);
    const out = trainDropout(model, dir, "--workers", String(N), "--strategy", strategy, ...(extra ? [extra] : []));
    assert.match(
      out,
      new RegExp(`data parallel: ${N} workers \\(threads\\), strategy ${strategy}, ${6 / N} of each batch`),
    );
    assert.doesNotMatch(out, /note|not those of --workers 1/);
    assert.deepEqual(printed(out, LINES), printed(one, LINES));
    assert.equal(printed(out, LINES).length, 3 + 3 + 1); // every step, the 3 evaluations, the final line
    const worst = sameLosses(readLog(dir), readLog(join(tmp, `${model}-dropout-1`)), `${model} ${strategy} N=${N}`);
    t.diagnostic(`largest relative difference from --workers 1: ${worst.toExponential(1)}`);
  });
}

test("wnn train lenet5 (a recipe of its own) --workers 4 --strategy zero1 prints the losses of --workers 1", () => {
  const A = ["--epochs", "1", "--train_limit", "256", "--test_limit", "100", "--batch_size", "64"];
  const lines = /loss \d/;
  const metrics = (dir: string) =>
    (JSON.parse(readFileSync(join(dir, "metrics.json"), "utf8")) as { metrics: Record<string, number> }).metrics;
  const run = (dir: string, ...args: string[]): string => {
    const r = wnn("train", "lenet5", ...A, "--out", dir, ...args);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const [one, four] = [join(tmp, "lenet5-1"), join(tmp, "lenet5-4")];
  const a = run(one),
    b = run(four, "--workers", "4", "--strategy", "zero1");
  assert.match(b, /data parallel: 4 workers \(threads\), strategy zero1/);
  assert.deepEqual(printed(b, lines), printed(a, lines));
  assert.ok(printed(a, lines).length >= 2);
  const [m1, m4] = [metrics(one), metrics(four)];
  for (const k of ["trainLoss", "testLoss", "testAccuracy"])
    assert.ok(Math.abs(m4[k]! - m1[k]!) <= 1e-6 * Math.abs(m1[k]!), `${k}: ${m4[k]} vs ${m1[k]}`);
});

test("the models and recipes N workers would train differently refuse --workers with the reason, in one line", () => {
  const graph = wnn("train", "gcn", "--workers", "2");
  assert.equal(graph.code, 2);
  assert.match(graph.stderr, /train gcn: --workers: gcn cannot train data-parallel: it trains full-batch on one graph/);
  assert.equal(graph.stderr.trim().split("\n").length, 1);
  // the speech trainings take --workers (test/cli/tts-parallel.test.ts); a batch that does not split is refused
  const tts = wnn("train", "fastspeech2", "--workers", "3");
  assert.equal(tts.code, 2);
  assert.match(tts.stderr, /train fastspeech2: --batch_size 16 does not split evenly over --workers 3/);
  assert.equal(tts.stderr.trim().split("\n").length, 1);
  const odd = wnn("train", "t5", "--steps", "1", ...QUICK, "--workers", "3", "--out", join(tmp, "odd"));
  assert.equal(odd.code, 2);
  assert.match(odd.stderr, /--batch_size 4 does not split evenly over --workers 3/);
});
