// `wnn train <recipe> --workers N --strategy ...` for the recipes of the shared loop beyond lenet5: char-rnn (the
// names trainer: each worker's loss weighted by its share of the batch's characters) on 4 FSDP workers and the
// decoder-compare comparison (its four models stepped in turn, each data-parallel) on 2 FSDP workers, and
// encoder-decoder-compare (pretraining, then fine-tuning on dates) on 2 FSDP workers print the losses of
// `--workers 1` (the same digits), with the final metrics within 1e-6 relative; in the last two each Transformer
// block is an FSDP unit of its own. vision-attention-compare on 2 ZeRO-2 workers likewise: its ResNet, SE, CBAM and
// non-local contenders normalize by the statistics of every worker's rows together (synchronized BatchNorm); and
// moe-compare on 2 ZeRO-1 workers, its Switch models routing with the whole batch's load balance and capacity.

import { strict as assert } from "node:assert";
import { test } from "node:test";
import { compareRecipe as compare } from "./parallel-helpers.js";

test("wnn train char-rnn --workers 4 --strategy fsdp prints the losses of --workers 1", () => {
  compare(
    "char-rnn",
    ["--steps", "12", "--batch_size", "16", "--eval_every", "6", "--samples", "2"],
    4,
    "fsdp",
    /^step \d+\/\d+: train/,
    /^(valLoss|trainLoss)$/,
  );
});

test("wnn train decoder-compare --workers 2 --strategy fsdp: each of its four models, each block a unit, prints the losses of --workers 1", () => {
  const { many } = compare(
    "decoder-compare",
    [
      ...["--steps", "3", "--batch_size", "4", "--n_layer", "1", "--n_embd", "32", "--block_size", "16"],
      ...["--eval_every", "2", "--eval_batches", "1", "--sample_chars", "5"],
    ],
    2,
    "fsdp",
    /^step \d+ train\/val:/,
    /\.(trainLoss|valLoss|firstBatchLoss|lastBatchLoss)$/,
  );
  // one block each: the root and the block
  assert.equal(many.match(/FSDP: 2 units \(the root and each block\)/g)?.length, 4, many);
});

test("wnn train encoder-decoder-compare --workers 2 --strategy fsdp: pretraining and fine-tuning print the losses of --workers 1", () => {
  // each of its six runs data-parallel, a worker's loss weighted by its share of the batch's target tokens; the
  // fine-tuning of the pretrained T5 continues the model the workers consolidated, with its lr multipliers
  const { many } = compare(
    "encoder-decoder-compare",
    [
      ...["--pretrain_steps", "3", "--finetune_steps", "3", "--pretrain_batch", "4", "--finetune_batch", "4"],
      ...["--d_model", "32", "--layers", "1", "--ff_width", "64", "--test_size", "10", "--val_passages", "4"],
      ...["--eval_every", "2"],
    ],
    2,
    "fsdp",
    /^  .+ step \d+\/\d+: loss/,
    /\.(pretrainValLoss|testLoss|finalLoss)$/,
  );
  // every run of T5 and BART: the root, an encoder block and a decoder block
  assert.ok((many.match(/FSDP: 3 units \(the root and each block\)/g)?.length ?? 0) >= 4, many);
});

test("wnn train vision-attention-compare --workers 2 --strategy zero2: its five models (four with synchronized BatchNorms) print the losses of --workers 1", (t) => {
  const { worst } = compare(
    "vision-attention-compare",
    ["--steps", "3", "--batch_size", "8", "--train_limit", "64", "--test_limit", "50"],
    2,
    "zero2",
    /^  .+: step \d+\/\d+ loss/,
    /\.(testAccuracy|testLoss|trainLoss@\d+)$/,
  );
  t.diagnostic(`largest relative difference from --workers 1: ${worst.toExponential(1)}`);
});

test("wnn train moe-compare --workers 2 --strategy zero1: its dense and Switch models (routers synchronized) print the losses of --workers 1", (t) => {
  const { worst } = compare(
    "moe-compare",
    [
      ...["--steps", "3", "--batch_size", "4", "--n_layer", "1", "--n_embd", "32", "--block_size", "16"],
      ...["--eval_every", "2", "--eval_batches", "1", "--only", "dense,switch,switch-top2,switch-cf1.0"],
    ],
    2,
    "zero1",
    /^step \d+ train\/val:/,
    /\.(trainLoss|valLoss|initialValLoss|droppedFraction|imbalance)$/,
  );
  t.diagnostic(`largest relative difference from --workers 1: ${worst.toExponential(1)}`);
});
