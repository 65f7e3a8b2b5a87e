// `wnn train <model> --workers N --strategy ...` for the zoo's models other than GPT: a decoder (LLaMA, FSDP) and an
// encoder-decoder (T5 on dates, ZeRO-2: its loss per target token weighted by each worker's share of the tokens)
// print the losses of `--workers 1` (the same digits; log.jsonl within 1e-6 relative); a run saved by 2 FSDP workers
// continues with 4 (ZeRO-1) as the uninterrupted single process; the models N workers would train differently
// (a mixture of experts, BatchNorm) and the recipes outside the shared loop refuse --workers with the reason.

import { strict as assert } from "node:assert";
import { join } from "node:path";
import { test } from "node:test";
import { printed, readLog, sameLosses, tmp, wnn } from "./parallel-helpers.js";

/** 3 steps of batch 4 (1, 2 sequences or dates per worker), evaluations at 0, 2 and 3. */
const QUICK = ["--batch_size", "4", "--eval_every", "2", "--log_interval", "1", "--sample_tokens", "0"];
const EVAL = { llama: ["--eval_size", "1"], t5: ["--eval_size", "20"] } as const;
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

for (const [model, N, strategy] of [
  ["llama", 2, "fsdp"],
  ["t5", 2, "zero2"],
] as const) {
  test(`wnn train ${model} --workers ${N} --strategy ${strategy} prints the losses of --workers 1`, () => {
    const one = single(model);
    const dir = join(tmp, `${model}-${strategy}-${N}`);
    const out = train(model, dir, "--workers", String(N), "--strategy", strategy);
    assert.match(
      out,
      new RegExp(`data parallel: ${N} workers \\(threads\\), strategy ${strategy}, ${4 / N} of each batch`),
    );
    assert.deepEqual(printed(out, LINES), printed(one, LINES));
    assert.equal(printed(out, LINES).length, 3 + 3 + 1); // every step, the 3 evaluations, the final line
    sameLosses(readLog(dir), readLog(join(tmp, `${model}-1`)), `${model} ${strategy} N=${N}`);
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

test("the models and recipes N workers would train differently refuse --workers with the reason, in one line", () => {
  const moe = wnn("train", "mixtral", "--steps", "1", "--workers", "2", "--out", join(tmp, "moe"));
  assert.equal(moe.code, 2);
  assert.match(
    moe.stderr,
    /^wnn: train mixtral: --workers 2: mixtral cannot train data-parallel: its routers' load-balancing loss/,
  );
  assert.equal(moe.stderr.trim().split("\n").length, 1);
  const recipe = wnn("train", "lenet5", "--workers", "2");
  assert.equal(recipe.code, 2);
  assert.match(recipe.stderr, /train lenet5: --workers: this recipe runs its own trainer to the end in one call/);
  const odd = wnn("train", "t5", "--steps", "1", ...QUICK, "--workers", "3", "--out", join(tmp, "odd"));
  assert.equal(odd.code, 2);
  assert.match(odd.stderr, /--batch_size 4 does not split evenly over --workers 3/);
});
